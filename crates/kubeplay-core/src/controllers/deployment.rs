//! The Deployment controller (`pkg/controller/deployment`): one ReplicaSet per Pod template,
//! named `<deployment>-<pod-template-hash>`, moved between templates by the rolling-update
//! (or Recreate) arithmetic, with status and conditions as kubectl reads them.

use std::collections::BTreeMap;
use std::rc::Rc;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::pod_util::controlled_by;
use crate::api::{controller_owner, controller_ref, Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, ChangeKind, NewEvent};
use crate::rng::{fnv1a32, safe_encode};
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::{from_time, SimDuration};

const HASH_LABEL: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// `skipCopyAnnotation`: annotations the Deployment does not pass on to its ReplicaSets.
const SKIP_COPY: [&str; 5] = ["kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, DESIRED, MAX_REPLICAS];

/// `controller.ComputeHash`: FNV-32a of the template (and collision count), written with
/// `SafeEncodeString`. Kubernetes hashes a Go deep-print of the struct; we hash its JSON, so
/// the characters differ from a real cluster's but the shape and stability are the same.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(template).unwrap_or_default();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&c.to_le_bytes());
    }
    safe_encode(&fnv1a32(&bytes).to_string())
}

#[derive(Clone, Copy, Debug, Default)]
pub struct DeploymentController;

