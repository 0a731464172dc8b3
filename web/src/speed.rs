//! The simulator's speed in the tab, for `stagger-bench
//! speed`, which loads the `views` module in headless Chromium and calls
//! [`stagger_speed`] from the page. Compiled into the `views` module only, so
//! the page's first download (`stagger_web`) and `stagger_embed` do not carry
//! it.
//!
//! `stagger-bench speed` runs the same loop natively
//! (`tests/src/bench/speed/mod.rs`, `native_call`); keep the two alike.

use crate::dom::now_ms;
use serde_json::json;
use stagger_core::{gen, Sim};
use wasm_bindgen::prelude::*;

/// Simulates the `kind` scenario of `stagger_core::gen` with `n` servers,
/// `"integral"` or `"storm"` (equal timers), and times whole runs
/// (`Sim::new` and `run`, no trace) with `performance.now()`. Building and
/// validating the scenario is not timed.
///
/// A run shorter than the clock's resolution (Chromium coarsens it to 0.1 ms)
/// is repeated until `min_ms` have passed, and the mean is reported; a longer
/// one runs once. Returns JSON: `kind`, `n`, `events` (per run), `runs`,
/// `ms` (mean whole run), `setup_ms` (mean `Sim::new`), `first_ms` (the
/// first run of this call), `events_per_s` (`events / ms`) and
/// `converged_master`.
#[wasm_bindgen]
pub fn stagger_speed(kind: &str, n: u32, min_ms: f64) -> Result<String, JsError> {
    let file = match kind {
        "integral" => gen::integral(n as usize),
        "storm" => gen::storm(n as usize),
        _ => return Err(JsError::new(&format!("unknown kind {kind:?}: integral or storm"))),
    };
    let mut scenario = file.validate().map_err(|e| JsError::new(&e.to_string()))?;
    // A benchmark measures how far the simulator goes: no budget stops it.
    scenario.budget = stagger_core::Budget::UNLIMITED;
    drop(file);
    let (mut runs, mut total, mut setup, mut first) = (0u32, 0.0, 0.0, 0.0);
    let mut seen = None;
    loop {
        let t0 = now_ms();
        let sim = Sim::new(&scenario, false);
        let t1 = now_ms();
        let run = sim.run();
        let t2 = now_ms();
        let m = run.metrics;
        let got = (m.events, m.final_master);
        match &seen {
            None => seen = Some(got),
            Some(s) if *s != got => return Err(JsError::new("two runs of one scenario differ")),
            Some(_) => {}
        }
        if runs == 0 {
            first = t2 - t0;
        }
        runs += 1;
        total += t2 - t0;
        setup += t1 - t0;
        if total >= min_ms {
            break;
        }
    }
    let (events, master) = seen.expect("one run at least");
    let ms = total / f64::from(runs);
    let out = json!({
        "kind": kind, "n": n, "events": events, "runs": runs, "ms": ms, "setup_ms": setup / f64::from(runs),
        "first_ms": first, "events_per_s": if ms > 0.0 { events as f64 / ms * 1000.0 } else { 0.0 },
        "converged_master": master,
    });
    Ok(out.to_string())
}
