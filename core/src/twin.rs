//! The digital twin: "what if the master fails now?" for a live group.
//!
//! From plain facts about a running group (its scenario, its current
//! ranking, who is down, the measured delays, the master, and where "now"
//! falls on the detection grid) [`build`] writes a scenario the simulator
//! can run: the group as it is, with the master crashing at a time `T`
//! that falls on the same point of the detection grid as now. [`predict`]
//! runs it and reports the simulator's own metrics relative to `T`: who
//! wins, when the survivors detect the crash, when the first declaration
//! goes out, and when the group has converged (the failover time).
//!
//! `stagger ctl predict` gathers the facts over HTTP; the playground can
//! call the same functions. The assumptions are docs/protocol.md P1–P4:
//!
//! - P1: the measured matrix is the network's (`actual_delays_ms`); the
//!   timers keep the configured one (`delays_ms`), as the servers do.
//! - P2: the master is the lowest live index, as a converged group's is.
//! - P3: members that are down now crash at `T` with the master: the
//!   survivors then see the same silence and run the same timers as when
//!   those members died earlier (the simulator starts every server up).
//! - P4: detection phases are the scenario's: synchronous phases sit on the
//!   shared grid `m·P`, so `T ≡ now (mod P)`; asynchronous phases are the
//!   simulator's seeded draw, not the nodes'.

use crate::scenario::{FaultActionEntry, FaultEntry, ScenarioError, ScenarioFile};
use crate::sim::{MessageCounts, Settled, Sim};
use crate::time::Span;
use serde::Serialize;
use std::fmt;

/// What the twin is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct TwinInput {
    /// The group's scenario as configured.
    pub file: ScenarioFile,
    /// The current ranking, ids best first; servers it leaves out follow in
    /// the file's order and count as down (outside the configuration).
    /// `None`: the file's ranking.
    pub ranking: Option<Vec<String>>,
    /// Members that are not running now.
    pub down: Vec<String>,
    /// The measured one-way delays in ms, `servers` order, holes already
    /// filled; `None`: the network is taken to be the configured matrix.
    pub measured_ms: Option<Vec<Vec<f64>>>,
    /// The current master.
    pub master: String,
    /// Now, in ms on the group's time base (the nodes' engine time), which
    /// places the crash on the detection grid.
    pub now_ms: f64,
}

/// The twin's forecast; times in ms after the master's crash.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TwinPrediction {
    /// The master the group converges on; `None` if it does not.
    pub winner: Option<String>,
    /// The winner's index in the current ranking.
    pub winner_index: Option<u32>,
    /// From the crash to convergence.
    pub failover_ms: Option<f64>,
    pub detected_ms: Option<f64>,
    pub declared_ms: Option<f64>,
    pub elected_ms: Option<f64>,
    /// Election messages after the crash.
    pub messages: u64,
    /// Every message of the run, by kind.
    pub message_counts: MessageCounts,
    pub settled: Settled,
    /// When the twin's master crashes, in the scenario's time.
    pub crash_at_ms: f64,
    /// The scenario the twin ran, to replay or draw.
    pub scenario: ScenarioFile,
}

/// Why no twin could be built: the facts given do not fit the group.
#[derive(Clone, Debug, PartialEq)]
pub enum TwinError {
    /// The group's scenario (or the twin made from it) is not valid.
    Scenario(ScenarioError),
    /// An id that is not a server of the group.
    UnknownMember { id: String, field: &'static str },
    /// The master is listed as down, or is not the lowest live index.
    Master(String),
    /// The measured matrix is not `N × N`.
    MatrixSize { expected: usize },
}

impl fmt::Display for TwinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TwinError::Scenario(e) => write!(f, "the group's scenario: {e}"),
            TwinError::UnknownMember { id, field } => write!(f, "{field}: '{id}' is not a server of the group"),
            TwinError::Master(why) => write!(f, "master: {why}"),
            TwinError::MatrixSize { expected } => write!(f, "measured: the matrix must be {expected} × {expected}"),
        }
    }
}

impl std::error::Error for TwinError {}

