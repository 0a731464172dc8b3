//! `cargo xtask`: the project's two set-up commands and their helpers.
//!
//! - `cargo xtask demo`: the main job on its built-in default (builds the
//!   playground, simulates the five cities, serves the playground).
//! - `cargo xtask test`: every test, native and wasm.
//! - `cargo xtask bench-docs`: the simulated comparisons, written into
//!   docs/benchmarks.md.
//!
//! Both install what they need on a fresh machine (the wasm target, the
//! wasm-bindgen CLI at the version pinned in `Cargo.lock`, Node.js, wasm-opt
//! from npm binaryen, protoc, which the node's etcd client needs to build;
//! for the tests also Chromium, chromedriver, npm axe-core and etcd) and
//! fail loudly, naming the missing piece, when they cannot.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("web") => web().map(|_| ()),
        Some("test") => test(),
        Some("setup") => setup().and_then(|_| setup_protoc()).and_then(|_| setup_browser()).and_then(|_| setup_etcd()),
        Some("bench") => bench(),
        Some("bench-docs") => bench_docs(),
        _ => {
            eprintln!("usage: cargo xtask <demo|test|web|setup|bench|bench-docs>");
            eprintln!("  demo   simulate the patent's five cities, write the diagram, serve the playground");
            eprintln!("  test   run every test: native, then the wasm determinism check under node");
            eprintln!("  web    build the playground into dist/ (wasm, JS, HTML, CSS, scenarios)");
            eprintln!(
                "  setup  install the wasm target, wasm-bindgen CLI, Node.js, protoc, Chromium, chromedriver, axe-core and etcd if missing"
            );
            eprintln!("  bench  run the criterion benchmarks of the simulator");
            eprintln!("  bench-docs  rerun the simulated comparisons (raft-fig16, loses, compare) and regenerate their sections of docs/benchmarks.md");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(what: &str, cmd: &mut Command) -> Result {
    eprintln!("xtask: {what}");
    let status = cmd.status().map_err(|e| format!("{what}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what}: failed with {status}"))
    }
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn demo(extra: &[String]) -> Result {
    // The demo serves the playground, which the binary embeds from dist/.
    web()?;
    setup_protoc()?;
    run(
        "build and run `stagger demo`",
        cargo().args(["run", "--release", "--quiet", "-p", "stagger-node", "--bin", "stagger", "--", "demo"]).args(extra),
    )
}

fn test() -> Result {
    setup()?;
    setup_protoc()?;
    setup_browser()?;
    // The name server's etcd tests start a 3-member etcd cluster.
    setup_etcd()?;
    // The node embeds dist/ and the browser tests load it, so it comes first.
    web()?;
    run("native tests (cargo test --workspace)", cargo().args(["test", "--workspace"]))?;
    wasm_determinism()?;
    run(
        "wasm unit tests of the playground under node",
        cargo()
            .args(["test", "-p", "stagger-web", "--target", "wasm32-unknown-unknown", "--lib"])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner"),
    )
}

/// Sizes of one built wasm module and its JS glue, for the budget in
/// docs/benchmarks.md.
pub struct WebSizes {
    pub wasm: u64,
    pub js: u64,
    pub wasm_gz: u64,
    pub js_gz: u64,
}

impl WebSizes {
    fn of(pkg: &Path, name: &str) -> Result<WebSizes> {
        let (wasm, js) = (pkg.join(format!("{name}_bg.wasm")), pkg.join(format!("{name}.js")));
        Ok(WebSizes { wasm: size(&wasm), js: size(&js), wasm_gz: gz_size(&wasm)?, js_gz: gz_size(&js)? })
    }

    fn gz_total(&self) -> u64 {
        self.wasm_gz + self.js_gz
    }
}

/// The playground's wasm modules (web/src/bridge.rs): `stagger_web` for
/// index.html, `stagger_views` for its Edit, Watch, Compare and Live tabs,
/// `stagger_embed` for embed.html. Each is the same crate built with one
/// feature, so it keeps only what its exports reach.
const MODULES: [(&str, &str); 3] = [("app", "stagger_web"), ("views", "stagger_views"), ("embed", "stagger_embed")];

/// Builds the playground into `dist/`: both wasm modules through
/// wasm-bindgen and wasm-opt, the pages, the stylesheets and the example
/// scenarios. Returns the sizes of each module, in [`MODULES`] order.
fn web() -> Result<Vec<WebSizes>> {
    setup()?;
    let root = root();
    let dist = root.join("dist");
    let pkg = dist.join("pkg");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&pkg).map_err(|e| format!("create {}: {e}", pkg.display()))?;
    let opt = wasm_opt()?;
    let built = root.join("target/wasm32-unknown-unknown/wasm-release/stagger_web.wasm");
    let mut sizes = Vec::new();
    for (feature, name) in MODULES {
        run(
            &format!("build stagger-web --features {feature} for wasm32 (profile wasm-release)"),
            cargo()
                .args(["build", "-p", "stagger-web", "--target", "wasm32-unknown-unknown", "--profile", "wasm-release"])
                .args(["--features", feature]),
        )?;
        run(
            &format!("wasm-bindgen --target web ({name})"),
            Command::new("wasm-bindgen")
                .args(["--target", "web", "--no-typescript", "--out-name", name, "--out-dir"])
                .arg(&pkg)
                .arg(&built),
        )?;
        let bg = pkg.join(format!("{name}_bg.wasm"));
        run(&format!("wasm-opt -Oz ({name})"), Command::new(&opt).arg("-Oz").args(WASM_FEATURES).arg(&bg).arg("-o").arg(&bg))?;
        let s = WebSizes::of(&pkg, name)?;
        eprintln!(
            "xtask: {name}: wasm {} B ({} B gzipped), js {} B ({} B gzipped); wasm + js gzipped = {} B",
            s.wasm,
            s.wasm_gz,
            s.js,
            s.js_gz,
            s.gz_total()
        );
        sizes.push(s);
    }
    let stat = root.join("static");
    for e in std::fs::read_dir(&stat).map_err(|e| format!("static/: {e}"))? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().is_some_and(|x| x == "html" || x == "css" || x == "svg" || x == "ico") {
            std::fs::copy(&p, dist.join(p.file_name().expect("a file"))).map_err(|e| format!("copy {}: {e}", p.display()))?;
        }
    }
    let scen = dist.join("scenarios");
    std::fs::create_dir_all(&scen).map_err(|e| e.to_string())?;
    for e in std::fs::read_dir(stat.join("scenarios")).map_err(|e| e.to_string())? {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().is_some_and(|x| x == "json") {
            std::fs::copy(&p, scen.join(p.file_name().expect("a file"))).map_err(|e| e.to_string())?;
        }
    }
    eprintln!(
        "xtask: dist/ ready. A first visit (index.html, Overview tab) loads stagger_web: {} B gzipped; \
         opening Edit, Watch, Compare or Live adds stagger_views: {} B; embed.html loads stagger_embed: {} B.",
        sizes[0].gz_total(),
        sizes[1].gz_total(),
        sizes[2].gz_total()
    );
    Ok(sizes)
}

