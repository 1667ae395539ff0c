//! `cargo xtask serve | test | bench` — project automation. Installs what is missing (saying
//! what it does), never downloads a binary from outside the package registries.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

mod tools;

const USAGE: &str = "usage: cargo xtask <serve [--release] | test | dist | js | bench [quick]>
  serve   build the playground and serve it at http://127.0.0.1:8080 (default example running)
  test    every test: unit, scenario, property, corpus, wasm determinism, browser end-to-end
  dist    the release site in dist-release/ (wasm-opt -Oz), with its gzipped transfer size
  js      the npm package `kubeplay` (wasm-pack) in target/kubeplay-js/{web,bundler,nodejs}
  bench   speed and memory figures, natively and in headless Chromium (quick: small shapes)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(args.iter().any(|a| a == "--release")),
        Some("test") => test(),
        Some("dist") => dist().map(|_| ()),
        Some("js") => js_packages(),
        Some("bench") => bench(args.iter().any(|a| a == "quick")),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

pub fn say(msg: &str) {
    eprintln!("\x1b[1mxtask:\x1b[0m {msg}");
}

/// Runs a command in the repository root, failing with its exit status.
pub fn run(cmd: &mut Command) -> Result {
    say(&format!("running {cmd:?}"));
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let status = cmd.status().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

/// Runs a command, echoing its output while counting the test results it reports.
fn run_counting(cmd: &mut Command, tally: &mut Tally) -> Result {
    say(&format!("running {cmd:?}"));
    let output = cmd
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|child| child.wait_with_output())
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    tally.read(&text);
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({})", output.status))
    }
}

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Reads cargo's `test result: ok. N passed; M failed` and node's `# pass N` / `# fail M`.
    fn read(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("test result: ") {
                for part in rest.split(';') {
                    let words: Vec<&str> = part.split_whitespace().collect();
                    let n = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok()).unwrap_or(0);
                    match words.as_slice() {
                        [_, _, "passed"] => self.passed += n(1),
                        [_, "passed"] => self.passed += n(0),
                        [_, "failed"] => self.failed += n(0),
                        _ => {}
                    }
                }
            } else if let Some(n) = line.strip_prefix("# pass ") {
                self.passed += n.parse::<u64>().unwrap_or(0);
            } else if let Some(n) = line.strip_prefix("# fail ") {
                self.failed += n.parse::<u64>().unwrap_or(0);
            }
        }
    }
}

fn serve(release: bool) -> Result {
    tools::web_toolchain()?;
    say("serving the playground at http://127.0.0.1:8080 (Ctrl+C to stop)");
    let mut cmd = Command::new("trunk");
    cmd.args(["serve", "--offline"]);
    if release {
        cmd.arg("--release");
    }
    run(&mut cmd)
}

fn test() -> Result {
    tools::web_toolchain()?;
    tools::wasm_pack()?;
    tools::mdbook()?;
    tools::browser()?;
    tools::e2e_packages()?;
    let mut tally = Tally::default();
    // Lints first: formatting, then clippy (clippy.toml in kubeplay-core bans the wall clock and
    // hash-ordered maps).
    run(Command::new("cargo").args(["fmt", "--all", "--check"]))?;
    run(Command::new("cargo").args(["clippy", "--workspace", "--exclude", "kubeplay-web", "--all-targets", "--", "-D", "warnings"]))?;
    run(Command::new("cargo").args(["clippy", "-p", "kubeplay-web", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]))?;
    run_counting(Command::new("cargo").args(["test", "--workspace", "--exclude", "kubeplay-web"]), &mut tally)?;
    run_counting(
        Command::new("cargo")
            .args(["test", "-p", "kubeplay-web", "--target", "wasm32-unknown-unknown"])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner"),
        &mut tally,
    )?;
    // The JavaScript package: from Node (against the CLI's own output) and in Chromium.
    run(Command::new("cargo").args(["build", "-p", "kubeplay-cli"]))?;
    js_package("nodejs", true)?;
    run_counting(
        Command::new("node")
            .args(["--test", "crates/kubeplay-js/tests/node.test.mjs"])
            .env("KUBEPLAY_JS", root().join("target/kubeplay-js/nodejs"))
            .env("KUBEPLAY_CLI", root().join("target/debug/kubeplay")),
        &mut tally,
    )?;
    run_counting(
        Command::new("wasm-pack")
            .args(["test", "--headless", "--chrome", "crates/kubeplay-js"])
            .env("CHROMEDRIVER", "/usr/bin/chromedriver"),
        &mut tally,
    )?;
    run(Command::new("trunk").args(["build", "--offline"]))?;
    run_counting(Command::new("node").args(["--test", "--test-concurrency=1", "tests/e2e/"]).env("DIST", root().join("dist")), &mut tally)?;
    // The plain closing line, summed over every runner above.
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 || tally.passed == 0 {
        return Err("tests failed or none ran".into());
    }
    Ok(())
}

