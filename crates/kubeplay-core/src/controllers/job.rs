//! The Job controller (`pkg/controller/job`): runs Pods until enough succeed.
//!
//! Active Pods = `min(parallelism, remaining)`; NonIndexed completes when `succeeded ≥
//! completions`, a work queue (no `completions`) when one Pod succeeded and none is left
//! running, Indexed when every index in `[0, completions)` has succeeded (Pods named
//! `<job>-<index>-…`, with the index as annotation, label, `JOB_COMPLETION_INDEX` and
//! hostname). Failures: each Failed Pod (restartPolicy Never) and each container restart
//! (OnFailure) count; more than `backoffLimit` (6) fail the Job (`BackoffLimitExceeded`), as
//! does running past `activeDeadlineSeconds` (`DeadlineExceeded`). After a failure new Pods wait
//! 10 s × 2^(failures since the last success − 1), at most 10 min. `suspend` deletes the active
//! Pods and resumes with a fresh start time. Conditions as v1.37 sets them: `SuccessCriteriaMet`
//! then `Complete`, `FailureTarget` then `Failed` once no Pod is left running.

use std::collections::BTreeSet;

use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, PodFailurePolicy, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::api::{controller_ref, pod_util, Object, ObjectKey};
use crate::apiserver::NewEvent;
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::{from_time, to_time, SimDuration, SimTime};

const COMPONENT: &str = "job-controller";
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
const BACKOFF_BASE: SimDuration = SimDuration(10_000);
const BACKOFF_MAX: SimDuration = SimDuration(600_000);

#[derive(Clone, Copy, Debug, Default)]
pub struct JobController;

/// What a Job's Pods amount to.
#[derive(Default)]
struct Tally<'a> {
    active: Vec<&'a Pod>,
    terminating: i32,
    ready: i32,
    succeeded: i32,
    failed: i32,
    /// Container restarts of active Pods (OnFailure counts them as failures).
    restarts: i32,
    succeeded_indexes: BTreeSet<i32>,
    /// Counted failures per index (Indexed Jobs), and indexes a FailIndex rule failed.
    index_failures: std::collections::BTreeMap<i32, i32>,
    fail_index: BTreeSet<i32>,
    /// A failure a FailJob rule matched: its message.
    fail_job: Option<String>,
    /// Terminal Pods by finish time: (finished at, succeeded).
    finished: Vec<(SimTime, bool)>,
}

fn index_of(pod: &Pod) -> Option<i32> {
    pod.metadata.annotations.as_ref()?.get(COMPLETION_INDEX)?.parse().ok()
}

fn finished_at(pod: &Pod) -> SimTime {
    pod.status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten())
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .map(from_time)
        .max()
        .unwrap_or(SimTime::ZERO)
}

/// What the Job's `podFailurePolicy` makes of a failed Pod (its rules in order; no match:
/// Count).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Count,
    Ignore,
    FailIndex,
    FailJob(String),
}

fn verdict(policy: Option<&PodFailurePolicy>, pod: &Pod) -> Verdict {
    let Some(policy) = policy else { return Verdict::Count };
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    for (i, rule) in policy.rules.iter().enumerate() {
        let message = if let Some(req) = &rule.on_exit_codes {
            // Containers (named, or any) that ended with a non-zero code the rule lists.
            pod.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten().chain(s.init_container_statuses.iter().flatten()))
                .filter(|c| req.container_name.as_deref().is_none_or(|n| n == c.name))
                .find_map(|c| {
                    let code = c.state.as_ref()?.terminated.as_ref()?.exit_code;
                    let listed = req.values.contains(&code);
                    let matches = code != 0 && if req.operator == "NotIn" { !listed } else { listed };
                    matches.then(|| {
                        format!(
                            "Container {} for pod {namespace}/{name} failed with exit code {code} matching {} rule at index {i}",
                            c.name, rule.action
                        )
                    })
                })
        } else {
            rule.on_pod_conditions.iter().flatten().find_map(|pattern| {
                let wanted = pattern.status.as_deref().unwrap_or("True");
                pod_util::condition(pod, &pattern.type_)
                    .filter(|c| c.status == wanted)
                    .map(|c| format!("Pod {namespace}/{name} has condition {} matching {} rule at index {i}", c.type_, rule.action))
            })
        };
        let Some(message) = message else { continue };
        return match rule.action.as_str() {
            "Ignore" => Verdict::Ignore,
            "FailIndex" => Verdict::FailIndex,
            "FailJob" => Verdict::FailJob(message),
            _ => Verdict::Count,
        };
    }
    Verdict::Count
}

