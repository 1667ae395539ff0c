//! The CronJob controller (`pkg/controller/cronjob`, the v2 controller): at each scheduled time
//! a Job `<cronjob>-<minutes since the Unix epoch>` from the `jobTemplate`, annotated with its
//! scheduled time and owned by the CronJob.
//!
//! The most recent unmet time since the last schedule (or creation) is the one that runs; with
//! more than 100 missed times the controller warns `TooManyMissedTimes`; past
//! `startingDeadlineSeconds` a run is skipped (`MissSchedule`). `concurrencyPolicy`: Allow runs
//! Jobs side by side, Forbid skips a run while one is active (`JobAlreadyActive`), Replace
//! deletes the active ones first. `suspend` stops new runs. Finished Jobs beyond
//! `successfulJobsHistoryLimit` (3) and `failedJobsHistoryLimit` (1) are deleted, oldest first.
//! `status.active`, `lastScheduleTime` and `lastSuccessfulTime` as upstream keeps them.

use k8s_openapi::api::batch::v1::{CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::cron::{offset_of, Schedule};
use crate::api::{controller_ref, Object, ObjectKey};
use crate::apiserver::NewEvent;
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::{from_time, to_time, SimDuration, SimTime, EPOCH_UNIX_SECONDS};

const COMPONENT: &str = "cronjob-controller";
const SCHEDULED_AT: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Missed start times counted at most before the controller gives up counting.
const MAX_MISSED: usize = 100;

#[derive(Clone, Copy, Debug, Default)]
pub struct CronJobController;

/// How a Job ended, if it has: (succeeded, when).
fn finished(job: &Job) -> Option<(bool, SimTime)> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    let c = conditions.iter().find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")?;
    Some((c.type_ == "Complete", c.last_transition_time.as_ref().map_or(SimTime::ZERO, from_time)))
}

fn reference(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        resource_version: job.metadata.resource_version.clone(),
        uid: job.metadata.uid.clone(),
        field_path: None,
    }
}

/// RFC 3339 with an explicit offset, as the scheduled-timestamp annotation is written.
fn rfc3339(t: SimTime) -> String {
    to_time(t).0.to_string()
}

