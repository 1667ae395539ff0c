//! The simulated API server's storage: objects in key order behind `Rc` (readers and watch
//! events share them; a writer copies what it changes), one resourceVersion counter, a log of
//! changes that the host turns into watch events, and the indexes controllers read through.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::api::{Object, ObjectKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One watch event.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub key: ObjectKey,
    pub kind: ChangeKind,
    /// The object as it is now (Added, Modified) or was (Deleted).
    pub object: Rc<Object>,
    /// The version before a modification (informers hand handlers both).
    pub old: Option<Rc<Object>>,
}

#[derive(Clone, Debug, Default)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Rc<Object>>,
    resource_version: u64,
    changes: Vec<Change>,
    /// Owner uid → objects whose ownerReferences name it (the garbage collector's graph).
    dependents: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Node name → Pods bound to it (`spec.nodeName`).
    pods_by_node: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Objects per kind, so counting Pods does not walk them.
    counts: BTreeMap<&'static str, usize>,
    /// (namespace, label key, label value) → names of the Pods with that label, so a Service's
    /// selector finds its Pods without walking the namespace.
    pods_by_label: BTreeMap<(String, String, String), BTreeSet<String>>,
    /// Namespace → Pods no controller owns, so that workload controllers look for Pods to
    /// adopt without walking all the Pods their selector matches.
    orphan_pods: BTreeMap<String, BTreeSet<ObjectKey>>,
}

