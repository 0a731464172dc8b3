//! `stagger-bench`: measurements of live groups of real `stagger node`
//! processes (and of etcd, for comparison) on 127.0.0.1, and the simulated
//! comparisons; `docs/benchmarks.md` has the numbers and how to run them.
//!
//! The processes are started, watched and killed by [`crate::harness`]; this
//! module holds the commands and their reports.

mod compare;
mod docs;
mod etcd;
mod fig16;
mod live;
mod loses;
mod machine;
mod names;
mod names_backend;
mod names_failover;
mod plot;
mod predict;
mod progress;
mod service;
mod service_load;
mod speed;

use crate::harness::HarnessError;
use clap::Subcommand;
use serde_json::{json, Value};
use stagger_core::compare::stats::{median, nearest_rank, Summary};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Failover time on loopback: five members (P = 300 ms, τ = 150 ms,
    /// integral T1 = 30 ms, guard 50 ms, 2 ms emulated delays); SIGKILL the
    /// master, time until every survivor names the same new master, restart
    /// the killed member, repeat.
    Failover {
        /// How many masters to kill.
        #[arg(long, default_value_t = 30)]
        kills: u32,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// CPU and memory of idle members: five members idle for a while, CPU
    /// time and RSS read from /proc.
    Idle {
        /// How long to idle.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
    /// How many members one machine holds: groups of 5, 10, 20, 40, 80, …
    /// members (P = 500 ms, τ = 300 ms, 1 ms delays); time to form the mesh
    /// and elect, failover time, idle CPU and RSS; stops at the first size
    /// that does not converge within 30 s.
    Capacity {
        /// The largest group to try.
        #[arg(long, default_value_t = 80)]
        max: usize,
        #[arg(long)]
        json: bool,
    },
    /// Simulator speed natively and in the playground's wasm in headless
    /// Chromium, side by side: whole runs of integral and equal-timer storm
    /// elections of 10, 20, 50, 100, … servers, events per second, and the
    /// largest group simulated in under --max-ms in the tab.
    Speed(speed::SpeedArgs),
    /// Raft's Figure 16 (§9.3) rerun in the simulator: five servers, a 15 ms
    /// broadcast time, the leader crashed within its heartbeat interval,
    /// 1,000 trials per election timeout range, next to the paper's numbers.
    #[command(name = "raft-fig16")]
    RaftFig16(fig16::Fig16Args),
    /// Every scheme on the same simulated work: integral, equal and
    /// randomized timers under each claim policy, Raft and Bully, on LAN,
    /// WAN, random and adversarial delays at 5, 50 and 500 servers, 1,000
    /// seeded trials each; Markdown, CSV and SVG plots.
    Compare(compare::CompareArgs),
    /// Where the staggered timer loses: detection skew larger than δ,
    /// delays misestimated by −50 % to +100 %, a second failure; and what
    /// guard_ms, skip_known_dead and the claim policy buy back.
    Loses(loses::LosesArgs),
    /// Failover against etcd: five stagger members, then five etcd members
    /// (Debian's `etcd-server`, installed by `cargo xtask setup`), on
    /// 127.0.0.1 with the same 100 ms period and a 500 ms timeout budget;
    /// SIGKILL the master/leader, time until every survivor names the same
    /// new one, restart, repeat; one comparison table.
    Etcd {
        /// How many masters/leaders to kill on each side.
        #[arg(long, default_value_t = 30)]
        kills: u32,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// The name server on loopback: registration latency (a takeover,
    /// written before it is answered, and a renewal) and lookup latency,
    /// each on a new and on a kept-alive connection, then lookups per
    /// second with one and with several clients; against a real `stagger
    /// nameserver` on the embedded backend or on a 3-member etcd cluster.
    Names(names::NamesArgs),
    /// From kill -9 of the master until a client's lookup at the name
    /// server names the new master under a higher epoch, beside the
    /// election's own failover time: a live group registering at an
    /// embedded name server; kill, time both, restart, repeat.
    #[command(name = "names-failover")]
    NamesFailover(names_failover::NamesFailoverArgs),
    /// How well `stagger ctl predict` forecasts a failover: the demo's
    /// five cities live with the patent's matrix as emulated WAN delays;
    /// before each kill -9 of the master, the twin's forecast (winner,
    /// failover time) beside the real one; and what measuring the delays
    /// costs (probes and CPU per member per period).
    Predict(predict::PredictArgs),
    /// The replicated store's writes per second and latency through the
    /// master with 2, 4 and 8 backups, beside etcd's puts with as many
    /// members, side by side: the same writers, keys and load code.
    Service(service::ServiceArgs),
    /// The window in which no write completes when the master (etcd: the
    /// leader) is killed with SIGKILL under a steady write load; kill,
    /// restart, repeat, on both sides with the same timeout budget.
    #[command(name = "service-failover")]
    ServiceFailover(service::ServiceFailoverArgs),
}

/// Why a benchmark failed, and whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The arguments do not make sense: the user's to fix.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The machine lacks something, a process misbehaved, or the
    /// measurement did not meet its own conditions.
    #[error("{0}")]
    Failed(String),
}

impl BenchError {
    /// 2 for bad arguments, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::Usage(_) => 2,
            BenchError::Io { .. } | BenchError::Failed(_) => 1,
        }
    }
}

