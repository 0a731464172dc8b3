//! The few direct browser calls the playground makes. Everything else goes
//! through Yew.

use gloo::events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, Element, HtmlAnchorElement, Url};

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}

pub fn document() -> web_sys::Document {
    window().document().expect("a document")
}

pub fn element_by_id(id: &str) -> Element {
    document().get_element_by_id(id).unwrap_or_else(|| panic!("the page has no #{id}"))
}

/// The location's fragment, with its `#`.
pub fn hash() -> String {
    window().location().hash().unwrap_or_default()
}

/// Replaces the fragment without adding a history entry or reloading.
pub fn replace_hash(fragment: &str) {
    if let Ok(history) = window().history() {
        let url = format!("#{fragment}");
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// Sets the fragment in a new history entry, without reloading, so the
/// browser's Back returns to the current one. Fires no `popstate`.
pub fn push_hash(fragment: &str) {
    if let Ok(history) = window().history() {
        let url = format!("#{fragment}");
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// Listens for `event` on `target` with a handler that may call
/// `preventDefault`. gloo's `EventListener::new` registers a passive
/// listener, in which the browser ignores `preventDefault` (Chromium logs
/// "Unable to preventDefault inside passive event listener"), so a key the
/// page handles would also scroll it or click the focused button.
pub fn listen_active<F>(target: &web_sys::EventTarget, event: &'static str, f: F) -> EventListener
where
    F: FnMut(&web_sys::Event) + 'static,
{
    EventListener::new_with_options(target, event, EventListenerOptions::enable_prevent_default(), f)
}

/// The full URL of this page with `fragment`.
pub fn url_with_hash(fragment: &str) -> String {
    let loc = window().location();
    let base = format!("{}{}", loc.origin().unwrap_or_default(), loc.pathname().unwrap_or_default());
    format!("{base}#{fragment}")
}

/// Offers `contents` as a file download.
pub fn download(name: &str, mime: &str, contents: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(contents));
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    let Ok(blob) = Blob::new_with_str_sequence_and_options(&parts, &bag) else { return };
    let Ok(url) = Url::create_object_url_with_blob(&blob) else { return };
    if let Ok(a) = document().create_element("a") {
        let a: HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = Url::revoke_object_url(&url);
}

/// Copies `text` to the clipboard; the browser may refuse without a user
/// gesture, which is fine for a convenience.
pub fn copy(text: &str) {
    let _ = window().navigator().clipboard().write_text(text);
}

/// Milliseconds since page load, for frame timing.
pub fn now_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Shortcuts must not steal keys from a field being typed in.
pub fn typing_in_a_field(e: &web_sys::KeyboardEvent) -> bool {
    let Some(t) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return false };
    matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || t.has_attribute("contenteditable")
}
