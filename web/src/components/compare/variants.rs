//! The rows of the side-by-side table: the current scenario under each
//! timer scheme and each claim policy, then under Raft and under Bully
//! (pure logic, no Yew).
//!
//! Only the timer and the claim policy change between the nine staggered
//! rows, and only the algorithm for the last two; everything else (matrix,
//! detection, faults, seed) is the user's, so the rows differ by exactly
//! the choices the patent, SPEC §4 and docs/benchmarks.md discuss. A scheme the
//! scenario does not use gets parameters derived from the scenario
//! ([`TimerSet`]), Raft and Bully their settings from the scenario's `raft`
//! and `bully` blocks or the defaults derived from its detection, and the
//! row of the scenario's own setting reproduces its run exactly.

use stagger_core::params::{Algorithm, ClaimPolicy, Scheme};
use stagger_core::scenario::{AlgorithmName, SchemeName, TimerEntry};
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

/// What a row of the table or a series of the sweep runs: the staggered
/// timer under one scheme, or one of the algorithms it is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entrant {
    Timer(SchemeName),
    Raft,
    Bully,
}

/// Every entrant in table, legend and sweep order.
pub const ENTRANTS: [Entrant; 5] = [
    Entrant::Timer(SchemeName::Equal),
    Entrant::Timer(SchemeName::Integral),
    Entrant::Timer(SchemeName::Randomized),
    Entrant::Raft,
    Entrant::Bully,
];

impl Entrant {
    /// Its name in CSS classes, `data-` attributes and legends: the
    /// scheme's, or `raft`, `bully`.
    pub fn name(self) -> &'static str {
        match self {
            Entrant::Timer(s) => scheme_name(s),
            Entrant::Raft => "raft",
            Entrant::Bully => "bully",
        }
    }

    /// Its name in prose.
    pub fn label(self) -> &'static str {
        match self {
            Entrant::Timer(s) => scheme_name(s),
            Entrant::Raft => "Raft",
            Entrant::Bully => "Bully",
        }
    }

    pub fn algorithm(self) -> AlgorithmName {
        match self {
            Entrant::Timer(_) => AlgorithmName::Stagger,
            Entrant::Raft => AlgorithmName::Raft,
            Entrant::Bully => AlgorithmName::Bully,
        }
    }
}

/// `file` switched to `algorithm`, and how many of its faults were left
/// out to allow it. Nothing else changes: the `raft` and `bully` blocks
/// (or their defaults) give the settings. What only the staggered timer
/// accepts goes when switching away from it: the functional table, and
/// reranks (Raft and Bully have no ranking to change), which are counted.
pub fn switched(file: &ScenarioFile, algorithm: AlgorithmName) -> (ScenarioFile, usize) {
    let mut f = file.clone();
    if algorithm == AlgorithmName::Stagger {
        // `"algorithm": "stagger"` stays as written; anything else goes.
        f.algorithm = file.algorithm.filter(|a| *a == AlgorithmName::Stagger);
        return (f, 0);
    }
    f.algorithm = Some(algorithm);
    f.known_functional = None;
    let before = f.faults.len();
    f.faults.retain(|x| x.action.kind() != stagger_core::scenario::FaultKind::Rerank);
    let dropped = before - f.faults.len();
    (f, dropped)
}

/// The settings of a validated Raft or Bully scenario in a few words, e.g.
/// `timeout in [900, 1300] ms, heartbeat every P = 500 ms`.
/// Empty for the staggered timer (see [`TimerSet::describe`]).
pub fn describe_algorithm(s: &Scenario) -> String {
    let periods: Vec<f64> = s.periods.iter().map(|p| p.as_ms()).collect();
    let p = match periods.first() {
        Some(first) if periods.iter().all(|x| x == first) => format!("P = {} ms", fmt_ms(*first)),
        _ => "P".to_string(),
    };
    let every = |beat: Option<stagger_core::Span>| beat.map_or(format!("every {p}"), |b| format!("every {} ms", fmt_ms(b.as_ms())));
    match s.algorithm {
        Algorithm::Stagger => String::new(),
        Algorithm::Raft(r) => {
            let mut d = format!(
                "timeout in [{}, {}] ms, heartbeat {}",
                fmt_ms(r.election_min.as_ms()),
                fmt_ms(r.election_max.as_ms()),
                every(r.heartbeat)
            );
            if r.prevote {
                d.push_str(", PreVote");
            }
            if r.check_quorum {
                d.push_str(", CheckQuorum");
            }
            if r.persist.0 > 0 {
                d.push_str(&format!(", {} ms to persist", fmt_ms(r.persist.as_ms())));
            }
            d
        }
        Algorithm::Bully(b) => {
            let longest = s.periods.iter().copied().max().unwrap_or_default();
            let silence = b.timeout.unwrap_or(stagger_core::Span(longest.0 + s.params.timeout.0));
            format!(
                "Alive {}, timeout {} ms, waits {} ms for Answer, {} ms for Coordinator",
                every(b.heartbeat),
                fmt_ms(silence.as_ms()),
                fmt_ms(b.answer_wait.as_ms()),
                fmt_ms(b.coordinator_wait.as_ms())
            )
        }
    }
}

