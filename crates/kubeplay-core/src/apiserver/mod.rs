//! The simulated kube-apiserver: every write in the cluster comes through here. It stores
//! objects (with resourceVersions and watch events), stamps uids, names and timestamps,
//! defaults and validates per kind, allocates addresses, deletes Pods gracefully and records
//! Events. It imports nothing above the object model: components call it, never the reverse.

mod allocator;
mod compact_event;
mod compact_pod;
mod compact_status;
pub mod events;
pub mod logs;
pub mod priority;
pub mod store;
pub mod strategy;

use std::rc::Rc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

pub use allocator::{format_ip, parse_ip, NODE_PORT_MAX, NODE_PORT_MIN};
pub use compact_pod::PodView;
pub use events::NewEvent;
pub use store::{Change, ChangeKind, Store};
pub use strategy::KUBERNETES_VERSION;

/// The cluster's DNS domain (kubelet `--cluster-domain`).
pub const CLUSTER_DOMAIN: &str = "cluster.local";
/// The `kube-dns` Service's ClusterIP (kubelet `--cluster-dns`): every Pod's nameserver.
pub const CLUSTER_DNS_IP: &str = "10.96.0.10";

use crate::api::{Object, ObjectKey};
use crate::rng::SimRng;
use crate::time::{to_time, SimDuration, SimTime};

/// The most Pods the simulated cluster holds: above Kubernetes' own envelope (150,000), and
/// a bound on memory when a manifest asks for `replicas: 2147483647`.
pub const MAX_PODS: usize = 200_000;

/// How a deletion treats the object's dependents (`propagationPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// The finalizer an owner carries while its dependents are deleted first.
pub const FOREGROUND_DELETION: &str = "foregroundDeletion";

/// The namespaces the API server refuses to delete.
pub const PROTECTED_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Whether finalizers still hold an object: `metadata.finalizers`, and a Namespace's
/// `spec.finalizers` (the namespace controller's `kubernetes`).
pub fn has_finalizers(object: &Object) -> bool {
    let meta = object.meta().finalizers.as_ref().is_some_and(|f| !f.is_empty());
    let spec =
        matches!(object, Object::Namespace(ns) if ns.spec.as_ref().and_then(|s| s.finalizers.as_ref()).is_some_and(|f| !f.is_empty()));
    meta || spec
}

/// Deleted (with no grace left) and held by nothing: the object can go.
fn finalized(object: &Object) -> bool {
    let meta = object.meta();
    meta.deletion_timestamp.is_some() && meta.deletion_grace_period_seconds == Some(0) && !has_finalizers(object)
}

#[derive(Clone, Debug)]
pub struct ApiServer {
    now: SimTime,
    store: Store,
    allocations: allocator::Allocations,
    /// `generateName` suffixes and the ServiceAccount token volume's name.
    names: SimRng,
    uids: SimRng,
    /// ClusterIP and NodePort choices.
    network: SimRng,
    recorder: events::Recorder,
    logs: logs::Logs,
    /// [`MAX_PODS`]; lowered only by tests that need a full cluster cheaply.
    pod_limit: usize,
}

