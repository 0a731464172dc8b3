//! Shared helpers for the engine-level act tests (Figs. 5, 8, 9).
//!
//! Every test builds `Server`s directly, feeds exact `Input`s at exact
//! `Time`s, drains `poll_output()` into a `Vec`, and compares the exact list
//! of outputs with `assert_eq!`.
//!
//! The group is SPEC §7's five patent servers with the identity ranking
//! (index = row), `P = 500 ms`, `τ = 400 ms`, synchronous phase 0 and the
//! integral scheme with `T1 = 50 ms`, unless a test says otherwise. With the
//! patent matrix, `δ = [0, 120, 80, 55, 0]` ms, so
//! `D = [50, 50, 170, 250, 305]` ms.
#![allow(dead_code)]

use stagger_core::*;
use std::sync::Arc;

/// The ranking version every test group starts on.
pub const V: u32 = 1;
pub const P_MS: u64 = 500;
pub const TAU_MS: u64 = 400;
/// `D_i` in ms under the default integral scheme (`T1 = 50`), by index.
pub const D_MS: [u64; 5] = [50, 50, 170, 250, 305];

pub fn ms(x: u64) -> Time {
    Time::from_ms(x)
}

pub fn span(x: u64) -> Span {
    Span::from_ms(x)
}

/// SPEC §7's delay matrix, in µs, in `servers` order.
pub fn patent_delays_us() -> Vec<Vec<u64>> {
    [[0u64, 20, 110, 110, 75], [20, 0, 120, 105, 80], [110, 120, 0, 80, 60], [110, 105, 80, 0, 55], [75, 80, 60, 55, 0]]
        .iter()
        .map(|r| r.iter().map(|ms| ms * 1000).collect())
        .collect()
}

pub fn identity() -> Vec<u32> {
    vec![0, 1, 2, 3, 4]
}

pub fn table(version: u32, rows: Vec<u32>, guard: Span) -> Arc<RankTable> {
    Arc::new(RankTable::new(version, rows, &patent_delays_us(), guard))
}

/// SPEC §7's defaults.
pub fn params() -> Params {
    Params::default()
}

pub fn with_claim(claim: ClaimPolicy) -> Params {
    Params { claim, ..Params::default() }
}

/// A server at row `row` of the identity ranking, period 500 ms, phase 0.
pub fn server(row: u32) -> Server {
    server_with(row, params())
}

pub fn server_with(row: u32, params: Params) -> Server {
    let t = table(V, identity(), params.guard);
    build(row, params, span(P_MS), Span::ZERO, t)
}

/// A server with everything explicit. Its construction outputs (the first
/// detection arming) are left in the queue.
pub fn build(row: u32, params: Params, period: Span, phase: Span, table: Arc<RankTable>) -> Server {
    Server::new(ServerConfig { row, period, phase, params: Arc::new(params), table })
}

/// Drains every pending output, in order.
pub fn drain(s: &mut Server) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

/// Feeds one input (which must be accepted) with a throwaway RNG.
pub fn step(s: &mut Server, now: Time, input: Input) -> Vec<Output> {
    step_rng(s, now, input, &mut Rng::new(0))
}

pub fn step_rng(s: &mut Server, now: Time, input: Input, rng: &mut Rng) -> Vec<Output> {
    let shown = format!("{input:?}");
    if let Err(e) = s.handle_input(now, input, rng) {
        panic!("input {shown} at {now} refused: {e}");
    }
    drain(s)
}

/// Fires a timer of the given kind at `now`.
pub fn fire(s: &mut Server, now: Time, kind: TimerKind) -> Vec<Output> {
    step(s, now, Input::Timer(kind))
}

pub fn tick(s: &mut Server, now: Time) -> Vec<Output> {
    fire(s, now, TimerKind::Detection)
}

/// Delivers `msg` from index `from`, stamped with the receiver's version.
pub fn recv(s: &mut Server, now: Time, from: Index, msg: Message) -> Vec<Output> {
    let version = s.version();
    recv_v(s, now, from, version, msg)
}

pub fn recv_v(s: &mut Server, now: Time, from: Index, version: u32, msg: Message) -> Vec<Output> {
    step(s, now, Input::Receive(Envelope { from, version, msg }))
}