impl Component for DeploymentController {
    fn name(&self) -> &'static str {
        "deployment-controller"
    }

    fn watches(&self) -> Watches {
        // Pod deletions too: a Recreate rollout waits for the last old Pod to be gone.
        Watches::reconciles("Deployment").owns("ReplicaSet").watches("Pod", deployment_of_deleted_pod)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        // A rollout that is not complete looks again when its progress deadline would pass.
        match reconcile(ctx, key) {
            Some(after) => Action::RequeueAfter(after),
            None => Action::AwaitChange,
        }
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

/// A deleted Pod maps to the Deployment that controls its ReplicaSet.
fn deployment_of_deleted_pod(api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
    if change.kind != ChangeKind::Deleted {
        return;
    }
    let Some(rs) = controller_owner(&change.object).filter(|o| o.kind == "ReplicaSet") else {
        return;
    };
    let rs_key = ObjectKey::new("ReplicaSet", &change.key.namespace, &rs.name);
    if let Some(d) = api.get(&rs_key).and_then(controller_owner).filter(|o| o.kind == "Deployment") {
        out.push(ObjectKey::new("Deployment", &change.key.namespace, &d.name));
    }
}

fn reconcile(ctx: &mut Ctx<'_>, key: &ObjectKey) -> Option<SimDuration> {
    let object = ctx.api.get_rc(key)?;
    if object.as_deployment()?.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let mut sync = DeploymentSync { object, key: key.clone() };
    let (new_rs, old) = sync.replica_sets(ctx.api);
    if sync.d().spec.paused != Some(true) {
        let recreate = sync.strategy_type() == "Recreate";
        let new_rs = match new_rs {
            // A template that returns (a rollback, an undone edit) brings its old ReplicaSet
            // back as the newest revision (`getNewReplicaSet`).
            Some(rs) => sync.sync_new_rs_annotations(ctx, rs, &old),
            None => {
                let replicas = if recreate { 0 } else { sync.new_rs_replicas(None, &old) };
                sync.create_new_rs(ctx, &old, replicas)
            }
        };
        // A change of `replicas` mid-rollout is spread over the ReplicaSets first (`sync`).
        if !recreate && sync.is_scaling_event(&new_rs, &old) {
            sync.scale_proportionally(ctx, &new_rs, &old);
            return sync.status(ctx);
        }
        let scaled = if recreate { sync.recreate(ctx, &new_rs, &old) } else { sync.rolling(ctx, &new_rs, &old) };
        if !scaled {
            sync.cleanup(ctx, &old);
        }
    }
    sync.status(ctx)
}

/// One sync of one Deployment (`syncDeployment`).
struct DeploymentSync {
    /// The Deployment as stored (shared, not copied: a sync runs for every change of its
    /// ReplicaSets' status).
    object: Rc<Object>,
    key: ObjectKey,
}

impl DeploymentSync {
    fn d(&self) -> &Deployment {
        // `reconcile` builds a sync only for a stored Deployment.
        static NONE: std::sync::LazyLock<Deployment> = std::sync::LazyLock::new(Deployment::default);
        self.object.as_deployment().unwrap_or(&NONE)
    }

    /// Reads the Deployment again after writing `d`.
    fn reload(&mut self, ctx: &Ctx<'_>, d: Deployment) {
        self.object = ctx.api.get_rc(&self.key).filter(|o| o.as_deployment().is_some()).unwrap_or_else(|| Rc::new(Object::from(d)));
    }

    fn replicas(&self) -> i64 {
        i64::from(self.d().spec.replicas.unwrap_or(1))
    }

    fn strategy_type(&self) -> &str {
        self.d().spec.strategy.as_ref().and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate")
    }

    /// (maxSurge, maxUnavailable) resolved against replicas: surge rounds up, unavailable
    /// down, and both 0 forces unavailable to 1 (`ResolveFenceposts`).
    fn fenceposts(&self) -> (i64, i64) {
        let ru = self.d().spec.strategy.as_ref().and_then(|s| s.rolling_update.as_ref());
        let replicas = self.replicas();
        let surge = scaled(ru.and_then(|r| r.max_surge.as_ref()), replicas, true);
        let unavailable = scaled(ru.and_then(|r| r.max_unavailable.as_ref()), replicas, false);
        if surge == 0 && unavailable == 0 {
            (0, 1)
        } else {
            (surge, unavailable)
        }
    }

    /// The new ReplicaSet (template equal to ours, ignoring the hash label) and the old ones,
    /// oldest first.
    fn replica_sets(&self, api: &ApiServer) -> (Option<OwnedRs>, Vec<OwnedRs>) {
        let uid = self.d().metadata.uid.clone().unwrap_or_default();
        let mut owned: Vec<OwnedRs> = api
            .store()
            .dependents(&uid)
            .filter(|o| o.as_replica_set().is_some_and(|rs| controlled_by(&rs.metadata, &uid)))
            .filter_map(|o| api.get_rc(&o.key()).map(OwnedRs))
            .collect();
        owned.sort_by_key(|rs| (rs.metadata.creation_timestamp.as_ref().map(from_time), rs.metadata.name.clone()));
        let position = owned.iter().position(|rs| same_template(rs, &self.d().spec.template));
        let new_rs = position.map(|i| owned.remove(i));
        (new_rs, owned)
    }

    /// `NewRSNewReplicas` for RollingUpdate.
    fn new_rs_replicas(&self, new_rs: Option<&ReplicaSet>, old: &[OwnedRs]) -> i64 {
        let (surge, _) = self.fenceposts();
        let new_count = new_rs.map_or(0, rs_replicas);
        let current: i64 = old.iter().map(|rs| rs_replicas(rs)).sum::<i64>() + new_count;
        let max_total = self.replicas() + surge;
        if current >= max_total {
            return new_count;
        }
        new_count + (max_total - current).min(self.replicas() - new_count)
    }

    fn create_new_rs(&mut self, ctx: &mut Ctx<'_>, old: &[OwnedRs], replicas: i64) -> OwnedRs {
        let collision = self.d().status.as_ref().and_then(|s| s.collision_count);
        let hash = pod_template_hash(&self.d().spec.template, collision);
        let mut template = self.d().spec.template.clone();
        let template_meta = template.metadata.get_or_insert_with(ObjectMeta::default);
        template_meta.labels.get_or_insert_with(BTreeMap::new).insert(HASH_LABEL.into(), hash.clone());
        let mut selector = self.d().spec.selector.clone();
        selector.match_labels.get_or_insert_with(BTreeMap::new).insert(HASH_LABEL.into(), hash.clone());
        let revision = old.iter().filter_map(|rs| revision(rs)).max().unwrap_or(0) + 1;
        let (surge, _) = self.fenceposts();
        let mut annotations = self.d().metadata.annotations.clone().unwrap_or_default();
        annotations.retain(|k, _| !SKIP_COPY.contains(&k.as_str()));
        annotations.insert(DESIRED.into(), self.replicas().to_string());
        annotations.insert(MAX_REPLICAS.into(), (self.replicas() + surge).to_string());
        annotations.insert(REVISION.into(), revision.to_string());
        let name = format!("{}-{hash}", self.key.name);
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(self.key.namespace.clone()),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                annotations: Some(annotations),
                owner_references: Some(vec![controller_ref(&Object::clone(&self.object))]),
                ..Default::default()
            },
            spec: ReplicaSetSpec {
                replicas: Some(int32(replicas)),
                min_ready_seconds: self.d().spec.min_ready_seconds,
                selector,
                template: Some(template),
            },
            status: None,
        };
        // Creating a ReplicaSet fails only at a name collision, which the hash rules out.
        let created = ctx.api.create(Object::from(rs.clone())).unwrap_or_else(|_| std::rc::Rc::new(Object::from(rs)));
        if replicas > 0 {
            self.event(ctx, format!("Scaled up replica set {name} from 0 to {replicas}"));
        }
        let mut d = self.d().clone();
        d.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(REVISION.into(), revision.to_string());
        ctx.api.update(Object::from(d.clone()));
        self.reload(ctx, d);
        OwnedRs(created)
    }

    /// `isScalingEvent`: an active ReplicaSet was last sized for another `replicas`.
    fn is_scaling_event(&self, new_rs: &ReplicaSet, old: &[OwnedRs]) -> bool {
        let desired = self.replicas().to_string();
        std::iter::once(new_rs)
            .chain(old.iter().map(|rs| &**rs))
            .filter(|rs| rs_replicas(rs) > 0)
            .any(|rs| rs.metadata.annotations.as_ref().and_then(|a| a.get(DESIRED)).is_some_and(|d| *d != desired))
    }

    /// `scale` (sync.go): a single active ReplicaSet takes the new size; a saturated new one
    /// leaves the old ones at 0; otherwise the replicas to add (or remove) up to `replicas +
    /// maxSurge` are spread in proportion to each ReplicaSet's share of its annotated
    /// `max-replicas`, largest first, the rounding leftover to the largest.
    fn scale_proportionally(&self, ctx: &mut Ctx<'_>, new_rs: &ReplicaSet, old: &[OwnedRs]) {
        let replicas = self.replicas();
        let mut active: Vec<ReplicaSet> =
            std::iter::once(new_rs.clone()).chain(old.iter().map(|rs| ReplicaSet::clone(rs))).filter(|rs| rs_replicas(rs) > 0).collect();
        if active.len() <= 1 {
            let target = active.first().cloned().unwrap_or_else(|| new_rs.clone());
            self.scale(ctx, &target, replicas);
            return;
        }
        if rs_replicas(new_rs) == replicas && available(new_rs) == replicas {
            for rs in old {
                self.scale(ctx, rs, 0);
            }
            return;
        }
        let (surge, _) = self.fenceposts();
        let allowed = if replicas > 0 { replicas + surge } else { 0 };
        let total: i64 = active.iter().map(rs_replicas).sum();
        let to_add = allowed - total;
        let created = |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(from_time);
        // Largest first; ties: newer first when growing, older first when shrinking.
        active.sort_by(|a, b| {
            rs_replicas(b).cmp(&rs_replicas(a)).then_with(|| {
                if to_add > 0 {
                    created(b).cmp(&created(a))
                } else {
                    created(a).cmp(&created(b))
                }
            })
        });
        let annotated = |rs: &ReplicaSet| {
            rs.metadata.annotations.as_ref().and_then(|a| a.get(MAX_REPLICAS)).and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 0)
        };
        let status_replicas = i64::from(self.d().status.as_ref().and_then(|s| s.replicas).unwrap_or(0)).max(1);
        let mut added = 0;
        let mut sizes: Vec<i64> = Vec::new();
        for rs in &active {
            let current = rs_replicas(rs);
            let proportion = if to_add == 0 || to_add == added {
                0
            } else {
                // `getReplicaSetFraction`.
                let fraction = if replicas == 0 {
                    -current
                } else {
                    let of = annotated(rs).unwrap_or(status_replicas);
                    ((current * (replicas + surge)) as f64 / of as f64).round() as i64 - current
                };
                let left = to_add - added;
                if to_add > 0 {
                    fraction.min(left)
                } else {
                    fraction.max(left)
                }
            };
            added += proportion;
            sizes.push(current + proportion);
        }
        if to_add != 0 {
            if let Some(first) = sizes.first_mut() {
                *first = (*first + to_add - added).max(0);
            }
        }
        for (rs, size) in active.iter().zip(sizes) {
            self.scale(ctx, rs, size);
        }
    }

    /// `SetNewReplicaSetAnnotations` for an existing new ReplicaSet: the Deployment's own
    /// annotations are copied over (so a `kubernetes.io/change-cause` set after the rollout
    /// started is recorded), and a template that came back (a rollback, an undone edit) makes
    /// its ReplicaSet the revision after the newest old one, remembering its earlier numbers
    /// in `deployment.kubernetes.io/revision-history`.
    fn sync_new_rs_annotations(&mut self, ctx: &mut Ctx<'_>, rs: OwnedRs, old: &[OwnedRs]) -> OwnedRs {
        // Most syncs change nothing here: look before copying the ReplicaSet.
        let current = rs.metadata.annotations.as_ref();
        let copies = self
            .d()
            .metadata
            .annotations
            .iter()
            .flatten()
            .any(|(k, v)| !SKIP_COPY.contains(&k.as_str()) && current.and_then(|a| a.get(k)) != Some(v));
        let newest_old = old.iter().filter_map(|o| revision(o)).max().unwrap_or(0);
        if !copies && revision(&rs).is_none_or(|r| r >= newest_old) {
            return rs;
        }
        let mut updated = ReplicaSet::clone(&rs);
        let annotations = updated.metadata.annotations.get_or_insert_with(BTreeMap::new);
        let mut changed = false;
        for (k, v) in self.d().metadata.annotations.iter().flatten() {
            if SKIP_COPY.contains(&k.as_str()) || annotations.get(k) == Some(v) {
                continue;
            }
            annotations.insert(k.clone(), v.clone());
            changed = true;
        }
        let bumped = revision(&rs).filter(|r| *r < newest_old).map(|current| {
            let history = match annotations.get(REVISION_HISTORY) {
                Some(h) if !h.is_empty() => format!("{h},{current}"),
                _ => current.to_string(),
            };
            annotations.insert(REVISION_HISTORY.into(), history);
            annotations.insert(REVISION.into(), (newest_old + 1).to_string());
            newest_old + 1
        });
        if !changed && bumped.is_none() {
            return rs;
        }
        let written = ctx.api.update(Object::from(updated));
        if let Some(next) = bumped {
            let mut d = self.d().clone();
            d.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(REVISION.into(), next.to_string());
            ctx.api.update(Object::from(d.clone()));
            self.reload(ctx, d);
        }
        OwnedRs(written)
    }

    fn rolling(&self, ctx: &mut Ctx<'_>, new_rs: &ReplicaSet, old: &[OwnedRs]) -> bool {
        // reconcileNewReplicaSet
        let replicas = self.replicas();
        let new_count = rs_replicas(new_rs);
        if new_count > replicas {
            return self.scale(ctx, new_rs, replicas);
        }
        if new_count < replicas {
            let target = self.new_rs_replicas(Some(new_rs), old);
            if target != new_count {
                return self.scale(ctx, new_rs, target);
            }
        }
        self.reconcile_old(ctx, new_rs, old)
    }

    /// `reconcileOldReplicaSets`: first drop old Pods that are not available, then scale old
    /// ReplicaSets down as far as `minAvailable` allows.
    fn reconcile_old(&self, ctx: &mut Ctx<'_>, new_rs: &ReplicaSet, old: &[OwnedRs]) -> bool {
        let old_count: i64 = old.iter().map(|rs| rs_replicas(rs)).sum();
        if old_count == 0 {
            return false;
        }
        let all_count = old_count + rs_replicas(new_rs);
        let (_, max_unavailable) = self.fenceposts();
        let min_available = self.replicas() - max_unavailable;
        let new_unavailable = rs_replicas(new_rs) - available(new_rs);
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        let mut scaled_down = 0;
        let mut old: Vec<ReplicaSet> = old.iter().map(|rs| ReplicaSet::clone(rs)).collect();
        for rs in &mut old {
            let unhealthy = rs_replicas(rs) - available(rs);
            if rs_replicas(rs) == 0 || unhealthy <= 0 || scaled_down >= max_scaled_down {
                continue;
            }
            let n = unhealthy.min(max_scaled_down - scaled_down);
            let target = rs_replicas(rs) - n;
            self.scale(ctx, rs, target);
            rs.spec.replicas = Some(int32(target));
            scaled_down += n;
        }
        let available_all: i64 = old.iter().map(available).sum::<i64>() + available(new_rs);
        let mut budget = (available_all - min_available).max(0);
        for rs in &old {
            if budget == 0 {
                break;
            }
            let n = rs_replicas(rs).min(budget);
            if n > 0 {
                self.scale(ctx, rs, rs_replicas(rs) - n);
                budget -= n;
                scaled_down += n;
            }
        }
        scaled_down > 0
    }

    /// Recreate: old ReplicaSets to 0, wait until none of their Pods runs, then the new one up.
    fn recreate(&self, ctx: &mut Ctx<'_>, new_rs: &ReplicaSet, old: &[OwnedRs]) -> bool {
        let mut scaled = false;
        for rs in old.iter().filter(|rs| rs_replicas(rs) > 0) {
            scaled |= self.scale(ctx, rs, 0);
        }
        if scaled {
            return true;
        }
        let old_uids: Vec<String> = old.iter().filter_map(|rs| rs.metadata.uid.clone()).collect();
        let old_running = old_uids.iter().any(|uid| {
            let pods = ctx.api.store().dependents(uid).filter_map(Object::as_pod);
            pods.into_iter().any(|p| controlled_by(&p.metadata, uid) && !crate::api::pod_util::is_terminal(p))
        });
        if old_running {
            return false;
        }
        if rs_replicas(new_rs) != self.replicas() {
            return self.scale(ctx, new_rs, self.replicas());
        }
        false
    }

    fn scale(&self, ctx: &mut Ctx<'_>, rs: &ReplicaSet, to: i64) -> bool {
        let from = rs_replicas(rs);
        let key = ObjectKey::new("ReplicaSet", &self.key.namespace, rs.metadata.name.as_deref().unwrap_or(""));
        let Some(mut current) = ctx.api.get(&key).and_then(Object::as_replica_set).cloned() else {
            return false;
        };
        let (surge, _) = self.fenceposts();
        let annotations = current.metadata.annotations.get_or_insert_with(BTreeMap::new);
        annotations.insert(DESIRED.into(), self.replicas().to_string());
        annotations.insert(MAX_REPLICAS.into(), (self.replicas() + surge).to_string());
        if from == to {
            ctx.api.update(Object::from(current));
            return false;
        }
        current.spec.replicas = Some(int32(to));
        ctx.api.update(Object::from(current));
        let direction = if to > from { "up" } else { "down" };
        let name = rs.metadata.name.clone().unwrap_or_default();
        self.event(ctx, format!("Scaled {direction} replica set {name} from {from} to {to}"));
        true
    }

    /// Deletes old, empty ReplicaSets beyond `revisionHistoryLimit`, oldest first.
    fn cleanup(&self, ctx: &mut Ctx<'_>, old: &[OwnedRs]) {
        let limit = self.d().spec.revision_history_limit.unwrap_or(10).max(0) as usize;
        let empty: Vec<&ReplicaSet> =
            old.iter().filter(|rs| rs_replicas(rs) == 0 && rs.status.as_ref().is_none_or(|s| s.replicas == 0)).map(|rs| &**rs).collect();
        if empty.len() > limit {
            for rs in &empty[..empty.len() - limit] {
                ctx.api.delete(&ObjectKey::new("ReplicaSet", &self.key.namespace, rs.metadata.name.as_deref().unwrap_or("")));
            }
        }
    }

    /// Writes the status; returns when to look again for the progress deadline.
    fn status(&self, ctx: &mut Ctx<'_>) -> Option<SimDuration> {
        let current = ctx.api.get_rc(&self.key)?;
        let d = current.as_deployment()?;
        let (new_rs, old) = self.replica_sets(ctx.api);
        let all: Vec<&ReplicaSet> = new_rs.iter().chain(old.iter()).map(|rs| &**rs).collect();
        let sum = |f: &dyn Fn(&ReplicaSet) -> i64| all.iter().map(|rs| f(rs)).sum::<i64>();
        let replicas = sum(&|rs| i64::from(rs.status.as_ref().map_or(0, |s| s.replicas)));
        let ready = sum(&|rs| i64::from(rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)));
        let available_total = sum(&available);
        // `GetTerminatingReplicaCountForReplicaSets`: known only when every ReplicaSet reports it.
        let terminating = all
            .iter()
            .map(|rs| rs.status.as_ref().and_then(|s| s.terminating_replicas))
            .try_fold(0i64, |total, t| t.map(|t| total + i64::from(t)));
        let updated = new_rs.as_ref().and_then(|rs| rs.status.as_ref()).map_or(0, |s| i64::from(s.replicas));
        let (_, max_unavailable) = self.fenceposts();
        let desired = self.replicas();
        let previous = d.status.clone().unwrap_or_default();
        let new_name = new_rs.as_ref().and_then(|rs| rs.metadata.name.clone()).unwrap_or_default();
        let complete = updated == desired && replicas == desired && available_total == desired;
        let is_available = available_total >= desired - max_unavailable;
        let had_progressing = condition(&previous, "Progressing").cloned();
        // `DeploymentProgressing`: more updated, ready or available Pods, or fewer old ones.
        let old_before = i64::from(previous.replicas.unwrap_or(0)) - i64::from(previous.updated_replicas.unwrap_or(0));
        let progressed = updated > i64::from(previous.updated_replicas.unwrap_or(0))
            || ready > i64::from(previous.ready_replicas.unwrap_or(0))
            || available_total > i64::from(previous.available_replicas.unwrap_or(0))
            || replicas - updated < old_before;
        let paused = d.spec.paused == Some(true);
        let was_paused = had_progressing.as_ref().is_some_and(|c| c.reason.as_deref() == Some("DeploymentPaused"));
        let deadline = d.spec.progress_deadline_seconds.map(|s| SimDuration::from_secs(s.max(0) as u64));
        let last_update = had_progressing.as_ref().and_then(|c| c.last_update_time.as_ref()).map(crate::time::from_time);
        let timed_out = !complete
            && !paused
            && !progressed
            && had_progressing
                .as_ref()
                .is_some_and(|c| c.status.as_deref() == Some("True") || c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
            && matches!((deadline, last_update), (Some(dl), Some(at)) if ctx.api.now() >= at.plus(dl));
        let mut progressing_status = "True";
        let (p_reason, p_message) = if paused {
            progressing_status = "Unknown";
            ("DeploymentPaused", "Deployment is paused".to_string())
        } else if was_paused {
            ("DeploymentResumed", "Deployment is resumed".to_string())
        } else if complete {
            ("NewReplicaSetAvailable", format!("ReplicaSet \"{new_name}\" has successfully progressed."))
        } else if timed_out {
            progressing_status = "False";
            ("ProgressDeadlineExceeded", format!("ReplicaSet \"{new_name}\" has timed out progressing."))
        } else if had_progressing.is_none() {
            ("NewReplicaSetCreated", format!("Created new replica set \"{new_name}\""))
        } else if !progressed && had_progressing.as_ref().is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")) {
            progressing_status = "False";
            ("ProgressDeadlineExceeded", format!("ReplicaSet \"{new_name}\" has timed out progressing."))
        } else if !progressed && had_progressing.is_some() {
            // No progress: the condition (and its last update) stays as it was.
            let c = had_progressing.clone().unwrap_or_default();
            progressing_status = if c.status.as_deref() == Some("False") { "False" } else { "True" };
            (
                match c.reason.as_deref() {
                    Some("NewReplicaSetCreated") => "NewReplicaSetCreated",
                    Some("NewReplicaSetAvailable") => "ReplicaSetUpdated",
                    _ => "ReplicaSetUpdated",
                },
                c.message.clone().unwrap_or_default(),
            )
        } else {
            ("ReplicaSetUpdated", format!("ReplicaSet \"{new_name}\" is progressing."))
        };
        let now = ctx.api.timestamp();
        let available_cond = if is_available {
            ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        } else {
            ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        };
        let conditions = vec![
            set_condition(
                condition(&previous, "Available"),
                "Available",
                available_cond.0,
                available_cond.1,
                available_cond.2.to_string(),
                &now,
            ),
            {
                let mut c = set_condition(had_progressing.as_ref(), "Progressing", progressing_status, p_reason, p_message, &now);
                // Progress (and only progress) moves the condition's last update.
                if progressed && !paused && !complete && progressing_status == "True" {
                    c.last_update_time = Some(now.clone());
                }
                c
            },
        ];
        let mut conditions = conditions;
        // `getReplicaFailures`: the new ReplicaSet's failure to create Pods, else an old one's.
        let failure = all.iter().find_map(|rs| {
            let c = rs.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_.as_deref() == Some("ReplicaFailure"))?;
            Some(DeploymentCondition {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_update_time: c.last_transition_time.clone(),
                last_transition_time: c.last_transition_time.clone(),
            })
        });
        if let Some(failure) = failure {
            let kept = condition(&previous, "ReplicaFailure").filter(|p| p.status == failure.status && p.reason == failure.reason);
            conditions.push(kept.cloned().unwrap_or(failure));
        }
        let unavailable = (desired - available_total).max(0);
        let status = Some(DeploymentStatus {
            observed_generation: d.metadata.generation,
            replicas: Some(int32(replicas)).filter(|r| *r > 0),
            updated_replicas: Some(int32(updated)).filter(|r| *r > 0),
            ready_replicas: Some(int32(ready)).filter(|r| *r > 0),
            available_replicas: Some(int32(available_total)).filter(|r| *r > 0),
            unavailable_replicas: Some(int32(unavailable)).filter(|r| *r > 0),
            conditions: Some(conditions),
            collision_count: previous.collision_count,
            terminating_replicas: terminating.map(int32),
        });
        let requeue = match (deadline, complete || paused || timed_out) {
            (Some(dl), false) => {
                let since = status
                    .as_ref()
                    .and_then(|s| condition(s, "Progressing"))
                    .and_then(|c| c.last_update_time.as_ref())
                    .map(crate::time::from_time);
                since.map(|at| at.plus(dl).since(ctx.api.now()).max(SimDuration::from_secs(1)))
            }
            _ => None,
        };
        // Copy the Deployment (template and all) only when its status really changes.
        if d.status != status {
            let mut d = d.clone();
            d.status = status;
            ctx.api.update(Object::from(d));
        }
        requeue
    }

    fn event(&self, ctx: &mut Ctx<'_>, message: String) {
        let d = Object::clone(&self.object);
        ctx.api.record(NewEvent::normal("deployment-controller", &d, "ScalingReplicaSet", message));
    }
}