/// The scenario of the twin and the time `T` its master crashes at (ms).
pub fn build(input: &TwinInput) -> Result<(ScenarioFile, f64), TwinError> {
    let base = input.file.validate().map_err(TwinError::Scenario)?;
    let known =
        |id: &String, field: &'static str| base.row_of(id).map(|_| ()).ok_or_else(|| TwinError::UnknownMember { id: id.clone(), field });
    let mut ranking: Vec<String> = Vec::new();
    for id in input.ranking.iter().flatten() {
        known(id, "ranking")?;
        if !ranking.contains(id) {
            ranking.push(id.clone());
        }
    }
    let listed = input.ranking.as_ref().map_or(base.len(), |_| ranking.len());
    let rest: Vec<String> = base.ranking.iter().map(|&r| base.ids[r as usize].clone()).filter(|id| !ranking.contains(id)).collect();
    ranking.extend(rest);
    let mut down: Vec<String> = ranking[listed..].to_vec();
    for id in &input.down {
        known(id, "down")?;
        if !down.contains(id) {
            down.push(id.clone());
        }
    }
    known(&input.master, "master")?;
    if down.contains(&input.master) {
        return Err(TwinError::Master(format!("'{}' is down", input.master)));
    }
    let lowest_live = ranking.iter().find(|id| !down.contains(id)).expect("the master is live");
    if *lowest_live != input.master {
        return Err(TwinError::Master(format!(
            "'{}' is not the lowest live index ('{lowest_live}' is live and ranks above it): the twin starts from a converged group",
            input.master
        )));
    }
    let mut file = input.file.clone();
    if let Some(m) = &input.measured_ms {
        let n = base.len();
        if m.len() != n || m.iter().any(|row| row.len() != n) {
            return Err(TwinError::MatrixSize { expected: n });
        }
        file.actual_delays_ms = Some(m.clone());
    }
    file.ranking = Some(ranking);
    file.rank_by = None;
    // T: after the group has settled (two stability windows), on the same
    // point of every server's detection grid as now.
    let grid = grid_us(&base.periods);
    let warm = 2 * base.stability_window().0;
    let now_us = (input.now_ms.max(0.0) * 1000.0) as u64;
    let offset = now_us % grid;
    let crash_us = warm.div_ceil(grid) * grid + offset;
    let crash_at_ms = crash_us as f64 / 1000.0;
    file.faults = std::iter::once(input.master.clone())
        .chain(down)
        .map(|id| FaultEntry { at_ms: crash_at_ms, action: FaultActionEntry::Crash(id) })
        .collect();
    // Long enough for the election and a full stability window after it.
    let tail = 3 * base.stability_window().0 + base.delays_us.iter().flatten().max().copied().unwrap_or(0);
    file.until_ms = Some((crash_us + tail + election_span_us(&file)?) as f64 / 1000.0);
    Ok((file, crash_at_ms))
}

/// The longest election delay any rank can have, in µs.
fn election_span_us(file: &ScenarioFile) -> Result<u64, TwinError> {
    let s = file.validate().map_err(TwinError::Scenario)?;
    let random = match s.params.scheme {
        crate::params::Scheme::Randomized { max, .. } => max.0,
        _ => 0,
    };
    Ok(crate::delays::election_delays(&s).map_or(random, |d| d.iter().map(|x| x.0).max().unwrap_or(0)))
}

/// The period after which every server's synchronous grid repeats: the
/// least common multiple of the periods, or the longest one when that
/// would exceed a thousand of them (the crash then sits on the longest
/// period's grid only).
fn grid_us(periods: &[Span]) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let longest = periods.iter().map(|p| p.0).max().unwrap_or(1).max(1);
    let mut l = 1u64;
    for p in periods.iter().map(|p| p.0.max(1)) {
        l = l / gcd(l, p) * p;
        if l > 1000 * longest {
            return longest;
        }
    }
    l
}

