//! The embedded backend: one [`Registry`] behind a mutex, its clock the
//! process's monotonic clock, every durable change appended to the log and
//! synced before the answer (docs/protocol.md N1, N8).

use super::log::Log;
use super::{Event, NameStore, StoreError, Watcher};
use stagger_core::names::{Configuration, Feed, Grant, GroupRecord, Limits, NameError, Register, Registry, View};
use stagger_core::Time;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

/// A handle to the embedded name server's state; clones share it.
#[derive(Clone)]
pub struct Embedded(Arc<Shared>);

struct Shared {
    state: Mutex<State>,
    /// The zero of the registry's clock.
    start: Instant,
    /// Moves on every durable change, for watchers.
    changed: watch::Sender<u64>,
}

struct State {
    registry: Registry,
    log: Log,
    /// Set by the first failed write; every later operation is refused
    /// with it.
    broken: Option<super::StorageError>,
}

impl Embedded {
    /// Opens the state kept in `dir` (created if missing). Registrations
    /// that were live get a full lease from now (N8).
    pub fn open(dir: &Path, limits: Limits) -> Result<Embedded, super::StorageError> {
        let (log, records) = Log::open(dir)?;
        let registry = Registry::restore(limits, Time::ZERO, records);
        let state = State { registry, log, broken: None };
        Ok(Embedded(Arc::new(Shared { state: Mutex::new(state), start: Instant::now(), changed: watch::channel(0).0 })))
    }

    fn now(&self) -> Time {
        Time(self.0.start.elapsed().as_micros() as u64)
    }

    /// Runs one registry operation at the current instant, then writes and
    /// syncs every group it changed before returning. Blocking: the async
    /// trait methods run it on tokio's blocking pool.
    pub fn apply<T>(&self, op: impl FnOnce(&mut Registry, Time) -> Result<T, NameError>) -> Result<T, StoreError> {
        let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(broken) = &state.broken {
            return Err(StoreError::Storage(broken.clone()));
        }
        let now = self.now();
        let result = op(&mut state.registry, now);
        let dirty = state.registry.take_dirty();
        if !dirty.is_empty() {
            let State { registry, log, broken } = &mut *state;
            let records: Vec<(&String, &GroupRecord)> = dirty.iter().filter_map(|g| registry.record(g).map(|r| (g, r))).collect();
            let mut written = log.append(records);
            if written.is_ok() && log.wants_rewrite() {
                let all = registry.records().map(|(g, r)| (g.clone(), r.clone())).collect();
                written = log.rewrite(&all);
            }
            if let Err(e) = written {
                *broken = Some(e.clone());
                return Err(StoreError::Storage(e));
            }
            self.0.changed.send_modify(|n| *n += 1);
        }
        Ok(result?)
    }

    /// Ends expired leases on time, so that watchers hear of them without
    /// waiting for the next request. Runs until the runtime stops.
    pub async fn expire_leases(self) {
        let mut changed = self.0.changed.subscribe();
        loop {
            let next = self.0.state.lock().unwrap_or_else(|p| p.into_inner()).registry.next_expiry();
            let sleep = async {
                match next {
                    Some(at) => tokio::time::sleep_until((self.0.start + std::time::Duration::from_micros(at.0)).into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sleep => {
                    let this = self.clone();
                    let result = tokio::task::spawn_blocking(move || this.apply(|r, now| r.advance(now))).await;
                    if let Ok(Err(StoreError::Storage(_))) = result {
                        // Broken for good; every request says so.
                        return;
                    }
                }
                _ = changed.changed() => {}
            }
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut Registry, Time) -> Result<T, NameError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.apply(op)).await.expect("a registry operation panicked")
    }
}

impl NameStore for Embedded {
    async fn register(&self, group: &str, req: Register) -> Result<Grant, StoreError> {
        let group = group.to_owned();
        self.run(move |r, now| r.register(now, &group, req)).await
    }

    async fn renew(&self, group: &str, epoch: u64) -> Result<Grant, StoreError> {
        let group = group.to_owned();
        self.run(move |r, now| r.renew(now, &group, epoch)).await
    }

    async fn resign(&self, group: &str, epoch: u64) -> Result<(), StoreError> {
        let group = group.to_owned();
        self.run(move |r, now| r.resign(now, &group, epoch)).await
    }

    async fn reconfigure(&self, group: &str, expected: u64, members: Vec<String>) -> Result<Configuration, StoreError> {
        let group = group.to_owned();
        self.run(move |r, now| r.reconfigure(now, &group, expected, members)).await
    }

    async fn lookup(&self, group: &str) -> Result<View, StoreError> {
        let group = group.to_owned();
        self.run(move |r, now| r.lookup(now, &group)).await
    }

    async fn changes(&self, group: &str, after: u64) -> Result<Feed, StoreError> {
        let group = group.to_owned();
        self.run(move |r, now| r.changes(now, &group, after)).await
    }

    type Watcher = EmbeddedWatcher;

