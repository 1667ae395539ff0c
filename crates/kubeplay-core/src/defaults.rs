//! API defaulting, as `k8s.io/kubernetes/pkg/apis/*/v1/defaults.go` and the default admission
//! plugins apply it, so that `kubectl get -o yaml` shows what a real cluster would.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodStatus, ServiceSpec, Toleration};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::Object;
use crate::cluster::Cluster;
use crate::network;

/// Kinds whose `metadata.generation` tracks spec changes.
pub fn has_generation(object: &Object) -> bool {
    matches!(object, Object::Deployment(_) | Object::ReplicaSet(_) | Object::Stored(_) | Object::Pod(_))
}

pub fn apply(cluster: &mut Cluster, object: &mut Object) {
    if object.info().namespaced && object.meta().namespace.as_deref().is_none_or(str::is_empty) {
        object.meta_mut().namespace = Some("default".into());
    }
    match object {
        Object::Pod(pod) => {
            let spec = pod.spec.get_or_insert_with(Default::default);
            pod_spec(spec);
            pod_admission(spec);
            let suffix = cluster.rng.names.name_suffix(5);
            service_account_token(spec, &suffix);
            let qos = qos_class(spec);
            let status = pod.status.get_or_insert_with(PodStatus::default);
            status.phase = Some("Pending".into());
            status.qos_class = Some(qos.into());
        }
        Object::Deployment(d) => {
            let spec = &mut d.spec;
            spec.replicas.get_or_insert(1);
            spec.revision_history_limit.get_or_insert(10);
            spec.progress_deadline_seconds.get_or_insert(600);
            let strategy = spec.strategy.get_or_insert_with(DeploymentStrategy::default);
            let ty = strategy.type_.get_or_insert_with(|| "RollingUpdate".into()).clone();
            if ty == "RollingUpdate" {
                let ru = strategy.rolling_update.get_or_insert_with(RollingUpdateDeployment::default);
                ru.max_surge.get_or_insert(IntOrString::String("25%".into()));
                ru.max_unavailable.get_or_insert(IntOrString::String("25%".into()));
            }
            if let Some(s) = spec.template.spec.as_mut() {
                pod_spec(s);
            }
        }
        Object::ReplicaSet(rs) => {
            rs.spec.replicas.get_or_insert(1);
            if let Some(s) = rs.spec.template.as_mut().and_then(|t| t.spec.as_mut()) {
                pod_spec(s);
            }
        }
        Object::Service(svc) => {
            let spec = svc.spec.get_or_insert_with(ServiceSpec::default);
            service_spec(spec);
            network::allocate_service(cluster, spec);
            svc.status.get_or_insert_with(|| k8s_openapi::api::core::v1::ServiceStatus {
                load_balancer: Some(Default::default()),
                ..Default::default()
            });
        }
        Object::Namespace(ns) => {
            let name = ns.metadata.name.clone().unwrap_or_default();
            ns.metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert("kubernetes.io/metadata.name".into(), name);
            ns.spec.get_or_insert_with(|| k8s_openapi::api::core::v1::NamespaceSpec {
                finalizers: Some(vec!["kubernetes".into()]),
            });
            ns.status.get_or_insert_with(|| k8s_openapi::api::core::v1::NamespaceStatus {
                phase: Some("Active".into()),
                ..Default::default()
            });
        }
        Object::Node(node) => crate::bootstrap::node_defaults(cluster, node),
        Object::Event(_) | Object::Stored(_) => {}
    }
}

/// `SetDefaults_PodSpec` and `SetDefaults_Container`.
pub fn pod_spec(spec: &mut PodSpec) {
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.scheduler_name.get_or_insert_with(|| "default-scheduler".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.security_context.get_or_insert_with(Default::default);
    for c in &mut spec.containers {
        container(c);
    }
    for c in spec.init_containers.iter_mut().flatten() {
        container(c);
    }
}

fn container(c: &mut Container) {
    let image = c.image.clone().unwrap_or_default();
    c.image_pull_policy.get_or_insert_with(|| {
        if image_tag(&image).is_none_or(|t| t == "latest") { "Always" } else { "IfNotPresent" }.into()
    });
    c.termination_message_path.get_or_insert_with(|| "/dev/termination-log".into());
    c.termination_message_policy.get_or_insert_with(|| "File".into());
    c.resources.get_or_insert_with(Default::default);
    for p in c.ports.iter_mut().flatten() {
        p.protocol.get_or_insert_with(|| "TCP".into());
    }
    // Requests default to limits when only limits are given.
    if let Some(res) = c.resources.as_mut() {
        if let Some(limits) = res.limits.clone() {
            let requests = res.requests.get_or_insert_with(BTreeMap::new);
            for (k, v) in limits {
                requests.entry(k).or_insert(v);
            }
        }
    }
}

/// The tag of an image reference (`nginx:1.27` → `1.27`), ignoring registry ports and digests.
pub fn image_tag(image: &str) -> Option<&str> {
    if image.contains('@') {
        return Some("@digest");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, t)| t)
}

