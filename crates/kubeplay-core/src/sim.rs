//! The simulation host: the virtual clock, the work queue, the API server and the registry of
//! components, and the loop that turns the API server's watch events into component work.
//! `Cluster` is the mutable host; readers take `&Cluster`.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::api::scheduler_config::SchedulerConfig;
use crate::api::{Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, Store};
use crate::rng::SimRng;
use crate::runtime::{Action, Component, ComponentId, Ctx, Relation, Requests, Target, Watches, WorkQueue};
use crate::time::{SimDuration, SimTime};
use crate::traffic::Traffic;
use crate::{controllers, kubelet, scheduler};

/// The one list of components, in the order they hear each change. Adding a controller is a
/// file of its own plus one line here.
fn registry(scheduler_config: &Rc<SchedulerConfig>) -> Vec<Box<dyn Component>> {
    vec![
        Box::new(controllers::replicaset::ReplicaSetController::default()),
        Box::new(controllers::deployment::DeploymentController),
        Box::new(controllers::job::JobController),
        Box::new(controllers::cronjob::CronJobController),
        Box::new(controllers::daemonset::DaemonSetController),
        Box::new(controllers::statefulset::StatefulSetController),
        Box::new(controllers::ttl_after_finished::TtlAfterFinished),
        Box::new(controllers::namespace::NamespaceController),
        Box::new(controllers::node_lifecycle::NodeLifecycle::default()),
        Box::new(controllers::disruption::DisruptionController),
        Box::new(scheduler::Scheduler::new(Rc::clone(scheduler_config))),
        Box::new(kubelet::Kubelet::default()),
        Box::new(controllers::garbage_collector::GarbageCollector),
        Box::new(controllers::root_ca_publisher::RootCaPublisher),
        Box::new(controllers::endpointslice::EndpointSliceController),
        Box::new(controllers::endpoints::EndpointsController),
        Box::new(controllers::endpointslice_mirroring::EndpointSliceMirroringController),
        Box::new(controllers::service_lb::ServiceLbController::default()),
        Box::new(controllers::ingress_nginx::IngressNginx::default()),
        Box::new(controllers::ingress_gce::IngressGce::default()),
    ]
}

struct Slot {
    component: Box<dyn Component>,
    watches: Watches,
    rng: SimRng,
}

impl Clone for Slot {
    fn clone(&self) -> Slot {
        Slot { component: self.component.clone_box(), watches: self.watches.clone(), rng: self.rng.clone() }
    }
}

#[derive(Clone)]
pub struct Cluster {
    now: SimTime,
    seed: u64,
    api: ApiServer,
    queue: WorkQueue,
    components: Vec<Slot>,
    processed: u64,
    /// Budget units spent: work items and traffic windows (a replay's position, with `now`).
    work: u64,
    livelocked: bool,
    traffic: Traffic,
    /// Clients' watches (`kubectl get -w`): the changes to a kind, kept until read.
    client_watches: Vec<ClientWatch>,
    next_watch: u64,
    /// The kube-scheduler configuration file the cluster started with (its profiles).
    scheduler_config: Rc<SchedulerConfig>,
}

/// One client's watch on a kind.
#[derive(Clone, Debug)]
struct ClientWatch {
    id: u64,
    kind: &'static str,
    events: Vec<(SimTime, Change)>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("now", &self.now).field("seed", &self.seed).field("objects", &self.api.store().len()).finish()
    }
}

/// Bound on work items at one instant before we call it a livelock (a bug, reported loudly).
const MAX_EVENTS_PER_INSTANT: u64 = 5_000_000;

impl Cluster {
    /// An empty cluster: namespaces and the `kubernetes` Service, no nodes.
    pub fn empty(seed: u64) -> Cluster {
        Cluster::configured(seed, Rc::default())
    }

