//! `stagger-bench failover --json` through the real binary: five real
//! `stagger node` children, two kills of the master. Checks the shape of
//! the report and that every kill converged; timing budgets are measured in
//! docs/benchmarks.md, never asserted here.

use serde_json::Value;
use stagger_tests::harness::stagger_for_tests;
use std::process::Command;

#[test]
fn bench_failover_reports_every_kill_as_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench"))
        .args(["failover", "--kills", "2", "--json", "--stagger"])
        .arg(stagger_for_tests())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\nstdout: {stdout}\nstderr: {stderr}", out.status);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: stdout is one JSON object: {stdout}"));

    assert_eq!(v["bench"], "failover");
    assert_eq!(v["kills"], 2);
    assert_eq!(v["runs_done"], 2);
    assert_eq!(v["converged"], 2);
    assert_eq!(v["all_converged"], true);
    assert!(v["aborted"].is_null(), "{}", v["aborted"]);
    assert_eq!(v["setup"]["members"], 5);
    assert!(v["bound_ms"].as_f64().is_some_and(|b| b > 0.0));
    assert!(v["winner_always_lowest_live_index"].is_boolean());
    for key in ["min", "median", "mean", "p90", "p99", "max"] {
        assert!(v["failover_ms"][key].as_f64().is_some_and(|x| x > 0.0), "failover_ms.{key}: {}", v["failover_ms"]);
    }
    assert_eq!(v["failover_ms"]["count"], 2);

    let runs = v["runs"].as_array().expect("runs is a list");
    assert_eq!(runs.len(), 2);
    for r in runs {
        assert_eq!(r["converged"], true, "{r}");
        assert!(r["ms"].as_f64().is_some_and(|x| x > 0.0), "{r}");
        let (killed, winner) = (r["killed"].as_str().unwrap(), r["winner"].as_str().unwrap());
        assert_ne!(killed, winner, "{r}");
        assert!(r["winner_index"].is_u64() && r["lowest_live_index"].is_u64(), "{r}");
        // The killed member was restarted: either the group agreed again, or
        // the report says what the members said instead (a known race of a
        // restarted member; see docs/benchmarks.md). Not a timing budget.
        assert!(r["rejoin_ms"].as_f64().is_some() != r["rejoin_failure"].is_string(), "{r}");
        if let Some(f) = r["rejoin_failure"].as_str() {
            eprintln!("note: the rejoin after killing {killed} did not settle: {f}");
        }
    }

    // Every child was stopped: none of the five addresses still answers.
    let addrs = v["addrs"].as_array().expect("addrs is a list");
    assert_eq!(addrs.len(), 5);
    for a in addrs {
        let a: std::net::SocketAddr = a.as_str().unwrap().parse().unwrap();
        assert!(std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_millis(500)).is_err(), "{a} still answers");
    }
}

#[test]
fn a_missing_stagger_binary_is_named_with_the_command_that_builds_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench"))
        .args(["idle", "--seconds", "1", "--stagger", "/nonexistent/stagger"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--stagger /nonexistent/stagger: no such file"), "{err}");
    // Alone in a folder, stagger-bench finds no stagger beside it.
    let dir = tempfile::tempdir().unwrap();
    let lone = dir.path().join("stagger-bench");
    std::fs::copy(env!("CARGO_BIN_EXE_stagger-bench"), &lone).unwrap();
    let out = Command::new(&lone).args(["failover", "--kills", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cargo build --release -p stagger-node") && err.contains("--stagger PATH"), "{err}");
}

#[test]
fn bad_arguments_are_the_users_to_fix() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench")).args(["failover", "--kills", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kills must be at least 1"));
}

#[test]
fn help_names_features_not_work_items() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Measure stagger"), "{help}");
    for cmd in ["failover", "idle", "capacity", "speed", "raft-fig16", "compare", "loses", "etcd"] {
        assert!(help.contains(cmd), "{cmd} in {help}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench")).args(["etcd", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Failover against etcd") && !help.to_lowercase().contains("issue"), "{help}");
}
