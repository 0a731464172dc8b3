//! The replicated service under faults, with real processes on 127.0.0.1:
//! a name server and three nodes. Each test runs a load of at least 1,000
//! writes from several clients in this process (`stagger_node::kv`),
//! injects one fault while it runs, and checks the recorded history with
//! `stagger_tests::check`: linearizable per key (unknown writes possibly
//! applied), no acknowledged write lost against the final reads, nothing
//! applied twice (docs/guarantees.md, "The replicated service"). A failing
//! history is kept in `target/tmp/` for reading.

use stagger_core::service::{History, Outcome};
use stagger_node::kv::{self, Settings, Spec, Tally};
use stagger_tests::check;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

mod kv_group;

use kv_group::{wait, Group, GROUP, IDS};

/// Writes the load makes at least.
const WRITES: u64 = 1_000;
const KEYS: usize = 10;

/// A load running in this process on a runtime of its own.
struct Load {
    runtime: tokio::runtime::Runtime,
    task: tokio::task::JoinHandle<History>,
    tally: Arc<Tally>,
    ns_url: String,
}

impl Load {
    /// Six clients over ten keys, a fifth of them reads, for at most two
    /// minutes (each test stops it sooner).
    fn start(group: &Group, seed: u64, settings: Settings) -> Load {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let tally = Arc::new(Tally::default());
        let spec = Spec { keys: KEYS, clients: 6, duration: Duration::from_secs(120), seed, read_ratio: 0.2 };
        let (ns_url, t) = (group.ns_url.clone(), tally.clone());
        let task = runtime.spawn(async move { kv::load::run(&ns_url, GROUP, &spec, settings, t).await });
        Load { runtime, task, tally, ns_url: group.ns_url.clone() }
    }

    fn ok(&self) -> u64 {
        self.tally.ok.load(Ordering::Relaxed)
    }

    /// Waits until `n` more operations succeeded than now.
    fn progress(&self, n: u64, what: &str) {
        let from = self.ok();
        wait(Duration::from_secs(60), what, || (self.ok() >= from + n).then_some(()));
    }

    /// Waits until at least `n` writes were invoked.
    fn writes(&self, n: u64) {
        wait(Duration::from_secs(120), &format!("{n} writes"), || (self.tally.writes.load(Ordering::Relaxed) >= n).then_some(()));
    }

    /// Stops the load, reads every key, and checks the history; returns it.
    fn finish(self, name: &str) -> History {
        self.writes(WRITES);
        self.tally.stop();
        let history = self.runtime.block_on(self.task).unwrap();
        let (finals, errors) = self.runtime.block_on(kv::load::read_all(&self.ns_url, GROUP, KEYS, Settings::default()));
        let summary = kv::load::summary(&history, Duration::from_secs_f64(self.tally.now_ms() / 1000.0));
        println!("{name}: {summary}");
        let saved = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("service_faults-{name}.json"));
        std::fs::write(&saved, serde_json::to_string(&history).unwrap()).unwrap();
        let writes = history.events.iter().filter(|e| e.op.writes()).count();
        assert!(writes as u64 >= WRITES, "{writes} writes");
        assert!(errors.is_empty(), "the final reads failed: {errors:?}");
        let report = check::linearizable(&history);
        assert!(report.is_linearizable(), "{name}: not linearizable (history in {}):\n{}", saved.display(), report.problems().join("\n"));
        let lost = check::lost_writes(&history, &finals);
        assert!(lost.is_empty(), "{name}: lost writes (history in {}):\n{}", saved.display(), lost.join("\n"));
        let twice = check::applied_twice(&history);
        assert!(twice.is_empty(), "{name}: applied twice (history in {}):\n{}", saved.display(), twice.join("\n"));
        history
    }
}

/// Clients that give up within a failover: one attempt waits 300 ms, an
/// operation 600 ms, so operations caught by the fault end `unknown` and
/// the checker has to place or skip them.
fn impatient() -> Settings {
    Settings { deadline: Duration::from_millis(600), attempt_timeout: Duration::from_millis(300), ..Settings::default() }
}

/// Asserts that the fault at `at_ms` caught operations in flight: invoked
/// before it, ended after it, sent more than once.
fn assert_caught(history: &History, at_ms: f64) {
    let caught = history.events.iter().filter(|e| e.invoke_ms < at_ms && e.complete_ms > at_ms && e.attempts > 1).count();
    assert!(caught > 0, "the fault at {at_ms:.1} ms caught no operation in flight");
}

/// `ok` operations invoked after `after_ms` whose reply carries `epoch` or
/// an older one. A write's reply carries the epoch of the master that
/// stamped it (K3), a read's the epoch of the master that answered it, so
/// such an operation was stamped or answered by the old master after
/// `after_ms` (a retry answered from the client table carries the first
/// stamp, but it repeats an operation invoked before).
fn acknowledged_under(history: &History, epoch: u64, after_ms: f64) -> Vec<String> {
    (history.events.iter())
        .filter(|e| e.outcome == Outcome::Ok && e.epoch.is_some_and(|x| x <= epoch) && e.invoke_ms > after_ms)
        .map(check::describe)
        .collect()
}

