//! The tests' and the benchmarks' library: the example scenarios as the
//! playground and the CLI ship them ([`presets`]), the harness that starts,
//! watches and kills real processes ([`harness`]), the checker of the
//! replicated service's histories ([`check`]), and the commands of the
//! `stagger-bench` binary ([`bench`]).

pub mod bench;
pub mod check;
pub mod harness;

use stagger_core::{Scenario, ScenarioFile};

/// Every file in `static/scenarios/`, by name, parsed but not validated.
pub fn presets() -> Vec<(String, ScenarioFile)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../static/scenarios");
    let mut out: Vec<(String, ScenarioFile)> = std::fs::read_dir(&dir)
        .expect("static/scenarios exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let file = ScenarioFile::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, file)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A preset, validated.
pub fn preset(name: &str) -> Scenario {
    presets().into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no preset {name}")).1.validate().unwrap()
}
