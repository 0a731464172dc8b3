//! `stagger-bench speed`: the simulator's speed natively and in the
//! playground's wasm in a real browser tab, side by side
//! (`docs/benchmarks.md` has the numbers).
//!
//! **What is timed.** Whole runs, `Sim::new` and `run` without the trace, of
//! the `stagger_core::gen` scenarios `integral(n)` and `storm(n)` (equal
//! timers), for `n` = 10, 20, 50, 100, 200, 500, 1,000, … Building and
//! validating the scenario is not timed. One *call* times runs until
//! [`MIN_MS`] have passed (a large `n` runs once) and reports their mean;
//! each row is the median of `--reps` calls.
//!
//! **Natively** the calls run in this process, timed with [`Instant`]: build
//! with `--release`, or the numbers say nothing.
//!
//! **In the tab** ([`tab`]): a `stagger serve` child serves the playground
//! embedded in the `stagger` binary on 127.0.0.1; this process starts
//! `chromedriver` and a headless Chromium through it (both from
//! [`crate::harness`]), drives it with `fantoccini`, opens `index.html`,
//! loads the `views` module with the page's own `window.staggerLoadViews()`
//! and calls its export `stagger_speed` (`web/src/speed.rs`, the same loop,
//! timed with `performance.now()`), one WebDriver "execute script" per call.
//!
//! A series stops once its median exceeds `--max-ms` on that side; the
//! largest `n` under it is the answer to "how large a group simulates in
//! under a second in the tab". Every row also compares the event counts and
//! the elected master of the two sides: the simulator is deterministic, so
//! they must be equal, and the command fails when they are not
//! ([`report`]).

mod report;
mod tab;

use super::machine::loadavg;
use super::{fail, BenchError as CliError};
use clap::Args;
use serde_json::{json, Value};
use stagger_core::compare::stats::median;
use stagger_core::{gen, Scenario, Sim};
use std::path::PathBuf;
use std::time::Instant;
use tab::Tab;

/// A call repeats runs shorter than this and reports their mean; the tab's
/// clock is coarsened to 0.1 ms, shorter than a small election.
const MIN_MS: f64 = 50.0;

const KINDS: [&str; 2] = ["integral", "storm"];

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVERS: [&str; 2] = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];

#[derive(Args, Debug)]
pub struct SpeedArgs {
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// A series stops after the first size whose run takes longer than this.
    #[arg(long, default_value_t = 1000.0)]
    max_ms: f64,
    /// Calls per size; each row is their median.
    #[arg(long, default_value_t = 5)]
    reps: u32,
    /// The largest number of servers to try. The delay matrix is N² numbers,
    /// held twice while a run is set up: 20,000 servers take 6.4 GB natively
    /// and do not fit in a tab (wasm32 has 4 GB).
    #[arg(long, default_value_t = 20_000)]
    max_n: u32,
    /// Only the native half: no browser.
    #[arg(long)]
    pub(super) native_only: bool,
    /// Measure the `index.html` at this URL instead of the playground built
    /// into this binary (e.g. a `stagger_views` built another way, served
    /// from a folder).
    #[arg(long, value_name = "URL")]
    pub(super) page: Option<String>,
    /// Only this scenario (repeatable; default: both).
    #[arg(long = "kind", value_name = "KIND", value_parser = KINDS)]
    kinds: Vec<String>,
    /// The Chromium to drive.
    #[arg(long, default_value = CHROMIUM)]
    chromium: PathBuf,
    /// chromedriver (default: /usr/bin/chromedriver or /usr/lib/chromium/chromedriver).
    #[arg(long)]
    chromedriver: Option<PathBuf>,
    /// The `stagger` binary that serves the playground (set by the caller).
    #[arg(skip)]
    pub(super) stagger: PathBuf,
}

/// What one call measured.
#[derive(Clone, Debug)]
struct Call {
    events: u64,
    runs: u32,
    ms: f64,
    setup_ms: f64,
    first_ms: f64,
    master: Option<String>,
}

impl Call {
    fn from_json(v: &Value) -> Option<Call> {
        Some(Call {
            events: v["events"].as_u64()?,
            runs: v["runs"].as_u64()? as u32,
            ms: v["ms"].as_f64()?,
            setup_ms: v["setup_ms"].as_f64()?,
            first_ms: v["first_ms"].as_f64()?,
            master: v["converged_master"].as_str().map(str::to_string),
        })
    }
}

/// One side of one row: the median of its calls.
#[derive(Clone, Debug)]
struct Side {
    calls: Vec<Call>,
    /// Why it has no numbers: the tab failed (a trap, out of memory).
    error: Option<String>,
}

