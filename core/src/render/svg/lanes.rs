//! The lanes: role bands with their names, lane labels, election-timer
//! brackets, and the crash and recovery marks.

use super::glyphs::{bracket, cross};
use super::layout::{best_spot, overlap};
use super::palette::{fill, flat, ink, CRASH, MUTED, RECOVER};
use super::text::{esc, ms, num, text_w};
use super::Doc;
use crate::timeline::LaneState;
use std::fmt::Write;

impl Doc<'_> {
    pub(super) fn index_of_rows(&self) -> Vec<usize> {
        let mut v = vec![0; self.scenario.len()];
        for (i, r) in self.scenario.ranking.iter().enumerate() {
            if let Some(slot) = v.get_mut(*r as usize) {
                *slot = i;
            }
        }
        v
    }

    pub(super) fn lanes(&mut self, plot_y0: f64, occ: &[Vec<(f64, f64)>]) {
        let l = self.l;
        let bh = l.band_h;
        self.s.push_str("<g class=\"lanes\" clip-path=\"url(#st-plot)\">\n");
        let mut texts = String::new();
        for (i, &row) in self.scenario.ranking.iter().enumerate() {
            let cy = self.l.lane_y(plot_y0, i);
            for seg in self.model.replay.segments(row as usize) {
                let (start, end, state, master) = (seg.start.0, seg.end.0, seg.state.status, seg.state.master);
                if end <= l.from || start >= l.to {
                    continue;
                }
                let xa = l.x(start.max(l.from));
                let xb = l.x(end.min(l.to));
                let width = (xb - xa).max(0.5);
                let what = match (state, master) {
                    (LaneState::Backup, Some(m)) => format!("Backup (master {})", self.id(m)),
                    (LaneState::Backup, None) => "Backup (no master)".to_string(),
                    (s, _) => s.name().to_string(),
                };
                w!(
                    self.s,
                    "<rect class=\"role {}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {} from {} to {}</title></rect>\n",
                    state.name().to_ascii_lowercase(),
                    num(xa),
                    num(cy - bh / 2.0),
                    num(width),
                    num(bh),
                    fill(state),
                    esc(self.id(row)),
                    esc(&what),
                    self.clock.at(start),
                    self.clock.at(end)
                );
                if l.roomy {
                    let full = match (state, master) {
                        (LaneState::Backup, Some(m)) => format!("Backup · {}", self.id(m)),
                        (LaneState::Backup, None) => "Backup · no master".to_string(),
                        (s, _) => s.name().to_string(),
                    };
                    let short = state.name().to_string();
                    let lane_occ = occ.get(i).map_or(&[][..], |v| v.as_slice());
                    let spot =
                        [full, short].into_iter().find_map(|t| best_spot(lane_occ, xa, xa + width, text_w(&t, 10.0)).map(|c| (t, c)));
                    if let Some((t, c)) = spot {
                        w!(
                            texts,
                            "<text x=\"{}\" y=\"{}\" fill=\"{}\" stroke=\"{}\">{}</text>\n",
                            num(c),
                            num(cy + 3.5),
                            ink(state),
                            flat(state),
                            esc(&t)
                        );
                    }
                }
            }
        }
        self.s.push_str("</g>\n");
        if !texts.is_empty() {
            self.s.push_str(
                "<g class=\"role-names\" font-size=\"10\" text-anchor=\"middle\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\" clip-path=\"url(#st-plot)\">\n",
            );
            self.s.push_str(&texts);
            self.s.push_str("</g>\n");
        }
    }

    pub(super) fn lane_labels(&mut self, plot_y0: f64) {
        let l = self.l;
        w!(self.s, "<g font-size=\"{}\" text-anchor=\"end\">\n", num(l.label_size));
        for (i, &row) in self.scenario.ranking.iter().enumerate() {
            if i % l.label_every != 0 {
                continue;
            }
            let cy = self.l.lane_y(plot_y0, i);
            w!(
                self.s,
                "<text class=\"lane-label\" x=\"{}\" y=\"{}\"><tspan fill=\"{}\" font-weight=\"600\">S{}</tspan> {}</text>\n",
                num(l.x0 - 10.0),
                num(cy + l.label_size * 0.36),
                MUTED,
                i,
                esc(self.id(row))
            );
        }
        self.s.push_str("</g>\n");
    }

    pub(super) fn countdowns(&mut self, plot_y0: f64, occ: &mut [Vec<(f64, f64)>]) {
        let l = self.l;
        if l.lane_h < 14.0 {
            return;
        }
        let index = self.index_of_rows();
        let ink = ink(LaneState::Wait);
        let mut body = String::new();
        let tick = if l.roomy { 6.0 } else { 3.0 };
        for c in self.model.replay.countdowns() {
            let (start, due, end) = (c.start.0, c.due.0, c.end.0);
            if due < l.from || start > l.to {
                continue;
            }
            let Some(&i) = index.get(c.row as usize) else { continue };
            let cy = self.l.lane_y(plot_y0, i);
            let y = cy + l.band_h / 2.0 + if l.roomy { 5.0 } else { 2.0 };
            let xa = l.x(start);
            let xe = l.x(end);
            let xp = l.x(due);
            let fired = c.fired();
            let title = if fired {
                format!(
                    "{}: election timer D = {} ms, from {} until it fires at {}",
                    self.id(c.row),
                    ms(due - start),
                    self.clock.at(start),
                    self.clock.at(due)
                )
            } else {
                format!(
                    "{}: election timer D = {} ms from {}, due {}, cancelled at {}",
                    self.id(c.row),
                    ms(due - start),
                    self.clock.at(start),
                    self.clock.at(due),
                    self.clock.at(end)
                )
            };
            w!(body, "<g class=\"timer\"><title>{}</title>{}", esc(&title), bracket(xa, xe, xp, y, tick));
            let label = format!("D={} ms", ms(due - start));
            let tw = text_w(&label, 10.0);
            let lane_occ = occ.get(i).map_or(&[][..], |v| v.as_slice());
            // Inside the bracket, else before its start, else after its end:
            // whichever fits and crosses the fewest arrows, in that order.
            // Outside labels only for brackets long enough to see.
            let outside = xp - xa >= 10.0;
            let spots = [
                (xa + 3.0, xp - xa >= tw + 4.0),
                (xa - 4.0 - tw, outside && xa - 6.0 - tw >= l.x0),
                (xp + 4.0, outside && xp + 6.0 + tw <= l.x1),
            ];
            let best = spots
                .iter()
                .filter(|(_, fits)| *fits)
                .map(|&(left, _)| (overlap(lane_occ, left - 2.0, left + tw + 2.0), left))
                .fold(None, |acc: Option<(f64, f64)>, c| match acc {
                    Some(a) if a.0 <= c.0 + 1e-9 => Some(a),
                    _ => Some(c),
                });
            if let (true, Some((_, left))) = (l.roomy, best) {
                if left < xa {
                    // Before the bracket: anchored at its end, next to the bracket.
                    w!(body, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", num(xa - 4.0), num(y + 11.0), esc(&label));
                } else {
                    w!(body, "<text x=\"{}\" y=\"{}\">{}</text>", num(left), num(y + 11.0), esc(&label));
                }
                if let Some(lane) = occ.get_mut(i) {
                    lane.push((left - 4.0, left + tw + 4.0));
                }
            }
            body.push_str("</g>\n");
        }
        if !body.is_empty() {
            w!(self.s, "<g clip-path=\"url(#st-plot)\" font-size=\"10\" fill=\"{}\" stroke=\"none\">\n", ink);
            self.s.push_str(&body);
            self.s.push_str("</g>\n");
        }
    }

    pub(super) fn marks(&mut self, plot_y0: f64) {
        let l = self.l;
        let index = self.index_of_rows();
        let r = (l.band_h * 0.42).clamp(2.0, 6.5);
        let mut body = String::new();
        for m in &self.model.marks {
            if m.t < l.from || m.t > l.to {
                continue;
            }
            let Some(&i) = index.get(m.row as usize) else { continue };
            let cy = self.l.lane_y(plot_y0, i);
            let x = l.x(m.t);
            if m.crash {
                w!(
                    body,
                    "<g class=\"crash\"><title>{} crashes at {}</title>{}{}</g>\n",
                    esc(self.id(m.row)),
                    self.clock.at(m.t),
                    cross(x, cy, r + 1.0, "#ffffff", 5.0),
                    cross(x, cy, r, CRASH, 2.6)
                );
            } else {
                w!(
                    body,
                    "<g class=\"recover\"><title>{} recovers at {}</title><circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"#ffffff\" stroke=\"{}\" stroke-width=\"2\"/></g>\n",
                    esc(self.id(m.row)),
                    self.clock.at(m.t),
                    num(x),
                    num(cy),
                    num(r * 0.8),
                    RECOVER
                );
            }
        }
        if !body.is_empty() {
            self.s.push_str("<g clip-path=\"url(#st-plot)\">\n");
            self.s.push_str(&body);
            self.s.push_str("</g>\n");
        }
    }
}
