//! The state of the run behind the page: progress and a Cancel button
//! while a heavy scenario runs in slices, and a banner while what is shown
//! is a partial run (stopped by its budget, or cancelled).
//!
//! The browser lends a wasm app no thread without extra build machinery,
//! so the run goes on in the compare tab's slices (`use_slices`): a few
//! milliseconds of events per timeout, the page drawn and usable between
//! them. Until it finishes, the previous run stays shown.

use crate::components::compare::slices::{use_slices, Step};
use crate::components::use_store;
use crate::state::{Action, Job};
use stagger_core::Progress;
use std::rc::Rc;
use yew::prelude::*;

/// Events between two looks at the clock: about a millisecond in a tab.
const CHUNK: u32 = 5_000;

#[function_component(RunStatus)]
pub fn run_status() -> Html {
    let store = use_store();
    let job: Option<Rc<Job>> = store.outcome.running().cloned();
    let step = job.clone().map(|job| -> Step {
        let store = store.clone();
        Rc::new(move |more: &dyn Fn() -> bool| loop {
            if job.advance(CHUNK) == Progress::Done {
                store.dispatch(Action::Finished(job.clone()));
                return true;
            }
            if !more() {
                return false;
            }
        })
    });
    use_slices(job.clone(), step);

    if let Some(job) = job {
        let (now, until, events) = job.progress();
        let pct = if until.0 == 0 { 100.0 } else { 100.0 * now.0 as f64 / until.0 as f64 };
        let cancel = {
            let store = store.clone();
            Callback::from(move |_: MouseEvent| store.dispatch(Action::Cancel))
        };
        return html! {
            <div class="banner run-progress" role="status" data-testid="run-progress">
                <div class="bar" role="progressbar" aria-label="simulation progress" aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow={format!("{pct:.0}")}>
                    <div class="fill" style={format!("width: {pct:.1}%")}></div>
                </div>
                <span data-testid="run-progress-text">
                    {format!("Simulating… {:.0} of {:.0} ms, {events} events", now.as_ms(), until.as_ms())}
                </span>
                <button data-testid="run-cancel" onclick={cancel}>{"Cancel"}</button>
            </div>
        };
    }
    match store.last_good.as_ref().and_then(|c| c.run.metrics.truncated) {
        Some(cut) => html! {
            <div class="banner partial" role="status" data-testid="run-truncated" data-limit={cut.limit.name()}>
                <strong>{"Partial result: "}</strong>{cut.to_string()}
            </div>
        },
        None => html! {},
    }
}
