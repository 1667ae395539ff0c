//! `kubectl get --raw PATH`: what the API server answers at its REST paths — `/healthz`,
//! `/livez`, `/readyz`, `/version`, discovery (`/api`, `/apis`, `/api/v1`, `/apis/G/V`), and
//! objects and lists (`/api/v1/namespaces/NS/pods[/NAME]`, `/apis/apps/v1/deployments`) with
//! `limit` and `continue` paging. Bodies are the API server's JSON (keys in sorted order, not
//! Go's struct order); errors come back as kubectl prints a `Status`.

use serde_json::{json, Map, Value};

use super::printers;
use super::{Files, Output};
use crate::api::kinds::{KindInfo, KINDS};
use crate::api::Object;
use crate::sim::Cluster;

pub(super) const NOT_FOUND: &str = "Error from server (NotFound): the server could not find the requested resource\n";

pub(super) fn get(cluster: &mut Cluster, raw: &str) -> Output {
    cluster.settle();
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    let params: Map<String, Value> =
        query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    let path = path.trim_end_matches('/');
    match path {
        "/healthz" | "/livez" | "/readyz" => return Output::ok("ok"),
        "/version" => {
            let v = crate::bootstrap::KUBERNETES_VERSION;
            let minor = v.split('.').nth(1).unwrap_or("37");
            let body = json!({
                "major": "1", "minor": minor, "emulationMajor": "1", "emulationMinor": minor,
                "minCompatibilityMajor": "1", "minCompatibilityMinor": (minor.parse::<u32>().unwrap_or(37) - 1).to_string(),
                "gitVersion": v, "gitCommit": "kubeplay", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "kubeplay", "compiler": "gc", "platform": "linux/amd64",
            });
            return Output::ok(pretty(&body));
        }
        "/api" => {
            return Output::ok(body(
                &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "172.18.0.2:6443"}]}),
            ))
        }
        "/apis" => return Output::ok(body(&group_list())),
        _ => {}
    }
    let (info, namespace, name) = match resolve(path) {
        Ok(Target::Resource(info, namespace, name)) => (info, namespace, name),
        Ok(Target::Discovery(out)) => return out,
        Err(out) => return out,
    };
    let (namespace, name) = (namespace.as_deref(), name.as_deref());
    let current = cluster.store().resource_version();
    if let Err(out) = check_resource_version(&params, name.is_some(), current) {
        return out;
    }
    if let Some(name) = name {
        let key = crate::api::ObjectKey::new(info.kind, namespace.unwrap_or(""), name);
        return match cluster.get(&key) {
            Some(o) => Output::ok(body(&o.to_json())),
            None => Output::err(format!("Error from server (NotFound): {} {name:?} not found\n", info.qualified_plural())),
        };
    }
    let scope = if info.namespaced { namespace } else { None };
    let mut items: Vec<Value> = cluster
        .store()
        .list(info.kind, scope)
        .map(|o| {
            let mut v = o.to_json();
            // List items carry no type of their own.
            if let Some(m) = v.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            v
        })
        .collect();
    let rv = cluster.store().resource_version().to_string();
    let mut metadata = json!({"resourceVersion": rv});
    // `continue` resumes after the last item of the previous page.
    if let Some(token) = params.get("continue").and_then(Value::as_str) {
        let Some(start) = decode_continue(token) else {
            return Output::err("Error from server (BadRequest): continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)\n");
        };
        items.retain(|i| item_key(i) > start);
    }
    if let Some(limit) = params.get("limit").and_then(Value::as_str).and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0) {
        if items.len() > limit {
            let remaining = items.len() - limit;
            items.truncate(limit);
            let last = items.last().map(item_key).unwrap_or_default();
            metadata["continue"] = Value::String(encode_continue(&rv, &last));
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    let list = json!({"apiVersion": info.api_version(), "items": items, "kind": format!("{}List", info.kind), "metadata": metadata});
    Output::ok(body(&list))
}

/// `resourceVersion` and `resourceVersionMatch` on a get or list: the API server's
/// validation (`validateListOptions`) and the storage's answers. kubeplay keeps no older
/// revisions, so an exact read of an older one is answered as a compacted revision is.
fn check_resource_version(params: &Map<String, Value>, get_one: bool, current: u64) -> Result<(), Output> {
    let param = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or_default();
    let (rv, matching) = (param("resourceVersion"), param("resourceVersionMatch"));
    let mut invalid: Vec<String> = Vec::new();
    if !matching.is_empty() && !get_one {
        if rv.is_empty() {
            invalid.push("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided".into());
        }
        if !param("continue").is_empty() {
            invalid.push("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided".into());
        }
        if matching != "Exact" && matching != "NotOlderThan" {
            invalid.push(format!(
                "resourceVersionMatch: Unsupported value: {matching:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""
            ));
        }
        if matching == "Exact" && rv == "0" {
            invalid.push("resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"".into());
        }
    }
    if params.get("sendInitialEvents").is_some_and(|v| v.as_str() != Some("")) && !get_one {
        invalid.push("sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list".into());
    }
    if !invalid.is_empty() {
        let listed = if invalid.len() == 1 { invalid.remove(0) } else { format!("[{}]", invalid.join(", ")) };
        return Err(Output::err(format!("Error from server (Invalid): ListOptions.meta.k8s.io \"\" is invalid: {listed}\n")));
    }
    if rv.is_empty() || rv == "0" {
        return Ok(());
    }
    let Ok(wanted) = rv.parse::<u64>() else {
        return Err(Output::err(format!(
            "Error from server (BadRequest): invalid resource version: strconv.ParseUint: parsing {rv:?}: invalid syntax\n"
        )));
    };
    if wanted > current {
        return Err(Output::err(format!("Error from server (Timeout): Too large resource version: {wanted}, current: {current}\n")));
    }
    // A paged list (`limit`) at a resourceVersion without a match is read exactly (the legacy
    // rule), as `Exact` is.
    let paged = param("limit").parse::<i64>().is_ok_and(|l| l > 0);
    let exact = matching == "Exact" || (matching.is_empty() && paged && !get_one);
    if exact && wanted < current {
        return Err(Output::err("Error from server (Expired): The resourceVersion for the provided list is too old.\n"));
    }
    Ok(())
}

/// What a REST path names.
pub(super) enum Target {
    /// A group version's resource list.
    Discovery(Output),
    /// A resource, in a namespace or not, and one object of it or the collection.
    Resource(&'static KindInfo, Option<String>, Option<String>),
}

/// `/api/v1/...` or `/apis/GROUP/VERSION/...`: `[namespaces/NS/]RESOURCE[/NAME]`.
pub(super) fn resolve(path: &str) -> Result<Target, Output> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(Output::err(NOT_FOUND)),
    };
    let served: Vec<&'static KindInfo> = KINDS.iter().filter(|k| k.group == group && k.versions.contains(&version)).collect();
    if served.is_empty() {
        return Err(Output::err(NOT_FOUND));
    }
    let (namespace, resource, name) = match rest {
        [] => return Ok(Target::Discovery(Output::ok(body(&resource_list(group, version, &served))))),
        ["namespaces", ns, res] => (Some(*ns), *res, None),
        ["namespaces", ns, res, name] => (Some(*ns), *res, Some(*name)),
        [res] => (None, *res, None),
        [res, name] => (None, *res, Some(*name)),
        _ => return Err(Output::err(NOT_FOUND)),
    };
    let Some(info) = served.iter().copied().find(|k| k.plural == resource) else {
        return Err(Output::err(NOT_FOUND));
    };
    if namespace.is_some() && !info.namespaced {
        return Err(Output::err(NOT_FOUND));
    }
    Ok(Target::Resource(info, namespace.map(str::to_string), name.map(str::to_string)))
}

/// `kubectl create|replace|delete --raw PATH [-f FILE]`: POST, PUT and DELETE with the file as
/// the request body (a DELETE's is a DeleteOptions: `gracePeriodSeconds`,
/// `propagationPolicy`, `preconditions`). The answer is the object as stored, or for an
/// object deleted at once, a `Status`.
pub(super) fn write(cluster: &mut Cluster, files: &dyn Files, verb: &str, raw: &str, file: Option<&str>) -> Output {
    cluster.settle();
    let path = raw.split_once('?').map_or(raw, |(p, _)| p).trim_end_matches('/');
    let (info, namespace, name) = match resolve(path) {
        Ok(Target::Resource(info, namespace, name)) => (info, namespace, name),
        Ok(Target::Discovery(_)) => {
            return Output::err("Error from server (MethodNotAllowed): the server does not allow this method on the requested resource\n")
        }
        Err(out) => return out,
    };
    let text = match file {
        Some(f) => match files.read(f) {
            Some(t) => Some(t),
            None => return Output::err(format!("error: the path \"{f}\" does not exist\n")),
        },
        None => None,
    };
    let not_allowed =
        || Output::err("Error from server (MethodNotAllowed): the server does not allow this method on the requested resource\n");
    match verb {
        "create" if name.is_some() => not_allowed(),
        "replace" if name.is_none() => not_allowed(),
        "delete" if name.is_none() => delete_collection(cluster, info, namespace.as_deref()),
        "delete" => delete(cluster, info, namespace.as_deref().unwrap_or(""), name.as_deref().unwrap_or(""), text.as_deref()),
        _ => {
            let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
                return Output::err("Error from server (BadRequest): Object 'Kind' is missing in ''\n");
            };
            let parsed = crate::manifest::parse(file.unwrap_or(""), &text);
            if let Some(r) = parsed.rejected.first() {
                return Output::err(format!(
                    "{}\n",
                    r.kubectl_error.replace(&format!("error when creating {:?}: ", file.unwrap_or("")), "")
                ));
            }
            let Some(mut object) = parsed.objects.into_iter().next().map(|o| o.object) else {
                return Output::err("Error from server (BadRequest): Object 'Kind' is missing in ''\n");
            };
            if object.info().kind != info.kind {
                return Output::err(format!(
                    "Error from server (BadRequest): the API version in the data ({}) does not match the expected API version ({})\n",
                    object.api_version(),
                    info.api_version()
                ));
            }
            if info.namespaced {
                let ns = namespace.clone().unwrap_or_default();
                if object.meta().namespace.as_deref().is_some_and(|n| !n.is_empty() && n != ns) {
                    return Output::err("Error from server (BadRequest): the namespace of the provided object does not match the namespace sent on the request\n");
                }
                object.meta_mut().namespace = Some(ns);
            }
            if verb == "create" {
                create(cluster, object)
            } else {
                replace(cluster, info, object, name.as_deref().unwrap_or(""))
            }
        }
    }
}

