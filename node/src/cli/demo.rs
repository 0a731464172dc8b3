//! `stagger demo`: the README's main command for now. It simulates the
//! patent's five cities ([0027]) with the built-in scenario and writes the
//! diagram, the trace and the scenario itself, so the reader can open the
//! picture and then edit the scenario. Unless `--no-serve` is given, the
//! CLI then serves the playground with the same scenario loaded.

use super::{write, CliError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use stagger_core::delays::report;
use stagger_core::render::svg::{space_time, SvgOptions};
use stagger_core::{Scenario, ScenarioFile, Sim};
use std::path::Path;

/// The demo group's browser member: the reader's tab.
const YOU: &str = "you";
/// Its one-way delay to every city (emulated by the nodes).
const YOU_MS: f64 = 25.0;

/// The built-in scenario: `static/scenarios/patent-5.json`.
pub const PATENT_5: &str = include_str!("../../../static/scenarios/patent-5.json");

/// Simulates, prints and writes the files; returns the playground URL
/// fragment (`scenario=<base64url JSON>`) that loads the same scenario.
pub fn run(out: &Path) -> Result<String, CliError> {
    let scenario = Scenario::from_json(PATENT_5).expect("the built-in scenario is valid");
    let run = Sim::new(&scenario, true).run();
    print!("{}", super::sim::summary(&scenario, &run.metrics));
    let r = report(&scenario);
    let d: Vec<String> = r.ranks.iter().skip(1).map(|x| format!("{} {:.0}", x.id, x.d_ms.unwrap_or(0.0))).collect();
    println!("  election delays D_i (ms): {}", d.join(", "));
    let svg_path = out.join("patent-5.svg");
    let trace_path = out.join("patent-5.trace.json");
    let scenario_path = out.join("patent-5.json");
    write(&svg_path, &space_time(&scenario, &run, &SvgOptions::default()))?;
    let trace = run.trace.as_ref().expect("recorded").to_json(&scenario.ids);
    write(&trace_path, &serde_json::to_string(&trace).expect("trace serializes"))?;
    write(&scenario_path, PATENT_5)?;
    println!();
    println!("Wrote:");
    println!("  {}  (space-time diagram; open it in a browser)", svg_path.display());
    println!("  {}  (every send, delivery, timer and role change)", trace_path.display());
    println!("  {}  (edit it, then: stagger sim {} )", scenario_path.display(), scenario_path.display());
    let file = ScenarioFile::from_json(PATENT_5).expect("the built-in scenario is valid");
    let json = serde_json::to_string(&file).expect("a scenario serializes");
    Ok(format!("scenario={}", URL_SAFE_NO_PAD.encode(json)))
}

/// The live half of the demo: the five cities as five `stagger node`s in
/// this process, on consecutive ports from `port`, with the matrix's delays
/// emulated on loopback, plus a browser member for the reader's tab, until
/// Ctrl-C.
pub fn live(port: u16, out: &Path, fragment: &str) -> Result<(), CliError> {
    let ids = ["ottawa", "atlanta", "bangalore", "sydney", "tokyo"];
    let mut v: serde_json::Value = serde_json::from_str(PATENT_5).expect("the built-in scenario is JSON");
    for (i, s) in v["servers"].as_array_mut().expect("servers").iter_mut().enumerate() {
        s["addr"] = serde_json::Value::String(format!("127.0.0.1:{}", port as usize + i));
    }
    // A sixth member, ranked second: the reader's own browser tab, which can
    // join from the Live view as a browser member. Until it does it
    // is a member that is down, and Atlanta takes over as in the patent.
    v["servers"].as_array_mut().expect("servers").push(serde_json::json!({"id": YOU, "kind": "browser"}));
    v["ranking"].as_array_mut().expect("an explicit ranking").insert(1, serde_json::json!(YOU));
    let rows = v["delays_ms"].as_array_mut().expect("delays_ms");
    for row in rows.iter_mut() {
        row.as_array_mut().expect("a row").push(serde_json::json!(YOU_MS));
    }
    let mut last = vec![serde_json::json!(YOU_MS); ids.len()];
    last.push(serde_json::json!(0));
    rows.push(serde_json::Value::Array(last));
    let token = crate::auth::nonce()[..32].to_string();
    let secret = crate::auth::nonce()[..32].to_string();
    v["secret"] = serde_json::Value::String(secret.clone());
    v["emulate_delays"] = serde_json::Value::Bool(true);
    v["faults"] = serde_json::json!([]);
    // Live detection is not synchronous to the microsecond: a crash that
    // lands while Bangalore's inquiry is still in flight makes Bangalore
    // detect one period before Atlanta. A guard of one period keeps the
    // staggering intact (docs/protocol.md).
    // Both are the recommended defaults of docs/benchmarks.md ("Where the
    // staggered timer loses"): guard_ms = P, skip_known_dead on.
    // Re-announcement, which lets two masters meet again after a partition
    // heals, is what any group file gets by default; the demo writes it out
    // so its group file shows it.
    v["timer"]["guard_ms"] = serde_json::json!(500);
    v["timer"]["skip_known_dead"] = serde_json::json!(true);
    v["announce_every"] = serde_json::json!(crate::group::DEFAULT_ANNOUNCE_EVERY);
    // The name server, on any free port: the master registers there under
    // a rising epoch, and `stagger client` finds it. Its state is kept in
    // the output folder, so epochs keep rising across demo runs.
    let ns_listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| CliError::Io { path: "127.0.0.1:0".into(), source })?;
    let ns_url = format!("http://{}", ns_listener.local_addr().map_err(|source| CliError::Io { path: "127.0.0.1:0".into(), source })?);
    let ns_dir = out.join("nameserver");
    let store = crate::names::Embedded::open(&ns_dir, stagger_core::names::Limits::default())
        .map_err(|e| CliError::Io { path: ns_dir.display().to_string(), source: std::io::Error::other(e.to_string()) })?;
    v["nameserver"] = serde_json::Value::String(ns_url.clone());
    let text = serde_json::to_string_pretty(&v).expect("JSON");
    let group_path = out.join("group.json");
    write(&group_path, &text)?;
    let group = crate::group::Group::from_json(&text).map_err(|e| CliError::Usage(format!("the demo's group: {e}")))?;
    let io = |source| CliError::Io { path: format!("127.0.0.1:{port}"), source };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    runtime.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut nodes = tokio::task::JoinSet::new();
        ns_listener.set_nonblocking(true).map_err(io)?;
        let ns_listener = tokio::net::TcpListener::from_std(ns_listener).map_err(io)?;
        tokio::spawn(store.clone().expire_leases());
        let mut stop = stop_rx.clone();
        let name_server = tokio::spawn(crate::serve::run_with(ns_listener, crate::names::http::config(store), async move {
            let _ = stop.changed().await;
        }));
        for (i, id) in ids.iter().enumerate() {
            let addr = group.members[i].addr.expect("native");
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(io)?;
            let mut stop = stop_rx.clone();
            let (group, id, token) = (group.clone(), id.to_string(), token.clone());
            // Each node's replica keeps its state in the output folder, as
            // `stagger node` would beside this group file.
            let data = crate::service::default_data_dir(&group_path, &id);
            nodes.spawn(async move {
                let shutdown = async move {
                    let _ = stop.changed().await;
                };
                crate::live::run(group, &id, Some(token), listener, &data, shutdown).await
            });
        }
        let base = format!("http://127.0.0.1:{port}");
        println!();
        println!("Five live nodes, the patent's cities with their delays emulated on loopback:");
        for (i, id) in ids.iter().enumerate() {
            println!("  {id:<10} http://127.0.0.1:{}/api/status", port as usize + i);
        }
        println!();
        println!("Playground:  {base}/#{fragment}");
        println!("Live view:   {base}/#tab=live&token={token}&secret={secret}");
        println!("             crash, recover, isolate and heal from the page; press Join to make the tab");
        println!("             member `{YOU}`, ranked second: crash Ottawa and the tab becomes master.");
        println!("Crash the master and watch Atlanta (or your tab, if it joined) take over:");
        println!("  stagger ctl --node {base} --token {token} crash");
        println!("  stagger ctl --node http://127.0.0.1:{} --token {token} status", port + 1);
        println!("Slow a link while it runs (the timers keep the file's delays, so the next failover may be contested):");
        println!("  stagger ctl --node {base} --token {token} link ottawa atlanta --ms 300");
        println!("Name server: {ns_url} (the master registers there under a rising epoch):");
        println!("  stagger client --nameserver {ns_url} --group {} master --json", group.scenario.name);
        println!("Group file for your own `stagger node` runs: {}", group_path.display());
        println!("Ctrl-C stops everything.");
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
        while let Some(r) = nodes.join_next().await {
            if let Ok(Err(e)) = r {
                eprintln!("a node stopped with: {e}");
            }
        }
        let _ = name_server.await;
        eprintln!("all five nodes and the name server stopped");
        Ok(())
    })
}
