//! `cargo xtask bench`: simulation speed figures (wall time and memory are measured here,
//! outside the core). Figures, not pass/fail: tests assert behaviour, this prints numbers.
//! `bench [quick] [growth|basic|envelope|everyday]`: `quick` runs a tenth of each shape (for a
//! smoke run); `growth` only the growth pair, `basic` only SchedulingBasic, `envelope` only the
//! envelope, `everyday` only the playground's sizes, `small`/`large` one side of the growth
//! pair (for profiling).

use std::time::Instant;

/// The allocator the `kubeplay` command uses, so that these figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kubeplay_core::bench;
use kubeplay_core::{Cluster, Session};

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// scheduler_perf SchedulingBasic: Pods scheduled per second of wall time.
fn scheduling_basic(nodes: usize, pods: usize) {
    let mut session = bench::cluster_with_nodes(nodes);
    let started = Instant::now();
    let bound = bench::schedule_pods(&mut session, pods);
    let wall = started.elapsed();
    println!(
        "SchedulingBasic {nodes} nodes, {pods} pods: {bound} bound in {:.0} ms = {:.0} pods/s (peak RSS {:.0} MiB)",
        ms(wall),
        bound as f64 / wall.as_secs_f64().max(1e-9),
        peak_mib().unwrap_or(0.0)
    );
}

/// Deployments applied, until every Pod is Running. Returns the wall time.
fn deployments(label: &str, nodes: usize, count: usize, replicas: usize) -> f64 {
    let mut session = bench::cluster_with_nodes(nodes);
    let started = Instant::now();
    let (running, virtual_time) = bench::run_deployments(&mut session, count, replicas);
    let wall = started.elapsed();
    println!(
        "{label}: {nodes} nodes, {count} Deployments x {replicas}: {running} Running after {} virtual, {:.0} ms wall, {} work items, {} objects (peak RSS {:.0} MiB)",
        virtual_time.go_string(),
        ms(wall),
        session.cluster.processed(),
        session.cluster.store().len(),
        peak_mib().unwrap_or(0.0)
    );
    ms(wall)
}

/// The playground's everyday sizes: the default example for an hour, scale cycles, and the
/// largest size the playground draws (1,000 Pods) behind a Service through a rollout.
fn everyday() {
    let service =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: app-0000\nspec:\n  selector:\n    app: app-0000\n  ports:\n  - port: 80\n";
    for (label, files, script) in [
        ("default example, 1h virtual", vec![("web.yaml", bench::deployments_manifest(1, 3))], "sleep 1h"),
        (
            "1 deployment x 1000 behind a Service, rollout restart, 5m virtual",
            vec![("nodes.yaml", bench::nodes_manifest(12)), ("app.yaml", format!("{}{service}", bench::deployments_manifest(1, 1000)))],
            "sleep 2m; kubectl rollout restart deployment app-0000; sleep 3m",
        ),
        (
            "3 deployments x 30, scale cycles",
            vec![("apps.yaml", bench::deployments_manifest(3, 30))],
            "sleep 1m; kubectl scale deployment app-0000 --replicas=5; sleep 1m; kubectl scale deployment app-0000 --replicas=60; sleep 5m",
        ),
    ] {
        let started = Instant::now();
        let mut session = Session::new(Cluster::for_manifests(1, files.iter().map(|(n, t)| (*n, t.as_str()))));
        for (name, text) in &files {
            session.files.insert((*name).to_string(), text.clone());
            session.exec(&format!("kubectl apply -f {name}"));
        }
        session.run_script(script);
        let running = session.cluster.store().pods(None).filter(|p| p.phase() == "Running").count();
        println!("{label}: {:.1} ms wall, {} work items, {running} Pods Running", ms(started.elapsed()), session.cluster.processed());
    }
    traffic();
}

/// Traffic sources: 1,000 requests/s from outside through a LoadBalancer to 3 Pods for five
/// minutes of virtual time (every request routed), then a week (long windows, sampled).
fn traffic() {
    let manifest = format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-0000\nspec:\n  type: LoadBalancer\n  selector:\n    app: app-0000\n  ports:\n  - port: 80\n",
        bench::deployments_manifest(1, 3)
    );
    let mut session = Session::new(Cluster::new(1));
    session.files.insert("app.yaml".into(), manifest);
    session.run_script("kubectl apply -f app.yaml; sleep 30s; traffic start load http://203.0.113.10/ --rate=1000");
    for (label, script) in [("5m virtual", "sleep 5m"), ("a week virtual (sampled)", "sleep 168h")] {
        let before = session.cluster.traffic().source("load").map_or(0, |s| s.totals.sent);
        let started = Instant::now();
        session.run_script(script);
        let wall = started.elapsed();
        let sent = session.cluster.traffic().source("load").map_or(0, |s| s.totals.sent) - before;
        println!("traffic, 1000 requests/s through a LoadBalancer to 3 Pods, {label}: {sent} requests counted in {:.0} ms wall", ms(wall));
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let scale = if quick { 10 } else { 1 };
    println!("kubeplay-core benchmark (release build, one thread{})", if quick { ", quick: a tenth of each shape" } else { "" });
    // `growth` runs only the growth pair (for profiling).
    let growth_only = std::env::args().any(|a| a == "growth");
    if std::env::args().any(|a| a == "envelope") {
        deployments("envelope", 5000, 1500, 100);
        return;
    }
    // `small` / `large`: one side of the growth pair alone (for profiling).
    if std::env::args().any(|a| a == "small") {
        deployments("growth, small", 500 / scale, 50 / scale, 100);
        return;
    }
    if std::env::args().any(|a| a == "large") {
        deployments("growth, large (10x)", 5000 / scale, 500 / scale, 100);
        return;
    }
    if std::env::args().any(|a| a == "everyday") {
        everyday();
        return;
    }
    if std::env::args().any(|a| a == "basic") {
        // Only SchedulingBasic (for profiling).
        scheduling_basic(5000 / scale, 150_000 / scale);
        return;
    }
    if !growth_only {
        everyday();
        scheduling_basic(5000 / scale, 150_000 / scale);
    }
    let small = deployments("growth, small", 500 / scale, 50 / scale, 100);
    let large = deployments("growth, large (10x)", 5000 / scale, 500 / scale, 100);
    println!("growth: ten times the work took {:.1} times the time", large / small.max(1e-9));
    if !quick && !growth_only {
        deployments("envelope", 5000, 1500, 100);
    }
}
