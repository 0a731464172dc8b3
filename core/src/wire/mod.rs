//! The wire format on `/ws`: versioned JSON text frames.
//!
//! Every WebSocket message between two Stagger endpoints (native nodes,
//! browser members, observers, `stagger ctl`) is one JSON object in a *text*
//! frame:
//!
//! ```json
//! {"v":1,"type":"msg","env":{"from":2,"version":1,"msg":{"type":"Inquiry","seq":7}}}
//! ```
//!
//! - `v` is the wire version, [`WIRE_VERSION`]. It changes whenever a change
//!   to this file would make an old peer misread a frame. A frame of another
//!   version is refused as a whole, before its body is looked at, so that the
//!   reason given is "wrong version" rather than some confusing field error.
//!   Within one version, unknown fields are ignored (additive changes are
//!   allowed); unknown frame types are refused.
//! - `type` names the [`Frame`] variant in `snake_case`; the other keys are
//!   that variant's fields.
//!
//! JSON was chosen over a binary format because the browser speaks it
//! natively, because a human can read a capture, and because every frame is
//! small (a protocol message is a few dozen bytes).
//!
//! ## Refusals
//!
//! [`decode_bytes`] and [`decode`] refuse, in this order:
//!
//! 1. a frame longer than [`MAX_FRAME`] bytes ([`WireError::TooLarge`]),
//!    checked on the length alone, before any parsing, so a 2 MiB frame costs
//!    nothing to refuse (the runtime should also cap the WebSocket layer's
//!    own message size so such a frame is never buffered whole);
//! 2. bytes that are not UTF-8 text: a binary frame, or random bytes
//!    ([`WireError::NotText`]);
//! 3. text that is not a JSON object, or an object without a numeric `v`
//!    ([`WireError::Json`]);
//! 4. another wire version ([`WireError::Version`]);
//! 5. an unknown `type` or a missing or mistyped field ([`WireError::Json`],
//!    carrying serde's message, which names the problem).
//!
//! Each error has a [`WireError::reason`] fit for a log line and for the
//! [`Frame::Error`] sent before the connection is closed.
//!
//! ## Conversation
//!
//! A connection starts with the handshake of [`auth`]:
//! `Hello` (dialer) → `Challenge` (acceptor) → `Auth` (dialer) → `Welcome`
//! (acceptor), or `Error` and close at any step. After it:
//!
//! - between two native members, `Msg` carries protocol messages both ways,
//!   and `Ping` / `Pong` probe the round trip (answered at once, each
//!   delayed like a message when delays are emulated);
//! - a browser member connects to one node only, its host, and sends
//!   `Relay { to, env }` for each copy, stamped with its own index. The
//!   host hands the copy to its own engine if `to` is itself, sends it on
//!   as `Relay` to a native `to` (which takes it), as `Deliver { from, env }`
//!   to a browser `to` it also hosts, and as `Relay` to every native peer,
//!   once, for a browser `to` it does not host (only that member's host
//!   acts on it). The host hands its browser member the group's copies
//!   addressed to it as `Deliver`. A native node that wants to reach a
//!   browser member it does not host likewise sends `Relay` to every native
//!   peer. A node accepts a `Relay` from a native peer only for the peer's
//!   own message or a browser member's, and never fans one out again, so
//!   nothing loops;
//! - an observer receives `Event`s (and may send `Admin`, answered by
//!   `AdminResult`).

use crate::Envelope;
use serde::{Deserialize, Serialize};

pub mod auth;

/// The version of this wire format. Carried in every frame as `v`.
pub const WIRE_VERSION: u32 = 1;

/// The largest frame accepted, in bytes. Larger frames are refused unparsed.
pub const MAX_FRAME: usize = 64 * 1024;

/// What kind of peer the dialing side wants to be on the connection (the
/// `role` field of [`Frame::Hello`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerKind {
    /// A configured member of the group (a native node or a browser tab):
    /// its id must be in the group file.
    Member,
    /// A watcher that is not a member: it takes no part in the election,
    /// receives trace events, and may use any id.
    Observer,
}

impl PeerKind {
    /// The name used on the wire and in the MAC of [`auth`].
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Member => "member",
            PeerKind::Observer => "observer",
        }
    }
}

/// An action of `stagger ctl` or of the Live view's buttons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminAction {
    /// Stop the node's engine as if it had crashed (connections stay up).
    Crash,
    /// Restart a crashed engine; it rejoins as Backup.
    Recover,
    /// Drop every message to and from the other members.
    Isolate,
    /// Undo `Isolate`.
    Heal,
    /// Report the node's status, changing nothing.
    Status,
}

