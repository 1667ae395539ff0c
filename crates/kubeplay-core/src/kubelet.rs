//! The kubelet, first slice: admit a bound Pod, set up its sandbox and IP, pull each image and
//! start each container in order, and on deletion stop the containers and release the Pod.
//! Each step is a queued event with a modelled delay, so Pods visibly pass through
//! Pending/ContainerCreating before Running.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, HostIP, Pod,
    PodCondition, PodIP,
};

use crate::api::pod_util;
use crate::api::{Object, ObjectKey};
use crate::cluster::Cluster;
use crate::events::NewEvent;
use crate::queue::KubeletWork;
use crate::rng::fnv1a64;
use crate::time::SimDuration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The kubelet sees the Pod bound to its node.
    Admit,
    /// Sandbox and network are up: the Pod has an IP.
    SandboxReady,
    /// Ensure container `i`'s image is present.
    Pull(usize),
    /// Container `i`'s image finished pulling after `ms`.
    Pulled(usize, u64),
    /// Create and start container `i`.
    Start(usize),
    /// All containers have stopped after a deletion; the Pod object goes.
    Stopped,
}

pub(crate) fn handle(cluster: &mut Cluster, work: KubeletWork) {
    let Some(pod) = cluster.get(&work.pod).and_then(Object::as_pod).cloned() else { return };
    if pod.metadata.uid.as_deref() != Some(work.uid.as_str()) {
        return;
    }
    let terminating = pod.metadata.deletion_timestamp.is_some();
    match work.step {
        Step::Stopped => stopped(cluster, pod, &work.pod),
        _ if terminating => {}
        Step::Admit => admit(cluster, pod, &work),
        Step::SandboxReady => sandbox_ready(cluster, pod, &work),
        Step::Pull(i) => pull(cluster, pod, &work, i),
        Step::Pulled(i, ms) => pulled(cluster, pod, &work, i, ms),
        Step::Start(i) => start(cluster, pod, &work, i),
    }
}

fn node_of(pod: &Pod) -> String {
    pod_util::node_name(pod).unwrap_or("").to_string()
}

fn host_ip(cluster: &Cluster, node: &str) -> String {
    cluster
        .get(&ObjectKey::new("Node", "", node))
        .and_then(Object::as_node)
        .and_then(|n| n.status.as_ref()?.addresses.as_ref()?.iter().find(|a| a.type_ == "InternalIP").map(|a| a.address.clone()))
        .unwrap_or_default()
}

fn condition(cluster: &Cluster, type_: &str, status: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: if status { "True" } else { "False" }.into(),
        reason: reason.map(str::to_string),
        message,
        last_transition_time: Some(cluster.timestamp()),
        last_probe_time: None,
        observed_generation: None,
    }
}

/// Sets a condition, keeping its transition time when the status is unchanged.
fn set_condition(pod: &mut Pod, c: PodCondition) {
    let conditions = pod.status.get_or_insert_with(Default::default).conditions.get_or_insert_with(Vec::new);
    match conditions.iter_mut().find(|x| x.type_ == c.type_) {
        Some(existing) if existing.status == c.status => {
            existing.reason = c.reason;
            existing.message = c.message;
        }
        Some(existing) => *existing = c,
        None => conditions.push(c),
    }
}

fn container_names(pod: &Pod) -> Vec<String> {
    pod.spec.as_ref().map(|s| s.containers.iter().map(|c| c.name.clone()).collect()).unwrap_or_default()
}

fn not_ready_message(pod: &Pod) -> String {
    let unready: Vec<String> = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().filter(|c| !c.ready).map(|c| c.name.clone()).collect())
        .unwrap_or_else(|| container_names(pod));
    format!("containers with unready status: [{}]", unready.join(" "))
}

/// containerd reports images fully qualified: `nginx:1.27` → `docker.io/library/nginx:1.27`.
pub fn qualified_image(image: &str) -> String {
    let with_tag = if crate::defaults::image_tag(image).is_some() { image.to_string() } else { format!("{image}:latest") };
    let first = with_tag.split('/').next().unwrap_or("");
    let has_registry = with_tag.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        with_tag
    } else if with_tag.contains('/') {
        format!("docker.io/{with_tag}")
    } else {
        format!("docker.io/library/{with_tag}")
    }
}