#[test]
fn the_master_killed_during_a_load_loses_no_acknowledged_write() {
    let mut group = Group::start();
    group.settled();
    let load = Load::start(&group, 1, Settings::default());
    load.writes(300);
    let (first, epoch) = group.master("the master before the fault", |_, _| true);
    group.nodes[first] = None; // kill -9
    let killed = load.tally.now_ms();
    let (_, next) = group.master("the next master serving", |row, e| row != first && e > epoch);
    load.progress(100, "writes under the next master");
    let history = load.finish("master_killed");
    assert_caught(&history, killed);
    assert!(history.events.iter().any(|e| e.outcome == Outcome::Ok && e.epoch >= Some(next)), "nothing acknowledged after the failover");
}

#[test]
fn a_stopped_master_woken_after_the_failover_gets_no_write_acknowledged() {
    let group = Group::start();
    group.settled();
    let load = Load::start(&group, 2, impatient());
    load.writes(300);
    let (first, epoch) = group.master("the master before the fault", |_, _| true);
    group.signal(first, "-STOP");
    let stopped = load.tally.now_ms();
    group.master("the next master serving", |row, e| row != first && e > epoch);
    load.progress(100, "writes under the next master");
    group.signal(first, "-CONT");
    // The woken master sends what it held under its old epoch; the backups
    // have seen the new one and refuse it (K4).
    load.progress(200, "writes after the old master woke");
    let history = load.finish("master_stopped");
    assert_caught(&history, stopped);
    let late = acknowledged_under(&history, epoch, stopped);
    assert!(late.is_empty(), "invoked after the SIGSTOP at {stopped:.1} ms, acknowledged under epoch {epoch}:\n{}", late.join("\n"));
}

#[test]
fn an_isolated_master_commits_nothing_alone_and_the_history_stays_linearizable() {
    let group = Group::start();
    group.settled();
    let load = Load::start(&group, 3, impatient());
    load.writes(300);
    let (first, epoch) = group.master("the master before the fault", |_, _| true);
    group.admin(first, "isolate");
    let isolated = load.tally.now_ms();
    group.master("the next master serving", |row, e| row != first && e > epoch);
    load.progress(100, "writes under the next master");
    group.admin(first, "heal");
    load.progress(200, "writes after the heal");
    let history = load.finish("master_isolated");
    assert_caught(&history, isolated);
    // Nothing invoked after the isolation was written or read under the old
    // epoch: the isolated master reaches no backup and removes none (K10).
    let alone = acknowledged_under(&history, epoch, isolated);
    assert!(alone.is_empty(), "invoked after the isolation at {isolated:.1} ms, acknowledged under epoch {epoch}:\n{}", alone.join("\n"));
}

#[test]
fn a_killed_backup_is_removed_and_returns_by_state_transfer_losing_nothing() {
    let mut group = Group::start();
    group.settled();
    let load = Load::start(&group, 4, Settings::default());
    load.writes(300);
    let (master, _) = group.master("the master before the fault", |_, _| true);
    let backup = (master + 1) % IDS.len();
    group.nodes[backup] = None; // kill -9
    wait(Duration::from_secs(30), "the killed backup removed from the configuration", || {
        (!group.members().iter().any(|m| m == IDS[backup])).then_some(())
    });
    load.progress(200, "writes without the backup");
    group.start_node(backup);
    wait(Duration::from_secs(30), "the backup added back", || group.members().iter().any(|m| m == IDS[backup]).then_some(()));
    load.progress(200, "writes with the backup back");
    let history = load.finish("backup_killed");
    // Its copy caught up: it holds what the master committed.
    let (m, _) = group.master("the master after the load", |_, _| true);
    wait(Duration::from_secs(20), "the returned backup to hold every committed write", || {
        let (theirs, ours) = (group.service(backup)?, group.service(m)?);
        (theirs["applied"] == ours["commit"] && theirs["keys"] == ours["keys"]).then_some(())
    });
    assert!(history.events.iter().filter(|e| e.outcome == Outcome::Ok).count() > 500);
}

#[test]
fn a_restarted_name_server_loses_no_write() {
    let mut group = Group::start();
    group.settled();
    let load = Load::start(&group, 5, impatient());
    load.writes(300);
    // kill -9, then a start on the same folder and port.
    group.ns.0.kill().unwrap();
    group.ns.0.wait().unwrap();
    let down = load.tally.now_ms();
    group.ns = kv_group::start_nameserver(group.ns_addr, &group.dir.path().join("ns"));
    group.master("a master registered after the restart", |_, _| true);
    load.progress(300, "writes after the restart");
    let history = load.finish("nameserver_restarted");
    assert!(history.events.iter().any(|e| e.outcome == Outcome::Ok && e.invoke_ms > down), "nothing succeeded after the restart");
}
