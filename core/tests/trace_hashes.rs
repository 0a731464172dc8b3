//! Native half of the determinism proof: the corpus hashes equal the
//! committed golden file, so a change that alters any trace is caught, and
//! SPEC §7's promise that old scenarios replay identically is kept. The wasm
//! half (`wasm_trace.rs`) compares its own hashes against these.
//!
//! After an intended change of semantics, rewrite the golden file with
//! `STAGGER_BLESS=1 cargo test -p stagger-core --test trace_hashes` and say
//! why in the commit.

#[path = "support/corpus.rs"]
mod corpus;

const GOLDEN: &str = "tests/golden/trace-hashes.txt";

#[test]
fn corpus_matches_golden_hashes() {
    let now = corpus::render(&corpus::fingerprints());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("STAGGER_BLESS").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(now, golden, "trace hashes changed; if intended, rerun with STAGGER_BLESS=1");
}

#[test]
fn same_seed_same_trace_different_seed_different_trace() {
    let a = corpus::fingerprints();
    let b = corpus::fingerprints();
    assert_eq!(a, b);
    let hashes: std::collections::BTreeSet<u64> = a.iter().map(|x| x.1).collect();
    assert_eq!(hashes.len(), a.len(), "every corpus scenario has its own trace");
}
