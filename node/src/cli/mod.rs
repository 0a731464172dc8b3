//! The command line.

mod client;
mod ctl;
mod link;

pub(crate) use ctl::root_cause;
mod delays;
mod demo;
mod nameserver;
mod observe;
mod render;
mod sim;

use clap::{Parser, Subcommand};
use stagger_core::{Scenario, ScenarioError};
use std::path::{Path, PathBuf};

/// Staggered-timer master election: simulate, inspect and draw elections.
#[derive(Parser, Debug)]
#[command(name = "stagger", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate a scenario and report the SPEC §8 metrics.
    ///
    /// A run that reaches its budget (the scenario's `max_events`, 20
    /// million by default, or the memory limit) prints its partial metrics
    /// marked `truncated`, says where it stopped, and exits 3.
    Sim {
        /// The scenario JSON file.
        file: PathBuf,
        /// Print the metrics as one JSON object.
        #[arg(long)]
        json: bool,
        /// Write the full trace of the run to this JSON file.
        #[arg(long, value_name = "OUT.json")]
        trace: Option<PathBuf>,
    },
    /// Print δ_j and D_i per rank and the predicted winner when the top k
    /// ranks are down; with a measured matrix (--measured, or a live group's
    /// with --node), each rank's slack against it, and a warning for every
    /// failover that would be contested.
    Delays {
        /// The scenario or group file (not with --node).
        #[arg(required_unless_present = "node", conflicts_with = "node")]
        file: Option<PathBuf>,
        /// A running node: its group's configured matrix against the one its
        /// members measure (GET /api/delays on each).
        #[arg(long, value_name = "URL")]
        node: Option<String>,
        /// The measured delays: members' /api/delays answers keyed by id, or
        /// an N × N matrix of one-way delays in ms (null: not measured).
        #[arg(long, value_name = "MEASURED.json", requires = "file")]
        measured: Option<PathBuf>,
        /// Which statistic of the members' windows is the delay.
        #[arg(long, default_value = "p99", value_parser = ["median", "p99", "max"])]
        stat: String,
        #[arg(long)]
        json: bool,
    },
    /// Draw a run as a standalone SVG space-time diagram.
    Render {
        file: PathBuf,
        /// Where to write the SVG.
        #[arg(short, long, value_name = "OUT.svg")]
        output: PathBuf,
        /// Start of the window in ms (default: around the election).
        #[arg(long)]
        from_ms: Option<f64>,
        /// End of the window in ms (default: around the election).
        #[arg(long)]
        to_ms: Option<f64>,
        /// Width in pixels.
        #[arg(long, default_value_t = 0)]
        width: u32,
    },
    /// Simulate the patent's five cities, print what happened, write the
    /// diagram, the trace and the scenario to a folder, then run the five
    /// cities as live nodes on loopback (serving the playground) until
    /// Ctrl-C.
    Demo {
        /// Where to write the files.
        #[arg(long, default_value = "target/stagger-demo")]
        out: PathBuf,
        /// The first node's port (the playground is served there); the
        /// others take the next four.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Only simulate and write the files.
        #[arg(long)]
        no_serve: bool,
    },
    /// Run one member of a live group: the engine on real time, the mesh
    /// over WebSocket, the playground and the API on one port.
    Node {
        /// The group file: a scenario plus addresses and the secret.
        #[arg(long, value_name = "FILE")]
        group: PathBuf,
        /// This member's id.
        #[arg(long)]
        id: String,
        /// Allow admin actions (crash, recover, isolate, heal) with this
        /// token; also read from STAGGER_ADMIN_TOKEN.
        #[arg(long, env = "STAGGER_ADMIN_TOKEN")]
        admin_token: Option<String>,
        /// The folder where this member's replica of the key-value service
        /// keeps its state (created if missing). Default: GROUP.data/ID
        /// beside the group file (for lan.json and member s1:
        /// lan.data/s1), so a restart with the same group file finds it.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Control a running node: crash, recover, isolate, heal, or status;
    /// or add or remove a member of its group at the group's name server
    /// (the running nodes follow the new configuration); change an
    /// emulated link's delay while the group runs: `link A B --ms X`
    /// (both directions; --one-way for A → B only; the engines' timers keep
    /// the group file's matrix, so the network drifts away from it); or
    /// predict what a crash of the master now would do.
    Ctl {
        /// The node's base URL, e.g. http://127.0.0.1:7001
        #[arg(long)]
        node: String,
        /// The admin token (not needed for status, add or remove).
        #[arg(long, env = "STAGGER_ADMIN_TOKEN", default_value = "")]
        token: String,
        /// With add or remove: change the configuration only if its version
        /// is still N. Without it, a concurrent change is retried on a fresh
        /// read.
        #[arg(long, value_name = "N")]
        expect_version: Option<u64>,
        /// crash | recover | isolate | heal | status | add | remove | link |
        /// predict (what the simulator says a crash of the master now would
        /// do: winner and failover time, as JSON)
        action: String,
        /// The member to add or remove: a server of the group file (one that
        /// is not in the configuration yet is listed with "spare": true).
        /// With link: the link's first end, A.
        member: Option<String>,
        /// With link: the link's other end, B.
        peer: Option<String>,
        /// With link: the link's new emulated one-way delay in milliseconds
        /// (0 to 60000; the group file must set "emulate_delays").
        #[arg(long, value_name = "X", allow_hyphen_values = true)]
        ms: Option<String>,
        /// With link: change only A → B, not B → A (an asymmetric link).
        #[arg(long)]
        one_way: bool,
    },
    /// Run the name server: masters register there under rising epochs,
    /// clients look them up (HTTP/JSON under /v1/groups/). Its state is kept
    /// either in a folder (--data, the embedded name server) or in an etcd
    /// cluster (--etcd, which survives the loss of a minority of its
    /// members); give exactly one of the two.
    Nameserver {
        /// The address to listen on, e.g. 127.0.0.1:7000 (port 0: any).
        #[arg(long, value_name = "ADDR")]
        listen: String,
        /// The folder holding the name server's state (created if missing).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// The etcd cluster holding the name server's state instead, as its
        /// members' client URLs, e.g. http://127.0.0.1:2379,http://127.0.0.1:22379
        /// (leases are whole seconds there: ttls are rounded up).
        #[arg(long, value_name = "URL[,URL...]")]
        etcd: Option<String>,
        /// The shortest lease granted; shorter requests get this.
        #[arg(long, default_value_t = 100)]
        min_ttl_ms: u64,
        /// The longest lease granted; longer requests get this.
        #[arg(long, default_value_t = 60_000)]
        max_ttl_ms: u64,
    },
    /// Ask a name server about a group, or use the group's replicated
    /// key-value store (get, put, del, cas, or a load that records a history).
    Client {
        /// The name server's base URL, e.g. http://127.0.0.1:7000
        #[arg(long, value_name = "URL")]
        nameserver: String,
        /// The group's name.
        #[arg(long)]
        group: String,
        #[command(subcommand)]
        query: ClientQuery,
    },
    /// Serve the playground (built into this binary) over HTTP until Ctrl-C.
    Serve {
        /// The TCP port to listen on (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
    },
}

