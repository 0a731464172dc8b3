//! `stagger serve` over real TCP connections on 127.0.0.1: the HTTP rules
//! on a small table of files (so these tests do not need dist/), the
//! embedded playground, the limits, graceful shutdown and the CLI.

use stagger_node::serve::{self, Assets, Config};
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

const INDEX: &[u8] = b"<!doctype html><title>t</title>";

/// Sorted by path, as `Config::assets` must be.
static FILES: Assets = &[
    ("embed.html", b"<!doctype html><title>e</title>", "text/html; charset=utf-8"),
    ("index.html", INDEX, "text/html; charset=utf-8"),
    ("logo.svg", b"<svg/>", "image/svg+xml"),
    ("pkg/stagger_web.js", b"export default 1;", "text/javascript; charset=utf-8"),
    ("pkg/stagger_web_bg.wasm", b"\0asm\x01\0\0\0", "application/wasm"),
    ("scenarios/patent-5.json", b"{}", "application/json"),
    ("style.css", b"body{}", "text/css; charset=utf-8"),
];

/// The small table of files, default limits.
fn files() -> Config {
    Config { assets: FILES, ..Config::default() }
}

/// Bounds every test: a hung connection fails instead of blocking CI.
const LIMIT: Duration = Duration::from_secs(20);

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(config: Config) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve::run_with(listener, config, async move {
            let _ = rx.await;
        }));
        Server { addr, stop: Some(tx), task }
    }

    async fn files() -> Server {
        Server::start(files()).await
    }

    /// Stops the server and waits for `run` to return.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        timeout(LIMIT, self.task).await.expect("run returns after shutdown").unwrap().unwrap();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    // HTTP/1.1, or 1.0 to a client that speaks 1.0.
    assert!(parts.next().is_some_and(|v| v == "HTTP/1.1" || v == "HTTP/1.0"), "{status_line}");
    let status = parts.next().unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_string(), v.trim().to_string())
        })
        .collect();
    Reply { status, headers, body: raw[split + 4..].to_vec() }
}

/// Sends `request` as is and reads the whole response (the server closes).
async fn send(addr: SocketAddr, request: &[u8]) -> Reply {
    timeout(LIMIT, async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.unwrap();
        parse_reply(&raw)
    })
    .await
    .expect("the server answers in time")
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    send(addr, format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n").as_bytes()).await
}

async fn within<F: Future>(f: F) -> F::Output {
    timeout(LIMIT, f).await.expect("the test finishes in time")
}

#[tokio::test]
async fn root_serves_index_html_with_length_type_and_no_cache() {
    let server = Server::files().await;
    for path in ["/", "/index.html", "/index.html?x=1"] {
        let r = get(server.addr, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, INDEX, "{path}");
        assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.header("Content-Length"), Some(INDEX.len().to_string().as_str()));
        assert_eq!(r.header("Cache-Control"), Some("no-cache"));
        assert_eq!(r.header("Connection"), Some("close"));
    }
    server.stop().await;
}

#[tokio::test]
async fn every_kind_of_file_gets_its_content_type() {
    let server = Server::files().await;
    let want = [
        ("/style.css", "text/css; charset=utf-8"),
        ("/pkg/stagger_web.js", "text/javascript; charset=utf-8"),
        ("/pkg/stagger_web_bg.wasm", "application/wasm"),
        ("/scenarios/patent-5.json", "application/json"),
        ("/logo.svg", "image/svg+xml"),
        ("/embed.html", "text/html; charset=utf-8"),
    ];
    for (path, ty) in want {
        let r = get(server.addr, path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("Content-Type"), Some(ty), "{path}");
        let (_, bytes, _) = FILES.iter().find(|(p, _, _)| format!("/{p}") == path).unwrap();
        assert_eq!(r.body, *bytes, "{path}");
        assert_eq!(r.header("Content-Length").unwrap().parse::<usize>().unwrap(), bytes.len());
    }
    server.stop().await;
}

