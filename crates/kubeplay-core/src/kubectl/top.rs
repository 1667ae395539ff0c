//! `kubectl top node|pod`: resource usage from the Metrics API, as metrics-server serves it
//! (kubeplay's cluster runs one, as most clusters people learn on do). metrics-server scrapes
//! the kubelets every 15 s, so a container is measured once it has run that long. A
//! container uses its image's idle footprint (`kubelet::idle_usage`), plus the memory its
//! program holds (`kubeplay.dev/memory`) and CPU for the requests it answers (half a
//! millicore per request a second, averaged over its run). A node adds its system daemons.

use super::args::{namespace, parse_flags};
use super::tabwriter::TabWriter;
use super::Output;
use crate::api::labels::Selector;
use crate::api::{node_fault, pod_util, quantity, Object};
use crate::sim::Cluster;
use crate::time::{from_time, SimDuration, SimTime};

/// metrics-server's `--metric-resolution`: nothing is known about a container younger.
const RESOLUTION: SimDuration = SimDuration(15_000);
/// kubectl's `metricsCreationDelay`: a Pod older than this without metrics is an error.
const METRICS_CREATION_DELAY: SimDuration = SimDuration(120_000);
/// kubelet, containerd and the OS on a node.
const SYSTEM_MILLICORES: i64 = 45;
const SYSTEM_BYTES: i64 = 420 << 20;

/// A container's name, millicores and bytes.
type ContainerRow = (String, i64, i64);

struct Usage {
    millicores: i64,
    bytes: i64,
}

/// One container's usage now, if metrics-server has measured it.
fn container_usage(cluster: &Cluster, pod: &k8s_openapi::api::core::v1::Pod, container: &str, image: &str, now: SimTime) -> Option<Usage> {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    // A node whose kubelet is gone cannot be scraped.
    let node = pod_util::node_name(pod).and_then(|n| cluster.get(&crate::api::ObjectKey::new("Node", "", n))).and_then(Object::as_node)?;
    if node_fault::down_since(node).is_some() {
        return None;
    }
    let view = cluster.api().running_container(uid, container)?;
    if now.since(view.started_at) < RESOLUTION {
        return None;
    }
    let (idle_cpu, idle_bytes) = crate::kubelet::idle_usage(image);
    // A steady, per-container wobble (±6 %), as real working sets never sit on round numbers.
    let wobble = crate::rng::fnv1a64(format!("{uid}/{container}").as_bytes()) % 13;
    let bytes = (idle_bytes + idle_bytes * (wobble as i64 - 6) / 100).saturating_add(view.memory);
    let answered = cluster.traffic().pod_counts().get(uid).map_or(0, |c| c.counts.ok);
    let seconds = now.since(view.started_at).ms().max(1000) / 1000;
    let millicores = idle_cpu + (answered as i64) / (2 * seconds as i64).max(1);
    Some(Usage { millicores, bytes })
}

fn memory(bytes: i64) -> String {
    format!("{}Mi", bytes / (1 << 20))
}

pub fn run(cluster: &mut Cluster, args: &[String]) -> Output {
    cluster.settle();
    let Some(what) = args.first() else {
        return Output::err("Display resource (CPU/memory) usage.\n\nThe top command allows you to see the resource consumption for nodes or pods.\n\nThis command requires Metrics Server to be correctly configured and working on the server.\n\nAvailable Commands:\n  node          Display resource (CPU/memory) usage of nodes\n  pod           Display resource (CPU/memory) usage of pods\n\nUsage:\n  kubectl top [flags] [options]\n");
    };
    let containers = args.iter().any(|a| a == "--containers");
    let sum = args.iter().any(|a| a == "--sum");
    let rest: Vec<String> = args[1..].iter().filter(|a| *a != "--containers" && *a != "--sum").cloned().collect();
    let flags = match parse_flags("top", &rest) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    if flags.sort_by.as_deref().is_some_and(|b| b != "cpu" && b != "memory") {
        return Output::err("error: --sort-by accepts only cpu or memory\n");
    }
    let selector = match flags.selector.as_deref().map(Selector::parse).transpose() {
        Ok(s) => s,
        Err(e) => return Output::err(format!("error: {e}\n")),
    };
    if flags.positional.len() > 1 {
        return Output::err(format!("error: unexpected args: {:?}\n", &flags.positional[1..]));
    }
    let name = flags.positional.first().cloned();
    if name.is_some() && selector.is_some() {
        let what = if matches!(what.as_str(), "node" | "nodes" | "no") { "--selector" } else { "selector" };
        return Output::err(format!("error: only one of NAME or {what} can be provided\n"));
    }
    match what.as_str() {
        "node" | "nodes" | "no" => nodes(cluster, name.as_deref(), selector.as_ref(), flags.sort_by.as_deref(), flags.no_headers),
        "pod" | "pods" | "po" => {
            let ns = (!flags.all_namespaces).then(|| namespace(&flags));
            pods(cluster, ns.as_deref(), name.as_deref(), selector.as_ref(), flags.sort_by.as_deref(), flags.no_headers, containers, sum)
        }
        other => Output::err(format!("error: unknown command {other:?} for \"kubectl top\"\n")),
    }
}

