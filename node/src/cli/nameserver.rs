//! `stagger nameserver --listen ADDR --data DIR`: the embedded name server
//! (docs/protocol.md N1–N11) over HTTP, on the same server, limits and
//! layers as a node (`crate::serve`).

use super::CliError;
use crate::names::{http, Embedded};
use stagger_core::names::Limits;
use stagger_core::Span;
use std::path::Path;

pub fn run(listen: &str, data: &Path, min_ttl_ms: u64, max_ttl_ms: u64) -> Result<(), CliError> {
    if min_ttl_ms == 0 || min_ttl_ms > max_ttl_ms {
        return Err(CliError::Usage(format!("--min-ttl-ms ({min_ttl_ms}) must be at least 1 and at most --max-ttl-ms ({max_ttl_ms})")));
    }
    let limits = Limits { min_ttl: Span::from_ms(min_ttl_ms), max_ttl: Span::from_ms(max_ttl_ms), ..Limits::default() };
    let io = |source| CliError::Io { path: listen.to_string(), source };
    let store = Embedded::open(data, limits)
        .map_err(|e| CliError::Io { path: data.display().to_string(), source: std::io::Error::other(e.to_string()) })?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(io)?;
        let local = listener.local_addr().map_err(io)?;
        println!("name server at http://{local}/ keeping its state in {} (Ctrl-C stops)", data.display());
        tokio::spawn(store.clone().expire_leases());
        crate::serve::run_with(listener, http::config(store), super::stop_signal()).await.map_err(io)?;
        eprintln!("name server stopped");
        Ok(())
    })
}
