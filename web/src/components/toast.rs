//! The store's notice ("Link copied", an import that failed) as a toast: a
//! live region (`role="status"`) fixed over the page, so it never pushes
//! the page down, and gone after a moment long enough to read it. A click
//! dismisses it early.

use crate::components::use_store;
use crate::state::Action;
use gloo::timers::callback::Timeout;
use yew::prelude::*;

/// How long a notice stays: about 2 s for a short one, longer for a long
/// one (an import error names the file and the problem), at most 10 s.
pub fn shown_for_ms(text: &str) -> u32 {
    let extra = text.chars().count().saturating_sub(50) as u32;
    (2000 + 40 * extra).min(10_000)
}

#[function_component(Toast)]
pub fn toast() -> Html {
    let store = use_store();
    let notice = store.notice.clone();
    {
        let store = store.clone();
        use_effect_with(notice.clone(), move |n| {
            let timer = n.as_ref().map(|n| Timeout::new(shown_for_ms(n), move || store.dispatch(Action::Notice(None))));
            move || drop(timer)
        });
    }
    let close = Callback::from(move |_: MouseEvent| store.dispatch(Action::Notice(None)));
    // The region is always there, so screen readers announce what appears in it.
    html! {
        <div class="toast-region" role="status" aria-live="polite" data-testid="notice-region">
            if let Some(n) = notice {
                <div class="toast" data-testid="notice" onclick={close}>{n}</div>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn short_notices_stay_two_seconds_and_long_ones_longer() {
        assert_eq!(super::shown_for_ms("Link copied: it carries the whole scenario."), 2000);
        let long = "storm.json could not be imported: delays_ms[3][1]: must be a finite number of ms ≥ 0, and more";
        assert!(super::shown_for_ms(long) > 2000);
        assert_eq!(super::shown_for_ms(&"x".repeat(10_000)), 10_000);
    }
}
