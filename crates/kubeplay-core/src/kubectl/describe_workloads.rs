//! `kubectl describe daemonset|statefulset|cronjob`, as kubectl 1.37's `describeDaemonSet`,
//! `describeStatefulSet` and `describeCronJob` write them.

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;

use super::columns::selector_string;
use super::describe::{annotations, events, labels, pod_template, rfc1123z};
use super::tabwriter::TabWriter;
use crate::api::{pod_util, Object};
use crate::sim::Cluster;

/// `getPodStatusForController`: the owner's Pods by phase (Running, Pending, Succeeded, Failed).
fn pod_phases(cluster: &Cluster, uid: Option<&str>) -> String {
    let (mut running, mut waiting, mut succeeded, mut failed) = (0, 0, 0, 0);
    for pod in cluster.store().dependents(uid.unwrap_or("")).filter_map(Object::as_pod) {
        match pod_util::phase(pod) {
            "Running" => running += 1,
            "Pending" => waiting += 1,
            "Succeeded" => succeeded += 1,
            "Failed" => failed += 1,
            _ => {}
        }
    }
    format!("Pods Status:\t{running} Running / {waiting} Waiting / {succeeded} Succeeded / {failed} Failed\n")
}

pub(super) fn daemon_set(cluster: &Cluster, ds: &DaemonSet) -> String {
    let mut w = TabWriter::default();
    let st = ds.status.clone().unwrap_or_default();
    w.write(&format!("Name:\t{}\n", ds.metadata.name.as_deref().unwrap_or("")));
    w.write(&format!("Namespace:\t{}\n", ds.metadata.namespace.as_deref().unwrap_or("")));
    w.write(&format!("Selector:\t{}\n", selector_string(&ds.spec.selector)));
    let node_selector: Vec<String> =
        ds.spec.template.spec.iter().flat_map(|s| s.node_selector.iter().flatten()).map(|(k, v)| format!("{k}={v}")).collect();
    w.write(&format!("Node-Selector:\t{}\n", if node_selector.is_empty() { "<none>".to_string() } else { node_selector.join(",") }));
    labels(&mut w, "Labels", ds.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", ds.metadata.annotations.as_ref());
    w.write(&format!("Desired Number of Nodes Scheduled: {}\n", st.desired_number_scheduled));
    w.write(&format!("Current Number of Nodes Scheduled: {}\n", st.current_number_scheduled));
    w.write(&format!("Number of Nodes Scheduled with Up-to-date Pods: {}\n", st.updated_number_scheduled.unwrap_or(0)));
    w.write(&format!("Number of Nodes Scheduled with Available Pods: {}\n", st.number_available.unwrap_or(0)));
    w.write(&format!("Number of Nodes Misscheduled: {}\n", st.number_misscheduled));
    w.write(&pod_phases(cluster, ds.metadata.uid.as_deref()));
    pod_template(&mut w, &ds.spec.template);
    events(cluster, &mut w, ds.metadata.uid.as_deref());
    w.finish()
}

pub(super) fn stateful_set(cluster: &Cluster, sts: &StatefulSet) -> String {
    let mut w = TabWriter::default();
    let spec = &sts.spec;
    let st = sts.status.clone().unwrap_or_default();
    w.write(&format!("Name:\t{}\n", sts.metadata.name.as_deref().unwrap_or("")));
    w.write(&format!("Namespace:\t{}\n", sts.metadata.namespace.as_deref().unwrap_or("")));
    w.write(&format!("CreationTimestamp:\t{}\n", sts.metadata.creation_timestamp.as_ref().map(rfc1123z).unwrap_or_default()));
    w.write(&format!("Selector:\t{}\n", selector_string(&spec.selector)));
    labels(&mut w, "Labels", sts.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", sts.metadata.annotations.as_ref());
    if let Some(service) = spec.service_name.as_deref().filter(|s| !s.is_empty()) {
        w.write(&format!("Service Name:\t{service}\n"));
    }
    if let Some(policy) = spec.pod_management_policy.as_deref().filter(|s| !s.is_empty()) {
        w.write(&format!("Pod Management Policy:\t{policy}\n"));
    }
    w.write(&format!("Replicas:\t{} desired | {} total\n", spec.replicas.unwrap_or(1), st.replicas));
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    w.write(&format!("Update Strategy:\t{}\n", strategy.type_.as_deref().unwrap_or("")));
    if let Some(partition) = strategy.rolling_update.as_ref().and_then(|r| r.partition) {
        w.write(&format!("  Partition:\t{partition}\n"));
    }
    if let Some(policy) = &spec.persistent_volume_claim_retention_policy {
        w.write("Persistent Volume Claim Retention Policy:\n");
        w.write(&format!("  WhenDeleted:\t{}\n", policy.when_deleted.as_deref().unwrap_or("")));
        w.write(&format!("  WhenScaled:\t{}\n", policy.when_scaled.as_deref().unwrap_or("")));
    }
    w.write(&pod_phases(cluster, sts.metadata.uid.as_deref()));
    pod_template(&mut w, &spec.template);
    let claims = spec.volume_claim_templates.clone().unwrap_or_default();
    if claims.is_empty() {
        w.write("Volume Claims:\t<none>\n");
    } else {
        w.write("Volume Claims:\n");
        for pvc in &claims {
            let s = pvc.spec.clone().unwrap_or_default();
            w.write(&format!("  Name:\t{}\n", pvc.metadata.name.as_deref().unwrap_or("")));
            w.write(&format!("  StorageClass:\t{}\n", s.storage_class_name.as_deref().unwrap_or("")));
            labels(&mut w, "  Labels", pvc.metadata.labels.as_ref());
            labels(&mut w, "  Annotations", pvc.metadata.annotations.as_ref());
            let capacity = s.resources.as_ref().and_then(|r| r.requests.as_ref()).and_then(|r| r.get("storage")).map(|q| q.0.clone());
            w.write(&format!("  Capacity:\t{}\n", capacity.unwrap_or_else(|| "<default>".into())));
            w.write(&format!("  Access Modes:\t[{}]\n", s.access_modes.unwrap_or_default().join(" ")));
        }
    }
    events(cluster, &mut w, sts.metadata.uid.as_deref());
    w.finish()
}

pub(super) fn cron_job(cluster: &Cluster, cj: &CronJob) -> String {
    let mut w = TabWriter::default();
    let spec = &cj.spec;
    let st = cj.status.clone().unwrap_or_default();
    let unset = |v: Option<String>| v.unwrap_or_else(|| "<unset>".into());
    w.write(&format!("Name:\t{}\n", cj.metadata.name.as_deref().unwrap_or("")));
    w.write(&format!("Namespace:\t{}\n", cj.metadata.namespace.as_deref().unwrap_or("")));
    labels(&mut w, "Labels", cj.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", cj.metadata.annotations.as_ref());
    w.write(&format!("Schedule:\t{}\n", spec.schedule));
    w.write(&format!("Concurrency Policy:\t{}\n", spec.concurrency_policy.as_deref().unwrap_or("")));
    w.write(&format!("Suspend:\t{}\n", unset(spec.suspend.map(|s| if s { "True".into() } else { "False".into() }))));
    w.write(&format!("Time Zone:\t{}\n", unset(spec.time_zone.clone())));
    w.write(&format!("Successful Job History Limit:\t{}\n", unset(spec.successful_jobs_history_limit.map(|n| n.to_string()))));
    w.write(&format!("Failed Job History Limit:\t{}\n", unset(spec.failed_jobs_history_limit.map(|n| n.to_string()))));
    w.write(&format!("Starting Deadline Seconds:\t{}\n", unset(spec.starting_deadline_seconds.map(|n| format!("{n}s")))));
    // `describeJobTemplate`.
    let job = spec.job_template.spec.clone().unwrap_or_default();
    w.write(&format!("Selector:\t{}\n", unset(job.selector.as_ref().map(selector_string))));
    w.write(&format!("Parallelism:\t{}\n", unset(job.parallelism.map(|n| n.to_string()))));
    w.write(&format!("Completions:\t{}\n", unset(job.completions.map(|n| n.to_string()))));
    if let Some(d) = job.active_deadline_seconds {
        w.write(&format!("Active Deadline Seconds:\t{d}s\n"));
    }
    pod_template(&mut w, &job.template);
    w.write(&format!("Last Schedule Time:\t{}\n", unset(st.last_schedule_time.as_ref().map(rfc1123z))));
    let active: Vec<String> = st.active.iter().flatten().filter_map(|r| r.name.clone()).collect();
    w.write(&format!("Active Jobs:\t{}\n", if active.is_empty() { "<none>".to_string() } else { active.join(", ") }));
    events(cluster, &mut w, cj.metadata.uid.as_deref());
    w.finish()
}
