use super::*;
use stagger_core::Rng;

fn ev(client: &str, seq: u64, op: KvOp, t: (f64, f64), answer: Answer) -> Event {
    Event {
        client: client.into(),
        seq,
        op,
        invoke_ms: t.0,
        complete_ms: t.1,
        outcome: Outcome::Ok,
        answer: Some(answer),
        epoch: Some(1),
        index: None,
        error: None,
        attempts: 1,
    }
}

fn s(v: Option<&str>) -> Option<String> {
    v.map(str::to_string)
}

fn put(c: &str, seq: u64, v: &str, t: (f64, f64), previous: Option<&str>) -> Event {
    ev(c, seq, KvOp::Put { key: "k".into(), value: v.into() }, t, Answer::Written { previous: s(previous) })
}

fn del(c: &str, seq: u64, t: (f64, f64), previous: Option<&str>) -> Event {
    ev(c, seq, KvOp::Delete { key: "k".into() }, t, Answer::Written { previous: s(previous) })
}

fn get(c: &str, seq: u64, t: (f64, f64), value: Option<&str>) -> Event {
    ev(c, seq, KvOp::Get { key: "k".into() }, t, Answer::Value { value: s(value) })
}

fn cas(c: &str, seq: u64, from: Option<&str>, to: Option<&str>, t: (f64, f64), ok: bool, current: Option<&str>) -> Event {
    let op = KvOp::Cas { key: "k".into(), expected: s(from), new: s(to) };
    ev(c, seq, op, t, Answer::Swapped { ok, current: s(current) })
}

fn unknown(mut e: Event) -> Event {
    e.outcome = Outcome::Unknown;
    e.answer = None;
    e.error = Some("no answer before the deadline".into());
    e
}

fn fail(mut e: Event) -> Event {
    e.outcome = Outcome::Fail;
    e.answer = None;
    e
}

fn history(events: Vec<Event>) -> History {
    History { events }
}

/// The one counterexample of a history that must not be linearizable.
fn counterexample(events: Vec<Event>) -> String {
    let report = linearizable(&history(events));
    assert!(!report.is_linearizable(), "{report:?}");
    match &report.keys["k"].1 {
        Verdict::NotLinearizable(text) => text.clone(),
        other => panic!("not a refutation: {other:?}"),
    }
}

#[test]
fn concurrent_writes_and_reads_that_agree_on_one_order_are_linearizable() {
    let h = history(vec![
        put("c1", 1, "a", (0.0, 10.0), None),
        put("c2", 1, "b", (5.0, 20.0), Some("a")),
        // Concurrent with b: may see a or b; it saw a, so b came after it.
        get("c3", 1, (8.0, 12.0), Some("a")),
        get("c3", 2, (21.0, 22.0), Some("b")),
        cas("c1", 2, Some("b"), Some("c"), (23.0, 25.0), true, Some("c")),
        cas("c2", 2, Some("b"), Some("d"), (24.0, 30.0), false, Some("c")),
        del("c3", 3, (31.0, 32.0), Some("c")),
        get("c1", 3, (33.0, 34.0), None),
    ]);
    let report = linearizable(&history(h.events.clone()));
    assert!(report.is_linearizable(), "{:?}", report.problems());
    assert_eq!(report.keys["k"].0, 8);
    assert!(lost_writes(&h, &[("k".to_string(), None)].into()).is_empty());
    assert!(applied_twice(&h).is_empty());
}

#[test]
fn a_stale_read_is_not_linearizable_and_the_counterexample_names_it() {
    let text = counterexample(vec![
        put("c1", 1, "a", (0.0, 10.0), None),
        put("c1", 2, "b", (20.0, 30.0), Some("a")),
        get("c2", 1, (40.0, 50.0), Some("a")),
    ]);
    assert!(text.starts_with("key \"k\": not linearizable (3 operations). The longest linearization found places 2 of them:"), "{text}");
    assert!(text.contains("after which \"k\" is \"b\""), "{text}");
    assert!(text.contains("c2#1 get \"k\" → \"a\" [40.0–50.0 ms]: here it would return \"b\""), "{text}");
}

