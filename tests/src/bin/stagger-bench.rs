//! `stagger-bench`: the benchmarks of docs/benchmarks.md. The live ones
//! start the `stagger` binary found next to this one (build both with
//! `cargo build --release`), or the one `--stagger` names.

use clap::Parser;
use stagger_tests::bench::{run, BenchCommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Measure stagger: live groups of `stagger node` processes on 127.0.0.1
/// (failover time, idle CPU and memory, how many nodes one machine holds,
/// failover against etcd, the name server), the simulator's speed natively and in the
/// browser, and the simulated comparisons.
#[derive(Parser, Debug)]
#[command(name = "stagger-bench", version)]
struct Cli {
    /// The `stagger` binary to run (default: the one next to this
    /// executable, e.g. target/release/stagger).
    #[arg(long, global = true, value_name = "PATH")]
    stagger: Option<PathBuf>,
    #[command(subcommand)]
    what: BenchCommand,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.what, cli.stagger.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stagger-bench: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
