//! The name server over HTTP/JSON, for any [`NameStore`]:
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `GET /v1/groups/{group}` | | the view: master (or `null`), configuration, highest epoch, `seq` |
//! | `PUT /v1/groups/{group}/config` | `{"expected_version", "members"}` | the new configuration (N9) |
//! | `POST /v1/groups/{group}/register` | `{"member", "addr", "ranking_version", "held"?, "ttl_ms"}` | `{"epoch", "ttl_ms"}` |
//! | `POST /v1/groups/{group}/renew` | `{"epoch"}` | `{"epoch", "ttl_ms"}` |
//! | `POST /v1/groups/{group}/resign` | `{"epoch"}` | `{}` |
//! | `GET /v1/groups/{group}/changes?after=N` | | the changes after `N`, or `behind` (N10) |
//! | `GET /v1/groups/{group}/watch?after=N` | | WebSocket: one JSON text frame per change |
//!
//! A refusal is a JSON object `{"error": kind, "reason": text, "fault":
//! "caller"|"server", ...fields}` with a status that says the same: 400 for
//! malformed input, 404 for an unknown group, 409 for a stale or
//! conflicting request, 413 for a body over the server's limit, 500/503 for
//! the server's own failures. A refused request changes nothing (N11).

use super::{Event, NameStore, StoreError, Watcher};
use crate::serve::Upgrade;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, OriginalUri, Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use stagger_core::names::{check_group, Feed, Grant, NameError, Register, View};
use stagger_core::Span;
use tokio_tungstenite::tungstenite::Message;
use tower_http::cors::{Any, CorsLayer};

/// The largest request body read. Here rather than in the server's
/// `max_body_bytes` (which `stagger nameserver` lifts) so that an oversized
/// body is refused by the JSON extractor, with a JSON reason like every
/// other refusal, instead of a plain-text 413 from the outer layer.
pub const MAX_BODY: usize = 64 * 1024;

/// The server settings of a name server on `store`: these routes, no
/// files, and the body limit left to the routes (`MAX_BODY`), so that the
/// refusal of an oversized body is JSON.
pub fn config<S: NameStore>(store: S) -> crate::serve::Config {
    crate::serve::Config { assets: &[], app: Some(router(store)), max_body_bytes: usize::MAX, ..crate::serve::Config::default() }
}

/// The routes, with `store` as their state.
pub fn router<S: NameStore>(store: S) -> Router {
    // Reads from any origin, so a playground served elsewhere can show the
    // registration; writes stay same-origin (a JSON POST needs a preflight,
    // which this does not grant).
    let cors = CorsLayer::new().allow_origin(Any).allow_methods([Method::GET]);
    Router::new()
        .route("/v1/groups/{group}", get(lookup::<S>).fallback(wrong_method))
        .route("/v1/groups/{group}/config", put(reconfigure::<S>).fallback(wrong_method))
        .route("/v1/groups/{group}/register", post(register::<S>).fallback(wrong_method))
        .route("/v1/groups/{group}/renew", post(renew::<S>).fallback(wrong_method))
        .route("/v1/groups/{group}/resign", post(resign::<S>).fallback(wrong_method))
        .route("/v1/groups/{group}/changes", get(changes::<S>).fallback(wrong_method))
        .route("/v1/groups/{group}/watch", get(watch::<S>).fallback(wrong_method))
        .route("/", any(not_found))
        .route("/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(cors)
        .with_state(store)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigBody {
    expected_version: u64,
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    member: String,
    addr: String,
    ranking_version: u64,
    #[serde(default)]
    held: Option<u64>,
    ttl_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EpochBody {
    epoch: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct After {
    #[serde(default)]
    after: Option<u64>,
}

/// A grant as the client sees it: the server's expiry instant means
/// nothing to the client, whose lease ends by its own clock (N6).
#[derive(Serialize)]
struct GrantBody {
    epoch: u64,
    ttl_ms: u64,
}

impl From<Grant> for GrantBody {
    fn from(g: Grant) -> GrantBody {
        GrantBody { epoch: g.epoch, ttl_ms: g.ttl.as_micros() / 1000 }
    }
}

/// A refusal, as JSON with its status.
pub struct Refusal(StatusCode, Value);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        let reason = e.to_string();
        match e {
            StoreError::Refused(e) => {
                let status = match &e {
                    NameError::UnknownGroup { .. } => StatusCode::NOT_FOUND,
                    NameError::BadRequest { .. } | NameError::EpochFromFuture { .. } => StatusCode::BAD_REQUEST,
                    NameError::TimeWentBack { .. } => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::CONFLICT,
                };
                let fault = if status.is_server_error() { "server" } else { "caller" };
                let mut body = serde_json::to_value(&e).expect("errors serialize");
                body["reason"] = reason.into();
                body["fault"] = fault.into();
                Refusal(status, body)
            }
            StoreError::Storage(_) => {
                Refusal(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "storage", "reason": reason, "fault": "server"}))
            }
            // A backend that is itself a client (etcd, another name
            // server) could not get an answer.
            StoreError::Unreachable { .. } | StoreError::BadAnswer { .. } => {
                Refusal(StatusCode::BAD_GATEWAY, json!({"error": "backend_unavailable", "reason": reason, "fault": "server"}))
            }
        }
    }
}

