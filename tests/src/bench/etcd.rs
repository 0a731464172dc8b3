//! `stagger-bench etcd`: native failover against etcd on 127.0.0.1
//! (`docs/benchmarks.md`, "Failover against etcd", has the numbers).
//!
//! Two sides, run back to back: five `stagger node` members, then five etcd
//! members (the Debian package `etcd-server`, which `cargo xtask setup`
//! installs). Both use the same period (stagger's inquiry period P, etcd's
//! heartbeat interval) and about the same timeout budget, see
//! [`PERIOD_MS`]. Each side is the harness's one kill loop
//! ([`crate::harness::kills`]) over its own [`Cluster`]: wait until the
//! group is healthy, SIGKILL the master/leader at a uniformly random phase
//! of the period, poll the four survivors every 2 ms until all name the
//! same new one, restart the killed member (it rejoins as a
//! Backup/follower), repeat.
//!
//! etcd keeps naming the old leader until its own election timer fires, so
//! a failover ends at the first instant every survivor had been seen naming
//! one new leader, and that leader had been seen naming itself.

use super::machine::{loadavg, machine, machine_line};
use super::{fail, judged, r3, seed, summary, BenchError};
use crate::harness::cluster::{healthy, wait, Cluster, Poller, Watch};
use crate::harness::etcd::{etcd_version, find_etcd, EtcdCluster, EtcdSeen, EtcdTiming};
use crate::harness::group::{describe, GroupSetup, StaggerGroup};
use crate::harness::kills::{kill_loop, ms_since, Kill, KillLog, KillPlan, FAST, REJOIN, SLOW};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The period on both sides, in ms: etcd's `--heartbeat-interval` (the
/// leader's heartbeat and every member's Raft tick) and stagger's inquiry
/// period P.
///
/// The timeout budget is about 500 ms on both sides, by two different
/// mechanisms. etcd: `--election-timeout` = [`ELECTION_TIMEOUT_MS`]; a
/// follower campaigns after r of its own ticks without hearing from the
/// leader, r drawn uniformly from 5..=9 at each term change, so 400–900 ms
/// after the last heartbeat. stagger: τ must be shorter than P, so the
/// budget is spent as [`MISSES`] consecutive unanswered inquiries of
/// [`TAU_MS`] each: every Backup declares the master failed
/// 4·P + τ = 490 ms after the last inquiry that was answered, then the
/// lowest survivor waits D_1 = T1 = 30 ms.
const PERIOD_MS: u64 = 100;
/// etcd's `--election-timeout`, in ms.
const ELECTION_TIMEOUT_MS: u64 = 500;
/// stagger's inquiry timeout τ (below P, as the group file requires).
const TAU_MS: f64 = 90.0;
/// stagger's consecutive misses before the master counts as failed.
const MISSES: u32 = 4;
const MEMBERS: usize = 5;
/// A kill whose survivors do not agree within this long is a failure.
const LIMIT: Duration = Duration::from_secs(10);

/// How long a fresh group has to form and elect.
const FORM: Duration = Duration::from_secs(30);

/// The stagger side: `failover`'s five members (2 ms emulated delays,
/// integral T1 = 30 ms, guard 50 ms) with P, τ and misses matched to etcd.
pub(super) fn stagger_setup() -> GroupSetup {
    GroupSetup {
        n: MEMBERS,
        delay_ms: 2.0,
        emulate: true,
        base_ms: 30.0,
        guard_ms: 50.0,
        period_ms: PERIOD_MS as f64,
        timeout_ms: TAU_MS,
        misses: MISSES,
    }
}

pub(super) const TIMING: EtcdTiming = EtcdTiming { heartbeat_ms: PERIOD_MS, election_timeout_ms: ELECTION_TIMEOUT_MS };

pub(super) const PLAN: fn(u32) -> KillPlan =
    |kills| KillPlan { kills, period: Duration::from_millis(PERIOD_MS), healthy_within: FORM, agree_within: LIMIT };

/// What the comparison keeps of one kill on either side.
struct Failover {
    killed: String,
    /// The member the survivors agreed on, if they did within [`LIMIT`].
    winner: Option<String>,
    ms: Option<f64>,
    /// etcd only: how many Raft terms the election took (1 = the first
    /// campaign won; more = split or lost votes).
    terms: Option<u64>,
    /// From the restart of the killed member until all five agree again.
    rejoin_ms: Option<f64>,
    /// What the members said when the rejoin did not settle, and where the
    /// evidence was saved.
    rejoin_failure: Option<String>,
}

