//! The StatefulSet controller (`pkg/controller/statefulset`): Pods with stable identities.
//!
//! Pod `<set>-<i>` for every ordinal in `[start, start + replicas)` (`.spec.ordinals.start`),
//! hostname its own name and subdomain the `serviceName` (so a headless Service gives each a
//! DNS name), labelled `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index` and
//! `controller-revision-hash`. Each `volumeClaimTemplates` entry gives every ordinal a
//! PersistentVolumeClaim `<template>-<set>-<i>`, made before its Pod and kept — and reused —
//! after scale-down unless `persistentVolumeClaimRetentionPolicy` says Delete.
//!
//! `OrderedReady` (the default) makes ordinals one at a time, lowest first, each only once every
//! lower one is Running and Ready, and removes the highest first, one at a time, waiting for it
//! to be gone; nothing proceeds while a Pod is unhealthy. `Parallel` makes and removes them all
//! at once. `RollingUpdate` replaces Pods from the highest ordinal down, one at a time, each after
//! the previous is Running and Ready again, leaving ordinals below `partition` at the current
//! revision; `OnDelete` replaces a Pod only when you delete it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::{controller_ref, pod_util, Object, ObjectKey, Stored};
use crate::apiserver::{ApiServer, NewEvent};
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::SimDuration;

const COMPONENT: &str = "statefulset-controller";
const HASH_LABEL: &str = "controller-revision-hash";
const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

#[derive(Clone, Copy, Debug, Default)]
pub struct StatefulSetController;

fn ordinal_of(set: &str, pod: &str) -> Option<i32> {
    pod.strip_prefix(set)?.strip_prefix('-')?.parse().ok()
}

fn healthy(pod: &Pod) -> bool {
    pod_util::phase(pod) == "Running" && pod_util::is_ready(pod) && pod.metadata.deletion_timestamp.is_none()
}

fn revision_of(pod: &Pod) -> Option<&str> {
    pod.metadata.labels.as_ref()?.get(HASH_LABEL).map(String::as_str)
}

