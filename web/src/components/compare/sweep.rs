//! The sweep against group size N (pure logic, no Yew).
//!
//! The table answers "which scheme for *this* group"; the sweep answers the
//! patent's real claim, which is about growth: with equal timers every
//! backup declares at once and the claims are fought out in O(N²) messages,
//! while the integral timer elects with one broadcast, O(N). Raft (a vote
//! request to every server, answered) and Bully (O(N²) in the worst case)
//! are swept on the same groups. Each N gets a fresh random group whose
//! delays span the scenario's own matrix, so the curves extrapolate the
//! user's network rather than an arbitrary one.

use super::capped;
use super::variants::{switched, Entrant, TimerSet};
use stagger_core::gen;
use stagger_core::params::Algorithm;
use stagger_core::scenario::{AlgorithmName, DetectionEntry, Periods};
use stagger_core::{Rng, Scenario, ScenarioFile};

/// The smallest group swept: two survivors are needed for a contest.
pub const MIN_N: usize = 3;
/// The largest N offered.
pub const MAX_N: usize = 60;

/// Everything the sweep takes from the scenario. Two scenarios with the same
/// spec share one sweep, so renaming a server or moving a partition does
/// not re-run it.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    pub timers: TimerSet,
    /// The off-diagonal range of the scenario's matrix, in µs.
    pub lo_us: u64,
    pub hi_us: u64,
    pub symmetric: bool,
    /// The scenario's first crash, or a stand-in when it has none.
    pub crash_ms: f64,
    pub scenario_crashes: bool,
    pub until_ms: f64,
    /// Detection, network, claim policy, re-announcement, functional table,
    /// Raft's and Bully's settings and seed, copied verbatim into every
    /// generated group.
    pub template: ScenarioFile,
}

impl SweepSpec {
    pub fn new(file: &ScenarioFile, scenario: &Scenario) -> SweepSpec {
        let timers = TimerSet::derive(file, scenario);
        let n = scenario.len();
        let off: Vec<u64> = (0..n).flat_map(|j| (0..n).filter(move |&k| k != j).map(move |k| scenario.delays_us[j][k])).collect();
        let lo_us = off.iter().copied().min().unwrap_or(0);
        let hi_us = off.iter().copied().max().unwrap_or(0);
        let symmetric = (0..n).all(|j| (0..n).all(|k| scenario.delays_us[j][k] == scenario.delays_us[k][j]));
        let period_ms = scenario.periods.iter().map(|p| p.as_ms()).fold(0.0, f64::max);
        let crash = scenario.crash_at().map(|t| t.as_ms());
        // Without a crash, fail the master a little before a detection tick,
        // as the presets do (1900 ms for P = 500 ms).
        let crash_ms = crash.unwrap_or((period_ms * 3.8).round());
        // Leave room for detection, the longest first timer and a long
        // contest, so a slow scheme is measured rather than cut off. Raft's
        // longest election timeout and Bully's silence and waits count too.
        let others = [AlgorithmName::Raft, AlgorithmName::Bully].into_iter().filter_map(|a| switched(file, a).0.validate().ok());
        let other_ms = others
            .map(|s| match s.algorithm {
                Algorithm::Raft(r) => r.election_max.as_ms(),
                Algorithm::Bully(b) => {
                    b.timeout.map_or(period_ms + s.params.timeout.as_ms(), |t| t.as_ms()) + (b.answer_wait + b.coordinator_wait).as_ms()
                }
                Algorithm::Stagger => 0.0,
            })
            .fold(0.0, f64::max);
        let longest_timer = timers.equal_ms.max(timers.integral_ms).max(timers.random_ms.1).max(other_ms);
        let settle = (scenario.params.misses as f64 + 2.0) * period_ms + longest_timer + 50.0 * hi_us as f64 / 1000.0;
        let until_ms = scenario.until.as_ms().max((crash_ms + settle).ceil());
        let mut template = file.clone();
        template.detection = file.detection.clone().map(|d| DetectionEntry { period_ms: Some(Periods::Equal(period_ms)), ..d });
        SweepSpec { timers, lo_us, hi_us, symmetric, crash_ms, scenario_crashes: crash.is_some(), until_ms, template }
    }

    /// The delay matrix of the group of `n`, the same for every scheme.
    /// Drawn in µs and scaled, so sub-millisecond LANs stay sub-millisecond.
    pub fn matrix(&self, n: usize) -> Vec<Vec<f64>> {
        let mut rng = Rng::new(0x5EED_0000 + n as u64);
        let m = gen::random_matrix(n, self.lo_us, self.hi_us, self.symmetric, &mut rng);
        m.into_iter().map(|row| row.into_iter().map(|us| us / 1000.0).collect()).collect()
    }

    /// The generated scenario for `n` servers under `entrant`: servers
    /// `s000…` ranked in order, `s000` crashing at the scenario's time.
    pub fn scenario(&self, n: usize, entrant: Entrant) -> ScenarioFile {
        let t = &self.template;
        let mut f = gen::scenario(&format!("sweep-{n}"), self.matrix(n), self.crash_ms, self.until_ms);
        f.timer = Some(self.timers.entry(match entrant {
            Entrant::Timer(scheme) => scheme,
            _ => self.timers.own,
        }));
        f.detection = t.detection.clone();
        f.network = t.network.clone();
        f.claim = t.claim;
        f.announce_every = t.announce_every;
        f.known_functional = t.known_functional;
        f.raft = t.raft.clone();
        f.bully = t.bully.clone();
        f.seed = t.seed;
        switched(&f, entrant.algorithm()).0
    }

