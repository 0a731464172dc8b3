//! A progress bar on stderr for long simulated benchmarks.
//!
//! Workers only bump an atomic counter; one thread redraws the bar five
//! times a second. On a terminal it redraws in place; otherwise (CI logs,
//! a pipe) it prints a line every few seconds, so a log is not flooded.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct ProgressMeter {
    done: Arc<AtomicUsize>,
    label: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressMeter {
    /// Starts drawing a bar for `total` steps under `title`.
    pub fn start(title: &str, total: usize) -> ProgressMeter {
        let done = Arc::new(AtomicUsize::new(0));
        let label = Arc::new(Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, l, s, title) = (done.clone(), label.clone(), stop.clone(), title.to_string());
        let thread = std::thread::spawn(move || {
            let tty = std::io::stderr().is_terminal();
            let started = Instant::now();
            let mut last_line = Instant::now();
            loop {
                let finished = s.load(Ordering::Relaxed);
                let n = d.load(Ordering::Relaxed).min(total);
                let line = bar(&title, n, total, started.elapsed(), &l.lock().map(|g| g.clone()).unwrap_or_default());
                if tty {
                    eprint!("\r\x1b[2K{line}");
                    let _ = std::io::stderr().flush();
                } else if finished || last_line.elapsed() >= Duration::from_secs(10) {
                    eprintln!("{line}");
                    last_line = Instant::now();
                }
                if finished {
                    if tty {
                        eprintln!();
                    }
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        ProgressMeter { done, label, stop, thread: Some(thread) }
    }

    /// What is being worked on now.
    pub fn label(&self, text: String) {
        if let Ok(mut l) = self.label.lock() {
            *l = text;
        }
    }

    pub fn tick(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// Stops the bar after one last redraw.
    pub fn finish(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ProgressMeter {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// `title [#######.......]  42% 4,200/10,000 · 12 s, about 17 s left · label`.
fn bar(title: &str, done: usize, total: usize, elapsed: Duration, label: &str) -> String {
    const WIDTH: usize = 30;
    let frac = if total == 0 { 1.0 } else { done as f64 / total as f64 };
    let filled = ((frac * WIDTH as f64).round() as usize).min(WIDTH);
    let secs = elapsed.as_secs_f64();
    let left = if done > 0 && done < total { format!(", about {} left", duration(secs / frac - secs)) } else { String::new() };
    let label = if label.is_empty() { String::new() } else { format!(" · {label}") };
    format!(
        "{title} [{}{}] {:>3.0}% {done}/{total} · {}{left}{label}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        frac * 100.0,
        duration(secs)
    )
}

fn duration(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.0} s")
    } else {
        format!("{}m{:02.0}s", (secs / 60.0).floor(), secs % 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_fraction_counts_and_time_left() {
        let b = bar("compare", 250, 1000, Duration::from_secs(10), "lan n=5");
        assert!(b.starts_with("compare [########......................]  25% 250/1000 · 10 s, about 30 s left · lan n=5"), "{b}");
        let done = bar("x", 4, 4, Duration::from_secs(75), "");
        assert!(done.contains("100% 4/4 · 1m15s") && !done.contains("left"), "{done}");
    }
}
