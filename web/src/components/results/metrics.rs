//! The SPEC §8 metrics of the current run, always visible.

use super::ms;
use crate::components::use_store;
use stagger_core::sim::{Metrics, Settled};
use yew::prelude::*;

/// The verdict on where the run left the group, and its explanation: a
/// group converged at the end but not for the whole stability window is
/// still changing, whatever "converged at" says.
pub fn settled(m: &Metrics) -> (&'static str, String) {
    let window = format!("the group counts as stable once one master has lasted {:.3} ms before the end", m.stable_window_ms);
    let changes = format!("{} role change{}", m.role_changes, if m.role_changes == 1 { "" } else { "s" });
    match m.settled {
        Settled::Stable => ("stable", format!("{changes}; {window}")),
        Settled::StillChanging => ("still changing", format!("{changes}, the last at {} ms; {window}", ms(m.last_change()))),
        Settled::NotConverged => ("not converged", format!("{changes}; no single master at the end")),
    }
}

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
    let settled = settled(m);
    html! {
        <div class={classes!("metrics", stale.then_some("stale"))} aria-live="polite">
            <div class="metric">
                <span class="label">{"final master"}</span>
                <span class="value" data-testid="final-master">{m.final_master.clone().unwrap_or_else(|| "none".into())}</span>
            </div>
            <div class="metric">
                <span class="label">{if m.settled == Settled::Stable { "converged at (ms)" } else { "last converged at (ms)" }}</span>
                <span class="value" data-testid="converged-at">{ms(m.converged_at_ms)}</span>
            </div>
            <div class={classes!("metric", (m.settled != Settled::Stable).then_some("alarm"))}>
                <span class="label">{"settled"}</span>
                <span class="value" data-testid="settled" title={settled.1.clone()}>{settled.0}</span>
                if m.settled == Settled::StillChanging {
                    <span class="note" data-testid="last-change">{format!("last change {} ms", ms(m.last_change()))}</span>
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn run(f: stagger_core::ScenarioFile) -> Metrics {
        crate::state::Computed::new(f.validate().unwrap()).run.metrics.clone()
    }

    #[test]
    fn the_patent_example_is_stable() {
        let (word, why) = settled(&run(crate::presets::default_file()));
        assert_eq!(word, "stable");
        assert!(why.contains("1800.000 ms"), "{why}");
    }

    #[test]
    fn a_slow_round_trip_is_still_changing_with_its_last_change() {
        let mut f = crate::presets::default_file();
        f.delays_ms[1][2] = 300.0;
        f.delays_ms[2][1] = 300.0;
        let m = run(f);
        let (word, why) = settled(&m);
        assert_eq!(word, "still changing");
        assert!(why.contains(&format!("the last at {:.3} ms", m.last_change().unwrap())), "{why}");
    }
}
