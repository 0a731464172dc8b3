//! A timed fault of a scenario file (SPEC §6, §7), exactly as it appears in
//! JSON: `{"at_ms": 1900, "crash": "ottawa"}`. The time and one action, whose
//! key names its kind.
//!
//! [`FaultKind`] is the one list of kinds: its [`FaultKind::name`] is the key
//! in the file, the word the playground shows, and the list of fields an
//! unknown key is told about. [`FaultActionEntry`] holds what each kind
//! carries, so a fault with no action or with two cannot be represented:
//! reading the file refuses it.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The kinds of fault, in the order the playground offers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    Crash,
    Recover,
    Partition,
    Cut,
    Heal,
    Rerank,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] =
        [FaultKind::Crash, FaultKind::Recover, FaultKind::Partition, FaultKind::Cut, FaultKind::Heal, FaultKind::Rerank];

    /// The kind's key in a scenario file.
    pub const fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Recover => "recover",
            FaultKind::Partition => "partition",
            FaultKind::Cut => "cut",
            FaultKind::Heal => "heal",
            FaultKind::Rerank => "rerank",
        }
    }

    /// The kind whose key is `name`.
    pub fn named(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One timed fault.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultEntry {
    pub at_ms: f64,
    pub action: FaultActionEntry,
}

/// What a fault does, servers named by id. Each variant is the
/// [`FaultKind`] of the same name.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultActionEntry {
    Crash(String),
    Recover(String),
    /// Disjoint groups; each unlisted server stands alone.
    Partition(Vec<Vec<String>>),
    /// A one-way cut `[from, to]`: messages from `from` to `to` are dropped.
    Cut([String; 2]),
    /// Every partition and cut is lifted. Written `"heal": true`.
    Heal,
    Rerank(RerankEntry),
}

impl FaultActionEntry {
    pub fn kind(&self) -> FaultKind {
        match self {
            FaultActionEntry::Crash(_) => FaultKind::Crash,
            FaultActionEntry::Recover(_) => FaultKind::Recover,
            FaultActionEntry::Partition(_) => FaultKind::Partition,
            FaultActionEntry::Cut(_) => FaultKind::Cut,
            FaultActionEntry::Heal => FaultKind::Heal,
            FaultActionEntry::Rerank(_) => FaultKind::Rerank,
        }
    }
}

/// A new ranking: an explicit order, or a criterion with optional attribute
/// changes (a server was upgraded, [0049]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RerankEntry {
    Order(Vec<String>),
    Criterion(RerankBy),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RerankBy {
    pub rank_by: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, BTreeMap<String, f64>>,
}

/// The keys of a fault object: `at_ms`, then the kinds' names.
const FIELDS: [&str; 7] = {
    let mut fields = ["at_ms"; 7];
    let mut i = 0;
    while i < FaultKind::ALL.len() {
        fields[i + 1] = FaultKind::ALL[i].name();
        i += 1;
    }
    fields
};

impl Serialize for FaultEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("FaultEntry", 2)?;
        s.serialize_field("at_ms", &self.at_ms)?;
        let key = self.action.kind().name();
        match &self.action {
            FaultActionEntry::Crash(id) | FaultActionEntry::Recover(id) => s.serialize_field(key, id)?,
            FaultActionEntry::Partition(groups) => s.serialize_field(key, groups)?,
            FaultActionEntry::Cut(link) => s.serialize_field(key, link)?,
            FaultActionEntry::Heal => s.serialize_field(key, &true)?,
            FaultActionEntry::Rerank(r) => s.serialize_field(key, r)?,
        }
        s.end()
    }
}

/// Written by hand because the action is an enum whose tag is the key
/// itself, beside `at_ms`. serde's derive would need `#[serde(flatten)]` on
/// the action, and `flatten` does not combine with `deny_unknown_fields`:
/// a misspelt key must still be refused by name, with the list of keys a
/// fault has. (`flatten` also buffers every value, which the playground's
/// wasm would pay for.)
///
/// The checks match what the derive did on the struct of six optional
/// actions it replaces: a `null` action counts as absent, a key given twice
/// is a duplicate, and the errors are serde's own. Only "exactly one action"
/// and `"heal": false`, which validation used to find, are new here; see
/// [`refusal`] for how they keep their wording.
impl<'de> Deserialize<'de> for FaultEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FaultEntry, D::Error> {
        deserializer.deserialize_struct("FaultEntry", &FIELDS, FaultVisitor)
    }
}

struct FaultVisitor;

impl<'de> Visitor<'de> for FaultVisitor {
    type Value = FaultEntry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct FaultEntry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FaultEntry, A::Error> {
        let mut at_ms: Option<f64> = None;
        let mut seen = [false; FaultKind::ALL.len()];
        let mut action = None;
        let mut given = 0;
        let mut heal_false = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "at_ms" {
                if at_ms.is_some() {
                    return Err(de::Error::duplicate_field("at_ms"));
                }
                at_ms = Some(map.next_value()?);
                continue;
            }
            let kind = FaultKind::named(&key).ok_or_else(|| de::Error::unknown_field(&key, &FIELDS))?;
            if std::mem::replace(&mut seen[kind as usize], true) {
                return Err(de::Error::duplicate_field(kind.name()));
            }
            let value = match kind {
                FaultKind::Crash => map.next_value::<Option<String>>()?.map(FaultActionEntry::Crash),
                FaultKind::Recover => map.next_value::<Option<String>>()?.map(FaultActionEntry::Recover),
                FaultKind::Partition => map.next_value::<Option<Vec<Vec<String>>>>()?.map(FaultActionEntry::Partition),
                FaultKind::Cut => map.next_value::<Option<[String; 2]>>()?.map(FaultActionEntry::Cut),
                FaultKind::Heal => map.next_value::<Option<bool>>()?.map(|h| {
                    heal_false = !h;
                    FaultActionEntry::Heal
                }),
                FaultKind::Rerank => map.next_value::<Option<RerankEntry>>()?.map(FaultActionEntry::Rerank),
            };
            if let Some(value) = value {
                given += 1;
                action = Some(value);
            }
        }
        let at_ms = at_ms.ok_or_else(|| de::Error::missing_field("at_ms"))?;
        match action {
            Some(_) if heal_false && given == 1 => Err(refuse(".heal", "write `\"heal\": true`")),
            Some(action) if given == 1 => Ok(FaultEntry { at_ms, action }),
            _ => {
                let kinds = FIELDS[1..].join(", ");
                Err(refuse("", &format!("a fault needs exactly one of {kinds}; this one has {given}")))
            }
        }
    }
}

