use super::*;
use crate::message::MessageKind;
use crate::scenario::ScenarioFile;
use crate::server::Note;
use crate::sim::{Run, Sim};
use crate::time::Span;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const PATENT: &str = include_str!("../../../static/scenarios/patent-5.json");

fn run(file: &ScenarioFile) -> (Scenario, Run) {
    let s = file.validate().unwrap();
    let run = Sim::new(&s, true).run();
    (s, run)
}

fn patent() -> (Scenario, Run) {
    run(&ScenarioFile::from_json(PATENT).unwrap())
}

fn replay(s: &Scenario, run: &Run) -> Playback {
    Playback::of(s, &run.trace.as_ref().unwrap().events)
}

#[test]
fn replays_the_worked_example() {
    // SPEC §8: S_0 crashes at 1900, backups wait from 2400, S_1 declares at 2450.
    let (s, run) = patent();
    let tl = replay(&s, &run);
    assert_eq!(tl.kinds, [MessageKind::Inquiry, MessageKind::Reply, MessageKind::Declare]);
    assert_eq!(tl.term(Time::ZERO), None);
    let row = |id: &str| s.row_of(id).unwrap() as usize;
    let ms = Time::from_ms;
    assert_eq!(tl.state(row("ottawa"), ms(1000)).status, LaneState::Master);
    assert_eq!(tl.state(row("ottawa"), ms(1900)).status, LaneState::Down);
    assert_eq!(tl.state(row("tokyo"), ms(2000)).master, Some(row("ottawa") as u32));
    assert_eq!(tl.state(row("atlanta"), ms(2420)).status, LaneState::Wait);
    let c = tl.countdown(row("atlanta"), ms(2420)).unwrap();
    assert_eq!((c.start, c.due, c.end), (ms(2400), ms(2450), ms(2450)));
    assert!(c.fired());
    assert_eq!(tl.state(row("atlanta"), ms(2450)).status, LaneState::Master);
    assert!(tl.countdown(row("atlanta"), ms(2450)).is_none());
    assert_eq!(tl.state(row("tokyo"), ms(2600)).master, Some(row("atlanta") as u32));
    assert_eq!(tl.masters_at(ms(1950)), 0);
    assert_eq!(tl.max_masters_from(ms(2570)), 1);
    assert_eq!(tl.rank(row("atlanta"), ms(3000)), 1);
    assert_eq!(tl.faults(&s).collect::<Vec<_>>(), [(ms(1900), &FaultAction::Crash(row("ottawa") as u32))]);
    // Bangalore's timer runs out the very moment atlanta's declare arrives
    // (2570 ms); the two slower backups' timers are cancelled by it.
    let fired: Vec<u32> = tl.countdowns().iter().filter(|c| c.fired()).map(|c| c.row).collect();
    assert_eq!(fired, [row("atlanta") as u32, row("bangalore") as u32], "{:?}", tl.countdowns());
    assert_eq!(tl.countdowns().len(), 4);
}

#[test]
fn segments_tile_each_lane_and_agree_with_the_state_at_every_instant() {
    let (s, run) = patent();
    let tl = replay(&s, &run);
    for r in 0..s.len() {
        let segs: Vec<Segment> = tl.segments(r).collect();
        assert_eq!(segs[0].start, Time::ZERO);
        assert_eq!(segs.last().unwrap().end, s.until);
        for pair in segs.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "row {r}: no gap, no overlap");
            assert!(pair[0].start < pair[0].end);
        }
        for seg in &segs {
            assert_eq!(tl.state(r, seg.start), seg.state, "row {r} at {}", seg.start);
        }
    }
    let ottawa: Vec<LaneState> = tl.segments(s.row_of("ottawa").unwrap() as usize).map(|g| g.state.status).collect();
    assert_eq!(ottawa, [LaneState::Master, LaneState::Down]);
}

