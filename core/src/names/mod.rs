//! The name server's registry: who is master of each group, under which
//! epoch, until when; the group's configuration; and a feed of changes for
//! watchers.
//!
//! Sans-IO like the engine: nothing here reads a clock, a file or a socket.
//! Every operation carries the server's monotonic `now`; a backend (the
//! embedded one in `node/src/names/`) persists the groups the registry marks
//! dirty before it answers. The decisions are rows N1–N11 of
//! docs/protocol.md, and docs/guarantees.md says what they promise.

mod lease;
mod registry;
#[cfg(test)]
mod tests;

pub use lease::{HeldLease, MARGIN_DIVISOR};
pub use registry::Registry;

use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};

/// A group's membership. `version` is compared by `reconfigure`;
/// `ranking_version` is what registrations must carry (N3, N9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    pub members: Vec<String>,
    pub version: u64,
    pub ranking_version: u64,
}

/// A master's registration. Its lease expiry is not here: it is an instant
/// on the server's monotonic clock, meaningless after a restart (N8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub member: String,
    pub addr: String,
    pub ranking_version: u64,
    pub epoch: u64,
    /// The granted lease length, in microseconds.
    pub ttl: Span,
}

/// How a registration ended, kept so that a late renewal learns why (N4, N5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    Resigned,
    Expired,
    Removed,
}

/// What a backend writes for a group: everything a restart must not lose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub config: Configuration,
    pub registration: Option<Registration>,
    /// The largest epoch ever granted in the group (N1); 0 for none.
    pub highest_epoch: u64,
    /// The sequence number of the group's last change (N10).
    pub seq: u64,
    /// The epoch of the last registration that ended, and how.
    pub last_end: Option<(u64, Ending)>,
}

/// A registration request. `held` is `None` for a fresh registration (a
/// takeover, N2) and the caller's epoch for a re-registration (N4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    pub member: String,
    pub addr: String,
    pub ranking_version: u64,
    #[serde(default)]
    pub held: Option<u64>,
    /// The lease length asked for; clamped to [`Limits`] (N5).
    pub ttl: Span,
}

/// What a successful `register` or `renew` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub epoch: u64,
    /// The lease length granted, which may differ from the one asked for.
    pub ttl: Span,
    /// When the lease expires on the server's clock.
    pub expires: Time,
}

/// The current master as `lookup` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Master {
    pub member: String,
    pub addr: String,
    pub epoch: u64,
    /// What is left of the lease at the instant of the lookup.
    pub lease_left: Span,
}

/// A group as `lookup` shows it: the master or, explicitly, none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub master: Option<Master>,
    pub config: Configuration,
    pub highest_epoch: u64,
    /// The sequence number of the last change this view includes: a
    /// watcher resumes after it (N10).
    pub seq: u64,
}

/// One change of a group, as watchers see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub seq: u64,
    #[serde(flatten)]
    pub what: ChangeKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ChangeKind {
    Registered {
        member: String,
        addr: String,
        epoch: u64,
    },
    /// The registration under `epoch` ended; there is no master now.
    Ended {
        member: String,
        epoch: u64,
        how: Ending,
    },
    Reconfigured {
        config: Configuration,
    },
}

/// What a watcher gets: the changes after the number it gave, or word that
/// they are gone and it must resync through `lookup` (N10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "feed", rename_all = "snake_case")]
pub enum Feed {
    Changes { changes: Vec<Change> },
    Behind { seq: u64 },
}

/// The server's lease bounds and the watch feed's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub min_ttl: Span,
    pub max_ttl: Span,
    /// Changes kept per group for watchers.
    pub feed_len: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { min_ttl: Span::from_ms(100), max_ttl: Span::from_ms(60_000), feed_len: 256 }
    }
}

/// Whose fault a refusal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The request: wrong, stale or malformed. Retrying it unchanged fails.
    Caller,
    /// The program driving the registry (a clock that went back).
    Driver,
}

/// Why the registry refused an operation. A refused operation changes
/// nothing (N11).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum NameError {
    #[error("unknown group {group:?}")]
    UnknownGroup { group: String },
    #[error("member {member:?} is not in the configuration of group {group:?}")]
    NotAMember { group: String, member: String },
    #[error("ranking version {theirs} is older than the configuration's {current}")]
    StaleRankingVersion { theirs: u64, current: u64 },
    #[error("ranking version {theirs} is ahead of the configuration's {current}; it changes only through reconfigure")]
    RankingVersionAhead { theirs: u64, current: u64 },
    #[error("epoch {held} is stale: the current registration is {current:?}")]
    StaleEpoch { held: u64, current: Option<u64> },
    #[error("epoch {held} was never granted (the highest is {highest})")]
    EpochFromFuture { held: u64, highest: u64 },
    #[error("the lease of epoch {epoch} expired")]
    Expired { epoch: u64 },
    #[error("configuration version {expected} expected, the current one is {current}")]
    VersionMismatch { expected: u64, current: u64 },
    #[error("bad {field}: {reason}")]
    BadRequest { field: String, reason: String },
    #[error("time went back: now {now:?} is before the last {last:?}")]
    TimeWentBack { now: Time, last: Time },
}

impl NameError {
    pub fn fault(&self) -> Fault {
        match self {
            NameError::TimeWentBack { .. } => Fault::Driver,
            _ => Fault::Caller,
        }
    }
}

/// Checks a group name: it appears in URLs and file records, so 1–64
/// characters of `A–Z a–z 0–9 . _ -`.
pub fn check_group(group: &str) -> Result<(), NameError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if group.is_empty() || group.len() > 64 || !group.chars().all(ok) {
        return Err(bad("group", "1 to 64 characters of A-Z a-z 0-9 . _ -"));
    }
    Ok(())
}

/// Checks a member id or an address: non-empty, at most 256 bytes, no
/// control characters.
fn check_text(field: &str, text: &str) -> Result<(), NameError> {
    if text.is_empty() || text.len() > 256 || text.chars().any(char::is_control) {
        return Err(bad(field, "1 to 256 bytes without control characters"));
    }
    Ok(())
}

fn bad(field: &str, reason: &str) -> NameError {
    NameError::BadRequest { field: field.into(), reason: reason.into() }
}
