//! The small shapes the diagram repeats: the ✕ of a crash or a lost copy,
//! and the bracket of an election timer.

use super::palette::ink;
use super::text::num;
use crate::timeline::LaneState;
use std::fmt::Write;

/// The path data of a ✕ centred on (x, y).
fn cross_d(x: f64, y: f64, r: f64) -> String {
    format!("M{} {}L{} {}M{} {}L{} {}", num(x - r), num(y - r), num(x + r), num(y + r), num(x - r), num(y + r), num(x + r), num(y - r))
}

/// A ✕ that takes its stroke from the enclosing group.
pub(super) fn cross_path(x: f64, y: f64, r: f64) -> String {
    format!("<path d=\"{}\"/>", cross_d(x, y, r))
}

/// A stroked ✕.
pub(super) fn cross(x: f64, y: f64, r: f64, color: &str, width: f64) -> String {
    format!(
        "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linecap=\"round\"/>",
        cross_d(x, y, r),
        color,
        num(width)
    )
}

/// An election-timer bracket: solid from `xa` to `xe`, dotted on to the
/// planned expiry `xp` when cancelled early, with ticks at both ends.
pub(super) fn bracket(xa: f64, xe: f64, xp: f64, y: f64, tick: f64) -> String {
    let ink = ink(LaneState::Wait);
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
