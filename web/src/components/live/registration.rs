//! The group's registration with its name server, as the Live tab shows it:
//! a fold of the name server's watch feed (who is registered under which
//! epoch, and how each registration ended) and of its lookups (how much of
//! the lease is left). Pure, so that it is tested natively; the socket and
//! the page are in [`super::nameserver`].
//!
//! The feed's changes carry no time: the tab stamps each with the instant it
//! heard of it, except those that happened before it started watching (their
//! sequence number is at most the one of the lookup it made first), which it
//! marks as earlier rather than make a time up.

use serde_json::Value;
use stagger_core::names::Ending;

/// How many registrations the history keeps, newest last.
pub const HISTORY: usize = 20;

/// One frame of the name server's watch WebSocket: `{"resync": view}` or
/// `{"change": change}` (docs/protocol.md N13). Read from a
/// `serde_json::Value` by hand rather than through the registry's serde
/// types: their derived readers (a flattened, internally tagged enum) would
/// add tens of kilobytes to the page's wasm for four fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The whole state: the changes since the last frame are gone.
    Resync(Lookup),
    Change {
        seq: u64,
        what: What,
    },
}

/// A group as a lookup (or a resync) shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub master: Option<Registered>,
    /// What was left of the master's lease when the name server answered, µs.
    pub lease_left_us: u64,
    pub highest_epoch: u64,
    pub seq: u64,
}

/// A change of the group that the panel shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    Registered {
        member: String,
        addr: String,
        epoch: u64,
    },
    Ended {
        member: String,
        epoch: u64,
        how: Ending,
    },
    /// A reconfiguration: not a registration.
    Other,
}

fn text(v: &Value, field: &str) -> Result<String, String> {
    v[field].as_str().map(str::to_string).ok_or_else(|| format!("no string {field:?} in {v}"))
}

fn number(v: &Value, field: &str) -> Result<u64, String> {
    v[field].as_u64().ok_or_else(|| format!("no number {field:?} in {v}"))
}

impl Lookup {
    /// Reads the JSON of a name server's view.
    pub fn read(v: &Value) -> Result<Lookup, String> {
        let m = &v["master"];
        let master = match m.is_null() {
            true => None,
            false => Some(Registered { member: text(m, "member")?, addr: text(m, "addr")?, epoch: number(m, "epoch")? }),
        };
        let lease_left_us = if master.is_some() { number(m, "lease_left")? } else { 0 };
        Ok(Lookup { master, lease_left_us, highest_epoch: number(v, "highest_epoch")?, seq: number(v, "seq")? })
    }
}

impl Frame {
    /// Reads one text frame of the watch.
    pub fn read(text_frame: &str) -> Result<Frame, String> {
        let v: Value = serde_json::from_str(text_frame).map_err(|e| e.to_string())?;
        if let Some(view) = v.get("resync") {
            return Ok(Frame::Resync(Lookup::read(view)?));
        }
        let c = v.get("change").ok_or_else(|| format!("neither a resync nor a change: {v}"))?;
        let what = match c["change"].as_str() {
            Some("registered") => What::Registered { member: text(c, "member")?, addr: text(c, "addr")?, epoch: number(c, "epoch")? },
            Some("ended") => {
                let how = match c["how"].as_str() {
                    Some("resigned") => Ending::Resigned,
                    Some("expired") => Ending::Expired,
                    Some("removed") => Ending::Removed,
                    _ => return Err(format!("an unknown ending in {c}")),
                };
                What::Ended { member: text(c, "member")?, epoch: number(c, "epoch")?, how }
            }
            _ => What::Other,
        };
        Ok(Frame::Change { seq: number(c, "seq")?, what })
    }
}

/// How a registration ended, as the history says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The registry ended it: resigned, expired, or its member was removed
    /// from the configuration.
    Ended(Ending),
    /// Another member registered under a higher epoch while it was live.
    TakenOver { by: String },
    /// It ended while the tab was not watching (the feed had moved on and
    /// the tab resynced).
    Unseen,
}

/// One registration in the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub epoch: u64,
    pub member: String,
    /// When the tab heard of it (µs since the Unix epoch, this browser's
    /// clock); `None` when it happened before the tab watched.
    pub at_us: Option<u64>,
    /// How and when it ended, `None` while it is live.
    pub end: Option<(End, Option<u64>)>,
}

/// The registered master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    pub member: String,
    pub addr: String,
    pub epoch: u64,
}