/// The Pod for ordinal `i` from `template` (at `revision`).
fn pod_for(sts: &StatefulSet, owner: &Object, i: i32, template: &PodTemplateSpec, revision: &str) -> Object {
    let set = sts.metadata.name.clone().unwrap_or_default();
    let name = format!("{set}-{i}");
    let spec_meta = template.metadata.clone().unwrap_or_default();
    let mut labels = spec_meta.labels.unwrap_or_default();
    labels.insert(HASH_LABEL.into(), revision.into());
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), i.to_string());
    let mut spec = template.spec.clone().unwrap_or_default();
    spec.hostname = Some(name.clone());
    if let Some(service) = sts.spec.service_name.clone().filter(|s| !s.is_empty()) {
        spec.subdomain = Some(service);
    }
    // Each claim template becomes a volume of the same name, bound to this ordinal's claim.
    for claim in sts.spec.volume_claim_templates.iter().flatten() {
        let template_name = claim.metadata.name.clone().unwrap_or_default();
        let volumes = spec.volumes.get_or_insert_with(Vec::new);
        volumes.retain(|v| v.name != template_name);
        volumes.push(Volume {
            name: template_name.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: format!("{template_name}-{name}"),
                read_only: None,
            }),
            ..Default::default()
        });
    }
    Object::from(Pod {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: sts.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: spec_meta.annotations,
            owner_references: Some(vec![controller_ref(owner)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    })
}

/// The template a stored revision holds.
fn template_of_revision(api: &ApiServer, namespace: &str, name: &str) -> Option<PodTemplateSpec> {
    match api.get(&ObjectKey::new("ControllerRevision", namespace, name))? {
        Object::Stored(s) => serde_json::from_value(s.body.get("data")?.get("spec")?.get("template")?.clone()).ok(),
        _ => None,
    }
}

impl Component for StatefulSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("StatefulSet").owns("Pod")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(object) = ctx.api.get_rc(key) else { return Action::AwaitChange };
        let Some(sts) = object.as_stateful_set().cloned() else { return Action::AwaitChange };
        if sts.metadata.deletion_timestamp.is_some() {
            return Action::AwaitChange;
        }
        let spec = sts.spec.clone();
        let set = key.name.clone();
        let uid = sts.metadata.uid.clone().unwrap_or_default();
        let hash = super::pod_template_hash(&spec.template, sts.status.as_ref().and_then(|s| s.collision_count).filter(|c| *c > 0));
        let update_revision = super::revisions::ensure(ctx.api, &object, &spec.template, &hash);
        let old_status = sts.status.clone().unwrap_or_default();
        let current_revision = old_status.current_revision.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| update_revision.clone());
        let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0).max(0);
        let replicas = spec.replicas.unwrap_or(1).max(0);
        let parallel = spec.pod_management_policy.as_deref() == Some("Parallel");
        let strategy = spec.update_strategy.clone().unwrap_or_default();
        let on_delete = strategy.type_.as_deref() == Some("OnDelete");
        let partition = strategy.rolling_update.as_ref().and_then(|r| r.partition).unwrap_or(0);

        let pods: BTreeMap<i32, Pod> = ctx
            .api
            .store()
            .dependents(&uid)
            .filter_map(Object::as_pod)
            .filter_map(|p| Some((ordinal_of(&set, p.metadata.name.as_deref()?)?, p.clone())))
            .collect();
        let wanted = start..start + replicas;
        let mut requeue = None;

        // Failed Pods are deleted, to be made again.
        for (i, pod) in &pods {
            if pod_util::phase(pod) == "Failed" && pod.metadata.deletion_timestamp.is_none() {
                self.delete_pod(ctx, &object, &set, *i, &key.namespace);
            }
        }
        // Make the missing ordinals (lowest first; one at a time unless Parallel).
        let mut blocked = false;
        for i in wanted.clone() {
            match pods.get(&i) {
                Some(pod) => {
                    if !parallel && !healthy(pod) {
                        blocked = true;
                        break;
                    }
                }
                None => {
                    // Below the partition a recreated Pod keeps the current revision.
                    let (template, revision) = if !on_delete && i < partition && current_revision != update_revision {
                        match template_of_revision(ctx.api, &key.namespace, &current_revision) {
                            Some(t) => (t, current_revision.clone()),
                            None => (spec.template.clone(), update_revision.clone()),
                        }
                    } else {
                        (spec.template.clone(), update_revision.clone())
                    };
                    self.create_claims(ctx, &object, &sts, i);
                    match ctx.api.create(pod_for(&sts, &object, i, &template, &revision)) {
                        Ok(_) => ctx.api.record(NewEvent::normal(
                            COMPONENT,
                            &object,
                            "SuccessfulCreate",
                            format!("create Pod {set}-{i} in StatefulSet {set} successful"),
                        )),
                        Err(e) => ctx.api.record(NewEvent::warning(
                            COMPONENT,
                            &object,
                            "FailedCreate",
                            format!("create Pod {set}-{i} in StatefulSet {set} failed error: {e}"),
                        )),
                    }
                    if !parallel {
                        blocked = true;
                        break;
                    }
                }
            }
        }
        // Remove ordinals past the end (highest first; one at a time unless Parallel).
        let all_healthy = wanted.clone().all(|i| pods.get(&i).is_some_and(healthy));
        let mut extra: Vec<i32> = pods.keys().copied().filter(|i| !wanted.contains(i)).collect();
        extra.sort_unstable_by(|a, b| b.cmp(a));
        if !extra.is_empty() {
            let terminating = pods.values().any(|p| p.metadata.deletion_timestamp.is_some());
            if parallel {
                for i in &extra {
                    self.delete_pod(ctx, &object, &set, *i, &key.namespace);
                }
            } else if !terminating && (all_healthy || !blocked) {
                self.delete_pod(ctx, &object, &set, extra[0], &key.namespace);
            }
            if spec.persistent_volume_claim_retention_policy.as_ref().and_then(|p| p.when_scaled.as_deref()) == Some("Delete") {
                for i in &extra {
                    self.delete_claims(ctx, &sts, *i);
                }
            }
        }
        // Rolling update: from the highest ordinal not yet at the update revision down, as many
        // at a time as `maxUnavailable` allows (1 by default; Pods already unavailable count).
        let max_unavailable = match strategy.rolling_update.as_ref().and_then(|r| r.max_unavailable.as_ref()) {
            Some(IntOrString::Int(n)) => (*n).max(1),
            Some(IntOrString::String(p)) => (p.trim_end_matches('%').parse::<i64>().unwrap_or(0) * i64::from(replicas) / 100).max(1) as i32,
            None => 1,
        };
        if !on_delete && !blocked && extra.is_empty() {
            let unavailable = wanted.clone().filter(|i| !pods.get(i).is_some_and(healthy)).count() as i32;
            let stale: Vec<i32> = wanted
                .clone()
                .rev()
                .filter(|i| *i >= partition)
                .filter(|i| pods.get(i).and_then(|p| revision_of(p)) != Some(update_revision.as_str()))
                .collect();
            let budget = (max_unavailable - unavailable).max(0) as usize;
            // With the default budget of one, the next Pod waits until every Pod is healthy.
            for i in stale.into_iter().filter(|i| pods.get(i).is_some_and(healthy)).take(budget) {
                self.delete_pod(ctx, &object, &set, i, &key.namespace);
            }
        }
        // Status.
        let now = ctx.api.now();
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let live: Vec<&Pod> = pods.values().filter(|p| p.metadata.deletion_timestamp.is_none() && !pod_util::is_terminal(p)).collect();
        let count = |f: &dyn Fn(&Pod) -> bool| live.iter().filter(|p| f(p)).count() as i32;
        let updated = count(&|p| revision_of(p) == Some(update_revision.as_str()));
        let current = count(&|p| revision_of(p) == Some(current_revision.as_str()));
        let done = updated == replicas && live.len() as i32 == replicas;
        let mut status = StatefulSetStatus {
            observed_generation: sts.metadata.generation,
            replicas: live.len() as i32,
            ready_replicas: Some(count(&|p| pod_util::is_ready(p))),
            available_replicas: Some(count(&|p| pod_util::is_available(p, min_ready, now))),
            current_replicas: Some(if done { updated } else { current }),
            updated_replicas: Some(updated),
            current_revision: Some(if done { update_revision.clone() } else { current_revision.clone() }),
            update_revision: Some(update_revision.clone()),
            collision_count: Some(old_status.collision_count.unwrap_or(0)),
            conditions: old_status.conditions.clone(),
        };
        for n in [&mut status.ready_replicas, &mut status.current_replicas, &mut status.updated_replicas] {
            if *n == Some(0) {
                *n = None;
            }
        }
        if sts.status.as_ref() != Some(&status) {
            let mut sts = sts.clone();
            sts.status = Some(status);
            ctx.api.update(Object::from(sts));
        }
        if min_ready > 0 && live.iter().any(|p| pod_util::is_ready(p) && !pod_util::is_available(p, min_ready, now)) {
            requeue = Some(SimDuration::from_secs(1));
        }
        match requeue {
            Some(after) => Action::RequeueAfter(after),
            None => Action::AwaitChange,
        }
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

