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

/// The largest time a scenario can carry: 2^53 µs, about 285 years, far
/// beyond any run and still exact in an `f64`.
const MAX_US: u64 = 1 << 53;

/// Converts milliseconds to whole microseconds, rounding the decimal written
/// in the file half away from zero (SPEC §6). Returns `None` for negative,
/// non-finite or absurdly large input.
///
/// Rounding `ms * 1000.0` would round the binary product, not the decimal:
/// `0.5005` is stored as 0.50049999999999994…, so the product rounds to
/// 500 µs where the file says 500.5. Instead this rounds the decimal text
/// of `ms`. Rust prints an `f64` as the shortest decimal that parses back
/// to it, and for a decimal of at most 15 significant digits that is the
/// decimal itself: two different such decimals never share an `f64` (15 is
/// `f64::DIGITS`), so the shortest one that reads back as this `f64` is the
/// one it was parsed from. That holds when the parser rounds correctly:
/// Rust's `str::parse` (the CLI, the playground's number fields) always
/// does, and serde_json does for a significand of at most 15 digits with a
/// decimal exponent within ±22, where it computes one exact integer divided
/// or multiplied by an exact power of ten in one correctly rounded IEEE
/// operation. A 15-digit decimal with a smaller exponent is below 10⁻⁷ ms
/// and rounds to 0 µs whatever its last bit; one with a larger exponent is
/// beyond [`MAX_US`]. Longer decimals are read as their nearest `f64`
/// first, as any JSON reader does.
pub fn ms_to_us(ms: f64) -> Option<u64> {
    if !ms.is_finite() || ms < 0.0 || ms > (MAX_US / 1000 + 1) as f64 {
        return None;
    }
    // The fast path, taken by all but values near a half µs. The written
    // decimal is within `ms·2⁻⁵³` of `ms`, and the product within `x·2⁻⁵³` of
    // `1000·ms`, so below 2⁴⁹ µs the decimal's µs are within 1/8 of `x`.
    // When `x` is within 1/4 of a whole number, the decimal is within 3/8
    // of it and rounds to it.
    let x = ms * 1000.0;
    if x < (1u64 << 49) as f64 && (x - x.round()).abs() < 0.25 {
        return Some(x.round() as u64);
    }
    let text = ms.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let digit = |k: usize| frac.as_bytes().get(k).map_or(0, |d| u64::from(d - b'0'));
    let mut us = whole.parse::<u64>().ok()? * 1000 + digit(0) * 100 + digit(1) * 10 + digit(2);
    // What follows the third decimal is at least half a microsecond
    // exactly when its first digit is 5 or more.
    if digit(3) >= 5 {
        us += 1;
    }
    Some(us).filter(|us| *us <= MAX_US)
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
        // The product 0.5005 * 1000.0 is 500.49999999999994.
        assert_eq!(ms_to_us(0.5005), Some(501));
        assert_eq!(ms_to_us(20.0), Some(20_000));
        assert_eq!(ms_to_us(-1.0), None);
        assert_eq!(ms_to_us(f64::NAN), None);
    }

    /// Half away from zero on the decimal text, in integers only: what
    /// SPEC §6 asks of `ms_to_us` for the number written as `text`.
    fn exact_us(text: &str) -> u64 {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let frac = format!("{frac:0<4}");
        let tenths_of_us: u64 = format!("{whole}{}", &frac[..4]).parse().unwrap();
        (tenths_of_us + 5) / 10
    }

    /// The number as the scenario file reads it (serde_json) and as the CLI
    /// and the playground's number fields read it (`str::parse`).
    fn both_parsers(text: &str) -> [f64; 2] {
        [serde_json::from_str::<f64>(text).unwrap(), text.parse::<f64>().unwrap()]
    }

    #[test]
    fn every_four_decimal_value_below_ten_ms_rounds_its_decimal_text() {
        for tenths in 0..100_000u64 {
            let text = format!("{}.{:04}", tenths / 10_000, tenths % 10_000);
            for ms in both_parsers(&text) {
                assert_eq!(ms_to_us(ms), Some(exact_us(&text)), "{text} ms");
            }
        }
    }

    #[test]
    fn fifteen_significant_digits_round_their_decimal_text() {
        // Up to twelve whole digits and up to four decimals, fifteen digits
        // at most, spread over every magnitude by a fixed LCG; the half-µs
        // ones are the hard cases.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for k in 0..200_000u64 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let digits = (k % 13) as u32;
            let whole = (x >> 20) % 10u64.pow(digits);
            let frac = if k % 2 == 0 { (x % 1_000) * 10 + 5 } else { x % 10_000 };
            let mut text = format!("{whole}.{frac:04}");
            text.truncate(text.len() - digits.saturating_sub(11) as usize);
            for ms in both_parsers(&text) {
                assert_eq!(ms_to_us(ms), Some(exact_us(&text)), "{text} ms");
            }
        }
    }

    #[test]
    fn whole_milliseconds_and_the_limits() {
        assert_eq!(ms_to_us(0.0), Some(0));
        assert_eq!(ms_to_us(-0.0), Some(0));
        assert_eq!(ms_to_us(9_007_199_254_740.0), Some(9_007_199_254_740_000));
        assert_eq!(ms_to_us(9_007_199_254_740.992), Some(MAX_US));
        assert_eq!(ms_to_us(9_007_199_254_741.0), None);
        assert_eq!(ms_to_us(1e300), None);
        assert_eq!(ms_to_us(f64::INFINITY), None);
        assert_eq!(ms_to_us(1e-30), Some(0));
        assert_eq!(ms_to_us(0.0004999), Some(0));
    }

    #[test]
    fn display_has_three_decimals() {
        assert_eq!(Time(2_450_000).to_string(), "2450.000 ms");
        assert_eq!(Span(1).to_string(), "0.001 ms");
    }
}
