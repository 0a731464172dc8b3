//! `stagger-bench compare`: the staggered timer's schemes and claim
//! policies, Raft and Bully, on four delay presets at three group sizes,
//! over seeded simulated trials (`stagger_core::compare::matrix` defines
//! the work). Prints a Markdown table (or JSON), writes CSV and SVG plots,
//! and can regenerate its section of `docs/benchmarks.md`.

use super::plot::{Chart, PlotSeries};
use super::progress::ProgressMeter;
use super::{docs, fail};
use super::{write, BenchError};
use stagger_core::compare::matrix::{self, CellResult, Contender, Preset};
use stagger_core::compare::stats::Summary;
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
    /// Contenders, e.g. integral-guard,raft,bully (default: all twelve).
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
    /// Keep the rows of the compare.csv already in the output folder for
    /// the cells this run does not measure, so that `--contenders` reruns
    /// only some rows of a full run (same trials and seed). The JSON holds
    /// only the rows measured now.
    #[arg(long)]
    pub merge: bool,
}

pub fn run(a: CompareArgs) -> Result<(), BenchError> {
    let presets = a
        .presets
        .iter()
        .map(|p| {
            Preset::parse(p).ok_or_else(|| BenchError::Usage(format!("--presets: unknown preset '{p}' (lan, wan, random, adversarial)")))
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
                    BenchError::Usage(format!("--contenders: unknown contender '{c}' ({})", keys.join(", ")))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    if a.trials == 0 || a.sizes.is_empty() || a.sizes.iter().any(|n| *n < 2) {
        return Err(BenchError::Usage("--trials must be at least 1 and every size at least 2".into()));
    }
    let threads = a.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).max(1);
    let cells = matrix::cells(&presets, &a.sizes, &contenders);
    let load = super::machine::loadavg();
    let started = std::time::Instant::now();
    let progress = ProgressMeter::start("compare", cells.len() * a.trials);
    let mut results = Vec::with_capacity(cells.len());
    for cell in &cells {
        progress.label(format!("{} n={} {}", cell.preset.name(), cell.n, cell.contender.label()));
        results.push(matrix::run_cell(*cell, a.trials, a.seed, threads, &|| progress.tick()));
    }
    progress.finish();
    let run = Measured { rows: results.len(), secs: started.elapsed().as_secs_f64(), threads, load, merged: 0 };

    let out_dir = match &a.docs {
        Some(md) => md.parent().unwrap_or(Path::new(".")).join("compare"),
        None => a.out.clone(),
    };
    let csv_path = out_dir.join("compare.csv");
    let (table, presets, run) = if a.merge {
        let old = std::fs::read_to_string(&csv_path).map_err(|source| BenchError::Io { path: csv_path.display().to_string(), source })?;
        let old = parse_csv(&old).map_err(|e| fail(format!("{}: {e}", csv_path.display())))?;
        if let Some(r) = old.iter().find(|r| r.trials != a.trials) {
            return Err(BenchError::Usage(format!(
                "--merge: {} has {} trials per row, this run {}; rerun with --trials {}",
                csv_path.display(),
                r.trials,
                a.trials,
                r.trials
            )));
        }
        let table = merge(old, &results);
        let presets: Vec<Preset> = Preset::ALL.into_iter().filter(|p| table.iter().any(|r| r.cell.preset == *p)).collect();
        let merged = table.len() - results.len();
        (table, presets, Measured { merged, ..run })
    } else {
        (results.clone(), presets, run)
    };
    write(&csv_path, &csv(&table))?;
    let mut plots = Vec::new();
    for &p in &presets {
        let mine: Vec<&CellResult> = table.iter().filter(|r| r.cell.preset == p).collect();
        for (what, chart) in charts(p, &mine) {
            let name = format!("{}-{what}.svg", p.name());
            write(&out_dir.join(&name), &chart.svg())?;
            plots.push((p, what, name));
        }
    }
    let md = markdown(&table, &presets, &a, &run, &plots);
    let secs = run.secs;
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

/// How the rows were measured: this run's share, its time, threads and
/// the machine's load when it started, and how many rows came from an
/// earlier run's CSV.
pub struct Measured {
    pub rows: usize,
    pub secs: f64,
    pub threads: usize,
    /// The load average (1, 5, 15 min) at the start.
    pub load: Option<[f64; 3]>,
    pub merged: usize,
}

pub fn markdown(results: &[CellResult], presets: &[Preset], a: &CompareArgs, run: &Measured, plots: &[(Preset, &str, String)]) -> String {
    let mut s = String::new();
    let trials = results.first().map_or(0, |r| r.trials);
    let load = run.load.map_or(String::new(), |l| format!(", load average {:.2} {:.2} {:.2} at the start", l[0], l[1], l[2]));
    let timing = if run.merged == 0 {
        format!("{} rows, {:.0} s on {} threads{load}", run.rows, run.secs, run.threads)
    } else {
        format!(
            "{} rows: {} measured in {:.0} s on {} threads{load}, merged into {} rows of an earlier run (its compare.csv)",
            run.rows + run.merged,
            run.rows,
            run.secs,
            run.threads,
            run.merged
        )
    };
    let _ = writeln!(
        s,
        "{trials} seeded trials per row (seeds {}–{}), {timing}. Each trial: a stable group led by index 0, asynchronous detection (phases from the seed), index 0 crashed at a uniformly random moment of its third period, run for 10 × (P + τ) after the crash. Raft and Bully spend the same detection budget (heartbeat every P, silence limit from P + τ). A trial stops when its election messages pass 2·N² (at least 2,000): *capped*, counted as not converged. The row in bold is the configuration docs/benchmarks.md recommends (integral timer, `verify`, `guard_ms` = P, `skip_known_dead`); the others use SPEC §7's defaults.\n",
        a.seed,
        a.seed + trials as u64 - 1,
    );
    s.push_str("Columns: election messages (Declare/Revoke, or RequestVote/Vote/PreVote, or Election/Answer/Coordinator) sent from the crash on; time from the crash until exactly one live master that every other live server follows; split-brain, the mean time with two or more live masters and in how many trials it happened; how often the winner was index 1, the best survivor; the physical floor, the first survivor's detection plus the largest one-way delay from the winner; trials that never converged (of which capped).\n");
    for &p in presets {
        let _ = writeln!(s, "\n#### {} — {}\n", p.name(), p.describe());
        s.push_str("| N | contender | election msgs p50 / p99 | convergence p50 / p99 / max (ms) | split-brain mean (trials) | lowest index wins | floor p50 (ms) | not converged (capped) |\n");
        s.push_str("|---:|---|---:|---:|---:|---:|---:|---:|\n");
        for r in results.iter().filter(|r| r.cell.preset == p) {
            let conv = r.convergence_ms.map_or("–".to_string(), |c| format!("{} / {} / {}", ms(c.p50), ms(c.p99), ms(c.max)));
            let floor = r.floor_ms.map_or("–".to_string(), |f| ms(f.p50));
            let label = match r.cell.contender {
                Contender::Recommended => format!("**{}**", r.cell.contender.label()),
                c => c.label(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} / {} | {} | {} ms ({}) | {} | {} | {} ({}) |",
                r.cell.n,
                label,
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

/// The rows of a compare.csv written by [`csv`], as results. Only what
/// the CSV keeps is filled in: the percentiles and means the table and the
/// plots show.
pub fn parse_csv(text: &str) -> Result<Vec<CellResult>, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty file")?;
    if header != csv(&[]).trim_end() {
        return Err("not a compare.csv of this version (its header differs)".into());
    }
    let mut out = Vec::new();
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
        let row = i + 2;
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 15 {
            return Err(format!("line {row}: {} fields, expected 15", f.len()));
        }
        let num = |k: usize| f[k].parse::<f64>().map_err(|_| format!("line {row}: field {} is not a number: '{}'", k + 1, f[k]));
        let opt = |k: usize| if f[k].is_empty() { Ok(None) } else { num(k).map(Some) };
        let int = |k: usize| f[k].parse::<usize>().map_err(|_| format!("line {row}: field {} is not a count: '{}'", k + 1, f[k]));
        let preset = Preset::parse(f[0]).ok_or_else(|| format!("line {row}: unknown preset '{}'", f[0]))?;
        let contender = Contender::parse(f[2]).ok_or_else(|| format!("line {row}: unknown contender '{}'", f[2]))?;
        let trials = int(3)?;
        let unconverged = int(9)?;
        let summary = |count: usize, p50: f64, p99: f64, max: f64, mean: f64| Summary { count, min: 0.0, p50, p99, max, mean };
        let convergence = match (opt(6)?, opt(7)?, opt(8)?) {
            (Some(p50), Some(p99), Some(max)) => Some(summary(trials - unconverged, p50, p99, max, 0.0)),
            _ => None,
        };
        out.push(CellResult {
            cell: matrix::Cell { contender, preset, n: int(1)? },
            trials,
            election_messages: summary(trials, num(4)?, num(5)?, 0.0, 0.0),
            convergence_ms: convergence,
            unconverged,
            capped: int(10)?,
            split_brain_ms: summary(trials, 0.0, 0.0, 0.0, num(11)?),
            split_brain_trials: int(12)?,
            lowest_wins: int(13)?,
            floor_ms: opt(14)?.map(|p50| summary(0, p50, 0.0, 0.0, 0.0)),
        });
    }
    Ok(out)
}

/// `old` with the cells of `new` replaced or added, in report order:
/// preset, size, then contender as [`Contender::all`] lists them.
pub fn merge(old: Vec<CellResult>, new: &[CellResult]) -> Vec<CellResult> {
    let mut out: Vec<CellResult> = old.into_iter().filter(|r| !new.iter().any(|n| n.cell == r.cell)).collect();
    out.extend(new.iter().cloned());
    let all = Contender::all();
    let order = |r: &CellResult| {
        let preset = Preset::ALL.iter().position(|p| *p == r.cell.preset);
        (preset, r.cell.n, all.iter().position(|c| *c == r.cell.contender))
    };
    out.sort_by_key(order);
    out
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
    let series = |f: &dyn Fn(&CellResult) -> Option<f64>| -> Vec<PlotSeries> {
        contenders
            .iter()
            .map(|c| PlotSeries {
                name: c.label(),
                points: results.iter().filter(|r| r.cell.contender == *c).filter_map(|r| f(r).map(|y| (r.cell.n as f64, y))).collect(),
                dashed: matches!(c, Contender::Raft | Contender::Bully),
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
    use stagger_core::params::ClaimPolicy;
    use stagger_core::scenario::SchemeName;

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
            merge: false,
        }
    }

    fn measured(rows: usize) -> Measured {
        Measured { rows, secs: 0.1, threads: 1, load: Some([1.5, 1.0, 0.5]), merged: 0 }
    }

    #[test]
    fn the_table_and_csv_have_a_row_per_cell() {
        let cells = matrix::cells(&[Preset::Lan], &[5], &[Contender::Raft, Contender::Bully]);
        let results: Vec<CellResult> = cells.iter().map(|c| matrix::run_cell(*c, 4, 1, 1, &|| {})).collect();
        let md = markdown(&results, &[Preset::Lan], &args(), &measured(2), &[]);
        assert!(md.contains("2 rows, 0 s on 1 threads, load average 1.50 1.00 0.50 at the start"), "{md}");
        assert!(md.contains("| 5 | Raft |") && md.contains("| 5 | Bully |"), "{md}");
        assert!(md.contains("Bully | 20 / 20 |"), "a 5-server Bully election costs 20 messages: {md}");
        let csv = csv(&results);
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.lines().nth(2).unwrap().starts_with("lan,5,bully,4,20,20,"), "{csv}");
    }

    #[test]
    fn the_recommended_row_is_in_bold_and_elects_the_lowest_live_index() {
        let cells = matrix::cells(
            &[Preset::Lan],
            &[5],
            &[Contender::Stagger { scheme: SchemeName::Integral, claim: ClaimPolicy::Verify }, Contender::Recommended],
        );
        let results: Vec<CellResult> = cells.iter().map(|c| matrix::run_cell(*c, 20, 1, 1, &|| {})).collect();
        let md = markdown(&results, &[Preset::Lan], &args(), &measured(2), &[]);
        assert!(md.contains("| 5 | **integral / verify + guard P + skip_known_dead** |"), "{md}");
        assert_eq!(results[1].lowest_wins, 20, "the guard absorbs the detection skew: {:?}", results[1]);
        assert!(results[0].lowest_wins < 20, "SPEC's defaults do not, on a LAN: {:?}", results[0]);
    }

    #[test]
    fn a_csv_reads_back_and_merges_in_report_order() {
        let run = |cs: &[Contender]| -> Vec<CellResult> {
            matrix::cells(&[Preset::Lan], &[5], cs).iter().map(|c| matrix::run_cell(*c, 4, 1, 1, &|| {})).collect()
        };
        let old = run(&[Contender::Stagger { scheme: SchemeName::Integral, claim: ClaimPolicy::Verify }, Contender::Raft]);
        let text = csv(&old);
        let back = parse_csv(&text).unwrap();
        assert_eq!(csv(&back), text, "what the CSV keeps survives the round trip");
        let new = run(&[Contender::Recommended]);
        let merged = merge(back, &new);
        let keys: Vec<String> = merged.iter().map(|r| r.cell.contender.key()).collect();
        assert_eq!(keys, ["integral-verify", "integral-guard", "raft"]);
        // A rerun replaces its row rather than adding one.
        assert_eq!(merge(merged.clone(), &new).len(), 3);
        assert!(parse_csv("preset,n\nlan,5").unwrap_err().contains("header differs"));
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(count(1_000_495.0), "1,000,495");
        assert_eq!(count(20.0), "20");
        assert_eq!(pct(1, 3), "33.3 %");
    }
}
