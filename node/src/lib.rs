//! # stagger-node
//!
//! The `stagger` binary. Today it runs the simulation commands (`sim`,
//! `delays`, `render`, `demo`) on top of `stagger-core`.
//!
//! ## Layout
//!
//! - `cli/mod.rs`: the command line and its error type.
//! - `cli/sim.rs`, `cli/delays.rs`, `cli/render.rs`, `cli/demo.rs`: one
//!   file per command.

pub mod cli;
