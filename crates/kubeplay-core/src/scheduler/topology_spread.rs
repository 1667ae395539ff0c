//! PodTopologySpread (`pkg/scheduler/framework/plugins/podtopologyspread`): a Pod's
//! `topologySpreadConstraints`. PreFilter counts the Pods each constraint's selector matches
//! per topology domain, over the nodes its inclusion policies admit and that carry every
//! constraint's key; Filter refuses a node where the Pod would raise its domain more than
//! `maxSkew` above the least-loaded one (`DoNotSchedule`); Score favours the emptier domains
//! for `ScheduleAnyway` constraints.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, TopologySpreadConstraint};

use super::cache::{label_hash, Cache, NodeInfo};
use super::plugins::{matches_node_affinity, tolerates, PodInfo};
use crate::api::labels::{Requirement, Selector};
use crate::api::Object;
use crate::apiserver::{ApiServer, PodView};

pub const CONSTRAINTS_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
pub const NODE_LABEL_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints (missing required label)";

/// One constraint, its selector parsed (with `matchLabelKeys` folded in).
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub max_skew: i64,
    pub topology_key: String,
    /// [`label_hash`] of the key: domains are compared by their values' hashes.
    key_hash: u64,
    /// `DoNotSchedule` (a filter) rather than `ScheduleAnyway` (a score).
    pub hard: bool,
    selector: Selector,
    min_domains: Option<i64>,
    honor_node_affinity: bool,
    honor_taints: bool,
}

/// The Pod's constraints, split as the plugin uses them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Constraints {
    pub hard: Vec<Constraint>,
    pub soft: Vec<Constraint>,
}

impl Constraints {
    pub fn of(pod: &Pod) -> Constraints {
        let mut out = Constraints::default();
        for c in pod.spec.as_ref().and_then(|s| s.topology_spread_constraints.as_ref()).into_iter().flatten() {
            let constraint = Constraint::new(c, pod);
            if constraint.hard {
                out.hard.push(constraint);
            } else {
                out.soft.push(constraint);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.hard.is_empty() && self.soft.is_empty()
    }
}

impl Constraints {
    /// The cluster's default constraints for a Pod that has none of its own (`defaultingType:
    /// System`): hostname with maxSkew 3 and zone with maxSkew 5, both ScheduleAnyway, over the
    /// Pods that share its Services' and its ReplicaSet's or StatefulSet's selectors.
    pub fn system_defaults(api: &ApiServer, pod: &Pod) -> Constraints {
        let Some(selector) = default_selector(api, pod) else { return Constraints::default() };
        let soft = |key: &str, max_skew: i64| Constraint {
            max_skew,
            topology_key: key.to_string(),
            key_hash: label_hash(key),
            hard: false,
            selector: selector.clone(),
            min_domains: None,
            honor_node_affinity: true,
            honor_taints: false,
        };
        Constraints { hard: Vec::new(), soft: vec![soft("kubernetes.io/hostname", 3), soft("topology.kubernetes.io/zone", 5)] }
    }
}

/// `helper.DefaultSelector`: the union of the selectors of the Services that select the Pod
/// and of its controlling ReplicaSet or StatefulSet; `None` when there is none.
fn default_selector(api: &ApiServer, pod: &Pod) -> Option<Selector> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let labels = pod.metadata.labels.as_ref();
    let mut requirements: Vec<Requirement> = Vec::new();
    for svc in api.store().list("Service", Some(ns)).filter_map(Object::as_service) {
        let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref()).filter(|s| !s.is_empty()) else { continue };
        if sel.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)) {
            requirements.extend(sel.iter().map(|(k, v)| Requirement::Equals(k.clone(), v.clone())));
        }
    }
    let owner = pod.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)).cloned();
    if let Some(owner) = owner.filter(|o| o.kind == "ReplicaSet" || o.kind == "StatefulSet") {
        let kind = if owner.kind == "ReplicaSet" { "ReplicaSet" } else { "StatefulSet" };
        let selector = api.get(&crate::api::ObjectKey::new(kind, ns, &owner.name)).and_then(|o| match o {
            Object::ReplicaSet(rs) => Some(rs.spec.selector.clone()),
            Object::StatefulSet(sts) => Some(sts.spec.selector.clone()),
            _ => None,
        });
        if let Some(sel) = selector.and_then(|s| Selector::from_label_selector(&s).ok()) {
            requirements.extend(sel.0);
        }
    }
    if requirements.is_empty() {
        return None;
    }
    requirements.sort_by_key(|r| format!("{r:?}"));
    requirements.dedup();
    Some(Selector(requirements))
}

