//! The replica engine driven by a small in-memory network: every message
//! and every disk write is in the test's hands.

use super::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

struct Member {
    replica: Replica,
    disk: Recovered,
    up: bool,
}

#[derive(Default)]
struct Net {
    members: BTreeMap<String, Member>,
    queue: VecDeque<(String, String, Msg)>,
    replies: BTreeMap<Conn, Result<Reply, Refusal>>,
    reconfigures: Vec<(String, u64, u64, Vec<String>)>,
    notes: Vec<(String, Note)>,
    /// Links that lose everything, (from, to).
    cut: BTreeSet<(String, String)>,
    /// Members whose process is paused: what is sent to them waits.
    paused: BTreeSet<String>,
    now: Time,
    next_conn: Conn,
    config: Membership,
}

fn cfg(id: &str) -> Config {
    let mut c = Config::new(id);
    c.snapshot_every = 4;
    c
}

fn put(client: &str, seq: u64, key: &str, value: &str) -> Request {
    Request { client: client.into(), seq, op: Op::Put { key: key.into(), value: value.into() } }
}

fn get(client: &str, seq: u64, key: &str) -> Request {
    Request { client: client.into(), seq, op: Op::Get { key: key.into() } }
}

impl Net {
    /// A group of `ids`, all members, all connected, nobody leading.
    fn new(ids: &[&str]) -> Net {
        let mut net = Net { config: Membership { version: 1, members: ids.iter().map(|s| s.to_string()).collect() }, ..Net::default() };
        for id in ids {
            let replica = Replica::new(cfg(id), Recovered::default());
            net.members.insert(id.to_string(), Member { replica, disk: Recovered::default(), up: true });
        }
        for id in ids {
            net.feed(id, Input::Configured(net.config.clone()));
            for other in ids.iter().filter(|o| *o != id) {
                net.feed(id, Input::Connected { peer: other.to_string() });
            }
        }
        net
    }

    fn feed(&mut self, id: &str, input: Input) {
        let now = self.now;
        let m = self.members.get_mut(id).expect("a member");
        if !m.up {
            return;
        }
        m.replica.handle(now, input).expect("time only goes forward");
        while let Some(out) = m.replica.poll_output() {
            match out {
                Output::Persist(d) => persist(&mut m.disk, d),
                Output::Send { to, msg } => self.queue.push_back((id.to_string(), to, msg)),
                Output::Reply { conn, result } => {
                    self.replies.insert(conn, result);
                }
                Output::Reconfigure { epoch, expected, members } => self.reconfigures.push((id.to_string(), epoch, expected, members)),
                Output::Note(n) => self.notes.push((id.to_string(), n)),
            }
        }
    }

    /// Delivers every queued message (and what they cause) in order.
    fn run(&mut self) {
        let mut held = VecDeque::new();
        while let Some((from, to, msg)) = self.queue.pop_front() {
            if self.paused.contains(&to) || self.paused.contains(&from) {
                held.push_back((from, to, msg));
                continue;
            }
            if self.cut.contains(&(from.clone(), to.clone())) || !self.members.get(&to).is_some_and(|m| m.up) {
                continue;
            }
            self.feed(&to, Input::Receive { from, msg });
        }
        self.queue = held;
    }

    fn request(&mut self, id: &str, request: Request) -> Conn {
        self.next_conn += 1;
        let conn = self.next_conn;
        self.feed(id, Input::Request { conn, request });
        conn
    }

    fn lead(&mut self, id: &str, epoch: u64) {
        let config = self.config.clone();
        self.feed(id, Input::Lead { epoch, config });
        self.run();
    }

    /// Applies the last asked reconfiguration as the name server would,
    /// and tells every member.
    fn reconfigure(&mut self) {
        let (_, _, expected, members) = self.reconfigures.pop().expect("a reconfiguration was asked for");
        assert_eq!(expected, self.config.version);
        self.config = Membership { version: expected + 1, members };
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            self.feed(&id, Input::Configured(self.config.clone()));
        }
        self.run();
    }

    fn tick(&mut self, ms: u64) {
        self.now += Span::from_ms(ms);
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            if self.members[&id].replica.poll_timeout().is_some_and(|t| t <= self.now) {
                self.feed(&id, Input::Timer);
            }
        }
        self.run();
    }

    fn replica(&self, id: &str) -> &Replica {
        &self.members[id].replica
    }

    fn value(&self, id: &str, key: &str) -> Option<String> {
        self.replica(id).store().get(key).cloned()
    }

    fn ok(&self, conn: Conn) -> Reply {
        match self.replies.get(&conn) {
            Some(Ok(r)) => r.clone(),
            other => panic!("connection {conn}: expected an answer, got {other:?}"),
        }
    }

    /// Kills `id` and starts it again from its disk, disconnected.
    fn restart(&mut self, id: &str) {
        let disk = self.members[id].disk.clone();
        let m = self.members.get_mut(id).unwrap();
        m.replica = Replica::new(cfg(id), disk);
        m.up = true;
    }
}

