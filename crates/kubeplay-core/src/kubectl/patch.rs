//! `kubectl patch` (strategic merge, JSON merge and JSON patches) and `kubectl replace -f`
//! (the whole object, as a PUT). The patched object goes through the same decoding,
//! validation and update strategy as an applied one.

use serde_json::Value;

use super::args::{resolve, ArgWalker};
use super::{merge, Files, Output};
use crate::api::{Object, ObjectKey};
use crate::manifest;
use crate::sim::Cluster;

pub(super) fn patch(cluster: &mut Cluster, files: &dyn Files, args: &[String]) -> Output {
    let mut namespace = "default".to_string();
    let (mut patch, mut patch_file, mut kind) = (None, None, "strategic".to_string());
    let mut subresource: Option<String> = None;
    let mut positional = Vec::new();
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        let value = match arg.name {
            "-n" | "--namespace" | "-p" | "--patch" | "--patch-file" | "--type" | "--subresource" => match walker.value(&arg) {
                Ok(v) => v,
                Err(e) => return Output::err(format!("{e}\n")),
            },
            name if name.starts_with('-') && name.len() > 1 => {
                return Output::err(format!("error: unknown flag: {name}\nSee 'kubectl patch --help' for usage.\n"));
            }
            name => {
                positional.push(name.to_string());
                continue;
            }
        };
        match arg.name {
            "-n" | "--namespace" => namespace = value,
            "-p" | "--patch" => patch = Some(value),
            "--patch-file" => patch_file = Some(value),
            "--subresource" => subresource = Some(value),
            _ => kind = value,
        }
    }
    if !matches!(kind.as_str(), "json" | "merge" | "strategic") {
        return Output::err(format!("error: --type must be one of [json merge strategic], not {kind:?}\n"));
    }
    let text = match (patch, patch_file) {
        (Some(_), Some(_)) => return Output::err("error: cannot specify --patch and --patch-file together\n"),
        (None, None) => return Output::err("error: must specify --patch or --patch-file containing the contents of the patch\n"),
        (Some(p), None) => p,
        (None, Some(f)) => match files.read(&f) {
            Some(t) => t,
            None => return Output::err(format!("error: unable to read patch file: open {f}: no such file or directory\n")),
        },
    };
    // kubectl accepts YAML as well as JSON.
    let body = match manifest::yaml::to_json(&text) {
        Ok(v) => v,
        Err(e) => return Output::err(format!("error: unable to parse {text:?}: {}\n", e.message)),
    };
    let (info, name) = match positional.as_slice() {
        [one] if one.contains('/') => {
            let (ty, name) = one.split_once('/').unwrap_or_default();
            (ty.to_string(), name.to_string())
        }
        [ty, name] => (ty.clone(), name.clone()),
        [] => return Output::err("error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'\n"),
        [_] => return Output::err("error: resource(s) were provided, but no name was specified\n"),
        _ => return Output::err("error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form\n"),
    };
    let info = match resolve(&info) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let key = ObjectKey::new(info.kind, if info.namespaced { &namespace } else { "" }, &name);
    let Some(live) = cluster.get(&key).cloned() else {
        return Output::err(format!("Error from server (NotFound): {} {name:?} not found\n", info.qualified_plural()));
    };
    if let Some(sub) = subresource.as_deref().filter(|s| !matches!(*s, "status" | "scale")) {
        return Output::err(format!("error: invalid subresource value: {sub:?}. Must be one of [status scale]\n"));
    }
    let whole = live.to_json();
    // A subresource is patched as its own object: the Scale, or the object whose status
    // alone is kept.
    let current = match subresource.as_deref() {
        Some("scale") => match super::get::scale_object(&live) {
            Some(scale) => scale,
            None => return Output::err("Error from server (NotFound): the server could not find the requested resource\n"),
        },
        _ => whole.clone(),
    };
    let patched = match kind.as_str() {
        "strategic" => merge::strategic(info.kind, &current, &body).map_err(|e| format!("Error from server (BadRequest): {e}\n")),
        "merge" => Ok(merge::json_merge(&current, &body)),
        // The API server answers a JSON patch that does not apply with a bare 422, whose
        // detail kubectl never sees.
        _ => merge::json_patch(&current, &body)
            .map_err(|_| "The request is invalid: the server rejected our request due to an error in our request\n".to_string()),
    };
    let patched = match patched {
        Ok(p) => p,
        Err(e) => return Output::err(e),
    };
    let label = match subresource.as_deref() {
        Some("scale") => format!("scale.autoscaling/{name}"),
        _ => format!("{}/{name}", info.qualified_singular()),
    };
    if patched == current {
        return Output::ok(format!("{label} patched (no change)\n"));
    }
    match subresource.as_deref() {
        Some("scale") => {
            let mut updated = whole;
            updated["spec"]["replicas"] = patched.pointer("/spec/replicas").cloned().unwrap_or(Value::Null);
            return match store(cluster, updated) {
                Ok(()) => Output::ok(format!("{label} patched\n")),
                Err(e) => Output::err(e),
            };
        }
        Some("status") => {
            // Writes through /status change the status only.
            let mut updated = whole;
            updated["status"] = patched.get("status").cloned().unwrap_or(Value::Null);
            let parsed = manifest::parse_value("", updated);
            let Some(object) = parsed.objects.into_iter().next() else {
                return Output::err(parsed.rejected.first().map(|r| format!("{}\n", r.kubectl_error)).unwrap_or_default());
            };
            cluster.update(object.object);
            cluster.settle();
            return Output::ok(format!("{label} patched\n"));
        }
        _ => {}
    }
    match store(cluster, patched) {
        Ok(()) => Output::ok(format!("{label} patched\n")),
        Err(e) => Output::err(e),
    }
}

