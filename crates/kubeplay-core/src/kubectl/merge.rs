//! How kubectl changes a live object: `apply`'s three-way strategic merge (the last applied
//! configuration, the new manifest and the live object), and `kubectl patch`'s strategic,
//! JSON merge (RFC 7386) and JSON (RFC 6902) patches. Lists of objects merge by the key the
//! API declares (`patchMergeKey`: containers by name, container ports by containerPort, …);
//! other lists are replaced whole.

use serde_json::{Map, Value};

/// The `patchMergeKey` of the list at `path` (the map keys leading to it), if it merges.
fn merge_key(kind: &str, path: &[String]) -> Option<&'static str> {
    let last = path.last()?.as_str();
    let in_container = path.iter().rev().skip(1).any(|k| matches!(k.as_str(), "containers" | "initContainers" | "ephemeralContainers"));
    Some(match last {
        "containers" | "initContainers" | "ephemeralContainers" => "name",
        "ports" if in_container => "containerPort",
        "ports" if kind == "Service" && path.len() == 2 => "port",
        "env" if in_container => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "volumes" if path.iter().any(|k| k == "spec") => "name",
        "imagePullSecrets" | "resourceClaims" | "schedulingGates" => "name",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "ownerReferences" => "uid",
        "conditions" => "type",
        _ => return None,
    })
}

fn id<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?.get(key)
}

/// The item of `list` whose merge key is `want`.
fn find<'a>(list: Option<&'a Vec<Value>>, key: &str, want: &Value) -> Option<&'a Value> {
    list?.iter().find(|v| id(v, key) == Some(want))
}

/// The object `kubectl apply` leaves: `modified` (the manifest) merged into `current` (the live
/// object); fields and list items `original` (the last applied configuration) had and the
/// manifest dropped are removed, fields someone else set are kept.
pub(super) fn three_way(kind: &str, original: Option<&Value>, modified: &Value, current: &Value) -> Value {
    merge3(kind, original, modified, Some(current), &mut Vec::new())
}

