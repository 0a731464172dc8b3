//! The group file of `stagger node --group FILE`: a scenario (SPEC §7) plus
//! what a live group needs — each server's `addr`, which members are
//! browser tabs (`"kind": "browser"`), which are spare servers outside
//! the initial configuration (`"spare": true`), the group `secret`, and
//! `emulate_delays`.
//!
//! The extra fields are taken off the JSON before the rest is validated as a
//! scenario, so a group file gets exactly the scenario checks (and errors
//! naming the field) that `stagger sim` applies, and the scenario part can be
//! pasted into the playground as it is.
//!
//! One scenario default differs: a group file that does not set
//! `announce_every` gets [`DEFAULT_ANNOUNCE_EVERY`], written into the
//! scenario part, so `/api/group` and the playground show the value the
//! nodes run, browser members included. A live master must re-announce
//! itself: when a claim is lost and no connection drops or forms (a relay to
//! a browser member that no node held at that instant, a message dropped
//! above TCP), no node has an event to act on, and only a periodic
//! `DeclareMaster` lets the two masters meet (docs/protocol.md L12).
//! Scenarios for the simulator keep SPEC §7's 0.

use serde_json::Value;
use stagger_core::{RankTable, Scenario, ScenarioError, ScenarioFile};
use std::net::SocketAddr;
use std::sync::Arc;

/// What kind of member a server is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKind {
    /// A `stagger node` process, reachable at its `addr`.
    Native,
    /// A browser tab that joins through some node's `/ws`; it has no address.
    Browser,
}

/// One member of the live group, in `servers` order.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub id: String,
    pub kind: MemberKind,
    /// Where a native member listens; `None` for browser members.
    pub addr: Option<SocketAddr>,
    /// Listed with an address but outside the initial configuration: a
    /// server `stagger ctl add` can bring in later (docs/protocol.md N20).
    pub spare: bool,
}

/// A validated group file. Its `Debug` leaves the secret out, so it can be
/// logged.
#[derive(Clone)]
pub struct Group {
    pub scenario: Scenario,
    /// The scenario part, as the playground would load it.
    pub file: ScenarioFile,
    pub members: Vec<Member>,
    pub secret: String,
    /// Add the matrix's one-way delay to every send, so a loopback group
    /// behaves like the WAN it describes.
    pub emulate_delays: bool,
    /// What the file's author should know but that does not stop the group
    /// (a node prints them when it starts).
    pub warnings: Vec<String>,
    /// The name server the master registers with (`"nameserver":
    /// "http://HOST:PORT"`), under the scenario's `name` as the group's
    /// name there. `None`: the group runs without one.
    pub nameserver: Option<String>,
}

/// `announce_every` of a group file that does not set it: a master
/// re-announces every second detection period. The cost is N − 1 messages
/// every 2·P from the master alone, a quarter of what the backups' inquiries
/// and replies already cost (2·(N − 1) every P); the benefit is that two
/// masters meet within 2·P plus a one-way delay once messages flow again.
pub const DEFAULT_ANNOUNCE_EVERY: u32 = 2;

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("name", &self.scenario.name)
            .field("members", &self.members)
            .field("secret", &"<redacted>")
            .field("emulate_delays", &self.emulate_delays)
            .finish()
    }
}

/// A group file that cannot be used. The file's author is at fault.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("{field}: {problem}")]
    Field { field: String, problem: String },
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

fn field(field: impl Into<String>, problem: impl Into<String>) -> GroupError {
    GroupError::Field { field: field.into(), problem: problem.into() }
}

