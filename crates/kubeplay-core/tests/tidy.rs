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

/// The core's layers, lowest first (ARCHITECTURE.md). A module may use what lies in lower
/// layers; within a layer only the pairs in `SAME_LAYER` are allowed, so that components
/// never import each other.
const LAYERS: [&[&str]; 7] = [
    &["time", "rng", "diag", "dedup"],
    &["api", "manifest"],
    &["apiserver"],
    &["runtime", "bootstrap", "network"],
    &["controllers", "scheduler", "kubelet", "traffic"],
    &["sim"],
    &["kubectl", "shell", "scenario", "bench", "share"],
];
const SAME_LAYER: [(&str, &str); 6] =
    [("manifest", "api"), ("shell", "kubectl"), ("scenario", "shell"), ("scenario", "kubectl"), ("bench", "shell"), ("share", "shell")];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Top-level modules each top-level module refers to through `crate::…` paths.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    visit(&src, &mut |path, text| {
        let rel = path.strip_prefix(&src).expect("under src");
        let first = rel.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or("");
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" {
            return;
        }
        let deps = graph.entry(module.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let mut names: Vec<&str> = Vec::new();
                if let Some(group) = rest.strip_prefix('{') {
                    // `use crate::{a, b::c}`: every name at the top of the group.
                    let inner = group.split('}').next().unwrap_or("");
                    names.extend(inner.split(',').map(|n| n.trim().split("::").next().unwrap_or("").trim()));
                } else {
                    names.push(rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or(""));
                }
                for name in names {
                    if layer(name).is_some() && name != module {
                        deps.insert(name.to_string());
                    }
                }
            }
        }
    });
    graph
}

#[test]
fn core_layers_import_only_downwards_and_components_never_each_other() {
    let graph = module_graph();
    assert!(graph.len() >= 15, "found only {:?}", graph.keys());
    for (module, deps) in &graph {
        let Some(own) = layer(module) else { panic!("module `{module}` is in no layer: add it to LAYERS and ARCHITECTURE.md") };
        for dep in deps {
            let theirs = layer(dep).unwrap_or(usize::MAX);
            let allowed = theirs < own || (theirs == own && SAME_LAYER.contains(&(module.as_str(), dep.as_str())));
            assert!(allowed, "`{module}` (layer {own}) imports `{dep}` (layer {theirs}): data flows one way");
        }
    }
}

#[test]
fn core_modules_have_no_import_cycle() {
    let graph = module_graph();
    // Depth-first search with colours: grey on the stack, black done.
    fn visit_node<'a>(
        node: &'a str,
        graph: &'a std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        colour: &mut std::collections::BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) {
        colour.insert(node, 1);
        stack.push(node);
        for dep in graph.get(node).into_iter().flatten() {
            match colour.get(dep.as_str()) {
                Some(1) => panic!("import cycle: {} -> {dep}", stack.join(" -> ")),
                Some(_) => {}
                None => visit_node(dep, graph, colour, stack),
            }
        }
        stack.pop();
        colour.insert(node, 2);
    }
    let mut colour: std::collections::BTreeMap<&str, u8> = Default::default();
    for node in graph.keys() {
        if !colour.contains_key(node.as_str()) {
            visit_node(node, &graph, &mut colour, &mut Vec::new());
        }
    }
}

#[test]
fn the_layering_check_sees_a_forbidden_import() {
    // The checker itself: a component naming another is found by the same parsing.
    let graph = module_graph();
    assert!(graph.get("kubectl").is_some_and(|d| d.contains("sim")), "kubectl uses the host: {graph:?}");
    assert!(graph.get("scheduler").is_some_and(|d| d.contains("runtime") && d.contains("apiserver")));
    assert!(!graph.get("scheduler").is_some_and(|d| d.contains("kubelet")));
}
