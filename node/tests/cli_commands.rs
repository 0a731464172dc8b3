//! The simulation commands end to end, through the real binary.

use serde_json::Value;
use std::process::{Command, Output};

const PATENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../static/scenarios/patent-5.json");

fn stagger(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).args(args).output().unwrap();
    assert!(out.status.success(), "stagger {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn sim_json_prints_spec_8_metrics_as_one_object() {
    let out = stagger(&["sim", PATENT, "--json"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "one JSON object on one line");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["crash_at_ms"], 1900.0);
    assert_eq!(v["first_declare_at_ms"], 2450.0);
    assert_eq!(v["converged_at_ms"], 2570.0);
    assert_eq!(v["final_master"], "atlanta");
    let m = &v["messages"];
    for k in ["inquiry", "reply", "declare", "revoke", "total"] {
        assert!(m[k].is_u64(), "messages.{k}");
    }
    assert_eq!(m["declare"], 4);
    assert_eq!(m["revoke"], 0);
    let sum: u64 = ["inquiry", "reply", "declare", "revoke"].iter().map(|k| m[k].as_u64().unwrap()).sum();
    assert_eq!(m["total"].as_u64().unwrap(), sum);
    assert_eq!(v["election_messages"], 4);
    assert_eq!(v["split_brain_ms"], 0.0);
    assert_eq!(v["max_masters"], 1);
    assert!(v["events"].as_u64().unwrap() > 0);
}

#[test]
fn sim_without_json_prints_a_readable_summary() {
    let text = String::from_utf8(stagger(&["sim", PATENT]).stdout).unwrap();
    assert!(text.contains("converged at 2570.000 ms"), "{text}");
    assert!(text.contains("final master atlanta (S1)"), "{text}");
    assert!(text.contains("declare 4, revoke 0"), "{text}");
}

#[test]
fn sim_trace_writes_every_kind_of_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    stagger(&["sim", PATENT, "--trace", path.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["servers"][0], "ottawa");
    let events = v["events"].as_array().unwrap();
    for kind in ["fault", "send", "deliver", "drop", "timer", "role", "note"] {
        assert!(events.iter().any(|e| e["type"] == kind), "trace has {kind} events");
    }
    let declares = events.iter().filter(|e| e["type"] == "send" && e["kind"] == "declare").count();
    assert_eq!(declares, 4);
    let atlanta_master =
        events.iter().any(|e| e["type"] == "role" && e["server"] == "atlanta" && e["role"] == "Master" && e["t_ms"] == 2450.0);
    assert!(atlanta_master);
}

#[test]
fn delays_json_has_ranks_and_predictions() {
    let v: Value = serde_json::from_slice(&stagger(&["delays", PATENT, "--json"]).stdout).unwrap();
    let d: Vec<f64> = v["ranks"].as_array().unwrap().iter().map(|r| r["d_ms"].as_f64().unwrap()).collect();
    assert_eq!(d, vec![50.0, 50.0, 170.0, 250.0, 305.0]);
    let ids: Vec<&str> = v["ranks"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["ottawa", "atlanta", "bangalore", "sydney", "tokyo"]);
    let winners: Vec<&str> = v["predictions"].as_array().unwrap().iter().map(|p| p["winner"].as_str().unwrap()).collect();
    assert_eq!(winners, vec!["atlanta", "bangalore", "sydney", "tokyo"]);
}

#[test]
fn delays_table_is_readable() {
    let text = String::from_utf8(stagger(&["delays", PATENT]).stdout).unwrap();
    assert!(text.contains("bangalore"));
    assert!(text.contains("170.000"));
    assert!(text.contains("clean: one broadcast"));
}

#[test]
fn render_writes_a_standalone_svg() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.svg");
    stagger(&["render", PATENT, "-o", path.to_str().unwrap()]);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
    assert!(svg.contains("converged 2570.000 ms"));
    assert!(!svg.contains("<script"), "standalone and safe to embed");
}

#[test]
fn render_refuses_an_empty_window() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger"))
        .args(["render", PATENT, "-o", "/tmp/never.svg", "--from-ms", "3000", "--to-ms", "2000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from-ms"));
}