impl Constraint {
    fn new(c: &TopologySpreadConstraint, pod: &Pod) -> Constraint {
        // A constraint without a labelSelector matches no Pod.
        let mut selector = c
            .label_selector
            .as_ref()
            .and_then(|s| Selector::from_label_selector(s).ok())
            .unwrap_or(Selector(vec![Requirement::In(String::new(), Vec::new())]));
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        for key in c.match_label_keys.iter().flatten() {
            if let Some(value) = labels.get(key) {
                selector.0.push(Requirement::In(key.clone(), vec![value.clone()]));
            }
        }
        Constraint {
            max_skew: i64::from(c.max_skew),
            topology_key: c.topology_key.clone(),
            key_hash: label_hash(&c.topology_key),
            hard: c.when_unsatisfiable != "ScheduleAnyway",
            selector,
            min_domains: c.min_domains.map(i64::from),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        }
    }

    /// The node counts for this constraint: its inclusion policies admit it.
    fn admits(&self, pod: &PodInfo, node: &NodeInfo) -> bool {
        let affinity_ok = !self.honor_node_affinity || matches_node_affinity(pod, node);
        let taints_ok = !self.honor_taints
            || node
                .taints
                .iter()
                .all(|t| !(t.effect == "NoSchedule" || t.effect == "NoExecute") || pod.tolerations.iter().any(|tol| tolerates(tol, t)));
        affinity_ok && taints_ok
    }

    /// The namespace's Pods that may match: through the label index when the selector has an
    /// equality (or one-value `In`) requirement, else all of them.
    fn candidates<'a>(&self, api: &'a ApiServer, namespace: &str) -> Vec<PodView<'a>> {
        let equal: BTreeMap<String, String> = self
            .selector
            .0
            .iter()
            .filter_map(|r| match r {
                Requirement::Equals(k, v) => Some((k.clone(), v.clone())),
                Requirement::In(k, vs) if vs.len() == 1 => Some((k.clone(), vs[0].clone())),
                _ => None,
            })
            .collect();
        if equal.is_empty() {
            api.store().pods(Some(namespace)).collect()
        } else {
            api.store().pod_views_matching(namespace, &equal)
        }
    }

    fn counts(&self, p: PodView<'_>, namespace: &str) -> bool {
        p.deletion_timestamp().is_none() && p.namespace() == Some(namespace) && self.selector.matches(p.labels())
    }
}

/// The node carries every constraint's topology key (`nodeLabelsMatchSpreadConstraints`).
fn has_all_keys(constraints: &[Constraint], node: &NodeInfo) -> bool {
    constraints.iter().all(|c| node.label_value_hash(c.key_hash).is_some())
}

/// PreFilter's counts for the hard constraints and PreScore's for the soft ones: per
/// constraint, matching Pods per topology value (hostname constraints per node), the values
/// named by their [`label_hash`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    namespace: String,
    hard: Vec<BTreeMap<u64, i64>>,
    soft: Vec<BTreeMap<u64, i64>>,
}

