//! The scenario's name and description, and the two run settings that are
//! not about the protocol: the seed and the end time.

use super::field::{at, warn_at, FieldWarning, NumField, TextField};
use super::update;
use crate::components::use_store;
use yew::prelude::*;

/// Empty text means "leave the field out of the file".
fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[function_component(Meta)]
pub fn meta() -> Html {
    let store = use_store();
    let f = &store.file;
    let err = store.outcome.error();

    let on_name = update(&store, |f, v: String| f.name = non_empty(v));
    let on_description = update(&store, |f, v: String| f.description = non_empty(v));
    // Tall enough for the text, up to five lines.
    let rows = f.description.as_ref().map_or(1, |d| d.len() as u32 / 90 + 1).clamp(2, 5);
    let on_seed = update(&store, |f, v: Option<u64>| f.seed = v);
    let on_until = update(&store, |f, v: Option<f64>| f.until_ms = v);

    html! {
        <section class="card ed-card ed-meta" aria-label="Scenario">
            <div class="ed-meta-grid">
                <label class="ed-field name">
                    <span class="ed-label">{"Scenario name"}</span>
                    <TextField field="name" value={f.name.clone().unwrap_or_default()} placeholder="untitled"
                        error={at(err, "name")} on_commit={on_name} />
                </label>
                <label class="ed-field">
                    <span class="ed-label" title="Seeds the RNG of jitter, loss, asynchronous phases and randomized timers">{"Seed"}</span>
                    <NumField<u64> field="seed" value={f.seed} optional=true placeholder="42" error={at(err, "seed")} on_commit={on_seed} />
                </label>
                <label class="ed-field">
                    <span class="ed-label" title="The run stops here; events at exactly this instant still run">{"Run until (ms)"}</span>
                    <NumField<f64> field="until_ms" value={f.until_ms} optional=true placeholder="12000" step={500.0}
                        error={at(err, "until_ms")} on_commit={on_until} />
                    <FieldWarning field="until_ms" warning={warn_at(store.outcome.warnings(), "until_ms")} />
                </label>
                <label class="ed-field description">
                    <span class="ed-label">{"Description"}</span>
                    <TextField field="description" value={f.description.clone().unwrap_or_default()} rows={rows}
                        placeholder="What this scenario shows (optional)" error={at(err, "description")} on_commit={on_description} />
                </label>
            </div>
        </section>
    }
}
