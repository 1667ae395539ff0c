//! The default scheduler, first slice: filters NodeUnschedulable, NodeName, TaintToleration,
//! NodeAffinity (nodeSelector and required node affinity) and NodeResourcesFit; scores
//! TaintToleration (×3), NodeResourcesFit/LeastAllocated (×1) and BalancedAllocation (×1);
//! ties broken at random from the scheduler's own stream, as `selectHost` does.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, Pod, PodCondition, Taint, Toleration};

use crate::api::pod_util;
use crate::api::quantity;
use crate::api::{Object, ObjectKey};
use crate::cluster::Cluster;
use crate::events::NewEvent;
use crate::kubelet::Step;
use crate::time::SimDuration;

/// `podMaxInUnschedulablePodsDuration`: an unschedulable Pod is retried at least this often.
const UNSCHEDULABLE_RETRY: SimDuration = SimDuration(5 * 60 * 1000);
/// Scheduler non-zero defaults for containers that request nothing (used only in scoring).
const DEFAULT_MILLI_CPU: i64 = 100;
const DEFAULT_MEMORY: i64 = 200 * 1024 * 1024;

/// Why a node was filtered out; `resolvable` says whether preemption could help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub reasons: Vec<String>,
    pub resolvable: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
}

pub fn reconcile(cluster: &mut Cluster, key: &ObjectKey) -> Option<SimDuration> {
    let pod = cluster.get(key)?.as_pod()?.clone();
    let spec = pod.spec.as_ref()?;
    if spec.node_name.is_some() || pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    if spec.scheduler_name.as_deref().is_some_and(|s| s != "default-scheduler") {
        return None;
    }
    let nodes: Vec<Node> = cluster.store.list("Node", None).filter_map(Object::as_node).cloned().collect();
    let mut feasible = Vec::new();
    let mut rejected: Vec<Rejection> = Vec::new();
    for node in &nodes {
        match filter(cluster, &pod, node) {
            Ok(()) => feasible.push(node),
            Err(r) => rejected.push(r),
        }
    }
    if feasible.is_empty() {
        let message = fit_error(nodes.len(), &rejected);
        unschedulable(cluster, pod, message);
        return Some(UNSCHEDULABLE_RETRY);
    }
    let max_taint_raw = feasible.iter().map(|n| untolerated_prefer_no_schedule(&pod, n)).max().unwrap_or(0);
    let scores: Vec<i64> = feasible.iter().map(|n| score(cluster, &pod, n, max_taint_raw)).collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    let winners: Vec<&Node> = feasible.iter().zip(&scores).filter(|(_, s)| **s == best).map(|(n, _)| *n).collect();
    let chosen = winners[cluster.rng.scheduler.pick_index(winners.len())];
    bind(cluster, pod, chosen.metadata.name.clone().unwrap_or_default());
    None
}

fn bind(cluster: &mut Cluster, mut pod: Pod, node: String) {
    let key = ObjectKey::new("Pod", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""));
    if let Some(spec) = pod.spec.as_mut() {
        spec.node_name = Some(node.clone());
    }
    set_scheduled(cluster, &mut pod, "True", None, None);
    cluster.update(Object::Pod(pod.clone()));
    cluster.event(NewEvent {
        involved: &Object::Pod(pod.clone()),
        warning: false,
        reason: "Scheduled",
        message: format!("Successfully assigned {}/{} to {node}", key.namespace, key.name),
        component: "default-scheduler",
        host: None,
        field_path: None,
    });
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    // The kubelet's watch sees the binding a moment later.
    let delay = SimDuration(cluster.rng.kubelet.range_inclusive(10, 60));
    cluster.kubelet_after(&key, &uid, Step::Admit, delay);
}

fn unschedulable(cluster: &mut Cluster, mut pod: Pod, message: String) {
    set_scheduled(cluster, &mut pod, "False", Some("Unschedulable"), Some(message.clone()));
    cluster.update(Object::Pod(pod.clone()));
    cluster.event(NewEvent {
        involved: &Object::Pod(pod),
        warning: true,
        reason: "FailedScheduling",
        message,
        component: "default-scheduler",
        host: None,
        field_path: None,
    });
}

