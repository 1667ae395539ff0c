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
    let want = rs.spec.replicas.unwrap_or(1).max(0) as usize;
    // Read the owned Pods by reference (a ReplicaSet may own thousands), decide, then write.
    let (n_active, victims) = {
        let mut active: Vec<&Pod> = cluster
            .store
            .dependents(&uid)
            .filter_map(Object::as_pod)
            .filter(|p| pod_util::controlled_by(&p.metadata, &uid) && is_active(p))
            .collect();
        let surplus = active.len().saturating_sub(want).min(BURST_REPLICAS);
        if surplus > 0 {
            active.sort_by_cached_key(|p| deletion_rank(p));
        }
        let victims: Vec<String> = active.iter().take(surplus).filter_map(|p| p.metadata.name.clone()).collect();
        (active.len(), victims)
    };
    for _ in 0..want.saturating_sub(n_active).min(BURST_REPLICAS) {
        create_pod(cluster, &rs);
    }
    for name in victims {
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
    update_status(cluster, key)
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

fn update_status(cluster: &mut Cluster, key: &ObjectKey) -> Option<SimDuration> {
    let mut rs = cluster.get(key)?.as_replica_set()?.clone();
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let selector = Selector::from_label_selector(&rs.spec.selector).unwrap_or_default();
    let min_ready = rs.spec.min_ready_seconds.unwrap_or(0);
    let now = cluster.now;
    let (mut replicas, mut labeled, mut ready, mut available) = (0, 0, 0, 0);
    for p in cluster.store.dependents(&uid).filter_map(Object::as_pod) {
        if !pod_util::controlled_by(&p.metadata, &uid) || !is_active(p) {
            continue;
        }
        replicas += 1;
        labeled += i32::from(selector.matches(p.metadata.labels.as_ref()));
        ready += i32::from(is_ready(p));
        available += i32::from(is_available(p, min_ready, now));
    }
    rs.status = Some(ReplicaSetStatus {
        replicas,
        fully_labeled_replicas: Some(labeled),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        terminating_replicas: None,
        observed_generation: rs.metadata.generation,
        conditions: None,
    });
    cluster.update(Object::ReplicaSet(rs));
    // Pods that are ready but not yet available (minReadySeconds) become available later.
    (ready != available).then(|| SimDuration::from_secs(1))
}
