//! The top bar: presets, sharing, export and import, help; and the tab bar
//! under it, which follows the WAI-ARIA tabs pattern.

use crate::components::{use_store, Store};
use crate::state::{Action, Tab};
use crate::{dom, presets, share};
use gloo::file::callbacks::FileReader;
use gloo::file::File;
use stagger_core::ScenarioFile;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[function_component(Toolbar)]
pub fn toolbar() -> Html {
    let store = use_store();
    // Keeps an import's reader alive until it has called back.
    let reader: Rc<RefCell<Option<FileReader>>> = use_mut_ref(|| None);

    let on_preset = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let name = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some(f) = presets::file(&name) {
                store.dispatch(Action::Switch(f, None));
            }
        })
    };
    let on_link = {
        let store = store.clone();
        Callback::from(move |_| {
            let url = dom::url_with_hash(&share::link(store.tab, &store.file));
            dom::copy(&url);
            store.dispatch(Action::Notice(Some(format!(
                "Link copied: it carries the whole scenario and opens the {} tab.",
                store.tab.label()
            ))));
        })
    };
    let on_embed = {
        let store = store.clone();
        Callback::from(move |_| {
            let url = dom::url_with_hash(&share::encode(&store.file)).replacen("index.html", "", 1);
            let url = match url.split_once('#') {
                Some((base, frag)) => format!("{}embed.html#{frag}", base.trim_end_matches('/').to_string() + "/"),
                None => url,
            };
            let snippet = format!("<iframe src=\"{url}\" width=\"960\" height=\"560\" style=\"border:0\" loading=\"lazy\" title=\"Stagger election\"></iframe>");
            dom::copy(&snippet);
            store.dispatch(Action::Notice(Some("Embed snippet copied (an <iframe> of embed.html).".into())));
        })
    };
    let on_export_json = {
        let store = store.clone();
        Callback::from(move |_| {
            let name = format!("{}.json", share::file_stem(&store.file));
            dom::download(&name, "application/json", &store.file.to_json_pretty());
        })
    };
    let on_import = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            let Some(file) = input.files().and_then(|l| l.get(0)) else { return };
            let name = file.name();
            let store = store.clone();
            let task = gloo::file::callbacks::read_as_text(&File::from(file), move |text| {
                let action = match text.map_err(|e| e.to_string()).and_then(|t| ScenarioFile::from_json(&t).map_err(|e| e.to_string())) {
                    Ok(f) => match f.validate() {
                        Ok(_) => Action::Switch(f, None),
                        // An invalid file still loads, so its error shows at the field.
                        Err(e) => {
                            store.dispatch(Action::Switch(f, None));
                            Action::Notice(Some(format!("{name} imported, but it is not valid: {e}")))
                        }
                    },
                    Err(e) => Action::Notice(Some(format!("{name} could not be imported: {e}"))),
                };
                store.dispatch(action);
            });
            *reader.borrow_mut() = Some(task);
            input.set_value("");
        })
    };
    let on_help = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::ToggleHelp))
    };
    let current = store.file.name.clone().unwrap_or_default();

    html! {
        <header class="toolbar">
            <div class="brand">
                <svg class="logo" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">
                    <rect x="1" y="3" width="6" height="3" rx="1" fill="#f6d28b" />
                    <rect x="1" y="8.5" width="11" height="3" rx="1" fill="#f3eaa0" />
                    <rect x="1" y="14" width="17" height="3" rx="1" fill="#e3e9f1" stroke="#0072b2" stroke-width="0.8" />
                </svg>
                <h1 class="name">{"Stagger"}</h1>
                <span class="tagline">{"staggered election timers, live"}</span>
            </div>
            <label class="preset">
                <span>{"Preset"}</span>
                <select onchange={on_preset} data-testid="preset">
                    { for presets::PRESETS.iter().map(|(name, _)| html! {
                        <option value={*name} selected={*name == current}>{*name}</option>
                    }) }
                    if !presets::PRESETS.iter().any(|(n, _)| *n == current) {
                        <option value="" selected=true disabled=true>{if current.is_empty() { "custom".to_string() } else { current.clone() }}</option>
                    }
                </select>
            </label>
            <div class="actions">
                <button onclick={on_link} data-testid="copy-link" title="Copy a link that carries the whole scenario and this tab">{"Copy link"}</button>
                <button onclick={on_embed} title="Copy an <iframe> snippet for documentation">{"Embed"}</button>
                <button onclick={on_export_json} data-testid="export-json">{"Export JSON"}</button>
                // The input stays in the tab order (a hidden one would not be);
                // only its look is the label's.
                <label class="button file-button" title="Load a scenario JSON file">
                    {"Import JSON"}
                    <input type="file" class="visually-hidden" accept=".json,application/json" onchange={on_import} data-testid="import-json" />
                </label>
                <button class="help-button" onclick={on_help} title="Keyboard shortcuts (?)" aria-label="Help">{"?"}</button>
            </div>
        </header>
    }
}

