//! How much one run may do, and what a run stopped short reports.
//!
//! A scenario can arrive from anyone, in a link: `until_ms` 10¹², a
//! detection period of 2 µs or an equal-timer storm under `contest` on
//! 2,000 servers would otherwise run for minutes and hold gigabytes. So a
//! run carries a [`Budget`]. Validation refuses a scenario whose detection
//! ticks alone already exceed it ([`detection_ticks`]); the simulator stops
//! any other run that reaches it, and the result says so in
//! [`Metrics::truncated`](super::Metrics::truncated), never passing a
//! partial run off as a finished one.
//!
//! The defaults sit well above what the presets, the tests and the
//! playground's own runs need, and well below what hurts. The largest
//! run the tab is measured on, the 2,000-server equal-timer storm of
//! `stagger-bench speed`, takes 8 million events and holds about 4 million
//! queued deliveries at its peak; 20 million events are two seconds
//! natively and a few in a tab. An entry (a queued event or a trace event)
//! is 64 bytes, so 8 million of them are half a gigabyte, and a trace that
//! stops there has never had to double its buffer past 2²³ entries (the
//! playground records every run; at 10 million a tab had to find a
//! gigabyte for the doubling). A traced run of a million events holds a few
//! million. The speed benchmarks lift the budget ([`Budget::UNLIMITED`]):
//! they measure how far the simulator goes.

use crate::scenario::{Fault, FaultAction};
use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};

/// The default of `max_events`.
pub const DEFAULT_MAX_EVENTS: u64 = 20_000_000;
/// The most queued events and trace entries a run may hold at once.
pub const DEFAULT_MAX_ENTRIES: u64 = 8_000_000;

/// The limits of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Events processed: the `events` of the metrics. The scenario's
    /// `max_events` sets it.
    pub max_events: u64,
    /// Events queued plus trace entries recorded: the run's memory.
    pub max_entries: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget { max_events: DEFAULT_MAX_EVENTS, max_entries: DEFAULT_MAX_ENTRIES }
    }
}

impl Budget {
    /// No limit: for benchmarks that measure how far the simulator goes.
    pub const UNLIMITED: Budget = Budget { max_events: u64::MAX, max_entries: u64::MAX };
}

/// What stopped a run before `until_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// [`Budget::max_events`] events were processed.
    MaxEvents,
    /// [`Budget::max_entries`] events and trace entries were held at once.
    MaxEntries,
    /// The caller stopped it (the playground's Cancel).
    Cancelled,
}

impl Limit {
    pub fn name(self) -> &'static str {
        match self {
            Limit::MaxEvents => "max_events",
            Limit::MaxEntries => "max_entries",
            Limit::Cancelled => "cancelled",
        }
    }
}

/// A run that stopped before `until_ms`: everything measured covers the
/// virtual time up to `at_ms` only.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truncated {
    pub limit: Limit,
    /// The limit's value (events, or entries held), or for a cancelled run
    /// the events processed.
    pub value: u64,
    /// The virtual time reached.
    pub at_ms: f64,
}

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (value, at) = (self.value, self.at_ms);
        match self.limit {
            Limit::MaxEvents => write!(
                f,
                "stopped at {at:.3} ms after {value} events, the budget (max_events); the results are partial (raise max_events or shorten until_ms)"
            ),
            Limit::MaxEntries => write!(
                f,
                "stopped at {at:.3} ms holding {value} queued events and trace entries, the memory budget (max_entries); the results are partial (shorten until_ms)"
            ),
            Limit::Cancelled => write!(f, "cancelled at {at:.3} ms after {value} events; the results are partial"),
        }
    }
}

/// A lower bound on the events of a staggered-timer run: every live
/// server's detection timer fires once per period, whatever its role (SPEC
/// §4), and each firing is an event. Counts the whole periods of each
/// stretch a server is up before `until`.
pub fn detection_ticks(periods: &[Span], faults: &[Fault], until: Time) -> u64 {
    let mut since: Vec<Option<Time>> = vec![Some(Time::ZERO); periods.len()];
    let mut ticks = 0u64;
    let mut count = |row: usize, from: Time, to: Time| {
        let len = to.0.min(until.0).saturating_sub(from.0);
        ticks = ticks.saturating_add(len / periods[row].0.max(1));
    };
    for f in faults {
        match f.action {
            FaultAction::Crash(r) => {
                if let Some(from) = since[r as usize].take() {
                    count(r as usize, from, f.at);
                }
            }
            FaultAction::Recover(r) => since[r as usize] = Some(f.at),
            _ => {}
        }
    }
    for (row, from) in since.into_iter().enumerate() {
        if let Some(from) = from {
            count(row, from, until);
        }
    }
    ticks
}
