//! `stagger-bench names-failover`: from kill -9 of the master until a
//! client's lookup at the name server names the new master under a higher
//! epoch, beside the election's own failover time
//! (`docs/benchmarks.md`, "Name server", has the numbers).
//!
//! A live group of `stagger node` processes whose group file names an
//! embedded `stagger nameserver`; the harness's one kill loop
//! ([`crate::harness::kills`]) kills the master, times the survivors'
//! agreement on a new one (the election's failover, as `failover` measures
//! it) and restarts the killed member. Beside it one client thread asks
//! the name server `GET /v1/groups/{group}` every `--poll-ms` ms on a new
//! connection (as `stagger client` does) and notes when each answer first
//! named a master and epoch. The lookup time of a kill runs from the kill
//! to the first answer naming a member other than the killed one under an
//! epoch above the killed master's.

use super::docs::publish;
use super::machine::{loadavg, machine, machine_line};
use super::names_backend::{Backend, Backing};
use super::{fail, judged, r3, seed, summary, BenchError};
use crate::harness::cluster::{healthy, Cluster, Poller};
use crate::harness::group::{describe, GroupSetup, StaggerGroup};
use crate::harness::kills::{kill_loop, ms_since, KillPlan, FAST, SLOW};
use crate::harness::nameserver::NameServer;
use crate::harness::poll_client;
use clap::Args;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct NamesFailoverArgs {
    /// How many masters to kill.
    #[arg(long, default_value_t = 30)]
    pub kills: u32,
    /// Members of the group (P = 300 ms, τ = 150 ms, integral T1 = 30 ms,
    /// guard 50 ms, 2 ms emulated delays, as `failover`); at least 3, so
    /// that the survivors still hear a majority and may register.
    #[arg(long, default_value_t = 5)]
    pub members: usize,
    /// How often the client looks the group up, in ms.
    #[arg(long, default_value_t = 2)]
    pub poll_ms: u64,
    /// The name server's backend: `embedded` (its state in a temporary
    /// folder) or `etcd` (a 3-member etcd cluster started for the run).
    #[arg(long, value_enum, default_value_t = Backend::Embedded)]
    pub backend: Backend,
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Also write the table into this Markdown file, between the markers
    /// `<!-- BEGIN generated: names-failover -->` (`names-failover-etcd`
    /// on etcd) and its END.
    #[arg(long, value_name = "FILE")]
    pub docs: Option<PathBuf>,
}

impl NamesFailoverArgs {
    pub fn check(&self) -> Result<(), BenchError> {
        let usage = |m: &str| Err(BenchError::Usage(m.to_string()));
        if self.kills == 0 {
            return usage("--kills must be at least 1");
        }
        if !(3..=20).contains(&self.members) {
            return usage("--members must be between 3 and 20 (with 2, the survivor of a kill hears no majority and never registers)");
        }
        if !(1..=1000).contains(&self.poll_ms) {
            return usage("--poll-ms must be between 1 and 1000");
        }
        Ok(())
    }

    fn command(&self) -> String {
        let mut c = format!("stagger-bench names-failover --kills {} --members {} --poll-ms {}", self.kills, self.members, self.poll_ms);
        if self.backend != Backend::Embedded {
            c += &format!(" --backend {}", self.backend.name());
        }
        c
    }

    /// The generated section of docs/benchmarks.md this run writes.
    fn section(&self) -> String {
        match self.backend {
            Backend::Embedded => "names-failover".into(),
            other => format!("names-failover-{}", other.name()),
        }
    }
}

/// A lookup answer that differed from the one before.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Seen {
    /// When the answer arrived.
    pub at: Instant,
    pub master: Option<String>,
    pub epoch: Option<u64>,
}

#[derive(Default)]
struct Lookups {
    changes: Vec<Seen>,
    answers: u64,
    errors: u64,
}

/// What the lookups showed of one kill.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Observed {
    /// The registration named just before the kill.
    pub before: Option<(String, u64)>,
    /// From the kill until the first answer naming another member under a
    /// higher epoch, in ms; that member and epoch.
    pub after: Option<(f64, String, u64)>,
    /// An answer said "no master" in between.
    pub vacant: bool,
}