/// What `stagger client` asks.
#[derive(Subcommand, Debug)]
pub enum ClientQuery {
    /// Read a key from the group's replicated store (through its master).
    Get {
        key: String,
        /// Print the reply as JSON: `{"epoch", "index", "result": "value", "value"}`.
        #[arg(long)]
        json: bool,
    },
    /// Write a key; prints the value it replaced.
    Put {
        key: String,
        value: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a key; prints the value it had.
    Del {
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Compare-and-swap: set the key to --new (absent: delete it) if it
    /// holds --expected (absent: if it does not exist); prints whether it
    /// swapped and the value now.
    Cas {
        key: String,
        #[arg(long)]
        expected: Option<String>,
        #[arg(long)]
        new: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run concurrent clients over keys k0…k{N-1} for a while, show
    /// progress on stderr, and print a summary (with --json: the history of
    /// every operation, for the linearizability checker).
    Load {
        /// How many keys.
        #[arg(long, default_value_t = 10)]
        keys: usize,
        /// How many clients at once.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// How long, in seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Print the history as JSON on stdout (`{"events": [...]}`); the
        /// summary goes to stderr.
        #[arg(long)]
        json: bool,
        /// Draws the operations and the retries' jitter.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The share of reads, 0 to 1.
        #[arg(long, default_value_t = 0.5)]
        read_ratio: f64,
    },
    /// The group's master, its address and epoch, or that there is none.
    Master {
        /// Print `{"master": ID, "addr": ADDR, "epoch": N}` (`null`s when
        /// there is no master).
        #[arg(long)]
        json: bool,
    },
    /// Create the group on the name server with these members, in rank
    /// order; refused if it exists.
    Create {
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// Add a member at the end of the group's configuration (compare-and-
    /// swap on the version read, retried on a fresh read if someone changed
    /// it meanwhile).
    AddMember {
        id: String,
        /// Change the configuration only if its version is still N.
        #[arg(long, value_name = "N")]
        expect_version: Option<u64>,
    },
    /// Remove a member from the group's configuration (compare-and-swap,
    /// like add-member). A registered master that is removed loses its
    /// registration.
    RemoveMember {
        id: String,
        /// Change the configuration only if its version is still N.
        #[arg(long, value_name = "N")]
        expect_version: Option<u64>,
    },
}

/// Why a command failed, and whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The scenario file is wrong: the user's to fix.
    #[error("{path}: {source}")]
    Scenario { path: String, source: ScenarioError },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The arguments do not make sense together.
    #[error("{0}")]
    Usage(String),
    /// A simulation stopped at its budget before `until_ms`; what was
    /// printed is partial and marked so.
    #[error("{0}")]
    Stopped(String),
}

impl CliError {
    /// 2 for bad input, 3 for a run stopped at its budget, 1 for
    /// everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Scenario { .. } | CliError::Usage(_) => 2,
            CliError::Stopped(_) => 3,
            CliError::Io { .. } => 1,
        }
    }
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Sim { file, json, trace } => sim::run(&file, json, trace.as_deref()),
        Command::Delays { file, node, measured, stat, json } => {
            let stat = stagger_core::measured::Statistic::named(&stat).expect("clap checked the value");
            let source = match (&file, &node) {
                (Some(file), _) => delays::Source::File { file, measured: measured.as_deref() },
                (None, Some(node)) => delays::Source::Node(node),
                (None, None) => return Err(CliError::Usage("give a FILE or --node URL".into())),
            };
            delays::run(source, stat, json)
        }
        Command::Render { file, output, from_ms, to_ms, width } => render::run(&file, &output, from_ms, to_ms, width),
        Command::Demo { out, port, no_serve } => {
            let fragment = demo::run(&out)?;
            if no_serve {
                return Ok(());
            }
            demo::live(port, &out, &fragment)
        }
        Command::Serve { port, host } => serve(&host, port, ""),
        Command::Node { group, id, admin_token, data } => {
            let data = data.unwrap_or_else(|| crate::service::default_data_dir(&group, &id));
            node(&group, &id, admin_token, &data)
        }
        Command::Ctl { node, token, action, member, peer, ms, one_way, .. } if action == "link" => {
            link::run(&node, &token, link::LinkArgs { a: member, b: peer, ms, one_way })
        }
        Command::Ctl { peer: Some(_), .. } | Command::Ctl { ms: Some(_), .. } | Command::Ctl { one_way: true, .. } => {
            Err(CliError::Usage("a second member, --ms and --one-way go with link".into()))
        }
        Command::Ctl { node, token, expect_version, action, member, .. } => ctl::run(&node, &token, &action, member, expect_version),
        Command::Nameserver { listen, data, etcd, min_ttl_ms, max_ttl_ms } => {
            nameserver::run(&listen, data.as_deref(), etcd.as_deref(), min_ttl_ms, max_ttl_ms)
        }
        Command::Client { nameserver, group, query } => client::run(&nameserver, &group, query),
    }
}

