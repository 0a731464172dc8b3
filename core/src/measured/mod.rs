//! Measured delays: what a live member learns of its links from round
//! trips, and the group's matrix merged from every member's answer.
//!
//! A member measures round trips, never one-way delays: it can only compare
//! instants on its own clock, the send of a request and the arrival of its
//! answer. Two kinds of round trip are matched here:
//!
//! - an `Inquiry` the engine sends and the master's `InquiryReply` with the
//!   same sequence number: traffic the protocol sends anyway, measured for
//!   free (a Backup and its master);
//! - a probe (`ping` → `pong` on the mesh) for every pair with no such
//!   traffic: Backups among themselves, and the master towards its Backups.
//!
//! The one-way estimate is half the round trip. A link that is slow in one
//! direction only cannot be told from one slow by half as much both ways
//! without synchronized clocks, so a `δ` built from these estimates can fall
//! short of the slow direction by half the asymmetry (docs/protocol.md M3).
//!
//! Everything here is sans-IO: the driver passes `now` in, as to the
//! engine. [`Measurements`] is one member's book of outstanding requests and
//! per-peer [`Window`]s; [`DelaysReport`] is what it serves at
//! `GET /api/delays`; [`merge`] builds the group's [`MeasuredMatrix`] from
//! several members' reports.

mod input;

pub use input::{fill, merge_answers, parse, Measured, MeasuredError};

use crate::compare::stats::{median, nearest_rank};
use crate::time::{Span, Time};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// The most samples a window keeps per peer.
pub const WINDOW_SAMPLES: usize = 256;

/// How many detection periods a sample stays in its window. Short enough
/// that the median follows a link whose delay changed within about half of
/// it, long enough that p99 means something with one sample per period.
pub const WINDOW_PERIODS: u64 = 16;

/// How many requests to one peer may await their answer at once; an older
/// one is forgotten (its answer, if it comes, is not a sample).
const OUTSTANDING: usize = 8;

/// Where a round trip came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An inquiry and the master's reply.
    Inquiry,
    /// A probe of the mesh and its answer.
    Probe,
}

/// The round trips to one peer measured in the last [`WINDOW_PERIODS`]
/// periods, at most [`WINDOW_SAMPLES`] of them.
#[derive(Clone, Debug)]
pub struct Window {
    /// (when it was measured, round trip, where it came from), oldest first.
    samples: VecDeque<(Time, Span, Source)>,
    cap: usize,
    max_age: Span,
}

impl Window {
    pub fn new(cap: usize, max_age: Span) -> Window {
        Window { samples: VecDeque::new(), cap: cap.max(1), max_age }
    }

    /// Adds a round trip measured at `at`, dropping the oldest beyond the
    /// cap and those too old at `at`.
    pub fn push(&mut self, at: Time, rtt: Span, source: Source) {
        if self.samples.len() == self.cap {
            self.samples.pop_front();
        }
        self.samples.push_back((at, rtt, source));
        self.expire(at);
    }

    /// Drops the samples older than the window's age at `now`.
    pub fn expire(&mut self, now: Time) {
        while self.samples.front().is_some_and(|(t, _, _)| now.since(*t) > self.max_age) {
            self.samples.pop_front();
        }
    }

    /// When the last sample from `source` was measured, if it is still kept.
    pub fn last_from(&self, source: Source) -> Option<Time> {
        self.samples.iter().rev().find(|(_, _, s)| *s == source).map(|(t, _, _)| *t)
    }

    /// The statistics of the kept samples that are still young at `now`;
    /// `None` when there are none.
    pub fn summary(&self, now: Time) -> Option<PeerDelays> {
        let young: Vec<&(Time, Span, Source)> = self.samples.iter().filter(|(t, _, _)| now.since(*t) <= self.max_age).collect();
        let last = young.last()?.1.as_ms();
        let mut ms: Vec<f64> = young.iter().map(|(_, rtt, _)| rtt.as_ms()).collect();
        ms.sort_by(f64::total_cmp);
        let (median_ms, p99_ms, max_ms) = (median(&ms), nearest_rank(&ms, 99.0), ms[ms.len() - 1]);
        let from_inquiries = young.iter().filter(|(_, _, s)| *s == Source::Inquiry).count();
        Some(PeerDelays {
            median_ms,
            p99_ms,
            max_ms,
            min_ms: ms[0],
            last_ms: last,
            samples: ms.len(),
            one_way_ms: median_ms / 2.0,
            one_way_p99_ms: p99_ms / 2.0,
            one_way_max_ms: max_ms / 2.0,
            from_inquiries,
            from_probes: ms.len() - from_inquiries,
        })
    }
}

