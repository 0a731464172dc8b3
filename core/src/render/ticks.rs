//! Axis scales and "nice" ticks for charts (pure logic): the playground's
//! sweep charts and the plots of `stagger-bench compare` and `raft-fig16`.
//!
//! Ticks are 1, 2 or 5 times a power of ten, so labels read as round
//! numbers whatever the data; a log axis ticks whole decades, with the 2s
//! and 5s between them when the range is short enough to need them.

/// How [`step`] rounds the raw step `span / target` to 1, 2 or 5 × 10^k.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepRounding {
    /// Up to the next nice value: at most `target` intervals, for a chart
    /// axis that rounds its ends out to whole steps.
    Up,
    /// To the nearest nice value (1 below 1.5, 2 below 3.5, 5 below 7.5):
    /// about `target` intervals, for an axis whose ends are fixed, such
    /// as the space-time diagram's time window.
    Nearest,
}

/// A 1–2–5 step giving about `target` intervals over `span`, rounded as
/// `rounding` says. An empty or non-finite span gets a step of 1.
pub fn step(span: f64, target: f64, rounding: StepRounding) -> f64 {
    if !span.is_finite() || span <= 0.0 {
        return 1.0;
    }
    let raw = span / target.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = match rounding {
        StepRounding::Up if f <= 1.0 => 1.0,
        StepRounding::Up if f <= 2.0 => 2.0,
        StepRounding::Up if f <= 5.0 => 5.0,
        StepRounding::Nearest if f < 1.5 => 1.0,
        StepRounding::Nearest if f < 3.5 => 2.0,
        StepRounding::Nearest if f < 7.5 => 5.0,
        _ => 10.0,
    };
    m * mag
}

/// The step of a chart axis: [`step`] rounded up, so `target` intervals at
/// most.
pub fn nice_step(span: f64, target: usize) -> f64 {
    step(span, target as f64, StepRounding::Up)
}

/// A linear axis from 0 (or `lo`) up to `hi` rounded out to a whole step,
/// and its ticks. An empty or flat range still gets a usable axis.
pub fn linear(lo: f64, hi: f64, target: usize) -> (f64, f64, Vec<f64>) {
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let step = nice_step(hi - lo, target);
    let lo = clean((lo / step).floor() * step);
    let hi = clean((hi / step - 1e-9).ceil() * step);
    (lo, hi, ticks_within(lo, hi, step))
}

/// The multiples of `step` in `[lo, hi]`, for an axis whose ends are fixed
/// by the data (N runs from 3, not from a round number).
pub fn ticks_within(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| clean(k as f64 * step)).collect()
}

/// A log axis over whole decades covering `[lo, hi]` (values below 1 are
/// raised to 1: counts of messages), and its ticks.
pub fn log(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let lo_d = lo.max(1.0).log10().floor() as i32;
    let hi_d = (hi.max(lo.max(1.0)).log10().ceil() as i32).max(lo_d + 1);
    let minors: &[f64] = if hi_d - lo_d <= 2 { &[1.0, 2.0, 5.0] } else { &[1.0] };
    let ticks =
        (lo_d..=hi_d).flat_map(|d| minors.iter().map(move |m| m * 10f64.powi(d))).filter(|v| *v <= 10f64.powi(hi_d) * 1.000_001).collect();
    (10f64.powi(lo_d), 10f64.powi(hi_d), ticks)
}

/// Maps `v` in `[lo, hi]` to `[0, 1]`, linearly or by its logarithm.
pub fn unit(v: f64, lo: f64, hi: f64, log: bool) -> f64 {
    let (v, lo, hi) = if log { (v.max(lo).log10(), lo.log10(), hi.log10()) } else { (v, lo, hi) };
    if hi > lo {
        (v - lo) / (hi - lo)
    } else {
        0.0
    }
}

/// A tick label on an axis reaching `top`: `0`, `250`, `1.5`, `1000`;
/// `5k`, `10k` once the axis reaches 10,000; `1.2M`. One axis never
/// mixes `800` with `1k`.
pub fn label(v: f64, top: f64) -> String {
    if top >= 1e6 && v.abs() >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if top >= 1e4 && v.abs() >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{:.2}", clean(v));
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Removes float noise such as `0.30000000000000004`.
fn clean(v: f64) -> f64 {
    (v * 1e9).round() / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(1000.0, 4), 500.0);
        assert_eq!(nice_step(7.0, 5), 2.0);
        assert_eq!(nice_step(0.9, 4), 0.5);
        assert_eq!(nice_step(0.0, 4), 1.0);
        assert_eq!(nice_step(f64::NAN, 4), 1.0);
    }

    #[test]
    fn nearest_steps_round_both_ways() {
        let near = |span, target| step(span, target, StepRounding::Nearest);
        assert_eq!(near(962.5, 9.0), 100.0);
        assert_eq!(near(12_000.0, 9.0), 1000.0);
        assert_eq!(near(12_000.0, 5.0), 2000.0);
        assert_eq!(near(1000.0, 4.4), 200.0, "227 is nearer 200 than 500");
        assert_eq!(nice_step(1000.0, 4), 500.0, "250 rounds up to 500");
        assert_eq!(near(1.0, 9.0), 0.1);
        assert_eq!(near(0.0, 9.0), 1.0);
    }

    #[test]
    fn linear_axis_rounds_out() {
        let (lo, hi, t) = linear(0.0, 1734.0, 5);
        assert_eq!((lo, hi), (0.0, 2000.0));
        assert_eq!(t, vec![0.0, 500.0, 1000.0, 1500.0, 2000.0]);
        let (_, hi, t) = linear(0.0, 0.3, 3);
        assert_eq!(hi, 0.3);
        assert_eq!(t, vec![0.0, 0.1, 0.2, 0.3]);
        let (lo, hi, _) = linear(0.0, 0.0, 5);
        assert!(hi > lo, "a flat series still gets an axis");
    }

    #[test]
    fn ticks_within_fixed_ends() {
        assert_eq!(ticks_within(3.0, 40.0, 10.0), vec![10.0, 20.0, 30.0, 40.0]);
        assert_eq!(ticks_within(3.0, 12.0, 5.0), vec![5.0, 10.0]);
    }

    #[test]
    fn log_axis_covers_whole_decades() {
        let (lo, hi, t) = log(2.0, 3500.0);
        assert_eq!((lo, hi), (1.0, 10_000.0));
        assert_eq!(t, vec![1.0, 10.0, 100.0, 1000.0, 10_000.0]);
        let (lo, hi, t) = log(4.0, 60.0);
        assert_eq!((lo, hi), (1.0, 100.0));
        assert_eq!(t, vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]);
        let (lo, hi, _) = log(0.0, 0.0);
        assert_eq!((lo, hi), (1.0, 10.0));
    }

    #[test]
    fn unit_maps_both_scales() {
        assert_eq!(unit(50.0, 0.0, 100.0, false), 0.5);
        assert!((unit(100.0, 1.0, 10_000.0, true) - 0.5).abs() < 1e-12);
        assert_eq!(unit(0.0, 1.0, 100.0, true), 0.0, "zero sits on the axis");
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(label(0.0, 1000.0), "0");
        assert_eq!(label(250.0, 1000.0), "250");
        assert_eq!(label(1000.0, 1000.0), "1000");
        assert_eq!(label(5000.0, 15_000.0), "5k");
        assert_eq!(label(12_500.0, 15_000.0), "12.5k");
        assert_eq!(label(0.1 + 0.2, 0.5), "0.3");
        assert_eq!(label(1_200_000.0, 2e6), "1.2M");
        assert_eq!(label(100_000.0, 2e6), "100k");
    }
}
