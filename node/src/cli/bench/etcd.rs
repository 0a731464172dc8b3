//! `stagger bench etcd`: native failover against etcd on 127.0.0.1 (issue 5
//! point 5; `docs/benchmarks.md`, "Failover against etcd", has the numbers).
//!
//! Two sides, run back to back: five `stagger node` members, then five etcd
//! members (the Debian package `etcd-server`, installed with apt-get when
//! `etcd` is missing). Both use the same period (stagger's inquiry period P,
//! etcd's heartbeat interval) and about the same timeout budget, see
//! [`PERIOD_MS`]. On each side, [`kills`](run) times: wait until the group is
//! healthy, SIGKILL the master/leader at a uniformly random phase of the
//! period, poll the four survivors every 2 ms until all name the same new
//! one, restart the killed member (it rejoins as a Backup/follower), repeat.
//!
//! The stagger side reuses the `bench failover` machinery ([`Cluster`],
//! [`Poller`], [`agreement`]). The etcd side asks each member
//! `POST /v3/maintenance/status` (etcd's JSON gRPC gateway, on the client
//! URL), which answers the member's own id and the leader it currently
//! follows. etcd keeps naming the old leader until its own election timer
//! fires, so a failover ends at the first instant every survivor had been
//! seen naming one new leader, and that leader had been seen naming itself.
//! Every etcd process is registered in the same kill-on-exit table as the
//! nodes, and its data directory and log live in a temporary folder.

use super::{
    agreement, describe, fail, first_exited, healthy, loadavg, machine, machine_line, ms_since, r3, register, registry, roles, seed,
    status_field, summary, unregister, wait, CliError, Cluster, Poller, Setup, Watch, FAST, REJOIN, SLOW,
};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

