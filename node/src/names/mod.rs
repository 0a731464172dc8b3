//! The name server's backends behind one trait, [`NameStore`]: the
//! embedded one ([`Embedded`], a registry from `stagger_core::names` and a
//! file), the same registry kept in an etcd cluster ([`Etcd`], `etcd/`)
//! and a name server in another process over HTTP ([`Remote`]). The HTTP
//! routes (`http.rs`) and the client speak to the trait only.

mod embedded;
mod etcd;
pub mod http;
mod log;
mod remote;

pub use embedded::{Embedded, EmbeddedWatcher};
pub use etcd::{Etcd, EtcdWatcher, DEFAULT_PREFIX as ETCD_PREFIX};
pub use log::StorageError;
pub use remote::{Remote, RemoteWatcher};

use serde::{Deserialize, Serialize};
use stagger_core::names::{Change, Configuration, Feed, Grant, NameError, Register, View};
use std::future::Future;

/// Why a backend did not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The registry refused: the caller's fault (or the driver's), and
    /// nothing changed.
    #[error(transparent)]
    Refused(#[from] NameError),
    /// The backend could not write: the name server's fault. The embedded
    /// backend refuses everything after one, since its memory and its
    /// file may disagree.
    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),
    /// A remote name server could not be reached, or the connection broke.
    #[error("cannot reach the name server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// A remote name server answered something this client does not
    /// understand (another version, a proxy in between).
    #[error("the name server at {url} answered {reason}")]
    BadAnswer { url: String, reason: String },
}

/// What every backend offers: the registry's operations (docs/protocol.md
/// N1–N11), with the backend's own clock, durable before they return.
pub trait NameStore: Clone + Send + Sync + 'static {
    fn register(&self, group: &str, req: Register) -> impl Future<Output = Result<Grant, StoreError>> + Send;
    fn renew(&self, group: &str, epoch: u64) -> impl Future<Output = Result<Grant, StoreError>> + Send;
    fn resign(&self, group: &str, epoch: u64) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn reconfigure(
        &self,
        group: &str,
        expected: u64,
        members: Vec<String>,
    ) -> impl Future<Output = Result<Configuration, StoreError>> + Send;
    fn lookup(&self, group: &str) -> impl Future<Output = Result<View, StoreError>> + Send;
    fn changes(&self, group: &str, after: u64) -> impl Future<Output = Result<Feed, StoreError>> + Send;
    /// Watches `group`: every change after `after`, or first the whole
    /// state when `after` is `None` or the changes after it are gone (N10).
    /// Refuses an unknown group at once.
    fn watch(&self, group: &str, after: Option<u64>) -> impl Future<Output = Result<Self::Watcher, StoreError>> + Send;

    type Watcher: Watcher;
}

/// What a watcher receives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The whole state; the changes that follow come after its `seq`.
    Resync(View),
    Change(Change),
}

impl Event {
    /// The sequence number a watcher resumes after once it passed this on.
    pub fn seq(&self) -> u64 {
        match self {
            Event::Resync(view) => view.seq,
            Event::Change(change) => change.seq,
        }
    }
}

/// A stream of [`Event`]s for one group.
pub trait Watcher: Send + 'static {
    /// The next event, waiting for it as long as it takes.
    fn next(&mut self) -> impl Future<Output = Result<Event, StoreError>> + Send;
}
