//! A replica's disk (docs/protocol.md KN1, KN2): one `redb` database per
//! node, `replica.redb` in the node's data folder, with three tables:
//!
//! - `meta`: `"epoch"` → the highest epoch seen;
//! - `snapshot`: `"last"` → the last snapshot, as JSON;
//! - `log`: index → the entry at that index, as JSON: the entries after
//!   the snapshot.
//!
//! [`DiskStore::apply`] makes a whole batch of [`Durable`]s durable in one
//! write transaction committed with `Durability::Immediate` (an fsync):
//! the driver's group commit. redb's commit is atomic, so a crash leaves
//! either the whole batch or none of it, and what a replica acknowledged
//! (only after `apply` returned) is on disk when it restarts.
//!
//! JSON, not a binary encoding: entries and snapshots are already serde
//! types, the snapshot is written rarely (every `snapshot_every` entries or
//! on a state transfer), and the file stays readable with any redb tool.

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use stagger_core::service::{Durable, Entry, Recovered, Snapshot};
use std::path::{Path, PathBuf};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshot");
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");

/// The file in the data folder.
pub const FILE: &str = "replica.redb";

/// Why the disk could not be read or written: the machine's fault (or a
/// file that is not a replica's), never the caller's.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    /// The file holds something this version cannot read.
    #[error("{path}: corrupt replica state ({what}): {reason}")]
    Corrupt { path: String, what: String, reason: String },
}

/// A replica's durable state.
pub struct DiskStore {
    db: Database,
    path: PathBuf,
}

impl DiskStore {
    /// Opens (creating if missing) the store in folder `dir`, and what it
    /// holds.
    pub fn open(dir: &Path) -> Result<(DiskStore, Recovered), DiskError> {
        let path = dir.join(FILE);
        let io = |e: &dyn std::fmt::Display| DiskError::Io { path: path.display().to_string(), reason: e.to_string() };
        std::fs::create_dir_all(dir).map_err(|e| DiskError::Io { path: dir.display().to_string(), reason: e.to_string() })?;
        let db = Database::create(&path).map_err(|e| io(&e))?;
        let store = DiskStore { db, path };
        let recovered = store.read()?;
        Ok((store, recovered))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, e: impl std::fmt::Display) -> DiskError {
        DiskError::Io { path: self.path.display().to_string(), reason: e.to_string() }
    }

    fn corrupt(&self, what: impl Into<String>, e: impl std::fmt::Display) -> DiskError {
        DiskError::Corrupt { path: self.path.display().to_string(), what: what.into(), reason: e.to_string() }
    }

    /// What the store holds: the epoch, the snapshot and the entries after
    /// it, in order.
    fn read(&self) -> Result<Recovered, DiskError> {
        let tx = self.db.begin_read().map_err(|e| self.io(e))?;
        let missing = |e: &redb::TableError| matches!(e, redb::TableError::TableDoesNotExist(_));
        let epoch = match tx.open_table(META) {
            Ok(t) => t.get("epoch").map_err(|e| self.io(e))?.map_or(0, |v| v.value()),
            Err(e) if missing(&e) => 0,
            Err(e) => return Err(self.io(e)),
        };
        let snapshot: Snapshot = match tx.open_table(SNAPSHOT) {
            Ok(t) => match t.get("last").map_err(|e| self.io(e))? {
                Some(v) => serde_json::from_slice(v.value()).map_err(|e| self.corrupt("snapshot", e))?,
                None => Snapshot::default(),
            },
            Err(e) if missing(&e) => Snapshot::default(),
            Err(e) => return Err(self.io(e)),
        };
        let mut entries = Vec::new();
        match tx.open_table(LOG) {
            Ok(t) => {
                for row in t.range(snapshot.last.index + 1..).map_err(|e| self.io(e))? {
                    let (k, v) = row.map_err(|e| self.io(e))?;
                    let entry: Entry = serde_json::from_slice(v.value()).map_err(|e| self.corrupt(format!("entry {}", k.value()), e))?;
                    entries.push(entry);
                }
            }
            Err(e) if missing(&e) => {}
            Err(e) => return Err(self.io(e)),
        }
        Ok(Recovered { epoch, snapshot, entries })
    }

