//! The ReplicaSet controller (`pkg/controller/replicaset`): keep `spec.replicas` active Pods,
//! creating from the template or deleting the most deletable, and report status.

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::api::labels::Selector;
use crate::api::pod_util::{self, is_active, is_available, is_ready};
use crate::api::{Object, ObjectKey};
use crate::cluster::{from_time, Cluster};
use crate::events::NewEvent;
use crate::time::SimDuration;

/// `burstReplicas`: at most this many creates or deletes per sync.
const BURST_REPLICAS: usize = 500;

pub fn reconcile(cluster: &mut Cluster, key: &ObjectKey) -> Option<SimDuration> {
    let rs = cluster.get(key)?.as_replica_set()?.clone();
    if rs.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let owned: Vec<Pod> = cluster
        .store
        .dependents(&uid)
        .filter_map(Object::as_pod)
        .filter(|p| pod_util::controlled_by(&p.metadata, &uid))
        .cloned()
        .collect();
    let active: Vec<&Pod> = owned.iter().filter(|p| is_active(p)).collect();
    let want = rs.spec.replicas.unwrap_or(1).max(0) as usize;
    if active.len() < want {
        let n = (want - active.len()).min(BURST_REPLICAS);
        for _ in 0..n {
            create_pod(cluster, &rs);
        }
    } else if active.len() > want {
        let n = (active.len() - want).min(BURST_REPLICAS);
        let mut ranked = active.clone();
        ranked.sort_by_key(|p| deletion_rank(p));
        for victim in ranked.into_iter().take(n) {
            let name = victim.metadata.name.clone().unwrap_or_default();
            cluster.delete(&ObjectKey::new("Pod", &key.namespace, &name));
            cluster.event(NewEvent {
                involved: &Object::ReplicaSet(rs.clone()),
                warning: false,
                reason: "SuccessfulDelete",
                message: format!("Deleted pod: {name}"),
                component: "replicaset-controller",
                host: None,
                field_path: None,
            });
        }
    }
    update_status(cluster, &rs, &owned)
}

/// Most deletable first (`controller.ActivePods` ordering): unscheduled, then Pending, then
/// not ready, then the most recently ready, then the newest.
fn deletion_rank(pod: &Pod) -> (u8, u8, u8, std::cmp::Reverse<u64>, std::cmp::Reverse<u64>) {
    let unassigned = u8::from(pod_util::node_name(pod).is_some());
    let phase = match pod_util::phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        _ => 2,
    };
    let ready = u8::from(is_ready(pod));
    let ready_since = pod_util::condition(pod, "Ready")
        .and_then(|c| c.last_transition_time.as_ref())
        .map_or(0, |t| from_time(t).ms());
    let created = pod.metadata.creation_timestamp.as_ref().map_or(0, |t| from_time(t).ms());
    (unassigned, phase, ready, std::cmp::Reverse(ready_since), std::cmp::Reverse(created))
}

fn create_pod(cluster: &mut Cluster, rs: &ReplicaSet) {
    let rs_name = rs.metadata.name.clone().unwrap_or_default();
    let template = rs.spec.template.clone().unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let pod = Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{rs_name}-")),
            namespace: rs.metadata.namespace.clone(),
            labels: template_meta.labels,
            annotations: template_meta.annotations,
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                name: rs_name,
                uid: rs.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    };
    let created = cluster.create(Object::Pod(pod));
    cluster.event(NewEvent {
        involved: &Object::ReplicaSet(rs.clone()),
        warning: false,
        reason: "SuccessfulCreate",
        message: format!("Created pod: {}", created.name()),
        component: "replicaset-controller",
        host: None,
        field_path: None,
    });
}

fn update_status(cluster: &mut Cluster, rs: &ReplicaSet, owned: &[Pod]) -> Option<SimDuration> {
    let selector = Selector::from_label_selector(&rs.spec.selector).unwrap_or_default();
    let min_ready = rs.spec.min_ready_seconds.unwrap_or(0);
    let now = cluster.now;
    let active: Vec<&Pod> = owned.iter().filter(|p| is_active(p)).collect();
    let count = |f: &dyn Fn(&Pod) -> bool| active.iter().filter(|p| f(p)).count() as i32;
    let status = ReplicaSetStatus {
        replicas: active.len() as i32,
        fully_labeled_replicas: Some(count(&|p| selector.matches(p.metadata.labels.as_ref()))),
        ready_replicas: Some(count(&|p| is_ready(p))),
        available_replicas: Some(count(&|p| is_available(p, min_ready, now))),
        terminating_replicas: None,
        observed_generation: rs.metadata.generation,
        conditions: None,
    };
    // Pods that are ready but not yet available become available later: look again then.
    let waiting = status.ready_replicas != status.available_replicas;
    let Some(Object::ReplicaSet(current)) = cluster.get(&ObjectKey::new("ReplicaSet", rs.metadata.namespace.as_deref().unwrap_or(""), rs.metadata.name.as_deref().unwrap_or(""))).cloned() else {
        return None;
    };
    let mut updated = current;
    updated.status = Some(status);
    cluster.update(Object::ReplicaSet(updated));
    waiting.then(|| SimDuration::from_secs(1))
}
