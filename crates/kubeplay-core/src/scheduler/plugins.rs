//! The default profile's plugins that kubeplay models, over the scheduler cache's `NodeInfo`
//! and a `PodInfo` computed once per Pod: filters NodeUnschedulable, NodeName,
//! TaintToleration, NodeAffinity (nodeSelector and required node affinity), NodePorts,
//! NodeResourcesFit, PodTopologySpread and InterPodAffinity (their own modules); scores
//! TaintToleration (×3), NodeResourcesFit/LeastAllocated (×1) and
//! NodeResourcesBalancedAllocation (×1), with PodTopologySpread and InterPodAffinity (×2 each)
//! added by the cycle, which normalises them over the feasible nodes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration};

use super::cache::NodeInfo;
use super::inter_pod_affinity::{PodAffinity, State};
use super::topology_spread::{Constraints, State as SpreadState};
use crate::api::quantity;

/// Scheduler non-zero defaults for containers that request nothing (used only in scoring).
const DEFAULT_MILLI_CPU: i64 = 100;
const DEFAULT_MEMORY: i64 = 200 * 1024 * 1024;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
}

impl Resources {
    pub fn add(&mut self, other: Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
    }

    pub fn sub(&mut self, other: Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
    }
}

/// The filter plugins, in the default profile's order. A rejection names its plugin, so that
/// only an event that plugin cares about retries the Pod (queueing hints).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Plugin {
    NodeUnschedulable,
    NodeName,
    TaintToleration,
    NodeAffinity,
    NodePorts,
    NodeResourcesFit,
    PodTopologySpread,
    InterPodAffinity,
}

/// Why a node was filtered out; `resolvable` says whether preemption could help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub plugin: Plugin,
    pub reasons: Vec<String>,
    pub resolvable: bool,
}

/// What the scheduler needs to know about a Pod, computed once per scheduling attempt.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodInfo {
    pub requests: Resources,
    pub non_zero_requests: Resources,
    pub priority: i32,
    pub node_name: Option<String>,
    pub tolerations: Vec<Toleration>,
    pub node_selector: BTreeMap<String, String>,
    pub required_affinity: Option<NodeSelector>,
    /// `preferredDuringSchedulingIgnoredDuringExecution` node terms with their weights.
    pub preferred_node_terms: Vec<(i64, NodeSelectorTerm)>,
    /// Its containers' images (init containers first), as ImageLocality names them.
    pub images: Vec<String>,
    /// The host ports its containers ask for: (protocol, host IP, port).
    pub host_ports: Vec<HostPort>,
    /// Its inter-pod (anti-)affinity terms.
    pub affinity: PodAffinity,
    /// InterPodAffinity's PreFilter counts for this cycle (`inter_pod_affinity::prefilter`).
    pub inter_pod: State,
    pub labels: BTreeMap<String, String>,
    /// Its topology spread constraints, and their counts for this cycle.
    pub spread: Constraints,
    pub spread_state: SpreadState,
    /// Filter plugins its profile turned off.
    pub skip_filters: Vec<Plugin>,
}

/// A host port a container takes on its node: (protocol, host IP — `0.0.0.0` for any — port).
pub type HostPort = (String, String, i32);

/// The host ports a Pod's containers (and init containers) ask for.
pub fn host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else { return Vec::new() };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|p| *p > 0)?;
            let ip = p.host_ip.clone().filter(|ip| !ip.is_empty()).unwrap_or_else(|| "0.0.0.0".into());
            Some((p.protocol.clone().unwrap_or_else(|| "TCP".into()), ip, port))
        })
        .collect()
}

/// Two host ports conflict: same protocol and port, and the same address or either on all.
fn conflicts(a: &HostPort, b: &HostPort) -> bool {
    a.0 == b.0 && a.2 == b.2 && (a.1 == b.1 || a.1 == "0.0.0.0" || b.1 == "0.0.0.0")
}

impl PodInfo {
    pub fn new(pod: &Pod) -> PodInfo {
        let Some(spec) = pod.spec.as_ref() else {
            return PodInfo::default();
        };
        PodInfo {
            requests: requests(pod, false),
            non_zero_requests: requests(pod, true),
            priority: spec.priority.unwrap_or(0),
            node_name: spec.node_name.clone(),
            tolerations: spec.tolerations.clone().unwrap_or_default(),
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            required_affinity: spec
                .affinity
                .as_ref()
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|na| na.required_during_scheduling_ignored_during_execution.clone()),
            preferred_node_terms: spec
                .affinity
                .as_ref()
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|na| na.preferred_during_scheduling_ignored_during_execution.as_ref())
                .into_iter()
                .flatten()
                .map(|t| (i64::from(t.weight), t.preference.clone()))
                .collect(),
            images: spec
                .init_containers
                .iter()
                .flatten()
                .chain(&spec.containers)
                .map(|c| super::scoring::normalized_image_name(c.image.as_deref().unwrap_or_default()))
                .collect(),
            host_ports: host_ports(pod),
            affinity: PodAffinity::of(pod),
            inter_pod: State::default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            spread: Constraints::of(pod),
            spread_state: SpreadState::default(),
            skip_filters: Vec::new(),
        }
    }

    pub fn best_effort(&self) -> bool {
        self.requests == Resources::default()
    }
}