#[test]
fn a_lost_write_is_not_linearizable_and_lost_writes_names_it() {
    let events = vec![
        put("c1", 1, "a", (0.0, 10.0), None),
        put("c2", 1, "b", (20.0, 30.0), Some("a")),
        // b's acknowledgement was a lie: the next write saw a.
        put("c1", 2, "c", (40.0, 50.0), Some("a")),
    ];
    let text = counterexample(events.clone());
    assert!(
        text.contains("c1#2 put \"k\"=\"c\" → written, previous \"a\" [40.0–50.0 ms]: here it would return written, previous \"b\""),
        "{text}"
    );

    let h = history(vec![put("c1", 1, "a", (0.0, 10.0), None), put("c2", 1, "b", (20.0, 30.0), Some("a"))]);
    let lost = lost_writes(&h, &[("k".to_string(), s(Some("a")))].into());
    assert_eq!(
        lost,
        ["key \"k\": the acknowledged write c2#1 put \"k\"=\"b\" → written, previous \"a\" [20.0–30.0 ms] is lost: \
          the key is \"a\", written by c1#1 put \"k\"=\"a\" → written, previous absent [0.0–10.0 ms], which took effect before it was invoked"]
    );
    assert_eq!(lost_writes(&h, &[("k".to_string(), s(Some("b")))].into()), Vec::<String>::new());
    let nowhere = lost_writes(&h, &[("k".to_string(), s(Some("z")))].into());
    assert_eq!(nowhere, ["key \"k\" holds Some(\"z\"), which no operation of the history wrote"]);
    // Absent at the end, with acknowledged puts and no delete: lost.
    assert_eq!(lost_writes(&h, &[("k".to_string(), None)].into()).len(), 2);
}

#[test]
fn a_write_applied_twice_is_not_linearizable_and_applied_twice_names_it() {
    let events = vec![
        put("c1", 1, "a", (0.0, 10.0), None),
        put("c2", 1, "b", (20.0, 30.0), Some("a")),
        // a was applied again (a retry applied twice), and c replaced it.
        put("c3", 1, "c", (40.0, 50.0), Some("a")),
    ];
    let text = counterexample(events.clone());
    assert!(
        text.contains("c3#1 put \"k\"=\"c\" → written, previous \"a\" [40.0–50.0 ms]: here it would return written, previous \"b\""),
        "{text}"
    );
    assert_eq!(
        applied_twice(&history(events)),
        ["the value \"a\" of key \"k\" was applied twice: both c2#1 put \"k\"=\"b\" → written, previous \"a\" [20.0–30.0 ms] \
          and c3#1 put \"k\"=\"c\" → written, previous \"a\" [40.0–50.0 ms] replaced it"]
    );
    let reused = vec![put("c1", 1, "a", (0.0, 10.0), None), put("c1", 1, "b", (20.0, 30.0), Some("a"))];
    assert_eq!(applied_twice(&history(reused)).len(), 1, "a sequence number used twice is refused");
    let same_value = vec![put("c1", 1, "a", (0.0, 10.0), None), put("c2", 1, "a", (20.0, 30.0), Some("a"))];
    assert!(applied_twice(&history(same_value))[0].contains("the direct checks need unique values"));
}

#[test]
fn an_unknown_write_that_did_take_effect_is_linearizable() {
    let events = vec![
        unknown(put("c1", 1, "a", (0.0, 10.0), None)),
        // Seen long after the client gave up: it took effect late.
        get("c2", 1, (100.0, 110.0), Some("a")),
        put("c2", 2, "b", (120.0, 130.0), Some("a")),
    ];
    let h = history(events);
    assert!(linearizable(&h).is_linearizable(), "{:?}", linearizable(&h).problems());
    assert!(lost_writes(&h, &[("k".to_string(), s(Some("b")))].into()).is_empty());
    // The unknown write may also be the last value: nothing is lost.
    let h = history(vec![put("c2", 1, "b", (0.0, 10.0), None), unknown(put("c1", 1, "a", (20.0, 30.0), Some("b")))]);
    assert!(lost_writes(&h, &[("k".to_string(), s(Some("a")))].into()).is_empty());
}

#[test]
fn an_unknown_write_that_did_not_take_effect_is_linearizable() {
    let h = history(vec![
        unknown(put("c1", 1, "a", (0.0, 10.0), None)),
        get("c2", 1, (100.0, 110.0), None),
        put("c2", 2, "b", (120.0, 130.0), None),
        get("c1", 2, (140.0, 150.0), Some("b")),
    ]);
    let report = linearizable(&h);
    assert!(report.is_linearizable(), "{:?}", report.problems());
    assert!(lost_writes(&h, &[("k".to_string(), s(Some("b")))].into()).is_empty());
}

#[test]
fn an_unknown_write_cannot_take_effect_after_its_clients_next_acknowledged_write() {
    // c1 gave up on a, then wrote b, acknowledged at 30 ms. The table drops
    // a once b is applied, so a cannot take effect after 30 ms.
    let text = counterexample(vec![
        unknown(put("c1", 1, "a", (0.0, 10.0), None)),
        put("c1", 2, "b", (20.0, 30.0), None),
        put("c2", 1, "c", (35.0, 40.0), Some("b")),
        get("c2", 2, (50.0, 60.0), Some("a")),
    ]);
    assert!(text.contains("c1#1 put \"k\"=\"a\" → unknown [0.0–10.0 ms] (skipped: did not take effect)"), "{text}");
    assert!(text.contains("c2#2 get \"k\" → \"a\" [50.0–60.0 ms]: here it would return \"c\""), "{text}");
    // Another client's unknown write may take effect then.
    let h = history(vec![
        unknown(put("c3", 1, "a", (0.0, 10.0), None)),
        put("c1", 2, "b", (20.0, 30.0), None),
        put("c2", 1, "c", (35.0, 40.0), Some("b")),
        get("c2", 2, (50.0, 60.0), Some("a")),
    ]);
    assert!(linearizable(&h).is_linearizable());
}