/// What the `changes` seen between `at` (the kill) and `until` (the next
/// kill, or the end) say about the kill of `killed`.
pub(super) fn observe(changes: &[Seen], at: Instant, until: Option<Instant>, killed: &str) -> Observed {
    let before = changes.iter().rev().find(|c| c.at <= at);
    let before = before.and_then(|c| Some((c.master.clone()?, c.epoch?)));
    let floor = before.as_ref().map_or(0, |(_, e)| *e);
    let mut vacant = false;
    let mut after = None;
    for c in changes.iter().filter(|c| c.at > at && until.is_none_or(|u| c.at <= u)) {
        match (&c.master, c.epoch) {
            (None, _) => vacant = true,
            (Some(m), Some(e)) if m != killed && e > floor => {
                after = Some((ms_since(c.at, at), m.clone(), e));
                break;
            }
            _ => {}
        }
    }
    Observed { before, after, vacant }
}

/// Asks the name server for the group every `interval` until `stop`.
fn watch_lookups(url: &str, interval: Duration, stop: &AtomicBool, log: &Mutex<Lookups>) {
    let client = poll_client(Duration::from_millis(500));
    while !stop.load(Ordering::SeqCst) {
        let got = client.get(url).send().ok().filter(|r| r.status().is_success()).and_then(|r| r.json::<Value>().ok());
        let at = Instant::now();
        {
            let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
            match got {
                None => l.errors += 1,
                Some(v) => {
                    l.answers += 1;
                    let master = v["master"]["member"].as_str().map(str::to_string);
                    let epoch = v["master"]["epoch"].as_u64();
                    if l.changes.last().is_none_or(|c| c.master != master || c.epoch != epoch) {
                        l.changes.push(Seen { at, master, epoch });
                    }
                }
            }
        }
        std::thread::sleep(interval);
    }
}

/// One kill, as the report keeps it.
#[derive(Clone)]
struct Round {
    killed: String,
    /// The member the survivors agreed on, and when (ms after the kill).
    winner: Option<String>,
    election_ms: Option<f64>,
    /// When the winner itself was first seen saying it is Master, ms after
    /// the kill: it registers from that instant on.
    master_ms: Option<f64>,
    seen: Observed,
    rejoin_ms: Option<f64>,
}

impl Round {
    fn lookup_ms(&self) -> Option<f64> {
        self.seen.after.as_ref().map(|(ms, _, _)| *ms)
    }

    /// The killed member was the registered master just before the kill.
    fn registered_before(&self) -> bool {
        self.seen.before.as_ref().is_some_and(|(m, _)| *m == self.killed)
    }

    fn difference_ms(&self) -> Option<f64> {
        Some(self.lookup_ms()? - self.election_ms?)
    }

    /// The lookup after the winner's own transition: the registration's
    /// round trip and the lookup's poll, less the status poll's lag.
    fn after_master_ms(&self) -> Option<f64> {
        Some(self.lookup_ms()? - self.master_ms?)
    }

    /// The epoch rose by more than one across the kill: other members
    /// registered in between (a contest settling, N16), faster than the
    /// lookups could see.
    fn skipped_epochs(&self) -> bool {
        match (&self.seen.before, &self.seen.after) {
            (Some((_, b)), Some((_, _, a))) => *a > b + 1,
            _ => false,
        }
    }

    fn json(&self) -> Value {
        json!({
            "killed": self.killed, "winner": self.winner, "election_ms": self.election_ms.map(r3),
            "master_ms": self.master_ms.map(r3), "after_master_ms": self.after_master_ms().map(r3),
            "epoch_before": self.seen.before.as_ref().map(|(_, e)| e),
            "registered_before": self.registered_before(),
            "lookup_ms": self.lookup_ms().map(r3),
            "looked_up": self.seen.after.as_ref().map(|(_, m, _)| m),
            "epoch_after": self.seen.after.as_ref().map(|(_, _, e)| e),
            "no_master_in_between": self.seen.vacant,
            "difference_ms": self.difference_ms().map(r3),
            "rejoin_ms": self.rejoin_ms.map(r3),
        })
    }
}

