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
    let crashed = crashed_indices(s);
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

/// The indices of the servers the run crashes; a crash after the end
/// never happens, so it predicts nothing.
fn crashed_indices(s: &stagger_core::Scenario) -> Vec<u32> {
    let table = s.rank_table();
    s.faults
        .iter()
        .filter(|f| f.at <= s.until)
        .filter_map(|f| match f.action {
            stagger_core::scenario::FaultAction::Crash(r) => Some(table.index_of(r)),
            _ => None,
        })
        .collect()
}

fn slack(v: Option<f64>) -> String {
    v.map_or("—".into(), |s| format!("{s:+.3} ms"))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_crash_after_the_end_predicts_no_takeover() {
        let mut f = crate::presets::default_file();
        assert_eq!(crashed_indices(&f.validate().unwrap()), [0]);
        // The run ends at 1000 ms, before ottawa's crash at 1900: ottawa
        // stays master, so no prediction of atlanta taking over.
        f.until_ms = Some(1000.0);
        assert!(crashed_indices(&f.validate().unwrap()).is_empty());
    }
}
