//! The side-by-side table: the scenario under 3 schemes × 3 claim policies,
//! then under Raft and Bully, with the SPEC §8 metrics of each run.
//!
//! The best value of each column is highlighted (lower is better for every
//! metric), the row matching the scenario's own setting is marked, and the
//! election messages get a bar: the storm-versus-one-broadcast difference
//! is the point of the patent, so it should be visible without reading.
//! Declare and Revoke are the staggered timer's messages, so Raft's and
//! Bully's rows leave those two columns empty; their election messages
//! (votes and their requests; Election, Answer, Coordinator) are counted
//! the same way as Declare + Revoke (SPEC §8, `MessageKind::is_election`).

use super::capped::MAX_EVENTS;
use super::chart::thousands;
use super::runs::{distinct_best, VariantRun};
use super::variants::{Entrant, TimerSet};
use crate::components::results::ms;
use crate::components::use_store;
use crate::state::{Action, Tab};
use stagger_core::params::ClaimPolicy;
use stagger_core::MessageKind;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SchemeTableProps {
    pub rows: Rc<Vec<VariantRun>>,
    pub timers: Rc<TimerSet>,
}

/// What a claim policy does, for the policy cell's tooltip (SPEC §4).
fn policy_help(p: ClaimPolicy) -> &'static str {
    match p {
        ClaimPolicy::Verify => "verify: a Backup asks its master before accepting a worse claim",
        ClaimPolicy::Defer => "defer: a Backup ignores a worse claim while its master seems alive",
        ClaimPolicy::Contest => "contest: a Backup takes over from a worse claimant",
    }
}

/// A numeric column: its header, tooltip, and how to read a row.
struct Column {
    head: &'static str,
    help: &'static str,
    value: fn(&VariantRun) -> Option<f64>,
    show: fn(&VariantRun) -> String,
}

/// A staggered-timer row's count of one of its own message kinds; Raft and
/// Bully send neither Declare nor Revoke.
fn own_kind(r: &VariantRun, kind: MessageKind) -> Option<f64> {
    let m = r.metrics.as_ref().filter(|_| matches!(r.variant.entrant, Entrant::Timer(_)))?;
    Some(m.messages.get(kind) as f64)
}

/// What a Raft or Bully row has instead of a claim policy.
fn no_policy(c: Entrant) -> &'static str {
    match c {
        Entrant::Raft => "Raft has no claim policy: a candidate needs the votes of a majority, and a higher term deposes a leader",
        _ => "Bully has no claim policy: the best live rank always takes over, bullying the others",
    }
}

/// The election messages of a row by kind, for the cell's tooltip.
fn breakdown(r: &VariantRun) -> String {
    let Some(m) = &r.metrics else { return String::new() };
    let kinds: Vec<String> = MessageKind::EVERY
        .iter()
        .filter(|k| k.is_election() && m.messages.get(**k) > 0)
        .map(|k| format!("{} {}", k.name(), thousands(m.messages.get(*k))))
        .collect();
    if kinds.is_empty() {
        return String::new();
    }
    format!("In the whole run: {}", kinds.join(", "))
}

