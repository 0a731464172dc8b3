//! Scenario errors. Every one names the field at fault, in the dotted and
//! indexed form a user can find in the file (`delays_ms[2][0]`,
//! `faults[1].crash`), because a scenario is the user's input: the error
//! must tell them what to fix.

use std::fmt;

/// A scenario that cannot run. The file's author is at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ScenarioError {
    /// Where: `servers[3].id`, `detection.timeout_ms`, or `(file)` for a
    /// syntax error with no field.
    pub field: String,
    pub problem: Problem,
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not JSON, or a value of the wrong type.
    Syntax(String),
    /// A field the format does not have; the text lists the fields it does.
    UnknownField(String),
    /// A required field is absent.
    Missing(&'static str),
    /// Two fields that exclude each other are both present.
    Conflict(&'static str),
    /// The matrix is not N×N.
    NotSquare { len: usize, want: usize },
    /// A negative, non-finite or too large number.
    BadNumber(String),
    /// The diagonal must be zero.
    NonZeroDiagonal,
    /// An id no server has.
    UnknownId(String),
    /// An id given twice where each must appear once.
    Duplicate(String),
    /// The ranking leaves a server out.
    Omitted(String),
    /// An invalid id.
    BadId(String),
    /// `τ ≥ P`.
    TimeoutNotBelowPeriod { timeout_ms: String, period_ms: String },
    /// A number outside its range.
    OutOfRange { value: String, range: &'static str },
    /// A field that does not apply here.
    NotApplicable(String),
    /// A server lacks the attribute a criterion ranks by.
    MissingAttr { id: String, attr: String },
    /// A fault that cannot happen at that time.
    BadFault(String),
}

impl ScenarioError {
    pub fn new(field: impl Into<String>, problem: Problem) -> ScenarioError {
        ScenarioError { field: field.into(), problem }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax(m) => write!(f, "{m}"),
            Problem::UnknownField(expected) if expected.is_empty() => write!(f, "unknown field"),
            Problem::UnknownField(expected) => write!(f, "unknown field (expected {expected})"),
            Problem::Missing(what) => write!(f, "missing: {what}"),
            Problem::Conflict(what) => write!(f, "{what}"),
            Problem::NotSquare { len, want } => {
                write!(f, "the delay matrix must be square: this row has {len} entries, expected {want}")
            }
            Problem::BadNumber(m) => write!(f, "{m}"),
            Problem::NonZeroDiagonal => write!(f, "a server's delay to itself must be 0"),
            Problem::UnknownId(id) => write!(f, "unknown server id '{id}'"),
            Problem::Duplicate(id) => write!(f, "'{id}' is listed twice"),
            Problem::Omitted(id) => write!(f, "the ranking omits server '{id}'"),
            Problem::BadId(m) => write!(f, "{m}"),
            Problem::TimeoutNotBelowPeriod { timeout_ms, period_ms } => {
                write!(f, "the inquiry timeout τ = {timeout_ms} ms must be shorter than the detection period P = {period_ms} ms")
            }
            Problem::OutOfRange { value, range } => write!(f, "{value} is outside {range}"),
            Problem::NotApplicable(m) => write!(f, "{m}"),
            Problem::MissingAttr { id, attr } => {
                write!(f, "server '{id}' has no attribute '{attr}' to rank by")
            }
            Problem::BadFault(m) => write!(f, "{m}"),
        }
    }
}

/// Turns a serde error into one that names the field. `serde_path_to_error`
/// knows the container; for an unknown field, serde's own message names the
/// field itself, so it is appended to the path.
pub(crate) fn from_serde(err: serde_path_to_error::Error<serde_json::Error>) -> ScenarioError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let msg = inner.to_string();
    let container = if path == "." { String::new() } else { path };
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("");
        // serde_path_to_error already ends the path with the unknown key.
        let field = if container.is_empty() {
            name.to_string()
        } else if container == name || container.ends_with(&format!(".{name}")) {
            container
        } else {
            format!("{container}.{name}")
        };
        let expected = rest.split_once(", expected ").map(|(_, e)| e);
        let expected = expected.map(|e| e.split(" at line").next().unwrap_or(e).to_string()).unwrap_or_default();
        return ScenarioError::new(field, Problem::UnknownField(expected));
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        let field = if container.is_empty() { name.to_string() } else { format!("{container}.{name}") };
        return ScenarioError::new(field, Problem::Missing("this field is required"));
    }
    let field = if container.is_empty() { "(file)".to_string() } else { container };
    ScenarioError::new(field, Problem::Syntax(msg))
}
