//! # stagger-node
//!
//! The `stagger` binary: the simulation commands (`sim`, `delays`,
//! `render`, `demo`) on top of `stagger-core`, and a live member of a group
//! (`node`) with its admin client (`ctl`) and the playground server
//! (`serve`). The benchmarks are not here: they are `stagger-bench` in the
//! `tests/` workspace member, which runs this binary as a process.
//!
//! ## Layout
//!
//! - `cli/`: the command line and its error type (`mod.rs`), one file per
//!   command (`sim.rs`, `delays.rs`, `render.rs`, `demo.rs`, `ctl.rs`).
//! - `serve/`: HTTP on axum and hyper: the accept loop, router and layers
//!   (`mod.rs`), the playground embedded at build time by `build.rs`
//!   (`files.rs`), the `/ws` upgrade to tokio-tungstenite (`upgrade.rs`).
//! - `runtime.rs`: one engine driven on the tokio clock, with its flight
//!   recording.
//! - `live/`: a node of a live group: the mesh of WebSockets between members
//!   (`mesh.rs`) and the `/api/*` handlers (`api.rs`).
//! - `service/`: the replicated key-value service on a node: core's
//!   replica engine driven with a redb store, its own WebSockets between
//!   replicas and `/api/kv`.
//! - `names/`: the name server: the backends behind `NameStore` (the
//!   embedded one: core's registry and an fsynced log), its HTTP routes.
//! - `kv/`: the replicated service's client library and load generator.
//! - `group.rs`: the group file; `auth.rs`: the `/ws` handshake with OS
//!   nonces; `wire.rs`: the frames, re-exported from `stagger_core::wire`.

pub mod auth;
pub mod cli;
pub mod group;
pub mod kv;
pub mod live;
pub mod names;
pub mod runtime;
pub mod serve;
pub mod service;
pub mod wire;