fn columns() -> [Column; 7] {
    [
        Column {
            head: "converged at (ms)",
            help: "The first instant from which exactly one live Master is backed by every other live server, to the end of the run",
            value: |r| r.metrics.as_ref()?.converged_at_ms,
            show: |r| ms(r.metrics.as_ref().and_then(|m| m.converged_at_ms)),
        },
        Column {
            head: "crash → converged (ms)",
            help: "Recovery time: converged at minus the time of the first crash",
            value: |r| r.recovery_ms(),
            show: |r| ms(r.recovery_ms()),
        },
        Column {
            head: "declare",
            help: "DeclareMaster copies sent during the whole run",
            value: |r| own_kind(r, MessageKind::Declare),
            show: |r| own_kind(r, MessageKind::Declare).map_or("—".into(), |v| thousands(v as u64)),
        },
        Column {
            head: "revoke",
            help: "RevokeMaster copies sent during the whole run: every one is a contested claim",
            value: |r| own_kind(r, MessageKind::Revoke),
            show: |r| own_kind(r, MessageKind::Revoke).map_or("—".into(), |v| thousands(v as u64)),
        },
        Column {
            head: "best live wins",
            help: "Whether the final master is the best-ranked server still up at the end: the lowest live index, which the staggered timer promises and Raft does not",
            value: |r| r.best_live.map(|b| if b { 0.0 } else { 1.0 }),
            show: |r| r.best_live.map_or("—", |b| if b { "yes" } else { "no" }).into(),
        },
        Column {
            head: "split brain (ms)",
            help: "Total time with two or more live Masters",
            value: |r| r.metrics.as_ref().map(|m| m.split_brain_ms),
            show: |r| r.metrics.as_ref().map_or("—".into(), |m| format!("{:.3}", m.split_brain_ms)),
        },
        Column {
            head: "max masters",
            help: "The most live Masters at once",
            value: |r| r.metrics.as_ref().map(|m| m.max_masters as f64),
            show: |r| r.metrics.as_ref().map_or("—".into(), |m| m.max_masters.to_string()),
        },
    ]
}

