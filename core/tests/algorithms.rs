//! Raft and Bully in the simulator: chosen by a
//! scenario's `"algorithm"`, run on the same network, faults, trace and
//! metrics as the staggered timer.

use stagger_core::{Algorithm, MessageKind, Msg, Scenario, ScenarioFile, Sim};

const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

fn with(algorithm: &str, extra: &[(&str, serde_json::Value)]) -> Scenario {
    let mut v: serde_json::Value = serde_json::from_str(PATENT).unwrap();
    v["algorithm"] = algorithm.into();
    for (k, x) in extra {
        v[*k] = x.clone();
    }
    ScenarioFile::from_json(&v.to_string()).unwrap().validate().unwrap()
}

#[test]
fn raft_elects_one_leader_after_the_crash_and_everyone_follows_it() {
    for seed in 0..40u64 {
        let mut s = with("raft", &[]);
        s.seed = seed;
        let run = Sim::new(&s, true).run();
        let m = &run.metrics;
        let winner = m.final_master.clone().unwrap_or_else(|| panic!("seed {seed}: no converged leader: {m:?}"));
        assert_ne!(winner, "ottawa", "the crashed leader cannot win");
        assert!(m.converged_at_ms.unwrap() > m.crash_at_ms.unwrap());
        // Everything Raft sends is Raft's: heartbeats before, votes after.
        let trace = run.trace.unwrap();
        assert!(trace.sends_of(MessageKind::Heartbeat) > 0);
        assert!(trace.sends_of(MessageKind::RequestVote) >= 4, "seed {seed}: a candidate asks the other four");
        assert_eq!(trace.sends_of(MessageKind::Declare) + trace.sends_of(MessageKind::Inquiry), 0);
        assert_eq!(m.messages.request_vote as usize, trace.sends_of(MessageKind::RequestVote));
        // Election messages are the votes and their requests, never heartbeats.
        let votes = m.messages.request_vote + m.messages.vote + m.messages.pre_vote + m.messages.pre_vote_reply;
        assert!(m.election_messages <= votes && m.election_messages > 0);
    }
}

#[test]
fn raft_settings_default_to_the_detection_budget_and_can_be_set() {
    let s = with("raft", &[]);
    // patent-5: P = 500 ms, τ = 400 ms.
    let Algorithm::Raft(p) = s.algorithm else { panic!("{:?}", s.algorithm) };
    assert_eq!((p.election_min.as_ms(), p.election_max.as_ms()), (900.0, 1300.0));
    assert_eq!(p.heartbeat, None, "the leader beats at its detection period");
    let s = with(
        "raft",
        &[(
            "raft",
            serde_json::json!({"election_min_ms": 150, "election_max_ms": 300, "heartbeat_ms": 50, "prevote": true, "check_quorum": true}),
        )],
    );
    let Algorithm::Raft(p) = s.algorithm else { panic!() };
    assert_eq!((p.election_min.as_ms(), p.election_max.as_ms(), p.heartbeat.unwrap().as_ms()), (150.0, 300.0, 50.0));
    assert!(p.prevote && p.check_quorum);
    let m = Sim::new(&s, false).run().metrics;
    assert!(m.final_master.is_some(), "{m:?}");
    assert!(m.messages.pre_vote > 0, "PreVote runs before every real election");
}

#[test]
fn bully_elects_the_best_live_rank() {
    let s = with("bully", &[]);
    let run = Sim::new(&s, true).run();
    // patent-5 ranks ottawa, atlanta, bangalore, …; ottawa crashes.
    assert_eq!(run.metrics.final_master.as_deref(), Some("atlanta"), "{:?}", run.metrics);
    let trace = run.trace.unwrap();
    assert!(trace.sends_of(MessageKind::Alive) > 0);
    assert!(trace.sends_of(MessageKind::Coordinator) >= 4);
    assert!(trace.events.iter().all(|e| match &e.what {
        stagger_core::sim::What::Send { msg, .. } => matches!(msg, Msg::Bully(_)),
        _ => true,
    }));
}

#[test]
fn a_seed_replays_bit_for_bit_for_every_algorithm() {
    for alg in ["stagger", "raft", "bully"] {
        let s = with(alg, &[]);
        let a = Sim::new(&s, true).run().trace.unwrap();
        let b = Sim::new(&s, true).run().trace.unwrap();
        assert_eq!(a.hash(), b.hash(), "{alg}");
        assert!(!a.events.is_empty());
    }
}

