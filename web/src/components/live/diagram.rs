//! The live group on the simulator's space-time diagram.
//!
//! Each poll fetches every member's flight recording (`/api/flight`, in the
//! simulator's trace vocabulary and engine time, µs since the Unix epoch),
//! adds this tab's own when it has joined ([`crate::member`]), and [`draw`]
//! merges them with `stagger_core::flight::merge` and draws the last few
//! seconds with the same renderer as `stagger render`, in its live mode:
//! the axis reads wall-clock time relative to now, only what happened in
//! the window is drawn (a role in force at its start is a band from the
//! edge), and a member whose recording says nothing (a browser member no
//! tab has joined) has an empty lane instead of the patent's initial role.
//!
//! A member that stopped answering (killed, crashed by the admin) is drawn
//! down from the poll that first missed it: the renderer knows crashes as
//! scenario faults, so those spans become crash and recover faults of a
//! copy of the group's scenario. A member already down when this view
//! first looked is down from before the window, with no crash claimed.

use stagger_core::flight::{merge, Recording};
use stagger_core::render::svg::{space_time, SvgOptions};
use stagger_core::scenario::{Fault, FaultAction};
use stagger_core::sim::{TraceEvent, What};
use stagger_core::{Metrics, Run, ScenarioFile, Time};

/// How much of the recent past the diagram shows.
pub const WINDOW_US: u64 = 8_000_000;

/// A span in which a member did not answer, in engine µs.
#[derive(Clone, Debug, PartialEq)]
pub struct Outage {
    pub id: String,
    /// The poll that first missed it; `None`: it was already down when
    /// this view first looked, so when it went down is unknown.
    pub from: Option<u64>,
    /// The poll it answered again; `None`: still down.
    pub to: Option<u64>,
}

/// Who has stopped answering, and since when, as this view has seen it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outages {
    pub spans: Vec<Outage>,
    /// Whether a poll has been folded in yet.
    pub looked: bool,
}

/// What the observer has seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The group's scenario, from `/api/group`.
    pub file: ScenarioFile,
    /// The members' recordings, this tab's own included.
    pub parts: Vec<Recording>,
    pub outages: Vec<Outage>,
    /// Engine time of the poll (the browser's clock, µs since the epoch).
    pub now_us: u64,
    /// The master the members agree on, if they do.
    pub master: Option<String>,
}

/// The window ending at `o.now_us` as an SVG document.
pub fn draw(o: &Observed) -> Result<String, String> {
    let mut file = o.file.clone();
    file.name = Some(format!("{} (live)", o.file.name.as_deref().unwrap_or("group")));
    file.faults.clear();
    let mut scenario = file.validate().map_err(|e| format!("the group's scenario: {e}"))?;
    let from = o.now_us.saturating_sub(WINDOW_US);

    let mut trace = merge(&o.parts, scenario.len() as u32);
    let mut marks: Vec<(Time, u32)> = Vec::new();
    for out in o.outages.iter().filter(|out| !matches!(out.to, Some(to) if to <= from)) {
        let Some(row) = scenario.row_of(&out.id) else { continue };
        // Unknown: before the window, so the lane is down from its edge.
        let down = out.from.unwrap_or(0);
        let mut fault = |at: u64, action| {
            let source = scenario.faults.len();
            marks.push((Time(at), source as u32));
            scenario.faults.push(Fault { at: Time(at), source, action });
        };
        fault(down, FaultAction::Crash(row));
        if let Some(to) = out.to {
            // A recovered engine reports its role at once, which may be
            // before the poll that saw it answer.
            let back = o
                .parts
                .iter()
                .filter(|p| p.row == row && out.from.is_some())
                .flat_map(|p| &p.events)
                .find(|e| e.t.0 > down && matches!(e.what, What::Role { .. }))
                .map_or(to, |e| e.t.0.min(to));
            fault(back, FaultAction::Recover(row));
        }
    }
    for (t, source) in marks {
        let i = trace.events.partition_point(|e| e.t <= t);
        trace.events.insert(i, TraceEvent { t, what: What::Fault { source } });
    }
    let metrics = Metrics { final_master: o.master.clone(), ..Metrics::default() };
    let run = Run { metrics, trace: Some(trace), phases: Vec::new() };
    let opts = SvgOptions { from: Some(Time(from)), to: Some(Time(o.now_us)), now: Some(Time(o.now_us)), ..SvgOptions::default() };
    Ok(space_time(&scenario, &run, &opts))
}

