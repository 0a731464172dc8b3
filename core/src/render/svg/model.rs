//! What the drawing shows beyond the run's [`Replay`]: the vertical
//! markers of faults with their wording, the crash and recovery marks on
//! the lanes, and the message kinds the legend covers.

use super::text::Clock;
use crate::message::{MessageKind, Msg as Wire};
use crate::scenario::{FaultAction, Scenario};
use crate::timeline::Replay;

/// A crash (✕) or a recovery (○) on a lane.
pub(super) struct Mark {
    pub t: u64,
    pub row: u32,
    pub crash: bool,
}

/// A vertical marker across the lanes: a fault, or the convergence.
pub(super) struct Event {
    pub t: u64,
    pub label: String,
    pub title: String,
    pub kind: EventKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKind {
    Crash,
    Network,
}

pub(super) struct Model {
    pub replay: Replay,
    pub marks: Vec<Mark>,
    pub events: Vec<Event>,
    /// The kinds the legend and the arrowheads cover: the protocol's four,
    /// or, for another algorithm's trace, the kinds it sent.
    pub kinds: Vec<MessageKind>,
}

impl Model {
    pub fn of(scenario: &Scenario, replay: Replay, clock: Clock) -> Model {
        let n = scenario.len();
        let id = |r: u32| scenario.ids.get(r as usize).map_or("?", |s| s.as_str());
        let mut marks = Vec::new();
        let mut events = Vec::new();
        for (t, action) in replay.faults(scenario) {
            let t = t.0;
            match action {
                FaultAction::Crash(row) if (*row as usize) < n => {
                    marks.push(Mark { t, row: *row, crash: true });
                    events.push(Event {
                        t,
                        label: format!("crash {} {}", id(*row), clock.at(t)),
                        title: format!("{} crashes at {}", id(*row), clock.at(t)),
                        kind: EventKind::Crash,
                    });
                }
                FaultAction::Recover(row) if (*row as usize) < n => marks.push(Mark { t, row: *row, crash: false }),
                FaultAction::Crash(_) | FaultAction::Recover(_) => {}
                FaultAction::Partition(groups) => {
                    let gs: Vec<String> =
                        groups.iter().map(|g| format!("{{{}}}", g.iter().map(|r| id(*r)).collect::<Vec<_>>().join(", "))).collect();
                    events.push(Event {
                        t,
                        label: "partition".into(),
                        title: format!("partition {} at {}", gs.join(" | "), clock.at(t)),
                        kind: EventKind::Network,
                    });
                }
                FaultAction::Cut { from, to } => events.push(Event {
                    t,
                    label: format!("cut {} → {}", id(*from), id(*to)),
                    title: format!("one-way cut {} → {} at {}", id(*from), id(*to), clock.at(t)),
                    kind: EventKind::Network,
                }),
                FaultAction::Heal => events.push(Event {
                    t,
                    label: "heal".into(),
                    title: format!("partition healed at {}", clock.at(t)),
                    kind: EventKind::Network,
                }),
                FaultAction::Rerank(rows) => events.push(Event {
                    t,
                    label: "rerank".into(),
                    title: format!("rerank at {}: {}", clock.at(t), rows.iter().map(|r| id(*r)).collect::<Vec<_>>().join(", ")),
                    kind: EventKind::Network,
                }),
            }
        }
        let copies = replay.copies();
        let kinds = if copies.iter().all(|c| matches!(c.msg, Wire::Stagger(_))) {
            MessageKind::ALL.to_vec()
        } else {
            MessageKind::EVERY.into_iter().filter(|k| copies.iter().any(|c| c.kind() == *k)).collect()
        };
        Model { replay, marks, events, kinds }
    }
}
