//! The replicated key-value service on a live node: core's sans-IO
//! [`Replica`] driven on real time, with a disk and its own WebSockets
//! (docs/protocol.md KN1–KN9).
//!
//! ## Layout
//!
//! - `mod.rs`: the [`Service`] handle the node keeps and the driver: one
//!   task owns the replica (one way in, one way out, like `runtime.rs`
//!   owns the election engine) and carries out what it asks.
//! - `store.rs`: the replica's disk, one redb database per node.
//! - `transport.rs`: `/ws/replica`, the connections between replicas.
//! - `http.rs`: `POST /api/kv` and `GET /api/service`.
//!
//! ## The driver's loop
//!
//! It takes every input queued since its last turn (client requests,
//! replicas' messages, connections, the lease, the configuration), feeds
//! them all, then drains the replica's outputs. Every `Persist` of the
//! turn goes to disk in one transaction (one fsync) before any `Send`,
//! `Reply` or `Reconfigure` of the turn is carried out: a group commit
//! (KN2). Requests that arrive during the fsync wait in the queue and make
//! the next turn's batch, so the fsync rate, not the request rate, bounds
//! the turns.
//!
//! ## Where the inputs come from
//!
//! - The registrar (`live/registrar.rs`), through the node's registration:
//!   while it holds an unexpired lease under epoch `E` the replica is fed
//!   `Lead { epoch: E }`; when the lease ends (refused, resigned, run out
//!   on this node's clock) `StepDown` (KN5).
//! - The configuration watch (`live/config.rs`): `Configured`.
//! - `Reconfigure` outputs: the driver checks with the name server that
//!   this node still holds the epoch, then asks for the compare-and-swap,
//!   and feeds back `Configured` or `ReconfigureFailed` (KN6).
//!
//! A server outside the configuration keeps its replica running: the
//! master brings it back by state transfer and then adds it back.

mod http;
mod record;
pub mod store;
mod transport;

pub use http::{kv, service_status, MAX_KV_BODY, REPLY_WITHIN};
pub use store::{DiskError, DiskStore};
pub use transport::{accept, dial_forever, reconnect, ws_config, MAX_MESSAGE};

use crate::live::Node;
use crate::names::{NameStore, Remote};
use stagger_core::service::{Config, Conn, Durable, Input, Membership, Msg, Note, Output, Refusal, Replica, Reply, Request, Status};
use stagger_core::Time;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// What reaches the driver.
enum Cmd {
    /// Fed to the replica as it is.
    Input(Input),
    /// A client's request and where its answer goes.
    Request { request: Request, reply: oneshot::Sender<Result<Reply, Refusal>> },
    /// The lease this node holds at the name server: its epoch and when it
    /// runs out on this node's clock; `None` without one.
    Lease(Option<(u64, Instant)>),
}

/// The node's handle on its replica.
pub struct Service {
    cmds: mpsc::UnboundedSender<Cmd>,
    status: watch::Receiver<Option<Status>>,
    /// The connections to the other servers, by row (`transport.rs`).
    links: transport::Links,
    /// Where the replica keeps its state.
    pub data: PathBuf,
}

/// What [`Service::open`] leaves for [`run`].
pub struct Parts {
    rx: mpsc::UnboundedReceiver<Cmd>,
    status: watch::Sender<Option<Status>>,
    disk: DiskStore,
    replica: Replica,
}

impl Service {
    /// Opens the replica's store in `data` and makes the handle; the driver
    /// starts with [`run`] once the node holding the handle exists.
    pub fn open(group: &crate::group::Group, me: u32, data: &Path) -> Result<(Service, Parts), DiskError> {
        let (disk, recovered) = DiskStore::open(data)?;
        let replica = Replica::new(config(group, me), recovered);
        let (tx, rx) = mpsc::unbounded_channel();
        let (status_tx, status_rx) = watch::channel(None);
        let service = Service { cmds: tx, status: status_rx, links: transport::Links::new(group.members.len()), data: data.to_path_buf() };
        Ok((service, Parts { rx, status: status_tx, disk, replica }))
    }

    /// The replica's status, once its driver has run.
    pub fn status(&self) -> Option<Status> {
        self.status.borrow().clone()
    }

    /// Feeds `Configured`: the configuration the node now runs.
    pub fn configured(&self, version: u64, members: Vec<String>) {
        let _ = self.cmds.send(Cmd::Input(Input::Configured(Membership { version, members })));
    }

    /// The lease the node holds at the name server now.
    pub fn lease(&self, lease: Option<(u64, Instant)>) {
        let _ = self.cmds.send(Cmd::Lease(lease));
    }

    fn input(&self, input: Input) {
        let _ = self.cmds.send(Cmd::Input(input));
    }