/// Brings the outages up to date with who answered the poll at `now_us`.
pub fn track(outages: &mut Outages, now_us: u64, answered: &[(String, bool)]) {
    for (id, up) in answered {
        let open = outages.spans.iter_mut().find(|o| o.id == *id && o.to.is_none());
        match (open, up) {
            (None, false) => {
                let from = outages.looked.then_some(now_us);
                outages.spans.push(Outage { id: id.clone(), from, to: None })
            }
            (Some(o), true) => o.to = Some(now_us),
            _ => {}
        }
    }
    outages.looked = true;
    // Spans that ended before any window could show them.
    outages.spans.retain(|o| !matches!(o.to, Some(to) if to + WINDOW_US <= now_us));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;
    use stagger_core::{Message, Note, Role, Span};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const NOW: u64 = 1_800_000_000_000_000;

    fn ev(dt: u64, what: What) -> TraceEvent {
        TraceEvent { t: Time(NOW - dt), what }
    }

    #[test]
    fn a_merged_window_draws_roles_arrows_and_outages() {
        let file = presets::default_file(); // ottawa, atlanta, bangalore, sydney, tokyo
        let declare = stagger_core::Msg::Stagger(Message::DeclareMaster { idx: 1 });
        let parts = vec![
            Recording {
                row: 1,
                events: vec![
                    ev(20_000_000, What::Role { server: 1, role: Role::Backup, master: Some(0) }),
                    ev(3_000_000, What::Role { server: 1, role: Role::Master, master: None }),
                    ev(3_000_000, What::Send { id: 0, from: 1, to: 2, msg: declare, arrive: None }),
                ],
            },
            Recording { row: 2, events: vec![ev(2_900_000, What::Deliver { id: 0, from: 1, to: 2, msg: declare })] },
        ];
        let mut outages = Outages::default();
        track(&mut outages, NOW - 5_000_000, &[("ottawa".into(), true), ("atlanta".into(), true)]);
        track(&mut outages, NOW - 4_000_000, &[("ottawa".into(), false), ("atlanta".into(), true)]);
        track(&mut outages, NOW - 1_000_000, &[("ottawa".into(), true)]);
        assert_eq!(outages.spans, [Outage { id: "ottawa".into(), from: Some(NOW - 4_000_000), to: Some(NOW - 1_000_000) }]);
        let svg = draw(&Observed { file, parts, outages: outages.spans, now_us: NOW, master: Some("atlanta".into()) }).unwrap();
        assert!(svg.contains("(live)"), "titled as live");
        assert!(svg.contains("DeclareMaster"), "the declare is drawn");
        assert!(svg.contains("crash ottawa −4.00 s"), "the outage is drawn as a crash, at its time before now");
        assert!(svg.contains(">atlanta</tspan></tspan></text>"), "the caption names the agreed master");
        assert!(!svg.contains("election messages"), "nothing measured is claimed for a live group");
    }

    #[test]
    fn old_history_is_left_out_and_the_axis_reads_relative_to_now() {
        let file = presets::default_file();
        // Atlanta took over 20 s ago, after an election delay; ottawa was
        // already down when this view first looked; nothing is known of
        // the others.
        let parts = vec![Recording {
            row: 1,
            events: vec![
                ev(21_000_000, What::Note { server: 1, note: Note::ElectionDelay { delay: Span(575_000) } }),
                ev(20_000_000, What::Role { server: 1, role: Role::Master, master: None }),
            ],
        }];
        let mut outages = Outages::default();
        track(&mut outages, NOW - 2_000_000, &[("ottawa".into(), false), ("atlanta".into(), true)]);
        assert_eq!(outages.spans[0].from, None, "when it went down is unknown");
        let svg = draw(&Observed { file, parts, outages: outages.spans, now_us: NOW, master: Some("atlanta".into()) }).unwrap();
        assert!(svg.contains(">now</text>") && svg.contains(">−8 s</text>") && svg.contains(">−4 s</text>"), "the axis: −8 s … now");
        assert!(svg.contains("relative to now") && !svg.contains("virtual time"), "wall-clock time, not a run's");
        assert!(!svg.contains("D="), "the old election delay is not drawn");
        assert!(!svg.contains("crash ottawa"), "no crash is claimed for an outage seen from its start");
        assert!(svg.contains("atlanta: Master from before the window to now"), "the role in force is a band from the edge");
        assert!(svg.contains("ottawa: down from before the window to now"), "ottawa is down across the window");
        assert!(!svg.contains("Backup · ottawa") && !svg.contains("sydney: "), "no role is made up for members that said nothing");
    }

    #[test]
    fn outages_open_and_close_and_old_ones_are_forgotten() {
        let mut o = Outages::default();
        track(&mut o, 50, &[("a".into(), true)]);
        track(&mut o, 100, &[("a".into(), false)]);
        track(&mut o, 200, &[("a".into(), false)]);
        assert_eq!(o.spans.len(), 1, "still the same outage");
        assert_eq!(o.spans[0].from, Some(100));
        track(&mut o, 300, &[("a".into(), true)]);
        assert_eq!(o.spans[0].to, Some(300));
        track(&mut o, 300 + WINDOW_US + 1, &[("a".into(), true)]);
        assert!(o.spans.is_empty(), "out of every window");
    }
}
