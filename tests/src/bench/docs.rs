//! Regenerating a section of `docs/benchmarks.md` in place.
//!
//! A generated section sits between two marker comments,
//! `<!-- BEGIN generated: NAME -->` and `<!-- END generated: NAME -->`, so
//! the hand-written prose around it survives every regeneration. A file
//! without the markers gets the section appended at its end.

use super::fail;
use super::BenchError;
use std::path::Path;

fn markers(name: &str) -> (String, String) {
    (format!("<!-- BEGIN generated: {name} -->"), format!("<!-- END generated: {name} -->"))
}

/// `text` with the section `name` replaced by (or appended as) `body`.
pub fn splice(text: &str, name: &str, body: &str) -> Result<String, String> {
    let (begin, end) = markers(name);
    let block = format!("{begin}\n{}\n{end}", body.trim_end());
    match (text.find(&begin), text.find(&end)) {
        (Some(b), Some(e)) if b < e => Ok(format!("{}{block}{}", &text[..b], &text[e + end.len()..])),
        (None, None) => Ok(format!("{}\n\n{block}\n", text.trim_end())),
        _ => Err(format!("the markers of the generated section '{name}' are unmatched or out of order")),
    }
}

/// Rewrites the section `name` of the Markdown file at `path`.
pub fn write_section(path: &Path, name: &str, body: &str) -> Result<(), BenchError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io { path: p.clone(), source })?;
    let out = splice(&text, name, body).map_err(|e| fail(format!("{p}: {e}")))?;
    std::fs::write(path, out).map_err(|source| BenchError::Io { path: p, source })
}

/// What a benchmark ends with: its report on stdout, as JSON (`--json`)
/// or as the Markdown `table`, and the table written into section `name`
/// of the `docs` file when one was given.
pub fn publish(out: &serde_json::Value, table: &str, json: bool, docs: Option<&Path>, name: &str) -> Result<(), BenchError> {
    if json {
        println!("{out}");
    } else {
        println!("{table}");
    }
    docs.map_or(Ok(()), |path| write_section(path, name, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_in_place_and_the_prose_around_it_kept() {
        let once = splice("# Title\n\nprose\n", "x", "v1").unwrap();
        assert_eq!(once, "# Title\n\nprose\n\n<!-- BEGIN generated: x -->\nv1\n<!-- END generated: x -->\n");
        let edited = once.replace("prose", "prose, edited") + "\nmore prose\n";
        let twice = splice(&edited, "x", "v2\n").unwrap();
        assert!(twice.contains("prose, edited") && twice.contains("\nv2\n") && !twice.contains("v1") && twice.ends_with("more prose\n"));
        // Another section is left alone.
        let both = splice(&twice, "y", "w").unwrap();
        assert_eq!(splice(&both, "x", "v3").unwrap().matches("generated: y").count(), 2);
    }

    #[test]
    fn unmatched_markers_are_an_error_not_a_silent_append() {
        let broken = "<!-- BEGIN generated: x -->\nold\n";
        assert!(splice(broken, "x", "new").unwrap_err().contains("unmatched"));
    }
}