fn condition<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.iter().flatten().find(|c| c.type_.as_deref() == Some(type_))
}

/// A condition whose transition time moves only when its status does, and whose update time
/// moves when anything about it does.
fn set_condition(
    previous: Option<&DeploymentCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> DeploymentCondition {
    let same_status = previous.is_some_and(|p| p.status.as_deref() == Some(status));
    let same_all =
        same_status && previous.is_some_and(|p| p.reason.as_deref() == Some(reason) && p.message.as_deref() == Some(message.as_str()));
    DeploymentCondition {
        type_: Some(type_.into()),
        status: Some(status.into()),
        reason: Some(reason.into()),
        message: Some(message),
        last_transition_time: if same_status { previous.and_then(|p| p.last_transition_time.clone()) } else { Some(now.clone()) },
        last_update_time: if same_all { previous.and_then(|p| p.last_update_time.clone()) } else { Some(now.clone()) },
    }
}

/// A ReplicaSet the Deployment owns, read through the store's shared handle (a sync reads
/// them all and copies one only to change it).
struct OwnedRs(std::rc::Rc<Object>);

impl std::ops::Deref for OwnedRs {
    type Target = ReplicaSet;

    fn deref(&self) -> &ReplicaSet {
        static EMPTY: std::sync::OnceLock<ReplicaSet> = std::sync::OnceLock::new();
        self.0.as_replica_set().unwrap_or_else(|| EMPTY.get_or_init(ReplicaSet::default))
    }
}

/// Whether a ReplicaSet runs `template` (`EqualIgnoreHash`): its own template minus the
/// pod-template-hash label. Compared in place: this runs for every owned ReplicaSet on every
/// sync.
pub fn same_template(rs: &ReplicaSet, template: &PodTemplateSpec) -> bool {
    let Some(t) = rs.spec.template.as_ref() else { return false };
    if t.spec != template.spec {
        return false;
    }
    let (Some(a), Some(b)) = (t.metadata.as_ref(), template.metadata.as_ref()) else {
        return t.metadata.is_none() && template.metadata.is_none();
    };
    let labels_match = match (&a.labels, &b.labels) {
        (None, None) => true,
        (Some(a), Some(b)) => a.iter().filter(|(k, _)| k.as_str() != HASH_LABEL).eq(b.iter()),
        _ => false,
    };
    labels_match && equal_but_labels(a, b)
}

/// Every field but `labels` equal (named one by one, so a new field is not missed).
fn equal_but_labels(a: &ObjectMeta, b: &ObjectMeta) -> bool {
    let ObjectMeta {
        annotations,
        creation_timestamp,
        deletion_grace_period_seconds,
        deletion_timestamp,
        finalizers,
        generate_name,
        generation,
        labels: _,
        managed_fields,
        name,
        namespace,
        owner_references,
        resource_version,
        self_link,
        uid,
    } = a;
    *annotations == b.annotations
        && *creation_timestamp == b.creation_timestamp
        && *deletion_grace_period_seconds == b.deletion_grace_period_seconds
        && *deletion_timestamp == b.deletion_timestamp
        && *finalizers == b.finalizers
        && *generate_name == b.generate_name
        && *generation == b.generation
        && *managed_fields == b.managed_fields
        && *name == b.name
        && *namespace == b.namespace
        && *owner_references == b.owner_references
        && *resource_version == b.resource_version
        && *self_link == b.self_link
        && *uid == b.uid
}

/// A count computed in i64 (no overflow near `replicas: 2147483647`) written back to an int32 field.
fn int32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

fn rs_replicas(rs: &ReplicaSet) -> i64 {
    i64::from(rs.spec.replicas.unwrap_or(1))
}

fn available(rs: &ReplicaSet) -> i64 {
    i64::from(rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0))
}

