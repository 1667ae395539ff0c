//! What makes a Pod an endpoint of a Service, shared by the EndpointSlice and Endpoints
//! controllers (`pkg/controller/util/endpoint` and the endpointslice reconciler upstream):
//! which Pods a Service selects, whether a Pod belongs in endpoints at all, its ready /
//! serving / terminating conditions, and the container port a Service port targets.

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod_util;

/// The Service's selector picks this Pod: a non-empty selector whose every label the Pod has.
/// (A Service without a selector has hand-written endpoints; no controller manages them.)
pub fn selects(service: &Service, pod: &Pod) -> bool {
    let Some(selector) = service.spec.as_ref().and_then(|s| s.selector.as_ref()).filter(|s| !s.is_empty()) else {
        return false;
    };
    if pod.metadata.namespace != service.metadata.namespace {
        return false;
    }
    let labels = pod.metadata.labels.as_ref();
    selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// Whether the controllers manage this Service's endpoints: it has a selector and is not an
/// ExternalName Service.
pub fn managed(service: &Service) -> bool {
    let spec = service.spec.as_ref();
    spec.and_then(|s| s.selector.as_ref()).is_some_and(|s| !s.is_empty()) && spec.and_then(|s| s.type_.as_deref()) != Some("ExternalName")
}

/// `ShouldPodBeInEndpoints`: it has an IP, and (by its restart policy) it will run again.
pub fn should_be_endpoint(pod: &Pod, include_terminating: bool) -> bool {
    let ip = pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()).is_some_and(|ip| !ip.is_empty());
    if !ip || (!include_terminating && pod.metadata.deletion_timestamp.is_some()) {
        return false;
    }
    let phase = pod_util::phase(pod);
    match pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) {
        Some("Never") => phase != "Failed" && phase != "Succeeded",
        Some("OnFailure") => phase != "Succeeded",
        _ => true,
    }
}

/// An endpoint's conditions: (ready, serving, terminating). A terminating Pod is never ready
/// unless the Service publishes not-ready addresses.
pub fn conditions(service: &Service, pod: &Pod) -> (bool, bool, bool) {
    let publish = service.spec.as_ref().and_then(|s| s.publish_not_ready_addresses) == Some(true);
    let serving = publish || pod_util::is_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    (publish || (serving && !terminating), serving, terminating)
}

/// `findPort`: the container port a Service port targets in this Pod — a number as is, a name
/// looked up among the Pod's container ports (with the same protocol); None if the Pod has no
/// port of that name.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match port.target_port.as_ref() {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            pod.spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| p.name.as_deref() == Some(name.as_str()) && p.protocol.as_deref().unwrap_or("TCP") == protocol)
                .map(|p| p.container_port)
        }
    }
}

/// The Pod's IP.
pub fn pod_ip(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()).unwrap_or("")
}

/// Whether a change to a Pod can change the endpoints it is part of: its labels, IP,
/// readiness, phase, node or deletion.
pub fn relevant_change(old: &Pod, new: &Pod) -> bool {
    old.metadata.labels != new.metadata.labels
        || pod_ip(old) != pod_ip(new)
        || pod_util::is_ready(old) != pod_util::is_ready(new)
        || pod_util::phase(old) != pod_util::phase(new)
        || pod_util::node_name(old) != pod_util::node_name(new)
        || old.metadata.deletion_timestamp.is_some() != new.metadata.deletion_timestamp.is_some()
        || old.spec.as_ref().map(|s| (&s.hostname, &s.subdomain)) != new.spec.as_ref().map(|s| (&s.hostname, &s.subdomain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
        match serde_yaml::from_str(yaml) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn selection_readiness_and_named_ports() {
        let svc: Service = parse("metadata: {name: web, namespace: default}\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80, targetPort: http}\n");
        let mut pod: Pod = parse("metadata: {name: web-1, namespace: default, labels: {app: web, tier: fe}}\nspec:\n  containers:\n  - name: c\n    ports: [{name: http, containerPort: 8080}]\nstatus:\n  phase: Running\n  podIP: 10.244.1.5\n  conditions: [{type: Ready, status: 'True'}]\n");
        assert!(selects(&svc, &pod));
        assert!(should_be_endpoint(&pod, false));
        assert_eq!(conditions(&svc, &pod), (true, true, false));
        let ports = svc.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default();
        assert_eq!(find_port(&pod, &ports[0]), Some(8080));
        pod.metadata.deletion_timestamp = Some(crate::time::to_time(crate::time::SimTime::ZERO));
        assert_eq!(conditions(&svc, &pod), (false, true, true), "terminating: serving but not ready");
        assert!(!should_be_endpoint(&pod, false) && should_be_endpoint(&pod, true));
        let other: Service = parse("metadata: {name: x, namespace: default}\nspec: {selector: {app: api}}\n");
        assert!(!selects(&other, &pod));
        let headless_no_selector: Service = parse("metadata: {name: x, namespace: default}\nspec: {clusterIP: None}\n");
        assert!(!managed(&headless_no_selector));
    }
}

pub const TOPOLOGY_MODE: &str = "service.kubernetes.io/topology-mode";
const TOPOLOGY_AWARE_HINTS: &str = "service.kubernetes.io/topology-aware-hints";

/// How a Service asks for topology hints (and kube-proxy for using them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopologyMode {
    None,
    SameZone,
    SameNode,
    Auto,
}

pub fn topology_mode(service: &Service) -> TopologyMode {
    let annotations = service.metadata.annotations.as_ref();
    let annotation = annotations.and_then(|a| a.get(TOPOLOGY_MODE).or_else(|| a.get(TOPOLOGY_AWARE_HINTS)));
    if annotation.is_some_and(|m| m == "Auto" || m == "auto") {
        return TopologyMode::Auto;
    }
    match service.spec.as_ref().and_then(|s| s.traffic_distribution.as_deref()) {
        Some("PreferClose" | "PreferSameZone") => TopologyMode::SameZone,
        Some("PreferSameNode") => TopologyMode::SameNode,
        _ => TopologyMode::None,
    }
}
