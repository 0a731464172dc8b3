//! The protocol's tunable parameters, already validated and in microseconds.
//!
//! These are what one engine needs; the scenario layer builds them from JSON.

use crate::time::Span;
use serde::{Deserialize, Serialize};

/// How each server's election delay `D_i` is set (SPEC §5, Figs. 7a/7b).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheme {
    /// `D_i = T` for everyone ([0043]): the storm the patent warns about.
    Equal { delay: Span },
    /// `D_i = T1 + Σ_{j<i} δ_j` ([0046]–[0047]): the patent's proposal.
    Integral { base: Span },
    /// `D_i` uniform in `[min, max]`, drawn afresh at each entry into the
    /// election: Raft-style timers, for comparison.
    Randomized { min: Span, max: Span },
}

impl Scheme {
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::Equal { .. } => "equal",
            Scheme::Integral { .. } => "integral",
            Scheme::Randomized { .. } => "randomized",
        }
    }
}

/// What a Backup does with a claim while it still believes its master works
/// (act 560, [0039]; SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClaimPolicy {
    /// Accept a better claim; check a worse one by asking the master.
    #[default]
    Verify,
    /// Accept a better claim; ignore a worse one.
    Defer,
    /// Take over from a worse claimant; otherwise defer.
    Contest,
}

impl ClaimPolicy {
    pub const ALL: [ClaimPolicy; 3] = [ClaimPolicy::Verify, ClaimPolicy::Defer, ClaimPolicy::Contest];

    pub fn name(self) -> &'static str {
        match self {
            ClaimPolicy::Verify => "verify",
            ClaimPolicy::Defer => "defer",
            ClaimPolicy::Contest => "contest",
        }
    }
}

/// Group-wide protocol parameters, shared by every server of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    pub scheme: Scheme,
    /// Added to every `δ_j` with `1 ≤ j ≤ N−1` (SPEC §5).
    pub guard: Span,
    /// Treat `δ_j` as 0 for a master this server saw fail (SPEC §5).
    pub skip_known_dead: bool,
    /// The inquiry timeout `τ`.
    pub timeout: Span,
    /// Consecutive misses before the master counts as failed.
    pub misses: u32,
    pub claim: ClaimPolicy,
    /// Re-announce mastership every `k` detection ticks; 0 is off.
    pub announce_every: u32,
    /// Use the functional table of [0062] in the Master and WaitElection rows.
    pub known_functional: bool,
}

impl Default for Params {
    /// SPEC §7's defaults.
    fn default() -> Params {
        Params {
            scheme: Scheme::Integral { base: Span::from_ms(50) },
            guard: Span::ZERO,
            skip_known_dead: false,
            timeout: Span::from_ms(400),
            misses: 1,
            claim: ClaimPolicy::Verify,
            announce_every: 0,
            known_functional: false,
        }
    }
}

/// Which election algorithm a run uses. The staggered timer is the
/// project's subject; Raft and Bully are here to be measured against it on
/// the same network, faults and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Algorithm {
    /// The patent's staggered election timers (everything in [`Params`]).
    #[default]
    Stagger,
    Raft(RaftParams),
    Bully(BullyParams),
}

impl Algorithm {
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Stagger => "stagger",
            Algorithm::Raft(_) => "raft",
            Algorithm::Bully(_) => "bully",
        }
    }
}

/// Raft's election settings. By default they spend the same detection
/// budget as the staggered timer: a heartbeat every detection period `P`,
/// and an election timeout drawn from `[P + τ, P + 2τ]`, so a follower
/// notices a dead leader between `τ` and `P + 2τ` after the crash, where an
/// inquirer notices between `τ` and `P + τ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftParams {
    pub election_min: Span,
    pub election_max: Span,
    /// The leader's heartbeat interval; `None`: its detection period.
    pub heartbeat: Option<Span>,
    pub prevote: bool,
    pub check_quorum: bool,
    /// How long a server takes to write its term and vote to stable storage
    /// before it answers an RPC (Raft's Figure 2); 0 by default.
    pub persist: Span,
}

/// The Bully algorithm's settings. By default the coordinator's `Alive`
/// goes out every detection period `P` and a server elects after `P + τ`
/// of silence, the same window in which an inquirer notices (`τ` to
/// `P + τ` after the crash); `Answer` is awaited `τ`, `Coordinator` `2τ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BullyParams {
    /// `None`: the coordinator's detection period.
    pub heartbeat: Option<Span>,
    /// `None`: `P + τ` of the server's own period.
    pub timeout: Option<Span>,
    pub answer_wait: Span,
    pub coordinator_wait: Span,
}
