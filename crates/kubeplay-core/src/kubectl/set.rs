//! `kubectl set image|env|resources`: edit the Pod template (or a Pod's spec) of the named
//! objects and send the change as a patch, with kubectl 1.37's messages. A change that
//! changes nothing prints nothing, as kubectl's empty patch does.

use serde_json::{json, Value};

use super::args::{resolve, ArgWalker};
use super::{patch, Output};
use crate::api::labels::Selector;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;

pub(super) fn set(cluster: &mut Cluster, args: &[String]) -> Output {
    let Some(what) = args.first().map(String::as_str) else {
        return Output::err("error: Required subcommand: one of env, image, resources, selector, serviceaccount, subject\n");
    };
    let mut namespace = "default".to_string();
    let (mut container, mut from, mut limits, mut requests, mut selector) = (None, None, None, None, None);
    let (mut list, mut all) = (false, false);
    let mut words = Vec::new();
    let mut walker = ArgWalker::new(&args[1..]);
    while let Some(arg) = walker.next_arg() {
        let mut value = || walker.value(&arg).map_err(|e| Output::err(format!("{e}\n")));
        let result = match arg.name {
            "-n" | "--namespace" => value().map(|v| namespace = v),
            "-c" | "--containers" => value().map(|v| container = Some(v)),
            "--from" => value().map(|v| from = Some(v)),
            "--limits" => value().map(|v| limits = Some(v)),
            "--requests" => value().map(|v| requests = Some(v)),
            "-l" | "--selector" => value().map(|v| selector = Some(v)),
            "--list" => {
                list = arg.inline != Some("false");
                Ok(())
            }
            "--all" => {
                all = arg.inline != Some("false");
                Ok(())
            }
            "--overwrite" => Ok(()),
            name if name.starts_with('-') && name.len() > 1 => {
                Err(Output::err(format!("error: unknown flag: {name}\nSee 'kubectl set {what} --help' for usage.\n")))
            }
            name => {
                words.push(name.to_string());
                Ok(())
            }
        };
        if let Err(e) = result {
            return e;
        }
    }
    let is_pair = |w: &str| w.contains('=') || (what == "env" && w.ends_with('-') && !w.contains('/'));
    let split = words.iter().position(|w| is_pair(w)).unwrap_or(words.len());
    let (resources, pairs) = words.split_at(split);
    if all && selector.is_some() {
        return Output::err("error: cannot set --all and --selector at the same time\n");
    }
    let targets = match targets(cluster, resources, &namespace, selector.as_deref(), all) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let change = match what {
        "image" => {
            if pairs.is_empty() {
                return Output::err("error: at least one image update is required\n");
            }
            let images: Vec<(String, String)> =
                pairs.iter().filter_map(|p| p.split_once('=')).map(|(a, b)| (a.to_string(), b.to_string())).collect();
            if images.len() > 1 && images.iter().any(|(c, _)| c == "*") {
                return Output::err(
                    "error: all containers are already specified by *, but saw more than one container_name=container_image pairs\n",
                );
            }
            Change::Image(images)
        }
        "env" => {
            let mut set = Vec::new();
            let mut remove = Vec::new();
            for p in pairs {
                match p.split_once('=') {
                    Some((k, v)) => set.push(json!({"name": k, "value": v})),
                    None => remove.push(p.trim_end_matches('-').to_string()),
                }
            }
            if let Some(source) = &from {
                match env_from(cluster, source, &namespace) {
                    Ok(mut refs) => set.append(&mut refs),
                    Err(e) => return Output::err(e),
                }
            }
            if set.is_empty() && remove.is_empty() && !list {
                return Output::err("error: at least one environment variable must be provided\n");
            }
            Change::Env { set, remove, list }
        }
        "resources" => {
            if limits.is_none() && requests.is_none() {
                return Output::err("error: you must specify an update to requests or limits (in the form of --requests/--limits)\n");
            }
            let parse = |text: &Option<String>| -> Result<Option<Value>, String> {
                let Some(text) = text else { return Ok(None) };
                let mut map = serde_json::Map::new();
                for statement in text.split(',') {
                    let Some((k, v)) = statement.split_once('=') else {
                        return Err(format!("error: invalid argument syntax {statement}, expected <resource>=<value>\n"));
                    };
                    map.insert(k.to_string(), Value::String(v.to_string()));
                }
                Ok(Some(Value::Object(map)))
            };
            match (parse(&limits), parse(&requests)) {
                (Ok(l), Ok(r)) => Change::Resources { limits: l, requests: r },
                (Err(e), _) | (_, Err(e)) => return Output::err(e),
            }
        }
        other => {
            return Output::err(format!(
                "error: kubeplay does not model `kubectl set {other}`; it models set image, set env and set resources\n"
            ));
        }
    };
    let mut out = Output::ok("");
    for (info, key) in targets {
        let Some(live) = cluster.get(&key).cloned() else {
            out.ok = false;
            out.text.push_str(&format!("Error from server (NotFound): {} {:?} not found\n", info.qualified_plural(), key.name));
            continue;
        };
        let mut value = live.to_json();
        let Some(spec) = pod_spec(&mut value, info.kind) else {
            out.ok = false;
            out.text.push_str(&format!(
                "error: {}/{} the object is not a pod or does not have a pod template: {}\n",
                info.qualified_plural(),
                key.name,
                info.kind
            ));
            continue;
        };
        let result = change.apply(spec, container.as_deref(), info.kind, &key.name);
        out.text.push_str(&result.listing);
        for e in &result.errors {
            out.ok = false;
            out.text.push_str(e);
        }
        if list || value == live.to_json() {
            continue;
        }
        match patch::store(cluster, value) {
            Ok(()) => out.text.push_str(&format!("{}/{} {}\n", info.qualified_singular(), key.name, change.done())),
            Err(e) => {
                out.ok = false;
                out.text.push_str(&e);
            }
        }
    }
    out
}