    async fn watch(&self, group: &str, after: Option<u64>) -> Result<EmbeddedWatcher, StoreError> {
        // Subscribed before the first read, so no change falls between.
        let changed = self.0.changed.subscribe();
        let view = self.lookup(group).await?;
        let mut queue = VecDeque::new();
        if after.is_none() {
            queue.push_back(Event::Resync(view));
        }
        Ok(EmbeddedWatcher { store: self.clone(), group: group.to_owned(), seen: after, queue, changed })
    }
}

/// A watcher on the embedded backend: reads the registry's feed after the
/// last number it passed on, and sleeps until the next durable change.
pub struct EmbeddedWatcher {
    store: Embedded,
    group: String,
    /// The `seq` of the last event passed on (or the caller's `after`).
    seen: Option<u64>,
    queue: VecDeque<Event>,
    changed: watch::Receiver<u64>,
}

impl Watcher for EmbeddedWatcher {
    async fn next(&mut self) -> Result<Event, StoreError> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                self.seen = Some(event.seq());
                return Ok(event);
            }
            let feed = self.store.changes(&self.group, self.seen.unwrap_or(0)).await?;
            match feed {
                Feed::Changes { changes } if changes.is_empty() => {
                    if self.changed.changed().await.is_err() {
                        // Never: the store holds the sender while we hold it.
                        std::future::pending::<()>().await;
                    }
                }
                Feed::Changes { changes } => self.queue.extend(changes.into_iter().map(Event::Change)),
                Feed::Behind { .. } => self.queue.push_back(Event::Resync(self.store.lookup(&self.group).await?)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagger_core::names::Ending;
    use stagger_core::Span;

    const G: &str = "cities";

    fn req(member: &str, held: Option<u64>) -> Register {
        Register { member: member.into(), addr: format!("127.0.0.1:{member}"), ranking_version: 1, held, ttl: Span::from_ms(5_000) }
    }

    fn open(dir: &Path) -> Embedded {
        Embedded::open(dir, Limits::default()).unwrap()
    }

    fn make_group(store: &Embedded) {
        store.apply(|r, now| r.reconfigure(now, G, 0, vec!["a".into(), "b".into()])).unwrap();
    }

    #[test]
    fn a_restart_loses_nothing_and_epochs_never_go_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        make_group(&store);
        let first = store.apply(|r, now| r.register(now, G, req("a", None))).unwrap().epoch;
        let second = store.apply(|r, now| r.register(now, G, req("b", None))).unwrap().epoch;
        store.apply(|r, now| r.resign(now, G, second)).unwrap();
        let config = store.apply(|r, now| r.reconfigure(now, G, 1, vec!["b".into(), "a".into(), "c".into()])).unwrap();
        drop(store);

        let back = open(dir.path());
        let view = back.apply(|r, now| r.lookup(now, G)).unwrap();
        assert_eq!(view.master, None);
        assert_eq!(view.highest_epoch, second);
        assert_eq!(view.config, config);
        let mut next = req("c", None);
        next.ranking_version = config.ranking_version;
        let third = back.apply(|r, now| r.register(now, G, next)).unwrap().epoch;
        assert!(first < second && second < third, "{first} {second} {third}");
        // The resignation was written: the old epoch stays stale.
        assert_eq!(
            back.apply(|r, now| r.renew(now, G, second)),
            Err(StoreError::Refused(NameError::StaleEpoch { held: second, current: Some(third) }))
        );
    }

    #[test]
    fn a_restarted_server_keeps_the_master_with_a_fresh_lease() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        make_group(&store);
        let epoch = store.apply(|r, now| r.register(now, G, req("a", None))).unwrap().epoch;
        drop(store);
        let back = open(dir.path());
        let master = back.apply(|r, now| r.lookup(now, G)).unwrap().master.unwrap();
        assert_eq!((master.member.as_str(), master.epoch), ("a", epoch));
        assert!(master.lease_left > Span::from_ms(4_000), "{:?}", master.lease_left);
        back.apply(|r, now| r.renew(now, G, epoch)).unwrap();
    }

    #[test]
    fn a_grant_is_on_disk_before_it_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        make_group(&store);
        let epoch = store.apply(|r, now| r.register(now, G, req("a", None))).unwrap().epoch;
        // Read while the store is still open: nothing waits in a buffer.
        let text = std::fs::read_to_string(dir.path().join("names.log")).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["record"]["highest_epoch"], epoch);
        assert_eq!(last["record"]["registration"]["member"], "a");
    }

    #[test]
    fn expiry_is_written_so_a_restart_does_not_revive_a_lapsed_lease() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        make_group(&store);
        let mut short = req("a", None);
        short.ttl = Span::from_ms(100);
        store.apply(|r, now| r.register(now, G, short)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150));
        assert_eq!(store.apply(|r, now| r.lookup(now, G)).unwrap().master, None);
        drop(store);
        let back = open(dir.path());
        let view = back.apply(|r, now| r.lookup(now, G)).unwrap();
        assert_eq!(view.master, None);
        assert_eq!(back.apply(|r, _| Ok(r.record(G).unwrap().last_end)).unwrap(), Some((1, Ending::Expired)));
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_an_earlier_bad_line_refuses_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        make_group(&store);
        store.apply(|r, now| r.register(now, G, req("a", None))).unwrap();
        drop(store);
        let path = dir.path().join("names.log");
        let good = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{good}{{\"group\": \"cities\", \"rec")).unwrap();
        let back = open(dir.path());
        assert_eq!(back.apply(|r, now| r.lookup(now, G)).unwrap().highest_epoch, 1);
        drop(back);
        std::fs::write(&path, format!("not json\n{good}")).unwrap();
        let err = Embedded::open(dir.path(), Limits::default()).err().unwrap();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn refusals_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        make_group(&store);
        let path = dir.path().join("names.log");
        let before = std::fs::read_to_string(&path).unwrap();
        assert!(store.apply(|r, now| r.register(now, G, req("zurich", None))).is_err());
        assert!(store.apply(|r, now| r.reconfigure(now, G, 5, vec!["a".into()])).is_err());
        assert!(store.apply(|r, now| r.lookup(now, "nope")).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }
}
