//! The engine driver: one `stagger-core` [`Server`] driven with real time.
//!
//! This is the same engine the simulator drives; only the driver differs.
//! One task owns the engine (so it needs no lock) and `select!`s over the
//! inputs that reach it and the engine's next wake-up. Randomness is a
//! seeded [`Rng`].
//!
//! **Time** is wall-clock microseconds since the Unix epoch, read once at
//! start and then advanced by the monotonic tokio clock. With
//! `"phase": "synchronous"` every node's detection grid is then
//! `m·P` on that shared time base, so members on one machine (or on
//! NTP-synchronised machines, up to their skew) really do inquire together,
//! which is what the integral timer assumes; `"asynchronous"` draws a
//! seeded phase per node. Residual skew is what `guard_ms` absorbs. What the engine asks to send goes out on an unbounded channel
//! as [`Outgoing`] items, which the mesh turns into frames; what happens is
//! kept in a bounded ring of [`LogEntry`] for `/api/trace` and observers.

use crate::group::Group;
use stagger_core::flight::{Recorder, Recording};
use stagger_core::sim::What;
use stagger_core::{Envelope, Index, Input, Message, Output, Rng, Role, Server, ServerConfig, Target, Time};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// What the mesh and the admin API can tell the engine.
#[derive(Debug)]
pub enum EngineCommand {
    /// A message from a peer, already authenticated.
    Receive(Envelope),
    /// The set of members with a live, authenticated connection changed
    /// (`known_functional`, SPEC §4); indexed by row.
    Connected(Vec<bool>),
    /// Admin: stop acting as if crashed (timers void, messages ignored).
    Crash,
    /// Admin: restart as a Backup with no master (SPEC §6).
    Recover,
    /// If the engine is up and Master, send its `DeclareMaster` now: to one
    /// row, or to every member (`None`). The mesh asks for it on events the
    /// engine cannot see, after which another master may be listening: a
    /// new connection (docs/protocol.md L10) and a heal (L11). The Fig. 9
    /// rules then settle two masters within one delay.
    Announce(Option<u32>),
    /// A new configuration from the name server (docs/protocol.md N22):
    /// the engine is re-ranked (R1–R3); a node that left the configuration
    /// stops taking part (it goes down), and one that joined it starts, a
    /// detection period later, as a node does at start.
    Reconfigure { table: Arc<stagger_core::RankTable>, member: bool },
}

/// A message the engine wants sent: to one row, or to every other member.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub to: Option<u32>,
    pub env: Envelope,
}

/// What the node reports at `/api/status`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NodeStatus {
    pub id: String,
    pub index: Index,
    pub role: &'static str,
    pub master: Option<String>,
    pub ranking_version: u32,
    pub up: bool,
    /// Detection ticks this node ran more than `P − τ` late because its
    /// process was not scheduled in time (docs/protocol.md D6): a starved or
    /// paused node shows here before it shows as a spurious election.
    pub late_wakeups: u64,
}

/// One line of the node's recent history.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LogEntry {
    /// Numbers every line the node ever logged, from 0, so a reader that
    /// keeps up (an observer's stream) knows which lines it has not seen,
    /// even after old ones were evicted.
    pub seq: u64,
    /// Milliseconds since the node started.
    pub t_ms: f64,
    pub what: String,
}

/// The recent history, shared with the HTTP handlers.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<(VecDeque<LogEntry>, u64)>>);

/// How many entries `/api/trace` keeps.
pub const LOG_CAP: usize = 2_000;

impl Log {
    pub fn push(&self, t: Time, what: String) {
        let mut g = self.0.lock().expect("the log lock is never poisoned");
        let (q, next) = &mut *g;
        if q.len() == LOG_CAP {
            q.pop_front();
        }
        q.push_back(LogEntry { seq: *next, t_ms: t.as_ms(), what });
        *next += 1;
    }

    pub fn recent(&self) -> Vec<LogEntry> {
        self.0.lock().expect("the log lock is never poisoned").0.iter().cloned().collect()
    }

