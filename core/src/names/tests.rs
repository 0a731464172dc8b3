//! The registry's guarantees (docs/guarantees.md), one test per promise.

use super::*;

const G: &str = "cities";

fn ms(n: u64) -> Time {
    Time::from_ms(n)
}

/// A registry with group `G` of members a, b, c (version 1, ranking 1)
/// with leases of 100 ms to 10 s and a feed of 4 changes.
fn setup() -> Registry {
    let mut r = Registry::new(Limits { min_ttl: Span::from_ms(100), max_ttl: Span::from_ms(10_000), feed_len: 4 });
    r.reconfigure(ms(0), G, 0, vec!["a".into(), "b".into(), "c".into()]).unwrap();
    r.take_dirty();
    r
}

fn req(member: &str, held: Option<u64>) -> Register {
    Register { member: member.into(), addr: format!("127.0.0.1:1{member}"), ranking_version: 1, held, ttl: Span::from_ms(1_000) }
}

#[test]
fn epochs_only_rise_across_takeovers_resignations_and_expiry() {
    let mut r = setup();
    let mut epochs = vec![];
    epochs.push(r.register(ms(1), G, req("a", None)).unwrap().epoch);
    epochs.push(r.register(ms(2), G, req("b", None)).unwrap().epoch);
    r.resign(ms(3), G, epochs[1]).unwrap();
    epochs.push(r.register(ms(4), G, req("b", None)).unwrap().epoch);
    // The lease lapses, then the same member registers again.
    r.advance(ms(5_000)).unwrap();
    epochs.push(r.register(ms(5_001), G, req("b", None)).unwrap().epoch);
    r.reconfigure(ms(5_002), G, 1, vec!["a".into(), "c".into()]).unwrap();
    let mut next = req("a", None);
    next.ranking_version = 2;
    epochs.push(r.register(ms(5_003), G, next).unwrap().epoch);
    assert_eq!(epochs, vec![1, 2, 3, 4, 5]);
    assert_eq!(r.record(G).unwrap().highest_epoch, 5);
}

#[test]
fn at_most_one_registration_per_epoch() {
    // Every grant, from any member, gets an epoch no other grant had, and
    // the registration under the highest epoch is the only one registered.
    let mut r = setup();
    let mut seen = std::collections::BTreeSet::new();
    for (i, who) in ["a", "b", "c", "a", "c", "b", "b"].iter().enumerate() {
        let grant = r.register(ms(i as u64 + 1), G, req(who, None)).unwrap();
        assert!(seen.insert(grant.epoch), "epoch {} granted twice", grant.epoch);
        let master = r.lookup(ms(i as u64 + 1), G).unwrap().master.unwrap();
        assert_eq!((master.member.as_str(), master.epoch), (*who, grant.epoch));
    }
}

#[test]
fn a_fresh_registration_takes_over_a_live_lease() {
    let mut r = setup();
    r.register(ms(1), G, req("a", None)).unwrap();
    let grant = r.register(ms(2), G, req("b", None)).unwrap();
    let view = r.lookup(ms(3), G).unwrap();
    assert_eq!(view.master.unwrap().member, "b");
    assert_eq!(grant.epoch, 2);
}

#[test]
fn a_stale_master_cannot_renew_resign_or_reregister_over_a_newer_one() {
    let mut r = setup();
    let old = r.register(ms(1), G, req("a", None)).unwrap().epoch;
    let new = r.register(ms(2), G, req("b", None)).unwrap().epoch;
    let stale = NameError::StaleEpoch { held: old, current: Some(new) };
    assert_eq!(r.renew(ms(3), G, old), Err(stale.clone()));
    assert_eq!(r.resign(ms(3), G, old), Err(stale.clone()));
    assert_eq!(r.register(ms(3), G, req("a", Some(old))), Err(stale));
    let master = r.lookup(ms(4), G).unwrap().master.unwrap();
    assert_eq!((master.member.as_str(), master.epoch), ("b", new));
}

