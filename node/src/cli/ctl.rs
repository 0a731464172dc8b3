//! `stagger ctl --node URL --token T crash|recover|isolate|heal|status`: a
//! client for a node's admin API.

use super::CliError;
use reqwest::blocking::Client;
use reqwest::{Method, StatusCode};
use std::time::Duration;

/// How long a node may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(node: &str, token: &str, action: &str) -> Result<(), CliError> {
    let (method, path) = match action {
        "status" => (Method::GET, "/api/status".to_string()),
        "crash" | "recover" | "isolate" | "heal" => (Method::POST, format!("/api/admin/{action}")),
        other => return Err(CliError::Usage(format!("unknown action '{other}': use crash, recover, isolate, heal or status"))),
    };
    let base = base_url(node, "--node")?;
    let failed = |why: String| CliError::Io { path: node.to_string(), source: std::io::Error::other(why) };
    let client = Client::builder().timeout(TIMEOUT).build().map_err(|e| failed(format!("cannot start an HTTP client: {e}")))?;
    let response = (client.request(method, format!("{base}{path}")).bearer_auth(token).send())
        .map_err(|e| failed(format!("cannot reach the node: {}", root_cause(&e))))?;
    let status = response.status();
    let body = response.text().map_err(|e| failed(format!("the node's answer was cut short: {}", root_cause(&e))))?;
    let body = body.trim();
    match status {
        StatusCode::OK => {
            println!("{body}");
            Ok(())
        }
        StatusCode::FORBIDDEN => Err(CliError::Usage(format!(
            "{node} refused the action: {body} (pass the node's --admin-token as --token or STAGGER_ADMIN_TOKEN)"
        ))),
        _ => Err(CliError::Usage(format!("{node} answered {status}: {body}"))),
    }
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
