//! The embeddable view (being written).
use yew::prelude::*;
#[function_component(Embed)]
pub fn embed() -> Html {
    html! {}
}