fn set_scheduled(cluster: &Cluster, pod: &mut Pod, status: &str, reason: Option<&str>, message: Option<String>) {
    let now = cluster.timestamp();
    let conditions = pod.status.get_or_insert_with(Default::default).conditions.get_or_insert_with(Vec::new);
    let previous = conditions.iter().position(|c| c.type_ == "PodScheduled");
    let transition = match previous.map(|i| &conditions[i]) {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => Some(now),
    };
    let condition = PodCondition {
        type_: "PodScheduled".into(),
        status: status.into(),
        reason: reason.map(str::to_string),
        message,
        last_transition_time: transition,
        last_probe_time: None,
        observed_generation: None,
    };
    match previous {
        Some(i) => conditions[i] = condition,
        None => conditions.push(condition),
    }
}

/// `FitError.Error()`: per-reason node counts as `"<n> <reason>"`, sorted as strings, then
/// the preemption (PostFilter) verdict.
pub fn fit_error(n_nodes: usize, rejected: &[Rejection]) -> String {
    let mut histogram: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rejected {
        for reason in &r.reasons {
            *histogram.entry(reason.as_str()).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = histogram.iter().map(|(reason, n)| format!("{n} {reason}")).collect();
    parts.sort();
    let unhelpful = rejected.iter().filter(|r| !r.resolvable).count();
    let no_victims = rejected.len() - unhelpful;
    let mut preemption = Vec::new();
    if unhelpful > 0 {
        preemption.push(format!("{unhelpful} Preemption is not helpful for scheduling"));
    }
    if no_victims > 0 {
        preemption.push(format!("{no_victims} No preemption victims found for incoming pod"));
    }
    preemption.sort();
    format!(
        "0/{n_nodes} nodes are available: {}. no new claims to deallocate, preemption: 0/{n_nodes} nodes are available: {}.",
        parts.join(", "),
        preemption.join(", ")
    )
}

/// Runs the filter plugins in the default profile's order; the first that fails decides.
pub fn filter(cluster: &Cluster, pod: &Pod, node: &Node) -> Result<(), Rejection> {
    let default_spec = k8s_openapi::api::core::v1::PodSpec::default();
    let spec = pod.spec.as_ref().unwrap_or(&default_spec);
    let default_node_spec = k8s_openapi::api::core::v1::NodeSpec::default();
    let node_spec = node.spec.as_ref().unwrap_or(&default_node_spec);
    let tolerations = spec.tolerations.as_deref().unwrap_or_default();
    let unresolvable = |reason: &str| Err(Rejection { reasons: vec![reason.to_string()], resolvable: false });
    // NodeUnschedulable
    if node_spec.unschedulable == Some(true) {
        let cordon = Taint { key: "node.kubernetes.io/unschedulable".into(), effect: "NoSchedule".into(), ..Default::default() };
        if !tolerations.iter().any(|t| tolerates(t, &cordon)) {
            return unresolvable("node(s) were unschedulable");
        }
    }
    // NodeName
    if spec.node_name.as_deref().is_some_and(|n| Some(n) != node.metadata.name.as_deref()) {
        return unresolvable("node(s) didn't match the requested node name");
    }
    // TaintToleration
    let untolerated = node_spec.taints.iter().flatten().any(|taint| {
        (taint.effect == "NoSchedule" || taint.effect == "NoExecute") && !tolerations.iter().any(|t| tolerates(t, taint))
    });
    if untolerated {
        return unresolvable("node(s) had untolerated taint(s)");
    }
    // NodeAffinity
    if !matches_node_affinity(pod, node) {
        return unresolvable("node(s) didn't match Pod's node affinity/selector");
    }
    // NodeResourcesFit
    let allocatable = allocatable(node);
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    let (used, n_pods) = used_on(cluster, node_name);
    let want = requests(pod, false);
    let mut reasons = Vec::new();
    if n_pods + 1 > allocatable.2 {
        reasons.push("Too many pods".to_string());
    }
    if want.milli_cpu > 0 && used.milli_cpu + want.milli_cpu > allocatable.0.milli_cpu {
        reasons.push("Insufficient cpu".to_string());
    }
    if want.memory > 0 && used.memory + want.memory > allocatable.0.memory {
        reasons.push("Insufficient memory".to_string());
    }
    if !reasons.is_empty() {
        return Err(Rejection { reasons, resolvable: true });
    }
    Ok(())
}

/// A toleration tolerates a taint (`v1.Toleration.ToleratesTaint`).
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect.as_deref().is_some_and(|e| !e.is_empty() && e != taint.effect) {
        return false;
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" => key == taint.key && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        _ => false,
    }
}

fn matches_node_affinity(pod: &Pod, node: &Node) -> bool {
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let spec = pod.spec.clone().unwrap_or_default();
    let selector_ok = spec.node_selector.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref());
    let affinity_ok = required.is_none_or(|sel| {
        sel.node_selector_terms.iter().any(|term| {
            let exprs_ok = term.match_expressions.iter().flatten().all(|e| node_requirement(e, labels));
            let fields_ok = term.match_fields.iter().flatten().all(|e| {
                let mut fields = BTreeMap::new();
                fields.insert("metadata.name".to_string(), node.metadata.name.clone().unwrap_or_default());
                node_requirement(e, &fields)
            });
            (term.match_expressions.is_some() || term.match_fields.is_some()) && exprs_ok && fields_ok
        })
    });
    selector_ok && affinity_ok
}

