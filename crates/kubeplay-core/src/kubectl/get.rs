//! `kubectl get`: which objects, filtered by label and field selectors, printed by
//! [`super::columns`].

use super::args::{namespace, requests, Flags};
use super::jsonpath::{self, Template};
use super::{columns, Output};
use crate::api::labels::Selector;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;

pub(super) fn get(cluster: &mut Cluster, flags: &Flags) -> Output {
    cluster.settle();
    let output = flags.output.as_deref().unwrap_or("");
    let mut special = None;
    let format = match output {
        "" => columns::Format::Table,
        "wide" => columns::Format::Wide,
        "yaml" => columns::Format::Yaml,
        "json" => columns::Format::Json,
        "name" => columns::Format::Name,
        other => match Special::parse(other) {
            Ok(Some(s)) => {
                special = Some(s);
                columns::Format::Json
            }
            Ok(None) => {
                return Output::err(format!(
                    "error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,kyaml,name,template,templatefile,wide,yaml\n"
                ))
            }
            Err(e) => return Output::err(e),
        },
    };
    let sort_by = match flags.sort_by.as_deref().map(Template::expression).transpose() {
        Ok(t) => t,
        Err(e) => {
            return Output::err(format!("error: couldn't parse sort-by jsonpath {:?}: {e}\n", flags.sort_by.as_deref().unwrap_or("")))
        }
    };
    let reqs = match requests(&flags.positional) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let selector = match flags.selector.as_deref().map(Selector::parse).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return Output::err(format!("error: {e}\n")),
    };
    let fields = match flags.field_selector.as_deref().map(FieldSelector::parse).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return Output::err(format!("{e}\n")),
    };
    // kubectl's own checks, before it asks the server.
    if reqs.iter().any(|(_, names)| names.iter().any(String::is_empty)) {
        return Output::err("error: resource name may not be empty\n");
    }
    if flags.selector.is_some() && reqs.iter().any(|(_, names)| !names.is_empty()) {
        return Output::err("error: name cannot be provided when a selector is specified\n");
    }
    match flags.subresource.as_deref() {
        None | Some("status") => {}
        Some("scale") => return scale_subresource(cluster, flags, &reqs),
        Some(other) => return Output::err(format!("error: invalid subresource value: {other:?}. Must be one of [status scale]\n")),
    }
    let ns = namespace(flags);
    let multi = reqs.len() > 1 || flags.positional[0].contains('/');
    let mut sections = Vec::new();
    let mut errors = String::new();
    for (info, names) in &reqs {
        let scope = (info.namespaced && !flags.all_namespaces).then_some(ns.as_str());
        let mut objects: Vec<&Object> = if names.is_empty() {
            cluster.store().list(info.kind, scope).filter(|o| selector.matches(o.meta().labels.as_ref()) && fields.matches(o)).collect()
        } else {
            let mut found = Vec::new();
            for name in names {
                match cluster.get(&ObjectKey::new(info.kind, scope.unwrap_or(""), name)) {
                    Some(o) => found.push(o),
                    None => errors.push_str(&format!("Error from server (NotFound): {} \"{name}\" not found\n", info.qualified_plural())),
                }
            }
            found
        };
        if objects.is_empty() {
            continue;
        }
        if let Some(t) = &sort_by {
            sort(&mut objects, t);
        }
        let single = names.len() == 1 && reqs.len() == 1;
        if let Some(special) = &special {
            sections.push(special.render(&objects, single, flags.no_headers));
            continue;
        }
        let opts = columns::Options {
            all_namespaces: flags.all_namespaces,
            show_labels: flags.show_labels,
            label_columns: &flags.label_columns,
            no_headers: flags.no_headers,
            single,
            kind_prefix: multi || flags.show_kind,
        };
        sections.push(columns::render(cluster, info, &objects, format, opts));
    }
    let tables = matches!(format, columns::Format::Table | columns::Format::Wide) && special.is_none();
    let mut text = sections.join(if tables && !flags.no_headers { "\n" } else { "" });
    if sections.is_empty() && errors.is_empty() {
        text = if flags.all_namespaces || reqs.iter().all(|(i, _)| !i.namespaced) {
            "No resources found\n".into()
        } else {
            format!("No resources found in {ns} namespace.\n")
        };
    }
    let ok = errors.is_empty();
    text.push_str(&errors);
    // The API server's warning header for the deprecated kind, printed first by kubectl.
    if reqs.iter().any(|(info, _)| info.kind == "Endpoints") {
        text.insert_str(0, super::apply::ENDPOINTS_DEPRECATED);
    }
    Output { text, ok }
}

