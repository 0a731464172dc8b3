//! chromedriver for the browser tests and the speed benchmark: started on a
//! free port in a process group of its own, so that the Chromium it starts
//! dies with it, and waited for until `GET /status` says it is ready.
//!
//! Its own process group keeps it out of the terminal's: Ctrl-C does not
//! reach it, and a test or benchmark that ends without dropping it (a
//! signal, a `process::exit`) would leave it and its browser running. So a
//! watchdog (`sh`, in a group of its own too) waits for this process to end,
//! however it ends, and then kills the group and removes the folder
//! chromedriver was given; dropping the [`Chromedriver`] ends the watchdog
//! first.

use super::{fail, HarnessError, Reaped};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A chromedriver process; dropping it kills its whole process group
/// (chromedriver and every browser it started).
pub struct Chromedriver {
    child: Reaped,
    /// Ends with this process even when nothing drops it; `None` where no
    /// `sh` could be started.
    watchdog: Option<Reaped>,
    pub port: u16,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

impl Chromedriver {
    /// Starts `bin`, logging to a file in `dir` (the caller's to remove; the
    /// watchdog removes it if this process ends without dropping the
    /// driver); three tries (a port taken between the pick and the bind),
    /// 20 s each. Blocks: inside a tokio runtime, call it from
    /// `spawn_blocking`.
    pub fn start(bin: &Path, dir: &Path) -> Result<Chromedriver, HarnessError> {
        let client = super::poll_client(Duration::from_secs(2));
        let mut last = String::new();
        for attempt in 0..3 {
            let port = super::free_ports(1)?[0].port();
            let log = dir.join(format!("chromedriver-{attempt}.log"));
            let out = std::fs::File::create(&log).map_err(|e| fail(format!("{}: {e}", log.display())))?;
            let err = out.try_clone().map_err(|e| fail(e.to_string()))?;
            let mut cmd = Command::new(bin);
            cmd.arg(format!("--port={port}")).stdin(Stdio::null()).stdout(out).stderr(err);
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let child = cmd.spawn().map_err(|e| fail(format!("could not start {}: {e}; run `cargo xtask setup`", bin.display())))?;
            let watchdog = watchdog(std::process::id(), child.id(), dir);
            let mut driver = Chromedriver { child: Reaped(child), watchdog, port, log };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if driver.ready(&client) {
                    return Ok(driver);
                }
                if let Some(status) = driver.child.exited() {
                    last = format!("chromedriver exited with {status}: {}", std::fs::read_to_string(&driver.log).unwrap_or_default());
                    break;
                }
                if Instant::now() > deadline {
                    last = format!("chromedriver did not answer on port {port} within 20 s");
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(fail(last))
    }

    /// Whether `GET /status` says ready.
    fn ready(&self, client: &reqwest::blocking::Client) -> bool {
        let Ok(r) = client.get(format!("{}/status", self.url())).send() else { return false };
        r.json::<serde_json::Value>().is_ok_and(|v| v["value"]["ready"] == serde_json::json!(true))
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The watchdog first (this process lives on), then the whole group:
        // chromedriver and the Chromium it started; then the child itself
        // is reaped.
        drop(self.watchdog.take());
        #[cfg(unix)]
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).stderr(Stdio::null()).status();
    }
}

/// Kills process group `group` and removes `dir` once process `owner` has
/// ended, checking every second.
#[cfg(unix)]
fn watchdog(owner: u32, group: u32, dir: &Path) -> Option<Reaped> {
    let script = format!("while kill -0 {owner} 2>/dev/null; do sleep 1; done; kill -9 -{group} 2>/dev/null; sleep 1; rm -rf -- \"$1\"");
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).arg("stagger-chromedriver-watchdog").arg(dir);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn().ok().map(Reaped)
}

#[cfg(not(unix))]
fn watchdog(_owner: u32, _group: u32, _dir: &Path) -> Option<Reaped> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sleeper(own_group: bool) -> Reaped {
        let mut cmd = Command::new("sleep");
        cmd.arg("60").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        if own_group {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        Reaped(cmd.spawn().expect("sleep starts"))
    }

    #[test]
    fn the_watchdog_kills_the_group_and_removes_the_folder_once_the_owner_is_gone() {
        let dir = crate::harness::temp_dir("watchdog-test").unwrap();
        let folder = dir.path().join("driver");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("chromedriver-0.log"), "log").unwrap();
        let owner = sleeper(false);
        let mut group = sleeper(true);
        let _watchdog = watchdog(owner.id(), group.id(), &folder).expect("sh starts");

        // While the owner lives, the group and the folder stay.
        std::thread::sleep(Duration::from_millis(1500));
        assert!(group.exited().is_none(), "the group was killed while its owner lives");
        assert!(folder.exists());

        // The owner ends (killed and reaped, as a benchmark stopped by a signal).
        drop(owner);
        let deadline = Instant::now() + Duration::from_secs(10);
        while (group.exited().is_none() || folder.exists()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(group.exited().is_some(), "the group outlived its owner");
        assert!(!folder.exists(), "{} outlived its owner", folder.display());
    }
}

/// The WebDriver capabilities of a headless Chromium at `binary` with its
/// profile in `profile`: the flags it needs to run as root in a container
/// without a GPU or a large `/dev/shm`, and no first-run or background
/// traffic. `extra` adds flags, `prefs` Chromium preferences (`null`:
/// none). The browser tests and the speed benchmark both start theirs so.
pub fn headless_chromium(binary: &str, profile: &Path, extra: &[&str], prefs: serde_json::Value) -> serde_json::Value {
    let mut args: Vec<String> =
        ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"]
            .iter()
            .chain(extra)
            .map(|a| a.to_string())
            .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut options = serde_json::json!({ "binary": binary, "args": args });
    if !prefs.is_null() {
        options["prefs"] = prefs;
    }
    serde_json::json!({ "browserName": "chrome", "goog:chromeOptions": options })
}