/// One frame on the wire, without its version (see [`encode`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame {
    /// First frame of the side that dialed: who it is, what it wants to be,
    /// and its fresh nonce (64 lowercase hex digits, 32 bytes).
    Hello { id: String, role: PeerKind, nonce: String },
    /// The acceptor's answer to `Hello`: its id, its own fresh nonce, and its
    /// proof (hex HMAC-SHA256) that it knows the group secret.
    Challenge { id: String, nonce: String, proof: String },
    /// The dialer's proof (hex HMAC-SHA256) over both nonces.
    Auth { proof: String },
    /// The handshake is done. Sent by the acceptor: its own id, its index in
    /// the ranking, and the ranking version it runs.
    Welcome { id: String, index: u32, ranking_version: u32 },
    /// A protocol message between two native members. The sender's index and
    /// the ranking version are inside the envelope.
    Msg { env: Envelope },
    /// "Forward this to member `to`": from a browser member to the node it is
    /// connected to, or from a node to the node hosting browser member `to`.
    Relay { to: String, env: Envelope },
    /// A group message for a browser member, from member `from`, handed over
    /// by the node the browser member is connected to.
    Deliver { from: String, env: Envelope },
    /// A trace event of a node, for observers: when (ms since the node's
    /// start) and what (free-form JSON, the trace's own format).
    Event { t_ms: f64, what: serde_json::Value },
    /// An admin command; refused unless `token` is the node's admin token.
    Admin { token: String, action: AdminAction },
    /// The answer to `Admin`.
    AdminResult { ok: bool, detail: String },
    /// A refusal, sent just before the sender closes the connection.
    Error { reason: String },
    /// A probe between two native members, for measuring the round trip of
    /// a pair that exchanges no protocol traffic (`stagger_core::measured`).
    /// `id` is the prober's own number for it.
    Ping { id: u64 },
    /// The answer to `Ping`, with its `id`, sent down the same (delayed)
    /// path as protocol messages.
    Pong { id: u64 },
}

impl Frame {
    /// The frame's `type` on the wire, for logs and error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Frame::Hello { .. } => "hello",
            Frame::Challenge { .. } => "challenge",
            Frame::Auth { .. } => "auth",
            Frame::Welcome { .. } => "welcome",
            Frame::Msg { .. } => "msg",
            Frame::Relay { .. } => "relay",
            Frame::Deliver { .. } => "deliver",
            Frame::Event { .. } => "event",
            Frame::Admin { .. } => "admin",
            Frame::AdminResult { .. } => "admin_result",
            Frame::Error { .. } => "error",
            Frame::Ping { .. } => "ping",
            Frame::Pong { .. } => "pong",
        }
    }

    /// The `Error` frame that explains a refusal.
    pub fn error(reason: impl Into<String>) -> Frame {
        Frame::Error { reason: reason.into() }
    }
}

/// Why an incoming frame was refused. In every case the sender is at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The sender's fault: the frame is larger than [`MAX_FRAME`].
    #[error("frame of {len} bytes is larger than the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// The sender's fault: a binary frame, or bytes that are not UTF-8 text
    /// (random bytes, another protocol); frames are JSON text.
    #[error("frame is not UTF-8 text (binary or random bytes); frames are JSON text")]
    NotText,
    /// The sender's fault: the text is not a JSON frame of this format
    /// (invalid JSON, not an object, unknown `type`, missing or mistyped
    /// field). `detail` is serde's message, which names the problem.
    #[error("invalid JSON frame: {detail}")]
    Json { detail: String },
    /// The sender's fault (or a mix of releases): the frame's wire version
    /// is not the one this node speaks.
    #[error("wire version {got} is not supported (this node speaks {want})")]
    Version { got: u32, want: u32 },
}

impl WireError {
    /// A one-line reason for the log and for the [`Frame::Error`] sent back.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    fn json(detail: impl Into<String>) -> WireError {
        WireError::Json { detail: detail.into() }
    }
}

/// The frame with its version, as serialized.
#[derive(Serialize)]
struct WireOut<'a> {
    v: u32,
    #[serde(flatten)]
    frame: &'a Frame,
}

/// The JSON text of a frame, stamped with [`WIRE_VERSION`].
pub fn encode(frame: &Frame) -> String {
    // Serializing these types cannot fail: every map key is a string and
    // every value is plain data.
    serde_json::to_string(&WireOut { v: WIRE_VERSION, frame }).expect("a frame always serializes")
}

