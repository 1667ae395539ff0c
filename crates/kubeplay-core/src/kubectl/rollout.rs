//! `kubectl rollout status|history|undo|restart|pause|resume` for Deployments, DaemonSets and
//! StatefulSets, with kubectl 1.37's messages (`polymorphichelpers`). `status` watches: it
//! prints each new progress line as virtual time passes and returns at success, at the
//! progress deadline, or at `--timeout` (an hour of virtual time when none is given).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::args::{resolve, ArgWalker};
use super::describe::pod_template_raw;
use super::tabwriter::TabWriter;
use super::Output;
use crate::api::{kinds::KindInfo, Object, ObjectKey};
use crate::sim::Cluster;
use crate::time::SimDuration;

const USAGE: &str = "error: required resource not specified\n";
const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
/// Annotations a rollback keeps from the Deployment rather than restoring from the ReplicaSet.
const ANNOTATIONS_TO_SKIP: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

struct Target {
    info: &'static KindInfo,
    key: ObjectKey,
}

pub(super) fn rollout(cluster: &mut Cluster, args: &[String]) -> Output {
    let Some(verb) = args.first().map(String::as_str) else {
        return Output::err("error: Required subcommand: one of history, pause, restart, resume, status, undo\n");
    };
    let mut namespace = "default".to_string();
    let mut positional = Vec::new();
    let mut revision: i64 = 0;
    let mut timeout: Option<SimDuration> = None;
    let mut watch = true;
    let mut walker = ArgWalker::new(&args[1..]);
    while let Some(arg) = walker.next_arg() {
        match arg.name {
            "-n" | "--namespace" => namespace = walker.value(&arg).unwrap_or_default(),
            "--revision" | "--to-revision" => match walker.value(&arg).ok().and_then(|v| v.parse().ok()) {
                Some(r) => revision = r,
                None => return Output::err(format!("error: invalid argument for {}\n", arg.name)),
            },
            "--timeout" => match walker.value(&arg).ok().and_then(|v| SimDuration::parse(&v)) {
                Some(t) => timeout = Some(t),
                None => return Output::err("error: invalid argument for --timeout\n"),
            },
            "-w" | "--watch" => watch = arg.inline != Some("false"),
            name if name.starts_with('-') => {
                return Output::err(format!("error: unknown flag: {name}\nSee 'kubectl rollout {verb} --help' for usage.\n"))
            }
            name => positional.push(name.to_string()),
        }
    }
    let targets = match targets(&positional, &namespace) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let mut out = Output::ok("");
    for t in &targets {
        let Some(object) = cluster.get(&t.key).cloned() else {
            out.ok = false;
            out.text.push_str(&format!("Error from server (NotFound): {} \"{}\" not found\n", t.info.qualified_plural(), t.key.name));
            continue;
        };
        let resource = t.info.qualified_plural();
        let not_supported = |what: &str| format!("error: {resource} {:?} {what} is not supported\n", t.key.name);
        if !matches!(t.info.kind, "Deployment" | "DaemonSet" | "StatefulSet") {
            // kubectl's polymorphic helpers name the GroupKind (`Service`, `ReplicaSet.apps`).
            let group_kind = if t.info.group.is_empty() { t.info.kind.to_string() } else { format!("{}.{}", t.info.kind, t.info.group) };
            let message = match verb {
                "status" => format!("error: no status viewer has been implemented for {group_kind}\n"),
                "history" => format!("error: no history viewer has been implemented for {group_kind:?}\n"),
                "undo" => format!("error: no rollbacker has been implemented for {group_kind:?}\n"),
                "restart" => not_supported("restarting"),
                "pause" => not_supported("pausing"),
                "resume" => not_supported("resuming"),
                other => format!("error: unknown command \"{other}\" for \"kubectl rollout\"\n"),
            };
            out.ok = false;
            out.text.push_str(&message);
            continue;
        }
        let label = format!("{}/{}", t.info.qualified_singular(), t.key.name);
        let result = match verb {
            "status" => status(cluster, t, timeout, watch),
            "history" => history(cluster, t, &object, revision).map(|h| format!("{label} {h}")),
            "undo" => undo(cluster, t, &object, revision).map(|m| format!("{label} {m}\n")),
            "restart" => restart(cluster, &object)
                .map(|()| format!("{label} restarted\n"))
                .map_err(|e| format!("error: {resource} {:?} {e}\n", t.key.name)),
            "pause" | "resume" => pause(cluster, &object, verb == "pause")
                .map(|m| format!("{label} {m}\n"))
                .map_err(|e| format!("error: {resource} {:?} {e}\n", t.key.name)),
            other => {
                return Output::err(format!("error: unknown command \"{other}\" for \"kubectl rollout\"\n"));
            }
        };
        match result {
            Ok(text) => out.text.push_str(&text),
            Err(text) => {
                out.ok = false;
                out.text.push_str(&text);
            }
        }
    }
    cluster.settle();
    out
}

