//! The space-time diagram, played back.
//!
//! The drawing itself is the core renderer's standalone SVG, injected as
//! is: the page shows exactly what `stagger render` writes, and the lanes,
//! arrows, role bands and timer brackets need no second implementation.
//! It is scaled to the container's width (it has a `viewBox`), so every
//! overlay is positioned in percentages of the drawing and stays aligned at
//! any size, using [`Plot::fraction_of`] horizontally and [`LaneGeometry`]
//! vertically.
//!
//! On top of it: the playback cursor, a veil over the future, the election
//! countdowns running at the playhead, a styled tooltip for the element
//! under the pointer, and click-or-drag to seek.
//!
//! [`Plot::fraction_of`]: stagger_core::render::svg::Plot::fraction_of

use super::frame::LaneGeometry;
use super::{fmt_ms, Shared};
use crate::components::use_store;
use crate::state::{Action, Computed};
use stagger_core::timeline::Playback;
use stagger_core::Time;
use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SpaceTimeProps {
    pub computed: Shared<Computed>,
    pub timeline: Shared<Playback>,
}

/// What the tooltip shows, and where: pixels from the stage's corner.
#[derive(Clone, PartialEq)]
struct Tip {
    x: f64,
    y: f64,
    text: String,
    /// Open to the left of the pointer, near the right edge.
    left: bool,
}

/// The drawn elements that explain themselves (with a `<title>`) on hover.
const HOVERABLE: &str = ".msg, .timer, .crash, .recover, .marker, .svc, .applied text";

/// The most countdowns listed by the cursor before "+k more".
const MAX_COUNTDOWNS: usize = 6;

#[function_component(SpaceTime)]
pub fn space_time(p: &SpaceTimeProps) -> Html {
    let store = use_store();
    let stage = use_node_ref();
    let tip = use_state(|| None::<Tip>);
    // `Some(resume)` while a seek drag is under way.
    let drag = use_mut_ref(|| None::<bool>);
    let frame = use_memo(p.computed.clone(), |c| LaneGeometry::of(c.svg(), c.scenario.len()));
    let plot = p.computed.plot;

    // The stage, the pointer in pixels from its corner, and its size.
    let locate = {
        let stage = stage.clone();
        move |e: &PointerEvent| {
            let el = stage.cast::<Element>()?;
            let r = el.get_bounding_client_rect();
            (r.width() > 0.0 && r.height() > 0.0).then(|| {
                let (x, y) = (e.client_x() as f64 - r.left(), e.client_y() as f64 - r.top());
                (el, x, y, r.width(), r.height())
            })
        }
    };

    let on_down = {
        let (store, drag, tip, frame, locate) = (store.clone(), drag.clone(), tip.clone(), frame.clone(), locate.clone());
        Callback::from(move |e: PointerEvent| {
            if e.button() != 0 {
                return;
            }
            let Some((el, x, y, w, h)) = locate(&e) else { return };
            if !frame.seeks_at(y / h) {
                return;
            }
            e.prevent_default();
            let _ = el.set_pointer_capture(e.pointer_id());
            *drag.borrow_mut() = Some(store.playing);
            tip.set(None);
            store.dispatch(Action::Pause);
            store.dispatch(Action::Seek(plot.time_at(x / w)));
        })
    };
    let on_move = {
        let (store, drag, tip, locate) = (store.clone(), drag.clone(), tip.clone(), locate.clone());
        Callback::from(move |e: PointerEvent| {
            let Some((_, x, y, w, _)) = locate(&e) else { return };
            if drag.borrow().is_some() {
                store.dispatch(Action::Seek(plot.time_at(x / w)));
                return;
            }
            let hit = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest(HOVERABLE).ok().flatten())
                .and_then(|el| el.query_selector(":scope > title").ok().flatten())
                .and_then(|title| title.text_content());
            let next = hit.map(|text| Tip { x, y, text, left: x > w * 0.62 });
            if *tip != next {
                tip.set(next);
            }
        })
    };
    let on_up = {
        let (store, drag, locate) = (store.clone(), drag.clone(), locate.clone());
        Callback::from(move |e: PointerEvent| {
            let Some(resume) = drag.borrow_mut().take() else { return };
            if let Some((el, ..)) = locate(&e) {
                let _ = el.release_pointer_capture(e.pointer_id());
            }
            if resume {
                store.dispatch(Action::Play);
            }
        })
    };
    let on_leave = {
        let tip = tip.clone();
        Callback::from(move |_: PointerEvent| tip.set(None))
    };

    // The overlays, in percentages of the drawing.
    let f = 100.0 * plot.fraction_of(store.playhead);
    let right = 100.0 * plot.x1 / plot.width;
    let (top, height) = (frame.top_pct(), frame.height_pct());
    let bottom = top + height;
    let band = format!("top: {top:.3}%; height: {height:.3}%;");

    let waiting = waiting(&p.timeline, store.playhead);
    html! {
        <div class="st-stage" data-testid="space-time" ref={stage}
            onpointerdown={on_down} onpointermove={on_move} onpointerup={on_up.clone()} onpointercancel={on_up}
            onpointerleave={on_leave}>
            <SvgBody computed={p.computed.clone()} />
            <div class="st-future" aria-hidden="true" style={format!("left: {f:.3}%; width: {:.3}%; {band}", (right - f).max(0.0))} />
            <div class="st-cursor" aria-hidden="true" style={format!("left: {f:.3}%; {band}")} />
            <div class="st-chip" aria-hidden="true" style={format!("left: {f:.3}%; top: {bottom:.3}%;")}>{fmt_ms(store.playhead)}</div>
            { countdowns(&waiting, &p.computed.scenario.ids, &frame, f) }
            if let Some(t) = &*tip {
                <div class={classes!("st-tip", t.left.then_some("left"))} role="tooltip" data-testid="msg-tooltip"
                    style={format!("left: {:.0}px; top: {:.0}px;", t.x, t.y)}>{&t.text}</div>
            }
        </div>
    }
}

