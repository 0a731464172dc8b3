//! Fig. 5, failure detection (SPEC §3), one test per act, plus the
//! detection-grid behaviours that hang off timer 510: re-announcement,
//! recovery, and the caller's usage errors.

mod common;

use common::*;
use stagger_core::*;
use TimerKind::{Detection, Election, InquiryTimeout, VerifyTimeout};

// ----- act 510: the detection periodic timer -----

#[test]
fn act_510_first_tick_armed_at_phase_and_initial_roles() {
    let mut s0 = server(0);
    assert_eq!(drain(&mut s0), vec![armed(Detection, ms(0))]);
    assert_eq!((s0.role(), s0.master()), (Role::Master, Some(0)));

    let mut s3 = server(3);
    assert_eq!(drain(&mut s3), vec![armed(Detection, ms(0))]);
    assert_eq!((s3.role(), s3.master()), (Role::Backup, Some(0)));

    let mut late = build(2, params(), span(500), Span(123_456), table(V, identity(), Span::ZERO));
    assert_eq!(drain(&mut late), vec![armed(Detection, Time(123_456))]);
    assert_eq!(late.poll_timeout(), Some((Time(123_456), Detection)));
}

#[test]
fn act_510_timer_fires_on_phase_grid_whatever_the_role() {
    let phase = Span(7_000);
    let period = span(600);
    // Backup: phase + m·P.
    let mut b = build(1, params(), period, phase, table(V, identity(), Span::ZERO));
    drain(&mut b);
    assert_eq!(tick(&mut b, Time(7_000)), inquiry_tick(1, Some(0), 1, Time(7_000), period, span(TAU_MS)));
    assert_eq!(recv(&mut b, Time(47_000), 0, reply(1)), vec![]);
    assert_eq!(tick(&mut b, Time(607_000)), inquiry_tick(1, Some(0), 2, Time(607_000), period, span(TAU_MS)));

    // Master: the timer keeps the same grid, and only re-arms (no announce).
    let mut m = build(0, params(), period, phase, table(V, identity(), Span::ZERO));
    drain(&mut m);
    for k in 0..4u64 {
        let now = Time(7_000 + k * 600_000);
        assert_eq!(tick(&mut m, now), vec![armed(Detection, Time(7_000 + (k + 1) * 600_000))]);
    }

    // WaitElection: the timer fires and only re-arms.
    let mut w = waiting(4, params());
    assert_eq!(tick(&mut w, ms(500)), vec![armed(Detection, ms(1000))]);
    assert_eq!(w.role(), Role::WaitElection);
}

#[test]
fn act_510_timer_keeps_grid_across_role_changes() {
    // S_1: Backup -> WaitElection at 400 -> Master at 450: the next tick is
    // still at 500, and 1000 after it. No role change moves it.
    let mut s = waiting(1, params());
    assert_eq!(s.timer(Detection), Some(ms(500)));
    assert_eq!(fire(&mut s, ms(450), Election), vec![role(Role::Master, Some(1)), send_all(1, declare(1))]);
    assert_eq!(s.timer(Detection), Some(ms(500)));
    assert_eq!(tick(&mut s, ms(500)), vec![armed(Detection, ms(1000))]);
    // And back to Backup: still the same grid.
    assert_eq!(recv(&mut s, ms(700), 0, revoke(1, 0)), vec![role(Role::Backup, Some(0))]);
    assert_eq!(s.timer(Detection), Some(ms(1000)));
    assert_eq!(tick(&mut s, ms(1000)), inquiry_tick(1, Some(0), 2, ms(1000), span(P_MS), span(TAU_MS)));
}

// ----- act 520: the inquiry -----

#[test]
fn act_520_backup_sends_inquiry_to_master_on_tick() {
    let mut s = server(2);
    drain(&mut s);
    assert_eq!(tick(&mut s, ms(0)), vec![armed(Detection, ms(500)), send_to(2, 0, inquiry(1)), armed(InquiryTimeout, ms(400)),]);
    assert_eq!(recv(&mut s, ms(110), 0, reply(1)), vec![]);
    // Each inquiry takes the next seq.
    assert_eq!(tick(&mut s, ms(500)), vec![armed(Detection, ms(1000)), send_to(2, 0, inquiry(2)), armed(InquiryTimeout, ms(900)),]);
}

