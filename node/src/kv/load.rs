//! The load generator: several clients at once over a few keys, each
//! operation recorded in one [`History`] for the checker (`stagger client
//! load`, the fault tests).

use super::client::{Client, Settings};
use stagger_core::service::{Answer, History, HistoryEvent as Event, Op, Outcome};
use stagger_core::Rng;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What load to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Keys `k0` … `k{keys-1}`.
    pub keys: usize,
    pub clients: usize,
    pub duration: Duration,
    /// Draws the operations and the clients' jitter.
    pub seed: u64,
    /// The share of `get`s; the writes are 80 % `put`, 10 % `cas` (expecting
    /// the value the client last saw) and 10 % `delete`.
    pub read_ratio: f64,
}

impl Spec {
    /// Refuses a load that makes no sense, naming the flag.
    pub fn check(&self) -> Result<(), String> {
        if self.keys == 0 || self.keys > 100_000 {
            return Err(format!("--keys: 1 to 100000 keys (got {})", self.keys));
        }
        if self.clients == 0 || self.clients > 1_000 {
            return Err(format!("--clients: 1 to 1000 clients (got {})", self.clients));
        }
        if self.duration.is_zero() || self.duration > Duration::from_secs(24 * 3600) {
            return Err(format!("--seconds: more than 0 and at most a day (got {:?})", self.duration));
        }
        if !(0.0..=1.0).contains(&self.read_ratio) {
            return Err(format!("--read-ratio: between 0 and 1 (got {})", self.read_ratio));
        }
        Ok(())
    }
}

/// What the load has done so far, for a progress display; and a way to
/// stop it early.
#[derive(Debug, Default)]
pub struct Tally {
    pub ok: AtomicU64,
    pub fail: AtomicU64,
    pub unknown: AtomicU64,
    /// Write operations invoked (whatever their outcome).
    pub writes: AtomicU64,
    /// The master and epoch of the latest `ok` reply.
    master: Mutex<Option<(String, u64)>>,
    stop: AtomicBool,
    /// When the history's clock started.
    started: OnceLock<Instant>,
}

impl Tally {
    /// Ends the load after each client's current operation.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Now on the history's clock (milliseconds since the load began), to
    /// set a fault's instant beside the events; 0 before it began.
    pub fn now_ms(&self) -> f64 {
        self.started.get().map_or(0.0, |s| s.elapsed().as_secs_f64() * 1000.0)
    }

    pub fn master(&self) -> Option<(String, u64)> {
        self.master.lock().ok().and_then(|m| m.clone())
    }

    pub fn done(&self) -> u64 {
        self.ok.load(Ordering::Relaxed) + self.fail.load(Ordering::Relaxed) + self.unknown.load(Ordering::Relaxed)
    }

