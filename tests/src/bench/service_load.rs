//! The write load both sides of the service benchmarks get: concurrent
//! clients, each on its own kept-alive HTTP connection, putting unique
//! values for as long as asked, the same way to a Stagger master (its
//! `POST /api/kv`) and to etcd (its JSON gateway, `POST /v3/kv/put`), so
//! the two are timed by one piece of code.
//!
//! A write that fails is sent again (the same sequence number, for
//! Stagger, whose client table applies it once) after a short backoff,
//! to the master the name server names (Stagger) or to the next member
//! (etcd), until it succeeds or its deadline passes.

use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One request's limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// A write not done after this long counts as failed (its outcome unknown).
pub const WRITE_DEADLINE: Duration = Duration::from_secs(15);

/// Where writes go.
pub trait Target: Sync {
    /// One attempt at `put key value` for client `who`'s write `seq`.
    fn put(&self, http: &Client, who: usize, seq: u64, key: &str, value: &str) -> Result<(), String>;
    /// After a failed attempt: find where to send the next one.
    fn failed(&self, http: &Client);
}

/// One write, from its first attempt to its answer.
#[derive(Clone, Copy, Debug)]
pub struct Write {
    pub invoked: Instant,
    pub done: Instant,
    pub ok: bool,
    pub attempts: u32,
}

impl Write {
    pub fn ms(&self) -> f64 {
        self.done.saturating_duration_since(self.invoked).as_secs_f64() * 1000.0
    }
}

/// An HTTP client that keeps its connection open.
pub fn http() -> Client {
    Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .tcp_nodelay(true)
        .no_proxy()
        .pool_max_idle_per_host(1)
        .build()
        .expect("an HTTP client without TLS builds")
}

/// What the writers report as they go: when a write last succeeded.
pub struct Flow {
    t0: Instant,
    /// Microseconds after `t0` of the last success, plus one (0: none yet).
    last_ok: AtomicU64,
}

impl Default for Flow {
    fn default() -> Flow {
        Flow { t0: Instant::now(), last_ok: AtomicU64::new(0) }
    }
}

impl Flow {
    fn ok(&self) {
        self.last_ok.fetch_max(self.t0.elapsed().as_micros() as u64 + 1, Ordering::Relaxed);
    }

    /// When a write last succeeded.
    pub fn last_ok(&self) -> Option<Instant> {
        match self.last_ok.load(Ordering::Relaxed) {
            0 => None,
            us => Some(self.t0 + Duration::from_micros(us - 1)),
        }
    }
}

/// Runs `clients` writers against `target` until `stop`, over `keys` keys,
/// and returns every write each did.
pub fn run(target: &dyn Target, clients: usize, keys: usize, stop: &AtomicBool, flow: &Flow) -> Vec<Write> {
    let all = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for who in 0..clients {
            let all = &all;
            s.spawn(move || {
                let mine = writer(target, who, keys, stop, flow);
                all.lock().unwrap_or_else(|p| p.into_inner()).extend(mine);
            });
        }
    });
    let mut all = all.into_inner().unwrap_or_else(|p| p.into_inner());
    all.sort_by_key(|w| w.invoked);
    all
}

fn writer(target: &dyn Target, who: usize, keys: usize, stop: &AtomicBool, flow: &Flow) -> Vec<Write> {
    let http = http();
    let mut writes = Vec::new();
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let key = format!("k{}", (who as u64 * 7919 + seq) % keys as u64);
        let value = format!("c{who}-{seq}");
        let invoked = Instant::now();
        let mut attempts = 0;
        let mut backoff = Duration::from_millis(5);
        let ok = loop {
            attempts += 1;
            match target.put(&http, who, seq, &key, &value) {
                Ok(()) => {
                    flow.ok();
                    break true;
                }
                Err(_) if invoked.elapsed() < WRITE_DEADLINE && !stop.load(Ordering::Relaxed) => {
                    target.failed(&http);
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(100));
                }
                Err(_) => break false,
            }
        };
        writes.push(Write { invoked, done: Instant::now(), ok, attempts });
    }
    writes
}

/// A Stagger group's master, found through its name server.
pub struct Stagger {
    lookup: String,
    group: String,
    master: Mutex<Option<String>>,
}

impl Stagger {
    pub fn new(nameserver: &str, group: &str) -> Stagger {
        Stagger { lookup: format!("{nameserver}/v1/groups/{group}"), group: group.into(), master: Mutex::new(None) }
    }

    fn master(&self) -> Option<String> {
        self.master.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, addr: Option<String>) {
        *self.master.lock().unwrap_or_else(|p| p.into_inner()) = addr;
    }
}

impl Target for Stagger {
    fn put(&self, http: &Client, who: usize, seq: u64, key: &str, value: &str) -> Result<(), String> {
        let Some(addr) = self.master() else {
            return Err("no master known".into());
        };
        let body = json!({"client": format!("bench-{who}"), "seq": seq, "op": "put", "key": key, "value": value});
        let r = http.post(format!("http://{addr}/api/kv?group={}", self.group)).json(&body).send().map_err(|e| e.to_string())?;
        let status = r.status();
        if status.is_success() {
            return Ok(());
        }
        let v: Value = r.json().unwrap_or(Value::Null);
        if let Some(a) = v["addr"].as_str() {
            self.set(Some(a.to_string())); // Redirected by a backup.
        }
        Err(format!("{status}: {v}"))
    }