/// `--field-selector`: `path=value`, `path==value`, `path!=value`, comma-separated, over the
/// object's JSON (`metadata.name`, `status.phase`, `involvedObject.kind`, `reason`, …).
#[derive(Default)]
struct FieldSelector(Vec<(String, String, bool)>);

impl FieldSelector {
    fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (path, value, equal) = if let Some((p, v)) = part.split_once("!=") {
                (p, v, false)
            } else if let Some((p, v)) = part.split_once("==") {
                (p, v, true)
            } else if let Some((p, v)) = part.split_once('=') {
                (p, v, true)
            } else {
                return Err(format!("error: invalid selector: '{text}'; can't understand '{part}'"));
            };
            reqs.push((path.trim().to_string(), value.trim().to_string(), equal));
        }
        Ok(FieldSelector(reqs))
    }

    fn matches(&self, object: &Object) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let json = object.to_json();
        self.0.iter().all(|(path, value, equal)| {
            let found = path.split('.').try_fold(&json, |v, k| v.get(k));
            let text = match found {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (text == *value) == *equal
        })
    }
}

/// The printers that read the object's JSON: `-o jsonpath=…` and `-o custom-columns=…`.
enum Special {
    JsonPath(Template),
    Columns(Vec<(String, Template)>),
}

impl Special {
    /// `Ok(None)` for a format kubectl has and kubeplay does not (go-template, files).
    fn parse(output: &str) -> Result<Option<Special>, String> {
        let (name, arg) = output.split_once('=').unwrap_or((output, ""));
        match name {
            "jsonpath" => {
                if arg.is_empty() {
                    return Err("error: template format specified but no template given\n".into());
                }
                let t = Template::parse(arg).map_err(|e| format!("error: error parsing jsonpath {arg}, {e}\n"))?;
                Ok(Some(Special::JsonPath(t)))
            }
            "custom-columns" => {
                if arg.is_empty() {
                    return Err("error: custom-columns format specified but no custom columns given\n".into());
                }
                let mut cols = Vec::new();
                for spec in arg.split(',') {
                    let Some((header, path)) = spec.split_once(':') else {
                        return Err(format!("error: unexpected custom-columns spec: {spec}, expected <header>:<json-path-expr>\n"));
                    };
                    let t = Template::expression(path).map_err(|e| format!("error: {e}\n"))?;
                    cols.push((header.to_string(), t));
                }
                Ok(Some(Special::Columns(cols)))
            }
            "go-template"
            | "template"
            | "kyaml"
            | "go-template-file"
            | "templatefile"
            | "jsonpath-file"
            | "custom-columns-file"
            | "jsonpath-as-json" => Err(format!("error: kubeplay does not model -o {name}; use -o jsonpath=… or -o custom-columns=…\n")),
            _ => Ok(None),
        }
    }

    fn render(&self, objects: &[&Object], single: bool, no_headers: bool) -> String {
        match self {
            Special::JsonPath(t) => {
                let data = super::printers::object_or_list(objects.iter().copied(), single);
                t.execute(&data)
            }
            Special::Columns(cols) => {
                let mut rows = Vec::new();
                if !no_headers {
                    rows.push(cols.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>());
                }
                for o in objects {
                    let json = o.to_json();
                    rows.push(
                        cols.iter()
                            .map(|(_, t)| {
                                let values = t.values(&json);
                                if values.is_empty() {
                                    "<none>".to_string()
                                } else {
                                    values.iter().map(go_sprint).collect::<Vec<_>>().join(",")
                                }
                            })
                            .collect(),
                    );
                }
                super::printers::table(&rows)
            }
        }
    }
}

