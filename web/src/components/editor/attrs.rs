//! Adding a numeric attribute to every server at once. Attributes exist to
//! rank by ([0049]); a criterion needs every server to have one, so a new
//! key starts at 0 everywhere rather than on one server.

use crate::components::use_store;
use crate::edit::Edit;
use crate::state::Action;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[function_component(AddAttr)]
pub fn add_attr() -> Html {
    let store = use_store();
    let key = use_state(String::new);
    let trimmed = key.trim().to_string();
    let exists = !trimmed.is_empty() && store.file.servers.iter().all(|s| s.attrs.contains_key(&trimmed));
    let can_add = !trimmed.is_empty() && !exists;

    let submit = {
        let (store, key) = (store.clone(), key.clone());
        move || {
            let k = key.trim().to_string();
            if !k.is_empty() {
                store.dispatch(Action::Edit(Edit::AddAttr(k)));
                key.set(String::new());
            }
        }
    };
    let oninput = {
        let key = key.clone();
        Callback::from(move |e: InputEvent| key.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let onkeydown = {
        let submit = submit.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                e.prevent_default();
                submit();
            }
        })
    };
    let onclick = Callback::from(move |_: MouseEvent| submit());

    html! {
        <div class="ed-inline ed-add-attr">
            <input type="text" placeholder="attribute name" value={(*key).clone()} aria-label="New attribute name"
                class={classes!(exists.then_some("invalid"))} data-testid="new-attr" {oninput} {onkeydown} />
            <button class="small" onclick={onclick} disabled={!can_add} data-testid="add-attr"
                title="Add this attribute to every server, at 0">{"+ Add attribute"}</button>
            if exists {
                <span class="field-error">{"every server already has it"}</span>
            } else {
                <span class="muted hint">{"numbers to rank by; empty cells are missing values"}</span>
            }
        </div>
    }
}
