//! The run replayed once, for playback.
//!
//! Every frame of the Watch tab asks "what was true at the playhead?": each
//! server's role (and, under Raft, its term), the election timers still
//! running, the messages on the wire. Replaying the trace from the start on every frame would cost
//! O(events) per frame, which a storm of thousands of messages cannot
//! afford at 30 fps. So the trace is read once per run into per-row step
//! functions and a send-ordered list of flights ([`Flights`]), and every
//! question is a binary search.
//!
//! The replay follows SPEC §1 and §8: initially `ranking[0]` is Master and
//! every other server a Backup naming it; a crash takes a server down (the
//! engine emits no role change for it), a recovery brings it back as a
//! Backup with no master, and role changes of a down server are ignored.
//! Raft and Bully runs report their roles in the same terms (a leader or
//! coordinator is a Master, a follower a Backup of it, a candidate or an
//! elector waits in the election), so they replay the same way; only the
//! names differ ([`Status::label`]).

use super::flights::{Flight, Flights};
use stagger_core::params::Algorithm;
use stagger_core::scenario::{AlgorithmName, FaultAction, Scenario};
use stagger_core::sim::What;
use stagger_core::{MessageKind, Note, Role, Run, Time};

/// What a server is doing, as the diagram colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Master,
    Backup,
    Wait,
    Down,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Master => "Master",
            Status::Backup => "Backup",
            Status::Wait => "WaitElection",
            Status::Down => "down",
        }
    }

    /// The state's name under `algorithm`: Raft's leader, follower and
    /// candidate; Bully's coordinator, follower and elector.
    pub fn label(self, algorithm: AlgorithmName) -> &'static str {
        match (algorithm, self) {
            (_, Status::Down) | (AlgorithmName::Stagger, _) => self.name(),
            (AlgorithmName::Raft, Status::Master) => "leader",
            (AlgorithmName::Raft, Status::Wait) => "candidate",
            (AlgorithmName::Bully, Status::Master) => "coordinator",
            (AlgorithmName::Bully, Status::Wait) => "electing",
            (_, Status::Backup) => "follower",
        }
    }

    /// The CSS class of a node in this state.
    pub fn class(self) -> &'static str {
        match self {
            Status::Master => "master",
            Status::Backup => "backup",
            Status::Wait => "wait",
            Status::Down => "down",
        }
    }
}

/// One server's state: its status and, for a Backup, the row it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowState {
    pub status: Status,
    pub master: Option<u32>,
}

/// An election timer: armed at `start` to fire at `due`, and over at `end`
/// (`due`, or earlier when the server left WaitElection or crashed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Countdown {
    pub start: Time,
    pub due: Time,
    pub end: Time,
}

/// The run as step functions of time.
#[derive(Debug)]
pub struct Timeline {
    /// Per row: the instants its state changed, from time 0.
    states: Vec<Vec<(Time, RowState)>>,
    /// Per row: its election timers, in order.
    countdowns: Vec<Vec<Countdown>>,
    /// The messages on the wire.
    flights: Flights,
    /// Rankings in force (`index_of[row]`), from time 0.
    rankings: Vec<(Time, Vec<u32>)>,
    /// Live masters at the end of each instant where the count changed.
    masters: Vec<(Time, u32)>,
    /// The algorithm that ran.
    pub algorithm: AlgorithmName,
    /// The kinds of message sent in the run, in `MessageKind::EVERY` order.
    pub kinds: Vec<MessageKind>,
    /// Raft only: the highest term any server had reached, from each
    /// instant it rose.
    terms: Vec<(Time, u64)>,
}

/// The last entry of a time-ordered list at or before `t`.
fn at<T>(list: &[(Time, T)], t: Time) -> Option<&T> {
    let i = list.partition_point(|(s, _)| *s <= t);
    list.get(i.checked_sub(1)?).map(|(_, v)| v)
}

