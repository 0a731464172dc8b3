//! The predicted and the simulated winner, side by side.

use crate::components::use_store;
use stagger_core::{Algorithm, MessageKind};
use yew::prelude::*;

#[function_component(Winners)]
pub fn winners() -> Html {
    let store = use_store();
    let Some(c) = store.last_good.clone() else { return html! {} };
    let s = &c.scenario;
    // The prediction for the run's own crash set: the top k ranks down when
    // the scenario crashes exactly the top k servers together.
    let table = s.rank_table();
    let crashed: Vec<u32> = s
        .faults
        .iter()
        .filter_map(|f| match f.action {
            stagger_core::scenario::FaultAction::Crash(r) => Some(table.index_of(r)),
            _ => None,
        })
        .collect();
    let k = crashed.len() as u32;
    let top_k = k > 0 && (0..k).all(|i| crashed.contains(&i));
    let prediction = if top_k { c.report.predictions.iter().find(|p| p.down == k) } else { None };
    let simulated = c.run.metrics.final_master.clone();
    let counts = &c.run.metrics.messages;
    // Raft and Bully have no election delays to predict from.
    let other = match s.algorithm {
        Algorithm::Stagger => None,
        Algorithm::Raft(_) => Some(("any survivor", "Raft elects whichever candidate gathers a majority first")),
        Algorithm::Bully(_) => Some(("the best live rank", "Bully always elects the best-ranked survivor")),
    };
    let sent = if other.is_some() {
        MessageKind::EVERY
            .iter()
            .filter(|k| k.is_election() && counts.get(**k) > 0)
            .map(|k| format!("{} {}", counts.get(*k), k.name()))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        format!("{} declare, {} revoke", counts.declare, counts.revoke)
    };
    html! {
        <div class="card winners">
            <div class="winner">
                <span class="label">{"predicted winner"}</span>
                <span class="value" data-testid="predicted-winner">{
                    match (other, prediction) {
                        (Some((who, _)), _) => who.to_string(),
                        (None, Some(p)) => p.winner.clone(),
                        (None, None) if c.report.predictions.is_empty() => "random (randomized timers)".into(),
                        (None, None) => "—".into(),
                    }
                }</span>
                if let Some((_, why)) = other {
                    <span class="detail">{why}</span>
                } else if let Some(p) = prediction {
                    <span class="detail">{
                        if p.clean { format!("one broadcast, slack {}", slack(p.slack_ms)) }
                        else { format!("contested: {} declares first, slack {}", p.first, slack(p.slack_ms)) }
                    }</span>
                } else {
                    <span class="detail">{"predictions cover crashes of the top k ranks at once"}</span>
                }
            </div>
            <div class="winner">
                <span class="label">{"simulated winner"}</span>
                <span class="value" data-testid="simulated-winner">{simulated.unwrap_or_else(|| "no single master".into())}</span>
                <span class="detail">{sent}</span>
            </div>
        </div>
    }
}

fn slack(v: Option<f64>) -> String {
    v.map_or("—".into(), |s| format!("{s:+.3} ms"))
}