#[test]
fn a_master_whose_lease_lapsed_may_reregister_if_nobody_took_over() {
    let mut r = setup();
    let e = r.register(ms(0), G, req("a", None)).unwrap().epoch;
    assert_eq!(r.renew(ms(1_500), G, e), Err(NameError::Expired { epoch: e }));
    let again = r.register(ms(1_600), G, req("a", Some(e))).unwrap();
    assert_eq!(again.epoch, e + 1);
    // A re-registration is itself conditional: the old epoch no longer works.
    assert_eq!(r.register(ms(1_700), G, req("a", Some(e))), Err(NameError::StaleEpoch { held: e, current: Some(e + 1) }));
}

#[test]
fn expiry_is_judged_on_the_servers_clock() {
    let mut r = setup();
    let grant = r.register(ms(10), G, req("a", None)).unwrap();
    assert_eq!(grant.expires, ms(1_010));
    let view = r.lookup(ms(1_009), G).unwrap();
    assert_eq!(view.master.unwrap().lease_left, Span::from_ms(1));
    // At the expiry instant the registration is gone: "no master".
    assert_eq!(r.lookup(ms(1_010), G).unwrap().master, None);
    assert_eq!(r.record(G).unwrap().last_end, Some((1, Ending::Expired)));
}

#[test]
fn renewal_extends_the_lease_from_the_servers_now() {
    let mut r = setup();
    let e = r.register(ms(0), G, req("a", None)).unwrap().epoch;
    let renewed = r.renew(ms(900), G, e).unwrap();
    assert_eq!(renewed.expires, ms(1_900));
    assert!(r.lookup(ms(1_800), G).unwrap().master.is_some());
    // Renewals are not durable changes (N8) and not changes for watchers.
    assert_eq!(r.take_dirty(), vec![G.to_string()]);
    r.renew(ms(1_850), G, e).unwrap();
    assert!(r.take_dirty().is_empty());
}

#[test]
fn renew_after_expiry_is_refused() {
    let mut r = setup();
    let e = r.register(ms(0), G, req("a", None)).unwrap().epoch;
    assert_eq!(r.renew(ms(1_000), G, e), Err(NameError::Expired { epoch: e }));
    assert_eq!(r.lookup(ms(1_000), G).unwrap().master, None);
}

#[test]
fn lease_lengths_are_clamped_to_the_servers_bounds() {
    let mut r = setup();
    let mut short = req("a", None);
    short.ttl = Span::from_ms(1);
    assert_eq!(r.register(ms(0), G, short).unwrap().ttl, Span::from_ms(100));
    let mut long = req("a", None);
    long.ttl = Span::from_ms(1_000_000);
    assert_eq!(r.register(ms(1), G, long).unwrap().ttl, Span::from_ms(10_000));
}

#[test]
fn an_epoch_from_the_future_is_refused() {
    let mut r = setup();
    r.register(ms(0), G, req("a", None)).unwrap();
    let future = NameError::EpochFromFuture { held: 9, highest: 1 };
    assert_eq!(r.renew(ms(1), G, 9), Err(future.clone()));
    assert_eq!(r.resign(ms(1), G, 9), Err(future.clone()));
    assert_eq!(r.register(ms(1), G, req("a", Some(9))), Err(future));
}

#[test]
fn register_refuses_a_member_outside_the_configuration() {
    let mut r = setup();
    assert_eq!(r.register(ms(0), G, req("zurich", None)), Err(NameError::NotAMember { group: G.into(), member: "zurich".into() }));
}

#[test]
fn register_refuses_an_older_or_newer_ranking_version() {
    let mut r = setup();
    r.reconfigure(ms(0), G, 1, vec!["a".into(), "b".into()]).unwrap();
    assert_eq!(r.register(ms(0), G, req("a", None)), Err(NameError::StaleRankingVersion { theirs: 1, current: 2 }));
    let mut ahead = req("a", None);
    ahead.ranking_version = 3;
    assert_eq!(r.register(ms(0), G, ahead), Err(NameError::RankingVersionAhead { theirs: 3, current: 2 }));
}