#[function_component(SchemeTable)]
pub fn scheme_table(p: &SchemeTableProps) -> Html {
    let store = use_store();
    let rows = &p.rows;
    let cols = columns();
    let msg = VariantRun::messages;
    // Highlights wait for the last run: a partial best would move.
    let finished = rows.iter().all(|r| !r.pending);
    let best_of = |f: &dyn Fn(&VariantRun) -> Option<f64>| if finished { distinct_best(rows.iter().map(f)) } else { None };
    let msg_best = best_of(&msg);
    let msg_max = rows.iter().filter_map(msg).fold(0.0, f64::max);
    let col_best: Vec<Option<f64>> = cols.iter().map(|c| best_of(&c.value)).collect();
    let is_best = |b: Option<f64>, v: Option<f64>| b.is_some() && v == b;

    let body = rows.iter().enumerate().map(|(i, r)| {
        let v = &r.variant;
        let name = v.entrant.name();
        let first = i == 0 || rows[i - 1].variant.entrant != v.entrant;
        let group = rows.iter().filter(|x| x.variant.entrant == v.entrant).count();
        let scheme = match v.entrant {
            Entrant::Timer(s) => Some(s),
            _ => None,
        };
        let params = scheme.map_or_else(|| v.about.clone(), |s| p.timers.describe(s));
        let master = r.metrics.as_ref().and_then(|m| m.final_master.clone());
        let messages = msg(r);
        let width = messages.map_or(0.0, |m| if msg_max > 0.0 { 100.0 * m / msg_max } else { 0.0 });
        let watch = {
            let store = store.clone();
            let file = v.file.clone();
            // A history entry: the browser's Back returns to this table.
            Callback::from(move |_| store.dispatch(Action::Switch(file.clone(), Some(Tab::Watch))))
        };
        let switch_to = match v.policy {
            Some(policy) => format!("Switch your scenario to the {name} timer with the {} policy and watch it", policy.name()),
            None => format!("Switch your scenario to the {} algorithm and watch it", v.entrant.label()),
        };
        let dropped = match v.dropped {
            0 => String::new(),
            1 => format!(" (without its rerank: {} has no ranking to change)", v.entrant.label()),
            n => format!(" (without its {n} reranks: {} has no ranking to change)", v.entrant.label()),
        };
        html! {
            <tr class={classes!(format!("scheme-{name}"), first.then_some("group-start"), v.own.then_some("own"), r.pending.then_some("pending"))}
                data-algorithm={v.entrant.algorithm().name()} data-scheme={scheme.map(|s| s.name())}
                data-policy={v.policy.map(|p| p.name())} data-own={v.own.to_string()}>
                if first {
                    <th scope="rowgroup" rowspan={group.to_string()} class="scheme" title={params.clone()}>
                        <span class="swatch"></span>{v.entrant.label()}
                        <span class="params">{params}{dropped.clone()}</span>
                    </th>
                }
                if let Some(policy) = v.policy {
                    <td class="policy" title={policy_help(policy)}>
                        {policy.name()}
                        if v.own { <span class="badge" title="the scheme and claim policy of your scenario">{"yours"}</span> }
                    </td>
                } else {
                    <td class="policy none" title={no_policy(v.entrant)}>
                        {"—"}
                        if v.own { <span class="badge" title="the algorithm of your scenario">{"yours"}</span> }
                    </td>
                }
                if let Some(st) = r.stopped {
                    <td class="master none stopped" title={format!(
                        "Stopped after {} events at t = {:.0} ms: the claims multiply faster than they resolve. Other metrics are unknown.",
                        thousands(MAX_EVENTS), st.at_ms)}>{"stopped"}</td>
                } else {
                    <td class={classes!("master", (master.is_none() && !r.pending).then_some("none"))}>{
                        if r.pending { "running…".to_string() } else { master.unwrap_or_else(|| "none".into()) }
                    }</td>
                }
                { for cols.iter().take(2).zip(&col_best).map(|(c, b)| cell(c, b, r, &is_best)) }
                <td class={classes!("messages", is_best(msg_best, messages).then_some("best"))} title={breakdown(r)}>
                    <div class="msg">
                        <span class="bar" aria-hidden="true">
                            if width > 0.0 { <span class={classes!("fill", r.stopped.is_some().then_some("bound"))} style={format!("width: {width:.1}%")}></span> }
                        </span>
                        <span class="num">{
                            if r.pending { "…".into() }
                            else { format!("{}{}", if r.stopped.is_some() { "≥ " } else { "" }, messages.map_or("—".into(), |m| thousands(m as u64))) }
                        }</span>
                    </div>
                </td>
                { for cols.iter().skip(2).zip(col_best.iter().skip(2)).map(|(c, b)| cell(c, b, r, &is_best)) }
                <td class="actions">
                    if !v.own {
                        <button class="watch-variant" onclick={watch} title={format!("{switch_to}{dropped}")}>
                            {"watch"}
                        </button>
                    }
                </td>
            </tr>
        }
    });

    let head = |label: &'static str, help: &'static str| html! { <th class="num" title={help}>{label}</th> };
    html! {
        <div class="table-wrap">
            <table class="compare-table" data-testid="compare-table" data-state={if finished { "done" } else { "running" }}>
                <thead>
                    <tr>
                        <th title="The staggered timer under each election delay scheme (SPEC §5), then Raft and Bully, with the parameters used">{"algorithm"}</th>
                        <th title="What a Backup does with a claim while its master seems alive (SPEC §4); the staggered timer's only">{"claim"}</th>
                        <th title="The single master at the end of the run, or none if the group is not converged">{"final master"}</th>
                        { head(cols[0].head, cols[0].help) }
                        { head(cols[1].head, cols[1].help) }
                        <th class="messages" title="Election messages sent at or after the crash (SPEC §8): Declare + Revoke for the staggered timer, votes and their requests for Raft, Election + Answer + Coordinator for Bully">{"election messages"}</th>
                        { for cols.iter().skip(2).map(|c| head(c.head, c.help)) }
                        <th class="actions" aria-label="actions"></th>
                    </tr>
                </thead>
                <tbody>{ for body }</tbody>
            </table>
        </div>
    }
}

fn cell(c: &Column, b: &Option<f64>, r: &VariantRun, is_best: &dyn Fn(Option<f64>, Option<f64>) -> bool) -> Html {
    let v = (c.value)(r);
    let text = if r.pending { "…".to_string() } else { (c.show)(r) };
    html! { <td class={classes!("num", is_best(*b, v).then_some("best"))}>{text}</td> }
}
