//! `stagger bench failover | idle | capacity`: measurements of live groups
//! of real `stagger node` processes on 127.0.0.1 (issue 4 point 7;
//! `docs/benchmarks.md` has the numbers).
//!
//! Each benchmark writes a group file to a temporary folder, starts this
//! very executable as `stagger node` children on free loopback ports and
//! watches them through `GET /api/status`. Every child is registered in a
//! process-wide table, so it is killed and reaped whatever happens: on
//! return, on panic (the [`Cluster`]'s `Drop`) and on Ctrl-C or SIGTERM (a
//! signal thread stops them all, then exits with 130).
//!
//! **How time is measured.** One thread per watched member polls its
//! `/api/status` (a fresh `Connection: close` request each time, with a short
//! timeout) and records when it first saw each `(up, role, master)` state.
//! A failover ends at the first instant every survivor had been seen naming
//! the same new master and that master had been seen saying it is Master;
//! the instants are response times, so each measurement is late by at most
//! one poll interval plus one request round trip.

mod speed;

use super::CliError;
use clap::Subcommand;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod compare;
mod docs;
mod etcd;
mod fig16;
mod loses;
mod plot;
mod progress;

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
    /// Failover against etcd (issue 5 point 5): five stagger members, then
    /// five etcd members (Debian `etcd-server`, installed if missing), on
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
}

pub fn run(what: BenchCommand) -> Result<(), CliError> {
    install_signal_handler();
    match what {
        BenchCommand::Failover { kills, json } => failover(kills, json),
        BenchCommand::Idle { seconds, json } => idle(seconds, json),
        BenchCommand::Capacity { max, json } => capacity(max, json),
        BenchCommand::Speed(args) => speed::run(args),
        BenchCommand::RaftFig16(args) => fig16::run(args),
        BenchCommand::Compare(args) => compare::run(args),
        BenchCommand::Loses(args) => loses::run(args),
        BenchCommand::Etcd { kills, json } => etcd::run(kills, json),
    }
}

fn fail(what: impl Into<String>) -> CliError {
    CliError::Io { path: "stagger bench".into(), source: std::io::Error::other(what.into()) }
}

// ---------------------------------------------------------------------------
// Children: every node process is registered here until it is reaped.

struct Registry {
    /// Set by the signal thread: no child may be started any more.
    stopping: bool,
    children: BTreeMap<u32, Child>,
    dirs: Vec<PathBuf>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { stopping: false, children: BTreeMap::new(), dirs: Vec::new() });

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

fn reap(mut c: Child) {
    let _ = c.kill(); // SIGKILL on unix
    let _ = c.wait();
}

/// Puts a freshly spawned child in the registry and returns its pid; after
/// Ctrl-C it is reaped at once instead, and the start fails.
fn register(child: Child) -> Result<u32, CliError> {
    let pid = child.id();
    let mut r = registry();
    if r.stopping {
        drop(r);
        reap(child);
        return Err(fail("interrupted"));
    }
    r.children.insert(pid, child);
    Ok(pid)
}

/// SIGKILLs and reaps a registered child, if it is still there.
fn unregister(pid: u32) {
    let child = registry().children.remove(&pid);
    if let Some(c) = child {
        reap(c);
    }
}

/// The first of `pids` whose registered process has exited on its own, by
/// position, with its status.
fn first_exited(pids: &[Option<u32>]) -> Option<(usize, std::process::ExitStatus)> {
    let mut r = registry();
    pids.iter().enumerate().find_map(|(i, pid)| Some((i, r.children.get_mut(pid.as_ref()?)?.try_wait().ok()??)))
}

/// Ctrl-C or SIGTERM: kill and reap every child, remove the group files,
/// exit 130.
fn install_signal_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let spawned = std::thread::Builder::new().name("bench-signals".into()).spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                #[cfg(unix)]
                {
                    use tokio::signal::unix::{signal, SignalKind};
                    match signal(SignalKind::terminate()) {
                        Ok(mut term) => tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} },
                        Err(_) => {
                            let _ = tokio::signal::ctrl_c().await;
                        }
                    }
                }
                #[cfg(not(unix))]
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            });
            eprintln!("stagger bench: interrupted; stopping every node");
            let (children, dirs) = {
                let mut r = registry();
                r.stopping = true;
                (std::mem::take(&mut r.children), std::mem::take(&mut r.dirs))
            };
            for (_, c) in children {
                reap(c);
            }
            for d in dirs {
                let _ = std::fs::remove_dir_all(d);
            }
            std::process::exit(130);
        });
        if spawned.is_err() {
            eprintln!("warning: no signal thread; Ctrl-C may leave nodes running");
        }
    });
}

/// The parameters of a benchmark group.
#[derive(Clone, Copy, Debug)]
struct Setup {
    n: usize,
    delay_ms: f64,
    emulate: bool,
    base_ms: f64,
    guard_ms: f64,
    period_ms: f64,
    timeout_ms: f64,
    /// Consecutive unanswered inquiries before the master counts as failed.
    misses: u32,
}

impl Setup {
    /// As in `node/tests/live.rs`.
    fn lan5() -> Setup {
        Setup { n: 5, delay_ms: 2.0, emulate: true, base_ms: 30.0, guard_ms: 50.0, period_ms: 300.0, timeout_ms: 150.0, misses: 1 }
    }

    fn capacity(n: usize) -> Setup {
        Setup { n, delay_ms: 1.0, emulate: false, base_ms: 30.0, guard_ms: 50.0, period_ms: 500.0, timeout_ms: 300.0, misses: 1 }
    }

