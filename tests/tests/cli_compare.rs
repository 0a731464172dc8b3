//! The simulated benchmarks through the real `stagger-bench` binary:
//! `raft-fig16`, `compare` and `loses` with their outputs (tables, JSON,
//! CSV, SVG, the regenerated docs section).

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stagger-bench")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "stagger-bench {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stagger-cli-compare-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn raft_fig16_prints_every_row_next_to_the_paper() {
    let v: Value = serde_json::from_str(&ok(&["raft-fig16", "--trials", "40", "--json"])).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|r| r["trials"] == 40));
    let r155 = rows.iter().find(|r| r["max_ms"] == 155.0).unwrap();
    assert_eq!(r155["published"][0]["MedianMs"], 287.0);
    assert!(r155["downtime_ms"]["p50"].as_f64().unwrap() > 75.0);
    assert_eq!(v["set_up"]["broadcast_ms"], 15.0);
    let table = ok(&["raft-fig16", "--trials", "10"]);
    assert!(table.contains("| 150–155 ms | 10 |") && table.contains("median 287 ms"), "{table}");
}

#[test]
fn compare_writes_table_csv_and_plots() {
    let dir = temp("matrix");
    let args = ["compare", "--trials", "3", "--sizes", "5,8", "--presets", "lan,adversarial"];
    let md = ok(&[&args[..], &["--contenders", "integral-verify,raft,bully", "--out", dir.to_str().unwrap()]].concat());
    assert!(md.contains("#### lan") && md.contains("#### adversarial"), "{md}");
    assert!(md.contains("| 8 | Bully |") && md.contains("| 5 | integral / verify |"), "{md}");
    let csv = std::fs::read_to_string(dir.join("compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 2 * 3, "{csv}");
    for p in ["lan", "adversarial"] {
        for what in ["convergence", "messages"] {
            let svg = std::fs::read_to_string(dir.join(format!("{p}-{what}.svg"))).unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("<polyline"), "{p}-{what}");
        }
    }
    let v: Value =
        serde_json::from_str(&ok(&[&args[..], &["--contenders", "raft", "--out", dir.to_str().unwrap(), "--json"]].concat())).unwrap();
    assert_eq!(v["cells"].as_array().unwrap().len(), 4);
}

#[test]
fn compare_runs_the_recommended_configuration_and_merges_its_rows_into_a_full_run() {
    let dir = temp("recommended");
    let out = dir.to_str().unwrap();
    let common = ["compare", "--sizes", "5", "--presets", "lan", "--out", out];
    let args = [&common[..], &["--trials", "10"]].concat();
    // The default contenders include the recommended row.
    let v: Value = serde_json::from_str(&ok(&[&args[..], &["--contenders", "integral-verify,integral-guard", "--json"]].concat())).unwrap();
    let cells = v["cells"].as_array().unwrap();
    let guard = cells.iter().find(|c| c["cell"]["contender"] == "Recommended").expect("the recommended row");
    assert_eq!(guard["lowest_wins"], 10, "guard_ms = P elects the lowest live index in every trial: {guard}");
    assert_eq!(guard["unconverged"], 0, "{guard}");

    // A run of Raft alone, then the recommended row merged into it.
    ok(&[&args[..], &["--contenders", "raft"]].concat());
    let md = ok(&[&args[..], &["--contenders", "integral-guard", "--merge"]].concat());
    assert!(md.contains("2 rows: 1 measured in") && md.contains("load average"), "{md}");
    assert!(md.contains("| 5 | **integral / verify + guard P + skip_known_dead** | 4 / 4 |"), "{md}");
    assert!(md.contains("| 5 | Raft |"), "{md}");
    let csv = std::fs::read_to_string(dir.join("compare.csv")).unwrap();
    let keys: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(2).unwrap()).collect();
    assert_eq!(keys, ["integral-guard", "raft"], "report order: {csv}");
    let out = run(&[&common[..], &["--contenders", "raft", "--merge", "--trials", "3"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has 10 trials per row"));
}

#[test]
fn compare_names_a_bad_argument() {
    let out = run(&["compare", "--presets", "moon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--presets: unknown preset 'moon'"));
    let out = run(&["compare", "--contenders", "paxos"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("integral-verify"), "the error lists what there is");
}

#[test]
fn docs_sections_are_regenerated_in_place() {
    let dir = temp("docs");
    let md = dir.join("benchmarks.md");
    std::fs::write(
        &md,
        "# Benchmarks\n\nProse before.\n\n<!-- BEGIN generated: loses -->\nstale\n<!-- END generated: loses -->\n\nProse after.\n",
    )
    .unwrap();
    ok(&["loses", "--trials", "2", "--docs", md.to_str().unwrap()]);
    ok(&["raft-fig16", "--trials", "5", "--docs", md.to_str().unwrap()]);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("# Benchmarks\n\nProse before.") && text.contains("Prose after."));
    assert!(!text.contains("stale") && text.contains("#### detection skew") && text.contains("| 12–24 ms | 5 |"));
    assert_eq!(text.matches("BEGIN generated: loses").count(), 1);
    assert!(dir.join("compare/raft-fig16.svg").exists());
    let v: Value = serde_json::from_str(&ok(&["loses", "--trials", "2", "--json"])).unwrap();
    assert_eq!(v["outcomes"].as_array().unwrap().len(), 64);
}