impl ApiServer {
    pub fn new(seed: u64) -> ApiServer {
        ApiServer {
            now: SimTime::ZERO,
            store: Store::default(),
            allocations: allocator::Allocations::default(),
            names: SimRng::stream(seed, "names"),
            uids: SimRng::stream(seed, "uids"),
            network: SimRng::stream(seed, "network"),
            recorder: events::Recorder::default(),
            logs: logs::Logs::default(),
            pod_limit: MAX_PODS,
        }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The host moves the API server's clock with its own; Events expire as it passes.
    pub fn set_now(&mut self, now: SimTime) {
        self.now = now;
        for key in self.recorder.expired(now) {
            self.store.remove(&key);
        }
    }

    /// When the next Event's time to live runs out.
    pub fn next_expiry(&self) -> Option<SimTime> {
        self.recorder.next_expiry()
    }

    /// `metav1.Now()` in virtual time.
    pub fn timestamp(&self) -> Time {
        to_time(self.now)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// See [`Store::set_hot_pod_uses`].
    pub fn set_hot_pod_uses(&mut self, uses: usize) {
        self.store.set_hot_pod_uses(uses);
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.store.get(key)
    }

    pub fn get_rc(&self, key: &ObjectKey) -> Option<Rc<Object>> {
        self.store.get_rc(key)
    }

    pub fn drain_changes(&mut self) -> Vec<Change> {
        self.store.drain_changes()
    }

    pub fn has_changes(&self) -> bool {
        self.store.has_changes()
    }

    /// Creates an object as the API server does: name from `generateName`, uid,
    /// creationTimestamp, generation, defaults and allocations.
    pub fn create(&mut self, mut object: Object) -> Result<Rc<Object>, String> {
        if object.info().kind == "Pod" && self.store.count("Pod") >= self.pod_limit {
            return Err(format!("kubeplay: the simulated cluster holds at most {} Pods", self.pod_limit));
        }
        let now = self.timestamp();
        let uid = self.uids.uuid();
        let generate = object.meta().name.as_deref().is_none_or(str::is_empty).then(|| object.meta().generate_name.clone()).flatten();
        // Admission runs before the name is generated, so its errors quote the prefix.
        let shown = generate.clone().unwrap_or_else(|| object.name().to_string());
        if let Some(prefix) = generate {
            // A generated name that is taken is generated again (KEP-4420, GA in 1.32: the
            // API server retries up to seven more times before answering AlreadyExists).
            for _ in 0..8 {
                object.meta_mut().name = Some(format!("{prefix}{}", self.names.name_suffix(5)));
                if self.store.get(&object.key()).is_none() {
                    break;
                }
            }
        }
        if self.store.get(&object.key()).is_some() {
            return Err(format!("{} {:?} already exists", object.info().qualified_plural(), object.name()));
        }
        // The NamespaceLifecycle admission plugin: nothing new in a namespace being deleted.
        if object.info().namespaced {
            let ns = object.meta().namespace.clone().unwrap_or_default();
            let terminating = self.store.get(&ObjectKey::new("Namespace", "", &ns)).is_some_and(|n| n.meta().deletion_timestamp.is_some());
            if terminating {
                return Err(format!(
                    "{} {:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    object.info().qualified_plural(),
                    object.name()
                ));
            }
        }
        // The Priority admission plugin.
        if let Object::Pod(pod) = &mut object {
            priority::admit_pod(self, pod, &shown)?;
        }
        priority::admit_priority_class(self, &object)?;
        {
            let meta = object.meta_mut();
            meta.uid = Some(uid);
            meta.creation_timestamp = Some(now);
            meta.resource_version = None;
            meta.deletion_timestamp = None;
        }
        strategy::default(self, &mut object);
        if strategy::has_generation(&object) {
            object.meta_mut().generation = Some(1);
        }
        Ok(self.store.put(object))
    }

    /// Writes an updated object (a component's write of spec or status). As the API server
    /// does, a change to the spec bumps `metadata.generation`.
    pub fn update(&mut self, mut object: Object) -> Rc<Object> {
        if let Some(old) = self.store.get(&object.key()) {
            if strategy::spec_changed(old, &object) {
                let generation = old.meta().generation.unwrap_or(1) + 1;
                object.meta_mut().generation = Some(generation);
            }
        }
        // An object deleted while finalizers held it goes when the last one is removed.
        if finalized(&object) {
            let key = object.key();
            let gone = Rc::new(object);
            self.store.remove(&key);
            return gone;
        }
        self.store.put(object)
    }

    /// The `pods/binding` subresource (a `Binding` created for a Pod): what the scheduler does
    /// when it binds, done by hand — an unbound Pod gets its node and `PodScheduled`.
    pub fn bind(&mut self, namespace: &str, pod: &str, node: &str) -> Result<(), (String, String)> {
        let key = ObjectKey::new("Pod", namespace, pod);
        let Some(mut p) = self.store.get(&key).and_then(Object::as_pod).cloned() else {
            return Err(("NotFound".into(), format!("pods {pod:?} not found")));
        };
        if let Some(bound) = p.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()) {
            return Err((
                "Conflict".into(),
                format!("Operation cannot be fulfilled on pods/binding {pod:?}: pod {pod} is already assigned to node {bound:?}"),
            ));
        }
        p.spec.get_or_insert_with(Default::default).node_name = Some(node.to_string());
        // Binding clears the nomination (KEP-5278, since v1.34).
        if let Some(status) = p.status.as_mut() {
            status.nominated_node_name = None;
        }
        let condition = crate::api::pod_util::new_condition("PodScheduled", true, None, None, self.timestamp());
        crate::api::pod_util::set_condition(&mut p, condition);
        self.update(Object::from(p));
        Ok(())
    }

    /// The `pods/eviction` subresource: a graceful deletion the Pod's PodDisruptionBudget must
    /// allow (a Ready Pod needs `disruptionsAllowed` > 0, which the eviction then spends).
    /// Errors are (reason, message) as the API server answers.
    pub fn evict(&mut self, key: &ObjectKey) -> Result<(), (String, String)> {
        let Some(pod) = self.store.get(key).and_then(Object::as_pod).cloned() else {
            return Err(("NotFound".into(), format!("pods {:?} not found", key.name)));
        };
        let labels = pod.metadata.labels.clone();
        let budgets: Vec<Object> = self
            .store
            .list("PodDisruptionBudget", Some(&key.namespace))
            .filter(|b| crate::api::disruption::selector(b).is_some_and(|s| s.matches(labels.as_ref())))
            .cloned()
            .collect();
        if budgets.len() > 1 {
            return Err((
                "InternalError".into(),
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.".into(),
            ));
        }
        if let Some(Object::Stored(mut budget)) = budgets.into_iter().next() {
            let status = budget.body.get("status").cloned().unwrap_or_default();
            let allowed = status.get("disruptionsAllowed").and_then(serde_json::Value::as_i64).unwrap_or(0);
            let healthy = status.get("currentHealthy").and_then(serde_json::Value::as_i64).unwrap_or(0);
            let desired = status.get("desiredHealthy").and_then(serde_json::Value::as_i64).unwrap_or(0);
            let ready = crate::api::pod_util::is_ready(&pod);
            // An unhealthy Pod may go while the budget is met (IfHealthyBudget).
            let permitted = if ready { allowed > 0 } else { healthy >= desired };
            if !permitted {
                return Err(("TooManyRequests".into(), "Cannot evict pod as it would violate the pod's disruption budget.".into()));
            }
            if ready {
                let mut status = status;
                status["disruptionsAllowed"] = serde_json::json!(allowed - 1);
                status["disruptedPods"] = serde_json::json!({ key.name.clone(): self.timestamp() });
                budget.body.insert("status".into(), status);
                self.store.put(Object::Stored(budget));
            }
        }
        self.delete(key);
        Ok(())
    }

    /// `DELETE`'s admission: the namespaces Kubernetes itself needs cannot be deleted.
    pub fn admit_delete(&self, key: &ObjectKey) -> Result<(), String> {
        if key.kind == "Namespace" && PROTECTED_NAMESPACES.contains(&key.name.as_str()) {
            return Err(format!("namespaces {:?} is forbidden: this namespace may not be deleted", key.name));
        }
        if key.kind == "PriorityClass" && priority::SYSTEM_CLASSES.iter().any(|(name, ..)| *name == key.name) {
            return Err(format!(
                "priorityclasses.scheduling.k8s.io {:?} is forbidden: this is a system priority class and cannot be deleted",
                key.name
            ));
        }
        Ok(())
    }

    /// A client's whole-object update (`kubectl apply` of a changed manifest): the kind's
    /// update strategy merges, defaults and validates it against the live object.
    pub fn update_from_client(&mut self, desired: Object) -> Result<Rc<Object>, String> {
        let Some(existing) = self.store.get_rc(&desired.key()) else {
            return Err(format!("{} {:?} not found", desired.info().qualified_plural(), desired.name()));
        };
        priority::admit_priority_class(self, &desired)?;
        let merged = strategy::update_from_client(self, &existing, desired)?;
        Ok(self.update(merged))
    }

    /// A server-side dry run (`?dryRun=All`): what a create or a client update would store,
    /// defaulted and validated, with nothing written (a scratch copy takes the change).
    pub fn dry_run(&self, object: Object, update: bool) -> Result<Object, String> {
        let mut scratch = self.clone();
        let live_version = self.store.get(&object.key()).and_then(|o| o.meta().resource_version.clone());
        let stored = if update { scratch.update_from_client(object)? } else { scratch.create(object)? };
        let mut out = Object::clone(&stored);
        // A dry run does not reach storage, so it allots no resourceVersion.
        out.meta_mut().resource_version = live_version;
        Ok(out)
    }

    /// `DELETE` with a `propagationPolicy`. Background: the object goes now and the garbage
    /// collector removes its dependents. Orphan: its dependents lose their owner reference
    /// and stay. Foreground: the object stays, with a `deletionTimestamp` and the
    /// `foregroundDeletion` finalizer, until the garbage collector has removed its dependents.
    pub fn delete_with_propagation(&mut self, key: &ObjectKey, policy: Propagation) -> bool {
        self.delete_with_options(key, policy, None)
    }

    /// `DELETE` with a `propagationPolicy` and `gracePeriodSeconds` (None: the object's own).
    pub fn delete_with_options(&mut self, key: &ObjectKey, policy: Propagation, grace_seconds: Option<i64>) -> bool {
        let Some(object) = self.store.get(key).cloned() else {
            return false;
        };
        let uid = object.meta().uid.clone().unwrap_or_default();
        match policy {
            Propagation::Background => self.delete_with_grace(key, grace_seconds),
            Propagation::Orphan => {
                let dependents: Vec<Object> = self.store.dependents(&uid).cloned().collect();
                for mut d in dependents {
                    if let Some(refs) = d.meta_mut().owner_references.as_mut() {
                        refs.retain(|r| r.uid != uid);
                    }
                    if d.meta().owner_references.as_ref().is_some_and(Vec::is_empty) {
                        d.meta_mut().owner_references = None;
                    }
                    self.update(d);
                }
                self.delete_with_grace(key, grace_seconds)
            }
            Propagation::Foreground => {
                let has_dependents = self.store.dependents(&uid).next().is_some();
                if !has_dependents || object.as_pod().is_some() {
                    return self.delete_with_grace(key, grace_seconds);
                }
                if object.meta().deletion_timestamp.is_some() {
                    return true;
                }
                let mut object = object;
                object.meta_mut().deletion_timestamp = Some(to_time(self.now));
                object.meta_mut().deletion_grace_period_seconds = Some(0);
                object.meta_mut().finalizers.get_or_insert_with(Vec::new).push(FOREGROUND_DELETION.into());
                self.store.put(object);
                true
            }
        }
    }

    /// Removes an owner whose foreground deletion is complete (its finalizer is done).
    pub fn finish_foreground_deletion(&mut self, key: &ObjectKey) {
        self.store.remove(key);
    }

    /// Deletes an object. A Pod bound to a node and not finished is deleted gracefully: it gets
    /// a `deletionTimestamp` and its kubelet removes it once its containers have stopped.
    /// Everything else goes at once; the garbage collector removes what it owned.
    pub fn delete(&mut self, key: &ObjectKey) -> bool {
        self.delete_with_grace(key, None)
    }

    /// `DELETE` with `gracePeriodSeconds` (`None`: the Pod's own
    /// `terminationGracePeriodSeconds`; `Some(0)`: at once).
    pub fn delete_with_grace(&mut self, key: &ObjectKey, grace_seconds: Option<i64>) -> bool {
        let Some(object) = self.store.get(key) else {
            return false;
        };
        let Some(pod) = object.as_pod() else {
            // Finalizers (and a Namespace's own `spec.finalizers`) hold a deleted object:
            // it is Terminating until they are all removed.
            if has_finalizers(object) {
                if object.meta().deletion_timestamp.is_none() {
                    let mut held = object.clone();
                    held.meta_mut().deletion_timestamp = Some(to_time(self.now));
                    held.meta_mut().deletion_grace_period_seconds = Some(0);
                    if let Object::Namespace(ns) = &mut held {
                        ns.status.get_or_insert_with(Default::default).phase = Some("Terminating".into());
                    }
                    self.store.put(held);
                }
                return true;
            }
            self.store.remove(key);
            return true;
        };
        let unbound = crate::api::pod_util::node_name(pod).is_none();
        if unbound || crate::api::pod_util::is_terminal(pod) || grace_seconds == Some(0) {
            if has_finalizers(object) {
                let mut held = pod.clone();
                held.metadata.deletion_timestamp.get_or_insert_with(|| to_time(self.now));
                held.metadata.deletion_grace_period_seconds = Some(0);
                self.store.put(Object::from(held));
                return true;
            }
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            self.store.remove(key);
            self.logs.forget(&uid); // A Pod's logs go with it.
            return true;
        }
        if pod.metadata.deletion_timestamp.is_some() {
            return true; // Already terminating.
        }
        let grace = grace_seconds.or_else(|| pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds)).unwrap_or(30).max(0);
        let mut pod = pod.clone();
        pod.metadata.deletion_timestamp = Some(to_time(self.now.plus(SimDuration::from_secs(grace as u64))));
        pod.metadata.deletion_grace_period_seconds = Some(grace);
        self.store.put(Object::from(pod));
        true
    }