/// What a lookup said of the lease, and when the tab had the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub epoch: u64,
    /// What was left of the lease when the name server answered, µs.
    pub left_us: u64,
    pub at_us: u64,
}

impl Lease {
    /// The lease of `view`'s master, if it has one, as of `at_us`.
    pub fn of(view: &Lookup, at_us: u64) -> Option<Lease> {
        view.master.as_ref().map(|m| Lease { epoch: m.epoch, left_us: view.lease_left_us, at_us })
    }
}

/// The registration as the tab knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registrations {
    /// Whether a frame arrived yet: until then the tab knows nothing.
    pub synced: bool,
    /// The sequence number of the last change folded in: a reconnecting
    /// watch resumes after it.
    pub seq: u64,
    /// Changes up to this number happened before the tab watched.
    pub before: u64,
    pub master: Option<Registered>,
    pub highest_epoch: u64,
    /// Oldest first, at most [`HISTORY`].
    pub history: Vec<Entry>,
}

impl Registrations {
    /// A fold that counts the changes up to `before` (the sequence number of
    /// a lookup made before watching) as earlier.
    pub fn watching_after(before: u64) -> Registrations {
        Registrations { before, ..Registrations::default() }
    }

    /// Folds in one frame of the watch, heard at `now_us`.
    pub fn apply(&mut self, frame: Frame, now_us: u64) {
        match frame {
            Frame::Resync(view) => self.resync(view, now_us),
            Frame::Change { seq, what } => self.change(seq, what, now_us),
        }
        self.synced = true;
    }

    fn stamp(&self, seq: u64, now_us: u64) -> Option<u64> {
        (seq > self.before).then_some(now_us)
    }

    fn resync(&mut self, view: Lookup, now_us: u64) {
        let at = self.stamp(view.seq, now_us);
        let epoch = view.master.as_ref().map(|m| m.epoch);
        // Whatever the tab still thought live and is not the master now
        // ended while it was not looking.
        for e in self.history.iter_mut().filter(|e| e.end.is_none() && Some(e.epoch) != epoch) {
            e.end = Some((End::Unseen, None));
        }
        if let Some(m) = &view.master {
            if !self.history.iter().any(|e| e.epoch == m.epoch) {
                self.push(Entry { epoch: m.epoch, member: m.member.clone(), at_us: at, end: None });
            }
        }
        self.master = view.master;
        self.highest_epoch = view.highest_epoch;
        self.seq = view.seq;
    }

    fn change(&mut self, seq: u64, what: What, now_us: u64) {
        // A change folded in already (a reconnect that asked from too far
        // back) is not news.
        if self.synced && seq <= self.seq {
            return;
        }
        let at = self.stamp(seq, now_us);
        match what {
            What::Registered { member, addr, epoch } => {
                // A fresh registration over a live one is a takeover (the
                // registry ends nothing first).
                for e in self.history.iter_mut().filter(|e| e.end.is_none()) {
                    e.end = Some((End::TakenOver { by: member.clone() }, at));
                }
                self.push(Entry { epoch, member: member.clone(), at_us: at, end: None });
                self.master = Some(Registered { member, addr, epoch });
                self.highest_epoch = self.highest_epoch.max(epoch);
            }
            What::Ended { member, epoch, how } => {
                match self.history.iter_mut().find(|e| e.epoch == epoch) {
                    Some(e) => e.end = Some((End::Ended(how), at)),
                    // It began before the kept history.
                    None => self.push(Entry { epoch, member, at_us: None, end: Some((End::Ended(how), at)) }),
                }
                if self.master.as_ref().is_some_and(|m| m.epoch == epoch) {
                    self.master = None;
                }
                self.highest_epoch = self.highest_epoch.max(epoch);
            }
            What::Other => {}
        }
        self.seq = seq;
    }

    /// Adds `entry` in epoch order, dropping the oldest beyond [`HISTORY`].
    fn push(&mut self, entry: Entry) {
        let at = self.history.iter().position(|e| e.epoch > entry.epoch).unwrap_or(self.history.len());
        self.history.insert(at, entry);
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
    }

    /// What is left of the master's lease at `now_us`, from the last
    /// lookup, if that lookup saw the same registration.
    pub fn lease_left(&self, lease: Option<Lease>, now_us: u64) -> Option<u64> {
        let (m, l) = (self.master.as_ref()?, lease?);
        (m.epoch == l.epoch).then(|| l.left_us.saturating_sub(now_us.saturating_sub(l.at_us)))
    }
}

