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

use crate::bully::BullyMsg;
use crate::message::{Message, MessageKind, Msg as Wire};
use crate::raft::RaftMsg;
use crate::scenario::{FaultAction, PhaseMode, Scenario};
use crate::server::{Note, Role};
use crate::sim::{DropReason, Run, Settled, Trace, What};
use crate::time::{ms_to_us, Span, Time};
use crate::{Algorithm, Scheme};
use std::collections::HashMap;
use std::fmt::Write;

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
    let empty = Trace::default();
    let trace = run.trace.as_ref().unwrap_or(&empty);
    let (from, to) = window(scenario, run, opts);
    let clock = Clock { now: opts.now.map(|t| t.0), from: from.0 };
    let model = Model::build(scenario, trace, clock, opts.now.map(|_| to.0));
    let layout = Layout::new(scenario, opts, from.0, to.0);
    let mut d =
        Doc { s: String::with_capacity(64 * 1024), scenario, run, model: &model, l: &layout, has_trace: run.trace.is_some(), clock };
    d.draw(opts);
    d.s
}

// ---------------------------------------------------------------------------
// Palette (Okabe–Ito for the message kinds, pale tints for the roles).

const INK: &str = "#1f2328";
const MUTED: &str = "#59636e";
const FAINT: &str = "#8c959f";
const GRID: &str = "#eaeef2";
const CRASH: &str = "#d55e00";
const RECOVER: &str = "#009e73";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/// Colours from the Okabe–Ito palette. Raft's and Bully's kinds reuse the
/// protocol's by role: detection traffic is light blue and green, a claim
/// dark blue, an answer to a claim orange or purple.
fn kind_color(k: MessageKind) -> &'static str {
    match k {
        MessageKind::Inquiry | MessageKind::Heartbeat | MessageKind::Alive => "#56b4e9",
        MessageKind::Reply | MessageKind::HeartbeatReply => "#009e73",
        MessageKind::Declare | MessageKind::RequestVote | MessageKind::Coordinator => "#0072b2",
        MessageKind::Revoke | MessageKind::PreVoteReply => "#cc79a7",
        MessageKind::Vote | MessageKind::Answer => "#e69f00",
        MessageKind::PreVote | MessageKind::Election => "#d55e00",
    }
}

fn kind_label(k: MessageKind) -> &'static str {
    match k {
        MessageKind::Inquiry => "Inquiry",
        MessageKind::Reply => "InquiryReply",
        MessageKind::Declare => "DeclareMaster",
        MessageKind::Revoke => "RevokeMaster",
        MessageKind::PreVote => "PreVote",
        MessageKind::PreVoteReply => "PreVoteReply",
        MessageKind::RequestVote => "RequestVote",
        MessageKind::Vote => "Vote",
        MessageKind::Heartbeat => "Heartbeat",
        MessageKind::HeartbeatReply => "HeartbeatReply",
        MessageKind::Election => "Election",
        MessageKind::Answer => "Answer",
        MessageKind::Coordinator => "Coordinator",
        MessageKind::Alive => "Alive",
    }
}

/// Whether a kind counts as an election message, drawn thicker.
fn is_claim(k: MessageKind) -> bool {
    k.is_election()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Master,
    Backup,
    Wait,
    Down,
    /// Not known (a live lane before its recording says): not drawn.
    Unknown,
}

impl State {
    fn of(role: Role) -> State {
        match role {
            Role::Master => State::Master,
            Role::Backup => State::Backup,
            Role::WaitElection => State::Wait,
        }
    }
    fn fill(self) -> &'static str {
        match self {
            State::Master => "#f6d38c",
            State::Backup => "#e3e9f0",
            State::Wait => "#f3eba0",
            State::Down => "url(#st-hatch)",
            State::Unknown => "none",
        }
    }
    /// A flat colour close to the fill, for text halos.
    fn flat(self) -> &'static str {
        match self {
            State::Down | State::Unknown => "#eef0f2",
            s => s.fill(),
        }
    }
    fn ink(self) -> &'static str {
        match self {
            State::Master => "#7a4d00",
            State::Backup => "#4a5868",
            State::Wait => "#615800",
            State::Down | State::Unknown => "#57606a",
        }
    }
    fn name(self) -> &'static str {
        match self {
            State::Master => "Master",
            State::Backup => "Backup",
            State::Wait => "WaitElection",
            State::Down => "down",
            State::Unknown => "unknown",
        }
    }
}

/// How a drawing reads times: a run's virtual time (`1234.567 ms`), or a
/// live window's wall-clock time relative to its end (`−3.25 s`, `now`).
#[derive(Clone, Copy, Debug)]
struct Clock {
    /// The end of a live window; `None` for a run.
    now: Option<u64>,
    /// The start of the window.
    from: u64,
}

impl Clock {
    fn at(&self, t: u64) -> String {
        match self.now {
            None => Time(t).to_string(),
            Some(now) if t >= now => "now".into(),
            Some(_) if t < self.from => "before the window".into(),
            Some(now) => format!("−{:.2} s", (now - t) as f64 / 1e6),
        }
    }
}

// ---------------------------------------------------------------------------
// The model: what happened, read off the trace.

