//! The simulation host: virtual clock, seeded randomness, event queue and store, plus the
//! API-server behaviour every writer goes through (uids, timestamps, defaulting, graceful
//! deletion, garbage collection triggers). `Cluster` is the mutable host; readers take `&Cluster`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};

use crate::api::{Object, ObjectKey};
use crate::queue::{Controller, EventQueue, KubeletWork, Work};
use crate::rng::SimRng;
use crate::store::{Change, ChangeKind, Store};
use crate::time::{SimDuration, SimTime};
use crate::{controllers, defaults, kubelet, network};

/// Independent random streams, one per subsystem.
#[derive(Clone, Debug)]
pub struct Rngs {
    pub names: SimRng,
    pub uids: SimRng,
    pub scheduler: SimRng,
    pub kubelet: SimRng,
    pub network: SimRng,
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub(crate) now: SimTime,
    seed: u64,
    pub(crate) store: Store,
    queue: EventQueue,
    pub(crate) rng: Rngs,
    pub(crate) network: network::Allocations,
    /// Images each node has pulled (the containerd image store).
    pub(crate) images: BTreeMap<String, BTreeSet<String>>,
    processed: u64,
    livelocked: bool,
    /// The event recorder's aggregation index (see `events.rs`).
    pub(crate) event_keys: BTreeMap<crate::events::CorrelationKey, ObjectKey>,
}

/// Bound on work items at one instant before we call it a livelock (a bug, reported loudly).
const MAX_EVENTS_PER_INSTANT: u64 = 5_000_000;

impl Cluster {
    /// An empty cluster: namespaces and the `kubernetes` Service, no nodes.
    pub fn empty(seed: u64) -> Cluster {
        let mut cluster = Cluster {
            now: SimTime::ZERO,
            seed,
            store: Store::default(),
            queue: EventQueue::default(),
            rng: Rngs {
                names: SimRng::stream(seed, "names"),
                uids: SimRng::stream(seed, "uids"),
                scheduler: SimRng::stream(seed, "scheduler"),
                kubelet: SimRng::stream(seed, "kubelet"),
                network: SimRng::stream(seed, "network"),
            },
            network: network::Allocations::default(),
            images: BTreeMap::new(),
            processed: 0,
            livelocked: false,
            event_keys: BTreeMap::new(),
        };
        crate::bootstrap::control_plane(&mut cluster);
        cluster
    }

    /// The default playground cluster: control plane plus three workers.
    pub fn new(seed: u64) -> Cluster {
        let mut cluster = Cluster::empty(seed);
        crate::bootstrap::default_nodes(&mut cluster);
        cluster.settle();
        cluster
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.store.get(key)
    }

    /// Number of work items processed so far (for benchmarks and the UI).
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// True if some instant hit the work bound (a controller that never settles).
    pub fn livelocked(&self) -> bool {
        self.livelocked
    }

    pub fn pending_work(&self) -> usize {
        self.queue.len()
    }

    /// Runs every event up to and including `until`, then sets the clock to `until`.
    pub fn run_until(&mut self, until: SimTime) {
        let mut at_instant = 0u64;
        let mut instant = self.now;
        while let Some(t) = self.queue.next_time() {
            if t > until {
                break;
            }
            let Some((t, work)) = self.queue.pop() else { break };
            if t != instant {
                instant = t;
                at_instant = 0;
            }
            at_instant += 1;
            if at_instant > MAX_EVENTS_PER_INSTANT {
                // A controller bug that would spin forever: stop this instant rather than hang
                // or panic the page; `livelocked()` lets tests catch it.
                self.livelocked = true;
                self.queue.push(t.plus(SimDuration(1)), work);
                continue;
            }
            self.now = self.now.max(t);
            self.processed += 1;
            self.handle(work);
            self.dispatch_changes();
        }
        self.now = self.now.max(until);
    }

    pub fn advance(&mut self, d: SimDuration) {
        self.run_until(self.now.plus(d));
    }

    /// Processes everything due now (commands take effect before time moves).
    pub fn settle(&mut self) {
        self.dispatch_changes();
        self.run_until(self.now);
    }

