//! The scenario editor: every field of SPEC §7, one card per concern.
//!
//! Each input carries `data-field` with its SPEC path (`delays_ms[1][3]`,
//! `faults[0].at_ms`), the same path the CLI's validation names in its
//! errors. After every edit the playground re-validates the file; the
//! error, if any, is shown at the input with exactly that path, or at the
//! container (a list, a section) that holds it when no input has it. See
//! [`field`] for the matching rule.
//!
//! Simple values are changed by dispatching an edited copy of the file
//! ([`update`]); edits that must keep several fields consistent go through
//! [`crate::edit::Edit`].
//!
//! The election algorithm (staggered timer, Raft or Bully) has its own
//! card; the settings only the staggered timer uses stay editable under
//! another algorithm (the Compare tab still runs them), marked as unused
//! ([`unused`]).

mod algorithm;
mod attrs;
mod detection;
mod fault_row;
mod fault_targets;
mod faults;
pub mod field;
mod matrix;
mod matrix_tools;
mod meta;
mod number;
mod protocol;
mod ranking;
mod servers;
mod service;
mod timeline;
mod timer;

use crate::components::Store;
use crate::edit::Edit;
use crate::state::Action;
use stagger_core::scenario::AlgorithmName;
use stagger_core::ScenarioFile;
use yew::prelude::*;

/// A callback that applies `f` to a copy of the current file and dispatches
/// the copy. Validation then runs on it like on any other edit.
pub(crate) fn update<T: 'static>(store: &Store, f: impl Fn(&mut ScenarioFile, T) + 'static) -> Callback<T> {
    let store = store.clone();
    Callback::from(move |v: T| {
        let mut file = store.file.clone();
        f(&mut file, v);
        if file != store.file {
            store.dispatch(Action::Update(file));
        }
    })
}

/// A callback that dispatches one structural edit.
pub(crate) fn edit<T: 'static>(store: &Store, f: impl Fn(T) -> Edit + 'static) -> Callback<T> {
    let store = store.clone();
    Callback::from(move |v: T| store.dispatch(Action::Edit(f(v))))
}

/// The algorithm the file chooses (the staggered timer unless it says).
pub(crate) fn algorithm_of(file: &ScenarioFile) -> AlgorithmName {
    file.algorithm.unwrap_or(AlgorithmName::Stagger)
}

/// The algorithm's name in prose.
pub(crate) fn algorithm_label(a: AlgorithmName) -> &'static str {
    match a {
        AlgorithmName::Stagger => "the staggered timer",
        AlgorithmName::Raft => "Raft",
        AlgorithmName::Bully => "Bully",
    }
}

/// The note on a setting only the staggered timer uses, when the file
/// runs another algorithm: `what` is not used by Raft (or Bully). Empty
/// under the staggered timer.
pub(crate) fn unused(file: &ScenarioFile, what: &str) -> Html {
    match algorithm_of(file) {
        AlgorithmName::Stagger => html! {},
        a => html! {
            <p class="ed-unused" data-testid="unused-note">
                {format!("{what} not used by {}: the staggered timer's only, kept for switching back and for the Compare tab.", algorithm_label(a))}
            </p>
        },
    }
}

/// The ids of the servers, in `servers` order.
pub(crate) fn ids(file: &ScenarioFile) -> Vec<String> {
    file.servers.iter().map(|s| s.id.clone()).collect()
}

/// The ranking as ids, best first: the validated one when the file is
/// valid, else the explicit list (or `servers` order) as far as it goes.
pub(crate) fn current_ranking(store: &Store) -> Vec<String> {
    match store.outcome.computed() {
        Some(c) => c.scenario.ranking.iter().filter_map(|r| c.scenario.ids.get(*r as usize).cloned()).collect(),
        None => crate::edit::ranking(&store.file),
    }
}

#[function_component(Editor)]
pub fn editor() -> Html {
    html! {
        <div class="editor" data-testid="editor">
            <meta::Meta />
            <div class="editor-pair wide-left">
                <servers::Servers />
                <ranking::Ranking />
            </div>
            <matrix::Matrix />
            <algorithm::Algorithm />
            <div class="editor-pair">
                <timer::Timer />
                <detection::Detection />
            </div>
            <protocol::Protocol />
            <faults::Faults />
            <service::Service />
        </div>
    }
}