struct Seg {
    start: u64,
    end: u64,
    state: State,
    /// For a Backup: the row it names.
    master: Option<u32>,
}

struct Countdown {
    row: u32,
    start: u64,
    planned: u64,
    end: u64,
}

struct Mark {
    t: u64,
    row: u32,
    crash: bool,
}

struct Event {
    t: u64,
    label: String,
    title: String,
    kind: EventKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Crash,
    Network,
}

struct Msg {
    from: u32,
    to: u32,
    msg: Wire,
    send: u64,
    arrive: Option<u64>,
    drop: Option<(u64, DropReason)>,
}

impl Msg {
    /// The last instant the drawing of this copy touches.
    fn end(&self) -> u64 {
        self.arrive.unwrap_or(self.send)
    }
}

struct Model {
    /// Role segments by row.
    segs: Vec<Vec<Seg>>,
    countdowns: Vec<Countdown>,
    marks: Vec<Mark>,
    events: Vec<Event>,
    msgs: Vec<Msg>,
    /// The kinds the legend and the arrowheads cover: the protocol's four,
    /// or, for another algorithm's trace, the kinds it sent.
    kinds: Vec<MessageKind>,
}

impl Model {
    /// `live_end`: the end of a live window, where its lanes end.
    fn build(scenario: &Scenario, trace: &Trace, clock: Clock, live_end: Option<u64>) -> Model {
        let n = scenario.len();
        let end = live_end.unwrap_or(scenario.until.0);
        let until = trace.events.last().map_or(end, |e| e.t.0.max(end));
        let top = scenario.ranking.first().copied().unwrap_or(0);
        // The displayed state of each row, and since when: a run starts in
        // the patent's initial roles, a live window knows nothing yet.
        let mut cur: Vec<(State, Option<u32>, u64)> = (0..n as u32)
            .map(|r| match clock.now {
                Some(_) => (State::Unknown, None, 0),
                None if r == top => (State::Master, None, 0),
                None => (State::Backup, Some(top), 0),
            })
            .collect();
        let mut segs: Vec<Vec<Seg>> = (0..n).map(|_| Vec::new()).collect();
        let mut up = vec![true; n];
        let mut open: Vec<Option<(u64, u64)>> = vec![None; n];
        let mut countdowns = Vec::new();
        let mut marks = Vec::new();
        let mut events = Vec::new();
        let mut msgs: Vec<Msg> = Vec::new();
        let mut by_id: HashMap<u64, usize> = HashMap::new();
        let id = |r: u32| scenario.ids.get(r as usize).map_or("?", |s| s.as_str());

        fn set(cur: &mut (State, Option<u32>, u64), segs: &mut Vec<Seg>, t: u64, state: State, master: Option<u32>) {
            let master = if state == State::Backup { master } else { None };
            if cur.0 == state && cur.1 == master {
                return;
            }
            if t > cur.2 {
                segs.push(Seg { start: cur.2, end: t, state: cur.0, master: cur.1 });
            }
            *cur = (state, master, t);
        }
        fn close(open: &mut Option<(u64, u64)>, row: u32, t: u64, out: &mut Vec<Countdown>) {
            if let Some((start, planned)) = open.take() {
                out.push(Countdown { row, start, planned, end: t.min(planned) });
            }
        }

        for e in &trace.events {
            let t = e.t.0;
            match &e.what {
                What::Role { server, role, master } => {
                    let r = *server as usize;
                    if r >= n {
                        continue;
                    }
                    if *role != Role::WaitElection {
                        close(&mut open[r], *server, t, &mut countdowns);
                    }
                    if up[r] {
                        set(&mut cur[r], &mut segs[r], t, State::of(*role), *master);
                    }
                }
                What::Note { server, note: Note::ElectionDelay { delay } } => {
                    let r = *server as usize;
                    if r >= n {
                        continue;
                    }
                    close(&mut open[r], *server, t, &mut countdowns);
                    open[r] = Some((t, t + delay.0));
                }
                What::Fault { source } => {
                    let Some(f) = scenario.faults.iter().find(|f| f.source == *source as usize) else { continue };
                    match &f.action {
                        FaultAction::Crash(row) => {
                            let r = *row as usize;
                            if r >= n {
                                continue;
                            }
                            up[r] = false;
                            close(&mut open[r], *row, t, &mut countdowns);
                            set(&mut cur[r], &mut segs[r], t, State::Down, None);
                            marks.push(Mark { t, row: *row, crash: true });
                            events.push(Event {
                                t,
                                label: format!("crash {} {}", id(*row), clock.at(t)),
                                title: format!("{} crashes at {}", id(*row), clock.at(t)),
                                kind: EventKind::Crash,
                            });
                        }
                        FaultAction::Recover(row) => {
                            let r = *row as usize;
                            if r >= n {
                                continue;
                            }
                            up[r] = true;
                            set(&mut cur[r], &mut segs[r], t, State::Backup, None);
                            marks.push(Mark { t, row: *row, crash: false });
                        }
                        FaultAction::Partition(groups) => {
                            let gs: Vec<String> =
                                groups.iter().map(|g| format!("{{{}}}", g.iter().map(|r| id(*r)).collect::<Vec<_>>().join(", "))).collect();
                            events.push(Event {
                                t,
                                label: "partition".into(),
                                title: format!("partition {} at {}", gs.join(" | "), clock.at(t)),
                                kind: EventKind::Network,
                            });
                        }
                        FaultAction::Cut { from, to } => events.push(Event {
                            t,
                            label: format!("cut {} → {}", id(*from), id(*to)),
                            title: format!("one-way cut {} → {} at {}", id(*from), id(*to), clock.at(t)),
                            kind: EventKind::Network,
                        }),
                        FaultAction::Heal => events.push(Event {
                            t,
                            label: "heal".into(),
                            title: format!("partition healed at {}", clock.at(t)),
                            kind: EventKind::Network,
                        }),
                        FaultAction::Rerank(rows) => events.push(Event {
                            t,
                            label: "rerank".into(),
                            title: format!("rerank at {}: {}", clock.at(t), rows.iter().map(|r| id(*r)).collect::<Vec<_>>().join(", ")),
                            kind: EventKind::Network,
                        }),
                    }
                }
                What::Send { id: mid, from, to, msg, arrive } => {
                    if *from as usize >= n || *to as usize >= n {
                        continue;
                    }
                    by_id.insert(*mid, msgs.len());
                    msgs.push(Msg { from: *from, to: *to, msg: *msg, send: t, arrive: arrive.map(|a| a.0), drop: None });
                }
                What::Drop { id: mid, reason, .. } => {
                    if let Some(&i) = by_id.get(mid) {
                        msgs[i].drop = Some((t, *reason));
                    }
                }
                _ => {}
            }
        }
        for (r, c) in cur.iter().enumerate() {
            if until > c.2 || segs[r].is_empty() {
                segs[r].push(Seg { start: c.2, end: until.max(c.2), state: c.0, master: c.1 });
            }
        }
        for (r, o) in open.iter_mut().enumerate() {
            close(o, r as u32, until, &mut countdowns);
        }
        let kinds = if msgs.iter().all(|m| matches!(m.msg, Wire::Stagger(_))) {
            MessageKind::ALL.to_vec()
        } else {
            MessageKind::EVERY.into_iter().filter(|k| msgs.iter().any(|m| m.msg.kind() == *k)).collect()
        };
        Model { segs, countdowns, marks, events, msgs, kinds }
    }
}

