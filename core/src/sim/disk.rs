//! A simulated member's disk (docs/protocol.md KS4): the writes a replica
//! asked for, each durable `fsync_ms` after the one before; a crash loses
//! those not yet done, and a restart recovers the rest.

use crate::service::{Durable, Entry, Recovered, Snapshot};
use crate::time::Time;
use std::collections::VecDeque;

/// What a member has on disk: what a restart recovers.
#[derive(Default)]
pub(super) struct Disk {
    epoch: u64,
    snapshot: Snapshot,
    entries: Vec<Entry>,
    /// Writes under way, with when each is durable.
    pub(super) pending: VecDeque<(Time, Durable)>,
}

impl Disk {
    /// Makes durable every write done by `now`.
    pub(super) fn settle(&mut self, now: Time) {
        while self.pending.front().is_some_and(|(t, _)| *t <= now) {
            let (_, d) = self.pending.pop_front().expect("checked");
            match d {
                Durable::Epoch(e) => self.epoch = e,
                Durable::Append(es) => self.entries.extend(es),
                Durable::Snapshot(s) => {
                    self.entries.retain(|e| e.stamp.index > s.last.index);
                    self.snapshot = s;
                }
                Durable::Install(s) => {
                    self.entries.clear();
                    self.snapshot = s;
                }
            }
        }
    }

    pub(super) fn recovered(&self) -> Recovered {
        Recovered { epoch: self.epoch, snapshot: self.snapshot.clone(), entries: self.entries.clone() }
    }
}
