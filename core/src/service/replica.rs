//! One member's replica: master or backup, the same engine
//! (docs/protocol.md K1–K16).

use super::kv::{self, Seen, Store};
use super::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Misuse by the driver.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("time went back: now {now:?} is before the last {last:?}")]
    TimeWentBack { now: Time, last: Time },
}

/// How many entries a master sends a backup ahead of its acknowledgements.
const WINDOW_BATCHES: u64 = 8;

/// The replicated service's engine for one member.
#[derive(Debug)]
pub struct Replica {
    cfg: Config,
    now: Time,
    /// The highest epoch seen, persisted before it is acted on (K4).
    epoch: u64,
    /// The applied state. A backup applies what it receives; a master what
    /// is committed (K7).
    store: Store,
    /// The last compacted snapshot's stamp: the log holds what follows it.
    base: Stamp,
    /// Entries after `base`, applied or not.
    log: Vec<Entry>,
    /// The last entry held.
    last: Stamp,
    /// The master's commit index as this replica last heard it.
    commit: Index,
    config: Membership,
    connected: BTreeSet<String>,
    role: Role,
    out: VecDeque<Output>,
    /// The applied index last reported in a `Note::Applied`.
    noted: Index,
    /// Whether this replica has ever taken part (a member of a
    /// configuration, or fed by a master): a returning one asks to join.
    was_member: bool,
}

#[derive(Debug)]
enum Role {
    Backup { master: Option<String> },
    Master(Box<Lead>),
}

/// A master's state.
#[derive(Debug)]
struct Lead {
    epoch: u64,
    /// `Some` while bringing the backups to one prefix: the answers to
    /// `Sync` so far (K8).
    syncing: Option<BTreeMap<String, Synced>>,
    /// Requests are held until everything up to here is committed (K8).
    ready_at: Index,
    round: u64,
    peers: BTreeMap<String, Peer>,
    /// Writes waiting for their commit: index → connections to answer.
    waiting: BTreeMap<Index, Vec<Conn>>,
    /// The uncommitted write of each client: (seq, index).
    pending: BTreeMap<String, (u64, Index)>,
    /// Reads waiting for a round: (round, conn, key).
    reads: VecDeque<(u64, Conn, String)>,
    /// Requests held while syncing.
    held: VecDeque<(Conn, Request)>,
    /// Entries appended since the last flush (not yet persisted).
    fresh: Vec<Entry>,
    /// A reconfiguration asked for and not yet answered, and when.
    reconfiguring: Option<Time>,
    /// Whether the next flush must send a round even with no entries.
    round_due: bool,
    last_round_at: Time,
    /// Whether `Note::Serving` went out.
    announced: bool,
}

#[derive(Debug, Clone)]
struct Synced {
    last: Stamp,
    tail: Vec<Entry>,
}

/// What the master knows of one other server.
#[derive(Debug, Clone)]
struct Peer {
    /// Everything up to here is on the peer's disk.
    acked: Stamp,
    /// Forwarded up to here (pipelined ahead of `acked`); `None` until the
    /// peer has answered `Sync` and its log is known.
    sent: Option<Index>,
    /// The last round the peer acknowledged, and the last one sent to it.
    round: u64,
    sent_round: u64,
    /// Since when a round sent to it is unanswered (K10).
    owed_since: Option<Time>,
    /// A member of the configuration, or a returning backup catching up.
    member: bool,
    joining: bool,
    /// The election judged it failed and it has not answered since.
    failed: bool,
}

impl Peer {
    fn new(member: bool, now: Time) -> Peer {
        Peer { acked: Stamp::default(), sent: None, round: 0, sent_round: 0, owed_since: Some(now), member, joining: false, failed: false }
    }
}

