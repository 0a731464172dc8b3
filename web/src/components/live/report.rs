//! What the Live view says about each member and about the group: a fold
//! of the native members' `/api/status` answers and this tab's own engine.
//!
//! A browser member has no HTTP API, so nobody can ask it for its status:
//! when this tab is that member, its own engine is the one authority on its
//! role; when another tab is, the natives' view of it (connected, named as
//! master) is all there is. The banner names the master the group agrees
//! on: the one member that reports itself master, or, when the only
//! candidate is a browser member joined elsewhere, the master every
//! answering native names.

use super::member::MemberView;
use crate::member::MemberState;

/// One member as its card shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    /// `Master`, `Backup`, `WaitElection`, `Down`, `unreachable` (a native
    /// that did not answer), `joined` (a browser member in another tab) or
    /// `not joined`.
    pub role: String,
    pub master: Option<String>,
    /// Where the card's facts come from: the node's address, "this tab", …
    pub source: String,
    pub up: bool,
    pub isolated: bool,
    /// Connected peers, for a native that answered.
    pub connections: Option<usize>,
    /// Whether the role is the member's own report (a native's status,
    /// this tab's engine) rather than what others say of it.
    pub own: bool,
}

/// What the group agrees on.
#[derive(Clone, Debug, PartialEq)]
pub enum MasterVerdict {
    /// One member reports itself master.
    One(String),
    /// No member that can be asked reports itself master, but every native
    /// that answered names this browser member, joined from another tab.
    Reported(String),
    /// No master: an election is under way.
    Electing,
    /// Several members report themselves master.
    Split(Vec<String>),
}

impl MasterVerdict {
    pub fn master(&self) -> Option<&str> {
        match self {
            MasterVerdict::One(m) | MasterVerdict::Reported(m) => Some(m),
            _ => None,
        }
    }

    pub fn text(&self) -> String {
        match self {
            MasterVerdict::One(m) => format!("One master: {m}."),
            MasterVerdict::Reported(m) => format!("One master: {m} (a browser member in another tab, as the others report it)."),
            MasterVerdict::Electing => "No master right now: an election is under way.".to_string(),
            MasterVerdict::Split(ms) => format!("{} masters: {} (split brain).", ms.len(), ms.join(", ")),
        }
    }
}

/// This tab's member, if it joined as `m`.
fn this_tab<'a>(m: &MemberView, tab: Option<&'a MemberState>) -> Option<&'a MemberState> {
    tab.filter(|t| m.browser && t.id == m.id && t.phase == "joined")
}

/// The masters the answering natives name, up ones only, if they all name
/// the same one.
fn named_by_natives(members: &[MemberView]) -> Option<String> {
    let named: Vec<Option<&str>> =
        members.iter().filter_map(|m| m.status.as_ref()).filter(|s| s["up"] == true).map(|s| s["master"].as_str()).collect();
    match named.first() {
        Some(Some(first)) if named.iter().all(|n| n == &Some(*first)) => Some(first.to_string()),
        _ => None,
    }
}

/// The card of `m`, one of `members`, with this tab's member if it joined.
pub fn card(m: &MemberView, members: &[MemberView], tab: Option<&MemberState>) -> Card {
    if let Some(t) = this_tab(m, tab) {
        return Card {
            role: t.role.clone(),
            master: t.master.clone(),
            source: "browser member · this tab".into(),
            up: t.role != "Down",
            isolated: false,
            connections: None,
            own: true,
        };
    }
    if m.browser {
        let connected = members
            .iter()
            .filter_map(|n| n.status.as_ref()?["peers"].as_array())
            .any(|peers| peers.iter().any(|p| p["id"] == m.id.as_str() && p["state"] == "connected"));
        let master = named_by_natives(members);
        let role = match (connected, master.as_deref() == Some(m.id.as_str())) {
            (true, true) => "Master",
            (true, false) => "joined",
            (false, _) => "not joined",
        };
        let source = if connected { "browser member · in another tab, as the others report it" } else { "browser member" };
        return Card {
            role: role.into(),
            master: connected.then_some(master).flatten(),
            source: source.into(),
            up: connected,
            isolated: false,
            connections: None,
            own: false,
        };
    }
    match &m.status {
        Some(s) => Card {
            role: s["role"].as_str().unwrap_or("?").to_string(),
            master: s["master"].as_str().map(str::to_string),
            source: m.addr.clone().unwrap_or_default(),
            up: s["up"].as_bool().unwrap_or(false),
            isolated: s["isolated"].as_bool().unwrap_or(false),
            connections: s["peers"].as_array().map(|p| p.iter().filter(|x| x["state"] == "connected").count()),
            own: true,
        },
        None => Card {
            role: "unreachable".into(),
            master: None,
            source: m.addr.clone().unwrap_or_default(),
            up: false,
            isolated: false,
            connections: None,
            own: false,
        },
    }
}

