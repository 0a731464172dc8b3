//! Where the etcd backend keeps a group (docs/protocol.md N17), under a
//! prefix (`/stagger/names/` unless told otherwise):
//!
//! | Key | Value | Lease |
//! |---|---|---|
//! | `{prefix}{group}/record` | the group's [`GroupRecord`] as JSON, what the embedded backend writes to its log | none |
//! | `{prefix}{group}/master` | the current registration's epoch, in decimal | the registration's etcd lease |
//! | `{prefix}{group}/changes/{seq:020}` | one [`Change`](stagger_core::names::Change) as JSON; the last 256 are kept | none |
//!
//! Group names never hold a `/` (`check_group`), so one group's keys
//! never fall under another's prefix.

use stagger_core::names::GroupRecord;

/// The prefix `stagger nameserver --etcd` uses.
pub const DEFAULT_PREFIX: &str = "/stagger/names/";

#[derive(Clone, Debug)]
pub(super) struct Keys {
    prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Keys {
        Keys { prefix: prefix.to_owned() }
    }

    /// Every group's keys start with this.
    pub(super) fn all(&self) -> &str {
        &self.prefix
    }

    /// Every key of `group` starts with this.
    pub(super) fn group(&self, group: &str) -> String {
        format!("{}{group}/", self.prefix)
    }

    pub(super) fn record(&self, group: &str) -> String {
        format!("{}{group}/record", self.prefix)
    }

    pub(super) fn master(&self, group: &str) -> String {
        format!("{}{group}/master", self.prefix)
    }

    /// The key of change `seq`; zero-padded so that keys sort as numbers.
    pub(super) fn change(&self, group: &str, seq: u64) -> String {
        format!("{}{group}/changes/{seq:020}", self.prefix)
    }

    /// The end of the range of `group`'s change keys (exclusive).
    pub(super) fn changes_end(&self, group: &str) -> String {
        format!("{}{group}/changes0", self.prefix)
    }

    /// The group a `…/master` or `…/record` key belongs to.
    pub(super) fn group_of<'k>(&self, key: &'k str) -> Option<&'k str> {
        let rest = key.strip_prefix(&self.prefix)?;
        rest.strip_suffix("/master").or_else(|| rest.strip_suffix("/record")).filter(|g| !g.contains('/'))
    }
}

pub(super) fn encode(record: &GroupRecord) -> String {
    serde_json::to_string(record).expect("a record serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_sequence_and_name_their_group() {
        let k = Keys::new(DEFAULT_PREFIX);
        assert_eq!(k.record("cities"), "/stagger/names/cities/record");
        assert!(k.change("g", 9) < k.change("g", 10));
        assert!(k.change("g", u64::MAX) < k.changes_end("g"));
        assert!(k.change("g", 0).starts_with(&k.group("g")) && !k.record("g.x").starts_with(&k.group("g")));
        assert_eq!(k.group_of("/stagger/names/cities/master"), Some("cities"));
        assert_eq!(k.group_of("/stagger/names/cities/record"), Some("cities"));
        assert_eq!(k.group_of("/stagger/names/cities/changes/00000000000000000001"), None);
        assert_eq!(k.group_of("/other/cities/master"), None);
    }
}
