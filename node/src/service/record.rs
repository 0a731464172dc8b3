//! What the replica does, in the node's flight recording (KN16): the
//! requests it was sent and how it answered them, the replication messages
//! it sent and received, and the index it has applied, in the simulator's
//! trace vocabulary (`stagger_core::sim::Flow`), so the Live tab draws the
//! store's flow on the same diagram as the election, as the Watch tab does
//! for a simulated run.
//!
//! Empty forwards (heartbeats, every 100 ms to every backup) and the
//! acknowledgements that add nothing to the last one are left out: they
//! would crowd the election's messages out of the bounded recording. Both
//! ends leave out the same ones (an acknowledgement is left out when its
//! index is the last one recorded on that connection, which both ends see
//! in the same order), so every recorded send still pairs with its receipt.

use crate::live::Node;
use stagger_core::flight::Recorder;
use stagger_core::service::{Conn, Msg, Refusal, Reply, Request};
use stagger_core::sim::{Answered, Flow, What};
use stagger_core::Time;
use std::collections::HashMap;

#[derive(Default)]
pub(super) struct Notes {
    /// Clients by id, numbered in the order this node first saw them.
    clients: HashMap<String, u32>,
    /// Each waiting request's client number and sequence number.
    asked: HashMap<Conn, (u32, u64)>,
    /// The last acknowledged index recorded per connection, by direction.
    acked_to: HashMap<String, u64>,
    acked_from: HashMap<String, u64>,
}

/// The engine's clock: µs since the Unix epoch, as the flight recording's.
fn now() -> Time {
    Time(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64))
}

fn record(node: &Node, f: impl FnOnce(&mut Recorder, Time)) {
    let t = now();
    node.flight().record(|r| f(r, t));
}

/// Whether a message is worth a line: not a heartbeat, not an ack that
/// repeats the last one on its connection (`last`).
fn worth(msg: &Msg, last: &mut HashMap<String, u64>, peer: &str) -> bool {
    match msg {
        Msg::Forward { entries, .. } => !entries.is_empty(),
        Msg::Ack { last: l, .. } => last.insert(peer.to_owned(), l.index) != Some(l.index),
        _ => true,
    }
}

impl Notes {
    pub(super) fn request(&mut self, node: &Node, conn: Conn, request: &Request) {
        let next = self.clients.len() as u32;
        let client = *self.clients.entry(request.client.clone()).or_insert(next);
        self.asked.insert(conn, (client, request.seq));
        let server = node.me;
        record(node, |r, t| r.record(t, What::Service(Flow::Request { client, server, seq: request.seq, arrive: t })));
    }

    pub(super) fn reply(&mut self, node: &Node, conn: Conn, result: &Result<Reply, Refusal>) {
        let Some((client, seq)) = self.asked.remove(&conn) else { return };
        let answered = match result {
            Ok(_) => Answered::Ok,
            Err(Refusal::NotMaster { .. }) => Answered::NotMaster,
            Err(Refusal::Unknown) => Answered::Unknown,
            Err(Refusal::Busy { .. }) => Answered::Busy,
            Err(_) => Answered::Refused,
        };
        let server = node.me;
        record(node, |r, t| r.record(t, What::Service(Flow::Reply { client, server, seq, answered, arrive: t })));
    }

    pub(super) fn sent(&mut self, node: &Node, to: &str, msg: &Msg) {
        let Some(row) = node.group.row_of(to) else { return };
        if worth(msg, &mut self.acked_to, to) {
            record(node, |r, t| r.service_send(t, row, msg));
        }
    }

    pub(super) fn received(&mut self, node: &Node, from: &str, msg: &Msg) {
        let Some(row) = node.group.row_of(from) else { return };
        if worth(msg, &mut self.acked_from, from) {
            record(node, |r, t| r.service_receipt(t, row, msg));
        }
    }

    pub(super) fn applied(&self, node: &Node, index: u64) {
        let server = node.me;
        record(node, |r, t| r.record(t, What::Service(Flow::Applied { server, index })));
    }
}
