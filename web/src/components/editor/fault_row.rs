//! One fault: its time, its kind and its targets. Every change replaces the
//! fault through `Edit::SetFault`, which keeps the list in time order.

use super::fault_targets::{PartitionPicker, RerankPicker, ServerSelect};
use super::field::{at, within, FieldError, NumField};
use super::{current_ranking, ids};
use crate::components::{use_store, Store};
use crate::edit::Edit;
use crate::state::Action;
use stagger_core::scenario::{FaultActionEntry, FaultEntry, RerankEntry};
use std::collections::BTreeSet;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RowProps {
    /// The fault's position in the file's `faults` list.
    pub index: usize,
}

/// A callback that edits a copy of fault `index` and dispatches it.
fn setter<T: 'static>(store: &Store, index: usize, f: impl Fn(&mut FaultEntry, T) + 'static) -> Callback<T> {
    let store = store.clone();
    Callback::from(move |v: T| {
        if let Some(mut fault) = store.file.faults.get(index).cloned() {
            f(&mut fault, v);
            store.dispatch(Action::Edit(Edit::SetFault { index, fault }));
        }
    })
}

#[function_component(FaultRow)]
pub fn fault_row(p: &RowProps) -> Html {
    let store = use_store();
    let i = p.index;
    let Some(fault) = store.file.faults.get(i).cloned() else { return html! {} };
    let err = store.outcome.error();
    let base = format!("faults[{i}]");
    let all_ids = ids(&store.file);

    let on_time = setter(&store, i, |f, v: Option<f64>| {
        if let Some(v) = v {
            f.at_ms = v;
        }
    });
    let on_remove = {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| store.dispatch(Action::Edit(Edit::RemoveFault(i))))
    };
    let server = |label: &'static str, path: String, value: &str, set: fn(&mut FaultEntry, String)| {
        html! {
            <ServerSelect field={path.clone()} value={value.to_string()} ids={all_ids.clone()} error={at(err, &path)}
                label={format!("{label} (fault {})", i + 1)} on_change={setter(&store, i, set)} />
        }
    };
    let (targets, target_path) = match &fault.action {
        FaultActionEntry::Crash(id) => (
            server("Server that crashes", format!("{base}.crash"), id, |f, v| f.action = FaultActionEntry::Crash(v)),
            format!("{base}.crash"),
        ),
        FaultActionEntry::Recover(id) => (
            server("Server that recovers", format!("{base}.recover"), id, |f, v| f.action = FaultActionEntry::Recover(v)),
            format!("{base}.recover"),
        ),
        FaultActionEntry::Cut([from, to]) => {
            let path = format!("{base}.cut");
            let html = html! {
                <span class="ed-cut">
                    { server("Sender of the cut link", format!("{path}[0]"), from, |f, v| if let FaultActionEntry::Cut(c) = &mut f.action { c[0] = v }) }
                    <span class="arrow" title="messages this way are dropped">{"→ ✂ →"}</span>
                    { server("Receiver of the cut link", format!("{path}[1]"), to, |f, v| if let FaultActionEntry::Cut(c) = &mut f.action { c[1] = v }) }
                    <FieldError field={path.clone()} error={at(err, &path)} />
                </span>
            };
            (html, path)
        }
        FaultActionEntry::Partition(groups) => {
            let path = format!("{base}.partition");
            let html = html! {
                <PartitionPicker field={path.clone()} groups={groups.clone()} ids={all_ids.clone()} error={within(err, &path, &[])}
                    on_change={setter(&store, i, |f, g: Vec<Vec<String>>| f.action = FaultActionEntry::Partition(g))} />
            };
            (html, path)
        }
        FaultActionEntry::Rerank(entry) => {
            let path = format!("{base}.rerank");
            let keys: BTreeSet<String> = store.file.servers.iter().flat_map(|s| s.attrs.keys().cloned()).collect();
            let html = html! {
                <RerankPicker field={path.clone()} entry={entry.clone()} ranking={current_ranking(&store)}
                    attrs={keys.into_iter().collect::<Vec<_>>()} err={err.cloned()}
                    on_change={setter(&store, i, |f, r: RerankEntry| f.action = FaultActionEntry::Rerank(r))} />
            };
            (html, path)
        }
        FaultActionEntry::Heal => (html! { <span class="muted">{"every partition and cut is lifted"}</span> }, base.clone()),
    };
    let at_path = format!("{base}.at_ms");
    let mut own = vec![at_path.clone()];
    if target_path != base {
        own.push(target_path);
    }
    let row_error = within(err, &base, &own);
    let name = fault.action.kind().name();

    html! {
        <li class={classes!("ed-fault", format!("kind-{name}"), row_error.is_some().then_some("invalid"))} data-index={i.to_string()}>
            <span class="ed-fault-time">
                <NumField<f64> field={at_path.clone()} value={Some(fault.at_ms)} step={100.0} label={format!("time of fault {i}")}
                    error={at(err, &at_path)} on_commit={on_time} />
                <span class="unit muted">{"ms"}</span>
            </span>
            <span class={classes!("ed-kind", format!("kind-{name}"))}>{name}</span>
            <span class="ed-fault-targets">{ targets }</span>
            <button class="icon danger" onclick={on_remove} title="Remove this fault" aria-label={format!("Remove fault {i}")}
                data-testid={format!("remove-fault-{i}")}>{"✕"}</button>
            <FieldError field={base.clone()} error={row_error} />
        </li>
    }
}
