//! The registry's state machine: one [`Group`] per group name, and the
//! rules N1–N10 of docs/protocol.md.

use super::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Every group's configuration, registration, highest epoch and recent
/// changes. See the module docs.
#[derive(Clone, Debug)]
pub struct Registry {
    groups: BTreeMap<String, Group>,
    limits: Limits,
    /// The last `now` accepted; time never goes back.
    now: Time,
    /// Groups whose [`GroupRecord`] changed since [`Registry::take_dirty`].
    dirty: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Group {
    record: GroupRecord,
    /// When the registration's lease expires on the server's clock.
    expires: Option<Time>,
    /// The last changes, oldest first (N10).
    feed: VecDeque<Change>,
}

impl Registry {
    pub fn new(limits: Limits) -> Registry {
        Registry { groups: BTreeMap::new(), limits, now: Time::ZERO, dirty: BTreeSet::new() }
    }

    /// A registry holding what a backend read back after a restart at
    /// `now`. A registration that was live gets a full lease from `now`
    /// (N8); the feeds start empty, so watchers resync (N10).
    pub fn restore(limits: Limits, now: Time, records: impl IntoIterator<Item = (String, GroupRecord)>) -> Registry {
        let mut registry = Registry::new(limits);
        registry.now = now;
        for (name, record) in records {
            let expires = record.registration.as_ref().map(|r| now + r.ttl);
            registry.groups.insert(name, Group { record, expires, feed: VecDeque::new() });
        }
        registry
    }

    /// The durable state of `group`, what a backend writes.
    pub fn record(&self, group: &str) -> Option<&GroupRecord> {
        self.groups.get(group).map(|g| &g.record)
    }

    /// Every group's durable state, for a backend that rewrites its file.
    pub fn records(&self) -> impl Iterator<Item = (&String, &GroupRecord)> {
        self.groups.iter().map(|(name, g)| (name, &g.record))
    }

    /// The groups whose durable state changed since the last call; a
    /// backend writes them before it answers.
    pub fn take_dirty(&mut self) -> Vec<String> {
        std::mem::take(&mut self.dirty).into_iter().collect()
    }

    /// The next instant at which a lease expires, for a driver that wants
    /// watchers to hear of expiry on time: call [`Registry::advance`] then.
    pub fn next_expiry(&self) -> Option<Time> {
        self.groups.values().filter_map(|g| g.expires).min()
    }

    /// Moves the clock to `now` and ends every lease that has expired
    /// (at `expires <= now`). Returns the groups where one did.
    pub fn advance(&mut self, now: Time) -> Result<Vec<String>, NameError> {
        if now < self.now {
            return Err(NameError::TimeWentBack { now, last: self.now });
        }
        self.now = now;
        let lapsed: Vec<String> = self.groups.iter().filter(|(_, g)| g.expires.is_some_and(|e| e <= now)).map(|(n, _)| n.clone()).collect();
        for name in &lapsed {
            self.end(name, Ending::Expired);
        }
        Ok(lapsed)
    }

    /// `reconfigure(expected, members)` (N9): `expected = 0` creates the
    /// group; otherwise it must be the current version.
    pub fn reconfigure(&mut self, now: Time, group: &str, expected: u64, members: Vec<String>) -> Result<Configuration, NameError> {
        self.advance(now)?;
        check_group(group)?;
        for m in &members {
            check_text("members", m)?;
        }
        if members.is_empty() {
            return Err(bad("members", "a group needs at least one member"));
        }
        if members.iter().collect::<BTreeSet<_>>().len() != members.len() {
            return Err(bad("members", "a member is listed twice"));
        }
        let current = self.groups.get(group).map_or(0, |g| g.record.config.version);
        if expected != current {
            return Err(NameError::VersionMismatch { expected, current });
        }
        let Some(g) = self.groups.get_mut(group) else {
            let config = Configuration { members, version: 1, ranking_version: 1 };
            let record = GroupRecord { config: config.clone(), registration: None, highest_epoch: 0, seq: 0, last_end: None };
            self.groups.insert(group.to_owned(), Group { record, expires: None, feed: VecDeque::new() });
            self.changed(group, ChangeKind::Reconfigured { config: config.clone() });
            return Ok(config);
        };
        g.record.config = Configuration { members, version: current + 1, ranking_version: g.record.config.ranking_version + 1 };
        let config = g.record.config.clone();
        let removed = g.record.registration.as_ref().is_some_and(|r| !config.members.contains(&r.member));
        self.changed(group, ChangeKind::Reconfigured { config: config.clone() });
        if removed {
            self.end(group, Ending::Removed);
        }
        Ok(config)
    }