/// The stagger side: `bench failover`'s five members (2 ms emulated delays,
/// integral T1 = 30 ms, guard 50 ms) with P, τ and misses matched to etcd.
fn stagger_setup() -> Setup {
    Setup {
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

/// One kill on either side.
struct Run {
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

/// Everything one side measured.
struct Side {
    runs: Vec<Run>,
    /// Why the side stopped before its last kill.
    aborted: Option<String>,
    formed_ms: f64,
    /// etcd only: where the members' logs were kept.
    logs: Option<PathBuf>,
    load_before: Option<[f64; 3]>,
    load_after: Option<[f64; 3]>,
}

impl Side {
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

pub(super) fn run(kills: u32, as_json: bool) -> Result<(), CliError> {
    if kills == 0 {
        return Err(CliError::Usage("--kills must be at least 1".into()));
    }
    // Find (or install) etcd first: no point timing one side only.
    let exe = etcd_or_install()?;
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
    let (stagger, d_ms) = stagger_side(&setup, kills, &mut rng, &say)?;
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
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(problems.join("; ")))
    }
}

fn print_table(out: &Value, stagger: &Side, etcd: &Side, load_before: Option<[f64; 3]>) {
    let n = stagger.runs.len().max(etcd.runs.len());
    println!("stagger bench etcd: failover of {MEMBERS} members on 127.0.0.1, SIGKILL of the master/leader, each side in turn");
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
// The stagger side.

/// The measurements and the members' election delays `D_i` (ms).
fn stagger_side(setup: &Setup, kills: u32, rng: &mut stagger_core::Rng, say: &dyn Fn(String)) -> Result<(Side, Vec<f64>), CliError> {
    let load_before = loadavg();
    let mut c = Cluster::new(setup, "bench-etcd-stagger")?;
    let ids = c.ids.clone();
    let n = c.len();
    c.spawn_all()?;
    let p = Poller::start(&c.addrs, n, SLOW, Duration::from_millis(500));
    let t = Instant::now();
    let Some(first) = wait(&c, &p, FORM, |o| healthy(o, &ids))? else {
        return Err(fail(format!("stagger: the group did not form within {} s: {}", FORM.as_secs(), describe(&p.snapshot(), &ids))));
    };
    let formed_ms = ms_since(Instant::now(), t);
    say(format!("stagger: group formed in {formed_ms:.0} ms; master {}", ids[first]));
    let mut side = Side { runs: Vec::new(), aborted: None, formed_ms, logs: None, load_before, load_after: None };
    for k in 0..kills {
        // A uniformly random phase of the detection grid.
        std::thread::sleep(Duration::from_micros(rng.below(PERIOD_MS * 1000)));
        p.set_interval(FAST);
        std::thread::sleep(SLOW + Duration::from_millis(5));
        let Some(master) = wait(&c, &p, FORM, |o| healthy(o, &ids))? else {
            side.aborted = Some(format!("before kill {}: the group is not healthy: {}", k + 1, roles(&p.snapshot(), &ids)));
            break;
        };
        let survivors: Vec<usize> = (0..n).filter(|&i| i != master).collect();
        let t0 = Instant::now();
        c.kill9(master);
        let got = wait(&c, &p, LIMIT, |o| agreement(o, &survivors, &ids).filter(|(_, since)| *since > t0))?;
        p.set_interval(SLOW);
        let mut run = Run {
            killed: ids[master].clone(),
            winner: got.map(|(w, _)| ids[w].clone()),
            ms: got.map(|(_, since)| ms_since(since, t0)),
            terms: None,
            rejoin_ms: None,
            rejoin_failure: None,
        };
        if got.is_none() {
            say(format!("stagger kill {}: no agreement within {} s: {}", k + 1, LIMIT.as_secs(), roles(&p.snapshot(), &ids)));
        }
        c.spawn(master)?;
        let t1 = Instant::now();
        let rejoined = wait(&c, &p, REJOIN, |o| healthy(o, &ids))?;
        run.rejoin_ms = rejoined.map(|_| ms_since(Instant::now(), t1));
        let mut repaired = rejoined.is_some();
        if !repaired {
            run.rejoin_failure = Some(roles(&p.snapshot(), &ids));
            for _ in 0..3 {
                c.kill9(master);
                c.spawn(master)?;
                if wait(&c, &p, REJOIN, |o| healthy(o, &ids))?.is_some() {
                    repaired = true;
                    break;
                }
            }
        }
        say(progress("stagger", k, kills, &run));
        side.runs.push(run);
        if !repaired {
            side.aborted = Some(format!("after kill {}: the group did not heal after 4 restarts: {}", k + 1, roles(&p.snapshot(), &ids)));
            break;
        }
    }
    let d_ms = c.d_ms.clone();
    drop(p);
    drop(c);
    side.load_after = loadavg();
    Ok((side, d_ms))
}

fn progress(name: &str, k: u32, kills: u32, r: &Run) -> String {
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

// ---------------------------------------------------------------------------
// Finding etcd.

/// `etcd` on `PATH`, else `/usr/bin/etcd`.
fn find_etcd() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("etcd")).find(|f| f.is_file()));
    on_path.or_else(|| Some(PathBuf::from("/usr/bin/etcd")).filter(|p| p.is_file()))
}

/// Finds etcd, or installs the Debian package `etcd-server` (as root, or
/// through `sudo -n`), or fails saying so.
fn etcd_or_install() -> Result<PathBuf, CliError> {
    if let Some(p) = find_etcd() {
        return Ok(p);
    }
    eprintln!("stagger bench etcd: etcd is not installed; installing the Debian package etcd-server ...");
    let root = status_field(std::process::id(), "Uid") == Some(0);
    let apt = |args: &[&str]| -> Result<(), String> {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        };
        // apt's chatter goes to stderr, so that `--json` keeps stdout clean.
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .status()
            .map_err(|e| format!("cannot run {}apt-get: {e}", if root { "" } else { "sudo " }))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{}apt-get {} exited with {status}", if root { "" } else { "sudo -n " }, args.join(" ")))
        }
    };
    // A fresh machine may have no package lists yet: update once and retry.
    let installed =
        apt(&["install", "-y", "etcd-server"]).or_else(|_| apt(&["update"]).and_then(|()| apt(&["install", "-y", "etcd-server"])));
    match (installed, find_etcd()) {
        (Ok(()), Some(p)) => Ok(p),
        (Ok(()), None) => Err(fail("installed the Debian package etcd-server, but there is still no etcd on PATH or at /usr/bin/etcd")),
        (Err(e), _) => Err(fail(format!(
            "etcd is needed and not installed, and installing the Debian package etcd-server failed ({e}); \
             install it with `apt-get install -y etcd-server` as root and run again"
        ))),
    }
}

