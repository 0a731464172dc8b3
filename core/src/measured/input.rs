//! Measured matrices given by hand or gathered over HTTP: members'
//! `/api/delays` answers as plain JSON values (`stagger delays --node`
//! collects them; `stagger delays --measured FILE` reads them from a file,
//! an object keyed by member id) or a plain `N × N` matrix of one-way
//! delays in ms. Unlike [`super::merge`], which trusts reports this
//! program made, everything here is checked and a bad value is refused by
//! name. The twin of `stagger ctl predict` runs on the result.
//!
//! The statistics of an answer are round trips (docs/protocol.md M3), so
//! the chosen one is halved, as [`super::PeerDelays::one_way`] does.

use super::{merge_estimates, Statistic};
use serde_json::Value;
use std::fmt;

/// A one-way delay matrix in ms, rows and columns in the group's order;
/// `None` where the pair was not measured.
pub type Measured = Vec<Vec<Option<f64>>>;

/// Why a measured matrix was refused: always the input's fault, named.
#[derive(Clone, Debug, PartialEq)]
pub enum MeasuredError {
    /// Not JSON, or JSON of another shape.
    Shape(String),
    /// A delay below zero or not a number, at `place`.
    BadDelay { place: String, value: String },
    /// An id that is not a member of the group.
    UnknownMember { id: String, place: String },
    /// A plain matrix whose size is not the group's.
    WrongSize { expected: usize, found: String },
}

impl fmt::Display for MeasuredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeasuredError::Shape(why) => write!(f, "{why}"),
            MeasuredError::BadDelay { place, value } => {
                write!(f, "{place}: a delay must be a number of ms, zero or more, not {value}")
            }
            MeasuredError::UnknownMember { id, place } => write!(f, "{place}: '{id}' is not a member of the group"),
            MeasuredError::WrongSize { expected, found } => {
                write!(f, "the measured matrix must be {expected} × {expected} (one row and column per server), not {found}")
            }
        }
    }
}

impl std::error::Error for MeasuredError {}

/// The one-way delay `stat` gives for one peer entry of an `/api/delays`
/// answer (half its round trip), `None` when the entry has no such
/// statistic. `place` names the entry in errors.
fn one_way(entry: &Value, stat: Statistic, place: &str) -> Result<Option<f64>, MeasuredError> {
    match entry.get(stat.field()) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => delay(v, &format!("{place}.{}", stat.field())).map(|rtt| Some(rtt / 2.0)),
    }
}

/// A delay: a JSON number, zero or more.
fn delay(v: &Value, place: &str) -> Result<f64, MeasuredError> {
    match v.as_f64() {
        Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(MeasuredError::BadDelay { place: place.to_string(), value: v.to_string() }),
    }
}

fn row_of(ids: &[String], id: &str, place: &str) -> Result<usize, MeasuredError> {
    ids.iter().position(|x| x == id).ok_or_else(|| MeasuredError::UnknownMember { id: id.to_string(), place: place.to_string() })
}

/// Merges members' `/api/delays` answers (`(member id, answer)`) into one
/// matrix over `ids`, by the rule of [`super::merge`].
pub fn merge_answers(ids: &[String], answers: &[(String, Value)], stat: Statistic) -> Result<Measured, MeasuredError> {
    let mut estimates = Vec::new();
    for (from, answer) in answers {
        let j = row_of(ids, from, "the measured delays")?;
        let Some(peers) = answer.get("peers").and_then(Value::as_object) else {
            return Err(MeasuredError::Shape(format!("{from}'s delays: expected {{\"peers\": {{ID: {{...}}}}}}, got {answer}")));
        };
        for (to, entry) in peers {
            let place = format!("{from}'s delays.peers");
            let k = row_of(ids, to, &place)?;
            if let Some(v) = one_way(entry, stat, &format!("{place}.{to}"))? {
                estimates.push((j, k, v));
            }
        }
    }
    Ok(merge_estimates(ids.len(), estimates))
}

/// Reads a measured-delays file over `ids`: either an object of members'
/// `/api/delays` answers keyed by member id, or a plain `N × N` matrix of
/// one-way delays in ms (`null` for a pair not measured).
pub fn parse(ids: &[String], text: &str, stat: Statistic) -> Result<Measured, MeasuredError> {
    let value: Value = serde_json::from_str(text).map_err(|e| MeasuredError::Shape(format!("not JSON: {e}")))?;
    match value {
        Value::Object(members) => merge_answers(ids, &members.into_iter().collect::<Vec<_>>(), stat),
        Value::Array(rows) => {
            let n = ids.len();
            let sizes: Vec<usize> = rows.iter().map(|r| r.as_array().map_or(usize::MAX, Vec::len)).collect();
            if rows.len() != n || sizes.iter().any(|&s| s != n) {
                let found = match sizes.iter().find(|&&s| s != n) {
                    Some(&usize::MAX) => "rows that are not lists".to_string(),
                    Some(&s) => format!("{} rows with one of {s} columns", rows.len()),
                    None => format!("{} rows", rows.len()),
                };
                return Err(MeasuredError::WrongSize { expected: n, found });
            }
            (rows.iter().enumerate())
                .map(|(j, row)| {
                    (row.as_array().expect("checked above").iter().enumerate())
                        .map(|(k, v)| match v {
                            Value::Null => Ok(None),
                            v => delay(v, &format!("measured[{j}][{k}] ({} → {})", ids[j], ids[k])).map(Some),
                        })
                        .collect()
                })
                .collect()
        }
        other => {
            Err(MeasuredError::Shape(format!("expected members' /api/delays answers keyed by id, or an N × N matrix in ms; got {other}")))
        }
    }
}