/// What a member knows of its round trips to one peer: the statistics of
/// its window. `median_ms`, `p99_ms`, `max_ms`, `min_ms` and `last_ms` are
/// round trips; the `one_way_*` fields are their halves, the estimates a
/// delay matrix wants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerDelays {
    /// The median round trip (halfway between the middle two of an even
    /// count).
    pub median_ms: f64,
    /// The nearest-rank 99th percentile round trip.
    pub p99_ms: f64,
    pub max_ms: f64,
    #[serde(default)]
    pub min_ms: f64,
    /// The most recent round trip.
    #[serde(default)]
    pub last_ms: f64,
    /// How many round trips the window holds.
    pub samples: usize,
    /// `median_ms / 2`: the one-way estimate.
    pub one_way_ms: f64,
    #[serde(default)]
    pub one_way_p99_ms: f64,
    #[serde(default)]
    pub one_way_max_ms: f64,
    /// How many of the samples were inquiries answered by the master.
    #[serde(default)]
    pub from_inquiries: usize,
    /// How many were probes.
    #[serde(default)]
    pub from_probes: usize,
}

impl PeerDelays {
    /// The one-way estimate under `statistic`.
    pub fn one_way(&self, statistic: Statistic) -> f64 {
        match statistic {
            Statistic::Median => self.median_ms / 2.0,
            Statistic::P99 => self.p99_ms / 2.0,
            Statistic::Max => self.max_ms / 2.0,
        }
    }
}

/// Which statistic of a window becomes a matrix entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    Median,
    /// The default: a timer that covers the p99 is late one time in a
    /// hundred, not half the time.
    #[default]
    P99,
    Max,
}

impl Statistic {
    pub fn named(name: &str) -> Option<Statistic> {
        match name {
            "median" => Some(Statistic::Median),
            "p99" => Some(Statistic::P99),
            "max" => Some(Statistic::Max),
            _ => None,
        }
    }

    /// The round-trip field of an `/api/delays` peer entry.
    pub fn field(self) -> &'static str {
        match self {
            Statistic::Median => "median_ms",
            Statistic::P99 => "p99_ms",
            Statistic::Max => "max_ms",
        }
    }
}

/// `GET /api/delays` of one member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DelaysReport {
    /// The member that measured.
    #[serde(default)]
    pub id: String,
    /// Every peer with at least one round trip in its window, by id.
    pub peers: BTreeMap<String, PeerDelays>,
    /// How the numbers were obtained, in words.
    #[serde(default)]
    pub method: String,
    /// The member's detection period, the unit of the probe schedule.
    #[serde(default)]
    pub period_ms: f64,
    /// How long the member has been measuring.
    #[serde(default)]
    pub uptime_ms: f64,
    /// Probes this member sent, since it started.
    #[serde(default)]
    pub probes_sent: u64,
    /// Probes of other members this member answered.
    #[serde(default)]
    pub probes_answered: u64,
    /// Round trips completed since the start, by source.
    #[serde(default)]
    pub round_trips: BTreeMap<Source, u64>,
    /// The window: at most `window_samples` per peer, none older than
    /// `window_ms`.
    #[serde(default)]
    pub window_samples: usize,
    #[serde(default)]
    pub window_ms: f64,
}

/// The group's measured one-way delays, in the order of `ids`:
/// `one_way_ms[i][j]` estimates the delay between `ids[i]` and `ids[j]`
/// (the same both ways, since only round trips are measured), `None` where
/// neither end measured the pair. The diagonal is `Some(0.0)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasuredMatrix {
    pub ids: Vec<String>,
    pub statistic: Statistic,
    pub one_way_ms: Vec<Vec<Option<f64>>>,
}

impl MeasuredMatrix {
    /// Whether every pair has an estimate.
    pub fn is_complete(&self) -> bool {
        self.one_way_ms.iter().all(|row| row.iter().all(Option::is_some))
    }
}

