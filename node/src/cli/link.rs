//! `stagger ctl --node URL --token T link A B --ms X [--one-way]`: changes
//! the emulated delay of the link between members A and B of a running
//! group (both directions, or only A → B), like turmoil's
//! `set_link_latency`, so a loopback group can be shown drifting away from
//! its delay matrix (docs/protocol.md E1–E3).
//!
//! Each node delays only its own sends, so the change is made at A's node
//! and, for both directions, at B's: `ctl` reads their addresses from the
//! `--node`'s `/api/group`, asks each of them to check the change first
//! (`dry_run`), and only when every one agrees asks them to make it.

use super::ctl::{answer, call};
use super::CliError;
use crate::live::check_ms;
use reqwest::Method;
use serde_json::{json, Value};

/// What `ctl link` was given on the command line.
pub struct LinkArgs {
    pub a: Option<String>,
    pub b: Option<String>,
    pub ms: Option<String>,
    pub one_way: bool,
}

pub fn run(node: &str, token: &str, args: LinkArgs) -> Result<(), CliError> {
    let usage = "stagger ctl --node URL --token T link A B --ms X [--one-way]";
    let (Some(a), Some(b)) = (args.a, args.b) else {
        return Err(CliError::Usage(format!("link needs two members: {usage}")));
    };
    let Some(ms) = args.ms else { return Err(CliError::Usage(format!("link needs the delay: {usage}"))) };
    let ms: f64 = ms.trim().parse().map_err(|_| CliError::Usage(format!("--ms must be a number of milliseconds, not '{ms}'")))?;
    check_ms(ms).map_err(|why| CliError::Usage(format!("--{why}")))?;
    let (status, group) = call(node, token, Method::GET, "/api/group", None)?;
    let group: Value = serde_json::from_str(answer(node, status, &group)?)
        .map_err(|e| CliError::Io { path: node.to_string(), source: std::io::Error::other(format!("/api/group: {e}")) })?;
    let members = group["members"].as_array().cloned().unwrap_or_default();
    let address = |id: &str| -> Result<String, CliError> {
        let Some(m) = members.iter().find(|m| m["id"] == id) else {
            let ids: Vec<&str> = members.iter().filter_map(|m| m["id"].as_str()).collect();
            return Err(CliError::Usage(format!("'{id}' is not a member of {node}'s group (its members: {})", ids.join(", "))));
        };
        m["addr"].as_str().map(|a| format!("http://{a}")).ok_or_else(|| {
            CliError::Usage(format!(
                "'{id}' is a browser member: its sends are not delayed by a node (change only the other direction, with --one-way from the native end)"
            ))
        })
    };
    let senders = if args.one_way { vec![a.clone()] } else { vec![a.clone(), b.clone()] };
    let nodes: Vec<(String, String)> = senders.iter().map(|id| Ok((id.clone(), address(id)?))).collect::<Result<_, CliError>>()?;
    let request = |dry_run: bool| json!({"from": a, "to": b, "ms": ms, "both": !args.one_way, "dry_run": dry_run});
    for dry_run in [true, false] {
        let mut answers = serde_json::Map::new();
        for (id, url) in &nodes {
            let changed = (call(url, token, Method::POST, "/api/admin/link", Some(&request(dry_run))))
                .and_then(|(status, body)| answer(url, status, &body).map(str::to_string));
            // Every node agreed to the change a moment ago, so this is a node
            // that stopped in between: say which ends were changed already.
            let body = match changed {
                Err(e) if !dry_run && !answers.is_empty() => {
                    let done: Vec<&String> = answers.keys().collect();
                    let also = format!("(the change was made at {done:?}'s node, not at {id}'s)");
                    return Err(match e {
                        CliError::Io { path, source } => CliError::Io { path, source: std::io::Error::other(format!("{source} {also}")) },
                        other => CliError::Usage(format!("{other} {also}")),
                    });
                }
                other => other?,
            };
            let body = body.as_str();
            answers.insert(id.clone(), serde_json::from_str(body).unwrap_or(Value::String(body.to_string())));
        }
        if !dry_run {
            println!("{}", Value::Object(answers));
        }
    }
    Ok(())
}