fn create(cluster: &mut Cluster, object: Object) -> Output {
    if object.meta().resource_version.as_deref().is_some_and(|rv| !rv.is_empty()) {
        return Output::err("Error from server (BadRequest): resourceVersion should not be set on objects to be created\n");
    }
    match cluster.create(object) {
        Ok(created) => {
            let out = Output::ok(body(&created.to_json()));
            cluster.settle();
            out
        }
        Err(e) if e.contains("already exists") => Output::err(format!("Error from server (AlreadyExists): {e}\n")),
        Err(e) => Output::err(format!("Error from server (Forbidden): {}\n", e.trim_end())),
    }
}

fn replace(cluster: &mut Cluster, info: &KindInfo, object: Object, name: &str) -> Output {
    if object.name() != name {
        return Output::err(format!(
            "Error from server (BadRequest): the name of the object ({}) does not match the name on the URL ({name})\n",
            object.name()
        ));
    }
    let key = object.key();
    let Some(live) = cluster.get(&key) else {
        return Output::err(format!("Error from server (NotFound): {} {name:?} not found\n", info.qualified_plural()));
    };
    if object.meta().resource_version.as_deref().is_some_and(|rv| live.meta().resource_version.as_deref() != Some(rv)) {
        return Output::err(format!(
            "Error from server (Conflict): Operation cannot be fulfilled on {} {name:?}: the object has been modified; please apply your changes to the latest version and try again\n",
            info.qualified_plural()
        ));
    }
    let mut value = object.to_json();
    super::patch::keep_server_owned(&mut value, &live.to_json());
    match super::patch::store(cluster, value) {
        Ok(()) => match cluster.get(&key) {
            Some(o) => Output::ok(body(&o.to_json())),
            None => Output::err(format!("Error from server (NotFound): {} {name:?} not found\n", info.qualified_plural())),
        },
        Err(e) => Output::err(e),
    }
}