/// Merges several members' [`DelaysReport`]s into the group's measured
/// matrix, with rows and columns in the order of `ids`.
///
/// Each report is the row of the member it names (`report.id`); reports of
/// members not in `ids`, and peers not in `ids`, are left out. A pair is
/// filled from either side: a round trip is the same path whichever end
/// times it, so `i`'s measurement of `j` also estimates `j`'s link to `i`.
/// When both ends measured it, the larger one-way estimate is kept, so that
/// a `δ` built from the matrix covers what either end saw. A pair neither
/// end measured (a member that did not answer and whose peers have no
/// samples of it) is `None`.
///
/// `statistic` picks which of each window's statistics becomes the entry
/// (halved: the entries are one-way estimates).
pub fn merge(ids: &[String], reports: &[DelaysReport], statistic: Statistic) -> MeasuredMatrix {
    let at = |id: &str| ids.iter().position(|x| x == id);
    let estimates = reports
        .iter()
        .filter_map(|r| Some((at(&r.id)?, r)))
        .flat_map(|(i, r)| r.peers.iter().filter_map(move |(peer, d)| Some((i, at(peer)?, d.one_way(statistic)))));
    MeasuredMatrix { ids: ids.to_vec(), statistic, one_way_ms: merge_estimates(ids.len(), estimates) }
}

/// The merge rule, in one place: an `n × n` matrix from one-way estimates
/// `(row, peer, ms)`, each filling both `[row][peer]` and `[peer][row]`
/// (a round trip is the same path whichever end times it), the larger kept
/// when both ends measured a pair; 0 on the diagonal, `None` where nobody
/// measured.
fn merge_estimates(n: usize, estimates: impl IntoIterator<Item = (usize, usize, f64)>) -> Measured {
    let mut m: Measured = (0..n).map(|i| (0..n).map(|j| (i == j).then_some(0.0)).collect()).collect();
    for (i, j, v) in estimates {
        if i == j {
            continue;
        }
        for (a, b) in [(i, j), (j, i)] {
            m[a][b] = Some(m[a][b].map_or(v, |old: f64| old.max(v)));
        }
    }
    m
}

/// One member's measurements: the requests awaiting an answer and a
/// [`Window`] per peer, peers numbered by row.
#[derive(Clone, Debug)]
pub struct Measurements {
    windows: Vec<Window>,
    /// Per peer: (source, key, sent at), oldest first.
    pending: Vec<VecDeque<(Source, u64, Time)>>,
    round_trips: BTreeMap<Source, u64>,
    period: Span,
}

impl Measurements {
    /// `peers` rows, with windows of [`WINDOW_PERIODS`] detection periods.
    pub fn new(peers: usize, period: Span) -> Measurements {
        let max_age = Span(period.0.saturating_mul(WINDOW_PERIODS));
        Measurements {
            windows: (0..peers).map(|_| Window::new(WINDOW_SAMPLES, max_age)).collect(),
            pending: vec![VecDeque::new(); peers],
            round_trips: BTreeMap::new(),
            period,
        }
    }

    /// A request to `peer` went out at `at`: an inquiry (`key` is its
    /// sequence number) or a probe (`key` is its id).
    pub fn sent(&mut self, peer: usize, source: Source, key: u64, at: Time) {
        let Some(p) = self.pending.get_mut(peer) else { return };
        p.retain(|(s, k, _)| (*s, *k) != (source, key));
        if p.len() == OUTSTANDING {
            p.pop_front();
        }
        p.push_back((source, key, at));
    }

    /// The answer to a request arrived from `peer` at `at`: the round trip,
    /// now in the peer's window, or `None` when no such request awaits
    /// (answered already, forgotten, or never sent).
    pub fn answered(&mut self, peer: usize, source: Source, key: u64, at: Time) -> Option<Span> {
        let p = self.pending.get_mut(peer)?;
        let pos = p.iter().position(|(s, k, _)| (*s, *k) == (source, key))?;
        let (_, _, sent) = p.remove(pos)?;
        let rtt = at.since(sent);
        self.windows[peer].push(at, rtt, source);
        *self.round_trips.entry(source).or_default() += 1;
        Some(rtt)
    }

    /// Whether `peer` needs a probe at `now`: no inquiry round trip with it
    /// completed in the last two detection periods (two, so that a reply a
    /// little later than the one before does not cost a probe).
    pub fn wants_probe(&self, peer: usize, now: Time) -> bool {
        let recent = Span(self.period.0.saturating_mul(2));
        self.windows.get(peer).is_some_and(|w| w.last_from(Source::Inquiry).is_none_or(|t| now.since(t) > recent))
    }

