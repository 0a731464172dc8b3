//! Where the staggered timer loses, and what its options buy back
//! (`stagger-bench loses`).
//!
//! The integral scheme's promise, "the best survivor claims first and the
//! others just accept", rests on two assumptions:
//!
//! 1. **Everyone notices the failure at the same time.** With asynchronous
//!    detection, survivors notice up to one period `P` apart. When that skew
//!    is larger than the `δ` gaps between consecutive election delays, a
//!    worse rank that noticed early claims first.
//! 2. **The delay matrix is right.** `δ_j` is the worst one-way delay from
//!    `S_j`; if the network is slower than believed, a better rank's claim
//!    arrives after a worse rank's timer has run out.
//!
//! Each [`Case`] breaks one assumption; each [`Fix`] is one remedy from
//! SPEC §4–5 (`guard_ms`, `skip_known_dead`, the claim policy), run on the
//! same trials as the unprotected baseline.

use super::matrix::{self, Preset, Trial};
use super::stats::Summary;
use crate::gen;
use crate::params::ClaimPolicy;
use crate::rng::Rng;
use crate::scenario::{DetectionEntry, FaultActionEntry, FaultEntry, PhaseMode, Scenario, SchemeName, TimerEntry};
use serde::{Deserialize, Serialize};

/// Servers in every case: big enough for many ranks to be in play.
pub const N: usize = 50;

/// One way the assumptions fail.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Case {
    /// LAN delays (δ ≤ 0.5 ms) under asynchronous detection with P = 100 ms:
    /// detection skew up to 200 × δ.
    SkewLan,
    /// The patent's cities (δ 55–120 ms) with P = 500 ms: skew up to about
    /// four δ.
    SkewWan,
    /// The network's one-way delays are the matrix's times `factor`
    /// (0.5 = half, 2.0 = double), on the cities, synchronous detection so
    /// that only the misestimate is at work.
    Misestimated { factor: f64 },
    /// Every pair misestimated independently, uniform in −50 % … +100 %.
    MisestimatedRandom,
    /// The master fails, then index 1 fails too, after the group had time
    /// to follow it: the second election pays `δ_0` of a master already
    /// known dead unless `skip_known_dead`. Trials whose first election
    /// chose someone else call for no second election and are left out.
    SecondFailure,
}

impl Case {
    pub const ALL: [Case; 8] = [
        Case::SkewLan,
        Case::SkewWan,
        Case::Misestimated { factor: 0.5 },
        Case::Misestimated { factor: 1.5 },
        Case::Misestimated { factor: 2.0 },
        Case::MisestimatedRandom,
        Case::SecondFailure,
        Case::Misestimated { factor: 1.0 },
    ];

    pub fn label(&self) -> String {
        match self {
            Case::SkewLan => "detection skew ≫ δ (LAN, P = 100 ms)".into(),
            Case::SkewWan => "detection skew > δ (cities, P = 500 ms)".into(),
            Case::Misestimated { factor } if *factor == 1.0 => "control: cities, synchronous, delays exact".into(),
            Case::Misestimated { factor } => format!("delays {:+.0} % of the matrix (cities, synchronous)", (factor - 1.0) * 100.0),
            Case::MisestimatedRandom => "each delay −50 % … +100 % (cities, synchronous)".into(),
            Case::SecondFailure => "a second failure after the first (cities)".into(),
        }
    }

    fn preset(&self) -> Preset {
        match self {
            Case::SkewLan => Preset::Lan,
            _ => Preset::Wan,
        }
    }
}

/// One remedy, or none.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Fix {
    /// Integral timer, `verify`, no guard, `skip_known_dead` off: SPEC §7's
    /// defaults.
    Baseline,
    /// `guard_ms` as a fraction of `P`.
    Guard {
        of_period: f64,
    },
    SkipKnownDead,
    Claim(ClaimPolicy),
    /// `guard_ms = P` and `skip_known_dead`, under `verify`.
    Recommended,
}

impl Fix {
    pub const ALL: [Fix; 8] = [
        Fix::Baseline,
        Fix::Guard { of_period: 0.25 },
        Fix::Guard { of_period: 0.5 },
        Fix::Guard { of_period: 1.0 },
        Fix::SkipKnownDead,
        Fix::Claim(ClaimPolicy::Defer),
        Fix::Claim(ClaimPolicy::Contest),
        Fix::Recommended,
    ];

    pub fn label(&self) -> String {
        match self {
            Fix::Baseline => "baseline (SPEC §7 defaults)".into(),
            Fix::Guard { of_period } => format!("guard_ms = {of_period} P"),
            Fix::SkipKnownDead => "skip_known_dead".into(),
            Fix::Claim(c) => format!("claim = {}", c.name()),
            Fix::Recommended => "guard_ms = P + skip_known_dead".into(),
        }
    }
}