fn targets(positional: &[String], namespace: &str) -> Result<Vec<Target>, Output> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < positional.len() {
        let (ty, name) = match positional[i].split_once('/') {
            Some((ty, name)) => (ty.to_string(), name.to_string()),
            None => {
                let Some(name) = positional.get(i + 1) else {
                    return Err(Output::err(USAGE));
                };
                i += 1;
                (positional[i - 1].clone(), name.clone())
            }
        };
        let info = resolve(&ty)?;
        out.push(Target { info, key: ObjectKey::new(info.kind, namespace, &name) });
        i += 1;
    }
    if out.is_empty() {
        return Err(Output::err(USAGE));
    }
    Ok(out)
}

/// `StatusViewer.Status`: (message, done) or the error kubectl prints.
fn status_line(cluster: &Cluster, key: &ObjectKey) -> Result<(String, bool), String> {
    let Some(object) = cluster.get(key) else {
        return Err(format!("error: object {:?} was deleted\n", key.name));
    };
    let generation = object.meta().generation.unwrap_or(0);
    let name = &key.name;
    match object {
        Object::Deployment(d) => {
            let st = d.status.clone().unwrap_or_default();
            if generation > st.observed_generation.unwrap_or(0) {
                return Ok(("Waiting for deployment spec update to be observed...\n".into(), false));
            }
            let timed_out = st
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_.as_deref() == Some("Progressing") && c.reason.as_deref() == Some("ProgressDeadlineExceeded"));
            if timed_out {
                return Err(format!("error: deployment {name:?} exceeded its progress deadline\n"));
            }
            let (replicas, updated, total, available) = (
                d.spec.replicas.unwrap_or(1),
                st.updated_replicas.unwrap_or(0),
                st.replicas.unwrap_or(0),
                st.available_replicas.unwrap_or(0),
            );
            Ok(if updated < replicas {
                (format!("Waiting for deployment {name:?} rollout to finish: {updated} out of {replicas} new replicas have been updated...\n"), false)
            } else if total > updated {
                (
                    format!(
                        "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...\n",
                        total - updated
                    ),
                    false,
                )
            } else if available < updated {
                (
                    format!(
                        "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available...\n"
                    ),
                    false,
                )
            } else {
                (format!("deployment {name:?} successfully rolled out\n"), true)
            })
        }
        Object::DaemonSet(ds) => {
            if ds.spec.update_strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("OnDelete") {
                return Err("error: rollout status is only available for RollingUpdate strategy type\n".into());
            }
            let st = ds.status.clone().unwrap_or_default();
            if generation > st.observed_generation.unwrap_or(0) {
                return Ok(("Waiting for daemon set spec update to be observed...\n".into(), false));
            }
            let (desired, updated, available) =
                (st.desired_number_scheduled, st.updated_number_scheduled.unwrap_or(0), st.number_available.unwrap_or(0));
            Ok(if updated < desired {
                (
                    format!(
                        "Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated...\n"
                    ),
                    false,
                )
            } else if available < desired {
                (
                    format!("Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available...\n"),
                    false,
                )
            } else {
                (format!("daemon set {name:?} successfully rolled out\n"), true)
            })
        }
        Object::StatefulSet(sts) => {
            let spec = sts.spec.clone();
            let strategy = spec.update_strategy.clone().unwrap_or_default();
            if strategy.type_.as_deref() == Some("OnDelete") {
                return Err("error: rollout status is only available for RollingUpdate strategy type\n".into());
            }
            let st = sts.status.clone().unwrap_or_default();
            let observed = st.observed_generation.unwrap_or(0);
            if observed == 0 || generation > observed {
                return Ok(("Waiting for statefulset spec update to be observed...\n".into(), false));
            }
            let replicas = spec.replicas.unwrap_or(1);
            let ready = st.ready_replicas.unwrap_or(0);
            if ready < replicas {
                return Ok((format!("Waiting for {} pods to be ready...\n", replicas - ready), false));
            }
            let updated = st.updated_replicas.unwrap_or(0);
            if let Some(partition) = strategy.rolling_update.as_ref().and_then(|r| r.partition) {
                if updated < replicas - partition {
                    return Ok((
                        format!(
                            "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...\n",
                            replicas - partition
                        ),
                        false,
                    ));
                }
                return Ok((format!("partitioned roll out complete: {updated} new pods have been updated...\n"), true));
            }
            let (update, current) = (st.update_revision.clone().unwrap_or_default(), st.current_revision.clone().unwrap_or_default());
            Ok(if update != current {
                (format!("waiting for statefulset rolling update to complete {updated} pods at revision {update}...\n"), false)
            } else {
                (format!("statefulset rolling update complete {} pods at revision {current}...\n", st.current_replicas.unwrap_or(0)), true)
            })
        }
        _ => Err(format!("error: no status viewer has been implemented for {}\n", object.info().kind)),
    }
}

