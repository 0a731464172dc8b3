//! `stagger-bench predict`: how well `stagger ctl predict` (the digital
//! twin) forecasts a real failover, and what measuring the delays costs
//! (`docs/benchmarks.md`, "Prediction accuracy", has the numbers).
//!
//! The demo's five cities (the patent's scenario, `static/scenarios/
//! patent-5.json`) run as live `stagger node` processes on 127.0.0.1 with
//! the patent's matrix as emulated WAN delays. Before each kill, once the
//! group is healthy, `stagger ctl predict` asks a Backup for the forecast
//! (winner, failover time, which matrix); the master is SIGKILLed as soon
//! as the command returns, and the harness's one kill loop
//! ([`crate::harness::kills`]) times the real failover and restarts the
//! killed member.
//!
//! **Every other kill has no forecast.** The restarted member rejoins as a
//! Backup, so after ottawa's kill atlanta is master with ottawa live and
//! ranked above it; the twin refuses such a group (protocol P2: it starts
//! from a converged group, whose master is the best live rank). The next
//! kill, of atlanta, gives the mastership back to ottawa; its failover is
//! timed and its refusal noted. When a kill of atlanta makes another
//! member master, one more kill is needed; the loop stops once `--kills`
//! forecasts were made (at most 4 kills per forecast).
//!
//! **Aligning the crash instants.** The twin crashes its master at "now",
//! the CLI's clock when it builds the forecast (protocol P4), somewhere
//! between the start of `ctl predict` and its return; the real kill
//! follows the return. Each round records how long `ctl predict` ran and
//! the gap from its return to the SIGKILL, so the kill lands between
//! `gap` and `gap + predict` after the twin's crash instant.
//!
//! **The cost of measuring** is read from the members themselves: their
//! `/api/delays` counters (probes sent and answered, round trips by
//! source) and their CPU time (utime + stime from `/proc/PID/stat`), per
//! member per detection period, once over a quiet window before the kills
//! (nothing polls the members then) and once over the whole run (which
//! includes the failovers and the harness's status polling).

use super::docs::publish;
use super::machine::{clock_ticks, cpu_ticks, loadavg, machine, machine_line};
use super::{fail, judged, r3, seed, summary, BenchError};
use crate::harness::cluster::{healthy, Cluster, Poller};
use crate::harness::group::{describe, StaggerGroup};
use crate::harness::kills::{kill_loop_with, ms_since, KillPlan, FAST, SLOW};
use crate::harness::{get_text, poll_client};
use clap::Args;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The demo's five cities.
const PATENT_5: &str = include_str!("../../../static/scenarios/patent-5.json");

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// How many kills with a forecast; each is followed by one or more
    /// that return the mastership to the best rank (the twin refuses a
    /// group whose master is not its best live rank), at most 4 kills per
    /// forecast in all.
    #[arg(long, default_value_t = 30)]
    pub kills: u32,
    /// Detection periods of the quiet window before the kills, over which
    /// the cost of measuring is read with nothing else talking to the
    /// members (it also fills their measurement windows).
    #[arg(long, default_value_t = 16)]
    pub quiet_periods: u32,
    /// Set the timer's guard_ms (the demo's is 500 ms, about P, against
    /// the detection skew of a WAN); by default the scenario's, none.
    #[arg(long, value_name = "MS")]
    pub guard_ms: Option<f64>,
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Also write the tables into this Markdown file, between the markers
    /// `<!-- BEGIN generated: predict -->` (`predict-guard-MS` with
    /// --guard-ms) and its END.
    #[arg(long, value_name = "FILE")]
    pub docs: Option<PathBuf>,
}

impl PredictArgs {
    pub fn check(&self) -> Result<(), BenchError> {
        if self.kills == 0 {
            return Err(BenchError::Usage("--kills must be at least 1".into()));
        }
        if self.guard_ms.is_some_and(|g| !(0.0..=60_000.0).contains(&g)) {
            return Err(BenchError::Usage("--guard-ms must be between 0 and 60000".into()));
        }
        if !(1..=1000).contains(&self.quiet_periods) {
            return Err(BenchError::Usage("--quiet-periods must be between 1 and 1000".into()));
        }
        Ok(())
    }

