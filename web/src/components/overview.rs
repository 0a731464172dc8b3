//! The Overview tab: the scenario's election at a glance, and the tab a
//! first visit opens on.
//!
//! It shows the diagram exactly as `stagger render` draws it (a static SVG:
//! the Watch tab is the one that plays it), the predicted and simulated
//! winners and the delay table. Everything here comes from the page's own
//! wasm module, so a first visit downloads nothing else (see
//! [`crate::bridge`]); the buttons lead to the tabs that load the rest.

use crate::components::results::{DelayTable, MetricsStrip, Winners};
use crate::components::use_store;
use crate::state::{Action, Tab};
use yew::prelude::*;

#[function_component(Overview)]
pub fn overview() -> Html {
    let store = use_store();
    let go = |t: Tab| {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| store.dispatch(Action::SetTab(t)))
    };
    let diagram = match (store.outcome.error(), store.last_good.as_ref()) {
        (Some(e), _) => html! {
            <div class="banner error" role="alert" data-testid="overview-invalid">
                <strong>{"This scenario is not valid: "}</strong>{e.to_string()}
                <span class="muted">{" Fix it in the Edit tab; the field is marked there."}</span>
            </div>
        },
        (None, Some(c)) => html! {
            <div class="overview-svg" data-testid="overview-diagram">{ Html::from_html_unchecked(AttrValue::from(c.svg().to_string())) }</div>
        },
        (None, None) => html! {},
    };
    html! {
        <>
        <MetricsStrip />
        <div class="overview-layout">
            <section class="card overview-main">
                if let Some(d) = &store.file.description {
                    <p class="overview-description">{d.clone()}</p>
                }
                if !store.outcome.warnings().is_empty() {
                    <div class="banner warning" role="status" data-testid="overview-warnings">
                        <strong>{"This run may mislead:"}</strong>
                        <ul>
                            { for store.outcome.warnings().iter().map(|w| html! { <li data-field={w.field.clone()}>{w.to_string()}</li> }) }
                        </ul>
                        <span class="muted">{"Each is marked at its field in the Edit tab."}</span>
                    </div>
                }
                { diagram }
                <div class="overview-actions">
                    <button class="primary" onclick={go(Tab::Watch)} data-testid="overview-watch">{"▶ Watch it play"}</button>
                    <button onclick={go(Tab::Edit)} data-testid="overview-edit">{"Edit the group, delays and faults"}</button>
                    <button onclick={go(Tab::Compare)}>{"Compare timer schemes"}</button>
                </div>
            </section>
            <section class="results-col">
                <Winners />
                <DelayTable />
            </section>
        </div>
        </>
    }
}
