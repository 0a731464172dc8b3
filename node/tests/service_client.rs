//! `stagger client get | put | del | cas | load` as a user runs them: bad
//! input refused with the flag named, an unknown group refused at once.
//! (Against a running group: `service_faults.rs`.)

use stagger_tests::harness::nameserver::{NameServer, Store};
use std::process::{Command, Output};

const STAGGER: &str = env!("CARGO_BIN_EXE_stagger");

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
