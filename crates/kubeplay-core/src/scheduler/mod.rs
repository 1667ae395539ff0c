//! kube-scheduler's default profile, as far as kubeplay models it (see `plugins`). Pods wait in
//! the scheduling queue; each cycle filters nodes from the cache, starting where the last
//! cycle stopped and stopping once `percentageOfNodesToScore` of them are feasible, scores
//! them, breaks ties at random from the scheduler's own stream (as `selectHost` does) and
//! binds. A Pod no node accepts is reported (`FailedScheduling`) and parked until an event
//! that could help it.

pub mod cache;
pub mod explain;
pub mod inter_pod_affinity;
pub mod plugins;
pub mod preemption;
mod queue;
pub mod scoring;
pub mod topology_spread;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, Pod};

pub use cache::{Cache, NodeInfo};
use plugins::{filter, fit_reasons, run_filter, with_post_filter, Plugin};
pub use plugins::{fit_error, requests, tolerates, PodInfo, Rejection, Resources};
use preemption::Outcome;
use queue::SchedulingQueue;

use crate::api::pod_util;
use crate::api::{Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, ChangeKind, NewEvent};
use crate::rng::SimRng;
use crate::runtime::{Action, Component, Ctx, Requests, Watches};
use crate::time::SimDuration;

use crate::api::scheduler_config::SchedulerConfig;
pub use crate::api::scheduler_config::DEFAULT_SCHEDULER_NAME as SCHEDULER_NAME;
/// Below this many nodes every node is evaluated (`minFeasibleNodesToFind`).
const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// `minFeasibleNodesPercentageToFind`.
const MIN_FEASIBLE_NODES_PERCENTAGE: usize = 5;
/// Pods scheduled per tick before the host delivers the watch events they caused. The real
/// scheduler runs one cycle at a time; batching keeps that cheap while bounding how much one
/// step of the simulation does (and holds in memory) at once.
const CYCLES_PER_TICK: usize = 256;

#[derive(Clone, Debug, Default)]
pub struct Scheduler {
    /// The configuration file's profiles (the default profile unless the manifests brought one).
    config: std::rc::Rc<SchedulerConfig>,
    cache: Cache,
    queue: SchedulingQueue,
    /// Where the next cycle starts looking (`nextStartNodeIndex`).
    next_start: usize,
    /// Pods that preempted others, waiting for room on the node they were nominated to. Pods
    /// of no higher priority treat that room as taken (`RunFilterPluginsWithNominatedPods`).
    nominated: BTreeMap<ObjectKey, (String, Pod)>,
}

impl Component for Scheduler {
    fn name(&self) -> &'static str {
        "scheduler"
    }

    fn watches(&self) -> Watches {
        Watches::none().observes("Pod").observes("Node")
    }

    fn observe(&mut self, api: &ApiServer, _rng: &mut SimRng, change: &Change, requests: &mut Requests) {
        match &*change.object {
            Object::Pod(pod) => self.observe_pod(api, change, pod, requests),
            Object::Node(node) => self.observe_node(api, change, node, requests),
            _ => {}
        }
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>) -> Action {
        let now = ctx.now();
        self.queue.flush(now);
        self.cache.refresh_index();
        for _ in 0..CYCLES_PER_TICK {
            let Some(key) = self.queue.pop(now) else { break };
            self.schedule_one(ctx, &key);
        }
        if self.queue.has_active() {
            return Action::RequeueAfter(SimDuration::ZERO);
        }
        match self.queue.next_flush() {
            Some(at) => Action::RequeueAfter(at.since(now).max(SimDuration(1))),
            None => Action::AwaitChange,
        }
    }

    fn check_cache(&self, api: &ApiServer) -> Result<(), String> {
        let fresh = Cache::from_store(api);
        if fresh == self.cache {
            Ok(())
        } else {
            Err(format!("scheduler cache differs from the store:\n kept:  {:?}\n fresh: {fresh:?}", self.cache))
        }
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(self.clone())
    }
}

/// Pods one of this scheduler's profiles is responsible for and that still need a node (a
/// Pod naming a scheduler nobody runs waits, Pending, with no event: no scheduler saw it).
fn wants_scheduling(config: &SchedulerConfig, pod: &Pod) -> bool {
    let spec = pod.spec.as_ref();
    spec.is_some_and(|s| s.node_name.is_none())
        && pod.metadata.deletion_timestamp.is_none()
        && config.profile(spec.and_then(|s| s.scheduler_name.as_deref())).is_some()
}

