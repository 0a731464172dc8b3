//! `stagger client --nameserver URL --group G QUERY`: asks a name server
//! about a group, or changes its configuration, through [`Remote`]. The
//! membership change by compare-and-swap ([`change_members`]) is also what
//! `stagger ctl add` and `remove` run.

use super::ctl::base_url;
use super::{CliError, ClientQuery};
use crate::names::{NameStore, Remote, StoreError};
use serde_json::json;
use stagger_core::names::{Configuration, NameError, View};

/// How many times a membership change reads the configuration and tries
/// its compare-and-swap when someone else changes it in between.
const ATTEMPTS: u32 = 5;

/// A membership change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum MemberChange {
    /// Append a member: it ranks last.
    Add(String),
    Remove(String),
}

pub fn run(nameserver: &str, group: &str, query: ClientQuery) -> Result<(), CliError> {
    stagger_core::names::check_group(group).map_err(|e| CliError::Usage(format!("--group: {e}")))?;
    let remote = Remote::new(&base_url(nameserver, "--nameserver")?);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| io(nameserver, e))?;
    let failed = |e| store_error(nameserver, e);
    runtime.block_on(async {
        let (change, expected) = match query {
            ClientQuery::Master { json } => {
                print_master(group, &remote.lookup(group).await.map_err(failed)?, json);
                return Ok(());
            }
            ClientQuery::Create { members } => {
                let config = remote.reconfigure(group, 0, members).await.map_err(failed)?;
                println!("{}", json!(config));
                return Ok(());
            }
            ClientQuery::AddMember { id, expect_version } => (MemberChange::Add(id), expect_version),
            ClientQuery::RemoveMember { id, expect_version } => (MemberChange::Remove(id), expect_version),
        };
        let config = change_members(&remote, nameserver, group, &change, expected, None).await?;
        println!("{}", json!(config));
        Ok(())
    })
}

/// Adds or removes a member of `group` at the name server `nameserver`
/// (docs/protocol.md N24): reads the configuration, checks the change
/// against it, and writes it by compare-and-swap on the version read, or on
/// `expected` when given (then a conflict is reported, not retried).
/// Refused with a reason, writing nothing: adding a member already there or
/// one outside `known` (the group file's servers, when the caller has
/// them), removing one that is not there, or the last one.
pub(super) async fn change_members<S: NameStore>(
    remote: &S,
    nameserver: &str,
    group: &str,
    change: &MemberChange,
    expected: Option<u64>,
    known: Option<&[String]>,
) -> Result<Configuration, CliError> {
    if let (MemberChange::Add(id), Some(known)) = (change, known) {
        if !known.contains(id) {
            return Err(CliError::Usage(format!(
                "'{id}' is not a server of the group file, so the nodes have no address for it: list it there with \"spare\": true"
            )));
        }
    }
    let mut attempt = 1;
    loop {
        let config = remote.lookup(group).await.map_err(|e| store_error(nameserver, e))?.config;
        if let Some(v) = expected.filter(|v| *v != config.version) {
            return Err(store_error(nameserver, StoreError::Refused(NameError::VersionMismatch { expected: v, current: config.version })));
        }
        let mut next = config.members.clone();
        let at = config.version;
        match (change, next.iter().position(|m| m == change.id())) {
            (MemberChange::Add(id), Some(_)) => {
                return Err(CliError::Usage(format!("'{id}' is already a member of {group} (configuration version {at})")))
            }
            (MemberChange::Add(id), None) => next.push(id.clone()),
            (MemberChange::Remove(id), None) => {
                return Err(CliError::Usage(format!("'{id}' is not a member of {group} (configuration version {at})")))
            }
            (MemberChange::Remove(id), Some(_)) if next.len() == 1 => {
                return Err(CliError::Usage(format!("'{id}' is the last member of {group}; a group needs at least one member")))
            }
            (MemberChange::Remove(_), Some(i)) => {
                next.remove(i);
            }
        }
        match remote.reconfigure(group, at, next).await {
            Err(StoreError::Refused(NameError::VersionMismatch { .. })) if expected.is_none() && attempt < ATTEMPTS => attempt += 1,
            done => return done.map_err(|e| store_error(nameserver, e)),
        }
    }
}

