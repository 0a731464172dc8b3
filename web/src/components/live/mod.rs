//! The Live tab: the members of a running group (`stagger demo` or your own
//! `stagger node`s), their roles as the nodes report them, and the admin
//! actions that make a failover happen.
//!
//! The page is served by one node; `/api/group` on that origin lists the
//! members and their addresses, and each member's `/api/status` and
//! `/api/flight` are polled (the API allows any origin). What the cards and
//! the banner say is folded from those answers and this tab's own engine
//! ([`report`]); "Recent events" reads the flight recordings out in words
//! ([`events`]). Admin actions need
//! the group's admin token, which `stagger demo` hands to its own page in
//! the URL fragment (`#…&token=…`, never sent to a server).
//!
//! Below the members, the group's recent seconds on the simulator's
//! space-time diagram, from every member's flight recording ([`diagram`]).
//!
//! A group with `"kind": "browser"` members can be joined from here as one
//! of them ([`join`]): the tab then runs the engine and takes part in the
//! elections.
//!
//! A group whose file names a name server gets a Registration panel
//! ([`nameserver`]): the master registered there, its epoch and lease, and
//! the history of registrations, from the name server's own lookup and
//! watch ([`registration`]).
//!
//! The Network panel ([`network`]) sets the delays the members measure
//! (`/api/delays`, polled every two seconds) against the configured matrix,
//! warns when a failover would be contested, and answers "What if the
//! master fails now?" with the digital twin, run in this tab.

pub mod diagram;
pub mod events;
mod join;
mod load;
mod member;
mod nameserver;
pub mod network;
pub mod registration;
pub mod report;

use crate::components::use_store;
use crate::member::{MemberState, TabSlot};
use diagram::{Observed, Outages};
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
/// Every how many polls the members' measured delays are asked too (they
/// change over detection periods, not half seconds).
const DELAYS_EVERY: u32 = 4;

/// What the last poll saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Polled {
    /// `None` until the serving node answered `/api/group`.
    pub members: Option<Vec<MemberView>>,
    pub error: Option<String>,
    /// The group's scenario and the members' flight recordings, this tab's
    /// own included when it joined.
    pub file: Option<ScenarioFile>,
    pub flights: Vec<Recording>,
    /// This tab's member, when it joined, as its engine reports it.
    pub tab: Option<MemberState>,
    /// When this poll began, µs since the epoch on this browser's clock.
    pub at_us: u64,
    /// The group's name server (`http://HOST:PORT`) and its name there.
    pub nameserver: Option<(String, String)>,
    /// The members' `/api/delays` answers, `(id, answer)`, when this poll
    /// asked for them.
    pub delays: Option<Vec<(String, Value)>>,
}

async fn get_json(url: &str) -> Result<Value, String> {
    let resp = Request::get(url).send().await.map_err(|e| e.to_string())?;
    if !resp.ok() {
        return Err(format!("{url} answered {}", resp.status()));
    }
    resp.json::<Value>().await.map_err(|e| e.to_string())
}

/// One round of polling: the group from this origin, then every member
/// (their measured delays too when `with_delays`).
async fn poll(with_delays: bool) -> Polled {
    let at_us = (js_sys::Date::now() * 1000.0) as u64;
    let since = at_us.saturating_sub(diagram::WINDOW_US + 1_000_000);
    let group = match get_json("/api/group").await {
        Ok(g) => g,
        Err(e) => {
            return Polled {
                error: Some(format!(
                    "No live group here ({e}). Start one with `cargo xtask demo` or `stagger node`, and open the playground from a node's address."
                )),
                ..Polled::default()
            }
        }
    };
    let file = ScenarioFile::from_json(&group["scenario"].to_string()).ok();
    let ns = &group["nameserver"];
    let nameserver = ns["url"].as_str().zip(ns["group"].as_str()).map(|(u, g)| (u.to_string(), g.to_string()));
    let mut members = Vec::new();
    let mut flights = Vec::new();
    let mut delays = Vec::new();
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
            if with_delays {
                if let Ok(d) = get_json(&format!("http://{a}/api/delays")).await {
                    delays.push((id.clone(), d));
                }
            }
        }
        members.push(MemberView { id, addr, browser, status });
    }
    Polled { members: Some(members), error: None, file, flights, tab: None, at_us, nameserver, delays: with_delays.then_some(delays) }
}

/// How many lines "Recent events" shows.
const EVENT_LINES: usize = 40;

