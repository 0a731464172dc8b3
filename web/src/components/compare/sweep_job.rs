//! A sweep in progress: which groups have run, and the next ones to run
//! (pure logic, no Yew).
//!
//! Points are filled N by N, so a partial sweep already draws the left part
//! of every curve. A entrant whose run exceeds the event budget is not
//! run for larger N: its claims only multiply further.

use super::capped::MAX_EVENTS;
use super::sweep::{SweepPoint, SweepSpec, MAX_N, MIN_N};
use super::variants::ENTRANTS;

/// A sweep in progress.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub spec: SweepSpec,
    /// By `n - MIN_N`, then entrant in [`ENTRANTS`] order. `Some(None)`
    /// is a run that failed to validate, which is not retried.
    points: Vec<[Option<Option<SweepPoint>>; ENTRANTS.len()]>,
    /// The event budget of each run.
    max_events: u64,
}

impl Sweep {
    pub fn new(spec: SweepSpec) -> Sweep {
        Sweep::with_budget(spec, MAX_EVENTS)
    }

    pub fn with_budget(spec: SweepSpec, max_events: u64) -> Sweep {
        Sweep { spec, points: vec![[None; ENTRANTS.len()]; MAX_N - MIN_N + 1], max_events }
    }

    /// The point of `n` under the entrant at `c` in [`ENTRANTS`].
    pub fn point(&self, n: usize, c: usize) -> Option<SweepPoint> {
        self.points.get(n.checked_sub(MIN_N)?)?[c].flatten()
    }

    /// Runs in the range `MIN_N..=max_n`, done and in all.
    pub fn progress(&self, max_n: usize) -> (usize, usize) {
        let slots = &self.points[..=max_n - MIN_N];
        (slots.iter().flatten().filter(|p| p.is_some()).count(), slots.len() * ENTRANTS.len())
    }

    /// Runs missing points in order of N while `more()` says so, at least
    /// one. Returns whether the range is complete.
    pub fn step(&mut self, max_n: usize, mut more: impl FnMut() -> bool) -> bool {
        loop {
            let next =
                (MIN_N..=max_n).flat_map(|n| (0..ENTRANTS.len()).map(move |s| (n, s))).find(|&(n, s)| self.points[n - MIN_N][s].is_none());
            let Some((n, s)) = next else { return true };
            let exploded = (MIN_N..n).any(|m| matches!(self.point(m, s), Some(SweepPoint::Stopped { .. } | SweepPoint::Skipped)));
            self.points[n - MIN_N][s] =
                Some(if exploded { Some(SweepPoint::Skipped) } else { self.spec.run(n, ENTRANTS[s], self.max_events) });
            if !more() {
                return self.progress(max_n).0 == self.progress(max_n).1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::variants::Entrant;
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
    fn step_fills_in_order_and_reports_completion() {
        let mut sw = Sweep::new(spec("lan-5"));
        assert_eq!(sw.progress(5), (0, 15));
        assert!(!sw.step(5, || false));
        assert!(sw.point(3, 0).is_some() && sw.point(3, 1).is_none());
        assert!(sw.step(5, || true));
        assert_eq!(sw.progress(5), (15, 15));
        assert_eq!(sw.progress(6), (15, 20));
        // Raft and Bully are swept too, and elect.
        for c in [Entrant::Raft, Entrant::Bully] {
            let i = ENTRANTS.iter().position(|x| *x == c).unwrap();
            assert!((3..=5).all(|n| matches!(sw.point(n, i), Some(SweepPoint::Ran { recovery_ms: Some(_), .. }))), "{c:?}");
        }
    }

    #[test]
    fn an_explosion_stops_its_scheme() {
        // Equal timers under `contest` multiply claims without bound.
        let mut f = presets::file("storm").unwrap();
        f.claim = Some(stagger_core::ClaimPolicy::Contest);
        let mut sw = Sweep::with_budget(SweepSpec::new(&f, &f.validate().unwrap()), 100_000);
        assert!(sw.step(30, || true));
        let equal = ENTRANTS.iter().position(|s| *s == Entrant::Timer(SchemeName::Equal)).unwrap();
        let first =
            (MIN_N..=30).find(|&n| !matches!(sw.point(n, equal), Some(SweepPoint::Ran { .. }))).expect("the storm explodes by N = 30");
        assert!(matches!(sw.point(first, equal), Some(SweepPoint::Stopped { messages }) if messages > 10_000));
        assert!((first + 1..=30).all(|n| sw.point(n, equal) == Some(SweepPoint::Skipped)));
        let integral = ENTRANTS.iter().position(|s| *s == Entrant::Timer(SchemeName::Integral)).unwrap();
        assert!((MIN_N..=30).all(|n| matches!(sw.point(n, integral), Some(SweepPoint::Ran { .. }))));
    }
}