impl From<HarnessError> for BenchError {
    fn from(e: HarnessError) -> BenchError {
        BenchError::Failed(e.0)
    }
}

/// Runs one command. `stagger` overrides where the `stagger` binary is
/// (by default: next to this executable); only the live benchmarks need it.
pub fn run(what: BenchCommand, stagger: Option<&Path>) -> Result<(), BenchError> {
    let binary = || crate::harness::stagger_binary(stagger).map_err(BenchError::from);
    match what {
        BenchCommand::Failover { kills, json } => live::failover(&binary()?, kills, json),
        BenchCommand::Idle { seconds, json } => live::idle(&binary()?, seconds, json),
        BenchCommand::Capacity { max, json } => live::capacity(&binary()?, max, json),
        BenchCommand::Speed(mut args) => {
            if !args.native_only && args.page.is_none() {
                args.stagger = binary()?;
            }
            speed::run(args)
        }
        BenchCommand::RaftFig16(args) => fig16::run(args),
        BenchCommand::Compare(args) => compare::run(args),
        BenchCommand::Loses(args) => loses::run(args),
        BenchCommand::Etcd { kills, json } => etcd::run(&binary()?, kills, json),
        BenchCommand::Names(args) => {
            args.check()?;
            names::run(&binary()?, args)
        }
        BenchCommand::NamesFailover(args) => {
            args.check()?;
            names_failover::run(&binary()?, args)
        }
        BenchCommand::Predict(args) => {
            args.check()?;
            predict::run(&binary()?, args)
        }
        BenchCommand::Service(args) => {
            args.check()?;
            service::run(&binary()?, args)
        }
        BenchCommand::ServiceFailover(args) => {
            args.check()?;
            service::failover(&binary()?, args)
        }
    }
}

fn fail(what: impl Into<String>) -> BenchError {
    BenchError::Failed(what.into())
}

/// A run that finished with `problems` (what the report says went wrong):
/// the user's cue that the figures are not to be trusted, as one error.
fn judged(problems: Vec<String>) -> Result<(), BenchError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(problems.join("; ")))
    }
}

/// Writes a file, making its folder first.
fn write(path: &Path, contents: &str) -> Result<(), BenchError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| BenchError::Io { path: dir.display().to_string(), source })?;
    }
    std::fs::write(path, contents).map_err(|source| BenchError::Io { path: path.display().to_string(), source })
}

/// A summary of measured times for the JSON reports: nearest-rank
/// percentiles, the median halfway between the middle two.
fn summary(values: &[f64]) -> Value {
    let Some(s) = Summary::of(values) else { return json!({"count": 0}) };
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    json!({
        "count": s.count, "min": r3(s.min), "median": r3(median(&sorted)), "mean": r3(s.mean),
        "p90": r3(nearest_rank(&sorted, 90.0)), "p99": r3(s.p99), "max": r3(s.max),
    })
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A seed for the kill phase, different every run.
fn seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) ^ std::process::id() as u64
}

/// Where the traces of a run are kept, shown in a report.
fn shown(p: &Option<PathBuf>) -> String {
    p.as_ref().map_or("(not saved)".into(), |t| t.display().to_string())
}
