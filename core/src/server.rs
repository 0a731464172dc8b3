//! The election engine of one server: Figs. 5, 8 and 9 as a sans-IO state
//! machine.
//!
//! One way in, one way out, as in str0m:
//!
//! 1. feed one input with [`Server::handle_input`] (a message arrived, a
//!    timer fired, the server crashed or recovered, the ranking changed);
//! 2. drain [`Server::poll_output`] until it returns `None`;
//! 3. ask [`Server::poll_timeout`] when to call again with
//!    [`Input::Timer`].
//!
//! The engine never reads a clock and never draws its own randomness: `now`
//! and the RNG come in with every input, so a run can be replayed exactly.
//! `now` never goes backwards: an earlier one is refused as
//! [`UsageError::TimeWentBack`].
//!
//! Why one file of about 750 lines: the three figures act on one state (the
//! role, the believed master, the timer table, the pending claim), and each
//! act reads and changes fields another act set; split by figure, every
//! part would need all of that state, and the reader would lose the one
//! place where an input's whole effect can be followed. The vocabulary it
//! needs (messages, timers, ranking, parameters) already lives in its own
//! files.

use crate::message::{Envelope, Index, Message, Target};
use crate::params::{ClaimPolicy, Params, Scheme};
use crate::ranking::RankTable;
use crate::rng::Rng;
use crate::time::{Span, Time};
use crate::timer::{TimerKind, TimerTable};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// The three roles of SPEC §2 (Fig. 8 act 810 adds `WaitElection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Master,
    Backup,
    WaitElection,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Master => "Master",
            Role::Backup => "Backup",
            Role::WaitElection => "WaitElection",
        }
    }
}

/// Everything that can happen to a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A message arrived from the network.
    Receive(Envelope),
    /// A timer that [`Server::poll_timeout`] announced has come due.
    Timer(TimerKind),
    /// The server stops: it does nothing and its timers are void.
    Crash,
    /// The server restarts as a Backup with no master, on its old detection
    /// grid (SPEC §6).
    Recover,
    /// A new ranking is installed (SPEC §1, [0049]).
    Rerank(Arc<RankTable>),
    /// The functional table of [0062]: `table[j]` is true when `S_j` is
    /// known to be functional. Only read when `known_functional` is set.
    Functional(Vec<bool>),
}

/// Everything a server asks its driver to do or to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Hand this message to the network.
    Send { to: Target, env: Envelope },
    /// The role or the master changed.
    Role { role: Role, master: Option<Index> },
    /// A timer was armed (or re-armed) for `at`. A simulator uses this to
    /// order events; a real-time driver can just use `poll_timeout`.
    Armed { timer: TimerKind, at: Time },
    /// A message was refused, and why. The peer is at fault, not the caller.
    Refused { from: Index, reason: Refusal },
    /// Something worth showing in a trace that changes no role.
    Note(Note),
}

/// Why a message from a peer was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The envelope carries another ranking version than ours (SPEC §1).
    Version { ours: u32, theirs: u32 },
    /// The sender's index is outside the group.
    UnknownSender,
    /// A message naming an index outside the group.
    BadIndex { idx: Index },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Version { ours, theirs } => {
                write!(f, "message stamped with ranking version {theirs}, but this server runs version {ours}")
            }
            Refusal::UnknownSender => write!(f, "sender index is not a member of the group"),
            Refusal::BadIndex { idx } => write!(f, "message names index {idx}, which is not a member of the group"),
        }
    }
}

/// Trace-worthy facts that change no role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    /// An inquiry timed out without a reply (act 550); `count` in a row.
    Miss { count: u32 },
    /// The master is considered failed; the server enters the election.
    MasterFailed { master: Option<Index> },
    /// Entered the election (act 810) with this election delay (act 820).
    ElectionDelay { delay: Span },
    /// A worse claim is held while the current master is asked (`verify`).
    ClaimPending { idx: Index },
    /// The master answered, so the held claim was dropped (`verify`).
    ClaimDropped { idx: Index },
    /// A claim was ignored under the `defer` rule.
    ClaimIgnored { idx: Index },
    /// A Raft server's role or term changed (simulated comparisons only).
    Raft { role: crate::raft::RaftRole, term: u64 },
    /// A Bully server's state changed (simulated comparisons only).
    Bully { state: crate::bully::BullyState },
}

