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
