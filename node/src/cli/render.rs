//! `stagger render FILE -o OUT.svg`.

use super::{load, write, CliError};
use stagger_core::render::svg::{space_time, SvgOptions};
use stagger_core::time::ms_to_us;
use stagger_core::{Sim, Time};
use std::path::Path;

pub fn run(file: &Path, output: &Path, from_ms: Option<f64>, to_ms: Option<f64>, width: u32) -> Result<(), CliError> {
    let scenario = load(file)?;
    let to_time = |flag: &str, v: Option<f64>| -> Result<Option<Time>, CliError> {
        v.map(|ms| {
            ms_to_us(ms).map(Time).ok_or_else(|| CliError::Usage(format!("{flag} must be a non-negative number of milliseconds, got {ms}")))
        })
        .transpose()
    };
    let from = to_time("--from-ms", from_ms)?;
    let to = to_time("--to-ms", to_ms)?;
    if let (Some(a), Some(b)) = (from, to) {
        if a >= b {
            return Err(CliError::Usage(format!("--from-ms ({}) must be before --to-ms ({})", a.as_ms(), b.as_ms())));
        }
    }
    let run = Sim::new(&scenario, true).run();
    let svg = space_time(&scenario, &run, &SvgOptions { from, to, width, title: None, now: None });
    write(output, &svg)?;
    eprintln!("wrote {}", output.display());
    if let Some(cut) = run.metrics.truncated {
        eprintln!("warning: {}: the diagram shows a partial run: {cut}", file.display());
    }
    Ok(())
}
