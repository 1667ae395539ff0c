//! How an Ingress routes a request (the networking.k8s.io/v1 rules every controller shares):
//! a rule's host matches exactly, or as a wildcard (`*.foo.com` matches one label more); rules
//! without a host match every request; among the matching rules' paths the longest match wins,
//! an `Exact` path over a `Prefix` one of the same length; `Prefix` matches whole path elements
//! (`/foo` matches `/foo` and `/foo/bar`, not `/foobar`; a trailing `/` is ignored);
//! `ImplementationSpecific` is taken as `Prefix` (as ingress-nginx does without regexes).
//! Nothing matching: the `defaultBackend`, if any.

use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};

/// The simulated ingress-nginx's IngressClass (the cluster's default) and its address (its own
/// LoadBalancer's).
pub const NGINX_CLASS: &str = "nginx";
pub const NGINX_ADDRESS: &str = "203.0.113.2";

/// The legacy class annotation, which controllers still honour (GKE's documented way).
pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
/// GKE's Ingress class: a Google Cloud external Application Load Balancer per Ingress.
pub const GCE_CLASS: &str = "gce";
/// The Service annotation that turns on container-native load balancing (NEGs).
pub const NEG_ANNOTATION: &str = "cloud.google.com/neg";

/// The Ingress's class: the legacy annotation if set, else `spec.ingressClassName`.
pub fn class_of(ing: &Ingress) -> Option<&str> {
    let annotation = ing.metadata.annotations.as_ref().and_then(|a| a.get(CLASS_ANNOTATION)).map(String::as_str);
    annotation.or_else(|| ing.spec.as_ref().and_then(|s| s.ingress_class_name.as_deref()))
}

/// Whether ingress-nginx serves the Ingress: its class, or none (the default class's).
pub fn served_by_nginx(ing: &Ingress) -> bool {
    class_of(ing).is_none_or(|c| c == NGINX_CLASS)
}

/// Whether GKE's load balancer controller serves the Ingress.
pub fn served_by_gce(ing: &Ingress) -> bool {
    class_of(ing) == Some(GCE_CLASS)
}

/// Whether a Service asks for container-native load balancing for Ingress
/// (`cloud.google.com/neg: '{"ingress": true}'`).
pub fn neg_enabled(service: &k8s_openapi::api::core::v1::Service) -> bool {
    let value = service.metadata.annotations.as_ref().and_then(|a| a.get(NEG_ANNOTATION));
    value.and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok()).and_then(|v| v.get("ingress")?.as_bool()) == Some(true)
}

/// Every backend an Ingress names: the default backend and each rule path's.
pub fn backends(ing: &Ingress) -> Vec<&IngressBackend> {
    let spec = ing.spec.as_ref();
    spec.and_then(|s| s.default_backend.as_ref())
        .into_iter()
        .chain(
            spec.into_iter()
                .flat_map(|s| s.rules.iter().flatten())
                .flat_map(|r| r.http.iter().flat_map(|h| h.paths.iter().map(|p| &p.backend))),
        )
        .collect()
}

/// Whether `pattern` (a rule's host) matches the request's host.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            host.strip_suffix(suffix).and_then(|h| h.strip_suffix('.')).is_some_and(|label| !label.is_empty() && !label.contains('.'))
        }
        None => pattern == host,
    }
}

/// Whether `path` matches a rule path of `path_type`; the match's length (for precedence).
fn path_matches(rule: &str, path_type: &str, path: &str) -> Option<usize> {
    if path_type == "Exact" {
        return (rule == path).then_some(rule.len());
    }
    let rule_elements: Vec<&str> = rule.split('/').filter(|e| !e.is_empty()).collect();
    let path_elements: Vec<&str> = path.split('/').filter(|e| !e.is_empty()).collect();
    (path_elements.len() >= rule_elements.len() && rule_elements.iter().zip(&path_elements).all(|(a, b)| a == b))
        .then_some(rule.trim_end_matches('/').len())
}

/// The backend for a request to `host` + `path` among `ingresses` (of one controller).
/// Whether the Ingress terminates TLS for `host` (a `spec.tls` entry lists it, or a wildcard
/// that covers it).
pub fn terminates_tls(ing: &Ingress, host: &str) -> bool {
    let host = host.split(':').next().unwrap_or(host);
    ing.spec.iter().flat_map(|s| s.tls.iter().flatten()).any(|t| t.hosts.iter().flatten().any(|h| host_matches(h, host)))
}

