//! Scenarios: the JSON format of SPEC §7, its validation, and the warnings
//! about a valid scenario whose run would mislead.

mod error;
mod file;
mod stability;
mod validate;
mod warnings;

pub use error::{Problem, ScenarioError};
pub use file::*;
pub use validate::{Fault, FaultAction, Scenario};
pub use warnings::{Concern, ScenarioWarning};
