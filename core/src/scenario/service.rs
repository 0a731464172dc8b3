//! The scenario's optional `service`: clients writing to the replicated
//! key-value store while the election runs, so a run shows what a failover
//! costs the clients (docs/protocol.md KS1–KS4).
//!
//! ```json
//! "service": {"clients": 2, "write_every_ms": 20, "keys": 4, "fsync_ms": 1}
//! ```
//!
//! Every field is optional; an empty object is a small load with the
//! defaults below. A scenario without `service` runs exactly as before.

use super::error::{Problem, ScenarioError};
use crate::time::{ms_to_us, Span};
use serde::{Deserialize, Serialize};

/// The `service` object exactly as it appears in JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntry {
    /// Simulated clients, each with one write outstanding at a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<u32>,
    /// The time a client waits after one write completes before it sends
    /// the next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_every_ms: Option<f64>,
    /// The keys the writes spread over (`k0` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<u32>,
    /// How long a write to a member's disk takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsync_ms: Option<f64>,
    /// How long the master waits for a backup's answer before it removes
    /// the backup from the configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_timeout_ms: Option<f64>,
    /// The one-way delay between any server and the clients or the name
    /// server, which sit together outside the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_delay_ms: Option<f64>,
    /// How long a client waits for an answer before it looks the master up
    /// again and retries with the same sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_timeout_ms: Option<f64>,
}

/// A validated `service`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub clients: u32,
    pub write_every: Span,
    pub keys: u32,
    pub fsync: Span,
    pub ack_timeout: Span,
    pub client_delay: Span,
    pub client_timeout: Span,
}

/// The most clients and keys a scenario may ask for.
pub const MAX_CLIENTS: u32 = 64;
pub const MAX_KEYS: u32 = 1_000;

impl ServiceEntry {
    /// Checks every field. `longest_ms` is the largest one-way delay of the
    /// network: a healthy backup must be able to answer within
    /// `ack_timeout_ms`.
    pub(super) fn validate(&self, longest: Span) -> Result<Service, ScenarioError> {
        let count = |field: &str, v: Option<u32>, default: u32, max: u32, range: &'static str| -> Result<u32, ScenarioError> {
            let v = v.unwrap_or(default);
            if v == 0 || v > max {
                return Err(ScenarioError::new(format!("service.{field}"), Problem::OutOfRange { value: v.to_string(), range }));
            }
            Ok(v)
        };
        let ms = |field: &str, v: Option<f64>, default: f64, positive: bool| -> Result<Span, ScenarioError> {
            let v = v.unwrap_or(default);
            let kind = if positive { "positive" } else { "non-negative" };
            ms_to_us(v).filter(|us| !positive || *us > 0).map(Span).ok_or_else(|| {
                ScenarioError::new(format!("service.{field}"), Problem::BadNumber(format!("{v} must be a {kind} number of milliseconds")))
            })
        };
        let clients = count("clients", self.clients, 2, MAX_CLIENTS, "[1, 64]")?;
        let keys = count("keys", self.keys, 4, MAX_KEYS, "[1, 1000]")?;
        let write_every = ms("write_every_ms", self.write_every_ms, 20.0, true)?;
        let fsync = ms("fsync_ms", self.fsync_ms, 1.0, false)?;
        let client_delay = ms("client_delay_ms", self.client_delay_ms, 1.0, false)?;
        // A round to a backup: the forward out, the backup's fsync, the ack back.
        let round = longest + longest + fsync;
        let ack_timeout = ms("ack_timeout_ms", self.ack_timeout_ms, (round.as_ms() * 2.0).max(100.0), true)?;
        if ack_timeout <= round {
            return Err(ScenarioError::new(
                "service.ack_timeout_ms",
                Problem::BadNumber(format!(
                    "{} ms must exceed a round to the farthest backup ({} ms: twice the longest delay plus fsync_ms), or healthy backups are removed",
                    ack_timeout.as_ms(),
                    round.as_ms()
                )),
            ));
        }
        let default_timeout = (ack_timeout.as_ms() * 2.0 + round.as_ms() + 4.0 * client_delay.as_ms()).max(200.0);
        let client_timeout = ms("client_timeout_ms", self.client_timeout_ms, default_timeout, true)?;
        Ok(Service { clients, write_every, keys, fsync, ack_timeout, client_delay, client_timeout })
    }
}
