//! `stagger-bench service` and `service-failover`: the replicated store
//! beside etcd on 127.0.0.1, side by side in one run
//! (`docs/benchmarks.md`, "The replicated service", has the numbers).
//!
//! `service`: writes per second and their latency through a Stagger master
//! with 2, 4 and 8 backups (every backup on disk before the answer), then
//! through etcd with the same number of members (its WAL fsynced before
//! the answer), with the same clients, keys and load code
//! ([`super::service_load`]).
//!
//! `service-failover`: the same load on five members while the master
//! (etcd: the leader) is killed with SIGKILL and restarted, again and
//! again, by the harness's one kill loop; for each kill, the window in
//! which no write completed. Both sides use the 100 ms period and the
//! 500 ms timeout budget of `stagger-bench etcd`.

use super::docs::publish;
use super::etcd::{form, stagger_setup, PLAN, TIMING};
use super::machine::{loadavg, machine, machine_line};
use super::names_backend::{Backend, Backing};
use super::service_load::{self as load, Target};
use super::{fail, judged, r3, seed, summary, BenchError};
use crate::harness::cluster::{healthy, Cluster, Poller};
use crate::harness::etcd::{find_etcd, EtcdCluster};
use crate::harness::group::{describe, GroupSetup, StaggerGroup};
use crate::harness::kills::{kill_loop_with, SLOW};
use crate::harness::nameserver::NameServer;
use crate::harness::poll_client;
use clap::Args;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct ServiceArgs {
    /// Backups behind the master, one run per number (etcd: as many
    /// members as the master and its backups).
    #[arg(long, value_delimiter = ',', default_values_t = vec![2, 4, 8])]
    pub backups: Vec<usize>,
    /// Concurrent writers, each on its own connection.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Keys written.
    #[arg(long, default_value_t = 1000)]
    pub keys: usize,
    /// Seconds measured per run (after one second of warm-up).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Skip etcd (for a machine without it).
    #[arg(long)]
    pub no_etcd: bool,
    #[arg(long)]
    pub json: bool,
    /// Also write the table into this Markdown file, between the markers
    /// `<!-- BEGIN generated: service -->` and its END.
    #[arg(long, value_name = "FILE")]
    pub docs: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ServiceFailoverArgs {
    /// How many masters (leaders) to kill on each side.
    #[arg(long, default_value_t = 30)]
    pub kills: u32,
    /// Concurrent writers.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    #[arg(long, default_value_t = 100)]
    pub keys: usize,
    #[arg(long)]
    pub no_etcd: bool,
    #[arg(long)]
    pub json: bool,
    /// Also write the table into this Markdown file, between the markers
    /// `<!-- BEGIN generated: service-failover -->` and its END.
    #[arg(long, value_name = "FILE")]
    pub docs: Option<PathBuf>,
}

fn usage(m: &str) -> Result<(), BenchError> {
    Err(BenchError::Usage(m.to_string()))
}

impl ServiceArgs {
    pub fn check(&self) -> Result<(), BenchError> {
        if self.backups.is_empty() || self.backups.iter().any(|b| !(1..=16).contains(b)) {
            return usage("--backups takes numbers between 1 and 16, e.g. 2,4,8");
        }
        if !(1..=512).contains(&self.clients) {
            return usage("--clients must be between 1 and 512");
        }
        if self.keys == 0 {
            return usage("--keys must be at least 1");
        }
        if !(self.seconds.is_finite() && self.seconds > 0.0 && self.seconds <= 3600.0) {
            return usage("--seconds must be more than 0 and at most 3600");
        }
        Ok(())
    }

    fn command(&self) -> String {
        let b: Vec<String> = self.backups.iter().map(|b| b.to_string()).collect();
        let mut c = format!(
            "stagger-bench service --backups {} --clients {} --keys {} --seconds {}",
            b.join(","),
            self.clients,
            self.keys,
            self.seconds
        );
        if self.no_etcd {
            c += " --no-etcd";
        }
        c
    }
}

impl ServiceFailoverArgs {
    pub fn check(&self) -> Result<(), BenchError> {
        if self.kills == 0 {
            return usage("--kills must be at least 1");
        }
        if !(1..=512).contains(&self.clients) {
            return usage("--clients must be between 1 and 512");
        }
        if self.keys == 0 {
            return usage("--keys must be at least 1");
        }
        Ok(())
    }

    fn command(&self) -> String {
        let mut c = format!("stagger-bench service-failover --kills {} --clients {} --keys {}", self.kills, self.clients, self.keys);
        if self.no_etcd {
            c += " --no-etcd";
        }
        c
    }
}

/// A Stagger group of `n` members registering at an embedded name server,
/// formed, with its master registered.
struct Served {
    group: StaggerGroup,
    poller: Poller<crate::harness::group::NodeSeen>,
    // Dropped after the group, whose nodes talk to it until they stop.
    ns: NameServer,
    _backing: Backing,
    name: String,
}

fn serve(stagger: &Path, setup: &GroupSetup, label: &str, say: &dyn Fn(String)) -> Result<Served, BenchError> {
    let backing = Backing::start(Backend::Embedded, None, 0, say)?;
    let ns = NameServer::start(stagger, &backing.store)?;
    let mut group = StaggerGroup::new(stagger, setup, label)?;
    group.name_server(&ns.url())?;
    let name = group.name()?;
    group.start_all()?;
    let poller = Poller::each(&group, SLOW, Duration::from_millis(500));
    if healthy(&mut group, &poller, Duration::from_secs(30))?.is_none() {
        return Err(fail(format!("the group did not form within 30 s: {}", describe(&poller.snapshot(), group.ids()))));
    }
    // The service answers once the master has registered and synced.
    let lookup = format!("{}/v1/groups/{name}", ns.url());
    let http = poll_client(Duration::from_millis(500));
    let start = Instant::now();
    loop {
        let v = http.get(&lookup).send().ok().and_then(|r| r.json::<Value>().ok());
        if let Some(addr) = v.as_ref().and_then(|v| v["master"]["addr"].as_str()) {
            let probe =
                json!({"client": "bench-probe", "seq": start.elapsed().as_micros() as u64 + 1, "op": "put", "key": "probe", "value": "1"});
            if http.post(format!("http://{addr}/api/kv")).json(&probe).send().is_ok_and(|r| r.status().is_success()) {
                break;
            }
        }
        if start.elapsed() > Duration::from_secs(20) {
            return Err(fail(format!("group {name}: no master took a write within 20 s of forming (lookup: {v:?})")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Served { group, poller, ns, _backing: backing, name })
}

/// Runs the load for one second of warm-up and `seconds` measured.
fn measure(target: &dyn Target, clients: usize, keys: usize, seconds: f64) -> Value {
    let stop = AtomicBool::new(false);
    let t0 = Instant::now();
    let from = t0 + Duration::from_secs(1);
    let until = from + Duration::from_secs_f64(seconds);
    let writes = std::thread::scope(|s| {
        let h = s.spawn(|| load::run(target, clients, keys, &stop, &load::Flow::default()));
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
        stop.store(true, Ordering::SeqCst);
        h.join().unwrap_or_default()
    });
    let (per_s, latencies, failed) = load::rate(&writes, from, until);
    json!({"writes_per_s": r3(per_s), "latency_ms": summary(&latencies), "failed": failed,
           "retried": writes.iter().filter(|w| w.attempts > 1).count()})
}

pub(super) fn run(stagger: &Path, args: ServiceArgs) -> Result<(), BenchError> {
    args.check()?;
    let say = |s: String| {
        if !args.json {
            eprintln!("{s}");
        }
    };
    let etcd = if args.no_etcd { None } else { Some(find_etcd()?) };
    let load_before = loadavg();
    let mut rows = Vec::new();
    for &backups in &args.backups {
        let members = backups + 1;
        let setup = GroupSetup { n: members, emulate: false, ..stagger_setup() };
        let served = serve(stagger, &setup, &format!("bench-service-{members}"), &say)?;
        let target = load::Stagger::new(&served.ns.url(), &served.name);
        target.failed(&load::http());
        let s = measure(&target, args.clients, args.keys, args.seconds);
        say(format!("stagger, {backups} backups: {} writes/s", s["writes_per_s"]));
        drop(served);
        let e = match &etcd {
            None => Value::Null,
            Some(exe) => {
                let mut c = EtcdCluster::new(exe, members, TIMING)?;
                c.start_all()?;
                let leader = c.wait_for_leader(Duration::from_secs(30))?;
                let mut urls = c.client_urls();
                urls.rotate_left(leader);
                let e = measure(&load::Etcd::new(urls), args.clients, args.keys, args.seconds);
                say(format!("etcd, {members} members: {} writes/s", e["writes_per_s"]));
                e
            }
        };
        rows.push(json!({"backups": backups, "members": members, "stagger": s, "etcd": e}));
    }
    let out = json!({
        "bench": "service", "command": args.command(), "clients": args.clients, "keys": args.keys, "seconds": args.seconds,
        "rows": rows, "machine": machine(), "machine_line": machine_line(load_before),
        "load_average_before": load_before, "load_average_after": loadavg(),
    });
    publish(&out, &throughput_table(&out), args.json, args.docs.as_deref(), "service")?;
    let mut problems = Vec::new();
    for r in &rows {
        if r["stagger"]["writes_per_s"].as_f64().unwrap_or(0.0) <= 0.0 {
            problems.push(format!("no write succeeded with {} backups", r["backups"]));
        }
    }
    judged(problems)
}

fn throughput_table(out: &Value) -> String {
    let mut s = format!("`{}`\n\n", out["command"].as_str().unwrap_or("stagger-bench service"));
    s += &format!(
        "{} writers on kept-alive HTTP connections, each putting a unique value to one of {} keys and waiting for the answer; \
         one second of warm-up, then {} s measured. Stagger: the master answers once every backup has the write on disk \
         (fdatasync'd by the embedded store), writes are forwarded in batches. etcd 3.4 through its JSON gateway on the leader, \
         WAL fsynced. {}.\n\n",
        out["clients"],
        out["keys"],
        out["seconds"],
        out["machine_line"].as_str().unwrap_or("machine: unknown")
    );
    s += "| backups (members) | Stagger writes/s | median | p99 | etcd writes/s | median | p99 |\n|---|---:|---:|---:|---:|---:|---:|\n";
    let cell = |v: &Value| {
        if v.is_null() {
            return "- | - | -".to_string();
        }
        let l = &v["latency_ms"];
        let f = |k: &str| l[k].as_f64().map_or("-".into(), |x| format!("{x:.1} ms"));
        format!("**{:.0}** | {} | {}", v["writes_per_s"].as_f64().unwrap_or(0.0), f("median"), f("p99"))
    };
    for r in out["rows"].as_array().into_iter().flatten() {
        s += &format!("| {} ({}) | {} | {} |\n", r["backups"], r["members"], cell(&r["stagger"]), cell(&r["etcd"]));
    }
    s
}

pub(super) fn failover(stagger: &Path, args: ServiceFailoverArgs) -> Result<(), BenchError> {
    args.check()?;
    let say = |s: String| {
        if !args.json {
            eprintln!("{s}");
        }
    };
    let load_before = loadavg();
    let mut rng = stagger_core::Rng::new(seed());
    let setup = GroupSetup { emulate: false, ..stagger_setup() };
    // Stagger.
    let mut served = serve(stagger, &setup, "bench-service-failover", &say)?;
    let target = load::Stagger::new(&served.ns.url(), &served.name);
    target.failed(&load::http());
    let ids = served.group.ids().to_vec();
    let (s_log, s_writes) = under_load(&target, &args, |kills, flow| {
        let mut last = None;
        kill_loop_with(
            &mut served.group,
            &served.poller,
            &PLAN(kills),
            &mut rng,
            |_, _, _| flowing(flow, &mut last),
            |k, r| {
                say(format!(
                    "stagger kill {:>3}/{}: {} -> {}",
                    k + 1,
                    args.kills,
                    ids[r.killed],
                    r.winner.map_or("nobody".into(), |w| ids[w].clone())
                ))
            },
        )
    })?;
    drop(served);
    let stagger_side = side(&s_log.kills.iter().map(|k| k.at).collect::<Vec<_>>(), &s_writes, s_log.aborted.clone());
    // etcd.
    let etcd_side = if args.no_etcd {
        Value::Null
    } else {
        let exe = find_etcd()?;
        let mut c = EtcdCluster::new(&exe, setup.n, TIMING)?;
        c.start_all()?;
        let p = Poller::each(&c, SLOW, Duration::from_millis(500));
        form(&mut c, &p)?;
        let names = c.names().to_vec();
        let target = load::Etcd::new(c.client_urls());
        let run = under_load(&target, &args, |kills, flow| {
            let mut last = None;
            kill_loop_with(
                &mut c,
                &p,
                &PLAN(kills),
                &mut rng,
                |_, _, _| flowing(flow, &mut last),
                |k, r| say(format!("etcd kill {:>3}/{}: {}", k + 1, args.kills, names[r.killed])),
            )
        });
        let (e_log, e_writes) = run.map_err(|e| {
            let logs = c.evidence("service-failover").map_or(String::new(), |d| format!("; logs in {}", d.display()));
            fail(format!("{e}{logs}"))
        })?;
        side(&e_log.kills.iter().map(|k| k.at).collect::<Vec<_>>(), &e_writes, e_log.aborted.clone())
    };
    let out = json!({
        "bench": "service-failover", "command": args.command(), "clients": args.clients, "keys": args.keys,
        "setup": setup.json(), "etcd_timing": {"heartbeat_ms": TIMING.heartbeat_ms, "election_timeout_ms": TIMING.election_timeout_ms},
        "stagger": stagger_side, "etcd": etcd_side, "machine": machine(), "machine_line": machine_line(load_before),
        "load_average_before": load_before, "load_average_after": loadavg(),
    });
    publish(&out, &failover_table(&out), args.json, args.docs.as_deref(), "service-failover")?;
    let mut problems = Vec::new();
    for name in ["stagger", "etcd"] {
        let v = &out[name];
        if let Some(a) = v["aborted"].as_str() {
            problems.push(format!("{name}: aborted: {a}"));
        }
        if !v.is_null() && v["resumed"].as_u64() != v["kills"].as_u64() {
            problems.push(format!("{name}: writes resumed after {} of {} kills", v["resumed"], v["kills"]));
        }
    }
    judged(problems)
}

/// Runs `kills` under the load; returns the kill log and every write.
fn under_load<T, E: Into<BenchError>>(
    target: &dyn Target,
    args: &ServiceFailoverArgs,
    kills: impl FnOnce(u32, &load::Flow) -> Result<T, E>,
) -> Result<(T, Vec<load::Write>), BenchError> {
    let stop = AtomicBool::new(false);
    let flow = load::Flow::default();
    std::thread::scope(|s| {
        let h = s.spawn(|| load::run(target, args.clients, args.keys, &stop, &flow));
        std::thread::sleep(Duration::from_secs(1));
        let log = kills(args.kills, &flow).map_err(Into::into);
        // Writes after the last kill show that they resumed.
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::SeqCst);
        let writes = h.join().unwrap_or_default();
        Ok((log?, writes))
    })
}

/// Before each kill: writes flow again, one having succeeded in the last
/// 50 ms and more than 500 ms after the previous kill (not one answered
/// before it and read after). `false` (no more kills) after 30 s without.
fn flowing(flow: &load::Flow, last_kill: &mut Option<Instant>) -> bool {
    let start = Instant::now();
    loop {
        let fresh = flow
            .last_ok()
            .is_some_and(|t| t.elapsed() < Duration::from_millis(50) && last_kill.is_none_or(|k| t > k + Duration::from_millis(500)));
        if fresh {
            *last_kill = Some(Instant::now());
            return true;
        }
        if start.elapsed() > Duration::from_secs(30) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn side(kills: &[Instant], writes: &[load::Write], aborted: Option<String>) -> Value {
    let windows: Vec<f64> = kills.iter().enumerate().filter_map(|(i, k)| load::window(writes, *k, kills.get(i + 1).copied())).collect();
    json!({
        "kills": kills.len(), "resumed": windows.len(), "window_ms": summary(&windows),
        "windows_ms": windows.iter().map(|w| r3(*w)).collect::<Vec<_>>(),
        "writes_ok": writes.iter().filter(|w| w.ok).count(),
        "write_ms": summary(&writes.iter().filter(|w| w.ok).map(load::Write::ms).collect::<Vec<_>>()),
        "run_s": r3(writes.first().zip(writes.last()).map_or(0.0, |(a, b)| b.done.saturating_duration_since(a.invoked).as_secs_f64())),
        "writes_failed": writes.iter().filter(|w| !w.ok).count(),
        "aborted": aborted,
    })
}

fn failover_table(out: &Value) -> String {
    let setup = &out["setup"];
    let mut s = format!("`{}`\n\n", out["command"].as_str().unwrap_or("stagger-bench service-failover"));
    s += &format!(
        "{} members on each side, {} writers over {} keys, retrying a failed write after 5–100 ms (Stagger: at the master the \
         name server names; etcd: at the next member). Stagger P = {} ms, τ = {} ms, {} misses; etcd heartbeat {} ms, election \
         timeout {} ms. The window of a kill is the widest gap between two completed writes from the last one before the \
         SIGKILL until the next kill; before each kill, writes flow again. {}.\n\n",
        setup["members"],
        out["clients"],
        out["keys"],
        setup["period_ms"],
        setup["timeout_ms"],
        setup["misses"],
        out["etcd_timing"]["heartbeat_ms"],
        out["etcd_timing"]["election_timeout_ms"],
        out["machine_line"].as_str().unwrap_or("machine: unknown"),
    );
    s += "| side | kills | writes resumed | window median | p90 | p99 | max | a write's median (all writes) | writes ok | writes failed |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for name in ["stagger", "etcd"] {
        let v = &out[name];
        if v.is_null() {
            continue;
        }
        let w = &v["window_ms"];
        let f = |k: &str| w[k].as_f64().map_or("-".into(), |x| format!("{x:.1} ms"));
        s += &format!(
            "| {name} | {} | {} | **{}** | {} | **{}** | {} | {} | {} | {} |\n",
            v["kills"],
            v["resumed"],
            f("median"),
            f("p90"),
            f("p99"),
            f("max"),
            v["write_ms"]["median"].as_f64().map_or("-".into(), |x| format!("{x:.1} ms")),
            v["writes_ok"],
            v["writes_failed"]
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throughput() -> ServiceArgs {
        ServiceArgs { backups: vec![2, 4, 8], clients: 64, keys: 1000, seconds: 10.0, no_etcd: false, json: false, docs: None }
    }

    #[test]
    fn arguments_that_make_no_sense_are_the_users_error() {
        assert!(throughput().check().is_ok());
        assert_eq!(throughput().command(), "stagger-bench service --backups 2,4,8 --clients 64 --keys 1000 --seconds 10");
        for (args, want) in [
            (ServiceArgs { backups: vec![], ..throughput() }, "--backups"),
            (ServiceArgs { backups: vec![0], ..throughput() }, "--backups"),
            (ServiceArgs { clients: 0, ..throughput() }, "--clients"),
            (ServiceArgs { keys: 0, ..throughput() }, "--keys"),
            (ServiceArgs { seconds: f64::NAN, ..throughput() }, "--seconds"),
        ] {
            let e = args.check().unwrap_err();
            assert!(matches!(e, BenchError::Usage(_)) && e.to_string().contains(want), "{e}");
        }
        let f = ServiceFailoverArgs { kills: 30, clients: 16, keys: 100, no_etcd: true, json: false, docs: None };
        assert_eq!(f.command(), "stagger-bench service-failover --kills 30 --clients 16 --keys 100 --no-etcd");
        let e = ServiceFailoverArgs { kills: 0, ..f }.check().unwrap_err();
        assert!(e.to_string().contains("--kills"), "{e}");
    }

    #[test]
    fn the_tables_show_both_sides_and_a_missing_one_as_dashes() {
        let side = |r: f64| json!({"writes_per_s": r, "latency_ms": {"median": 8.5, "p99": 13.0}});
        let out = json!({"command": "stagger-bench service", "clients": 64, "keys": 1000, "seconds": 10.0, "machine_line": "machine: test",
            "rows": [{"backups": 2, "members": 3, "stagger": side(7483.0), "etcd": side(4834.0)}, {"backups": 4, "members": 5, "stagger": side(5056.0), "etcd": null}]});
        let md = throughput_table(&out);
        assert!(md.contains("| 2 (3) | **7483** | 8.5 ms | 13.0 ms | **4834** | 8.5 ms | 13.0 ms |"), "{md}");
        assert!(md.contains("| 4 (5) | **5056** | 8.5 ms | 13.0 ms | - | - | - |"), "{md}");
    }
}
