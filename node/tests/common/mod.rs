//! What more than one of the node's test files needs.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The first of five consecutive free ports on 127.0.0.1 (the demo's nodes
/// take `base`..`base + 4`), checked by binding them.
pub fn five_free_ports() -> u16 {
    (0..200)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().clamp(20_000, 60_000))
        .find(|&b| (0..5).all(|i| std::net::TcpListener::bind(("127.0.0.1", b + i)).is_ok()))
        .expect("five consecutive free ports")
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
