//! Semantic validation, worded as the API server words its field errors
//! (`k8s.io/apimachinery/pkg/util/validation/field`): `<path>: Required value`,
//! `<path>: Invalid value: <value>: <detail>`, `<path>: Unsupported value: …`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::yaml::{Path, Seg};
use crate::api::labels::Selector;
use crate::api::Object;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: Path,
    pub detail: String,
    /// The path as the API server prints it when that differs from the document's (a map
    /// key is always bracketed: `data[bad key]`).
    pub shown: Option<String>,
}

impl FieldError {
    fn required(path: Path) -> FieldError {
        FieldError { path, detail: "Required value".into(), shown: None }
    }

    fn required_because(path: Path, why: &str) -> FieldError {
        FieldError { path, detail: format!("Required value: {why}"), shown: None }
    }

    fn invalid(path: Path, value: &str, why: &str) -> FieldError {
        FieldError { path, detail: format!("Invalid value: {value}: {why}"), shown: None }
    }

    fn other(path: Path, detail: String) -> FieldError {
        FieldError { path, detail, shown: None }
    }

    /// An error on a map entry, printed `field[key]`.
    fn at_key(mut self, field: &str, key_name: &str) -> FieldError {
        self.shown = Some(format!("{field}[{key_name}]"));
        self
    }

    fn unsupported(path: Path, value: &str, supported: &[&str]) -> FieldError {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        FieldError { path, detail: format!("Unsupported value: {value:?}: supported values: {}", list.join(", ")), shown: None }
    }
}

const DNS1123_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_LABEL: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn path(segs: &[&str]) -> Path {
    segs.iter().map(|s| Seg::Key((*s).to_string())).collect()
}

fn with(base: &Path, more: &[Seg]) -> Path {
    let mut p = base.clone();
    p.extend_from_slice(more);
    p
}

fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// Validates an object. `raw` is the document as written, for "Required value" checks on
/// fields that k8s-openapi fills with defaults when absent.
pub fn validate(object: &Object, raw: &serde_json::Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name_rule: fn(&str) -> bool;
    let name_msg: &str;
    match object {
        Object::Service(_) => (name_rule, name_msg) = (is_dns1035_label, DNS1035_LABEL),
        // A StatefulSet's name becomes its Pods' hostnames.
        Object::Namespace(_) | Object::StatefulSet(_) => (name_rule, name_msg) = (is_dns1123_label, DNS1123_LABEL),
        _ => (name_rule, name_msg) = (is_dns1123_subdomain, DNS1123_SUBDOMAIN),
    }
    validate_meta(object.meta(), object.info().namespaced, name_rule, name_msg, &mut errs);
    let spec = |p: &[&str]| pointer(raw, p).is_some();
    match object {
        Object::Pod(pod) => match &pod.spec {
            Some(s) => validate_pod_spec(s, &path(&["spec"]), &mut errs),
            None => errs.push(FieldError::required(path(&["spec"]))),
        },
        Object::Deployment(d) => {
            let s = Some(&d.spec);
            workload(s.map(|s| &s.selector), s.map(|s| &s.template), s.and_then(|s| s.replicas), &spec, &mut errs);
            if let Some(policy) = s.and_then(|s| s.template.spec.as_ref()).and_then(|p| p.restart_policy.as_deref()) {
                if policy != "Always" {
                    errs.push(FieldError::unsupported(path(&["spec", "template", "spec", "restartPolicy"]), policy, &["Always"]));
                }
            }
            validate_deployment_strategy(d.spec.strategy.as_ref(), &mut errs);
            if let Some(deadline) = d.spec.progress_deadline_seconds {
                if deadline < 0 {
                    errs.push(FieldError::invalid(
                        path(&["spec", "progressDeadlineSeconds"]),
                        &deadline.to_string(),
                        "must be greater than or equal to 0",
                    ));
                }
                if deadline <= d.spec.min_ready_seconds.unwrap_or(0) {
                    errs.push(FieldError::invalid(
                        path(&["spec", "progressDeadlineSeconds"]),
                        &deadline.to_string(),
                        "must be greater than minReadySeconds",
                    ));
                }
            }
        }
        Object::ReplicaSet(rs) => {
            let s = Some(&rs.spec);
            workload(s.map(|s| &s.selector), s.and_then(|s| s.template.as_ref()), s.and_then(|s| s.replicas), &spec, &mut errs);
        }
        Object::Job(job) => validate_job(job, &mut errs),
        Object::CronJob(cj) => validate_cron_job(cj, &mut errs),
        Object::StatefulSet(sts) => {
            let s = Some(&sts.spec);
            let claims: Vec<&str> = sts.spec.volume_claim_templates.iter().flatten().filter_map(|c| c.metadata.name.as_deref()).collect();
            workload_with_claims(s.map(|s| &s.selector), s.map(|s| &s.template), s.and_then(|s| s.replicas), &spec, &claims, &mut errs);
            if let Some(policy) = s.and_then(|s| s.template.spec.as_ref()).and_then(|p| p.restart_policy.as_deref()) {
                if policy != "Always" {
                    errs.push(FieldError::unsupported(path(&["spec", "template", "spec", "restartPolicy"]), policy, &["Always"]));
                }
            }
            if let Some(p) = s.and_then(|s| s.pod_management_policy.as_deref()).filter(|p| *p != "OrderedReady" && *p != "Parallel") {
                errs.push(FieldError::unsupported(path(&["spec", "podManagementPolicy"]), p, &["OrderedReady", "Parallel"]));
            }
        }
        Object::DaemonSet(ds) => {
            let s = Some(&ds.spec);
            workload(s.map(|s| &s.selector), s.map(|s| &s.template), None, &spec, &mut errs);
            if let Some(policy) = s.and_then(|s| s.template.spec.as_ref()).and_then(|p| p.restart_policy.as_deref()) {
                if policy != "Always" {
                    errs.push(FieldError::unsupported(path(&["spec", "template", "spec", "restartPolicy"]), policy, &["Always"]));
                }
            }
            if let Some(t) = s.and_then(|s| s.update_strategy.as_ref()).and_then(|st| st.type_.as_deref()) {
                if t != "RollingUpdate" && t != "OnDelete" {
                    errs.push(FieldError::unsupported(path(&["spec", "updateStrategy", "type"]), t, &["OnDelete", "RollingUpdate"]));
                }
            }
        }
        Object::Service(svc) => validate_service(svc, &mut errs),
        Object::Secret(secret) => validate_secret(secret, &mut errs),
        Object::ConfigMap(cm) => validate_config_map(cm, &mut errs),
        Object::Stored(st) if st.info.kind == "PriorityClass" => validate_priority_class(st, &mut errs),
        _ => {}
    }
    errs
}