/// Whether an update changed more than status and bookkeeping (`isPodUpdated`).
fn spec_or_labels_changed(old: &Pod, new: &Pod) -> bool {
    old.spec != new.spec || old.metadata.labels != new.metadata.labels || old.metadata.annotations != new.metadata.annotations
}

impl Scheduler {
    fn observe_pod(&mut self, api: &ApiServer, change: &Change, pod: &Pod, requests: &mut Requests) {
        let now = api.now();
        let deleted = change.kind == ChangeKind::Deleted;
        self.cache.update_pod(&change.key, (!deleted).then_some(pod));
        if deleted || pod_util::node_name(pod).is_some() {
            self.nominated.remove(&change.key);
        }
        let old = change.old.as_deref().and_then(Object::as_pod);
        if !deleted && wants_scheduling(&self.config, pod) {
            match old {
                None => {
                    self.queue.add(&change.key, pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0), now);
                    requests.tick_after(SimDuration::ZERO);
                }
                // A status-only update (the scheduler's own PodScheduled=False among them)
                // changes nothing that scheduling looks at.
                Some(old) if spec_or_labels_changed(old, pod) => {
                    if self.queue.activate(&change.key, now) {
                        requests.tick_after(SimDuration::ZERO);
                    } else if !self.queue.contains(&change.key) {
                        self.queue.add(&change.key, pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0), now);
                        requests.tick_after(SimDuration::ZERO);
                    }
                }
                Some(_) => {}
            }
        } else {
            self.queue.remove(&change.key);
        }
        // An assigned Pod that stops using its node frees room and ports: a hint for
        // NodeResourcesFit and NodePorts.
        let was_using = old.is_some_and(|o| pod_util::node_name(o).is_some() && !pod_util::is_terminal(o));
        let freed = pod_util::node_name(pod).is_some() && (deleted || (was_using && pod_util::is_terminal(pod)));
        if freed {
            self.move_parked(now, requests, |plugins, _| {
                plugins.contains(&Plugin::NodeResourcesFit) || plugins.contains(&Plugin::NodePorts)
            });
        }
        // A Pod that arrives on or leaves a node may satisfy or lift an inter-pod rule.
        let arrived = pod_util::node_name(pod).is_some() && old.is_none_or(|o| pod_util::node_name(o).is_none());
        if deleted || arrived {
            self.move_parked(now, requests, |plugins, _| {
                plugins.contains(&Plugin::InterPodAffinity) || plugins.contains(&Plugin::PodTopologySpread)
            });
        }
    }

    fn observe_node(&mut self, api: &ApiServer, change: &Change, node: &Node, requests: &mut Requests) {
        let now = api.now();
        if change.kind == ChangeKind::Deleted {
            self.cache.remove_node(&change.key.name);
            return;
        }
        let old_info = self.cache.node(&change.key.name).cloned();
        self.cache.update_node(node);
        let Some(info) = self.cache.node(&change.key.name).cloned() else {
            return;
        };
        let unchanged = old_info.as_ref().is_some_and(|o| {
            o.labels == info.labels && o.taints == info.taints && o.unschedulable == info.unschedulable && o.allocatable == info.allocatable
        });
        if unchanged {
            return;
        }
        // A node added or changed helps a parked Pod if every plugin that rejected it would now
        // pass on this node (the plugins' queueing hints for Node/Add and Node/Update).
        let pods: Vec<(ObjectKey, Option<PodInfo>)> =
            self.queue.parked().map(|(key, _)| (key.clone(), api.get(key).and_then(Object::as_pod).map(PodInfo::new))).collect();
        self.move_parked(now, requests, |plugins, key| {
            let Some((_, Some(pod))) = pods.iter().find(|(k, _)| k == key) else {
                return false;
            };
            // InterPodAffinity's and PodTopologySpread's verdicts depend on the Pods around, not
            // only on the node: a changed node is worth a retry.
            plugins.iter().all(|plugin| {
                matches!(plugin, Plugin::InterPodAffinity | Plugin::PodTopologySpread) || run_filter(*plugin, pod, &info).is_ok()
            })
        });
    }

    /// Moves each parked Pod for which `helps(rejecting plugins, key)` holds.
    fn move_parked(&mut self, now: crate::time::SimTime, requests: &mut Requests, helps: impl Fn(&BTreeSet<Plugin>, &ObjectKey) -> bool) {
        let mut keys: Vec<ObjectKey> = self.queue.parked().filter(|(key, plugins)| helps(plugins, key)).map(|(k, _)| k.clone()).collect();
        // In key order, as the pool is moved (the order decides ties in the active queue).
        keys.sort();
        let mut moved = false;
        for key in keys {
            moved |= self.queue.activate(&key, now);
        }
        if moved {
            // The cycle itself works out when Pods that went to backoff are due.
            requests.tick_after(SimDuration::ZERO);
        }
    }

    /// Pods of at least `priority` nominated to `node`, other than `key` itself.
    fn nominated_here(&self, node: &str, key: &ObjectKey, priority: i32) -> Option<Vec<&Pod>> {
        if self.nominated.is_empty() {
            return None;
        }
        let pods: Vec<&Pod> = self
            .nominated
            .iter()
            .filter(|(k, (n, p))| *k != key && n == node && p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0) >= priority)
            .map(|(_, (_, p))| p)
            .collect();
        (!pods.is_empty()).then_some(pods)
    }

    /// A scheduler with the configuration file's profiles.
    pub fn new(config: std::rc::Rc<SchedulerConfig>) -> Scheduler {
        Scheduler { config, ..Scheduler::default() }
    }

    /// How many feasible nodes to look for (`numFeasibleNodesToFind`: the configured
    /// percentage, or the adaptive one).
    fn nodes_to_find(n: usize, configured: u32) -> usize {
        if n < MIN_FEASIBLE_NODES_TO_FIND || configured >= 100 {
            return n;
        }
        let percentage =
            if configured > 0 { configured as usize } else { 50usize.saturating_sub(n / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE) };
        (n * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
    }

    fn schedule_one(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) {
        let Some(pod) = ctx.api.get_rc(key) else {
            self.queue.remove(key);
            return;
        };
        let config = std::rc::Rc::clone(&self.config);
        let Some(pod) = pod.as_pod().filter(|p| wants_scheduling(&config, p)) else {
            self.queue.remove(key);
            return;
        };
        let Some(profile) = config.profile(pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref())) else { return };
        let name = profile.scheduler_name.as_str();
        let mut info = PodInfo::new(pod);
        info.skip_filters = Plugin::filters_named(&profile.disabled_filters);
        info.inter_pod = inter_pod_affinity::prefilter(ctx.api, &self.cache, pod, &info.affinity);
        if info.spread.is_empty() {
            info.spread = topology_spread::Constraints::system_defaults(ctx.api, pod);
        }
        info.spread_state = topology_spread::State::new(ctx.api, &self.cache, pod, &info);
        let n = self.cache.len();
        let to_find = Scheduler::nodes_to_find(n, config.percentage_of_nodes_to_score);
        let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(to_find.min(n));
        let mut rejected: Vec<Rejection> = Vec::new();
        let mut resolvable: Vec<&NodeInfo> = Vec::new();
        let mut processed = 0;
        for i in 0..n {
            let Some(node) = self.cache.node_at((self.next_start + i) % n) else {
                continue;
            };
            processed += 1;
            let verdict = match self.nominated_here(&node.name, key, info.priority) {
                Some(pods) => {
                    let mut with_nominated = node.clone();
                    for p in pods {
                        with_nominated.add_pod(p);
                    }
                    filter(&info, &with_nominated)
                }
                None => filter(&info, node),
            };
            match verdict {
                Ok(()) => feasible.push(node),
                Err(r) => {
                    if r.resolvable {
                        resolvable.push(node);
                    }
                    rejected.push(r);
                }
            }
            if feasible.len() >= to_find {
                break;
            }
        }
        if n > 0 {
            self.next_start = (self.next_start + processed) % n;
        }
        if feasible.is_empty() {
            // PostFilter: DefaultPreemption.
            let outcome = preemption::preempt(ctx.api, pod, &info, &resolvable, |node| {
                self.nominated_here(node, key, info.priority).unwrap_or_default()
            });
            let message = match &outcome {
                Outcome::Nominate { .. } => fit_reasons(n, &rejected),
                Outcome::NotEligible(why) => with_post_filter(n, &rejected, &format!("preemption: {why}")),
                Outcome::NoCandidates => fit_error(n, &rejected),
            };
            let plugins = rejected.iter().map(|r| r.plugin).collect();
            let mut pod = pod.clone();
            self.queue.unschedulable(key, plugins, ctx.now());
            if let Outcome::Nominate { node, victims } = outcome {
                evict_victims(ctx, name, &pod, &node, &victims);
                pod.status.get_or_insert_with(Default::default).nominated_node_name = Some(node.clone());
                self.nominated.insert(key.clone(), (node, pod.clone()));
            } else if outcome == Outcome::NoCandidates {
                // No node would do any more: the nomination is cleared.
                if let Some(status) = pod.status.as_mut() {
                    status.nominated_node_name = None;
                }
                self.nominated.remove(key);
            }
            unschedulable(ctx, name, pod, message);
            return;
        }
        let scores: Vec<i64> = scoring::score_nodes(&info, &self.cache, &feasible, profile).into_iter().map(|s| s.total).collect();
        let best = scores.iter().copied().max().unwrap_or(0);
        let winners: Vec<&str> = feasible.iter().zip(&scores).filter(|(_, s)| **s == best).map(|(node, _)| node.name.as_str()).collect();
        let chosen = winners[ctx.rng.pick_index(winners.len())].to_string();
        let pod = pod.clone();
        self.cache.assume(key, &pod, &chosen);
        self.queue.remove(key);
        bind(ctx, name, pod, chosen);
    }
}

