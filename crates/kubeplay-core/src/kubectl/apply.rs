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
            let merged = merge_applied(cluster, existing, object, last_applied);
            cluster.update(merged);
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
/// annotations replace the old; status, uid and timestamps stay. (kubectl does a three-way
/// strategic merge; replacing the spec is the same for fields the manifest sets.)
fn merge_applied(cluster: &mut Cluster, existing: Object, mut desired: Object, last_applied: String) -> Object {
    crate::defaults::apply(cluster, &mut desired);
    let old_meta = existing.meta().clone();
    let mut merged = match (existing, desired) {
        (Object::Deployment(mut old), Object::Deployment(new)) => {
            old.spec = new.spec;
            Object::Deployment(old)
        }
        (Object::ReplicaSet(mut old), Object::ReplicaSet(new)) => {
            old.spec = new.spec;
            Object::ReplicaSet(old)
        }
        (Object::Service(mut old), Object::Service(mut new)) => {
            // Allocated addresses survive an apply that does not set them.
            if let (Some(o), Some(n)) = (old.spec.as_ref(), new.spec.as_mut()) {
                n.cluster_ip = o.cluster_ip.clone();
                n.cluster_ips = o.cluster_ips.clone();
            }
            old.spec = new.spec;
            Object::Service(old)
        }
        (Object::Pod(old), Object::Pod(_)) => Object::Pod(old),
        (_, other) => other,
    };
    let meta = merged.meta_mut();
    meta.uid = old_meta.uid;
    meta.creation_timestamp = old_meta.creation_timestamp;
    let mut annotations = meta.annotations.take().unwrap_or_default();
    annotations.insert(LAST_APPLIED.into(), last_applied);
    meta.annotations = Some(annotations);
    merged
}

