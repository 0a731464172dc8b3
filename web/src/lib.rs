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
//! - `edit.rs`, `edit/`: edits of a scenario as pure functions (faults in
//!   `edit/faults.rs`, settings in `edit/settings.rs`); the editor's
//!   components only draw.
//! - `share.rs`: the `#tab=…&scenario=…` fragment, export and import;
//!   `credentials.rs`: the live group's token and secret, kept for the
//!   session instead of in the URL.
//! - `keys.rs`: the Watch tab's playback keys.
//! - `presets.rs`: the example scenarios, compiled in.
//! - `app.rs`: the playground page; `embed.rs`: the embeddable view.
//! - `components/`: one file per component: `editor/`, `results/`,
//!   `watch/` (drawn from core's `timeline::Playback`), `compare/`,
//!   `live/`, plus the toolbar and the help overlay.
//! - `member.rs`: the browser member of a live group (the engine on
//!   browser timers, joined through a node's `/ws`).
//! - `dom.rs`: the few browser calls (download, clipboard, history).
//! - `bridge.rs`, `views.rs`: the split into three wasm modules.
//!
//! The crate is built three times for the browser. With feature `app` it exports
//! [`run_app`], which `static/index.html` calls; with feature `views` it
//! exports `mount_views` (the Edit, Watch, Compare and Live tabs, loaded
//! when one is first opened); with feature `embed`, `run_embed`
//! (`static/embed.html`). Each build keeps
//! only what its exports reach; [`bridge`] says why and how they talk.

pub mod app;
pub mod bridge;
pub mod components;
pub mod credentials;
pub mod dom;
pub mod edit;
pub mod embed;
pub mod keys;
pub mod member;
pub mod presets;
pub mod share;
/// `stagger_speed`, for `stagger-bench speed`: the `views` module only.
#[cfg(feature = "views")]
pub mod speed;
pub mod state;
pub mod views;

#[cfg(any(feature = "app", feature = "views", feature = "embed"))]
use wasm_bindgen::prelude::*;

/// Mounts the playground on `#app`.
#[cfg(feature = "app")]
#[wasm_bindgen]
pub fn run_app() {
    let root = dom::element_by_id("app");
    yew::Renderer::<app::App>::with_root(root).render();
}

/// Mounts the Edit, Watch, Compare and Live tabs on `#views`, starting from the
/// page's [`bridge::Snapshot`] (JSON). Called by the page, once.
#[cfg(feature = "views")]
#[wasm_bindgen]
pub fn mount_views(start: &str) -> Result<(), JsError> {
    let start = bridge::Snapshot::from_json(start).map_err(|e| JsError::new(&e))?;
    let root = dom::element_by_id("views");
    yew::Renderer::<views::Views>::with_root_and_props(root, views::ViewsProps { start }).render();
    Ok(())
}

/// Mounts the embeddable view on `#app`.
#[cfg(feature = "embed")]
#[wasm_bindgen]
pub fn run_embed() {
    let root = dom::element_by_id("app");
    yew::Renderer::<embed::Embed>::with_root(root).render();
}