fn bind(ctx: &mut Ctx<'_>, scheduler: &str, mut pod: Pod, node: String) {
    let message = format!(
        "Successfully assigned {}/{} to {node}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or("")
    );
    if let Some(spec) = pod.spec.as_mut() {
        spec.node_name = Some(node);
    }
    // The binding API clears the nomination (KEP-5278, since v1.34).
    if let Some(status) = pod.status.as_mut() {
        status.nominated_node_name = None;
    }
    set_scheduled(ctx.api, &mut pod, true, None, None);
    let bound = ctx.api.update(Object::from(pod));
    ctx.api.record(NewEvent::normal(scheduler, &bound, "Scheduled", message));
}

/// `PrepareCandidate`: each victim is marked as a disruption target, deleted gracefully and
/// told who preempted it.
fn evict_victims(ctx: &mut Ctx<'_>, scheduler: &str, preemptor: &Pod, node: &str, victims: &[ObjectKey]) {
    let uid = preemptor.metadata.uid.clone().unwrap_or_default();
    for key in victims {
        let Some(mut victim) = ctx.api.get(key).and_then(Object::as_pod).cloned() else { continue };
        if victim.metadata.deletion_timestamp.is_none() {
            let message = format!("{scheduler}: preempting to accommodate a higher priority pod");
            let condition =
                pod_util::new_condition("DisruptionTarget", true, Some("PreemptionByScheduler"), Some(message), ctx.api.timestamp());
            pod_util::set_condition(&mut victim, condition);
            ctx.api.update(Object::from(victim.clone()));
            ctx.api.delete(key);
        }
        ctx.api.record(NewEvent::normal(scheduler, &Object::from(victim), "Preempted", format!("Preempted by pod {uid} on node {node}")));
    }
}

