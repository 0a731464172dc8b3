//! Where things go: the plot's geometry for a width and a number of lanes,
//! the strip of marker labels above the lanes, and label spots that cross
//! the fewest arrows.

use super::model::Event;
use super::text::text_w;
use super::{SvgOptions, DEFAULT_WIDTH};
use crate::scenario::Scenario;

pub(super) struct Layout {
    pub w: f64,
    pub pad: f64,
    pub from: u64,
    pub to: u64,
    pub x0: f64,
    pub x1: f64,
    pub lane_h: f64,
    pub band_h: f64,
    /// Label every `label_every`-th lane.
    pub label_every: usize,
    pub label_size: f64,
    /// Whether lanes are tall enough for bracket labels and role names.
    pub roomy: bool,
}

impl Layout {
    pub fn new(scenario: &Scenario, opts: &SvgOptions, from: u64, to: u64) -> Layout {
        let n = scenario.len().max(1);
        let w = if opts.width == 0 { DEFAULT_WIDTH } else { opts.width.max(320) } as f64;
        let pad = 20.0;
        let lane_h = if n <= 16 { 52.0 } else { (960.0 / n as f64).clamp(5.0, 46.0) };
        let band_h = if lane_h >= 30.0 { 18.0 } else { (lane_h * 0.62).max(2.0) };
        let label_size = (lane_h * 0.8).clamp(8.0, 12.5);
        let label_every = (label_size * 1.15 / lane_h).ceil().max(1.0) as usize;
        let widest = scenario.ranking.iter().enumerate().map(|(i, r)| text_w(&lane_label(scenario, i, *r), label_size)).fold(0.0, f64::max);
        let label_w = (widest + 14.0).clamp(56.0, w * 0.3);
        Layout { w, pad, from, to, x0: pad + label_w, x1: w - pad - 4.0, lane_h, band_h, label_every, label_size, roomy: lane_h >= 30.0 }
    }

    pub fn x(&self, t: u64) -> f64 {
        let span = (self.to - self.from).max(1) as f64;
        self.x0 + (t as f64 - self.from as f64) / span * (self.x1 - self.x0)
    }

    pub fn px_per_us(&self) -> f64 {
        (self.x1 - self.x0) / (self.to - self.from).max(1) as f64
    }

    /// The vertical centre of the lane at `index`, the plot starting at
    /// `plot_y0`.
    pub fn lane_y(&self, plot_y0: f64, index: usize) -> f64 {
        plot_y0 + (index as f64 + 0.5) * self.lane_h
    }

    /// Places the labels of vertical markers in up to three rows of the
    /// strip above the lanes, so no label overlaps another or a marker's
    /// line; a marker whose label finds no room is drawn without one.
    pub fn place_markers<'e>(&self, markers: &[(&'e Event, bool)]) -> Vec<Placed<'e>> {
        let l = self;
        let mut vis: Vec<(f64, usize, &'e Event, bool)> = markers
            .iter()
            .enumerate()
            .filter(|(_, (e, _))| e.t >= l.from && e.t <= l.to)
            .map(|(i, (e, b))| (l.x(e.t), i, *e, *b))
            .collect();
        vis.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut out: Vec<Placed> = Vec::new();
        for (x, _, ev, bold) in vis {
            let lw = text_w(&ev.label, 11.0) * if bold { 1.1 } else { 1.0 };
            let (left, right, end) =
                if x + 4.0 + lw <= l.w - l.pad { (x + 4.0, x + 4.0 + lw, false) } else { (x - 4.0 - lw, x - 4.0, true) };
            let mut label = None;
            for row in 0..3usize {
                let ok = out.iter().all(|p| match p.label {
                    Some((r, pl, pr, _)) => {
                        let overlap = left < pr + 8.0 && pl < right + 8.0;
                        let line_in_mine = p.x >= left - 3.0 && p.x <= right + 3.0;
                        let my_line_in_theirs = x >= pl - 3.0 && x <= pr + 3.0;
                        !((r == row && overlap) || (r < row && line_in_mine) || (r > row && my_line_in_theirs))
                    }
                    None => true,
                });
                if ok {
                    label = Some((row, left, right, end));
                    break;
                }
            }
            out.push(Placed { ev, x, label });
        }
        out
    }
}

/// A vertical marker across the lanes, with its label placed in the strip
/// above them.
pub(super) struct Placed<'a> {
    pub ev: &'a Event,
    pub x: f64,
    /// Row, left edge, right edge, anchor end?
    pub label: Option<(usize, f64, f64, bool)>,
}

pub(super) fn lane_label(scenario: &Scenario, index: usize, row: u32) -> String {
    format!("S{index} {}", scenario.ids.get(row as usize).map_or("?", |s| s.as_str()))
}

/// How much of `[lo, hi]` the intervals cover (overlaps counted twice).
pub(super) fn overlap(occ: &[(f64, f64)], lo: f64, hi: f64) -> f64 {
    occ.iter().map(|&(a, b)| (hi.min(b) - lo.max(a)).max(0.0)).sum()
}

/// The centre for a label `tw` wide inside `[xa, xb]` that crosses the
/// fewest arrows, the nearest to the middle among equals; `None` when it
/// does not fit.
pub(super) fn best_spot(occ: &[(f64, f64)], xa: f64, xb: f64, tw: f64) -> Option<f64> {
    let lo = xa + tw / 2.0 + 6.0;
    let hi = xb - tw / 2.0 - 6.0;
    if lo > hi {
        return None;
    }
    let mid = (lo + hi) / 2.0;
    let steps = ((hi - lo) / 2.0).ceil() as usize;
    let mut best = (f64::INFINITY, f64::INFINITY, mid);
    for k in 0..=steps {
        let c = (lo + k as f64 * 2.0).min(hi);
        let cost = overlap(occ, c - tw / 2.0 - 3.0, c + tw / 2.0 + 3.0);
        let d = (c - mid).abs();
        if cost < best.0 - 1e-9 || (cost <= best.0 + 1e-9 && d < best.1) {
            best = (cost, d, c);
        }
    }
    Some(best.2)
}
