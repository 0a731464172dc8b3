//! Virtual time in integer microseconds.
//!
//! The engine never reads a clock: every input carries the `now` it happened
//! at. Integer microseconds make the simulator exact and identical on every
//! target (SPEC §6), and are fine-grained enough for real WAN delays.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant, in microseconds since the start of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Time(pub u64);

/// A length of time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span(pub u64);

/// Converts milliseconds to whole microseconds, rounding half away from zero
/// (SPEC §6). Returns `None` for negative, non-finite or absurdly large input.
pub fn ms_to_us(ms: f64) -> Option<u64> {
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    let us = (ms * 1000.0).round();
    // 2^53 µs is about 285 years: far beyond any scenario, and still exact in f64.
    if us > 9_007_199_254_740_992.0 {
        return None;
    }
    Some(us as u64)
}

/// Microseconds as milliseconds with three decimals, the way every output
/// reports time.
pub fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Time {
    pub const ZERO: Time = Time(0);

    pub fn from_ms(ms: u64) -> Time {
        Time(ms * 1000)
    }
    pub fn as_micros(self) -> u64 {
        self.0
    }
    pub fn as_ms(self) -> f64 {
        us_to_ms(self.0)
    }
    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn since(self, earlier: Time) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }
}

impl Span {
    pub const ZERO: Span = Span(0);

    pub fn from_ms(ms: u64) -> Span {
        Span(ms * 1000)
    }
    pub fn as_micros(self) -> u64 {
        self.0
    }
    pub fn as_ms(self) -> f64 {
        us_to_ms(self.0)
    }
}

impl Add<Span> for Time {
    type Output = Time;
    fn add(self, rhs: Span) -> Time {
        Time(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<Span> for Time {
    fn add_assign(&mut self, rhs: Span) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Add for Span {
    type Output = Span;
    fn add(self, rhs: Span) -> Span {
        Span(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Span {
    fn add_assign(&mut self, rhs: Span) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Sub for Time {
    type Output = Span;
    fn sub(self, rhs: Time) -> Span {
        self.since(rhs)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ms", self.as_ms())
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ms", self.as_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_round_half_away_from_zero() {
        assert_eq!(ms_to_us(0.0005), Some(1));
        assert_eq!(ms_to_us(0.0004), Some(0));
        assert_eq!(ms_to_us(1.2345), Some(1235));
        assert_eq!(ms_to_us(20.0), Some(20_000));
        assert_eq!(ms_to_us(-1.0), None);
        assert_eq!(ms_to_us(f64::NAN), None);
    }

    #[test]
    fn display_has_three_decimals() {
        assert_eq!(Time(2_450_000).to_string(), "2450.000 ms");
        assert_eq!(Span(1).to_string(), "0.001 ms");
    }
}
