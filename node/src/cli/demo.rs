//! `stagger demo`: the README's main command for now. It simulates the
//! patent's five cities ([0027]) with the built-in scenario and writes the
//! diagram, the trace and the scenario itself, so the reader can open the
//! picture and then edit the scenario. Unless `--no-serve` is given, the
//! CLI then serves the playground with the same scenario loaded.

use super::{write, CliError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use stagger_core::delays::report;
use stagger_core::render::svg::{space_time, SvgOptions};
use stagger_core::{Scenario, ScenarioFile, Sim};
use std::path::Path;

/// The built-in scenario: `static/scenarios/patent-5.json`.
pub const PATENT_5: &str = include_str!("../../../static/scenarios/patent-5.json");

/// Simulates, prints and writes the files; returns the playground URL
/// fragment (`scenario=<base64url JSON>`) that loads the same scenario.
pub fn run(out: &Path) -> Result<String, CliError> {
    let scenario = Scenario::from_json(PATENT_5).expect("the built-in scenario is valid");
    let run = Sim::new(&scenario, true).run();
    print!("{}", super::sim::summary(&scenario, &run.metrics));
    let r = report(&scenario);
    let d: Vec<String> = r.ranks.iter().skip(1).map(|x| format!("{} {:.0}", x.id, x.d_ms.unwrap_or(0.0))).collect();
    println!("  election delays D_i (ms): {}", d.join(", "));
    let svg_path = out.join("patent-5.svg");
    let trace_path = out.join("patent-5.trace.json");
    let scenario_path = out.join("patent-5.json");
    write(&svg_path, &space_time(&scenario, &run, &SvgOptions::default()))?;
    let trace = run.trace.as_ref().expect("recorded").to_json(&scenario.ids);
    write(&trace_path, &serde_json::to_string(&trace).expect("trace serializes"))?;
    write(&scenario_path, PATENT_5)?;
    println!();
    println!("Wrote:");
    println!("  {}  (space-time diagram; open it in a browser)", svg_path.display());
    println!("  {}  (every send, delivery, timer and role change)", trace_path.display());
    println!("  {}  (edit it, then: stagger sim {} )", scenario_path.display(), scenario_path.display());
    let file = ScenarioFile::from_json(PATENT_5).expect("the built-in scenario is valid");
    let json = serde_json::to_string(&file).expect("a scenario serializes");
    Ok(format!("scenario={}", URL_SAFE_NO_PAD.encode(json)))
}
