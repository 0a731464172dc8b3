//! The replicated service on the space-time diagram: a client's request
//! dropping into the master's lane, the forwards to the backups and their
//! acks, the answer rising out of the lane, and each member's applied index
//! written small along its lane (docs/protocol.md KS9).
//!
//! The service's arrows are drawn thin, in black and greys with their own
//! dashes, so they read apart from the election's coloured messages. A
//! loaded run sends many: heartbeats (empty forwards) are the first left
//! out, then the rest are thinned evenly, and a note says so.

use super::text::{esc, num, thousands};
use super::Doc;
use crate::timeline::{Hop, ServiceCopy};
use std::fmt::Write;

/// The most service arrows one diagram draws.
pub const MAX_SERVICE_ARROWS: usize = 1_500;

/// How far above a lane's band a client's request starts.
const CLIENT_RISE: f64 = 10.0;

/// A hop's stroke colour and dashes.
pub(super) fn hop_style(h: Hop) -> (&'static str, &'static str) {
    match h {
        Hop::Request => ("#000000", ""),
        Hop::Reply => ("#000000", "1.5 1.5"),
        Hop::Forward => ("#3d3d3d", ""),
        Hop::Ack => ("#3d3d3d", "3 2"),
        Hop::Beat => ("#a3acb5", "1 2"),
        Hop::Sync => ("#6e5a3c", "5 2 1 2"),
    }
}

pub(super) fn hop_label(h: Hop) -> &'static str {
    match h {
        Hop::Request => "client request",
        Hop::Forward => "forward",
        Hop::Ack => "ack",
        Hop::Reply => "answer",
        Hop::Beat => "heartbeat",
        Hop::Sync => "sync / transfer",
    }
}