fn persist(disk: &mut Recovered, d: Durable) {
    match d {
        Durable::Epoch(e) => {
            assert!(e > disk.epoch, "epochs only rise");
            disk.epoch = e;
        }
        Durable::Append(entries) => {
            let mut last = disk.entries.last().map_or(disk.snapshot.last, |e| e.stamp);
            for e in entries {
                assert_eq!(e.stamp.index, last.index + 1, "appends follow on");
                last = e.stamp;
                disk.entries.push(e);
            }
        }
        Durable::Snapshot(s) => {
            disk.entries.retain(|e| e.stamp.index > s.last.index);
            disk.snapshot = s;
        }
        Durable::Install(s) => {
            disk.entries.clear();
            disk.snapshot = s;
        }
    }
}

#[test]
fn a_write_is_answered_only_once_every_backup_has_it() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    assert!(net.replica("a").serving());
    net.cut.insert(("c".into(), "a".into())); // c's acknowledgements are lost
    let conn = net.request("a", put("x", 1, "k", "v1"));
    net.run();
    assert!(!net.replies.contains_key(&conn), "answered without c's acknowledgement");
    assert_eq!(net.value("b", "k").as_deref(), Some("v1"), "b applied it");
    assert_eq!(net.value("c", "k").as_deref(), Some("v1"), "c applied it");
    assert_eq!(net.value("a", "k"), None, "the master applies only what is committed");
    net.cut.clear();
    net.tick(100); // the heartbeat resends the round and c answers
    let reply = net.ok(conn);
    assert_eq!((reply.epoch, reply.index), (1, 1));
    assert_eq!(reply.answer, Answer::Written { previous: None });
    assert_eq!(net.value("a", "k").as_deref(), Some("v1"));
    for id in ["a", "b", "c"] {
        assert_eq!(net.members[id].disk.entries.len() + net.members[id].disk.snapshot.last.index as usize, 1, "{id} has it on disk");
    }
}

#[test]
fn a_stale_master_gets_nothing_acknowledged_and_its_waiting_writes_are_unknown() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    // b takes over under epoch 2 while a does not hear of it.
    net.cut.insert(("b".into(), "a".into()));
    net.lead("b", 2);
    assert!(!net.replica("b").serving(), "b waits for a's answer to Sync");
    assert_eq!(net.members["c"].disk.epoch, 2, "c persisted epoch 2 before answering b");
    let conn = net.request("a", put("x", 1, "k", "stale"));
    net.run();
    assert_eq!(net.replies.get(&conn), Some(&Err(Refusal::Unknown)), "the stale master learns it is stale from c");
    assert!(!net.replica("a").serving());
    assert_eq!(net.value("c", "k"), None, "c refused the stale forward");
    assert_eq!(net.members["c"].disk.epoch, 2);
}

#[test]
fn a_new_master_adopts_the_longest_tail_and_a_retry_applies_once() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    net.cut.insert(("a".into(), "c".into())); // c hears nothing more from a
    let first = net.request("a", put("x", 1, "k", "one"));
    net.run();
    assert!(!net.replies.contains_key(&first));
    assert_eq!(net.value("b", "k").as_deref(), Some("one"));
    assert_eq!(net.value("c", "k"), None);
    // a dies; c becomes master: it must take b's tail before it serves.
    net.members.get_mut("a").unwrap().up = false;
    net.cut.clear();
    net.lead("c", 2);
    assert!(!net.replica("c").serving(), "c waits for every member's answer to Sync");
    net.tick(250);
    assert!(net.reconfigures.is_empty(), "not before the sync timeout");
    net.tick(100);
    net.reconfigure(); // a, silent since the sync began, is removed
    assert!(net.replica("c").serving());
    assert_eq!(net.value("c", "k").as_deref(), Some("one"), "c adopted b's tail");
    // The client retries its write with the same sequence number at c.
    let retry = net.request("c", put("x", 1, "k", "one"));
    net.run();
    let reply = net.ok(retry);
    assert_eq!((reply.epoch, reply.index), (1, 1), "answered from the client table, stamped when first written");
    let next = net.request("c", put("x", 2, "k", "two"));
    net.run();
    assert_eq!(net.ok(next).answer, Answer::Written { previous: Some("one".into()) });
    assert_eq!(net.replica("b").status().last.index, 2, "applied once: two entries in all");
}