#[function_component(Live)]
pub fn live() -> Html {
    let store = use_store();
    let snap = use_state(Polled::default);
    // Who stopped answering, and when: the diagram draws them down.
    let outages = use_mut_ref(Outages::default);
    // This tab's membership, once the Join panel starts one.
    let tab = (*use_state(TabSlot::default)).clone();
    // The last `/api/delays` answers, kept between the polls that ask them.
    let delays = use_mut_ref(Vec::<(String, Value)>::new);
    {
        let (snap, outages, tab, delays) = (snap.clone(), outages.clone(), tab.clone(), delays.clone());
        let polls = std::rc::Rc::new(std::cell::Cell::new(0u32));
        use_effect_with((), move |_| {
            let tick = {
                let snap = snap.clone();
                move || {
                    let (snap, outages, tab, delays) = (snap.clone(), outages.clone(), tab.clone(), delays.clone());
                    let with_delays = polls.get().is_multiple_of(DELAYS_EVERY);
                    polls.set(polls.get() + 1);
                    wasm_bindgen_futures::spawn_local(async move {
                        let mut s = poll(with_delays).await;
                        if let Some(d) = s.delays.take() {
                            *delays.borrow_mut() = d;
                        }
                        if let Some((state, recording)) = tab.view() {
                            // The natives' recordings name the tab's member
                            // only in what they sent it and got from it.
                            s.flights.retain(|r| r.row != recording.row);
                            s.flights.push(recording);
                            s.tab = Some(state);
                        }
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
    let members = snap.members.clone().unwrap_or_default();
    let verdict = report::verdict(&members, snap.tab.as_ref());
    // A browser member does not register with the name server.
    let browser_master = verdict.master().filter(|m| members.iter().any(|x| x.browser && x.id == *m)).map(str::to_string);
    let outages = outages.borrow().spans.clone();
    let drawn = snap.file.as_ref().map(|file| {
        diagram::draw(&Observed {
            file: file.clone(),
            parts: snap.flights.clone(),
            outages: outages.clone(),
            now_us: snap.at_us,
            master: verdict.master().map(str::to_string),
        })
    });
    let lines = snap
        .file
        .as_ref()
        .and_then(|f| f.validate().ok())
        .map(|scenario| events::recent(&scenario, &snap.flights, &outages, EVENT_LINES))
        .unwrap_or_default();
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
                <div class={classes!("live-verdict", verdict.master().is_some().then_some("ok"))} data-testid="live-masters">
                    { verdict.text() }
                </div>
                if let Some((url, group)) = &snap.nameserver {
                    <nameserver::NameServer url={AttrValue::from(url.clone())} group={AttrValue::from(group.clone())}
                        browser_master={browser_master.map(AttrValue::from)} />
                }
                <div class="live-members">
                    { for members.iter().map(|m| html! {
                        <MemberCard member={m.clone()} card={report::card(m, members, snap.tab.as_ref())} token={token.clone()} />
                    }) }
                </div>
                if let Some(file) = &snap.file {
                    <join::Join members={members.clone()} file={file.clone()} secret={store.live_secret.clone()} tab={tab.clone()} />
                }
                if let Some(file) = &snap.file {
                    <network::NetworkPanel file={file.clone()} answers={delays.borrow().clone()} members={members.clone()}
                        master={verdict.master().map(|m| AttrValue::from(m.to_string()))} />
                }
                <load::Load members={members.clone()} master={verdict.master().map(|m| AttrValue::from(m.to_string()))} />
                <h3>{"The last eight seconds"}</h3>
                { match drawn {
                    Some(Ok(svg)) => html! {
                        <div class="st-svg live-diagram" data-testid="live-space-time">{ Html::from_html_unchecked(AttrValue::from(svg)) }</div>
                    },
                    Some(Err(why)) => html! { <div class="banner notice">{format!("The diagram cannot be drawn: {why}")}</div> },
                    None => html! {},
                } }
                <h3>{"Recent events"}</h3>
                <table class="live-log" data-testid="live-events">
                    { for lines.iter().map(|l| html! {
                        <tr>
                            <td class="num" title={clock_time(l.t_us)}>{events::ago(snap.at_us, l.t_us)}</td>
                            <td>{l.text.clone()}</td>
                        </tr>
                    }) }
                </table>
            }
        </div>
    }
}

/// The wall-clock time of day of `t_us` (µs since the epoch) on this
/// browser, for the tooltip of an event's age.
fn clock_time(t_us: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t_us as f64 / 1000.0));
    String::from(d.to_locale_time_string("default"))
}