fn nodes(cluster: &Cluster, name: Option<&str>, selector: Option<&Selector>, sort_by: Option<&str>, no_headers: bool) -> Output {
    let now = cluster.now();
    let list: Vec<&k8s_openapi::api::core::v1::Node> = cluster
        .store()
        .list("Node", None)
        .filter_map(Object::as_node)
        .filter(|n| name.is_none_or(|x| n.metadata.name.as_deref() == Some(x)))
        .filter(|n| selector.is_none_or(|s| s.matches(n.metadata.labels.as_ref())))
        .collect();
    if let Some(n) = name.filter(|_| list.is_empty()) {
        return Output::err(format!("Error from server (NotFound): nodes {n:?} not found\n"));
    }
    let mut measured = Vec::new();
    let mut missing = Vec::new();
    for node in &list {
        let node_name = node.metadata.name.clone().unwrap_or_default();
        let created = node.metadata.creation_timestamp.as_ref().map(from_time).unwrap_or(SimTime::ZERO);
        if node_fault::down_since(node).is_some() || now.since(created) < RESOLUTION {
            missing.push(node_name);
            continue;
        }
        let (mut cpu, mut bytes) = (SYSTEM_MILLICORES, SYSTEM_BYTES);
        for pod in cluster.store().pods_on(&node_name).filter_map(Object::as_pod) {
            for c in pod.spec.iter().flat_map(|s| s.containers.iter().chain(s.init_containers.iter().flatten())) {
                if let Some(u) = container_usage(cluster, pod, &c.name, c.image.as_deref().unwrap_or_default(), now) {
                    cpu = cpu.saturating_add(u.millicores);
                    bytes = bytes.saturating_add(u.bytes);
                }
            }
        }
        let alloc = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
        let cap_cpu = alloc.and_then(|a| a.get("cpu")).and_then(|q| quantity::cpu_millis(&q.0)).unwrap_or(0);
        let cap_mem = alloc.and_then(|a| a.get("memory")).and_then(|q| quantity::bytes(&q.0)).unwrap_or(0);
        measured.push((node_name, cpu, bytes, cap_cpu, cap_mem));
    }
    if measured.is_empty() {
        return Output::err("error: metrics not available yet\n");
    }
    match sort_by {
        Some("cpu") => measured.sort_by_key(|m| std::cmp::Reverse(m.1)),
        Some("memory") => measured.sort_by_key(|m| std::cmp::Reverse(m.2)),
        _ => {}
    }
    let mut w = TabWriter::printer();
    if !no_headers {
        w.write("NAME\tCPU(cores)\tCPU(%)\tMEMORY(bytes)\tMEMORY(%)\t\n");
    }
    let percent = |used: i64, cap: i64| if cap > 0 { (i128::from(used) * 100 / i128::from(cap)) as i64 } else { 0 };
    for (n, cpu, bytes, cap_cpu, cap_mem) in &measured {
        w.write(&format!("{n}\t{cpu}m\t{}%\t{}\t{}%\t\n", percent(*cpu, *cap_cpu), memory(*bytes), percent(*bytes, *cap_mem)));
    }
    for n in missing {
        w.write(&format!("{n}\t<unknown>\t<unknown>\t<unknown>\t<unknown>\t\n"));
    }
    Output::ok(w.finish())
}

