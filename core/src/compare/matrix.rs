//! `stagger-bench compare`: every election scheme on the same work.
//!
//! A *cell* is one contender (a staggered-timer scheme under one claim
//! policy, Raft, or Bully) on one delay preset at one group size. Each of
//! its trials starts from a stable group led by index 0, with asynchronous
//! detection (phases drawn from the trial's seed), crashes index 0 at a
//! uniformly random moment of its second period, and runs for ten detection
//! budgets `P + τ` after the crash. Every contender spends the same
//! detection budget: inquiries every `P` with timeout `τ`, or heartbeats
//! every `P` with a silence limit from `P + τ` (see
//! [`crate::params::RaftParams`] and [`crate::params::BullyParams`]).
//!
//! Storms are real here: equal timers under `contest` send millions of
//! messages at a few dozen servers. A trial whose election messages pass
//! [`cap`] is stopped and counted as *capped* (not converged, its messages
//! a lower bound), never averaged in as if it had finished.

use super::stats::Summary;
use crate::gen;
use crate::params::ClaimPolicy;
use crate::rng::Rng;
use crate::scenario::AlgorithmName;
use crate::scenario::{DetectionEntry, PhaseMode, Scenario, SchemeName, TimerEntry};
use crate::sim::Sim;
use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};

/// Who is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Contender {
    /// A scheme and claim policy with SPEC §7's defaults otherwise.
    Stagger {
        scheme: SchemeName,
        claim: ClaimPolicy,
    },
    /// What docs/benchmarks.md recommends a user run: the integral timer
    /// under `verify` with `guard_ms = P` and `skip_known_dead` (see
    /// [`recommend`]).
    Recommended,
    Raft,
    Bully,
}

impl Contender {
    /// Integral, equal and randomized under each claim policy (the
    /// recommended integral configuration right after the integral rows),
    /// then Raft and Bully.
    pub fn all() -> Vec<Contender> {
        let mut v = Vec::new();
        for scheme in [SchemeName::Integral, SchemeName::Equal, SchemeName::Randomized] {
            for claim in ClaimPolicy::ALL {
                v.push(Contender::Stagger { scheme, claim });
            }
            if scheme == SchemeName::Integral {
                v.push(Contender::Recommended);
            }
        }
        v.push(Contender::Raft);
        v.push(Contender::Bully);
        v
    }

    pub fn label(&self) -> String {
        match self {
            Contender::Stagger { scheme, claim } => format!("{} / {}", scheme.name(), claim.name()),
            Contender::Recommended => "integral / verify + guard P + skip_known_dead".into(),
            Contender::Raft => "Raft".into(),
            Contender::Bully => "Bully".into(),
        }
    }

    /// `integral-verify`, `raft`: for file names and CSV.
    pub fn key(&self) -> String {
        match self {
            Contender::Stagger { scheme, claim } => format!("{}-{}", scheme.name(), claim.name()),
            Contender::Recommended => "integral-guard".into(),
            Contender::Raft => "raft".into(),
            Contender::Bully => "bully".into(),
        }
    }

    pub fn parse(key: &str) -> Option<Contender> {
        Contender::all().into_iter().find(|c| c.key() == key)
    }
}

/// Where the servers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// One data centre: 0.1–0.5 ms one way.
    Lan,
    /// The patent's five cities ([0045]); larger groups put servers in the
    /// cities in turn, 1 ms apart within a city.
    Wan,
    /// Every ordered pair uniform in 1–150 ms, asymmetric.
    Random,
    /// The top tenth of the ranking (at least two servers) sits 150 ms away
    /// from everyone else, 1 ms apart among themselves: the best survivor
    /// is far from the majority.
    Adversarial,
}

/// The patent's city matrix, as in `static/scenarios/patent-5.json`.
const CITIES: [[f64; 5]; 5] = [
    [0.0, 20.0, 110.0, 110.0, 75.0],
    [20.0, 0.0, 120.0, 105.0, 80.0],
    [110.0, 120.0, 0.0, 80.0, 60.0],
    [110.0, 105.0, 80.0, 0.0, 55.0],
    [75.0, 80.0, 60.0, 55.0, 0.0],
];

