//! The Live tab: the members of a running group (`stagger demo` or your own
//! `stagger node`s), their roles as the nodes report them, and the admin
//! actions that make a failover happen.
//!
//! The page is served by one node; `/api/group` on that origin lists the
//! members and their addresses, and each member's `/api/status` and
//! `/api/trace` are polled (the API allows any origin). Admin actions need
//! the group's admin token, which `stagger demo` hands to its own page in
//! the URL fragment (`#…&token=…`, never sent to a server).
//!
//! Below the members, the group's recent seconds on the simulator's
//! space-time diagram, from every member's flight recording ([`diagram`]).
//!
//! A group with `"kind": "browser"` members can be joined from here as one
//! of them ([`join`]): the tab then runs the engine and takes part in the
//! elections.

pub mod diagram;
mod join;
mod member;

use crate::components::use_store;
use diagram::{Observed, Outage};
use gloo::net::http::Request;
use gloo::timers::callback::Interval;
use member::{MemberCard, MemberView};
use serde_json::Value;
use stagger_core::flight::Recording;
use stagger_core::ScenarioFile;
use std::rc::Rc;
use yew::prelude::*;

/// How often the nodes are asked.
const POLL_MS: u32 = 500;

/// What the last poll saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// `None` until the serving node answered `/api/group`.
    pub members: Option<Vec<MemberView>>,
    pub error: Option<String>,
    /// Recent log lines of every node, newest last: (node, t_ms, what).
    pub log: Vec<(String, f64, String)>,
    /// The group's scenario and the members' flight recordings.
    pub file: Option<ScenarioFile>,
    pub flights: Vec<Recording>,
    /// When this poll began, µs since the epoch on this browser's clock.
    pub at_us: u64,
}

async fn get_json(url: &str) -> Result<Value, String> {
    let resp = Request::get(url).send().await.map_err(|e| e.to_string())?;
    if !resp.ok() {
        return Err(format!("{url} answered {}", resp.status()));
    }
    resp.json::<Value>().await.map_err(|e| e.to_string())
}

/// One round of polling: the group from this origin, then every member.
async fn poll() -> Snapshot {
    let at_us = (js_sys::Date::now() * 1000.0) as u64;
    let since = at_us.saturating_sub(diagram::WINDOW_US + 1_000_000);
    let group = match get_json("/api/group").await {
        Ok(g) => g,
        Err(e) => {
            return Snapshot {
                error: Some(format!(
                    "No live group here ({e}). Start one with `cargo xtask demo` or `stagger node`, and open the playground from a node's address."
                )),
                ..Snapshot::default()
            }
        }
    };
    let file = ScenarioFile::from_json(&group["scenario"].to_string()).ok();
    let mut members = Vec::new();
    let mut log = Vec::new();
    let mut flights = Vec::new();
    for m in group["members"].as_array().cloned().unwrap_or_default() {
        let id = m["id"].as_str().unwrap_or_default().to_string();
        let addr = m["addr"].as_str().map(str::to_string);
        let browser = m["browser"].as_bool().unwrap_or(false);
        let status = match &addr {
            Some(a) => get_json(&format!("http://{a}/api/status")).await.ok(),
            None => None,
        };
        if let (Some(a), true) = (&addr, status.is_some()) {
            if let Ok(f) = get_json(&format!("http://{a}/api/flight?since_us={since}")).await {
                if let Ok(r) = serde_json::from_value::<Recording>(f["recording"].clone()) {
                    flights.push(r);
                }
            }
            if let Ok(t) = get_json(&format!("http://{a}/api/trace")).await {
                for e in t["events"].as_array().cloned().unwrap_or_default().iter().rev().take(12) {
                    log.push((id.clone(), e["t_ms"].as_f64().unwrap_or(0.0), e["what"].as_str().unwrap_or_default().to_string()));
                }
            }
        }
        members.push(MemberView { id, addr, browser, status });
    }
    log.sort_by(|a, b| a.1.total_cmp(&b.1));
    let keep = log.len().saturating_sub(40);
    Snapshot { members: Some(members), error: None, log: log.split_off(keep), file, flights, at_us }
}

#[function_component(Live)]
pub fn live() -> Html {
    let store = use_store();
    let snap = use_state(Snapshot::default);
    // Who stopped answering, and when: the diagram draws them down.
    let outages = use_mut_ref(Vec::<Outage>::new);
    {
        let (snap, outages) = (snap.clone(), outages.clone());
        use_effect_with((), move |_| {
            let tick = {
                let snap = snap.clone();
                move || {
                    let (snap, outages) = (snap.clone(), outages.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        let s = poll().await;
                        if let Some(members) = &s.members {
                            let answered: Vec<(String, bool)> = members
                                .iter()
                                .filter(|m| !m.browser)
                                .map(|m| (m.id.clone(), m.status.as_ref().is_some_and(|st| st["up"] != false)))
                                .collect();
                            diagram::track(&mut outages.borrow_mut(), s.at_us, &answered);
                        }
                        snap.set(s);
                    });
                }
            };
            tick();
            let interval = Interval::new(POLL_MS, tick);
            move || drop(interval)
        });
    }
    let token: Option<Rc<str>> = store.live_token.clone().map(Rc::from);
    let masters: Vec<String> = snap
        .members
        .iter()
        .flatten()
        .filter_map(|m| m.status.as_ref())
        .filter(|s| s["role"] == "Master")
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    let drawn = snap.file.as_ref().map(|file| {
        diagram::draw(&Observed {
            file: file.clone(),
            parts: snap.flights.clone(),
            outages: outages.borrow().clone(),
            now_us: snap.at_us,
            master: (masters.len() == 1).then(|| masters[0].clone()),
        })
    });
    html! {
        <div class="live" data-testid="live">
            <p class="live-intro muted">
                {"The group as its members report it, every half second. "}
                if token.is_none() {
                    {"Admin actions need the token that "}<code>{"stagger demo"}</code>{" puts in its URL."}
                }
            </p>
            if let Some(e) = &snap.error {
                <div class="banner notice">{e}</div>
            }
            if let Some(members) = &snap.members {
                <div class={classes!("live-verdict", (masters.len() == 1).then_some("ok"))} data-testid="live-masters">
                    { match masters.len() {
                        0 => "No master right now: an election is under way.".to_string(),
                        1 => format!("One master: {}.", masters[0]),
                        n => format!("{n} masters: {} (split brain).", masters.join(", ")),
                    } }
                </div>
                <div class="live-members">
                    { for members.iter().map(|m| html! { <MemberCard member={m.clone()} token={token.clone()} /> }) }
                </div>
                if let Some(file) = &snap.file {
                    <join::Join members={members.clone()} file={file.clone()} secret={store.live_secret.clone()} />
                }
                <h3>{"The last eight seconds"}</h3>
                { match drawn {
                    Some(Ok(svg)) => html! {
                        <div class="st-svg live-diagram" data-testid="live-space-time">{ Html::from_html_unchecked(AttrValue::from(svg)) }</div>
                    },
                    Some(Err(why)) => html! { <div class="banner notice">{format!("The diagram cannot be drawn: {why}")}</div> },
                    None => html! {},
                } }
                <h3>{"Recent events"}</h3>
                <table class="live-log">
                    { for snap.log.iter().rev().map(|(node, t, what)| html! {
                        <tr><td class="num">{format!("{t:.1} ms")}</td><td>{node}</td><td>{what}</td></tr>
                    }) }
                </table>
            }
        </div>
    }
}
