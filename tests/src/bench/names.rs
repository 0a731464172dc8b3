//! `stagger-bench names`: the name server's registration latency and lookup
//! throughput on 127.0.0.1, against a real `stagger nameserver` process
//! over HTTP (`docs/benchmarks.md`, "Name server", has the numbers).
//!
//! Every time is the client's view: from just before a request is sent until
//! its answer has been read. Each operation is timed twice: on a new
//! connection per request (what a node's registrar and `stagger client` do)
//! and on one kept-alive connection (the server's own cost without the TCP
//! handshake). A registration of a fresh member is a takeover (N2) and is
//! durable before it is answered; a renewal is not written (N8). The
//! throughput runs keep one connection per client thread.

use super::docs::publish;
use super::machine::{loadavg, machine, machine_line};
use super::names_backend::{Backend, Backing};
use super::{fail, r3, summary, BenchError};
use crate::harness::nameserver::NameServer;
use crate::harness::poll_client;
use clap::Args;
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The group the benchmark registers in.
const GROUP: &str = "bench-names";
/// The members that take over from each other.
const MEMBERS: [&str; 2] = ["a", "b"];
/// The lease asked for: long enough not to expire during the run.
const TTL_MS: u64 = 30_000;
/// How long one request may take before it counts as an error.
const TIMEOUT: Duration = Duration::from_secs(5);
/// fdatasync probes before and after the timed requests.
const PROBES: u32 = 300;

#[derive(Args, Debug)]
pub struct NamesArgs {
    /// The name server's backend: `embedded` (its state in a folder) or
    /// `etcd` (a 3-member etcd cluster started for the run).
    #[arg(long, value_enum, default_value_t = Backend::Embedded)]
    pub backend: Backend,
    /// Requests timed per operation and connection kind.
    #[arg(long, default_value_t = 1000)]
    pub requests: u32,
    /// Concurrent clients of the lookup throughput run (a run with one
    /// client comes first).
    #[arg(long, default_value_t = 4)]
    pub clients: u32,
    /// How long each throughput run lasts, in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Embedded backend only: where the name server keeps its state (a
    /// fresh folder is made inside; default: the system's temporary
    /// folder), to measure fsync on another file system.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Also write the tables into this Markdown file, between the markers
    /// `<!-- BEGIN generated: names-BACKEND -->` and its END.
    #[arg(long, value_name = "FILE")]
    pub docs: Option<PathBuf>,
}

impl NamesArgs {
    /// Arguments that make no sense, as the user's error.
    pub fn check(&self) -> Result<(), BenchError> {
        let usage = |m: &str| Err(BenchError::Usage(m.to_string()));
        if self.requests == 0 {
            return usage("--requests must be at least 1");
        }
        if self.clients == 0 || self.clients > 256 {
            return usage("--clients must be between 1 and 256");
        }
        if !(self.seconds.is_finite() && self.seconds > 0.0 && self.seconds <= 3600.0) {
            return usage("--seconds must be more than 0 and at most 3600");
        }
        if self.data.is_some() && self.backend == Backend::Etcd {
            return usage("--data is for the embedded backend; etcd keeps its state in its own folders");
        }
        Ok(())
    }

    /// The command line that reproduces the run.
    fn command(&self) -> String {
        let mut c = format!(
            "stagger-bench names --backend {} --requests {} --clients {} --seconds {}",
            self.backend.name(),
            self.requests,
            self.clients,
            self.seconds
        );
        if let Some(d) = &self.data {
            c += &format!(" --data {}", d.display());
        }
        c
    }
}

/// An HTTP client that keeps its connection open between requests.
fn keep_alive_client() -> Client {
    Client::builder().timeout(TIMEOUT).tcp_nodelay(true).no_proxy().build().expect("an HTTP client without TLS builds")
}

