//! The transport bar: step back, play/pause, step forward, the clock, the
//! scrubber and the speed.
//!
//! Everything goes through the store's existing actions, so the keyboard
//! shortcuts of the `App` and these buttons always agree. Dragging the
//! scrubber pauses playback for the drag and resumes it after, so the
//! playhead does not fight the hand.

use super::fmt_ms;
use crate::components::use_store;
use crate::state::{Action, SPEEDS};
use crate::{dom, share};
use stagger_core::Time;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq, Default)]
pub struct ControlsProps {
    /// Only play/pause, the clock and the scrubber (the embedded view).
    #[prop_or_default]
    pub compact: bool,
}

/// A speed as a label: virtual time per real second.
fn speed_label(ms_per_s: f64) -> String {
    if ms_per_s >= 1000.0 {
        format!("{} s / s", ms_per_s / 1000.0)
    } else {
        format!("{ms_per_s} ms / s")
    }
}

/// Small inline icons: glyphs like ⏯ depend on the fonts installed.
fn icon(d: &'static str) -> Html {
    html! { <svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d={d} /></svg> }
}
const PLAY: &str = "M4 2.5v11l9-5.5z";
const PAUSE: &str = "M3.5 2.5h3v11h-3zM9.5 2.5h3v11h-3z";
const BACK: &str = "M3 2.5h2v11H3zM14 2.5v11L6 8z";
const FORWARD: &str = "M11 2.5h2v11h-2zM2 2.5v11L10 8z";

/// Where a key on the scrubber moves the playhead `at` in the window
/// `from..=to`: the arrows by 1 % of the window (at least 1 ms), Page Up and
/// Page Down by 10 %, Home and End to the ends. The range input's own step
/// is 1 µs, so that a drag can land anywhere; a key press of 1 µs would not
/// visibly move it.
pub fn scrub_key(key: &str, at: Time, from: Time, to: Time) -> Option<Time> {
    let step = ((to.0.saturating_sub(from.0)) / 100).max(1000) as i64;
    let by = |n: i64| Some(Time((at.0 as i64 + n * step).clamp(from.0 as i64, to.0 as i64) as u64));
    match key {
        "ArrowRight" | "ArrowUp" => by(1),
        "ArrowLeft" | "ArrowDown" => by(-1),
        "PageUp" => by(10),
        "PageDown" => by(-10),
        "Home" => Some(from),
        "End" => Some(to),
        _ => None,
    }
}

