//! From a [`ScenarioFile`] to the [`Scenario`] the simulator runs.
//!
//! Everything is checked here, once, so the engine and simulator can assume
//! a well-formed group. The playground calls the same function, so an error
//! shown inline at a field is word for word the CLI's.

use super::error::{Problem, ScenarioError};
use super::fault::{FaultActionEntry, FaultKind, RerankEntry};
use super::file::*;
use super::service::Service;
use crate::params::{Algorithm, BullyParams, Params, RaftParams, Scheme};
use crate::ranking::RankTable;
use crate::sim::{detection_ticks, Budget};
use crate::time::{ms_to_us, Span, Time};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The length of a run whose file does not say (SPEC §7).
const DEFAULT_UNTIL_MS: f64 = 12_000.0;

/// A validated scenario. Server rows follow the file's `servers` order.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    /// Ids by row.
    pub ids: Vec<String>,
    /// Attributes by row.
    pub attrs: Vec<BTreeMap<String, f64>>,
    /// The initial ranking: the row of each index.
    pub ranking: Vec<u32>,
    /// `C[j][k]` by row, in µs: what the servers believe.
    pub delays_us: Vec<Vec<u64>>,
    /// What the network does, when it differs from `delays_us`.
    pub actual_us: Option<Vec<Vec<u64>>>,
    pub params: Params,
    /// The election algorithm; `params` is the staggered timer's.
    pub algorithm: Algorithm,
    /// `P_i` by row.
    pub periods: Vec<Span>,
    pub phase: PhaseMode,
    pub jitter: f64,
    pub loss: f64,
    /// Faults in the order they apply: by time, then file order.
    pub faults: Vec<Fault>,
    pub seed: u64,
    pub until: Time,
    /// How much the run may do: `max_events` and the memory limit.
    pub budget: Budget,
    /// Clients writing to the replicated store, when the file asks for them.
    pub service: Option<Service>,
}

/// A validated fault.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub at: Time,
    /// Its position in the file's `faults` list.
    pub source: usize,
    pub action: FaultAction,
}

/// What a fault does; servers are rows.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    Crash(u32),
    Recover(u32),
    /// Disjoint groups of rows; unlisted rows stand alone.
    Partition(Vec<Vec<u32>>),
    Cut {
        from: u32,
        to: u32,
    },
    Heal,
    /// The new ranking, rows by index.
    Rerank(Vec<u32>),
}

impl Scenario {
    /// Parses and validates JSON text.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        ScenarioFile::from_json(text)?.validate()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The row of a server id.
    pub fn row_of(&self, id: &str) -> Option<u32> {
        self.ids.iter().position(|x| x == id).map(|r| r as u32)
    }

    /// The initial [`RankTable`], version 1.
    pub fn rank_table(&self) -> Arc<RankTable> {
        Arc::new(RankTable::new(1, self.ranking.clone(), &self.delays_us, self.params.guard))
    }

    /// The reference time of SPEC §8: the earliest crash, or 0.
    pub fn reference(&self) -> Time {
        self.crash_at().unwrap_or(Time::ZERO)
    }

    pub fn crash_at(&self) -> Option<Time> {
        self.faults.iter().filter(|f| matches!(f.action, FaultAction::Crash(_))).map(|f| f.at).min()
    }
}

impl ScenarioFile {
    /// Parses JSON text, naming the field of any syntax or type error.
    pub fn from_json(text: &str) -> Result<ScenarioFile, ScenarioError> {
        serde_json::from_str(text).map_err(|e| super::error::from_json_error(text, e))
    }