enum Change {
    Image(Vec<(String, String)>),
    Env { set: Vec<Value>, remove: Vec<String>, list: bool },
    Resources { limits: Option<Value>, requests: Option<Value> },
}

#[derive(Default)]
struct Applied {
    listing: String,
    errors: Vec<String>,
}

impl Change {
    fn done(&self) -> &'static str {
        match self {
            Change::Image(_) => "image updated",
            Change::Env { .. } => "env updated",
            Change::Resources { .. } => "resource requirements updated",
        }
    }

    fn apply(&self, spec: &mut Value, only: Option<&str>, kind: &str, name: &str) -> Applied {
        let mut applied = Applied::default();
        match self {
            Change::Image(images) => {
                for (container, image) in images {
                    let mut found = false;
                    for list in ["initContainers", "containers"] {
                        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                            if container == "*" || c.get("name").and_then(Value::as_str) == Some(container) {
                                c["image"] = Value::String(image.clone());
                                found = true;
                            }
                        }
                    }
                    if !found {
                        applied.errors.push(format!("error: unable to find container named {container:?}\n"));
                    }
                }
            }
            Change::Env { set, remove, list } => {
                let mut matched = false;
                for list_name in ["initContainers", "containers"] {
                    for c in spec.get_mut(list_name).and_then(Value::as_array_mut).into_iter().flatten() {
                        let cname = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                        if only.is_some_and(|o| o != "*" && o != cname) {
                            continue;
                        }
                        matched = true;
                        let mut env: Vec<Value> = c.get("env").and_then(Value::as_array).cloned().unwrap_or_default();
                        for new in set {
                            match env.iter_mut().find(|e| e.get("name") == new.get("name")) {
                                Some(slot) => *slot = new.clone(),
                                None => env.push(new.clone()),
                            }
                        }
                        env.retain(|e| !remove.iter().any(|r| e.get("name").and_then(Value::as_str) == Some(r)));
                        if *list {
                            applied.listing.push_str(&format!("# {kind} {name}, container {cname}\n"));
                            for e in &env {
                                let n = e.get("name").and_then(Value::as_str).unwrap_or("");
                                match e.get("valueFrom") {
                                    None => {
                                        applied.listing.push_str(&format!("{n}={}\n", e.get("value").and_then(Value::as_str).unwrap_or("")))
                                    }
                                    Some(from) => applied.listing.push_str(&format!("# {n} from {}\n", ref_string(from))),
                                }
                            }
                            continue;
                        }
                        if env.is_empty() {
                            if let Some(m) = c.as_object_mut() {
                                m.remove("env");
                            }
                        } else {
                            c["env"] = Value::Array(env);
                        }
                    }
                }
                if !matched {
                    applied
                        .listing
                        .push_str(&format!("Warning: {kind}/{name} does not have any containers matching {:?}\n", only.unwrap_or("*")));
                }
            }
            Change::Resources { limits, requests } => {
                let mut matched = false;
                for c in spec.get_mut("containers").and_then(Value::as_array_mut).into_iter().flatten() {
                    let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
                    if only.is_some_and(|o| o != "*" && o != cname) {
                        continue;
                    }
                    matched = true;
                    for (field, values) in [("limits", limits), ("requests", requests)] {
                        let Some(Value::Object(values)) = values else { continue };
                        let resources = c.as_object_mut().map(|m| m.entry("resources").or_insert_with(|| json!({})));
                        if let Some(Value::Object(r)) = resources {
                            let slot = r.entry(field).or_insert_with(|| json!({}));
                            if let Value::Object(slot) = slot {
                                slot.extend(values.clone());
                            }
                        }
                    }
                }
                if !matched {
                    applied.errors.push(format!("error: unable to find container named {}\n", only.unwrap_or("")));
                }
            }
        }
        applied
    }
}

