//! The garbage collector: an object whose owners are all gone is deleted (background cascading
//! deletion, kubectl's default). An owner deleted in the foreground (`foregroundDeletion`
//! finalizer) has its dependents deleted first and goes once none is left. It watches every
//! kind: a deletion maps to the deleted object's dependents and to an owner waiting on it; an
//! owner entering foreground deletion maps to itself.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use crate::api::{kinds, Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, ChangeKind, Propagation, FOREGROUND_DELETION};
use crate::runtime::{Action, Component, Ctx, Watches};

#[derive(Clone, Copy, Debug, Default)]
pub struct GarbageCollector;

impl Component for GarbageCollector {
    fn name(&self) -> &'static str {
        "garbage-collector"
    }

    fn watches(&self) -> Watches {
        Watches::none().watches("*", dependents_of_deleted)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        if orphaned(ctx.api, key) {
            ctx.api.delete(key);
        }
        let Some(object) = ctx.api.get(key).cloned() else { return Action::AwaitChange };
        let foreground =
            object.meta().finalizers.iter().flatten().any(|f| f == FOREGROUND_DELETION) && object.meta().deletion_timestamp.is_some();
        if foreground {
            let uid = object.meta().uid.clone().unwrap_or_default();
            let dependents: Vec<ObjectKey> = ctx.api.store().dependents(&uid).map(Object::key).collect();
            if dependents.is_empty() {
                // Its dependents are gone: the finalizer is done, and so is the owner.
                ctx.api.finish_foreground_deletion(key);
            } else {
                for d in dependents {
                    // Dependents go in the foreground too, as upstream propagates it.
                    ctx.api.delete_with_propagation(&d, Propagation::Foreground);
                }
            }
        }
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

fn dependents_of_deleted(api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
    let meta = change.object.meta();
    let waiting = meta.deletion_timestamp.is_some() && meta.finalizers.iter().flatten().any(|f| f == FOREGROUND_DELETION);
    if change.kind != ChangeKind::Deleted {
        if waiting {
            out.push(change.key.clone());
        }
        return;
    }
    let uid = meta.uid.as_deref().unwrap_or_default();
    out.extend(api.store().dependents(uid).map(Object::key));
    // An owner being deleted in the foreground may now be free to go.
    for owner in meta.owner_references.iter().flatten() {
        if let Some(info) = kinds::by_kind(&owner.kind) {
            let namespace = if info.namespaced { change.key.namespace.as_str() } else { "" };
            out.push(ObjectKey::new(info.kind, namespace, &owner.name));
        }
    }
}

/// Whether every owner `key` names is gone (or is a different object of the same name).
fn orphaned(api: &ApiServer, key: &ObjectKey) -> bool {
    let Some(object) = api.get(key) else {
        return false;
    };
    if object.meta().deletion_timestamp.is_some() {
        return false;
    }
    let refs = object.meta().owner_references.as_deref().unwrap_or_default();
    let owner_gone = |r: &OwnerReference| {
        let Some(info) = kinds::by_kind(&r.kind) else {
            return false;
        };
        let namespace = if info.namespaced { key.namespace.as_str() } else { "" };
        let owner = api.get(&ObjectKey::new(info.kind, namespace, &r.name));
        owner.is_none_or(|o| o.meta().uid.as_deref() != Some(r.uid.as_str()))
    };
    !refs.is_empty() && refs.iter().all(owner_gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    fn owned_pod(owner: &Object) -> Object {
        let mut p = Pod::default();
        p.metadata.name = Some("p".into());
        p.metadata.namespace = Some("default".into());
        p.metadata.owner_references = Some(vec![crate::api::controller_ref(owner)]);
        Object::from(p)
    }

    #[test]
    fn a_dependent_goes_when_its_owner_does_and_not_before() {
        let mut api = ApiServer::new(1);
        let rs = crate::manifest::parse(
            "rs.yaml",
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}\n",
        );
        let owner = api.create(rs.objects[0].object.clone()).expect("rs");
        let pod = api.create(owned_pod(&owner)).expect("pod").key();
        api.drain_changes();
        let mut gc = GarbageCollector;
        let mut rng = crate::rng::SimRng::stream(1, "gc");
        let mut ctx = Ctx { api: &mut api, rng: &mut rng };
        assert_eq!(gc.reconcile(&mut ctx, &pod), Action::AwaitChange);
        assert!(ctx.api.get(&pod).is_some(), "its owner still exists");
        ctx.api.delete(&owner.key());
        let changes = ctx.api.drain_changes();
        let mut mapped = Vec::new();
        dependents_of_deleted(ctx.api, &changes[0], &mut mapped);
        assert_eq!(mapped, vec![pod.clone()]);
        gc.reconcile(&mut ctx, &pod);
        assert!(ctx.api.get(&pod).is_none(), "an orphan is collected");
    }
}
