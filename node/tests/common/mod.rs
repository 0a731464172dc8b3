//! What more than one of the node's test files needs.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `n` distinct ports on 127.0.0.1 that are free now, below Linux's
/// ephemeral range (32768 and up). A port the system hands out for `:0` is
/// in that range, and between then and the node's bind any outgoing
/// connection (a member's dialer, a test's status polls, another program)
/// may be given it as its local port: the node then cannot bind, exits, and
/// the group never forms. Outgoing connections never take a port below the
/// range.
#[allow(dead_code)] // each test file uses its own share of this module
pub fn free_ports(n: usize) -> Vec<SocketAddr> {
    // Held until all are picked, so no two are the same.
    let held: Vec<TcpListener> = candidates().filter_map(|p| TcpListener::bind(("127.0.0.1", p)).ok()).take(n).collect();
    assert_eq!(held.len(), n, "{n} free ports in 20000..32768");
    held.iter().map(|l| l.local_addr().unwrap()).collect()
}

/// The first of five consecutive free ports below the ephemeral range (the
/// demo's nodes take `base`..`base + 4`), checked by binding them.
#[allow(dead_code)]
pub fn five_free_ports() -> u16 {
    candidates()
        .map(|p| p.min(32_763))
        .find(|&b| (0..5).all(|i| TcpListener::bind(("127.0.0.1", b + i)).is_ok()))
        .expect("five consecutive free ports in 20000..32768")
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
pub fn spawn_demo(base: u16, out: &Path, stderr: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stagger"))
        .args(["demo", "--port", &base.to_string(), "--out"])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// `stagger node --group group --id id` plus `extra` arguments, output
/// discarded.
pub fn spawn_node(group: &Path, id: &str, extra: &[&str]) -> Child {
    spawn_node_to(group, id, extra, Stdio::null())
}

/// `spawn_node` with the node's stderr (its log, and why it stopped) sent to
/// `stderr`, for tests that report it when a node is not there.
pub fn spawn_node_to(group: &Path, id: &str, extra: &[&str], stderr: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stagger"))
        .args(["node", "--group"])
        .arg(group)
        .args(["--id", id])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// A child process that is killed and reaped when dropped, so a test that
/// fails half-way leaves no node running (a leaked member keeps dialing its
/// group's ports, which a later test may have been given).
pub struct Reaped(pub Child);

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
