//! The trace: every send, delivery, drop, timer firing, role change, fault,
//! refusal and note of a run, in the order they happened.
//!
//! The CLI writes it as JSON, the SVG renderer draws it and the playground
//! animates it. Its hash is how we prove that a seed replays bit for bit on
//! every target.

use super::flow::Flow;
use crate::bully::BullyMsg;
use crate::message::{Message, MessageKind, Msg};
use crate::raft::RaftMsg;
use crate::server::{Note, Refusal, Role};
use crate::time::Time;
use crate::timer::TimerKind;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Why a message copy never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// The seeded loss draw.
    Loss,
    /// Sender and receiver were on different sides at send time.
    Partition,
    /// The receiver was down at delivery time.
    ReceiverDown,
}

impl DropReason {
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::ReceiverDown => "receiver-down",
        }
    }
}

/// One entry. Servers are rows of the scenario's `servers` list; a message
/// carries indices exactly as it did on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum What {
    /// `faults[source]` applied.
    Fault {
        source: u32,
    },
    /// A copy handed to the network; `arrive` is `None` when it was dropped
    /// at once (loss or partition).
    Send {
        id: u64,
        from: u32,
        to: u32,
        msg: Msg,
        arrive: Option<Time>,
    },
    Deliver {
        id: u64,
        from: u32,
        to: u32,
        msg: Msg,
    },
    Drop {
        id: u64,
        from: u32,
        to: u32,
        msg: Msg,
        reason: DropReason,
    },
    Timer {
        server: u32,
        timer: TimerKind,
    },
    /// `master` is a row.
    Role {
        server: u32,
        role: Role,
        master: Option<u32>,
    },
    Refused {
        server: u32,
        from: u32,
        reason: Refusal,
    },
    Note {
        server: u32,
        note: Note,
    },
    /// The replicated service's traffic and progress, in a run with a
    /// `service` (`flow.rs`).
    Service(Flow),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    pub t: Time,
    pub what: What,
}

/// A whole trace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub events: Vec<TraceEvent>,
}

impl Trace {
    /// FNV-1a (64 bit) over a fixed little-endian encoding of every event.
    /// Neither `usize` nor floats nor serde's formatting enter it, so it is
    /// the same on every target.
    pub fn hash(&self) -> u64 {
        let mut h = Fnv::new();
        for e in &self.events {
            h.u64(e.t.0);
            match &e.what {
                What::Fault { source } => {
                    h.u8(0);
                    h.u32(*source);
                }
                What::Send { id, from, to, msg, arrive } => {
                    h.u8(1);
                    h.u64(*id);
                    h.u32(*from);
                    h.u32(*to);
                    h.msg(msg);
                    h.u64(arrive.map_or(u64::MAX, |t| t.0));
                }
                What::Deliver { id, from, to, msg } => {
                    h.u8(2);
                    h.u64(*id);
                    h.u32(*from);
                    h.u32(*to);
                    h.msg(msg);
                }
                What::Drop { id, from, to, msg, reason } => {
                    h.u8(3);
                    h.u64(*id);
                    h.u32(*from);
                    h.u32(*to);
                    h.msg(msg);
                    h.u8(*reason as u8);
                }
                What::Timer { server, timer } => {
                    h.u8(4);
                    h.u32(*server);
                    h.u8(*timer as u8);
                }
                What::Role { server, role, master } => {
                    h.u8(5);
                    h.u32(*server);
                    h.u8(*role as u8);
                    h.u32(master.unwrap_or(u32::MAX));
                }
                What::Refused { server, from, reason } => {
                    h.u8(6);
                    h.u32(*server);
                    h.u32(*from);
                    match reason {
                        Refusal::Version { ours, theirs } => {
                            h.u8(0);
                            h.u32(*ours);
                            h.u32(*theirs);
                        }
                        Refusal::UnknownSender => h.u8(1),
                        Refusal::BadIndex { idx } => {
                            h.u8(2);
                            h.u32(*idx);
                        }
                    }
                }
                What::Note { server, note } => {
                    h.u8(7);
                    h.u32(*server);
                    match note {
                        Note::Miss { count } => {
                            h.u8(0);
                            h.u32(*count);
                        }
                        Note::MasterFailed { master } => {
                            h.u8(1);
                            h.u32(master.unwrap_or(u32::MAX));
                        }
                        Note::ElectionDelay { delay } => {
                            h.u8(2);
                            h.u64(delay.0);
                        }
                        Note::ClaimPending { idx } => {
                            h.u8(3);
                            h.u32(*idx);
                        }
                        Note::ClaimDropped { idx } => {
                            h.u8(4);
                            h.u32(*idx);
                        }
                        Note::ClaimIgnored { idx } => {
                            h.u8(5);
                            h.u32(*idx);
                        }
                        Note::Raft { role, term } => {
                            h.u8(6);
                            h.u8(*role as u8);
                            h.u64(*term);
                        }
                        Note::Bully { state } => {
                            h.u8(7);
                            h.u8(*state as u8);
                        }
                    }
                }
                What::Service(flow) => {
                    h.u8(8);
                    h.flow(flow);
                }
            }
        }
        h.finish()
    }

