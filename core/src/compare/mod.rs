//! Measurements that compare election schemes by simulation:
//! Raft's Figure 16, and the schemes × delay presets × sizes matrix of
//! `stagger-bench compare`. Pure functions of their seeds, so a run
//! reproduces exactly; the CLI only prints and plots them.

pub mod fig16;
pub mod loses;
pub mod matrix;
pub mod stats;