impl Side {
    fn ms(&self) -> Option<f64> {
        let mut v: Vec<f64> = self.calls.iter().map(|c| c.ms).collect();
        v.sort_by(f64::total_cmp);
        (!v.is_empty()).then(|| median(&v))
    }

    fn setup_ms(&self) -> Option<f64> {
        let mut v: Vec<f64> = self.calls.iter().map(|c| c.setup_ms).collect();
        v.sort_by(f64::total_cmp);
        (!v.is_empty()).then(|| median(&v))
    }

    fn events(&self) -> Option<u64> {
        self.calls.first().map(|c| c.events)
    }

    fn master(&self) -> Option<&str> {
        self.calls.first().and_then(|c| c.master.as_deref())
    }

    /// The first run of the first call: the page's first run of this size,
    /// which grows the wasm memory when it is the largest yet.
    fn first_ms(&self) -> Option<f64> {
        self.calls.first().map(|c| c.first_ms)
    }

    fn events_per_s(&self) -> Option<f64> {
        let (e, ms) = (self.events()?, self.ms()?);
        (ms > 0.0).then(|| e as f64 / ms * 1000.0)
    }

    /// Every call of this side saw the same run.
    fn consistent(&self) -> bool {
        self.calls.windows(2).all(|w| w[0].events == w[1].events && w[0].master == w[1].master)
    }

    fn json(&self) -> Value {
        json!({
            "events": self.events(), "converged_master": self.master(),
            "ms": self.ms().map(r4), "setup_ms": self.setup_ms().map(r4),
            "events_per_s": self.events_per_s().map(|x| x.round()),
            "calls": self.calls.iter().map(|c| json!({
                "runs": c.runs, "ms": r4(c.ms), "setup_ms": r4(c.setup_ms), "first_ms": r4(c.first_ms),
            })).collect::<Vec<_>>(),
            "error": self.error,
        })
    }
}

struct Row {
    kind: &'static str,
    n: u32,
    native: Option<Side>,
    tab: Option<Side>,
}

impl Row {
    /// Both sides ran and agree on the events and the master; `None` when a
    /// side is missing.
    fn equal(&self) -> Option<bool> {
        let (a, b) = (self.native.as_ref()?, self.tab.as_ref()?);
        if a.calls.is_empty() || b.calls.is_empty() {
            return None;
        }
        Some(a.consistent() && b.consistent() && a.events() == b.events() && a.master() == b.master())
    }
}

fn r4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// 10, 20, 50, 100, 200, 500, … up to `max`.
fn sizes(max: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut decade = 10u32;
    'outer: loop {
        for m in [1, 2, 5] {
            let n = decade.saturating_mul(m);
            if n > max {
                break 'outer;
            }
            out.push(n);
        }
        match decade.checked_mul(10) {
            Some(d) => decade = d,
            None => break,
        }
    }
    out
}

fn scenario(kind: &str, n: u32) -> Result<Scenario, CliError> {
    let file = match kind {
        "integral" => gen::integral(n as usize),
        "storm" => gen::storm(n as usize),
        _ => unreachable!("KINDS"),
    };
    let mut s = file.validate().map_err(|e| fail(format!("gen::{kind}({n}) does not validate: {e}")))?;
    // A benchmark measures how far the simulator goes: no budget stops it
    // (the 5,000-server storm takes 50 million events).
    s.budget = stagger_core::Budget::UNLIMITED;
    Ok(s)
}

/// The native call: the loop of `web/src/speed.rs`, timed with [`Instant`].
fn native_call(s: &Scenario, min_ms: f64) -> Result<Call, CliError> {
    let ms = |a: Instant, b: Instant| b.duration_since(a).as_secs_f64() * 1000.0;
    let (mut runs, mut total, mut setup, mut first) = (0u32, 0.0, 0.0, 0.0);
    let mut seen: Option<(u64, Option<String>)> = None;
    loop {
        let t0 = Instant::now();
        let sim = Sim::new(s, false);
        let t1 = Instant::now();
        let run = sim.run();
        let t2 = Instant::now();
        let m = run.metrics;
        let got = (m.events, m.final_master);
        match &seen {
            None => seen = Some(got),
            Some(prev) if *prev != got => return Err(fail("two native runs of one scenario differ")),
            Some(_) => {}
        }
        if runs == 0 {
            first = ms(t0, t2);
        }
        runs += 1;
        total += ms(t0, t2);
        setup += ms(t0, t1);
        if total >= min_ms {
            break;
        }
    }
    let (events, master) = seen.expect("one run at least");
    Ok(Call { events, runs, ms: total / f64::from(runs), setup_ms: setup / f64::from(runs), first_ms: first, master })
}

