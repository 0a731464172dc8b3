//! A `stagger nameserver` process on 127.0.0.1: the embedded backend with
//! its state in a folder of its own, or in front of an etcd cluster. Its
//! stderr goes to a log file, so that when it stops at start the error can
//! say why.

use super::{fail, HarnessError, Reaped};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where a name server keeps its state.
#[derive(Clone, Debug)]
pub enum Store {
    /// `--data DIR`: the embedded backend's log, fsynced before each answer.
    Embedded(PathBuf),
    /// `--etcd URL,URL,…`: the etcd backend on these client URLs.
    Etcd(Vec<String>),
}

impl Store {
    /// The command-line arguments that choose it.
    fn args(&self) -> Vec<String> {
        match self {
            Store::Embedded(dir) => vec!["--data".into(), dir.display().to_string()],
            Store::Etcd(urls) => vec!["--etcd".into(), urls.join(",")],
        }
    }
}

/// How long a name server has to answer after it was started.
const READY: Duration = Duration::from_secs(15);

/// A running `stagger nameserver`. Dropping it kills and reaps it.
pub struct NameServer {
    proc: Reaped,
    addr: SocketAddr,
    log: PathBuf,
    /// Holds the log; removed on drop.
    _dir: tempfile::TempDir,
}

impl NameServer {
    /// Starts `stagger nameserver --listen ADDR` on a free port with `store`
    /// (and a lease limit of one minute), and waits until it answers HTTP.
    pub fn start(stagger: &Path, store: &Store) -> Result<NameServer, HarnessError> {
        let addr = super::free_ports(1)?[0];
        let dir = super::temp_dir("nameserver")?;
        let log = dir.path().join("nameserver.log");
        let err = std::fs::File::create(&log).map_err(|e| fail(format!("{}: {e}", log.display())))?;
        let mut args: Vec<String> = vec!["nameserver".into(), "--listen".into(), addr.to_string(), "--max-ttl-ms".into(), "60000".into()];
        args.extend(store.args());
        let child = Command::new(stagger)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| fail(format!("cannot start {} nameserver: {e}", stagger.display())))?;
        let mut ns = NameServer { proc: Reaped(child), addr, log, _dir: dir };
        ns.wait_ready(store, &args)?;
        Ok(ns)
    }

    /// Until any HTTP answer (an unknown group's 404 will do), or an error
    /// saying why the process stopped.
    fn wait_ready(&mut self, store: &Store, args: &[String]) -> Result<(), HarnessError> {
        let client = super::poll_client(Duration::from_millis(500));
        let start = Instant::now();
        while start.elapsed() < READY {
            if let Some(status) = self.proc.exited() {
                let said = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(fail(why_it_stopped(store, &args.join(" "), &status.to_string(), &said)));
            }
            if client.get(format!("{}/v1/groups/probe", self.url())).send().is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(fail(format!("`stagger {}` did not answer HTTP within {} s", args.join(" "), READY.as_secs())))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, as a group file's `nameserver` names it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.proc.id()
    }

    /// An error naming the first problem: the process exited on its own.
    pub fn check_alive(&mut self) -> Result<(), HarnessError> {
        match self.proc.exited() {
            None => Ok(()),
            Some(status) => {
                let said = std::fs::read_to_string(&self.log).unwrap_or_default();
                Err(fail(format!("the name server at {} exited on its own ({status}): {}", self.addr, said.trim())))
            }
        }
    }
}

/// Why `stagger nameserver` stopped at start, from its exit status and
/// stderr. A binary built before the etcd backend refuses `--etcd` as an
/// unknown argument: that gets its own explanation.
pub fn why_it_stopped(store: &Store, command: &str, status: &str, stderr: &str) -> String {
    let said = stderr.trim();
    if matches!(store, Store::Etcd(_)) && said.contains("--etcd") && said.contains("unexpected argument") {
        return "this `stagger` binary's `nameserver` has no --etcd flag (it was built without the etcd backend): \
                build one that has it (`cargo build --release -p stagger-node`) or pass --stagger PATH"
            .to_string();
    }
    let said = if said.is_empty() { "(nothing on stderr)" } else { said };
    format!("`stagger {command}` stopped at start ({status}): {said}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_chooses_the_flags() {
        assert_eq!(Store::Embedded(PathBuf::from("/tmp/ns")).args(), ["--data", "/tmp/ns"]);
        let urls = vec!["http://127.0.0.1:1".to_string(), "http://127.0.0.1:2".to_string()];
        assert_eq!(Store::Etcd(urls).args(), ["--etcd", "http://127.0.0.1:1,http://127.0.0.1:2"]);
    }

    #[test]
    fn a_binary_without_the_etcd_flag_is_named_as_such() {
        let clap = "error: unexpected argument '--etcd' found\n\nUsage: stagger nameserver --listen <ADDR> --data <DIR>\n";
        let etcd = Store::Etcd(vec!["http://127.0.0.1:1".into()]);
        let why = why_it_stopped(&etcd, "nameserver --etcd …", "exit status: 2", clap);
        assert!(why.contains("has no --etcd flag") && why.contains("--stagger PATH"), "{why}");
        // Any other stop says what the process said.
        let other = why_it_stopped(&etcd, "nameserver --etcd x", "exit status: 1", "cannot reach etcd at x\n");
        assert_eq!(other, "`stagger nameserver --etcd x` stopped at start (exit status: 1): cannot reach etcd at x");
        let silent = why_it_stopped(&Store::Embedded("/d".into()), "nameserver --data /d", "signal: 9", "");
        assert!(silent.ends_with("(signal: 9): (nothing on stderr)"), "{silent}");
    }
}
