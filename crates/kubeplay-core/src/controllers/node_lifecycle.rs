//! The node lifecycle controller (`pkg/controller/nodelifecycle`), with the taint eviction
//! and Pod garbage collection it works with:
//! - a cordoned node (`spec.unschedulable`) carries `node.kubernetes.io/unschedulable:NoSchedule`;
//! - a node whose kubelet stopped posting status is noticed after `node-monitor-grace-period`
//!   (50 s): its conditions turn `Unknown` ("Kubelet stopped posting node status."), it is
//!   tainted `node.kubernetes.io/unreachable` (NoSchedule and NoExecute), and its Pods are
//!   marked not Ready;
//! - the NoExecute taint evicts each Pod when its toleration runs out (300 s by the default
//!   toleration; at once without one), and the Pods stay Terminating while no kubelet is there
//!   to finish them;
//! - a node that comes back is Ready again and untainted; a node that is deleted has its Pods
//!   deleted (the Pod garbage collector);
//! - the NoExecute taint is added per zone at a limited rate, by the zone's state
//!   (`handleDisruption`): a zone is *fully disrupted* when none of its nodes is Ready, in
//!   *partial disruption* when more than 2 and at least 55 % of its nodes are not Ready, else
//!   *normal*. Normal and fully disrupted zones taint one node every 10 s
//!   (`--node-eviction-rate 0.1`); a partially disrupted zone one every 100 s if it has more than
//!   50 nodes (`--secondary-node-eviction-rate 0.01`), none if smaller; when every zone is fully
//!   disrupted the control plane assumes its own network is at fault: no NoExecute taints at
//!   all, and those there are removed. The NoSchedule taint is never held back.

use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, Taint};

use crate::api::node_fault;
use crate::api::pod_util;
use crate::api::{Object, ObjectKey};
use crate::apiserver::NewEvent;
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::{from_time, SimDuration, SimTime};

const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// `--node-monitor-grace-period` (50 s since v1.32).
pub const NODE_MONITOR_GRACE: SimDuration = SimDuration(50_000);
const COMPONENT: &str = "node-controller";
/// `--node-monitor-period`: how often a node waiting for its NoExecute taint is looked at.
const NODE_MONITOR_PERIOD: SimDuration = SimDuration(5_000);
const UNHEALTHY_ZONE_THRESHOLD: f64 = 0.55;
const LARGE_CLUSTER_SIZE_THRESHOLD: usize = 50;
/// One node tainted per this long at `--node-eviction-rate` 0.1 and the secondary rate 0.01.
const EVICTION_INTERVAL: SimDuration = SimDuration(10_000);
const SECONDARY_EVICTION_INTERVAL: SimDuration = SimDuration(100_000);
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

#[derive(Clone, Debug, Default)]
pub struct NodeLifecycle {
    /// Per zone, when its NoExecute tainter may taint the next node (its rate limiter).
    next_taint: std::collections::BTreeMap<String, SimTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ZoneState {
    Normal,
    PartialDisruption,
    FullDisruption,
}

impl Component for NodeLifecycle {
    fn name(&self) -> &'static str {
        "node-lifecycle-controller"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Node")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        self.reconcile_node(ctx, key)
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(self.clone())
    }
}

impl NodeLifecycle {
    fn reconcile_node(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(node) = ctx.api.get(key).and_then(Object::as_node).cloned() else {
            // PodGC: Pods bound to a node that no longer exists are deleted at once.
            let orphans: Vec<ObjectKey> = ctx.api.store().pods_on(&key.name).map(Object::key).collect();
            for pod in orphans {
                ctx.api.delete_with_grace(&pod, Some(0));
            }
            return Action::AwaitChange;
        };
        let mut updated = node.clone();
        cordon_taint(&mut updated, ctx.api.timestamp());
        let now = ctx.api.now();
        let mut next = None;
        match node_fault::down_since(&node) {
            Some(since) if now < since.plus(NODE_MONITOR_GRACE) => next = Some(since.plus(NODE_MONITOR_GRACE).since(now)),
            Some(_) => {
                if !is_unknown(&node) {
                    mark_unknown(&mut updated, ctx.api.timestamp());
                    let object = Object::from(node.clone());
                    ctx.api.record(NewEvent::normal(
                        COMPONENT,
                        &object,
                        "NodeNotReady",
                        format!("Node {} status is now: NodeNotReady", key.name),
                    ));
                    mark_pods_not_ready(ctx, &key.name);
                }
            }
            None => {
                if is_unknown(&node) {
                    mark_ready(&mut updated, ctx.api.timestamp());
                }
            }
        }
        if is_unknown(&updated) {
            if let Some(after) = self.no_execute_taint(ctx, &mut updated) {
                next = Some(next.map_or(after, |n: SimDuration| n.min(after)));
            }
        }
        if updated != node {
            ctx.api.update(Object::from(updated.clone()));
        }
        if let Some(after) = evict_untolerating(ctx, &updated) {
            next = Some(next.map_or(after, |n: SimDuration| n.min(after)));
        }
        match next {
            Some(after) => Action::RequeueAfter(after.max(SimDuration(1))),
            None => Action::AwaitChange,
        }
    }

