//! A node's side of the name server (docs/protocol.md N2, N6, N7): when
//! the engine makes this node Master (act 850, or 950 after a won
//! contest), it registers, renews its lease a third of the ttl after each
//! granted send, and acts as master for clients only until its send time +
//! ttl − margin. When the name server says its epoch is stale or its lease
//! expired, it stops acting for clients and, while still Master, registers
//! again only once nobody else is registered. When it stops being Master it
//! resigns. While it holds a lease it also watches the group, so that a
//! takeover by another member fences it at once rather than at its next
//! renewal (N16).

use super::Node;
use crate::names::{Event, NameStore, Remote, RemoteWatcher, StoreError, Watcher};
use crate::runtime::is_master;
use serde::Serialize;
use stagger_core::names::{ChangeKind, HeldLease, NameError, Register};
use stagger_core::{Span, Time};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The lease a master asks for. Long enough that renewals every third of
/// it survive a slow name server; short enough that a crashed master that
/// nobody replaces stops being named within a couple of seconds.
pub const TTL: Span = Span(2_000_000);

/// How long to wait before trying again after the name server could not be
/// reached or refused a registration, while still Master.
const RETRY: Duration = Duration::from_millis(250);

/// What `/api/status` shows of the registration.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegistrationReport {
    /// The epoch of the last registration granted to this node.
    pub epoch: Option<u64>,
    /// Whether this node acts as master for clients now (N6, N7): worked
    /// out from `until` when the report is made, so a process that was
    /// paused never reports a lease it has already lost.
    pub serving: bool,
    /// When the lease is lost on this node's clock (send time + ttl −
    /// margin); `None` without one.
    #[serde(skip)]
    pub until: Option<Instant>,
    /// Why the last request failed, if it did.
    pub last_error: Option<String>,
}

