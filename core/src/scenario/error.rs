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
    /// The run needs more events than its budget allows.
    OverBudget { events: u64, max_events: u64 },
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
            Problem::OverBudget { events, max_events } => write!(
                f,
                "the run needs at least {events} events (its detection ticks alone), more than its budget of {max_events} (max_events); lengthen detection.period_ms, shorten until_ms or raise max_events"
            ),
        }
    }
}

/// Turns a serde_json error into one that names the field.
///
/// serde_json reports where in the text it failed, not which field; the
/// field is recovered by [`path_at`], a small scanner that walks the text up
/// to that point. (The `serde_path_to_error` crate does this during
/// deserialization, but it costs about 11 KB of gzipped wasm in the
/// playground, where every kilobyte is downloaded.)
pub(crate) fn from_json_error(text: &str, err: serde_json::Error) -> ScenarioError {
    let msg = err.to_string();
    let container = path_at(text, err.line(), err.column());
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("");
        // The scanner stops just after the unknown key, so the path
        // usually ends with it already.
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
    // A fault's own refusal: no action or two, or `"heal": false`.
    if let Some((suffix, problem)) = super::fault::refusal(&msg) {
        return ScenarioError::new(format!("{container}{suffix}"), Problem::BadFault(problem.to_string()));
    }
    let field = if container.is_empty() { "(file)".to_string() } else { container };
    ScenarioError::new(field, Problem::Syntax(msg))
}

/// One open container while scanning.
enum Frame {
    /// An object and the last key read in it.
    Object(Option<String>),
    /// An array and the index of the element being read.
    Array(usize),
}

/// The path (`detection.timeout_ms`, `delays_ms[2][1]`) of the value being
/// read at 1-based `line` and `column` of `text`, or "" at the top level.
/// Tolerant of malformed text: it only tracks brackets, keys and commas.
pub(crate) fn path_at(text: &str, line: usize, column: usize) -> String {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let end = (start + column).min(text.len());
    let bytes = &text.as_bytes()[..end];
    let mut stack: Vec<Frame> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object(None));
                expect_key = true;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(_)) => expect_key = true,
                None => {}
            },
            b':' => expect_key = false,
            b'"' => {
                let from = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if expect_key {
                    if let Some(Frame::Object(key)) = stack.last_mut() {
                        let to = i.min(bytes.len());
                        *key = Some(String::from_utf8_lossy(&bytes[from..to]).into_owned());
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for f in &stack {
        match f {
            Frame::Object(Some(k)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Object(None) => {}
            Frame::Array(n) => path.push_str(&format!("[{n}]")),
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::path_at;

    #[test]
    fn paths_at_positions() {
        let t = "{\"a\": {\"b\": [1, [2, \"x\"]]}, \"c\": 3}";
        let at = |needle: &str| {
            let pos = t.find(needle).unwrap() + needle.len();
            path_at(t, 1, pos)
        };
        assert_eq!(at("\"x\""), "a.b[1][1]");
        assert_eq!(at("\"c\""), "c");
        assert_eq!(at("{"), "");
        let multi = "{\n  \"servers\": [\n    {\"id\": 1}\n  ]\n}";
        assert_eq!(path_at(multi, 3, 12), "servers[0].id");
    }
}
