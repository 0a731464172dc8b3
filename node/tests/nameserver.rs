//! `stagger nameserver` and `stagger client` as real processes on
//! 127.0.0.1: registration under rising epochs, lookup, the WebSocket
//! watch, refusals that change nothing, and a restart (kill -9) that loses
//! nothing (docs/protocol.md N1–N11, docs/guarantees.md); and `stagger
//! nameserver --etcd` on a 3-member etcd cluster, where bad input is
//! refused the same way and the loss of one etcd member loses nothing
//! (N17–N19).

use serde_json::{json, Value};
use stagger_tests::harness::cluster::Cluster;
use stagger_tests::harness::etcd::{find_etcd, EtcdCluster, EtcdTiming};
use stagger_tests::harness::{self, Reaped};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite;

const STAGGER: &str = env!("CARGO_BIN_EXE_stagger");
const G: &str = "cities";

/// A name server child with its address.
struct NameServer {
    _child: Reaped,
    addr: SocketAddr,
}

impl NameServer {
    /// Starts `stagger nameserver` on `addr` with its state in `data`
    /// (leases of 50 ms to 10 s), and waits until it answers.
    fn start(addr: SocketAddr, data: &Path) -> NameServer {
        NameServer::spawn(addr, &["--data".into(), data.display().to_string()])
    }

    /// Starts `stagger nameserver --etcd URLS` on `addr`.
    fn start_etcd(addr: SocketAddr, urls: &[String]) -> NameServer {
        NameServer::spawn(addr, &["--etcd".into(), urls.join(",")])
    }

    fn spawn(addr: SocketAddr, store: &[String]) -> NameServer {
        let child = Command::new(STAGGER)
            .args(["nameserver", "--listen", &addr.to_string(), "--min-ttl-ms", "50", "--max-ttl-ms", "10000"])
            .args(store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("stagger nameserver starts");
        let server = NameServer { _child: Reaped(child), addr };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.call("GET", "/v1/groups/none", None).is_err() {
            assert!(Instant::now() < deadline, "the name server did not answer on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One request; `Err` only when the server cannot be reached.
    fn call(&self, method: &str, path: &str, body: Option<&str>) -> Result<(u16, Value), reqwest::Error> {
        let client = harness::poll_client(Duration::from_secs(5));
        let mut req = client.request(method.parse().unwrap(), format!("{}{path}", self.url()));
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body.to_string());
        }
        let res = req.send()?;
        let status = res.status().as_u16();
        let text = res.text()?;
        Ok((status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))))
    }

    fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, value) = self.call(method, path, Some(&body.to_string())).unwrap();
        assert_eq!(status, 200, "{method} {path} {body}: {value}");
        value
    }

    fn refused(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (status, value) = self.call(method, path, Some(body)).unwrap();
        assert!(status >= 400, "{method} {path} {body} was accepted: {value}");
        assert!(value["reason"].as_str().is_some_and(|r| !r.is_empty()), "no reason: {value}");
        (status, value)
    }

    fn create(&self, members: &[&str]) {
        self.ok("PUT", &format!("/v1/groups/{G}/config"), json!({"expected_version": 0, "members": members}));
    }

    fn register(&self, member: &str, ttl_ms: u64) -> u64 {
        let body = json!({"member": member, "addr": format!("127.0.0.1:7{member}"), "ranking_version": 1, "ttl_ms": ttl_ms});
        self.ok("POST", &format!("/v1/groups/{G}/register"), body)["epoch"].as_u64().unwrap()
    }

    fn lookup(&self) -> Value {
        self.ok("GET", &format!("/v1/groups/{G}"), Value::Null)
    }
}

/// A 3-member etcd cluster on 127.0.0.1 with a leader; killed and its data
/// removed when dropped. Fast Raft timing, so that a lost leader is
/// replaced within about a second.
fn etcd_cluster() -> EtcdCluster {
    let mut cluster = EtcdCluster::new(&find_etcd().unwrap(), 3, EtcdTiming { heartbeat_ms: 50, election_timeout_ms: 500 }).unwrap();
    cluster.start_all().unwrap();
    cluster.wait_for_leader(Duration::from_secs(20)).unwrap();
    cluster
}

