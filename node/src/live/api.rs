//! The node's HTTP routes beside the playground: `GET /api/status`,
//! `GET /api/trace`, `GET /api/flight` (the engine's flight recording),
//! `GET /api/group` (members, scenario and name server, no secret),
//! `GET /api/delays` (the measured round trips to every other member),
//! `POST /api/admin/{crash,recover,isolate,heal}` and `POST /api/admin/link`
//! (`links.rs`) with `Authorization: Bearer <token>`, and the `/ws` upgrade;
//! and the replicated service's `POST /api/kv`, `GET /api/service` and
//! `/ws/replica` (`crate::service`).

use super::{authorized, isolated, mesh, Node, PeerState};
use crate::runtime::{EngineCommand, LogEntry, NodeStatus};
use crate::serve::{text, Upgrade};
use axum::extract::{OriginalUri, Path, Query, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use stagger_core::flight::Recording;
use stagger_core::scenario::ScenarioFile;
use stagger_core::sim::What;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tower_http::cors::{Any, CorsLayer};

/// `/api/status`: the engine's status, and how this node sees the others.
#[derive(Clone, Debug, Serialize)]
pub struct StatusReport {
    #[serde(flatten)]
    pub status: NodeStatus,
    /// Whether an admin has cut this node off (`/api/admin/isolate`).
    pub isolated: bool,
    /// Every other member, in `servers` order.
    pub peers: Vec<PeerReport>,
    /// The registration with the name server, when the group has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nameserver: Option<super::RegistrationReport>,
    /// The configuration this node runs, when the group has a name server
    /// (docs/protocol.md N22).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<super::ConfigReport>,
    /// The emulated delay of this node's sends to each member, now and as
    /// configured, when the group emulates delays (`links.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<std::collections::BTreeMap<String, super::LinkDelay>>,
    /// The replicated service's replica on this node (`GET /api/service`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<stagger_core::service::Status>,
}

/// One other member in [`StatusReport`].
#[derive(Clone, Debug, Serialize)]
pub struct PeerReport {
    pub id: String,
    /// `native` or `browser`.
    pub kind: &'static str,
    pub state: PeerState,
}

/// `/api/group`: everything a Live view needs to find the members; never
/// the secret.
#[derive(Clone, Debug, Serialize)]
pub struct GroupReport {
    pub members: Vec<MemberReport>,
    pub scenario: ScenarioFile,
    pub emulate_delays: bool,
    /// The name server the group's master registers with, when the group
    /// file names one: the Live tab watches it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nameserver: Option<NameServerReport>,
}

/// Where a Live view finds the group's registration: `GET {url}/v1/groups/{group}`
/// and the WebSocket `{url}/v1/groups/{group}/watch`.
#[derive(Clone, Debug, Serialize)]
pub struct NameServerReport {
    /// `http://HOST:PORT`, as the group file names it.
    pub url: String,
    /// The group's name there (the scenario's name).
    pub group: String,
}

/// One member in [`GroupReport`].
#[derive(Clone, Debug, Serialize)]
pub struct MemberReport {
    pub id: String,
    /// Where a native member listens; `None` for a browser member.
    pub addr: Option<String>,
    pub browser: bool,
}

/// `/api/trace`: the node's recent log.
#[derive(Clone, Debug, Serialize)]
pub struct TraceReport {
    pub id: String,
    pub events: Vec<LogEntry>,
}

/// `/api/flight`: the engine's flight recording.
#[derive(Clone, Debug, Serialize)]
pub struct FlightReport {
    pub id: String,
    pub recording: Recording,
}

/// The query of `/api/flight`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FlightQuery {
    /// Leave out messages sent before this engine time (µs).
    pub since_us: Option<u64>,
}

/// The answer to an admin action that was carried out.
#[derive(Clone, Debug, Serialize)]
pub struct AdminReport {
    /// Always `true`: a refused action gets an error status instead.
    pub ok: bool,
    /// What was done.
    pub detail: &'static str,
    /// The node's status right after.
    pub status: StatusReport,
}

impl Node {
    /// What `/api/status` reports.
    pub fn report(&self) -> StatusReport {
        let status = self.engine.status.borrow().clone();
        let slots = self.slots.lock().expect("slots lock");
        let peers = (self.group.members.iter().enumerate())
            .filter(|(r, _)| *r as u32 != self.me)
            .map(|(r, m)| PeerReport {
                id: m.id.clone(),
                kind: match m.kind {
                    crate::group::MemberKind::Native => "native",
                    crate::group::MemberKind::Browser => "browser",
                },
                state: slots[r].state,
            })
            .collect();
        let mut nameserver = self.registration.lock().expect("registration lock").clone();
        if let Some(r) = &mut nameserver {
            r.serving = r.until.is_some_and(|until| tokio::time::Instant::now() < until);
        }
        let configuration = self.group.nameserver.is_some().then(|| self.config_report());
        let service = self.service.status();
        StatusReport { status, isolated: isolated(self), peers, nameserver, configuration, links: self.link_delays(), service }
    }
}

/// The node's routes. The API allows any origin: the Live view of a
/// playground served by one node reads and controls the others, and the
/// admin token, not the origin, guards the actions.
pub(super) fn router(node: Arc<Node>) -> Router {
    let cors = CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::POST]).allow_headers([AUTHORIZATION]);
    let use_get = || async { text(StatusCode::METHOD_NOT_ALLOWED, "use GET") };
    let api = Router::new()
        .route("/status", get(status).fallback(use_get))
        .route("/trace", get(trace).fallback(use_get))
        .route("/flight", get(flight).fallback(use_get))
        .route("/group", get(group).fallback(not_found))
        .route("/delays", get(delays).fallback(use_get))
        .route("/kv", post(crate::service::kv).fallback(|| async { text(StatusCode::METHOD_NOT_ALLOWED, "use POST") }))
        .route("/service", get(crate::service::service_status).fallback(use_get))
        .route("/admin/link", post(link).fallback(not_found))
        .route("/admin/{action}", post(admin).fallback(not_found))
        .fallback(not_found)
        .layer(cors)
        .layer(middleware::from_fn(preflight_no_content));
    Router::new().nest("/api", api).route("/ws", any(ws)).route("/ws/replica", any(ws_replica)).with_state(node)
}

