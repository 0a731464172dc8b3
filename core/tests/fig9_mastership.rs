//! Fig. 9, the mastership updating mechanism 630 (SPEC §4 table), one test
//! per act, plus the functional table of [0062] and re-ranking (SPEC §1).

mod common;

use common::*;
use stagger_core::*;
use TimerKind::{Detection, Election, InquiryTimeout, VerifyTimeout};

// ----- acts 905/910: analysing the message -----

#[test]
fn act_905_910_only_declare_and_revoke_reach_mastership_updating() {
    // An Inquiry to a Master is answered, to anyone else dropped; an
    // unsolicited InquiryReply changes nothing. None of them touches roles.
    let mut m = server(0);
    drain(&mut m);
    assert_eq!(recv(&mut m, ms(10), 2, inquiry(5)), vec![send_to(0, 2, reply(5))]);
    assert_eq!(recv(&mut m, ms(11), 2, reply(5)), vec![]);
    assert_eq!((m.role(), m.master()), (Role::Master, Some(0)));

    let mut w = waiting(2, params());
    assert_eq!(recv(&mut w, ms(410), 0, reply(1)), vec![], "a WaitElection server ignores replies");
    assert_eq!(recv(&mut w, ms(411), 1, inquiry(3)), vec![]);
    assert_eq!((w.role(), w.timer(Election)), (Role::WaitElection, Some(ms(570))));
}

#[test]
fn act_905_910_malformed_envelopes_are_refused() {
    let mut s = waiting(2, params());
    assert_eq!(recv(&mut s, ms(410), 7, declare(1)), vec![Output::Refused { from: 7, reason: Refusal::UnknownSender }]);
    assert_eq!(
        recv(&mut s, ms(411), 2, declare(2)),
        vec![Output::Refused { from: 2, reason: Refusal::UnknownSender }],
        "a message from oneself"
    );
    assert_eq!(recv(&mut s, ms(412), 1, declare(9)), vec![Output::Refused { from: 1, reason: Refusal::BadIndex { idx: 9 } }]);
    assert_eq!(recv(&mut s, ms(413), 1, revoke(5, 1)), vec![Output::Refused { from: 1, reason: Refusal::BadIndex { idx: 5 } }]);
    // Nothing was applied.
    assert_eq!((s.role(), s.master()), (Role::WaitElection, None));
    assert_eq!(s.timer(Election), Some(ms(570)));
}

#[test]
fn act_905_910_claim_in_own_favour_changes_nothing() {
    // Engine choice: a claim naming the receiver itself is a no-op.
    let mut w = waiting(2, params());
    assert_eq!(recv(&mut w, ms(410), 3, revoke(3, 2)), vec![]);
    assert_eq!((w.role(), w.timer(Election)), (Role::WaitElection, Some(ms(570))));
    let mut m = server(0);
    drain(&mut m);
    assert_eq!(recv(&mut m, ms(10), 1, revoke(1, 0)), vec![]);
    assert_eq!(m.role(), Role::Master);
}

// ----- acts 915/920/925: WaitElection hears a Declare -----

