//! δ_j and D_i per rank (`data-testid="delay-table"`), and a sentence
//! under the table saying what the two columns mean for the scenario's
//! timer scheme: only the integral timer sums δ_j into D_i.

use crate::components::use_store;
use stagger_core::delays::RankDelay;
use stagger_core::Scheme;
use yew::prelude::*;

/// A δ_j cell: the value under the integral timer, a dash under the others,
/// which do not use δ.
fn delta_cell(scheme: &Scheme, r: &RankDelay) -> String {
    match scheme {
        Scheme::Integral { .. } => format!("{:.3}", r.delta_ms),
        Scheme::Equal { .. } | Scheme::Randomized { .. } => "—".into(),
    }
}

/// A D_i cell: the delay, or the randomized timer's range.
fn delay_cell(scheme: &Scheme, r: &RankDelay) -> String {
    match (scheme, r.d_ms) {
        (Scheme::Randomized { min, max }, _) => format!("{:.0}–{:.0}", min.as_ms(), max.as_ms()),
        (_, Some(d)) => format!("{d:.3}"),
        (_, None) => "—".into(),
    }
}

/// What the δ_j and D_i columns mean under `scheme`.
fn note(scheme: &Scheme) -> String {
    match scheme {
        Scheme::Integral { base } => format!(
            "Integral timer: D_i = T1 + δ_0 + … + δ_(i−1), with T1 = {:.0} ms. δ_j is the longest one-way delay from S_j to a lower rank, \
             guard included (0 for S_0, the master whose failure starts the election), so a backup's DeclareMaster reaches every lower \
             rank before that rank's own timer expires.",
            base.as_ms()
        ),
        Scheme::Equal { delay } => format!(
            "Equal timer: every backup waits the same D_i = {:.0} ms, so they all claim mastership at once and revocations settle \
             the contest. δ_j is not used.",
            delay.as_ms()
        ),
        Scheme::Randomized { min, max } => format!(
            "Randomized timer: each backup draws its D_i uniformly between {:.0} and {:.0} ms every time it enters an election, \
             so no winner can be predicted. δ_j is not used.",
            min.as_ms(),
            max.as_ms()
        ),
    }
}

#[function_component(DelayTable)]
pub fn delay_table() -> Html {
    let store = use_store();
    let Some(c) = store.last_good.clone() else { return html! {} };
    let r = &c.report;
    if c.scenario.algorithm != stagger_core::Algorithm::Stagger {
        return html! {
            <div class="card" data-testid="delay-table-other">
                <h3>{"Election delays"}</h3>
                <p class="muted">{format!(
                    "This scenario runs {}, which has no staggered election delays: δ_j and D_i belong to the staggered timer. Switch the algorithm in the Edit tab, or see all three side by side in Compare.",
                    if c.scenario.algorithm.name() == "raft" { "Raft" } else { "the Bully algorithm" }
                )}</p>
            </div>
        };
    }
    let scheme = &c.scenario.params.scheme;
    html! {
        <div class="card">
            <h3>{"Election delays"}<span class="muted">{format!(" · {} timer", r.scheme)}</span></h3>
            <table class="delays" data-testid="delay-table">
                <thead><tr><th>{"rank"}</th><th>{"id"}</th><th title="max one-way delay to every lower rank, guard included (integral timer only)">{"δ_j (ms)"}</th><th>{"D_i (ms)"}</th></tr></thead>
                <tbody>
                { for r.ranks.iter().map(|x| {
                    html! {
                        <tr data-rank={x.index.to_string()} data-delay-ms={x.d_ms.map(|d| d.to_string()).unwrap_or_default()}>
                            <td>{format!("S{}", x.index)}</td>
                            <td>{&x.id}</td>
                            <td class="num">{delta_cell(scheme, x)}</td>
                            <td class="num">{delay_cell(scheme, x)}</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            <p class="muted delays-note" data-testid="delay-note">{note(scheme)}</p>
            if !r.predictions.is_empty() {
                <h4>{"If the top k ranks fail at once"}</h4>
                <table class="predictions">
                    <thead><tr><th>{"k"}</th><th>{"winner"}</th><th>{"declares after"}</th><th>{"slack"}</th><th></th></tr></thead>
                    <tbody>
                    { for r.predictions.iter().map(|p| html! {
                        <tr class={classes!((!p.clean).then_some("contested"))}>
                            <td>{p.down}</td>
                            <td>{&p.winner}</td>
                            <td class="num">{format!("{:.3} ms", p.declares_after_ms)}</td>
                            <td class="num">{p.slack_ms.map_or("—".into(), |s| format!("{s:+.3} ms"))}</td>
                            <td>{ if p.clean { "one broadcast" } else { "contested" } }</td>
                        </tr>
                    }) }
                    </tbody>
                </table>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagger_core::Span;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn rank(delta_ms: f64, d_ms: Option<f64>) -> RankDelay {
        RankDelay { index: 1, id: "atlanta".into(), delta_ms, d_ms }
    }

    #[test]
    fn only_the_integral_timer_shows_delta() {
        let integral = Scheme::Integral { base: Span::from_ms(50) };
        assert_eq!(delta_cell(&integral, &rank(120.0, Some(50.0))), "120.000");
        assert_eq!(delay_cell(&integral, &rank(120.0, Some(50.0))), "50.000");
        assert!(note(&integral).contains("T1 = 50 ms"));
        let equal = Scheme::Equal { delay: Span::from_ms(40) };
        assert_eq!(delta_cell(&equal, &rank(0.0, Some(40.0))), "—");
        assert_eq!(delay_cell(&equal, &rank(0.0, Some(40.0))), "40.000");
        assert!(note(&equal).contains("same D_i = 40 ms"));
    }

    #[test]
    fn the_randomized_timer_shows_its_range_not_delta() {
        let random = Scheme::Randomized { min: Span::from_ms(150), max: Span::from_ms(300) };
        assert_eq!(delta_cell(&random, &rank(0.0, None)), "—");
        assert_eq!(delay_cell(&random, &rank(0.0, None)), "150–300");
        assert!(note(&random).contains("between 150 and 300 ms"), "{}", note(&random));
    }
}
