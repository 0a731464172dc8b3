//! `stagger serve`: the playground over HTTP, from files embedded in the
//! binary at build time (see `node/build.rs`).
//!
//! A small HTTP/1.1 server on tokio, laid out like mini-redis's: [`run`]
//! accepts connections until `shutdown` completes, spawns one task per
//! connection, caps the connections with a semaphore, and on shutdown tells
//! every handler to stop and waits until they have. The connection handler
//! parses the request head itself ([`Request`]), so that a later WebSocket
//! upgrade can be routed on the same port before a response is written.
//!
//! What it serves: `GET` and `HEAD` of the embedded files, `/` and any
//! `dir/` as `index.html`, with `Content-Type`, `Content-Length`,
//! `Cache-Control: no-cache` and `Connection: close` (one request per
//! connection). Anything else gets a short plain-text error: 400 for a
//! malformed request line or a path with `..`, 404, 405 (with `Allow`),
//! 408 when the head does not arrive in time, 431 when it is too large, and
//! 503 for every path when the binary was built without `dist/`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, Semaphore};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/playground.rs"));
}

/// The answer to every request when the playground was not embedded.
pub const NOT_BUILT: &str = "the playground was not built into this binary: run `cargo xtask web` and rebuild";

/// A table of files: `(path under dist/, bytes, Content-Type)`, paths
/// with `/` separators and no leading `/`.
pub type Assets = &'static [(&'static str, &'static [u8], &'static str)];

/// The files embedded in this binary, sorted by path.
pub fn assets() -> Assets {
    embedded::ASSETS
}

/// The `dist/` folder the assets were read from when this binary was built.
pub fn built_from() -> &'static str {
    embedded::DIST_DIR
}

/// Whether this binary carries the playground (`dist/index.html`).
pub fn playground_embedded() -> bool {
    lookup(assets(), "index.html").is_some()
}

/// The file at `path` in `table`.
fn lookup(table: Assets, path: &str) -> Option<(&'static [u8], &'static str)> {
    table.iter().find(|(p, _, _)| *p == path).map(|(_, bytes, ty)| (*bytes, *ty))
}

/// An application mounted beside the static files: the live node's
/// `/api/...` routes and its `/ws` endpoint. `stagger serve` has none.
pub trait App: Send + Sync + 'static {
    /// Answers a request under `/api/`, or `None` to let the files answer.
    fn respond(&self, req: &Request) -> Option<ApiResponse>;
    /// Runs a WebSocket session on `socket`, whose upgrade request `req`
    /// has been read but not answered. Returns when the session ends.
    fn upgrade<'a>(&'a self, socket: &'a mut TcpStream, req: Request) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// A response decided by an [`App`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn json(status: u16, value: &impl serde::Serialize) -> ApiResponse {
        ApiResponse { status, content_type: "application/json", body: serde_json::to_vec(value).expect("API values serialize") }
    }

    pub fn text(status: u16, message: &str) -> ApiResponse {
        ApiResponse { status, content_type: "text/plain; charset=utf-8", body: format!("{message}\n").into_bytes() }
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// What the server serves and its limits. [`Config::default`] (the
/// embedded files) is what `stagger serve` uses.
#[derive(Clone)]
pub struct Config {
    /// The files served. Without an `index.html` every request gets 503
    /// with [`NOT_BUILT`].
    pub assets: Assets,
    /// Connections handled at once; further ones wait in the accept queue.
    pub max_connections: usize,
    /// The largest request head (request line and headers) accepted.
    pub max_head_bytes: usize,
    /// How long a client may take to send its request head.
    pub read_timeout: Duration,
    /// How long a client may take to read a whole response.
    pub write_timeout: Duration,
    /// The live node's routes, if any.
    pub app: Option<Arc<dyn App>>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            assets: assets(),
            max_connections: 256,
            max_head_bytes: 16 * 1024,
            read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(60),
            app: None,
        }
    }
}

/// Serves the playground on `listener` until `shutdown` completes, then
/// stops accepting, tells the open connections to finish and waits for
/// them. Returns an error only if accepting fails for good.
pub async fn run(listener: TcpListener, shutdown: impl Future) -> io::Result<()> {
    run_with(listener, Config::default(), shutdown).await
}

