//! The replicated service: a key-value store that the elected master
//! serves and forwards to every backup, so that a failover loses no
//! acknowledged write (docs/protocol.md K1–K20, docs/guarantees.md).
//!
//! The design is PacificA's (a write commits only when every replica of
//! the configuration has it; the configuration lives with a manager, here
//! the name server, and changes by compare-and-swap) with Viewstamped
//! Replication's epochs and client table:
//!
//! - the master registers under an **epoch** (the name server's, N1) and
//!   stamps each write with `(epoch, index)`;
//! - a backup persists the highest epoch it has seen and refuses anything
//!   older, so a stale master cannot get a write acknowledged;
//! - a new master first brings every backup to one prefix, the longest
//!   log among them (no in-configuration backup ever holds an entry that
//!   the others lack and that must be undone, K9);
//! - each client's last sequence number and answer are part of the
//!   replicated state, so a retried request is applied once.
//!
//! Sans-IO like the election engine ([`crate::server`]): one way in
//! ([`Replica::handle`]), one way out ([`Replica::poll_output`], then
//! [`Replica::poll_timeout`]); time is injected. The node drives it on real
//! time with a disk and WebSockets, the simulator on virtual time.

mod history;
mod kv;
mod replica;
#[cfg(test)]
mod tests;

pub use history::{Event as HistoryEvent, History, Outcome};
pub use kv::Store;
pub use replica::Replica;

use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A position in the replicated log. Index 0 is the empty log.
pub type Index = u64;

/// Where an entry sits: the epoch of the master that first stamped it, and
/// its index. Stamps are ordered by index; two different entries never
/// share an index within one configuration's log (K9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    pub epoch: u64,
    pub index: Index,
}

/// One operation on the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
    },
    Delete {
        key: String,
    },
    /// Sets `key` to `new` (`None` deletes it) if its value is `expected`
    /// (`None`: if it is absent).
    Cas {
        key: String,
        #[serde(default)]
        expected: Option<String>,
        #[serde(default)]
        new: Option<String>,
    },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key } | Op::Put { key, .. } | Op::Delete { key } | Op::Cas { key, .. } => key,
        }
    }

    /// Whether the operation changes the store, and so goes through the
    /// log. A `get` does not: it is answered after one round to the
    /// backups (K12).
    pub fn writes(&self) -> bool {
        !matches!(self, Op::Get { .. })
    }
}

/// A client's request: its id, its sequence number (rising by one per new
/// request; a retry repeats it) and the operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub client: String,
    pub seq: u64,
    #[serde(flatten)]
    pub op: Op,
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Answer {
    /// `get`: the value, or `None` when the key is absent.
    Value { value: Option<String> },
    /// `put` and `delete`: the value before.
    Written { previous: Option<String> },
    /// `cas`: whether it swapped, and the value now.
    Swapped { ok: bool, current: Option<String> },
}

/// The answer to a client, with the `(epoch, index)` it was committed at
/// (for a `get`, the commit index it read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub epoch: u64,
    pub index: Index,
    #[serde(flatten)]
    pub answer: Answer,
}

/// A write in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub stamp: Stamp,
    pub client: String,
    pub seq: u64,
    pub op: Op,
}

/// What the client table keeps per client: its last applied sequence
/// number and that request's reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    pub seq: u64,
    pub reply: Reply,
}

/// The whole replicated state up to and including `last`: what a state
/// transfer sends and what compaction writes to disk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub last: Stamp,
    pub data: BTreeMap<String, String>,
    pub clients: BTreeMap<String, ClientRecord>,
}

/// The name server's configuration as the service uses it: its version
/// (for compare-and-swap) and its members, the master among them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub version: u64,
    pub members: Vec<String>,
}

