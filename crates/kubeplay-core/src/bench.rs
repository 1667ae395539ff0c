//! The benchmark workloads, shared by the native benchmark (`cargo xtask bench`) and the one
//! that runs in headless Chromium, so both measure exactly the same simulation. Shapes follow
//! kube-scheduler's scheduler_perf and Kubernetes' scalability envelope. Timing is the
//! caller's: the core has no clock.

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::Object;
use crate::shell::Session;
use crate::sim::Cluster;
use crate::time::SimDuration;

/// `n` Nodes of the default size (4 CPU, 8Gi, 110 Pods), as one multi-document manifest.
pub fn nodes_manifest(n: usize) -> String {
    (0..n).map(|i| format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: node-{i:05}\n---\n")).collect()
}

/// `count` Deployments of `replicas` each, requesting 10m CPU and 10Mi per Pod.
pub fn deployments_manifest(count: usize, replicas: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i:04}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: app-{i:04}\n  template:\n    metadata:\n      labels:\n        app: app-{i:04}\n    spec:\n      containers:\n      - name: c\n        image: registry.k8s.io/pause:3.10\n        resources:\n          requests:\n            cpu: 10m\n            memory: 10Mi\n---\n"
            )
        })
        .collect()
}

/// A cluster of `nodes` Nodes and nothing else.
pub fn cluster_with_nodes(nodes: usize) -> Session {
    let mut session = Session::new(Cluster::empty(1));
    session.files.insert("nodes.yaml".into(), nodes_manifest(nodes));
    session.exec("kubectl apply -f nodes.yaml");
    session.files.clear();
    session
}

/// scheduler_perf's SchedulingBasic shape: `pods` plain Pods (10m CPU, 10Mi each) created at
/// once on a cluster prepared by [`cluster_with_nodes`]; returns how many got bound. The
/// caller times this call: everything in it is the control plane scheduling them.
pub fn schedule_pods(session: &mut Session, pods: usize) -> usize {
    let requests = ResourceRequirements {
        requests: Some([("cpu".to_string(), Quantity("10m".into())), ("memory".to_string(), Quantity("10Mi".into()))].into()),
        ..Default::default()
    };
    for i in 0..pods {
        let pod = Pod {
            metadata: ObjectMeta { name: Some(format!("pod-{i:06}")), namespace: Some("default".into()), ..Default::default() },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    image: Some("registry.k8s.io/pause:3.10".into()),
                    resources: Some(requests.clone()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: None,
        };
        if session.cluster.create(Object::from(pod)).is_err() {
            break;
        }
    }
    session.cluster.settle();
    session.cluster.store().pods(None).filter(|p| p.node_name().is_some()).count()
}

/// Applies the Deployments, then lets virtual time pass until every Pod is Running (checked
/// every `step` of virtual time, at most `limit`). Returns (Pods Running, virtual time taken).
pub fn run_deployments(session: &mut Session, count: usize, replicas: usize) -> (usize, SimDuration) {
    session.files.insert("apps.yaml".into(), deployments_manifest(count, replicas));
    let start = session.cluster.now();
    session.exec("kubectl apply -f apps.yaml");
    session.files.clear();
    let want = count * replicas;
    let step = SimDuration::from_secs(5);
    let limit = SimDuration::from_secs(600);
    loop {
        session.cluster.advance(step);
        let running = session.cluster.store().pods(None).filter(|p| p.phase() == "Running").count();
        let took = session.cluster.now().since(start);
        if running >= want || took >= limit {
            return (running, took);
        }
    }
}
