//! The engine's timer table, after quinn-proto's `TimerTable`: one slot per
//! kind of timer, each holding a deadline, so the next wake-up is a scan of
//! four slots.

use crate::time::Time;
use serde::{Deserialize, Serialize};

/// The four timers a server can have armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TimerKind {
    /// The detection periodic timer 510 of Fig. 5; it never stops while the
    /// server is up.
    Detection,
    /// The inquiry timeout of act 530: `τ` after an inquiry.
    InquiryTimeout,
    /// The election periodic timer 610: `D_i` after entering the election.
    Election,
    /// The `verify` claim policy's check on the current master: `τ` after the
    /// verifying inquiry.
    VerifyTimeout,
}

impl TimerKind {
    pub const ALL: [TimerKind; 4] = [TimerKind::Detection, TimerKind::InquiryTimeout, TimerKind::Election, TimerKind::VerifyTimeout];

    pub fn slot(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            TimerKind::Detection => "detection",
            TimerKind::InquiryTimeout => "inquiry-timeout",
            TimerKind::Election => "election",
            TimerKind::VerifyTimeout => "verify-timeout",
        }
    }
}

/// Deadlines by kind. Each arming also records a counter, so two timers due
/// at the same instant fire in the order they were armed — the same order
/// the simulator's event queue uses (SPEC §6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimerTable {
    slots: [Option<(Time, u64)>; 4],
    armed: u64,
}

impl TimerTable {
    pub fn set(&mut self, kind: TimerKind, at: Time) {
        self.armed += 1;
        self.slots[kind.slot()] = Some((at, self.armed));
    }

    pub fn stop(&mut self, kind: TimerKind) {
        self.slots[kind.slot()] = None;
    }

    pub fn clear(&mut self) {
        self.slots = [None; 4];
    }

    pub fn get(&self, kind: TimerKind) -> Option<Time> {
        self.slots[kind.slot()].map(|(t, _)| t)
    }

    /// The earliest deadline and its kind.
    pub fn next(&self) -> Option<(Time, TimerKind)> {
        TimerKind::ALL
            .iter()
            .filter_map(|k| self.slots[k.slot()].map(|(t, n)| (t, n, *k)))
            .min_by_key(|(t, n, _)| (*t, *n))
            .map(|(t, _, k)| (t, k))
    }
}