impl MemberChange {
    fn id(&self) -> &str {
        match self {
            MemberChange::Add(id) | MemberChange::Remove(id) => id,
        }
    }
}

/// A name server's answer as a command's error: a refusal is the request's
/// fault (an unknown group, a configuration changed meanwhile), anything
/// else the name server's or the network's.
pub(super) fn store_error(nameserver: &str, e: StoreError) -> CliError {
    match e {
        StoreError::Refused(why) => CliError::Usage(format!("{nameserver} refused: {why}")),
        other => io(nameserver, std::io::Error::other(other.to_string())),
    }
}

fn io(nameserver: &str, source: std::io::Error) -> CliError {
    CliError::Io { path: nameserver.to_string(), source }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{Embedded, EmbeddedWatcher};
    use stagger_core::names::{Feed, Grant, Limits, Register};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// An embedded store where another writer changes the configuration
    /// (adds `rival-N`) just before each of the first `races` writes.
    #[derive(Clone)]
    struct Racing {
        inner: Embedded,
        races: Arc<AtomicU32>,
    }

    impl NameStore for Racing {
        async fn register(&self, group: &str, req: Register) -> Result<Grant, StoreError> {
            self.inner.register(group, req).await
        }
        async fn renew(&self, group: &str, epoch: u64) -> Result<Grant, StoreError> {
            self.inner.renew(group, epoch).await
        }
        async fn resign(&self, group: &str, epoch: u64) -> Result<(), StoreError> {
            self.inner.resign(group, epoch).await
        }
        async fn reconfigure(&self, group: &str, expected: u64, members: Vec<String>) -> Result<Configuration, StoreError> {
            let left = self.races.load(Ordering::SeqCst);
            if left > 0 {
                self.races.store(left - 1, Ordering::SeqCst);
                let mut rival = self.inner.lookup(group).await?.config;
                rival.members.push(format!("rival-{left}"));
                self.inner.reconfigure(group, rival.version, rival.members).await?;
            }
            self.inner.reconfigure(group, expected, members).await
        }
        async fn lookup(&self, group: &str) -> Result<View, StoreError> {
            self.inner.lookup(group).await
        }
        async fn changes(&self, group: &str, after: u64) -> Result<Feed, StoreError> {
            self.inner.changes(group, after).await
        }
        type Watcher = EmbeddedWatcher;
        async fn watch(&self, group: &str, after: Option<u64>) -> Result<EmbeddedWatcher, StoreError> {
            self.inner.watch(group, after).await
        }
    }

    async fn racing(races: u32) -> (Racing, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Racing { inner: Embedded::open(dir.path(), Limits::default()).unwrap(), races: Arc::new(AtomicU32::new(races)) };
        store.inner.reconfigure("g", 0, vec!["a".into()]).await.unwrap();
        (store, dir)
    }

    #[tokio::test]
    async fn a_concurrent_change_is_retried_on_a_fresh_read_and_never_overwritten() {
        let (store, _dir) = racing(2).await;
        let config = change_members(&store, "ns", "g", &MemberChange::Add("b".into()), None, None).await.unwrap();
        assert_eq!(config.members, ["a", "rival-2", "rival-1", "b"], "both rivals' changes are kept");
        assert_eq!(config.version, 4);
    }

    #[tokio::test]
    async fn a_concurrent_change_is_reported_with_an_expected_version_or_after_every_attempt() {
        let (store, _dir) = racing(1).await;
        let e = change_members(&store, "ns", "g", &MemberChange::Add("b".into()), Some(1), None).await.unwrap_err();
        assert!(matches!(e, CliError::Usage(_)) && e.to_string().contains("configuration version 1 expected, the current one is 2"), "{e}");
        let (store, _dir) = racing(ATTEMPTS).await;
        let e = change_members(&store, "ns", "g", &MemberChange::Add("b".into()), None, None).await.unwrap_err();
        assert!(e.to_string().starts_with("ns refused: configuration version"), "{e}");
        assert_eq!(store.lookup("g").await.unwrap().config.members.len(), 1 + ATTEMPTS as usize, "only the rivals wrote");
    }
}
