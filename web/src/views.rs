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
use crate::components::watch::Watch;
use crate::components::Store;
use crate::dom;
use crate::presets;
use crate::state::{Action, Playground, Tab};
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
    let known = use_mut_ref(|| Known { file: store.file.clone(), tab: store.tab });

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
        use_effect_with((store.file.clone(), store.tab), move |(file, tab)| {
            let mut k = known.borrow_mut();
            let mut snap = Snapshot::default();
            if *file != k.file {
                k.file = file.clone();
                snap.scenario = Some(file.clone());
            }
            if *tab != k.tab {
                k.tab = *tab;
                snap.tab = Some(tab.name().to_string());
            }
            if snap != Snapshot::default() {
                bridge::send(bridge::TO_PAGE, &snap);
            }
        });
    }

    // Playback keys (the page keeps the tab and help keys).
    {
        let (store, known) = (store.clone(), known.clone());
        use_effect_with((), move |_| {
            let l = EventListener::new(&dom::document(), "keydown", move |e| {
                let Some(e) = e.dyn_ref::<KeyboardEvent>() else { return };
                if known.borrow().tab != Tab::Watch || e.ctrl_key() || e.meta_key() || e.alt_key() || dom::typing_in_a_field(e) {
                    return;
                }
                let action = match e.key().as_str() {
                    " " | "k" => Action::TogglePlay,
                    "ArrowRight" | "l" => Action::Step(1),
                    "ArrowLeft" | "j" => Action::Step(-1),
                    "+" | "=" => Action::Faster,
                    "-" | "_" => Action::Slower,
                    _ => return,
                };
                e.prevent_default();
                store.dispatch(action);
            });
            move || drop(l)
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
            if let Some(n) = &store.notice {
                <div class="banner notice" role="status" onclick={
                    let store = store.clone();
                    Callback::from(move |_| store.dispatch(Action::Notice(None)))
                }>{n}</div>
            }
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
