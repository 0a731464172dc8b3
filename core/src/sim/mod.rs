//! The deterministic discrete-event simulator of SPEC §6.
//!
//! It drives one engine per row through a single event queue, with one
//! seeded RNG and a virtual clock in microseconds. The engine is the
//! staggered timer's [`Server`], or, when the scenario's `algorithm` says
//! so, Raft or Bully on the same network, faults and metrics
//! (`engine.rs`). Nothing here reads a clock or the OS, so the same
//! scenario and seed give the same trace, bit for bit, natively and in
//! wasm.
//!
//! ```
//! use stagger_core::{Scenario, Sim};
//! let text = include_str!("../../../static/scenarios/patent-5.json");
//! let scenario = Scenario::from_json(text).unwrap();
//! let run = Sim::new(&scenario, true).run();
//! assert_eq!(run.metrics.final_master.as_deref(), Some("atlanta"));
//! ```

mod budget;
#[cfg(feature = "service")]
mod clients;
mod describe;
#[cfg(feature = "service")]
mod disk;
mod engine;
mod flow;
mod metrics;
mod network;
mod queue;
#[cfg(feature = "service")]
mod service;
// Without the feature (the playground's first page), a scenario's service
// is not run: the election runs exactly as it does with it.
#[cfg(not(feature = "service"))]
#[path = "no_service.rs"]
mod service;
mod trace;
mod window;

pub use budget::{detection_ticks, Budget, Limit, Truncated, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_EVENTS};
pub use flow::{Answered, Flow, FlowKind};
pub use metrics::{MessageCounts, Metrics, Settled};
pub use network::Reach;
pub use trace::{DropReason, Trace, TraceEvent, What};
pub use window::{ServiceMetrics, Window};

use crate::message::{Envelope, Index, Target};
use crate::params::Algorithm;
use crate::ranking::RankTable;
use crate::rng::Rng;
use crate::scenario::{FaultAction, PhaseMode, Scenario};
use crate::server::{Input, Output, Role, Server, ServerConfig};
use crate::time::{Span, Time};
use crate::timer::TimerKind;
use engine::{Adapted, Engine, Out, Packet};
use metrics::Tally;
use queue::{Class, EventKind, Queue};
use std::borrow::Borrow;
use std::sync::Arc;

/// The result of a run.
#[derive(Clone, Debug)]
pub struct Run {
    pub metrics: Metrics,
    /// Present when the simulator was asked to record it.
    pub trace: Option<Trace>,
    /// The phase of each row's detection timer, as drawn.
    pub phases: Vec<Span>,
}

/// Whether a run has more to do, from [`Sim::run_for`].
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Stopped after the number of events asked for; call again.
    More,
    /// At `until_ms`, or at the budget: [`Sim::finish`] reports.
    Done,
}

/// A simulation in progress. `S` is how it holds its scenario: borrowed
/// (`&Scenario`) for a run made in one go, or shared (`Rc<Scenario>`) by a
/// run the playground makes in slices between frames.
pub struct Sim<S> {
    scenario: S,
    budget: Budget,
    /// Set when the budget stops the run.
    truncated: Option<Truncated>,
    now: Time,
    queue: Queue,
    engines: Vec<Engine>,
    rng: Rng,
    table: Arc<RankTable>,
    reach: Reach,
    /// The seq of the latest arming per row and timer kind; an event whose
    /// seq differs was superseded.
    armed: Vec<[u64; 4]>,
    seq: u64,
    msg_id: u64,
    trace: Option<Vec<TraceEvent>>,
    tally: Tally,
    phases: Vec<Span>,
    /// Whether anything happened at `now` that has not been sampled yet.
    dirty: bool,
    /// The replicated service and its clients, when the scenario has a
    /// `service` (`service.rs`).
    svc: Option<Box<service::Group>>,
}

