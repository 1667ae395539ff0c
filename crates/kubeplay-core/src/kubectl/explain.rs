//! `kubectl explain RESOURCE[.field…] [--recursive]`: the kind's schema as kubectl 1.37's
//! plaintext template prints it (`pkg/explain/v2/templates/plaintext.tmpl`), from the JSON
//! schema k8s-openapi carries. That schema puts a field's description beside its `$ref`
//! where the API server's OpenAPI v3 wraps the `$ref` in `allOf`; the walk below reads both,
//! and takes enum values from the "Possible enum values" list in a description.

use k8s_openapi::schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value};

use super::args::resolve;
use super::Output;
use crate::api::kinds::KindInfo;

pub(super) fn explain(args: &[String]) -> Output {
    let mut recursive = false;
    let mut target = None;
    for arg in args {
        match arg.as_str() {
            "--recursive" | "--recursive=true" => recursive = true,
            "--recursive=false" => recursive = false,
            "-o" | "--output" | "--output=plaintext" | "plaintext" => {}
            a if a.starts_with("--api-version") => {}
            a if a.starts_with('-') => return Output::err(format!("error: unknown flag: {a}\nSee 'kubectl explain --help' for usage.\n")),
            a if target.is_none() => target = Some(a.to_string()),
            _ => return Output::err("error: We accept only this format: explain RESOURCE\n"),
        }
    }
    let Some(target) = target else {
        return Output::err("You must specify the type of resource to explain. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nSee 'kubectl explain -h' for help and examples\n");
    };
    let mut parts = target.split('.');
    let resource = parts.next().unwrap_or_default();
    let path: Vec<&str> = parts.collect();
    let info = match resolve(resource) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let Some(document) = schema_of(info.kind) else {
        return Output::err(format!("error: GVR ({}) not found in OpenAPI schema\n", gvr(info)));
    };
    let mut out = String::new();
    if !info.group.is_empty() {
        out.push_str(&format!("GROUP:      {}\n", info.group));
    }
    out.push_str(&format!("KIND:       {}\nVERSION:    {}\n\n", info.kind, info.versions.first().copied().unwrap_or("v1")));
    let doc = Doc { defs: document.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default() };
    // k8s-openapi marks every object's metadata required (it is not optional in Rust); the
    // API server's schema does not.
    let mut document = document;
    if let Some(required) = document.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|r| r != "metadata");
    }
    let walk = Walk { doc: &doc, recursive };
    match walk.output(&document, &path, &mut Vec::new()) {
        Some(text) if !text.is_empty() => out.push_str(&text),
        _ => return Output::err(format!("error: field \"{}\" does not exist\n", path.last().unwrap_or(&""))),
    }
    out.push('\n');
    Output::ok(out)
}

fn gvr(info: &KindInfo) -> String {
    let version = info.versions.first().copied().unwrap_or("v1");
    format!("{}/{version}, Resource={}", info.group, info.plural)
}

