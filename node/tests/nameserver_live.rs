//! Live nodes and the name server as real processes on 127.0.0.1: the
//! elected master registers, clients find it with `stagger client`, and
//! after a kill -9 the next master registers under a higher epoch.

use serde_json::{json, Value};
use stagger_tests::harness::{self, Reaped};
use std::path::Path;
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

fn start_nameserver(addr: std::net::SocketAddr, data: &Path) -> Reaped {
    let child = Command::new(STAGGER)
        .args(["nameserver", "--listen", &addr.to_string(), "--data"])
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Reaped(child)
}

#[test]
fn the_master_registers_and_after_kill_9_the_next_master_registers_under_a_higher_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let ports = harness::free_ports(4).unwrap();
    let (ns_addr, addrs) = (ports[0], &ports[1..]);
    let url = format!("http://{ns_addr}");
    let _ns = start_nameserver(ns_addr, &dir.path().join("ns"));
    let ids = ["s0", "s1", "s2"];
    let file = json!({
        "name": GROUP,
        "nameserver": url,
        "servers": ids.iter().zip(addrs).map(|(id, a)| json!({"id": id, "addr": a.to_string()})).collect::<Vec<_>>(),
        "ranking": ids,
        "delays_ms": [[0, 1, 1], [1, 0, 1], [1, 1, 0]],
        "detection": {"period_ms": 300, "timeout_ms": 150},
        "secret": "nameserver-live-secret",
    });
    let path = dir.path().join("group.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let mut nodes: Vec<Option<Reaped>> =
        ids.iter().map(|id| Some(harness::spawn_node(STAGGER, &path, id, &[], Stdio::inherit()))).collect();

    // The elected master is registered, and says it serves clients.
    let (first, epoch) = wait(Duration::from_secs(20), "a registered master", || {
        let m = client_master(&url)?;
        let who = m["master"].as_str()?.to_string();
        let row = ids.iter().position(|i| *i == who)?;
        let s = status(&addrs[row])?;
        (s["role"] == "Master" && s["nameserver"]["serving"] == true && s["nameserver"]["epoch"] == m["epoch"])
            .then(|| (row, m["epoch"].as_u64().unwrap()))
    });
    assert_eq!(client_master(&url).unwrap()["addr"], addrs[first].to_string());

    nodes[first] = None; // kill -9
    let (second, next) = wait(Duration::from_secs(20), "the next master registered", || {
        let m = client_master(&url)?;
        let who = m["master"].as_str()?.to_string();
        let e = m["epoch"].as_u64()?;
        (who != ids[first] && e > epoch).then(|| (ids.iter().position(|i| *i == who).unwrap(), e))
    });
    assert!(next > epoch);
    let s = wait(Duration::from_secs(5), "the new master's status", || status(&addrs[second]));
    assert_eq!(s["nameserver"]["epoch"], next, "{s}");
    drop(nodes);
}
