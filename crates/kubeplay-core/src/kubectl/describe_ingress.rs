//! `kubectl describe ingress`, as kubectl 1.37's `describeIngressV1` writes it: address,
//! class, default backend, TLS, each rule's paths with their backends' ready endpoints (from
//! the EndpointSlices), annotations and Events.

use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};

use super::describe::{annotations, events, labels};
use super::tabwriter::TabWriter;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;

/// `serviceBackendStringer` plus the backend's endpoints (`describeBackendV1`).
fn backend(cluster: &Cluster, namespace: &str, b: &IngressBackend) -> String {
    if let Some(service) = &b.service {
        let port = service.port.as_ref();
        let number = port.and_then(|p| p.number).unwrap_or(0);
        let port_text = if number != 0 { number.to_string() } else { port.and_then(|p| p.name.clone()).unwrap_or_default() };
        let sb = format!("{}:{port_text}", service.name);
        let Some(svc) = cluster.get(&ObjectKey::new("Service", namespace, &service.name)).and_then(Object::as_service) else {
            return format!("{sb} (<error: services \"{}\" not found>)", service.name);
        };
        let mut port_name = String::new();
        for sp in svc.spec.iter().flat_map(|s| s.ports.iter().flatten()) {
            let by_number = number != 0 && number == sp.port;
            let by_name = port.and_then(|p| p.name.as_deref()).is_some_and(|n| !n.is_empty() && Some(n) == sp.name.as_deref());
            if by_number || by_name {
                port_name = sp.name.clone().unwrap_or_default();
            }
        }
        let slices: Vec<&k8s_openapi::api::discovery::v1::EndpointSlice> = cluster
            .store()
            .list("EndpointSlice", Some(namespace))
            .filter_map(Object::as_endpoint_slice)
            .filter(|s| s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")) == Some(&service.name))
            .collect();
        return format!("{sb} ({})", super::describe_service::slice_endpoints(&slices, &port_name));
    }
    if let Some(r) = &b.resource {
        return format!("APIGroup: {}, Kind: {}, Name: {}", r.api_group.as_deref().unwrap_or("<none>"), r.kind, r.name);
    }
    String::new()
}

pub(super) fn ingress(cluster: &Cluster, ing: &Ingress) -> String {
    let mut w = TabWriter::default();
    let namespace = ing.metadata.namespace.as_deref().unwrap_or("");
    let spec = ing.spec.clone().unwrap_or_default();
    w.write(&format!("Name:\t{}\n", ing.metadata.name.as_deref().unwrap_or("")));
    labels(&mut w, "Labels", ing.metadata.labels.as_ref());
    w.write(&format!("Namespace:\t{namespace}\n"));
    let mut addresses: Vec<String> = ing
        .status
        .iter()
        .filter_map(|s| s.load_balancer.as_ref())
        .flat_map(|lb| lb.ingress.iter().flatten())
        .filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone()))
        .collect();
    addresses.sort();
    addresses.dedup();
    w.write(&format!("Address:\t{}\n", addresses.join(",")));
    w.write(&format!("Ingress Class:\t{}\n", spec.ingress_class_name.as_deref().unwrap_or("<none>")));
    let default_backend = spec.default_backend.as_ref().map_or_else(|| "<default>".to_string(), |b| backend(cluster, namespace, b));
    w.write(&format!("Default backend:\t{default_backend}\n"));
    if let Some(tls) = spec.tls.as_ref().filter(|t| !t.is_empty()) {
        w.write("TLS:\n");
        for t in tls {
            let hosts = t.hosts.clone().unwrap_or_default().join(",");
            match t.secret_name.as_deref().filter(|s| !s.is_empty()) {
                None => w.write(&format!("  SNI routes {hosts}\n")),
                Some(secret) => w.write(&format!("  {secret} terminates {hosts}\n")),
            }
        }
    }
    w.write("Rules:\n  Host\tPath\tBackends\n");
    w.write("  ----\t----\t--------\n");
    let mut count = 0;
    for rule in spec.rules.iter().flatten() {
        let Some(http) = &rule.http else { continue };
        count += 1;
        let host = rule.host.as_deref().filter(|h| !h.is_empty()).unwrap_or("*");
        w.write(&format!("  {host}\t\n"));
        for path in &http.paths {
            w.write(&format!("    \t{} \t{}\n", path.path.as_deref().unwrap_or(""), backend(cluster, namespace, &path.backend)));
        }
    }
    if count == 0 {
        w.write(&format!("  *\t*\t{default_backend}\n"));
    }
    annotations(&mut w, "Annotations", ing.metadata.annotations.as_ref());
    events(cluster, &mut w, ing.metadata.uid.as_deref());
    w.finish()
}