fn delete(cluster: &mut Cluster, info: &KindInfo, namespace: &str, name: &str, options: Option<&str>) -> Output {
    let key = crate::api::ObjectKey::new(info.kind, namespace, name);
    let Some(live) = cluster.get(&key).cloned() else {
        return Output::err(format!("Error from server (NotFound): {} {name:?} not found\n", info.qualified_plural()));
    };
    let options: Value = match options.filter(|t| !t.trim().is_empty()) {
        None => json!({}),
        Some(t) => match crate::manifest::yaml::to_json(t) {
            Ok(v) => v,
            Err(_) => return Output::err("Error from server (BadRequest): the body of the request was in an unknown format\n"),
        },
    };
    // Preconditions: the object must still be the one the client means.
    let conflict = |what: &str, want: &str, have: &str| {
        Output::err(format!(
            "Error from server (Conflict): Operation cannot be fulfilled on {} {name:?}: Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}\n",
            info.qualified_plural()
        ))
    };
    let meta = live.meta();
    if let Some(uid) = options.pointer("/preconditions/uid").and_then(Value::as_str) {
        let have = meta.uid.as_deref().unwrap_or("");
        if uid != have {
            return conflict("UID", uid, have);
        }
    }
    if let Some(rv) = options.pointer("/preconditions/resourceVersion").and_then(Value::as_str) {
        let have = meta.resource_version.as_deref().unwrap_or("");
        if rv != have {
            return conflict("ResourceVersion", rv, have);
        }
    }
    let policy = match options.get("propagationPolicy").and_then(Value::as_str) {
        Some("Foreground") => crate::apiserver::Propagation::Foreground,
        Some("Orphan") => crate::apiserver::Propagation::Orphan,
        _ => crate::apiserver::Propagation::Background,
    };
    if let Err(e) = cluster.api().admit_delete(&key) {
        return Output::err(format!("Error from server (Forbidden): {e}\n"));
    }
    let grace = options.get("gracePeriodSeconds").and_then(Value::as_i64);
    cluster.delete_with_options(&key, policy, grace);
    match cluster.get(&key) {
        // Still there (graceful deletion, finalizers): the object, being deleted.
        Some(o) => Output::ok(body(&o.to_json())),
        // A Pod's registry answers with the deleted object; others with a Status.
        None if info.kind == "Pod" => {
            let mut gone = live.to_json();
            gone["metadata"]["deletionTimestamp"] = json!(cluster.api().timestamp().0.to_string());
            Output::ok(body(&gone))
        }
        None => {
            let mut details = json!({"name": name, "kind": info.plural, "uid": meta.uid.clone().unwrap_or_default()});
            if !info.group.is_empty() {
                details["group"] = json!(info.group);
            }
            Output::ok(body(&json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})))
        }
    }
}

