//! Where the staggered timer loses, as assertions on the
//! seeded study `stagger-bench loses` prints: each failure is real, and
//! each remedy buys back what docs/benchmarks.md says it does.

use stagger_core::compare::loses::{run, Case, Fix, Outcome};
use stagger_core::params::ClaimPolicy;

const TRIALS: usize = 200;

fn outcome(case: Case, fix: Fix) -> Outcome {
    run(case, fix, TRIALS, 1, 2, &|| {})
}

fn share(k: usize, o: &Outcome) -> f64 {
    k as f64 / o.trials as f64
}

#[test]
fn detection_skew_beats_the_integral_timer_and_a_guard_of_one_period_wins_it_back() {
    for case in [Case::SkewLan, Case::SkewWan] {
        let base = outcome(case, Fix::Baseline);
        let guard = outcome(case, Fix::Guard { of_period: 1.0 });
        assert!(share(base.lowest_wins, &base) < 0.8, "{case:?}: the baseline's best survivor loses often: {base:?}");
        assert_eq!(guard.lowest_wins, guard.trials, "{case:?}: guard = P always elects index 1: {guard:?}");
        assert!(guard.split_brain_trials <= base.split_brain_trials, "{case:?}");
        assert_eq!(guard.unconverged, 0);
    }
}

#[test]
fn misestimated_delays_cause_split_brain_that_the_guard_absorbs() {
    for factor in [1.5, 2.0] {
        let case = Case::Misestimated { factor };
        let base = outcome(case, Fix::Baseline);
        let guard = outcome(case, Fix::Guard { of_period: 1.0 });
        assert!(share(base.split_brain_trials, &base) > 0.5, "×{factor}: {base:?}");
        assert!(share(guard.split_brain_trials, &guard) < 0.25, "×{factor}: {guard:?}");
        assert_eq!(guard.lowest_wins, guard.trials);
    }
    // Overestimated delays only make the timer slower, never wrong.
    let slow = outcome(Case::Misestimated { factor: 0.5 }, Fix::Baseline);
    assert_eq!(slow.split_brain_trials, 0, "{slow:?}");
}

#[test]
fn skip_known_dead_shortens_the_second_election_and_pays_for_the_guard() {
    let base = outcome(Case::SecondFailure, Fix::Baseline);
    let skip = outcome(Case::SecondFailure, Fix::SkipKnownDead);
    let guard = outcome(Case::SecondFailure, Fix::Guard { of_period: 1.0 });
    let both = outcome(Case::SecondFailure, Fix::Recommended);
    let p99 = |o: &Outcome| o.convergence_ms.unwrap().p99;
    let p50 = |o: &Outcome| o.convergence_ms.unwrap().p50;
    assert!(base.moot > 0 && base.trials > TRIALS / 2, "{base:?}");
    assert!(p99(&skip) < p99(&base), "skip {} vs base {}", p99(&skip), p99(&base));
    assert!(p50(&guard) > p50(&base) + 200.0, "a guard alone makes the second election wait");
    assert!(p50(&both) < p50(&guard) - 200.0, "skip_known_dead takes that wait back");
    assert_eq!(both.lowest_wins, both.trials);
}

#[test]
fn defer_and_contest_trade_correct_winners_for_split_brain() {
    let verify = outcome(Case::SkewWan, Fix::Baseline);
    let defer = outcome(Case::SkewWan, Fix::Claim(ClaimPolicy::Defer));
    let contest = outcome(Case::SkewWan, Fix::Claim(ClaimPolicy::Contest));
    assert!(share(defer.split_brain_trials, &defer) > 0.9 && share(contest.split_brain_trials, &contest) > 0.9);
    assert!(defer.split_brain_ms.mean > verify.split_brain_ms.mean);
    assert!(contest.election_messages.p99 > 10.0 * verify.election_messages.p99, "contest storms");
}
