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
use std::rc::Rc;
use yew::prelude::*;

/// The cell background for `value` on a scale up to `max`. Pale for short
/// links, deep blue for the longest, so the slow links stand out.
pub fn heat(value: f64, max: f64) -> String {
    let t = if max > 0.0 && value.is_finite() { (value / max).clamp(0.0, 1.0) } else { 0.0 };
    // Dark text on every shade: the darkest (lightness 50 %) still gives
    // it a contrast of 4.5:1 (WCAG AA). No shade between that and white
    // text's own 4.5:1 (about 40 %) would serve either.
    let lightness = 97.0 - 47.0 * t;
    let saturation = 45.0 + 40.0 * t;
    format!("background-color:hsl(204 {saturation:.0}% {lightness:.0}%)")
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
    /// Where the cell's error bubble opens, so the grid's scroll box does
    /// not clip it: above the cell in the lower half of the visible rows,
    /// leftwards in the right half of the visible columns.
    flip: (bool, bool),
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
    let bg = if p.j == p.k { String::new() } else { heat(value, p.max) };
    html! {
        <td class={classes!("cell", (p.j == p.k).then_some("diag"), p.error.is_some().then_some("invalid"),
            p.flip.0.then_some("error-up"), p.flip.1.then_some("error-left"))} style={bg}>
            <NumField<f64> field={format!("delays_ms[{}][{}]", p.j, p.k)} value={Some(value)} title={p.title.clone()}
                label={p.title.clone()} error={p.error.clone()} step={5.0} {on_commit} />
        </td>
    }
}

/// At most this many rows and columns are on the page at once. A 200-server
/// matrix is 40,000 inputs; rendering them all made every edit take about a
/// second, so large matrices are edited through a window that pages.
pub const WINDOW: usize = 16;

/// The `(j, k)` of a cell path such as `delays_ms[3][7]`.
pub fn cell_of(field: &str) -> Option<(usize, usize)> {
    let rest = field.strip_prefix("delays_ms[")?;
    let (j, rest) = rest.split_once("][")?;
    let k = rest.strip_suffix(']')?;
    Some((j.parse().ok()?, k.parse().ok()?))
}

/// The first index of a window of `WINDOW` that shows `i`.
fn window_start(i: usize, n: usize) -> usize {
    (i / WINDOW * WINDOW).min(n.saturating_sub(WINDOW))
}

#[function_component(Matrix)]
pub fn matrix() -> Html {
    let store = use_store();
    // The visible window's first row and column.
    let origin = use_state(|| (0usize, 0usize));
    let f = &store.file;
    let err = store.outcome.error();
    let ids: Vec<&str> = f.servers.iter().map(|s| s.id.as_str()).collect();
    let n = ids.len();
    let m = &f.delays_ms;
    let max = m.iter().flatten().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    let symmetric_now = is_symmetric(m);
    let dispatch = store.dispatcher();
    let large = n > 12;
    let paged = n > WINDOW;
    // Keep the window inside the matrix, and on the cell an error names.
    let (mut r0, mut c0) = *origin;
    if let Some((j, k)) = err.and_then(|e| cell_of(&e.field)).filter(|(j, k)| *j < n && *k < n) {
        if !(r0..r0 + WINDOW).contains(&j) || !(c0..c0 + WINDOW).contains(&k) {
            (r0, c0) = (window_start(j, n), window_start(k, n));
        }
    }
    r0 = r0.min(n.saturating_sub(WINDOW));
    c0 = c0.min(n.saturating_sub(WINDOW));
    let rows: Vec<usize> = (r0..n.min(r0 + WINDOW)).collect();
    let cols: Vec<usize> = (c0..n.min(c0 + WINDOW)).collect();
    let pager = |label: &'static str, at: usize, set: Box<dyn Fn(usize) -> (usize, usize)>| {
        let origin = origin.clone();
        let set = Rc::new(set);
        let go = |to: usize| {
            let origin = origin.clone();
            let set = set.clone();
            Callback::from(move |_: MouseEvent| origin.set(set(to)))
        };
        let last = n.saturating_sub(WINDOW);
        html! {
            <span class="ed-pager">
                {format!("{label} {}–{} of {n} ", at + 1, (at + WINDOW).min(n))}
                <button disabled={at == 0} onclick={go(0)} title="first">{"⏮"}</button>
                <button disabled={at == 0} onclick={go(at.saturating_sub(WINDOW))} title="previous">{"◀"}</button>
                <button disabled={at >= last} onclick={go((at + WINDOW).min(last))} title="next">{"▶"}</button>
                <button disabled={at >= last} onclick={go(last)} title="last">{"⏭"}</button>
            </span>
        }
    };

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
    let cell_paths: Vec<String> = rows.iter().flat_map(|&j| cols.iter().map(move |&k| format!("delays_ms[{j}][{k}]"))).collect();
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
            if paged {
                <div class="ed-pagers" data-testid="matrix-pager">
                    { pager("rows", r0, Box::new(move |to| (to, c0))) }
                    { pager("columns", c0, Box::new(move |to| (r0, to))) }
                </div>
            }
            <div class={classes!("ed-grid-wrap", large.then_some("large"))} data-testid="matrix">
                <table class="ed-grid">
                    <thead>
                        <tr><th class="corner" title="from ↓ / to →">{"from \\ to"}</th>{ for cols.iter().map(|&k| head(ids[k])) }</tr>
                    </thead>
                    <tbody>
                        { for rows.iter().map(|&j| html! {
                            <tr key={j}>
                                <th scope="row" title={ids[j].to_string()} data-field={format!("delays_ms[{j}]")}
                                    class={classes!(err.is_some_and(|e| e.field == format!("delays_ms[{j}]")).then_some("invalid"))}>
                                    {ids[j]}</th>
                                { for cols.iter().map(|&k| {
                                    let path = format!("delays_ms[{j}][{k}]");
                                    html! {
                                        <Cell key={k} {j} {k} value={m.get(j).and_then(|r| r.get(k)).copied()} {max}
                                            error={at(err, &path)} title={format!("{} → {} (ms)", ids[j], ids[k])}
                                            flip={(2 * (j - r0) >= rows.len(), 2 * (k - c0) >= cols.len())}
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
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn cell_paths_and_windows() {
        assert_eq!(cell_of("delays_ms[3][17]"), Some((3, 17)));
        assert_eq!(cell_of("delays_ms[3]"), None);
        assert_eq!(cell_of("detection.period_ms"), None);
        assert_eq!(window_start(0, 200), 0);
        assert_eq!(window_start(37, 200), 32);
        assert_eq!(window_start(199, 200), 184, "the last window is full");
        assert_eq!(window_start(5, 10), 0);
    }

    #[test]
    fn heat_is_pale_for_short_and_deep_for_long_links() {
        let (low, high) = (heat(0.0, 100.0), heat(100.0, 100.0));
        assert!(low.contains("97%"));
        assert!(high.contains("50%"), "dark enough to see, light enough for dark text: {high}");
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