impl Group {
    pub fn from_json(text: &str) -> Result<Group, GroupError> {
        let mut v: Value = serde_json::from_str(text).map_err(|e| field("(file)", e.to_string()))?;
        let obj = v.as_object_mut().ok_or_else(|| field("(file)", "a group file is a JSON object"))?;
        let secret = match obj.remove("secret") {
            Some(Value::String(s)) if s.len() >= 8 => s,
            Some(Value::String(_)) => return Err(field("secret", "the group secret must be at least 8 characters")),
            Some(_) => return Err(field("secret", "must be a string")),
            None => return Err(field("secret", "missing: a live group needs a shared secret")),
        };
        let emulate_delays = match obj.remove("emulate_delays") {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(field("emulate_delays", "must be true or false")),
        };
        let nameserver = match obj.remove("nameserver") {
            None | Some(Value::Null) => None,
            Some(Value::String(url)) => Some(nameserver_url(&url)?),
            Some(_) => return Err(field("nameserver", "must be a \"http://HOST:PORT\" string")),
        };
        let mut warnings = Vec::new();
        match obj.get("announce_every") {
            None | Some(Value::Null) => {
                obj.insert("announce_every".into(), Value::from(DEFAULT_ANNOUNCE_EVERY));
            }
            Some(v) if v.as_u64() == Some(0) => warnings.push(
                "announce_every: 0 turns re-announcement off; if a master's claim is lost while no connection drops \
                 (a partition that heals, a browser member's relay), two masters can then remain until one of them fails \
                 (leave the field out for the default of 2)"
                    .to_string(),
            ),
            Some(_) => {}
        }
        let servers = obj.get_mut("servers").and_then(Value::as_array_mut).ok_or_else(|| field("servers", "missing: a list of servers"))?;
        let mut extras = Vec::with_capacity(servers.len());
        for (i, s) in servers.iter_mut().enumerate() {
            let Some(s) = s.as_object_mut() else { return Err(field(format!("servers[{i}]"), "must be an object")) };
            let kind = match s.remove("kind") {
                None => MemberKind::Native,
                Some(Value::String(k)) if k == "native" => MemberKind::Native,
                Some(Value::String(k)) if k == "browser" => MemberKind::Browser,
                Some(other) => return Err(field(format!("servers[{i}].kind"), format!("must be \"native\" or \"browser\", not {other}"))),
            };
            let addr = match s.remove("addr") {
                None => None,
                Some(Value::String(a)) => Some(
                    a.parse::<SocketAddr>()
                        .map_err(|_| field(format!("servers[{i}].addr"), format!("'{a}' is not host:port (an IP address and a port)")))?,
                ),
                Some(_) => return Err(field(format!("servers[{i}].addr"), "must be a \"host:port\" string")),
            };
            match (kind, addr) {
                (MemberKind::Native, None) => return Err(field(format!("servers[{i}].addr"), "missing: a native member needs an address")),
                (MemberKind::Browser, Some(_)) => {
                    return Err(field(format!("servers[{i}].addr"), "a browser member has no address; it joins through a node's /ws"))
                }
                _ => {}
            }
            let spare = match s.remove("spare") {
                None => false,
                Some(Value::Bool(b)) => b,
                Some(_) => return Err(field(format!("servers[{i}].spare"), "must be true or false")),
            };
            extras.push((kind, addr, spare));
        }
        let file: ScenarioFile = serde_json::from_value(v).map_err(|e| field("(scenario)", e.to_string()))?;
        let scenario = file.validate()?;
        let members = scenario
            .ids
            .iter()
            .zip(extras)
            .map(|(id, (kind, addr, spare))| Member { id: id.clone(), kind, addr, spare })
            .collect::<Vec<_>>();
        for (i, a) in members.iter().enumerate() {
            if let Some(dup) = members[..i].iter().find(|b| a.addr.is_some() && b.addr == a.addr) {
                return Err(field(
                    format!("servers[{i}].addr"),
                    format!("{} is also the address of '{}'", a.addr.expect("checked"), dup.id),
                ));
            }
        }
        if !members.iter().any(|m| m.kind == MemberKind::Native && !m.spare) {
            return Err(field("servers", "at least one member outside the spares must be a native node"));
        }
        if nameserver.is_none() {
            if let Some(i) = members.iter().position(|m| m.spare) {
                return Err(field(
                    format!("servers[{i}].spare"),
                    "spare servers join through the name server: name one with \"nameserver\"",
                ));
            }
        }
        if nameserver.is_some() {
            stagger_core::names::check_group(&scenario.name).map_err(|_| {
                field("name", "with a nameserver, the name is the group's name there: 1 to 64 characters of A-Z a-z 0-9 . _ -")
            })?;
        }
        Ok(Group { scenario, file, members, secret, emulate_delays, warnings, nameserver })
    }

    /// The row of a member id.
    pub fn row_of(&self, id: &str) -> Option<u32> {
        self.scenario.row_of(id)
    }

    /// The initial configuration: every server but the spares, in the
    /// scenario's ranking order (what the first node to reach the name
    /// server creates the group with).
    pub fn initial_members(&self) -> Vec<String> {
        let rows = self.scenario.ranking.iter().filter(|&&r| !self.members[r as usize].spare);
        rows.map(|&r| self.members[r as usize].id.clone()).collect()
    }

