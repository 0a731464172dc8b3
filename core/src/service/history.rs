//! A client's history of operations: what `stagger client load --json`
//! prints and what the linearizability checker reads (docs/guarantees.md).
//!
//! Times are milliseconds since the history began, on the recording
//! process's monotonic clock, so one history from several clients of one
//! process compares them directly.

use super::{Answer, Op};
use serde::{Deserialize, Serialize};

/// How an operation ended, as its client saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered: it took effect exactly once, with `answer`.
    Ok,
    /// Refused before it was applied: it did not take effect.
    Fail,
    /// No answer came (a timeout, a connection lost, a master that stepped
    /// down): it may or may not have taken effect, at most once.
    Unknown,
}

/// One operation of one client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub client: String,
    pub seq: u64,
    #[serde(flatten)]
    pub op: Op,
    pub invoke_ms: f64,
    /// When the client stopped waiting (for `unknown`, when it gave up).
    pub complete_ms: f64,
    pub outcome: Outcome,
    /// For `ok`: what it returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    /// For `ok`: the `(epoch, index)` of the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// For `fail` and `unknown`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How many times the request was sent (1 + retries).
    #[serde(default = "one")]
    pub attempts: u32,
}

fn one() -> u32 {
    1
}

/// Every operation of a run, in invocation order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<Event>,
}

impl History {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.events.iter().filter(|e| e.outcome == outcome).count()
    }
}
