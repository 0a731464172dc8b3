//! "Start a small load": this tab writes a few times a second through the
//! group's master (`POST /api/kv`), so the next crash shows the writes
//! pausing while the group fails over and resuming under the new master.
//!
//! It is a client like `stagger client`, kept small: one write at a time,
//! four a second, each retried with the same sequence number until it is
//! answered; a `421` names the master to try next, and a member that does
//! not answer sends the next try to another member. The body goes as
//! plain text, which the node parses as JSON all the same, so the browser
//! sends it without a CORS preflight.

use super::member::MemberView;
use gloo::net::http::Request;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

/// The pause between one write's answer and the next try.
const EVERY_MS: u32 = 250;

#[derive(Properties, PartialEq)]
pub struct LoadProps {
    pub members: Vec<MemberView>,
    /// The master the members agree on, if any.
    pub master: Option<AttrValue>,
}

/// What the load has seen so far.
#[derive(Clone, Debug, Default, PartialEq)]
struct Seen {
    ok: u32,
    retries: u32,
    /// `performance.now()` of the last write answered, and of the start.
    last_ok_ms: Option<f64>,
    /// The longest time between two answered writes.
    longest_gap_ms: f64,
    last_error: Option<String>,
}

/// Where to send: the members' addresses, the agreed master's first.
fn targets(members: &[MemberView], master: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = members.iter().filter(|m| master == Some(m.id.as_str())).filter_map(|m| m.addr.clone()).collect();
    out.extend(members.iter().filter(|m| !m.browser && master != Some(m.id.as_str())).filter_map(|m| m.addr.clone()));
    out
}

/// Waits `ms` on the page's timer.
async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

#[function_component(Load)]
pub fn load(p: &LoadProps) -> Html {
    let seen = use_mut_ref(Seen::default);
    let running = use_mut_ref(|| None::<Rc<Cell<bool>>>);
    let redraw = use_force_update();
    // The loop reads the newest addresses on every try.
    let addrs = use_mut_ref(Vec::<String>::new);
    *addrs.borrow_mut() = targets(&p.members, p.master.as_deref());
    // Stop with the tab.
    {
        let running = running.clone();
        use_effect_with((), move |_| move || running.borrow().as_ref().map_or((), |r| r.set(false)));
    }

    let toggle = {
        let (seen, running, redraw, addrs) = (seen.clone(), running.clone(), redraw.clone(), addrs.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(flag) = running.borrow_mut().take() {
                flag.set(false);
                redraw.force_update();
                return;
            }
            let flag = Rc::new(Cell::new(true));
            *running.borrow_mut() = Some(flag.clone());
            *seen.borrow_mut() = Seen { last_ok_ms: Some(now_ms()), ..Seen::default() };
            redraw.force_update();
            let (seen, redraw, addrs) = (seen.clone(), redraw.clone(), addrs.clone());
            wasm_bindgen_futures::spawn_local(write_loop(flag, seen, addrs, redraw));
        })
    };

    let s = seen.borrow().clone();
    let on = running.borrow().is_some();
    let since = s.last_ok_ms.map(|t| (now_ms() - t) / 1000.0);
    html! {
        <div class="live-load" data-testid="live-load">
            <button onclick={toggle} data-testid="live-load-toggle" disabled={p.members.iter().all(|m| m.addr.is_none())}>
                { if on { "Stop the load" } else { "Start a small load" } }
            </button>
            <span class="muted">
                { if on || s.ok > 0 {
                    format!(
                        "{} writes answered, {} retried; longest pause {:.1} s{}",
                        s.ok, s.retries, s.longest_gap_ms / 1000.0,
                        since.filter(|_| on).map_or(String::new(), |t| format!("; last answer {t:.1} s ago")),
                    )
                } else {
                    "Four writes a second through the master, so a crash shows them pause and resume.".to_string()
                } }
            </span>
            if let Some(e) = &s.last_error {
                <span class="muted" data-testid="live-load-error">{format!(" (last refusal: {e})")}</span>
            }
        </div>
    }
}

async fn write_loop(flag: Rc<Cell<bool>>, seen: Rc<RefCell<Seen>>, addrs: Rc<RefCell<Vec<String>>>, redraw: UseForceUpdateHandle) {
    let client = format!("tab-{:08x}", (js_sys::Math::random() * f64::from(u32::MAX)) as u32);
    let (mut seq, mut done, mut hint, mut turn) = (0u64, true, None::<String>, 0usize);
    while flag.get() {
        if done {
            seq += 1;
        }
        let list = addrs.borrow().clone();
        let Some(addr) = hint.take().or_else(|| list.get(turn % list.len().max(1)).cloned()) else {
            sleep(EVERY_MS).await;
            continue;
        };
        let body = json!({"client": client, "seq": seq, "op": "put", "key": format!("k{}", seq % 4), "value": format!("{client}-{seq}")});
        let sent = Request::post(&format!("http://{addr}/api/kv")).body(body.to_string());
        // The answer is read whole before `seen` is borrowed: the page may
        // draw while a read waits.
        let answer = match sent {
            Ok(r) => match r.send().await {
                Ok(r) if r.ok() => Ok((200, Value::Null)),
                Ok(r) => Ok((r.status(), r.json::<Value>().await.unwrap_or_default())),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        done = false;
        {
            let mut s = seen.borrow_mut();
            match answer {
                Ok((200, _)) => {
                    let now = now_ms();
                    let gap = s.last_ok_ms.map_or(0.0, |t| now - t);
                    s.longest_gap_ms = s.longest_gap_ms.max(gap);
                    (s.ok, s.last_ok_ms, done) = (s.ok + 1, Some(now), true);
                }
                Ok((status, v)) => {
                    s.retries += 1;
                    s.last_error = v["error"].as_str().map(str::to_string);
                    match (status, v["addr"].as_str()) {
                        (421, Some(next)) => hint = Some(next.to_string()),
                        // Refused for good (a bad request): the next write.
                        (400 | 409 | 413, _) => done = true,
                        _ => turn += 1,
                    }
                }
                Err(e) => {
                    s.retries += 1;
                    s.last_error = Some(e);
                    turn += 1;
                }
            }
        }
        redraw.force_update();
        sleep(EVERY_MS).await;
    }
}
