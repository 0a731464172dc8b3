//! The engine driver with real time, wired in memory: the same failover the
//! simulator predicts happens on the tokio clock.

use stagger_node::group::Group;
use stagger_node::runtime::{self, EngineCommand, EngineHandle, Outgoing};
use std::time::Duration;
use tokio::sync::mpsc;

/// Three members on a "LAN" with fast detection: P = 100 ms, τ = 50 ms.
fn group() -> Group {
    let text = r#"{
        "servers": [{"id": "a", "addr": "127.0.0.1:1"}, {"id": "b", "addr": "127.0.0.1:2"}, {"id": "c", "addr": "127.0.0.1:3"}],
        "ranking": ["a", "b", "c"],
        "delays_ms": [[0, 1, 1], [1, 0, 1], [1, 1, 0]],
        "timer": {"scheme": "integral", "base_ms": 10},
        "detection": {"period_ms": 100, "timeout_ms": 50},
        "secret": "test-secret"
    }"#;
    Group::from_json(text).unwrap()
}

/// Starts every engine and a router that hands each send to its receivers.
fn start(g: &Group) -> Vec<EngineHandle> {
    let n = g.members.len();
    let mut engines = Vec::new();
    let mut outs = Vec::new();
    for row in 0..n as u32 {
        let (tx, rx) = mpsc::unbounded_channel::<Outgoing>();
        let (engine, _task) = runtime::spawn(g, row, row as u64, tx);
        engines.push(engine);
        outs.push(rx);
    }
    let inboxes: Vec<_> = engines.iter().map(|e| e.commands.clone()).collect();
    for (from, mut rx) in outs.into_iter().enumerate() {
        let inboxes = inboxes.clone();
        tokio::spawn(async move {
            while let Some(o) = rx.recv().await {
                for (to, inbox) in inboxes.iter().enumerate() {
                    if to != from && o.to.is_none_or(|t| t as usize == to) {
                        let _ = inbox.send(EngineCommand::Receive(o.env));
                    }
                }
            }
        });
    }
    engines
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !ok() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_crashed_master_is_replaced_by_the_next_rank() {
    let g = group();
    let engines = start(&g);
    let status = |i: usize| engines[i].status.borrow().clone();
    // Healthy: a is master, and b and c name it.
    wait_for("the initial group", Duration::from_secs(10), || {
        status(1).master.as_deref() == Some("a") && status(2).master.as_deref() == Some("a")
    })
    .await;
    engines[0].commands.send(EngineCommand::Crash).unwrap();
    // Detection (≤ P + τ) plus D_1 = T1 = 10 ms, with room for a loaded CI.
    wait_for("b to take over", Duration::from_secs(10), || runtime::is_master(status(1).role) && status(2).master.as_deref() == Some("b"))
        .await;
    assert_eq!(status(0).role, "Down");
    assert!(engines[1].log.recent().iter().any(|e| e.what.contains("role Master")));
    // A recovered a rejoins as a Backup and learns the master by inquiry.
    engines[0].commands.send(EngineCommand::Recover).unwrap();
    wait_for("a to rejoin under b", Duration::from_secs(10), || status(0).master.as_deref() == Some("b")).await;
    assert_eq!(status(0).role, "Backup", "a recovered server never takes mastership back by itself");
    assert!(runtime::is_master(status(1).role));
}
