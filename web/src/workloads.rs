//! The workloads the playground lists above the nodes: each Deployment, DaemonSet,
//! StatefulSet, Job and CronJob with the numbers that explain what it is doing — a rollout's
//! new and old ReplicaSets and the surge and unavailability budgets that decide its next step,
//! a StatefulSet's ordinals in order, a Job's progress, a CronJob's next run — and the Pods it
//! owns (pointing at one outlines them).

use std::rc::Rc;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubeplay_core::api::{pod_util, Object};
use kubeplay_core::time::from_time;
use kubeplay_core::Cluster;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadView {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    /// The headline: `3/3 ready`, `2/5 succeeded`, `next run in 42s`.
    pub summary: String,
    /// What decides the next step (a rollout's budgets, ordinals, active Jobs), or empty.
    pub detail: String,
    /// `ok`, `progressing` or `failed`.
    pub state: &'static str,
    /// The uids of its Pods.
    pub pods: Rc<[String]>,
}

/// `maxSurge` (rounded up) or `maxUnavailable` (rounded down) of `replicas`.
fn resolve(v: Option<&IntOrString>, replicas: i32, up: bool) -> i32 {
    match v {
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => {
            let p: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            let scaled = p * i64::from(replicas);
            (if up { (scaled + 99) / 100 } else { scaled / 100 }) as i32
        }
        None => 0,
    }
}

fn pods_of(cluster: &Cluster, owners: &[String]) -> Vec<String> {
    let mut pods: Vec<String> = owners
        .iter()
        .flat_map(|uid| cluster.store().dependent_keys(uid).filter(|k| k.kind == "Pod"))
        .filter_map(|k| cluster.store().pod_view(k)?.uid().map(str::to_string))
        .collect();
    pods.sort();
    pods
}

