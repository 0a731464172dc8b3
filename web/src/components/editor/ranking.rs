//! The ranking: who is S0, S1, … ([0045]). Either an explicit order, edited
//! by dragging rows or with the arrow buttons, or a criterion over an
//! attribute ([0049]–[0050]). Moving a row while ranked by a criterion
//! switches to an explicit order that starts from the criterion's order,
//! and switching back to "explicit" keeps the current order too.

use super::field::{at, within, FieldError};
use super::{algorithm_of, current_ranking, edit};
use crate::components::use_store;
use crate::edit::Edit;
use crate::state::Action;
use stagger_core::scenario::AlgorithmName;
use std::collections::BTreeSet;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Where a drag started and where it would land.
#[derive(Clone, Copy, PartialEq, Default)]
struct Drag {
    from: Option<usize>,
    over: Option<usize>,
}

#[function_component(Ranking)]
pub fn ranking() -> Html {
    let store = use_store();
    let drag = use_state(Drag::default);
    let f = &store.file;
    let err = store.outcome.error();
    // An explicit list is shown as written, even when invalid, so the row
    // an error names (`ranking[3]`) is the row the user sees.
    let order: Vec<String> = f.ranking.clone().unwrap_or_else(|| current_ranking(&store));
    let n = order.len();
    let keys: BTreeSet<String> = f.servers.iter().flat_map(|s| s.attrs.keys().cloned()).collect();
    let by = f.rank_by.clone();

    let on_mode = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            store.dispatch(Action::Edit(Edit::RankBy((!v.is_empty()).then_some(v))));
        })
    };
    let move_rank = |from: usize, to: usize| {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| store.dispatch(Action::Edit(Edit::MoveRank { from, to })))
    };
    let leaves: Vec<String> = (0..n).map(|i| format!("ranking[{i}]")).chain(std::iter::once("rank_by".to_string())).collect();
    let list_error = within(err, "ranking", &leaves);
    let on_repair = edit(&store, |_: MouseEvent| Edit::RepairRanking);

    let rows = order.iter().enumerate().map(|(i, id)| {
        let path = format!("ranking[{i}]");
        let error = at(err, &path);
        let ondragstart = {
            let drag = drag.clone();
            Callback::from(move |e: DragEvent| {
                if let Some(dt) = e.data_transfer() {
                    dt.set_effect_allowed("move");
                    // Firefox starts a drag only when some data is set.
                    let _ = dt.set_data("text/plain", &i.to_string());
                }
                drag.set(Drag { from: Some(i), over: None });
            })
        };
        let ondragover = {
            let drag = drag.clone();
            Callback::from(move |e: DragEvent| {
                if drag.from.is_some() {
                    e.prevent_default();
                    if drag.over != Some(i) {
                        drag.set(Drag { over: Some(i), ..*drag });
                    }
                }
            })
        };
        let ondrop = {
            let (drag, store) = (drag.clone(), store.clone());
            Callback::from(move |e: DragEvent| {
                e.prevent_default();
                if let Some(from) = drag.from.filter(|from| *from != i) {
                    store.dispatch(Action::Edit(Edit::MoveRank { from, to: i }));
                }
                drag.set(Drag::default());
            })
        };
        let ondragend = {
            let drag = drag.clone();
            Callback::from(move |_: DragEvent| drag.set(Drag::default()))
        };
        // The line shows where the row lands: below the target when moving down.
        let mark = match (drag.from, drag.over) {
            (Some(from), Some(over)) if over == i && from < i => Some("drop-after"),
            (Some(from), Some(over)) if over == i && from > i => Some("drop-before"),
            _ => None,
        };
        let dragging = (drag.from == Some(i)).then_some("dragging");
        html! {
            <li key={format!("{i}-{id}")} class={classes!("ed-rank-row", mark, dragging, error.is_some().then_some("invalid"))}
                draggable="true" data-field={path.clone()} data-rank={i.to_string()}
                {ondragstart} {ondragover} {ondrop} {ondragend}>
                <span class="grip" aria-hidden="true" title="Drag to reorder">{"⠿"}</span>
                <span class="ed-rank-index">{format!("S{i}")}</span>
                <span class="ed-rank-id">{id.clone()}</span>
                if i == 0 { <span class="badge master" title="S0 is the master when the run starts">{"master"}</span> }
                <span class="ed-rank-move">
                    <button class="icon tiny" disabled={i == 0} onclick={move_rank(i, i.saturating_sub(1))}
                        title="Move up (rank higher)" aria-label={format!("Move {id} up")}>{"▲"}</button>
                    <button class="icon tiny" disabled={i + 1 >= n} onclick={move_rank(i, (i + 1).min(n.saturating_sub(1)))}
                        title="Move down (rank lower)" aria-label={format!("Move {id} down")}>{"▼"}</button>
                </span>
                if let Some(msg) = error { <div class="field-error" data-for={path}>{msg}</div> }
            </li>
        }
    });

    html! {
        <section class="card ed-card ed-ranking" aria-label="Ranking">
            <header class="ed-head"><h3>{"Ranking"}</h3></header>
            <label class="ed-field">
                <span class="ed-label">{"Rank"}</span>
                <select data-field="rank_by" onchange={on_mode} class={classes!(at(err, "rank_by").is_some().then_some("invalid"))}
                    data-testid="rank-by">
                    <option value="" selected={by.is_none()}>{"explicit order (drag to reorder)"}</option>
                    { for keys.iter().chain(by.iter().filter(|b| !keys.contains(*b))).map(|k| html! {
                        <option value={k.clone()} selected={by.as_deref() == Some(k.as_str())}>{format!("by {k}, highest first")}</option>
                    }) }
                </select>
                <FieldError field="rank_by" error={at(err, "rank_by")} />
            </label>
            <p class="ed-note muted">{
                if by.is_some() { "Ties go to the lower id. Moving a row switches to an explicit order." }
                else if keys.is_empty() { "Add an attribute in Servers to rank by a criterion." }
                else { "S0 ranks highest and is the master at start." }
            }</p>
            { match algorithm_of(&store.file) {
                AlgorithmName::Raft => html! { <p class="ed-note muted">{"Under Raft only S0 matters: it leads the first term. After a crash, whichever follower times out first and wins a majority leads, whatever its rank."}</p> },
                AlgorithmName::Bully => html! { <p class="ed-note muted">{"Under Bully the ranking is the bully order: the best live rank takes over."}</p> },
                AlgorithmName::Stagger => html! {},
            } }
            if let Some(msg) = list_error {
                <div class="ed-inline">
                    <FieldError field="ranking" error={Some(msg)} />
                    <button class="small" onclick={on_repair} title="Keep each known id once, then append the missing servers">
                        {"Repair"}</button>
                </div>
            }
            <ol class={classes!("ed-rank-list", "ed-scroll", (n > 12).then_some("tall"), by.is_some().then_some("derived"))}
                data-field="ranking" data-testid="ranking">
                { for rows }
            </ol>
        </section>
    }
}
