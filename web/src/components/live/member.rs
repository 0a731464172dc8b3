//! One member of the live group: its reported role and the admin buttons.

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
pub struct Props {
    pub member: MemberView,
    pub token: Option<Rc<str>>,
}

#[function_component(MemberCard)]
pub fn member_card(p: &Props) -> Html {
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
    let (role, master, up, isolated) = match &m.status {
        Some(s) => (
            s["role"].as_str().unwrap_or("?").to_string(),
            s["master"].as_str().unwrap_or("none").to_string(),
            s["up"].as_bool().unwrap_or(false),
            s["isolated"].as_bool().unwrap_or(false),
        ),
        None => ("unreachable".to_string(), "—".to_string(), false, false),
    };
    let connected = m.status.as_ref().and_then(|s| s["peers"].as_array()).map(|p| p.iter().filter(|x| x["state"] == "connected").count());
    let can = p.token.is_some() && m.status.is_some();
    html! {
        <div class={classes!("live-member", format!("role-{}", role.to_ascii_lowercase()))} data-testid={format!("live-{}", m.id)} data-role={role.clone()}>
            <div class="live-head">
                <strong>{&m.id}</strong>
                <span class="live-role">{ if isolated { format!("{role} · isolated") } else { role.clone() } }</span>
            </div>
            <div class="live-detail">
                { if m.browser { "browser member".to_string() } else { m.addr.clone().unwrap_or_default() } }
            </div>
            <div class="live-detail">{format!("master: {master}")}</div>
            if let Some(c) = connected {
                <div class="live-detail">{format!("connections: {c}")}</div>
            }
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
            if let Some(r) = &*result {
                <div class="live-detail muted">{r}</div>
            }
        </div>
    }
}
