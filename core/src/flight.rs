//! Flight recordings of live nodes, and one trace made of them.
//!
//! A live node (`stagger node`) records what its engine did in the
//! simulator's own [`TraceEvent`] vocabulary, in engine time (µs since the
//! Unix epoch on the node's clock): its role changes and election delays,
//! every copy it sends and every message it receives. An observer fetches
//! the recordings of all members and [`merge`]s them into one [`Trace`],
//! which the simulator's renderer draws like any simulated run. That is how
//! the playground's Live tab shows a running group on the same space-time
//! diagram as a simulation.
//!
//! A node cannot know when its copy arrives, and a receiver cannot know the
//! sender's copy id, so [`merge`] pairs each receipt with its send: same
//! sender, receiver and message, first in first out per ordered pair
//! (members talk over one TCP connection per pair, which keeps order). A
//! send never received stays `arrive: None` and is drawn as lost, which is
//! what it was (its receiver was down, isolated or not connected).
//!
//! The clocks of nodes on one machine agree; across machines the diagram is
//! as good as their clock synchronisation, and a receipt stamped before its
//! send is drawn arriving at the send instant.

use crate::message::{Envelope, Msg};
use crate::ranking::RankTable;
use crate::server::{Note, Output};
use crate::service::Msg as ServiceMsg;
use crate::sim::{Flow, FlowKind, Trace, TraceEvent, What};
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// What one node recorded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// The node's row in the group's scenario.
    pub row: u32,
    /// In time order.
    pub events: Vec<TraceEvent>,
}

/// A bounded recorder for one node.
///
/// Role changes are kept apart from the message traffic and for longer, so
/// that a recording always says what role the node had when its oldest
/// message was sent, however chatty the group has been since.
#[derive(Clone, Debug)]
pub struct Recorder {
    row: u32,
    cap: usize,
    traffic: VecDeque<TraceEvent>,
    roles: VecDeque<TraceEvent>,
}

/// How many role changes a [`Recorder`] keeps.
pub const ROLE_CAP: usize = 64;

impl Recorder {
    /// A recorder for `row` that keeps its last `cap` messages.
    pub fn new(row: u32, cap: usize) -> Recorder {
        Recorder { row, cap: cap.max(1), traffic: VecDeque::new(), roles: VecDeque::new() }
    }

    /// Records one event. Role changes and notes go to the long list;
    /// sends and receipts to the bounded traffic list.
    pub fn record(&mut self, t: Time, what: What) {
        let (list, cap) = match what {
            What::Role { .. } | What::Note { .. } => (&mut self.roles, ROLE_CAP),
            _ => (&mut self.traffic, self.cap),
        };
        if list.len() == cap {
            list.pop_front();
        }
        list.push_back(TraceEvent { t, what });
    }

    /// Records what one engine output at `t` means to an observer: every
    /// copy of a send (one per receiving row), role changes (the master as
    /// a row), and the notes the Live view draws or reads out (an election
    /// delay, a master found failed). Timers and the rest are the engine's
    /// own business. Every driver of a live member (a node, a browser tab)
    /// records through this, so their recordings say the same things.
    pub fn output(&mut self, t: Time, o: &Output, table: &RankTable) {
        match o {
            Output::Send { to, env } => {
                let from = self.row;
                for r in table.destinations(*to, env.from) {
                    self.record(t, What::Send { id: 0, from, to: r, msg: env.msg.into(), arrive: None });
                }
            }
            Output::Role { role, master } => {
                let master = master.filter(|i| (*i as usize) < table.len()).map(|i| table.row(i));
                self.record(t, What::Role { server: self.row, role: *role, master });
            }
            Output::Note(note @ (Note::ElectionDelay { .. } | Note::MasterFailed { .. })) => {
                self.record(t, What::Note { server: self.row, note: *note });
            }
            _ => {}
        }
    }