/// The measured matrix with its holes filled from `configured_ms`, and the
/// pairs `(from, to)` that were filled (each pair once, `from < to`).
pub fn fill(ids: &[String], configured_ms: &[Vec<f64>], measured: &Measured) -> (Vec<Vec<f64>>, Vec<(String, String)>) {
    let mut missing = Vec::new();
    let matrix = (0..ids.len())
        .map(|j| {
            (0..ids.len())
                .map(|k| {
                    measured[j][k].unwrap_or_else(|| {
                        if j < k {
                            missing.push((ids[j].clone(), ids[k].clone()));
                        }
                        configured_ms[j][k]
                    })
                })
                .collect()
        })
        .collect();
    (matrix, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids() -> Vec<String> {
        ["a", "b", "c"].map(String::from).to_vec()
    }

    #[test]
    fn answers_merge_into_one_way_delays() {
        // Round-trip statistics: halved.
        let a = json!({"peers": {"b": {"median_ms": 20.0, "p99_ms": 30.0, "max_ms": 40.0, "samples": 9, "one_way_ms": 10.0}}});
        // c saw a longer one.
        let c = json!({"peers": {"a": {"median_ms": 50.0, "p99_ms": 60.0, "max_ms": 90.0, "samples": 3}}});
        let b = json!({"peers": {"a": {"median_ms": 24.0, "p99_ms": 36.0, "max_ms": 40.0, "samples": 9, "one_way_ms": 12.0}}});
        let answers = vec![("a".to_string(), a), ("b".to_string(), b), ("c".to_string(), c)];
        let m = merge_answers(&ids(), &answers, Statistic::P99).unwrap();
        assert_eq!(m[0][1], Some(18.0), "the larger of a's 15 and b's 18");
        assert_eq!(m[1][0], Some(18.0));
        assert_eq!(m[0][2], Some(30.0));
        assert_eq!(m[1][2], None, "nobody measured b–c");
        assert_eq!(m[2][2], Some(0.0));
        assert_eq!(merge_answers(&ids(), &answers, Statistic::Max).unwrap()[0][2], Some(45.0));
    }

    #[test]
    fn holes_are_filled_from_the_configured_matrix_and_listed() {
        let m = parse(&ids(), "[[0, 5, null], [5, 0, 7], [null, 7, 0]]", Statistic::P99).unwrap();
        let configured = vec![vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 3.0], vec![2.0, 3.0, 0.0]];
        let (full, missing) = fill(&ids(), &configured, &m);
        assert_eq!(full[0], vec![0.0, 5.0, 2.0]);
        assert_eq!(missing, vec![("a".to_string(), "c".to_string())]);
    }

    #[test]
    fn bad_input_is_refused_by_name() {
        let e = parse(&ids(), "[[0, -5, 1], [5, 0, 7], [1, 7, 0]]", Statistic::P99).unwrap_err().to_string();
        assert!(e.contains("measured[0][1] (a → b)") && e.contains("not -5"), "{e}");
        let e = parse(&ids(), r#"[[0, "x", 1], [5, 0, 7], [1, 7, 0]]"#, Statistic::P99).unwrap_err().to_string();
        assert!(e.contains("not \"x\""), "{e}");
        let e = parse(&ids(), "[[0, 1], [1, 0]]", Statistic::P99).unwrap_err().to_string();
        assert!(e.contains("must be 3 × 3") && e.contains("2 rows"), "{e}");
        let e = parse(&ids(), r#"{"a": {"peers": {"zed": {"p99_ms": 3}}}}"#, Statistic::P99).unwrap_err().to_string();
        assert!(e.contains("'zed' is not a member"), "{e}");
        let e = parse(&ids(), r#"{"a": {"peers": {"b": {"p99_ms": -3}}}}"#, Statistic::P99).unwrap_err().to_string();
        assert!(e.contains("a's delays.peers.b.p99_ms") && e.contains("not -3"), "{e}");
        let e = parse(&ids(), r#"{"a": {"peers": {"b": {"p99_ms": "fast"}}}}"#, Statistic::P99).unwrap_err().to_string();
        assert!(e.contains("not \"fast\""), "{e}");
        let e = parse(&ids(), "3", Statistic::P99).unwrap_err().to_string();
        assert!(e.contains("N × N matrix"), "{e}");
    }
}