#[allow(clippy::too_many_arguments)]
fn pods(
    cluster: &Cluster,
    namespace: Option<&str>,
    name: Option<&str>,
    selector: Option<&Selector>,
    sort_by: Option<&str>,
    no_headers: bool,
    containers: bool,
    sum: bool,
) -> Output {
    let now = cluster.now();
    let list: Vec<&k8s_openapi::api::core::v1::Pod> = cluster
        .store()
        .list("Pod", namespace)
        .filter_map(Object::as_pod)
        .filter(|p| name.is_none_or(|x| p.metadata.name.as_deref() == Some(x)))
        .filter(|p| selector.is_none_or(|s| s.matches(p.metadata.labels.as_ref())))
        .collect();
    if let Some(n) = name.filter(|_| list.is_empty()) {
        return Output::err(format!("Error from server (NotFound): pods {n:?} not found\n"));
    }
    // (namespace, pod, [(container, cpu, bytes)]): a Pod is listed once each of its running
    // containers has been measured.
    let mut measured: Vec<(String, String, Vec<ContainerRow>)> = Vec::new();
    for pod in &list {
        if pod_util::is_terminal(pod) || pod_util::node_name(pod).is_none() {
            continue;
        }
        let mut rows = Vec::new();
        let mut complete = true;
        for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
            match container_usage(cluster, pod, &c.name, c.image.as_deref().unwrap_or_default(), now) {
                Some(u) => rows.push((c.name.clone(), u.millicores, u.bytes)),
                None => complete = false,
            }
        }
        if complete && !rows.is_empty() {
            measured.push((pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default(), rows));
        }
    }
    if measured.is_empty() {
        // `verifyEmptyMetrics`: a Pod old enough to have been measured is an error.
        for pod in &list {
            let created = pod.metadata.creation_timestamp.as_ref().map(from_time).unwrap_or(SimTime::ZERO);
            let age = now.since(created);
            if age > METRICS_CREATION_DELAY {
                return Output::err(format!(
                    "error: Metrics not available for pod {}/{}, age: {}\n",
                    pod.metadata.namespace.as_deref().unwrap_or_default(),
                    pod.metadata.name.as_deref().unwrap_or_default(),
                    age.go_string()
                ));
            }
        }
        if !list.is_empty() {
            return Output::err("error: metrics not available yet\n");
        }
        return Output::ok(match namespace {
            Some(ns) => format!("No resources found in {ns} namespace.\n"),
            None => "No resources found\n".into(),
        });
    }
    let total = |rows: &[ContainerRow]| rows.iter().fold((0i64, 0i64), |(c, m), r| (c.saturating_add(r.1), m.saturating_add(r.2)));
    match sort_by {
        Some("cpu") => measured.sort_by_key(|m| std::cmp::Reverse(total(&m.2).0)),
        Some("memory") => measured.sort_by_key(|m| std::cmp::Reverse(total(&m.2).1)),
        // The Metrics API lists by namespace and name.
        _ => {}
    }
    let all = namespace.is_none();
    let mut w = TabWriter::printer();
    if !no_headers {
        if all {
            w.write("NAMESPACE\t");
        }
        if containers {
            w.write("POD\t");
        }
        w.write("NAME\tCPU(cores)\tMEMORY(bytes)\t\n");
    }
    let (mut sum_cpu, mut sum_bytes) = (0i64, 0i64);
    for (ns, pod, rows) in &mut measured {
        let prefix = if all { format!("{ns}\t") } else { String::new() };
        if containers {
            match sort_by {
                Some("cpu") => rows.sort_by_key(|r| std::cmp::Reverse(r.1)),
                Some("memory") => rows.sort_by_key(|r| std::cmp::Reverse(r.2)),
                _ => {}
            }
            for (c, cpu, bytes) in rows.iter() {
                w.write(&format!("{prefix}{pod}\t{c}\t{cpu}m\t{}\t\n", memory(*bytes)));
            }
        } else {
            let (cpu, bytes) = total(rows);
            w.write(&format!("{prefix}{pod}\t{cpu}m\t{}\t\n", memory(bytes)));
        }
        let (cpu, bytes) = total(rows);
        sum_cpu = sum_cpu.saturating_add(cpu);
        sum_bytes = sum_bytes.saturating_add(bytes);
    }
    if sum {
        // `printPodResourcesSum`: rules under the two usage columns, then the totals.
        let width = 3 + usize::from(all) + usize::from(containers);
        w.write(&"\t".repeat(width - 2));
        w.write("________\t________\t\n");
        w.write(&"\t".repeat(width - 3));
        w.write(&format!("\t{sum_cpu}m\t{}\t\n", memory(sum_bytes)));
    }
    Output::ok(w.finish())
}