/// The caller misused the engine: these are never the peer's fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// Only `Recover` (and `Rerank`) may be fed to a crashed server.
    #[error("the server is down; only Recover or Rerank may be fed to it")]
    Down,
    /// `Recover` was fed to a server that is up.
    #[error("the server is already up")]
    AlreadyUp,
    /// A timer input for a timer that is not armed or not yet due.
    #[error("timer {0:?} is not armed or not yet due")]
    TimerNotDue(TimerKind),
    /// A functional table or ranking of the wrong size.
    #[error("table has {got} entries, but the group has {want} servers")]
    WrongSize { got: usize, want: usize },
    /// An input at an instant before the last input accepted: a driver's
    /// clock must never go backwards.
    #[error("input at {now}, before the last input at {last}: the driver's clock went backwards")]
    TimeWentBack { now: Time, last: Time },
}

/// A claim held by a `Backup`: a Declare (`reject` is `None`) or a Revoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Claim {
    idx: Index,
    reject: Option<Index>,
}

/// The per-server settings that are not group-wide.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// This server's row in the scenario's `servers` list; its index comes
    /// from the ranking.
    pub row: u32,
    /// The detection period `P_i`.
    pub period: Span,
    /// The detection phase: the timer fires at `phase + m·P_i`.
    pub phase: Span,
    pub params: Arc<Params>,
    pub table: Arc<RankTable>,
}

/// One server's election engine.
#[derive(Clone, Debug)]
pub struct Server {
    row: u32,
    index: Index,
    period: Span,
    phase: Span,
    params: Arc<Params>,
    table: Arc<RankTable>,
    up: bool,
    role: Role,
    master: Option<Index>,
    timers: TimerTable,
    /// The `m` of the next detection tick.
    tick: u64,
    /// The last inquiry sequence number used.
    seq: u64,
    /// The detection inquiry awaiting a reply: its seq and whom it asked
    /// (`None` for a broadcast).
    pending: Option<(u64, Option<Index>)>,
    misses: u32,
    /// The `verify` policy's held claim and its inquiry seq.
    claim: Option<(Claim, u64)>,
    /// Masters this server saw fail, for `skip_known_dead`.
    known_dead: Vec<bool>,
    /// The functional table of [0062].
    functional: Vec<bool>,
    /// The instant of the last input accepted.
    now: Time,
    /// Detection ticks that ran more than `P − τ` after their grid point.
    late_wakeups: u64,
    out: VecDeque<Output>,
}

impl Server {
    /// A server at time 0: `S_0` is Master, every other server a Backup whose
    /// master is 0 (SPEC §1). Its first detection tick is armed at its phase.
    pub fn new(config: ServerConfig) -> Server {
        let n = config.table.len();
        let index = config.table.index_of(config.row);
        let dead_len = if config.params.skip_known_dead { n } else { 0 };
        let functional_len = if config.params.known_functional { n } else { 0 };
        let (role, master) = if index == 0 { (Role::Master, Some(0)) } else { (Role::Backup, Some(0)) };
        let mut server = Server {
            row: config.row,
            index,
            period: config.period,
            phase: config.phase,
            params: config.params,
            table: config.table,
            up: true,
            role,
            master,
            timers: TimerTable::default(),
            tick: 0,
            seq: 0,
            pending: None,
            misses: 0,
            claim: None,
            // Only allocated when the option is on: a 1,000-server run
            // would otherwise spend more time zeroing tables than electing.
            known_dead: vec![false; dead_len],
            functional: vec![true; functional_len],
            now: Time::ZERO,
            late_wakeups: 0,
            out: VecDeque::new(),
        };
        server.arm(TimerKind::Detection, Time::ZERO + server.phase);
        server
    }

    // ----- getters -----

