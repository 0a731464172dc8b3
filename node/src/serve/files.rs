//! The playground's files, embedded in the binary at build time (see
//! `node/build.rs`), and the handler that answers every path no other
//! route claims.

use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/playground.rs"));
}

/// The answer to every request when the playground was not embedded.
pub const NOT_BUILT: &str = "the playground was not built into this binary: run `cargo xtask web` and rebuild";

/// A table of files: `(path under dist/, bytes, Content-Type)`, paths
/// with `/` separators and no leading `/`, sorted by path (it is searched
/// by bisection).
pub type Assets = &'static [(&'static str, &'static [u8], &'static str)];

/// The files embedded in this binary, sorted by path.
pub fn assets() -> Assets {
    embedded::ASSETS
}

/// The `dist/` folder the assets were read from when this binary was built.
pub fn built_from() -> &'static str {
    embedded::DIST_DIR
}

/// Whether this binary carries the playground (`dist/index.html`).
pub fn playground_embedded() -> bool {
    lookup(assets(), "index.html").is_some()
}

/// Whether `table` is sorted by path, as [`lookup`] needs.
pub(super) fn sorted(table: Assets) -> bool {
    table.windows(2).all(|w| w[0].0 < w[1].0)
}

/// The file at `path` in `table`.
fn lookup(table: Assets, path: &str) -> Option<(&'static [u8], &'static str)> {
    let i = table.binary_search_by(|(p, _, _)| (*p).cmp(path)).ok()?;
    let (_, bytes, ty) = table[i];
    Some((bytes, ty))
}

/// A plain-text answer: `message` and a newline.
pub fn text(status: StatusCode, message: &str) -> Response {
    (status, format!("{message}\n")).into_response()
}

/// `GET` and `HEAD` of the files: `/` and any `dir/` mean `index.html`.
/// `HEAD` gets the headers of `GET` (hyper leaves the body out).
pub(super) async fn serve(assets: Assets, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, &format!("method {method} is not allowed: use GET or HEAD"));
        r.headers_mut().insert(ALLOW, axum::http::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let path = match resolve(uri.path()) {
        Ok(p) => p,
        Err(why) => return text(StatusCode::BAD_REQUEST, why),
    };
    if lookup(assets, "index.html").is_none() {
        return text(StatusCode::SERVICE_UNAVAILABLE, NOT_BUILT);
    }
    match lookup(assets, &path) {
        Some((body, content_type)) => ([(CONTENT_TYPE, content_type)], body).into_response(),
        None => text(StatusCode::NOT_FOUND, &format!("not found: /{path}")),
    }
}

/// The embedded path a request path asks for: `%xx` escapes decoded, `/`
/// and `dir/` mean `index.html`, and any `.` or `..` segment is refused.
pub fn resolve(path: &str) -> Result<String, &'static str> {
    let Some(path) = path.strip_prefix('/') else {
        return Err("the request target must be a path starting with `/`");
    };
    // percent-encoding passes a `%` without two hex digits through; such a
    // path is malformed, not a file name.
    let escapes_ok = path.split('%').skip(1).all(|rest| rest.get(..2).is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok().filter(|_| escapes_ok);
    let decoded = decoded.ok_or("the path has a bad `%` escape or is not UTF-8")?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err("the path has a backslash or NUL");
    }
    let segments: Vec<&str> = decoded.split('/').collect();
    if segments.iter().any(|s| *s == ".." || *s == ".") {
        return Err("path traversal refused: the path has a `.` or `..` segment");
    }
    if segments.iter().rev().skip(1).any(|s| s.is_empty()) {
        return Err("the path has an empty segment (`//`)");
    }
    let mut path = decoded.into_owned();
    if path.is_empty() || path.ends_with('/') {
        path += "index.html";
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_maps_paths_and_refuses_traversal() {
        assert_eq!(resolve("/").unwrap(), "index.html");
        assert_eq!(resolve("/index.html").unwrap(), "index.html");
        assert_eq!(resolve("/pkg/stagger_web.js").unwrap(), "pkg/stagger_web.js");
        assert_eq!(resolve("/scenarios/").unwrap(), "scenarios/index.html");
        assert_eq!(resolve("/a%20b.json").unwrap(), "a b.json");
        for bad in [
            "/../etc/passwd",
            "/pkg/../../x",
            "/%2e%2e/x",
            "/./index.html",
            "/a%2F..%2Fb/..",
            "index.html",
            "/%zz",
            "/a%2",
            "/%ff",
            "/a//b",
            "/a\\b",
        ] {
            assert!(resolve(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_asset_table_is_sorted_for_lookup() {
        assert!(sorted(assets()));
    }

    #[test]
    fn lookup_finds_every_file_of_a_sorted_table_and_nothing_else() {
        static T: Assets = &[("a.css", b"a", "text/css"), ("index.html", b"i", "text/html"), ("pkg/x.js", b"x", "text/javascript")];
        assert!(sorted(T));
        for (p, bytes, ty) in T {
            assert_eq!(lookup(T, p), Some((*bytes, *ty)));
        }
        for missing in ["", "b.css", "pkg", "pkg/", "zzz"] {
            assert_eq!(lookup(T, missing), None, "{missing}");
        }
    }
}