/// `index_of[row]` for a ranking given as rows by index.
fn invert(rows_by_index: &[u32]) -> Vec<u32> {
    let mut index_of = vec![u32::MAX; rows_by_index.len()];
    for (i, r) in rows_by_index.iter().enumerate() {
        if let Some(slot) = index_of.get_mut(*r as usize) {
            *slot = i as u32;
        }
    }
    index_of
}

impl Timeline {
    pub fn build(scenario: &Scenario, run: &Run) -> Timeline {
        let n = scenario.len();
        let top = scenario.ranking.first().copied().unwrap_or(0);
        let initial = |r: u32| {
            if r == top {
                RowState { status: Status::Master, master: None }
            } else {
                RowState { status: Status::Backup, master: Some(top) }
            }
        };
        let mut cur: Vec<RowState> = (0..n as u32).map(initial).collect();
        let mut states: Vec<Vec<(Time, RowState)>> = cur.iter().map(|s| vec![(Time::ZERO, *s)]).collect();
        let mut countdowns: Vec<Vec<Countdown>> = vec![Vec::new(); n];
        let mut open: Vec<Option<(Time, Time)>> = vec![None; n];
        let mut rankings = vec![(Time::ZERO, invert(&scenario.ranking))];
        let mut live_masters = 1u32;
        let mut masters = vec![(Time::ZERO, live_masters)];
        let mut sent = [false; MessageKind::EVERY.len()];
        let mut terms: Vec<(Time, u64)> = Vec::new();

        fn close(open: &mut Option<(Time, Time)>, t: Time, out: &mut Vec<Countdown>) {
            if let Some((start, due)) = open.take() {
                out.push(Countdown { start, due, end: t.min(due) });
            }
        }
        let mut set = |r: usize, t: Time, s: RowState, cur: &mut Vec<RowState>, live: &mut u32| {
            let s = RowState { master: if s.status == Status::Backup { s.master } else { None }, ..s };
            if cur[r] == s {
                return;
            }
            *live = *live - (cur[r].status == Status::Master) as u32 + (s.status == Status::Master) as u32;
            cur[r] = s;
            let row = &mut states[r];
            match row.last_mut() {
                Some(last) if last.0 == t => last.1 = s,
                _ => row.push((t, s)),
            }
        };

        let events = run.trace.as_ref().map_or(&[][..], |tr| tr.events.as_slice());
        for (k, e) in events.iter().enumerate() {
            let t = e.t;
            match &e.what {
                What::Role { server, role, master } if (*server as usize) < n => {
                    let r = *server as usize;
                    if *role != Role::WaitElection {
                        close(&mut open[r], t, &mut countdowns[r]);
                    }
                    if cur[r].status != Status::Down {
                        let status = match role {
                            Role::Master => Status::Master,
                            Role::Backup => Status::Backup,
                            Role::WaitElection => Status::Wait,
                        };
                        set(r, t, RowState { status, master: *master }, &mut cur, &mut live_masters);
                    }
                }
                What::Send { msg, .. } => {
                    let k = msg.kind();
                    if let Some(i) = MessageKind::EVERY.iter().position(|x| *x == k) {
                        sent[i] = true;
                    }
                }
                What::Note { note: Note::Raft { term, .. }, .. } if terms.last().is_none_or(|(_, top)| term > top) => {
                    terms.push((t, *term));
                }
                What::Note { server, note: Note::ElectionDelay { delay } } if (*server as usize) < n => {
                    let r = *server as usize;
                    close(&mut open[r], t, &mut countdowns[r]);
                    open[r] = Some((t, Time(t.0 + delay.0)));
                }
                What::Fault { source } => {
                    let Some(f) = scenario.faults.iter().find(|f| f.source == *source as usize) else { continue };
                    match &f.action {
                        FaultAction::Crash(row) if (*row as usize) < n => {
                            let r = *row as usize;
                            close(&mut open[r], t, &mut countdowns[r]);
                            set(r, t, RowState { status: Status::Down, master: None }, &mut cur, &mut live_masters);
                        }
                        FaultAction::Recover(row) if (*row as usize) < n => {
                            let r = *row as usize;
                            set(r, t, RowState { status: Status::Backup, master: None }, &mut cur, &mut live_masters);
                        }
                        FaultAction::Rerank(rows) => rankings.push((t, invert(rows))),
                        _ => {}
                    }
                }
                _ => {}
            }
            // Sample at the end of each instant, as the metrics do.
            let instant_over = !matches!(events.get(k + 1), Some(next) if next.t == t);
            if instant_over && masters.last().is_some_and(|(_, c)| *c != live_masters) {
                masters.push((t, live_masters));
            }
        }
        let until = events.last().map_or(scenario.until, |e| e.t.max(scenario.until));
        for (r, o) in open.iter_mut().enumerate() {
            close(o, until, &mut countdowns[r]);
        }
        let flights = Flights::of(events, n);
        let algorithm = match scenario.algorithm {
            Algorithm::Stagger => AlgorithmName::Stagger,
            Algorithm::Raft(_) => AlgorithmName::Raft,
            Algorithm::Bully(_) => AlgorithmName::Bully,
        };
        let kinds = MessageKind::EVERY.iter().zip(sent).filter(|(_, s)| *s).map(|(k, _)| *k).collect();
        Timeline { states, countdowns, flights, rankings, masters, algorithm, kinds, terms }
    }

