//! The kubelet as a component: it hears its Pods through its watch — bound to a node, marked
//! for deletion, given a new image — and works each Pod through queued steps with modelled
//! delays: admit, sandbox and IP, pull each image, start each container in order; on deletion
//! stop the containers and release the Pod. Pods visibly pass through
//! Pending/ContainerCreating before Running. Started containers run their programs, are
//! probed and restarted (`containers.rs`). It also keeps each node's pulled images (the
//! containerd image store) and hands out Pod IPs from each node's podCIDR (host-local IPAM).

mod containers;
mod env;
mod images;
mod ipam;
pub mod probe;
pub mod process;
mod slots;
mod volumes;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition,
    PodIP,
};

pub use images::image_size;

use crate::api::image::qualified_image;
use crate::api::pod_util;
use crate::api::{Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, ChangeKind, NewEvent};
use crate::rng::{fnv1a64, SimRng};
use crate::runtime::{Action, Component, Ctx, Requests, Watches};
use crate::time::{SimDuration, SimTime};

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
    /// Nothing to do until the Pod changes.
    Idle,
}

/// The kubelet's record of one Pod incarnation (its pod worker): where its start-up or
/// shutdown stands, and its running containers with their timers.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PodWorker {
    uid: String,
    step: Step,
    due: SimTime,
    terminating: bool,
    containers: BTreeMap<usize, containers::ContainerRun>,
    timers: BTreeSet<(SimTime, u64, containers::Timer)>,
    next_timer: u64,
}

impl PodWorker {
    fn new(uid: String, step: Step, due: SimTime) -> PodWorker {
        PodWorker { uid, step, due, terminating: false, containers: BTreeMap::new(), timers: BTreeSet::new(), next_timer: 0 }
    }

    /// When this Pod next needs the kubelet.
    fn next_due(&self) -> Option<SimTime> {
        let step = (self.step != Step::Idle).then_some(self.due);
        step.into_iter().chain(self.timers.first().map(|(at, _, _)| *at)).min()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Kubelet {
    workers: BTreeMap<ObjectKey, PodWorker>,
    /// Images each node has pulled.
    images: BTreeMap<String, BTreeSet<String>>,
    ipam: ipam::HostLocal,
}

impl Component for Kubelet {
    fn name(&self) -> &'static str {
        "kubelet"
    }

    fn watches(&self) -> Watches {
        Watches::none().observes("Pod")
    }

    fn observe(&mut self, _api: &ApiServer, rng: &mut SimRng, change: &Change, requests: &mut Requests) {
        let Some(pod) = change.object.as_pod() else {
            return;
        };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if change.kind == ChangeKind::Deleted {
            if self.workers.get(&change.key).is_some_and(|w| w.uid == uid) {
                self.forget(&change.key, pod);
            }
            return;
        }
        if pod_util::node_name(pod).is_none() {
            return;
        }
        match self.workers.get(&change.key) {
            Some(w) if w.uid == uid => {
                let deleting = pod.metadata.deletion_timestamp.is_some() && !w.terminating;
                if deleting || image_changed(pod) {
                    requests.reconcile(change.key.clone());
                }
            }
            _ => {
                // A Pod newly bound to one of our nodes. The watch sees a binding a moment after
                // the scheduler writes it; a Pod created with nodeName skips the scheduler.
                let delay = if change.kind == ChangeKind::Added { SimDuration::ZERO } else { SimDuration(rng.range_inclusive(10, 60)) };
                let due = _api.now().plus(delay);
                self.workers.insert(change.key.clone(), PodWorker::new(uid, Step::Admit, due));
                requests.reconcile_after(change.key.clone(), delay);
            }
        }
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        // A shared handle: a step copies the Pod only when it writes it.
        let Some(object) = ctx.api.get_rc(key) else { return Action::AwaitChange };
        let Some(pod) = object.as_pod() else { return Action::AwaitChange };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let Some(worker) = self.workers.get(key).filter(|w| w.uid == uid).cloned() else {
            return Action::AwaitChange;
        };
        let now = ctx.now();
        if pod.metadata.deletion_timestamp.is_some() && !worker.terminating {
            self.begin_termination(ctx, key, &object, pod);
        } else if !worker.terminating && image_changed(pod) {
            self.restart_changed(ctx, key, pod);
        } else if worker.step != Step::Idle && worker.due <= now {
            self.set(key, Step::Idle, SimDuration::ZERO, now);
            let work = Work { key, uid: &uid };
            match worker.step {
                Step::Stopped => self.stopped(ctx, pod, key),
                Step::Idle => {}
                Step::Admit => self.admit(ctx, pod, &work),
                Step::SandboxReady => self.sandbox_ready(ctx, pod, &work),
                Step::Pull(i) => self.pull(ctx, &object, pod, &work, i),
                Step::Pulled(i, ms) => self.pulled(ctx, &object, pod, &work, i, ms),
                Step::Start(i) => self.start(ctx, &object, pod, &work, i),
            }
        }
        // The running containers' timers that are due: process wake-ups, probes, restarts.
        while let Some(timer) = self.pop_due_timer(key, now) {
            self.fire(ctx, key, timer);
        }
        match self.workers.get(key).and_then(PodWorker::next_due) {
            Some(at) => Action::RequeueAfter(at.since(now)),
            None => Action::AwaitChange,
        }
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(self.clone())
    }
}

/// The Pod and incarnation a step is for.
struct Work<'a> {
    key: &'a ObjectKey,
    uid: &'a str,
}

