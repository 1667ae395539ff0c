//! Per-kind API-server strategies: defaulting as `k8s.io/kubernetes/pkg/apis/*/v1/defaults.go`
//! and the default admission plugins apply it (so `kubectl get -o yaml` shows what a real
//! cluster would), what registration fills in for a Node, which writes bump
//! `metadata.generation`, and the rules for updating an object from a client's manifest.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodStatus, ServiceSpec, Toleration};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo, Pod, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::ApiServer;
use crate::api::image::image_tag;
use crate::api::Object;

/// The version every simulated component reports.
pub const KUBERNETES_VERSION: &str = "v1.37.0";

/// Kinds whose `metadata.generation` tracks spec changes.
pub fn has_generation(object: &Object) -> bool {
    match object {
        Object::Deployment(_)
        | Object::ReplicaSet(_)
        | Object::Pod(_)
        | Object::Job(_)
        | Object::DaemonSet(_)
        | Object::StatefulSet(_)
        | Object::CronJob(_) => true,
        // Kinds without a spec have no generation.
        Object::Stored(s) => !matches!(s.info.kind, "ServiceAccount" | "Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding"),
        _ => false,
    }
}

pub(super) fn default(api: &mut ApiServer, object: &mut Object) {
    if object.info().namespaced && object.meta().namespace.as_deref().is_none_or(str::is_empty) {
        object.meta_mut().namespace = Some("default".into());
    }
    match object {
        Object::Pod(pod) => {
            let spec = pod.spec.get_or_insert_with(Default::default);
            pod_spec(spec);
            pod_admission(spec);
            let suffix = api.names.name_suffix(5);
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
        Object::Job(job) => job_defaults(job),
        Object::CronJob(cj) => {
            // `SetDefaults_CronJob`; the Job template's Pod spec is defaulted as a Pod's.
            let spec = &mut cj.spec;
            spec.concurrency_policy.get_or_insert_with(|| "Allow".into());
            spec.suspend.get_or_insert(false);
            spec.successful_jobs_history_limit.get_or_insert(3);
            spec.failed_jobs_history_limit.get_or_insert(1);
            if let Some(s) = spec.job_template.spec.as_mut().and_then(|j| j.template.spec.as_mut()) {
                pod_spec(s);
            }
            cj.status.get_or_insert_with(Default::default);
        }
        Object::StatefulSet(sts) => {
            // `SetDefaults_StatefulSet`.
            let spec = &mut sts.spec;
            spec.replicas.get_or_insert(1);
            spec.pod_management_policy.get_or_insert_with(|| "OrderedReady".into());
            spec.revision_history_limit.get_or_insert(10);
            let strategy = spec.update_strategy.get_or_insert_with(Default::default);
            if strategy.type_.get_or_insert_with(|| "RollingUpdate".into()) == "RollingUpdate" {
                strategy.rolling_update.get_or_insert_with(Default::default).partition.get_or_insert(0);
            }
            let retention = spec.persistent_volume_claim_retention_policy.get_or_insert_with(Default::default);
            retention.when_deleted.get_or_insert_with(|| "Retain".into());
            retention.when_scaled.get_or_insert_with(|| "Retain".into());
            for claim in spec.volume_claim_templates.iter_mut().flatten() {
                if let Some(s) = claim.spec.as_mut() {
                    s.volume_mode.get_or_insert_with(|| "Filesystem".into());
                }
                claim.status.get_or_insert_with(|| k8s_openapi::api::core::v1::PersistentVolumeClaimStatus {
                    phase: Some("Pending".into()),
                    ..Default::default()
                });
            }
            if let Some(s) = spec.template.spec.as_mut() {
                pod_spec(s);
            }
            sts.status.get_or_insert_with(Default::default);
        }
        Object::DaemonSet(ds) => {
            // `SetDefaults_DaemonSet`: RollingUpdate with maxUnavailable 1 and maxSurge 0.
            let spec = &mut ds.spec;
            spec.revision_history_limit.get_or_insert(10);
            let strategy = spec.update_strategy.get_or_insert_with(Default::default);
            let ty = strategy.type_.get_or_insert_with(|| "RollingUpdate".into()).clone();
            if ty == "RollingUpdate" {
                let ru = strategy.rolling_update.get_or_insert_with(Default::default);
                ru.max_unavailable.get_or_insert(IntOrString::Int(1));
                ru.max_surge.get_or_insert(IntOrString::Int(0));
            }
            if let Some(s) = spec.template.spec.as_mut() {
                pod_spec(s);
            }
            ds.status.get_or_insert_with(Default::default);
        }
        Object::Stored(st) if st.info.kind == "PriorityClass" => {
            // `SetDefaults_PriorityClass`.
            st.body.entry("preemptionPolicy").or_insert_with(|| "PreemptLowerPriority".into());
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
            api.allocations.allocate_service(&mut api.network, spec);
            svc.status.get_or_insert_with(|| k8s_openapi::api::core::v1::ServiceStatus {
                load_balancer: Some(Default::default()),
                ..Default::default()
            });
        }
        Object::Namespace(ns) => {
            let name = ns.metadata.name.clone().unwrap_or_default();
            ns.metadata.labels.get_or_insert_with(BTreeMap::new).insert("kubernetes.io/metadata.name".into(), name);
            ns.spec.get_or_insert_with(|| k8s_openapi::api::core::v1::NamespaceSpec { finalizers: Some(vec!["kubernetes".into()]) });
            ns.status
                .get_or_insert_with(|| k8s_openapi::api::core::v1::NamespaceStatus { phase: Some("Active".into()), ..Default::default() });
        }
        Object::Node(node) => node_registration(api, node),
        Object::Secret(secret) => {
            // `stringData` is write-only: the API server folds it into `data`.
            secret.type_.get_or_insert_with(|| "Opaque".into());
            if let Some(strings) = secret.string_data.take() {
                let data = secret.data.get_or_insert_with(BTreeMap::new);
                for (k, v) in strings {
                    data.insert(k, k8s_openapi::ByteString(v.into_bytes()));
                }
            }
        }
        Object::EndpointSlice(slice) => {
            // `endpoints` is a required list: an empty one is stored as such.
            for port in slice.ports.iter_mut().flatten() {
                port.protocol.get_or_insert_with(|| "TCP".into());
            }
        }
        Object::Event(_) | Object::Stored(_) | Object::ConfigMap(_) | Object::Endpoints(_) => {}
        Object::Ingress(ing) => {
            // The DefaultIngressClass admission plugin: an Ingress without a class gets the
            // default IngressClass's name.
            // (An Ingress that names its class in the legacy annotation keeps it.)
            let annotated = ing.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(crate::api::ingress::CLASS_ANNOTATION));
            let spec = ing.spec.get_or_insert_with(Default::default);
            if spec.ingress_class_name.is_none() && !annotated {
                spec.ingress_class_name = api
                    .store()
                    .list("IngressClass", None)
                    .find(|c| {
                        c.meta().annotations.as_ref().and_then(|a| a.get("ingressclass.kubernetes.io/is-default-class")).map(String::as_str)
                            == Some("true")
                    })
                    .map(|c| c.name().to_string());
            }
        }
    }
}