#[test]
fn a_new_master_removes_the_master_the_election_judged_failed_at_once() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    net.members.get_mut("a").unwrap().up = false;
    net.lead("b", 2);
    assert!(net.reconfigures.is_empty());
    net.feed("b", Input::Failed { peer: "a".into() });
    let (_, epoch, _, members) = net.reconfigures.last().cloned().expect("b removes a without waiting for the sync timeout");
    assert_eq!((epoch, members), (2, vec!["b".to_string(), "c".to_string()]));
    net.reconfigure();
    assert!(net.replica("b").serving());
    // A hint about a member that answered, or when not syncing, changes nothing.
    net.feed("b", Input::Failed { peer: "c".into() });
    assert!(net.reconfigures.is_empty());
}

#[test]
fn requests_wait_while_a_new_master_syncs() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.cut.insert(("c".into(), "a".into())); // c's answer to Sync is lost
    net.lead("a", 1);
    assert!(!net.replica("a").serving());
    let conn = net.request("a", put("x", 1, "k", "v"));
    net.run();
    assert!(!net.replies.contains_key(&conn), "held while syncing");
    assert_eq!(net.value("b", "k"), None, "nothing forwarded while syncing");
    net.cut.clear();
    net.feed("a", Input::Connected { peer: "c".into() }); // a reconnect resends Sync
    net.run();
    assert!(net.replica("a").serving());
    assert_eq!(net.ok(conn).index, 1);
}

#[test]
fn a_silent_backup_is_removed_by_compare_and_swap_then_returns_by_state_transfer() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    net.members.get_mut("c").unwrap().up = false;
    let conn = net.request("a", put("x", 1, "k", "v1"));
    net.run();
    assert!(!net.replies.contains_key(&conn));
    net.tick(500);
    assert!(net.reconfigures.is_empty(), "not before the ack timeout");
    net.tick(600);
    let (_, epoch, expected, members) = net.reconfigures.last().cloned().expect("the master asks to remove c");
    assert_eq!((epoch, expected, members.clone()), (1, 1, vec!["a".to_string(), "b".to_string()]));
    assert!(!net.replies.contains_key(&conn), "no commit before the configuration changed");
    net.reconfigure();
    assert_eq!(net.ok(conn).index, 1, "committed without c once c is out");
    for i in 2..=9 {
        let conn = net.request("a", put("x", i, &format!("k{i}"), "v"));
        net.run();
        assert_eq!(net.ok(conn).index, i);
    }
    // c comes back from its disk (it missed everything), connects, gets
    // the state, and is added back.
    net.restart("c");
    net.feed("c", Input::Configured(net.config.clone()));
    net.feed("a", Input::Connected { peer: "c".into() });
    net.feed("c", Input::Connected { peer: "a".into() });
    net.run();
    assert!(net.notes.iter().any(|(id, n)| id == "a" && matches!(n, Note::Transfer { member, .. } if member == "c")));
    let (_, _, _, members) = net.reconfigures.last().cloned().expect("the master asks to add c back");
    assert_eq!(members, vec!["a", "b", "c"]);
    net.reconfigure();
    assert_eq!(net.value("c", "k9").as_deref(), Some("v"));
    let conn = net.request("a", put("x", 10, "k", "v10"));
    net.run();
    assert_eq!(net.ok(conn).index, 10);
    assert_eq!(net.value("c", "k").as_deref(), Some("v10"));
    assert_eq!(net.replica("a").status().backups.get("c"), Some(&10));
}

