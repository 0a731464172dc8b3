//! The emulated delays of this node's own sends, changeable while it runs
//! (`POST /api/admin/link`, `stagger ctl link A B --ms X`; docs/protocol.md
//! E1–E3), so a loopback group can drift away from its delay matrix the way
//! a real network does.
//!
//! Each node delays only what it sends (`mesh::route`), so it keeps one row
//! of the link table: the delay to each member, starting from the group
//! file's matrix. A change here reaches the next send and nothing else: the
//! engine's matrix, and so its timers `δ_j`, stay the configured ones (that
//! is what makes the drift visible; retiming is a separate act).

use super::Node;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The largest emulated delay a link may be given: a minute is far past any
/// detection period a group would run, so more is a mistake, not a test.
pub const MAX_LINK_MS: f64 = 60_000.0;

/// This node's row of the link table, in µs by destination row.
pub struct Links {
    row: Mutex<Vec<u64>>,
}

impl Links {
    /// The group file's row for member `me`.
    pub fn new(group: &crate::group::Group, me: u32) -> Links {
        Links { row: Mutex::new(group.scenario.delays_us[me as usize].clone()) }
    }

    /// The emulated delay of this node's sends to member `row` now.
    pub fn delay_us(&self, row: usize) -> u64 {
        self.row.lock().expect("links lock")[row]
    }

    fn set(&self, row: usize, us: u64) -> u64 {
        std::mem::replace(&mut self.row.lock().expect("links lock")[row], us)
    }
}

/// A delay in milliseconds as an emulated link may take it, in µs: a
/// finite number from 0 to [`MAX_LINK_MS`]. `ctl` checks with it before it
/// asks any node, and each node checks again.
pub fn check_ms(ms: f64) -> Result<u64, String> {
    if !ms.is_finite() {
        return Err(format!("ms must be a finite number of milliseconds, not {ms}"));
    }
    if ms < 0.0 {
        return Err(format!("ms must not be below zero (got {ms}): a message cannot arrive before it is sent"));
    }
    if ms > MAX_LINK_MS {
        return Err(format!("ms must be at most {MAX_LINK_MS} (a minute), not {ms}"));
    }
    Ok((ms * 1000.0).round() as u64)
}

/// The body of `POST /api/admin/link`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub from: String,
    pub to: String,
    pub ms: f64,
    /// Both directions (the default), or only `from` → `to`.
    #[serde(default = "yes")]
    pub both: bool,
    /// Check everything, change nothing: how `ctl` makes sure both ends of
    /// a link will take the change before either does.
    #[serde(default)]
    pub dry_run: bool,
}

fn yes() -> bool {
    true
}

/// A refused link change. Every one is the caller's to fix; nothing was
/// changed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the group file does not set \"emulate_delays\": this node adds no delay to its sends, so there is no link delay to change")]
    NotEmulated,
    #[error("the request body: {0}")]
    Body(String),
    #[error("{0}")]
    Ms(String),
    #[error("{field}: '{id}' is not a member of the group")]
    UnknownMember { field: &'static str, id: String },
    #[error("from and to are both '{0}': a member has no link to itself")]
    SameMember(String),
    #[error(
        "{link} does not start at this node ({me}): each node delays only its own sends, so ask {from}'s node (stagger ctl link does)"
    )]
    NotHere { link: String, me: String, from: String },
}

impl LinkError {
    /// `409 Conflict` for a group that emulates no delays (the request is
    /// fine, the group is not set up for it), `400` for the rest.
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            LinkError::NotEmulated => axum::http::StatusCode::CONFLICT,
            _ => axum::http::StatusCode::BAD_REQUEST,
        }
    }
}

/// One link from this node in `/api/status`.
#[derive(Clone, Debug, Serialize)]
pub struct LinkDelay {
    /// The emulated delay of this node's sends on it now.
    pub ms: f64,
    /// The group file's, which the engine's timers still use.
    pub configured_ms: f64,
}

