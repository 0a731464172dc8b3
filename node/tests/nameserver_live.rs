//! Live nodes and the name server as real processes on 127.0.0.1: the
//! elected master registers, clients find it with `stagger client`, and
//! after a kill -9 the next master registers under a higher epoch; `stagger
//! ctl add` and `remove` change the group's configuration and the running
//! nodes follow it.

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
    ids: Vec<&'static str>,
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
        Live::start_with(&IDS, 0, None)
    }

    /// A node for each of `ids`, the last `spares` of them spare servers
    /// (outside the initial configuration), on the embedded name server or
    /// on etcd at `etcd` if given.
    fn start_with(ids: &[&'static str], spares: usize, etcd: Option<&[String]>) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let n = ids.len();
        let ports = harness::free_ports(n + 1).unwrap();
        let (ns_addr, addrs) = (ports[0], ports[1..].to_vec());
        let url = format!("http://{ns_addr}");
        let store = match etcd {
            Some(urls) => vec!["--etcd".to_string(), urls.join(",")],
            None => vec!["--data".to_string(), dir.path().join("ns").display().to_string()],
        };
        let ns = start_nameserver(ns_addr, &store);
        let servers = (ids.iter().zip(&addrs).enumerate())
            .map(|(i, (id, a))| json!({"id": id, "addr": a.to_string(), "spare": i >= n - spares}))
            .collect::<Vec<_>>();
        let file = json!({
            "name": GROUP,
            "nameserver": url,
            "servers": servers,
            "ranking": ids,
            "delays_ms": (0..n).map(|j| (0..n).map(|k| u64::from(j != k)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "detection": {"period_ms": 300, "timeout_ms": 150},
            // The recommended guard, P: with 1 ms delays and no guard,
            // detection skew lets s2 claim beside s1, a contest in which
            // both register (epochs + 2).
            "timer": {"scheme": "integral", "base_ms": 30, "guard_ms": 300},
            "secret": "nameserver-live-secret",
        });
        let path = dir.path().join("group.json");
        std::fs::write(&path, file.to_string()).unwrap();
        let nodes =
            ids.iter().map(|id| Some(harness::spawn_node(STAGGER, &path, id, &["--admin-token", TOKEN], Stdio::inherit()))).collect();
        Live { ids: ids.to_vec(), _dir: dir, ns, store, ns_addr, url, addrs, nodes }
    }

    /// The registered master's row and epoch, once it is Master, serving,
    /// and holding the epoch the name server names, and `pred` holds.
    fn registered(&self, what: &str, pred: impl Fn(usize, u64) -> bool) -> (usize, u64) {
        wait(Duration::from_secs(20), what, || {
            let m = client_master(&self.url)?;
            let row = self.ids.iter().position(|i| m["master"] == *i)?;
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
    // The woken master's renewal under its old epoch is refused, it says
    // so and stops serving clients under that epoch.
    live.fenced_then_newer(first, epoch, second, next);
}

impl Live {
    /// After a takeover from `first` (epoch `epoch`) by `second` (epoch
    /// `next`): `first`'s renewal under its old epoch is refused and it
    /// says so and stops serving clients under it, and whoever is
    /// registered afterwards holds `next` or a newer epoch. (The Fig. 9
    /// rules may make `first`, the better-ranked, master again: the other
    /// resigns and it registers anew.)
    fn fenced_then_newer(&self, first: usize, epoch: u64, second: usize, next: u64) {
        let client = harness::poll_client(Duration::from_secs(2));
        let refused = format!("the name server refused epoch {epoch}");
        wait(Duration::from_secs(10), "the old master to learn it is stale", || {
            let trace: Value = client.get(format!("http://{}/api/trace", self.addrs[first])).send().ok()?.json().ok()?;
            trace["events"].as_array()?.iter().any(|e| e["what"].as_str().is_some_and(|w| w.starts_with(&refused))).then_some(())
        });
        // Having learnt it, it no longer serves clients under the old
        // epoch (it may have registered anew since, under a newer one).
        let s = status(&self.addrs[first]).expect("the old master answers");
        let r = &s["nameserver"];
        assert!(!(r["serving"] == true && r["epoch"] == epoch), "still serving under stale epoch {epoch}: {s}");
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
fn the_master_registers_and_after_kill_9_the_next_master_registers_epoch_plus_one_within_the_bound() {
    let mut live = Live::start();
    let (first, epoch) = live.registered("a registered master", |_, _| true);
    assert_eq!(client_master(&live.url).unwrap()["addr"], live.addrs[first].to_string());
    // Let the group settle, so the kill starts the only election.
    std::thread::sleep(Duration::from_millis(1_000));
    let (first, epoch) = live.registered("a settled master", |row, e| row == first && e == epoch);
    let lookup = format!("{}/v1/groups/{GROUP}", live.url);
    let client = harness::poll_client(Duration::from_millis(500));
    let killed = Instant::now();
    live.nodes[first] = None; // kill -9
                              // What a client sees: poll the name server's lookup every 5 ms.
    let (member, next) = loop {
        let view: Option<Value> = client.get(&lookup).send().ok().and_then(|r| r.json().ok());
        let master = view.as_ref().map(|v| &v["master"]);
        if let Some(m) = master.filter(|m| m["member"] != IDS[first] && !m.is_null()) {
            break (m["member"].as_str().unwrap().to_string(), m["epoch"].as_u64().unwrap());
        }
        assert!(killed.elapsed() < Duration::from_secs(10), "no new master registered: {view:?}");
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = killed.elapsed();
    // One takeover, one registration: exactly the next epoch (N1, N2).
    assert_eq!(next, epoch + 1, "{member} registered under {next} after {epoch}");
    // The failover bound of the live tests: P + τ + D + the largest delay
    // + 50 ms, where D = T1 (30 ms) plus, for each better rank still
    // counted, its δ (1 ms) and the guard (300 ms); plus one round trip to
    // the name server and the 5 ms polling, for which 150 ms is ample on
    // loopback even on a loaded machine.
    let want = IDS.iter().position(|i| *i == member).unwrap() as u64;
    let bound = Duration::from_millis(300 + 150 + 30 + 1 + 50 + 301 * want);
    println!("kill -9 of {}: a client finds {member} under epoch {next} after {took:?} (bound {bound:?} + 150 ms)", IDS[first]);
    assert!(took <= bound + Duration::from_millis(150), "{took:?} > {bound:?} + 150 ms");
    let (second, e) = live.registered("the next master, serving", |row, e| row != first && e == next);
    assert_eq!((IDS[second], e), (member.as_str(), next));
}

/// `stagger ctl --node http://ADDR ARGS...`.
fn ctl(addr: &std::net::SocketAddr, args: &[&str]) -> std::process::Output {
    Command::new(STAGGER).args(["ctl", "--node", &format!("http://{addr}")]).args(args).output().unwrap()
}

/// Runs `stagger ctl`, which must succeed; the configuration it printed.
fn ctl_ok(addr: &std::net::SocketAddr, args: &[&str]) -> Value {
    let out = ctl(addr, args);
    assert!(out.status.success(), "ctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

impl Live {
    /// Waits until every row in `rows` runs the configuration `version`
    /// with `members`, under the same ranking version, and `f` holds of its
    /// status.
    fn following(&self, rows: &[usize], version: u64, members: &[&str], f: impl Fn(usize, &Value) -> bool) {
        let (want, ranking) = (json!(members), json!(version));
        for &row in rows {
            wait(Duration::from_secs(20), &format!("{} to run configuration {version}", self.ids[row]), || {
                let s = status(&self.addrs[row])?;
                let c = &s["configuration"];
                (c["version"] == version && c["members"] == want && s["ranking_version"] == ranking && f(row, &s)).then_some(())
            });
        }
    }

    /// The configuration at the name server.
    fn config(&self) -> Value {
        let client = harness::poll_client(Duration::from_secs(5));
        let view: Value = client.get(format!("{}/v1/groups/{GROUP}", self.url)).send().unwrap().json().unwrap();
        view["config"].clone()
    }
}

/// How `row`'s status shows `peer`: "connected", "connecting" or "down".
fn peer_state(s: &Value, peer: &str) -> Value {
    s["peers"].as_array().into_iter().flatten().find(|p| p["id"] == peer).map_or(Value::Null, |p| p["state"].clone())
}

#[test]
fn ctl_adds_a_running_spare_every_node_follows_and_it_can_become_master() {
    let mut live = Live::start_with(&["s0", "s1", "s2", "s3"], 1, None);
    let (_, epoch) = live.registered("a registered master", |_, _| true);
    // The spare runs, but takes no part: down, and nobody connects to it.
    live.following(&[0, 1, 2, 3], 1, &["s0", "s1", "s2"], |row, s| {
        if row == 3 {
            s["role"] == "Down" && s["configuration"]["member"] == false
        } else {
            peer_state(s, "s3") == "down"
        }
    });
    let config = ctl_ok(&live.addrs[0], &["add", "s3"]);
    assert_eq!(config, json!({"members": ["s0", "s1", "s2", "s3"], "version": 2, "ranking_version": 2}));
    // Every node re-ranks to version 2, the four are connected, and the
    // added member runs (a detection period after it joined) as a Backup
    // that found the master.
    live.following(&[0, 1, 2, 3], 2, &["s0", "s1", "s2", "s3"], |row, s| {
        let connected = s["peers"].as_array().is_some_and(|p| p.iter().all(|p| p["state"] == "connected"));
        connected && (row < 3 || (s["role"] == "Backup" && s["master"].is_string() && s["configuration"]["member"] == true))
    });
    // kill -9 of the three others. The added member is then alone in a
    // group of four, so it may elect itself but not register (N16: it does
    // not hear a majority) until the dead are removed.
    for row in 0..3 {
        live.nodes[row] = None;
    }
    for gone in ["s0", "s1", "s2"] {
        ctl_ok(&live.addrs[3], &["remove", gone]);
    }
    live.following(&[3], 5, &["s3"], |_, s| s["role"] == "Master");
    let (row, next) = live.registered("the added member registered", |row, _| row == 3);
    assert!(row == 3 && next > epoch, "{row} under {next}, not above {epoch}");
}

#[test]
fn a_removed_member_stops_taking_part_is_refused_registration_and_no_longer_counted() {
    let mut live = Live::start_with(&["s0", "s1", "s2", "s3"], 0, None);
    let (first, epoch) = live.registered("a registered master", |_, _| true);
    let gone = if first == 3 { 2 } else { 3 };
    let id = live.ids[gone];
    let rest: Vec<usize> = (0..4).filter(|r| *r != gone).collect();
    let members: Vec<&str> = rest.iter().map(|r| live.ids[*r]).collect();
    let config = ctl_ok(&live.addrs[first], &["remove", id]);
    assert_eq!((&config["members"], &config["version"]), (&json!(members), &json!(2)));
    // The others run version 2 without it and keep no connection to it; it
    // stopped taking part.
    live.following(&rest, 2, &members, |_, s| peer_state(s, id) == "down");
    live.following(&[gone], 2, &members, |_, s| s["role"] == "Down" && s["configuration"]["member"] == false);
    // The name server refuses it a registration under the current ranking.
    let client = harness::poll_client(Duration::from_secs(5));
    let body = json!({"member": id, "addr": live.addrs[gone].to_string(), "ranking_version": 2, "ttl_ms": 1_000});
    let res = client.post(format!("{}/v1/groups/{GROUP}/register", live.url)).json(&body).send().unwrap();
    assert_eq!(res.status().as_u16(), 409);
    assert_eq!(res.json::<Value>().unwrap()["error"], "not_a_member");
    // kill -9 of the master: two of the three members are left, a majority
    // only because the removed one no longer counts (two of four is not),
    // and the next master registers.
    live.nodes[first] = None;
    let (second, next) = live.registered("the next master registered", |row, e| row != first && e > epoch);
    assert!(second != gone && next > epoch);
    assert_eq!(status(&live.addrs[gone]).unwrap()["role"], "Down", "the removed member stays out");
}

#[test]
fn two_reconfigurations_against_one_version_one_is_refused_and_bad_input_writes_nothing() {
    let live = Live::start_with(&["s0", "s1", "s2"], 2, None);
    live.registered("a registered master", |row, _| row == 0);
    let s0 = live.addrs[0];
    assert_eq!(ctl_ok(&s0, &["add", "s1", "--expect-version", "1"])["version"], 2);
    let out = ctl(&s0, &["add", "s2", "--expect-version", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("configuration version 1 expected, the current one is 2"), "{err}");
    assert_eq!(live.config(), json!({"members": ["s0", "s1"], "version": 2, "ranking_version": 2}));
    for (args, why) in [
        (&["add", "zurich"][..], "'zurich' is not a server of the group file"),
        (&["add", "s1"], "'s1' is already a member of live-ns"),
        (&["remove", "s2"], "'s2' is not a member of live-ns"),
        (&["add"], "add needs the member's id"),
        (&["remove"], "remove needs the member's id"),
        (&["crash", "s1"], "only add and remove take a member"),
        (&["status", "--expect-version", "2"], "--expect-version goes with add or remove"),
        (&["rerank", "s1"], "only add and remove take a member"),
    ] {
        let out = ctl(&s0, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert_eq!(live.config()["version"], 2, "{args:?} wrote something");
    }
    assert_eq!(ctl_ok(&s0, &["remove", "s1"])["members"], json!(["s0"]));
    let out = ctl(&s0, &["remove", "s0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'s0' is the last member of live-ns"));
    assert_eq!(live.config(), json!({"members": ["s0"], "version": 3, "ranking_version": 3}));
    live.following(&[0, 1, 2], 3, &["s0"], |row, s| (row == 0) == (s["configuration"]["member"] == true));
}

/// A running group whose name server keeps its state in a 3-member etcd
/// cluster: kill -9 of the etcd leader, then of a follower, loses no
/// registration, and after each the group's registrations still rise.
#[test]
fn a_group_on_an_etcd_name_server_loses_no_registration_when_an_etcd_member_dies() {
    let mut etcd = EtcdCluster::new(&find_etcd().unwrap(), 3, EtcdTiming { heartbeat_ms: 50, election_timeout_ms: 500 }).unwrap();
    etcd.start_all().unwrap();
    etcd.wait_for_leader(Duration::from_secs(20)).unwrap();
    let mut live = Live::start_with(&IDS, 0, Some(&etcd.client_urls()));
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

#[test]
fn a_takeover_by_another_member_fences_the_master_at_once_through_its_watch() {
    let live = Live::start();
    live.registered("a registered master", |_, _| true);
    std::thread::sleep(Duration::from_millis(1_000));
    let (first, epoch) = live.registered("a settled master", |_, _| true);
    // Another member registers, as a contest's loser that claimed second
    // would: a takeover the master's renewals would only meet up to a third
    // of the ttl later. Its lease is short, so the group's master gets the
    // registration back when it runs out.
    let other = IDS[(first + 1) % IDS.len()];
    let client = harness::poll_client(Duration::from_secs(2));
    let view: Value = client.get(format!("{}/v1/groups/{GROUP}", live.url)).send().unwrap().json().unwrap();
    let body = json!({"member": other, "addr": "127.0.0.1:9", "ranking_version": view["config"]["ranking_version"], "ttl_ms": 500});
    let granted: Value = client.post(format!("{}/v1/groups/{GROUP}/register", live.url)).json(&body).send().unwrap().json().unwrap();
    let taken = granted["epoch"].as_u64().unwrap();
    assert_eq!(taken, epoch + 1, "{granted}");
    let seen = format!("the watch shows epoch {epoch} is no longer current");
    wait(Duration::from_secs(5), "the master to see the takeover on its watch", || {
        let trace: Value = client.get(format!("http://{}/api/trace", live.addrs[first])).send().ok()?.json().ok()?;
        trace["events"].as_array()?.iter().any(|e| e["what"] == seen.as_str()).then_some(())
    });
    let s = status(&live.addrs[first]).unwrap();
    assert!(!(s["nameserver"]["serving"] == true && s["nameserver"]["epoch"] == epoch), "still serving under {epoch}: {s}");
    // Once the other's lease runs out, the master registers again.
    live.registered("the master registered again", |row, e| row == first && e > taken);
}
