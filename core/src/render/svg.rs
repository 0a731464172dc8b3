//! The standalone SVG space-time diagram (`stagger render`).

use crate::scenario::Scenario;
use crate::sim::Run;
use crate::time::Time;

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
}

/// Draws `run` (which must carry a trace) as a standalone SVG document.
pub fn space_time(scenario: &Scenario, run: &Run, opts: &SvgOptions) -> String {
    let _ = (scenario, run, opts);
    unimplemented!("the SVG renderer is being written")
}