/// `deletecollection`: every object of the resource (in the namespace), answered with the
/// list of what was deleted.
fn delete_collection(cluster: &mut Cluster, info: &KindInfo, namespace: Option<&str>) -> Output {
    let scope = if info.namespaced { namespace } else { None };
    let doomed: Vec<Object> = cluster.store().list(info.kind, scope).cloned().collect();
    let mut items = Vec::new();
    for object in doomed {
        let key = object.key();
        if cluster.api().admit_delete(&key).is_err() {
            continue;
        }
        cluster.delete_with_options(&key, crate::apiserver::Propagation::Background, None);
        let mut v = cluster.get(&key).map_or_else(|| object.to_json(), Object::to_json);
        if let Some(m) = v.as_object_mut() {
            m.remove("apiVersion");
            m.remove("kind");
        }
        items.push(v);
    }
    let rv = cluster.store().resource_version().to_string();
    Output::ok(body(
        &json!({"apiVersion": info.api_version(), "items": items, "kind": format!("{}List", info.kind), "metadata": {"resourceVersion": rv}}),
    ))
}

/// An API response body: compact JSON and a newline.
pub(super) fn body(v: &Value) -> String {
    format!("{}\n", printers::json_compact(v))
}

fn pretty(v: &Value) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"  ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    let _ = serde::Serialize::serialize(v, &mut ser);
    String::from_utf8_lossy(&buf).into_owned()
}

