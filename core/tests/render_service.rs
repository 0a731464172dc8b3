//! The replicated service on the SVG space-time diagram: requests,
//! forwards, acks and answers drawn apart from the election's messages,
//! with their legend, the applied indices along the lanes, the failover
//! window in the caption, and the arrow cap (docs/protocol.md KS9).
//!
//! Set `STAGGER_RENDER_OUT=/some/dir` to also write the SVG there.

use stagger_core::render::svg::{space_time, window, SvgOptions, MAX_SERVICE_ARROWS};
use stagger_core::{Scenario, ScenarioFile, Sim, Time};

const SERVICE: &str = include_str!("../../static/scenarios/service-5.json");
const PATENT: &str = include_str!("../../static/scenarios/patent-5.json");

fn count(svg: &str, needle: &str) -> usize {
    svg.matches(needle).count()
}

#[test]
fn the_service_flow_is_drawn_with_its_legend_and_the_window_in_the_caption() {
    let scenario = Scenario::from_json(SERVICE).unwrap();
    let run = Sim::new(&scenario, true).run();
    let svg = space_time(&scenario, &run, &SvgOptions::default());
    if let Ok(dir) = std::env::var("STAGGER_RENDER_OUT") {
        std::fs::write(std::path::Path::new(&dir).join("service-5.svg"), &svg).unwrap();
    }
    for hop in ["request", "forward", "ack", "reply"] {
        assert!(svg.contains(&format!("class=\"svc {hop}")), "no {hop} arrow");
        assert!(svg.contains(&format!("id=\"st-svc-{hop}\"")), "no {hop} arrowhead");
    }
    for label in ["Service", "client request", "forward", "ack", "answer", "applied index"] {
        assert!(svg.contains(&format!(">{label}</text>")), "legend lacks {label}");
    }
    assert!(svg.contains("<g class=\"applied\""));
    assert!(svg.contains("has applied up to index"));
    let w = run.metrics.service.as_ref().unwrap().window.unwrap();
    let len = w.length_ms.unwrap();
    assert!(svg.contains(&format!("no write completed for <tspan fill=\"#1f2328\" font-weight=\"600\">{len:.3} ms</tspan>")), "caption");
    // The window runs on until the writes resumed.
    let (_, to) = window(&scenario, &run, &SvgOptions::default());
    assert!(to.as_ms() > w.first_after_ms.unwrap());
    // The same run draws the same bytes.
    assert_eq!(svg, space_time(&scenario, &Sim::new(&scenario, true).run(), &SvgOptions::default()));
}

#[test]
fn a_run_without_a_service_draws_none_of_it() {
    let scenario = Scenario::from_json(PATENT).unwrap();
    let svg = space_time(&scenario, &Sim::new(&scenario, true).run(), &SvgOptions::default());
    assert_eq!(count(&svg, "svc"), 0);
    assert!(!svg.contains(">Service</text>") && !svg.contains("class=\"applied\""));
    assert!(!svg.contains("no write completed"));
}

#[test]
fn a_dense_load_is_thinned_heartbeats_first_and_says_so() {
    let mut file = ScenarioFile::from_json(SERVICE).unwrap();
    let service = file.service.as_mut().unwrap();
    (service.clients, service.write_every_ms) = (Some(16), Some(1.0));
    file.delays_ms = vec![vec![1.0; 5]; 5];
    for (i, row) in file.delays_ms.iter_mut().enumerate() {
        row[i] = 0.0;
    }
    let scenario = file.validate().unwrap();
    let run = Sim::new(&scenario, true).run();
    let opts = SvgOptions { from: Some(Time::ZERO), to: Some(scenario.until), ..SvgOptions::default() };
    let svg = space_time(&scenario, &run, &opts);
    let drawn = count(&svg, "<path class=\"svc ");
    assert!(drawn <= MAX_SERVICE_ARROWS, "{drawn} drawn");
    assert!(svg.contains("service messages fall in this window"));
    assert_eq!(count(&svg, "class=\"svc beat"), 0, "heartbeats are the first left out");
}
