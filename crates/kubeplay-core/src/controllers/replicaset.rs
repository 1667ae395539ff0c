//! The ReplicaSet controller (`pkg/controller/replicaset`): keep `spec.replicas` active Pods,
//! creating from the template in slow-start batches or deleting the most deletable, and
//! report status. As upstream, it keeps expectations (what it created or deleted and has not
//! yet seen in its watch) and, for speed, counts each ReplicaSet's Pods as their watch events
//! arrive, so a sync reads its Pods only when it must choose which to delete.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::labels::Selector;
use crate::api::pod_util::{self, is_active, is_available, is_ready};
use crate::api::{controller_owner, controller_ref, Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, ChangeKind, NewEvent};
use crate::rng::SimRng;
use crate::runtime::{Action, Component, Ctx, Requests, Watches};
use crate::time::{from_time, SimDuration, SimTime};

/// `burstReplicas`: at most this many creates or deletes per sync.
const BURST_REPLICAS: i64 = 500;
/// `SlowStartInitialBatchSize`.
const SLOW_START_INITIAL_BATCH: i64 = 1;
/// `ExpectationsTimeout`: expectations older than this no longer block a sync.
const EXPECTATIONS_TIMEOUT: SimDuration = SimDuration(5 * 60 * 1000);
/// How soon a ReplicaSet that could not create its Pods tries again.
const FAILED_CREATE_RETRY: SimDuration = SimDuration(30 * 1000);
const COMPONENT: &str = "replicaset-controller";

/// Active Pods a ReplicaSet controls, counted from watch events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodCounts {
    pub active: i64,
    pub ready: i64,
    pub labeled: i64,
    /// Deleted but still shutting down (`status.terminatingReplicas`, on by default since 1.35).
    pub terminating: i64,
}

/// Creations and deletions issued and not yet observed (`ControllerExpectations`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Expectations {
    adds: i64,
    dels: i64,
    set_at: SimTime,
}

#[derive(Clone, Debug, Default)]
pub struct ReplicaSetController {
    /// ReplicaSet uid → counts of the active Pods it controls.
    counts: BTreeMap<String, PodCounts>,
    expectations: BTreeMap<ObjectKey, Expectations>,
    /// ReplicaSet uids to look at for Pods to release: their selector changed, or a Pod
    /// they control changed its labels (nothing else can make a Pod stop matching).
    relabelled: BTreeSet<String>,
}