/// A backup waiting at the playhead: its lane (initial rank), its rank
/// now, its row, and its election delay's remaining and total ms.
struct Waiting {
    lane: usize,
    rank: u32,
    row: usize,
    left: f64,
    total: f64,
}

/// The backups whose election timer runs at `t`, best rank first.
fn waiting(tl: &Playback, t: Time) -> Vec<Waiting> {
    let mut v: Vec<Waiting> = (0..tl.len())
        .filter_map(|r| {
            let c = tl.countdown(r, t)?;
            Some(Waiting {
                lane: tl.rank(r, Time::ZERO) as usize,
                rank: tl.rank(r, t),
                row: r,
                left: c.due.0.saturating_sub(t.0) as f64 / 1000.0,
                total: (c.due.0 - c.start.0).max(1) as f64 / 1000.0,
            })
        })
        .collect();
    v.sort_by_key(|w| w.rank);
    v
}

/// The live countdowns by the cursor (at `f` percent): on each waiting
/// server's own lane when lanes are tall enough, else stacked in one box.
fn countdowns(waiting: &[Waiting], ids: &[String], frame: &LaneGeometry, f: f64) -> Html {
    if waiting.is_empty() {
        return html! {};
    }
    let flip = f > 80.0;
    let bar = |w: &Waiting| html! { <span class="bar"><span style={format!("width: {:.1}%", 100.0 * w.left / w.total)} /></span> };
    if frame.roomy() {
        return html! {
            <div class="st-pills" data-testid="countdowns" role="status">
                { for waiting.iter().map(|w| html! {
                    <div class={classes!("st-pill", flip.then_some("flip"))} data-server={ids[w.row].clone()}
                        style={format!("left: {f:.3}%; top: {:.3}%;", frame.lane_center_pct(w.lane))}>
                        <span class="left"><span class="long">{"D remaining "}</span>{format!("{:.1} ms", w.left)}</span>
                        { bar(w) }
                    </div>
                }) }
            </div>
        };
    }
    let more = waiting.len().saturating_sub(MAX_COUNTDOWNS);
    html! {
        <div class={classes!("st-countdowns", flip.then_some("flip"))} data-testid="countdowns" role="status"
            style={format!("left: {f:.3}%; top: {:.3}%;", frame.top_pct())}>
            { for waiting.iter().take(MAX_COUNTDOWNS).map(|w| html! {
                <div class="cd" data-server={ids[w.row].clone()}>
                    <span class="who">{&ids[w.row]}<span class="rank">{format!(" S{}", w.rank)}</span></span>
                    <span class="left">{format!("D remaining {:.1} ms", w.left)}</span>
                    { bar(w) }
                </div>
            }) }
            if more > 0 {
                <div class="cd more">{format!("+{more} more waiting")}</div>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SvgBodyProps {
    computed: Shared<Computed>,
}

/// The drawing alone: its props change only with the run, so playback
/// frames never touch (or re-compare) the SVG markup.
#[function_component(SvgBody)]
fn svg_body(p: &SvgBodyProps) -> Html {
    html! { <div class="st-svg">{ Html::from_html_unchecked(AttrValue::from(p.computed.svg().to_string())) }</div> }
}