    /// The unreachable NoExecute taint for a node that is not Ready, as its zone's state and
    /// rate limiter allow; `Some(d)` to look again after `d` while it is held back.
    fn no_execute_taint(&mut self, ctx: &mut Ctx<'_>, node: &mut Node) -> Option<SimDuration> {
        let zone = zone_of(node);
        let name = node.metadata.name.clone().unwrap_or_default();
        let (state, size, all_fully_disrupted) = zone_states(ctx, &name, &zone);
        let has = taints(node).iter().any(|t| t.key == UNREACHABLE && t.effect == "NoExecute");
        if all_fully_disrupted {
            // Every zone is down: more likely the control plane lost the network than every
            // node failed. Nothing is evicted.
            if has {
                let kept: Vec<Taint> = taints(node).into_iter().filter(|t| !(t.key == UNREACHABLE && t.effect == "NoExecute")).collect();
                set_taints(node, kept);
            }
            return Some(NODE_MONITOR_PERIOD);
        }
        if has {
            // Watched on the monitor period: the zones may all go dark later.
            return Some(NODE_MONITOR_PERIOD);
        }
        let interval = match state {
            ZoneState::Normal | ZoneState::FullDisruption => EVICTION_INTERVAL,
            ZoneState::PartialDisruption if size > LARGE_CLUSTER_SIZE_THRESHOLD => SECONDARY_EVICTION_INTERVAL,
            ZoneState::PartialDisruption => return Some(NODE_MONITOR_PERIOD),
        };
        let now = ctx.api.now();
        let slot = self.next_taint.get(&zone).copied().unwrap_or(SimTime::ZERO);
        if now < slot {
            return Some(slot.since(now).min(NODE_MONITOR_PERIOD));
        }
        self.next_taint.insert(zone, now.plus(interval));
        let mut next = taints(node);
        next.push(taint(UNREACHABLE, "NoExecute", &ctx.api.timestamp()));
        set_taints(node, next);
        None
    }
}

fn zone_of(node: &Node) -> String {
    node.metadata.labels.as_ref().and_then(|l| l.get(ZONE_LABEL)).cloned().unwrap_or_default()
}

/// `ComputeZoneState` for `zone` (with its size), and whether every zone is fully disrupted.
/// Only asked while some node is not Ready, so a healthy cluster pays nothing.
fn zone_states(ctx: &Ctx<'_>, this: &str, zone: &str) -> (ZoneState, usize, bool) {
    let mut counts: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for node in ctx.api.store().list("Node", None).filter_map(Object::as_node) {
        let entry = counts.entry(zone_of(node)).or_default();
        // The node being reconciled counts as not Ready (its update is not written yet).
        if is_unknown(node) || node.metadata.name.as_deref() == Some(this) {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }
    let state = |(ready, not_ready): (usize, usize)| {
        if ready == 0 && not_ready > 0 {
            ZoneState::FullDisruption
        } else if not_ready > 2 && not_ready as f64 / (ready + not_ready) as f64 >= UNHEALTHY_ZONE_THRESHOLD {
            ZoneState::PartialDisruption
        } else {
            ZoneState::Normal
        }
    };
    let all = !counts.is_empty() && counts.values().all(|c| state(*c) == ZoneState::FullDisruption);
    let here = counts.get(zone).copied().unwrap_or((0, 1));
    (state(here), here.0 + here.1, all)
}

fn taints(node: &Node) -> Vec<Taint> {
    node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default()
}

fn set_taints(node: &mut Node, taints: Vec<Taint>) {
    node.spec.get_or_insert_with(Default::default).taints = (!taints.is_empty()).then_some(taints);
}

fn taint(key: &str, effect: &str, now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> Taint {
    Taint { key: key.into(), effect: effect.into(), time_added: Some(now.clone()), value: None }
}

/// A cordoned node carries the unschedulable taint; an uncordoned one does not.
fn cordon_taint(node: &mut Node, now: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) {
    let cordoned = node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
    let current = taints(node);
    let tainted = current.iter().any(|t| t.key == UNSCHEDULABLE && t.effect == "NoSchedule");
    if cordoned == tainted {
        return;
    }
    let mut next: Vec<Taint> = current.into_iter().filter(|t| t.key != UNSCHEDULABLE).collect();
    if cordoned {
        next.push(taint(UNSCHEDULABLE, "NoSchedule", &now));
    }
    set_taints(node, next);
}

fn is_unknown(node: &Node) -> bool {
    node.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "Unknown"))
}

fn conditions_mut(node: &mut Node) -> &mut Vec<NodeCondition> {
    node.status.get_or_insert_with(Default::default).conditions.get_or_insert_with(Vec::new)
}

