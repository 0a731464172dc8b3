//! The name server's backends behind one trait, [`NameStore`]: the
//! embedded one ([`Embedded`], a registry from `stagger_core::names` and a
//! file) and, later, etcd. The HTTP routes (`http.rs`) and the client
//! speak to the trait only.

mod embedded;
pub mod http;
mod log;

pub use embedded::Embedded;
pub use log::StorageError;

use stagger_core::names::{Configuration, Feed, Grant, NameError, Register, View};
use std::future::Future;
use tokio::sync::watch;

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
    /// A receiver whose value moves whenever any group may have changed;
    /// a watcher subscribes first, then reads [`NameStore::changes`], then
    /// waits on it.
    fn subscribe(&self) -> watch::Receiver<u64>;
}
