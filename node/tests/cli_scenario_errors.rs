//! Every malformed scenario is refused with a non-zero exit and a message
//! that names the offending field (SPEC §7 "Errors").

use serde_json::{json, Value};
use std::process::Command;

const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

fn patent() -> Value {
    serde_json::from_str(PATENT).unwrap()
}

/// Runs `stagger sim` on `text` and returns (exit code, stderr).
fn sim_text(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).arg("sim").arg(&path).arg("--json").output().unwrap();
    if !out.status.success() {
        assert!(out.stdout.is_empty(), "no metrics may be printed for a bad scenario");
    }
    (out.status.code().unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn refused(v: Value, field: &str, words: &str) {
    let (code, err) = sim_text(&v.to_string());
    assert_eq!(code, 2, "expected exit 2, stderr: {err}");
    assert!(err.contains(field), "stderr should name field `{field}`: {err}");
    assert!(err.contains(words), "stderr should say `{words}`: {err}");
}

#[test]
fn valid_scenario_runs() {
    let (code, err) = sim_text(PATENT);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn non_square_matrix() {
    let mut v = patent();
    v["delays_ms"][2] = json!([110, 120, 0, 80]);
    refused(v, "delays_ms[2]", "square");
}

#[test]
fn wrong_number_of_rows() {
    let mut v = patent();
    v["delays_ms"].as_array_mut().unwrap().pop();
    refused(v, "delays_ms", "one row per server");
}

#[test]
fn negative_delay() {
    let mut v = patent();
    v["delays_ms"][1][3] = json!(-5);
    refused(v, "delays_ms[1][3]", "non-negative");
}

#[test]
fn non_zero_diagonal() {
    let mut v = patent();
    v["delays_ms"][3][3] = json!(1);
    refused(v, "delays_ms[3][3]", "to itself must be 0");
}

#[test]
fn unknown_id_in_ranking() {
    let mut v = patent();
    v["ranking"][2] = json!("paris");
    refused(v, "ranking[2]", "unknown server id 'paris'");
}

#[test]
fn unknown_id_in_fault() {
    let mut v = patent();
    v["faults"][0]["crash"] = json!("paris");
    refused(v, "faults[0].crash", "unknown server id 'paris'");
}

#[test]
fn duplicate_server_id() {
    let mut v = patent();
    v["servers"][4]["id"] = json!("sydney");
    refused(v, "servers[4].id", "listed twice");
}

#[test]
fn timeout_not_below_period() {
    let mut v = patent();
    v["detection"]["timeout_ms"] = json!(500);
    refused(v, "detection.timeout_ms", "must be shorter than the detection period");
}

#[test]
fn timeout_not_below_one_of_several_periods() {
    let mut v = patent();
    v["detection"]["period_ms"] = json!([500, 500, 300, 500, 500]);
    refused(v, "detection.timeout_ms", "P = 300");
}

#[test]
fn unknown_top_level_field() {
    let mut v = patent();
    v["colour"] = json!("blue");
    refused(v, ": colour: unknown field", "expected one of `name`");
}

#[test]
fn unknown_nested_field() {
    let mut v = patent();
    v["detection"]["perod_ms"] = json!(500);
    refused(v, ": detection.perod_ms: unknown field", "`period_ms`");
}

#[test]
fn missing_ranking() {
    let mut v = patent();
    v.as_object_mut().unwrap().remove("ranking");
    refused(v, "ranking", "missing");
}

#[test]
fn ranking_and_rank_by_together() {
    let mut v = patent();
    v["rank_by"] = json!("compute");
    refused(v, "rank_by", "not both");
}

#[test]
fn duplicate_in_ranking() {
    let mut v = patent();
    v["ranking"] = json!(["ottawa", "atlanta", "atlanta", "sydney", "tokyo"]);
    refused(v, "ranking[2]", "'atlanta' is listed twice");
}

#[test]
fn ranking_omits_a_server() {
    let mut v = patent();
    v["ranking"] = json!(["ottawa", "atlanta", "sydney", "tokyo"]);
    refused(v, "ranking", "omits server 'bangalore'");
}

#[test]
fn rank_by_missing_attribute() {
    let mut v = patent();
    v.as_object_mut().unwrap().remove("ranking");
    v["rank_by"] = json!("compute");
    refused(v, "rank_by", "server 'atlanta' has no attribute 'compute'");
}

#[test]
fn jitter_out_of_range() {
    let mut v = patent();
    v["network"] = json!({"jitter": 1.0});
    refused(v, "network.jitter", "outside [0, 1)");
}

#[test]
fn loss_out_of_range() {
    let mut v = patent();
    v["network"] = json!({"loss": 1.5});
    refused(v, "network.loss", "outside [0, 1]");
}

#[test]
fn server_twice_in_one_partition() {
    let mut v = patent();
    v["faults"] = json!([{"at_ms": 100, "partition": [["ottawa", "atlanta"], ["atlanta", "tokyo"]]}]);
    refused(v, "faults[0].partition[1][0]", "'atlanta' is listed twice");
}

#[test]
fn crash_of_a_server_already_down() {
    let mut v = patent();
    v["faults"] = json!([{"at_ms": 100, "crash": "tokyo"}, {"at_ms": 200, "crash": "tokyo"}]);
    refused(v, "faults[1].crash", "already down");
}

#[test]
fn recover_of_a_server_that_is_up() {
    let mut v = patent();
    v["faults"] = json!([{"at_ms": 100, "recover": "tokyo"}]);
    refused(v, "faults[0].recover", "already up");
}

#[test]
fn fault_with_two_actions() {
    let mut v = patent();
    v["faults"] = json!([{"at_ms": 100, "crash": "tokyo", "heal": true}]);
    refused(v, "faults[0]", "exactly one of");
}

#[test]
fn timer_field_of_another_scheme() {
    let mut v = patent();
    v["timer"] = json!({"scheme": "equal", "base_ms": 50});
    refused(v, "timer.base_ms", "not used by the equal scheme");
}

#[test]
fn wrong_type() {
    let mut v = patent();
    v["seed"] = json!("forty-two");
    refused(v, "seed", "invalid type");
}

#[test]
fn not_json_at_all() {
    let (code, err) = sim_text("{ this is not json");
    assert_eq!(code, 2);
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn missing_file_is_an_io_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).args(["sim", "/nonexistent/x.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.json"));
}

#[test]
fn missing_required_field_is_named() {
    let mut v = patent();
    v["faults"] = json!([{"crash": "tokyo"}]);
    refused(v, "faults[0].at_ms", "required");
}

#[test]
fn unknown_field_inside_a_list_is_named_with_its_index() {
    let mut v = patent();
    v["servers"][1] = json!({"ix": "atlanta"});
    refused(v, ": servers[1].ix: unknown field", "`id`");
}

#[test]
fn a_run_of_10_to_the_12_ms_is_refused_at_until_ms() {
    let mut v = patent();
    v["until_ms"] = json!(1e12);
    refused(v, "until_ms: the run needs at least 8000000003 events", "raise max_events");
}

#[test]
fn a_2_microsecond_period_is_refused_at_the_period() {
    let mut v = patent();
    v["detection"]["period_ms"] = json!(0.002);
    v["detection"]["timeout_ms"] = json!(0.001);
    refused(v, "detection.period_ms: the run needs at least", "more than its budget of 20000000 (max_events)");
}

#[test]
fn max_events_of_zero_is_refused() {
    let mut v = patent();
    v["max_events"] = json!(0);
    refused(v, "max_events", "outside [1, ∞)");
}

/// Runs `stagger sim --json` on `text`: (exit code, stdout, stderr).
fn sim_output(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).arg("sim").arg(&path).arg("--json").output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// A run stopped by its budget prints its partial metrics, marked, says so
/// on stderr, and exits 3.
#[test]
fn a_run_at_its_event_budget_prints_partial_metrics_and_exits_3() {
    let mut v = patent();
    v["max_events"] = json!(100);
    let (code, out, err) = sim_output(&v.to_string());
    assert_eq!(code, 3, "{err}");
    let m: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(m["events"], 100);
    assert_eq!(m["truncated"]["limit"], "max_events", "{m}");
    assert_eq!(m["truncated"]["value"], 100, "{m}");
    assert!(err.contains("stopped at") && err.contains("after 100 events, the budget (max_events)"), "{err}");
    assert!(err.contains("partial"), "{err}");
}

#[test]
fn a_contest_storm_of_2000_servers_stops_at_the_memory_budget() {
    let mut f = stagger_core::gen::storm(2000);
    f.claim = Some(stagger_core::ClaimPolicy::Contest);
    let (code, out, err) = sim_output(&serde_json::to_string(&f).unwrap());
    assert_eq!(code, 3, "{err}");
    let m: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(m["truncated"]["limit"], "max_entries", "{m}");
    assert!(err.contains("the memory budget (max_entries)"), "{err}");
}

#[test]
fn a_trace_of_a_run_stopped_at_its_budget_is_marked() {
    let mut v = patent();
    v["max_events"] = json!(100);
    let dir = tempfile::tempdir().unwrap();
    let (path, trace) = (dir.path().join("scenario.json"), dir.path().join("trace.json"));
    std::fs::write(&path, v.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).arg("sim").arg(&path).arg("--trace").arg(&trace).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    assert_eq!(doc["truncated"]["limit"], "max_events", "{}", doc["truncated"]);
    let last = doc["events"].as_array().unwrap().last().unwrap()["t_ms"].as_f64().unwrap();
    assert!(last <= doc["truncated"]["at_ms"].as_f64().unwrap());
    // The human summary is printed too, says it is partial, and so does stderr.
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("100 events"), "{summary}");
    assert!(summary.lines().nth(1).is_some_and(|l| l.contains("PARTIAL RUN: stopped at")), "{summary}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the results are partial"));
}

/// `stagger render` of a run stopped at its budget writes the diagram of
/// what ran, says on stderr that it is partial, and the caption says so.
#[test]
fn a_diagram_of_a_run_stopped_at_its_budget_says_it_is_partial() {
    let mut v = patent();
    v["max_events"] = json!(100);
    let dir = tempfile::tempdir().unwrap();
    let (path, svg) = (dir.path().join("scenario.json"), dir.path().join("run.svg"));
    std::fs::write(&path, v.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).arg("render").arg(&path).arg("-o").arg(&svg).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("the diagram shows a partial run: stopped at"), "{err}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("partial run, stopped at its budget at"), "the caption says it");
}
