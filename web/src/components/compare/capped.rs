//! Simulation runs with a ceiling on work.
//!
//! Some variants explode: equal timers under the `contest` policy on 20
//! servers send about ten million messages in two virtual seconds, every
//! taken-over claim starting new ones. A table row is one of many runs, so
//! each gets an event budget far below the simulator's own (`max_events`)
//! instead of being resumed over many slices. A run that exceeds it is
//! stopped and reported as stopped, with its message count as a lower
//! bound, never shown as if it had finished.

use stagger_core::{Metrics, Scenario, Sim};

/// A few hundred milliseconds of wasm at worst. Ordinary runs stay far
/// below it: an 80-server storm under `verify` takes about 80,000 events.
pub const MAX_EVENTS: u64 = 400_000;

/// A run that was stopped at its event budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stopped {
    /// Election messages sent so far: a lower bound.
    pub messages: u64,
    /// The virtual time reached.
    pub at_ms: f64,
}

/// Runs `scenario` to its end, or stops it after `max_events` events.
pub fn run(scenario: &Scenario, max_events: u64) -> Result<Metrics, Stopped> {
    let mut sim = Sim::new(scenario, false);
    let mut events = 0u64;
    while sim.step() {
        events += 1;
        if events >= max_events {
            let at_ms = sim.now().as_ms();
            let messages = sim.finish().metrics.election_messages;
            return Err(Stopped { messages, at_ms });
        }
    }
    // The simulator's own budget (memory, or a scenario's lower
    // `max_events`) can stop a run before this one does.
    let m = sim.finish().metrics;
    match m.truncated {
        Some(cut) => Err(Stopped { messages: m.election_messages, at_ms: cut.at_ms }),
        None => Ok(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_finished_run_is_the_plain_run() {
        let s = presets::file("storm").unwrap().validate().unwrap();
        assert_eq!(run(&s, MAX_EVENTS), Ok(Sim::new(&s, false).run().metrics));
    }

    #[test]
    fn a_run_over_budget_is_stopped() {
        let s = presets::file("storm").unwrap().validate().unwrap();
        let stopped = run(&s, 50).unwrap_err();
        assert!(stopped.at_ms < 4000.0);
    }

    #[test]
    fn a_run_the_simulators_own_budget_stops_is_stopped_too() {
        let mut f = presets::file("storm").unwrap();
        f.max_events = Some(100); // above the detection ticks validation counts, far below the run
        let stopped = run(&f.validate().unwrap(), MAX_EVENTS).unwrap_err();
        assert!(stopped.at_ms < 4000.0, "{stopped:?}");
    }
}