impl<S: Borrow<Scenario>> Sim<S> {
    /// Sets up the run at time 0, within the scenario's budget. With
    /// `record`, every event goes into the trace; without it only the
    /// metrics are kept, which is what benchmarks and sweeps want.
    pub fn new(holder: S, record: bool) -> Sim<S> {
        let scenario: &Scenario = holder.borrow();
        let n = scenario.len();
        let table = scenario.rank_table();
        let params = Arc::new(scenario.params.clone());
        let mut rng = Rng::new(scenario.seed);
        // Phases are drawn first, for S_0 … S_N in index order (SPEC §6).
        let mut phases = vec![Span::ZERO; n];
        for i in 0..n as Index {
            let row = table.row(i) as usize;
            if scenario.phase == PhaseMode::Asynchronous {
                phases[row] = Span(rng.below(scenario.periods[row].0));
            }
        }
        // The other algorithms start from the same stable group: the best
        // rank leads, and its first heartbeat goes out at its phase.
        let rows = &scenario.ranking;
        let first_beat = Time(phases[rows[0] as usize].0);
        let longest = scenario.periods.iter().copied().max().unwrap_or(Span::ZERO);
        let engines: Vec<Engine> = (0..n as u32)
            .map(|row| {
                let period = scenario.periods[row as usize];
                match &scenario.algorithm {
                    Algorithm::Stagger => Engine::Stagger(Server::new(ServerConfig {
                        row,
                        period,
                        phase: phases[row as usize],
                        params: params.clone(),
                        table: table.clone(),
                    })),
                    Algorithm::Raft(p) => Engine::Other(Box::new(Adapted::raft(p, row, rows, period, first_beat, &mut rng))),
                    Algorithm::Bully(p) => {
                        Engine::Other(Box::new(Adapted::bully(p, row, rows, period, longest + scenario.params.timeout, first_beat)))
                    }
                }
            })
            .collect();
        let tally = Tally::new(n, scenario.reference(), scenario.crash_at());
        let budget = scenario.budget;
        let svc = service::Group::start(scenario);
        let mut sim = Sim {
            scenario: holder,
            budget,
            truncated: None,
            now: Time::ZERO,
            queue: Queue::default(),
            engines,
            rng,
            table: table.clone(),
            reach: Reach::new(n),
            armed: vec![[0; 4]; n],
            seq: 0,
            msg_id: 0,
            trace: record.then(Vec::new),
            tally,
            phases,
            dirty: true,
            svc,
        };
        sim.svc_start();
        for i in 0..sim.sc().faults.len() {
            sim.seq += 1;
            let at = sim.sc().faults[i].at;
            sim.queue.push(at, Class::Fault, sim.seq, EventKind::Fault(i));
        }
        // Initial timers are armed in index order.
        for i in 0..n as Index {
            let row = table.row(i);
            let (role, master) = match &sim.engines[row as usize] {
                Engine::Stagger(s) => (s.role(), s.master().map(|m| table.row(m))),
                Engine::Other(_) => (Role::Backup, None),
            };
            sim.tally.set(row, true, role, master);
            sim.svc_role(row, role, master);
            sim.drain(row);
        }
        sim
    }

    fn sc(&self) -> &Scenario {
        self.scenario.borrow()
    }

    /// Runs to `until_ms`, or to the budget, and reports.
    pub fn run(mut self) -> Run {
        while self.step() {}
        self.finish()
    }

    /// Processes up to `events` events (queue entries, stale timers
    /// included), for a caller that runs in slices. The events and the
    /// trace are those of [`Sim::run`].
    pub fn run_for(&mut self, events: u32) -> Progress {
        for _ in 0..events {
            if !self.step() {
                return Progress::Done;
            }
        }
        Progress::More
    }