/// `etcd --version`'s version, e.g. `3.4.23`.
fn etcd_version(exe: &Path) -> Option<String> {
    let out = Command::new(exe).arg("--version").stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

fn parse_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.trim_start().starts_with("etcd Version:"))?;
    Some(line.split_once(':')?.1.trim().to_string()).filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------------------
// An etcd cluster.

/// `name=http://peer,…` for `--initial-cluster`.
fn initial_cluster(names: &[String], peers: &[SocketAddr]) -> String {
    names.iter().zip(peers).map(|(n, p)| format!("{n}=http://{p}")).collect::<Vec<_>>().join(",")
}

/// One member's command line. The same line restarts it: once its data
/// directory holds a WAL, etcd ignores the `--initial-*` flags and rejoins.
fn etcd_args(name: &str, data_dir: &Path, client: SocketAddr, peer: SocketAddr, cluster: &str, token: &str) -> Vec<String> {
    vec![
        format!("--name={name}"),
        format!("--data-dir={}", data_dir.display()),
        format!("--listen-client-urls=http://{client}"),
        format!("--advertise-client-urls=http://{client}"),
        format!("--listen-peer-urls=http://{peer}"),
        format!("--initial-advertise-peer-urls=http://{peer}"),
        format!("--initial-cluster={cluster}"),
        "--initial-cluster-state=new".to_string(),
        format!("--initial-cluster-token={token}"),
        format!("--heartbeat-interval={PERIOD_MS}"),
        format!("--election-timeout={ELECTION_TIMEOUT_MS}"),
        // JSON lines with millisecond times, to stderr (the member's log file).
        "--logger=zap".to_string(),
        "--log-outputs=stderr".to_string(),
    ]
}

/// Five etcd children. Dropping it kills and reaps them all and removes
/// their data.
struct Etcd {
    exe: PathBuf,
    dir: PathBuf,
    names: Vec<String>,
    clients: Vec<SocketAddr>,
    peers: Vec<SocketAddr>,
    token: String,
    pids: Vec<Option<u32>>,
}

impl Etcd {
    fn new(exe: &Path, n: usize) -> Result<Etcd, CliError> {
        let names: Vec<String> = (0..n).map(|i| format!("e{i}")).collect();
        // Hold every port until all are picked, so no two are the same.
        let listeners = (0..2 * n)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| fail(format!("cannot bind 127.0.0.1:0: {e}")))?;
        let addrs = listeners.iter().map(|l| l.local_addr()).collect::<std::io::Result<Vec<_>>>().map_err(|e| fail(e.to_string()))?;
        drop(listeners);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("stagger-bench-etcd-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        registry().dirs.push(dir.clone());
        Ok(Etcd {
            exe: exe.to_path_buf(),
            dir,
            names,
            clients: addrs[..n].to_vec(),
            peers: addrs[n..].to_vec(),
            token: format!("stagger-bench-{:x}-{nanos:x}", std::process::id()),
            pids: vec![None; n],
        })
    }

    fn len(&self) -> usize {
        self.names.len()
    }

    fn log(&self, i: usize) -> PathBuf {
        self.dir.join(format!("{}.log", self.names[i]))
    }