#[test]
fn the_trace_json_of_another_algorithm_names_its_messages() {
    let s = with("raft", &[]);
    let trace = Sim::new(&s, true).run().trace.unwrap();
    let json = trace.to_json(&s.ids).to_string();
    assert!(json.contains("\"kind\":\"request-vote\""), "{}", &json[..300]);
    assert!(json.contains("\"type\":\"RequestVote\""));
    // And it reads back: the trace type round-trips through serde.
    let back: stagger_core::Trace = serde_json::from_str(&serde_json::to_string(&trace).unwrap()).unwrap();
    assert_eq!(back.hash(), trace.hash());
}

#[test]
fn what_only_the_staggered_timer_has_is_refused_by_name() {
    let mut v: serde_json::Value = serde_json::from_str(PATENT).unwrap();
    v["algorithm"] = "raft".into();
    v["known_functional"] = true.into();
    let e = ScenarioFile::from_json(&v.to_string()).unwrap().validate().unwrap_err();
    assert_eq!(e.field, "known_functional");
    assert!(e.to_string().contains("raft"), "{e}");

    let mut v: serde_json::Value = serde_json::from_str(PATENT).unwrap();
    v["algorithm"] = "bully".into();
    v["faults"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"at_ms": 100, "rerank": ["atlanta", "ottawa", "bangalore", "sydney", "tokyo"]}));
    let e = ScenarioFile::from_json(&v.to_string()).unwrap().validate().unwrap_err();
    assert!(e.field.ends_with(".rerank"), "{e}");

    let mut v: serde_json::Value = serde_json::from_str(PATENT).unwrap();
    v["algorithm"] = "paxos".into();
    let e = ScenarioFile::from_json(&v.to_string()).unwrap_err();
    assert!(e.to_string().contains("algorithm") || e.field.contains("algorithm"), "{e}");

    let mut v: serde_json::Value = serde_json::from_str(PATENT).unwrap();
    v["algorithm"] = "raft".into();
    v["raft"] = serde_json::json!({"election_min_ms": 100, "heartbeat_ms": 150});
    let e = ScenarioFile::from_json(&v.to_string()).unwrap().validate().unwrap_err();
    assert_eq!(e.field, "raft.heartbeat_ms", "{e}");

    let mut v: serde_json::Value = serde_json::from_str(PATENT).unwrap();
    v["raft"] = serde_json::json!({"election_min_ms": 300, "election_max_ms": 200});
    let e = ScenarioFile::from_json(&v.to_string()).unwrap().validate().unwrap_err();
    assert_eq!(e.field, "raft.election_max_ms", "a raft block is checked even while unused: {e}");

    let mut v: serde_json::Value = serde_json::from_str(PATENT).unwrap();
    v["raft"] = serde_json::json!({"election_timeout": 300});
    let e = ScenarioFile::from_json(&v.to_string()).unwrap_err();
    assert!(e.to_string().contains("election_min_ms"), "the error lists the fields there are: {e}");
}

#[test]
fn actual_delays_differ_from_what_the_servers_believe() {
    let mut v: serde_json::Value = serde_json::from_str(PATENT).unwrap();
    let believed = v["delays_ms"].clone();
    let doubled: Vec<Vec<f64>> =
        believed.as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| 2.0 * x.as_f64().unwrap()).collect()).collect();
    v["actual_delays_ms"] = serde_json::json!(doubled);
    let s = ScenarioFile::from_json(&v.to_string()).unwrap().validate().unwrap();
    // δ is computed from the belief; the network uses the real delays.
    assert_eq!(s.rank_table().delta(0), with("stagger", &[]).rank_table().delta(0));
    let trace = Sim::new(&s, true).run().trace.unwrap();
    let first = trace
        .events
        .iter()
        .find_map(|e| match &e.what {
            stagger_core::sim::What::Send { from, to, arrive: Some(a), .. } => Some((e.t, *from, *to, *a)),
            _ => None,
        })
        .unwrap();
    assert_eq!((first.3 .0 - first.0 .0) as u64, 2 * s.delays_us[first.1 as usize][first.2 as usize]);

    v["actual_delays_ms"][1][1] = 3.0.into();
    let e = ScenarioFile::from_json(&v.to_string()).unwrap().validate().unwrap_err();
    assert_eq!(e.field, "actual_delays_ms[1][1]", "{e}");
    v["actual_delays_ms"] = serde_json::json!([[0, 1], [1, 0]]);
    let e = ScenarioFile::from_json(&v.to_string()).unwrap().validate().unwrap_err();
    assert_eq!(e.field, "actual_delays_ms", "{e}");
}
