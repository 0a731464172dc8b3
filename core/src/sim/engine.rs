//! The engines one simulation can drive: the staggered timer's [`Server`],
//! or, to compare against it, [`Raft`] or [`Bully`].
//!
//! The simulator's network, faults, trace and metrics are the same for all
//! three, so a comparison differs only in the algorithm. The staggered
//! timer talks to the simulator in its own vocabulary (indices, `Armed`
//! outputs); the other two are adapted here to the trace's: their roles
//! become [`Role`]s (leader or coordinator is Master, a follower naming a
//! leader is a Backup of it, a candidate is in the election), and their
//! deadlines are reported as [`TimerKind`]s whenever they change, which is
//! what the simulator's timer events need.

use crate::bully::{Bully, BullyConfig, BullyInput, BullyMsg, BullyOutput, BullyState};
use crate::message::{Envelope, Msg};
use crate::params::{BullyParams, RaftParams};
use crate::raft::{Raft, RaftConfig, RaftInput, RaftMsg, RaftOutput, RaftRole, RaftTimer};
use crate::rng::Rng;
use crate::server::{Note, Role, Server};
use crate::time::{Span, Time};
use crate::timer::TimerKind;
use std::collections::VecDeque;

/// What travels between engines: the staggered timer's envelope (indices,
/// version) or another algorithm's message (rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet {
    Stagger(Envelope),
    Raft(RaftMsg),
    Bully(BullyMsg),
}

impl Packet {
    pub fn msg(&self) -> Msg {
        match self {
            Packet::Stagger(env) => Msg::Stagger(env.msg),
            Packet::Raft(m) => Msg::Raft(*m),
            Packet::Bully(m) => Msg::Bully(*m),
        }
    }
}

/// One row's engine. The staggered timer's `Server` stays inline: it is the
/// common case and the hot one (a storm delivers millions of messages), so
/// it should not cost a pointer chase per event; the others are boxed.
#[allow(clippy::large_enum_variant)]
pub enum Engine {
    Stagger(Server),
    Other(Box<Adapted>),
}

impl Engine {
    pub fn is_up(&self) -> bool {
        match self {
            Engine::Stagger(s) => s.is_up(),
            Engine::Other(a) => a.is_up(),
        }
    }

    /// When `kind` is due on this engine, if armed.
    pub fn timer(&self, kind: TimerKind) -> Option<Time> {
        match self {
            Engine::Stagger(s) => s.timer(kind),
            Engine::Other(a) => a.deadline(kind),
        }
    }
}

/// What an adapted engine asks of the simulator, in the trace's terms.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// One copy to a row, leaving after `hold`.
    Send {
        to: u32,
        packet: Packet,
        hold: Span,
    },
    /// `master` is a row.
    Role {
        role: Role,
        master: Option<u32>,
    },
    Armed {
        timer: TimerKind,
        at: Time,
    },
    Note(Note),
}

/// Raft or Bully behind the simulator's vocabulary.
pub struct Adapted {
    inner: Inner,
    /// The row of each index: Bully names servers by rank.
    rows: Vec<u32>,
    out: VecDeque<Out>,
    /// Raft's write to stable storage before answering an RPC.
    persist: Span,
    /// What was last reported, so only changes are.
    shown: (Role, Option<u32>, Note),
    armed: [Option<Time>; 4],
}

enum Inner {
    Raft(Raft),
    Bully(Bully),
}

/// Raft's timers as the trace names them: the election timeout is an
/// election timer, the leader's heartbeat a detection tick.
fn raft_kind(t: RaftTimer) -> TimerKind {
    match t {
        RaftTimer::Election => TimerKind::Election,
        RaftTimer::Heartbeat => TimerKind::Detection,
    }
}

/// Bully's one timer, named by what it is waiting for: the coordinator's
/// heartbeat is a detection tick, a follower's silence limit an inquiry
/// timeout, and the waits for `Answer` or `Coordinator` election timers.
fn bully_kind(s: BullyState) -> TimerKind {
    match s {
        BullyState::Coordinator => TimerKind::Detection,
        BullyState::Normal => TimerKind::InquiryTimeout,
        BullyState::Electing | BullyState::Waiting => TimerKind::Election,
    }
}

impl Adapted {
    /// Row `row` of a group whose best-ranked server (row `rows[0]`) leads
    /// term 1 and sends its first heartbeat at `first_beat`.
    pub fn raft(p: &RaftParams, row: u32, rows: &[u32], period: Span, first_beat: Time, rng: &mut Rng) -> Adapted {
        let cfg = RaftConfig {
            me: row,
            n: rows.len() as u32,
            election_min: p.election_min,
            election_max: p.election_max,
            heartbeat: p.heartbeat.unwrap_or(period),
            prevote: p.prevote,
            check_quorum: p.check_quorum,
        };
        let mut a = Adapted::new(Inner::Raft(Raft::with_leader(cfg, rows[0], first_beat, rng)), rows);
        a.persist = p.persist;
        a
    }

    /// Row `row`, whose rank is its index; rank 0 is coordinator and sends
    /// its first `Alive` at `first_beat`.
    pub fn bully(p: &BullyParams, row: u32, rows: &[u32], period: Span, silence: Span, first_beat: Time) -> Adapted {
        let me = rows.iter().position(|r| *r == row).expect("every row has an index") as u32;
        let cfg = BullyConfig {
            me,
            n: rows.len() as u32,
            heartbeat: p.heartbeat.unwrap_or(period),
            timeout: p.timeout.unwrap_or(silence),
            answer_wait: p.answer_wait,
            coordinator_wait: p.coordinator_wait,
        };
        Adapted::new(Inner::Bully(Bully::new(cfg, first_beat)), rows)
    }

