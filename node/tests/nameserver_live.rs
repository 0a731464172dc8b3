//! Live nodes and the name server as real processes on 127.0.0.1: the
//! elected master registers, clients find it with `stagger client`, and
//! after a kill -9 the next master registers under a higher epoch.

use serde_json::{json, Value};
use stagger_tests::harness::cluster::Cluster;
use stagger_tests::harness::etcd::{find_etcd, EtcdCluster, EtcdTiming};
use stagger_tests::harness::{self, Reaped};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STAGGER: &str = env!("CARGO_BIN_EXE_stagger");
const GROUP: &str = "live-ns";

fn client_master(url: &str) -> Option<Value> {
    let out = Command::new(STAGGER).args(["client", "--nameserver", url, "--group", GROUP, "master", "--json"]).output().unwrap();
    out.status.success().then(|| serde_json::from_slice(&out.stdout).unwrap())
}

fn status(addr: &std::net::SocketAddr) -> Option<Value> {
    let client = harness::poll_client(Duration::from_millis(500));
    client.get(format!("http://{addr}/api/status")).send().ok()?.json().ok()
}

/// Polls `f` every 50 ms until it gives a value, for at most `limit`.
fn wait<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `stagger nameserver` on `addr`, its state where `store` says
/// (`--data DIR` or `--etcd URLS`).
fn start_nameserver(addr: std::net::SocketAddr, store: &[String]) -> Reaped {
    let child = Command::new(STAGGER)
        .args(["nameserver", "--listen", &addr.to_string()])
        .args(store)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Reaped(child)
}

const IDS: [&str; 3] = ["s0", "s1", "s2"];
const TOKEN: &str = "nameserver-live-token";

/// A name server and three nodes whose group file names it.
struct Live {
    _dir: tempfile::TempDir,
    ns: Reaped,
    /// The name server's `--data DIR` or `--etcd URLS`.
    store: Vec<String>,
    ns_addr: std::net::SocketAddr,
    url: String,
    addrs: Vec<std::net::SocketAddr>,
    nodes: Vec<Option<Reaped>>,
}

impl Live {
    /// On the embedded name server.
    fn start() -> Live {
        Live::start_with(None)
    }

    /// On the embedded name server, or on etcd at `etcd` if given.
    fn start_with(etcd: Option<&[String]>) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let ports = harness::free_ports(4).unwrap();
        let (ns_addr, addrs) = (ports[0], ports[1..].to_vec());
        let url = format!("http://{ns_addr}");
        let store = match etcd {
            Some(urls) => vec!["--etcd".to_string(), urls.join(",")],
            None => vec!["--data".to_string(), dir.path().join("ns").display().to_string()],
        };
        let ns = start_nameserver(ns_addr, &store);
        let file = json!({
            "name": GROUP,
            "nameserver": url,
            "servers": IDS.iter().zip(&addrs).map(|(id, a)| json!({"id": id, "addr": a.to_string()})).collect::<Vec<_>>(),
            "ranking": IDS,
            "delays_ms": [[0, 1, 1], [1, 0, 1], [1, 1, 0]],
            "detection": {"period_ms": 300, "timeout_ms": 150},
            "secret": "nameserver-live-secret",
        });
        let path = dir.path().join("group.json");
        std::fs::write(&path, file.to_string()).unwrap();
        let nodes =
            IDS.iter().map(|id| Some(harness::spawn_node(STAGGER, &path, id, &["--admin-token", TOKEN], Stdio::inherit()))).collect();
        Live { _dir: dir, ns, store, ns_addr, url, addrs, nodes }
    }

    /// The registered master's row and epoch, once it is Master, serving,
    /// and holding the epoch the name server names, and `pred` holds.
    fn registered(&self, what: &str, pred: impl Fn(usize, u64) -> bool) -> (usize, u64) {
        wait(Duration::from_secs(20), what, || {
            let m = client_master(&self.url)?;
            let row = IDS.iter().position(|i| m["master"] == *i)?;
            let epoch = m["epoch"].as_u64()?;
            let s = status(&self.addrs[row])?;
            let held = s["role"] == "Master" && s["nameserver"]["serving"] == true && s["nameserver"]["epoch"] == epoch;
            (held && pred(row, epoch)).then_some((row, epoch))
        })
    }
}

fn signal(child: &Reaped, signal: &str) {
    let ok = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(ok.success(), "kill {signal} {}", child.id());
}

#[test]
fn a_stopped_master_wakes_fenced_by_the_next_masters_higher_epoch() {
    let live = Live::start();
    let (first, epoch) = live.registered("a registered master", |_, _| true);
    let stopped = live.nodes[first].as_ref().unwrap();
    signal(stopped, "-STOP");
    // Far longer than the detection budget (2 × 300 + 150 ms) and the ttl.
    let (second, next) = live.registered("the next master registered", |row, e| row != first && e > epoch);
    std::thread::sleep(Duration::from_millis(2_500));
    signal(stopped, "-CONT");
    // The woken master's renewal under its old epoch is refused, and it
    // says so. (The Fig. 9 rules may then make it master again, being the
    // better-ranked one: the other resigns and it registers anew.)
    let client = harness::poll_client(Duration::from_secs(2));
    let refused = format!("the name server refused epoch {epoch}");
    wait(Duration::from_secs(10), "the woken master to learn it is stale", || {
        let trace: Value = client.get(format!("http://{}/api/trace", live.addrs[first])).send().ok()?.json().ok()?;
        trace["events"].as_array()?.iter().any(|e| e["what"].as_str().is_some_and(|w| w.starts_with(&refused))).then_some(())
    });
    live.fenced_then_newer(first, epoch, second, next);
}