/// The filter plugins, in the order the default profile runs them.
const FILTERS: [Plugin; 8] = [
    Plugin::NodeUnschedulable,
    Plugin::NodeName,
    Plugin::TaintToleration,
    Plugin::NodeAffinity,
    Plugin::NodePorts,
    Plugin::NodeResourcesFit,
    Plugin::PodTopologySpread,
    Plugin::InterPodAffinity,
];

/// Runs the filter plugins in order; the first that fails decides.
pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
    for plugin in FILTERS {
        if !passes_on_sight(plugin, pod, node) && !pod.skip_filters.contains(&plugin) {
            run_filter(plugin, pod, node)?;
        }
    }
    Ok(())
}

/// A plugin with nothing to check for this Pod on this node (no cordon, no taints, no node
/// name, selector, affinity, host ports, hard spread constraints or inter-pod terms): the
/// common case, decided without calling the plugin. This runs for every node a Pod is
/// filtered on.
#[inline]
fn passes_on_sight(plugin: Plugin, pod: &PodInfo, node: &NodeInfo) -> bool {
    match plugin {
        Plugin::NodeUnschedulable => !node.unschedulable,
        Plugin::NodeName => pod.node_name.is_none(),
        Plugin::TaintToleration => node.taints.is_empty(),
        Plugin::NodeAffinity => pod.node_selector.is_empty() && pod.required_affinity.is_none(),
        Plugin::NodePorts => pod.host_ports.is_empty(),
        Plugin::NodeResourcesFit => false,
        Plugin::PodTopologySpread => pod.spread.hard.is_empty(),
        Plugin::InterPodAffinity => pod.inter_pod.passes_all(&pod.affinity),
    }
}

impl Plugin {
    /// The filter plugins a profile names.
    pub fn filters_named(names: &[String]) -> Vec<Plugin> {
        names
            .iter()
            .filter_map(|n| match n.as_str() {
                "NodeUnschedulable" => Some(Plugin::NodeUnschedulable),
                "NodeName" => Some(Plugin::NodeName),
                "TaintToleration" => Some(Plugin::TaintToleration),
                "NodeAffinity" => Some(Plugin::NodeAffinity),
                "NodePorts" => Some(Plugin::NodePorts),
                "NodeResourcesFit" => Some(Plugin::NodeResourcesFit),
                "PodTopologySpread" => Some(Plugin::PodTopologySpread),
                "InterPodAffinity" => Some(Plugin::InterPodAffinity),
                _ => None,
            })
            .collect()
    }
}

