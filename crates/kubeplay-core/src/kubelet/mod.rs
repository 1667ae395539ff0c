//! The kubelet as a component: it hears its Pods through its watch — bound to a node, marked
//! for deletion, given a new image — and works each Pod through queued steps with modelled
//! delays: admit, sandbox and IP, pull each image, start each container in order; on deletion
//! stop the containers and release the Pod. Pods visibly pass through
//! Pending/ContainerCreating before Running. Started containers run their programs, are
//! probed and restarted (`containers.rs`). It also keeps each node's pulled images (the
//! containerd image store) and hands out Pod IPs from each node's podCIDR (host-local IPAM).

mod containers;
mod env;
mod hooks;
mod images;
mod ipam;
pub mod probe;
pub mod process;
mod server;
pub mod sh;
pub mod slots;
mod steps;
mod volumes;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ContainerState, ContainerStateWaiting, Pod};

pub use env::with_hostname;
pub use images::{has_program, idle_usage, image_size};

use crate::api::image::qualified_image;
use crate::api::{node_fault, pod_util};
use crate::api::{Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, ChangeKind, NewEvent, PodView};
use crate::rng::SimRng;
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
    /// The pod worker's next sync after container `i`'s image failed to pull: the image is
    /// in back-off.
    PullBackOff(usize),
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
    /// By slot (init containers first). A Vec, not a map: a Pod has a handful of containers, and
    /// a map's node would cost kilobytes per Pod at 150,000 Pods.
    containers: Vec<containers::ContainerRun>,
    timers: BTreeSet<(SimTime, u64, containers::Timer)>,
    next_timer: u64,
    /// Failed pulls per container: how many, the last one's time and error.
    pull_failures: BTreeMap<usize, (u32, SimTime, String)>,
    /// emptyDir volumes' contents (paths relative to the volume), shared by the containers
    /// that mount them.
    empty_dirs: BTreeMap<String, std::rc::Rc<process::Files>>,
}

impl PodWorker {
    fn new(uid: String, step: Step, due: SimTime) -> PodWorker {
        PodWorker {
            uid,
            step,
            due,
            terminating: false,
            containers: Vec::new(),
            timers: BTreeSet::new(),
            next_timer: 0,
            pull_failures: BTreeMap::new(),
            empty_dirs: BTreeMap::new(),
        }
    }

    /// When this Pod next needs the kubelet.
    fn next_due(&self) -> Option<SimTime> {
        let step = (self.step != Step::Idle).then_some(self.due);
        // A terminating Pod's container timers (probes, sleeps) no longer fire.
        let timer = self.timers.first().map(|(at, _, _)| *at).filter(|_| !self.terminating);
        step.into_iter().chain(timer).min()
    }
}

/// Container `i` of the Pod `key`'s worker (a borrow of the workers alone).
fn run_in<'w>(workers: &'w mut BTreeMap<ObjectKey, PodWorker>, key: &ObjectKey, i: usize) -> Option<&'w mut containers::ContainerRun> {
    let runs = &mut workers.get_mut(key)?.containers;
    if runs.len() <= i {
        runs.resize_with(i + 1, Default::default);
    }
    runs.get_mut(i)
}

#[derive(Clone, Debug, Default)]
pub struct Kubelet {
    workers: BTreeMap<ObjectKey, PodWorker>,
    /// Images each node has pulled.
    images: BTreeMap<String, BTreeSet<String>>,
    ipam: ipam::HostLocal,
    /// Environments and files, each kept once however many containers have them.
    envs: crate::dedup::Dedup<env::Env>,
    files: crate::dedup::Dedup<sh::Files>,
}

