//! Measuring the delays to every other member (docs/protocol.md M1–M5).
//!
//! Round trips come from two places, matched by `stagger_core::measured`:
//!
//! - **inquiries**: when the engine's `Inquiry` goes out to a native peer
//!   ([`sent`], called by `mesh::route`) and that peer's `InquiryReply` with
//!   the same sequence number comes back ([`received`], called by the
//!   session that accepted it). A Backup measures its master so, at no cost.
//! - **probes**: [`probe_forever`] spreads one slot per other member over
//!   each detection period and, in a peer's slot, sends it a `ping` unless
//!   an inquiry round trip with it completed within the last period. The
//!   peer answers with a `pong` at once ([`on_ping`]). So a member sends at
//!   most `N − 1` probes and answers at most `N − 1` per period.
//!
//! Pings and pongs are written to the peer's connection like protocol
//! messages, due after the emulated delay when the group emulates delays,
//! so a measured round trip includes both emulated directions, as an
//! inquiry's does. Browser members are not measured: their traffic is
//! relayed by a host, so its round trip is not a link of the matrix.

use super::{isolated, mesh, Node, PeerState};
use crate::group::MemberKind;
use crate::wire::{self, Frame};
use stagger_core::measured::{DelaysReport, Measurements, Source};
use stagger_core::{Envelope, Message, Span, Time};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What `/api/delays` says of how its numbers were obtained.
const METHOD: &str = "round trips halved: inquiry->reply with the master, ping->pong probes with the others; \
                      a one-way asymmetry is not visible without synchronized clocks (docs/protocol.md M3)";

/// One member's measurements and probe counters.
pub(super) struct Delays {
    book: Mutex<Measurements>,
    next_probe: AtomicU64,
    probes_sent: AtomicU64,
    probes_answered: AtomicU64,
}

impl Delays {
    /// For a group of `rows` members and this member's detection `period`.
    pub(super) fn new(rows: usize, period: Span) -> Delays {
        Delays {
            book: Mutex::new(Measurements::new(rows, period)),
            next_probe: AtomicU64::new(1),
            probes_sent: AtomicU64::new(0),
            probes_answered: AtomicU64::new(0),
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Measurements> {
        self.book.lock().expect("the delays lock is never poisoned")
    }
}

/// Time on the measurements' clock: since the node started.
fn now(node: &Node) -> Time {
    Time(node.started.elapsed().as_micros() as u64)
}

fn native(node: &Node, row: u32) -> bool {
    node.group.members[row as usize].kind == MemberKind::Native
}

/// `mesh::route` handed `env` to native peer `row`'s connection.
pub(super) fn sent(node: &Node, row: u32, env: &Envelope) {
    if let Message::Inquiry { seq } = env.msg {
        node.delays.book().sent(row as usize, Source::Inquiry, seq, now(node));
    }
}

/// A session accepted `env` from native peer `row`.
pub(super) fn received(node: &Node, row: u32, env: &Envelope) {
    if let Message::InquiryReply { seq } = env.msg {
        node.delays.book().answered(row as usize, Source::Inquiry, seq, now(node));
    }
}

/// Peer `row` probed this node: answer at once, down the delayed path.
pub(super) fn on_ping(node: &Node, row: u32, id: u64) {
    if !isolated(node) && send(node, row, &Frame::Pong { id }, || {}) {
        node.delays.probes_answered.fetch_add(1, Ordering::Relaxed);
    }
}

/// Peer `row` answered a probe of this node's.
pub(super) fn on_pong(node: &Node, row: u32, id: u64) {
    if !isolated(node) {
        node.delays.book().answered(row as usize, Source::Probe, id, now(node));
    }
}

/// Writes `frame` to `row`'s connection, due after the emulated delay,
/// if the connection is up; `before` runs just before, under the slots'
/// lock (so a probe is on the book before its answer can arrive).
fn send(node: &Node, row: u32, frame: &Frame, before: impl FnOnce()) -> bool {
    let slots = node.slots.lock().expect("slots lock");
    match (slots[row as usize].state, &slots[row as usize].tx) {
        (PeerState::Connected, Some(tx)) => {
            before();
            let due = tokio::time::Instant::now() + mesh::emulated_delay(node, row as usize);
            tx.send((due, wire::encode(frame))).is_ok()
        }
        _ => false,
    }
}

/// Probes the other members, one slot each per detection period, until
/// the node shuts down.
pub(super) async fn probe_forever(node: Arc<Node>) {
    let mut stop = node.shutdown.clone();
    let n = node.group.members.len() as u32;
    if n < 2 {
        return;
    }
    let period = Duration::from_micros(node.group.scenario.periods[node.me as usize].0.max(1));
    let slot = period / (n - 1);
    let mut tick = tokio::time::interval(slot);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Each slot belongs to the next row after this node's, in turn.
    let mut peer = node.me;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        peer = (peer + 1) % n;
        if peer == node.me {
            peer = (peer + 1) % n;
        }
        probe(&node, peer);
    }
}

/// Sends one probe to `row` if it is a connected native member of the
/// configuration that answered no inquiry within the last period.
fn probe(node: &Node, row: u32) {
    if isolated(node) || !native(node, row) || !node.membership().is_member(row) {
        return;
    }
    let at = now(node);
    if !node.delays.book().wants_probe(row as usize, at) {
        return;
    }
    let id = node.delays.next_probe.fetch_add(1, Ordering::Relaxed);
    let on_book = || node.delays.book().sent(row as usize, Source::Probe, id, at);
    if send(node, row, &Frame::Ping { id }, on_book) {
        node.delays.probes_sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// What `GET /api/delays` serves.
pub(super) fn report(node: &Node) -> DelaysReport {
    let at = now(node);
    let book = node.delays.book();
    let peers =
        (book.summaries(at).into_iter().enumerate()).filter_map(|(row, s)| Some((node.group.members[row].id.clone(), s?))).collect();
    let (window_samples, window_age) = book.window();
    DelaysReport {
        id: node.id().to_string(),
        peers,
        method: METHOD.to_string(),
        period_ms: node.group.scenario.periods[node.me as usize].as_ms(),
        uptime_ms: at.as_ms(),
        probes_sent: node.delays.probes_sent.load(Ordering::Relaxed),
        probes_answered: node.delays.probes_answered.load(Ordering::Relaxed),
        round_trips: book.round_trips().clone(),
        window_samples,
        window_ms: window_age.as_ms(),
    }
}