fn bad_input(status: StatusCode, reason: String) -> Refusal {
    Refusal(status, json!({"error": "bad_input", "reason": reason, "fault": "caller"}))
}

impl From<JsonRejection> for Refusal {
    fn from(r: JsonRejection) -> Refusal {
        bad_input(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for Refusal {
    fn from(r: QueryRejection) -> Refusal {
        bad_input(StatusCode::BAD_REQUEST, r.body_text())
    }
}

/// The group name from the path, checked before any backend sees it.
fn group_name(group: &str) -> Result<(), Refusal> {
    check_group(group).map_err(|e| Refusal::from(StoreError::Refused(e)))
}

async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> Refusal {
    let reason =
        format!("{method} is not allowed on {uri}: lookup, changes and watch are GET, config is PUT, register, renew and resign are POST");
    Refusal(StatusCode::METHOD_NOT_ALLOWED, json!({"error": "method_not_allowed", "reason": reason, "fault": "caller"}))
}

async fn not_found(OriginalUri(uri): OriginalUri) -> Refusal {
    Refusal(
        StatusCode::NOT_FOUND,
        json!({"error": "not_found", "reason": format!("no route {uri}: the API is under /v1/groups/"), "fault": "caller"}),
    )
}

async fn lookup<S: NameStore>(State(store): State<S>, Path(group): Path<String>) -> Result<Json<View>, Refusal> {
    group_name(&group)?;
    Ok(Json(store.lookup(&group).await?))
}

async fn reconfigure<S: NameStore>(
    State(store): State<S>,
    Path(group): Path<String>,
    body: Result<Json<ConfigBody>, JsonRejection>,
) -> Result<Response, Refusal> {
    group_name(&group)?;
    let Json(body) = body?;
    Ok(Json(store.reconfigure(&group, body.expected_version, body.members).await?).into_response())
}

async fn register<S: NameStore>(
    State(store): State<S>,
    Path(group): Path<String>,
    body: Result<Json<RegisterBody>, JsonRejection>,
) -> Result<Json<GrantBody>, Refusal> {
    group_name(&group)?;
    let Json(b) = body?;
    let req = Register {
        member: b.member,
        addr: b.addr,
        ranking_version: b.ranking_version,
        held: b.held,
        ttl: Span(b.ttl_ms.saturating_mul(1000)),
    };
    // The registry clamps it to the server's bounds (N5); saturating, so
    // that an absurd number is clamped too instead of overflowing.
    Ok(Json(store.register(&group, req).await?.into()))
}

async fn renew<S: NameStore>(
    State(store): State<S>,
    Path(group): Path<String>,
    body: Result<Json<EpochBody>, JsonRejection>,
) -> Result<Json<GrantBody>, Refusal> {
    group_name(&group)?;
    let Json(b) = body?;
    Ok(Json(store.renew(&group, b.epoch).await?.into()))
}

async fn resign<S: NameStore>(
    State(store): State<S>,
    Path(group): Path<String>,
    body: Result<Json<EpochBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    group_name(&group)?;
    let Json(b) = body?;
    store.resign(&group, b.epoch).await?;
    Ok(Json(json!({})))
}

async fn changes<S: NameStore>(
    State(store): State<S>,
    Path(group): Path<String>,
    after: Result<Query<After>, QueryRejection>,
) -> Result<Json<Feed>, Refusal> {
    group_name(&group)?;
    let Query(after) = after?;
    Ok(Json(store.changes(&group, after.after.unwrap_or(0)).await?))
}

/// `watch`: a WebSocket that sends every event of the group's watcher as
/// a JSON text frame (`{"resync": view}` or `{"change": change}`).
/// Refusals (unknown group, bad `after`) come before the upgrade, as plain
/// HTTP answers.
async fn watch<S: NameStore>(
    State(store): State<S>,
    Path(group): Path<String>,
    after: Result<Query<After>, QueryRejection>,
    upgrade: Upgrade,
) -> Result<Response, Refusal> {
    group_name(&group)?;
    let Query(after) = after?;
    let mut watcher = store.watch(&group, after.after).await?;
    let (response, session) = upgrade.accept(crate::live::ws_config(), move |mut socket| async move {
        loop {
            // A watcher that closes (or sends anything: the stream is
            // one-way) ends the session.
            let event = tokio::select! {
                event = watcher.next() => event,
                _ = socket.next() => return,
            };
            let Ok(event) = event else { return };
            if send(&mut socket, &event).await.is_err() {
                return;
            }
        }
    });
    tokio::spawn(session);
    Ok(response)
}

async fn send(socket: &mut crate::serve::Socket, frame: &Event) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let text = serde_json::to_string(frame).expect("frames serialize");
    socket.send(Message::text(text)).await
}