/// `reps` calls, fewer when one is already far over `max_ms`.
fn measure(reps: u32, max_ms: f64, mut call: impl FnMut() -> Result<Call, String>) -> Side {
    let mut side = Side { calls: Vec::new(), error: None };
    for _ in 0..reps.max(1) {
        match call() {
            Ok(c) => {
                let slow = c.ms > 2.0 * max_ms;
                side.calls.push(c);
                if slow {
                    break;
                }
            }
            Err(e) => {
                side.error = Some(e);
                break;
            }
        }
    }
    side
}

pub fn run(args: SpeedArgs) -> Result<(), CliError> {
    if args.reps == 0 || args.max_ms.is_nan() || args.max_ms <= 0.0 || args.max_n < 10 {
        return Err(CliError::Usage("--reps must be at least 1, --max-ms above 0 and --max-n at least 10".into()));
    }
    let say = |m: String| {
        if !args.json {
            eprintln!("{m}");
        }
    };
    let load_before = loadavg();
    let mut tab = if args.native_only { None } else { Some(Tab::open(&args)?) };
    let browser = tab.as_ref().map(|t| t.version.clone());
    let mut rows: Vec<Row> = Vec::new();
    let kinds = chosen(&args);
    for &kind in &kinds {
        // A fresh page per kind: fresh wasm memory, and a trap in one series
        // cannot spoil the next. A tab that crashed (out of memory) takes a
        // fresh browser.
        if let Some(t) = tab.as_mut() {
            if let Err(e) = t.load() {
                say(format!("the tab does not answer ({e}); starting a new browser"));
                // The old browser goes first.
                drop(tab.take());
                let mut fresh = Tab::open(&args)?;
                fresh.load()?;
                tab = Some(fresh);
            }
        }
        if let Some(t) = tab.as_mut() {
            // Warm up: V8 compiles the module quickly first and optimises
            // what runs hot; the rows time the optimised code.
            t.call(kind, 100, 300.0).map_err(|e| fail(format!("the warm-up call in the tab failed: {e}")))?;
        }
        let _ = native_call(&scenario(kind, 100)?, 300.0)?;
        let (mut native_on, mut tab_on) = (true, tab.is_some());
        for n in sizes(args.max_n) {
            if !native_on && !tab_on {
                break;
            }
            let s = scenario(kind, n)?;
            let native = native_on.then(|| measure(args.reps, args.max_ms, || native_call(&s, MIN_MS).map_err(|e| e.to_string())));
            drop(s);
            let in_tab = match tab.as_mut().filter(|_| tab_on) {
                Some(t) => Some(measure(args.reps, args.max_ms, || t.call(kind, n, MIN_MS))),
                None => None,
            };
            let row = Row { kind, n, native, tab: in_tab };
            let show = |s: &Option<Side>| match s {
                None => "-".to_string(),
                Some(s) => s.ms().map_or_else(|| format!("failed: {}", s.error.as_deref().unwrap_or("?")), |m| format!("{m:.3} ms")),
            };
            say(format!(
                "{kind} N = {n}: {} events; native {}, tab {}",
                row.native.as_ref().or(row.tab.as_ref()).and_then(Side::events).map_or("?".into(), |e| e.to_string()),
                show(&row.native),
                show(&row.tab)
            ));
            // Over the limit, or failed.
            let over = |s: &Option<Side>| s.as_ref().is_some_and(|s| !matches!(s.ms(), Some(m) if m <= args.max_ms));
            if over(&row.native) {
                native_on = false;
            }
            if over(&row.tab) {
                tab_on = false;
            }
            rows.push(row);
        }
    }
    drop(tab);
    report::report(&args, &kinds, &rows, browser, load_before)
}

/// The kinds asked for, in [`KINDS`] order.
fn chosen(args: &SpeedArgs) -> Vec<&'static str> {
    KINDS.into_iter().filter(|k| args.kinds.is_empty() || args.kinds.iter().any(|a| a == k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_go_one_two_five() {
        assert_eq!(sizes(10), vec![10]);
        assert_eq!(sizes(1000), vec![10, 20, 50, 100, 200, 500, 1000]);
        assert_eq!(sizes(4999), vec![10, 20, 50, 100, 200, 500, 1000, 2000]);
    }

    #[test]
    fn a_native_call_counts_the_events_of_one_run() {
        let s = scenario("integral", 10).unwrap();
        let c = native_call(&s, 0.0).unwrap();
        assert_eq!(c.runs, 1);
        assert_eq!(c.events, Sim::new(&s, false).run().metrics.events);
        assert_eq!(c.master.as_deref(), Some("s001"));
    }
}