#[test]
fn copies_on_the_wire_are_found_by_binary_search() {
    let (s, run) = patent();
    let tl = replay(&s, &run);
    let declares: Vec<_> = tl.in_flight(Time::from_ms(2460)).filter(|(c, _)| c.kind() == MessageKind::Declare).collect();
    assert_eq!(declares.len(), 4, "one broadcast to the other four, the crashed one included");
    assert!(declares.iter().all(|(_, p)| (0.0..1.0).contains(p)));
    assert!(declares.iter().any(|(c, _)| c.lost()), "the copy to the crashed ottawa is dropped on arrival");
    // A brute-force scan agrees with the binary search at every millisecond.
    for m in 0..4000 {
        let t = Time::from_ms(m);
        let slow = tl.copies().iter().filter(|c| c.send <= t && c.arrive.is_some_and(|a| a > t)).count();
        assert_eq!(tl.in_flight(t).count(), slow, "at {m} ms");
    }
}

#[test]
fn replays_raft_with_its_names_kinds_and_terms() {
    let mut f = ScenarioFile::from_json(PATENT).unwrap();
    f.algorithm = Some(AlgorithmName::Raft);
    let (s, run) = run(&f);
    let tl = replay(&s, &run);
    assert_eq!(tl.algorithm, AlgorithmName::Raft);
    assert!(tl.kinds.contains(&MessageKind::RequestVote) && tl.kinds.contains(&MessageKind::Heartbeat), "{:?}", tl.kinds);
    assert!(!tl.kinds.contains(&MessageKind::Declare));
    assert_eq!(tl.term(Time::ZERO), Some(1), "ottawa leads term 1");
    assert!(tl.term(s.until).unwrap() >= 2, "an election after the crash raises the term");
    let winner = s.row_of(run.metrics.final_master.as_deref().unwrap()).unwrap() as usize;
    let end = tl.state(winner, s.until).status;
    assert_eq!((end, end.label(tl.algorithm)), (LaneState::Master, "leader"));
    assert_eq!(LaneState::Backup.label(AlgorithmName::Bully), "follower");
    assert_eq!(LaneState::Wait.label(AlgorithmName::Stagger), "WaitElection");
    assert_eq!(tl.max_masters_from(Time::ZERO), run.metrics.max_masters);
}

#[test]
fn agrees_with_the_simulator_on_the_example_scenarios() {
    let texts = [PATENT, include_str!("../../../static/scenarios/partition.json"), include_str!("../../../static/scenarios/lan-5.json")];
    let files = texts.iter().map(|t| ScenarioFile::from_json(t).unwrap());
    for file in files.chain([crate::gen::storm(24)]) {
        let (s, run) = run(&file);
        let tl = replay(&s, &run);
        assert_eq!(tl.max_masters_from(Time::ZERO), run.metrics.max_masters, "{}", s.name);
        let masters: Vec<usize> = (0..s.len()).filter(|r| tl.state(*r, s.until).status == LaneState::Master).collect();
        if let Some(m) = &run.metrics.final_master {
            assert_eq!(masters, vec![s.row_of(m).unwrap() as usize], "{}", s.name);
        }
    }
}

#[test]
fn a_recording_knows_no_role_until_the_trace_gives_one() {
    let (s, _) = patent();
    let t0 = 1_800_000_000_000_000u64;
    let ev = |t: u64, what| TraceEvent { t: Time(t0 + t), what };
    let events = [
        ev(0, What::Note { server: 1, note: Note::ElectionDelay { delay: Span(575_000) } }),
        ev(1_000_000, What::Role { server: 1, role: Role::Master, master: None }),
        ev(2_000_000, What::Role { server: 2, role: Role::Backup, master: Some(1) }),
    ];
    let end = Time(t0 + 3_000_000);
    let tl = Replay::of_recording(&s, &events, end);
    assert_eq!(tl.segments(0).count(), 0, "a member the trace says nothing of");
    let atlanta: Vec<Segment> = tl.segments(1).collect();
    assert_eq!(atlanta, [Segment { start: Time(t0 + 1_000_000), end, state: RowState { status: LaneState::Master, master: None } }]);
    let c = tl.countdowns()[0];
    assert_eq!((c.row, c.end, c.fired()), (1, Time(t0 + 575_000), true));
    assert_eq!(tl.state(2, Time(t0)).status, LaneState::Down, "not known yet: read as down");
}
