//! # stagger-web
//!
//! The Stagger playground: a Yew app compiled to wasm that runs
//! `stagger-core` in the tab. Edit a group, run its election on every edit,
//! watch it on a space-time diagram, compare schemes, share the scenario as a
//! URL, and embed the view in documentation.
//!
//! ## Layout
//!
//! - `state.rs`: the one `Reducible` state and its `Action`s.
//! - `edit.rs`: structural edits of a scenario (pure functions).
//! - `share.rs`: the `#scenario=` fragment, export and import.
//! - `presets.rs`: the example scenarios, compiled in.
//! - `app.rs`: the playground page; `embed.rs`: the embeddable view.
//! - `components/`: one file per component: `editor/`, `results/`,
//!   `watch/`, `compare/`, plus the toolbar and the help overlay.
//! - `dom.rs`: the few browser calls (download, clipboard, history).
//!
//! The pages are started from `static/index.html` and `static/embed.html`
//! through [`run_app`] and [`run_embed`].

pub mod app;
pub mod components;
pub mod dom;
pub mod edit;
pub mod embed;
pub mod presets;
pub mod share;
pub mod state;

use wasm_bindgen::prelude::*;

/// Mounts the playground on `#app`.
#[wasm_bindgen]
pub fn run_app() {
    let root = dom::element_by_id("app");
    yew::Renderer::<app::App>::with_root(root).render();
}

/// Mounts the embeddable view on `#app`.
#[wasm_bindgen]
pub fn run_embed() {
    let root = dom::element_by_id("app");
    yew::Renderer::<embed::Embed>::with_root(root).render();
}
