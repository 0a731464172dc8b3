//! The watch view (being written).
use yew::prelude::*;
#[function_component(Watch)]
pub fn watch() -> Html {
    html! {}
}
