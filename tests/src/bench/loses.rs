//! `stagger-bench loses`: where the staggered timer loses, and what
//! `guard_ms`, `skip_known_dead` and the claim policy buy back
//! (`stagger_core::compare::loses` defines the cases).

use super::progress::ProgressMeter;
use super::BenchError;
use super::{docs, fail};
use stagger_core::compare::loses::{self, Case, Fix, Outcome};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct LosesArgs {
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Seeded trials per case and remedy.
    #[arg(long, default_value_t = 1000)]
    pub trials: usize,
    /// The first trial's seed; trial k uses seed + k.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rewrite the generated section of this Markdown file.
    #[arg(long, value_name = "FILE.md")]
    pub docs: Option<PathBuf>,
}

pub fn run(a: LosesArgs) -> Result<(), BenchError> {
    if a.trials == 0 {
        return Err(BenchError::Usage("--trials must be at least 1".into()));
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let progress = ProgressMeter::start("loses", Case::ALL.len() * Fix::ALL.len() * a.trials);
    let mut out = Vec::new();
    for case in Case::ALL {
        for fix in Fix::ALL {
            progress.label(format!("{} · {}", case.label(), fix.label()));
            out.push(loses::run(case, fix, a.trials, a.seed, threads, &|| progress.tick()));
        }
    }
    progress.finish();
    let md = markdown(&out, a.trials, a.seed);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"servers": loses::N, "outcomes": out})).map_err(|e| fail(e.to_string()))?
        );
    } else {
        println!("{md}");
    }
    if let Some(file) = &a.docs {
        docs::write_section(file, "loses", &md)?;
        eprintln!("updated {}", file.display());
    }
    Ok(())
}

pub fn markdown(out: &[Outcome], trials: usize, seed: u64) -> String {
    let mut s = format!(
        "{} servers, the integral timer (T1 = 10 ms on the LAN, 50 ms on the cities), {trials} seeded trials per row (seeds {seed}–{}). Misestimate cases use P = 1000 ms, τ = 600 ms so that τ outlasts the real round trip and only `δ` is wrong.\n",
        loses::N,
        seed + trials as u64 - 1
    );
    for case in Case::ALL {
        let rows: Vec<&Outcome> = out.iter().filter(|o| o.case == case).collect();
        let Some(first) = rows.first() else { continue };
        let _ = writeln!(s, "\n#### {}\n", case.label());
        if first.moot > 0 {
            let _ = writeln!(
                s,
                "Rows count only trials whose first election chose index 1, so that its crash calls for a second election ({} of {trials} under the baseline).\n",
                first.trials
            );
        }
        s.push_str("| remedy | lowest index wins | split-brain trials (mean ms) | election msgs p50 / p99 | convergence p50 / p99 (ms) | not converged |\n");
        s.push_str("|---|---:|---:|---:|---:|---:|\n");
        for o in rows {
            let pct = |k: usize| format!("{:.1} %", 100.0 * k as f64 / o.trials.max(1) as f64);
            let conv = o.convergence_ms.map_or("–".into(), |c| format!("{:.0} / {:.0}", c.p50, c.p99));
            let name = if o.fix == Fix::Recommended { format!("**{}**", o.fix.label()) } else { o.fix.label() };
            let _ = writeln!(
                s,
                "| {name} | {} | {} ({:.1}) | {:.0} / {:.0} | {conv} | {} |",
                pct(o.lowest_wins),
                pct(o.split_brain_trials),
                o.split_brain_ms.mean,
                o.election_messages.p50,
                o.election_messages.p99,
                o.unconverged
            );
        }
    }
    s
}
