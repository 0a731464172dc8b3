//! The scenario's `service` object: its defaults, and a clear error naming
//! the field for each bad value (docs/protocol.md KS1).

use stagger_core::scenario::{Problem, ScenarioFile};
use stagger_core::{Scenario, Span};

/// Three servers 10 ms apart with `service` spliced in as written.
fn text(service: &str) -> String {
    format!(
        r#"{{
            "servers": [{{"id": "a"}}, {{"id": "b"}}, {{"id": "c"}}],
            "ranking": ["a", "b", "c"],
            "delays_ms": [[0, 10, 10], [10, 0, 10], [10, 10, 0]],
            "service": {service}
        }}"#
    )
}

fn error(service: &str) -> (String, String) {
    let e = Scenario::from_json(&text(service)).expect_err("must be refused");
    (e.field.clone(), e.to_string())
}

#[test]
fn an_empty_service_is_a_small_load_with_the_defaults() {
    let s = Scenario::from_json(&text("{}")).unwrap().service.expect("a service");
    assert_eq!((s.clients, s.keys), (2, 4));
    assert_eq!(s.write_every, Span::from_ms(20));
    assert_eq!(s.fsync, Span::from_ms(1));
    assert_eq!(s.client_delay, Span::from_ms(1));
    // Twice a round to the farthest backup, at least 100 ms.
    assert_eq!(s.ack_timeout, Span::from_ms(100));
    assert!(s.client_timeout.0 > 2 * s.ack_timeout.0);
}

#[test]
fn a_scenario_without_service_has_none_and_round_trips_without_it() {
    let plain = r#"{"servers": [{"id": "a"}, {"id": "b"}], "ranking": ["a", "b"], "delays_ms": [[0, 1], [1, 0]]}"#;
    assert_eq!(Scenario::from_json(plain).unwrap().service, None);
    let file = ScenarioFile::from_json(plain).unwrap();
    assert!(!file.to_json_pretty().contains("service"));
    let with = ScenarioFile::from_json(&text(r#"{"clients": 3}"#)).unwrap();
    assert_eq!(ScenarioFile::from_json(&with.to_json_pretty()).unwrap(), with);
}

#[test]
fn every_bad_field_is_named() {
    let cases = [
        (r#"{"clients": 0}"#, "service.clients", "0 is outside [1, 64]"),
        (r#"{"clients": 65}"#, "service.clients", "65 is outside [1, 64]"),
        (r#"{"keys": 0}"#, "service.keys", "outside [1, 1000]"),
        (r#"{"write_every_ms": 0}"#, "service.write_every_ms", "must be a positive number"),
        (r#"{"fsync_ms": -1}"#, "service.fsync_ms", "must be a non-negative number"),
        (r#"{"client_delay_ms": -0.5}"#, "service.client_delay_ms", "non-negative"),
        (r#"{"client_timeout_ms": 0}"#, "service.client_timeout_ms", "positive"),
        (r#"{"ack_timeout_ms": 20}"#, "service.ack_timeout_ms", "20 ms must exceed a round to the farthest backup (21 ms"),
    ];
    for (service, field, words) in cases {
        let (f, msg) = error(service);
        assert_eq!(f, field, "{service}: {msg}");
        assert!(msg.contains(words), "{service}: {msg}");
    }
}

#[test]
fn unknown_and_mistyped_fields_are_refused_by_name() {
    let e = Scenario::from_json(&text(r#"{"clients": 2, "writers": 3}"#)).unwrap_err();
    assert_eq!(e.field, "service.writers");
    assert!(matches!(e.problem, Problem::UnknownField(ref expected) if expected.contains("clients")), "{e}");
    let e = Scenario::from_json(&text(r#"{"clients": "two"}"#)).unwrap_err();
    assert_eq!(e.field, "service.clients");
    let e = Scenario::from_json(&text("true")).unwrap_err();
    assert_eq!(e.field, "service");
}
