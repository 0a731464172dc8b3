//! Mutual authentication with the group secret: an HMAC-SHA256
//! challenge-response over two nonces. The secret never crosses the wire.
//!
//! ## The handshake
//!
//! ```text
//! dialer                                         acceptor
//!   Hello { id: D, role, nonce: Nd }        ──▶    D must be a member (unless observer),
//!                                                  Nd well formed and not seen before
//!                                           ◀──    Challenge { id: A, nonce: Na, proof: Pa }
//!   check Pa
//!   Auth { proof: Pd }                      ──▶    check Pd, remember Nd
//!                                           ◀──    Welcome { .. }
//! ```
//!
//! Either side sends `Error { reason }` and closes instead of its next frame
//! when a check fails. [`Dialer`] and [`Acceptor`] are the two sides, as pure
//! state machines over [`Frame`]s: the runtime moves frames, this module
//! decides.
//!
//! ## What the MAC binds
//!
//! ```text
//! Pa = HMAC-SHA256(secret, "stagger-auth-v1|acceptor|" D "|" role "|" A "|" Nd "|" Na)
//! Pd = HMAC-SHA256(secret, "stagger-auth-v1|dialer|"   D "|" role "|" A "|" Nd "|" Na)
//! ```
//!
//! sent as 64 lowercase hex digits, where `role` is `member` or `observer`.
//!
//! - `stagger-auth-v1` separates these MACs from any other use of the secret
//!   and from later versions of this handshake.
//! - `acceptor` / `dialer` make the two proofs different even over the same
//!   nonces, so a proof obtained from one side can never be reflected back as
//!   the other side's proof.
//! - Both ids (D, A) bind the proof to this pair of endpoints: a proof made
//!   for a connection between other members says nothing here. The role is
//!   bound too, so a man in the middle cannot turn an observer's handshake
//!   into a member's. Ids may not contain `|` or control characters, so the
//!   fields cannot be shifted across separators; nonces have a fixed length.
//! - Both nonces make each proof fresh. The dialer's nonce Nd makes the
//!   acceptor's proof Pa fresh: a recorded `Challenge` replayed by an impostor
//!   listening on a member's address does not verify against a new Nd. The
//!   acceptor's nonce Na makes Pd fresh: a recorded `Auth` replayed on a new
//!   connection does not verify against that connection's new Na
//!   ([`AuthError::WrongSecret`]).
//!
//! Proofs are checked with `hmac::Mac::verify_slice`, in constant time.
//!
//! ## Why mutual
//!
//! The acceptor checks the dialer so that only members of the group (or
//! observers who know the secret) can join or watch it. The dialer checks the
//! acceptor so that a node never feeds its election messages to, or takes
//! them from, whatever happens to listen on a configured address: a stale
//! process, another group's node, or an impostor. A server that does not know
//! the secret is refused by the dialer just as a client would be.
//!
//! ## Replay
//!
//! The fresh Na already defeats replays. On top of that, a process-wide
//! [`ReplayGuard`] remembers the dialer nonces of the handshakes this node
//! *accepted*, so a replayed `Hello` is refused at once with the clear reason
//! [`AuthError::Replay`] instead of a later, vaguer `WrongSecret`. Only
//! nonces of successful handshakes are recorded, so an attacker without the
//! secret cannot fill the guard and push real nonces out of it. The guard is
//! bounded (FIFO eviction); a nonce evicted from it is still useless to a
//! replayer because of Na.
//!
//! ## Limits
//!
//! This authenticates the two endpoints at the start of a connection; it does
//! not encrypt or sign the frames that follow (use `wss://` or a private
//! network against an active man in the middle). Anyone who records a
//! handshake, or merely dials a node (the acceptor proves first), gets an
//! HMAC of known data and can test guesses of the secret offline: the secret
//! must be long and random (for example 32 random bytes in hex), not a
//! password.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Frame, PeerKind};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of randomness in a nonce (sent as twice as many hex digits).
pub const NONCE_BYTES: usize = 32;

/// The domain label at the start of every MAC input.
const LABEL: &str = "stagger-auth-v1";