    /// The kept entries numbered `from` or later.
    pub fn since(&self, from: u64) -> Vec<LogEntry> {
        self.0.lock().expect("the log lock is never poisoned").0.iter().filter(|e| e.seq >= from).cloned().collect()
    }
}

/// How many messages a node's flight recording keeps (`/api/flight`).
pub const FLIGHT_CAP: usize = 4_000;

/// The engine's flight recording in the simulator's trace vocabulary
/// (`stagger_core::flight`), shared with the HTTP handlers.
#[derive(Clone)]
pub struct FlightLog(Arc<Mutex<Recorder>>);

impl FlightLog {
    pub(crate) fn record(&self, f: impl FnOnce(&mut Recorder)) {
        f(&mut self.0.lock().expect("the flight lock is never poisoned"));
    }

    pub fn recording(&self) -> Recording {
        self.0.lock().expect("the flight lock is never poisoned").recording()
    }
}

/// Handles to a running engine.
pub struct EngineHandle {
    pub commands: mpsc::UnboundedSender<EngineCommand>,
    pub status: watch::Receiver<NodeStatus>,
    pub log: Log,
    pub flight: FlightLog,
}

/// Starts the engine of `row` in `group` under the group file's initial
/// configuration (a spare server stays down until a configuration names
/// it). Its sends come out of `out`.
pub fn spawn(group: &Group, row: u32, seed: u64, out: mpsc::UnboundedSender<Outgoing>) -> (EngineHandle, tokio::task::JoinHandle<()>) {
    let s = &group.scenario;
    let (table, member, _) = group.table_for(&group.initial_members(), 1);
    let member = member[row as usize];
    let mut rng = Rng::new(seed);
    let period = s.periods[row as usize];
    let phase = match s.phase {
        stagger_core::scenario::PhaseMode::Synchronous => stagger_core::Span::ZERO,
        stagger_core::scenario::PhaseMode::Asynchronous => stagger_core::Span(rng.below(period.0.max(1))),
    };
    let server = Server::new(ServerConfig { row, period, phase, params: Arc::new(s.params.clone()), table: table.clone() });
    let ids = s.ids.clone();
    // Down until the driver's first period has passed (see `Driver::run`),
    // and reported so from the first status on.
    let mut server = server;
    let _ = server.handle_input(Time::ZERO, Input::Crash, &mut rng);
    while server.poll_output().is_some() {}
    let status = status_of(&server, &ids);
    let (status_tx, status_rx) = watch::channel(status);
    let (tx, rx) = mpsc::unbounded_channel();
    let log = Log::default();
    let epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
    let flight = FlightLog(Arc::new(Mutex::new(Recorder::new(row, FLIGHT_CAP))));
    let driver = Driver {
        server,
        ids,
        rng,
        start: Instant::now(),
        epoch,
        period,
        out,
        status: status_tx,
        log: log.clone(),
        flight: flight.clone(),
        member,
        recover_at: None,
    };
    let task = tokio::spawn(driver.run(rx));
    (EngineHandle { commands: tx, status: status_rx, log, flight }, task)
}

struct Driver {
    server: Server,
    ids: Vec<String>,
    rng: Rng,
    start: Instant,
    /// Wall-clock µs since the Unix epoch at `start`.
    epoch: u64,
    /// The detection period, which a starting node waits before joining.
    period: stagger_core::Span,
    out: mpsc::UnboundedSender<Outgoing>,
    status: watch::Sender<NodeStatus>,
    log: Log,
    flight: FlightLog,
    /// Whether this server is in the group's configuration; one that is
    /// not stays down (docs/protocol.md N22).
    member: bool,
    /// When a down engine that should run recovers: one detection period
    /// after the start or after joining the configuration, so that the mesh
    /// can form first.
    recover_at: Option<Instant>,
}

impl Driver {
    fn now(&self) -> Time {
        Time(self.epoch + self.start.elapsed().as_micros() as u64)
    }