    pub fn row(&self) -> u32 {
        self.row
    }
    pub fn index(&self) -> Index {
        self.index
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn master(&self) -> Option<Index> {
        self.master
    }
    pub fn is_up(&self) -> bool {
        self.up
    }
    pub fn version(&self) -> u32 {
        self.table.version
    }
    pub fn misses(&self) -> u32 {
        self.misses
    }
    pub fn table(&self) -> &Arc<RankTable> {
        &self.table
    }
    pub fn timer(&self, kind: TimerKind) -> Option<Time> {
        self.timers.get(kind)
    }
    pub fn group_size(&self) -> usize {
        self.table.len()
    }
    /// The instant of the last input accepted; the next must not be earlier.
    pub fn now(&self) -> Time {
        self.now
    }
    /// How many detection ticks ran more than `P − τ` after their grid
    /// point because the driver woke late (docs/protocol.md D6). Always 0
    /// in the simulator, which is never late.
    pub fn late_wakeups(&self) -> u64 {
        self.late_wakeups
    }

    /// The earliest armed timer: call `handle_input(at, Input::Timer(kind))`
    /// when the clock reaches `at`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<(Time, TimerKind)> {
        if self.up {
            self.timers.next()
        } else {
            None
        }
    }

    /// The next thing the driver must do. Drain until `None` after every
    /// input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The election delay `D_i` this server would use if it entered the
    /// election now, for the deterministic schemes; `None` for `randomized`.
    pub fn election_delay(&self) -> Option<Span> {
        match self.params.scheme {
            Scheme::Randomized { .. } => None,
            _ => Some(self.draw_delay(&mut Rng::new(0))),
        }
    }

    /// Feeds one input at `now`, which must not be before the last input's.
    /// Peer mistakes become [`Output::Refused`]; an `Err` is always the
    /// caller's mistake, and leaves the state as it was.
    pub fn handle_input(&mut self, now: Time, input: Input, rng: &mut Rng) -> Result<(), UsageError> {
        if now < self.now {
            return Err(UsageError::TimeWentBack { now, last: self.now });
        }
        self.apply(now, input, rng)?;
        self.now = now;
        Ok(())
    }

    fn apply(&mut self, now: Time, input: Input, rng: &mut Rng) -> Result<(), UsageError> {
        match input {
            Input::Recover => return self.recover(now),
            Input::Rerank(table) => return self.rerank(now, table, rng),
            _ if !self.up => return Err(UsageError::Down),
            Input::Crash => self.crash(),
            Input::Receive(env) => self.receive(now, env),
            Input::Timer(kind) => {
                match self.timers.get(kind) {
                    Some(at) if at <= now => {}
                    _ => return Err(UsageError::TimerNotDue(kind)),
                }
                self.timers.stop(kind);
                match kind {
                    TimerKind::Detection => self.on_tick(now),
                    TimerKind::InquiryTimeout => self.on_inquiry_timeout(now, rng),
                    TimerKind::Election => self.on_election_expiry(),
                    TimerKind::VerifyTimeout => self.on_verify_timeout(),
                }
            }
            Input::Functional(table) => {
                if table.len() != self.table.len() {
                    return Err(UsageError::WrongSize { got: table.len(), want: self.table.len() });
                }
                self.functional = table;
            }
        }
        Ok(())
    }

    // ----- Fig. 5: detection -----

    /// The detection periodic timer 510 fires: re-arm it first (SPEC §6),
    /// then act by role.
    fn on_tick(&mut self, now: Time) {
        // More than `P − τ` late, this tick's inquiry times out after the
        // next grid point, where the next tick finds it still pending.
        if now - self.grid(self.tick) > Span(self.period.0.saturating_sub(self.params.timeout.0)) {
            self.late_wakeups += 1;
        }
        // The grid index of this tick. A real-time driver may wake late (a
        // background browser tab is throttled to about once a minute), so
        // the next tick is the first grid point after `now`, not after the
        // tick that was due: the timer never fires a burst to catch up.
        let m = now.0.saturating_sub(self.phase.0) / self.period.0.max(1);
        self.tick = m + 1;
        let next = self.grid(self.tick);
        self.arm(TimerKind::Detection, next);
        match self.role {
            // The inquiry of a late tick is still within its `τ`: let it
            // run, so that its miss, if it gets no reply, is counted
            // (docs/protocol.md D6). Only a late driver gets here.
            Role::Backup if self.pending.is_some() => {}
            Role::Backup => {
                // Act 520: ask the master, or everyone when there is none.
                // Act 530: start the timeout.
                self.seq += 1;
                let to = match self.master {
                    Some(m) => Target::One(m),
                    None => Target::All,
                };
                self.pending = Some((self.seq, self.master));
                self.send(to, Message::Inquiry { seq: self.seq });
                self.arm(TimerKind::InquiryTimeout, now + self.params.timeout);
            }
            Role::Master => {
                let k = self.params.announce_every as u64;
                if k > 0 && (m + 1) % k == 0 {
                    self.send(Target::All, Message::DeclareMaster { idx: self.index });
                }
            }
            Role::WaitElection => {}
        }
    }

