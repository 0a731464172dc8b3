//! The four messages of the protocol (SPEC §2) and their envelope.

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

/// The four kinds of message, for counting and colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Inquiry,
    Reply,
    Declare,
    Revoke,
}

impl MessageKind {
    pub const ALL: [MessageKind; 4] = [MessageKind::Inquiry, MessageKind::Reply, MessageKind::Declare, MessageKind::Revoke];

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Inquiry => "inquiry",
            MessageKind::Reply => "reply",
            MessageKind::Declare => "declare",
            MessageKind::Revoke => "revoke",
        }
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
        matches!(self.kind(), MessageKind::Declare | MessageKind::Revoke)
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