    /// Makes `batch` durable, in order, in one transaction with one fsync.
    ///
    /// - `Epoch(e)`: the highest epoch seen becomes `e`.
    /// - `Append(entries)`: written at their indexes; anything the log held
    ///   at or after the first one's index is replaced (the engine appends
    ///   right after its last entry, so normally there is none).
    /// - `Snapshot(s)`, a compaction: `s` replaces the snapshot and the
    ///   entries up to `s.last` go; the entries after it stay.
    /// - `Install(s)`, a state transfer: `s` replaces the snapshot and the
    ///   whole log goes.
    pub fn apply(&self, batch: &[Durable]) -> Result<(), DiskError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin_write().map_err(|e| self.io(e))?;
        tx.set_durability(Durability::Immediate).map_err(|e| self.io(e))?;
        {
            let mut meta = tx.open_table(META).map_err(|e| self.io(e))?;
            let mut snap = tx.open_table(SNAPSHOT).map_err(|e| self.io(e))?;
            let mut log = tx.open_table(LOG).map_err(|e| self.io(e))?;
            for d in batch {
                match d {
                    Durable::Epoch(epoch) => {
                        meta.insert("epoch", epoch).map_err(|e| self.io(e))?;
                    }
                    Durable::Append(entries) => {
                        let Some(first) = entries.first() else { continue };
                        log.retain_in(first.stamp.index.., |_, _| false).map_err(|e| self.io(e))?;
                        for entry in entries {
                            let json = serde_json::to_vec(entry).expect("entries serialize");
                            log.insert(entry.stamp.index, json.as_slice()).map_err(|e| self.io(e))?;
                        }
                    }
                    Durable::Snapshot(s) | Durable::Install(s) => {
                        if matches!(d, Durable::Install(_)) {
                            log.retain(|_, _| false).map_err(|e| self.io(e))?;
                        } else {
                            log.retain_in(..=s.last.index, |_, _| false).map_err(|e| self.io(e))?;
                        }
                        let json = serde_json::to_vec(s).expect("snapshots serialize");
                        snap.insert("last", json.as_slice()).map_err(|e| self.io(e))?;
                    }
                }
            }
        }
        tx.commit().map_err(|e| self.io(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagger_core::service::{ClientRecord, Op, Reply, Stamp};

    fn entry(epoch: u64, index: u64, key: &str, value: &str) -> Entry {
        Entry { stamp: Stamp { epoch, index }, client: "c".into(), seq: index, op: Op::Put { key: key.into(), value: value.into() } }
    }

    fn reopen(dir: &Path) -> Recovered {
        DiskStore::open(dir).unwrap().1
    }

    #[test]
    fn a_new_folder_recovers_the_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(reopen(&dir.path().join("fresh")), Recovered::default());
    }

    #[test]
    fn what_was_applied_is_there_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = DiskStore::open(dir.path()).unwrap();
        let (a, b) = (entry(3, 1, "k", "v1"), entry(3, 2, "k", "v2"));
        store.apply(&[Durable::Epoch(3), Durable::Append(vec![a.clone()]), Durable::Append(vec![b.clone()])]).unwrap();
        drop(store);
        let got = reopen(dir.path());
        assert_eq!(got.epoch, 3);
        assert_eq!(got.entries, [a, b]);
        assert_eq!(got.snapshot, Snapshot::default());
    }

    #[test]
    fn an_append_replaces_the_entries_at_and_after_its_first() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = DiskStore::open(dir.path()).unwrap();
        let old = [entry(1, 1, "a", "1"), entry(1, 2, "b", "2"), entry(1, 3, "c", "3")];
        store.apply(&[Durable::Append(old.to_vec())]).unwrap();
        let new = entry(2, 2, "b", "two");
        store.apply(&[Durable::Epoch(2), Durable::Append(vec![new.clone()])]).unwrap();
        drop(store);
        let got = reopen(dir.path());
        assert_eq!(got.entries, [old[0].clone(), new], "entry 3 of the old epoch is gone");
    }

    #[test]
    fn a_compaction_keeps_the_entries_after_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = DiskStore::open(dir.path()).unwrap();
        let log = [entry(1, 1, "a", "1"), entry(1, 2, "b", "2"), entry(1, 3, "c", "3")];
        store.apply(&[Durable::Append(log.to_vec())]).unwrap();
        let reply = Reply { epoch: 1, index: 2, answer: stagger_core::service::Answer::Written { previous: None } };
        let snapshot = Snapshot {
            last: Stamp { epoch: 1, index: 2 },
            data: [("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())].into(),
            clients: [("c".to_string(), ClientRecord { seq: 2, reply })].into(),
        };
        store.apply(&[Durable::Snapshot(snapshot.clone())]).unwrap();
        drop(store);
        let got = reopen(dir.path());
        assert_eq!(got.snapshot, snapshot);
        assert_eq!(got.entries, [log[2].clone()]);
    }

    #[test]
    fn a_state_transfer_drops_the_whole_log() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = DiskStore::open(dir.path()).unwrap();
        store.apply(&[Durable::Append(vec![entry(1, 1, "a", "1"), entry(1, 2, "b", "stale"), entry(1, 3, "c", "stale")])]).unwrap();
        let snapshot = Snapshot { last: Stamp { epoch: 4, index: 2 }, ..Snapshot::default() };
        store.apply(&[Durable::Epoch(4), Durable::Install(snapshot.clone())]).unwrap();
        drop(store);
        let got = reopen(dir.path());
        assert_eq!((got.epoch, got.snapshot, got.entries), (4, snapshot, vec![]));
    }

    #[test]
    fn a_batch_is_one_transaction() {
        // Nothing is visible on reopening before `apply` returns, and
        // everything after; here: a batch of many entries all arrive.
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = DiskStore::open(dir.path()).unwrap();
        let batch: Vec<Durable> = (1..=200).map(|i| Durable::Append(vec![entry(1, i, "k", &i.to_string())])).collect();
        store.apply(&batch).unwrap();
        drop(store);
        assert_eq!(reopen(dir.path()).entries.len(), 200);
    }

    #[test]
    fn a_file_that_is_not_a_replica_s_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"not a database, just some bytes that are long enough to look like a header").unwrap();
        let err = DiskStore::open(dir.path()).err().expect("refused");
        assert!(err.to_string().contains(FILE), "{err}");
    }
}