/// [`run`] with explicit limits.
pub async fn run_with(listener: TcpListener, config: Config, shutdown: impl Future) -> io::Result<()> {
    let (notify_shutdown, _) = broadcast::channel(1);
    let (shutdown_complete_tx, mut shutdown_complete_rx) = mpsc::channel::<()>(1);
    let mut server = Listener {
        listener,
        limit_connections: Arc::new(Semaphore::new(config.max_connections.max(1))),
        config: Arc::new(config),
        notify_shutdown,
        shutdown_complete_tx,
    };
    let result = tokio::select! {
        res = server.run() => res,
        _ = shutdown => Ok(()),
    };
    // Dropping the sender tells every handler to stop; dropping our
    // completion sender leaves only the handlers' clones, so `recv` returns
    // `None` once the last handler is gone.
    let Listener { notify_shutdown, shutdown_complete_tx, .. } = server;
    drop(notify_shutdown);
    drop(shutdown_complete_tx);
    let _ = shutdown_complete_rx.recv().await;
    result
}

struct Listener {
    listener: TcpListener,
    limit_connections: Arc<Semaphore>,
    config: Arc<Config>,
    notify_shutdown: broadcast::Sender<()>,
    shutdown_complete_tx: mpsc::Sender<()>,
}

impl Listener {
    async fn run(&mut self) -> io::Result<()> {
        loop {
            let permit = self.limit_connections.clone().acquire_owned().await.expect("the semaphore is never closed");
            let (socket, peer) = self.accept().await?;
            let mut handler = Handler {
                socket,
                peer,
                config: self.config.clone(),
                shutdown: self.notify_shutdown.subscribe(),
                _shutdown_complete: self.shutdown_complete_tx.clone(),
            };
            tokio::spawn(async move {
                if let Err(e) = handler.run().await {
                    if !quiet(&e) {
                        eprintln!("stagger serve: {}: {e}", handler.peer);
                    }
                }
                drop(permit);
            });
        }
    }

    /// Accepts a connection, retrying transient errors (such as running
    /// out of file descriptors) with a backoff of up to about a minute.
    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut backoff = 1;
        loop {
            match self.listener.accept().await {
                Ok(conn) => return Ok(conn),
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
}

/// Errors that only mean the client went away.
fn quiet(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted)
}

struct Handler {
    socket: TcpStream,
    peer: SocketAddr,
    config: Arc<Config>,
    shutdown: broadcast::Receiver<()>,
    /// Dropped with the handler: how [`run_with`] knows it has finished.
    _shutdown_complete: mpsc::Sender<()>,
}

impl Handler {
    async fn run(&mut self) -> io::Result<()> {
        let head = tokio::select! {
            head = tokio::time::timeout(self.config.read_timeout, read_head(&mut self.socket, self.config.max_head_bytes)) => head,
            // Shutting down before the request arrived: just close.
            _ = self.shutdown.recv() => return Ok(()),
        };
        let response = match head {
            Err(_elapsed) => Response::error(408, "Request Timeout", "the request head did not arrive in time"),
            Ok(Err(HeadError::Io(e))) => return Err(e),
            Ok(Err(HeadError::Closed)) => return Ok(()),
            Ok(Err(HeadError::TooLarge)) => Response::error(
                431,
                "Request Header Fields Too Large",
                &format!("the request head is larger than {} bytes", self.config.max_head_bytes),
            ),
            Ok(Ok(bytes)) => match Request::parse(&bytes) {
                Ok(req) => match self.config.app.clone() {
                    Some(app) if req.target == "/ws" || req.target.starts_with("/ws?") => {
                        if !req.header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
                            Response::error(400, "Bad Request", "/ws speaks WebSocket: send an Upgrade: websocket request")
                        } else if req.header("sec-websocket-key").is_none() {
                            Response::error(400, "Bad Request", "a WebSocket upgrade needs a Sec-WebSocket-Key header (RFC 6455, 4.1)")
                        } else {
                            // The session owns the connection until it ends.
                            tokio::select! {
                                _ = app.upgrade(&mut self.socket, req) => {}
                                _ = self.shutdown.recv() => {}
                            }
                            return Ok(());
                        }
                    }
                    // The Live view of a playground served by one node reads
                    // and controls the others: the API allows any origin (the
                    // admin token, not the origin, guards the actions).
                    Some(_) if req.target.starts_with("/api/") && req.method == "OPTIONS" => Response::new(
                        204,
                        "No Content",
                        "text/plain",
                        b"",
                        false,
                        &[
                            ("Access-Control-Allow-Origin", "*"),
                            ("Access-Control-Allow-Methods", "GET, POST"),
                            ("Access-Control-Allow-Headers", "Authorization"),
                        ],
                    ),
                    Some(app) if req.target.starts_with("/api/") => match app.respond(&req) {
                        Some(r) => Response::new(
                            r.status,
                            reason_phrase(r.status),
                            r.content_type,
                            &r.body,
                            req.method != "HEAD",
                            &[("Access-Control-Allow-Origin", "*")],
                        ),
                        None => Response::error(404, "Not Found", &format!("not found: {}", req.target)),
                    },
                    _ => respond(&req, self.config.assets),
                },
                Err(why) => Response::error(400, "Bad Request", why),
            },
        };
        // A response already decided is written even during shutdown, but
        // not to a client that stops reading.
        let write = async {
            self.socket.write_all(&response.bytes).await?;
            self.socket.flush().await
        };
        match tokio::time::timeout(self.config.write_timeout, write).await {
            Ok(result) => result?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading the response")),
        }
        self.linger().await;
        Ok(())
    }

