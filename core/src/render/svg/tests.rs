use super::*;
use crate::server::{Note, Role};
use crate::sim::{Trace, TraceEvent, What};
use crate::time::Span;

#[test]
fn a_live_window_draws_only_what_happened_in_it_on_an_axis_relative_to_now() {
    let scenario = Scenario::from_json(include_str!("../../../../static/scenarios/patent-5.json")).unwrap();
    // Engine time: µs since the Unix epoch, far past the scenario's `until`.
    let now = 1_800_000_000_000_000u64;
    let ev = |ago: u64, what| TraceEvent { t: Time(now - ago), what };
    let trace = Trace {
        events: vec![
            ev(21_000_000, What::Note { server: 1, note: Note::ElectionDelay { delay: Span(575_000) } }),
            ev(20_000_000, What::Role { server: 1, role: Role::Master, master: None }),
            ev(2_500_000, What::Role { server: 2, role: Role::Backup, master: Some(1) }),
        ],
    };
    let run = Run { metrics: Default::default(), trace: Some(trace), phases: Vec::new() };
    let opts = SvgOptions { from: Some(Time(now - 8_000_000)), to: Some(Time(now)), now: Some(Time(now)), ..Default::default() };
    assert_eq!(window(&scenario, &run, &opts), (Time(now - 8_000_000), Time(now)), "not clamped to `until`");
    let svg = space_time(&scenario, &run, &opts);
    for tick in ["−8 s", "−4 s", "now"] {
        assert!(svg.contains(&format!(">{tick}</text>")), "tick {tick}");
    }
    assert!(svg.contains("wall-clock time (s), relative to now") && svg.contains("window the last 8 s"));
    assert!(!svg.contains("D="), "an election delay long before the window is not drawn");
    assert!(svg.contains("atlanta: Master from before the window to now"), "a role in force at the start is a band from the edge");
    assert!(svg.contains("bangalore: Backup (master atlanta) from −2.50 s to now"));
    assert!(!svg.contains("ottawa: ") && !svg.contains("Backup · ottawa"), "a lane the trace says nothing of is empty");
    // A run still starts in the patent's initial roles.
    let run_svg = space_time(&scenario, &Run { trace: Some(Trace::default()), ..run }, &SvgOptions::default());
    assert!(run_svg.contains("Backup · ottawa") && run_svg.contains("virtual time (ms)"));
}
