//! The scenario file of SPEC §7, exactly as it appears in JSON.
//!
//! These types round-trip: the playground edits a [`ScenarioFile`], shares it
//! in a URL and exports it, so every optional field stays optional and is
//! left out again when it was left out. Validation into the model the
//! simulator runs lives in `validate.rs`.

use super::fault::FaultEntry;
use super::service::ServiceEntry;
use crate::params::ClaimPolicy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Optional prose shown by the playground and the CLI summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub servers: Vec<ServerEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_by: Option<String>,
    pub delays_ms: Vec<Vec<f64>>,
    /// The one-way delays the network really has, when they differ from
    /// `delays_ms`, which is what the servers believe and compute `δ` from:
    /// how a misestimated matrix is modelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_delays_ms: Option<Vec<Vec<f64>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<TimerEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<DetectionEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce_every: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_functional: Option<bool>,
    /// `stagger` (the default), `raft` or `bully`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<AlgorithmName>,
    /// Raft's settings, used when `algorithm` is `raft`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raft: Option<RaftEntry>,
    /// Bully's settings, used when `algorithm` is `bully`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bully: Option<BullyEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultEntry>,
    /// Clients writing to the replicated store during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<f64>,
    /// The most events the run may process (20 million by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_events: Option<u64>,
}

/// One server: a stable id and optional numeric attributes for `rank_by`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerEntry {
    pub id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, f64>,
}

/// The election timer. `scheme` picks which of the other fields apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerEntry {
    pub scheme: SchemeName,
    /// `T1` of the integral scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ms: Option<f64>,
    /// `T` of the equal scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_known_dead: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemeName {
    Equal,
    Integral,
    Randomized,
}

impl SchemeName {
    /// The name as written in a scenario file.
    pub fn name(self) -> &'static str {
        match self {
            SchemeName::Equal => "equal",
            SchemeName::Integral => "integral",
            SchemeName::Randomized => "randomized",
        }
    }
}

/// The election algorithm of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlgorithmName {
    Stagger,
    Raft,
    Bully,
}

impl AlgorithmName {
    pub const ALL: [AlgorithmName; 3] = [AlgorithmName::Stagger, AlgorithmName::Raft, AlgorithmName::Bully];

    pub fn name(self) -> &'static str {
        match self {
            AlgorithmName::Stagger => "stagger",
            AlgorithmName::Raft => "raft",
            AlgorithmName::Bully => "bully",
        }
    }
}

/// Raft's settings. Absent fields follow the detection settings (see
/// [`crate::params::RaftParams`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaftEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub election_min_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub election_max_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prevote: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_quorum: Option<bool>,
    /// Time to write term and vote to stable storage before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persist_ms: Option<f64>,
}

/// Bully's settings. Absent fields follow the detection settings (see
/// [`crate::params::BullyParams`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BullyEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_wait_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator_wait_ms: Option<f64>,
}

/// The detection of Fig. 5.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_ms: Option<Periods>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PhaseMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misses: Option<u32>,
}

/// One period for all (Fig. 7a) or one per server in `servers` order
/// (Fig. 7b).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Periods {
    Equal(f64),
    PerServer(Vec<f64>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PhaseMode {
    #[default]
    Synchronous,
    Asynchronous,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
}

impl ScenarioFile {
    /// Serializes the file as pretty JSON, the form the CLI and the
    /// playground export.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scenario file always serializes")
    }
}
