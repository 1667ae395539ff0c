//! `kubectl describe service`, as kubectl 1.37's `describeService` writes it: the Service's
//! addresses and ports, each port's ready endpoints from its EndpointSlices, policies, Events.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::describe::{annotations, events, labels};
use super::tabwriter::TabWriter;
use crate::api::Object;
use crate::sim::Cluster;

/// `describeService` (kubectl 1.33+): endpoints come from the Service's EndpointSlices.
pub(super) fn service(cluster: &Cluster, svc: &k8s_openapi::api::core::v1::Service) -> String {
    let mut w = TabWriter::default();
    let spec = svc.spec.clone().unwrap_or_default();
    let name = svc.metadata.name.as_deref().unwrap_or("");
    let namespace = svc.metadata.namespace.as_deref().unwrap_or("");
    w.write(&format!("Name:\t{name}\n"));
    w.write(&format!("Namespace:\t{namespace}\n"));
    labels(&mut w, "Labels", svc.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", svc.metadata.annotations.as_ref());
    let selector: Vec<String> = spec.selector.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    w.write(&format!("Selector:\t{}\n", if selector.is_empty() { "<none>".to_string() } else { selector.join(",") }));
    w.write(&format!("Type:\t{}\n", spec.type_.as_deref().unwrap_or("")));
    if let Some(policy) = &spec.ip_family_policy {
        w.write(&format!("IP Family Policy:\t{policy}\n"));
    }
    let families = spec.ip_families.clone().unwrap_or_default();
    w.write(&format!("IP Families:\t{}\n", if families.is_empty() { "<none>".to_string() } else { families.join(",") }));
    w.write(&format!("IP:\t{}\n", spec.cluster_ip.as_deref().unwrap_or("")));
    let ips = spec.cluster_ips.clone().unwrap_or_default();
    w.write(&format!("IPs:\t{}\n", if ips.is_empty() { "<none>".to_string() } else { ips.join(",") }));
    if let Some(external) = spec.external_ips.as_ref().filter(|e| !e.is_empty()) {
        w.write(&format!("External IPs:\t{}\n", external.join(",")));
    }
    if let Some(ip) = spec.load_balancer_ip.as_deref().filter(|ip| !ip.is_empty()) {
        w.write(&format!("Desired LoadBalancer IP:\t{ip}\n"));
    }
    if let Some(external) = spec.external_name.as_deref().filter(|n| !n.is_empty()) {
        w.write(&format!("External Name:\t{external}\n"));
    }
    let ingress: Vec<String> = svc
        .status
        .iter()
        .filter_map(|s| s.load_balancer.as_ref())
        .flat_map(|lb| lb.ingress.iter().flatten())
        .filter_map(|i| match (&i.ip, &i.ip_mode) {
            (Some(ip), Some(mode)) => Some(format!("{ip} ({mode})")),
            (Some(ip), None) => Some(ip.clone()),
            (None, _) => i.hostname.clone(),
        })
        .collect();
    if !ingress.is_empty() {
        w.write(&format!("LoadBalancer Ingress:\t{}\n", ingress.join(", ")));
    }
    let slices: Vec<&k8s_openapi::api::discovery::v1::EndpointSlice> = cluster
        .store()
        .list("EndpointSlice", Some(namespace))
        .filter_map(Object::as_endpoint_slice)
        .filter(|s| s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str) == Some(name))
        .collect();
    for port in spec.ports.iter().flatten() {
        let port_name = port.name.as_deref().filter(|n| !n.is_empty()).unwrap_or("<unset>");
        let protocol = port.protocol.as_deref().unwrap_or("TCP");
        w.write(&format!("Port:\t{port_name}\t{}/{protocol}\n", port.port));
        match &port.target_port {
            Some(IntOrString::String(named)) => w.write(&format!("TargetPort:\t{named}/{protocol}\n")),
            Some(IntOrString::Int(n)) => w.write(&format!("TargetPort:\t{n}/{protocol}\n")),
            None => w.write(&format!("TargetPort:\t0/{protocol}\n")),
        }
        if let Some(app) = &port.app_protocol {
            w.write(&format!("AppProtocol:\t{app}\n"));
        }
        if let Some(node_port) = port.node_port.filter(|n| *n != 0) {
            w.write(&format!("NodePort:\t{port_name}\t{node_port}/{protocol}\n"));
        }
        w.write(&format!("Endpoints:\t{}\n", slice_endpoints(&slices, port.name.as_deref().unwrap_or(""))));
    }
    w.write(&format!("Session Affinity:\t{}\n", spec.session_affinity.as_deref().unwrap_or("")));
    if let Some(policy) = spec.external_traffic_policy.as_deref().filter(|p| !p.is_empty()) {
        w.write(&format!("External Traffic Policy:\t{policy}\n"));
    }
    if let Some(policy) = &spec.internal_traffic_policy {
        w.write(&format!("Internal Traffic Policy:\t{policy}\n"));
    }
    if let Some(port) = spec.health_check_node_port.filter(|p| *p != 0) {
        w.write(&format!("HealthCheck NodePort:\t{port}\n"));
    }
    if let Some(ranges) = spec.load_balancer_source_ranges.as_ref().filter(|r| !r.is_empty()) {
        w.write(&format!("LoadBalancer Source Ranges:\t{}\n", ranges.join(",")));
    }
    if let Some(distribution) = &spec.traffic_distribution {
        w.write(&format!("Traffic Distribution:\t{distribution}\n"));
    }
    events(cluster, &mut w, svc.metadata.uid.as_deref());
    w.finish()
}

/// `formatEndpointSlices`: the ready endpoints of one port (`ip:port`), at most three then
/// `+ N more...`; bare IPs for slices without ports.
pub(super) fn slice_endpoints(slices: &[&k8s_openapi::api::discovery::v1::EndpointSlice], port_name: &str) -> String {
    if slices.is_empty() {
        return "<none>".into();
    }
    let (mut list, mut more, mut count) = (Vec::new(), false, 0);
    for slice in slices {
        let endpoints = slice.endpoints.as_deref().unwrap_or_default();
        let ports = slice.ports.as_deref().unwrap_or_default();
        let targets: Vec<Option<i32>> = if ports.is_empty() {
            vec![None]
        } else {
            ports.iter().filter(|p| p.name.as_deref().unwrap_or("") == port_name).map(|p| Some(p.port.unwrap_or(0))).collect()
        };
        for port in targets {
            for e in endpoints {
                if list.len() == 3 {
                    more = true;
                }
                if e.conditions.as_ref().and_then(|c| c.ready) == Some(false) {
                    continue;
                }
                if !more {
                    let addr = e.addresses.first().cloned().unwrap_or_default();
                    list.push(match port {
                        Some(p) if addr.contains(':') => format!("[{addr}]:{p}"),
                        Some(p) => format!("{addr}:{p}"),
                        None => addr,
                    });
                }
                count += 1;
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - 3)
    } else {
        joined
    }
}
