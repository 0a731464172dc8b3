//! `stagger-bench speed --json` through the real binary, small sizes only:
//! the playground's `stagger_speed` export (web/src/speed.rs, in the `views`
//! wasm module) called in a real headless Chromium must simulate the same
//! runs as the native simulator: the same number of events and the same
//! master for every scenario. No timing is asserted; the numbers are
//! docs/benchmarks.md's ("Simulator speed, native and in the tab").
//!
//! Needs what node/tests/browser.rs needs: `/usr/bin/chromium`,
//! chromedriver and a `stagger` binary built after `cargo xtask web`.

use serde_json::Value;
use stagger_core::{gen, Sim};
use stagger_tests::harness::stagger_for_tests;
use std::process::Command;

#[test]
fn the_tab_simulates_the_same_events_as_the_native_build() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagger-bench"))
        .args(["speed", "--json", "--max-n", "50", "--reps", "1", "--stagger"])
        .arg(stagger_for_tests())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?} (the tab needs /usr/bin/chromium and chromedriver: `cargo xtask setup`, and the playground built in: \
         `cargo xtask web`)\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: stdout is one JSON object: {stdout}"));
    assert_eq!(v["bench"], "speed");
    assert_eq!(v["deterministic"], true, "{v}");
    assert!(v["browser"].as_str().is_some_and(|b| !b.is_empty()), "{}", v["browser"]);

    let rows = v["rows"].as_array().expect("rows is a list");
    let mut checked = Vec::new();
    for kind in ["integral", "storm"] {
        for n in [10u64, 20, 50] {
            let r = rows
                .iter()
                .find(|r| r["kind"] == kind && r["n"] == n)
                .unwrap_or_else(|| panic!("no row for {kind} N = {n}: {}", v["rows"]));
            // The native count, computed here rather than read from the report.
            let file = if kind == "integral" { gen::integral(n as usize) } else { gen::storm(n as usize) };
            let m = Sim::new(&file.validate().unwrap(), false).run().metrics;
            assert!(m.events > 0);
            let tab = &r["tab"];
            assert!(tab["error"].is_null(), "{kind} N = {n} failed in the tab: {}", tab["error"]);
            assert_eq!(tab["events"].as_u64(), Some(m.events), "{kind} N = {n}: events in the tab vs natively; {r}");
            assert_eq!(tab["converged_master"].as_str(), m.final_master.as_deref(), "{kind} N = {n}; {r}");
            assert_eq!(r["native"]["events"].as_u64(), Some(m.events), "{r}");
            assert_eq!(r["events_equal"], true, "{r}");
            let calls = tab["calls"].as_array().expect("calls");
            assert!(!calls.is_empty() && calls.iter().all(|c| c["runs"].as_u64().is_some_and(|k| k >= 1)), "{r}");
            checked.push(format!("{kind} {n}: {} events", m.events));
        }
    }
    eprintln!("the tab and the native build agree: {}", checked.join(", "));
}
