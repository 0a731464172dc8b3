//! The election algorithm: the staggered timer of the patent, or
//! Raft or Bully to compare it with, and the settings of the one chosen.
//!
//! Raft's and Bully's settings all default to the detection budget (see
//! `stagger_core::params::RaftParams`), so every field may stay empty; the
//! placeholders show what an empty field means for this scenario. A `raft`
//! or `bully` block is validated even while another algorithm runs, so its
//! error is shown here whichever is chosen.

use super::field::{at, within, FieldError, NumField};
use super::{algorithm_of, edit, update};
use crate::components::use_store;
use crate::edit::Edit;
use stagger_core::scenario::{AlgorithmName, BullyEntry, Periods, RaftEntry};
use stagger_core::ScenarioFile;
use web_sys::HtmlInputElement;
use yew::prelude::*;

const ALGORITHMS: [(AlgorithmName, &str, &str); 3] = [
    (AlgorithmName::Stagger, "staggered timer", "the patent: each backup waits out its rank's delay, so the best survivor claims first"),
    (
        AlgorithmName::Raft,
        "Raft",
        "a follower that misses the leader's heartbeats for a random timeout asks for votes; a majority elects it",
    ),
    (
        AlgorithmName::Bully,
        "Bully",
        "a server that misses the coordinator's Alive challenges every better rank; the best live one takes over",
    ),
];

/// The longest detection period `P` and the inquiry timeout `τ`, in ms, as
/// validation reads them (500 and 400 by default).
pub fn budget(f: &ScenarioFile) -> (f64, f64) {
    let d = f.detection.as_ref();
    let p = match d.and_then(|d| d.period_ms.as_ref()) {
        Some(Periods::Equal(p)) => *p,
        Some(Periods::PerServer(list)) => list.iter().copied().fold(0.0, f64::max),
        None => 500.0,
    };
    (p, d.and_then(|d| d.timeout_ms).unwrap_or(400.0))
}

/// The `raft` block, created empty when the file has none.
fn raft(f: &mut ScenarioFile) -> &mut RaftEntry {
    f.raft.get_or_insert_with(RaftEntry::default)
}

fn bully(f: &mut ScenarioFile) -> &mut BullyEntry {
    f.bully.get_or_insert_with(BullyEntry::default)
}

/// Drops a block left with no field set: it says nothing.
fn tidy(f: &mut ScenarioFile) {
    if f.raft == Some(RaftEntry::default()) {
        f.raft = None;
    }
    if f.bully == Some(BullyEntry::default()) {
        f.bully = None;
    }
}

