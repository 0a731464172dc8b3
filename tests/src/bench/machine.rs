//! The machine a benchmark runs on, and what its processes use: cores, CPU
//! model and load average, CPU time and memory from Linux's /proc.

use super::{fail, BenchError};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

pub fn loadavg() -> Option<[f64; 3]> {
    let t = read("/proc/loadavg")?;
    let v: Vec<f64> = t.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
    (v.len() == 3).then(|| [v[0], v[1], v[2]])
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    read("/proc/cpuinfo")
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}

pub fn machine() -> Value {
    json!({"cores": cores(), "cpu": cpu_model(), "load_average": loadavg()})
}

/// The machine and its load average (1, 5, 15 min) before the run and now.
pub fn machine_line(before: Option<[f64; 3]>) -> String {
    let show = |l: Option<[f64; 3]>| l.map_or("n/a".to_string(), |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]));
    format!("machine: {} cores ({}), load average {} before, {} after", cores(), cpu_model(), show(before), show(loadavg()))
}

/// Clock ticks per second for /proc/PID/stat (`getconf CLK_TCK`, else 100).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// utime + stime of a process, in ticks.
pub(super) fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = read(&format!("/proc/{pid}/stat"))?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// A `kB` line of /proc/PID/status, in KiB (or a plain count, for Threads).
fn status_field(pid: u32, key: &str) -> Option<u64> {
    let s = read(&format!("/proc/{pid}/status"))?;
    let line = s.lines().find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))?;
    line[key.len() + 1..].split_whitespace().next()?.parse().ok()
}

/// The soft and hard open-file limits of this process (inherited by the
/// nodes), as /proc/self/limits states them.
pub fn open_file_limit() -> Option<(String, String)> {
    let t = read("/proc/self/limits")?;
    let line = t.lines().find(|l| l.starts_with("Max open files"))?;
    let mut f = line["Max open files".len()..].split_whitespace();
    Some((f.next()?.to_string(), f.next()?.to_string()))
}

/// CPU and memory of a set of processes over an interval.
pub struct Usage {
    /// Per process: CPU % of one core over the interval.
    pub cpu_pct: Vec<f64>,
    pub rss_kib: Vec<u64>,
    pub hwm_kib: Vec<u64>,
    pub threads: Vec<u64>,
}

pub fn measure_idle(pids: &[u32], secs: f64) -> Result<Usage, BenchError> {
    let hz = clock_ticks();
    let before: Vec<Option<u64>> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let after: Vec<Option<u64>> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    let elapsed = start.elapsed().as_secs_f64();
    let mut u = Usage { cpu_pct: Vec::new(), rss_kib: Vec::new(), hwm_kib: Vec::new(), threads: Vec::new() };
    for (k, &pid) in pids.iter().enumerate() {
        let (Some(b), Some(a)) = (before[k], after[k]) else {
            return Err(fail(format!("cannot read /proc/{pid}/stat (this benchmark needs Linux /proc)")));
        };
        u.cpu_pct.push(a.saturating_sub(b) as f64 / hz / elapsed * 100.0);
        u.rss_kib.push(status_field(pid, "VmRSS").unwrap_or(0));
        u.hwm_kib.push(status_field(pid, "VmHWM").unwrap_or(0));
        u.threads.push(status_field(pid, "Threads").unwrap_or(0));
    }
    Ok(u)
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