impl State {
    /// Counts the assigned Pods: for hard constraints over every node they admit (each such
    /// node's domain counts, empty or not); for soft ones only the Pods their selector matches
    /// (found through the label index), as only the feasible nodes' domains are scored.
    pub fn new(api: &ApiServer, cache: &Cache, pod: &Pod, info: &PodInfo) -> State {
        let c = &info.spread;
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let mut state = State { namespace, hard: vec![BTreeMap::new(); c.hard.len()], soft: vec![BTreeMap::new(); c.soft.len()] };
        if c.is_empty() {
            return state;
        }
        if !c.hard.is_empty() {
            for node in (0..cache.len()).filter_map(|i| cache.node_at(i)) {
                if !has_all_keys(&c.hard, node) {
                    continue;
                }
                for (constraint, counts) in c.hard.iter().zip(state.hard.iter_mut()) {
                    if !constraint.admits(info, node) {
                        continue;
                    }
                    let n = api
                        .store()
                        .pod_views_on(&node.name)
                        .filter(|p| !p.is_terminal() && p.name() != pod.metadata.name.as_deref())
                        .filter(|p| constraint.counts(*p, &state.namespace))
                        .count();
                    let value = node.label_value_hash(constraint.key_hash).unwrap_or_default();
                    *counts.entry(value).or_default() += n as i64;
                }
            }
        }
        // The system defaults' two constraints share one selector: find the Pods it counts,
        // and their nodes, once (whether a Pod counts depends on the selector alone).
        let mut found: Option<(&Selector, Vec<&NodeInfo>)> = None;
        for (constraint, counts) in c.soft.iter().zip(state.soft.iter_mut()) {
            if found.as_ref().is_none_or(|(s, _)| *s != &constraint.selector) {
                let nodes = constraint
                    .candidates(api, &state.namespace)
                    .into_iter()
                    .filter(|p| !p.is_terminal() && p.name() != pod.metadata.name.as_deref() && constraint.counts(*p, &state.namespace))
                    .filter_map(|p| p.node_name().and_then(|n| cache.node(n)))
                    .collect();
                found = Some((&constraint.selector, nodes));
            }
            for &node in found.as_ref().map(|(_, n)| n.as_slice()).unwrap_or_default() {
                if has_all_keys(&c.soft, node) && constraint.admits(info, node) {
                    let value = node.label_value_hash(constraint.key_hash).unwrap_or_default();
                    *counts.entry(value).or_default() += 1;
                }
            }
        }
        state
    }

    /// Adds (1) or removes (-1) an assigned Pod on `node` (preemption's dry runs).
    pub fn account(&mut self, info: &PodInfo, p: &Pod, node: &NodeInfo, delta: i64) {
        for (list, counts) in [(&info.spread.hard, &mut self.hard), (&info.spread.soft, &mut self.soft)] {
            if !has_all_keys(list, node) {
                continue;
            }
            for (constraint, counts) in list.iter().zip(counts.iter_mut()) {
                if constraint.admits(info, node) && constraint.counts(PodView::Whole(p), &self.namespace) {
                    let value = node.label_value_hash(constraint.key_hash).unwrap_or_default();
                    *counts.entry(value).or_default() += delta;
                }
            }
        }
    }

    /// Filter: `matchNum + selfMatch − globalMin ≤ maxSkew` for every hard constraint.
    pub fn filter(&self, info: &PodInfo, labels: Option<&BTreeMap<String, String>>, node: &NodeInfo) -> Result<(), (&'static str, bool)> {
        for (constraint, counts) in info.spread.hard.iter().zip(&self.hard) {
            let Some(value) = node.label_value_hash(constraint.key_hash) else {
                return Err((NODE_LABEL_NOT_MATCH, false));
            };
            // Fewer domains than minDomains: the global minimum is taken as 0.
            let too_few = constraint.min_domains.is_some_and(|m| (counts.len() as i64) < m);
            let min = if too_few { 0 } else { counts.values().copied().min().unwrap_or(0) };
            let own = i64::from(constraint.selector.matches(labels));
            let here = counts.get(&value).copied().unwrap_or(0);
            if here + own - min > constraint.max_skew {
                return Err((CONSTRAINTS_NOT_MATCH, true));
            }
        }
        Ok(())
    }

