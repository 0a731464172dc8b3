//! The fault timeline: what happens to the group and when (SPEC §6). The
//! list is shown in the order faults apply (by time, then file order) and
//! edits keep the file in that order, so row `i` is `faults[i]`.
//!
//! A new fault gets a sensible default from the current state of the
//! scenario (crash the server that is master by then, recover the last one
//! crashed), so adding one usually leaves the file valid.

use super::fault_row::FaultRow;
use super::field::{within, FieldError};
use super::timeline::Timeline;
use super::{algorithm_of, current_ranking, edit};
use crate::components::use_store;
use crate::edit::Edit;
use stagger_core::scenario::{AlgorithmName, FaultEntry, RerankEntry};
use stagger_core::ScenarioFile;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// The six kinds of fault, in menu order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Crash,
    Recover,
    Partition,
    Cut,
    Heal,
    Rerank,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Crash, Kind::Recover, Kind::Partition, Kind::Cut, Kind::Heal, Kind::Rerank];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Crash => "crash",
            Kind::Recover => "recover",
            Kind::Partition => "partition",
            Kind::Cut => "cut",
            Kind::Heal => "heal",
            Kind::Rerank => "rerank",
        }
    }

    /// The kind of a fault with exactly one action, as validation requires.
    pub fn of(f: &FaultEntry) -> Option<Kind> {
        let present =
            [f.crash.is_some(), f.recover.is_some(), f.partition.is_some(), f.cut.is_some(), f.heal.is_some(), f.rerank.is_some()];
        match present.iter().filter(|p| **p).count() {
            1 => present.iter().position(|p| *p).map(|i| Kind::ALL[i]),
            _ => None,
        }
    }
}

/// The servers down just after `at_ms`, in the order they went down.
fn down_at(file: &ScenarioFile, at_ms: f64) -> Vec<String> {
    let mut down: Vec<String> = Vec::new();
    for f in file.faults.iter().filter(|f| f.at_ms <= at_ms) {
        if let Some(id) = &f.crash {
            down.retain(|d| d != id);
            down.push(id.clone());
        } else if let Some(id) = &f.recover {
            down.retain(|d| d != id);
        }
    }
    down
}

/// A new fault of `kind`, a second after the last one (or at 1 s), with
/// targets that make sense at that time. `ranking` is best first.
pub fn new_fault(kind: Kind, file: &ScenarioFile, ranking: &[String]) -> FaultEntry {
    let last =
        file.faults.iter().map(|f| f.at_ms).filter(|t| t.is_finite()).fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
    let until = file.until_ms.filter(|u| u.is_finite() && *u > 0.0).unwrap_or(12_000.0);
    let at_ms = last.map_or(1000.0_f64.min(until), |t| (t + 1000.0).min(until).max(t));
    let mut f = FaultEntry { at_ms, crash: None, recover: None, partition: None, cut: None, heal: None, rerank: None };
    let down = down_at(file, at_ms);
    let up: Vec<&String> = ranking.iter().filter(|id| !down.contains(id)).collect();
    let first = ranking.first().cloned().unwrap_or_default();
    match kind {
        Kind::Crash => f.crash = Some(up.first().map_or(first, |id| (*id).clone())),
        Kind::Recover => f.recover = Some(down.last().cloned().unwrap_or(first)),
        Kind::Partition => {
            let half = ranking.len().div_ceil(2);
            f.partition = Some(vec![ranking[..half].to_vec(), ranking[half..].to_vec()].into_iter().filter(|g| !g.is_empty()).collect());
        }
        Kind::Cut => f.cut = Some([first, ranking.get(1).cloned().unwrap_or_default()]),
        Kind::Heal => f.heal = Some(true),
        Kind::Rerank => {
            // The master steps down to last place: the smallest real change.
            let mut order = ranking.to_vec();
            let steps = 1.min(order.len());
            order.rotate_left(steps);
            f.rerank = Some(RerankEntry::Order(order));
        }
    }
    f
}

