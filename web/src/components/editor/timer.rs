//! The election timer (SPEC §5): the scheme, the one or two numbers it
//! takes, and the two extensions any scheme may add. Only the chosen
//! scheme's numbers are shown, because validation refuses the others; a
//! file that still has one (an import) gets the error on the section.

use super::field::{at, within, FieldError, NumField};
use super::{algorithm_of, edit, unused, update};
use crate::components::use_store;
use crate::edit::Edit;
use stagger_core::scenario::{AlgorithmName, Periods, SchemeName, TimerEntry};
use stagger_core::ScenarioFile;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

const SCHEMES: [(SchemeName, &str, &str); 3] = [
    (SchemeName::Integral, "integral", "D_i = T1 + Σ δ_j: each rank waits out every better rank's broadcast (the patent)."),
    (SchemeName::Equal, "equal", "D_i = T for all: backups time out together and contest the claim."),
    (SchemeName::Randomized, "randomized", "D_i uniform in [min, max], drawn at each election (Raft-style, for comparison)."),
];

/// The guard that `stagger-bench loses` recommends: one detection period P
/// (the longest, when periods differ; SPEC §7's 500 ms when unset). With it
/// the best survivor won every simulated trial under detection skew and
/// misestimated delays (docs/benchmarks.md).
fn recommended_guard_ms(f: &ScenarioFile) -> f64 {
    match f.detection.as_ref().and_then(|d| d.period_ms.clone()) {
        None => 500.0,
        Some(Periods::Equal(p)) => p,
        Some(Periods::PerServer(list)) => list.into_iter().fold(0.0, f64::max),
    }
}

/// Applies the recommended settings: `guard_ms = P` and `skip_known_dead`.
fn recommend(f: &mut ScenarioFile) {
    let guard = recommended_guard_ms(f);
    let t = timer(f);
    t.guard_ms = Some(guard);
    t.skip_known_dead = Some(true);
}

/// Whether the file already uses them.
fn recommended(f: &ScenarioFile) -> bool {
    f.timer.as_ref().is_some_and(|t| t.guard_ms == Some(recommended_guard_ms(f)) && t.skip_known_dead == Some(true))
}

/// The timer entry, created with the defaults when the file has none.
fn timer(f: &mut ScenarioFile) -> &mut TimerEntry {
    f.timer.get_or_insert_with(|| TimerEntry::scheme(SchemeName::Integral))
}

