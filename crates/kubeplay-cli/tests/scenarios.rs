//! Scenario tests: each `tests/scenarios/*.md` is a page of a Kubernetes book — manifests in
//! ```yaml file=NAME blocks, then ```console blocks of `$ command` lines with the exact output
//! expected. The runner replays them on a fresh cluster seeded from the page's `Seed: N` line
//! and compares the transcript byte for byte, twice (same seed ⇒ same bytes).
//!
//! `UPDATE_SCENARIOS=1 cargo test --test scenarios` rewrites the console blocks; review the
//! diff before committing it.

use std::path::{Path, PathBuf};

use kubeplay_core::scenario::Scenario;

fn scenario_paths() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/scenarios exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn scenarios() {
    let update = std::env::var_os("UPDATE_SCENARIOS").is_some();
    let paths = scenario_paths();
    assert!(!paths.is_empty(), "no scenarios found");
    let mut failures = Vec::new();
    for path in &paths {
        let page = std::fs::read_to_string(path).expect("readable scenario");
        let scenario = Scenario::parse(&page);
        assert!(!scenario.consoles.is_empty(), "{} has no console block", path.display());
        let actual = scenario.replay();
        assert_eq!(actual, scenario.replay(), "{} is not deterministic", path.display());
        // The store keeps Pods compact past its latest few thousand Pod uses; with every Pod
        // compact as soon as it can be, every page reads the same.
        let compact = scenario.replay_with(|c| c.set_hot_pod_uses(0));
        assert_eq!(actual, compact, "{} reads differently with Pods kept compact", path.display());
        if update {
            std::fs::write(path, scenario.rewrite(&page, &actual)).expect("writable scenario");
            continue;
        }
        for (expected, got) in scenario.expected().iter().zip(&actual) {
            if expected != got {
                failures.push(format!("--- {}\n--- expected\n{expected}--- actual\n{got}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} scenario block(s) differ (UPDATE_SCENARIOS=1 to accept):\n{}", failures.len(), failures.join("\n"));
}

/// The wasm determinism test (web/tests) embeds every page; a page missing there would go
/// unchecked in wasm.
#[test]
fn every_scenario_is_also_replayed_in_wasm() {
    let wasm_test = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/tests/determinism.rs"))
        .expect("web/tests/determinism.rs exists");
    for path in scenario_paths() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(wasm_test.contains(name), "web/tests/determinism.rs does not include {name}");
    }
}
