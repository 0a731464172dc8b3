//! A small SVG line chart: one line per scheme against N, with axes, nice
//! ticks, a legend and a hover guide that reads out every series at the
//! N under the pointer.
//!
//! Hand-drawn SVG rather than a charting library: three short series do not
//! justify the wasm size, and the markup stays inspectable by tests.

use super::ticks;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

const W: f64 = 560.0;
const H: f64 = 290.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 42.0;

/// One line. A point without a value breaks the line.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: &'static str,
    /// Lines are drawn in increasing `dash`: solid (0) first.
    pub dash: u8,
    pub points: Vec<Point>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: Option<f64>,
    pub mark: Mark,
}

/// What a point's value means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark {
    /// A measured value; without one, the run never converged.
    Value,
    /// The run was stopped at its budget: at least `y`, drawn hollow.
    AtLeast,
    /// Not run, because a smaller group already exploded.
    NotRun,
}

/// How values read in the hover box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    Count,
    Ms,
}

impl Unit {
    fn format(self, v: Option<f64>, mark: Mark) -> String {
        let value = |v: f64| match self {
            Unit::Count => thousands(v.round() as u64),
            Unit::Ms => format!("{v:.1} ms"),
        };
        match (mark, v) {
            (Mark::NotRun, _) => "not run".into(),
            (Mark::AtLeast, Some(v)) => format!("≥ {}", value(v)),
            (Mark::AtLeast, None) => "stopped".into(),
            (Mark::Value, None) => "no convergence".into(),
            (Mark::Value, Some(v)) => value(v),
        }
    }
}

/// `25901` → `25,901`.
pub fn thousands(v: u64) -> String {
    let digits: Vec<char> = v.to_string().chars().collect();
    digits.rchunks(3).rev().map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(",")
}

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub title: AttrValue,
    pub y_label: AttrValue,
    pub x_label: AttrValue,
    /// The x axis runs over exactly this range.
    pub x_range: (f64, f64),
    pub series: Rc<Vec<Series>>,
    pub unit: Unit,
    #[prop_or_default]
    pub log_y: bool,
    /// Controls drawn in the chart's header (the log toggle).
    #[prop_or_default]
    pub children: Html,
}

