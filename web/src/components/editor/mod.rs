//! The scenario editor (being written).
use yew::prelude::*;
#[function_component(Editor)]
pub fn editor() -> Html {
    html! {}
}
