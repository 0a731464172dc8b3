//! `stagger-bench predict` through the real binaries, with two kills: the
//! demo's five cities live, a forecast before each kill, the report's shape
//! and its Markdown section. How close the forecasts are is measured in
//! docs/benchmarks.md, never asserted here.

use serde_json::Value;
use stagger_tests::harness::stagger_for_tests;
use std::process::Command;

#[test]
fn bench_predict_sets_each_forecast_beside_a_real_kill_and_writes_its_docs_section() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("benchmarks.md");
    std::fs::write(&doc, "# Benchmarks\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench"))
        .args(["predict", "--kills", "2", "--quiet-periods", "4", "--json", "--docs", doc.to_str().unwrap()])
        .arg("--stagger")
        .arg(stagger_for_tests())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\nstdout: {stdout}\nstderr: {stderr}", out.status);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: stdout is one JSON object: {stdout}"));
    assert_eq!(v["bench"], "predict");
    assert!(v["aborted"].is_null(), "{}", v["aborted"]);
    assert_eq!(v["members"], serde_json::json!(["ottawa", "atlanta", "bangalore", "sydney", "tokyo"]));
    let a = &v["accuracy"];
    // Two forecast kills, with one or more between them that give the
    // mastership back to the best rank (the twin refuses the group then).
    let kills = a["kills"].as_u64().unwrap();
    assert!((3..=8).contains(&kills), "{a}");
    assert_eq!(a["elected"], kills, "{a}");
    let forecasts = a["forecasts"].as_u64().unwrap();
    assert_eq!(forecasts, 2, "{a}");
    assert_eq!(a["winner_right"].as_u64().unwrap() + a["winner_wrong"].as_u64().unwrap(), forecasts, "{a}");
    assert_eq!(a["abs_error_ms"]["count"], forecasts, "{a}");
    let runs = v["runs"].as_array().expect("runs is a list");
    for r in runs {
        assert_ne!(r["asked"], r["killed"], "the forecast comes from a Backup: {r}");
        assert!(r["measured_ms"].as_f64().is_some_and(|x| x > 0.0), "{r}");
        if r["predict_error"].is_null() {
            assert!(r["predicted_ms"].as_f64().is_some_and(|x| x > 0.0), "{r}");
            assert!(r["matrix"] == "measured" || r["matrix"] == "configured", "{r}");
        } else {
            assert!(r["predict_error"].as_str().unwrap().contains("not the lowest live index"), "{r}");
        }
    }
    // The first kill is of the best rank, with a forecast; the members
    // measured their links and sent probes in the quiet window.
    assert_eq!(runs[0]["killed"], "ottawa");
    assert!(runs[0]["predict_error"].is_null(), "{}", runs[0]);
    for key in ["cost_quiet", "cost_over_run"] {
        let c = &v[key];
        assert!(c["member_periods"].as_f64().is_some_and(|x| x > 0.0), "{key}: {c}");
        assert!(c["probes_sent"].as_f64().is_some_and(|x| x > 0.0), "{key}: {c}");
        assert!(c["inquiry_round_trips"].as_f64().is_some_and(|x| x > 0.0), "{key}: {c}");
    }
    let text = std::fs::read_to_string(&doc).unwrap();
    assert!(text.starts_with("# Benchmarks\n"), "{text}");
    assert!(text.contains("<!-- BEGIN generated: predict -->\n`stagger-bench predict --kills 2 --quiet-periods 4`"), "{text}");
    assert!(text.contains("the predicted winner was the real one in") && text.contains("| quiet, 4 periods"), "{text}");
}

#[test]
fn bad_arguments_of_the_prediction_bench_are_the_users_to_fix() {
    for (args, says) in [
        (&["predict", "--kills", "0"][..], "--kills must be at least 1"),
        (&["predict", "--quiet-periods", "0"][..], "--quiet-periods must be"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench")).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
