//! Every manifest of the shared corpus (`../shared/corpus`, real public manifests) loads:
//! each document becomes an object (simulated, or stored with a "not simulated" notice) or a
//! positioned diagnostic — never a panic — and applying them all leaves a cluster that settles.

use std::path::{Path, PathBuf};

use kubeplay_core::diag::Severity;
use kubeplay_core::{manifest, Cluster, Session};

fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUBEPLAY_CORPUS") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn manifests(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            manifests(&path, out);
        } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json") {
            out.push(path);
        }
    }
}

#[test]
fn every_corpus_manifest_loads() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        // A clone without the steering repo's shared/ folder beside it: nothing to read.
        println!("skipped: no shared corpus at {} (set KUBEPLAY_CORPUS, or clone beside shared/)", dir.display());
        return;
    }
    let mut paths = Vec::new();
    manifests(&dir, &mut paths);
    assert!(paths.len() > 300, "expected the shared corpus at {} (set KUBEPLAY_CORPUS)", dir.display());
    let (mut objects, mut stored, mut rejected) = (0, 0, 0);
    let mut session = Session::new(Cluster::new(1));
    for path in &paths {
        let name = path.strip_prefix(&dir).unwrap_or(path).display().to_string();
        let text = String::from_utf8_lossy(&std::fs::read(path).expect("readable")).into_owned();
        let parsed = manifest::parse(&name, &text);
        for d in &parsed.diagnostics {
            assert!(d.position.line >= 1 && d.position.column >= 1, "{d}");
        }
        for o in &parsed.objects {
            if !o.object.info().is_simulated() {
                let notice = parsed.diagnostics.iter().any(|d| {
                    d.severity == Severity::Warning && d.message.contains("stored, not simulated yet") && d.position == o.position
                });
                assert!(notice, "{name}: {} has no 'not simulated' notice", o.object.key().name);
                stored += 1;
            }
        }
        // Every rejected document has an error diagnostic; nothing is silently dropped.
        assert_eq!(!parsed.rejected.is_empty(), parsed.has_errors(), "{name}");
        objects += parsed.objects.len();
        rejected += parsed.rejected.len();
        session.files.insert(name.clone(), text);
        session.exec(&format!("kubectl apply -f '{name}'"));
    }
    session.exec("sleep 2m");
    assert!(!session.cluster.livelocked());
    println!("corpus: {} files, {objects} objects ({stored} stored, not simulated), {rejected} rejected documents", paths.len());
    assert!(objects > 300, "only {objects} objects parsed");
}
