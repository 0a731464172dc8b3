//! How long a group must stay converged before a run may call it stable.
//!
//! A run ends at `until_ms`, wherever the group happens to be. A group
//! that keeps changing masters is converged at some instants, so "converged
//! at the end" alone depends on where the run stops. The simulator instead
//! calls a run *stable* only when the group has been converged, on the same
//! master, for the whole stability window before the end (docs/protocol.md,
//! S9). The window is twice the longest time any live server can go
//! without acting on a silent master, so within it every server has
//! checked the master at least twice: once with any old miss counts, once
//! afresh.

use super::Scenario;
use crate::params::Algorithm;
use crate::time::Span;

impl Scenario {
    /// The longest time a live server can go without acting on a silent
    /// master: `misses × P + τ` for the staggered timer (its inquiries),
    /// the longest election timeout for Raft, the silence limit for Bully.
    pub fn detection_budget(&self) -> Span {
        let period = self.periods.iter().copied().max().unwrap_or(Span::ZERO);
        let inquiries = Span(period.0 * self.params.misses as u64 + self.params.timeout.0);
        match &self.algorithm {
            Algorithm::Stagger => inquiries,
            Algorithm::Raft(r) => r.election_max.max(inquiries),
            Algorithm::Bully(b) => b.timeout.unwrap_or(period + self.params.timeout).max(inquiries),
        }
    }

    /// How long before the end the group must have been converged on one
    /// master for the run to count as stable: two detection budgets.
    pub fn stability_window(&self) -> Span {
        Span(2 * self.detection_budget().0)
    }
}