#[test]
fn act_915_920_925_wait_election_accepts_declare() {
    // Better claimant.
    let mut s = waiting(2, params());
    assert_eq!(recv(&mut s, ms(450), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(s.timer(Election), None, "act 925 terminates D_i");

    // Worse claimant: still accepted (no i < idx test in this row).
    let mut s = waiting(2, params());
    assert_eq!(recv(&mut s, ms(450), 3, declare(3)), vec![role(Role::Backup, Some(3))]);
    assert_eq!(s.timer(Election), None);
    // Via D back to act 870: a later Revoke is still handled (as a Backup now).
    assert_eq!(recv(&mut s, ms(460), 1, revoke(3, 1)), vec![role(Role::Backup, Some(1))]);
}

// ----- acts 930/950/960: Master, i < idx -----

#[test]
fn act_930_950_960_master_revokes_worse_claim() {
    // The original master.
    let mut s = server(0);
    drain(&mut s);
    assert_eq!(recv(&mut s, ms(10), 2, declare(2)), vec![send_all(0, revoke(2, 0))]);
    assert_eq!((s.role(), s.master()), (Role::Master, Some(0)));
    // A fresh master.
    let (mut s, at) = fresh_master(1, params());
    assert_eq!(recv(&mut s, at, 3, declare(3)), vec![send_all(1, revoke(3, 1))]);
    assert_eq!((s.role(), s.master()), (Role::Master, Some(1)));
    // Same rule for a Revoke ([0065]-[0067]): the named idx is worse.
    assert_eq!(recv(&mut s, ms(460), 3, revoke(2, 4)), vec![send_all(1, revoke(4, 1))]);
    assert_eq!(s.role(), Role::Master);
}

// ----- acts 935/940: Master, i >= idx -----

#[test]
fn act_935_940_master_yields_to_better_claim() {
    let (mut s, at) = fresh_master(2, params());
    assert_eq!(tick(&mut s, at), vec![armed(Detection, ms(1000))]);
    assert_eq!(recv(&mut s, ms(600), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
    // Via D: detection resumes on the new master.
    assert_eq!(tick(&mut s, ms(1000)), inquiry_tick(2, Some(1), 2, ms(1000), span(P_MS), span(TAU_MS)));

    // Same rule for a Revoke that names a better server.
    let (mut s, _) = fresh_master(3, params());
    assert_eq!(recv(&mut s, ms(700), 1, revoke(3, 1)), vec![role(Role::Backup, Some(1))]);
    let (mut s, _) = fresh_master(3, params());
    assert_eq!(recv(&mut s, ms(700), 2, revoke(4, 2)), vec![role(Role::Backup, Some(2))]);

    // A fresh S_1 yields to the original S_0 re-announcing.
    let (mut s, _) = fresh_master(1, params());
    assert_eq!(recv(&mut s, ms(500), 0, declare(0)), vec![role(Role::Backup, Some(0))]);
}

// ----- act 970: Revoke -----

#[test]
fn act_970_revoke_wait_election_better_index_takes_over() {
    // S_1 waits; a Revoke names S_3 (1 < 3): S_1 becomes Master and sends
    // Revoke{3, 1} to all ([0066]).
    let mut s = waiting(1, params());
    assert_eq!(recv(&mut s, ms(420), 2, revoke(2, 3)), vec![role(Role::Master, Some(1)), send_all(1, revoke(3, 1))]);
    assert_eq!(s.timer(Election), None, "taking over cancels the election timer");
    assert_eq!(s.timer(Detection), Some(ms(500)));
    assert_eq!(tick(&mut s, ms(500)), vec![armed(Detection, ms(1000))]);
}

#[test]
fn act_970_revoke_wait_election_otherwise_accepts() {
    // i > idx: accept as for a Declare ([0067]).
    let mut s = waiting(3, params());
    assert_eq!(recv(&mut s, ms(420), 1, revoke(2, 1)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(s.timer(Election), None);
    let mut s = waiting(3, params());
    assert_eq!(recv(&mut s, ms(420), 2, revoke(4, 2)), vec![role(Role::Backup, Some(2))]);
}

#[test]
fn act_970_revoke_reaching_a_backup_follows_the_claim_policy() {
    // verify: idx < m accepted; idx > m held and verified.
    let mut s = backup_of(3, 2, with_claim(ClaimPolicy::Verify));
    assert_eq!(recv(&mut s, ms(450), 1, revoke(2, 1)), vec![role(Role::Backup, Some(1))]);
    let mut s = backup_of(3, 2, with_claim(ClaimPolicy::Verify));
    assert_eq!(
        recv(&mut s, ms(450), 4, revoke(2, 4)),
        vec![note(Note::ClaimPending { idx: 4 }), send_to(3, 2, inquiry(2)), armed(VerifyTimeout, ms(850))]
    );
    // defer: worse ignored.
    let mut s = backup_of(3, 2, with_claim(ClaimPolicy::Defer));
    assert_eq!(recv(&mut s, ms(450), 4, revoke(2, 4)), vec![note(Note::ClaimIgnored { idx: 4 })]);
    // contest: i < idx takes over.
    let mut s = backup_of(3, 2, with_claim(ClaimPolicy::Contest));
    assert_eq!(recv(&mut s, ms(450), 4, revoke(2, 4)), vec![role(Role::Master, Some(3)), send_all(3, revoke(4, 3))]);
}

// ----- [0062]: the functional table -----

fn kf() -> Params {
    Params { known_functional: true, ..params() }
}

fn functional(s: &mut Server, now: Time, table: [bool; 5]) {
    assert_eq!(step(s, now, Input::Functional(table.to_vec())), vec![]);
}

#[test]
fn known_functional_0062_lowest_functional_wait_election_takes_over() {
    // S_0 is down; S_1 is the lowest functional index, so it contests.
    let mut s = waiting(1, kf());
    functional(&mut s, ms(405), [false, true, true, true, true]);
    assert_eq!(recv(&mut s, ms(420), 2, revoke(2, 3)), vec![role(Role::Master, Some(1)), send_all(1, revoke(3, 1))]);
}

#[test]
fn known_functional_0062_wait_election_not_lowest_functional_accepts_worse_revoke() {
    // S_2 < 3, but S_1 is functional: S_2 is not the best, so it accepts
    // (plain Fig. 9 would contest).
    let mut s = waiting(2, kf());
    functional(&mut s, ms(405), [false, true, true, true, true]);
    assert_eq!(recv(&mut s, ms(420), 3, revoke(4, 3)), vec![role(Role::Backup, Some(3))]);
    // Without the table, S_2 contests.
    let mut s = waiting(2, params());
    assert_eq!(recv(&mut s, ms(420), 3, revoke(4, 3)), vec![role(Role::Master, Some(2)), send_all(2, revoke(3, 2))]);
}

#[test]
fn known_functional_0062_master_row_uses_lowest_functional_test() {
    // Fresh master S_2 with S_1 functional: a worse Declare is accepted.
    let (mut s, _) = fresh_master(2, kf());
    functional(&mut s, ms(580), [false, true, true, true, true]);
    assert_eq!(recv(&mut s, ms(600), 3, declare(3)), vec![role(Role::Backup, Some(3))]);
    // Fresh master S_2 that is the lowest functional index: revokes.
    let (mut s, _) = fresh_master(2, kf());
    functional(&mut s, ms(580), [false, false, true, true, true]);
    assert_eq!(recv(&mut s, ms(600), 3, declare(3)), vec![send_all(2, revoke(3, 2))]);
    assert_eq!(s.role(), Role::Master);
}

#[test]
fn known_functional_0062_table_ignored_when_off() {
    let (mut s, _) = fresh_master(2, params());
    functional(&mut s, ms(580), [false, true, true, true, true]);
    assert_eq!(recv(&mut s, ms(600), 3, declare(3)), vec![send_all(2, revoke(3, 2))]);
}

#[test]
fn known_functional_0062_does_not_change_the_backup_row() {
    // SPEC: only the Master and WaitElection rows use the table. A contest
    // Backup still compares i < idx.
    let p = Params { known_functional: true, claim: ClaimPolicy::Contest, ..params() };
    let mut s = server_with(2, p);
    drain(&mut s);
    functional(&mut s, ms(0), [true, true, true, true, true]);
    assert_eq!(recv(&mut s, ms(10), 3, declare(3)), vec![role(Role::Master, Some(2)), send_all(2, revoke(3, 2))]);
}

// ----- re-ranking (SPEC §1) -----

/// Reversed ranking: index i is row 4 - i.
fn reversed(version: u32) -> std::sync::Arc<RankTable> {
    table(version, vec![4, 3, 2, 1, 0], Span::ZERO)
}

#[test]
fn rerank_bumps_version_and_refuses_other_versions() {
    let mut s = server(2);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(s.version(), 1);
    // Row 2 keeps index 2; the master (row 0) becomes index 4. The pending
    // inquiry is dropped (engine choice).
    assert_eq!(step(&mut s, ms(100), Input::Rerank(reversed(2))), vec![role(Role::Backup, Some(4))]);
    assert_eq!(s.version(), 2);
    assert_eq!(s.timer(InquiryTimeout), None);
    // A message stamped with the old version is refused, not applied.
    assert_eq!(
        recv_v(&mut s, ms(150), 1, 1, declare(1)),
        vec![Output::Refused { from: 1, reason: Refusal::Version { ours: 2, theirs: 1 } }]
    );
    assert_eq!(
        recv_v(&mut s, ms(151), 4, 3, inquiry(1)),
        vec![Output::Refused { from: 4, reason: Refusal::Version { ours: 2, theirs: 3 } }]
    );
    assert_eq!((s.role(), s.master()), (Role::Backup, Some(4)));
    // New messages carry the new version, and go to the master's new index.
    assert_eq!(tick(&mut s, ms(500)), vec![armed(Detection, ms(1000)), send_to_v(2, 4, 2, inquiry(2)), armed(InquiryTimeout, ms(900)),]);
    // A reply with the right version counts.
    assert_eq!(recv_v(&mut s, ms(610), 4, 2, reply(2)), vec![]);
    assert_eq!(s.timer(InquiryTimeout), None);
}

#[test]
fn rerank_of_the_master_keeps_it_master_under_its_new_index() {
    let mut s = server(0);
    drain(&mut s);
    assert_eq!(step(&mut s, ms(100), Input::Rerank(reversed(2))), vec![role(Role::Master, Some(4))]);
    assert_eq!(s.index(), 4);
    assert_eq!(recv_v(&mut s, ms(110), 3, 2, inquiry(7)), vec![send_to_v(4, 3, 2, reply(7))]);
    assert_eq!(
        recv_v(&mut s, ms(111), 3, 1, inquiry(8)),
        vec![Output::Refused { from: 3, reason: Refusal::Version { ours: 2, theirs: 1 } }]
    );
}

#[test]
fn rerank_during_wait_election_restarts_delay_under_new_index() {
    // Engine choice (SPEC silent): row 1 becomes index 3; under the reversed
    // ranking δ_1 = max(C[3][2], C[3][1], C[3][0]) = 110 and
    // δ_2 = max(C[2][1], C[2][0]) = 120, so D_3 = 50 + 0 + 110 + 120 = 280,
    // counted from the re-rank.
    let mut s = waiting(1, params());
    assert_eq!(s.timer(Election), Some(ms(450)));
    assert_eq!(
        step(&mut s, ms(420), Input::Rerank(reversed(2))),
        vec![note(Note::ElectionDelay { delay: span(280) }), armed(Election, ms(700))]
    );
    assert_eq!((s.role(), s.master(), s.index()), (Role::WaitElection, None, 3));
    assert_eq!(fire(&mut s, ms(700), Election), vec![role(Role::Master, Some(3)), send_all_v(3, 2, declare(3))]);
}

#[test]
fn rerank_remaps_the_functional_table_to_the_new_indices() {
    // Row 3, a fresh master, hears that rows 0–2 are down: it is the lowest
    // functional index, so it would revoke any claim.
    let (mut s, at) = fresh_master(3, kf());
    functional(&mut s, at, [false, false, false, true, true]);
    // Reversed, row 4 (functional) is index 0 and row 3 index 1. The same
    // table by the new indices is [true, true, false, false, false].
    assert_eq!(step(&mut s, at + span(10), Input::Rerank(reversed(2))), vec![role(Role::Master, Some(1))]);
    // Row 4's claim comes from a functional, better index: S_1 is not the
    // lowest functional index, so it yields (act 935). Read by the old
    // indices, the table would say index 0 is down and S_1 would revoke.
    assert_eq!(recv_v(&mut s, at + span(20), 0, 2, declare(0)), vec![role(Role::Backup, Some(0))]);
}

#[test]
fn rerank_while_down_applies_on_recovery() {
    let mut s = server(2);
    drain(&mut s);
    tick(&mut s, ms(0));
    step(&mut s, ms(10), Input::Crash);
    assert_eq!(step(&mut s, ms(20), Input::Rerank(reversed(2))), vec![]);
    assert_eq!(s.version(), 2);
    assert_eq!(step(&mut s, ms(30), Input::Recover), vec![role(Role::Backup, None), armed(Detection, ms(500))]);
    assert_eq!(
        recv_v(&mut s, ms(40), 1, 1, declare(1)),
        vec![Output::Refused { from: 1, reason: Refusal::Version { ours: 2, theirs: 1 } }]
    );
    assert_eq!(tick(&mut s, ms(500)), vec![armed(Detection, ms(1000)), send_all_v(2, 2, inquiry(2)), armed(InquiryTimeout, ms(900)),]);
}

#[test]
fn rerank_with_wrong_size_is_a_usage_error() {
    let mut s = server(2);
    drain(&mut s);
    let small = std::sync::Arc::new(RankTable::new(2, vec![0, 1, 2], &[vec![0, 1, 1], vec![1, 0, 1], vec![1, 1, 0]], Span::ZERO));
    assert_eq!(s.handle_input(ms(10), Input::Rerank(small), &mut Rng::new(0)), Err(UsageError::WrongSize { got: 3, want: 5 }));
    assert_eq!(drain(&mut s), vec![]);
    assert_eq!(s.version(), 1);
}

#[test]
fn rerank_during_wait_election_randomized_draws_once_more() {
    // Engine choice (SPEC §6 lists a randomized draw only "at each entry into
    // the election"): a re-rank in WaitElection restarts the delay with one
    // fresh draw.
    let (lo, hi) = (span(100), span(200));
    let p = Params { scheme: Scheme::Randomized { min: lo, max: hi }, ..params() };
    let mut expect = Rng::new(5);
    let d1 = Span(expect.range_inclusive(lo.0, hi.0));
    let d2 = Span(expect.range_inclusive(lo.0, hi.0));
    let mut rng = Rng::new(5);
    let mut s = server_with(1, p);
    drain(&mut s);
    step_rng(&mut s, ms(0), Input::Timer(Detection), &mut rng);
    assert_eq!(step_rng(&mut s, ms(400), Input::Timer(InquiryTimeout), &mut rng), election_entry(1, Some(0), d1, ms(400)));
    assert_eq!(
        step_rng(&mut s, ms(420), Input::Rerank(reversed(2)), &mut rng),
        vec![note(Note::ElectionDelay { delay: d2 }), armed(Election, ms(420) + d2)]
    );
    assert_eq!(rng, expect);
}
