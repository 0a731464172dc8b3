//! A run's trace read once into what a picture of it shows: each server's
//! role over time, its election timers, the message copies on the wire,
//! the faults, the ranking in force, the number of live masters and, under
//! Raft, the highest term.
//!
//! Two views draw from it: the standalone SVG diagram
//! ([`crate::render::svg`]), which walks the role [`Segment`]s, the
//! [`Countdown`]s and the [`MessageCopy`]s in order, and the playground's
//! Watch tab, which asks on every playback frame what was true at the
//! playhead. Replaying the trace on every frame would cost O(events), which
//! a storm of thousands of messages cannot afford at 30 fps, so everything
//! is kept as per-row step functions and send-ordered lists, and every
//! question at an instant is a binary search.
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

pub use copies::MessageCopy;

use crate::message::MessageKind;
use crate::params::Algorithm;
use crate::scenario::{AlgorithmName, FaultAction, Scenario};
use crate::server::{Note, Role};
use crate::sim::{TraceEvent, What};
use crate::time::Time;
use copies::Copies;

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

/// The run as step functions of time.
#[derive(Debug)]
pub struct Replay {
    /// Per row: the instants its state changed, in time order, at most one
    /// per instant (the state at the end of it). A recording's row starts
    /// empty: its state is unknown until the trace gives one.
    states: Vec<Vec<(Time, RowState)>>,
    /// Every election timer, in the order it ended.
    countdowns: Vec<Countdown>,
    /// Per row: its timers' places in `countdowns`, in start order.
    countdowns_of: Vec<Vec<usize>>,
    /// The message copies, in send order.
    copies: Copies,
    /// The faults applied, in trace order.
    faults: Vec<(Time, FaultAction)>,
    /// Rankings in force (`index_of[row]`), from time 0.
    rankings: Vec<(Time, Vec<u32>)>,
    /// Live masters at the end of each instant where the count changed.
    masters: Vec<(Time, u32)>,
    /// Raft only: the highest term any server had reached, from each
    /// instant it rose.
    terms: Vec<(Time, u64)>,
    /// Where the last segment of every row ends: the later of the run's
    /// end and its last event.
    end: Time,
    /// The algorithm that ran.
    pub algorithm: AlgorithmName,
    /// The kinds of message sent in the run, in `MessageKind::EVERY` order.
    pub kinds: Vec<MessageKind>,
}

/// The last entry of a time-ordered list at or before `t`.
fn at<T>(list: &[(Time, T)], t: Time) -> Option<&T> {
    let i = list.partition_point(|(s, _)| *s <= t);
    list.get(i.checked_sub(1)?).map(|(_, v)| v)
}

/// `index_of[row]` for a ranking given as rows by index.
fn invert(rows_by_index: &[u32]) -> Vec<u32> {
    let mut index_of = vec![u32::MAX; rows_by_index.len()];
    for (i, r) in rows_by_index.iter().enumerate() {
        if let Some(slot) = index_of.get_mut(*r as usize) {
            *slot = i as u32;
        }
    }
    index_of
}

/// The replay under way: the state of every row and its open timer.
struct Cursor {
    cur: Vec<Option<RowState>>,
    open: Vec<Option<(Time, Time)>>,
    live_masters: u32,
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
        let initial = |r: u32| match (known_start, r == top) {
            (false, _) => None,
            (true, true) => Some(RowState { status: LaneState::Master, master: None }),
            (true, false) => Some(RowState { status: LaneState::Backup, master: Some(top) }),
        };
        let cur: Vec<Option<RowState>> = (0..n as u32).map(initial).collect();
        let live_masters = cur.iter().filter(|s| s.is_some_and(|s| s.status == LaneState::Master)).count() as u32;
        let mut states: Vec<Vec<(Time, RowState)>> = cur.iter().map(|s| s.map(|s| (Time::ZERO, s)).into_iter().collect()).collect();
        let mut c = Cursor { cur, open: vec![None; n], live_masters };
        let mut countdowns = Vec::new();
        let mut countdowns_of: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut faults = Vec::new();
        let mut rankings = vec![(Time::ZERO, invert(&scenario.ranking))];
        let mut masters = vec![(Time::ZERO, c.live_masters)];
        let mut sent = [false; MessageKind::EVERY.len()];
        let mut terms: Vec<(Time, u64)> = Vec::new();

        let mut close = |c: &mut Cursor, r: usize, t: Time| {
            if let Some((start, due)) = c.open[r].take() {
                countdowns_of[r].push(countdowns.len());
                countdowns.push(Countdown { row: r as u32, start, due, end: t.min(due) });
            }
        };
        let set = |c: &mut Cursor, states: &mut Vec<Vec<(Time, RowState)>>, r: usize, t: Time, s: RowState| {
            let s = RowState { master: if s.status == LaneState::Backup { s.master } else { None }, ..s };
            if c.cur[r] == Some(s) {
                return;
            }
            let was_master = c.cur[r].is_some_and(|s| s.status == LaneState::Master);
            c.live_masters = c.live_masters - was_master as u32 + (s.status == LaneState::Master) as u32;
            c.cur[r] = Some(s);
            let row = &mut states[r];
            match row.last_mut() {
                Some(last) if last.0 == t => last.1 = s,
                _ => row.push((t, s)),
            }
        };