impl Component for ReplicaSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("ReplicaSet").owns("Pod").watches("Pod", replica_sets_of_orphan).observes("Pod").observes("ReplicaSet")
    }

    fn observe(&mut self, api: &ApiServer, _rng: &mut SimRng, change: &Change, _requests: &mut Requests) {
        match &*change.object {
            Object::Pod(pod) => self.observe_pod(api, change, pod),
            Object::ReplicaSet(rs) => {
                let uid = rs.metadata.uid.clone().unwrap_or_default();
                if change.kind == ChangeKind::Deleted {
                    self.counts.remove(&uid);
                    self.relabelled.remove(&uid);
                    self.expectations.remove(&change.key);
                } else if change.old.as_deref().and_then(Object::as_replica_set).is_none_or(|old| old.spec.selector != rs.spec.selector) {
                    self.counts.insert(uid.clone(), recount(api, rs, &uid));
                    self.relabelled.insert(uid.clone());
                }
            }
            _ => {}
        }
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        self.sync(ctx, key)
    }

    fn check_cache(&self, api: &ApiServer) -> Result<(), String> {
        for rs in api.store().list("ReplicaSet", None).filter_map(Object::as_replica_set) {
            let uid = rs.metadata.uid.clone().unwrap_or_default();
            let kept = self.counts.get(&uid).copied().unwrap_or_default();
            let fresh = recount(api, rs, &uid);
            if kept != fresh {
                return Err(format!("ReplicaSet {:?}: counted {kept:?}, store has {fresh:?}", rs.metadata.name));
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(self.clone())
    }
}

/// An orphan Pod maps to the ReplicaSets whose selector matches it (they may adopt it).
fn replica_sets_of_orphan(api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
    if change.kind == ChangeKind::Deleted || controller_owner(&change.object).is_some() {
        return;
    }
    let Some(pod) = change.object.as_pod() else { return };
    for rs in api.store().list("ReplicaSet", Some(&change.key.namespace)).filter_map(Object::as_replica_set) {
        if Selector::from_label_selector(&rs.spec.selector).is_ok_and(|s| s.matches(pod.metadata.labels.as_ref())) {
            out.push(ObjectKey::new("ReplicaSet", &change.key.namespace, rs.metadata.name.as_deref().unwrap_or("")));
        }
    }
}

/// What one Pod adds to its controller's counts.
fn contribution(pod: &Pod, selector: Option<&Selector>) -> PodCounts {
    if !is_active(pod) {
        let terminal = matches!(pod_util::phase(pod), "Succeeded" | "Failed");
        return PodCounts { terminating: i64::from(pod.metadata.deletion_timestamp.is_some() && !terminal), ..Default::default() };
    }
    PodCounts {
        active: 1,
        ready: i64::from(is_ready(pod)),
        labeled: i64::from(selector.is_some_and(|s| s.matches(pod.metadata.labels.as_ref()))),
        terminating: 0,
    }
}

fn recount(api: &ApiServer, rs: &ReplicaSet, uid: &str) -> PodCounts {
    let selector = Selector::from_label_selector(&rs.spec.selector).ok();
    let mut total = PodCounts::default();
    for pod in api.store().dependents(uid).filter_map(Object::as_pod).filter(|p| pod_util::controlled_by(&p.metadata, uid)) {
        let c = contribution(pod, selector.as_ref());
        total.active += c.active;
        total.ready += c.ready;
        total.labeled += c.labeled;
        total.terminating += c.terminating;
    }
    total
}

impl ReplicaSetController {
    /// Adds `sign` × the Pod's contribution to its controlling ReplicaSet's counts.
    fn count(&mut self, api: &ApiServer, namespace: &str, pod: &Pod, sign: i64) {
        let Some(owner) = pod.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true) && o.kind == "ReplicaSet")
        else {
            return;
        };
        let rs_key = ObjectKey::new("ReplicaSet", namespace, &owner.name);
        let rs = api.get(&rs_key).and_then(Object::as_replica_set).filter(|rs| rs.metadata.uid.as_deref() == Some(&owner.uid));
        let selector = rs.and_then(|rs| Selector::from_label_selector(&rs.spec.selector).ok());
        let c = contribution(pod, selector.as_ref());
        let counts = self.counts.entry(owner.uid.clone()).or_default();
        counts.active += sign * c.active;
        counts.ready += sign * c.ready;
        counts.labeled += sign * c.labeled;
        counts.terminating += sign * c.terminating;
    }

    fn observe_pod(&mut self, api: &ApiServer, change: &Change, pod: &Pod) {
        // The old version leaves its owner's counts and the new one joins its own (the same
        // ReplicaSet, or another after adoption or release).
        let old = change.old.as_deref().and_then(Object::as_pod);
        if let Some(old) = old {
            self.count(api, &change.key.namespace, old, -1);
        }
        if change.kind != ChangeKind::Deleted {
            self.count(api, &change.key.namespace, pod, 1);
        } else if old.is_none() {
            self.count(api, &change.key.namespace, pod, -1);
        }
        let Some(owner) = controller_owner(&change.object).filter(|o| o.kind == "ReplicaSet") else {
            return;
        };
        if old.is_some_and(|o| o.metadata.labels != pod.metadata.labels) {
            self.relabelled.insert(owner.uid.clone());
        }
        let rs_key = ObjectKey::new("ReplicaSet", &change.key.namespace, &owner.name);
        // Expectations: a new Pod is a creation observed; a Pod that starts terminating, or
        // goes without having terminated, is a deletion observed.
        let Some(exp) = self.expectations.get_mut(&rs_key) else {
            return;
        };
        let was_terminating = old.is_some_and(|o| o.metadata.deletion_timestamp.is_some());
        match change.kind {
            ChangeKind::Added => exp.adds -= 1,
            ChangeKind::Modified if pod.metadata.deletion_timestamp.is_some() && !was_terminating => exp.dels -= 1,
            ChangeKind::Deleted if pod.metadata.deletion_timestamp.is_none() => exp.dels -= 1,
            _ => {}
        }
    }

    /// `ClaimPods`: orphan Pods the selector matches become this ReplicaSet's (a controller
    /// reference is added); Pods it controls whose labels no longer match are released.
    /// True when it changed an owner reference.
    fn adopt_and_release(&mut self, ctx: &mut Ctx<'_>, rs: &ReplicaSet) -> bool {
        let namespace = rs.metadata.namespace.as_deref().unwrap_or_default();
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        // Most syncs have nothing to adopt or release: no selector or copy for them.
        if ctx.api.store().orphan_pods(namespace).next().is_none() && !self.relabelled.contains(&uid) {
            return false;
        }
        let Ok(selector) = Selector::from_label_selector(&rs.spec.selector) else { return false };
        // Only Pods no controller owns can be adopted; the store indexes them.
        let orphans: Vec<Pod> = ctx
            .api
            .store()
            .orphan_pods(namespace)
            .filter_map(Object::as_pod)
            .filter(|p| is_active(p) && p.metadata.deletion_timestamp.is_none() && selector.matches(p.metadata.labels.as_ref()))
            .cloned()
            .collect();
        let changed = !orphans.is_empty();
        if changed {
            let owner = Object::from(rs.clone());
            for mut pod in orphans {
                pod.metadata.owner_references.get_or_insert_with(Vec::new).push(controller_ref(&owner));
                ctx.api.update(Object::from(pod));
            }
        }
        if !self.relabelled.remove(&uid) {
            return changed;
        }
        let strays: Vec<Pod> = ctx
            .api
            .store()
            .dependents(&uid)
            .filter_map(Object::as_pod)
            .filter(|p| pod_util::controlled_by(&p.metadata, &uid) && !selector.matches(p.metadata.labels.as_ref()))
            .cloned()
            .collect();
        let changed = changed || !strays.is_empty();
        for mut pod in strays {
            if let Some(refs) = pod.metadata.owner_references.as_mut() {
                refs.retain(|r| r.uid != uid);
            }
            if pod.metadata.owner_references.as_ref().is_some_and(Vec::is_empty) {
                pod.metadata.owner_references = None;
            }
            ctx.api.update(Object::from(pod));
        }
        changed
    }

    fn satisfied(&self, key: &ObjectKey, now: SimTime) -> bool {
        self.expectations.get(key).is_none_or(|e| (e.adds <= 0 && e.dels <= 0) || now.since(e.set_at) > EXPECTATIONS_TIMEOUT)
    }

    fn sync(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(rs) = ctx.api.get_rc(key) else {
            self.expectations.remove(key);
            return Action::AwaitChange;
        };
        let Some(rs) = rs.as_replica_set() else {
            return Action::AwaitChange;
        };
        if rs.metadata.deletion_timestamp.is_some() {
            return Action::AwaitChange;
        }
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        if self.adopt_and_release(ctx, rs) {
            // The claimed Pods count once their new owner reference is observed: look again then.
            return Action::RequeueAfter(SimDuration(1));
        }
        let mut retry = None;
        let mut manage_error = None;
        if !self.satisfied(key, ctx.now()) {
            // Expectations always catch up with the watch here; should one not, its timeout
            // (not a watch event) is what lets the ReplicaSet act again.
            retry = self.expectations.get(key).map(|e| e.set_at.plus(EXPECTATIONS_TIMEOUT).since(ctx.now()).0 + 1).map(SimDuration);
        } else {
            let want = i64::from(rs.spec.replicas.unwrap_or(1).max(0));
            let active = self.counts.get(&uid).map_or(0, |c| c.active);
            let diff = active - want;
            if diff < 0 {
                if let Err(error) = self.create_pods(ctx, key, rs, (-diff).min(BURST_REPLICAS)) {
                    retry = Some(FAILED_CREATE_RETRY);
                    manage_error = Some(error);
                }
            } else if diff > 0 {
                self.delete_pods(ctx, key, rs, &uid, diff.min(BURST_REPLICAS));
            }
        }
        let ready_not_available = self.update_status(ctx, key, manage_error);
        // Pods that are ready but not yet available (minReadySeconds) become available later.
        match (retry, ready_not_available) {
            (Some(r), _) => Action::RequeueAfter(r),
            (None, true) => Action::RequeueAfter(SimDuration::from_secs(1)),
            (None, false) => Action::AwaitChange,
        }
    }

    /// Creates `n` Pods in batches of 1, 2, 4, … (`slowStartBatch`), stopping at the first
    /// error, which it returns.
    fn create_pods(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, rs: &ReplicaSet, n: i64) -> Result<(), String> {
        let now = ctx.now();
        self.expectations.insert(key.clone(), Expectations { adds: n, dels: 0, set_at: now });
        let owner = Object::from(rs.clone());
        let mut remaining = n;
        let mut batch = SLOW_START_INITIAL_BATCH.min(n);
        while batch > 0 {
            let mut failure = None;
            for _ in 0..batch {
                match ctx.api.create(pod_from_template(rs, &owner)) {
                    Ok(pod) => {
                        let message = format!("Created pod: {}", pod.name());
                        ctx.api.record(NewEvent::normal(COMPONENT, &owner, "SuccessfulCreate", message));
                    }
                    Err(error) => {
                        // One event per failed creation, as PodControl records them (they
                        // aggregate into one Event with a count).
                        let message = format!("Error creating: {error}");
                        ctx.api.record(NewEvent::warning(COMPONENT, &owner, "FailedCreate", message));
                        failure = Some(error);
                    }
                }
            }
            remaining -= batch;
            if let Some(error) = failure {
                // Creations that failed or were skipped will never be observed.
                if let Some(exp) = self.expectations.get_mut(key) {
                    exp.adds = 0;
                }
                return Err(error.to_string());
            }
            batch = (2 * batch).min(remaining);
        }
        Ok(())
    }

    fn delete_pods(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey, rs: &ReplicaSet, uid: &str, n: i64) {
        let victims: Vec<String> = {
            let mut active: Vec<&Pod> = ctx
                .api
                .store()
                .dependents(uid)
                .filter_map(Object::as_pod)
                .filter(|p| pod_util::controlled_by(&p.metadata, uid) && is_active(p))
                .collect();
            // Related Pods: this ReplicaSet's and its siblings' (the same Deployment's), for
            // the "doubled up on a node" rank.
            let owner = rs.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)).map(|o| o.uid.clone());
            let sets: Vec<String> = match &owner {
                Some(owner) => ctx
                    .api
                    .store()
                    .dependents(owner)
                    .filter(|o| o.info().kind == "ReplicaSet")
                    .filter_map(|o| o.meta().uid.clone())
                    .collect(),
                None => vec![uid.to_string()],
            };
            let mut per_node: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
            for set in &sets {
                for p in ctx.api.store().dependents(set).filter_map(Object::as_pod).filter(|p| is_active(p)) {
                    if let Some(node) = pod_util::node_name(p) {
                        *per_node.entry(node.to_string()).or_default() += 1;
                    }
                }
            }
            let now = ctx.now();
            let rank = |p: &Pod| pod_util::node_name(p).and_then(|n| per_node.get(n)).copied().unwrap_or(0);
            active.sort_by_cached_key(|p| deletion_rank(p, rank(p), now));
            active.iter().take(n as usize).filter_map(|p| p.metadata.name.clone()).collect()
        };
        let now = ctx.now();
        self.expectations.insert(key.clone(), Expectations { adds: 0, dels: victims.len() as i64, set_at: now });
        let owner = Object::from(rs.clone());
        for name in victims {
            ctx.api.delete(&ObjectKey::new("Pod", &key.namespace, &name));
            ctx.api.record(NewEvent::normal(COMPONENT, &owner, "SuccessfulDelete", format!("Deleted pod: {name}")));
        }
    }

    /// Writes status from the counts, with a `ReplicaFailure` condition while Pods cannot be
    /// created; true when some ready Pods are not yet available.
    fn update_status(&self, ctx: &mut Ctx<'_>, key: &ObjectKey, manage_error: Option<String>) -> bool {
        let Some(current) = ctx.api.get_rc(key) else { return false };
        let Some(rs) = current.as_replica_set() else { return false };
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let counts = self.counts.get(&uid).copied().unwrap_or_default();
        let min_ready = rs.spec.min_ready_seconds.unwrap_or(0);
        let available = if min_ready <= 0 {
            counts.ready
        } else {
            let now = ctx.now();
            let pods = ctx.api.store().dependents(&uid).filter_map(Object::as_pod);
            pods.filter(|p| pod_util::controlled_by(&p.metadata, &uid) && is_active(p) && is_available(p, min_ready, now)).count() as i64
        };
        let int32 = |v: i64| v.clamp(0, i64::from(i32::MAX)) as i32;
        let status = ReplicaSetStatus {
            replicas: int32(counts.active),
            fully_labeled_replicas: Some(int32(counts.labeled)),
            ready_replicas: Some(int32(counts.ready)),
            available_replicas: Some(int32(available)),
            terminating_replicas: Some(int32(counts.terminating)),
            observed_generation: rs.metadata.generation,
            conditions: replica_failure(rs.status.as_ref().and_then(|s| s.conditions.clone()), manage_error, ctx.api.timestamp()),
        };
        // Copy the ReplicaSet (template and all) only when its status really changes.
        if rs.status.as_ref() != Some(&status) {
            let mut rs = rs.clone();
            rs.status = Some(status);
            ctx.api.update(Object::from(rs));
        }
        counts.ready != available
    }
}