    /// The generated section of docs/benchmarks.md this run writes.
    fn section(&self) -> String {
        self.guard_ms.map_or("predict".into(), |g| format!("predict-guard-{g}"))
    }

    fn command(&self) -> String {
        let mut c = format!("stagger-bench predict --kills {} --quiet-periods {}", self.kills, self.quiet_periods);
        if let Some(g) = self.guard_ms {
            c += &format!(" --guard-ms {g}");
        }
        c
    }
}

/// What `stagger ctl predict` said before one kill, and when.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Forecast {
    /// The member asked.
    pub asked: String,
    pub winner: Option<String>,
    pub failover_ms: Option<f64>,
    /// `"measured"` or `"configured"`.
    pub matrix: Option<String>,
    /// Why there is no forecast.
    pub error: Option<String>,
    /// How long `ctl predict` ran, in ms.
    pub took_ms: f64,
    /// When the twin's master crashed, in the scenario's time (congruent
    /// to the CLI's "now" modulo the period, P4), and when the twin's
    /// survivors detected it, in ms after the crash.
    pub crash_at_ms: Option<f64>,
    pub detected_ms: Option<f64>,
}

impl Forecast {
    /// A forecast from `ctl predict`'s JSON output.
    pub fn parse(asked: &str, stdout: &str, took_ms: f64) -> Forecast {
        let mut f = Forecast { asked: asked.to_string(), took_ms, ..Forecast::default() };
        match serde_json::from_str::<Value>(stdout.trim()) {
            Ok(v) => {
                f.winner = v["winner"].as_str().map(str::to_string);
                f.failover_ms = v["failover_ms"].as_f64();
                f.matrix = v["matrix"].as_str().map(str::to_string);
                f.crash_at_ms = v["crash_at_ms"].as_f64();
                f.detected_ms = v["detected_ms"].as_f64();
            }
            Err(e) => f.error = Some(format!("ctl predict printed no JSON ({e}): {}", stdout.trim())),
        }
        f
    }
}

/// One kill: the forecast beside what happened.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Round {
    pub killed: String,
    pub forecast: Forecast,
    /// The member the survivors agreed on, and from the kill until the
    /// last of them was seen naming it.
    pub winner: Option<String>,
    pub measured_ms: Option<f64>,
    /// From the return of `ctl predict` to the SIGKILL.
    pub gap_ms: f64,
    /// The wall clock (ms since the Unix epoch) when `ctl predict`
    /// returned, the SIGKILL following within `gap_ms`: the nodes' time
    /// base (L1), so modulo P it is the kill's phase on their grid.
    pub killed_at_unix_ms: f64,
    /// The detection period, to show both crash instants' phases.
    pub period_ms: Option<f64>,
    pub rejoin_ms: Option<f64>,
}

impl Round {
    /// Whether the forecast named the real winner (`None`: one is missing).
    pub fn winner_right(&self) -> Option<bool> {
        Some(self.forecast.winner.as_ref()? == self.winner.as_ref()?)
    }

    /// predicted − measured failover, in ms.
    pub fn error_ms(&self) -> Option<f64> {
        Some(self.forecast.failover_ms? - self.measured_ms?)
    }

    fn json(&self) -> Value {
        json!({
            "killed": self.killed, "asked": self.forecast.asked,
            "predicted_winner": self.forecast.winner, "winner": self.winner,
            "winner_right": self.winner_right(),
            "predicted_ms": self.forecast.failover_ms.map(r3), "measured_ms": self.measured_ms.map(r3),
            "error_ms": self.error_ms().map(r3), "matrix": self.forecast.matrix,
            "predict_took_ms": r3(self.forecast.took_ms), "gap_ms": r3(self.gap_ms),
            "predict_error": self.forecast.error, "rejoin_ms": self.rejoin_ms.map(r3),
            "predicted_detected_ms": self.forecast.detected_ms.map(r3),
            "twin_crash_at_ms": self.forecast.crash_at_ms.map(r3),
            "killed_at_unix_ms": r3(self.killed_at_unix_ms),
            "kill_phase_ms": self.period_ms.map(|p| r3(self.killed_at_unix_ms.rem_euclid(p))),
            "twin_phase_ms": self.period_ms.zip(self.forecast.crash_at_ms).map(|(p, c)| r3(c.rem_euclid(p))),
        })
    }
}

