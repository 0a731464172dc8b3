//! A run's trace read once into what a picture of it shows: each server's
//! role over time, its election timers, the message copies on the wire and
//! the faults ([`Replay`]); and, for playback, the ranking in force, the
//! number of live masters and, under Raft, the highest term
//! ([`Playback`]).
//!
//! Two views draw from it: the standalone SVG diagram
//! ([`crate::render::svg`]), which walks the role [`Segment`]s, the
//! [`Countdown`]s and the [`MessageCopy`]s of a [`Replay`] in order, and
//! the playground's Watch tab, which asks a [`Playback`] on every frame
//! what was true at the playhead. Replaying the trace on every frame would
//! cost O(events), which a storm of thousands of messages cannot afford at
//! 30 fps, so everything is kept as per-row step functions and time-ordered
//! lists, and every question at an instant is a binary search.
//!
//! The replay follows SPEC §1 and §8: a run starts with `ranking[0]` as
//! Master and every other server a Backup naming it; a crash takes a server
//! down (the engine emits no role change for it), a recovery brings it back
//! as a Backup with no master, and role changes of a down server are
//! ignored. Raft and Bully report their roles in the same terms (a leader
//! or coordinator is a Master, a follower a Backup of it, a candidate or an
//! elector waits in the election), so they replay the same way; only the
//! names differ ([`LaneState::label`]). A live group's merged flight
//! recordings ([`Replay::of_recording`]) start with no role known: what a
//! member did before its recording began is not in it.

mod copies;
mod playback;
mod service;

pub use copies::MessageCopy;
pub use playback::Playback;
pub use service::{Applied, Hop, ServiceCopy};

use crate::scenario::{AlgorithmName, FaultAction, Scenario};
use crate::server::{Note, Role};
use crate::sim::{TraceEvent, What};
use crate::time::Time;
use std::collections::HashMap;

/// What a server is doing, as the views colour it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneState {
    Master,
    Backup,
    Wait,
    Down,
}

impl LaneState {
    /// The protocol's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            LaneState::Master => "Master",
            LaneState::Backup => "Backup",
            LaneState::Wait => "WaitElection",
            LaneState::Down => "down",
        }
    }

    /// The state's name under `algorithm`: Raft's leader, follower and
    /// candidate; Bully's coordinator, follower and elector.
    pub fn label(self, algorithm: AlgorithmName) -> &'static str {
        match (algorithm, self) {
            (_, LaneState::Down) | (AlgorithmName::Stagger, _) => self.name(),
            (AlgorithmName::Raft, LaneState::Master) => "leader",
            (AlgorithmName::Raft, LaneState::Wait) => "candidate",
            (AlgorithmName::Bully, LaneState::Master) => "coordinator",
            (AlgorithmName::Bully, LaneState::Wait) => "electing",
            (_, LaneState::Backup) => "follower",
        }
    }

    fn of(role: Role) -> LaneState {
        match role {
            Role::Master => LaneState::Master,
            Role::Backup => LaneState::Backup,
            Role::WaitElection => LaneState::Wait,
        }
    }
}

/// One server's state: what it does and, for a Backup, the row it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowState {
    pub status: LaneState,
    pub master: Option<u32>,
}

/// A stretch of time `[start, end)` over which a row's state held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start: Time,
    pub end: Time,
    pub state: RowState,
}

/// An election timer of `row`: armed at `start` to fire at `due`, and over
/// at `end` (`due`, or earlier when the server left WaitElection, crashed
/// or drew a new delay).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Countdown {
    pub row: u32,
    pub start: Time,
    pub due: Time,
    pub end: Time,
}

impl Countdown {
    /// Whether the timer ran to its due time (else it was cancelled).
    pub fn fired(&self) -> bool {
        self.end >= self.due
    }
}