    /// Runs until `done` holds or `limit` has passed; true if it held.
    pub fn run_while(&mut self, limit: SimDuration, mut done: impl FnMut(&Cluster) -> bool) -> bool {
        let deadline = self.now.plus(limit);
        self.settle();
        while !done(self) {
            match self.queue.next_time() {
                Some(t) if t <= deadline => self.run_until(t),
                _ => {
                    self.run_until(deadline);
                    return done(self);
                }
            }
        }
        true
    }

    fn handle(&mut self, work: Work) {
        match work {
            Work::Reconcile(controller, key) => {
                let requeue = controllers::reconcile(self, controller, &key);
                if let Some(after) = requeue {
                    self.queue.push(self.now.plus(after), Work::Reconcile(controller, key));
                }
            }
            Work::Kubelet(k) => kubelet::handle(self, k),
        }
    }

    /// Controller latency. Controllers converge within the instant (ordered by sequence), so
    /// a command's effects on the control plane are visible to the next command, as they are
    /// to a person typing; the kubelet's work is what takes visible time.
    fn latency(&mut self) -> SimDuration {
        SimDuration::ZERO
    }

    pub(crate) fn enqueue(&mut self, controller: Controller, key: ObjectKey) {
        let at = self.now.plus(self.latency());
        self.queue.push(at, Work::Reconcile(controller, key));
    }

    pub(crate) fn kubelet_after(&mut self, pod: &ObjectKey, uid: &str, step: kubelet::Step, after: SimDuration) {
        let work = KubeletWork { pod: pod.clone(), uid: uid.to_string(), step };
        self.queue.push(self.now.plus(after), Work::Kubelet(work));
    }

    /// Turns store changes into controller work (informer event handlers).
    fn dispatch_changes(&mut self) {
        loop {
            let changes = self.store.drain_changes();
            if changes.is_empty() {
                return;
            }
            for change in changes {
                self.route(&change);
            }
        }
    }

    fn route(&mut self, change: &Change) {
        let key = change.key.clone();
        let owner = controller_owner(&change.object);
        match key.kind {
            "Deployment" => self.enqueue(Controller::Deployment, key.clone()),
            "ReplicaSet" => {
                self.enqueue(Controller::ReplicaSet, key.clone());
                if let Some(owner) = owner.filter(|o| o.kind == "Deployment") {
                    self.enqueue(Controller::Deployment, ObjectKey::new("Deployment", &key.namespace, &owner.name));
                }
            }
            "Pod" => {
                if let Some(owner) = owner.filter(|o| o.kind == "ReplicaSet") {
                    let rs_key = ObjectKey::new("ReplicaSet", &key.namespace, &owner.name);
                    // The Deployment controller watches Pod deletions too: a Recreate rollout
                    // waits for the last old Pod to be gone.
                    if change.kind == ChangeKind::Deleted {
                        let deployment = self.store.get(&rs_key).and_then(controller_owner).filter(|o| o.kind == "Deployment");
                        if let Some(d) = deployment.map(|d| ObjectKey::new("Deployment", &key.namespace, &d.name)) {
                            self.enqueue(Controller::Deployment, d);
                        }
                    }
                    self.enqueue(Controller::ReplicaSet, rs_key);
                }
                self.route_pod(change);
            }
            "Node" => self.retry_unscheduled(),
            _ => {}
        }
        if change.kind == ChangeKind::Deleted {
            let uid = change.object.meta().uid.clone().unwrap_or_default();
            let dependents: Vec<ObjectKey> = self.store.dependents(&uid).map(Object::key).collect();
            for dependent in dependents {
                self.enqueue(Controller::GarbageCollector, dependent);
            }
        }
    }

    fn route_pod(&mut self, change: &Change) {
        let Some(pod) = change.object.as_pod() else { return };
        let bound = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some();
        match change.kind {
            ChangeKind::Deleted => self.retry_unscheduled(),
            ChangeKind::Added if bound => {
                // A Pod created with spec.nodeName skips the scheduler; its kubelet admits it.
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                let delay = self.latency();
                self.kubelet_after(&change.key, &uid, kubelet::Step::Admit, delay);
            }
            _ if !bound && pod.metadata.deletion_timestamp.is_none() => {
                self.enqueue(Controller::Scheduler, change.key.clone());
            }
            _ => {}
        }
    }