/// The element id of a tab's button.
pub fn tab_id(t: Tab) -> String {
    format!("tab-{}", t.name())
}

/// The tab an arrow, Home or End key moves to from `from`, wrapping around.
pub fn tab_after_key(from: Tab, key: &str) -> Option<Tab> {
    let n = Tab::ALL.len();
    let i = Tab::ALL.iter().position(|t| *t == from)?;
    let to = match key {
        "ArrowRight" => (i + 1) % n,
        "ArrowLeft" => (i + n - 1) % n,
        "Home" => 0,
        "End" => n - 1,
        _ => return None,
    };
    Some(Tab::ALL[to])
}

/// The tab bar: `role="tablist"`, one `role="tab"` button per tab with
/// `aria-selected`, and a roving tabindex (only the selected tab is in the
/// Tab order; the arrow keys, Home and End move between tabs and select
/// them). The panel it controls is the page's `<main>` for the Overview and
/// `#views` for the others.
///
/// A part of the page's markup rather than a component: it has no state of
/// its own, and each component costs the page's module its own copy of
/// Yew's mounting code.
pub fn tabs(store: &Store) -> Html {
    let tab = store.tab;
    let on_tab = |t: Tab| {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::SetTab(t)))
    };
    let on_key = {
        let store = store.clone();
        Callback::from(move |e: KeyboardEvent| {
            let Some(to) = tab_after_key(tab, &e.key()) else { return };
            e.prevent_default();
            // Arrows also step the Watch tab's playback; not from here.
            e.stop_propagation();
            store.dispatch(Action::SetTab(to));
            if let Some(b) = dom::document().get_element_by_id(&tab_id(to)).and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
                let _ = b.focus();
            }
        })
    };
    html! {
        <nav>
            <div class="tabs" role="tablist" aria-label="Views" onkeydown={on_key}>
                { for Tab::ALL.iter().map(|t| {
                    let selected = *t == tab;
                    html! {
                        <button role="tab" id={tab_id(*t)} class={classes!("tab", selected.then_some("active"))}
                            aria-selected={selected.to_string()} tabindex={if selected { "0" } else { "-1" }}
                            aria-controls={selected.then(|| panel_id(*t))}
                            data-testid={format!("tab-{}", t.name())} onclick={on_tab(*t)}>{t.label()}</button>
                    }
                }) }
            </div>
        </nav>
    }
}

/// The id of the element that shows tab `t`: the page's `<main>` for the
/// Overview, the views module's `#views` for the others.
pub fn panel_id(t: Tab) -> &'static str {
    match t {
        Tab::Overview => "overview-panel",
        _ => "views",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn arrows_home_and_end_move_between_tabs_and_wrap() {
        assert_eq!(tab_after_key(Tab::Overview, "ArrowRight"), Some(Tab::Edit));
        assert_eq!(tab_after_key(Tab::Overview, "ArrowLeft"), Some(Tab::Live));
        assert_eq!(tab_after_key(Tab::Live, "ArrowRight"), Some(Tab::Overview));
        assert_eq!(tab_after_key(Tab::Watch, "Home"), Some(Tab::Overview));
        assert_eq!(tab_after_key(Tab::Watch, "End"), Some(Tab::Live));
        assert_eq!(tab_after_key(Tab::Watch, "Enter"), None);
    }
}