/// The banner's verdict over `members`, with this tab's member if it joined.
pub fn verdict(members: &[MemberView], tab: Option<&MemberState>) -> MasterVerdict {
    let masters: Vec<String> = members
        .iter()
        .filter(|m| {
            let c = card(m, members, tab);
            c.own && c.up && c.role == "Master"
        })
        .map(|m| m.id.clone())
        .collect();
    match masters.len() {
        1 => MasterVerdict::One(masters[0].clone()),
        0 => match named_by_natives(members) {
            Some(m) if members.iter().any(|x| x.id == m && x.browser && this_tab(x, tab).is_none()) => {
                let c = members.iter().find(|x| x.id == m).map(|x| card(x, members, tab));
                match c {
                    Some(c) if c.role == "Master" => MasterVerdict::Reported(m),
                    _ => MasterVerdict::Electing,
                }
            }
            _ => MasterVerdict::Electing,
        },
        _ => MasterVerdict::Split(masters),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn native(id: &str, role: &str, master: Option<&str>, peers: &[(&str, &str)]) -> MemberView {
        let peers: Vec<_> = peers.iter().map(|(p, s)| json!({"id": p, "state": s})).collect();
        MemberView {
            id: id.into(),
            addr: Some(format!("127.0.0.1:{}", 7000 + id.len())),
            browser: false,
            status: Some(json!({"id": id, "role": role, "master": master, "up": role != "Down", "isolated": false, "peers": peers})),
        }
    }

    fn browser(id: &str) -> MemberView {
        MemberView { id: id.into(), addr: None, browser: true, status: None }
    }

    /// The demo after the tab joined as `you` and took over: Ottawa
    /// crashed (down), the other natives follow `you`.
    fn demo_after_takeover() -> Vec<MemberView> {
        let you = [("you", "connected")];
        vec![
            native("ottawa", "Down", None, &[]),
            browser("you"),
            native("atlanta", "Backup", Some("you"), &you),
            native("bangalore", "Backup", Some("you"), &you),
            native("sydney", "Backup", Some("you"), &you),
        ]
    }

    fn tab(role: &str, master: Option<&str>) -> MemberState {
        MemberState {
            id: "you".into(),
            phase: "joined".into(),
            role: role.into(),
            master: master.map(str::to_string),
            ..MemberState::default()
        }
    }

    #[test]
    fn the_joined_tab_is_reported_from_its_own_engine_and_named_master() {
        let members = demo_after_takeover();
        let me = tab("Master", None);
        assert_eq!(verdict(&members, Some(&me)), MasterVerdict::One("you".into()));
        assert_eq!(verdict(&members, Some(&me)).text(), "One master: you.");
        let c = card(&members[1], &members, Some(&me));
        assert_eq!((c.role.as_str(), c.up, c.own), ("Master", true, true));
        assert_eq!(c.source, "browser member · this tab");
        assert_eq!(card(&members[0], &members, Some(&me)).role, "Down");
    }

    #[test]
    fn a_browser_member_in_another_tab_is_reported_as_the_natives_see_it() {
        let members = demo_after_takeover();
        // This tab has not joined: the natives agree on `you`.
        assert_eq!(verdict(&members, None), MasterVerdict::Reported("you".into()));
        let c = card(&members[1], &members, None);
        assert_eq!((c.role.as_str(), c.own), ("Master", false));
        assert!(c.role != "unreachable");
        // A tab that left is not this tab's member any more.
        let left = MemberState { phase: "the connection closed (code 1000)".into(), ..tab("Down", None) };
        assert_eq!(verdict(&members, Some(&left)), MasterVerdict::Reported("you".into()));
    }

    #[test]
    fn no_agreement_is_an_election_and_two_self_reported_masters_a_split() {
        let members = vec![
            native("ottawa", "Down", None, &[]),
            browser("you"),
            native("atlanta", "WaitElection", None, &[]),
            native("bangalore", "Backup", Some("atlanta"), &[]),
        ];
        assert_eq!(verdict(&members, None), MasterVerdict::Electing);
        assert_eq!(card(&members[1], &members, None).role, "not joined");
        let members = vec![native("ottawa", "Master", None, &[]), browser("you"), native("atlanta", "Backup", Some("you"), &[])];
        assert_eq!(verdict(&members, Some(&tab("Master", None))), MasterVerdict::Split(vec!["ottawa".into(), "you".into()]));
    }
}
