//! The Watch tab's playback keys, and when they are left to what has the
//! focus (the `?` overlay lists them).
//!
//! Space toggles playback wherever the focus is on nothing that takes Space
//! itself. On the play/pause button it is the same action as the button's
//! own click, so the key's default (a click when it is released) is
//! prevented, or the two would cancel out. Another button or link keeps
//! Space for itself, as a keyboard user expects; a field being typed in, or a
//! widget that moves with the arrows (the tabs, a slider), keeps every key.

use crate::dom;
use crate::state::Action;
use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent};

/// What has the keyboard focus when a key is pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// A field being typed in: an input, a textarea, a select, editable text.
    Field,
    /// A widget with keys of its own: a tab, a slider, a radio group, a list.
    Widget,
    /// The play/pause button.
    PlayButton,
    /// Another button, a link, a summary: Space and Enter activate it.
    Control,
    /// The page itself, or something that takes no keys.
    Page,
}

impl Focus {
    /// Where `e` was pressed.
    pub fn of(e: &KeyboardEvent) -> Focus {
        let Some(t) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return Focus::Page };
        if dom::typing_in_a_field(e) {
            return Focus::Field;
        }
        let role = t.get_attribute("role").unwrap_or_default();
        if matches!(role.as_str(), "tab" | "slider" | "spinbutton" | "radio" | "listbox" | "option" | "menuitem" | "grid" | "tree") {
            return Focus::Widget;
        }
        if t.closest("button.play").ok().flatten().is_some() {
            return Focus::PlayButton;
        }
        if matches!(t.tag_name().as_str(), "BUTTON" | "A" | "SUMMARY") || matches!(role.as_str(), "button" | "link" | "checkbox" | "switch")
        {
            return Focus::Control;
        }
        Focus::Page
    }
}

/// The playback action of `key` pressed with `focus`, if playback takes it.
pub fn playback(key: &str, focus: Focus) -> Option<Action> {
    match (focus, key) {
        (Focus::Field | Focus::Widget, _) | (Focus::Control, " ") => None,
        (_, " " | "k") => Some(Action::TogglePlay),
        (_, "ArrowRight" | "l") => Some(Action::Step(1)),
        (_, "ArrowLeft" | "j") => Some(Action::Step(-1)),
        (_, "+" | "=") => Some(Action::Faster),
        (_, "-" | "_") => Some(Action::Slower),
        _ => None,
    }
}

/// Whether the release of `key` must be kept from the focused element: Space
/// released on the play/pause button clicks it in some browsers even when
/// its press was handled.
pub fn swallow_release(key: &str, focus: Focus) -> bool {
    key == " " && focus == Focus::PlayButton
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn space_toggles_from_the_page_and_from_the_play_button() {
        assert!(matches!(playback(" ", Focus::Page), Some(Action::TogglePlay)));
        assert!(matches!(playback(" ", Focus::PlayButton), Some(Action::TogglePlay)));
        assert!(swallow_release(" ", Focus::PlayButton), "the button's own click would toggle back");
        assert!(!swallow_release(" ", Focus::Page) && !swallow_release("k", Focus::PlayButton));
    }

    #[test]
    fn keys_are_left_to_fields_widgets_and_other_controls() {
        for key in [" ", "k", "ArrowLeft", "ArrowRight", "+", "-"] {
            assert!(playback(key, Focus::Field).is_none(), "{key:?} in a field is typed");
            assert!(playback(key, Focus::Widget).is_none(), "{key:?} on a tab or slider is the widget's");
        }
        assert!(playback(" ", Focus::Control).is_none(), "Space presses the focused button");
        assert!(matches!(playback("ArrowRight", Focus::Control), Some(Action::Step(1))), "a button has no use for arrows");
        assert!(matches!(playback("ArrowLeft", Focus::PlayButton), Some(Action::Step(-1))));
        assert!(playback("x", Focus::Page).is_none());
    }
}