        for (k, e) in events.iter().enumerate() {
            let t = e.t;
            match &e.what {
                What::Role { server, role, master } if (*server as usize) < n => {
                    let r = *server as usize;
                    if *role != Role::WaitElection {
                        close(&mut c, r, t);
                    }
                    if c.cur[r].is_none_or(|s| s.status != LaneState::Down) {
                        set(&mut c, &mut states, r, t, RowState { status: LaneState::of(*role), master: *master });
                    }
                }
                What::Send { msg, .. } => {
                    let k = msg.kind();
                    if let Some(i) = MessageKind::EVERY.iter().position(|x| *x == k) {
                        sent[i] = true;
                    }
                }
                What::Note { note: Note::Raft { term, .. }, .. } if terms.last().is_none_or(|(_, top)| term > top) => {
                    terms.push((t, *term));
                }
                What::Note { server, note: Note::ElectionDelay { delay } } if (*server as usize) < n => {
                    let r = *server as usize;
                    close(&mut c, r, t);
                    c.open[r] = Some((t, Time(t.0 + delay.0)));
                }
                What::Fault { source } => {
                    let Some(f) = scenario.faults.iter().find(|f| f.source == *source as usize) else { continue };
                    match &f.action {
                        FaultAction::Crash(row) if (*row as usize) < n => {
                            let r = *row as usize;
                            close(&mut c, r, t);
                            set(&mut c, &mut states, r, t, RowState { status: LaneState::Down, master: None });
                        }
                        FaultAction::Recover(row) if (*row as usize) < n => {
                            set(&mut c, &mut states, *row as usize, t, RowState { status: LaneState::Backup, master: None });
                        }
                        FaultAction::Rerank(rows) => rankings.push((t, invert(rows))),
                        _ => {}
                    }
                    faults.push((t, f.action.clone()));
                }
                _ => {}
            }
            // Sample at the end of each instant, as the metrics do.
            let instant_over = !matches!(events.get(k + 1), Some(next) if next.t == t);
            if instant_over && masters.last().is_some_and(|(_, m)| *m != c.live_masters) {
                masters.push((t, c.live_masters));
            }
        }
        let end = events.last().map_or(end, |e| e.t.max(end));
        for r in 0..n {
            close(&mut c, r, end);
        }
        let algorithm = match scenario.algorithm {
            Algorithm::Stagger => AlgorithmName::Stagger,
            Algorithm::Raft(_) => AlgorithmName::Raft,
            Algorithm::Bully(_) => AlgorithmName::Bully,
        };
        let kinds = MessageKind::EVERY.iter().zip(sent).filter(|(_, s)| *s).map(|(k, _)| *k).collect();
        let copies = Copies::of(events, n);
        Replay { states, countdowns, countdowns_of, copies, faults, rankings, masters, terms, end, algorithm, kinds }
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

    /// Row `r`'s election timer running at `t`, if it is waiting then.
    pub fn countdown(&self, r: usize, t: Time) -> Option<Countdown> {
        let list = self.countdowns_of.get(r)?;
        let i = list.partition_point(|&k| self.countdowns[k].start <= t).checked_sub(1)?;
        let c = self.countdowns[list[i]];
        (t < c.end && self.state(r, t).status == LaneState::Wait).then_some(c)
    }

    /// Every copy handed to the network among the run's servers, in send
    /// order, dropped ones included.
    pub fn copies(&self) -> &[MessageCopy] {
        self.copies.all()
    }

    /// The copies on the wire at `t`, each with how far along it is (0..1).
    pub fn in_flight(&self, t: Time) -> impl Iterator<Item = (&MessageCopy, f64)> {
        self.copies.at(t)
    }

    /// The faults applied, in trace order.
    pub fn faults(&self) -> &[(Time, FaultAction)] {
        &self.faults
    }

    /// Row `r`'s index in the ranking in force at `t`.
    pub fn rank(&self, r: usize, t: Time) -> u32 {
        at(&self.rankings, t).and_then(|ix| ix.get(r)).copied().unwrap_or(r as u32)
    }

    /// The ranking in force at the end of the run: rows by index.
    pub fn final_rows_by_index(&self) -> Vec<u32> {
        let index_of = &self.rankings.last().expect("the initial ranking").1;
        let mut rows: Vec<u32> = (0..index_of.len() as u32).collect();
        rows.sort_by_key(|r| index_of[*r as usize]);
        rows
    }

    /// Raft only: the highest term any server has reached by the end of
    /// instant `t`.
    pub fn term(&self, t: Time) -> Option<u64> {
        at(&self.terms, t).copied()
    }

    /// Live masters at the end of instant `t`.
    pub fn masters_at(&self, t: Time) -> u32 {
        at(&self.masters, t).copied().unwrap_or(0)
    }

    /// The most live masters at the end of any instant in `[from, ∞)`.
    pub fn max_masters_from(&self, from: Time) -> u32 {
        let i = self.masters.partition_point(|(s, _)| *s <= from);
        let first = self.masters_at(from);
        self.masters[i..].iter().map(|(_, m)| *m).fold(first, u32::max)
    }

    /// The most live masters at the end of any instant before `to`.
    pub fn max_masters_before(&self, to: Time) -> u32 {
        self.masters.iter().take_while(|(s, _)| *s < to).map(|(_, m)| *m).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