    /// Checks every rule of SPEC §7.
    pub fn validate(&self) -> Result<Scenario, ScenarioError> {
        let err = |field: String, p: Problem| Err(ScenarioError::new(field, p));
        let n = self.servers.len();
        if n < 2 {
            return err("servers".into(), Problem::BadNumber(format!("a group needs at least 2 servers, got {n}")));
        }
        let mut ids = Vec::with_capacity(n);
        let mut row_of: HashMap<&str, u32> = HashMap::new();
        for (r, s) in self.servers.iter().enumerate() {
            let field = format!("servers[{r}].id");
            check_id(&s.id).map_err(|m| ScenarioError::new(field.clone(), Problem::BadId(m)))?;
            if row_of.insert(s.id.as_str(), r as u32).is_some() {
                return err(field, Problem::Duplicate(s.id.clone()));
            }
            for (k, v) in &s.attrs {
                if !v.is_finite() {
                    return err(format!("servers[{r}].attrs.{k}"), Problem::BadNumber("must be a finite number".into()));
                }
            }
            ids.push(s.id.clone());
        }
        let resolve = |field: String, id: &str| -> Result<u32, ScenarioError> {
            row_of.get(id).copied().ok_or_else(|| ScenarioError::new(field, Problem::UnknownId(id.to_string())))
        };

        let delays_us = matrix_us("delays_ms", &self.delays_ms, n)?;
        let actual_us = self.actual_delays_ms.as_ref().map(|m| matrix_us("actual_delays_ms", m, n)).transpose()?;

        let attrs: Vec<BTreeMap<String, f64>> = self.servers.iter().map(|s| s.attrs.clone()).collect();
        let ranking = match (&self.ranking, &self.rank_by) {
            (Some(_), Some(_)) => return err("rank_by".into(), Problem::Conflict("give either `ranking` or `rank_by`, not both")),
            (None, None) => return err("ranking".into(), Problem::Missing("give `ranking` (a list of ids) or `rank_by` (an attribute)")),
            (Some(list), None) => explicit_ranking("ranking", list, &row_of, n)?,
            (None, Some(attr)) => rank_by_attr("rank_by", attr, &ids, &attrs)?,
        };

        let params = self.params()?;
        let (periods, phase) = self.detection(n, params.timeout)?;

        let net = self.network.clone().unwrap_or(NetworkEntry { jitter: None, loss: None });
        let jitter = net.jitter.unwrap_or(0.0);
        if !(0.0..1.0).contains(&jitter) {
            return err("network.jitter".into(), Problem::OutOfRange { value: jitter.to_string(), range: "[0, 1)" });
        }
        let loss = net.loss.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&loss) {
            return err("network.loss".into(), Problem::OutOfRange { value: loss.to_string(), range: "[0, 1]" });
        }

        let until_ms = self.until_ms.unwrap_or(DEFAULT_UNTIL_MS);
        let until = ms_to_us(until_ms).map(Time).ok_or_else(|| {
            ScenarioError::new("until_ms", Problem::BadNumber(format!("{until_ms} must be a non-negative number of milliseconds")))
        })?;

        let faults = self.faults(&row_of, &resolve, &ids, &attrs, n)?;
        let algorithm = self.algorithm(&params, &periods, &faults)?;
        let budget = self.budget(&algorithm, &periods, &faults, until)?;
        let longest = actual_us.as_ref().unwrap_or(&delays_us).iter().flatten().copied().max().unwrap_or(0);
        let service = self.service.as_ref().map(|s| s.validate(Span(longest))).transpose()?;

