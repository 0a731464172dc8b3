//! chromedriver for the browser tests: started on a free port in a process
//! group of its own, so that the Chromium it starts dies with it, and
//! waited for until `GET /status` says it is ready.

use super::{fail, HarnessError, Reaped};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A chromedriver process; dropping it kills its whole process group
/// (chromedriver and every browser it started).
pub struct Chromedriver {
    child: Reaped,
    pub port: u16,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

impl Chromedriver {
    /// Starts `bin`, logging to a file in `dir`; three tries (a port taken
    /// between the pick and the bind), 20 s each. Blocks: inside a tokio
    /// runtime, call it from `spawn_blocking`.
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
            let mut driver = Chromedriver { child: Reaped(child), port, log };
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
        // The whole group: chromedriver and the Chromium it started; then
        // the child itself is reaped.
        #[cfg(unix)]
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).stderr(Stdio::null()).status();
    }
}