    /// Records the receipt of `env` at `t`, once the engine took it.
    pub fn receipt(&mut self, t: Time, env: &Envelope, table: &RankTable) {
        if (env.from as usize) < table.len() {
            self.record(t, What::Deliver { id: 0, from: table.row(env.from), to: self.row, msg: env.msg.into() });
        }
    }

    /// Records a replication message of the store this node sent to row
    /// `to` (docs/protocol.md KS5's vocabulary; KN16).
    pub fn service_send(&mut self, t: Time, to: u32, msg: &ServiceMsg) {
        let (kind, index, entries) = Flow::summary(msg);
        let from = self.row;
        self.record(t, What::Service(Flow::Message { id: 0, from, to, kind, epoch: msg.epoch(), index, entries, arrive: None }));
    }

    /// Records the receipt of a replication message from row `from`, for
    /// [`merge`] to pair with its send.
    pub fn service_receipt(&mut self, t: Time, from: u32, msg: &ServiceMsg) {
        let (kind, index, _) = Flow::summary(msg);
        let to = self.row;
        self.record(t, What::Service(Flow::Received { from, to, kind, index }));
    }

    /// Everything kept, in time order (role changes first at equal times).
    pub fn recording(&self) -> Recording {
        let mut events: Vec<TraceEvent> = self.roles.iter().chain(self.traffic.iter()).cloned().collect();
        events.sort_by_key(|e| e.t);
        Recording { row: self.row, events }
    }
}

/// One trace of a whole group from its members' recordings.
///
/// Sends get fresh ids, in time order; each receipt fills in the `arrive`
/// of the send it pairs with (see the module docs) and is then dropped, as
/// the renderer draws arrows from sends. Role changes and notes are kept as
/// they are. Events of rows outside `0..rows` are dropped.
pub fn merge(parts: &[Recording], rows: u32) -> Trace {
    let mut all: Vec<TraceEvent> = parts.iter().flat_map(|p| p.events.iter().filter(|e| touches_only(&e.what, rows)).cloned()).collect();
    // Stable: at one instant, a node's own order is kept.
    all.sort_by_key(|e| e.t);

    // Unpaired sends per (from, to, message), oldest first, as indexes into `out`.
    let mut waiting: HashMap<(u32, u32, Msg), VecDeque<usize>> = HashMap::new();
    let mut out: Vec<TraceEvent> = Vec::with_capacity(all.len());
    let mut receipts = Vec::new();
    // The same for the store's replication messages, by (from, to, kind, index).
    let mut waiting_flow: HashMap<(u32, u32, FlowKind, u64), VecDeque<usize>> = HashMap::new();
    let mut flow_receipts = Vec::new();
    let mut next_id = 0u64;
    let mut next_flow = 0u64;
    for e in all {
        match e.what {
            What::Service(Flow::Message { from, to, kind, epoch, index, entries, .. }) => {
                waiting_flow.entry((from, to, kind, index)).or_default().push_back(out.len());
                let what = What::Service(Flow::Message { id: next_flow, from, to, kind, epoch, index, entries, arrive: None });
                out.push(TraceEvent { t: e.t, what });
                next_flow += 1;
            }
            What::Service(Flow::Received { from, to, kind, index }) => flow_receipts.push((e.t, (from, to, kind, index))),
            What::Send { from, to, msg, .. } => {
                waiting.entry((from, to, msg)).or_default().push_back(out.len());
                out.push(TraceEvent { t: e.t, what: What::Send { id: next_id, from, to, msg, arrive: None } });
                next_id += 1;
            }
            What::Deliver { from, to, msg, .. } => receipts.push((e.t, from, to, msg)),
            _ => out.push(e),
        }
    }
    // Receipts in time order; each takes the oldest waiting send it can.
    for (t, from, to, msg) in receipts {
        let Some(q) = waiting.get_mut(&(from, to, msg)) else { continue };
        if let Some(i) = q.pop_front() {
            let sent = out[i].t;
            if let What::Send { arrive, .. } = &mut out[i].what {
                *arrive = Some(t.max(sent));
            }
        }
    }
    for (t, key) in flow_receipts {
        let Some(i) = waiting_flow.get_mut(&key).and_then(VecDeque::pop_front) else { continue };
        let sent = out[i].t;
        if let What::Service(Flow::Message { arrive, .. }) = &mut out[i].what {
            *arrive = Some(t.max(sent));
        }
    }
    Trace { events: out }
}