/// How the forecasts compare with the kills: counts and summaries.
pub(super) fn accuracy(rounds: &[Round]) -> Value {
    let pick = |f: &dyn Fn(&Round) -> Option<f64>| rounds.iter().filter_map(f).collect::<Vec<f64>>();
    let matrices = rounds.iter().filter_map(|r| r.forecast.matrix.clone()).fold(BTreeMap::<String, usize>::new(), |mut m, k| {
        *m.entry(k).or_default() += 1;
        m
    });
    json!({
        "kills": rounds.len(),
        "forecasts": rounds.iter().filter(|r| r.forecast.error.is_none()).count(),
        "refused": rounds.iter().find_map(|r| r.forecast.error.clone()),
        "forecast_winner": rounds.iter().filter(|r| r.forecast.winner.is_some()).count(),
        "elected": rounds.iter().filter(|r| r.winner.is_some()).count(),
        "winner_right": rounds.iter().filter(|r| r.winner_right() == Some(true)).count(),
        "winner_wrong": rounds.iter().filter(|r| r.winner_right() == Some(false)).count(),
        "matrix": matrices,
        "predicted_ms": summary(&pick(&|r| r.forecast.failover_ms)),
        "measured_ms": summary(&pick(&|r| r.measured_ms.filter(|_| r.forecast.error.is_none()))),
        "measured_all_ms": summary(&pick(&|r| r.measured_ms)),
        "error_ms": summary(&pick(&|r| r.error_ms())),
        "abs_error_ms": summary(&pick(&|r| r.error_ms().map(f64::abs))),
        "predict_took_ms": summary(&pick(&|r| Some(r.forecast.took_ms))),
        "gap_ms": summary(&pick(&|r| Some(r.gap_ms))),
    })
}

/// One reading of a member process: its `/api/delays` counters and CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Sample {
    pub pid: u32,
    /// The member's `uptime_ms` (its own clock since it started).
    pub uptime_ms: f64,
    /// utime + stime, in clock ticks.
    pub ticks: u64,
    pub probes_sent: u64,
    pub probes_answered: u64,
    pub inquiry_round_trips: u64,
    pub probe_round_trips: u64,
}

impl Sample {
    /// From a `/api/delays` answer and the process's CPU ticks.
    pub fn of(pid: u32, delays: &Value, ticks: u64) -> Option<Sample> {
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        Some(Sample {
            pid,
            uptime_ms: delays["uptime_ms"].as_f64()?,
            ticks,
            probes_sent: n(&delays["probes_sent"]),
            probes_answered: n(&delays["probes_answered"]),
            inquiry_round_trips: n(&delays["round_trips"]["inquiry"]),
            probe_round_trips: n(&delays["round_trips"]["probe"]),
        })
    }
}

/// The cost of measuring, from readings of member processes: for each
/// process (a restarted member is a new one) its first and last reading.
#[derive(Default)]
pub(super) struct Cost {
    lives: BTreeMap<u32, (Sample, Sample)>,
}

impl Cost {
    pub fn note(&mut self, s: Sample) {
        self.lives.entry(s.pid).and_modify(|(_, last)| *last = s).or_insert((s, s));
    }