    /// Records an Event (a new one, or an aggregated count on an identical recent one).
    pub fn record(&mut self, e: NewEvent<'_>) {
        let now = self.now;
        let correlation = events::correlation(&e);
        let existing = self.recorder.existing(&e, correlation, now, |k| self.store.get(k).and_then(Object::as_event)).cloned();
        let nanos = now.unix_nanos() + self.store.resource_version();
        let uids = &mut self.uids;
        let event = events::build(&e, now, existing.as_ref(), nanos, || uids.uuid());
        let stored = self.store.put(Object::from(event));
        self.recorder.written(correlation, stored.key(), now);
    }

    #[cfg(test)]
    pub(crate) fn set_pod_limit(&mut self, limit: usize) {
        self.pod_limit = limit;
    }

    /// A line a container printed (the kubelet's CRI log, reached through the API server).
    pub fn append_log(&mut self, pod_uid: &str, container: &str, line: String) {
        self.logs.append(pod_uid, container, self.now, line);
    }

    /// A container starts again: what it printed last time becomes `--previous`.
    pub fn container_restarted(&mut self, pod_uid: &str, container: &str) {
        self.logs.restarted(pod_uid, container);
    }

    /// `GET …/pods/NAME/log?container=C&previous=…`: `None` when there is no such run.
    pub fn logs(&self, pod_uid: &str, container: &str, previous: bool) -> Option<&[logs::Line]> {
        self.logs.get(pod_uid, container, previous)
    }