/// A nonce as it goes on the wire: [`NONCE_BYTES`] bytes in lowercase hex.
///
/// The bytes must be fresh randomness from the platform (the node reads the
/// OS, a browser `crypto.getRandomValues`); this crate reads neither, so the
/// caller draws them and passes the nonce to [`Dialer::new`] or
/// [`Acceptor::new`].
pub fn nonce_hex(bytes: &[u8; NONCE_BYTES]) -> String {
    hex::encode(bytes)
}

/// Compare two secrets (an admin token, say) in time independent of where
/// they differ. Lengths are not hidden.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a handshake failed. The connection is closed after sending
/// `Frame::Error { reason: err.to_string() }` (unless the peer refused us).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The other side's fault: its proof does not verify, because it does not
    /// know the group secret, or because it replays a handshake recorded on
    /// another connection.
    #[error("authentication failed: the proof does not match the group secret (wrong secret, or a replayed handshake)")]
    WrongSecret,
    /// The dialer's fault (or a configuration mismatch): it wants to join as
    /// a member under an id that is not in this node's group file.
    #[error("unknown member id {0:?}: not a member of this group")]
    UnknownMember(String),
    /// The dialer's fault: its nonce belongs to a handshake already accepted,
    /// so this `Hello` is a replay.
    #[error("replayed authentication: this dialer nonce was already used")]
    Replay,
    /// The other side's fault: it sent a frame that does not belong at this
    /// step of the handshake.
    #[error("expected a {expected} frame during the handshake, got {got}")]
    Unexpected { expected: &'static str, got: String },
    /// The other side's fault: its nonce is not 64 lowercase hex digits
    /// (or equals ours).
    #[error("bad nonce: a nonce is 64 lowercase hex digits (32 random bytes)")]
    BadNonce,
    /// The other side's fault: an id that is empty, longer than 256 bytes,
    /// or contains `|` or control characters; or a `Welcome` from another id
    /// than the `Challenge`.
    #[error("bad id {0:?}: ids are 1 to 256 bytes without '|' or control characters")]
    BadId(String),
    /// Not necessarily anyone's fault here: the other side refused the
    /// handshake with an `Error` frame, whose reason is given.
    #[error("refused by the peer: {reason}")]
    Refused { reason: String },
}

impl AuthError {
    /// A one-line reason for the log and for the `Error` frame.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    fn unexpected(expected: &'static str, frame: &Frame) -> AuthError {
        match frame {
            Frame::Error { reason } => AuthError::Refused { reason: reason.clone() },
            other => AuthError::Unexpected { expected, got: other.kind().to_string() },
        }
    }
}

/// An authenticated peer, as the acceptor knows it after the handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub id: String,
    pub role: PeerKind,
}

/// What the acceptor said in its `Welcome`, as the dialer knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcomed {
    pub id: String,
    pub index: u32,
    pub ranking_version: u32,
}

/// The dialer nonces of accepted handshakes, shared by every connection of a
/// process (wrap it in an `Arc`). Bounded: past `cap` entries the oldest is
/// forgotten.
pub struct ReplayGuard {
    cap: usize,
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl ReplayGuard {
    /// The default capacity: far more handshakes than a group makes between
    /// two restarts of a node, at 64 bytes each.
    pub const DEFAULT_CAP: usize = 65_536;

    /// A guard remembering at most `cap` nonces (at least one).
    pub fn new(cap: usize) -> ReplayGuard {
        ReplayGuard { cap: cap.max(1), inner: Mutex::new(Seen::default()) }
    }

    /// Whether `nonce` was already recorded (and not yet evicted).
    pub fn contains(&self, nonce: &str) -> bool {
        self.lock().set.contains(nonce)
    }

    /// Record `nonce`. False if it was already there (a replay), in which case
    /// nothing changes. Atomic: of two connections racing with one nonce,
    /// exactly one gets `true`.
    pub fn insert(&self, nonce: &str) -> bool {
        let mut seen = self.lock();
        if seen.set.contains(nonce) {
            return false;
        }
        while seen.order.len() >= self.cap {
            if let Some(old) = seen.order.pop_front() {
                seen.set.remove(&old);
            }
        }
        seen.set.insert(nonce.to_string());
        seen.order.push_back(nonce.to_string());
        true
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // The data stays consistent even if a holder panicked mid-way: each
        // step leaves set and order in agreement or merely over-full.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for ReplayGuard {
    fn default() -> ReplayGuard {
        ReplayGuard::new(ReplayGuard::DEFAULT_CAP)
    }
}

impl std::fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayGuard").field("cap", &self.cap).field("len", &self.len()).finish()
    }
}