/// `ValidatePriorityClass`: the `system-` names are the system classes' own, and user values
/// stop at one billion.
fn validate_priority_class(st: &crate::api::Stored, errs: &mut Vec<FieldError>) {
    use crate::api::priority_class::{HIGHEST_USER_DEFINABLE_PRIORITY, SYSTEM_CLASSES, SYSTEM_PREFIX};
    let name = st.metadata.name.as_deref().unwrap_or("");
    let value = st.body.get("value").and_then(serde_json::Value::as_i64).unwrap_or(0);
    let global = st.body.get("globalDefault").and_then(serde_json::Value::as_bool).unwrap_or(false);
    if name.starts_with(SYSTEM_PREFIX) {
        let why = match SYSTEM_CLASSES.iter().find(|(n, ..)| *n == name) {
            None => Some(format!("{name} is not a known system priority class")),
            Some((n, v, _)) if i64::from(*v) != value => Some(format!("value of {n} PriorityClass must be {v}")),
            Some((n, ..)) if global => Some(format!("globalDefault of {n} PriorityClass must be false")),
            Some(_) => None,
        };
        if let Some(why) = why {
            errs.push(FieldError::other(
                path(&["metadata", "name"]),
                format!("Forbidden: priority class names with '{SYSTEM_PREFIX}' prefix are reserved for system use only. error: {why}"),
            ));
        }
    } else if value > HIGHEST_USER_DEFINABLE_PRIORITY {
        errs.push(FieldError::other(
            path(&["value"]),
            format!("Forbidden: maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
        ));
    }
    if let Some(policy) = st.body.get("preemptionPolicy").and_then(serde_json::Value::as_str) {
        if policy != "PreemptLowerPriority" && policy != "Never" {
            errs.push(FieldError::unsupported(path(&["preemptionPolicy"]), policy, &["Never", "PreemptLowerPriority"]));
        }
    }
}

/// `ValidateDeploymentStrategy` (after defaulting: no type means RollingUpdate 25%/25%).
fn validate_deployment_strategy(strategy: Option<&k8s_openapi::api::apps::v1::DeploymentStrategy>, errs: &mut Vec<FieldError>) {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let Some(strategy) = strategy else { return };
    let at = |f: &[&str]| {
        let mut p = path(&["spec", "strategy"]);
        p.extend(f.iter().map(|s| key(s)));
        p
    };
    // The API server prints a composite value as its JSON (an IntOrString: `0`, `"25%"`).
    let go = |v: &IntOrString| match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => format!("{s:?}"),
    };
    match strategy.type_.as_deref().unwrap_or("RollingUpdate") {
        "Recreate" => {
            if strategy.rolling_update.is_some() {
                errs.push(FieldError::other(
                    at(&["rollingUpdate"]),
                    "Forbidden: may not be specified when strategy `type` is 'Recreate'".into(),
                ));
            }
        }
        "RollingUpdate" => {
            let ru = strategy.rolling_update.clone().unwrap_or_default();
            let default = IntOrString::String("25%".into());
            let (unavailable, surge) = (ru.max_unavailable.unwrap_or(default.clone()), ru.max_surge.unwrap_or(default));
            let value_of = |v: &IntOrString| match v {
                IntOrString::Int(i) => Some(i64::from(*i)),
                IntOrString::String(s) => {
                    s.strip_suffix('%').filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).and_then(|n| n.parse().ok())
                }
            };
            for (field, v) in [("maxUnavailable", &unavailable), ("maxSurge", &surge)] {
                match v {
                    IntOrString::String(_) if value_of(v).is_none() => errs.push(FieldError::invalid(
                        at(&["rollingUpdate", field]),
                        &go(v),
                        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                    )),
                    _ if value_of(v).is_some_and(|n| n < 0) => {
                        errs.push(FieldError::invalid(at(&["rollingUpdate", field]), &go(v), "must be greater than or equal to 0"))
                    }
                    _ => {}
                }
            }
            if value_of(&unavailable) == Some(0) && value_of(&surge) == Some(0) {
                errs.push(FieldError::invalid(
                    at(&["rollingUpdate", "maxUnavailable"]),
                    &go(&unavailable),
                    "may not be 0 when `maxSurge` is 0",
                ));
            }
            if matches!(&unavailable, IntOrString::String(_)) && value_of(&unavailable).is_some_and(|n| n > 100) {
                errs.push(FieldError::invalid(
                    at(&["rollingUpdate", "maxUnavailable"]),
                    &go(&unavailable),
                    "must not be greater than 100%",
                ));
            }
        }
        other => {
            // NotSupported on the whole strategy struct, printed with Go's `%#v`.
            let rolling = if strategy.rolling_update.is_some() {
                "(*apps.RollingUpdateDeployment)(0xc000a9e3f0)"
            } else {
                "(*apps.RollingUpdateDeployment)(nil)"
            };
            errs.push(FieldError::other(
                path(&["spec", "strategy"]),
                format!("Unsupported value: apps.DeploymentStrategy{{Type:{other:?}, RollingUpdate:{rolling}}}: supported values: \"Recreate\", \"RollingUpdate\""),
            ));
        }
    }
}