/// The wasm features rustc emits by default for wasm32-unknown-unknown;
/// wasm-opt must accept them all.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// wasm-opt from the npm package binaryen@132, installed under target/.
/// Debian's binaryen is too old to read wasm-bindgen's output.
fn wasm_opt() -> Result<PathBuf> {
    let bin = tools().join("node_modules/.bin/wasm-opt");
    let ok = output(Command::new(&bin).arg("--version")).is_some_and(|v| v.contains("132"));
    if !ok {
        npm_install("binaryen@132", "wasm-opt")?;
    }
    output(Command::new(&bin).arg("--version")).ok_or_else(|| format!("{} does not run after installing binaryen@132", bin.display()))?;
    Ok(bin)
}

/// Where the npm packages the build and the tests use are installed.
fn tools() -> PathBuf {
    root().join("target/tools")
}

/// `npm install PACKAGE@VERSION` under [`tools`], installing npm first if
/// the machine has none.
fn npm_install(spec: &str, what: &str) -> Result {
    if output(Command::new("npm").arg("--version")).is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    let tools = tools();
    std::fs::create_dir_all(&tools).map_err(|e| e.to_string())?;
    run(
        &format!("npm install {spec} ({what})"),
        Command::new("npm").args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"]).arg(&tools).arg(spec),
    )
}

/// The axe-core version whose rules the browser tests' accessibility audit
/// (node/tests/browser.rs) runs; they read `AXE_JS` under [`tools`].
const AXE: &str = "4.14.1";
const AXE_JS: &str = "node_modules/axe-core/axe.min.js";

