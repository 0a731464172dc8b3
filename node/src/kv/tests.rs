//! The client against a real name server in the process and fake members
//! that answer as a script says, on 127.0.0.1. The fake master keeps its
//! state in core's `Store`, with its client table, so a retried request is
//! applied once there as it is in the service.

use super::*;
use crate::names::{Embedded, NameStore};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use stagger_core::names::{Limits, Register};
use stagger_core::service::{Answer, Entry, Op, Outcome, Request, Stamp, Store};
use stagger_core::Span;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the fake answers the next request.
#[derive(Clone, Debug)]
enum Act {
    /// Apply it and answer.
    Serve,
    /// Apply it, then answer `unknown` (the answer is lost).
    LoseAnswer,
    Busy,
    BadRequest,
    /// "This group has no name server, so no service."
    NoNameServer,
    /// Never answer.
    Hang,
    /// "Not the master; it is at ADDR."
    Redirect(String),
}

#[derive(Default)]
struct Fake {
    store: Store,
    script: VecDeque<Act>,
    /// What it did when the script is empty (`None`: serve).
    otherwise: Option<Act>,
    /// Every request received: (client, seq).
    received: Vec<(String, u64)>,
}

type Shared = Arc<Mutex<Fake>>;

async fn kv(State(fake): State<Shared>, Json(request): Json<Request>) -> Response {
    let act = {
        let mut f = fake.lock().unwrap();
        f.received.push((request.client.clone(), request.seq));
        f.script.pop_front().or(f.otherwise.clone()).unwrap_or(Act::Serve)
    };
    let refuse = |status: StatusCode, body: serde_json::Value| (status, Json(body)).into_response();
    match act {
        Act::Hang => std::future::pending().await,
        Act::Busy => return refuse(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "busy", "waiting": 1})),
        Act::BadRequest => return refuse(StatusCode::BAD_REQUEST, json!({"error": "bad_request", "field": "key", "reason": "too long"})),
        Act::NoNameServer => return refuse(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "no_name_server", "reason": "none named"})),
        Act::Redirect(addr) => return refuse(StatusCode::MISDIRECTED_REQUEST, json!({"error": "not_master", "master": "b", "addr": addr})),
        Act::Serve | Act::LoseAnswer => {}
    }
    let reply = {
        let mut f = fake.lock().unwrap();
        if request.op.writes() {
            let stamp = Stamp { epoch: 1, index: f.store.last().index + 1 };
            f.store.apply(&Entry { stamp, client: request.client, seq: request.seq, op: request.op })
        } else {
            f.store.read(request.op.key(), 1)
        }
    };
    if matches!(act, Act::LoseAnswer) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "unknown"}));
    }
    Json(reply).into_response()
}

/// Serves `router` on a free port of 127.0.0.1 until the test ends.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let config = crate::serve::Config { assets: &[], app: Some(router), ..crate::serve::Config::default() };
    tokio::spawn(crate::serve::run_with(listener, config, std::future::pending::<()>()));
    addr
}

async fn fake(script: Vec<Act>) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Fake { script: script.into(), ..Fake::default() }));
    let router = Router::new().route("/api/kv", post(kv)).with_state(shared.clone());
    (serve(router).await, shared)
}

/// A name server with group `g` whose registered master is at `addr`.
async fn name_server(addr: &str, dir: &std::path::Path) -> String {
    let store = Embedded::open(dir, Limits::default()).unwrap();
    store.reconfigure("g", 0, vec!["a".into(), "b".into()]).await.unwrap();
    let register = Register { member: "a".into(), addr: addr.into(), ranking_version: 1, held: None, ttl: Span::from_ms(60_000) };
    store.register("g", register).await.unwrap();
    format!("http://{}", serve(crate::names::http::router(store)).await)
}

fn quick() -> Settings {
    Settings { deadline: Duration::from_millis(600), attempt_timeout: Duration::from_millis(300), ..Settings::default() }
}

fn put(key: &str, value: &str) -> Op {
    Op::Put { key: key.into(), value: value.into() }
}

#[tokio::test]
async fn a_backups_redirect_is_followed_and_the_master_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (master, m) = fake(vec![]).await;
    let (backup, b) = fake(vec![]).await;
    b.lock().unwrap().otherwise = Some(Act::Redirect(master.clone()));
    let ns = name_server(&backup, dir.path()).await;
    let mut client = Client::new("c1", &ns, "g", Instant::now(), 7, Settings::default());
    let e = client.run(put("k", "v1")).await;
    assert_eq!((e.outcome, e.attempts, e.seq), (Outcome::Ok, 2, 1), "{e:?}");
    assert_eq!(e.answer, Some(Answer::Written { previous: None }));
    assert_eq!(client.master().map(|m| m.addr.as_str()), Some(master.as_str()));
    let e = client.run(Op::Get { key: "k".into() }).await;
    assert_eq!((e.outcome, e.attempts, e.seq), (Outcome::Ok, 1, 2), "the redirect is remembered: {e:?}");
    assert_eq!(e.answer, Some(Answer::Value { value: Some("v1".into()) }));
    assert_eq!(b.lock().unwrap().received.len(), 1);
    assert_eq!(m.lock().unwrap().received, [("c1".into(), 1), ("c1".into(), 2)]);
}

