//! `stagger serve`: the playground over HTTP, from files embedded in the
//! binary at build time (see `node/build.rs`), and beside it, on a live
//! node, the node's `/api/...` routes and its `/ws` endpoint.
//!
//! An axum router on hyper's HTTP/1 connections. [`run`] accepts
//! connections until `shutdown` completes, serves each on its own task,
//! caps how many are open at once, and on shutdown closes those that have
//! not sent a request, lets the others finish their answer, and waits for
//! them. The accept loop is ours rather than `axum::serve`'s because the
//! limits below are settings of hyper's connection, which `axum::serve`
//! does not expose.
//!
//! What it serves: `GET` and `HEAD` of the embedded files, `/` and any
//! `dir/` as `index.html`, with `Content-Type`, `Content-Length`,
//! `Cache-Control: no-cache` and `Connection: close` (one request per
//! connection). Anything else gets a short plain-text error: 400 for a path
//! with `..` or a bad escape, 404, 405 (with `Allow`), and 503 for every
//! path when the binary was built without `dist/`. hyper answers a request
//! it cannot parse with 400 and a head over [`Config::max_head_bytes`] with
//! 431, both without a body, and closes a connection whose head does not
//! arrive within [`Config::read_timeout`] without an answer
//! (docs/protocol.md L13).

mod files;
mod upgrade;

pub use files::{assets, built_from, playground_embedded, resolve, text, Assets, NOT_BUILT};
pub use upgrade::{Socket, Upgrade};

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONNECTION, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// What the server serves and its limits. [`Config::default`] (the
/// embedded files) is what `stagger serve` uses.
#[derive(Clone)]
pub struct Config {
    /// The files served, sorted by path. Without an `index.html` every
    /// request gets 503 with [`NOT_BUILT`].
    pub assets: Assets,
    /// Connections open at once, WebSocket sessions included; further ones
    /// wait in the accept queue. A cap on connections rather than on
    /// requests (tower's `ConcurrencyLimit`): an idle connection or a
    /// session holds resources without being a request in flight.
    pub max_connections: usize,
    /// Requests being handled at once, across all routes (tower's global
    /// concurrency limit); more wait for a place, within
    /// [`Config::read_timeout`]. Lower than [`Config::max_connections`]:
    /// an open WebSocket session holds a connection but not a place here,
    /// and a burst of requests from many members' Live tabs queues instead
    /// of all building flight recordings at once.
    pub max_requests: usize,
    /// Paths whose requests take no place among [`Config::max_requests`]:
    /// ones that mostly wait for something else than this machine's CPU,
    /// with a bound of their own (the replicated store's `/api/kv` waits for
    /// its commit, and its replica answers `busy` past 10,000 waiting).
    pub unlimited: &'static [&'static str],
    /// The largest request head (request line and headers) accepted.
    pub max_head_bytes: usize,
    /// The largest request body accepted (413 above). Nothing here reads
    /// a body; the limit keeps a client from making the server drain one.
    pub max_body_bytes: usize,
    /// How long a client may take to send its request head, and a handler
    /// to decide its answer (503 past that).
    pub read_timeout: Duration,
    /// How long, after the head, a connection may take until its answer is
    /// written (a client that stops reading is cut off).
    pub write_timeout: Duration,
    /// Routes served before the files: the live node's `/api/...` and
    /// `/ws`. `stagger serve` has none.
    pub app: Option<Router>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            assets: assets(),
            max_connections: 256,
            max_requests: 64,
            unlimited: &[],
            max_head_bytes: 16 * 1024,
            max_body_bytes: 64 * 1024,
            read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(60),
            app: None,
        }
    }
}

/// Serves the playground on `listener` until `shutdown` completes, then
/// stops accepting, lets the open connections finish and waits for them.
/// Returns an error only if accepting fails for good.
pub async fn run(listener: TcpListener, shutdown: impl Future) -> io::Result<()> {
    run_with(listener, Config::default(), shutdown).await
}

/// [`run`] with explicit limits and routes.
///
/// # Panics
///
/// If `config.assets` is not sorted by path.
pub async fn run_with(listener: TcpListener, config: Config, shutdown: impl Future) -> io::Result<()> {
    assert!(files::sorted(config.assets), "serve::Config::assets must be sorted by path");
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.read_timeout)
        .max_header_size(config.max_head_bytes)
        .title_case_headers(true)
        .auto_date_header(false);
    let server = Server {
        http,
        app: router(&config),
        limit: config.read_timeout + config.write_timeout,
        slots: Arc::new(Semaphore::new(config.max_connections.max(1))),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let result = {
        let accepting = server.accept_all(&listener, &mut connections, stop_rx);
        tokio::select! {
            res = accepting => res,
            _ = shutdown => Ok(()),
        }
    };
    drop(listener);
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    result
}