/// A running or started container whose spec now names another image.
fn image_changed(pod: &Pod) -> bool {
    let (Some(spec), Some(statuses)) = (pod.spec.as_ref(), pod.status.as_ref().and_then(|s| s.container_statuses.as_ref())) else {
        return false;
    };
    spec.containers.iter().zip(statuses).any(|(c, s)| qualified_image(c.image.as_deref().unwrap_or("")) != s.image)
}

fn node_of(pod: &Pod) -> String {
    pod_util::node_name(pod).unwrap_or("").to_string()
}

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

/// An event about the container in slot `k` (its field path names it).
fn container_event(api: &mut ApiServer, pod: &Object, k: usize, reason: &str, message: String, warning: bool) {
    let Some(p) = pod.as_pod() else { return };
    let node = node_of(p);
    let field_path = slots::field_path(p, k);
    api.record(NewEvent { warning, host: Some(&node), field_path: Some(field_path), ..NewEvent::normal("kubelet", pod, reason, message) });
}

/// A shell or `sleep` running as PID 1 has no SIGTERM handler, so it lives out the grace
/// period; servers such as nginx exit promptly.
fn ignores_sigterm(c: &k8s_openapi::api::core::v1::Container) -> bool {
    process::Program::of(c.command.as_deref().unwrap_or_default(), c.args.as_deref().unwrap_or_default()).ignores_sigterm
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

/// The node's allocatable CPU (millicores) and memory: a `resourceFieldRef` to a limit that is
/// not set reads these.
fn node_allocatable(api: &ApiServer, node: &str) -> (i64, i64) {
    let node = api.get(&ObjectKey::new("Node", "", node)).and_then(Object::as_node);
    let alloc = node.and_then(|n| n.status.as_ref()?.allocatable.as_ref());
    let get = |k: &str| alloc.and_then(|a| a.get(k)).map(|q| q.0.clone());
    (
        get("cpu").and_then(|q| crate::api::quantity::cpu_millis(&q)).unwrap_or(0),
        get("memory").and_then(|q| crate::api::quantity::bytes(&q)).unwrap_or(0),
    )
}

fn admitted(pod: &Pod) -> bool {
    pod.status.as_ref().is_some_and(|s| s.host_ip.is_some())
}

impl Kubelet {
    fn run(&self, key: &ObjectKey, i: usize) -> Option<&containers::ContainerRun> {
        self.workers.get(key)?.containers.get(&i)
    }

    fn run_mut(&mut self, key: &ObjectKey, i: usize) -> Option<&mut containers::ContainerRun> {
        Some(self.workers.get_mut(key)?.containers.entry(i).or_default())
    }

    fn timer(&mut self, key: &ObjectKey, at: SimTime, timer: containers::Timer) {
        if let Some(w) = self.workers.get_mut(key) {
            w.next_timer += 1;
            w.timers.insert((at, w.next_timer, timer));
        }
    }

    fn pop_due_timer(&mut self, key: &ObjectKey, now: SimTime) -> Option<containers::Timer> {
        let w = self.workers.get_mut(key)?;
        if w.terminating || w.timers.first().is_none_or(|(at, _, _)| *at > now) {
            return None;
        }
        w.timers.pop_first().map(|(_, _, t)| t)
    }

    /// Sets the Pod's next step, due `after` from `now`.
    fn set(&mut self, key: &ObjectKey, step: Step, after: SimDuration, now: SimTime) {
        if let Some(w) = self.workers.get_mut(key) {
            w.step = step;
            w.due = now.plus(after);
        }
    }

    fn next(&mut self, ctx: &Ctx<'_>, work: &Work<'_>, step: Step, after: SimDuration) {
        let _ = work.uid;
        self.set(work.key, step, after, ctx.now());
    }

    /// Init container `k` has finished (or, a sidecar, started): start the next init container,
    /// or — after the last — mark the Pod initialized and create its app containers.
    fn next_after_init(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, k: usize) {
        let now = ctx.now();
        let Some(mut pod) = ctx.api.get(key).and_then(Object::as_pod).cloned() else { return };
        let n_init = slots::n_init(&pod);
        if k + 1 < n_init {
            self.set(key, Step::Pull(k + 1), SimDuration(1), now);
            return;
        }
        let timestamp = ctx.api.timestamp();
        pod_util::set_condition(&mut pod, pod_util::new_condition("Initialized", true, None, None, timestamp));
        for cs in pod.status.iter_mut().flat_map(|s| s.container_statuses.iter_mut().flatten()) {
            if let Some(w) = cs.state.as_mut().and_then(|s| s.waiting.as_mut()).filter(|w| w.reason.as_deref() == Some("PodInitializing")) {
                w.reason = Some("ContainerCreating".into());
            }
        }
        ctx.api.update(Object::from(pod));
        self.set(key, Step::Pull(n_init), SimDuration(1), now);
    }

    /// `CreateContainerConfigError`: the container waits, and the kubelet tries again in 10 s.
    fn config_error(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize, message: String) {
        container_event(ctx.api, object, i, "Failed", format!("Error: {message}"), true);
        let mut pod = pod.clone();
        if let Some(cs) = slots::status_mut(&mut pod, i) {
            cs.state = Some(ContainerState {
                waiting: Some(ContainerStateWaiting { reason: Some("CreateContainerConfigError".into()), message: Some(message) }),
                ..Default::default()
            });
        }
        ctx.api.update(Object::from(pod));
        self.next(ctx, work, Step::Start(i), SimDuration::from_secs(10));
    }

    /// `FailedMount`: the container stays in ContainerCreating, and the kubelet tries again.
    fn mount_error(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize, message: String) {
        let node = node_of(pod);
        ctx.api.record(NewEvent { warning: true, host: Some(&node), ..NewEvent::normal("kubelet", object, "FailedMount", message) });
        self.next(ctx, work, Step::Start(i), SimDuration::from_secs(10));
    }

    /// The Pod is gone: drop its worker and give its IP back.
    fn forget(&mut self, key: &ObjectKey, pod: &Pod) {
        self.workers.remove(key);
        if let Some(ip) = pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()) {
            self.ipam.release(ip);
        }
    }

    fn admit(&mut self, ctx: &mut Ctx<'_>, pod: &Pod, work: &Work<'_>) {
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
        let spec = pod.spec.clone().unwrap_or_default();
        let inits = spec.init_containers.unwrap_or_default();
        // App containers wait for the init containers before they are created.
        let app_reason = if inits.is_empty() { "ContainerCreating" } else { "PodInitializing" };
        let statuses: Vec<ContainerStatus> = spec.containers.iter().map(|c| waiting(c, app_reason)).collect();
        let init_statuses: Vec<ContainerStatus> = inits.iter().map(|c| waiting(c, "PodInitializing")).collect();
        let status = pod.status.get_or_insert_with(Default::default);
        status.phase = Some("Pending".into());
        status.host_ip = Some(ip.clone());
        status.host_ips = Some(vec![HostIP { ip }]);
        status.start_time = Some(now);
        status.container_statuses = Some(statuses);
        status.init_container_statuses = (!init_statuses.is_empty()).then_some(init_statuses);
        pod_util::set_condition(&mut pod, condition(ctx.api, "PodReadyToStartContainers", false, None, None));
        let initialized = if inits.is_empty() {
            condition(ctx.api, "Initialized", true, None, None)
        } else {
            let names: Vec<&str> = inits.iter().map(|c| c.name.as_str()).collect();
            let message = format!("containers with incomplete status: [{}]", names.join(" "));
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

    fn sandbox_ready(&mut self, ctx: &mut Ctx<'_>, pod: &Pod, work: &Work<'_>) {
        let mut pod = pod.clone();
        let node = node_of(&pod);
        let cidr = ctx
            .api
            .get(&ObjectKey::new("Node", "", &node))
            .and_then(Object::as_node)
            .and_then(|n| n.spec.as_ref()?.pod_cidr.clone())
            .unwrap_or_default();
        let ip = self.ipam.allocate(&node, &cidr);
        let status = pod.status.get_or_insert_with(Default::default);
        status.pod_ip = Some(ip.clone());
        status.pod_ips = Some(vec![PodIP { ip }]);
        pod_util::set_condition(&mut pod, condition(ctx.api, "PodReadyToStartContainers", true, None, None));
        ctx.api.update(Object::from(pod));
        self.next(ctx, work, Step::Pull(0), SimDuration(1));
    }

    fn pull(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize) {
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

    fn pulled(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize, ms: u64) {
        let Some(c) = slots::spec(pod, i) else { return };
        let image = c.image.clone().unwrap_or_default();
        let took = SimDuration(ms).go_string();
        let size = image_size(&image);
        let message = format!("Successfully pulled image {image:?} in {took} ({took} including waiting). Image size: {size} bytes.");
        container_event(ctx.api, object, i, "Pulled", message, false);
        self.images.entry(node_of(pod)).or_default().insert(qualified_image(&image));
        let delay = SimDuration(ctx.rng.range_inclusive(30, 120));
        self.next(ctx, work, Step::Start(i), delay);
    }

    fn start(&mut self, ctx: &mut Ctx<'_>, object: &Object, pod: &Pod, work: &Work<'_>, i: usize) {
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
        let files = match volumes::files(ctx.api, pod, c) {
            Ok(files) => files,
            Err(message) => {
                self.mount_error(ctx, object, pod, work, i, message);
                return;
            }
        };
        if let Some(run) = self.run_mut(work.key, i) {
            run.env = std::rc::Rc::new(env);
            run.files = std::rc::Rc::new(files);
        }
        container_event(ctx.api, object, i, "Created", format!("Created container: {}", c.name), false);
        container_event(ctx.api, object, i, "Started", format!("Started container {}", c.name), false);
        let image = qualified_image(c.image.as_deref().unwrap_or(""));
        let mut pod = pod.clone();
        let now = ctx.api.timestamp();
        let rng = &mut *ctx.rng;
        let container_id =
            format!("containerd://{:016x}{:016x}{:016x}{:016x}", rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64());
        let repo = image.split(':').next().unwrap_or("");
        let digest = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            fnv1a64(image.as_bytes()),
            fnv1a64(repo.as_bytes()),
            fnv1a64(&[1]),
            fnv1a64(image.as_bytes()).rotate_left(7)
        );
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
            cs.image_id = format!("{repo}@sha256:{digest}");
        }
        if slots::is_init(&pod, i) {
            // An init container runs to completion before the next starts; a sidecar only has
            // to have started.
            ctx.api.update(Object::from(pod.clone()));
            if slots::is_sidecar(&pod, i) && c.startup_probe.is_none() {
                self.next_after_init(ctx, work.key, i);
            }
            self.container_started(ctx, work.key, &pod, i);
            return;
        }
        // App containers start one after another: go on with the next one waiting to be created
        // (not one waiting out a crash back-off).
        let next = (i + 1..slots::len(&pod)).find(|&k| {
            let waiting =
                slots::status(&pod, k).and_then(|c| c.state.as_ref()).and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref());
            waiting == Some("ContainerCreating")
        });
        match next {
            Some(j) => {
                ctx.api.update(Object::from(pod.clone()));
                self.next(ctx, work, Step::Pull(j), SimDuration(1));
            }
            None => {
                // Every container has been created: the Pod is Running.
                if let Some(status) = pod.status.as_mut() {
                    status.phase = Some("Running".into());
                }
                containers::refresh_pod_status(&mut pod, &now, true);
                ctx.api.update(Object::from(pod.clone()));
            }
        }
        self.container_started(ctx, work.key, &pod, i);
    }

    /// A changed container image (the one Pod update the API allows) restarts that container:
    /// the kubelet kills it, pulls the new image and starts it again; RESTARTS goes up.
    fn restart_changed(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, pod: &Pod) {
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
    fn begin_termination(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, object: &Object, pod: &Pod) {
        if let Some(w) = self.workers.get_mut(key) {
            w.terminating = true;
        }
        if !admitted(pod) {
            self.stopped(ctx, pod, key);
            return;
        }
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(30).max(0) as u64;
        let mut stop_ms = 0;
        for k in 0..slots::len(pod) {
            let Some(c) = slots::spec(pod, k) else { continue };
            let running = slots::status(pod, k).is_some_and(|x| x.state.as_ref().is_some_and(|s| s.running.is_some()));
            if running {
                container_event(ctx.api, object, k, "Killing", format!("Stopping container {}", c.name), false);
            }
            let ms = if ignores_sigterm(c) { grace * 1000 } else { ctx.rng.range_inclusive(100, 600).min(grace * 1000) };
            stop_ms = stop_ms.max(ms);
        }
        self.set(key, Step::Stopped, SimDuration(stop_ms.max(1)), ctx.now());
    }

    /// Every container has stopped: the kubelet deletes the Pod for good (grace period 0).
    fn stopped(&mut self, ctx: &mut Ctx<'_>, pod: &Pod, key: &ObjectKey) {
        self.forget(key, pod);
        ctx.api.delete_with_grace(key, Some(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kubelet driven by hand: the API server's changes are delivered to `observe`, and the
    /// Pod's reconcile runs whenever it asked to.
    struct Harness {
        api: ApiServer,
        kubelet: Kubelet,
        rng: SimRng,
        due: Option<SimTime>,
    }

    impl Harness {
        fn new() -> Harness {
            let mut api = ApiServer::new(3);
            let node = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n";
            api.create(crate::manifest::parse("n.yaml", node).objects[0].object.clone()).expect("node");
            Harness { api, kubelet: Kubelet::default(), rng: SimRng::stream(3, "kubelet"), due: None }
        }

        fn deliver(&mut self) {
            for change in self.api.drain_changes() {
                let mut requests = Requests::default();
                self.kubelet.observe(&self.api, &mut self.rng, &change, &mut requests);
                for (_, after) in requests.keys {
                    let at = self.api.now().plus(after);
                    self.due = Some(self.due.map_or(at, |d| d.min(at)));
                }
            }
        }

        /// Runs the Pod's pending steps until `until`.
        fn run(&mut self, key: &ObjectKey, until: SimTime) {
            self.deliver();
            while let Some(at) = self.due.filter(|at| *at <= until) {
                self.api.set_now(at);
                self.due = None;
                let action = self.kubelet.reconcile(&mut Ctx { api: &mut self.api, rng: &mut self.rng }, key);
                if let Action::RequeueAfter(after) = action {
                    self.due = Some(at.plus(after));
                }
                self.deliver();
            }
            self.api.set_now(until);
        }

        fn pod(&self, key: &ObjectKey) -> Option<Pod> {
            self.api.get(key).and_then(Object::as_pod).cloned()
        }

        fn reasons(&self) -> Vec<String> {
            let mut events: Vec<(String, String)> = self
                .api
                .store()
                .list("Event", None)
                .filter_map(Object::as_event)
                .map(|e| (e.metadata.name.clone().unwrap_or_default(), e.reason.clone().unwrap_or_default()))
                .collect();
            events.sort();
            events.into_iter().map(|(_, r)| r).collect()
        }
    }

    #[test]
    fn a_bound_pod_is_admitted_pulled_started_and_stopped_in_order() {
        let mut h = Harness::new();
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  nodeName: n1\n  containers: [{name: c, image: nginx:1.27}]\n";
        let key = h.api.create(crate::manifest::parse("p.yaml", yaml).objects[0].object.clone()).expect("pod").key();

        // Created bound: admitted at once (Pending, ContainerCreating, the node's IP).
        h.run(&key, SimTime(0));
        let pod = h.pod(&key).expect("pod");
        assert_eq!(pod_util::phase(&pod), "Pending");
        let status = pod.status.clone().unwrap_or_default();
        assert_eq!(status.host_ip.as_deref(), Some("172.18.0.2"));
        assert!(status.pod_ip.is_none(), "no IP before the sandbox is up");
        let waiting = status.container_statuses.as_ref().and_then(|c| c[0].state.clone()).and_then(|s| s.waiting);
        assert_eq!(waiting.and_then(|w| w.reason).as_deref(), Some("ContainerCreating"));

        // The sandbox (0.4-0.9 s) gives it an IP from the node's podCIDR.
        h.run(&key, SimTime(1000));
        assert_eq!(h.pod(&key).and_then(|p| p.status?.pod_ip).as_deref(), Some("10.244.0.2"));

        // The image pull (~2 s for nginx) and the start: Running and Ready.
        h.run(&key, SimTime(10_000));
        let pod = h.pod(&key).expect("pod");
        assert_eq!(pod_util::phase(&pod), "Running");
        assert!(pod_util::is_ready(&pod));
        assert_eq!(h.reasons(), ["Pulling", "Pulled", "Created", "Started"].map(String::from).to_vec());

        // Deletion: the API server marks it; the kubelet stops the container, then removes it.
        h.api.delete(&key);
        h.run(&key, SimTime(10_000));
        assert!(h.pod(&key).is_some_and(|p| p.metadata.deletion_timestamp.is_some()), "terminating, not gone");
        assert!(h.reasons().contains(&"Killing".to_string()));
        h.run(&key, SimTime(11_000));
        assert!(h.pod(&key).is_none(), "gone once the container stopped (nginx exits on SIGTERM)");
        assert!(h.kubelet.workers.is_empty());
        assert_eq!(h.kubelet.ipam.allocate("n1", "10.244.0.0/24"), "10.244.0.3", "sequential: .2 is free again but next is .3");
    }

    #[test]
    fn an_image_change_restarts_only_that_container() {
        let mut h = Harness::new();
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: two, namespace: default}\nspec:\n  nodeName: n1\n  containers: [{name: a, image: nginx:1.27}, {name: b, image: busybox:1.36, command: [sleep, '3600']}]\n";
        let key = h.api.create(crate::manifest::parse("p.yaml", yaml).objects[0].object.clone()).expect("pod").key();
        h.run(&key, SimTime(20_000));
        let mut pod = h.pod(&key).expect("pod");
        assert!(pod_util::is_ready(&pod));
        pod.spec.as_mut().expect("spec").containers[1].image = Some("busybox:1.37".into());
        h.api.update(Object::from(pod));
        h.run(&key, SimTime(40_000));
        let statuses = h.pod(&key).and_then(|p| p.status?.container_statuses).expect("statuses");
        assert_eq!(statuses.iter().map(|c| c.restart_count).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(statuses[1].image, "docker.io/library/busybox:1.37");
        assert!(statuses.iter().all(|c| c.ready));
    }

    fn create(h: &mut Harness, yaml: &str) -> ObjectKey {
        h.api.create(crate::manifest::parse("p.yaml", yaml).objects[0].object.clone()).expect("pod").key()
    }

    fn restart_times(h: &Harness, key: &ObjectKey) -> (i32, String) {
        let pod = h.pod(key).expect("pod");
        let cs = pod.status.and_then(|s| s.container_statuses).expect("statuses").remove(0);
        let waiting = cs.state.and_then(|s| s.waiting).and_then(|w| w.reason).unwrap_or_default();
        (cs.restart_count, waiting)
    }

    #[test]
    fn crash_back_off_is_at_once_then_10s_doubling_to_300s() {
        let mut h = Harness::new();
        let key = create(&mut h, "apiVersion: v1\nkind: Pod\nmetadata: {name: crash, namespace: default}\nspec:\n  nodeName: n1\n  containers: [{name: c, image: busybox:1.36, command: [sh, -c, 'exit 1']}]\n");
        // Find each restart's time by stepping a second at a time.
        let mut restarts_at = Vec::new();
        let mut last = 0;
        for t in 0..1200 {
            h.run(&key, SimTime(t * 1000));
            let (n, _) = restart_times(&h, &key);
            if n != last {
                restarts_at.push(t);
                last = n;
            }
        }
        let gaps: Vec<u64> = restarts_at.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(gaps.iter().take(6).copied().collect::<Vec<_>>(), vec![10, 20, 40, 80, 160, 300], "restarts at {restarts_at:?}");
        assert!(gaps[6..].iter().all(|g| *g == 300), "capped at five minutes: {gaps:?}");
        assert_eq!(restart_times(&h, &key).1, "CrashLoopBackOff");
        let message = h.pod(&key).and_then(|p| p.status?.container_statuses?.remove(0).state?.waiting?.message).unwrap_or_default();
        assert!(message.starts_with("back-off 5m0s restarting failed container=c pod=crash_default("), "{message}");
    }

    #[test]
    fn readiness_follows_its_probe_and_a_startup_probe_gates_it() {
        let mut h = Harness::new();
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  nodeName: n1\n  containers:\n  - name: c\n    image: nginx:1.27\n    ports: [{containerPort: 80}]\n    startupProbe: {httpGet: {path: /, port: 80}, periodSeconds: 5}\n    readinessProbe: {tcpSocket: {port: 80}, initialDelaySeconds: 3}\n    livenessProbe: {httpGet: {path: /healthz, port: 8080}, initialDelaySeconds: 10, periodSeconds: 2}\n";
        let key = create(&mut h, yaml);
        h.run(&key, SimTime(4000));
        let ready = |h: &Harness| h.pod(&key).is_some_and(|p| pod_util::is_ready(&p));
        let started = |h: &Harness| h.pod(&key).and_then(|p| p.status?.container_statuses?.remove(0).started) == Some(true);
        assert_eq!(pod_util::phase(&h.pod(&key).expect("pod")), "Running");
        assert!(!ready(&h), "not ready before its readiness probe passes");
        // The startup probe passes on its first run (at start); readiness from 3 s after start.
        h.run(&key, SimTime(9000));
        assert!(started(&h) && ready(&h));
        // Liveness, gated until then, probes a port nginx does not listen on: three failures,
        // then the kill; nginx stops cleanly on SIGTERM (exit 0) and is restarted at once.
        h.run(&key, SimTime(30_000));
        let pod = h.pod(&key).expect("pod");
        let cs = pod.status.and_then(|s| s.container_statuses).expect("statuses").remove(0);
        assert!(cs.restart_count >= 1);
        let last = cs.last_state.and_then(|s| s.terminated).expect("last state");
        assert_eq!((last.exit_code, last.reason.as_deref()), (0, Some("Completed")));
        assert!(h.reasons().iter().any(|r| r == "Unhealthy"));
    }
}
