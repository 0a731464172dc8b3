//! The checker of the replicated service's histories (docs/guarantees.md,
//! "The replicated service"; docs/protocol.md KC rows).
//!
//! [`linearizable`] checks a [`History`] per key against a register with
//! get, put, delete and compare-and-swap. Per key is enough: every
//! operation touches one key, and linearizability is local (Herlihy and
//! Wing, 1990): a history is linearizable if and only if each object's
//! sub-history is. The search is in [`linear`] (why not `stateright`'s is
//! said there).
//!
//! How outcomes are read (KC3):
//! - `ok`: took effect once, somewhere between its invocation and its
//!   completion, and returned its answer.
//! - `fail`: did not take effect; left out.
//! - `unknown` write: may have taken effect, at most once, at any instant
//!   after its invocation and before the completion of the same client's
//!   next `ok` write (the client table drops a request older than the
//!   client's last applied one, so it cannot take effect after that one);
//!   with no such write, at any instant after its invocation (the Knossos
//!   convention). An unknown `get` changes nothing and is left out.
//!
//! [`direct`] asserts two consequences without a search: no acknowledged
//! write lost, nothing applied twice.

pub mod direct;
pub mod linear;
#[cfg(test)]
mod tests;

pub use direct::{applied_twice, lost_writes};

use linear::{Call, Op, Outcome as Search, Ret, Value};
use stagger_core::service::{Answer, History, HistoryEvent as Event, Op as KvOp, Outcome};
use std::collections::{BTreeMap, HashMap};

/// Steps of the search per key before it gives up (undecided). A history of
/// a few hundred operations per key with eight clients takes far fewer.
pub const BUDGET: u64 = 20_000_000;

/// The verdict on one key.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Linearizable,
    /// The counterexample, as text.
    NotLinearizable(String),
    /// The search ran out of steps: neither proved nor refuted.
    Undecided(String),
}

/// The verdict on every key of a history.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// key → (operations checked, verdict)
    pub keys: BTreeMap<String, (usize, Verdict)>,
}

impl Report {
    pub fn is_linearizable(&self) -> bool {
        self.keys.values().all(|(_, v)| *v == Verdict::Linearizable)
    }

    /// What is wrong, one text per key that is not proved linearizable.
    pub fn problems(&self) -> Vec<String> {
        self.keys
            .values()
            .filter_map(|(_, v)| match v {
                Verdict::Linearizable => None,
                Verdict::NotLinearizable(t) | Verdict::Undecided(t) => Some(t.clone()),
            })
            .collect()
    }
}

/// Checks `history` per key, with [`BUDGET`] steps per key.
pub fn linearizable(history: &History) -> Report {
    linearizable_within(history, BUDGET)
}

pub fn linearizable_within(history: &History, budget: u64) -> Report {
    let until = deadlines(history);
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in history.events.iter().enumerate() {
        let kept = match e.outcome {
            Outcome::Ok => true,
            Outcome::Fail => false,
            Outcome::Unknown => e.op.writes(),
        };
        if kept {
            by_key.entry(e.op.key()).or_default().push(i);
        }
    }
    let keys = by_key
        .into_iter()
        .map(|(key, members)| {
            let events: Vec<&Event> = members.iter().map(|&i| &history.events[i]).collect();
            let untils: Vec<f64> = members.iter().map(|&i| until[i]).collect();
            (key.to_string(), (events.len(), check_key(key, &events, &untils, budget)))
        })
        .collect();
    Report { keys }
}

/// For each event, the instant by which it must have taken effect (KC3).
fn deadlines(history: &History) -> Vec<f64> {
    let mut ok_writes: HashMap<&str, Vec<(u64, f64)>> = HashMap::new();
    for e in &history.events {
        if e.outcome == Outcome::Ok && e.op.writes() {
            ok_writes.entry(&e.client).or_default().push((e.seq, e.complete_ms));
        }
    }
    history
        .events
        .iter()
        .map(|e| match e.outcome {
            Outcome::Unknown => ok_writes
                .get(e.client.as_str())
                .and_then(|w| w.iter().filter(|(seq, _)| *seq > e.seq).min_by_key(|(seq, _)| *seq))
                .map_or(f64::INFINITY, |(_, at)| *at),
            _ => e.complete_ms,
        })
        .collect()
}

/// Values interned to numbers for the search, and back for the text.
#[derive(Default)]
struct Values {
    ids: HashMap<String, Value>,
    names: Vec<String>,
}

impl Values {
    fn id(&mut self, v: &Option<String>) -> Option<Value> {
        let v = v.as_ref()?;
        if let Some(id) = self.ids.get(v) {
            return Some(*id);
        }
        let id = self.names.len() as Value;
        self.names.push(v.clone());
        self.ids.insert(v.clone(), id);
        Some(id)
    }

