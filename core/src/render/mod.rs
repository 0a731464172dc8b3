//! Pictures of a run.

pub mod svg;
