//! The runs of the side-by-side table (nine staggered variants, Raft and
//! Bully), and which value of a column is best (pure logic, no Yew).
//!
//! The runs are done one by one: a large scenario's storm can take a while,
//! so the table fills in slices rather than freezing the tab, and every run
//! has an event budget (`capped.rs`).

use super::capped::{self, Stopped, MAX_EVENTS};
use super::variants::{variants, TimerSet, Variant};
use stagger_core::scenario::FaultAction;
use stagger_core::{Metrics, Scenario, ScenarioFile};

/// A variant's run.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantRun {
    pub variant: Variant,
    /// `None` while it has not run, when it was stopped, or if the variant
    /// does not validate (it always should: only the timer changes, with
    /// valid parameters).
    pub metrics: Option<Metrics>,
    /// Set when the run exceeded its event budget.
    pub stopped: Option<Stopped>,
    pub pending: bool,
    /// Whether the final master is the best-ranked live server at the end
    /// (see [`best_live_won`]); `None` without a final master.
    pub best_live: Option<bool>,
}

impl VariantRun {
    /// Crash → converged, in ms; `None` without a crash or convergence.
    pub fn recovery_ms(&self) -> Option<f64> {
        let m = self.metrics.as_ref()?;
        Some(m.converged_at_ms? - m.crash_at_ms?)
    }

    /// Election messages; a lower bound for a stopped run.
    pub fn messages(&self) -> Option<f64> {
        self.metrics.as_ref().map(|m| m.election_messages).or(self.stopped.map(|s| s.messages)).map(|m| m as f64)
    }
}

/// The runs, in table order.
#[derive(Clone, Debug)]
pub struct Runs {
    pub timers: TimerSet,
    rows: Vec<VariantRun>,
    done: usize,
}

impl Runs {
    pub fn new(file: &ScenarioFile, scenario: &Scenario) -> Runs {
        let rows = variants(file, scenario)
            .into_iter()
            .map(|variant| VariantRun { variant, metrics: None, stopped: None, pending: true, best_live: None })
            .collect();
        Runs { timers: TimerSet::derive(file, scenario), rows, done: 0 }
    }

    /// Every row, pending ones included.
    pub fn rows(&self) -> &[VariantRun] {
        &self.rows
    }

    pub fn finished(&self) -> bool {
        self.done == self.rows.len()
    }

    /// Runs pending rows in order while `more()` says so, at least one.
    /// Returns whether all have run.
    pub fn step(&mut self, more: impl Fn() -> bool) -> bool {
        while let Some(row) = self.rows.get_mut(self.done) {
            if let Ok(s) = row.variant.file.validate() {
                match capped::run(&s, MAX_EVENTS) {
                    Ok(m) => {
                        row.best_live = best_live_won(&s, &m);
                        row.metrics = Some(m);
                    }
                    Err(stopped) => row.stopped = Some(stopped),
                }
            }
            row.pending = false;
            self.done += 1;
            if !more() {
                break;
            }
        }
        self.finished()
    }
}

/// Whether the run's final master is the best-ranked server still up at
/// the end of the run (the faults replayed: crashes, recoveries, reranks):
/// the staggered timer's promise, which Raft does not make. `None` when
/// the run ends without a single master.
pub fn best_live_won(s: &Scenario, m: &Metrics) -> Option<bool> {
    let master = m.final_master.as_deref()?;
    let mut up = vec![true; s.len()];
    let mut ranking = &s.ranking;
    for f in s.faults.iter().filter(|f| f.at <= s.until) {
        match &f.action {
            FaultAction::Crash(r) => up[*r as usize] = false,
            FaultAction::Recover(r) => up[*r as usize] = true,
            FaultAction::Rerank(rows) => ranking = rows,
            _ => {}
        }
    }
    let best = ranking.iter().find(|r| up[**r as usize])?;
    Some(s.ids[*best as usize] == master)
}

/// The best (smallest) value of a column; `None` values (no convergence)
/// never win. Rows holding this value are highlighted.
pub fn best(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    values.into_iter().flatten().fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.min(v))))
}

/// The column's best value, or `None` when every row ties: highlighting
/// every row would say nothing.
pub fn distinct_best(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let vals: Vec<Option<f64>> = values.into_iter().collect();
    if vals.windows(2).all(|w| w[0] == w[1]) {
        None
    } else {
        best(vals)
    }
}

#[cfg(test)]
mod tests {
    use super::super::variants::Entrant;
    use super::*;
    use crate::presets;
    use stagger_core::scenario::{AlgorithmName, SchemeName};
    use stagger_core::Sim;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn own_row_reproduces_the_scenario_run() {
        let file = presets::file("storm").unwrap();
        let s = file.validate().unwrap();
        let mut runs = Runs::new(&file, &s);
        assert!(!runs.step(|| false), "one row per call when out of time");
        assert!(!runs.rows()[0].pending && runs.rows()[1].pending);
        assert!(runs.step(|| true));
        let rows = runs.rows();
        let own = rows.iter().find(|r| r.variant.own).unwrap();
        assert_eq!(own.metrics.as_ref(), Some(&Sim::new(&s, false).run().metrics));
        let integral = rows.iter().find(|r| r.variant.entrant == Entrant::Timer(SchemeName::Integral)).unwrap();
        let m = integral.metrics.as_ref().unwrap();
        assert_eq!(m.messages.revoke, 0, "one broadcast");
        assert!(own.metrics.as_ref().unwrap().election_messages > m.election_messages, "the storm costs more");
    }

    #[test]
    fn raft_and_bully_rows_are_the_switched_scenario_run_directly() {
        let file = presets::file("patent-5").unwrap();
        let mut runs = Runs::new(&file, &file.validate().unwrap());
        assert!(runs.step(|| true));
        for (entrant, algorithm) in [(Entrant::Raft, AlgorithmName::Raft), (Entrant::Bully, AlgorithmName::Bully)] {
            let row = runs.rows().iter().find(|r| r.variant.entrant == entrant).unwrap();
            let mut switched = file.clone();
            switched.algorithm = Some(algorithm);
            let s = switched.validate().unwrap();
            let direct = Sim::new(&s, false).run().metrics;
            assert_eq!(row.metrics.as_ref(), Some(&direct), "{entrant:?}");
            assert!(row.recovery_ms().is_some() && row.messages().unwrap() > 0.0, "{entrant:?}: {direct:?}");
            assert_eq!(row.best_live, best_live_won(&s, &direct));
        }
        // Bully elects the best survivor (atlanta), like the staggered timer.
        let bully = runs.rows().iter().find(|r| r.variant.entrant == Entrant::Bully).unwrap();
        assert_eq!(bully.metrics.as_ref().unwrap().final_master.as_deref(), Some("atlanta"));
        assert_eq!(bully.best_live, Some(true));
        let own = runs.rows().iter().find(|r| r.variant.own).unwrap();
        assert_eq!(own.best_live, Some(true), "integral: the lowest live index wins");
    }

    #[test]
    fn best_ignores_missing_values() {
        assert_eq!(best([Some(3.0), None, Some(1.5)]), Some(1.5));
        assert_eq!(best([None, None]), None);
        assert_eq!(distinct_best([Some(0.0), Some(0.0), Some(0.0)]), None, "a tie everywhere is not news");
        assert_eq!(distinct_best([None, Some(4.0), Some(52.0)]), Some(4.0));
    }
}