impl Failover {
    fn of<S: Watch>(names: &[String], k: &Kill<S>, terms: Option<u64>) -> Failover {
        let logs = k.evidence.as_ref().map_or(String::new(), |d| format!("; logs in {}", d.display()));
        Failover {
            killed: names[k.killed].clone(),
            winner: k.winner.map(|w| names[w].clone()),
            ms: k.ms,
            terms,
            rejoin_ms: k.rejoin_ms,
            rejoin_failure: k.rejoin_failure.as_ref().map(|f| format!("{f}{logs}")),
        }
    }
}

/// Everything one side measured.
struct Side {
    runs: Vec<Failover>,
    /// Why the side stopped before its last kill.
    aborted: Option<String>,
    formed_ms: f64,
    /// etcd only: where the members' logs were kept.
    logs: Option<PathBuf>,
    load_before: Option<[f64; 3]>,
    load_after: Option<[f64; 3]>,
}

impl Side {
    fn new<S: Watch>(names: &[String], log: &KillLog<S>, terms: impl Fn(&Kill<S>) -> Option<u64>, formed_ms: f64) -> Side {
        Side {
            runs: log.kills.iter().map(|k| Failover::of(names, k, terms(k))).collect(),
            aborted: log.aborted.clone(),
            formed_ms,
            logs: None,
            load_before: None,
            load_after: None,
        }
    }

    fn times(&self) -> Vec<f64> {
        self.runs.iter().filter_map(|r| r.ms).collect()
    }

    fn failures(&self) -> usize {
        self.runs.iter().filter(|r| r.ms.is_none()).count()
    }

    fn json(&self, extra: Value) -> Value {
        let rejoin: Vec<f64> = self.runs.iter().filter_map(|r| r.rejoin_ms).collect();
        let mut v = json!({
            "kills": self.runs.len(),
            "elected": self.times().len(),
            "failures": self.failures(),
            "failure_limit_s": LIMIT.as_secs(),
            "failover_ms": summary(&self.times()),
            "rejoin_ms": summary(&rejoin),
            "rejoin_failures": self.runs.iter().filter(|r| r.rejoin_failure.is_some()).count(),
            "formed_ms": r3(self.formed_ms),
            "runs": self.runs.iter().map(|r| json!({
                "killed": r.killed, "winner": r.winner, "converged": r.ms.is_some(), "ms": r.ms.map(r3),
                "terms": r.terms, "rejoin_ms": r.rejoin_ms.map(r3), "rejoin_failure": r.rejoin_failure,
            })).collect::<Vec<_>>(),
            "aborted": self.aborted,
            "logs": self.logs.as_ref().map(|d| d.display().to_string()),
            "load_average_before": self.load_before,
            "load_average_after": self.load_after,
        });
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        v
    }
}

pub(super) fn run(stagger: &Path, kills: u32, as_json: bool) -> Result<(), BenchError> {
    if kills == 0 {
        return Err(BenchError::Usage("--kills must be at least 1".into()));
    }
    // Find etcd first: no point timing one side only.
    let exe = find_etcd()?;
    let version = etcd_version(&exe).ok_or_else(|| fail(format!("{} --version did not say its version", exe.display())))?;
    let seed = seed();
    let mut rng = stagger_core::Rng::new(seed);
    let say = |s: String| {
        if !as_json {
            eprintln!("{s}");
        }
    };
    let load_before = loadavg();
    let setup = stagger_setup();
    let (stagger, d_ms) = stagger_side(stagger, &setup, kills, &mut rng, &say)?;
    // Let the stagger processes' exit settle before etcd starts.
    std::thread::sleep(Duration::from_secs(1));
    let etcd = etcd_side(&exe, kills, &mut rng, &say)?;
    let load_after = loadavg();

    let out = json!({
        "bench": "etcd",
        "kills": kills,
        "seed": seed,
        "members": MEMBERS,
        "poll_interval_ms": FAST.as_secs_f64() * 1000.0,
        "period_ms": PERIOD_MS,
        "stagger": stagger.json(json!({
            "setup": setup.json(),
            "d_ms": d_ms,
            "declares_after_last_answered_inquiry_ms": MISSES as f64 * PERIOD_MS as f64 + TAU_MS,
        })),
        "etcd": etcd.json(json!({
            "version": version,
            "path": exe.display().to_string(),
            "heartbeat_interval_ms": PERIOD_MS,
            "election_timeout_ms": ELECTION_TIMEOUT_MS,
            "pre_vote": false,
            "campaigns_after_ticks": "uniform in 5..=9 without a heartbeat",
        })),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_after,
    });
    if as_json {
        println!("{out}");
    } else {
        print_table(&out, &stagger, &etcd, load_before);
    }
    let mut problems = Vec::new();
    for (name, side) in [("stagger", &stagger), ("etcd", &etcd)] {
        if let Some(a) = &side.aborted {
            problems.push(format!("{name}: aborted: {a}"));
        }
        if side.failures() > 0 {
            problems.push(format!("{name}: {} of {} kills did not agree within {} s", side.failures(), side.runs.len(), LIMIT.as_secs()));
        }
    }
    judged(problems)
}

