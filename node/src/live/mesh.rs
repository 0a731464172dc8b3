//! The mesh: who dials whom, the handshake, and the message sessions.
//!
//! **Dialing rule** (`Group::dials`): of two native members, the one listed
//! first in `servers` dials the other, so every pair has one connection.
//! Browser members and observers always dial. A dialer retries with
//! exponential backoff from 100 ms to 2 s (with jitter, so restarted groups
//! do not dial in lockstep), and starts again from 100 ms after a connection
//! that lasted.
//!
//! **Sessions** refuse, with an `error` frame, a log line and a close:
//! binary frames and random bytes, invalid JSON, frames over
//! [`MAX_FRAME`](crate::wire::MAX_FRAME), a wrong secret, a replayed
//! handshake, an unknown member, messages stamped with another ranking
//! version or another sender index than the authenticated peer's, and
//! relays that break the rules of `stagger_core::wire` (a browser member
//! sending `msg`, a native relaying a third native's message, a relay to a
//! stranger).
//!
//! **Probes** (docs/protocol.md M1–M2, `delays.rs`): a `ping` from a peer
//! is answered with a `pong` at once, down the same delayed queue as
//! messages; the mesh tells `delays.rs` of each inquiry it writes and each
//! reply it reads, so round trips are measured without touching the engine.
//!
//! **Configuration** (docs/protocol.md N22, `config.rs`): only members of
//! the configuration the node runs keep connections. A dialer waits while
//! it or its peer is outside it, a session ends when either leaves it, and
//! the handshake refuses a server outside it. In a group with a name
//! server, members apply a new configuration a few milliseconds apart, so a
//! message stamped with another ranking version is dropped (the engine
//! would refuse it, R6) and the session kept; without one the version never
//! changes, and such a message is refused like any other mistake.
//!
//! **Browser members** connect to any one native node, which relays for
//! them ([`relay`]; the rules are in `stagger_core::wire`). A browser member
//! not connected anywhere is, to the group, a member that is down.

use super::{isolated, Node, PeerState};
use crate::auth::{Acceptor, Dialer, Peer};
use crate::group::MemberKind;
use crate::runtime::{EngineCommand, Outgoing};
use crate::wire::{self, Frame, PeerKind, MAX_FRAME};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

/// How long a peer has to complete the handshake.
const HANDSHAKE: Duration = Duration::from_secs(5);

/// Frame limits for every WebSocket, so an oversized frame is refused
/// before it is buffered whole.
///
/// The read buffer is 8 KiB instead of tungstenite's 128 KiB: frames are a
/// few hundred bytes, and a node keeps one buffer per member, so the default
/// made memory, not CPU, what limits how many members one machine holds
/// (docs/benchmarks.md, "capacity"). Larger frames still arrive; the buffer
/// is only the size of each read.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().max_message_size(Some(MAX_FRAME)).max_frame_size(Some(MAX_FRAME)).read_buffer_size(8 * 1024)
}

/// Hands each message the engine sends to the connections it goes to.
pub async fn route(node: Arc<Node>, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    let mut stop = node.shutdown.clone();
    loop {
        let out = tokio::select! {
            out = rx.recv() => match out { Some(o) => o, None => return },
            _ = stop.changed() => return,
        };
        if isolated(&node) {
            continue; // Isolated: every copy is lost, as in a partition.
        }
        let now = Instant::now();
        let members = node.membership();
        let slots = node.slots.lock().expect("slots lock");
        let delay_to = |row: usize| now + emulated_delay(&node, row);
        let msg = wire::encode(&Frame::Msg { env: out.env });
        // Encoded only if a browser member this node holds is addressed.
        let mut deliver = None;
        for (row, slot) in slots.iter().enumerate() {
            if row as u32 == node.me || out.to.is_some_and(|t| t as usize != row) || !members.is_member(row as u32) {
                continue;
            }
            let browser = node.group.members[row].kind == MemberKind::Browser;
            match (slot.state, &slot.tx) {
                (PeerState::Connected, Some(tx)) => {
                    let text = if browser {
                        deliver.get_or_insert_with(|| wire::encode(&Frame::Deliver { from: node.id().to_string(), env: out.env })).clone()
                    } else {
                        msg.clone()
                    };
                    if !browser {
                        super::delays::sent(&node, row as u32, &out.env);
                    }
                    let _ = tx.send((delay_to(row), text));
                }
                // A browser member hosted by another node, or by none: every
                // native peer is asked to hand it over; its host will.
                _ if browser => fan_out(&node, &slots, &node.group.members[row].id, out.env, delay_to(row)),
                _ => {}
            }
        }
    }
}