impl Replica {
    /// A replica starting from what its driver recovered from disk. It is a
    /// backup until the driver says it leads.
    pub fn new(cfg: Config, recovered: Recovered) -> Replica {
        let Recovered { epoch, snapshot, entries } = recovered;
        let base = snapshot.last;
        let mut store = Store::from_snapshot(snapshot);
        let entries: Vec<Entry> = entries.into_iter().filter(|e| e.stamp.index > base.index).collect();
        for e in &entries {
            store.apply(e);
        }
        let last = entries.last().map_or(base, |e| e.stamp);
        Replica {
            cfg,
            now: Time::ZERO,
            epoch,
            noted: store.last().index,
            was_member: epoch > 0 || last.index > 0,
            store,
            base,
            log: entries,
            last,
            commit: 0,
            config: Membership::default(),
            connected: BTreeSet::new(),
            role: Role::Backup { master: None },
            out: VecDeque::new(),
        }
    }

    /// One way in.
    pub fn handle(&mut self, now: Time, input: Input) -> Result<(), UsageError> {
        if now < self.now {
            return Err(UsageError::TimeWentBack { now, last: self.now });
        }
        self.now = now;
        match input {
            Input::Lead { epoch, config } => self.lead(epoch, config),
            Input::StepDown => self.step_down(None),
            Input::Configured(m) => self.configured(m),
            Input::ReconfigureFailed => {
                if let Role::Master(l) = &mut self.role {
                    l.reconfiguring = None;
                }
            }
            Input::Request { conn, request } => self.request(conn, request),
            Input::Receive { from, msg } => self.receive(from, msg),
            Input::Connected { peer } => {
                self.connected.insert(peer.clone());
                if let Role::Master(l) = &mut self.role {
                    if let Some(p) = l.peers.get_mut(&peer) {
                        p.sent = None;
                    }
                    let msg = Msg::Sync { epoch: l.epoch, last: self.last };
                    self.out.push_back(Output::Send { to: peer, msg });
                }
            }
            Input::Disconnected { peer } => {
                self.connected.remove(&peer);
                if let Role::Master(l) = &mut self.role {
                    if let Some(p) = l.peers.get_mut(&peer) {
                        p.sent = None;
                        p.owed_since.get_or_insert(now);
                    }
                }
            }
            Input::Failed { peer } => {
                if let Role::Master(l) = &mut self.role {
                    let waiting = l.syncing.as_ref().is_some_and(|s| !s.contains_key(&peer));
                    if let Some(p) = l.peers.get_mut(&peer).filter(|p| p.member && waiting) {
                        p.failed = true;
                        self.timer();
                    }
                }
            }
            Input::Timer => self.timer(),
        }
        self.progress();
        Ok(())
    }

    /// One way out: drain until `None`, then sleep until `poll_timeout`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to feed `Input::Timer` next.
    pub fn poll_timeout(&self) -> Deadline {
        let Role::Master(l) = &self.role else { return None };
        // A deadline already past (a silent backup the master may not
        // remove, K10) is looked at again a heartbeat later, not at once.
        let later = |d: Time| if d > self.now { d } else { self.now + self.cfg.heartbeat };
        let mut at = later(l.last_round_at + self.cfg.heartbeat);
        for (id, p) in l.peers.iter().filter(|(_, p)| p.member) {
            if let Some(since) = p.owed_since {
                at = at.min(later(since + Self::timeout_of(&self.cfg, l, id)));
            }
        }
        if let Some(since) = l.reconfiguring {
            at = at.min(later(since + self.cfg.ack_timeout));
        }
        Some(at)
    }

    /// Whether this replica is the master and serving requests.
    pub fn serving(&self) -> bool {
        matches!(&self.role, Role::Master(l) if l.syncing.is_none() && self.commit >= l.ready_at)
    }