    /// Hands a client's request to the replica; the answer comes on the
    /// receiver (which fails if the driver has stopped).
    fn request(&self, request: Request) -> oneshot::Receiver<Result<Reply, Refusal>> {
        let (tx, rx) = oneshot::channel();
        let _ = self.cmds.send(Cmd::Request { request, reply: tx });
        rx
    }
}

/// The replica's settings on a node: core's defaults, but a backup that
/// stops answering is given up on only after three of the group's longest
/// detection periods (at least 1 s, KN10). A master cut off from its
/// backups but not from the name server must not remove them before the
/// others could elect and register a new master, which fences it (KN6).
pub fn config(group: &crate::group::Group, me: u32) -> Config {
    let mut cfg = Config::new(group.members[me as usize].id.clone());
    let longest = group.scenario.periods.iter().copied().max().unwrap_or_default();
    cfg.ack_timeout = stagger_core::Span(cfg.ack_timeout.0.max(3 * longest.0));
    // A browser member takes part in the election but holds no replica.
    cfg.passive = group.members.iter().filter(|m| m.kind == crate::group::MemberKind::Browser).map(|m| m.id.clone()).collect();
    cfg
}

/// The default data folder of member `id` of the group in `group_file`:
/// `<the group file's folder>/<its name without extension>.data/<id>`
/// (KN1). Beside the group file, so that every group and every member has
/// its own, a restart of the same member with the same group file finds its
/// state again, and deleting a test's or the demo's folder deletes it.
pub fn default_data_dir(group_file: &Path, id: &str) -> PathBuf {
    let folder = group_file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stem = group_file.file_stem().map_or_else(|| "group".into(), |s| s.to_string_lossy().into_owned());
    folder.join(format!("{stem}.data")).join(id)
}

/// The driver: runs until the node shuts down.
pub async fn run(node: Arc<Node>, parts: Parts) {
    let Parts { rx, status, disk, replica } = parts;
    let me = node.id().to_string();
    node.log(format!("replica: state in {}", disk.path().display()));
    let config = node.membership_now();
    let (disk, durable) = writer(disk);
    let mut driver = Driver {
        node: node.clone(),
        replica,
        disk,
        submitted: 0,
        durable: 0,
        held: VecDeque::new(),
        start: Instant::now(),
        waiting: HashMap::new(),
        next_conn: 1,
        lease: None,
        leading: None,
        followed: None,
        notes: record::Notes::default(),
        config: Membership { version: config.0, members: config.1 },
        status,
        me,
    };
    let mut stop = node.stopping();
    tokio::select! {
        _ = driver.run(rx, durable) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}

/// Numbered batches of `Persist`s on their way to the disk's thread.
type DiskQueue = std::sync::mpsc::Sender<(u64, Vec<Durable>)>;

/// The disk's own thread: writes the batches it is given in order, each
/// run of queued batches in one transaction (group commit), and sends back
/// the number of the last batch that is durable, or why the disk failed.
fn writer(disk: DiskStore) -> (DiskQueue, mpsc::UnboundedReceiver<Result<u64, String>>) {
    let (tx, rx) = std::sync::mpsc::channel::<(u64, Vec<Durable>)>();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while let Ok((mut seq, mut batch)) = rx.recv() {
            while let Ok((s, more)) = rx.try_recv() {
                seq = s;
                batch.extend(more);
            }
            let written = disk.apply(&batch).map(|()| seq).map_err(|e| e.to_string());
            let failed = written.is_err();
            if done_tx.send(written).is_err() || failed {
                return;
            }
        }
    });
    (tx, done_rx)
}

struct Driver {
    node: Arc<Node>,
    replica: Replica,
    /// Batches of `Persist`s to the disk's thread, numbered from 1.
    disk: DiskQueue,
    /// The number of the last batch given to the disk, and of the last one
    /// durable.
    submitted: u64,
    durable: u64,
    /// Outputs waiting for the disk: each may be carried out once batch
    /// `.0` is durable (KN13).
    held: VecDeque<(u64, Output)>,
    start: Instant,
    /// Client requests waiting for their answer.
    waiting: HashMap<Conn, oneshot::Sender<Result<Reply, Refusal>>>,
    next_conn: Conn,
    lease: Option<(u64, Instant)>,
    /// The epoch the replica was told it leads under, until `StepDown`.
    leading: Option<u64>,
    /// The last master the election named other than this node: when this
    /// node leads, the one the election judged failed (`Input::Failed`).
    followed: Option<String>,
    /// What goes into the flight recording (KN16).
    notes: record::Notes,
    /// The last configuration seen, for `Lead`.
    config: Membership,
    status: watch::Sender<Option<Status>>,
    me: String,
}

