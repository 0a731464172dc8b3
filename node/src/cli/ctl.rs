//! `stagger ctl --node URL --token T crash|recover|isolate|heal|status`: a
//! client for a node's admin API (`link.rs` has `ctl link`); and `stagger ctl --node URL add|remove ID`,
//! which changes the node's group's configuration at the group's name server
//! (the node says which name server and which servers the group file lists;
//! the running nodes then follow the new configuration).

use super::client::{change_members, MemberChange};
use super::CliError;
use reqwest::blocking::Client;
use reqwest::{Method, StatusCode};
use std::time::Duration;

/// How long a node may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(node: &str, token: &str, action: &str, member: Option<String>, expect_version: Option<u64>) -> Result<(), CliError> {
    let change = match (action, member) {
        ("add", Some(id)) => Some(MemberChange::Add(id)),
        ("remove", Some(id)) => Some(MemberChange::Remove(id)),
        ("add" | "remove", None) => {
            return Err(CliError::Usage(format!("{action} needs the member's id: stagger ctl --node URL {action} ID")))
        }
        (_, Some(id)) => return Err(CliError::Usage(format!("unexpected '{id}': only add and remove take a member"))),
        (_, None) => None,
    };
    let (method, path) = match action {
        _ if change.is_some() => (Method::GET, "/api/group".to_string()),
        _ if expect_version.is_some() => return Err(CliError::Usage("--expect-version goes with add or remove".into())),
        "status" => (Method::GET, "/api/status".to_string()),
        "predict" => return predict(node),
        "crash" | "recover" | "isolate" | "heal" => (Method::POST, format!("/api/admin/{action}")),
        other => {
            return Err(CliError::Usage(format!(
                "unknown action '{other}': use crash, recover, isolate, heal, status, add, remove, link or predict"
            )))
        }
    };
    let (status, body) = call(node, token, method, &path, None)?;
    let body = body.trim();
    if let (Some(change), StatusCode::OK) = (&change, status) {
        return reconfigure(node, body, change, expect_version);
    }
    println!("{}", answer(node, status, body)?);
    Ok(())
}

/// One request to the node at `node` (a `--node` value), with the admin
/// token and, if given, a JSON body: the status and the body of the answer.
pub(super) fn call(
    node: &str,
    token: &str,
    method: Method,
    path: &str,
    json: Option<&serde_json::Value>,
) -> Result<(StatusCode, String), CliError> {
    let base = base_url(node, "--node")?;
    let failed = |why: String| CliError::Io { path: node.to_string(), source: std::io::Error::other(why) };
    let client = Client::builder().timeout(TIMEOUT).build().map_err(|e| failed(format!("cannot start an HTTP client: {e}")))?;
    let mut request = client.request(method, format!("{base}{path}")).bearer_auth(token);
    if let Some(json) = json {
        request = request.json(json);
    }
    let response = request.send().map_err(|e| failed(format!("cannot reach the node: {}", root_cause(&e))))?;
    let status = response.status();
    let body = response.text().map_err(|e| failed(format!("the node's answer was cut short: {}", root_cause(&e))))?;
    Ok((status, body))
}

/// The body of a node's `200 OK`, or its refusal as the user's error (a
/// wrong token says where the right one goes).
pub(super) fn answer<'a>(node: &str, status: StatusCode, body: &'a str) -> Result<&'a str, CliError> {
    let body = body.trim();
    match status {
        StatusCode::OK => Ok(body),
        StatusCode::FORBIDDEN => Err(CliError::Usage(format!(
            "{node} refused the action: {body} (pass the node's --admin-token as --token or STAGGER_ADMIN_TOKEN)"
        ))),
        _ => Err(CliError::Usage(format!("{node} answered {status}: {body}"))),
    }
}