/// The answer to a link change that was carried out (or, with `dry_run`,
/// would be).
#[derive(Clone, Debug, Serialize)]
pub struct LinkReport {
    pub ok: bool,
    pub dry_run: bool,
    /// The directed links of this node that were changed, as `A→B`.
    pub changed: Vec<String>,
    /// This node's links after the change.
    pub links: BTreeMap<String, LinkDelay>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Node {
    /// `links` of `/api/status`: every link from this node, when the group
    /// emulates delays.
    pub(super) fn link_delays(&self) -> Option<BTreeMap<String, LinkDelay>> {
        self.group.emulate_delays.then(|| {
            (self.group.members.iter().enumerate())
                .filter(|(r, _)| *r as u32 != self.me)
                .map(|(r, m)| {
                    let configured = self.group.scenario.delays_us[self.me as usize][r];
                    (m.id.clone(), LinkDelay { ms: ms(self.links.delay_us(r)), configured_ms: ms(configured) })
                })
                .collect()
        })
    }

    /// Carries out (or checks, with `dry_run`) a link change from the body
    /// of `POST /api/admin/link`: the directions of it that start here.
    pub(super) fn change_link(&self, body: &[u8]) -> Result<LinkReport, LinkError> {
        if !self.group.emulate_delays {
            return Err(LinkError::NotEmulated);
        }
        let req: LinkRequest = serde_json::from_slice(body).map_err(|e| LinkError::Body(e.to_string()))?;
        let us = check_ms(req.ms).map_err(LinkError::Ms)?;
        let row = |field, id: &str| self.group.row_of(id).ok_or_else(|| LinkError::UnknownMember { field, id: id.to_string() });
        let (from, to) = (row("from", &req.from)?, row("to", &req.to)?);
        if from == to {
            return Err(LinkError::SameMember(req.from));
        }
        let mine: Vec<(u32, u32)> =
            [(from, to), (to, from)].into_iter().take(if req.both { 2 } else { 1 }).filter(|(a, _)| *a == self.me).collect();
        if mine.is_empty() {
            let arrow = if req.both { "—" } else { "→" };
            let link = format!("the link {}{arrow}{}", req.from, req.to);
            return Err(LinkError::NotHere { link, me: self.id().to_string(), from: req.from });
        }
        let name = |(a, b): (u32, u32)| format!("{}→{}", self.group.members[a as usize].id, self.group.members[b as usize].id);
        let changed: Vec<String> = mine.iter().map(|&l| name(l)).collect();
        if !req.dry_run {
            for &(_, b) in &mine {
                let was = self.links.set(b as usize, us);
                self.log(format!("admin: link {} emulated at {} ms (was {} ms)", name((self.me, b)), ms(us), ms(was)));
            }
        }
        Ok(LinkReport { ok: true, dry_run: req.dry_run, changed, links: self.link_delays().unwrap_or_default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_delay_is_a_finite_number_of_milliseconds_from_zero_to_a_minute() {
        assert_eq!(check_ms(0.0), Ok(0));
        assert_eq!(check_ms(12.5), Ok(12_500));
        assert_eq!(check_ms(MAX_LINK_MS), Ok(60_000_000));
        for (bad, why) in [(-1.0, "below zero"), (f64::NAN, "finite"), (f64::INFINITY, "finite"), (60_000.5, "at most")] {
            let e = check_ms(bad).unwrap_err();
            assert!(e.starts_with("ms must") && e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_link_request_names_its_fields_and_defaults_to_both_directions() {
        let r: LinkRequest = serde_json::from_str(r#"{"from":"a","to":"b","ms":3}"#).unwrap();
        assert!(r.both && !r.dry_run);
        for (body, why) in [
            (r#"{"from":"a","to":"b","ms":"fast"}"#, "invalid type: string"),
            (r#"{"from":"a","to":"b"}"#, "missing field `ms`"),
            (r#"{"from":"a","to":"b","ms":1,"oneway":true}"#, "unknown field `oneway`"),
        ] {
            let e = serde_json::from_str::<LinkRequest>(body).unwrap_err().to_string();
            assert!(e.contains(why), "{body}: {e}");
        }
    }
}