        Ok(Scenario {
            name: self.name.clone().unwrap_or_else(|| "untitled".into()),
            description: self.description.clone(),
            ids,
            attrs,
            ranking,
            delays_us,
            actual_us,
            params,
            algorithm,
            periods,
            phase,
            jitter,
            loss,
            faults,
            seed: self.seed.unwrap_or(42),
            until,
            budget,
            service,
        })
    }

    /// The run's budget, and the refusal of a run that could not finish
    /// within it: the detection ticks of a staggered-timer run are known
    /// before it starts ([`detection_ticks`]). The field named is the one
    /// to change: the period when even the default length of run is too
    /// much for it, `until_ms` otherwise. Other algorithms' runs are only
    /// stopped at the budget.
    fn budget(&self, algorithm: &Algorithm, periods: &[Span], faults: &[Fault], until: Time) -> Result<Budget, ScenarioError> {
        let mut budget = Budget::default();
        if let Some(max) = self.max_events {
            if max == 0 {
                return Err(ScenarioError::new("max_events", Problem::OutOfRange { value: "0".into(), range: "[1, ∞)" }));
            }
            budget.max_events = max;
        }
        if *algorithm != Algorithm::Stagger {
            return Ok(budget);
        }
        let ticks = detection_ticks(periods, faults, until);
        if ticks <= budget.max_events {
            return Ok(budget);
        }
        let usual = Time(DEFAULT_UNTIL_MS as u64 * 1000).min(until);
        let field = if detection_ticks(periods, faults, usual) > budget.max_events { "detection.period_ms" } else { "until_ms" };
        Err(ScenarioError::new(field, Problem::OverBudget { events: ticks, max_events: budget.max_events }))
    }

    fn params(&self) -> Result<Params, ScenarioError> {
        let mut p = Params::default();
        if let Some(t) = &self.timer {
            let ms = |field: &str, v: Option<f64>, default: Option<f64>| -> Result<Span, ScenarioError> {
                let f = format!("timer.{field}");
                let v = v.or(default).ok_or_else(|| ScenarioError::new(f.clone(), Problem::Missing("this scheme needs it")))?;
                ms_to_us(v)
                    .map(Span)
                    .ok_or_else(|| ScenarioError::new(f, Problem::BadNumber(format!("{v} must be a non-negative number of milliseconds"))))
            };
            let not_for = |field: &str, present: bool| -> Result<(), ScenarioError> {
                if present {
                    let scheme = t.scheme.name();
                    return Err(ScenarioError::new(
                        format!("timer.{field}"),
                        Problem::NotApplicable(format!("not used by the {scheme} scheme")),
                    ));
                }
                Ok(())
            };
            p.scheme = match t.scheme {
                SchemeName::Integral => {
                    not_for("delay_ms", t.delay_ms.is_some())?;
                    not_for("min_ms", t.min_ms.is_some())?;
                    not_for("max_ms", t.max_ms.is_some())?;
                    Scheme::Integral { base: ms("base_ms", t.base_ms, Some(50.0))? }
                }
                SchemeName::Equal => {
                    not_for("base_ms", t.base_ms.is_some())?;
                    not_for("min_ms", t.min_ms.is_some())?;
                    not_for("max_ms", t.max_ms.is_some())?;
                    Scheme::Equal { delay: ms("delay_ms", t.delay_ms, None)? }
                }
                SchemeName::Randomized => {
                    not_for("base_ms", t.base_ms.is_some())?;
                    not_for("delay_ms", t.delay_ms.is_some())?;
                    let min = ms("min_ms", t.min_ms, None)?;
                    let max = ms("max_ms", t.max_ms, None)?;
                    if max < min {
                        return Err(ScenarioError::new(
                            "timer.max_ms",
                            Problem::OutOfRange { value: format!("{}", max.as_ms()), range: "[min_ms, ∞)" },
                        ));
                    }
                    Scheme::Randomized { min, max }
                }
            };
            p.guard = ms("guard_ms", t.guard_ms, Some(0.0))?;
            p.skip_known_dead = t.skip_known_dead.unwrap_or(false);
        }
        if let Some(d) = &self.detection {
            if let Some(t) = d.timeout_ms {
                p.timeout = ms_to_us(t).map(Span).ok_or_else(|| {
                    ScenarioError::new(
                        "detection.timeout_ms",
                        Problem::BadNumber(format!("{t} must be a non-negative number of milliseconds")),
                    )
                })?;
            }
            if let Some(m) = d.misses {
                if m == 0 {
                    return Err(ScenarioError::new("detection.misses", Problem::OutOfRange { value: "0".into(), range: "[1, ∞)" }));
                }
                p.misses = m;
            }
        }
        p.claim = self.claim.unwrap_or_default();
        p.announce_every = self.announce_every.unwrap_or(0);
        p.known_functional = self.known_functional.unwrap_or(false);
        Ok(p)
    }

    /// The algorithm and its settings. A `raft` or `bully` block is kept
    /// (and checked) when another algorithm is chosen, so switching back and
    /// forth in the playground loses nothing.
    fn algorithm(&self, p: &Params, periods: &[Span], faults: &[Fault]) -> Result<Algorithm, ScenarioError> {
        let ms = |field: &str, v: Option<f64>, default: Span| -> Result<Span, ScenarioError> {
            match v {
                None => Ok(default),
                Some(v) => ms_to_us(v).map(Span).ok_or_else(|| {
                    ScenarioError::new(field, Problem::BadNumber(format!("{v} must be a non-negative number of milliseconds")))
                }),
            }
        };
        let positive = |field: &str, v: Option<f64>| -> Result<Option<Span>, ScenarioError> {
            match v {
                None => Ok(None),
                Some(v) => ms_to_us(v)
                    .filter(|us| *us > 0)
                    .map(|us| Some(Span(us)))
                    .ok_or_else(|| ScenarioError::new(field, Problem::BadNumber(format!("{v} must be a positive number of milliseconds")))),
            }
        };
        // The detection budget the defaults spend: the longest period plus τ.
        let period = periods.iter().copied().max().unwrap_or(Span::ZERO);
        let tau = p.timeout;
        let raft = {
            let r = self.raft.clone().unwrap_or_default();
            let election_min = ms("raft.election_min_ms", r.election_min_ms, period + tau)?;
            let election_max = ms("raft.election_max_ms", r.election_max_ms, election_min + tau)?;
            if election_max < election_min {
                return Err(ScenarioError::new(
                    "raft.election_max_ms",
                    Problem::OutOfRange { value: format!("{}", election_max.as_ms()), range: "[election_min_ms, ∞)" },
                ));
            }
            let heartbeat = positive("raft.heartbeat_ms", r.heartbeat_ms)?;
            let beat = heartbeat.unwrap_or(period);
            if beat >= election_min {
                return Err(ScenarioError::new(
                    if r.heartbeat_ms.is_some() { "raft.heartbeat_ms" } else { "raft.election_min_ms" },
                    Problem::BadNumber(format!(
                        "the heartbeat interval ({} ms) must be shorter than the shortest election timeout ({} ms), or followers time out under a live leader",
                        beat.as_ms(),
                        election_min.as_ms()
                    )),
                ));
            }
            RaftParams {
                election_min,
                election_max,
                heartbeat,
                prevote: r.prevote.unwrap_or(false),
                check_quorum: r.check_quorum.unwrap_or(false),
                persist: ms("raft.persist_ms", r.persist_ms, Span::ZERO)?,
            }
        };
        let bully = {
            let b = self.bully.clone().unwrap_or_default();
            let heartbeat = positive("bully.heartbeat_ms", b.heartbeat_ms)?;
            let timeout = positive("bully.timeout_ms", b.timeout_ms)?;
            let beat = heartbeat.unwrap_or(period);
            if let Some(t) = timeout.filter(|t| *t <= beat) {
                return Err(ScenarioError::new(
                    "bully.timeout_ms",
                    Problem::BadNumber(format!(
                        "the silence timeout ({} ms) must be longer than the heartbeat interval ({} ms)",
                        t.as_ms(),
                        beat.as_ms()
                    )),
                ));
            }
            BullyParams {
                heartbeat,
                timeout,
                answer_wait: ms("bully.answer_wait_ms", b.answer_wait_ms, tau)?,
                coordinator_wait: ms("bully.coordinator_wait_ms", b.coordinator_wait_ms, tau + tau)?,
            }
        };
        let algorithm = match self.algorithm.unwrap_or(AlgorithmName::Stagger) {
            AlgorithmName::Stagger => return Ok(Algorithm::Stagger),
            AlgorithmName::Raft => Algorithm::Raft(raft),
            AlgorithmName::Bully => Algorithm::Bully(bully),
        };
        // What only the staggered timer has.
        let name = algorithm.name();
        if let Some(f) = faults.iter().find(|f| matches!(f.action, FaultAction::Rerank(_))) {
            return Err(ScenarioError::new(
                format!("faults[{}].rerank", f.source),
                Problem::NotApplicable(format!("a rerank changes the staggered timer's ranking; the {name} algorithm has none to change")),
            ));
        }
        if p.known_functional {
            return Err(ScenarioError::new(
                "known_functional",
                Problem::NotApplicable(format!("the functional table belongs to the staggered timer, not to the {name} algorithm")),
            ));
        }
        Ok(algorithm)
    }

    fn detection(&self, n: usize, timeout: Span) -> Result<(Vec<Span>, PhaseMode), ScenarioError> {
        let d = self.detection.as_ref();
        let periods_ms: Vec<(String, f64)> = match d.and_then(|d| d.period_ms.clone()) {
            None => vec![("detection.period_ms".into(), 500.0); n],
            Some(Periods::Equal(p)) => vec![("detection.period_ms".into(), p); n],
            Some(Periods::PerServer(list)) => {
                if list.len() != n {
                    return Err(ScenarioError::new(
                        "detection.period_ms",
                        Problem::BadNumber(format!("a list of periods needs one per server: got {} for {n} servers", list.len())),
                    ));
                }
                list.into_iter().enumerate().map(|(i, p)| (format!("detection.period_ms[{i}]"), p)).collect()
            }
        };
        let mut periods = Vec::with_capacity(n);
        for (field, p) in periods_ms {
            let us = ms_to_us(p).filter(|us| *us > 0).ok_or_else(|| {
                ScenarioError::new(field.clone(), Problem::BadNumber(format!("period {p} must be a positive number of milliseconds")))
            })?;
            if timeout.0 >= us {
                return Err(ScenarioError::new(
                    "detection.timeout_ms",
                    Problem::TimeoutNotBelowPeriod { timeout_ms: format!("{}", timeout.as_ms()), period_ms: format!("{p}") },
                ));
            }
            periods.push(Span(us));
        }
        Ok((periods, d.and_then(|d| d.phase).unwrap_or_default()))
    }

    fn faults(
        &self,
        row_of: &HashMap<&str, u32>,
        resolve: &dyn Fn(String, &str) -> Result<u32, ScenarioError>,
        ids: &[String],
        attrs: &[BTreeMap<String, f64>],
        n: usize,
    ) -> Result<Vec<Fault>, ScenarioError> {
        let mut out = Vec::with_capacity(self.faults.len());
        let mut attrs = attrs.to_vec();
        let mut ats = Vec::with_capacity(self.faults.len());
        for (i, f) in self.faults.iter().enumerate() {
            ats.push(ms_to_us(f.at_ms).map(Time).ok_or_else(|| {
                ScenarioError::new(
                    format!("faults[{i}].at_ms"),
                    Problem::BadNumber(format!("{} must be a non-negative number of milliseconds", f.at_ms)),
                )
            })?);
        }
        // In the order they apply: by time, equal instants in file order
        // (SPEC §6). A rerank's attribute changes then hold from its instant
        // on, wherever the file lists it (docs/protocol.md R8).
        let mut order: Vec<usize> = (0..self.faults.len()).collect();
        order.sort_by_key(|i| ats[*i]);
        for i in order {
            let (f, at) = (&self.faults[i], ats[i]);
            // The action's own field: `faults[i].crash`, `faults[i].cut`, …
            let key = format!("faults[{i}].{}", f.action.kind().name());
            let action = match &f.action {
                FaultActionEntry::Crash(id) => FaultAction::Crash(resolve(key, id)?),
                FaultActionEntry::Recover(id) => FaultAction::Recover(resolve(key, id)?),
                FaultActionEntry::Partition(groups) => {
                    let mut seen = vec![false; n];
                    let mut rows = Vec::with_capacity(groups.len());
                    for (g, group) in groups.iter().enumerate() {
                        let mut rs = Vec::with_capacity(group.len());
                        for (k, id) in group.iter().enumerate() {
                            let field = format!("{key}[{g}][{k}]");
                            let r = resolve(field.clone(), id)?;
                            if std::mem::replace(&mut seen[r as usize], true) {
                                return Err(ScenarioError::new(field, Problem::Duplicate(id.clone())));
                            }
                            rs.push(r);
                        }
                        rows.push(rs);
                    }
                    FaultAction::Partition(rows)
                }
                FaultActionEntry::Cut([from, to]) => {
                    let from_r = resolve(format!("{key}[0]"), from)?;
                    let to_r = resolve(format!("{key}[1]"), to)?;
                    if from_r == to_r {
                        return Err(ScenarioError::new(key, Problem::BadFault("a cut needs two different servers".into())));
                    }
                    FaultAction::Cut { from: from_r, to: to_r }
                }
                FaultActionEntry::Heal => FaultAction::Heal,
                FaultActionEntry::Rerank(RerankEntry::Order(list)) => FaultAction::Rerank(explicit_ranking(&key, list, row_of, n)?),
                FaultActionEntry::Rerank(RerankEntry::Criterion(by)) => {
                    for (id, changes) in &by.attrs {
                        let row = resolve(format!("{key}.attrs.{id}"), id)?;
                        for (k, v) in changes {
                            attrs[row as usize].insert(k.clone(), *v);
                        }
                    }
                    FaultAction::Rerank(rank_by_attr(&format!("{key}.rank_by"), &by.rank_by, ids, &attrs)?)
                }
            };
            out.push(Fault { at, source: i, action });
        }
        // Crash and recover must alternate per server.
        let mut up = vec![true; n];
        for f in &out {
            let (row, want_up, verb) = match f.action {
                FaultAction::Crash(r) => (r, true, FaultKind::Crash.name()),
                FaultAction::Recover(r) => (r, false, FaultKind::Recover.name()),
                _ => continue,
            };
            if up[row as usize] != want_up {
                let state = if want_up { "already down" } else { "already up" };
                return Err(ScenarioError::new(
                    format!("faults[{}].{verb}", f.source),
                    Problem::BadFault(format!("server '{}' is {state} at {} ms", ids[row as usize], f.at.as_ms())),
                ));
            }
            up[row as usize] = !want_up;
        }
        Ok(out)
    }
}

