//! `stagger client get | put | del | cas | load` as a user runs them:
//! against a running group (a name server and three nodes on 127.0.0.1),
//! with bad input refused naming the flag, and an unknown group refused at
//! once.

mod kv_group;

use kv_group::{Group, GROUP, STAGGER};
use serde_json::Value;
use stagger_core::service::{History, Outcome};
use stagger_tests::harness::nameserver::{NameServer, Store};
use std::process::{Command, Output};

fn client(nameserver: &str, group: &str, args: &[&str]) -> Output {
    Command::new(STAGGER).args(["client", "--nameserver", nameserver, "--group", group]).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_load_that_makes_no_sense_is_refused_naming_the_flag() {
    for (args, flag) in [
        (&["load", "--keys", "0"][..], "--keys: 1 to 100000 keys (got 0)"),
        (&["load", "--clients", "0"][..], "--clients: 1 to 1000 clients (got 0)"),
        (&["load", "--seconds", "0"][..], "--seconds: more than 0 and at most a day (got 0)"),
        (&["load", "--seconds", "NaN"][..], "--seconds"),
        (&["load", "--read-ratio", "1.5"][..], "--read-ratio: between 0 and 1 (got 1.5)"),
    ] {
        let out = client("http://127.0.0.1:1", "g", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(flag), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    let out = client("http://127.0.0.1:1", "bad group!", &["get", "k"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: --group:"), "{}", stderr(&out));
}

#[test]
fn an_unknown_group_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ns = NameServer::start(STAGGER.as_ref(), &Store::Embedded(dir.path().to_path_buf())).unwrap();
    for args in [&["get", "k"][..], &["put", "k", "v", "--json"], &["del", "k"], &["cas", "k", "--new", "v"]] {
        let out = client(&ns.url(), "nope", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("refused") && stderr(&out).contains("unknown group \"nope\""), "{}", stderr(&out));
    }
    let out = client(&ns.url(), "nope", &["load", "--seconds", "0.5", "--clients", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no operation succeeded") && stderr(&out).contains("unknown group"), "{}", stderr(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains(" 0 ok,") && summary.contains("0 unknown"), "{summary}");
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn get_put_del_and_cas_answer_through_the_master_and_a_loads_history_is_linearizable() {
    let group = Group::start();
    group.master("a serving master", |_, _| true);
    let run = |args: &[&str]| {
        let out = client(&group.ns_url, GROUP, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    assert!(run(&["put", "k", "v1"]).starts_with("written; k was absent  (epoch "));
    assert!(run(&["get", "k"]).starts_with("v1  (epoch "));
    let reply: Value = serde_json::from_str(&run(&["put", "k", "v2", "--json"])).unwrap();
    assert_eq!((&reply["result"], &reply["previous"]), (&"written".into(), &"v1".into()), "{reply}");
    assert!(reply["epoch"].as_u64().unwrap() >= 1 && reply["index"].as_u64().unwrap() >= 2, "{reply}");
    assert!(run(&["cas", "k", "--expected", "v2", "--new", "v3"]).starts_with("swapped; k is now \"v3\""));
    assert!(run(&["cas", "k", "--expected", "v2", "--new", "v4"]).starts_with("not swapped; k is \"v3\""));
    assert!(run(&["del", "k"]).starts_with("written; k was \"v3\""));
    let reply: Value = serde_json::from_str(&run(&["get", "k", "--json"])).unwrap();
    assert_eq!((&reply["result"], &reply["value"]), (&"value".into(), &Value::Null), "{reply}");
    // Bad input: the service's reason, exit 2, nothing written.
    let long = "x".repeat(300);
    let out = client(&group.ns_url, GROUP, &["put", &long, "v"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("refused") && stderr(&out).contains("\"field\":\"key\""), "{}", stderr(&out));

    let out = client(&group.ns_url, GROUP, &["load", "--keys", "3", "--clients", "3", "--seconds", "2.5", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let history: History = serde_json::from_slice(&out.stdout).unwrap();
    assert!(history.events.len() > 20 && history.events.iter().all(|e| e.outcome == Outcome::Ok), "{}", stderr(&out));
    let err = stderr(&out);
    // A progress line a second (stderr is not a terminal), then the summary.
    assert!(err.lines().filter(|l| l.contains(" ops (") && l.contains("master s")).count() >= 2, "{err}");
    assert!(err.contains(&format!("{} operations in ", history.events.len())) && err.contains(" 0 fail, 0 unknown"), "{err}");
    let report = stagger_tests::check::linearizable(&history);
    assert!(report.is_linearizable(), "{:?}", report.problems());
    assert!(stagger_tests::check::applied_twice(&history).is_empty());
}