#[function_component(Timer)]
pub fn timer_card() -> Html {
    let store = use_store();
    let err = store.outcome.error();
    let t = store.file.timer.clone();
    let scheme = t.as_ref().map_or(SchemeName::Integral, |t| t.scheme);
    let get = |f: fn(&TimerEntry) -> Option<f64>| t.as_ref().and_then(f);

    let on_scheme = {
        let set = edit(&store, Edit::SetScheme);
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some((s, _, _)) = SCHEMES.iter().find(|(_, name, _)| *name == v) {
                set.emit(*s);
            }
        })
    };
    let on_skip = {
        let set = update(&store, |f, on: bool| timer(f).skip_known_dead = on.then_some(true));
        Callback::from(move |e: Event| set.emit(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    // One numeric row: label, input, the path it edits.
    let num = |label: &'static str,
               path: &'static str,
               value: Option<f64>,
               placeholder: &'static str,
               hint: &'static str,
               set: fn(&mut TimerEntry, Option<f64>)| {
        let on_commit = update(&store, move |f, v: Option<f64>| set(timer(f), v));
        html! {
            <label class="ed-field">
                <span class="ed-label" title={hint}>{label}</span>
                <NumField<f64> field={path} value={value} optional={!placeholder.is_empty()} placeholder={placeholder}
                    error={at(err, path)} step={5.0} {on_commit} />
            </label>
        }
    };
    let shown: Vec<String> = match scheme {
        SchemeName::Integral => vec!["timer.base_ms"],
        SchemeName::Equal => vec!["timer.delay_ms"],
        SchemeName::Randomized => vec!["timer.min_ms", "timer.max_ms"],
    }
    .into_iter()
    .chain(["timer.guard_ms", "timer.scheme"])
    .map(String::from)
    .collect();
    let explanation = SCHEMES.iter().find(|(s, _, _)| *s == scheme).map_or("", |(_, _, e)| e);
    let skip = t.as_ref().and_then(|t| t.skip_known_dead).unwrap_or(false);
    let other = algorithm_of(&store.file) != AlgorithmName::Stagger;
    let on_recommend = {
        let set = update(&store, |f, _: MouseEvent| recommend(f));
        Callback::from(move |e: MouseEvent| set.emit(e))
    };
    let guard_p = recommended_guard_ms(&store.file);

    html! {
        <section class={classes!("card", "ed-card", other.then_some("unused"))} aria-label="Election timer">
            <header class="ed-head"><h3>{"Election timer"}</h3></header>
            { unused(&store.file, "The election timer is") }
            <label class="ed-field">
                <span class="ed-label">{"Scheme"}</span>
                <select data-field="timer.scheme" onchange={on_scheme} data-testid="scheme">
                    { for SCHEMES.iter().map(|(s, name, _)| html! { <option value={*name} selected={*s == scheme}>{*name}</option> }) }
                </select>
            </label>
            <p class="ed-note muted">{explanation}</p>
            <div class="ed-form">
                { match scheme {
                    SchemeName::Integral => num("T1 base (ms)", "timer.base_ms", get(|t| t.base_ms), "50",
                        "D_1: the first backup's wait", |t, v| t.base_ms = v),
                    SchemeName::Equal => num("T delay (ms)", "timer.delay_ms", get(|t| t.delay_ms), "",
                        "Every backup's wait", |t, v| t.delay_ms = v),
                    SchemeName::Randomized => html! { <>
                        { num("min (ms)", "timer.min_ms", get(|t| t.min_ms), "", "Shortest draw", |t, v| t.min_ms = v) }
                        { num("max (ms)", "timer.max_ms", get(|t| t.max_ms), "", "Longest draw", |t, v| t.max_ms = v) }
                    </> },
                } }
                { num("guard (ms)", "timer.guard_ms", get(|t| t.guard_ms), "0",
                    "Added to every δ_j with 1 ≤ j ≤ N−1: absorbs detection skew", |t, v| t.guard_ms = v) }
            </div>
            <label class="ed-check" title="δ_j counts as 0 for a master this server saw fail, until it hears from it again">
                <input type="checkbox" data-field="timer.skip_known_dead" checked={skip} onchange={on_skip} />
                {"skip known dead (no wait for a master seen to fail)"}
            </label>
            <p class="ed-note ed-recommend" data-testid="timer-recommendation">
                if recommended(&store.file) {
                    <span class="muted">{format!("✓ Recommended settings: guard = P = {guard_p} ms and skip known dead.")}</span>
                } else {
                    <button type="button" onclick={on_recommend} data-testid="timer-recommend"
                        title="From stagger-bench loses (docs/benchmarks.md): with these, the best survivor won every simulated trial under detection skew and misestimated delays">
                        {format!("Recommended: guard = P ({guard_p} ms) and skip known dead")}
                    </button>
                }
            </p>
            <FieldError field="timer" error={within(err, "timer", &shown)} />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_recommendation_is_one_period_of_guard_and_skip_known_dead() {
        let mut f = crate::presets::default_file(); // patent-5: P = 500 ms, no guard
        assert!(!recommended(&f));
        recommend(&mut f);
        assert!(recommended(&f));
        let t = f.timer.as_ref().unwrap();
        assert_eq!((t.guard_ms, t.skip_known_dead, t.base_ms), (Some(500.0), Some(true), Some(50.0)));
        f.validate().unwrap();
        // Per-server periods: the longest.
        f.detection.as_mut().unwrap().period_ms = Some(Periods::PerServer(vec![300.0, 700.0, 500.0, 500.0, 500.0]));
        assert_eq!(recommended_guard_ms(&f), 700.0);
        assert!(!recommended(&f), "a guard of the old period no longer matches");
        // The lan-5 preset ships with them.
        assert!(recommended(&crate::presets::file("lan-5").unwrap()));
    }
}