#[test]
fn act_520_only_master_answers_inquiry_other_roles_drop_it() {
    let mut m = server(0);
    drain(&mut m);
    assert_eq!(recv(&mut m, ms(20), 1, inquiry(7)), vec![send_to(0, 1, reply(7))]);

    let mut b = server(2);
    drain(&mut b);
    assert_eq!(recv(&mut b, ms(20), 1, inquiry(7)), vec![]);

    let mut w = waiting(3, params());
    assert_eq!(recv(&mut w, ms(420), 1, inquiry(7)), vec![]);

    // A fresh master answers too (act 540: "yes, and I am master").
    let (mut f, at) = fresh_master(1, params());
    assert_eq!(recv(&mut f, at, 4, inquiry(3)), vec![send_to(1, 4, reply(3))]);
}

// ----- act 530: the inquiry timeout -----

#[test]
fn act_530_inquiry_timeout_armed_tau_after_inquiry() {
    let p = Params { timeout: span(250), ..params() };
    let mut s = build(4, p, span(600), Span(3_000), table(V, identity(), Span::ZERO));
    drain(&mut s);
    assert_eq!(
        tick(&mut s, Time(3_000)),
        vec![armed(Detection, Time(603_000)), send_to(4, 0, inquiry(1)), armed(InquiryTimeout, Time(253_000)),]
    );
    assert_eq!(s.poll_timeout(), Some((Time(253_000), InquiryTimeout)));
}

// ----- act 540: the reply -----

#[test]
fn act_540_reply_means_master_functional() {
    let mut s = server(1);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(40), 0, reply(1)), vec![]);
    assert_eq!(s.timer(InquiryTimeout), None);
    assert_eq!(s.misses(), 0);
    assert_eq!((s.role(), s.master()), (Role::Backup, Some(0)));
    // The timeout is gone: feeding it is a usage error, and changes nothing.
    assert_eq!(s.handle_input(ms(400), Input::Timer(InquiryTimeout), &mut Rng::new(0)), Err(UsageError::TimerNotDue(InquiryTimeout)));
    assert_eq!(drain(&mut s), vec![]);
    assert_eq!(s.poll_timeout(), Some((ms(500), Detection)));
}

#[test]
fn act_540_reply_at_the_timeout_instant_counts() {
    // "A reply for the pending seq that arrives at or before the timeout".
    let mut s = server(1);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(400), 0, reply(1)), vec![]);
    assert_eq!(s.timer(InquiryTimeout), None);
    assert_eq!(s.role(), Role::Backup);
}

#[test]
fn act_540_reply_with_wrong_seq_or_sender_is_not_the_reply() {
    let mut s = server(2);
    drain(&mut s);
    tick(&mut s, ms(0));
    // Stale seq from the master.
    assert_eq!(recv(&mut s, ms(30), 0, reply(99)), vec![]);
    // Right seq, but from a server that was not asked.
    assert_eq!(recv(&mut s, ms(31), 1, reply(1)), vec![]);
    assert_eq!(s.timer(InquiryTimeout), Some(ms(400)));
    assert_eq!(fire(&mut s, ms(400), InquiryTimeout), election_entry(1, Some(0), span(D_MS[2]), ms(400)));
}

// ----- act 550: the timeout -----

#[test]
fn act_550_timeout_enters_election() {
    let mut s = server(1);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(
        fire(&mut s, ms(400), InquiryTimeout),
        vec![
            note(Note::Miss { count: 1 }),
            note(Note::MasterFailed { master: Some(0) }),
            role(Role::WaitElection, None),
            note(Note::ElectionDelay { delay: span(50) }),
            armed(Election, ms(450)),
        ]
    );
    assert_eq!((s.role(), s.master()), (Role::WaitElection, None));
    assert_eq!(s.misses(), 0, "leaving Backup resets the miss count");
}

