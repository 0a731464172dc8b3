//! The standalone SVG space-time diagram (`stagger render`).
//!
//! One horizontal lane per server in rank order, time running left to
//! right. Each lane is coloured by the server's role over time (Master,
//! Backup, WaitElection, down), every message copy is an arrow from the
//! sender's lane at its send time to the receiver's lane at its arrival
//! time, and the election timers are drawn as brackets under the lanes.
//!
//! The output is plain SVG 1.1: no scripts, no external fonts or CSS, only
//! presentation attributes, so it renders the same in a browser, in a
//! GitHub README and in `rsvg-convert`. Every arrow, band and mark carries a
//! `<title>`, which browsers show on hover. The same run always gives the
//! same bytes: nothing here iterates a hash map, and every number is written
//! with at most two decimals.
//!
//! Arrows are tagged `class="msg KIND"` (plus `dropped` when the copy never
//! arrived), lane labels `class="lane-label"`, so tests and scripts can pick
//! them out.
//!
//! What is drawn comes from the run's [`Replay`] (`crate::timeline`), the
//! same reading of the trace the playground's Watch tab plays back; this
//! module only decides where it goes and how it looks.

// The pieces, by concern. `w!` writes to a string, ignoring the
// infallible `fmt::Result`.
macro_rules! w {
    ($s:expr, $($arg:tt)*) => {{
        let _ = write!($s, $($arg)*);
    }};
}

mod arrows;
mod axis;
mod captions;
mod glyphs;
mod lanes;
mod layout;
mod legend;
mod model;
mod palette;
// The service's flow: only where the simulator runs it (core's `service`
// feature), so the playground's first page does not download it.
#[cfg(feature = "service")]
mod service;
mod text;

#[cfg(feature = "service")]
pub use service::MAX_SERVICE_ARROWS;
pub(crate) use text::msg_text;

use crate::scenario::Scenario;
use crate::sim::{Run, Settled};
use crate::time::{ms_to_us, Time};
use crate::timeline::Replay;
use layout::Layout;
use model::{Event, EventKind, Model};
use palette::{is_claim, kind_color, CRASH, FAINT, FONT, GRID, INK, MUTED};
use std::fmt::Write;
use text::{esc, flow, num, text_w, wrap_words, Clock, SEP};

/// What part of the run to draw, and how.
#[derive(Clone, Debug, Default)]
pub struct SvgOptions {
    /// Start of the time window; `None` picks one around the election.
    pub from: Option<Time>,
    /// End of the time window; `None` picks one around the election.
    pub to: Option<Time>,
    /// Overall width in pixels; 0 means the default.
    pub width: u32,
    /// A title drawn at the top; `None` uses the scenario's name.
    pub title: Option<String>,
    /// A live window ending at `now`, for a running group drawn from its
    /// members' flight recordings (`crate::flight`), whose times are
    /// wall-clock µs since the Unix epoch: the window is `[from, to]`
    /// (by default the scenario's `until` long, ending at `now`) and is not
    /// clamped to `until`; the axis and every time read relative to now
    /// ("−8 s" … "now"); and a lane shows no role until the trace gives it
    /// one, since what a member did before its recording is unknown (a run
    /// starts in the patent's initial roles). `None` draws a run.
    pub now: Option<Time>,
}

/// The default width in pixels.
pub const DEFAULT_WIDTH: u32 = 960;

/// The most message arrows one diagram draws. Beyond it only the election
/// messages (declare, revoke) are drawn, evenly thinned out if they alone
/// exceed it, and a note says how many were left out.
pub const MAX_ARROWS: usize = 5_000;

/// The time window `[from, to]` that [`space_time`] draws for these
/// options. With no crash it is the whole run; with a crash at `c`, first
/// detection period `P` and convergence at `v`, it is
/// `[c − P/4, v + (v − c)/4]`, or `[c − P/4, c + 3P]` when the run never
/// converges. Explicit `from`/`to` override either end; both are clamped to
/// `[0, until]`. A live window (`opts.now`) is not clamped.
pub fn window(scenario: &Scenario, run: &Run, opts: &SvgOptions) -> (Time, Time) {
    let until = scenario.until.0;
    if let Some(now) = opts.now {
        let to = opts.to.unwrap_or(now).0;
        let from = opts.from.map_or(to.saturating_sub(until), |t| t.0).min(to.saturating_sub(1_000));
        return (Time(from), Time(to));
    }
    let p = scenario.periods.first().map_or(0, |s| s.0);
    let us = |ms: f64| ms_to_us(ms).unwrap_or(0);
    let (auto_from, auto_to) = match run.metrics.crash_at_ms.map(us) {
        Some(c) => {
            let from = c.saturating_sub(p / 4);
            let to = match run.metrics.converged_at_ms.map(us) {
                Some(v) if v >= c => (v + (v - c) / 4).max(c + p / 4),
                _ => c + 3 * p,
            };
            // With a service, on until the clients' writes resumed.
            let resumed = run.metrics.service.as_ref().and_then(|s| s.window?.first_after_ms).map(us);
            let to = resumed.map_or(to, |r| to.max(r + p / 4));
            (from, to)
        }
        None => (0, until),
    };
    let mut from = opts.from.map_or(auto_from, |t| t.0).min(until);
    let mut to = opts.to.map_or(auto_to, |t| t.0).min(until);
    if to <= from {
        to = (from + 1_000).min(until);
        if to <= from {
            from = to.saturating_sub(1_000);
        }
    }
    (Time(from), Time(to))
}

