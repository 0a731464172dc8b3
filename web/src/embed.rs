//! The embeddable view (`embed.html#scenario=…`): one scenario's election,
//! playing by itself in a loop, for an `<iframe>` in documentation.
//!
//! It reuses the Watch tab's components. They read the playground's
//! [`Store`] from context, so the view builds its own local [`Playground`]
//! and provides it the same way; nothing of the `App` is involved, and no
//! keyboard shortcut is installed that could surprise a host page.
//!
//! A documentation page may carry several of these, so each one plays only
//! while it is on screen: an `IntersectionObserver` on the view's root
//! stops its clock when it scrolls away. A link that cannot be read shows
//! why (`data-testid="load-error"`), never a blank frame.

use crate::components::run_status::RunStatus;
use crate::components::watch::controls::Controls;
use crate::components::watch::spacetime::SpaceTime;
use crate::components::watch::{use_timeline, Shared};
use crate::components::Store;
use crate::share::{self, Fragment};
use crate::state::{Action, Playground, SPEEDS};
use crate::{dom, presets};
use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use stagger_core::{ScenarioFile, Time};
use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IntersectionObserver, IntersectionObserverEntry};
use yew::prelude::*;

/// How long one loop should last in real time; the speed is picked to match.
const LOOP_S: f64 = 8.0;
/// The pause on the last frame before the loop starts over.
const DWELL_MS: f64 = 1500.0;

#[function_component(Embed)]
pub fn embed() -> Html {
    // The fragment, followed if the host page changes the iframe's URL.
    let hash = use_state(dom::hash);
    {
        let hash = hash.setter();
        use_effect_with((), move |_| {
            let l = EventListener::new(&dom::window(), "hashchange", move |_| hash.set(dom::hash()));
            move || drop(l)
        });
    }
    let link = format!("index.html{}", *hash);
    match share::decode(&hash) {
        Fragment::Scenario(file) => html! { <Player key={(*hash).clone()} file={file} link={link} /> },
        Fragment::Empty => html! { <Player file={presets::default_file()} link={link} /> },
        Fragment::Malformed(why) => failed(&why, "index.html"),
    }
}