#[test]
fn act_550_misses_gt_1_needs_consecutive_misses() {
    let p = Params { misses: 3, ..params() };
    let mut s = server_with(3, p);
    drain(&mut s);
    let (per, tau) = (span(P_MS), span(TAU_MS));
    assert_eq!(tick(&mut s, ms(0)), inquiry_tick(3, Some(0), 1, ms(0), per, tau));
    assert_eq!(fire(&mut s, ms(400), InquiryTimeout), vec![note(Note::Miss { count: 1 })]);
    assert_eq!(tick(&mut s, ms(500)), inquiry_tick(3, Some(0), 2, ms(500), per, tau));
    assert_eq!(fire(&mut s, ms(900), InquiryTimeout), vec![note(Note::Miss { count: 2 })]);
    assert_eq!(s.misses(), 2);
    // One answered inquiry breaks the run.
    assert_eq!(tick(&mut s, ms(1000)), inquiry_tick(3, Some(0), 3, ms(1000), per, tau));
    assert_eq!(recv(&mut s, ms(1110), 0, reply(3)), vec![]);
    assert_eq!(s.misses(), 0);
    assert_eq!(tick(&mut s, ms(1500)), inquiry_tick(3, Some(0), 4, ms(1500), per, tau));
    assert_eq!(fire(&mut s, ms(1900), InquiryTimeout), vec![note(Note::Miss { count: 1 })]);
    assert_eq!(tick(&mut s, ms(2000)), inquiry_tick(3, Some(0), 5, ms(2000), per, tau));
    assert_eq!(fire(&mut s, ms(2400), InquiryTimeout), vec![note(Note::Miss { count: 2 })]);
    assert_eq!(tick(&mut s, ms(2500)), inquiry_tick(3, Some(0), 6, ms(2500), per, tau));
    assert_eq!(fire(&mut s, ms(2900), InquiryTimeout), election_entry(3, Some(0), span(D_MS[3]), ms(2900)));
}

#[test]
fn act_550_late_reply_after_timeout_does_not_reset_misses() {
    let p = Params { misses: 2, ..params() };
    let mut s = server_with(1, p);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(fire(&mut s, ms(400), InquiryTimeout), vec![note(Note::Miss { count: 1 })]);
    assert_eq!(recv(&mut s, ms(401), 0, reply(1)), vec![]);
    assert_eq!(s.misses(), 1);
    tick(&mut s, ms(500));
    assert_eq!(fire(&mut s, ms(900), InquiryTimeout), election_entry(2, Some(0), span(D_MS[1]), ms(900)));
}

#[test]
fn reset_accepting_new_master_cancels_inquiry_and_resets_misses() {
    // SPEC §3 Reset: accepting a new master cancels the pending inquiry and
    // its timeout and resets the miss count.
    let p = Params { misses: 2, ..params() };
    let mut s = server_with(3, p);
    drain(&mut s);
    let (per, tau) = (span(P_MS), span(TAU_MS));
    tick(&mut s, ms(0));
    assert_eq!(fire(&mut s, ms(400), InquiryTimeout), vec![note(Note::Miss { count: 1 })]);
    tick(&mut s, ms(500));
    assert_eq!(fire(&mut s, ms(900), InquiryTimeout), election_entry(2, Some(0), span(D_MS[3]), ms(900)));
    assert_eq!(recv(&mut s, ms(950), 2, declare(2)), vec![role(Role::Backup, Some(2))]);
    assert_eq!(tick(&mut s, ms(1000)), inquiry_tick(3, Some(2), 3, ms(1000), per, tau));
    assert_eq!(fire(&mut s, ms(1400), InquiryTimeout), vec![note(Note::Miss { count: 1 })]);
    assert_eq!(tick(&mut s, ms(1500)), inquiry_tick(3, Some(2), 4, ms(1500), per, tau));
    // A better claim (1 < 2) is accepted under verify; the pending inquiry
    // to S_2 and its timeout go, and the count restarts.
    assert_eq!(recv(&mut s, ms(1550), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(s.timer(InquiryTimeout), None);
    assert_eq!(s.misses(), 0);
    // The old inquiry's reply no longer counts for anything.
    assert_eq!(recv(&mut s, ms(1560), 2, reply(4)), vec![]);
    assert_eq!(tick(&mut s, ms(2000)), inquiry_tick(3, Some(1), 5, ms(2000), per, tau));
    assert_eq!(fire(&mut s, ms(2400), InquiryTimeout), vec![note(Note::Miss { count: 1 })]);
    assert_eq!(s.role(), Role::Backup);
}

// ----- act 560: a claim while the master is functional -----

#[test]
fn act_560_claim_while_master_functional_verify_better_claim_accepted() {
    let mut s = backup_of(3, 2, with_claim(ClaimPolicy::Verify));
    tick(&mut s, ms(500));
    assert_eq!(recv(&mut s, ms(520), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(s.timer(InquiryTimeout), None);
    assert_eq!(s.timer(VerifyTimeout), None);
}

#[test]
fn act_560_claim_while_master_functional_verify_pending_then_master_replies_claim_dropped() {
    let mut s = server_with(2, with_claim(ClaimPolicy::Verify));
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(110), 0, reply(1)), vec![]);
    // A worse claim (3 > 0): held, and the master is asked at once.
    assert_eq!(
        recv(&mut s, ms(150), 3, declare(3)),
        vec![note(Note::ClaimPending { idx: 3 }), send_to(2, 0, inquiry(2)), armed(VerifyTimeout, ms(550)),]
    );
    assert_eq!((s.role(), s.master()), (Role::Backup, Some(0)));
    // The master replies: the claim is dropped.
    assert_eq!(recv(&mut s, ms(370), 0, reply(2)), vec![note(Note::ClaimDropped { idx: 3 })]);
    assert_eq!((s.role(), s.master()), (Role::Backup, Some(0)));
    assert_eq!(s.timer(VerifyTimeout), None);
    assert_eq!(s.handle_input(ms(550), Input::Timer(VerifyTimeout), &mut Rng::new(0)), Err(UsageError::TimerNotDue(VerifyTimeout)));
    // Detection goes on as before.
    assert_eq!(tick(&mut s, ms(500)), inquiry_tick(2, Some(0), 3, ms(500), span(P_MS), span(TAU_MS)));
}

#[test]
fn act_560_claim_while_master_functional_verify_no_reply_within_tau_claim_accepted() {
    let mut s = server_with(2, with_claim(ClaimPolicy::Verify));
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(40), 0, reply(1)), vec![]);
    assert_eq!(
        recv(&mut s, ms(60), 3, declare(3)),
        vec![note(Note::ClaimPending { idx: 3 }), send_to(2, 0, inquiry(2)), armed(VerifyTimeout, ms(460)),]
    );
    // No reply within τ: S_0 is down; accept the pending claim.
    assert_eq!(fire(&mut s, ms(460), VerifyTimeout), vec![role(Role::Backup, Some(3))]);
    assert_eq!(s.timer(VerifyTimeout), None);
    // A reply arriving after τ changes nothing.
    assert_eq!(recv(&mut s, ms(470), 0, reply(2)), vec![]);
    assert_eq!(tick(&mut s, ms(500)), inquiry_tick(2, Some(3), 3, ms(500), span(P_MS), span(TAU_MS)));
}