    /// Runs one group, metrics only, within `max_events`.
    pub fn run(&self, n: usize, entrant: Entrant, max_events: u64) -> Option<SweepPoint> {
        let s = self.scenario(n, entrant).validate().ok()?;
        Some(match capped::run(&s, max_events) {
            Ok(m) => {
                let recovery_ms = m.converged_at_ms.map(|c| c - m.crash_at_ms.unwrap_or(0.0));
                SweepPoint::Ran { messages: m.election_messages, recovery_ms }
            }
            Err(stopped) => SweepPoint::Stopped { messages: stopped.messages },
        })
    }
}

/// One group of the sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SweepPoint {
    /// `recovery_ms` (crash → converged) is `None` when it never converged.
    Ran { messages: u64, recovery_ms: Option<f64> },
    /// Stopped at the event budget, having sent at least `messages`.
    Stopped { messages: u64 },
    /// Not run: a smaller group already exceeded the budget under this
    /// scheme, and a larger one only sends more.
    Skipped,
}

impl SweepPoint {
    /// Election messages; a lower bound when stopped.
    pub fn messages(self) -> Option<u64> {
        match self {
            SweepPoint::Ran { messages, .. } | SweepPoint::Stopped { messages } => Some(messages),
            SweepPoint::Skipped => None,
        }
    }

    pub fn recovery_ms(self) -> Option<f64> {
        match self {
            SweepPoint::Ran { recovery_ms, .. } => recovery_ms,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::capped::MAX_EVENTS;
    use super::*;
    use crate::presets;
    use stagger_core::scenario::SchemeName;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn spec(name: &str) -> SweepSpec {
        let f = presets::file(name).unwrap();
        SweepSpec::new(&f, &f.validate().unwrap())
    }

    #[test]
    fn spec_takes_the_matrix_range_and_the_crash() {
        let s = spec("patent-5");
        assert_eq!((s.lo_us, s.hi_us, s.symmetric), (20_000, 120_000, true));
        assert_eq!((s.crash_ms, s.scenario_crashes), (1900.0, true));
        assert!(s.until_ms >= 12_000.0);
        let lan = spec("lan-5");
        assert_eq!((lan.lo_us, lan.hi_us), (110, 450));
        assert!(lan.until_ms >= 2000.0);
    }

    #[test]
    fn generated_groups_keep_the_settings() {
        let s = spec("patent-5");
        let f = s.scenario(12, Entrant::Timer(SchemeName::Equal));
        let v = f.validate().unwrap();
        assert_eq!(v.len(), 12);
        assert_eq!(f.detection, s.template.detection);
        assert_eq!(f.timer.as_ref().unwrap().delay_ms, Some(50.0));
        assert_eq!(f.faults.len(), 1);
        assert_eq!(f.faults[0].action, stagger_core::scenario::FaultActionEntry::Crash(f.ranking.as_ref().unwrap()[0].clone()));
        let m = &f.delays_ms;
        for (j, row) in m.iter().enumerate() {
            for (k, &v) in row.iter().enumerate() {
                assert_eq!(v, m[k][j]);
                assert!(j == k || (20.0..=120.0).contains(&v), "{v}");
            }
        }
        // The same group for every scheme and on every call.
        assert_eq!(s.matrix(12), s.scenario(12, Entrant::Timer(SchemeName::Randomized)).delays_ms);
        assert_eq!(s.matrix(12), s.scenario(12, Entrant::Raft).delays_ms);
        let raft = s.scenario(12, Entrant::Raft);
        assert_eq!((raft.algorithm, &raft.detection), (Some(AlgorithmName::Raft), &s.template.detection));
        assert!(matches!(raft.validate().unwrap().algorithm, Algorithm::Raft(_)));
        assert_eq!(s.scenario(12, Entrant::Bully).algorithm, Some(AlgorithmName::Bully));
        assert_eq!(s.matrix(12), s.matrix(12));
    }

    #[test]
    fn per_server_periods_become_their_maximum() {
        let mut f = presets::file("patent-5").unwrap();
        f.detection.as_mut().unwrap().period_ms = Some(Periods::PerServer(vec![500.0, 600.0, 500.0, 700.0, 500.0]));
        let s = SweepSpec::new(&f, &f.validate().unwrap());
        s.scenario(30, Entrant::Timer(SchemeName::Integral)).validate().unwrap();
        s.scenario(30, Entrant::Raft).validate().unwrap();
        assert_eq!(s.template.detection.unwrap().period_ms, Some(Periods::Equal(700.0)));
    }

    #[test]
    fn the_storm_grows_faster_than_one_broadcast() {
        let s = spec("patent-5");
        let equal = s.run(30, Entrant::Timer(SchemeName::Equal), MAX_EVENTS).unwrap();
        let integral = s.run(30, Entrant::Timer(SchemeName::Integral), MAX_EVENTS).unwrap();
        assert!(integral.recovery_ms().is_some() && equal.recovery_ms().is_some());
        assert_eq!(integral.messages(), Some(29), "one broadcast to every other server");
        assert!(equal.messages().unwrap() > 10 * 29, "{equal:?}");
        // Raft asks every other server for its vote; a majority answers.
        let raft = s.run(30, Entrant::Raft, MAX_EVENTS).unwrap();
        assert!(raft.recovery_ms().is_some(), "{raft:?}");
        assert!(raft.messages().unwrap() >= 29 + 15, "{raft:?}");
        let bully = s.run(30, Entrant::Bully, MAX_EVENTS).unwrap();
        assert!(bully.recovery_ms().is_some(), "{bully:?}");
    }
}
