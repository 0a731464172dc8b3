//! The live group on the simulator's space-time diagram.
//!
//! Each poll fetches every member's flight recording (`/api/flight`, in the
//! simulator's trace vocabulary and engine time, µs since the Unix epoch),
//! and [`draw`] merges them with `stagger_core::flight::merge` and draws the
//! last few seconds with the same renderer as `stagger render`: roles as
//! bands, each message as an arrow (lost ones dashed), election-timer
//! countdowns. A member that stopped answering (killed, crashed by the admin)
//! is drawn down from the poll that first missed it: the renderer knows
//! crashes as scenario faults, so those spans become crash and recover faults
//! of a copy of the group's scenario, in the window's own time.

use stagger_core::flight::{merge, Recording};
use stagger_core::render::svg::{space_time, SvgOptions};
use stagger_core::scenario::FaultEntry;
use stagger_core::sim::{TraceEvent, What};
use stagger_core::{Metrics, Run, ScenarioFile, Time};

/// How much of the recent past the diagram shows.
pub const WINDOW_US: u64 = 8_000_000;

/// A span in which a member did not answer, in engine µs; `None`: still.
#[derive(Clone, Debug, PartialEq)]
pub struct Outage {
    pub id: String,
    pub from: u64,
    pub to: Option<u64>,
}

/// What the observer has seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The group's scenario, from `/api/group`.
    pub file: ScenarioFile,
    pub parts: Vec<Recording>,
    pub outages: Vec<Outage>,
    /// Engine time of the poll (the browser's clock, µs since the epoch).
    pub now_us: u64,
    /// The master the members agree on, if they do.
    pub master: Option<String>,
}

/// The window ending at `o.now_us` as an SVG document.
pub fn draw(o: &Observed) -> Result<String, String> {
    let base = o.now_us.saturating_sub(WINDOW_US);
    let at = |t: u64| Time(t.saturating_sub(base));
    let ms = |t: u64| t.saturating_sub(base) as f64 / 1000.0;

    let mut file = o.file.clone();
    file.name = Some(format!("{} (live)", o.file.name.as_deref().unwrap_or("group")));
    file.until_ms = Some(WINDOW_US as f64 / 1000.0);
    file.faults.clear();
    let mut marks: Vec<(Time, u32)> = Vec::new();
    for out in o.outages.iter().filter(|out| !matches!(out.to, Some(to) if to <= base)) {
        marks.push((at(out.from), file.faults.len() as u32));
        file.faults.push(fault(ms(out.from), Some(out.id.clone()), None));
        if let Some(to) = out.to {
            marks.push((at(to), file.faults.len() as u32));
            file.faults.push(fault(ms(to), None, Some(out.id.clone())));
        }
    }
    let scenario = file.validate().map_err(|e| format!("the group's scenario: {e}"))?;

    let mut trace = merge(&o.parts, scenario.len() as u32);
    for e in &mut trace.events {
        e.t = at(e.t.0);
        if let What::Send { arrive: Some(a), .. } = &mut e.what {
            *a = at(a.0);
        }
    }
    for (t, source) in marks {
        let i = trace.events.partition_point(|e| e.t <= t);
        trace.events.insert(i, TraceEvent { t, what: What::Fault { source } });
    }
    let metrics = Metrics { final_master: o.master.clone(), ..Metrics::default() };
    let run = Run { metrics, trace: Some(trace), phases: Vec::new() };
    Ok(space_time(&scenario, &run, &SvgOptions { from: Some(Time::ZERO), to: Some(Time(WINDOW_US)), ..SvgOptions::default() }))
}

fn fault(at_ms: f64, crash: Option<String>, recover: Option<String>) -> FaultEntry {
    FaultEntry { at_ms, crash, recover, partition: None, cut: None, heal: None, rerank: None }
}

/// Brings the outages up to date with who answered this poll.
pub fn track(outages: &mut Vec<Outage>, now_us: u64, answered: &[(String, bool)]) {
    for (id, up) in answered {
        let open = outages.iter_mut().find(|o| o.id == *id && o.to.is_none());
        match (open, up) {
            (None, false) => outages.push(Outage { id: id.clone(), from: now_us, to: None }),
            (Some(o), true) => o.to = Some(now_us),
            _ => {}
        }
    }
    // Spans that ended before any window could show them.
    outages.retain(|o| !matches!(o.to, Some(to) if to + WINDOW_US <= now_us));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;
    use stagger_core::{Message, Role};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const NOW: u64 = 1_800_000_000_000_000;

    #[test]
    fn a_merged_window_draws_roles_arrows_and_outages() {
        let file = presets::default_file(); // ottawa, atlanta, bangalore, sydney, tokyo
        let ev = |dt: u64, what| TraceEvent { t: Time(NOW - dt), what };
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
        let mut outages = Vec::new();
        track(&mut outages, NOW - 4_000_000, &[("ottawa".into(), false), ("atlanta".into(), true)]);
        track(&mut outages, NOW - 1_000_000, &[("ottawa".into(), true)]);
        assert_eq!(outages, [Outage { id: "ottawa".into(), from: NOW - 4_000_000, to: Some(NOW - 1_000_000) }]);
        let svg = draw(&Observed { file, parts, outages, now_us: NOW, master: Some("atlanta".into()) }).unwrap();
        assert!(svg.contains("(live)"), "titled as live");
        assert!(svg.contains("DeclareMaster"), "the declare is drawn");
        assert!(svg.contains("crash ottawa"), "the outage is drawn as a crash");
        assert!(
            svg.contains(">master <tspan fill=\"#1f2328\" font-weight=\"600\">atlanta</tspan>") || svg.contains("master <tspan"),
            "the caption names the agreed master"
        );
        assert!(svg.contains(">atlanta</tspan></tspan></text>"), "and it is atlanta");
        assert!(!svg.contains("election messages"), "nothing measured is claimed for a live group");
    }

    #[test]
    fn outages_open_and_close_and_old_ones_are_forgotten() {
        let mut o = Vec::new();
        track(&mut o, 100, &[("a".into(), false)]);
        track(&mut o, 200, &[("a".into(), false)]);
        assert_eq!(o.len(), 1, "still the same outage");
        track(&mut o, 300, &[("a".into(), true)]);
        assert_eq!(o[0].to, Some(300));
        track(&mut o, 300 + WINDOW_US + 1, &[("a".into(), true)]);
        assert!(o.is_empty(), "out of every window");
    }
}