/// How long a copy to member `row` waits before it is written: the group
/// file's delay from this node to it when the group emulates delays.
pub(crate) fn emulated_delay(node: &Node, row: usize) -> Duration {
    Duration::from_micros(if node.group.emulate_delays { node.links.delay_us(row) } else { 0 })
}

/// Sends `Relay { to, env }` to every connected native peer, due at `due`:
/// how a copy reaches a browser member held by some other node.
fn fan_out(node: &Node, slots: &[super::Slot], to: &str, env: stagger_core::Envelope, due: Instant) {
    let text = wire::encode(&Frame::Relay { to: to.to_string(), env });
    for (peer, s) in slots.iter().enumerate() {
        if node.group.members[peer].kind == MemberKind::Native {
            if let (PeerState::Connected, Some(tx)) = (s.state, &s.tx) {
                let _ = tx.send((due, text.clone()));
            }
        }
    }
}

/// Where a relayed message for member `to` goes from this node: into its
/// own engine, down the connection of a member it holds (as `Deliver` to a
/// browser member, as `Relay` to a native one, which then takes it), or,
/// for a browser member it does not hold, to every native peer, once
/// (`may_fan_out`; a relay that came from a native peer is not fanned out
/// again, so nothing loops).
fn relay(node: &Node, to: &str, env: stagger_core::Envelope, may_fan_out: bool) -> Result<(), String> {
    let Some(row) = node.group.row_of(to) else { return Err(format!("relay to {to:?}, which is not a member of the group")) };
    if row == node.me {
        if !isolated(node) {
            let _ = node.engine.commands.send(EngineCommand::Receive(env));
        }
        return Ok(());
    }
    if isolated(node) {
        return Ok(());
    }
    let from = node.membership().table.row(env.from);
    let sender = node.group.members.get(from as usize).map_or("?", |m| m.id.as_str()).to_string();
    let slots = node.slots.lock().expect("slots lock");
    let browser = node.group.members[row as usize].kind == MemberKind::Browser;
    match (&slots[row as usize], browser) {
        (super::Slot { state: PeerState::Connected, tx: Some(tx), .. }, true) => {
            let _ = tx.send((Instant::now(), wire::encode(&Frame::Deliver { from: sender, env })));
        }
        (super::Slot { state: PeerState::Connected, tx: Some(tx), .. }, false) => {
            let _ = tx.send((Instant::now(), wire::encode(&Frame::Relay { to: to.to_string(), env })));
        }
        (_, true) if may_fan_out => fan_out(node, &slots, to, env, Instant::now()),
        _ => {} // Not reachable from here: lost, as over any broken link.
    }
    Ok(())
}

/// Keeps a connection to `peer` (a member this node dials) until shutdown.
pub async fn dial_forever(node: Arc<Node>, peer: u32) {
    let mut stop = node.shutdown.clone();
    let addr = node.group.members[peer as usize].addr.expect("native members have addresses");
    let mut backoff = Duration::from_millis(100);
    let mut jitter = stagger_core::Rng::new(node.me as u64 * 7919 + peer as u64);
    let mut members = node.membership.subscribe();
    loop {
        if *stop.borrow() {
            return;
        }
        if !both_members(&members.borrow_and_update(), node.me, peer) {
            node.set_state(peer, PeerState::Down);
            tokio::select! {
                _ = members.changed() => {}
                _ = stop.changed() => return,
            }
            backoff = Duration::from_millis(100);
            continue;
        }
        node.set_state(peer, PeerState::Connecting);
        let started = Instant::now();
        let attempt = async {
            let tcp = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr))
                .await
                .map_err(|_| "connect timed out".to_string())?;
            let tcp = tcp.map_err(|e| e.to_string())?;
            let _ = tcp.set_nodelay(true);
            let url = format!("ws://{addr}/ws");
            let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(ws_config())).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(ws)
        };
        let ws = tokio::select! {
            r = attempt => r,
            _ = stop.changed() => return,
        };
        match ws {
            Ok(ws) => match dial_handshake(&node, ws, peer).await {
                Ok(ws) => session(node.clone(), ws, peer).await,
                Err(why) => node.log(format!("handshake with {} failed: {why}", node.group.members[peer as usize].id)),
            },
            Err(_) => {} // Not up yet: the normal case while a group starts.
        }
        node.set_state(peer, PeerState::Down);
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

