//! The replicated service on virtual time: one [`Replica`] per server, an
//! in-simulation name server, and clients writing under the scenario's
//! `service` load (docs/protocol.md KS1–KS8).
//!
//! The election drives the service the way a node's runtime does: a server
//! the election makes Master registers with the name server and, granted an
//! epoch, is told to lead; a Master that stops being one steps down. The
//! replicas' messages cross the scenario's network (its delays, jitter,
//! loss and partitions); what a replica persists takes `fsync_ms`, and
//! nothing it outputs after a persist leaves before the disk is done. The
//! clients and the name server sit together outside the group,
//! `client_delay_ms` from every server, and are not partitioned from it.
//!
//! The service draws from its own [`Rng`] (seeded from the scenario's seed)
//! and numbers its messages apart, so a load changes nothing in the
//! election: the election's entries in the trace are those of the same
//! scenario without `service`.

use super::clients::{answered, event, Client};
use super::disk::Disk;
use super::flow::Flow;
use super::queue::{Class, EventKind};
use super::window::ServiceMetrics;
use super::{Sim, What};
use crate::names::{self, Configuration, Register, Registry};
use crate::rng::Rng;
use crate::scenario::{Scenario, Service as Load};
use crate::server::Role;
use crate::service::{
    Config, Conn, HistoryEvent, Input, Membership, Msg, Note, Outcome, Output, Recovered, Refusal, Replica, Reply, Request,
};
use crate::time::{Span, Time};
use std::borrow::Borrow;
use std::collections::{BTreeMap, VecDeque};

/// The group's name at the in-simulation name server.
const GROUP: &str = "sim";

/// A lease no run outlives: a registration ends by a successor's takeover
/// or a resignation, never by expiry (KS3).
const FOREVER: Span = Span(u64::MAX / 4);

/// The service's state beside the election's.
pub(super) struct Group {
    pub(super) load: Load,
    pub(super) rng: Rng,
    names: Registry,
    pub(super) rows: BTreeMap<String, u32>,
    members: Vec<Member>,
    pub(super) clients: Vec<Client>,
    /// Client connections waiting at a server: conn → (client, attempt,
    /// sequence number, row).
    conns: BTreeMap<Conn, (u32, u32, u64, u32)>,
    next_conn: Conn,
    msg_id: u64,
    /// Finished operations, in completion order.
    pub(super) done: Vec<HistoryEvent>,
    /// Service events processed: counted against the run's budget apart
    /// from the election's, so the election's metrics read the same with
    /// or without a load.
    pub(super) events: u64,
}

struct Member {
    id: String,
    /// `None` while the server is down.
    replica: Option<Replica>,
    disk: Disk,
    /// When the disk is done with what it was last given.
    disk_free: Time,
    /// Outputs waiting for the disk, in order, with when they may leave.
    held: VecDeque<(Time, Output)>,
    /// The replica's deadline as last scheduled (never before the instant
    /// it was scheduled at).
    timer: Option<Time>,
    /// Whether the election has made it Master.
    master: bool,
    /// The last master the election named other than this server: once it
    /// leads, the one the election judged failed.
    followed: Option<u32>,
    /// The epoch the name server granted it, while it leads.
    epoch: Option<u64>,
    /// Bumped by every crash, so answers to a server's earlier life are
    /// dropped.
    life: u32,
}

