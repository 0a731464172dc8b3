//! The etcd backend: the same registry as the embedded backend, its state
//! kept in an etcd cluster instead of a file, so that the name server
//! survives the loss of a minority of etcd members (docs/protocol.md
//! N17–N19).
//!
//! Every operation reads the group's keys (one etcd transaction, so one
//! revision), replays the request on a one-group [`Registry`] restored from
//! the record, and, when the registry changed the record, writes the new
//! record, the new changes and the `master` key in one transaction that
//! compares the `mod_revision`s it read: a concurrent writer (another name
//! server in front of the same cluster, the expiry task) makes it read
//! again and retry. Refusals are therefore the registry's own, exactly
//! those of the embedded backend; and etcd answers a write only once a
//! quorum has it, so every grant is durable before it is returned.
//!
//! The lease is an etcd lease attached to the `master` key: etcd judges
//! its expiry, and a registration is live while its `master` key exists.
//! The registry's clock is set, per operation, so that its expiry instant
//! matches what etcd says is left of the lease (N18).

mod conn;
mod keys;
mod watcher;

pub use keys::DEFAULT_PREFIX;
pub use watcher::EtcdWatcher;

use super::{NameStore, StorageError, StoreError};
use conn::{Conn, Retry};
use etcd_client::{Compare, CompareOp, DeleteOptions, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse};
use keys::{encode, Keys};
use stagger_core::names::{Change, Configuration, Feed, Grant, GroupRecord, Limits, NameError, Register, Registry, View};
use stagger_core::{Span, Time};
use std::sync::Arc;

/// A second, in the registry's microseconds: etcd's leases are whole
/// seconds.
const SECOND: u64 = 1_000_000;

/// How often one operation reads again after a concurrent write.
const TRIES: usize = 32;

/// A handle to the etcd backend; clones share the connection.
#[derive(Clone)]
pub struct Etcd(Arc<Inner>);

struct Inner {
    conn: Conn,
    /// The endpoints as given, for error messages.
    url: String,
    limits: Limits,
    keys: Keys,
}

/// What one read saw of a group, at one etcd revision.
struct Snap {
    record: Option<GroupRecord>,
    /// The record's `mod_revision` (0: no record).
    record_rev: i64,
    /// The `master` key: the epoch it names and its lease.
    master: Option<(u64, i64)>,
    master_rev: i64,
    /// What etcd says is left of the master's lease (whole seconds,
    /// rounded down); `None` when the lease is gone.
    left: Option<Span>,
    /// The stored changes read along (for `changes`).
    stored: Vec<Change>,
}

impl Snap {
    fn seq(&self) -> u64 {
        self.record.as_ref().map_or(0, |r| r.seq)
    }
}

/// The outcome of one operation replayed on the registry and written.
struct Done<T> {
    result: Result<T, NameError>,
    snap: Snap,
    /// The registry's clock for this operation.
    now: Time,
    /// The changes the operation made (written with it).
    made: Vec<Change>,
    /// The etcd lease granted for a new registration and its length.
    lease: Option<(i64, Span)>,
}

impl Etcd {
    /// Connects to the cluster at `endpoints` (`http://host:port`), keeping
    /// the name server's keys under [`DEFAULT_PREFIX`].
    pub async fn connect(endpoints: &[String], limits: Limits) -> Result<Etcd, StoreError> {
        Etcd::connect_with_prefix(endpoints, DEFAULT_PREFIX, limits).await
    }

    /// As [`Etcd::connect`], under `prefix` (tests give each store its own).
    /// The lease bounds are rounded to whole seconds, inwards (at least 1 s),
    /// since etcd's leases are (N18).
    pub async fn connect_with_prefix(endpoints: &[String], prefix: &str, limits: Limits) -> Result<Etcd, StoreError> {
        let url = endpoints.join(",");
        let min = whole_seconds_up(limits.min_ttl);
        let max = Span(((limits.max_ttl.0 / SECOND) * SECOND).max(min.0));
        let limits = Limits { min_ttl: min, max_ttl: max, ..limits };
        let conn = Conn::connect(endpoints).await.map_err(|e| StoreError::Unreachable { url: url.clone(), reason: e.to_string() })?;
        let store = Etcd(Arc::new(Inner { conn, url, limits, keys: Keys::new(prefix) }));
        // Fails now rather than at the first request when nothing answers.
        store.0.conn.call(Retry::Transient, |mut c| async move { c.status().await }).await.map_err(|e| store.unreachable(e))?;
        Ok(store)
    }