impl StatefulSetController {
    fn delete_pod(&self, ctx: &mut Ctx<'_>, owner: &Object, set: &str, i: i32, namespace: &str) {
        let key = ObjectKey::new("Pod", namespace, &format!("{set}-{i}"));
        if ctx.api.get(&key).is_some_and(|o| o.meta().deletion_timestamp.is_none()) && ctx.api.delete(&key) {
            ctx.api.record(NewEvent::normal(
                COMPONENT,
                owner,
                "SuccessfulDelete",
                format!("delete Pod {set}-{i} in StatefulSet {set} successful"),
            ));
        }
    }

    /// The claims of ordinal `i` that do not exist yet.
    fn create_claims(&self, ctx: &mut Ctx<'_>, owner: &Object, sts: &StatefulSet, i: i32) {
        let set = sts.metadata.name.clone().unwrap_or_default();
        let namespace = sts.metadata.namespace.clone().unwrap_or_default();
        let spec = sts.spec.clone();
        let delete_with_set =
            spec.persistent_volume_claim_retention_policy.as_ref().and_then(|p| p.when_deleted.as_deref()) == Some("Delete");
        for template in spec.volume_claim_templates.iter().flatten() {
            let claim = format!("{}-{set}-{i}", template.metadata.name.as_deref().unwrap_or(""));
            if ctx.api.get(&ObjectKey::new("PersistentVolumeClaim", &namespace, &claim)).is_some() {
                continue;
            }
            let mut labels = spec.selector.match_labels.clone().unwrap_or_default();
            labels.extend(template.metadata.labels.clone().unwrap_or_default());
            let mut body = serde_json::Map::new();
            body.insert("spec".into(), serde_json::to_value(&template.spec).unwrap_or_default());
            // No storage is provisioned yet (kubeplay does not model volumes): the claim waits.
            body.insert("status".into(), serde_json::json!({ "phase": "Pending" }));
            let owners = delete_with_set.then(|| vec![controller_ref(owner)]);
            let pvc = Stored {
                info: crate::api::kinds::kind("PersistentVolumeClaim"),
                api_version: "v1".into(),
                metadata: ObjectMeta {
                    name: Some(claim.clone()),
                    namespace: Some(namespace.clone()),
                    labels: Some(labels),
                    annotations: template.metadata.annotations.clone(),
                    owner_references: owners,
                    ..Default::default()
                },
                body,
            };
            match ctx.api.create(Object::from(pvc)) {
                Ok(_) => ctx.api.record(NewEvent::normal(
                    COMPONENT,
                    owner,
                    "SuccessfulCreate",
                    format!("create Claim {claim} Pod {set}-{i} in StatefulSet {set} success"),
                )),
                Err(e) => ctx.api.record(NewEvent::warning(
                    COMPONENT,
                    owner,
                    "FailedCreate",
                    format!("create Claim {claim} for Pod {set}-{i} in StatefulSet {set} failed error: {e}"),
                )),
            }
        }
    }

    fn delete_claims(&self, ctx: &mut Ctx<'_>, sts: &StatefulSet, i: i32) {
        let set = sts.metadata.name.clone().unwrap_or_default();
        let namespace = sts.metadata.namespace.clone().unwrap_or_default();
        for template in sts.spec.volume_claim_templates.iter().flatten() {
            let claim = format!("{}-{set}-{i}", template.metadata.name.as_deref().unwrap_or(""));
            ctx.api.delete(&ObjectKey::new("PersistentVolumeClaim", &namespace, &claim));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ordinal_of;

    #[test]
    fn ordinals_come_from_names() {
        assert_eq!(ordinal_of("web", "web-0"), Some(0));
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "webby-1"), None);
    }
}
