//! The service's HTTP API (docs/protocol.md KN7, KN8):
//!
//! - `POST /api/kv[?group=NAME]` with a `stagger_core::service::Request`
//!   as JSON (`{"client":"c1","seq":1,"op":"put","key":"k","value":"v"}`):
//!   200 with the `Reply`, or the `Refusal` as JSON (tagged `error`) with
//!   the status that says whose fault it is and whether to retry:
//!
//!   | error                | status | note                                        |
//!   |----------------------|--------|---------------------------------------------|
//!   | `not_master`         | 421    | `addr`: the master's `host:port`, if known  |
//!   | `unknown`            | 503    | may or may not be applied: retry, same seq  |
//!   | `busy`               | 503    | nothing applied: retry later                |
//!   | `sequence_went_back` | 409    | nothing applied                             |
//!   | `bad_request`        | 400    | `field` and `reason`; nothing applied       |
//!   | `bad_request`        | 413    | `field: body`: over [`MAX_KV_BODY`]          |
//!   | `unknown_group`      | 404    | `?group=` names another group               |
//!   | `no_name_server`     | 503    | the group file names none: no service       |
//!
//!   A request the replica has not answered within [`REPLY_WITHIN`] gets
//!   503 `{"error":"unknown"}`: it may still be applied.
//! - `GET /api/service`: the replica's `Status`.

use crate::live::Node;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use stagger_core::service::{Refusal, Request};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The largest `/api/kv` body: room for a value at the replica's limit
/// (64 KiB) even if every byte of it is escaped in JSON.
pub const MAX_KV_BODY: usize = 512 * 1024;

/// How long a request may wait for the replica's answer.
pub const REPLY_WITHIN: Duration = Duration::from_secs(5);

/// `POST /api/kv`. Unlike the node's other routes (one request per
/// connection, L13), its answers keep the connection open: a client of the
/// store sends request after request, and a TCP handshake per write would
/// cost more than the write (KN12).
pub async fn kv(state: State<Arc<Node>>, query: Query<HashMap<String, String>>, body: Body) -> Response {
    let mut response = answer(state, query, body).await;
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("keep-alive"));
    response
}

async fn answer(State(node): State<Arc<Node>>, Query(query): Query<HashMap<String, String>>, body: Body) -> Response {
    if let Some(group) = query.get("group") {
        if *group != node.group.scenario.name {
            return (StatusCode::NOT_FOUND, Json(json!({"error": "unknown_group", "group": group}))).into_response();
        }
    }
    if node.group.nameserver.is_none() {
        // No epochs without a name server, so no master for clients (KN5):
        // say so rather than redirect from node to node.
        let reason = "this group's file names no name server: the key-value service needs one for its epochs";
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "no_name_server", "reason": reason}))).into_response();
    }
    let bytes = match axum::body::to_bytes(body, MAX_KV_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let reason = format!("the body is larger than the {MAX_KV_BODY}-byte limit");
            return refusal(&node, StatusCode::PAYLOAD_TOO_LARGE, Refusal::BadRequest { field: "body".into(), reason });
        }
    };
    let request: Request = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            let reason = format!("not a request ({{\"client\", \"seq\", \"op\", ...}}): {e}");
            return refusal(&node, StatusCode::BAD_REQUEST, Refusal::BadRequest { field: "body".into(), reason });
        }
    };
    let answer = node.service.request(request);
    match tokio::time::timeout(REPLY_WITHIN, answer).await {
        Ok(Ok(Ok(reply))) => Json(reply).into_response(),
        Ok(Ok(Err(r))) => {
            let status = status_of(&r);
            refusal(&node, status, r)
        }
        // The driver stopped, or did not answer in time: the outcome is
        // unknown to the client.
        Ok(Err(_)) | Err(_) => refusal(&node, StatusCode::SERVICE_UNAVAILABLE, Refusal::Unknown),
    }
}

/// The status that says whose fault a refusal is.
fn status_of(r: &Refusal) -> StatusCode {
    match r {
        Refusal::NotMaster { .. } => StatusCode::MISDIRECTED_REQUEST,
        Refusal::Unknown | Refusal::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Refusal::SequenceWentBack { .. } => StatusCode::CONFLICT,
        Refusal::BadRequest { .. } => StatusCode::BAD_REQUEST,
    }
}

/// A refusal as JSON. A `not_master` names the master's address from the
/// group file, the replica's master or else the election's.
fn refusal(node: &Node, status: StatusCode, r: Refusal) -> Response {
    let r = match r {
        Refusal::NotMaster { master: None } => Refusal::NotMaster { master: election_master(node) },
        other => other,
    };
    let mut v: Value = serde_json::to_value(&r).expect("refusals serialize");
    if let Refusal::NotMaster { master: Some(m) } = &r {
        let addr = node.group.row_of(m).and_then(|row| node.group.members[row as usize].addr);
        if let Some(addr) = addr {
            v["addr"] = json!(addr.to_string());
        }
    }
    (status, Json(v)).into_response()
}

/// The master the election names, when it is another node.
fn election_master(node: &Node) -> Option<String> {
    node.election_master().filter(|m| m != node.id())
}

/// `GET /api/service`.
pub async fn service_status(State(node): State<Arc<Node>>) -> Response {
    match node.service.status() {
        Some(status) => Json(status).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "unknown", "reason": "the replica has not started yet"})))
            .into_response(),
    }
}
