//! `stagger sim FILE [--json] [--trace OUT.json]`.

use super::{load, ms, write, CliError};
use stagger_core::sim::{ServiceMetrics, Settled};
use stagger_core::{Algorithm, MessageKind, Metrics, Scenario, Scheme, Sim};
use std::path::Path;

pub fn run(file: &Path, json: bool, trace: Option<&Path>) -> Result<(), CliError> {
    let scenario = load(file)?;
    let run = Sim::new(&scenario, trace.is_some()).run();
    if let (Some(out), Some(t)) = (trace, &run.trace) {
        let mut doc = t.to_json(&scenario.ids);
        if let (Some(cut), Some(doc)) = (run.metrics.truncated, doc.as_object_mut()) {
            doc.insert("truncated".into(), serde_json::json!(cut));
        }
        write(out, &serde_json::to_string(&doc).expect("trace serializes"))?;
    }
    if json {
        println!("{}", serde_json::to_string(&run.metrics).expect("metrics serialize"));
    } else {
        print!("{}", summary(&scenario, &run.metrics));
    }
    // The partial results are printed, marked (`truncated`), and the exit
    // status says the run did not finish.
    match run.metrics.truncated {
        Some(cut) => Err(CliError::Stopped(format!("{}: {cut}", file.display()))),
        None => Ok(()),
    }
}

/// A short scheme description such as "integral timer (T1 = 50.000 ms)".
pub fn describe_scheme(scenario: &Scenario) -> String {
    let p = &scenario.params;
    let mut s = match p.scheme {
        Scheme::Integral { base } => format!("integral timer (T1 = {base})"),
        Scheme::Equal { delay } => format!("equal timer (T = {delay})"),
        Scheme::Randomized { min, max } => format!("randomized timer ({} to {})", min, max),
    };
    if p.guard.0 > 0 {
        s += &format!(", guard {}", p.guard);
    }
    if p.skip_known_dead {
        s += ", skip_known_dead";
    }
    s
}

/// The algorithm and its settings: the timer and claim policy of the
/// staggered timer, or Raft's or Bully's own.
pub fn describe_algorithm(scenario: &Scenario) -> String {
    let heartbeat = |h: Option<stagger_core::Span>| h.map_or("every detection period".to_string(), |h| format!("every {h}"));
    match &scenario.algorithm {
        Algorithm::Stagger => format!("{}, claim policy {}", describe_scheme(scenario), scenario.params.claim.name()),
        Algorithm::Raft(r) => {
            let mut s = format!("Raft (election timeout {} to {}, heartbeat {}", r.election_min, r.election_max, heartbeat(r.heartbeat));
            for (on, what) in [(r.prevote, "PreVote"), (r.check_quorum, "CheckQuorum")] {
                if on {
                    s += &format!(", {what}");
                }
            }
            if r.persist.0 > 0 {
                s += &format!(", {} to persist before answering", r.persist);
            }
            s + ")"
        }
        Algorithm::Bully(b) => format!(
            "Bully (Alive {}, election after {} of silence, Answer awaited {}, Coordinator awaited {})",
            heartbeat(b.heartbeat),
            b.timeout.map_or("P + τ".to_string(), |t| t.to_string()),
            b.answer_wait,
            b.coordinator_wait
        ),
    }
}

/// The human-readable report.
pub fn summary(scenario: &Scenario, m: &Metrics) -> String {
    let table = scenario.rank_table();
    let stagger = scenario.algorithm == Algorithm::Stagger;
    let mut out = format!("{}: {} servers, {}, seed {}\n", scenario.name, scenario.len(), describe_algorithm(scenario), scenario.seed);
    if let Some(cut) = m.truncated {
        out += &format!("  PARTIAL RUN: {cut}\n");
    }
    // Who leads at the end is "final" only if the group has settled.
    let winner = match &m.final_master {
        Some(id) => {
            let row = scenario.row_of(id).expect("the master is a server");
            format!("{} {id} (S{})", m.master_label(), table.index_of(row))
        }
        None => "no single master at the end".into(),
    };
    let crash = m.crash_at_ms.map_or("no crash".to_string(), |v| format!("crash at {v:.3} ms"));
    let converged = m.convergence_text(|t| format!("{t:.3} ms"));
    out += &if stagger {
        format!("  {crash}; first declare at {}; {converged}; {winner}\n", ms(m.first_declare_at_ms))
    } else {
        format!("  {crash}; first in the election at {}; elected at {}; {converged}; {winner}\n", ms(m.detected_at_ms), ms(m.elected_at_ms))
    };
    out += &format!("  {}\n", settled(m));
    let c = &m.messages;
    let kinds: Vec<String> = if stagger {
        MessageKind::ALL.iter().map(|k| format!("{} {}", k.name(), c.get(*k))).collect()
    } else {
        MessageKind::EVERY.iter().filter(|k| c.get(**k) > 0).map(|k| format!("{} {}", k.name(), c.get(*k))).collect()
    };
    out += &format!("  messages: {} total ({}); election messages {}\n", c.total, kinds.join(", "), m.election_messages);
    out += &format!(
        "  split brain {:.3} ms, at most {} master(s) at once; {} events until {}\n",
        m.split_brain_ms, m.max_masters, m.events, scenario.until
    );
    if let Some(s) = &m.service {
        out += &service(s);
    }
    out
}

/// What the clients of the replicated service saw, and the failover's
/// window.
fn service(s: &ServiceMetrics) -> String {
    let mut out = format!(
        "  service: {} client(s); writes {} ok, {} failed, {} unknown; {} retries; latency median {}, slowest {}\n",
        s.clients,
        s.writes_ok,
        s.writes_failed,
        s.writes_unknown,
        s.retries,
        ms(s.latency_median_ms),
        ms(s.latency_max_ms)
    );
    if let Some(text) = s.window_text() {
        out += &format!("  failover window: {text}\n");
    }
    out
}

/// Why the run counts as stable or not, with the rule.
fn settled(m: &Metrics) -> String {
    let window = format!("the {:.3} ms stability window", m.stable_window_ms);
    let changes = format!("{} role change(s)", m.role_changes);
    match m.settled {
        Settled::Stable => format!("stable: one master through {window} before the end; {changes}"),
        Settled::StillChanging => format!("still changing: {changes}, the last at {}, within {window} before the end", ms(m.last_change())),
        Settled::NotConverged => format!("not converged: no single master that every live server follows at the end; {changes}"),
    }
}
