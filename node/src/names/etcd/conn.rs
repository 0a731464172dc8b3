//! The connection to the etcd cluster: one client per member, and a
//! current one that requests go to until it fails (N19).
//!
//! etcd-client's own balancing spreads requests over all endpoints, dead
//! ones included: with one member down, a share of the requests failed
//! with "connection refused" (found by the test that kills an etcd member).
//! So each member gets its own client; a request that fails before etcd
//! could act on it moves to the next member and is sent again there, for at
//! most [`RETRY_FOR`]. Clients ask for a leader (`require_leader`), so a
//! member between leaders answers "no leader" at once, which is retried
//! too, instead of holding the request until its own timeout.
//!
//! A write is sent again only when it certainly was not applied (the
//! connection was refused, or no leader): a write whose answer was lost
//! may have been applied, and is reported as `Unreachable` rather than
//! replayed. Reads are sent again on any transport failure.

use etcd_client::{Client, ConnectOptions, Error};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long one request keeps trying other members.
pub(super) const RETRY_FOR: Duration = Duration::from_secs(3);

/// Which failures a request may be sent again after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Retry {
    /// Any transport failure: reads, and writes that may be repeated
    /// (a lease grant, revoke or keep-alive).
    Transient,
    /// Only a failure before etcd could act: conditional writes.
    Unsent,
}

pub(super) struct Conn {
    clients: Vec<Client>,
    current: AtomicUsize,
}

impl Conn {
    pub(super) async fn connect(endpoints: &[String]) -> Result<Conn, Error> {
        let options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(1))
            .with_timeout(Duration::from_secs(5))
            .with_keep_alive(Duration::from_secs(2), Duration::from_secs(2))
            .with_require_leader(true);
        if endpoints.is_empty() {
            return Err(Error::InvalidArgs("no etcd endpoints given".into()));
        }
        let mut clients = Vec::new();
        for e in endpoints {
            clients.push(Client::connect([e], Some(options.clone())).await?);
        }
        Ok(Conn { clients, current: AtomicUsize::new(0) })
    }

    /// Runs `request` on the current member's client; on a failure that
    /// `retry` allows, moves to the next member and runs it again, pausing
    /// briefly after each round of all members, until [`RETRY_FOR`] passed.
    pub(super) async fn call<T, Fut>(&self, retry: Retry, request: impl Fn(Client) -> Fut) -> Result<T, Error>
    where
        Fut: Future<Output = Result<T, Error>>,
    {
        let n = self.clients.len();
        let deadline = Instant::now() + RETRY_FOR;
        let mut failed = 0;
        loop {
            let i = self.current.load(Ordering::Relaxed) % n;
            let e = match request(self.clients[i].clone()).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let again = match retry {
                Retry::Transient => transient(&e),
                Retry::Unsent => unsent(&e),
            };
            if !again || Instant::now() >= deadline {
                return Err(e);
            }
            let _ = self.current.compare_exchange(i, (i + 1) % n, Ordering::Relaxed, Ordering::Relaxed);
            failed += 1;
            if failed % n == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// gRPC status codes (tonic's `Code`, compared as numbers so that this
/// needs no direct dependency on tonic).
const CANCELLED: i32 = 1;
const UNKNOWN: i32 = 2;
const DEADLINE_EXCEEDED: i32 = 4;
const UNAVAILABLE: i32 = 14;

/// The request may not have reached etcd, or etcd could not serve it now.
fn transient(e: &Error) -> bool {
    match e {
        Error::TransportError(_) | Error::IoError(_) | Error::WatchError(_) => true,
        Error::GRpcStatus(s) => matches!(s.code() as i32, UNAVAILABLE | DEADLINE_EXCEEDED | CANCELLED | UNKNOWN),
        _ => false,
    }
}

/// The request certainly was not applied: the connection was refused, or
/// the member had no leader to propose it to.
fn unsent(e: &Error) -> bool {
    match e {
        Error::TransportError(_) => true,
        Error::GRpcStatus(s) => {
            let m = s.message();
            s.code() as i32 == UNAVAILABLE && (m.contains("tcp connect error") || m.contains("no leader"))
        }
        _ => false,
    }
}