fn revision(rs: &ReplicaSet) -> Option<i64> {
    rs.metadata.annotations.as_ref()?.get(REVISION)?.parse().ok()
}

/// `GetScaledValueFromIntOrPercent`.
fn scaled(v: Option<&IntOrString>, total: i64, round_up: bool) -> i64 {
    match v {
        None => 0,
        Some(IntOrString::Int(i)) => i64::from(*i),
        Some(IntOrString::String(s)) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            let product = pct.saturating_mul(total);
            if round_up {
                (product + 99) / 100
            } else {
                product / 100
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetStatus;

    #[test]
    fn fenceposts_match_the_reference_table() {
        let cases = [(1, 1, 0), (2, 1, 0), (3, 1, 0), (4, 1, 1), (5, 2, 1), (10, 3, 2)];
        for (replicas, surge, unavailable) in cases {
            let pct = IntOrString::String("25%".into());
            assert_eq!(scaled(Some(&pct), replicas, true), surge, "surge for {replicas}");
            assert_eq!(scaled(Some(&pct), replicas, false), unavailable, "unavailable for {replicas}");
        }
    }

    #[test]
    fn the_largest_replica_count_does_not_overflow_the_rollout_arithmetic() {
        let mut api = ApiServer::new(1);
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: big}\nspec:\n  replicas: 2147483647\n  selector: {matchLabels: {app: big}}\n  template:\n    metadata: {labels: {app: big}}\n    spec: {containers: [{name: c, image: nginx}]}\n";
        let d = api.create(crate::manifest::parse("d.yaml", yaml).objects[0].object.clone()).expect("deployment").key();
        let mut rng = crate::rng::SimRng::stream(1, "test");
        DeploymentController.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &d);
        let rs: Vec<i32> =
            api.store().list("ReplicaSet", None).filter_map(Object::as_replica_set).filter_map(|rs| rs.spec.replicas).collect();
        assert_eq!(rs, vec![i32::MAX]);
        let ann = api.store().list("ReplicaSet", None).next().and_then(|rs| rs.meta().annotations.clone()).unwrap_or_default();
        assert_eq!(ann.get(MAX_REPLICAS).map(String::as_str), Some("2684354559"), "replicas + 25% surge, computed without wrapping");
    }

    #[test]
    fn a_replica_set_that_cannot_create_pods_is_a_replica_failure_of_its_deployment() {
        let mut api = ApiServer::new(1);
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}\n";
        let d = api.create(crate::manifest::parse("d.yaml", yaml).objects[0].object.clone()).expect("deployment").key();
        let mut rng = crate::rng::SimRng::stream(1, "test");
        DeploymentController.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &d);
        let mut rs = api.store().list("ReplicaSet", None).filter_map(Object::as_replica_set).next().cloned().expect("a ReplicaSet");
        rs.status = Some(ReplicaSetStatus {
            conditions: Some(vec![k8s_openapi::api::apps::v1::ReplicaSetCondition {
                type_: Some("ReplicaFailure".into()),
                status: Some("True".into()),
                reason: Some("FailedCreate".into()),
                message: Some("pods \"web-1\" is forbidden".into()),
                last_transition_time: Some(api.timestamp()),
            }]),
            ..Default::default()
        });
        api.update(Object::from(rs.clone()));
        DeploymentController.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &d);
        let conditions = |api: &ApiServer| -> Vec<(String, String)> {
            let d = api.get(&d).and_then(Object::as_deployment).cloned().expect("deployment");
            let all = d.status.and_then(|s| s.conditions).unwrap_or_default();
            all.into_iter().map(|c| (c.type_.unwrap_or_default(), c.reason.unwrap_or_default())).collect()
        };
        assert!(conditions(&api).contains(&("ReplicaFailure".into(), "FailedCreate".into())), "{:?}", conditions(&api));
        rs = api.store().list("ReplicaSet", None).filter_map(Object::as_replica_set).next().cloned().expect("a ReplicaSet");
        rs.status = Some(ReplicaSetStatus::default());
        api.update(Object::from(rs));
        DeploymentController.reconcile(&mut Ctx { api: &mut api, rng: &mut rng }, &d);
        assert!(!conditions(&api).iter().any(|(t, _)| t == "ReplicaFailure"), "removed once the ReplicaSet recovers");
    }

    #[test]
    fn template_hash_is_stable_and_uses_the_safe_alphabet() {
        let t = PodTemplateSpec::default();
        let a = pod_template_hash(&t, None);
        assert_eq!(a, pod_template_hash(&t, None));
        assert_ne!(a, pod_template_hash(&t, Some(1)));
        assert!(a.chars().all(|c| "456789bcdf".contains(c)), "{a}");
    }
}
