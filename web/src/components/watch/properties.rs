//! Named properties of the run, each with a verdict and one line of
//! evidence, in the style of a model checker's report (stateright's
//! "always"/"eventually" properties).
//!
//! They are re-checked on every edit, so changing a delay or the timer
//! scheme shows at once which guarantee breaks and why. The same three
//! are checked for a Raft or Bully run, so switching the algorithm shows
//! which of the staggered timer's promises the other keeps. The checks read the
//! same [`Playback`] the animation uses, plus the SPEC §8 metrics, and are
//! pure functions ([`check`]) so they can be tested without a browser.

use super::{fmt_ms, Shared};
use crate::state::Computed;
use stagger_core::scenario::AlgorithmName;
use stagger_core::sim::Settled;
use stagger_core::time::ms_to_us;
use stagger_core::timeline::{LaneState, Playback};
use stagger_core::{MessageKind, Time};
use yew::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Fails,
    /// Nothing to check (no election took place).
    Vacuous,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// The `data-testid` suffix.
    pub key: &'static str,
    pub name: &'static str,
    pub verdict: Verdict,
    pub evidence: String,
}

/// The three properties of a run.
pub fn check(c: &Computed, tl: &Playback) -> [Checked; 3] {
    let m = &c.run.metrics;
    let sc = &c.scenario;
    let end = sc.until;

    // (1) Safety once settled: never two live masters after convergence.
    // A group converged at the end but not through the stability window
    // has not settled: the check would pass or fail with where the run ends.
    let settled_at = match m.settled {
        Settled::Stable => m.converged_at_ms.and_then(ms_to_us).map(Time),
        _ => None,
    };
    let (verdict, evidence) = match settled_at {
        None if m.settled == Settled::StillChanging => (
            Verdict::Fails,
            format!(
                "still changing: {} role changes, the last at {} ms, less than the {} ms stability window before the end (up to {} masters at once)",
                m.role_changes,
                crate::components::results::ms(m.last_change()),
                m.stable_window_ms,
                m.max_masters
            ),
        ),
        None => (
            Verdict::Fails,
            format!(
                "never converged: no instant after which exactly one live master is named by every live server (up to {} masters at once)",
                m.max_masters
            ),
        ),
        Some(at) => {
            let after = tl.max_masters_from(at);
            let before = tl.max_masters_before(at);
            let split = if before > 1 { format!("; {before} at once before it") } else { String::new() };
            if after <= 1 {
                (Verdict::Holds, format!("at most {after} live master from {} to the end ({}){split}", fmt_ms(at), fmt_ms(end)))
            } else {
                (Verdict::Fails, format!("{after} live masters at once after convergence at {}", fmt_ms(at)))
            }
        }
    };
    let one_master = Checked { key: "one-master", name: "At most one master after convergence", verdict, evidence };

    // (2) The election's intent: the best survivor takes over.
    let rows = tl.final_rows_by_index();
    let lowest = rows.iter().enumerate().find(|(_, r)| tl.state(**r as usize, end).status != LaneState::Down);
    let label = |i: usize, r: u32| format!("{} (S{i})", sc.ids[r as usize]);
    let (verdict, evidence) = match (m.final_master.as_deref(), lowest) {
        (_, None) => (Verdict::Fails, "no server is live at the end".to_string()),
        (Some(fm), Some((i, r))) if fm == sc.ids[*r as usize] => {
            (Verdict::Holds, format!("{} is the lowest live index at {} and the final master", label(i, *r), fmt_ms(end)))
        }
        (Some(fm), Some((i, r))) => {
            let j = sc.row_of(fm).and_then(|fr| rows.iter().position(|x| *x == fr)).unwrap_or(0);
            let why = match tl.algorithm {
                AlgorithmName::Raft => " (Raft elects whichever follower times out first and wins a majority)",
                _ => "",
            };
            (Verdict::Fails, format!("the final master is {fm} (S{j}), but {} is live and ranks higher{why}", label(i, *r)))
        }
        (None, Some((i, r))) => (Verdict::Fails, format!("no single master at the end; the lowest live index is {}", label(i, *r))),
    };
    let lowest_wins = Checked { key: "lowest-wins", name: "The lowest live index wins", verdict, evidence };

    // (3) Cost: the staggered timers promise one broadcast, N − 1 copies.
    let bound = sc.len().saturating_sub(1) as u64;
    let em = m.election_messages;
    let (verdict, evidence) = if em == 0 && m.crash_at_ms.is_none() {
        (Verdict::Vacuous, "no crash, no election: 0 election messages".to_string())
    } else {
        let ratio = em as f64 / bound.max(1) as f64;
        let detail = match tl.algorithm {
            AlgorithmName::Stagger => format!("{} declare, {} revoke in all", m.messages.declare, m.messages.revoke),
            _ => {
                let kinds: Vec<String> = MessageKind::EVERY
                    .iter()
                    .filter(|k| k.is_election() && m.messages.get(**k) > 0)
                    .map(|k| format!("{} {}", m.messages.get(*k), k.name()))
                    .collect();
                format!("{} in all", kinds.join(", "))
            }
        };
        if em == bound {
            (Verdict::Holds, format!("{em} election messages = N − 1 = {bound}: one broadcast (1.00×; {detail})"))
        } else {
            (Verdict::Fails, format!("{em} election messages vs N − 1 = {bound}: {ratio:.2}× the one-broadcast bound ({detail})"))
        }
    };
    let bound = Checked { key: "one-broadcast", name: "Messages vs the one-broadcast bound", verdict, evidence };
    [one_master, lowest_wins, bound]
}

