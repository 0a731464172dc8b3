//! The diagram's colours (Okabe–Ito for the message kinds, pale tints for
//! the roles) and the names the legend gives them.

use crate::message::MessageKind;
use crate::timeline::LaneState;

pub(super) const INK: &str = "#1f2328";
pub(super) const MUTED: &str = "#59636e";
pub(super) const FAINT: &str = "#8c959f";
pub(super) const GRID: &str = "#eaeef2";
pub(super) const CRASH: &str = "#d55e00";
pub(super) const RECOVER: &str = "#009e73";
pub(super) const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/// Colours from the Okabe–Ito palette. Raft's and Bully's kinds reuse the
/// protocol's by role: detection traffic is light blue and green, a claim
/// dark blue, an answer to a claim orange or purple.
pub(super) fn kind_color(k: MessageKind) -> &'static str {
    match k {
        MessageKind::Inquiry | MessageKind::Heartbeat | MessageKind::Alive => "#56b4e9",
        MessageKind::Reply | MessageKind::HeartbeatReply => "#009e73",
        MessageKind::Declare | MessageKind::RequestVote | MessageKind::Coordinator => "#0072b2",
        MessageKind::Revoke | MessageKind::PreVoteReply => "#cc79a7",
        MessageKind::Vote | MessageKind::Answer => "#e69f00",
        MessageKind::PreVote | MessageKind::Election => "#d55e00",
    }
}

pub(super) fn kind_label(k: MessageKind) -> &'static str {
    match k {
        MessageKind::Inquiry => "Inquiry",
        MessageKind::Reply => "InquiryReply",
        MessageKind::Declare => "DeclareMaster",
        MessageKind::Revoke => "RevokeMaster",
        MessageKind::PreVote => "PreVote",
        MessageKind::PreVoteReply => "PreVoteReply",
        MessageKind::RequestVote => "RequestVote",
        MessageKind::Vote => "Vote",
        MessageKind::Heartbeat => "Heartbeat",
        MessageKind::HeartbeatReply => "HeartbeatReply",
        MessageKind::Election => "Election",
        MessageKind::Answer => "Answer",
        MessageKind::Coordinator => "Coordinator",
        MessageKind::Alive => "Alive",
    }
}

/// Whether a kind counts as an election message, drawn thicker.
pub(super) fn is_claim(k: MessageKind) -> bool {
    k.is_election()
}

/// A role band's fill.
pub(super) fn fill(s: LaneState) -> &'static str {
    match s {
        LaneState::Master => "#f6d38c",
        LaneState::Backup => "#e3e9f0",
        LaneState::Wait => "#f3eba0",
        LaneState::Down => "url(#st-hatch)",
    }
}

/// A flat colour close to the fill, for text halos.
pub(super) fn flat(s: LaneState) -> &'static str {
    match s {
        LaneState::Down => "#eef0f2",
        s => fill(s),
    }
}

/// The text colour on a band.
pub(super) fn ink(s: LaneState) -> &'static str {
    match s {
        LaneState::Master => "#7a4d00",
        LaneState::Backup => "#4a5868",
        LaneState::Wait => "#615800",
        LaneState::Down => "#57606a",
    }
}
