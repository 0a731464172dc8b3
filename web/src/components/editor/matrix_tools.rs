//! Whole-matrix tools: a seeded random matrix, and pasting CSV (from a
//! spreadsheet, a ping sweep). Both replace every cell, so they sit behind
//! a disclosure; a paste that is not an N×N matrix is refused with a notice
//! that says which line is wrong, and the matrix is left as it was.

use super::field::NumField;
use crate::components::use_store;
use crate::edit::Edit;
use crate::state::Action;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// The matrix as CSV, one row per line, for editing outside and pasting back.
pub fn to_csv(m: &[Vec<f64>]) -> String {
    m.iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")).collect::<Vec<_>>().join("\n")
}

#[function_component(MatrixTools)]
pub fn matrix_tools() -> Html {
    let store = use_store();
    let seed = use_state(|| Some(7u64));
    let lo = use_state(|| Some(10u64));
    let hi = use_state(|| Some(120u64));
    let csv = use_state(String::new);
    // Which of seed, from, to hold text that is not a number (bits 0–2):
    // generating then would silently use the previous value.
    let bad = use_state(|| 0u8);
    // Why the last paste was refused; the same text is also the notice.
    let paste_error = use_state(|| None::<String>);
    let n = store.file.servers.len();

    let set = |h: &UseStateHandle<Option<u64>>| {
        let h = h.clone();
        Callback::from(move |v: Option<u64>| h.set(v))
    };
    let flag = |bit: u8| {
        let bad = bad.clone();
        Some(Callback::from(move |is_bad: bool| bad.set(if is_bad { *bad | 1 << bit } else { *bad & !(1 << bit) })))
    };
    let on_generate = {
        let (store, seed, lo, hi) = (store.clone(), seed.clone(), lo.clone(), hi.clone());
        Callback::from(move |_: MouseEvent| {
            if let (Some(seed), Some(lo), Some(hi)) = (*seed, *lo, *hi) {
                store.dispatch(Action::Edit(Edit::Randomize { seed, lo, hi }));
            }
        })
    };
    let on_csv_input = {
        let (csv, paste_error) = (csv.clone(), paste_error.clone());
        Callback::from(move |e: InputEvent| {
            csv.set(e.target_unchecked_into::<HtmlTextAreaElement>().value());
            paste_error.set(None);
        })
    };
    let on_paste = {
        let (store, csv, paste_error) = (store.clone(), csv.clone(), paste_error.clone());
        Callback::from(move |_: MouseEvent| {
            paste_error.set(crate::edit::parse_csv(&csv, store.file.servers.len()).err());
            store.dispatch(Action::Edit(Edit::PasteCsv((*csv).clone())));
        })
    };
    let on_fill = {
        let (store, csv) = (store.clone(), csv.clone());
        Callback::from(move |_: MouseEvent| csv.set(to_csv(&store.file.delays_ms)))
    };
    let ready = seed.is_some() && lo.is_some() && hi.is_some() && *bad == 0;
    let sym = if store.symmetric { "symmetric" } else { "asymmetric (symmetric editing is off)" };

    html! {
        <details class="ed-tools">
            <summary>{"Generate or paste a matrix"}</summary>
            <div class="ed-tools-body">
                <div class="ed-tool">
                    <h4>{"Random"}</h4>
                    <div class="ed-inline">
                        <label class="ed-field compact"><span class="ed-label">{"seed"}</span>
                            <NumField<u64> value={*seed} on_commit={set(&seed)} on_bad={flag(0)} testid="random-seed" label="random seed" /></label>
                        <label class="ed-field compact"><span class="ed-label">{"from (ms)"}</span>
                            <NumField<u64> value={*lo} on_commit={set(&lo)} on_bad={flag(1)} testid="random-lo" label="lowest delay" step={5.0} /></label>
                        <label class="ed-field compact"><span class="ed-label">{"to (ms)"}</span>
                            <NumField<u64> value={*hi} on_commit={set(&hi)} on_bad={flag(2)} testid="random-hi" label="highest delay" step={5.0} /></label>
                        <button class="small" onclick={on_generate} disabled={!ready} data-testid="randomize"
                            aria-label="Generate a random matrix">{"Generate"}</button>
                    </div>
                    <p class="ed-note muted">{format!("Whole ms, uniform in the range, {sym}. The same seed gives the same matrix.")}</p>
                </div>
                <div class="ed-tool">
                    <h4>{"Paste CSV"}</h4>
                    <textarea rows="4" class={classes!("mono", paste_error.is_some().then_some("invalid"))} value={(*csv).clone()}
                        aria-label="Delay matrix as CSV"
                        oninput={on_csv_input} data-testid="csv"
                        placeholder={format!("{n} lines of {n} numbers, separated by commas, semicolons, tabs or spaces")} />
                    if let Some(why) = &*paste_error { <div class="field-error" data-testid="csv-error">{why.clone()}</div> }
                    <div class="ed-inline">
                        <button class="small" onclick={on_paste} disabled={csv.trim().is_empty()} data-testid="paste-csv">
                            {"Replace the matrix"}</button>
                        <button class="small" onclick={on_fill} title="Put the current matrix in the box">{"Copy current matrix here"}</button>
                    </div>
                </div>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    #[test]
    fn csv_round_trips_through_the_paste_parser() {
        let m = vec![vec![0.0, 12.5, 3.0], vec![12.5, 0.0, 7.0], vec![3.0, 7.0, 0.0]];
        assert_eq!(crate::edit::parse_csv(&super::to_csv(&m), 3).unwrap(), m);
    }
}
