//! The replicated service's traffic in a replay: the requests and answers
//! between the clients and the servers, the replication messages, and each
//! member's applied index over time (docs/protocol.md KS9).

// Built without the service, no trace has its entries to read.
#![cfg_attr(not(feature = "service"), allow(dead_code))]

use crate::sim::{Answered, Flow, FlowKind};
use crate::time::Time;

/// The four steps a write takes (request, forward, ack, answer), and the
/// rest of the replication protocol's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hop {
    /// A client's request into a server.
    Request,
    /// The master's forward of entries to a backup. An empty one (a
    /// heartbeat, a read round) is [`Hop::Beat`].
    Forward,
    /// A backup's acknowledgement.
    Ack,
    /// A server's answer to a client.
    Reply,
    /// An empty forward: a heartbeat or a read round.
    Beat,
    /// Sync, Synced, Install, Gap, Stale: bringing a backup to one prefix.
    Sync,
}

impl Hop {
    /// Every hop, in legend order.
    pub const ALL: [Hop; 6] = [Hop::Request, Hop::Forward, Hop::Ack, Hop::Reply, Hop::Beat, Hop::Sync];

    pub fn name(self) -> &'static str {
        match self {
            Hop::Request => "request",
            Hop::Forward => "forward",
            Hop::Ack => "ack",
            Hop::Reply => "reply",
            Hop::Beat => "beat",
            Hop::Sync => "sync",
        }
    }
}

/// One service message: between two servers (`client` is `None`), or
/// between a client and a server (`from` or `to` is the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceCopy {
    pub hop: Hop,
    pub from: u32,
    pub to: u32,
    /// The client of a request or an answer.
    pub client: Option<u32>,
    pub send: Time,
    /// `None` when the network dropped it.
    pub arrive: Option<Time>,
    /// The replication message's kind, for the other hops.
    pub kind: Option<FlowKind>,
    /// The sequence number of a request or answer; the log index of the rest.
    pub index: u64,
    pub entries: u32,
    pub answered: Option<Answered>,
}

impl ServiceCopy {
    /// A trace entry's copy, if it is one.
    pub(super) fn of(t: Time, flow: &Flow) -> Option<ServiceCopy> {
        let copy = |hop, from, to| ServiceCopy {
            hop,
            from,
            to,
            client: None,
            send: t,
            arrive: None,
            kind: None,
            index: 0,
            entries: 0,
            answered: None,
        };
        Some(match *flow {
            Flow::Request { client, server, seq, arrive } => {
                ServiceCopy { client: Some(client), arrive: Some(arrive), index: seq, ..copy(Hop::Request, server, server) }
            }
            Flow::Reply { client, server, seq, answered, arrive } => ServiceCopy {
                client: Some(client),
                arrive: Some(arrive),
                index: seq,
                answered: Some(answered),
                ..copy(Hop::Reply, server, server)
            },
            Flow::Message { from, to, kind, index, entries, arrive, .. } => {
                let hop = match kind {
                    FlowKind::Forward if entries > 0 => Hop::Forward,
                    FlowKind::Forward => Hop::Beat,
                    FlowKind::Ack => Hop::Ack,
                    _ => Hop::Sync,
                };
                ServiceCopy { arrive, kind: Some(kind), index, entries, ..copy(hop, from, to) }
            }
            Flow::Applied { .. } | Flow::Received { .. } => return None,
        })
    }

    /// The last instant a drawing of this copy touches.
    pub fn end(&self) -> Time {
        self.arrive.unwrap_or(self.send)
    }
}

/// A member's applied index from `t` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub t: Time,
    pub row: u32,
    pub index: u64,
}