fn tally<'a>(pods: &[&'a Pod], policy: Option<&PodFailurePolicy>) -> Tally<'a> {
    let mut t = Tally::default();
    for pod in pods {
        match pod_util::phase(pod) {
            "Succeeded" => {
                t.succeeded += 1;
                t.succeeded_indexes.extend(index_of(pod));
                t.finished.push((finished_at(pod), true));
            }
            "Failed" => match verdict(policy, pod) {
                // An ignored failure is not counted and does not delay the next Pod.
                Verdict::Ignore => {}
                v => {
                    t.failed += 1;
                    t.finished.push((finished_at(pod), false));
                    if let Some(i) = index_of(pod) {
                        *t.index_failures.entry(i).or_default() += 1;
                        if v == Verdict::FailIndex {
                            t.fail_index.insert(i);
                        }
                    }
                    if let Verdict::FailJob(message) = v {
                        t.fail_job.get_or_insert(message);
                    }
                }
            },
            _ if pod.metadata.deletion_timestamp.is_some() => t.terminating += 1,
            _ => {
                t.active.push(pod);
                t.ready += i32::from(pod_util::is_ready(pod));
                t.restarts += pod.status.iter().flat_map(|s| s.container_statuses.iter().flatten()).map(|c| c.restart_count).sum::<i32>();
            }
        }
    }
    t.finished.sort();
    t
}

fn condition(status: &JobStatus, ty: &str) -> Option<bool> {
    status.conditions.iter().flatten().find(|c| c.type_ == ty).map(|c| c.status == "True")
}

fn set_condition(status: &mut JobStatus, ty: &str, value: bool, reason: &str, message: &str, now: &Time) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let text = if value { "True" } else { "False" };
    match conditions.iter_mut().find(|c| c.type_ == ty) {
        Some(c) if c.status == text && c.reason.as_deref() == Some(reason) => {}
        Some(c) => {
            c.status = text.into();
            c.reason = Some(reason.into());
            c.message = Some(message.into());
            c.last_probe_time = Some(now.clone());
            c.last_transition_time = Some(now.clone());
        }
        None => conditions.push(JobCondition {
            type_: ty.into(),
            status: text.into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_probe_time: Some(now.clone()),
            last_transition_time: Some(now.clone()),
        }),
    }
}

/// `0-2,4`: the interval notation of `status.completedIndexes`.
pub fn interval_list(indexes: &BTreeSet<i32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run: Option<(i32, i32)> = None;
    for &i in indexes {
        run = match run {
            Some((a, b)) if i == b + 1 => Some((a, i)),
            Some((a, b)) => {
                parts.push(if a == b { a.to_string() } else { format!("{a}-{b}") });
                Some((i, i))
            }
            None => Some((i, i)),
        };
    }
    if let Some((a, b)) = run {
        parts.push(if a == b { a.to_string() } else { format!("{a}-{b}") });
    }
    parts.join(",")
}

/// `0-2,4` back into indexes.
pub fn parse_interval_list(text: &str) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b.min(a.saturating_add(100_000)));
                }
            }
            None => out.extend(part.parse::<i32>().ok()),
        }
    }
    out
}

/// A Pod from the Job's template (for an Indexed Job, for one index).
fn pod_from_template(job: &Job, owner: &Object, index: Option<i32>, index_failures: Option<i32>) -> Object {
    let name = job.metadata.name.clone().unwrap_or_default();
    let template = job.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    let generate_name = match index {
        Some(i) => {
            labels.insert(COMPLETION_INDEX.into(), i.to_string());
            annotations.insert(COMPLETION_INDEX.into(), i.to_string());
            if let Some(n) = index_failures {
                annotations.insert("batch.kubernetes.io/job-index-failure-count".into(), n.to_string());
            }
            spec.hostname.get_or_insert_with(|| format!("{name}-{i}"));
            let env = EnvVar {
                name: "JOB_COMPLETION_INDEX".into(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        api_version: Some("v1".into()),
                        field_path: format!("metadata.labels['{COMPLETION_INDEX}']"),
                    }),
                    ..Default::default()
                }),
                value: None,
            };
            for c in spec.containers.iter_mut().chain(spec.init_containers.iter_mut().flatten()) {
                c.env.get_or_insert_with(Vec::new).push(env.clone());
            }
            format!("{name}-{i}-")
        }
        None => format!("{name}-"),
    };
    Object::from(Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: job.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            owner_references: Some(vec![controller_ref(owner)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    })
}