#[test]
fn failed_operations_took_no_effect() {
    let h = history(vec![fail(put("c1", 1, "a", (0.0, 10.0), None)), get("c2", 1, (20.0, 30.0), Some("a"))]);
    let text = counterexample(h.events.clone());
    assert!(text.contains("places 0 of them:\nafter which \"k\" is absent"), "{text}");
    assert!(text.contains("c2#1 get \"k\" → \"a\" [20.0–30.0 ms]: here it would return absent"), "{text}");
    let h = history(vec![fail(put("c1", 1, "a", (0.0, 10.0), None)), get("c2", 1, (20.0, 30.0), None)]);
    assert!(linearizable(&h).is_linearizable());
}

#[test]
fn keys_are_checked_apart() {
    let mut other = get("c2", 1, (0.0, 1.0), Some("x"));
    other.op = KvOp::Get { key: "j".into() };
    let h = history(vec![put("c1", 1, "a", (0.0, 10.0), None), other]);
    let report = linearizable(&h);
    assert_eq!(report.keys["k"], (1, Verdict::Linearizable));
    assert!(matches!(&report.keys["j"].1, Verdict::NotLinearizable(t) if t.starts_with("key \"j\"")));
    assert_eq!(report.problems().len(), 1);
}

/// A history as a linearizable register would produce it: `clients`
/// clients each run operations one after another on `keys` keys, each
/// taking effect at a random instant inside its interval; some writes end
/// unknown, half of them having taken effect. Values are unique.
fn generated(seed: u64, clients: usize, keys: usize, ops: usize) -> History {
    let mut rng = Rng::new(seed);
    let mut next_free = vec![0.0f64; clients];
    let mut seqs = vec![0u64; clients];
    // (effect instant, event index, applied)
    let mut planned: Vec<(f64, usize, bool)> = Vec::new();
    let mut events = Vec::new();
    for _ in 0..ops {
        let c = rng.below(clients as u64) as usize;
        seqs[c] += 1;
        let start = next_free[c] + rng.unit() * 3.0;
        let end = start + 0.5 + rng.unit() * 8.0;
        next_free[c] = end;
        let key = format!("k{}", rng.below(keys as u64));
        let value = format!("c{c}-{}", seqs[c]);
        let op = match rng.below(10) {
            0..=3 => KvOp::Get { key },
            4..=6 => KvOp::Put { key, value },
            7 => KvOp::Delete { key },
            _ => KvOp::Cas { key, expected: None, new: Some(value) },
        };
        let mut e = ev(&format!("c{c}"), seqs[c], op, (start, end), Answer::Value { value: None });
        let lost = e.op.writes() && rng.below(12) == 0;
        if lost {
            e.outcome = Outcome::Unknown;
            e.answer = None;
        }
        planned.push((start + rng.unit() * (end - start), events.len(), !lost || rng.below(2) == 0));
        events.push(e);
    }
    planned.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut state: HashMap<String, String> = HashMap::new();
    let mut cas_from: HashMap<String, Option<String>> = HashMap::new();
    for (_, i, applied) in planned {
        let e: &mut Event = &mut events[i];
        let key = e.op.key().to_string();
        if let KvOp::Cas { expected, .. } = &mut e.op {
            // Expect what the key holds half of the time.
            *expected = if i % 2 == 0 { state.get(&key).cloned() } else { cas_from.get(&key).cloned().flatten() };
        }
        if !applied {
            continue;
        }
        let before = state.get(&key).cloned();
        let answer = match &e.op {
            KvOp::Get { .. } => Answer::Value { value: before.clone() },
            KvOp::Put { value, .. } => Answer::Written { previous: state.insert(key.clone(), value.clone()) },
            KvOp::Delete { .. } => Answer::Written { previous: state.remove(&key) },
            KvOp::Cas { expected, new, .. } => {
                let ok = &before == expected;
                if ok {
                    state.insert(key.clone(), new.clone().unwrap());
                }
                Answer::Swapped { ok, current: state.get(&key).cloned() }
            }
        };
        cas_from.insert(key, before);
        if e.outcome == Outcome::Ok {
            e.answer = Some(answer);
        }
    }
    History { events }
}

