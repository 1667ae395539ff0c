//! Every file in `examples/` (the playground's example gallery) parses without errors, its
//! `# Try:` commands all succeed (`kubectl diff` may find differences), and it runs on for five virtual minutes without a livelock.

use std::path::{Path, PathBuf};

use kubeplay_core::shell::split_script;
use kubeplay_core::{manifest, Cluster, Session};

/// The commands of the `# Try:` lines at the top of an example (what follows two or more
/// spaces and `(` is a comment about what to look for).
fn try_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_try = false;
    for line in text.lines() {
        let rest = if let Some(r) = line.strip_prefix("# Try:") {
            in_try = true;
            r
        } else if let Some(r) = line.strip_prefix("#   ").filter(|_| in_try) {
            r
        } else {
            in_try = false;
            continue;
        };
        let command = rest.split("  (").next().unwrap_or(rest).trim();
        out.extend(split_script(command));
    }
    out
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("examples/").filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn every_example_loads_and_runs() {
    let mut files = Vec::new();
    yaml_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples"), &mut files);
    assert!(files.len() >= 4, "found {files:?}");
    for path in files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).expect("readable");
        let parsed = manifest::parse(&name, &text);
        assert!(!parsed.has_errors(), "{name}: {:?}", parsed.diagnostics);
        assert!(text.starts_with('#'), "{name} starts with a comment that says what it shows");
        let mut session = Session::new(Cluster::for_manifests(1, [(name.as_str(), text.as_str())]));
        session.files.insert(name.clone(), text.clone());
        // The playground's editor buffer, which `# Try:` commands name.
        session.files.insert("playground.yaml".into(), text.clone());
        let out = session.exec(&format!("kubectl apply -f {name}"));
        assert!(out.ok, "{name}: {}", out.text);
        let commands = try_commands(&text);
        assert!(!commands.is_empty() || name.ends_with("web.yaml"), "{name} has no `# Try:` commands");
        for command in commands {
            let out = session.exec(&command);
            // kubectl diff exits 1 when it found differences (and prints them).
            let differs = command.starts_with("kubectl diff") && out.text.starts_with("diff -u -N ");
            assert!(out.ok || differs, "{name}: `{command}` failed:\n{}", out.text);
            if session.attached.is_some() {
                session.exec("exit");
            }
        }
        session.exec("sleep 5m");
        assert!(!session.cluster.livelocked(), "{name}");
    }
}