fn status(cluster: &mut Cluster, t: &Target, timeout: Option<SimDuration>, watch: bool) -> Result<String, String> {
    cluster.settle();
    let limit = timeout.unwrap_or(SimDuration::from_secs(3600));
    let deadline = cluster.now().plus(limit);
    let mut text = String::new();
    let mut last: Option<String> = None;
    loop {
        let (line, done) = match status_line(cluster, &t.key) {
            Ok(s) => s,
            Err(e) => return Err(format!("{text}{e}")),
        };
        if last.as_deref() != Some(line.as_str()) {
            text.push_str(&line);
            last = Some(line.clone());
        }
        if done || !watch {
            return Ok(text);
        }
        let left = deadline.since(cluster.now());
        if left == SimDuration(0) {
            return Err(format!("{text}error: timed out waiting for the condition\n"));
        }
        // Wait for the next change to what status reports.
        let key = t.key.clone();
        let changed = cluster.run_while(left, |c| status_line(c, &key) != Ok((line.clone(), done)));
        if !changed {
            return Err(format!("{text}error: timed out waiting for the condition\n"));
        }
    }
}

/// Revision → (template, change cause) for the workload.
/// Each revision's template and the annotations of the object that records it.
fn revisions(cluster: &Cluster, object: &Object) -> BTreeMap<i64, (PodTemplateSpec, BTreeMap<String, String>)> {
    let uid = object.meta().uid.clone().unwrap_or_default();
    let mut out = BTreeMap::new();
    for dependent in cluster.store().dependents(&uid) {
        match dependent {
            Object::ReplicaSet(rs) => {
                let annotations = rs.metadata.annotations.clone().unwrap_or_default();
                if let Some(r) = annotations.get(REVISION).and_then(|r| r.parse().ok()) {
                    out.insert(r, (rs.spec.template.clone().unwrap_or_default(), annotations));
                }
            }
            Object::Stored(s) if s.info.kind == "ControllerRevision" => {
                let Some(r) = s.body.get("revision").and_then(serde_json::Value::as_i64) else { continue };
                let template = s.body.get("data").and_then(|d| d.get("spec")).and_then(|d| d.get("template")).cloned();
                let template: PodTemplateSpec = template.and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default();
                out.insert(r, (template, s.metadata.annotations.clone().unwrap_or_default()));
            }
            _ => {}
        }
    }
    out
}

