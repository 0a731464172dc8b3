//! Trace events in words a person reads: "atlanta enters the election:
//! election delay 575 ms", "atlanta: master ottawa failed".
//!
//! One wording for every place that shows events as text: a live node's
//! log (`/api/trace`, and so its observers) and the playground's Live tab,
//! which says what the members' flight recordings hold. Members are named
//! by id, never by row or index; the trace keeps rows for servers and the
//! engine's indices inside notes and messages, so the rank table says whom
//! an index names.

use super::flow::{Answered, Flow};
use super::{DropReason, What};
use crate::bully::BullyState;
use crate::message::Index;
use crate::raft::RaftRole;
use crate::ranking::RankTable;
use crate::render::svg::msg_text;
use crate::server::{Note, Role};
use crate::time::Span;

impl What {
    /// This event as one sentence, members named from `ids` (by row) and
    /// `table` (by index).
    pub fn describe(&self, ids: &[String], table: &RankTable) -> String {
        let row = |r: u32| ids.get(r as usize).cloned().unwrap_or_else(|| format!("member #{r}"));
        let index = |i: Index| if (i as usize) < table.len() { row(table.row(i)) } else { format!("index {i}") };
        match self {
            What::Fault { source } => format!("fault {source} of the scenario applies"),
            What::Send { from, to, msg, arrive, .. } => {
                let lost = if arrive.is_none() { " (it never arrived)" } else { "" };
                format!("{} sends {} to {}{lost}", row(*from), msg_text(msg), row(*to))
            }
            What::Deliver { from, to, msg, .. } => format!("{} receives {} from {}", row(*to), msg_text(msg), row(*from)),
            What::Drop { from, to, msg, reason, .. } => {
                format!("{} from {} to {} is lost: {}", msg_text(msg), row(*from), row(*to), drop_words(*reason))
            }
            What::Timer { server, timer } => format!("{}: {} timer fires", row(*server), timer.name()),
            What::Role { server, role, master } => {
                let s = row(*server);
                match (role, master) {
                    (Role::Master, _) => format!("{s} becomes master"),
                    (Role::Backup, Some(m)) => format!("{s} is a backup of master {}", row(*m)),
                    (Role::Backup, None) => format!("{s} is a backup with no master"),
                    (Role::WaitElection, _) => format!("{s} waits out its election delay"),
                }
            }
            What::Refused { server, from, reason } => format!("{} refuses a message from index {from}: {reason}", row(*server)),
            What::Note { server, note } => {
                let s = row(*server);
                match note {
                    Note::Miss { count: 1 } => format!("{s}: an inquiry went unanswered"),
                    Note::Miss { count } => format!("{s}: {count} inquiries in a row went unanswered"),
                    Note::MasterFailed { master: Some(m) } => format!("{s}: master {} failed", index(*m)),
                    Note::MasterFailed { master: None } => format!("{s}: no master answers"),
                    Note::ElectionDelay { delay } => format!("{s} enters the election: election delay {}", ms(*delay)),
                    Note::ClaimPending { idx } => format!("{s} holds {}'s claim while it asks its master", index(*idx)),
                    Note::ClaimDropped { idx } => format!("{s} drops {}'s claim: its master answered", index(*idx)),
                    Note::ClaimIgnored { idx } => format!("{s} ignores {}'s claim (defer)", index(*idx)),
                    Note::Raft { role, term } => format!("{s} is a Raft {} in term {term}", raft_role(*role)),
                    Note::Bully { state } => format!("{s}: Bully {}", bully_state(*state)),
                }
            }
            What::Service(flow) => flow_text(flow, &row),
        }
    }
}