fn merge3(kind: &str, original: Option<&Value>, modified: &Value, current: Option<&Value>, path: &mut Vec<String>) -> Value {
    match (modified, current) {
        (Value::Object(m), Some(Value::Object(c))) => {
            let mut out = c.clone();
            for (k, mv) in m {
                if mv.is_null() {
                    out.remove(k);
                    continue;
                }
                path.push(k.clone());
                let merged = merge3(kind, original.and_then(|o| o.get(k)), mv, c.get(k), path);
                path.pop();
                out.insert(k.clone(), merged);
            }
            if let Some(Value::Object(o)) = original {
                for k in o.keys().filter(|k| !m.contains_key(*k)) {
                    out.remove(k);
                }
            }
            Value::Object(out)
        }
        (Value::Array(m), Some(Value::Array(c))) => {
            let Some(key) = merge_key(kind, path).filter(|key| m.iter().chain(c).all(|v| id(v, key).is_some())) else {
                return strip_nulls(modified);
            };
            let orig = original.and_then(Value::as_array);
            let mut out: Vec<Value> = Vec::new();
            for mv in m {
                let Some(want) = id(mv, key) else { continue };
                out.push(merge3(kind, find(orig, key, want), mv, find(Some(c), key, want), path));
            }
            // Items only the live object has stay, unless the last apply had them.
            for cv in c {
                let Some(want) = id(cv, key) else { continue };
                if find(Some(m), key, want).is_none() && find(orig, key, want).is_none() {
                    out.push(cv.clone());
                }
            }
            Value::Array(out)
        }
        _ => strip_nulls(modified),
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip_nulls(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// The strategic merge patch that turns `original` into `modified` (what `kubectl edit`
/// sends): changed fields, `null` for removed ones, list items by merge key with
/// `$patch: delete` for removed items; `None` when nothing changed.
pub(super) fn two_way(kind: &str, original: &Value, modified: &Value) -> Option<Value> {
    diff_at(kind, original, modified, &mut Vec::new())
}

fn diff_at(kind: &str, original: &Value, modified: &Value, path: &mut Vec<String>) -> Option<Value> {
    if original == modified {
        return None;
    }
    match (original, modified) {
        (Value::Object(o), Value::Object(m)) => {
            let mut patch = Map::new();
            for (k, mv) in m {
                path.push(k.clone());
                match o.get(k) {
                    Some(ov) => {
                        if let Some(d) = diff_at(kind, ov, mv, path) {
                            patch.insert(k.clone(), d);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), mv.clone());
                    }
                }
                path.pop();
            }
            for k in o.keys().filter(|k| !m.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (Value::Array(o), Value::Array(m)) => {
            let Some(key) = merge_key(kind, path).filter(|key| o.iter().chain(m).all(|v| id(v, key).is_some())) else {
                return Some(modified.clone());
            };
            let mut items = Vec::new();
            for mv in m {
                let Some(want) = id(mv, key) else { continue };
                match find(Some(o), key, want) {
                    Some(ov) => {
                        if let Some(Value::Object(mut d)) = diff_at(kind, ov, mv, path) {
                            d.insert(key.to_string(), want.clone());
                            items.push(Value::Object(d));
                        }
                    }
                    None => items.push(mv.clone()),
                }
            }
            for ov in o {
                let Some(want) = id(ov, key) else { continue };
                if find(Some(m), key, want).is_none() {
                    items.push(serde_json::json!({key: want, "$patch": "delete"}));
                }
            }
            (!items.is_empty()).then_some(Value::Array(items))
        }
        _ => Some(modified.clone()),
    }
}

/// `kubectl patch --type strategic` (the default): maps merge, `null` deletes, lists with a
/// merge key merge by it, and the `$patch: replace|delete` directives are honoured.
pub(super) fn strategic(kind: &str, current: &Value, patch: &Value) -> Result<Value, String> {
    strategic_at(kind, Some(current), patch, &mut Vec::new())
}

fn strategic_at(kind: &str, current: Option<&Value>, patch: &Value, path: &mut Vec<String>) -> Result<Value, String> {
    match patch {
        Value::Object(p) => {
            match p.get("$patch").and_then(Value::as_str) {
                Some("replace") => {
                    let mut rest = p.clone();
                    rest.remove("$patch");
                    return Ok(strip_nulls(&Value::Object(rest)));
                }
                Some("delete") => return Ok(Value::Null),
                Some(other) => return Err(format!("Unknown patch type: {other}")),
                None => {}
            }
            let mut out = match current {
                Some(Value::Object(c)) => c.clone(),
                _ => Map::new(),
            };
            for (k, pv) in p {
                if pv.is_null() {
                    out.remove(k);
                    continue;
                }
                path.push(k.clone());
                let merged = strategic_at(kind, out.get(k), pv, path);
                path.pop();
                match merged? {
                    Value::Null => {
                        out.remove(k);
                    }
                    v => {
                        out.insert(k.clone(), v);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(p) => {
            let current = current.and_then(Value::as_array);
            let Some(key) = merge_key(kind, path) else { return Ok(strip_nulls(patch)) };
            let mut out: Vec<Value> = current.cloned().unwrap_or_default();
            for pv in p {
                if pv.get("$patch").and_then(Value::as_str) == Some("replace") {
                    // `- $patch: replace` makes the list exactly the other items of the patch.
                    return Ok(Value::Array(p.iter().filter(|v| v.get("$patch").is_none()).map(strip_nulls).collect()));
                }
                let Some(want) = id(pv, key).cloned() else {
                    return Err(format!("map: {pv} does not contain declared merge key: {key}"));
                };
                let at = out.iter().position(|v| id(v, key) == Some(&want));
                if pv.get("$patch").and_then(Value::as_str) == Some("delete") {
                    if let Some(i) = at {
                        out.remove(i);
                    }
                    continue;
                }
                match at {
                    Some(i) => {
                        let merged = strategic_at(kind, Some(&out[i]), pv, path)?;
                        out[i] = merged;
                    }
                    None => out.push(strip_nulls(pv)),
                }
            }
            Ok(Value::Array(out))
        }
        other => Ok(other.clone()),
    }
}

/// `kubectl patch --type merge` (RFC 7386): maps merge, `null` deletes, lists are replaced.
pub(super) fn json_merge(current: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            let mut out = match current {
                Value::Object(c) => c.clone(),
                _ => Map::new(),
            };
            for (k, pv) in p {
                if pv.is_null() {
                    out.remove(k);
                } else {
                    let merged = json_merge(out.get(k).unwrap_or(&Value::Null), pv);
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// `kubectl patch --type json` (RFC 6902): `add`, `remove`, `replace`, `move`, `copy`, `test`.
pub(super) fn json_patch(current: &Value, ops: &Value) -> Result<Value, String> {
    let Some(ops) = ops.as_array() else {
        return Err("json: cannot unmarshal object into Go value of type jsonpatch.Patch".into());
    };
    let mut doc = current.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let value = || op.get("value").cloned().ok_or_else(|| format!("missing value for op: {name}"));
        match name {
            "add" => add(&mut doc, path, value()?)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                remove(&mut doc, path).map_err(|_| format!("replace operation does not apply: doc is missing key: {path}"))?;
                add(&mut doc, path, value()?)?;
            }
            "move" | "copy" => {
                let from = op.get("from").and_then(Value::as_str).unwrap_or("");
                let v = if name == "move" {
                    remove(&mut doc, from)?
                } else {
                    doc.pointer(from).cloned().ok_or_else(|| format!("copy from does not exist: {from}"))?
                };
                add(&mut doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(doc)
}

fn split(path: &str) -> Result<(String, String), String> {
    let Some((parent, last)) = path.rsplit_once('/') else {
        return Err(format!("add operation does not apply: doc is missing path: \"{path}\""));
    };
    Ok((parent.to_string(), last.replace("~1", "/").replace("~0", "~")))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split(path)?;
    let missing = || format!("add operation does not apply: doc is missing path: \"{path}\": missing value");
    match doc.pointer_mut(&parent).ok_or_else(missing)? {
        Value::Object(m) => {
            m.insert(last, value);
        }
        Value::Array(a) => {
            let i = if last == "-" { a.len() } else { last.parse::<usize>().map_err(|_| missing())? };
            if i > a.len() {
                return Err(format!("add operation does not apply: doc is missing path: \"{path}\": unable to access invalid index: {i}"));
            }
            a.insert(i, value);
        }
        _ => return Err(missing()),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split(path)?;
    let missing = || format!("remove operation does not apply: doc is missing path: \"{path}\"");
    match doc.pointer_mut(&parent).ok_or_else(missing)? {
        Value::Object(m) => m.remove(&last).ok_or_else(missing),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => Ok(a.remove(i)),
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: Option<i64>, containers: Value) -> Value {
        let mut spec = json!({"template": {"spec": {"containers": containers}}});
        if let Some(r) = replicas {
            spec["replicas"] = json!(r);
        }
        json!({"kind": "Deployment", "spec": spec})
    }

    #[test]
    fn fields_only_the_live_object_sets_stay() {
        // `kubectl scale` set replicas; the manifest never did.
        let original = deployment(None, json!([{"name": "web", "image": "nginx:1.27"}]));
        let modified = deployment(None, json!([{"name": "web", "image": "nginx:1.28"}]));
        let current = deployment(Some(5), json!([{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent"}]));
        let merged = three_way("Deployment", Some(&original), &modified, &current);
        assert_eq!(merged["spec"]["replicas"], json!(5));
        assert_eq!(
            merged["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "image": "nginx:1.28", "imagePullPolicy": "IfNotPresent"}])
        );
    }

    #[test]
    fn what_the_last_apply_set_and_this_one_drops_goes() {
        let original = deployment(
            Some(3),
            json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}, {"containerPort": 443}]}, {"name": "log", "image": "busybox"}]),
        );
        let modified = deployment(None, json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]));
        let current = deployment(
            Some(3),
            json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}]}, {"name": "log", "image": "busybox"}, {"name": "injected", "image": "proxy"}]),
        );
        let merged = three_way("Deployment", Some(&original), &modified, &current);
        assert!(merged["spec"].get("replicas").is_none(), "dropped from the manifest, so removed");
        let containers = &merged["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            containers,
            &json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}]}, {"name": "injected", "image": "proxy"}])
        );
    }

    #[test]
    fn lists_without_a_merge_key_are_replaced() {
        let current = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["a", "b"]}]}}}});
        let modified = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["c"]}]}}}});
        let merged = three_way("Deployment", None, &modified, &current);
        assert_eq!(merged["spec"]["template"]["spec"]["containers"][0]["args"], json!(["c"]));
    }

    #[test]
    fn strategic_patches_merge_by_key_and_honour_directives() {
        let current =
            json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}], "nodeSelector": {"disk": "ssd"}}});
        let patch = json!({"spec": {"containers": [{"name": "a", "image": "z"}, {"name": "b", "$patch": "delete"}], "nodeSelector": {"$patch": "replace", "zone": "a"}}});
        let out = strategic("Pod", &current, &patch).expect("patch");
        assert_eq!(out, json!({"spec": {"containers": [{"name": "a", "image": "z"}], "nodeSelector": {"zone": "a"}}}));
    }

    #[test]
    fn two_way_patches_say_only_what_changed() {
        let original = json!({"spec": {"replicas": 2, "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}, "metadata": {"labels": {"k": "v"}}});
        let modified = json!({"spec": {"replicas": 2, "containers": [{"name": "a", "image": "z"}]}, "metadata": {}});
        let patch = two_way("Pod", &original, &modified).expect("a change");
        assert_eq!(
            patch,
            json!({"spec": {"containers": [{"name": "a", "image": "z"}, {"name": "b", "$patch": "delete"}]}, "metadata": {"labels": null}})
        );
        assert_eq!(two_way("Pod", &original, &original), None);
        // Applied to an object someone else changed, it keeps their change.
        let live = json!({"spec": {"replicas": 5, "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}, "metadata": {"labels": {"k": "v"}}});
        let out = strategic("Pod", &live, &patch).expect("applies");
        assert_eq!(out, json!({"spec": {"replicas": 5, "containers": [{"name": "a", "image": "z"}]}, "metadata": {}}));
    }

    #[test]
    fn merge_and_json_patches() {
        let current = json!({"a": {"b": 1, "c": [1, 2]}});
        assert_eq!(json_merge(&current, &json!({"a": {"b": null, "c": [3]}})), json!({"a": {"c": [3]}}));
        let ops = json!([{"op": "add", "path": "/a/c/-", "value": 9}, {"op": "replace", "path": "/a/b", "value": 2}, {"op": "remove", "path": "/a/c/0"}]);
        assert_eq!(json_patch(&current, &ops), Ok(json!({"a": {"b": 2, "c": [2, 9]}})));
        assert!(json_patch(&current, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }
}