/// The JSON schema of a kind's Go type (with every type it refers to under `$defs`).
fn schema_of(kind: &str) -> Option<Value> {
    use k8s_openapi::api as k;
    fn root<T: JsonSchema>() -> Value {
        serde_json::to_value(SchemaGenerator::default().into_root_schema_for::<T>()).unwrap_or(Value::Null)
    }
    Some(match kind {
        "Pod" => root::<k::core::v1::Pod>(),
        "Node" => root::<k::core::v1::Node>(),
        "Namespace" => root::<k::core::v1::Namespace>(),
        "Service" => root::<k::core::v1::Service>(),
        "Event" => root::<k::core::v1::Event>(),
        "ConfigMap" => root::<k::core::v1::ConfigMap>(),
        "Secret" => root::<k::core::v1::Secret>(),
        "ServiceAccount" => root::<k::core::v1::ServiceAccount>(),
        "PersistentVolume" => root::<k::core::v1::PersistentVolume>(),
        "PersistentVolumeClaim" => root::<k::core::v1::PersistentVolumeClaim>(),
        "Endpoints" => root::<k::core::v1::Endpoints>(),
        "LimitRange" => root::<k::core::v1::LimitRange>(),
        "ResourceQuota" => root::<k::core::v1::ResourceQuota>(),
        "ReplicationController" => root::<k::core::v1::ReplicationController>(),
        "PodTemplate" => root::<k::core::v1::PodTemplate>(),
        "Deployment" => root::<k::apps::v1::Deployment>(),
        "ReplicaSet" => root::<k::apps::v1::ReplicaSet>(),
        "DaemonSet" => root::<k::apps::v1::DaemonSet>(),
        "StatefulSet" => root::<k::apps::v1::StatefulSet>(),
        "ControllerRevision" => root::<k::apps::v1::ControllerRevision>(),
        "Job" => root::<k::batch::v1::Job>(),
        "CronJob" => root::<k::batch::v1::CronJob>(),
        "HorizontalPodAutoscaler" => root::<k::autoscaling::v2::HorizontalPodAutoscaler>(),
        "Ingress" => root::<k::networking::v1::Ingress>(),
        "IngressClass" => root::<k::networking::v1::IngressClass>(),
        "NetworkPolicy" => root::<k::networking::v1::NetworkPolicy>(),
        "EndpointSlice" => root::<k::discovery::v1::EndpointSlice>(),
        "PodDisruptionBudget" => root::<k::policy::v1::PodDisruptionBudget>(),
        "Role" => root::<k::rbac::v1::Role>(),
        "RoleBinding" => root::<k::rbac::v1::RoleBinding>(),
        "ClusterRole" => root::<k::rbac::v1::ClusterRole>(),
        "ClusterRoleBinding" => root::<k::rbac::v1::ClusterRoleBinding>(),
        "StorageClass" => root::<k::storage::v1::StorageClass>(),
        "PriorityClass" => root::<k::scheduling::v1::PriorityClass>(),
        "Lease" => root::<k::coordination::v1::Lease>(),
        _ => return None,
    })
}

struct Doc {
    defs: Map<String, Value>,
}

impl Doc {
    fn resolve(&self, schema: &Value) -> Option<&Value> {
        let r = schema.get("$ref")?.as_str()?;
        self.defs.get(r.rsplit('/').next()?)
    }
}

/// A property that carries its own description beside a `$ref` reads as OpenAPI v3's
/// `{description, allOf: [{$ref}]}`: its description first, then the referenced type's.
fn normalized(schema: &Value) -> Value {
    match schema {
        Value::Object(m) if m.contains_key("$ref") && m.len() > 1 => {
            let mut out = m.clone();
            let r = out.remove("$ref").unwrap_or(Value::Null);
            out.insert("allOf".into(), Value::Array(vec![serde_json::json!({"$ref": r})]));
            Value::Object(out)
        }
        other => other.clone(),
    }
}

struct Walk<'a> {
    doc: &'a Doc,
    recursive: bool,
}