/// `tryUpdateNodeHealth`: every condition the kubelet reports becomes Unknown.
fn mark_unknown(node: &mut Node, now: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) {
    for c in conditions_mut(node).iter_mut() {
        c.status = "Unknown".into();
        c.reason = Some("NodeStatusUnknown".into());
        c.message = Some("Kubelet stopped posting node status.".into());
        c.last_transition_time = Some(now.clone());
    }
    // The NoExecute taint follows, as the zone's rate limiter allows (`no_execute_taint`).
    let mut next: Vec<Taint> = taints(node).into_iter().filter(|t| t.key != UNREACHABLE).collect();
    next.push(taint(UNREACHABLE, "NoSchedule", &now));
    set_taints(node, next);
}

/// The kubelet is back: it posts its conditions again, and the taints go.
fn mark_ready(node: &mut Node, now: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) {
    for c in conditions_mut(node).iter_mut() {
        let (status, reason, message) = match c.type_.as_str() {
            "Ready" => ("True", "KubeletReady", "kubelet is posting ready status"),
            "MemoryPressure" => ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            "DiskPressure" => ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            "PIDPressure" => ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            _ => continue,
        };
        c.status = status.into();
        c.reason = Some(reason.into());
        c.message = Some(message.into());
        c.last_transition_time = Some(now.clone());
        c.last_heartbeat_time = Some(now.clone());
    }
    let next: Vec<Taint> = taints(node).into_iter().filter(|t| t.key != UNREACHABLE).collect();
    set_taints(node, next);
}

/// `MarkPodsNotReady`: the Pods of an unreachable node are no longer Ready (their Services
/// stop sending them traffic); each gets a `NodeNotReady` event.
fn mark_pods_not_ready(ctx: &mut Ctx<'_>, node: &str) {
    let pods: Vec<Pod> = ctx.api.store().pods_on(node).filter_map(Object::as_pod).cloned().collect();
    for mut pod in pods {
        let ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !ready {
            continue;
        }
        let condition = pod_util::new_condition("Ready", false, None, None, ctx.api.timestamp());
        pod_util::set_condition(&mut pod, condition);
        let written = ctx.api.update(Object::from(pod));
        ctx.api.record(NewEvent::warning(COMPONENT, &written, "NodeNotReady", "Node is not ready".into()));
    }
}

/// The taint eviction controller: each Pod on the node that does not tolerate a NoExecute
/// taint is deleted when its `tolerationSeconds` run out. Returns when to look again.
fn evict_untolerating(ctx: &mut Ctx<'_>, node: &Node) -> Option<SimDuration> {
    let no_execute: Vec<Taint> = taints(node).into_iter().filter(|t| t.effect == "NoExecute").collect();
    if no_execute.is_empty() {
        return None;
    }
    let now = ctx.api.now();
    let name = node.metadata.name.clone().unwrap_or_default();
    let pods: Vec<Pod> = ctx.api.store().pods_on(&name).filter_map(Object::as_pod).cloned().collect();
    let mut next: Option<SimDuration> = None;
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() || pod_util::is_terminal(&pod) {
            continue;
        }
        // The soonest any of the taints must evict it (never, if all are tolerated forever).
        let mut due: Option<SimTime> = None;
        for t in &no_execute {
            let added = t.time_added.as_ref().map(from_time).unwrap_or(now);
            let toleration = pod.spec.as_ref().and_then(|s| s.tolerations.as_ref()).and_then(|ts| {
                ts.iter().find(|tol| {
                    let key_ok = tol.key.as_deref().is_none_or(|k| k.is_empty() || k == t.key);
                    let op_ok = match tol.operator.as_deref() {
                        Some("Exists") => true,
                        _ => tol.value.as_deref().unwrap_or("") == t.value.as_deref().unwrap_or(""),
                    };
                    let effect_ok = tol.effect.as_deref().is_none_or(|e| e.is_empty() || e == t.effect);
                    key_ok && op_ok && effect_ok && (tol.key.is_some() || tol.operator.as_deref() == Some("Exists"))
                })
            });
            let at = match toleration {
                None => Some(added),
                Some(tol) => tol.toleration_seconds.map(|s| added.plus(SimDuration::from_secs(s.max(0) as u64))),
            };
            if let Some(at) = at {
                due = Some(due.map_or(at, |d: SimTime| d.min(at)));
            }
        }
        let Some(due) = due else { continue };
        if now >= due {
            let key = ObjectKey::new("Pod", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""));
            let object = Object::from(pod.clone());
            let message = format!("Marking for deletion Pod {}/{}", key.namespace, key.name);
            ctx.api.record(NewEvent::normal("taint-eviction-controller", &object, "TaintManagerEviction", message));
            ctx.api.delete(&key);
        } else {
            let wait = due.since(now);
            next = Some(next.map_or(wait, |n| n.min(wait)));
        }
    }
    next
}
