//! The playground page: owns the state, keeps the URL and the browser's
//! history in step with the scenario and the tab, routes keyboard shortcuts, shows the Overview tab, and hosts
//! the Edit, Watch, Compare and Live tabs, which live in a second wasm
//! module loaded on first use ([`crate::bridge`]).

use crate::bridge::{self, Snapshot};
use crate::components::help::Help;
use crate::components::overview::Overview;
use crate::components::run_status::RunStatus;
use crate::components::toast::Toast;
use crate::components::toolbar::{self, Toolbar};
use crate::components::Store;
use crate::credentials::{self, Credentials};
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

/// What the page starts with: the scenario and tab in the fragment (or the
/// default scenario, with the reason the fragment could not be used), and
/// the live group's credentials, which leave the URL here.
fn initial() -> Playground {
    let Credentials { token, secret } = credentials::take();
    let hash = dom::hash();
    let mut p = from_fragment(&hash);
    p.live_token = token;
    p.live_secret = secret;
    if let Some(tab) = share::tab(&hash) {
        p.tab = tab;
    }
    p
}

/// Shows what the URL names after the browser moved (Back, Forward, a link
/// pasted into the address bar): its scenario and its tab, each if it names
/// one (an old link has no tab: the tab shown stays).
fn follow_url(store: &Store) {
    let hash = dom::hash();
    if Credentials::from_fragment(&hash) != Credentials::default() {
        // A Live view URL pasted into an open page: start again with its
        // credentials (and without them in the URL).
        credentials::take();
        let _ = dom::window().location().reload();
        return;
    }
    let tab = share::tab(&hash);
    match share::decode(&hash) {
        Fragment::Scenario(f) => store.dispatch(Action::Follow(Some(f), tab)),
        Fragment::Empty => store.dispatch(Action::Follow(None, tab)),
        Fragment::Malformed(why) => store.dispatch(Action::LoadFailed(why)),
    }
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

    // The URL always carries the scenario and the tab being shown, so a
    // reload or a copied address opens them again. A switch to another
    // scenario (a preset, an import, a compared variant) is a new history
    // entry, so Back returns to the one before; an edit or a tab change
    // replaces the current entry. A malformed link is left in place so the
    // user can see what they pasted.
    {
        let keep = store.load_error.is_some();
        let recorded = use_mut_ref(|| store.switches);
        use_effect_with((store.file.clone(), store.tab, store.switches), move |(file, tab, switches)| {
            let switched = std::mem::replace(&mut *recorded.borrow_mut(), *switches) != *switches;
            let fragment = share::link(*tab, file);
            if keep || dom::hash() == format!("#{fragment}") {
                return;
            }
            if switched {
                dom::push_hash(&fragment);
            } else {
                dom::replace_hash(&fragment);
            }
        });
    }

    // The browser's Back and Forward, and a link pasted into the address bar.
    {
        let store = store.clone();
        use_effect_with((), move |_| {
            let follow = move |_: &Event| follow_url(&store);
            let pop = EventListener::new(&dom::window(), "popstate", follow.clone());
            let hash = EventListener::new(&dom::window(), "hashchange", follow);
            move || drop((pop, hash))
        });
    }

    // Keyboard shortcuts (the `?` overlay lists them).
    {
        let store = store.clone();
        use_effect_with((), move |_| {
            let listener = dom::listen_active(&dom::document(), "keydown", move |e| {
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
                    ..Snapshot::default()
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
                    Timeout::new(0, move || match (snap.switched, snap.scenario) {
                        (true, Some(file)) => store.dispatch(Action::Switch(file, tab)),
                        (_, file) => {
                            if let Some(file) = file {
                                store.dispatch(Action::Update(file));
                            }
                            if let Some(tab) = tab {
                                store.dispatch(Action::SetTab(tab));
                            }
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
    // `#views` (index.html) is the panel of every tab but the Overview.
    use_effect_with(tab, |tab| {
        if let Some(v) = dom::document().get_element_by_id(toolbar::panel_id(Tab::Edit)) {
            let _ = match tab {
                Tab::Overview => v.remove_attribute("aria-labelledby").and_then(|_| v.remove_attribute("role")),
                t => v.set_attribute("role", "tabpanel").and_then(|_| v.set_attribute("aria-labelledby", &toolbar::tab_id(*t))),
            };
        }
    });

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
                <Toast />
                { toolbar::tabs(&store) }
                <main id={toolbar::panel_id(Tab::Overview)} role={(tab == Tab::Overview).then_some("tabpanel")}
                    aria-labelledby={(tab == Tab::Overview).then(|| toolbar::tab_id(tab))}>
                    // Under the page's h1 and above each tab's own h3s.
                    <h2 class="visually-hidden">{tab.label()}</h2>
                    // The page's own run; the other tabs show the views module's.
                    if tab == Tab::Overview { <RunStatus /> }
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
