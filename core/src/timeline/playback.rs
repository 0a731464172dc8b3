//! What playback asks of a run at the playhead beyond its lanes: the
//! election timer running on a row, the ranking in force, the number of
//! live masters, Raft's term, and the kinds of message sent.
//!
//! Kept apart from [`Replay`] because only the playground's Watch tab asks
//! it: the SVG diagram (and the playground's first page, which shows only
//! the diagram) does not carry this code.

use super::copies::{longest, on_the_wire};
use super::{at, Countdown, LaneState, MessageCopy, Replay};
use crate::message::MessageKind;
use crate::params::Algorithm;
use crate::scenario::{AlgorithmName, FaultAction, Scenario};
use crate::server::Note;
use crate::sim::{TraceEvent, What};
use crate::time::Time;
use std::ops::Deref;

/// A simulated run's [`Replay`] with the tallies playback reads at every
/// frame, each a binary search. It reads as its replay too (`Deref`).
#[derive(Debug)]
pub struct Playback {
    replay: Replay,
    /// The longest flight of a copy, in µs.
    longest: u64,
    /// Per row: its timers' places in `replay.countdowns()`, in start order.
    countdowns_of: Vec<Vec<usize>>,
    /// Rankings in force (`index_of[row]`), from time 0.
    rankings: Vec<(Time, Vec<u32>)>,
    /// Live masters at the end of each instant where the count changed.
    masters: Vec<(Time, u32)>,
    /// Raft only: the highest term any server had reached, from each
    /// instant it rose.
    terms: Vec<(Time, u64)>,
    /// The algorithm that ran.
    pub algorithm: AlgorithmName,
    /// The kinds of message sent in the run, in `MessageKind::EVERY` order.
    pub kinds: Vec<MessageKind>,
}

impl Deref for Playback {
    type Target = Replay;
    fn deref(&self) -> &Replay {
        &self.replay
    }
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

/// The live masters at the end of every instant where their number
/// changed, from `initial` at time 0 and each row's changes (+1, −1) in
/// time order.
fn masters(changes: &[(Time, i8)], initial: u32) -> Vec<(Time, u32)> {
    let mut out = vec![(Time::ZERO, initial)];
    let mut live = i64::from(initial);
    for (i, (t, d)) in changes.iter().enumerate() {
        live += i64::from(*d);
        let instant_over = changes.get(i + 1).is_none_or(|next| next.0 != *t);
        if instant_over && out.last().is_some_and(|(_, m)| i64::from(*m) != live) {
            out.push((*t, live as u32));
        }
    }
    out
}

impl Playback {
    /// Replays a simulated run's trace for playback.
    pub fn of(scenario: &Scenario, events: &[TraceEvent]) -> Playback {
        let replay = Replay::of(scenario, events);
        let mut countdowns_of: Vec<Vec<usize>> = vec![Vec::new(); replay.len()];
        for (k, c) in replay.countdowns().iter().enumerate() {
            countdowns_of[c.row as usize].push(k);
        }
        let mut rankings = vec![(Time::ZERO, invert(&scenario.ranking))];
        for (t, f) in replay.faults(scenario) {
            if let FaultAction::Rerank(rows) = f {
                rankings.push((t, invert(rows)));
            }
        }
        let mut sent = [false; MessageKind::EVERY.len()];
        let mut terms: Vec<(Time, u64)> = Vec::new();
        for e in events {
            match &e.what {
                What::Send { msg, .. } => {
                    let k = msg.kind();
                    if let Some(i) = MessageKind::EVERY.iter().position(|x| *x == k) {
                        sent[i] = true;
                    }
                }
                What::Note { note: Note::Raft { term, .. }, .. } if terms.last().is_none_or(|(_, top)| term > top) => {
                    terms.push((e.t, *term));
                }
                _ => {}
            }
        }
        let algorithm = match scenario.algorithm {
            Algorithm::Stagger => AlgorithmName::Stagger,
            Algorithm::Raft(_) => AlgorithmName::Raft,
            Algorithm::Bully(_) => AlgorithmName::Bully,
        };
        let kinds = MessageKind::EVERY.iter().zip(sent).filter(|(_, s)| *s).map(|(k, _)| *k).collect();
        // A run starts with one master, ranking[0].
        let masters = masters(&replay.master_changes, u32::from(!scenario.ranking.is_empty()));
        let longest = longest(replay.copies());
        Playback { replay, longest, countdowns_of, rankings, masters, terms, algorithm, kinds }
    }

    /// Row `r`'s election timer running at `t`, if it is waiting then.
    pub fn countdown(&self, r: usize, t: Time) -> Option<Countdown> {
        let list = self.countdowns_of.get(r)?;
        let all = self.replay.countdowns();
        let i = list.partition_point(|&k| all[k].start <= t).checked_sub(1)?;
        let c = all[list[i]];
        (t < c.end && self.state(r, t).status == LaneState::Wait).then_some(c)
    }

    /// The copies on the wire at `t`, each with how far along it is (0..1).
    pub fn in_flight(&self, t: Time) -> impl Iterator<Item = (&MessageCopy, f64)> {
        on_the_wire(self.replay.copies(), self.longest, t)
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
