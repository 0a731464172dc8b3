//! The words around the drawing: the subtitle under the title (the
//! scenario's timer, periods and network), and the caption under the axis
//! (the run's metrics) with any notes.

use super::palette::{INK, MUTED};
use super::text::{esc, ms, num, thousands, SEP};
use super::Doc;
use crate::scenario::PhaseMode;
use crate::sim::Settled;
use crate::time::{ms_to_us, Span, Time};
use crate::{Algorithm, Scheme};
use std::fmt::Write;

impl Doc<'_> {
    pub(super) fn subtitle(&self) -> Vec<String> {
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

    pub(super) fn caption_parts(&self) -> Vec<(String, String)> {
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
        #[cfg(feature = "service")]
        if let Some(svc) = &m.service {
            let mut writes = format!("{} ok", thousands(svc.writes_ok as usize));
            for (n, what) in [(svc.writes_failed, "failed"), (svc.writes_unknown, "unknown")] {
                if n > 0 {
                    writes += &format!(", {} {what}", thousands(n as usize));
                }
            }
            parts.push(("writes".into(), writes));
            if let Some(w) = svc.window {
                let len = w.length_ms.and_then(ms_to_us).map_or("never closed".into(), |t| Span(t).to_string());
                parts.push(("no write completed for".into(), len));
            }
        }
        if let Some(cut) = m.truncated {
            let at = ms_to_us(cut.at_ms).map_or("?".into(), |t| Time(t).to_string());
            parts.push(("partial run, stopped at its budget at".into(), at));
        }
        parts
    }

    pub(super) fn caption(&mut self, y: f64, parts: &[(String, String)], lines: &[Vec<usize>], notes_y: f64, notes: &[String]) {
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