#[function_component(Algorithm)]
pub fn algorithm_card() -> Html {
    let store = use_store();
    let err = store.outcome.error();
    let f = &store.file;
    let chosen = algorithm_of(f);
    let (p, tau) = budget(f);
    let r = f.raft.clone().unwrap_or_default();
    let b = f.bully.clone().unwrap_or_default();

    // One numeric row: label, hint, the path it edits and its default.
    let num = |label: &'static str,
               hint: &'static str,
               path: &'static str,
               value: Option<f64>,
               placeholder: String,
               set: fn(&mut ScenarioFile, Option<f64>)| {
        let on_commit = update(&store, move |f, v: Option<f64>| {
            set(f, v);
            tidy(f);
        });
        html! {
            <label class="ed-field">
                <span class="ed-label" title={hint}>{label}</span>
                <NumField<f64> field={path} value={value} optional=true placeholder={placeholder} step={50.0}
                    error={at(err, path)} {on_commit} />
            </label>
        }
    };
    let check = |label: &'static str, hint: &'static str, path: &'static str, on: bool, apply: fn(&mut RaftEntry, bool)| {
        let set = update(&store, move |f, on: bool| {
            apply(raft(f), on);
            tidy(f);
        });
        let onchange = Callback::from(move |e: Event| set.emit(e.target_unchecked_into::<HtmlInputElement>().checked()));
        html! {
            <label class="ed-check" title={hint}>
                <input type="checkbox" data-field={path} checked={on} {onchange} />
                {label}
                if let Some(msg) = at(err, path) { <span class="field-error">{msg}</span> }
            </label>
        }
    };

    let (fields, shown): (Html, &[&str]) = match chosen {
        AlgorithmName::Stagger => (
            html! {
                <p class="ed-note muted">{"Set by the cards below: the election timer, failure detection and the claim policy. Raft's and Bully's settings are kept for switching back and for the Compare tab."}</p>
            },
            &[],
        ),
        AlgorithmName::Raft => {
            let min = r.election_min_ms.unwrap_or(p + tau);
            let fields = html! {
                <>
                    <p class="ed-note muted">{"Empty fields spend the staggered timer's detection budget: a heartbeat every period P, an election timeout drawn from [P + τ, P + 2τ]. The best-ranked server leads at the start."}</p>
                    <div class="ed-form">
                        { num("timeout min (ms)", "The shortest election timeout a follower draws", "raft.election_min_ms",
                            r.election_min_ms, format!("{} (P + τ)", p + tau), |f, v| raft(f).election_min_ms = v) }
                        { num("timeout max (ms)", "The longest election timeout a follower draws", "raft.election_max_ms",
                            r.election_max_ms, format!("{} (min + τ)", min + tau), |f, v| raft(f).election_max_ms = v) }
                        { num("heartbeat (ms)", "How often the leader sends heartbeats; below the shortest timeout", "raft.heartbeat_ms",
                            r.heartbeat_ms, format!("{p} (P)"), |f, v| raft(f).heartbeat_ms = v) }
                        { num("persist (ms)", "The time to write term and vote to stable storage before answering (Raft's Figure 2)",
                            "raft.persist_ms", r.persist_ms, "0".into(), |f, v| raft(f).persist_ms = v) }
                    </div>
                    <div class="ed-checks">
                        { check("PreVote", "A candidate first asks whether it could win, so a returning server does not disrupt a live leader",
                            "raft.prevote", r.prevote.unwrap_or(false), |r, on| r.prevote = on.then_some(true)) }
                        { check("CheckQuorum", "A leader that stops hearing from a majority steps down",
                            "raft.check_quorum", r.check_quorum.unwrap_or(false), |r, on| r.check_quorum = on.then_some(true)) }
                    </div>
                </>
            };
            (
                fields,
                &[
                    "raft.election_min_ms",
                    "raft.election_max_ms",
                    "raft.heartbeat_ms",
                    "raft.persist_ms",
                    "raft.prevote",
                    "raft.check_quorum",
                ],
            )
        }
        AlgorithmName::Bully => {
            let fields = html! {
                <>
                    <p class="ed-note muted">{"Empty fields spend the staggered timer's detection budget: the coordinator's Alive every period P, an election after P + τ of silence. The ranking is the bully order."}</p>
                    <div class="ed-form">
                        { num("heartbeat (ms)", "How often the coordinator sends Alive", "bully.heartbeat_ms",
                            b.heartbeat_ms, format!("{p} (P)"), |f, v| bully(f).heartbeat_ms = v) }
                        { num("timeout (ms)", "How long a server waits without an Alive before it starts an election", "bully.timeout_ms",
                            b.timeout_ms, format!("{} (P + τ)", p + tau), |f, v| bully(f).timeout_ms = v) }
                        { num("answer wait (ms)", "How long an elector waits for a better rank's Answer", "bully.answer_wait_ms",
                            b.answer_wait_ms, format!("{tau} (τ)"), |f, v| bully(f).answer_wait_ms = v) }
                        { num("coordinator wait (ms)", "How long an answered elector waits for the Coordinator message", "bully.coordinator_wait_ms",
                            b.coordinator_wait_ms, format!("{} (2τ)", 2.0 * tau), |f, v| bully(f).coordinator_wait_ms = v) }
                    </div>
                </>
            };
            (fields, &["bully.heartbeat_ms", "bully.timeout_ms", "bully.answer_wait_ms", "bully.coordinator_wait_ms"])
        }
    };
    let shown: Vec<String> = shown.iter().map(|s| s.to_string()).collect();

    html! {
        <section class="card ed-card ed-algorithm" aria-label="Election algorithm" data-testid="algorithm">
            <header class="ed-head"><h3>{"Election algorithm"}</h3></header>
            <fieldset class="ed-claim">
                <legend>{"which algorithm elects the master"}</legend>
                { for ALGORITHMS.iter().map(|(a, label, explain)| {
                    let a = *a;
                    let set = edit(&store, move |_: Event| Edit::SetAlgorithm(a));
                    html! {
                        <label class="ed-radio">
                            <input type="radio" name="algorithm" data-field="algorithm" value={a.name()} checked={a == chosen}
                                onchange={set} data-testid={format!("algorithm-{}", a.name())} />
                            <span><strong>{*label}</strong>{" — "}<span class="muted">{*explain}</span></span>
                        </label>
                    }
                }) }
                if let Some(msg) = at(err, "algorithm") { <div class="field-error">{msg}</div> }
            </fieldset>
            { fields }
            // The chosen block's other errors, and the other block's (it is
            // checked even while unused).
            <FieldError field="raft" error={within(err, "raft", &shown)} />
            <FieldError field="bully" error={within(err, "bully", &shown)} />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_budget_is_what_validation_reads() {
        let mut f = crate::presets::file("patent-5").unwrap();
        assert_eq!(budget(&f), (500.0, 400.0));
        f.detection = None;
        assert_eq!(budget(&f), (500.0, 400.0));
        f.detection = Some(stagger_core::scenario::DetectionEntry {
            period_ms: Some(Periods::PerServer(vec![500.0, 700.0])),
            timeout_ms: Some(100.0),
            phase: None,
            misses: None,
        });
        assert_eq!(budget(&f), (700.0, 100.0));
    }

    #[test]
    fn a_settings_error_shows_at_its_field_or_on_the_card() {
        let mut f = crate::presets::file("patent-5").unwrap();
        f.algorithm = Some(AlgorithmName::Raft);
        f.raft = Some(RaftEntry { election_min_ms: Some(100.0), heartbeat_ms: Some(150.0), ..Default::default() });
        let e = f.validate().unwrap_err();
        assert_eq!(e.field, "raft.heartbeat_ms");
        let shown = ["raft.heartbeat_ms".to_string()];
        assert!(at(Some(&e), "raft.heartbeat_ms").is_some(), "the input shows it");
        assert!(within(Some(&e), "raft", &shown).is_none(), "and the card does not repeat it");
        // A bad block of an algorithm not chosen is still refused: the card says where.
        f.algorithm = None;
        f.raft = Some(RaftEntry { election_min_ms: Some(300.0), election_max_ms: Some(200.0), ..Default::default() });
        let e = f.validate().unwrap_err();
        let said = within(Some(&e), "raft", &[]).unwrap();
        assert!(said.starts_with("raft.election_max_ms: "), "{said}");
    }

    #[test]
    fn an_emptied_block_is_dropped() {
        let mut f = crate::presets::file("patent-5").unwrap();
        raft(&mut f).heartbeat_ms = Some(100.0);
        tidy(&mut f);
        assert!(f.raft.is_some());
        raft(&mut f).heartbeat_ms = None;
        bully(&mut f);
        tidy(&mut f);
        assert_eq!((f.raft, f.bully), (None, None));
    }
}
