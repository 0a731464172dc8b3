//! The metrics of SPEC §8, kept incrementally.
//!
//! States are sampled at the end of each instant. Checking "exactly one live
//! Master and every other live server a Backup naming it" by scanning all
//! servers would cost O(N) per instant, which a 1,000-server storm cannot
//! afford, so the counts that decide it are updated on every role change.
//!
//! Converged at the end is not enough to call a run settled: a group that
//! keeps changing masters is converged between changes, so the verdict
//! would depend on where the run happens to stop. [`Metrics::settled`]
//! asks for the same master through the whole stability window before the
//! end ([`Scenario::stability_window`], docs/protocol.md S9).

use crate::message::MessageKind;
use crate::scenario::Scenario;
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
    /// Whether the run shows where the group settled: `stable` only when
    /// it was converged on one master for at least `stable_window_ms`
    /// before the end, whatever `converged_at_ms` says.
    #[serde(default)]
    pub settled: Settled,
    /// How long before the end the group must have been converged on one
    /// master to be `stable`.
    #[serde(default)]
    pub stable_window_ms: f64,
    /// The last instant at which a live server changed its role or the
    /// master it names; null if none ever did.
    #[serde(default)]
    pub last_change_ms: Option<f64>,
    /// How many times a live server changed its role or the master it
    /// names, over the whole run.
    #[serde(default)]
    pub role_changes: u64,
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
    /// What the clients saw, in a run with a `service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<super::ServiceMetrics>,
}

/// Where a run left the group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settled {
    /// Converged on one master through the whole stability window before
    /// the end.
    Stable,
    /// Roles changed within the stability window before the end (the group
    /// may be converged right now, but has not shown that it stays so).
    StillChanging,
    /// Not converged at the end, and nothing changed within the window: a
    /// lasting split or a group with no master.
    #[default]
    NotConverged,
}

impl Metrics {
    /// What the master at the end is called: "final" only when the group
    /// has settled on it.
    pub fn master_label(&self) -> &'static str {
        if self.settled == Settled::Stable {
            "final master"
        } else {
            "master at the end"
        }
    }

    /// The convergence as every report words it (the CLI, the diagram's
    /// caption, the embed), with instants written by `at`: "converged at
    /// …", "still changing (last change at …)" or "never converged". A run
    /// that ends while masters still change is never reported as converged,
    /// whatever `converged_at_ms` holds.
    pub fn convergence_text(&self, at: impl Fn(f64) -> String) -> String {
        match (self.settled, self.converged_at_ms) {
            (Settled::Stable, Some(t)) => format!("converged at {}", at(t)),
            (Settled::StillChanging, _) => {
                format!("still changing (last change at {})", self.last_change().map_or("—".to_string(), &at))
            }
            _ => "never converged".into(),
        }
    }

    /// The last instant at which the group changed: a role change, or the
    /// start of the current converged stretch (which a crash can begin).
    pub fn last_change(&self) -> Option<f64> {
        match (self.last_change_ms, self.converged_at_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
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
    /// Since when, and on which master, the group has been converged.
    converged_since: Option<(Time, u32)>,
    role_changes: u64,
    /// Role changes not yet sampled: their instant is the next sample's.
    unsampled_changes: bool,
    last_change: Option<Time>,
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
            role_changes: 0,
            unsampled_changes: false,
            last_change: None,
            split_brain_us: 0,
            max_masters: 0,
        }
    }

    /// Records row `r`'s new state.
    pub fn set(&mut self, r: u32, up: bool, role: Role, master: Option<u32>) {
        let (was_up, was_role, was_master) = self.state[r as usize];
        if was_up && up && (was_role, was_master) != (role, master) {
            self.role_changes += 1;
            self.unsampled_changes = true;
        }
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
        if std::mem::take(&mut self.unsampled_changes) {
            self.last_change = Some(t);
        }
        self.converged_since = match (self.converged_master(), self.converged_since) {
            (Some(m), Some((since, was))) if m == was => Some((since, m)),
            (Some(m), _) => Some((t, m)),
            (None, _) => None,
        };
    }

    /// Closes the run at `until` and reports: the scenario's `until_ms`, or
    /// where its budget stopped it.
    pub fn finish(&mut self, scenario: &Scenario, until: Time) -> Metrics {
        if let Some((prev, masters)) = self.last_sample {
            if masters >= 2 && until > prev {
                self.split_brain_us += until.0 - prev.0;
            }
        }
        // A crash after the end never happened: no crash, reference 0.
        let crash_at = self.crash_at.filter(|t| *t <= until);
        let reference = if crash_at.is_some() { self.reference } else { Time::ZERO };
        let master = self.converged_master();
        let since = self.converged_since.filter(|(_, m)| Some(*m) == master).map(|(t, _)| t);
        let converged = since.map(|t| t.max(reference));
        let window = scenario.stability_window();
        let recent = |t: Time| until.0.saturating_sub(t.0) < window.0;
        let settled = match since {
            Some(t) if !recent(t) => Settled::Stable,
            Some(_) => Settled::StillChanging,
            None if self.last_change.is_some_and(recent) => Settled::StillChanging,
            None => Settled::NotConverged,
        };
        Metrics {
            crash_at_ms: crash_at.map(Time::as_ms),
            first_declare_at_ms: self.first_declare.map(Time::as_ms),
            elected_at_ms: self.elected.map(Time::as_ms),
            detected_at_ms: self.detected.map(Time::as_ms),
            converged_at_ms: converged.map(Time::as_ms),
            settled,
            stable_window_ms: window.as_ms(),
            last_change_ms: self.last_change.map(Time::as_ms),
            role_changes: self.role_changes,
            final_master: master.map(|r| scenario.ids[r as usize].clone()),
            messages: self.messages,
            election_messages: self.election_messages,
            split_brain_ms: Time(self.split_brain_us).as_ms(),
            max_masters: self.max_masters,
            events: self.events,
            truncated: None,
            service: None,
        }
    }
}
