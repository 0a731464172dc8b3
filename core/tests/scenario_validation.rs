//! Validation details that decide what a scenario file means: the order in
//! which re-rank attribute changes apply (docs/protocol.md R8) and the
//! rounding of milliseconds written in the file (SPEC §6).

use stagger_core::scenario::FaultAction;
use stagger_core::{Scenario, Time};

/// Three servers ranked by `compute`; `faults` is spliced in as written.
fn with_faults(faults: &str) -> Scenario {
    let text = format!(
        r#"{{
            "servers": [
                {{"id": "a", "attrs": {{"compute": 8}}}},
                {{"id": "b", "attrs": {{"compute": 4}}}},
                {{"id": "c", "attrs": {{"compute": 2}}}}
            ],
            "rank_by": "compute",
            "delays_ms": [[0, 10, 10], [10, 0, 10], [10, 10, 0]],
            "faults": {faults},
            "until_ms": 9000
        }}"#
    );
    Scenario::from_json(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn reranks(s: &Scenario) -> Vec<(Time, usize, Vec<u32>)> {
    s.faults
        .iter()
        .map(|f| match &f.action {
            FaultAction::Rerank(rows) => (f.at, f.source, rows.clone()),
            other => panic!("not a rerank: {other:?}"),
        })
        .collect()
}

#[test]
fn rerank_attribute_changes_apply_in_time_order_whatever_the_file_order() {
    // Listed late, applied first: at 3000 only b's upgrade has happened.
    let s = with_faults(
        r#"[
            {"at_ms": 5000, "rerank": {"rank_by": "compute", "attrs": {"c": {"compute": 32}}}},
            {"at_ms": 3000, "rerank": {"rank_by": "compute", "attrs": {"b": {"compute": 16}}}}
        ]"#,
    );
    assert_eq!(
        reranks(&s),
        vec![
            // b 16, a 8, c 2.
            (Time::from_ms(3000), 1, vec![1, 0, 2]),
            // c 32, b 16, a 8.
            (Time::from_ms(5000), 0, vec![2, 1, 0]),
        ]
    );
    // The same faults listed in time order mean the same.
    let sorted = with_faults(
        r#"[
            {"at_ms": 3000, "rerank": {"rank_by": "compute", "attrs": {"b": {"compute": 16}}}},
            {"at_ms": 5000, "rerank": {"rank_by": "compute", "attrs": {"c": {"compute": 32}}}}
        ]"#,
    );
    let rows = |s: &Scenario| reranks(s).into_iter().map(|(at, _, rows)| (at, rows)).collect::<Vec<_>>();
    assert_eq!(rows(&s), rows(&sorted));
}

#[test]
fn rerank_attribute_changes_at_one_instant_apply_in_file_order() {
    let s = with_faults(
        r#"[
            {"at_ms": 3000, "rerank": {"rank_by": "compute", "attrs": {"c": {"compute": 32}}}},
            {"at_ms": 3000, "rerank": {"rank_by": "compute", "attrs": {"c": {"compute": 1}}}}
        ]"#,
    );
    assert_eq!(reranks(&s), vec![(Time::from_ms(3000), 0, vec![2, 0, 1]), (Time::from_ms(3000), 1, vec![0, 1, 2])]);
}

#[test]
fn milliseconds_in_the_file_round_their_decimal_text() {
    // 0.5005 ms is 500.5 µs: half away from zero gives 501, where the
    // binary product 0.5005 * 1000.0 = 500.49999999999994 would give 500
    // (and 2.0035 * 1000.0 = 2003.4999999999998 would give 2003).
    let s = with_faults(r#"[{"at_ms": 0.5005, "rerank": ["c", "b", "a"]}, {"at_ms": 2.0035, "rerank": ["a", "b", "c"]}]"#);
    let at: Vec<Time> = s.faults.iter().map(|f| f.at).collect();
    assert_eq!(at, vec![Time(501), Time(2004)]);
}