/// `ValidateSecret`: the keys each built-in type requires (`stringData` counts as data).
fn validate_secret(secret: &k8s_openapi::api::core::v1::Secret, errs: &mut Vec<FieldError>) {
    let has = |key: &str| {
        secret.data.as_ref().is_some_and(|d| d.contains_key(key)) || secret.string_data.as_ref().is_some_and(|d| d.contains_key(key))
    };
    let data_key = |key: &str| path(&["data", key]);
    let keys: std::collections::BTreeSet<&String> =
        secret.data.iter().flatten().map(|(k, _)| k).chain(secret.string_data.iter().flatten().map(|(k, _)| k)).collect();
    for k in keys {
        for msg in config_key_errors(k) {
            errs.push(FieldError::invalid(data_key(k), &format!("{k:?}"), &msg).at_key("data", k));
        }
    }
    match secret.type_.as_deref().unwrap_or("Opaque") {
        "kubernetes.io/service-account-token" => {
            const SA: &str = "kubernetes.io/service-account.name";
            if secret.metadata.annotations.as_ref().and_then(|a| a.get(SA)).is_none_or(String::is_empty) {
                errs.push(FieldError::required(path(&["metadata", "annotations", SA])).at_key("metadata.annotations", SA));
            }
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !has(key) {
                    errs.push(FieldError::required(data_key(key)));
                }
            }
        }
        "kubernetes.io/dockerconfigjson" if !has(".dockerconfigjson") => errs.push(FieldError::required(data_key(".dockerconfigjson"))),
        "kubernetes.io/dockercfg" if !has(".dockercfg") => errs.push(FieldError::required(data_key(".dockercfg"))),
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => errs.push(FieldError::required(data_key("username"))),
        "kubernetes.io/ssh-auth" if !has("ssh-privatekey") => errs.push(FieldError::required(data_key("ssh-privatekey"))),
        _ => {}
    }
}

fn pointer<'a>(raw: &'a serde_json::Value, p: &[&str]) -> Option<&'a serde_json::Value> {
    p.iter().try_fold(raw, |v, k| v.get(k)).filter(|v| !v.is_null())
}

fn validate_meta(meta: &ObjectMeta, namespaced: bool, rule: fn(&str) -> bool, msg: &str, errs: &mut Vec<FieldError>) {
    match meta.name.as_deref() {
        None | Some("") if meta.generate_name.is_none() => {
            errs.push(FieldError::required_because(path(&["metadata", "name"]), "name or generateName is required"))
        }
        Some(name) if !name.is_empty() && !rule(name) => {
            errs.push(FieldError::invalid(path(&["metadata", "name"]), &format!("{name:?}"), msg));
        }
        _ => {}
    }
    if let (true, Some(ns)) = (namespaced, meta.namespace.as_deref()) {
        if !is_dns1123_label(ns) {
            errs.push(FieldError::invalid(path(&["metadata", "namespace"]), &format!("{ns:?}"), DNS1123_LABEL));
        }
    }
    validate_labels(meta.labels.as_ref(), &path(&["metadata", "labels"]), errs);
    validate_annotations(meta.annotations.as_ref(), &path(&["metadata", "annotations"]), errs);
}

const QUALIFIED_NAME: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `IsQualifiedName`: `[prefix/]name`, each message as apimachinery words it.
fn qualified_name_errors(value: &str) -> Vec<String> {
    let parts: Vec<&str> = value.split('/').collect();
    let mut errs = Vec::new();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else if !is_dns1123_subdomain(prefix) {
                errs.push(format!("prefix part {DNS1123_SUBDOMAIN}"));
            }
            *name
        }
        _ => {
            return vec![format!(
                "a qualified name {QUALIFIED_NAME} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 characters".into());
    }
    if !is_qualified_name_part(name) {
        errs.push(format!("name part {QUALIFIED_NAME}"));
    }
    errs
}

/// `ValidateLabels`: every key a qualified name, every value a valid label value.
fn validate_labels(labels: Option<&BTreeMap<String, String>>, at: &Path, errs: &mut Vec<FieldError>) {
    for (k, v) in labels.into_iter().flatten() {
        for msg in qualified_name_errors(k) {
            errs.push(FieldError::invalid(at.clone(), &format!("{k:?}"), &msg));
        }
        if v.len() > 63 {
            errs.push(FieldError::invalid(at.clone(), &format!("{v:?}"), "must be no more than 63 characters"));
        }
        if !v.is_empty() && !is_qualified_name_part(v) {
            errs.push(FieldError::invalid(at.clone(), &format!("{v:?}"), LABEL_VALUE));
        }
    }
}

/// `ValidateAnnotations`: keys are qualified names (compared in lower case); 256 KiB in all.
fn validate_annotations(annotations: Option<&BTreeMap<String, String>>, at: &Path, errs: &mut Vec<FieldError>) {
    let mut total = 0;
    for (k, v) in annotations.into_iter().flatten() {
        for msg in qualified_name_errors(&k.to_lowercase()) {
            errs.push(FieldError::invalid(at.clone(), &format!("{k:?}"), &msg));
        }
        total += k.len() + v.len();
    }
    if total > 256 * 1024 {
        errs.push(FieldError::other(at.clone(), format!("Too long: may not be more than {} bytes", 256 * 1024)));
    }
}