#[test]
fn an_unknown_group_is_refused() {
    let mut r = setup();
    let unknown = NameError::UnknownGroup { group: "nope".into() };
    assert_eq!(r.lookup(ms(0), "nope"), Err(unknown.clone()));
    assert_eq!(r.register(ms(0), "nope", req("a", None)), Err(unknown.clone()));
    assert_eq!(r.renew(ms(0), "nope", 1), Err(unknown.clone()));
    assert_eq!(r.changes(ms(0), "nope", 0), Err(unknown));
}

#[test]
fn refusals_change_nothing() {
    let mut r = setup();
    let e = r.register(ms(0), G, req("a", None)).unwrap().epoch;
    r.advance(ms(10)).unwrap();
    r.take_dirty();
    let before = r.snapshot();
    let mut stale_rank = req("b", None);
    stale_rank.ranking_version = 0;
    let refused = [
        r.register(ms(10), G, req("zurich", None)).err(),
        r.register(ms(10), G, stale_rank).err(),
        r.register(ms(10), G, req("b", Some(e + 5))).err(),
        r.register(ms(10), G, Register { addr: String::new(), ..req("b", None) }).err(),
        r.renew(ms(10), G, e + 1).err(),
        r.resign(ms(10), G, e + 1).err(),
        r.reconfigure(ms(10), G, 7, vec!["a".into()]).err(),
        r.reconfigure(ms(10), G, 1, vec![]).err(),
        r.reconfigure(ms(10), G, 1, vec!["a".into(), "a".into()]).err(),
        r.reconfigure(ms(10), "bad/name", 0, vec!["a".into()]).err(),
        r.lookup(ms(9), G).err(),
    ];
    assert!(refused.iter().all(Option::is_some), "{refused:?}");
    assert_eq!(r.snapshot(), before);
    assert!(r.take_dirty().is_empty());
}

#[test]
fn time_going_back_is_the_drivers_fault() {
    let mut r = setup();
    r.advance(ms(10)).unwrap();
    let err = r.lookup(ms(5), G).unwrap_err();
    assert_eq!(err, NameError::TimeWentBack { now: ms(5), last: ms(10) });
    assert_eq!(err.fault(), Fault::Driver);
    assert_eq!(NameError::Expired { epoch: 1 }.fault(), Fault::Caller);
}

#[test]
fn reconfigure_is_compare_and_swap() {
    let mut r = setup();
    let next = r.reconfigure(ms(0), G, 1, vec!["a".into(), "b".into(), "c".into(), "d".into()]).unwrap();
    assert_eq!((next.version, next.ranking_version), (2, 2));
    // A second writer that read version 1 loses.
    assert_eq!(r.reconfigure(ms(0), G, 1, vec!["a".into()]), Err(NameError::VersionMismatch { expected: 1, current: 2 }));
    // Creating an existing group is a mismatch too.
    assert_eq!(r.reconfigure(ms(0), G, 0, vec!["a".into()]), Err(NameError::VersionMismatch { expected: 0, current: 2 }));
    assert_eq!(r.lookup(ms(0), G).unwrap().config, next);
}

#[test]
fn reconfigure_removing_the_master_ends_its_registration() {
    let mut r = setup();
    let e = r.register(ms(0), G, req("a", None)).unwrap().epoch;
    r.reconfigure(ms(1), G, 1, vec!["b".into(), "c".into()]).unwrap();
    assert_eq!(r.lookup(ms(1), G).unwrap().master, None);
    assert_eq!(r.renew(ms(2), G, e), Err(NameError::StaleEpoch { held: e, current: None }));
    assert_eq!(r.record(G).unwrap().highest_epoch, e);
}