/// The scenario of one case under one fix; faults relative to the crash
/// (see [`matrix::trial`]).
pub fn scenario(case: Case, fix: Fix) -> Scenario {
    let preset = case.preset();
    let (mut p, mut tau, base) = preset.timing();
    if let Case::Misestimated { .. } | Case::MisestimatedRandom = case {
        // τ must outlast the real round trip (up to 2 × 2 × 120 ms), or
        // live masters get suspected and the study measures τ, not δ.
        (p, tau) = (1000.0, 600.0);
    }
    let believed = preset.matrix(N, 0x5eed ^ N as u64);
    let mut f = gen::scenario(&format!("loses-{case:?}-{fix:?}"), believed.clone(), 0.0, 0.0);
    let phase = match case {
        Case::Misestimated { .. } | Case::MisestimatedRandom => PhaseMode::Synchronous,
        _ => PhaseMode::Asynchronous,
    };
    f.detection = Some(DetectionEntry::new(p, tau, phase));
    f.actual_delays_ms = match case {
        Case::Misestimated { factor } if factor != 1.0 => Some(believed.iter().map(|r| r.iter().map(|v| v * factor).collect()).collect()),
        Case::MisestimatedRandom => {
            let mut rng = Rng::new(0xe57);
            Some(believed.iter().map(|r| r.iter().map(|v| v * (0.5 + 1.5 * rng.unit())).collect()).collect())
        }
        _ => None,
    };
    if case == Case::SecondFailure {
        // Index 1 fails well after the group has followed it.
        let at = 10.0 * (p + tau);
        f.faults.push(FaultEntry { at_ms: at, action: FaultActionEntry::Crash(gen::ids(N)[1].clone()) });
    }
    let mut timer = TimerEntry::scheme(SchemeName::Integral).base(base);
    match fix {
        Fix::Baseline => {}
        Fix::Guard { of_period } => timer.guard_ms = Some(of_period * p),
        Fix::SkipKnownDead => timer.skip_known_dead = Some(true),
        Fix::Claim(c) => f.claim = Some(c),
        Fix::Recommended => timer = matrix::recommend(timer, p),
    }
    f.timer = Some(timer);
    f.validate().expect("a study scenario is valid")
}

/// One case under one fix, summarized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub case: Case,
    pub fix: Fix,
    pub trials: usize,
    pub lowest_wins: usize,
    pub split_brain_trials: usize,
    pub split_brain_ms: Summary,
    pub election_messages: Summary,
    pub convergence_ms: Option<Summary>,
    pub unconverged: usize,
    /// Trials left out because the last crash hit a server that was not
    /// master (see [`Trial::moot`]).
    pub moot: usize,
}

pub fn run(case: Case, fix: Fix, trials: usize, seed: u64, threads: usize, tick: &(dyn Fn() + Sync)) -> Outcome {
    let base = scenario(case, fix);
    let all: Vec<Trial> = matrix::run_trials(&base, trials, seed, threads, tick);
    let results: Vec<Trial> = all.iter().copied().filter(|t| !t.moot).collect();
    let conv: Vec<f64> = results.iter().filter_map(|t| t.convergence_ms).collect();
    Outcome {
        case,
        fix,
        trials: results.len(),
        moot: all.len() - results.len(),
        lowest_wins: results.iter().filter(|t| t.lowest_wins).count(),
        split_brain_trials: results.iter().filter(|t| t.split_brain_ms > 0.0).count(),
        split_brain_ms: Summary::of(&results.iter().map(|t| t.split_brain_ms).collect::<Vec<_>>()).unwrap_or_default(),
        election_messages: Summary::of(&results.iter().map(|t| t.election_messages as f64).collect::<Vec<_>>()).unwrap_or_default(),
        convergence_ms: Summary::of(&conv),
        unconverged: results.len() - conv.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_and_fix_builds_a_valid_scenario() {
        for case in Case::ALL {
            for fix in Fix::ALL {
                let s = scenario(case, fix);
                assert_eq!(s.len(), N);
                assert_eq!(s.faults.len(), if case == Case::SecondFailure { 2 } else { 1 });
            }
        }
        let s = scenario(Case::Misestimated { factor: 2.0 }, Fix::Baseline);
        assert_eq!(s.actual_us.as_ref().unwrap()[0][1], 2 * s.delays_us[0][1]);
        let g = scenario(Case::SkewWan, Fix::Recommended);
        assert_eq!((g.params.guard.as_ms(), g.params.skip_known_dead), (500.0, true));
    }
}