impl Preset {
    pub const ALL: [Preset; 4] = [Preset::Lan, Preset::Wan, Preset::Random, Preset::Adversarial];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Lan => "lan",
            Preset::Wan => "wan",
            Preset::Random => "random",
            Preset::Adversarial => "adversarial",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Preset::Lan => "one data centre, 0.1–0.5 ms one way; P = 100 ms, τ = 50 ms, T1 = 10 ms",
            Preset::Wan => "the patent's five cities (20–120 ms), servers placed in them in turn; P = 500 ms, τ = 400 ms, T1 = 50 ms",
            Preset::Random => "every ordered pair uniform in 1–150 ms; P = 500 ms, τ = 400 ms, T1 = 50 ms",
            Preset::Adversarial => {
                "the top tenth of the ranking 150 ms from the rest, 1 ms within each side; P = 500 ms, τ = 400 ms, T1 = 50 ms"
            }
        }
    }

    pub fn parse(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Detection period `P`, inquiry timeout `τ` and the election base in
    /// ms: `T1` of the integral timer, `T` of the equal one, the bottom of
    /// the randomized range.
    pub fn timing(self) -> (f64, f64, f64) {
        match self {
            Preset::Lan => (100.0, 50.0, 10.0),
            _ => (500.0, 400.0, 50.0),
        }
    }

    /// The one-way delays of `n` servers; `seed` only matters for `Random`
    /// and `Lan`.
    pub fn matrix(self, n: usize, seed: u64) -> Vec<Vec<f64>> {
        let mut rng = Rng::new(seed);
        match self {
            Preset::Lan => {
                let us = gen::random_matrix(n, 100, 500, true, &mut rng);
                us.into_iter().map(|row| row.into_iter().map(|v| v / 1000.0).collect()).collect()
            }
            Preset::Wan => (0..n)
                .map(|j| {
                    (0..n)
                        .map(|k| {
                            if j == k {
                                0.0
                            } else if j % 5 == k % 5 {
                                1.0
                            } else {
                                CITIES[j % 5][k % 5]
                            }
                        })
                        .collect()
                })
                .collect(),
            Preset::Random => gen::random_matrix(n, 1, 150, false, &mut rng),
            Preset::Adversarial => {
                let top = (n / 10).max(2);
                (0..n)
                    .map(|j| {
                        (0..n)
                            .map(|k| {
                                if j == k {
                                    0.0
                                } else if (j < top) == (k < top) {
                                    1.0
                                } else {
                                    150.0
                                }
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }
}

/// The election messages a trial may send before it is stopped: well above
/// what any converging election here needs (Bully's worst case is about
/// `N²`), well below a `contest` storm.
pub fn cap(n: usize) -> u64 {
    (2 * n * n).max(2_000) as u64
}

/// One contender on one preset at one size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cell {
    pub contender: Contender,
    pub preset: Preset,
    pub n: usize,
}

impl Cell {
    /// The cell's scenario; trials change only its seed and crash time.
    pub fn scenario(&self) -> Scenario {
        let (p, tau, base) = self.preset.timing();
        let m = self.preset.matrix(self.n, 0x5eed ^ self.n as u64);
        let max_delay = m.iter().flatten().copied().fold(0.0, f64::max);
        let mut f = gen::scenario(&format!("{}-{}-{}", self.contender.key(), self.preset.name(), self.n), m, 0.0, 0.0);
        f.detection = Some(DetectionEntry::new(p, tau, PhaseMode::Asynchronous));
        match self.contender {
            Contender::Stagger { scheme, claim } => {
                f.timer = Some(match scheme {
                    SchemeName::Integral => TimerEntry::scheme(scheme).base(base),
                    SchemeName::Equal => TimerEntry::scheme(scheme).delay(base),
                    // Raft's advice: a spread well above the broadcast time.
                    SchemeName::Randomized => TimerEntry::scheme(scheme).range(base, base + 4.0 * max_delay),
                });
                f.claim = Some(claim);
            }
            Contender::Recommended => {
                f.timer = Some(recommend(TimerEntry::scheme(SchemeName::Integral).base(base), p));
                f.claim = Some(ClaimPolicy::Verify);
            }
            Contender::Raft => f.algorithm = Some(AlgorithmName::Raft),
            Contender::Bully => f.algorithm = Some(AlgorithmName::Bully),
        }
        f.validate().expect("a comparison cell's scenario is valid")
    }
}

/// The settings docs/benchmarks.md recommends on top of a timer: a guard
/// of one detection period `period_ms` (it absorbs detection skew up to P)
/// and `skip_known_dead` (a dead rank known dead costs nothing).
pub fn recommend(mut timer: TimerEntry, period_ms: f64) -> TimerEntry {
    timer.guard_ms = Some(period_ms);
    timer.skip_known_dead = Some(true);
    timer
}

/// What one trial measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub election_messages: u64,
    /// Crash to convergence, ms; `None` if never converged (or capped).
    pub convergence_ms: Option<f64>,
    pub split_brain_ms: f64,
    /// The winner was the best-ranked survivor (index 1 after one crash).
    pub lowest_wins: bool,
    /// Detection plus the largest one-way delay from the winner, ms.
    pub floor_ms: Option<f64>,
    pub capped: bool,
    /// With several crashes: the group had converged on a master other
    /// than the last server crashed and stayed converged, so the last crash
    /// called for no election.
    pub moot: bool,
}

/// Runs trial `k` of a scenario whose faults are given relative to the
/// crash (the first at 0 ms): they are all moved to a uniformly random
/// moment of the third period. With several crashes, the trial measures
/// the election after the last one.
pub fn trial(base: &Scenario, k: u64, seed: u64) -> Trial {
    let mut s = base.clone();
    s.seed = seed.wrapping_add(k);
    let p = s.periods[s.ranking[0] as usize];
    // Settle for two periods, then crash at a uniformly random moment.
    let crash = Time(2 * p.0 + Rng::new(s.seed ^ 0xc4a5).below(p.0));
    let mut crashed = Vec::new();
    for f in &mut s.faults {
        f.at = Time(f.at.0 + crash.0);
        if let crate::scenario::FaultAction::Crash(r) = f.action {
            crashed.push(r);
        }
    }
    let crash = s.faults.iter().filter(|f| matches!(f.action, crate::scenario::FaultAction::Crash(_))).map(|f| f.at).max().unwrap_or(crash);
    s.until = crash + Span(10 * (p.0 + s.params.timeout.0));
    let n = s.len();
    let cap = cap(n);
    let mut sim = Sim::new(&s, false);
    let mut capped = false;
    while sim.step() {
        if sim.election_messages() > cap {
            capped = true;
            break;
        }
    }
    let m = sim.finish().metrics;
    // A run the simulator's own budget stopped did not finish either.
    let capped = capped || m.truncated.is_some();
    let winner = m.final_master.as_deref().and_then(|id| s.row_of(id));
    let best = s.ranking.iter().copied().find(|r| !crashed.contains(r));
    let moot = !capped && m.final_master.is_some() && m.converged_at_ms.is_some_and(|t| t < crash.as_ms());
    let converged = m.converged_at_ms.filter(|t| !capped && *t >= crash.as_ms());
    let floor = match (m.detected_at_ms, winner) {
        (Some(d), Some(w)) if crashed.len() == 1 => {
            let far = (0..n as u32).filter(|r| *r != s.ranking[0]).map(|r| s.delays_us[w as usize][r as usize]).max().unwrap_or(0);
            Some(d - crash.as_ms() + Time(far).as_ms())
        }
        _ => None,
    };
    Trial {
        election_messages: m.election_messages,
        convergence_ms: converged.map(|t| t - crash.as_ms()),
        split_brain_ms: m.split_brain_ms,
        lowest_wins: !capped && winner.is_some() && winner == best,
        floor_ms: floor.filter(|_| !capped),
        capped,
        moot,
    }
}

/// A cell's trials, summarized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub cell: Cell,
    pub trials: usize,
    /// Over every trial; a capped trial counts with what it had sent.
    pub election_messages: Summary,
    /// Over the converged trials.
    pub convergence_ms: Option<Summary>,
    pub unconverged: usize,
    pub capped: usize,
    /// Over every trial.
    pub split_brain_ms: Summary,
    /// Trials with any split-brain time at all.
    pub split_brain_trials: usize,
    pub lowest_wins: usize,
    pub floor_ms: Option<Summary>,
}

impl CellResult {
    pub fn of(cell: Cell, trials: &[Trial]) -> CellResult {
        let msgs: Vec<f64> = trials.iter().map(|t| t.election_messages as f64).collect();
        let conv: Vec<f64> = trials.iter().filter_map(|t| t.convergence_ms).collect();
        let split: Vec<f64> = trials.iter().map(|t| t.split_brain_ms).collect();
        let floor: Vec<f64> = trials.iter().filter_map(|t| t.floor_ms).collect();
        CellResult {
            cell,
            trials: trials.len(),
            election_messages: Summary::of(&msgs).unwrap_or_default(),
            convergence_ms: Summary::of(&conv),
            unconverged: trials.len() - conv.len(),
            capped: trials.iter().filter(|t| t.capped).count(),
            split_brain_ms: Summary::of(&split).unwrap_or_default(),
            split_brain_trials: trials.iter().filter(|t| t.split_brain_ms > 0.0).count(),
            lowest_wins: trials.iter().filter(|t| t.lowest_wins).count(),
            floor_ms: Summary::of(&floor),
        }
    }
}

/// Every cell of the matrix, in report order: preset, then size, then
/// contender.
pub fn cells(presets: &[Preset], sizes: &[usize], contenders: &[Contender]) -> Vec<Cell> {
    let mut v = Vec::new();
    for &preset in presets {
        for &n in sizes {
            for &contender in contenders {
                v.push(Cell { contender, preset, n });
            }
        }
    }
    v
}

/// Runs `trials` trials of a cell on `threads` threads. The result does not
/// depend on `threads`: trial `k` is the same wherever it runs.
pub fn run_cell(cell: Cell, trials: usize, seed: u64, threads: usize, tick: &(dyn Fn() + Sync)) -> CellResult {
    CellResult::of(cell, &run_trials(&cell.scenario(), trials, seed, threads, tick))
}

/// Trials `0..trials` of `base`, in order, on `threads` threads; `tick`
/// after each.
pub fn run_trials(base: &Scenario, trials: usize, seed: u64, threads: usize, tick: &(dyn Fn() + Sync)) -> Vec<Trial> {
    let threads = threads.clamp(1, trials.max(1));
    let mut out: Vec<Option<Trial>> = vec![None; trials];
    std::thread::scope(|scope| {
        let mut first = 0u64;
        for chunk in out.chunks_mut(trials.div_ceil(threads).max(1)) {
            let start = first;
            first += chunk.len() as u64;
            scope.spawn(move || {
                for (i, slot) in chunk.iter_mut().enumerate() {
                    *slot = Some(trial(base, start + i as u64, seed));
                    tick();
                }
            });
        }
    });
    out.into_iter().map(|t| t.expect("every trial ran")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_scenario_is_valid_and_crashes_index_0() {
        for cell in cells(&Preset::ALL, &[5, 12], &Contender::all()) {
            let s = cell.scenario();
            assert_eq!(s.len(), cell.n);
            assert_eq!(s.crash_at(), Some(Time::ZERO), "placed per trial");
            assert_eq!(s.ranking[0], 0);
        }
        assert_eq!(Contender::all().len(), 12);
        for c in Contender::all() {
            assert_eq!(Contender::parse(&c.key()), Some(c));
        }
    }

    #[test]
    fn the_recommended_contender_runs_the_guard_and_skip_known_dead() {
        let s = Cell { contender: Contender::Recommended, preset: Preset::Wan, n: 5 }.scenario();
        assert_eq!(s.params.guard, Span::from_ms(500));
        assert!(s.params.skip_known_dead);
        assert_eq!(s.params.claim, ClaimPolicy::Verify);
        assert_eq!(Contender::parse("integral-guard"), Some(Contender::Recommended));
    }

    #[test]
    fn a_trial_the_simulators_budget_stops_counts_as_capped() {
        let mut s =
            Cell { contender: Contender::Stagger { scheme: SchemeName::Equal, claim: ClaimPolicy::Contest }, preset: Preset::Lan, n: 5 }
                .scenario();
        s.budget.max_events = 200;
        let t = trial(&s, 0, 1);
        assert!(t.capped, "{t:?}");
        assert_eq!(t.convergence_ms, None);
    }

    #[test]
    fn threads_do_not_change_the_result() {
        let cell = Cell { contender: Contender::Raft, preset: Preset::Random, n: 5 };
        let one = run_cell(cell, 12, 3, 1, &|| {});
        let three = run_cell(cell, 12, 3, 3, &|| {});
        assert_eq!(one, three);
    }

    #[test]
    fn the_adversarial_preset_puts_the_top_far_from_the_rest() {
        let m = Preset::Adversarial.matrix(20, 0);
        assert_eq!((m[0][1], m[0][2], m[1][19], m[5][6]), (1.0, 150.0, 150.0, 1.0));
        let lan = Preset::Lan.matrix(6, 1);
        assert!(lan.iter().flatten().all(|v| *v == 0.0 || (0.1..=0.5).contains(v)), "{lan:?}");
    }
}
