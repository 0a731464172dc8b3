//! The determinism corpus: scenarios whose trace hashes must agree between
//! native builds, wasm builds and the committed golden file. Shared by
//! `tests/trace_hashes.rs`, `tests/wasm_trace.rs` and
//! `examples/trace_hashes.rs` through `#[path]`, so all three hash exactly
//! the same runs.

use stagger_core::scenario::{DetectionEntry, FaultActionEntry, FaultEntry, NetworkEntry, PhaseMode, SchemeName, TimerEntry};
use stagger_core::{gen, ClaimPolicy, Rng, Scenario, ScenarioFile, Sim};

const FILES: [(&str, &str); 5] = [
    ("patent-5", include_str!("../../../static/scenarios/patent-5.json")),
    ("lan-5", include_str!("../../../static/scenarios/lan-5.json")),
    ("storm", include_str!("../../../static/scenarios/storm.json")),
    ("partition", include_str!("../../../static/scenarios/partition.json")),
    ("service-5", include_str!("../../../static/scenarios/service-5.json")),
];

/// Scenarios that exercise every random draw: asynchronous phases, jitter,
/// loss and randomized election delays.
fn drawn(seed: u64) -> ScenarioFile {
    let mut rng = Rng::new(seed);
    let n = 3 + rng.below(12) as usize;
    let mut f = gen::scenario(&format!("drawn-{seed}"), gen::random_matrix(n, 1, 250, false, &mut rng), 1700.0, 15_000.0);
    f.timer = Some(match seed % 3 {
        0 => TimerEntry::scheme(SchemeName::Randomized).range(20.0, 300.0),
        1 => TimerEntry::scheme(SchemeName::Integral).base(30.0),
        _ => TimerEntry::scheme(SchemeName::Equal).delay(30.0),
    });
    f.claim = Some(ClaimPolicy::ALL[(seed % 3) as usize]);
    f.detection = Some(DetectionEntry::new(1000.0, 800.0, PhaseMode::Asynchronous));
    f.network = Some(NetworkEntry { jitter: Some(0.2), loss: Some(0.05) });
    f.announce_every = Some(2);
    let ids = gen::ids(n);
    f.faults.push(FaultEntry { at_ms: 6000.0, action: FaultActionEntry::Recover(ids[0].clone()) });
    f.faults.push(FaultEntry { at_ms: 8000.0, action: FaultActionEntry::Partition(vec![ids[..n / 2].to_vec()]) });
    f.faults.push(FaultEntry { at_ms: 9000.0, action: FaultActionEntry::Cut([ids[n - 1].clone(), ids[0].clone()]) });
    f.faults.push(FaultEntry { at_ms: 11_000.0, action: FaultActionEntry::Heal });
    f.seed = Some(seed);
    f
}

/// `(name, trace hash, event count)` for every scenario of the corpus.
pub fn fingerprints() -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    let mut push = |name: String, s: Scenario| {
        let run = Sim::new(&s, true).run();
        out.push((name, run.trace.expect("recorded").hash(), run.metrics.events));
    };
    for (name, text) in FILES {
        push(name.to_string(), Scenario::from_json(text).expect("preset is valid"));
    }
    push("storm-60".into(), gen::storm(60).validate().unwrap());
    for seed in 1..=12 {
        push(format!("drawn-{seed}"), drawn(seed).validate().unwrap());
    }
    out
}

/// The fingerprints as lines of text: `name hash events`.
pub fn render(list: &[(String, u64, u64)]) -> String {
    list.iter().map(|(n, h, e)| format!("{n} {h:016x} {e}\n")).collect()
}
