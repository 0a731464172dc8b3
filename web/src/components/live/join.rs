//! "Join as a browser member": this tab runs the engine and takes part in
//! the group's elections ([`crate::member`]), through any native node's
//! `/ws` (the one that served the page, unless another is picked).

use super::member::MemberView;
use crate::member::{MemberState, TabMember, TabSlot};
use stagger_core::ScenarioFile;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct JoinProps {
    pub members: Vec<MemberView>,
    pub file: ScenarioFile,
    /// A secret to start with (`stagger demo` hands its own page one).
    #[prop_or_default]
    pub secret: Option<String>,
    /// Where the membership lives, so that the rest of the view can report it.
    pub tab: TabSlot,
}

#[function_component(Join)]
pub fn join(p: &JoinProps) -> Html {
    let browsers: Vec<String> = p.members.iter().filter(|m| m.browser).map(|m| m.id.clone()).collect();
    let chosen = use_state(|| browsers.first().cloned().unwrap_or_default());
    // Any native node can host the tab; the one that served the page first.
    let here = web_sys::window().and_then(|w| w.location().host().ok()).unwrap_or_default();
    let hosts: Vec<(String, String)> = {
        let mut h: Vec<(String, String)> =
            p.members.iter().filter(|m| !m.browser).filter_map(|m| Some((m.id.clone(), m.addr.clone()?))).collect();
        h.sort_by_key(|(_, a)| *a != here);
        h
    };
    let via = use_state(|| hosts.first().map(|(_, a)| a.clone()).unwrap_or_else(|| here.clone()));
    let secret = use_state(|| p.secret.clone().unwrap_or_default());
    let handle = p.tab.0.clone();
    let state = use_state(|| None::<MemberState>);
    let error = use_state(|| None::<String>);
    if browsers.is_empty() {
        return html! {};
    }
    let joined = handle.borrow().is_some();
    let on_pick = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| chosen.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_via = {
        let via = via.clone();
        Callback::from(move |e: Event| via.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_secret = {
        let secret = secret.clone();
        Callback::from(move |e: InputEvent| secret.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_join = {
        let (handle, state, error, chosen, secret, file, via) =
            (handle.clone(), state.clone(), error.clone(), chosen.clone(), secret.clone(), p.file.clone(), via.clone());
        Callback::from(move |_: MouseEvent| {
            if handle.borrow_mut().take().is_some() {
                state.set(None);
                return;
            }
            let scenario = match file.validate() {
                Ok(s) => s,
                Err(e) => return error.set(Some(format!("the group's scenario: {e}"))),
            };
            let setter = state.setter();
            match TabMember::join(&format!("ws://{}/ws", *via), &chosen, &secret, &scenario, move |s| setter.set(Some(s))) {
                Ok(m) => {
                    *handle.borrow_mut() = Some(m);
                    error.set(None);
                }
                Err(why) => error.set(Some(why)),
            }
        })
    };
    let role = state.as_ref().map(|s| match (&s.role[..], &s.master) {
        ("Backup", Some(m)) => format!("Backup (master {m})"),
        (r, _) => r.to_string(),
    });
    html! {
        <section class="card live-join" data-testid="tab-member">
            <h3>{"Join as a browser member"}</h3>
            <p class="muted">{"This tab runs the election engine and takes part in the group through the node you pick; that node relays its messages to the rest. It needs the group's secret, which never leaves the tab."}</p>
            <div class="live-join-form">
                <label>{"member "}
                    <select onchange={on_pick} disabled={joined} data-testid="tab-member-id">
                        { for browsers.iter().map(|b| html! { <option value={b.clone()} selected={*b == *chosen}>{b.clone()}</option> }) }
                    </select>
                </label>
                <label>{"through "}
                    <select onchange={on_via} disabled={joined} data-testid="tab-member-via">
                        { for hosts.iter().map(|(id, a)| html! { <option value={a.clone()} selected={*a == *via}>{format!("{id} ({a})")}</option> }) }
                    </select>
                </label>
                <label>{"secret "}
                    <input type="password" value={(*secret).clone()} oninput={on_secret} disabled={joined} data-testid="tab-member-secret" autocomplete="off" />
                </label>
                <button class={classes!((!joined).then_some("primary"))} onclick={on_join} data-testid="tab-join">
                    { if joined { "Leave" } else { "Join" } }
                </button>
            </div>
            if let Some(e) = &*error {
                <div class="banner error" role="alert">{e}</div>
            }
            if let Some(s) = &*state {
                <p class="live-join-state">
                    <span data-testid="tab-member-phase">{s.phase.clone()}</span>{" · role "}
                    <strong data-testid="tab-member-role">{role.unwrap_or_default()}</strong>
                    <span class="muted">{format!(" · {} sent, {} received", s.sent, s.received)}</span>
                </p>
            }
        </section>
    }
}