/// Where the time axis of a [`space_time`] drawing lies, so an interactive
/// view can put a playback cursor over it: time `t` is at
/// `x0 + (t − from)/(to − from)·(x1 − x0)` in a drawing `width` units wide.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plot {
    pub from: Time,
    pub to: Time,
    pub x0: f64,
    pub x1: f64,
    pub width: f64,
}

impl Plot {
    /// The time at horizontal fraction `f` (0 = left edge of the drawing,
    /// 1 = right edge), clamped to the window.
    pub fn time_at(&self, f: f64) -> Time {
        let x = f * self.width;
        let u = ((x - self.x0) / (self.x1 - self.x0)).clamp(0.0, 1.0);
        Time(self.from.0 + ((self.to.0 - self.from.0) as f64 * u).round() as u64)
    }

    /// The horizontal fraction of time `t`, clamped to the plot.
    pub fn fraction_of(&self, t: Time) -> f64 {
        let span = (self.to.0 - self.from.0).max(1) as f64;
        let u = ((t.0 as f64 - self.from.0 as f64) / span).clamp(0.0, 1.0);
        (self.x0 + u * (self.x1 - self.x0)) / self.width
    }
}

/// The geometry [`space_time`] uses for these options.
pub fn plot(scenario: &Scenario, run: &Run, opts: &SvgOptions) -> Plot {
    let (from, to) = window(scenario, run, opts);
    let l = Layout::new(scenario, opts, from.0, to.0);
    Plot { from, to, x0: l.x0, x1: l.x1, width: l.w }
}

/// Draws `run` (which must carry a trace) as a standalone SVG document.
///
/// Without a trace, only the lanes in their initial roles are drawn, with a
/// note saying so.
pub fn space_time(scenario: &Scenario, run: &Run, opts: &SvgOptions) -> String {
    let events = run.trace.as_ref().map_or(&[][..], |t| t.events.as_slice());
    let (from, to) = window(scenario, run, opts);
    let clock = Clock { now: opts.now.map(|t| t.0), from: from.0 };
    // A live window's lanes end at its end, a run's at its `until`.
    let replay = match opts.now {
        Some(_) => Replay::of_recording(scenario, events, to),
        None => Replay::of(scenario, events),
    };
    let model = Model::of(scenario, replay, clock);
    let layout = Layout::new(scenario, opts, from.0, to.0);
    let mut d =
        Doc { s: String::with_capacity(64 * 1024), scenario, run, model: &model, l: &layout, has_trace: run.trace.is_some(), clock };
    d.draw(opts);
    d.s
}

/// A drawing under way: the document so far and what it draws from. Each
/// concern adds its own methods (`lanes`, `arrows`, `legend`, …).
struct Doc<'a> {
    s: String,
    scenario: &'a Scenario,
    run: &'a Run,
    model: &'a Model,
    l: &'a Layout,
    has_trace: bool,
    clock: Clock,
}

