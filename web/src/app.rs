//! The playground page: owns the state, keeps the URL in step with the
//! scenario, drives playback and routes keyboard shortcuts.

use crate::components::compare::Compare;
use crate::components::editor::Editor;
use crate::components::help::Help;
use crate::components::live::Live;
use crate::components::results::{DelayTable, MetricsStrip, Winners};
use crate::components::toolbar::Toolbar;
use crate::components::watch::Watch;
use crate::components::Store;
use crate::dom;
use crate::presets;
use crate::share::{self, Fragment};
use crate::state::{Action, Playground, Tab};
use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// What the page starts with: the scenario in the fragment, or the default
/// with the reason the fragment could not be used.
fn initial() -> Playground {
    let hash = dom::hash();
    let mut p = from_fragment(&hash);
    p.live_token = share::param(&hash, "token");
    if share::param(&hash, "tab").as_deref() == Some("live") {
        p.tab = Tab::Live;
    }
    p
}

fn from_fragment(hash: &str) -> Playground {
    match share::decode(hash) {
        Fragment::Scenario(f) => Playground::new(f),
        Fragment::Empty => Playground::new(presets::default_file()),
        Fragment::Malformed(why) => {
            let mut p = Playground::new(presets::default_file());
            p.load_error = Some(why);
            p
        }
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let store: Store = use_reducer(initial);

    // The URL always carries the scenario being shown. A malformed link is
    // left in place so the user can see what they pasted.
    {
        let file = store.file.clone();
        let keep = store.load_error.is_some();
        use_effect_with(file, move |file| {
            if !keep {
                dom::replace_hash(&share::encode(file));
            }
        });
    }

    // A link pasted into the address bar of an open playground.
    {
        let store = store.clone();
        use_effect_with((), move |_| {
            let listener = EventListener::new(&dom::window(), "hashchange", move |_| match share::decode(&dom::hash()) {
                Fragment::Scenario(f) => store.dispatch(Action::Load(f)),
                Fragment::Malformed(why) => store.dispatch(Action::LoadFailed(why)),
                Fragment::Empty => {}
            });
            move || drop(listener)
        });
    }

    // Keyboard shortcuts (the `?` overlay lists them).
    {
        let store = store.clone();
        use_effect_with((), move |_| {
            let listener = EventListener::new(&dom::document(), "keydown", move |e| {
                let Some(e) = e.dyn_ref::<KeyboardEvent>() else { return };
                if e.ctrl_key() || e.meta_key() || e.alt_key() || typing_in_a_field(e) {
                    return;
                }
                let action = match e.key().as_str() {
                    " " | "k" => Action::TogglePlay,
                    "ArrowRight" | "l" => Action::Step(1),
                    "ArrowLeft" | "j" => Action::Step(-1),
                    "+" | "=" => Action::Faster,
                    "-" | "_" => Action::Slower,
                    "e" | "1" => Action::SetTab(Tab::Edit),
                    "w" | "2" => Action::SetTab(Tab::Watch),
                    "c" | "3" => Action::SetTab(Tab::Compare),
                    "v" | "4" => Action::SetTab(Tab::Live),
                    "?" => Action::ToggleHelp,
                    "Escape" => Action::CloseOverlays,
                    _ => return,
                };
                e.prevent_default();
                store.dispatch(action);
            });
            move || drop(listener)
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

    let tab = store.tab;
    let on_tab = |t: Tab| {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::SetTab(t)))
    };
    let close_notice = {
        let store = store.clone();
        Callback::from(move |_| store.dispatch(Action::Notice(None)))
    };

    html! {
        <ContextProvider<Store> context={store.clone()}>
            <div class="page">
                <Toolbar />
                if let Some(why) = &store.load_error {
                    <div class="banner error" role="alert" data-testid="load-error">
                        <strong>{"This link could not be loaded. "}</strong>{why}
                        <span class="muted">{" Showing the default scenario instead."}</span>
                    </div>
                }
                if let Some(n) = &store.notice {
                    <div class="banner notice" role="status" onclick={close_notice}>{n}</div>
                }
                <MetricsStrip />
                <nav class="tabs" role="tablist">
                    { for Tab::ALL.iter().map(|t| html! {
                        <button role="tab" class={classes!("tab", (*t == tab).then_some("active"))}
                            aria-selected={(*t == tab).to_string()} data-testid={format!("tab-{}", t.label().to_lowercase())}
                            onclick={on_tab(*t)}>{t.label()}</button>
                    }) }
                </nav>
                <main>
                    { match tab {
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
                    } }
                </main>
                if store.help { <Help /> }
            </div>
        </ContextProvider<Store>>
    }
}

/// Shortcuts must not steal keys from a field being typed in.
fn typing_in_a_field(e: &KeyboardEvent) -> bool {
    let Some(t) = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || t.has_attribute("contenteditable")
}