    fn show(&self, v: Option<Value>) -> String {
        v.map_or("absent".into(), |id| format!("{:?}", self.names[id as usize]))
    }
}

fn check_key(key: &str, events: &[&Event], until: &[f64], budget: u64) -> Verdict {
    if let Some(e) = events.iter().find(|e| e.outcome == Outcome::Ok && e.answer.is_none()) {
        return Verdict::NotLinearizable(format!("key {key:?}: {} is ok but carries no answer", describe(e)));
    }
    let mut values = Values::default();
    let ops: Vec<Op> = events
        .iter()
        .zip(until)
        .map(|(e, &until)| {
            let call = match &e.op {
                KvOp::Get { .. } => Call::Get,
                KvOp::Put { value, .. } => Call::Put(values.id(&Some(value.clone())).expect("a value")),
                KvOp::Delete { .. } => Call::Delete,
                KvOp::Cas { expected, new, .. } => Call::Cas { expected: values.id(expected), new: values.id(new) },
            };
            let ret = match (&e.outcome, &e.answer) {
                (Outcome::Ok, Some(Answer::Value { value })) => Some(Ret::Value(values.id(value))),
                (Outcome::Ok, Some(Answer::Written { previous })) => Some(Ret::Written { previous: values.id(previous) }),
                (Outcome::Ok, Some(Answer::Swapped { ok, current })) => Some(Ret::Swapped { ok: *ok, current: values.id(current) }),
                _ => None,
            };
            Op { call, ret, invoke: e.invoke_ms, until }
        })
        .collect();
    match linear::search(&ops, budget) {
        Search::Linearizable(_) => Verdict::Linearizable,
        Search::Undecided { steps } => {
            Verdict::Undecided(format!("key {key:?}: undecided: the search gave up after {steps} steps over {} operations", ops.len()))
        }
        Search::NotLinearizable { placed, state, stuck } => {
            let mut text = format!(
                "key {key:?}: not linearizable ({} operations). The longest linearization found places {} of them",
                ops.len(),
                placed.len()
            );
            let shown = placed.len().saturating_sub(6);
            text += if shown > 0 { ", ending with:\n" } else { ":\n" };
            for &(i, skipped) in &placed[shown..] {
                let how = if skipped { " (skipped: did not take effect)" } else { "" };
                text += &format!("  {}{how}\n", describe(events[i]));
            }
            text += &format!("after which {key:?} is {}, and none of the operations that could come next fits:", values.show(state));
            for i in stuck {
                let (_, would) = linear::apply(state, ops[i].call);
                let why = match ops[i].ret {
                    None => "unknown, so it may also never take effect".to_string(),
                    Some(r) if r == would => "it fits here, but then the rest does not".to_string(),
                    Some(_) => format!("here it would return {}", show_ret(&values, would)),
                };
                text += &format!("\n  {}: {why}", describe(events[i]));
            }
            Verdict::NotLinearizable(text)
        }
    }
}

fn show_ret(values: &Values, r: Ret) -> String {
    match r {
        Ret::Value(v) => values.show(v),
        Ret::Written { previous } => format!("written, previous {}", values.show(previous)),
        Ret::Swapped { ok, current } => format!("{}, now {}", if ok { "swapped" } else { "not swapped" }, values.show(current)),
    }
}

fn show(v: &Option<String>) -> String {
    v.as_ref().map_or("absent".into(), |v| format!("{v:?}"))
}

/// One operation as the counterexamples print it, e.g.
/// `c1#3 put "k"="c1-3" → written, previous absent [10.0–12.5 ms]`.
pub fn describe(e: &Event) -> String {
    let op = match &e.op {
        KvOp::Get { key } => format!("get {key:?}"),
        KvOp::Put { key, value } => format!("put {key:?}={value:?}"),
        KvOp::Delete { key } => format!("delete {key:?}"),
        KvOp::Cas { key, expected, new } => format!("cas {key:?} {}→{}", show(expected), show(new)),
    };
    let answer = match (&e.outcome, &e.answer) {
        (Outcome::Ok, Some(Answer::Value { value })) => show(value),
        (Outcome::Ok, Some(Answer::Written { previous })) => format!("written, previous {}", show(previous)),
        (Outcome::Ok, Some(Answer::Swapped { ok, current })) => {
            format!("{}, now {}", if *ok { "swapped" } else { "not swapped" }, show(current))
        }
        (Outcome::Ok, None) => "ok without an answer".into(),
        (Outcome::Fail, _) => "fail".into(),
        (Outcome::Unknown, _) => "unknown".into(),
    };
    format!("{}#{} {op} → {answer} [{:.1}–{:.1} ms]", e.client, e.seq, e.invoke_ms, e.complete_ms)
}
