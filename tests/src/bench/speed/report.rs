//! What `stagger-bench speed` prints: the table or one JSON object, the
//! largest size under `--max-ms` on each side, and the failure when the tab
//! and the native build disagree.

use super::{fail, r4, CliError, Row, Side, SpeedArgs, MIN_MS};
use crate::bench::machine::{loadavg, machine, machine_line};
use serde_json::{json, Value};

/// The largest `n` of `kind` whose side ran under `max_ms`, and the first
/// that did not (with its time), if one was tried.
fn limit(rows: &[Row], kind: &str, max_ms: f64, side: impl Fn(&Row) -> Option<&Side>) -> (Option<u32>, Option<(u32, Option<f64>)>) {
    let mut largest = None;
    for r in rows.iter().filter(|r| r.kind == kind) {
        let Some(s) = side(r) else { continue };
        match s.ms() {
            Some(m) if m <= max_ms => largest = Some(r.n),
            m => return (largest, Some((r.n, m))),
        }
    }
    (largest, None)
}

pub(super) fn report(
    args: &SpeedArgs,
    kinds: &[&'static str],
    rows: &[Row],
    browser: Option<String>,
    load_before: Option<[f64; 3]>,
) -> Result<(), CliError> {
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let mismatches: Vec<String> = rows
        .iter()
        .filter(|r| r.equal() == Some(false))
        .map(|r| {
            let side = |s: &Option<Side>| s.as_ref().map(|s| format!("{:?} events, master {:?}", s.events(), s.master()));
            format!("{} N = {}: native {:?}, tab {:?}", r.kind, r.n, side(&r.native), side(&r.tab))
        })
        .collect();
    let limits: Vec<Value> = kinds
        .iter()
        .map(|&kind| {
            let (nat, nat_over) = limit(rows, kind, args.max_ms, |r| r.native.as_ref());
            let (tab, tab_over) = limit(rows, kind, args.max_ms, |r| r.tab.as_ref());
            json!({
                "kind": kind,
                "native_largest_n": nat, "native_first_over": nat_over.map(|(n, m)| json!({"n": n, "ms": m.map(r4)})),
                "tab_largest_n": tab, "tab_first_over": tab_over.map(|(n, m)| json!({"n": n, "ms": m.map(r4)})),
            })
        })
        .collect();
    if args.json {
        let out = json!({
            "bench": "speed",
            "what": "whole runs (Sim::new + run, no trace) of stagger_core::gen::{integral, storm}(n)",
            "max_ms": args.max_ms, "reps": args.reps, "min_ms_per_call": MIN_MS, "max_n": args.max_n,
            "native_build": profile,
            "browser": browser,
            "page": args.page,
            "rows": rows.iter().map(|r| json!({
                "kind": r.kind, "n": r.n,
                "native": r.native.as_ref().map(Side::json), "tab": r.tab.as_ref().map(Side::json),
                "events_equal": r.equal(),
                "tab_over_native": ratio(r),
            })).collect::<Vec<_>>(),
            "limits": limits,
            "deterministic": mismatches.is_empty(),
            "machine": machine(),
            "load_average_before": load_before,
            "load_average_after": loadavg(),
        });
        println!("{out}");
    } else {
        println!("stagger-bench speed: whole runs (Sim::new + run, no trace) of stagger_core::gen::{{integral, storm}}(N)");
        println!(
            "  natively ({profile} build of this binary) and in the tab ({}, the stagger_views wasm module of {})",
            browser.as_deref().unwrap_or("not measured: --native-only"),
            args.page.as_deref().unwrap_or("the playground built into the stagger binary, served by `stagger serve`")
        );
        println!("  each cell: median of {} calls; a call repeats runs until {MIN_MS} ms have passed and reports their mean", args.reps);
        println!("  {}", machine_line(load_before));
        if cfg!(debug_assertions) {
            println!("  WARNING: a debug build; the native numbers mean nothing (cargo run --release -p stagger-node -- bench speed)");
        }
        println!();
        println!("  (ms: one whole run; setup: Sim::new, part of it; 1st run: the page's first run of that size, its memory grown)");
        println!();
        println!(
            "  kind          N      events   native ms  native events/s      tab ms   tab events/s  tab/native  tab setup ms  \
             tab 1st run ms  same events"
        );
        for r in rows {
            let ms = |s: &Option<Side>| match s {
                None => "-".to_string(),
                Some(s) => s.ms().map_or_else(|| "failed".to_string(), fmt_ms),
            };
            let eps = |s: &Option<Side>| s.as_ref().and_then(Side::events_per_s).map_or("-".to_string(), fmt_rate);
            let tab_ms = |f: fn(&Side) -> Option<f64>| r.tab.as_ref().and_then(f).map_or("-".to_string(), fmt_ms);
            println!(
                "  {:<8}  {:>5}  {:>10}  {:>10}  {:>15}  {:>10}  {:>13}  {:>10}  {:>12}  {:>14}  {:>11}",
                r.kind,
                r.n,
                r.native.as_ref().or(r.tab.as_ref()).and_then(Side::events).map_or("-".to_string(), |e| e.to_string()),
                ms(&r.native),
                eps(&r.native),
                ms(&r.tab),
                eps(&r.tab),
                ratio(r).map_or("-".to_string(), |x| format!("{x:.2}x")),
                tab_ms(Side::setup_ms),
                tab_ms(Side::first_ms),
                match r.equal() {
                    Some(true) => "yes",
                    Some(false) => "NO",
                    None => "-",
                },
            );
        }
        for r in rows {
            if let Some(e) = r.tab.as_ref().and_then(|s| s.error.as_deref()) {
                println!("  {} N = {} in the tab failed: {e}", r.kind, r.n);
            }
        }
        println!();
        for l in &limits {
            let show = |largest: &Value, over: &Value| {
                let first = match (over["n"].as_u64(), over["ms"].as_f64()) {
                    (Some(n), Some(ms)) => format!("N = {n} took {}", fmt_ms(ms)),
                    (Some(n), None) => format!("N = {n} failed"),
                    _ => format!("every size tried up to --max-n {} was under", args.max_n),
                };
                match largest.as_u64() {
                    Some(n) => format!("{n} ({first})"),
                    None => format!("none ({first})"),
                }
            };
            let kind = l["kind"].as_str().unwrap_or_default();
            if !args.native_only {
                println!("  largest N under {} ms in the tab, {kind}: {}", args.max_ms, show(&l["tab_largest_n"], &l["tab_first_over"]));
            }
            println!("  largest N under {} ms natively,   {kind}: {}", args.max_ms, show(&l["native_largest_n"], &l["native_first_over"]));
        }
        if !args.native_only {
            println!(
                "  event counts and masters, native vs tab: {}",
                if mismatches.is_empty() { "equal in every row measured on both sides" } else { "DIFFERENT" }
            );
        }
    }
    if !mismatches.is_empty() {
        return Err(fail(format!("the tab and the native build disagree: {}", mismatches.join("; "))));
    }
    Ok(())
}

/// Tab time over native time.
fn ratio(r: &Row) -> Option<f64> {
    let (a, b) = (r.native.as_ref()?.ms()?, r.tab.as_ref()?.ms()?);
    (a > 0.0).then(|| b / a)
}

fn fmt_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.4}")
    } else if ms < 100.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.0}")
    }
}

fn fmt_rate(x: f64) -> String {
    format!("{:.2} M", x / 1e6)
}