    /// Act 550: no reply within `τ`.
    fn on_inquiry_timeout(&mut self, now: Time, rng: &mut Rng) {
        if self.pending.take().is_none() {
            return;
        }
        self.misses += 1;
        self.note(Note::Miss { count: self.misses });
        if self.misses >= self.params.misses {
            let failed = self.master;
            self.note(Note::MasterFailed { master: failed });
            if let Some(m) = failed {
                self.mark_dead(m);
            }
            self.enter_election(now, rng);
        }
    }

    fn on_reply(&mut self, from: Index, seq: u64) {
        if self.role != Role::Backup {
            return;
        }
        if let Some((pseq, to)) = self.pending {
            if pseq == seq && (to.is_none() || to == Some(from)) {
                self.pending = None;
                self.timers.stop(TimerKind::InquiryTimeout);
                match to {
                    // A reply to a broadcast inquiry names the master.
                    None => self.accept(from),
                    // Act 540: the master is functional.
                    Some(_) => self.misses = 0,
                }
                return;
            }
        }
        if let Some((claim, cseq)) = self.claim {
            if cseq == seq && self.master == Some(from) {
                self.claim = None;
                self.timers.stop(TimerKind::VerifyTimeout);
                self.note(Note::ClaimDropped { idx: claim.idx });
            }
        }
    }

    // ----- Fig. 8: election -----

    /// Acts 810–820.
    fn enter_election(&mut self, now: Time, rng: &mut Rng) {
        let held = self.claim.take().map(|(c, _)| c);
        self.timers.stop(TimerKind::VerifyTimeout);
        self.reset_detection();
        self.set_role(Role::WaitElection, None);
        let delay = self.draw_delay(rng);
        self.note(Note::ElectionDelay { delay });
        self.arm(TimerKind::Election, now + delay);
        // A claim held under `verify` came from a live claimant; now that the
        // master is known to be down, it gets the WaitElection treatment.
        if let Some(claim) = held {
            self.on_claim(now, claim);
        }
    }

    /// Acts 830, 850, 860: the election delay elapsed.
    fn on_election_expiry(&mut self) {
        if self.role != Role::WaitElection {
            return;
        }
        self.set_role(Role::Master, Some(self.index));
        self.send(Target::All, Message::DeclareMaster { idx: self.index });
    }

    /// `D_i` by the scheme (SPEC §5).
    fn draw_delay(&self, rng: &mut Rng) -> Span {
        match self.params.scheme {
            Scheme::Equal { delay } => delay,
            Scheme::Randomized { min, max } => Span(rng.range_inclusive(min.0, max.0)),
            Scheme::Integral { base } => {
                if self.params.skip_known_dead && self.known_dead.iter().any(|d| *d) {
                    let mut sum = Span::ZERO;
                    for j in 0..self.index {
                        if !self.known_dead[j as usize] {
                            sum += self.table.delta(j);
                        }
                    }
                    base + sum
                } else {
                    base + self.table.prefix(self.index)
                }
            }
        }
    }

    // ----- Fig. 9: mastership updating -----

    fn on_claim(&mut self, now: Time, claim: Claim) {
        let idx = claim.idx;
        if idx == self.index {
            return; // A claim in our own favour: nothing to update.
        }
        match self.role {
            // Acts 915–925 for a Declare; [0066]–[0067] for a Revoke.
            Role::WaitElection => {
                if claim.reject.is_some() && self.beats(idx) {
                    self.take_over(idx);
                } else {
                    self.accept(idx);
                }
            }
            // Acts 930–960 (Declare) and [0065]–[0067] (Revoke).
            Role::Master => {
                if self.beats(idx) {
                    self.send(Target::All, Message::RevokeMaster { reject: idx, idx: self.index });
                } else {
                    self.accept(idx);
                }
            }
            Role::Backup => self.on_claim_as_backup(now, claim),
        }
    }

