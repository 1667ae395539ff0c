//! `cargo xtask bench`: simulation speed figures (wall time is measured here, outside the
//! core). Figures, not pass/fail: tests assert behaviour, this prints numbers.

use std::time::Instant;

use kubeplay_core::{Cluster, Session};

fn deployment(name: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n        resources:\n          requests:\n            cpu: 10m\n"
    )
}

fn nodes(n: usize) -> String {
    (0..n).map(|i| format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-{i}\n---\n")).collect()
}

/// Applies `files` to a cluster and runs `virtual_time`; prints wall time and work done.
fn case(label: &str, files: &[(&str, String)], script: &str) {
    let started = Instant::now();
    let cluster = Cluster::for_manifests(1, files.iter().map(|(name, text)| (*name, text.as_str())));
    let mut session = Session::new(cluster);
    for (name, text) in files {
        session.files.insert((*name).to_string(), text.clone());
        session.exec(&format!("kubectl apply -f {name}"));
    }
    session.run_script(script);
    let wall = started.elapsed();
    let processed = session.cluster.processed();
    let pods = session.cluster.store().list("Pod", None).count();
    println!(
        "{label:<44} {:>9.1} ms wall  {:>9} events  {:>10.0} events/s  {:>6} pods  {:>8} objects",
        wall.as_secs_f64() * 1000.0,
        processed,
        processed as f64 / wall.as_secs_f64().max(1e-9),
        pods,
        session.cluster.store().len()
    );
}

fn main() {
    println!("kubeplay-core benchmark (release build, one thread)");
    case("default example, 1h virtual", &[("web.yaml", deployment("web", 3))], "sleep 1h");
    case(
        "3 deployments x 30 replicas, scale cycles",
        &[("a.yaml", deployment("a", 30)), ("b.yaml", deployment("b", 30)), ("c.yaml", deployment("c", 30))],
        "sleep 1m; kubectl scale deployment a --replicas=5; sleep 1m; kubectl scale deployment a --replicas=60; sleep 5m",
    );
    case("50 nodes, 500 pods", &[("nodes.yaml", nodes(50)), ("big.yaml", deployment("big", 500))], "sleep 5m");
    case("100 nodes, 1000 pods", &[("nodes.yaml", nodes(100)), ("big.yaml", deployment("big", 1000))], "sleep 5m");
}
