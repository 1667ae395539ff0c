//! `kubectl apply -f` and `kubectl create -f`.

use super::args::{namespace_exists, Flags};
use super::{merge, Files, Output};
use crate::api::Object;
use crate::manifest;
use crate::sim::Cluster;

pub(super) fn apply(cluster: &mut Cluster, files: &dyn Files, flags: &Flags, create_only: bool) -> Output {
    let verb = if create_only { "create" } else { "apply" };
    if flags.files.is_empty() {
        return Output::err(format!("error: must specify one of -f and -k\n\nSee 'kubectl {verb} -h' for help and examples\n"));
    }
    let mut out = String::new();
    // Errors in document order: kubectl meets them object by object.
    let mut errors: Vec<(usize, crate::diag::Position, String)> = Vec::new();
    let mut warned_endpoints = false;
    for (file_index, name) in flags.files.iter().enumerate() {
        let Some(text) = files.read(name) else {
            errors.push((file_index, Default::default(), format!("error: the path \"{name}\" does not exist\n")));
            continue;
        };
        let parsed = manifest::parse(name, &text);
        for _ in &parsed.scheduler_configs {
            out.push_str(&format!("Warning: kubeplay: {}\n", crate::api::scheduler_config::NOTICE));
        }
        for po in parsed.objects {
            let info = po.object.info();
            // The API server's warnings reach kubectl as `Warning:` lines; ours says what
            // kubeplay does not simulate, so nobody mistakes "created" for "running".
            let mut notice = (!info.is_simulated())
                .then(|| format!("Warning: kubeplay: {} {:?} is stored, not simulated yet\n", info.kind, po.object.name()));
            // The API server's deprecation warning, which kubectl prints once per run.
            if info.kind == "Endpoints" && !warned_endpoints {
                warned_endpoints = true;
                notice = Some(format!("{}{ENDPOINTS_DEPRECATED}", notice.unwrap_or_default()));
            }
            match apply_one(cluster, po.object, flags, create_only, name) {
                Ok(line) => {
                    out.push_str(&notice.unwrap_or_default());
                    out.push_str(&line);
                }
                Err(e) => errors.push((file_index, po.position, e)),
            }
        }
        for r in parsed.rejected {
            errors.push((file_index, r.position, format!("{}\n", r.kubectl_error)));
        }
    }
    cluster.settle();
    errors.sort_by_key(|(file, position, _)| (*file, position.line, position.column));
    let ok = errors.is_empty();
    let several = errors.len() > 1;
    for (_, _, e) in errors {
        // An aggregate of several errors prints each bare; a single one gets `error: `.
        out.push_str(if several { e.strip_prefix("error: ").unwrap_or(&e) } else { &e });
    }
    Output { text: out, ok }
}

fn apply_one(cluster: &mut Cluster, mut object: Object, flags: &Flags, create_only: bool, file: &str) -> Result<String, String> {
    let info = object.info();
    // apply needs a name to find the live object by; only create may let the server pick one.
    if !create_only && object.meta().name.as_deref().is_none_or(str::is_empty) {
        if let Some(prefix) = object.meta().generate_name.clone() {
            return Err(format!("error: from {prefix}: cannot use generate name with apply\n"));
        }
    }
    if info.namespaced {
        let ns = object.meta().namespace.clone().or(flags.namespace.clone()).unwrap_or_else(|| "default".into());
        if let (Some(in_file), Some(flag)) = (object.meta().namespace.as_deref(), flags.namespace.as_deref()) {
            if in_file != flag && !flags.namespace_from_context {
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
    // A Binding is not stored: creating one binds its Pod (`pods/binding`).
    if info.kind == "Binding" {
        let target = object.to_json().pointer("/target/name").and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
        return match cluster.bind(&key.namespace, &key.name, &target) {
            Ok(()) => Ok(format!("{label} created\n")),
            Err((reason, message)) => Err(format!("Error from server ({reason}): error when creating \"{file}\": {message}\n")),
        };
    }
    let last_applied = last_applied_configuration(&object);
    let Some(live) = cluster.get(&key).cloned() else {
        if object.meta().resource_version.as_deref().is_some_and(|rv| !rv.is_empty()) {
            return Err(format!("Error from server (BadRequest): error when creating \"{file}\": resourceVersion should not be set on objects to be created\n"));
        }
        if !create_only {
            object.meta_mut().annotations.get_or_insert_with(Default::default).insert(LAST_APPLIED.into(), last_applied);
        }
        let created =
            cluster.create(object).map_err(|e| format!("Error from server (Forbidden): error when creating \"{file}\": {e}\n"))?;
        // A generateName object is named by the API server.
        return Ok(format!("{}/{} created\n", info.qualified_singular(), created.name()));
    };
    if create_only {
        return Err(format!(
            "Error from server (AlreadyExists): error when creating \"{file}\": {} \"{}\" already exists\n",
            info.qualified_plural(),
            key.name
        ));
    }
    let merged = match merged_for_apply(&live, object, &last_applied) {
        Merged::Unchanged => return Ok(format!("{label} unchanged\n")),
        Merged::Invalid(e) => return Err(e),
        Merged::Changed(o) => o,
    };
    let mut out = String::new();
    if live.meta().annotations.as_ref().and_then(|a| a.get(LAST_APPLIED)).is_none() {
        out.push_str(&format!(
            "Warning: resource {}/{} is missing the {LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n",
            info.qualified_plural(),
            key.name
        ));
    }
    // The API server's update strategy defaults and validates the patched object.
    cluster.update_from_client(merged)?;
    out.push_str(&format!("{label} configured\n"));
    Ok(out)
}

/// What applying a manifest to a live object would leave.
pub(super) enum Merged {
    Unchanged,
    Changed(Object),
    Invalid(String),
}

/// kubectl's three-way merge of the last applied configuration, the manifest (with its new
/// last-applied annotation) and the live object; `Unchanged` when the patch would be empty.
pub(super) fn merged_for_apply(live: &Object, mut manifest: Object, last_applied: &str) -> Merged {
    let original: Option<serde_json::Value> =
        live.meta().annotations.as_ref().and_then(|a| a.get(LAST_APPLIED)).and_then(|text| serde_json::from_str(text).ok());
    manifest.meta_mut().annotations.get_or_insert_with(Default::default).insert(LAST_APPLIED.into(), last_applied.to_string());
    let current = live.to_json();
    let merged = merge::three_way(live.info().kind, original.as_ref(), &manifest.to_json(), &current);
    if merged == current {
        return Merged::Unchanged;
    }
    let parsed = manifest::parse_value("", merged);
    match (parsed.objects.into_iter().next(), parsed.rejected.into_iter().next()) {
        (Some(o), _) => Merged::Changed(o.object),
        (None, Some(r)) => Merged::Invalid(format!("{}\n", r.kubectl_error)),
        (None, None) => Merged::Invalid("error: the merged object could not be decoded\n".into()),
    }
}

pub(super) const ENDPOINTS_DEPRECATED: &str = "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n";

pub(super) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The JSON kubectl records of what was applied: the manifest as given, keys sorted.
pub(super) fn last_applied_configuration(object: &Object) -> String {
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
