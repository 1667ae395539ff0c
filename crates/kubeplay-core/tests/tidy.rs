//! Tidy checks for the core's architecture invariants (run with `cargo test`): no browser
//! crates among its dependencies, and no wall clock, OS randomness or hash-ordered maps in its
//! source. clippy.toml bans the same types; this also covers builds without clippy.

use std::path::Path;

const BROWSER_CRATES: [&str; 6] = ["yew", "web-sys", "js-sys", "gloo", "wasm-bindgen", "getrandom"];
const FORBIDDEN: [&str; 7] = ["std::time", "Instant::", "SystemTime", "HashMap", "HashSet", "thread_rng", "rand::"];

#[test]
fn core_depends_on_no_browser_crate() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).expect("Cargo.toml");
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or("").split("\n[").next().unwrap_or("");
    for line in deps.lines() {
        let name = line.split(['=', ' ', '.']).next().unwrap_or("").trim();
        assert!(!BROWSER_CRATES.iter().any(|b| name.starts_with(b)), "kubeplay-core depends on {name}");
    }
}

fn visit(dir: &Path, check: &mut dyn FnMut(&Path, &str)) {
    for entry in std::fs::read_dir(dir).expect("src dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, check);
        } else if path.extension().is_some_and(|e| e == "rs") {
            check(&path, &std::fs::read_to_string(&path).expect("source"));
        }
    }
}

#[test]
fn core_source_has_no_clock_randomness_or_hash_order() {
    let mut checked = 0;
    visit(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut |path, text| {
        checked += 1;
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                assert!(!code.contains(word), "{}:{}: `{word}` breaks determinism", path.display(), n + 1);
            }
        }
    });
    assert!(checked > 20);
}