pub(super) fn run(stagger: &Path, args: NamesFailoverArgs) -> Result<(), BenchError> {
    args.check()?;
    let say = |s: String| {
        if !args.json {
            eprintln!("{s}");
        }
    };
    let load_before = loadavg();
    let backing = Backing::start(args.backend, None, 0, &say)?;
    let mut ns = NameServer::start(stagger, &backing.store)?;
    let setup = GroupSetup { n: args.members, ..GroupSetup::lan5() };
    let mut c = StaggerGroup::new(stagger, &setup, "bench-names-failover")?;
    c.name_server(&ns.url())?;
    let group = c.name()?;
    let ids = c.ids().to_vec();
    c.start_all()?;
    let p = Poller::each(&c, SLOW, Duration::from_millis(500));
    let Some(first) = healthy(&mut c, &p, Duration::from_secs(20))? else {
        return Err(fail(format!("the group did not form within 20 s: {}", describe(&p.snapshot(), &ids))));
    };
    let lookup_url = format!("{}/v1/groups/{group}", ns.url());
    let stop = AtomicBool::new(false);
    let log = Mutex::new(Lookups::default());
    let d1 = c.d_ms().get(1).copied().unwrap_or(0.0);
    let bound = setup.period_ms + setup.timeout_ms + d1 + setup.delay_ms + 50.0;
    let plan = KillPlan {
        kills: args.kills,
        period: Duration::from_secs_f64(setup.period_ms / 1000.0),
        healthy_within: Duration::from_secs(20),
        agree_within: Duration::from_secs(10),
    };
    let mut rng = stagger_core::Rng::new(seed());
    let result = std::thread::scope(|s| {
        s.spawn(|| watch_lookups(&lookup_url, Duration::from_millis(args.poll_ms), &stop, &log));
        let mut run = || -> Result<_, BenchError> {
            // The master the group agrees on is registered, and has been for
            // a second, before the first kill. A start-up contest can leave
            // it unregistered for a moment: when the contest's loser
            // registered last, the winner registers again only once the
            // loser has resigned (docs/guarantees.md); a kill in that window
            // would find nobody registered.
            let start = Instant::now();
            let settled = Duration::from_secs(1);
            let registered = |m: usize| {
                let l = log.lock().unwrap_or_else(|p| p.into_inner());
                l.changes.last().is_some_and(|c| c.master.as_ref() == Some(&ids[m]) && c.at.elapsed() >= settled)
            };
            let mut master = first;
            while !registered(master) {
                if start.elapsed() > Duration::from_secs(10) {
                    return Err(fail(format!("the master {} did not register at the name server within 10 s", ids[master])));
                }
                ns.check_alive()?;
                std::thread::sleep(Duration::from_millis(10));
                master = healthy(&mut c, &p, Duration::from_secs(5))?.unwrap_or(master);
            }
            say(format!("group {group} formed; master {} registered", ids[master]));
            let kill_log = kill_loop(&mut c, &p, &plan, &mut rng, |k, r| {
                let seen = observe(&log.lock().unwrap_or_else(|p| p.into_inner()).changes, r.at, None, &ids[r.killed]);
                say(format!(
                    "kill {:>3}/{}: {} -> {} elected in {}, looked up in {}",
                    k + 1,
                    args.kills,
                    ids[r.killed],
                    r.winner.map_or("nobody".to_string(), |w| ids[w].clone()),
                    r.ms.map_or("(no agreement)".to_string(), |m| format!("{m:.1} ms")),
                    seen.after.map_or("(never)".to_string(), |(ms, m, e)| format!("{ms:.1} ms ({m}, epoch {e})")),
                ));
            })?;
            ns.check_alive()?;
            Ok(kill_log)
        };
        let r = run();
        stop.store(true, Ordering::SeqCst);
        r
    });
    let kill_log = result?;
    drop(p);
    drop(c);
    drop(ns);
    let backing_json = backing.json.clone();
    drop(backing);
    let lookups = log.into_inner().unwrap_or_else(|p| p.into_inner());
    let rounds: Vec<Round> = kill_log
        .kills
        .iter()
        .enumerate()
        .map(|(i, k)| Round {
            killed: ids[k.killed].clone(),
            winner: k.winner.map(|w| ids[w].clone()),
            election_ms: k.ms,
            master_ms: k.winner.filter(|_| k.ms.is_some()).map(|w| ms_since(k.after[w].since, k.at)),
            seen: observe(&lookups.changes, k.at, kill_log.kills.get(i + 1).map(|n| n.at), &ids[k.killed]),
            rejoin_ms: k.rejoin_ms,
        })
        .collect();
    let pick = |f: fn(&Round) -> Option<f64>| rounds.iter().filter_map(f).collect::<Vec<f64>>();
    let out = json!({
        "bench": "names-failover",
        "command": args.command(),
        "backend": backing_json,
        "setup": setup.json(),
        "d_ms": d1,
        "bound_ms": bound,
        "bound": "P + tau + D_1 + max delay + 50 ms",
        "status_poll_interval_ms": FAST.as_secs_f64() * 1000.0,
        "lookup_poll_interval_ms": args.poll_ms,
        "kills": args.kills,
        "runs_done": rounds.len(),
        "registered_before": rounds.iter().filter(|r| r.registered_before()).count(),
        "elected": rounds.iter().filter(|r| r.election_ms.is_some()).count(),
        "looked_up": rounds.iter().filter(|r| r.lookup_ms().is_some()).count(),
        "looked_up_the_winner": rounds.iter().filter(|r| r.winner.is_some() && r.seen.after.as_ref().map(|a| &a.1) == r.winner.as_ref()).count(),
        "no_master_in_between": rounds.iter().filter(|r| r.seen.vacant).count(),
        "epoch_rose_by_more_than_one": rounds.iter().filter(|r| r.skipped_epochs()).count(),
        "election_ms": summary(&pick(|r| r.election_ms)),
        "master_ms": summary(&pick(|r| r.master_ms)),
        "after_master_ms": summary(&pick(Round::after_master_ms)),
        "lookup_ms": summary(&pick(Round::lookup_ms)),
        "difference_ms": summary(&pick(Round::difference_ms)),
        "lookup_answers": lookups.answers,
        "lookup_errors": lookups.errors,
        "runs": rounds.iter().map(Round::json).collect::<Vec<_>>(),
        "machine": machine(),
        "machine_line": machine_line(load_before),
        "load_average_before": load_before,
        "load_average_after": loadavg(),
        "aborted": kill_log.aborted,
    });
    let table = markdown(&out);
    publish(&out, &table, args.json, args.docs.as_deref(), &args.section())?;
    let mut problems = Vec::new();
    if let Some(a) = &kill_log.aborted {
        problems.push(format!("aborted: {a}"));
    }
    let n = rounds.len();
    for (what, key) in [("registered before the kill", "registered_before"), ("elected", "elected"), ("looked up", "looked_up")] {
        let got = out[key].as_u64().unwrap_or(0) as usize;
        if got < n {
            problems.push(format!("{} of {n} kills were not {what}", n - got));
        }
    }
    judged(problems)
}