#[function_component(LineChart)]
pub fn line_chart(p: &ChartProps) -> Html {
    let hover = use_state(|| None::<f64>);
    let (x0, x1) = p.x_range;
    let ys = p.series.iter().flat_map(|s| s.points.iter().filter_map(|pt| pt.y));
    let (y_min, y_max) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (y0, y1, y_ticks) = if p.log_y { ticks::log(y_min.min(y_max), y_max) } else { ticks::linear(0.0, y_max, 5) };
    let x_ticks = ticks::ticks_within(x0, x1, ticks::nice_step(x1 - x0, 8));
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let px = move |x: f64| LEFT + ticks::unit(x, x0, x1, false) * pw;
    let py = move |y: f64| TOP + ph - ticks::unit(y, y0, y1, p.log_y) * ph;

    let onmousemove = {
        let hover = hover.clone();
        Callback::from(move |e: MouseEvent| {
            let Some(svg) = e.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
            let r = svg.get_bounding_client_rect();
            if r.width() <= 0.0 {
                return;
            }
            let vx = (e.client_x() as f64 - r.left()) * W / r.width();
            let x = (x0 + (vx - LEFT) / pw * (x1 - x0)).round().clamp(x0, x1);
            if *hover != Some(x) {
                hover.set(Some(x));
            }
        })
    };
    let onmouseleave = {
        let hover = hover.clone();
        Callback::from(move |_| hover.set(None))
    };

    let grid = y_ticks.iter().map(|&t| {
        let y = py(t);
        let major = !p.log_y || (t.log10().fract()).abs() < 1e-9;
        html! {
            <g class={classes!("tick", (!major).then_some("minor"))}>
                <line class="grid" x1={LEFT.to_string()} x2={(W - RIGHT).to_string()} y1={y.to_string()} y2={y.to_string()} />
                <text x={(LEFT - 6.0).to_string()} y={(y + 4.0).to_string()} text-anchor="end">{ticks::label(t, y1)}</text>
            </g>
        }
    });
    let xgrid = x_ticks.iter().map(|&t| {
        let x = px(t);
        html! {
            <g class="tick">
                <line class="axis" x1={x.to_string()} x2={x.to_string()} y1={(TOP + ph).to_string()} y2={(TOP + ph + 4.0).to_string()} />
                <text x={x.to_string()} y={(TOP + ph + 17.0).to_string()} text-anchor="middle">{ticks::label(t, x1)}</text>
            </g>
        }
    });
    // Solid lines first: a dashed or dotted line drawn over a solid one
    // stays visible where two schemes coincide (equal and integral often
    // converge at the same instant; only their message counts differ).
    let mut order: Vec<&Series> = p.series.iter().collect();
    order.sort_by_key(|s| s.dash);
    let lines = order.into_iter().map(|s| {
        let mut d = String::new();
        let mut pen_down = false;
        for pt in &s.points {
            let x = pt.x;
            match pt.y {
                Some(y) => {
                    d.push_str(&format!("{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, px(x), py(y)));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let dots = s.points.iter().filter_map(|pt| pt.y.map(|y| (pt, y))).map(|(pt, y)| {
            let bound = pt.mark == Mark::AtLeast;
            html! {
                <circle class={classes!("dot", bound.then_some("bound"))} cx={format!("{:.1}", px(pt.x))} cy={format!("{:.1}", py(y))}
                    r={if bound { "4" } else { "2.2" }}>
                    <title>{format!("{}, N = {}: {}", s.name, pt.x, p.unit.format(Some(y), pt.mark))}</title>
                </circle>
            }
        });
        html! {
            <g class={classes!("series", format!("scheme-{}", s.name))} data-series={s.name}>
                <path d={d} />
                { for dots }
            </g>
        }
    });
    let guide = (*hover).map(|x| {
        let rows: Vec<(&str, Point)> =
            p.series.iter().filter_map(|s| s.points.iter().find(|pt| pt.x == x).map(|pt| (s.name, *pt))).collect();
        let (bw, bh) = (176.0, 22.0 + 17.0 * rows.len() as f64);
        let gx = px(x);
        let bx = if gx + 12.0 + bw > W - RIGHT { gx - 12.0 - bw } else { gx + 12.0 };
        let marks = rows.iter().filter_map(|(name, pt)| pt.y.map(|y| (name, y))).map(|(name, y)| {
            html! {
                <circle class={classes!("hover-dot", format!("scheme-{name}"))} cx={gx.to_string()} cy={py(y).to_string()} r="4.5" />
            }
        });
        let text = rows.iter().enumerate().map(|(i, (name, pt))| {
            let ty = TOP + 34.0 + 17.0 * i as f64;
            html! {
                <g class={format!("scheme-{name}")}>
                    <rect class="swatch" x={(bx + 9.0).to_string()} y={(ty - 8.0).to_string()} width="9" height="9" rx="2" />
                    <text x={(bx + 24.0).to_string()} y={ty.to_string()}>{*name}</text>
                    <text class="value" x={(bx + bw - 9.0).to_string()} y={ty.to_string()} text-anchor="end">{p.unit.format(pt.y, pt.mark)}</text>
                </g>
            }
        });
        html! {
            <g class="hover" pointer-events="none">
                <line class="guide" x1={gx.to_string()} x2={gx.to_string()} y1={TOP.to_string()} y2={(TOP + ph).to_string()} />
                { for marks }
                <rect class="tip" x={bx.to_string()} y={(TOP + 4.0).to_string()} width={bw.to_string()} height={bh.to_string()} rx="5" />
                <text class="tip-title" x={(bx + 9.0).to_string()} y={(TOP + 18.0).to_string()}>{format!("N = {x}")}</text>
                { for text }
            </g>
        }
    });

    html! {
        <figure class="chart">
            <figcaption>
                <span class="chart-title">{&p.title}</span>
                <span class="legend">
                    { for p.series.iter().map(|s| html! {
                        <span class={classes!("key", format!("scheme-{}", s.name))}><i></i>{s.name}</span>
                    }) }
                </span>
                {p.children.clone()}
            </figcaption>
            <svg viewBox={format!("0 0 {W} {H}")} role="img" aria-label={p.title.clone()} {onmousemove} {onmouseleave}>
                { for grid }
                <line class="axis" x1={LEFT.to_string()} x2={LEFT.to_string()} y1={TOP.to_string()} y2={(TOP + ph).to_string()} />
                <line class="axis" x1={LEFT.to_string()} x2={(W - RIGHT).to_string()} y1={(TOP + ph).to_string()} y2={(TOP + ph).to_string()} />
                { for xgrid }
                <text class="axis-label" x={(LEFT + pw / 2.0).to_string()} y={(H - 6.0).to_string()} text-anchor="middle">{&p.x_label}</text>
                <text class="axis-label" transform={format!("translate(14 {}) rotate(-90)", TOP + ph / 2.0)} text-anchor="middle">{&p.y_label}</text>
                { for lines }
                { for guide }
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(25_901), "25,901");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
