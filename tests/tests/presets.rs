//! The example scenarios do what their descriptions say.

use stagger_core::scenario::{FaultActionEntry, FaultEntry, SchemeName, TimerEntry};
use stagger_core::sim::What;
use stagger_core::*;
use stagger_tests::{preset, presets};

#[test]
fn every_preset_validates_runs_and_ends_with_one_master() {
    let all = presets();
    assert!(all.len() >= 4, "patent-5, lan, storm and partition presets");
    for (name, file) in all {
        let s = file.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        let run = Sim::new(&s, false).run();
        assert!(run.metrics.final_master.is_some(), "{name}: {:?}", run.metrics);
        assert!(file.description.is_some(), "{name} explains itself");
    }
}

#[test]
fn storm_preset_is_contested_and_integral_fixes_it() {
    let s = preset("storm");
    let storm = Sim::new(&s, false).run().metrics;
    assert!(storm.messages.revoke > 0, "equal timers must fight: {storm:?}");
    assert!(storm.max_masters > 1);
    let mut f = presets().into_iter().find(|(n, _)| n == "storm").unwrap().1;
    f.timer = Some(TimerEntry::scheme(SchemeName::Integral).base(50.0));
    let calm = Sim::new(&f.validate().unwrap(), false).run().metrics;
    assert_eq!(calm.messages.revoke, 0);
    assert_eq!(calm.messages.declare, (s.len() - 1) as u64);
    assert_eq!(calm.final_master, storm.final_master, "the same server wins, for far fewer messages");
    assert!(calm.election_messages * 10 < storm.election_messages);
}

#[test]
fn partition_preset_splits_then_heals_to_the_best_master() {
    let m = Sim::new(&preset("partition"), false).run().metrics;
    assert_eq!(m.max_masters, 2);
    assert!(m.split_brain_ms > 2000.0, "two masters from the election until after the heal: {m:?}");
    assert_eq!(m.final_master.as_deref(), Some("ottawa"));
    assert!(m.converged_at_ms.unwrap() > 5000.0, "converges only after the heal at 5000");
}

#[test]
fn lan_preset_fails_over_in_tens_of_milliseconds() {
    let m = Sim::new(&preset("lan-5"), false).run().metrics;
    assert_eq!(m.final_master.as_deref(), Some("rack-a2"));
    let failover = m.converged_at_ms.unwrap() - m.crash_at_ms.unwrap();
    assert!(failover < 100.0, "P = 100 ms, τ = 50 ms, T1 = 10 ms: {failover}");
    assert_eq!(m.messages.revoke, 0);
}

/// `stagger delays` predicts who wins when the top k ranks are down; the
/// simulator must agree, down to the instant of the first declaration.
#[test]
fn delay_predictions_match_simulation() {
    for name in ["patent-5", "lan-5", "storm"] {
        let base = presets().into_iter().find(|(n, _)| n == name).unwrap().1;
        let s = base.validate().unwrap();
        let report = delays::report(&s);
        let crash_ms = s.faults[0].at.as_ms();
        let period = s.periods[0].as_ms();
        let timeout = s.params.timeout.as_ms();
        for p in &report.predictions {
            let mut f = base.clone();
            f.faults = report.ranks[..p.down as usize]
                .iter()
                .map(|r| FaultEntry { at_ms: crash_ms, action: FaultActionEntry::Crash(r.id.clone()) })
                .collect();
            let m = Sim::new(&f.validate().unwrap(), false).run().metrics;
            assert_eq!(m.final_master.as_deref(), Some(p.winner.as_str()), "{name}, top {} down", p.down);
            // Everyone detects at the first tick after the crash plus τ.
            let detect = (crash_ms / period).ceil() * period + timeout;
            assert_eq!(m.first_declare_at_ms, Some(detect + p.declares_after_ms), "{name}, top {} down", p.down);
            if p.clean {
                assert_eq!(m.messages.revoke, 0, "{name}, top {} down: predicted clean", p.down);
            } else {
                assert!(m.messages.revoke > 0, "{name}, top {} down: predicted contested", p.down);
            }
        }
    }
}

/// A re-rank mid-run: messages stamped with the old version are refused,
/// and the next failover follows the new ranking ([0049]).
#[test]
fn rerank_is_versioned_and_followed() {
    let mut f = presets().into_iter().find(|(n, _)| n == "patent-5").unwrap().1;
    // Tokyo is upgraded and ranked first; Ottawa stays master (the same
    // server keeps mastership), then fails.
    f.faults = serde_json::from_value(serde_json::json!([
        {"at_ms": 1600, "rerank": ["ottawa", "tokyo", "sydney", "bangalore", "atlanta"]},
        {"at_ms": 3900, "crash": "ottawa"}
    ]))
    .unwrap();
    let s = f.validate().unwrap();
    let run = Sim::new(&s, true).run();
    let trace = run.trace.unwrap();
    // Inquiries sent at 1500 under version 1 are answered after 1600 under
    // version 2: the replies in flight at the re-rank are refused.
    let refused: Vec<_> = trace
        .events
        .iter()
        .filter_map(|e| match e.what {
            What::Refused { reason: Refusal::Version { ours, theirs }, .. } => Some((ours, theirs)),
            _ => None,
        })
        .collect();
    assert!(!refused.is_empty(), "messages in flight across the re-rank are refused");
    assert!(refused.iter().all(|&(ours, theirs)| ours == 2 && theirs == 1));
    assert_eq!(run.metrics.final_master.as_deref(), Some("tokyo"), "the new S1 takes over");
    assert_eq!(run.metrics.messages.revoke, 0);
}

/// A re-rank by criterion with an attribute change, as when a server is
/// upgraded.
#[test]
fn rerank_by_criterion_after_an_upgrade() {
    let mut f = presets().into_iter().find(|(n, _)| n == "patent-5").unwrap().1;
    for (s, c) in f.servers.iter_mut().zip([8.0, 4.0, 4.0, 2.0, 2.0]) {
        s.attrs.insert("compute".into(), c);
    }
    f.faults = serde_json::from_value(serde_json::json!([
        {"at_ms": 1000, "rerank": {"rank_by": "compute", "attrs": {"sydney": {"compute": 16}}}},
        {"at_ms": 3900, "crash": "ottawa"}
    ]))
    .unwrap();
    let m = Sim::new(&f.validate().unwrap(), false).run().metrics;
    // After the re-rank Sydney (16) is S_0 and Ottawa (8) S_1, still the
    // master: a re-rank moves no mastership. When Ottawa fails, Sydney
    // enters the election with D_0 = T1 (SPEC §5) and wins.
    assert_eq!(m.final_master.as_deref(), Some("sydney"));
}

/// The same five cities under Raft: a survivor wins after a PreVote and a
/// vote round, and it need not be the best rank.
#[test]
fn raft_preset_runs_raft_on_the_patent_cities() {
    let raft = preset("raft-5");
    let patent = preset("patent-5");
    assert_eq!(raft.delays_us, patent.delays_us);
    assert_eq!(raft.algorithm.name(), "raft");
    let m = Sim::new(&raft, false).run().metrics;
    assert_ne!(m.final_master.as_deref(), Some("ottawa"));
    assert!(m.messages.pre_vote > 0 && m.messages.request_vote > 0, "{m:?}");
    assert_eq!(m.messages.declare + m.messages.inquiry, 0);
}