/// The report as Markdown: the command, the set-up, the machine and its
/// load, and one table of the election's and the lookup's times.
pub(super) fn markdown(out: &Value) -> String {
    let setup = &out["setup"];
    let mut s = format!("`{}`\n\n", out["command"].as_str().unwrap_or("stagger-bench names-failover"));
    s += &format!(
        "{} members, P = {} ms, τ = {} ms, integral T1 = {} ms, guard {} ms, {} ms delays (emulated); \
         name server on the {} backend; status polled every {} ms per member, lookups every {} ms on a new connection. {}.\n\n",
        setup["members"],
        setup["period_ms"],
        setup["timeout_ms"],
        setup["timer"]["base_ms"],
        setup["timer"]["guard_ms"],
        setup["delay_ms"],
        out["backend"]["name"].as_str().unwrap_or("embedded"),
        out["status_poll_interval_ms"],
        out["lookup_poll_interval_ms"],
        out["machine_line"].as_str().unwrap_or("machine: unknown"),
    );
    s += "| from the kill -9 of the master until | kills | median | p90 | p99 | max | min | mean |\n\
          |---|---:|---:|---:|---:|---:|---:|---:|\n";
    let rows = [
        ("the new master says it is Master", "master_ms"),
        ("every survivor names the new master (the election's failover)", "election_ms"),
        ("a lookup names a new master under a higher epoch", "lookup_ms"),
        ("per kill: lookup − the new master's transition", "after_master_ms"),
        ("per kill: lookup − the election's failover", "difference_ms"),
    ];
    for (label, key) in rows {
        let v = &out[key];
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
    s += &format!(
        "\nOf {} kills: the killed master was the registered one before {}; the survivors agreed in {}; a lookup named a new \
         master in {}, the election's winner in {}; a lookup said \"no master\" in between in {}; the epoch rose by more than one \
         (other registrations in between) in {}. {} lookups answered, {} failed. \
         Election bound P + τ + D_1 + max delay + 50 ms = {} ms. Nearest-rank percentiles.\n",
        out["runs_done"],
        out["registered_before"],
        out["elected"],
        out["looked_up"],
        out["looked_up_the_winner"],
        out["no_master_in_between"],
        out["epoch_rose_by_more_than_one"],
        out["lookup_answers"],
        out["lookup_errors"],
        out["bound_ms"],
    );
    if let Some(a) = out["aborted"].as_str() {
        s += &format!("\nABORTED: {a}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(t0: Instant, rows: &[(u64, Option<&str>, Option<u64>)]) -> Vec<Seen> {
        rows.iter().map(|&(ms, m, e)| Seen { at: t0 + Duration::from_millis(ms), master: m.map(str::to_string), epoch: e }).collect()
    }

    #[test]
    fn the_lookup_time_ends_at_the_first_other_member_under_a_higher_epoch() {
        let t0 = Instant::now();
        let changes =
            seen(t0, &[(0, Some("s0"), Some(3)), (100, Some("s0"), Some(3)), (420, Some("s1"), Some(4)), (900, Some("s0"), Some(5))]);
        let kill = t0 + Duration::from_millis(50);
        let o = observe(&changes, kill, None, "s0");
        assert_eq!(o.before, Some(("s0".into(), 3)));
        let (ms, m, e) = o.after.unwrap();
        assert!((ms - 370.0).abs() < 1e-6, "{ms}");
        assert_eq!((m.as_str(), e), ("s1", 4));
        assert!(!o.vacant);
    }

    #[test]
    fn neither_the_killed_member_nor_an_old_epoch_ends_it() {
        let t0 = Instant::now();
        let kill = t0 + Duration::from_millis(10);
        // The killed member re-registering, and a stale epoch of another.
        let changes = seen(t0, &[(0, Some("s0"), Some(7)), (20, Some("s0"), Some(8)), (30, Some("s2"), Some(6)), (40, None, None)]);
        let o = observe(&changes, kill, None, "s0");
        assert_eq!(o.after, None);
        assert!(o.vacant, "the answer without a master is noted");
        // Nothing seen before the kill: any other member under any epoch.
        let o = observe(&seen(t0, &[(30, Some("s2"), Some(1))]), kill, None, "s0");
        assert_eq!(o.before, None);
        assert_eq!(o.after.map(|a| (a.1, a.2)), Some(("s2".into(), 1)));
    }

    #[test]
    fn a_kill_only_sees_the_answers_before_the_next_kill() {
        let t0 = Instant::now();
        let changes = seen(t0, &[(0, Some("s0"), Some(1)), (500, Some("s1"), Some(2))]);
        let o = observe(&changes, t0 + Duration::from_millis(10), Some(t0 + Duration::from_millis(400)), "s0");
        assert_eq!(o.after, None);
    }

    #[test]
    fn a_rounds_difference_needs_both_times() {
        let o = Observed { before: Some(("s0".into(), 1)), after: Some((350.0, "s1".into(), 2)), vacant: false };
        let r = Round {
            killed: "s0".into(),
            winner: Some("s1".into()),
            election_ms: Some(340.0),
            master_ms: Some(336.0),
            seen: o.clone(),
            rejoin_ms: None,
        };
        assert_eq!(r.difference_ms(), Some(10.0));
        assert_eq!(r.after_master_ms(), Some(14.0));
        assert!(r.registered_before());
        assert_eq!(r.json()["epoch_after"], 2);
        assert!(!r.skipped_epochs());
        let jumped = Round { seen: Observed { after: Some((350.0, "s1".into(), 4)), ..o.clone() }, ..r.clone() };
        assert!(jumped.skipped_epochs());
        let r = Round { election_ms: None, ..r };
        assert_eq!(r.difference_ms(), None);
        let r = Round { killed: "s2".into(), ..r };
        assert!(!r.registered_before());
    }

    #[test]
    fn arguments_that_make_no_sense_are_the_users_error() {
        let ok = NamesFailoverArgs { kills: 3, members: 5, poll_ms: 2, backend: Backend::Embedded, json: false, docs: None };
        assert!(ok.check().is_ok());
        assert_eq!(ok.command(), "stagger-bench names-failover --kills 3 --members 5 --poll-ms 2");
        assert_eq!(ok.section(), "names-failover");
        let etcd = NamesFailoverArgs { backend: Backend::Etcd, docs: None, ..ok };
        assert_eq!(etcd.command(), "stagger-bench names-failover --kills 3 --members 5 --poll-ms 2 --backend etcd");
        assert_eq!(etcd.section(), "names-failover-etcd");
        for (a, want) in [
            (NamesFailoverArgs { kills: 0, docs: None, ..ok }, "--kills must be at least 1"),
            (NamesFailoverArgs { members: 2, docs: None, ..ok }, "--members must be between 3 and 20"),
            (NamesFailoverArgs { poll_ms: 0, docs: None, ..ok }, "--poll-ms must be between 1 and 1000"),
        ] {
            let e = a.check().unwrap_err();
            assert!(matches!(e, BenchError::Usage(_)) && e.to_string().contains(want), "{e}");
        }
    }

    #[test]
    fn the_markdown_report_states_the_setup_and_all_three_rows() {
        let sum =
            |m: f64| json!({"count": 30, "min": m - 100.0, "median": m, "mean": m, "p90": m + 50.0, "p99": m + 80.0, "max": m + 80.0});
        let out = json!({
            "command": "stagger-bench names-failover --kills 30 --members 5 --poll-ms 2",
            "setup": GroupSetup::lan5().json(), "backend": {"name": "embedded"},
            "status_poll_interval_ms": 2.0, "lookup_poll_interval_ms": 2,
            "machine_line": "machine: 2 cores (cpu), load average 1.00 1.00 1.00 before, 1.00 1.00 1.00 after",
            "election_ms": sum(340.0), "lookup_ms": sum(345.0), "difference_ms": sum(5.0),
            "master_ms": sum(336.0), "after_master_ms": sum(9.0),
            "runs_done": 30, "registered_before": 30, "elected": 30, "looked_up": 30, "looked_up_the_winner": 30,
            "no_master_in_between": 0, "epoch_rose_by_more_than_one": 1, "lookup_answers": 1000, "lookup_errors": 0, "bound_ms": 532.0, "aborted": null,
        });
        let md = markdown(&out);
        assert!(md.starts_with("`stagger-bench names-failover --kills 30"), "{md}");
        assert!(md.contains("5 members, P = 300.0 ms, τ = 150.0 ms") && md.contains("name server on the embedded backend"), "{md}");
        assert!(md.contains("| every survivor names the new master (the election's failover) | 30 | **340.0 ms** |"), "{md}");
        assert!(md.contains("| a lookup names a new master under a higher epoch | 30 | **345.0 ms** |"), "{md}");
        assert!(md.contains("| per kill: lookup − the election's failover | 30 | **5.0 ms** | 55.0 ms | **85.0 ms** |"), "{md}");
        assert!(md.contains("= 532.0 ms") && !md.contains("ABORTED"), "{md}");
        assert!(md.contains("| the new master says it is Master | 30 | **336.0 ms** |"), "{md}");
        assert!(md.contains("| per kill: lookup − the new master's transition | 30 | **9.0 ms** |"), "{md}");
        assert!(md.contains("(other registrations in between) in 1."), "{md}");
    }
}