/// The start of a fault's own refusal in a deserialization error.
const REFUSED: &str = "bad fault";

/// A fault's own problem, found while reading it. serde carries a custom
/// error as text only, so the text says where in the fault (`suffix`: ""
/// for the fault itself, `.heal` for a field) in a form [`refusal`] reads
/// back; read without it (a group file read by `serde_json::from_value`),
/// it still says what is wrong.
fn refuse<E: de::Error>(suffix: &str, problem: &str) -> E {
    E::custom(format_args!("{REFUSED}{suffix}: {problem}"))
}

/// The field suffix and the problem of a serde_json error message made by
/// [`refuse`], without serde_json's "at line … column …".
pub(super) fn refusal(msg: &str) -> Option<(&str, &str)> {
    let (suffix, problem) = msg.strip_prefix(REFUSED)?.split_once(": ")?;
    Some((suffix, problem.rsplit_once(" at line ").map_or(problem, |(p, _)| p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<FaultEntry, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let texts = [
            r#"{"at_ms":1900.0,"crash":"a"}"#,
            r#"{"at_ms":0.5,"recover":"a"}"#,
            r#"{"at_ms":1.0,"partition":[["a","b"],["c"]]}"#,
            r#"{"at_ms":1.0,"cut":["a","b"]}"#,
            r#"{"at_ms":1.0,"heal":true}"#,
            r#"{"at_ms":1.0,"rerank":["b","a"]}"#,
            r#"{"at_ms":1.0,"rerank":{"rank_by":"cpu","attrs":{"a":{"cpu":3.0}}}}"#,
        ];
        let mut kinds = Vec::new();
        for text in texts {
            let f = read(text).unwrap();
            assert_eq!(serde_json::to_string(&f).unwrap(), text);
            kinds.push(f.action.kind());
        }
        kinds.dedup();
        assert_eq!(kinds, FaultKind::ALL);
    }

    #[test]
    fn a_null_action_is_absent() {
        let f = read(r#"{"crash": null, "at_ms": 3, "heal": true, "rerank": null}"#).unwrap();
        assert_eq!(f, FaultEntry { at_ms: 3.0, action: FaultActionEntry::Heal });
    }

    #[test]
    fn the_keys_are_at_ms_and_the_kinds() {
        assert_eq!(FIELDS, ["at_ms", "crash", "recover", "partition", "cut", "heal", "rerank"]);
        assert_eq!(FaultKind::named("cut"), Some(FaultKind::Cut));
        assert_eq!(FaultKind::named("at_ms"), None);
    }

    #[test]
    fn serde_refusals_name_the_key() {
        let e = read(r#"{"at_ms": 1, "crsh": "a"}"#).unwrap_err().to_string();
        assert!(
            e.starts_with("unknown field `crsh`, expected one of `at_ms`, `crash`, `recover`, `partition`, `cut`, `heal`, `rerank`"),
            "{e}"
        );
        let e = read(r#"{"at_ms": 1, "crash": "a", "crash": "b"}"#).unwrap_err().to_string();
        assert!(e.starts_with("duplicate field `crash`"), "{e}");
        let e = read(r#"{"crash": "a"}"#).unwrap_err().to_string();
        assert!(e.starts_with("missing field `at_ms`"), "{e}");
        let e = read("5").unwrap_err().to_string();
        assert!(e.starts_with("invalid type: integer `5`, expected struct FaultEntry"), "{e}");
    }

    #[test]
    fn a_fault_with_no_action_or_two_or_heal_false_is_refused() {
        let refused = |text: &str| read(text).unwrap_err().to_string();
        let e = refused(r#"{"at_ms": 1, "crash": "a", "heal": true}"#);
        assert_eq!(refusal(&e), Some(("", "a fault needs exactly one of crash, recover, partition, cut, heal, rerank; this one has 2")));
        let e = refused(r#"{"at_ms": 1}"#);
        assert_eq!(refusal(&e).unwrap().1, "a fault needs exactly one of crash, recover, partition, cut, heal, rerank; this one has 0");
        // Two problems: the count is told first, as validation did.
        let e = refused(r#"{"at_ms": 1, "heal": false, "recover": "a"}"#);
        assert!(refusal(&e).unwrap().1.ends_with("this one has 2"), "{e}");
        let e = refused(r#"{"at_ms": 1, "heal": false}"#);
        assert_eq!(refusal(&e), Some((".heal", "write `\"heal\": true`")));
        assert_eq!(refusal("unknown field `x`"), None);
    }
}