#[tokio::test]
async fn head_sends_the_headers_of_get_and_no_body() {
    let server = Server::files().await;
    let get = get(server.addr, "/pkg/stagger_web_bg.wasm").await;
    let head = send(server.addr, b"HEAD /pkg/stagger_web_bg.wasm HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body: {:?}", head.body);
    assert_eq!(head.headers, get.headers);
    let missing = send(server.addr, b"HEAD /nope HTTP/1.1\r\n\r\n").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let server = Server::files().await;
    for path in ["/nope.html", "/pkg/", "/scenarios/none.json", "/INDEX.HTML"] {
        let r = get(server.addr, path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
        assert!(r.text().contains("not found"), "{}", r.text());
    }
    server.stop().await;
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let server = Server::files().await;
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = send(server.addr, format!("{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").as_bytes()).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("Allow"), Some("GET, HEAD"), "{method}");
        assert!(r.text().contains(method), "{}", r.text());
    }
    server.stop().await;
}

/// A head hyper cannot parse gets hyper's own 400 Bad Request, which has
/// no body (docs/protocol.md L13); a target it parses but that is no path
/// gets ours, which names the problem.
#[tokio::test]
async fn malformed_request_lines_are_400() {
    let server = Server::files().await;
    for bad in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"G{T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nthis header has no colon\r\n\r\n",
        b"\xff\xfe / HTTP/1.1\r\n\r\n",
    ] {
        let r = send(server.addr, bad).await;
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(bad));
        assert_eq!(r.header("Content-Length"), Some("0"), "{:?}", String::from_utf8_lossy(bad));
        assert_eq!(r.header("Connection"), Some("close"));
    }
    let r = send(server.addr, b"GET index.html HTTP/1.1\r\n\r\n").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("must be a path starting with `/`"), "{}", r.text());
    server.stop().await;
}

#[tokio::test]
async fn path_traversal_is_refused() {
    let server = Server::files().await;
    for path in
        ["/../Cargo.toml", "/pkg/../../Cargo.toml", "/%2e%2e/Cargo.toml", "/pkg/%2E%2E/index.html", "/./index.html", "/pkg/..%2F..%2Fx"]
    {
        let r = get(server.addr, path).await;
        assert_eq!(r.status, 400, "{path}");
        assert!(r.text().contains("traversal"), "{path}: {}", r.text());
    }
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_head_is_431() {
    let server = Server::files().await;
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20 * 1024));
    let r = send(server.addr, big.as_bytes()).await;
    // hyper's limit answers, without a body (docs/protocol.md L13).
    assert_eq!(r.status, 431);
    assert_eq!(r.header("Content-Length"), Some("0"));
    // Just under the cap is fine.
    let ok = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(15 * 1024));
    assert_eq!(send(server.addr, ok.as_bytes()).await.status, 200);
    server.stop().await;
}