    /// The engine's ranking for a configuration (docs/protocol.md N21):
    /// the configuration's members in its order, then every other server
    /// of the file in the scenario's ranking order, under the
    /// configuration's ranking version. The engine keeps one row per
    /// server of the file; the servers outside the configuration rank
    /// last, are down and unconnected, and never claim. Returns the table,
    /// which rows are members, and the configuration's ids this file does
    /// not know (ignored: no address to reach them at).
    pub fn table_for(&self, members: &[String], ranking_version: u32) -> (Arc<RankTable>, Vec<bool>, Vec<String>) {
        let mut member = vec![false; self.members.len()];
        let mut rows = Vec::with_capacity(self.members.len());
        let mut unknown = Vec::new();
        for id in members {
            match self.row_of(id) {
                Some(r) if !member[r as usize] => {
                    member[r as usize] = true;
                    rows.push(r);
                }
                Some(_) => {}
                None => unknown.push(id.clone()),
            }
        }
        rows.extend(self.scenario.ranking.iter().filter(|&&r| !member[r as usize]));
        let s = &self.scenario;
        (Arc::new(RankTable::new(ranking_version, rows, &s.delays_us, s.params.guard)), member, unknown)
    }

    /// The documented dialing rule: of two native members, the one listed
    /// first in `servers` dials the other; browser members always dial.
    /// So every pair has exactly one connection, and a restarted node is
    /// re-dialled by the members before it and re-dials those after it.
    pub fn dials(&self, me: u32, peer: u32) -> bool {
        let (a, b) = (&self.members[me as usize], &self.members[peer as usize]);
        a.kind == MemberKind::Native && b.kind == MemberKind::Native && me < peer
    }
}

