//! `stagger client --nameserver URL --group G QUERY`: asks a name server
//! about a group, or changes its configuration, through [`Remote`]; or
//! uses the group's replicated store through [`crate::kv`] (`get`, `put`,
//! `del`, `cas`, `load`). The
//! membership change by compare-and-swap ([`change_members`]) is also what
//! `stagger ctl add` and `remove` run.

use super::ctl::base_url;
use super::{CliError, ClientQuery};
use crate::kv::{self, Client, KvError, Settings, Spec, Tally};
use crate::names::{NameStore, Remote, StoreError};
use serde_json::json;
use stagger_core::names::{Configuration, NameError, View};
use stagger_core::service::{Answer, Op, Reply};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let base = base_url(nameserver, "--nameserver")?;
    let remote = Remote::new(&base);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| io(nameserver, e))?;
    let (op, json) = match query {
        ClientQuery::Get { key, json } => (Op::Get { key }, json),
        ClientQuery::Put { key, value, json } => (Op::Put { key, value }, json),
        ClientQuery::Del { key, json } => (Op::Delete { key }, json),
        ClientQuery::Cas { key, expected, new, json } => (Op::Cas { key, expected, new }, json),
        ClientQuery::Load { keys, clients, seconds, json, seed, read_ratio } => {
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0) {
                return Err(CliError::Usage(format!("--seconds: more than 0 and at most a day (got {seconds})")));
            }
            let spec = Spec { keys, clients, duration: Duration::from_secs_f64(seconds), seed, read_ratio };
            spec.check().map_err(CliError::Usage)?;
            return runtime.block_on(load(&base, group, &spec, json));
        }
        query => return runtime.block_on(names_query(&remote, nameserver, group, query)),
    };
    runtime.block_on(one(&base, group, op, json))
}

/// One operation on the store through a new client (a fresh id, sequence
/// number 1): its answer, or why there is none (KC5).
async fn one(nameserver: &str, group: &str, op: Op, as_json: bool) -> Result<(), CliError> {
    let tag = kv::load::run_tag();
    let seed = u64::from_str_radix(&tag, 16).unwrap_or(1);
    let mut client = Client::new(&format!("cli-{tag}"), nameserver, group, Instant::now(), seed, Settings::default());
    let key = op.key().to_owned();
    match client.call(op).await.1 {
        Ok(reply) if as_json => println!("{}", json!(reply)),
        Ok(reply) => println!("{}", show(&key, &reply)),
        Err(e @ KvError::Refused(_)) => return Err(CliError::Usage(format!("group {group}: {e}"))),
        Err(e) => return Err(io(&format!("group {group} at {nameserver}"), std::io::Error::other(e.to_string()))),
    }
    Ok(())
}

/// A reply as a person reads it.
fn show(key: &str, reply: &Reply) -> String {
    let v = |v: &Option<String>| v.as_ref().map_or("absent".to_string(), |v| format!("{v:?}"));
    let what = match &reply.answer {
        Answer::Value { value: Some(value) } => value.clone(),
        Answer::Value { value: None } => format!("{key} is absent"),
        Answer::Written { previous } => format!("written; {key} was {}", v(previous)),
        Answer::Swapped { ok: true, current } => format!("swapped; {key} is now {}", v(current)),
        Answer::Swapped { ok: false, current } => format!("not swapped; {key} is {}", v(current)),
    };
    format!("{what}  (epoch {}, index {})", reply.epoch, reply.index)
}

/// `load`: the clients, a progress line on stderr (redrawn in place on a
/// terminal, one a second otherwise), then the summary, and with `--json`
/// the history on stdout.
async fn load(nameserver: &str, group: &str, spec: &Spec, as_json: bool) -> Result<(), CliError> {
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let shown = tally.clone();
    let progress = tokio::spawn(async move {
        let tty = std::io::stderr().is_terminal();
        let mut tick = tokio::time::interval(Duration::from_millis(if tty { 200 } else { 1_000 }));
        tick.tick().await;
        loop {
            tick.tick().await;
            if tty {
                eprint!("\r\x1b[2K{}", shown.line(started.elapsed()));
            } else {
                eprintln!("{}", shown.line(started.elapsed()));
            }
        }
    });
    let history = kv::load::run(nameserver, group, spec, Settings::default(), tally.clone()).await;
    progress.abort();
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    let summary = kv::load::summary(&history, started.elapsed());
    if as_json {
        println!("{}", json!(history));
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
    if !history.events.is_empty() && tally.ok.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        let why = history.events[0].error.clone().unwrap_or_default();
        return Err(io(&format!("group {group} at {nameserver}"), std::io::Error::other(format!("no operation succeeded: {why}"))));
    }
    Ok(())
}

/// The name server queries: the master, or a change of the configuration.
async fn names_query(remote: &Remote, nameserver: &str, group: &str, query: ClientQuery) -> Result<(), CliError> {
    let failed = |e| store_error(nameserver, e);
    {
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
            _ => unreachable!("the store's commands are run above"),
        };
        let config = change_members(remote, nameserver, group, &change, expected, None).await?;
        println!("{}", json!(config));
        Ok(())
    }
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
