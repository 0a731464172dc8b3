//! `stagger bench compare`: the staggered timer's schemes and claim
//! policies, Raft and Bully, on four delay presets at three group sizes,
//! over seeded simulated trials (`stagger_core::compare::matrix` defines
//! the work). Prints a Markdown table (or JSON), writes CSV and SVG plots,
//! and can regenerate its section of `docs/benchmarks.md`.

use super::plot::{Chart, Series};
use super::progress::Progress;
use super::{docs, fail};
use crate::cli::{write, CliError};
use stagger_core::compare::matrix::{self, CellResult, Contender, Preset};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Print one JSON object instead of the Markdown tables.
    #[arg(long)]
    pub json: bool,
    /// Seeded trials per cell.
    #[arg(long, default_value_t = 1000)]
    pub trials: usize,
    /// Group sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "5,50,500")]
    pub sizes: Vec<usize>,
    /// Delay presets: lan, wan, random, adversarial.
    #[arg(long, value_delimiter = ',', default_value = "lan,wan,random,adversarial")]
    pub presets: Vec<String>,
    /// Contenders, e.g. integral-verify,raft,bully (default: all eleven).
    #[arg(long, value_delimiter = ',')]
    pub contenders: Vec<String>,
    /// The first trial's seed; trial k uses seed + k.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Where to write compare.csv and the SVG plots.
    #[arg(long, value_name = "DIR", default_value = "target/stagger-compare")]
    pub out: PathBuf,
    /// Rewrite the generated comparison section of this Markdown file; the
    /// CSV and plots then go to a `compare/` folder next to it.
    #[arg(long, value_name = "FILE.md")]
    pub docs: Option<PathBuf>,
}