/// `SetDefaults_Job` and the Job strategy's `PrepareForCreate`: without `manualSelector`, the
/// selector and the template's labels are generated from the Job's uid and name.
fn job_defaults(job: &mut k8s_openapi::api::batch::v1::Job) {
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    let spec = job.spec.get_or_insert_with(Default::default);
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
    }
    spec.parallelism.get_or_insert(1);
    let per_index = spec.backoff_limit_per_index.is_some();
    spec.backoff_limit.get_or_insert(if per_index { i32::MAX } else { 6 });
    spec.completion_mode.get_or_insert_with(|| "NonIndexed".into());
    spec.suspend.get_or_insert(false);
    let replacement = if spec.pod_failure_policy.is_some() { "Failed" } else { "TerminatingOrFailed" };
    spec.pod_replacement_policy.get_or_insert_with(|| replacement.into());
    if spec.manual_selector != Some(true) {
        let generated = [
            ("batch.kubernetes.io/controller-uid".to_string(), uid.clone()),
            ("batch.kubernetes.io/job-name".to_string(), name.clone()),
            ("controller-uid".to_string(), uid.clone()),
            ("job-name".to_string(), name),
        ];
        spec.selector = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
            match_labels: Some(BTreeMap::from([("batch.kubernetes.io/controller-uid".to_string(), uid)])),
            match_expressions: None,
        });
        let labels = spec.template.metadata.get_or_insert_with(Default::default).labels.get_or_insert_with(BTreeMap::new);
        labels.extend(generated);
    }
    if let Some(s) = spec.template.spec.as_mut() {
        pod_spec(s);
    }
    job.status.get_or_insert_with(Default::default);
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
    // On the host's network a container port is a host port (`defaultHostNetworkPorts`).
    if spec.host_network == Some(true) {
        for p in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()).flat_map(|c| c.ports.iter_mut().flatten()) {
            if p.host_port.unwrap_or(0) == 0 {
                p.host_port = Some(p.container_port);
            }
        }
    }
}

