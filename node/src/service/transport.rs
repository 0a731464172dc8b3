//! The connections between replicas (docs/protocol.md KN3, KN4): their own
//! WebSockets on `/ws/replica`, beside the election's mesh on `/ws`.
//!
//! Not the mesh, for two reasons: the mesh keeps no connection to a server
//! outside the configuration, and the master must reach one to bring it
//! back by state transfer; and the mesh caps frames at a few KiB, while a
//! state transfer carries the whole store in one message (up to
//! [`MAX_MESSAGE`]).
//!
//! - **Who dials**: of every two native servers of the group file, members
//!   and spares alike, the one listed first dials the other (the mesh's
//!   rule), with backoff from 100 ms to 2 s; so whichever server becomes
//!   master already has a connection to every other one that is up.
//! - **Handshake**: the mesh's, with the group secret (`auth.rs`): only
//!   servers of the group file may replicate.
//! - **Frames**: one `stagger_core::service::Msg` per text frame, as JSON.
//!   A frame that is not one ends the connection, with a log line.
//! - **Faults**: the node's emulated link delays (`live/links.rs`) and the
//!   admin's isolation apply here too: an isolated node sends and receives
//!   no replication message, so `ctl isolate` cuts a master off from its
//!   backups as it cuts it off from the election.

use crate::live::{self, Node};
use futures_util::{SinkExt, StreamExt};
use stagger_core::service::{Input, Msg};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

/// The largest replication message: a state transfer of a store at its
/// documented limits (keys of 256 bytes, values of 64 KiB) fits several
/// hundred full values; a store larger than this cannot be transferred and
/// the log says so.
pub const MAX_MESSAGE: usize = 64 << 20;

/// The path replicas dial.
pub const PATH: &str = "/ws/replica";

/// Frame limits of replication sockets.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE))
}

/// The connection to each server, by row.
pub(super) struct Links {
    slots: Mutex<Vec<Slot>>,
    next: AtomicU64,
}

#[derive(Default)]
struct Slot {
    /// Frames to write, each with the instant it is due.
    tx: Option<mpsc::UnboundedSender<(Instant, String)>>,
    /// Which connection owns the slot, so a replaced one does not clear it.
    conn: u64,
}

impl Links {
    pub(super) fn new(n: usize) -> Links {
        Links { slots: Mutex::new((0..n).map(|_| Slot::default()).collect()), next: AtomicU64::new(1) }
    }
}

/// Sends `msg` to replica `to`, if connected, after the emulated delay of
/// the link; nothing when this node is isolated (lost, as over a broken
/// link: the replica's timeouts deal with it).
pub(super) fn send(node: &Node, to: &str, msg: &Msg) {
    send_text(node, to, msg.kind(), || serde_json::to_string(msg).expect("messages serialize"));
}

/// [`send`] with the message already encoded (or encoded only if there is
/// a connection to send it on): a master's forward of one batch to every
/// backup is encoded once.
pub(super) fn send_text(node: &Node, to: &str, kind: &str, text: impl FnOnce() -> String) {
    if node.is_isolated() {
        return;
    }
    let Some(row) = node.group.row_of(to) else { return };
    let slots = node.service.links.slots.lock().expect("links lock");
    if let Some(tx) = &slots[row as usize].tx {
        let text = text();
        if text.len() > MAX_MESSAGE {
            node.log(format!("replica: a {kind} to {to} is {} bytes, over the {MAX_MESSAGE}-byte limit: not sent", text.len()));
            return;
        }
        let _ = tx.send((Instant::now() + live::emulated_delay(node, row as usize), text));
    }
}

/// Closes the replication connections to the servers `to` picks (by row),
/// which the dialers then make again: a new connection makes both replicas
/// start over (`Connected`: the master's `Sync`, a returning backup's
/// `Synced` asking to join). The node does it when the master is told of
/// nothing else that changed (KN11): on a heal, since while it was isolated
/// its connections stayed up with every message dropped (a master elected
/// meanwhile sent its `Sync` into the void); and when a server leaves the
/// configuration, since one removed while its connection stayed up (a
/// paused process) would otherwise never be synced again.
pub fn reconnect(node: &Node, to: impl Fn(u32) -> bool) {
    for (row, slot) in node.service.links.slots.lock().expect("links lock").iter_mut().enumerate() {
        if to(row as u32) {
            // The writer ends when its sender goes, and with it the
            // session, which still owns the slot and so reports the
            // disconnection.
            slot.tx = None;
        }
    }
}

