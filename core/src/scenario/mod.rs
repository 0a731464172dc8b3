//! Scenarios: the JSON format of SPEC §7, its validation, and the warnings
//! about a valid scenario whose run would mislead.

mod error;
mod fault;
mod file;
mod service;
mod stability;
mod validate;
mod warnings;

pub use error::{Problem, ScenarioError};
pub use fault::{FaultActionEntry, FaultEntry, FaultKind, RerankBy, RerankEntry};
pub use file::*;
pub use service::{Service, ServiceEntry, MAX_CLIENTS, MAX_KEYS};
pub use validate::{Fault, FaultAction, Scenario};
pub use warnings::{Concern, ScenarioWarning};