    /// Cluster events that may make an unschedulable Pod schedulable (node added or changed,
    /// a Pod freed its resources) move every pending Pod back to the active queue.
    fn retry_unscheduled(&mut self) {
        let pending: Vec<ObjectKey> = self
            .store
            .list("Pod", None)
            .filter(|o| {
                o.as_pod().is_some_and(|p| {
                    p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none() && p.metadata.deletion_timestamp.is_none()
                })
            })
            .map(Object::key)
            .collect();
        for key in pending {
            self.enqueue(Controller::Scheduler, key);
        }
    }

    // ---- API server behaviour -------------------------------------------------------------

    pub(crate) fn timestamp(&self) -> Time {
        to_time(self.now)
    }

    /// Creates an object as the API server does: uid, creationTimestamp, generation, defaults.
    pub fn create(&mut self, mut object: Object) -> Object {
        let now = self.timestamp();
        let uid = self.rng.uids.uuid();
        {
            let meta = object.meta_mut();
            if meta.name.as_deref().is_none_or(str::is_empty) {
                if let Some(prefix) = meta.generate_name.clone() {
                    meta.name = Some(format!("{prefix}{}", self.rng.names.name_suffix(5)));
                }
            }
            meta.uid = Some(uid);
            meta.creation_timestamp = Some(now);
            meta.resource_version = None;
            meta.deletion_timestamp = None;
        }
        defaults::apply(self, &mut object);
        if defaults::has_generation(&object) {
            object.meta_mut().generation = Some(1);
        }
        self.store.put(object.clone());
        self.store.get(&object.key()).cloned().unwrap_or(object)
    }

    /// Writes an updated object (controllers and kubectl both come through here). As the API
    /// server does, a change to the spec bumps `metadata.generation`.
    pub fn update(&mut self, mut object: Object) {
        if let Some(old) = self.store.get(&object.key()) {
            if spec_changed(old, &object) {
                let generation = old.meta().generation.unwrap_or(1) + 1;
                object.meta_mut().generation = Some(generation);
            }
        }
        self.store.put(object);
    }

    /// Deletes as `kubectl delete` does: Pods on a node terminate gracefully; everything else
    /// goes at once, and the garbage collector removes what it owned (background propagation).
    pub fn delete(&mut self, key: &ObjectKey) -> bool {
        let Some(object) = self.store.get(key).cloned() else { return false };
        if let Object::Pod(pod) = object {
            kubelet::begin_termination(self, pod, None);
        } else {
            self.store.remove(key);
        }
        true
    }

    pub(crate) fn event(&mut self, e: crate::events::NewEvent<'_>) {
        crate::events::record(self, e);
    }
}

pub(crate) fn to_time(t: SimTime) -> Time {
    let unix_ms = crate::time::EPOCH_UNIX_SECONDS * 1000 + t.ms() as i64;
    Time(k8s_openapi::jiff::Timestamp::from_millisecond(unix_ms - unix_ms % 1000).unwrap_or_default())
}

/// Virtual time of an API timestamp (the inverse of `to_time`, to the second).
pub fn from_time(t: &Time) -> SimTime {
    let unix_ms = t.0.as_millisecond();
    SimTime((unix_ms - crate::time::EPOCH_UNIX_SECONDS * 1000).max(0) as u64)
}

/// Whether a write changes the spec of a kind whose generation tracks it.
fn spec_changed(old: &Object, new: &Object) -> bool {
    match (old, new) {
        (Object::Deployment(a), Object::Deployment(b)) => a.spec != b.spec,
        (Object::ReplicaSet(a), Object::ReplicaSet(b)) => a.spec != b.spec,
        _ => false,
    }
}

pub(crate) fn controller_owner(object: &Object) -> Option<&OwnerReference> {
    object.meta().owner_references.iter().flatten().find(|o| o.controller == Some(true))
}