/// Go's `fmt.Sprint` of a decoded JSON value (custom columns print maps as `map[k:v]`).
fn go_sprint(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_sprint).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!("map[{}]", m.iter().map(|(k, v)| format!("{k}:{}", go_sprint(v))).collect::<Vec<_>>().join(" ")),
        other => other.to_string(),
    }
}

/// `--sort-by`: by the expression's first value — numbers by value, the rest as text; objects
/// without it first, ties kept in order.
fn sort(objects: &mut [&Object], by: &Template) {
    use std::cmp::Ordering;
    let mut keyed: Vec<(Option<serde_json::Value>, &Object)> =
        objects.iter().map(|o| (by.values(&o.to_json()).into_iter().next(), *o)).collect();
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
            _ => jsonpath::text(x).cmp(&jsonpath::text(y)),
        },
    });
    for (slot, (_, o)) in objects.iter_mut().zip(keyed) {
        *slot = o;
    }
}

/// The `scale` subresource of a scalable object (`autoscaling/v1` Scale).
pub(super) fn scale_object(object: &Object) -> Option<serde_json::Value> {
    let json = object.to_json();
    if !matches!(object.info().kind, "Deployment" | "ReplicaSet" | "StatefulSet" | "ReplicationController") {
        return None;
    }
    let meta = json.get("metadata").cloned().unwrap_or_default();
    let pick = |k: &str| meta.get(k).cloned();
    let mut metadata = serde_json::Map::new();
    for k in ["creationTimestamp", "name", "namespace", "resourceVersion", "uid"] {
        if let Some(v) = pick(k) {
            metadata.insert(k.into(), v);
        }
    }
    // The selector as a label query string, as the scale subresource reports it.
    let selector = json.pointer("/spec/selector").and_then(|s| {
        let sel: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector = serde_json::from_value(s.clone()).ok()?;
        Some(columns::selector_string(&sel))
    });
    let mut status = serde_json::json!({"replicas": json.pointer("/status/replicas").cloned().unwrap_or(serde_json::json!(0))});
    if let Some(sel) = selector.filter(|s| !s.is_empty()) {
        status["selector"] = serde_json::Value::String(sel);
    }
    Some(serde_json::json!({
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": metadata,
        "spec": {"replicas": json.pointer("/spec/replicas").cloned().unwrap_or(serde_json::json!(1))},
        "status": status,
    }))
}

/// `kubectl get KIND NAME --subresource=scale`: the Scale, as a table (DESIRED, AVAILABLE) or
/// in any output format.
fn scale_subresource(cluster: &Cluster, flags: &Flags, reqs: &[(&'static crate::api::kinds::KindInfo, Vec<String>)]) -> Output {
    let ns = namespace(flags);
    let mut rows = vec![vec!["NAME".to_string(), "DESIRED".into(), "AVAILABLE".into()]];
    let mut docs = Vec::new();
    let mut errors = String::new();
    for (info, names) in reqs {
        for name in names {
            let key = ObjectKey::new(info.kind, if info.namespaced { &ns } else { "" }, name);
            let Some(object) = cluster.get(&key) else {
                errors.push_str(&format!("Error from server (NotFound): {} {name:?} not found\n", info.qualified_plural()));
                continue;
            };
            let Some(scale) = scale_object(object) else {
                errors.push_str("Error from server (NotFound): the server could not find the requested resource\n");
                continue;
            };
            let available = object.to_json().pointer("/status/availableReplicas").and_then(serde_json::Value::as_i64).unwrap_or(0);
            rows.push(vec![name.clone(), scale["spec"]["replicas"].to_string(), available.to_string()]);
            docs.push(scale);
        }
    }
    let mut text = match flags.output.as_deref() {
        _ if docs.is_empty() => String::new(),
        Some("yaml") if docs.len() == 1 => super::printers::yaml(&docs[0]),
        Some("json") if docs.len() == 1 => super::printers::json(&docs[0]),
        Some("name") => docs.iter().map(|d| format!("scale.autoscaling/{}\n", d["metadata"]["name"].as_str().unwrap_or(""))).collect(),
        _ => super::printers::table(&rows),
    };
    let ok = errors.is_empty();
    text.push_str(&errors);
    Output { text, ok }
}
