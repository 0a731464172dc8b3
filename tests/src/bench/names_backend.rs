//! What a benchmarked name server keeps its state in, for `stagger-bench
//! names` and `names-failover`: a fresh folder (the embedded backend, with
//! fsync probes of its file system) or a 3-member etcd cluster started for
//! the run.

use super::machine::loadavg;
use super::{summary, BenchError};
use crate::harness::cluster::{Cluster, Poller};
use crate::harness::etcd::{etcd_version, find_etcd, EtcdCluster, EtcdSeen, EtcdTiming};
use crate::harness::kills::SLOW;
use crate::harness::nameserver::Store;
use clap::ValueEnum;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// etcd's own defaults, so the etcd backend is measured as deployed.
const ETCD_TIMING: EtcdTiming = EtcdTiming { heartbeat_ms: 100, election_timeout_ms: 1000 };
const ETCD_MEMBERS: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The name server's own log, fsynced before each durable answer.
    Embedded,
    /// A 3-member etcd cluster on 127.0.0.1, started for the run.
    Etcd,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Embedded => "embedded",
            Backend::Etcd => "etcd",
        }
    }
}

/// A backend ready for `stagger nameserver`: the store to name on its
/// command line, what the report says of it, and what keeps it alive (the
/// folder, or the etcd processes) until it is dropped.
pub struct Backing {
    pub store: Store,
    pub json: Value,
    dir: Option<tempfile::TempDir>,
    _etcd: Option<EtcdCluster>,
}

impl Backing {
    /// Makes the folder (inside `data`, default the system's temporary
    /// folder) and probes its fsync `probes` times, or starts etcd and
    /// waits until it has a leader.
    pub fn start(backend: Backend, data: Option<&Path>, probes: u32, say: &dyn Fn(String)) -> Result<Backing, BenchError> {
        match backend {
            Backend::Embedded => {
                let parent = data.map_or_else(std::env::temp_dir, Path::to_path_buf);
                let dir = tempfile::Builder::new()
                    .prefix("stagger-bench-names-")
                    .tempdir_in(&parent)
                    .map_err(|source| BenchError::Io { path: parent.display().to_string(), source })?;
                let abs = std::fs::canonicalize(dir.path()).unwrap_or_else(|_| dir.path().to_path_buf());
                let fs = std::fs::read_to_string("/proc/mounts").ok().and_then(|m| filesystem_of(&abs, &m));
                say(format!("state in {} ({})", abs.display(), fs.as_deref().unwrap_or("unknown file system")));
                let json = json!({"name": "embedded", "data": abs.display().to_string(), "filesystem": fs});
                let mut b = Backing { store: Store::Embedded(dir.path().join("ns")), json, dir: Some(dir), _etcd: None };
                b.probe("fdatasync_ms", probes)?;
                Ok(b)
            }
            Backend::Etcd => {
                let exe = find_etcd()?;
                let version = etcd_version(&exe);
                let mut e = EtcdCluster::new(&exe, ETCD_MEMBERS, ETCD_TIMING)?;
                e.start_all()?;
                let t = Instant::now();
                let p = Poller::<EtcdSeen>::each(&e, SLOW, Duration::from_millis(500));
                super::etcd::form(&mut e, &p)?;
                // No status polls while the name server is timed.
                drop(p);
                let urls: Vec<String> = e.watched().iter().map(|a| format!("http://{a}")).collect();
                say(format!(
                    "etcd {} formed in {:.0} ms: {}",
                    version.as_deref().unwrap_or("?"),
                    t.elapsed().as_secs_f64() * 1e3,
                    urls.join(",")
                ));
                let json = json!({
                    "name": "etcd", "version": version, "path": exe.display().to_string(), "members": ETCD_MEMBERS, "urls": urls,
                    "heartbeat_interval_ms": ETCD_TIMING.heartbeat_ms, "election_timeout_ms": ETCD_TIMING.election_timeout_ms,
                    "load_average_formed": loadavg(),
                });
                Ok(Backing { store: Store::Etcd(urls), json, dir: None, _etcd: Some(e) })
            }
        }
    }

    /// Embedded only (and `n` > 0): times `n` fsyncs in the folder and
    /// records them under `key`.
    pub fn probe(&mut self, key: &str, n: u32) -> Result<(), BenchError> {
        if let (Some(dir), true) = (&self.dir, n > 0) {
            let sync = fdatasync_ms(dir.path(), n)?;
            self.json[key] = summary(&sync);
        }
        Ok(())
    }
}

/// `write` + `fdatasync` of a 200-byte line appended to a file in `dir`,
/// `n` times, in ms: what every durable answer of the embedded backend
/// waits for at least.
fn fdatasync_ms(dir: &Path, n: u32) -> Result<Vec<f64>, BenchError> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let io = |source| BenchError::Io { path: path.display().to_string(), source };
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
    let line = [b'x'; 199];
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&line).and_then(|_| f.write_all(b"\n")).and_then(|_| f.sync_data()).map_err(io)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(f);
    let _ = std::fs::remove_file(&path);
    Ok(times)
}

/// The file system type holding `path`, from `/proc/mounts`: the mount
/// point that is the longest prefix of `path`.
fn filesystem_of(path: &Path, mounts: &str) -> Option<String> {
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, point, kind) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(point).then(|| (point.len(), kind.to_string()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_system_is_the_longest_mount_prefix() {
        let mounts = "/dev/vda / ext4 rw 0 0\ntmpfs /tmp tmpfs rw 0 0\nproc /proc proc rw 0 0\n/dev/vdb /tmpdata xfs rw 0 0\n";
        assert_eq!(filesystem_of(Path::new("/tmp/x/ns"), mounts).as_deref(), Some("tmpfs"));
        assert_eq!(filesystem_of(Path::new("/tmpdata/ns"), mounts).as_deref(), Some("xfs"), "a path prefix, not a string prefix");
        assert_eq!(filesystem_of(Path::new("/work/ns"), mounts).as_deref(), Some("ext4"));
        assert_eq!(filesystem_of(Path::new("/work"), ""), None);
    }

    #[test]
    fn the_embedded_backing_probes_its_folder_and_says_where_it_is() {
        let parent = tempfile::tempdir().unwrap();
        let mut b = Backing::start(Backend::Embedded, Some(parent.path()), 3, &|_| {}).unwrap();
        assert_eq!(b.json["fdatasync_ms"]["count"], 3);
        b.probe("after", 2).unwrap();
        assert_eq!(b.json["after"]["count"], 2);
        b.probe("none", 0).unwrap();
        assert!(b.json["none"].is_null());
        let Store::Embedded(ns) = &b.store else { panic!("{:?}", b.store) };
        assert!(ns.starts_with(parent.path()) && ns.ends_with("ns"), "{}", ns.display());
        let folder = ns.parent().unwrap().to_path_buf();
        assert!(folder.is_dir() && std::fs::read_dir(&folder).unwrap().next().is_none(), "the probe's file is removed");
        drop(b);
        assert!(!folder.exists(), "the folder goes with the backing");
    }
}
