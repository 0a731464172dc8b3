//! One member of the live group: its role as [`super::report`] folds it,
//! and the admin buttons of a native member.

use super::report::Card;
use gloo::net::http::Request;
use serde_json::Value;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct MemberView {
    pub id: String,
    pub addr: Option<String>,
    pub browser: bool,
    /// The member's `/api/status`, or `None` when it did not answer.
    pub status: Option<Value>,
}

#[derive(Properties, PartialEq)]
pub struct MemberCardProps {
    pub member: MemberView,
    pub card: Card,
    pub token: Option<Rc<str>>,
}

#[function_component(MemberCard)]
pub fn member_card(p: &MemberCardProps) -> Html {
    let m = &p.member;
    let result = use_state(|| None::<String>);
    let action = |what: &'static str| {
        let (addr, token, result) = (m.addr.clone(), p.token.clone(), result.clone());
        Callback::from(move |_: MouseEvent| {
            let (Some(addr), Some(token)) = (addr.clone(), token.clone()) else { return };
            let result = result.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let r = Request::post(&format!("http://{addr}/api/admin/{what}"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .send()
                    .await;
                result.set(Some(match r {
                    Ok(r) if r.ok() => format!("{what}: done"),
                    Ok(r) => format!("{what}: {}", r.text().await.unwrap_or_default()),
                    Err(e) => format!("{what}: {e}"),
                }));
            });
        })
    };
    let c = &p.card;
    let (role, up, isolated) = (c.role.clone(), c.up, c.isolated);
    let master = match (&c.master, c.role.as_str()) {
        (Some(m), _) => m.clone(),
        (None, "unreachable" | "not joined") => "—".to_string(),
        (None, _) => "none".to_string(),
    };
    // Admin actions go to a native's HTTP API; a browser member has none.
    let can = p.token.is_some() && m.status.is_some() && !m.browser;
    html! {
        <div class={classes!("live-member", format!("role-{}", role.to_ascii_lowercase().replace(' ', "-")))} data-testid={format!("live-{}", m.id)} data-role={role.clone()}>
            <div class="live-head">
                <strong>{&m.id}</strong>
                <span class="live-role">{ if isolated { format!("{role} · isolated") } else { role.clone() } }</span>
            </div>
            <div class="live-detail">{c.source.clone()}</div>
            <div class="live-detail">{format!("master: {master}")}</div>
            if let Some(n) = c.connections {
                <div class="live-detail">{format!("connections: {n}")}</div>
            }
            if !m.browser {
            <div class="live-actions">
                <button disabled={!can || !up} onclick={action("crash")}
                    aria-label={format!("Crash {}", m.id)}>{"Crash"}</button>
                <button disabled={!can || up} onclick={action("recover")}
                    aria-label={format!("Recover {}", m.id)}>{"Recover"}</button>
                <button disabled={!can || isolated} onclick={action("isolate")}
                    aria-label={format!("Isolate {}", m.id)}>{"Isolate"}</button>
                <button disabled={!can || !isolated} onclick={action("heal")}
                    aria-label={format!("Heal {}", m.id)}>{"Heal"}</button>
            </div>
            }
            if let Some(r) = &*result {
                <div class="live-detail muted">{r}</div>
            }
        </div>
    }
}