#[test]
fn act_560_claim_while_master_functional_verify_reply_at_tau_instant_drops_claim() {
    let mut s = server_with(2, with_claim(ClaimPolicy::Verify));
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(40), 0, reply(1)), vec![]);
    assert_eq!(recv(&mut s, ms(50), 3, declare(3)).len(), 3);
    assert_eq!(s.timer(VerifyTimeout), Some(ms(450)));
    assert_eq!(recv(&mut s, ms(450), 0, reply(2)), vec![note(Note::ClaimDropped { idx: 3 })]);
    assert_eq!(s.master(), Some(0));
}

#[test]
fn act_560_claim_while_master_functional_verify_pending_revoke_timeout_treated_as_wait_election() {
    // "Accept the pending claim, just as a server in WaitElection would": a
    // held Revoke naming a worse server is contested by S_1 (1 < 3).
    let mut s = server_with(1, with_claim(ClaimPolicy::Verify));
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(20), 0, reply(1)), vec![]);
    assert_eq!(
        recv(&mut s, ms(60), 2, revoke(2, 3)),
        vec![note(Note::ClaimPending { idx: 3 }), send_to(1, 0, inquiry(2)), armed(VerifyTimeout, ms(460)),]
    );
    assert_eq!(fire(&mut s, ms(460), VerifyTimeout), vec![role(Role::Master, Some(1)), send_all(1, revoke(3, 1))]);
}

#[test]
fn act_560_claim_while_master_functional_verify_keeps_the_best_held_claim() {
    // Engine choice (SPEC silent): while a claim is held, a better worse-claim
    // replaces it without a second inquiry; an equal or worse one is ignored.
    let mut s = server_with(1, with_claim(ClaimPolicy::Verify));
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(20), 0, reply(1)), vec![]);
    assert_eq!(
        recv(&mut s, ms(50), 4, declare(4)),
        vec![note(Note::ClaimPending { idx: 4 }), send_to(1, 0, inquiry(2)), armed(VerifyTimeout, ms(450)),]
    );
    assert_eq!(recv(&mut s, ms(60), 3, declare(3)), vec![note(Note::ClaimPending { idx: 3 })]);
    assert_eq!(recv(&mut s, ms(70), 4, declare(4)), vec![]);
    assert_eq!(fire(&mut s, ms(450), VerifyTimeout), vec![role(Role::Backup, Some(3))]);
}

