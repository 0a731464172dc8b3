//! The bridge between the playground's two wasm modules.
//!
//! ## Why two modules
//!
//! The playground ships as two builds of this crate (cargo features `app`
//! and `views`), each with only the code its entry points reach:
//!
//! - `stagger_web` (feature `app`, loaded by `index.html`): the page, the
//!   toolbar, the metrics and the Overview tab (the diagram as `stagger
//!   render` draws it, the winners, the delay table): what a first visit
//!   shows.
//! - `stagger_views` (feature `views`): the Edit, Watch, Compare and Live
//!   tabs, fetched the first time one of them is opened.
//! - `stagger_embed` (feature `embed`): all of `embed.html`, which needs
//!   neither of the others.
//!
//! A first visit then downloads only the page's module, which keeps it
//! within the size budget of docs/benchmarks.md; one module with everything
//! was 65 % over it, and the editor alone is about 75 KB of the 250 KB.
//!
//! ## How they talk
//!
//! Each module is its own wasm instance with its own Yew app and its own
//! [`Playground`](crate::state::Playground) state, mounted on sibling
//! elements (`#app` and `#views`), so neither app's event delegation ever
//! sees the other's elements. They exchange [`Snapshot`]s as JSON in the
//! `detail` of `CustomEvent`s on `window`:
//!
//! - the page sends [`TO_VIEWS`] whenever the scenario, the tab or the live
//!   token changes;
//! - the views send [`TO_PAGE`] when they change the scenario (crash a server
//!   from the diagram, open a compared variant) or ask for another tab; a
//!   switch to a compared variant is marked so the page adds a history entry.
//!
//! The scenario file is the whole shared state: both sides re-run the
//! deterministic simulation from it, so they always show the same run.
//! A side ignores a snapshot equal to what it already shows, which ends every
//! echo after one hop.

use crate::state::Tab;
use serde::{Deserialize, Serialize};
use stagger_core::ScenarioFile;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, CustomEventInit};

/// The page's event to the views.
pub const TO_VIEWS: &str = "stagger:to-views";
/// The views' event to the page.
pub const TO_PAGE: &str = "stagger:to-page";

/// What one side tells the other. Every field is optional, so a side sends
/// only what changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<ScenarioFile>,
    /// A tab name as in [`Tab::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tab: Option<String>,
    /// The live view's admin token (see `crate::credentials`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The live group's secret, if the page was given one (see
    /// `Playground::live_secret`). Sent once, when the views are mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The views' user switched to this scenario and tab (Compare's
    /// "watch"): the page records it in the browser's history
    /// (`Action::Switch`), so Back returns to the one before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub switched: bool,
}

impl Snapshot {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a snapshot; the reason names what was wrong with it.
    pub fn from_json(text: &str) -> Result<Snapshot, String> {
        serde_json::from_str(text).map_err(|e| format!("a malformed message between the playground's modules: {e}"))
    }

    /// The tab, if one was sent and it names a tab.
    pub fn tab(&self) -> Option<Tab> {
        self.tab.as_deref().and_then(Tab::from_name)
    }
}

/// Sends `snap` as event `name` on `window`.
pub fn send(name: &str, snap: &Snapshot) {
    let init = CustomEventInit::new();
    init.set_detail(&JsValue::from_str(&snap.to_json()));
    if let Ok(ev) = CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = crate::dom::window().dispatch_event(&ev);
    }
}

/// The snapshot an event carries.
pub fn received(e: &web_sys::Event) -> Result<Snapshot, String> {
    let text = e.dyn_ref::<CustomEvent>().and_then(|c| c.detail().as_string()).ok_or("an event without a snapshot")?;
    Snapshot::from_json(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn snapshots_round_trip_and_omit_what_is_unset() {
        let s = Snapshot { scenario: Some(presets::default_file()), tab: Some("watch".into()), ..Default::default() };
        let back = Snapshot::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.tab(), Some(Tab::Watch));
        assert_eq!(Snapshot { tab: Some("edit".into()), ..Default::default() }.to_json(), r#"{"tab":"edit"}"#);
    }

    #[test]
    fn a_bad_snapshot_is_an_error_naming_it() {
        let e = Snapshot::from_json("{\"scenario\": 3}").unwrap_err();
        assert!(e.contains("malformed message") && e.contains("invalid type"), "{e}");
        assert_eq!(Snapshot { tab: Some("nope".into()), ..Default::default() }.tab(), None);
    }
}
