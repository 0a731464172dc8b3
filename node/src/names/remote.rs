//! [`NameStore`] over HTTP: a client of `stagger nameserver` (the routes of
//! `http.rs`), so that a node, `stagger client` and the conformance tests
//! speak to a name server in another process through the same trait as to
//! one in their own.

use super::{Event, NameStore, StorageError, StoreError, Watcher};
use crate::cli::root_cause;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use stagger_core::names::{Configuration, Feed, Grant, NameError, Register, View};
use stagger_core::{Span, Time};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A name server at `http://HOST:PORT`.
#[derive(Clone)]
pub struct Remote {
    base: String,
    client: reqwest::Client,
}

impl Remote {
    /// A client of the name server at `base` (`http://HOST:PORT`, no path).
    pub fn new(base: &str) -> Remote {
        // The server closes every connection after one answer (L13), so
        // keeping idle ones is useless.
        let client =
            reqwest::Client::builder().timeout(TIMEOUT).pool_max_idle_per_host(0).build().expect("an HTTP client without TLS builds");
        Remote { base: base.trim_end_matches('/').to_owned(), client }
    }

    fn url(&self, group: &str, what: &str) -> String {
        format!("{}/v1/groups/{group}{what}", self.base)
    }

    /// One request; its answer decoded, or the refusal in it typed.
    async fn call<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, StoreError> {
        let unreachable = |e: reqwest::Error| StoreError::Unreachable { url: self.base.clone(), reason: root_cause(&e) };
        let response = req.send().await.map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        let bad = |reason: String| StoreError::BadAnswer { url: self.base.clone(), reason };
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| bad(format!("{status} with {e}: {text}")));
        }
        let value: Value = serde_json::from_str(&text).map_err(|_| bad(format!("{status} without a JSON reason: {text}")))?;
        if let Ok(refusal) = serde_json::from_value::<NameError>(value.clone()) {
            return Err(StoreError::Refused(refusal));
        }
        let reason = value["reason"].as_str().unwrap_or(&text).to_owned();
        if value["error"] == "storage" {
            return Err(StoreError::Storage(StorageError { action: "answer", path: self.base.clone().into(), reason }));
        }
        Err(bad(format!("{status}: {reason}")))
    }
}

/// A grant as the HTTP answer carries it.
#[derive(serde::Deserialize)]
struct GrantBody {
    epoch: u64,
    ttl_ms: u64,
}

impl From<GrantBody> for Grant {
    /// The server's expiry instant is not sent (it is on the server's
    /// clock); `expires` is left at zero.
    fn from(g: GrantBody) -> Grant {
        Grant { epoch: g.epoch, ttl: Span::from_ms(g.ttl_ms), expires: Time::ZERO }
    }
}

impl NameStore for Remote {
    async fn register(&self, group: &str, req: Register) -> Result<Grant, StoreError> {
        let body = json!({"member": req.member, "addr": req.addr, "ranking_version": req.ranking_version, "held": req.held, "ttl_ms": req.ttl.as_micros() / 1000});
        let grant: GrantBody = self.call(self.client.post(self.url(group, "/register")).json(&body)).await?;
        Ok(grant.into())
    }

    async fn renew(&self, group: &str, epoch: u64) -> Result<Grant, StoreError> {
        let grant: GrantBody = self.call(self.client.post(self.url(group, "/renew")).json(&json!({"epoch": epoch}))).await?;
        Ok(grant.into())
    }

    async fn resign(&self, group: &str, epoch: u64) -> Result<(), StoreError> {
        let _: Value = self.call(self.client.post(self.url(group, "/resign")).json(&json!({"epoch": epoch}))).await?;
        Ok(())
    }

    async fn reconfigure(&self, group: &str, expected: u64, members: Vec<String>) -> Result<Configuration, StoreError> {
        self.call(self.client.put(self.url(group, "/config")).json(&json!({"expected_version": expected, "members": members}))).await
    }

    async fn lookup(&self, group: &str) -> Result<View, StoreError> {
        self.call(self.client.get(self.url(group, ""))).await
    }

    async fn changes(&self, group: &str, after: u64) -> Result<Feed, StoreError> {
        self.call(self.client.get(self.url(group, &format!("/changes?after={after}")))).await
    }

    type Watcher = RemoteWatcher;

    async fn watch(&self, group: &str, after: Option<u64>) -> Result<RemoteWatcher, StoreError> {
        // Ask first over plain HTTP, so that an unknown group is the
        // server's typed refusal rather than a failed upgrade.
        self.lookup(group).await?;
        let query = after.map_or(String::new(), |n| format!("?after={n}"));
        let url = self.url(group, &format!("/watch{query}")).replacen("http://", "ws://", 1);
        let connect = tokio_tungstenite::connect_async_with_config(url, Some(crate::live::ws_config()), false);
        let (socket, _) = tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| StoreError::Unreachable { url: self.base.clone(), reason: "the watch did not open in time".into() })?
            .map_err(|e| StoreError::Unreachable { url: self.base.clone(), reason: root_cause(&e) })?;
        Ok(RemoteWatcher { base: self.base.clone(), socket })
    }
}

/// A watcher over the name server's WebSocket.
pub struct RemoteWatcher {
    base: String,
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Watcher for RemoteWatcher {
    async fn next(&mut self) -> Result<Event, StoreError> {
        loop {
            let gone = |reason: String| StoreError::Unreachable { url: self.base.clone(), reason };
            match self.socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(&text)
                        .map_err(|e| StoreError::BadAnswer { url: self.base.clone(), reason: format!("a watch frame: {e}") })
                }
                Some(Ok(Message::Close(_))) | None => return Err(gone("the name server closed the watch".into())),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(gone(root_cause(&e))),
            }
        }
    }
}
