//! Prints the determinism corpus's trace hashes, one `name hash events` line
//! per scenario. `cargo xtask test` feeds this to the wasm test.

#[path = "../tests/support/corpus.rs"]
mod corpus;

fn main() {
    print!("{}", corpus::render(&corpus::fingerprints()));
}