fn print_table(out: &Value, stagger: &Side, etcd: &Side, load_before: Option<[f64; 3]>) {
    let n = stagger.runs.len().max(etcd.runs.len());
    println!("stagger-bench etcd: failover of {MEMBERS} members on 127.0.0.1, SIGKILL of the master/leader, each side in turn");
    println!(
        "  stagger: P = {PERIOD_MS} ms, tau = {TAU_MS} ms, misses = {MISSES} (declares {} ms after the last answered inquiry), \
         integral T1 = 30 ms, guard 50 ms, 2 ms delays (emulated); D_i = {}",
        MISSES as f64 * PERIOD_MS as f64 + TAU_MS,
        out["stagger"]["d_ms"]
    );
    println!(
        "  etcd {} ({}): --heartbeat-interval={PERIOD_MS} --election-timeout={ELECTION_TIMEOUT_MS} \
         (a follower campaigns after 5-9 of its own ticks without a heartbeat), pre-vote off, data on disk",
        out["etcd"]["version"].as_str().unwrap_or("?"),
        out["etcd"]["path"].as_str().unwrap_or("?")
    );
    println!(
        "  kill at a uniformly random phase of the {PERIOD_MS} ms period; survivors polled every {} ms each; seed {}",
        FAST.as_millis(),
        out["seed"]
    );
    println!("  {}", machine_line(load_before));
    println!();
    println!("  kill  stagger killed -> new    failover  etcd killed -> new  terms   failover");
    for k in 0..n {
        let cell = |s: &Side| match s.runs.get(k) {
            None => ("-".to_string(), "-".to_string(), "-".to_string()),
            Some(r) => (
                format!("{} -> {}", r.killed, r.winner.as_deref().unwrap_or("none")),
                r.ms.map_or("never".to_string(), |m| format!("{m:.1} ms")),
                r.terms.map_or("-".to_string(), |t| t.to_string()),
            ),
        };
        let (sw, sm, _) = cell(stagger);
        let (ew, em, et) = cell(etcd);
        println!("  {:>4}  {:<20}  {:>9}  {:<18}  {:>5}  {:>9}", k + 1, sw, sm, ew, et, em);
    }
    println!();
    println!("  side     kills  elected  failures     median        p90        p99        max        min       mean  load (1 min) before -> after");
    for (name, side) in [("stagger", stagger), ("etcd", etcd)] {
        let f = &out[name]["failover_ms"];
        let v = |k: &str| f[k].as_f64().map_or("-".to_string(), |v| format!("{v:.1} ms"));
        let l = |x: Option<[f64; 3]>| x.map_or("n/a".to_string(), |l| format!("{:.2}", l[0]));
        println!(
            "  {:<7}  {:>5}  {:>7}  {:>8}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {} -> {}",
            name,
            side.runs.len(),
            side.times().len(),
            side.failures(),
            v("median"),
            v("p90"),
            v("p99"),
            v("max"),
            v("min"),
            v("mean"),
            l(side.load_before),
            l(side.load_after),
        );
    }
    println!("  nearest-rank percentiles; a failure is a kill whose survivors did not agree within {} s", LIMIT.as_secs());
    let rounds = etcd.runs.iter().filter(|r| r.terms.is_some_and(|t| t > 1)).count();
    println!("  etcd elections that took more than one term (split or lost votes): {rounds} of {}", etcd.times().len());
    if let Some(d) = &etcd.logs {
        println!("  etcd logs kept in {}", d.display());
    }
    for (name, side) in [("stagger", stagger), ("etcd", etcd)] {
        let r = &out[name]["rejoin_ms"];
        let v = |k: &str| r[k].as_f64().map_or("-".to_string(), |v| format!("{v:.0} ms"));
        println!("  {name} rejoin (restart until all five agree): median {}, max {}", v("median"), v("max"));
        for (k, run) in side.runs.iter().enumerate().filter(|(_, r)| r.rejoin_failure.is_some()) {
            println!("    kill {}: the rejoin did not settle: {}", k + 1, run.rejoin_failure.as_deref().unwrap_or(""));
        }
        if let Some(a) = &side.aborted {
            println!("  {name} ABORTED: {a}");
        }
    }
}

// ---------------------------------------------------------------------------
// The two sides.