fn admit(cluster: &mut Cluster, mut pod: Pod, work: &KubeletWork) {
    let node = node_of(&pod);
    let ip = host_ip(cluster, &node);
    let now = cluster.timestamp();
    let statuses = pod
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| ContainerStatus {
                    name: c.name.clone(),
                    image: qualified_image(c.image.as_deref().unwrap_or("")),
                    image_id: String::new(),
                    ready: false,
                    restart_count: 0,
                    started: Some(false),
                    state: Some(ContainerState {
                        waiting: Some(ContainerStateWaiting { reason: Some("ContainerCreating".into()), message: None }),
                        ..Default::default()
                    }),
                    last_state: Some(Default::default()),
                    ..Default::default()
                })
                .collect()
        })
        .unwrap_or_default();
    let status = pod.status.get_or_insert_with(Default::default);
    status.phase = Some("Pending".into());
    status.host_ip = Some(ip.clone());
    status.host_ips = Some(vec![HostIP { ip }]);
    status.start_time = Some(now);
    status.container_statuses = Some(statuses);
    set_condition(&mut pod, condition(cluster, "PodReadyToStartContainers", false, None, None));
    set_condition(&mut pod, condition(cluster, "Initialized", true, None, None));
    let msg = not_ready_message(&pod);
    set_condition(&mut pod, condition(cluster, "Ready", false, Some("ContainersNotReady"), Some(msg.clone())));
    set_condition(&mut pod, condition(cluster, "ContainersReady", false, Some("ContainersNotReady"), Some(msg)));
    sort_conditions(&mut pod);
    cluster.update(Object::Pod(pod));
    let delay = SimDuration(cluster.rng.kubelet.range_inclusive(400, 900));
    cluster.kubelet_after(&work.pod, &work.uid, Step::SandboxReady, delay);
}

/// The order the kubelet reports conditions in.
fn sort_conditions(pod: &mut Pod) {
    const ORDER: [&str; 5] = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
    if let Some(cs) = pod.status.as_mut().and_then(|s| s.conditions.as_mut()) {
        cs.sort_by_key(|c| ORDER.iter().position(|o| *o == c.type_).unwrap_or(ORDER.len()));
    }
}

fn sandbox_ready(cluster: &mut Cluster, mut pod: Pod, work: &KubeletWork) {
    let node = node_of(&pod);
    let ip = crate::network::allocate_pod_ip(cluster, &node);
    let status = pod.status.get_or_insert_with(Default::default);
    status.pod_ip = Some(ip.clone());
    status.pod_ips = Some(vec![PodIP { ip }]);
    set_condition(&mut pod, condition(cluster, "PodReadyToStartContainers", true, None, None));
    cluster.update(Object::Pod(pod));
    cluster.kubelet_after(&work.pod, &work.uid, Step::Pull(0), SimDuration(1));
}

fn container_event(cluster: &mut Cluster, pod: &Pod, container: &str, warning: bool, reason: &str, message: String) {
    let node = node_of(pod);
    cluster.event(NewEvent {
        involved: &Object::Pod(pod.clone()),
        warning,
        reason,
        message,
        component: "kubelet",
        host: Some(&node),
        field_path: Some(format!("spec.containers{{{container}}}")),
    });
}

fn pull(cluster: &mut Cluster, pod: Pod, work: &KubeletWork, i: usize) {
    let Some(c) = pod.spec.as_ref().and_then(|s| s.containers.get(i)).cloned() else { return };
    let image = c.image.clone().unwrap_or_default();
    let node = node_of(&pod);
    let present = cluster.images.get(&node).is_some_and(|imgs| imgs.contains(&qualified_image(&image)));
    let policy = c.image_pull_policy.as_deref().unwrap_or("IfNotPresent");
    if present && policy != "Always" {
        container_event(cluster, &pod, &c.name, false, "Pulled", format!("Container image {image:?} already present on machine"));
        let delay = SimDuration(cluster.rng.kubelet.range_inclusive(20, 80));
        cluster.kubelet_after(&work.pod, &work.uid, Step::Start(i), delay);
        return;
    }
    container_event(cluster, &pod, &c.name, false, "Pulling", format!("Pulling image {image:?}"));
    let ms = if present { cluster.rng.kubelet.range_inclusive(300, 900) } else { pull_ms(cluster, &image) };
    cluster.kubelet_after(&work.pod, &work.uid, Step::Pulled(i, ms), SimDuration(ms));
}

/// Approximate compressed sizes of images learners use most; others get a stable size
/// derived from the name. (Approximation: real sizes depend on tag and platform.)
pub fn image_size(image: &str) -> u64 {
    let repo = image.rsplit('/').next().unwrap_or(image).split([':', '@']).next().unwrap_or("");
    match repo {
        "nginx" => 72_219_556,
        "busybox" => 2_155_170,
        "alpine" => 3_653_068,
        "httpd" => 58_226_718,
        "redis" => 45_125_393,
        "postgres" => 158_504_204,
        "mysql" => 172_338_150,
        "ubuntu" => 29_754_290,
        "debian" => 48_494_420,
        "python" => 412_538_123,
        "node" => 398_102_735,
        "hello-app" => 10_386_532,
        "pause" => 320_368,
        _ => 5_000_000 + fnv1a64(repo.as_bytes()) % 115_000_000,
    }
}

