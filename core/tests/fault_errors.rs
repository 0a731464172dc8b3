//! What a malformed fault is told, word for word: the field at fault and
//! the problem. A fault is read into an enum of one action (no action or
//! two cannot be represented), and these are the messages validation gave
//! before it was, so a user sees the same error either way.

use stagger_core::scenario::{FaultActionEntry, FaultKind};
use stagger_core::{Scenario, ScenarioFile};

/// Three servers; `faults` is spliced in as written, on line 5.
fn file(faults: &str) -> String {
    format!(
        r#"{{
            "servers": [{{"id": "a"}}, {{"id": "b"}}, {{"id": "c"}}],
            "ranking": ["a", "b", "c"],
            "delays_ms": [[0, 10, 10], [10, 0, 10], [10, 10, 0]],
            "faults": {faults}
        }}"#
    )
}

fn error(faults: &str) -> String {
    match Scenario::from_json(&file(faults)) {
        Ok(_) => panic!("{faults} was accepted"),
        Err(e) => e.to_string(),
    }
}

const ONE_OF: &str = "a fault needs exactly one of crash, recover, partition, cut, heal, rerank";

#[test]
fn a_fault_needs_exactly_one_action() {
    assert_eq!(error(r#"[{"at_ms": 100, "crash": "a", "heal": true}]"#), format!("faults[0]: {ONE_OF}; this one has 2"));
    assert_eq!(error(r#"[{"at_ms": 100, "crash": "a"}, {"at_ms": 50}]"#), format!("faults[1]: {ONE_OF}; this one has 0"));
    assert_eq!(
        error(r#"[{"at_ms": 100, "crash": "a", "recover": "a", "cut": ["a", "b"]}]"#),
        format!("faults[0]: {ONE_OF}; this one has 3")
    );
    assert_eq!(error(r#"[{"at_ms": 100, "crash": "a", "heal": false}]"#), format!("faults[0]: {ONE_OF}; this one has 2"));
    let pretty = "[\n  {\"at_ms\": 100, \"crash\": \"a\"},\n  {\n    \"at_ms\": 200,\n    \"recover\": \"a\",\n    \"heal\": true\n  }\n]";
    assert_eq!(error(pretty), format!("faults[1]: {ONE_OF}; this one has 2"));
}

#[test]
fn heal_is_written_true() {
    assert_eq!(error(r#"[{"at_ms": 100, "heal": false}]"#), "faults[0].heal: write `\"heal\": true`");
    assert_eq!(error("[{\"at_ms\": 100,\n \"heal\": false\n}]"), "faults[0].heal: write `\"heal\": true`");
}

#[test]
fn keys_and_values_are_refused_by_name() {
    let cases = [
        (
            r#"[{"at_ms": 100, "crsh": "a"}]"#,
            "faults[0].crsh: unknown field (expected one of `at_ms`, `crash`, `recover`, `partition`, `cut`, `heal`, `rerank`)",
        ),
        (r#"[{"crash": "a"}]"#, "faults[0].at_ms: missing: this field is required"),
        (r#"[{"at_ms": 100, "crash": "a", "crash": "b"}]"#, "faults[0].crash: duplicate field `crash` at line 5 column 59"),
        (r#"[{"at_ms": 100, "at_ms": 200, "crash": "a"}]"#, "faults[0].at_ms: duplicate field `at_ms` at line 5 column 45"),
        (r#"[{"at_ms": 100, "crash": 5}]"#, "faults[0].crash: invalid type: integer `5`, expected a string at line 5 column 48"),
        (r#"[{"at_ms": "soon", "crash": "a"}]"#, "faults[0].at_ms: invalid type: string \"soon\", expected f64 at line 5 column 39"),
        (r#"[{"at_ms": 100, "cut": ["a"]}]"#, "faults[0].cut: invalid length 1, expected an array of length 2 at line 5 column 50"),
        (
            r#"[{"at_ms": 100, "partition": "a"}]"#,
            "faults[0].partition: invalid type: string \"a\", expected a sequence at line 5 column 54",
        ),
        (r#"[{"at_ms": 100, "heal": "yes"}]"#, "faults[0].heal: invalid type: string \"yes\", expected a boolean at line 5 column 51"),
        (r#"[{"at_ms": 100, "rerank": 5}]"#, "faults[0]: data did not match any variant of untagged enum RerankEntry at line 5 column 50"),
        (
            r#"[{"at_ms": 100, "rerank": {"rank_by": "x", "atrs": {}}}]"#,
            "faults[0]: data did not match any variant of untagged enum RerankEntry at line 5 column 77",
        ),
        (r#"[{"at_ms": 100, "crash": "a"}, 5]"#, "faults[1]: invalid type: integer `5`, expected struct FaultEntry at line 5 column 54"),
        (r#"{"at_ms": 100}"#, "faults: invalid type: map, expected a sequence at line 5 column 22"),
    ];
    for (faults, want) in cases {
        assert_eq!(error(faults), want, "{faults}");
    }
}

#[test]
fn what_a_fault_names_is_checked_against_the_group() {
    assert_eq!(error(r#"[{"at_ms": 100, "crash": "z"}]"#), "faults[0].crash: unknown server id 'z'");
    assert_eq!(error(r#"[{"at_ms": 100, "cut": ["a", "a"]}]"#), "faults[0].cut: a cut needs two different servers");
    assert_eq!(error(r#"[{"at_ms": -1, "crash": "a"}]"#), "faults[0].at_ms: -1 must be a non-negative number of milliseconds");
    assert_eq!(
        error(r#"[{"at_ms": 100, "crash": "a"}, {"at_ms": 200, "crash": "a"}]"#),
        "faults[1].crash: server 'a' is already down at 200 ms"
    );
}

/// Reading the file now finds what validation found after it: with two
/// problems, a fault's own shape is told before its time.
#[test]
fn the_shape_of_a_fault_is_told_before_its_time() {
    assert_eq!(error(r#"[{"at_ms": -1, "crash": "a", "heal": true}]"#), format!("faults[0]: {ONE_OF}; this one has 2"));
}

/// A fault is an object. serde's derive also took the struct's fields as
/// an array, in declaration order; no file wrote one, and it is refused.
#[test]
fn a_fault_is_an_object() {
    assert!(error(r#"[[100, "a"]]"#).contains("invalid type: sequence, expected struct FaultEntry"));
}

#[test]
fn a_null_action_is_left_out() {
    let f = ScenarioFile::from_json(&file(r#"[{"at_ms": 100, "crash": null, "heal": true}]"#)).unwrap();
    assert_eq!(f.faults[0].action, FaultActionEntry::Heal);
    assert!(!f.to_json_pretty().contains("crash"));
    f.validate().unwrap();
}

#[test]
fn every_kind_round_trips_through_the_file() {
    let faults = r#"[
        {"at_ms": 100, "crash": "a"},
        {"at_ms": 200, "recover": "a"},
        {"at_ms": 300, "partition": [["a"], ["b", "c"]]},
        {"at_ms": 400, "cut": ["b", "c"]},
        {"at_ms": 500, "heal": true},
        {"at_ms": 600, "rerank": ["c", "b", "a"]}
    ]"#;
    let f = ScenarioFile::from_json(&file(faults)).unwrap();
    let kinds: Vec<FaultKind> = f.faults.iter().map(|x| x.action.kind()).collect();
    assert_eq!(kinds, FaultKind::ALL);
    assert_eq!(ScenarioFile::from_json(&f.to_json_pretty()).unwrap(), f);
    f.validate().unwrap();
}
