//! This tab as a member of a live group: the engine of `stagger-core`, run
//! in wasm on browser timers, joined through one node's `/ws`.
//!
//! The conversation is a native node's (`stagger_core::wire`): the member
//! handshake with the group secret (an HMAC proof over fresh nonces from
//! `crypto.getRandomValues`; the secret never crosses the wire), then
//! `relay` frames out, one per receiver, which the node routes to the rest
//! of the group, and `deliver` frames in. Engine time is the browser's
//! clock in µs since the Unix epoch, the base the nodes use, so a
//! synchronous detection grid lines up with theirs.
//!
//! Like a starting node, the tab stays down for one detection period after
//! joining, then recovers: it finds the master through a broadcast inquiry
//! instead of assuming the patent's initial state.
//!
//! Like a node, the tab keeps a flight recording of its engine
//! (`stagger_core::flight`), which the Live view draws in the member's lane:
//! a browser member has no `/api/flight` for anyone else to fetch.

use gloo::timers::callback::Timeout;
use stagger_core::flight::{Recorder, Recording};
use stagger_core::wire::auth::{nonce_hex, Dialer, NONCE_BYTES};
use stagger_core::wire::{self, Frame, PeerKind};
use stagger_core::{Input, Output, Rng, Scenario, Server, ServerConfig, Span, Time};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// What the tab's member is doing, for the Live view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberState {
    /// The member this tab joined as.
    pub id: String,
    /// `connecting`, `joined`, or why it stopped.
    pub phase: String,
    /// The engine's role (`Down` while it waits out its first period).
    pub role: String,
    pub master: Option<String>,
    pub sent: u64,
    pub received: u64,
}

/// A running membership; dropping it leaves the group.
pub struct TabMember {
    inner: Rc<RefCell<Inner>>,
}

/// This tab's membership, if any: started by the Join panel, reported by
/// the rest of the Live view. Equal when it is the same slot.
#[derive(Clone, Default)]
pub struct TabSlot(pub Rc<RefCell<Option<TabMember>>>);

impl PartialEq for TabSlot {
    fn eq(&self, other: &TabSlot) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl TabSlot {
    /// The member's state and flight recording, when this tab joined.
    pub fn view(&self) -> Option<(MemberState, Recording)> {
        let slot = self.0.borrow();
        let i = slot.as_ref()?.inner.borrow();
        Some((i.state.clone(), i.flight.recording()))
    }
}

/// How many messages the tab's flight recording keeps (a node keeps as many).
const FLIGHT_CAP: usize = 4_000;

struct Inner {
    ws: WebSocket,
    dialer: Option<Dialer>,
    joined: bool,
    /// Set by the first [`stop`], so the close that follows does not
    /// replace its reason.
    stopped: bool,
    server: Server,
    rng: Rng,
    ids: Vec<String>,
    period: Span,
    /// The engine's next timer.
    timer: Option<Timeout>,
    /// The end of the start-up hold; apart from `timer`, which every
    /// receipt re-arms (and a down engine has none).
    recover: Option<Timeout>,
    state: MemberState,
    flight: Recorder,
    on_change: Rc<dyn Fn(MemberState)>,
    closures: Vec<Box<dyn std::any::Any>>,
}

fn now() -> Time {
    Time((js_sys::Date::now() * 1000.0) as u64)
}

/// `now()` for `server`: never before its last input, which the engine
/// refuses. The wall clock can step back, and a timer is fed at its
/// deadline when the browser wakes a little early.
fn now_for(server: &Server) -> Time {
    now().max(server.now())
}

fn fresh_nonce() -> Result<String, String> {
    let mut bytes = [0u8; NONCE_BYTES];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok()).ok_or("this browser has no crypto.getRandomValues")?;
    crypto.get_random_values_with_u8_array(&mut bytes).map_err(|_| "crypto.getRandomValues failed".to_string())?;
    Ok(nonce_hex(&bytes))
}

impl TabMember {
    /// Joins `scenario`'s group as member `id` through the node at `ws_url`.
    pub fn join(
        ws_url: &str,
        id: &str,
        secret: &str,
        scenario: &Scenario,
        on_change: impl Fn(MemberState) + 'static,
    ) -> Result<TabMember, String> {
        let row = scenario.row_of(id).ok_or_else(|| format!("{id:?} is not a member of this group"))?;
        let ws = WebSocket::new(ws_url).map_err(|_| format!("cannot open {ws_url}"))?;
        let mut rng = Rng::new(u64::from_str_radix(&fresh_nonce()?[..16], 16).unwrap_or(1));
        let period = scenario.periods[row as usize];
        let mut server = Server::new(ServerConfig {
            row,
            period,
            phase: match scenario.phase {
                stagger_core::scenario::PhaseMode::Synchronous => Span::ZERO,
                stagger_core::scenario::PhaseMode::Asynchronous => Span(rng.below(period.0.max(1))),
            },
            params: Arc::new(scenario.params.clone()),
            table: scenario.rank_table(),
        });
        let _ = server.handle_input(now(), Input::Crash, &mut rng);
        while server.poll_output().is_some() {}
        let inner = Rc::new(RefCell::new(Inner {
            ws: ws.clone(),
            dialer: Some(Dialer::new(secret, id, PeerKind::Member, fresh_nonce()?)),
            joined: false,
            stopped: false,
            server,
            rng,
            ids: scenario.ids.clone(),
            period,
            timer: None,
            recover: None,
            state: MemberState { id: id.to_string(), phase: "connecting".into(), role: "Down".into(), ..MemberState::default() },
            flight: Recorder::new(row, FLIGHT_CAP),
            on_change: Rc::new(on_change),
            closures: Vec::new(),
        }));
        let weak = Rc::downgrade(&inner);
        let on_open = {
            let weak = weak.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                if let Some(i) = weak.upgrade() {
                    let hello = i.borrow().dialer.as_ref().map(Dialer::hello);
                    if let Some(h) = hello {
                        let _ = i.borrow().ws.send_with_str(&wire::encode(&h));
                    }
                }
            })
        };
        let on_message = {
            let weak = weak.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let Some(i) = weak.upgrade() else { return };
                match e.data().as_string() {
                    Some(text) => on_frame(&i, &text),
                    None => stop(&i, "the node sent a binary frame".into()),
                }
            })
        };
        let on_close = {
            let weak = weak.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
                if let Some(i) = weak.upgrade() {
                    let why = if e.reason().is_empty() { format!("the connection closed (code {})", e.code()) } else { e.reason() };
                    stop(&i, why);
                }
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        inner.borrow_mut().closures = vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
        notify(&inner);
        Ok(TabMember { inner })
    }
}