    /// An empty cluster whose kube-scheduler runs `scheduler_config`.
    pub fn configured(seed: u64, scheduler_config: Rc<SchedulerConfig>) -> Cluster {
        let components = registry(&scheduler_config)
            .into_iter()
            .map(|component| {
                let watches = component.watches();
                let rng = SimRng::stream(seed, component.name());
                Slot { component, watches, rng }
            })
            .collect();
        let mut cluster = Cluster {
            now: SimTime::ZERO,
            seed,
            api: ApiServer::new(seed),
            queue: WorkQueue::default(),
            components,
            processed: 0,
            work: 0,
            livelocked: false,
            traffic: Traffic::default(),
            client_watches: Vec::new(),
            next_watch: 0,
            scheduler_config,
        };
        crate::bootstrap::control_plane(&mut cluster.api);
        cluster.settle();
        cluster
    }

    /// The default playground cluster: control plane plus three workers.
    pub fn new(seed: u64) -> Cluster {
        let mut cluster = Cluster::empty(seed);
        crate::bootstrap::default_nodes(&mut cluster.api);
        cluster.settle();
        cluster
    }

    /// The cluster a set of manifest files (name, text) runs on: the nodes they bring, or the
    /// default ones when they bring none, and the scheduler configuration they bring (the
    /// first valid KubeSchedulerConfiguration), or the default profile.
    pub fn for_manifests<'a>(seed: u64, files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Cluster {
        let mut brings_nodes = false;
        let mut config = None;
        for (name, text) in files {
            let parsed = crate::manifest::parse(name, text);
            brings_nodes |= parsed.objects.iter().any(|o| o.object.info().kind == "Node");
            if config.is_none() {
                config = parsed.scheduler_configs.into_iter().next().map(|c| c.config);
            }
        }
        let mut cluster = Cluster::configured(seed, Rc::new(config.unwrap_or_default()));
        if !brings_nodes {
            crate::bootstrap::default_nodes(&mut cluster.api);
            cluster.settle();
        }
        cluster
    }

    pub fn scheduler_config(&self) -> &SchedulerConfig {
        &self.scheduler_config
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn api(&self) -> &ApiServer {
        &self.api
    }

    /// `kubectl exec`: runs `command` to its end in a running container (the API server
    /// proxies to the node's runtime); files it writes stay in the container.
    pub fn exec_in_container(&mut self, pod_uid: &str, container: &str, command: &[String]) -> Option<crate::kubelet::sh::Exec> {
        self.exec_with(pod_uid, container, |files, env, now, net| crate::kubelet::sh::exec(command, files, env, now, net))
    }

    /// A line typed into an interactive shell in the container; `vars` carry over.
    pub fn exec_line_in_container(
        &mut self,
        pod_uid: &str,
        container: &str,
        line: &str,
        vars: &mut BTreeMap<String, String>,
    ) -> Option<crate::kubelet::sh::Exec> {
        self.exec_with(pod_uid, container, |files, _, now, net| crate::kubelet::sh::exec_line(line, files, vars, now, net))
    }

    fn exec_with(
        &mut self,
        pod_uid: &str,
        container: &str,
        run: impl FnOnce(
            std::rc::Rc<crate::kubelet::sh::Files>,
            &BTreeMap<String, String>,
            SimTime,
            &dyn crate::kubelet::sh::Net,
        ) -> crate::kubelet::sh::Exec,
    ) -> Option<crate::kubelet::sh::Exec> {
        let view = self.api.running_container(pod_uid, container)?.clone();
        let pod =
            self.api.store().list("Pod", None).filter_map(Object::as_pod).find(|p| p.metadata.uid.as_deref() == Some(pod_uid))?.clone();
        let env = crate::kubelet::with_hostname(&view.env, pod.metadata.name.as_deref().unwrap_or_default());
        let result = run(view.files.clone(), &env, self.now(), &crate::network::ClientNet::pod(&self.api, &pod));
        if !std::rc::Rc::ptr_eq(&result.files, &view.files) {
            let written = crate::apiserver::logs::ContainerView { files: result.files.clone(), ..view };
            self.api.set_running_container(pod_uid, container, Some(written));
        }
        Some(result)
    }

    /// The traffic sources and what their requests met.
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    pub fn traffic_mut(&mut self) -> &mut Traffic {
        &mut self.traffic
    }

    pub fn store(&self) -> &Store {
        self.api.store()
    }

    /// See [`Store::set_hot_pod_uses`].
    pub fn set_hot_pod_uses(&mut self, uses: usize) {
        self.api.set_hot_pod_uses(uses);
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.api.get(key)
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
        self.run_until_at_most(until, u64::MAX);
    }

    /// Lets `d` pass, processing at most `max_work` items; when the budget runs out first the
    /// clock stops at the last item processed (the playground catches up on its next frame
    /// instead of freezing). True when the clock reached `now + d`.
    pub fn advance_at_most(&mut self, d: SimDuration, max_work: u64) -> bool {
        self.run_until_at_most(self.now.plus(d), max_work)
    }

    fn run_until_at_most(&mut self, until: SimTime, max_work: u64) -> bool {
        // Writes made since the last step (a client's, through the API) are heard first.
        self.dispatch_changes();
        let mut budget = max_work;
        let mut at_instant = 0u64;
        let mut instant = self.now;
        let span = until.since(self.now);
        loop {
            let next = self.queue.next_time().filter(|t| *t <= until);
            // Traffic sources send a window at a time, before the work due at the same instant.
            if let Some(window) = self.traffic.next_window().filter(|w| *w <= until && next.is_none_or(|t| *w <= t)) {
                if budget == 0 {
                    return false;
                }
                budget -= 1;
                self.work += 1;
                self.set_now(window);
                self.traffic.send_window(&self.api, span, until);
                continue;
            }
            if next.is_none() {
                break;
            }
            if budget == 0 {
                return false;
            }
            budget -= 1;
            self.work += 1;
            let Some((t, component, target)) = self.queue.pop() else {
                break;
            };
            if t != instant {
                instant = t;
                at_instant = 0;
            }
            at_instant += 1;
            if at_instant > MAX_EVENTS_PER_INSTANT {
                // A component bug that would spin forever: stop this instant rather than hang
                // or panic the page; `livelocked()` lets tests catch it.
                self.livelocked = true;
                self.queue.push(t.plus(SimDuration(1)), component, target);
                continue;
            }
            self.set_now(t);
            self.processed += 1;
            self.handle(component, target);
            self.dispatch_changes();
        }
        self.set_now(until);
        self.dispatch_changes();
        true
    }

    fn set_now(&mut self, t: SimTime) {
        self.now = self.now.max(t);
        self.api.set_now(self.now);
    }

    /// Where a run stands, for recording it: the clock and the work done (the clock alone
    /// cannot tell apart two moments of one instant, when a frame's budget ran out inside it).
    pub fn position(&self) -> (SimTime, u64) {
        (self.now, self.work)
    }

    /// Brings a replay to a recorded [`Cluster::position`]: exactly `work` done, the clock at
    /// `at`. Time passes in spans no longer than a playground frame could make (traffic
    /// windows depend on the span), so a replay meets the same windows the recording did.
    /// Stops early, without error, if the recording claims more work than there is.
    pub fn replay_to(&mut self, at: SimTime, work: u64) {
        loop {
            let before = (self.now, self.work);
            let until = at.min(self.now.plus(crate::traffic::LONG_SPAN));
            let left = work.saturating_sub(self.work);
            if left == 0 {
                // Nothing is left before `at` (the recording did the same work): the clock.
                self.run_until_at_most(at, 0);
                return;
            }
            self.run_until_at_most(until, left);
            if (self.now, self.work) == before && self.now >= at {
                return;
            }
        }
    }

    pub fn advance(&mut self, d: SimDuration) {
        self.run_until(self.now.plus(d));
    }

    /// Processes everything due now (commands take effect before time moves).
    pub fn settle(&mut self) {
        self.dispatch_changes();
        self.run_until(self.now);
    }

    /// Opens a client's watch on `kind`: from now on its changes are kept for
    /// [`Cluster::take_watch_events`] (with the time each happened) until it is closed.
    pub fn open_watch(&mut self, kind: &'static str) -> u64 {
        self.dispatch_changes();
        self.next_watch += 1;
        self.client_watches.push(ClientWatch { id: self.next_watch, kind, events: Vec::new() });
        self.next_watch
    }

    pub fn take_watch_events(&mut self, id: u64) -> Vec<(SimTime, Change)> {
        self.dispatch_changes();
        self.client_watches.iter_mut().find(|w| w.id == id).map(|w| std::mem::take(&mut w.events)).unwrap_or_default()
    }

    pub fn close_watch(&mut self, id: u64) {
        self.client_watches.retain(|w| w.id != id);
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

    fn handle(&mut self, id: ComponentId, target: Target) {
        let Some(slot) = self.components.get_mut(id) else {
            return;
        };
        let mut ctx = Ctx { api: &mut self.api, rng: &mut slot.rng };
        let action = match &target {
            Target::Object(key) => slot.component.reconcile(&mut ctx, key),
            Target::Tick => slot.component.tick(&mut ctx),
        };
        if let Action::RequeueAfter(after) = action {
            self.queue.push(self.now.plus(after), id, target);
        }
    }

    /// Delivers the API server's watch events to the components that declared them.
    fn dispatch_changes(&mut self) {
        while self.api.has_changes() {
            for change in self.api.drain_changes() {
                self.route(&change);
            }
        }
    }

    fn route(&mut self, change: &Change) {
        let now = self.now;
        for w in self.client_watches.iter_mut().filter(|w| w.kind == change.key.kind) {
            w.events.push((now, change.clone()));
        }
        let mut keys = Vec::new();
        for (id, slot) in self.components.iter_mut().enumerate() {
            for watch in &slot.watches.watches {
                if watch.kind != change.key.kind && watch.kind != "*" {
                    continue;
                }
                match watch.relation {
                    Relation::Reconciles => self.queue.push(now, id, Target::Object(change.key.clone())),
                    Relation::Owns => {
                        if let Some(owner) = slot.watches.owner_key(change) {
                            self.queue.push(now, id, Target::Object(owner));
                        }
                    }
                    Relation::Maps(mapper) => {
                        mapper(&self.api, change, &mut keys);
                        for key in keys.drain(..) {
                            self.queue.push(now, id, Target::Object(key));
                        }
                    }
                    Relation::Observes => {
                        let mut requests = Requests::default();
                        slot.component.observe(&self.api, &mut slot.rng, change, &mut requests);
                        for (key, after) in requests.keys {
                            self.queue.push(now.plus(after), id, Target::Object(key));
                        }
                        if let Some(after) = requests.tick {
                            self.queue.push(now.plus(after), id, Target::Tick);
                        }
                    }
                }
            }
        }
    }

    /// Work items waiting (for tests of the host itself).
    #[cfg(test)]
    fn work_left(&self) -> usize {
        self.queue.len()
    }

    /// Each component's caches compared with a recomputation from the store (tests call this).
    pub fn check_caches(&self) -> Result<(), String> {
        self.components.iter().try_for_each(|slot| slot.component.check_cache(&self.api))
    }

    // ---- Client calls: kubectl and bootstrap write through the API server -----------------

    pub fn create(&mut self, object: Object) -> Result<Rc<Object>, String> {
        self.api.create(object)
    }

    pub fn update(&mut self, object: Object) -> Rc<Object> {
        self.api.update(object)
    }

    pub fn update_from_client(&mut self, object: Object) -> Result<Rc<Object>, String> {
        self.api.update_from_client(object)
    }

    pub fn delete(&mut self, key: &ObjectKey) -> bool {
        self.api.delete(key)
    }

    pub fn delete_with_propagation(&mut self, key: &ObjectKey, policy: crate::apiserver::Propagation) -> bool {
        self.api.delete_with_propagation(key, policy)
    }

    /// `POST pods/eviction`.
    pub fn evict(&mut self, key: &ObjectKey) -> Result<(), (String, String)> {
        self.api.evict(key)
    }

    /// `POST pods/binding`.
    pub fn bind(&mut self, namespace: &str, pod: &str, node: &str) -> Result<(), (String, String)> {
        self.api.bind(namespace, pod, node)
    }

    pub fn delete_with_options(&mut self, key: &ObjectKey, policy: crate::apiserver::Propagation, grace_seconds: Option<i64>) -> bool {
        self.api.delete_with_options(key, policy, grace_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(cluster: &mut Cluster, yaml: &str) {
        for o in crate::manifest::parse("t.yaml", yaml).objects {
            cluster.create(o.object).expect("created");
        }
        cluster.settle();
    }

    const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}\n";

    #[test]
    fn watch_events_reach_the_components_that_declared_them() {
        let mut cluster = Cluster::new(1);
        apply(&mut cluster, WEB);
        // Deployment -> ReplicaSet (owns) -> Pods (owns) -> scheduler (observes) -> kubelet.
        assert_eq!(cluster.store().count("ReplicaSet"), 1);
        assert_eq!(cluster.store().count("Pod"), 3);
        let bound = cluster.store().list("Pod", None).filter_map(Object::as_pod).filter(|p| crate::api::pod_util::node_name(p).is_some());
        assert_eq!(bound.count(), 3, "the scheduler heard the Pods and bound them");
        assert!(cluster.work_left() > 0, "the kubelet heard the bindings and has work queued");
        cluster.advance(SimDuration::from_secs(60));
        assert!(cluster.store().list("Pod", None).filter_map(Object::as_pod).all(crate::api::pod_util::is_ready));
        // Deleting the Deployment: the garbage collector (watches every kind) takes the rest.
        cluster.delete(&ObjectKey::new("Deployment", "default", "web"));
        cluster.advance(SimDuration::from_secs(60));
        assert_eq!(cluster.store().count("ReplicaSet"), 0);
        assert_eq!(cluster.store().count("Pod"), 0);
        assert_eq!(cluster.check_caches(), Ok(()));
    }

    #[test]
    fn every_namespace_gets_the_root_ca_bundle_back_if_it_goes() {
        let mut cluster = Cluster::new(1);
        let bundle = |c: &Cluster, ns: &str| c.get(&ObjectKey::new("ConfigMap", ns, crate::controllers::root_ca_publisher::NAME)).is_some();
        assert!(["default", "kube-system", "kube-public", "kube-node-lease"].iter().all(|ns| bundle(&cluster, ns)));
        apply(&mut cluster, "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n");
        assert!(bundle(&cluster, "team"), "a new namespace gets one");
        cluster.delete(&ObjectKey::new("ConfigMap", "team", crate::controllers::root_ca_publisher::NAME));
        cluster.settle();
        assert!(bundle(&cluster, "team"), "put back when deleted");
    }

    #[test]
    fn a_work_budget_stops_the_clock_where_the_work_stopped() {
        let mut cluster = Cluster::new(1);
        apply(&mut cluster, WEB);
        let start = cluster.now();
        let minute = SimDuration::from_secs(60);
        assert!(!cluster.advance_at_most(minute, 3), "three items do not cover a minute of start-up");
        assert!(cluster.now() < start.plus(minute));
        let mut whole = Cluster::new(1);
        apply(&mut whole, WEB);
        whole.advance(minute);
        while !cluster.advance_at_most(start.plus(minute).since(cluster.now()), 3) {}
        assert_eq!(cluster.now(), whole.now());
        let names = |c: &Cluster| c.store().list("Pod", None).map(|o| o.name().to_string()).collect::<Vec<_>>();
        assert_eq!(names(&cluster), names(&whole), "a budget changes pacing, never the outcome");
        assert_eq!(cluster.api().store().resource_version(), whole.api().store().resource_version());
    }
}
