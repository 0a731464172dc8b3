//! The fault timeline: what happens to the group and when (SPEC §6). The
//! list is shown in the order faults apply (by time, then file order) and
//! edits keep the file in that order, so row `i` is `faults[i]`.
//!
//! A new fault gets a sensible default from the current state of the
//! scenario ([`crate::edit::new_fault`]), so adding one usually leaves the
//! file valid.

use super::fault_row::FaultRow;
use super::field::{within, FieldError};
use super::timeline::Timeline;
use super::{algorithm_of, current_ranking, edit};
use crate::components::use_store;
use crate::edit::{new_fault, Edit};
use stagger_core::scenario::{AlgorithmName, FaultKind};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[function_component(Faults)]
pub fn faults() -> Html {
    let store = use_store();
    let kind = use_state(|| FaultKind::Crash);
    let f = &store.file;
    let err = store.outcome.error();
    let ranking = current_ranking(&store);

    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some(k) = FaultKind::named(&v) {
                kind.set(k);
            }
        })
    };
    let on_add = {
        let (k, file, ranking) = (*kind, f.clone(), ranking.clone());
        edit(&store, move |_: MouseEvent| Edit::AddFault(new_fault(k, &file, &ranking)))
    };
    // Rows in the order faults apply; equal times keep file order.
    let mut order: Vec<usize> = (0..f.faults.len()).collect();
    order.sort_by(|a, b| f.faults[*a].at_ms.total_cmp(&f.faults[*b].at_ms));
    let rows: Vec<String> = (0..f.faults.len()).map(|i| format!("faults[{i}]")).collect();
    let other = algorithm_of(f) != AlgorithmName::Stagger;

    html! {
        <section class="card ed-card ed-faults" aria-label="Faults">
            <header class="ed-head">
                <h3>{"Faults"}<span class="muted">{format!(" · {}", f.faults.len())}</span></h3>
                <div class="ed-inline">
                    <select onchange={on_kind} aria-label="Kind of fault to add" data-testid="fault-kind">
                        { for FaultKind::ALL.iter().map(|k| {
                            // Raft and Bully have no ranking to change.
                            let refused = *k == FaultKind::Rerank && other;
                            html! {
                                <option value={k.name()} selected={*k == *kind} disabled={refused}>
                                    {k.name()}{if refused { " (staggered timer only)" } else { "" }}
                                </option>
                            }
                        }) }
                    </select>
                    <button class="primary small" onclick={on_add} data-testid="add-fault">{"+ Add fault"}</button>
                </div>
            </header>
            <Timeline />
            // A fault's own errors show on its row; this catches `faults` itself.
            <FieldError field="faults" error={within(err, "faults", &rows)} />
            if f.faults.is_empty() {
                <p class="ed-empty muted">{"No faults: the master stays up and nothing happens. Add a crash to see an election."}</p>
            } else {
                <ol class="ed-fault-list" data-field="faults" data-testid="faults">
                    { for order.iter().map(|i| html! { <FaultRow key={*i} index={*i} /> }) }
                </ol>
            }
        </section>
    }
}
