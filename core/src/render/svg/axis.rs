//! The time axis: ticks at whole steps of the window's clock, in ms for a
//! run and in seconds back from now for a live window.

use super::Doc;
use crate::render::ticks::{step, StepRounding};

impl Doc<'_> {
    pub(super) fn ticks(&self) -> Vec<(f64, String)> {
        let l = self.l;
        let span = l.to - l.from;
        // About one tick per 90 px, 1, 2 or 5 × 10^k ms, at least 0.01 ms.
        let step_ms = step(span.max(1) as f64 / 1000.0, (l.x1 - l.x0) / 90.0, StepRounding::Nearest);
        let step = ((step_ms * 1000.0).round() as u64).max(10);
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
}