/// The keyed MAC, ready to use. Holds the key schedule, not the secret text.
#[derive(Clone)]
struct Key(HmacSha256);

/// Which side a proof speaks for.
#[derive(Clone, Copy)]
enum Side {
    Acceptor,
    Dialer,
}

/// Everything a proof binds.
struct Transcript<'a> {
    dialer_id: &'a str,
    role: PeerKind,
    acceptor_id: &'a str,
    dialer_nonce: &'a str,
    acceptor_nonce: &'a str,
}

impl Key {
    fn new(secret: &str) -> Key {
        Key(HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length"))
    }

    fn mac(&self, side: Side, t: &Transcript<'_>) -> HmacSha256 {
        let side = match side {
            Side::Acceptor => "acceptor",
            Side::Dialer => "dialer",
        };
        let input = format!("{LABEL}|{side}|{}|{}|{}|{}|{}", t.dialer_id, t.role.name(), t.acceptor_id, t.dialer_nonce, t.acceptor_nonce);
        let mut mac = self.0.clone();
        mac.update(input.as_bytes());
        mac
    }

    fn prove(&self, side: Side, t: &Transcript<'_>) -> String {
        hex::encode(self.mac(side, t).finalize().into_bytes())
    }

    /// Constant-time check of a hex proof. Malformed hex fails like a wrong
    /// proof.
    fn check(&self, side: Side, t: &Transcript<'_>, proof: &str) -> Result<(), AuthError> {
        let bytes = hex::decode(proof).map_err(|_| AuthError::WrongSecret)?;
        self.mac(side, t).verify_slice(&bytes).map_err(|_| AuthError::WrongSecret)
    }
}

fn check_nonce(nonce: &str) -> Result<(), AuthError> {
    let ok = nonce.len() == 2 * NONCE_BYTES && nonce.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadNonce)
    }
}

/// Ids go into the MAC between `|` separators, and into logs.
fn check_id(id: &str) -> Result<(), AuthError> {
    if id.is_empty() || id.len() > 256 || id.chars().any(|c| c == '|' || c.is_control()) {
        Err(AuthError::BadId(id.chars().take(64).collect()))
    } else {
        Ok(())
    }
}

enum DialerState {
    /// `hello()` may have been sent; waiting for the `Challenge`.
    Start,
    /// `Auth` sent; waiting for the `Welcome`.
    Authed { acceptor_id: String },
    /// Welcomed, or failed: no more frames.
    Done,
}

/// The side that opened the connection.
pub struct Dialer {
    key: Key,
    id: String,
    role: PeerKind,
    nonce: String,
    state: DialerState,
}

impl Dialer {
    /// A dialer with a fresh nonce. `my_id` is this endpoint's id (a member id
    /// from the group file, or any name for an observer).
    pub fn new(secret: &str, my_id: &str, role: PeerKind, nonce: String) -> Dialer {
        Dialer { key: Key::new(secret), id: my_id.to_string(), role, nonce, state: DialerState::Start }
    }

    /// The first frame to send.
    pub fn hello(&self) -> Frame {
        Frame::Hello { id: self.id.clone(), role: self.role, nonce: self.nonce.clone() }
    }

    /// Check the acceptor's `Challenge` and produce the `Auth` to send. An
    /// `Error` frame gives [`AuthError::Refused`].
    pub fn on_challenge(&mut self, frame: Frame) -> Result<Frame, AuthError> {
        if !matches!(self.state, DialerState::Start) {
            return Err(AuthError::unexpected("welcome", &frame));
        }
        self.state = DialerState::Done;
        let Frame::Challenge { id, nonce, proof } = frame else {
            return Err(AuthError::unexpected("challenge", &frame));
        };
        check_id(&id)?;
        check_nonce(&nonce)?;
        if nonce == self.nonce {
            return Err(AuthError::BadNonce);
        }
        let t = Transcript { dialer_id: &self.id, role: self.role, acceptor_id: &id, dialer_nonce: &self.nonce, acceptor_nonce: &nonce };
        self.key.check(Side::Acceptor, &t, &proof)?;
        let auth = Frame::Auth { proof: self.key.prove(Side::Dialer, &t) };
        self.state = DialerState::Authed { acceptor_id: id };
        Ok(auth)
    }