/// `stagger serve`: binds, prints the URL (with `fragment` appended, so
/// the demo can open its own scenario) and serves until Ctrl-C.
fn serve(host: &str, port: u16, fragment: &str) -> Result<(), CliError> {
    let addr = if host.contains(':') && !host.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let io = |source| CliError::Io { path: addr.clone(), source };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(io)?;
        let local = listener.local_addr().map_err(io)?;
        if !crate::serve::playground_embedded() {
            eprintln!("warning: {}; every request will get 503", crate::serve::NOT_BUILT);
        }
        println!("serving the playground at http://{local}/{fragment} (Ctrl-C stops)");
        let shutdown = async {
            if tokio::signal::ctrl_c().await.is_err() {
                // No signal handler: serve until killed.
                std::future::pending::<()>().await;
            }
        };
        crate::serve::run(listener, shutdown).await.map_err(io)?;
        eprintln!("stopped");
        Ok(())
    })
}

/// `stagger node`: runs one member until Ctrl-C or SIGTERM.
fn node(path: &Path, id: &str, admin_token: Option<String>, data: &Path) -> Result<(), CliError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io { path: p.clone(), source })?;
    let group = crate::group::Group::from_json(&text).map_err(|e| CliError::Usage(format!("{p}: {e}")))?;
    let row = group.row_of(id).ok_or_else(|| CliError::Usage(format!("{p}: '{id}' is not a member of the group")))?;
    let addr = group.members[row as usize]
        .addr
        .ok_or_else(|| CliError::Usage(format!("'{id}' is a browser member; only native members run as nodes")))?;
    let io = |source| CliError::Io { path: addr.to_string(), source };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(io)?;
        println!("node {id} serving the playground, /api and /ws at http://{addr}/ (Ctrl-C stops)");
        crate::live::run(group, id, admin_token, listener, data, stop_signal()).await.map_err(io)?;
        eprintln!("node {id} stopped");
        Ok(())
    })
}

/// Completes on Ctrl-C or SIGTERM: how a node and the name server stop.
pub(crate) async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Reads and validates a scenario file, and prints its warnings (a valid
/// scenario whose run would mislead) on stderr, each with its field.
pub fn load(path: &Path) -> Result<Scenario, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io { path: path.display().to_string(), source })?;
    let scenario = Scenario::from_json(&text).map_err(|source| CliError::Scenario { path: path.display().to_string(), source })?;
    for w in scenario.warnings() {
        eprintln!("warning: {}: {w}", path.display());
    }
    Ok(scenario)
}

pub(crate) fn write(path: &Path, contents: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Io { path: dir.display().to_string(), source })?;
    }
    std::fs::write(path, contents).map_err(|source| CliError::Io { path: path.display().to_string(), source })
}

/// Milliseconds with three decimals, or "never".
pub(crate) fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "never".to_string(), |v| format!("{v:.3} ms"))
}
