//! The Live tab's registration panel: the group's name server as clients
//! see it. It looks the group up (for the lease, every half second) and
//! watches it over a WebSocket (for every registration and how it ended);
//! [`super::registration`] folds both. A dropped socket is reopened after a
//! second, resuming after the last change it folded in; when the name
//! server no longer has those changes it answers with a resync.

use super::registration::{countdown, ended, Frame, Lease, Lookup, Registrations};
use gloo::timers::callback::{Interval, Timeout};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::prelude::*;

/// How often the lease is looked up.
const LOOKUP_MS: u32 = 500;
/// How long to wait before reopening a dropped watch.
const RETRY_MS: u32 = 1_000;

#[derive(Properties, PartialEq)]
pub struct NameServerProps {
    /// `http://HOST:PORT`.
    pub url: AttrValue,
    pub group: AttrValue,
    /// The browser member the group's members follow as master, if one is:
    /// it does not register, so clients see no master meanwhile.
    pub browser_master: Option<AttrValue>,
}

/// The watch and what it folded; shared by the socket's callbacks.
#[derive(Default)]
struct Watch {
    fold: Registrations,
    lease: Option<Lease>,
    /// The last lookup's failure, if it failed.
    lookup_error: Option<String>,
    /// "connecting", "watching", or why the socket closed.
    state: String,
    ws: Option<WebSocket>,
    closures: Vec<Box<dyn std::any::Any>>,
    /// Counts the panel's starts, so that a reconnect timer of an earlier
    /// one does nothing.
    generation: u32,
    /// Cleared when the panel goes away: nothing reconnects after.
    alive: bool,
    /// Set when the first lookup answered and the watch was opened.
    started: bool,
}

impl Watch {
    fn close(&mut self) {
        if let Some(ws) = self.ws.take() {
            ws.set_onclose(None);
            ws.set_onmessage(None);
            ws.set_onopen(None);
            let _ = ws.close();
        }
        self.closures.clear();
    }
}

fn now_us() -> u64 {
    (js_sys::Date::now() * 1000.0) as u64
}

async fn lookup(url: &str, group: &str) -> Result<Lookup, String> {
    let v = super::get_json(&format!("{url}/v1/groups/{group}")).await?;
    Lookup::read(&v).map_err(|e| format!("the name server answered a view this page does not read: {e}"))
}

/// Opens the watch, after the last change folded in (or from the start:
/// the name server then sends what it still has, or a resync).
fn open(watch: &Rc<RefCell<Watch>>, url: &str, group: &str, redraw: &Callback<()>) {
    let ws_url = format!("{}/v1/groups/{group}/watch?after={}", url.replacen("http", "ws", 1), watch.borrow().fold.seq);
    let ws = match WebSocket::new(&ws_url) {
        Ok(ws) => ws,
        Err(_) => return retry(watch, url, group, redraw, format!("cannot open {ws_url}")),
    };
    let on_open = {
        let (watch, redraw) = (Rc::downgrade(watch), redraw.clone());
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            if let Some(w) = watch.upgrade() {
                w.borrow_mut().state = "watching".into();
                redraw.emit(());
            }
        })
    };
    let on_message = {
        let (watch, redraw) = (Rc::downgrade(watch), redraw.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Some(w) = watch.upgrade() else { return };
            let Some(text) = e.data().as_string() else { return };
            match Frame::read(&text) {
                Ok(frame) => w.borrow_mut().fold.apply(frame, now_us()),
                Err(e) => w.borrow_mut().state = format!("the name server sent a frame this page does not read: {e}"),
            }
            redraw.emit(());
        })
    };
    let on_close = {
        let (watch, redraw, url, group) = (Rc::downgrade(watch), redraw.clone(), url.to_string(), group.to_string());
        Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            if let Some(w) = watch.upgrade() {
                let why = if e.reason().is_empty() { format!("closed (code {})", e.code()) } else { e.reason() };
                retry(&w, &url, &group, &redraw, why);
            }
        })
    };
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let mut w = watch.borrow_mut();
    w.ws = Some(ws);
    w.closures = vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
}

/// Says why the watch closed and reopens it after [`RETRY_MS`], unless the
/// panel went away or started over meanwhile.
fn retry(watch: &Rc<RefCell<Watch>>, url: &str, group: &str, redraw: &Callback<()>, why: String) {
    let weak = Rc::downgrade(watch);
    let (url, group, again) = (url.to_string(), group.to_string(), redraw.clone());
    let generation = {
        // The dead socket's closures stay until the next `open` replaces
        // them: one of them may be running now.
        let mut w = watch.borrow_mut();
        w.ws = None;
        w.state = format!("reconnecting: the watch {why}");
        w.generation
    };
    // Left to fire (a timer dropped inside its own callback is not safe):
    // it checks whether it is still wanted.
    Timeout::new(RETRY_MS, move || {
        if let Some(w) = weak.upgrade() {
            let wanted = {
                let w = w.borrow();
                w.alive && w.generation == generation
            };
            if wanted {
                open(&w, &url, &group, &again);
            }
        }
    })
    .forget();
    redraw.emit(());
}

