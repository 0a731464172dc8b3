//! The playground page: owns the state, keeps the URL in step with the
//! scenario, routes keyboard shortcuts, shows the Overview tab, and hosts
//! the Edit, Watch, Compare and Live tabs, which live in a second wasm
//! module loaded on first use ([`crate::bridge`]).

use crate::bridge::{self, Snapshot};
use crate::components::help::Help;
use crate::components::overview::Overview;
use crate::components::run_status::RunStatus;
use crate::components::toolbar::Toolbar;
use crate::components::Store;
use crate::dom;
use crate::presets;
use crate::share::{self, Fragment};
use crate::state::{Action, Playground, Tab};
use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use stagger_core::ScenarioFile;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `index.html`'s loader: imports and starts `pkg/stagger_views.js`,
    /// resolving to the module.
    #[wasm_bindgen(js_namespace = window, js_name = staggerLoadViews, catch)]
    fn load_views() -> Result<js_sys::Promise, JsValue>;
}

/// Where the views module is.
#[derive(Clone, PartialEq)]
enum Views {
    /// Not needed yet: only the Edit tab has been shown.
    Idle,
    Loading,
    Ready,
    Failed(String),
}

/// Fetches the views module and mounts it on `#views` with `start`.
async fn mount_views(start: Snapshot) -> Result<(), String> {
    let promise = load_views().map_err(|e| format!("the page has no module loader ({})", js_reason(&e)))?;
    let module = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| js_reason(&e))?;
    let mount = js_sys::Reflect::get(&module, &JsValue::from_str("mount_views"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("the views module has no mount_views")?;
    mount.call1(&JsValue::NULL, &JsValue::from_str(&start.to_json())).map_err(|e| js_reason(&e))?;
    Ok(())
}

/// A thrown JavaScript value as text: an `Error`'s message, or a string.
fn js_reason(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| e.as_string()).unwrap_or_else(|| "an unknown error".into())
}

/// What the page starts with: the scenario in the fragment, or the default
/// with the reason the fragment could not be used.
fn initial() -> Playground {
    let hash = dom::hash();
    let mut p = from_fragment(&hash);
    p.live_token = share::param(&hash, "token");
    p.live_secret = share::param(&hash, "secret");
    if let Some(tab) = share::param(&hash, "tab").as_deref().and_then(Tab::from_name) {
        p.tab = tab;
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
                if e.ctrl_key() || e.meta_key() || e.alt_key() || dom::typing_in_a_field(e) {
                    return;
                }
                // Playback keys are the views module's (crate::views).
                let action = match e.key().as_str() {
                    "o" | "1" => Action::SetTab(Tab::Overview),
                    "e" | "2" => Action::SetTab(Tab::Edit),
                    "w" | "3" => Action::SetTab(Tab::Watch),
                    "c" | "4" => Action::SetTab(Tab::Compare),
                    "v" | "5" => Action::SetTab(Tab::Live),
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

    // The other tabs: load the views module the first time one is opened,
    // then keep it told of the scenario and the tab. `known` is what the
    // views last sent or were sent, so a change is sent once and never
    // echoed back (a 200-server scenario is 300 KB of JSON).
    let views = use_state(|| Views::Idle);
    let (token, secret) = (store.live_token.clone(), store.live_secret.clone());
    let known = use_mut_ref(|| None::<(ScenarioFile, Tab)>);
    {
        let (views, known) = (views.clone(), known.clone());
        use_effect_with((store.file.clone(), store.tab, (*views).clone()), move |(file, tab, state)| match state {
            Views::Idle if *tab != Tab::Overview => {
                views.set(Views::Loading);
                *known.borrow_mut() = Some((file.clone(), *tab));
                let start = Snapshot {
                    scenario: Some(file.clone()),
                    tab: Some(tab.name().to_string()),
                    token: token.clone(),
                    secret: secret.clone(),
                };
                wasm_bindgen_futures::spawn_local(async move {
                    views.set(match mount_views(start).await {
                        Ok(()) => Views::Ready,
                        Err(why) => Views::Failed(why),
                    });
                });
            }
            Views::Ready => {
                let mut k = known.borrow_mut();
                let mut snap = Snapshot::default();
                if k.as_ref().map(|(f, _)| f) != Some(file) {
                    snap.scenario = Some(file.clone());
                }
                if k.as_ref().map(|(_, t)| t) != Some(tab) {
                    snap.tab = Some(tab.name().to_string());
                }
                *k = Some((file.clone(), *tab));
                if snap != Snapshot::default() {
                    bridge::send(bridge::TO_VIEWS, &snap);
                }
            }
            _ => {}
        });
    }
    // Their news: a scenario changed there, or another tab asked for. Taken
    // in a task of its own, so the views paint their result first.
    {
        let (store, known) = (store.clone(), known.clone());
        use_effect_with((), move |_| {
            let l = EventListener::new(&dom::window(), bridge::TO_PAGE, move |e| match bridge::received(e) {
                Ok(snap) => {
                    let tab = snap.tab();
                    if let Some((f, t)) = known.borrow_mut().as_mut() {
                        if let Some(file) = &snap.scenario {
                            *f = file.clone();
                        }
                        if let Some(tab) = tab {
                            *t = tab;
                        }
                    }
                    let store = store.clone();
                    Timeout::new(0, move || {
                        if let Some(file) = snap.scenario {
                            store.dispatch(Action::Update(file));
                        }
                        if let Some(tab) = tab {
                            store.dispatch(Action::SetTab(tab));
                        }
                    })
                    .forget();
                }
                Err(why) => store.dispatch(Action::Notice(Some(why))),
            });
            move || drop(l)
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
                // The page's own run; the other tabs show the views module's.
                if tab == Tab::Overview { <RunStatus /> }
                <nav class="tabs" role="tablist">
                    { for Tab::ALL.iter().map(|t| html! {
                        <button role="tab" class={classes!("tab", (*t == tab).then_some("active"))}
                            aria-selected={(*t == tab).to_string()} data-testid={format!("tab-{}", t.name())}
                            onclick={on_tab(*t)}>{t.label()}</button>
                    }) }
                </nav>
                <main>
                    { match tab {
                        Tab::Overview => html! { <Overview /> },
                        // Drawn by the views module on #views, next to #app.
                        _ => match &*views {
                            Views::Failed(why) => html! {
                                <div class="banner error" role="alert" data-testid="views-error">
                                    <strong>{format!("The {} view could not be loaded. ", tab.label())}</strong>{why}
                                </div>
                            },
                            Views::Ready => html! {},
                            _ => html! { <p class="boot">{format!("Loading the {} view…", tab.label())}</p> },
                        },
                    } }
                </main>
                if store.help { <Help /> }
            </div>
        </ContextProvider<Store>>
    }
}