/// hyper's header timeout closes the connection without a 408: it has no
/// way to answer a request it has not finished reading (docs/protocol.md
/// L13). The slot is freed, so others are served.
#[tokio::test]
async fn a_slow_head_is_cut_off_after_the_read_timeout() {
    let config = Config { assets: FILES, read_timeout: Duration::from_millis(300), max_connections: 1, ..Config::default() };
    let server = Server::start(config).await;
    within(async {
        let started = Instant::now();
        let mut slow = TcpStream::connect(server.addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let mut rest = Vec::new();
        slow.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(get(server.addr, "/").await.status, 200);
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let server = Server::start(Config { assets: FILES, max_connections: 1, ..Config::default() }).await;
    within(async {
        // The only slot is held by a client that has not sent anything.
        let idle = TcpStream::connect(server.addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let waiting = tokio::spawn(get(server.addr, "/"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a second connection was served while the cap was reached");
        drop(idle);
        let r = waiting.await.unwrap();
        assert_eq!(r.status, 200);
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_stops_accepting() {
    let server = Server::files().await;
    let addr = server.addr;
    within(async {
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        // Let the server accept it before shutting down.
        assert_eq!(get(addr, "/").await.status, 200);
        server.stop().await;
        // The half-sent request is dropped without a response...
        let mut rest = Vec::new();
        idle.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
        // ...and nobody listens any more.
        assert!(TcpStream::connect(addr).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn without_the_playground_every_path_is_503_saying_how_to_build_it() {
    let server = Server::start(Config { assets: &[], ..Config::default() }).await;
    for path in ["/", "/pkg/stagger_web.js"] {
        let r = get(server.addr, path).await;
        assert_eq!(r.status, 503, "{path}");
        assert!(r.text().contains("run `cargo xtask web` and rebuild"), "{}", r.text());
        assert_eq!(r.text().trim(), serve::NOT_BUILT);
    }
    server.stop().await;
}

#[tokio::test]
async fn the_embedded_playground_is_served_or_503() {
    let server = Server::start(Config::default()).await;
    let r = get(server.addr, "/").await;
    if serve::playground_embedded() {
        assert_eq!(r.status, 200);
        assert!(r.text().contains("stagger_web.js"), "{}", r.text());
        let wasm = get(server.addr, "/pkg/stagger_web_bg.wasm").await;
        assert_eq!(wasm.status, 200);
        assert_eq!(wasm.header("Content-Type"), Some("application/wasm"));
        assert!(wasm.body.starts_with(b"\0asm"));
        let js = get(server.addr, "/pkg/stagger_web.js").await;
        assert_eq!(js.header("Content-Type"), Some("text/javascript; charset=utf-8"));
        let scenario = get(server.addr, "/scenarios/patent-5.json").await;
        assert_eq!(scenario.status, 200);
        assert_eq!(scenario.header("Content-Type"), Some("application/json"));
        assert_eq!(get(server.addr, "/embed.html").await.status, 200);
        // Every embedded file is served byte for byte.
        for (path, bytes, ty) in serve::assets() {
            let r = get(server.addr, &format!("/{path}")).await;
            assert_eq!((r.status, r.header("Content-Type")), (200, Some(*ty)), "{path}");
            assert_eq!(r.body.len(), bytes.len(), "{path}");
        }
    } else {
        eprintln!("note: this binary was built without {}; checking the 503", serve::built_from());
        assert_eq!(r.status, 503);
        assert_eq!(r.text().trim(), serve::NOT_BUILT);
    }
    server.stop().await;
}

/// An app's routes answer before the files, under the same layers.
fn app_config(app: axum::Router) -> Config {
    Config { app: Some(app), ..files() }
}

#[tokio::test]
async fn app_routes_answer_before_the_files_and_a_slow_handler_gets_503() {
    let app = axum::Router::new().route("/api/hello", axum::routing::get(|| async { "hi" })).route(
        "/api/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let config = Config { read_timeout: Duration::from_millis(300), ..app_config(app) };
    let server = Server::start(config).await;
    let hello = get(server.addr, "/api/hello").await;
    assert_eq!((hello.status, hello.text().as_str()), (200, "hi"));
    assert_eq!(hello.header("Cache-Control"), Some("no-cache"));
    assert_eq!(hello.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(get(server.addr, "/").await.body, INDEX, "the files still answer the rest");
    let started = Instant::now();
    let slow = get(server.addr, "/api/slow").await;
    assert_eq!((slow.status, slow.header("Connection")), (503, Some("close")));
    assert!(started.elapsed() < Duration::from_secs(5));
    server.stop().await;
}

/// A route that sleeps `ms` and returns how many of its handlers ran at
/// once, at most.
fn busy_app(ms: u64) -> (axum::Router, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let m = most.clone();
    let handler = move || {
        let (n, m) = (now.clone(), m.clone());
        async move {
            m.fetch_max(n.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            n.fetch_sub(1, Ordering::SeqCst);
            "done"
        }
    };
    (axum::Router::new().route("/api/busy", axum::routing::get(handler)), most)
}

/// Requests beyond `max_requests` wait for a place rather than run at once:
/// with one place, four concurrent requests never see two handlers run
/// together; with the default, they do.
#[tokio::test]
async fn requests_beyond_the_limit_wait_for_a_place() {
    use std::sync::atomic::Ordering;
    let (app, most) = busy_app(50);
    let server = Server::start(Config { max_requests: 1, ..app_config(app) }).await;
    let replies = futures_util::future::join_all((0..4).map(|_| get(server.addr, "/api/busy"))).await;
    assert!(replies.iter().all(|r| r.status == 200 && r.text() == "done"), "every request is answered in turn");
    assert_eq!(most.load(Ordering::SeqCst), 1, "never two handlers at once");
    server.stop().await;

    let (app, most) = busy_app(200);
    let server = Server::start(app_config(app)).await;
    futures_util::future::join_all((0..4).map(|_| get(server.addr, "/api/busy"))).await;
    assert!(most.load(Ordering::SeqCst) > 1, "with the default limit, requests overlap");
    server.stop().await;

    // A path that needs no place (the store's writes, which wait for their
    // commit) overlaps even under a limit of one.
    let (app, most) = busy_app(200);
    let server = Server::start(Config { max_requests: 1, unlimited: &["/api/busy"], ..app_config(app) }).await;
    futures_util::future::join_all((0..4).map(|_| get(server.addr, "/api/busy"))).await;
    assert!(most.load(Ordering::SeqCst) > 1, "an unlimited path takes no place");
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let server = Server::start(Config { max_body_bytes: 1024, ..files() }).await;
    let head = |n: usize| format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n");
    let r = send(server.addr, format!("{}{}", head(2048), "a".repeat(2048)).as_bytes()).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.header("Connection"), Some("close"), "one request per connection, whoever answers");
    // Under the limit, the request goes on to be refused for its method.
    let r = send(server.addr, format!("{}{}", head(10), "a".repeat(10)).as_bytes()).await;
    assert_eq!(r.status, 405);
    server.stop().await;
}

#[tokio::test]
#[should_panic(expected = "must be sorted by path")]
async fn an_unsorted_asset_table_is_refused() {
    static UNSORTED: Assets = &[("index.html", b"i", "text/html"), ("a.css", b"a", "text/css")];
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let _ = serve::run_with(listener, Config { assets: UNSORTED, ..Config::default() }, async {}).await;
}

/// A WebSocket echo on `/ws` through `serve::Upgrade`, the way a node
/// mounts its sessions.
fn echo_app() -> axum::Router {
    use futures_util::{SinkExt, StreamExt};
    let ws = |upgrade: serve::Upgrade| async move {
        let (response, session) = upgrade.accept(Default::default(), |mut ws: serve::Socket| async move {
            while let Some(Ok(m)) = ws.next().await {
                if m.is_text() && ws.send(m).await.is_err() {
                    break;
                }
            }
        });
        tokio::spawn(session);
        response
    };
    axum::Router::new().route("/ws", axum::routing::any(ws))
}

#[tokio::test]
async fn a_websocket_session_runs_on_the_upgraded_connection_and_holds_its_slot() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = Server::start(Config { max_connections: 1, ..app_config(echo_app()) }).await;
    within(async {
        let (mut ws, answer) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.unwrap();
        assert_eq!(answer.status(), 101);
        ws.send(Message::text("ping")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("ping"));
        // The session is the one connection allowed: a request waits...
        let waiting = tokio::spawn(get(server.addr, "/"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a request was served while a session held the only slot");
        // ...until it ends.
        ws.close(None).await.unwrap();
        drop(ws);
        assert_eq!(waiting.await.unwrap().status, 200);
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_ws_request_that_is_no_upgrade_is_400_naming_what_is_missing() {
    let server = Server::start(app_config(echo_app())).await;
    for (head, names) in [
        ("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", "Upgrade: websocket"),
        ("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "Sec-WebSocket-Key"),
        ("GET /ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n", "HTTP/1.1"),
    ] {
        let r = send(server.addr, head.as_bytes()).await;
        assert_eq!(r.status, 400, "{head}");
        assert!(r.text().contains(names), "{head}: {}", r.text());
    }
    server.stop().await;
}

/// The binary prints its URL, serves, and stops cleanly on Ctrl-C (SIGINT).
#[test]
fn the_serve_command_prints_its_url_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stagger"))
        .args(["serve", "--port", "0", "--host", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(LIMIT) {
        Ok(l) => l,
        Err(_) => {
            let _ = child.kill();
            panic!("`stagger serve` printed no URL within {LIMIT:?}");
        }
    };
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("no URL in {line:?}"));
    assert!(line.starts_with("serving the playground at http://127.0.0.1:"), "{line}");
    let addr: SocketAddr = url.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let r = rt.block_on(get(addr, "/"));
    assert_eq!(r.status, if serve::playground_embedded() { 200 } else { 503 });

    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + LIMIT;
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`stagger serve` did not stop within {LIMIT:?} of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "`stagger serve` exited with {exit} after Ctrl-C");
}