impl Walk<'_> {
    /// The template's "output": follow the field path, then describe where it ends.
    fn output(&self, schema: &Value, path: &[&str], history: &mut Vec<String>) -> Option<String> {
        let schema = normalized(schema);
        let reference = schema.get("$ref").and_then(Value::as_str).map(str::to_string);
        let resolved = self.doc.resolve(&schema).cloned().unwrap_or_else(|| schema.clone());
        if path.is_empty() {
            let mut out = String::from("DESCRIPTION:\n");
            let description = self.description(&schema);
            let description = if description.is_empty() { "<empty>".to_string() } else { description };
            out.push_str(&indent(4, &wrap(&description, 76)));
            out.push('\n');
            let fields = self.field_list(&schema, 1, &mut Vec::new());
            if !fields.is_empty() {
                out.push_str("FIELDS:\n");
                out.push_str(&fields);
            }
            return Some(out);
        }
        if let Some(r) = &reference {
            if history.contains(r) {
                return None;
            }
            history.push(r.clone());
        }
        if let Some(sub) = resolved.get("properties").and_then(|p| p.get(path[0])) {
            let mut out = String::new();
            if path.len() == 1 {
                out.push_str(&format!("FIELD: {} <{}>\n", path[0], self.type_guess(sub)));
                out.push_str(&enum_text(sub, true, 2));
                out.push_str("\n\n");
            }
            out.push_str(&self.output(sub, &path[1..], &mut Vec::new())?);
            return Some(out);
        }
        if let Some(items) = resolved.get("items") {
            return self.output(items, path, history);
        }
        if let Some(ap) = resolved.get("additionalProperties").filter(|a| a.is_object()) {
            return self.output(ap, path, history);
        }
        for alternative in resolved.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            if let Some(text) = self.output(alternative, path, &mut history.clone()).filter(|t| !t.is_empty()) {
                return Some(text);
            }
        }
        None
    }

    /// The template's "description": the schema's and those of what it wraps.
    fn description(&self, schema: &Value) -> String {
        let schema = normalized(schema);
        let resolved = self.doc.resolve(&schema).cloned().unwrap_or(schema);
        let mut out = String::new();
        if let Some(d) = resolved.get("description").and_then(Value::as_str).filter(|d| !d.is_empty()) {
            out.push_str(d);
            out.push('\n');
        }
        for alternative in resolved.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            out.push_str(&self.description(alternative));
        }
        if let Some(items) = resolved.get("items") {
            out.push_str(&self.description(items));
        }
        if let Some(ap) = resolved.get("additionalProperties").filter(|a| a.is_object()) {
            out.push_str(&self.description(ap));
        }
        out
    }

    /// The template's "fieldList".
    fn field_list(&self, schema: &Value, level: usize, history: &mut Vec<String>) -> String {
        let schema = normalized(schema);
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            if history.iter().any(|h| h == r) {
                return String::new();
            }
            history.push(r.to_string());
        }
        let resolved = self.doc.resolve(&schema).cloned().unwrap_or_else(|| schema.clone());
        let mut out = String::new();
        let required: Vec<&str> =
            resolved.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        for (name, field) in resolved.get("properties").and_then(Value::as_object).into_iter().flatten() {
            out.push_str(&self.field_detail(name, field, required.contains(&name.as_str()), level));
            if self.recursive {
                out.push_str(&self.field_list(field, level + 1, &mut history.clone()));
            }
        }
        for alternative in resolved.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            out.push_str(&self.field_list(alternative, level, &mut history.clone()));
        }
        if let Some(items) = resolved.get("items") {
            out.push_str(&self.field_list(items, level, &mut history.clone()));
        }
        if let Some(ap) = resolved.get("additionalProperties").filter(|a| a.is_object()) {
            out.push_str(&self.field_list(ap, level, &mut history.clone()));
        }
        out
    }

    /// The template's "fieldDetail".
    fn field_detail(&self, name: &str, field: &Value, required: bool, level: usize) -> String {
        let pad = level * 2;
        let mut out = format!("{}{name}\t<{}>", " ".repeat(pad), self.type_guess(field));
        if required {
            out.push_str(" -required-");
        }
        out.push_str(&enum_text(field, false, pad));
        out.push('\n');
        if !self.recursive {
            let description = field.get("description").and_then(Value::as_str).filter(|d| !d.is_empty()).unwrap_or("<no description>");
            out.push_str(&indent(pad + 2, &wrap(description, 78 - pad)));
            out.push_str("\n\n");
        }
        out
    }

    /// The template's "typeGuess": `string`, `integer`, `[]Container`, `map[string]string`,
    /// `Object`, or a referenced type's name.
    fn type_guess(&self, schema: &Value) -> String {
        let schema = normalized(schema);
        if let Some(items) = schema.get("items") {
            return format!("[]{}", self.type_guess(items));
        }
        if let Some(ap) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            return format!("map[string]{}", self.type_guess(ap));
        }
        if let (Some([single]), None) = (schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice), schema.get("properties")) {
            return self.type_guess(single);
        }
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let target = self.doc.resolve(&schema);
            let ty = target.and_then(|t| t.get("type")).and_then(Value::as_str);
            return match ty {
                Some(t) if t != "object" => t.to_string(),
                _ => r.rsplit('/').next().and_then(|n| n.rsplit('.').next()).filter(|n| !n.is_empty()).unwrap_or("Object").to_string(),
            };
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") | None => "Object".into(),
            Some(t) => t.to_string(),
        }
    }
}

/// The values listed under "Possible enum values:" in a description, in order.
fn enum_values(schema: &Value) -> Vec<String> {
    let Some(d) = schema.get("description").and_then(Value::as_str) else { return Vec::new() };
    let Some((_, list)) = d.split_once("Possible enum values:") else { return Vec::new() };
    list.lines()
        .filter_map(|l| l.trim_start().strip_prefix("- `\""))
        .filter_map(|l| l.split_once("\"`").map(|(v, _)| v.to_string()))
        .collect()
}