    /// Processes one event. Returns false once nothing is left at or before
    /// `until_ms`, or once the budget is spent ([`Sim::truncated`]).
    pub fn step(&mut self) -> bool {
        let Some((t, _)) = self.queue.peek_key() else { return false };
        if t > self.sc().until {
            return false;
        }
        if let Some(limit) = self.over_budget() {
            let value = if limit == Limit::MaxEvents { self.budget.max_events } else { self.entries() };
            self.truncated.get_or_insert(Truncated { limit, value, at_ms: self.now.as_ms() });
            return false;
        }
        if t > self.now {
            if self.dirty {
                self.tally.sample(self.now);
            }
            self.now = t;
        }
        self.dirty = true;
        let ev = self.queue.pop().expect("peeked");
        match ev.kind {
            EventKind::Fault(i) => self.apply_fault(i),
            EventKind::Deliver { id, from, to, packet } => self.deliver(id, from, to, packet),
            EventKind::Timer { row, timer } => self.fire(ev.seq, row, timer),
            EventKind::Service(ev) => self.svc_event(*ev),
        }
        true
    }

    /// The limit the run has reached, if any.
    fn over_budget(&self) -> Option<Limit> {
        if self.events() >= self.budget.max_events {
            Some(Limit::MaxEvents)
        } else if self.entries() > self.budget.max_entries {
            Some(Limit::MaxEntries)
        } else {
            None
        }
    }

    /// Queued events and trace entries: what the run holds in memory.
    fn entries(&self) -> u64 {
        (self.queue.len() + self.trace.as_ref().map_or(0, Vec::len)) as u64
    }

    /// Why the run stopped before `until_ms`, once it has.
    pub fn truncated(&self) -> Option<Truncated> {
        self.truncated
    }

    /// Ends the run: samples the last instant and computes the metrics. A
    /// run stopped by its budget is measured up to where it stopped, and
    /// says so in [`Metrics::truncated`].
    pub fn finish(mut self) -> Run {
        if self.dirty {
            self.tally.sample(self.now);
        }
        let end = if self.truncated.is_some() { self.now } else { self.sc().until };
        let mut metrics = self.tally.finish(self.scenario.borrow(), end);
        metrics.truncated = self.truncated;
        let crash = self.sc().crash_at().filter(|t| *t <= end);
        metrics.service = self.svc.take().map(|g| g.finish(end, crash));
        Run { metrics, trace: self.trace.map(|events| Trace { events }), phases: self.phases }
    }

    /// Stops the run where it is, as the caller's choice: the playground's
    /// Cancel. The result is marked partial like a run stopped by its
    /// budget.
    pub fn cancel(mut self) -> Run {
        if self.truncated.is_none() {
            self.truncated = Some(Truncated { limit: Limit::Cancelled, value: self.events(), at_ms: self.now.as_ms() });
        }
        self.finish()
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        self.sc()
    }