/// One filter plugin (queueing hints run the plugin that rejected a Pod against a changed node).
pub fn run_filter(plugin: Plugin, pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
    let unresolvable = |reason: &str| Err(Rejection { plugin, reasons: vec![reason.to_string()], resolvable: false });
    match plugin {
        Plugin::NodeUnschedulable => {
            if node.unschedulable {
                let cordon = Taint { key: "node.kubernetes.io/unschedulable".into(), effect: "NoSchedule".into(), ..Default::default() };
                if !pod.tolerations.iter().any(|t| tolerates(t, &cordon)) {
                    return unresolvable("node(s) were unschedulable");
                }
            }
        }
        Plugin::NodeName => {
            if pod.node_name.as_deref().is_some_and(|n| n != node.name) {
                return unresolvable("node(s) didn't match the requested node name");
            }
        }
        Plugin::TaintToleration => {
            let untolerated = node.taints.iter().any(|taint| {
                (taint.effect == "NoSchedule" || taint.effect == "NoExecute") && !pod.tolerations.iter().any(|t| tolerates(t, taint))
            });
            if untolerated {
                return unresolvable("node(s) had untolerated taint(s)");
            }
        }
        Plugin::NodeAffinity => {
            if !matches_node_affinity(pod, node) {
                return unresolvable("node(s) didn't match Pod's node affinity/selector");
            }
        }
        Plugin::NodePorts => {
            let taken = pod.host_ports.iter().any(|want| node.used_ports.keys().any(|used| conflicts(want, used)));
            if taken {
                return Err(Rejection {
                    plugin,
                    reasons: vec!["node(s) didn't have free ports for the requested pod ports".into()],
                    resolvable: true,
                });
            }
        }
        Plugin::PodTopologySpread => {
            if let Err((reason, resolvable)) = pod.spread_state.filter(pod, Some(&pod.labels), node) {
                return Err(Rejection { plugin, reasons: vec![reason.to_string()], resolvable });
            }
        }
        Plugin::InterPodAffinity => {
            if let Err((reason, resolvable)) = pod.inter_pod.filter(&pod.affinity, &node.labels) {
                return Err(Rejection { plugin, reasons: vec![reason.to_string()], resolvable });
            }
        }
        Plugin::NodeResourcesFit => {
            let want = pod.requests;
            let mut reasons = Vec::new();
            if node.pod_count + 1 > node.allowed_pods {
                reasons.push("Too many pods".to_string());
            }
            if want.milli_cpu > 0 && node.requested.milli_cpu.saturating_add(want.milli_cpu) > node.allocatable.milli_cpu {
                reasons.push("Insufficient cpu".to_string());
            }
            if want.memory > 0 && node.requested.memory.saturating_add(want.memory) > node.allocatable.memory {
                reasons.push("Insufficient memory".to_string());
            }
            if !reasons.is_empty() {
                return Err(Rejection { plugin, reasons, resolvable: true });
            }
        }
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

pub(super) fn matches_node_affinity(pod: &PodInfo, node: &NodeInfo) -> bool {
    let labels = &node.labels;
    let selector_ok = pod.node_selector.iter().all(|(k, v)| labels.get(k) == Some(v));
    let affinity_ok = pod.required_affinity.as_ref().is_none_or(|sel| sel.node_selector_terms.iter().any(|term| term_matches(term, node)));
    selector_ok && affinity_ok
}

/// A node selector term: every expression and field requirement holds (a term with none
/// matches nothing).
fn term_matches(term: &NodeSelectorTerm, node: &NodeInfo) -> bool {
    let exprs_ok = term.match_expressions.iter().flatten().all(|e| node_requirement(e, &node.labels));
    let fields_ok = term.match_fields.iter().flatten().all(|e| {
        let fields = BTreeMap::from([("metadata.name".to_string(), node.name.clone())]);
        node_requirement(e, &fields)
    });
    let any = term.match_expressions.as_ref().is_some_and(|e| !e.is_empty()) || term.match_fields.as_ref().is_some_and(|f| !f.is_empty());
    any && exprs_ok && fields_ok
}

/// NodeAffinity's raw score: the weights of the preferred terms the node matches.
pub fn node_affinity_raw(pod: &PodInfo, node: &NodeInfo) -> i64 {
    pod.preferred_node_terms.iter().filter(|(_, t)| term_matches(t, node)).map(|(w, _)| w).sum()
}

fn node_requirement(e: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let values = e.values.as_deref().unwrap_or_default();
    let value = labels.get(&e.key);
    let number = |s: &str| s.parse::<i64>().ok();
    let compare = |ord: std::cmp::Ordering| matches!((value.and_then(|v| number(v)), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a.cmp(&b) == ord);
    match e.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => compare(std::cmp::Ordering::Greater),
        "Lt" => compare(std::cmp::Ordering::Less),
        _ => false,
    }
}

/// Effective requests: the sum over app containers, or the largest init container if larger.
/// With `non_zero`, empty requests count as the scheduler's scoring defaults. Quantities past
/// int64 saturate, as `Quantity.MilliValue()` does.
pub fn requests(pod: &Pod, non_zero: bool) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources::default();
    };
    let one = |c: &Container| {
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
        total.add(one(c));
    }
    for c in spec.init_containers.iter().flatten() {
        let r = one(c);
        total.milli_cpu = total.milli_cpu.max(r.milli_cpu);
        total.memory = total.memory.max(r.memory);
    }
    total
}

/// The normalised scores (0–100) of TaintToleration and NodeResourcesBalancedAllocation
/// (NodeResourcesFit's is `fit_score`, under the profile's strategy).
pub fn score_parts(pod: &PodInfo, node: &NodeInfo, max_taint_raw: i64) -> [i64; 2] {
    let alloc = node.allocatable;
    let balanced = if pod.best_effort() {
        0 // BestEffort pods skip BalancedAllocation.
    } else {
        let want = pod.requests;
        let used = node.requested;
        let frac = |req: i64, cap: i64| {
            if cap == 0 {
                1.0
            } else {
                (req as f64 / cap as f64).min(1.0)
            }
        };
        let f_cpu = frac(used.milli_cpu.saturating_add(want.milli_cpu), alloc.milli_cpu);
        let f_mem = frac(used.memory.saturating_add(want.memory), alloc.memory);
        ((1.0 - (f_cpu - f_mem).abs() / 2.0) * 100.0) as i64
    };
    let taint_score = if max_taint_raw == 0 { 100 } else { 100 - untolerated_prefer_no_schedule(pod, node) * 100 / max_taint_raw };
    [taint_score, balanced]
}

