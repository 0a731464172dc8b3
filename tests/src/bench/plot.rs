//! Small standalone SVG line charts for the simulated benchmarks: several
//! named series over linear or logarithmic axes, with a legend. No
//! scripts, no fonts beyond the system's, so the files render on GitHub and
//! in any browser.

use stagger_core::render::ticks;
use std::fmt::Write;

/// Colour-blind-safe (Okabe–Ito, then greys), in series order.
const COLORS: [&str; 11] =
    ["#0072b2", "#56b4e9", "#009e73", "#e69f00", "#d55e00", "#cc79a7", "#997700", "#000000", "#666666", "#999999", "#332288"];

pub struct PlotSeries {
    pub name: String,
    /// `(x, y)`; points with a non-positive coordinate on a log axis are
    /// skipped.
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    pub series: Vec<PlotSeries>,
}

const W: f64 = 720.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 220.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// An axis covering `[lo, hi]` and its ticks: whole decades on a log
/// scale, 1–2–5 steps rounded out on a linear one (the playground's charts
/// use the same).
fn axis(lo: f64, hi: f64, log: bool) -> (f64, f64, Vec<f64>) {
    if log {
        ticks::log(lo, hi)
    } else {
        ticks::linear(lo, hi, 5)
    }
}

impl Chart {
    pub fn svg(&self) -> String {
        let ok = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
        let pts: Vec<(f64, f64)> =
            self.series.iter().flat_map(|s| s.points.iter().copied()).filter(|(x, y)| ok(*x, self.x_log) && ok(*y, self.y_log)).collect();
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" font-family=\"system-ui, sans-serif\" font-size=\"12\">\n<rect width=\"{W}\" height=\"{H}\" fill=\"#fff\"/>\n<text x=\"{LEFT}\" y=\"24\" font-size=\"15\" font-weight=\"600\">{}</text>\n",
            esc(&self.title)
        );
        if pts.is_empty() {
            let _ = write!(out, "<text x=\"{LEFT}\" y=\"{}\">no data</text>\n</svg>\n", H / 2.0);
            return out;
        }
        let fold = |f: fn(f64, f64) -> f64, init: f64, sel: fn(&(f64, f64)) -> f64| pts.iter().map(sel).fold(init, f);
        let (x0, x1, xt) = axis(fold(f64::min, f64::INFINITY, |p| p.0), fold(f64::max, f64::NEG_INFINITY, |p| p.0), self.x_log);
        let y_min = fold(f64::min, f64::INFINITY, |p| p.1);
        let (y0, y1, yt) = axis(if self.y_log { y_min } else { y_min.min(0.0) }, fold(f64::max, f64::NEG_INFINITY, |p| p.1), self.y_log);
        let px = |x: f64| LEFT + ticks::unit(x, x0, x1, self.x_log) * (W - LEFT - RIGHT);
        let py = |y: f64| H - BOTTOM - ticks::unit(y, y0, y1, self.y_log) * (H - TOP - BOTTOM);
        // Grid and axes.
        for &t in yt.iter().filter(|t| **t >= y0 && **t <= y1) {
            let y = py(t);
            let _ = writeln!(
                out,
                "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e6ea\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#444\">{}</text>",
                W - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                ticks::label(t, y1)
            );
        }
        for &t in xt.iter().filter(|t| **t >= x0 && **t <= x1) {
            let x = px(t);
            let _ = writeln!(
                out,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#eef0f2\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444\">{}</text>",
                H - BOTTOM,
                H - BOTTOM + 16.0,
                ticks::label(t, x1)
            );
        }
        let _ = write!(
            out,
            "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#888\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n<text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
            W - LEFT - RIGHT,
            H - TOP - BOTTOM,
            LEFT + (W - LEFT - RIGHT) / 2.0,
            H - 12.0,
            esc(&self.x_label),
            TOP + (H - TOP - BOTTOM) / 2.0,
            esc(&self.y_label)
        );
        // PlotSeries and legend.
        for (i, s) in self.series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let dash = if s.dashed { " stroke-dasharray=\"5 3\"" } else { "" };
            let p: Vec<String> = s
                .points
                .iter()
                .filter(|(x, y)| ok(*x, self.x_log) && ok(*y, self.y_log))
                .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
                .collect();
            if !p.is_empty() {
                let _ = writeln!(
                    out,
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.8\"{dash}><title>{}</title></polyline>",
                    p.join(" "),
                    esc(&s.name)
                );
                if p.len() <= 12 {
                    for q in &p {
                        let (x, y) = q.split_once(',').unwrap_or(("0", "0"));
                        let _ = writeln!(out, "<circle cx=\"{x}\" cy=\"{y}\" r=\"2.6\" fill=\"{color}\"/>");
                    }
                }
            }
            let ly = TOP + 8.0 + i as f64 * 17.0;
            let lx = W - RIGHT + 14.0;
            let _ = writeln!(
                out,
                "<line x1=\"{lx}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                lx + 22.0,
                lx + 28.0,
                ly + 4.0,
                esc(&s.name)
            );
        }
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_draws_every_series_and_skips_what_a_log_axis_cannot_show() {
        let c = Chart {
            title: "t <1>".into(),
            x_label: "N".into(),
            y_label: "ms".into(),
            x_log: true,
            y_log: true,
            series: vec![
                PlotSeries { name: "a".into(), points: vec![(5.0, 10.0), (50.0, 100.0), (500.0, 0.0)], dashed: false },
                PlotSeries { name: "b".into(), points: vec![(5.0, 20.0)], dashed: true },
            ],
        };
        let svg = c.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("t &lt;1&gt;"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        // The zero was dropped: series a has two points.
        let a = svg.split("<polyline points=\"").nth(1).unwrap();
        assert_eq!(a.split('"').next().unwrap().split(' ').count(), 2);
    }

    #[test]
    fn ticks_are_round_numbers_covering_the_range() {
        assert_eq!(axis(5.0, 500.0, true).2, vec![1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(axis(0.0, 430.0, false).2, vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0]);
        let empty = Chart { title: "e".into(), x_label: "".into(), y_label: "".into(), x_log: false, y_log: false, series: vec![] };
        assert!(empty.svg().contains("no data"));
    }
}