#[test]
fn act_560_claim_while_master_functional_verify_detection_timeout_with_held_claim() {
    // The detection timeout fires while a verify claim is held: the master is
    // down, the server enters the election, and the held claim gets the
    // WaitElection treatment at once (accepted). Leaving Backup must cancel
    // the verifying inquiry's timeout too (SPEC §3 Reset).
    let mut s = server_with(2, with_claim(ClaimPolicy::Verify));
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(
        recv(&mut s, ms(100), 3, declare(3)),
        vec![note(Note::ClaimPending { idx: 3 }), send_to(2, 0, inquiry(2)), armed(VerifyTimeout, ms(500)),]
    );
    let mut expected = election_entry(1, Some(0), span(D_MS[2]), ms(400));
    expected.push(role(Role::Backup, Some(3)));
    assert_eq!(fire(&mut s, ms(400), InquiryTimeout), expected);
    assert_eq!(s.timer(Election), None);
    assert_eq!(s.timer(VerifyTimeout), None, "the verify timeout must not outlive the held claim");
}

#[test]
fn act_560_claim_while_master_functional_defer() {
    // Worse claim: ignored.
    let mut s = server_with(2, with_claim(ClaimPolicy::Defer));
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(100), 3, declare(3)), vec![note(Note::ClaimIgnored { idx: 3 })]);
    assert_eq!(recv(&mut s, ms(101), 4, revoke(3, 4)), vec![note(Note::ClaimIgnored { idx: 4 })]);
    assert_eq!((s.role(), s.master()), (Role::Backup, Some(0)));
    assert_eq!(s.timer(InquiryTimeout), Some(ms(400)), "the inquiry still runs");
    assert_eq!(s.timer(VerifyTimeout), None);

    // Better claim: accepted.
    let mut s = backup_of(3, 2, with_claim(ClaimPolicy::Defer));
    tick(&mut s, ms(500));
    assert_eq!(recv(&mut s, ms(520), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(s.timer(InquiryTimeout), None);
}

#[test]
fn act_560_claim_while_master_functional_contest() {
    // i < idx: take over and revoke the claimant.
    let mut s = server_with(2, with_claim(ClaimPolicy::Contest));
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(100), 3, declare(3)), vec![role(Role::Master, Some(2)), send_all(2, revoke(3, 2))]);
    assert_eq!(s.timer(InquiryTimeout), None, "leaving Backup cancels the inquiry");
    assert_eq!(s.timer(Detection), Some(ms(500)));

    // i > idx, and idx worse than the master: the defer rule ignores it.
    let mut s = server_with(4, with_claim(ClaimPolicy::Contest));
    drain(&mut s);
    assert_eq!(recv(&mut s, ms(100), 3, declare(3)), vec![note(Note::ClaimIgnored { idx: 3 })]);
    assert_eq!((s.role(), s.master()), (Role::Backup, Some(0)));

    // i > idx, and idx better than the master: the defer rule accepts.
    let mut s = backup_of(3, 2, with_claim(ClaimPolicy::Contest));
    assert_eq!(recv(&mut s, ms(450), 1, declare(1)), vec![role(Role::Backup, Some(1))]);

    // A Revoke reaching a contesting Backup: same rule on idx.
    let mut s = server_with(1, with_claim(ClaimPolicy::Contest));
    drain(&mut s);
    assert_eq!(recv(&mut s, ms(100), 2, revoke(3, 2)), vec![role(Role::Master, Some(1)), send_all(1, revoke(2, 1))]);
}

#[test]
fn act_560_own_master_redeclaring_is_not_a_claim() {
    // Engine choice (SPEC silent; act 560 is about "a message from a
    // different back-up server"): a DeclareMaster{m} from the Backup's own
    // master changes nothing under every policy, with no output.
    for policy in ClaimPolicy::ALL {
        let mut s = backup_of(3, 2, with_claim(policy));
        assert_eq!(recv(&mut s, ms(450), 2, declare(2)), vec![], "{policy:?}");
        assert_eq!((s.role(), s.master()), (Role::Backup, Some(2)));
    }
}

// ----- re-announcement (SPEC §4, announce_every = k) -----

#[test]
fn announce_every_k_on_ticks_where_m_plus_1_mod_k_is_0() {
    let p = Params { announce_every: 3, ..params() };
    let mut s = server_with(0, p);
    drain(&mut s);
    for m in 0..9u64 {
        let now = ms(m * 500);
        let mut expected = vec![armed(Detection, ms((m + 1) * 500))];
        if (m + 1) % 3 == 0 {
            expected.push(send_all(0, declare(0)));
        }
        assert_eq!(tick(&mut s, now), expected, "tick m = {m}");
    }
}