impl Component for Kubelet {
    fn name(&self) -> &'static str {
        "kubelet"
    }

    fn watches(&self) -> Watches {
        Watches::none().observes("Pod").observes("Node")
    }

    fn observe(&mut self, _api: &ApiServer, rng: &mut SimRng, change: &Change, requests: &mut Requests) {
        // A node's kubelet coming back picks its Pods up where it left them.
        if let Some(node) = change.object.as_node() {
            let was_down = change.old.as_deref().and_then(Object::as_node).and_then(node_fault::down_since).is_some();
            if was_down && node_fault::down_since(node).is_none() {
                for pod in _api.store().pods_on(&change.key.name) {
                    requests.reconcile(pod.key());
                }
            }
            return;
        }
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
        let Some(node) = pod_util::node_name(pod) else { return };
        // No kubelet runs on a node that does not exist: a Pod bound there stays Pending.
        if _api.get(&ObjectKey::new("Node", "", node)).is_none() {
            return;
        }
        match self.workers.get(&change.key) {
            Some(w) if w.uid == uid => {
                let deleting = pod.metadata.deletion_timestamp.is_some() && !w.terminating;
                if deleting || image_changed(PodView::Whole(pod)) {
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
        // Decided on a view: most wake-ups have no step due, and a Pod the store keeps compact
        // is expanded only for a step.
        let Some(view) = ctx.api.store().pod_view(key) else { return Action::AwaitChange };
        // The kubelet of a failed node does nothing at all until it comes back.
        let node_down = view
            .node_name()
            .and_then(|n| ctx.api.get(&ObjectKey::new("Node", "", n)))
            .and_then(Object::as_node)
            .is_some_and(|n| node_fault::down_since(n).is_some());
        if node_down {
            return Action::AwaitChange;
        }
        let uid = view.uid().unwrap_or_default().to_string();
        let Some(worker) = self.workers.get(key).filter(|w| w.uid == uid) else {
            return Action::AwaitChange;
        };
        let now = ctx.now();
        let deleting = view.deletion_timestamp().is_some() && !worker.terminating;
        let changed = !deleting && !worker.terminating && image_changed(view);
        let (step, due) = (worker.step.clone(), worker.step != Step::Idle && worker.due <= now);
        if deleting || changed || due {
            // A shared handle: a step copies the Pod only when it writes it.
            let Some(object) = ctx.api.get_rc(key) else { return Action::AwaitChange };
            let Some(pod) = object.as_pod() else { return Action::AwaitChange };
            if deleting {
                self.begin_termination(ctx, key, &object, pod);
            } else if changed {
                self.restart_changed(ctx, key, pod);
            } else {
                self.set(key, Step::Idle, SimDuration::ZERO, now);
                let work = Work { key, uid: &uid };
                match step {
                    Step::Stopped => self.stopped(ctx, pod, key),
                    Step::Idle => {}
                    Step::Admit => self.admit(ctx, pod, &work),
                    Step::SandboxReady => self.sandbox_ready(ctx, pod, &work),
                    Step::Pull(i) => self.pull(ctx, &object, pod, &work, i),
                    Step::Pulled(i, ms) => self.pulled(ctx, &object, pod, &work, i, ms),
                    Step::PullBackOff(i) => self.pull_back_off(ctx, &object, pod, &work, i),
                    Step::Start(i) => self.start(ctx, &object, pod, &work, i),
                }
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
fn image_changed(pod: PodView<'_>) -> bool {
    let status_image = |i| pod.container_status_image(i);
    pod.container_images().enumerate().any(|(i, image)| status_image(i).is_some_and(|s| qualified_image(image.unwrap_or("")) != s))
}

fn node_of(pod: &Pod) -> String {
    pod_util::node_name(pod).unwrap_or("").to_string()
}

/// An event about the container in slot `k` (its field path names it).
fn container_event(api: &mut ApiServer, pod: &Object, k: usize, reason: &str, message: String, warning: bool) {
    let Some(p) = pod.as_pod() else { return };
    let node = node_of(p);
    let field_path = slots::field_path(p, k);
    api.record(NewEvent { warning, host: Some(&node), field_path: Some(field_path), ..NewEvent::normal("kubelet", pod, reason, message) });
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

impl Kubelet {
    fn run(&self, key: &ObjectKey, i: usize) -> Option<&containers::ContainerRun> {
        self.workers.get(key)?.containers.get(i)
    }

    fn run_mut(&mut self, key: &ObjectKey, i: usize) -> Option<&mut containers::ContainerRun> {
        run_in(&mut self.workers, key, i)
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
}

#[cfg(test)]
mod tests;
