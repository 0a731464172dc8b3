//! The replicated service in the simulator: a master crash under a write
//! load loses no acknowledged write, applies none twice, and shows the
//! clients' window; the same seed gives the same run; and a load leaves
//! the election exactly as it was (docs/protocol.md KS1–KS8).

use stagger_core::service::{Answer, HistoryEvent, Op, Outcome};
use stagger_core::sim::{Flow, What};
use stagger_core::{Scenario, ScenarioFile, Sim};
use std::collections::BTreeMap;

const SERVICE: &str = include_str!("../../static/scenarios/service-5.json");
const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

fn service_5() -> Scenario {
    Scenario::from_json(SERVICE).unwrap()
}

/// A put's key, value, and the value it replaced.
fn put(e: &HistoryEvent) -> (&str, &str, Option<&str>) {
    let Op::Put { key, value } = &e.op else { panic!("the load only puts: {e:?}") };
    let previous = match &e.answer {
        Some(Answer::Written { previous }) => previous.as_deref(),
        other => panic!("a put answers with the value before: {other:?}"),
    };
    (key, value, previous)
}

/// Per key, the acknowledged puts in log order must form one chain: each
/// replaced the one before it. A lost acknowledged write breaks the chain
/// (the next put replaced something older); a write applied twice shows
/// as a put that replaced its own value.
/// One acknowledged put of a key: its log index, its value, the value it replaced.
type Put<'a> = (u64, &'a str, Option<&'a str>);

fn assert_chains(events: &[HistoryEvent]) {
    let unknown: Vec<&str> = events.iter().filter(|e| e.outcome == Outcome::Unknown).map(put_value).collect();
    let mut by_key: BTreeMap<&str, Vec<Put>> = BTreeMap::new();
    let mut indices = std::collections::BTreeSet::new();
    for e in events.iter().filter(|e| e.outcome == Outcome::Ok) {
        let (key, value, previous) = put(e);
        let index = e.index.expect("an answer carries its index");
        assert!(indices.insert(index), "two acknowledged writes at index {index}");
        assert_ne!(previous, Some(value), "{value} was applied twice");
        by_key.entry(key).or_default().push((index, value, previous));
    }
    assert!(!by_key.is_empty());
    for (key, mut chain) in by_key {
        chain.sort();
        for pair in chain.windows(2) {
            let ((_, before, _), (index, _, previous)) = (pair[0], pair[1]);
            let ok = previous == Some(before) || previous.is_some_and(|p| unknown.contains(&p));
            assert!(ok, "{key}: the write at index {index} replaced {previous:?}, not the acknowledged {before}");
        }
    }
}

fn put_value(e: &HistoryEvent) -> &str {
    match &e.op {
        Op::Put { value, .. } => value,
        other => panic!("the load only puts: {other:?}"),
    }
}

#[test]
fn a_master_crash_under_load_loses_no_acknowledged_write_and_shows_a_window() {
    let scenario = service_5();
    let run = Sim::new(&scenario, false).run();
    let svc = run.metrics.service.expect("a run with a service reports it");
    assert_eq!(svc.clients, 2);
    let history = &svc.history.events;
    assert_eq!(history.len() as u64, svc.writes_ok + svc.writes_failed + svc.writes_unknown);
    assert_eq!(svc.writes_failed, 0, "nothing in this run refuses a write for good");
    assert_chains(history);
    // Writes completed on both sides of the crash, under both masters.
    let w = svc.window.expect("the run has a crash");
    assert_eq!(w.crash_at_ms, 1900.0);
    let (before, after) = (w.last_before_ms.unwrap(), w.first_after_ms.unwrap());
    assert!(before <= 1900.0 && after > 1900.0);
    assert_eq!(w.length_ms, Some(after - before));
    let epochs: std::collections::BTreeSet<u64> = history.iter().filter_map(|e| e.epoch).collect();
    assert!(epochs.len() >= 2, "writes acknowledged under the old master and the new: {epochs:?}");
    // No write completes before the new master is elected (2450 ms) and
    // has brought its backups to one prefix.
    assert!(after > run.metrics.elected_at_ms.unwrap());
    assert!(!history.iter().any(|e| e.outcome == Outcome::Ok && e.complete_ms > 1900.0 && e.complete_ms < after));
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let scenario = service_5();
    let a = Sim::new(&scenario, true).run();
    let b = Sim::new(&scenario, true).run();
    assert_eq!(a.trace.as_ref().unwrap().hash(), b.trace.as_ref().unwrap().hash());
    assert_eq!(a.metrics, b.metrics);
    assert_eq!(a.metrics.service.as_ref().unwrap().history, b.metrics.service.as_ref().unwrap().history);
    let mut file = ScenarioFile::from_json(SERVICE).unwrap();
    file.seed = Some(7);
    let c = Sim::new(&file.validate().unwrap(), true).run();
    assert_ne!(a.trace.unwrap().hash(), c.trace.unwrap().hash());
}

