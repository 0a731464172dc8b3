//! `stagger-bench raft-fig16`: Raft's Figure 16 (§9.3), rerun in the
//! simulator with the paper's set-up (`stagger_core::compare::fig16` says
//! how), printed next to the numbers the paper states.

use super::plot::{Chart, PlotSeries};
use super::progress::ProgressMeter;
use super::{docs, fail};
use super::{write, BenchError};
use stagger_core::compare::fig16::{self, Published, Row};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(clap::Args, Debug)]
pub struct Fig16Args {
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Trials per row (the paper ran 1,000).
    #[arg(long, default_value_t = 1000)]
    pub trials: usize,
    /// Write the cumulative distribution plot, as the paper draws it.
    #[arg(long, value_name = "OUT.svg")]
    pub svg: Option<PathBuf>,
    /// Rewrite the generated Figure 16 section of this Markdown file (and
    /// put the plot next to it as compare/raft-fig16.svg).
    #[arg(long, value_name = "FILE.md")]
    pub docs: Option<PathBuf>,
}

pub fn run(a: Fig16Args) -> Result<(), BenchError> {
    if a.trials == 0 {
        return Err(BenchError::Usage("--trials must be at least 1".into()));
    }
    let rows = measure(a.trials);
    let table = markdown(&rows);
    if a.json {
        let v = serde_json::json!({
            "set_up": {"servers": 5, "one_way_ms": fig16::ONE_WAY_MS, "persist_ms": fig16::PERSIST_MS,
                       "broadcast_ms": 2.0 * fig16::ONE_WAY_MS + fig16::PERSIST_MS, "jitter": fig16::JITTER,
                       "heartbeat": "half the minimum election timeout", "limit_ms": fig16::LIMIT_MS, "seed": fig16::SEED},
            "rows": rows.iter().map(|r| serde_json::json!({
                "min_ms": r.min_ms, "max_ms": r.max_ms, "trials": r.trials, "no_leader": r.no_leader,
                "downtime_ms": r.downtime, "published": r.published,
                "deviation": r.deviations().iter().map(|(p, d)| serde_json::json!({"published": p, "ours_over_theirs_minus_1": d})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v).map_err(|e| fail(e.to_string()))?);
    } else {
        println!("{table}");
    }
    let svg = chart(&rows).svg();
    if let Some(path) = &a.svg {
        write(path, &svg)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(md) = &a.docs {
        let dir = md.parent().unwrap_or(std::path::Path::new(".")).join("compare");
        write(&dir.join("raft-fig16.svg"), &svg)?;
        let body = format!("{table}\n![Cumulative downtime by election timeout range](compare/raft-fig16.svg)\n");
        docs::write_section(md, "raft-fig16", &body)?;
        eprintln!("updated {} and {}", md.display(), dir.join("raft-fig16.svg").display());
    }
    Ok(())
}

/// Every row, two at a time; each row's trials are seeded, so the result
/// does not depend on the order.
fn measure(trials: usize) -> Vec<Row> {
    let progress = ProgressMeter::start("raft-fig16", trials * fig16::RANGES.len());
    let next = AtomicUsize::new(0);
    let mut rows: Vec<Option<Row>> = vec![None; fig16::RANGES.len()];
    let slots: Vec<std::sync::Mutex<&mut Option<Row>>> = rows.iter_mut().map(std::sync::Mutex::new).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(fig16::RANGES.len());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(lo, hi)) = fig16::RANGES.get(i) else { return };
                progress.label(format!("{lo}–{hi} ms"));
                let row = fig16::row(lo, hi, trials, fig16::SEED, || progress.tick());
                **slots[i].lock().expect("no worker panics") = Some(row);
            });
        }
    });
    drop(slots);
    progress.finish();
    rows.into_iter().map(|r| r.expect("every row ran")).collect()
}

fn paper(r: &Row) -> String {
    r.published
        .iter()
        .map(|p| match p {
            Published::MedianMs(v) => format!("median {v} ms"),
            Published::MeanMs(v) => format!("mean {v} ms"),
            Published::WorstMs(v) => format!("worst {v} ms"),
            Published::AllLongerThanMs(v) => format!("all > {} s", v / 1000.0),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn markdown(rows: &[Row]) -> String {
    let mut s = format!(
        "Five Raft servers; one-way delay {} ms ± {:.0} % and an {} ms write of term and vote before each answer, so a broadcast takes {} ms; heartbeat every half minimum timeout; leader crashed uniformly within its heartbeat interval; downtime until a new leader is elected; a trial with no leader after {} s counts as such. Seed {}.\n\n",
        fig16::ONE_WAY_MS,
        fig16::JITTER * 100.0,
        fig16::PERSIST_MS,
        2.0 * fig16::ONE_WAY_MS + fig16::PERSIST_MS,
        fig16::LIMIT_MS / 1000.0,
        fig16::SEED
    );
    s.push_str(
        "Downtime columns cover the trials that elected a leader; a row with leaderless trials is therefore better than it looks.\n\n",
    );
    s.push_str(
        "| election timeout | trials | no leader in 10 s | min | median | mean | p99 | max | the paper says | ours vs the paper |\n",
    );
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
    for r in rows {
        let d = r.downtime;
        let f = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.0} ms"));
        let dev: Vec<String> = r
            .deviations()
            .iter()
            .map(|(p, d)| match p {
                Published::MedianMs(_) => format!("median {:+.1} %", d * 100.0),
                _ => format!("mean {:+.1} %", d * 100.0),
            })
            .chain(r.published.iter().filter_map(|p| match (p, d) {
                (Published::WorstMs(w), Some(d)) => Some(format!("worst {:.0} vs {w} ms", d.max)),
                (Published::AllLongerThanMs(_), _) => Some(format!("{} of {} over 10 s", r.no_leader, r.trials)),
                _ => None,
            }))
            .collect();
        s.push_str(&format!(
            "| {}–{} ms | {} | {} | {} | **{}** | **{}** | {} | {} | {} | {} |\n",
            r.min_ms,
            r.max_ms,
            r.trials,
            r.no_leader,
            f(d.map(|d| d.min)),
            f(d.map(|d| d.p50)),
            f(d.map(|d| d.mean)),
            f(d.map(|d| d.p99)),
            f(d.map(|d| d.max)),
            paper(r),
            dev.join("; ")
        ));
    }
    s
}

fn chart(rows: &[Row]) -> Chart {
    Chart {
        title: "Raft, Figure 16 rerun: time without a leader".into(),
        x_label: "downtime after the leader crashed (ms, log scale)".into(),
        y_label: "cumulative % of trials".into(),
        x_log: true,
        y_log: false,
        series: rows
            .iter()
            .map(|r| {
                let n = r.trials as f64;
                // Every 1/200th of the distribution is plenty for a curve.
                let step = (r.sorted_ms.len() / 200).max(1);
                let points = r.sorted_ms.iter().enumerate().filter(|(i, _)| i % step == 0 || *i + 1 == r.sorted_ms.len());
                PlotSeries {
                    name: format!("{}–{} ms", r.min_ms, r.max_ms),
                    points: points.map(|(i, v)| (*v, (i + 1) as f64 / n * 100.0)).collect(),
                    dashed: r.min_ms < 100.0,
                }
            })
            .collect(),
    }
}
