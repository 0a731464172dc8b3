//! Every run is bounded: validation refuses what cannot finish within the
//! budget, naming the field to change, and the simulator stops any other
//! run at the budget with the result marked partial. The three runs a link
//! could once freeze a tab with are here: `until_ms` 10¹², a 2 µs detection
//! period, and a 2,000-server equal-timer storm under `contest`.

use stagger_core::gen;
use stagger_core::params::ClaimPolicy;
use stagger_core::scenario::{Problem, ScenarioFile};
use stagger_core::sim::{Limit, Progress, DEFAULT_MAX_EVENTS};
use stagger_core::{Budget, Scenario, Sim};
use std::rc::Rc;

const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

fn patent() -> ScenarioFile {
    ScenarioFile::from_json(PATENT).unwrap()
}

fn over_budget(file: ScenarioFile) -> (String, u64, u64) {
    let e = file.validate().expect_err("refused");
    match e.problem {
        Problem::OverBudget { events, max_events } => (e.field, events, max_events),
        other => panic!("{}: expected an over-budget refusal, got {other:?}", e.field),
    }
}

#[test]
fn a_run_of_10_to_the_12_ms_is_refused_at_until_ms() {
    let mut f = patent();
    f.until_ms = Some(1e12);
    let (field, events, max) = over_budget(f.clone());
    assert_eq!(field, "until_ms");
    assert_eq!(max, DEFAULT_MAX_EVENTS);
    // Four servers tick every 500 ms for 10¹² ms, the crashed one until 1900 ms.
    assert_eq!(events, 4 * 2_000_000_000 + 3);
    let e = f.validate().unwrap_err().to_string();
    assert!(e.starts_with("until_ms: the run needs at least 8000000003 events"), "{e}");
    assert!(e.contains("raise max_events"), "{e}");
}

#[test]
fn a_2_microsecond_period_is_refused_at_the_period() {
    let mut f = patent();
    let d = f.detection.as_mut().unwrap();
    d.period_ms = Some(stagger_core::scenario::Periods::Equal(0.002));
    d.timeout_ms = Some(0.001);
    let (field, events, _) = over_budget(f);
    // Even the default 12 s would be too long at this period.
    assert_eq!(field, "detection.period_ms");
    assert_eq!(events, 4 * 6_000_000 + 950_000);
}

#[test]
fn raising_max_events_admits_a_long_run_and_zero_is_refused() {
    let mut f = patent();
    f.until_ms = Some(1e10);
    assert_eq!(over_budget(f.clone()).0, "until_ms");
    f.max_events = Some(100_000_000);
    assert_eq!(f.validate().unwrap().budget.max_events, 100_000_000);
    f.max_events = Some(0);
    assert_eq!(f.validate().unwrap_err().field, "max_events");
}

#[test]
fn a_contest_storm_of_2000_servers_stops_at_the_memory_budget() {
    let mut f = gen::storm(2000);
    f.claim = Some(ClaimPolicy::Contest);
    let s = f.validate().expect("its detection ticks fit the budget");
    let m = Sim::new(&s, false).run().metrics;
    let cut = m.truncated.expect("the storm is stopped");
    eprintln!("{cut} ({} events)", m.events);
    assert_eq!(cut.limit, Limit::MaxEntries);
    assert!(cut.value > s.budget.max_entries);
    assert!(cut.at_ms >= 1900.0 && cut.at_ms < 4000.0, "{cut:?}");
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["truncated"]["limit"], "max_entries", "{}", json["truncated"]);
}

#[test]
fn a_run_at_its_event_budget_stops_there_and_says_so() {
    let mut f = patent();
    f.max_events = Some(100);
    let s = f.validate().unwrap();
    let run = Sim::new(&s, true).run();
    let m = &run.metrics;
    assert_eq!(m.events, 100);
    let cut = m.truncated.expect("stopped");
    assert_eq!((cut.limit, cut.value), (Limit::MaxEvents, 100));
    assert!(cut.at_ms < 12_000.0);
    // The trace stops where the run did.
    let last = run.trace.unwrap().events.last().unwrap().t;
    assert!(last.as_ms() <= cut.at_ms);
    let json = serde_json::to_value(m).unwrap();
    assert_eq!(json["truncated"], serde_json::json!({"limit": "max_events", "value": 100, "at_ms": cut.at_ms}));
    assert!(cut.to_string().contains("max_events"), "{cut}");
}

#[test]
fn a_finished_run_is_not_marked_and_its_json_is_unchanged() {
    let s = Scenario::from_json(PATENT).unwrap();
    let m = Sim::new(&s, false).run().metrics;
    assert_eq!(m.truncated, None);
    assert!(serde_json::to_value(&m).unwrap().get("truncated").is_none());
}

#[test]
fn a_run_in_slices_is_the_run_in_one_go() {
    for name in ["patent-5.json", "storm.json", "partition.json", "raft-5.json"] {
        let text = std::fs::read_to_string(format!("{}/../static/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let s = Scenario::from_json(&text).unwrap();
        let whole = Sim::new(&s, true).run();
        let mut sim = Sim::new(Rc::new(s.clone()), true);
        let mut slices = 0;
        while sim.run_for(7) == Progress::More {
            slices += 1;
        }
        let sliced = sim.finish();
        assert!(slices > 1, "{name}");
        assert_eq!(sliced.metrics, whole.metrics, "{name}");
        assert_eq!(sliced.trace.unwrap().hash(), whole.trace.unwrap().hash(), "{name}");
    }
}

#[test]
fn a_cancelled_run_is_marked_partial() {
    let s = Scenario::from_json(PATENT).unwrap();
    let mut sim = Sim::new(&s, true);
    assert_eq!(sim.run_for(50), Progress::More);
    let at = sim.now();
    let m = sim.cancel().metrics;
    let cut = m.truncated.expect("marked");
    assert_eq!((cut.limit, cut.value, cut.at_ms), (Limit::Cancelled, m.events, at.as_ms()));
}

#[test]
fn an_unlimited_budget_never_stops_a_run() {
    let mut s = Scenario::from_json(PATENT).unwrap();
    s.budget = Budget::UNLIMITED;
    assert_eq!(Sim::new(&s, false).run().metrics, Sim::new(&Scenario::from_json(PATENT).unwrap(), false).run().metrics);
}

/// The largest run the playground is measured on (docs/benchmarks.md), the
/// 2,000-server equal-timer storm under the default `verify`, finishes
/// within the default budget: the budget cuts only what would hurt.
#[test]
fn the_largest_measured_run_fits_the_default_budget() {
    let s = gen::storm(2000).validate().unwrap();
    let m = Sim::new(&s, false).run().metrics;
    assert_eq!(m.truncated, None, "{} events", m.events);
    let mut unlimited = s.clone();
    unlimited.budget = Budget::UNLIMITED;
    assert_eq!(m, Sim::new(&unlimited, false).run().metrics);
}
