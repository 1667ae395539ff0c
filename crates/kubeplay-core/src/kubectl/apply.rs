//! `kubectl apply -f` and `kubectl create -f`.

use super::args::{namespace_exists, Flags};
use super::{Files, Output};
use crate::api::Object;
use crate::cluster::Cluster;
use crate::manifest;

pub(super) fn apply(cluster: &mut Cluster, files: &dyn Files, flags: &Flags, create_only: bool) -> Output {
    let verb = if create_only { "create" } else { "apply" };
    if flags.files.is_empty() {
        return Output::err(format!("error: must specify one of -f and -k\n\nSee 'kubectl {verb} -h' for help and examples\n"));
    }
    let mut out = String::new();
    let mut errors = String::new();
    for name in &flags.files {
        let Some(text) = files.read(name) else {
            errors.push_str(&format!("error: the path \"{name}\" does not exist\n"));
            continue;
        };
        let parsed = manifest::parse(name, &text);
        for po in parsed.objects {
            let info = po.object.info();
            // The API server's warnings reach kubectl as `Warning:` lines; ours says what
            // kubeplay does not simulate, so nobody mistakes "created" for "running".
            let notice = (!info.is_simulated()).then(|| format!("Warning: kubeplay: {} {:?} is stored, not simulated yet\n", info.kind, po.object.name()));
            match apply_one(cluster, po.object, flags, create_only, name) {
                Ok(line) => {
                    out.push_str(&notice.unwrap_or_default());
                    out.push_str(&line);
                }
                Err(e) => errors.push_str(&e),
            }
        }
        for r in parsed.rejected {
            errors.push_str(&r.kubectl_error);
            errors.push('\n');
        }
    }
    cluster.settle();
    let ok = errors.is_empty();
    out.push_str(&errors);
    Output { text: out, ok }
}

