//! InterPodAffinity (`pkg/scheduler/framework/plugins/interpodaffinity`): a Pod's required
//! affinity and anti-affinity to other Pods by topology domain, the symmetric rule that an
//! existing Pod's required anti-affinity keeps matching Pods out of its domain, and the
//! preferred terms (both ways) as a score. PreFilter counts matching Pods per topology pair
//! once per cycle; Filter and Score then look a node's labels up in those counts.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, WeightedPodAffinityTerm};

use super::cache::Cache;
use crate::api::labels::Selector;
use crate::api::{pod_util, Object, ObjectKey};
use crate::apiserver::ApiServer;

pub const AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// `hardPodAffinityWeight`: what an existing Pod's required affinity to the incoming Pod adds.
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

/// One `PodAffinityTerm`, its selectors parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// `None`: a term without a labelSelector matches no Pod.
    selector: Option<Selector>,
    namespaces: BTreeSet<String>,
    namespace_selector: Option<Selector>,
    pub topology_key: String,
}

impl Term {
    fn new(term: &PodAffinityTerm, own_namespace: &str) -> Term {
        let selector = term.label_selector.as_ref().and_then(|s| Selector::from_label_selector(s).ok());
        let namespace_selector = term.namespace_selector.as_ref().and_then(|s| Selector::from_label_selector(s).ok());
        let mut namespaces: BTreeSet<String> = term.namespaces.iter().flatten().cloned().collect();
        // No namespaces and no namespaceSelector: the Pod's own namespace.
        if namespaces.is_empty() && term.namespace_selector.is_none() {
            namespaces.insert(own_namespace.to_string());
        }
        Term { selector, namespaces, namespace_selector, topology_key: term.topology_key.clone() }
    }

    /// `AffinityTerm.Matches`: the Pod is in one of the term's namespaces and has its labels.
    pub fn matches(&self, pod: &Pod, namespace_labels: &dyn Fn(&str) -> Option<BTreeMap<String, String>>) -> bool {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let in_namespace =
            self.namespaces.contains(ns) || self.namespace_selector.as_ref().is_some_and(|s| s.matches(namespace_labels(ns).as_ref()));
        in_namespace && self.selector.as_ref().is_some_and(|s| s.matches(pod.metadata.labels.as_ref()))
    }
}

/// A Pod's inter-pod (anti-)affinity terms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodAffinity {
    pub required: Vec<Term>,
    pub required_anti: Vec<Term>,
    pub preferred: Vec<(i64, Term)>,
    pub preferred_anti: Vec<(i64, Term)>,
}

impl PodAffinity {
    pub fn of(pod: &Pod) -> PodAffinity {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let affinity = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
        let required = |terms: Option<&Vec<PodAffinityTerm>>| terms.into_iter().flatten().map(|t| Term::new(t, ns)).collect();
        let preferred = |terms: Option<&Vec<WeightedPodAffinityTerm>>| {
            terms.into_iter().flatten().map(|t| (i64::from(t.weight), Term::new(&t.pod_affinity_term, ns))).collect()
        };
        let a = affinity.and_then(|a| a.pod_affinity.as_ref());
        let anti = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        PodAffinity {
            required: required(a.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())),
            required_anti: required(anti.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())),
            preferred: preferred(a.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref())),
            preferred_anti: preferred(anti.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref())),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.required_anti.is_empty() && self.preferred.is_empty() && self.preferred_anti.is_empty()
    }

    fn matches_all_required(&self, pod: &Pod, ns: &dyn Fn(&str) -> Option<BTreeMap<String, String>>) -> bool {
        !self.required.is_empty() && self.required.iter().all(|t| t.matches(pod, ns))
    }
}

type Pair = (String, String);

/// PreFilter's counts, per topology pair (label key, value), and Score's per-pair weights.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// Existing Pods whose required anti-affinity matches the incoming Pod.
    existing_anti: BTreeMap<Pair, i64>,
    /// Existing Pods matching all of the incoming Pod's required affinity terms.
    affinity: BTreeMap<Pair, i64>,
    /// Existing Pods matching one of its required anti-affinity terms.
    anti: BTreeMap<Pair, i64>,
    /// Whether the incoming Pod matches all its own required affinity terms (it may then be
    /// the first of a group that wants to be together).
    matches_itself: bool,
    /// PreScore: each pair's summed preference weights.
    pub topology_score: BTreeMap<Pair, i64>,
}

