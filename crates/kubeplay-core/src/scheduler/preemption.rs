//! DefaultPreemption, the PostFilter plugin (`pkg/scheduler/framework/preemption`): when no
//! node fits a Pod, find the nodes where removing Pods of lower priority would make room, keep
//! as many of those as still leave room (PodDisruptionBudget-protected ones first, most
//! important first), pick one node by the real plugin's criteria, nominate it and evict the
//! victims gracefully.

use std::cmp::Reverse;

use k8s_openapi::api::core::v1::Pod;

use super::cache::NodeInfo;
use super::inter_pod_affinity::{self, Existing, PodAffinity};
use super::plugins::{filter, PodInfo};
use crate::api::labels::Selector;
use crate::api::{disruption, pod_util, Object, ObjectKey};
use crate::apiserver::ApiServer;

/// What preemption decided for a Pod no node fits.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Evict `victims` so that the Pod fits on `node`.
    Nominate { node: String, victims: Vec<ObjectKey> },
    /// The Pod may not preempt now (the message after `preemption: `).
    NotEligible(&'static str),
    /// No node would have room even without its lower-priority Pods.
    NoCandidates,
}

/// One node's dry run: the Pods that must go, and how many of them a budget protects.
struct Candidate<'a> {
    node: &'a str,
    victims: Vec<&'a Pod>,
    pdb_violations: usize,
}

fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

/// Start time in virtual milliseconds; a Pod that has not started counts as starting now (`GetPodStartTime`).
fn start_time(pod: &Pod, now: i64) -> i64 {
    pod.status.as_ref().and_then(|s| s.start_time.as_ref()).map_or(now, |t| crate::time::from_time(t).ms() as i64)
}

/// Victims of preemption are marked so (`DisruptionTarget`, reason `PreemptionByScheduler`).
pub fn terminating_by_preemption(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
        && pod_util::condition(pod, "DisruptionTarget").is_some_and(|c| c.reason.as_deref() == Some("PreemptionByScheduler"))
}

/// `PodEligibleToPreemptOthers` then `findCandidates` and `SelectCandidate`. `resolvable` are
/// the nodes whose rejection removing Pods could cure (NodeResourcesFit, NodePorts).
/// `nominated(node)` lists the Pods of at least this priority already nominated there: their
/// room is not this Pod's to take.
pub fn preempt<'a>(
    api: &ApiServer,
    pod: &Pod,
    info: &PodInfo,
    resolvable: &[&NodeInfo],
    nominated: impl Fn(&str) -> Vec<&'a Pod>,
) -> Outcome {
    let spec = pod.spec.as_ref();
    if spec.and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Outcome::NotEligible("not eligible due to preemptionPolicy=Never.");
    }
    // A Pod that already preempted waits for its victims to go.
    let own = pod.status.as_ref().and_then(|s| s.nominated_node_name.as_deref()).filter(|n| !n.is_empty());
    if let Some(node) = own {
        if resolvable.iter().any(|n| n.name == node) {
            let waiting =
                api.store().pods_on(node).filter_map(Object::as_pod).any(|p| priority(p) < info.priority && terminating_by_preemption(p));
            if waiting {
                return Outcome::NotEligible("not eligible due to a terminating pod on the nominated node.");
            }
        }
    }
    let now = api.now().ms() as i64;
    let budgets = Budgets::of(api, pod.metadata.namespace.as_deref().unwrap_or(""));
    let candidates: Vec<Candidate<'_>> = resolvable
        .iter()
        .filter_map(|node| select_victims(api, pod, info, node, &nominated(&node.name), &budgets, now))
        .filter(|c| !c.victims.is_empty())
        .collect();
    match pick_one(candidates, now) {
        Some(c) => Outcome::Nominate { node: c.node.to_string(), victims: c.victims.iter().map(|p| key(p)).collect() },
        None => Outcome::NoCandidates,
    }
}

fn key(pod: &Pod) -> ObjectKey {
    ObjectKey::new("Pod", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""))
}