// ---------------------------------------------------------------------------
// Layout.

struct Layout {
    w: f64,
    pad: f64,
    from: u64,
    to: u64,
    x0: f64,
    x1: f64,
    lane_h: f64,
    band_h: f64,
    /// Label every `label_every`-th lane.
    label_every: usize,
    label_size: f64,
    /// Whether lanes are tall enough for bracket labels and role names.
    roomy: bool,
}

/// A rough width of `s` in a sans-serif face at `size` px.
fn text_w(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | 't' | 'f' | 'r' | '.' | ',' | ':' | '·' | ' ' | '(' | ')' => 0.36,
            'm' | 'w' | 'M' | 'W' => 0.86,
            c if c.is_ascii_uppercase() => 0.7,
            _ => 0.6,
        })
        .sum::<f64>()
        * size
}

impl Layout {
    fn new(scenario: &Scenario, opts: &SvgOptions, from: u64, to: u64) -> Layout {
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

    fn x(&self, t: u64) -> f64 {
        let span = (self.to - self.from).max(1) as f64;
        self.x0 + (t as f64 - self.from as f64) / span * (self.x1 - self.x0)
    }

    fn px_per_us(&self) -> f64 {
        (self.x1 - self.x0) / (self.to - self.from).max(1) as f64
    }
}

fn lane_label(scenario: &Scenario, index: usize, row: u32) -> String {
    format!("S{index} {}", scenario.ids.get(row as usize).map_or("?", |s| s.as_str()))
}

// ---------------------------------------------------------------------------
// Formatting.

/// A coordinate or length with at most two decimals, no trailing zeros.
fn num(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 || !r.is_finite() {
        return "0".into();
    }
    format!("{r}")
}

/// Escapes text and attribute values.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// Milliseconds without trailing zeros: `50`, `2737.5`.
fn ms(us: u64) -> String {
    num(us as f64 / 1000.0)
}

/// A message as the diagram's tooltips and the event wording name it.
pub(crate) fn msg_text(m: &Wire) -> String {
    match m {
        Wire::Stagger(Message::Inquiry { seq }) => format!("Inquiry{{seq: {seq}}}"),
        Wire::Stagger(Message::InquiryReply { seq }) => format!("InquiryReply{{seq: {seq}}}"),
        Wire::Stagger(Message::DeclareMaster { idx }) => format!("DeclareMaster{{idx: {idx}}}"),
        Wire::Stagger(Message::RevokeMaster { reject, idx }) => format!("RevokeMaster{{reject: {reject}, idx: {idx}}}"),
        Wire::Raft(RaftMsg::PreVoteReply { term, granted } | RaftMsg::Vote { term, granted }) => {
            format!("{}{{term: {term}, granted: {granted}}}", kind_label(m.kind()))
        }
        Wire::Raft(
            RaftMsg::PreVote { term } | RaftMsg::RequestVote { term } | RaftMsg::Heartbeat { term } | RaftMsg::HeartbeatReply { term },
        ) => format!("{}{{term: {term}}}", kind_label(m.kind())),
        Wire::Bully(BullyMsg::Election | BullyMsg::Answer | BullyMsg::Coordinator | BullyMsg::Alive) => kind_label(m.kind()).to_string(),
    }
}

/// `12345` as `12,345`.
fn thousands(v: usize) -> String {
    let digits: Vec<char> = v.to_string().chars().rev().collect();
    let groups: Vec<String> = digits.chunks(3).map(|c| c.iter().rev().collect()).collect();
    groups.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// Tick step in µs: 1, 2 or 5 × 10^k ms, at least 0.01 ms.
fn tick_step(span_us: u64, target: f64) -> u64 {
    let raw = span_us as f64 / 1000.0 / target.max(1.0);
    let pow = 10f64.powf(raw.log10().floor());
    let m = raw / pow;
    let nice = if m < 1.5 {
        1.0
    } else if m < 3.5 {
        2.0
    } else if m < 7.5 {
        5.0
    } else {
        10.0
    };
    ((nice * pow * 1000.0).round() as u64).max(10)
}

macro_rules! w {
    ($s:expr, $($arg:tt)*) => {{
        let _ = write!($s, $($arg)*);
    }};
}

// ---------------------------------------------------------------------------
// Drawing.

struct Doc<'a> {
    s: String,
    scenario: &'a Scenario,
    run: &'a Run,
    model: &'a Model,
    l: &'a Layout,
    has_trace: bool,
    clock: Clock,
}

/// A vertical marker across the lanes, with its label placed in the strip
/// above them.
struct Placed<'a> {
    ev: &'a Event,
    x: f64,
    /// Row, left edge, right edge, anchor end?
    label: Option<(usize, f64, f64, bool)>,
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
        let placed = self.place_markers(&markers);
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
        let mut notes = Vec::new();
        if let Some(nt) = note {
            notes.push(nt);
        }
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