/// An existing Pod with its terms, on a node with these labels.
pub struct Existing<'a> {
    pub pod: &'a Pod,
    pub terms: &'a PodAffinity,
    pub node_labels: &'a BTreeMap<String, String>,
}

impl State {
    /// Builds the counts from the assigned Pods (`existing`) for `pod` with `terms`.
    pub fn new<'a>(
        pod: &Pod,
        terms: &PodAffinity,
        existing: impl Iterator<Item = Existing<'a>>,
        ns: &dyn Fn(&str) -> Option<BTreeMap<String, String>>,
    ) -> State {
        let mut state = State { matches_itself: terms.matches_all_required(pod, ns), ..State::default() };
        for e in existing {
            state.account(pod, terms, &e, 1, ns);
        }
        state
    }

    /// Adds (`delta` 1) or removes (-1) one existing Pod: PreFilter's `AddPod`/`RemovePod`,
    /// which preemption uses to try a node without its victims.
    pub fn account(
        &mut self,
        pod: &Pod,
        terms: &PodAffinity,
        e: &Existing<'_>,
        delta: i64,
        ns: &dyn Fn(&str) -> Option<BTreeMap<String, String>>,
    ) {
        let pair = |key: &str| e.node_labels.get(key).map(|v| (key.to_string(), v.clone()));
        let bump = |map: &mut BTreeMap<Pair, i64>, key: &str, by: i64| {
            if let Some(p) = pair(key) {
                let n = map.entry(p.clone()).or_default();
                *n += by;
                if *n == 0 {
                    map.remove(&p);
                }
            }
        };
        for t in e.terms.required_anti.iter().filter(|t| t.matches(pod, ns)) {
            bump(&mut self.existing_anti, &t.topology_key, delta);
        }
        if terms.matches_all_required(e.pod, ns) {
            for t in &terms.required {
                bump(&mut self.affinity, &t.topology_key, delta);
            }
        }
        for t in terms.required_anti.iter().filter(|t| t.matches(e.pod, ns)) {
            bump(&mut self.anti, &t.topology_key, delta);
        }
        // PreScore (`processExistingPod`): the incoming Pod's preferences, and the existing
        // Pod's required affinity and preferences towards it.
        for (w, t) in terms.preferred.iter().filter(|(_, t)| t.matches(e.pod, ns)) {
            bump(&mut self.topology_score, &t.topology_key, w * delta);
        }
        for (w, t) in terms.preferred_anti.iter().filter(|(_, t)| t.matches(e.pod, ns)) {
            bump(&mut self.topology_score, &t.topology_key, -w * delta);
        }
        for t in e.terms.required.iter().filter(|t| t.matches(pod, ns)) {
            bump(&mut self.topology_score, &t.topology_key, HARD_POD_AFFINITY_WEIGHT * delta);
        }
        for (w, t) in e.terms.preferred.iter().filter(|(_, t)| t.matches(pod, ns)) {
            bump(&mut self.topology_score, &t.topology_key, w * delta);
        }
        for (w, t) in e.terms.preferred_anti.iter().filter(|(_, t)| t.matches(pod, ns)) {
            bump(&mut self.topology_score, &t.topology_key, -w * delta);
        }
    }

    /// Filter: the reason a node fails, and whether removing Pods (preemption) could help.
    /// No terms either way: the filter passes every node.
    pub fn passes_all(&self, terms: &PodAffinity) -> bool {
        terms.required.is_empty() && terms.required_anti.is_empty() && self.existing_anti.is_empty()
    }

    pub fn filter(&self, terms: &PodAffinity, labels: &BTreeMap<String, String>) -> Result<(), (&'static str, bool)> {
        // The common case, cheaply.
        if self.passes_all(terms) {
            return Ok(());
        }
        let count = |map: &BTreeMap<Pair, i64>, key: &str| {
            labels.get(key).map_or(0, |v| map.iter().find(|((k, val), _)| k == key && val == v).map_or(0, |(_, n)| *n))
        };
        // `satisfyPodAffinity`: every term's topology label on the node, with a matching Pod
        // in that domain — unless no Pod anywhere matches and the Pod matches its own terms.
        if !terms.required.is_empty() {
            if terms.required.iter().any(|t| !labels.contains_key(&t.topology_key)) {
                return Err((AFFINITY_RULES_NOT_MATCH, false));
            }
            let pods_exist = terms.required.iter().all(|t| count(&self.affinity, &t.topology_key) > 0);
            let first_of_group = self.affinity.is_empty() && self.matches_itself;
            if !(pods_exist || first_of_group) {
                return Err((AFFINITY_RULES_NOT_MATCH, false));
            }
        }
        if terms.required_anti.iter().any(|t| count(&self.anti, &t.topology_key) > 0) {
            return Err((ANTI_AFFINITY_RULES_NOT_MATCH, true));
        }
        if self.existing_anti.iter().any(|((k, v), n)| *n > 0 && labels.get(k) == Some(v)) {
            return Err((EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH, true));
        }
        Ok(())
    }

    /// Score: the summed weights of the node's topology pairs.
    pub fn raw_score(&self, labels: &BTreeMap<String, String>) -> i64 {
        self.topology_score.iter().filter(|((k, v), _)| labels.get(k) == Some(v)).map(|(_, n)| n).sum()
    }
}