#[test]
fn a_backup_paused_past_the_ack_timeout_is_removed_and_comes_back_when_it_wakes() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    net.paused.insert("c".into()); // SIGSTOP: its connection stays up
    let conn = net.request("a", put("x", 1, "k", "v"));
    net.run();
    net.tick(1_100);
    net.reconfigure();
    assert_eq!(net.ok(conn).index, 1);
    net.paused.clear(); // SIGCONT: it reads everything queued, the Sync after its removal included
    net.run();
    let (_, _, _, members) = net.reconfigures.last().cloned().expect("c is brought back");
    assert_eq!(members, vec!["a", "b", "c"]);
    net.reconfigure();
    assert_eq!(net.value("c", "k").as_deref(), Some("v"));
}

#[test]
fn a_member_without_a_replica_is_never_waited_for_nor_removed() {
    let mut net = Net::new(&["a", "b"]);
    net.config.members.push("you".into()); // a browser member: no replica
    let mut c = cfg("a");
    c.passive = vec!["you".into()];
    net.members.get_mut("a").unwrap().replica = Replica::new(c, Recovered::default());
    net.feed("a", Input::Connected { peer: "b".into() });
    net.lead("a", 1);
    assert!(net.replica("a").serving(), "no Sync awaited from a member that holds no replica");
    net.members.get_mut("b").unwrap().up = false;
    net.request("a", put("x", 1, "k", "v"));
    net.run();
    net.tick(1_100);
    // Two replicas, one silent: one of two is no majority, so nobody is removed;
    // were `you` counted, two of three would remove b.
    assert!(net.reconfigures.is_empty(), "{:?}", net.reconfigures);
    let mut three = Net::new(&["a", "b", "c"]);
    three.config.members.push("you".into());
    let mut c = cfg("a");
    c.passive = vec!["you".into()];
    three.members.get_mut("a").unwrap().replica = Replica::new(c, Recovered::default());
    for p in ["b", "c"] {
        three.feed("a", Input::Connected { peer: p.into() });
    }
    three.lead("a", 1);
    three.members.get_mut("c").unwrap().up = false;
    three.request("a", put("x", 1, "k", "v"));
    three.run();
    three.tick(1_100);
    let (_, _, _, members) = three.reconfigures.last().cloned().expect("c is removed");
    assert_eq!(members, vec!["a", "b", "you"], "the member without a replica stays in the configuration");
}

#[test]
fn a_master_that_hears_no_majority_removes_nobody() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    net.members.get_mut("b").unwrap().up = false;
    net.members.get_mut("c").unwrap().up = false;
    net.request("a", put("x", 1, "k", "v"));
    net.run();
    net.tick(1_100);
    net.tick(1_100);
    assert!(net.reconfigures.is_empty(), "an isolated master must not remove everybody else");
}

#[test]
fn a_read_waits_for_one_round_and_sees_every_committed_write() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    let w = net.request("a", put("x", 1, "k", "v"));
    net.run();
    net.ok(w);
    net.cut.insert(("b".into(), "a".into()));
    let r = net.request("a", get("y", 1, "k"));
    net.run();
    assert!(!net.replies.contains_key(&r), "a read is answered only after every backup confirmed the epoch");
    net.cut.clear();
    net.tick(100);
    assert_eq!(net.ok(r).answer, Answer::Value { value: Some("v".into()) });
}

#[test]
fn bad_requests_are_refused_and_backups_redirect() {
    let mut net = Net::new(&["a", "b", "c"]);
    net.lead("a", 1);
    let long = "k".repeat(257);
    let c = net.request("a", put("x", 1, &long, "v"));
    assert!(matches!(&net.replies[&c], Err(Refusal::BadRequest { field, .. }) if field == "key"));
    let c = net.request("a", put("x", 0, "k", "v"));
    assert!(matches!(&net.replies[&c], Err(Refusal::BadRequest { field, .. }) if field == "seq"));
    let c = net.request("a", put("x", 1, "k", &"v".repeat(64 * 1024 + 1)));
    assert!(matches!(&net.replies[&c], Err(Refusal::BadRequest { field, .. }) if field == "value"));
    let c = net.request("b", put("x", 1, "k", "v"));
    assert_eq!(net.replies[&c], Err(Refusal::NotMaster { master: Some("a".into()) }));
    let c = net.request("a", put("x", 5, "k", "v"));
    net.run();
    net.ok(c);
    let c = net.request("a", put("x", 4, "k", "older"));
    assert_eq!(net.replies[&c], Err(Refusal::SequenceWentBack { client: "x".into(), seq: 4, last: 5 }));
    assert_eq!(net.value("b", "k").as_deref(), Some("v"), "nothing refused was applied");
}