#[test]
fn demo_writes_diagram_trace_and_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let out = stagger(&["demo", "--no-serve", "--out", dir.path().to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("final master atlanta"));
    for f in ["patent-5.svg", "patent-5.trace.json", "patent-5.json"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
}

#[test]
fn ctl_says_when_the_node_cannot_be_reached_or_the_url_is_wrong() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_stagger"))
        .args(["ctl", "--node", &format!("http://127.0.0.1:{port}"), "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(why.contains("cannot reach the node") && why.to_lowercase().contains("refused"), "{why}");

    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).args(["ctl", "--node", "https://127.0.0.1:1", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--node must look like http://HOST:PORT"));
}

#[test]
fn the_product_binary_has_no_benchmarks_in_it() {
    let help = String::from_utf8(stagger(&["--help"]).stdout).unwrap();
    assert!(!help.contains("bench"), "the benchmarks are stagger-bench, not a stagger command: {help}");
    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).args(["bench", "failover"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown subcommand");
}

/// The patent's matrix scaled by `factor`, as an N × N matrix in ms.
fn patent_matrix(factor: f64) -> Value {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(PATENT).unwrap()).unwrap();
    let rows = v["delays_ms"].as_array().unwrap();
    Value::from(
        rows.iter().map(|r| r.as_array().unwrap().iter().map(|d| d.as_f64().unwrap() * factor).collect::<Vec<_>>()).collect::<Vec<_>>(),
    )
}

fn delays_measured(measured: &str, json: bool) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("measured.json");
    std::fs::write(&path, measured).unwrap();
    let mut args = vec!["delays", PATENT, "--measured", path.to_str().unwrap()];
    if json {
        args.push("--json");
    }
    Command::new(env!("CARGO_BIN_EXE_stagger")).args(&args).output().unwrap()
}

#[test]
fn delays_against_a_measured_matrix_that_matches_is_clean() {
    let out = delays_measured(&patent_matrix(1.0).to_string(), true);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["matrix"], "measured");
    assert!(v["predictions"].as_array().unwrap().iter().all(|p| p["clean"] == true), "{v}");
    assert!(v.get("warnings").is_none(), "{v}");
    let text = String::from_utf8(delays_measured(&patent_matrix(1.0).to_string(), false).stdout).unwrap();
    assert!(text.contains("transmission from the measured matrix") && !text.contains("warning"), "{text}");
}

#[test]
fn delays_against_a_measured_matrix_50_percent_above_warn_that_the_failover_is_contested() {
    let out = delays_measured(&patent_matrix(1.5).to_string(), false);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("warning: a failover of ottawa now would be contested"), "{text}");
    let v: Value = serde_json::from_slice(&delays_measured(&patent_matrix(1.5).to_string(), true).stdout).unwrap();
    assert!(v["predictions"][0]["slack_ms"].as_f64().unwrap() < 0.0, "{v}");
    assert!(v["warnings"].as_array().unwrap().contains(&"a failover of ottawa now would be contested".into()), "{v}");
}

#[test]
fn delays_merges_members_answers_and_fills_what_nobody_measured() {
    // Ottawa measured Atlanta at a 200 ms round trip (100 ms one-way): the
    // Ottawa–Atlanta link has drifted far past its 20 ms; the rest is the
    // configured matrix.
    let answers = serde_json::json!({
        "ottawa": {"peers": {"atlanta": {"median_ms": 200.0, "p99_ms": 200.0, "max_ms": 210.0, "samples": 30, "one_way_ms": 100.0}}}
    });
    let v: Value = serde_json::from_slice(&delays_measured(&answers.to_string(), true).stdout).unwrap();
    assert_eq!(v["matrix"], "measured");
    assert_eq!(v["stat"], "p99");
    let filled = v["filled_from_configured"].as_array().unwrap();
    assert_eq!(filled.len(), 9, "ten pairs, one measured: {v}");
    assert!(!filled.contains(&serde_json::json!(["ottawa", "atlanta"])));
}

#[test]
fn delays_refuses_a_bad_measured_matrix_with_a_reason() {
    let refused = |measured: &str, why: &str| {
        let out = delays_measured(measured, false);
        assert_eq!(out.status.code(), Some(2), "{measured}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("measured.json") && err.contains(why), "{measured}: {err}");
    };
    let mut negative = patent_matrix(1.0);
    negative[0][1] = (-5.0).into();
    refused(&negative.to_string(), "measured[0][1] (ottawa → atlanta): a delay must be a number of ms, zero or more, not -5");
    let mut text = patent_matrix(1.0);
    text[2][3] = "slow".into();
    refused(&text.to_string(), "not \"slow\"");
    refused(r#"{"ottawa": {"peers": {"paris": {"p99_ms": 3}}}}"#, "'paris' is not a member of the group");
    refused(r#"{"rome": {"peers": {"ottawa": {"p99_ms": 3}}}}"#, "'rome' is not a member of the group");
    refused("[[0, 1], [1, 0]]", "must be 5 × 5");
    refused("not json", "not JSON");
}

#[test]
fn sim_reports_what_the_service_clients_saw_and_the_failover_window() {
    let service = concat!(env!("CARGO_MANIFEST_DIR"), "/../static/scenarios/service-5.json");
    let v: Value = serde_json::from_slice(&stagger(&["sim", service, "--json"]).stdout).unwrap();
    let s = &v["service"];
    assert_eq!(s["clients"], 2);
    assert!(s["writes_ok"].as_u64().unwrap() > 0);
    assert_eq!(s["writes_failed"], 0);
    let w = &s["window"];
    assert_eq!(w["crash_at_ms"], 1900.0);
    let (before, after) = (w["last_before_ms"].as_f64().unwrap(), w["first_after_ms"].as_f64().unwrap());
    assert_eq!(w["length_ms"].as_f64().unwrap(), after - before);
    let text = String::from_utf8(stagger(&["sim", service]).stdout).unwrap();
    assert!(text.contains(&format!("writes {} ok, 0 failed", s["writes_ok"])), "{text}");
    let len = w["length_ms"].as_f64().unwrap();
    let window = format!("failover window: no write completed for {len:.3} ms (from {before:.3} ms to {after:.3} ms)");
    assert!(text.contains(&window), "{text}");
    // The same run again: the same numbers.
    let again: Value = serde_json::from_slice(&stagger(&["sim", service, "--json"]).stdout).unwrap();
    assert_eq!(again, v);
    // Without a service, the report has none of it.
    let plain: Value = serde_json::from_slice(&stagger(&["sim", PATENT, "--json"]).stdout).unwrap();
    assert!(plain.get("service").is_none());
}