/// Decodes, validates and writes a changed object.
pub(super) fn store(cluster: &mut Cluster, value: Value) -> Result<(), String> {
    let parsed = manifest::parse_value("", value);
    let object = match (parsed.objects.into_iter().next(), parsed.rejected.into_iter().next()) {
        (Some(o), _) => o.object,
        // The decoding error as the API server reports it for a request body.
        (None, Some(r)) => return Err(format!("{}\n", r.kubectl_error.replace("error when creating \"\": ", ""))),
        (None, None) => return Err("error: the patched object could not be decoded\n".into()),
    };
    cluster.update_from_client(object).map_err(|e| if e.ends_with('\n') { e } else { format!("{e}\n") })?;
    cluster.settle();
    Ok(())
}

/// `kubectl replace -f FILE`: each object in the file replaces the live one whole.
pub(super) fn replace(cluster: &mut Cluster, files: &dyn Files, names: &[String], namespace: Option<&str>) -> Output {
    if names.is_empty() {
        return Output::err("error: must specify --filename to replace\n");
    }
    let mut out = Output::ok("");
    for file in names {
        let Some(text) = files.read(file) else {
            out.ok = false;
            out.text.push_str(&format!("error: the path \"{file}\" does not exist\n"));
            continue;
        };
        let parsed = manifest::parse(file, &text);
        for po in parsed.objects {
            let mut object: Object = po.object;
            let info = object.info();
            super::args::place_in_namespace(&mut object, namespace);
            let key = object.key();
            let Some(live) = cluster.get(&key) else {
                out.ok = false;
                out.text.push_str(&format!(
                    "Error from server (NotFound): error when replacing {file:?}: {} {:?} not found\n",
                    info.qualified_plural(),
                    key.name
                ));
                continue;
            };
            // A PUT that names a resourceVersion is conditional on it (optimistic concurrency).
            let stale = object.meta().resource_version.as_deref().is_some_and(|rv| live.meta().resource_version.as_deref() != Some(rv));
            if stale {
                out.ok = false;
                out.text.push_str(&format!(
                    "Error from server (Conflict): error when replacing {file:?}: Operation cannot be fulfilled on {} {:?}: the object has been modified; please apply your changes to the latest version and try again\n",
                    info.qualified_plural(),
                    key.name
                ));
                continue;
            }
            let mut value = object.to_json();
            keep_server_owned(&mut value, &live.to_json());
            match store(cluster, value) {
                Ok(()) => out.text.push_str(&format!("{}/{} replaced\n", info.qualified_singular(), key.name)),
                Err(e) => {
                    out.ok = false;
                    out.text.push_str(&e);
                }
            }
        }
        for r in parsed.rejected {
            out.ok = false;
            out.text.push_str(&r.kubectl_error);
            out.text.push('\n');
        }
    }
    out
}

/// A PUT keeps what the server owns: identity and status.
pub(super) fn keep_server_owned(value: &mut serde_json::Value, live: &serde_json::Value) {
    for field in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
        if let Some(v) = live.get("metadata").and_then(|m| m.get(field)) {
            value["metadata"][field] = v.clone();
        }
    }
    if let Some(status) = live.get("status") {
        value["status"] = status.clone();
    }
}
