//! The accepting side of a WebSocket upgrade: hyper hands over the
//! connection after the `101`, and tokio-tungstenite, which the mesh also
//! dials with, speaks WebSocket on it from then on. (axum's own `ws`
//! feature would bring a second tungstenite.)

use super::files::text;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::OwnedSemaphorePermit;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// A WebSocket on an upgraded HTTP connection.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// The connection's place among [`super::Config::max_connections`]. Every
/// request carries its connection's; an upgraded connection keeps it until
/// its session ends.
#[derive(Clone)]
pub(super) struct Slot {
    pub(super) _permit: Arc<OwnedSemaphorePermit>,
}

/// A request to upgrade to WebSocket, checked: an extractor. A request that
/// is not one is answered 400 with what is missing.
pub struct Upgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
    slot: Option<Slot>,
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Upgrade, Response> {
        let websocket = parts.headers.get(UPGRADE).and_then(|v| v.to_str().ok()).is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        if !websocket {
            return Err(text(StatusCode::BAD_REQUEST, "/ws speaks WebSocket: send an Upgrade: websocket request"));
        }
        let Some(key) = parts.headers.get(SEC_WEBSOCKET_KEY).cloned() else {
            return Err(text(StatusCode::BAD_REQUEST, "a WebSocket upgrade needs a Sec-WebSocket-Key header (RFC 6455, 4.1)"));
        };
        // hyper offers the connection only to an HTTP/1.1 request that asks
        // for an upgrade.
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return Err(text(StatusCode::BAD_REQUEST, "a WebSocket upgrade needs HTTP/1.1"));
        };
        Ok(Upgrade { key, on_upgrade, slot: parts.extensions.get::<Slot>().cloned() })
    }
}

impl Upgrade {
    /// The `101 Switching Protocols` answer, and the session: a future that,
    /// once the client has the answer, runs `session` on the socket. The
    /// caller spawns it (and decides how shutdown reaches it).
    pub fn accept<F, Fut>(self, config: WebSocketConfig, session: F) -> (Response, impl Future<Output = ()> + Send + 'static)
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let Upgrade { key, on_upgrade, slot } = self;
        let response = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(UPGRADE, "websocket")
            .header(CONNECTION, "Upgrade")
            .header(SEC_WEBSOCKET_ACCEPT, derive_accept_key(key.as_bytes()))
            .body(Body::empty())
            .expect("a 101 with valid headers");
        let run = async move {
            let _slot = slot;
            let Ok(upgraded) = on_upgrade.await else { return };
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
            session(ws).await;
        };
        (response, run)
    }
}