#[test]
fn reconfigure_keeping_the_master_keeps_its_registration() {
    let mut r = setup();
    let e = r.register(ms(0), G, req("a", None)).unwrap().epoch;
    r.reconfigure(ms(1), G, 1, vec!["c".into(), "a".into()]).unwrap();
    assert_eq!(r.lookup(ms(1), G).unwrap().master.unwrap().epoch, e);
    r.renew(ms(2), G, e).unwrap();
}

#[test]
fn the_feed_numbers_every_change_in_order() {
    let mut r = setup();
    let seq0 = r.lookup(ms(0), G).unwrap().seq;
    let e = r.register(ms(0), G, req("a", None)).unwrap().epoch;
    r.renew(ms(500), G, e).unwrap();
    r.advance(ms(2_000)).unwrap();
    let Feed::Changes { changes } = r.changes(ms(2_000), G, seq0).unwrap() else { panic!("behind") };
    let kinds: Vec<_> = changes.iter().map(|c| (c.seq, c.what.clone())).collect();
    assert_eq!(
        kinds,
        vec![
            (seq0 + 1, ChangeKind::Registered { member: "a".into(), addr: "127.0.0.1:1a".into(), epoch: e }),
            (seq0 + 2, ChangeKind::Ended { member: "a".into(), epoch: e, how: Ending::Expired }),
        ]
    );
    assert_eq!(r.lookup(ms(2_000), G).unwrap().seq, seq0 + 2);
}

#[test]
fn a_watcher_that_falls_behind_resyncs_through_lookup() {
    // The feed keeps 4 changes; six happen.
    let mut r = setup();
    let seen = r.lookup(ms(0), G).unwrap().seq;
    for (i, who) in ["a", "b", "c", "a", "b", "c"].iter().enumerate() {
        r.register(ms(i as u64), G, req(who, None)).unwrap();
    }
    let Feed::Behind { seq } = r.changes(ms(10), G, seen).unwrap() else { panic!("not behind") };
    let view = r.lookup(ms(10), G).unwrap();
    assert_eq!(view.seq, seq);
    assert_eq!(view.master.unwrap().member, "c");
    // From the resynced number on, the feed works again.
    r.register(ms(11), G, req("a", None)).unwrap();
    let Feed::Changes { changes } = r.changes(ms(11), G, view.seq).unwrap() else { panic!("behind") };
    assert_eq!(changes.len(), 1);
}

#[test]
fn a_restored_registry_keeps_epochs_and_gives_live_leases_a_fresh_ttl() {
    let mut r = setup();
    r.register(ms(0), G, req("a", None)).unwrap();
    let records: Vec<_> = r.records().map(|(n, g)| (n.clone(), g.clone())).collect();
    let mut back = Registry::restore(Limits::default(), ms(50), records);
    let view = back.lookup(ms(50), G).unwrap();
    assert_eq!(view.master.as_ref().unwrap().lease_left, Span::from_ms(1_000));
    // Watchers from before the restart resync.
    assert_eq!(back.changes(ms(50), G, 0).unwrap(), Feed::Behind { seq: view.seq });
    assert_eq!(back.register(ms(51), G, req("b", None)).unwrap().epoch, 2);
}

#[test]
fn next_expiry_tells_the_driver_when_to_advance() {
    let mut r = setup();
    assert_eq!(r.next_expiry(), None);
    r.register(ms(5), G, req("a", None)).unwrap();
    assert_eq!(r.next_expiry(), Some(ms(1_005)));
    assert_eq!(r.advance(ms(1_005)).unwrap(), vec![G.to_string()]);
    assert_eq!(r.next_expiry(), None);
}

#[test]
fn errors_serialize_with_their_kind_and_fields() {
    let json = serde_json::to_value(NameError::StaleEpoch { held: 3, current: Some(4) }).unwrap();
    assert_eq!(json, serde_json::json!({"error": "stale_epoch", "held": 3, "current": 4}));
}