/// NormalizeScore: min–max over the feasible nodes onto 0–100 (all 0 when they are equal).
pub fn normalize(raw: &[i64]) -> Vec<i64> {
    let (Some(min), Some(max)) = (raw.iter().min(), raw.iter().max()) else { return Vec::new() };
    let diff = max - min;
    raw.iter().map(|s| if diff > 0 { (100.0 * ((s - min) as f64 / diff as f64)) as i64 } else { 0 }).collect()
}

/// A namespace's labels, for terms with a namespaceSelector.
pub fn namespace_labels(api: &ApiServer) -> impl Fn(&str) -> Option<BTreeMap<String, String>> + '_ {
    move |ns: &str| api.get(&ObjectKey::new("Namespace", "", ns)).and_then(|n| n.meta().labels.clone())
}

/// PreFilter: the counts for `pod`. Only Pods that have terms of their own are visited unless
/// the incoming Pod has terms (then every assigned Pod is), so a cluster without inter-pod
/// affinity pays nothing.
pub fn prefilter(api: &ApiServer, cache: &Cache, pod: &Pod, terms: &PodAffinity) -> State {
    if terms.is_empty() && !cache.has_affinity_pods() {
        return State::default();
    }
    let ns = namespace_labels(api);
    let keys: Box<dyn Iterator<Item = &ObjectKey>> =
        if terms.is_empty() { Box::new(cache.affinity_pods()) } else { Box::new(cache.assigned_pods()) };
    let me = (pod.metadata.namespace.as_deref(), pod.metadata.name.as_deref());
    let existing: Vec<(&Pod, PodAffinity, &BTreeMap<String, String>)> = keys
        .filter_map(|key| {
            let p = api.get(key).and_then(Object::as_pod)?;
            if (p.metadata.namespace.as_deref(), p.metadata.name.as_deref()) == me {
                return None;
            }
            let node = cache.node(pod_util::node_name(p)?)?;
            Some((p, PodAffinity::of(p), &node.labels))
        })
        .collect();
    State::new(pod, terms, existing.iter().map(|(p, t, l)| Existing { pod: p, terms: t, node_labels: l }), &ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(yaml: &str) -> Pod {
        let parsed = crate::manifest::parse("t.yaml", yaml);
        parsed.objects.into_iter().next().and_then(|o| o.object.as_pod().cloned()).expect("a Pod")
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const NO_NS: &dyn Fn(&str) -> Option<BTreeMap<String, String>> = &|_| None;

    #[test]
    fn required_terms_count_by_topology_pair() {
        let incoming = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default, labels: {app: web}}\nspec:\n  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {labelSelector: {matchLabels: {app: db}}, topologyKey: zone}\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {labelSelector: {matchLabels: {app: web}}, topologyKey: host}\n  containers: [{name: c, image: nginx}]\n");
        let db = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: default, labels: {app: db}}\nspec: {containers: [{name: c, image: nginx}]}\n");
        let other_web = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: web2, namespace: default, labels: {app: web}}\nspec: {containers: [{name: c, image: nginx}]}\n");
        let terms = PodAffinity::of(&incoming);
        let (n1, n2, n3) =
            (labels(&[("zone", "a"), ("host", "n1")]), labels(&[("zone", "a"), ("host", "n2")]), labels(&[("zone", "b"), ("host", "n3")]));
        let none = PodAffinity::default();
        let existing =
            [Existing { pod: &db, terms: &none, node_labels: &n1 }, Existing { pod: &other_web, terms: &none, node_labels: &n2 }];
        let state = State::new(&incoming, &terms, existing.into_iter(), NO_NS);
        assert_eq!(state.filter(&terms, &n1), Ok(()), "zone a has the db, host n1 no other web");
        assert_eq!(state.filter(&terms, &n2), Err((ANTI_AFFINITY_RULES_NOT_MATCH, true)));
        assert_eq!(state.filter(&terms, &n3), Err((AFFINITY_RULES_NOT_MATCH, false)), "no db in zone b");
        assert_eq!(state.filter(&terms, &labels(&[("host", "n4")])), Err((AFFINITY_RULES_NOT_MATCH, false)), "no zone label");
    }

    #[test]
    fn the_first_of_a_group_may_go_anywhere_and_existing_anti_affinity_is_symmetric() {
        let group = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: default, labels: {app: g}}\nspec:\n  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {labelSelector: {matchLabels: {app: g}}, topologyKey: zone}\n  containers: [{name: c, image: nginx}]\n");
        let terms = PodAffinity::of(&group);
        let n1 = labels(&[("zone", "a")]);
        let state = State::new(&group, &terms, std::iter::empty(), NO_NS);
        assert_eq!(state.filter(&terms, &n1), Ok(()));
        let loner = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: l, namespace: default}\nspec:\n  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {labelSelector: {matchLabels: {app: g}}, topologyKey: zone}\n  containers: [{name: c, image: nginx}]\n");
        let loner_terms = PodAffinity::of(&loner);
        let none = PodAffinity::default();
        let plain = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default, labels: {app: g}}\nspec: {containers: [{name: c, image: nginx}]}\n");
        let existing = [Existing { pod: &loner, terms: &loner_terms, node_labels: &n1 }];
        let state = State::new(&plain, &none, existing.into_iter(), NO_NS);
        assert_eq!(state.filter(&none, &n1), Err((EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH, true)));
        assert_eq!(state.filter(&none, &labels(&[("zone", "b")])), Ok(()));
    }

    #[test]
    fn preferred_terms_score_and_normalise() {
        let incoming = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: default}\nspec:\n  affinity:\n    podAntiAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 100\n        podAffinityTerm: {labelSelector: {matchLabels: {security: S2}}, topologyKey: zone}\n    podAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 30\n        podAffinityTerm: {labelSelector: {matchLabels: {app: db}}, topologyKey: zone}\n  containers: [{name: c, image: nginx}]\n");
        let s2 = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: s2, namespace: default, labels: {security: S2}}\nspec: {containers: [{name: c, image: nginx}]}\n");
        let db = pod("apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: default, labels: {app: db}}\nspec: {containers: [{name: c, image: nginx}]}\n");
        let terms = PodAffinity::of(&incoming);
        let none = PodAffinity::default();
        let (a, b, c) = (labels(&[("zone", "a")]), labels(&[("zone", "b")]), labels(&[("zone", "c")]));
        let existing = [Existing { pod: &s2, terms: &none, node_labels: &a }, Existing { pod: &db, terms: &none, node_labels: &b }];
        let state = State::new(&incoming, &terms, existing.into_iter(), NO_NS);
        let raw: Vec<i64> = [&a, &b, &c].iter().map(|l| state.raw_score(l)).collect();
        assert_eq!(raw, vec![-100, 30, 0]);
        // (s − min) × 100 / (max − min): 0, 100, 100 × 100/130 = 76.
        assert_eq!(normalize(&raw), vec![0, 100, 76]);
        assert_eq!(normalize(&[5, 5]), vec![0, 0]);
    }
}