/// A lease countdown: tenths of a second, rounded down, so that it never
/// shows more time than is left.
pub fn countdown(us: u64) -> String {
    let tenths = us / 100_000;
    format!("{}.{} s", tenths / 10, tenths % 10)
}

/// How a registration ended, in words.
pub fn ended(end: &End) -> String {
    match end {
        End::Ended(Ending::Resigned) => "resigned".into(),
        End::Ended(Ending::Expired) => "lease expired".into(),
        End::Ended(Ending::Removed) => "removed from the group".into(),
        End::TakenOver { by } => format!("taken over by {by}"),
        End::Unseen => "ended while not watched".into(),
    }
}

#[cfg(test)]
mod tests {
    //! The frames are made by serializing the registry's own types, as the
    //! name server does, so that a change of its JSON breaks these tests.
    use super::*;
    use serde_json::json;
    use stagger_core::names::{Change, ChangeKind, Configuration, Master, View};
    use stagger_core::Span;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn change(seq: u64, what: ChangeKind) -> Frame {
        Frame::read(&json!({ "change": Change { seq, what } }).to_string()).unwrap()
    }

    fn resync(view: View) -> Frame {
        Frame::read(&json!({ "resync": view }).to_string()).unwrap()
    }

    fn lookup(view: &View) -> Lookup {
        Lookup::read(&serde_json::to_value(view).unwrap()).unwrap()
    }

    fn registered(seq: u64, member: &str, epoch: u64) -> Frame {
        change(seq, ChangeKind::Registered { member: member.into(), addr: format!("127.0.0.1:{}", 7000 + epoch), epoch })
    }

    fn ended(seq: u64, member: &str, epoch: u64, how: Ending) -> Frame {
        change(seq, ChangeKind::Ended { member: member.into(), epoch, how })
    }

    fn view(seq: u64, master: Option<(&str, u64, u64)>) -> View {
        View {
            master: master.map(|(m, epoch, left_ms)| Master {
                member: m.into(),
                addr: "127.0.0.1:7001".into(),
                epoch,
                lease_left: Span::from_ms(left_ms),
            }),
            config: Configuration { members: vec!["a".into(), "b".into()], version: 1, ranking_version: 1 },
            highest_epoch: master.map_or(0, |m| m.1),
            seq,
        }
    }