/// A square matrix of one-way delays in ms, as µs, checked entry by entry.
fn matrix_us(name: &str, m: &[Vec<f64>], n: usize) -> Result<Vec<Vec<u64>>, ScenarioError> {
    if m.len() != n {
        return Err(ScenarioError::new(
            name,
            Problem::BadNumber(format!("the delay matrix must have one row per server: got {} rows for {n} servers", m.len())),
        ));
    }
    let mut rows = Vec::with_capacity(n);
    for (j, row) in m.iter().enumerate() {
        if row.len() != n {
            return Err(ScenarioError::new(format!("{name}[{j}]"), Problem::NotSquare { len: row.len(), want: n }));
        }
        let mut out = Vec::with_capacity(n);
        for (k, &ms) in row.iter().enumerate() {
            let field = format!("{name}[{j}][{k}]");
            let us = ms_to_us(ms).ok_or_else(|| {
                ScenarioError::new(field.clone(), Problem::BadNumber(format!("delay {ms} must be a non-negative number of milliseconds")))
            })?;
            if j == k && us != 0 {
                return Err(ScenarioError::new(field, Problem::NonZeroDiagonal));
            }
            out.push(us);
        }
        rows.push(out);
    }
    Ok(rows)
}

/// Ids are short names used in URLs, traces and file names.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 {
        return Err(format!("id '{id}' must be 1 to 64 characters long"));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(format!("id '{id}' may only contain letters, digits, '-', '_' and '.'"));
    }
    Ok(())
}

