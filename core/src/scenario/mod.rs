//! Scenarios: the JSON format of SPEC §7 and its validation.

mod error;
mod file;
mod validate;

pub use error::{Problem, ScenarioError};
pub use file::*;
pub use validate::{Fault, FaultAction, Scenario};
