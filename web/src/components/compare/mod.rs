//! The compare view (being written).
use yew::prelude::*;
#[function_component(Compare)]
pub fn compare() -> Html {
    html! {}
}
