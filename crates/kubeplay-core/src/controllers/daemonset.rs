//! The DaemonSet controller (`pkg/controller/daemon`): one Pod on every node that can run it —
//! its nodeSelector and required node affinity match, and its node's taints are tolerated,
//! counting the tolerations every DaemonSet Pod gets (`not-ready` and `unreachable` NoExecute
//! without a time limit, the pressure and `unschedulable` NoSchedule ones, so cordoned nodes
//! keep theirs). Each Pod is pinned to its node with node affinity on `metadata.name` and bound
//! by the scheduler. Pods on nodes that no longer qualify, or doubles, are deleted; a node that
//! joins gets a Pod.
//!
//! Updates: `RollingUpdate` (maxUnavailable 1 and maxSurge 0 by default, percentages of the
//! desired number rounded **up**): with no surge, old Pods are deleted on as many nodes as the
//! unavailability budget allows (nodes already without an available Pod count against it) and
//! the new Pod is made once the old one is gone; with surge, the new Pod starts beside the old,
//! which goes once the new one is available. `OnDelete`: old Pods stay until deleted. Pods carry
//! `controller-revision-hash` and `pod-template-generation`; the revisions are ControllerRevisions.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::{controller_ref, pod_util, Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, NewEvent};
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::SimDuration;

const COMPONENT: &str = "daemonset-controller";
const HASH_LABEL: &str = "controller-revision-hash";
const GENERATION_LABEL: &str = "pod-template-generation";

#[derive(Clone, Copy, Debug, Default)]
pub struct DaemonSetController;

/// Every DaemonSet, when a node comes, goes or changes.
fn all_daemon_sets(api: &ApiServer, _change: &Change, out: &mut Vec<ObjectKey>) {
    out.extend(api.store().list("DaemonSet", None).map(Object::key));
}

/// The tolerations every DaemonSet Pod gets (`AddOrUpdateDaemonPodTolerations`).
fn daemon_tolerations(host_network: bool) -> Vec<Toleration> {
    let toleration = |key: &str, effect: &str| Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    };
    let mut all = vec![
        toleration("node.kubernetes.io/not-ready", "NoExecute"),
        toleration("node.kubernetes.io/unreachable", "NoExecute"),
        toleration("node.kubernetes.io/disk-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/memory-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/pid-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        all.push(toleration("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    all
}

fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect.as_deref().is_some_and(|e| !e.is_empty() && e != taint.effect) {
        return false;
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        _ => key == taint.key && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
    }
}

fn requirement(e: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let values = e.values.as_deref().unwrap_or_default();
    let value = labels.get(&e.key);
    match e.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

/// Whether the DaemonSet should run a Pod on `node` (`NodeShouldRunDaemonPod`): its taints
/// with effect NoSchedule or NoExecute tolerated.
fn should_run(ds: &DaemonSet, node: &Node) -> bool {
    fits(ds, node, &["NoSchedule", "NoExecute"])
}

/// Whether a Pod already there may stay: only a NoExecute taint it does not tolerate evicts it
/// (an unreachable node's NoSchedule taint does not).
fn should_continue_running(ds: &DaemonSet, node: &Node) -> bool {
    fits(ds, node, &["NoExecute"])
}

fn fits(ds: &DaemonSet, node: &Node, effects: &[&str]) -> bool {
    let spec = ds.spec.template.spec.clone().unwrap_or_default();
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.clone().unwrap_or_default();
    if spec.node_name.as_deref().is_some_and(|n| n != name) {
        return false;
    }
    if !spec.node_selector.iter().flatten().all(|(k, v)| labels.get(k) == Some(v)) {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref());
    if let Some(sel) = required {
        let fields = BTreeMap::from([("metadata.name".to_string(), name.clone())]);
        let fits = sel.node_selector_terms.iter().any(|t| {
            t.match_expressions.iter().flatten().all(|e| requirement(e, &labels))
                && t.match_fields.iter().flatten().all(|e| requirement(e, &fields))
        });
        if !fits {
            return false;
        }
    }
    let mut tolerations = spec.tolerations.clone().unwrap_or_default();
    tolerations.extend(daemon_tolerations(spec.host_network == Some(true)));
    let taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    taints.iter().filter(|t| effects.contains(&t.effect.as_str())).all(|taint| tolerations.iter().any(|t| tolerates(t, taint)))
}

/// `GetIntOrPercentValueSafely` rounded up, as the DaemonSet controller rounds both budgets.
fn budget(value: Option<&IntOrString>, desired: i32) -> i32 {
    match value {
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => {
            let percent: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            ((percent * i64::from(desired) + 99) / 100) as i32
        }
        None => 0,
    }
}

fn pod_for_node(ds: &DaemonSet, owner: &Object, node: &str, hash: &str) -> Object {
    let name = ds.metadata.name.clone().unwrap_or_default();
    let template = ds.spec.template.clone();
    let meta = template.metadata.unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    labels.insert(HASH_LABEL.into(), hash.into());
    labels.insert(GENERATION_LABEL.into(), ds.metadata.generation.unwrap_or(1).to_string());
    let mut spec = template.spec.unwrap_or_default();
    // Pinned to its node through node affinity (replacing any required node affinity terms).
    let pin = NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: Some(vec![node.into()]),
            }]),
        }],
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    affinity.node_affinity.get_or_insert_with(NodeAffinity::default).required_during_scheduling_ignored_during_execution = Some(pin);
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for t in daemon_tolerations(spec.host_network == Some(true)) {
        if !tolerations.iter().any(|x| x.key == t.key && x.effect == t.effect) {
            tolerations.push(t);
        }
    }
    Object::from(Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: ds.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: meta.annotations,
            owner_references: Some(vec![controller_ref(owner)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    })
}

