//! The legend: the message kinds drawn, then what the lanes show, flowed
//! into rows under their headings.

use super::glyphs::{bracket, cross};
use super::palette::{fill, ink, is_claim, kind_color, kind_label, CRASH, INK, MUTED, RECOVER};
#[cfg(feature = "service")]
use super::service::{hop_label, hop_style};
use super::text::{esc, num, text_w};
use super::Doc;
use crate::message::MessageKind;
#[cfg(feature = "service")]
use crate::timeline::Hop;
use crate::timeline::LaneState;
use crate::Algorithm;
use std::fmt::Write;

/// One row of the legend: its heading, if it starts a group, and each
/// item's x, glyph and label.
pub(super) type LegendRow = (Option<&'static str>, Vec<(f64, LegendGlyph, &'static str)>);

#[derive(Clone, Copy)]
pub(super) enum LegendGlyph {
    Arrow(MessageKind),
    Dropped,
    Band(LaneState),
    Timer,
    Crash,
    Recover,
    #[cfg(feature = "service")]
    Hop(Hop),
    #[cfg(feature = "service")]
    Applied,
}

impl LegendGlyph {
    fn width(self) -> f64 {
        match self {
            LegendGlyph::Arrow(_) | LegendGlyph::Dropped | LegendGlyph::Timer => 26.0,
            LegendGlyph::Band(_) => 18.0,
            LegendGlyph::Crash | LegendGlyph::Recover => 10.0,
            #[cfg(feature = "service")]
            LegendGlyph::Applied => 10.0,
            #[cfg(feature = "service")]
            LegendGlyph::Hop(_) => 26.0,
        }
    }
}

impl Doc<'_> {
    /// The legend's groups: messages, what lanes show, and the service's
    /// traffic when the run has one.
    fn legend_groups(&self) -> Vec<(&'static str, Vec<(LegendGlyph, &'static str)>)> {
        let mut msgs: Vec<(LegendGlyph, &'static str)> =
            self.model.kinds.iter().map(|k| (LegendGlyph::Arrow(*k), kind_label(*k))).collect();
        msgs.push((LegendGlyph::Dropped, "lost / dropped"));
        let mut lanes: Vec<(LegendGlyph, &'static str)> = [LaneState::Master, LaneState::Backup, LaneState::Wait, LaneState::Down]
            .iter()
            .map(|s| (LegendGlyph::Band(*s), s.name()))
            .collect();
        if self.scenario.algorithm == Algorithm::Stagger {
            lanes.push((LegendGlyph::Timer, "election timer D"));
        }
        lanes.push((LegendGlyph::Crash, "crash"));
        lanes.push((LegendGlyph::Recover, "recover"));
        #[cfg_attr(not(feature = "service"), allow(unused_mut))]
        let mut groups = vec![("Messages", msgs), ("Lanes", lanes)];
        #[cfg(feature = "service")]
        let hops = self.hops();
        #[cfg(feature = "service")]
        if !hops.is_empty() {
            let mut service: Vec<(LegendGlyph, &'static str)> = hops.into_iter().map(|h| (LegendGlyph::Hop(h), hop_label(h))).collect();
            service.push((LegendGlyph::Applied, "applied index"));
            groups.push(("Service", service));
        }
        groups
    }

    /// Legend items flowed into rows: an optional heading, then
    /// (x, glyph, label) per item.
    pub(super) fn legend_rows(&self) -> Vec<LegendRow> {
        let l = self.l;
        let groups = self.legend_groups();
        let indent = l.pad + groups.iter().map(|(h, _)| text_w(h, 11.0) * 1.05).fold(0.0, f64::max) + 12.0;
        let mut rows = Vec::new();
        for (heading, items) in groups {
            let mut row: Vec<(f64, LegendGlyph, &'static str)> = Vec::new();
            let mut head = Some(heading);
            let mut x = indent;
            for (g, label) in items {
                let wdt = g.width() + 5.0 + text_w(label, 11.0);
                if x + wdt > l.w - l.pad && !row.is_empty() {
                    rows.push((head.take(), std::mem::take(&mut row)));
                    x = indent;
                }
                row.push((x, g, label));
                x += wdt + 18.0;
            }
            rows.push((head.take(), row));
        }
        rows
    }

    pub(super) fn legend(&mut self, rows: &[LegendRow], y0: f64) {
        w!(self.s, "<g class=\"legend\" font-size=\"11\" fill=\"{}\">\n", INK);
        for (i, (heading, row)) in rows.iter().enumerate() {
            let cy = y0 + i as f64 * 20.0;
            if let Some(h) = heading {
                w!(self.s, "<text x=\"{}\" y=\"{}\" fill=\"{}\" font-weight=\"600\">{}</text>\n", num(self.l.pad), num(cy + 4.0), MUTED, h);
            }
            for (x, g, label) in row {
                let gw = g.width();
                match g {
                    LegendGlyph::Arrow(k) => {
                        let sw = if is_claim(*k) { 2.0 } else { 1.4 };
                        w!(
                            self.s,
                            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\" marker-end=\"url(#st-ah-{})\"/>",
                            num(*x),
                            num(cy),
                            num(x + gw),
                            num(cy),
                            kind_color(*k),
                            num(sw),
                            k.name()
                        );
                    }
                    LegendGlyph::Dropped => {
                        w!(
                            self.s,
                            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.4\" stroke-dasharray=\"4 3\"/>{}",
                            num(*x),
                            num(cy),
                            num(x + gw - 4.0),
                            num(cy),
                            MUTED,
                            cross(x + gw - 4.0, cy, 3.5, MUTED, 1.6)
                        );
                    }
                    LegendGlyph::Band(s) => {
                        w!(
                            self.s,
                            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"10\" fill=\"{}\" stroke=\"{}\" stroke-opacity=\"0.35\"/>",
                            num(*x),
                            num(cy - 5.0),
                            num(gw),
                            fill(*s),
                            ink(*s)
                        );
                    }
                    LegendGlyph::Timer => {
                        w!(self.s, "{}", bracket(*x, x + gw, x + gw, cy - 2.0, 6.0));
                    }
                    LegendGlyph::Crash => {
                        w!(self.s, "{}", cross(x + gw / 2.0, cy, 4.5, CRASH, 2.2));
                    }
                    #[cfg(feature = "service")]
                    LegendGlyph::Hop(h) => {
                        let (color, dash) = hop_style(*h);
                        w!(
                            self.s,
                            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.2\" stroke-dasharray=\"{}\" marker-end=\"url(#st-svc-{})\"/>",
                            num(*x),
                            num(cy),
                            num(x + gw),
                            num(cy),
                            color,
                            if dash.is_empty() { "none" } else { dash },
                            h.name()
                        );
                    }
                    #[cfg(feature = "service")]
                    LegendGlyph::Applied => {
                        w!(
                            self.s,
                            "<text x=\"{}\" y=\"{}\" font-size=\"8\" text-anchor=\"middle\" fill=\"#3d3d3d\">12</text>",
                            num(x + gw / 2.0),
                            num(cy + 3.0)
                        );
                    }
                    LegendGlyph::Recover => {
                        w!(
                            self.s,
                            "<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"#ffffff\" stroke=\"{}\" stroke-width=\"2\"/>",
                            num(x + gw / 2.0),
                            num(cy),
                            RECOVER
                        );
                    }
                }
                w!(self.s, "<text x=\"{}\" y=\"{}\">{}</text>\n", num(x + gw + 5.0), num(cy + 4.0), esc(label));
            }
        }
        self.s.push_str("</g>\n");
    }
}