/// Runs until the node shuts down.
pub async fn run(node: Arc<Node>, url: String) {
    let store = Remote::new(&url);
    let group = node.group.scenario.name.clone();
    let members = node.group.initial_members();
    // The first node to reach the name server creates the group; for the
    // others it exists. Until one reaches it, nobody can register anyway.
    let mut stop = node.shutdown.clone();
    loop {
        match store.reconfigure(&group, 0, members.clone()).await {
            Ok(_) => node.log(format!("name server {url}: created group {group}")),
            Err(StoreError::Refused(NameError::VersionMismatch { .. })) => {}
            Err(e @ StoreError::Refused(_)) => node.log(format!("name server {url}: {e}")),
            Err(e) => {
                node.set_registration(|r| r.last_error = Some(e.to_string()));
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = stopped(&mut stop) => return,
                }
            }
        }
        break;
    }
    let mut status = node.engine.status.clone();
    let start = Instant::now();
    let clock = move || Time(start.elapsed().as_micros() as u64);
    // Set when the name server fenced this node's epoch while the engine
    // kept it Master; cleared when it stops being Master.
    let mut fenced = false;
    loop {
        // Wait to be Master.
        while !is_master(status.borrow_and_update().role) {
            fenced = false;
            tokio::select! {
                changed = status.changed() => if changed.is_err() { return },
                _ = stopped(&mut stop) => return,
            }
        }
        let st = status.borrow().clone();
        if !node.hears_majority() {
            // The minority side of a partition (or an isolated node whose
            // engine elected itself): registering would direct clients to
            // it and fence the majority's master.
            node.set_registration(|r| r.last_error = Some("not registering: this node does not hear a majority of its group".into()));
            tokio::select! {
                _ = tokio::time::sleep(RETRY) => continue,
                _ = stopped(&mut stop) => return,
            }
        }
        if fenced {
            // Fenced but still Master: register again only when nobody else
            // is registered (the other master resigned or its lease ran
            // out), so a stale master never takes over from a newer one.
            let vacant = match store.lookup(&group).await {
                Ok(view) => view.master.is_none(),
                Err(e) => {
                    node.set_registration(|r| r.last_error = Some(e.to_string()));
                    false
                }
            };
            if !vacant {
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = stopped(&mut stop) => return,
                }
            }
        }
        let addr = node.group.members[node.me as usize].addr.map(|a| a.to_string()).unwrap_or_default();
        let req = Register { member: st.id.clone(), addr, ranking_version: u64::from(st.ranking_version), held: None, ttl: TTL };
        let sent = clock();
        let mut lease = match store.register(&group, req).await {
            Ok(grant) => {
                node.log(format!("registered as master of {group} under epoch {}", grant.epoch));
                HeldLease::granted(grant.epoch, sent, grant.ttl)
            }
            Err(e) => {
                node.set_registration(|r| r.last_error = Some(e.to_string()));
                node.log(format!("registration refused or failed: {e}"));
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = stopped(&mut stop) => return,
                }
            }
        };
        fenced = false;
        let until = |lease: &HeldLease| Some(start + Duration::from_micros(lease.lost_at().as_micros()));
        node.set_registration(|r| {
            *r = RegistrationReport { epoch: Some(lease.epoch), serving: true, last_error: None, until: until(&lease) }
        });
        // Master with a lease: renew until the engine says otherwise or the
        // name server says the epoch is no longer current, on a renewal or
        // on the watch. Without the watch, a contest's loser that registered
        // after the winner would leave the winner fenced, and clients with
        // no master once the loser resigns, until the winner's next renewal.
        let mut watch = store.watch(&group, None).await.ok();
        let refused = loop {
            let now = clock();
            let wake = start + Duration::from_micros(lease.renew_at().as_micros().max(now.as_micros()));
            tokio::select! {
                // The watch first: what it already says needs no renewal.
                biased;
                event = next_event(&mut watch) => match event {
                    Ok(event) => if let Some(why) = fenced_by(&event, lease.epoch) {
                        node.log(format!("the watch shows epoch {} is no longer current", lease.epoch));
                        break Some(why);
                    },
                    // Renewals still find out; the watch is opened again
                    // with the next registration.
                    Err(_) => watch = None,
                },
                _ = tokio::time::sleep_until(wake) => {
                    let sent = clock();
                    match store.renew(&group, lease.epoch).await {
                        Ok(grant) => {
                            lease.renewed(sent, grant.ttl);
                            node.set_registration(|r| r.until = until(&lease));
                        }
                        Err(StoreError::Refused(e)) => break Some(e),
                        Err(e) => {
                            node.set_registration(|r| r.last_error = Some(e.to_string()));
                            // Unreachable: try again soon; the lease runs out meanwhile.
                            tokio::time::sleep(RETRY.min(Duration::from_micros(lease.ttl.as_micros() / 10))).await;
                        }
                    }
                }
                changed = status.changed() => {
                    if changed.is_err() { return }
                    if !is_master(status.borrow_and_update().role) {
                        break None;
                    }
                }
                _ = stopped(&mut stop) => return,
            }
        };
        match refused {
            Some(why) => {
                node.log(format!("the name server refused epoch {}: {why}; not master for clients until registered again", lease.epoch));
                node.set_registration(|r| {
                    r.until = None;
                    r.last_error = Some(why.to_string());
                });
                fenced = true;
            }
            None => {
                node.set_registration(|r| r.until = None);
                if let Err(e) = store.resign(&group, lease.epoch).await {
                    node.log(format!("resigning epoch {} failed: {e}", lease.epoch));
                }
            }
        }
    }
}

/// The next event of the watch, or never without one.
async fn next_event(watch: &mut Option<RemoteWatcher>) -> Result<Event, StoreError> {
    match watch {
        Some(w) => w.next().await,
        None => std::future::pending().await,
    }
}

/// Why `event` means that `epoch` is no longer the current registration:
/// another registration under a higher epoch (a takeover), or the end of
/// this one. The same refusal a renewal would meet.
fn fenced_by(event: &Event, epoch: u64) -> Option<NameError> {
    let current = match event {
        Event::Resync(view) => match &view.master {
            Some(m) if m.epoch > epoch => Some(m.epoch),
            None if view.highest_epoch > epoch => None,
            _ => return None,
        },
        Event::Change(change) => match &change.what {
            ChangeKind::Registered { epoch: e, .. } if *e > epoch => Some(*e),
            ChangeKind::Ended { epoch: e, .. } if *e == epoch => None,
            _ => return None,
        },
    };
    Some(NameError::StaleEpoch { held: epoch, current })
}

/// Completes when the node shuts down.
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