    /// The Services of the Pod's namespace whose selector picks the Pod (the endpoint
    /// controllers' mapping from a Pod change to the Services to sync).
    pub fn services_selecting<'a>(&'a self, pod: &'a k8s_openapi::api::core::v1::Pod) -> impl Iterator<Item = ObjectKey> + 'a {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        self.store
            .list("Service", Some(namespace))
            .filter(move |o| o.as_service().is_some_and(|svc| crate::api::endpoints::selects(svc, pod)))
            .map(Object::key)
    }

    /// A watch mapper for the endpoint controllers: a Pod change that endpoints would show (its
    /// labels, IP, readiness, phase, node, deletion) maps to the Services that select it,
    /// before or after.
    pub fn services_of_changed_pod(api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
        let Some(pod) = change.object.as_pod() else { return };
        let old = change.old.as_deref().and_then(Object::as_pod);
        if old.is_some_and(|old| !crate::api::endpoints::relevant_change(old, pod)) {
            return;
        }
        out.extend(api.services_selecting(pod));
        if let Some(old) = old {
            out.extend(api.services_selecting(old));
        }
    }

    /// The kubelet notes what happened to a container (for the playground's timeline).
    pub fn mark(&mut self, pod_uid: &str, container: &str, mark: logs::Mark) {
        self.logs.mark(pod_uid, container, self.now, mark);
    }