#[function_component(NameServer)]
pub fn name_server(p: &NameServerProps) -> Html {
    let watch = use_mut_ref(Watch::default);
    let update = use_force_update();
    let redraw = Callback::from(move |()| update.force_update());
    {
        let (watch, redraw) = (watch.clone(), redraw.clone());
        use_effect_with((p.url.clone(), p.group.clone()), move |(url, group)| {
            {
                let mut w = watch.borrow_mut();
                w.close();
                let generation = w.generation.wrapping_add(1);
                *w = Watch { alive: true, generation, state: "connecting".into(), ..Watch::default() };
            }
            let tick = {
                let (watch, redraw, url, group) = (watch.clone(), redraw.clone(), url.to_string(), group.to_string());
                move || {
                    let (watch, redraw, url, group) = (watch.clone(), redraw.clone(), url.clone(), group.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        let answer = lookup(&url, &group).await;
                        let first = {
                            let mut w = watch.borrow_mut();
                            if !w.alive {
                                return;
                            }
                            let first = !w.started && answer.is_ok();
                            match &answer {
                                Ok(view) => {
                                    w.lease = Lease::of(view, now_us());
                                    w.lookup_error = None;
                                    if first {
                                        // What happened up to this lookup
                                        // happened before the tab watched.
                                        w.fold = Registrations::watching_after(view.seq);
                                        w.started = true;
                                    }
                                }
                                Err(e) => w.lookup_error = Some(e.clone()),
                            }
                            first
                        };
                        if first {
                            open(&watch, &url, &group, &redraw);
                        }
                        redraw.emit(());
                    });
                }
            };
            tick();
            let interval = Interval::new(LOOKUP_MS, tick);
            move || {
                let mut w = watch.borrow_mut();
                w.alive = false;
                w.close();
                drop(interval);
            }
        });
    }
    let w = watch.borrow();
    let now = now_us();
    let f = &w.fold;
    let master = match (&f.master, f.synced) {
        (_, false) => html! { <span class="muted">{"…"}</span> },
        (Some(m), true) => html! {
            <>
                <strong data-testid="ns-master">{&m.member}</strong>
                {" at "}<code>{&m.addr}</code>{" · epoch "}<strong data-testid="ns-epoch">{m.epoch}</strong>
                {" · lease "}
                <span data-testid="ns-lease">{f.lease_left(w.lease, now).map_or("—".to_string(), countdown)}</span>
                {" left"}
            </>
        },
        (None, true) => html! {
            <strong data-testid="ns-master">{"No master registered"}</strong>
        },
    };
    html! {
        <section class="live-ns" data-testid="live-nameserver" aria-labelledby="live-ns-title">
            <h3 id="live-ns-title">{"Registration"}</h3>
            <p class="live-detail">
                {"What clients see: the master registered with the name server at "}<code>{p.url.to_string()}</code>
                {format!(" for group {}, under an epoch that rises with every takeover. ", p.group)}
                {"The lease runs out unless the master renews it; then nobody is named until the next master registers."}
            </p>
            <div class={classes!("live-verdict", f.master.is_some().then_some("ok"))} data-testid="ns-current">{master}</div>
            if let Some(b) = &p.browser_master {
                <p class="banner notice" data-testid="ns-browser-master">
                    {format!("{b} is the group's master, but a browser member does not register with the name server: clients see no master (or a crashed one until its lease runs out) until a native member is master again.")}
                </p>
            }
            <p class="live-detail muted" data-testid="ns-state">
                {format!("Watch: {}", w.state)}
                if let Some(e) = &w.lookup_error { {format!(" · lookup: {e}")} }
            </p>
            if !f.history.is_empty() {
                <table class="live-log live-ns-history" data-testid="ns-history">
                    <caption class="live-detail">{"Registrations, newest first"}</caption>
                    <thead><tr><th scope="col">{"Epoch"}</th><th scope="col">{"Member"}</th><th scope="col">{"Registered"}</th><th scope="col">{"Ended"}</th></tr></thead>
                    <tbody>
                    { for f.history.iter().rev().map(|e| html! {
                        <tr data-epoch={e.epoch.to_string()}>
                            <td class="num">{e.epoch}</td>
                            <td>{&e.member}</td>
                            <td>{e.at_us.map_or("earlier".to_string(), |t| super::events::ago(now, t))}</td>
                            <td>{ match &e.end {
                                None => "registered now".to_string(),
                                Some((how, Some(t))) => format!("{}, {}", ended(how), super::events::ago(now, *t)),
                                Some((how, None)) => ended(how),
                            } }</td>
                        </tr>
                    }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
