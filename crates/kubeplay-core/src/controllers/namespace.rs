//! The namespace controller (`pkg/controller/namespace`): a Namespace being deleted has
//! everything in it deleted (each object as its kind is deleted: Pods gracefully), reports
//! progress in its conditions, and, once nothing is left, gives up its `kubernetes`
//! finalizer so the API server removes it. It looks again after the longest grace period
//! still running, as the real controller's estimate does.

use k8s_openapi::api::core::v1::{Namespace, NamespaceCondition};

use crate::api::kinds::KINDS;
use crate::api::{Object, ObjectKey};
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::SimDuration;

#[derive(Clone, Copy, Debug, Default)]
pub struct NamespaceController;

impl Component for NamespaceController {
    fn name(&self) -> &'static str {
        "namespace-controller"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Namespace")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(ns) = ctx.api.get(key).and_then(Object::as_namespace).cloned() else { return Action::AwaitChange };
        if ns.metadata.deletion_timestamp.is_none() {
            return Action::AwaitChange;
        }
        let name = key.name.clone();
        // Delete what is in it; count what is still there (by resource, as the conditions say).
        let mut remaining: Vec<(String, usize)> = Vec::new();
        let mut estimate: i64 = 0;
        for info in KINDS.iter().filter(|k| k.namespaced) {
            let keys: Vec<(ObjectKey, bool, i64)> = ctx
                .api
                .store()
                .list(info.kind, Some(name.as_str()))
                .map(|o| (o.key(), o.meta().deletion_timestamp.is_some(), o.meta().deletion_grace_period_seconds.unwrap_or(0)))
                .collect();
            if keys.is_empty() {
                continue;
            }
            for (k, deleting, grace) in &keys {
                if !deleting {
                    ctx.api.delete(k);
                }
                estimate = estimate.max(*grace);
            }
            let left = ctx.api.store().list(info.kind, Some(name.as_str())).count();
            if left > 0 {
                remaining.push((format!("{}.{}", info.plural, info.group), left));
                if let Some(o) = ctx.api.store().list(info.kind, Some(name.as_str())).next() {
                    estimate = estimate.max(o.meta().deletion_grace_period_seconds.unwrap_or(0));
                }
            }
        }
        remaining.sort();
        let now = ctx.api.timestamp();
        let mut updated = ns.clone();
        let conditions = conditions(&ns, &remaining, &now);
        let status = updated.status.get_or_insert_with(Default::default);
        status.phase = Some("Terminating".into());
        status.conditions = Some(conditions);
        if remaining.is_empty() {
            // Finalize: the API server removes the Namespace once nothing holds it.
            if let Some(spec) = updated.spec.as_mut() {
                if let Some(f) = spec.finalizers.as_mut() {
                    f.retain(|f| f != "kubernetes");
                }
            }
            ctx.api.update(Object::from(updated));
            return Action::AwaitChange;
        }
        if Some(&updated) != Some(&ns) {
            ctx.api.update(Object::from(updated));
        }
        Action::RequeueAfter(SimDuration::from_secs(estimate.max(1) as u64))
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

/// The five conditions the deleter reports, in its order; a condition keeps its transition
/// time while its status stays.
fn conditions(
    ns: &Namespace,
    remaining: &[(String, usize)],
    now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> Vec<NamespaceCondition> {
    let previous = ns.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    let make = |type_: &str, status: &str, reason: &str, message: String| {
        let kept = previous.iter().find(|c| c.type_ == type_ && c.status == status).and_then(|c| c.last_transition_time.clone());
        NamespaceCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: Some(message),
            last_transition_time: Some(kept.unwrap_or_else(|| now.clone())),
        }
    };
    let content = if remaining.is_empty() {
        make("NamespaceContentRemaining", "False", "ContentRemoved", "All content successfully removed".into())
    } else {
        let listed: Vec<String> = remaining.iter().map(|(r, n)| format!("{r} has {n} resource instances")).collect();
        make("NamespaceContentRemaining", "True", "SomeResourcesRemain", format!("Some resources are remaining: {}", listed.join(", ")))
    };
    vec![
        make("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered".into()),
        make(
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed".into(),
        ),
        make(
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization".into(),
        ),
        content,
        make("NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers", "All content-preserving finalizers finished".into()),
    ]
}
