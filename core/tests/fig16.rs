//! Raft's Figure 16 reproduced in the simulator: the two
//! figures the paper states as a median or a mean, within ±15 %, over the
//! same 1,000 trials `stagger-bench raft-fig16` runs.

use stagger_core::compare::fig16::{self, Published};

#[test]
fn the_published_median_and_mean_are_reproduced_within_15_percent() {
    for (lo, hi) in [(150.0, 155.0), (12.0, 24.0)] {
        let row = fig16::row(lo, hi, 1_000, fig16::SEED, || {});
        assert_eq!(row.no_leader, 0, "{lo}–{hi}: every trial elects a leader");
        let dev = row.deviations();
        assert_eq!(dev.len(), 1, "{lo}–{hi}: {dev:?}");
        for (published, off) in dev {
            assert!(off.abs() <= 0.15, "{lo}–{hi} ms: {published:?} vs ours {:?}: off by {:+.1} %", row.downtime, off * 100.0);
        }
    }
}

#[test]
fn without_randomness_split_votes_keep_most_trials_leaderless_for_10_s() {
    // The paper: "consistently took longer than 10 seconds".
    let row = fig16::row(150.0, 150.0, 100, fig16::SEED, || {});
    assert!(row.published.contains(&Published::AllLongerThanMs(10_000.0)));
    assert!(row.no_leader >= 80, "{} of 100 trials elected a leader within 10 s", 100 - row.no_leader);
}

#[test]
fn more_randomness_shortens_the_tail() {
    let narrow = fig16::row(150.0, 155.0, 300, fig16::SEED, || {}).downtime.unwrap();
    let wide = fig16::row(150.0, 300.0, 300, fig16::SEED, || {}).downtime.unwrap();
    assert!(wide.p99 < narrow.p99, "150–300 p99 {} vs 150–155 p99 {}", wide.p99, narrow.p99);
    // And no trial beats the floor: half the minimum timeout, minus a delay.
    assert!(wide.min >= 75.0 - fig16::ONE_WAY_MS * 1.5);
}
