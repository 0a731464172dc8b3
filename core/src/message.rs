//! The four messages of the protocol (SPEC §2) and their envelope, and
//! [`Msg`], what the simulator's trace records: one of those, or a message
//! of an algorithm it is compared with (Raft, Bully).

use crate::bully::BullyMsg;
use crate::raft::RaftMsg;
use serde::{Deserialize, Serialize};

/// A position in the ranking. Index 0 ranks highest ([0045]).
pub type Index = u32;

/// A protocol message. Messages name servers by index, never by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Message {
    /// "Are you functional?" — sent by a Backup on its detection tick
    /// (Fig. 5 act 520), or to verify a claim under the `verify` policy.
    Inquiry { seq: u64 },
    /// "Yes, and I am master" — only a Master answers an inquiry (act 540).
    InquiryReply { seq: u64 },
    /// `S_idx` takes over the mastership (act 860, [0054]).
    DeclareMaster { idx: Index },
    /// Replace `S_reject`'s mastership with `S_idx`'s (act 960, [0064]).
    RevokeMaster { reject: Index, idx: Index },
}

/// The kinds of message, for counting and colouring: the protocol's four,
/// then Raft's and Bully's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageKind {
    Inquiry,
    Reply,
    Declare,
    Revoke,
    PreVote,
    PreVoteReply,
    RequestVote,
    Vote,
    Heartbeat,
    HeartbeatReply,
    Election,
    Answer,
    Coordinator,
    Alive,
}

impl MessageKind {
    /// The protocol's own four (SPEC §2).
    pub const ALL: [MessageKind; 4] = [MessageKind::Inquiry, MessageKind::Reply, MessageKind::Declare, MessageKind::Revoke];
    /// Every kind the simulator can trace, in legend order.
    pub const EVERY: [MessageKind; 14] = [
        MessageKind::Inquiry,
        MessageKind::Reply,
        MessageKind::Declare,
        MessageKind::Revoke,
        MessageKind::PreVote,
        MessageKind::PreVoteReply,
        MessageKind::RequestVote,
        MessageKind::Vote,
        MessageKind::Heartbeat,
        MessageKind::HeartbeatReply,
        MessageKind::Election,
        MessageKind::Answer,
        MessageKind::Coordinator,
        MessageKind::Alive,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Inquiry => "inquiry",
            MessageKind::Reply => "reply",
            MessageKind::Declare => "declare",
            MessageKind::Revoke => "revoke",
            MessageKind::PreVote => "pre-vote",
            MessageKind::PreVoteReply => "pre-vote-reply",
            MessageKind::RequestVote => "request-vote",
            MessageKind::Vote => "vote",
            MessageKind::Heartbeat => "heartbeat",
            MessageKind::HeartbeatReply => "heartbeat-reply",
            MessageKind::Election => "election",
            MessageKind::Answer => "answer",
            MessageKind::Coordinator => "coordinator",
            MessageKind::Alive => "alive",
        }
    }

    /// Whether it belongs to electing a master rather than to noticing that
    /// one failed: what "election messages" counts (SPEC §8) for every
    /// algorithm. Raft's heartbeats and Bully's `Alive` are detection, like
    /// inquiries.
    pub fn is_election(self) -> bool {
        !matches!(
            self,
            MessageKind::Inquiry | MessageKind::Reply | MessageKind::Heartbeat | MessageKind::HeartbeatReply | MessageKind::Alive
        )
    }
}

impl Message {
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Inquiry { .. } => MessageKind::Inquiry,
            Message::InquiryReply { .. } => MessageKind::Reply,
            Message::DeclareMaster { .. } => MessageKind::Declare,
            Message::RevokeMaster { .. } => MessageKind::Revoke,
        }
    }

    /// Declare and Revoke are the election messages of SPEC §8.
    pub fn is_election(&self) -> bool {
        self.kind().is_election()
    }
}

/// A message as the simulator's trace records it. Untagged in JSON: each
/// inner type already says its `"type"`, and the names do not overlap, so a
/// trace of the staggered timer reads exactly as it did before other
/// algorithms existed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Msg {
    Stagger(Message),
    Raft(RaftMsg),
    Bully(BullyMsg),
}

impl Msg {
    pub fn kind(&self) -> MessageKind {
        match self {
            Msg::Stagger(m) => m.kind(),
            Msg::Raft(m) => match m {
                RaftMsg::PreVote { .. } => MessageKind::PreVote,
                RaftMsg::PreVoteReply { .. } => MessageKind::PreVoteReply,
                RaftMsg::RequestVote { .. } => MessageKind::RequestVote,
                RaftMsg::Vote { .. } => MessageKind::Vote,
                RaftMsg::Heartbeat { .. } => MessageKind::Heartbeat,
                RaftMsg::HeartbeatReply { .. } => MessageKind::HeartbeatReply,
            },
            Msg::Bully(m) => match m {
                BullyMsg::Election => MessageKind::Election,
                BullyMsg::Answer => MessageKind::Answer,
                BullyMsg::Coordinator => MessageKind::Coordinator,
                BullyMsg::Alive => MessageKind::Alive,
            },
        }
    }

    pub fn is_election(&self) -> bool {
        self.kind().is_election()
    }
}

impl From<Message> for Msg {
    fn from(m: Message) -> Msg {
        Msg::Stagger(m)
    }
}

/// A message as it crosses the network: who sent it, under which ranking
/// version, and what it says. A receiver refuses an envelope stamped with a
/// version other than its own (SPEC §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Envelope {
    pub from: Index,
    pub version: u32,
    pub msg: Message,
}

/// Where a message goes. `All` means every other member of the configured
/// group, crashed ones included (SPEC §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Target {
    One(Index),
    All,
}