    /// The lease bounds in force (whole seconds).
    pub fn limits(&self) -> Limits {
        self.0.limits
    }

    fn conn(&self) -> &Conn {
        &self.0.conn
    }

    fn unreachable(&self, e: etcd_client::Error) -> StoreError {
        StoreError::Unreachable { url: self.0.url.clone(), reason: e.to_string() }
    }

    fn bad_answer(&self, key: &str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::BadAnswer { url: self.0.url.clone(), reason: format!("an unreadable {key}: {reason}") }
    }

    /// Reads `group`'s record and `master` key (and its changes after
    /// `after`, if given) in one transaction, then the lease's time left.
    async fn read(&self, group: &str, after: Option<u64>) -> Result<Snap, StoreError> {
        let keys = &self.0.keys;
        let mut ops = vec![TxnOp::get(keys.record(group), None), TxnOp::get(keys.master(group), None)];
        if let Some(after) = after {
            let from = keys.change(group, after.saturating_add(1));
            ops.push(TxnOp::get(from, Some(GetOptions::new().with_range(keys.changes_end(group)))));
        }
        let txn = Txn::new().and_then(ops);
        let resp = self.conn().call(Retry::Transient, |c| txn_on(c, &txn)).await.map_err(|e| self.unreachable(e))?;
        let gets: Vec<_> = resp
            .op_responses()
            .into_iter()
            .filter_map(|r| match r {
                TxnOpResponse::Get(g) => Some(g),
                _ => None,
            })
            .collect();
        let mut snap = Snap { record: None, record_rev: 0, master: None, master_rev: 0, left: None, stored: Vec::new() };
        if let Some(kv) = gets.first().and_then(|g| g.kvs().first()) {
            let record = serde_json::from_slice(kv.value()).map_err(|e| self.bad_answer(&keys.record(group), e))?;
            snap.record = Some(record);
            snap.record_rev = kv.mod_revision();
        }
        if let Some(kv) = gets.get(1).and_then(|g| g.kvs().first()) {
            let epoch = std::str::from_utf8(kv.value()).ok().and_then(|s| s.parse().ok());
            let epoch = epoch.ok_or_else(|| self.bad_answer(&keys.master(group), "not an epoch"))?;
            snap.master = Some((epoch, kv.lease()));
            snap.master_rev = kv.mod_revision();
        }
        if let Some(g) = gets.get(2) {
            for kv in g.kvs() {
                let change = serde_json::from_slice(kv.value()).map_err(|e| self.bad_answer("change", e))?;
                snap.stored.push(change);
            }
        }
        if let Some((_, lease)) = snap.master {
            let resp = self.conn().call(Retry::Transient, |mut c| async move { c.lease_time_to_live(lease, None).await });
            let ttl = resp.await.map_err(|e| self.unreachable(e))?.ttl();
            // -1: the lease is gone (its key goes with it at once).
            snap.left = (ttl >= 0).then(|| Span(ttl as u64 * SECOND));
        }
        Ok(snap)
    }

    /// A one-group registry holding what `snap` read, and the instant on
    /// its clock that makes its lease end when etcd's does: a live lease
    /// has what etcd says is left of it (at least 1 µs, since etcd rounds
    /// down), a gone one has just expired.
    fn restore(&self, group: &str, snap: &Snap) -> (Registry, Time) {
        let registry = Registry::restore(self.0.limits, Time::ZERO, snap.record.clone().map(|r| (group.to_owned(), r)));
        let now = match snap.record.as_ref().and_then(|r| r.registration.as_ref()) {
            None => Time::ZERO,
            Some(reg) => match (snap.master, snap.left) {
                (Some((epoch, _)), Some(left)) if epoch == reg.epoch => Time(reg.ttl.0 - left.0.clamp(1, reg.ttl.0)),
                _ => Time(reg.ttl.0),
            },
        };
        (registry, now)
    }

