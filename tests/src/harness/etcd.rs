//! An etcd cluster: real `etcd` processes (Debian's `etcd-server`, which
//! `cargo xtask setup` and `cargo xtask test` install) on 127.0.0.1, for the
//! etcd benchmark and the name server's etcd tests, each with its data directory
//! and log in a temporary folder, watched through
//! `POST /v3/maintenance/status` on the JSON gRPC gateway of its client URL,
//! which answers the member's own id and the leader it currently follows.

use super::cluster::{Cluster, Watch};
use super::{fail, HarnessError, Reaped};
use reqwest::blocking::Client;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// `etcd` on `PATH`, else `/usr/bin/etcd`, or an error saying how to
/// install it.
pub fn find_etcd() -> Result<PathBuf, HarnessError> {
    let on_path = std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("etcd")).find(|f| f.is_file()));
    on_path.or_else(|| Some(PathBuf::from("/usr/bin/etcd")).filter(|p| p.is_file())).ok_or_else(|| {
        fail("etcd is not installed (no etcd on PATH or at /usr/bin/etcd): `cargo xtask setup` installs the Debian package etcd-server")
    })
}

/// `etcd --version`'s version, e.g. `3.4.23`.
pub fn etcd_version(exe: &Path) -> Option<String> {
    let out = Command::new(exe).arg("--version").stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

fn parse_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.trim_start().starts_with("etcd Version:"))?;
    Some(line.split_once(':')?.1.trim().to_string()).filter(|v| !v.is_empty())
}

/// etcd's Raft timing, in ms.
#[derive(Clone, Copy, Debug)]
pub struct EtcdTiming {
    /// `--heartbeat-interval`: the leader's heartbeat and every member's
    /// Raft tick.
    pub heartbeat_ms: u64,
    /// `--election-timeout`.
    pub election_timeout_ms: u64,
}

/// `name=http://peer,…` for `--initial-cluster`.
fn initial_cluster(names: &[String], peers: &[SocketAddr]) -> String {
    names.iter().zip(peers).map(|(n, p)| format!("{n}=http://{p}")).collect::<Vec<_>>().join(",")
}

/// One member's command line. The same line restarts it: once its data
/// directory holds a WAL, etcd ignores the `--initial-*` flags and rejoins.
fn etcd_args(name: &str, data_dir: &Path, client: SocketAddr, peer: SocketAddr, cluster: &str, token: &str, t: EtcdTiming) -> Vec<String> {
    vec![
        format!("--name={name}"),
        format!("--data-dir={}", data_dir.display()),
        format!("--listen-client-urls=http://{client}"),
        format!("--advertise-client-urls=http://{client}"),
        format!("--listen-peer-urls=http://{peer}"),
        format!("--initial-advertise-peer-urls=http://{peer}"),
        format!("--initial-cluster={cluster}"),
        "--initial-cluster-state=new".to_string(),
        format!("--initial-cluster-token={token}"),
        format!("--heartbeat-interval={}", t.heartbeat_ms),
        format!("--election-timeout={}", t.election_timeout_ms),
        // JSON lines with millisecond times, to stderr (the member's log file).
        "--logger=zap".to_string(),
        "--log-outputs=stderr".to_string(),
    ]
}

/// etcd children. Dropping it kills and reaps them all and removes their
/// data.
pub struct EtcdCluster {
    exe: PathBuf,
    dir: tempfile::TempDir,
    names: Vec<String>,
    clients: Vec<SocketAddr>,
    peers: Vec<SocketAddr>,
    token: String,
    timing: EtcdTiming,
    procs: Vec<Option<Reaped>>,
    /// The members' ids by row, once [`EtcdCluster::learn_ids`] saw them.
    ids: Vec<u64>,
}

