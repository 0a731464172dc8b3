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
//! **In the tab**: `stagger serve` serves the playground embedded in the
//! `stagger` binary (on 127.0.0.1), this process starts `chromedriver` and a headless
//! Chromium through it, opens `index.html`, loads the `views` module with
//! the page's own `window.staggerLoadViews()` and calls its export
//! `stagger_speed` (`web/src/speed.rs`, the same loop, timed with
//! `performance.now()`), one WebDriver "execute script" per call. The
//! WebDriver client is the few requests this needs, over plain HTTP.
//!
//! A series stops once its median exceeds `--max-ms` on that side; the
//! largest `n` under it is the answer to "how large a group simulates in
//! under a second in the tab". Every row also compares the event counts and
//! the elected master of the two sides: the simulator is deterministic, so
//! they must be equal, and the command fails when they are not.

use super::machine::{loadavg, machine, machine_line};
use super::{fail, BenchError as CliError};
use crate::harness::Reaped;
use clap::Args;
use serde_json::{json, Value};
use stagger_core::compare::stats::median;
use stagger_core::{gen, Scenario, Sim};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    report(&args, &kinds, &rows, browser, load_before)
}

/// The kinds asked for, in [`KINDS`] order.
fn chosen(args: &SpeedArgs) -> Vec<&'static str> {
    KINDS.into_iter().filter(|k| args.kinds.is_empty() || args.kinds.iter().any(|a| a == k)).collect()
}

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