impl Doc<'_> {
    /// The hops the run has, for the legend and the arrowheads.
    pub(super) fn hops(&self) -> Vec<Hop> {
        let copies = self.model.replay.service();
        Hop::ALL.into_iter().filter(|h| copies.iter().any(|c| c.hop == *h)).collect()
    }

    /// The service messages to draw, in trace order, and a note on any
    /// left out.
    pub(super) fn pick_service(&self) -> (Vec<usize>, Option<String>) {
        let l = self.l;
        let copies = self.model.replay.service();
        let in_window: Vec<usize> = (0..copies.len()).filter(|&i| copies[i].send.0 <= l.to && copies[i].end().0 >= l.from).collect();
        if in_window.len() <= MAX_SERVICE_ARROWS {
            return (in_window, None);
        }
        let total = in_window.len();
        let writes: Vec<usize> = in_window.iter().copied().filter(|&i| copies[i].hop != Hop::Beat).collect();
        let picked: Vec<usize> = if writes.len() <= MAX_SERVICE_ARROWS {
            writes.clone()
        } else {
            (0..MAX_SERVICE_ARROWS).map(|k| writes[k * writes.len() / MAX_SERVICE_ARROWS]).collect()
        };
        let note = format!(
            "{} service messages fall in this window: {} are drawn ({}heartbeats left out).",
            thousands(total),
            thousands(picked.len()),
            if picked.len() < writes.len() { "evenly sampled, " } else { "" }
        );
        (picked, Some(note))
    }

    /// Where the arrow of `c` runs: between two lanes, or between a lane
    /// and the clients above it.
    fn service_geom(&self, c: &ServiceCopy, index: &[usize], plot_y0: f64) -> Option<(f64, f64, f64, f64)> {
        let l = self.l;
        let (fi, ti) = (*index.get(c.from as usize)?, *index.get(c.to as usize)?);
        let (y1, y2) = (l.lane_y(plot_y0, fi), l.lane_y(plot_y0, ti));
        let top = y1 - l.band_h / 2.0 - CLIENT_RISE;
        let x1 = l.x(c.send.0);
        let x2 = c.arrive.map_or(x1 + 6.0, |a| l.x(a.0));
        Some(match c.hop {
            Hop::Request => (x1, top, x2, y1 - 2.0),
            Hop::Reply => (x1, y1 - 2.0, x2, top),
            _ => (x1, y1, x2, if c.arrive.is_some() { y2 } else { y1 + (y2 - y1) * 0.3 }),
        })
    }

    pub(super) fn service_arrows(&mut self, picked: &[usize], plot_y0: f64) {
        let index = self.index_of_rows();
        let copies = self.model.replay.service();
        let many = picked.len() > 400;
        for hop in self.hops() {
            let (color, dash) = hop_style(hop);
            let mut paths = String::new();
            for &i in picked {
                let c = &copies[i];
                if c.hop != hop {
                    continue;
                }
                let Some((x1, y1, x2, y2)) = self.service_geom(c, &index, plot_y0) else { continue };
                let title = self.service_title(c);
                let lost = if c.arrive.is_none() { " dropped" } else { "" };
                w!(
                    paths,
                    "<path class=\"svc {}{}\" d=\"M{} {}L{} {}\"><title>{}</title></path>\n",
                    hop.name(),
                    lost,
                    num(x1),
                    num(y1),
                    num(x2),
                    num(y2),
                    esc(&title)
                );
            }
            if paths.is_empty() {
                continue;
            }
            let dash = if dash.is_empty() { String::new() } else { format!(" stroke-dasharray=\"{dash}\"") };
            w!(
                self.s,
                "<g clip-path=\"url(#st-plot)\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}{} marker-end=\"url(#st-svc-{})\">\n",
                color,
                if many { "0.6" } else { "0.9" },
                if many { " stroke-opacity=\"0.6\"" } else { "" },
                dash,
                hop.name()
            );
            self.s.push_str(&paths);
            self.s.push_str("</g>\n");
        }
    }

    fn service_title(&self, c: &ServiceCopy) -> String {
        let client = c.client.map_or(String::new(), |k| format!("client c{}", k + 1));
        let sent = self.clock.at(c.send.0);
        let arrives = c.arrive.map_or("dropped".to_string(), |a| format!("arrives {}", self.clock.at(a.0)));
        match c.hop {
            Hop::Request => format!("{client} request {} → {}, sent {sent}, {arrives}", c.index, self.id(c.to)),
            Hop::Reply => {
                let how = c.answered.map_or("", |a| match a {
                    crate::sim::Answered::Ok => "done",
                    crate::sim::Answered::NotMaster => "not the master",
                    crate::sim::Answered::Unknown => "outcome unknown",
                    crate::sim::Answered::Busy => "busy",
                    crate::sim::Answered::Refused => "refused",
                });
                format!("{} → {client}: answer to request {} ({how}), sent {sent}, {arrives}", self.id(c.from), c.index)
            }
            _ => {
                let kind = c.kind.map_or("?", |k| k.name());
                let entries = if c.entries > 0 { format!(", {} entries", c.entries) } else { String::new() };
                format!("{kind} {} → {}, index {}{entries}, sent {sent}, {arrives}", self.id(c.from), self.id(c.to), c.index)
            }
        }
    }

    /// Each member's applied index, written small under its lane's band
    /// wherever it rose, at most one number every 34 px.
    pub(super) fn applied_marks(&mut self, plot_y0: f64) {
        let l = self.l;
        let applied = self.model.replay.applied();
        if applied.is_empty() {
            return;
        }
        let index = self.index_of_rows();
        let mut last_x = vec![f64::NEG_INFINITY; self.scenario.len()];
        let mut out = String::new();
        for a in applied.iter().filter(|a| a.t.0 >= l.from && a.t.0 <= l.to) {
            let Some(&lane) = index.get(a.row as usize) else { continue };
            let x = l.x(a.t.0);
            if x - last_x[a.row as usize] < 34.0 {
                continue;
            }
            last_x[a.row as usize] = x;
            let y = l.lane_y(plot_y0, lane) + l.band_h / 2.0 - 2.5;
            w!(
                out,
                "<text x=\"{}\" y=\"{}\"><title>{} has applied up to index {} at {}</title>{}</text>\n",
                num(x),
                num(y),
                esc(self.id(a.row)),
                a.index,
                self.clock.at(a.t.0),
                a.index
            );
        }
        w!(self.s, "<g class=\"applied\" font-size=\"8\" fill=\"#3d3d3d\" text-anchor=\"middle\" clip-path=\"url(#st-plot)\">\n");
        self.s.push_str(&out);
        self.s.push_str("</g>\n");
    }

    /// The arrowheads of the service's hops.
    pub(super) fn service_defs(&mut self) {
        for hop in self.hops() {
            let (color, _) = hop_style(hop);
            w!(
                self.s,
                "<marker id=\"st-svc-{}\" viewBox=\"0 0 10 10\" refX=\"8.5\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"5\" markerHeight=\"5\" orient=\"auto\"><path d=\"M0,0.5 L10,5 L0,9.5 z\" fill=\"{}\"/></marker>\n",
                hop.name(),
                color
            );
        }
    }
}