/// The service's events in the simulator's queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A replication message reaches row `to`.
    Deliver { from: u32, to: u32, msg: Msg },
    /// Row `row`'s replica deadline.
    Timer { row: u32 },
    /// Row `row`'s disk is done: outputs held behind it may leave.
    Release { row: u32 },
    /// A client's request reaches row `row`.
    Arrive { client: u32, attempt: u32, row: u32, request: Request },
    /// A server's answer reaches its client.
    Answer { client: u32, attempt: u32, row: u32, result: Result<Reply, Refusal> },
    /// The server a client sent to was down, or crashed while the client
    /// waited: the connection was refused or reset.
    Refused { client: u32, attempt: u32 },
    /// A client sends its next write, or tries its current one again.
    Issue { client: u32 },
    /// A client's wait for an answer runs out.
    Expire { client: u32, attempt: u32 },
    /// A call reaches the name server.
    Names(Call),
    /// The name server's grant reaches row `row`.
    Granted { row: u32, life: u32, epoch: u64, config: Membership },
    /// The name server's answer to a reconfiguration (or news of one, for
    /// the other members) reaches row `row`.
    Configured { row: u32, life: u32, config: Option<Membership> },
    /// The name server's lookup answer reaches a client.
    Found { client: u32, attempt: u32, master: Option<u32> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    Register { row: u32, life: u32 },
    Resign { epoch: u64 },
    Reconfigure { row: u32, life: u32, epoch: u64, expected: u64, members: Vec<String> },
    Lookup { client: u32, attempt: u32 },
}

fn membership(c: &Configuration) -> Membership {
    Membership { version: c.version, members: c.members.clone() }
}

impl Group {
    /// The service of `scenario`, if it has one.
    pub(super) fn start(scenario: &Scenario) -> Option<Box<Group>> {
        scenario.service.as_ref().map(|load| Box::new(Group::new(scenario, load)))
    }

    /// Service events processed so far.
    pub(super) fn events(&self) -> u64 {
        self.events
    }

    fn new(scenario: &Scenario, load: &Load) -> Group {
        let mut names = Registry::new(names::Limits { min_ttl: Span(1), max_ttl: FOREVER, feed_len: 16 });
        names.reconfigure(Time::ZERO, GROUP, 0, scenario.ids.clone()).expect("validated ids make a valid configuration");
        let recovered = Recovered::default;
        let members = scenario
            .ids
            .iter()
            .map(|id| Member {
                id: id.clone(),
                replica: Some(Replica::new(replica_config(id, load), recovered())),
                disk: Disk::default(),
                disk_free: Time::ZERO,
                held: VecDeque::new(),
                timer: None,
                master: false,
                followed: None,
                epoch: None,
                life: 0,
            })
            .collect();
        let clients = (0..load.clients).map(|_| Client { seq: 0, attempt: 0, master: None, op: None }).collect();
        Group {
            load: load.clone(),
            // Its own stream, so the election draws exactly what it would
            // without a service.
            rng: Rng::new(scenario.seed ^ 0x5e71_1ce0_5e71_1ce0),
            names,
            rows: scenario.ids.iter().enumerate().map(|(r, id)| (id.clone(), r as u32)).collect(),
            members,
            clients,
            conns: BTreeMap::new(),
            next_conn: 0,
            msg_id: 0,
            done: Vec::new(),
            events: 0,
        }
    }

    fn config(&mut self, now: Time) -> Configuration {
        self.names.lookup(now, GROUP).expect("the group exists from the start").config
    }

    /// The run's history and what the clients saw, every unfinished
    /// operation counted unknown at `end`.
    pub(super) fn finish(mut self, end: Time, crash: Option<Time>) -> ServiceMetrics {
        for (c, client) in self.clients.iter_mut().enumerate() {
            if let Some(p) = client.op.take() {
                self.done.push(event(c as u32, p, end, Outcome::Unknown, None, Some("no answer before the run ended".into())));
            }
        }
        ServiceMetrics::of(self.load.clients, self.events, self.done, crash)
    }
}

fn replica_config(id: &str, load: &Load) -> Config {
    let mut cfg = Config::new(id);
    cfg.ack_timeout = load.ack_timeout;
    cfg.sync_timeout = load.ack_timeout;
    cfg.heartbeat = Span((load.ack_timeout.0 / 4).max(1));
    cfg
}

impl<S: Borrow<Scenario>> Sim<S> {
    /// Runs `f` on the service, if the scenario has one.
    fn with_service(&mut self, f: impl FnOnce(&mut Self, &mut Group)) {
        if let Some(mut g) = self.svc.take() {
            f(self, &mut g);
            self.svc = Some(g);
        }
    }