impl Live {
    /// After a takeover from `first` (epoch `epoch`) by `second` (epoch
    /// `next`): `first`'s renewal under its old epoch is refused and it
    /// says so, and whoever is registered afterwards holds `next` or a
    /// newer epoch. (The Fig. 9 rules may make `first`, the better-ranked,
    /// master again: the other resigns and it registers anew.)
    fn fenced_then_newer(&self, first: usize, epoch: u64, second: usize, next: u64) {
        let client = harness::poll_client(Duration::from_secs(2));
        let refused = format!("the name server refused epoch {epoch}");
        wait(Duration::from_secs(10), "the old master to learn it is stale", || {
            let trace: Value = client.get(format!("http://{}/api/trace", self.addrs[first])).send().ok()?.json().ok()?;
            trace["events"].as_array()?.iter().any(|e| e["what"].as_str().is_some_and(|w| w.starts_with(&refused))).then_some(())
        });
        let (now, e) = self.registered("a master registered afterwards", |_, _| true);
        assert!(e >= next, "the epoch went back: {e} < {next}");
        assert!(now == second || e > next, "{now} registered under {e}, not above {next}");
    }

    fn admin(&self, row: usize, action: &str) {
        let client = harness::poll_client(Duration::from_secs(5));
        let res = client.post(format!("http://{}/api/admin/{action}", self.addrs[row])).bearer_auth(TOKEN).send().unwrap();
        assert!(res.status().is_success(), "{action}: {}", res.status());
    }
}

#[test]
fn an_isolated_master_is_fenced_by_the_next_masters_higher_epoch() {
    let live = Live::start();
    let (first, epoch) = live.registered("a registered master", |_, _| true);
    live.admin(first, "isolate");
    // The others elect; the isolated node still reaches the name server,
    // where its renewal meets the newer epoch.
    let (second, next) = live.registered("the next master registered", |row, e| row != first && e > epoch);
    live.fenced_then_newer(first, epoch, second, next);
    live.admin(first, "heal");
    let (_, e) = live.registered("one master registered after the heal", |_, _| true);
    assert!(e >= next);
}

#[test]
fn a_killed_name_server_restarts_and_the_master_renews_the_same_epoch() {
    let mut live = Live::start();
    live.registered("a registered master", |_, _| true);
    // Let the group settle, so no election runs across the restart.
    std::thread::sleep(Duration::from_millis(1_000));
    let (first, epoch) = live.registered("a settled master", |_, _| true);
    // kill -9, then a start on the same folder and port.
    live.ns.0.kill().unwrap();
    live.ns.0.wait().unwrap();
    live.ns = start_nameserver(live.ns_addr, &live.store);
    let (row, e) = live.registered("the master after the restart", |_, _| true);
    assert_eq!((row, e), (first, epoch), "the registration was lost or replaced");
    // And it keeps renewing the same epoch past a whole ttl.
    std::thread::sleep(Duration::from_millis(2_500));
    assert_eq!(live.registered("the master still", |_, _| true), (first, epoch));
}

#[test]
fn the_master_registers_and_after_kill_9_the_next_master_registers_under_a_higher_epoch() {
    let mut live = Live::start();
    let (first, epoch) = live.registered("a registered master", |_, _| true);
    assert_eq!(client_master(&live.url).unwrap()["addr"], live.addrs[first].to_string());
    live.nodes[first] = None; // kill -9
    let (second, next) = live.registered("the next master registered", |row, e| row != first && e > epoch);
    assert!(second != first && next > epoch);
}

/// A running group whose name server keeps its state in a 3-member etcd
/// cluster: kill -9 of the etcd leader, then of a follower, loses no
/// registration, and after each the group's registrations still rise.
#[test]
fn a_group_on_an_etcd_name_server_loses_no_registration_when_an_etcd_member_dies() {
    let mut etcd = EtcdCluster::new(&find_etcd().unwrap(), 3, EtcdTiming { heartbeat_ms: 50, election_timeout_ms: 500 }).unwrap();
    etcd.start_all().unwrap();
    etcd.wait_for_leader(Duration::from_secs(20)).unwrap();
    let mut live = Live::start_with(Some(&etcd.client_urls()));
    live.registered("a registered master", |_, _| true);
    std::thread::sleep(Duration::from_millis(1_000));
    let (master, epoch) = live.registered("a settled master", |_, _| true);
    for round in 0..2 {
        let leader = etcd.wait_for_leader(Duration::from_secs(20)).unwrap();
        let victim = if round == 0 { leader } else { (leader + 1) % 3 };
        etcd.kill(victim);
        // Past a whole ttl (2 s): the master kept renewing the same epoch
        // through etcd's election.
        std::thread::sleep(Duration::from_millis(2_500));
        assert_eq!(live.registered("the master after the loss", |_, _| true), (master, epoch), "round {round}");
        etcd.start(victim).unwrap();
        etcd.wait_for_leader(Duration::from_secs(20)).unwrap();
    }
    // With one etcd member down, a takeover still gets a higher epoch.
    let leader = etcd.wait_for_leader(Duration::from_secs(20)).unwrap();
    etcd.kill(leader);
    live.nodes[master] = None; // kill -9
    live.registered("the next master registered", |row, e| row != master && e > epoch);
}