fn item_key(item: &Value) -> String {
    let ns = item.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    let name = item.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    if ns.is_empty() {
        name.to_string()
    } else {
        format!("{ns}/{name}")
    }
}

/// The storage layer's continue token: base64url of `{"v","rv","start"}`.
fn encode_continue(rv: &str, last: &str) -> String {
    let raw = format!("{{\"v\":\"meta.k8s.io/v1\",\"rv\":{rv},\"start\":\"{last}\\u0000\"}}");
    base64url(raw.as_bytes())
}

fn decode_continue(token: &str) -> Option<String> {
    let bytes = unbase64url(token)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some(v.get("start")?.as_str()?.trim_end_matches('\u{0}').to_string())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8) | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let v = B64.iter().position(|b| *b == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Some(out)
}

fn group_list() -> Value {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for k in KINDS.iter().filter(|k| !k.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| *g == k.group) {
            Some((_, versions)) => {
                for v in k.versions {
                    if !versions.contains(v) {
                        versions.push(v);
                    }
                }
            }
            None => groups.push((k.group, k.versions.to_vec())),
        }
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|(g, versions)| {
            let vs: Vec<Value> = versions.iter().map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v})).collect();
            json!({"name": g, "versions": vs, "preferredVersion": {"groupVersion": format!("{g}/{}", versions[0]), "version": versions[0]}})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(group: &str, version: &str, kinds: &[&KindInfo]) -> Value {
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    let resources: Vec<Value> = kinds
        .iter()
        .map(|k| {
            let mut r = json!({
                "name": k.plural, "singularName": k.kind.to_lowercase(), "namespaced": k.namespaced, "kind": k.kind,
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            });
            if !k.short_names.is_empty() {
                r["shortNames"] = json!(k.short_names);
            }
            r
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_page_with_limit_and_continue() {
        let mut session = crate::Session::new(Cluster::new(5));
        session.exec("kubectl create deployment web --image=nginx --replicas=3");
        session.exec("sleep 5s");
        let mut names = Vec::new();
        let mut url = "/api/v1/namespaces/default/pods?limit=2".to_string();
        for _ in 0..3 {
            let out = session.exec(&format!("kubectl get --raw {url}"));
            let page: Value = serde_json::from_str(&out.text).expect("a JSON list");
            assert_eq!(page["kind"], "PodList");
            names.extend(
                page["items"].as_array().into_iter().flatten().filter_map(|i| i.pointer("/metadata/name")?.as_str().map(str::to_string)),
            );
            match page.pointer("/metadata/continue").and_then(Value::as_str) {
                Some(token) => {
                    assert_eq!(page.pointer("/metadata/remainingItemCount"), Some(&json!(1)));
                    url = format!("/api/v1/namespaces/default/pods?limit=2&continue={token}");
                }
                None => break,
            }
        }
        assert_eq!(names.len(), 3, "{names:?}");
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "pages follow one another without gaps or repeats");
    }

    #[test]
    fn continue_tokens_round_trip() {
        let t = encode_continue("42", "default/web-1");
        assert_eq!(decode_continue(&t).as_deref(), Some("default/web-1"));
        assert!(decode_continue("!!").is_none());
    }
}
