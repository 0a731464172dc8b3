//! The replicated service's entries in a trace: a client's request into a
//! server and the answer out of it, the replication messages between the
//! members, and each member's applied index (docs/protocol.md KS5).
//!
//! One entry per message, at its send, with its arrival (or none when the
//! network dropped it): a picture needs nothing more, and a storm of
//! forwards costs one entry each rather than three.

use crate::service::Msg as ServiceMsg;
use crate::time::Time;
use serde::{Deserialize, Serialize};

/// A replication message's kind, as [`crate::service::Msg::kind`] names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    Sync,
    Synced,
    Forward,
    Install,
    Ack,
    Gap,
    Stale,
}

impl FlowKind {
    pub fn name(self) -> &'static str {
        match self {
            FlowKind::Sync => "sync",
            FlowKind::Synced => "synced",
            FlowKind::Forward => "forward",
            FlowKind::Install => "install",
            FlowKind::Ack => "ack",
            FlowKind::Gap => "gap",
            FlowKind::Stale => "stale",
        }
    }
}

/// How a server answered a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answered {
    Ok,
    NotMaster,
    Unknown,
    Busy,
    Refused,
}

/// One service entry. Servers are rows; clients are numbered from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
pub enum Flow {
    /// Client `client` sends request `seq` to `server`.
    Request { client: u32, server: u32, seq: u64, arrive: Time },
    /// `server` answers client `client`'s request `seq`.
    Reply { client: u32, server: u32, seq: u64, answered: Answered, arrive: Time },
    /// A replication message. `epoch` is the sender's; `index` the last
    /// log index it speaks of (a forward's last entry, an ack's last
    /// entry held); `entries` how many entries it carries.
    Message { id: u64, from: u32, to: u32, kind: FlowKind, epoch: u64, index: u64, entries: u32, arrive: Option<Time> },
    /// `server` has applied everything up to `index` (a master: committed).
    Applied { server: u32, index: u64 },
    /// A live node's receipt of a replication message, in its flight
    /// recording only: [`crate::flight::merge`] pairs it with its `Message`
    /// (filling `arrive`) and drops it, so no trace holds one.
    Received { from: u32, to: u32, kind: FlowKind, index: u64 },
}

impl Flow {
    /// The summary of a replication message the trace keeps: its kind, the
    /// index it speaks of, and how many entries it carries.
    pub fn summary(msg: &ServiceMsg) -> (FlowKind, u64, u32) {
        match msg {
            ServiceMsg::Sync { last, .. } => (FlowKind::Sync, last.index, 0),
            ServiceMsg::Synced { last, tail, .. } => (FlowKind::Synced, last.index, tail.len() as u32),
            ServiceMsg::Forward { prev, entries, .. } => (FlowKind::Forward, prev.index + entries.len() as u64, entries.len() as u32),
            ServiceMsg::Install { snapshot, .. } => (FlowKind::Install, snapshot.last.index, 0),
            ServiceMsg::Ack { last, .. } => (FlowKind::Ack, last.index, 0),
            ServiceMsg::Gap { last, .. } => (FlowKind::Gap, last.index, 0),
            ServiceMsg::Stale { .. } => (FlowKind::Stale, 0, 0),
        }
    }

    /// Whether every server the entry names is below `rows`.
    pub fn within(&self, rows: u32) -> bool {
        match *self {
            Flow::Request { server, .. } | Flow::Reply { server, .. } | Flow::Applied { server, .. } => server < rows,
            Flow::Message { from, to, .. } | Flow::Received { from, to, .. } => from < rows && to < rows,
        }
    }
}