    fn failed(&self, http: &Client) {
        let found = http.get(&self.lookup).send().ok().and_then(|r| r.json::<Value>().ok());
        self.set(found.and_then(|v| v["master"]["addr"].as_str().map(str::to_string)));
    }
}

/// An etcd cluster, written through its JSON gateway; the first URL is
/// tried first (give the leader's), the next one after each failure.
pub struct Etcd {
    urls: Vec<String>,
    at: AtomicUsize,
}

impl Etcd {
    pub fn new(urls: Vec<String>) -> Etcd {
        Etcd { urls, at: AtomicUsize::new(0) }
    }
}

impl Target for Etcd {
    fn put(&self, http: &Client, _who: usize, _seq: u64, key: &str, value: &str) -> Result<(), String> {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let url = &self.urls[self.at.load(Ordering::Relaxed) % self.urls.len()];
        let body = json!({"key": b64(key), "value": b64(value)});
        let r = http.post(format!("{url}/v3/kv/put")).json(&body).send().map_err(|e| e.to_string())?;
        let status = r.status();
        if status.is_success() {
            // The gateway answers 200 with an error object when the put failed.
            let v: Value = r.json().map_err(|e| e.to_string())?;
            return if v.get("error").is_some() || v.get("code").is_some() { Err(v.to_string()) } else { Ok(()) };
        }
        Err(format!("{status}: {}", r.text().unwrap_or_default()))
    }

    fn failed(&self, _http: &Client) {
        self.at.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a run of writes shows: rate and latency of those that succeeded
/// in `[from, until)`.
pub fn rate(writes: &[Write], from: Instant, until: Instant) -> (f64, Vec<f64>, usize) {
    let inside: Vec<&Write> = writes.iter().filter(|w| w.invoked >= from && w.done < until).collect();
    let ok: Vec<f64> = inside.iter().filter(|w| w.ok).map(|w| w.ms()).collect();
    let failed = inside.iter().filter(|w| !w.ok).count();
    let secs = until.saturating_duration_since(from).as_secs_f64().max(1e-9);
    (ok.len() as f64 / secs, ok, failed)
}

/// The window in which no write completed after `kill`: the longest gap
/// between two successful completions from the last one before the kill
/// until `until` (the next kill, or the end), in ms. Writes answered just
/// before the kill may be read just after it, so the gap that matters is
/// the longest, not the first. `None` when no write completed after it.
pub fn window(writes: &[Write], kill: Instant, until: Option<Instant>) -> Option<f64> {
    let mut done: Vec<Instant> = writes.iter().filter(|w| w.ok && until.is_none_or(|u| w.done < u)).map(|w| w.done).collect();
    done.sort();
    let first = done.partition_point(|d| *d <= kill).checked_sub(1);
    let from = first.map_or(kill, |i| done[i]);
    let after = &done[first.map_or(0, |i| i + 1)..];
    after.first()?;
    let gaps = std::iter::once(from).chain(after.iter().copied()).collect::<Vec<_>>();
    let widest = gaps.windows(2).map(|p| p[1].saturating_duration_since(p[0])).max().unwrap_or_default();
    Some(widest.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t0: Instant, from: u64, to: u64, ok: bool) -> Write {
        Write { invoked: t0 + Duration::from_millis(from), done: t0 + Duration::from_millis(to), ok, attempts: 1 }
    }

    #[test]
    fn the_window_runs_from_the_last_completion_before_the_kill_to_the_first_after() {
        let t0 = Instant::now();
        let writes = [
            w(t0, 0, 10, true),
            w(t0, 5, 40, true),
            w(t0, 30, 46, true), // answered before the kill, read just after it
            w(t0, 41, 900, true),
            w(t0, 42, 1200, false),
            w(t0, 50, 700, true),
            w(t0, 900, 905, true),
        ];
        let kill = t0 + Duration::from_millis(45);
        let got = window(&writes, kill, None).unwrap();
        assert!((got - 654.0).abs() < 1e-6, "the widest gap, 46 -> 700 ms: {got}");
        let got = window(&writes, kill, Some(t0 + Duration::from_millis(600))).unwrap();
        assert!((got - 6.0).abs() < 1e-6, "only completions before the next kill count: {got}");
        assert_eq!(window(&writes[..2], kill, None), None, "nothing completed after the kill");
    }

    #[test]
    fn the_rate_counts_only_successes_inside_the_interval() {
        let t0 = Instant::now();
        let writes = [w(t0, 0, 10, true), w(t0, 100, 110, true), w(t0, 200, 260, false), w(t0, 990, 1010, true)];
        let (per_s, lat, failed) = rate(&writes, t0, t0 + Duration::from_secs(1));
        assert!((per_s - 2.0).abs() < 1e-9, "{per_s}");
        assert_eq!(lat.len(), 2);
        assert_eq!(failed, 1);
    }
}
