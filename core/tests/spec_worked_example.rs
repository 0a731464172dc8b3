//! SPEC §8's worked example, to the microsecond.

use stagger_core::sim::What;
use stagger_core::*;

const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

#[test]
fn spec_8_worked_example() {
    let scenario = Scenario::from_json(PATENT).unwrap();
    let run = Sim::new(&scenario, true).run();
    let m = &run.metrics;
    assert_eq!(m.crash_at_ms, Some(1900.0));
    // Every backup enters the election at 2400; S_1 declares at 2400 + 50.
    assert_eq!(m.first_declare_at_ms, Some(2450.0));
    // Its last DeclareMaster lands at 2450 + max(120, 105, 80).
    assert_eq!(m.converged_at_ms, Some(2570.0));
    assert_eq!(m.final_master.as_deref(), Some("atlanta"));
    assert_eq!(m.messages.declare, 4);
    assert_eq!(m.messages.revoke, 0);
    assert_eq!(m.election_messages, 4);
    assert_eq!(m.split_brain_ms, 0.0);
    assert_eq!(m.max_masters, 1);

    let trace = run.trace.unwrap();
    // All four backups enter the election at 2400 (role change to WaitElection).
    let entered: Vec<u32> = trace
        .events
        .iter()
        .filter(|e| matches!(e.what, What::Role { role: Role::WaitElection, .. }))
        .map(|e| {
            assert_eq!(e.t, Time::from_ms(2400));
            match e.what {
                What::Role { server, .. } => server,
                _ => unreachable!(),
            }
        })
        .collect();
    assert_eq!(entered, vec![1, 2, 3, 4]);
    // Bangalore's own election timer is due at 2570 too, but the delivery
    // runs first, so the timer is cancelled and never fires.
    let bangalore_timer = trace.events.iter().any(|e| matches!(e.what, What::Timer { server: 2, timer: TimerKind::Election }));
    assert!(!bangalore_timer, "the delivery at 2570 must win the tie");
}