pub fn route<'a>(ingresses: &[&'a Ingress], host: &str, path: &str) -> Option<(&'a Ingress, &'a IngressBackend)> {
    let host = host.split(':').next().unwrap_or(host);
    let path = path.split('?').next().unwrap_or(path);
    // Rules naming the host first; rules without a host otherwise.
    for named in [true, false] {
        let mut best: Option<(usize, bool, &Ingress, &IngressBackend)> = None;
        for ing in ingresses {
            for rule in ing.spec.iter().flat_map(|s| s.rules.iter().flatten()) {
                let matches = match rule.host.as_deref().filter(|h| !h.is_empty()) {
                    Some(pattern) => named && host_matches(pattern, host),
                    None => !named,
                };
                if !matches {
                    continue;
                }
                for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
                    let Some(len) = path_matches(p.path.as_deref().unwrap_or("/"), &p.path_type, path) else { continue };
                    let exact = p.path_type == "Exact";
                    let better = best.is_none_or(|(l, e, _, _)| len > l || (len == l && exact && !e));
                    if better {
                        best = Some((len, exact, ing, &p.backend));
                    }
                }
            }
        }
        if let Some((_, _, ing, backend)) = best {
            return Some((ing, backend));
        }
    }
    ingresses.iter().find_map(|ing| ing.spec.as_ref()?.default_backend.as_ref().map(|b| (*ing, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingress(yaml: &str) -> Ingress {
        match serde_yaml::from_str(yaml) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        }
    }

    fn backend(ings: &[&Ingress], host: &str, path: &str) -> Option<String> {
        route(ings, host, path).and_then(|(_, b)| b.service.as_ref().map(|s| s.name.clone()))
    }

    #[test]
    fn the_kubernetes_io_matching_table() {
        // From the Ingress concept page's "Examples" table (Prefix unless noted).
        let one = |path_type: &str, rule: &str, path: &str| path_matches(rule, path_type, path).is_some();
        assert!(one("Prefix", "/", "/foo"));
        assert!(one("Exact", "/foo", "/foo"));
        assert!(!one("Exact", "/foo", "/bar"));
        assert!(!one("Exact", "/foo", "/foo/"));
        assert!(!one("Exact", "/foo/", "/foo"));
        assert!(one("Prefix", "/foo", "/foo") && one("Prefix", "/foo", "/foo/"));
        assert!(one("Prefix", "/foo/", "/foo") && one("Prefix", "/foo/", "/foo/"));
        assert!(!one("Prefix", "/aaa/bb", "/aaa/bbb"));
        assert!(one("Prefix", "/aaa/bbb", "/aaa/bbb") && one("Prefix", "/aaa/bbb/", "/aaa/bbb"));
        assert!(one("Prefix", "/aaa/bbb", "/aaa/bbb/") && one("Prefix", "/aaa/bbb", "/aaa/bbb/ccc"));
        assert!(!one("Prefix", "/aaa/bbb", "/aaa/bbbxyz"));
        // Longest wins; Exact over Prefix at equal length.
        let ing = ingress("spec:\n  defaultBackend: {service: {name: fallback, port: {number: 80}}}\n  rules:\n  - host: foo.bar.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: root, port: {number: 80}}}}\n      - {path: /aaa, pathType: Prefix, backend: {service: {name: aaa, port: {number: 80}}}}\n      - {path: /aaa/bbb, pathType: Prefix, backend: {service: {name: bbb, port: {number: 80}}}}\n      - {path: /aaa/bbb, pathType: Exact, backend: {service: {name: exact, port: {number: 80}}}}\n  - host: '*.foo.com'\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: wild, port: {number: 80}}}}\n  - http:\n      paths:\n      - {path: /any, pathType: Prefix, backend: {service: {name: anyhost, port: {number: 80}}}}\n");
        let ings = [&ing];
        assert_eq!(backend(&ings, "foo.bar.com", "/aaa/bbb").as_deref(), Some("exact"));
        assert_eq!(backend(&ings, "foo.bar.com", "/aaa/bbb/c").as_deref(), Some("bbb"));
        assert_eq!(backend(&ings, "foo.bar.com", "/aaa/x").as_deref(), Some("aaa"));
        assert_eq!(backend(&ings, "foo.bar.com", "/zzz").as_deref(), Some("root"));
        assert_eq!(backend(&ings, "bar.foo.com", "/").as_deref(), Some("wild"));
        assert_eq!(backend(&ings, "baz.bar.foo.com", "/any").as_deref(), Some("anyhost"), "a wildcard matches one label only");
        assert_eq!(backend(&ings, "foo.com", "/nope").as_deref(), Some("fallback"));
        assert!(host_matches("*.foo.com", "bar.foo.com") && !host_matches("*.foo.com", "foo.com"));
    }
}