impl EtcdCluster {
    /// Picks the ports and the folder; starts nothing.
    pub fn new(exe: &Path, n: usize, timing: EtcdTiming) -> Result<EtcdCluster, HarnessError> {
        let names: Vec<String> = (0..n).map(|i| format!("e{i}")).collect();
        let addrs = super::free_ports(2 * n)?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Ok(EtcdCluster {
            exe: exe.to_path_buf(),
            dir: super::temp_dir("bench-etcd")?,
            names,
            clients: addrs[..n].to_vec(),
            peers: addrs[n..].to_vec(),
            token: format!("stagger-bench-{:x}-{nanos:x}", std::process::id()),
            timing,
            procs: (0..n).map(|_| None).collect(),
            ids: Vec::new(),
        })
    }

    fn log(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.names[i]))
    }

    /// Records the members' ids (they never change) once every member has
    /// answered; `false` until then.
    pub fn learn_ids(&mut self, seen: &[EtcdSeen]) -> bool {
        match seen.iter().map(|o| o.member).collect::<Option<Vec<u64>>>() {
            Some(ids) => {
                self.ids = ids;
                true
            }
            None => false,
        }
    }
}

impl EtcdCluster {
    /// The members' client URLs, `http://127.0.0.1:PORT`, in row order:
    /// what an etcd client connects to.
    pub fn client_urls(&self) -> Vec<String> {
        self.clients.iter().map(|a| format!("http://{a}")).collect()
    }

    /// Asks every running member for its status until all of them follow
    /// one leader that is one of them; returns that leader's row. Blocking.
    pub fn wait_for_leader(&mut self, timeout: std::time::Duration) -> Result<usize, HarnessError> {
        let client = Client::builder().timeout(std::time::Duration::from_millis(500)).build().map_err(|e| fail(e.to_string()))?;
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive()?;
            let running: Vec<usize> = (0..self.names.len()).filter(|&i| self.procs[i].is_some()).collect();
            let last = running.iter().map(|&i| EtcdSeen::fetch(&client, self.clients[i])).collect::<Vec<_>>();
            if let Some(statuses) = last.iter().copied().collect::<Option<Vec<EtcdStatus>>>() {
                let leader = statuses.first().and_then(|s| s.leader);
                let row = statuses.iter().position(|s| Some(s.member) == leader).map(|k| running[k]);
                if let Some(row) = row.filter(|_| statuses.iter().all(|s| s.leader == leader)) {
                    return Ok(row);
                }
            }
            if Instant::now() >= deadline {
                return Err(fail(format!("the etcd members agreed on no leader within {timeout:?}; they said {last:?}")));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Cluster for EtcdCluster {
    type Seen = EtcdSeen;

    fn names(&self) -> &[String] {
        &self.names
    }

    fn watched(&self) -> &[SocketAddr] {
        &self.clients
    }

    fn row_of(&self, id: &u64) -> Option<usize> {
        self.ids.iter().position(|x| x == id)
    }

    fn start(&mut self, i: usize) -> Result<(), HarnessError> {
        let cluster = initial_cluster(&self.names, &self.peers);
        let data = self.dir.path().join(&self.names[i]);
        let args = etcd_args(&self.names[i], &data, self.clients[i], self.peers[i], &cluster, &self.token, self.timing);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(i))
            .map_err(|e| fail(format!("{}: {e}", self.log(i).display())))?;
        let log2 = log.try_clone().map_err(|e| fail(e.to_string()))?;
        let mut cmd = Command::new(&self.exe);
        cmd.args(&args).stdin(Stdio::null()).stdout(Stdio::from(log)).stderr(Stdio::from(log2));
        // Only the flags above configure it.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("ETCD") {
                cmd.env_remove(k);
            }
        }
        let child = cmd.spawn().map_err(|e| fail(format!("cannot start {}: {e}", self.exe.display())))?;
        self.procs[i] = Some(Reaped(child));
        Ok(())
    }

    fn kill(&mut self, i: usize) {
        self.procs[i] = None;
    }

