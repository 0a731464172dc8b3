//! The tab: the playground served by a `stagger serve` child, a headless
//! Chromium started by chromedriver (both owned by [`crate::harness`] and
//! killed when dropped), driven with `fantoccini`.
//!
//! fantoccini is async and the benchmark is not: a [`Tab`] owns a
//! current-thread tokio runtime and runs each WebDriver command on it to its
//! end, within [`COMMAND_LIMIT`].

use super::{fail, Call, CliError, SpeedArgs, CHROMEDRIVERS};
use crate::harness::chromedriver::{headless_chromium, Chromedriver};
use crate::harness::Reaped;
use fantoccini::error::CmdError;
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one WebDriver command may take: a long storm blocks the page
/// for up to the script timeout, 10 min.
const SCRIPT_LIMIT: Duration = Duration::from_secs(600);
const COMMAND_LIMIT: Duration = Duration::from_secs(660);

/// `stagger serve` on 127.0.0.1, serving the playground built into the
/// `stagger` binary, until dropped.
struct Server {
    addr: SocketAddr,
    child: Reaped,
}

impl Server {
    fn start(stagger: &Path) -> Result<Server, CliError> {
        let port = crate::harness::free_ports(1)?[0].port();
        let child = Command::new(stagger)
            .args(["serve", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(format!("cannot start {} serve: {e}", stagger.display())))?;
        let mut server = Server { addr: SocketAddr::from(([127, 0, 0, 1], port)), child: Reaped(child) };
        let client = crate::harness::poll_client(Duration::from_secs(2));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = client.get(format!("http://{}/index.html", server.addr)).send() {
                if r.status().is_success() {
                    return Ok(server);
                }
                return Err(fail(format!(
                    "{} serve answers {} for index.html: the playground is not built into it (`cargo xtask web`, then \
                     `cargo build --release -p stagger-node`); or pass --native-only",
                    stagger.display(),
                    r.status()
                )));
            }
            if let Some(status) = server.child.exited() {
                return Err(fail(format!("{} serve exited at once: {status}", stagger.display())));
            }
            if Instant::now() > deadline {
                return Err(fail(format!("{} serve did not answer on port {port} within 20 s", stagger.display())));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One WebDriver session: the browser with the playground's views module
/// loaded.
pub(super) struct Tab {
    // Field order is drop order: the session's client and its runtime, then
    // chromedriver (with its browser), the folder of its log and the
    // browser's profile, then the server (the session ends first, in
    // `drop`).
    client: Option<Client>,
    rt: tokio::runtime::Runtime,
    _driver: Chromedriver,
    _dir: tempfile::TempDir,
    /// The embedded playground, unless `--page` names another.
    _server: Option<Server>,
    page: String,
    /// The browser's name and version, for the report.
    pub(super) version: String,
}

impl Tab {
    pub(super) fn open(args: &SpeedArgs) -> Result<Tab, CliError> {
        if !args.chromium.exists() {
            return Err(fail(format!(
                "{} is missing: `cargo xtask setup` installs Debian's chromium and chromium-driver; or pass --native-only",
                args.chromium.display()
            )));
        }
        let bin = match &args.chromedriver {
            Some(p) => p.clone(),
            None => CHROMEDRIVERS.iter().map(PathBuf::from).find(|p| p.exists()).ok_or_else(|| {
                fail("chromedriver is missing: `cargo xtask setup` installs Debian's chromium-driver; or pass --native-only")
            })?,
        };
        let server = if args.page.is_some() { None } else { Some(Server::start(&args.stagger)?) };
        let page = match (&args.page, &server) {
            (Some(p), _) => p.clone(),
            (None, Some(s)) => format!("http://{}/index.html", s.addr),
            (None, None) => unreachable!("a server without --page"),
        };
        let dir = crate::harness::temp_dir("bench-speed")?;
        let profile = dir.path().join("profile");
        let driver = Chromedriver::start(&bin, dir.path())?;
        let caps: Capabilities =
            serde_json::from_value(headless_chromium(&args.chromium.display().to_string(), &profile, &[], Value::Null))
                .map_err(|e| fail(format!("the browser's capabilities: {e}")))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start a runtime for the WebDriver client: {e}")))?;
        let url = driver.url();
        let client = rt
            .block_on(async {
                let mut builder = ClientBuilder::new(HttpConnector::new());
                tokio::time::timeout(Duration::from_secs(60), builder.capabilities(caps).connect(&url)).await
            })
            .map_err(|_| fail(format!("chromedriver at {url} opened no session within 60 s")))?
            .map_err(|e| fail(format!("chromedriver at {url} opened no session: {e}")))?;
        let caps = client.capabilities();
        let cap = |k: &str| caps.and_then(|c| c.get(k)).and_then(Value::as_str).map(str::to_string);
        let version =
            format!("{} {}", cap("browserName").unwrap_or_else(|| "chrome".into()), cap("browserVersion").unwrap_or_else(|| "?".into()));
        let tab = Tab { client: Some(client), rt, _driver: driver, _dir: dir, _server: server, page, version };
        // A long storm blocks the page; let a script run for up to 10 min.
        let timeouts = TimeoutConfiguration::new(Some(SCRIPT_LIMIT), Some(Duration::from_secs(60)), None);
        tab.wd("set timeouts", |c| async move { c.update_timeouts(timeouts).await })?;
        Ok(tab)
    }

    /// Runs one WebDriver command to its end, within [`COMMAND_LIMIT`]; an
    /// error names `what` failed.
    fn wd<T, F, Fut>(&self, what: &str, command: F) -> Result<T, CliError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, CmdError>>,
    {
        let client = self.client.clone().ok_or_else(|| fail("the WebDriver session has ended"))?;
        self.rt
            .block_on(async { tokio::time::timeout(COMMAND_LIMIT, command(client)).await })
            .map_err(|_| fail(format!("chromedriver: {what}: no answer within {} s", COMMAND_LIMIT.as_secs())))?
            .map_err(|e| fail(format!("chromedriver: {what}: {e}")))
    }

    /// Opens `index.html` afresh and loads the views module.
    pub(super) fn load(&mut self) -> Result<(), CliError> {
        let page = self.page.clone();
        self.wd("open the page", |c| async move { c.goto(&page).await })?;
        let script = r#"
            const done = arguments[arguments.length - 1];
            window.staggerLoadViews()
              .then((m) => { window.staggerSpeedViews = m; done(typeof m.stagger_speed); })
              .catch((e) => done("error: " + e));
        "#;
        let got = self.wd("load the views module", |c| async move { c.execute_async(script, vec![]).await })?;
        if got != json!("function") {
            return Err(fail(format!(
                "the views module has no stagger_speed export ({got}): rebuild the playground with `cargo xtask web`, then this binary"
            )));
        }
        Ok(())
    }

    /// One call of `stagger_speed` in the page.
    pub(super) fn call(&mut self, kind: &str, n: u32, min_ms: f64) -> Result<Call, String> {
        let script = r#"
            try { return { ok: window.staggerSpeedViews.stagger_speed(arguments[0], arguments[1], arguments[2]) }; }
            catch (e) { return { err: String(e) }; }
        "#;
        let args = vec![json!(kind), json!(n), json!(min_ms)];
        let v = self.wd("call stagger_speed", |c| async move { c.execute(script, args).await }).map_err(|e| e.to_string())?;
        if let Some(e) = v["err"].as_str() {
            return Err(e.to_string());
        }
        let text = v["ok"].as_str().ok_or_else(|| format!("stagger_speed answered {v}"))?;
        let parsed: Value = serde_json::from_str(text).map_err(|e| format!("stagger_speed answered {text}: {e}"))?;
        Call::from_json(&parsed).ok_or_else(|| format!("stagger_speed answered {text}"))
    }
}

impl Drop for Tab {
    /// Ends the session (Chromium quits); then the fields go: the runtime,
    /// chromedriver, the profile, the server.
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(async { tokio::time::timeout(Duration::from_secs(20), c.close()).await });
        }
    }
}
