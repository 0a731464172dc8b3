//! The Edit, Watch, Compare and Live tabs as their own app, for the `views`
//! wasm module (see [`crate::bridge`] for why there are two).
//!
//! The page mounts it on `#views` the first time one of these tabs is
//! opened, and from then on keeps it told of the scenario and the tab. It
//! owns what only these tabs use: playback (its clock and its keys) and the
//! live view's token.

use crate::bridge::{self, Snapshot};
use crate::components::compare::Compare;
use crate::components::editor::Editor;
use crate::components::live::Live;
use crate::components::results::{DelayTable, MetricsStrip, Winners};
use crate::components::run_status::RunStatus;
use crate::components::toast::Toast;
use crate::components::watch::Watch;
use crate::components::Store;
use crate::presets;
use crate::state::{Action, Playground, Tab};
use crate::{dom, keys};
use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use stagger_core::ScenarioFile;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ViewsProps {
    /// The page's state when it mounted the views.
    pub start: Snapshot,
}

/// What the page was last told or last told us: a change the views make is
/// sent once, and a snapshot echoing it back is recognised and ignored.
struct Known {
    file: ScenarioFile,
    tab: Tab,
    /// The store's [`Playground::switches`] last seen.
    switches: u32,
}

fn initial(start: &Snapshot) -> Playground {
    let mut p = Playground::new(start.scenario.clone().unwrap_or_else(presets::default_file));
    p.tab = start.tab().unwrap_or(Tab::Watch);
    p.live_token = start.token.clone();
    p.live_secret = start.secret.clone();
    p
}

#[function_component(Views)]
pub fn views(props: &ViewsProps) -> Html {
    let store: Store = use_reducer(|| initial(&props.start));
    let known = use_mut_ref(|| Known { file: store.file.clone(), tab: store.tab, switches: store.switches });

    // The page's news: a new scenario (an edit, a preset) or another tab.
    {
        let (store, known) = (store.clone(), known.clone());
        use_effect_with((), move |_| {
            let l = EventListener::new(&dom::window(), bridge::TO_VIEWS, move |e| match bridge::received(e) {
                Ok(snap) => apply(&store, &known, snap),
                Err(why) => store.dispatch(Action::Notice(Some(why))),
            });
            move || drop(l)
        });
    }

    // Our news for the page: a change made here.
    {
        let known = known.clone();
        use_effect_with((store.file.clone(), store.tab, store.switches), move |(file, tab, switches)| {
            let mut k = known.borrow_mut();
            // A switch sends the file and tab even when they are unchanged:
            // the page records it as a history entry.
            let mut snap = Snapshot { switched: std::mem::replace(&mut k.switches, *switches) != *switches, ..Snapshot::default() };
            if *file != k.file || snap.switched {
                k.file = file.clone();
                snap.scenario = Some(file.clone());
            }
            if *tab != k.tab || snap.switched {
                k.tab = *tab;
                snap.tab = Some(tab.name().to_string());
            }
            if snap != Snapshot::default() {
                bridge::send(bridge::TO_PAGE, &snap);
            }
        });
    }

    // Playback keys (the page keeps the tab and help keys), in listeners
    // that can keep the browser from scrolling or clicking as well.
    {
        let (store, known) = (store.clone(), known.clone());
        use_effect_with((), move |_| {
            let on_watch = {
                let known = known.clone();
                move |e: &KeyboardEvent| known.borrow().tab == Tab::Watch && !(e.ctrl_key() || e.meta_key() || e.alt_key())
            };
            let down = dom::listen_active(&dom::document(), "keydown", {
                let on_watch = on_watch.clone();
                move |e| {
                    let Some(e) = e.dyn_ref::<KeyboardEvent>().filter(|e| on_watch(e)) else { return };
                    if let Some(action) = keys::playback(&e.key(), keys::Focus::of(e)) {
                        e.prevent_default();
                        store.dispatch(action);
                    }
                }
            });
            let up = dom::listen_active(&dom::document(), "keyup", move |e| {
                let Some(e) = e.dyn_ref::<KeyboardEvent>().filter(|e| on_watch(e)) else { return };
                if keys::swallow_release(&e.key(), keys::Focus::of(e)) {
                    e.prevent_default();
                }
            });
            move || drop((down, up))
        });
    }

    // Playback: about 30 frames a second while playing.
    {
        let store = store.clone();
        use_effect_with(store.playing, move |playing| {
            let interval = playing.then(|| {
                let last = Rc::new(Cell::new(dom::now_ms()));
                Interval::new(33, move || {
                    let now = dom::now_ms();
                    let dt = now - last.replace(now);
                    store.dispatch(Action::Tick(dt.min(250.0)));
                })
            });
            move || drop(interval)
        });
    }

    let body = match store.tab {
        Tab::Overview => html! {},
        Tab::Edit => html! {
            <div class="edit-layout">
                <section class="editor-col"><Editor /></section>
                <section class="results-col">
                    <Winners />
                    <DelayTable />
                </section>
            </div>
        },
        Tab::Watch => html! { <Watch /> },
        Tab::Compare => html! { <Compare /> },
        Tab::Live => html! { <Live /> },
    };
    html! {
        <ContextProvider<Store> context={store.clone()}>
            <Toast />
            // The metrics of the run this module computed itself, so an edit
            // shows its result without waiting for the page (the Live tab
            // shows a real group instead).
            // Its own run's progress: the page shows the page's, on Overview.
            if store.tab != Tab::Overview { <RunStatus /> }
            if !matches!(store.tab, Tab::Overview | Tab::Live) { <MetricsStrip /> }
            { body }
        </ContextProvider<Store>>
    }
}

/// Applies the page's snapshot, recording it as known first so the change
/// is not sent back. (Compared with `known`, not the store: a handle held
/// by a listener shows the state of the render that made it.)
fn apply(store: &Store, known: &Rc<RefCell<Known>>, snap: Snapshot) {
    let tab = snap.tab();
    let mut k = known.borrow_mut();
    if let Some(file) = snap.scenario.filter(|f| *f != k.file) {
        k.file = file.clone();
        store.dispatch(Action::Update(file));
    }
    if let Some(tab) = tab.filter(|t| *t != k.tab) {
        k.tab = tab;
        store.dispatch(Action::SetTab(tab));
    }
}