async fn next_frame<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) -> Result<Frame, String> {
    let msg = tokio::time::timeout(HANDSHAKE, ws.next()).await.map_err(|_| "the handshake timed out".to_string())?;
    match msg {
        Some(Ok(WsMessage::Text(t))) => wire::decode(t.as_str()).map_err(|e| e.reason()),
        Some(Ok(WsMessage::Binary(b))) => wire::decode_bytes(&b).map_err(|e| e.reason()),
        Some(Ok(other)) => Err(format!("unexpected {} during the handshake", kind(&other))),
        Some(Err(e)) => Err(ws_error(&e)),
        None => Err("the connection closed during the handshake".into()),
    }
}

/// A WebSocket error as a reason for the log: an oversized frame says so
/// in the same words as the wire format's own size check.
fn ws_error(e: &tokio_tungstenite::tungstenite::Error) -> String {
    match e {
        tokio_tungstenite::tungstenite::Error::Capacity(c) => format!("frame is larger than the {MAX_FRAME}-byte limit ({c})"),
        other => other.to_string(),
    }
}

fn kind(m: &WsMessage) -> &'static str {
    match m {
        WsMessage::Text(_) => "text frame",
        WsMessage::Binary(_) => "binary frame",
        WsMessage::Ping(_) | WsMessage::Pong(_) => "ping",
        WsMessage::Close(_) => "close",
        WsMessage::Frame(_) => "raw frame",
    }
}

pub(crate) async fn send<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>, frame: &Frame) -> Result<(), String> {
    ws.send(WsMessage::text(wire::encode(frame))).await.map_err(|e| e.to_string())
}

/// Refuses a peer during the handshake: an `error` frame with the reason, a
/// log line, a close. (A session refuses with a log line and a close.)
pub(crate) async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(node: &Node, ws: &mut WebSocketStream<S>, who: &str, reason: String) {
    node.log(format!("refused {who}: {reason}"));
    let _ = send(ws, &Frame::error(reason)).await;
    let _ = ws.close(None).await;
}

pub(crate) async fn dial_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    node: &Node,
    mut ws: WebSocketStream<S>,
    peer: u32,
) -> Result<WebSocketStream<S>, String> {
    let mut d = Dialer::new(&node.group.secret, node.id(), PeerKind::Member, crate::auth::nonce());
    send(&mut ws, &d.hello()).await?;
    let auth = d.on_challenge(next_frame(&mut ws).await?).map_err(|e| e.reason())?;
    let want = &node.group.members[peer as usize].id;
    if d.acceptor_id() != Some(want.as_str()) {
        return Err(format!("dialed {want} but {:?} answered", d.acceptor_id()));
    }
    send(&mut ws, &auth).await?;
    d.on_welcome(next_frame(&mut ws).await?).map_err(|e| e.reason())?;
    Ok(ws)
}