pub fn build(cluster: &Cluster) -> Vec<WorkloadView> {
    let store = cluster.store();
    let now = cluster.now();
    let mut out = Vec::new();
    for o in store.list("Deployment", None) {
        let Some(d) = o.as_deployment() else { continue };
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let replicas = d.spec.replicas.unwrap_or(1);
        let st = d.status.clone().unwrap_or_default();
        let sets: Vec<_> = store.dependents(&uid).filter_map(Object::as_replica_set).collect();
        let owners: Vec<String> = sets.iter().filter_map(|rs| rs.metadata.uid.clone()).collect();
        let hash = |rs: &k8s_openapi::api::apps::v1::ReplicaSet| rs.metadata.name.clone().unwrap_or_default();
        let new = sets.iter().find(|rs| kubeplay_core::controllers::same_template(rs, &d.spec.template));
        let old: Vec<_> = sets.iter().filter(|rs| rs.spec.replicas.unwrap_or(0) > 0 && Some(rs) != new.as_ref()).collect();
        let available = st.available_replicas.unwrap_or(0);
        let rolling = !old.is_empty();
        let detail = match (new, rolling) {
            (Some(new), true) => {
                let ru = d.spec.strategy.as_ref().and_then(|s| s.rolling_update.clone()).unwrap_or_default();
                let recreate = d.spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
                let total: i32 = sets.iter().map(|rs| rs.spec.replicas.unwrap_or(0)).sum();
                let old_count: i32 = old.iter().map(|rs| rs.spec.replicas.unwrap_or(0)).sum();
                if recreate {
                    format!("Recreate: old {old_count} going to 0 before new {} starts", hash(new))
                } else {
                    let surge = resolve(ru.max_surge.as_ref(), replicas, true);
                    let unavailable = resolve(ru.max_unavailable.as_ref(), replicas, false);
                    format!(
                        "new {} {}/{replicas} · old {old_count} · room to add {} (maxSurge {surge}) · room to remove {} (maxUnavailable {unavailable})",
                        hash(new),
                        new.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0),
                        (replicas + surge - total).max(0),
                        (available - (replicas - unavailable)).max(0)
                    )
                }
            }
            _ => String::new(),
        };
        out.push(WorkloadView {
            kind: "Deployment",
            name: o.name().to_string(),
            namespace: o.namespace().to_string(),
            summary: format!("{}/{replicas} ready", st.ready_replicas.unwrap_or(0)),
            detail,
            state: if rolling || available < replicas { "progressing" } else { "ok" },
            pods: pods_of(cluster, &owners).into(),
        });
    }
    for o in store.list("DaemonSet", None) {
        let Some(ds) = o.as_daemon_set() else { continue };
        let st = ds.status.clone().unwrap_or_default();
        let updated = st.updated_number_scheduled.unwrap_or(0);
        out.push(WorkloadView {
            kind: "DaemonSet",
            name: o.name().to_string(),
            namespace: o.namespace().to_string(),
            summary: format!("{}/{} nodes ready", st.number_ready, st.desired_number_scheduled),
            detail: if updated < st.desired_number_scheduled {
                format!("{updated} of {} updated", st.desired_number_scheduled)
            } else {
                String::new()
            },
            state: if st.number_ready < st.desired_number_scheduled || updated < st.desired_number_scheduled {
                "progressing"
            } else {
                "ok"
            },
            pods: pods_of(cluster, &[ds.metadata.uid.clone().unwrap_or_default()]).into(),
        });
    }
    for o in store.list("StatefulSet", None) {
        let Some(sts) = o.as_stateful_set() else { continue };
        let uid = sts.metadata.uid.clone().unwrap_or_default();
        let replicas = sts.spec.replicas.unwrap_or(1);
        let st = sts.status.clone().unwrap_or_default();
        let mut ordinals: Vec<(i64, String)> = store
            .dependents(&uid)
            .filter_map(Object::as_pod)
            .filter_map(|p| {
                let name = p.metadata.name.clone()?;
                let i: i64 = name.rsplit('-').next()?.parse().ok()?;
                let mark = if p.metadata.deletion_timestamp.is_some() {
                    "×"
                } else if pod_util::is_ready(p) {
                    "✓"
                } else {
                    "…"
                };
                Some((i, format!("{i}{mark}")))
            })
            .collect();
        ordinals.sort();
        let ready = st.ready_replicas.unwrap_or(0);
        out.push(WorkloadView {
            kind: "StatefulSet",
            name: o.name().to_string(),
            namespace: o.namespace().to_string(),
            summary: format!("{ready}/{replicas} ready"),
            detail: ordinals.into_iter().map(|(_, s)| s).collect::<Vec<_>>().join(" "),
            state: if ready < replicas || st.updated_replicas.unwrap_or(0) < replicas { "progressing" } else { "ok" },
            pods: pods_of(cluster, &[uid]).into(),
        });
    }
    for o in store.list("Job", None) {
        let Some(job) = o.as_job() else { continue };
        let spec = job.spec.clone().unwrap_or_default();
        let st = job.status.clone().unwrap_or_default();
        let has = |ty: &str| st.conditions.iter().flatten().any(|c| c.type_ == ty && c.status == "True");
        let state = if has("Failed") || has("FailureTarget") {
            "failed"
        } else if has("Complete") {
            "ok"
        } else {
            "progressing"
        };
        let target = spec.completions.map_or_else(|| "1".to_string(), |c| c.to_string());
        out.push(WorkloadView {
            kind: "Job",
            name: o.name().to_string(),
            namespace: o.namespace().to_string(),
            summary: format!("{}/{target} succeeded", st.succeeded.unwrap_or(0)),
            detail: format!("{} active · {} failed", st.active.unwrap_or(0), st.failed.unwrap_or(0)),
            state,
            pods: pods_of(cluster, &[job.metadata.uid.clone().unwrap_or_default()]).into(),
        });
    }
    for o in store.list("CronJob", None) {
        let Some(cj) = o.as_cron_job() else { continue };
        let uid = cj.metadata.uid.clone().unwrap_or_default();
        let jobs: Vec<String> = store.dependents(&uid).filter(|j| j.info().kind == "Job").filter_map(|j| j.meta().uid.clone()).collect();
        let offset = cj.spec.time_zone.as_deref().and_then(kubeplay_core::api::cron::offset_of).unwrap_or(0);
        let next = kubeplay_core::api::cron::Schedule::parse(&cj.spec.schedule).ok().and_then(|s| s.next_after(now, offset));
        let summary = match (cj.spec.suspend, next) {
            (Some(true), _) => "suspended".to_string(),
            (_, Some(t)) => {
                let c = t.calendar();
                format!("next run {:04}-{:02}-{:02} {:02}:{:02}", c.year, c.month, c.day, c.hour, c.minute)
            }
            _ => "no next run".to_string(),
        };
        let active = cj.status.as_ref().and_then(|s| s.active.as_ref()).map_or(0, Vec::len);
        let last = cj.status.as_ref().and_then(|s| s.last_schedule_time.as_ref()).map(|t| {
            let c = from_time(t).calendar();
            format!(" · last {:02}:{:02}", c.hour, c.minute)
        });
        out.push(WorkloadView {
            kind: "CronJob",
            name: o.name().to_string(),
            namespace: o.namespace().to_string(),
            summary,
            detail: format!("{} · {active} active{}", cj.spec.schedule, last.unwrap_or_default()),
            state: "ok",
            pods: pods_of(cluster, &jobs).into(),
        });
    }
    out
}
