//! The message copies of a run, and "what is on the wire at `t`?".
//!
//! The Watch tab asks this on every playback frame. Copies are recorded in
//! send order (the trace is time-ordered), so the copies sent by `t` are a
//! prefix found by binary search; and none of them can still be in flight
//! if it was sent more than the longest flight before `t`, which bounds the
//! scan backwards. A frame costs O(log m + copies near `t`), not O(m).

use crate::message::{MessageKind, Msg};
use crate::sim::DropReason;
use crate::time::Time;

/// One copy of a message handed to the network: sent at `send`, arriving
/// at `arrive` (`None` when it was dropped at once, by loss or a
/// partition), and `drop`ped when and why it never reached the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageCopy {
    pub from: u32,
    pub to: u32,
    pub msg: Msg,
    pub send: Time,
    pub arrive: Option<Time>,
    pub drop: Option<(Time, DropReason)>,
}

impl MessageCopy {
    pub fn kind(&self) -> MessageKind {
        self.msg.kind()
    }

    /// Whether the copy never reached its receiver.
    pub fn lost(&self) -> bool {
        self.drop.is_some()
    }

    /// The last instant a drawing of this copy touches.
    pub fn end(&self) -> Time {
        self.arrive.unwrap_or(self.send)
    }
}

/// The longest flight of a copy that arrived, in µs: how far back from
/// `t` a copy still on the wire at `t` can have been sent.
pub(super) fn longest(copies: &[MessageCopy]) -> u64 {
    copies.iter().filter_map(|c| Some(c.arrive?.0 - c.send.0)).max().unwrap_or(0)
}

/// The copies (in send order, none flying longer than `longest`) on the
/// wire at `t`, each with how far along it is (0..1).
pub(super) fn on_the_wire(copies: &[MessageCopy], longest: u64, t: Time) -> impl Iterator<Item = (&MessageCopy, f64)> {
    let hi = copies.partition_point(|c| c.send <= t);
    let lo = copies[..hi].partition_point(|c| c.send.0 + longest < t.0);
    copies[lo..hi].iter().filter_map(move |c| {
        let arrive = c.arrive.filter(|a| *a > t)?;
        let span = (arrive.0 - c.send.0).max(1) as f64;
        Some((c, (t.0 - c.send.0) as f64 / span))
    })
}