#[test]
fn a_thousand_operations_from_eight_clients_over_twenty_keys_are_decided() {
    for seed in 1..=3 {
        let h = generated(seed, 8, 20, 1_000);
        let report = linearizable(&h);
        assert!(report.is_linearizable(), "seed {seed}: {:?}", report.problems());
        assert!(applied_twice(&h).is_empty(), "seed {seed}");
        // One read made stale: refuted, not undecided.
        let mut bad = h.clone();
        let i = bad
            .events
            .iter()
            .position(|e| e.outcome == Outcome::Ok && matches!(&e.answer, Some(Answer::Value { value: Some(_) })) && e.invoke_ms > 200.0)
            .unwrap();
        bad.events[i].answer = Some(Answer::Value { value: Some("never-written".into()) });
        let report = linearizable(&bad);
        let key = bad.events[i].op.key();
        assert!(matches!(&report.keys[key].1, Verdict::NotLinearizable(t) if t.contains("never-written")), "seed {seed}: {report:?}");
        assert_eq!(report.problems().len(), 1, "seed {seed}");
    }
}

mod oracle {
    //! stateright's tester over the same register, for the differential test.
    use super::super::linear::{apply, Call, Ret};
    use stateright::semantics::SequentialSpec;

    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Register(pub Option<u32>);

    impl SequentialSpec for Register {
        type Op = Call;
        type Ret = Ret;
        fn invoke(&mut self, op: &Call) -> Ret {
            let (after, ret) = apply(self.0, *op);
            self.0 = after;
            ret
        }
    }
}

#[test]
fn agrees_with_stateright_on_small_random_histories() {
    use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
    let (mut yes, mut no) = (0, 0);
    for seed in 0..1_500u64 {
        let mut rng = Rng::new(seed);
        // Three clients, up to three operations each, values from a small
        // set so that wrong answers are often plausible; an unknown write is
        // its client's last operation (stateright cannot bound it earlier).
        let mut events = Vec::new();
        for c in 0..3u64 {
            let mut t = rng.unit() * 4.0;
            for seq in 1..=rng.range_inclusive(1, 3) {
                let end = t + 1.0 + rng.unit() * 6.0;
                let v = |rng: &mut Rng| ["a", "b"].get(rng.below(3) as usize).copied();
                let mut e = match rng.below(4) {
                    0 => get(&format!("c{c}"), seq, (t, end), v(&mut rng)),
                    1 => put(&format!("c{c}"), seq, ["a", "b"][rng.below(2) as usize], (t, end), v(&mut rng)),
                    2 => del(&format!("c{c}"), seq, (t, end), v(&mut rng)),
                    _ => {
                        let ok = rng.below(2) == 0;
                        cas(&format!("c{c}"), seq, v(&mut rng), v(&mut rng), (t, end), ok, v(&mut rng))
                    }
                };
                if e.op.writes() && rng.below(5) == 0 {
                    e = unknown(e);
                    events.push(e);
                    break;
                }
                events.push(e);
                t = end + rng.unit() * 2.0;
            }
        }
        let h = history(events);
        let ours = linearizable(&h).is_linearizable();
        // The same operations, fed to stateright in time order (calls
        // before returns at one instant, as in ours).
        let mut values = Values::default();
        let mut marks: Vec<(f64, bool, usize)> = Vec::new();
        for (i, e) in h.events.iter().enumerate() {
            marks.push((e.invoke_ms, true, i));
            if e.outcome == Outcome::Ok {
                marks.push((e.complete_ms, false, i));
            }
        }
        marks.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut tester = LinearizabilityTester::new(oracle::Register(None));
        for (_, is_call, i) in marks {
            let e = &h.events[i];
            let call = match &e.op {
                KvOp::Get { .. } => Call::Get,
                KvOp::Put { value, .. } => Call::Put(values.id(&Some(value.clone())).unwrap()),
                KvOp::Delete { .. } => Call::Delete,
                KvOp::Cas { expected, new, .. } => Call::Cas { expected: values.id(expected), new: values.id(new) },
            };
            let thread = e.client.clone().leak() as &'static str;
            if is_call {
                tester.on_invoke(thread, call).unwrap();
                continue;
            }
            let ret = match e.answer.as_ref().unwrap() {
                Answer::Value { value } => Ret::Value(values.id(value)),
                Answer::Written { previous } => Ret::Written { previous: values.id(previous) },
                Answer::Swapped { ok, current } => Ret::Swapped { ok: *ok, current: values.id(current) },
            };
            tester.on_return(thread, ret).unwrap();
        }
        assert_eq!(ours, tester.is_consistent(), "seed {seed}: {:#?}", h.events);
        if ours {
            yes += 1
        } else {
            no += 1
        }
    }
    assert!(yes > 100 && no > 100, "both verdicts are exercised: {yes} linearizable, {no} not");
}
