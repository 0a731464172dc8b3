//! What a group of leader-electing processes looks like from outside: the
//! [`Cluster`] trait, the [`Poller`] threads that watch every member, and
//! [`wait`], which polls until a condition holds and fails early when a
//! process dies.
//!
//! **How time is measured.** One thread per watched member (or a share of
//! the members, for large groups) asks it for its state again and again and
//! records when it first saw each leader and role ([`Watch::since`]). A
//! failover ends at the first instant every survivor had been seen naming
//! the same new leader and that leader had been seen saying it leads; the
//! instants are response times, so each measurement is late by at most one
//! poll interval plus one request round trip.

use super::HarnessError;
use reqwest::blocking::Client;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a poller keeps of one member: how to ask it, and how to fold the
/// answer into what was seen.
pub trait Watch: Clone + Send + 'static {
    /// How a member names the leader it follows.
    type Id: Clone + PartialEq;
    /// The answer to one request.
    type Reply: Send;
    /// What a poller has seen before any answer.
    fn blank(now: Instant) -> Self;
    /// One request, made without holding the poller's lock.
    fn fetch(client: &Client, addr: SocketAddr) -> Option<Self::Reply>;
    /// Folds an answer (`None`: no answer) received at `at`.
    fn apply(&mut self, got: Option<Self::Reply>, at: Instant);
    /// The last request was answered by a member that takes part.
    fn answering(&self) -> bool;
    /// The leader this member follows (itself when it leads).
    fn leader(&self) -> Option<Self::Id>;
    /// This member says it leads.
    fn leads(&self) -> bool;
    /// When the current leader and role were first seen.
    fn since(&self) -> Instant;
    /// Connected to every other of `n` members (where that is known).
    fn fully_connected(&self, _n: usize) -> bool {
        true
    }
    /// What this member says, for messages: `Master`, `follows e2 (term 3)`,
    /// `silent`; `name` turns a leader id into a member name.
    fn says(&self, name: &dyn Fn(&Self::Id) -> String) -> String;
}

/// A group of real processes that elects a leader: a stagger group or an
/// etcd cluster. Members are rows `0..len()`.
pub trait Cluster {
    type Seen: Watch;
    /// The members' names, by row.
    fn names(&self) -> &[String];
    /// Where each member is asked for its state, by row.
    fn watched(&self) -> &[SocketAddr];
    /// The row of the member a leader id names.
    fn row_of(&self, id: &<Self::Seen as Watch>::Id) -> Option<usize>;
    /// Starts (or restarts) member `row`.
    fn start(&mut self, row: usize) -> Result<(), HarnessError>;
    /// SIGKILL: no goodbye to anyone.
    fn kill(&mut self, row: usize);
    /// An error naming the first member whose process exited on its own.
    fn check_alive(&mut self) -> Result<(), HarnessError>;
    /// Saves what the members know (traces, logs) to a folder that
    /// outlives the run.
    fn evidence(&self, label: &str) -> Option<PathBuf>;

