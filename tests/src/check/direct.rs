//! Two consequences of linearizability, asserted directly: they need no
//! search, so a fault test states them in its own words and a reader sees
//! which promise broke (KC4).
//!
//! Both rely on writes carrying unique values (the load generator writes
//! `"c3-17"`: client and sequence number); a value written by two
//! operations is reported rather than guessed about.

use super::describe;
use stagger_core::service::{Answer, History, HistoryEvent as Event, Op, Outcome};
use std::collections::{BTreeMap, HashMap};

/// The value an operation leaves in its key if it takes effect, and
/// whether it may have taken effect at all: `Some(new value)` for a write
/// that is `ok` and changed the key or is `unknown`.
fn effect(e: &Event) -> Option<Option<&String>> {
    let possible = match e.outcome {
        Outcome::Ok => !matches!(e.answer, Some(Answer::Swapped { ok: false, .. })),
        Outcome::Unknown => true,
        Outcome::Fail => false,
    };
    match &e.op {
        _ if !possible => None,
        Op::Get { .. } => None,
        Op::Put { value, .. } => Some(Some(value)),
        Op::Delete { .. } => Some(None),
        Op::Cas { new, .. } => Some(new.as_ref()),
    }
}

/// Writes whose unique value is not unique: written by two operations.
fn repeated_values(history: &History) -> Vec<String> {
    let mut by_value: HashMap<(&str, &String), &Event> = HashMap::new();
    let mut problems = Vec::new();
    for e in history.events.iter().filter(|e| e.outcome != Outcome::Fail) {
        let value = match &e.op {
            Op::Put { value, .. } => Some(value),
            Op::Cas { new, .. } => new.as_ref(),
            _ => None,
        };
        if let Some(v) = value {
            if let Some(first) = by_value.insert((e.op.key(), v), e) {
                problems.push(format!(
                    "the value {v:?} is written by two operations ({} and {}): the direct checks need unique values",
                    describe(first),
                    describe(e)
                ));
            }
        }
    }
    problems
}

/// Every `ok` write is either the final value of its key (as `final_reads`
/// shows it, read after the load ended) or overwritten by a write that may
/// have taken effect after it. A key missing from `final_reads` is not
/// checked. One text per lost write, naming the write and what the key
/// holds instead.
pub fn lost_writes(history: &History, final_reads: &BTreeMap<String, Option<String>>) -> Vec<String> {
    let mut problems = repeated_values(history);
    let latest = super::deadlines(history);
    for (key, last) in final_reads {
        let writes: Vec<(usize, &Event)> =
            history.events.iter().enumerate().filter(|(_, e)| e.op.key() == key && effect(e).is_some()).collect();
        // The writes that may have left `last`, and the latest instant each
        // may have taken effect (the key's initial absence: before all).
        let mut leavers: Vec<(f64, Option<&Event>)> =
            writes.iter().filter(|(_, e)| effect(e) == Some(last.as_ref())).map(|&(i, e)| (latest[i], Some(e))).collect();
        if last.is_none() {
            leavers.push((f64::NEG_INFINITY, None));
        }
        let Some(&(by, leaver)) = leavers.iter().max_by(|a, b| a.0.total_cmp(&b.0)) else {
            problems.push(format!("key {key:?} holds {last:?}, which no operation of the history wrote"));
            continue;
        };
        let holds = match (last, leaver) {
            (Some(v), Some(e)) => format!("{v:?}, written by {}", describe(e)),
            (None, Some(e)) => format!("absent, deleted by {}", describe(e)),
            (_, None) => "absent, as it was before any write".into(),
        };
        for (_, w) in writes.iter().filter(|(_, w)| w.outcome == Outcome::Ok && w.invoke_ms > by) {
            problems.push(format!(
                "key {key:?}: the acknowledged write {} is lost: the key is {holds}, which took effect before it was invoked",
                describe(w)
            ));
        }
    }
    problems
}

/// No write took effect twice. A value that was in its key when two
/// different writes replaced it (their `previous`, or a swap's `expected`)
/// was put there twice: one text per such value, naming the two writes
/// that saw it. Also refused: two operations with one client and sequence
/// number (a client that reused one would make the table's answer wrong).
pub fn applied_twice(history: &History) -> Vec<String> {
    let mut problems = repeated_values(history);
    let mut ids: HashMap<(&str, u64), &Event> = HashMap::new();
    for e in &history.events {
        if let Some(first) = ids.insert((&e.client, e.seq), e) {
            problems.push(format!("client {} used sequence number {} twice: {} and {}", e.client, e.seq, describe(first), describe(e)));
        }
    }
    let mut replaced: HashMap<(&str, &String), &Event> = HashMap::new();
    for e in history.events.iter().filter(|e| e.outcome == Outcome::Ok) {
        let saw = match (&e.op, &e.answer) {
            (Op::Put { .. } | Op::Delete { .. }, Some(Answer::Written { previous: Some(p) })) => Some(p),
            (Op::Cas { expected: Some(x), new, .. }, Some(Answer::Swapped { ok: true, .. })) if new.as_ref() != Some(x) => Some(x),
            _ => None,
        };
        if let Some(v) = saw {
            if let Some(first) = replaced.insert((e.op.key(), v), e) {
                problems.push(format!(
                    "the value {v:?} of key {:?} was applied twice: both {} and {} replaced it",
                    e.op.key(),
                    describe(first),
                    describe(e)
                ));
            }
        }
    }
    problems
}
