//! # stagger-core
//!
//! A sans-IO engine for electing a master with **staggered election
//! timers**, and a deterministic discrete-event simulator built on it.
//!
//! When a server group's master fails, every backup waits an election delay
//! `D_i` set by its rank and the delay matrix before it claims mastership.
//! With the patent's *integral* scheme, `D_i` grows by the worst one-way
//! delay of each better-ranked server, so the best survivor's
//! `DeclareMaster` reaches everyone before anyone else's timer expires, and
//! the election costs one broadcast instead of a storm of contested claims.
//! `../shared/SPEC.md` is the contract this crate implements; the patent
//! paragraphs are cited as `[00NN]`.
//!
//! ## Layout
//!
//! - [`time`], [`rng`]: microsecond time and the one seeded RNG. Nothing in
//!   this crate reads a clock or the OS.
//! - [`message`], [`params`], [`ranking`], [`timer`]: the vocabulary.
//! - [`server`]: the engine of one server, Figs. 5, 8 and 9.
//! - [`raft`], [`bully`]: Raft's leader election and the Bully algorithm,
//!   the same way, to compare against.
//! - [`scenario`]: the JSON scenario format and its validation.
//! - [`sim`]: the event queue, network model, faults, trace and metrics.
//! - [`delays`]: `δ_j`, `D_i` and predicted winners, for `stagger delays`.
//! - [`timeline`]: a trace read once into what a picture of the run shows
//!   (role segments, countdowns, message copies), for the SVG renderer and
//!   the playground's Watch tab.
//! - [`render`]: the standalone SVG space-time diagram.
//! - [`compare`], [`gen`]: seeded studies across schemes and generated
//!   groups of any size, for the benchmarks and the playground's Compare tab.
//! - [`flight`]: live nodes' recordings, merged into one trace to draw.
//! - [`measured`]: the round trips a live member measures, their windows
//!   and statistics (`/api/delays`), and the group's measured matrix merged
//!   from several members' answers.
//! - [`names`]: the name server's registry: masters registered under
//!   rising epochs with leases, configurations changed by compare-and-swap,
//!   and a feed of changes for watchers.
//! - [`service`]: the replicated key-value store the master serves and
//!   forwards to every backup, sans-IO like the election engine.
//! - [`wire`]: the frames live members exchange and their HMAC handshake,
//!   shared by the native node and the browser member.
//!
//! ## Driving the engine
//!
//! One way in, one way out: feed one [`Input`] with
//! [`Server::handle_input`], drain [`Server::poll_output`], then sleep until
//! [`Server::poll_timeout`]. The simulator and the native node are two such
//! drivers; the engine cannot tell them apart.
//!
//! ```
//! use stagger_core::*;
//! use std::sync::Arc;
//!
//! let delays = vec![vec![0, 20_000], vec![20_000, 0]];
//! let table = Arc::new(RankTable::new(1, vec![0, 1], &delays, Span::ZERO));
//! let mut backup = Server::new(ServerConfig {
//!     row: 1,
//!     period: Span::from_ms(500),
//!     phase: Span::ZERO,
//!     params: Arc::new(Params::default()),
//!     table,
//! });
//! let mut rng = Rng::new(42);
//! // Drain until empty: the first detection tick is armed at 0.
//! while let Some(out) = backup.poll_output() {
//!     println!("{out:?}");
//! }
//! let (at, timer) = backup.poll_timeout().unwrap();
//! backup.handle_input(at, Input::Timer(timer), &mut rng).unwrap();
//! // The tick sends an inquiry to the master, S_0.
//! let sends: Vec<_> = std::iter::from_fn(|| backup.poll_output())
//!     .filter(|o| matches!(o, Output::Send { .. }))
//!     .collect();
//! assert_eq!(sends.len(), 1);
//! ```

pub mod bully;
pub mod compare;
pub mod delays;
pub mod flight;
pub mod gen;
pub mod measured;
pub mod message;
pub mod names;
pub mod params;
pub mod raft;
pub mod ranking;
pub mod render;
pub mod rng;
pub mod scenario;
pub mod server;
pub mod service;
pub mod sim;
pub mod time;
pub mod timeline;
pub mod timer;
pub mod twin;
pub mod wire;

pub use message::{Envelope, Index, Message, MessageKind, Msg, Target};
pub use params::{Algorithm, ClaimPolicy, Params, Scheme};
pub use ranking::RankTable;
pub use rng::Rng;
pub use scenario::{Scenario, ScenarioError, ScenarioFile};
pub use server::{Input, Note, Output, Refusal, Role, Server, ServerConfig, UsageError};
pub use sim::{Budget, Metrics, Progress, Run, Sim, Trace, Truncated};
pub use time::{Span, Time};
pub use timer::TimerKind;
