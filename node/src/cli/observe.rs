//! What `stagger delays --node` and `stagger ctl predict` learn about a
//! running group over HTTP: its group (`/api/group`), each native member's
//! status (`/api/status`) and measured delays (`/api/delays`). The
//! computations on what they learn are stagger_core's (`measured`,
//! `delays`, `twin`); this file only asks.

use super::ctl::{base_url, root_cause};
use super::CliError;
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::Value;
use stagger_core::measured::{self, Measured, Statistic};
use stagger_core::ScenarioFile;
use std::time::Duration;

/// How long one member may take to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A running group as its members describe it.
pub struct Observed {
    /// The group's scenario part, as configured.
    pub file: ScenarioFile,
    /// Member ids in `servers` order.
    pub ids: Vec<String>,
    /// Each member's `/api/status`, `None` when it did not answer (down, or a
    /// browser member, which has no address).
    pub statuses: Vec<Option<Value>>,
    /// The `/api/delays` answers, by member id.
    pub answers: Vec<(String, Value)>,
    /// The members that did not answer `/api/delays` although they answered
    /// `/api/status` (a node without delay measurement).
    pub no_delays: Vec<String>,
}

/// One GET, its JSON, or an error naming `url`; `Ok(None)` for a 404.
fn get(client: &Client, url: &str) -> Result<Option<Value>, String> {
    let response = client.get(url).send().map_err(|e| format!("{url}: {}", root_cause(&e)))?;
    if response.status() == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let text = response.text().map_err(|e| format!("{url}: {}", root_cause(&e)))?;
    serde_json::from_str(&text).map(Some).map_err(|e| format!("{url}: not JSON: {e}"))
}

/// Asks the node at `node` for its group, then every native member for its
/// status and delays.
pub fn observe(node: &str) -> Result<Observed, CliError> {
    let base = base_url(node, "--node")?;
    let failed = |why: String| CliError::Io { path: node.to_string(), source: std::io::Error::other(why) };
    let client = Client::builder().timeout(TIMEOUT).build().map_err(|e| failed(format!("cannot start an HTTP client: {e}")))?;
    let group = get(&client, &format!("{base}/api/group"))
        .map_err(|why| failed(format!("cannot read the group: {why}")))?
        .ok_or_else(|| failed("no /api/group here: is it a stagger node?".into()))?;
    let file: ScenarioFile =
        serde_json::from_value(group["scenario"].clone()).map_err(|e| failed(format!("/api/group: the scenario does not parse: {e}")))?;
    let mut ids = Vec::new();
    let (mut statuses, mut answers, mut no_delays) = (Vec::new(), Vec::new(), Vec::new());
    for m in group["members"].as_array().into_iter().flatten() {
        let id = m["id"].as_str().unwrap_or_default().to_string();
        ids.push(id.clone());
        let Some(addr) = m["addr"].as_str() else {
            statuses.push(None);
            continue;
        };
        let at = format!("http://{addr}");
        let status = get(&client, &format!("{at}/api/status")).ok().flatten();
        if status.is_some() {
            match get(&client, &format!("{at}/api/delays")) {
                Ok(Some(answer)) => answers.push((id.clone(), answer)),
                _ => no_delays.push(id.clone()),
            }
        }
        statuses.push(status);
    }
    Ok(Observed { file, ids, statuses, answers, no_delays })
}

impl Observed {
    /// The merged measured matrix, `None` when no member measures.
    pub fn measured(&self, stat: Statistic) -> Result<Option<Measured>, CliError> {
        if self.answers.is_empty() {
            return Ok(None);
        }
        let m = measured::merge_answers(&self.ids, &self.answers, stat).map_err(|e| CliError::Usage(format!("/api/delays: {e}")))?;
        Ok(Some(m))
    }

    /// The master, as the first member that is up and names one reports it.
    pub fn master(&self) -> Option<String> {
        let up = |s: &&Value| s["up"].as_bool() == Some(true);
        self.statuses.iter().flatten().filter(up).find_map(|s| s["master"].as_str().map(String::from))
    }

    /// The members not running now (`twin::down_in`).
    pub fn down(&self) -> Vec<String> {
        stagger_core::twin::down_in(&self.ids, &self.statuses)
    }

    /// The ranking the group runs now (`twin::ranking_in`); `None`: the file's.
    pub fn ranking(&self) -> Option<Vec<String>> {
        stagger_core::twin::ranking_in(&self.statuses)
    }
}
