//! Metrics that do not depend on where a run happens to end, and the
//! warnings that explain the runs that mislead.

use stagger_core::scenario::{Concern, ScenarioFile};
use stagger_core::sim::Settled;
use stagger_core::*;

const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

/// `patent-5` with Atlanta ↔ Bangalore at 300 ms each way: the 600 ms
/// round trip outlasts τ = 400 ms, so Bangalore keeps taking over from
/// Atlanta.
fn slow_bangalore(until_ms: f64) -> Scenario {
    let mut f = ScenarioFile::from_json(PATENT).unwrap();
    f.delays_ms[1][2] = 300.0;
    f.delays_ms[2][1] = 300.0;
    f.until_ms = Some(until_ms);
    f.validate().unwrap()
}

fn patent(until_ms: f64) -> Scenario {
    let mut f = ScenarioFile::from_json(PATENT).unwrap();
    f.until_ms = Some(until_ms);
    f.validate().unwrap()
}

#[test]
fn a_group_that_keeps_changing_masters_is_still_changing_wherever_the_run_ends() {
    for until in [12_000.0, 20_000.0, 30_000.0] {
        let m = Sim::new(&slow_bangalore(until), false).run().metrics;
        assert_eq!(m.settled, Settled::StillChanging, "until {until}: {m:?}");
        assert!(m.role_changes > 10, "until {until}: {m:?}");
        let last = m.last_change_ms.expect("roles changed");
        assert!(until - last < m.stable_window_ms, "until {until}: the last change at {last} is within the window: {m:?}");
    }
}

#[test]
fn the_stability_window_is_two_detection_budgets() {
    // misses × P + τ = 500 + 400, twice.
    let m = Sim::new(&patent(12_000.0), false).run().metrics;
    assert_eq!(m.stable_window_ms, 1800.0);
}

#[test]
fn the_patent_example_is_stable_and_its_last_change_is_the_convergence() {
    let m = Sim::new(&patent(12_000.0), false).run().metrics;
    assert_eq!(m.settled, Settled::Stable, "{m:?}");
    assert_eq!(m.converged_at_ms, Some(2570.0));
    assert_eq!(m.last_change_ms, Some(2570.0));
    // Four backups enter the election and four follow the new master.
    assert_eq!(m.role_changes, 8);
}

#[test]
fn a_run_that_ends_soon_after_convergence_is_not_yet_stable() {
    // Converged at 2570, but only 430 ms before the end.
    let m = Sim::new(&patent(3_000.0), false).run().metrics;
    assert_eq!(m.converged_at_ms, Some(2570.0));
    assert_eq!(m.settled, Settled::StillChanging, "{m:?}");
}

#[test]
fn a_crash_after_the_end_never_happened() {
    let m = Sim::new(&patent(1_000.0), false).run().metrics;
    assert_eq!(m.crash_at_ms, None, "{m:?}");
    assert_eq!(m.converged_at_ms, Some(0.0), "ottawa led from the start: {m:?}");
    assert_eq!(m.final_master.as_deref(), Some("ottawa"));
    assert_eq!(m.election_messages, 0);
}

#[test]
fn tau_shorter_than_a_round_trip_to_the_master_is_a_warning_at_the_timeout() {
    let w = slow_bangalore(12_000.0).warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].field, "detection.timeout_ms");
    match &w[0].concern {
        Concern::SlowRoundTrip { backup, master, round_trip, .. } => {
            assert_eq!((backup.as_str(), master.as_str(), round_trip.as_ms()), ("bangalore", "atlanta", 600.0));
        }
        c => panic!("{c:?}"),
    }
    let text = w[0].to_string();
    assert!(
        text.starts_with("detection.timeout_ms: τ = 400 ms is shorter than the round trip from bangalore to its master atlanta"),
        "{text}"
    );
    // Before the crash ottawa leads, 220 ms from bangalore: no warning.
    assert!(patent(12_000.0).warnings().is_empty());
}

#[test]
fn jitter_counts_in_the_round_trip() {
    // 2 × 190 = 380 ms < 400, but 10 % jitter can make it 418.
    let mut f = ScenarioFile::from_json(PATENT).unwrap();
    f.delays_ms[1][2] = 190.0;
    f.delays_ms[2][1] = 190.0;
    assert!(f.validate().unwrap().warnings().is_empty());
    f.network = Some(serde_json::from_str(r#"{"jitter": 0.1}"#).unwrap());
    let w = f.validate().unwrap().warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].to_string().contains("up to 418 ms with 10% jitter"), "{}", w[0]);
}

#[test]
fn a_fault_after_the_end_is_a_warning_at_until() {
    let w = patent(1_000.0).warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].field, "until_ms");
    assert!(matches!(w[0].concern, Concern::FaultsAfterEnd { count: 1, .. }), "{w:?}");
    assert_eq!(w[0].to_string(), "until_ms: the run ends at 1000 ms, before the crash of ottawa at 1900 ms: never applied");
}

#[test]
fn an_end_within_the_stability_window_of_the_last_fault_is_a_warning_at_until() {
    let w = patent(3_000.0).warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].field, "until_ms");
    assert!(matches!(w[0].concern, Concern::EndsTooSoon { .. }), "{w:?}");
    assert!(w[0].to_string().contains("1100 ms after the crash of ottawa at 1900 ms: less than the 1800 ms"), "{}", w[0]);
}

#[test]
fn the_presets_do_not_warn() {
    for name in ["patent-5", "lan-5", "partition", "raft-5", "storm"] {
        let text = std::fs::read_to_string(format!("{}/../static/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let w = Scenario::from_json(&text).unwrap().warnings();
        assert!(w.is_empty(), "{name}: {w:?}");
    }
}
