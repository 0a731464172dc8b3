//! The group's configuration, followed live (docs/protocol.md N20–N24):
//! each node of a group with a name server watches the group there and, on
//! every new configuration version, re-ranks its engine (R1–R3), connects
//! to the members that joined, drops the ones that left, and stops taking
//! part itself when it left.
//!
//! The engine keeps one row per server of the group file (a re-rank never
//! changes its size); a configuration chooses which of them are members and
//! in which order they rank. Servers outside it rank last, their engines are
//! down, and no member keeps a connection to them, so to the others they
//! are members that never answer and never claim. A server's address comes
//! from the group file: a server that may join later is listed there as a
//! spare (`"spare": true`).

use super::Node;
use crate::names::{Event, NameStore, Remote, StoreError, Watcher};
use crate::runtime::EngineCommand;
use serde::Serialize;
use stagger_core::names::{ChangeKind, Configuration, NameError};
use stagger_core::RankTable;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait before watching again after the name server could not
/// be reached, or did not know the group yet.
const RETRY: Duration = Duration::from_millis(250);

/// The configuration a node runs.
#[derive(Clone, Debug)]
pub struct Membership {
    /// The name server's configuration version; 0 until the node has read
    /// one (it runs the group file's initial configuration meanwhile).
    pub version: u64,
    /// The configuration's members, as the name server lists them.
    pub members: Vec<String>,
    /// The engine's ranking for it (`Group::table_for`).
    pub table: Arc<RankTable>,
    /// By row: whether the server is a member.
    member: Vec<bool>,
}

impl Membership {
    /// The group file's initial configuration: every server but the spares.
    pub fn initial(group: &crate::group::Group) -> Membership {
        let members = group.initial_members();
        let (table, member, _) = group.table_for(&members, 1);
        Membership { version: 0, members, table, member }
    }

    pub fn is_member(&self, row: u32) -> bool {
        self.member.get(row as usize).copied().unwrap_or(false)
    }

    /// How many servers of the group file are members.
    pub fn count(&self) -> usize {
        self.member.iter().filter(|m| **m).count()
    }
}

/// What `/api/status` shows of the configuration.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigReport {
    /// The name server's configuration version (0: not read yet).
    pub version: u64,
    pub members: Vec<String>,
    /// Whether this node is one of them.
    pub member: bool,
}

impl Node {
    /// The configuration this node runs now.
    pub(super) fn membership(&self) -> Arc<Membership> {
        self.membership.borrow().clone()
    }

    pub(super) fn config_report(&self) -> ConfigReport {
        let m = self.membership();
        ConfigReport { version: m.version, members: m.members.clone(), member: m.is_member(self.me) }
    }

    /// Runs `config` if it is newer than the one this node runs: the engine
    /// first (so that a message passed on under the new version reaches it
    /// re-ranked), then the mesh, whose dialers and sessions follow the
    /// membership.
    fn apply(&self, config: &Configuration) {
        let current = self.membership();
        if config.version <= current.version {
            return;
        }
        let Ok(ranking_version) = u32::try_from(config.ranking_version) else {
            return self.log(format!("ignored configuration version {}: its ranking version is too large", config.version));
        };
        let (table, member, unknown) = self.group.table_for(&config.members, ranking_version);
        if !unknown.is_empty() {
            self.log(format!("warning: the group file has no address for {unknown:?}; they are left out of the ranking"));
        }
        let me = member[self.me as usize];
        let left: Vec<bool> = (0..member.len()).map(|r| current.is_member(r as u32) && !member[r]).collect();
        let _ = self.engine.commands.send(EngineCommand::Reconfigure { table: table.clone(), member: me });
        self.log(format!(
            "configuration version {} (ranking version {ranking_version}): members {}{}",
            config.version,
            config.members.join(", "),
            if me { "" } else { "; this node is not one of them" }
        ));
        self.membership.send_replace(Arc::new(Membership { version: config.version, members: config.members.clone(), table, member }));
        self.notify_engine();
        // The replica keeps running outside the configuration: the master
        // brings it back by state transfer, over a new connection to every
        // server that just left it (all of them if this one did; KN11).
        self.service.configured(config.version, config.members.clone());
        let me_left = left[self.me as usize];
        crate::service::reconnect(self, |row| me_left || left[row as usize]);
    }
}

/// Follows the group's configuration at the name server `url` until the
/// node shuts down: a watch (which starts with the whole state), resumed
/// after the last change seen whenever it breaks.
pub async fn follow(node: Arc<Node>, url: String) {
    let store = Remote::new(&url);
    let group = node.group.scenario.name.clone();
    let mut stop = node.shutdown.clone();
    let mut after = None;
    let mut complained = false;
    loop {
        let broke = match store.watch(&group, after).await {
            Ok(mut watcher) => loop {
                let event = tokio::select! {
                    e = watcher.next() => e,
                    _ = stop.wait_for(|s| *s) => return,
                };
                match event {
                    Ok(Event::Resync(view)) => {
                        node.apply(&view.config);
                        after = Some(view.seq);
                    }
                    Ok(Event::Change(change)) => {
                        if let ChangeKind::Reconfigured { config } = &change.what {
                            node.apply(config);
                        }
                        after = Some(change.seq);
                    }
                    Err(e) => break e,
                }
                complained = false;
            },
            Err(e) => e,
        };
        // The group not created yet is the normal case at start.
        let quiet = matches!(broke, StoreError::Refused(NameError::UnknownGroup { .. }));
        if !quiet && !complained {
            node.log(format!("watching the configuration at {url}: {broke}; trying again"));
            complained = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
