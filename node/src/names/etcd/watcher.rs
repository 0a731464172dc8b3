//! Watching a group on etcd (docs/protocol.md N19), and the task that
//! writes the end of every lease etcd expires.
//!
//! A watcher keeps an etcd watch on the group's keys and, like the
//! embedded one, reads the stored changes after the last number it passed
//! on whenever that watch reports anything; when they are no longer kept it
//! resyncs through `lookup`. The etcd watch only wakes it, so an event lost
//! with a broken etcd stream loses nothing: the watch is opened again and
//! the changes read again.

use super::conn::Retry;
use super::{Etcd, StoreError};
use crate::names::{Event, NameStore, Watcher};
use etcd_client::{EventType, GetOptions, WatchFilterType, WatchOptions, WatchStream};
use stagger_core::names::Feed;
use std::collections::VecDeque;
use std::time::Duration;

impl Etcd {
    /// An etcd watch on every key under `prefix`; with `deletions_only`,
    /// puts are not reported.
    async fn watch_prefix(&self, prefix: &str, deletions_only: bool) -> Result<WatchStream, StoreError> {
        let mut options = WatchOptions::new().with_prefix();
        if deletions_only {
            options = options.with_filters([WatchFilterType::NoPut]);
        }
        let prefix = prefix.to_owned();
        let watch = self.conn().call(Retry::Transient, |mut c| {
            let (prefix, options) = (prefix.clone(), options.clone());
            async move { c.watch(prefix, Some(options)).await }
        });
        watch.await.map_err(|e| self.unreachable(e))
    }

    /// Every group the cluster holds under this store's prefix.
    async fn groups(&self) -> Result<Vec<String>, StoreError> {
        let keys = &self.0.keys;
        let all = keys.all().to_owned();
        let get = self.conn().call(Retry::Transient, |mut c| {
            let all = all.clone();
            async move { c.get(all, Some(GetOptions::new().with_prefix().with_keys_only())).await }
        });
        let resp = get.await.map_err(|e| self.unreachable(e))?;
        let names = resp.kvs().iter().filter_map(|kv| kv.key_str().ok()).filter(|k| k.ends_with("/record"));
        Ok(names.filter_map(|k| keys.group_of(k)).map(str::to_owned).collect())
    }

    /// Writes the end of every lease etcd expires, as it deletes the
    /// lease's `master` key, so that watchers hear of expiry on time
    /// rather than at the next request (which would write it too). Settles
    /// every group first, for leases that ran out while nobody watched.
    /// Runs until the runtime stops; while etcd cannot be reached it tries
    /// again every second (requests say `Unreachable` meanwhile).
    pub async fn expire_leases(self) {
        loop {
            let _ = self.expire_round().await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn expire_round(&self) -> Result<(), StoreError> {
        let mut deletions = self.watch_prefix(self.0.keys.all(), true).await?;
        for group in self.groups().await? {
            self.settle(&group).await?;
        }
        loop {
            let resp = deletions.message().await.map_err(|e| self.unreachable(e))?;
            let Some(resp) = resp.filter(|r| !r.canceled()) else { return Ok(()) };
            for event in resp.events() {
                let key = event.kv().and_then(|kv| kv.key_str().ok()).filter(|k| k.ends_with("/master"));
                if let (EventType::Delete, Some(group)) = (event.event_type(), key.and_then(|k| self.0.keys.group_of(k))) {
                    self.settle(group).await?;
                }
            }
        }
    }
}

/// A watcher on the etcd backend. See the module docs.
pub struct EtcdWatcher {
    store: Etcd,
    group: String,
    /// The `seq` of the last event passed on (or the caller's `after`).
    seen: Option<u64>,
    queue: VecDeque<Event>,
    /// The etcd watch on the group's keys; `None` after it broke.
    wake: Option<WatchStream>,
}

impl EtcdWatcher {
    pub(super) async fn start(store: Etcd, group: &str, after: Option<u64>) -> Result<EtcdWatcher, StoreError> {
        // Watching before the first read, so no change falls between.
        let wake = store.watch_prefix(&store.0.keys.group(group), false).await?;
        let view = store.lookup(group).await?;
        let mut queue = VecDeque::new();
        if after.is_none() {
            queue.push_back(Event::Resync(view));
        }
        Ok(EtcdWatcher { store, group: group.to_owned(), seen: after, queue, wake: Some(wake) })
    }

    /// Waits until etcd reports something on the group's keys. A watch that
    /// broke is opened again at once, and the caller reads again.
    async fn wait(&mut self) -> Result<(), StoreError> {
        if let Some(wake) = &mut self.wake {
            if let Ok(Some(resp)) = wake.message().await {
                if !resp.canceled() {
                    return Ok(());
                }
            }
        }
        self.wake = None;
        self.wake = Some(self.store.watch_prefix(&self.store.0.keys.group(&self.group), false).await?);
        Ok(())
    }
}

impl Watcher for EtcdWatcher {
    async fn next(&mut self) -> Result<Event, StoreError> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                self.seen = Some(event.seq());
                return Ok(event);
            }
            match self.store.changes(&self.group, self.seen.unwrap_or(0)).await? {
                Feed::Changes { changes } if changes.is_empty() => self.wait().await?,
                Feed::Changes { changes } => self.queue.extend(changes.into_iter().map(Event::Change)),
                Feed::Behind { .. } => self.queue.push_back(Event::Resync(self.store.lookup(&self.group).await?)),
            }
        }
    }
}