impl Driver {
    fn now(&self) -> Time {
        Time(self.start.elapsed().as_micros() as u64)
    }

    fn instant(&self, t: Time) -> Instant {
        self.start + std::time::Duration::from_micros(t.0)
    }

    async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<Cmd>, mut durable: mpsc::UnboundedReceiver<Result<u64, String>>) {
        let mut batch = Vec::new();
        loop {
            let timer = self.replica.poll_timeout().map(|t| self.instant(t));
            let lease_end = self.leading.and(self.lease).map(|(_, until)| until);
            let wake = [timer, lease_end].into_iter().flatten().min();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => {
                        batch.push(cmd);
                        while let Ok(cmd) = rx.try_recv() {
                            batch.push(cmd);
                        }
                    }
                    None => return,
                },
                done = durable.recv() => match done {
                    Some(Ok(seq)) => {
                        self.durable = seq;
                        self.release();
                    }
                    Some(Err(why)) => return self.disk_failed(&why),
                    None => return self.disk_failed("its thread stopped"),
                },
                _ = sleep_until(wake) => {}
            }
            for cmd in batch.drain(..) {
                self.command(cmd);
            }
            if let Some(m) = self.node.election_master().filter(|m| *m != self.me) {
                self.followed = Some(m);
            }
            self.follow_lease();
            if self.replica.poll_timeout().is_some_and(|t| t <= self.now()) {
                self.feed(Input::Timer);
            }
            self.carry_out();
        }
    }

    fn feed(&mut self, input: Input) {
        let now = self.now();
        if let Err(e) = self.replica.handle(now, input) {
            self.node.log(format!("replica: ignored an input: {e}"));
        }
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Input(input) => {
                if let Input::Receive { from, msg } = &input {
                    self.notes.received(&self.node, from, msg);
                }
                if let Input::Configured(m) = &input {
                    if m.version < self.config.version {
                        return;
                    }
                    self.config = m.clone();
                }
                self.feed(input)
            }
            Cmd::Request { request, reply } => {
                let conn = self.next_conn;
                self.next_conn += 1;
                self.waiting.insert(conn, reply);
                self.notes.request(&self.node, conn, &request);
                self.feed(Input::Request { conn, request });
            }
            Cmd::Lease(lease) => self.lease = lease,
        }
    }

    /// `Lead` when the node holds a lease the replica does not lead under
    /// yet; `StepDown` when the lease it leads under is gone or ran out.
    fn follow_lease(&mut self) {
        let now = Instant::now();
        let valid = self.lease.filter(|(_, until)| now < *until).map(|(epoch, _)| epoch);
        if valid == self.leading {
            return;
        }
        if self.leading.is_some() {
            self.node.log(format!("replica: stepped down from epoch {}", self.leading.unwrap_or_default()));
            self.leading = None;
            self.feed(Input::StepDown);
        }
        if let Some(epoch) = valid {
            self.node.log(format!("replica: leads under epoch {epoch}, configuration version {}", self.config.version));
            self.leading = Some(epoch);
            self.feed(Input::Lead { epoch, config: self.config.clone() });
            // The master this node followed before it took over is the one
            // the election judged failed: when the mesh has lost it too (a
            // killed process), no need to wait for its answer to Sync. A
            // paused one keeps its connection and gets `sync_timeout`.
            if let Some(peer) = self.followed.take().filter(|p| !self.node.mesh_connected(p)) {
                self.feed(Input::Failed { peer });
            }
        }
    }

    /// Drains the replica (KN13). Its `Persist`s go to the disk's thread as
    /// one batch. A master's `Sync`, `Forward` and `Install` go out at once,
    /// before its own copy is durable: a backup may then hold an entry the
    /// master lost in a crash, which is an uncommitted tail like any other
    /// (K9), and the master answers nothing before its copy is on disk.
    /// Everything else (answers to clients, a backup's acknowledgements,
    /// reconfigurations) waits until every batch given so far is durable.
    fn carry_out(&mut self) {
        let mut durable: Vec<Durable> = Vec::new();
        // The same forward to every backup is encoded once.
        let mut encoded: Option<(Msg, String)> = None;
        while let Some(out) = self.replica.poll_output() {
            match out {
                Output::Persist(d) => durable.push(d),
                Output::Send { to, msg } if matches!(msg, Msg::Sync { .. } | Msg::Forward { .. } | Msg::Install { .. }) => {
                    if encoded.as_ref().is_none_or(|(m, _)| *m != msg) {
                        let text = serde_json::to_string(&msg).expect("messages serialize");
                        encoded = Some((msg, text));
                    }
                    let (msg, text) = encoded.as_ref().expect("just set");
                    self.notes.sent(&self.node, &to, msg);
                    transport::send_text(&self.node, &to, msg.kind(), || text.clone());
                }
                other => self.held.push_back((0, other)),
            }
        }
        if !durable.is_empty() {
            self.submitted += 1;
            if self.disk.send((self.submitted, durable)).is_err() {
                return; // The disk's thread stopped; `run` hears why.
            }
        }
        // What was held in this drain waits for everything given so far.
        for h in self.held.iter_mut().rev() {
            if h.0 != 0 {
                break;
            }
            h.0 = self.submitted;
        }
        self.release();
        let _ = self.status.send(Some(self.replica.status()));
    }

    /// Carries out the held outputs whose batch is durable, in order.
    fn release(&mut self) {
        while self.held.front().is_some_and(|(seq, _)| *seq <= self.durable) {
            let (_, out) = self.held.pop_front().expect("checked");
            match out {
                Output::Send { to, msg } => {
                    self.notes.sent(&self.node, &to, &msg);
                    transport::send(&self.node, &to, &msg);
                }
                Output::Reply { conn, result } => {
                    self.notes.reply(&self.node, conn, &result);
                    if let Some(reply) = self.waiting.remove(&conn) {
                        let _ = reply.send(result);
                    }
                }
                Output::Reconfigure { epoch, expected, members } => {
                    tokio::spawn(reconfigure(self.node.clone(), self.me.clone(), epoch, expected, members));
                }
                // Every commit is one: the status and the flight recording
                // show them, the log would drown.
                Output::Note(Note::Applied { index }) => self.notes.applied(&self.node, index),
                Output::Note(note) => self.node.log(format!("replica: {}", serde_json::to_string(&note).unwrap_or_default())),
                Output::Persist(_) => unreachable!("persists go to the disk's thread"),
            }
        }
    }

    /// The replica stops: it can no longer keep what it would acknowledge.
    fn disk_failed(&mut self, why: &str) {
        self.node.log(format!("replica: stopped: the disk failed: {why}"));
        for (_, reply) in self.waiting.drain() {
            let _ = reply.send(Err(Refusal::Unknown));
        }
    }
}