impl Component for JobController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Job").owns("Pod")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(object) = ctx.api.get_rc(key) else { return Action::AwaitChange };
        let Some(job) = object.as_job().cloned() else { return Action::AwaitChange };
        if job.metadata.deletion_timestamp.is_some() {
            return Action::AwaitChange; // Being deleted (in the foreground): its Pods go, none come.
        }
        let uid = job.metadata.uid.clone().unwrap_or_default();
        let spec = job.spec.clone().unwrap_or_default();
        let old_status = job.status.clone().unwrap_or_default();
        if condition(&old_status, "Complete") == Some(true) || condition(&old_status, "Failed") == Some(true) {
            return Action::AwaitChange;
        }
        let selector = spec.selector.as_ref().and_then(|s| s.match_labels.clone()).unwrap_or_default();
        let owned: Vec<Object> = ctx
            .api
            .store()
            .pods_matching(&key.namespace, &selector)
            .into_iter()
            .filter(|o| pod_util::controlled_by(o.meta(), &uid))
            .cloned()
            .collect();
        let pods: Vec<&Pod> = owned.iter().filter_map(Object::as_pod).collect();
        let t = tally(&pods, spec.pod_failure_policy.as_ref());
        let now = ctx.api.now();
        let stamp = to_time(now);
        let mut status = old_status.clone();
        let mut requeue: Option<SimDuration> = None;
        // Counts never go down (a deleted Pod stays counted).
        status.succeeded = Some(t.succeeded.max(old_status.succeeded.unwrap_or(0)));
        status.failed = Some(t.failed.max(old_status.failed.unwrap_or(0)));
        status.uncounted_terminated_pods.get_or_insert_with(UncountedTerminatedPods::default);
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        if indexed {
            let done = interval_list(&t.succeeded_indexes);
            status.completed_indexes = (!done.is_empty()).then_some(done);
        }
        // backoffLimitPerIndex: an index whose failures pass the limit (or that a FailIndex rule
        // failed) is failed for good, and not run again.
        let per_index = spec.backoff_limit_per_index.filter(|_| indexed);
        let failed_indexes: BTreeSet<i32> = match per_index {
            Some(limit) => t
                .index_failures
                .iter()
                .filter(|(i, n)| **n > limit || t.fail_index.contains(i))
                .map(|(i, _)| *i)
                .filter(|i| !t.succeeded_indexes.contains(i))
                .collect(),
            None => BTreeSet::new(),
        };
        if per_index.is_some() {
            status.failed_indexes = Some(interval_list(&failed_indexes));
        }

        // Suspension.
        if spec.suspend == Some(true) {
            for pod in &t.active {
                self.delete_pod(ctx, pod);
            }
            if condition(&status, "Suspended") != Some(true) {
                set_condition(&mut status, "Suspended", true, "JobSuspended", "Job suspended", &stamp);
                ctx.api.record(NewEvent::normal(COMPONENT, &object, "Suspended", "Job suspended".into()));
            }
            status.start_time = None;
            status.active = Some(0);
            status.ready = Some(0);
            status.terminating = Some(t.terminating + t.active.len() as i32);
            self.write(ctx, &job, status);
            return Action::AwaitChange;
        }
        if condition(&status, "Suspended") == Some(true) {
            set_condition(&mut status, "Suspended", false, "JobResumed", "Job resumed", &stamp);
            ctx.api.record(NewEvent::normal(COMPONENT, &object, "Resumed", "Job resumed".into()));
            status.start_time = None;
        }
        let start = match &status.start_time {
            Some(s) => from_time(s),
            None => {
                status.start_time = Some(stamp.clone());
                now
            }
        };

        // Failure: the deadline first, then the backoff limit.
        let on_failure = spec.template.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) == Some("OnFailure");
        let failures = status.failed.unwrap_or(0) + if on_failure { t.restarts } else { 0 };
        let deadline = spec.active_deadline_seconds.map(|s| start.plus(SimDuration::from_secs(s.max(0) as u64)));
        let every_index_done = match (per_index, spec.completions) {
            (Some(_), Some(c)) => {
                !failed_indexes.is_empty() && (0..c).all(|i| t.succeeded_indexes.contains(&i) || failed_indexes.contains(&i))
            }
            _ => false,
        };
        let too_many_failed_indexes = spec.max_failed_indexes.is_some_and(|m| failed_indexes.len() as i32 > m);
        let failure: Option<(String, String)> = match condition(&status, "FailureTarget") {
            Some(true) => status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == "FailureTarget")
                .map(|c| (c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default())),
            _ if t.fail_job.is_some() => Some(("PodFailurePolicy".into(), t.fail_job.clone().unwrap_or_default())),
            _ if deadline.is_some_and(|d| now >= d) => {
                Some(("DeadlineExceeded".into(), "Job was active longer than specified deadline".into()))
            }
            _ if too_many_failed_indexes => {
                Some(("MaxFailedIndexesExceeded".into(), "Job has exceeded the specified maximal number of failed indexes".into()))
            }
            _ if every_index_done => Some(("FailedIndexes".into(), "Job has failed indexes".into())),
            _ if per_index.is_none() && failures > spec.backoff_limit.unwrap_or(6) => {
                Some(("BackoffLimitExceeded".into(), "Job has reached the specified backoff limit".into()))
            }
            _ => None,
        };
        if let Some((reason, message)) = failure {
            let message = message.as_str();
            if condition(&status, "FailureTarget") != Some(true) {
                set_condition(&mut status, "FailureTarget", true, &reason, message, &stamp);
                ctx.api.record(NewEvent::warning(COMPONENT, &object, &reason, message.into()));
            }
            for pod in &t.active {
                self.delete_pod(ctx, pod);
            }
            let left = t.terminating + t.active.len() as i32;
            if left == 0 {
                set_condition(&mut status, "Failed", true, &reason, message, &stamp);
            }
            status.active = Some(0);
            status.ready = Some(0);
            status.terminating = Some(left);
            self.write(ctx, &job, status);
            return Action::AwaitChange;
        }

        // Success.
        let completions = spec.completions;
        let succeeded = status.succeeded.unwrap_or(0);
        let complete = match (indexed, completions) {
            (true, Some(c)) => (0..c).all(|i| t.succeeded_indexes.contains(&i)),
            (false, Some(c)) => succeeded >= c,
            (_, None) => succeeded > 0 && t.active.is_empty(),
        };
        let reached = match completions {
            Some(_) => complete,
            None => succeeded > 0,
        };
        // successPolicy (Indexed): the first rule whose indexes have succeeded (all of them,
        // or `succeededCount` of them) ends the Job early.
        let by_policy = match (indexed, spec.success_policy.as_ref()) {
            (true, Some(policy)) => policy.rules.iter().position(|rule| {
                let listed: Option<BTreeSet<i32>> = rule.succeeded_indexes.as_deref().map(parse_interval_list);
                let done = match &listed {
                    Some(set) => set.intersection(&t.succeeded_indexes).count(),
                    None => t.succeeded_indexes.len(),
                };
                match (rule.succeeded_count, &listed) {
                    (Some(n), _) => done as i32 >= n,
                    (None, Some(set)) => !set.is_empty() && done == set.len(),
                    (None, None) => false,
                }
            }),
            _ => None,
        };
        let (reason, message) = match by_policy {
            Some(i) if !complete => ("SuccessPolicy", format!("Matched rules at index {i}")),
            _ => ("CompletionsReached", "Reached expected number of succeeded pods".to_string()),
        };
        if complete || (reached && completions.is_some()) || by_policy.is_some() {
            set_condition(&mut status, "SuccessCriteriaMet", true, reason, &message, &stamp);
            for pod in &t.active {
                self.delete_pod(ctx, pod);
            }
            let left = t.terminating + t.active.len() as i32;
            if left == 0 && condition(&status, "Complete") != Some(true) {
                set_condition(&mut status, "Complete", true, reason, &message, &stamp);
                status.completion_time = Some(stamp.clone());
                ctx.api.record(NewEvent::normal(COMPONENT, &object, "Completed", "Job completed".into()));
            }
            status.active = Some(0);
            status.ready = Some(0);
            status.terminating = Some(left);
            self.write(ctx, &job, status);
            return Action::AwaitChange;
        }

        // How many Pods should run, and which indexes.
        let parallelism = spec.parallelism.unwrap_or(1).max(0);
        let active = t.active.len() as i32;
        let wanted = match (indexed, completions) {
            (true, Some(c)) => {
                let running: BTreeSet<i32> = t.active.iter().filter_map(|p| index_of(p)).collect();
                let pending = (0..c)
                    .filter(|i| !t.succeeded_indexes.contains(i) && !failed_indexes.contains(i) && !running.contains(i))
                    .count() as i32;
                parallelism.min(active + pending)
            }
            (false, Some(c)) => parallelism.min(c - succeeded).max(0),
            (_, None) if succeeded > 0 => active,
            (_, None) => parallelism,
        };
        if active > wanted {
            // The newest go first.
            let mut extra = t.active.clone();
            extra.sort_by_key(|p| std::cmp::Reverse(p.metadata.creation_timestamp.as_ref().map(from_time)));
            for pod in extra.into_iter().take((active - wanted) as usize) {
                self.delete_pod(ctx, pod);
            }
        } else if active < wanted {
            // Back-off after failures: 10 s × 2^(failures since the last success − 1).
            let since_success = t.finished.iter().rev().take_while(|(_, ok)| !ok).count() as u32;
            let last_failure = t.finished.iter().rev().find(|(_, ok)| !ok).map(|(at, _)| *at);
            let wait = match (since_success, last_failure) {
                (0, _) | (_, None) => None,
                (n, Some(at)) => {
                    let delay = SimDuration(BACKOFF_BASE.0.saturating_mul(1u64 << (n - 1).min(20))).min(BACKOFF_MAX);
                    Some(at.plus(delay)).filter(|due| *due > now)
                }
            };
            match wait {
                Some(due) => requeue = Some(due.since(now)),
                None => {
                    let mut free: Vec<Option<i32>> = match (indexed, completions) {
                        (true, Some(c)) => {
                            let running: BTreeSet<i32> = t.active.iter().filter_map(|p| index_of(p)).collect();
                            (0..c)
                                .filter(|i| !t.succeeded_indexes.contains(i) && !failed_indexes.contains(i) && !running.contains(i))
                                .map(Some)
                                .collect()
                        }
                        _ => vec![None; (wanted - active) as usize],
                    };
                    free.truncate((wanted - active) as usize);
                    for index in free {
                        let failures = per_index.map(|_| index.and_then(|i| t.index_failures.get(&i).copied()).unwrap_or(0));
                        match ctx.api.create(pod_from_template(&job, &object, index, failures)) {
                            Ok(pod) => {
                                ctx.api.record(NewEvent::normal(
                                    COMPONENT,
                                    &object,
                                    "SuccessfulCreate",
                                    format!("Created pod: {}", pod.name()),
                                ));
                            }
                            Err(e) => {
                                ctx.api.record(NewEvent::warning(COMPONENT, &object, "FailedCreate", format!("Error creating: {e}")));
                                requeue = Some(SimDuration::from_secs(1));
                                break;
                            }
                        }
                    }
                }
            }
        }
        if let Some(d) = deadline {
            let left = d.since(now);
            requeue = Some(requeue.map_or(left, |r| r.min(left)));
        }
        // Pods created this sync count as active once their creation is observed.
        status.active = Some(active);
        status.ready = Some(t.ready);
        status.terminating = Some(t.terminating);
        self.write(ctx, &job, status);
        match requeue {
            Some(after) => Action::RequeueAfter(after.max(SimDuration(1))),
            None => Action::AwaitChange,
        }
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