    pub(super) fn svc_push(&mut self, at: Time, class: Class, ev: Event) {
        self.seq += 1;
        self.queue.push(at, class, self.seq, EventKind::Service(Box::new(ev)));
    }

    /// Connects every replica to every other, and starts the clients.
    pub(super) fn svc_start(&mut self) {
        self.with_service(|sim, g| {
            let config = membership(&g.config(Time::ZERO));
            let ids: Vec<String> = g.members.iter().map(|m| m.id.clone()).collect();
            for row in 0..ids.len() as u32 {
                for peer in ids.iter().filter(|p| **p != ids[row as usize]) {
                    sim.svc_feed(g, row, Input::Connected { peer: peer.clone() });
                }
                sim.svc_feed(g, row, Input::Configured(config.clone()));
            }
            let every = g.load.write_every.0;
            for client in 0..g.load.clients {
                let at = Time(g.rng.below(every));
                sim.svc_push(at, Class::Timer, Event::Issue { client });
            }
        });
    }

    /// The election made row `row` `role`, following `master`.
    pub(super) fn svc_role(&mut self, row: u32, role: Role, master: Option<u32>) {
        self.with_service(|sim, g| {
            let m = &mut g.members[row as usize];
            if let Some(other) = master.filter(|m| *m != row) {
                m.followed = Some(other);
            }
            let was = std::mem::replace(&mut m.master, role == Role::Master);
            if m.replica.is_none() || was == m.master {
                return;
            }
            let d = g.load.client_delay;
            if m.master {
                let life = m.life;
                sim.svc_push(sim.now + d, Class::Delivery, Event::Names(Call::Register { row, life }));
            } else {
                if let Some(epoch) = m.epoch.take() {
                    sim.svc_push(sim.now + d, Class::Delivery, Event::Names(Call::Resign { epoch }));
                }
                sim.svc_feed(g, row, Input::StepDown);
            }
        });
    }

    /// Row `row` crashed: its replica and everything not yet on its disk
    /// are gone; the others see the connection drop.
    pub(super) fn svc_crash(&mut self, row: u32) {
        self.with_service(|sim, g| {
            let now = sim.now;
            let m = &mut g.members[row as usize];
            m.replica = None;
            m.disk.settle(now);
            m.disk.pending.clear();
            m.disk_free = now;
            m.held.clear();
            m.timer = None;
            m.master = false;
            m.epoch = None;
            m.life += 1;
            let id = m.id.clone();
            for other in 0..g.members.len() as u32 {
                sim.svc_feed(g, other, Input::Disconnected { peer: id.clone() });
            }
            // Its clients' connections drop: they hear at once, and the
            // outcome of what they waited for is unknown to them.
            let lost: Vec<Conn> = g.conns.iter().filter(|(_, c)| c.3 == row).map(|(k, _)| *k).collect();
            for conn in lost {
                let (client, attempt, ..) = g.conns.remove(&conn).expect("listed");
                sim.svc_push(now + g.load.client_delay, Class::Delivery, Event::Refused { client, attempt });
            }
        });
    }

    /// Row `row` is back: its replica restarts from its disk and the
    /// connections come up again.
    pub(super) fn svc_recover(&mut self, row: u32) {
        self.with_service(|sim, g| {
            let now = sim.now;
            let config = membership(&g.config(now));
            let load = g.load.clone();
            let m = &mut g.members[row as usize];
            m.replica = Some(Replica::new(replica_config(&m.id, &load), m.disk.recovered()));
            let id = m.id.clone();
            for other in 0..g.members.len() as u32 {
                if other != row && g.members[other as usize].replica.is_some() {
                    let peer = g.members[other as usize].id.clone();
                    sim.svc_feed(g, row, Input::Connected { peer });
                    sim.svc_feed(g, other, Input::Connected { peer: id.clone() });
                }
            }
            sim.svc_feed(g, row, Input::Configured(config));
        });
    }

    pub(super) fn svc_event(&mut self, ev: Event) {
        self.with_service(|sim, g| sim.svc_handle(g, ev));
    }

