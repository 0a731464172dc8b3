//! The message arrows: which copies to draw under the cap, where each one
//! runs, where they cross the lanes (so labels keep clear of them), and
//! the arrows themselves, grouped by kind.

use super::glyphs::cross_path;
use super::palette::{is_claim, kind_color};
use super::text::{esc, msg_text, num, thousands};
use super::{Doc, MAX_ARROWS};
use crate::sim::DropReason;
use crate::timeline::MessageCopy;
use std::fmt::Write;

impl Doc<'_> {
    /// The messages to draw, in trace order, and a note on any left out.
    pub(super) fn pick_arrows(&self) -> (Vec<usize>, Option<String>) {
        let l = self.l;
        let in_window: Vec<usize> = self
            .model
            .replay
            .copies()
            .iter()
            .enumerate()
            .filter(|(_, m)| m.send.0 <= l.to && m.end().0 >= l.from)
            .map(|(i, _)| i)
            .collect();
        if in_window.len() <= MAX_ARROWS {
            return (in_window, None);
        }
        let total = in_window.len();
        let election: Vec<usize> = in_window.iter().copied().filter(|&i| self.model.replay.copies()[i].msg.is_election()).collect();
        let others = total - election.len();
        if election.len() <= MAX_ARROWS {
            let note = format!(
                "{} messages fall in this window: only the {} election messages are drawn; {} inquiries and replies are omitted.",
                thousands(total),
                thousands(election.len()),
                thousands(others)
            );
            return (election, Some(note));
        }
        let e = election.len();
        let picked: Vec<usize> = (0..MAX_ARROWS).map(|k| election[k * e / MAX_ARROWS]).collect();
        let note = format!(
            "{} messages fall in this window: {} of the {} election messages are drawn (evenly sampled); {} inquiries and replies are omitted.",
            thousands(total),
            thousands(MAX_ARROWS),
            thousands(e),
            thousands(others)
        );
        (picked, Some(note))
    }

    /// Where the arrow of `m` starts and ends. A copy dropped at send ends
    /// in a short stub pointing to where it would have gone.
    fn geom(&self, m: &MessageCopy, index: &[usize], plot_y0: f64) -> Option<(f64, f64, f64, f64)> {
        let l = self.l;
        let (fi, ti) = (*index.get(m.from as usize)?, *index.get(m.to as usize)?);
        let x1 = l.x(m.send.0);
        let y1 = self.l.lane_y(plot_y0, fi);
        let y2 = self.l.lane_y(plot_y0, ti);
        if let Some(a) = m.arrive {
            return Some((x1, y1, l.x(a.0), y2));
        }
        let nominal = self.scenario.delays_us.get(m.from as usize).and_then(|r| r.get(m.to as usize)).copied().unwrap_or(0);
        let (dx, dy) = (nominal as f64 * l.px_per_us(), y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let target = (len * 0.35).clamp(8.0, 40.0).min(len);
        Some((x1, y1, x1 + dx / len * target, y1 + dy / len * target))
    }

    /// Per lane (by index), the x-ranges where arrows cross the band
    /// between `dy0` and `dy1` (offsets from the lane centre), or touch it
    /// with a mark: where a label would be hard to read.
    pub(super) fn occupancy(&self, picked: &[usize], plot_y0: f64, dy0: f64, dy1: f64) -> Vec<Vec<(f64, f64)>> {
        let n = self.scenario.len();
        let mut occ: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
        let index = self.index_of_rows();
        for &i in picked {
            let m = &self.model.replay.copies()[i];
            let Some((x1, y1, x2, y2)) = self.geom(m, &index, plot_y0) else { continue };
            let (ya, yb) = (y1.min(y2), y1.max(y2));
            let lane_a = (((ya - plot_y0) / self.l.lane_h).floor().max(0.0) as usize).min(n.saturating_sub(1));
            let lane_b = (((yb - plot_y0) / self.l.lane_h).floor().max(0.0) as usize).min(n.saturating_sub(1));
            for (j, lane) in occ.iter_mut().enumerate().take(lane_b + 1).skip(lane_a) {
                let cy = self.l.lane_y(plot_y0, j);
                let (b0, b1) = (cy + dy0, cy + dy1);
                let (t0, t1) = if (y2 - y1).abs() < 1e-9 {
                    if y1 >= b0 && y1 <= b1 {
                        (0.0, 1.0)
                    } else {
                        continue;
                    }
                } else {
                    let ta = (b0 - y1) / (y2 - y1);
                    let tb = (b1 - y1) / (y2 - y1);
                    (ta.min(tb).max(0.0), ta.max(tb).min(1.0))
                };
                if t0 > t1 {
                    continue;
                }
                let xa = x1 + (x2 - x1) * t0;
                let xb = x1 + (x2 - x1) * t1;
                lane.push((xa.min(xb) - 4.0, xa.max(xb) + 4.0));
            }
        }
        let rows = self.index_of_rows();
        for mk in &self.model.marks {
            if let Some(&j) = rows.get(mk.row as usize) {
                let x = self.l.x(mk.t);
                if dy0 <= 0.0 && dy1 >= 0.0 {
                    occ[j].push((x - 9.0, x + 9.0));
                }
            }
        }
        occ
    }

    pub(super) fn arrows(&mut self, picked: &[usize], plot_y0: f64) {
        let l = self.l;
        let index = self.index_of_rows();
        let roomy = l.roomy;
        let many = picked.len() > 400;
        let xr = if roomy { 3.5 } else { 2.0 };
        for k in self.model.kinds.clone() {
            let color = kind_color(k);
            let election = is_claim(k);
            let sw: f64 = match (election, roomy, many) {
                (_, _, true) => 0.6,
                (true, true, _) => 2.0,
                (false, true, _) => 1.3,
                (true, false, _) => 1.2,
                (false, false, _) => 0.9,
            };
            let opacity = if many { " stroke-opacity=\"0.55\"" } else { "" };
            let mut ok = String::new();
            let mut lost = String::new();
            for &i in picked {
                let m = &self.model.replay.copies()[i];
                if m.msg.kind() != k {
                    continue;
                }
                let Some((x1, y1, x2, y2)) = self.geom(m, &index, plot_y0) else { continue };
                let head = format!("{} {} → {}, sent {}", msg_text(&m.msg), self.id(m.from), self.id(m.to), self.clock.at(m.send.0));
                let line = format!("M{} {}L{} {}", num(x1), num(y1), num(x2), num(y2));
                match (m.arrive.map(|a| a.0), m.drop) {
                    (Some(a), None) => {
                        let title = format!("{head}, arrives {}", self.clock.at(a));
                        w!(ok, "<path class=\"msg {}\" d=\"{}\"><title>{}</title></path>\n", k.name(), line, esc(&title));
                    }
                    (Some(a), Some((_, reason))) => {
                        let title = format!("{head}, dropped at {}: {}", self.clock.at(a), reason_text(reason));
                        w!(
                            lost,
                            "<g class=\"msg {} dropped\"><title>{}</title><path d=\"{}\" stroke-dasharray=\"4 3\"/>{}</g>\n",
                            k.name(),
                            esc(&title),
                            line,
                            cross_path(x2, y2, xr)
                        );
                    }
                    (None, drop) => {
                        let why = drop.map_or("dropped at send", |(_, r)| reason_text(r));
                        let title = format!("{head}, dropped at send: {why}");
                        w!(
                            lost,
                            "<g class=\"msg {} dropped\"><title>{}</title><path d=\"{}\"/>{}</g>\n",
                            k.name(),
                            esc(&title),
                            line,
                            cross_path(x2, y2, xr)
                        );
                    }
                }
            }
            if !lost.is_empty() {
                w!(
                    self.s,
                    "<g clip-path=\"url(#st-plot)\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-opacity=\"0.8\">\n",
                    color,
                    num(sw.min(1.4))
                );
                self.s.push_str(&lost);
                self.s.push_str("</g>\n");
            }
            if !ok.is_empty() {
                w!(
                    self.s,
                    "<g clip-path=\"url(#st-plot)\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{} marker-end=\"url(#st-ah-{})\">\n",
                    color,
                    num(sw),
                    opacity,
                    k.name()
                );
                self.s.push_str(&ok);
                self.s.push_str("</g>\n");
            }
        }
    }
}

fn reason_text(r: DropReason) -> &'static str {
    match r {
        DropReason::Loss => "lost",
        DropReason::Partition => "partition",
        DropReason::ReceiverDown => "receiver down",
    }
}