/// `calculateStatus`'s conditions: a `ReplicaFailure` (reason `FailedCreate`) is added when
/// creating Pods fails and removed by the next sync that succeeds.
fn replica_failure(
    conditions: Option<Vec<ReplicaSetCondition>>,
    error: Option<String>,
    now: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> Option<Vec<ReplicaSetCondition>> {
    let mut conditions = conditions.unwrap_or_default();
    let existing = conditions.iter().any(|c| c.type_.as_deref() == Some("ReplicaFailure"));
    match error {
        Some(message) if !existing => conditions.push(ReplicaSetCondition {
            type_: Some("ReplicaFailure".into()),
            status: Some("True".into()),
            reason: Some("FailedCreate".into()),
            message: Some(message),
            last_transition_time: Some(now),
        }),
        None if existing => conditions.retain(|c| c.type_.as_deref() != Some("ReplicaFailure")),
        _ => {}
    }
    (!conditions.is_empty()).then_some(conditions)
}

/// `floor(log2(now − t))` in nanoseconds, −1 for a time not before now: Pods whose times
/// fall in the same power-of-two bucket count as equally old (`logarithmicRankDiff`).
fn log_rank(t: u64, now: SimTime) -> i64 {
    let d = now.ms().saturating_sub(t) as u128 * 1_000_000;
    if d == 0 {
        -1
    } else {
        i64::from(127 - d.leading_zeros() as i32)
    }
}

/// Most deletable first (`ActivePodsWithRanks.Less`, with logarithmic scale-down): unscheduled,
/// then Pending before Unknown before Running, not ready, lower
/// `controller.kubernetes.io/pod-deletion-cost`, more related Pods on the same node (doubled
/// up), ready for less time (log-scale buckets), more container restarts, newer (log-scale
/// buckets), then by uid. Upstream compares pairs and breaks bucket ties by uid only when the
/// times differ; as a sort key (a total order) the uid comes last.
type Rank = (bool, u8, bool, i32, std::cmp::Reverse<usize>, i64, std::cmp::Reverse<i32>, i64, String);

fn deletion_rank(p: &Pod, related_on_node: usize, now: SimTime) -> Rank {
    let phase = match pod_util::phase(p) {
        "Pending" => 0,
        "Unknown" => 1,
        _ => 2,
    };
    let cost = p
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("controller.kubernetes.io/pod-deletion-cost"))
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0);
    let ready = is_ready(p);
    let ready_at = pod_util::condition(p, "Ready").and_then(|c| c.last_transition_time.as_ref()).map(|t| from_time(t).ms());
    let restarts = p.status.iter().flat_map(|s| s.container_statuses.iter().flatten()).map(|c| c.restart_count).max().unwrap_or(0);
    let created = p.metadata.creation_timestamp.as_ref().map(|t| from_time(t).ms());
    let bucket = |t: Option<u64>| t.map_or(-2, |t| log_rank(t, now));
    (
        pod_util::node_name(p).is_some(),
        phase,
        ready,
        cost,
        std::cmp::Reverse(related_on_node),
        if ready { bucket(ready_at) } else { 0 },
        std::cmp::Reverse(restarts),
        bucket(created),
        p.metadata.uid.clone().unwrap_or_default(),
    )
}