/// `SelectVictimsOnNode`: remove every lower-priority Pod; if the Pod then fits, add them back
/// one by one, most important first and budget-protected ones before the rest, keeping each
/// that still leaves room.
fn select_victims<'a>(
    api: &'a ApiServer,
    incoming: &Pod,
    info: &PodInfo,
    node: &'a NodeInfo,
    nominated: &[&Pod],
    budgets: &Budgets,
    now: i64,
) -> Option<Candidate<'a>> {
    let mut lower: Vec<&Pod> = api
        .store()
        .pods_on(&node.name)
        .filter_map(Object::as_pod)
        .filter(|p| !pod_util::is_terminal(p) && priority(p) < info.priority)
        .collect();
    let mut room = node.clone();
    for p in nominated {
        room.add_pod(p);
    }
    // InterPodAffinity's counts change with the Pods on the node too (`RemovePod`/`AddPod`).
    let mut info = info.clone();
    let ns = inter_pod_affinity::namespace_labels(api);
    let account = |info: &mut PodInfo, p: &Pod, delta: i64| {
        let terms = PodAffinity::of(p);
        let existing = Existing { pod: p, terms: &terms, node_labels: &node.labels };
        let own = info.affinity.clone();
        info.inter_pod.account(incoming, &own, &existing, delta, &ns);
        let mut spread = std::mem::take(&mut info.spread_state);
        spread.account(info, p, node, delta);
        info.spread_state = spread;
    };
    for p in &lower {
        room.remove_pod(p);
        account(&mut info, p, -1);
    }
    if filter(&info, &room).is_err() {
        return None;
    }
    // `MoreImportantPod`: higher priority, then the one that started earlier.
    lower.sort_by_key(|p| (Reverse(priority(p)), start_time(p, now)));
    let (violating, rest) = budgets.split(&lower);
    let mut victims = Vec::new();
    let mut pdb_violations = 0;
    for (p, protected) in violating.into_iter().map(|p| (p, true)).chain(rest.into_iter().map(|p| (p, false))) {
        room.add_pod(p);
        account(&mut info, p, 1);
        if filter(&info, &room).is_err() {
            room.remove_pod(p);
            account(&mut info, p, -1);
            victims.push(p);
            pdb_violations += usize::from(protected);
        }
    }
    victims.sort_by_key(|p| (Reverse(priority(p)), start_time(p, now)));
    Some(Candidate { node: &node.name, victims, pdb_violations })
}

/// `pickOneNodeForPreemption`: fewest budget violations, then the lowest highest victim
/// priority, the smallest sum of victim priorities, the fewest victims, and the latest start
/// among the highest-priority victims; the first in node order of what remains.
fn pick_one(candidates: Vec<Candidate<'_>>, now: i64) -> Option<Candidate<'_>> {
    let offset = i64::from(i32::MAX) + 1;
    candidates.into_iter().min_by_key(|c| {
        let highest = c.victims.first().map_or(i32::MIN, |p| priority(p));
        let sum: i64 = c.victims.iter().map(|p| i64::from(priority(p)) + offset).sum();
        let earliest_of_highest = c.victims.iter().filter(|p| priority(p) == highest).map(|p| start_time(p, now)).min().unwrap_or(now);
        (c.pdb_violations, highest, sum, c.victims.len(), Reverse(earliest_of_highest))
    })
}

/// The namespace's PodDisruptionBudgets with how many more disruptions each allows.
struct Budgets {
    budgets: Vec<(Selector, i64, Vec<String>)>,
}

impl Budgets {
    fn of(api: &ApiServer, namespace: &str) -> Budgets {
        let budgets = api
            .store()
            .list("PodDisruptionBudget", Some(namespace))
            .filter_map(|pdb| {
                let Object::Stored(st) = pdb else { return None };
                // A budget with an empty selector protects nothing here (`filterPodsWithPDBViolation`).
                let sel = st.body.get("spec")?.get("selector")?;
                let empty = sel.get("matchLabels").and_then(|m| m.as_object()).is_none_or(|m| m.is_empty())
                    && sel.get("matchExpressions").and_then(|m| m.as_array()).is_none_or(|m| m.is_empty());
                if empty {
                    return None;
                }
                let status = st.body.get("status");
                let allowed = status.and_then(|s| s.get("disruptionsAllowed")).and_then(serde_json::Value::as_i64).unwrap_or(0);
                let disrupted = status
                    .and_then(|s| s.get("disruptedPods"))
                    .and_then(|d| d.as_object())
                    .map(|d| d.keys().cloned().collect())
                    .unwrap_or_default();
                Some((disruption::selector(pdb)?, allowed, disrupted))
            })
            .collect();
        Budgets { budgets }
    }

    /// Pods (in order) whose eviction would exceed a budget, and the others.
    fn split<'a>(&self, pods: &[&'a Pod]) -> (Vec<&'a Pod>, Vec<&'a Pod>) {
        let mut allowed: Vec<i64> = self.budgets.iter().map(|b| b.1).collect();
        let (mut violating, mut rest) = (Vec::new(), Vec::new());
        for pod in pods {
            let name = pod.metadata.name.as_deref().unwrap_or("");
            let mut violates = false;
            for (i, (sel, _, disrupted)) in self.budgets.iter().enumerate() {
                if !sel.matches(pod.metadata.labels.as_ref()) || disrupted.iter().any(|d| d == name) {
                    continue;
                }
                allowed[i] -= 1;
                violates |= allowed[i] < 0;
            }
            if violates {
                violating.push(*pod);
            } else {
                rest.push(*pod);
            }
        }
        (violating, rest)
    }
}