    /// Per member per detection period of `period_ms`: probes sent and
    /// answered, round trips by source, CPU time (ms and % of one core) at
    /// `hz` clock ticks per second.
    pub fn per_period(&self, period_ms: f64, hz: f64) -> Value {
        let mut ms = 0.0;
        let (mut sent, mut answered, mut inquiry, mut probe, mut ticks) = (0, 0, 0, 0, 0);
        for (a, b) in self.lives.values() {
            ms += (b.uptime_ms - a.uptime_ms).max(0.0);
            sent += b.probes_sent.saturating_sub(a.probes_sent);
            answered += b.probes_answered.saturating_sub(a.probes_answered);
            inquiry += b.inquiry_round_trips.saturating_sub(a.inquiry_round_trips);
            probe += b.probe_round_trips.saturating_sub(a.probe_round_trips);
            ticks += b.ticks.saturating_sub(a.ticks);
        }
        let periods = ms / period_ms;
        if periods <= 0.0 {
            return json!({"member_periods": 0});
        }
        let per = |x: u64| r3(x as f64 / periods);
        let cpu_ms = ticks as f64 / hz * 1000.0;
        json!({
            "processes": self.lives.len(), "member_periods": r3(periods),
            "probes_sent": per(sent), "probes_answered": per(answered),
            "inquiry_round_trips": per(inquiry), "probe_round_trips": per(probe),
            "cpu_ms": r3(cpu_ms / periods), "cpu_percent": r3(cpu_ms / ms * 100.0),
        })
    }
}

/// Reads every running member once.
fn sample_all(c: &StaggerGroup, client: &reqwest::blocking::Client) -> Vec<Sample> {
    c.pids()
        .into_iter()
        .zip(c.addrs())
        .filter_map(|(pid, addr)| {
            let pid = pid?;
            let delays: Value = serde_json::from_str(&get_text(client, *addr, "/api/delays")?).ok()?;
            Sample::of(pid, &delays, cpu_ticks(pid)?)
        })
        .collect()
}

/// `stagger ctl --node URL predict`, timed.
fn forecast(stagger: &Path, asked: &str, addr: std::net::SocketAddr) -> Forecast {
    let start = Instant::now();
    let out = Command::new(stagger)
        .args(["ctl", "--node", &format!("http://{addr}"), "predict"])
        .env_remove("STAGGER_ADMIN_TOKEN")
        .stdin(Stdio::null())
        .output();
    let took_ms = ms_since(Instant::now(), start);
    match out {
        Err(e) => Forecast {
            asked: asked.into(),
            error: Some(format!("cannot run {} ctl: {e}", stagger.display())),
            took_ms,
            ..Forecast::default()
        },
        Ok(o) if !o.status.success() => Forecast {
            asked: asked.into(),
            error: Some(format!("ctl predict failed ({}): {}", o.status, String::from_utf8_lossy(&o.stderr).trim())),
            took_ms,
            ..Forecast::default()
        },
        Ok(o) => Forecast::parse(asked, &String::from_utf8_lossy(&o.stdout), took_ms),
    }
}

