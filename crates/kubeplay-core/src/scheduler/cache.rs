//! The scheduler cache (`pkg/scheduler/backend/cache`): a `NodeInfo` per node with what its
//! Pods request, kept current from Pod and Node watch events and from the scheduler's own
//! assumptions (a Pod counts on its node from the moment it is bound, before the watch says so).
//! Nodes are kept in name order so a scheduling cycle can start anywhere and wrap around.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, Pod, Taint};

use super::plugins::{host_ports, requests, HostPort, Resources};
use crate::api::pod_util;
use crate::api::{quantity, Object, ObjectKey};
use crate::apiserver::ApiServer;

/// What scheduling needs to know about one node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    /// Change through [`NodeInfo::set_label`], which keeps `label_hashes` in step.
    pub labels: BTreeMap<String, String>,
    /// Each label as (hash of the key, hash of the value): PodTopologySpread looks up and
    /// compares a domain on every feasible node for every Pod it places, and numbers are
    /// cheaper to compare than label strings. (64-bit FNV-1a: among a cluster's few thousand
    /// label values a collision has odds near 10⁻¹².)
    pub label_hashes: Vec<(u64, u64)>,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable: Resources,
    pub allowed_pods: usize,
    /// Requests of the Pods on the node that are not finished.
    pub requested: Resources,
    /// The same with the scoring defaults for containers that request nothing.
    pub non_zero_requested: Resources,
    pub pod_count: usize,
    /// Host ports the node's Pods hold, with how many hold each.
    pub used_ports: BTreeMap<HostPort, usize>,
    /// The images the node reports (`status.images`): each name → size in bytes.
    pub images: BTreeMap<String, i64>,
}

/// What a label key or value is compared by in [`NodeInfo::label_hashes`].
pub fn label_hash(s: &str) -> u64 {
    crate::rng::fnv1a64(s.as_bytes())
}

fn label_hashes(labels: &BTreeMap<String, String>) -> Vec<(u64, u64)> {
    labels.iter().map(|(k, v)| (label_hash(k), label_hash(v))).collect()
}

impl NodeInfo {
    /// The hash of this node's value for the label whose key hashes to `key`.
    pub fn label_value_hash(&self, key: u64) -> Option<u64> {
        self.label_hashes.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    pub fn set_label(&mut self, key: &str, value: &str) {
        self.labels.insert(key.to_string(), value.to_string());
        self.label_hashes = label_hashes(&self.labels);
    }

    fn from_node(node: &Node) -> NodeInfo {
        let alloc = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
        let get = |k: &str| alloc.and_then(|a| a.get(k)).map(|q| q.0.as_str());
        let spec = node.spec.as_ref();
        NodeInfo {
            name: node.metadata.name.clone().unwrap_or_default(),
            labels: node.metadata.labels.clone().unwrap_or_default(),
            label_hashes: label_hashes(node.metadata.labels.as_ref().unwrap_or(&BTreeMap::new())),
            taints: spec.and_then(|s| s.taints.clone()).unwrap_or_default(),
            unschedulable: spec.and_then(|s| s.unschedulable) == Some(true),
            allocatable: Resources {
                milli_cpu: get("cpu").and_then(quantity::cpu_millis).unwrap_or(0),
                memory: get("memory").and_then(quantity::bytes).unwrap_or(0),
            },
            allowed_pods: get("pods").and_then(|q| q.parse().ok()).unwrap_or(110),
            images: node
                .status
                .as_ref()
                .and_then(|s| s.images.as_ref())
                .into_iter()
                .flatten()
                .flat_map(|i| i.names.iter().flatten().map(move |n| (n.clone(), i.size_bytes.unwrap_or(0))))
                .collect(),
            ..NodeInfo::default()
        }
    }

    /// Counts `pod` on this node (preemption's dry runs add and remove Pods on a copy).
    pub fn add_pod(&mut self, pod: &Pod) {
        self.add(&PodUsage::on(&self.name, pod), true);
    }

    pub fn remove_pod(&mut self, pod: &Pod) {
        self.add(&PodUsage::on(&self.name, pod), false);
    }

    fn add(&mut self, usage: &PodUsage, sign: bool) {
        if sign {
            self.requested.add(usage.requests);
            self.non_zero_requested.add(usage.non_zero);
            self.pod_count += 1;
            for port in &usage.host_ports {
                *self.used_ports.entry(port.clone()).or_default() += 1;
            }
        } else {
            for port in &usage.host_ports {
                if let Some(n) = self.used_ports.get_mut(port) {
                    *n -= 1;
                    if *n == 0 {
                        self.used_ports.remove(port);
                    }
                }
            }
            self.requested.sub(usage.requests);
            self.non_zero_requested.sub(usage.non_zero);
            self.pod_count = self.pod_count.saturating_sub(1);
        }
    }
}

/// What one assigned Pod takes from its node.
#[derive(Clone, Debug, PartialEq)]
struct PodUsage {
    node: String,
    requests: Resources,
    non_zero: Resources,
    host_ports: Vec<HostPort>,
}

impl PodUsage {
    fn on(node: &str, pod: &Pod) -> PodUsage {
        PodUsage { node: node.to_string(), requests: requests(pod, false), non_zero: requests(pod, true), host_ports: host_ports(pod) }
    }

