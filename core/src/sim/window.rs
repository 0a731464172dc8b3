//! What the clients of a simulated service saw: how many writes completed,
//! failed or were left unknown, and the client-visible window of the
//! failover (docs/protocol.md KS6).

// Built without the service, only the types are used (the metrics' field).
#![cfg_attr(not(feature = "service"), allow(dead_code))]

#[cfg(feature = "service")]
use crate::service::{History, HistoryEvent, Outcome};
#[cfg(feature = "service")]
use crate::time::Time;
use serde::{Deserialize, Serialize};

/// The service's part of a run's metrics. Times are absolute virtual
/// milliseconds, like the rest of [`super::Metrics`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceMetrics {
    pub clients: u32,
    /// The service's events (deliveries, timers, client steps): counted
    /// apart from the election's `events`, against the same budget.
    pub events: u64,
    /// Writes answered: each took effect exactly once.
    pub writes_ok: u64,
    /// Writes refused before they were applied.
    pub writes_failed: u64,
    /// Writes with no answer by the end of the run: applied or not.
    pub writes_unknown: u64,
    /// Requests sent again (after a redirect, a refusal, a lost connection
    /// or a timeout), over all writes.
    pub retries: u64,
    /// The median and the slowest latency of the writes answered.
    pub latency_median_ms: Option<f64>,
    pub latency_max_ms: Option<f64>,
    /// Present when the run has a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Every operation, for the checker. Only where the simulator runs the
    /// service: the metrics are compared and cloned on every frame of the
    /// playground's first page, which should not carry its code.
    #[cfg(feature = "service")]
    #[serde(skip)]
    pub history: History,
}

/// The client-visible window of a failover: from the last write completed
/// before the crash to the first completed after it. Writes invoked before
/// the crash and answered after it close the window too: the clients saw
/// service again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub crash_at_ms: f64,
    /// None when no write completed before the crash.
    pub last_before_ms: Option<f64>,
    /// None when no write completed after it: the window never closed.
    pub first_after_ms: Option<f64>,
    /// `first_after_ms − last_before_ms`, when both are known.
    pub length_ms: Option<f64>,
}

impl ServiceMetrics {
    /// The metrics of a history whose events are in completion order.
    #[cfg(feature = "service")]
    pub(super) fn of(clients: u32, processed: u64, mut events: Vec<HistoryEvent>, crash: Option<Time>) -> ServiceMetrics {
        let ok: Vec<&HistoryEvent> = events.iter().filter(|e| e.outcome == Outcome::Ok).collect();
        let mut latencies: Vec<f64> = ok.iter().map(|e| e.complete_ms - e.invoke_ms).collect();
        latencies.sort_by(f64::total_cmp);
        let window = crash.map(|c| {
            let c = c.as_ms();
            let last_before = ok.iter().map(|e| e.complete_ms).filter(|t| *t <= c).max_by(f64::total_cmp);
            let first_after = ok.iter().map(|e| e.complete_ms).filter(|t| *t > c).min_by(f64::total_cmp);
            let length = last_before.zip(first_after).map(|(a, b)| round3(b - a));
            Window { crash_at_ms: c, last_before_ms: last_before, first_after_ms: first_after, length_ms: length }
        });
        let count = |o: Outcome| events.iter().filter(|e| e.outcome == o).count() as u64;
        let metrics = ServiceMetrics {
            clients,
            events: processed,
            writes_ok: count(Outcome::Ok),
            writes_failed: count(Outcome::Fail),
            writes_unknown: count(Outcome::Unknown),
            retries: events.iter().map(|e| e.attempts.saturating_sub(1) as u64).sum(),
            latency_median_ms: latencies.get(latencies.len() / 2).copied().map(round3),
            latency_max_ms: latencies.last().copied().map(round3),
            window,
            history: History::default(),
        };
        // The history reads in invocation order.
        events.sort_by(|a, b| a.invoke_ms.total_cmp(&b.invoke_ms).then_with(|| a.client.cmp(&b.client)));
        ServiceMetrics { history: History { events }, ..metrics }
    }

    /// The window in words, for `stagger sim` and the diagram's caption.
    pub fn window_text(&self) -> Option<String> {
        let w = self.window?;
        Some(match (w.last_before_ms, w.first_after_ms, w.length_ms) {
            (Some(a), Some(b), Some(len)) => format!("no write completed for {len:.3} ms (from {a:.3} ms to {b:.3} ms)"),
            (None, Some(b), _) => format!("the first write after the crash completed at {b:.3} ms"),
            (Some(a), None, _) => format!("no write completed after {a:.3} ms"),
            _ => "no write completed".into(),
        })
    }
}

fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}
