//! `stagger node --group FILE --id ID`: one member of a live group.
//!
//! ## Layout
//!
//! - `mod.rs`: the [`Node`] (shared state) and [`run`], which wires the
//!   engine, the mesh and the HTTP server together and shuts them down.
//! - `mesh.rs`: connections to the other members: the dialing rule,
//!   reconnection with backoff, the HMAC handshake and the message sessions.
//! - `registrar.rs`: the master's registration with the group's name
//!   server, when the group file names one.
//! - `config.rs`: the group's configuration at the name server, followed
//!   live: re-ranks the engine and tells the mesh who the members are.
//! - `delays.rs`: the round trips to every other member, from inquiries
//!   and from probes spread over the detection period, for `/api/delays`.
//! - `links.rs`: the emulated delay of each of the node's own sends,
//!   changeable at run time (`POST /api/admin/link`).
//! - `api.rs`: `/api/status`, `/api/trace`, `/api/flight`, `/api/group`, `/api/delays`,
//!   `/api/admin/…` and `/ws`, as axum routes the HTTP server mounts, with
//!   the replicated service's `/api/kv`, `/api/service` and `/ws/replica`
//!   (`crate::service`).
//!
//! One port serves everything: the playground, the API and the WebSocket
//! endpoints that peers, replicas, browser members and observers dial.

mod api;
mod config;
mod delays;
mod links;
mod mesh;
mod registrar;

use crate::auth::ReplayGuard;
use crate::group::{Group, MemberKind};
use crate::runtime::{self, EngineCommand, EngineHandle, Outgoing};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

pub use api::{AdminReport, FlightQuery, FlightReport, GroupReport, MemberReport, PeerReport, StatusReport, TraceReport};
pub use config::ConfigReport;
pub use links::{check_ms, LinkDelay, LinkError, LinkReport, LinkRequest, MAX_LINK_MS};
pub use mesh::ws_config;
pub(crate) use mesh::{accept_handshake, dial_handshake, emulated_delay, refuse, send as send_frame, welcome};
pub use registrar::RegistrationReport;

/// The state of the connection to one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerState {
    /// No connection, and none being made (the member is ours to wait for).
    Down,
    /// Dialing or handshaking.
    Connecting,
    /// Authenticated and exchanging messages.
    Connected,
}

/// One slot per member row.
struct Slot {
    state: PeerState,
    /// Frames to write to this member's connection, with the instant they
    /// are due (later than now when delays are emulated).
    tx: Option<mpsc::UnboundedSender<(tokio::time::Instant, String)>>,
    /// Which connection owns the slot, so a replaced one does not clear it.
    conn: u64,
}

/// A running member.
pub struct Node {
    pub group: Arc<Group>,
    pub me: u32,
    engine: EngineHandle,
    slots: Mutex<Vec<Slot>>,
    guard: Arc<ReplayGuard>,
    admin_token: Option<String>,
    isolated: AtomicBool,
    next_conn: AtomicU64,
    shutdown: watch::Receiver<bool>,
    /// The configuration this node runs (`config.rs`); dialers and
    /// sessions watch it.
    membership: watch::Sender<Arc<config::Membership>>,
    /// What `/api/status` shows of the registration with the name server,
    /// when the group has one.
    registration: Mutex<Option<RegistrationReport>>,
    started: tokio::time::Instant,
    /// The emulated delay of each of this node's sends (`links.rs`).
    links: links::Links,
    /// The `/ws` sessions, which outlive the HTTP exchange that began them.
    sessions: Mutex<tokio::task::JoinSet<()>>,
    /// The measured round trips to the other members (`delays.rs`).
    delays: delays::Delays,
    /// The replicated key-value service (`crate::service`).
    pub(crate) service: crate::service::Service,
}

impl Node {
    pub fn id(&self) -> &str {
        &self.group.members[self.me as usize].id
    }

    pub(crate) fn log(&self, what: String) {
        eprintln!("[{}] {what}", self.id());
        self.engine.log.push(stagger_core::Time(self.started.elapsed().as_micros() as u64), what);
    }

