//! "Join as a browser member": this tab runs the engine and takes part in
//! the group's elections ([`crate::member`]), through the node that served
//! the page.

use super::member::MemberView;
use crate::member::{MemberState, TabMember};
use stagger_core::ScenarioFile;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub members: Vec<MemberView>,
    pub file: ScenarioFile,
}

#[function_component(Join)]
pub fn join(p: &Props) -> Html {
    let browsers: Vec<String> = p.members.iter().filter(|m| m.browser).map(|m| m.id.clone()).collect();
    let chosen = use_state(|| browsers.first().cloned().unwrap_or_default());
    let secret = use_state(String::new);
    let handle = use_mut_ref(|| None::<TabMember>);
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
    let on_secret = {
        let secret = secret.clone();
        Callback::from(move |e: InputEvent| secret.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_join = {
        let (handle, state, error, chosen, secret, file) =
            (handle.clone(), state.clone(), error.clone(), chosen.clone(), secret.clone(), p.file.clone());
        Callback::from(move |_: MouseEvent| {
            if handle.borrow_mut().take().is_some() {
                state.set(None);
                return;
            }
            let scenario = match file.validate() {
                Ok(s) => s,
                Err(e) => return error.set(Some(format!("the group's scenario: {e}"))),
            };
            let host = web_sys::window().and_then(|w| w.location().host().ok()).unwrap_or_default();
            let setter = state.setter();
            match TabMember::join(&format!("ws://{host}/ws"), &chosen, &secret, &scenario, move |s| setter.set(Some(s))) {
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
            <p class="muted">{"This tab runs the election engine and takes part in the group through the node that served this page. It needs the group's secret, which never leaves the tab."}</p>
            <div class="live-join-form">
                <label>{"member "}
                    <select onchange={on_pick} disabled={joined} data-testid="tab-member-id">
                        { for browsers.iter().map(|b| html! { <option value={b.clone()} selected={*b == *chosen}>{b.clone()}</option> }) }
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
