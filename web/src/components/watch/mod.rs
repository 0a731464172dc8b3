//! The Watch tab: the run played back.
//!
//! - [`controls`]: play/pause, stepping, speed, the scrubber and the clock.
//! - [`spacetime`]: the core-rendered space-time diagram with a playback
//!   cursor, the future dimmed, live election countdowns, click-to-seek and
//!   message tooltips. The embeddable view reuses it.
//! - [`group`]: the servers on a ring, coloured by role at the playhead,
//!   with the messages in flight moving along chords.
//! - [`properties`]: named properties of the run, checked live.
//!
//! All of them read the run through one [`Playback`]
//! (`stagger_core::timeline`), built once per run: the trace as step
//! functions, so every frame is a handful of binary searches. The core's
//! SVG renderer draws from the same replay.
//!
//! Components that only depend on the run take it as a [`Shared`] prop, so
//! they are skipped by Yew's diff on the 30 playback frames a second; only
//! what moves with the playhead re-renders.

pub mod controls;
pub mod frame;
pub mod group;
pub mod properties;
pub mod spacetime;

use crate::components::use_store;
use crate::state::Computed;
use controls::Controls;
use group::Group;
use properties::Properties;
use spacetime::SpaceTime;
use stagger_core::timeline::Playback;
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

/// The run's [`Playback`], built once per run.
#[hook]
pub fn use_timeline(computed: &Shared<Computed>) -> Shared<Playback> {
    let tl = use_memo(computed.clone(), |c| replay(c));
    Shared(tl)
}

/// Replays the run's trace (none when it was run without one).
pub fn replay(c: &Computed) -> Playback {
    Playback::of(&c.scenario, c.run.trace.as_ref().map_or(&[][..], |t| t.events.as_slice()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use stagger_core::timeline::LaneState;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_replay_agrees_with_the_simulator_on_every_preset() {
        let files = crate::presets::PRESETS.iter().map(|(n, _)| crate::presets::file(n).unwrap());
        for file in files.chain([stagger_core::gen::storm(24)]) {
            let c = Computed::new(file.validate().unwrap());
            let (s, tl) = (&c.scenario, replay(&c));
            assert_eq!(tl.max_masters_from(Time::ZERO), c.run.metrics.max_masters, "{}", s.name);
            let masters: Vec<usize> = (0..s.len()).filter(|r| tl.state(*r, s.until).status == LaneState::Master).collect();
            if let Some(m) = &c.run.metrics.final_master {
                assert_eq!(masters, vec![s.row_of(m).unwrap() as usize], "{}", s.name);
            }
        }
    }
}