    fn len(&self) -> usize {
        self.names().len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn start_all(&mut self) -> Result<(), HarnessError> {
        (0..self.len()).try_for_each(|i| self.start(i))
    }

    /// After the survivors agreed on `winner`, whether what they say has
    /// settled enough to be recorded (etcd: the new term shows).
    fn settled(&self, _before: &[Self::Seen], _now: &[Self::Seen], _winner: usize) -> bool {
        true
    }

    /// See [`agreement`].
    fn agreement(&self, seen: &[Self::Seen], who: &[usize]) -> Option<(usize, Instant)> {
        agreement(seen, who, |id| self.row_of(id))
    }

    /// [`agreement`] among all members, each connected to all the others.
    fn healthy(&self, seen: &[Self::Seen]) -> Option<usize> {
        let all: Vec<usize> = (0..self.len()).collect();
        let (row, _) = self.agreement(seen, &all)?;
        seen.iter().all(|o| o.fully_connected(self.len())).then_some(row)
    }

    /// Who says what: `s0 Master, s1 Backup of s0, s2 silent, …`.
    fn roles(&self, seen: &[Self::Seen]) -> String {
        let name = |id: &<Self::Seen as Watch>::Id| self.row_of(id).map_or_else(|| "?".to_string(), |r| self.names()[r].clone());
        self.names().iter().zip(seen).map(|(n, o)| format!("{n} {}", o.says(&name))).collect::<Vec<_>>().join(", ")
    }
}

/// Every member of `who` answers and names the same leader, which is one of
/// `who` (`row_of` maps a leader id to its row) and the only one saying it
/// leads. Returns the leader's row and when the last of them was first seen
/// in that state. A killed member is not in `who`, so survivors still
/// naming it do not agree.
pub fn agreement<W: Watch>(seen: &[W], who: &[usize], row_of: impl Fn(&W::Id) -> Option<usize>) -> Option<(usize, Instant)> {
    let leader = seen[*who.first()?].leader()?;
    let row = row_of(&leader)?;
    if !who.contains(&row) {
        return None;
    }
    let mut since = seen[who[0]].since();
    for &i in who {
        let o = &seen[i];
        if !o.answering() || o.leader().as_ref() != Some(&leader) || o.leads() != (i == row) {
            return None;
        }
        since = since.max(o.since());
    }
    Some((row, since))
}

struct PollShared<W> {
    addrs: Vec<SocketAddr>,
    seen: Mutex<Vec<W>>,
    stop: AtomicBool,
    interval_us: AtomicU64,
    client: Client,
}

/// Threads that keep asking every member for its state.
pub struct Poller<W: Watch> {
    shared: Arc<PollShared<W>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl<W: Watch> Poller<W> {
    /// `threads` threads share the members; each request gives up after
    /// `timeout`.
    pub fn start(addrs: &[SocketAddr], threads: usize, interval: Duration, timeout: Duration) -> Poller<W> {
        let blank = W::blank(Instant::now());
        let shared = Arc::new(PollShared {
            addrs: addrs.to_vec(),
            seen: Mutex::new(vec![blank; addrs.len()]),
            stop: AtomicBool::new(false),
            interval_us: AtomicU64::new(interval.as_micros() as u64),
            client: super::poll_client(timeout),
        });
        let threads = threads.clamp(1, addrs.len().max(1));
        let handles = (0..threads)
            .map(|t| {
                let sh = shared.clone();
                std::thread::spawn(move || poll_loop(&sh, t, threads))
            })
            .collect();
        Poller { shared, threads: handles }
    }

    /// One thread per member of `c`.
    pub fn each<C: Cluster<Seen = W>>(c: &C, interval: Duration, timeout: Duration) -> Poller<W> {
        Poller::start(c.watched(), c.len(), interval, timeout)
    }

    pub fn set_interval(&self, d: Duration) {
        self.shared.interval_us.store(d.as_micros() as u64, Ordering::SeqCst);
    }

    pub fn snapshot(&self) -> Vec<W> {
        self.shared.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl<W: Watch> Drop for Poller<W> {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn poll_loop<W: Watch>(sh: &PollShared<W>, first: usize, step: usize) {
    while !sh.stop.load(Ordering::SeqCst) {
        for i in (first..sh.addrs.len()).step_by(step) {
            let got = W::fetch(&sh.client, sh.addrs[i]);
            let at = Instant::now();
            sh.seen.lock().unwrap_or_else(|p| p.into_inner())[i].apply(got, at);
        }
        let wait = Duration::from_micros(sh.interval_us.load(Ordering::SeqCst));
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

/// Checks `ok` on a fresh snapshot every millisecond until it returns
/// something or `limit` passes; every 200 ms a member process that died
/// fails the wait.
pub fn wait<C: Cluster, T>(
    c: &mut C,
    p: &Poller<C::Seen>,
    limit: Duration,
    ok: impl Fn(&C, &[C::Seen]) -> Option<T>,
) -> Result<Option<T>, HarnessError> {
    let start = Instant::now();
    let mut checked = Instant::now();
    loop {
        if let Some(x) = ok(c, &p.snapshot()) {
            return Ok(Some(x));
        }
        if start.elapsed() > limit {
            return Ok(None);
        }
        if checked.elapsed() > Duration::from_millis(200) {
            c.check_alive()?;
            checked = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until every member agrees on one leader, fully connected.
pub fn healthy<C: Cluster>(c: &mut C, p: &Poller<C::Seen>, limit: Duration) -> Result<Option<usize>, HarnessError> {
    wait(c, p, limit, |c, o| c.healthy(o))
}