    /// A Pod bound to a node and not finished uses that node's resources.
    fn of(pod: &Pod) -> Option<PodUsage> {
        let node = pod_util::node_name(pod)?;
        (!pod_util::is_terminal(pod)).then(|| PodUsage {
            node: node.to_string(),
            requests: requests(pod, false),
            non_zero: requests(pod, true),
            host_ports: host_ports(pod),
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cache {
    /// Every node in name order: a scheduling cycle indexes straight into it.
    nodes: Vec<NodeInfo>,
    pods: BTreeMap<ObjectKey, PodUsage>,
    /// Assigned Pods with inter-pod (anti-)affinity terms: the only ones whose terms can
    /// concern a Pod that has none of its own.
    affinity_pods: BTreeSet<ObjectKey>,
    /// How many nodes report each image name (ImageLocality's spread).
    image_nodes: BTreeMap<String, usize>,
    by_name: NameIndex,
}

/// Hash of a node's name → its position in `nodes`, rebuilt once nodes have come or gone:
/// PodTopologySpread looks up the node of every Pod it counts, and comparing numbers beats
/// comparing names. Derived from `nodes`, so no part of a cache's identity; a name it misses
/// (a stale index, a hash two names share) is found by binary search.
#[derive(Clone, Debug, Default)]
struct NameIndex {
    positions: BTreeMap<u64, usize>,
    stale: bool,
}

impl PartialEq for NameIndex {
    fn eq(&self, _: &NameIndex) -> bool {
        true
    }
}

impl Cache {
    /// A cache computed from scratch (what the incremental one must always equal).
    pub fn from_store(api: &ApiServer) -> Cache {
        let mut cache = Cache::default();
        for node in api.store().list("Node", None).filter_map(Object::as_node) {
            cache.update_node(node);
        }
        for pod in api.store().list("Pod", None).filter_map(Object::as_pod) {
            let key = ObjectKey::new("Pod", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""));
            cache.update_pod(&key, Some(pod));
        }
        cache.refresh_index();
        cache
    }

    /// Rebuilds the name index if nodes came or went (once per scheduling tick, not per node).
    pub fn refresh_index(&mut self) {
        if self.by_name.stale {
            self.by_name.positions = self.nodes.iter().enumerate().map(|(i, n)| (label_hash(&n.name), i)).collect();
            self.by_name.stale = false;
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node at position `i` of the name order.
    pub fn node_at(&self, i: usize) -> Option<&NodeInfo> {
        self.nodes.get(i)
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        if !self.by_name.stale {
            if let Some(&i) = self.by_name.positions.get(&label_hash(name)) {
                if self.nodes.get(i).is_some_and(|n| n.name == name) {
                    return Ok(i);
                }
            }
        }
        self.nodes.binary_search_by(|n| n.name.as_str().cmp(name))
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.position(name).ok().map(|i| &self.nodes[i])
    }

    fn node_mut(&mut self, name: &str) -> Option<&mut NodeInfo> {
        self.position(name).ok().map(|i| &mut self.nodes[i])
    }

    /// A Pod was added, changed or (with `None`) deleted.
    pub fn update_pod(&mut self, key: &ObjectKey, pod: Option<&Pod>) {
        let usage = pod.and_then(PodUsage::of);
        if self.pods.get(key) == usage.as_ref() {
            return;
        }
        self.track_affinity(key, pod.filter(|_| usage.is_some()));
        self.set_usage(key, usage);
    }

    /// The scheduler bound `key` to `node`: count it there now (`AssumePod`).
    pub fn assume(&mut self, key: &ObjectKey, pod: &Pod, node: &str) {
        self.track_affinity(key, Some(pod));
        self.set_usage(key, Some(PodUsage::on(node, pod)));
    }

    fn track_affinity(&mut self, key: &ObjectKey, assigned: Option<&Pod>) {
        let has_terms = assigned
            .and_then(|p| p.spec.as_ref()?.affinity.as_ref())
            .is_some_and(|a| a.pod_affinity.is_some() || a.pod_anti_affinity.is_some());
        if has_terms {
            self.affinity_pods.insert(key.clone());
        } else {
            self.affinity_pods.remove(key);
        }
    }

    pub fn has_affinity_pods(&self) -> bool {
        !self.affinity_pods.is_empty()
    }

    pub fn affinity_pods(&self) -> impl Iterator<Item = &ObjectKey> {
        self.affinity_pods.iter()
    }

    /// Every Pod counted on a node.
    pub fn assigned_pods(&self) -> impl Iterator<Item = &ObjectKey> {
        self.pods.keys()
    }

    fn set_usage(&mut self, key: &ObjectKey, usage: Option<PodUsage>) {
        if let Some(old) = self.pods.remove(key) {
            if let Some(info) = self.node_mut(&old.node) {
                info.add(&old, false);
            }
        }
        if let Some(usage) = usage {
            if let Some(info) = self.node_mut(&usage.node) {
                info.add(&usage, true);
            }
            self.pods.insert(key.clone(), usage);
        }
    }

    /// A Node was added or changed. Its Pods' usage is kept (Pods may name a node before it
    /// registers; they count from when it does).
    pub fn update_node(&mut self, node: &Node) {
        let mut info = NodeInfo::from_node(node);
        for name in info.images.keys() {
            *self.image_nodes.entry(name.clone()).or_default() += 1;
        }
        match self.position(&info.name) {
            Ok(i) => {
                let old = std::mem::take(&mut self.nodes[i]);
                self.forget_images(&old);
                info.requested = old.requested;
                info.non_zero_requested = old.non_zero_requested;
                info.pod_count = old.pod_count;
                info.used_ports = old.used_ports;
                self.nodes[i] = info;
            }
            Err(i) => {
                let name = info.name.clone();
                for usage in self.pods.values().filter(|u| u.node == name) {
                    info.add(usage, true);
                }
                self.nodes.insert(i, info);
                self.by_name.stale = true;
            }
        }
    }

    pub fn remove_node(&mut self, name: &str) {
        if let Ok(i) = self.position(name) {
            let old = self.nodes.remove(i);
            self.by_name.stale = true;
            self.forget_images(&old);
        }
    }

    fn forget_images(&mut self, node: &NodeInfo) {
        for name in node.images.keys() {
            if let Some(n) = self.image_nodes.get_mut(name) {
                *n -= 1;
                if *n == 0 {
                    self.image_nodes.remove(name);
                }
            }
        }
    }

    /// How many nodes report an image by this name.
    pub fn nodes_with_image(&self, name: &str) -> usize {
        self.image_nodes.get(name).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some(name.into());
        n.metadata.labels = Some([("kubernetes.io/hostname".to_string(), name.to_string())].into());
        n
    }

    #[test]
    fn finds_nodes_by_name_whether_the_index_is_fresh_or_stale() {
        let mut cache = Cache::default();
        for name in ["b", "d", "a"] {
            cache.update_node(&node(name));
        }
        let names = |c: &Cache| (0..c.len()).filter_map(|i| c.node_at(i)).map(|n| n.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&cache), ["a", "b", "d"], "name order");
        assert_eq!(cache.node("d").map(|n| n.name.as_str()), Some("d"), "stale: binary search");
        cache.refresh_index();
        assert_eq!(cache.node("d").map(|n| n.name.as_str()), Some("d"), "fresh: through the index");
        cache.update_node(&node("c"));
        assert_eq!(cache.node("d").map(|n| n.name.as_str()), Some("d"), "positions shifted: not trusted until refreshed");
        assert!(cache.node("e").is_none());
        cache.remove_node("a");
        cache.refresh_index();
        assert_eq!(names(&cache), ["b", "c", "d"]);
        for name in ["b", "c", "d"] {
            assert_eq!(cache.node(name).map(|n| n.name.as_str()), Some(name));
        }
        assert!(cache.node("a").is_none());
        let hostname = label_hash("kubernetes.io/hostname");
        assert_eq!(cache.node("c").and_then(|n| n.label_value_hash(hostname)), Some(label_hash("c")));
    }
}