/// A preflight is answered 204 No Content (tower-http's CORS layer says
/// 200 OK; both are fine for browsers, 204 is what a node has always sent).
async fn preflight_no_content(req: Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS;
    let mut response = next.run(req).await;
    if preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

async fn not_found(OriginalUri(uri): OriginalUri) -> Response {
    text(StatusCode::NOT_FOUND, &format!("not found: {uri}"))
}

async fn status(State(node): State<Arc<Node>>) -> Json<StatusReport> {
    Json(node.report())
}

async fn group(State(node): State<Arc<Node>>) -> Json<GroupReport> {
    let members = (node.group.members.iter())
        .map(|m| MemberReport {
            id: m.id.clone(),
            addr: m.addr.map(|a| a.to_string()),
            browser: m.kind == crate::group::MemberKind::Browser,
        })
        .collect();
    let nameserver = node.group.nameserver.clone().map(|url| NameServerReport { url, group: node.group.scenario.name.clone() });
    Json(GroupReport { members, scenario: node.group.file.clone(), emulate_delays: node.group.emulate_delays, nameserver })
}

/// The round trips this node measured to every other member, with their
/// one-way estimates (`stagger_core::measured`; docs/protocol.md M1–M5).
async fn delays(State(node): State<Arc<Node>>) -> Json<stagger_core::measured::DelaysReport> {
    Json(super::delays::report(&node))
}

async fn trace(State(node): State<Arc<Node>>) -> Json<TraceReport> {
    Json(TraceReport { id: node.id().to_string(), events: node.engine.log.recent() })
}

/// The engine's flight recording, in the simulator's trace vocabulary and
/// engine time (µs since the Unix epoch), for observers that draw the group
/// (stagger_core::flight). `?since_us=T` leaves out messages before T (role
/// changes are always sent), so an observer polling a window stays cheap.
async fn flight(State(node): State<Arc<Node>>, Query(q): Query<FlightQuery>) -> Json<FlightReport> {
    let mut recording = node.engine.flight.recording();
    if let Some(since) = q.since_us {
        recording.events.retain(|e| e.t.0 >= since || matches!(e.what, What::Role { .. } | What::Note { .. }));
    }
    Json(FlightReport { id: node.id().to_string(), recording })
}

/// The 403 answer when the request does not carry this node's admin token.
fn refused(node: &Node, headers: &HeaderMap) -> Option<Response> {
    let token = (headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    if !authorized(node, token) {
        let why = if node.admin_token.is_none() {
            "admin actions are disabled on this node (start it with --admin-token)"
        } else {
            "wrong or missing admin token"
        };
        node.log(format!("refused an admin request: {why}"));
        return Some(text(StatusCode::FORBIDDEN, why));
    }
    None
}

/// `POST /api/admin/link` with a [`LinkRequest`](super::LinkRequest): the
/// emulated delay of this node's side of a link (`links.rs`).
async fn link(State(node): State<Arc<Node>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Some(refusal) = refused(&node, &headers) {
        return refusal;
    }
    match node.change_link(&body) {
        Ok(report) => Json(report).into_response(),
        Err(e) => {
            node.log(format!("refused a link change: {e}"));
            text(e.status(), &format!("refused: {e}; nothing was changed"))
        }
    }
}

async fn admin(State(node): State<Arc<Node>>, Path(action): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&node, &headers) {
        return refusal;
    }
    let detail = match action.as_str() {
        "crash" => node.engine.commands.send(EngineCommand::Crash).map(|_| "crashed"),
        "recover" => node.engine.commands.send(EngineCommand::Recover).map(|_| "recovered"),
        "isolate" => {
            node.isolated.store(true, Ordering::SeqCst);
            Ok("isolated: every message in or out is dropped")
        }
        "heal" => {
            // Two masters may have been elected on the two sides: a master
            // that comes back tells everyone at once (docs/protocol.md L11).
            if node.isolated.swap(false, Ordering::SeqCst) {
                node.announce(None);
                // The replicas start over on new connections (KN11).
                crate::service::reconnect(&node, |_| true);
            }
            Ok("healed")
        }
        other => {
            let why = format!("unknown admin action '{other}': use crash, recover, isolate, heal or link");
            return text(StatusCode::NOT_FOUND, &why);
        }
    };
    node.log(format!("admin: {action}"));
    match detail {
        Ok(detail) => Json(AdminReport { ok: true, detail, status: node.report() }).into_response(),
        Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "the engine has stopped"),
    }
}

/// `/ws`: peers, browser members and observers. The session runs on the
/// node's own task set, which shutdown stops.
async fn ws(State(node): State<Arc<Node>>, upgrade: Upgrade) -> Response {
    let me = node.clone();
    let (response, session) = upgrade.accept(mesh::ws_config(), move |ws| mesh::accept(me, ws));
    node.spawn_session(session);
    response
}

/// `/ws/replica`: the replicas' own connections (`crate::service`).
async fn ws_replica(State(node): State<Arc<Node>>, upgrade: Upgrade) -> Response {
    let me = node.clone();
    let (response, session) = upgrade.accept(crate::service::ws_config(), move |ws| crate::service::accept(me, ws));
    node.spawn_session(session);
    response
}
