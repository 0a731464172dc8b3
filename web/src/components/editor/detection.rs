//! Failure detection (SPEC §3, Fig. 5): the inquiry period — one for all
//! (Fig. 7a) or one per server (Fig. 7b) — the inquiry timeout τ, which
//! must stay below every period, the phases and the misses that count as a
//! failure.

use super::field::{at, warn_at, within, FieldError, FieldWarning, NumField};
use super::{algorithm_label, algorithm_of, edit, update};
use crate::components::use_store;
use crate::edit::Edit;
use stagger_core::scenario::{AlgorithmName, DetectionEntry, Periods, PhaseMode};
use stagger_core::ScenarioFile;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

fn detection(f: &mut ScenarioFile) -> &mut DetectionEntry {
    f.detection.get_or_insert(DetectionEntry { period_ms: None, timeout_ms: None, phase: None, misses: None })
}

#[function_component(Detection)]
pub fn detection_card() -> Html {
    let store = use_store();
    let err = store.outcome.error();
    let f = &store.file;
    let d = f.detection.clone().unwrap_or(DetectionEntry { period_ms: None, timeout_ms: None, phase: None, misses: None });
    let per_server = matches!(d.period_ms, Some(Periods::PerServer(_)));

    let on_per_server = {
        let set = edit(&store, Edit::PerServerPeriods);
        Callback::from(move |e: Event| set.emit(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let on_timeout = update(&store, |f, v: Option<f64>| detection(f).timeout_ms = v);
    let on_misses = update(&store, |f, v: Option<u32>| detection(f).misses = v);
    let on_phase = {
        let set = update(&store, |f, v: String| {
            detection(f).phase = match v.as_str() {
                "asynchronous" => Some(PhaseMode::Asynchronous),
                _ => Some(PhaseMode::Synchronous),
            }
        });
        Callback::from(move |e: Event| set.emit(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let phase = d.phase.unwrap_or_default();
    let algorithm = algorithm_of(f);
    let other = algorithm != AlgorithmName::Stagger;

    // A list of periods gets its own row; one period sits with the others.
    let (period_list, period_field) = match &d.period_ms {
        Some(Periods::PerServer(list)) => {
            let cells = f.servers.iter().enumerate().map(|(i, s)| {
                let path = format!("detection.period_ms[{i}]");
                let on_commit = update(&store, move |f, v: Option<f64>| {
                    if let (Some(Periods::PerServer(list)), Some(v)) = (&mut detection(f).period_ms, v) {
                        if let Some(slot) = list.get_mut(i) {
                            *slot = v;
                        }
                    }
                });
                html! {
                    <label class="ed-field compact" key={i}>
                        <span class="ed-label" title={s.id.clone()}>{s.id.clone()}</span>
                        <NumField<f64> field={path.clone()} value={list.get(i).copied()} error={at(err, &path)} step={50.0} {on_commit} />
                    </label>
                }
            });
            (html! { <div class="ed-periods">{ for cells }</div> }, html! {})
        }
        other => {
            let value = match other {
                Some(Periods::Equal(p)) => Some(*p),
                _ => None,
            };
            let on_commit = update(&store, |f, v: Option<f64>| detection(f).period_ms = v.map(Periods::Equal));
            let field = html! {
                <label class="ed-field">
                    <span class="ed-label" title="P: how often a backup inquires of its master">{"period P (ms)"}</span>
                    <NumField<f64> field="detection.period_ms" value={value} optional=true placeholder="500" step={50.0}
                        error={at(err, "detection.period_ms")} {on_commit} />
                </label>
            };
            (html! {}, field)
        }
    };
    let n = f.servers.len();
    let mut shown: Vec<String> = ["detection.timeout_ms", "detection.misses", "detection.phase"].map(String::from).to_vec();
    if per_server {
        shown.extend((0..n).map(|i| format!("detection.period_ms[{i}]")));
    } else {
        shown.push("detection.period_ms".into());
    }

    html! {
        <section class="card ed-card" aria-label="Failure detection">
            <header class="ed-head">
                <h3>{"Failure detection"}</h3>
                <label class="ed-check" title="Fig. 7b: each server has its own period, in servers order">
                    <input type="checkbox" checked={per_server} onchange={on_per_server} data-testid="per-server-periods" />
                    {"per-server periods"}
                </label>
            </header>
            if other {
                <p class="ed-note muted">{format!(
                    "Under {}: the longest P and τ give the defaults of its heartbeat and timeouts (Election algorithm card), the phase times the first heartbeat; misses are not used.",
                    algorithm_label(algorithm))}</p>
            }
            { period_list }
            <div class="ed-form">
                { period_field }
                <label class="ed-field">
                    <span class="ed-label" title="τ: how long a backup waits for the master's reply; must be below every period">
                        {"timeout τ (ms)"}</span>
                    <NumField<f64> field="detection.timeout_ms" value={d.timeout_ms} optional=true placeholder="400" step={50.0}
                        error={at(err, "detection.timeout_ms")} on_commit={on_timeout} />
                    <FieldWarning field="detection.timeout_ms" warning={warn_at(store.outcome.warnings(), "detection.timeout_ms")} />
                </label>
                <label class={classes!("ed-field", other.then_some("unused-field"))}>
                    <span class="ed-label" title="Consecutive missed replies before the master counts as failed (the staggered timer's only)">{"misses"}</span>
                    <NumField<u32> field="detection.misses" value={d.misses} optional=true placeholder="1"
                        error={at(err, "detection.misses")} on_commit={on_misses} />
                </label>
                <label class="ed-field">
                    <span class="ed-label" title="Synchronous: every timer starts at 0. Asynchronous: seeded random phases in [0, P)">
                        {"phase"}</span>
                    <select data-field="detection.phase" onchange={on_phase}>
                        <option value="synchronous" selected={phase == PhaseMode::Synchronous}>{"synchronous"}</option>
                        <option value="asynchronous" selected={phase == PhaseMode::Asynchronous}>{"asynchronous"}</option>
                    </select>
                </label>
            </div>
            <FieldError field="detection" error={within(err, "detection", &shown)} />
        </section>
    }
}