fn explicit_ranking(field: &str, list: &[String], row_of: &HashMap<&str, u32>, n: usize) -> Result<Vec<u32>, ScenarioError> {
    let mut seen = vec![false; n];
    let mut rows = Vec::with_capacity(n);
    for (i, id) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let r = *row_of.get(id.as_str()).ok_or_else(|| ScenarioError::new(f.clone(), Problem::UnknownId(id.clone())))?;
        if std::mem::replace(&mut seen[r as usize], true) {
            return Err(ScenarioError::new(f, Problem::Duplicate(id.clone())));
        }
        rows.push(r);
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        let id = row_of.iter().find(|(_, r)| **r as usize == missing).map(|(id, _)| id.to_string()).unwrap_or_default();
        return Err(ScenarioError::new(field, Problem::Omitted(id)));
    }
    Ok(rows)
}

/// [0049]–[0050]: highest value first; ties to the lexicographically lower id.
fn rank_by_attr(field: &str, attr: &str, ids: &[String], attrs: &[BTreeMap<String, f64>]) -> Result<Vec<u32>, ScenarioError> {
    let mut rows: Vec<(u32, f64)> = Vec::with_capacity(ids.len());
    for (r, a) in attrs.iter().enumerate() {
        let v =
            *a.get(attr).ok_or_else(|| ScenarioError::new(field, Problem::MissingAttr { id: ids[r].clone(), attr: attr.to_string() }))?;
        rows.push((r as u32, v));
    }
    rows.sort_by(|(ra, va), (rb, vb)| vb.total_cmp(va).then_with(|| ids[*ra as usize].cmp(&ids[*rb as usize])));
    Ok(rows.into_iter().map(|(r, _)| r).collect())
}