#[test]
fn announce_every_1_announces_on_every_tick_and_0_never() {
    let mut s = server_with(0, Params { announce_every: 1, ..params() });
    drain(&mut s);
    for m in 0..3u64 {
        assert_eq!(tick(&mut s, ms(m * 500)), vec![armed(Detection, ms((m + 1) * 500)), send_all(0, declare(0))]);
    }
    let mut s = server_with(0, params());
    drain(&mut s);
    for m in 0..3u64 {
        assert_eq!(tick(&mut s, ms(m * 500)), vec![armed(Detection, ms((m + 1) * 500))]);
    }
}

#[test]
fn announce_counts_ticks_of_the_grid_not_of_the_mastership() {
    // S_1 becomes master at 450; its tick at 500 is m = 1, so with k = 2 it
    // announces there, and again at m = 3 (1500).
    let p = Params { announce_every: 2, ..params() };
    let (mut s, at) = fresh_master(1, p);
    assert_eq!(at, ms(450));
    assert_eq!(tick(&mut s, ms(500)), vec![armed(Detection, ms(1000)), send_all(1, declare(1))]);
    assert_eq!(tick(&mut s, ms(1000)), vec![armed(Detection, ms(1500))]);
    assert_eq!(tick(&mut s, ms(1500)), vec![armed(Detection, ms(2000)), send_all(1, declare(1))]);
}

#[test]
fn announce_only_by_a_master() {
    // Backups and WaitElection servers never re-announce.
    let p = Params { announce_every: 1, ..params() };
    let mut b = server_with(2, p.clone());
    drain(&mut b);
    assert_eq!(tick(&mut b, ms(0)), inquiry_tick(2, Some(0), 1, ms(0), span(P_MS), span(TAU_MS)));
    let mut w = waiting(3, p);
    assert_eq!(tick(&mut w, ms(500)), vec![armed(Detection, ms(1000))]);
}

// ----- recovery (SPEC §6) -----