impl JobController {
    fn delete_pod(&self, ctx: &mut Ctx<'_>, pod: &Pod) {
        let key = ObjectKey::new("Pod", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""));
        if ctx.api.delete(&key) {
            if let Some(owner) = pod.metadata.owner_references.iter().flatten().next() {
                let job = ObjectKey::new("Job", &key.namespace, &owner.name);
                if let Some(object) = ctx.api.get_rc(&job) {
                    ctx.api.record(NewEvent::normal(COMPONENT, &object, "SuccessfulDelete", format!("Deleted pod: {}", key.name)));
                }
            }
        }
    }

    fn write(&self, ctx: &mut Ctx<'_>, job: &Job, mut status: JobStatus) {
        // `active`, `succeeded` and `failed` are plain ints in the API (omitted when 0);
        // `ready` and `terminating` are pointers (shown as 0).
        for count in [&mut status.active, &mut status.succeeded, &mut status.failed] {
            if *count == Some(0) {
                *count = None;
            }
        }
        if job.status.as_ref() == Some(&status) {
            return;
        }
        let mut job = job.clone();
        job.status = Some(status);
        ctx.api.update(Object::from(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_indexes_use_interval_notation() {
        let set = |v: &[i32]| v.iter().copied().collect::<BTreeSet<i32>>();
        assert_eq!(interval_list(&set(&[0, 1, 2, 4])), "0-2,4");
        assert_eq!(interval_list(&set(&[3])), "3");
        assert_eq!(interval_list(&set(&[])), "");
        assert_eq!(interval_list(&set(&[1, 3, 5, 6, 7, 9])), "1,3,5-7,9");
    }
}