fn one_addr() -> SocketAddr {
    harness::free_ports(1).unwrap()[0]
}

/// `stagger client --nameserver URL --group G master --json`.
fn client_master(url: &str) -> std::process::Output {
    Command::new(STAGGER).args(["client", "--nameserver", url, "--group", G, "master", "--json"]).output().unwrap()
}

fn client_json(url: &str) -> Value {
    let out = client_master(url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_client_prints_the_master_its_address_and_epoch_or_null() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(one_addr(), dir.path());
    ns.create(&["a", "b", "c"]);
    assert_eq!(client_json(&ns.url()), json!({"master": null, "addr": null, "epoch": null}));
    assert_eq!(ns.register("a", 5_000), 1);
    assert_eq!(client_json(&ns.url()), json!({"master": "a", "addr": "127.0.0.1:7a", "epoch": 1}));
    // A takeover (the next master after a failover) gets the next epoch.
    assert_eq!(ns.register("b", 5_000), 2);
    assert_eq!(client_json(&ns.url()), json!({"master": "b", "addr": "127.0.0.1:7b", "epoch": 2}));
    // The old master is fenced: its renewal and resignation are refused.
    for what in ["renew", "resign"] {
        let (status, refusal) = ns.refused("POST", &format!("/v1/groups/{G}/{what}"), r#"{"epoch": 1}"#);
        assert_eq!((status, refusal["error"].as_str()), (409, Some("stale_epoch")), "{refusal}");
        assert_eq!(refusal["current"], 2);
    }
    // The current one resigns: no master, said explicitly.
    ns.ok("POST", &format!("/v1/groups/{G}/resign"), json!({"epoch": 2}));
    assert_eq!(client_json(&ns.url()), json!({"master": null, "addr": null, "epoch": null}));
}

#[test]
fn the_client_exits_non_zero_with_a_reason_when_the_name_server_is_unreachable() {
    let url = format!("http://{}", one_addr());
    let out = client_master(&url);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach the name server"), "{stderr}");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_client_names_an_unknown_group() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(one_addr(), dir.path());
    let out = client_master(&ns.url());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused: unknown group \"cities\""), "{stderr}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_input_is_refused_with_a_reason_nothing_is_written_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(one_addr(), dir.path());
    let log = dir.path().join("names.log");
    refuses_bad_input(&ns, || std::fs::read_to_string(&log).unwrap());
}

#[test]
fn bad_input_through_etcd_is_refused_with_a_reason_and_nothing_is_written() {
    let cluster = etcd_cluster();
    let ns = NameServer::start_etcd(one_addr(), &cluster.client_urls());
    // etcd's revision rises with every write to the cluster.
    let status = format!("{}/v3/maintenance/status", cluster.client_urls()[0]);
    let revision = || {
        let client = harness::poll_client(Duration::from_secs(5));
        let v: Value = client.post(&status).json(&json!({})).send().unwrap().json().unwrap();
        v["header"]["revision"].to_string()
    };
    refuses_bad_input(&ns, revision);
}

/// The refusals every backend gives for bad input, each with its reason;
/// `written` shows what the backend holds, which must not change.
fn refuses_bad_input(ns: &NameServer, written: impl Fn() -> String) {
    ns.create(&["a", "b"]);
    let epoch = ns.register("a", 5_000);
    let before = written();
    let reg = format!("/v1/groups/{G}/register");
    let cases: Vec<(&str, String, String, u16, &str)> = vec![
        ("GET", "/v1/groups/nope".into(), String::new(), 404, "unknown_group"),
        ("POST", "/v1/groups/nope/renew".into(), r#"{"epoch": 1}"#.into(), 404, "unknown_group"),
        ("GET", "/v1/groups/bad%20name".into(), String::new(), 400, "bad_request"),
        ("POST", reg.clone(), "{not json".into(), 400, "bad_input"),
        ("POST", reg.clone(), r#"{"member": "a"}"#.into(), 422, "bad_input"),
        ("POST", reg.clone(), r#"{"member": "a", "addr": "x", "ranking_version": 1, "ttl_ms": 100, "color": 1}"#.into(), 422, "bad_input"),
        ("POST", reg.clone(), r#"{"member": "zurich", "addr": "x", "ranking_version": 1, "ttl_ms": 100}"#.into(), 409, "not_a_member"),
        ("POST", reg.clone(), r#"{"member": "b", "addr": "x", "ranking_version": 0, "ttl_ms": 100}"#.into(), 409, "stale_ranking_version"),
        (
            "POST",
            reg.clone(),
            format!(r#"{{"member": "b", "addr": "x", "ranking_version": 1, "ttl_ms": 100, "held": {}}}"#, epoch + 7),
            400,
            "epoch_from_future",
        ),
        ("POST", format!("/v1/groups/{G}/renew"), format!(r#"{{"epoch": {}}}"#, epoch + 7), 400, "epoch_from_future"),
        (
            "POST",
            reg.clone(),
            format!(r#"{{"member": "a", "addr": "{}", "ranking_version": 1, "ttl_ms": 100}}"#, "x".repeat(100_000)),
            413,
            "bad_input",
        ),
        ("PUT", format!("/v1/groups/{G}/config"), r#"{"expected_version": 9, "members": ["a"]}"#.into(), 409, "version_mismatch"),
        ("PUT", format!("/v1/groups/{G}/config"), r#"{"expected_version": 1, "members": []}"#.into(), 400, "bad_request"),
        ("GET", "/somewhere".into(), String::new(), 404, "not_found"),
        ("DELETE", format!("/v1/groups/{G}"), String::new(), 405, "method_not_allowed"),
        ("GET", format!("/v1/groups/{G}/register"), String::new(), 405, "method_not_allowed"),
    ];
    for (method, path, body, status, kind) in cases {
        let (got, refusal) = ns.refused(method, &path, &body);
        assert_eq!((got, refusal["error"].as_str()), (status, Some(kind)), "{method} {path}: {refusal}");
        assert_eq!(refusal["fault"], "caller", "{refusal}");
    }
    // Far beyond the limit: the server reads up to it, answers 413 and
    // closes, so the client may see its answer or only a broken write.
    let huge = format!(r#"{{"member": "a", "addr": "{}", "ranking_version": 1, "ttl_ms": 100}}"#, "x".repeat(4_000_000));
    if let Ok((status, refusal)) = ns.call("POST", &reg, Some(&huge)) {
        assert_eq!((status, refusal["error"].as_str()), (413, Some("bad_input")), "{refusal}");
    }
    assert_eq!(written(), before, "a refusal wrote something");
    // Reads are open to any origin (the playground), writes are not.
    let client = harness::poll_client(Duration::from_secs(5));
    let read = client.get(format!("{}/v1/groups/{G}", ns.url())).header("origin", "http://elsewhere.example").send().unwrap();
    assert_eq!(read.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()), Some("*"));
    let preflight = (client.request(reqwest::Method::OPTIONS, format!("{}/v1/groups/{G}/register", ns.url())))
        .header("origin", "http://elsewhere.example")
        .header("access-control-request-method", "POST")
        .send()
        .unwrap();
    let allowed = preflight.headers().get("access-control-allow-methods").map(|v| v.to_str().unwrap().to_string());
    assert!(!allowed.unwrap_or_default().contains("POST"), "a cross-origin POST is allowed");
    let master = &ns.lookup()["master"];
    assert_eq!((master["member"].as_str(), master["epoch"].as_u64()), (Some("a"), Some(epoch)));
}

#[test]
fn a_renewal_after_the_lease_expired_is_refused_and_lookup_says_no_master() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(one_addr(), dir.path());
    ns.create(&["a", "b"]);
    let epoch = ns.register("a", 100);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ns.lookup()["master"], Value::Null);
    let (status, refusal) = ns.refused("POST", &format!("/v1/groups/{G}/renew"), &format!(r#"{{"epoch": {epoch}}}"#));
    assert_eq!((status, refusal["error"].as_str()), (409, Some("expired")), "{refusal}");
}

#[test]
fn a_killed_name_server_restarts_with_every_registration_and_epochs_never_go_back() {
    let dir = tempfile::tempdir().unwrap();
    let addr = one_addr();
    let ns = NameServer::start(addr, dir.path());
    ns.create(&["a", "b", "c"]);
    ns.register("a", 10_000);
    let epoch = ns.register("b", 10_000);
    drop(ns); // kill -9
    let ns = NameServer::start(addr, dir.path());
    assert_eq!(client_json(&ns.url()), json!({"master": "b", "addr": "127.0.0.1:7b", "epoch": epoch}));
    ns.ok("POST", &format!("/v1/groups/{G}/renew"), json!({"epoch": epoch}));
    assert_eq!(ns.register("c", 10_000), epoch + 1);
    drop(ns);
    let ns = NameServer::start(addr, dir.path());
    assert_eq!(ns.lookup()["highest_epoch"], epoch + 1);
    assert_eq!(ns.register("a", 10_000), epoch + 2);
}

/// Reads the next JSON text frame, within a bound.
fn next_frame(ws: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>) -> Value {
    loop {
        match ws.read().expect("a frame before the read timeout") {
            tungstenite::Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

#[test]
fn watch_streams_every_change_including_expiry_and_resyncs_from_a_lost_number() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(one_addr(), dir.path());
    ns.create(&["a", "b"]);
    let (mut ws, _) = tungstenite::connect(format!("ws://{}/v1/groups/{G}/watch", ns.addr)).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    let first = next_frame(&mut ws);
    assert_eq!(first["resync"]["master"], Value::Null, "{first}");
    let seq = first["resync"]["seq"].as_u64().unwrap();
    let epoch = ns.register("a", 200);
    let registered = next_frame(&mut ws);
    assert_eq!(
        registered["change"],
        json!({"seq": seq + 1, "change": "registered", "member": "a", "addr": "127.0.0.1:7a", "epoch": epoch})
    );
    // Nobody renews: the server ends the lease on its own clock and says so.
    let ended = next_frame(&mut ws);
    assert_eq!(ended["change"], json!({"seq": seq + 2, "change": "ended", "member": "a", "epoch": epoch, "how": "expired"}));
    // A watcher resuming from a number the server no longer has resyncs.
    let (mut late, _) = tungstenite::connect(format!("ws://{}/v1/groups/{G}/watch?after=999", ns.addr)).unwrap();
    let resync = next_frame(&mut late);
    assert_eq!(resync["resync"]["seq"], seq + 2, "{resync}");
    // And an unknown group is refused before the upgrade.
    let err = tungstenite::connect(format!("ws://{}/v1/groups/nope/watch", ns.addr)).unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
}

/// `stagger client --nameserver URL --group G ARGS...`.
fn client(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(STAGGER).args(["client", "--nameserver", url, "--group", G]).args(args).output().unwrap()
}

#[test]
fn the_client_creates_the_group_and_adds_and_removes_members_by_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(one_addr(), dir.path());
    let out = client(&ns.url(), &["create", "a", "b"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(config, json!({"members": ["a", "b"], "version": 1, "ranking_version": 1}));
    // Creating it again is refused: the version is no longer 0.
    let again = client(&ns.url(), &["create", "a"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("configuration version 0 expected, the current one is 1"));

    ns.register("b", 10_000);
    let out = client(&ns.url(), &["add-member", "c"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["members"], json!(["a", "b", "c"]));
    // The master stays registered while it is a member...
    assert_eq!(client_json(&ns.url())["master"], "b");
    // ...and loses its registration when it is removed.
    let out = client(&ns.url(), &["remove-member", "b"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), json!({"members": ["a", "c"], "version": 3, "ranking_version": 3}));
    assert_eq!(client_json(&ns.url())["master"], Value::Null);
    for (args, why) in [(["add-member", "a"], "already a member"), (["remove-member", "zurich"], "not a member")] {
        let out = client(&ns.url(), &args);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(why), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_lease_outside_the_servers_bounds_is_clamped_and_the_answer_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(one_addr(), dir.path());
    ns.create(&["a"]);
    let path = format!("/v1/groups/{G}/register");
    for (asked, granted) in [(u64::MAX, 10_000), (1, 50), (300, 300)] {
        let grant = ns.ok("POST", &path, json!({"member": "a", "addr": "x", "ranking_version": 1, "ttl_ms": asked}));
        assert_eq!(grant["ttl_ms"], granted, "asked {asked}: {grant}");
    }
}

#[test]
fn sigterm_stops_the_name_server_even_with_a_watch_open() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(one_addr(), dir.path());
    ns.create(&["a"]);
    let (_ws, _) = tungstenite::connect(format!("ws://{}/v1/groups/{G}/watch", ns.addr)).unwrap();
    let mut child = ns._child;
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.exited() {
            break status;
        }
        assert!(Instant::now() < deadline, "the name server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_name_server_takes_exactly_one_of_data_and_etcd() {
    let run = |args: &[&str]| Command::new(STAGGER).args(["nameserver", "--listen", "127.0.0.1:0"]).args(args).output().unwrap();
    for (args, says) in [
        (&[][..], "give --data DIR"),
        (&["--data", "x", "--etcd", "http://127.0.0.1:2379"][..], "exclude each other"),
        (&["--etcd", "127.0.0.1:2379"][..], "not an http:// URL"),
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Nothing listens there: the name server says so and stops.
    let out = run(&["--etcd", &format!("http://{}", one_addr())]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cannot reach the name server"), "{err}");
}

/// Loss of one etcd member under the name server (kill -9, the etcd leader
/// first, then a follower): every registration stays, lookup answers,
/// epochs never go back and new registrations get higher ones.
#[test]
fn losing_one_etcd_member_loses_no_registration_and_epochs_keep_rising() {
    let mut cluster = etcd_cluster();
    let ns = NameServer::start_etcd(one_addr(), &cluster.client_urls());
    ns.create(&["a", "b", "c"]);
    ns.register("a", 10_000);
    let (mut master, mut epoch) = ("b", ns.register("b", 10_000));
    let renew = |epoch: u64| ns.call("POST", &format!("/v1/groups/{G}/renew"), Some(&json!({"epoch": epoch}).to_string()));
    for round in 0..2 {
        let leader = cluster.wait_for_leader(Duration::from_secs(20)).unwrap();
        // The leader first, then one of its followers.
        let victim = if round == 0 { leader } else { (leader + 1) % 3 };
        cluster.kill(victim);
        // Answers within the etcd election and one round trip, with the
        // same registration; and the master can keep renewing it.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok((200, _)) = renew(epoch) {
                break;
            }
            assert!(Instant::now() < deadline, "round {round}: no renewal answered after the loss of etcd member {victim}");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            client_json(&ns.url()),
            json!({"master": master, "addr": format!("127.0.0.1:7{master}"), "epoch": epoch}),
            "round {round}"
        );
        assert_eq!(ns.lookup()["highest_epoch"], epoch);
        let who = ["c", "a"][round];
        let next = ns.register(who, 10_000);
        assert_eq!(next, epoch + 1, "round {round}");
        let (status, refusal) = ns.refused("POST", &format!("/v1/groups/{G}/renew"), &json!({"epoch": epoch}).to_string());
        assert_eq!((status, refusal["error"].as_str()), (409, Some("stale_epoch")), "{refusal}");
        (master, epoch) = (who, next);
        // Back, from its own data: it catches up with what it missed.
        cluster.start(victim).unwrap();
        cluster.wait_for_leader(Duration::from_secs(20)).unwrap();
    }
    assert_eq!(ns.lookup()["highest_epoch"], epoch);
}
