//! `stagger sim FILE [--json] [--trace OUT.json]`.

use super::{load, ms, write, CliError};
use stagger_core::{Metrics, Scenario, Scheme, Sim};
use std::path::Path;

pub fn run(file: &Path, json: bool, trace: Option<&Path>) -> Result<(), CliError> {
    let scenario = load(file)?;
    let run = Sim::new(&scenario, trace.is_some()).run();
    if let (Some(out), Some(t)) = (trace, &run.trace) {
        let doc = t.to_json(&scenario.ids);
        write(out, &serde_json::to_string(&doc).expect("trace serializes"))?;
    }
    if json {
        println!("{}", serde_json::to_string(&run.metrics).expect("metrics serialize"));
    } else {
        print!("{}", summary(&scenario, &run.metrics));
    }
    Ok(())
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

/// The human-readable report.
pub fn summary(scenario: &Scenario, m: &Metrics) -> String {
    let p = &scenario.params;
    let table = scenario.rank_table();
    let mut out = format!(
        "{}: {} servers, {}, claim policy {}, seed {}\n",
        scenario.name,
        scenario.len(),
        describe_scheme(scenario),
        p.claim.name(),
        scenario.seed
    );
    let winner = match &m.final_master {
        Some(id) => {
            let row = scenario.row_of(id).expect("the master is a server");
            format!("{id} (S{})", table.index_of(row))
        }
        None => "no single master".into(),
    };
    out += &format!(
        "  {}; first declare at {}; converged at {}; final master {}\n",
        m.crash_at_ms.map_or("no crash".to_string(), |v| format!("crash at {v:.3} ms")),
        ms(m.first_declare_at_ms),
        ms(m.converged_at_ms),
        winner
    );
    let c = &m.messages;
    out += &format!(
        "  messages: {} total (inquiry {}, reply {}, declare {}, revoke {}); election messages {}\n",
        c.total, c.inquiry, c.reply, c.declare, c.revoke, m.election_messages
    );
    out += &format!(
        "  split brain {:.3} ms, at most {} master(s) at once; {} events until {}\n",
        m.split_brain_ms, m.max_masters, m.events, scenario.until
    );
    out
}