/// The run as step functions of time: what a picture of it draws.
#[derive(Debug)]
pub struct Replay {
    /// Per row: the instants its state changed, in time order, at most one
    /// per instant (the state at the end of it). A recording's row starts
    /// empty: its state is unknown until the trace gives one.
    states: Vec<Vec<(Time, RowState)>>,
    /// Every election timer, in the order it ended.
    countdowns: Vec<Countdown>,
    /// The message copies, in send order.
    copies: Vec<MessageCopy>,
    /// The replicated service's messages, in send order, and each
    /// member's applied index as it rose (in a run with a `service`).
    service: Vec<ServiceCopy>,
    applied: Vec<Applied>,
    /// The faults applied, in trace order: when, and their place in the
    /// scenario's `faults`.
    faults: Vec<(Time, usize)>,
    /// Each time a row became or stopped being Master (+1, −1), in trace
    /// order: what [`Playback`] counts live masters from.
    master_changes: Vec<(Time, i8)>,
    /// Where the last segment of every row ends: the later of the run's
    /// end and its last event.
    end: Time,
}

/// The last entry of a time-ordered list at or before `t`.
pub(crate) fn at<T>(list: &[(Time, T)], t: Time) -> Option<&T> {
    let i = list.partition_point(|(s, _)| *s <= t);
    list.get(i.checked_sub(1)?).map(|(_, v)| v)
}

impl Replay {
    /// A simulated run's trace: every server starts in the patent's
    /// initial role, and the lanes run to the later of `scenario.until`
    /// and the last event.
    pub fn of(scenario: &Scenario, events: &[TraceEvent]) -> Replay {
        Replay::build(scenario, events, true, scenario.until)
    }

    /// A live group's merged flight recordings, whose window ends at
    /// `end`: no role is known until the trace gives one.
    pub fn of_recording(scenario: &Scenario, events: &[TraceEvent], end: Time) -> Replay {
        Replay::build(scenario, events, false, end)
    }

    fn build(scenario: &Scenario, events: &[TraceEvent], known_start: bool, end: Time) -> Replay {
        let n = scenario.len();
        let top = scenario.ranking.first().copied().unwrap_or(0);
        // A row's state is the last in its list (none yet: unknown).
        let mut states: Vec<Vec<(Time, RowState)>> = vec![Vec::new(); n];
        if known_start {
            for (r, row) in states.iter_mut().enumerate() {
                let state = if r as u32 == top {
                    RowState { status: LaneState::Master, master: None }
                } else {
                    RowState { status: LaneState::Backup, master: Some(top) }
                };
                row.push((Time::ZERO, state));
            }
        }
        let mut open: Vec<Option<(Time, Time)>> = vec![None; n];
        let mut countdowns = Vec::new();
        let mut faults = Vec::new();
        let mut master_changes = Vec::new();
        let mut copies: Vec<MessageCopy> = Vec::new();
        let mut copy_of_id: HashMap<u64, usize> = HashMap::new();
        #[cfg_attr(not(feature = "service"), allow(unused_mut))]
        let (mut service, mut applied) = (Vec::new(), Vec::new());

        fn close(open: &mut Option<(Time, Time)>, row: usize, t: Time, out: &mut Vec<Countdown>) {
            if let Some((start, due)) = open.take() {
                out.push(Countdown { row: row as u32, start, due, end: t.min(due) });
            }
        }
        /// Row `r`'s state from `t` on; a change within an instant replaces
        /// the one before it.
        fn set(row: &mut Vec<(Time, RowState)>, t: Time, s: RowState, master_changes: &mut Vec<(Time, i8)>) {
            let s = RowState { master: if s.status == LaneState::Backup { s.master } else { None }, ..s };
            let was = row.last().is_some_and(|(_, l)| l.status == LaneState::Master);
            if was != (s.status == LaneState::Master) {
                master_changes.push((t, if was { -1 } else { 1 }));
            }
            match row.last_mut() {
                Some(last) if last.1 == s => {}
                Some(last) if last.0 == t => last.1 = s,
                _ => row.push((t, s)),
            }
        }

        for e in events {
            let t = e.t;
            match &e.what {
                What::Role { server, role, master } if (*server as usize) < n => {
                    let r = *server as usize;
                    if *role != Role::WaitElection {
                        close(&mut open[r], r, t, &mut countdowns);
                    }
                    if states[r].last().is_none_or(|(_, s)| s.status != LaneState::Down) {
                        set(&mut states[r], t, RowState { status: LaneState::of(*role), master: *master }, &mut master_changes);
                    }
                }
                What::Note { server, note: Note::ElectionDelay { delay } } if (*server as usize) < n => {
                    let r = *server as usize;
                    close(&mut open[r], r, t, &mut countdowns);
                    open[r] = Some((t, Time(t.0 + delay.0)));
                }
                What::Fault { source } => {
                    let Some(k) = scenario.faults.iter().position(|f| f.source == *source as usize) else { continue };
                    let f = &scenario.faults[k];
                    match f.action {
                        FaultAction::Crash(row) if (row as usize) < n => {
                            let r = row as usize;
                            close(&mut open[r], r, t, &mut countdowns);
                            set(&mut states[r], t, RowState { status: LaneState::Down, master: None }, &mut master_changes);
                        }
                        FaultAction::Recover(row) if (row as usize) < n => {
                            let r = row as usize;
                            set(&mut states[r], t, RowState { status: LaneState::Backup, master: None }, &mut master_changes);
                        }
                        _ => {}
                    }
                    faults.push((t, k));
                }
                What::Send { id, from, to, msg, arrive } if (*from as usize) < n && (*to as usize) < n => {
                    copy_of_id.insert(*id, copies.len());
                    copies.push(MessageCopy { from: *from, to: *to, msg: *msg, send: t, arrive: *arrive, drop: None });
                }
                What::Drop { id, reason, .. } => {
                    if let Some(&i) = copy_of_id.get(id) {
                        copies[i].drop = Some((t, *reason));
                    }
                }
                #[cfg(feature = "service")]
                What::Service(flow) if flow.within(n as u32) => match *flow {
                    crate::sim::Flow::Applied { server, index } => applied.push(Applied { t, row: server, index }),
                    _ => service.extend(ServiceCopy::of(t, flow)),
                },
                _ => {}
            }
        }
        let end = events.last().map_or(end, |e| e.t.max(end));
        for (r, o) in open.iter_mut().enumerate() {
            close(o, r, end, &mut countdowns);
        }
        Replay { states, countdowns, copies, service, applied, faults, master_changes, end }
    }