/// One row of the table before it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub entrant: Entrant,
    /// The claim policy of a staggered row; Raft and Bully have none.
    pub policy: Option<ClaimPolicy>,
    /// The scenario's own setting.
    pub own: bool,
    pub file: ScenarioFile,
    /// Raft's or Bully's settings in words (see [`describe_algorithm`]).
    pub about: String,
    /// Reranks left out of the scenario for Raft or Bully.
    pub dropped: usize,
}

/// The nine staggered variants, scheme-major in [`SCHEMES`] order, then
/// Raft and Bully.
pub fn variants(file: &ScenarioFile, scenario: &Scenario) -> Vec<Variant> {
    let timers = TimerSet::derive(file, scenario);
    let own_policy = scenario.params.claim;
    let own_algorithm = match scenario.algorithm {
        Algorithm::Stagger => AlgorithmName::Stagger,
        Algorithm::Raft(_) => AlgorithmName::Raft,
        Algorithm::Bully(_) => AlgorithmName::Bully,
    };
    let stagger = own_algorithm == AlgorithmName::Stagger;
    let (base, _) = switched(file, AlgorithmName::Stagger);
    let timer_rows =
        SCHEMES.iter().flat_map(|&scheme| ClaimPolicy::ALL.iter().map(move |&policy| (scheme, policy))).map(|(scheme, policy)| {
            let mut f = base.clone();
            f.timer = Some(timers.entry(scheme));
            f.claim = Some(policy);
            let own = stagger && scheme == timers.own && policy == own_policy;
            Variant { entrant: Entrant::Timer(scheme), policy: Some(policy), own, file: f, about: String::new(), dropped: 0 }
        });
    let others = [Entrant::Raft, Entrant::Bully].into_iter().map(|entrant| {
        let algorithm = entrant.algorithm();
        let (f, dropped) = switched(file, algorithm);
        let about = f.validate().map(|s| describe_algorithm(&s)).unwrap_or_default();
        Variant { entrant, policy: None, own: own_algorithm == algorithm, file: f, about, dropped }
    });
    timer_rows.chain(others).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn nine_variants_then_raft_and_bully_with_one_own_row() {
        let file = presets::file("patent-5").unwrap();
        let s = file.validate().unwrap();
        let v = variants(&file, &s);
        assert_eq!(v.len(), 11);
        let own: Vec<_> = v.iter().filter(|v| v.own).collect();
        assert_eq!(own.len(), 1);
        assert_eq!((own[0].entrant, own[0].policy), (Entrant::Timer(SchemeName::Integral), Some(ClaimPolicy::Verify)));
        for x in &v {
            x.file.validate().unwrap();
            assert_eq!(x.file.faults, file.faults, "only the timer, claim or algorithm changes");
            assert_eq!(x.file.delays_ms, file.delays_ms);
            assert_eq!(x.file.seed, file.seed);
        }
        let raft = &v[9];
        assert_eq!((raft.entrant, raft.policy, raft.file.algorithm), (Entrant::Raft, None, Some(AlgorithmName::Raft)));
        assert_eq!(raft.file.timer, file.timer, "the staggered settings are left as they were");
        // patent-5: P = 500 ms, τ = 400 ms.
        assert_eq!(raft.about, "timeout in [900, 1300] ms, heartbeat every P = 500 ms");
        let bully = &v[10];
        assert_eq!(bully.file.algorithm, Some(AlgorithmName::Bully));
        assert_eq!(bully.about, "Alive every P = 500 ms, timeout 900 ms, waits 400 ms for Answer, 800 ms for Coordinator");
    }

    #[test]
    fn a_raft_scenario_owns_the_raft_row_and_its_timer_rows_run_the_staggered_timer() {
        let mut file = presets::file("patent-5").unwrap();
        file.algorithm = Some(AlgorithmName::Raft);
        file.raft = Some(stagger_core::scenario::RaftEntry { heartbeat_ms: Some(100.0), prevote: Some(true), ..Default::default() });
        let s = file.validate().unwrap();
        let v = variants(&file, &s);
        let own: Vec<_> = v.iter().filter(|v| v.own).collect();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].entrant, Entrant::Raft);
        assert_eq!(own[0].file, file, "the own row is the scenario itself");
        assert!(own[0].about.contains("heartbeat every 100 ms, PreVote"), "{}", own[0].about);
        for x in v.iter().filter(|v| matches!(v.entrant, Entrant::Timer(_))) {
            assert_eq!(x.file.algorithm, None);
            assert!(matches!(x.file.validate().unwrap().algorithm, Algorithm::Stagger));
        }
        assert_eq!(v[10].file.raft, file.raft, "Bully keeps the raft block for switching back");
    }

    #[test]
    fn switching_leaves_out_what_only_the_staggered_timer_accepts() {
        let mut file = presets::file("patent-5").unwrap();
        file.known_functional = Some(true);
        use stagger_core::scenario::{FaultActionEntry, FaultEntry, RerankEntry};
        let order = RerankEntry::Order(crate::edit::ranking(&file).into_iter().rev().collect());
        let rerank = FaultEntry { at_ms: 5000.0, action: FaultActionEntry::Rerank(order) };
        file.faults.push(rerank);
        file.validate().unwrap();
        let (raft, dropped) = switched(&file, AlgorithmName::Raft);
        assert_eq!(dropped, 1);
        assert_eq!((raft.known_functional, raft.faults.len()), (None, 1));
        raft.validate().unwrap();
        let (back, none) = switched(&raft, AlgorithmName::Stagger);
        assert_eq!((back.algorithm, none), (None, 0));
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
