//! Sharing: the scenario in the URL fragment, export and import as JSON,
//! and the diagram as SVG.
//!
//! The fragment is `#tab=<name>&scenario=<base64url of the scenario JSON, no
//! padding>`, so a link (and a reload) opens the tab it was taken on. A link
//! without `tab=` (as links were before the tab was added) opens the
//! Overview, or keeps the tab shown when pasted into an open playground. It
//! is plain so that anyone can build such a link by hand or from a script
//! (`base64 -w0 file.json | tr '+/' '-_' | tr -d '='`).
//!
//! `stagger demo` adds the live group's `token=` and `secret=`; the page
//! reads them once ([`crate::credentials`]) and never writes them back.

use crate::state::Tab;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use stagger_core::ScenarioFile;

const KEY: &str = "scenario=";

/// The fragment (without `#`) that carries `file`.
pub fn encode(file: &ScenarioFile) -> String {
    let json = serde_json::to_string(file).expect("a scenario file serializes");
    format!("{KEY}{}", URL_SAFE_NO_PAD.encode(json.as_bytes()))
}

/// The fragment (without `#`) of a link to `file` shown on `tab`.
pub fn link(tab: Tab, file: &ScenarioFile) -> String {
    format!("tab={}&{}", tab.name(), encode(file))
}

/// The tab a fragment names, if it names one.
pub fn tab(fragment: &str) -> Option<Tab> {
    param(fragment, "tab").as_deref().and_then(Tab::from_name)
}

/// What a fragment asks for.
#[derive(Debug, PartialEq)]
pub enum Fragment {
    /// No `scenario=` in it: show the default.
    Empty,
    Scenario(ScenarioFile),
    /// A `scenario=` that cannot be read, and why.
    Malformed(String),
}

/// Reads a fragment, with or without its leading `#`. Other `&`-separated
/// parameters are ignored. Padding is tolerated.
pub fn decode(fragment: &str) -> Fragment {
    let fragment = fragment.trim_start_matches('#');
    let Some(value) = fragment.split('&').find_map(|p| p.strip_prefix(KEY)) else {
        return Fragment::Empty;
    };
    let bytes = match URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')) {
        Ok(b) => b,
        Err(e) => return Fragment::Malformed(format!("the link's scenario is not valid base64url: {e}")),
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Fragment::Malformed("the link's scenario is not UTF-8 text".into());
    };
    match ScenarioFile::from_json(&text) {
        Ok(f) => Fragment::Scenario(f),
        Err(e) => Fragment::Malformed(format!("the link's scenario is not a valid scenario: {e}")),
    }
}

/// The value of `key=` among the fragment's `&`-separated parameters.
pub fn param(fragment: &str, key: &str) -> Option<String> {
    fragment.trim_start_matches('#').split('&').find_map(|p| p.strip_prefix(key)?.strip_prefix('=')).map(str::to_string)
}

/// The fragment without its `keys=` parameters (and without its `#`).
pub fn without(fragment: &str, keys: &[&str]) -> String {
    let kept = fragment.trim_start_matches('#').split('&').filter(|p| {
        let name = p.split_once('=').map_or(*p, |(k, _)| k);
        !p.is_empty() && !keys.contains(&name)
    });
    kept.collect::<Vec<_>>().join("&")
}

/// A file name for exports, from the scenario's name.
pub fn file_stem(file: &ScenarioFile) -> String {
    let name = file.name.clone().unwrap_or_else(|| "scenario".into());
    let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if clean.is_empty() {
        "scenario".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn fragment_parameters() {
        assert_eq!(param("#scenario=abc&token=t0k&tab=live", "token").as_deref(), Some("t0k"));
        assert_eq!(param("#tab=live", "tab").as_deref(), Some("live"));
        assert_eq!(param("#tabs=x", "tab"), None);
    }

    #[test]
    fn a_link_carries_its_tab_and_one_without_a_tab_still_reads() {
        let f = crate::presets::default_file();
        let watch = link(Tab::Watch, &f);
        assert!(watch.starts_with("tab=watch&scenario="), "{watch}");
        assert_eq!(tab(&watch), Some(Tab::Watch));
        assert_eq!(decode(&watch), Fragment::Scenario(f.clone()));
        for t in Tab::ALL {
            assert_eq!(tab(&link(t, &f)), Some(t), "{t:?} survives a round trip");
        }
        // An old link, without a tab, still reads.
        assert_eq!(decode(&encode(&f)), Fragment::Scenario(f.clone()));
        assert_eq!(tab(&encode(&f)), None);
        assert_eq!(tab("#tab=nonsense&scenario=x"), None);
        // The order of the parameters does not matter.
        assert_eq!(tab(&format!("#{}&tab=compare", encode(&f))), Some(Tab::Compare));
    }

    #[test]
    fn without_drops_only_the_named_parameters() {
        assert_eq!(without("#tab=live&token=t0k&secret=s3c", &["token", "secret"]), "tab=live");
        assert_eq!(without("scenario=abc&secret=s&tab=watch", &["secret"]), "scenario=abc&tab=watch");
        assert_eq!(without("#secrets=1&token", &["token", "secret"]), "secrets=1");
        assert_eq!(without("", &["token"]), "");
    }

    #[test]
    fn round_trip() {
        let f = crate::presets::default_file();
        let frag = encode(&f);
        assert!(!frag.contains('=') || frag.matches('=').count() == 1, "no padding");
        assert_eq!(decode(&format!("#{frag}")), Fragment::Scenario(f));
    }

    #[test]
    fn malformed_fragments_say_why() {
        assert_eq!(decode(""), Fragment::Empty);
        assert_eq!(decode("#other=1"), Fragment::Empty);
        match decode("#scenario=!!!") {
            Fragment::Malformed(m) => assert!(m.contains("base64url"), "{m}"),
            other => panic!("{other:?}"),
        }
        let not_json = URL_SAFE_NO_PAD.encode(b"{\"servers\": 3}");
        match decode(&format!("scenario={not_json}")) {
            Fragment::Malformed(m) => assert!(m.contains("servers"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