    fn new(inner: Inner, rows: &[u32]) -> Adapted {
        let mut a = Adapted {
            inner,
            rows: rows.to_vec(),
            out: VecDeque::new(),
            persist: Span::ZERO,
            shown: (Role::Backup, None, Note::Miss { count: 0 }),
            armed: [None; 4],
        };
        a.collect();
        a
    }

    pub fn is_up(&self) -> bool {
        match &self.inner {
            Inner::Raft(r) => r.is_up(),
            Inner::Bully(b) => b.is_up(),
        }
    }

    pub fn deadline(&self, kind: TimerKind) -> Option<Time> {
        match &self.inner {
            Inner::Raft(r) => {
                [RaftTimer::Election, RaftTimer::Heartbeat].into_iter().find(|t| raft_kind(*t) == kind).and_then(|t| r.deadline(t))
            }
            Inner::Bully(b) => b.poll_timeout().filter(|_| bully_kind(b.state()) == kind),
        }
    }

    pub fn poll(&mut self) -> Option<Out> {
        self.out.pop_front()
    }

    pub fn receive(&mut self, now: Time, from: u32, packet: Packet, rng: &mut Rng) {
        match (&mut self.inner, packet) {
            (Inner::Raft(r), Packet::Raft(msg)) => r.handle_input(now, RaftInput::Receive { from, msg }, rng),
            (Inner::Bully(b), Packet::Bully(msg)) => {
                let from = self.rows.iter().position(|r| *r == from).expect("every row has an index") as u32;
                b.handle_input(now, BullyInput::Receive { from, msg })
            }
            _ => unreachable!("one simulation runs one algorithm"),
        }
        self.collect();
    }

    pub fn fire(&mut self, now: Time, kind: TimerKind, rng: &mut Rng) {
        match &mut self.inner {
            Inner::Raft(r) => {
                let t = if kind == TimerKind::Election { RaftTimer::Election } else { RaftTimer::Heartbeat };
                r.handle_input(now, RaftInput::Timer(t), rng);
            }
            Inner::Bully(b) => b.handle_input(now, BullyInput::Timer),
        }
        self.collect();
    }

    pub fn crash(&mut self, now: Time, rng: &mut Rng) {
        match &mut self.inner {
            Inner::Raft(r) => r.handle_input(now, RaftInput::Crash, rng),
            Inner::Bully(b) => b.handle_input(now, BullyInput::Crash),
        }
        self.armed = [None; 4];
        self.collect();
    }

    pub fn recover(&mut self, now: Time, rng: &mut Rng) {
        match &mut self.inner {
            Inner::Raft(r) => r.handle_input(now, RaftInput::Recover, rng),
            Inner::Bully(b) => b.handle_input(now, BullyInput::Recover),
        }
        // The simulator records a recovered server as a Backup of nobody.
        self.shown.0 = Role::Backup;
        self.shown.1 = None;
        self.collect();
    }

    /// Turns the engine's outputs into [`Out`]s: its sends, then a role
    /// and a note if either changed, then every timer whose deadline moved.
    fn collect(&mut self) {
        let (role, master, note) = match &mut self.inner {
            Inner::Raft(r) => {
                while let Some(o) = r.poll_output() {
                    if let RaftOutput::Send { to, msg } = o {
                        // Raft's Figure 2: persistent state is written to
                        // stable storage before responding to an RPC.
                        let reply = matches!(msg, RaftMsg::Vote { .. } | RaftMsg::PreVoteReply { .. } | RaftMsg::HeartbeatReply { .. });
                        let hold = if reply { self.persist } else { Span::ZERO };
                        self.out.push_back(Out::Send { to, packet: Packet::Raft(msg), hold });
                    }
                }
                let role = match r.role() {
                    RaftRole::Leader => Role::Master,
                    RaftRole::Follower => Role::Backup,
                    RaftRole::PreCandidate | RaftRole::Candidate => Role::WaitElection,
                };
                let leader = r.leader().filter(|_| role == Role::Backup);
                (role, leader, Note::Raft { role: r.role(), term: r.term() })
            }
            Inner::Bully(b) => {
                while let Some(o) = b.poll_output() {
                    if let BullyOutput::Send { to, msg } = o {
                        self.out.push_back(Out::Send { to: self.rows[to as usize], packet: Packet::Bully(msg), hold: Span::ZERO });
                    }
                }
                let role = match b.state() {
                    BullyState::Coordinator => Role::Master,
                    BullyState::Normal => Role::Backup,
                    BullyState::Electing | BullyState::Waiting => Role::WaitElection,
                };
                let coordinator = b.coordinator().filter(|_| role == Role::Backup).map(|c| self.rows[c as usize]);
                (role, coordinator, Note::Bully { state: b.state() })
            }
        };
        if !self.is_up() {
            return;
        }
        if (role, master) != (self.shown.0, self.shown.1) {
            self.out.push_back(Out::Role { role, master });
        }
        if note != self.shown.2 {
            self.out.push_back(Out::Note(note));
        }
        self.shown = (role, master, note);
        for kind in TimerKind::ALL {
            let at = self.deadline(kind);
            if at != self.armed[kind.slot()] {
                self.armed[kind.slot()] = at;
                if let Some(at) = at {
                    self.out.push_back(Out::Armed { timer: kind, at });
                }
            }
        }
    }
}