    /// `register` (N1–N4): grants `highest + 1` to a member of the current
    /// configuration with its ranking version. With `held`, only while
    /// `held` is still the highest epoch.
    pub fn register(&mut self, now: Time, group: &str, req: Register) -> Result<Grant, NameError> {
        self.advance(now)?;
        check_text("member", &req.member)?;
        check_text("addr", &req.addr)?;
        let limits = self.limits;
        let g = self.group(group)?;
        let config = &g.record.config;
        if !config.members.contains(&req.member) {
            return Err(NameError::NotAMember { group: group.into(), member: req.member });
        }
        let current = config.ranking_version;
        if req.ranking_version < current {
            return Err(NameError::StaleRankingVersion { theirs: req.ranking_version, current });
        }
        if req.ranking_version > current {
            return Err(NameError::RankingVersionAhead { theirs: req.ranking_version, current });
        }
        if let Some(held) = req.held {
            let highest = g.record.highest_epoch;
            if held > highest {
                return Err(NameError::EpochFromFuture { held, highest });
            }
            if held < highest {
                return Err(NameError::StaleEpoch { held, current: g.record.registration.as_ref().map(|r| r.epoch) });
            }
        }
        let ttl = Span(req.ttl.0.clamp(limits.min_ttl.0, limits.max_ttl.0));
        let epoch = g.record.highest_epoch + 1;
        g.record.highest_epoch = epoch;
        g.record.registration =
            Some(Registration { member: req.member.clone(), addr: req.addr.clone(), ranking_version: req.ranking_version, epoch, ttl });
        let expires = now + ttl;
        g.expires = Some(expires);
        self.changed(group, ChangeKind::Registered { member: req.member, addr: req.addr, epoch });
        Ok(Grant { epoch, ttl, expires })
    }

    /// `renew(epoch)` (N4, N5): extends the lease to `now + ttl` while
    /// `epoch` is the current registration's. Not a durable change (N8).
    pub fn renew(&mut self, now: Time, group: &str, epoch: u64) -> Result<Grant, NameError> {
        self.advance(now)?;
        let g = self.group(group)?;
        g.check_current(epoch)?;
        let ttl = g.record.registration.as_ref().expect("check_current found it").ttl;
        let expires = now + ttl;
        g.expires = Some(expires);
        Ok(Grant { epoch, ttl, expires })
    }

    /// `resign(epoch)` (N4): ends the registration while `epoch` is current.
    pub fn resign(&mut self, now: Time, group: &str, epoch: u64) -> Result<(), NameError> {
        self.advance(now)?;
        self.group(group)?.check_current(epoch)?;
        self.end(group, Ending::Resigned);
        Ok(())
    }

    /// `lookup(group)`: the master, or explicitly none (N5).
    pub fn lookup(&mut self, now: Time, group: &str) -> Result<View, NameError> {
        self.advance(now)?;
        let g = self.group(group)?;
        let master = g.record.registration.as_ref().map(|r| Master {
            member: r.member.clone(),
            addr: r.addr.clone(),
            epoch: r.epoch,
            lease_left: g.expires.map_or(Span::ZERO, |e| e.since(now)),
        });
        Ok(View { master, config: g.record.config.clone(), highest_epoch: g.record.highest_epoch, seq: g.record.seq })
    }

    /// The changes after `after` (N10), or [`Feed::Behind`] when some of
    /// them are no longer kept.
    pub fn changes(&mut self, now: Time, group: &str, after: u64) -> Result<Feed, NameError> {
        self.advance(now)?;
        let g = self.group(group)?;
        let seq = g.record.seq;
        if after > seq {
            return Ok(Feed::Behind { seq });
        }
        // The kept changes are seq - len + 1 ..= seq.
        let first_kept = seq + 1 - g.feed.len() as u64;
        if after + 1 < first_kept {
            return Ok(Feed::Behind { seq });
        }
        Ok(Feed::Changes { changes: g.feed.iter().filter(|c| c.seq > after).cloned().collect() })
    }

    fn group(&mut self, group: &str) -> Result<&mut Group, NameError> {
        self.groups.get_mut(group).ok_or_else(|| NameError::UnknownGroup { group: group.into() })
    }

    /// Ends the group's registration, if any, as `how`.
    fn end(&mut self, group: &str, how: Ending) {
        let g = self.groups.get_mut(group).expect("ending a known group");
        g.expires = None;
        if let Some(r) = g.record.registration.take() {
            g.record.last_end = Some((r.epoch, how));
            self.changed(group, ChangeKind::Ended { member: r.member, epoch: r.epoch, how });
        }
    }

    /// Numbers a change, keeps it for watchers and marks the group dirty.
    fn changed(&mut self, group: &str, what: ChangeKind) {
        let g = self.groups.get_mut(group).expect("a change of a known group");
        g.record.seq += 1;
        g.feed.push_back(Change { seq: g.record.seq, what });
        while g.feed.len() > self.limits.feed_len.max(1) {
            g.feed.pop_front();
        }
        self.dirty.insert(group.to_owned());
    }
}

impl Group {
    /// Whether `epoch` is the live registration's; if not, why (N4, N5).
    fn check_current(&self, epoch: u64) -> Result<(), NameError> {
        let highest = self.record.highest_epoch;
        if epoch > highest {
            return Err(NameError::EpochFromFuture { held: epoch, highest });
        }
        let current = self.record.registration.as_ref().map(|r| r.epoch);
        if current == Some(epoch) {
            return Ok(());
        }
        if current.is_none() && self.record.last_end == Some((epoch, Ending::Expired)) {
            return Err(NameError::Expired { epoch });
        }
        Err(NameError::StaleEpoch { held: epoch, current })
    }
}

#[cfg(test)]
impl Registry {
    /// The whole state, for tests that check a refusal changed nothing.
    pub(super) fn snapshot(&self) -> Vec<(String, GroupRecord, Option<Time>, Vec<Change>)> {
        self.groups.iter().map(|(n, g)| (n.clone(), g.record.clone(), g.expires, g.feed.iter().cloned().collect())).collect()
    }
}
