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
}

impl FieldError {
    fn required(path: Path) -> FieldError {
        FieldError { path, detail: "Required value".into() }
    }

    fn required_because(path: Path, why: &str) -> FieldError {
        FieldError { path, detail: format!("Required value: {why}") }
    }

    fn invalid(path: Path, value: &str, why: &str) -> FieldError {
        FieldError { path, detail: format!("Invalid value: {value}: {why}") }
    }

    fn unsupported(path: Path, value: &str, supported: &[&str]) -> FieldError {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        FieldError { path, detail: format!("Unsupported value: {value:?}: supported values: {}", list.join(", ")) }
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
        Object::Namespace(_) => (name_rule, name_msg) = (is_dns1123_label, DNS1123_LABEL),
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
            if let Some(t) = s.and_then(|s| s.strategy.as_ref()).and_then(|st| st.type_.as_deref()) {
                if t != "RollingUpdate" && t != "Recreate" {
                    errs.push(FieldError::unsupported(path(&["spec", "strategy", "type"]), t, &["Recreate", "RollingUpdate"]));
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
            workload(s.map(|s| &s.selector), s.map(|s| &s.template), s.and_then(|s| s.replicas), &spec, &mut errs);
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
        _ => {}
    }
    errs
}

/// `ValidateSecret`: the keys each built-in type requires (`stringData` counts as data).
fn validate_secret(secret: &k8s_openapi::api::core::v1::Secret, errs: &mut Vec<FieldError>) {
    let has = |key: &str| {
        secret.data.as_ref().is_some_and(|d| d.contains_key(key)) || secret.string_data.as_ref().is_some_and(|d| d.contains_key(key))
    };
    let data_key = |key: &str| path(&["data", key]);
    match secret.type_.as_deref().unwrap_or("Opaque") {
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
}

/// Deployment and ReplicaSet: selector, template labels, replicas.
fn workload(
    selector: Option<&LabelSelector>,
    template: Option<&PodTemplateSpec>,
    replicas: Option<i32>,
    present: &dyn Fn(&[&str]) -> bool,
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
    if let (true, Some(sel)) = (has_selector, selector) {
        let empty = sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty) && sel.match_expressions.as_ref().is_none_or(Vec::is_empty);
        if empty {
            errs.push(FieldError::invalid(path(&["spec", "selector"]), "{}", "empty selector is invalid for deployment"));
        } else {
            match Selector::from_label_selector(sel) {
                Err(e) => errs.push(FieldError::invalid(path(&["spec", "selector"]), "", &e)),
                Ok(s) if !s.matches(labels) => errs.push(FieldError::invalid(
                    path(&["spec", "template", "metadata", "labels"]),
                    &go_map(labels),
                    "`selector` does not match template `labels`",
                )),
                Ok(_) => {}
            }
        }
    }
    match template.and_then(|t| t.spec.as_ref()) {
        Some(spec) => validate_pod_spec(spec, &path(&["spec", "template", "spec"]), errs),
        None => errs.push(FieldError::required(path(&["spec", "template", "spec", "containers"]))),
    }
}

/// Go's `%#v` of a `map[string]string`, as the API server prints invalid label maps.
fn go_map(labels: Option<&BTreeMap<String, String>>) -> String {
    let entries: Vec<String> = labels.into_iter().flatten().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    if labels.is_none() {
        return "map[string]string(nil)".into();
    }
    format!("map[string]string{{{}}}", entries.join(", "))
}

fn validate_pod_spec(spec: &PodSpec, base: &Path, errs: &mut Vec<FieldError>) {
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
            errs.push(FieldError { path: at("name"), detail: format!("Duplicate value: {:?}", c.name) });
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
        for (j, port) in c.ports.iter().flatten().enumerate() {
            if !(1..=65535).contains(&port.container_port) {
                errs.push(FieldError::invalid(
                    with(base, &[key("containers"), Seg::Index(i), key("ports"), Seg::Index(j), key("containerPort")]),
                    &port.container_port.to_string(),
                    "must be between 1 and 65535, inclusive",
                ));
            }
        }
    }
    if let Some(p) = spec.restart_policy.as_deref() {
        if !["Always", "OnFailure", "Never"].contains(&p) {
            errs.push(FieldError::unsupported(with(base, &[key("restartPolicy")]), p, &["Always", "OnFailure", "Never"]));
        }
    }
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
        if let Some(np) = port.node_port {
            if ty == "ClusterIP" {
                errs.push(FieldError { path: at("nodePort"), detail: "Forbidden: may not be used when `type` is 'ClusterIP'".into() });
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
    fn go_map_format() {
        let mut m = BTreeMap::new();
        m.insert("app".to_string(), "web".to_string());
        m.insert("tier".to_string(), "fe".to_string());
        assert_eq!(go_map(Some(&m)), r#"map[string]string{"app":"web", "tier":"fe"}"#);
        assert_eq!(go_map(None), "map[string]string(nil)");
    }
}
