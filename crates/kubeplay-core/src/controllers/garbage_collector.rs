//! The garbage collector: when an owner is gone, its dependents are deleted (background
//! cascading deletion, kubectl's default).

use crate::api::ObjectKey;
use crate::cluster::Cluster;
use crate::time::SimDuration;

/// Kinds that can have owners among the simulated kinds.
const DEPENDENT_KINDS: [&str; 2] = ["ReplicaSet", "Pod"];

pub fn reconcile(cluster: &mut Cluster, key: &ObjectKey) -> Option<SimDuration> {
    if cluster.get(key).is_some() {
        return None;
    }
    let namespace = key.namespace.clone();
    let mut orphans = Vec::new();
    for kind in DEPENDENT_KINDS {
        for object in cluster.store.list(kind, Some(&namespace)) {
            let refs = object.meta().owner_references.iter().flatten();
            let owned = refs.clone().count() > 0;
            let all_gone = refs.clone().all(|r| {
                let owner_key = ObjectKey::new(crate::api::kinds::by_kind(&r.kind).map_or("", |k| k.kind), &namespace, &r.name);
                cluster.get(&owner_key).is_none_or(|o| o.meta().uid.as_deref() != Some(r.uid.as_str()))
            });
            if owned && all_gone && object.meta().deletion_timestamp.is_none() {
                orphans.push(object.key());
            }
        }
    }
    for orphan in orphans {
        cluster.delete(&orphan);
    }
    None
}
