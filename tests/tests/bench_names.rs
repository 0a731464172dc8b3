//! `stagger-bench names` and `names-failover` through the real binaries,
//! with tiny counts: a real `stagger nameserver` (and, for the failover, a
//! live group registering at it). Checks the shape of the reports, that
//! every request and kill was answered, and that the Markdown lands in the
//! file `--docs` names; timing is measured in docs/benchmarks.md, never
//! asserted here.

use serde_json::Value;
use stagger_tests::harness::stagger_for_tests;
use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stagger-bench")).args(args).arg("--stagger").arg(stagger_for_tests()).output().unwrap()
}

fn report(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\nstdout: {stdout}\nstderr: {stderr}", out.status);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: stdout is one JSON object: {stdout}"))
}

fn check_latencies(v: &Value, requests: u64) {
    for op in ["takeover", "renew", "lookup"] {
        for kind in ["new_connection", "keep_alive"] {
            let s = &v["latency_ms"][op][kind];
            assert_eq!(s["count"], requests, "{op} {kind}: {s}");
            assert!(s["median"].as_f64().is_some_and(|x| x > 0.0), "{op} {kind}: {s}");
        }
    }
    // Each takeover got the next epoch: two per request count.
    assert_eq!(v["epochs_rose_by_one"], true);
    assert_eq!(v["last_epoch"], 2 * requests);
    let runs = v["throughput"].as_array().expect("throughput is a list");
    assert_eq!(runs.iter().map(|r| r["clients"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2]);
    for r in runs {
        assert!(r["requests"].as_u64().is_some_and(|n| n > 0) && r["errors"] == 0, "{r}");
    }
}

#[test]
fn bench_names_times_an_embedded_name_server_and_writes_its_docs_section() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("benchmarks.md");
    std::fs::write(&doc, "# Benchmarks\n\nprose\n").unwrap();
    let out = bench(&["names", "--requests", "4", "--clients", "2", "--seconds", "0.3", "--json", "--docs", doc.to_str().unwrap()]);
    let v = report(&out);
    assert_eq!(v["bench"], "names");
    assert_eq!(v["backend"]["name"], "embedded");
    for probe in ["fdatasync_ms", "fdatasync_after_ms"] {
        assert!(v["backend"][probe]["count"].as_u64().is_some_and(|n| n > 0), "{}", v["backend"]);
    }
    check_latencies(&v, 4);
    let text = std::fs::read_to_string(&doc).unwrap();
    assert!(text.starts_with("# Benchmarks\n\nprose\n"), "{text}");
    assert!(text.contains("<!-- BEGIN generated: names-embedded -->\n`stagger-bench names --backend embedded --requests 4"), "{text}");
    assert!(text.contains("| lookup | keep alive | 4 |") && text.trim_end().ends_with("<!-- END generated: names-embedded -->"), "{text}");
}

/// Whether this `stagger` binary's name server has the etcd backend.
fn has_etcd_flag() -> bool {
    let out = Command::new(stagger_for_tests()).args(["nameserver", "--help"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains("--etcd")
}

#[test]
fn the_name_server_benches_on_etcd_run_or_say_the_binary_lacks_the_backend() {
    let out = bench(&["names", "--backend", "etcd", "--requests", "3", "--clients", "2", "--seconds", "0.3", "--json"]);
    if has_etcd_flag() {
        let v = report(&out);
        assert_eq!(v["backend"]["name"], "etcd");
        assert_eq!(v["backend"]["members"], 3);
        check_latencies(&v, 3);
        let v = report(&bench(&["names-failover", "--backend", "etcd", "--kills", "1", "--members", "3", "--json"]));
        assert_eq!(v["backend"]["name"], "etcd");
        assert_eq!(v["looked_up"], 1, "{v}");
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("has no --etcd flag") && err.contains("--stagger PATH"), "{err}");
    }
}

#[test]
fn bench_names_failover_times_the_lookup_beside_the_election() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("benchmarks.md");
    std::fs::write(&doc, "# Benchmarks\n").unwrap();
    let out = bench(&["names-failover", "--kills", "2", "--members", "3", "--json", "--docs", doc.to_str().unwrap()]);
    let v = report(&out);
    assert_eq!(v["bench"], "names-failover");
    assert!(v["aborted"].is_null(), "{}", v["aborted"]);
    for key in ["runs_done", "registered_before", "elected", "looked_up"] {
        assert_eq!(v[key], 2, "{key}: {v}");
    }
    for key in ["election_ms", "master_ms", "lookup_ms", "difference_ms", "after_master_ms"] {
        assert_eq!(v[key]["count"], 2, "{key}: {}", v[key]);
    }
    for r in v["runs"].as_array().expect("runs is a list") {
        assert_ne!(r["killed"], r["looked_up"], "{r}");
        assert!(r["epoch_after"].as_u64() > r["epoch_before"].as_u64(), "the epoch rose: {r}");
    }
    let text = std::fs::read_to_string(&doc).unwrap();
    assert!(text.contains("<!-- BEGIN generated: names-failover -->") && text.contains("| a lookup names a new master"), "{text}");
}

#[test]
fn bad_arguments_of_the_name_server_benches_are_the_users_to_fix() {
    for (args, says) in [
        (&["names", "--requests", "0"][..], "--requests must be at least 1"),
        (&["names", "--backend", "etcd", "--data", "/tmp"][..], "--data is for the embedded backend"),
        (&["names-failover", "--members", "2"][..], "--members must be between 3 and 20"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench")).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("names-failover") && help.contains("  names "), "{help}");
}
