//! A name server and three `stagger node`s as processes on 127.0.0.1, for
//! the tests of the replicated service from the client's side
//! (`service_faults.rs`, `service_client.rs`).

// Each test file uses a part of it.
#![allow(dead_code)]

use serde_json::{json, Value};
use stagger_tests::harness::{self, Reaped};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const STAGGER: &str = env!("CARGO_BIN_EXE_stagger");
pub const GROUP: &str = "kv-faults";
pub const IDS: [&str; 3] = ["s0", "s1", "s2"];
const TOKEN: &str = "kv-faults-token";

/// Polls `f` every 50 ms until it gives a value, for at most `limit`.
pub fn wait<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A name server and three nodes whose group file names it.
pub struct Group {
    pub dir: tempfile::TempDir,
    pub ns: Reaped,
    pub ns_addr: SocketAddr,
    pub ns_url: String,
    pub addrs: Vec<SocketAddr>,
    pub nodes: Vec<Option<Reaped>>,
    pub http: reqwest::blocking::Client,
}

impl Group {
    pub fn start() -> Group {
        let dir = tempfile::tempdir().unwrap();
        let ports = harness::free_ports(IDS.len() + 1).unwrap();
        let (ns_addr, addrs) = (ports[0], ports[1..].to_vec());
        let ns_url = format!("http://{ns_addr}");
        let n = IDS.len();
        let servers = IDS.iter().zip(&addrs).map(|(id, a)| json!({"id": id, "addr": a.to_string()})).collect::<Vec<_>>();
        let file = json!({
            "name": GROUP,
            "nameserver": ns_url,
            "servers": servers,
            "ranking": IDS,
            "delays_ms": (0..n).map(|j| (0..n).map(|k| u64::from(j != k)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "detection": {"period_ms": 300, "timeout_ms": 150},
            "timer": {"scheme": "integral", "base_ms": 30, "guard_ms": 300},
            "secret": "kv-faults-secret",
        });
        std::fs::write(dir.path().join("group.json"), file.to_string()).unwrap();
        let ns = start_nameserver(ns_addr, &dir.path().join("ns"));
        let http = harness::poll_client(Duration::from_secs(2));
        let mut group = Group { dir, ns, ns_addr, ns_url, addrs, nodes: (0..n).map(|_| None).collect(), http };
        (0..n).for_each(|row| group.start_node(row));
        group
    }

    /// Starts (or restarts) `row` on its data folder beside the group file.
    pub fn start_node(&mut self, row: usize) {
        let file = self.dir.path().join("group.json");
        self.nodes[row] = Some(harness::spawn_node(STAGGER, &file, IDS[row], &["--admin-token", TOKEN], Stdio::inherit()));
    }

    pub fn service(&self, row: usize) -> Option<Value> {
        self.http.get(format!("http://{}/api/service", self.addrs[row])).send().ok()?.json().ok()
    }

    pub fn view(&self) -> Option<Value> {
        self.http.get(format!("{}/v1/groups/{GROUP}", self.ns_url)).send().ok()?.json().ok()
    }

    /// The registered master's row and epoch, once its replica serves as
    /// master, and `pred` holds.
    pub fn master(&self, what: &str, pred: impl Fn(usize, u64) -> bool) -> (usize, u64) {
        wait(Duration::from_secs(30), what, || {
            let view = self.view()?;
            let row = IDS.iter().position(|i| view["master"]["member"] == *i)?;
            let epoch = view["master"]["epoch"].as_u64()?;
            let serving = self.service(row).is_some_and(|s| s["role"] == "master" && s["epoch"] == epoch);
            (serving && pred(row, epoch)).then_some((row, epoch))
        })
    }

    /// Waits until the group's first contests are over: the same master
    /// under the same epoch a second apart (a fresh group's first period
    /// may register several members in turn, N16).
    pub fn settled(&self) {
        let mut last = self.master("a serving master", |_, _| true);
        wait(Duration::from_secs(30), "a settled master", || {
            std::thread::sleep(Duration::from_millis(1_000));
            let now = self.master("a serving master", |_, _| true);
            std::mem::replace(&mut last, now).eq(&now).then_some(())
        });
    }

    pub fn members(&self) -> Vec<String> {
        let view = self.view().unwrap_or_default();
        view["config"]["members"].as_array().into_iter().flatten().filter_map(|m| m.as_str().map(str::to_owned)).collect()
    }

    pub fn admin(&self, row: usize, action: &str) {
        let url = format!("http://{}/api/admin/{action}", self.addrs[row]);
        let res = self.http.post(url).bearer_auth(TOKEN).send().unwrap();
        assert!(res.status().is_success(), "{action}: {}", res.status());
    }

    pub fn signal(&self, row: usize, signal: &str) {
        let pid = self.nodes[row].as_ref().unwrap().0.id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success(), "kill {signal} {pid}");
    }
}

pub fn start_nameserver(addr: SocketAddr, data: &std::path::Path) -> Reaped {
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