impl Component for CronJobController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("CronJob").owns("Job")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(object) = ctx.api.get_rc(key) else { return Action::AwaitChange };
        let Some(cj) = object.as_cron_job().cloned() else { return Action::AwaitChange };
        if cj.metadata.deletion_timestamp.is_some() {
            return Action::AwaitChange;
        }
        let uid = cj.metadata.uid.clone().unwrap_or_default();
        let spec = cj.spec.clone();
        let now = ctx.api.now();
        let mut status = cj.status.clone().unwrap_or_default();
        let jobs: Vec<Job> = ctx.api.store().dependents(&uid).filter_map(Object::as_job).cloned().collect();

        // The active list, and what finished since.
        let mut active: Vec<ObjectReference> = Vec::new();
        for job in &jobs {
            let name = job.metadata.name.clone().unwrap_or_default();
            let was_active = status.active.iter().flatten().any(|r| r.uid == job.metadata.uid);
            match finished(job) {
                None if job.metadata.deletion_timestamp.is_none() => active.push(reference(job)),
                None => {}
                Some((succeeded, at)) => {
                    if was_active {
                        let condition = if succeeded { "Complete" } else { "Failed" };
                        ctx.api.record(NewEvent::normal(
                            COMPONENT,
                            &object,
                            "SawCompletedJob",
                            format!("Saw completed job: {name}, condition: {condition}"),
                        ));
                    }
                    if succeeded && status.last_successful_time.as_ref().is_none_or(|t| from_time(t) < at) {
                        status.last_successful_time = Some(to_time(at));
                    }
                }
            }
        }
        status.active = (!active.is_empty()).then_some(active);

        // History limits: the oldest finished Jobs beyond them go.
        for (keep_succeeded, limit) in
            [(true, spec.successful_jobs_history_limit.unwrap_or(3)), (false, spec.failed_jobs_history_limit.unwrap_or(1))]
        {
            let mut done: Vec<(SimTime, String)> = jobs
                .iter()
                .filter(|j| j.metadata.deletion_timestamp.is_none())
                .filter_map(|j| {
                    finished(j).filter(|(ok, _)| *ok == keep_succeeded).map(|_| {
                        let started = j.status.as_ref().and_then(|s| s.start_time.as_ref()).map_or(SimTime::ZERO, from_time);
                        (started, j.metadata.name.clone().unwrap_or_default())
                    })
                })
                .collect();
            done.sort();
            let excess = done.len().saturating_sub(limit.max(0) as usize);
            for (_, name) in done.into_iter().take(excess) {
                if ctx.api.delete(&ObjectKey::new("Job", &key.namespace, &name)) {
                    ctx.api.record(NewEvent::normal(COMPONENT, &object, "SuccessfulDelete", format!("Deleted job {name}")));
                }
            }
        }

        let write = |ctx: &mut Ctx<'_>, status: CronJobStatus| {
            if cj.status.as_ref() != Some(&status) {
                let mut cj = cj.clone();
                cj.status = Some(status);
                ctx.api.update(Object::from(cj));
            }
        };
        if spec.suspend == Some(true) {
            write(ctx, status);
            return Action::AwaitChange;
        }
        let Ok(schedule) = Schedule::parse(&spec.schedule) else {
            ctx.api.record(NewEvent::warning(
                COMPONENT,
                &object,
                "UnparseableSchedule",
                format!("unparseable schedule: {:?}", spec.schedule),
            ));
            write(ctx, status);
            return Action::AwaitChange;
        };
        // Zones kubeplay cannot model (daylight saving) run in UTC; `kubectl apply` says so.
        let offset = spec.time_zone.as_deref().and_then(offset_of).unwrap_or(0);
        let since = status.last_schedule_time.as_ref().or(cj.metadata.creation_timestamp.as_ref()).map_or(SimTime::ZERO, from_time);
        // The unmet times since then: the most recent runs.
        let mut missed = 0usize;
        let mut latest = None;
        let mut t = since;
        while let Some(next) = schedule.next_after(t, offset).filter(|n| *n <= now) {
            missed += 1;
            latest = Some(next);
            t = next;
            if missed > MAX_MISSED {
                // Jump to the last one before now without counting further.
                let mut probe = next;
                while let Some(n) = schedule.next_after(probe, offset).filter(|n| *n <= now) {
                    probe = n;
                }
                latest = Some(probe);
                break;
            }
        }
        if missed > MAX_MISSED {
            ctx.api.record(NewEvent::warning(
                COMPONENT,
                &object,
                "TooManyMissedTimes",
                format!("too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew"),
            ));
        }
        let next_run = |after: SimTime| schedule.next_after(after, offset).map(|n| n.since(now).max(SimDuration(1)));
        let Some(scheduled) = latest else {
            write(ctx, status);
            return next_run(now).map_or(Action::AwaitChange, Action::RequeueAfter);
        };
        let too_late = spec.starting_deadline_seconds.is_some_and(|d| scheduled.plus(SimDuration::from_secs(d.max(0) as u64)) < now);
        if too_late {
            let when = scheduled.rfc1123z();
            ctx.api.record(NewEvent::warning(COMPONENT, &object, "MissSchedule", format!("Missed scheduled time to start a job: {when}")));
            write(ctx, status);
            return next_run(now).map_or(Action::AwaitChange, Action::RequeueAfter);
        }
        let minutes = (EPOCH_UNIX_SECONDS + (scheduled.ms() / 1000) as i64) / 60;
        let job_name = format!("{}-{minutes}", key.name);
        if status.active.iter().flatten().any(|r| r.name.as_deref() == Some(job_name.as_str())) {
            write(ctx, status);
            return next_run(now).map_or(Action::AwaitChange, Action::RequeueAfter);
        }
        let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
        if policy == "Forbid" && status.active.as_ref().is_some_and(|a| !a.is_empty()) {
            ctx.api.record(NewEvent::normal(
                COMPONENT,
                &object,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid".into(),
            ));
            write(ctx, status);
            return next_run(now).map_or(Action::AwaitChange, Action::RequeueAfter);
        }
        if policy == "Replace" {
            for r in status.active.take().unwrap_or_default() {
                let name = r.name.unwrap_or_default();
                if ctx.api.delete(&ObjectKey::new("Job", &key.namespace, &name)) {
                    ctx.api.record(NewEvent::normal(COMPONENT, &object, "SuccessfulDelete", format!("Deleted job {name}")));
                }
            }
        }
        let template = spec.job_template.clone();
        let meta = template.metadata.unwrap_or_default();
        let mut annotations = meta.annotations.unwrap_or_default();
        annotations.insert(SCHEDULED_AT.into(), rfc3339(scheduled));
        let job = Job {
            metadata: ObjectMeta {
                name: Some(job_name.clone()),
                namespace: Some(key.namespace.clone()),
                labels: meta.labels,
                annotations: Some(annotations),
                owner_references: Some(vec![controller_ref(&object)]),
                ..Default::default()
            },
            spec: template.spec,
            status: None,
        };
        match ctx.api.create(Object::from(job)) {
            Ok(created) => {
                ctx.api.record(NewEvent::normal(COMPONENT, &object, "SuccessfulCreate", format!("Created job {job_name}")));
                if let Some(job) = created.as_job() {
                    status.active.get_or_insert_with(Vec::new).push(reference(job));
                }
                status.last_schedule_time = Some(to_time(scheduled));
            }
            Err(e) if e.contains("already exists") => status.last_schedule_time = Some(to_time(scheduled)),
            Err(e) => ctx.api.record(NewEvent::warning(COMPONENT, &object, "FailedCreate", format!("Error creating job: {e}"))),
        }
        write(ctx, status);
        next_run(now).map_or(Action::AwaitChange, Action::RequeueAfter)
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}
