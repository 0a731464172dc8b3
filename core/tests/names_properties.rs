//! The name-server registry's guarantees (docs/guarantees.md) over random
//! sequences of operations from three members: takeovers, renewals and
//! resignations under current, stale and never-granted epochs,
//! reconfigurations, and time passing past leases.

use proptest::prelude::*;
use stagger_core::names::{GroupRecord, Limits, NameError, Register, Registry};
use stagger_core::{Span, Time};
use std::collections::BTreeMap;

const G: &str = "g";
const MEMBERS: [&str; 3] = ["a", "b", "c"];

#[derive(Clone, Debug)]
enum Op {
    /// A member registers; `held` picks an epoch relative to the highest
    /// (0: none, 1: the highest, 2: one below, 3: one above).
    Register {
        member: usize,
        held: u8,
        ttl_ms: u64,
    },
    Renew {
        epoch: u8,
    },
    Resign {
        epoch: u8,
    },
    /// Members by bit mask (0 keeps one member, so the list is never empty).
    Reconfigure {
        mask: u8,
        stale: bool,
    },
    Wait {
        ms: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..4u8, 100..2_000u64).prop_map(|(member, held, ttl_ms)| Op::Register { member, held, ttl_ms }),
        (0..4u8).prop_map(|epoch| Op::Renew { epoch }),
        (0..4u8).prop_map(|epoch| Op::Resign { epoch }),
        (0..8u8, any::<bool>()).prop_map(|(mask, stale)| Op::Reconfigure { mask, stale }),
        (0..1_500u64).prop_map(|ms| Op::Wait { ms }),
    ]
}

/// An epoch relative to `highest`: 0 → none, 1 → highest, 2 → one below, 3 → one above.
fn pick(highest: u64, k: u8) -> Option<u64> {
    match k {
        0 => None,
        1 => Some(highest),
        2 => Some(highest.saturating_sub(1)),
        _ => Some(highest + 1),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn epochs_only_rise_one_registration_per_epoch_and_only_the_current_epoch_acts(ops in proptest::collection::vec(op(), 1..60)) {
        let mut r = Registry::new(Limits::default());
        let mut now = Time::ZERO;
        r.reconfigure(now, G, 0, MEMBERS.iter().map(|m| m.to_string()).collect()).unwrap();
        // Every epoch granted, and to whom.
        let mut granted: BTreeMap<u64, String> = BTreeMap::new();
        for op in ops {
            // Time first, so that the operation itself expires nothing and
            // a refusal can be checked to change nothing.
            r.advance(now).unwrap();
            let before: GroupRecord = r.record(G).unwrap().clone();
            let highest = before.highest_epoch;
            let current = before.registration.as_ref().map(|reg| reg.epoch);
            let result: Result<(), NameError> = match op {
                Op::Register { member, held, ttl_ms } => {
                    let req = Register { member: MEMBERS[member].into(), addr: "x".into(), ranking_version: before.config.ranking_version, held: pick(highest, held), ttl: Span::from_ms(ttl_ms) };
                    let held = req.held;
                    let in_config = before.config.members.iter().any(|m| m == MEMBERS[member]);
                    match r.register(now, G, req) {
                        Ok(grant) => {
                            // Strictly greater than every epoch granted before.
                            prop_assert_eq!(grant.epoch, highest + 1);
                            prop_assert!(granted.insert(grant.epoch, MEMBERS[member].into()).is_none());
                            prop_assert!(in_config);
                            // Compare-and-swap: a re-registration only on the highest epoch.
                            prop_assert!(held.is_none() || held == Some(highest));
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
                Op::Renew { epoch } => {
                    let e = pick(highest, epoch).unwrap_or(highest);
                    let result = r.renew(now, G, e).map(|_| ());
                    prop_assert!(result.is_err() || Some(e) == current, "a renewal under a stale epoch");
                    result
                }
                Op::Resign { epoch } => {
                    let e = pick(highest, epoch).unwrap_or(highest);
                    let result = r.resign(now, G, e);
                    prop_assert!(result.is_err() || Some(e) == current, "a resignation under a stale epoch");
                    result
                }
                Op::Reconfigure { mask, stale } => {
                    let members: Vec<String> = MEMBERS.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, m)| m.to_string()).collect();
                    let members = if members.is_empty() { vec!["a".to_string()] } else { members };
                    let expected = before.config.version - u64::from(stale);
                    let result = r.reconfigure(now, G, expected, members).map(|_| ());
                    prop_assert!(result.is_err() || !stale, "a reconfiguration on a stale version");
                    result
                }
                Op::Wait { ms } => {
                    now += Span::from_ms(ms);
                    r.advance(now).map(|_| ())
                }
            };
            let after = r.record(G).unwrap();
            // Epochs only rise.
            prop_assert!(after.highest_epoch >= highest);
            // The registration, if any, holds the highest epoch, granted to its member.
            if let Some(reg) = &after.registration {
                prop_assert_eq!(reg.epoch, after.highest_epoch);
                prop_assert_eq!(granted.get(&reg.epoch), Some(&reg.member));
            }
            // Lookup agrees with the record.
            let view = r.lookup(now, G).unwrap();
            prop_assert_eq!(view.master.map(|m| m.epoch), r.record(G).unwrap().registration.as_ref().map(|reg| reg.epoch));
            // A refusal changes nothing.
            if result.is_err() {
                prop_assert_eq!(r.record(G).unwrap(), &before);
            }
        }
    }
}
