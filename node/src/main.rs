//! The `stagger` binary: argument parsing only; the work lives in the
//! library so tests can call it directly.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = stagger_node::cli::Cli::parse();
    match stagger_node::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