    /// Runs `op` on the group as etcd holds it, and writes what it changed
    /// (with a new lease when `lease_for` asks for one) in a transaction
    /// conditional on what was read; reads again when another writer came
    /// first.
    async fn run<T>(
        &self,
        group: &str,
        after: Option<u64>,
        op: impl Fn(&mut Registry, Time) -> Result<T, NameError>,
        lease_for: impl Fn(&T) -> Option<Span>,
    ) -> Result<Done<T>, StoreError> {
        for _ in 0..TRIES {
            let snap = self.read(group, after).await?;
            let (mut registry, now) = self.restore(group, &snap);
            let result = op(&mut registry, now);
            if registry.take_dirty().is_empty() {
                return Ok(Done { result, snap, now, made: Vec::new(), lease: None });
            }
            let mut record = registry.record(group).cloned().expect("a changed group exists");
            let made = match registry.changes(now, group, snap.seq()) {
                Ok(Feed::Changes { changes }) => changes,
                _ => unreachable!("a registry keeps the changes it just made"),
            };
            let lease = match result.as_ref().ok().and_then(&lease_for) {
                Some(ttl) => Some(self.grant(ttl).await?),
                None => None,
            };
            if let (Some((_, granted)), Some(reg)) = (lease, record.registration.as_mut()) {
                reg.ttl = granted;
            }
            if self.commit(group, &snap, &record, &made, lease.map(|l| l.0)).await? {
                if let Some((old_epoch, old_lease)) = snap.master {
                    if record.registration.as_ref().map(|r| r.epoch) != Some(old_epoch) {
                        // Its key is gone already; this frees the lease.
                        self.revoke(old_lease).await;
                    }
                }
                return Ok(Done { result, snap, now, made, lease });
            }
            if let Some((id, _)) = lease {
                self.revoke(id).await;
            }
        }
        Err(StoreError::Storage(StorageError {
            action: "compare-and-swap",
            path: self.0.keys.record(group).into(),
            reason: format!("another writer changed the group each of {TRIES} times"),
        }))
    }

    /// Grants an etcd lease of `ttl` rounded up to whole seconds. etcd may
    /// grant more (its own minimum is 1.5 election timeouts); the answer
    /// says what it granted.
    async fn grant(&self, ttl: Span) -> Result<(i64, Span), StoreError> {
        let secs = whole_seconds_up(ttl).0 / SECOND;
        let resp = self.conn().call(Retry::Transient, |mut c| async move { c.lease_grant(secs as i64, None).await });
        let resp = resp.await.map_err(|e| self.unreachable(e))?;
        Ok((resp.id(), Span(resp.ttl().max(1) as u64 * SECOND)))
    }

    /// Frees a lease nobody uses any more; one that outlives a failure
    /// here runs out by itself.
    async fn revoke(&self, lease: i64) {
        let _ = self.conn().call(Retry::Transient, |mut c| async move { c.lease_revoke(lease).await }).await;
    }

    /// Writes `record`, its new changes and the `master` key if nobody
    /// wrote the group since `snap`; `false` if somebody did.
    async fn commit(
        &self,
        group: &str,
        snap: &Snap,
        record: &GroupRecord,
        made: &[Change],
        lease: Option<i64>,
    ) -> Result<bool, StoreError> {
        let keys = &self.0.keys;
        let (record_key, master_key) = (keys.record(group), keys.master(group));
        let when = vec![
            Compare::mod_revision(record_key.clone(), CompareOp::Equal, snap.record_rev),
            Compare::mod_revision(master_key.clone(), CompareOp::Equal, snap.master_rev),
        ];
        let mut ops = vec![TxnOp::put(record_key, encode(record), None)];
        for change in made {
            ops.push(TxnOp::put(keys.change(group, change.seq), serde_json::to_string(change).expect("a change serializes"), None));
        }
        let keep = self.0.limits.feed_len.max(1) as u64;
        if record.seq > keep {
            let below = keys.change(group, record.seq - keep + 1);
            ops.push(TxnOp::delete(keys.change(group, 0), Some(DeleteOptions::new().with_range(below))));
        }
        match (&record.registration, snap.master) {
            (Some(reg), Some((epoch, _))) if reg.epoch == epoch => {}
            (Some(reg), _) => {
                let lease = lease.expect("a new registration comes with its lease");
                ops.push(TxnOp::put(master_key, reg.epoch.to_string(), Some(PutOptions::new().with_lease(lease))));
            }
            (None, Some(_)) => ops.push(TxnOp::delete(master_key, None)),
            (None, None) => {}
        }
        let txn = Txn::new().when(when).and_then(ops);
        let resp = self.conn().call(Retry::Unsent, |c| txn_on(c, &txn)).await.map_err(|e| self.unreachable(e))?;
        Ok(resp.succeeded())
    }