    /// The highest epoch seen.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The applied state.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn status(&self) -> Status {
        let (role, backups) = match &self.role {
            Role::Backup { .. } => ("backup", BTreeMap::new()),
            Role::Master(l) => (
                if self.serving() { "master" } else { "syncing" },
                l.peers.iter().filter(|(_, p)| p.member || p.joining).map(|(id, p)| (id.clone(), p.acked.index)).collect(),
            ),
        };
        Status {
            role: role.into(),
            epoch: self.epoch,
            last: self.last,
            applied: self.store.last().index,
            commit: self.commit,
            keys: self.store.len(),
            backups,
            config_version: self.config.version,
        }
    }

    /// The master this backup follows, when it knows one.
    pub fn master(&self) -> Option<&str> {
        match &self.role {
            Role::Backup { master } => master.as_deref(),
            Role::Master(_) => Some(&self.cfg.me),
        }
    }

    // ---- epochs and roles ----

    /// Takes a higher epoch: persisted before anything that follows (K4).
    fn see_epoch(&mut self, epoch: u64) {
        if epoch > self.epoch {
            self.epoch = epoch;
            self.out.push_back(Output::Persist(Durable::Epoch(epoch)));
        }
    }

    fn lead(&mut self, epoch: u64, config: Membership) {
        if epoch < self.epoch || matches!(&self.role, Role::Master(l) if l.epoch == epoch) {
            return; // An old grant, or the one we lead under already.
        }
        let config = if config.version >= self.config.version { config } else { self.config.clone() };
        if !config.members.contains(&self.cfg.me) {
            // Never lead outside the configuration: with no configuration
            // known, a master would count no backup and commit alone (K2).
            return self.out.push_back(Output::Note(Note::Stale { epoch }));
        }
        self.step_down(None);
        self.see_epoch(epoch);
        self.config = config;
        let now = self.now;
        let peers: BTreeMap<String, Peer> = self.others().into_iter().map(|id| (id, Peer::new(true, now))).collect();
        for id in peers.keys().filter(|id| self.connected.contains(*id)) {
            self.out.push_back(Output::Send { to: id.clone(), msg: Msg::Sync { epoch, last: self.last } });
        }
        self.commit = self.commit.min(self.store.last().index);
        self.role = Role::Master(Box::new(Lead {
            epoch,
            syncing: Some(BTreeMap::new()),
            ready_at: self.last.index,
            round: 0,
            peers,
            waiting: BTreeMap::new(),
            pending: BTreeMap::new(),
            reads: VecDeque::new(),
            held: VecDeque::new(),
            fresh: Vec::new(),
            reconfiguring: None,
            round_due: true,
            last_round_at: now,
            announced: false,
        }));
    }

    /// Stops being master: writes waiting may or may not be applied
    /// (`Unknown`); reads and held requests were not (`NotMaster`).
    fn step_down(&mut self, master: Option<String>) {
        let old = std::mem::replace(&mut self.role, Role::Backup { master });
        let Role::Master(l) = old else { return };
        if !l.fresh.is_empty() {
            // Appended but never persisted nor sent: a backup keeps its log
            // as it is, so they simply never happened.
            let first = l.fresh[0].stamp.index;
            let lost = self.log.partition_point(|e| e.stamp.index < first);
            self.log.truncate(lost);
            self.last = self.log.last().map_or(self.base, |e| e.stamp);
        }
        for conn in l.waiting.into_values().flatten() {
            self.out.push_back(Output::Reply { conn, result: Err(Refusal::Unknown) });
        }
        let not_master = || Err(Refusal::NotMaster { master: None });
        for (_, conn, _) in l.reads {
            self.out.push_back(Output::Reply { conn, result: not_master() });
        }
        for (conn, _) in l.held {
            self.out.push_back(Output::Reply { conn, result: not_master() });
        }
        // What was applied as master is committed; what a backup holds
        // beyond it it has applied too (K7).
        let applied = self.store.last().index;
        for e in self.log.iter().filter(|e| e.stamp.index > applied) {
            self.store.apply(e);
        }
    }

    fn configured(&mut self, m: Membership) {
        if m.version <= self.config.version {
            return;
        }
        self.config = m;
        let me_in = self.config.members.contains(&self.cfg.me);
        self.was_member |= me_in;
        let Role::Master(l) = &mut self.role else { return };
        if !me_in {
            return self.step_down(None);
        }
        l.reconfiguring = None;
        let members: BTreeSet<String> = self.config.members.iter().filter(|id| **id != self.cfg.me).cloned().collect();
        let now = self.now;
        for (id, p) in l.peers.iter_mut() {
            p.member = members.contains(id);
            if p.member {
                p.joining = false;
            }
        }
        for id in &members {
            if !l.peers.contains_key(id) {
                l.peers.insert(id.clone(), Peer::new(true, now));
                if self.connected.contains(id) {
                    self.out.push_back(Output::Send { to: id.clone(), msg: Msg::Sync { epoch: l.epoch, last: self.last } });
                }
            }
        }
        // A removed member still connected (a paused process) is asked
        // again: once it answers it is brought back like any returning
        // backup (K11).
        for id in l.peers.iter().filter(|(id, p)| !p.member && !p.joining && self.connected.contains(*id)).map(|(id, _)| id) {
            self.out.push_back(Output::Send { to: id.clone(), msg: Msg::Sync { epoch: l.epoch, last: self.last } });
        }
        l.peers.retain(|_, p| p.member || p.joining);
        if let Some(s) = &mut l.syncing {
            s.retain(|id, _| members.contains(id));
        }
    }

    fn others(&self) -> Vec<String> {
        self.config.members.iter().filter(|id| **id != self.cfg.me).cloned().collect()
    }

    // ---- clients ----

    fn request(&mut self, conn: Conn, request: Request) {
        if let Err(e) = kv::check(&request, &self.cfg.limits) {
            return self.reply(conn, Err(e));
        }
        let Role::Master(l) = &mut self.role else {
            let master = self.master().map(str::to_owned);
            return self.reply(conn, Err(Refusal::NotMaster { master }));
        };
        // Writes count once per index (retries join their entry).
        let waiting = l.held.len() + l.reads.len() + l.waiting.len();
        if waiting >= self.cfg.limits.max_waiting {
            return self.reply(conn, Err(Refusal::Busy { waiting }));
        }
        if !self.serving() {
            let Role::Master(l) = &mut self.role else { unreachable!() };
            l.held.push_back((conn, request));
            return;
        }
        self.serve(conn, request);
    }

    /// Carries out a request at a serving master.
    fn serve(&mut self, conn: Conn, request: Request) {
        let Role::Master(l) = &mut self.role else { unreachable!("serve is only called at a master") };
        if !request.op.writes() {
            let Op::Get { key } = request.op else { unreachable!() };
            if let Err(e) = self.store.seen(&Request { client: request.client.clone(), seq: request.seq, op: Op::Get { key: key.clone() } })
            {
                return self.reply(conn, Err(e));
            }
            l.reads.push_back((l.round + 1, conn, key));
            l.round_due = true;
            return;
        }
        if let Some(&(seq, index)) = l.pending.get(&request.client) {
            if request.seq == seq {
                l.waiting.entry(index).or_default().push(conn); // A retry of a write in flight.
                return;
            }
            if request.seq < seq {
                let refusal = Refusal::SequenceWentBack { client: request.client, seq: request.seq, last: seq };
                return self.reply(conn, Err(refusal));
            }
        }
        match self.store.seen(&request) {
            Err(e) => self.reply(conn, Err(e)),
            Ok(Seen::Repeat(reply)) => self.reply(conn, Ok(reply)),
            Ok(Seen::New) => {
                let stamp = Stamp { epoch: l.epoch, index: self.last.index + 1 };
                let entry = Entry { stamp, client: request.client.clone(), seq: request.seq, op: request.op };
                l.pending.insert(request.client, (request.seq, stamp.index));
                l.waiting.entry(stamp.index).or_default().push(conn);
                l.fresh.push(entry.clone());
                self.log.push(entry);
                self.last = stamp;
            }
        }
    }

    fn reply(&mut self, conn: Conn, result: Result<Reply, Refusal>) {
        self.out.push_back(Output::Reply { conn, result });
    }

    // ---- messages ----

    fn receive(&mut self, from: String, msg: Msg) {
        let epoch = msg.epoch();
        let from_master = matches!(msg, Msg::Sync { .. } | Msg::Forward { .. } | Msg::Install { .. });
        if from_master {
            if epoch < self.epoch {
                // A stale master: it cannot get anything acknowledged (K4).
                let msg = Msg::Stale { epoch: self.epoch };
                return self.out.push_back(Output::Send { to: from, msg });
            }
            let newer = epoch > self.epoch || !matches!(&self.role, Role::Backup { master: Some(m) } if *m == from);
            self.see_epoch(epoch);
            if newer {
                if matches!(self.role, Role::Master(_)) {
                    self.out.push_back(Output::Note(Note::Stale { epoch }));
                }
                self.step_down(Some(from.clone()));
            }
            self.was_member = true;
        } else if epoch > self.epoch {
            // A backup that has seen a newer master than us (K4).
            self.see_epoch(epoch);
            if matches!(self.role, Role::Master(_)) {
                self.out.push_back(Output::Note(Note::Stale { epoch }));
                self.step_down(None);
            }
            return;
        } else if epoch < self.epoch {
            return; // An answer to an older master's message.
        }
        match msg {
            Msg::Sync { epoch, last } => {
                let tail = if self.stamp_at(last.index) == Some(last) { self.log_after(last.index, usize::MAX) } else { Vec::new() };
                let join = self.was_member;
                let msg = Msg::Synced { epoch, last: self.last, tail, join };
                self.out.push_back(Output::Send { to: from, msg });
            }
            Msg::Forward { epoch, prev, entries, commit, round } => self.forward(from, epoch, prev, entries, commit, round),
            Msg::Install { epoch, snapshot, commit, round } => {
                self.out.push_back(Output::Persist(Durable::Install(snapshot.clone())));
                self.base = snapshot.last;
                self.last = snapshot.last;
                self.log.clear();
                self.store = Store::from_snapshot(snapshot);
                self.commit = commit.min(self.last.index);
                self.out.push_back(Output::Send { to: from, msg: Msg::Ack { epoch, last: self.last, round } });
            }
            Msg::Synced { last, tail, join, .. } => self.synced(from, last, tail, join),
            Msg::Ack { last, round, .. } => self.acked(from, last, round),
            Msg::Gap { last, .. } => {
                // Resend from where the backup is, or transfer the state
                // when its log is not a prefix of ours (K14).
                let ours = self.stamp_at(last.index) == Some(last);
                let Role::Master(l) = &mut self.role else { return };
                let Some(p) = l.peers.get_mut(&from) else { return };
                if ours {
                    p.acked = p.acked.max(last);
                    p.sent = Some(last.index);
                } else {
                    self.install(&from);
                }
            }
            Msg::Stale { .. } => {}
        }
    }

    /// A backup takes a `Forward` (K5, K14).
    fn forward(&mut self, from: String, epoch: u64, prev: Stamp, entries: Vec<Entry>, commit: Index, round: u64) {
        if self.stamp_at(prev.index) != Some(prev) {
            let msg = Msg::Gap { epoch, last: self.last };
            return self.out.push_back(Output::Send { to: from, msg });
        }
        let mut new = Vec::new();
        for e in entries {
            match self.stamp_at(e.stamp.index) {
                Some(s) if s == e.stamp => continue, // Already held.
                Some(_) => {
                    // Only a master that skipped our sync could send this.
                    let msg = Msg::Gap { epoch, last: self.last };
                    return self.out.push_back(Output::Send { to: from, msg });
                }
                None if e.stamp.index == self.last.index + 1 => {
                    self.store.apply(&e);
                    self.last = e.stamp;
                    self.log.push(e.clone());
                    new.push(e);
                }
                None => break,
            }
        }
        if !new.is_empty() {
            self.out.push_back(Output::Persist(Durable::Append(new)));
        }
        self.commit = self.commit.max(commit.min(self.last.index));
        self.out.push_back(Output::Send { to: from, msg: Msg::Ack { epoch, last: self.last, round } });
    }

    /// A master hears a backup's log after `Sync` (K8).
    fn synced(&mut self, from: String, last: Stamp, tail: Vec<Entry>, join: bool) {
        let consistent = self.stamp_at(last.index) == Some(last) || last.index > self.last.index;
        let Role::Master(l) = &mut self.role else { return };
        let Some(p) = l.peers.get_mut(&from) else {
            if join && !self.config.members.contains(&from) {
                // A backup removed while silent is back: state transfer,
                // then it is added once it holds what is committed (K11).
                let mut p = Peer::new(false, self.now);
                p.joining = true;
                l.peers.insert(from.clone(), p);
                self.install(&from);
            }
            return;
        };
        p.owed_since = None;
        p.failed = false;
        if let Some(s) = &mut l.syncing {
            s.insert(from, Synced { last, tail });
            return;
        }
        if consistent && last.index <= self.last.index {
            p.acked = last;
            p.sent = Some(last.index);
        } else {
            self.install(&from);
        }
    }

    /// Ends the sync once every member has answered: adopts the longest
    /// tail, then forwards each backup what it lacks (K8, K9).
    fn finish_sync(&mut self) {
        let Role::Master(l) = &mut self.role else { return };
        let Some(answers) = &l.syncing else { return };
        if l.peers.iter().any(|(id, p)| p.member && !answers.contains_key(id)) {
            return;
        }
        let answers = l.syncing.take().expect("checked above");
        let longest =
            answers.values().filter(|s| s.tail.first().is_some_and(|e| e.stamp.index == self.last.index + 1)).max_by_key(|s| s.tail.len());
        if let Some(s) = longest {
            let tail = s.tail.clone();
            for e in &tail {
                l.pending.insert(e.client.clone(), (e.seq, e.stamp.index));
            }
            self.last = tail.last().expect("non-empty").stamp;
            self.out.push_back(Output::Persist(Durable::Append(tail.clone())));
            self.log.extend(tail);
        }
        l.ready_at = self.last.index;
        let mut stale = Vec::new();
        for (id, s) in answers {
            let Some(p) = l.peers.get_mut(&id) else { continue };
            let held = entry_at(&self.log, s.last.index).map(|e| e.stamp);
            let matches = s.last.index == 0 || s.last == self.base || held == Some(s.last);
            if matches {
                p.acked = s.last;
                p.sent = Some(s.last.index);
            } else {
                stale.push(id);
            }
        }
        for id in stale {
            self.install(&id);
        }
    }

    /// Sends `peer` the whole committed state (K15).
    fn install(&mut self, peer: &str) {
        let Role::Master(l) = &mut self.role else { return };
        let Some(p) = l.peers.get_mut(peer) else { return };
        let snapshot = self.store.snapshot().clone();
        p.sent = Some(snapshot.last.index);
        p.acked = Stamp::default();
        l.round += 1;
        p.sent_round = l.round;
        p.owed_since.get_or_insert(self.now);
        self.out.push_back(Output::Note(Note::Transfer { member: peer.to_owned(), last: snapshot.last }));
        let msg = Msg::Install { epoch: l.epoch, snapshot, commit: self.commit, round: l.round };
        self.out.push_back(Output::Send { to: peer.to_owned(), msg });
    }

    fn acked(&mut self, from: String, last: Stamp, round: u64) {
        let Role::Master(l) = &mut self.role else { return };
        let Some(p) = l.peers.get_mut(&from) else { return };
        if last.index > self.last.index {
            return; // Not from this epoch's log.
        }
        p.acked = p.acked.max(last);
        p.round = p.round.max(round);
        p.owed_since = if p.round >= p.sent_round { None } else { Some(self.now) };
    }

    // ---- time ----

    fn timer(&mut self) {
        let now = self.now;
        let Role::Master(l) = &mut self.role else { return };
        if now >= l.last_round_at + self.cfg.heartbeat {
            l.round_due = true;
        }
        if l.reconfiguring.is_some_and(|since| now >= since + self.cfg.ack_timeout) {
            l.reconfiguring = None; // No answer from the driver: ask again.
        }
        if l.reconfiguring.is_some() {
            return;
        }
        let silent: Vec<String> = l
            .peers
            .iter()
            .filter(|(id, p)| p.member && (p.failed || p.owed_since.is_some_and(|since| now >= since + Self::timeout_of(&self.cfg, l, id))))
            .map(|(id, _)| id.clone())
            .collect();
        let members = self.config.members.len();
        // Only while it hears a majority of the configuration, itself
        // included, does a master remove the silent (K10): an isolated
        // master must not remove everybody else and go on alone.
        if silent.is_empty() || 2 * (members - silent.len()) <= members {
            return;
        }
        let members: Vec<String> = self.config.members.iter().filter(|id| !silent.contains(id)).cloned().collect();
        for member in &silent {
            self.out.push_back(Output::Note(Note::Unresponsive { member: member.clone() }));
        }
        l.reconfiguring = Some(now);
        self.out.push_back(Output::Reconfigure { epoch: l.epoch, expected: self.config.version, members });
    }

    /// How long member `id` may stay silent: `sync_timeout` while the
    /// master waits for its answer to `Sync`, `ack_timeout` after (K10).
    fn timeout_of(cfg: &Config, l: &Lead, id: &str) -> Span {
        match &l.syncing {
            Some(answers) if !answers.contains_key(id) => cfg.sync_timeout,
            _ => cfg.ack_timeout,
        }
    }

    // ---- after every input ----

    /// Commits, applies and answers what can be, flushes fresh entries and
    /// due rounds, asks to add caught-up joiners, and compacts.
    fn progress(&mut self) {
        self.finish_sync();
        if let Role::Master(l) = &mut self.role {
            if l.syncing.is_none() {
                self.flush();
                self.commit_and_apply();
                self.release_held();
                self.answer_reads();
                self.admit_joiners();
            }
        }
        let applied = self.store.last().index;
        if applied != self.noted {
            self.noted = applied;
            self.out.push_back(Output::Note(Note::Applied { index: applied }));
        }
        self.compact();
    }

    /// Persists fresh entries, then sends every connected peer what it
    /// lacks, and a round when one is due.
    fn flush(&mut self) {
        let Role::Master(l) = &mut self.role else { return };
        if !l.fresh.is_empty() {
            self.out.push_back(Output::Persist(Durable::Append(std::mem::take(&mut l.fresh))));
        }
        let window = WINDOW_BATCHES * self.cfg.max_batch as u64;
        let room = |p: &Peer, sent: Index| window.saturating_sub(sent.saturating_sub(p.acked.index)) as usize;
        let behind = l.peers.values().any(|p| p.sent.is_some_and(|s| s < self.last.index && room(p, s) > 0));
        if !(behind || l.round_due) {
            return;
        }
        let round_due = std::mem::take(&mut l.round_due);
        l.round += 1;
        if round_due {
            l.last_round_at = self.now;
        }
        let mut installs = Vec::new();
        for (id, p) in l.peers.iter_mut() {
            let Some(sent) = p.sent else { continue };
            if !self.connected.contains(id) {
                continue;
            }
            if sent < self.base.index {
                installs.push(id.clone());
                continue;
            }
            let entries = kv::after(&self.log, sent, self.cfg.max_batch.min(room(p, sent)));
            if entries.is_empty() && !round_due {
                continue;
            }
            let prev = if sent == self.base.index { self.base } else { entry_at(&self.log, sent).map_or(self.base, |e| e.stamp) };
            p.sent = Some(entries.last().map_or(sent, |e| e.stamp.index));
            p.sent_round = l.round;
            p.owed_since.get_or_insert(self.now);
            let msg = Msg::Forward { epoch: l.epoch, prev, entries, commit: self.commit, round: l.round };
            self.out.push_back(Output::Send { to: id.clone(), msg });
        }
        for id in installs {
            self.install(&id);
        }
    }

    /// Commits what every member backup has on disk (K6), applies it in
    /// order and answers the writes waiting on it.
    fn commit_and_apply(&mut self) {
        let Role::Master(l) = &mut self.role else { return };
        let commit = l.peers.values().filter(|p| p.member).map(|p| p.acked.index).min().unwrap_or(self.last.index).min(self.last.index);
        if commit <= self.commit && self.store.last().index >= self.commit {
            return;
        }
        self.commit = self.commit.max(commit);
        while self.store.last().index < self.commit {
            let next = self.store.last().index + 1;
            let Some(entry) = entry_at(&self.log, next) else { break };
            let reply = self.store.apply(entry);
            if l.pending.get(&entry.client).is_some_and(|&(_, i)| i == next) {
                l.pending.remove(&entry.client);
            }
            for conn in l.waiting.remove(&next).unwrap_or_default() {
                self.out.push_back(Output::Reply { conn, result: Ok(reply.clone()) });
            }
        }
    }

    fn release_held(&mut self) {
        if !self.serving() {
            return;
        }
        let Role::Master(l) = &mut self.role else { return };
        if !l.announced {
            l.announced = true;
            self.out.push_back(Output::Note(Note::Serving { epoch: l.epoch, last: self.last }));
        }
        if l.held.is_empty() {
            return;
        }
        let held = std::mem::take(&mut l.held);
        for (conn, request) in held {
            self.serve(conn, request);
        }
        self.flush();
    }

    /// Answers the reads whose round every member backup has seen (K12).
    fn answer_reads(&mut self) {
        let Role::Master(l) = &mut self.role else { return };
        let seen = l.peers.values().filter(|p| p.member).map(|p| p.round).min().unwrap_or(l.round);
        while l.reads.front().is_some_and(|(r, _, _)| *r <= seen) {
            let (_, conn, key) = l.reads.pop_front().expect("checked");
            let mut reply = self.store.read(&key, l.epoch);
            reply.index = self.commit;
            self.out.push_back(Output::Reply { conn, result: Ok(reply) });
        }
    }

    /// Asks to add a returning backup once it holds everything (K11).
    fn admit_joiners(&mut self) {
        let Role::Master(l) = &mut self.role else { return };
        if l.reconfiguring.is_some() {
            return;
        }
        // Everything committed, not everything sent: under a steady load the
        // last entry is always ahead of what any backup has acknowledged.
        let ready: Vec<String> =
            l.peers.iter().filter(|(_, p)| p.joining && p.acked.index >= self.commit).map(|(id, _)| id.clone()).collect();
        if ready.is_empty() {
            return;
        }
        let mut members = self.config.members.clone();
        members.extend(ready.into_iter().filter(|id| !self.config.members.contains(id)));
        l.reconfiguring = Some(self.now);
        self.out.push_back(Output::Reconfigure { epoch: l.epoch, expected: self.config.version, members });
    }

    /// Writes a snapshot of the applied state and drops the log before it
    /// once the log is long (K15). A backup has applied all it holds; a
    /// master only what is committed, and keeps the rest.
    fn compact(&mut self) {
        if self.log.len() <= self.cfg.snapshot_every {
            return;
        }
        let upto = self.store.last().index;
        if upto <= self.base.index {
            return;
        }
        let snapshot = self.store.snapshot().clone();
        self.base = snapshot.last;
        self.log.retain(|e| e.stamp.index > upto);
        self.out.push_back(Output::Persist(Durable::Snapshot(snapshot)));
    }

    // ---- the log ----

    /// The stamp of the entry at `index`, when this replica holds it (or
    /// it is the snapshot's).
    fn stamp_at(&self, index: Index) -> Option<Stamp> {
        if index == self.base.index {
            return Some(self.base);
        }
        if index < self.base.index || index > self.last.index {
            return None;
        }
        entry_at(&self.log, index).map(|e| e.stamp)
    }

    fn log_after(&self, index: Index, max: usize) -> Vec<Entry> {
        kv::after(&self.log, index, max)
    }
}

/// The entry at `index` in a log sorted by index (binary search: the log
/// holds up to `snapshot_every` entries and is searched on every commit).
fn entry_at(log: &[Entry], index: Index) -> Option<&Entry> {
    let i = log.partition_point(|e| e.stamp.index < index);
    log.get(i).filter(|e| e.stamp.index == index)
}