fn report(
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
            args.page.as_deref().unwrap_or("the playground built into this binary")
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

// ---------------------------------------------------------------------------
// The tab: the playground served in-process, Chromium through chromedriver.

/// `stagger serve` on 127.0.0.1, serving the playground built into the
/// `stagger` binary, until dropped.
struct Server {
    addr: SocketAddr,
    _child: Reaped,
}

impl Server {
    fn start(stagger: &Path) -> Result<Server, CliError> {
        let port = crate::harness::free_ports(1)?[0].port();
        let child = Command::new(stagger)
            .args(["serve", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(format!("cannot start {} serve: {e}", stagger.display())))?;
        let mut server = Server { addr: SocketAddr::from(([127, 0, 0, 1], port)), _child: Reaped(child) };
        let client = crate::harness::poll_client(Duration::from_secs(2));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client.get(format!("http://{}/index.html", server.addr)).send() {
                if r.status().is_success() {
                    return Ok(server);
                }
                return Err(fail(format!(
                    "{} serve answers {} for index.html: the playground is not built into it (`cargo xtask web`, then \
                     `cargo build --release -p stagger-node`); or pass --native-only",
                    stagger.display(),
                    r.status()
                )));
            }
            if let Some(status) = server._child.exited() {
                return Err(fail(format!("{} serve exited at once: {status}", stagger.display())));
            }
            if Instant::now() > deadline {
                return Err(fail(format!("{} serve did not answer on port {port} within 20 s", stagger.display())));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A chromedriver child in a process group of its own, with the Chromium it
/// starts. Dropping it kills the group and removes the profile folder.
///
/// On Ctrl-C or SIGTERM the benchmark ends without dropping it, and its
/// browser would outlive it, so a watchdog (`sh`, in a group of its own) waits for this process to end
/// however it ends and then kills the group.
struct Driver {
    pid: u32,
    child: Reaped,
    addr: SocketAddr,
    profile: PathBuf,
    watchdog: Option<Child>,
}

impl Driver {
    fn start(bin: &Path) -> Result<Driver, CliError> {
        let mut last = String::new();
        for _ in 0..3 {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            let profile = std::env::temp_dir().join(format!("stagger-bench-speed-{}-{nanos:x}", std::process::id()));
            std::fs::create_dir_all(&profile).map_err(|e| fail(format!("{}: {e}", profile.display())))?;
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| fail(format!("cannot bind 127.0.0.1:0: {e}")))?
                .port();
            let mut cmd = Command::new(bin);
            cmd.arg(format!("--port={port}")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let child = cmd
                .spawn()
                .map_err(|e| fail(format!("cannot start {}: {e} (`cargo xtask setup` installs chromium-driver)", bin.display())))?;
            let pid = child.id();
            let watchdog = watchdog(pid, &profile);
            let mut driver = Driver { pid, child: Reaped(child), addr: SocketAddr::from(([127, 0, 0, 1], port)), profile, watchdog };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok((200, v)) = http(driver.addr, "GET", "/status", None, Duration::from_secs(2)) {
                    if v["value"]["ready"] == json!(true) {
                        return Ok(driver);
                    }
                }
                if driver.child.exited().is_some() {
                    last = format!("{} exited at once on port {port}", bin.display());
                    break;
                }
                if Instant::now() > deadline {
                    last = format!("{} did not answer on port {port} within 20 s", bin.display());
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(driver);
        }
        Err(fail(last))
    }
}

/// Kills process group `group` and removes `profile` once this process has
/// ended, checking every second.
#[cfg(unix)]
fn watchdog(group: u32, profile: &Path) -> Option<Child> {
    let me = std::process::id();
    let script = format!("while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -9 -{group} 2>/dev/null; sleep 1; rm -rf -- \"$1\"");
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).arg("stagger-bench-speed-watchdog").arg(profile);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn().ok()
}

#[cfg(not(unix))]
fn watchdog(_group: u32, _profile: &Path) -> Option<Child> {
    None
}

impl Drop for Driver {
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.pid)]).stderr(Stdio::null()).status();
        if let Some(w) = self.watchdog.take() {
            drop(Reaped(w));
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One WebDriver session: the browser with the playground's views module
/// loaded.
struct Tab {
    // Field order is drop order: chromedriver, then the server (the session
    // ends first, in `drop`).
    session: String,
    driver: Driver,
    /// The embedded playground, unless `--page` names another; held for its
    /// `Drop`.
    _server: Option<Server>,
    page: String,
    version: String,
}

impl Tab {
    fn open(args: &SpeedArgs) -> Result<Tab, CliError> {
        if !args.chromium.exists() {
            return Err(fail(format!(
                "{} is missing: `cargo xtask setup` installs Debian's chromium and chromium-driver; or pass --native-only",
                args.chromium.display()
            )));
        }
        let bin = match &args.chromedriver {
            Some(p) => p.clone(),
            None => CHROMEDRIVERS.iter().map(PathBuf::from).find(|p| p.exists()).ok_or_else(|| {
                fail("chromedriver is missing: `cargo xtask setup` installs Debian's chromium-driver; or pass --native-only")
            })?,
        };
        let server = if args.page.is_some() { None } else { Some(Server::start(&args.stagger)?) };
        let page = match (&args.page, &server) {
            (Some(p), _) => p.clone(),
            (None, Some(s)) => format!("http://{}/index.html", s.addr),
            (None, None) => unreachable!("a server without --page"),
        };
        let driver = Driver::start(&bin)?;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": args.chromium.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--no-first-run",
                    format!("--user-data-dir={}", driver.profile.display()),
                ],
            },
        }}});
        let v = wd(driver.addr, "POST", "/session", Some(caps), Duration::from_secs(60))?;
        let session = v["sessionId"].as_str().ok_or_else(|| fail(format!("chromedriver gave no session: {v}")))?.to_string();
        let version = format!(
            "{} {}",
            v["capabilities"]["browserName"].as_str().unwrap_or("chrome"),
            v["capabilities"]["browserVersion"].as_str().unwrap_or("?")
        );
        let tab = Tab { session, driver, _server: server, page, version };
        // A long storm blocks the page; let a script run for up to 10 min.
        tab.cmd("POST", "timeouts", json!({"script": 600_000, "pageLoad": 60_000}))?;
        Ok(tab)
    }

    fn cmd(&self, method: &str, what: &str, body: Value) -> Result<Value, CliError> {
        let body = (method == "POST").then_some(body);
        wd(self.driver.addr, method, &format!("/session/{}/{what}", self.session), body, Duration::from_secs(660))
    }

    /// Opens `index.html` afresh and loads the views module.
    fn load(&mut self) -> Result<(), CliError> {
        self.cmd("POST", "url", json!({ "url": self.page }))?;
        let got = self.cmd(
            "POST",
            "execute/async",
            json!({"script": r#"
                const done = arguments[arguments.length - 1];
                window.staggerLoadViews()
                  .then((m) => { window.staggerSpeedViews = m; done(typeof m.stagger_speed); })
                  .catch((e) => done("error: " + e));
            "#, "args": []}),
        )?;
        if got != json!("function") {
            return Err(fail(format!(
                "the views module has no stagger_speed export ({got}): rebuild the playground with `cargo xtask web`, then this binary"
            )));
        }
        Ok(())
    }

    /// One call of `stagger_speed` in the page.
    fn call(&mut self, kind: &str, n: u32, min_ms: f64) -> Result<Call, String> {
        let v = self
            .cmd(
                "POST",
                "execute/sync",
                json!({"script": r#"
                    try { return { ok: window.staggerSpeedViews.stagger_speed(arguments[0], arguments[1], arguments[2]) }; }
                    catch (e) { return { err: String(e) }; }
                "#, "args": [kind, n, min_ms]}),
            )
            .map_err(|e| e.to_string())?;
        if let Some(e) = v["err"].as_str() {
            return Err(e.to_string());
        }
        let text = v["ok"].as_str().ok_or_else(|| format!("stagger_speed answered {v}"))?;
        let parsed: Value = serde_json::from_str(text).map_err(|e| format!("stagger_speed answered {text}: {e}"))?;
        Call::from_json(&parsed).ok_or_else(|| format!("stagger_speed answered {text}"))
    }
}

impl Drop for Tab {
    /// Ends the session (Chromium quits); then the fields go: chromedriver,
    /// the server.
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = http(self.driver.addr, "DELETE", &path, None, Duration::from_secs(20));
    }
}

/// A WebDriver command; its `value`, or an error naming what went wrong.
fn wd(addr: SocketAddr, method: &str, path: &str, body: Option<Value>, timeout: Duration) -> Result<Value, CliError> {
    let (status, v) = http(addr, method, path, body, timeout).map_err(|e| fail(format!("chromedriver {method} {path}: {e}")))?;
    if status != 200 {
        let err = &v["value"];
        return Err(fail(format!(
            "chromedriver {method} {path}: {status} {}: {}",
            err["error"].as_str().unwrap_or("?"),
            err["message"].as_str().unwrap_or_default().lines().next().unwrap_or_default()
        )));
    }
    Ok(v["value"].clone())
}

/// One HTTP/1.1 request on a fresh connection; the status and the JSON body.
/// chromedriver keeps the connection open whatever the request says, so the
/// body ends where its `Content-Length` (or the last chunk) says.
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<Value>, timeout: Duration) -> Result<(u16, Value), String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let _ = s.set_nodelay(true);
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes())).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    // Reads more; false at the end of the stream.
    let mut more = |buf: &mut Vec<u8>| -> Result<bool, String> {
        let k = s.read(&mut chunk).map_err(|e| e.to_string())?;
        buf.extend_from_slice(&chunk[..k]);
        Ok(k > 0)
    };
    let split = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if !more(&mut buf)? {
            return Err("the connection closed before the end of the response head".into());
        }
    };
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse::<u16>().ok()).ok_or_else(|| format!("bad status line: {head}"))?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_ascii_lowercase())
        })
    };
    let start = split + 4;
    let body = if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while buf.len() < start + len {
            if !more(&mut buf)? {
                return Err("the connection closed inside the body".into());
            }
        }
        buf[start..start + len].to_vec()
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            if let Some(b) = dechunk(&buf[start..]) {
                break b;
            }
            if !more(&mut buf)? {
                return Err("the connection closed inside a chunked body".into());
            }
        }
    } else {
        while more(&mut buf)? {}
        buf[start..].to_vec()
    };
    let v = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&body)))?
    };
    Ok((status, v))
}

/// A complete chunked body, joined; `None` until the last chunk is in.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
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
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_deref(), Some(&b"abcde"[..]));
        assert_eq!(dechunk(b"3\r\nab"), None);
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