    /// The trace as JSON for `stagger sim --trace`: times in milliseconds,
    /// servers by id, messages with their kind and fields.
    pub fn to_json(&self, ids: &[String]) -> Value {
        let id = |r: &u32| ids.get(*r as usize).cloned().unwrap_or_else(|| format!("#{r}"));
        let ms = |t: Time| t.as_ms();
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| {
                let t = ms(e.t);
                match &e.what {
                    What::Fault { source } => json!({"t_ms": t, "type": "fault", "fault": source}),
                    What::Send { id: mid, from, to, msg, arrive } => json!({
                        "t_ms": t, "type": "send", "id": mid, "from": id(from), "to": id(to),
                        "kind": msg.kind(), "msg": msg, "arrive_ms": arrive.map(ms),
                    }),
                    What::Deliver { id: mid, from, to, msg } => json!({
                        "t_ms": t, "type": "deliver", "id": mid, "from": id(from), "to": id(to),
                        "kind": msg.kind(), "msg": msg,
                    }),
                    What::Drop { id: mid, from, to, msg, reason } => json!({
                        "t_ms": t, "type": "drop", "id": mid, "from": id(from), "to": id(to),
                        "kind": msg.kind(), "msg": msg, "reason": reason,
                    }),
                    What::Timer { server, timer } => json!({
                        "t_ms": t, "type": "timer", "server": id(server), "timer": timer.name(),
                    }),
                    What::Role { server, role, master } => json!({
                        "t_ms": t, "type": "role", "server": id(server), "role": role.name(),
                        "master": master.as_ref().map(id),
                    }),
                    What::Refused { server, from, reason } => json!({
                        "t_ms": t, "type": "refused", "server": id(server), "from_index": from,
                        "reason": reason.to_string(),
                    }),
                    What::Note { server, note } => json!({
                        "t_ms": t, "type": "note", "server": id(server), "note": note,
                    }),
                    What::Service(flow) => flow_json(t, flow, &id),
                }
            })
            .collect();
        json!({ "servers": ids, "events": events })
    }

    /// Counts sends by kind, for checks against the metrics.
    pub fn sends_of(&self, kind: MessageKind) -> usize {
        self.events.iter().filter(|e| matches!(&e.what, What::Send { msg, .. } if msg.kind() == kind)).count()
    }
}