/// A service entry in words.
fn flow_text(flow: &Flow, row: &dyn Fn(u32) -> String) -> String {
    match *flow {
        Flow::Request { client, server, seq, .. } => format!("client c{} sends request {seq} to {}", client + 1, row(server)),
        Flow::Reply { client, server, seq, answered, .. } => {
            format!("{} answers request {seq} of client c{}: {}", row(server), client + 1, answered_words(answered))
        }
        Flow::Message { from, to, kind, epoch, index, entries, arrive, .. } => {
            let lost = if arrive.is_none() { " (it never arrived)" } else { "" };
            let carried = if entries > 0 { format!(", {entries} entries") } else { String::new() };
            format!("{} sends {} (epoch {epoch}, index {index}{carried}) to {}{lost}", row(from), kind.name(), row(to))
        }
        Flow::Applied { server, index } => format!("{} has applied up to index {index}", row(server)),
        Flow::Received { from, to, kind, index } => format!("{} receives {} (index {index}) from {}", row(to), kind.name(), row(from)),
    }
}

fn answered_words(a: Answered) -> &'static str {
    match a {
        Answered::Ok => "done",
        Answered::NotMaster => "not the master",
        Answered::Unknown => "outcome unknown (the master stepped down)",
        Answered::Busy => "busy",
        Answered::Refused => "refused",
    }
}

/// `575 ms`, `2737.5 ms`: milliseconds without trailing zeros.
fn ms(s: Span) -> String {
    let v = (s.as_ms() * 1000.0).round() / 1000.0;
    format!("{v} ms")
}

fn drop_words(r: DropReason) -> &'static str {
    match r {
        DropReason::Loss => "lost on the way",
        DropReason::Partition => "the network is partitioned",
        DropReason::ReceiverDown => "the receiver is down",
    }
}

fn raft_role(r: RaftRole) -> &'static str {
    match r {
        RaftRole::Follower => "follower",
        RaftRole::PreCandidate => "pre-candidate",
        RaftRole::Candidate => "candidate",
        RaftRole::Leader => "leader",
    }
}

fn bully_state(s: BullyState) -> &'static str {
    match s {
        BullyState::Normal => "follows its coordinator",
        BullyState::Electing => "starts an election",
        BullyState::Waiting => "awaits the coordinator",
        BullyState::Coordinator => "is coordinator",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::time::Time;

    fn group() -> (Vec<String>, RankTable) {
        let ids: Vec<String> = ["ottawa", "atlanta", "bangalore"].map(String::from).to_vec();
        // Ranked atlanta, ottawa, bangalore: index 0 is row 1.
        let table = RankTable::new(0, vec![1, 0, 2], &vec![vec![1_000; 3]; 3], Span::ZERO);
        (ids, table)
    }

    #[test]
    fn notes_and_roles_read_as_words_with_members_by_name() {
        let (ids, t) = group();
        let note = |note| What::Note { server: 2, note }.describe(&ids, &t);
        assert_eq!(note(Note::ElectionDelay { delay: Span(575_000) }), "bangalore enters the election: election delay 575 ms");
        assert_eq!(note(Note::ElectionDelay { delay: Span(2_737_500) }), "bangalore enters the election: election delay 2737.5 ms");
        // Index 1 is ottawa (row 0), not row 1.
        assert_eq!(note(Note::MasterFailed { master: Some(1) }), "bangalore: master ottawa failed");
        assert_eq!(note(Note::Miss { count: 3 }), "bangalore: 3 inquiries in a row went unanswered");
        let role = |role, master| What::Role { server: 0, role, master }.describe(&ids, &t);
        assert_eq!(role(Role::Master, None), "ottawa becomes master");
        assert_eq!(role(Role::Backup, Some(2)), "ottawa is a backup of master bangalore");
        let send = What::Send { id: 0, from: 1, to: 2, msg: Message::DeclareMaster { idx: 0 }.into(), arrive: Some(Time(5)) };
        assert_eq!(send.describe(&ids, &t), "atlanta sends DeclareMaster{idx: 0} to bangalore");
        for text in [note(Note::ClaimPending { idx: 9 }), role(Role::WaitElection, None)] {
            assert!(!text.contains('{') && !text.contains("Some("), "no debug output: {text}");
        }
    }
}