/// The acceptor's side of the handshake, up to the `Welcome` (which the
/// caller sends): the authenticated peer, or `None` after a refusal. `/ws`
/// and the replicas' `/ws/replica` share it.
pub(crate) async fn accept_handshake<S: AsyncRead + AsyncWrite + Unpin>(node: &Node, ws: &mut WebSocketStream<S>) -> Option<Peer> {
    let members: Vec<String> = node.group.members.iter().map(|m| m.id.clone()).collect();
    let mut a = Acceptor::new(&node.group.secret, node.id(), &members, node.guard.clone(), crate::auth::nonce());
    let hello = match next_frame(ws).await {
        Ok(f) => f,
        Err(why) => {
            refuse(node, ws, "a connection", why).await;
            return None;
        }
    };
    let challenge = match a.on_hello(hello) {
        Ok(c) => c,
        Err(e) => {
            refuse(node, ws, "a connection", e.reason()).await;
            return None;
        }
    };
    send(ws, &challenge).await.ok()?;
    match next_frame(ws).await.and_then(|f| a.on_auth(f).map_err(|e| e.reason())) {
        Ok(p) => Some(p),
        Err(why) => {
            refuse(node, ws, "a connection", why).await;
            None
        }
    }
}

/// The `Welcome` this node answers an authenticated peer with.
pub(crate) fn welcome(node: &Node) -> Frame {
    let members = node.membership();
    Frame::Welcome { id: node.id().to_string(), index: members.table.index_of(node.me), ranking_version: members.table.version }
}

/// The acceptor's side of `/ws`: handshake, then a member session or an
/// observer stream.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(node: Arc<Node>, mut ws: WebSocketStream<S>) {
    let Some(peer) = accept_handshake(&node, &mut ws).await else { return };
    let members = node.membership();
    let welcome = welcome(&node);
    match peer.role {
        PeerKind::Observer => {
            if send(&mut ws, &welcome).await.is_ok() {
                observe(node, ws).await;
            }
        }
        PeerKind::Member => {
            let row = node.group.row_of(&peer.id).expect("the acceptor only admits members of the group");
            if row == node.me {
                return refuse(&node, &mut ws, &peer.id, "a member cannot connect to itself".into()).await;
            }
            if !both_members(&members, node.me, row) {
                let whom = if members.is_member(node.me) { format!("{} is", peer.id) } else { "this node is".to_string() };
                let why = format!("{whom} not in the group's configuration (version {})", members.version);
                return refuse(&node, &mut ws, &peer.id, why).await;
            }
            if send(&mut ws, &welcome).await.is_ok() {
                session(node, ws, row).await;
            }
        }
    }
}