    /// Writes the end of a lease etcd expired, if nobody did yet: what
    /// `lookup` does, without the answer. Used by the expiry task.
    async fn settle(&self, group: &str) -> Result<(), StoreError> {
        self.run(group, None, |r, now| r.lookup(now, group), |_| None).await.map(|_| ())
    }
}

/// One transaction on `client`.
fn txn_on(
    mut client: etcd_client::Client,
    txn: &Txn,
) -> impl std::future::Future<Output = Result<etcd_client::TxnResponse, etcd_client::Error>> {
    let txn = txn.clone();
    async move { client.txn(txn).await }
}

/// `ttl` rounded up to whole seconds, at least one.
fn whole_seconds_up(ttl: Span) -> Span {
    Span(ttl.0.div_ceil(SECOND).max(1) * SECOND)
}

impl NameStore for Etcd {
    /// The grant's `expires` is on this operation's registry clock (N18),
    /// meaningful only next to the grant; etcd holds the real expiry.
    async fn register(&self, group: &str, mut req: Register) -> Result<Grant, StoreError> {
        req.ttl = whole_seconds_up(req.ttl);
        let done = self.run(group, None, |r, now| r.register(now, group, req.clone()), |g: &Grant| Some(g.ttl)).await?;
        let mut grant = done.result?;
        if let Some((_, granted)) = done.lease {
            grant.ttl = granted;
            grant.expires = done.now + granted;
        }
        Ok(grant)
    }

    async fn renew(&self, group: &str, epoch: u64) -> Result<Grant, StoreError> {
        for _ in 0..TRIES {
            let done = self.run(group, None, |r, now| r.renew(now, group, epoch), |_| None).await?;
            let grant = done.result?;
            let (_, lease) = done.snap.master.expect("a renewed registration has its key");
            let kept = self.conn().call(Retry::Transient, |mut c| async move { c.lease_keep_alive(lease).await.map(|_| ()) });
            match kept.await {
                Ok(_) => return Ok(grant),
                // The lease ran out between the read and the renewal: read
                // again, and the registry says `Expired` (or who replaced it).
                Err(etcd_client::Error::LeaseKeepAliveError(_)) => continue,
                Err(e) => return Err(self.unreachable(e)),
            }
        }
        Err(StoreError::Unreachable { url: self.0.url.clone(), reason: "etcd kept refusing to renew a lease it reported live".into() })
    }

    async fn resign(&self, group: &str, epoch: u64) -> Result<(), StoreError> {
        Ok(self.run(group, None, |r, now| r.resign(now, group, epoch), |_| None).await?.result?)
    }

    async fn reconfigure(&self, group: &str, expected: u64, members: Vec<String>) -> Result<Configuration, StoreError> {
        Ok(self.run(group, None, |r, now| r.reconfigure(now, group, expected, members.clone()), |_| None).await?.result?)
    }

    async fn lookup(&self, group: &str) -> Result<View, StoreError> {
        Ok(self.run(group, None, |r, now| r.lookup(now, group), |_| None).await?.result?)
    }

    /// The stored changes after `after` and any this call wrote (an expiry
    /// etcd carried out), or `Behind` when some are no longer kept.
    async fn changes(&self, group: &str, after: u64) -> Result<Feed, StoreError> {
        let done = self.run(group, Some(after), |r, now| r.lookup(now, group), |_| None).await?;
        let seq = done.result?.seq;
        if after > seq {
            return Ok(Feed::Behind { seq });
        }
        let changes: Vec<Change> = done.snap.stored.into_iter().chain(done.made).filter(|c| c.seq > after).collect();
        let whole = changes.len() as u64 == seq - after && changes.first().is_none_or(|c| c.seq == after + 1);
        Ok(if whole { Feed::Changes { changes } } else { Feed::Behind { seq } })
    }

    type Watcher = EtcdWatcher;

    async fn watch(&self, group: &str, after: Option<u64>) -> Result<EtcdWatcher, StoreError> {
        EtcdWatcher::start(self.clone(), group, after).await
    }
}