    /// The id the acceptor proved, once its `Challenge` checked out. The
    /// runtime compares it with the member it meant to dial.
    pub fn acceptor_id(&self) -> Option<&str> {
        match &self.state {
            DialerState::Authed { acceptor_id } => Some(acceptor_id),
            _ => None,
        }
    }

    /// Read the acceptor's `Welcome`, which ends the handshake. An `Error`
    /// frame (a refusal of our `Auth`) gives [`AuthError::Refused`].
    pub fn on_welcome(&mut self, frame: Frame) -> Result<Welcomed, AuthError> {
        let state = std::mem::replace(&mut self.state, DialerState::Done);
        let DialerState::Authed { acceptor_id } = state else {
            return Err(AuthError::unexpected("challenge", &frame));
        };
        let Frame::Welcome { id, index, ranking_version } = frame else {
            return Err(AuthError::unexpected("welcome", &frame));
        };
        if id != acceptor_id {
            return Err(AuthError::BadId(id));
        }
        Ok(Welcomed { id, index, ranking_version })
    }
}

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialer").field("id", &self.id).field("role", &self.role).finish_non_exhaustive()
    }
}

enum AcceptorState {
    /// Waiting for the `Hello`.
    Start,
    /// `Challenge` sent; waiting for the `Auth`.
    Challenged { dialer_id: String, role: PeerKind, dialer_nonce: String },
    /// Accepted, or failed: no more frames.
    Done,
}

/// The side that accepted the connection.
pub struct Acceptor {
    key: Key,
    id: String,
    members: Vec<String>,
    guard: Arc<ReplayGuard>,
    nonce: String,
    state: AcceptorState,
}

impl Acceptor {
    /// An acceptor with a fresh nonce. `members` are the ids allowed to join
    /// as members; observers may use any (well-formed) id. `guard` is the
    /// process-wide record of accepted dialer nonces.
    pub fn new(secret: &str, my_id: &str, members: &[impl AsRef<str>], guard: Arc<ReplayGuard>, nonce: String) -> Acceptor {
        Acceptor {
            key: Key::new(secret),
            id: my_id.to_string(),
            members: members.iter().map(|m| m.as_ref().to_string()).collect(),
            guard,
            nonce,
            state: AcceptorState::Start,
        }
    }

    /// Check the dialer's `Hello` and produce the `Challenge` to send.
    pub fn on_hello(&mut self, frame: Frame) -> Result<Frame, AuthError> {
        if !matches!(self.state, AcceptorState::Start) {
            self.state = AcceptorState::Done;
            return Err(AuthError::unexpected("auth", &frame));
        }
        self.state = AcceptorState::Done;
        let Frame::Hello { id, role, nonce } = frame else {
            return Err(AuthError::unexpected("hello", &frame));
        };
        check_id(&id)?;
        check_nonce(&nonce)?;
        if nonce == self.nonce {
            return Err(AuthError::BadNonce);
        }
        if role == PeerKind::Member && !self.members.contains(&id) {
            return Err(AuthError::UnknownMember(id));
        }
        if self.guard.contains(&nonce) {
            return Err(AuthError::Replay);
        }
        let t = Transcript { dialer_id: &id, role, acceptor_id: &self.id, dialer_nonce: &nonce, acceptor_nonce: &self.nonce };
        let challenge = Frame::Challenge { id: self.id.clone(), nonce: self.nonce.clone(), proof: self.key.prove(Side::Acceptor, &t) };
        self.state = AcceptorState::Challenged { dialer_id: id, role, dialer_nonce: nonce };
        Ok(challenge)
    }

