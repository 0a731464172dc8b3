//! Other algorithms through the real binary: `sim` runs Raft and Bully and
//! says which, `delays` refuses what has no election delays.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

const PATENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../static/scenarios/patent-5.json");

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stagger")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "stagger {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stagger-cli-algorithms-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// patent-5 switched to another algorithm, written to a temp file.
fn patent_as(algorithm: &str) -> PathBuf {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(PATENT).unwrap()).unwrap();
    v["algorithm"] = algorithm.into();
    let path = temp(algorithm).join("scenario.json");
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

#[test]
fn sim_runs_raft_and_bully_and_says_which() {
    let raft = patent_as("raft");
    let text = ok(&["sim", raft.to_str().unwrap()]);
    assert!(text.contains("Raft (election timeout 900.000 ms to 1300.000 ms"), "{text}");
    assert!(text.contains("request-vote") && !text.contains("declare"), "{text}");
    let v: Value = serde_json::from_str(&ok(&["sim", raft.to_str().unwrap(), "--json"])).unwrap();
    assert!(v["elected_at_ms"].as_f64().unwrap() > 1900.0);
    assert!(v["messages"]["heartbeat"].as_u64().unwrap() > 0);
    assert!(v["messages"].get("pre_vote").is_none(), "zero counts of other kinds are left out");

    let bully = patent_as("bully");
    let text = ok(&["sim", bully.to_str().unwrap()]);
    assert!(text.contains("Bully (") && text.contains("final master atlanta (S1)"), "{text}");
}

#[test]
fn delays_refuses_an_algorithm_without_election_delays() {
    let out = run(&["delays", patent_as("raft").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("raft algorithm") && err.contains("staggered timer"), "{err}");
}
