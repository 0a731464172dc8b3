//! A strip of the run, `[0, until_ms]`, with a marker per fault, so the
//! timing of a scenario reads at a glance. Markers that would overlap are
//! stacked; clicking one puts the cursor in that fault's time.

use crate::components::use_store;
use crate::dom;
use crate::edit::describe;
use stagger_core::scenario::{AlgorithmName, FaultKind};
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Markers closer than this (a share of the strip) go to different lanes.
const MIN_GAP: f64 = 0.035;
pub const LANES: usize = 3;

/// A lane for each position in `xs` (sorted ascending, in `[0, 1]`): the
/// first lane whose last marker is at least [`MIN_GAP`] away, else the one
/// whose last marker is farthest.
pub fn lanes(xs: &[f64]) -> Vec<usize> {
    let mut last = [f64::NEG_INFINITY; LANES];
    xs.iter()
        .map(|x| {
            let lane = (0..LANES)
                .find(|l| x - last[*l] >= MIN_GAP)
                .unwrap_or_else(|| (0..LANES).min_by(|a, b| last[*a].total_cmp(&last[*b])).unwrap_or(0));
            last[lane] = *x;
            lane
        })
        .collect()
}

/// Round tick times for a strip of `until` ms: 0 and four or five more.
pub fn ticks(until: f64) -> Vec<f64> {
    if !(until.is_finite() && until > 0.0) {
        return vec![0.0];
    }
    let raw = until / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(raw);
    (0..).map(|k| k as f64 * step).take_while(|t| *t <= until + 1e-9).collect()
}

fn label_ms(t: f64) -> String {
    if t >= 1000.0 {
        format!("{} s", t / 1000.0)
    } else {
        format!("{t} ms")
    }
}

#[function_component(Timeline)]
pub fn timeline() -> Html {
    let store = use_store();
    let f = &store.file;
    let until = f.until_ms.filter(|u| u.is_finite() && *u > 0.0).unwrap_or(12_000.0);
    let mut order: Vec<usize> = (0..f.faults.len()).collect();
    order.sort_by(|a, b| f.faults[*a].at_ms.total_cmp(&f.faults[*b].at_ms));
    let xs: Vec<f64> = order.iter().map(|i| (f.faults[*i].at_ms / until).clamp(0.0, 1.0)).collect();
    let lane = lanes(&xs);
    let stagger = super::algorithm_of(f) == AlgorithmName::Stagger;

    let markers = order.iter().zip(xs.iter().zip(&lane)).map(|(i, (x, lane))| {
        let fault = &f.faults[*i];
        let kind = fault.action.kind().name();
        let outside = !(0.0..=until).contains(&fault.at_ms);
        let focus = {
            let i = *i;
            Callback::from(move |_: MouseEvent| {
                let sel = format!("input[data-field=\"faults[{i}].at_ms\"]");
                if let Some(el) = dom::document().query_selector(&sel).ok().flatten() {
                    if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            })
        };
        html! {
            <button class={classes!("ed-marker", format!("kind-{kind}"), outside.then_some("outside"))}
                style={format!("left:{:.2}%;top:{}px", x * 100.0, 4 + lane * 12)}
                title={format!("{}{}", describe(fault), if outside { " (outside the run)" } else { "" })}
                aria-label={describe(fault)} onclick={focus} />
        }
    });

    html! {
        <div class="ed-timeline" data-testid="fault-timeline">
            <div class="ed-track">
                { for ticks(until).iter().map(|t| html! {
                    <span class={classes!("ed-tick", (*t > until * 0.92).then_some("end"))} style={format!("left:{:.2}%", t / until * 100.0)}>
                        <span>{label_ms(*t)}</span>
                    </span>
                }) }
                { for markers }
            </div>
            <div class="ed-legend">
                // Raft and Bully refuse reranks: not offered, so not in the legend.
                { for FaultKind::ALL.iter().filter(|k| **k != FaultKind::Rerank || stagger || f.faults.iter().any(|x| x.action.kind() == FaultKind::Rerank)).map(|k| html! {
                    <span class="ed-legend-item"><span class={classes!("ed-dot", format!("kind-{}", k.name()))} />{k.name()}</span>
                }) }
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn close_markers_take_different_lanes() {
        assert_eq!(lanes(&[0.1, 0.11, 0.12, 0.13, 0.5]), [0, 1, 2, 0, 0]);
        assert_eq!(lanes(&[0.0, 0.5, 1.0]), [0, 0, 0]);
        assert!(lanes(&[]).is_empty());
    }

    #[test]
    fn ticks_are_round_numbers_within_the_run() {
        assert_eq!(ticks(12_000.0), [0.0, 2500.0, 5000.0, 7500.0, 10000.0]);
        assert_eq!(ticks(8000.0), [0.0, 2000.0, 4000.0, 6000.0, 8000.0]);
        assert_eq!(ticks(0.0), [0.0]);
        assert_eq!(ticks(f64::NAN), [0.0]);
        assert_eq!(label_ms(2500.0), "2.5 s");
    }
}