    /// A container's timeline, oldest first.
    pub fn marks(&self, pod_uid: &str, container: &str) -> impl Iterator<Item = &(SimTime, logs::Mark)> {
        self.logs.marks(pod_uid, container)
    }

    /// The kubelet publishes a running container (files and environment), or its end (`None`).
    pub fn set_running_container(&mut self, pod_uid: &str, container: &str, view: Option<logs::ContainerView>) {
        self.logs.set_running(pod_uid, container, view);
    }

    /// `POST …/pods/NAME/exec?container=C`: the running container, if it is running.
    pub fn running_container(&self, pod_uid: &str, container: &str) -> Option<&logs::ContainerView> {
        self.logs.running(pod_uid, container)
    }

    /// Marks a fixed Service address (the `kubernetes` Service's 10.96.0.1) as taken.
    pub fn reserve_service_ip(&mut self, ip: &str) {
        self.allocations.reserve_service_ip(ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Pod, PodSpec};

    fn pod(name: &str, node: Option<&str>) -> Object {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.namespace = Some("default".into());
        p.spec = Some(PodSpec { node_name: node.map(Into::into), ..Default::default() });
        Object::from(p)
    }

    #[test]
    fn names_are_unique_generated_ones_retried() {
        let mut api = ApiServer::new(1);
        api.create(pod("a", None)).expect("first");
        assert_eq!(api.create(pod("a", None)).expect_err("taken"), "pods \"a\" already exists");
        let mut generated = Pod::default();
        generated.metadata.generate_name = Some("web-".into());
        generated.metadata.namespace = Some("default".into());
        // Replay the name stream to occupy the first name it will generate.
        let first = SimRng::stream(1, "names").name_suffix(5);
        api.create(pod(&format!("web-{first}"), None)).expect("squatter");
        let made = api.create(Object::from(generated)).expect("a fresh name");
        assert_ne!(made.name(), format!("web-{first}"));
        assert_eq!(api.store().count("Pod"), 3);
    }

    #[test]
    fn unbound_pods_go_at_once_bound_ones_gracefully() {
        let mut api = ApiServer::new(1);
        let a = api.create(pod("a", None)).expect("created").key();
        let b = api.create(pod("b", Some("n1"))).expect("created").key();
        assert!(api.delete(&a));
        assert!(api.get(&a).is_none());
        assert!(api.delete(&b));
        let b_meta = api.get(&b).expect("still there").meta().clone();
        assert_eq!(b_meta.deletion_grace_period_seconds, Some(30));
        assert_eq!(b_meta.deletion_timestamp, Some(to_time(SimTime(30_000))));
        assert!(api.delete_with_grace(&b, Some(0)));
        assert!(api.get(&b).is_none());
        assert!(!api.delete(&b), "deleting what is gone says so");
    }

    #[test]
    fn events_aggregate_and_expire_after_an_hour() {
        let mut api = ApiServer::new(1);
        let p = api.create(pod("a", None)).expect("created");
        for _ in 0..3 {
            api.record(NewEvent::warning("default-scheduler", &p, "FailedScheduling", "no".into()));
        }
        let events: Vec<&Object> = api.store().list("Event", None).collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].as_event().and_then(|e| e.count), Some(3));
        api.set_now(SimTime(59 * 60 * 1000));
        api.record(NewEvent::warning("default-scheduler", &p, "FailedScheduling", "no".into()));
        api.set_now(SimTime(61 * 60 * 1000));
        assert_eq!(api.store().count("Event"), 1, "an aggregated write renews the Event's lease");
        api.set_now(SimTime(120 * 60 * 1000));
        assert_eq!(api.store().count("Event"), 0);
        assert_eq!(api.next_expiry(), None);
    }

    #[test]
    fn the_pod_cap_is_an_api_error_not_a_crash() {
        let mut api = ApiServer::new(1);
        assert_eq!(api.pod_limit, 200_000);
        api.set_pod_limit(2);
        api.create(pod("a", None)).expect("first");
        api.create(pod("b", None)).expect("second");
        let err = api.create(pod("c", None)).expect_err("over the cap");
        assert_eq!(err, "kubeplay: the simulated cluster holds at most 2 Pods");
        assert_eq!(api.store().count("Pod"), 2);
    }
}