const CONFIG_KEY: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// `IsConfigMapKey`.
fn config_key_errors(key_name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key_name.len() > 253 {
        errs.push("must be no more than 253 characters".into());
    }
    if key_name.is_empty() || !key_name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        errs.push(CONFIG_KEY.into());
    }
    if key_name == "." {
        errs.push("must not be '.'".into());
    } else if key_name == ".." {
        errs.push("must not be '..'".into());
    } else if key_name.starts_with("..") {
        errs.push("must not start with '..'".into());
    }
    errs
}

/// `ValidateConfigMap`: keys, and no key in both `data` and `binaryData`.
fn validate_config_map(cm: &k8s_openapi::api::core::v1::ConfigMap, errs: &mut Vec<FieldError>) {
    for k in cm.data.iter().flatten().map(|(k, _)| k) {
        for msg in config_key_errors(k) {
            errs.push(FieldError::invalid(path(&["data", k]), &format!("{k:?}"), &msg).at_key("data", k));
        }
    }
    for k in cm.binary_data.iter().flatten().map(|(k, _)| k) {
        for msg in config_key_errors(k) {
            errs.push(FieldError::invalid(path(&["binaryData", k]), &format!("{k:?}"), &msg).at_key("binaryData", k));
        }
        if cm.data.as_ref().is_some_and(|d| d.contains_key(k)) {
            errs.push(
                FieldError::invalid(path(&["binaryData", k]), &format!("{k:?}"), "duplicate of key present in data")
                    .at_key("binaryData", k),
            );
        }
    }
}

/// Deployment and ReplicaSet: selector, template labels, replicas.
fn workload(
    selector: Option<&LabelSelector>,
    template: Option<&PodTemplateSpec>,
    replicas: Option<i32>,
    present: &dyn Fn(&[&str]) -> bool,
    errs: &mut Vec<FieldError>,
) {
    workload_with_claims(selector, template, replicas, present, &[], errs)
}

fn workload_with_claims(
    selector: Option<&LabelSelector>,
    template: Option<&PodTemplateSpec>,
    replicas: Option<i32>,
    present: &dyn Fn(&[&str]) -> bool,
    claims: &[&str],
    errs: &mut Vec<FieldError>,
) {
    if let Some(r) = replicas.filter(|r| *r < 0) {
        errs.push(FieldError::invalid(path(&["spec", "replicas"]), &r.to_string(), "must be greater than or equal to 0"));
    }
    let has_selector = present(&["spec", "selector"]);
    if !has_selector {
        errs.push(FieldError::required(path(&["spec", "selector"])));
    }
    let labels = template.and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.as_ref());
    validate_labels(labels, &path(&["spec", "template", "metadata", "labels"]), errs);
    if let (true, Some(sel)) = (has_selector, selector) {
        let empty = sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty) && sel.match_expressions.as_ref().is_none_or(Vec::is_empty);
        if empty {
            errs.push(FieldError::invalid(path(&["spec", "selector"]), "{}", "empty selector is invalid for deployment"));
        } else {
            match Selector::from_label_selector(sel) {
                Err(e) => errs.push(FieldError::invalid(path(&["spec", "selector"]), "", &e)),
                Ok(s) if !s.matches(labels) => errs.push(FieldError::invalid(
                    path(&["spec", "template", "metadata", "labels"]),
                    &json_map(labels),
                    "`selector` does not match template `labels`",
                )),
                Ok(_) => {}
            }
        }
    }
    match template.and_then(|t| t.spec.as_ref()) {
        Some(spec) => validate_pod_spec_with(spec, &path(&["spec", "template", "spec"]), claims, errs),
        None => errs.push(FieldError::required(path(&["spec", "template", "spec", "containers"]))),
    }
}

/// A map value in a field error, as the API server prints composite values: JSON (keys
/// sorted, as encoding/json writes them), `null` for none.
fn json_map(labels: Option<&BTreeMap<String, String>>) -> String {
    match labels {
        None => "null".into(),
        Some(m) => serde_json::to_string(m).unwrap_or_default(),
    }
}

fn validate_pod_spec(spec: &PodSpec, base: &Path, errs: &mut Vec<FieldError>) {
    validate_pod_spec_with(spec, base, &[], errs)
}