/// The node a daemon Pod is for (bound, or pinned by affinity).
fn node_of(pod: &Pod) -> Option<String> {
    if let Some(n) = pod_util::node_name(pod) {
        return Some(n.to_string());
    }
    let spec = pod.spec.as_ref()?;
    let terms =
        &spec.affinity.as_ref()?.node_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref()?.node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == "metadata.name")
        .and_then(|f| f.values.as_ref()?.first().cloned())
}

impl Component for DaemonSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("DaemonSet").owns("Pod").watches("Node", all_daemon_sets)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(object) = ctx.api.get_rc(key) else { return Action::AwaitChange };
        let Some(ds) = object.as_daemon_set().cloned() else { return Action::AwaitChange };
        if ds.metadata.deletion_timestamp.is_some() {
            return Action::AwaitChange;
        }
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let hash = super::pod_template_hash(&ds.spec.template, ds.status.as_ref().and_then(|s| s.collision_count).filter(|c| *c > 0));
        super::revisions::ensure(ctx.api, &object, &ds.spec.template, &hash);
        let now = ctx.api.now();
        let min_ready = ds.spec.min_ready_seconds.unwrap_or(0);
        let nodes: Vec<Node> = ctx.api.store().list("Node", None).filter_map(Object::as_node).cloned().collect();
        let pods: Vec<Pod> = ctx
            .api
            .store()
            .dependents(&uid)
            .filter_map(Object::as_pod)
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .cloned()
            .collect();
        let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
        for pod in &pods {
            by_node.entry(node_of(pod).unwrap_or_default()).or_default().push(pod);
        }
        let is_new = |p: &Pod| p.metadata.labels.as_ref().and_then(|l| l.get(HASH_LABEL)) == Some(&hash);
        let available = |p: &Pod| pod_util::is_available(p, min_ready, now);
        let strategy = ds.spec.update_strategy.clone().unwrap_or_default();
        let rolling = strategy.type_.as_deref() != Some("OnDelete");
        let eligible: Vec<&Node> = nodes.iter().filter(|n| should_run(&ds, n)).collect();
        let desired = eligible.len() as i32;
        let ru = strategy.rolling_update.clone().unwrap_or_default();
        let max_surge = if rolling { budget(ru.max_surge.as_ref(), desired) } else { 0 };
        let max_unavailable = if rolling { budget(ru.max_unavailable.as_ref(), desired).max(i32::from(max_surge == 0)) } else { 0 };

        let mut create: Vec<String> = Vec::new();
        let mut delete: Vec<&Pod> = Vec::new();
        // Nodes that should not run one lose theirs; failed Pods are replaced.
        let staying: Vec<&Node> = nodes.iter().filter(|n| should_continue_running(&ds, n)).collect();
        for (node, list) in &by_node {
            let named = |n: &&Node| n.metadata.name.as_deref() == Some(node.as_str());
            let wanted = eligible.iter().any(named) || staying.iter().any(named);
            for pod in list {
                if !wanted || pod_util::phase(pod) == "Failed" {
                    delete.push(pod);
                }
            }
        }
        // Each eligible node: a Pod, and one only (the oldest stays).
        let mut unavailable_nodes = 0;
        let mut old_candidates: Vec<(&Pod, bool)> = Vec::new();
        let mut surge_candidates: Vec<(&str, &Pod)> = Vec::new();
        for node in &eligible {
            let name = node.metadata.name.as_deref().unwrap_or("");
            let mut list: Vec<&Pod> =
                by_node.get(name).cloned().unwrap_or_default().into_iter().filter(|p| pod_util::phase(p) != "Failed").collect();
            list.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(crate::time::from_time));
            if list.is_empty() {
                create.push(name.to_string());
                unavailable_nodes += 1;
                continue;
            }
            let new: Vec<&&Pod> = list.iter().filter(|p| is_new(p)).collect();
            let old: Vec<&&Pod> = list.iter().filter(|p| !is_new(p)).collect();
            if !list.iter().any(|p| available(p)) {
                unavailable_nodes += 1;
            }
            match (new.first(), old.first()) {
                (Some(newest), Some(_)) if rolling => {
                    // Surging: the old one goes once the new one is available.
                    if available(newest) {
                        delete.extend(old.iter().map(|p| **p));
                    }
                    delete.extend(new.iter().skip(1).map(|p| **p));
                }
                (Some(_), _) => delete.extend(new.iter().skip(1).map(|p| **p)),
                (None, Some(first)) => {
                    delete.extend(old.iter().skip(1).map(|p| **p));
                    if rolling {
                        if max_surge > 0 {
                            surge_candidates.push((name, first));
                        } else {
                            old_candidates.push((first, available(first)));
                        }
                    }
                }
                (None, None) => {}
            }
        }
        if rolling && max_surge == 0 {
            // Old Pods that are not available go first and cost nothing more; then as many
            // available ones as the unavailability budget allows.
            let mut budget_left = max_unavailable - unavailable_nodes;
            for (pod, is_available) in &old_candidates {
                if !is_available {
                    delete.push(pod);
                }
            }
            for (pod, is_available) in &old_candidates {
                if *is_available && budget_left > 0 {
                    delete.push(pod);
                    budget_left -= 1;
                }
            }
        } else if rolling {
            let surging = eligible
                .iter()
                .filter(|n| {
                    let list = by_node.get(n.metadata.name.as_deref().unwrap_or("")).cloned().unwrap_or_default();
                    list.iter().any(|p| is_new(p)) && list.iter().any(|p| !is_new(p))
                })
                .count() as i32;
            let room = (max_surge - surging).max(0) as usize;
            create.extend(surge_candidates.iter().take(room).map(|(n, _)| n.to_string()));
        }
        for pod in delete {
            let key = ObjectKey::new("Pod", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""));
            if ctx.api.delete(&key) {
                ctx.api.record(NewEvent::normal(COMPONENT, &object, "SuccessfulDelete", format!("Deleted pod: {}", key.name)));
            }
        }
        for node in &create {
            match ctx.api.create(pod_for_node(&ds, &object, node, &hash)) {
                Ok(pod) => ctx.api.record(NewEvent::normal(COMPONENT, &object, "SuccessfulCreate", format!("Created pod: {}", pod.name()))),
                Err(e) => ctx.api.record(NewEvent::warning(COMPONENT, &object, "FailedCreate", format!("Error creating: {e}"))),
            }
        }
        self.update_status(ctx, &ds, &eligible, &by_node, &hash, min_ready);
        // Availability after minReadySeconds is a moment, not an event: look again then.
        if min_ready > 0 && pods.iter().any(|p| pod_util::is_ready(p) && !available(p)) {
            return Action::RequeueAfter(SimDuration::from_secs(1));
        }
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