#[function_component(Controls)]
pub fn controls(p: &ControlsProps) -> Html {
    let store = use_store();
    // Whether playback was running when a scrubber drag began.
    let resume = use_mut_ref(|| false);
    let Some(c) = store.last_good.clone() else { return html! {} };
    let (from, to) = (c.plot.from, c.plot.to);
    let playing = store.playing;

    let send = |a: Action| {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| store.dispatch(a.clone()))
    };
    let on_scrub = {
        let store = store.clone();
        Callback::from(move |e: InputEvent| {
            if let Ok(v) = e.target_unchecked_into::<HtmlInputElement>().value().parse::<f64>() {
                store.dispatch(Action::Seek(Time(v.max(0.0).round() as u64)));
            }
        })
    };
    let on_scrub_key = {
        let store = store.clone();
        let at = store.playhead;
        Callback::from(move |e: KeyboardEvent| {
            if let Some(t) = scrub_key(&e.key(), at, from, to) {
                e.prevent_default();
                store.dispatch(Action::Seek(t));
            }
        })
    };
    let on_grab = {
        let (store, resume) = (store.clone(), resume.clone());
        Callback::from(move |_: PointerEvent| {
            *resume.borrow_mut() = playing;
            store.dispatch(Action::Pause);
        })
    };
    let on_release = {
        let (store, resume) = (store.clone(), resume.clone());
        // On pointer up, or on `change` when the pointer was released
        // elsewhere; whichever comes first resumes.
        Callback::from(move |_: ()| {
            if std::mem::take(&mut *resume.borrow_mut()) {
                store.dispatch(Action::Play);
            }
        })
    };
    let on_speed = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            if let Ok(i) = e.target_unchecked_into::<HtmlSelectElement>().value().parse::<usize>() {
                store.dispatch(Action::SetSpeed(i));
            }
        })
    };

    let at_end = store.playhead >= to;
    let play_label = if playing {
        "Pause (space)"
    } else if at_end {
        "Replay from the start (space)"
    } else {
        "Play (space)"
    };
    let progress = 100.0 * (store.playhead.0.saturating_sub(from.0)) as f64 / (to.0 - from.0).max(1) as f64;
    let on_export_svg = {
        let (c, file) = (c.clone(), store.file.clone());
        Callback::from(move |_: MouseEvent| dom::download(&format!("{}.svg", share::file_stem(&file)), "image/svg+xml", c.svg()))
    };
    html! {
        <div class={classes!("transport", p.compact.then_some("compact"))} role="toolbar" aria-label="Playback">
            if !p.compact {
                <button class="tbtn" data-testid="step-back" title="Previous event (← or j)" aria-label="Previous event"
                    onclick={send(Action::Step(-1))}>{icon(BACK)}</button>
            }
            <button class={classes!("tbtn", "play", playing.then_some("on"))} data-testid="play-pause" title={play_label}
                aria-label={play_label} aria-pressed={playing.to_string()} onclick={send(Action::TogglePlay)}>
                { if playing { icon(PAUSE) } else { icon(PLAY) } }
            </button>
            if !p.compact {
                <button class="tbtn" data-testid="step-forward" title="Next event (→ or l)" aria-label="Next event"
                    onclick={send(Action::Step(1))}>{icon(FORWARD)}</button>
            }
            <output class="clock" data-testid="playhead" aria-live="off" title="Playhead, virtual time">{fmt_ms(store.playhead)}</output>
            <input type="range" class="scrubber" data-testid="scrubber" aria-label="Playhead"
                min={from.0.to_string()} max={to.0.to_string()} step="1" value={store.playhead.0.to_string()}
                aria-valuetext={fmt_ms(store.playhead)} onkeydown={on_scrub_key}
                style={format!("--progress: {progress:.3}%")}
                oninput={on_scrub} onpointerdown={on_grab} onpointerup={on_release.reform(|_: PointerEvent| ())} onpointercancel={on_release.reform(|_: PointerEvent| ())}
                onchange={on_release.reform(|_: Event| ())} />
            if !p.compact {
                <span class="window muted" title="The window the diagram draws">{format!("{:.3} – {:.3} ms", from.as_ms(), to.as_ms())}</span>
                <label class="speed">
                    <span class="muted">{"speed"}</span>
                    <select data-testid="speed" title="Virtual time per real second (+ / −)" onchange={on_speed}>
                        { for SPEEDS.iter().enumerate().map(|(i, v)| html! {
                            <option value={i.to_string()} selected={i == store.speed}>{speed_label(*v)}</option>
                        }) }
                    </select>
                </label>
                <button class="export" onclick={on_export_svg} data-testid="export-svg"
                    title="Download the diagram as drawn by `stagger render`">{"Export SVG"}</button>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn scrubber_keys_step_by_a_percent_of_the_window() {
        let (from, to) = (Time::from_ms(1000), Time::from_ms(4000));
        let at = Time::from_ms(2000);
        assert_eq!(scrub_key("ArrowRight", at, from, to), Some(Time::from_ms(2030)));
        assert_eq!(scrub_key("ArrowLeft", at, from, to), Some(Time::from_ms(1970)));
        assert_eq!(scrub_key("PageUp", at, from, to), Some(Time::from_ms(2300)));
        assert_eq!(scrub_key("PageDown", from, from, to), Some(from), "clamped to the window");
        assert_eq!(scrub_key("End", at, from, to), Some(to));
        assert_eq!(scrub_key("Home", at, from, to), Some(from));
        assert_eq!(scrub_key("a", at, from, to), None);
        // A short window still moves a whole millisecond.
        assert_eq!(scrub_key("ArrowUp", Time(0), Time(0), Time(50_000)), Some(Time(1000)));
    }
}
