//! `stagger-bench service` and `service-failover` through the real
//! binaries, with tiny counts, against a real group with its name server
//! and a real etcd cluster: the shape of the reports, that writes went
//! through on both sides and resumed after every kill, and that the
//! Markdown lands in the file `--docs` names. Rates and windows are
//! measured in docs/benchmarks.md, never asserted here.

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

#[test]
fn bench_service_writes_through_a_master_and_through_etcd_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("benchmarks.md");
    std::fs::write(&doc, "# Benchmarks\n").unwrap();
    let out = bench(&[
        "service",
        "--backups",
        "2",
        "--clients",
        "4",
        "--keys",
        "10",
        "--seconds",
        "0.5",
        "--json",
        "--docs",
        doc.to_str().unwrap(),
    ]);
    let v = report(&out);
    assert_eq!(v["bench"], "service");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0]["backups"].as_u64(), rows[0]["members"].as_u64()), (Some(2), Some(3)));
    for side in ["stagger", "etcd"] {
        let s = &rows[0][side];
        assert!(s["writes_per_s"].as_f64().is_some_and(|r| r > 0.0), "{side}: {s}");
        assert!(s["latency_ms"]["median"].as_f64().is_some_and(|m| m > 0.0), "{side}: {s}");
    }
    let text = std::fs::read_to_string(&doc).unwrap();
    assert!(text.contains("<!-- BEGIN generated: service -->\n`stagger-bench service --backups 2 --clients 4"), "{text}");
    assert!(text.contains("| 2 (3) | **"), "{text}");
}

#[test]
fn bench_service_failover_kills_under_load_and_writes_resume_every_time() {
    let out = bench(&["service-failover", "--kills", "2", "--clients", "4", "--keys", "10", "--json"]);
    let v = report(&out);
    assert_eq!(v["bench"], "service-failover");
    for side in ["stagger", "etcd"] {
        let s = &v[side];
        assert_eq!((s["kills"].as_u64(), s["resumed"].as_u64()), (Some(2), Some(2)), "{side}: {s}");
        assert!(s["windows_ms"].as_array().unwrap().iter().all(|w| w.as_f64().is_some_and(|w| w > 0.0)), "{side}: {s}");
        assert!(s["writes_ok"].as_u64().is_some_and(|n| n > 0), "{side}: {s}");
    }
}
