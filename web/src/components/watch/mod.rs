//! The Watch tab: the run played back.
//!
//! - [`controls`]: play/pause, stepping, speed, the scrubber and the clock.
//! - [`spacetime`]: the core-rendered space-time diagram with a playback
//!   cursor, the future dimmed, live election countdowns, click-to-seek and
//!   message tooltips. The embeddable view reuses it.
//! - [`group`]: the servers on a ring, coloured by role at the playhead,
//!   with the messages in flight moving along chords.
//! - [`properties`]: named properties of the run, checked live.
//! - [`model`]: the trace replayed once per run into step functions, so
//!   every frame is a handful of binary searches.
//!
//! Components that only depend on the run take it as a [`Shared`] prop, so
//! they are skipped by Yew's diff on the 30 playback frames a second; only
//! what moves with the playhead re-renders.

pub mod controls;
pub mod flights;
pub mod frame;
pub mod group;
pub mod model;
pub mod properties;
pub mod spacetime;

use crate::components::use_store;
use crate::state::Computed;
use controls::Controls;
use group::Group;
use model::Timeline;
use properties::Properties;
use spacetime::SpaceTime;
use stagger_core::Time;
use std::ops::Deref;
use std::rc::Rc;
use yew::prelude::*;

/// An `Rc` that props compare by identity: a new run is a new `Rc`, and
/// comparing two runs field by field every frame would cost more than
/// re-rendering.
#[derive(Debug)]
pub struct Shared<T>(pub Rc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The run's [`Timeline`], built once per run.
#[hook]
pub fn use_timeline(computed: &Shared<Computed>) -> Shared<Timeline> {
    let tl = use_memo(computed.clone(), |c| Timeline::build(&c.scenario, &c.run));
    Shared(tl)
}

/// A time as the playground prints it: milliseconds with three decimals.
pub fn fmt_ms(t: Time) -> String {
    format!("{:.3} ms", t.as_ms())
}

#[function_component(Watch)]
pub fn watch() -> Html {
    let store = use_store();
    match store.last_good.clone() {
        Some(c) => html! { <WatchRun computed={Shared(c)} /> },
        None => html! {
            <div class="card watch-empty" data-testid="watch-empty">
                <h3>{"Nothing to play yet"}</h3>
                <p class="muted">{"The scenario has not validated once. Fix it in the Edit tab and the run appears here."}</p>
            </div>
        },
    }
}

#[derive(Properties, PartialEq)]
struct WatchRunProps {
    computed: Shared<Computed>,
}

/// The tab for one run. A component of its own so that its hooks run on
/// every render, whatever the store holds.
#[function_component(WatchRun)]
fn watch_run(p: &WatchRunProps) -> Html {
    let store = use_store();
    let timeline = use_timeline(&p.computed);
    let stale = store.outcome.error().is_some();
    html! {
        <div class="watch" data-testid="watch">
            <div class="watch-main">
                <Controls />
                if stale {
                    <p class="watch-stale" role="status">{"The scenario has an error: this is the last valid run."}</p>
                }
                <div class="card st-card">
                    <SpaceTime computed={p.computed.clone()} timeline={timeline.clone()} />
                </div>
            </div>
            <aside class="watch-side">
                <Group computed={p.computed.clone()} timeline={timeline.clone()} playhead={store.playhead} />
                <Properties computed={p.computed.clone()} timeline={timeline} playhead={store.playhead} />
            </aside>
        </div>
    }
}