    /// The number of servers.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Row `r`'s state at the end of instant `t`; a row whose state is not
    /// known (yet) reads as down.
    pub fn state(&self, r: usize, t: Time) -> RowState {
        self.states.get(r).and_then(|s| at(s, t)).copied().unwrap_or(RowState { status: LaneState::Down, master: None })
    }

    /// Row `r`'s states over the whole run, as stretches of time from its
    /// first known state to the end. The last stretch is left out when it
    /// is empty (a change at the very end), unless it is the only one.
    pub fn segments(&self, r: usize) -> impl Iterator<Item = Segment> + '_ {
        let steps = self.states.get(r).map_or(&[][..], |s| s.as_slice());
        let end = self.end;
        steps.iter().enumerate().filter_map(move |(i, &(start, state))| match steps.get(i + 1) {
            Some(&(next, _)) => Some(Segment { start, end: next, state }),
            None if end > start || i == 0 => Some(Segment { start, end: end.max(start), state }),
            None => None,
        })
    }

    /// Every election timer of the run, in the order it ended.
    pub fn countdowns(&self) -> &[Countdown] {
        &self.countdowns
    }

    /// Every copy handed to the network among the run's servers, in send
    /// order, dropped ones included.
    pub fn copies(&self) -> &[MessageCopy] {
        &self.copies
    }

    /// The replicated service's messages, in send order.
    pub fn service(&self) -> &[ServiceCopy] {
        &self.service
    }

    /// Each member's applied index as it rose, in trace order.
    pub fn applied(&self) -> &[Applied] {
        &self.applied
    }

    /// The faults applied, in trace order, as `scenario` (the one the
    /// replay was made from) defines them.
    pub fn faults<'a>(&'a self, scenario: &'a Scenario) -> impl Iterator<Item = (Time, &'a FaultAction)> + 'a {
        self.faults.iter().map(|&(t, k)| (t, &scenario.faults[k].action))
    }
}

#[cfg(test)]
mod tests;