    /// The log is saved first.
    fn check_alive(&mut self) -> Result<(), HarnessError> {
        let dead = self.procs.iter_mut().position(|p| p.as_mut().and_then(Reaped::exited).is_some());
        match dead {
            None => Ok(()),
            Some(i) => {
                let logs = self.evidence("exited").map_or("(logs not saved)".into(), |d| format!("logs in {}", d.display()));
                Err(fail(format!("etcd member {} ({}) exited on its own; {logs}", self.names[i], self.clients[i])))
            }
        }
    }

    /// Every member's log.
    fn evidence(&self, label: &str) -> Option<PathBuf> {
        let dir = std::env::temp_dir().join(format!("stagger-bench-etcd-logs-{}", std::process::id())).join(label);
        std::fs::create_dir_all(&dir).ok()?;
        for i in 0..self.names.len() {
            let _ = std::fs::copy(self.log(i), dir.join(format!("{}.log", self.names[i])));
        }
        Some(dir)
    }

    /// etcd reports the term of its last applied entry, so the new
    /// leader's term shows once its first entry of the term is applied.
    fn settled(&self, before: &[EtcdSeen], now: &[EtcdSeen], winner: usize) -> bool {
        let old = before.iter().map(|o| o.raft_term).max().unwrap_or(0);
        now[winner].raft_term > old
    }
}

/// What one member says of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EtcdStatus {
    /// Its own member id.
    pub member: u64,
    /// The leader it follows (itself when it leads); `None` while it has
    /// none (a candidate, or before it heard from anyone).
    pub leader: Option<u64>,
    pub raft_term: u64,
}