/// `claims`: volume names the Pods will get besides their own (a StatefulSet's
/// volumeClaimTemplates).
fn validate_pod_spec_with(spec: &PodSpec, base: &Path, claims: &[&str], errs: &mut Vec<FieldError>) {
    if spec.containers.is_empty() {
        errs.push(FieldError::required(with(base, &[key("containers")])));
    }
    let mut seen = Vec::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let at = |field: &str| with(base, &[key("containers"), Seg::Index(i), key(field)]);
        if c.name.is_empty() {
            errs.push(FieldError::required(at("name")));
        } else if !is_dns1123_label(&c.name) {
            errs.push(FieldError::invalid(at("name"), &format!("{:?}", c.name), DNS1123_LABEL));
        } else if seen.contains(&c.name) {
            errs.push(FieldError::other(at("name"), format!("Duplicate value: {:?}", c.name)));
        }
        seen.push(c.name.clone());
        if c.image.as_deref().is_none_or(|i| i.trim().is_empty()) {
            errs.push(FieldError::required(at("image")));
        }
        if let Some(p) = c.image_pull_policy.as_deref() {
            if !["Always", "IfNotPresent", "Never"].contains(&p) {
                errs.push(FieldError::unsupported(at("imagePullPolicy"), p, &["Always", "IfNotPresent", "Never"]));
            }
        }
        let mut port_names: Vec<&str> = Vec::new();
        for (j, port) in c.ports.iter().flatten().enumerate() {
            let port_at = |f: &str| with(base, &[key("containers"), Seg::Index(i), key("ports"), Seg::Index(j), key(f)]);
            if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
                let problems = port_name_errors(name);
                for msg in &problems {
                    errs.push(FieldError::invalid(port_at("name"), &format!("{name:?}"), msg));
                }
                if problems.is_empty() && port_names.contains(&name) {
                    errs.push(FieldError::other(port_at("name"), format!("Duplicate value: {name:?}")));
                }
                port_names.push(name);
            }
            if !(1..=65535).contains(&port.container_port) {
                errs.push(FieldError::invalid(
                    port_at("containerPort"),
                    &port.container_port.to_string(),
                    "must be between 1 and 65535, inclusive",
                ));
            }
        }
        let volumes: Vec<&str> = spec.volumes.iter().flatten().map(|v| v.name.as_str()).chain(claims.iter().copied()).collect();
        let mut mount_paths: Vec<&str> = Vec::new();
        for (j, m) in c.volume_mounts.iter().flatten().enumerate() {
            let mount_at = |f: &str| with(base, &[key("containers"), Seg::Index(i), key("volumeMounts"), Seg::Index(j), key(f)]);
            if m.name.is_empty() {
                errs.push(FieldError::required(mount_at("name")));
            }
            if !volumes.contains(&m.name.as_str()) {
                errs.push(FieldError::other(mount_at("name"), format!("Not found: {:?}", m.name)));
            }
            if m.mount_path.is_empty() {
                errs.push(FieldError::required(mount_at("mountPath")));
            } else if mount_paths.contains(&m.mount_path.as_str()) {
                errs.push(FieldError::invalid(mount_at("mountPath"), &format!("{:?}", m.mount_path), "must be unique"));
            }
            mount_paths.push(&m.mount_path);
        }
        if let Some(r) = &c.resources {
            let requests_at = with(base, &[key("containers"), Seg::Index(i), key("resources"), key("requests")]);
            for (resource, request) in r.requests.iter().flatten() {
                let Some(limit) = r.limits.as_ref().and_then(|l| l.get(resource)) else { continue };
                let (Some(req), Some(lim)) = (crate::api::quantity::parse_milli(&request.0), crate::api::quantity::parse_milli(&limit.0))
                else {
                    continue;
                };
                // Extended resources (GPUs) may not be overcommitted at all.
                let overcommit = matches!(resource.as_str(), "cpu" | "memory" | "ephemeral-storage") || resource.starts_with("hugepages-");
                if !overcommit && req != lim {
                    errs.push(FieldError::invalid(
                        requests_at.clone(),
                        &format!("{:?}", request.0),
                        &format!("must be equal to {resource} limit of {}", limit.0),
                    ));
                } else if req > lim {
                    errs.push(FieldError::invalid(
                        requests_at.clone(),
                        &format!("{:?}", request.0),
                        &format!("must be less than or equal to {resource} limit of {}", limit.0),
                    ));
                }
            }
        }
    }
    match spec.dns_policy.as_deref() {
        Some("None") if spec.dns_config.as_ref().and_then(|c| c.nameservers.as_ref()).is_none_or(Vec::is_empty) => {
            errs.push(FieldError::required_because(with(base, &[key("dnsConfig")]), "must provide `dnsConfig` when `dnsPolicy` is None"));
        }
        Some(p) if !["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"].contains(&p) => {
            errs.push(FieldError::unsupported(
                with(base, &[key("dnsPolicy")]),
                p,
                &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
            ));
        }
        _ => {}
    }
    if let Some(p) = spec.restart_policy.as_deref() {
        if !["Always", "OnFailure", "Never"].contains(&p) {
            errs.push(FieldError::unsupported(with(base, &[key("restartPolicy")]), p, &["Always", "OnFailure", "Never"]));
        }
    }
}

