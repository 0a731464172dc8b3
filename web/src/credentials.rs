//! The live group's admin token and secret, kept for this browser tab's
//! session.
//!
//! `stagger demo` prints a Live view URL whose fragment carries both
//! (`#tab=live&token=…&secret=…`): fragments never reach a server, but they
//! do stay in the address bar and the browser's history, and a secret there
//! is one screenshot or shared link away from a stranger. So the page reads
//! them once, keeps them in `sessionStorage` (this tab only, gone when it
//! closes, still there after a reload) and replaces the URL with one without
//! them. A reload of the Live view then keeps its admin buttons.

use crate::share;

/// The fragment parameters that hold credentials.
pub const PARAMS: [&str; 2] = ["token", "secret"];

/// Where the session keeps them.
const TOKEN_KEY: &str = "stagger.live.token";
const SECRET_KEY: &str = "stagger.live.secret";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Credentials {
    /// The group's admin token (`Authorization: Bearer`).
    pub token: Option<String>,
    /// The group's secret, to join it as a browser member.
    pub secret: Option<String>,
}

impl Credentials {
    /// Those a fragment carries. An empty value counts as absent.
    pub fn from_fragment(fragment: &str) -> Credentials {
        let get = |key| share::param(fragment, key).filter(|v| !v.is_empty());
        Credentials { token: get("token"), secret: get("secret") }
    }

    /// Each of `self`'s, or `older`'s where `self` has none: a URL's are
    /// newer than the session's.
    pub fn or(self, older: Credentials) -> Credentials {
        Credentials { token: self.token.or(older.token), secret: self.secret.or(older.secret) }
    }
}

/// The credentials of this page load: the URL's, else the session's. Stores
/// them for the session and removes them from the address bar (replacing
/// the history entry, so Back does not bring them back either).
pub fn take() -> Credentials {
    let hash = crate::dom::hash();
    let given = Credentials::from_fragment(&hash);
    let storage = crate::dom::window().session_storage().ok().flatten();
    let stored = Credentials {
        token: storage.as_ref().and_then(|s| s.get_item(TOKEN_KEY).ok().flatten()),
        secret: storage.as_ref().and_then(|s| s.get_item(SECRET_KEY).ok().flatten()),
    };
    if given != Credentials::default() {
        if let Some(s) = &storage {
            // A browser that refuses storage still gets this load's.
            for (key, value) in [(TOKEN_KEY, &given.token), (SECRET_KEY, &given.secret)] {
                if let Some(v) = value {
                    let _ = s.set_item(key, v);
                }
            }
        }
        crate::dom::replace_hash(&share::without(&hash, &PARAMS));
    }
    given.or(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_url_gives_them_and_the_session_keeps_them() {
        let url = Credentials::from_fragment("#tab=live&token=t0k&secret=s3c");
        assert_eq!(url, Credentials { token: Some("t0k".into()), secret: Some("s3c".into()) });
        // A reload: the URL has none, the session's are used.
        let reload = Credentials::from_fragment("#tab=live&scenario=abc");
        assert_eq!(reload, Credentials::default());
        assert_eq!(reload.or(url.clone()), url);
        // A newer URL wins, field by field.
        let newer = Credentials::from_fragment("#token=new");
        assert_eq!(newer.or(url), Credentials { token: Some("new".into()), secret: Some("s3c".into()) });
        assert_eq!(Credentials::from_fragment("#token=&secret="), Credentials::default());
    }

    #[test]
    fn the_url_written_back_holds_neither() {
        let hash = "#tab=live&token=t0k&secret=s3c";
        let clean = share::without(hash, &PARAMS);
        assert_eq!(clean, "tab=live");
        assert_eq!(Credentials::from_fragment(&clean), Credentials::default());
        assert_eq!(share::tab(&clean), Some(crate::state::Tab::Live));
    }
}