/// Carries out `Output::Reconfigure`: only while the name server still names
/// this node master under `epoch` (a master that lost its registration must
/// not change the configuration its successor runs), the compare-and-swap
/// on `expected`. The outcome is fed back.
async fn reconfigure(node: Arc<Node>, me: String, epoch: u64, expected: u64, members: Vec<String>) {
    let Some(url) = node.group.nameserver.clone() else {
        return node.service.input(Input::ReconfigureFailed);
    };
    let store = Remote::new(&url);
    let group = node.group.scenario.name.clone();
    let holds = match store.lookup(&group).await {
        Ok(view) => view.master.is_some_and(|m| m.epoch == epoch && m.member == me),
        Err(e) => {
            node.log(format!("replica: cannot change the configuration: {e}"));
            false
        }
    };
    if !holds {
        node.log(format!("replica: not changing the configuration: this node no longer holds epoch {epoch}"));
        return node.service.input(Input::ReconfigureFailed);
    }
    match store.reconfigure(&group, expected, members.clone()).await {
        Ok(config) => {
            node.log(format!("replica: configuration version {} with members {}", config.version, config.members.join(", ")));
            node.service.input(Input::Configured(Membership { version: config.version, members: config.members }));
        }
        Err(e) => {
            node.log(format!("replica: changing the configuration to {} failed: {e}", members.join(", ")));
            node.service.input(Input::ReconfigureFailed);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_gets_three_detection_periods_and_at_least_a_second() {
        let group = |period_ms: u64| {
            let file = serde_json::json!({
                "name": "g", "secret": "a-long-secret", "ranking": ["a", "b"],
                "servers": [{"id": "a", "addr": "127.0.0.1:1"}, {"id": "b", "addr": "127.0.0.1:2"}],
                "delays_ms": [[0, 1], [1, 0]],
                "detection": {"period_ms": period_ms, "timeout_ms": period_ms / 2},
            });
            crate::group::Group::from_json(&file.to_string()).unwrap()
        };
        assert_eq!(config(&group(300), 0).ack_timeout, stagger_core::Span::from_ms(1_000));
        assert_eq!(config(&group(1_000), 1).ack_timeout, stagger_core::Span::from_ms(3_000));
        assert_eq!(config(&group(1_000), 1).me, "b");
    }

    #[test]
    fn the_default_data_folder_is_beside_the_group_file_one_per_member() {
        let p = default_data_dir(Path::new("/tmp/x/lan.json"), "s1");
        assert_eq!(p, Path::new("/tmp/x/lan.data/s1"));
        assert_eq!(default_data_dir(Path::new("group.json"), "a"), Path::new("./group.data/a"));
    }
}
