//! The replicated service's client side: the client library that `stagger
//! client get | put | del | cas | load` and the fault tests use, and the
//! load generator that records a history for the checker
//! (`stagger_tests::check`).
//!
//! - `client.rs`: one [`Client`]: an id, rising sequence numbers, the master
//!   found through the name server and cached, retries with backoff and
//!   jitter under a deadline that resend the same sequence number, and the
//!   classification of each operation as `ok`, `fail` or `unknown`
//!   (docs/protocol.md KC1–KC3).
//! - `load.rs`: many clients at once over a few keys ([`load::run`]), the
//!   counters a progress display reads ([`Tally`]), and the final reads the
//!   lost-writes check compares with ([`load::read_all`]).

pub mod client;
pub mod load;

pub use client::{Client, KvError, Master, Settings};
pub use load::{Spec, Tally};

#[cfg(test)]
mod tests;
