//! Fig. 8, the master selection mechanism 620 (SPEC §4–§5), one test per
//! act, plus the election-delay schemes and extensions that set `D_i`.

mod common;

use common::*;
use stagger_core::*;
use TimerKind::{Detection, Election, InquiryTimeout};

// ----- act 810: WaitElection -----

#[test]
fn act_810_enter_wait_election() {
    let mut s = server(2);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(
        fire(&mut s, ms(400), InquiryTimeout),
        vec![
            note(Note::Miss { count: 1 }),
            note(Note::MasterFailed { master: Some(0) }),
            role(Role::WaitElection, None),
            note(Note::ElectionDelay { delay: span(170) }),
            armed(Election, ms(570)),
        ]
    );
    assert_eq!((s.role(), s.master()), (Role::WaitElection, None));
    assert_eq!(s.timer(InquiryTimeout), None);
    assert_eq!(s.timer(Detection), Some(ms(500)));
    assert_eq!(s.poll_timeout(), Some((ms(500), Detection)));
}

// ----- act 820: the election timer, D_i -----

#[test]
fn act_820_election_timer_armed_with_d_i() {
    // Integral, T1 = 50: D = T1 + Σ_{j<i} δ_j with δ = [0, 120, 80, 55, 0].
    for i in 1..5u32 {
        let mut s = server(i);
        drain(&mut s);
        tick(&mut s, ms(0));
        assert_eq!(fire(&mut s, ms(400), InquiryTimeout), election_entry(1, Some(0), span(D_MS[i as usize]), ms(400)), "S_{i}");
        assert_eq!(s.election_delay(), Some(span(D_MS[i as usize])));
    }
}

#[test]
fn act_820_election_timer_equal_scheme() {
    let p = Params { scheme: Scheme::Equal { delay: span(75) }, ..params() };
    for i in 1..5u32 {
        let mut s = server_with(i, p.clone());
        drain(&mut s);
        tick(&mut s, ms(0));
        assert_eq!(fire(&mut s, ms(400), InquiryTimeout), election_entry(1, Some(0), span(75), ms(400)), "S_{i}");
    }
}

#[test]
fn act_820_election_timer_randomized_drawn_afresh_at_each_entry() {
    let (lo, hi) = (span(100), span(200));
    let p = Params { scheme: Scheme::Randomized { min: lo, max: hi }, ..params() };
    let mut expect_rng = Rng::new(42);
    let d1 = Span(expect_rng.range_inclusive(lo.0, hi.0));
    let d2 = Span(expect_rng.range_inclusive(lo.0, hi.0));

    let mut rng = Rng::new(42);
    let mut s = server_with(3, p);
    drain(&mut s);
    assert_eq!(s.election_delay(), None);
    step_rng(&mut s, ms(0), Input::Timer(Detection), &mut rng);
    assert_eq!(step_rng(&mut s, ms(400), Input::Timer(InquiryTimeout), &mut rng), election_entry(1, Some(0), d1, ms(400)));
    assert_eq!(step_rng(&mut s, ms(420), Input::Receive(env(1, declare(1))), &mut rng), vec![role(Role::Backup, Some(1))]);
    assert_eq!(
        step_rng(&mut s, ms(500), Input::Timer(Detection), &mut rng),
        inquiry_tick(3, Some(1), 2, ms(500), span(P_MS), span(TAU_MS))
    );
    assert_eq!(step_rng(&mut s, ms(900), Input::Timer(InquiryTimeout), &mut rng), election_entry(1, Some(1), d2, ms(900)));
    // Exactly one draw per entry, nothing else.
    assert_eq!(rng, expect_rng);
}

fn env(from: Index, msg: Message) -> Envelope {
    Envelope { from, version: V, msg }
}

#[test]
fn act_820_guard_adds_to_inner_deltas_only() {
    // guard 10: δ = [0, 130, 90, 65, 0], so D_1 = T1 still and
    // D = [_, 50, 180, 270, 335].
    let p = Params { guard: span(10), ..params() };
    for (i, d) in [(1u32, 50u64), (2, 180), (3, 270), (4, 335)] {
        let mut s = server_with(i, p.clone());
        drain(&mut s);
        tick(&mut s, ms(0));
        assert_eq!(fire(&mut s, ms(400), InquiryTimeout), election_entry(1, Some(0), span(d), ms(400)), "S_{i}");
    }
}