    fn spawn(&mut self, i: usize) -> Result<(), CliError> {
        let cluster = initial_cluster(&self.names, &self.peers);
        let args = etcd_args(&self.names[i], &self.dir.join(&self.names[i]), self.clients[i], self.peers[i], &cluster, &self.token);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(i))
            .map_err(|e| fail(format!("{}: {e}", self.log(i).display())))?;
        let log2 = log.try_clone().map_err(|e| fail(e.to_string()))?;
        let mut cmd = Command::new(&self.exe);
        cmd.args(&args).stdin(Stdio::null()).stdout(Stdio::from(log)).stderr(Stdio::from(log2));
        // Only the flags above configure it.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("ETCD") {
                cmd.env_remove(k);
            }
        }
        let child = cmd.spawn().map_err(|e| fail(format!("cannot start {}: {e}", self.exe.display())))?;
        self.pids[i] = Some(register(child)?);
        Ok(())
    }

    fn kill9(&mut self, i: usize) {
        if let Some(pid) = self.pids[i].take() {
            unregister(pid);
        }
    }

    /// An error naming the first member whose process has exited (its log
    /// is saved first).
    fn check_alive(&self) -> Result<(), CliError> {
        match first_exited(&self.pids) {
            None => Ok(()),
            Some((i, _)) => {
                let logs = self.save_logs("exited").map_or("(logs not saved)".into(), |d| format!("logs in {}", d.display()));
                Err(fail(format!("etcd member {} ({}) exited on its own; {logs}", self.names[i], self.clients[i])))
            }
        }
    }

    /// Copies every member's log to a folder that outlives the run.
    fn save_logs(&self, label: &str) -> Option<PathBuf> {
        let dir = std::env::temp_dir().join(format!("stagger-bench-etcd-logs-{}", std::process::id())).join(label);
        std::fs::create_dir_all(&dir).ok()?;
        for i in 0..self.len() {
            let _ = std::fs::copy(self.log(i), dir.join(format!("{}.log", self.names[i])));
        }
        Some(dir)
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        for i in 0..self.len() {
            self.kill9(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        registry().dirs.retain(|d| *d != self.dir);
    }
}

// ---------------------------------------------------------------------------
// Watching etcd: `POST /v3/maintenance/status`.

/// What one member says of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Status {
    /// Its own member id.
    member: u64,
    /// The leader it follows (itself when it leads); `None` while it has
    /// none (a candidate, or before it heard from anyone).
    leader: Option<u64>,
    raft_term: u64,
}

/// A gateway reply. etcd encodes its 64-bit ids as decimal strings; a zero
/// or missing `leader` means no leader.
fn parse_status(body: &str) -> Option<Status> {
    let v: Value = serde_json::from_str(body).ok()?;
    let id = |x: &Value| match x {
        Value::String(s) => s.parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    let member = id(&v["header"]["member_id"]).filter(|&m| m != 0)?;
    let leader = id(&v["leader"]).filter(|&l| l != 0);
    let raft_term = id(&v["raftTerm"]).or_else(|| id(&v["header"]["raft_term"])).unwrap_or(0);
    Some(Status { member, leader, raft_term })
}

/// The body of a `200` HTTP/1.x answer (plain or chunked).
fn http_body(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let code = lines.next()?.split_whitespace().nth(1)?;
    if code != "200" {
        return None;
    }
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        dechunk(body)
    } else {
        Some(body.to_string())
    }
}

fn dechunk(mut s: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        s = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

/// One `POST` with a JSON body on a fresh connection.
fn post(addr: SocketAddr, path: &str, body: &str, timeout: Duration) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.set_write_timeout(Some(timeout)).ok()?;
    let _ = s.set_nodelay(true);
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut buf = Vec::with_capacity(1024);
    s.read_to_end(&mut buf).ok()?;
    http_body(&buf)
}

fn etcd_status(addr: SocketAddr, timeout: Duration) -> Option<Status> {
    parse_status(&post(addr, "/v3/maintenance/status", "{}", timeout)?)
}

/// What a poller last saw of one etcd member.
#[derive(Clone, Copy, Debug)]
struct EObs {
    /// The last request was answered.
    ok: bool,
    member: Option<u64>,
    leader: Option<u64>,
    raft_term: u64,
    /// When the current `leader` was first seen.
    since: Instant,
}

