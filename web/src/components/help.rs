//! The `?` overlay: keyboard shortcuts and a one-paragraph primer.

use crate::components::use_store;
use crate::state::Action;
use yew::prelude::*;

pub const SHORTCUTS: [(&str, &str); 13] = [
    ("Space / k", "play or pause (Watch)"),
    ("→ / l", "step to the next event (Watch)"),
    ("← / j", "step to the previous event (Watch)"),
    ("+ / −", "faster / slower playback (Watch)"),
    ("o / 1", "Overview tab"),
    ("e / 2", "Edit tab"),
    ("w / 3", "Watch tab"),
    ("c / 4", "Compare tab"),
    ("v / 5", "Live tab"),
    ("← / → on a tab", "previous / next tab (Home / End: first / last)"),
    ("← / → on the scrubber", "1 % of the window (Page Up / Page Down: 10 %)"),
    ("?", "this help"),
    ("Esc", "close overlays"),
];

#[function_component(Help)]
pub fn help() -> Html {
    let store = use_store();
    let close = Callback::from(move |_| store.dispatch(Action::CloseOverlays));
    let stop = Callback::from(|e: MouseEvent| e.stop_propagation());
    html! {
        <div class="overlay" onclick={close.clone()} data-testid="help">
            <div class="dialog" role="dialog" aria-label="Keyboard shortcuts" onclick={stop}>
                <h2>{"Keyboard shortcuts"}</h2>
                <table class="shortcuts">
                    { for SHORTCUTS.iter().map(|(k, what)| html! { <tr><td><kbd>{*k}</kbd></td><td>{*what}</td></tr> }) }
                </table>
                <h3>{"What am I looking at?"}</h3>
                <p>{"A server group has one master and ranked backups. When the master fails, each backup waits an election delay D_i before claiming mastership. With the integral timer, D_i grows by the worst one-way delay of every better-ranked server, so the best survivor's DeclareMaster reaches everyone before anyone else's timer expires: one broadcast elects it. With equal timers, everyone claims at once and RevokeMaster messages fight it out."}</p>
                <button onclick={close}>{"Close"}</button>
            </div>
        </div>
    }
}