/// The frame shown instead of a run, with the reason.
fn failed(why: &str, link: &str) -> Html {
    html! {
        <div class="embed embed-failed">
            <div class="banner error" role="alert" data-testid="load-error">
                <strong>{"This embedded election could not be loaded. "}</strong>{why}
            </div>
            <a class="embed-open" href={link.to_string()} target="_blank" rel="noopener">{"Open the Stagger playground ↗"}</a>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct PlayerProps {
    file: ScenarioFile,
    link: String,
}

/// The local store, and the loop that drives it.
#[function_component(Player)]
fn player(p: &PlayerProps) -> Html {
    let store: Store = use_reducer({
        let file = p.file.clone();
        move || Playground::new(file)
    });
    let root = use_node_ref();
    let visible = use_state(|| true);
    // The interval reads the latest state through this, not a stale handle.
    let latest = use_mut_ref(|| (Time::ZERO, false, Time::ZERO));
    let to = store.last_good.as_ref().map_or(Time::ZERO, |c| c.plot.to);
    *latest.borrow_mut() = (store.playhead, store.playing, to);

    // Start playing at a speed that makes one loop last about LOOP_S, once
    // there is a run (a heavy one finishes in slices, after the first render).
    {
        let store = store.clone();
        use_effect_with(store.last_good.is_some(), move |_| {
            if let Some(c) = &store.last_good {
                let span_ms = (c.plot.to.0 - c.plot.from.0) as f64 / 1000.0;
                let fit = |i: usize| (span_ms / SPEEDS[i] - LOOP_S).abs();
                let best = (0..SPEEDS.len()).min_by(|a, b| fit(*a).total_cmp(&fit(*b))).unwrap_or(store.speed);
                let step = if best > store.speed { Action::Faster } else { Action::Slower };
                for _ in 0..best.abs_diff(store.speed) {
                    store.dispatch(step.clone());
                }
                store.dispatch(Action::Play);
            }
        });
    }

    // Pause while off screen.
    {
        let (visible, root) = (visible.setter(), root.clone());
        use_effect_with((), move |_| {
            let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                if let Some(e) = entries.iter().last() {
                    visible.set(e.unchecked_into::<IntersectionObserverEntry>().is_intersecting());
                }
            });
            let observer = IntersectionObserver::new(cb.as_ref().unchecked_ref()).ok();
            if let (Some(o), Some(el)) = (&observer, root.cast::<web_sys::Element>()) {
                o.observe(&el);
            }
            move || {
                if let Some(o) = observer {
                    o.disconnect();
                }
                drop(cb);
            }
        });
    }

    // The clock: about 30 frames a second while visible. At the end it
    // dwells, then starts over; a pause by the viewer is left alone.
    {
        let (store, latest) = (store.clone(), latest.clone());
        use_effect_with(*visible, move |visible| {
            let interval = visible.then(|| {
                let last = Cell::new(dom::now_ms());
                let dwell = Cell::new(0.0);
                Interval::new(33, move || {
                    let now = dom::now_ms();
                    let dt = (now - last.replace(now)).min(250.0);
                    let (playhead, playing, to) = *latest.borrow();
                    if playing {
                        dwell.set(0.0);
                        store.dispatch(Action::Tick(dt));
                    } else if playhead >= to {
                        dwell.set(dwell.get() + dt);
                        if dwell.get() >= DWELL_MS {
                            dwell.set(0.0);
                            store.dispatch(Action::TogglePlay); // from the start
                        }
                    }
                })
            });
            move || drop(interval)
        });
    }

    // The host page's tab or reader may show the frame's title.
    {
        let name = store.last_good.as_ref().map(|c| c.scenario.name.clone());
        use_effect_with(name, |name| {
            if let Some(n) = name {
                dom::document().set_title(&format!("{n} · Stagger election"));
            }
        });
    }

    if store.outcome.running().is_some() && store.last_good.is_none() {
        return html! {
            <ContextProvider<Store> context={store.clone()}>
                <div class="embed" ref={root} data-testid="embed"><RunStatus /></div>
            </ContextProvider<Store>>
        };
    }
    let Some(c) = store.last_good.clone() else {
        let why = store.outcome.error().map_or_else(|| "the scenario is not valid".to_string(), |e| e.to_string());
        return html! { <div ref={root}>{failed(&format!("the scenario is not valid: {why}"), &p.link)}</div> };
    };
    let m = &c.run.metrics;
    let caption = format!(
        "{} {} · {} · {} election messages (N − 1 = {}) · {} messages in all · split brain {:.3} ms",
        m.master_label(),
        m.final_master.as_deref().unwrap_or("none"),
        m.convergence_text(|t| format!("{t:.3} ms")),
        m.election_messages,
        c.scenario.len().saturating_sub(1),
        m.messages.total,
        m.split_brain_ms
    );
    html! {
        <ContextProvider<Store> context={store.clone()}>
            <div class="embed" ref={root} data-testid="embed" data-visible={visible.to_string()}>
                <header class="embed-head">
                    <span class="embed-name" data-testid="scenario-name">{&c.scenario.name}</span>
                    <Controls compact=true />
                    <a class="embed-open" href={p.link.clone()} target="_blank" rel="noopener" data-testid="open-playground">
                        {"Open in playground ↗"}
                    </a>
                </header>
                <EmbedDiagram computed={Shared(c.clone())} />
                <p class="embed-caption" data-testid="embed-caption">{caption}</p>
                // Says so when the run shown stopped at its budget.
                <RunStatus />
            </div>
        </ContextProvider<Store>>
    }
}

#[derive(Properties, PartialEq)]
struct EmbedDiagramProps {
    computed: Shared<crate::state::Computed>,
}

/// The diagram with its timeline, in a component of its own so that the
/// timeline hook runs unconditionally.
#[function_component(EmbedDiagram)]
fn embed_diagram(p: &EmbedDiagramProps) -> Html {
    let timeline = use_timeline(&p.computed);
    html! { <SpaceTime computed={p.computed.clone()} timeline={timeline} /> }
}