/// One request to the name server; the answer's JSON, or what went wrong
/// (the server's `reason` when it refused).
fn call(client: &Client, method: Method, url: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut r = client.request(method, url);
    if let Some(b) = body {
        r = r.json(b);
    }
    let r = r.send().map_err(|e| format!("{url}: {e}"))?;
    let status = r.status();
    let text = r.text().map_err(|e| format!("{url}: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{url}: {status}: not JSON ({e}): {text}"))?;
    if status.is_success() {
        Ok(v)
    } else {
        Err(format!("{url}: {status}: {}", v["reason"].as_str().unwrap_or(&text)))
    }
}

/// The operations timed one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Takeover,
    Renew,
    Lookup,
}

const OPS: [Op; 3] = [Op::Takeover, Op::Renew, Op::Lookup];
/// Connection kinds: a new connection per request, or one kept alive.
const KINDS: [&str; 2] = ["new_connection", "keep_alive"];

impl Op {
    fn key(self) -> &'static str {
        match self {
            Op::Takeover => "takeover",
            Op::Renew => "renew",
            Op::Lookup => "lookup",
        }
    }

    /// What the operation does on `backend`, for the table.
    fn label(self, backend: &str) -> &'static str {
        match (self, backend) {
            (Op::Takeover, "etcd") => "register a fresh member (takeover; an etcd transaction)",
            (Op::Takeover, _) => "register a fresh member (takeover; written and fsynced)",
            (Op::Renew, "etcd") => "renew the lease",
            (Op::Renew, _) => "renew the lease (memory only)",
            (Op::Lookup, _) => "lookup",
        }
    }
}

/// The name server's group and the state the timed requests carry along.
struct Bench<'a> {
    base: String,
    ranking_version: u64,
    epoch: u64,
    /// Every takeover was granted exactly the next epoch.
    epochs_by_one: bool,
    args: &'a NamesArgs,
}

impl Bench<'_> {
    fn url(&self, tail: &str) -> String {
        format!("{}/v1/groups/{GROUP}{tail}", self.base)
    }

    /// One request of `op` number `i`, timed in ms.
    fn once(&mut self, client: &Client, op: Op, i: u32) -> Result<f64, BenchError> {
        let (method, url, body) = match op {
            Op::Takeover => {
                let member = MEMBERS[i as usize % MEMBERS.len()];
                let body = json!({"member": member, "addr": "127.0.0.1:1", "ranking_version": self.ranking_version, "ttl_ms": TTL_MS});
                (Method::POST, self.url("/register"), Some(body))
            }
            Op::Renew => (Method::POST, self.url("/renew"), Some(json!({"epoch": self.epoch}))),
            Op::Lookup => (Method::GET, self.url(""), None),
        };
        let t = Instant::now();
        let got = call(client, method, &url, body.as_ref()).map_err(|e| fail(format!("{}: {e}", op.key())))?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if op == Op::Takeover {
            let epoch = got["epoch"].as_u64().ok_or_else(|| fail(format!("register answered without an epoch: {got}")))?;
            self.epochs_by_one &= epoch == self.epoch + 1;
            self.epoch = epoch;
        }
        Ok(ms)
    }
}

/// One throughput run.
struct Rate {
    clients: u32,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed_s: f64,
    latencies: Vec<f64>,
}

impl Rate {
    fn per_s(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.ok as f64 / self.elapsed_s
        } else {
            0.0
        }
    }

    fn json(&self) -> Value {
        json!({
            "clients": self.clients, "requests": self.ok, "errors": self.errors, "first_error": self.first_error,
            "seconds": r3(self.elapsed_s), "per_s": r3(self.per_s()), "latency_ms": summary(&self.latencies),
        })
    }
}

