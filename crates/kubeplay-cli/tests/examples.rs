//! Every file in `examples/` (the playground's example gallery) parses without errors and runs
//! for five virtual minutes without a livelock.

use std::path::{Path, PathBuf};

use kubeplay_core::{manifest, Cluster, Session};

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
        session.files.insert(name.clone(), text);
        let out = session.exec(&format!("kubectl apply -f {name}"));
        assert!(out.ok, "{name}: {}", out.text);
        session.exec("sleep 5m");
        assert!(!session.cluster.livelocked(), "{name}");
    }
}