    /// Act 560: a claim reaches a Backup that still believes in its master.
    fn on_claim_as_backup(&mut self, now: Time, claim: Claim) {
        let idx = claim.idx;
        let Some(m) = self.master else {
            // No master (just recovered): every policy accepts, except that
            // `contest` still contests a worse claimant.
            if self.params.claim == ClaimPolicy::Contest && self.index < idx {
                self.take_over(idx);
            } else {
                self.accept(idx);
            }
            return;
        };
        if idx == m {
            return; // Our own master re-announcing: nothing new.
        }
        match self.params.claim {
            ClaimPolicy::Verify => {
                if idx < m {
                    self.accept(idx);
                } else if let Some((held, seq)) = self.claim {
                    // Already asking the master: keep the better claim.
                    if idx < held.idx {
                        self.claim = Some((claim, seq));
                        self.note(Note::ClaimPending { idx });
                    }
                } else {
                    self.seq += 1;
                    self.claim = Some((claim, self.seq));
                    self.note(Note::ClaimPending { idx });
                    self.send(Target::One(m), Message::Inquiry { seq: self.seq });
                    self.arm(TimerKind::VerifyTimeout, now + self.params.timeout);
                }
            }
            ClaimPolicy::Defer => self.defer(idx, m),
            ClaimPolicy::Contest => {
                if self.index < idx {
                    self.take_over(idx);
                } else {
                    self.defer(idx, m);
                }
            }
        }
    }

    fn defer(&mut self, idx: Index, m: Index) {
        if idx < m {
            self.accept(idx);
        } else {
            self.note(Note::ClaimIgnored { idx });
        }
    }

    /// The master did not answer the verifying inquiry within `τ`: it is
    /// down, so the held claim is treated as in WaitElection (act 560:
    /// "accept the new mastership").
    fn on_verify_timeout(&mut self) {
        let Some((claim, _)) = self.claim.take() else { return };
        if let Some(m) = self.master {
            self.mark_dead(m);
        }
        if claim.reject.is_some() && self.beats(claim.idx) {
            self.take_over(claim.idx);
        } else {
            self.accept(claim.idx);
        }
    }

    /// The test of act 930: `i < idx`, or with the functional table of
    /// [0062], "`i` is the lowest functional index".
    fn beats(&self, idx: Index) -> bool {
        if self.params.known_functional {
            !self.functional[..self.index as usize].iter().any(|f| *f)
        } else {
            self.index < idx
        }
    }

    /// Acts 935–940 / 920–925: accept `S_idx` as master.
    fn accept(&mut self, idx: Index) {
        self.timers.stop(TimerKind::Election);
        self.reset_detection();
        self.set_role(Role::Backup, Some(idx));
    }

    /// Acts 950–960: become master over `S_idx` and tell everyone.
    fn take_over(&mut self, idx: Index) {
        self.timers.stop(TimerKind::Election);
        self.reset_detection();
        self.set_role(Role::Master, Some(self.index));
        self.send(Target::All, Message::RevokeMaster { reject: idx, idx: self.index });
    }

    // ----- the rest -----

    fn receive(&mut self, now: Time, env: Envelope) {
        let n = self.table.len() as Index;
        if env.version != self.table.version {
            let reason = Refusal::Version { ours: self.table.version, theirs: env.version };
            self.out.push_back(Output::Refused { from: env.from, reason });
            return;
        }
        if env.from >= n || env.from == self.index {
            self.out.push_back(Output::Refused { from: env.from, reason: Refusal::UnknownSender });
            return;
        }
        let named = match env.msg {
            Message::DeclareMaster { idx } => Some(idx),
            Message::RevokeMaster { reject, idx } => Some(reject.max(idx)),
            _ => None,
        };
        if let Some(idx) = named.filter(|i| *i >= n) {
            self.out.push_back(Output::Refused { from: env.from, reason: Refusal::BadIndex { idx } });
            return;
        }
        // Hearing from S_j again ends its "known dead" status (SPEC §5).
        if let Some(dead) = self.known_dead.get_mut(env.from as usize) {
            *dead = false;
        }
        match env.msg {
            Message::Inquiry { seq } => {
                // Only a Master answers; any other role drops an inquiry.
                if self.role == Role::Master {
                    self.send(Target::One(env.from), Message::InquiryReply { seq });
                }
            }
            Message::InquiryReply { seq } => self.on_reply(env.from, seq),
            Message::DeclareMaster { idx } => self.on_claim(now, Claim { idx, reject: None }),
            Message::RevokeMaster { reject, idx } => self.on_claim(now, Claim { idx, reject: Some(reject) }),
        }
    }

