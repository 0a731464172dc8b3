//! Runs that would mislead, through the real binary: warnings on stderr
//! that name their field, and metrics that say when a group is still
//! changing instead of calling it converged.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

const PATENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../static/scenarios/patent-5.json");

fn stagger(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger")).args(args).output().unwrap();
    assert!(out.status.success(), "stagger {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// patent-5 with `edit` applied, in a temp folder that lives as long as
/// the returned guard.
fn patent_with(edit: impl Fn(&mut Value)) -> (tempfile::TempDir, PathBuf) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(PATENT).unwrap()).unwrap();
    edit(&mut v);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, v.to_string()).unwrap();
    (dir, path)
}

/// Atlanta ↔ Bangalore at 300 ms each way: a 600 ms round trip, τ 400 ms.
fn slow_bangalore(until_ms: f64) -> (tempfile::TempDir, PathBuf) {
    patent_with(|v| {
        v["delays_ms"][1][2] = 300.into();
        v["delays_ms"][2][1] = 300.into();
        v["until_ms"] = until_ms.into();
    })
}

#[test]
fn a_slow_round_trip_is_warned_about_at_the_timeout_by_sim_render_and_delays() {
    let (dir, path) = slow_bangalore(12_000.0);
    let file = path.to_str().unwrap();
    let svg = dir.path().join("out.svg");
    for args in [vec!["sim", file], vec!["delays", file], vec!["render", file, "-o", svg.to_str().unwrap()]] {
        let err = String::from_utf8(stagger(&args).stderr).unwrap();
        let line = err.lines().find(|l| l.starts_with("warning: ")).unwrap_or_else(|| panic!("{args:?}: no warning in {err}"));
        assert!(
            line.contains("scenario.json: detection.timeout_ms: τ = 400 ms is shorter than the round trip from bangalore to its master atlanta (up to 600 ms)"),
            "{args:?}: {line}"
        );
    }
    // The shipped example warns about nothing.
    assert!(!String::from_utf8(stagger(&["sim", PATENT]).stderr).unwrap().contains("warning"));
}

#[test]
fn a_group_that_keeps_changing_masters_is_reported_as_still_changing() {
    for until in [12_000.0, 20_000.0, 30_000.0] {
        let (_dir, path) = slow_bangalore(until);
        let v: Value = serde_json::from_slice(&stagger(&["sim", path.to_str().unwrap(), "--json"]).stdout).unwrap();
        assert_eq!(v["settled"], "still_changing", "until {until}: {v}");
        assert_eq!(v["stable_window_ms"], 1800.0);
        assert!(v["role_changes"].as_u64().unwrap() > 10, "{v}");
        assert!(v["last_change_ms"].as_f64().unwrap() > until - 1800.0, "{v}");
        assert!(v.get("converged_at_ms").is_some(), "SPEC §8's field stays");
        let text = String::from_utf8(stagger(&["sim", path.to_str().unwrap()]).stdout).unwrap();
        assert!(text.contains("still changing (last change at ") && !text.contains("converged at"), "until {until}: {text}");
        assert!(!text.contains("final master"), "who leads at the end is not final: {text}");
        assert!(text.contains("within the 1800.000 ms stability window before the end"), "{text}");
    }
    let text = String::from_utf8(stagger(&["sim", PATENT]).stdout).unwrap();
    assert!(text.contains("stable: one master through the 1800.000 ms stability window before the end; 8 role change(s)"), "{text}");
}

#[test]
fn a_run_that_ends_before_its_crash_says_so_and_claims_no_convergence_at_it() {
    let (_dir, path) = patent_with(|v| v["until_ms"] = 1000.into());
    let out = stagger(&["sim", path.to_str().unwrap(), "--json"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("until_ms: the run ends at 1000 ms, before the crash of ottawa at 1900 ms: never applied"), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["crash_at_ms"], Value::Null, "{v}");
    assert_eq!(v["converged_at_ms"], 0.0, "{v}");
    assert_eq!(v["final_master"], "ottawa", "{v}");
    // The diagram shows the whole run, not a 1 ms window before the end
    // around a crash that never came.
    let svg = path.with_extension("svg");
    stagger(&["render", path.to_str().unwrap(), "-o", svg.to_str().unwrap()]);
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.contains(">0</text>") && svg.contains(">500</text>"), "the time axis covers 0–1000 ms");
}
