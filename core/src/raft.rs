//! Raft's leader election (Ongaro and Ousterhout, "In Search of an
//! Understandable Consensus Algorithm", §5.2, and Ongaro's thesis §9.6 for
//! PreVote and CheckQuorum), as a sans-IO engine shaped like [`Server`]: one
//! input at a time through [`Raft::handle_input`], outputs drained with
//! [`Raft::poll_output`], the next deadline from [`Raft::poll_timeout`].
//!
//! It is here so that the staggered timer can be measured against the
//! election scheme most users know. Only the election is modelled:
//! every log is empty, so a vote depends on terms alone, and a heartbeat is
//! an `AppendEntries` without entries.
//!
//! - Terms, `RequestVote`, one vote per term, a randomized election timeout
//!   drawn from the injected [`Rng`] in `[election_min, election_max]`.
//! - A leader sends heartbeats every `heartbeat`; a heartbeat of the current
//!   term makes a candidate a follower and resets a follower's timeout.
//! - **PreVote** (optional): before raising its term, a candidate asks
//!   whether it could win; a server that has heard from a leader within
//!   `election_min` says no. A server cut off from the group then cannot
//!   disrupt it with a higher term when it comes back.
//! - **CheckQuorum** (optional): a leader that has not heard from a majority
//!   within `election_min` steps down; and, as in etcd, a follower that has
//!   heard from its leader within `election_min` ignores vote requests.
//!
//! [`Server`]: crate::Server

use crate::rng::Rng;
use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// A Raft election message. Servers are named by their row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RaftMsg {
    /// "Would you vote for me in `term`?" (PreVote; changes no state.)
    PreVote {
        term: u64,
    },
    PreVoteReply {
        term: u64,
        granted: bool,
    },
    RequestVote {
        term: u64,
    },
    Vote {
        term: u64,
        granted: bool,
    },
    /// An `AppendEntries` without entries.
    Heartbeat {
        term: u64,
    },
    HeartbeatReply {
        term: u64,
    },
}

impl RaftMsg {
    fn term(self) -> u64 {
        match self {
            RaftMsg::PreVote { term }
            | RaftMsg::PreVoteReply { term, .. }
            | RaftMsg::RequestVote { term }
            | RaftMsg::Vote { term, .. }
            | RaftMsg::Heartbeat { term }
            | RaftMsg::HeartbeatReply { term } => term,
        }
    }