    /// Rows with a live, authenticated connection, this node included: the
    /// functional table of [0062] for a node (SPEC §4).
    fn connected(&self) -> Vec<bool> {
        let slots = self.slots.lock().expect("slots lock");
        slots.iter().enumerate().map(|(r, s)| r as u32 == self.me || s.state == PeerState::Connected).collect()
    }

    fn notify_engine(&self) {
        let _ = self.engine.commands.send(EngineCommand::Connected(self.connected()));
    }

    /// If this node is Master, tells member `row`, or every member (`None`),
    /// at once: on a new connection (docs/protocol.md L10) and on a heal
    /// (L11), the moments another master may start to hear this one. The
    /// claim goes out like any send of the engine's, so an isolated node
    /// keeps it to itself and emulated delays apply.
    fn announce(&self, to: Option<u32>) {
        let _ = self.engine.commands.send(EngineCommand::Announce(to));
    }

    /// A dialer's view of its attempt. A connected slot belongs to its
    /// session, which clears it itself when it ends, so a dialer never
    /// overwrites one (another connection may have replaced its own).
    fn set_state(&self, row: u32, state: PeerState) {
        let mut slots = self.slots.lock().expect("slots lock");
        if slots[row as usize].state != PeerState::Connected {
            slots[row as usize].state = state;
        }
    }

    /// Runs a `/ws` session until it ends or the node shuts down.
    fn spawn_session(&self, session: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut stop = self.shutdown.clone();
        let mut sessions = self.sessions.lock().expect("sessions lock");
        while sessions.try_join_next().is_some() {}
        sessions.spawn(async move {
            tokio::select! {
                _ = session => {}
                _ = stop.wait_for(|stopped| *stopped) => {}
            }
        });
    }
}

/// Runs the member `id` of `group` until `shutdown` resolves. `listener`
/// must be bound to the member's address (tests bind their own); the
/// replicated service keeps its state in the folder `data`.
pub async fn run(
    group: Group,
    id: &str,
    admin_token: Option<String>,
    listener: tokio::net::TcpListener,
    data: &std::path::Path,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let me = group.row_of(id).ok_or_else(|| std::io::Error::other(format!("'{id}' is not a member of the group")))?;
    if group.members[me as usize].kind != MemberKind::Native {
        return Err(std::io::Error::other(format!("'{id}' is a browser member; it joins from the playground's Live view")));
    }
    let (service, replica) = crate::service::Service::open(&group, me, data).map_err(std::io::Error::other)?;
    let group = Arc::new(group);
    let (out_tx, out_rx) = mpsc::unbounded_channel::<Outgoing>();
    let (engine, engine_task) = runtime::spawn(&group, me, group.scenario.seed ^ me as u64, out_tx);
    let (stop_tx, stop_rx) = watch::channel(false);
    let n = group.members.len();
    let node = Arc::new(Node {
        group: group.clone(),
        me,
        engine,
        slots: Mutex::new((0..n).map(|_| Slot { state: PeerState::Down, tx: None, conn: 0 }).collect()),
        guard: Arc::new(ReplayGuard::default()),
        admin_token,
        isolated: AtomicBool::new(false),
        next_conn: AtomicU64::new(1),
        shutdown: stop_rx,
        started: tokio::time::Instant::now(),
        links: links::Links::new(&group, me),
        sessions: Mutex::new(tokio::task::JoinSet::new()),
        registration: Mutex::new(None),
        membership: watch::Sender::new(Arc::new(config::Membership::initial(&group))),
        delays: delays::Delays::new(n, group.scenario.periods[me as usize]),
        service,
    });
    let announce = match group.scenario.params.announce_every {
        0 => "never re-announces as master".to_string(),
        k => format!("re-announces every {k} periods as master"),
    };
    node.log(format!(
        "member {} (index {}) listening on {}; {announce}",
        node.id(),
        node.membership().table.index_of(me),
        listener.local_addr()?
    ));
    for w in &group.warnings {
        node.log(format!("warning: {w}"));
    }
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(mesh::route(node.clone(), out_rx));
    tasks.spawn(delays::probe_forever(node.clone()));
    for peer in 0..n as u32 {
        if group.dials(me, peer) {
            tasks.spawn(mesh::dial_forever(node.clone(), peer));
        }
    }
    tasks.spawn(crate::service::run(node.clone(), replica));
    for peer in 0..n as u32 {
        if group.dials(me, peer) {
            tasks.spawn(crate::service::dial_forever(node.clone(), peer));
        }
    }
    if let Some(url) = group.nameserver.clone() {
        node.set_registration(|_| {});
        tasks.spawn(registrar::run(node.clone(), url.clone()));
        tasks.spawn(config::follow(node.clone(), url));
    }
    let config = crate::serve::Config {
        app: Some(api::router(node.clone())),
        // Room for `/api/kv`'s own, lower limit to answer in its words.
        max_body_bytes: 2 * crate::service::MAX_KV_BODY,
        // A write waits for its commit, not for this machine (KN14).
        unlimited: &["/api/kv"],
        ..crate::serve::Config::default()
    };
    let served = crate::serve::run_with(listener, config, shutdown).await;
    // Stop dialers and sessions, then the engine (its command senders are
    // dropped with the node), and wait for every task.
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    let mut sessions = std::mem::take(&mut *node.sessions.lock().expect("sessions lock"));
    while sessions.join_next().await.is_some() {}
    drop(node);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), engine_task).await;
    served
}