    fn json(&self) -> Value {
        json!({
            "members": self.n, "delay_ms": self.delay_ms, "emulate_delays": self.emulate,
            "timer": {"scheme": "integral", "base_ms": self.base_ms, "guard_ms": self.guard_ms},
            "period_ms": self.period_ms, "timeout_ms": self.timeout_ms, "misses": self.misses,
        })
    }
}

/// A group of `stagger node` children. Dropping it kills and reaps them all.
struct Cluster {
    dir: PathBuf,
    file: PathBuf,
    exe: PathBuf,
    ids: Vec<String>,
    addrs: Vec<SocketAddr>,
    pids: Vec<Option<u32>>,
    /// `D_i` by index, in ms.
    d_ms: Vec<f64>,
}

impl Cluster {
    fn new(s: &Setup, name: &str) -> Result<Cluster, CliError> {
        let exe = std::env::current_exe().map_err(|e| fail(format!("cannot find this executable: {e}")))?;
        let width = (s.n - 1).to_string().len();
        let ids: Vec<String> = (0..s.n).map(|i| format!("s{i:0width$}")).collect();
        // Hold every port until all are picked, so no two are the same.
        let listeners = (0..s.n)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| fail(format!("cannot bind 127.0.0.1:0: {e}")))?;
        let addrs = listeners.iter().map(|l| l.local_addr()).collect::<std::io::Result<Vec<_>>>().map_err(|e| fail(e.to_string()))?;
        drop(listeners);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let n = s.n;
        let file = json!({
            "name": name,
            "servers": ids.iter().zip(&addrs).map(|(id, a)| json!({"id": id, "addr": a.to_string()})).collect::<Vec<_>>(),
            "ranking": ids,
            "delays_ms": (0..n).map(|j| (0..n).map(|k| if j == k { 0.0 } else { s.delay_ms }).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "timer": {"scheme": "integral", "base_ms": s.base_ms, "guard_ms": s.guard_ms},
            "detection": {"period_ms": s.period_ms, "timeout_ms": s.timeout_ms, "misses": s.misses},
            "announce_every": 0,
            "secret": format!("bench-{:x}-{nanos:x}", std::process::id()),
            "emulate_delays": s.emulate,
        });
        let text = file.to_string();
        let group = crate::group::Group::from_json(&text).map_err(|e| fail(format!("the benchmark's group file is invalid: {e}")))?;
        let d_ms =
            stagger_core::delays::election_delays(&group.scenario).map(|d| d.iter().map(|x| x.as_ms()).collect()).unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("stagger-bench-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        registry().dirs.push(dir.clone());
        let path = dir.join("group.json");
        let cluster = Cluster { dir, file: path.clone(), exe, ids, addrs, pids: vec![None; n], d_ms };
        std::fs::write(&path, text).map_err(|e| fail(format!("{}: {e}", path.display())))?;
        Ok(cluster)
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn spawn(&mut self, i: usize) -> Result<(), CliError> {
        let child = Command::new(&self.exe)
            .arg("node")
            .arg("--group")
            .arg(&self.file)
            .args(["--id", &self.ids[i]])
            .env_remove("STAGGER_ADMIN_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(format!("cannot start {} node: {e}", self.exe.display())))?;
        self.pids[i] = Some(register(child)?);
        Ok(())
    }

    fn spawn_all(&mut self) -> Result<(), CliError> {
        (0..self.len()).try_for_each(|i| self.spawn(i))
    }

    /// SIGKILL: no goodbye to anyone.
    fn kill9(&mut self, i: usize) {
        if let Some(pid) = self.pids[i].take() {
            unregister(pid);
        }
    }

    /// An error naming the first member whose process has exited.
    fn check_alive(&self) -> Result<(), CliError> {
        match first_exited(&self.pids) {
            Some((i, status)) => Err(fail(format!("node {} ({}) exited on its own: {status}", self.ids[i], self.addrs[i]))),
            None => Ok(()),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.len() {
            self.kill9(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        registry().dirs.retain(|d| *d != self.dir);
    }
}

// ---------------------------------------------------------------------------
// Watching: /api/status pollers.

/// What a poller last saw of one member.
#[derive(Clone, Debug)]
struct Obs {
    /// The last request was answered.
    ok: bool,
    up: bool,
    role: String,
    master: Option<String>,
    index: u32,
    connected: usize,
    /// When the current `(up, role, master)` was first seen.
    since: Instant,
}

/// One `GET` on a fresh connection; the body of a 200 answer.
fn get(addr: SocketAddr, path: &str, timeout: Duration) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.set_write_timeout(Some(timeout)).ok()?;
    let _ = s.set_nodelay(true);
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = Vec::with_capacity(1024);
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

/// One `GET /api/status`.
fn status(addr: SocketAddr, timeout: Duration) -> Option<Value> {
    serde_json::from_str(&get(addr, "/api/status", timeout)?).ok()
}

/// What a [`Poller`] keeps of one member: how to ask it, and how to fold
/// the answer into what was seen. `stagger node`s and etcd members are both
/// watched this way.
trait Watch: Clone + Send + 'static {
    type Reply;
    /// What a poller has seen before any answer.
    fn blank(now: Instant) -> Self;
    /// One request, made without holding the poller's lock.
    fn fetch(addr: SocketAddr, timeout: Duration) -> Option<Self::Reply>;
    /// Folds an answer (`None`: no answer) received at `at`.
    fn apply(&mut self, got: Option<Self::Reply>, at: Instant);
}

impl Watch for Obs {
    type Reply = Value;

    fn blank(now: Instant) -> Obs {
        Obs { ok: false, up: false, role: String::new(), master: None, index: 0, connected: 0, since: now }
    }

    fn fetch(addr: SocketAddr, timeout: Duration) -> Option<Value> {
        status(addr, timeout)
    }

    fn apply(&mut self, got: Option<Value>, at: Instant) {
        // A failed request only clears `ok`: a slow answer under load must
        // not restart the member's streak.
        let Some(v) = got else {
            self.ok = false;
            return;
        };
        let up = v["up"].as_bool().unwrap_or(false);
        let role = v["role"].as_str().unwrap_or("").to_string();
        let master = v["master"].as_str().map(str::to_string);
        if up != self.up || role != self.role || master != self.master {
            self.since = at;
        }
        self.ok = true;
        self.up = up;
        self.role = role;
        self.master = master;
        self.index = v["index"].as_u64().unwrap_or(0) as u32;
        self.connected = v["peers"].as_array().map_or(0, |p| p.iter().filter(|p| p["state"] == "connected").count());
    }
}

struct PollShared<O> {
    addrs: Vec<SocketAddr>,
    obs: Mutex<Vec<O>>,
    stop: AtomicBool,
    interval_us: AtomicU64,
    timeout: Duration,
}

/// Threads that keep polling every member's status.
struct Poller<O: Watch = Obs> {
    shared: Arc<PollShared<O>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl<O: Watch> Poller<O> {
    fn start(addrs: &[SocketAddr], threads: usize, interval: Duration, timeout: Duration) -> Poller<O> {
        let blank = O::blank(Instant::now());
        let shared = Arc::new(PollShared {
            addrs: addrs.to_vec(),
            obs: Mutex::new(vec![blank; addrs.len()]),
            stop: AtomicBool::new(false),
            interval_us: AtomicU64::new(interval.as_micros() as u64),
            timeout,
        });
        let threads = threads.clamp(1, addrs.len().max(1));
        let handles = (0..threads)
            .map(|t| {
                let sh = shared.clone();
                std::thread::spawn(move || poll_loop(&sh, t, threads))
            })
            .collect();
        Poller { shared, threads: handles }
    }

    fn set_interval(&self, d: Duration) {
        self.shared.interval_us.store(d.as_micros() as u64, Ordering::SeqCst);
    }

    fn snapshot(&self) -> Vec<O> {
        self.shared.obs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl<O: Watch> Drop for Poller<O> {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn poll_loop<O: Watch>(sh: &PollShared<O>, first: usize, step: usize) {
    while !sh.stop.load(Ordering::SeqCst) {
        for i in (first..sh.addrs.len()).step_by(step) {
            let got = O::fetch(sh.addrs[i], sh.timeout);
            let at = Instant::now();
            sh.obs.lock().unwrap_or_else(|p| p.into_inner())[i].apply(got, at);
        }
        let wait = Duration::from_micros(sh.interval_us.load(Ordering::SeqCst));
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

/// Every member of `who` answers, is up and names the same master, which
/// is one of `who` and the only one saying Master. Returns the master's row
/// and when the last of them was first seen in that state.
fn agreement(obs: &[Obs], who: &[usize], ids: &[String]) -> Option<(usize, Instant)> {
    let master = obs[*who.first()?].master.clone()?;
    let row = ids.iter().position(|x| *x == master)?;
    if !who.contains(&row) {
        return None;
    }
    let mut since = obs[who[0]].since;
    for &i in who {
        let o = &obs[i];
        let role_ok = if i == row { o.role == "Master" } else { o.role != "Master" };
        if !o.ok || !o.up || o.master.as_deref() != Some(master.as_str()) || !role_ok {
            return None;
        }
        since = since.max(o.since);
    }
    Some((row, since))
}

/// [`agreement`] among all members, each connected to all the others.
fn healthy(obs: &[Obs], ids: &[String]) -> Option<usize> {
    let all: Vec<usize> = (0..ids.len()).collect();
    let (row, _) = agreement(obs, &all, ids)?;
    obs.iter().all(|o| o.connected + 1 == ids.len()).then_some(row)
}

/// Polls `ok` until it returns something or `limit` passes; fails early if
/// a node process dies.
fn wait<T>(c: &Cluster, p: &Poller, limit: Duration, ok: impl Fn(&[Obs]) -> Option<T>) -> Result<Option<T>, CliError> {
    poll_until(limit, || p.snapshot(), || c.check_alive(), |o| ok(o))
}

/// Checks `ok` on a fresh `snapshot` every millisecond until it returns
/// something or `limit` passes; every 200 ms, `alive` may fail the wait
/// (a process died). Shared by the stagger and the etcd side.
fn poll_until<S, T>(
    limit: Duration,
    snapshot: impl Fn() -> Vec<S>,
    alive: impl Fn() -> Result<(), CliError>,
    ok: impl Fn(&[S]) -> Option<T>,
) -> Result<Option<T>, CliError> {
    let start = Instant::now();
    let mut checked = Instant::now();
    loop {
        if let Some(x) = ok(&snapshot()) {
            return Ok(Some(x));
        }
        if start.elapsed() > limit {
            return Ok(None);
        }
        if checked.elapsed() > Duration::from_millis(200) {
            alive()?;
            checked = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A short account of what the members report, for error messages.
fn describe(obs: &[Obs], ids: &[String]) -> String {
    let masters: Vec<&str> = ids.iter().zip(obs).filter(|(_, o)| o.ok && o.role == "Master").map(|(id, _)| id.as_str()).collect();
    let silent = obs.iter().filter(|o| !o.ok).count();
    let full = obs.iter().filter(|o| o.ok && o.connected + 1 == ids.len()).count();
    format!("{} of {} fully connected, {silent} not answering, masters {:?}", full, ids.len(), masters)
}

/// Who says what: `s0 Master, s1 Backup of s0, s2 silent, …`.
fn roles(obs: &[Obs], ids: &[String]) -> String {
    let one = |(id, o): (&String, &Obs)| match (o.ok, o.role.as_str(), &o.master) {
        (false, _, _) => format!("{id} silent"),
        (true, "Master", _) => format!("{id} Master"),
        (true, role, Some(m)) => format!("{id} {role} of {m}"),
        (true, role, None) => format!("{id} {role}"),
    };
    ids.iter().zip(obs).map(one).collect::<Vec<_>>().join(", ")
}

/// Saves every member's `/api/trace` to a folder that outlives the run.
fn save_traces(c: &Cluster, label: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("stagger-bench-traces-{}", std::process::id())).join(label);
    std::fs::create_dir_all(&dir).ok()?;
    for (id, addr) in c.ids.iter().zip(&c.addrs) {
        let body = get(*addr, "/api/trace", Duration::from_secs(2)).unwrap_or_else(|| "null".into());
        std::fs::write(dir.join(format!("{id}.json")), body).ok()?;
    }
    Some(dir)
}

// ---------------------------------------------------------------------------
// The machine.

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn loadavg() -> Option<[f64; 3]> {
    let t = read("/proc/loadavg")?;
    let v: Vec<f64> = t.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
    (v.len() == 3).then(|| [v[0], v[1], v[2]])
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    read("/proc/cpuinfo")
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

fn machine() -> Value {
    json!({"cores": cores(), "cpu": cpu_model(), "load_average": loadavg()})
}

/// The machine and its load average (1, 5, 15 min) before the run and now.
fn machine_line(before: Option<[f64; 3]>) -> String {
    let show = |l: Option<[f64; 3]>| l.map_or("n/a".to_string(), |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]));
    format!("machine: {} cores ({}), load average {} before, {} after", cores(), cpu_model(), show(before), show(loadavg()))
}

/// Clock ticks per second for /proc/PID/stat (`getconf CLK_TCK`, else 100).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// utime + stime of a process, in ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = read(&format!("/proc/{pid}/stat"))?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// A `kB` line of /proc/PID/status, in KiB (or a plain count, for Threads).
fn status_field(pid: u32, key: &str) -> Option<u64> {
    let s = read(&format!("/proc/{pid}/status"))?;
    let line = s.lines().find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))?;
    line[key.len() + 1..].split_whitespace().next()?.parse().ok()
}

/// The soft and hard open-file limits of this process (inherited by the
/// nodes), as /proc/self/limits states them.
fn open_file_limit() -> Option<(String, String)> {
    let t = read("/proc/self/limits")?;
    let line = t.lines().find(|l| l.starts_with("Max open files"))?;
    let mut f = line["Max open files".len()..].split_whitespace();
    Some((f.next()?.to_string(), f.next()?.to_string()))
}

/// CPU and memory of a set of processes over an interval.
struct Usage {
    /// Per process: CPU % of one core over the interval.
    cpu_pct: Vec<f64>,
    rss_kib: Vec<u64>,
    hwm_kib: Vec<u64>,
    threads: Vec<u64>,
}

fn measure_idle(pids: &[u32], secs: f64) -> Result<Usage, CliError> {
    let hz = clock_ticks();
    let before: Vec<Option<u64>> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let after: Vec<Option<u64>> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    let elapsed = start.elapsed().as_secs_f64();
    let mut u = Usage { cpu_pct: Vec::new(), rss_kib: Vec::new(), hwm_kib: Vec::new(), threads: Vec::new() };
    for (k, &pid) in pids.iter().enumerate() {
        let (Some(b), Some(a)) = (before[k], after[k]) else {
            return Err(fail(format!("cannot read /proc/{pid}/stat (this benchmark needs Linux /proc)")));
        };
        u.cpu_pct.push(a.saturating_sub(b) as f64 / hz / elapsed * 100.0);
        u.rss_kib.push(status_field(pid, "VmRSS").unwrap_or(0));
        u.hwm_kib.push(status_field(pid, "VmHWM").unwrap_or(0));
        u.threads.push(status_field(pid, "Threads").unwrap_or(0));
    }
    Ok(u)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

// ---------------------------------------------------------------------------
// Statistics.

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn summary(values: &[f64]) -> Value {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return json!({"count": 0});
    }
    let mean = s.iter().sum::<f64>() / s.len() as f64;
    json!({
        "count": s.len(), "min": r3(s[0]), "median": r3(median(&s)), "mean": r3(mean),
        "p90": r3(percentile(&s, 90.0)), "p99": r3(percentile(&s, 99.0)), "max": r3(s[s.len() - 1]),
    })
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn ms_since(t: Instant, from: Instant) -> f64 {
    t.saturating_duration_since(from).as_secs_f64() * 1000.0
}

/// A small seeded generator for the kill phase.
fn seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) ^ std::process::id() as u64
}

// ---------------------------------------------------------------------------
// stagger bench failover

/// Poll interval while a failover is being timed, and otherwise.
const FAST: Duration = Duration::from_millis(2);
const SLOW: Duration = Duration::from_millis(25);
/// How long a restarted member has to rejoin (normally well under 1 s; the
/// dialers' backoff is at most 2 s).
const REJOIN: Duration = Duration::from_secs(10);

struct Kill {
    killed: usize,
    killed_index: u32,
    /// The new master, if the survivors agreed within the limit.
    winner: Option<usize>,
    winner_index: Option<u32>,
    lowest_live: String,
    lowest_live_index: u32,
    ms: Option<f64>,
    /// From the restart of the killed member until all five agree again,
    /// fully connected.
    rejoin_ms: Option<f64>,
    /// The master after the rejoin (the winner, unless the rejoin disturbed it).
    master_after: Option<usize>,
    /// What the members said when the rejoin did not settle, and where
    /// their traces were saved.
    rejoin_failure: Option<String>,
    traces: Option<PathBuf>,
}

fn failover(kills: u32, as_json: bool) -> Result<(), CliError> {
    if kills == 0 {
        return Err(CliError::Usage("--kills must be at least 1".into()));
    }
    let setup = Setup::lan5();
    let load_before = loadavg();
    let mut c = Cluster::new(&setup, "bench-failover")?;
    let ids = c.ids.clone();
    let n = c.len();
    c.spawn_all()?;
    let p = Poller::start(&c.addrs, n, SLOW, Duration::from_millis(500));
    let formed = Instant::now();
    let Some(first) = wait(&c, &p, Duration::from_secs(20), |o| healthy(o, &ids))? else {
        return Err(fail(format!("the group did not form within 20 s: {}", describe(&p.snapshot(), &ids))));
    };
    if !as_json {
        eprintln!("group formed in {:.0} ms; master {}", ms_since(Instant::now(), formed), ids[first]);
    }
    let d_ms = c.d_ms.clone();
    let addrs: Vec<String> = c.addrs.iter().map(|a| a.to_string()).collect();
    let d1 = d_ms.get(1).copied().unwrap_or(0.0);
    let bound = |d: f64| setup.period_ms + setup.timeout_ms + d + setup.delay_ms + 50.0;
    let mut rng = stagger_core::Rng::new(seed());
    let mut runs: Vec<Kill> = Vec::new();
    let mut aborted = None;
    for k in 0..kills {
        // Land the kill at a uniformly random phase of the detection grid.
        std::thread::sleep(Duration::from_micros(rng.below((setup.period_ms * 1000.0) as u64)));
        p.set_interval(FAST);
        std::thread::sleep(SLOW + Duration::from_millis(5));
        let Some(master) = wait(&c, &p, Duration::from_secs(20), |o| healthy(o, &ids))? else {
            aborted = Some(format!("before kill {}: the group is not healthy: {}", k + 1, describe(&p.snapshot(), &ids)));
            break;
        };
        let before = p.snapshot();
        let killed_index = before[master].index;
        let survivors: Vec<usize> = (0..n).filter(|&i| i != master).collect();
        let lowest = *survivors.iter().min_by_key(|&&i| before[i].index).expect("four survivors");
        let t0 = Instant::now();
        c.kill9(master);
        let got = wait(&c, &p, Duration::from_secs(10), |o| agreement(o, &survivors, &ids).filter(|(_, since)| *since > t0))?;
        p.set_interval(SLOW);
        let after = p.snapshot();
        let mut run = Kill {
            killed: master,
            killed_index,
            winner: got.map(|(w, _)| w),
            winner_index: got.map(|(w, _)| after[w].index),
            lowest_live: ids[lowest].clone(),
            lowest_live_index: before[lowest].index,
            ms: got.map(|(_, since)| ms_since(since, t0)),
            rejoin_ms: None,
            master_after: None,
            rejoin_failure: None,
            traces: None,
        };
        // Restart the killed member: it rejoins as a Backup.
        let killed = master;
        c.spawn(killed)?;
        let t1 = Instant::now();
        let rejoined = wait(&c, &p, REJOIN, |o| healthy(o, &ids))?;
        run.rejoin_ms = rejoined.map(|_| ms_since(Instant::now(), t1));
        run.master_after = rejoined;
        let mut repaired = rejoined.is_some();
        if rejoined.is_none() {
            // Keep the evidence, then restart the rejoining member until the
            // group is one again, so the remaining kills still count.
            run.rejoin_failure = Some(roles(&p.snapshot(), &ids));
            run.traces = save_traces(&c, &format!("kill-{}", k + 1));
            for _ in 0..3 {
                c.kill9(killed);
                c.spawn(killed)?;
                if wait(&c, &p, REJOIN, |o| healthy(o, &ids))?.is_some() {
                    repaired = true;
                    break;
                }
            }
        }
        if !as_json {
            eprintln!(
                "kill {:>3}/{kills}: {} -> {} in {}, rejoined in {}",
                k + 1,
                ids[killed],
                run.winner.map_or("nobody".to_string(), |w| ids[w].clone()),
                run.ms.map_or("(no agreement within 10 s)".to_string(), |m| format!("{m:.1} ms")),
                run.rejoin_ms.map_or("(not within 10 s)".to_string(), |m| format!("{m:.0} ms")),
            );
            if let Some(f) = &run.rejoin_failure {
                eprintln!(
                    "    rejoin did not settle: {f}; traces in {}",
                    run.traces.as_ref().map_or("(not saved)".into(), |t| t.display().to_string())
                );
            }
        }
        runs.push(run);
        if !repaired {
            aborted = Some(format!("after kill {}: the group did not heal after 4 restarts: {}", k + 1, roles(&p.snapshot(), &ids)));
            break;
        }
    }
    drop(p);
    drop(c);
    let load_after = loadavg();

    let times: Vec<f64> = runs.iter().filter_map(|r| r.ms).collect();
    let converged = times.len();
    let lowest_always = runs.iter().all(|r| r.winner_index.is_some_and(|w| w == r.lowest_live_index));
    let lowest_count = runs.iter().filter(|r| r.winner_index.is_some_and(|w| w == r.lowest_live_index)).count();
    let stable = runs.iter().filter(|r| r.master_after.is_some() && r.master_after == r.winner).count();
    let bound_1 = bound(d1);
    let within = runs.iter().filter(|r| r.ms.is_some_and(|m| m <= bound_1)).count();
    let rejoin: Vec<f64> = runs.iter().filter_map(|r| r.rejoin_ms).collect();
    let rejoin_failures = runs.iter().filter(|r| r.rejoin_failure.is_some()).count();
    let out = json!({
        "bench": "failover",
        "setup": setup.json(),
        "addrs": addrs,
        "d_ms": d_ms,
        "bound_ms": bound_1,
        "bound": "P + tau + D_1 + max delay + 50 ms",
        "poll_interval_ms": FAST.as_secs_f64() * 1000.0,
        "kills": kills,
        "runs_done": runs.len(),
        "converged": converged,
        "all_converged": converged == kills as usize && aborted.is_none(),
        "within_bound": within,
        "winner_always_lowest_live_index": lowest_always && !runs.is_empty(),
        "winner_lowest_live_index_count": lowest_count,
        "master_kept_after_rejoin": stable,
        "rejoin_failures": rejoin_failures,
        "failover_ms": summary(&times),
        "rejoin_ms": summary(&rejoin),
        "runs": runs.iter().map(|r| json!({
            "killed": ids[r.killed], "killed_index": r.killed_index,
            "winner": r.winner.map(|w| ids[w].clone()), "winner_index": r.winner_index,
            "lowest_live": r.lowest_live, "lowest_live_index": r.lowest_live_index,
            "converged": r.ms.is_some(), "ms": r.ms.map(r3),
            "rejoin_ms": r.rejoin_ms.map(r3), "master_after_rejoin": r.master_after.map(|m| ids[m].clone()),
            "rejoin_failure": r.rejoin_failure, "traces": r.traces.as_ref().map(|t| t.display().to_string()),
        })).collect::<Vec<_>>(),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "aborted": aborted,
    });
    if as_json {
        println!("{out}");
    } else {
        println!("stagger bench failover: {n} members on 127.0.0.1, {} kills of the master (SIGKILL)", runs.len());
        println!(
            "  P = {} ms, tau = {} ms, integral T1 = {} ms, guard {} ms, {} ms delays (emulated); D_i = {:?} ms",
            setup.period_ms, setup.timeout_ms, setup.base_ms, setup.guard_ms, setup.delay_ms, d_ms
        );
        println!("  status polled every {} ms per member; {}", FAST.as_millis(), machine_line(load_before));
        println!();
        println!("  kill  killed  winner  lowest live   failover     rejoin");
        for (k, r) in runs.iter().enumerate() {
            println!(
                "  {:>4}  {:<6}  {:<6}  {:<11}  {:>9}  {:>9}",
                k + 1,
                ids[r.killed],
                r.winner.map_or("-".to_string(), |w| ids[w].clone()),
                r.lowest_live,
                r.ms.map_or("never".to_string(), |m| format!("{m:.1} ms")),
                r.rejoin_ms.map_or("never".to_string(), |m| format!("{m:.0} ms")),
            );
        }
        println!();
        let f = |k: &str| out["failover_ms"][k].as_f64().map_or("-".to_string(), |v| format!("{v:.1} ms"));
        println!(
            "  failover: median {}, p90 {}, p99 {}, max {} (min {}, mean {}; nearest-rank percentiles of {converged} kills)",
            f("median"),
            f("p90"),
            f("p99"),
            f("max"),
            f("min"),
            f("mean")
        );
        println!("  bound P + tau + D_1 + max delay + 50 ms = {bound_1} ms: {within} of {} within", runs.len());
        println!("  the winner was the lowest live index in {lowest_count} of {} kills", runs.len());
        println!("  the restarted member rejoined as a Backup without changing the master in {stable} of {}", runs.len());
        let r = |k: &str| out["rejoin_ms"][k].as_f64().map_or("-".to_string(), |v| format!("{v:.0} ms"));
        println!("  rejoin (restart until all five agree, fully connected): median {}, max {}", r("median"), r("max"));
        if rejoin_failures > 0 {
            println!("  the rejoin did NOT settle within {} s in {rejoin_failures} of {} kills:", REJOIN.as_secs(), runs.len());
            for (k, r) in runs.iter().enumerate().filter(|(_, r)| r.rejoin_failure.is_some()) {
                let t = r.traces.as_ref().map_or("(not saved)".into(), |t| t.display().to_string());
                println!("    kill {}: {}; traces in {t}", k + 1, r.rejoin_failure.as_deref().unwrap_or(""));
            }
        }
        if let Some(a) = &aborted {
            println!("  ABORTED: {a}");
        }
    }
    if let Some(a) = aborted {
        return Err(fail(a));
    }
    if converged < kills as usize {
        return Err(fail(format!("{} of {kills} kills did not converge within 10 s", kills as usize - converged)));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// stagger bench idle

fn idle(seconds: u64, as_json: bool) -> Result<(), CliError> {
    if seconds == 0 {
        return Err(CliError::Usage("--seconds must be at least 1".into()));
    }
    let setup = Setup::lan5();
    let mut c = Cluster::new(&setup, "bench-idle")?;
    let ids = c.ids.clone();
    c.spawn_all()?;
    let p = Poller::start(&c.addrs, c.len(), SLOW, Duration::from_millis(500));
    let Some(master) = wait(&c, &p, Duration::from_secs(20), |o| healthy(o, &ids))? else {
        return Err(fail(format!("the group did not form within 20 s: {}", describe(&p.snapshot(), &ids))));
    };
    // No polling while idle: only the nodes' own traffic counts.
    drop(p);
    std::thread::sleep(Duration::from_secs(1));
    let pids: Vec<u32> = c.pids.iter().map(|p| p.expect("all started")).collect();
    let load_before = loadavg();
    if !as_json {
        eprintln!("idling {seconds} s with master {} ...", ids[master]);
    }
    let u = measure_idle(&pids, seconds as f64)?;
    let load_after = loadavg();
    c.check_alive()?;
    let p = Poller::start(&c.addrs, c.len(), SLOW, Duration::from_millis(500));
    let still = wait(&c, &p, Duration::from_secs(5), |o| healthy(o, &ids))?;
    drop(p);
    drop(c);
    let total_cpu: f64 = u.cpu_pct.iter().sum();
    let total_rss: u64 = u.rss_kib.iter().sum();
    let out = json!({
        "bench": "idle",
        "setup": setup.json(),
        "seconds": seconds,
        "master": ids[master],
        "still_healthy_after": still.is_some(),
        "nodes": ids.iter().enumerate().map(|(i, id)| json!({
            "id": id, "cpu_percent": r3(u.cpu_pct[i]), "rss_mib": r3(mib(u.rss_kib[i])),
            "peak_rss_mib": r3(mib(u.hwm_kib[i])), "threads": u.threads[i],
        })).collect::<Vec<_>>(),
        "cpu_percent_per_node_mean": r3(total_cpu / ids.len() as f64),
        "cpu_percent_total": r3(total_cpu),
        "rss_mib_per_node_mean": r3(mib(total_rss) / ids.len() as f64),
        "rss_mib_total": r3(mib(total_rss)),
        "clock_ticks_per_s": clock_ticks(),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_after,
    });
    if as_json {
        println!("{out}");
    } else {
        println!(
            "stagger bench idle: {} members idle for {seconds} s (P = {} ms, tau = {} ms)",
            ids.len(),
            setup.period_ms,
            setup.timeout_ms
        );
        println!("  CPU time (utime + stime) from /proc/PID/stat at {} ticks/s; RSS from /proc/PID/status", clock_ticks());
        println!("  {}", machine_line(load_before));
        println!();
        println!("  node  role     CPU (% of one core)  RSS       peak RSS  threads");
        for (i, id) in ids.iter().enumerate() {
            println!(
                "  {:<4}  {:<7}  {:>19.2}  {:>5.1} MiB  {:>5.1} MiB  {:>7}",
                id,
                if i == master { "Master" } else { "Backup" },
                u.cpu_pct[i],
                mib(u.rss_kib[i]),
                mib(u.hwm_kib[i]),
                u.threads[i]
            );
        }
        println!();
        println!("  per node (mean): {:.2} % CPU, {:.1} MiB RSS", total_cpu / ids.len() as f64, mib(total_rss) / ids.len() as f64);
        println!("  all {}: {:.2} % CPU, {:.1} MiB RSS", ids.len(), total_cpu, mib(total_rss));
        println!("  still one master, fully connected, after the idle: {}", if still.is_some() { "yes" } else { "NO" });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// stagger bench capacity

struct Step {
    n: usize,
    spawn_ms: f64,
    formed_ms: Option<f64>,
    failover_ms: Option<f64>,
    cpu_total: Option<f64>,
    rss_total_kib: Option<u64>,
    note: Option<String>,
}

fn capacity(max: usize, as_json: bool) -> Result<(), CliError> {
    if max < 5 {
        return Err(CliError::Usage("--max must be at least 5".into()));
    }
    let mut sizes = Vec::new();
    let mut n = 5;
    while n <= max {
        sizes.push(n);
        n *= 2;
    }
    if sizes.last() != Some(&max) {
        sizes.push(max);
    }
    let limit = Duration::from_secs(30);
    let files = open_file_limit();
    let load_before = loadavg();
    let mut steps: Vec<Step> = Vec::new();
    let mut rng = stagger_core::Rng::new(seed());
    for &n in &sizes {
        let setup = Setup::capacity(n);
        let mut c = Cluster::new(&setup, &format!("bench-capacity-{n}"))?;
        let ids = c.ids.clone();
        if !as_json {
            eprintln!("N = {n}: starting {n} nodes ({} connections) ...", n * (n - 1) / 2);
        }
        let t0 = Instant::now();
        c.spawn_all()?;
        let spawn_ms = ms_since(Instant::now(), t0);
        let threads = 4.min(n);
        let p = Poller::start(&c.addrs, threads, Duration::from_millis(50), Duration::from_secs(2));
        let mut step = Step { n, spawn_ms, formed_ms: None, failover_ms: None, cpu_total: None, rss_total_kib: None, note: None };
        let formed = wait(&c, &p, limit, |o| healthy(o, &ids))?;
        let Some(master) = formed else {
            step.note = Some(format!("did not form within 30 s: {}", describe(&p.snapshot(), &ids)));
            steps.push(step);
            break;
        };
        step.formed_ms = Some(ms_since(Instant::now(), t0));
        drop(p);
        std::thread::sleep(Duration::from_secs(1));
        let pids: Vec<u32> = c.pids.iter().map(|p| p.expect("all started")).collect();
        let u = measure_idle(&pids, 5.0)?;
        step.cpu_total = Some(u.cpu_pct.iter().sum());
        step.rss_total_kib = Some(u.rss_kib.iter().sum());
        let p = Poller::start(&c.addrs, threads, Duration::from_millis(5), Duration::from_secs(2));
        if wait(&c, &p, limit, |o| healthy(o, &ids))?.is_none() {
            step.note = Some(format!("not healthy after the idle: {}", describe(&p.snapshot(), &ids)));
            steps.push(step);
            break;
        }
        // One kill, at a uniformly random phase of the detection grid.
        std::thread::sleep(Duration::from_micros(rng.below((setup.period_ms * 1000.0) as u64)));
        let survivors: Vec<usize> = (0..n).filter(|&i| i != master).collect();
        let t1 = Instant::now();
        c.kill9(master);
        let got = wait(&c, &p, limit, |o| agreement(o, &survivors, &ids).filter(|(_, s)| *s > t1))?;
        step.failover_ms = got.map(|(_, s)| ms_since(s, t1));
        if got.is_none() {
            step.note = Some(format!("no agreement within 30 s after killing {}: {}", ids[master], describe(&p.snapshot(), &ids)));
        }
        drop(p);
        drop(c);
        if !as_json {
            eprintln!(
                "N = {n}: formed in {}, failover {}, idle CPU {:.1} %, RSS {:.0} MiB",
                super::ms(step.formed_ms),
                super::ms(step.failover_ms),
                step.cpu_total.unwrap_or(0.0),
                mib(step.rss_total_kib.unwrap_or(0))
            );
        }
        let failed = step.note.is_some();
        steps.push(step);
        if failed {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    let load_after = loadavg();
    let passed: Vec<usize> = steps.iter().filter(|s| s.note.is_none()).map(|s| s.n).collect();
    let failed_at = steps.iter().find(|s| s.note.is_some()).map(|s| s.n);
    let out = json!({
        "bench": "capacity",
        "setup": Setup::capacity(0).json(),
        "converge_limit_s": limit.as_secs(),
        "open_files_limit": files.as_ref().map(|(s, h)| json!({"soft": s, "hard": h})),
        "largest_converged": passed.last(),
        "first_failed": failed_at,
        "steps": steps.iter().map(|s| json!({
            "members": s.n, "connections": s.n * (s.n - 1) / 2,
            "spawn_ms": r3(s.spawn_ms), "formed_ms": s.formed_ms.map(r3), "failover_ms": s.failover_ms.map(r3),
            "idle_cpu_percent_total": s.cpu_total.map(r3),
            "idle_cpu_percent_per_node": s.cpu_total.map(|c| r3(c / s.n as f64)),
            "rss_mib_total": s.rss_total_kib.map(|k| r3(mib(k))),
            "rss_mib_per_node": s.rss_total_kib.map(|k| r3(mib(k) / s.n as f64)),
            "failure": s.note,
        })).collect::<Vec<_>>(),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_after,
    });
    if as_json {
        println!("{out}");
        return Ok(());
    }
    println!("stagger bench capacity: one group of N members, each a process, on 127.0.0.1");
    println!("  P = 500 ms, tau = 300 ms, integral T1 = 30 ms, guard 50 ms, 1 ms delays (not emulated); 30 s to converge");
    println!("  {}", machine_line(load_before));
    if let Some((s, h)) = &files {
        println!("  open files (/proc/self/limits, inherited by the nodes): soft {s}, hard {h}; a node needs about N + 10");
    }
    println!();
    println!("      N  connections  start all  formed + elected   failover  idle CPU total  per node  RSS total  per node");
    for s in &steps {
        let cpu = |v: Option<f64>, d: f64| v.map_or("-".to_string(), |c| format!("{:.2} %", c / d));
        let rss = |v: Option<u64>, d: f64| v.map_or("-".to_string(), |k| format!("{:.1} MiB", mib(k) / d));
        println!(
            "  {:>5}  {:>11}  {:>9}  {:>16}  {:>9}  {:>14}  {:>8}  {:>9}  {:>8}",
            s.n,
            s.n * (s.n - 1) / 2,
            format!("{:.0} ms", s.spawn_ms),
            s.formed_ms.map_or("-".to_string(), |m| format!("{m:.0} ms")),
            s.failover_ms.map_or("-".to_string(), |m| format!("{m:.0} ms")),
            cpu(s.cpu_total, 1.0),
            cpu(s.cpu_total, s.n as f64),
            rss(s.rss_total_kib, 1.0),
            rss(s.rss_total_kib, s.n as f64),
        );
    }
    println!();
    match (passed.last(), failed_at) {
        (Some(ok), Some(bad)) => {
            println!("  limit: {ok} members converge; {bad} do not ({})", steps.last().and_then(|s| s.note.clone()).unwrap_or_default())
        }
        (None, Some(bad)) => {
            println!("  limit: even {bad} members do not converge ({})", steps.last().and_then(|s| s.note.clone()).unwrap_or_default())
        }
        (Some(ok), None) => println!("  no limit reached: every size up to {ok} converged"),
        (None, None) => {}
    }
    Ok(())
}
