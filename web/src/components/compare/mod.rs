//! The Compare tab: the scenario re-run under every timer scheme and claim
//! policy and under Raft and Bully, and a sweep of them all against group
//! size.
//!
//! The patent's argument is comparative: staggered ("integral") delays elect
//! with one broadcast where equal delays start an O(N²) storm, and
//! Raft-style randomized timers sit in between; this tab also asks how the real
//! Raft and the Bully algorithm fare on the same group. So this tab keeps
//! the user's group fixed and varies only the timer and the claim policy,
//! or only the algorithm, then varies only N. It mounts only while the tab
//! is shown, so nothing here runs until the user asks for it.
//!
//! - `variants.rs`: the nine staggered variants and their derived timer
//!   parameters, then Raft and Bully; `runs.rs` runs them; `schemes.rs` is
//!   the side-by-side table.
//! - `sweep.rs`: the generated groups of the sweep; `sweep_job.rs` tracks
//!   which have run; `sweep_view.rs` runs and draws them, with `chart.rs`
//!   and `ticks.rs`.
//! - `slices.rs` and `capped.rs`: long jobs run in time slices, and each
//!   run within an event budget, so the tab never freezes.

mod capped;
mod chart;
mod runs;
mod schemes;
pub(crate) mod slices;
mod sweep;
mod sweep_job;
mod sweep_view;
mod variants;

use crate::components::use_store;
use crate::dom;
use crate::state::{Action, Tab};
use runs::Runs;
use schemes::SchemeTable;
use slices::{use_slices, Step};
use stagger_core::render::ticks;
use std::cell::RefCell;
use std::rc::Rc;
use sweep_view::SweepView;
use yew::prelude::*;

/// The time the table may take before the first paint; the rest of its
/// runs continue in slices.
const FIRST_SLICE_MS: f64 = 40.0;

#[function_component(Compare)]
pub fn compare() -> Html {
    let store = use_store();
    let computed = store.outcome.computed().cloned();
    let runs = use_memo(store.file.clone(), move |file| {
        computed.map(|c| {
            let mut runs = Runs::new(file, &c.scenario);
            // A first slice before the first paint: a small scenario is
            // complete at once, with no placeholder flash.
            runs.step(slices::budget(dom::now_ms(), FIRST_SLICE_MS));
            Rc::new(RefCell::new(runs))
        })
    });
    let step = (*runs)
        .clone()
        .filter(|r| !r.borrow().finished())
        .map(|r| -> Step { Rc::new(move |more: &dyn Fn() -> bool| r.borrow_mut().step(more)) });
    use_slices(store.file.clone(), step);

    let intro = html! {
        <p class="compare-intro" data-testid="compare-intro">
            {"Your scenario, re-run with only the election timer and the claim policy changed, then with another algorithm. The patent's point: "}
            <strong class="scheme-integral">{"integral"}</strong>{" (staggered) delays let the best survivor win with one broadcast; "}
            <strong class="scheme-equal">{"equal"}</strong>{" delays make every backup declare at once, a storm of O(N²) Declare and Revoke messages; "}
            <strong class="scheme-randomized">{"randomized"}</strong>{" (Raft-style) timers usually avoid the storm, but the winner is left to chance. "}
            {"For comparison, on the same matrix, detection, faults and seed: "}
            <strong class="scheme-raft">{"Raft"}</strong>{" (randomized election timeouts, a majority of votes) and "}
            <strong class="scheme-bully">{"Bully"}</strong>{" (the best live rank takes over, O(N²) messages)."}
        </p>
    };

    if let Some(e) = store.outcome.error() {
        let edit = {
            let store = store.clone();
            Callback::from(move |_| store.dispatch(Action::SetTab(Tab::Edit)))
        };
        return html! {
            <div class="compare">
                {intro}
                <div class="banner error compare-invalid" role="alert" data-testid="compare-invalid">
                    <strong>{"Nothing to compare: the scenario is invalid. "}</strong>{e.to_string()}
                    <button onclick={edit}>{"Fix it in the editor"}</button>
                </div>
            </div>
        };
    }
    let (Some(runs), Some(c)) = ((*runs).clone(), store.outcome.computed().cloned()) else {
        return html! { <div class="compare">{intro}</div> };
    };
    let (rows, timers) = {
        let r = runs.borrow();
        (Rc::new(r.rows().to_vec()), Rc::new(r.timers.clone()))
    };
    let own = rows.iter().find(|r| r.variant.own);
    let name = store.file.name.clone().unwrap_or_else(|| "untitled".into());
    html! {
        <div class="compare">
            {intro}
            <section class="card">
                <h3>{"Side by side"}<span class="muted">{format!(" · {} · {} servers", name, store.file.servers.len())}</span></h3>
                <p class="muted caption">
                    {"Highlighted: the best value in each column. "}
                    if own.is_some() { {"Outlined: your scenario's own setting. "} }
                    {"Raft and Bully take their settings from your scenario's raft and bully blocks, or derive them from its detection (Edit tab). "}
                    {"Hover a header for its definition (SPEC §8)."}
                </p>
                if c.scenario.crash_at().is_none() {
                    <p class="banner notice no-crash" data-testid="compare-no-crash">
                        {"Your scenario crashes no server, so there is no election to compare. Add a crash in the Edit tab; the sweep below crashes the top-ranked server anyway."}
                    </p>
                }
                <SchemeTable rows={rows} timers={timers} />
            </section>
            <SweepView />
        </div>
    }
}