/// Messages between replicas. Every one carries the sender's epoch: the
/// master's, or for a backup's answers the highest it has seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// A new master, or a master to a backup that (re)connected: "this is
    /// my epoch and my last entry; tell me yours and send what you hold
    /// beyond mine".
    Sync { epoch: u64, last: Stamp },
    /// A backup's answer to `Sync`, after persisting `epoch`: its last
    /// entry and the entries it holds after the master's last (K8).
    /// `join`: the backup is outside the configuration, has taken part
    /// before, and asks to be brought back (K11).
    Synced {
        epoch: u64,
        last: Stamp,
        tail: Vec<Entry>,
        #[serde(default)]
        join: bool,
    },
    /// Entries in order, starting right after `prev`, plus the master's
    /// commit index. An empty one is a heartbeat and a read round (K12).
    Forward { epoch: u64, prev: Stamp, entries: Vec<Entry>, commit: Index, round: u64 },
    /// The whole state, for a backup that joins or lags past what the
    /// master keeps in its log (K15); `Forward`s follow from `snapshot.last`.
    Install { epoch: u64, snapshot: Snapshot, commit: Index, round: u64 },
    /// A backup has everything up to `last` on disk and applied, and has
    /// seen round `round`.
    Ack { epoch: u64, last: Stamp, round: u64 },
    /// A `Forward` did not follow on from the backup's log: it has
    /// everything up to `last` (K14).
    Gap { epoch: u64, last: Stamp },
    /// The sender has seen a higher epoch than the message's: the master
    /// that sent it is stale (K4).
    Stale { epoch: u64 },
}

impl Msg {
    pub fn epoch(&self) -> u64 {
        match self {
            Msg::Sync { epoch, .. }
            | Msg::Synced { epoch, .. }
            | Msg::Forward { epoch, .. }
            | Msg::Install { epoch, .. }
            | Msg::Ack { epoch, .. }
            | Msg::Gap { epoch, .. }
            | Msg::Stale { epoch } => *epoch,
        }
    }

    /// The message's `type` on the wire, for logs and traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Sync { .. } => "sync",
            Msg::Synced { .. } => "synced",
            Msg::Forward { .. } => "forward",
            Msg::Install { .. } => "install",
            Msg::Ack { .. } => "ack",
            Msg::Gap { .. } => "gap",
            Msg::Stale { .. } => "stale",
        }
    }
}

/// The driver's number for a client connection waiting for an answer.
pub type Conn = u64;

/// What the driver feeds the replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// This member now holds the name server's registration under `epoch`:
    /// it is the master for clients, with this configuration.
    Lead {
        epoch: u64,
        config: Membership,
    },
    /// It no longer does (the lease was lost, another member registered,
    /// or the election made it a backup). Waiting clients are told the
    /// outcome is unknown.
    StepDown,
    /// The configuration at the name server, read or watched.
    Configured(Membership),
    /// The driver's `Reconfigure` was refused (the version moved, the name
    /// server could not be reached): the replica tries again later.
    ReconfigureFailed,
    /// A client's request, on connection `conn`.
    Request {
        conn: Conn,
        request: Request,
    },
    /// A message from replica `from`.
    Receive {
        from: String,
        msg: Msg,
    },
    /// The election judged `peer` failed (it was the master this member
    /// followed before it took over): a master waiting for its answer to
    /// `Sync` removes it at once instead of after `sync_timeout` (K10).
    /// Only a hint: removal is safe whatever it says, and the majority
    /// rule still holds.
    Failed {
        peer: String,
    },
    /// The connection to `peer` is up (the driver dials every server it may
    /// have to forward to) or down.
    Connected {
        peer: String,
    },
    Disconnected {
        peer: String,
    },
    /// The time [`Replica::poll_timeout`] gave has come.
    Timer,
}

/// Something to keep on disk before any output that follows it is carried
/// out (K6): a backup acknowledges only what it has persisted, and a
/// master answers only what it has. A master's `Sync`, `Forward` and
/// `Install` are the exception: they may leave before its own copy is
/// durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Durable {
    /// The highest epoch seen.
    Epoch(u64),
    /// Entries appended to the log, in order, right after the last one.
    Append(Vec<Entry>),
    /// Compaction: the state up to `snapshot.last`. Entries up to it may be
    /// dropped; the entries after it stay.
    Snapshot(Snapshot),
    /// A state transfer: the whole state is `snapshot`, and the log holds
    /// nothing after it (whatever it held is dropped).
    Install(Snapshot),
}

/// What the replica asks of its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Persist(Durable),
    Send {
        to: String,
        msg: Msg,
    },
    /// The answer for connection `conn`.
    Reply {
        conn: Conn,
        result: Result<Reply, Refusal>,
    },
    /// Change the configuration at the name server by compare-and-swap on
    /// `expected`, from the master holding `epoch`: remove a backup that
    /// stopped answering, or add one that caught up (K10, K11). The driver
    /// answers with `Configured` or `ReconfigureFailed`.
    Reconfigure {
        epoch: u64,
        expected: u64,
        members: Vec<String>,
    },
    /// Something a picture or a log of the run shows.
    Note(Note),
}

