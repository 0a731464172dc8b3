//! The harness: real processes on 127.0.0.1, started, watched, killed and
//! cleaned up, shared by the live and browser tests and by `stagger-bench`.
//!
//! Every child is owned by a value that kills and reaps it when dropped
//! ([`Reaped`]), so a benchmark that returns early or a test that panics
//! leaves nothing running. There is no process-wide table and no signal
//! thread: the children stay in the terminal's foreground process group, so
//! Ctrl-C reaches them together with the benchmark (a `stagger node` and an
//! etcd member both stop on SIGINT).
//!
//! - [`cluster`]: the [`Cluster`](cluster::Cluster) trait, the pollers that
//!   watch its members and the wait that fails early when one dies.
//! - [`group`]: a stagger group of `stagger node` processes.
//! - [`etcd`]: an etcd cluster of `etcd` processes.
//! - [`kills`]: the one kill → wait for a new leader → restart loop.
//! - [`nameserver`]: a `stagger nameserver` process (embedded or on etcd).
//! - [`chromedriver`]: chromedriver (and its browsers) for the browser tests
//!   and the speed benchmark.

pub mod chromedriver;
pub mod cluster;
pub mod etcd;
pub mod group;
pub mod kills;
pub mod nameserver;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Why the harness could not do what it was asked: the machine lacks
/// something, or a process it started did not behave.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HarnessError(pub String);

pub(crate) fn fail(what: impl Into<String>) -> HarnessError {
    HarnessError(what.into())
}

/// The `stagger` binary: `explicit` if given, else the one next to the
/// running executable (`target/<profile>/stagger` beside
/// `target/<profile>/stagger-bench`, or beside a test's `deps/` folder).
pub fn stagger_binary(explicit: Option<&Path>) -> Result<PathBuf, HarnessError> {
    if let Some(p) = explicit {
        return if p.is_file() { Ok(p.to_path_buf()) } else { Err(fail(format!("--stagger {}: no such file", p.display()))) };
    }
    let me = std::env::current_exe().map_err(|e| fail(format!("cannot find this executable: {e}")))?;
    let name = format!("stagger{}", std::env::consts::EXE_SUFFIX);
    let dir = me.parent().ok_or_else(|| fail(format!("{} has no folder", me.display())))?;
    let candidates = [Some(dir.join(&name)), dir.parent().filter(|_| dir.ends_with("deps")).map(|d| d.join(&name))];
    candidates.into_iter().flatten().find(|p| p.is_file()).ok_or_else(|| {
        fail(format!(
            "no `stagger` binary next to {}: build it with `cargo build --release -p stagger-node` (or `cargo build -p stagger-node` \
             for a debug build), or pass --stagger PATH",
            me.display()
        ))
    })
}

/// `n` distinct ports on 127.0.0.1 that are free now, below Linux's
/// ephemeral range (32768 and up). A port the system hands out for `:0` is
/// in that range, and between then and the child's bind any outgoing
/// connection (a member's dialer, a status poll, another program) may be
/// given it as its local port: the child then cannot bind, exits, and the
/// group never forms. Outgoing connections never take a port below the
/// range.
pub fn free_ports(n: usize) -> Result<Vec<SocketAddr>, HarnessError> {
    // Held until all are picked, so no two are the same.
    let held: Vec<TcpListener> = candidates().filter_map(|p| TcpListener::bind(("127.0.0.1", p)).ok()).take(n).collect();
    if held.len() < n {
        return Err(fail(format!("only {} of {n} free ports in 20000..32768 on 127.0.0.1", held.len())));
    }
    held.iter().map(|l| l.local_addr().map_err(|e| fail(e.to_string()))).collect()
}

/// The first of five consecutive free ports below the ephemeral range (the
/// demo's nodes take `base`..`base + 4`), checked by binding them.
pub fn five_free_ports() -> Result<u16, HarnessError> {
    candidates()
        .map(|p| p.min(32_763))
        .find(|&b| (0..5).all(|i| TcpListener::bind(("127.0.0.1", b + i)).is_ok()))
        .ok_or_else(|| fail("no five consecutive free ports in 20000..32768"))
}

/// Every port of 20000..32768 once, from a start that differs per call and
/// per process, so parallel tests rarely try the same ones.
fn candidates() -> impl Iterator<Item = u16> {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let first = h.finish();
    (0..12_768u64).map(move |i| 20_000 + ((first + i * 7_919) % 12_768) as u16)
}

/// `stagger demo --port base --out out`, stdout piped.
pub fn spawn_demo(stagger: impl AsRef<Path>, base: u16, out: &Path, stderr: Stdio) -> Reaped {
    let child = Command::new(stagger.as_ref())
        .args(["demo", "--port", &base.to_string(), "--out"])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} demo: {e}", stagger.as_ref().display()));
    Reaped(child)
}

/// `stagger node --group group --id id` plus `extra` arguments, stdout
/// discarded, stderr (its log, and why it stopped) sent to `stderr`.
pub fn node_command(stagger: impl AsRef<Path>, group: &Path, id: &str, extra: &[&str], stderr: Stdio) -> Command {
    let mut cmd = Command::new(stagger.as_ref());
    cmd.args(["node", "--group"]).arg(group).args(["--id", id]).args(extra).stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr);
    cmd
}

/// [`node_command`], started; panics (a test's failure) if it cannot start.
pub fn spawn_node(stagger: impl AsRef<Path>, group: &Path, id: &str, extra: &[&str], stderr: Stdio) -> Reaped {
    let mut cmd = node_command(stagger.as_ref(), group, id, extra, stderr);
    Reaped(cmd.spawn().unwrap_or_else(|e| panic!("cannot start {} node: {e}", stagger.as_ref().display())))
}

/// A child process that is killed (SIGKILL) and reaped when dropped, so a
/// test that fails half-way or a benchmark that stops early leaves no
/// process running (a leaked member keeps dialing its group's ports, which
/// a later test may have been given).
#[derive(Debug)]
pub struct Reaped(pub Child);

impl Reaped {
    /// Whether the process has exited on its own, and how.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.0.try_wait().ok().flatten()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Reaped {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// A blocking HTTP client for status polls: every request on a fresh
/// connection (nothing pooled), so a killed member shows as an error at
/// once and a slow one as a timeout.
pub fn poll_client(timeout: std::time::Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_max_idle_per_host(0)
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .expect("an HTTP client without TLS builds")
}

/// One `GET`; the body of a 2xx answer.
pub fn get_text(client: &reqwest::blocking::Client, addr: SocketAddr, path: &str) -> Option<String> {
    let r = client.get(format!("http://{addr}{path}")).send().ok()?;
    r.status().is_success().then(|| r.text().ok()).flatten()
}

/// A temporary folder, removed when dropped; named for what it holds.
pub fn temp_dir(what: &str) -> Result<tempfile::TempDir, HarnessError> {
    tempfile::Builder::new().prefix(&format!("stagger-{what}-")).tempdir().map_err(|e| fail(format!("cannot make a temporary folder: {e}")))
}

/// For the tests of `stagger-bench`: the `stagger` binary of the same
/// build, which `cargo test --workspace` builds beside the test binaries.
/// Panics, naming the command that builds it, when it is not there.
pub fn stagger_for_tests() -> PathBuf {
    stagger_binary(None).unwrap_or_else(|e| panic!("{e} (`cargo test --workspace` builds it too)"))
}
