//! Installs the tools the web build and browser tests need, each from its own registry:
//! rustup's wasm32 target, crates.io's Trunk and wasm-bindgen-cli (at exactly the version in
//! Cargo.lock) and mdBook, Debian's Chromium, npm's playwright-core.

use std::process::Command;

use crate::{root, run, say, Result};

const TRUNK_VERSION: &str = "0.21.14";
/// The embedding example's book (docs/embedding/mdbook); no server or watcher features.
const MDBOOK_VERSION: &str = "0.4.52";

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn web_toolchain() -> Result {
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t.trim() == "wasm32-unknown-unknown") {
        say("installing the wasm32-unknown-unknown target");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let trunk = output("trunk", &["--version"]).unwrap_or_default();
    if !trunk.contains(TRUNK_VERSION) {
        say(&format!("installing trunk {TRUNK_VERSION} (takes about ten minutes on two cores)"));
        run(Command::new("cargo").args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))?;
    }
    let wanted = wasm_bindgen_version()?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if !have.split_whitespace().any(|w| w == wanted) {
        say(&format!("installing wasm-bindgen-cli {wanted} (the version in Cargo.lock)"));
        // Not --locked: the registry mirror lacks one of its locked dependencies.
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &wanted]))?;
    }
    Ok(())
}

const WASM_PACK_VERSION: &str = "0.15.1";

/// wasm-pack, which builds and tests the npm package (about two minutes). It uses the
/// wasm-bindgen-cli installed above and Debian's chromedriver (CHROMEDRIVER), never its own
/// downloads.
pub fn wasm_pack() -> Result {
    let have = output("wasm-pack", &["--version"]).unwrap_or_default();
    if !have.contains(WASM_PACK_VERSION) {
        say(&format!("installing wasm-pack {WASM_PACK_VERSION}"));
        run(Command::new("cargo").args(["install", "wasm-pack", "--version", WASM_PACK_VERSION, "--locked"]))?;
    }
    Ok(())
}

/// mdBook, to build the embedding example the browser tests load (about a minute).
pub fn mdbook() -> Result {
    let have = output("mdbook", &["--version"]).unwrap_or_default();
    if !have.contains(MDBOOK_VERSION) {
        say(&format!("installing mdbook {MDBOOK_VERSION} (for the embedding example)"));
        run(Command::new("cargo").args(["install", "mdbook", "--version", MDBOOK_VERSION, "--locked", "--no-default-features"]))?;
    }
    Ok(())
}

/// The `wasm-bindgen` version Cargo.lock pins.
fn wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn is_root() -> bool {
    output("id", &["-u"]).is_some_and(|u| u.trim() == "0")
}

pub fn browser() -> Result {
    let have = |p: &str| std::path::Path::new(p).exists();
    if have("/usr/bin/chromium") && have("/usr/bin/chromedriver") {
        return Ok(());
    }
    let install = "apt-get update && apt-get install -y chromium chromium-driver";
    if !is_root() || output("which", &["apt-get"]).is_none() {
        return Err(format!("Chromium is needed for the browser tests; run as root: {install}"));
    }
    say("installing Debian's chromium and chromium-driver");
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get").args(["install", "-y", "chromium", "chromium-driver"]))
}

pub fn e2e_packages() -> Result {
    if output("node", &["--version"]).is_none() || output("npm", &["--version"]).is_none() {
        return Err("Node.js and npm are needed for the browser tests (apt-get install -y nodejs npm)".into());
    }
    let dir = root().join("tests/e2e");
    let have = |p: &str| dir.join("node_modules").join(p).join("package.json").exists();
    if have("playwright-core") && have("binaryen") {
        return Ok(());
    }
    say("installing playwright-core (it drives Debian's chromium; no browser download) and binaryen (wasm-opt) from npm");
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
}