/// The routes and the layers around them.
/// The places of [`Config::max_requests`], and the paths that need none.
#[derive(Clone)]
struct Places {
    free: Arc<Semaphore>,
    unlimited: &'static [&'static str],
}

impl Places {
    fn new(config: &Config) -> Places {
        Places { free: Arc::new(Semaphore::new(config.max_requests.max(1))), unlimited: config.unlimited }
    }
}

/// Holds a place for the whole request, waiting for one when all are
/// taken (tower's global concurrency limit, with exceptions by path).
async fn take_a_place(State(places): State<Places>, req: Request<axum::body::Body>, next: Next) -> axum::response::Response {
    if places.unlimited.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let _place = places.free.acquire().await.expect("the semaphore is never closed");
    next.run(req).await
}

fn router(config: &Config) -> Router {
    let assets = config.assets;
    let header = |name, value| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    // One request per connection: hyper closes after an answer that says
    // so. Not `keep_alive(false)`, which would also tell a `101` to close.
    let close = SetResponseHeaderLayer::if_not_present(CONNECTION, HeaderValue::from_static("close"));
    config
        .app
        .clone()
        .unwrap_or_default()
        .fallback(move |method: Method, uri: Uri| files::serve(assets, method, uri))
        // Inside the timeout, so that waiting for a place counts toward it.
        .layer(middleware::from_fn_with_state(Places::new(config), take_a_place))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, config.read_timeout))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        // Outermost, so that the answers of the layers above have them too.
        .layer(header(CACHE_CONTROL, "no-cache"))
        .layer(header(X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(close)
}

struct Server {
    http: http1::Builder,
    app: Router,
    /// How long a connection may take to be answered.
    limit: Duration,
    slots: Arc<Semaphore>,
}

impl Server {
    /// Accepts connections, each once a slot is free, until accepting fails
    /// for good.
    async fn accept_all(&self, listener: &TcpListener, connections: &mut JoinSet<()>, stop: watch::Receiver<bool>) -> io::Result<()> {
        loop {
            let permit = self.slots.clone().acquire_owned().await.expect("the semaphore is never closed");
            let socket = accept(listener).await?;
            while connections.try_join_next().is_some() {}
            connections.spawn(self.serve(socket, permit, stop.clone()));
        }
    }

    /// Serves one connection: one request, or one WebSocket upgrade.
    fn serve(&self, socket: TcpStream, permit: OwnedSemaphorePermit, mut stop: watch::Receiver<bool>) -> impl Future<Output = ()> {
        let slot = upgrade::Slot { _permit: Arc::new(permit) };
        let started = Arc::new(AtomicBool::new(false));
        let service = self.app.clone().map_request({
            let started = started.clone();
            move |mut req: Request<Incoming>| {
                started.store(true, Ordering::SeqCst);
                req.extensions_mut().insert(slot.clone());
                req
            }
        });
        let conn = self.http.serve_connection(TokioIo::new(socket), TowerToHyperService::new(service)).with_upgrades();
        let limit = self.limit;
        async move {
            tokio::pin!(conn);
            let deadline = tokio::time::sleep(limit);
            tokio::pin!(deadline);
            let mut stopping = false;
            loop {
                tokio::select! {
                    served = conn.as_mut() => {
                        // hyper has answered what it could not parse; a
                        // user error is ours.
                        if let Err(e) = served {
                            if e.is_user() {
                                eprintln!("stagger serve: {e}");
                            }
                        }
                        return;
                    }
                    // A client that does not take its answer is cut off.
                    _ = &mut deadline => return,
                    _ = stop.wait_for(|s| *s), if !stopping => {
                        // Shutting down before a request arrived: just close.
                        if !started.load(Ordering::SeqCst) {
                            return;
                        }
                        conn.as_mut().graceful_shutdown();
                        stopping = true;
                    }
                }
            }
        }
    }
}

/// Accepts a connection, retrying transient errors (such as running out of
/// file descriptors) with a backoff of up to about a minute.
async fn accept(listener: &TcpListener) -> io::Result<TcpStream> {
    let mut backoff = 1;
    loop {
        match listener.accept().await {
            Ok((socket, _)) => return Ok(socket),
            Err(e) => {
                if backoff > 64 {
                    return Err(e);
                }
                eprintln!("stagger serve: accept failed ({e}); retrying in {backoff} s");
            }
        }
        tokio::time::sleep(Duration::from_secs(backoff)).await;
        backoff *= 2;
    }
}
