//! The group view: the servers on a ring at the playhead.
//!
//! The space-time diagram answers "when"; this view answers "who, right
//! now": each server coloured by its role at the playhead, the master
//! emphasised, each Backup tied to the master it names, each waiting
//! server ringed by its election countdown, and every message on the wire
//! a dot moving along the chord from sender to receiver.
//!
//! Servers sit at their *initial* rank (S_0 at the top, clockwise) so that
//! nothing jumps when a rerank happens; the label shows the rank in force.
//! Roles are named as the algorithm that ran names them (Raft's leader and
//! followers, with its term), and the legend lists the kinds of message
//! the run sent.
//! Everything is read from the run's [`Playback`] by binary search, and at most
//! [`MAX_DOTS`] dots are drawn, so a storm stays smooth.

use super::{fmt_ms, Shared};
use crate::state::Computed;
use stagger_core::scenario::AlgorithmName;
use stagger_core::timeline::{LaneState, Playback};
use stagger_core::Time;
use std::f64::consts::PI;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct GroupProps {
    pub computed: Shared<Computed>,
    pub timeline: Shared<Playback>,
    pub playhead: Time,
}

/// The most message dots drawn at once; beyond it an even sample is drawn.
pub const MAX_DOTS: usize = 400;
/// Chords and Backup → master ties are drawn only when few enough to read.
const MAX_CHORDS: usize = 120;
const MAX_TIES: usize = 40;

/// The drawing's size: wider than tall, for the labels left and right.
const W: f64 = 420.0;
const H: f64 = 350.0;
const C: (f64, f64) = (210.0, 172.0);
const R: f64 = 124.0;

/// Node radius and what fits in it, by group size.
fn node_radius(n: usize) -> f64 {
    match n {
        0..=8 => 21.0,
        9..=16 => 16.0,
        17..=32 => 9.0,
        _ => (PI * R / n as f64 * 0.75).clamp(1.6, 6.0),
    }
}

/// The CSS class of a node in this state.
fn class(s: LaneState) -> &'static str {
    match s {
        LaneState::Master => "master",
        LaneState::Backup => "backup",
        LaneState::Wait => "wait",
        LaneState::Down => "down",
    }
}

fn num(x: f64) -> String {
    format!("{x:.1}")
}