/// Pull time: ~40 MB/s plus registry round trips, ±25 % jitter.
fn pull_ms(cluster: &mut Cluster, image: &str) -> u64 {
    let base = 400 + image_size(image) / 40_000;
    let jitter = cluster.rng.kubelet.range_inclusive(0, base / 2);
    base - base / 4 + jitter
}

fn pulled(cluster: &mut Cluster, pod: Pod, work: &KubeletWork, i: usize, ms: u64) {
    let Some(c) = pod.spec.as_ref().and_then(|s| s.containers.get(i)).cloned() else { return };
    let image = c.image.clone().unwrap_or_default();
    let took = SimDuration(ms).go_string();
    container_event(
        cluster,
        &pod,
        &c.name,
        false,
        "Pulled",
        format!("Successfully pulled image {image:?} in {took} ({took} including waiting). Image size: {} bytes.", image_size(&image)),
    );
    cluster.images.entry(node_of(&pod)).or_default().insert(qualified_image(&image));
    let delay = SimDuration(cluster.rng.kubelet.range_inclusive(30, 120));
    cluster.kubelet_after(&work.pod, &work.uid, Step::Start(i), delay);
}

fn start(cluster: &mut Cluster, mut pod: Pod, work: &KubeletWork, i: usize) {
    let Some(c) = pod.spec.as_ref().and_then(|s| s.containers.get(i)).cloned() else { return };
    container_event(cluster, &pod, &c.name, false, "Created", format!("Created container: {}", c.name));
    container_event(cluster, &pod, &c.name, false, "Started", format!("Started container {}", c.name));
    let now = cluster.timestamp();
    let image = qualified_image(c.image.as_deref().unwrap_or(""));
    let container_id = format!("containerd://{:016x}{:016x}{:016x}{:016x}", cluster.rng.kubelet.next_u64(), cluster.rng.kubelet.next_u64(), cluster.rng.kubelet.next_u64(), cluster.rng.kubelet.next_u64());
    let repo = image.split(':').next().unwrap_or("");
    let digest = format!("{:016x}{:016x}{:016x}{:016x}", fnv1a64(image.as_bytes()), fnv1a64(repo.as_bytes()), fnv1a64(&[1]), fnv1a64(image.as_bytes()).rotate_left(7));
    if let Some(cs) = pod.status.as_mut().and_then(|s| s.container_statuses.as_mut()).and_then(|v| v.get_mut(i)) {
        // A container that ran before is a restart.
        if cs.container_id.is_some() {
            cs.restart_count += 1;
        }
        cs.state = Some(ContainerState { running: Some(ContainerStateRunning { started_at: Some(now) }), ..Default::default() });
        cs.ready = true;
        cs.started = Some(true);
        cs.container_id = Some(container_id);
        cs.image_id = format!("{repo}@sha256:{digest}");
    }
    // Containers start one after another: go on with the next one not yet running.
    let next = pod.status.as_ref().and_then(|s| s.container_statuses.as_ref()).and_then(|cs| {
        cs.iter().enumerate().skip(i + 1).find(|(_, c)| c.state.as_ref().is_none_or(|s| s.running.is_none())).map(|(j, _)| j)
    });
    if let Some(j) = next {
        cluster.update(Object::Pod(pod));
        cluster.kubelet_after(&work.pod, &work.uid, Step::Pull(j), SimDuration(1));
        return;
    }
    if let Some(status) = pod.status.as_mut() {
        status.phase = Some("Running".into());
    }
    set_condition(&mut pod, condition(cluster, "ContainersReady", true, None, None));
    set_condition(&mut pod, condition(cluster, "Ready", true, None, None));
    for c in pod.status.iter_mut().flat_map(|s| s.conditions.iter_mut().flatten()) {
        if c.status == "True" {
            c.reason = None;
            c.message = None;
        }
    }
    cluster.update(Object::Pod(pod));
}