/// Decode a frame received as raw bytes: a binary WebSocket frame, or
/// anything else that is not known to be text. Refuses oversized frames on
/// their length alone, then anything that is not UTF-8, then as [`decode`].
pub fn decode_bytes(bytes: &[u8]) -> Result<Frame, WireError> {
    check_len(bytes.len())?;
    let text = std::str::from_utf8(bytes).map_err(|_| WireError::NotText)?;
    decode(text)
}

/// Decode a text frame. See the module docs for the order of the checks.
pub fn decode(text: &str) -> Result<Frame, WireError> {
    check_len(text.len())?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| WireError::json(e.to_string()))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(WireError::json(format!("a frame is a JSON object, got {}", json_kind(&value))));
    };
    let v = match map.remove("v") {
        None => return Err(WireError::json("missing wire version field `v`")),
        Some(v) => v,
    };
    let got = v.as_u64().ok_or_else(|| WireError::json(format!("wire version `v` must be an unsigned integer, got {v}")))?;
    if got != u64::from(WIRE_VERSION) {
        let got = u32::try_from(got).unwrap_or(u32::MAX);
        return Err(WireError::Version { got, want: WIRE_VERSION });
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| WireError::json(e.to_string()))
}

fn check_len(len: usize) -> Result<(), WireError> {
    if len > MAX_FRAME {
        Err(WireError::TooLarge { len, max: MAX_FRAME })
    } else {
        Ok(())
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn env(from: u32, msg: Message) -> Envelope {
        Envelope { from, version: 3, msg }
    }

    /// One frame of every variant, with every kind of protocol message.
    fn every_frame() -> Vec<Frame> {
        vec![
            Frame::Hello { id: "tokyo".into(), role: PeerKind::Member, nonce: "ab".repeat(32) },
            Frame::Hello { id: "tab-1".into(), role: PeerKind::Observer, nonce: "01".repeat(32) },
            Frame::Challenge { id: "osaka".into(), nonce: "cd".repeat(32), proof: "ef".repeat(32) },
            Frame::Auth { proof: "12".repeat(32) },
            Frame::Welcome { id: "osaka".into(), index: 1, ranking_version: 3 },
            Frame::Msg { env: env(0, Message::Inquiry { seq: u64::MAX }) },
            Frame::Msg { env: env(1, Message::InquiryReply { seq: 9 }) },
            Frame::Relay { to: "nagoya".into(), env: env(4, Message::DeclareMaster { idx: 4 }) },
            Frame::Deliver { from: "tokyo".into(), env: env(0, Message::RevokeMaster { reject: 4, idx: 0 }) },
            Frame::Event { t_ms: 1234.5, what: serde_json::json!({"kind": "role", "role": "Master", "idx": [1, 2]}) },
            Frame::Admin { token: "t0k3n".into(), action: AdminAction::Crash },
            Frame::Admin { token: "t".into(), action: AdminAction::Recover },
            Frame::Admin { token: "t".into(), action: AdminAction::Isolate },
            Frame::Admin { token: "t".into(), action: AdminAction::Heal },
            Frame::Admin { token: "t".into(), action: AdminAction::Status },
            Frame::AdminResult { ok: false, detail: "bad token \"quoted\" ✓".into() },
            Frame::Error { reason: "unknown member id \"x\"".into() },
            Frame::Ping { id: 0 },
            Frame::Pong { id: u64::MAX },
        ]
    }

    #[test]
    fn every_variant_round_trips() {
        for frame in every_frame() {
            let text = encode(&frame);
            assert_eq!(decode(&text).unwrap(), frame, "{text}");
            assert_eq!(decode_bytes(text.as_bytes()).unwrap(), frame, "{text}");
        }
    }

    #[test]
    fn encoding_starts_with_version_then_type() {
        for frame in every_frame() {
            let text = encode(&frame);
            let head = format!("{{\"v\":{WIRE_VERSION},\"type\":\"{}\"", frame.kind());
            assert!(text.starts_with(&head), "{text} should start with {head}");
        }
    }

    #[test]
    fn msg_frame_has_the_documented_shape() {
        let frame = Frame::Msg { env: env(2, Message::Inquiry { seq: 7 }) };
        assert_eq!(encode(&frame), r#"{"v":1,"type":"msg","env":{"from":2,"version":3,"msg":{"type":"Inquiry","seq":7}}}"#);
        let hello = Frame::Hello { id: "a".into(), role: PeerKind::Observer, nonce: "n".into() };
        assert_eq!(encode(&hello), r#"{"v":1,"type":"hello","id":"a","role":"observer","nonce":"n"}"#);
        let admin = Frame::Admin { token: "t".into(), action: AdminAction::Heal };
        assert_eq!(encode(&admin), r#"{"v":1,"type":"admin","token":"t","action":"heal"}"#);
        assert_eq!(
            encode(&Frame::AdminResult { ok: true, detail: String::new() }),
            r#"{"v":1,"type":"admin_result","ok":true,"detail":""}"#
        );
        assert_eq!(encode(&Frame::Ping { id: 5 }), r#"{"v":1,"type":"ping","id":5}"#);
        assert_eq!(encode(&Frame::Pong { id: 5 }), r#"{"v":1,"type":"pong","id":5}"#);
    }

    #[test]
    fn a_2_mib_frame_is_refused_as_too_large() {
        let big = format!("{{\"v\":1,\"type\":\"error\",\"reason\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
        let err = decode(&big).unwrap_err();
        assert_eq!(err, WireError::TooLarge { len: big.len(), max: MAX_FRAME });
        assert_eq!(decode_bytes(big.as_bytes()).unwrap_err(), WireError::TooLarge { len: big.len(), max: MAX_FRAME });
        assert!(err.reason().contains("larger than the 65536-byte limit"), "{}", err.reason());
    }

    #[test]
    fn size_is_checked_before_parsing() {
        // 2 MiB of garbage: if it were parsed first, this would be a Json
        // or NotText error.
        let garbage = vec![0xffu8; 2 * 1024 * 1024];
        assert_eq!(decode_bytes(&garbage).unwrap_err(), WireError::TooLarge { len: garbage.len(), max: MAX_FRAME });
        let text_garbage = "{".repeat(MAX_FRAME + 1);
        assert!(matches!(decode(&text_garbage), Err(WireError::TooLarge { .. })));
    }

    #[test]
    fn a_frame_of_exactly_max_frame_bytes_is_accepted() {
        let skeleton = encode(&Frame::Error { reason: String::new() });
        let frame = Frame::Error { reason: "y".repeat(MAX_FRAME - skeleton.len()) };
        let text = encode(&frame);
        assert_eq!(text.len(), MAX_FRAME);
        assert_eq!(decode(&text).unwrap(), frame);
        let one_more = encode(&Frame::Error { reason: "y".repeat(MAX_FRAME - skeleton.len() + 1) });
        assert!(matches!(decode(&one_more), Err(WireError::TooLarge { len, .. }) if len == MAX_FRAME + 1));
    }

    #[test]
    fn random_bytes_are_refused_as_not_text() {
        let random: Vec<u8> = (0u32..512).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 | 0x80).collect();
        assert!(std::str::from_utf8(&random).is_err());
        let err = decode_bytes(&random).unwrap_err();
        assert_eq!(err, WireError::NotText);
        assert!(err.reason().contains("not UTF-8 text"), "{}", err.reason());
        assert_eq!(decode_bytes(&[0xc3, 0x28]).unwrap_err(), WireError::NotText);
    }

    #[test]
    fn ascii_noise_is_refused_as_json() {
        let err = decode_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err();
        assert!(matches!(err, WireError::Json { .. }), "{err:?}");
    }

    #[test]
    fn invalid_json_is_refused_naming_the_problem() {
        let err = decode(r#"{"v":1,"type":"auth","proof":"ab""#).unwrap_err();
        let WireError::Json { detail } = &err else { panic!("{err:?}") };
        assert!(detail.contains("EOF"), "{detail}");
        assert!(err.reason().starts_with("invalid JSON frame: "), "{}", err.reason());

        let err = decode("{v:1}").unwrap_err();
        let WireError::Json { detail } = &err else { panic!("{err:?}") };
        assert!(detail.contains("key must be a string") && detail.contains("line 1 column 2"), "{detail}");

        assert!(matches!(decode(""), Err(WireError::Json { .. })));
    }

    #[test]
    fn non_object_json_is_refused() {
        for (text, kind) in [("[1,2]", "an array"), ("1", "a number"), ("null", "null"), ("\"hello\"", "a string"), ("true", "a boolean")] {
            let err = decode(text).unwrap_err();
            assert_eq!(err, WireError::Json { detail: format!("a frame is a JSON object, got {kind}") });
        }
    }

    #[test]
    fn missing_or_mistyped_version_is_refused() {
        let err = decode(r#"{"type":"auth","proof":"ab"}"#).unwrap_err();
        assert_eq!(err, WireError::Json { detail: "missing wire version field `v`".into() });
        for v in ["\"1\"", "-1", "1.5", "null"] {
            let err = decode(&format!(r#"{{"v":{v},"type":"auth","proof":"ab"}}"#)).unwrap_err();
            let WireError::Json { detail } = &err else { panic!("{err:?}") };
            assert!(detail.starts_with("wire version `v` must be an unsigned integer"), "{detail}");
        }
    }

    #[test]
    fn another_wire_version_is_refused() {
        let err = decode(r#"{"v":2,"type":"auth","proof":"ab"}"#).unwrap_err();
        assert_eq!(err, WireError::Version { got: 2, want: 1 });
        assert_eq!(err.reason(), "wire version 2 is not supported (this node speaks 1)");
        assert_eq!(decode(r#"{"v":0,"type":"auth","proof":"ab"}"#).unwrap_err(), WireError::Version { got: 0, want: 1 });
        // A huge version saturates rather than wrapping to a valid one.
        let huge = format!(r#"{{"v":{},"type":"auth","proof":"ab"}}"#, (1u64 << 32) + 1);
        assert_eq!(decode(&huge).unwrap_err(), WireError::Version { got: u32::MAX, want: 1 });
    }

    #[test]
    fn version_is_checked_before_the_body() {
        // A future version may have types and fields this node does not know:
        // the reason must be the version, not the unknown type.
        let err = decode(r#"{"v":2,"type":"gossip","peers":[]}"#).unwrap_err();
        assert_eq!(err, WireError::Version { got: 2, want: 1 });
    }

    #[test]
    fn unknown_type_is_refused() {
        let err = decode(r#"{"v":1,"type":"gossip","peers":[]}"#).unwrap_err();
        let WireError::Json { detail } = &err else { panic!("{err:?}") };
        assert!(detail.contains("unknown variant `gossip`"), "{detail}");
        let err = decode(r#"{"v":1,"proof":"ab"}"#).unwrap_err();
        let WireError::Json { detail } = &err else { panic!("{err:?}") };
        assert!(detail.contains("missing field `type`"), "{detail}");
    }

    #[test]
    fn missing_or_mistyped_fields_are_refused() {
        let err = decode(r#"{"v":1,"type":"welcome","id":"a","index":1}"#).unwrap_err();
        let WireError::Json { detail } = &err else { panic!("{err:?}") };
        assert!(detail.contains("missing field `ranking_version`"), "{detail}");

        let err = decode(r#"{"v":1,"type":"hello","id":"a","role":"king","nonce":"n"}"#).unwrap_err();
        let WireError::Json { detail } = &err else { panic!("{err:?}") };
        assert!(detail.contains("unknown variant `king`"), "{detail}");

        let err = decode(r#"{"v":1,"type":"msg","env":{"from":-1,"version":1,"msg":{"type":"Inquiry","seq":1}}}"#).unwrap_err();
        assert!(matches!(err, WireError::Json { .. }), "{err:?}");

        let err = decode(r#"{"v":1,"type":"msg","env":{"from":1,"version":1,"msg":{"type":"Shout"}}}"#).unwrap_err();
        let WireError::Json { detail } = &err else { panic!("{err:?}") };
        assert!(detail.contains("Shout"), "{detail}");
    }

    #[test]
    fn unknown_fields_are_ignored_within_a_version() {
        let frame = decode(r#"{"v":1,"type":"auth","proof":"ab","extra":[1,2,3]}"#).unwrap();
        assert_eq!(frame, Frame::Auth { proof: "ab".into() });
    }

    #[test]
    fn another_ranking_version_still_decodes() {
        // The ranking version is the engine's business (it refuses the
        // envelope with a reason, core `Refusal::Version`); the wire must
        // carry it intact.
        let frame = decode(r#"{"v":1,"type":"msg","env":{"from":1,"version":99,"msg":{"type":"DeclareMaster","idx":1}}}"#).unwrap();
        assert_eq!(frame, Frame::Msg { env: Envelope { from: 1, version: 99, msg: Message::DeclareMaster { idx: 1 } } });
    }

    #[test]
    fn kinds_match_the_wire_type() {
        for frame in every_frame() {
            let value: serde_json::Value = serde_json::from_str(&encode(&frame)).unwrap();
            assert_eq!(value["type"], frame.kind());
            assert_eq!(value["v"], WIRE_VERSION);
        }
        assert_eq!(Frame::error("nope"), Frame::Error { reason: "nope".into() });
        assert_eq!(PeerKind::Member.name(), "member");
        assert_eq!(PeerKind::Observer.name(), "observer");
    }
}