    /// Epoch, member, when registered, how and when it ended.
    type Row<'a> = (u64, &'a str, Option<u64>, Option<(End, Option<u64>)>);

    fn summary(r: &Registrations) -> Vec<Row<'_>> {
        r.history.iter().map(|e| (e.epoch, e.member.as_str(), e.at_us, e.end.clone())).collect()
    }

    #[test]
    fn the_frames_read_as_the_name_server_sends_them() {
        let text = r#"{"change":{"seq":4,"change":"ended","member":"a","epoch":2,"how":"expired"}}"#;
        let want = What::Ended { member: "a".into(), epoch: 2, how: Ending::Expired };
        assert_eq!(Frame::read(text), Ok(Frame::Change { seq: 4, what: want }));
        assert_eq!(ended(4, "a", 2, Ending::Expired), Frame::read(text).unwrap());
        let m = Registered { member: "a".into(), addr: "127.0.0.1:7001".into(), epoch: 3 };
        let want = Lookup { master: Some(m), lease_left_us: 1_500_000, highest_epoch: 3, seq: 9 };
        assert_eq!(resync(view(9, Some(("a", 3, 1_500)))), Frame::Resync(want));
        let none = lookup(&view(2, None));
        assert_eq!((none.master, none.lease_left_us, none.seq), (None, 0, 2));
        assert_eq!(change(1, ChangeKind::Reconfigured { config: view(0, None).config }), Frame::Change { seq: 1, what: What::Other });
        // A frame that is not the name server's is refused, saying why.
        assert!(Frame::read(r#"{"hello":1}"#).unwrap_err().contains("neither a resync nor a change"));
        let bad = r#"{"change":{"seq":4,"change":"ended","member":"a","epoch":2,"how":"vanished"}}"#;
        assert!(Frame::read(bad).unwrap_err().contains("unknown ending"));
        assert!(Frame::read(r#"{"change":{"change":"registered","member":"a","addr":"x"}}"#).unwrap_err().contains("epoch"));
    }

    #[test]
    fn a_takeover_a_resignation_and_an_expiry_each_end_a_registration_in_the_history() {
        // The tab looked up seq 2 before it watched from the start.
        let mut r = Registrations::watching_after(2);
        r.apply(change(1, ChangeKind::Reconfigured { config: view(0, None).config }), 100);
        r.apply(registered(2, "a", 1), 100);
        assert_eq!(r.master.as_ref().map(|m| (m.member.as_str(), m.epoch)), Some(("a", 1)));
        // a crashed; b registered before a's lease expired: a takeover.
        r.apply(registered(3, "b", 2), 500);
        r.apply(ended(4, "b", 2, Ending::Resigned), 900);
        assert_eq!(r.master, None, "no master after the resignation");
        r.apply(registered(5, "a", 3), 1_000);
        r.apply(ended(6, "a", 3, Ending::Expired), 3_000);
        assert_eq!(
            summary(&r),
            vec![
                (1, "a", None, Some((End::TakenOver { by: "b".into() }, Some(500)))),
                (2, "b", Some(500), Some((End::Ended(Ending::Resigned), Some(900)))),
                (3, "a", Some(1_000), Some((End::Ended(Ending::Expired), Some(3_000)))),
            ]
        );
        assert_eq!((r.seq, r.highest_epoch, r.master.is_none()), (6, 3, true));
    }

    #[test]
    fn a_resync_replaces_the_master_and_ends_what_it_no_longer_names() {
        let mut r = Registrations::default();
        r.apply(resync(view(7, Some(("a", 4, 1_800)))), 10);
        assert_eq!(summary(&r), vec![(4, "a", Some(10), None)]);
        // The socket dropped; the feed moved on past what the server keeps.
        r.apply(resync(view(12, Some(("b", 6, 2_000)))), 50);
        assert_eq!(summary(&r), vec![(4, "a", Some(10), Some((End::Unseen, None))), (6, "b", Some(50), None)]);
        assert_eq!((r.seq, r.master.as_ref().map(|m| m.epoch)), (12, Some(6)));
        r.apply(resync(view(13, None)), 60);
        assert_eq!(r.master, None);
        assert_eq!(r.history[1].end, Some((End::Unseen, None)));
    }

    #[test]
    fn changes_heard_twice_are_folded_once() {
        let mut r = Registrations::default();
        r.apply(registered(1, "a", 1), 10);
        r.apply(ended(2, "a", 1, Ending::Expired), 20);
        r.apply(registered(1, "a", 1), 30);
        assert_eq!(summary(&r), vec![(1, "a", Some(10), Some((End::Ended(Ending::Expired), Some(20))))]);
        assert_eq!(r.master, None);
    }

    #[test]
    fn the_history_keeps_the_newest_registrations() {
        let mut r = Registrations::default();
        for epoch in 1..=(HISTORY as u64 + 5) {
            r.apply(registered(epoch, "a", epoch), epoch);
        }
        assert_eq!(r.history.len(), HISTORY);
        assert_eq!(r.history.first().map(|e| e.epoch), Some(6));
        assert_eq!(r.history.last().map(|e| (e.epoch, e.end.is_none())), Some((HISTORY as u64 + 5, true)));
    }

    #[test]
    fn the_lease_counts_down_from_the_last_lookup_of_the_same_epoch() {
        let mut r = Registrations::default();
        let v = view(3, Some(("a", 2, 1_500)));
        let lease = Lease::of(&lookup(&v), 1_000_000);
        r.apply(resync(v), 1_000_000);
        assert_eq!(r.lease_left(lease, 1_000_000), Some(1_500_000));
        assert_eq!(r.lease_left(lease, 1_400_000), Some(1_100_000));
        assert_eq!(r.lease_left(lease, 9_000_000), Some(0), "never below zero");
        // A lookup of another epoch says nothing of this one's lease.
        r.apply(registered(4, "b", 3), 1_500_000);
        assert_eq!(r.lease_left(lease, 1_500_000), None);
        assert_eq!(Lease::of(&lookup(&view(4, None)), 0), None);
    }

    #[test]
    fn countdowns_read_in_tenths_of_a_second_rounded_down() {
        assert_eq!(countdown(1_999_999), "1.9 s");
        assert_eq!(countdown(2_000_000), "2.0 s");
        assert_eq!(countdown(99_999), "0.0 s");
        assert_eq!(countdown(12_345_678), "12.3 s");
        assert_eq!(super::ended(&End::TakenOver { by: "b".into() }), "taken over by b");
        assert_eq!(super::ended(&End::Ended(Ending::Expired)), "lease expired");
    }
}