/// A changed container image (the one Pod update the API allows) restarts that container:
/// the kubelet kills it, pulls the new image and starts it again; RESTARTS goes up.
pub(crate) fn restart_containers(cluster: &mut Cluster, key: &ObjectKey, indices: &[usize]) {
    let Some(mut pod) = cluster.get(key).and_then(Object::as_pod).cloned() else { return };
    let admitted = pod.status.as_ref().is_some_and(|s| s.host_ip.is_some());
    let Some(&first) = indices.iter().min() else { return };
    if !admitted || pod.metadata.deletion_timestamp.is_some() {
        return; // Not started yet: the kubelet will simply use the new image.
    }
    let now = cluster.timestamp();
    let specs = pod.spec.as_ref().map(|s| s.containers.clone()).unwrap_or_default();
    for &i in indices {
        let Some(spec) = specs.get(i) else { continue };
        let Some(cs) = pod.status.as_mut().and_then(|s| s.container_statuses.as_mut()).and_then(|v| v.get_mut(i)) else { continue };
        cs.last_state = Some(exited(cs, &now));
        cs.state = Some(ContainerState {
            waiting: Some(ContainerStateWaiting { reason: Some("ContainerCreating".into()), message: None }),
            ..Default::default()
        });
        cs.ready = false;
        cs.started = Some(false);
        cs.image = qualified_image(spec.image.as_deref().unwrap_or(""));
    }
    let msg = not_ready_message(&pod);
    set_condition(&mut pod, condition(cluster, "Ready", false, Some("ContainersNotReady"), Some(msg.clone())));
    set_condition(&mut pod, condition(cluster, "ContainersReady", false, Some("ContainersNotReady"), Some(msg)));
    cluster.update(Object::Pod(pod.clone()));
    for &i in indices {
        if let Some(spec) = specs.get(i) {
            container_event(cluster, &pod, &spec.name, false, "Killing", format!("Container {} definition changed, will be restarted", spec.name));
        }
    }
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let stop = SimDuration(cluster.rng.kubelet.range_inclusive(100, 600));
    cluster.kubelet_after(key, &uid, Step::Pull(first), stop);
}

/// Graceful deletion: stamp `deletionTimestamp`, tell the containers to stop, and remove the
/// Pod once they have. A Pod no kubelet has admitted goes at once.
pub(crate) fn begin_termination(cluster: &mut Cluster, mut pod: Pod, grace_seconds: Option<i64>) {
    let key = ObjectKey::new("Pod", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""));
    if pod.metadata.deletion_timestamp.is_some() {
        return;
    }
    let admitted = pod.status.as_ref().is_some_and(|s| s.host_ip.is_some());
    if !admitted {
        cluster.store.remove(&key);
        return;
    }
    let grace = grace_seconds
        .or_else(|| pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds))
        .unwrap_or(30)
        .max(0);
    pod.metadata.deletion_timestamp = Some(crate::cluster::to_time(cluster.now.plus(SimDuration::from_secs(grace as u64))));
    pod.metadata.deletion_grace_period_seconds = Some(grace);
    cluster.update(Object::Pod(pod.clone()));
    let mut stop_ms = 0;
    for c in pod.spec.as_ref().map(|s| s.containers.clone()).unwrap_or_default() {
        let running = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.iter().find(|x| x.name == c.name))
            .is_some_and(|x| x.state.as_ref().is_some_and(|s| s.running.is_some()));
        if running {
            container_event(cluster, &pod, &c.name, false, "Killing", format!("Stopping container {}", c.name));
        }
        let ms = if ignores_sigterm(&c) { grace as u64 * 1000 } else { cluster.rng.kubelet.range_inclusive(100, 600).min(grace as u64 * 1000) };
        stop_ms = stop_ms.max(ms);
    }
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    cluster.kubelet_after(&key, &uid, Step::Stopped, SimDuration(stop_ms.max(1)));
}

/// A shell or `sleep` running as PID 1 has no SIGTERM handler, so it lives out the grace
/// period; servers such as nginx exit promptly.
fn ignores_sigterm(c: &k8s_openapi::api::core::v1::Container) -> bool {
    let words: Vec<&String> = c.command.iter().flatten().chain(c.args.iter().flatten()).collect();
    words.iter().any(|w| w.contains("sleep") || w.contains("while true") || w.as_str() == "sh" || w.as_str() == "/bin/sh")
}

/// The state of a running container that exited cleanly after SIGTERM.
fn exited(cs: &ContainerStatus, now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> ContainerState {
    let started_at = cs.state.as_ref().and_then(|s| s.running.as_ref()).and_then(|r| r.started_at.clone());
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: 0,
            reason: Some("Completed".into()),
            started_at,
            finished_at: Some(now.clone()),
            container_id: cs.container_id.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn stopped(cluster: &mut Cluster, mut pod: Pod, key: &ObjectKey) {
    let now = cluster.timestamp();
    for cs in pod.status.iter_mut().flat_map(|s| s.container_statuses.iter_mut().flatten()) {
        cs.state = Some(exited(cs, &now));
        cs.ready = false;
        cs.started = Some(false);
    }
    if let Some(ip) = pod.status.as_ref().and_then(|s| s.pod_ip.clone()) {
        crate::network::release_pod_ip(cluster, &ip);
    }
    cluster.store.remove(key);
}