/// What admission adds to every Pod: the default ServiceAccount, priority, service links and
/// the DefaultTolerationSeconds tolerations.
fn pod_admission(spec: &mut PodSpec) {
    spec.service_account_name.get_or_insert_with(|| "default".into());
    spec.enable_service_links.get_or_insert(true);
    spec.priority.get_or_insert(0);
    spec.preemption_policy.get_or_insert_with(|| "PreemptLowerPriority".into());
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        let tolerated = tolerations
            .iter()
            .any(|t| t.key.as_deref() == Some(key) && t.effect.as_deref().is_none_or(|e| e == "NoExecute"));
        if !tolerated {
            tolerations.push(Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(300),
                ..Default::default()
            });
        }
    }
}

const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The ServiceAccount admission plugin mounts an API token into every container, through a
/// projected volume named `kube-api-access-<5 chars>`, unless automounting is switched off.
fn service_account_token(spec: &mut PodSpec, suffix: &str) {
    use k8s_openapi::api::core::v1::{
        ConfigMapProjection, DownwardAPIProjection, DownwardAPIVolumeFile, KeyToPath, ObjectFieldSelector, ProjectedVolumeSource,
        ServiceAccountTokenProjection, Volume, VolumeMount, VolumeProjection,
    };
    if spec.automount_service_account_token == Some(false) {
        return;
    }
    let name = format!("kube-api-access-{suffix}");
    let mut mounted = false;
    for c in &mut spec.containers {
        let mounts = c.volume_mounts.get_or_insert_with(Vec::new);
        if mounts.iter().any(|m| m.mount_path == TOKEN_MOUNT_PATH) {
            continue;
        }
        mounts.push(VolumeMount { mount_path: TOKEN_MOUNT_PATH.into(), name: name.clone(), read_only: Some(true), ..Default::default() });
        mounted = true;
    }
    if !mounted {
        return;
    }
    let projected = ProjectedVolumeSource {
        default_mode: Some(420),
        default_user: None,
        sources: Some(vec![
            VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    expiration_seconds: Some(3607),
                    path: "token".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            VolumeProjection {
                config_map: Some(ConfigMapProjection {
                    name: "kube-root-ca.crt".into(),
                    items: Some(vec![KeyToPath { key: "ca.crt".into(), path: "ca.crt".into(), ..Default::default() }]),
                    optional: None,
                }),
                ..Default::default()
            },
            VolumeProjection {
                downward_api: Some(DownwardAPIProjection {
                    items: Some(vec![DownwardAPIVolumeFile {
                        field_ref: Some(ObjectFieldSelector { api_version: Some("v1".into()), field_path: "metadata.namespace".into() }),
                        path: "namespace".into(),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            },
        ]),
    };
    spec.volumes.get_or_insert_with(Vec::new).push(Volume { name, projected: Some(projected), ..Default::default() });
}

/// Guaranteed when every container has equal cpu and memory requests and limits; BestEffort
/// when none sets any; Burstable otherwise.
pub fn qos_class(spec: &PodSpec) -> &'static str {
    let containers = spec.containers.iter().chain(spec.init_containers.iter().flatten());
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let res = c.resources.clone().unwrap_or_default();
        let requests = res.requests.unwrap_or_default();
        let limits = res.limits.unwrap_or_default();
        if !requests.is_empty() || !limits.is_empty() {
            any = true;
        }
        for r in ["cpu", "memory"] {
            match (requests.get(r), limits.get(r)) {
                (Some(q), Some(l)) if q == l => {}
                _ => guaranteed = false,
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

fn service_spec(spec: &mut ServiceSpec) {
    let ty = spec.type_.get_or_insert_with(|| "ClusterIP".into()).clone();
    spec.session_affinity.get_or_insert_with(|| "None".into());
    for p in spec.ports.iter_mut().flatten() {
        p.protocol.get_or_insert_with(|| "TCP".into());
        if p.target_port.is_none() || p.target_port == Some(IntOrString::Int(0)) {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
    if ty != "ExternalName" {
        spec.internal_traffic_policy.get_or_insert_with(|| "Cluster".into());
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        spec.external_traffic_policy.get_or_insert_with(|| "Cluster".into());
    }
    if ty == "LoadBalancer" {
        spec.allocate_load_balancer_node_ports.get_or_insert(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pull_policy_follows_the_tag() {
        assert_eq!(image_tag("nginx"), None);
        assert_eq!(image_tag("nginx:1.27"), Some("1.27"));
        assert_eq!(image_tag("localhost:5000/app"), None);
        assert_eq!(image_tag("localhost:5000/app:v2"), Some("v2"));
        let mut c = Container { image: Some("nginx".into()), ..Default::default() };
        container(&mut c);
        assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
        let mut c = Container { image: Some("nginx:1.27".into()), ..Default::default() };
        container(&mut c);
        assert_eq!(c.image_pull_policy.as_deref(), Some("IfNotPresent"));
    }
}