    fn svc_handle(&mut self, g: &mut Group, ev: Event) {
        let now = self.now;
        let d = g.load.client_delay;
        match ev {
            Event::Deliver { from, to, msg } => {
                if g.members[to as usize].replica.is_some() {
                    g.events += 1;
                    let from = g.members[from as usize].id.clone();
                    self.svc_feed(g, to, Input::Receive { from, msg });
                }
            }
            Event::Timer { row } => {
                let m = &g.members[row as usize];
                if m.replica.is_some() && m.timer == Some(now) {
                    g.events += 1;
                    self.svc_feed(g, row, Input::Timer);
                }
            }
            Event::Release { row } => self.svc_release(g, row),
            Event::Arrive { client, attempt, row, request } => {
                g.events += 1;
                if g.members[row as usize].replica.is_none() {
                    self.svc_push(now + d, Class::Delivery, Event::Refused { client, attempt });
                    return;
                }
                g.next_conn += 1;
                let conn = g.next_conn;
                g.conns.insert(conn, (client, attempt, request.seq, row));
                self.svc_feed(g, row, Input::Request { conn, request });
            }
            Event::Answer { .. } | Event::Refused { .. } | Event::Issue { .. } | Event::Expire { .. } | Event::Found { .. } => {
                self.svc_client(g, ev)
            }
            Event::Names(call) => {
                g.events += 1;
                self.svc_names(g, call);
            }
            Event::Granted { row, life, epoch, config } => {
                let m = &mut g.members[row as usize];
                if m.life != life || m.replica.is_none() {
                    return;
                }
                if !m.master {
                    // No longer Master by the time the grant arrived.
                    self.svc_push(now + d, Class::Delivery, Event::Names(Call::Resign { epoch }));
                    return;
                }
                m.epoch = Some(epoch);
                let failed = m.followed.take().filter(|f| g.members[*f as usize].replica.is_none());
                self.svc_feed(g, row, Input::Lead { epoch, config });
                // As a node does: the master it followed, judged failed by
                // the election, is down (its connection gone), so the new
                // master need not wait for its answer to Sync.
                if let Some(f) = failed {
                    let peer = g.members[f as usize].id.clone();
                    self.svc_feed(g, row, Input::Failed { peer });
                }
            }
            Event::Configured { row, life, config } => {
                if g.members[row as usize].life == life {
                    let input = config.map_or(Input::ReconfigureFailed, Input::Configured);
                    self.svc_feed(g, row, input);
                }
            }
        }
    }

    /// A call at the name server, answered `client_delay` later.
    fn svc_names(&mut self, g: &mut Group, call: Call) {
        let now = self.now;
        let back = now + g.load.client_delay;
        match call {
            Call::Register { row, life } => {
                let config = g.config(now);
                let id = g.members[row as usize].id.clone();
                let req = Register { member: id.clone(), addr: id, ranking_version: config.ranking_version, held: None, ttl: FOREVER };
                // Refused (a member removed from the configuration): it
                // does not lead, and clients find no master until another does.
                if let Ok(grant) = g.names.register(now, GROUP, req) {
                    let config = membership(&g.config(now));
                    self.svc_push(back, Class::Delivery, Event::Granted { row, life, epoch: grant.epoch, config });
                }
            }
            Call::Resign { epoch } => {
                let _ = g.names.resign(now, GROUP, epoch);
            }
            Call::Reconfigure { row, life, epoch, expected, members } => {
                let current = g.names.lookup(now, GROUP).ok().and_then(|v| v.master).is_some_and(|m| m.epoch == epoch);
                let result = if current { g.names.reconfigure(now, GROUP, expected, members).ok() } else { None };
                let config = result.as_ref().map(membership);
                if let Some(c) = &config {
                    // The others watch the configuration.
                    for other in (0..g.members.len() as u32).filter(|o| *o != row) {
                        let life = g.members[other as usize].life;
                        self.svc_push(back, Class::Delivery, Event::Configured { row: other, life, config: Some(c.clone()) });
                    }
                }
                self.svc_push(back, Class::Delivery, Event::Configured { row, life, config });
            }
            Call::Lookup { client, attempt } => {
                let master = g.names.lookup(now, GROUP).ok().and_then(|v| v.master).and_then(|m| g.rows.get(&m.member).copied());
                self.svc_push(back, Class::Delivery, Event::Found { client, attempt, master });
            }
        }
    }

