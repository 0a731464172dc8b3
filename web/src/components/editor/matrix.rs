//! The delay matrix `C[j][k]`: one-way delays in ms, edited cell by cell.
//!
//! Rows and columns follow the `servers` list, as in the file (SPEC §1), not
//! the ranking. Each cell is its own component fed by the store's
//! dispatcher, which never changes, so an edit re-renders only the cells
//! whose value, colour or error changed: a 50-server matrix is 2,500 inputs.

use super::field::{at, within, FieldError, NumField};
use super::matrix_tools::MatrixTools;
use crate::components::use_store;
use crate::edit::Edit;
use crate::state::{Action, Playground};
use yew::prelude::*;

/// The cell background for `value` on a scale up to `max`, and whether the
/// text on it should be light. Pale for short links, deep blue for the
/// longest, so the slow links stand out.
pub fn heat(value: f64, max: f64) -> (String, bool) {
    let t = if max > 0.0 && value.is_finite() { (value / max).clamp(0.0, 1.0) } else { 0.0 };
    let lightness = 97.0 - 57.0 * t;
    let saturation = 45.0 + 40.0 * t;
    (format!("background-color:hsl(204 {saturation:.0}% {lightness:.0}%)"), lightness < 60.0)
}

/// Whether `C[j][k] = C[k][j]` everywhere.
pub fn is_symmetric(m: &[Vec<f64>]) -> bool {
    m.iter().enumerate().all(|(j, row)| row.iter().enumerate().all(|(k, v)| m.get(k).and_then(|r| r.get(j)).is_none_or(|w| w == v)))
}

#[derive(Properties, PartialEq)]
struct CellProps {
    j: usize,
    k: usize,
    value: Option<f64>,
    max: f64,
    error: Option<AttrValue>,
    title: AttrValue,
    dispatch: UseReducerDispatcher<Playground>,
}

#[function_component(Cell)]
fn cell(p: &CellProps) -> Html {
    let on_commit = use_callback((p.j, p.k, p.dispatch.clone()), |v: Option<f64>, (j, k, d)| {
        if let Some(ms) = v {
            d.dispatch(Action::Edit(Edit::SetDelay { j: *j, k: *k, ms }));
        }
    });
    let Some(value) = p.value else {
        // A short row (an imported file): nothing to edit, the row's error says why.
        return html! { <td class="cell missing" title="missing entry">{"·"}</td> };
    };
    let (bg, dark) = if p.j == p.k { (String::new(), false) } else { heat(value, p.max) };
    html! {
        <td class={classes!("cell", (p.j == p.k).then_some("diag"), dark.then_some("dark"), p.error.is_some().then_some("invalid"))}
            style={bg}>
            <NumField<f64> field={format!("delays_ms[{}][{}]", p.j, p.k)} value={Some(value)} title={p.title.clone()}
                label={p.title.clone()} error={p.error.clone()} step={5.0} {on_commit} />
        </td>
    }
}

#[function_component(Matrix)]
pub fn matrix() -> Html {
    let store = use_store();
    let f = &store.file;
    let err = store.outcome.error();
    let ids: Vec<&str> = f.servers.iter().map(|s| s.id.as_str()).collect();
    let n = ids.len();
    let m = &f.delays_ms;
    let max = m.iter().flatten().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    let symmetric_now = is_symmetric(m);
    let dispatch = store.dispatcher();
    let large = n > 12;

    let on_symmetric = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<web_sys::HtmlInputElement>().checked();
            store.dispatch(Action::SetSymmetric(on));
        })
    };
    let on_symmetrize = {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| store.dispatch(Action::Edit(Edit::Symmetrize)))
    };
    // Cells show their own errors; the rest (a short row, a missing row)
    // is said above the grid.
    let cell_paths: Vec<String> = (0..n).flat_map(|j| (0..n).map(move |k| format!("delays_ms[{j}][{k}]"))).collect();
    let grid_error = within(err, "delays_ms", &cell_paths);
    let head = |id: &str| {
        let short: String =
            if id.chars().count() > 9 { id.chars().take(8).chain(std::iter::once('…')).collect() } else { id.to_string() };
        html! { <th scope="col" title={id.to_string()}><span>{short}</span></th> }
    };

    html! {
        <section class="card ed-card ed-matrix" aria-label="Delay matrix">
            <header class="ed-head">
                <h3>{"Delay matrix"}<span class="muted">{" · one-way delay C[j][k] in ms"}</span></h3>
                <label class="ed-check" title="Editing a cell also sets its mirror: C[k][j] = C[j][k]">
                    <input type="checkbox" checked={store.symmetric} onchange={on_symmetric} data-testid="symmetric" />
                    {"Symmetric editing"}
                </label>
            </header>
            <p class="ed-note muted">
                {"Row j is the sender, column k the receiver. Rows and columns follow the "}<strong>{"servers list"}</strong>
                {", not the ranking. Colour: darker is slower, relative to the slowest link"}
                {format!(" ({max} ms).")}
                if !symmetric_now {
                    <span class="ed-asym">{" The matrix is not symmetric. "}
                        <button class="link" onclick={on_symmetrize} title="Set C[k][j] = C[j][k] for every j < k">
                            {"Copy the upper triangle down"}</button>
                    </span>
                }
            </p>
            <FieldError field="delays_ms" error={grid_error} />
            <div class={classes!("ed-grid-wrap", large.then_some("large"))} data-testid="matrix">
                <table class="ed-grid">
                    <thead>
                        <tr><th class="corner" title="from ↓ / to →">{"from \\ to"}</th>{ for ids.iter().map(|id| head(id)) }</tr>
                    </thead>
                    <tbody>
                        { for (0..n).map(|j| html! {
                            <tr key={j}>
                                <th scope="row" title={ids[j].to_string()} data-field={format!("delays_ms[{j}]")}
                                    class={classes!(err.is_some_and(|e| e.field == format!("delays_ms[{j}]")).then_some("invalid"))}>
                                    {ids[j]}</th>
                                { for (0..n).map(|k| {
                                    let path = format!("delays_ms[{j}][{k}]");
                                    html! {
                                        <Cell key={k} {j} {k} value={m.get(j).and_then(|r| r.get(k)).copied()} {max}
                                            error={at(err, &path)} title={format!("{} → {} (ms)", ids[j], ids[k])}
                                            dispatch={dispatch.clone()} />
                                    }
                                }) }
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            <MatrixTools />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_is_pale_for_short_and_deep_for_long_links() {
        let (low, low_dark) = heat(0.0, 100.0);
        let (high, high_dark) = heat(100.0, 100.0);
        assert!(low.contains("97%") && !low_dark);
        assert!(high.contains("40%") && high_dark, "light text on the darkest cells");
        assert_eq!(heat(f64::NAN, 100.0), heat(0.0, 100.0));
        assert_eq!(heat(5.0, 0.0), heat(0.0, 1.0), "an all-zero matrix does not divide by zero");
        assert_eq!(heat(500.0, 100.0), heat(100.0, 100.0));
    }

    #[test]
    fn symmetry_is_checked_over_whatever_shape_there_is() {
        assert!(is_symmetric(&[vec![0.0, 1.0], vec![1.0, 0.0]]));
        assert!(!is_symmetric(&[vec![0.0, 1.0], vec![2.0, 0.0]]));
        assert!(is_symmetric(&[vec![0.0, 1.0], vec![1.0]]));
        assert!(is_symmetric(&[]));
    }
}