/// `IsValidPortName`: an IANA service name.
fn port_name_errors(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 15 {
        errs.push("must be no more than 15 characters".into());
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if name.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if !name.bytes().any(|b| b.is_ascii_alphabetic()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// `ValidateJob`: the template's restart policy (defaulted to Always when absent, which a Job
/// refuses), non-negative counts, a template with containers.
fn validate_job(job: &k8s_openapi::api::batch::v1::Job, errs: &mut Vec<FieldError>) {
    let Some(spec) = job.spec.as_ref() else {
        errs.push(FieldError::required(path(&["spec", "template", "spec", "containers"])));
        return;
    };
    for (field, value) in [("parallelism", spec.parallelism), ("completions", spec.completions), ("backoffLimit", spec.backoff_limit)] {
        if let Some(v) = value.filter(|v| *v < 0) {
            errs.push(FieldError::invalid(path(&["spec", field]), &v.to_string(), "must be greater than or equal to 0"));
        }
    }
    if let Some(v) = spec.active_deadline_seconds.filter(|v| *v <= 0) {
        errs.push(FieldError::invalid(path(&["spec", "activeDeadlineSeconds"]), &v.to_string(), "must be greater than 0"));
    }
    if let Some(mode) = spec.completion_mode.as_deref().filter(|m| *m != "NonIndexed" && *m != "Indexed") {
        errs.push(FieldError::unsupported(path(&["spec", "completionMode"]), mode, &["NonIndexed", "Indexed"]));
    }
    if spec.completion_mode.as_deref() == Some("Indexed") && spec.completions.is_none() {
        errs.push(FieldError::required_because(path(&["spec", "completions"]), "when completion mode is Indexed"));
    }
    match spec.template.spec.as_ref() {
        Some(pod) => {
            validate_pod_spec(pod, &path(&["spec", "template", "spec"]), errs);
            let policy = pod.restart_policy.as_deref().unwrap_or("Always");
            if policy != "OnFailure" && policy != "Never" {
                errs.push(FieldError::unsupported(path(&["spec", "template", "spec", "restartPolicy"]), policy, &["OnFailure", "Never"]));
            }
        }
        None => errs.push(FieldError::required(path(&["spec", "template", "spec", "containers"]))),
    }
}

/// `ValidateCronJob`: a schedule robfig/cron parses (without `TZ=` in it), a known-looking
/// time zone, a Job template a Job would accept.
fn validate_cron_job(cj: &k8s_openapi::api::batch::v1::CronJob, errs: &mut Vec<FieldError>) {
    let spec = &cj.spec;
    // Job names add an 11-character suffix to the CronJob's, and must stay a DNS-1035 label.
    if let Some(name) = cj.metadata.name.as_deref().filter(|n| n.len() > 52) {
        errs.push(FieldError::invalid(path(&["metadata", "name"]), &format!("{name:?}"), "must be no more than 52 characters"));
    }
    if spec.schedule.trim().is_empty() {
        errs.push(FieldError::required(path(&["spec", "schedule"])));
    } else if spec.schedule.contains("TZ") {
        errs.push(FieldError::invalid(
            path(&["spec", "schedule"]),
            &format!("{:?}", spec.schedule),
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ));
    } else if let Err(e) = crate::api::cron::Schedule::parse(&spec.schedule) {
        errs.push(FieldError::invalid(path(&["spec", "schedule"]), &format!("{:?}", spec.schedule), &e));
    }
    if let Some(zone) = spec.time_zone.as_deref() {
        if !crate::api::cron::looks_like_zone(zone) {
            errs.push(FieldError::invalid(path(&["spec", "timeZone"]), &format!("{zone:?}"), &format!("unknown time zone {zone}")));
        }
    }
    if let Some(p) = spec.concurrency_policy.as_deref().filter(|p| !["Allow", "Forbid", "Replace"].contains(p)) {
        errs.push(FieldError::unsupported(path(&["spec", "concurrencyPolicy"]), p, &["Allow", "Forbid", "Replace"]));
    }
    match spec.job_template.spec.as_ref().and_then(|j| j.template.spec.as_ref()) {
        Some(pod) => {
            validate_pod_spec(pod, &path(&["spec", "jobTemplate", "spec", "template", "spec"]), errs);
            let policy = pod.restart_policy.as_deref().unwrap_or("Always");
            if policy != "OnFailure" && policy != "Never" {
                errs.push(FieldError::unsupported(
                    path(&["spec", "jobTemplate", "spec", "template", "spec", "restartPolicy"]),
                    policy,
                    &["OnFailure", "Never"],
                ));
            }
        }
        None => errs.push(FieldError::required(path(&["spec", "jobTemplate", "spec", "template", "spec", "containers"]))),
    }
}

fn validate_service(svc: &Service, errs: &mut Vec<FieldError>) {
    let Some(spec) = svc.spec.as_ref() else {
        return;
    };
    let ty = spec.type_.as_deref().unwrap_or("ClusterIP");
    if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(&ty) {
        errs.push(FieldError::unsupported(path(&["spec", "type"]), ty, &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]));
        return;
    }
    let headless = spec.cluster_ip.as_deref() == Some("None");
    let ports = spec.ports.as_deref().unwrap_or_default();
    if ty == "ExternalName" {
        if spec.external_name.as_deref().is_none_or(str::is_empty) {
            errs.push(FieldError::required(path(&["spec", "externalName"])));
        }
    } else if ports.is_empty() && !headless {
        errs.push(FieldError::required(path(&["spec", "ports"])));
    }
    for (i, port) in ports.iter().enumerate() {
        let at = |f: &str| vec![key("spec"), key("ports"), Seg::Index(i), key(f)];
        if !(1..=65535).contains(&port.port) {
            errs.push(FieldError::invalid(at("port"), &port.port.to_string(), "must be between 1 and 65535, inclusive"));
        }
        if ports.len() > 1 && port.name.as_deref().is_none_or(str::is_empty) {
            errs.push(FieldError::required(at("name")));
        }
        if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
            if ports[..i].iter().any(|p| p.name.as_deref() == Some(name)) {
                errs.push(FieldError::other(at("name"), format!("Duplicate value: {name:?}")));
            }
        }
        if let Some(np) = port.node_port {
            if ty == "ClusterIP" {
                errs.push(FieldError::other(at("nodePort"), "Forbidden: may not be used when `type` is 'ClusterIP'".into()));
            } else if !(30000..=32767).contains(&np) {
                errs.push(FieldError::invalid(
                    at("nodePort"),
                    &np.to_string(),
                    "provided port is not in the valid range. The range of valid ports is 30000-32767",
                ));
            }
        }
        if let Some(proto) = port.protocol.as_deref() {
            if !["TCP", "UDP", "SCTP"].contains(&proto) {
                errs.push(FieldError::unsupported(at("protocol"), proto, &["SCTP", "TCP", "UDP"]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        assert!(is_dns1123_subdomain("web.example-1"));
        assert!(!is_dns1123_subdomain("Web_1"));
        assert!(!is_dns1123_label("-a"));
        assert!(is_dns1035_label("my-svc"));
        assert!(!is_dns1035_label("1svc"));
    }

    #[test]
    fn map_values_print_as_json() {
        let mut m = BTreeMap::new();
        m.insert("app".to_string(), "web".to_string());
        m.insert("tier".to_string(), "fe".to_string());
        assert_eq!(json_map(Some(&m)), r#"{"app":"web","tier":"fe"}"#);
        assert_eq!(json_map(None), "null");
    }
}