#[test]
fn act_820_skip_known_dead_drops_failed_masters_delta_until_heard_from() {
    let p = Params { skip_known_dead: true, ..params() };
    // First failover: S_0 fails (δ_0 = 0 anyway): D_3 = 50 + 0 + 120 + 80.
    let mut s = server_with(3, p);
    drain(&mut s);
    tick(&mut s, ms(0));
    assert_eq!(fire(&mut s, ms(400), InquiryTimeout), election_entry(1, Some(0), span(250), ms(400)));
    assert_eq!(recv(&mut s, ms(450), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
    // Second failover: S_1 fails as S_3's master, so δ_1 = 120 counts as 0:
    // D_3 = 50 + 0 + 0 + 80 = 130.
    assert_eq!(tick(&mut s, ms(500)), inquiry_tick(3, Some(1), 2, ms(500), span(P_MS), span(TAU_MS)));
    assert_eq!(fire(&mut s, ms(900), InquiryTimeout), election_entry(1, Some(1), span(130), ms(900)));
    // Hearing from S_1 again (even a dropped inquiry) ends that status.
    assert_eq!(recv(&mut s, ms(950), 1, inquiry(9)), vec![]);
    assert_eq!(recv(&mut s, ms(960), 2, declare(2)), vec![role(Role::Backup, Some(2))]);
    // Third failover: S_2 fails; S_1 counts again: D_3 = 50 + 0 + 120 + 0.
    assert_eq!(tick(&mut s, ms(1000)), inquiry_tick(3, Some(2), 3, ms(1000), span(P_MS), span(TAU_MS)));
    assert_eq!(fire(&mut s, ms(1400), InquiryTimeout), election_entry(1, Some(2), span(170), ms(1400)));
}

#[test]
fn act_820_skip_known_dead_marks_survive_a_crash_until_heard_from() {
    let p = Params { skip_known_dead: true, ..params() };
    // S_3 sees S_0, then S_1 fail as its master: D_3 = 50 + 0 + 0 + 80.
    let mut s = server_with(3, p);
    drain(&mut s);
    tick(&mut s, ms(0));
    fire(&mut s, ms(400), InquiryTimeout);
    recv(&mut s, ms(450), 1, declare(1));
    tick(&mut s, ms(500));
    assert_eq!(fire(&mut s, ms(900), InquiryTimeout), election_entry(1, Some(1), span(130), ms(900)));
    // A crash is not hearing from S_1 (SPEC §5: "until S_i hears from S_j
    // again"), so after recovery δ_1 still counts as 0.
    step(&mut s, ms(950), Input::Crash);
    assert_eq!(step(&mut s, ms(1200), Input::Recover), vec![role(Role::Backup, None), armed(Detection, ms(1500))]);
    assert_eq!(tick(&mut s, ms(1500)), inquiry_tick(3, None, 3, ms(1500), span(P_MS), span(TAU_MS)));
    assert_eq!(fire(&mut s, ms(1900), InquiryTimeout), election_entry(1, None, span(130), ms(1900)));
    // Hearing from S_1 ends it: when S_2 fails next, δ_1 = 120 counts.
    assert_eq!(recv(&mut s, ms(1940), 1, inquiry(9)), vec![]);
    assert_eq!(recv(&mut s, ms(1950), 2, declare(2)), vec![role(Role::Backup, Some(2))]);
    assert_eq!(tick(&mut s, ms(2000)), inquiry_tick(3, Some(2), 4, ms(2000), span(P_MS), span(TAU_MS)));
    assert_eq!(fire(&mut s, ms(2400), InquiryTimeout), election_entry(1, Some(2), span(170), ms(2400)));
}

#[test]
fn act_820_without_skip_known_dead_the_dead_masters_delta_counts() {
    let mut s = server(3);
    drain(&mut s);
    tick(&mut s, ms(0));
    fire(&mut s, ms(400), InquiryTimeout);
    recv(&mut s, ms(450), 1, declare(1));
    tick(&mut s, ms(500));
    assert_eq!(fire(&mut s, ms(900), InquiryTimeout), election_entry(1, Some(1), span(250), ms(900)));
}

#[test]
fn act_820_recovered_s0_uses_the_formula_d0_equals_t1() {
    let mut s = server(0);
    drain(&mut s);
    tick(&mut s, ms(0));
    step(&mut s, ms(300), Input::Crash);
    assert_eq!(step(&mut s, ms(1200), Input::Recover), vec![role(Role::Backup, None), armed(Detection, ms(1500))]);
    assert_eq!(tick(&mut s, ms(1500)), inquiry_tick(0, None, 1, ms(1500), span(P_MS), span(TAU_MS)));
    // Nobody answers the broadcast: a miss with no master, then D_0 = T1.
    assert_eq!(fire(&mut s, ms(1900), InquiryTimeout), election_entry(1, None, span(50), ms(1900)));
}

#[test]
fn act_820_detection_timer_keeps_grid_during_wait_election() {
    let mut s = waiting(3, params());
    assert_eq!(s.timer(Election), Some(ms(650)));
    assert_eq!(tick(&mut s, ms(500)), vec![armed(Detection, ms(1000))]);
    assert_eq!(s.role(), Role::WaitElection);
    assert_eq!(s.timer(Election), Some(ms(650)));
}

// ----- acts 830/840: a claim before expiry -----

#[test]
fn act_830_840_claim_before_expiry_cancels_timer() {
    let mut s = waiting(2, params());
    assert_eq!(s.timer(Election), Some(ms(570)));
    assert_eq!(recv(&mut s, ms(450), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(s.timer(Election), None);
    assert_eq!(s.poll_timeout(), Some((ms(500), Detection)));
    assert_eq!(s.handle_input(ms(570), Input::Timer(Election), &mut Rng::new(0)), Err(UsageError::TimerNotDue(Election)));
    assert_eq!(drain(&mut s), vec![]);
    assert_eq!(tick(&mut s, ms(500)), inquiry_tick(2, Some(1), 2, ms(500), span(P_MS), span(TAU_MS)));
}

#[test]
fn act_830_840_claim_at_the_expiry_instant_wins_when_delivered_first() {
    // SPEC §8: a Declare landing on the microsecond the receiver's timer
    // expires is delivered first, so the receiver accepts.
    let mut s = waiting(2, params());
    assert_eq!(recv(&mut s, ms(570), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(s.timer(Election), None);
}

// ----- acts 850/860: expiry -----

#[test]
fn act_850_860_declare_on_expiry() {
    let mut s = waiting(1, params());
    assert_eq!(s.poll_timeout(), Some((ms(450), Election)));
    assert_eq!(fire(&mut s, ms(450), Election), vec![role(Role::Master, Some(1)), send_all(1, declare(1))]);
    assert_eq!((s.role(), s.master()), (Role::Master, Some(1)));
    assert_eq!(s.timer(Election), None);
    // Back to timer 510 via A: the grid is unchanged; a Master only re-arms.
    assert_eq!(s.poll_timeout(), Some((ms(500), Detection)));
    assert_eq!(tick(&mut s, ms(500)), vec![armed(Detection, ms(1000))]);

    let mut s = waiting(4, params());
    assert_eq!(fire(&mut s, ms(705), Election), vec![role(Role::Master, Some(4)), send_all(4, declare(4))]);
}

// ----- act 870: after the Declare -----

#[test]
fn act_870_no_message_mastership_stands() {
    let (mut s, at) = fresh_master(2, params());
    assert_eq!(at, ms(570));
    // Its ticks only re-arm (the one due at 500 runs as it becomes master) ...
    assert_eq!(tick(&mut s, at), vec![armed(Detection, ms(1000))]);
    // ... and it answers inquiries as master.
    assert_eq!(recv(&mut s, ms(600), 3, inquiry(4)), vec![send_to(2, 3, reply(4))]);
    assert_eq!(tick(&mut s, ms(1000)), vec![armed(Detection, ms(1500))]);
    assert_eq!((s.role(), s.master()), (Role::Master, Some(2)));
}

#[test]
fn act_870_fresh_master_accepts_revoke_from_better_server() {
    let (mut s, at) = fresh_master(2, params());
    assert_eq!(tick(&mut s, at), vec![armed(Detection, ms(1000))]);
    assert_eq!(recv(&mut s, ms(600), 1, revoke(2, 1)), vec![role(Role::Backup, Some(1))]);
    assert_eq!(tick(&mut s, ms(1000)), inquiry_tick(2, Some(1), 2, ms(1000), span(P_MS), span(TAU_MS)));
}

#[test]
fn act_870_fresh_master_contests_revoke_from_worse_server() {
    let (mut s, _) = fresh_master(2, params());
    assert_eq!(recv(&mut s, ms(600), 3, revoke(2, 3)), vec![send_all(2, revoke(3, 2))]);
    assert_eq!((s.role(), s.master()), (Role::Master, Some(2)));
}

#[test]
fn act_870_fresh_master_hears_declare() {
    let (mut s, _) = fresh_master(2, params());
    assert_eq!(recv(&mut s, ms(600), 4, declare(4)), vec![send_all(2, revoke(4, 2))]);
    assert_eq!(recv(&mut s, ms(610), 1, declare(1)), vec![role(Role::Backup, Some(1))]);
}