#[function_component(Group)]
pub fn group(p: &GroupProps) -> Html {
    let tl = &p.timeline;
    let sc = &p.computed.scenario;
    let t = p.playhead;
    let n = tl.len();
    let nr = node_radius(n);
    let labelled = n <= 40;
    // Positions by initial rank, S_0 at 12 o'clock, clockwise.
    let pos: Vec<(f64, f64, f64)> = (0..n)
        .map(|r| {
            let a = -PI / 2.0 + 2.0 * PI * tl.rank(r, Time::ZERO) as f64 / n.max(1) as f64;
            (C.0 + R * a.cos(), C.1 + R * a.sin(), a)
        })
        .collect();
    let states: Vec<_> = (0..n).map(|r| tl.state(r, t)).collect();
    let count = |s: LaneState| states.iter().filter(|x| x.status == s).count();
    let masters: Vec<usize> = (0..n).filter(|r| states[*r].status == LaneState::Master).collect();
    let alg = tl.algorithm;
    let term = tl.term(t);

    // Backups tied to the master they name.
    let ties = (n <= MAX_TIES).then(|| {
        (0..n)
            .filter_map(|r| {
                let m = states[r].master.filter(|_| states[r].status == LaneState::Backup)? as usize;
                let ((x1, y1, _), (x2, y2, _)) = (pos[r], *pos.get(m)?);
                Some(html! { <line class="tie" x1={num(x1)} y1={num(y1)} x2={num(x2)} y2={num(y2)} /> })
            })
            .collect::<Html>()
    });

    // Messages on the wire, as chords and moving dots.
    let flights: Vec<_> = tl.in_flight(t).collect();
    let stride = flights.len().div_ceil(MAX_DOTS).max(1);
    let chords = (flights.len() <= MAX_CHORDS).then(|| {
        flights
            .iter()
            .map(|(f, _)| {
                let ((x1, y1, _), (x2, y2, _)) = (pos[f.from as usize], pos[f.to as usize]);
                html! { <line class={classes!("chord", format!("kind-{}", f.kind().name()))} x1={num(x1)} y1={num(y1)} x2={num(x2)} y2={num(y2)} /> }
            })
            .collect::<Html>()
    });
    let dot_r = if n <= 16 { 4.5 } else { 3.0 };
    let dots: Html = flights
        .iter()
        .step_by(stride)
        .map(|(f, prog)| {
            let ((x1, y1, _), (x2, y2, _)) = (pos[f.from as usize], pos[f.to as usize]);
            let d = ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt().max(1e-6);
            // From rim to rim, so a dot is visible the moment it leaves.
            let edge = (nr / d).min(0.45);
            let u = edge + prog * (1.0 - 2.0 * edge);
            html! {
                <circle class={classes!("dot", format!("kind-{}", f.kind().name()), f.lost().then_some("lost"))}
                    cx={num(x1 + (x2 - x1) * u)} cy={num(y1 + (y2 - y1) * u)} r={num(dot_r)} />
            }
        })
        .collect();

    let nodes: Html = (0..n)
        .map(|r| {
            let s = states[r];
            let (x, y, a) = pos[r];
            let rank = tl.rank(r, t);
            let id = &sc.ids[r];
            let role = s.status.label(alg);
            let about = match (s.status, s.master) {
                (LaneState::Backup, Some(m)) => format!("{id} · S{rank} · {role} of {}", sc.ids[m as usize]),
                (LaneState::Backup, None) if alg == AlgorithmName::Raft => format!("{id} · S{rank} · {role}, no leader known"),
                (LaneState::Backup, None) => format!("{id} · S{rank} · {role}, no master known"),
                (st, _) => format!("{id} · S{rank} · {role}", role = st.label(alg)),
            };
            let ring = tl.countdown(r, t).map(|c| {
                let frac = c.due.0.saturating_sub(t.0) as f64 / (c.due.0 - c.start.0).max(1) as f64;
                let len = 2.0 * PI * (nr + 4.0);
                html! { <circle class="countdown" r={num(nr + 4.0)} transform="rotate(-90)"
                stroke-dasharray={format!("{:.2} {:.2}", len * frac, len)} /> }
            });
            // The label outside the ring: beside the node for a few servers,
            // radial (reading outwards) for many, so neighbours never collide.
            let r_out = nr + if n > 12 { 5.0 } else { 9.0 };
            let (lx, ly) = (r_out * a.cos(), r_out * a.sin());
            let label = if n > 12 {
                let right = a.cos() >= -1e-9;
                let deg = a.to_degrees() + if right { 0.0 } else { 180.0 };
                html! { <text class="label radial" x={num(lx)} y={num(ly)} dy="3.5" text-anchor={if right { "start" } else { "end" }}
                transform={format!("rotate({deg:.1} {} {})", num(lx), num(ly))}>{id}</text> }
            } else {
                let anchor = if a.cos() > 0.3 {
                    "start"
                } else if a.cos() < -0.3 {
                    "end"
                } else {
                    "middle"
                };
                let dy = if a.sin() > 0.5 {
                    10.0
                } else if a.sin() < -0.5 {
                    -2.0
                } else {
                    4.0
                };
                html! { <text class="label" x={num(lx)} y={num(ly + dy)} text-anchor={anchor}>{id}</text> }
            };
            html! {
                <g class={classes!("node", class(s.status))} transform={format!("translate({} {})", num(x), num(y))}
                    data-server={id.clone()} data-status={class(s.status)} data-rank={rank.to_string()}>
                    <title>{about}</title>
                    if s.status == LaneState::Master { <circle class="halo" r={num(nr + 6.0)} /> }
                    <circle class="body" r={num(nr)} />
                    { ring.unwrap_or_default() }
                    if s.status == LaneState::Down && nr >= 6.0 {
                        <path class="cross" d={format!("M{a} {a}L{b} {b}M{a} {b}L{b} {a}", a = num(-nr * 0.45), b = num(nr * 0.45))} />
                    } else if n <= 16 {
                        <text class="rank" y="4">{format!("S{rank}")}</text>
                    }
                    if labelled { {label} }
                </g>
            }
        })
        .collect();

    let head = LaneState::Master.label(alg).to_ascii_lowercase();
    let master = match masters.as_slice() {
        [] => html! { <span class="none">{format!("no {head}")}</span> },
        [m] => html! { <span>{format!("{head} ")}<strong>{&sc.ids[*m]}</strong></span> },
        ms => {
            let named: Vec<&str> = ms.iter().take(4).map(|m| sc.ids[*m].as_str()).collect();
            let rest = if ms.len() > 4 { format!(" and {} more", ms.len() - 4) } else { String::new() };
            html! { <span class="split">{format!("{} {head}s: ", ms.len())}<strong>{named.join(", ")}</strong>{rest}</span> }
        }
    };
    let (waiting, down) = (count(LaneState::Wait), count(LaneState::Down));
    html! {
        <section class="card group-card" aria-label="The group at the playhead">
            <h3>{"Group"}<span class="muted">{format!(" at {}", fmt_ms(t))}</span></h3>
            <p class="group-summary" data-testid="group-summary">
                {master}
                if let Some(term) = term { <span class="term" data-testid="raft-term">{format!(" · term {term}")}</span> }
                if waiting > 0 { <span class="wait">{format!(" · {waiting} {}", if alg == AlgorithmName::Stagger { "waiting" } else { LaneState::Wait.label(alg) })}</span> }
                if down > 0 { <span class="down">{format!(" · {down} down")}</span> }
                <span class="muted">{format!(" · {} in flight", flights.len())}</span>
            </p>
            <svg class="ring" data-testid="group-view" viewBox={format!("0 0 {W} {H}")} role="img"
                aria-label={format!("{n} servers on a ring, {} messages in flight", flights.len())}>
                <circle class="track" cx={num(C.0)} cy={num(C.1)} r={num(R)} />
                { ties.unwrap_or_default() }
                { chords.unwrap_or_default() }
                { nodes }
                { dots }
                if stride > 1 {
                    <text class="sampled" x={num(W / 2.0)} y={num(H - 4.0)} text-anchor="middle">
                        {format!("showing 1 in {stride} of {} copies in flight", flights.len())}
                    </text>
                }
            </svg>
            <div class="group-legend" aria-hidden="true">
                { for [LaneState::Master, LaneState::Backup, LaneState::Wait, LaneState::Down].iter().map(|s| html! {
                    <span class={classes!("role-key", class(*s))}><i />{s.label(alg)}</span>
                }) }
                { for tl.kinds.iter().map(|k| html! {
                    <span class={classes!("kind-key", format!("kind-{}", k.name()))}><i />{k.name()}</span>
                }) }
            </div>
        </section>
    }
}