pub(super) fn run(stagger: &Path, args: PredictArgs) -> Result<(), BenchError> {
    args.check()?;
    let say = |s: String| {
        if !args.json {
            eprintln!("{s}");
        }
    };
    let mut scenario: Value = serde_json::from_str(PATENT_5).map_err(|e| fail(format!("patent-5.json: {e}")))?;
    if let Some(g) = args.guard_ms {
        scenario["timer"]["guard_ms"] = json!(g);
    }
    let period_ms = scenario["detection"]["period_ms"].as_f64().unwrap_or(500.0);
    let load_before = loadavg();
    let hz = clock_ticks();
    let mut c = StaggerGroup::from_scenario(stagger, scenario.clone(), true)?;
    let ids = c.ids().to_vec();
    c.start_all()?;
    let p = Poller::each(&c, SLOW, Duration::from_millis(500));
    let Some(first) = healthy(&mut c, &p, Duration::from_secs(30))? else {
        return Err(fail(format!("the five cities did not form within 30 s: {}", describe(&p.snapshot(), &ids))));
    };
    drop(p);
    say(format!("the five cities formed; master {}; quiet for {} periods ...", ids[first], args.quiet_periods));
    let client = poll_client(Duration::from_secs(2));
    let mut quiet = Cost::default();
    sample_all(&c, &client).into_iter().for_each(|s| quiet.note(s));
    std::thread::sleep(Duration::from_secs_f64(args.quiet_periods as f64 * period_ms / 1000.0));
    sample_all(&c, &client).into_iter().for_each(|s| quiet.note(s));
    c.check_alive()?;

    let p = Poller::each(&c, SLOW, Duration::from_millis(500));
    let plan = KillPlan {
        kills: 4 * args.kills,
        period: Duration::from_secs_f64(period_ms / 1000.0),
        healthy_within: Duration::from_secs(30),
        agree_within: Duration::from_secs(10),
    };
    let mut rng = stagger_core::Rng::new(seed());
    let over_run = RefCell::new(Cost::default());
    let forecasts = RefCell::new(Vec::<(Forecast, Instant, f64)>::new());
    let log = kill_loop_with(
        &mut c,
        &p,
        &plan,
        &mut rng,
        |_, leader, c| {
            if forecasts.borrow().iter().filter(|(f, _, _)| f.error.is_none()).count() >= args.kills as usize {
                return false;
            }
            sample_all(c, &client).into_iter().for_each(|s| over_run.borrow_mut().note(s));
            // The first Backup after the master in the file's order.
            let asked = (leader + 1) % c.len();
            let f = forecast(stagger, &c.ids()[asked], c.addrs()[asked]);
            let unix_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1000.0;
            forecasts.borrow_mut().push((f, Instant::now(), unix_ms));
            true
        },
        |k, r| {
            let fs = forecasts.borrow();
            let Some((f, _, _)) = fs.get(k as usize) else { return };
            let name = |w: Option<&String>| w.cloned().unwrap_or_else(|| "nobody".into());
            say(format!(
                "kill {:>3}/{}: {} -> predicted {} in {}, real {} in {}",
                k + 1,
                4 * args.kills,
                ids[r.killed],
                name(f.winner.as_ref()),
                f.failover_ms.map_or_else(|| f.error.clone().unwrap_or_else(|| "-".into()), |m| format!("{m:.1} ms")),
                name(r.winner.map(|w| &ids[w])),
                r.ms.map_or("(no agreement within 10 s)".to_string(), |m| format!("{m:.1} ms")),
            ));
        },
    )?;
    sample_all(&c, &client).into_iter().for_each(|s| over_run.borrow_mut().note(s));
    drop(p);
    drop(c);
    let forecasts = forecasts.into_inner();
    let rounds: Vec<Round> = log
        .kills
        .iter()
        .zip(&forecasts)
        .map(|(k, (f, returned, unix_ms))| Round {
            killed: ids[k.killed].clone(),
            forecast: f.clone(),
            winner: k.winner.map(|w| ids[w].clone()),
            measured_ms: k.ms,
            gap_ms: ms_since(k.at, *returned),
            killed_at_unix_ms: *unix_ms,
            period_ms: Some(period_ms),
            rejoin_ms: k.rejoin_ms,
        })
        .collect();
    let out = json!({
        "bench": "predict",
        "command": args.command(),
        "scenario": "patent-5",
        "members": ids,
        "period_ms": period_ms,
        "timeout_ms": scenario["detection"]["timeout_ms"],
        "timer": scenario["timer"],
        "delays_ms": scenario["delays_ms"],
        "status_poll_interval_ms": FAST.as_secs_f64() * 1000.0,
        "accuracy": accuracy(&rounds),
        "cost_quiet": quiet.per_period(period_ms, hz),
        "cost_quiet_periods": args.quiet_periods,
        "cost_over_run": over_run.into_inner().per_period(period_ms, hz),
        "clock_ticks_per_s": hz,
        "runs": rounds.iter().map(Round::json).collect::<Vec<_>>(),
        "machine": machine(),
        "machine_line": machine_line(load_before),
        "load_average_before": load_before,
        "load_average_after": loadavg(),
        "aborted": log.aborted,
    });
    let text = markdown(&out);
    publish(&out, &text, args.json, args.docs.as_deref(), &args.section())?;
    let mut problems = Vec::new();
    if let Some(a) = &log.aborted {
        problems.push(format!("aborted: {a}"));
    }
    let a = &out["accuracy"];
    let elected = a["elected"].as_u64().unwrap_or(0) as usize;
    if elected < rounds.len() {
        problems.push(format!("the survivors did not agree within 10 s after {} of {} kills", rounds.len() - elected, rounds.len()));
    }
    if a["forecasts"] == 0 {
        problems.push(format!("no forecast: {}", a["refused"].as_str().unwrap_or("-")));
    }
    judged(problems)
}

