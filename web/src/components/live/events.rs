//! "Recent events": what the members' flight recordings say happened, in
//! words (`stagger_core`'s trace wording, the one a node's log uses) and
//! in times a person reads ("3.2 s ago"), newest first.
//!
//! The recordings are in engine time, µs since the Unix epoch on each
//! member's clock, so the lines of every member (this tab's included)
//! interleave on one clock. Role changes and the notes an election leaves
//! (a master found failed, an election delay) are listed, with the spans
//! in which a native stopped answering this view; message traffic is the
//! diagram's business.

use super::diagram::Outage;
use stagger_core::flight::Recording;
use stagger_core::sim::What;
use stagger_core::Scenario;

/// One line of the list.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Engine time, µs since the Unix epoch.
    pub t_us: u64,
    pub text: String,
}

/// The newest `max` events of `parts` and `outages`, newest first.
pub fn recent(scenario: &Scenario, parts: &[Recording], outages: &[Outage], max: usize) -> Vec<Line> {
    let table = scenario.rank_table();
    let mut lines: Vec<Line> = parts
        .iter()
        .flat_map(|p| &p.events)
        .filter(|e| matches!(e.what, What::Role { .. } | What::Note { .. }))
        .map(|e| Line { t_us: e.t.0, text: e.what.describe(&scenario.ids, &table) })
        .collect();
    for o in outages {
        if let Some(from) = o.from {
            lines.push(Line { t_us: from, text: format!("{} stopped answering", o.id) });
        }
        if let Some(to) = o.to {
            lines.push(Line { t_us: to, text: format!("{} answers again", o.id) });
        }
    }
    // Stable and newest first: at one instant, a member's own order is kept
    // reversed along with the rest.
    lines.sort_by_key(|l| l.t_us);
    lines.reverse();
    lines.truncate(max);
    lines
}

/// How long before `now_us` the instant `t_us` was: `0.4 s ago`,
/// `12.5 s ago`, `3 min 5 s ago`, `2 h 10 min ago`.
pub fn ago(now_us: u64, t_us: u64) -> String {
    let us = now_us.saturating_sub(t_us);
    let s = us / 1_000_000;
    match s {
        0..=59 => format!("{:.1} s ago", us as f64 / 1e6),
        60..=3599 => format!("{} min {} s ago", s / 60, s % 60),
        _ => format!("{} h {} min ago", s / 3600, s / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;
    use stagger_core::sim::TraceEvent;
    use stagger_core::{Note, Role, Span, Time};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const NOW: u64 = 1_800_000_000_000_000;

    #[test]
    fn events_read_as_words_with_names_newest_first() {
        let scenario = presets::default_file().validate().unwrap(); // ottawa, atlanta, bangalore, …
        let ev = |dt: u64, what| TraceEvent { t: Time(NOW - dt), what };
        let parts = vec![Recording {
            row: 1,
            events: vec![
                ev(4_000_000, What::Note { server: 1, note: Note::MasterFailed { master: Some(0) } }),
                ev(3_900_000, What::Note { server: 1, note: Note::ElectionDelay { delay: Span(575_000) } }),
                ev(3_300_000, What::Role { server: 1, role: Role::Master, master: None }),
            ],
        }];
        let outages = [Outage { id: "ottawa".into(), from: Some(NOW - 5_000_000), to: None }];
        let lines = recent(&scenario, &parts, &outages, 40);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "atlanta becomes master",
                "atlanta enters the election: election delay 575 ms",
                "atlanta: master ottawa failed",
                "ottawa stopped answering"
            ]
        );
        assert_eq!(ago(NOW, lines[0].t_us), "3.3 s ago");
        assert_eq!(recent(&scenario, &parts, &outages, 2).len(), 2, "only the newest");
    }

    #[test]
    fn ages_read_in_seconds_minutes_and_hours() {
        assert_eq!(ago(NOW, NOW - 400_000), "0.4 s ago");
        assert_eq!(ago(NOW, NOW - 185_000_000), "3 min 5 s ago");
        assert_eq!(ago(NOW, NOW - 7_800_000_000), "2 h 10 min ago");
        assert_eq!(ago(NOW, NOW + 5), "0.0 s ago", "a member's clock slightly ahead");
    }
}