#[test]
fn a_replica_outside_the_configuration_does_not_lead() {
    let mut net = Net::new(&["a", "b"]);
    let fresh = Replica::new(cfg("z"), Recovered::default());
    net.members.insert("z".into(), Member { replica: fresh, disk: Recovered::default(), up: true });
    net.feed("z", Input::Lead { epoch: 1, config: Membership::default() });
    let c = net.request("z", put("x", 1, "k", "v"));
    assert_eq!(net.replies[&c], Err(Refusal::NotMaster { master: None }), "no configuration known: it would commit alone");
    net.feed("z", Input::Lead { epoch: 2, config: net.config.clone() });
    let c = net.request("z", put("x", 1, "k", "v"));
    assert_eq!(net.replies[&c], Err(Refusal::NotMaster { master: None }), "not a member");
}

#[test]
fn compare_and_swap_and_delete() {
    let mut net = Net::new(&["a", "b"]);
    net.lead("a", 1);
    let cas = |seq, expected: Option<&str>, new: Option<&str>| Request {
        client: "x".into(),
        seq,
        op: Op::Cas { key: "k".into(), expected: expected.map(Into::into), new: new.map(Into::into) },
    };
    let c = net.request("a", cas(1, None, Some("1")));
    net.run();
    assert_eq!(net.ok(c).answer, Answer::Swapped { ok: true, current: Some("1".into()) });
    let c = net.request("a", cas(2, Some("0"), Some("2")));
    net.run();
    assert_eq!(net.ok(c).answer, Answer::Swapped { ok: false, current: Some("1".into()) });
    let c = net.request("a", Request { client: "x".into(), seq: 3, op: Op::Delete { key: "k".into() } });
    net.run();
    assert_eq!(net.ok(c).answer, Answer::Written { previous: Some("1".into()) });
    assert_eq!(net.value("b", "k"), None);
}

#[test]
fn a_restarted_replica_recovers_everything_it_acknowledged_across_snapshots() {
    let mut net = Net::new(&["a", "b"]);
    net.lead("a", 1);
    for i in 1..=11 {
        let c = net.request("a", put("x", i, &format!("k{}", i % 3), &format!("v{i}")));
        net.run();
        net.ok(c);
    }
    assert!(net.members["b"].disk.snapshot.last.index > 0, "the log was compacted");
    let before = net.replica("b").store().snapshot().clone();
    net.restart("b");
    assert_eq!(net.replica("b").store().snapshot(), &before);
    assert_eq!(net.replica("b").epoch(), 1);
}