    fn crash(&mut self) {
        self.up = false;
        self.timers.clear();
        self.pending = None;
        self.claim = None;
        self.misses = 0;
    }

    fn recover(&mut self, now: Time) -> Result<(), UsageError> {
        if self.up {
            return Err(UsageError::AlreadyUp);
        }
        self.up = true;
        // `known_dead` is kept: a mark lasts "until S_i hears from S_j
        // again" (SPEC §5), which a crash is not (docs/protocol.md T6).
        self.role = Role::Backup;
        self.master = None;
        self.out.push_back(Output::Role { role: Role::Backup, master: None });
        // Back on the old phase grid: the first grid point at or after now.
        let since = now.0.saturating_sub(self.phase.0);
        self.tick = since.div_ceil(self.period.0.max(1));
        let at = self.grid(self.tick);
        self.arm(TimerKind::Detection, at);
        Ok(())
    }

    /// Installs a new ranking. The master stays the same *server*, so its
    /// index is remapped, and so are the tables kept by index (`known_dead`
    /// and the functional table); pending inquiries are dropped because their
    /// replies would carry the new version, and a server waiting for the
    /// election restarts its delay under its new index.
    fn rerank(&mut self, now: Time, table: Arc<RankTable>, rng: &mut Rng) -> Result<(), UsageError> {
        if table.len() != self.table.len() {
            return Err(UsageError::WrongSize { got: table.len(), want: self.table.len() });
        }
        let old = std::mem::replace(&mut self.table, table);
        let remap = |i: Index| self.table.index_of(old.row(i));
        let master = self.master.map(remap);
        let by_new_index = |table: &[bool]| {
            let mut out = table.to_vec();
            for (i, v) in table.iter().enumerate() {
                out[remap(i as Index) as usize] = *v;
            }
            out
        };
        self.known_dead = by_new_index(&self.known_dead);
        self.functional = by_new_index(&self.functional);
        self.index = self.table.index_of(self.row);
        if !self.up {
            self.master = master;
            return Ok(());
        }
        self.claim = None;
        self.timers.stop(TimerKind::VerifyTimeout);
        self.reset_detection();
        let role = self.role;
        let master = if role == Role::Master { Some(self.index) } else { master };
        self.set_role(role, master);
        if role == Role::WaitElection {
            let delay = self.draw_delay(rng);
            self.note(Note::ElectionDelay { delay });
            self.arm(TimerKind::Election, now + delay);
        }
        Ok(())
    }

    fn grid(&self, m: u64) -> Time {
        Time(self.phase.0 + m * self.period.0)
    }

    fn reset_detection(&mut self) {
        self.pending = None;
        self.misses = 0;
        self.timers.stop(TimerKind::InquiryTimeout);
        if self.claim.take().is_some() {
            self.timers.stop(TimerKind::VerifyTimeout);
        }
    }

    fn mark_dead(&mut self, m: Index) {
        if self.params.skip_known_dead && m != self.index {
            self.known_dead[m as usize] = true;
        }
    }

    fn set_role(&mut self, role: Role, master: Option<Index>) {
        if self.role != role || self.master != master {
            self.role = role;
            self.master = master;
            self.out.push_back(Output::Role { role, master });
        }
    }

    fn arm(&mut self, timer: TimerKind, at: Time) {
        self.timers.set(timer, at);
        self.out.push_back(Output::Armed { timer, at });
    }

    fn send(&mut self, to: Target, msg: Message) {
        let env = Envelope { from: self.index, version: self.table.version, msg };
        self.out.push_back(Output::Send { to, env });
    }

    fn note(&mut self, note: Note) {
        self.out.push_back(Output::Note(note));
    }
}
