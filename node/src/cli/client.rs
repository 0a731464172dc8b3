//! `stagger client --nameserver URL --group G QUERY`: asks a name server
//! about a group, or changes its configuration, through [`Remote`].

use super::ctl::base_url;
use super::{CliError, ClientQuery};
use crate::names::{NameStore, Remote, StoreError};
use serde_json::json;
use stagger_core::names::View;

pub fn run(nameserver: &str, group: &str, query: ClientQuery) -> Result<(), CliError> {
    stagger_core::names::check_group(group).map_err(|e| CliError::Usage(format!("--group: {e}")))?;
    let remote = Remote::new(&base_url(nameserver, "--nameserver")?);
    let io = |source| CliError::Io { path: nameserver.to_string(), source };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(io)?;
    let failed = |e: StoreError| match e {
        // The name server refused: the request was wrong (an unknown
        // group, a member already there, a configuration changed meanwhile).
        StoreError::Refused(why) => CliError::Usage(format!("{nameserver} refused: {why}")),
        other => io(std::io::Error::other(other.to_string())),
    };
    runtime.block_on(async {
        let (id, add) = match query {
            ClientQuery::Master { json } => {
                print_master(group, &remote.lookup(group).await.map_err(failed)?, json);
                return Ok(());
            }
            ClientQuery::Create { members } => {
                let config = remote.reconfigure(group, 0, members).await.map_err(failed)?;
                println!("{}", json!(config));
                return Ok(());
            }
            ClientQuery::AddMember { id } => (id, true),
            ClientQuery::RemoveMember { id } => (id, false),
        };
        let config = remote.lookup(group).await.map_err(failed)?.config;
        let mut next = config.members.clone();
        match (add, next.iter().position(|m| *m == id)) {
            (true, Some(_)) => return Err(CliError::Usage(format!("'{id}' is already a member of {group}"))),
            (true, None) => next.push(id),
            (false, None) => return Err(CliError::Usage(format!("'{id}' is not a member of {group}"))),
            (false, Some(i)) => {
                next.remove(i);
            }
        }
        let config = remote.reconfigure(group, config.version, next).await.map_err(failed)?;
        println!("{}", json!(config));
        Ok(())
    })
}

/// The master, its address and epoch, or that there is none.
fn print_master(group: &str, view: &View, as_json: bool) {
    match (&view.master, as_json) {
        (Some(m), true) => println!("{}", json!({"master": m.member, "addr": m.addr, "epoch": m.epoch})),
        (None, true) => println!("{}", json!({"master": null, "addr": null, "epoch": null})),
        (Some(m), false) => println!("master of {group}: {} at {} under epoch {}", m.member, m.addr, m.epoch),
        (None, false) => println!("group {group} has no master (highest epoch so far: {})", view.highest_epoch),
    }
}