/// Milestones the driver may record or draw; they change nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// The master brought every backup to one prefix and now serves.
    Serving { epoch: u64, last: Stamp },
    /// Entries up to `index` are committed (the master) or applied.
    Applied { index: Index },
    /// The master gave up on a backup that stopped answering.
    Unresponsive { member: String },
    /// A state transfer to `member` started at `last`.
    Transfer { member: String, last: Stamp },
    /// This replica learned that `epoch` superseded its own.
    Stale { epoch: u64 },
}

/// Why a request was not carried out. `Unknown` is the one outcome that
/// may or may not have been applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum Refusal {
    /// Not the master: ask `master` (when known) instead. Nothing applied.
    #[error("not the master{}", master.as_ref().map(|m| format!("; the master is {m}")).unwrap_or_default())]
    NotMaster { master: Option<String> },
    /// The master stepped down or lost its registration while the request
    /// waited: it may or may not be applied. Retry with the same sequence
    /// number and the table answers it once.
    #[error("the master stepped down while the request waited; it may or may not have been applied")]
    Unknown,
    /// The sequence number is below the client's last one: a request that
    /// went backwards. Nothing applied.
    #[error("sequence number {seq} went backwards: the last one of client {client:?} is {last}")]
    SequenceWentBack { client: String, seq: u64, last: u64 },
    /// A key, value or client id over its limit, or empty. Nothing applied.
    #[error("bad {field}: {reason}")]
    BadRequest { field: String, reason: String },
    /// Too many requests waiting; retry later. Nothing applied.
    #[error("too many requests are waiting ({waiting}); retry later")]
    Busy { waiting: usize },
}

/// Whose fault a refusal is: the caller's, or nobody's (retry).
impl Refusal {
    pub fn retry(&self) -> bool {
        matches!(self, Refusal::NotMaster { .. } | Refusal::Unknown | Refusal::Busy { .. })
    }
}

/// The documented limits (K16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_key: usize,
    pub max_value: usize,
    pub max_client: usize,
    /// Requests waiting at the master, writes and reads together.
    pub max_waiting: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_key: 256, max_value: 64 * 1024, max_client: 64, max_waiting: 10_000 }
    }
}

/// A replica's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// This member's id, as the configuration names it.
    pub me: String,
    /// How long a backup may leave a round unanswered before the master
    /// removes it from the configuration (K10).
    pub ack_timeout: Span,
    /// How long a new master waits for a member's answer to `Sync` before
    /// it removes it (K10). Shorter than `ack_timeout`: the answer is one
    /// round trip and one fsync, and the client-visible window of every
    /// failover includes this wait for the member that failed.
    pub sync_timeout: Span,
    /// How often an idle master sends an empty `Forward` (a heartbeat).
    pub heartbeat: Span,
    /// Entries per `Forward`.
    pub max_batch: usize,
    /// Entries kept in the log before a snapshot compacts it.
    pub snapshot_every: usize,
    pub limits: Limits,
}

impl Config {
    pub fn new(me: impl Into<String>) -> Config {
        Config {
            me: me.into(),
            ack_timeout: Span::from_ms(1_000),
            sync_timeout: Span::from_ms(300),
            heartbeat: Span::from_ms(100),
            max_batch: 512,
            snapshot_every: 10_000,
            limits: Limits::default(),
        }
    }
}

/// What a replica recovers from disk at start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    pub epoch: u64,
    pub snapshot: Snapshot,
    /// The entries after `snapshot.last`, in order.
    pub entries: Vec<Entry>,
}

/// What `/api/status` and the playground show of a replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// "master", "syncing", "backup".
    pub role: String,
    /// The highest epoch seen.
    pub epoch: u64,
    pub last: Stamp,
    /// Applied entries (a master applies what is committed).
    pub applied: Index,
    pub commit: Index,
    pub keys: usize,
    /// The master's view of each backup's last acknowledged index.
    pub backups: BTreeMap<String, Index>,
    pub config_version: u64,
}

/// When a driver must feed [`Input::Timer`].
pub type Deadline = Option<Time>;