/// `wasm-pack build` of crates/kubeplay-js for one target into target/kubeplay-js/TARGET.
fn js_package(target: &str, dev: bool) -> Result {
    let out = root().join("target/kubeplay-js").join(target);
    let mut cmd = Command::new("wasm-pack");
    cmd.arg("build");
    if dev {
        cmd.arg("--dev");
    }
    cmd.args(["--target", target, "--out-dir"]).arg(&out).arg("crates/kubeplay-js");
    run(cmd.current_dir(root()))
}

/// The npm package for browsers with and without a bundler, and for Node.
fn js_packages() -> Result {
    tools::web_toolchain()?;
    tools::wasm_pack()?;
    for target in ["web", "bundler", "nodejs"] {
        js_package(target, false)?;
    }
    say("the npm package `kubeplay` is in target/kubeplay-js/{web,bundler,nodejs}");
    Ok(())
}

/// The release site: Trunk's release build, then npm binaryen's `wasm-opt -Oz` on the wasm
/// (Debian's binaryen is too old to read current wasm). Returns the directory.
fn dist() -> Result<PathBuf> {
    tools::web_toolchain()?;
    tools::e2e_packages()?;
    let out = root().join("dist-release");
    run(Command::new("trunk").args(["build", "--release", "--offline", "--dist"]).arg(&out))?;
    let wasm_opt = root().join("tests/e2e/node_modules/.bin/wasm-opt");
    let mut sizes = Vec::new();
    for entry in std::fs::read_dir(&out).map_err(|e| format!("reading {}: {e}", out.display()))?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            // The features rustc's wasm32 target enables by default.
            let features = [
                "--enable-bulk-memory",
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-nontrapping-float-to-int",
                "--enable-reference-types",
                "--enable-multivalue",
            ];
            run(Command::new(&wasm_opt).arg("-Oz").args(features).arg(&path).arg("-o").arg(&path))?;
        }
        if path.is_file() {
            let raw = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let gz = Command::new("gzip").args(["-9", "-c"]).arg(&path).output().map(|o| o.stdout.len() as u64).unwrap_or(0);
            sizes.push((path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), raw, gz));
        }
    }
    sizes.sort();
    for (name, raw, gz) in &sizes {
        println!("  {name:<48} {:>9} bytes, {:>8} gzipped", raw, gz);
    }
    let (raw, gz) = sizes.iter().fold((0, 0), |(r, g), (_, raw, gz)| (r + raw, g + gz));
    println!("release site: {raw} bytes, {gz} bytes gzipped (the transfer size) in {}", out.display());
    Ok(out)
}

fn bench(quick: bool) -> Result {
    let mut native = Command::new("cargo");
    native.args(["run", "--release", "--quiet", "-p", "kubeplay-cli", "--example", "bench"]);
    if quick {
        native.arg("--").arg("quick");
    }
    run(&mut native)?;
    let site = dist()?;
    tools::browser()?;
    let mut browser = Command::new("node");
    browser.arg("tests/e2e/bench.mjs").arg(&site);
    if quick {
        browser.arg("quick");
    }
    run(&mut browser)
}