/// The measurements and the members' election delays `D_i` (ms).
fn stagger_side(
    stagger: &Path,
    setup: &GroupSetup,
    kills: u32,
    rng: &mut stagger_core::Rng,
    say: &dyn Fn(String),
) -> Result<(Side, Vec<f64>), BenchError> {
    let load_before = loadavg();
    let mut c = StaggerGroup::new(stagger, setup, "bench-etcd-stagger")?;
    c.start_all()?;
    let p = Poller::each(&c, SLOW, Duration::from_millis(500));
    let t = Instant::now();
    let Some(first) = healthy(&mut c, &p, FORM)? else {
        return Err(fail(format!("stagger: the group did not form within {} s: {}", FORM.as_secs(), describe(&p.snapshot(), c.ids()))));
    };
    let formed_ms = ms_since(Instant::now(), t);
    say(format!("stagger: group formed in {formed_ms:.0} ms; master {}", c.ids()[first]));
    let names = c.ids().to_vec();
    let log = kill_loop(&mut c, &p, &PLAN(kills), rng, |k, r| say(progress("stagger", k, kills, &Failover::of(&names, r, None))))?;
    let mut side = Side::new(&names, &log, |_| None, formed_ms);
    side.load_before = load_before;
    let d_ms = c.d_ms().to_vec();
    drop(p);
    drop(c);
    side.load_after = loadavg();
    Ok((side, d_ms))
}

fn etcd_side(exe: &Path, kills: u32, rng: &mut stagger_core::Rng, say: &dyn Fn(String)) -> Result<Side, BenchError> {
    let load_before = loadavg();
    let mut e = EtcdCluster::new(exe, MEMBERS, TIMING)?;
    let t = Instant::now();
    e.start_all()?;
    let p = Poller::<EtcdSeen>::each(&e, SLOW, Duration::from_millis(500));
    let first = form(&mut e, &p)?;
    let formed_ms = ms_since(Instant::now(), t);
    let names = e.names().to_vec();
    say(format!("etcd: cluster formed in {formed_ms:.0} ms; leader {}", names[first]));
    let terms = |k: &Kill<EtcdSeen>| match k.winner {
        Some(w) if k.settled => Some(k.after[w].raft_term - k.before[k.killed].raft_term),
        _ => None,
    };
    let log = kill_loop(&mut e, &p, &PLAN(kills), rng, |k, r| say(progress("etcd", k, kills, &Failover::of(&names, r, terms(r)))))?;
    let mut side = Side::new(&names, &log, terms, formed_ms);
    side.load_before = load_before;
    drop(p);
    // The logs (elections, ignored votes) outlive the run.
    side.logs = e.evidence("run");
    drop(e);
    side.load_after = loadavg();
    Ok(side)
}

/// Waits until a started etcd cluster has formed: every member answered
/// with its id (they never change), then one leader named by all. Returns
/// the leader's row.
pub(super) fn form(e: &mut EtcdCluster, p: &Poller<EtcdSeen>) -> Result<usize, BenchError> {
    if wait(e, p, FORM, |_, o| o.iter().all(|s| s.member.is_some()).then_some(()))?.is_none() {
        let logs = e.evidence("start").map_or(String::new(), |d| format!("; logs in {}", d.display()));
        return Err(fail(format!("etcd: not every member answered within {} s{logs}", FORM.as_secs())));
    }
    e.learn_ids(&p.snapshot());
    let Some(first) = healthy(e, p, FORM)? else {
        let logs = e.evidence("start").map_or(String::new(), |d| format!("; logs in {}", d.display()));
        return Err(fail(format!("etcd: no leader within {} s: {}{logs}", FORM.as_secs(), e.roles(&p.snapshot()))));
    };
    Ok(first)
}

fn progress(name: &str, k: u32, kills: u32, r: &Failover) -> String {
    format!(
        "{name} kill {:>3}/{kills}: {} -> {} in {}{}, rejoined in {}",
        k + 1,
        r.killed,
        r.winner.as_deref().unwrap_or("nobody"),
        r.ms.map_or(format!("(no agreement within {} s)", LIMIT.as_secs()), |m| format!("{m:.1} ms")),
        r.terms.map_or(String::new(), |t| format!(" ({t} term{})", if t == 1 { "" } else { "s" })),
        r.rejoin_ms.map_or(format!("(not within {} s)", REJOIN.as_secs()), |m| format!("{m:.0} ms")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_matched() {
        let s = stagger_setup();
        assert_eq!(s.period_ms, PERIOD_MS as f64);
        assert!(s.timeout_ms < s.period_ms, "the group file requires tau < P");
        let budget = s.misses as f64 * s.period_ms + s.timeout_ms;
        assert!(budget <= ELECTION_TIMEOUT_MS as f64 && budget > ELECTION_TIMEOUT_MS as f64 - s.period_ms);
    }
}