fn node_requirement(e: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let values = e.values.clone().unwrap_or_default();
    let value = labels.get(&e.key);
    let number = |s: &str| s.parse::<i64>().ok();
    match e.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => matches!((value.and_then(|v| number(v)), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a > b),
        "Lt" => matches!((value.and_then(|v| number(v)), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a < b),
        _ => false,
    }
}

/// (allocatable cpu/memory, —, allocatable pods)
fn allocatable(node: &Node) -> (Resources, (), usize) {
    let alloc = node.status.as_ref().and_then(|s| s.allocatable.clone()).unwrap_or_default();
    let get = |k: &str| alloc.get(k).map(|q| q.0.clone());
    let res = Resources {
        milli_cpu: get("cpu").and_then(|q| quantity::cpu_millis(&q)).unwrap_or(0),
        memory: get("memory").and_then(|q| quantity::bytes(&q)).unwrap_or(0),
    };
    let pods = get("pods").and_then(|q| q.parse().ok()).unwrap_or(110);
    (res, (), pods)
}

/// Effective requests: the sum over app containers, or the largest init container if larger.
/// With `non_zero`, empty requests count as the scheduler's scoring defaults.
pub fn requests(pod: &Pod, non_zero: bool) -> Resources {
    let Some(spec) = pod.spec.as_ref() else { return Resources::default() };
    let one = |c: &k8s_openapi::api::core::v1::Container| {
        let req = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        let cpu = req.and_then(|r| r.get("cpu")).and_then(|q| quantity::cpu_millis(&q.0));
        let mem = req.and_then(|r| r.get("memory")).and_then(|q| quantity::bytes(&q.0));
        Resources {
            milli_cpu: cpu.unwrap_or(if non_zero { DEFAULT_MILLI_CPU } else { 0 }),
            memory: mem.unwrap_or(if non_zero { DEFAULT_MEMORY } else { 0 }),
        }
    };
    let mut total = Resources::default();
    for c in &spec.containers {
        let r = one(c);
        total.milli_cpu += r.milli_cpu;
        total.memory += r.memory;
    }
    for c in spec.init_containers.iter().flatten() {
        let r = one(c);
        total.milli_cpu = total.milli_cpu.max(r.milli_cpu);
        total.memory = total.memory.max(r.memory);
    }
    total
}

/// Requests of the Pods already on a node (not terminal) and how many there are.
pub fn used_on(cluster: &Cluster, node: &str) -> (Resources, usize) {
    used_with(cluster, node, false)
}

fn used_with(cluster: &Cluster, node: &str, non_zero: bool) -> (Resources, usize) {
    let mut total = Resources::default();
    let mut n = 0;
    for pod in cluster.store.pods_on(node).filter_map(Object::as_pod) {
        let phase = pod_util::phase(pod);
        if phase != "Succeeded" && phase != "Failed" {
            let r = requests(pod, non_zero);
            total.milli_cpu += r.milli_cpu;
            total.memory += r.memory;
            n += 1;
        }
    }
    (total, n)
}

/// Σ weight × normalized score over the default profile's scoring plugins we model.
fn score(cluster: &Cluster, pod: &Pod, node: &Node, max_taint_raw: i64) -> i64 {
    let (alloc, _, _) = allocatable(node);
    let name = node.metadata.name.as_deref().unwrap_or("");
    let (used_nz, _) = used_with(cluster, name, true);
    let want_nz = requests(pod, true);
    let least = |req: i64, cap: i64| if cap == 0 || req > cap { 0 } else { (cap - req) * 100 / cap };
    let least_allocated = (least(used_nz.milli_cpu + want_nz.milli_cpu, alloc.milli_cpu)
        + least(used_nz.memory + want_nz.memory, alloc.memory))
        / 2;
    let want = requests(pod, false);
    let balanced = if want == Resources::default() {
        0 // BestEffort pods skip BalancedAllocation.
    } else {
        let (used, _) = used_on(cluster, name);
        let frac = |req: i64, cap: i64| if cap == 0 { 1.0 } else { (req as f64 / cap as f64).min(1.0) };
        let f_cpu = frac(used.milli_cpu + want.milli_cpu, alloc.milli_cpu);
        let f_mem = frac(used.memory + want.memory, alloc.memory);
        ((1.0 - (f_cpu - f_mem).abs() / 2.0) * 100.0) as i64
    };
    let taint_score = if max_taint_raw == 0 {
        100
    } else {
        100 - untolerated_prefer_no_schedule(pod, node) * 100 / max_taint_raw
    };
    3 * taint_score + least_allocated + balanced
}

/// TaintToleration's raw score: `PreferNoSchedule` taints the Pod does not tolerate.
fn untolerated_prefer_no_schedule(pod: &Pod, node: &Node) -> i64 {
    let tolerations = pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default();
    let taints = node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or_default();
    taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule" && !tolerations.iter().any(|tol| tolerates(tol, t)))
        .count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_error_matches_scheduler_wording() {
        let rejected = vec![
            Rejection { reasons: vec!["node(s) had untolerated taint(s)".into()], resolvable: false },
            Rejection { reasons: vec!["Insufficient cpu".into()], resolvable: true },
            Rejection { reasons: vec!["Insufficient cpu".into()], resolvable: true },
        ];
        assert_eq!(
            fit_error(3, &rejected),
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
    }

    #[test]
    fn toleration_matching() {
        let taint = Taint { key: "k".into(), value: Some("v".into()), effect: "NoSchedule".into(), ..Default::default() };
        let t = |key: Option<&str>, op: Option<&str>, value: Option<&str>, effect: Option<&str>| Toleration {
            key: key.map(Into::into),
            operator: op.map(Into::into),
            value: value.map(Into::into),
            effect: effect.map(Into::into),
            ..Default::default()
        };
        assert!(tolerates(&t(Some("k"), None, Some("v"), None), &taint));
        assert!(!tolerates(&t(Some("k"), None, Some("w"), None), &taint));
        assert!(tolerates(&t(Some("k"), Some("Exists"), None, Some("NoSchedule")), &taint));
        assert!(!tolerates(&t(Some("k"), Some("Exists"), None, Some("NoExecute")), &taint));
        assert!(tolerates(&t(None, Some("Exists"), None, None), &taint));
    }
}