/// Keeps a replication connection to `peer` (a server this node dials)
/// until shutdown.
pub async fn dial_forever(node: Arc<Node>, peer: u32) {
    let mut stop = node.stopping();
    let Some(addr) = node.group.members[peer as usize].addr else { return };
    let mut backoff = Duration::from_millis(100);
    let mut jitter = stagger_core::Rng::new(node.me as u64 * 104_729 + peer as u64);
    loop {
        if *stop.borrow() {
            return;
        }
        let started = Instant::now();
        let attempt = async {
            let tcp = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr))
                .await
                .map_err(|_| "connect timed out".to_string())?
                .map_err(|e| e.to_string())?;
            let _ = tcp.set_nodelay(true);
            let url = format!("ws://{addr}{PATH}");
            let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(ws_config())).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(ws)
        };
        let ws = tokio::select! {
            r = attempt => r,
            _ = stop.changed() => return,
        };
        if let Ok(ws) = ws {
            match live::dial_handshake(&node, ws, peer).await {
                Ok(ws) => session(node.clone(), ws, peer).await,
                Err(why) => node.log(format!("replica: handshake with {} failed: {why}", node.group.members[peer as usize].id)),
            }
        }
        if started.elapsed() > Duration::from_secs(5) {
            backoff = Duration::from_millis(100);
        }
        let wait = backoff + Duration::from_millis(jitter.below(50));
        backoff = (backoff * 2).min(Duration::from_secs(2));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The acceptor's side of `/ws/replica`: the mesh's handshake, then a
/// session with a server of the group file.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(node: Arc<Node>, mut ws: WebSocketStream<S>) {
    let Some(peer) = live::accept_handshake(&node, &mut ws).await else { return };
    let row = match node.group.row_of(&peer.id) {
        Some(row) if peer.role == crate::wire::PeerKind::Member && row != node.me => row,
        _ => return live::refuse(&node, &mut ws, &peer.id, "only the other servers of the group replicate".into()).await,
    };
    if live::send_frame(&mut ws, &live::welcome(&node)).await.is_ok() {
        session(node, ws, row).await;
    }
}

/// Carries replication messages to and from server `row` until either side
/// stops.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(node: Arc<Node>, ws: WebSocketStream<S>, row: u32) {
    let id = node.group.members[row as usize].id.clone();
    let links = &node.service.links;
    let conn = links.next.fetch_add(1, Ordering::SeqCst);
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, String)>();
    links.slots.lock().expect("links lock")[row as usize] = Slot { tx: Some(tx), conn };
    node.service.input(Input::Connected { peer: id.clone() });
    let (mut sink, mut stream) = ws.split();
    let writer = async {
        while let Some((due, text)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if sink.send(WsMessage::text(text)).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    };
    let reader = async {
        let mut stop = node.stopping();
        loop {
            let msg = tokio::select! {
                m = stream.next() => m,
                _ = stop.changed() => return None,
            };
            let why = match msg {
                None | Some(Ok(WsMessage::Close(_))) => return None,
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
                Some(Ok(WsMessage::Binary(_))) => "binary frames are not spoken on /ws/replica".to_string(),
                Some(Err(e)) => e.to_string(),
                Some(Ok(WsMessage::Text(t))) => match serde_json::from_str::<Msg>(t.as_str()) {
                    Ok(_) if node.is_isolated() => continue,
                    Ok(msg) => {
                        node.service.input(Input::Receive { from: id.clone(), msg });
                        continue;
                    }
                    Err(e) => format!("not a replication message: {e}"),
                },
            };
            return Some(why);
        }
    };
    let refusal = tokio::select! {
        r = reader => r,
        _ = writer => None,
    };
    if let Some(why) = refusal {
        node.log(format!("replica: closed the connection with {id}: {why}"));
    }
    let mut slots = links.slots.lock().expect("links lock");
    if slots[row as usize].conn == conn {
        slots[row as usize] = Slot::default();
        drop(slots);
        node.service.input(Input::Disconnected { peer: id });
    }
}
