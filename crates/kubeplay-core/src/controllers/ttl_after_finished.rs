//! The TTL-after-finished controller (`pkg/controller/ttlafterfinished`): a Job with
//! `ttlSecondsAfterFinished` is deleted that long after it finished (its `Complete` or
//! `Failed` condition), its Pods with it (the garbage collector's background cascade).

use k8s_openapi::api::batch::v1::Job;

use crate::api::{Object, ObjectKey};
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::{from_time, SimDuration, SimTime};

#[derive(Clone, Copy, Debug, Default)]
pub struct TtlAfterFinished;

/// When the Job finished, if it has.
fn finished_at(job: &Job) -> Option<SimTime> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    let done = conditions.iter().find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")?;
    done.last_transition_time.as_ref().map(from_time)
}

impl Component for TtlAfterFinished {
    fn name(&self) -> &'static str {
        "ttl-after-finished-controller"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Job")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(job) = ctx.api.get(key).and_then(Object::as_job) else { return Action::AwaitChange };
        let (Some(ttl), Some(finished)) = (job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished), finished_at(job)) else {
            return Action::AwaitChange;
        };
        if job.metadata.deletion_timestamp.is_some() {
            return Action::AwaitChange;
        }
        let due = finished.plus(SimDuration::from_secs(ttl.max(0) as u64));
        let now = ctx.api.now();
        if now < due {
            return Action::RequeueAfter(due.since(now));
        }
        ctx.api.delete(key);
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}
