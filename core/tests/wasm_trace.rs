//! Wasm half of the determinism proof (SPEC §6): run under node by
//! `cargo xtask test`, which first writes the native hashes to a file and
//! passes its path in `STAGGER_NATIVE_HASHES` at compile time. The wasm
//! build hashes the same corpus and must agree line for line.

#![cfg(target_arch = "wasm32")]

#[path = "support/corpus.rs"]
mod corpus;

use wasm_bindgen_test::wasm_bindgen_test;

const NATIVE: Option<&str> = option_env!("STAGGER_NATIVE_HASHES_TEXT");

#[wasm_bindgen_test]
fn wasm_traces_equal_native_traces() {
    let native = NATIVE.expect("STAGGER_NATIVE_HASHES_TEXT was not set at build time: run this test through `cargo xtask test`");
    let wasm = corpus::render(&corpus::fingerprints());
    assert!(!native.trim().is_empty(), "the native hash list is empty");
    assert_eq!(wasm.trim_end(), native.trim_end(), "a trace differs between wasm and native");
}
