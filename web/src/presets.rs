//! The example scenarios of `static/scenarios/`, compiled into the
//! playground so a preset loads without a network round trip.

use stagger_core::ScenarioFile;

/// `(name, JSON)` of every preset, in menu order.
pub const PRESETS: [(&str, &str); 5] = [
    ("patent-5", include_str!("../../static/scenarios/patent-5.json")),
    ("storm", include_str!("../../static/scenarios/storm.json")),
    ("partition", include_str!("../../static/scenarios/partition.json")),
    ("lan-5", include_str!("../../static/scenarios/lan-5.json")),
    ("raft-5", include_str!("../../static/scenarios/raft-5.json")),
];

/// The scenario a new visitor sees.
pub const DEFAULT: &str = "patent-5";

pub fn file(name: &str) -> Option<ScenarioFile> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, text)| ScenarioFile::from_json(text).expect("presets are valid"))
}

pub fn default_file() -> ScenarioFile {
    file(DEFAULT).expect("the default preset exists")
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    #[test]
    fn every_preset_is_valid() {
        for (name, _) in super::PRESETS {
            super::file(name).unwrap().validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
