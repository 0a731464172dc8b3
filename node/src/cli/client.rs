//! `stagger client --nameserver URL --group G master [--json]`: asks a
//! name server who the group's master is, through [`Remote`].

use super::ctl::base_url;
use super::CliError;
use crate::names::{NameStore, Remote, StoreError};
use serde_json::json;

/// Prints the master, its address and epoch, or that there is none.
pub fn master(nameserver: &str, group: &str, as_json: bool) -> Result<(), CliError> {
    stagger_core::names::check_group(group).map_err(|e| CliError::Usage(format!("--group: {e}")))?;
    let base = base_url(nameserver, "--nameserver")?;
    let io = |source| CliError::Io { path: nameserver.to_string(), source };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(io)?;
    let view = runtime.block_on(Remote::new(&base).lookup(group)).map_err(|e| match e {
        // The name server refused: the question was wrong (an unknown group).
        StoreError::Refused(why) => CliError::Usage(format!("{nameserver} refused: {why}")),
        other => io(std::io::Error::other(other.to_string())),
    })?;
    match (&view.master, as_json) {
        (Some(m), true) => println!("{}", json!({"master": m.member, "addr": m.addr, "epoch": m.epoch})),
        (None, true) => println!("{}", json!({"master": null, "addr": null, "epoch": null})),
        (Some(m), false) => println!("master of {group}: {} at {} under epoch {}", m.member, m.addr, m.epoch),
        (None, false) => println!("group {group} has no master (highest epoch so far: {})", view.highest_epoch),
    }
    Ok(())
}
