//! Where the lanes lie inside the core-rendered SVG.
//!
//! [`Plot`](stagger_core::render::svg::Plot) gives the horizontal geometry
//! of the time axis, but not the vertical extent of the lanes, and the
//! playback cursor should run down the lanes only, not through the title
//! and legend. The renderer clips everything it draws in the lanes to
//! `<clipPath id="st-plot"><rect …/>`, and the drawing's size is its
//! `viewBox`, so both are read back from the markup once per run. Should
//! the renderer ever change, the cursor falls back to the whole height.
//!
//! Lanes are equal slices of the clipped band in initial rank order (the
//! renderer adds a small margin under the last one: 6 units when lanes are
//! 30 or more tall, else 1), which places a countdown on its own lane. The
//! tests pin this against the renderer.

/// The drawing's size and the lanes' vertical extent, in SVG units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaneGeometry {
    pub width: f64,
    pub height: f64,
    pub lanes_top: f64,
    pub lanes_bottom: f64,
    /// The height of one lane.
    pub lane_h: f64,
}

impl LaneGeometry {
    /// Reads the frame of a drawing of `n` lanes.
    pub fn of(svg: &str, n: usize) -> LaneGeometry {
        let head = &svg[..svg.find('>').unwrap_or(svg.len())];
        let vb: Vec<f64> = attr(head, "viewBox").map(|v| v.split_whitespace().filter_map(|x| x.parse().ok()).collect()).unwrap_or_default();
        let (width, height) = match vb.as_slice() {
            [_, _, w, h] if *w > 0.0 && *h > 0.0 => (*w, *h),
            _ => (960.0, 600.0),
        };
        let clip = svg.find("id=\"st-plot\"").and_then(|i| {
            let rest = &svg[i..];
            let rect = &rest[rest.find("<rect")?..];
            let rect = &rect[..rect.find('>')?];
            let y: f64 = attr(rect, "y")?.parse().ok()?;
            let h: f64 = attr(rect, "height")?.parse().ok()?;
            Some((y, y + h))
        });
        let (lanes_top, lanes_bottom) = clip.unwrap_or((0.0, height));
        // The clip rect reaches 2 units past the lanes at either end.
        let inner = (lanes_bottom - lanes_top - 4.0).max(0.0);
        let n = n.max(1) as f64;
        let lane_h = if (inner - 6.0) / n >= 30.0 { (inner - 6.0) / n } else { (inner - 1.0).max(0.0) / n };
        LaneGeometry { width, height, lanes_top, lanes_bottom, lane_h }
    }

    /// Whether lanes are tall enough to carry a label each.
    pub fn roomy(&self) -> bool {
        self.lane_h >= 30.0
    }

    /// The centre of the lane at initial rank `index`, as a percentage of
    /// the drawing's height.
    pub fn lane_center_pct(&self, index: usize) -> f64 {
        100.0 * (self.lanes_top + 2.0 + (index as f64 + 0.5) * self.lane_h) / self.height
    }

    /// The lanes' top edge as a percentage of the drawing's height.
    pub fn top_pct(&self) -> f64 {
        100.0 * self.lanes_top / self.height
    }

    /// The lanes' height as a percentage of the drawing's height.
    pub fn height_pct(&self) -> f64 {
        100.0 * (self.lanes_bottom - self.lanes_top) / self.height
    }

    /// Whether a vertical fraction of the drawing (0 = top) falls on the
    /// lanes or the time axis just under them, where a click seeks.
    pub fn seeks_at(&self, fy: f64) -> bool {
        let y = fy * self.height;
        y >= self.lanes_top - 4.0 && y <= self.lanes_bottom + 34.0
    }
}

/// The value of ` name="…"` in a tag's text.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn reads_the_renderer_output() {
        let s = crate::presets::default_file().validate().unwrap();
        let run = stagger_core::Sim::new(&s, true).run();
        let svg = stagger_core::render::svg::space_time(&s, &run, &Default::default());
        let f = LaneGeometry::of(&svg, s.len());
        assert_eq!(f.width, 960.0);
        assert!(f.lanes_top > 40.0 && f.lanes_bottom < f.height, "{f:?}");
        assert!(f.roomy() && (f.lane_h - 52.0).abs() < 1e-9, "{f:?}");
        // The first lane's label sits on the lane's centre line.
        let label = &svg[svg.find("class=\"lane-label\"").unwrap()..];
        let y: f64 = attr(label, "y").unwrap().parse().unwrap();
        let centre = f.lane_center_pct(0) * f.height / 100.0;
        assert!(y > centre && y < centre + 6.0, "label at {y}, centre at {centre}");
    }

    #[test]
    fn finds_thin_lanes() {
        // 40 lanes of 24: the clip spans 40 × 24 + 1, plus 2 at either end.
        let svg = "<svg viewBox=\"0 0 960 1200\"><clipPath id=\"st-plot\"><rect x=\"1\" y=\"100\" width=\"9\" height=\"965\"/>";
        let f = LaneGeometry::of(svg, 40);
        assert!(!f.roomy() && (f.lane_h - 24.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn falls_back_on_unknown_markup() {
        let f = LaneGeometry::of("<svg>", 3);
        assert_eq!((f.lanes_top, f.lanes_bottom), (0.0, f.height));
    }
}