    /// Each peer's statistics at `now`, by row; `None` for a peer with no
    /// sample in its window.
    pub fn summaries(&self, now: Time) -> Vec<Option<PeerDelays>> {
        self.windows.iter().map(|w| w.summary(now)).collect()
    }

    /// Round trips completed since the start, by source.
    pub fn round_trips(&self) -> &BTreeMap<Source, u64> {
        &self.round_trips
    }

    /// The window's bounds: samples per peer and age.
    pub fn window(&self) -> (usize, Span) {
        (WINDOW_SAMPLES, Span(self.period.0.saturating_mul(WINDOW_PERIODS)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> Span {
        Span::from_ms(x)
    }

    fn t(x: u64) -> Time {
        Time::from_ms(x)
    }

    #[test]
    fn a_window_summarizes_round_trips_and_halves_them_for_one_way() {
        let mut w = Window::new(256, ms(10_000));
        for (i, rtt) in [40, 44, 36, 40, 120].into_iter().enumerate() {
            w.push(t(i as u64 * 100), ms(rtt), if i == 0 { Source::Inquiry } else { Source::Probe });
        }
        let s = w.summary(t(500)).unwrap();
        assert_eq!((s.median_ms, s.p99_ms, s.max_ms, s.min_ms, s.last_ms, s.samples), (40.0, 120.0, 120.0, 36.0, 120.0, 5));
        assert_eq!((s.one_way_ms, s.one_way_p99_ms, s.one_way_max_ms), (20.0, 60.0, 60.0));
        assert_eq!((s.from_inquiries, s.from_probes), (1, 4));
        assert_eq!((s.one_way(Statistic::Median), s.one_way(Statistic::P99), s.one_way(Statistic::Max)), (20.0, 60.0, 60.0));
        assert!(Window::new(4, ms(1)).summary(t(0)).is_none(), "an empty window has no statistics");
    }

    #[test]
    fn a_window_keeps_at_most_its_cap_and_forgets_old_samples() {
        let mut w = Window::new(3, ms(1_000));
        for i in 0..5 {
            w.push(t(i * 10), ms(i + 1), Source::Probe);
        }
        let s = w.summary(t(40)).unwrap();
        assert_eq!((s.samples, s.min_ms, s.max_ms), (3, 3.0, 5.0), "the two oldest were dropped for the cap");
        // 1 s later the first kept sample (at 20 ms) is too old.
        assert_eq!(w.summary(t(1_025)).unwrap().samples, 2);
        w.push(t(5_000), ms(9), Source::Probe);
        let s = w.summary(t(5_000)).unwrap();
        assert_eq!((s.samples, s.median_ms), (1, 9.0), "a push expires what is too old");
        assert!(w.summary(t(7_000)).is_none(), "a peer not heard from for a window has no statistics");
    }

    #[test]
    fn the_median_follows_a_changed_link_within_half_a_window() {
        let period = ms(100);
        let mut m = Measurements::new(2, period);
        for p in 0..WINDOW_PERIODS {
            m.sent(1, Source::Probe, p, t(p * 100));
            m.answered(1, Source::Probe, p, t(p * 100 + 40));
        }
        for p in WINDOW_PERIODS..WINDOW_PERIODS + WINDOW_PERIODS / 2 + 1 {
            m.sent(1, Source::Probe, p, t(p * 100));
            m.answered(1, Source::Probe, p, t(p * 100 + 200));
        }
        let s = m.summaries(t((WINDOW_PERIODS * 3 / 2 + 1) * 100)).remove(1).unwrap();
        assert_eq!(s.median_ms, 200.0, "{s:?}");
    }

    #[test]
    fn answers_are_matched_to_their_request_by_source_and_key() {
        let mut m = Measurements::new(3, ms(300));
        m.sent(1, Source::Inquiry, 7, t(1_000));
        m.sent(2, Source::Probe, 7, t(1_010));
        assert_eq!(m.answered(1, Source::Probe, 7, t(1_050)), None, "a pong is not the reply to an inquiry");
        assert_eq!(m.answered(2, Source::Probe, 8, t(1_050)), None, "another id");
        assert_eq!(m.answered(1, Source::Inquiry, 7, t(1_040)), Some(ms(40)));
        assert_eq!(m.answered(1, Source::Inquiry, 7, t(1_041)), None, "answered once");
        assert_eq!(m.answered(2, Source::Probe, 7, t(1_070)), Some(ms(60)));
        assert_eq!(m.answered(9, Source::Probe, 7, t(1_070)), None, "no such peer");
        assert_eq!(m.round_trips().get(&Source::Inquiry), Some(&1));
        assert_eq!(m.round_trips().get(&Source::Probe), Some(&1));
        let s = m.summaries(t(1_100));
        assert!(s[0].is_none());
        assert_eq!((s[1].as_ref().unwrap().one_way_ms, s[2].as_ref().unwrap().one_way_ms), (20.0, 30.0));
    }

    #[test]
    fn only_the_latest_requests_await_their_answer() {
        let mut m = Measurements::new(2, ms(300));
        for k in 0..OUTSTANDING as u64 + 2 {
            m.sent(1, Source::Probe, k, t(k));
        }
        assert_eq!(m.answered(1, Source::Probe, 0, t(100)), None, "forgotten");
        assert_eq!(m.answered(1, Source::Probe, 1, t(100)), None, "forgotten");
        assert_eq!(m.answered(1, Source::Probe, 2, t(100)), Some(ms(98)));
    }

    #[test]
    fn a_peer_answering_inquiries_needs_no_probe_for_a_period() {
        let mut m = Measurements::new(3, ms(300));
        assert!(m.wants_probe(1, t(0)) && m.wants_probe(2, t(0)));
        assert!(!m.wants_probe(5, t(0)), "no such peer");
        m.sent(1, Source::Inquiry, 1, t(1_000));
        m.answered(1, Source::Inquiry, 1, t(1_040));
        assert!(!m.wants_probe(1, t(1_300)), "the master answered within the period");
        assert!(!m.wants_probe(1, t(1_640)), "a reply a little late costs no probe");
        assert!(m.wants_probe(1, t(1_641)), "two periods without a reply");
        m.sent(2, Source::Probe, 1, t(1_000));
        m.answered(2, Source::Probe, 1, t(1_040));
        assert!(m.wants_probe(2, t(1_050)), "probes never replace the next probe");
    }

    fn report(id: &str, peers: &[(&str, f64)]) -> DelaysReport {
        let peers = peers
            .iter()
            .map(|(p, rtt)| {
                let mut w = Window::new(4, ms(1_000));
                w.push(t(0), Span((rtt * 1000.0) as u64), Source::Probe);
                (p.to_string(), w.summary(t(0)).unwrap())
            })
            .collect();
        DelaysReport {
            id: id.into(),
            peers,
            method: String::new(),
            period_ms: 300.0,
            uptime_ms: 0.0,
            probes_sent: 0,
            probes_answered: 0,
            round_trips: BTreeMap::new(),
            window_samples: 4,
            window_ms: 1_000.0,
        }
    }

    #[test]
    fn merge_fills_each_pair_from_either_side_and_leaves_unmeasured_pairs_empty() {
        let ids: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let reports = [
            report("a", &[("b", 40.0), ("c", 120.0), ("zz", 5.0)]),
            // b measured a a little slower: the larger is kept.
            report("b", &[("a", 50.0)]),
            // c did not answer; d measured only c.
            report("d", &[("c", 30.0)]),
            report("stranger", &[("a", 1.0)]),
        ];
        let m = merge(&ids, &reports, Statistic::Median);
        let s = Some;
        assert_eq!(
            m.one_way_ms,
            vec![
                vec![s(0.0), s(25.0), s(60.0), None],
                vec![s(25.0), s(0.0), None, None],
                vec![s(60.0), None, s(0.0), s(15.0)],
                vec![None, None, s(15.0), s(0.0)],
            ]
        );
        assert!(!m.is_complete());
        assert_eq!(m.ids, ids);
        let full = merge(&ids[..2], &reports, Statistic::Max);
        assert!(full.is_complete());
        assert_eq!(full.one_way_ms[0][1], Some(25.0));
        assert!(merge(&ids, &[], Statistic::P99).one_way_ms[0][1].is_none());
    }

    #[test]
    fn a_report_reads_back_from_its_json_and_from_the_minimal_shape() {
        let r = report("a", &[("b", 40.0)]);
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<DelaysReport>(&text).unwrap(), r);
        let minimal = r#"{"peers":{"b":{"median_ms":40,"p99_ms":44,"max_ms":50,"samples":3,"one_way_ms":20}}}"#;
        let r: DelaysReport = serde_json::from_str(minimal).unwrap();
        assert_eq!((r.peers["b"].samples, r.peers["b"].one_way_ms), (3, 20.0));
    }
}
