//! The network model (SPEC §6) and the protocol options of SPEC §4: how a
//! master treats a rival's claim, re-announcement, and the functional
//! table of [0062].

use super::field::{at, NumField};
use super::{algorithm_of, unused, update};
use crate::components::use_store;
use stagger_core::scenario::{AlgorithmName, NetworkEntry};
use stagger_core::{ClaimPolicy, ScenarioFile};
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn network(f: &mut ScenarioFile) -> &mut NetworkEntry {
    f.network.get_or_insert(NetworkEntry { jitter: None, loss: None })
}

/// One line each: what a server does when another claims mastership.
fn explain(c: ClaimPolicy) -> &'static str {
    match c {
        ClaimPolicy::Verify => "accept a better-ranked claim; check a worse one by asking its master",
        ClaimPolicy::Defer => "accept a better-ranked claim; ignore a worse one",
        ClaimPolicy::Contest => "take over from a worse-ranked claimant; otherwise defer",
    }
}

#[function_component(Protocol)]
pub fn protocol() -> Html {
    let store = use_store();
    let err = store.outcome.error();
    let f = &store.file;
    let net = f.network.clone().unwrap_or(NetworkEntry { jitter: None, loss: None });
    let claim = f.claim.unwrap_or_default();

    let on_jitter = update(&store, |f, v: Option<f64>| network(f).jitter = v);
    let on_loss = update(&store, |f, v: Option<f64>| network(f).loss = v);
    let on_announce = update(&store, |f, v: Option<u32>| f.announce_every = v);
    let on_known = {
        let set = update(&store, |f, on: bool| f.known_functional = on.then_some(true));
        Callback::from(move |e: Event| set.emit(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let claim_error = at(err, "claim");
    let other = algorithm_of(f) != AlgorithmName::Stagger;
    let unused_class = other.then_some("unused-field");

    html! {
        <section class="card ed-card ed-protocol" aria-label="Network and protocol">
            <header class="ed-head"><h3>{"Network and protocol"}</h3></header>
            <div class="ed-form">
                <label class="ed-field">
                    <span class="ed-label" title="Each delivery takes C[j][k]·f, f uniform in [1 − jitter, 1 + jitter]">
                        {"jitter (0 – 0.99)"}</span>
                    <NumField<f64> field="network.jitter" value={net.jitter} optional=true placeholder="0" step={0.05}
                        error={at(err, "network.jitter")} on_commit={on_jitter} />
                </label>
                <label class="ed-field">
                    <span class="ed-label" title="The probability that a message is dropped">{"loss (0 – 1)"}</span>
                    <NumField<f64> field="network.loss" value={net.loss} optional=true placeholder="0" step={0.01}
                        error={at(err, "network.loss")} on_commit={on_loss} />
                </label>
                <label class={classes!("ed-field", unused_class)}>
                    <span class="ed-label" title="A master re-announces every k detection ticks, so split masters meet again; 0 is off">
                        {"announce every (ticks)"}</span>
                    <NumField<u32> field="announce_every" value={f.announce_every} optional=true placeholder="0 (off)"
                        error={at(err, "announce_every")} on_commit={on_announce} />
                </label>
                <label class={classes!("ed-check", unused_class)} title="Use the functional table of [0062] in the Master and WaitElection rows">
                    // Raft and Bully refuse it: switching to them clears it.
                    <input type="checkbox" data-field="known_functional" checked={f.known_functional.unwrap_or(false)}
                        disabled={other} onchange={on_known} />
                    {"known functional table ([0062])"}
                    if let Some(msg) = at(err, "known_functional") { <span class="field-error">{msg}</span> }
                </label>
            </div>
            { unused(f, "The claim policy, re-announcement and the functional table are") }
            <fieldset class={classes!("ed-claim", claim_error.is_some().then_some("invalid"), unused_class)}>
                <legend>{"claim policy: when another server claims mastership"}</legend>
                { for ClaimPolicy::ALL.iter().map(|c| {
                    let set = update(&store, move |f, _: Event| f.claim = Some(*c));
                    html! {
                        <label class="ed-radio">
                            <input type="radio" name="claim" data-field="claim" value={c.name()} checked={*c == claim}
                                onchange={set} />
                            <span><strong>{c.name()}</strong>{" — "}<span class="muted">{explain(*c)}</span></span>
                        </label>
                    }
                }) }
                if let Some(msg) = claim_error { <div class="field-error">{msg}</div> }
            </fieldset>
        </section>
    }
}