    /// Closes the write side and reads what the client still sends for a
    /// moment, so that closing with unread data does not reset the
    /// connection before the client has read the response.
    async fn linger(&mut self) {
        let (socket, shutdown) = (&mut self.socket, &mut self.shutdown);
        let _ = socket.shutdown().await;
        let mut buf = [0u8; 4096];
        let mut left = 64 * 1024usize;
        let drain = async {
            while left > 0 {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left = left.saturating_sub(n),
                }
            }
        };
        tokio::select! {
            _ = tokio::time::timeout(Duration::from_secs(1), drain) => {}
            _ = shutdown.recv() => {}
        }
    }
}

enum HeadError {
    Io(io::Error),
    /// The client closed the connection before sending a full head.
    Closed,
    TooLarge,
}

/// Reads up to the blank line that ends the request head, and no further.
async fn read_head(socket: &mut TcpStream, max: usize) -> Result<Vec<u8>, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = socket.read(&mut chunk).await.map_err(HeadError::Io)?;
        if n == 0 {
            // A head cut short by EOF is answered anyway when it has at
            // least a request line; an empty connection is just closed.
            return if buf.contains(&b'\n') { Ok(buf) } else { Err(HeadError::Closed) };
        }
        let searched_from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&buf[searched_from..]) {
            let end = searched_from + end;
            if end > max {
                return Err(HeadError::TooLarge);
            }
            buf.truncate(end);
            return Ok(buf);
        }
        if buf.len() > max {
            return Err(HeadError::TooLarge);
        }
    }
}

/// The length of the head including its final blank line, if complete.
fn head_end(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find_map(|i| {
        if buf[i..].starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if buf[i..].starts_with(b"\n\n") {
            Some(i + 2)
        } else {
            None
        }
    })
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The target as sent, query included.
    pub target: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    /// Header names lower-cased, values trimmed, in order.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Parses a request head; the error says what is wrong with it.
    pub fn parse(head: &[u8]) -> Result<Request, &'static str> {
        let text = std::str::from_utf8(head).map_err(|_| "the request head is not UTF-8")?;
        let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let line = lines.next().unwrap_or_default();
        let mut parts = line.split(' ');
        let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err("malformed request line: expected `METHOD /path HTTP/1.1`");
        };
        if method.is_empty() || !method.bytes().all(is_token_byte) {
            return Err("malformed request line: the method is not a token");
        }
        if target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
            return Err("malformed request line: bad request target");
        }
        if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
            return Err("malformed request line: only HTTP/1.0 and HTTP/1.1 are spoken here");
        }
        let mut headers = Vec::new();
        for line in lines.take_while(|l| !l.is_empty()) {
            let Some((name, value)) = line.split_once(':') else {
                return Err("malformed header line: no `:`");
            };
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err("malformed header line: bad header name");
            }
            headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
        }
        Ok(Request { method: method.to_string(), target: target.to_string(), version: version.to_string(), headers })
    }

    /// The value of the first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A complete response, head and body, ready to write.
struct Response {
    bytes: Vec<u8>,
}