#[derive(Properties, PartialEq)]
pub struct PropertiesProps {
    pub computed: Shared<Computed>,
    pub timeline: Shared<Playback>,
    pub playhead: Time,
}

#[function_component(Properties)]
pub fn properties(p: &PropertiesProps) -> Html {
    // Checked once per run; only the "now" line follows the playhead.
    let checked = use_memo((p.computed.clone(), p.timeline.clone()), |(c, tl)| check(c, tl));
    let holding = checked.iter().filter(|c| c.verdict != Verdict::Fails).count();
    let now = p.timeline.masters_at(p.playhead);
    let who = LaneState::Master.label(p.timeline.algorithm).to_ascii_lowercase();
    let term = p.timeline.term(p.playhead).map(|t| format!(", term {t}")).unwrap_or_default();
    html! {
        <section class="card props" data-testid="properties" aria-label="Properties of the run">
            <h3>{"Properties"}<span class="muted">{format!(" · {holding} of {} hold", checked.len())}</span></h3>
            <ul>
                { for checked.iter().map(|c| {
                    let (class, badge, said) = match c.verdict {
                        Verdict::Holds => ("holds", "✓", "holds"),
                        Verdict::Fails => ("fails", "✗", "fails"),
                        Verdict::Vacuous => ("vacuous", "–", "not applicable"),
                    };
                    html! {
                        <li class={classes!("prop", class)} data-testid={format!("prop-{}", c.key)} data-verdict={class}>
                            <span class="badge" role="img" aria-label={said}>{badge}</span>
                            <div class="what">
                                <div class="name">{c.name}</div>
                                <div class="evidence">{&c.evidence}</div>
                                if c.key == "one-master" {
                                    <div class={classes!("now", (now > 1).then_some("alarm"))}>
                                        {format!("at the playhead: {now} live {who}{}{term}", if now == 1 { "" } else { "s" })}
                                    </div>
                                }
                            </div>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn checked(file: stagger_core::ScenarioFile) -> [Checked; 3] {
        let c = Computed::new(file.validate().unwrap());
        let tl = crate::components::watch::replay(&c);
        check(&c, &tl)
    }

    #[test]
    fn the_patent_example_holds_everything() {
        let [a, b, c] = checked(crate::presets::default_file());
        assert_eq!(a.verdict, Verdict::Holds, "{}", a.evidence);
        assert_eq!(b.verdict, Verdict::Holds, "{}", b.evidence);
        assert!(b.evidence.contains("atlanta (S1)"), "{}", b.evidence);
        assert_eq!(c.verdict, Verdict::Holds, "{}", c.evidence);
        assert!(c.evidence.starts_with("4 election messages = N − 1 = 4"), "{}", c.evidence);
    }

    #[test]
    fn a_raft_run_is_checked_and_counted_in_its_own_messages() {
        let mut f = crate::presets::default_file();
        f.algorithm = Some(AlgorithmName::Raft);
        let [a, b, c] = checked(f);
        assert_eq!(a.verdict, Verdict::Holds, "{}", a.evidence);
        assert_ne!(b.verdict, Verdict::Vacuous, "{}", b.evidence);
        assert!(c.evidence.contains("request-vote") && !c.evidence.contains("declare"), "{}", c.evidence);
    }

    #[test]
    fn a_group_that_keeps_changing_masters_fails_wherever_the_run_ends() {
        // Atlanta ↔ Bangalore 300 ms each way: the round trip outlasts τ.
        for until in [12_000.0, 20_000.0, 30_000.0] {
            let mut f = crate::presets::default_file();
            f.delays_ms[1][2] = 300.0;
            f.delays_ms[2][1] = 300.0;
            f.until_ms = Some(until);
            let [a, _, _] = checked(f);
            assert_eq!(a.verdict, Verdict::Fails, "until {until}: {}", a.evidence);
            assert!(a.evidence.starts_with("still changing: "), "until {until}: {}", a.evidence);
        }
    }

    #[test]
    fn the_storm_costs_more_than_one_broadcast() {
        let [_, _, c] = checked(crate::presets::file("storm").unwrap());
        assert_eq!(c.verdict, Verdict::Fails, "{}", c.evidence);
        assert!(c.evidence.contains("× the one-broadcast bound"), "{}", c.evidence);
    }
}