impl DaemonSetController {
    fn update_status(
        &self,
        ctx: &mut Ctx<'_>,
        ds: &DaemonSet,
        eligible: &[&Node],
        by_node: &BTreeMap<String, Vec<&Pod>>,
        hash: &str,
        min_ready: i32,
    ) {
        let now = ctx.api.now();
        let mut status = DaemonSetStatus {
            desired_number_scheduled: eligible.len() as i32,
            observed_generation: ds.metadata.generation,
            collision_count: ds.status.as_ref().and_then(|s| s.collision_count),
            ..Default::default()
        };
        let (mut updated, mut available) = (0, 0);
        for (node, list) in by_node {
            let wanted = eligible.iter().any(|n| n.metadata.name.as_deref() == Some(node.as_str()));
            let scheduled = list.iter().any(|p| pod_util::node_name(p).is_some());
            if !wanted {
                status.number_misscheduled += i32::from(scheduled);
                continue;
            }
            if !scheduled {
                continue;
            }
            status.current_number_scheduled += 1;
            // The newest Pod on the node speaks for it.
            let Some(pod) = list.iter().max_by_key(|p| p.metadata.creation_timestamp.as_ref().map(crate::time::from_time)) else {
                continue;
            };
            status.number_ready += i32::from(pod_util::is_ready(pod));
            if pod_util::is_available(pod, min_ready, now) {
                available += 1;
            }
            if pod.metadata.labels.as_ref().and_then(|l| l.get(HASH_LABEL)).map(String::as_str) == Some(hash) {
                updated += 1;
            }
        }
        status.updated_number_scheduled = Some(updated);
        status.number_available = (available > 0).then_some(available);
        let unavailable = status.desired_number_scheduled - available;
        status.number_unavailable = (unavailable > 0).then_some(unavailable);
        if ds.status.as_ref() == Some(&status) {
            return;
        }
        let mut ds = ds.clone();
        ds.status = Some(status);
        ctx.api.update(Object::from(ds));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_round_up() {
        assert_eq!(budget(Some(&IntOrString::String("25%".into())), 3), 1);
        assert_eq!(budget(Some(&IntOrString::String("10%".into())), 11), 2);
        assert_eq!(budget(Some(&IntOrString::Int(2)), 5), 2);
        assert_eq!(budget(None, 5), 0);
    }
}
