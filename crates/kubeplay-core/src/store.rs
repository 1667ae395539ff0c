//! The simulated API server's storage: objects in key order, one resourceVersion counter, and
//! a log of changes that the host turns into controller work (a watch, in Kubernetes terms).

use std::collections::{BTreeMap, BTreeSet};

use crate::api::{Object, ObjectKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub key: ObjectKey,
    pub kind: ChangeKind,
    /// The object as it is now (Added, Modified) or was (Deleted).
    pub object: Object,
}

#[derive(Clone, Debug, Default)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Object>,
    resource_version: u64,
    changes: Vec<Change>,
    /// Owner uid → objects whose ownerReferences name it (the garbage collector's graph).
    dependents: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Node name → Pods bound to it (`spec.nodeName`), as the scheduler's cache keeps them.
    pods_by_node: BTreeMap<String, BTreeSet<ObjectKey>>,
}

impl Store {
    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.objects.get(key)
    }

    /// All objects of `kind`, optionally in one namespace, in name order.
    pub fn list<'a>(&'a self, kind: &'static str, namespace: Option<&'a str>) -> impl Iterator<Item = &'a Object> + 'a {
        let start = ObjectKey::new(kind, namespace.unwrap_or(""), "");
        self.objects
            .range(start..)
            .take_while(move |(k, _)| k.kind == kind && namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, o)| o)
    }

    /// Objects with an ownerReference to `owner_uid`, in key order.
    pub fn dependents<'a>(&'a self, owner_uid: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.dependents.get(owner_uid).into_iter().flatten().filter_map(|k| self.objects.get(k))
    }

    /// Pods bound to `node`, in key order.
    pub fn pods_on<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.pods_by_node.get(node).into_iter().flatten().filter_map(|k| self.objects.get(k))
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
    /// event, so level-triggered controllers settle.
    pub fn put(&mut self, mut object: Object) {
        let key = object.key();
        let previous = self.objects.get(&key);
        if let Some(prev) = previous {
            object.meta_mut().resource_version = prev.meta().resource_version.clone();
            if *prev == object {
                return;
            }
        }
        let kind = if previous.is_some() { ChangeKind::Modified } else { ChangeKind::Added };
        self.resource_version += 1;
        object.meta_mut().resource_version = Some(self.resource_version.to_string());
        self.changes.push(Change { key: key.clone(), kind, object: object.clone() });
        if let Some(prev) = self.objects.get(&key) {
            index(&mut self.dependents, &mut self.pods_by_node, &key, prev, false);
        }
        index(&mut self.dependents, &mut self.pods_by_node, &key, &object, true);
        self.objects.insert(key, object);
    }

    pub fn remove(&mut self, key: &ObjectKey) -> Option<Object> {
        let removed = self.objects.remove(key)?;
        index(&mut self.dependents, &mut self.pods_by_node, key, &removed, false);
        self.resource_version += 1;
        self.changes.push(Change { key: key.clone(), kind: ChangeKind::Deleted, object: removed.clone() });
        Some(removed)
    }

    pub fn drain_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }
}

/// Adds `object` to (or removes it from) the owner and node indexes.
fn index(
    dependents: &mut BTreeMap<String, BTreeSet<ObjectKey>>,
    pods_by_node: &mut BTreeMap<String, BTreeSet<ObjectKey>>,
    key: &ObjectKey,
    object: &Object,
    add: bool,
) {
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
        update(dependents, &owner.uid, key, add);
    }
    if let Some(node) = object.as_pod().and_then(|p| p.spec.as_ref()?.node_name.as_deref()) {
        update(pods_by_node, node, key, add);
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
        Object::Pod(p)
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
        let kinds: Vec<ChangeKind> = s.drain_changes().iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![ChangeKind::Added, ChangeKind::Modified]);
    }

    #[test]
    fn indexes_dependents_and_pods_by_node() {
        let mut s = Store::default();
        let mut p = pod("default", "a");
        if let Object::Pod(pod) = &mut p {
            pod.metadata.owner_references = Some(vec![k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                uid: "rs-uid".into(),
                ..Default::default()
            }]);
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