/// The template's "extractEnum": `ENUM:` one per line for a field on its own, `enum: a, b`
/// (four at most) in a field list.
fn enum_text(schema: &Value, long_view: bool, pad: usize) -> String {
    let values = enum_values(schema);
    if values.is_empty() {
        return String::new();
    }
    let shown = |v: &String| if v.is_empty() { "\"\"".to_string() } else { v.clone() };
    if long_view {
        let mut out = String::from("ENUM:");
        for v in &values {
            out.push_str(&format!("\n    {}", shown(v)));
        }
        return out;
    }
    let mut out = format!("\n{}enum: ", " ".repeat(pad));
    for (i, v) in values.iter().enumerate() {
        if i >= 4 {
            out.push_str(", ....");
            break;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&shown(v));
    }
    out
}

/// kubectl's `indent`: the pad before the text and after every newline in it.
fn indent(amount: usize, text: &str) -> String {
    let pad = " ".repeat(amount);
    format!("{pad}{}", text.replace('\n', &format!("\n{pad}")))
}

/// mitchellh/go-wordwrap's `WrapString`, which kubectl's word-wrap writer uses: breaks at
/// spaces so lines stay within `limit` runes, keeps existing newlines, never splits a word.
fn wrap(s: &str, limit: usize) -> String {
    let mut buf = String::with_capacity(s.len());
    let (mut current, mut word, mut space) = (0usize, String::new(), String::new());
    let (mut word_len, mut space_len) = (0usize, 0usize);
    for c in s.chars() {
        if c == '\n' {
            buf.push_str(&space);
            space.clear();
            space_len = 0;
            buf.push_str(&word);
            word.clear();
            word_len = 0;
            buf.push(c);
            current = 0;
        } else if c.is_whitespace() && c != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                buf.push_str(&space);
                space.clear();
                space_len = 0;
                buf.push_str(&word);
                word.clear();
                word_len = 0;
            }
            space.push(c);
            space_len += 1;
        } else {
            word.push(c);
            word_len += 1;
            if current + space_len + word_len > limit && word_len < limit {
                buf.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if word.is_empty() {
        if current + space_len <= limit {
            buf.push_str(&space);
        }
    } else {
        buf.push_str(&space);
        buf.push_str(&word);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_as_go_wordwrap_does() {
        assert_eq!(wrap("aaa bbb ccc", 7), "aaa bbb\nccc");
        assert_eq!(wrap("a verylongword b", 4), "a\nverylongword\nb");
        assert_eq!(wrap("line one\nline two", 20), "line one\nline two");
    }

    #[test]
    fn explains_a_field_with_its_type_description_and_enum() {
        let out = explain(&["pod.spec.containers.imagePullPolicy".into()]);
        assert!(out.ok, "{}", out.text);
        // k8s-openapi's schema has no enum lists (the API server's v3 schema adds them).
        assert!(out.text.starts_with("KIND:       Pod\nVERSION:    v1\n\nFIELD: imagePullPolicy <string>\n\n\nDESCRIPTION:\n    Image pull policy. One of Always, Never, IfNotPresent. Defaults to Always if\n    :latest tag"), "{}", out.text);
        let with_enum = serde_json::json!({"description": "x\n\nPossible enum values:\n - `\"Always\"` means a.\n - `\"Never\"` means b."});
        assert_eq!(enum_text(&with_enum, true, 2), "ENUM:\n    Always\n    Never");
        assert_eq!(enum_text(&with_enum, false, 2), "\n  enum: Always, Never");
        let d = explain(&["deployment.spec".into()]);
        assert!(
            d.text.starts_with(
                "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: spec <DeploymentSpec>\n\n\nDESCRIPTION:\n"
            ),
            "{}",
            d.text
        );
        assert!(d.text.contains("\n  replicas\t<integer>\n    Number of desired pods."), "{}", d.text);
        assert!(d.text.contains("\n  selector\t<LabelSelector> -required-\n"), "{}", d.text);
        assert!(d.text.contains("\n  strategy\t<DeploymentStrategy>\n"), "{}", d.text);
        let lists = explain(&["pod.spec".into()]);
        assert!(lists.text.contains("\n  containers\t<[]Container> -required-\n"), "{}", lists.text);
        assert!(lists.text.contains("\n  nodeSelector\t<map[string]string>\n"), "{}", lists.text);
        let missing = explain(&["pod.spec.nope".into()]);
        assert_eq!(missing.text, "error: field \"nope\" does not exist\n");
        assert!(explain(&["nope".into()]).text.contains("doesn't have a resource type"));
    }
}