/// `clients` threads, each with its own kept-alive connection, looking the
/// group up as fast as answers come for `secs` seconds.
fn throughput(url: &str, clients: u32, secs: f64) -> Rate {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let per_thread: Vec<(Vec<f64>, u64, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(move || {
                    let client = keep_alive_client();
                    let (mut times, mut errors, mut first) = (Vec::new(), 0u64, None);
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        match call(&client, Method::GET, url, None) {
                            Ok(_) => times.push(t.elapsed().as_secs_f64() * 1000.0),
                            Err(e) => {
                                errors += 1;
                                first.get_or_insert(e);
                            }
                        }
                    }
                    (times, errors, first)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| (Vec::new(), 1, Some("a client thread panicked".into())))).collect()
    });
    let elapsed_s = start.elapsed().as_secs_f64();
    let mut rate = Rate { clients, ok: 0, errors: 0, first_error: None, elapsed_s, latencies: Vec::new() };
    for (times, errors, first) in per_thread {
        rate.ok += times.len() as u64;
        rate.errors += errors;
        rate.first_error = rate.first_error.or(first);
        rate.latencies.extend(times);
    }
    rate
}

pub(super) fn run(stagger: &Path, args: NamesArgs) -> Result<(), BenchError> {
    args.check()?;
    let say = |s: String| {
        if !args.json {
            eprintln!("{s}");
        }
    };
    let load_before = loadavg();
    let mut backing = Backing::start(args.backend, args.data.as_deref(), PROBES.min(args.requests), &say)?;
    let mut ns = NameServer::start(stagger, &backing.store)?;
    say(format!("name server at {}", ns.url()));
    let fresh = poll_client(TIMEOUT);
    let kept = keep_alive_client();
    let config = call(
        &kept,
        Method::PUT,
        &format!("{}/v1/groups/{GROUP}/config", ns.url()),
        Some(&json!({"expected_version": 0, "members": MEMBERS})),
    )
    .map_err(|e| fail(format!("creating the group: {e}")))?;
    let ranking_version =
        config["ranking_version"].as_u64().ok_or_else(|| fail(format!("the new group has no ranking_version: {config}")))?;
    let mut b = Bench { base: ns.url(), ranking_version, epoch: 0, epochs_by_one: true, args: &args };

    let mut latency = json!({});
    for op in OPS {
        for (kind, client) in KINDS.iter().zip([&fresh, &kept]) {
            say(format!("{} x {}, {}", b.args.requests, op.key(), kind.replace('_', " ")));
            let mut times = Vec::with_capacity(args.requests as usize);
            for i in 0..args.requests {
                times.push(b.once(client, op, i)?);
            }
            latency[op.key()][*kind] = summary(&times);
        }
    }
    // fsync's cost on a shared machine drifts with the others' I/O: probe
    // it again right after the timed requests.
    backing.probe("fdatasync_after_ms", PROBES.min(args.requests))?;
    let mut rates = Vec::new();
    let counts: Vec<u32> = if args.clients == 1 { vec![1] } else { vec![1, args.clients] };
    for c in counts {
        say(format!("lookups for {} s with {c} client{}", args.seconds, if c == 1 { "" } else { "s" }));
        rates.push(throughput(&b.url(""), c, args.seconds));
    }
    ns.check_alive()?;
    drop(ns);
    let backend_json = backing.json.clone();
    drop(backing);
    let out = json!({
        "bench": "names",
        "command": args.command(),
        "group": GROUP,
        "backend": backend_json,
        "requests": args.requests,
        "ttl_ms": TTL_MS,
        "epochs_rose_by_one": b.epochs_by_one,
        "last_epoch": b.epoch,
        "latency_ms": latency,
        "throughput": rates.iter().map(Rate::json).collect::<Vec<_>>(),
        "machine": machine(),
        "machine_line": machine_line(load_before),
        "load_average_before": load_before,
        "load_average_after": loadavg(),
    });
    let table = markdown(&out);
    publish(&out, &table, args.json, args.docs.as_deref(), &format!("names-{}", args.backend.name()))?;
    let errors: u64 = rates.iter().map(|r| r.errors).sum();
    if errors > 0 {
        let first = rates.iter().find_map(|r| r.first_error.clone()).unwrap_or_default();
        return Err(fail(format!("{errors} lookups failed during the throughput runs; the first: {first}")));
    }
    if !b.epochs_by_one {
        return Err(fail("a takeover was not granted exactly the next epoch (N1)"));
    }
    Ok(())
}

fn ms(v: &Value) -> String {
    v.as_f64().map_or("-".to_string(), |x| format!("{x:.3} ms"))
}