    /// Raft only: the highest term any server has reached by the end of
    /// instant `t`.
    pub fn term(&self, t: Time) -> Option<u64> {
        at(&self.terms, t).copied()
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Row `r`'s state at the end of instant `t`.
    pub fn state(&self, r: usize, t: Time) -> RowState {
        self.states.get(r).and_then(|s| at(s, t)).copied().unwrap_or(RowState { status: Status::Down, master: None })
    }

    /// Row `r`'s index in the ranking in force at `t`.
    pub fn rank(&self, r: usize, t: Time) -> u32 {
        at(&self.rankings, t).and_then(|ix| ix.get(r)).copied().unwrap_or(r as u32)
    }

    /// The ranking in force at the end of the run: rows by index.
    pub fn final_rows_by_index(&self) -> Vec<u32> {
        let index_of = &self.rankings.last().expect("the initial ranking").1;
        let mut rows: Vec<u32> = (0..index_of.len() as u32).collect();
        rows.sort_by_key(|r| index_of[*r as usize]);
        rows
    }

    /// Row `r`'s election timer running at `t`, if it is waiting then.
    pub fn countdown(&self, r: usize, t: Time) -> Option<Countdown> {
        let list = self.countdowns.get(r)?;
        let i = list.partition_point(|c| c.start <= t).checked_sub(1)?;
        let c = list[i];
        (t < c.end && self.state(r, t).status == Status::Wait).then_some(c)
    }

    /// The copies on the wire at `t`, each with how far along it is (0..1).
    pub fn in_flight(&self, t: Time) -> impl Iterator<Item = (&Flight, f64)> {
        self.flights.at(t)
    }

    /// Live masters at the end of instant `t`.
    pub fn masters_at(&self, t: Time) -> u32 {
        at(&self.masters, t).copied().unwrap_or(0)
    }

    /// The most live masters at the end of any instant in `[from, ∞)`.
    pub fn max_masters_from(&self, from: Time) -> u32 {
        let i = self.masters.partition_point(|(s, _)| *s <= from);
        let first = self.masters_at(from);
        self.masters[i..].iter().map(|(_, c)| *c).fold(first, u32::max)
    }

    /// The most live masters at the end of any instant before `to`.
    pub fn max_masters_before(&self, to: Time) -> u32 {
        self.masters.iter().take_while(|(s, _)| *s < to).map(|(_, c)| *c).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagger_core::Sim;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn patent() -> (Scenario, Run) {
        let s = crate::presets::default_file().validate().unwrap();
        let run = Sim::new(&s, true).run();
        (s, run)
    }

    #[test]
    fn replays_the_worked_example() {
        // SPEC §8: S_0 crashes at 1900, backups wait from 2400, S_1 declares at 2450.
        let (s, run) = patent();
        let tl = Timeline::build(&s, &run);
        assert_eq!(tl.kinds, [MessageKind::Inquiry, MessageKind::Reply, MessageKind::Declare]);
        assert_eq!(tl.term(Time::ZERO), None);
        let row = |id: &str| s.row_of(id).unwrap() as usize;
        let ms = |v: u64| Time::from_ms(v);
        assert_eq!(tl.state(row("ottawa"), ms(1000)).status, Status::Master);
        assert_eq!(tl.state(row("ottawa"), ms(1900)).status, Status::Down);
        assert_eq!(tl.state(row("tokyo"), ms(2000)).master, Some(row("ottawa") as u32));
        assert_eq!(tl.state(row("atlanta"), ms(2420)).status, Status::Wait);
        let c = tl.countdown(row("atlanta"), ms(2420)).unwrap();
        assert_eq!((c.start, c.due), (ms(2400), ms(2450)));
        assert_eq!(tl.state(row("atlanta"), ms(2450)).status, Status::Master);
        assert!(tl.countdown(row("atlanta"), ms(2450)).is_none());
        assert_eq!(tl.state(row("tokyo"), ms(2600)).master, Some(row("atlanta") as u32));
        assert_eq!(tl.masters_at(ms(1950)), 0);
        assert_eq!(tl.max_masters_from(ms(2570)), 1);
        assert_eq!(tl.rank(row("atlanta"), ms(3000)), 1);
    }

    #[test]
    fn replays_raft_with_its_names_kinds_and_terms() {
        let mut f = crate::presets::default_file();
        f.algorithm = Some(AlgorithmName::Raft);
        let s = f.validate().unwrap();
        let run = Sim::new(&s, true).run();
        let tl = Timeline::build(&s, &run);
        assert_eq!(tl.algorithm, AlgorithmName::Raft);
        assert!(tl.kinds.contains(&MessageKind::RequestVote) && tl.kinds.contains(&MessageKind::Heartbeat), "{:?}", tl.kinds);
        assert!(!tl.kinds.contains(&MessageKind::Declare));
        assert_eq!(tl.term(Time::ZERO), Some(1), "ottawa leads term 1");
        assert!(tl.term(s.until).unwrap() >= 2, "an election after the crash raises the term");
        let winner = s.row_of(run.metrics.final_master.as_deref().unwrap()).unwrap() as usize;
        let end = tl.state(winner, s.until).status;
        assert_eq!((end, end.label(tl.algorithm)), (Status::Master, "leader"));
        assert_eq!(Status::Backup.label(AlgorithmName::Bully), "follower");
        assert_eq!(Status::Wait.label(AlgorithmName::Stagger), "WaitElection");
        assert_eq!(tl.max_masters_from(Time::ZERO), run.metrics.max_masters);
    }

    #[test]
    fn agrees_with_the_simulator_on_every_preset() {
        let files = crate::presets::PRESETS.iter().map(|(n, _)| crate::presets::file(n).unwrap());
        for file in files.chain([stagger_core::gen::storm(24)]) {
            let s = file.validate().unwrap();
            let run = Sim::new(&s, true).run();
            let tl = Timeline::build(&s, &run);
            assert_eq!(tl.max_masters_from(Time::ZERO), run.metrics.max_masters, "{}", s.name);
            let masters: Vec<usize> = (0..s.len()).filter(|r| tl.state(*r, s.until).status == Status::Master).collect();
            if let Some(m) = &run.metrics.final_master {
                assert_eq!(masters, vec![s.row_of(m).unwrap() as usize], "{}", s.name);
            }
        }
    }
}