impl Node {
    /// Whether this node hears a majority of its group (itself included):
    /// not isolated, and connected to enough members. A master that does
    /// not is on the minority side of a partition and must not take the
    /// name server's registration (docs/protocol.md N16). Only members of
    /// the current configuration count (N23).
    fn hears_majority(&self) -> bool {
        let m = self.membership();
        let slots = self.slots.lock().expect("slots lock");
        let connected = (slots.iter().enumerate()).filter(|(r, s)| s.state == PeerState::Connected && m.is_member(*r as u32)).count();
        !isolated(self) && m.is_member(self.me) && 2 * (connected + 1) > m.count()
    }

    /// Updates what `/api/status` shows of the registration, and tells the
    /// replicated service the lease it may lead under (`crate::service`).
    fn set_registration(&self, f: impl FnOnce(&mut RegistrationReport)) {
        let mut registration = self.registration.lock().expect("registration lock");
        let r = registration.get_or_insert_with(RegistrationReport::default);
        f(r);
        self.service.lease(r.epoch.zip(r.until));
    }

    /// The master the election names now, if any.
    pub(crate) fn election_master(&self) -> Option<String> {
        self.engine.status.borrow().master.clone()
    }

    /// The engine's flight recording (`/api/flight`), which the replica
    /// also writes to (KN16).
    pub(crate) fn flight(&self) -> &crate::runtime::FlightLog {
        &self.engine.flight
    }

    /// Whether this node's mesh holds a connection to member `id` now.
    pub(crate) fn mesh_connected(&self, id: &str) -> bool {
        let Some(row) = self.group.members.iter().position(|m| m.id == id) else { return false };
        let slots = self.slots.lock().expect("slots lock");
        slots.get(row).is_some_and(|s| s.state == PeerState::Connected)
    }

    /// Whether an admin has cut this node off (`/api/admin/isolate`).
    pub(crate) fn is_isolated(&self) -> bool {
        isolated(self)
    }

    /// Turns `true` when the node shuts down.
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// The configuration this node runs: its version and members.
    pub(crate) fn membership_now(&self) -> (u64, Vec<String>) {
        let m = self.membership();
        (m.version, m.members.clone())
    }
}

/// Whether `action` may be run with `token` on this node.
fn authorized(node: &Node, token: Option<&str>) -> bool {
    match (&node.admin_token, token) {
        (Some(want), Some(got)) => crate::auth::constant_time_eq(want.as_bytes(), got.as_bytes()),
        _ => false,
    }
}

fn isolated(node: &Node) -> bool {
    node.isolated.load(Ordering::SeqCst)
}