/// The report as Markdown: the command, the machine and its load, then one
/// table of latencies and one of throughput.
pub(super) fn markdown(out: &Value) -> String {
    let be = &out["backend"];
    let name = be["name"].as_str().unwrap_or("?");
    let mut s = format!("`{}`\n\n", out["command"].as_str().unwrap_or("stagger-bench names"));
    match name {
        "embedded" => {
            s += &format!(
                "Embedded backend, state on {} in `{}`; `write` + `fdatasync` of a 200-byte append there: median {}, p99 {} \
                 before the timed requests, median {}, p99 {} after them.\n",
                be["filesystem"].as_str().unwrap_or("an unknown file system"),
                be["data"].as_str().unwrap_or("?"),
                ms(&be["fdatasync_ms"]["median"]),
                ms(&be["fdatasync_ms"]["p99"]),
                ms(&be["fdatasync_after_ms"]["median"]),
                ms(&be["fdatasync_after_ms"]["p99"]),
            )
        }
        _ => {
            s += &format!(
                "etcd backend: {} members of etcd {} on 127.0.0.1 (heartbeat {} ms, election timeout {} ms, data on disk).\n",
                be["members"],
                be["version"].as_str().unwrap_or("?"),
                be["heartbeat_interval_ms"],
                be["election_timeout_ms"],
            )
        }
    }
    s += &format!("{}.\n\n", out["machine_line"].as_str().unwrap_or("machine: unknown"));
    s += "| operation | connection | requests | median | p90 | p99 | max | mean |\n|---|---|---:|---:|---:|---:|---:|---:|\n";
    for op in OPS {
        for kind in KINDS {
            let v = &out["latency_ms"][op.key()][kind];
            s += &format!(
                "| {} | {} | {} | **{}** | {} | **{}** | {} | {} |\n",
                op.label(name),
                kind.replace('_', " "),
                v["count"],
                ms(&v["median"]),
                ms(&v["p90"]),
                ms(&v["p99"]),
                ms(&v["max"]),
                ms(&v["mean"]),
            );
        }
    }
    s += "\n| lookup throughput (kept-alive connections) | clients | lookups | errors | lookups/s | median | p99 |\n\
          |---|---:|---:|---:|---:|---:|---:|\n";
    for r in out["throughput"].as_array().into_iter().flatten() {
        s += &format!(
            "| {} s | {} | {} | {} | **{:.0}** | {} | {} |\n",
            r["seconds"].as_f64().map_or(0.0, |x| (x * 10.0).round() / 10.0),
            r["clients"],
            r["requests"],
            r["errors"],
            r["per_s"].as_f64().unwrap_or(0.0),
            ms(&r["latency_ms"]["median"]),
            ms(&r["latency_ms"]["p99"]),
        );
    }
    s += &format!(
        "\nEvery takeover was granted the next epoch: {}; nearest-rank percentiles.\n",
        if out["epochs_rose_by_one"] == true { "yes" } else { "NO" }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(backend: Backend) -> NamesArgs {
        NamesArgs { backend, requests: 10, clients: 2, seconds: 1.0, data: None, json: false, docs: None }
    }

    #[test]
    fn arguments_that_make_no_sense_are_the_users_error() {
        assert!(args(Backend::Embedded).check().is_ok());
        let cases: Vec<(NamesArgs, &str)> = vec![
            (NamesArgs { requests: 0, ..args(Backend::Embedded) }, "--requests must be at least 1"),
            (NamesArgs { clients: 0, ..args(Backend::Embedded) }, "--clients must be between 1 and 256"),
            (NamesArgs { clients: 257, ..args(Backend::Embedded) }, "--clients must be between 1 and 256"),
            (NamesArgs { seconds: 0.0, ..args(Backend::Embedded) }, "--seconds must be more than 0"),
            (NamesArgs { seconds: f64::NAN, ..args(Backend::Embedded) }, "--seconds must be more than 0"),
            (NamesArgs { data: Some("/tmp".into()), ..args(Backend::Etcd) }, "--data is for the embedded backend"),
        ];
        for (a, want) in cases {
            match a.check() {
                Err(e @ BenchError::Usage(_)) => {
                    assert!(e.to_string().contains(want), "{e} should say {want}");
                    assert_eq!(e.exit_code(), 2);
                }
                other => panic!("{a:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_command_reproduces_the_run() {
        let a = NamesArgs { data: Some("/srv/ns".into()), ..args(Backend::Embedded) };
        assert_eq!(a.command(), "stagger-bench names --backend embedded --requests 10 --clients 2 --seconds 1 --data /srv/ns");
        assert_eq!(args(Backend::Etcd).command(), "stagger-bench names --backend etcd --requests 10 --clients 2 --seconds 1");
    }

    #[test]
    fn a_rate_is_answers_per_second() {
        let r = Rate { clients: 2, ok: 500, errors: 1, first_error: None, elapsed_s: 2.0, latencies: vec![1.0, 3.0] };
        assert_eq!(r.per_s(), 250.0);
        assert_eq!(r.json()["latency_ms"]["median"], 2.0);
        assert_eq!(Rate { elapsed_s: 0.0, ..r }.per_s(), 0.0);
    }

    #[test]
    fn the_markdown_report_has_every_operation_and_run() {
        let lat = json!({"count": 10, "min": 0.1, "median": 0.5, "mean": 0.6, "p90": 0.9, "p99": 1.2, "max": 1.2});
        let out = json!({
            "command": "stagger-bench names --backend embedded --requests 10 --clients 2 --seconds 1",
            "backend": {"name": "embedded", "data": "/tmp/x", "filesystem": "ext4", "fdatasync_ms": {"median": 1.5, "p99": 4.0},
                        "fdatasync_after_ms": {"median": 0.5, "p99": 2.0}},
            "machine_line": "machine: 2 cores (cpu), load average 1.00 1.00 1.00 before, 1.10 1.00 1.00 after",
            "epochs_rose_by_one": true,
            "latency_ms": {"takeover": {"new_connection": lat, "keep_alive": lat}, "renew": {"new_connection": lat, "keep_alive": lat},
                           "lookup": {"new_connection": lat, "keep_alive": lat}},
            "throughput": [{"clients": 1, "requests": 1000, "errors": 0, "seconds": 1.0004, "per_s": 999.6, "latency_ms": lat},
                           {"clients": 2, "requests": 1500, "errors": 0, "seconds": 1.0, "per_s": 1500.0, "latency_ms": lat}],
        });
        let md = markdown(&out);
        assert!(md.starts_with("`stagger-bench names --backend embedded"), "{md}");
        assert!(
            md.contains("state on ext4 in `/tmp/x`")
                && md.contains("median 1.500 ms, p99 4.000 ms before the timed requests, median 0.500 ms, p99 2.000 ms after them"),
            "{md}"
        );
        assert!(md.contains("load average 1.00 1.00 1.00 before"), "{md}");
        assert!(md.contains("| register a fresh member (takeover; written and fsynced) | new connection | 10 | **0.500 ms** | 0.900 ms | **1.200 ms** |"), "{md}");
        assert!(md.contains("| renew the lease (memory only) | keep alive |"), "{md}");
        assert_eq!(md.matches("| lookup | ").count(), 2, "{md}");
        assert!(md.contains("| 1 s | 1 | 1000 | 0 | **1000** |") && md.contains("| 1 s | 2 | 1500 | 0 | **1500** |"), "{md}");
        assert!(md.contains("granted the next epoch: yes"), "{md}");
        let etcd = json!({"command": "c", "backend": {"name": "etcd", "members": 3, "version": "3.4.23", "heartbeat_interval_ms": 100,
                          "election_timeout_ms": 1000}, "latency_ms": {}, "throughput": []});
        let md = markdown(&etcd);
        assert!(md.contains("3 members of etcd 3.4.23") && md.contains("an etcd transaction") && md.contains("| - |"), "{md}");
    }
}
