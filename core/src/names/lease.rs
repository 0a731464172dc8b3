//! The master's side of its lease (docs/protocol.md N6): when it stops
//! acting as master for clients, and when it renews.
//!
//! The name server judges expiry from the instant it *received* a
//! registration or renewal; the master can only know when it *sent* it,
//! which is earlier. So the master counts from its send time, and gives a
//! margin for the one thing that can still differ, the rates of the two
//! monotonic clocks (plus the scheduling delay of the next renewal). Like
//! the registry this reads no clock: every call carries the master's `now`.

use crate::time::{Span, Time};

/// The default margin, as a fraction of the ttl: 1/5.
pub const MARGIN_DIVISOR: u64 = 5;

/// A lease the master holds under one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldLease {
    pub epoch: u64,
    /// The send time of the latest request the name server granted.
    pub sent: Time,
    pub ttl: Span,
}

impl HeldLease {
    /// A lease granted for a request sent at `sent`.
    pub fn granted(epoch: u64, sent: Time, ttl: Span) -> HeldLease {
        HeldLease { epoch, sent, ttl }
    }

    /// The margin: `ttl / 5`.
    pub fn margin(&self) -> Span {
        Span(self.ttl.0 / MARGIN_DIVISOR)
    }

    /// When the master must consider the lease lost: its send time + ttl −
    /// margin, on its own clock.
    pub fn lost_at(&self) -> Time {
        self.sent + Span(self.ttl.0 - self.margin().0)
    }

    /// Whether the master may act as master for clients at `now`.
    pub fn serving(&self, now: Time) -> bool {
        now < self.lost_at()
    }

    /// When to send the next renewal: a third of the ttl after the last
    /// granted send, so that two renewals can be lost or slow before the
    /// lease is.
    pub fn renew_at(&self) -> Time {
        self.sent + Span(self.ttl.0 / 3)
    }

    /// A renewal sent at `sent` was granted. An answer to an older request,
    /// arriving late, never shortens the lease.
    pub fn renewed(&mut self, sent: Time, ttl: Span) {
        if sent + ttl > self.sent + self.ttl {
            self.sent = sent;
            self.ttl = ttl;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Time {
        Time::from_ms(n)
    }

    #[test]
    fn the_master_stops_serving_at_send_time_plus_ttl_minus_margin() {
        let lease = HeldLease::granted(3, ms(100), Span::from_ms(1_000));
        assert_eq!(lease.margin(), Span::from_ms(200));
        assert_eq!(lease.lost_at(), ms(900));
        assert!(lease.serving(ms(899)));
        assert!(!lease.serving(ms(900)));
    }

    #[test]
    fn the_master_gives_up_no_later_than_the_server_expires_it() {
        // The server received the request 40 ms after it was sent.
        let lease = HeldLease::granted(1, ms(0), Span::from_ms(1_000));
        let server_expiry = ms(40) + Span::from_ms(1_000);
        assert!(lease.lost_at() < server_expiry);
    }

    #[test]
    fn renewals_extend_and_a_late_old_answer_never_shortens() {
        let mut lease = HeldLease::granted(1, ms(0), Span::from_ms(900));
        assert_eq!(lease.renew_at(), ms(300));
        lease.renewed(ms(300), Span::from_ms(900));
        assert_eq!(lease.lost_at(), ms(300 + 720));
        // The answer to a renewal sent at 200 ms arrives last.
        lease.renewed(ms(200), Span::from_ms(900));
        assert_eq!(lease.lost_at(), ms(300 + 720));
        assert_eq!(lease.renew_at(), ms(600));
    }
}