/// Random schedules of requests, lost messages, reconnections, crashes,
/// restarts, competing masters and reconfigurations: no acknowledged write
/// is ever contradicted by a member of the final configuration, and no
/// index is acknowledged for two different writes (K6–K9).
#[cfg(not(target_arch = "wasm32"))]
mod schedules {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Step {
        Request { at: usize, client: usize, retry: bool },
        Deliver(usize),
        Lose(usize),
        Tick(u64),
        Lead(usize),
        Resign(usize),
        Restart(usize),
        Reconfigure,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            10 => (0..3usize, 0..3usize, any::<bool>()).prop_map(|(at, client, retry)| Step::Request { at, client, retry }),
            50 => (0..6usize).prop_map(Step::Deliver),
            2 => (0..6usize).prop_map(Step::Lose),
            6 => (50..1_200u64).prop_map(Step::Tick),
            2 => (0..3usize).prop_map(Step::Lead),
            1 => (0..3usize).prop_map(Step::Resign),
            1 => (0..3usize).prop_map(Step::Restart),
            6 => Just(Step::Reconfigure),
        ]
    }

    const IDS: [&str; 3] = ["a", "b", "c"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn no_acknowledged_write_is_contradicted(steps in prop::collection::vec(step(), 1..400)) {
            let mut net = Net::new(&IDS);
            // Logs that are never compacted, so the check sees every entry.
            for id in IDS {
                let mut c = cfg(id);
                c.snapshot_every = usize::MAX;
                net.members.get_mut(id).unwrap().replica = Replica::new(c, Recovered::default());
            }
            for id in IDS {
                net.feed(id, Input::Configured(net.config.clone()));
                for other in IDS.iter().filter(|o| **o != id) {
                    net.feed(id, Input::Connected { peer: other.to_string() });
                }
            }
            let mut epoch = 0;
            let mut seqs = [0u64; 3];
            let mut sent: BTreeMap<Conn, (String, u64)> = BTreeMap::new();
            for step in steps {
                match step {
                    Step::Request { at, client, retry } => {
                        if !retry || seqs[client] == 0 {
                            seqs[client] += 1;
                        }
                        let who = format!("x{client}");
                        let seq = seqs[client];
                        let conn = net.request(IDS[at], put(&who, seq, &format!("k{}", seq % 2), &format!("{who}-{seq}")));
                        sent.insert(conn, (who, seq));
                    }
                    Step::Deliver(n) | Step::Lose(n) => {
                        // Each connection is in order; connections are not
                        // in order with each other.
                        let mut links: Vec<(String, String)> = Vec::new();
                        for (f, t, _) in &net.queue {
                            if !links.contains(&(f.clone(), t.clone())) { links.push((f.clone(), t.clone())); }
                        }
                        if links.is_empty() { continue; }
                        let (from, to) = links[n % links.len()].clone();
                        let i = net.queue.iter().position(|(f, t, _)| *f == from && *t == to).unwrap();
                        let (from, to, msg) = net.queue.remove(i).unwrap();
                        if matches!(step, Step::Deliver(_)) && net.members[&to].up {
                            net.feed(&to, Input::Receive { from, msg });
                        } else {
                            // A lost message is a broken connection, seen by
                            // both ends: what it still carried is lost too.
                            net.queue.retain(|(f, t, _)| !(*f == from && *t == to || *f == to && *t == from));
                            net.feed(&from, Input::Disconnected { peer: to.clone() });
                            net.feed(&to, Input::Disconnected { peer: from.clone() });
                            net.feed(&from, Input::Connected { peer: to.clone() });
                            net.feed(&to, Input::Connected { peer: from.clone() });
                        }
                    }
                    Step::Tick(ms) => {
                        net.now += Span::from_ms(ms);
                        for id in IDS {
                            if net.replica(id).poll_timeout().is_some_and(|t| t <= net.now) {
                                net.feed(id, Input::Timer);
                            }
                        }
                    }
                    Step::Lead(i) => {
                        if net.config.members.iter().any(|m| m == IDS[i]) {
                            epoch += 1;
                            let config = net.config.clone();
                            net.feed(IDS[i], Input::Lead { epoch, config });
                        }
                    }
                    Step::Resign(i) => net.feed(IDS[i], Input::StepDown),
                    Step::Restart(i) => {
                        // Messages in flight to or from it are lost with it.
                        net.queue.retain(|(f, t, _)| f != IDS[i] && t != IDS[i]);
                        net.restart(IDS[i]);
                        net.feed(IDS[i], Input::Configured(net.config.clone()));
                        for other in IDS.iter().filter(|o| **o != IDS[i]) {
                            net.feed(other, Input::Disconnected { peer: IDS[i].into() });
                            net.feed(other, Input::Connected { peer: IDS[i].into() });
                            net.feed(IDS[i], Input::Connected { peer: other.to_string() });
                        }
                    }
                    Step::Reconfigure => {
                        let Some((who, e, expected, members)) = net.reconfigures.pop() else { continue };
                        // The name server's compare-and-swap, from the holder of the highest epoch only.
                        if expected == net.config.version && e == epoch {
                            net.config = Membership { version: expected + 1, members };
                            for id in IDS {
                                net.feed(id, Input::Configured(net.config.clone()));
                            }
                        } else {
                            net.feed(&who, Input::ReconfigureFailed);
                        }
                    }
                }
            }
            // Every acknowledged write, by index: never two different ones.
            let mut acked: BTreeMap<Index, (String, u64)> = BTreeMap::new();
            for (conn, result) in &net.replies {
                let (Ok(reply), Some((client, seq))) = (result, sent.get(conn)) else { continue };
                if let Some(prev) = acked.insert(reply.index, (client.clone(), *seq)) {
                    prop_assert!(prev.0 == *client && prev.1 == *seq, "index {} acknowledged for {prev:?} and {client} {seq}", reply.index);
                }
            }
            // Every member of the final configuration that holds an
            // acknowledged index holds that very write there.
            for id in &net.config.members {
                let disk = &net.members[id].disk;
                for e in &disk.entries {
                    if let Some((client, seq)) = acked.get(&e.stamp.index) {
                        prop_assert!(e.client == *client && e.seq == *seq, "{id} holds {e:?} where {client} {seq} was acknowledged");
                    }
                }
            }
        }
    }
}