fn touches_only(what: &What, rows: u32) -> bool {
    match what {
        What::Send { from, to, .. } | What::Deliver { from, to, .. } | What::Drop { from, to, .. } => *from < rows && *to < rows,
        What::Role { server, .. } | What::Timer { server, .. } | What::Refused { server, .. } | What::Note { server, .. } => *server < rows,
        What::Fault { .. } => true,
        What::Service(flow) => flow.within(rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::server::Role;

    fn send(t: u64, from: u32, to: u32, msg: Message) -> TraceEvent {
        TraceEvent { t: Time(t), what: What::Send { id: 0, from, to, msg: msg.into(), arrive: None } }
    }
    fn recv(t: u64, from: u32, to: u32, msg: Message) -> TraceEvent {
        TraceEvent { t: Time(t), what: What::Deliver { id: 0, from, to, msg: msg.into() } }
    }

    #[test]
    fn the_stores_messages_pair_with_their_receipts_and_receipts_leave_the_trace() {
        use crate::service::{Msg as S, Stamp};
        let fwd = |i: u64| S::Forward { epoch: 2, prev: Stamp { epoch: 2, index: i - 1 }, entries: Vec::new(), commit: 0, round: 1 };
        let ack = |i: u64| S::Ack { epoch: 2, last: Stamp { epoch: 2, index: i }, round: 1 };
        let mut master = Recorder::new(0, 100);
        let mut backup = Recorder::new(1, 100);
        master.service_send(Time(10), 1, &fwd(5));
        master.service_send(Time(12), 2, &fwd(5)); // row 2 never gets it
        backup.service_receipt(Time(14), 0, &fwd(5));
        backup.service_send(Time(15), 0, &ack(4));
        master.service_receipt(Time(19), 1, &ack(4));
        master.record(Time(20), What::Service(Flow::Applied { server: 0, index: 4 }));
        let t = merge(&[master.recording(), backup.recording()], 3);
        let got: Vec<(u64, u32, u32, FlowKind, Option<u64>)> = t
            .events
            .iter()
            .filter_map(|e| match e.what {
                What::Service(Flow::Message { from, to, kind, arrive, .. }) => Some((e.t.0, from, to, kind, arrive.map(|a| a.0))),
                What::Service(Flow::Received { .. }) => panic!("a receipt left in the trace"),
                _ => None,
            })
            .collect();
        assert_eq!(
            got,
            [(10, 0, 1, FlowKind::Forward, Some(14)), (12, 0, 2, FlowKind::Forward, None), (15, 1, 0, FlowKind::Ack, Some(19))]
        );
        assert!(t.events.iter().any(|e| matches!(e.what, What::Service(Flow::Applied { server: 0, index: 4 }))));
    }

    #[test]
    fn receipts_pair_with_their_sends_in_order_and_lost_copies_stay_lost() {
        let inq = |seq| Message::Inquiry { seq };
        let declare = Message::DeclareMaster { idx: 1 };
        let a = Recording {
            row: 0,
            events: vec![send(10, 0, 1, inq(1)), send(10, 0, 2, inq(1)), send(20, 0, 1, declare), send(30, 0, 1, declare)],
        };
        // Row 1 got both declares, paired first in, first out; row 2 never
        // got its inquiry.
        let b = Recording {
            row: 1,
            events: vec![
                recv(15, 0, 1, inq(1)),
                TraceEvent { t: Time(16), what: What::Role { server: 1, role: Role::Backup, master: Some(0) } },
                recv(26, 0, 1, declare),
                recv(33, 0, 1, declare),
            ],
        };
        let t = merge(&[b, a], 3);
        let sends: Vec<(u64, u32, Option<u64>)> = t
            .events
            .iter()
            .filter_map(|e| match &e.what {
                What::Send { id, to, arrive, .. } => Some((*id, *to, arrive.map(|a| a.0))),
                _ => None,
            })
            .collect();
        assert_eq!(sends, [(0, 1, Some(15)), (1, 2, None), (2, 1, Some(26)), (3, 1, Some(33))]);
        assert!(t.events.iter().all(|e| !matches!(e.what, What::Deliver { .. })), "receipts are folded into their sends");
        assert!(t.events.windows(2).all(|w| w[0].t <= w[1].t), "in time order");
        assert_eq!(t.events.iter().filter(|e| matches!(e.what, What::Role { .. })).count(), 1);
    }

    #[test]
    fn a_receipt_stamped_before_its_send_arrives_at_the_send_and_strangers_are_dropped() {
        let m = Message::Inquiry { seq: 4 };
        let t = merge(
            &[
                Recording { row: 0, events: vec![send(100, 0, 1, m), send(100, 0, 7, m)] },
                Recording { row: 1, events: vec![recv(90, 0, 1, m)] },
            ],
            2,
        );
        assert_eq!(t.events.len(), 1, "row 7 is not in a two-row group");
        assert!(matches!(t.events[0].what, What::Send { arrive: Some(Time(100)), .. }));
    }

    #[test]
    fn engine_outputs_are_recorded_by_row_with_the_notes_an_observer_reads() {
        use crate::message::{Envelope, Target};
        use crate::server::{Note, Output};
        use crate::time::Span;
        // Ranked rows 2, 0, 1: index 0 is row 2, index 1 is row 0.
        let table = RankTable::new(1, vec![2, 0, 1], &[vec![0; 3], vec![0; 3], vec![0; 3]], Span::ZERO);
        let mut r = Recorder::new(0, 100);
        let env = Envelope { from: 1, version: 1, msg: Message::DeclareMaster { idx: 1 } };
        r.output(Time(5), &Output::Send { to: Target::All, env }, &table);
        r.output(Time(5), &Output::Role { role: Role::Backup, master: Some(0) }, &table);
        r.output(Time(6), &Output::Note(Note::MasterFailed { master: Some(0) }), &table);
        r.output(Time(6), &Output::Note(Note::ElectionDelay { delay: Span(575_000) }), &table);
        r.output(Time(6), &Output::Note(Note::Miss { count: 1 }), &table);
        r.receipt(Time(7), &Envelope { from: 0, version: 1, msg: Message::Inquiry { seq: 3 } }, &table);
        let what: Vec<What> = r.recording().events.into_iter().map(|e| e.what).collect();
        let declare = Message::DeclareMaster { idx: 1 }.into();
        assert_eq!(
            what,
            [
                What::Role { server: 0, role: Role::Backup, master: Some(2) },
                What::Send { id: 0, from: 0, to: 2, msg: declare, arrive: None },
                What::Send { id: 0, from: 0, to: 1, msg: declare, arrive: None },
                What::Note { server: 0, note: Note::MasterFailed { master: Some(0) } },
                What::Note { server: 0, note: Note::ElectionDelay { delay: Span(575_000) } },
                What::Deliver { id: 0, from: 2, to: 0, msg: Message::Inquiry { seq: 3 }.into() },
            ],
            "one send per receiving row, masters and senders as rows, misses left out"
        );
    }

    #[test]
    fn the_recorder_keeps_roles_longer_than_traffic() {
        let mut r = Recorder::new(2, 3);
        r.record(Time(1), What::Role { server: 2, role: Role::Master, master: None });
        for i in 0..10 {
            r.record(Time(10 + i), What::Send { id: 0, from: 2, to: 0, msg: Message::Inquiry { seq: i }.into(), arrive: None });
        }
        let rec = r.recording();
        assert_eq!(rec.row, 2);
        assert_eq!(rec.events.len(), 4, "the role and the last three sends");
        assert!(matches!(rec.events[0].what, What::Role { role: Role::Master, .. }));
        assert_eq!(rec.events[1].t, Time(17));
    }
}
