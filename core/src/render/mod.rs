//! Pictures of a run.

pub mod svg;
pub mod ticks;
