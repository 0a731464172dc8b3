//! `stagger ctl --node URL --token T crash|recover|isolate|heal|status`: a
//! tiny HTTP client for a node's admin API (plain HTTP/1.1 over tokio, so no
//! HTTP client library is needed for five requests).

use super::CliError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub fn run(node: &str, token: &str, action: &str) -> Result<(), CliError> {
    let (method, path) = match action {
        "status" => ("GET", "/api/status".to_string()),
        "crash" | "recover" | "isolate" | "heal" => ("POST", format!("/api/admin/{action}")),
        other => return Err(CliError::Usage(format!("unknown action '{other}': use crash, recover, isolate, heal or status"))),
    };
    let host = node.trim_start_matches("http://").trim_end_matches('/');
    if host.contains('/') || node.starts_with("https://") {
        return Err(CliError::Usage(format!("--node must look like http://HOST:PORT, not {node}")));
    }
    let io = |source| CliError::Io { path: node.to_string(), source };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(io)?;
    let (status, body) = runtime
        .block_on(async {
            let mut s = tokio::net::TcpStream::connect(host).await?;
            let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
            s.write_all(req.as_bytes()).await?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await?;
            let text = String::from_utf8_lossy(&buf).into_owned();
            let status = text.split(' ').nth(1).and_then(|c| c.parse::<u16>().ok()).unwrap_or(0);
            let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
            Ok::<_, std::io::Error>((status, body))
        })
        .map_err(io)?;
    if status == 200 {
        println!("{}", body.trim());
        Ok(())
    } else {
        Err(CliError::Usage(format!("{node} answered {status}: {}", body.trim())))
    }
}