/// The report as Markdown: the command, the set-up, the machine and its
/// load, the accuracy table and the cost table.
pub(super) fn markdown(out: &Value) -> String {
    let a = &out["accuracy"];
    let mut s = format!("`{}`\n\n", out["command"].as_str().unwrap_or("stagger-bench predict"));
    s += &format!(
        "The demo's five cities ({}) as live members on 127.0.0.1, the patent's matrix as emulated WAN delays; \
         P = {} ms, τ = {} ms, {} timer T1 = {} ms, guard {} ms; status polled every {} ms per member while a failover is timed. {}.\n\n",
        out["members"].as_array().map_or(String::new(), |m| m.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")),
        out["period_ms"],
        out["timeout_ms"],
        out["timer"]["scheme"].as_str().unwrap_or("integral"),
        out["timer"]["base_ms"],
        out["timer"]["guard_ms"].as_f64().unwrap_or(0.0),
        out["status_poll_interval_ms"],
        out["machine_line"].as_str().unwrap_or("machine: unknown"),
    );
    let matrix = a["matrix"]
        .as_object()
        .map_or(String::new(), |m| m.iter().map(|(k, v)| format!("{v} on the {k} matrix")).collect::<Vec<_>>().join(", "));
    let refused = a["refused"].as_str().map_or(String::new(), |r| format!(" (the others refused: {r})"));
    s += &format!(
        "Of {} kills: {} with a forecast ({matrix}){refused}; the survivors agreed in {}; **the predicted winner was the \
         real one in {} of {}** (wrong in {}).\n\n",
        a["kills"],
        a["forecasts"],
        a["elected"],
        a["winner_right"],
        a["winner_right"].as_u64().unwrap_or(0) + a["winner_wrong"].as_u64().unwrap_or(0),
        a["winner_wrong"],
    );
    s += "| per kill | kills | median | p90 | p99 | max | min | mean |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (label, key) in [
        ("predicted failover (the twin)", "predicted_ms"),
        ("measured failover, the same kills (until every survivor names the winner)", "measured_ms"),
        ("measured failover, every kill", "measured_all_ms"),
        ("**\\|predicted − measured\\|**", "abs_error_ms"),
        ("predicted − measured", "error_ms"),
        ("`ctl predict` ran (the twin's \"now\" falls in it)", "predict_took_ms"),
        ("from its return to the SIGKILL", "gap_ms"),
    ] {
        let v = &a[key];
        let f = |k: &str| v[k].as_f64().map_or("-".to_string(), |x| format!("{x:.1} ms"));
        s += &format!(
            "| {label} | {} | **{}** | {} | **{}** | {} | {} | {} |\n",
            v["count"],
            f("median"),
            f("p90"),
            f("p99"),
            f("max"),
            f("min"),
            f("mean")
        );
    }
    s += "\nThe cost of measuring, per member per detection period (probes are the only messages measuring adds; \
          inquiry round trips are timed on the detection's own traffic):\n\n\
          | window | member-periods | probes sent | probes answered | round trips from inquiries | from probes | CPU per period | CPU |\n\
          |---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (label, key) in [
        (format!("quiet, {} periods, nobody polling", out["cost_quiet_periods"]), "cost_quiet"),
        ("over the kills (failovers, restarts, status polling)".to_string(), "cost_over_run"),
    ] {
        let v = &out[key];
        let f = |k: &str| v[k].as_f64().map_or("-".to_string(), |x| format!("{x:.2}"));
        s += &format!(
            "| {label} | {} | {} | {} | {} | {} | {} ms | {} % |\n",
            f("member_periods"),
            f("probes_sent"),
            f("probes_answered"),
            f("inquiry_round_trips"),
            f("probe_round_trips"),
            f("cpu_ms"),
            f("cpu_percent"),
        );
    }
    s += "\nNearest-rank percentiles. CPU is utime + stime of the `stagger node` processes (everything a member does, \
          not only measuring).\n";
    if let Some(x) = out["aborted"].as_str() {
        s += &format!("\nABORTED: {x}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(predicted: Option<(&str, f64)>, real: Option<(&str, f64)>) -> Round {
        Round {
            killed: "ottawa".into(),
            forecast: Forecast {
                asked: "atlanta".into(),
                winner: predicted.map(|p| p.0.to_string()),
                failover_ms: predicted.map(|p| p.1),
                matrix: Some("measured".into()),
                error: None,
                took_ms: 40.0,
                crash_at_ms: Some(10_250.0),
                detected_ms: Some(650.0),
            },
            winner: real.map(|r| r.0.to_string()),
            measured_ms: real.map(|r| r.1),
            gap_ms: 0.5,
            killed_at_unix_ms: 1_000_250.0,
            period_ms: Some(500.0),
            rejoin_ms: Some(900.0),
        }
    }

    #[test]
    fn a_forecast_is_read_from_ctl_predicts_json() {
        let f = Forecast::parse("atlanta", "{\"winner\":\"atlanta\",\"failover_ms\":612.5,\"matrix\":\"measured\"}\n", 31.0);
        assert_eq!((f.winner.as_deref(), f.failover_ms, f.matrix.as_deref()), (Some("atlanta"), Some(612.5), Some("measured")));
        assert_eq!((f.error, f.took_ms), (None, 31.0));
        let f = Forecast::parse("atlanta", "{\"winner\":null,\"failover_ms\":null,\"matrix\":\"configured\"}", 1.0);
        assert_eq!((f.winner, f.failover_ms), (None, None));
        let f = Forecast::parse("atlanta", "oops", 1.0);
        assert!(f.error.unwrap().contains("printed no JSON"));
    }

    #[test]
    fn accuracy_counts_right_winners_and_summarizes_the_absolute_error() {
        let rounds = vec![
            round(Some(("atlanta", 600.0)), Some(("atlanta", 610.0))),
            round(Some(("atlanta", 600.0)), Some(("atlanta", 580.0))),
            round(Some(("atlanta", 600.0)), Some(("bangalore", 700.0))),
            round(None, Some(("atlanta", 650.0))),
        ];
        assert_eq!(rounds[0].error_ms(), Some(-10.0));
        assert_eq!(rounds[3].winner_right(), None);
        let a = accuracy(&rounds);
        assert_eq!((a["kills"].as_u64(), a["winner_right"].as_u64(), a["winner_wrong"].as_u64()), (Some(4), Some(2), Some(1)));
        assert_eq!(a["elected"], 4);
        assert_eq!(a["forecast_winner"], 3);
        assert_eq!(a["matrix"]["measured"], 4);
        assert_eq!(a["abs_error_ms"]["count"], 3);
        assert_eq!(a["abs_error_ms"]["median"], 20.0);
        assert_eq!(a["abs_error_ms"]["max"], 100.0);
        assert_eq!(a["error_ms"]["min"], -100.0);
        assert_eq!(a["gap_ms"]["median"], 0.5);
        let j = rounds[0].json();
        assert_eq!((j["kill_phase_ms"].as_f64(), j["twin_phase_ms"].as_f64()), (Some(250.0), Some(250.0)));
    }

    #[test]
    fn the_cost_counts_each_process_from_its_first_to_its_last_reading() {
        let s = |pid, uptime_ms, ticks, sent| Sample {
            pid,
            uptime_ms,
            ticks,
            probes_sent: sent,
            probes_answered: sent,
            inquiry_round_trips: sent / 2,
            probe_round_trips: sent,
        };
        let mut c = Cost::default();
        assert_eq!(c.per_period(500.0, 100.0)["member_periods"], 0);
        // Two processes of 5 s (10 periods) each; the middle reading of the
        // first does not count twice. A restart is a new pid, from 0.
        for x in [s(7, 1000.0, 10, 4), s(7, 3000.0, 12, 8), s(7, 6000.0, 20, 24), s(9, 0.0, 0, 0), s(9, 5000.0, 10, 20)] {
            c.note(x);
        }
        let v = c.per_period(500.0, 100.0);
        assert_eq!(v["processes"], 2);
        assert_eq!(v["member_periods"], 20.0);
        assert_eq!(v["probes_sent"], 2.0);
        assert_eq!(v["inquiry_round_trips"], 1.0);
        // 20 ticks at 100/s = 200 ms of CPU in 10 s: 10 ms per period, 2 %.
        assert_eq!(v["cpu_ms"], 10.0);
        assert_eq!(v["cpu_percent"], 2.0);
        let d = json!({"uptime_ms": 1500.0, "probes_sent": 3, "probes_answered": 2, "round_trips": {"inquiry": 5, "probe": 1}});
        assert_eq!(
            Sample::of(3, &d, 4),
            Some(Sample {
                pid: 3,
                uptime_ms: 1500.0,
                ticks: 4,
                probes_sent: 3,
                probes_answered: 2,
                inquiry_round_trips: 5,
                probe_round_trips: 1
            })
        );
        assert_eq!(Sample::of(3, &json!({}), 4), None);
    }

    #[test]
    fn arguments_that_make_no_sense_are_the_users_error() {
        let ok = PredictArgs { kills: 3, quiet_periods: 16, guard_ms: None, json: false, docs: None };
        assert!(ok.check().is_ok());
        assert_eq!(ok.command(), "stagger-bench predict --kills 3 --quiet-periods 16");
        let demo = PredictArgs { guard_ms: Some(500.0), docs: None, ..ok };
        assert_eq!(demo.command(), "stagger-bench predict --kills 3 --quiet-periods 16 --guard-ms 500");
        assert_eq!((ok.section(), demo.section()), ("predict".to_string(), "predict-guard-500".to_string()));
        for (a, want) in [
            (PredictArgs { kills: 0, docs: None, ..ok }, "--kills must be at least 1"),
            (PredictArgs { quiet_periods: 0, docs: None, ..ok }, "--quiet-periods must be between 1 and 1000"),
            (PredictArgs { guard_ms: Some(-1.0), docs: None, ..ok }, "--guard-ms must be between 0 and 60000"),
        ] {
            let e = a.check().unwrap_err();
            assert!(matches!(e, BenchError::Usage(_)) && e.to_string().contains(want), "{e}");
        }
    }

    #[test]
    fn the_markdown_report_states_the_setup_the_winners_and_the_cost() {
        let rounds =
            vec![round(Some(("atlanta", 600.0)), Some(("atlanta", 610.0))), round(Some(("atlanta", 600.0)), Some(("bangalore", 700.0)))];
        let out = json!({
            "command": "stagger-bench predict --kills 2 --quiet-periods 16",
            "members": ["ottawa", "atlanta"], "period_ms": 500.0, "timeout_ms": 400.0,
            "timer": {"scheme": "integral", "base_ms": 50}, "status_poll_interval_ms": 2.0,
            "machine_line": "machine: 2 cores (cpu), load average 1.00 1.00 1.00 before, 1.00 1.00 1.00 after",
            "accuracy": accuracy(&rounds),
            "cost_quiet": {"member_periods": 80.0, "probes_sent": 2.5, "probes_answered": 2.5, "inquiry_round_trips": 0.8,
                           "probe_round_trips": 2.5, "cpu_ms": 1.2, "cpu_percent": 0.24},
            "cost_quiet_periods": 16, "cost_over_run": {"member_periods": 0}, "aborted": null,
        });
        let md = markdown(&out);
        assert!(md.starts_with("`stagger-bench predict --kills 2"), "{md}");
        assert!(
            md.contains("(ottawa, atlanta)") && md.contains("P = 500.0 ms, τ = 400.0 ms, integral timer T1 = 50 ms, guard 0 ms"),
            "{md}"
        );
        assert!(
            md.contains("2 on the measured matrix") && md.contains("**the predicted winner was the real one in 1 of 2** (wrong in 1)"),
            "{md}"
        );
        assert!(md.contains("| **\\|predicted − measured\\|** | 2 | **55.0 ms** |"), "{md}");
        assert!(md.contains("| quiet, 16 periods, nobody polling | 80.00 | 2.50 | 2.50 | 0.80 | 2.50 | 1.20 ms | 0.24 % |"), "{md}");
        assert!(md.contains("| over the kills (failovers, restarts, status polling) | 0.00 | - |"), "{md}");
        assert!(!md.contains("ABORTED"), "{md}");
    }
}