pub fn run(a: CompareArgs) -> Result<(), CliError> {
    let presets = a
        .presets
        .iter()
        .map(|p| {
            Preset::parse(p).ok_or_else(|| CliError::Usage(format!("--presets: unknown preset '{p}' (lan, wan, random, adversarial)")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let contenders = if a.contenders.is_empty() {
        Contender::all()
    } else {
        a.contenders
            .iter()
            .map(|c| {
                Contender::parse(c).ok_or_else(|| {
                    let keys: Vec<String> = Contender::all().iter().map(Contender::key).collect();
                    CliError::Usage(format!("--contenders: unknown contender '{c}' ({})", keys.join(", ")))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    if a.trials == 0 || a.sizes.is_empty() || a.sizes.iter().any(|n| *n < 2) {
        return Err(CliError::Usage("--trials must be at least 1 and every size at least 2".into()));
    }
    let threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).max(1);
    let cells = matrix::cells(&presets, &a.sizes, &contenders);
    let started = std::time::Instant::now();
    let progress = Progress::start("compare", cells.len() * a.trials);
    let mut results = Vec::with_capacity(cells.len());
    for cell in &cells {
        progress.label(format!("{} n={} {}", cell.preset.name(), cell.n, cell.contender.label()));
        results.push(matrix::run_cell(*cell, a.trials, a.seed, threads, &|| progress.tick()));
    }
    progress.finish();
    let secs = started.elapsed().as_secs_f64();

    let out_dir = match &a.docs {
        Some(md) => md.parent().unwrap_or(Path::new(".")).join("compare"),
        None => a.out.clone(),
    };
    write(&out_dir.join("compare.csv"), &csv(&results))?;
    let mut plots = Vec::new();
    for &p in &presets {
        let mine: Vec<&CellResult> = results.iter().filter(|r| r.cell.preset == p).collect();
        for (what, chart) in charts(p, &mine) {
            let name = format!("{}-{what}.svg", p.name());
            write(&out_dir.join(&name), &chart.svg())?;
            plots.push((p, what, name));
        }
    }
    let md = markdown(&results, &presets, &a, threads, secs, &plots);
    if a.json {
        let v = serde_json::json!({"trials": a.trials, "seed": a.seed, "seconds": secs, "cells": results});
        println!("{}", serde_json::to_string_pretty(&v).map_err(|e| fail(e.to_string()))?);
    } else {
        println!("{md}");
    }
    if let Some(file) = &a.docs {
        docs::write_section(file, "compare", &md)?;
        eprintln!("updated {} and {}/", file.display(), out_dir.display());
    } else {
        eprintln!("wrote {}/compare.csv and {} plots", out_dir.display(), plots.len());
    }
    Ok(())
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn count(v: f64) -> String {
    let digits = (v as u64).to_string().into_bytes();
    let head = digits.len() % 3;
    let mut groups: Vec<&[u8]> = Vec::new();
    if head > 0 {
        groups.push(&digits[..head]);
    }
    groups.extend(digits[head..].chunks(3));
    groups.iter().map(|g| String::from_utf8_lossy(g)).collect::<Vec<_>>().join(",")
}

fn pct(k: usize, n: usize) -> String {
    format!("{:.1} %", 100.0 * k as f64 / n.max(1) as f64)
}

pub fn markdown(
    results: &[CellResult],
    presets: &[Preset],
    a: &CompareArgs,
    threads: usize,
    secs: f64,
    plots: &[(Preset, &str, String)],
) -> String {
    let mut s = String::new();
    let trials = results.first().map_or(0, |r| r.trials);
    let _ = writeln!(
        s,
        "{trials} seeded trials per row (seeds {}–{}), {} rows, {:.0} s on {threads} threads. Each trial: a stable group led by index 0, asynchronous detection (phases from the seed), index 0 crashed at a uniformly random moment of its third period, run for 10 × (P + τ) after the crash. Raft and Bully spend the same detection budget (heartbeat every P, silence limit from P + τ). A trial stops when its election messages pass 2·N² (at least 2,000): *capped*, counted as not converged.\n",
        a.seed,
        a.seed + trials as u64 - 1,
        results.len(),
        secs
    );
    s.push_str("Columns: election messages (Declare/Revoke, or RequestVote/Vote/PreVote, or Election/Answer/Coordinator) sent from the crash on; time from the crash until exactly one live master that every other live server follows; split-brain, the mean time with two or more live masters and in how many trials it happened; how often the winner was index 1, the best survivor; the physical floor, the first survivor's detection plus the largest one-way delay from the winner; trials that never converged (of which capped).\n");
    for &p in presets {
        let _ = writeln!(s, "\n#### {} — {}\n", p.name(), p.describe());
        s.push_str("| N | contender | election msgs p50 / p99 | convergence p50 / p99 / max (ms) | split-brain mean (trials) | lowest index wins | floor p50 (ms) | not converged (capped) |\n");
        s.push_str("|---:|---|---:|---:|---:|---:|---:|---:|\n");
        for r in results.iter().filter(|r| r.cell.preset == p) {
            let conv = r.convergence_ms.map_or("–".to_string(), |c| format!("{} / {} / {}", ms(c.p50), ms(c.p99), ms(c.max)));
            let floor = r.floor_ms.map_or("–".to_string(), |f| ms(f.p50));
            let _ = writeln!(
                s,
                "| {} | {} | {} / {} | {} | {} ms ({}) | {} | {} | {} ({}) |",
                r.cell.n,
                r.cell.contender.label(),
                count(r.election_messages.p50),
                count(r.election_messages.p99),
                conv,
                ms(r.split_brain_ms.mean),
                r.split_brain_trials,
                pct(r.lowest_wins, r.trials),
                floor,
                r.unconverged,
                r.capped
            );
        }
        for (_, what, name) in plots.iter().filter(|(q, _, _)| *q == p) {
            let _ = writeln!(s, "\n![{} {what}](compare/{name})", p.name());
        }
    }
    s
}

pub fn csv(results: &[CellResult]) -> String {
    let mut s = String::from(
        "preset,n,contender,trials,election_messages_p50,election_messages_p99,convergence_p50_ms,convergence_p99_ms,convergence_max_ms,not_converged,capped,split_brain_mean_ms,split_brain_trials,lowest_index_wins,floor_p50_ms\n",
    );
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    for r in results {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{:.3},{},{},{}",
            r.cell.preset.name(),
            r.cell.n,
            r.cell.contender.key(),
            r.trials,
            r.election_messages.p50,
            r.election_messages.p99,
            opt(r.convergence_ms.map(|c| c.p50)),
            opt(r.convergence_ms.map(|c| c.p99)),
            opt(r.convergence_ms.map(|c| c.max)),
            r.unconverged,
            r.capped,
            r.split_brain_ms.mean,
            r.split_brain_trials,
            r.lowest_wins,
            opt(r.floor_ms.map(|f| f.p50)),
        );
    }
    s
}

/// Convergence (p50) and election messages (p50) against N, one line per
/// contender.
fn charts(p: Preset, results: &[&CellResult]) -> Vec<(&'static str, Chart)> {
    let mut contenders: Vec<Contender> = Vec::new();
    for r in results {
        if !contenders.contains(&r.cell.contender) {
            contenders.push(r.cell.contender);
        }
    }
    let series = |f: &dyn Fn(&CellResult) -> Option<f64>| -> Vec<Series> {
        contenders
            .iter()
            .map(|c| Series {
                name: c.label(),
                points: results.iter().filter(|r| r.cell.contender == *c).filter_map(|r| f(r).map(|y| (r.cell.n as f64, y))).collect(),
                dashed: !matches!(c, Contender::Stagger { .. }),
            })
            .collect()
    };
    vec![
        (
            "convergence",
            Chart {
                title: format!("{}: crash to convergence, median", p.name()),
                x_label: "servers (log scale)".into(),
                y_label: "ms".into(),
                x_log: true,
                y_log: false,
                series: series(&|r| r.convergence_ms.map(|c| c.p50)),
            },
        ),
        (
            "messages",
            Chart {
                title: format!("{}: election messages, median", p.name()),
                x_label: "servers (log scale)".into(),
                y_label: "messages (log scale)".into(),
                x_log: true,
                y_log: true,
                series: series(&|r| Some(r.election_messages.p50)),
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> CompareArgs {
        CompareArgs {
            json: false,
            trials: 4,
            sizes: vec![5],
            presets: vec!["lan".into()],
            contenders: vec![],
            seed: 1,
            threads: Some(1),
            out: PathBuf::new(),
            docs: None,
        }
    }

    #[test]
    fn the_table_and_csv_have_a_row_per_cell() {
        let cells = matrix::cells(&[Preset::Lan], &[5], &[Contender::Raft, Contender::Bully]);
        let results: Vec<CellResult> = cells.iter().map(|c| matrix::run_cell(*c, 4, 1, 1, &|| {})).collect();
        let md = markdown(&results, &[Preset::Lan], &args(), 1, 0.1, &[]);
        assert!(md.contains("| 5 | Raft |") && md.contains("| 5 | Bully |"), "{md}");
        assert!(md.contains("Bully | 20 / 20 |"), "a 5-server Bully election costs 20 messages: {md}");
        let csv = csv(&results);
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.lines().nth(2).unwrap().starts_with("lan,5,bully,4,20,20,"), "{csv}");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(count(1_000_495.0), "1,000,495");
        assert_eq!(count(20.0), "20");
        assert_eq!(pct(1, 3), "33.3 %");
    }
}