impl<'a> Doc<'a> {
    fn id(&self, row: u32) -> &'a str {
        self.scenario.ids.get(row as usize).map_or("?", |s| s.as_str())
    }

    fn draw(&mut self, opts: &SvgOptions) {
        let l = self.l;
        let sc = self.scenario;
        let n = sc.len();

        // Vertical markers: crashes, faults of the network, convergence.
        let converged = self.run.metrics.converged_at_ms.and_then(ms_to_us);
        let stable = self.run.metrics.settled == Settled::Stable;
        let conv_ev = converged.map(|t| Event {
            t,
            label: if stable { format!("converged {}", Time(t)) } else { format!("converged {}, not yet stable", Time(t)) },
            title: format!(
                "converged at {}: {} is the only master and every live server names it{}",
                Time(t),
                self.run.metrics.final_master.as_deref().unwrap_or("?"),
                if stable { "" } else { " (for less than the stability window before the end: the run may still be changing)" }
            ),
            kind: EventKind::Network,
        });
        let mut markers: Vec<(&Event, bool)> = self.model.events.iter().map(|e| (e, false)).collect();
        if let Some(e) = &conv_ev {
            markers.push((e, true));
        }
        let placed = l.place_markers(&markers);
        let strip_rows = placed.iter().filter_map(|p| p.label.map(|l| l.0 + 1)).max().unwrap_or(0);

        // Vertical rhythm.
        let max_w = l.w - 2.0 * l.pad;
        let subtitle = self.subtitle();
        let sub_lines = flow(&subtitle.iter().map(|p| text_w(p, 12.0)).collect::<Vec<_>>(), max_w, text_w(SEP, 12.0));
        let title_y = l.pad + 16.0;
        let sub_y = title_y + 21.0;
        let legend_y = sub_y + 16.0 * (sub_lines.len() as f64 - 1.0) + 22.0;
        let legend_rows = self.legend_rows();
        let legend_h = legend_rows.len() as f64 * 20.0;
        let strip_y = legend_y + legend_h + 8.0;
        let strip_h = strip_rows as f64 * 15.0 + 4.0;
        let plot_y0 = strip_y + strip_h;
        // A little room under the last lane for its timer label.
        let plot_y1 = plot_y0 + n as f64 * l.lane_h + if l.roomy { 6.0 } else { 1.0 };
        let axis_y = plot_y1 + 6.0;
        let caption_y = axis_y + 44.0;
        let caption = self.caption_parts();
        let caption_widths: Vec<f64> = caption.iter().map(|(k, v)| text_w(k, 12.0) + 4.0 + text_w(v, 12.0) * 1.1).collect();
        let caption_lines = flow(&caption_widths, max_w, text_w(SEP, 12.0));
        let (arrows, note) = self.pick_arrows();
        #[cfg(feature = "service")]
        let (service_arrows, service_note) = self.pick_service();
        let mut notes = Vec::new();
        notes.extend(note);
        #[cfg(feature = "service")]
        notes.extend(service_note);
        if !self.has_trace {
            notes.push("This run was simulated without a trace: only the initial roles are drawn.".to_string());
        }
        let note_lines: Vec<String> = notes.iter().flat_map(|nt| wrap_words(nt, max_w, 11.0)).collect();
        let notes_y = caption_y + 18.0 * (caption_lines.len() as f64 - 1.0) + 20.0;
        let last_y = if note_lines.is_empty() {
            caption_y + 18.0 * (caption_lines.len() as f64 - 1.0)
        } else {
            notes_y + 16.0 * (note_lines.len() as f64 - 1.0)
        };
        let h = last_y + l.pad - 2.0;

        let title = opts.title.clone().unwrap_or_else(|| sc.name.clone());
        w!(
            self.s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" font-family=\"{}\" font-size=\"12\" fill=\"{}\" role=\"img\" aria-labelledby=\"st-title\">\n",
            num(l.w),
            num(h),
            num(l.w),
            num(h),
            FONT,
            INK
        );
        w!(
            self.s,
            "<title id=\"st-title\">{} — space-time diagram, {} to {}</title>\n",
            esc(&title),
            self.clock.at(l.from),
            self.clock.at(l.to)
        );
        self.defs(plot_y0, plot_y1);
        w!(
            self.s,
            "<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#ffffff\" stroke=\"#d0d7de\"/>\n",
            num(l.w - 1.0),
            num(h - 1.0)
        );

        // Header.
        w!(
            self.s,
            "<text class=\"title\" x=\"{}\" y=\"{}\" font-size=\"18\" font-weight=\"600\">{}</text>\n",
            num(l.pad),
            num(title_y),
            esc(&title)
        );
        w!(self.s, "<text class=\"subtitle\" fill=\"{}\">", MUTED);
        for (i, line) in sub_lines.iter().enumerate() {
            let text: Vec<&str> = line.iter().map(|&k| subtitle[k].as_str()).collect();
            w!(self.s, "<tspan x=\"{}\" y=\"{}\">{}</tspan>", num(l.pad), num(sub_y + 16.0 * i as f64), esc(&text.join(SEP)));
        }
        self.s.push_str("</text>\n");
        self.legend(&legend_rows, legend_y);

        // Grid and axis ticks.
        let ticks = self.ticks();
        w!(self.s, "<g stroke=\"{}\" stroke-width=\"1\">\n", GRID);
        for (x, _) in &ticks {
            w!(self.s, "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n", num(*x), num(plot_y0), num(*x), num(plot_y1));
        }
        self.s.push_str("</g>\n");

        let bh = l.band_h;
        let (mut occ_band, mut occ_gap) = if l.roomy {
            (self.occupancy(&arrows, plot_y0, -bh / 2.0, bh / 2.0), self.occupancy(&arrows, plot_y0, bh / 2.0 + 7.0, bh / 2.0 + 17.0))
        } else {
            (Vec::new(), Vec::new())
        };
        // Labels also keep clear of the vertical markers.
        for p in &placed {
            for lane in occ_band.iter_mut().chain(occ_gap.iter_mut()) {
                lane.push((p.x - 3.0, p.x + 3.0));
            }
        }
        self.lanes(plot_y0, &occ_band);
        self.countdowns(plot_y0, &mut occ_gap);

        // Vertical markers under the arrows, labels in the strip.
        for p in &placed {
            let (color, dash, width) = match (p.ev.kind, conv_ev.as_ref().is_some_and(|c| std::ptr::eq(c, p.ev))) {
                (_, true) => (INK, "", 1.5),
                (EventKind::Crash, _) => (CRASH, " stroke-dasharray=\"5 3\"", 1.5),
                (EventKind::Network, _) => (MUTED, " stroke-dasharray=\"3 3\"", 1.2),
            };
            let top = match p.label {
                Some((row, ..)) => strip_y + row as f64 * 15.0 + 1.0,
                None => plot_y0,
            };
            w!(
                self.s,
                "<g class=\"marker\"><title>{}</title><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>",
                esc(&p.ev.title),
                num(p.x),
                num(top),
                num(p.x),
                num(plot_y1),
                color,
                num(width),
                dash
            );
            if let Some((row, left, right, end)) = p.label {
                let weight = if color == INK { " font-weight=\"600\"" } else { "" };
                // Anchored on the side next to the line, so a font wider
                // than estimated never runs into it.
                let (x, anchor) = if end { (right, " text-anchor=\"end\"") } else { (left, "") };
                w!(
                    self.s,
                    "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{}\"{}{}>{}</text>",
                    num(x),
                    num(strip_y + row as f64 * 15.0 + 11.0),
                    color,
                    weight,
                    anchor,
                    esc(&p.ev.label)
                );
            }
            self.s.push_str("</g>\n");
        }

        self.arrows(&arrows, plot_y0);
        #[cfg(feature = "service")]
        {
            self.service_arrows(&service_arrows, plot_y0);
            self.applied_marks(plot_y0);
        }
        self.marks(plot_y0);
        self.lane_labels(plot_y0);

        // Axis.
        w!(
            self.s,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>\n",
            num(l.x0),
            num(plot_y1 + 0.5),
            num(l.x1),
            num(plot_y1 + 0.5),
            FAINT
        );
        w!(self.s, "<g class=\"axis\" font-size=\"11\" fill=\"{}\" text-anchor=\"middle\">\n", MUTED);
        for (x, label) in &ticks {
            w!(
                self.s,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
                num(*x),
                num(plot_y1),
                num(*x),
                num(axis_y),
                FAINT,
                num(*x),
                num(axis_y + 12.0),
                label
            );
        }
        let axis = if self.clock.now.is_some() { "wall-clock time (s), relative to now" } else { "virtual time (ms)" };
        w!(self.s, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-style=\"italic\">{}</text>\n", num(l.x1), num(axis_y + 28.0), axis);
        self.s.push_str("</g>\n");

        self.caption(caption_y, &caption, &caption_lines, notes_y, &note_lines);
        self.s.push_str("</svg>\n");
    }

    fn defs(&mut self, plot_y0: f64, plot_y1: f64) {
        let l = self.l;
        self.s.push_str("<defs>\n");
        w!(
            self.s,
            "<clipPath id=\"st-plot\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>\n",
            num(l.x0),
            num(plot_y0 - 2.0),
            num(l.x1 - l.x0),
            num(plot_y1 - plot_y0 + 4.0)
        );
        self.s.push_str(
            "<pattern id=\"st-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
             <rect width=\"6\" height=\"6\" fill=\"#eef0f2\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#b6bec7\" stroke-width=\"2.5\"/></pattern>\n",
        );
        let big = self.l.roomy;
        for k in self.model.kinds.clone() {
            let size = match (k, big) {
                (k, true) if is_claim(k) => 9.0,
                (_, true) => 7.0,
                (_, false) => 5.0,
            };
            w!(
                self.s,
                "<marker id=\"st-ah-{}\" viewBox=\"0 0 10 10\" refX=\"8.5\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"{}\" markerHeight=\"{}\" orient=\"auto\"><path d=\"M0,0.5 L10,5 L0,9.5 z\" fill=\"{}\"/></marker>\n",
                k.name(),
                num(size),
                num(size),
                kind_color(k)
            );
        }
        #[cfg(feature = "service")]
        self.service_defs();
        self.s.push_str("</defs>\n");
    }
}

#[cfg(test)]
mod tests;