#[tokio::test]
async fn a_lost_answer_is_retried_with_the_same_sequence_number_and_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let (master, m) = fake(vec![Act::LoseAnswer, Act::Busy, Act::Serve]).await;
    let ns = name_server(&master, dir.path()).await;
    let mut client = Client::new("c1", &ns, "g", Instant::now(), 7, Settings::default());
    let e = client.run(Op::Cas { key: "k".into(), expected: None, new: Some("x".into()) }).await;
    assert_eq!((e.outcome, e.attempts), (Outcome::Ok, 3), "{e:?}");
    // The table answered the retry with the first application's reply.
    assert_eq!(e.answer, Some(Answer::Swapped { ok: true, current: Some("x".into()) }));
    let f = m.lock().unwrap();
    assert_eq!(f.received, vec![("c1".to_string(), 1); 3], "every attempt carried sequence number 1");
    assert_eq!(f.store.snapshot().clients["c1"].seq, 1);
    assert_eq!(f.store.get("k").map(String::as_str), Some("x"));
}

#[tokio::test]
async fn a_refusal_fails_at_once_without_a_retry() {
    let dir = tempfile::tempdir().unwrap();
    let (master, m) = fake(vec![Act::BadRequest]).await;
    let ns = name_server(&master, dir.path()).await;
    let mut client = Client::new("c1", &ns, "g", Instant::now(), 7, Settings::default());
    let (e, result) = client.call(put("k", "v")).await;
    assert_eq!((e.outcome, e.attempts), (Outcome::Fail, 1));
    let err = result.unwrap_err();
    assert!(matches!(&err, KvError::Refused(why) if why.contains("400 Bad Request") && why.contains("\"field\":\"key\"")), "{err}");
    assert_eq!(e.error, Some(err.to_string()));
    assert_eq!(m.lock().unwrap().received.len(), 1);
    // A group served without a name server: refused too, nothing applied.
    m.lock().unwrap().script.push_back(Act::NoNameServer);
    let (e, result) = client.call(put("k", "v")).await;
    assert_eq!((e.outcome, e.attempts), (Outcome::Fail, 1));
    assert!(matches!(&result, Err(KvError::Refused(why)) if why.contains("no_name_server")), "{result:?}");
}

#[tokio::test]
async fn a_master_never_reached_fails_and_one_that_never_answers_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let ns = name_server(&closed, dir.path()).await;
    let mut client = Client::new("c1", &ns, "g", Instant::now(), 7, quick());
    let (e, result) = client.call(put("k", "v")).await;
    assert_eq!(e.outcome, Outcome::Fail, "{e:?}");
    assert!(e.attempts > 1, "retried until the deadline: {e:?}");
    assert!(matches!(result, Err(KvError::Unreachable(_))));
    assert!(e.complete_ms - e.invoke_ms >= 600.0, "{e:?}");

    let dir = tempfile::tempdir().unwrap();
    let (master, m) = fake(vec![]).await;
    m.lock().unwrap().otherwise = Some(Act::Hang);
    let ns = name_server(&master, dir.path()).await;
    let mut client = Client::new("c2", &ns, "g", Instant::now(), 7, quick());
    let (e, result) = client.call(put("k", "v")).await;
    assert_eq!(e.outcome, Outcome::Unknown, "{e:?}");
    assert!(matches!(&result, Err(KvError::Unknown(why)) if why.contains("no answer")), "{result:?}");
    // The next operation moves on to the next sequence number.
    let e = client.run(put("k", "w")).await;
    assert_eq!((e.seq, e.outcome), (2, Outcome::Unknown));
}

#[tokio::test]
async fn a_load_records_every_operation_and_its_history_is_linearizable() {
    let dir = tempfile::tempdir().unwrap();
    let (master, m) = fake(vec![Act::LoseAnswer, Act::Busy, Act::LoseAnswer]).await;
    let ns = name_server(&master, dir.path()).await;
    let spec = Spec { keys: 3, clients: 4, duration: Duration::from_millis(700), seed: 5, read_ratio: 0.3 };
    let tally = Arc::new(Tally::default());
    let history = load::run(&ns, "g", &spec, Settings::default(), tally.clone()).await;
    let received = m.lock().unwrap().received.len();
    assert!(history.events.len() > 20, "{}", history.events.len());
    assert_eq!(history.events.len() as u64, tally.done());
    assert_eq!(received, history.events.iter().map(|e| e.attempts as usize).sum::<usize>());
    assert!(history.events.windows(2).all(|w| w[0].invoke_ms <= w[1].invoke_ms), "in invocation order");
    assert!(history.events.iter().all(|e| e.outcome == Outcome::Ok));
    assert!(tally.line(Duration::from_secs(1)).contains("master a under epoch 1"), "{}", tally.line(Duration::from_secs(1)));
    let report = stagger_tests::check::linearizable(&history);
    assert!(report.is_linearizable(), "{:?}", report.problems());
    let (finals, errors) = load::read_all(&ns, "g", spec.keys, Settings::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(stagger_tests::check::lost_writes(&history, &finals), Vec::<String>::new());
    assert_eq!(stagger_tests::check::applied_twice(&history), Vec::<String>::new());
}

#[test]
fn a_load_that_makes_no_sense_is_refused_naming_the_flag() {
    let ok = Spec { keys: 3, clients: 4, duration: Duration::from_secs(1), seed: 1, read_ratio: 0.5 };
    assert_eq!(ok.check(), Ok(()));
    assert!(Spec { keys: 0, ..ok.clone() }.check().unwrap_err().starts_with("--keys"));
    assert!(Spec { clients: 0, ..ok.clone() }.check().unwrap_err().starts_with("--clients"));
    assert!(Spec { duration: Duration::ZERO, ..ok.clone() }.check().unwrap_err().starts_with("--seconds"));
    assert!(Spec { read_ratio: 1.5, ..ok }.check().unwrap_err().starts_with("--read-ratio"));
}