fn unschedulable(ctx: &mut Ctx<'_>, scheduler: &str, mut pod: Pod, message: String) {
    set_scheduled(ctx.api, &mut pod, false, Some("Unschedulable"), Some(message.clone()));
    let pod = ctx.api.update(Object::from(pod));
    ctx.api.record(NewEvent::warning(scheduler, &pod, "FailedScheduling", message));
}

fn set_scheduled(api: &ApiServer, pod: &mut Pod, status: bool, reason: Option<&str>, message: Option<String>) {
    pod_util::set_condition(pod, pod_util::new_condition("PodScheduled", status, reason, message, api.timestamp()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentage_of_nodes_to_score_is_adaptive() {
        assert_eq!(Scheduler::nodes_to_find(3, 0), 3);
        assert_eq!(Scheduler::nodes_to_find(99, 0), 99);
        assert_eq!(Scheduler::nodes_to_find(100, 0), 100, "50% of 100 is raised to 100");
        assert_eq!(Scheduler::nodes_to_find(1000, 0), 420, "50 - 1000/125 = 42%");
        assert_eq!(Scheduler::nodes_to_find(5000, 0), 500, "50 - 40 = 10%");
        assert_eq!(Scheduler::nodes_to_find(20_000, 0), 1000, "never under 5%");
        assert_eq!(Scheduler::nodes_to_find(5000, 30), 1500, "a configured percentage");
        assert_eq!(Scheduler::nodes_to_find(5000, 100), 5000);
    }
}
