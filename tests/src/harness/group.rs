//! A stagger group: real `stagger node` processes on 127.0.0.1, written as
//! a group file in a temporary folder and watched through `GET /api/status`.

use super::cluster::{Cluster, Watch};
use super::{fail, HarnessError, Reaped};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The parameters of a benchmark group.
#[derive(Clone, Copy, Debug)]
pub struct GroupSetup {
    pub n: usize,
    pub delay_ms: f64,
    pub emulate: bool,
    pub base_ms: f64,
    pub guard_ms: f64,
    pub period_ms: f64,
    pub timeout_ms: f64,
    /// Consecutive unanswered inquiries before the master counts as failed.
    pub misses: u32,
}

impl GroupSetup {
    /// Five members as the live tests use them: P = 300 ms, τ = 150 ms,
    /// integral T1 = 30 ms, guard 50 ms, 2 ms emulated delays.
    pub fn lan5() -> GroupSetup {
        GroupSetup { n: 5, delay_ms: 2.0, emulate: true, base_ms: 30.0, guard_ms: 50.0, period_ms: 300.0, timeout_ms: 150.0, misses: 1 }
    }

    /// `n` members, P = 500 ms, τ = 300 ms, 1 ms delays not emulated.
    pub fn capacity(n: usize) -> GroupSetup {
        GroupSetup { n, delay_ms: 1.0, emulate: false, base_ms: 30.0, guard_ms: 50.0, period_ms: 500.0, timeout_ms: 300.0, misses: 1 }
    }

    pub fn json(&self) -> Value {
        json!({
            "members": self.n, "delay_ms": self.delay_ms, "emulate_delays": self.emulate,
            "timer": {"scheme": "integral", "base_ms": self.base_ms, "guard_ms": self.guard_ms},
            "period_ms": self.period_ms, "timeout_ms": self.timeout_ms, "misses": self.misses,
        })
    }

    /// The scenario part of the group file (no addresses, no secret).
    fn scenario(&self, name: &str, ids: &[String]) -> Value {
        let n = self.n;
        json!({
            "name": name,
            "servers": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
            "ranking": ids,
            "delays_ms": (0..n).map(|j| (0..n).map(|k| if j == k { 0.0 } else { self.delay_ms }).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "timer": {"scheme": "integral", "base_ms": self.base_ms, "guard_ms": self.guard_ms},
            "detection": {"period_ms": self.period_ms, "timeout_ms": self.timeout_ms, "misses": self.misses},
            "announce_every": 0,
        })
    }
}

/// A group of `stagger node` children. Dropping it kills and reaps them all
/// and removes the group file.
pub struct StaggerGroup {
    dir: tempfile::TempDir,
    file: PathBuf,
    exe: PathBuf,
    ids: Vec<String>,
    addrs: Vec<SocketAddr>,
    procs: Vec<Option<Reaped>>,
    /// `D_i` by index, in ms.
    d_ms: Vec<f64>,
}

impl StaggerGroup {
    /// Writes the group file; starts nothing.
    pub fn new(stagger: &Path, s: &GroupSetup, name: &str) -> Result<StaggerGroup, HarnessError> {
        let width = (s.n.max(1) - 1).to_string().len();
        let ids: Vec<String> = (0..s.n).map(|i| format!("s{i:0width$}")).collect();
        StaggerGroup::from_scenario(stagger, s.scenario(name, &ids), s.emulate)
    }