    fn subtitle(&self) -> Vec<String> {
        let sc = self.scenario;
        let p = &sc.params;
        let timer = match p.scheme {
            Scheme::Integral { base } => format!("integral timer, T1 = {} ms", ms(base.0)),
            Scheme::Equal { delay } => format!("equal timer, D = {} ms", ms(delay.0)),
            Scheme::Randomized { min, max } => format!("randomized timer, D ∈ [{}, {}] ms", ms(min.0), ms(max.0)),
        };
        let mut extras = Vec::new();
        if p.guard > Span::ZERO {
            extras.push(format!("guard {} ms", ms(p.guard.0)));
        }
        if p.skip_known_dead {
            extras.push("skip known dead".to_string());
        }
        let pmin = sc.periods.iter().min().map_or(0, |s| s.0);
        let pmax = sc.periods.iter().max().map_or(0, |s| s.0);
        let period = if pmin == pmax { format!("P = {} ms", ms(pmin)) } else { format!("P = {}–{} ms", ms(pmin), ms(pmax)) };
        let phase = if sc.phase == PhaseMode::Asynchronous { ", asynchronous" } else { "" };
        let mut parts = match &sc.algorithm {
            Algorithm::Stagger => vec![
                format!("{} servers", sc.len()),
                if extras.is_empty() { timer } else { format!("{timer} + {}", extras.join(", ")) },
                format!("{period}, τ = {} ms{phase}", ms(p.timeout.0)),
                format!("claim policy {}", p.claim.name()),
            ],
            Algorithm::Raft(r) => {
                let mut raft = format!("Raft, election timeout {}–{} ms", ms(r.election_min.0), ms(r.election_max.0));
                for (on, what) in [(r.prevote, "PreVote"), (r.check_quorum, "CheckQuorum")] {
                    if on {
                        raft += &format!(" + {what}");
                    }
                }
                let beat = r.heartbeat.map_or(period.replace("P = ", ""), |h| format!("{} ms", ms(h.0)));
                vec![format!("{} servers", sc.len()), raft, format!("heartbeat {beat}{phase}")]
            }
            Algorithm::Bully(b) => {
                let beat = b.heartbeat.map_or(period.replace("P = ", ""), |h| format!("{} ms", ms(h.0)));
                vec![
                    format!("{} servers", sc.len()),
                    "Bully".to_string(),
                    format!("Alive every {beat}{phase}, Answer awaited {} ms", ms(b.answer_wait.0)),
                ]
            }
        };
        if sc.jitter > 0.0 || sc.loss > 0.0 {
            parts.push(format!("jitter {}, loss {}", num(sc.jitter), num(sc.loss)));
        }
        match self.clock.now {
            Some(now) => parts.push(format!("window the last {} s", num(now.saturating_sub(self.l.from) as f64 / 1e6))),
            None => parts.push(format!("window {}–{} ms", ms(self.l.from), ms(self.l.to))),
        }
        parts
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
        self.s.push_str("</defs>\n");
    }

    // --- Legend -----------------------------------------------------------

