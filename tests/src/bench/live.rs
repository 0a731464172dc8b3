//! `stagger-bench failover | idle | capacity`: measurements of live groups
//! of real `stagger node` processes on 127.0.0.1 (`docs/benchmarks.md` has
//! the numbers).
//!
//! Each benchmark writes a group file to a temporary folder, starts the
//! `stagger` binary as `stagger node` children on free loopback ports and
//! watches them through `GET /api/status` ([`crate::harness::group`]); the
//! failover is the harness's one kill loop ([`crate::harness::kills`]).

use super::machine::{clock_ticks, loadavg, machine, machine_line, measure_idle, mib, open_file_limit};
use super::{fail, r3, seed, shown, summary, BenchError};
use crate::harness::cluster::{healthy, wait, Cluster, Poller};
use crate::harness::group::{describe, GroupSetup, NodeSeen, StaggerGroup};
use crate::harness::kills::{kill_loop, ms_since, KillPlan, FAST, REJOIN, SLOW};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// stagger-bench failover

pub(super) fn failover(stagger: &Path, kills: u32, as_json: bool) -> Result<(), BenchError> {
    if kills == 0 {
        return Err(BenchError::Usage("--kills must be at least 1".into()));
    }
    let setup = GroupSetup::lan5();
    let load_before = loadavg();
    let mut c = StaggerGroup::new(stagger, &setup, "bench-failover")?;
    let ids = c.ids().to_vec();
    let n = c.len();
    c.start_all()?;
    let p = Poller::each(&c, SLOW, Duration::from_millis(500));
    let formed = Instant::now();
    let Some(first) = healthy(&mut c, &p, Duration::from_secs(20))? else {
        return Err(fail(format!("the group did not form within 20 s: {}", describe(&p.snapshot(), &ids))));
    };
    if !as_json {
        eprintln!("group formed in {:.0} ms; master {}", ms_since(Instant::now(), formed), ids[first]);
    }
    let d_ms = c.d_ms().to_vec();
    let addrs: Vec<String> = c.addrs().iter().map(|a| a.to_string()).collect();
    let d1 = d_ms.get(1).copied().unwrap_or(0.0);
    let bound = |d: f64| setup.period_ms + setup.timeout_ms + d + setup.delay_ms + 50.0;
    let mut rng = stagger_core::Rng::new(seed());
    let plan = KillPlan {
        kills,
        period: Duration::from_secs_f64(setup.period_ms / 1000.0),
        healthy_within: Duration::from_secs(20),
        agree_within: Duration::from_secs(10),
    };
    let log = kill_loop(&mut c, &p, &plan, &mut rng, |k, r| {
        if as_json {
            return;
        }
        eprintln!(
            "kill {:>3}/{kills}: {} -> {} in {}, rejoined in {}",
            k + 1,
            ids[r.killed],
            r.winner.map_or("nobody".to_string(), |w| ids[w].clone()),
            r.ms.map_or("(no agreement within 10 s)".to_string(), |m| format!("{m:.1} ms")),
            r.rejoin_ms.map_or("(not within 10 s)".to_string(), |m| format!("{m:.0} ms")),
        );
        if let Some(f) = &r.rejoin_failure {
            eprintln!("    rejoin did not settle: {f}; traces in {}", shown(&r.evidence));
        }
    })?;
    drop(p);
    drop(c);
    let aborted = log.aborted.clone();
    let runs: Vec<Kill> = log.kills.iter().map(Kill::of).collect();
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
            "lowest_live": ids[r.lowest_live], "lowest_live_index": r.lowest_live_index,
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
        println!("stagger-bench failover: {n} members on 127.0.0.1, {} kills of the master (SIGKILL)", runs.len());
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
                ids[r.lowest_live],
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
                println!("    kill {}: {}; traces in {}", k + 1, r.rejoin_failure.as_deref().unwrap_or(""), shown(&r.traces));
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

/// What the failover report keeps of one kill.
struct Kill {
    killed: usize,
    killed_index: u32,
    /// The new master, if the survivors agreed within the limit.
    winner: Option<usize>,
    winner_index: Option<u32>,
    lowest_live: usize,
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
    traces: Option<std::path::PathBuf>,
}

impl Kill {
    fn of(k: &crate::harness::kills::Kill<NodeSeen>) -> Kill {
        let lowest = (0..k.before.len()).filter(|&i| i != k.killed).min_by_key(|&i| k.before[i].index).unwrap_or(k.killed);
        Kill {
            killed: k.killed,
            killed_index: k.before[k.killed].index,
            winner: k.winner,
            winner_index: k.winner.map(|w| k.after[w].index),
            lowest_live: lowest,
            lowest_live_index: k.before[lowest].index,
            ms: k.ms,
            rejoin_ms: k.rejoin_ms,
            master_after: k.leader_after,
            rejoin_failure: k.rejoin_failure.clone(),
            traces: k.evidence.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// stagger-bench idle

pub(super) fn idle(stagger: &Path, seconds: u64, as_json: bool) -> Result<(), BenchError> {
    if seconds == 0 {
        return Err(BenchError::Usage("--seconds must be at least 1".into()));
    }
    let setup = GroupSetup::lan5();
    let mut c = StaggerGroup::new(stagger, &setup, "bench-idle")?;
    let ids = c.ids().to_vec();
    c.start_all()?;
    let p = Poller::each(&c, SLOW, Duration::from_millis(500));
    let Some(master) = healthy(&mut c, &p, Duration::from_secs(20))? else {
        return Err(fail(format!("the group did not form within 20 s: {}", describe(&p.snapshot(), &ids))));
    };
    // No polling while idle: only the nodes' own traffic counts.
    drop(p);
    std::thread::sleep(Duration::from_secs(1));
    let pids: Vec<u32> = c.pids().into_iter().map(|p| p.expect("all started")).collect();
    let load_before = loadavg();
    if !as_json {
        eprintln!("idling {seconds} s with master {} ...", ids[master]);
    }
    let u = measure_idle(&pids, seconds as f64)?;
    let load_after = loadavg();
    c.check_alive()?;
    let p = Poller::each(&c, SLOW, Duration::from_millis(500));
    let still = healthy(&mut c, &p, Duration::from_secs(5))?;
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
            "stagger-bench idle: {} members idle for {seconds} s (P = {} ms, tau = {} ms)",
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
// stagger-bench capacity

struct Step {
    n: usize,
    spawn_ms: f64,
    formed_ms: Option<f64>,
    failover_ms: Option<f64>,
    cpu_total: Option<f64>,
    rss_total_kib: Option<u64>,
    note: Option<String>,
}

pub(super) fn capacity(stagger: &Path, max: usize, as_json: bool) -> Result<(), BenchError> {
    if max < 5 {
        return Err(BenchError::Usage("--max must be at least 5".into()));
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
        let setup = GroupSetup::capacity(n);
        let mut c = StaggerGroup::new(stagger, &setup, &format!("bench-capacity-{n}"))?;
        let ids = c.ids().to_vec();
        if !as_json {
            eprintln!("N = {n}: starting {n} nodes ({} connections) ...", n * (n - 1) / 2);
        }
        let t0 = Instant::now();
        c.start_all()?;
        let spawn_ms = ms_since(Instant::now(), t0);
        let threads = 4.min(n);
        let p = Poller::start(c.addrs(), threads, Duration::from_millis(50), Duration::from_secs(2));
        let mut step = Step { n, spawn_ms, formed_ms: None, failover_ms: None, cpu_total: None, rss_total_kib: None, note: None };
        let formed = healthy(&mut c, &p, limit)?;
        let Some(master) = formed else {
            step.note = Some(format!("did not form within 30 s: {}", describe(&p.snapshot(), &ids)));
            steps.push(step);
            break;
        };
        step.formed_ms = Some(ms_since(Instant::now(), t0));
        drop(p);
        std::thread::sleep(Duration::from_secs(1));
        let pids: Vec<u32> = c.pids().into_iter().map(|p| p.expect("all started")).collect();
        let u = measure_idle(&pids, 5.0)?;
        step.cpu_total = Some(u.cpu_pct.iter().sum());
        step.rss_total_kib = Some(u.rss_kib.iter().sum());
        let p = Poller::start(c.addrs(), threads, Duration::from_millis(5), Duration::from_secs(2));
        if healthy(&mut c, &p, limit)?.is_none() {
            step.note = Some(format!("not healthy after the idle: {}", describe(&p.snapshot(), &ids)));
            steps.push(step);
            break;
        }
        // One kill, at a uniformly random phase of the detection grid.
        std::thread::sleep(Duration::from_micros(rng.below((setup.period_ms * 1000.0) as u64)));
        let survivors: Vec<usize> = (0..n).filter(|&i| i != master).collect();
        let t1 = Instant::now();
        c.kill(master);
        let got = wait(&mut c, &p, limit, |c, o| c.agreement(o, &survivors).filter(|(_, s)| *s > t1))?;
        step.failover_ms = got.map(|(_, s)| ms_since(s, t1));
        if got.is_none() {
            step.note = Some(format!("no agreement within 30 s after killing {}: {}", ids[master], describe(&p.snapshot(), &ids)));
        }
        drop(p);
        drop(c);
        if !as_json {
            eprintln!(
                "N = {n}: formed in {}, failover {}, idle CPU {:.1} %, RSS {:.0} MiB",
                ms(step.formed_ms),
                ms(step.failover_ms),
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
        "setup": GroupSetup::capacity(0).json(),
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
    println!("stagger-bench capacity: one group of N members, each a process, on 127.0.0.1");
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

/// Milliseconds with three decimals, or "never".
fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "never".to_string(), |v| format!("{v:.3} ms"))
}