    /// Check the dialer's `Auth`. On success the handshake is done: the
    /// runtime sends `Welcome` and treats the connection as `Peer`.
    pub fn on_auth(&mut self, frame: Frame) -> Result<Peer, AuthError> {
        let state = std::mem::replace(&mut self.state, AcceptorState::Done);
        let AcceptorState::Challenged { dialer_id, role, dialer_nonce } = state else {
            return Err(AuthError::unexpected("hello", &frame));
        };
        let Frame::Auth { proof } = frame else {
            return Err(AuthError::unexpected("auth", &frame));
        };
        let t = Transcript { dialer_id: &dialer_id, role, acceptor_id: &self.id, dialer_nonce: &dialer_nonce, acceptor_nonce: &self.nonce };
        self.key.check(Side::Dialer, &t, &proof)?;
        // Record only now, so that unauthenticated dialers cannot fill the
        // guard; `insert` is atomic, so of two racing replays one wins.
        if !self.guard.insert(&dialer_nonce) {
            return Err(AuthError::Replay);
        }
        Ok(Peer { id: dialer_id, role })
    }
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor").field("id", &self.id).field("members", &self.members).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fresh, distinct nonces for the tests (the node draws its own from
    /// the OS; this crate reads no randomness).
    fn nonce() -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let mut rng = crate::Rng::new(NEXT.fetch_add(1, Ordering::Relaxed));
        let mut bytes = [0u8; NONCE_BYTES];
        for b in bytes.iter_mut() {
            *b = rng.below(256) as u8;
        }
        nonce_hex(&bytes)
    }
    use crate::wire::{decode, encode};

    const SECRET: &str = "9f2c41d0e7b35a68c1f04e92d7ab3365f0c18e7d2a4b9c56e1f7a30d8b2c6e4f";
    const MEMBERS: [&str; 3] = ["tokyo", "osaka", "nagoya"];

    /// Every frame crosses the wire as text: check the secret is never in it.
    fn wire(frame: Frame) -> Frame {
        let text = encode(&frame);
        assert!(!text.contains(SECRET), "secret leaked in {text}");
        assert!(!text.contains("wrong-secret"), "secret leaked in {text}");
        decode(&text).unwrap()
    }

    fn guard() -> Arc<ReplayGuard> {
        Arc::new(ReplayGuard::default())
    }

    fn acceptor(guard: &Arc<ReplayGuard>) -> Acceptor {
        Acceptor::new(SECRET, "osaka", &MEMBERS, guard.clone(), nonce())
    }

    /// A whole handshake; returns both sides' results.
    fn handshake(d: &mut Dialer, a: &mut Acceptor) -> Result<(Peer, Welcomed), AuthError> {
        let challenge = wire(a.on_hello(wire(d.hello()))?);
        let auth = wire(d.on_challenge(challenge)?);
        let peer = a.on_auth(auth)?;
        let welcome = wire(Frame::Welcome { id: "osaka".into(), index: 1, ranking_version: 1 });
        Ok((peer, d.on_welcome(welcome)?))
    }

    #[test]
    fn nonces_are_fresh_hex_of_32_bytes() {
        let a = nonce();
        let b = nonce();
        assert_eq!(a.len(), 64);
        assert!(check_nonce(&a).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn successful_mutual_handshake() {
        let g = guard();
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a = acceptor(&g);
        let (peer, welcomed) = handshake(&mut d, &mut a).unwrap();
        assert_eq!(peer, Peer { id: "tokyo".into(), role: PeerKind::Member });
        assert_eq!(welcomed, Welcomed { id: "osaka".into(), index: 1, ranking_version: 1 });
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn dialer_learns_the_acceptor_id() {
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a = acceptor(&guard());
        assert_eq!(d.acceptor_id(), None);
        let challenge = a.on_hello(d.hello()).unwrap();
        d.on_challenge(challenge).unwrap();
        assert_eq!(d.acceptor_id(), Some("osaka"));
    }

    #[test]
    fn proofs_match_the_documented_formula() {
        let key = Key::new(SECRET);
        let t = Transcript { dialer_id: "tokyo", role: PeerKind::Member, acceptor_id: "osaka", dialer_nonce: "aa", acceptor_nonce: "bb" };
        let mut mac = HmacSha256::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(b"stagger-auth-v1|dialer|tokyo|member|osaka|aa|bb");
        assert_eq!(key.prove(Side::Dialer, &t), hex::encode(mac.finalize().into_bytes()));
        let mut mac = HmacSha256::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(b"stagger-auth-v1|acceptor|tokyo|member|osaka|aa|bb");
        assert_eq!(key.prove(Side::Acceptor, &t), hex::encode(mac.finalize().into_bytes()));
        assert_ne!(key.prove(Side::Acceptor, &t), key.prove(Side::Dialer, &t));
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac.finalize().into_bytes()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn wrong_secret_on_the_dialer_is_refused_by_the_acceptor() {
        let mut d = Dialer::new("wrong-secret", "tokyo", PeerKind::Member, nonce());
        let mut a = acceptor(&guard());
        let challenge = wire(a.on_hello(wire(d.hello())).unwrap());
        // The dialer cannot verify the acceptor either (different secrets);
        // to see the acceptor's own check, forge the Auth the dialer would send.
        assert_eq!(d.on_challenge(challenge.clone()), Err(AuthError::WrongSecret));
        let Frame::Challenge { nonce: an, .. } = challenge else { unreachable!() };
        let Frame::Hello { nonce: dn, .. } = d.hello() else { unreachable!() };
        let t = Transcript { dialer_id: "tokyo", role: PeerKind::Member, acceptor_id: "osaka", dialer_nonce: &dn, acceptor_nonce: &an };
        let forged = Frame::Auth { proof: Key::new("wrong-secret").prove(Side::Dialer, &t) };
        let err = a.on_auth(wire(forged)).unwrap_err();
        assert_eq!(err, AuthError::WrongSecret);
        assert!(err.reason().contains("wrong secret"), "{}", err.reason());
    }

    #[test]
    fn wrong_secret_on_the_acceptor_is_refused_by_the_dialer() {
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut impostor = Acceptor::new("wrong-secret", "osaka", &MEMBERS, guard(), nonce());
        let challenge = wire(impostor.on_hello(wire(d.hello())).unwrap());
        assert_eq!(d.on_challenge(challenge), Err(AuthError::WrongSecret));
        assert_eq!(d.acceptor_id(), None);
    }

    #[test]
    fn garbage_proofs_are_wrong_secret() {
        for proof in ["", "zz", "00", &"0".repeat(64), &"ab".repeat(64)] {
            let mut a = acceptor(&guard());
            let d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
            a.on_hello(d.hello()).unwrap();
            assert_eq!(a.on_auth(Frame::Auth { proof: proof.to_string() }), Err(AuthError::WrongSecret), "{proof:?}");
        }
    }

    #[test]
    fn unknown_member_is_refused() {
        let mut d = Dialer::new(SECRET, "kyoto", PeerKind::Member, nonce());
        let mut a = acceptor(&guard());
        let err = a.on_hello(wire(d.hello())).unwrap_err();
        assert_eq!(err, AuthError::UnknownMember("kyoto".into()));
        assert_eq!(err.reason(), "unknown member id \"kyoto\": not a member of this group");
        // The dialer hears the refusal as such.
        let refusal = wire(Frame::error(err.reason()));
        assert_eq!(d.on_challenge(refusal), Err(AuthError::Refused { reason: err.reason() }));
    }

    #[test]
    fn observer_is_allowed_with_any_id() {
        let g = guard();
        let mut d = Dialer::new(SECRET, "tab-7f3a", PeerKind::Observer, nonce());
        let mut a = acceptor(&g);
        let (peer, _) = handshake(&mut d, &mut a).unwrap();
        assert_eq!(peer, Peer { id: "tab-7f3a".into(), role: PeerKind::Observer });
    }

    #[test]
    fn observer_still_needs_the_secret() {
        let mut d = Dialer::new("wrong-secret", "tab", PeerKind::Observer, nonce());
        let mut a = acceptor(&guard());
        let challenge = a.on_hello(d.hello()).unwrap();
        assert_eq!(d.on_challenge(challenge), Err(AuthError::WrongSecret));
    }

    #[test]
    fn role_is_bound_into_the_proof() {
        // A man in the middle turns an observer's Hello into a member's
        // (same id, which happens to be a member id): the proofs no longer
        // match on either side.
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Observer, nonce());
        let mut a = acceptor(&guard());
        let Frame::Hello { id, nonce, .. } = d.hello() else { unreachable!() };
        let challenge = a.on_hello(Frame::Hello { id, role: PeerKind::Member, nonce }).unwrap();
        assert_eq!(d.on_challenge(challenge), Err(AuthError::WrongSecret));
    }

    #[test]
    fn ids_are_bound_into_the_proof() {
        // A challenge from an acceptor claiming another id than the one it
        // proved for does not verify.
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a = acceptor(&guard());
        let Frame::Challenge { nonce, proof, .. } = a.on_hello(d.hello()).unwrap() else { unreachable!() };
        assert_eq!(d.on_challenge(Frame::Challenge { id: "nagoya".into(), nonce, proof }), Err(AuthError::WrongSecret));
    }

    #[test]
    fn replayed_auth_on_a_new_acceptor_is_wrong_secret() {
        // Record a good handshake.
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a1 = acceptor(&guard());
        let hello = wire(d.hello());
        let challenge = wire(a1.on_hello(hello.clone()).unwrap());
        let auth = wire(d.on_challenge(challenge).unwrap());
        a1.on_auth(auth.clone()).unwrap();
        // Replay it to another process (fresh guard): the acceptor's fresh
        // nonce makes the recorded Auth worthless.
        let mut a2 = acceptor(&guard());
        a2.on_hello(hello).unwrap();
        let err = a2.on_auth(auth).unwrap_err();
        assert_eq!(err, AuthError::WrongSecret);
    }

    #[test]
    fn replayed_hello_with_the_same_nonce_is_refused_as_replay() {
        let g = guard();
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a1 = acceptor(&g);
        let hello = wire(d.hello());
        let challenge = wire(a1.on_hello(hello.clone()).unwrap());
        let auth = wire(d.on_challenge(challenge).unwrap());
        a1.on_auth(auth.clone()).unwrap();
        // Same process, new connection: refused at the Hello.
        let mut a2 = acceptor(&g);
        let err = a2.on_hello(hello).unwrap_err();
        assert_eq!(err, AuthError::Replay);
        assert_eq!(err.reason(), "replayed authentication: this dialer nonce was already used");
        // And a2 will not take the Auth either.
        assert!(matches!(a2.on_auth(auth), Err(AuthError::Unexpected { expected: "hello", .. })));
    }

    #[test]
    fn replay_racing_the_original_is_refused() {
        // A replayed Hello that arrives while the original handshake is still
        // in flight gets a Challenge, but its Auth cannot verify.
        let g = guard();
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a1 = acceptor(&g);
        let mut a2 = acceptor(&g);
        let hello = wire(d.hello());
        let challenge = a1.on_hello(hello.clone()).unwrap();
        a2.on_hello(hello).unwrap();
        let auth = d.on_challenge(challenge).unwrap();
        a1.on_auth(auth.clone()).unwrap();
        assert_eq!(a2.on_auth(auth), Err(AuthError::WrongSecret));
    }

    #[test]
    fn a_failed_handshake_records_no_nonce() {
        let g = guard();
        let d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a = acceptor(&g);
        a.on_hello(d.hello()).unwrap();
        assert_eq!(a.on_auth(Frame::Auth { proof: "00".repeat(32) }), Err(AuthError::WrongSecret));
        assert!(g.is_empty());
        // So the genuine dialer can still complete with that nonce elsewhere.
        let mut d = d;
        let mut a2 = acceptor(&g);
        assert!(handshake(&mut d, &mut a2).is_ok());
    }

    #[test]
    fn replay_guard_is_bounded_fifo_and_atomic() {
        let g = ReplayGuard::new(2);
        assert!(g.insert("a"));
        assert!(!g.insert("a"));
        assert!(g.insert("b"));
        assert!(g.insert("c"));
        assert_eq!(g.len(), 2);
        assert!(!g.contains("a"), "oldest evicted first");
        assert!(g.contains("b") && g.contains("c"));
        assert!(!g.insert("b"));
        assert_eq!(ReplayGuard::new(0).len(), 0);
        let one = ReplayGuard::new(0);
        assert!(one.insert("x") && one.insert("y"));
        assert_eq!(one.len(), 1);

        // Many threads racing with the same nonces: each wins exactly once.
        let g = Arc::new(ReplayGuard::new(1000));
        let wins: usize = (0..8)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || (0..100).filter(|i| g.insert(&i.to_string())).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(wins, 100);
    }

    #[test]
    fn bad_nonces_are_refused() {
        let upper = "AB".repeat(32);
        let short = "ab".repeat(31);
        let not_hex = "zz".repeat(32);
        for bad in ["", short.as_str(), upper.as_str(), not_hex.as_str()] {
            let mut a = acceptor(&guard());
            let hello = Frame::Hello { id: "tokyo".into(), role: PeerKind::Member, nonce: bad.into() };
            assert_eq!(a.on_hello(hello), Err(AuthError::BadNonce), "{bad:?}");
        }
        // A challenge echoing the dialer's own nonce is refused too.
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let Frame::Hello { nonce, .. } = d.hello() else { unreachable!() };
        assert_eq!(d.on_challenge(Frame::Challenge { id: "osaka".into(), nonce, proof: "00".into() }), Err(AuthError::BadNonce));
    }

    #[test]
    fn bad_ids_are_refused() {
        let long = "x".repeat(257);
        for bad in ["", "tok|yo", "tok\nyo", long.as_str()] {
            let mut a = Acceptor::new(SECRET, "osaka", &[bad], guard(), nonce());
            let hello = Frame::Hello { id: bad.into(), role: PeerKind::Member, nonce: nonce() };
            assert!(matches!(a.on_hello(hello), Err(AuthError::BadId(_))), "{bad:?}");
        }
    }

    #[test]
    fn out_of_order_frames_are_unexpected() {
        let mut a = acceptor(&guard());
        let err = a.on_hello(Frame::Auth { proof: "00".into() }).unwrap_err();
        assert_eq!(err, AuthError::Unexpected { expected: "hello", got: "auth".into() });
        assert_eq!(err.reason(), "expected a hello frame during the handshake, got auth");

        let mut a = acceptor(&guard());
        let d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        a.on_hello(d.hello()).unwrap();
        assert_eq!(a.on_auth(d.hello()), Err(AuthError::Unexpected { expected: "auth", got: "hello".into() }));

        let mut a = acceptor(&guard());
        a.on_hello(d.hello()).unwrap();
        assert!(matches!(a.on_hello(d.hello()), Err(AuthError::Unexpected { .. })), "a second Hello");

        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let msg = Frame::Msg { env: crate::Envelope { from: 0, version: 1, msg: crate::Message::Inquiry { seq: 1 } } };
        assert_eq!(d.on_challenge(msg), Err(AuthError::Unexpected { expected: "challenge", got: "msg".into() }));
        assert!(d.on_welcome(Frame::Welcome { id: "osaka".into(), index: 1, ranking_version: 1 }).is_err(), "welcome before challenge");
    }

    #[test]
    fn dialer_refuses_a_welcome_from_another_id_or_an_error() {
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a = acceptor(&guard());
        let auth = d.on_challenge(a.on_hello(d.hello()).unwrap()).unwrap();
        a.on_auth(auth).unwrap();
        let err = d.on_welcome(Frame::Welcome { id: "nagoya".into(), index: 2, ranking_version: 1 }).unwrap_err();
        assert_eq!(err, AuthError::BadId("nagoya".into()));

        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a = acceptor(&guard());
        d.on_challenge(a.on_hello(d.hello()).unwrap()).unwrap();
        assert_eq!(d.on_welcome(Frame::error("nope")), Err(AuthError::Refused { reason: "nope".into() }));
    }

    #[test]
    fn the_secret_never_appears_on_the_wire() {
        let g = guard();
        let mut d = Dialer::new(SECRET, "tokyo", PeerKind::Member, nonce());
        let mut a = acceptor(&g);
        let mut texts = vec![encode(&d.hello())];
        let challenge = a.on_hello(d.hello()).unwrap();
        texts.push(encode(&challenge));
        let auth = d.on_challenge(challenge).unwrap();
        texts.push(encode(&auth));
        a.on_auth(auth).unwrap();
        for text in &texts {
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains(&hex::encode(SECRET)), "{text}");
        }
        // Nor in Debug output of the state machines.
        assert!(!format!("{d:?} {a:?}").contains(SECRET));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"token", b"token"));
        assert!(!constant_time_eq(b"token", b"tokeN"));
        assert!(!constant_time_eq(b"token", b"token2"));
        assert!(constant_time_eq(b"", b""));
    }
}