/// Every member of `who` answers and names the same leader, which is one of
/// `who` (`ids` maps rows to member ids) and names itself. Returns the
/// leader's row and when the last of them was first seen naming it. The
/// killed member is not in `who`, so survivors still naming it do not agree.
fn leader_agreement(obs: &[EObs], who: &[usize], ids: &[u64]) -> Option<(usize, Instant)> {
    let leader = obs[*who.first()?].leader?;
    let row = ids.iter().position(|&x| x == leader)?;
    if !who.contains(&row) || obs[row].member != Some(leader) {
        return None;
    }
    let mut since = obs[who[0]].since;
    for &i in who {
        let o = &obs[i];
        if !o.ok || o.leader != Some(leader) {
            return None;
        }
        since = since.max(o.since);
    }
    Some((row, since))
}

/// [`leader_agreement`] among all members.
fn leader_healthy(obs: &[EObs], ids: &[u64]) -> Option<usize> {
    let all: Vec<usize> = (0..ids.len()).collect();
    leader_agreement(obs, &all, ids).map(|(row, _)| row)
}

/// `e0 leader, e1 follows e0, e2 candidate, e3 silent`, for messages.
fn etcd_roles(obs: &[EObs], names: &[String], ids: &[u64]) -> String {
    let name = |id: u64| ids.iter().position(|&x| x == id).map_or(format!("{id:x}"), |r| names[r].clone());
    let one = |(n, o): (&String, &EObs)| match (o.ok, o.leader) {
        (false, _) => format!("{n} silent"),
        (true, None) => format!("{n} no leader (term {})", o.raft_term),
        (true, Some(l)) if Some(l) == o.member => format!("{n} leader (term {})", o.raft_term),
        (true, Some(l)) => format!("{n} follows {} (term {})", name(l), o.raft_term),
    };
    names.iter().zip(obs).map(one).collect::<Vec<_>>().join(", ")
}

impl Watch for EObs {
    type Reply = Status;

    fn blank(now: Instant) -> EObs {
        EObs { ok: false, member: None, leader: None, raft_term: 0, since: now }
    }

    fn fetch(addr: SocketAddr, timeout: Duration) -> Option<Status> {
        etcd_status(addr, timeout)
    }

    fn apply(&mut self, got: Option<Status>, at: Instant) {
        // A failed request only clears `ok`.
        match got {
            None => self.ok = false,
            Some(s) => {
                if s.leader != self.leader || Some(s.member) != self.member {
                    self.since = at;
                }
                *self = EObs { ok: true, member: Some(s.member), leader: s.leader, raft_term: s.raft_term, since: self.since };
            }
        }
    }
}

/// Polls `ok` until it returns something or `limit` passes; fails early if
/// an etcd process dies.
fn ewait<T>(e: &Etcd, p: &Poller<EObs>, limit: Duration, ok: impl Fn(&[EObs]) -> Option<T>) -> Result<Option<T>, CliError> {
    super::poll_until(limit, || p.snapshot(), || e.check_alive(), ok)
}

// ---------------------------------------------------------------------------
// The etcd side.