fn container(c: &mut Container) {
    for e in c.env.iter_mut().flatten() {
        if let Some(f) = e.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            f.api_version.get_or_insert_with(|| "v1".into());
        }
    }
    for probe in [&mut c.liveness_probe, &mut c.readiness_probe, &mut c.startup_probe].into_iter().flatten() {
        probe_defaults(probe);
    }
    let image = c.image.clone().unwrap_or_default();
    c.image_pull_policy
        .get_or_insert_with(|| if image_tag(&image).is_none_or(|t| t == "latest") { "Always" } else { "IfNotPresent" }.into());
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

/// `SetDefaults_Probe`, `SetDefaults_HTTPGetAction` and `SetDefaults_GRPCAction`.
fn probe_defaults(p: &mut k8s_openapi::api::core::v1::Probe) {
    p.timeout_seconds.get_or_insert(1);
    p.period_seconds.get_or_insert(10);
    p.success_threshold.get_or_insert(1);
    p.failure_threshold.get_or_insert(3);
    if let Some(http) = p.http_get.as_mut() {
        http.path.get_or_insert_with(|| "/".into());
        http.scheme.get_or_insert_with(|| "HTTP".into());
    }
    if let Some(grpc) = p.grpc.as_mut() {
        grpc.service.get_or_insert_with(String::new);
    }
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
        let tolerated = tolerations.iter().any(|t| t.key.as_deref() == Some(key) && t.effect.as_deref().is_none_or(|e| e == "NoExecute"));
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
    // The ServiceAccount admission plugin mounts the token into init containers too.
    for c in spec.init_containers.iter_mut().flatten().chain(spec.containers.iter_mut()) {
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

/// Fills what the kubelet reports about itself when it registers: labels, podCIDR, capacity,
/// conditions, addresses and system info. What the manifest gave is kept.
fn node_registration(api: &mut ApiServer, node: &mut Node) {
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
    let spec = node.spec.get_or_insert_with(NodeSpec::default);
    if let Some(cidr) = api.allocations.node_pod_cidr(&name) {
        spec.pod_cidr.get_or_insert_with(|| cidr.clone());
        spec.pod_cidrs.get_or_insert_with(|| vec![cidr]);
    }
    let ip = api.allocations.node_ip(&name);
    let now = api.timestamp();
    let status = node.status.get_or_insert_with(NodeStatus::default);
    let capacity = status.capacity.get_or_insert_with(BTreeMap::new);
    for (k, v) in [("cpu", "4"), ("ephemeral-storage", "100Gi"), ("hugepages-2Mi", "0"), ("memory", "8Gi"), ("pods", "110")] {
        capacity.entry(k.to_string()).or_insert_with(|| Quantity(v.to_string()));
    }
    let capacity = capacity.clone();
    status.allocatable.get_or_insert(capacity);
    status.addresses.get_or_insert_with(|| {
        vec![NodeAddress { type_: "InternalIP".into(), address: ip }, NodeAddress { type_: "Hostname".into(), address: name.clone() }]
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

/// Whether a write changes the spec of a kind whose generation tracks it.
pub(super) fn spec_changed(old: &Object, new: &Object) -> bool {
    match (old, new) {
        (Object::Deployment(a), Object::Deployment(b)) => a.spec != b.spec,
        (Object::ReplicaSet(a), Object::ReplicaSet(b)) => a.spec != b.spec,
        (Object::Job(a), Object::Job(b)) => a.spec != b.spec,
        (Object::DaemonSet(a), Object::DaemonSet(b)) => a.spec != b.spec,
        (Object::StatefulSet(a), Object::StatefulSet(b)) => a.spec != b.spec,
        (Object::CronJob(a), Object::CronJob(b)) => a.spec != b.spec,
        _ => false,
    }
}

/// `PrepareForUpdate` + update validation for a client's whole-object write (`kubectl apply`):
/// the manifest's spec (defaulted), labels and annotations replace the live ones; status, uid,
/// timestamps and allocated addresses stay. Pods accept only image changes.
pub(super) fn update_from_client(api: &mut ApiServer, existing: &Object, mut desired: Object) -> Result<Object, String> {
    if let (Object::Service(old), Object::Service(new)) = (existing, &mut desired) {
        keep_allocations(old, new);
        // `ValidateServiceUpdate`: an allocated cluster IP stays (ExternalName has none).
        let ip = |s: &Service| s.spec.as_ref().and_then(|s| s.cluster_ip.clone()).filter(|ip| !ip.is_empty());
        let external = |s: &Service| s.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName");
        if let (Some(was), Some(now)) = (ip(old), ip(new)) {
            if was != now && !external(old) && !external(new) {
                return Err(format!(
                    "The Service {:?} is invalid: spec.clusterIPs[0]: Invalid value: {now:?}: may not change once set\n",
                    new.metadata.name.as_deref().unwrap_or("")
                ));
            }
        }
    }
    // Defaulting may derive from the uid (a Job's selector): it is the live object's.
    desired.meta_mut().uid = existing.meta().uid.clone();
    // The Priority admission plugin keeps what it resolved at creation.
    if let (Object::Pod(old), Object::Pod(new)) = (existing, &mut desired) {
        if let (Some(o), Some(n)) = (old.spec.as_ref(), new.spec.as_mut()) {
            n.priority = n.priority.or(o.priority);
            n.priority_class_name = n.priority_class_name.clone().or_else(|| o.priority_class_name.clone());
            n.preemption_policy = n.preemption_policy.clone().or_else(|| o.preemption_policy.clone());
        }
    }
    default(api, &mut desired);
    immutable_update(existing, &desired)?;
    let old_meta = existing.meta().clone();
    // Labels and annotations are the client's (kubectl apply has already merged them with
    // the live ones three ways).
    let labels = desired.meta().labels.clone();
    let annotations = desired.meta().annotations.clone();
    immutable_selector(existing, &desired)?;
    let mut merged = match (existing.clone(), desired) {
        (Object::Deployment(mut old), Object::Deployment(new)) => {
            old.spec = new.spec;
            Object::Deployment(old)
        }
        (Object::ReplicaSet(mut old), Object::ReplicaSet(new)) => {
            old.spec = new.spec;
            Object::ReplicaSet(old)
        }
        (Object::Job(mut old), Object::Job(new)) => {
            // `ValidateJobUpdate`: the Pod template cannot change (the rest of the spec can).
            let template = |j: &k8s_openapi::api::batch::v1::Job| j.spec.as_ref().map(|s| s.template.clone());
            if template(&old) != template(&new) {
                return Err(format!(
                    "The Job {:?} is invalid: spec.template: Invalid value: core.PodTemplateSpec{{…}}: field is immutable\n",
                    new.metadata.name.as_deref().unwrap_or("")
                ));
            }
            old.spec = new.spec;
            Object::Job(old)
        }
        (Object::DaemonSet(mut old), Object::DaemonSet(new)) => {
            old.spec = new.spec;
            Object::DaemonSet(old)
        }
        (Object::CronJob(mut old), Object::CronJob(new)) => {
            old.spec = new.spec;
            Object::CronJob(old)
        }
        (Object::StatefulSet(mut old), Object::StatefulSet(new)) => {
            old.spec = new.spec;
            Object::StatefulSet(old)
        }
        (Object::Service(mut old), Object::Service(new)) => {
            old.spec = new.spec;
            Object::Service(old)
        }
        (Object::Pod(mut old), Object::Pod(new)) => {
            pod_update(&mut old, *new)?;
            Object::Pod(old)
        }
        (_, mut other) => {
            other.meta_mut().generation = old_meta.generation;
            other
        }
    };
    let meta = merged.meta_mut();
    meta.uid = old_meta.uid.clone();
    meta.creation_timestamp = old_meta.creation_timestamp;
    meta.labels = labels;
    meta.annotations = annotations;
    Ok(merged)
}

/// A workload's `spec.selector` cannot change (`ValidateImmutableField`), and a StatefulSet's
/// spec only in the fields `ValidateStatefulSetUpdate` lets change.
fn immutable_selector(existing: &Object, desired: &Object) -> Result<(), String> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
    let selector = |o: &Object| -> Option<LabelSelector> {
        match o {
            Object::Deployment(d) => Some(d.spec.selector.clone()),
            Object::ReplicaSet(rs) => Some(rs.spec.selector.clone()),
            Object::DaemonSet(ds) => Some(ds.spec.selector.clone()),
            Object::StatefulSet(sts) => Some(sts.spec.selector.clone()),
            Object::Job(j) => j.spec.as_ref().and_then(|s| s.selector.clone()),
            _ => None,
        }
    };
    let kind = desired.info().kind;
    let name = desired.name();
    let mut errors = Vec::new();
    if let (Some(old), Some(new)) = (selector(existing), selector(desired)) {
        if old != new {
            let shown = serde_json::to_string(&new).unwrap_or_default();
            errors.push(format!("spec.selector: Invalid value: {shown}: field is immutable"));
        }
    }
    if let (Object::StatefulSet(old), Object::StatefulSet(new)) = (existing, desired) {
        let mut comparable = new.spec.clone();
        comparable.replicas = old.spec.replicas;
        comparable.template = old.spec.template.clone();
        comparable.update_strategy = old.spec.update_strategy.clone();
        comparable.min_ready_seconds = old.spec.min_ready_seconds;
        comparable.ordinals = old.spec.ordinals.clone();
        comparable.revision_history_limit = old.spec.revision_history_limit;
        comparable.persistent_volume_claim_retention_policy = old.spec.persistent_volume_claim_retention_policy.clone();
        if comparable != old.spec {
            errors.push("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".to_string());
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(format!("The {kind} {name:?} is invalid: {}\n", errors[0])),
        _ => Err(format!("The {kind} {name:?} is invalid: [{}]\n", errors.join(", "))),
    }
}

/// `ValidateConfigMapUpdate` / `ValidateSecretUpdate`: an `immutable` object's data cannot
/// change, nor can it become mutable again; a Secret's type never changes.
fn immutable_update(existing: &Object, desired: &Object) -> Result<(), String> {
    const IMMUTABLE: &str = "Forbidden: field is immutable when `immutable` is set";
    let mut errors = Vec::new();
    if let (Object::Stored(old), Object::Stored(new)) = (existing, desired) {
        if old.info.kind == "PriorityClass" {
            let mut errors = Vec::new();
            for field in ["value", "preemptionPolicy"] {
                if old.body.get(field) != new.body.get(field) {
                    errors.push(format!("{field}: Forbidden: may not be changed in an update."));
                }
            }
            return match errors.len() {
                0 => Ok(()),
                1 => Err(format!("The PriorityClass {:?} is invalid: {}\n", desired.name(), errors[0])),
                _ => Err(format!("The PriorityClass {:?} is invalid: [{}]\n", desired.name(), errors.join(", "))),
            };
        }
    }
    let (kind, was_immutable, is_immutable, same_data, same_binary) = match (existing, desired) {
        (Object::ConfigMap(old), Object::ConfigMap(new)) => (
            "ConfigMap",
            old.immutable == Some(true),
            new.immutable == Some(true),
            old.data == new.data,
            old.binary_data == new.binary_data,
        ),
        (Object::Secret(old), Object::Secret(new)) => {
            let (old_type, new_type) = (old.type_.as_deref().unwrap_or("Opaque"), new.type_.as_deref().unwrap_or("Opaque"));
            if old_type != new_type {
                errors.push(format!("type: Invalid value: {new_type:?}: field is immutable"));
            }
            ("Secret", old.immutable == Some(true), new.immutable == Some(true), old.data == new.data, true)
        }
        _ => return Ok(()),
    };
    if was_immutable {
        if !is_immutable {
            errors.push(format!("immutable: {IMMUTABLE}"));
        }
        if !same_data {
            errors.push(format!("data: {IMMUTABLE}"));
        }
        if !same_binary {
            errors.push(format!("binaryData: {IMMUTABLE}"));
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(format!("The {kind} {:?} is invalid: {}\n", desired.name(), errors[0])),
        _ => Err(format!("The {kind} {:?} is invalid: [{}]\n", desired.name(), errors.join(", "))),
    }
}

/// A Service keeps its ClusterIP and node ports across applies that do not set them.
fn keep_allocations(old: &Service, new: &mut Service) {
    let (Some(o), Some(n)) = (old.spec.as_ref(), new.spec.as_mut()) else {
        return;
    };
    if n.cluster_ip.is_none() && n.type_.as_deref() != Some("ExternalName") {
        n.cluster_ip = o.cluster_ip.clone();
        n.cluster_ips = o.cluster_ips.clone();
    }
    if n.health_check_node_port.is_none() && n.type_ == o.type_ && n.external_traffic_policy == o.external_traffic_policy {
        n.health_check_node_port = o.health_check_node_port;
    }
    for port in n.ports.iter_mut().flatten() {
        if port.node_port.is_none() {
            port.node_port = o.ports.iter().flatten().find(|p| p.port == port.port && p.name == port.name).and_then(|p| p.node_port);
        }
    }
}

/// A Pod spec without the ServiceAccount token volume admission added (its name is random,
/// so the re-defaulted manifest always differs there).
fn without_token(mut spec: PodSpec) -> PodSpec {
    let is_token = |name: &str| name.starts_with("kube-api-access-");
    if let Some(volumes) = spec.volumes.as_mut() {
        volumes.retain(|v| !is_token(&v.name));
    }
    for c in &mut spec.containers {
        if let Some(mounts) = c.volume_mounts.as_mut() {
            mounts.retain(|m| !is_token(&m.name));
        }
    }
    spec
}

const POD_UPDATE_FORBIDDEN: &str = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `ValidatePodUpdate`: only container images may change, and tolerations be added (of what we
/// model).
fn pod_update(old: &mut Pod, new: Pod) -> Result<(), String> {
    let name = old.metadata.name.clone().unwrap_or_default();
    let (Some(old_spec), Some(mut new_spec)) = (old.spec.clone(), new.spec) else {
        return Ok(());
    };
    let mut changed = Vec::new();
    if new_spec.containers.len() == old_spec.containers.len() {
        for (i, (n, o)) in new_spec.containers.iter_mut().zip(&old_spec.containers).enumerate() {
            if n.image != o.image {
                changed.push((i, n.image.clone()));
                n.image = o.image.clone();
                n.image_pull_policy = o.image_pull_policy.clone();
            }
        }
    }
    // Tolerations may only be added to.
    let old_tolerations = old_spec.tolerations.clone().unwrap_or_default();
    let new_tolerations = new_spec.tolerations.clone().unwrap_or_default();
    let tolerations_added = old_tolerations.iter().all(|t| new_tolerations.contains(t));
    if tolerations_added {
        new_spec.tolerations = old_spec.tolerations.clone();
    }
    if without_token(new_spec) != without_token(old_spec) {
        return Err(format!("The Pod {name:?} is invalid: {POD_UPDATE_FORBIDDEN}\n"));
    }
    let spec = old.spec.get_or_insert_with(Default::default);
    for (i, image) in changed {
        if let Some(c) = spec.containers.get_mut(i) {
            c.image = image;
        }
    }
    if tolerations_added && new_tolerations != old_tolerations {
        spec.tolerations = Some(new_tolerations);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pull_policy_follows_the_tag() {
        let mut c = Container { image: Some("nginx".into()), ..Default::default() };
        container(&mut c);
        assert_eq!(c.image_pull_policy.as_deref(), Some("Always"));
        let mut c = Container { image: Some("nginx:1.27".into()), ..Default::default() };
        container(&mut c);
        assert_eq!(c.image_pull_policy.as_deref(), Some("IfNotPresent"));
    }
}