    /// Events still queued (cancelled timers included until they surface).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    pub fn now(&self) -> Time {
        self.now
    }

    /// Events processed so far: the metrics' `events`, plus the service's
    /// when the scenario has one.
    pub fn events(&self) -> u64 {
        self.tally.events + self.svc.as_ref().map_or(0, |g| g.events())
    }

    /// Election messages sent so far, for callers that stop a storm.
    pub fn election_messages(&self) -> u64 {
        self.tally.election_messages
    }

    fn record(&mut self, what: What) {
        if let Some(t) = &mut self.trace {
            t.push(TraceEvent { t: self.now, what });
        }
    }

    fn feed(&mut self, row: u32, input: Input) {
        let now = self.now;
        match &mut self.engines[row as usize] {
            Engine::Stagger(s) => s.handle_input(now, input, &mut self.rng).expect("the simulator only feeds valid inputs"),
            Engine::Other(a) => match input {
                Input::Receive(_) | Input::Rerank(_) | Input::Functional(_) => {
                    unreachable!("validation keeps staggered-timer inputs away from other algorithms")
                }
                Input::Timer(kind) => a.fire(now, kind, &mut self.rng),
                Input::Crash => a.crash(now, &mut self.rng),
                Input::Recover => a.recover(now, &mut self.rng),
            },
        }
        self.drain(row);
    }

    /// Carries out everything an engine asked for.
    fn drain(&mut self, row: u32) {
        if let Engine::Other(_) = self.engines[row as usize] {
            return self.drain_other(row);
        }
        while let Some(out) = self.stagger(row).poll_output() {
            match out {
                Output::Send { to, env } => self.send(row, to, env),
                Output::Role { role, master } => {
                    let master = master.map(|m| self.table.row(m));
                    self.elected(role);
                    self.tally.set(row, true, role, master);
                    self.record(What::Role { server: row, role, master });
                    self.svc_role(row, role, master);
                }
                Output::Armed { timer, at } => {
                    self.seq += 1;
                    self.armed[row as usize][timer.slot()] = self.seq;
                    self.queue.push(at, Class::Timer, self.seq, EventKind::Timer { row, timer });
                }
                Output::Refused { from, reason } => self.record(What::Refused { server: row, from, reason }),
                Output::Note(note) => self.record(What::Note { server: row, note }),
            }
        }
    }

    /// Notes when the first survivor acted on the crash, and when the first
    /// one became Master.
    fn elected(&mut self, role: Role) {
        if self.now < self.tally.reference || self.tally.crash_at.is_none() || role == Role::Backup {
            return;
        }
        self.tally.detected.get_or_insert(self.now);
        if role == Role::Master {
            self.tally.elected.get_or_insert(self.now);
        }
    }

    fn stagger(&mut self, row: u32) -> &mut Server {
        match &mut self.engines[row as usize] {
            Engine::Stagger(s) => s,
            Engine::Other(_) => unreachable!("checked by the caller"),
        }
    }

    /// [`Sim::drain`] for Raft and Bully, whose outputs `engine.rs` has
    /// already put in the trace's terms.
    fn drain_other(&mut self, row: u32) {
        loop {
            let Engine::Other(a) = &mut self.engines[row as usize] else { unreachable!("checked by the caller") };
            let Some(out) = a.poll() else { return };
            match out {
                Out::Send { to, packet, hold } => self.send_copy(row, to, packet, hold),
                Out::Role { role, master } => {
                    self.elected(role);
                    self.tally.set(row, true, role, master);
                    self.record(What::Role { server: row, role, master });
                    self.svc_role(row, role, master);
                }
                Out::Armed { timer, at } => {
                    self.seq += 1;
                    self.armed[row as usize][timer.slot()] = self.seq;
                    self.queue.push(at, Class::Timer, self.seq, EventKind::Timer { row, timer });
                }
                Out::Note(note) => self.record(What::Note { server: row, note }),
            }
        }
    }

    fn send(&mut self, from: u32, to: Target, env: Envelope) {
        let table = Arc::clone(&self.table);
        for dest in table.destinations(to, env.from) {
            self.send_copy(from, dest, Packet::Stagger(env), Span::ZERO);
        }
    }

    /// One copy: count it, draw loss then jitter, and schedule or drop it.
    /// `hold` is time the sender spends before the copy leaves (Raft's
    /// write to stable storage before it answers), added to the flight.
    fn send_copy(&mut self, from: u32, to: u32, packet: Packet, hold: Span) {
        let msg = packet.msg();
        let kind = msg.kind();
        self.tally.messages.add(kind);
        if kind.is_election() && self.now >= self.tally.reference {
            self.tally.election_messages += 1;
        }
        self.msg_id += 1;
        self.seq += 1;
        let id = self.msg_id;
        let (delay, reason) = flight(self.scenario.borrow(), &self.reach, &mut self.rng, from, to);
        let arrive = self.now + hold + delay;
        self.record(What::Send { id, from, to, msg, arrive: reason.is_none().then_some(arrive) });
        match reason {
            Some(reason) => self.record(What::Drop { id, from, to, msg, reason }),
            None => self.queue.push(arrive, Class::Delivery, self.seq, EventKind::Deliver { id, from, to, packet }),
        }
    }

    fn deliver(&mut self, id: u64, from: u32, to: u32, packet: Packet) {
        let msg = packet.msg();
        if !self.engines[to as usize].is_up() {
            self.record(What::Drop { id, from, to, msg, reason: DropReason::ReceiverDown });
            return;
        }
        self.tally.events += 1;
        self.record(What::Deliver { id, from, to, msg });
        match packet {
            Packet::Stagger(env) => self.feed(to, Input::Receive(env)),
            other => {
                let now = self.now;
                let Engine::Other(a) = &mut self.engines[to as usize] else { unreachable!("one simulation runs one algorithm") };
                a.receive(now, from, other, &mut self.rng);
                self.drain_other(to);
            }
        }
    }

    fn fire(&mut self, seq: u64, row: u32, timer: TimerKind) {
        let s = &self.engines[row as usize];
        let live = s.is_up() && self.armed[row as usize][timer.slot()] == seq && s.timer(timer) == Some(self.now);
        if !live {
            return; // Cancelled or superseded.
        }
        self.tally.events += 1;
        if timer == TimerKind::Election && self.now >= self.tally.reference && self.tally.first_declare.is_none() {
            self.tally.first_declare = Some(self.now);
        }
        self.record(What::Timer { server: row, timer });
        self.feed(row, Input::Timer(timer));
    }

    fn apply_fault(&mut self, i: usize) {
        self.tally.events += 1;
        let fault = &self.scenario.borrow().faults[i];
        let (source, action) = (fault.source as u32, fault.action.clone());
        self.record(What::Fault { source });
        match &action {
            FaultAction::Crash(r) => {
                self.feed(*r, Input::Crash);
                self.tally.set_up(*r, false);
                self.svc_crash(*r);
            }
            FaultAction::Recover(r) => {
                self.tally.set(*r, true, crate::server::Role::Backup, None);
                self.svc_recover(*r);
                self.feed(*r, Input::Recover);
            }
            FaultAction::Partition(groups) => self.reach.partition(groups),
            FaultAction::Cut { from, to } => self.reach.cut(*from, *to),
            FaultAction::Heal => self.reach.heal(),
            FaultAction::Rerank(rows) => {
                let version = self.table.version + 1;
                let sc = self.scenario.borrow();
                self.table = Arc::new(RankTable::new(version, rows.clone(), &sc.delays_us, sc.params.guard));
                for row in 0..self.engines.len() as u32 {
                    self.feed(row, Input::Rerank(self.table.clone()));
                }
            }
        }
        if self.sc().params.known_functional {
            self.update_functional();
        }
    }

    /// The functional table of each live server: the live servers on its
    /// side of any partition that it can hear from (SPEC §4).
    fn update_functional(&mut self) {
        let n = self.engines.len();
        for me in 0..n as u32 {
            if !self.engines[me as usize].is_up() {
                continue;
            }
            let table: Vec<bool> = (0..n as Index)
                .map(|j| {
                    let r = self.table.row(j);
                    self.engines[r as usize].is_up() && (r == me || self.reach.can_send(r, me))
                })
                .collect();
            self.feed(me, Input::Functional(table));
        }
    }
}

/// One copy's flight from `from` to `to`, drawn from `rng` (loss, then
/// jitter, both always drawn), and why it is dropped at once, if it is.
fn flight(sc: &Scenario, reach: &Reach, rng: &mut Rng, from: u32, to: u32) -> (Span, Option<DropReason>) {
    let (loss, jitter) = (sc.loss, sc.jitter);
    let lost = rng.unit() < loss;
    let f = 1.0 - jitter + 2.0 * jitter * rng.unit();
    let base = sc.actual_us.as_ref().unwrap_or(&sc.delays_us)[from as usize][to as usize];
    let delay = if jitter == 0.0 { base } else { (base as f64 * f).round() as u64 };
    let reason = if !reach.can_send(from, to) {
        Some(DropReason::Partition)
    } else if lost {
        Some(DropReason::Loss)
    } else {
        None
    };
    (Span(delay), reason)
}
