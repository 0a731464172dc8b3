//! `stagger delays FILE [--measured M.json] [--json]` and
//! `stagger delays --node URL [--stat median|p99|max] [--json]`.
//!
//! With a measured matrix (a file, or what a live group's members measure)
//! the timers stay the configured matrix's and the transmission is the
//! measured one's: the slack then says whether the network has drifted past
//! the timers, and a negative one is warned about by name.

use super::{load, observe, CliError};
use serde::Serialize;
use stagger_core::delays::{report, report_against, DelayReport};
use stagger_core::measured::{self, Measured, Statistic};
use stagger_core::Scenario;
use std::path::Path;

/// Where `stagger delays` reads the group and the measured matrix.
pub enum Source<'a> {
    File { file: &'a Path, measured: Option<&'a Path> },
    Node(&'a str),
}

/// The report against a measured matrix.
#[derive(Serialize)]
struct Against {
    #[serde(flatten)]
    report: DelayReport,
    /// `measured` when a measured matrix fed the transmission, else
    /// `configured` (no member measures).
    matrix: &'static str,
    /// The statistic of the members' windows used, for `--node` and a file
    /// of members' answers.
    stat: Statistic,
    /// Pairs nobody measured, whose configured delay was used instead.
    filled_from_configured: Vec<(String, String)>,
}

pub fn run(source: Source, stat: Statistic, json: bool) -> Result<(), CliError> {
    let (scenario, what, measured) = match source {
        Source::File { file, measured: None } => (checked(load(file)?, &file.display().to_string())?, None, None),
        Source::File { file, measured: Some(m) } => {
            let scenario = checked(load(file)?, &file.display().to_string())?;
            let p = m.display().to_string();
            let text = std::fs::read_to_string(m).map_err(|source| CliError::Io { path: p.clone(), source })?;
            let parsed = measured::parse(&scenario.ids, &text, stat).map_err(|e| CliError::Usage(format!("{p}: {e}")))?;
            (scenario, Some(p), Some(parsed))
        }
        Source::Node(node) => {
            let observed = observe::observe(node)?;
            let scenario = observed.file.validate().map_err(|source| CliError::Scenario { path: node.to_string(), source })?;
            let m = observed.measured(stat)?;
            if m.is_none() {
                eprintln!("note: no member of {node} answers /api/delays: the configured matrix stands in for the measured one");
            }
            (checked(scenario, node)?, Some(node.to_string()), Some(m.unwrap_or_default()))
        }
    };
    let Some(measured) = measured else {
        let r = report(&scenario);
        return print(&scenario, &r, json, None);
    };
    let against = against(&scenario, &measured, stat);
    if json {
        println!("{}", serde_json::to_string(&against).expect("report serializes"));
        return Ok(());
    }
    print(&scenario, &against.report, false, Some((&against, what.unwrap_or_default())))
}

/// The report with `measured` as the transmission (holes, or an empty
/// matrix, filled from the configured one).
fn against(scenario: &Scenario, measured: &Measured, stat: Statistic) -> Against {
    let configured: Vec<Vec<f64>> = scenario.delays_us.iter().map(|row| row.iter().map(|&d| d as f64 / 1000.0).collect()).collect();
    let (matrix, filled, any) = if measured.is_empty() {
        (configured.clone(), Vec::new(), false)
    } else {
        let (m, filled) = measured::fill(&scenario.ids, &configured, measured);
        (m, filled, true)
    };
    let us: Vec<Vec<u64>> = matrix.iter().map(|row| row.iter().map(|&ms| (ms * 1000.0).round() as u64).collect()).collect();
    Against {
        report: report_against(scenario, &us),
        matrix: if any { "measured" } else { "configured" },
        stat,
        filled_from_configured: filled,
    }
}

/// Refuses scenarios of algorithms without election delays.
fn checked(scenario: Scenario, place: &str) -> Result<Scenario, CliError> {
    if scenario.algorithm != stagger_core::Algorithm::Stagger {
        return Err(CliError::Usage(format!(
            "{place}: δ_j and D_i are the staggered timer's; this scenario runs the {} algorithm, which has no election delays to predict (try `stagger sim`)",
            scenario.algorithm.name()
        )));
    }
    Ok(scenario)
}

fn print(scenario: &Scenario, r: &DelayReport, json: bool, against: Option<(&Against, String)>) -> Result<(), CliError> {
    if json {
        println!("{}", serde_json::to_string(&r).expect("report serializes"));
        return Ok(());
    }
    println!("{}: {}", r.name, super::sim::describe_scheme(scenario));
    println!();
    let w = r.ranks.iter().map(|x| x.id.len()).max().unwrap_or(2).max(2);
    println!("{:<5} {:<w$} {:>10} {:>10}", "rank", "id", "δ_j (ms)", "D_i (ms)");
    for x in &r.ranks {
        let d = x.d_ms.map_or("random".to_string(), |d| format!("{d:.3}"));
        println!("{:<5} {:<w$} {:>10.3} {:>10}", format!("S{}", x.index), x.id, x.delta_ms, d);
    }
    println!();
    if r.predictions.is_empty() {
        println!("No prediction: randomized delays are drawn at run time. The lowest surviving index still wins every contest.");
        return Ok(());
    }
    match &against {
        None => println!("Predicted winner when the top k ranks are down (synchronous detection, no jitter):"),
        Some((a, from)) => {
            let stat =
                if a.matrix == "measured" { format!(" ({} one-way)", a.stat.field().trim_end_matches("_ms")) } else { String::new() };
            println!("Timers from the configured matrix, transmission from the {} matrix{stat} of {from}.", a.matrix);
            println!("Predicted winner and slack when the top k ranks are down (synchronous detection, no jitter):");
        }
    }
    println!("{:<3} {:<w$} {:<w$} {:>15} {:>12}  {}", "k", "first", "winner", "declares after", "slack", "");
    for p in &r.predictions {
        let slack = p.slack_ms.map_or("-".to_string(), |s| format!("{s:+.3} ms"));
        let verdict = if p.clean { "clean: one broadcast" } else { "contested" };
        println!("{:<3} {:<w$} {:<w$} {:>12.3} ms {:>12}  {}", p.down, p.first, p.winner, p.declares_after_ms, slack, verdict);
    }
    if let Some((a, _)) = against {
        if !a.filled_from_configured.is_empty() {
            let pairs: Vec<String> = a.filled_from_configured.iter().map(|(x, y)| format!("{x}–{y}")).collect();
            println!();
            println!("Not measured, configured delay used: {}", pairs.join(", "));
        }
        if !r.warnings.is_empty() {
            println!();
        }
        for w in &r.warnings {
            println!("warning: {w}");
        }
    }
    Ok(())
}
