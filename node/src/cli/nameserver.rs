//! `stagger nameserver --listen ADDR (--data DIR | --etcd URL[,URL...])`:
//! the name server (docs/protocol.md N1–N11) over HTTP, on the same
//! server, limits and layers as a node (`crate::serve`), its state kept by
//! the embedded backend in a folder or by the etcd backend in an etcd
//! cluster (N17–N19). The routes are the same either way, so nodes and
//! `stagger client` cannot tell the two apart.

use super::CliError;
use crate::names::{http, Embedded, Etcd};
use stagger_core::names::Limits;
use stagger_core::Span;
use std::path::Path;

/// Where the name server keeps its state.
enum Backend {
    Data(std::path::PathBuf),
    Etcd(Vec<String>),
}

pub fn run(listen: &str, data: Option<&Path>, etcd: Option<&str>, min_ttl_ms: u64, max_ttl_ms: u64) -> Result<(), CliError> {
    if min_ttl_ms == 0 || min_ttl_ms > max_ttl_ms {
        return Err(CliError::Usage(format!("--min-ttl-ms ({min_ttl_ms}) must be at least 1 and at most --max-ttl-ms ({max_ttl_ms})")));
    }
    let backend = backend(data, etcd)?;
    let limits = Limits { min_ttl: Span::from_ms(min_ttl_ms), max_ttl: Span::from_ms(max_ttl_ms), ..Limits::default() };
    let io = |source| CliError::Io { path: listen.to_string(), source };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(io)?;
        let local = listener.local_addr().map_err(io)?;
        let config = match backend {
            Backend::Data(dir) => {
                let store = Embedded::open(&dir, limits)
                    .map_err(|e| CliError::Io { path: dir.display().to_string(), source: std::io::Error::other(e.to_string()) })?;
                println!("name server at http://{local}/ keeping its state in {} (Ctrl-C stops)", dir.display());
                tokio::spawn(store.clone().expire_leases());
                http::config(store)
            }
            Backend::Etcd(urls) => {
                let store = Etcd::connect(&urls, limits)
                    .await
                    .map_err(|e| CliError::Io { path: urls.join(","), source: std::io::Error::other(e.to_string()) })?;
                let l = store.limits();
                println!(
                    "name server at http://{local}/ keeping its state in etcd at {} (leases {}-{} s; Ctrl-C stops)",
                    urls.join(","),
                    l.min_ttl.as_micros() / 1_000_000,
                    l.max_ttl.as_micros() / 1_000_000
                );
                tokio::spawn(store.clone().expire_leases());
                http::config(store)
            }
        };
        crate::serve::run_with(listener, config, super::stop_signal()).await.map_err(io)?;
        eprintln!("name server stopped");
        Ok(())
    })
}

/// Exactly one of `--data` and `--etcd`; the etcd URLs checked.
fn backend(data: Option<&Path>, etcd: Option<&str>) -> Result<Backend, CliError> {
    match (data, etcd) {
        (Some(dir), None) => Ok(Backend::Data(dir.to_path_buf())),
        (None, Some(list)) => etcd_urls(list).map(Backend::Etcd),
        (None, None) => Err(CliError::Usage(
            "give --data DIR (the embedded name server, state in a folder) or --etcd URL[,URL...] (state in an etcd cluster)".into(),
        )),
        (Some(_), Some(_)) => {
            Err(CliError::Usage("--data and --etcd exclude each other: the state lives in a folder or in etcd, not both".into()))
        }
    }
}

/// `http://host:port[,...]`: plain HTTP (no TLS yet), a port, no path.
fn etcd_urls(list: &str) -> Result<Vec<String>, CliError> {
    let urls: Vec<String> = list.split(',').map(|u| u.trim().trim_end_matches('/').to_string()).collect();
    for u in &urls {
        let bad = |why: &str| CliError::Usage(format!("--etcd: {u:?} {why}; expected http://HOST:PORT[,http://HOST:PORT...]"));
        let rest = u.strip_prefix("http://").ok_or_else(|| bad("is not an http:// URL"))?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("has no port"))?;
        if host.is_empty() || host.contains('/') || port.parse::<u16>().is_err() {
            return Err(bad("is not HOST:PORT after http://"));
        }
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(r: Result<Backend, CliError>) -> String {
        match r {
            Err(CliError::Usage(m)) => m,
            Err(e) => panic!("expected a usage error, got {e}"),
            Ok(_) => panic!("expected a usage error"),
        }
    }

    #[test]
    fn exactly_one_backend_with_well_formed_etcd_urls() {
        assert!(usage(backend(None, None)).contains("--data DIR"));
        assert!(usage(backend(Some(Path::new("x")), Some("http://a:1"))).contains("exclude each other"));
        let Ok(Backend::Etcd(urls)) = backend(None, Some("http://127.0.0.1:2379, http://127.0.0.1:22379/")) else { panic!() };
        assert_eq!(urls, ["http://127.0.0.1:2379", "http://127.0.0.1:22379"]);
        assert!(usage(backend(None, Some("127.0.0.1:2379"))).contains("not an http:// URL"));
        assert!(usage(backend(None, Some("http://127.0.0.1"))).contains("no port"));
        assert!(usage(backend(None, Some("http://h:2379,http://h:x"))).contains("\"http://h:x\""));
        assert!(usage(backend(None, Some("http://h/p:1"))).contains("HOST:PORT"));
    }
}
