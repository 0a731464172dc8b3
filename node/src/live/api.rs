//! The node's HTTP routes beside the playground: `GET /api/status`,
//! `GET /api/trace`, `GET /api/flight` (the engine's flight recording), `GET /api/group` (members and scenario, no secret), `POST /api/admin/{crash,recover,isolate,heal}` with
//! `Authorization: Bearer <token>`, and the `/ws` upgrade.

use super::{authorized, isolated, mesh, Node};
use crate::runtime::EngineCommand;
use crate::serve::{ApiResponse, App, Request};
use serde_json::json;
use stagger_core::sim::What;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role as WsRole;
use tokio_tungstenite::WebSocketStream;

impl Node {
    /// The JSON of `/api/status`.
    pub fn status_json(&self) -> serde_json::Value {
        let s = self.engine.status.borrow().clone();
        let slots = self.slots.lock().expect("slots lock");
        let peers: Vec<_> = self
            .group
            .members
            .iter()
            .enumerate()
            .filter(|(r, _)| *r as u32 != self.me)
            .map(|(r, m)| {
                let kind = match m.kind {
                    crate::group::MemberKind::Native => "native",
                    crate::group::MemberKind::Browser => "browser",
                };
                json!({"id": m.id, "kind": kind, "state": slots[r].state})
            })
            .collect();
        json!({
            "id": s.id, "index": s.index, "role": s.role, "master": s.master,
            "ranking_version": s.ranking_version, "up": s.up, "isolated": isolated(self),
            "late_wakeups": s.late_wakeups, "peers": peers,
        })
    }
}

impl App for Node {
    fn respond(&self, req: &Request) -> Option<ApiResponse> {
        let path = req.target.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("GET" | "HEAD", "/api/status") => Some(ApiResponse::json(200, &self.status_json())),
            ("GET" | "HEAD", "/api/group") => {
                // Everything a Live view needs to find the members; never the secret.
                let members: Vec<_> = self
                    .group
                    .members
                    .iter()
                    .map(|m| json!({"id": m.id, "addr": m.addr.map(|a| a.to_string()), "browser": m.kind == crate::group::MemberKind::Browser}))
                    .collect();
                Some(ApiResponse::json(
                    200,
                    &json!({"members": members, "scenario": self.group.file, "emulate_delays": self.group.emulate_delays}),
                ))
            }
            ("GET" | "HEAD", "/api/trace") => Some(ApiResponse::json(200, &json!({"id": self.id(), "events": self.engine.log.recent()}))),
            // The engine's flight recording, in the simulator's trace
            // vocabulary and engine time (µs since the Unix epoch), for
            // observers that draw the group (stagger_core::flight).
            // `?since_us=T` leaves out messages before T (role changes are
            // always sent), so an observer polling a window stays cheap.
            ("GET" | "HEAD", "/api/flight") => {
                let mut rec = self.engine.flight.recording();
                if let Some(since) = query(&req.target, "since_us").and_then(|v| v.parse::<u64>().ok()) {
                    rec.events.retain(|e| e.t.0 >= since || matches!(e.what, What::Role { .. } | What::Note { .. }));
                }
                Some(ApiResponse::json(200, &json!({"id": self.id(), "recording": rec})))
            }
            ("POST", p) if p.starts_with("/api/admin/") => {
                let token = req.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
                if !authorized(self, token) {
                    let why = if self.admin_token.is_none() {
                        "admin actions are disabled on this node (start it with --admin-token)"
                    } else {
                        "wrong or missing admin token"
                    };
                    self.log(format!("refused an admin request: {why}"));
                    return Some(ApiResponse::text(403, why));
                }
                let action = &p["/api/admin/".len()..];
                let detail = match action {
                    "crash" => self.engine.commands.send(EngineCommand::Crash).map(|_| "crashed"),
                    "recover" => self.engine.commands.send(EngineCommand::Recover).map(|_| "recovered"),
                    "isolate" => {
                        self.isolated.store(true, Ordering::SeqCst);
                        Ok("isolated: every message in or out is dropped")
                    }
                    "heal" => {
                        // Two masters may have been elected on the two sides:
                        // a master that comes back tells everyone at once
                        // (docs/protocol.md L11).
                        if self.isolated.swap(false, Ordering::SeqCst) {
                            self.announce(None);
                        }
                        Ok("healed")
                    }
                    other => {
                        return Some(ApiResponse::text(
                            404,
                            &format!("unknown admin action '{other}': use crash, recover, isolate or heal"),
                        ))
                    }
                };
                self.log(format!("admin: {action}"));
                Some(match detail {
                    Ok(d) => ApiResponse::json(200, &json!({"ok": true, "detail": d, "status": self.status_json()})),
                    Err(_) => ApiResponse::text(503, "the engine has stopped"),
                })
            }
            (_, "/api/status" | "/api/trace" | "/api/flight") => Some(ApiResponse::text(405, "use GET")),
            _ => None,
        }
    }

    fn upgrade<'a>(&'a self, socket: &'a mut TcpStream, req: Request) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            // serve.rs answers 400 to an upgrade without a key before
            // handing the socket over.
            let Some(key) = req.header("sec-websocket-key") else { return };
            let head = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                derive_accept_key(key.as_bytes())
            );
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let ws = WebSocketStream::from_raw_socket(socket, WsRole::Server, Some(mesh::ws_config())).await;
            let me = self.arc();
            mesh::accept(me, ws).await;
        })
    }
}

/// The value of `key` in the query string of `target`, if any.
fn query<'a>(target: &'a str, key: &str) -> Option<&'a str> {
    target.split_once('?')?.1.split('&').find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
}

impl Node {
    /// This node as an `Arc`, for sessions that share it.
    fn arc(&self) -> Arc<Node> {
        self.this.upgrade().expect("a node serving requests is alive")
    }
}