/// A gateway reply. etcd encodes its 64-bit ids as decimal strings; a zero
/// or missing `leader` means no leader.
fn parse_status(body: &str) -> Option<EtcdStatus> {
    let v: Value = serde_json::from_str(body).ok()?;
    let id = |x: &Value| match x {
        Value::String(s) => s.parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    let member = id(&v["header"]["member_id"]).filter(|&m| m != 0)?;
    let leader = id(&v["leader"]).filter(|&l| l != 0);
    let raft_term = id(&v["raftTerm"]).or_else(|| id(&v["header"]["raft_term"])).unwrap_or(0);
    Some(EtcdStatus { member, leader, raft_term })
}

/// What a poller last saw of one etcd member.
#[derive(Clone, Copy, Debug)]
pub struct EtcdSeen {
    /// The last request was answered.
    pub ok: bool,
    pub member: Option<u64>,
    pub leader: Option<u64>,
    pub raft_term: u64,
    /// When the current `leader` was first seen.
    pub since: Instant,
}

impl Watch for EtcdSeen {
    type Id = u64;
    type Reply = EtcdStatus;

    fn blank(now: Instant) -> EtcdSeen {
        EtcdSeen { ok: false, member: None, leader: None, raft_term: 0, since: now }
    }

    fn fetch(client: &Client, addr: SocketAddr) -> Option<EtcdStatus> {
        let r = client.post(format!("http://{addr}/v3/maintenance/status")).json(&serde_json::json!({})).send().ok()?;
        if !r.status().is_success() {
            return None;
        }
        parse_status(&r.text().ok()?)
    }

    fn apply(&mut self, got: Option<EtcdStatus>, at: Instant) {
        // A failed request only clears `ok`.
        match got {
            None => self.ok = false,
            Some(s) => {
                if s.leader != self.leader || Some(s.member) != self.member {
                    self.since = at;
                }
                *self = EtcdSeen { ok: true, member: Some(s.member), leader: s.leader, raft_term: s.raft_term, since: self.since };
            }
        }
    }

    fn answering(&self) -> bool {
        self.ok
    }

    fn leader(&self) -> Option<u64> {
        self.leader
    }

    fn leads(&self) -> bool {
        self.leader.is_some() && self.leader == self.member
    }

    fn since(&self) -> Instant {
        self.since
    }

    fn says(&self, name: &dyn Fn(&u64) -> String) -> String {
        match (self.ok, self.leader) {
            (false, _) => "silent".into(),
            (true, None) => format!("no leader (term {})", self.raft_term),
            (true, Some(l)) if Some(l) == self.member => format!("leader (term {})", self.raft_term),
            (true, Some(l)) => format!("follows {} (term {})", name(&l), self.raft_term),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::cluster::agreement;
    use std::time::Duration;

    const REPLY: &str = r#"{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"1","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"13668033151171901709","raftIndex":"4","raftTerm":"2","raftAppliedIndex":"4","dbSizeInUse":"16384"}"#;

    #[test]
    fn parses_a_status_reply() {
        let s = parse_status(REPLY).unwrap();
        assert_eq!(s, EtcdStatus { member: 13668033151171901709, leader: Some(13668033151171901709), raft_term: 2 });
    }

    #[test]
    fn no_leader_is_none() {
        // The gateway omits zero fields; some versions print "0".
        let absent = r#"{"header":{"member_id":"7","raft_term":"5"},"version":"3.4.23"}"#;
        assert_eq!(parse_status(absent), Some(EtcdStatus { member: 7, leader: None, raft_term: 5 }));
        let zero = r#"{"header":{"member_id":"7"},"leader":"0","raftTerm":"6"}"#;
        assert_eq!(parse_status(zero), Some(EtcdStatus { member: 7, leader: None, raft_term: 6 }));
        let numbers = r#"{"header":{"member_id":9},"leader":3}"#;
        assert_eq!(parse_status(numbers), Some(EtcdStatus { member: 9, leader: Some(3), raft_term: 0 }));
    }

    #[test]
    fn rejects_replies_without_a_member() {
        assert_eq!(parse_status(""), None);
        assert_eq!(parse_status("not json"), None);
        assert_eq!(parse_status(r#"{"error":"etcdserver: no leader","code":14}"#), None);
        assert_eq!(parse_status(r#"{"header":{"member_id":"x"},"leader":"1"}"#), None);
    }

    #[test]
    fn reads_the_version() {
        let text = "etcd Version: 3.4.23\nGit SHA: Not provided (use ./build instead of go build)\nGo Version: go1.19.8\n";
        assert_eq!(parse_version(text).as_deref(), Some("3.4.23"));
        assert_eq!(parse_version("etcd 3.6\n"), None);
    }

    #[test]
    fn builds_the_command_line() {
        let names: Vec<String> = (0..3).map(|i| format!("e{i}")).collect();
        let peers: Vec<SocketAddr> = [2380, 2381, 2382].iter().map(|p| SocketAddr::from(([127, 0, 0, 1], *p))).collect();
        let cluster = initial_cluster(&names, &peers);
        assert_eq!(cluster, "e0=http://127.0.0.1:2380,e1=http://127.0.0.1:2381,e2=http://127.0.0.1:2382");
        let timing = EtcdTiming { heartbeat_ms: 100, election_timeout_ms: 500 };
        let args = etcd_args("e1", Path::new("/tmp/x/e1"), SocketAddr::from(([127, 0, 0, 1], 2379)), peers[1], &cluster, "tok", timing);
        assert_eq!(
            args,
            [
                "--name=e1",
                "--data-dir=/tmp/x/e1",
                "--listen-client-urls=http://127.0.0.1:2379",
                "--advertise-client-urls=http://127.0.0.1:2379",
                "--listen-peer-urls=http://127.0.0.1:2381",
                "--initial-advertise-peer-urls=http://127.0.0.1:2381",
                "--initial-cluster=e0=http://127.0.0.1:2380,e1=http://127.0.0.1:2381,e2=http://127.0.0.1:2382",
                "--initial-cluster-state=new",
                "--initial-cluster-token=tok",
                "--heartbeat-interval=100",
                "--election-timeout=500",
                "--logger=zap",
                "--log-outputs=stderr",
            ]
        );
    }

    fn seen(t0: Instant, rows: &[(bool, u64, Option<u64>, u64)]) -> Vec<EtcdSeen> {
        rows.iter()
            .map(|&(ok, member, leader, ms)| EtcdSeen {
                ok,
                member: Some(member),
                leader,
                raft_term: 1,
                since: t0 + Duration::from_millis(ms),
            })
            .collect()
    }

    const IDS: [u64; 5] = [10, 11, 12, 13, 14];

    fn row(id: &u64) -> Option<usize> {
        IDS.iter().position(|x| x == id)
    }

    #[test]
    fn chooses_the_leader_all_survivors_name() {
        let t0 = Instant::now();
        // 10 was killed; the rest follow 12, which leads.
        let o = seen(
            t0,
            &[(false, 10, Some(10), 0), (true, 11, Some(12), 5), (true, 12, Some(12), 3), (true, 13, Some(12), 9), (true, 14, Some(12), 7)],
        );
        let survivors = [1, 2, 3, 4];
        assert_eq!(agreement(&o, &survivors, row), Some((2, t0 + Duration::from_millis(9))));
        // Before the kill, all five agree on 12 only if 10 follows it too.
        assert_eq!(agreement(&o, &[0, 1, 2, 3, 4], row), None);
        let mut all = o.clone();
        all[0] = EtcdSeen { ok: true, leader: Some(12), ..all[0] };
        assert_eq!(agreement(&all, &[0, 1, 2, 3, 4], row).map(|(r, _)| r), Some(2));
    }

    #[test]
    fn no_agreement_while_a_survivor_differs() {
        let t0 = Instant::now();
        let survivors = [1, 2, 3, 4];
        // Still naming the killed leader: it is not a survivor.
        let old = seen(
            t0,
            &[(false, 10, Some(10), 0), (true, 11, Some(10), 0), (true, 12, Some(10), 0), (true, 13, Some(10), 0), (true, 14, Some(10), 0)],
        );
        assert_eq!(agreement(&old, &survivors, row), None);
        // One candidate without a leader.
        let campaign = seen(
            t0,
            &[(false, 10, None, 0), (true, 11, Some(12), 0), (true, 12, Some(12), 0), (true, 13, None, 0), (true, 14, Some(12), 0)],
        );
        assert_eq!(agreement(&campaign, &survivors, row), None);
        // One survivor not answering.
        let silent = seen(
            t0,
            &[(false, 10, None, 0), (true, 11, Some(12), 0), (true, 12, Some(12), 0), (false, 13, Some(12), 0), (true, 14, Some(12), 0)],
        );
        assert_eq!(agreement(&silent, &survivors, row), None);
        // Split: two names.
        let split = seen(
            t0,
            &[(false, 10, None, 0), (true, 11, Some(11), 0), (true, 12, Some(12), 0), (true, 13, Some(12), 0), (true, 14, Some(11), 0)],
        );
        assert_eq!(agreement(&split, &survivors, row), None);
        // A leader id nobody has.
        let stranger = seen(
            t0,
            &[(false, 10, None, 0), (true, 11, Some(99), 0), (true, 12, Some(99), 0), (true, 13, Some(99), 0), (true, 14, Some(99), 0)],
        );
        assert_eq!(agreement(&stranger, &survivors, row), None);
        assert_eq!(agreement(&split, &[], row), None);
    }

    #[test]
    fn describes_the_members() {
        let t0 = Instant::now();
        let o = seen(t0, &[(false, 10, None, 0), (true, 11, Some(12), 0), (true, 12, Some(12), 0)]);
        let name = |id: &u64| format!("e{}", id - 10);
        let said: Vec<String> = o.iter().map(|s| s.says(&name)).collect();
        assert_eq!(said, ["silent", "follows e2 (term 1)", "leader (term 1)"]);
    }
}