/// `envutil.GetEnvVarRefString`.
fn ref_string(from: &Value) -> String {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    if let Some(r) = from.get("configMapKeyRef") {
        return format!("configmap {}, key {}", s(r, "name"), s(r, "key"));
    }
    if let Some(r) = from.get("secretKeyRef") {
        return format!("secret {}, key {}", s(r, "name"), s(r, "key"));
    }
    if let Some(r) = from.get("fieldRef") {
        return format!("field path {}", s(r, "fieldPath"));
    }
    if let Some(r) = from.get("resourceFieldRef") {
        let container = s(r, "containerName");
        return if container.is_empty() {
            format!("resource {}", s(r, "resource"))
        } else {
            format!("resource {}, container {container}", s(r, "resource"))
        };
    }
    "invalid valueFrom".into()
}

/// `--from=configmap/NAME|secret/NAME`: one variable per key, named as kubectl names them
/// (upper case, invalid characters as `_`).
fn env_from(cluster: &Cluster, source: &str, namespace: &str) -> Result<Vec<Value>, String> {
    let (kind, name) = source.split_once('/').ok_or_else(|| "error: unsupported resource specified in --from\n".to_string())?;
    let (kind, reference) = match kind {
        "configmap" | "configmaps" | "cm" => ("ConfigMap", "configMapKeyRef"),
        "secret" | "secrets" => ("Secret", "secretKeyRef"),
        _ => return Err("error: unsupported resource specified in --from\n".into()),
    };
    let Some(object) = cluster.get(&ObjectKey::new(kind, namespace, name)) else {
        let plural = if kind == "ConfigMap" { "configmaps" } else { "secrets" };
        return Err(format!("Error from server (NotFound): {plural} {name:?} not found\n"));
    };
    let json = object.to_json();
    let mut keys: Vec<String> =
        ["data", "binaryData"].iter().filter_map(|f| json.get(*f).and_then(Value::as_object)).flat_map(|m| m.keys().cloned()).collect();
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .map(|k| {
            let env_name: String =
                k.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_uppercase() } else { '_' }).collect();
            json!({"name": env_name, "valueFrom": {reference: {"key": k, "name": name}}})
        })
        .collect())
}

/// Where a kind keeps the Pod spec kubectl set edits.
fn pod_spec<'a>(value: &'a mut Value, kind: &str) -> Option<&'a mut Value> {
    let path: &[&str] = match kind {
        "Pod" => &["spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet" | "Job" | "ReplicationController" => &["spec", "template", "spec"],
        _ => return None,
    };
    path.iter().try_fold(value, |v, k| v.get_mut(*k))
}

fn targets(
    cluster: &Cluster,
    resources: &[String],
    namespace: &str,
    selector: Option<&str>,
    all: bool,
) -> Result<Vec<(&'static crate::api::kinds::KindInfo, ObjectKey)>, Output> {
    let Some(first) = resources.first() else {
        return Err(Output::err("error: one or more resources must be specified as <resource> <name> or <resource>/<name>\n"));
    };
    if first.contains('/') {
        let mut out = Vec::new();
        for r in resources {
            let (ty, name) = r.split_once('/').unwrap_or((r, ""));
            let info = resolve(ty)?;
            out.push((info, ObjectKey::new(info.kind, if info.namespaced { namespace } else { "" }, name)));
        }
        return Ok(out);
    }
    let info = resolve(first)?;
    if resources.len() > 1 {
        return Ok(resources[1..].iter().map(|n| (info, ObjectKey::new(info.kind, namespace, n))).collect());
    }
    let filter = match (selector, all) {
        (Some(s), _) => Selector::parse(s).map_err(|e| Output::err(format!("error: {e}\n")))?,
        (None, true) => Selector::default(),
        (None, false) => return Err(Output::err("error: resource(s) were provided, but no name was specified\n")),
    };
    Ok(cluster
        .store()
        .list(info.kind, Some(namespace))
        .filter(|o: &&Object| filter.matches(o.meta().labels.as_ref()))
        .map(|o| (info, o.key()))
        .collect())
}
