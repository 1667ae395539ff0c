//! What exists before the user applies anything: the four namespaces, the `kubernetes`
//! Service, and (unless the user brings their own) the default nodes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Namespace, Node, NodeSpec, Service, ServicePort, ServiceSpec, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::Object;
use crate::apiserver::ApiServer;

pub use crate::apiserver::KUBERNETES_VERSION;

pub fn control_plane(api: &mut ApiServer) {
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        let namespace = Namespace { metadata: meta(ns, None), ..Default::default() };
        let _ = api.create(Object::from(namespace));
    }
    api.reserve_service_ip("10.96.0.1");
    let mut labels = BTreeMap::new();
    labels.insert("component".to_string(), "apiserver".to_string());
    labels.insert("provider".to_string(), "kubernetes".to_string());
    let svc = Service {
        metadata: ObjectMeta { labels: Some(labels), ..meta("kubernetes", Some("default")) },
        spec: Some(ServiceSpec {
            cluster_ip: Some("10.96.0.1".into()),
            ports: Some(vec![ServicePort {
                name: Some("https".into()),
                port: 443,
                target_port: Some(IntOrString::Int(6443)),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let _ = api.create(Object::from(svc));
    apiserver_endpoints(api);
    cluster_dns(api);
    ingress_class(api);
    for parsed in crate::manifest::parse("bootstrap", &crate::api::priority_class::system_classes_yaml()).objects {
        let _ = api.create(parsed.object);
    }
}

/// The simulated ingress-nginx's IngressClass, the cluster's default.
fn ingress_class(api: &mut ApiServer) {
    let yaml = "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: nginx\n  annotations:\n    ingressclass.kubernetes.io/is-default-class: \"true\"\n  labels:\n    app.kubernetes.io/component: controller\n    app.kubernetes.io/name: ingress-nginx\nspec:\n  controller: k8s.io/ingress-nginx\n";
    for parsed in crate::manifest::parse("bootstrap", yaml).objects {
        let _ = api.create(parsed.object);
    }
}

/// CoreDNS's Service, `kube-dns` in kube-system at 10.96.0.10: every Pod's nameserver. CoreDNS
/// itself is not run as Pods (the network module answers its queries), so the Service has
/// no selector and no endpoints here.
fn cluster_dns(api: &mut ApiServer) {
    api.reserve_service_ip(crate::apiserver::CLUSTER_DNS_IP);
    let labels = BTreeMap::from([
        ("k8s-app".to_string(), "kube-dns".to_string()),
        ("kubernetes.io/cluster-service".to_string(), "true".to_string()),
        ("kubernetes.io/name".to_string(), "CoreDNS".to_string()),
    ]);
    let port = |name: &str, port: i32, protocol: &str| ServicePort {
        name: Some(name.into()),
        port,
        protocol: Some(protocol.into()),
        target_port: Some(IntOrString::Int(port)),
        ..Default::default()
    };
    let svc = Service {
        metadata: ObjectMeta {
            labels: Some(labels),
            annotations: Some(BTreeMap::from([
                ("prometheus.io/port".to_string(), "9153".to_string()),
                ("prometheus.io/scrape".to_string(), "true".to_string()),
            ])),
            ..meta("kube-dns", Some("kube-system"))
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some(crate::apiserver::CLUSTER_DNS_IP.into()),
            ports: Some(vec![port("dns", 53, "UDP"), port("dns-tcp", 53, "TCP"), port("metrics", 9153, "TCP")]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let _ = api.create(Object::from(svc));
}

/// Where the API server listens (the control-plane node's address, as on a kind cluster).
pub const APISERVER_ADDRESS: &str = "172.18.0.2";

/// The API server's own endpoint reconciler: the `kubernetes` Service has no selector; the
/// API server writes its Endpoints and EndpointSlice itself.
fn apiserver_endpoints(api: &mut ApiServer) {
    use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort as CorePort, EndpointSubset, Endpoints};
    use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
    let labels = BTreeMap::from([("endpointslice.kubernetes.io/skip-mirror".to_string(), "true".to_string())]);
    let endpoints = Endpoints {
        metadata: ObjectMeta { labels: Some(labels), ..meta("kubernetes", Some("default")) },
        subsets: Some(vec![EndpointSubset {
            addresses: Some(vec![EndpointAddress { ip: APISERVER_ADDRESS.into(), ..Default::default() }]),
            ports: Some(vec![CorePort { name: Some("https".into()), port: 6443, protocol: Some("TCP".into()), app_protocol: None }]),
            not_ready_addresses: None,
        }]),
    };
    let _ = api.create(Object::from(endpoints));
    let labels = BTreeMap::from([("kubernetes.io/service-name".to_string(), "kubernetes".to_string())]);
    let slice = EndpointSlice {
        metadata: ObjectMeta { labels: Some(labels), ..meta("kubernetes", Some("default")) },
        address_type: "IPv4".into(),
        endpoints: Some(vec![Endpoint {
            addresses: vec![APISERVER_ADDRESS.into()],
            conditions: Some(EndpointConditions { ready: Some(true), ..Default::default() }),
            ..Default::default()
        }]),
        ports: Some(vec![EndpointPort { name: Some("https".into()), port: Some(6443), protocol: Some("TCP".into()), app_protocol: None }]),
    };
    let _ = api.create(Object::from(slice));
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta { name: Some(name.into()), namespace: namespace.map(str::to_string), ..Default::default() }
}

/// `control-plane` (tainted NoSchedule) and `worker-1..3`, each 4 CPU / 8Gi / 110 pods.
pub fn default_nodes(api: &mut ApiServer) {
    let nodes =
        [("control-plane", "zone-a", true), ("worker-1", "zone-a", false), ("worker-2", "zone-b", false), ("worker-3", "zone-c", false)];
    for (name, zone, control_plane) in nodes {
        let mut labels = BTreeMap::new();
        labels.insert("topology.kubernetes.io/zone".to_string(), zone.to_string());
        if control_plane {
            labels.insert("node-role.kubernetes.io/control-plane".to_string(), String::new());
            // kubeadm keeps the control plane out of cloud load balancers' pools.
            labels.insert("node.kubernetes.io/exclude-from-external-load-balancers".to_string(), String::new());
        }
        let taints = control_plane.then(|| {
            vec![Taint { key: "node-role.kubernetes.io/control-plane".into(), effect: "NoSchedule".into(), ..Default::default() }]
        });
        let node = Node {
            metadata: ObjectMeta { labels: Some(labels), ..meta(name, None) },
            spec: Some(NodeSpec { taints, ..Default::default() }),
            ..Default::default()
        };
        let _ = api.create(Object::from(node));
    }
}