/// A service entry as `stagger sim --trace` writes it: clients as `c1` …
fn flow_json(t: f64, flow: &Flow, id: &dyn Fn(&u32) -> String) -> Value {
    let client = |c: &u32| format!("c{}", c + 1);
    match flow {
        Flow::Request { client: c, server, seq, arrive } => json!({
            "t_ms": t, "type": "request", "client": client(c), "server": id(server), "seq": seq, "arrive_ms": arrive.as_ms(),
        }),
        Flow::Reply { client: c, server, seq, answered, arrive } => json!({
            "t_ms": t, "type": "answer", "client": client(c), "server": id(server), "seq": seq, "answered": answered,
            "arrive_ms": arrive.as_ms(),
        }),
        Flow::Message { id: mid, from, to, kind, epoch, index, entries, arrive } => json!({
            "t_ms": t, "type": "replicate", "id": mid, "from": id(from), "to": id(to), "kind": kind, "epoch": epoch,
            "index": index, "entries": entries, "arrive_ms": arrive.map(Time::as_ms),
        }),
        Flow::Applied { server, index } => json!({"t_ms": t, "type": "applied", "server": id(server), "index": index}),
        Flow::Received { from, to, kind, index } => {
            json!({"t_ms": t, "type": "received", "from": id(from), "to": id(to), "kind": kind, "index": index})
        }
    }
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for x in b {
            self.0 ^= *x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    /// The protocol's messages hash exactly as before other algorithms
    /// existed (tags 0–3), so recorded golden hashes stay valid.
    fn msg(&mut self, m: &Msg) {
        match *m {
            Msg::Stagger(m) => self.stagger(&m),
            Msg::Raft(r) => {
                let (tag, term, granted) = match r {
                    RaftMsg::PreVote { term } => (10, term, false),
                    RaftMsg::PreVoteReply { term, granted } => (11, term, granted),
                    RaftMsg::RequestVote { term } => (12, term, false),
                    RaftMsg::Vote { term, granted } => (13, term, granted),
                    RaftMsg::Heartbeat { term } => (14, term, false),
                    RaftMsg::HeartbeatReply { term } => (15, term, false),
                };
                self.u8(tag);
                self.u64(term);
                self.u8(granted as u8);
            }
            Msg::Bully(b) => self.u8(match b {
                BullyMsg::Election => 20,
                BullyMsg::Answer => 21,
                BullyMsg::Coordinator => 22,
                BullyMsg::Alive => 23,
            }),
        }
    }
    fn flow(&mut self, f: &Flow) {
        match *f {
            Flow::Request { client, server, seq, arrive } => {
                self.u8(0);
                self.u32(client);
                self.u32(server);
                self.u64(seq);
                self.u64(arrive.0);
            }
            Flow::Reply { client, server, seq, answered, arrive } => {
                self.u8(1);
                self.u32(client);
                self.u32(server);
                self.u64(seq);
                self.u8(answered as u8);
                self.u64(arrive.0);
            }
            Flow::Message { id, from, to, kind, epoch, index, entries, arrive } => {
                self.u8(2);
                self.u64(id);
                self.u32(from);
                self.u32(to);
                self.u8(kind as u8);
                self.u64(epoch);
                self.u64(index);
                self.u32(entries);
                self.u64(arrive.map_or(u64::MAX, |t| t.0));
            }
            Flow::Applied { server, index } => {
                self.u8(3);
                self.u32(server);
                self.u64(index);
            }
            Flow::Received { from, to, kind, index } => {
                self.u8(4);
                self.u32(from);
                self.u32(to);
                self.u8(kind as u8);
                self.u64(index);
            }
        }
    }
    fn stagger(&mut self, m: &Message) {
        match *m {
            Message::Inquiry { seq } => {
                self.u8(0);
                self.u64(seq);
            }
            Message::InquiryReply { seq } => {
                self.u8(1);
                self.u64(seq);
            }
            Message::DeclareMaster { idx } => {
                self.u8(2);
                self.u32(idx);
            }
            Message::RevokeMaster { reject, idx } => {
                self.u8(3);
                self.u32(reject);
                self.u32(idx);
            }
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
