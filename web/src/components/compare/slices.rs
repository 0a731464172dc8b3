//! Background work in time slices, so long computations never freeze the tab.
//!
//! The browser has no threads to lend a wasm app without extra build
//! machinery, so a job runs in ~12 ms slices, one per timeout, and the
//! component re-renders after each slice to show the progress so far.

use crate::dom;
use gloo::timers::callback::Timeout;
use std::rc::Rc;
use yew::prelude::*;

/// The longest a slice may run before yielding to the browser (under one
/// 60 Hz frame, leaving the rest for rendering and input).
pub const SLICE_MS: f64 = 12.0;

/// One slice of a job: does some work while `more()` is true and returns
/// whether the job is finished.
pub type Step = Rc<dyn Fn(&dyn Fn() -> bool) -> bool>;

/// `more()` for a slice that started at `start_ms`: true while the slice's
/// budget lasts.
pub fn budget(start_ms: f64, limit_ms: f64) -> impl Fn() -> bool {
    move || dom::now_ms() - start_ms < limit_ms
}

/// Runs `step` in slices after each render while it is `Some`; pass `None`
/// once the job is finished. Restarts when `deps` change. Dropping the
/// component cancels the pending slice; the job's state (held by the
/// caller) keeps what was done.
#[hook]
pub fn use_slices<D>(deps: D, step: Option<Step>)
where
    D: PartialEq + 'static,
{
    // Bumped after every slice: the job lives in a RefCell Yew can't see.
    let generation = use_state(|| 0u64);
    let next = *generation + 1;
    let bump = generation.clone();
    use_effect_with((deps, *generation), move |_| {
        let slice = step.map(|step| {
            Timeout::new(0, move || {
                let more = budget(dom::now_ms(), SLICE_MS);
                step(&more);
                bump.set(next);
            })
        });
        move || drop(slice)
    });
}
