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
//! - `serve.rs`: `stagger serve`, the playground over HTTP from files
//!   embedded at build time by `build.rs`.

pub mod auth;
pub mod cli;
pub mod group;
pub mod live;
pub mod runtime;
pub mod serve;
pub mod wire;