    /// Score for the feasible nodes, normalised (0–100, emptier domains higher); all zero
    /// without soft constraints.
    pub fn scores(&self, info: &PodInfo, feasible: &[&NodeInfo]) -> Vec<i64> {
        let soft = &info.spread.soft;
        if soft.is_empty() {
            return vec![0; feasible.len()];
        }
        // Each node's value for each constraint's key, looked up once, in one flat list
        // (`soft.len()` values a node); a node that lacks one of the keys is not scored (its
        // values are zeros). One allocation a cycle rather than one a node: this runs for every
        // feasible node of every Pod.
        let width = soft.len();
        let mut values: Vec<u64> = Vec::with_capacity(feasible.len() * width);
        let mut scored: Vec<bool> = Vec::with_capacity(feasible.len());
        for node in feasible {
            let start = values.len();
            values.extend(soft.iter().map_while(|c| node.label_value_hash(c.key_hash)));
            let complete = values.len() - start == width;
            if !complete {
                values.truncate(start);
                values.extend(std::iter::repeat_n(0, width));
            }
            scored.push(complete);
        }
        let rows = || values.chunks_exact(width).zip(&scored).filter(|(_, s)| **s).map(|(v, _)| v);
        // Domains among the feasible nodes, per constraint, and the weight log(domains + 2).
        let weights: Vec<f64> = (0..width)
            .map(|i| {
                let mut domains: Vec<u64> = rows().map(|v| v[i]).collect();
                domains.sort_unstable();
                domains.dedup();
                ((domains.len() + 2) as f64).ln()
            })
            .collect();
        let raw: Vec<Option<i64>> = values
            .chunks_exact(width)
            .zip(&scored)
            .map(|(node, scored)| {
                scored.then(|| {
                    let mut score = 0.0;
                    for (((c, counts), weight), value) in soft.iter().zip(&self.soft).zip(&weights).zip(node) {
                        let count = counts.get(value).copied().unwrap_or(0);
                        score += count as f64 * weight + (c.max_skew - 1) as f64;
                    }
                    score.round() as i64
                })
            })
            .collect();
        let present = raw.iter().flatten();
        let (min, max) = (present.clone().copied().min().unwrap_or(0), present.copied().max().unwrap_or(0));
        raw.iter()
            .map(|s| match s {
                None => 0,
                Some(_) if max == 0 => 100,
                Some(s) => 100 * (max + min - s) / max,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(yaml: &str) -> PodInfo {
        let parsed = crate::manifest::parse("t.yaml", yaml);
        let pod = parsed.objects.into_iter().next().and_then(|o| o.object.as_pod().cloned()).expect("a Pod");
        PodInfo::new(&pod)
    }

    fn node(name: &str, zone: &str) -> NodeInfo {
        let mut node = NodeInfo { name: name.into(), ..NodeInfo::default() };
        node.set_label("zone", zone);
        node
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default, labels: {app: a}}\nspec:\n  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: a}}MIN}\n  containers: [{name: c, image: nginx}]\n";

    #[test]
    fn skew_is_counted_against_the_least_loaded_domain() {
        let mut p = info(&POD.replace("MIN", ""));
        p.spread_state = State {
            namespace: "default".into(),
            hard: vec![BTreeMap::from([(label_hash("a"), 2), (label_hash("b"), 1)])],
            soft: Vec::new(),
        };
        // Into a: 2 + 1 − 1 = 2 > 1. Into b: 1 + 1 − 1 = 1.
        assert_eq!(p.spread_state.filter(&p, Some(&p.labels), &node("n1", "a")), Err((CONSTRAINTS_NOT_MATCH, true)));
        assert_eq!(p.spread_state.filter(&p, Some(&p.labels), &node("n2", "b")), Ok(()));
        // A node without the key.
        let bare = NodeInfo { name: "n3".into(), ..NodeInfo::default() };
        assert_eq!(p.spread_state.filter(&p, Some(&p.labels), &bare), Err((NODE_LABEL_NOT_MATCH, false)));
        // A domain with no Pods yet (zone c, not among the counted) has 0.
        assert_eq!(p.spread_state.filter(&p, Some(&p.labels), &node("n4", "c")), Ok(()));
    }

    #[test]
    fn fewer_domains_than_min_domains_make_the_global_minimum_zero() {
        let mut p = info(&POD.replace("MIN", ", minDomains: 3"));
        p.spread_state = State {
            namespace: "default".into(),
            hard: vec![BTreeMap::from([(label_hash("a"), 1), (label_hash("b"), 1)])],
            soft: Vec::new(),
        };
        // Two domains of three: 1 + 1 − 0 = 2 > 1 everywhere.
        assert_eq!(p.spread_state.filter(&p, Some(&p.labels), &node("n1", "a")), Err((CONSTRAINTS_NOT_MATCH, true)));
        let mut p = info(&POD.replace("MIN", ""));
        p.spread_state = State {
            namespace: "default".into(),
            hard: vec![BTreeMap::from([(label_hash("a"), 1), (label_hash("b"), 1)])],
            soft: Vec::new(),
        };
        assert_eq!(p.spread_state.filter(&p, Some(&p.labels), &node("n1", "a")), Ok(()));
    }
}