fn pod_from_template(rs: &ReplicaSet, owner: &Object) -> Object {
    let rs_name = rs.metadata.name.clone().unwrap_or_default();
    let template = rs.spec.template.clone().unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    Object::from(Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{rs_name}-")),
            namespace: rs.metadata.namespace.clone(),
            labels: template_meta.labels,
            annotations: template_meta.annotations,
            owner_references: Some(vec![controller_ref(owner)]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(replicas: i32) -> (ApiServer, ObjectKey) {
        let mut api = ApiServer::new(7);
        let yaml = format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n"
        );
        let parsed = crate::manifest::parse("rs.yaml", &yaml);
        let key = api.create(parsed.objects[0].object.clone()).expect("rs").key();
        (api, key)
    }

    /// Delivers the API server's changes to the controller, as the host would.
    fn deliver(c: &mut ReplicaSetController, api: &mut ApiServer) {
        let mut rng = SimRng::stream(1, "test");
        for change in api.drain_changes() {
            c.observe(api, &mut rng, &change, &mut Requests::default());
        }
    }

    #[test]
    fn creates_in_slow_start_batches_and_waits_for_its_expectations() {
        let (mut api, key) = setup(5);
        let mut c = ReplicaSetController::default();
        deliver(&mut c, &mut api);
        let mut rng = SimRng::stream(1, "test");
        c.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &key);
        assert_eq!(api.store().count("Pod"), 5);
        // Before the watch delivers the new Pods, a second sync must not create more.
        c.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &key);
        assert_eq!(api.store().count("Pod"), 5, "expectations hold the second sync back");
        deliver(&mut c, &mut api);
        c.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &key);
        assert_eq!(api.store().count("Pod"), 5);
        assert_eq!(c.check_cache(&api), Ok(()));
        let status = api.get(&key).and_then(Object::as_replica_set).and_then(|rs| rs.status.clone()).expect("status");
        assert_eq!((status.replicas, status.fully_labeled_replicas, status.ready_replicas), (5, Some(5), Some(0)));
    }

    #[test]
    fn a_full_cluster_is_a_failed_create_event_not_a_crash() {
        let (mut api, key) = setup(10);
        api.set_pod_limit(3);
        let mut c = ReplicaSetController::default();
        deliver(&mut c, &mut api);
        let mut rng = SimRng::stream(1, "test");
        let action = c.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &key);
        assert_eq!(api.store().count("Pod"), 3, "slow start: batches of 1 and 2 succeed, the batch of 4 fails");
        assert_eq!(action, Action::RequeueAfter(FAILED_CREATE_RETRY));
        let failure = |api: &ApiServer| {
            let rs = api.get(&key).and_then(Object::as_replica_set).cloned();
            let conditions = rs.and_then(|rs| rs.status).and_then(|s| s.conditions).unwrap_or_default();
            conditions
                .into_iter()
                .find(|c| c.type_.as_deref() == Some("ReplicaFailure"))
                .map(|c| (c.reason.unwrap_or_default(), c.message.unwrap_or_default()))
        };
        let expected = ("FailedCreate".to_string(), "kubeplay: the simulated cluster holds at most 3 Pods".to_string());
        assert_eq!(failure(&api), Some(expected));
        let events: Vec<(String, String, i32)> = api
            .store()
            .list("Event", None)
            .filter_map(Object::as_event)
            .filter(|e| e.type_.as_deref() == Some("Warning"))
            .map(|e| (e.reason.clone().unwrap_or_default(), e.message.clone().unwrap_or_default(), e.count.unwrap_or(1)))
            .collect();
        let message = "Error creating: kubeplay: the simulated cluster holds at most 3 Pods".to_string();
        assert_eq!(events, vec![("FailedCreate".to_string(), message, 4)], "the whole batch of 4 failed");
        deliver(&mut c, &mut api);
        assert!(c.satisfied(&key, api.now()), "failed creations are not waited for");
        api.set_pod_limit(100);
        c.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &key);
        assert_eq!(api.store().count("Pod"), 10);
        assert_eq!(failure(&api), None, "a sync that creates its Pods clears the failure");
    }

    #[test]
    fn scales_down_the_most_deletable_first() {
        let (mut api, key) = setup(3);
        let mut c = ReplicaSetController::default();
        let mut rng = SimRng::stream(1, "test");
        deliver(&mut c, &mut api);
        c.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &key);
        deliver(&mut c, &mut api);
        // Bind one Pod: the two unscheduled ones go first.
        let bound = api.store().list("Pod", None).next().map(Object::key).expect("a pod");
        let mut pod = api.get(&bound).and_then(Object::as_pod).cloned().expect("pod");
        pod.spec.get_or_insert_with(Default::default).node_name = Some("n1".into());
        api.update(Object::from(pod));
        let mut rs = api.get(&key).and_then(Object::as_replica_set).cloned().expect("rs");
        rs.spec.replicas = Some(1);
        api.update(Object::from(rs));
        deliver(&mut c, &mut api);
        c.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &key);
        deliver(&mut c, &mut api);
        let left: Vec<ObjectKey> = api.store().list("Pod", None).map(Object::key).collect();
        assert_eq!(left, vec![bound]);
        assert_eq!(c.check_cache(&api), Ok(()));
    }
}