#[test]
fn recovery_backup_with_no_master_on_old_grid_broadcasts_and_accepts_replier() {
    let mut s = build(2, params(), span(500), span(123), table(V, identity(), Span::ZERO));
    drain(&mut s);
    assert_eq!(tick(&mut s, ms(123)), inquiry_tick(2, Some(0), 1, ms(123), span(500), span(400)));
    assert_eq!(step(&mut s, ms(300), Input::Crash), vec![]);
    assert!(!s.is_up());
    assert_eq!(s.poll_timeout(), None, "a crashed server's timers are void");

    // Recover at 1700: the grid is 123 + m·500, so the next tick is 2123.
    assert_eq!(step(&mut s, ms(1700), Input::Recover), vec![role(Role::Backup, None), armed(Detection, ms(2123))]);
    assert!(s.is_up());
    assert_eq!((s.role(), s.master()), (Role::Backup, None));
    assert_eq!(s.poll_timeout(), Some((ms(2123), Detection)));

    // No master: broadcast the inquiry.
    assert_eq!(tick(&mut s, ms(2123)), inquiry_tick(2, None, 2, ms(2123), span(500), span(400)));
    // A reply to a broadcast inquiry names the master: its sender.
    assert_eq!(recv(&mut s, ms(2243), 1, reply(2)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(s.timer(InquiryTimeout), None);
    // Engine choice: a second reply to the same broadcast is ignored.
    assert_eq!(recv(&mut s, ms(2250), 3, reply(2)), vec![]);
    assert_eq!(s.master(), Some(1));
    assert_eq!(tick(&mut s, ms(2623)), inquiry_tick(2, Some(1), 3, ms(2623), span(500), span(400)));
}

#[test]
fn recovery_exactly_on_a_grid_point_ticks_at_once() {
    // Engine choice: "the first grid point at or after now".
    let mut s = server(3);
    drain(&mut s);
    tick(&mut s, ms(0));
    step(&mut s, ms(10), Input::Crash);
    assert_eq!(step(&mut s, ms(1500), Input::Recover), vec![role(Role::Backup, None), armed(Detection, ms(1500))]);
}

#[test]
fn recovery_of_old_master_never_takes_mastership_back_by_itself() {
    let mut s = server(0);
    drain(&mut s);
    assert_eq!(tick(&mut s, ms(0)), vec![armed(Detection, ms(500))]);
    step(&mut s, ms(300), Input::Crash);
    assert_eq!(step(&mut s, ms(3000), Input::Recover), vec![role(Role::Backup, None), armed(Detection, ms(3000))]);
    assert_eq!(tick(&mut s, ms(3000)), inquiry_tick(0, None, 1, ms(3000), span(P_MS), span(TAU_MS)));
    // The recovered S_0 does not answer inquiries: it is not a master.
    assert_eq!(recv(&mut s, ms(3010), 2, inquiry(9)), vec![]);
    // S_1 (master now) answers: S_0 follows it, though 0 < 1.
    assert_eq!(recv(&mut s, ms(3040), 1, reply(1)), vec![role(Role::Backup, Some(1))]);
    // A Declare from a worse server before any reply is accepted too
    // (verify with no master accepts).
    let mut s = server(0);
    drain(&mut s);
    tick(&mut s, ms(0));
    step(&mut s, ms(300), Input::Crash);
    step(&mut s, ms(3000), Input::Recover);
    assert_eq!(recv(&mut s, ms(3001), 2, declare(2)), vec![role(Role::Backup, Some(2))]);
}

#[test]
fn recovery_with_no_master_claims_by_policy() {
    // SPEC: verify accepts when the Backup has no master; contest takes over
    // when i < idx; defer with no master is unspecified and the engine
    // accepts.
    let recovered = |policy| {
        let mut s = server_with(2, with_claim(policy));
        drain(&mut s);
        tick(&mut s, ms(0));
        step(&mut s, ms(10), Input::Crash);
        step(&mut s, ms(20), Input::Recover);
        s
    };
    let mut v = recovered(ClaimPolicy::Verify);
    assert_eq!(recv(&mut v, ms(30), 3, declare(3)), vec![role(Role::Backup, Some(3))]);
    let mut d = recovered(ClaimPolicy::Defer);
    assert_eq!(recv(&mut d, ms(30), 3, declare(3)), vec![role(Role::Backup, Some(3))]);
    let mut c = recovered(ClaimPolicy::Contest);
    assert_eq!(recv(&mut c, ms(30), 3, declare(3)), vec![role(Role::Master, Some(2)), send_all(2, revoke(3, 2))]);
    let mut c = recovered(ClaimPolicy::Contest);
    assert_eq!(recv(&mut c, ms(30), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
}

// ----- a driver that wakes late (docs/protocol.md D2, D6) -----

#[test]
fn late_wakeup_beyond_p_minus_tau_keeps_the_late_inquirys_miss() {
    // Two misses fail the master; P − τ = 100 ms.
    let mut s = server_with(1, Params { misses: 2, ..params() });
    drain(&mut s);
    assert_eq!(tick(&mut s, ms(0)), inquiry_tick(1, Some(0), 1, ms(0), span(P_MS), span(TAU_MS)));
    assert_eq!(fire(&mut s, ms(400), InquiryTimeout), vec![note(Note::Miss { count: 1 })]);
    // The tick due at 500 runs 150 ms late: its inquiry's timeout (1050)
    // falls after the next grid point (1000).
    assert_eq!(tick(&mut s, ms(650)), vec![armed(Detection, ms(1000)), send_to(1, 0, inquiry(2)), armed(InquiryTimeout, ms(1050))]);
    assert_eq!(s.late_wakeups(), 1);
    // At 1000 that inquiry is still within its τ: the tick leaves it
    // running and sends none, so its miss is not lost.
    assert_eq!(tick(&mut s, ms(1000)), vec![armed(Detection, ms(1500))]);
    assert_eq!(fire(&mut s, ms(1050), InquiryTimeout), election_entry(2, Some(0), span(D_MS[1]), ms(1050)));
    assert_eq!(s.late_wakeups(), 1);
}

#[test]
fn late_wakeup_a_reply_to_the_late_inquiry_still_counts() {
    let mut s = server(2);
    drain(&mut s);
    tick(&mut s, ms(0));
    recv(&mut s, ms(110), 0, reply(1));
    assert_eq!(tick(&mut s, ms(900)), vec![armed(Detection, ms(1000)), send_to(2, 0, inquiry(2)), armed(InquiryTimeout, ms(1300))]);
    assert_eq!(tick(&mut s, ms(1000)), vec![armed(Detection, ms(1500))]);
    // The reply lands after the next grid point, within τ: the master works.
    assert_eq!(recv(&mut s, ms(1110), 0, reply(2)), vec![]);
    assert_eq!((s.timer(InquiryTimeout), s.misses()), (None, 0));
    assert_eq!(tick(&mut s, ms(1500)), inquiry_tick(2, Some(0), 3, ms(1500), span(P_MS), span(TAU_MS)));
}

#[test]
fn late_wakeup_counts_only_ticks_more_than_p_minus_tau_late() {
    let mut s = server(0);
    drain(&mut s);
    // Exactly P − τ late: its inquiry would still time out by the next
    // grid point, so this is not counted.
    tick(&mut s, ms(100));
    assert_eq!(s.late_wakeups(), 0);
    // Three periods late: one late wake-up, and one tick (no burst).
    assert_eq!(tick(&mut s, ms(2001)), vec![armed(Detection, ms(2500))]);
    assert_eq!(s.late_wakeups(), 1);
}

// ----- usage errors -----

#[test]
fn usage_error_time_going_backwards() {
    let mut s = server(1);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(recv(&mut s, ms(100), 3, inquiry(7)), vec![]);
    let mut rng = Rng::new(0);
    let back = Err(UsageError::TimeWentBack { now: ms(60), last: ms(100) });
    assert_eq!(s.handle_input(ms(60), Input::Receive(Envelope { from: 0, version: V, msg: reply(1) }), &mut rng), back);
    assert_eq!(s.handle_input(ms(60), Input::Crash, &mut rng), back);
    // Nothing changed: the inquiry is still pending, the server up.
    assert_eq!(drain(&mut s), vec![]);
    assert_eq!((s.is_up(), s.timer(InquiryTimeout), s.now()), (true, Some(ms(400)), ms(100)));
    // A refused input does not move the clock; the same instant is fine.
    assert_eq!(s.handle_input(ms(900), Input::Timer(Election), &mut rng), Err(UsageError::TimerNotDue(Election)));
    assert_eq!(recv(&mut s, ms(100), 0, reply(1)), vec![]);
    assert_eq!(s.timer(InquiryTimeout), None);
}

#[test]
fn usage_error_feeding_a_crashed_server() {
    let mut s = server(1);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(step(&mut s, ms(100), Input::Crash), vec![]);
    let mut rng = Rng::new(0);
    let env = Envelope { from: 0, version: V, msg: reply(1) };
    assert_eq!(s.handle_input(ms(110), Input::Receive(env), &mut rng), Err(UsageError::Down));
    assert_eq!(s.handle_input(ms(400), Input::Timer(InquiryTimeout), &mut rng), Err(UsageError::Down));
    assert_eq!(s.handle_input(ms(500), Input::Timer(Detection), &mut rng), Err(UsageError::Down));
    assert_eq!(s.handle_input(ms(600), Input::Crash, &mut rng), Err(UsageError::Down));
    assert_eq!(s.handle_input(ms(600), Input::Functional(vec![true; 5]), &mut rng), Err(UsageError::Down));
    assert_eq!(drain(&mut s), vec![]);
    assert!(!s.is_up());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn usage_error_recover_when_up() {
    let mut s = server(1);
    drain(&mut s);
    assert_eq!(s.handle_input(ms(10), Input::Recover, &mut Rng::new(0)), Err(UsageError::AlreadyUp));
    assert_eq!(drain(&mut s), vec![]);
    assert_eq!((s.role(), s.master()), (Role::Backup, Some(0)));
    assert_eq!(s.poll_timeout(), Some((ms(0), Detection)));
}

#[test]
fn usage_error_timer_not_due_or_not_armed() {
    let mut s = server(1);
    drain(&mut s);
    tick(&mut s, ms(0));
    let mut rng = Rng::new(0);
    // Armed, but not yet due.
    assert_eq!(s.handle_input(ms(399), Input::Timer(InquiryTimeout), &mut rng), Err(UsageError::TimerNotDue(InquiryTimeout)));
    assert_eq!(s.handle_input(ms(499), Input::Timer(Detection), &mut rng), Err(UsageError::TimerNotDue(Detection)));
    // Not armed at all.
    assert_eq!(s.handle_input(ms(600), Input::Timer(Election), &mut rng), Err(UsageError::TimerNotDue(Election)));
    assert_eq!(s.handle_input(ms(600), Input::Timer(VerifyTimeout), &mut rng), Err(UsageError::TimerNotDue(VerifyTimeout)));
    // The state is as it was.
    assert_eq!(drain(&mut s), vec![]);
    assert_eq!(s.timer(InquiryTimeout), Some(ms(400)));
    assert_eq!(s.timer(Detection), Some(ms(500)));
    assert_eq!(s.role(), Role::Backup);
}

#[test]
fn usage_error_functional_table_of_wrong_size() {
    let mut s = server(1);
    drain(&mut s);
    assert_eq!(s.handle_input(ms(0), Input::Functional(vec![true; 4]), &mut Rng::new(0)), Err(UsageError::WrongSize { got: 4, want: 5 }));
    assert_eq!(drain(&mut s), vec![]);
}