    /// Feeds one input to row `row`'s replica, if it is up, and carries
    /// out what it asks.
    fn svc_feed(&mut self, g: &mut Group, row: u32, input: Input) {
        let now = self.now;
        let Some(replica) = g.members[row as usize].replica.as_mut() else { return };
        replica.handle(now, input).expect("the simulator's clock never goes back");
        self.svc_drain(g, row);
    }

    fn svc_drain(&mut self, g: &mut Group, row: u32) {
        let now = self.now;
        let fsync = g.load.fsync;
        loop {
            let m = &mut g.members[row as usize];
            let Some(out) = m.replica.as_mut().and_then(Replica::poll_output) else { break };
            match out {
                Output::Persist(d) => {
                    m.disk_free = m.disk_free.max(now) + fsync;
                    m.disk.pending.push_back((m.disk_free, d));
                }
                out if m.disk_free > now || !m.held.is_empty() => {
                    let at = m.disk_free.max(now);
                    if m.held.back().is_none_or(|(t, _)| *t < at) {
                        self.svc_push(at, Class::Timer, Event::Release { row });
                    }
                    g.members[row as usize].held.push_back((at, out));
                }
                out => self.svc_carry_out(g, row, out),
            }
        }
        let m = &mut g.members[row as usize];
        // A deadline already past is due now.
        let due = m.replica.as_ref().and_then(Replica::poll_timeout).map(|t| t.max(now));
        if due != m.timer {
            m.timer = due;
            if let Some(at) = due {
                self.svc_push(at, Class::Timer, Event::Timer { row });
            }
        }
    }

    /// The disk caught up: what waited behind it leaves, in order.
    fn svc_release(&mut self, g: &mut Group, row: u32) {
        let now = self.now;
        g.members[row as usize].disk.settle(now);
        while let Some((at, _)) = g.members[row as usize].held.front() {
            if *at > now {
                break;
            }
            let (_, out) = g.members[row as usize].held.pop_front().expect("checked");
            self.svc_carry_out(g, row, out);
        }
        self.svc_drain(g, row);
    }

    fn svc_carry_out(&mut self, g: &mut Group, row: u32, out: Output) {
        let now = self.now;
        let d = g.load.client_delay;
        match out {
            Output::Persist(_) => unreachable!("persisted in svc_drain"),
            Output::Send { to, msg } => {
                let Some(&to) = g.rows.get(&to) else { return };
                g.msg_id += 1;
                let id = g.msg_id;
                let (flight, dropped) = super::flight(self.scenario.borrow(), &self.reach, &mut g.rng, row, to);
                let arrive = dropped.is_none().then_some(now + flight);
                let (kind, index, entries) = Flow::summary(&msg);
                let epoch = msg.epoch();
                self.record(What::Service(Flow::Message { id, from: row, to, kind, epoch, index, entries, arrive }));
                if let Some(at) = arrive {
                    self.svc_push(at, Class::Delivery, Event::Deliver { from: row, to, msg });
                }
            }
            Output::Reply { conn, result } => {
                let Some((client, attempt, seq, _)) = g.conns.remove(&conn) else { return };
                self.record(What::Service(Flow::Reply { client, server: row, seq, answered: answered(&result), arrive: now + d }));
                self.svc_push(now + d, Class::Delivery, Event::Answer { client, attempt, row, result });
            }
            Output::Reconfigure { epoch, expected, members } => {
                let life = g.members[row as usize].life;
                self.svc_push(now + d, Class::Delivery, Event::Names(Call::Reconfigure { row, life, epoch, expected, members }));
            }
            Output::Note(Note::Applied { index }) => self.record(What::Service(Flow::Applied { server: row, index })),
            Output::Note(_) => {}
        }
    }
}
