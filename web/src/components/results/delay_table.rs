//! δ_j and D_i per rank (`data-testid="delay-table"`).

use crate::components::use_store;
use yew::prelude::*;

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
    html! {
        <div class="card">
            <h3>{"Election delays"}<span class="muted">{format!(" · {} timer", r.scheme)}</span></h3>
            <table class="delays" data-testid="delay-table">
                <thead><tr><th>{"rank"}</th><th>{"id"}</th><th title="max one-way delay to every lower rank, guard included">{"δ_j (ms)"}</th><th>{"D_i (ms)"}</th></tr></thead>
                <tbody>
                { for r.ranks.iter().map(|x| {
                    let d = x.d_ms.map_or("random".to_string(), |d| format!("{d:.3}"));
                    html! {
                        <tr data-rank={x.index.to_string()} data-delay-ms={x.d_ms.map(|d| d.to_string()).unwrap_or_default()}>
                            <td>{format!("S{}", x.index)}</td>
                            <td>{&x.id}</td>
                            <td class="num">{format!("{:.3}", x.delta_ms)}</td>
                            <td class="num">{d}</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
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
