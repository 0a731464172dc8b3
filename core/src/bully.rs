//! The Bully algorithm (Garcia-Molina, "Elections in a Distributed
//! Computing System", 1982) as a sans-IO engine shaped like [`Raft`]: the
//! best-ranked live server always wins, found by asking only the better
//! ranks.
//!
//! Servers are named by rank here: rank 0 is the best. The coordinator
//! sends `Alive` every `heartbeat`; a server that hears nothing from it for
//! `timeout` starts an election:
//!
//! - it sends `Election` to every better rank and waits `answer_wait`;
//! - a better rank that is up replies `Answer` and starts its own election;
//! - with no `Answer`, it announces `Coordinator` to everyone;
//! - with an `Answer`, it waits `coordinator_wait` for the `Coordinator`
//!   message, and starts over if none comes.
//!
//! A `Coordinator` from a worse rank than a live server makes that server
//! start an election (it bullies the usurper), so the best live rank ends up
//! coordinator. It costs O(N²) messages when the worst rank starts, which is
//! what the comparisons measure it for.
//!
//! [`Raft`]: crate::raft::Raft

use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum BullyMsg {
    Election,
    Answer,
    Coordinator,
    /// The coordinator's heartbeat.
    Alive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BullyState {
    /// Following `coordinator`.
    Normal,
    /// Sent `Election` up; waiting for an `Answer`.
    Electing,
    /// Got an `Answer`; waiting for the `Coordinator` message.
    Waiting,
    Coordinator,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BullyConfig {
    /// This server's rank, in `0..n`; 0 is the best.
    pub me: u32,
    pub n: u32,
    pub heartbeat: Span,
    /// Silence from the coordinator that starts an election.
    pub timeout: Span,
    pub answer_wait: Span,
    pub coordinator_wait: Span,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BullyInput {
    Receive {
        from: u32,
        msg: BullyMsg,
    },
    /// The one timer is due.
    Timer,
    Crash,
    Recover,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BullyOutput {
    Send { to: u32, msg: BullyMsg },
    State { state: BullyState, coordinator: Option<u32> },
}

/// One server's state.
#[derive(Clone, Debug)]
pub struct Bully {
    cfg: BullyConfig,
    up: bool,
    state: BullyState,
    coordinator: Option<u32>,
    /// The one deadline: heartbeat (coordinator), silence (normal), answer
    /// or coordinator wait (electing, waiting).
    due: Option<Time>,
    out: VecDeque<BullyOutput>,
}

impl Bully {
    /// A server that believes rank 0 is coordinator (rank 0 itself is), as a
    /// group starts.
    pub fn new(cfg: BullyConfig, now: Time) -> Bully {
        let me = cfg.me;
        let mut b = Bully { cfg, up: true, state: BullyState::Normal, coordinator: Some(0), due: None, out: VecDeque::new() };
        if me == 0 {
            b.state = BullyState::Coordinator;
            b.due = Some(now);
        } else {
            b.due = Some(now + b.cfg.timeout);
        }
        b
    }

    pub fn state(&self) -> BullyState {
        self.state
    }
    pub fn coordinator(&self) -> Option<u32> {
        self.coordinator
    }
    pub fn is_up(&self) -> bool {
        self.up
    }

    pub fn poll_output(&mut self) -> Option<BullyOutput> {
        self.out.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Time> {
        if self.up {
            self.due
        } else {
            None
        }
    }

    pub fn handle_input(&mut self, now: Time, input: BullyInput) {
        match input {
            BullyInput::Crash => {
                self.up = false;
                self.due = None;
                self.out.clear();
            }
            BullyInput::Recover if !self.up => {
                // A recovering server runs an election: it may be the best.
                self.up = true;
                self.elect(now);
            }
            _ if !self.up => {}
            BullyInput::Recover => {}
            BullyInput::Timer => self.timer(now),
            BullyInput::Receive { from, msg } => self.receive(now, from, msg),
        }
    }

    fn set(&mut self, state: BullyState, coordinator: Option<u32>) {
        if (state, coordinator) != (self.state, self.coordinator) {
            self.state = state;
            self.coordinator = coordinator;
            self.out.push_back(BullyOutput::State { state, coordinator });
        }
    }

    fn send(&mut self, to: u32, msg: BullyMsg) {
        self.out.push_back(BullyOutput::Send { to, msg });
    }

    fn elect(&mut self, now: Time) {
        let me = self.cfg.me;
        if me == 0 {
            return self.win(now);
        }
        for to in 0..me {
            self.send(to, BullyMsg::Election);
        }
        self.set(BullyState::Electing, None);
        self.due = Some(now + self.cfg.answer_wait);
    }

    fn others(&self) -> impl Iterator<Item = u32> {
        let me = self.cfg.me;
        (0..self.cfg.n).filter(move |r| *r != me)
    }

    fn win(&mut self, now: Time) {
        for to in self.others().collect::<Vec<_>>() {
            self.send(to, BullyMsg::Coordinator);
        }
        self.set(BullyState::Coordinator, Some(self.cfg.me));
        self.due = Some(now + self.cfg.heartbeat);
    }

    fn timer(&mut self, now: Time) {
        match self.state {
            BullyState::Coordinator => {
                for to in self.others().collect::<Vec<_>>() {
                    self.send(to, BullyMsg::Alive);
                }
                self.due = Some(now + self.cfg.heartbeat);
            }
            // Silence from the coordinator, or no `Coordinator` after an
            // `Answer`: elect.
            BullyState::Normal | BullyState::Waiting => self.elect(now),
            // Nobody better answered.
            BullyState::Electing => self.win(now),
        }
    }

    fn receive(&mut self, now: Time, from: u32, msg: BullyMsg) {
        let me = self.cfg.me;
        if from >= self.cfg.n || from == me {
            return;
        }
        match msg {
            BullyMsg::Election if from > me => {
                self.send(from, BullyMsg::Answer);
                if !matches!(self.state, BullyState::Electing | BullyState::Waiting | BullyState::Coordinator) {
                    self.elect(now);
                }
            }
            BullyMsg::Election => {}
            BullyMsg::Answer => {
                if self.state == BullyState::Electing && from < me {
                    self.set(BullyState::Waiting, None);
                    self.due = Some(now + self.cfg.coordinator_wait);
                }
            }
            BullyMsg::Coordinator | BullyMsg::Alive => {
                if from < me {
                    self.set(BullyState::Normal, Some(from));
                    self.due = Some(now + self.cfg.timeout);
                } else if self.state != BullyState::Electing {
                    // A worse rank claims it: bully it.
                    self.elect(now);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000;

    struct Net {
        nodes: Vec<Bully>,
        now: Time,
        flight: Vec<(Time, u32, u32, BullyMsg)>,
        /// Election messages sent (everything but `Alive`).
        election: u64,
    }

    impl Net {
        fn new(n: u32) -> Net {
            let nodes = (0..n)
                .map(|me| {
                    let cfg = BullyConfig {
                        me,
                        n,
                        heartbeat: Span(50 * MS),
                        timeout: Span(150 * MS),
                        answer_wait: Span(10 * MS),
                        coordinator_wait: Span(30 * MS),
                    };
                    Bully::new(cfg, Time::ZERO)
                })
                .collect();
            Net { nodes, now: Time::ZERO, flight: Vec::new(), election: 0 }
        }

        fn drain(&mut self, i: usize) {
            while let Some(o) = self.nodes[i].poll_output() {
                if let BullyOutput::Send { to, msg } = o {
                    self.election += u64::from(msg != BullyMsg::Alive);
                    self.flight.push((self.now + Span(2 * MS), i as u32, to, msg));
                }
            }
        }

        fn run(&mut self, until: Time) {
            loop {
                let m = self.flight.iter().enumerate().min_by_key(|(k, f)| (f.0, *k)).map(|(k, f)| (f.0, k));
                let t = (0..self.nodes.len()).filter_map(|i| self.nodes[i].poll_timeout().map(|t| (t, i))).min();
                let msg_first = match (m, t) {
                    (Some((a, _)), Some((b, _))) => a <= b,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => return,
                };
                let at = if msg_first { m.unwrap().0 } else { t.unwrap().0 };
                if at > until {
                    self.now = until;
                    return;
                }
                self.now = at;
                if msg_first {
                    let (_, from, to, msg) = self.flight.remove(m.unwrap().1);
                    self.nodes[to as usize].handle_input(at, BullyInput::Receive { from, msg });
                    self.drain(to as usize);
                } else {
                    let i = t.unwrap().1;
                    self.nodes[i].handle_input(at, BullyInput::Timer);
                    self.drain(i);
                }
            }
        }

        /// The coordinator every live server names, if they agree.
        fn agreed(&self) -> Option<u32> {
            let live: Vec<&Bully> = self.nodes.iter().filter(|b| b.is_up()).collect();
            let c = live.first()?.coordinator()?;
            live.iter().all(|b| b.coordinator() == Some(c)).then_some(c)
        }
    }

    #[test]
    fn the_best_live_rank_wins_after_each_crash() {
        let mut net = Net::new(5);
        net.run(Time(500 * MS));
        assert_eq!(net.agreed(), Some(0));
        for (crash, next) in [(0, 1), (1, 2), (2, 3)] {
            net.nodes[crash].handle_input(net.now, BullyInput::Crash);
            let until = net.now + Span(1_000 * MS);
            net.run(until);
            assert_eq!(net.agreed(), Some(next), "after rank {crash} crashed");
            assert_eq!(net.nodes[next as usize].state(), BullyState::Coordinator);
        }
    }

    #[test]
    fn a_recovered_better_rank_bullies_its_way_back() {
        let mut net = Net::new(4);
        net.run(Time(300 * MS));
        net.nodes[0].handle_input(net.now, BullyInput::Crash);
        net.run(Time(1_000 * MS));
        assert_eq!(net.agreed(), Some(1));
        net.nodes[0].handle_input(net.now, BullyInput::Recover);
        net.drain(0);
        net.run(Time(1_500 * MS));
        assert_eq!(net.agreed(), Some(0), "rank 0 is best and live again");
    }

    #[test]
    fn an_election_costs_more_than_one_broadcast() {
        // Every backup times out at once when the coordinator dies: each
        // asks all better ranks, each better rank answers and asks in turn.
        let mut net = Net::new(8);
        net.run(Time(300 * MS));
        let before = net.election;
        net.nodes[0].handle_input(net.now, BullyInput::Crash);
        let until = net.now + Span(1_000 * MS);
        net.run(until);
        assert_eq!(net.agreed(), Some(1));
        // Ranks 1..7 each ask every better rank (1 + 2 + … + 7 = 28), rank 1
        // announces to the 7 others, and the answers come on top.
        let sent = net.election - before;
        assert!(sent >= 28 + 7, "{sent} election messages");
    }
}