impl Response {
    fn new(status: u16, reason: &str, content_type: &str, body: &[u8], include_body: bool, extra: &[(&str, &str)]) -> Response {
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n\
             X-Content-Type-Options: nosniff\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in extra {
            head += &format!("{name}: {value}\r\n");
        }
        head += "\r\n";
        let mut bytes = head.into_bytes();
        if include_body {
            bytes.extend_from_slice(body);
        }
        Response { bytes }
    }

    fn error(status: u16, reason: &str, message: &str) -> Response {
        Response::new(status, reason, "text/plain; charset=utf-8", format!("{message}\n").as_bytes(), true, &[])
    }
}

/// The response to a well-formed request.
fn respond(req: &Request, assets: Assets) -> Response {
    let head_only = match req.method.as_str() {
        "GET" => false,
        "HEAD" => true,
        _ => {
            let body = format!("method {} is not allowed: use GET or HEAD\n", req.method);
            return Response::new(405, "Method Not Allowed", "text/plain; charset=utf-8", body.as_bytes(), true, &[("Allow", "GET, HEAD")]);
        }
    };
    let error = |status, reason, message: &str| {
        Response::new(status, reason, "text/plain; charset=utf-8", format!("{message}\n").as_bytes(), !head_only, &[])
    };
    let path = match resolve(&req.target) {
        Ok(p) => p,
        Err(why) => return error(400, "Bad Request", why),
    };
    if lookup(assets, "index.html").is_none() {
        return error(503, "Service Unavailable", NOT_BUILT);
    }
    match lookup(assets, &path) {
        Some((body, content_type)) => Response::new(200, "OK", content_type, body, !head_only, &[]),
        None => error(404, "Not Found", &format!("not found: /{path}")),
    }
}

/// The embedded path a request target asks for: the query is dropped,
/// `%xx` escapes decoded, `/` and `dir/` mean `index.html`, and any `.` or
/// `..` segment is refused.
pub fn resolve(target: &str) -> Result<String, &'static str> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let Some(path) = path.strip_prefix('/') else {
        return Err("the request target must be a path starting with `/`");
    };
    let decoded = percent_decode(path).ok_or("the path has a bad `%` escape or is not UTF-8")?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err("the path has a backslash or NUL");
    }
    let segments: Vec<&str> = decoded.split('/').collect();
    if segments.iter().any(|s| *s == ".." || *s == ".") {
        return Err("path traversal refused: the path has a `.` or `..` segment");
    }
    if segments.iter().rev().skip(1).any(|s| s.is_empty()) {
        return Err("the path has an empty segment (`//`)");
    }
    let mut path = decoded;
    if path.is_empty() || path.ends_with('/') {
        path += "index.html";
    }
    Ok(path)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_maps_paths_and_refuses_traversal() {
        assert_eq!(resolve("/").unwrap(), "index.html");
        assert_eq!(resolve("/index.html?x=1").unwrap(), "index.html");
        assert_eq!(resolve("/pkg/stagger_web.js").unwrap(), "pkg/stagger_web.js");
        assert_eq!(resolve("/scenarios/").unwrap(), "scenarios/index.html");
        assert_eq!(resolve("/a%20b.json").unwrap(), "a b.json");
        for bad in
            ["/../etc/passwd", "/pkg/../../x", "/%2e%2e/x", "/./index.html", "/a%2F..%2Fb/..", "index.html", "/%zz", "/a//b", "/a\\b"]
        {
            assert!(resolve(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn request_heads_parse() {
        let r = Request::parse(b"GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").unwrap();
        assert_eq!((r.method.as_str(), r.target.as_str(), r.version.as_str()), ("GET", "/x", "HTTP/1.1"));
        assert_eq!(r.header("upgrade"), Some("websocket"));
        assert_eq!(r.header("HOST"), Some("a"));
        for bad in [
            &b"GET /x\r\n\r\n"[..],
            b"GET  /x HTTP/1.1\r\n\r\n",
            b"GET /x HTTP/2\r\n\r\n",
            b"G(T /x HTTP/1.1\r\n\r\n",
            b"GET /x HTTP/1.1\r\nno colon\r\n\r\n",
        ] {
            assert!(Request::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn the_asset_table_is_sorted_for_lookup() {
        assert!(assets().windows(2).all(|w| w[0].0 < w[1].0));
    }
}
