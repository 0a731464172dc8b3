//! Live results: they update on every edit.

mod delay_table;
mod metrics;
mod winners;

pub use delay_table::DelayTable;
pub use metrics::MetricsStrip;
pub use winners::Winners;

/// Milliseconds with three decimals, or a dash.
pub fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.3}"))
}