#[test]
fn a_load_leaves_the_election_as_it_was() {
    // service-5 is patent-5 with a load and a shorter run.
    let mut file = ScenarioFile::from_json(PATENT).unwrap();
    file.until_ms = Some(5000.0);
    let plain = Sim::new(&file.validate().unwrap(), true).run();
    let loaded = Sim::new(&service_5(), true).run();
    let election: Vec<_> = loaded.trace.as_ref().unwrap().events.iter().filter(|e| !matches!(e.what, What::Service(_))).cloned().collect();
    assert_eq!(election, plain.trace.unwrap().events);
    // The election's metrics too; the service counts its events apart.
    let mut b = loaded.metrics;
    assert!(b.service.take().unwrap().events > 0);
    assert_eq!(plain.metrics, b);
}

#[test]
fn the_trace_shows_request_forward_ack_answer_and_applied_indices() {
    let run = Sim::new(&service_5(), true).run();
    let trace = run.trace.unwrap();
    let flows: Vec<&Flow> = trace.events.iter().filter_map(|e| if let What::Service(f) = &e.what { Some(f) } else { None }).collect();
    let kinds = |want: &str| flows.iter().filter(|f| serde_json::to_value(f).unwrap()["flow"] == want).count();
    for kind in ["request", "reply", "message", "applied"] {
        assert!(kinds(kind) > 0, "no {kind} in the trace");
    }
    // Every member applied the writes; the crashed master only before it
    // crashed.
    let scenario = service_5();
    let applied = |row: u32| flows.iter().filter(|f| matches!(f, Flow::Applied { server, .. } if *server == row)).count();
    for row in 0..5 {
        assert!(applied(row) > 0, "{} applied nothing", scenario.ids[row as usize]);
    }
    let json = trace.to_json(&scenario.ids);
    let types: std::collections::BTreeSet<&str> = json["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    for t in ["request", "answer", "replicate", "applied"] {
        assert!(types.contains(t), "{t} missing from the trace JSON: {types:?}");
    }
}

#[test]
fn the_chain_check_catches_a_lost_write() {
    let run = Sim::new(&service_5(), false).run();
    let mut events = run.metrics.service.unwrap().history.events;
    // Forget an acknowledged write with acknowledged writes to its key
    // before and after it.
    let ok_on = |i: usize, range: std::ops::Range<usize>, events: &[HistoryEvent]| {
        events[range].iter().any(|e| e.outcome == Outcome::Ok && e.op.key() == events[i].op.key())
    };
    let i = (1..events.len())
        .find(|&i| events[i].outcome == Outcome::Ok && ok_on(i, 0..i, &events) && ok_on(i, i + 1..events.len(), &events))
        .unwrap();
    events.remove(i);
    assert!(std::panic::catch_unwind(|| assert_chains(&events)).is_err());
}