// ----- messages -----

pub fn inquiry(seq: u64) -> Message {
    Message::Inquiry { seq }
}
pub fn reply(seq: u64) -> Message {
    Message::InquiryReply { seq }
}
pub fn declare(idx: Index) -> Message {
    Message::DeclareMaster { idx }
}
pub fn revoke(reject: Index, idx: Index) -> Message {
    Message::RevokeMaster { reject, idx }
}

// ----- expected outputs -----

pub fn send_to(from: Index, to: Index, msg: Message) -> Output {
    send_to_v(from, to, V, msg)
}
pub fn send_to_v(from: Index, to: Index, version: u32, msg: Message) -> Output {
    Output::Send { to: Target::One(to), env: Envelope { from, version, msg } }
}
pub fn send_all(from: Index, msg: Message) -> Output {
    send_all_v(from, V, msg)
}
pub fn send_all_v(from: Index, version: u32, msg: Message) -> Output {
    Output::Send { to: Target::All, env: Envelope { from, version, msg } }
}
pub fn role(role: Role, master: Option<Index>) -> Output {
    Output::Role { role, master }
}
pub fn armed(timer: TimerKind, at: Time) -> Output {
    Output::Armed { timer, at }
}
pub fn note(n: Note) -> Output {
    Output::Note(n)
}

/// The three outputs of a Backup's detection tick at `now` (acts 510–530):
/// re-arm the grid, send the inquiry, arm the timeout.
pub fn inquiry_tick(from: Index, to: Option<Index>, seq: u64, now: Time, period: Span, tau: Span) -> Vec<Output> {
    let send = match to {
        Some(m) => send_to(from, m, inquiry(seq)),
        None => send_all(from, inquiry(seq)),
    };
    vec![armed(TimerKind::Detection, now + period), send, armed(TimerKind::InquiryTimeout, now + tau)]
}

/// The outputs of entering the election after the `count`-th miss
/// (acts 550, 810, 820).
pub fn election_entry(count: u32, failed: Option<Index>, delay: Span, now: Time) -> Vec<Output> {
    vec![
        note(Note::Miss { count }),
        note(Note::MasterFailed { master: failed }),
        role(Role::WaitElection, None),
        note(Note::ElectionDelay { delay }),
        armed(TimerKind::Election, now + delay),
    ]
}

// ----- state builders (each checks the path it takes) -----

/// Drives a fresh Backup from row `row` into WaitElection: its inquiry at 0
/// goes unanswered and the timeout at 400 ms enters the election.
pub fn into_wait_election(s: &mut Server) {
    let i = s.index();
    let out = tick(s, ms(0));
    assert_eq!(out, inquiry_tick(i, Some(0), 1, ms(0), span(P_MS), span(TAU_MS)));
    let out = fire(s, ms(TAU_MS), TimerKind::InquiryTimeout);
    assert_eq!(out.len(), 5, "{out:?}");
    assert_eq!(s.role(), Role::WaitElection);
}

/// A server of row `row` in WaitElection since 400 ms.
pub fn waiting(row: u32, params: Params) -> Server {
    let mut s = server_with(row, params);
    drain(&mut s);
    into_wait_election(&mut s);
    s
}

/// A fresh master: row `row` entered the election at 400 ms and its
/// election timer expired at `400 + D_i`. Returns the server and that time.
pub fn fresh_master(row: u32, params: Params) -> (Server, Time) {
    let mut s = waiting(row, params);
    let at = s.timer(TimerKind::Election).expect("election timer armed");
    let out = fire(&mut s, at, TimerKind::Election);
    assert_eq!(out, vec![role(Role::Master, Some(row)), send_all(row, declare(row))]);
    (s, at)
}

/// A Backup of row `row` whose master is `master`, reached through
/// WaitElection and a `DeclareMaster{master}` at 410 ms. Nothing is pending;
/// the next detection tick is at 500 ms and the last seq used is 1.
pub fn backup_of(row: u32, master: Index, params: Params) -> Server {
    let mut s = waiting(row, params);
    let out = recv(&mut s, ms(410), master, declare(master));
    assert_eq!(out, vec![role(Role::Backup, Some(master))]);
    s
}
