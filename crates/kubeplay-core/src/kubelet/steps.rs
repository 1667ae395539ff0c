//! The Pod worker's steps, each a queued event with a modelled delay: admit (statuses,
//! conditions), sandbox (the Pod IP), pull each image, create and start each container (its
//! environment and volumes first), restart a container whose image changed, and on deletion
//! stop the containers and remove the Pod.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition,
    PodIP,
};

use super::images::{self, has_program, image_size};
use super::{container_event, containers, env, node_allocatable, node_of, slots, volumes, Kubelet, Step, Work};
use crate::api::image::qualified_image;
use crate::api::pod_util;
use crate::api::{Object, ObjectKey};
use crate::apiserver::ApiServer;
use crate::runtime::Ctx;
use crate::time::SimDuration;

fn host_ip(api: &ApiServer, node: &str) -> String {
    api.get(&ObjectKey::new("Node", "", node))
        .and_then(Object::as_node)
        .and_then(|n| n.status.as_ref()?.addresses.as_ref()?.iter().find(|a| a.type_ == "InternalIP").map(|a| a.address.clone()))
        .unwrap_or_default()
}
fn condition(api: &ApiServer, type_: &str, status: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    pod_util::new_condition(type_, status, reason, message, api.timestamp())
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
/// The order the kubelet reports conditions in.
fn sort_conditions(pod: &mut Pod) {
    const ORDER: [&str; 5] = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
    if let Some(cs) = pod.status.as_mut().and_then(|s| s.conditions.as_mut()) {
        cs.sort_by_key(|c| ORDER.iter().position(|o| *o == c.type_).unwrap_or(ORDER.len()));
    }
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
fn admitted(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| s.host_ip.is_some())
}

impl Kubelet {
    pub(super) fn admit(&mut self, ctx: &mut Ctx<'_>, pod: &Pod, work: &Work<'_>) {
        let mut pod = pod.clone();
        let ip = host_ip(ctx.api, &node_of(&pod));
        let now = ctx.api.timestamp();
        let waiting = |c: &k8s_openapi::api::core::v1::Container, reason: &str| ContainerStatus {
            name: c.name.clone(),
            image: qualified_image(c.image.as_deref().unwrap_or("")),
            image_id: String::new(),
            ready: false,
            restart_count: 0,
            started: Some(false),
            state: Some(ContainerState {
                waiting: Some(ContainerStateWaiting { reason: Some(reason.into()), message: None }),
                ..Default::default()
            }),
            last_state: Some(Default::default()),
            ..Default::default()
        };
        let containers = pod.spec.as_ref().map_or(&[][..], |s| &s.containers[..]);
        let inits = pod.spec.as_ref().and_then(|s| s.init_containers.as_deref()).unwrap_or_default();
        let init_names: Vec<String> = inits.iter().map(|c| c.name.clone()).collect();
        // App containers wait for the init containers before they are created.
        let app_reason = if inits.is_empty() { "ContainerCreating" } else { "PodInitializing" };
        let statuses: Vec<ContainerStatus> = containers.iter().map(|c| waiting(c, app_reason)).collect();
        let init_statuses: Vec<ContainerStatus> = inits.iter().map(|c| waiting(c, "PodInitializing")).collect();
        let status = pod.status.get_or_insert_with(Default::default);
        status.phase = Some("Pending".into());
        status.host_ip = Some(ip.clone());
        status.host_ips = Some(vec![HostIP { ip }]);
        status.start_time = Some(now);
        status.container_statuses = Some(statuses);
        status.init_container_statuses = (!init_statuses.is_empty()).then_some(init_statuses);
        pod_util::set_condition(&mut pod, condition(ctx.api, "PodReadyToStartContainers", false, None, None));
        let initialized = if init_names.is_empty() {
            condition(ctx.api, "Initialized", true, None, None)
        } else {
            let message = format!("containers with incomplete status: [{}]", init_names.join(" "));
            condition(ctx.api, "Initialized", false, Some("ContainersNotInitialized"), Some(message))
        };
        pod_util::set_condition(&mut pod, initialized);
        let msg = not_ready_message(&pod);
        pod_util::set_condition(&mut pod, condition(ctx.api, "Ready", false, Some("ContainersNotReady"), Some(msg.clone())));
        pod_util::set_condition(&mut pod, condition(ctx.api, "ContainersReady", false, Some("ContainersNotReady"), Some(msg)));
        sort_conditions(&mut pod);
        ctx.api.update(Object::from(pod));
        let delay = SimDuration(ctx.rng.range_inclusive(400, 900));
        self.next(ctx, work, Step::SandboxReady, delay);
    }

    pub(super) fn sandbox_ready(&mut self, ctx: &mut Ctx<'_>, pod: &Pod, work: &Work<'_>) {
        let mut pod = pod.clone();
        let node = node_of(&pod);
        let node_object = ctx.api.get(&ObjectKey::new("Node", "", &node)).and_then(Object::as_node);
        let cidr = node_object.and_then(|n| n.spec.as_ref()?.pod_cidr.clone()).unwrap_or_default();
        // On the host's network the Pod has its node's address (and shares its ports).
        let host_ip = node_object
            .and_then(|n| n.status.as_ref()?.addresses.as_ref()?.iter().find(|a| a.type_ == "InternalIP").map(|a| a.address.clone()));
        let ip = match host_ip.filter(|_| pod.spec.as_ref().and_then(|s| s.host_network) == Some(true)) {
            Some(ip) => ip,
            None => self.ipam.allocate(&node, &cidr),
        };
        let status = pod.status.get_or_insert_with(Default::default);
        status.pod_ip = Some(ip.clone());
        status.pod_ips = Some(vec![PodIP { ip }]);
        pod_util::set_condition(&mut pod, condition(ctx.api, "PodReadyToStartContainers", true, None, None));
        ctx.api.update(Object::from(pod));
        self.next(ctx, work, Step::Pull(0), SimDuration(1));
    }

    pub(super) fn pull(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize) {
        let Some(c) = slots::spec(pod, i) else { return };
        let image = c.image.clone().unwrap_or_default();
        if let Err(e) = crate::api::image::parse_reference(&image) {
            // `EnsureImageExists`: the container waits as InvalidImageName; nothing is pulled.
            let message = format!("Failed to apply default image tag {image:?}: couldn't parse image name {image:?}: {e}");
            container_event(ctx.api, object, i, "InspectFailed", message.clone(), true);
            container_event(ctx.api, object, i, "Failed", "Error: InvalidImageName".into(), true);
            let mut pod = pod.clone();
            if let Some(cs) = slots::status_mut(&mut pod, i) {
                cs.state = Some(ContainerState {
                    waiting: Some(ContainerStateWaiting { reason: Some("InvalidImageName".into()), message: Some(message) }),
                    ..Default::default()
                });
            }
            ctx.api.update(Object::from(pod));
            return;
        }
        let node = node_of(pod);
        let present = self.images.get(&node).is_some_and(|imgs| imgs.contains(&qualified_image(&image)));
        let policy = c.image_pull_policy.as_deref().unwrap_or("IfNotPresent");
        if policy == "Never" && !present {
            let message = format!("Container image {image:?} is not present with pull policy of Never");
            container_event(ctx.api, object, i, "ErrImageNeverPull", message.clone(), true);
            container_event(ctx.api, object, i, "Failed", "Error: ErrImageNeverPull".into(), true);
            self.set_waiting(ctx, pod, i, "ErrImageNeverPull", message);
            return;
        }
        if present && policy != "Always" {
            container_event(ctx.api, object, i, "Pulled", format!("Container image {image:?} already present on machine"), false);
            let delay = SimDuration(ctx.rng.range_inclusive(20, 80));
            self.next(ctx, work, Step::Start(i), delay);
            return;
        }
        container_event(ctx.api, object, i, "Pulling", format!("Pulling image {image:?}"), false);
        let ms = if present { ctx.rng.range_inclusive(300, 900) } else { images::pull_ms(ctx.rng, &image) };
        self.next(ctx, work, Step::Pulled(i, ms), SimDuration(ms));
    }

    pub(super) fn pulled(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize, ms: u64) {
        let Some(c) = slots::spec(pod, i) else { return };
        let image = c.image.clone().unwrap_or_default();
        if let Some(error) = images::pull_error(&image) {
            self.pull_failed(ctx, object, pod, work, i, error);
            return;
        }
        if let Some(w) = self.workers.get_mut(work.key) {
            w.pull_failures.remove(&i);
        }
        let took = SimDuration(ms).go_string();
        let size = image_size(&image);
        let message = format!("Successfully pulled image {image:?} in {took} ({took} including waiting). Image size: {size} bytes.");
        container_event(ctx.api, object, i, "Pulled", message, false);
        let node = node_of(pod);
        if self.images.entry(node.clone()).or_default().insert(qualified_image(&image)) {
            self.publish_images(ctx, &node);
        }
        let delay = SimDuration(ctx.rng.range_inclusive(30, 120));
        self.next(ctx, work, Step::Start(i), delay);
    }

    /// The node's `status.images` as the kubelet reports them: each pulled image by digest and
    /// by tag, largest first, at most 50 (`nodeStatusMaxImages`). (The kubelet sends them with
    /// its next status update; kubeplay writes them when the pull completes.)
    fn publish_images(&self, ctx: &mut Ctx<'_>, node: &str) {
        let Some(mut object) = ctx.api.get(&ObjectKey::new("Node", "", node)).and_then(Object::as_node).cloned() else { return };
        let mut list: Vec<k8s_openapi::api::core::v1::ContainerImage> = self
            .images
            .get(node)
            .into_iter()
            .flatten()
            .map(|q| k8s_openapi::api::core::v1::ContainerImage {
                names: Some(vec![images::image_id(q), q.clone()]),
                size_bytes: Some(i64::try_from(image_size(q)).unwrap_or(i64::MAX)),
            })
            .collect();
        list.sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then_with(|| a.names.cmp(&b.names)));
        list.truncate(50);
        object.status.get_or_insert_with(Default::default).images = Some(list);
        ctx.api.update(Object::from(object));
    }

    /// The pull failed: the container waits as ErrImagePull until the pod worker's next sync
    /// (10–15 s later, `backOffPeriod` with jitter), which finds the image in back-off.
    fn pull_failed(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize, error: String) {
        let image = slots::spec(pod, i).and_then(|c| c.image.clone()).unwrap_or_default();
        container_event(ctx.api, object, i, "Failed", format!("Failed to pull image {image:?}: {error}"), true);
        container_event(ctx.api, object, i, "Failed", "Error: ErrImagePull".into(), true);
        self.set_waiting(ctx, pod, i, "ErrImagePull", error.clone());
        let now = ctx.now();
        if let Some(w) = self.workers.get_mut(work.key) {
            let failures = w.pull_failures.get(&i).map_or(0, |f| f.0) + 1;
            w.pull_failures.insert(i, (failures, now, error));
        }
        let resync = SimDuration(ctx.rng.range_inclusive(10_000, 15_000));
        self.next(ctx, work, Step::PullBackOff(i), resync);
    }

    /// The image is in back-off: the container waits as ImagePullBackOff; the next pull is
    /// due when the back-off (20 s after the first failure, doubling, at most 300 s) is over.
    pub(super) fn pull_back_off(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize) {
        let image = slots::spec(pod, i).and_then(|c| c.image.clone()).unwrap_or_default();
        let Some((failures, at, error)) = self.workers.get(work.key).and_then(|w| w.pull_failures.get(&i)).cloned() else { return };
        container_event(ctx.api, object, i, "BackOff", format!("Back-off pulling image {image:?}"), false);
        container_event(ctx.api, object, i, "Failed", "Error: ImagePullBackOff".into(), true);
        self.set_waiting(ctx, pod, i, "ImagePullBackOff", format!("Back-off pulling image {image:?}: ErrImagePull: {error}"));
        let backoff = SimDuration((10_000u64 << failures.min(5)).min(300_000));
        let now = ctx.now();
        let due = at.plus(backoff).max(now.plus(SimDuration::from_secs(1)));
        self.next(ctx, work, Step::Pull(i), due.since(now));
    }

    /// Container `i` waits with this reason and message.
    fn set_waiting(&mut self, ctx: &mut Ctx<'_>, pod: &Pod, i: usize, reason: &str, message: String) {
        let mut pod = pod.clone();
        if let Some(cs) = slots::status_mut(&mut pod, i) {
            cs.state = Some(ContainerState {
                waiting: Some(ContainerStateWaiting { reason: Some(reason.into()), message: Some(message) }),
                ..Default::default()
            });
        }
        ctx.api.update(Object::from(pod));
    }

    pub(super) fn start(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize) {
        let Some(c) = slots::spec(pod, i) else { return };
        // The container's environment is built before it is created; a reference to a missing
        // ConfigMap, Secret or key keeps it waiting, retried on the next sync.
        let allocatable = node_allocatable(ctx.api, &node_of(pod));
        let env = match env::resolve(ctx.api, pod, c, allocatable) {
            Ok(env) => env,
            Err(message) => {
                self.config_error(ctx, object, pod, work, i, message);
                return;
            }
        };
        // Its volumes: a ConfigMap or Secret that is missing fails the mount (FailedMount).
        let empty_dirs = self.workers.get(work.key).map(|w| w.empty_dirs.clone()).unwrap_or_default();
        let files = match volumes::files(ctx.api, pod, c, &empty_dirs) {
            Ok(files) => files,
            Err(message) => {
                self.mount_error(ctx, object, pod, work, i, message);
                return;
            }
        };
        let (env, files) = (self.envs.share(env), self.files.share(files));
        if let Some(run) = self.run_mut(work.key, i) {
            run.env = env;
            run.files = files;
        }
        container_event(ctx.api, object, i, "Created", format!("Created container: {}", c.name), false);
        // A command the image does not have: the runtime cannot start the container.
        let missing = c.command.as_ref().and_then(|cmd| cmd.first()).filter(|p| !has_program(c.image.as_deref().unwrap_or(""), p));
        let start_error = missing.map(|p| {
            format!("failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: {p:?}: executable file not found in $PATH: unknown")
        });
        match &start_error {
            Some(message) => container_event(ctx.api, object, i, "Failed", format!("Error: {message}"), true),
            None => container_event(ctx.api, object, i, "Started", format!("Started container {}", c.name), false),
        }
        let image = qualified_image(c.image.as_deref().unwrap_or(""));
        let mut pod = pod.clone();
        let now = ctx.api.timestamp();
        let rng = &mut *ctx.rng;
        let container_id =
            format!("containerd://{:016x}{:016x}{:016x}{:016x}", rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64());
        let image_id = images::image_id(&image);
        if let Some(cs) = slots::status_mut(&mut pod, i) {
            // A container that ran before is a restart; its last run becomes `lastState`.
            if cs.container_id.is_some() {
                cs.restart_count += 1;
                if cs.state.as_ref().is_some_and(|s| s.terminated.is_some()) {
                    cs.last_state = cs.state.take();
                }
            }
            cs.state =
                Some(ContainerState { running: Some(ContainerStateRunning { started_at: Some(now.clone()) }), ..Default::default() });
            // Ready at once only without a readiness or startup probe; started once the startup
            // probe (if any) has passed.
            cs.ready = c.readiness_probe.is_none() && c.startup_probe.is_none();
            cs.started = Some(c.startup_probe.is_none());
            cs.container_id = Some(container_id);
            cs.image_id = image_id;
        }
        if slots::is_init(&pod, i) {
            // An init container runs to completion before the next starts; a sidecar only has
            // to have started.
            let stored = ctx.api.update(Object::from(pod));
            let Some(pod) = stored.as_pod() else { return };
            if let Some(message) = start_error {
                self.container_ended(ctx, work.key, i, 128, "StartError", Some(message));
                return;
            }
            if slots::is_sidecar(pod, i) && c.startup_probe.is_none() {
                self.next_after_init(ctx, work.key, i);
            }
            self.container_started(ctx, work.key, pod, i);
            return;
        }
        // App containers start one after another: go on with the next one waiting to be created
        // (not one waiting out a crash back-off).
        let next = (i + 1..slots::len(&pod)).find(|&k| {
            let waiting =
                slots::status(&pod, k).and_then(|c| c.state.as_ref()).and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref());
            waiting == Some("ContainerCreating")
        });
        if next.is_none() {
            // Every container has been created: the Pod is Running.
            if let Some(status) = pod.status.as_mut() {
                status.phase = Some("Running".into());
            }
            containers::refresh_pod_status(&mut pod, &now, true);
        }
        let stored = ctx.api.update(Object::from(pod));
        if let Some(j) = next {
            self.next(ctx, work, Step::Pull(j), SimDuration(1));
        }
        match start_error {
            Some(message) => self.container_ended(ctx, work.key, i, 128, "StartError", Some(message)),
            None => {
                if let Some(pod) = stored.as_pod() {
                    self.container_started(ctx, work.key, pod, i);
                }
            }
        }
    }

    /// A changed container image (the one Pod update the API allows) restarts that container:
    /// the kubelet kills it, pulls the new image and starts it again; RESTARTS goes up.
    pub(super) fn restart_changed(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, pod: &Pod) {
        let mut pod = pod.clone();
        let n_init = slots::n_init(&pod);
        let specs = pod.spec.as_ref().map(|s| s.containers.clone()).unwrap_or_default();
        let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default();
        let changed: Vec<usize> = specs
            .iter()
            .zip(&statuses)
            .enumerate()
            .filter(|(_, (c, s))| qualified_image(c.image.as_deref().unwrap_or("")) != s.image)
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = changed.first() else {
            return;
        };
        for &i in &changed {
            if let Some(run) = self.run_mut(key, n_init + i) {
                run.stop(); // The old process, its sleeps and its probes end here.
            }
        }
        let now = ctx.api.timestamp();
        for &i in &changed {
            let Some(cs) = slots::status_mut(&mut pod, n_init + i) else {
                continue;
            };
            cs.last_state = Some(exited(cs, &now));
            cs.state = Some(ContainerState {
                waiting: Some(ContainerStateWaiting { reason: Some("ContainerCreating".into()), message: None }),
                ..Default::default()
            });
            cs.ready = false;
            cs.started = Some(false);
            cs.image = qualified_image(specs[i].image.as_deref().unwrap_or(""));
        }
        let msg = not_ready_message(&pod);
        pod_util::set_condition(&mut pod, condition(ctx.api, "Ready", false, Some("ContainersNotReady"), Some(msg.clone())));
        pod_util::set_condition(&mut pod, condition(ctx.api, "ContainersReady", false, Some("ContainersNotReady"), Some(msg)));
        // The events name the Pod as it was sent (its resourceVersion before this write).
        let sent = Object::from(pod);
        ctx.api.update(sent.clone());
        for &i in &changed {
            let name = &specs[i].name;
            container_event(
                ctx.api,
                &sent,
                n_init + i,
                "Killing",
                format!("Container {name} definition changed, will be restarted"),
                false,
            );
        }
        let stop = SimDuration(ctx.rng.range_inclusive(100, 600));
        self.set(key, Step::Pull(n_init + first), stop, ctx.now());
    }

    /// The Pod has a `deletionTimestamp`: tell its containers to stop, and remove it once they
    /// have. A Pod whose containers never started goes at once.
    pub(super) fn begin_termination(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, object: &Object, pod: &Pod) {
        if let Some(w) = self.workers.get_mut(key) {
            w.terminating = true;
        }
        if !admitted(pod) {
            self.stopped(ctx, pod, key);
            return;
        }
        let grace = SimDuration::from_secs(pod.metadata.deletion_grace_period_seconds.unwrap_or(30).max(0) as u64);
        let mut stop = SimDuration::ZERO;
        for k in 0..slots::len(pod) {
            let Some(c) = slots::spec(pod, k) else { continue };
            let running = slots::status(pod, k).is_some_and(|x| x.state.as_ref().is_some_and(|s| s.running.is_some()));
            if running {
                container_event(ctx.api, object, k, "Killing", format!("Stopping container {}", c.name), false);
            }
            let (after, _) = self.sigterm(ctx, key, object, k, grace);
            stop = stop.max(after);
        }
        self.set(key, Step::Stopped, stop.max(SimDuration(1)), ctx.now());
    }

    /// Every container has stopped: the kubelet deletes the Pod for good (grace period 0).
    pub(super) fn stopped(&mut self, ctx: &mut Ctx<'_>, pod: &Pod, key: &ObjectKey) {
        self.forget(key, pod);
        ctx.api.delete_with_grace(key, Some(0));
    }
}
