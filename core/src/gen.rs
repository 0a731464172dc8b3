//! Generated groups of any size, for benchmarks, property tests, sweeps and
//! the playground's random matrix. Every generator is seeded.

use crate::rng::Rng;
use crate::scenario::{
    DetectionEntry, FaultActionEntry, FaultEntry, Periods, PhaseMode, ScenarioFile, SchemeName, ServerEntry, TimerEntry,
};

/// Ids `s000`, `s001`, … wide enough to sort in rank order.
pub fn ids(n: usize) -> Vec<String> {
    let width = n.saturating_sub(1).to_string().len().max(3);
    (0..n).map(|i| format!("s{i:0width$}")).collect()
}

/// A LAN: every one-way delay is `delay_ms`.
pub fn lan_matrix(n: usize, delay_ms: f64) -> Vec<Vec<f64>> {
    (0..n).map(|j| (0..n).map(|k| if j == k { 0.0 } else { delay_ms }).collect()).collect()
}

/// Random one-way delays in whole milliseconds uniform in `[lo, hi]`,
/// symmetric or not.
pub fn random_matrix(n: usize, lo_ms: u64, hi_ms: u64, symmetric: bool, rng: &mut Rng) -> Vec<Vec<f64>> {
    let mut m = vec![vec![0.0; n]; n];
    for j in 0..n {
        for k in 0..n {
            if j == k || (symmetric && k < j) {
                continue;
            }
            let v = rng.range_inclusive(lo_ms, hi_ms) as f64;
            m[j][k] = v;
            if symmetric {
                m[k][j] = v;
            }
        }
    }
    m
}

/// A scenario over `matrix` with servers ranked in order, the SPEC §7
/// defaults, and the master crashing at `crash_ms`.
pub fn scenario(name: &str, matrix: Vec<Vec<f64>>, crash_ms: f64, until_ms: f64) -> ScenarioFile {
    let n = matrix.len();
    let ids = ids(n);
    ScenarioFile {
        name: Some(name.to_string()),
        description: None,
        servers: ids.iter().map(|id| ServerEntry { id: id.clone(), attrs: Default::default() }).collect(),
        ranking: Some(ids.clone()),
        rank_by: None,
        delays_ms: matrix,
        actual_delays_ms: None,
        timer: None,
        detection: None,
        network: None,
        claim: None,
        announce_every: None,
        known_functional: None,
        algorithm: None,
        raft: None,
        bully: None,
        faults: vec![FaultEntry { at_ms: crash_ms, action: FaultActionEntry::Crash(ids[0].clone()) }],
        service: None,
        seed: Some(42),
        until_ms: Some(until_ms),
        max_events: None,
    }
}

/// The equal-timer storm of [0044]: `n` servers on a LAN, synchronous
/// detection, every backup with the same election delay.
pub fn storm(n: usize) -> ScenarioFile {
    let mut s = scenario(&format!("storm-{n}"), lan_matrix(n, 1.0), 1900.0, 4000.0);
    s.timer = Some(TimerEntry::scheme(SchemeName::Equal).delay(50.0));
    s
}

/// The integral timer on the same LAN: one broadcast elects the winner.
pub fn integral(n: usize) -> ScenarioFile {
    let mut s = scenario(&format!("integral-{n}"), lan_matrix(n, 1.0), 1900.0, 4000.0);
    s.timer = Some(TimerEntry::scheme(SchemeName::Integral).base(50.0));
    s
}

impl TimerEntry {
    pub fn scheme(scheme: SchemeName) -> TimerEntry {
        TimerEntry { scheme, base_ms: None, delay_ms: None, min_ms: None, max_ms: None, guard_ms: None, skip_known_dead: None }
    }
    pub fn base(mut self, ms: f64) -> TimerEntry {
        self.base_ms = Some(ms);
        self
    }
    pub fn delay(mut self, ms: f64) -> TimerEntry {
        self.delay_ms = Some(ms);
        self
    }
    pub fn range(mut self, min_ms: f64, max_ms: f64) -> TimerEntry {
        self.min_ms = Some(min_ms);
        self.max_ms = Some(max_ms);
        self
    }
}

impl DetectionEntry {
    pub fn new(period_ms: f64, timeout_ms: f64, phase: PhaseMode) -> DetectionEntry {
        DetectionEntry { period_ms: Some(Periods::Equal(period_ms)), timeout_ms: Some(timeout_ms), phase: Some(phase), misses: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_rank_order() {
        let v = ids(1000);
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(v, sorted);
        assert_eq!(v[7], "s007");
    }

    #[test]
    fn generated_scenarios_validate() {
        for n in [2, 10, 100] {
            storm(n).validate().unwrap();
            integral(n).validate().unwrap();
            let mut rng = Rng::new(n as u64);
            let s = scenario("r", random_matrix(n, 1, 300, false, &mut rng), 1900.0, 5000.0);
            s.validate().unwrap();
        }
    }
}