fn apply_one(cluster: &mut Cluster, mut object: Object, flags: &Flags, create_only: bool, file: &str) -> Result<String, String> {
    let info = object.info();
    if info.namespaced {
        let ns = object.meta().namespace.clone().or(flags.namespace.clone()).unwrap_or_else(|| "default".into());
        if let (Some(in_file), Some(flag)) = (object.meta().namespace.as_deref(), flags.namespace.as_deref()) {
            if in_file != flag {
                return Err(format!("error: the namespace from the provided object \"{in_file}\" does not match the namespace \"{flag}\". You must pass '--namespace={in_file}' to perform this operation.\n"));
            }
        }
        if !namespace_exists(cluster, &ns) {
            return Err(format!("Error from server (NotFound): error when creating \"{file}\": namespaces \"{ns}\" not found\n"));
        }
        object.meta_mut().namespace = Some(ns);
    } else {
        object.meta_mut().namespace = None;
    }
    let label = format!("{}/{}", info.qualified_singular(), object.name());
    let key = object.key();
    let last_applied = last_applied_configuration(&object);
    match cluster.get(&key).cloned() {
        None => {
            if !create_only {
                object
                    .meta_mut()
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(LAST_APPLIED.into(), last_applied);
            }
            cluster.create(object);
            Ok(format!("{label} created\n"))
        }
        Some(_) if create_only => Err(format!(
            "Error from server (AlreadyExists): error when creating \"{file}\": {} \"{}\" already exists\n",
            info.qualified_plural(),
            key.name
        )),
        Some(existing) => {
            let previous = existing.meta().annotations.as_ref().and_then(|a| a.get(LAST_APPLIED)).cloned();
            if previous.as_deref() == Some(last_applied.as_str()) {
                return Ok(format!("{label} unchanged\n"));
            }
            let (merged, restarts) = merge_applied(cluster, existing, object, last_applied)?;
            let pod_key = merged.key();
            cluster.update(merged);
            if !restarts.is_empty() {
                crate::kubelet::restart_containers(cluster, &pod_key, &restarts);
            }
            Ok(format!("{label} configured\n"))
        }
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The JSON kubectl records of what was applied: the manifest as given, keys sorted.
fn last_applied_configuration(object: &Object) -> String {
    let mut value = object.to_json();
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        if let Some(ann) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
            ann.remove(LAST_APPLIED);
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    format!("{}\n", serde_json::to_string(&value).unwrap_or_default())
}

/// Applies a changed manifest over the live object: the new spec (defaulted), labels and
/// annotations replace the old; status, uid, timestamps and allocated addresses stay.
/// (kubectl does a three-way strategic merge; replacing the spec is the same for fields the
/// manifest sets.) Pods accept only image changes, which restart those containers.
fn merge_applied(cluster: &mut Cluster, existing: Object, mut desired: Object, last_applied: String) -> Result<(Object, Vec<usize>), String> {
    if let (Object::Service(old), Object::Service(new)) = (&existing, &mut desired) {
        keep_allocations(old, new);
    }
    crate::defaults::apply(cluster, &mut desired);
    let old_meta = existing.meta().clone();
    let labels = desired.meta().labels.clone();
    let mut annotations = desired.meta().annotations.clone().unwrap_or_default();
    let mut restarts = Vec::new();
    let mut merged = match (existing, desired) {
        (Object::Deployment(mut old), Object::Deployment(new)) => {
            old.spec = new.spec;
            Object::Deployment(old)
        }
        (Object::ReplicaSet(mut old), Object::ReplicaSet(new)) => {
            old.spec = new.spec;
            Object::ReplicaSet(old)
        }
        (Object::Service(mut old), Object::Service(new)) => {
            old.spec = new.spec;
            Object::Service(old)
        }
        (Object::Pod(mut old), Object::Pod(new)) => {
            restarts = pod_update(&mut old, new)?;
            Object::Pod(old)
        }
        (_, mut other) => {
            other.meta_mut().generation = old_meta.generation;
            other
        }
    };
    let meta = merged.meta_mut();
    meta.uid = old_meta.uid.clone();
    meta.creation_timestamp = old_meta.creation_timestamp;
    meta.labels = labels;
    annotations.insert(LAST_APPLIED.into(), last_applied);
    meta.annotations = Some(annotations);
    Ok((merged, restarts))
}

/// A Service keeps its ClusterIP and node ports across applies that do not set them.
fn keep_allocations(old: &k8s_openapi::api::core::v1::Service, new: &mut k8s_openapi::api::core::v1::Service) {
    let (Some(o), Some(n)) = (old.spec.as_ref(), new.spec.as_mut()) else { return };
    if n.cluster_ip.is_none() && n.type_.as_deref() != Some("ExternalName") {
        n.cluster_ip = o.cluster_ip.clone();
        n.cluster_ips = o.cluster_ips.clone();
    }
    for port in n.ports.iter_mut().flatten() {
        if port.node_port.is_none() {
            port.node_port = o.ports.iter().flatten().find(|p| p.port == port.port && p.name == port.name).and_then(|p| p.node_port);
        }
    }
}

/// A Pod spec without the ServiceAccount token volume admission added (its name is random,
/// so the re-defaulted manifest always differs there).
fn without_token(mut spec: k8s_openapi::api::core::v1::PodSpec) -> k8s_openapi::api::core::v1::PodSpec {
    let is_token = |name: &str| name.starts_with("kube-api-access-");
    if let Some(volumes) = spec.volumes.as_mut() {
        volumes.retain(|v| !is_token(&v.name));
    }
    for c in &mut spec.containers {
        if let Some(mounts) = c.volume_mounts.as_mut() {
            mounts.retain(|m| !is_token(&m.name));
        }
    }
    spec
}

const POD_UPDATE_FORBIDDEN: &str = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `ValidatePodUpdate`: only container images may change (of what we model). Returns the
/// containers whose image changed.
fn pod_update(old: &mut k8s_openapi::api::core::v1::Pod, new: k8s_openapi::api::core::v1::Pod) -> Result<Vec<usize>, String> {
    let name = old.metadata.name.clone().unwrap_or_default();
    let (Some(old_spec), Some(mut new_spec)) = (old.spec.clone(), new.spec) else { return Ok(Vec::new()) };
    new_spec.node_name = old_spec.node_name.clone();
    let mut changed = Vec::new();
    if new_spec.containers.len() == old_spec.containers.len() {
        for (i, (n, o)) in new_spec.containers.iter_mut().zip(&old_spec.containers).enumerate() {
            if n.image != o.image {
                changed.push((i, n.image.clone()));
                n.image = o.image.clone();
                n.image_pull_policy = o.image_pull_policy.clone();
            }
        }
    }
    if without_token(new_spec) != without_token(old_spec.clone()) {
        return Err(format!("The Pod {name:?} is invalid: {POD_UPDATE_FORBIDDEN}\n"));
    }
    let spec = old.spec.get_or_insert_with(Default::default);
    for (i, image) in &changed {
        if let Some(c) = spec.containers.get_mut(*i) {
            c.image = image.clone();
        }
    }
    Ok(changed.into_iter().map(|(i, _)| i).collect())
}