/// Checks a `nameserver` URL: `http://HOST:PORT`, nothing after.
fn nameserver_url(url: &str) -> Result<String, GroupError> {
    let bad = || field("nameserver", format!("'{url}' is not http://HOST:PORT"));
    let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
    if parsed.scheme() != "http"
        || parsed.host_str().is_none()
        || parsed.port().is_none()
        || !matches!(parsed.path(), "" | "/")
        || parsed.query().is_some()
    {
        return Err(bad());
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> serde_json::Value {
        let mut v: Value = serde_json::from_str(include_str!("../../static/scenarios/patent-5.json")).unwrap();
        for (i, s) in v["servers"].as_array_mut().unwrap().iter_mut().enumerate() {
            s["addr"] = Value::String(format!("127.0.0.1:{}", 7000 + i));
        }
        v["secret"] = Value::String("correct horse".into());
        v["emulate_delays"] = Value::Bool(true);
        v
    }

    #[test]
    fn a_group_file_may_name_its_name_server() {
        assert_eq!(Group::from_json(&group().to_string()).unwrap().nameserver, None);
        let mut v = group();
        v["nameserver"] = "http://127.0.0.1:7000/".into();
        v["name"] = "cities".into();
        assert_eq!(Group::from_json(&v.to_string()).unwrap().nameserver.as_deref(), Some("http://127.0.0.1:7000"));
        for (bad, name, field_named) in
            [("127.0.0.1:7000", "cities", "nameserver"), ("http://h:1/x", "cities", "nameserver"), ("http://h:1", "two words", "name")]
        {
            v["nameserver"] = bad.into();
            v["name"] = name.into();
            let e = Group::from_json(&v.to_string()).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{field_named}:")), "{bad} {name}: {e}");
        }
    }

    #[test]
    fn spare_servers_rank_last_until_a_configuration_names_them() {
        let mut v = group();
        v["nameserver"] = "http://127.0.0.1:7000".into();
        v["name"] = "cities".into();
        v["servers"][1]["spare"] = true.into();
        let g = Group::from_json(&v.to_string()).unwrap();
        let ids: Vec<String> = g.members.iter().map(|m| m.id.clone()).collect();
        assert!(g.members[1].spare && !g.members[0].spare);
        let initial = g.initial_members();
        assert_eq!(initial, [ids[0].as_str(), &ids[2], &ids[3], &ids[4]]);
        let (table, member, unknown) = g.table_for(&initial, 1);
        assert_eq!((table.version, table.rows()), (1, &[0, 2, 3, 4, 1][..]));
        assert_eq!(member, [true, false, true, true, true]);
        assert!(unknown.is_empty());
        // Adding the spare at the end and dropping row 0; an id the file
        // does not know is reported, not placed.
        let next = vec![ids[2].clone(), ids[3].clone(), ids[4].clone(), ids[1].clone(), "zurich".to_string()];
        let (table, member, unknown) = g.table_for(&next, 3);
        assert_eq!((table.version, table.rows()), (3, &[2, 3, 4, 1, 0][..]));
        assert_eq!(member, [false, true, true, true, true]);
        assert_eq!(unknown, ["zurich"]);
        // Without spares, the initial table is the scenario's.
        let plain = Group::from_json(&group().to_string()).unwrap();
        assert_eq!(plain.table_for(&plain.initial_members(), 1).0, plain.scenario.rank_table());
    }

    #[test]
    fn spares_need_a_name_server_and_one_native_member_outside_them() {
        let mut v = group();
        v["servers"][1]["spare"] = true.into();
        let e = Group::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.starts_with("servers[1].spare: spare servers join through the name server"), "{e}");
        v["nameserver"] = "http://127.0.0.1:7000".into();
        v["name"] = "cities".into();
        v["servers"][1]["spare"] = "yes".into();
        let e = Group::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.starts_with("servers[1].spare: must be true or false"), "{e}");
        for i in 0..5 {
            v["servers"][i]["spare"] = true.into();
        }
        let e = Group::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.starts_with("servers: at least one member outside the spares"), "{e}");
    }

    #[test]
    fn a_group_file_is_a_scenario_plus_addresses_and_a_secret() {
        let g = Group::from_json(&group().to_string()).unwrap();
        assert_eq!(g.members.len(), 5);
        assert_eq!(g.members[1].addr.unwrap().port(), 7001);
        assert!(g.emulate_delays);
        assert_eq!(g.secret, "correct horse");
        assert!(g.dials(0, 3) && !g.dials(3, 0));
    }

    #[test]
    fn debug_output_leaves_the_secret_out() {
        let g = Group::from_json(&group().to_string()).unwrap();
        assert!(!format!("{g:?}").contains("correct horse"));
    }

    #[test]
    fn browser_members_have_no_address_and_always_dial() {
        let mut v = group();
        v["servers"][4].as_object_mut().unwrap().remove("addr");
        v["servers"][4]["kind"] = Value::String("browser".into());
        let g = Group::from_json(&v.to_string()).unwrap();
        assert_eq!(g.members[4].kind, MemberKind::Browser);
        assert!(!g.dials(0, 4), "a node never dials a browser");
    }

    #[test]
    fn a_group_file_without_announce_every_re_announces_every_second_period() {
        let mut v = group();
        v.as_object_mut().unwrap().remove("announce_every");
        let g = Group::from_json(&v.to_string()).unwrap();
        assert_eq!(g.scenario.params.announce_every, DEFAULT_ANNOUNCE_EVERY);
        assert_eq!(DEFAULT_ANNOUNCE_EVERY, 2);
        assert_eq!(g.file.announce_every, Some(2), "the scenario part says what the nodes run");
        assert!(g.warnings.is_empty());
        // The same file as a scenario for the simulator keeps SPEC's 0.
        let file: ScenarioFile = serde_json::from_str(include_str!("../../static/scenarios/patent-5.json")).unwrap();
        assert_eq!(file.announce_every, None);
        assert_eq!(file.validate().unwrap().params.announce_every, 0);
    }

    #[test]
    fn an_explicit_announce_every_is_kept_and_zero_is_warned_about() {
        for (k, warned) in [(0, true), (1, false), (5, false)] {
            let mut v = group();
            v["announce_every"] = Value::from(k);
            let g = Group::from_json(&v.to_string()).unwrap();
            assert_eq!(g.scenario.params.announce_every, k);
            assert_eq!(g.warnings.len(), warned as usize, "{k}: {:?}", g.warnings);
        }
        let mut v = group();
        v["announce_every"] = Value::from(0);
        let w = &Group::from_json(&v.to_string()).unwrap().warnings[0];
        assert!(w.starts_with("announce_every: 0") && w.contains("two masters"), "{w}");
    }

    #[test]
    fn mistakes_name_their_field() {
        let cases: Vec<(Box<dyn Fn(&mut Value)>, &str)> = vec![
            (Box::new(|v| drop(v.as_object_mut().unwrap().remove("secret"))), "secret: missing"),
            (Box::new(|v| v["secret"] = Value::String("short".into())), "secret: the group secret must be"),
            (Box::new(|v| v["servers"][2]["addr"] = Value::String("nowhere".into())), "servers[2].addr: 'nowhere' is not host:port"),
            (Box::new(|v| drop(v["servers"][1].as_object_mut().unwrap().remove("addr"))), "servers[1].addr: missing"),
            (Box::new(|v| v["servers"][3]["addr"] = Value::String("127.0.0.1:7000".into())), "servers[3].addr: 127.0.0.1:7000 is also"),
            (Box::new(|v| v["servers"][0]["kind"] = Value::String("robot".into())), "servers[0].kind"),
            (Box::new(|v| v["detection"]["timeout_ms"] = Value::from(900)), "detection.timeout_ms"),
        ];
        for (edit, want) in cases {
            let mut v = group();
            edit(&mut v);
            let e = Group::from_json(&v.to_string()).unwrap_err().to_string();
            assert!(e.contains(want), "{e} should contain {want}");
        }
    }
}