/// `add` or `remove`: with the group the node answered at `/api/group`,
/// the change at its name server (a compare-and-swap, `change_members`).
fn reconfigure(node: &str, group: &str, change: &MemberChange, expect_version: Option<u64>) -> Result<(), CliError> {
    let group: serde_json::Value = serde_json::from_str(group)
        .map_err(|e| CliError::Io { path: node.to_string(), source: std::io::Error::other(format!("/api/group: {e}")) })?;
    let Some(nameserver) = group["nameserver"]["url"].as_str() else {
        return Err(CliError::Usage(format!(
            "{node}'s group has no name server: its members are the group file's (name one with \"nameserver\" to change them while it runs)"
        )));
    };
    let name = group["scenario"]["name"].as_str().unwrap_or_default();
    let known: Vec<String> =
        (group["members"].as_array().into_iter().flatten()).filter_map(|m| m["id"].as_str().map(String::from)).collect();
    let remote = crate::names::Remote::new(nameserver);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io { path: nameserver.to_string(), source })?;
    let config = runtime.block_on(change_members(&remote, nameserver, name, change, expect_version, Some(&known)))?;
    println!("{}", serde_json::json!(config));
    Ok(())
}

/// `predict`: the group as its members describe it (super::observe), made
/// into a digital twin whose master crashes now (stagger_core::twin), run in
/// the simulator; prints the forecast as JSON.
fn predict(node: &str) -> Result<(), CliError> {
    use stagger_core::{measured, twin};
    let observed = super::observe::observe(node)?;
    let master = observed.master().ok_or_else(|| CliError::Usage(format!("{node}'s group has no master now: nothing to fail over")))?;
    let m = observed.measured(measured::Statistic::P99)?;
    let configured = observed.file.validate().map_err(|source| CliError::Scenario { path: node.to_string(), source })?;
    let configured_ms: Vec<Vec<f64>> = configured.delays_us.iter().map(|r| r.iter().map(|&d| d as f64 / 1000.0).collect()).collect();
    let filled = m.as_ref().map(|m| measured::fill(&observed.ids, &configured_ms, m));
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1000.0;
    let input = twin::TwinInput {
        file: observed.file.clone(),
        ranking: observed.ranking(),
        down: observed.down(),
        measured_ms: filled.as_ref().map(|(m, _)| m.clone()),
        master: master.clone(),
        now_ms,
    };
    let p = twin::predict(&input).map_err(|e| CliError::Usage(format!("{node}: cannot predict: {e}")))?;
    let mut out = serde_json::to_value(&p).expect("a prediction serializes");
    out["master"] = master.into();
    out["down"] = input.down.into();
    out["matrix"] = if filled.is_some() { "measured" } else { "configured" }.into();
    out["filled_from_configured"] = serde_json::json!(filled.map(|(_, pairs)| pairs).unwrap_or_default());
    out["no_delays"] = observed.no_delays.into();
    println!("{out}");
    Ok(())
}

/// `http://HOST:PORT` from the option `flag` (`--node`, `--nameserver`),
/// which may leave out `http://`.
pub(super) fn base_url(node: &str, flag: &str) -> Result<String, CliError> {
    let bad = || CliError::Usage(format!("{flag} must look like http://HOST:PORT, not {node}"));
    let with_scheme = if node.contains("://") { node.to_string() } else { format!("http://{node}") };
    let url = reqwest::Url::parse(&with_scheme).map_err(|_| bad())?;
    if url.scheme() != "http" || url.host_str().is_none() || !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err(bad());
    }
    Ok(with_scheme.trim_end_matches('/').to_string())
}

/// The innermost error: what actually went wrong ("Connection refused"),
/// under reqwest's "error sending request for url".
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_url_is_http_host_and_port() {
        assert_eq!(base_url("http://127.0.0.1:7001", "--node").unwrap(), "http://127.0.0.1:7001");
        assert_eq!(base_url("http://127.0.0.1:7001/", "--node").unwrap(), "http://127.0.0.1:7001");
        assert_eq!(base_url("127.0.0.1:7001", "--node").unwrap(), "http://127.0.0.1:7001");
        assert_eq!(base_url("http://[::1]:7001", "--node").unwrap(), "http://[::1]:7001");
        for bad in ["https://127.0.0.1:7001", "http://127.0.0.1:7001/api", "http://", "ftp://x:1", "http://x:1/?a=b"] {
            let e = base_url(bad, "--node").unwrap_err().to_string();
            assert!(e.contains("--node must look like http://HOST:PORT"), "{bad}: {e}");
        }
    }
}
