//! The SPEC §8 metrics of the current run, always visible.

use super::ms;
use crate::components::use_store;
use yew::prelude::*;

#[function_component(MetricsStrip)]
pub fn metrics_strip() -> Html {
    let store = use_store();
    let error = store.outcome.error().cloned();
    // While the file is invalid the last good run stays on screen, marked
    // stale, so numbers never flicker away while a value is being typed.
    let Some(c) = store.last_good.clone() else {
        return html! { <div class="metrics stale">{"No valid scenario yet."}</div> };
    };
    let m = &c.run.metrics;
    let stale = error.is_some();
    html! {
        <div class={classes!("metrics", stale.then_some("stale"))} aria-live="polite">
            <div class="metric">
                <span class="label">{"final master"}</span>
                <span class="value" data-testid="final-master">{m.final_master.clone().unwrap_or_else(|| "none".into())}</span>
            </div>
            <div class="metric">
                <span class="label">{"converged at (ms)"}</span>
                <span class="value" data-testid="converged-at">{ms(m.converged_at_ms)}</span>
            </div>
            <div class="metric">
                <span class="label">{"crash at (ms)"}</span>
                <span class="value" data-testid="crash-at">{ms(m.crash_at_ms)}</span>
            </div>
            <div class="metric">
                <span class="label">{"election messages"}</span>
                <span class="value" data-testid="election-messages">{m.election_messages}</span>
            </div>
            <div class="metric">
                <span class="label">{"messages"}</span>
                <span class="value" title={stagger_core::MessageKind::EVERY.iter().filter(|k| m.messages.get(**k) > 0).map(|k| format!("{} {}", k.name(), m.messages.get(*k))).collect::<Vec<_>>().join(", ")}>
                    {m.messages.total}
                </span>
            </div>
            <div class="metric">
                <span class="label">{"split brain (ms)"}</span>
                <span class="value" data-testid="split-brain">{format!("{:.3}", m.split_brain_ms)}</span>
            </div>
            <div class="metric">
                <span class="label">{"max masters"}</span>
                <span class="value" data-testid="max-masters">{m.max_masters}</span>
            </div>
            if let Some(e) = error {
                <div class="metric stale-note" data-testid="scenario-error">{format!("Not re-run: {e}")}</div>
            }
        </div>
    }
}
