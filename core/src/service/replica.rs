//! One member's replica: master or backup, the same engine.

use super::kv::{self, Seen, Store};
use super::*;
use std::collections::{BTreeMap, VecDeque};

/// Misuse by the driver.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("time went back: now {now:?} is before the last {last:?}")]
    TimeWentBack { now: Time, last: Time },
}

/// The replicated service's engine for one member.
#[derive(Debug)]
pub struct Replica {
    cfg: Config,
    now: Time,
    /// The highest epoch seen, persisted before it is acted on.
    epoch: u64,
    /// Applied state. A backup applies what it receives; a master what is
    /// committed.
    store: Store,
    /// Entries after the last snapshot, applied or not.
    log: Vec<Entry>,
    /// The last entry held (in `log` or the snapshot).
    last: Stamp,
    config: Membership,
    role: Role,
    out: VecDeque<Output>,
}

#[derive(Debug)]
enum Role {
    Backup { master: Option<String> },
    Master(Box<Lead>),
}

/// A master's state.
#[derive(Debug)]
struct Lead {
    /// Still bringing backups to one prefix: who has answered `Sync`.
    syncing: Option<BTreeMap<String, Synced>>,
    commit: Index,
    round: u64,
    peers: BTreeMap<String, Peer>,
    /// Writes waiting for their commit: index → connections to answer.
    waiting: BTreeMap<Index, Vec<Conn>>,
    /// Reads waiting for a round: (round, conn, key).
    reads: VecDeque<(u64, Conn, String)>,
    /// Requests held while syncing.
    held: VecDeque<(Conn, Request)>,
    /// A reconfiguration asked for and not yet answered.
    reconfiguring: bool,
    /// Whether the next flush must send a round even with no entries.
    round_due: bool,
    last_sent: Time,
}

#[derive(Debug, Clone)]
struct Synced {
    last: Stamp,
    tail: Vec<Entry>,
}

/// What the master knows of one other server.
#[derive(Debug, Clone)]
struct Peer {
    connected: bool,
    /// Everything up to here is on the peer's disk.
    acked: Stamp,
    /// Forwarded up to here (pipelined ahead of `acked`).
    sent: Index,
    /// The last round the peer acknowledged, and when it last answered.
    round: u64,
    heard: Time,
    /// When the oldest round it has not answered was sent.
    waiting_since: Option<Time>,
    /// A member of the configuration, or a server catching up to join.
    member: bool,
    /// Catching up by state transfer: when its acks reach `last` it is added.
    joining: bool,
}

impl Replica {
    /// A replica starting from what its driver recovered from disk. It is a
    /// backup until the driver says it leads.
    pub fn new(cfg: Config, recovered: Recovered) -> Replica {
        let Recovered { epoch, snapshot, entries } = recovered;
        let mut store = Store::from_snapshot(snapshot);
        for e in &entries {
            store.apply(e);
        }
        let last = entries.last().map_or(store.last(), |e| e.stamp);
        Replica {
            cfg,
            now: Time::ZERO,
            epoch,
            store,
            log: entries,
            last,
            config: Membership::default(),
            role: Role::Backup { master: None },
            out: VecDeque::new(),
        }
    }

    /// One way in.
    pub fn handle(&mut self, now: Time, input: Input) -> Result<(), UsageError> {
        if now < self.now {
            return Err(UsageError::TimeWentBack { now, last: self.now });
        }
        self.now = now;
        let _ = input;
        todo!("replica engine")
    }

    /// One way out: drain until `None`, then sleep until `poll_timeout`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to feed `Input::Timer` next.
    pub fn poll_timeout(&self) -> Deadline {
        None
    }

    /// Whether this replica is the master and serving (synced).
    pub fn serving(&self) -> bool {
        matches!(&self.role, Role::Master(l) if l.syncing.is_none())
    }

    pub fn status(&self) -> Status {
        todo!()
    }
}
