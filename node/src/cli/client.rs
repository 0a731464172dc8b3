//! `stagger client --nameserver URL --group G master [--json]`: asks a
//! name server who the group's master is.

use super::ctl::{base_url, root_cause};
use super::CliError;
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

/// How long a name server may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Prints the master, its address and epoch, or that there is none.
pub fn master(nameserver: &str, group: &str, as_json: bool) -> Result<(), CliError> {
    stagger_core::names::check_group(group).map_err(|e| CliError::Usage(format!("--group: {e}")))?;
    let base = base_url(nameserver, "--nameserver")?;
    let failed = |why: String| CliError::Io { path: nameserver.to_string(), source: std::io::Error::other(why) };
    let client = Client::builder().timeout(TIMEOUT).build().map_err(|e| failed(format!("cannot start an HTTP client: {e}")))?;
    let response = client
        .get(format!("{base}/v1/groups/{group}"))
        .send()
        .map_err(|e| failed(format!("cannot reach the name server: {}", root_cause(&e))))?;
    let status = response.status();
    let body = response.text().map_err(|e| failed(format!("the name server's answer was cut short: {}", root_cause(&e))))?;
    let value: Value = serde_json::from_str(&body)
        .map_err(|_| failed(format!("the name server answered {status} with something that is not JSON: {}", body.trim())))?;
    if status != StatusCode::OK {
        let reason = value["reason"].as_str().unwrap_or(body.trim());
        return Err(CliError::Usage(format!("{nameserver} answered {status}: {reason}")));
    }
    let master = &value["master"];
    let (id, addr, epoch) = (&master["member"], &master["addr"], &master["epoch"]);
    if as_json {
        let out = if master.is_null() {
            json!({"master": null, "addr": null, "epoch": null})
        } else {
            json!({"master": id, "addr": addr, "epoch": epoch})
        };
        println!("{out}");
    } else if master.is_null() {
        println!("group {group} has no master (highest epoch so far: {})", value["highest_epoch"]);
    } else {
        println!("master of {group}: {} at {} under epoch {epoch}", id.as_str().unwrap_or("?"), addr.as_str().unwrap_or("?"));
    }
    Ok(())
}