    /// The instant of engine time `at`; times before the start are now.
    fn deadline(&self, at: Time) -> Instant {
        self.start + std::time::Duration::from_micros(at.0.saturating_sub(self.epoch))
    }

    /// Milliseconds since this node started, for the log.
    fn since_start(&self, t: Time) -> Time {
        Time(t.0.saturating_sub(self.epoch))
    }

    /// Runs until every command sender is gone.
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<EngineCommand>) {
        // A live node never assumes the patent's initial state (S_0 master,
        // the rest its backups): it may be restarting into a group that has
        // elected someone else since. It starts as a recovered server does
        // (SPEC §6): a Backup with no master that finds the master through a
        // broadcast inquiry, or elects one when nobody answers.
        //
        // It stays down for one detection period first, so that the mesh can
        // form: a node that inquired before any peer had connected would
        // count a miss against a master that is alive.
        let period = std::time::Duration::from_micros(self.period.0);
        self.recover_at = self.member.then(|| Instant::now() + period);
        self.drain();
        loop {
            let wake = self.server.poll_timeout();
            tokio::select! {
                _ = sleep_until(self.recover_at) => {
                    self.recover_at = None;
                    let now = self.now();
                    let _ = self.server.handle_input(now, Input::Recover, &mut self.rng);
                    self.drain();
                }
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => return,
                },
                _ = sleep_until(wake.map(|(at, _)| self.deadline(at))) => {
                    let (_, timer) = wake.expect("only armed timers wake the driver");
                    let now = self.now();
                    // The clock may be past the deadline; the engine takes the
                    // late tick as due and re-arms on its grid (docs/protocol.md D2).
                    let _ = self.server.handle_input(now.max(self.server.timer(timer).unwrap_or(now)), Input::Timer(timer), &mut self.rng);
                    self.drain();
                }
            }
        }
    }

    fn command(&mut self, cmd: EngineCommand) {
        let now = self.now();
        let rel = self.since_start(now);
        let mut receipt = None;
        let input = match cmd {
            EngineCommand::Receive(env) => {
                receipt = Some(env);
                Input::Receive(env)
            }
            EngineCommand::Connected(rows) => {
                let table = self.server.table().clone();
                Input::Functional((0..rows.len() as Index).map(|i| rows[table.row(i) as usize]).collect())
            }
            EngineCommand::Crash => {
                self.log.push(rel, "crashed by the admin".into());
                Input::Crash
            }
            EngineCommand::Recover if !self.member => {
                self.log.push(rel, "not recovered: this server is not in the group's configuration".into());
                return;
            }
            EngineCommand::Recover => {
                self.log.push(rel, "recovered by the admin".into());
                Input::Recover
            }
            EngineCommand::Announce(to) => return self.announce(now, to),
            EngineCommand::Reconfigure { table, member } => return self.reconfigure(now, table, member),
        };
        match self.server.handle_input(now, input, &mut self.rng) {
            Ok(()) => {
                if let Some(env) = receipt {
                    let table = self.server.table();
                    self.flight.record(|f| f.receipt(now, &env, table));
                }
            }
            // A crashed engine ignores the network: that is the crash.
            Err(stagger_core::UsageError::Down) => {}
            Err(e) => self.log.push(rel, format!("ignored input: {e}")),
        }
        self.drain();
    }

    /// `EngineCommand::Reconfigure`: re-rank (R1–R3, R4 when down), then
    /// stop if this server left the configuration, or start a detection
    /// period later if it joined it.
    fn reconfigure(&mut self, now: Time, table: Arc<stagger_core::RankTable>, member: bool) {
        let rel = self.since_start(now);
        let version = table.version;
        if table.version != self.server.version() || table.rows() != self.server.table().rows() {
            match self.server.handle_input(now, Input::Rerank(table), &mut self.rng) {
                Ok(()) => self.log.push(rel, format!("re-ranked to ranking version {version}")),
                Err(e) => return self.log.push(rel, format!("ignored a new configuration: {e}")),
            }
        }
        match (self.member, member) {
            (true, false) => {
                self.log.push(rel, "left the group's configuration: stopped taking part".into());
                self.recover_at = None;
                if self.server.is_up() {
                    let _ = self.server.handle_input(now, Input::Crash, &mut self.rng);
                }
            }
            (false, true) => {
                self.log.push(rel, "joined the group's configuration: starting in one detection period".into());
                self.recover_at = Some(Instant::now() + std::time::Duration::from_micros(self.period.0));
            }
            _ => {}
        }
        self.member = member;
        self.drain();
    }

    /// `EngineCommand::Announce`: the Master's `DeclareMaster`, sent and recorded
    /// as the engine's own sends are.
    fn announce(&mut self, at: Time, to: Option<u32>) {
        if !self.server.is_up() || self.server.role() != Role::Master {
            return;
        }
        let index = self.server.index();
        let env = Envelope { from: index, version: self.server.version(), msg: Message::DeclareMaster { idx: index } };
        let target = to.map_or(Target::All, |row| Target::One(self.server.table().index_of(row)));
        self.log.push(
            self.since_start(at),
            format!("declared itself master to {}", to.map_or("every member", |r| self.ids[r as usize].as_str())),
        );
        self.send(at, target, env);
    }

    /// Hands one send to the mesh and records it in the flight recording.
    fn send(&mut self, at: Time, to: Target, env: Envelope) {
        let table = self.server.table();
        self.flight.record(|f| f.output(at, &Output::Send { to, env }, table));
        self.forward(to, env);
    }

    /// Hands one send to the mesh (the caller has recorded it).
    fn forward(&mut self, to: Target, env: Envelope) {
        let to = match to {
            Target::One(i) => Some(self.server.table().row(i)),
            Target::All => None,
        };
        let _ = self.out.send(Outgoing { to, env });
    }

    fn drain(&mut self) {
        let at = self.now();
        let now = self.since_start(at);
        let me = self.server.row();
        while let Some(o) = self.server.poll_output() {
            let table = self.server.table();
            self.flight.record(|f| f.output(at, &o, table));
            match o {
                Output::Send { to, env } => self.forward(to, env),
                Output::Role { role, master } => {
                    let m = master.map(|i| self.ids[self.server.table().row(i) as usize].clone());
                    self.log.push(now, format!("role {} master {}", role.name(), m.as_deref().unwrap_or("none")));
                }
                Output::Refused { from, reason } => self.log.push(now, format!("refused a message from index {from}: {reason}")),
                Output::Note(note) => self.log.push(now, What::Note { server: me, note }.describe(&self.ids, self.server.table())),
                Output::Armed { .. } => {}
            }
        }
        let _ = self.status.send(status_of(&self.server, &self.ids));
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn status_of(s: &Server, ids: &[String]) -> NodeStatus {
    NodeStatus {
        id: ids[s.row() as usize].clone(),
        index: s.index(),
        role: if s.is_up() { s.role().name() } else { "Down" },
        master: if s.is_up() { s.master().map(|i| ids[s.table().row(i) as usize].clone()) } else { None },
        ranking_version: s.version(),
        up: s.is_up(),
        late_wakeups: s.late_wakeups(),
    }
}

/// Whether `role` is the master role, for tests and the status API.
pub fn is_master(role: &str) -> bool {
    role == Role::Master.name()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_entries_keep_their_numbers_when_old_ones_are_evicted() {
        let log = Log::default();
        for i in 0..LOG_CAP as u64 + 5 {
            log.push(Time(i), format!("line {i}"));
        }
        let kept = log.recent();
        assert_eq!(kept.len(), LOG_CAP);
        assert_eq!(kept[0].seq, 5, "the five oldest were evicted");
        let tail = log.since(LOG_CAP as u64 + 3);
        assert_eq!(
            tail.iter().map(|e| e.what.as_str()).collect::<Vec<_>>(),
            [format!("line {}", LOG_CAP + 3), format!("line {}", LOG_CAP + 4)]
        );
        assert_eq!(log.since(0).len(), LOG_CAP, "a reader that fell behind gets what is kept");
    }
}