    /// Writes the group file of a whole scenario (its servers' ids, its
    /// matrix, timer and detection; its `faults` are dropped, since the
    /// members are killed for real), with free loopback addresses, a fresh
    /// secret and `emulate_delays`; starts nothing.
    pub fn from_scenario(stagger: &Path, mut scenario: Value, emulate: bool) -> Result<StaggerGroup, HarnessError> {
        let ids: Vec<String> = scenario["servers"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if let Some(o) = scenario.as_object_mut() {
            o.remove("faults");
        }
        let addrs = super::free_ports(ids.len())?;
        let core: stagger_core::ScenarioFile =
            serde_json::from_value(scenario.clone()).map_err(|e| fail(format!("the benchmark's group file is invalid: {e}")))?;
        let core = core.validate().map_err(|e| fail(format!("the benchmark's group file is invalid: {e}")))?;
        let d_ms = stagger_core::delays::election_delays(&core).map(|d| d.iter().map(|x| x.as_ms()).collect()).unwrap_or_default();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let mut file = scenario;
        if let Some(servers) = file["servers"].as_array_mut() {
            for (server, a) in servers.iter_mut().zip(&addrs) {
                server["addr"] = json!(a.to_string());
            }
        }
        file["secret"] = json!(format!("bench-{:x}-{nanos:x}", std::process::id()));
        file["emulate_delays"] = json!(emulate);
        let dir = super::temp_dir("bench")?;
        let path = dir.path().join("group.json");
        std::fs::write(&path, file.to_string()).map_err(|e| fail(format!("{}: {e}", path.display())))?;
        let n = ids.len();
        Ok(StaggerGroup { dir, file: path, exe: stagger.to_path_buf(), ids, addrs, procs: (0..n).map(|_| None).collect(), d_ms })
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// `D_i` by index, in ms.
    pub fn d_ms(&self) -> &[f64] {
        &self.d_ms
    }

    /// The running members' process ids, by row.
    pub fn pids(&self) -> Vec<Option<u32>> {
        self.procs.iter().map(|p| p.as_ref().map(|p| p.id())).collect()
    }

    /// Where the group file is.
    pub fn folder(&self) -> &Path {
        self.dir.path()
    }

    /// The group's name (its group file's `name`), which is also its name
    /// at a name server.
    pub fn name(&self) -> Result<String, HarnessError> {
        let file = self.read_file()?;
        file["name"].as_str().map(str::to_string).ok_or_else(|| fail(format!("{}: no name", self.file.display())))
    }

    /// Names a name server in the group file (its `nameserver` field), so
    /// the members register there when they become Master. Call it before
    /// starting them.
    pub fn name_server(&mut self, url: &str) -> Result<(), HarnessError> {
        let mut file = self.read_file()?;
        file["nameserver"] = json!(url);
        std::fs::write(&self.file, file.to_string()).map_err(|e| fail(format!("{}: {e}", self.file.display())))
    }

    fn read_file(&self) -> Result<Value, HarnessError> {
        let text = std::fs::read_to_string(&self.file).map_err(|e| fail(format!("{}: {e}", self.file.display())))?;
        serde_json::from_str(&text).map_err(|e| fail(format!("{}: {e}", self.file.display())))
    }
}

impl Cluster for StaggerGroup {
    type Seen = NodeSeen;

    fn names(&self) -> &[String] {
        &self.ids
    }

    fn watched(&self) -> &[SocketAddr] {
        &self.addrs
    }

    fn row_of(&self, id: &String) -> Option<usize> {
        self.ids.iter().position(|x| x == id)
    }

    fn start(&mut self, i: usize) -> Result<(), HarnessError> {
        // Each member keeps its replica's state in its own folder beside the
        // group file, the same on every restart.
        let data = self.dir.path().join("data").join(&self.ids[i]);
        let data = data.display().to_string();
        let child = super::node_command(&self.exe, &self.file, &self.ids[i], &["--data", &data], Stdio::null())
            .env_remove("STAGGER_ADMIN_TOKEN")
            .spawn()
            .map_err(|e| fail(format!("cannot start {} node: {e}", self.exe.display())))?;
        self.procs[i] = Some(Reaped(child));
        Ok(())
    }

    fn kill(&mut self, i: usize) {
        self.procs[i] = None;
    }

    fn check_alive(&mut self) -> Result<(), HarnessError> {
        for (i, p) in self.procs.iter_mut().enumerate() {
            if let Some(status) = p.as_mut().and_then(Reaped::exited) {
                return Err(fail(format!("node {} ({}) exited on its own: {status}", self.ids[i], self.addrs[i])));
            }
        }
        Ok(())
    }

    /// Every member's `/api/trace`.
    fn evidence(&self, label: &str) -> Option<PathBuf> {
        let dir = std::env::temp_dir().join(format!("stagger-bench-traces-{}", std::process::id())).join(label);
        std::fs::create_dir_all(&dir).ok()?;
        let client = super::poll_client(Duration::from_secs(2));
        for (id, addr) in self.ids.iter().zip(&self.addrs) {
            let body = super::get_text(&client, *addr, "/api/trace").unwrap_or_else(|| "null".into());
            std::fs::write(dir.join(format!("{id}.json")), body).ok()?;
        }
        Some(dir)
    }
}

/// What a poller last saw of one `stagger node`, from `GET /api/status`.
#[derive(Clone, Debug)]
pub struct NodeSeen {
    /// The last request was answered.
    pub ok: bool,
    pub up: bool,
    pub role: String,
    pub master: Option<String>,
    pub index: u32,
    pub connected: usize,
    /// When the current `(up, role, master)` was first seen.
    pub since: Instant,
}

impl Watch for NodeSeen {
    type Id = String;
    type Reply = Value;

    fn blank(now: Instant) -> NodeSeen {
        NodeSeen { ok: false, up: false, role: String::new(), master: None, index: 0, connected: 0, since: now }
    }

    fn fetch(client: &Client, addr: SocketAddr) -> Option<Value> {
        serde_json::from_str(&super::get_text(client, addr, "/api/status")?).ok()
    }

    fn apply(&mut self, got: Option<Value>, at: Instant) {
        // A failed request only clears `ok`: a slow answer under load must
        // not restart the member's streak.
        let Some(v) = got else {
            self.ok = false;
            return;
        };
        let up = v["up"].as_bool().unwrap_or(false);
        let role = v["role"].as_str().unwrap_or("").to_string();
        let master = v["master"].as_str().map(str::to_string);
        if up != self.up || role != self.role || master != self.master {
            self.since = at;
        }
        self.ok = true;
        self.up = up;
        self.role = role;
        self.master = master;
        self.index = v["index"].as_u64().unwrap_or(0) as u32;
        self.connected = v["peers"].as_array().map_or(0, |p| p.iter().filter(|p| p["state"] == "connected").count());
    }

    fn answering(&self) -> bool {
        self.ok && self.up
    }

    fn leader(&self) -> Option<String> {
        self.master.clone()
    }

    fn leads(&self) -> bool {
        self.role == "Master"
    }

    fn since(&self) -> Instant {
        self.since
    }

    fn fully_connected(&self, n: usize) -> bool {
        self.connected + 1 == n
    }

    fn says(&self, _name: &dyn Fn(&String) -> String) -> String {
        match (self.ok, self.role.as_str(), &self.master) {
            (false, _, _) => "silent".into(),
            (true, "Master", _) => "Master".into(),
            (true, role, Some(m)) => format!("{role} of {m}"),
            (true, role, None) => role.to_string(),
        }
    }
}

/// A short account of what the members report, for error messages.
pub fn describe(seen: &[NodeSeen], ids: &[String]) -> String {
    let masters: Vec<&str> = ids.iter().zip(seen).filter(|(_, o)| o.ok && o.role == "Master").map(|(id, _)| id.as_str()).collect();
    let silent = seen.iter().filter(|o| !o.ok).count();
    let full = seen.iter().filter(|o| o.ok && o.connected + 1 == ids.len()).count();
    format!("{} of {} fully connected, {silent} not answering, masters {:?}", full, ids.len(), masters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::cluster::agreement;

    fn seen(t0: Instant, rows: &[(bool, &str, Option<&str>, u64)]) -> Vec<NodeSeen> {
        rows.iter()
            .map(|&(ok, role, master, ms)| NodeSeen {
                ok,
                up: ok,
                role: role.into(),
                master: master.map(str::to_string),
                index: 0,
                connected: 4,
                since: t0 + Duration::from_millis(ms),
            })
            .collect()
    }

    #[test]
    fn survivors_agree_on_the_master_they_all_name() {
        let t0 = Instant::now();
        let ids: Vec<String> = (0..4).map(|i| format!("s{i}")).collect();
        let row = |id: &String| ids.iter().position(|x| x == id);
        let o = seen(
            t0,
            &[(false, "", None, 0), (true, "Master", Some("s1"), 4), (true, "Backup", Some("s1"), 9), (true, "Backup", Some("s1"), 2)],
        );
        assert_eq!(agreement(&o, &[1, 2, 3], row), Some((1, t0 + Duration::from_millis(9))));
        // The killed member is not a survivor; with it, there is no agreement.
        assert_eq!(agreement(&o, &[0, 1, 2, 3], row), None);
        // Two saying Master.
        let two = seen(
            t0,
            &[(false, "", None, 0), (true, "Master", Some("s1"), 0), (true, "Master", Some("s1"), 0), (true, "Backup", Some("s1"), 0)],
        );
        assert_eq!(agreement(&two, &[1, 2, 3], row), None);
    }
}