    /// The legend's two groups: messages, then what lanes show.
    fn legend_groups(&self) -> [(&'static str, Vec<(LegendGlyph, &'static str)>); 2] {
        let mut msgs: Vec<(LegendGlyph, &'static str)> =
            self.model.kinds.iter().map(|k| (LegendGlyph::Arrow(*k), kind_label(*k))).collect();
        msgs.push((LegendGlyph::Dropped, "lost / dropped"));
        let mut lanes: Vec<(LegendGlyph, &'static str)> =
            [State::Master, State::Backup, State::Wait, State::Down].iter().map(|s| (LegendGlyph::Band(*s), s.name())).collect();
        if self.scenario.algorithm == Algorithm::Stagger {
            lanes.push((LegendGlyph::Timer, "election timer D"));
        }
        lanes.push((LegendGlyph::Crash, "crash"));
        lanes.push((LegendGlyph::Recover, "recover"));
        [("Messages", msgs), ("Lanes", lanes)]
    }

    /// Legend items flowed into rows: an optional heading, then
    /// (x, glyph, label) per item.
    fn legend_rows(&self) -> Vec<LegendRow> {
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

    fn legend(&mut self, rows: &[LegendRow], y0: f64) {
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
                            s.fill(),
                            s.ink()
                        );
                    }
                    LegendGlyph::Timer => {
                        w!(self.s, "{}", bracket(*x, x + gw, x + gw, cy - 2.0, 6.0));
                    }
                    LegendGlyph::Crash => {
                        w!(self.s, "{}", cross(x + gw / 2.0, cy, 4.5, CRASH, 2.2));
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

    // --- Markers ----------------------------------------------------------

    fn place_markers<'e>(&self, markers: &[(&'e Event, bool)]) -> Vec<Placed<'e>> {
        let l = self.l;
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

    // --- Lanes ------------------------------------------------------------

    fn lane_y(&self, plot_y0: f64, index: usize) -> f64 {
        plot_y0 + (index as f64 + 0.5) * self.l.lane_h
    }

    fn index_of_rows(&self) -> Vec<usize> {
        let mut v = vec![0; self.scenario.len()];
        for (i, r) in self.scenario.ranking.iter().enumerate() {
            if let Some(slot) = v.get_mut(*r as usize) {
                *slot = i;
            }
        }
        v
    }

    fn lanes(&mut self, plot_y0: f64, occ: &[Vec<(f64, f64)>]) {
        let l = self.l;
        let bh = l.band_h;
        self.s.push_str("<g class=\"lanes\" clip-path=\"url(#st-plot)\">\n");
        let mut texts = String::new();
        for (i, &row) in self.scenario.ranking.iter().enumerate() {
            let cy = self.lane_y(plot_y0, i);
            let Some(segs) = self.model.segs.get(row as usize) else { continue };
            for seg in segs {
                if seg.end <= l.from || seg.start >= l.to || seg.state == State::Unknown {
                    continue;
                }
                let xa = l.x(seg.start.max(l.from));
                let xb = l.x(seg.end.min(l.to));
                let width = (xb - xa).max(0.5);
                let what = match (seg.state, seg.master) {
                    (State::Backup, Some(m)) => format!("Backup (master {})", self.id(m)),
                    (State::Backup, None) => "Backup (no master)".to_string(),
                    (s, _) => s.name().to_string(),
                };
                w!(
                    self.s,
                    "<rect class=\"role {}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {} from {} to {}</title></rect>\n",
                    seg.state.name().to_ascii_lowercase(),
                    num(xa),
                    num(cy - bh / 2.0),
                    num(width),
                    num(bh),
                    seg.state.fill(),
                    esc(self.id(row)),
                    esc(&what),
                    self.clock.at(seg.start),
                    self.clock.at(seg.end)
                );
                if l.roomy {
                    let full = match (seg.state, seg.master) {
                        (State::Backup, Some(m)) => format!("Backup · {}", self.id(m)),
                        (State::Backup, None) => "Backup · no master".to_string(),
                        (s, _) => s.name().to_string(),
                    };
                    let short = seg.state.name().to_string();
                    let lane_occ = occ.get(i).map_or(&[][..], |v| v.as_slice());
                    let spot =
                        [full, short].into_iter().find_map(|t| best_spot(lane_occ, xa, xa + width, text_w(&t, 10.0)).map(|c| (t, c)));
                    if let Some((t, c)) = spot {
                        w!(
                            texts,
                            "<text x=\"{}\" y=\"{}\" fill=\"{}\" stroke=\"{}\">{}</text>\n",
                            num(c),
                            num(cy + 3.5),
                            seg.state.ink(),
                            seg.state.flat(),
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

    fn lane_labels(&mut self, plot_y0: f64) {
        let l = self.l;
        w!(self.s, "<g font-size=\"{}\" text-anchor=\"end\">\n", num(l.label_size));
        for (i, &row) in self.scenario.ranking.iter().enumerate() {
            if i % l.label_every != 0 {
                continue;
            }
            let cy = self.lane_y(plot_y0, i);
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

    fn countdowns(&mut self, plot_y0: f64, occ: &mut [Vec<(f64, f64)>]) {
        let l = self.l;
        if l.lane_h < 14.0 {
            return;
        }
        let index = self.index_of_rows();
        let ink = State::Wait.ink();
        let mut body = String::new();
        let tick = if l.roomy { 6.0 } else { 3.0 };
        for c in &self.model.countdowns {
            if c.planned < l.from || c.start > l.to {
                continue;
            }
            let Some(&i) = index.get(c.row as usize) else { continue };
            let cy = self.lane_y(plot_y0, i);
            let y = cy + l.band_h / 2.0 + if l.roomy { 5.0 } else { 2.0 };
            let xa = l.x(c.start);
            let xe = l.x(c.end);
            let xp = l.x(c.planned);
            let fired = c.end >= c.planned;
            let title = if fired {
                format!(
                    "{}: election timer D = {} ms, from {} until it fires at {}",
                    self.id(c.row),
                    ms(c.planned - c.start),
                    self.clock.at(c.start),
                    self.clock.at(c.planned)
                )
            } else {
                format!(
                    "{}: election timer D = {} ms from {}, due {}, cancelled at {}",
                    self.id(c.row),
                    ms(c.planned - c.start),
                    self.clock.at(c.start),
                    self.clock.at(c.planned),
                    self.clock.at(c.end)
                )
            };
            w!(body, "<g class=\"timer\"><title>{}</title>{}", esc(&title), bracket(xa, xe, xp, y, tick));
            let label = format!("D={} ms", ms(c.planned - c.start));
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

    fn marks(&mut self, plot_y0: f64) {
        let l = self.l;
        let index = self.index_of_rows();
        let r = (l.band_h * 0.42).clamp(2.0, 6.5);
        let mut body = String::new();
        for m in &self.model.marks {
            if m.t < l.from || m.t > l.to {
                continue;
            }
            let Some(&i) = index.get(m.row as usize) else { continue };
            let cy = self.lane_y(plot_y0, i);
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

    // --- Arrows -----------------------------------------------------------

    /// The messages to draw, in trace order, and a note on any left out.
    fn pick_arrows(&self) -> (Vec<usize>, Option<String>) {
        let l = self.l;
        let in_window: Vec<usize> =
            self.model.msgs.iter().enumerate().filter(|(_, m)| m.send <= l.to && m.end() >= l.from).map(|(i, _)| i).collect();
        if in_window.len() <= MAX_ARROWS {
            return (in_window, None);
        }
        let total = in_window.len();
        let election: Vec<usize> = in_window.iter().copied().filter(|&i| self.model.msgs[i].msg.is_election()).collect();
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
    fn geom(&self, m: &Msg, index: &[usize], plot_y0: f64) -> Option<(f64, f64, f64, f64)> {
        let l = self.l;
        let (fi, ti) = (*index.get(m.from as usize)?, *index.get(m.to as usize)?);
        let x1 = l.x(m.send);
        let y1 = self.lane_y(plot_y0, fi);
        let y2 = self.lane_y(plot_y0, ti);
        if let Some(a) = m.arrive {
            return Some((x1, y1, l.x(a), y2));
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
    fn occupancy(&self, picked: &[usize], plot_y0: f64, dy0: f64, dy1: f64) -> Vec<Vec<(f64, f64)>> {
        let n = self.scenario.len();
        let mut occ: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
        let index = self.index_of_rows();
        for &i in picked {
            let m = &self.model.msgs[i];
            let Some((x1, y1, x2, y2)) = self.geom(m, &index, plot_y0) else { continue };
            let (ya, yb) = (y1.min(y2), y1.max(y2));
            let lane_a = (((ya - plot_y0) / self.l.lane_h).floor().max(0.0) as usize).min(n.saturating_sub(1));
            let lane_b = (((yb - plot_y0) / self.l.lane_h).floor().max(0.0) as usize).min(n.saturating_sub(1));
            for (j, lane) in occ.iter_mut().enumerate().take(lane_b + 1).skip(lane_a) {
                let cy = self.lane_y(plot_y0, j);
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

    fn arrows(&mut self, picked: &[usize], plot_y0: f64) {
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
                let m = &self.model.msgs[i];
                if m.msg.kind() != k {
                    continue;
                }
                let Some((x1, y1, x2, y2)) = self.geom(m, &index, plot_y0) else { continue };
                let head = format!("{} {} → {}, sent {}", msg_text(&m.msg), self.id(m.from), self.id(m.to), self.clock.at(m.send));
                let line = format!("M{} {}L{} {}", num(x1), num(y1), num(x2), num(y2));
                match (m.arrive, m.drop) {
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

    fn ticks(&self) -> Vec<(f64, String)> {
        let l = self.l;
        let span = l.to - l.from;
        let step = tick_step(span.max(1), (l.x1 - l.x0) / 90.0);
        if let Some(now) = self.clock.now {
            // Whole steps back from now: "−2 s", "−1 s", "now".
            let decimals = match (step % 1_000_000, step % 100_000) {
                (0, _) => 0,
                (_, 0) => 1,
                _ => 2,
            };
            let mut out: Vec<(f64, String)> = (0..=now.saturating_sub(l.from) / step)
                .map(|k| (now - k * step, k))
                .filter(|(t, _)| *t <= l.to)
                .map(|(t, k)| (l.x(t), if k == 0 { "now".to_string() } else { format!("−{:.*} s", decimals, (k * step) as f64 / 1e6) }))
                .collect();
            out.reverse();
            return out;
        }
        let decimals = match (step % 1000, step % 100) {
            (0, _) => 0,
            (_, 0) => 1,
            _ => 2,
        };
        let mut out = Vec::new();
        let mut t = l.from.div_ceil(step) * step;
        while t <= l.to {
            let label = format!("{:.*}", decimals, t as f64 / 1000.0);
            out.push((l.x(t), label));
            t += step;
        }
        out
    }

    fn caption_parts(&self) -> Vec<(String, String)> {
        let m = &self.run.metrics;
        let mut parts: Vec<(String, String)> = Vec::new();
        if m.events == 0 {
            // Not a simulated run (a live group's merged recordings): nothing
            // was measured but who the members agree is master.
            parts.push(("master".into(), m.final_master.clone().unwrap_or_else(|| "none agreed".into())));
            return parts;
        }
        parts.push((m.master_label().into(), m.final_master.clone().unwrap_or_else(|| "none".into())));
        parts.push(("election messages".into(), thousands(m.election_messages as usize)));
        let at = |t: Option<f64>| t.and_then(ms_to_us).map_or("?".into(), |t| Time(t).to_string());
        match m.settled {
            Settled::Stable if m.converged_at_ms.is_some() => parts.push(("converged at".into(), at(m.converged_at_ms))),
            Settled::StillChanging => parts.push(("still changing, last change at".into(), at(m.last_change()))),
            _ => parts.push(("converged".into(), "never".into())),
        }
        parts.push(("split brain".into(), ms_to_us(m.split_brain_ms).map_or("?".into(), |t| Span(t).to_string())));
        if let Some(c) = m.crash_at_ms.and_then(ms_to_us) {
            parts.push(("crash at".into(), Time(c).to_string()));
        }
        if let Some(cut) = m.truncated {
            let at = ms_to_us(cut.at_ms).map_or("?".into(), |t| Time(t).to_string());
            parts.push(("partial run, stopped at its budget at".into(), at));
        }
        parts
    }

    fn caption(&mut self, y: f64, parts: &[(String, String)], lines: &[Vec<usize>], notes_y: f64, notes: &[String]) {
        let l = self.l;
        w!(self.s, "<text class=\"caption\" fill=\"{}\">", MUTED);
        for (i, line) in lines.iter().enumerate() {
            w!(self.s, "<tspan x=\"{}\" y=\"{}\">", num(l.pad), num(y + 18.0 * i as f64));
            for (j, &k) in line.iter().enumerate() {
                if j > 0 {
                    self.s.push_str(SEP);
                }
                let (key, v) = &parts[k];
                w!(self.s, "{} <tspan fill=\"{}\" font-weight=\"600\">{}</tspan>", esc(key), INK, esc(v));
            }
            self.s.push_str("</tspan>");
        }
        self.s.push_str("</text>\n");
        if !notes.is_empty() {
            w!(self.s, "<text class=\"note\" font-size=\"11\" font-style=\"italic\" fill=\"{}\">", MUTED);
            for (i, nt) in notes.iter().enumerate() {
                w!(self.s, "<tspan x=\"{}\" y=\"{}\">{}</tspan>", num(l.pad), num(notes_y + 16.0 * i as f64), esc(nt));
            }
            self.s.push_str("</text>\n");
        }
    }
}

/// The separator between the parts of the subtitle and the caption.
const SEP: &str = "  ·  ";

/// Greedy line breaking of parts `widths` wide: the parts of each line.
fn flow(widths: &[f64], max_w: f64, sep_w: f64) -> Vec<Vec<usize>> {
    let mut lines: Vec<Vec<usize>> = vec![Vec::new()];
    let mut x = 0.0;
    for (i, &w) in widths.iter().enumerate() {
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && x + sep_w + w > max_w {
            lines.push(vec![i]);
            x = w;
        } else {
            if !line.is_empty() {
                x += sep_w;
            }
            line.push(i);
            x += w;
        }
    }
    lines
}

/// Greedy word wrapping.
fn wrap_words(text: &str, max_w: f64, size: f64) -> Vec<String> {
    let words: Vec<&str> = text.split(' ').collect();
    let widths: Vec<f64> = words.iter().map(|w| text_w(w, size)).collect();
    flow(&widths, max_w, text_w(" ", size)).into_iter().map(|line| line.iter().map(|&i| words[i]).collect::<Vec<_>>().join(" ")).collect()
}

/// How much of `[lo, hi]` the intervals cover (overlaps counted twice).
fn overlap(occ: &[(f64, f64)], lo: f64, hi: f64) -> f64 {
    occ.iter().map(|&(a, b)| (hi.min(b) - lo.max(a)).max(0.0)).sum()
}

/// The centre for a label `tw` wide inside `[xa, xb]` that crosses the
/// fewest arrows, the nearest to the middle among equals; `None` when it
/// does not fit.
fn best_spot(occ: &[(f64, f64)], xa: f64, xb: f64, tw: f64) -> Option<f64> {
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

fn reason_text(r: DropReason) -> &'static str {
    match r {
        DropReason::Loss => "lost",
        DropReason::Partition => "partition",
        DropReason::ReceiverDown => "receiver down",
    }
}

/// One row of the legend: its heading, if it starts a group, and each
/// item's x, glyph and label.
type LegendRow = (Option<&'static str>, Vec<(f64, LegendGlyph, &'static str)>);

#[derive(Clone, Copy)]
enum LegendGlyph {
    Arrow(MessageKind),
    Dropped,
    Band(State),
    Timer,
    Crash,
    Recover,
}

impl LegendGlyph {
    fn width(self) -> f64 {
        match self {
            LegendGlyph::Arrow(_) | LegendGlyph::Dropped | LegendGlyph::Timer => 26.0,
            LegendGlyph::Band(_) => 18.0,
            LegendGlyph::Crash | LegendGlyph::Recover => 10.0,
        }
    }
}

/// The path data of a ✕ centred on (x, y).
fn cross_d(x: f64, y: f64, r: f64) -> String {
    format!("M{} {}L{} {}M{} {}L{} {}", num(x - r), num(y - r), num(x + r), num(y + r), num(x - r), num(y + r), num(x + r), num(y - r))
}

/// A ✕ that takes its stroke from the enclosing group.
fn cross_path(x: f64, y: f64, r: f64) -> String {
    format!("<path d=\"{}\"/>", cross_d(x, y, r))
}

/// A stroked ✕.
fn cross(x: f64, y: f64, r: f64, color: &str, width: f64) -> String {
    format!(
        "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linecap=\"round\"/>",
        cross_d(x, y, r),
        color,
        num(width)
    )
}

/// An election-timer bracket: solid from `xa` to `xe`, dotted on to the
/// planned expiry `xp` when cancelled early, with ticks at both ends.
fn bracket(xa: f64, xe: f64, xp: f64, y: f64, tick: f64) -> String {
    let ink = State::Wait.ink();
    let mut s = format!(
        "<path d=\"M{} {}V{}H{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.4\"/>",
        num(xa),
        num(y - tick / 2.0),
        num(y),
        num(xe),
        ink
    );
    if xp > xe + 0.5 {
        let _ = write!(
            s,
            "<path d=\"M{} {}H{}V{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1\" stroke-dasharray=\"2 2\" stroke-opacity=\"0.7\"/>",
            num(xe),
            num(y),
            num(xp),
            num(y - tick / 2.0),
            ink
        );
        let _ = write!(s, "<path d=\"M{} {}v{}\" stroke=\"{}\" stroke-width=\"1.4\"/>", num(xe), num(y - tick / 2.0), num(tick), ink);
    } else {
        let _ = write!(s, "<path d=\"M{} {}V{}\" stroke=\"{}\" stroke-width=\"1.4\"/>", num(xe), num(y), num(y - tick / 2.0), ink);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_at_most_two_decimals() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(2.345678), "2.35");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(thousands(39_601), "39,601");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn a_live_window_draws_only_what_happened_in_it_on_an_axis_relative_to_now() {
        let scenario = Scenario::from_json(include_str!("../../../static/scenarios/patent-5.json")).unwrap();
        // Engine time: µs since the Unix epoch, far past the scenario's `until`.
        let now = 1_800_000_000_000_000u64;
        let ev = |ago: u64, what| crate::sim::TraceEvent { t: Time(now - ago), what };
        let trace = Trace {
            events: vec![
                ev(21_000_000, What::Note { server: 1, note: Note::ElectionDelay { delay: Span(575_000) } }),
                ev(20_000_000, What::Role { server: 1, role: Role::Master, master: None }),
                ev(2_500_000, What::Role { server: 2, role: Role::Backup, master: Some(1) }),
            ],
        };
        let run = Run { metrics: Default::default(), trace: Some(trace), phases: Vec::new() };
        let opts = SvgOptions { from: Some(Time(now - 8_000_000)), to: Some(Time(now)), now: Some(Time(now)), ..Default::default() };
        assert_eq!(window(&scenario, &run, &opts), (Time(now - 8_000_000), Time(now)), "not clamped to `until`");
        let svg = space_time(&scenario, &run, &opts);
        for tick in ["−8 s", "−4 s", "now"] {
            assert!(svg.contains(&format!(">{tick}</text>")), "tick {tick}");
        }
        assert!(svg.contains("wall-clock time (s), relative to now") && svg.contains("window the last 8 s"));
        assert!(!svg.contains("D="), "an election delay long before the window is not drawn");
        assert!(svg.contains("atlanta: Master from before the window to now"), "a role in force at the start is a band from the edge");
        assert!(svg.contains("bangalore: Backup (master atlanta) from −2.50 s to now"));
        assert!(!svg.contains("ottawa: ") && !svg.contains("Backup · ottawa"), "a lane the trace says nothing of is empty");
        // A run still starts in the patent's initial roles.
        let run_svg = space_time(&scenario, &Run { trace: Some(Trace::default()), ..run }, &SvgOptions::default());
        assert!(run_svg.contains("Backup · ottawa") && run_svg.contains("virtual time (ms)"));
    }

    #[test]
    fn tick_steps_are_nice() {
        assert_eq!(tick_step(962_500, 9.0), 100_000);
        assert_eq!(tick_step(12_000_000, 9.0), 1_000_000);
        assert_eq!(tick_step(12_000_000, 5.0), 2_000_000);
        assert_eq!(tick_step(1_000_000, 4.4), 200_000);
        assert_eq!(tick_step(1_000, 9.0), 100);
        assert_eq!(tick_step(1, 9.0), 10);
    }
}
