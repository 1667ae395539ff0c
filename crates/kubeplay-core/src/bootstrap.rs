//! What exists before the user applies anything: the four namespaces, the `kubernetes`
//! Service, and (unless the user brings their own) the default nodes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Namespace, Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo, Service, ServicePort, ServiceSpec,
    Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::Object;
use crate::cluster::Cluster;
use crate::network;

pub const KUBERNETES_VERSION: &str = "v1.37.0";

pub fn control_plane(cluster: &mut Cluster) {
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        let namespace = Namespace { metadata: meta(ns, None), ..Default::default() };
        cluster.create(Object::Namespace(namespace));
    }
    network::reserve_service_ip(cluster, "10.96.0.1");
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
    cluster.create(Object::Service(svc));
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta { name: Some(name.into()), namespace: namespace.map(str::to_string), ..Default::default() }
}

/// `control-plane` (tainted NoSchedule) and `worker-1..3`, each 4 CPU / 8Gi / 110 pods.
pub fn default_nodes(cluster: &mut Cluster) {
    let nodes = [
        ("control-plane", "zone-a", true),
        ("worker-1", "zone-a", false),
        ("worker-2", "zone-b", false),
        ("worker-3", "zone-c", false),
    ];
    for (name, zone, control_plane) in nodes {
        let mut labels = BTreeMap::new();
        labels.insert("topology.kubernetes.io/zone".to_string(), zone.to_string());
        if control_plane {
            labels.insert("node-role.kubernetes.io/control-plane".to_string(), String::new());
        }
        let taints = control_plane.then(|| {
            vec![Taint {
                key: "node-role.kubernetes.io/control-plane".into(),
                effect: "NoSchedule".into(),
                ..Default::default()
            }]
        });
        let node = Node {
            metadata: ObjectMeta { labels: Some(labels), ..meta(name, None) },
            spec: Some(NodeSpec { taints, ..Default::default() }),
            ..Default::default()
        };
        cluster.create(Object::Node(node));
    }
}

/// Fills what the kubelet reports about itself when it registers: labels, podCIDR, capacity,
/// conditions, addresses and system info. What the manifest gave is kept.
pub fn node_defaults(cluster: &mut Cluster, node: &mut Node) {
    let name = node.metadata.name.clone().unwrap_or_default();
    let labels = node.metadata.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in [
        ("beta.kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/hostname", name.as_str()),
        ("kubernetes.io/os", "linux"),
    ] {
        labels.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    let cidr = network::node_pod_cidr(cluster, &name);
    let spec = node.spec.get_or_insert_with(NodeSpec::default);
    spec.pod_cidr.get_or_insert_with(|| cidr.clone());
    spec.pod_cidrs.get_or_insert_with(|| vec![cidr]);
    let index = cluster.store.list("Node", None).count() + 2;
    let now = cluster.timestamp();
    let status = node.status.get_or_insert_with(NodeStatus::default);
    let capacity = status.capacity.get_or_insert_with(BTreeMap::new);
    for (k, v) in [("cpu", "4"), ("ephemeral-storage", "100Gi"), ("hugepages-2Mi", "0"), ("memory", "8Gi"), ("pods", "110")] {
        capacity.entry(k.to_string()).or_insert_with(|| Quantity(v.to_string()));
    }
    let capacity = capacity.clone();
    status.allocatable.get_or_insert(capacity);
    status.addresses.get_or_insert_with(|| {
        vec![
            NodeAddress { type_: "InternalIP".into(), address: format!("172.18.0.{index}") },
            NodeAddress { type_: "Hostname".into(), address: name.clone() },
        ]
    });
    status.conditions.get_or_insert_with(|| {
        [
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        .into_iter()
        .map(|(t, s, r, m)| NodeCondition {
            type_: t.into(),
            status: s.into(),
            reason: Some(r.into()),
            message: Some(m.into()),
            last_heartbeat_time: Some(now.clone()),
            last_transition_time: Some(now.clone()),
        })
        .collect()
    });
    status.node_info.get_or_insert_with(|| NodeSystemInfo {
        architecture: "amd64".into(),
        boot_id: String::new(),
        container_runtime_version: "containerd://2.1.3".into(),
        kernel_version: "6.12.0-kubeplay".into(),
        kube_proxy_version: String::new(),
        kubelet_version: KUBERNETES_VERSION.into(),
        machine_id: String::new(),
        operating_system: "linux".into(),
        os_image: "Debian GNU/Linux 12 (bookworm)".into(),
        system_uuid: String::new(),
        ..Default::default()
    });
}