    /// Whether receiving it may raise the receiver's term (PreVote
    /// messages never do: that is their point).
    fn carries_term(self) -> bool {
        !matches!(self, RaftMsg::PreVote { .. } | RaftMsg::PreVoteReply { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RaftRole {
    Follower,
    /// Asking for pre-votes, term not yet raised.
    PreCandidate,
    Candidate,
    Leader,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RaftTimer {
    /// A follower's or candidate's election timeout; a leader's quorum check.
    Election,
    Heartbeat,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RaftConfig {
    /// This server's row, in `0..n`.
    pub me: u32,
    pub n: u32,
    pub election_min: Span,
    pub election_max: Span,
    pub heartbeat: Span,
    pub prevote: bool,
    pub check_quorum: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RaftInput {
    Receive {
        from: u32,
        msg: RaftMsg,
    },
    Timer(RaftTimer),
    Crash,
    /// Back up with the persistent state (term, vote) it had.
    Recover,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RaftOutput {
    Send {
        to: u32,
        msg: RaftMsg,
    },
    /// The role, term or known leader changed.
    Role {
        role: RaftRole,
        term: u64,
        leader: Option<u32>,
    },
}

/// One server's election state.
#[derive(Clone, Debug)]
pub struct Raft {
    cfg: RaftConfig,
    up: bool,
    // Persistent.
    term: u64,
    voted_for: Option<u32>,
    // Volatile.
    role: RaftRole,
    leader: Option<u32>,
    votes: BTreeSet<u32>,
    /// When a leader of the current term was last heard from (followers),
    /// for PreVote and vote stickiness.
    heard_leader: Option<Time>,
    /// Who answered since the last quorum check (leaders).
    acks: BTreeSet<u32>,
    election_at: Option<Time>,
    heartbeat_at: Option<Time>,
    out: VecDeque<RaftOutput>,
}

impl Raft {
    /// A follower at term 0 with its election timer armed from `now`.
    pub fn new(cfg: RaftConfig, now: Time, rng: &mut Rng) -> Raft {
        let mut r = Raft {
            cfg,
            up: true,
            term: 0,
            voted_for: None,
            role: RaftRole::Follower,
            leader: None,
            votes: BTreeSet::new(),
            heard_leader: None,
            acks: BTreeSet::new(),
            election_at: None,
            heartbeat_at: None,
            out: VecDeque::new(),
        };
        r.arm_election(now, rng);
        r
    }

    /// A group that already agrees: `leader` leads term 1 and the others
    /// follow it, as a comparison starts from a stable master. The leader's
    /// first heartbeat goes out at `first_beat`; a follower's timeout runs
    /// as if it had just heard from the leader then.
    pub fn with_leader(cfg: RaftConfig, leader: u32, first_beat: Time, rng: &mut Rng) -> Raft {
        let mut r = Raft::new(cfg, first_beat, rng);
        r.term = 1;
        r.leader = Some(leader);
        if leader == r.cfg.me {
            r.role = RaftRole::Leader;
            r.voted_for = Some(leader);
            r.heartbeat_at = Some(first_beat);
            r.election_at = Some(first_beat + r.cfg.election_min);
        } else {
            r.voted_for = Some(leader);
            r.heard_leader = Some(first_beat);
        }
        r
    }

    /// When `timer` is due, if it is armed (and the server is up).
    pub fn deadline(&self, timer: RaftTimer) -> Option<Time> {
        if !self.up {
            return None;
        }
        match timer {
            RaftTimer::Election => self.election_at,
            RaftTimer::Heartbeat => self.heartbeat_at,
        }
    }

    pub fn role(&self) -> RaftRole {
        self.role
    }
    pub fn term(&self) -> u64 {
        self.term
    }
    pub fn leader(&self) -> Option<u32> {
        self.leader
    }
    pub fn is_up(&self) -> bool {
        self.up
    }

    pub fn poll_output(&mut self) -> Option<RaftOutput> {
        self.out.pop_front()
    }

    /// The next timer and when it is due; none while down.
    pub fn poll_timeout(&self) -> Option<(Time, RaftTimer)> {
        if !self.up {
            return None;
        }
        match (self.election_at, self.heartbeat_at) {
            (Some(e), Some(h)) if h < e => Some((h, RaftTimer::Heartbeat)),
            (Some(e), _) => Some((e, RaftTimer::Election)),
            (None, Some(h)) => Some((h, RaftTimer::Heartbeat)),
            (None, None) => None,
        }
    }

    pub fn handle_input(&mut self, now: Time, input: RaftInput, rng: &mut Rng) {
        match input {
            RaftInput::Crash => {
                self.up = false;
                self.out.clear();
                self.election_at = None;
                self.heartbeat_at = None;
            }
            RaftInput::Recover if !self.up => {
                self.up = true;
                self.leader = None;
                self.heard_leader = None;
                self.set_role(RaftRole::Follower);
                self.arm_election(now, rng);
            }
            _ if !self.up => {}
            RaftInput::Recover => {}
            RaftInput::Timer(RaftTimer::Heartbeat) => {
                if self.role == RaftRole::Leader {
                    self.broadcast(RaftMsg::Heartbeat { term: self.term });
                    self.heartbeat_at = Some(now + self.cfg.heartbeat);
                } else {
                    self.heartbeat_at = None;
                }
            }
            RaftInput::Timer(RaftTimer::Election) => self.election_timeout(now, rng),
            RaftInput::Receive { from, msg } => self.receive(now, from, msg, rng),
        }
    }

    fn majority(&self) -> usize {
        self.cfg.n as usize / 2 + 1
    }

    fn arm_election(&mut self, now: Time, rng: &mut Rng) {
        let (lo, hi) = (self.cfg.election_min.0, self.cfg.election_max.0.max(self.cfg.election_min.0));
        self.election_at = Some(now + Span(rng.range_inclusive(lo, hi)));
    }

    fn set_role(&mut self, role: RaftRole) {
        self.role = role;
        self.out.push_back(RaftOutput::Role { role, term: self.term, leader: self.leader });
    }

    fn broadcast(&mut self, msg: RaftMsg) {
        for to in (0..self.cfg.n).filter(|r| *r != self.cfg.me) {
            self.out.push_back(RaftOutput::Send { to, msg });
        }
    }

    fn send(&mut self, to: u32, msg: RaftMsg) {
        self.out.push_back(RaftOutput::Send { to, msg });
    }

    fn election_timeout(&mut self, now: Time, rng: &mut Rng) {
        if self.role == RaftRole::Leader {
            // The quorum check: the leader heard from a majority since the
            // last one, or it steps down.
            if self.cfg.check_quorum && self.acks.len() + 1 < self.majority() {
                self.leader = None;
                self.heartbeat_at = None;
                self.set_role(RaftRole::Follower);
                self.arm_election(now, rng);
            } else {
                self.acks.clear();
                self.election_at = Some(now + self.cfg.election_min);
            }
            return;
        }
        self.votes = BTreeSet::from([self.cfg.me]);
        if self.cfg.prevote {
            self.set_role(RaftRole::PreCandidate);
            self.broadcast(RaftMsg::PreVote { term: self.term + 1 });
            if self.votes.len() >= self.majority() {
                self.campaign(now, rng);
                return;
            }
        } else {
            self.campaign(now, rng);
            return;
        }
        self.arm_election(now, rng);
    }

    /// A real election: a new term, a vote for itself, `RequestVote` to all.
    fn campaign(&mut self, now: Time, rng: &mut Rng) {
        self.term += 1;
        self.voted_for = Some(self.cfg.me);
        self.leader = None;
        self.votes = BTreeSet::from([self.cfg.me]);
        self.set_role(RaftRole::Candidate);
        self.broadcast(RaftMsg::RequestVote { term: self.term });
        self.arm_election(now, rng);
        if self.votes.len() >= self.majority() {
            self.become_leader(now);
        }
    }

    fn become_leader(&mut self, now: Time) {
        self.leader = Some(self.cfg.me);
        self.acks.clear();
        self.set_role(RaftRole::Leader);
        self.broadcast(RaftMsg::Heartbeat { term: self.term });
        self.heartbeat_at = Some(now + self.cfg.heartbeat);
        self.election_at = Some(now + self.cfg.election_min);
    }

    /// Whether a leader of the current term was heard from recently enough
    /// to refuse pre-votes (and, with CheckQuorum, votes).
    fn leader_is_fresh(&self, now: Time) -> bool {
        self.role == RaftRole::Leader || self.heard_leader.is_some_and(|t| now < t + self.cfg.election_min)
    }

    fn receive(&mut self, now: Time, from: u32, msg: RaftMsg, rng: &mut Rng) {
        if from >= self.cfg.n || from == self.cfg.me {
            return;
        }
        // Leader stickiness (with CheckQuorum, as etcd): a vote request
        // while the leader is fresh is ignored, term and all.
        if let RaftMsg::RequestVote { term } = msg {
            if self.cfg.check_quorum && term > self.term && self.leader_is_fresh(now) {
                return;
            }
        }
        if msg.carries_term() && msg.term() > self.term {
            self.term = msg.term();
            self.voted_for = None;
            self.leader = None;
            self.heard_leader = None;
            self.heartbeat_at = None;
            if self.role != RaftRole::Follower {
                self.set_role(RaftRole::Follower);
                self.arm_election(now, rng);
            }
        }
        match msg {
            RaftMsg::PreVote { term } => {
                let granted = term > self.term && !self.leader_is_fresh(now);
                self.send(from, RaftMsg::PreVoteReply { term, granted });
            }
            RaftMsg::PreVoteReply { term, granted } => {
                if self.role == RaftRole::PreCandidate && term == self.term + 1 && granted {
                    self.votes.insert(from);
                    if self.votes.len() >= self.majority() {
                        self.campaign(now, rng);
                    }
                }
            }
            RaftMsg::RequestVote { term } => {
                let free = self.voted_for.is_none() || self.voted_for == Some(from);
                let granted = term == self.term && free && self.role != RaftRole::Leader;
                if granted {
                    self.voted_for = Some(from);
                    self.arm_election(now, rng);
                }
                self.send(from, RaftMsg::Vote { term: self.term, granted });
            }
            RaftMsg::Vote { term, granted } => {
                if self.role == RaftRole::Candidate && term == self.term && granted {
                    self.votes.insert(from);
                    if self.votes.len() >= self.majority() {
                        self.become_leader(now);
                    }
                }
            }
            RaftMsg::Heartbeat { term } => {
                if term < self.term {
                    self.send(from, RaftMsg::HeartbeatReply { term: self.term });
                    return;
                }
                self.heard_leader = Some(now);
                let changed = self.leader != Some(from) || self.role != RaftRole::Follower;
                self.leader = Some(from);
                if changed {
                    self.set_role(RaftRole::Follower);
                }
                self.arm_election(now, rng);
                self.send(from, RaftMsg::HeartbeatReply { term: self.term });
            }
            RaftMsg::HeartbeatReply { term } => {
                if self.role == RaftRole::Leader && term == self.term {
                    self.acks.insert(from);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const MS: u64 = 1_000;

    /// Five servers on a 2 ms network that can cut any server off.
    struct Net {
        nodes: Vec<Raft>,
        rng: Rng,
        now: Time,
        /// (due, from, to, msg), in send order.
        flight: Vec<(Time, u32, u32, RaftMsg)>,
        cut: BTreeSet<u32>,
        /// Every (term, leader) ever seen.
        leaders: BTreeMap<u64, BTreeSet<u32>>,
    }

    impl Net {
        fn new(n: u32, prevote: bool, check_quorum: bool, seed: u64) -> Net {
            let mut rng = Rng::new(seed);
            let nodes = (0..n)
                .map(|me| {
                    let cfg = RaftConfig {
                        me,
                        n,
                        election_min: Span(150 * MS),
                        election_max: Span(300 * MS),
                        heartbeat: Span(50 * MS),
                        prevote,
                        check_quorum,
                    };
                    Raft::new(cfg, Time::ZERO, &mut rng)
                })
                .collect();
            Net { nodes, rng, now: Time::ZERO, flight: Vec::new(), cut: BTreeSet::new(), leaders: BTreeMap::new() }
        }

        fn drain(&mut self, i: usize) {
            while let Some(o) = self.nodes[i].poll_output() {
                match o {
                    RaftOutput::Send { to, msg } => {
                        if !self.cut.contains(&(i as u32)) && !self.cut.contains(&to) {
                            self.flight.push((self.now + Span(2 * MS), i as u32, to, msg));
                        }
                    }
                    RaftOutput::Role { role: RaftRole::Leader, term, .. } => {
                        self.leaders.entry(term).or_default().insert(i as u32);
                    }
                    RaftOutput::Role { .. } => {}
                }
            }
        }

        /// Runs until `until`, one event at a time, earliest first.
        fn run(&mut self, until: Time) {
            loop {
                let next_msg = self.flight.iter().enumerate().min_by_key(|(k, f)| (f.0, *k)).map(|(k, f)| (f.0, k));
                let next_timer =
                    (0..self.nodes.len()).filter_map(|i| self.nodes[i].poll_timeout().map(|(t, k)| (t, i, k))).min_by_key(|x| (x.0, x.1));
                let msg_first = match (next_msg, next_timer) {
                    (Some((tm, _)), Some((tt, _, _))) => tm <= tt,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => return,
                };
                let t = if msg_first { next_msg.unwrap().0 } else { next_timer.unwrap().0 };
                if t > until {
                    self.now = until;
                    return;
                }
                self.now = t;
                if msg_first {
                    let (_, from, to, msg) = self.flight.remove(next_msg.unwrap().1);
                    self.nodes[to as usize].handle_input(t, RaftInput::Receive { from, msg }, &mut self.rng);
                    self.drain(to as usize);
                } else {
                    let (_, i, kind) = next_timer.unwrap();
                    self.nodes[i].handle_input(t, RaftInput::Timer(kind), &mut self.rng);
                    self.drain(i);
                }
            }
        }

        fn leader(&self) -> Option<u32> {
            let live: Vec<&Raft> = self.nodes.iter().filter(|n| n.is_up()).collect();
            let l = live.iter().find(|n| n.role() == RaftRole::Leader)?;
            let id = l.leader()?;
            live.iter().all(|n| n.leader() == Some(id) && n.term() == l.term()).then_some(id)
        }

        fn at_most_one_leader_per_term(&self) -> bool {
            self.leaders.values().all(|s| s.len() <= 1)
        }
    }

    #[test]
    fn a_leader_is_elected_and_a_new_one_after_it_crashes() {
        for seed in 0..50 {
            for (prevote, cq) in [(false, false), (true, false), (true, true)] {
                let mut net = Net::new(5, prevote, cq, seed);
                net.run(Time(2_000 * MS));
                let first = net.leader().unwrap_or_else(|| panic!("seed {seed}: no agreed leader"));
                let term = net.nodes[first as usize].term();
                net.nodes[first as usize].handle_input(net.now, RaftInput::Crash, &mut net.rng);
                net.run(Time(4_000 * MS));
                let second = net.leader().unwrap_or_else(|| panic!("seed {seed}: no leader after the crash"));
                assert_ne!(second, first);
                assert!(net.nodes[second as usize].term() > term);
                assert!(net.at_most_one_leader_per_term(), "seed {seed}: {:?}", net.leaders);
            }
        }
    }

    #[test]
    fn prevote_keeps_a_returning_server_from_raising_the_term() {
        for prevote in [false, true] {
            let mut net = Net::new(5, prevote, false, 3);
            net.run(Time(2_000 * MS));
            let leader = net.leader().unwrap();
            let outsider = (leader + 1) % 5;
            let term = net.nodes[leader as usize].term();
            net.cut.insert(outsider);
            net.run(Time(5_000 * MS));
            net.cut.clear();
            net.run(Time(7_000 * MS));
            let after = net.nodes[net.leader().expect("a leader after the heal") as usize].term();
            if prevote {
                assert_eq!(after, term, "with PreVote the outsider never won a pre-vote, so the term stayed");
            } else {
                assert!(after > term, "without PreVote the outsider's raised term deposed the leader");
            }
        }
    }

    #[test]
    fn check_quorum_makes_a_cut_off_leader_step_down() {
        for cq in [false, true] {
            let mut net = Net::new(5, true, cq, 11);
            net.run(Time(2_000 * MS));
            let leader = net.leader().unwrap();
            net.cut.insert(leader);
            net.run(Time(2_400 * MS));
            let still = net.nodes[leader as usize].role() == RaftRole::Leader;
            assert_eq!(still, !cq, "check_quorum = {cq}");
            // The rest elected someone else either way.
            let others: Vec<&Raft> = net.nodes.iter().filter(|n| n.cfg.me != leader).collect();
            assert!(others.iter().any(|n| n.role() == RaftRole::Leader));
            assert!(net.at_most_one_leader_per_term());
        }
    }
}