fn history(cluster: &Cluster, t: &Target, object: &Object, revision: i64) -> Result<String, String> {
    let all = revisions(cluster, object);
    if all.is_empty() {
        return Ok("No rollout history found.\n".into());
    }
    if revision > 0 {
        let Some((template, _)) = all.get(&revision) else {
            return Err("error: unable to find the specified revision\n".into());
        };
        return Ok(format!("with revision #{revision}\n{}\n", pod_template_raw(template)));
    }
    let _ = t;
    let mut w = TabWriter::default();
    w.write("REVISION\tCHANGE-CAUSE\n");
    for (r, (_, annotations)) in &all {
        w.write(&format!("{r}\t{}\n", annotations.get(CHANGE_CAUSE).map_or("<none>", String::as_str)));
    }
    Ok(format!("\n{}\n", w.finish()))
}

/// The template without the labels controllers add to it.
fn without_hash(mut template: PodTemplateSpec) -> PodTemplateSpec {
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove("pod-template-hash");
        labels.remove("controller-revision-hash");
    }
    template
}

fn undo(cluster: &mut Cluster, t: &Target, object: &Object, to: i64) -> Result<String, String> {
    let all = revisions(cluster, object);
    let chosen = if to > 0 {
        all.get(&to).cloned().map(|c| (to, c)).ok_or_else(|| format!("error: unable to find specified revision {to} in history\n"))?
    } else {
        // The previous revision: the second newest.
        let mut newest: Vec<(&i64, _)> = all.iter().collect();
        newest.sort_by(|a, b| b.0.cmp(a.0));
        match newest.get(1) {
            Some((r, c)) => (**r, (*c).clone()),
            None if t.info.kind == "Deployment" => {
                return Err(format!("error: no rollout history found for deployment {:?}\n", t.key.name))
            }
            None => return Err("error: no last revision to roll back to\n".into()),
        }
    };
    let (revision, (template, recorded)) = chosen;
    let template = without_hash(template);
    let mut updated = object.clone();
    if let Object::Deployment(d) = &mut updated {
        // kubectl restores the revision's annotations too (so its change-cause comes back),
        // keeping the ones the Deployment owns.
        let current = d.metadata.annotations.take().unwrap_or_default();
        let mut annotations: BTreeMap<String, String> =
            current.into_iter().filter(|(k, _)| ANNOTATIONS_TO_SKIP.contains(&k.as_str())).collect();
        annotations.extend(recorded.into_iter().filter(|(k, _)| !ANNOTATIONS_TO_SKIP.contains(&k.as_str())));
        d.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    }
    let current = match &mut updated {
        Object::Deployment(d) => {
            if d.spec.paused == Some(true) {
                return Err(
                    "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again\n".into(),
                );
            }
            &mut d.spec.template
        }
        Object::DaemonSet(ds) => &mut ds.spec.template,
        Object::StatefulSet(sts) => &mut sts.spec.template,
        _ => return Err("error: no rollbacker has been implemented\n".into()),
    };
    if without_hash(current.clone()) == template {
        return Ok(format!("skipped rollback (current template already matches revision {revision})"));
    }
    *current = template;
    cluster.update(updated);
    Ok("rolled back".into())
}

fn restart(cluster: &mut Cluster, object: &Object) -> Result<(), String> {
    let now = crate::time::to_time(cluster.now()).0.to_string();
    let mut updated = object.clone();
    let template = match &mut updated {
        Object::Deployment(d) => {
            if d.spec.paused == Some(true) {
                return Err("can't restart paused deployment (run rollout resume first)".into());
            }
            &mut d.spec.template
        }
        Object::DaemonSet(ds) => &mut ds.spec.template,
        Object::StatefulSet(sts) => &mut sts.spec.template,
        _ => return Err("restarting is not supported".into()),
    };
    template
        .metadata
        .get_or_insert_with(Default::default)
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert("kubectl.kubernetes.io/restartedAt".into(), now);
    cluster.update(updated);
    Ok(())
}

fn pause(cluster: &mut Cluster, object: &Object, pause: bool) -> Result<String, String> {
    let Object::Deployment(d) = object else {
        return Err(if pause { "pausing is not supported" } else { "resuming is not supported" }.into());
    };
    let paused = d.spec.paused == Some(true);
    if paused == pause {
        return Err(if pause { "is already paused" } else { "is not paused" }.into());
    }
    let mut d = d.clone();
    d.spec.paused = pause.then_some(true);
    cluster.update(Object::from(*d));
    Ok(if pause { "paused" } else { "resumed" }.into())
}