/// Exchanges protocol messages with member `row` until either side stops.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(node: Arc<Node>, ws: WebSocketStream<S>, row: u32) {
    let id = node.group.members[row as usize].id.clone();
    let conn = node.next_conn.fetch_add(1, Ordering::SeqCst);
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, String)>();
    {
        let mut slots = node.slots.lock().expect("slots lock");
        let slot = &mut slots[row as usize];
        *slot = super::Slot { state: PeerState::Connected, tx: Some(tx), conn };
    }
    node.log(format!("connected to {id}"));
    node.notify_engine();
    // A master tells a newly connected member who it is at once. Without
    // this, a member that restarted and elected itself before the mesh
    // re-formed would keep a second master until someone re-announced
    // (found by `stagger-bench failover`; docs/protocol.md L10).
    node.announce(Some(row));
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
    let browser = node.group.members[row as usize].kind == MemberKind::Browser;
    let dynamic = node.group.nameserver.is_some();
    let reader = async {
        let mut stop = node.shutdown.clone();
        let mut members = node.membership.subscribe();
        loop {
            let msg = tokio::select! {
                m = stream.next() => m,
                _ = stop.changed() => return None,
                _ = left(&mut members, node.me, row) => return Some("it or this node is no longer in the group's configuration".to_string()),
            };
            let current = node.membership();
            let (version, expected) = (current.table.version, current.table.index_of(row));
            let why = match msg {
                None | Some(Ok(WsMessage::Close(_))) => return None,
                Some(Err(e)) => ws_error(&e),
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                Some(Ok(WsMessage::Binary(b))) => {
                    wire::decode_bytes(&b).err().map(|e| e.reason()).unwrap_or_else(|| "binary frames are not spoken here".into())
                }
                Some(Ok(WsMessage::Frame(_))) => continue,
                Some(Ok(WsMessage::Text(t))) => match wire::decode(t.as_str()) {
                    Ok(Frame::Msg { .. }) if browser => "a browser member sends relay frames, not msg".to_string(),
                    Ok(Frame::Msg { env }) | Ok(Frame::Relay { env, .. }) if dynamic && env.version != version => {
                        node.log(format!(
                            "dropped a message from {id} stamped with ranking version {}; this node runs version {version}",
                            env.version
                        ));
                        continue;
                    }
                    Ok(Frame::Msg { env }) => {
                        if env.version != version {
                            format!("message stamped with ranking version {}, but this node runs version {version}", env.version)
                        } else if env.from != expected {
                            format!("message claims sender index {}, but {id} is index {expected}", env.from)
                        } else {
                            if !isolated(&node) {
                                super::delays::received(&node, row, &env);
                                let _ = node.engine.commands.send(EngineCommand::Receive(env));
                            }
                            continue;
                        }
                    }
                    // From a browser member: its own messages, to anyone.
                    // From a native peer: its own message for a browser
                    // member we may hold, or a browser member's message
                    // that its host fanned out.
                    Ok(Frame::Relay { to, env }) => {
                        let table = &current.table;
                        let sender_browser = (env.from as usize) < table.len()
                            && node.group.members[table.row(env.from) as usize].kind == MemberKind::Browser;
                        if env.version != version {
                            format!("message stamped with ranking version {}, but this node runs version {version}", env.version)
                        } else if browser && env.from != expected {
                            format!("message claims sender index {}, but {id} is index {expected}", env.from)
                        } else if !browser && !sender_browser && env.from != expected {
                            format!("relay of a message from index {}, neither {id}'s own nor a browser member's", env.from)
                        } else {
                            match relay(&node, &to, env, browser) {
                                Ok(()) => continue,
                                Err(why) => why,
                            }
                        }
                    }
                    Ok(Frame::Ping { id }) => {
                        super::delays::on_ping(&node, row, id);
                        continue;
                    }
                    Ok(Frame::Pong { id }) => {
                        super::delays::on_pong(&node, row, id);
                        continue;
                    }
                    Ok(Frame::Error { reason }) => format!("the peer closed with: {reason}"),
                    Ok(other) => format!("unexpected {} frame in a session", other.kind()),
                    Err(e) => e.reason(),
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
        node.log(format!("refused {id}: {why}"));
    }
    {
        let mut slots = node.slots.lock().expect("slots lock");
        let slot = &mut slots[row as usize];
        if slot.conn == conn {
            *slot = super::Slot { state: PeerState::Down, tx: None, conn: 0 };
        }
    }
    node.log(format!("disconnected from {id}"));
    node.notify_engine();
}

/// Whether rows `a` and `b` are both members of the configuration `m`.
fn both_members(m: &super::config::Membership, a: u32, b: u32) -> bool {
    m.is_member(a) && m.is_member(b)
}

/// Completes when row `a` or `b` leaves the configuration.
async fn left(members: &mut tokio::sync::watch::Receiver<Arc<super::config::Membership>>, a: u32, b: u32) {
    if members.wait_for(|m| !both_members(m, a, b)).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Streams the node's log to an observer, one `event` frame per entry, each
/// entry once: the stream remembers the number of the next entry it owes
/// (`LogEntry::seq`), which stays right after old entries are evicted.
async fn observe<S: AsyncRead + AsyncWrite + Unpin>(node: Arc<Node>, mut ws: WebSocketStream<S>) {
    let mut next = 0u64;
    let mut stop = node.shutdown.clone();
    loop {
        for e in node.engine.log.since(next) {
            let frame = Frame::Event { t_ms: e.t_ms, what: serde_json::Value::String(e.what.clone()) };
            if send(&mut ws, &frame).await.is_err() {
                return;
            }
            next = e.seq + 1;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            m = ws.next() => if m.is_none() || matches!(m, Some(Ok(WsMessage::Close(_))) | Some(Err(_))) { return },
            _ = stop.changed() => return,
        }
    }
}