/// The members not running now, from each member's `/api/status` answer
/// (`statuses` in `ids` order, `None` where there was none): native members
/// that did not answer or report themselves down, and browser members no
/// answering node reports a connection to (P3). `stagger ctl predict` and
/// the playground's Live tab read the group the same way.
pub fn down_in(ids: &[String], statuses: &[Option<serde_json::Value>]) -> Vec<String> {
    let connected = |id: &str| {
        (statuses.iter().flatten())
            .any(|s| (s["peers"].as_array().into_iter().flatten()).any(|p| p["id"] == id && p["state"] == "connected"))
    };
    (ids.iter().zip(statuses))
        .filter(|(id, s)| match s {
            Some(s) => s["up"].as_bool() != Some(true),
            None => !connected(id),
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The ranking the group runs now, when a name server's configuration sets
/// it (its members, best first, as the first status that has one says);
/// `None`: the file's.
pub fn ranking_in(statuses: &[Option<serde_json::Value>]) -> Option<Vec<String>> {
    let config = statuses.iter().flatten().find_map(|s| s["configuration"]["members"].as_array().cloned())?;
    Some(config.iter().filter_map(|v| v.as_str().map(String::from)).collect())
}

/// Builds the twin, runs it, and reports the simulator's metrics relative
/// to the master's crash.
pub fn predict(input: &TwinInput) -> Result<TwinPrediction, TwinError> {
    let (file, crash_at_ms) = build(input)?;
    let scenario = file.validate().map_err(TwinError::Scenario)?;
    let run = Sim::new(&scenario, false).run();
    let m = run.metrics;
    // To the µs, as every simulated time is.
    let after = |t: Option<f64>| t.map(|t| ((t - crash_at_ms) * 1000.0).round() / 1000.0);
    let winner = m.final_master.clone().filter(|_| m.settled == Settled::Stable);
    let winner_index = winner.as_ref().and_then(|w| file.ranking.as_ref()?.iter().position(|id| id == w)).map(|i| i as u32);
    Ok(TwinPrediction {
        failover_ms: after(m.converged_at_ms.filter(|_| winner.is_some())),
        winner,
        winner_index,
        detected_ms: after(m.detected_at_ms),
        declared_ms: after(m.first_declare_at_ms),
        elected_ms: after(m.elected_at_ms),
        messages: m.election_messages,
        message_counts: m.messages,
        settled: m.settled,
        crash_at_ms,
        scenario: file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

    fn input() -> TwinInput {
        let mut file = ScenarioFile::from_json(PATENT).unwrap();
        file.faults.clear();
        TwinInput { file, ranking: None, down: vec![], measured_ms: None, master: "ottawa".into(), now_ms: 1_234_800.0 }
    }

    /// The bound of a clean failover: the last inquiry that can still miss
    /// (`misses · P + τ` after the crash), the winner's timer `D`, and its
    /// declaration's longest trip.
    fn bound_ms(file: &ScenarioFile, winner_index: u32) -> f64 {
        let s = file.validate().unwrap();
        let d = crate::delays::election_delays(&s).unwrap()[winner_index as usize].as_ms();
        let p = s.periods.iter().max().unwrap().as_ms();
        let c = s.delays_us.iter().flatten().max().unwrap();
        s.params.misses as f64 * p + s.params.timeout.as_ms() + d + *c as f64 / 1000.0
    }

    // `now_ms` falls 300 ms into the 500 ms detection period: every reply of
    // the last round (the longest round trip is 240 ms) is in, and the next
    // inquiries all go unanswered, so the survivors detect together.

    #[test]
    fn the_twin_elects_the_lowest_live_index_within_the_bound() {
        let p = predict(&input()).unwrap();
        assert_eq!((p.winner.as_deref(), p.winner_index), (Some("atlanta"), Some(1)));
        let failover = p.failover_ms.unwrap();
        assert!(failover > 0.0 && failover <= bound_ms(&p.scenario, 1), "{failover}");
        let (detected, declared) = (p.detected_ms.unwrap(), p.declared_ms.unwrap());
        assert!(0.0 < detected && detected <= declared && declared <= failover, "{p:?}");
        assert_eq!(p.messages, 4, "one clean broadcast to the four others");
        // The crash sits where now sits on the detection grid.
        let period = p.scenario.validate().unwrap().periods[0].0;
        assert_eq!((p.crash_at_ms * 1000.0) as u64 % period, 1_234_800_000 % period);
    }

    #[test]
    fn where_now_falls_on_the_detection_grid_changes_the_forecast() {
        // 67 ms into the period, Atlanta's inquiry has been answered (a 40 ms
        // round trip) but Bangalore's has not reached Ottawa yet (110 ms):
        // Bangalore detects a period before Atlanta and declares first.
        let p = predict(&TwinInput { now_ms: 1_234_567.0, ..input() }).unwrap();
        assert_eq!(p.winner.as_deref(), Some("bangalore"));
        assert_eq!((p.detected_ms, p.declared_ms), (Some(333.0), Some(503.0)));
    }

    #[test]
    fn members_down_now_are_skipped_and_the_next_live_index_wins() {
        // Ottawa died earlier and Atlanta took over; Atlanta fails now.
        let p = predict(&TwinInput { down: vec!["ottawa".into()], master: "atlanta".into(), ..input() }).unwrap();
        assert_eq!((p.winner.as_deref(), p.winner_index), (Some("bangalore"), Some(2)));
        assert!(p.failover_ms.unwrap() <= bound_ms(&p.scenario, 2));
        // A current ranking that moves Bangalore first.
        let ranked = TwinInput {
            ranking: Some(vec!["bangalore".into(), "ottawa".into(), "atlanta".into(), "sydney".into(), "tokyo".into()]),
            master: "bangalore".into(),
            ..input()
        };
        let (file, _) = build(&ranked).unwrap();
        assert_eq!(file.ranking.as_ref().unwrap()[0], "bangalore");
        assert_eq!(predict(&ranked).unwrap().winner.as_deref(), Some("ottawa"));
    }

    #[test]
    fn a_measured_network_slower_than_the_timers_is_contested() {
        let clean = predict(&input()).unwrap();
        let s = input().file.validate().unwrap();
        let slower = s.delays_us.iter().map(|row| row.iter().map(|&d| d as f64 * 1.5 / 1000.0).collect()).collect();
        let p = predict(&TwinInput { measured_ms: Some(slower), ..input() }).unwrap();
        assert_eq!(p.winner.as_deref(), Some("atlanta"), "the lowest live index still wins the contest");
        assert!(p.messages > clean.messages, "{} vs {}", p.messages, clean.messages);
    }

    #[test]
    fn who_is_down_and_the_ranking_are_read_from_the_members_statuses() {
        use serde_json::json;
        let ids: Vec<String> = ["a", "b", "c", "web"].map(String::from).to_vec();
        let a = json!({"up": true, "peers": [{"id": "web", "state": "connected"}],
            "configuration": {"members": ["b", "a", "c", "web"]}});
        let b = json!({"up": false});
        let statuses = vec![Some(a.clone()), Some(b), None, None];
        assert_eq!(down_in(&ids, &statuses), vec!["b".to_string(), "c".to_string()]);
        assert_eq!(ranking_in(&statuses).unwrap()[0], "b");
        assert_eq!(ranking_in(&[Some(json!({"up": true})), None]), None);
        let alone = vec![Some(json!({"up": true})), Some(json!({"up": true})), Some(json!({"up": true})), None];
        assert_eq!(down_in(&ids, &alone), vec!["web".to_string()], "a browser member nobody is connected to is down");
    }

    #[test]
    fn facts_that_do_not_fit_the_group_are_refused() {
        let e = build(&TwinInput { master: "zed".into(), ..input() }).unwrap_err();
        assert_eq!(e.to_string(), "master: 'zed' is not a server of the group");
        let e = build(&TwinInput { down: vec!["ottawa".into()], ..input() }).unwrap_err();
        assert!(e.to_string().contains("'ottawa' is down"), "{e}");
        let e = build(&TwinInput { master: "atlanta".into(), ..input() }).unwrap_err();
        assert!(e.to_string().contains("not the lowest live index ('ottawa'"), "{e}");
        let e = build(&TwinInput { measured_ms: Some(vec![vec![0.0; 2]; 2]), ..input() }).unwrap_err();
        assert_eq!(e, TwinError::MatrixSize { expected: 5 });
    }
}