fn etcd_side(exe: &Path, kills: u32, rng: &mut stagger_core::Rng, say: &dyn Fn(String)) -> Result<Side, CliError> {
    let load_before = loadavg();
    let mut e = Etcd::new(exe, MEMBERS)?;
    let names = e.names.clone();
    let n = e.len();
    let t = Instant::now();
    (0..n).try_for_each(|i| e.spawn(i))?;
    // One thread per member.
    let p = Poller::<EObs>::start(&e.clients, e.clients.len(), SLOW, Duration::from_millis(500));
    // Member ids first (they never change), then one leader named by all.
    let ids: Vec<u64> = match ewait(&e, &p, FORM, |o| o.iter().map(|o| o.member).collect::<Option<Vec<u64>>>())? {
        Some(ids) => ids,
        None => {
            let logs = e.save_logs("start").map_or(String::new(), |d| format!("; logs in {}", d.display()));
            return Err(fail(format!("etcd: not every member answered within {} s{logs}", FORM.as_secs())));
        }
    };
    let Some(first) = ewait(&e, &p, FORM, |o| leader_healthy(o, &ids))? else {
        let logs = e.save_logs("start").map_or(String::new(), |d| format!("; logs in {}", d.display()));
        return Err(fail(format!("etcd: no leader within {} s: {}{logs}", FORM.as_secs(), etcd_roles(&p.snapshot(), &names, &ids))));
    };
    let formed_ms = ms_since(Instant::now(), t);
    say(format!("etcd: cluster formed in {formed_ms:.0} ms; leader {}", names[first]));
    let mut side = Side { runs: Vec::new(), aborted: None, formed_ms, logs: None, load_before, load_after: None };
    for k in 0..kills {
        // A uniformly random phase of the heartbeat interval.
        std::thread::sleep(Duration::from_micros(rng.below(PERIOD_MS * 1000)));
        p.set_interval(FAST);
        std::thread::sleep(SLOW + Duration::from_millis(5));
        let Some(leader) = ewait(&e, &p, FORM, |o| leader_healthy(o, &ids))? else {
            side.aborted = Some(format!("before kill {}: no agreed leader: {}", k + 1, etcd_roles(&p.snapshot(), &names, &ids)));
            break;
        };
        let term_before = p.snapshot()[leader].raft_term;
        let survivors: Vec<usize> = (0..n).filter(|&i| i != leader).collect();
        let t0 = Instant::now();
        e.kill9(leader);
        let got = ewait(&e, &p, LIMIT, |o| leader_agreement(o, &survivors, &ids).filter(|(_, since)| *since > t0))?;
        // etcd reports the term of its last applied entry, so the new
        // leader's term shows once its first entry of the term is applied.
        let term_after = match got {
            Some((w, _)) => ewait(&e, &p, Duration::from_secs(2), |o| Some(o[w].raft_term).filter(|&t| t > term_before))?,
            None => None,
        };
        p.set_interval(SLOW);
        let after = p.snapshot();
        let mut run = Run {
            killed: names[leader].clone(),
            winner: got.map(|(w, _)| names[w].clone()),
            ms: got.map(|(_, since)| ms_since(since, t0)),
            terms: term_after.map(|t| t - term_before),
            rejoin_ms: None,
            rejoin_failure: None,
        };
        if got.is_none() {
            let logs = e.save_logs(&format!("kill-{}", k + 1)).map_or(String::new(), |d| format!("; logs in {}", d.display()));
            say(format!("etcd kill {}: no agreement within {} s: {}{logs}", k + 1, LIMIT.as_secs(), etcd_roles(&after, &names, &ids)));
        }
        // Restart with the same data directory: it rejoins as a follower.
        e.spawn(leader)?;
        let t1 = Instant::now();
        let rejoined = ewait(&e, &p, REJOIN, |o| leader_healthy(o, &ids))?;
        run.rejoin_ms = rejoined.map(|_| ms_since(Instant::now(), t1));
        let mut repaired = rejoined.is_some();
        if !repaired {
            let logs = e.save_logs(&format!("rejoin-{}", k + 1)).map_or(String::new(), |d| format!("; logs in {}", d.display()));
            run.rejoin_failure = Some(format!("{}{logs}", etcd_roles(&p.snapshot(), &names, &ids)));
            for _ in 0..3 {
                e.kill9(leader);
                e.spawn(leader)?;
                if ewait(&e, &p, REJOIN, |o| leader_healthy(o, &ids))?.is_some() {
                    repaired = true;
                    break;
                }
            }
        }
        say(progress("etcd", k, kills, &run));
        side.runs.push(run);
        if !repaired {
            side.aborted = Some(format!(
                "after kill {}: the cluster did not heal after 4 restarts: {}",
                k + 1,
                etcd_roles(&p.snapshot(), &names, &ids)
            ));
            break;
        }
    }
    drop(p);
    // The logs (elections, ignored votes) outlive the run.
    side.logs = e.save_logs("run");
    drop(e);
    side.load_after = loadavg();
    Ok(side)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = r#"{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"1","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"13668033151171901709","raftIndex":"4","raftTerm":"2","raftAppliedIndex":"4","dbSizeInUse":"16384"}"#;

    #[test]
    fn parses_a_status_reply() {
        let s = parse_status(REPLY).unwrap();
        assert_eq!(s, Status { member: 13668033151171901709, leader: Some(13668033151171901709), raft_term: 2 });
    }

    #[test]
    fn no_leader_is_none() {
        // The gateway omits zero fields; some versions print "0".
        let absent = r#"{"header":{"member_id":"7","raft_term":"5"},"version":"3.4.23"}"#;
        assert_eq!(parse_status(absent), Some(Status { member: 7, leader: None, raft_term: 5 }));
        let zero = r#"{"header":{"member_id":"7"},"leader":"0","raftTerm":"6"}"#;
        assert_eq!(parse_status(zero), Some(Status { member: 7, leader: None, raft_term: 6 }));
        let numbers = r#"{"header":{"member_id":9},"leader":3}"#;
        assert_eq!(parse_status(numbers), Some(Status { member: 9, leader: Some(3), raft_term: 0 }));
    }

    #[test]
    fn rejects_replies_without_a_member() {
        assert_eq!(parse_status(""), None);
        assert_eq!(parse_status("not json"), None);
        assert_eq!(parse_status(r#"{"error":"etcdserver: no leader","code":14}"#), None);
        assert_eq!(parse_status(r#"{"header":{"member_id":"x"},"leader":"1"}"#), None);
    }

    #[test]
    fn reads_http_answers() {
        let plain = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{REPLY}", REPLY.len());
        assert_eq!(http_body(plain.as_bytes()).as_deref(), Some(REPLY));
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n3\r\n12}\r\n0\r\n\r\n";
        assert_eq!(http_body(chunked.as_bytes()).as_deref(), Some("{\"a\":12}"));
        assert_eq!(http_body(b"HTTP/1.1 503 Service Unavailable\r\n\r\n{}"), None);
        assert_eq!(http_body(b"HTTP/1.1 200 OK\r\n"), None);
        assert_eq!(http_body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), None);
    }

    #[test]
    fn reads_the_version() {
        let text = "etcd Version: 3.4.23\nGit SHA: Not provided (use ./build instead of go build)\nGo Version: go1.19.8\n";
        assert_eq!(parse_version(text).as_deref(), Some("3.4.23"));
        assert_eq!(parse_version("etcd 3.6\n"), None);
    }

    #[test]
    fn builds_the_command_line() {
        let names: Vec<String> = (0..3).map(|i| format!("e{i}")).collect();
        let peers: Vec<SocketAddr> = [2380, 2381, 2382].iter().map(|p| SocketAddr::from(([127, 0, 0, 1], *p))).collect();
        let cluster = initial_cluster(&names, &peers);
        assert_eq!(cluster, "e0=http://127.0.0.1:2380,e1=http://127.0.0.1:2381,e2=http://127.0.0.1:2382");
        let args = etcd_args("e1", Path::new("/tmp/x/e1"), SocketAddr::from(([127, 0, 0, 1], 2379)), peers[1], &cluster, "tok");
        assert_eq!(
            args,
            [
                "--name=e1",
                "--data-dir=/tmp/x/e1",
                "--listen-client-urls=http://127.0.0.1:2379",
                "--advertise-client-urls=http://127.0.0.1:2379",
                "--listen-peer-urls=http://127.0.0.1:2381",
                "--initial-advertise-peer-urls=http://127.0.0.1:2381",
                "--initial-cluster=e0=http://127.0.0.1:2380,e1=http://127.0.0.1:2381,e2=http://127.0.0.1:2382",
                "--initial-cluster-state=new",
                "--initial-cluster-token=tok",
                "--heartbeat-interval=100",
                "--election-timeout=500",
                "--logger=zap",
                "--log-outputs=stderr",
            ]
        );
    }

    #[test]
    fn settings_are_matched() {
        let s = stagger_setup();
        assert_eq!(s.period_ms, PERIOD_MS as f64);
        assert!(s.timeout_ms < s.period_ms, "the group file requires tau < P");
        let budget = s.misses as f64 * s.period_ms + s.timeout_ms;
        assert!(budget <= ELECTION_TIMEOUT_MS as f64 && budget > ELECTION_TIMEOUT_MS as f64 - s.period_ms);
    }

    fn obs(t0: Instant, rows: &[(bool, u64, Option<u64>, u64)]) -> Vec<EObs> {
        rows.iter()
            .map(|&(ok, member, leader, ms)| EObs { ok, member: Some(member), leader, raft_term: 1, since: t0 + Duration::from_millis(ms) })
            .collect()
    }

    #[test]
    fn chooses_the_leader_all_survivors_name() {
        let t0 = Instant::now();
        let ids = [10, 11, 12, 13, 14];
        // 10 was killed; the rest follow 12, which leads.
        let o = obs(
            t0,
            &[(false, 10, Some(10), 0), (true, 11, Some(12), 5), (true, 12, Some(12), 3), (true, 13, Some(12), 9), (true, 14, Some(12), 7)],
        );
        let survivors = [1, 2, 3, 4];
        assert_eq!(leader_agreement(&o, &survivors, &ids), Some((2, t0 + Duration::from_millis(9))));
        // Before the kill, all five agree on 12 only if 10 follows it too.
        assert_eq!(leader_healthy(&o, &ids), None);
        let mut all = o.clone();
        all[0] = EObs { ok: true, leader: Some(12), ..all[0] };
        assert_eq!(leader_healthy(&all, &ids), Some(2));
    }

    #[test]
    fn no_agreement_while_a_survivor_differs() {
        let t0 = Instant::now();
        let ids = [10, 11, 12, 13, 14];
        let survivors = [1, 2, 3, 4];
        // Still naming the killed leader: it is not a survivor.
        let old = obs(
            t0,
            &[(false, 10, Some(10), 0), (true, 11, Some(10), 0), (true, 12, Some(10), 0), (true, 13, Some(10), 0), (true, 14, Some(10), 0)],
        );
        assert_eq!(leader_agreement(&old, &survivors, &ids), None);
        // One candidate without a leader.
        let campaign = obs(
            t0,
            &[(false, 10, None, 0), (true, 11, Some(12), 0), (true, 12, Some(12), 0), (true, 13, None, 0), (true, 14, Some(12), 0)],
        );
        assert_eq!(leader_agreement(&campaign, &survivors, &ids), None);
        // One survivor not answering.
        let silent = obs(
            t0,
            &[(false, 10, None, 0), (true, 11, Some(12), 0), (true, 12, Some(12), 0), (false, 13, Some(12), 0), (true, 14, Some(12), 0)],
        );
        assert_eq!(leader_agreement(&silent, &survivors, &ids), None);
        // Split: two names.
        let split = obs(
            t0,
            &[(false, 10, None, 0), (true, 11, Some(11), 0), (true, 12, Some(12), 0), (true, 13, Some(12), 0), (true, 14, Some(11), 0)],
        );
        assert_eq!(leader_agreement(&split, &survivors, &ids), None);
        // A leader id nobody has.
        let stranger = obs(
            t0,
            &[(false, 10, None, 0), (true, 11, Some(99), 0), (true, 12, Some(99), 0), (true, 13, Some(99), 0), (true, 14, Some(99), 0)],
        );
        assert_eq!(leader_agreement(&stranger, &survivors, &ids), None);
        assert_eq!(leader_agreement(&split, &[], &ids), None);
    }

    #[test]
    fn describes_the_members() {
        let t0 = Instant::now();
        let ids = [10, 11, 12];
        let names: Vec<String> = (0..3).map(|i| format!("e{i}")).collect();
        let o = obs(t0, &[(false, 10, None, 0), (true, 11, Some(12), 0), (true, 12, Some(12), 0)]);
        assert_eq!(etcd_roles(&o, &names, &ids), "e0 silent, e1 follows e2 (term 1), e2 leader (term 1)");
    }
}
