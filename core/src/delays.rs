//! `δ_j`, `D_i` and predicted winners: what `stagger delays` prints and the
//! playground's delay table shows.
//!
//! The prediction assumes what the integral scheme is designed for:
//! synchronous detection, so every survivor enters the election at the same
//! instant, and no jitter. It then says who declares first, and whether that
//! declaration reaches every other survivor before its own timer expires
//! (the *slack*). Negative slack means a contested election.
//!
//! The timers always come from the configured matrix (what the servers
//! compute `δ` from); the transmission may come from another one, the
//! measured matrix ([`report_against`]), which is how `stagger delays
//! --measured` and `--node` tell whether the network has drifted past the
//! timers.

use crate::params::Scheme;
use crate::scenario::Scenario;
use crate::time::Span;
use serde::Serialize;

/// One rank's delays.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RankDelay {
    pub index: u32,
    pub id: String,
    /// `δ_j`, guard included (0 for `j = 0` and under non-integral schemes).
    pub delta_ms: f64,
    /// `D_i` by the formula; `None` under the randomized scheme.
    pub d_ms: Option<f64>,
}

/// Who wins when the top `down` ranks are down.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub down: u32,
    /// The first survivor whose election timer expires.
    pub first: String,
    pub first_index: u32,
    /// The master after any contest: the lowest surviving index.
    pub winner: String,
    pub winner_index: u32,
    /// `D` of the first declarer, after entering the election.
    pub declares_after_ms: f64,
    /// `min_j (D_j − D_first − C[first][j])` over the other survivors; `None`
    /// when there are no others.
    pub slack_ms: Option<f64>,
    /// True when the first declaration reaches every survivor in time: one
    /// broadcast, no Revoke.
    pub clean: bool,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DelayReport {
    pub name: String,
    pub scheme: &'static str,
    pub ranks: Vec<RankDelay>,
    /// Empty under the randomized scheme, whose delays are drawn at run time.
    pub predictions: Vec<Prediction>,
    /// One line per contested prediction: "a failover of X now would be
    /// contested", X the master whose failure it is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `D_i` for every index under the scenario's initial ranking, or `None`
/// for the randomized scheme.
pub fn election_delays(scenario: &Scenario) -> Option<Vec<Span>> {
    let table = scenario.rank_table();
    let n = scenario.len() as u32;
    match scenario.params.scheme {
        Scheme::Equal { delay } => Some(vec![delay; n as usize]),
        Scheme::Integral { base } => Some((0..n).map(|i| base + table.prefix(i)).collect()),
        Scheme::Randomized { .. } => None,
    }
}

/// The report with the configured matrix for both timers and transmission.
pub fn report(scenario: &Scenario) -> DelayReport {
    report_against(scenario, &scenario.delays_us)
}

/// The report with the timers of the configured matrix and the
/// transmission of `transmission_us` (µs by row, like `delays_us`).
pub fn report_against(scenario: &Scenario, transmission_us: &[Vec<u64>]) -> DelayReport {
    let table = scenario.rank_table();
    let n = scenario.len() as u32;
    let d = election_delays(scenario);
    let integral = matches!(scenario.params.scheme, Scheme::Integral { .. });
    let id = |i: u32| scenario.ids[table.row(i) as usize].clone();
    let ranks = (0..n)
        .map(|i| RankDelay {
            index: i,
            id: id(i),
            delta_ms: if integral { table.delta(i).as_ms() } else { 0.0 },
            d_ms: d.as_ref().map(|d| d[i as usize].as_ms()),
        })
        .collect();
    let mut predictions = Vec::new();
    if let Some(d) = &d {
        for down in 1..n {
            // The earliest expiry; equal delays go to the lower index, which
            // armed its timer first.
            let first = (down..n).min_by_key(|&i| (d[i as usize], i)).expect("at least one survivor");
            let from = table.row(first) as usize;
            let slack = (down..n)
                .filter(|&j| j != first)
                .map(|j| {
                    let arrive = d[first as usize].0 + transmission_us[from][table.row(j) as usize];
                    d[j as usize].0 as i64 - arrive as i64
                })
                .min();
            predictions.push(Prediction {
                down,
                first: id(first),
                first_index: first,
                winner: id(down),
                winner_index: down,
                declares_after_ms: d[first as usize].as_ms(),
                slack_ms: slack.map(|s| s as f64 / 1000.0),
                clean: first == down && slack.is_none_or(|s| s >= 0),
            });
        }
    }
    let warnings =
        (predictions.iter().filter(|p| !p.clean)).map(|p| format!("a failover of {} now would be contested", id(p.down - 1))).collect();
    DelayReport { name: scenario.name.clone(), scheme: scenario.params.scheme.name(), ranks, predictions, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

    #[test]
    fn patent_delays() {
        let r = report(&Scenario::from_json(PATENT).unwrap());
        let d: Vec<f64> = r.ranks.iter().map(|x| x.d_ms.unwrap()).collect();
        assert_eq!(d, vec![50.0, 50.0, 170.0, 250.0, 305.0]);
        let delta: Vec<f64> = r.ranks.iter().map(|x| x.delta_ms).collect();
        assert_eq!(delta, vec![0.0, 120.0, 80.0, 55.0, 0.0]);
        // Ottawa down: Atlanta first, and Bangalore's timer ties with the
        // arrival (slack 0), which the delivery wins.
        let p = &r.predictions[0];
        assert_eq!((p.first.as_str(), p.winner.as_str()), ("atlanta", "atlanta"));
        assert_eq!(p.slack_ms, Some(0.0));
        assert!(p.clean);
        assert_eq!(r.predictions.len(), 4);
        assert_eq!(r.predictions[3].slack_ms, None);
    }

    #[test]
    fn equal_timers_are_contested() {
        let mut f = crate::ScenarioFile::from_json(PATENT).unwrap();
        f.timer = Some(crate::scenario::TimerEntry::scheme(crate::scenario::SchemeName::Equal).delay(50.0));
        let r = report(&f.validate().unwrap());
        assert!(r.predictions.iter().take(3).all(|p| !p.clean));
        assert_eq!(r.predictions[0].winner, "atlanta");
        assert!(r.warnings.contains(&"a failover of ottawa now would be contested".to_string()), "{:?}", r.warnings);
    }

    #[test]
    fn a_measured_matrix_above_the_configured_one_makes_slack_negative() {
        let s = Scenario::from_json(PATENT).unwrap();
        assert!(report(&s).warnings.is_empty());
        // The network is 50 % slower than the matrix the timers were set from.
        let slower: Vec<Vec<u64>> = s.delays_us.iter().map(|row| row.iter().map(|d| d * 3 / 2).collect()).collect();
        let r = report_against(&s, &slower);
        let p = &r.predictions[0];
        assert!(p.slack_ms.unwrap() < 0.0 && !p.clean, "{p:?}");
        assert_eq!(p.winner, "atlanta");
        assert!(r.warnings.contains(&"a failover of ottawa now would be contested".to_string()), "{:?}", r.warnings);
        // The timers did not move: only the transmission did.
        assert_eq!(r.ranks, report(&s).ranks);
    }
}
