//! Scenario tests: each `tests/scenarios/*.md` is a page of a Kubernetes book — manifests in
//! ```yaml file=NAME blocks, then a ```console block of `$ command` lines with the exact
//! output expected. The runner replays the commands on a fresh cluster (seeded from the
//! page's `Seed: N` line) and compares the transcript byte for byte.
//!
//! `UPDATE_SCENARIOS=1 cargo test --test scenarios` rewrites the console blocks; review the
//! diff before committing it.

use std::path::{Path, PathBuf};

use kubeplay_core::{manifest, Cluster, Session};

struct Scenario {
    seed: u64,
    files: Vec<(String, String)>,
    /// (start, end) byte range of each console block's body, and its text.
    consoles: Vec<(usize, usize, String)>,
}

fn parse(text: &str) -> Scenario {
    let mut seed = 1;
    let mut files = Vec::new();
    let mut consoles = Vec::new();
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        offset += line.len();
        let trimmed = line.trim_end();
        if let Some(s) = trimmed.strip_prefix("Seed: ") {
            seed = s.trim().parse().expect("Seed: N");
        }
        let Some(info) = trimmed.strip_prefix("```") else { continue };
        let start = offset;
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.trim_end() == "```" {
                offset += l.len();
                break;
            }
            offset += l.len();
            body.push_str(l);
        }
        if let Some(name) = info.strip_prefix("yaml file=") {
            files.push((name.trim().to_string(), body));
        } else if info == "console" {
            consoles.push((start, start + body.len(), body));
        }
    }
    Scenario { seed, files, consoles }
}

fn replay(s: &Scenario) -> Vec<String> {
    let brings_nodes = s
        .files
        .iter()
        .any(|(n, t)| manifest::parse(n, t).objects.iter().any(|o| o.object.info().kind == "Node"));
    let cluster = if brings_nodes { Cluster::empty(s.seed) } else { Cluster::new(s.seed) };
    let mut session = Session::new(cluster);
    session.files = s.files.iter().cloned().collect();
    s.consoles
        .iter()
        .map(|(_, _, body)| {
            let commands: String = body.lines().filter_map(|l| l.strip_prefix("$ ")).map(|c| format!("{c}\n")).collect();
            let transcript = session.run_script(&commands);
            assert!(!session.cluster.livelocked(), "a controller never settled");
            transcript
        })
        .collect()
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

#[test]
fn scenarios() {
    let update = std::env::var_os("UPDATE_SCENARIOS").is_some();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .expect("tests/scenarios exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no scenarios found");
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("readable scenario");
        let scenario = parse(&text);
        assert!(!scenario.consoles.is_empty(), "{} has no console block", path.display());
        let actual = replay(&scenario);
        // Same seed, same inputs: the replay must be byte-identical.
        assert_eq!(actual, replay(&scenario), "{} is not deterministic", path.display());
        if update {
            let mut out = text.clone();
            for ((start, end, _), new) in scenario.consoles.iter().zip(&actual).rev() {
                out.replace_range(start..end, new);
            }
            std::fs::write(path, out).expect("writable scenario");
            continue;
        }
        for ((_, _, expected), got) in scenario.consoles.iter().zip(&actual) {
            if expected != got {
                failures.push(format!("--- {}\n--- expected\n{expected}--- actual\n{got}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} scenario(s) differ (UPDATE_SCENARIOS=1 to accept):\n{}", failures.len(), failures.join("\n"));
    println!("{} scenarios passed", paths.len());
}