impl Drop for TabMember {
    fn drop(&mut self) {
        let mut i = self.inner.borrow_mut();
        i.timer = None;
        i.recover = None;
        i.ws.set_onclose(None);
        i.ws.set_onmessage(None);
        let _ = i.ws.close();
    }
}

fn notify(i: &Rc<RefCell<Inner>>) {
    let (cb, state) = {
        let b = i.borrow();
        (b.on_change.clone(), b.state.clone())
    };
    cb(state);
}

fn stop(i: &Rc<RefCell<Inner>>, why: String) {
    {
        let mut b = i.borrow_mut();
        if std::mem::replace(&mut b.stopped, true) {
            return;
        }
        b.timer = None;
        b.recover = None;
        b.joined = false;
        b.state.phase = why;
        b.state.role = "Down".into();
        b.state.master = None;
        let _ = b.ws.close();
    }
    notify(i);
}

fn on_frame(i: &Rc<RefCell<Inner>>, text: &str) {
    let frame = match wire::decode(text) {
        Ok(f) => f,
        Err(e) => return stop(i, e.reason()),
    };
    let handshake = i.borrow().dialer.is_some();
    if let Frame::Error { reason } = &frame {
        return stop(i, format!("refused by the node: {reason}"));
    }
    if handshake {
        let result = {
            let mut b = i.borrow_mut();
            let d = b.dialer.as_mut().expect("in the handshake");
            match frame {
                Frame::Challenge { .. } => d.on_challenge(frame).map(Some).map_err(|e| e.reason()),
                _ => d.on_welcome(frame).map(|_| None).map_err(|e| e.reason()),
            }
        };
        match result {
            Ok(Some(auth)) => {
                let _ = i.borrow().ws.send_with_str(&wire::encode(&auth));
            }
            Ok(None) => {
                {
                    let mut b = i.borrow_mut();
                    b.dialer = None;
                    b.joined = true;
                    b.state.phase = "joined".into();
                }
                // Down for one period, then recovered, as a starting node.
                let ms = (i.borrow().period.0 / 1000) as u32;
                let weak = Rc::downgrade(i);
                let t = Timeout::new(ms, move || {
                    if let Some(i) = weak.upgrade() {
                        let _ = {
                            let mut b = i.borrow_mut();
                            let b = &mut *b;
                            b.server.handle_input(now_for(&b.server), Input::Recover, &mut b.rng)
                        };
                        drain(&i);
                    }
                });
                i.borrow_mut().recover = Some(t);
                notify(i);
            }
            Err(why) => stop(i, format!("refused: {why}")),
        }
        return;
    }
    match frame {
        Frame::Deliver { env, .. } => {
            {
                let mut b = i.borrow_mut();
                let b = &mut *b;
                b.state.received += 1;
                let at = now_for(&b.server);
                if b.server.handle_input(at, Input::Receive(env), &mut b.rng).is_ok() {
                    b.flight.receipt(at, &env, b.server.table());
                }
            }
            drain(i);
        }
        other => stop(i, format!("unexpected {} frame from the node", other.kind())),
    }
}

/// Sends what the engine wants sent, records its role, and arms the next
/// timer.
fn drain(i: &Rc<RefCell<Inner>>) {
    {
        let mut b = i.borrow_mut();
        let b = &mut *b;
        let table = b.server.table().clone();
        let at = now_for(&b.server);
        while let Some(o) = b.server.poll_output() {
            b.flight.output(at, &o, &table);
            match o {
                Output::Send { to, env } => {
                    for r in table.destinations(to, env.from) {
                        let frame = Frame::Relay { to: b.ids[r as usize].clone(), env };
                        if b.ws.send_with_str(&wire::encode(&frame)).is_ok() {
                            b.state.sent += 1;
                        }
                    }
                }
                Output::Role { role, master } => {
                    b.state.role = role.name().to_string();
                    b.state.master = master.map(|x| b.ids[table.row(x) as usize].clone());
                }
                _ => {}
            }
        }
        if !b.server.is_up() {
            b.state.role = "Down".into();
        }
        b.timer = b.server.poll_timeout().map(|(at, kind)| {
            let wait_ms = at.0.saturating_sub(now().0).div_ceil(1000).min(u32::MAX as u64) as u32;
            let weak = Rc::downgrade(i);
            Timeout::new(wait_ms, move || {
                if let Some(i) = weak.upgrade() {
                    {
                        let mut b = i.borrow_mut();
                        let b = &mut *b;
                        let _ = b.server.handle_input(now_for(&b.server).max(at), Input::Timer(kind), &mut b.rng);
                    }
                    drain(&i);
                }
            })
        });
    }
    notify(i);
}
