//! The nine variants of the side-by-side table: the current scenario under
//! each timer scheme and each claim policy (pure logic, no Yew).
//!
//! Only the timer and the claim policy change; everything else (matrix,
//! detection, faults, seed) is the user's, so the rows differ by exactly the
//! two choices the patent and SPEC §4 discuss. A scheme the scenario does
//! not use gets parameters derived from the scenario ([`TimerSet`]), and the
//! row of the scenario's own scheme and policy reproduces its run exactly.

use stagger_core::params::{ClaimPolicy, Scheme};
use stagger_core::scenario::{SchemeName, TimerEntry};
use stagger_core::{Scenario, ScenarioFile};

/// The three schemes in table and legend order.
pub const SCHEMES: [SchemeName; 3] = [SchemeName::Equal, SchemeName::Integral, SchemeName::Randomized];

/// The scheme's name as the scenario file spells it.
pub fn scheme_name(s: SchemeName) -> &'static str {
    match s {
        SchemeName::Equal => "equal",
        SchemeName::Integral => "integral",
        SchemeName::Randomized => "randomized",
    }
}

/// One set of parameters for all three schemes, in milliseconds.
///
/// The scenario's own scheme keeps its values. The others are derived so the
/// comparison is fair: the equal `T` is the integral `T1` (both then make
/// `S_1` wait equally long), and the randomized range spans what the
/// integral timer would give the backups, `[D_1, D_{N−1}] = [T1, T1 + Σδ]`,
/// so no scheme is handed a longer or shorter worst-case wait.
#[derive(Clone, Debug, PartialEq)]
pub struct TimerSet {
    pub own: SchemeName,
    pub equal_ms: f64,
    pub integral_ms: f64,
    pub random_ms: (f64, f64),
    /// Kept from the scenario: they apply to every scheme.
    pub guard_ms: Option<f64>,
    pub skip_known_dead: Option<bool>,
}

impl TimerSet {
    /// Derives the set from a validated scenario and its file.
    pub fn derive(file: &ScenarioFile, scenario: &Scenario) -> TimerSet {
        let (own, integral_ms) = match scenario.params.scheme {
            Scheme::Integral { base } => (SchemeName::Integral, base.as_ms()),
            Scheme::Equal { delay } => (SchemeName::Equal, delay.as_ms()),
            Scheme::Randomized { min, .. } => (SchemeName::Randomized, min.as_ms()),
        };
        let equal_ms = match scenario.params.scheme {
            Scheme::Equal { delay } => delay.as_ms(),
            _ => integral_ms,
        };
        let random_ms = match scenario.params.scheme {
            Scheme::Randomized { min, max } => (min.as_ms(), max.as_ms()),
            _ => {
                let n = scenario.len() as u32;
                let spread = scenario.rank_table().prefix(n - 1).as_ms();
                (integral_ms, integral_ms + spread)
            }
        };
        let t = file.timer.as_ref();
        TimerSet {
            own,
            equal_ms,
            integral_ms,
            random_ms,
            guard_ms: t.and_then(|t| t.guard_ms),
            skip_known_dead: t.and_then(|t| t.skip_known_dead),
        }
    }

    /// The timer entry of one scheme, with the shared extensions.
    pub fn entry(&self, scheme: SchemeName) -> TimerEntry {
        let mut e = match scheme {
            SchemeName::Equal => TimerEntry::scheme(scheme).delay(self.equal_ms),
            SchemeName::Integral => TimerEntry::scheme(scheme).base(self.integral_ms),
            SchemeName::Randomized => TimerEntry::scheme(scheme).range(self.random_ms.0, self.random_ms.1),
        };
        e.guard_ms = self.guard_ms;
        e.skip_known_dead = self.skip_known_dead;
        e
    }

    /// The parameters of one scheme in words, e.g. `D_i = T = 50 ms`.
    pub fn describe(&self, scheme: SchemeName) -> String {
        let derived = if scheme == self.own { "" } else { " (derived)" };
        match scheme {
            SchemeName::Equal => format!("D_i = T = {} ms{derived}", fmt_ms(self.equal_ms)),
            SchemeName::Integral => format!("D_i = T1 + Σδ, T1 = {} ms{derived}", fmt_ms(self.integral_ms)),
            SchemeName::Randomized => {
                format!("D_i uniform in [{}, {}] ms{derived}", fmt_ms(self.random_ms.0), fmt_ms(self.random_ms.1))
            }
        }
    }
}

/// Milliseconds without trailing zeros: `50`, `12.5`, `0.125`.
pub fn fmt_ms(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// One row of the table before it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub scheme: SchemeName,
    pub policy: ClaimPolicy,
    /// The scenario's own scheme and policy.
    pub own: bool,
    pub file: ScenarioFile,
}

/// The nine variants, scheme-major in [`SCHEMES`] order.
pub fn variants(file: &ScenarioFile, scenario: &Scenario) -> Vec<Variant> {
    let timers = TimerSet::derive(file, scenario);
    let own_policy = scenario.params.claim;
    SCHEMES
        .iter()
        .flat_map(|&scheme| ClaimPolicy::ALL.iter().map(move |&policy| (scheme, policy)))
        .map(|(scheme, policy)| {
            let mut f = file.clone();
            f.timer = Some(timers.entry(scheme));
            f.claim = Some(policy);
            Variant { scheme, policy, own: scheme == timers.own && policy == own_policy, file: f }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn nine_variants_with_one_own_row() {
        let file = presets::file("patent-5").unwrap();
        let s = file.validate().unwrap();
        let v = variants(&file, &s);
        assert_eq!(v.len(), 9);
        let own: Vec<_> = v.iter().filter(|v| v.own).collect();
        assert_eq!(own.len(), 1);
        assert_eq!((own[0].scheme, own[0].policy), (SchemeName::Integral, ClaimPolicy::Verify));
        for x in &v {
            x.file.validate().unwrap();
            assert_eq!(x.file.faults, file.faults, "only the timer and claim change");
            assert_eq!(x.file.delays_ms, file.delays_ms);
        }
    }

    #[test]
    fn derived_parameters_follow_the_integral_timer() {
        let file = presets::file("patent-5").unwrap();
        let t = TimerSet::derive(&file, &file.validate().unwrap());
        assert_eq!(t.own, SchemeName::Integral);
        assert_eq!(t.equal_ms, 50.0);
        // δ_1..δ_3 = 120, 80, 55 (SPEC §5 on the patent's matrix).
        assert_eq!(t.random_ms, (50.0, 305.0));
        assert!(t.describe(SchemeName::Equal).contains("derived"));
        assert!(!t.describe(SchemeName::Integral).contains("derived"));
    }

    #[test]
    fn fmt_ms_trims() {
        assert_eq!(fmt_ms(50.0), "50");
        assert_eq!(fmt_ms(0.125), "0.125");
    }

    #[test]
    fn own_scheme_keeps_its_parameters() {
        let file = presets::file("storm").unwrap();
        let t = TimerSet::derive(&file, &file.validate().unwrap());
        assert_eq!((t.own, t.equal_ms, t.integral_ms), (SchemeName::Equal, 50.0, 50.0));
        let mut r = file.clone();
        r.timer = Some(TimerEntry::scheme(SchemeName::Randomized).range(20.0, 90.0));
        let t = TimerSet::derive(&r, &r.validate().unwrap());
        assert_eq!((t.own, t.random_ms, t.equal_ms), (SchemeName::Randomized, (20.0, 90.0), 20.0));
    }
}
