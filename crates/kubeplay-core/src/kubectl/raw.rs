//! `kubectl get --raw PATH`: what the API server answers at its REST paths — `/healthz`,
//! `/livez`, `/readyz`, `/version`, discovery (`/api`, `/apis`, `/api/v1`, `/apis/G/V`), and
//! objects and lists (`/api/v1/namespaces/NS/pods[/NAME]`, `/apis/apps/v1/deployments`) with
//! `limit` and `continue` paging. Bodies are the API server's JSON (keys in sorted order, not
//! Go's struct order); errors come back as kubectl prints a `Status`.

use serde_json::{json, Map, Value};

use super::printers;
use super::Output;
use crate::api::kinds::{KindInfo, KINDS};
use crate::sim::Cluster;

const NOT_FOUND: &str = "Error from server (NotFound): the server could not find the requested resource\n";

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
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // /api/v1/... or /apis/GROUP/VERSION/...
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Output::err(NOT_FOUND),
    };
    let served: Vec<&'static KindInfo> = KINDS.iter().filter(|k| k.group == group && k.versions.contains(&version)).collect();
    if served.is_empty() {
        return Output::err(NOT_FOUND);
    }
    let (namespace, resource, name) = match rest {
        [] => return Output::ok(body(&resource_list(group, version, &served))),
        ["namespaces", ns, res] => (Some(*ns), *res, None),
        ["namespaces", ns, res, name] => (Some(*ns), *res, Some(*name)),
        [res] => (None, *res, None),
        [res, name] => (None, *res, Some(*name)),
        _ => return Output::err(NOT_FOUND),
    };
    let Some(info) = served.iter().copied().find(|k| k.plural == resource) else {
        return Output::err(NOT_FOUND);
    };
    if namespace.is_some() && !info.namespaced {
        return Output::err(NOT_FOUND);
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

/// An API response body: compact JSON and a newline.
fn body(v: &Value) -> String {
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
