//! The simulated API server's storage: objects in key order, one resourceVersion counter, and
//! a log of changes that the host turns into controller work (a watch, in Kubernetes terms).

use std::collections::BTreeMap;

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
        self.objects.insert(key, object);
    }

    pub fn remove(&mut self, key: &ObjectKey) -> Option<Object> {
        let removed = self.objects.remove(key)?;
        self.resource_version += 1;
        self.changes.push(Change { key: key.clone(), kind: ChangeKind::Deleted, object: removed.clone() });
        Some(removed)
    }

    pub fn drain_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
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