#[function_component(Faults)]
pub fn faults() -> Html {
    let store = use_store();
    let kind = use_state(|| Kind::Crash);
    let f = &store.file;
    let err = store.outcome.error();
    let ranking = current_ranking(&store);

    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some(k) = Kind::ALL.iter().find(|k| k.name() == v) {
                kind.set(*k);
            }
        })
    };
    let on_add = {
        let (k, file, ranking) = (*kind, f.clone(), ranking.clone());
        edit(&store, move |_: MouseEvent| Edit::AddFault(new_fault(k, &file, &ranking)))
    };
    // Rows in the order faults apply; equal times keep file order.
    let mut order: Vec<usize> = (0..f.faults.len()).collect();
    order.sort_by(|a, b| f.faults[*a].at_ms.total_cmp(&f.faults[*b].at_ms));
    let rows: Vec<String> = (0..f.faults.len()).map(|i| format!("faults[{i}]")).collect();
    let other = algorithm_of(f) != AlgorithmName::Stagger;

    html! {
        <section class="card ed-card ed-faults" aria-label="Faults">
            <header class="ed-head">
                <h3>{"Faults"}<span class="muted">{format!(" · {}", f.faults.len())}</span></h3>
                <div class="ed-inline">
                    <select onchange={on_kind} aria-label="Kind of fault to add" data-testid="fault-kind">
                        { for Kind::ALL.iter().map(|k| {
                            // Raft and Bully have no ranking to change.
                            let refused = *k == Kind::Rerank && other;
                            html! {
                                <option value={k.name()} selected={*k == *kind} disabled={refused}>
                                    {k.name()}{if refused { " (staggered timer only)" } else { "" }}
                                </option>
                            }
                        }) }
                    </select>
                    <button class="primary small" onclick={on_add} data-testid="add-fault">{"+ Add fault"}</button>
                </div>
            </header>
            <Timeline />
            // A fault's own errors show on its row; this catches `faults` itself.
            <FieldError field="faults" error={within(err, "faults", &rows)} />
            if f.faults.is_empty() {
                <p class="ed-empty muted">{"No faults: the master stays up and nothing happens. Add a crash to see an election."}</p>
            } else {
                <ol class="ed-fault-list" data-field="faults" data-testid="faults">
                    { for order.iter().map(|i| html! { <FaultRow key={*i} index={*i} /> }) }
                </ol>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn patent() -> ScenarioFile {
        crate::presets::file("patent-5").unwrap()
    }

    fn ranking(f: &ScenarioFile) -> Vec<String> {
        crate::edit::ranking(f)
    }

    #[test]
    fn every_new_fault_has_one_action_and_a_later_time() {
        let f = patent();
        for k in Kind::ALL {
            let fault = new_fault(k, &f, &ranking(&f));
            assert_eq!(Kind::of(&fault), Some(k));
            assert_eq!(fault.at_ms, 2900.0);
        }
    }

    #[test]
    fn defaults_follow_who_is_up() {
        let mut f = patent();
        let r = ranking(&f);
        // ottawa crashed at 1.9 s: the next crash takes the next in rank,
        // and a recover brings ottawa back.
        assert_eq!(new_fault(Kind::Crash, &f, &r).crash.as_deref(), Some("atlanta"));
        assert_eq!(new_fault(Kind::Recover, &f, &r).recover.as_deref(), Some("ottawa"));
        for k in [Kind::Recover, Kind::Crash, Kind::Partition, Kind::Cut, Kind::Heal, Kind::Rerank] {
            let fault = new_fault(k, &f, &r);
            crate::edit::apply(&mut f, Edit::AddFault(fault), true).unwrap();
            f.validate().unwrap_or_else(|e| panic!("after adding {}: {e}", k.name()));
        }
        assert_eq!(f.faults.last().unwrap().at_ms, 7900.0);
    }

    #[test]
    fn a_new_fault_stays_within_the_run() {
        let mut f = patent();
        f.until_ms = Some(2000.0);
        assert_eq!(new_fault(Kind::Heal, &f, &ranking(&f)).at_ms, 2000.0);
        f.faults.clear();
        assert_eq!(new_fault(Kind::Heal, &f, &ranking(&f)).at_ms, 1000.0);
        f.until_ms = Some(500.0);
        assert_eq!(new_fault(Kind::Heal, &f, &ranking(&f)).at_ms, 500.0);
        assert_eq!(new_fault(Kind::Cut, &f, &[]).cut, Some([String::new(), String::new()]), "no servers: no panic");
    }

    #[test]
    fn a_fault_with_no_or_two_actions_has_no_kind() {
        let mut f = new_fault(Kind::Heal, &patent(), &[]);
        f.heal = None;
        assert_eq!(Kind::of(&f), None);
        (f.heal, f.crash) = (Some(true), Some("x".into()));
        assert_eq!(Kind::of(&f), None);
    }
}