/// axe-core from npm, for the accessibility audit of the browser tests.
fn axe_core() -> Result {
    let manifest = tools().join("node_modules/axe-core/package.json");
    let have = std::fs::read_to_string(&manifest).unwrap_or_default();
    if !have.contains(&format!("\"version\": \"{AXE}\"")) {
        npm_install(&format!("axe-core@{AXE}"), "the accessibility rules of the browser tests")?;
    }
    let js = tools().join(AXE_JS);
    if !js.exists() {
        return Err(format!("{} is missing after installing axe-core@{AXE}", js.display()));
    }
    Ok(())
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn gz_size(p: &Path) -> Result<u64> {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(p).output().map_err(|e| format!("gzip: {e}"))?;
    Ok(out.stdout.len() as u64)
}

/// Hashes the corpus natively, then runs the wasm test under node with the
/// native hashes compiled in; it fails unless every trace is identical.
fn wasm_determinism() -> Result {
    eprintln!("xtask: native trace hashes");
    let native = output(cargo().args(["run", "--quiet", "-p", "stagger-core", "--example", "trace_hashes"]))
        .ok_or("could not compute the native trace hashes")?;
    if native.trim().is_empty() {
        return Err("the native trace hash list is empty".into());
    }
    run(
        "wasm determinism test under node (wasm-bindgen-test-runner)",
        cargo()
            .args(["test", "-p", "stagger-core", "--target", "wasm32-unknown-unknown", "--test", "wasm_trace"])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
            .env("STAGGER_NATIVE_HASHES_TEXT", native),
    )
}

fn bench() -> Result {
    run("criterion benchmarks", cargo().args(["bench", "-p", "stagger-core", "--bench", "sim"]))
}

/// Regenerates the simulated comparisons' sections of docs/benchmarks.md
/// (and docs/compare/: CSV and plots) with the release build. The compare
/// matrix is the long one: about half an hour on two cores.
fn bench_docs() -> Result {
    run("build stagger-bench (release)", cargo().args(["build", "--release", "-p", "stagger-tests", "--bin", "stagger-bench"]))?;
    let bench = root().join("target/release/stagger-bench");
    let docs = root().join("docs/benchmarks.md");
    for what in ["raft-fig16", "loses", "compare"] {
        let mut cmd = Command::new(&bench);
        cmd.current_dir(root()).args([what, "--docs"]).arg(&docs).stdout(std::process::Stdio::null());
        run(&format!("stagger-bench {what} --docs docs/benchmarks.md"), &mut cmd)?;
    }
    Ok(())
}

/// Installs what the tests need and checks it, once per machine.
fn setup() -> Result {
    // The wasm target.
    let targets = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !targets.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        run("install the wasm32-unknown-unknown target", Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    // The wasm-bindgen CLI, at exactly the library's version.
    let want = locked_version("wasm-bindgen")?;
    let have = output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    if !have.contains(&want) {
        // Without --locked: with it the install fails on a yanked
        // webpki-roots version.
        run(
            &format!("install wasm-bindgen-cli {want} (about 2 minutes)"),
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())).args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                &want,
                // Reinstall even if cargo believes it is installed: a
                // missing runner binary or another version must be fixed.
                "--force",
            ]),
        )?;
        let have = output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
        if !have.contains(&want) {
            return Err(format!(
                "wasm-bindgen-test-runner {want} is still not on PATH (found: {:?}); add ~/.cargo/bin to PATH",
                have.trim()
            ));
        }
    }
    // Node.js runs the wasm tests.
    if output(Command::new("node").arg("--version")).is_none() {
        apt_install(&["nodejs"])?;
        output(Command::new("node").arg("--version")).ok_or("node is still missing after installing nodejs")?;
    }
    Ok(())
}

/// Headless Chromium and its chromedriver run the playground's browser
/// tests (node/tests/browser.rs), which also audit every tab with axe-core.
/// Debian ships the two at one version. Only the tests need them, so the
/// demo does not install a browser.
fn setup_browser() -> Result {
    axe_core()?;
    let browser = [CHROMIUM, CHROMEDRIVER];
    if browser.iter().any(|p| !Path::new(p).exists()) {
        apt_install(&["chromium", "chromium-driver"])?;
    }
    for p in browser {
        if !Path::new(p).exists() {
            return Err(format!("{p} is still missing after `apt-get install chromium chromium-driver`"));
        }
        output(Command::new(p).arg("--version")).ok_or_else(|| format!("{p} --version fails: the browser tests cannot run"))?;
    }
    Ok(())
}

/// etcd, which the name server's etcd backend is tested against (a
/// 3-member cluster on 127.0.0.1) and `stagger-bench etcd` runs beside a
/// stagger group for comparison.
fn setup_etcd() -> Result {
    let found = || output(Command::new("etcd").arg("--version")).or_else(|| output(Command::new("/usr/bin/etcd").arg("--version")));
    if found().is_none() {
        apt_install(&["etcd-server"])?;
    }
    found().map(|_| ()).ok_or_else(|| {
        "etcd --version fails after `apt-get install etcd-server`: the etcd tests and `stagger-bench etcd` cannot run".into()
    })
}

/// protoc, which etcd-client's build script runs to compile etcd's gRPC
/// definitions: the node links it (the name server's etcd backend), so
/// every build of the node needs it.
fn setup_protoc() -> Result {
    if output(Command::new("protoc").arg("--version")).is_none() {
        apt_install(&["protobuf-compiler"])?;
    }
    output(Command::new("protoc").arg("--version"))
        .map(|_| ())
        .ok_or_else(|| "protoc --version fails after `apt-get install protobuf-compiler`: the node cannot be built".into())
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn apt_install(pkgs: &[&str]) -> Result {
    run("apt-get update", Command::new("apt-get").args(["update", "-q"]))?;
    run(&format!("apt-get install {}", pkgs.join(" ")), Command::new("apt-get").args(["install", "-y", "-q"]).args(pkgs))
}

/// The version of `name` pinned in Cargo.lock.
fn locked_version(name: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{name}\"") {
            if let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err(format!("{name} is not in Cargo.lock"))
}
