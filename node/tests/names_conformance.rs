//! One conformance suite for every name-server backend, through the
//! `NameStore` trait: the embedded backend in this process, the etcd
//! backend on a real 3-member etcd cluster on 127.0.0.1, and each of them
//! behind `stagger nameserver`'s HTTP routes reached with `Remote`. Each
//! check names the guarantee it holds (docs/guarantees.md,
//! docs/protocol.md N1–N11, N17–N19). The one difference allowed between
//! backends is the lease's granularity: etcd's leases are whole seconds
//! (N18).

use stagger_core::names::{ChangeKind, Ending, Limits, NameError, Register};
use stagger_core::Span;
use stagger_node::names::{http, Embedded, Etcd, Event, NameStore, Remote, StoreError, Watcher};
use stagger_tests::harness::cluster::Cluster;
use stagger_tests::harness::etcd::{find_etcd, EtcdCluster, EtcdTiming};
use std::time::Duration;

/// Bounds every wait, so a broken backend fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

fn req(member: &str, held: Option<u64>, ttl_ms: u64) -> Register {
    Register { member: member.into(), addr: format!("10.0.0.1:{member}"), ranking_version: 1, held, ttl: Span::from_ms(ttl_ms) }
}

fn refused<T: std::fmt::Debug>(result: Result<T, StoreError>) -> NameError {
    match result {
        Err(StoreError::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn next<W: Watcher>(w: &mut W) -> Event {
    tokio::time::timeout(LIMIT, w.next()).await.expect("an event in time").expect("the watch stays open")
}

/// What a backend grants for a lease asked as `asked`: the same on the
/// embedded backend, rounded up to whole seconds on etcd (N18).
#[derive(Clone, Copy)]
struct Granularity(Span);

const EXACT: Granularity = Granularity(Span(1));
const WHOLE_SECONDS: Granularity = Granularity(Span(1_000_000));

impl Granularity {
    fn granted(self, asked: Span) -> Span {
        Span(asked.0.div_ceil(self.0 .0) * self.0 .0)
    }
}

/// Every check, each on its own group so they do not meet.
async fn suite<S: NameStore>(store: S, lease: Granularity) {
    epochs_only_rise_and_each_names_one_registration(&store).await;
    a_stale_master_cannot_renew_resign_or_overwrite(&store).await;
    registration_needs_membership_and_the_current_ranking_version(&store).await;
    configuration_is_compare_and_swap(&store).await;
    unknown_groups_and_future_epochs_are_refused(&store).await;
    a_lease_expires_on_the_servers_clock_and_watchers_hear_it(&store, lease).await;
    a_watcher_resumes_after_the_number_it_gives(&store).await;
}

async fn epochs_only_rise_and_each_names_one_registration<S: NameStore>(s: &S) {
    let g = "epochs";
    s.reconfigure(g, 0, vec!["a".into(), "b".into()]).await.unwrap();
    assert_eq!(s.lookup(g).await.unwrap().master, None, "no master, said explicitly");
    let mut last = 0;
    for who in ["a", "b", "a", "a", "b"] {
        let epoch = s.register(g, req(who, None, 5_000)).await.unwrap().epoch;
        assert!(epoch > last, "epoch {epoch} after {last}");
        let master = s.lookup(g).await.unwrap().master.unwrap();
        assert_eq!((master.member.as_str(), master.epoch), (who, epoch));
        last = epoch;
    }
    s.resign(g, last).await.unwrap();
    let view = s.lookup(g).await.unwrap();
    assert_eq!((view.master, view.highest_epoch), (None, last));
    assert!(s.register(g, req("b", None, 5_000)).await.unwrap().epoch > last);
}

async fn a_stale_master_cannot_renew_resign_or_overwrite<S: NameStore>(s: &S) {
    let g = "fencing";
    s.reconfigure(g, 0, vec!["a".into(), "b".into()]).await.unwrap();
    let old = s.register(g, req("a", None, 5_000)).await.unwrap().epoch;
    let new = s.register(g, req("b", None, 5_000)).await.unwrap().epoch;
    let stale = NameError::StaleEpoch { held: old, current: Some(new) };
    assert_eq!(refused(s.renew(g, old).await), stale);
    assert_eq!(refused(s.resign(g, old).await), stale);
    assert_eq!(refused(s.register(g, req("a", Some(old), 5_000)).await), stale);
    assert_eq!(s.lookup(g).await.unwrap().master.unwrap().epoch, new);
    assert_eq!(s.renew(g, new).await.unwrap().epoch, new);
}

async fn registration_needs_membership_and_the_current_ranking_version<S: NameStore>(s: &S) {
    let g = "membership";
    s.reconfigure(g, 0, vec!["a".into(), "b".into()]).await.unwrap();
    assert_eq!(
        refused(s.register(g, req("zurich", None, 5_000)).await),
        NameError::NotAMember { group: g.into(), member: "zurich".into() }
    );
    s.reconfigure(g, 1, vec!["a".into(), "b".into(), "c".into()]).await.unwrap();
    assert_eq!(refused(s.register(g, req("c", None, 5_000)).await), NameError::StaleRankingVersion { theirs: 1, current: 2 });
    let mut current = req("c", None, 5_000);
    current.ranking_version = 2;
    s.register(g, current).await.unwrap();
}

async fn configuration_is_compare_and_swap<S: NameStore>(s: &S) {
    let g = "config";
    let first = s.reconfigure(g, 0, vec!["a".into(), "b".into()]).await.unwrap();
    assert_eq!(first.version, 1);
    let mut rank2 = req("b", None, 5_000);
    rank2.ranking_version = 2;
    let epoch = s.register(g, req("b", None, 5_000)).await.unwrap().epoch;
    let second = s.reconfigure(g, 1, vec!["a".into()]).await.unwrap();
    assert_eq!((second.version, second.ranking_version), (2, 2));
    assert_eq!(refused(s.reconfigure(g, 1, vec!["b".into()]).await), NameError::VersionMismatch { expected: 1, current: 2 });
    // The master was removed with its member: no master, epoch kept.
    let view = s.lookup(g).await.unwrap();
    assert_eq!((view.master, view.highest_epoch, view.config), (None, epoch, second));
    assert!(matches!(refused(s.register(g, rank2).await), NameError::NotAMember { .. }));
}

async fn unknown_groups_and_future_epochs_are_refused<S: NameStore>(s: &S) {
    let unknown = NameError::UnknownGroup { group: "nowhere".into() };
    assert_eq!(refused(s.lookup("nowhere").await), unknown);
    assert_eq!(refused(s.renew("nowhere", 1).await), unknown);
    assert_eq!(refused(s.watch("nowhere", None).await.map(|_| ())), unknown);
    let g = "future";
    s.reconfigure(g, 0, vec!["a".into()]).await.unwrap();
    let epoch = s.register(g, req("a", None, 5_000)).await.unwrap().epoch;
    assert_eq!(refused(s.renew(g, epoch + 10).await), NameError::EpochFromFuture { held: epoch + 10, highest: epoch });
}

async fn a_lease_expires_on_the_servers_clock_and_watchers_hear_it<S: NameStore>(s: &S, lease: Granularity) {
    let g = "expiry";
    s.reconfigure(g, 0, vec!["a".into()]).await.unwrap();
    let mut watcher = s.watch(g, None).await.unwrap();
    let Event::Resync(view) = next(&mut watcher).await else { panic!("the first event is the state") };
    assert_eq!(view.master, None);
    let grant = s.register(g, req("a", None, 200)).await.unwrap();
    assert_eq!(grant.ttl, lease.granted(Span::from_ms(200)));
    let Event::Change(registered) = next(&mut watcher).await else { panic!("a change") };
    assert_eq!(registered.seq, view.seq + 1);
    assert!(matches!(registered.what, ChangeKind::Registered { ref member, epoch, .. } if member == "a" && epoch == grant.epoch));
    // Nobody renews: the server ends the lease by itself.
    let Event::Change(ended) = next(&mut watcher).await else { panic!("a change") };
    assert_eq!(ended.what, ChangeKind::Ended { member: "a".into(), epoch: grant.epoch, how: Ending::Expired });
    assert_eq!(s.lookup(g).await.unwrap().master, None);
    assert_eq!(refused(s.renew(g, grant.epoch).await), NameError::Expired { epoch: grant.epoch });
    // A re-registration under the lapsed epoch works while nobody took over.
    assert_eq!(s.register(g, req("a", Some(grant.epoch), 5_000)).await.unwrap().epoch, grant.epoch + 1);
}

async fn a_watcher_resumes_after_the_number_it_gives<S: NameStore>(s: &S) {
    let g = "resume";
    s.reconfigure(g, 0, vec!["a".into(), "b".into()]).await.unwrap();
    let epoch = s.register(g, req("a", None, 5_000)).await.unwrap().epoch;
    s.resign(g, epoch).await.unwrap();
    // seq 1 created the group; from there on, every change in order.
    let mut watcher = s.watch(g, Some(1)).await.unwrap();
    let Event::Change(registered) = next(&mut watcher).await else { panic!("a change") };
    assert_eq!((registered.seq, registered.what), (2, ChangeKind::Registered { member: "a".into(), addr: "10.0.0.1:a".into(), epoch }));
    let Event::Change(resigned) = next(&mut watcher).await else { panic!("a change") };
    assert_eq!((resigned.seq, resigned.what), (3, ChangeKind::Ended { member: "a".into(), epoch, how: Ending::Resigned }));
    // A number never reached: resync through the state.
    let mut ahead = s.watch(g, Some(99)).await.unwrap();
    let Event::Resync(view) = next(&mut ahead).await else { panic!("a resync") };
    assert_eq!((view.seq, view.master, view.highest_epoch), (3, None, epoch));
}

fn embedded(dir: &std::path::Path) -> Embedded {
    let store = Embedded::open(dir, Limits::default()).unwrap();
    tokio::spawn(store.clone().expire_leases());
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_backend_conforms() {
    let dir = tempfile::tempdir().unwrap();
    tokio::time::timeout(4 * LIMIT, suite(embedded(dir.path()), EXACT)).await.expect("the suite in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_backend_over_http_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = http::config(embedded(dir.path()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(stagger_node::serve::run_with(listener, config, stopped));
    tokio::time::timeout(4 * LIMIT, suite(Remote::new(&format!("http://{addr}")), EXACT)).await.expect("the suite in time");
    let _ = stop.send(());
    let _ = server.await;
}

#[tokio::test]
async fn a_remote_that_cannot_be_reached_says_so() {
    // A port that was free a moment ago: nothing listens there.
    let addr = stagger_tests::harness::free_ports(1).unwrap()[0];
    let remote = Remote::new(&format!("http://{addr}"));
    match remote.lookup("g").await {
        Err(StoreError::Unreachable { url, reason }) => assert!(url.contains(&addr.to_string()) && !reason.is_empty(), "{reason}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

/// A 3-member etcd cluster on 127.0.0.1 with a leader, killed and its data
/// removed when dropped. Fast Raft timing, so that a lost leader is
/// replaced within a second; etcd's shortest lease is then 1 s.
pub fn etcd_cluster() -> EtcdCluster {
    let exe = find_etcd().unwrap();
    let mut cluster = EtcdCluster::new(&exe, 3, EtcdTiming { heartbeat_ms: 50, election_timeout_ms: 500 }).unwrap();
    cluster.start_all().unwrap();
    cluster.wait_for_leader(Duration::from_secs(20)).unwrap();
    cluster
}

/// An etcd store under its own prefix, with its expiry task.
async fn etcd(cluster: &EtcdCluster, prefix: &str) -> Etcd {
    let store = Etcd::connect_with_prefix(&cluster.client_urls(), prefix, Limits::default()).await.unwrap();
    tokio::spawn(store.clone().expire_leases());
    store
}

#[test]
fn the_etcd_backend_conforms_directly_and_over_http() {
    let cluster = etcd_cluster();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        tokio::time::timeout(4 * LIMIT, suite(etcd(&cluster, "/direct/").await, WHOLE_SECONDS)).await.expect("the suite in time");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = http::config(etcd(&cluster, "/http/").await);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(stagger_node::serve::run_with(listener, config, stopped));
        tokio::time::timeout(4 * LIMIT, suite(Remote::new(&format!("http://{addr}")), WHOLE_SECONDS)).await.expect("the suite in time");
        let _ = stop.send(());
        let _ = server.await;
    });
}

#[tokio::test]
async fn an_etcd_cluster_that_cannot_be_reached_says_so() {
    let addr = stagger_tests::harness::free_ports(1).unwrap()[0];
    let url = format!("http://{addr}");
    match Etcd::connect(std::slice::from_ref(&url), Limits::default()).await {
        Err(StoreError::Unreachable { url: said, reason }) => assert!(said.contains(&addr.to_string()) && !reason.is_empty(), "{reason}"),
        Err(other) => panic!("expected Unreachable, got {other:?}"),
        Ok(_) => panic!("connected to nothing"),
    }
}
