//! The replicated key-value service with real processes on 127.0.0.1: a
//! name server and three nodes. Writes go through the master and every
//! member applies them; bad requests are refused with a clear error and
//! change nothing; a killed backup is removed from the configuration
//! through the name server, the master keeps committing, and the backup,
//! restarted on its own data folder, catches up by state transfer and is
//! added back.

use reqwest::blocking::Client;
use serde_json::{json, Value};
use stagger_tests::harness::{self, Reaped};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STAGGER: &str = env!("CARGO_BIN_EXE_stagger");
const GROUP: &str = "kv-live";
const IDS: [&str; 3] = ["s0", "s1", "s2"];
const TOKEN: &str = "kv-live-token";

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

struct Live {
    dir: tempfile::TempDir,
    _ns: Reaped,
    ns_url: String,
    addrs: Vec<SocketAddr>,
    nodes: Vec<Option<Reaped>>,
    client: Client,
}

impl Live {
    fn start() -> Live {
        Live::start_with(1, false)
    }

    /// Links of `delay_ms` between every two servers, emulated on loopback
    /// when `emulate` is on.
    fn start_with(delay_ms: u64, emulate: bool) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let ports = harness::free_ports(IDS.len() + 1).unwrap();
        let (ns_addr, addrs) = (ports[0], ports[1..].to_vec());
        let ns_url = format!("http://{ns_addr}");
        let ns = Command::new(STAGGER)
            .args(["nameserver", "--listen", &ns_addr.to_string(), "--data"])
            .arg(dir.path().join("ns"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let n = IDS.len();
        let servers = IDS.iter().zip(&addrs).map(|(id, a)| json!({"id": id, "addr": a.to_string()})).collect::<Vec<_>>();
        let file = json!({
            "name": GROUP,
            "nameserver": ns_url,
            "servers": servers,
            "ranking": IDS,
            "delays_ms": (0..n).map(|j| (0..n).map(|k| if j == k { 0 } else { delay_ms }).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "emulate_delays": emulate,
            "detection": {"period_ms": 300, "timeout_ms": 150},
            "timer": {"scheme": "integral", "base_ms": 30, "guard_ms": 300},
            "secret": "kv-live-secret",
        });
        std::fs::write(dir.path().join("group.json"), file.to_string()).unwrap();
        let mut live = Live {
            dir,
            _ns: Reaped(ns),
            ns_url,
            addrs,
            nodes: (0..n).map(|_| None).collect(),
            client: harness::poll_client(Duration::from_secs(10)),
        };
        (0..n).for_each(|row| live.start_node(row));
        live
    }

    /// Starts (or restarts) `row` with the default data folder beside the
    /// group file, which a restart finds again.
    fn start_node(&mut self, row: usize) {
        let group = self.dir.path().join("group.json");
        self.nodes[row] = Some(harness::spawn_node(STAGGER, &group, IDS[row], &["--admin-token", TOKEN], Stdio::inherit()));
    }

    fn service(&self, row: usize) -> Option<Value> {
        self.client.get(format!("http://{}/api/service", self.addrs[row])).send().ok()?.json().ok()
    }

    /// `POST /api/kv` to `row` with `body` (a JSON value, or raw text):
    /// the status and the answer.
    fn kv(&self, row: usize, query: &str, body: impl Into<reqwest::blocking::Body>) -> (u16, Value) {
        let res = (self.client.post(format!("http://{}/api/kv{query}", self.addrs[row])))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}")))
    }

    fn request(&self, row: usize, req: Value) -> (u16, Value) {
        self.kv(row, "", req.to_string())
    }

    /// The row whose replica is master and serving.
    fn master(&self) -> usize {
        wait(Duration::from_secs(20), "a serving master", || {
            (0..IDS.len()).find(|&r| self.nodes[r].is_some() && self.service(r).is_some_and(|s| s["role"] == "master"))
        })
    }

    /// A put through the master that is acknowledged, retried with the
    /// same sequence number while the outcome is unknown or the master
    /// moves (the client table answers a retry once).
    fn put(&self, client: &str, seq: u64, key: &str, value: &str) -> Value {
        let req = json!({"client": client, "seq": seq, "op": "put", "key": key, "value": value});
        wait(Duration::from_secs(20), &format!("put {key}={value} acknowledged"), || {
            let (status, reply) = self.request(self.master(), req.clone());
            (status == 200).then_some(reply)
        })
    }

    fn get(&self, client: &str, seq: u64, key: &str) -> Value {
        let req = json!({"client": client, "seq": seq, "op": "get", "key": key});
        let (status, reply) = self.request(self.master(), req);
        assert_eq!(status, 200, "get {key}: {reply}");
        reply["value"].clone()
    }

    fn admin(&self, row: usize, action: &str) {
        let res = self.client.post(format!("http://{}/api/admin/{action}", self.addrs[row])).bearer_auth(TOKEN).send().unwrap();
        assert!(res.status().is_success(), "{action}: {}", res.status());
    }

    /// Waits until every member has applied `index`.
    fn all_applied(&self, index: u64, what: &str) {
        wait(Duration::from_secs(20), what, || {
            (0..IDS.len()).all(|r| self.service(r).is_some_and(|s| s["applied"].as_u64() >= Some(index))).then_some(())
        });
    }

    /// The members of the configuration at the name server.
    fn members(&self) -> Vec<String> {
        let view: Value = self.client.get(format!("{}/v1/groups/{GROUP}", self.ns_url)).send().unwrap().json().unwrap();
        serde_json::from_value(view["config"]["members"].clone()).unwrap()
    }
}

#[test]
fn writes_through_the_master_reach_every_member_and_bad_requests_change_nothing() {
    let live = Live::start();
    let m = live.master();
    let reply = live.put("c1", 1, "k", "v");
    assert_eq!(reply["result"], "written", "{reply}");
    // The store's answers keep the connection open (KN12); the node's
    // other routes close it (L13).
    let res = live.client.post(format!("http://{}/api/kv", live.addrs[m])).body("{}").send().unwrap();
    assert_eq!(res.headers().get("connection").map(|v| v.to_str().unwrap()), Some("keep-alive"));
    let res = live.client.get(format!("http://{}/api/service", live.addrs[m])).send().unwrap();
    assert_eq!(res.headers().get("connection").map(|v| v.to_str().unwrap()), Some("close"));
    assert_eq!(reply["previous"], Value::Null);
    let index = reply["index"].as_u64().unwrap();
    assert!(reply["epoch"].as_u64().unwrap() > 0, "{reply}");
    // Every member has applied it.
    wait(Duration::from_secs(10), "every member to apply the write", || {
        (0..IDS.len()).all(|r| live.service(r).is_some_and(|s| s["applied"].as_u64() >= Some(index))).then_some(())
    });
    assert_eq!(live.get("c1", 2, "k"), "v");

    // A backup redirects to the master, with its address.
    let backup = (m + 1) % IDS.len();
    let (status, err) = live.request(backup, json!({"client": "c2", "seq": 1, "op": "put", "key": "b", "value": "x"}));
    assert_eq!((status, &err["error"]), (421, &json!("not_master")), "{err}");
    assert_eq!(err["addr"], live.addrs[m].to_string(), "{err}");

    // Over the documented limits: a key of 257 bytes, a value of 64 KiB + 1.
    let long_key = "k".repeat(257);
    let (status, err) = live.request(m, json!({"client": "c2", "seq": 2, "op": "put", "key": long_key, "value": "x"}));
    assert_eq!((status, &err["error"], &err["field"]), (400, &json!("bad_request"), &json!("key")), "{err}");
    let big = "v".repeat(64 * 1024 + 1);
    let (status, err) = live.request(m, json!({"client": "c2", "seq": 3, "op": "put", "key": "big", "value": big}));
    assert_eq!((status, &err["error"], &err["field"]), (400, &json!("bad_request"), &json!("value")), "{err}");
    // A body over the HTTP limit.
    let huge = json!({"client": "c2", "seq": 4, "op": "put", "key": "huge", "value": "h".repeat(600 * 1024)});
    let (status, err) = live.request(m, huge);
    assert_eq!((status, &err["error"], &err["field"]), (413, &json!("bad_request"), &json!("body")), "{err}");

    // Malformed JSON, and JSON that is not a request.
    let (status, err) = live.kv(m, "", "{\"client\": \"c2\", \"seq\": ");
    assert_eq!((status, &err["error"], &err["field"]), (400, &json!("bad_request"), &json!("body")), "{err}");
    assert!(err["reason"].as_str().unwrap().contains("EOF"), "{err}");
    let (status, err) = live.request(m, json!({"client": "c2", "seq": 5, "op": "put", "key": "nv"}));
    assert_eq!((status, &err["field"]), (400, &json!("body")), "{err}");
    assert!(err["reason"].as_str().unwrap().contains("value"), "names the missing field: {err}");

    // Another group.
    let (status, err) = live.kv(m, "?group=elsewhere", json!({"client": "c2", "seq": 6, "op": "get", "key": "k"}).to_string());
    assert_eq!((status, err), (404, json!({"error": "unknown_group", "group": "elsewhere"})));

    // A sequence number that went backwards.
    live.put("c3", 10, "s", "ten");
    let (status, err) = live.request(m, json!({"client": "c3", "seq": 9, "op": "put", "key": "s", "value": "nine"}));
    assert_eq!((status, &err["error"], &err["last"]), (409, &json!("sequence_went_back"), &json!(10)), "{err}");

    // Nothing refused was applied, and the node keeps serving.
    for key in ["b", "big", "huge", "nv"] {
        assert_eq!(live.get("c4", 1, key), Value::Null, "{key} was applied");
    }
    assert_eq!(live.get("c4", 2, "s"), "ten");
    assert_eq!(live.put("c1", 3, "k", "w")["previous"], "v");
    assert_eq!(live.get("c1", 4, "k"), "w");
    // `/api/status` carries the replica's status too.
    let status: Value = live.client.get(format!("http://{}/api/status", live.addrs[m])).send().unwrap().json().unwrap();
    assert_eq!(status["service"]["role"], "master", "{status}");
}

#[test]
fn a_killed_backup_is_removed_then_caught_up_by_state_transfer_and_added_back() {
    let mut live = Live::start();
    let m = live.master();
    for i in 1..=20 {
        live.put("c1", i, &format!("k{i}"), &i.to_string());
    }
    let backup = (m + 1) % IDS.len();
    live.nodes[backup] = None; // kill -9
                               // The master removes it through the name server and keeps committing.
    wait(Duration::from_secs(15), "the master to remove the killed backup", || {
        (!live.members().contains(&IDS[backup].to_string())).then_some(())
    });
    for i in 21..=40 {
        live.put("c1", i, &format!("k{i}"), &i.to_string());
    }
    let last = live.put("c1", 41, "last", "x")["index"].as_u64().unwrap();
    // Restarted on its own folder, it catches up and is added back.
    live.start_node(backup);
    wait(Duration::from_secs(30), "the backup to be added back", || live.members().contains(&IDS[backup].to_string()).then_some(()));
    wait(Duration::from_secs(10), "the backup to catch up", || {
        live.service(backup).is_some_and(|s| s["applied"].as_u64() >= Some(last)).then_some(())
    });
    // Every member holds every write: a new write commits on all three.
    let reply = live.put("c1", 42, "after", "y");
    let index = reply["index"].as_u64().unwrap();
    wait(Duration::from_secs(10), "every member to apply the write after the return", || {
        (0..IDS.len()).all(|r| live.service(r).is_some_and(|s| s["applied"].as_u64() >= Some(index))).then_some(())
    });
    for i in [1, 20, 21, 40] {
        assert_eq!(live.get("c2", i, &format!("k{i}")), i.to_string());
    }
}

#[test]
fn an_isolated_master_gets_no_write_acknowledged_and_catches_up_after_the_heal() {
    let live = Live::start();
    let first = live.master();
    live.put("c1", 1, "k", "before");
    live.admin(first, "isolate");
    // The others elect and register a new master, which serves.
    let second = wait(Duration::from_secs(20), "a new serving master", || {
        (0..IDS.len()).find(|&r| r != first && live.service(r).is_some_and(|s| s["role"] == "master"))
    });
    let reply = live.put("c1", 2, "k", "during");
    assert_eq!(reply["previous"], "before");
    // The isolated node hears no replica: a write sent to it is not
    // acknowledged (its backups are out of reach, or it learnt it is stale).
    let (status, answer) = live.request(first, json!({"client": "c9", "seq": 1, "op": "put", "key": "cut", "value": "off"}));
    assert_ne!(status, 200, "the isolated master acknowledged a write: {answer}");
    live.admin(first, "heal");
    // After the heal it follows the new master again, with every write.
    let index = live.put("c1", 3, "k", "after")["index"].as_u64().unwrap();
    live.all_applied(index, "every member, the healed one too, to apply the write after the heal");
    assert_eq!(live.service(first).unwrap()["role"], "backup");
    assert!(live.service(second).unwrap()["role"] == "master" || live.master() != first);
    assert_eq!(live.get("c2", 1, "k"), "after");
}

#[test]
fn every_member_killed_and_restarted_keeps_every_acknowledged_write() {
    let mut live = Live::start();
    live.master();
    let mut last = 0;
    for i in 1..=10 {
        last = live.put("c1", i, &format!("k{i}"), &format!("v{i}"))["index"].as_u64().unwrap();
    }
    live.all_applied(last, "every member to apply the ten writes");
    // kill -9 of all three, then a restart on the same folders.
    (0..IDS.len()).for_each(|r| live.nodes[r] = None);
    (0..IDS.len()).for_each(|r| live.start_node(r));
    live.master();
    for i in 1..=10 {
        assert_eq!(live.get("c2", i, &format!("k{i}")), format!("v{i}"), "k{i} was lost");
    }
    // The client table survived too: a retry of the last write is answered
    // from it, not applied again.
    let retry = live.put("c1", 10, "k10", "v10");
    assert_eq!(retry["index"].as_u64(), Some(last), "{retry}");
}

#[test]
fn replication_takes_the_emulated_link_delays() {
    let live = Live::start_with(60, true);
    let m = live.master();
    live.put("c1", 1, "warm", "up");
    // A write is answered once a backup has it: a forward and an ack, each
    // held 60 ms by its sender's emulated link.
    for seq in 2..=4 {
        let started = Instant::now();
        let (status, reply) = live.request(m, json!({"client": "c1", "seq": seq, "op": "put", "key": "k", "value": seq.to_string()}));
        let took = started.elapsed();
        assert_eq!(status, 200, "{reply}");
        assert!(took >= Duration::from_millis(120), "a write took {took:?}: the replication messages skipped the link delays");
    }
}

#[test]
fn a_paused_backup_is_removed_and_comes_back_after_it_wakes() {
    let mut live = Live::start();
    let m = live.master();
    live.put("c1", 1, "k", "1");
    let backup = (m + 1) % IDS.len();
    let pid = live.nodes[backup].as_ref().unwrap().0.id().to_string();
    let signal = |sig: &str| assert!(Command::new("kill").args([sig, &pid]).status().unwrap().success());
    signal("-STOP");
    // Paused past the ack timeout: the master removes it and goes on.
    wait(Duration::from_secs(15), "the master to remove the paused backup", || {
        (!live.members().contains(&IDS[backup].to_string())).then_some(())
    });
    live.put("c1", 2, "k", "2");
    signal("-CONT");
    // Awake, it is brought back and follows every write.
    wait(Duration::from_secs(20), "the woken backup to be added back", || live.members().contains(&IDS[backup].to_string()).then_some(()));
    let index = live.put("c1", 3, "k", "3")["index"].as_u64().unwrap();
    live.all_applied(index, "every member, the woken one too, to apply the write");
    live.nodes[backup].take(); // killed; the others go on.
}

#[test]
fn a_group_without_a_name_server_says_it_has_no_service() {
    let dir = tempfile::tempdir().unwrap();
    let addrs = harness::free_ports(2).unwrap();
    let file = json!({
        "name": "no-ns",
        "servers": [{"id": "a", "addr": addrs[0].to_string()}, {"id": "b", "addr": addrs[1].to_string()}],
        "ranking": ["a", "b"],
        "delays_ms": [[0, 1], [1, 0]],
        "detection": {"period_ms": 300, "timeout_ms": 150},
        "secret": "no-ns-secret",
    });
    let group = dir.path().join("group.json");
    std::fs::write(&group, file.to_string()).unwrap();
    let _node = harness::spawn_node(STAGGER, &group, "a", &[], Stdio::inherit());
    let client = harness::poll_client(Duration::from_secs(5));
    let body = json!({"client": "c", "seq": 1, "op": "get", "key": "k"}).to_string();
    let (status, answer): (u16, Value) = wait(Duration::from_secs(10), "the node to answer", || {
        let res = client.post(format!("http://{}/api/kv", addrs[0])).body(body.clone()).send().ok()?;
        Some((res.status().as_u16(), res.json().ok()?))
    });
    assert_eq!((status, &answer["error"]), (503, &json!("no_name_server")), "{answer}");
    assert!(answer["reason"].as_str().unwrap().contains("name server"), "{answer}");
}

/// The store's flow is in the members' flight recordings, so the Live tab
/// draws it (KN16): the request and its answer at the master, the forward
/// of each write to every backup and its acknowledgement back, paired
/// across the recordings, and every member's applied index.
#[test]
fn the_flight_recordings_hold_the_stores_flow_and_merge_into_arrows() {
    use stagger_core::flight::{merge, Recording};
    use stagger_core::sim::{Answered, Flow, FlowKind, What};
    let live = Live::start();
    let m = live.master();
    for seq in 1..=3 {
        live.put("flow", seq, "k", &format!("v{seq}"));
    }
    let recordings: Vec<Recording> = (0..IDS.len())
        .map(|r| {
            let v: Value = live.client.get(format!("http://{}/api/flight", live.addrs[r])).send().unwrap().json().unwrap();
            serde_json::from_value(v["recording"].clone()).unwrap()
        })
        .collect();
    let trace = merge(&recordings, IDS.len() as u32);
    let flows: Vec<&Flow> = trace.events.iter().filter_map(|e| if let What::Service(f) = &e.what { Some(f) } else { None }).collect();
    let m = m as u32;
    let replies = flows.iter().filter(|f| matches!(f, Flow::Reply { server, answered: Answered::Ok, .. } if *server == m)).count();
    assert!(replies >= 3, "the master's answers: {flows:?}");
    assert!(flows.iter().filter(|f| matches!(f, Flow::Request { server, .. } if *server == m)).count() >= 3, "{flows:?}");
    for b in (0..IDS.len() as u32).filter(|b| *b != m) {
        let forwards = flows.iter().filter(|f| {
            matches!(f, Flow::Message { from, to, kind: FlowKind::Forward, entries, arrive: Some(_), .. } if *from == m && *to == b && *entries > 0)
        });
        assert!(forwards.count() >= 1, "a forward with entries from the master to row {b}, paired with its receipt: {flows:?}");
        let acks = flows
            .iter()
            .filter(|f| matches!(f, Flow::Message { from, to, kind: FlowKind::Ack, arrive: Some(_), .. } if *from == b && *to == m));
        assert!(acks.count() >= 1, "row {b}'s acknowledgement back: {flows:?}");
        assert!(flows.iter().any(|f| matches!(f, Flow::Applied { server, index } if *server == b && *index >= 3)), "{flows:?}");
    }
    assert!(flows.iter().all(|f| !matches!(f, Flow::Received { .. })), "receipts are paired and dropped");
    assert!(
        !flows.iter().any(|f| matches!(f, Flow::Message { kind: FlowKind::Forward, entries: 0, .. })),
        "heartbeats stay out of the recording"
    );
}
