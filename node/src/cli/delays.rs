//! `stagger delays FILE [--json]`.

use super::{load, CliError};
use stagger_core::delays::report;
use std::path::Path;

pub fn run(file: &Path, json: bool) -> Result<(), CliError> {
    let scenario = load(file)?;
    if scenario.algorithm != stagger_core::Algorithm::Stagger {
        return Err(CliError::Usage(format!(
            "{}: δ_j and D_i are the staggered timer's; this scenario runs the {} algorithm, which has no election delays to predict (try `stagger sim`)",
            file.display(),
            scenario.algorithm.name()
        )));
    }
    let r = report(&scenario);
    if json {
        println!("{}", serde_json::to_string(&r).expect("report serializes"));
        return Ok(());
    }
    println!("{}: {}", r.name, super::sim::describe_scheme(&scenario));
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
    println!("Predicted winner when the top k ranks are down (synchronous detection, no jitter):");
    println!("{:<3} {:<w$} {:<w$} {:>15} {:>12}  {}", "k", "first", "winner", "declares after", "slack", "");
    for p in &r.predictions {
        let slack = p.slack_ms.map_or("-".to_string(), |s| format!("{s:+.3} ms"));
        let verdict = if p.clean { "clean: one broadcast" } else { "contested" };
        println!("{:<3} {:<w$} {:<w$} {:>12.3} ms {:>12}  {}", p.down, p.first, p.winner, p.declares_after_ms, slack, verdict);
    }
    Ok(())
}