impl Store {
    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.objects.get(key).map(|o| &**o)
    }

    /// A shared handle to the stored object (no copy).
    pub fn get_rc(&self, key: &ObjectKey) -> Option<Rc<Object>> {
        self.objects.get(key).cloned()
    }

    /// All objects of `kind`, optionally in one namespace, in name order.
    pub fn list<'a, 'n>(&'a self, kind: &'static str, namespace: Option<&'n str>) -> impl Iterator<Item = &'a Object> + 'n
    where
        'a: 'n,
    {
        let start = ObjectKey::new(kind, namespace.unwrap_or(""), "");
        self.objects
            .range(start..)
            .take_while(move |(k, _)| k.kind == kind && namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, o)| &**o)
    }

    /// Every object, in key order (kind, namespace, name).
    pub fn all(&self) -> impl Iterator<Item = &Object> + '_ {
        self.objects.values().map(|o| &**o)
    }

    /// How many objects of `kind` there are.
    pub fn count(&self, kind: &str) -> usize {
        self.counts.get(kind).copied().unwrap_or(0)
    }

    /// Objects with an ownerReference to `owner_uid`, in key order.
    pub fn dependents<'a>(&'a self, owner_uid: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.dependents.get(owner_uid).into_iter().flatten().filter_map(|k| self.get(k))
    }

    /// Pods bound to `node`, in key order.
    pub fn pods_on<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.pods_by_node.get(node).into_iter().flatten().filter_map(|k| self.get(k))
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Creates or replaces an object, stamping a new resourceVersion. A write that changes
    /// nothing is dropped, as the API server drops no-op updates: no new version, no watch
    /// event, so level-triggered controllers settle. Returns the stored object.
    pub fn put(&mut self, mut object: Object) -> Rc<Object> {
        let key = object.key();
        let previous = self.objects.get(&key).cloned();
        if let Some(prev) = &previous {
            object.meta_mut().resource_version = prev.meta().resource_version.clone();
            if **prev == object {
                return prev.clone();
            }
        }
        let kind = if previous.is_some() { ChangeKind::Modified } else { ChangeKind::Added };
        self.resource_version += 1;
        object.meta_mut().resource_version = Some(self.resource_version.to_string());
        let object = Rc::new(object);
        if let Some(prev) = &previous {
            self.index(&key, prev, false);
        } else {
            *self.counts.entry(key.kind).or_default() += 1;
        }
        self.index(&key, &object, true);
        if key.kind == "Pod" {
            let old_labels = previous.as_ref().and_then(|p| p.meta().labels.as_ref());
            if old_labels != object.meta().labels.as_ref() {
                self.index_labels(&key, old_labels.cloned().as_ref(), false);
                self.index_labels(&key, object.meta().labels.clone().as_ref(), true);
            }
        }
        self.objects.insert(key.clone(), object.clone());
        self.changes.push(Change { key, kind, object: object.clone(), old: previous });
        object
    }

    pub fn remove(&mut self, key: &ObjectKey) -> Option<Rc<Object>> {
        let mut removed = self.objects.remove(key)?;
        self.index(key, &removed, false);
        if key.kind == "Pod" {
            self.index_labels(key, removed.meta().labels.clone().as_ref(), false);
        }
        if let Some(n) = self.counts.get_mut(key.kind) {
            *n = n.saturating_sub(1);
        }
        self.resource_version += 1;
        // The last state, at the deletion's resourceVersion (as etcd's watch reports it).
        Rc::make_mut(&mut removed).meta_mut().resource_version = Some(self.resource_version.to_string());
        self.changes.push(Change { key: key.clone(), kind: ChangeKind::Deleted, object: removed.clone(), old: None });
        Some(removed)
    }

    pub fn drain_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The Pods in `namespace` that have every label of `selector` (a non-empty map), found
    /// through the label index's shortest list.
    pub fn pods_matching<'a>(&'a self, namespace: &str, selector: &BTreeMap<String, String>) -> Vec<&'a Object> {
        let lists: Option<Vec<&BTreeSet<String>>> =
            selector.iter().map(|(k, v)| self.pods_by_label.get(&(namespace.to_string(), k.clone(), v.clone()))).collect();
        let Some(shortest) = lists.and_then(|l| l.into_iter().min_by_key(|s| s.len())) else { return Vec::new() };
        // One key buffer for every lookup: this runs for each Pod the scheduler places.
        let mut key = ObjectKey::new("Pod", namespace, "");
        shortest
            .iter()
            .filter_map(|name| {
                key.name.clear();
                key.name.push_str(name);
                self.objects.get(&key).map(|o| &**o)
            })
            .filter(|o| {
                let labels = o.meta().labels.as_ref();
                selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            })
            .collect()
    }

    fn index_labels(&mut self, key: &ObjectKey, labels: Option<&BTreeMap<String, String>>, add: bool) {
        for (k, v) in labels.into_iter().flatten() {
            let index = (key.namespace.clone(), k.clone(), v.clone());
            if add {
                self.pods_by_label.entry(index).or_default().insert(key.name.clone());
            } else if let Some(set) = self.pods_by_label.get_mut(&index) {
                set.remove(&key.name);
                if set.is_empty() {
                    self.pods_by_label.remove(&index);
                }
            }
        }
    }

    /// Adds `object` to (or removes it from) the owner and node indexes.
    fn index(&mut self, key: &ObjectKey, object: &Object, add: bool) {
        fn update(map: &mut BTreeMap<String, BTreeSet<ObjectKey>>, k: &str, key: &ObjectKey, add: bool) {
            if add {
                map.entry(k.to_string()).or_default().insert(key.clone());
            } else if let Some(set) = map.get_mut(k) {
                set.remove(key);
                if set.is_empty() {
                    map.remove(k);
                }
            }
        }
        for owner in object.meta().owner_references.iter().flatten() {
            update(&mut self.dependents, &owner.uid, key, add);
        }
        if let Some(node) = object.as_pod().and_then(|p| p.spec.as_ref()?.node_name.as_deref()) {
            update(&mut self.pods_by_node, node, key, add);
        }
        if key.kind == "Pod" && !object.meta().owner_references.iter().flatten().any(|o| o.controller == Some(true)) {
            update(&mut self.orphan_pods, &key.namespace, key, add);
        }
    }

    /// Pods in `namespace` that no controller owns, in key order.
    pub fn orphan_pods<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.orphan_pods.get(namespace).into_iter().flatten().filter_map(|k| self.get(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    fn pod(ns: &str, name: &str) -> Object {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.namespace = Some(ns.into());
        Object::from(p)
    }

    #[test]
    fn the_label_index_follows_label_changes_and_deletions() {
        let mut s = Store::default();
        let labelled = |name: &str, labels: &[(&str, &str)]| {
            let mut p = pod("default", name);
            p.meta_mut().labels = Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            p
        };
        s.put(labelled("a", &[("app", "web"), ("tier", "fe")]));
        s.put(labelled("b", &[("app", "web")]));
        s.put(labelled("c", &[("app", "api")]));
        s.put(pod("other", "d"));
        let names = |s: &Store, sel: &[(&str, &str)]| -> Vec<String> {
            let sel: BTreeMap<String, String> = sel.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            s.pods_matching("default", &sel).iter().map(|o| o.name().to_string()).collect()
        };
        assert_eq!(names(&s, &[("app", "web")]), ["a", "b"]);
        assert_eq!(names(&s, &[("app", "web"), ("tier", "fe")]), ["a"]);
        s.put(labelled("b", &[("app", "api")]));
        assert_eq!(names(&s, &[("app", "web")]), ["a"]);
        assert_eq!(names(&s, &[("app", "api")]), ["b", "c"]);
        s.remove(&ObjectKey::new("Pod", "default", "c"));
        assert_eq!(names(&s, &[("app", "api")]), ["b"]);
        assert!(names(&s, &[("app", "none")]).is_empty());
    }

    #[test]
    fn versions_increase_and_noop_writes_are_dropped() {
        let mut s = Store::default();
        s.put(pod("default", "a"));
        s.put(pod("default", "a"));
        assert_eq!(s.resource_version(), 1);
        let mut changed = pod("default", "a");
        changed.meta_mut().labels = Some([("x".to_string(), "y".to_string())].into());
        s.put(changed);
        assert_eq!(s.resource_version(), 2);
        let changes = s.drain_changes();
        let kinds: Vec<ChangeKind> = changes.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![ChangeKind::Added, ChangeKind::Modified]);
        assert!(changes[1].old.as_ref().is_some_and(|o| o.meta().labels.is_none()), "a modification carries the old version");
        assert_eq!(s.count("Pod"), 1);
    }

    #[test]
    fn indexes_dependents_and_pods_by_node() {
        let mut s = Store::default();
        let mut p = pod("default", "a");
        if let Object::Pod(pod) = &mut p {
            pod.metadata.owner_references =
                Some(vec![k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference { uid: "rs-uid".into(), ..Default::default() }]);
            pod.spec = Some(k8s_openapi::api::core::v1::PodSpec { node_name: Some("n1".into()), ..Default::default() });
        }
        s.put(p.clone());
        assert_eq!(s.dependents("rs-uid").count(), 1);
        assert_eq!(s.pods_on("n1").count(), 1);
        if let Object::Pod(pod) = &mut p {
            pod.spec = Some(k8s_openapi::api::core::v1::PodSpec { node_name: Some("n2".into()), ..Default::default() });
        }
        s.put(p.clone());
        assert_eq!(s.pods_on("n1").count(), 0);
        assert_eq!(s.pods_on("n2").count(), 1);
        s.remove(&p.key());
        assert_eq!(s.dependents("rs-uid").count(), 0);
        assert_eq!(s.pods_on("n2").count(), 0);
    }

    #[test]
    fn lists_by_kind_and_namespace_in_name_order() {
        let mut s = Store::default();
        for (ns, n) in [("b", "z"), ("a", "y"), ("a", "x")] {
            s.put(pod(ns, n));
        }
        let names: Vec<&str> = s.list("Pod", None).map(Object::name).collect();
        assert_eq!(names, vec!["x", "y", "z"]);
        let names: Vec<&str> = s.list("Pod", Some("a")).map(Object::name).collect();
        assert_eq!(names, vec!["x", "y"]);
        assert_eq!(s.list("Node", None).count(), 0);
    }
}