/// TaintToleration's raw score: `PreferNoSchedule` taints the Pod does not tolerate.
pub fn untolerated_prefer_no_schedule(pod: &PodInfo, node: &NodeInfo) -> i64 {
    node.taints.iter().filter(|t| t.effect == "PreferNoSchedule" && !pod.tolerations.iter().any(|tol| tolerates(tol, t))).count() as i64
}

/// `FitError.Error()`: per-reason node counts as `"<n> <reason>"`, sorted as strings, then
/// the preemption (PostFilter) verdict.
pub fn fit_error(n_nodes: usize, rejected: &[Rejection]) -> String {
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
    with_post_filter(n_nodes, rejected, &format!("preemption: 0/{n_nodes} nodes are available: {}.", preemption.join(", ")))
}

/// `FitError.Error()` with the PostFilter plugins' message: DynamicResources' (which has no
/// claims to free) and DefaultPreemption's.
pub fn with_post_filter(n_nodes: usize, rejected: &[Rejection], preemption: &str) -> String {
    format!("{} no new claims to deallocate, {preemption}", fit_reasons(n_nodes, rejected))
}

/// The filters' verdicts alone (what is reported when preemption has nominated a node).
pub fn fit_reasons(n_nodes: usize, rejected: &[Rejection]) -> String {
    let mut histogram: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rejected {
        for reason in &r.reasons {
            *histogram.entry(reason.as_str()).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = histogram.iter().map(|(reason, n)| format!("{n} {reason}")).collect();
    parts.sort();
    format!("0/{n_nodes} nodes are available: {}.", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_error_matches_scheduler_wording() {
        let r = |reason: &str, resolvable: bool| Rejection { plugin: Plugin::NodeResourcesFit, reasons: vec![reason.into()], resolvable };
        let rejected = vec![r("node(s) had untolerated taint(s)", false), r("Insufficient cpu", true), r("Insufficient cpu", true)];
        assert_eq!(
            fit_error(3, &rejected),
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
    }

    /// An empty node of 4 CPU, 8 GiB and 110 Pods.
    fn small_node() -> NodeInfo {
        NodeInfo { name: "n".into(), allocatable: Resources { milli_cpu: 4000, memory: 8 << 30 }, allowed_pods: 110, ..Default::default() }
    }

    #[test]
    fn a_plugin_passed_on_sight_would_have_passed() {
        let plain = small_node();
        let taint = Taint { key: "k".into(), effect: "NoSchedule".into(), ..Default::default() };
        let nodes = [
            plain.clone(),
            NodeInfo { unschedulable: true, ..plain.clone() },
            NodeInfo { taints: vec![taint], ..plain.clone() },
            NodeInfo { used_ports: BTreeMap::from([(("TCP".to_string(), "0.0.0.0".to_string(), 80), 1)]), ..plain.clone() },
        ];
        let pods = [
            PodInfo::default(),
            PodInfo { node_name: Some("elsewhere".into()), ..Default::default() },
            PodInfo { node_selector: BTreeMap::from([("a".to_string(), "b".to_string())]), ..Default::default() },
            PodInfo { host_ports: vec![("TCP".into(), "0.0.0.0".into(), 80)], ..Default::default() },
        ];
        let mut skipped = 0;
        for node in &nodes {
            for pod in &pods {
                for plugin in FILTERS {
                    let verdict = run_filter(plugin, pod, node);
                    if passes_on_sight(plugin, pod, node) {
                        skipped += 1;
                        assert!(verdict.is_ok(), "{plugin:?} passed on sight but rejects");
                    }
                }
            }
        }
        // Every case but the rejecting ones is decided on sight (so this checks something).
        assert!(skipped > 80, "{skipped}");
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

    #[test]
    fn huge_requests_saturate_instead_of_fitting() {
        let node = small_node();
        let pod = PodInfo { requests: Resources { milli_cpu: i64::MAX, memory: 0 }, ..Default::default() };
        let rejection = filter(&pod, &node).expect_err("does not fit");
        assert_eq!(rejection.reasons, vec!["Insufficient cpu".to_string()]);
    }
}