    fn record(&self, e: &Event, master: Option<&str>) {
        let counter = match e.outcome {
            Outcome::Ok => &self.ok,
            Outcome::Fail => &self.fail,
            Outcome::Unknown => &self.unknown,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let (Some(epoch), Ok(mut m)) = (e.epoch, self.master.lock()) {
            if m.as_ref().is_none_or(|(_, seen)| *seen <= epoch) {
                *m = Some((master.unwrap_or("?").to_owned(), epoch));
            }
        }
    }

    /// One line: ops so far and per second, outcomes, the master.
    pub fn line(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(1e-3);
        let master = self.master().map_or("none yet".into(), |(m, e)| format!("{m} under epoch {e}"));
        format!(
            "{:6.1} s  {} ops ({:.0}/s)  ok {}  fail {}  unknown {}  master {master}",
            secs,
            self.done(),
            self.done() as f64 / secs,
            self.ok.load(Ordering::Relaxed),
            self.fail.load(Ordering::Relaxed),
            self.unknown.load(Ordering::Relaxed),
        )
    }
}

/// A tag new to each run, so that its client ids are new to the group
/// (the service refuses a sequence number that went back).
pub fn run_tag() -> String {
    let mut bytes = [0u8; 3];
    getrandom::getrandom(&mut bytes).expect("the OS gives random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `spec` against `group` until its duration passes or `tally` is
/// stopped; every operation's event, in invocation order. Client ids are
/// `{tag}-c{i}`, written values `{tag}-c{i}-{seq}`: unique, as the direct
/// checks require.
pub async fn run(nameserver: &str, group: &str, spec: &Spec, settings: Settings, tally: Arc<Tally>) -> History {
    let start = *tally.started.get_or_init(Instant::now);
    let tag = run_tag();
    let mut seeds = Rng::new(spec.seed);
    let tasks: Vec<_> = (0..spec.clients)
        .map(|i| {
            let client = Client::new(&format!("{tag}-c{i}"), nameserver, group, start, seeds.next_u64(), settings);
            let rng = Rng::new(seeds.next_u64());
            tokio::spawn(one_client(client, rng, spec.clone(), start, tally.clone()))
        })
        .collect();
    let mut events = Vec::new();
    for t in tasks {
        events.extend(t.await.expect("a load client does not panic"));
    }
    events.sort_by(|a, b| a.invoke_ms.total_cmp(&b.invoke_ms));
    History { events }
}

async fn one_client(mut client: Client, mut rng: Rng, spec: Spec, start: Instant, tally: Arc<Tally>) -> Vec<Event> {
    let mut seen: HashMap<String, Option<String>> = HashMap::new();
    let mut events = Vec::new();
    while start.elapsed() < spec.duration && !tally.stop.load(Ordering::SeqCst) {
        let key = format!("k{}", rng.below(spec.keys as u64));
        let value = format!("{}-{}", client.id(), events.len() + 1);
        let op = if rng.unit() < spec.read_ratio {
            Op::Get { key }
        } else {
            match rng.below(10) {
                0 => Op::Delete { key },
                1 => Op::Cas { expected: seen.get(&key).cloned().flatten(), key, new: Some(value) },
                _ => Op::Put { key, value },
            }
        };
        if op.writes() {
            tally.writes.fetch_add(1, Ordering::Relaxed);
        }
        let e = client.run(op).await;
        let now = match (&e.op, &e.answer) {
            (Op::Get { .. }, Some(Answer::Value { value })) => Some(value.clone()),
            (Op::Put { value, .. }, Some(_)) => Some(Some(value.clone())),
            (Op::Delete { .. }, Some(_)) => Some(None),
            (_, Some(Answer::Swapped { current, .. })) => Some(current.clone()),
            _ => None,
        };
        if let Some(v) = now {
            seen.insert(e.op.key().to_owned(), v);
        }
        tally.record(&e, client.master().and_then(|m| m.id.as_deref()));
        events.push(e);
    }
    events
}

/// Reads every key of `spec` through one new client: what the direct check
/// of lost writes compares with. A key whose read does not succeed is
/// left out, and its error returned.
pub async fn read_all(nameserver: &str, group: &str, keys: usize, settings: Settings) -> (BTreeMap<String, Option<String>>, Vec<String>) {
    let mut client = Client::new(&format!("{}-reader", run_tag()), nameserver, group, Instant::now(), 1, settings);
    let (mut values, mut errors) = (BTreeMap::new(), Vec::new());
    for k in 0..keys {
        let key = format!("k{k}");
        match client.call(Op::Get { key: key.clone() }).await.1 {
            Ok(reply) => match reply.answer {
                Answer::Value { value } => {
                    values.insert(key, value);
                }
                other => errors.push(format!("get {key} answered {other:?}")),
            },
            Err(e) => errors.push(format!("get {key}: {e}")),
        }
    }
    (values, errors)
}

/// What `stagger client load` prints at the end: counts, rate, latency of
/// the `ok` operations, the epochs seen, and the first error of each kind.
pub fn summary(history: &History, elapsed: Duration) -> String {
    let count = |o| history.events.iter().filter(|e| e.outcome == o).count();
    let writes = history.events.iter().filter(|e| e.op.writes()).count();
    let secs = elapsed.as_secs_f64().max(1e-3);
    let mut text = format!(
        "{} operations in {secs:.1} s ({:.0}/s): {} ok, {} fail, {} unknown; {writes} of them writes",
        history.events.len(),
        history.events.len() as f64 / secs,
        count(Outcome::Ok),
        count(Outcome::Fail),
        count(Outcome::Unknown),
    );
    let mut latency: Vec<f64> = history.events.iter().filter(|e| e.outcome == Outcome::Ok).map(|e| e.complete_ms - e.invoke_ms).collect();
    latency.sort_by(f64::total_cmp);
    if !latency.is_empty() {
        // Nearest rank, as the benchmarks take it.
        let rank = |p: f64| latency[((p * latency.len() as f64).ceil() as usize).clamp(1, latency.len()) - 1];
        text += &format!("\nlatency of the ok ones: median {:.1} ms, p99 {:.1} ms, max {:.1} ms", rank(0.5), rank(0.99), rank(1.0));
    }
    let epochs: std::collections::BTreeSet<u64> = history.events.iter().filter_map(|e| e.epoch).collect();
    if !epochs.is_empty() {
        text += &format!("\nepochs of the replies: {}", epochs.iter().map(u64::to_string).collect::<Vec<_>>().join(", "));
    }
    for (outcome, name) in [(Outcome::Fail, "fail"), (Outcome::Unknown, "unknown")] {
        if let Some(e) = history.events.iter().find(|e| e.outcome == outcome) {
            text += &format!("\nfirst {name}: {}#{}: {}", e.client, e.seq, e.error.as_deref().unwrap_or("?"));
        }
    }
    text
}
