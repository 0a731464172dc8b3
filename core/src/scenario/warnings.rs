//! Warnings: a scenario that runs, but not the way its author probably
//! meant.
//!
//! An error stops a scenario; a warning does not, because the run is still
//! well defined and sometimes the point (a slow link that makes a server
//! take over again and again is a lesson too). Like an error, each warning
//! names the field to look at, so the CLI prints it with the field and the
//! playground shows it at the input.

use super::{FaultAction, Scenario};
use crate::params::Algorithm;
use crate::time::{Span, Time};
use std::fmt;

/// Something in a valid scenario that makes its run mislead.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioWarning {
    /// Where to look: `detection.timeout_ms`, `until_ms`.
    pub field: String,
    pub concern: Concern,
}

/// What the run will do that the author may not expect.
#[derive(Clone, Debug, PartialEq)]
pub enum Concern {
    /// The inquiry timeout τ is shorter than the round trip from a server
    /// to a master it will inquire: its inquiries go unanswered in time,
    /// so it takes over again and again.
    SlowRoundTrip {
        timeout: Span,
        /// The server whose inquiries time out, and its master.
        backup: String,
        master: String,
        /// The longest round trip, jitter included.
        round_trip: Span,
        jitter: f64,
        /// How many other (server, master) pairs have the same problem.
        others: usize,
    },
    /// Faults scheduled after the run ends never happen.
    FaultsAfterEnd { until: Time, first: String, at: Time, count: usize },
    /// The run ends less than a stability window after its last fault, so
    /// it cannot show the group stable.
    EndsTooSoon { until: Time, last: String, at: Time, window: Span },
}

impl fmt::Display for ScenarioWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.concern)
    }
}

impl fmt::Display for Concern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Concern::SlowRoundTrip { timeout, backup, master, round_trip, jitter, others } => {
                let with_jitter = if *jitter > 0.0 { format!(" with {}% jitter", jitter * 100.0) } else { String::new() };
                let more = match others {
                    0 => String::new(),
                    1 => " (and 1 more pair)".to_string(),
                    k => format!(" (and {k} more pairs)"),
                };
                write!(
                    f,
                    "τ = {} ms is shorter than the round trip from {backup} to its master {master} (up to {} ms{with_jitter}){more}: \
                     {backup}'s inquiries go unanswered in time, so it takes over again and again; make τ longer than the round trip",
                    timeout.as_ms(),
                    round_trip.as_ms()
                )
            }
            Concern::FaultsAfterEnd { until, first, at, count } => {
                let more = if *count > 1 { format!(" and {} later faults", count - 1) } else { String::new() };
                write!(f, "the run ends at {} ms, before the {first} at {} ms{more}: never applied", until.as_ms(), at.as_ms())
            }
            Concern::EndsTooSoon { until, last, at, window } => write!(
                f,
                "the run ends at {} ms, {} ms after the {last} at {} ms: less than the {} ms the group must stay converged to count as stable",
                until.as_ms(),
                (*until - *at).as_ms(),
                at.as_ms(),
                window.as_ms()
            ),
        }
    }
}

impl Scenario {
    /// What in this scenario makes its run mislead, by field.
    pub fn warnings(&self) -> Vec<ScenarioWarning> {
        let mut out = Vec::new();
        if let Some(w) = self.slow_round_trip() {
            out.push(w);
        }
        let late: Vec<_> = self.faults.iter().filter(|f| f.at > self.until).collect();
        if let Some(first) = late.first() {
            out.push(ScenarioWarning {
                field: "until_ms".into(),
                concern: Concern::FaultsAfterEnd {
                    until: self.until,
                    first: self.describe(&first.action),
                    at: first.at,
                    count: late.len(),
                },
            });
        } else if let Some(last) = self.faults.last() {
            let window = self.stability_window();
            if self.until - last.at < window {
                out.push(ScenarioWarning {
                    field: "until_ms".into(),
                    concern: Concern::EndsTooSoon { until: self.until, last: self.describe(&last.action), at: last.at, window },
                });
            }
        }
        out
    }

    /// "crash of ottawa", for warnings.
    fn describe(&self, action: &FaultAction) -> String {
        let id = |r: &u32| self.ids[*r as usize].as_str();
        match action {
            FaultAction::Crash(r) => format!("crash of {}", id(r)),
            FaultAction::Recover(r) => format!("recovery of {}", id(r)),
            FaultAction::Partition(_) => "partition".into(),
            FaultAction::Cut { from, to } => format!("cut {} → {}", id(from), id(to)),
            FaultAction::Heal => "heal".into(),
            FaultAction::Rerank(_) => "rerank".into(),
        }
    }

    /// τ against the round trip from every live server to the master it
    /// should follow: the best-ranked live server on its side, at the start
    /// and after every fault the run applies.
    fn slow_round_trip(&self) -> Option<ScenarioWarning> {
        if self.algorithm != Algorithm::Stagger {
            return None;
        }
        let n = self.len();
        let delays = self.actual_us.as_ref().unwrap_or(&self.delays_us);
        let tau = self.params.timeout.0;
        let mut up = vec![true; n];
        let mut ranking = self.ranking.clone();
        // The side of each row: 0 for everyone unless partitioned.
        let mut side = vec![0usize; n];
        let mut slow: Vec<(u64, u32, u32)> = Vec::new();
        let mut check = |up: &[bool], ranking: &[u32], side: &[usize]| {
            let mut master_of_side: std::collections::HashMap<usize, u32> = std::collections::HashMap::new();
            for &r in ranking {
                if up[r as usize] {
                    master_of_side.entry(side[r as usize]).or_insert(r);
                }
            }
            for j in 0..n {
                let Some(&m) = master_of_side.get(&side[j]) else { continue };
                if !up[j] || m as usize == j {
                    continue;
                }
                let rtt = delays[j][m as usize] + delays[m as usize][j];
                let worst = (rtt as f64 * (1.0 + self.jitter)).round() as u64;
                if worst > tau && !slow.iter().any(|(_, b, mm)| *b == j as u32 && *mm == m) {
                    slow.push((worst, j as u32, m));
                }
            }
        };
        check(&up, &ranking, &side);
        for f in self.faults.iter().filter(|f| f.at <= self.until) {
            match &f.action {
                FaultAction::Crash(r) => up[*r as usize] = false,
                FaultAction::Recover(r) => up[*r as usize] = true,
                FaultAction::Partition(groups) => {
                    // Unlisted rows stand alone, each on a side of its own.
                    side = (1..=n).map(|k| groups.len() + k).collect();
                    for (g, rows) in groups.iter().enumerate() {
                        for r in rows {
                            side[*r as usize] = g;
                        }
                    }
                }
                FaultAction::Heal => side = vec![0; n],
                FaultAction::Rerank(rows) => ranking = rows.clone(),
                FaultAction::Cut { .. } => {}
            }
            check(&up, &ranking, &side);
        }
        // The worst pair is named; ties go to the first found.
        let worst = slow.iter().copied().enumerate().max_by_key(|(i, (w, _, _))| (*w, std::cmp::Reverse(*i)))?.1;
        Some(ScenarioWarning {
            field: "detection.timeout_ms".into(),
            concern: Concern::SlowRoundTrip {
                timeout: self.params.timeout,
                backup: self.ids[worst.1 as usize].clone(),
                master: self.ids[worst.2 as usize].clone(),
                round_trip: Span(worst.0),
                jitter: self.jitter,
                others: slow.len() - 1,
            },
        })
    }
}
