//! The garbage collector: an object whose owners are all gone is deleted (background cascading
//! deletion, kubectl's default). It is asked about each dependent of a deleted owner.

use crate::api::kinds;
use crate::api::ObjectKey;
use crate::cluster::Cluster;
use crate::time::SimDuration;

pub fn reconcile(cluster: &mut Cluster, key: &ObjectKey) -> Option<SimDuration> {
    let object = cluster.get(key)?;
    if object.meta().deletion_timestamp.is_some() {
        return None;
    }
    let refs: Vec<_> = object.meta().owner_references.iter().flatten().cloned().collect();
    let owner_gone = |r: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference| {
        let Some(info) = kinds::by_kind(&r.kind) else { return false };
        let namespace = if info.namespaced { key.namespace.as_str() } else { "" };
        let owner = cluster.get(&ObjectKey::new(info.kind, namespace, &r.name));
        owner.is_none_or(|o| o.meta().uid.as_deref() != Some(r.uid.as_str()))
    };
    if !refs.is_empty() && refs.iter().all(owner_gone) {
        cluster.delete(key);
    }
    None
}
