//! The metrics of SPEC §8, kept incrementally.
//!
//! States are sampled at the end of each instant. Checking "exactly one live
//! Master and every other live server a Backup naming it" by scanning all
//! servers would cost O(N) per instant, which a 1,000-server storm cannot
//! afford, so the counts that decide it are updated on every role change.

use crate::message::MessageKind;
use crate::server::Role;
use crate::time::Time;
use serde::{Deserialize, Serialize};

/// Message counts by kind: every copy handed to the network, dropped ones
/// included. The protocol's four kinds are always present; Raft's and
/// Bully's only when counted, so a staggered-timer run prints as before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCounts {
    pub inquiry: u64,
    pub reply: u64,
    pub declare: u64,
    pub revoke: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pre_vote: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pre_vote_reply: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub request_vote: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub vote: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub heartbeat: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub heartbeat_reply: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub election: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub answer: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub coordinator: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub alive: u64,
    pub total: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl MessageCounts {
    pub fn add(&mut self, kind: MessageKind) {
        *self.slot(kind) += 1;
        self.total += 1;
    }

    /// The count of one kind.
    pub fn get(&self, kind: MessageKind) -> u64 {
        let mut copy = *self;
        *copy.slot(kind)
    }

    fn slot(&mut self, kind: MessageKind) -> &mut u64 {
        match kind {
            MessageKind::Inquiry => &mut self.inquiry,
            MessageKind::Reply => &mut self.reply,
            MessageKind::Declare => &mut self.declare,
            MessageKind::Revoke => &mut self.revoke,
            MessageKind::PreVote => &mut self.pre_vote,
            MessageKind::PreVoteReply => &mut self.pre_vote_reply,
            MessageKind::RequestVote => &mut self.request_vote,
            MessageKind::Vote => &mut self.vote,
            MessageKind::Heartbeat => &mut self.heartbeat,
            MessageKind::HeartbeatReply => &mut self.heartbeat_reply,
            MessageKind::Election => &mut self.election,
            MessageKind::Answer => &mut self.answer,
            MessageKind::Coordinator => &mut self.coordinator,
            MessageKind::Alive => &mut self.alive,
        }
    }
}

/// What `stagger sim --json` prints. Times are absolute virtual
/// milliseconds with three decimals. The default is "nothing measured", for
/// runs the simulator did not make (a live group's merged recordings).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub crash_at_ms: Option<f64>,
    pub first_declare_at_ms: Option<f64>,
    /// The first instant at or after the crash at which some server became
    /// Master: when Raft's paper stops its downtime clock. Convergence
    /// comes later, when the last survivor has heard of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elected_at_ms: Option<f64>,
    /// The first instant at or after the crash at which a survivor acted on
    /// it: entered the election (a Raft candidate, a Bully elector) or,
    /// with no wait, became Master. The physical floor of a failover starts
    /// here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_at_ms: Option<f64>,
    pub converged_at_ms: Option<f64>,
    pub final_master: Option<String>,
    pub messages: MessageCounts,
    pub election_messages: u64,
    pub split_brain_ms: f64,
    pub max_masters: u32,
    pub events: u64,
    /// Present when the run stopped before `until_ms` (its budget, or a
    /// cancel): every number above then covers only the time up to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<super::Truncated>,
}

/// The running state behind [`Metrics`].
#[derive(Clone, Debug)]
pub(crate) struct Tally {
    pub reference: Time,
    pub crash_at: Option<Time>,
    pub first_declare: Option<Time>,
    pub elected: Option<Time>,
    pub detected: Option<Time>,
    pub messages: MessageCounts,
    pub election_messages: u64,
    pub events: u64,
    /// Per row: up, role, master row.
    state: Vec<(bool, Role, Option<u32>)>,
    live: u32,
    masters: u32,
    /// Sum of the rows of live Masters: the master's row when there is one.
    master_rows: u64,
    /// `backing[r]`: live Backups naming row `r` as master.
    backing: Vec<u32>,
    last_sample: Option<(Time, u32)>,
    converged_since: Option<Time>,
    split_brain_us: u64,
    max_masters: u32,
}

impl Tally {
    pub fn new(n: usize, reference: Time, crash_at: Option<Time>) -> Tally {
        Tally {
            reference,
            crash_at,
            first_declare: None,
            elected: None,
            detected: None,
            messages: MessageCounts::default(),
            election_messages: 0,
            events: 0,
            state: vec![(false, Role::Backup, None); n],
            live: 0,
            masters: 0,
            master_rows: 0,
            backing: vec![0; n],
            last_sample: None,
            converged_since: None,
            split_brain_us: 0,
            max_masters: 0,
        }
    }

    /// Records row `r`'s new state.
    pub fn set(&mut self, r: u32, up: bool, role: Role, master: Option<u32>) {
        self.contribute(r, -1);
        self.state[r as usize] = (up, role, master);
        self.contribute(r, 1);
    }

    pub fn set_up(&mut self, r: u32, up: bool) {
        let (_, role, master) = self.state[r as usize];
        self.set(r, up, role, master);
    }

    fn contribute(&mut self, r: u32, sign: i64) {
        let (up, role, master) = self.state[r as usize];
        if !up {
            return;
        }
        let s = sign as i32;
        self.live = (self.live as i32 + s) as u32;
        match role {
            Role::Master => {
                self.masters = (self.masters as i32 + s) as u32;
                self.master_rows = (self.master_rows as i64 + sign * r as i64) as u64;
            }
            Role::Backup => {
                if let Some(m) = master {
                    let b = &mut self.backing[m as usize];
                    *b = (*b as i32 + s) as u32;
                }
            }
            Role::WaitElection => {}
        }
    }

    /// The row of the unique live Master, if the group is converged now.
    pub fn converged_master(&self) -> Option<u32> {
        if self.masters != 1 {
            return None;
        }
        let m = self.master_rows as u32;
        (self.backing[m as usize] == self.live - 1).then_some(m)
    }

    /// Samples the state at the end of instant `t`.
    pub fn sample(&mut self, t: Time) {
        if let Some((prev, masters)) = self.last_sample {
            if masters >= 2 {
                self.split_brain_us += t.0 - prev.0;
            }
        }
        self.last_sample = Some((t, self.masters));
        self.max_masters = self.max_masters.max(self.masters);
        if self.converged_master().is_some() {
            self.converged_since.get_or_insert(t);
        } else {
            self.converged_since = None;
        }
    }

    /// Closes the run at `until` and reports.
    pub fn finish(&mut self, until: Time, ids: &[String]) -> Metrics {
        if let Some((prev, masters)) = self.last_sample {
            if masters >= 2 && until > prev {
                self.split_brain_us += until.0 - prev.0;
            }
        }
        let master = self.converged_master();
        let converged = master.and(self.converged_since).map(|t| t.max(self.reference));
        Metrics {
            crash_at_ms: self.crash_at.map(Time::as_ms),
            first_declare_at_ms: self.first_declare.map(Time::as_ms),
            elected_at_ms: self.elected.map(Time::as_ms),
            detected_at_ms: self.detected.map(Time::as_ms),
            converged_at_ms: converged.map(Time::as_ms),
            final_master: master.map(|r| ids[r as usize].clone()),
            messages: self.messages,
            election_messages: self.election_messages,
            split_brain_ms: Time(self.split_brain_us).as_ms(),
            max_masters: self.max_masters,
            events: self.events,
            truncated: None,
        }
    }
}
