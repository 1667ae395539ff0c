//! The disruption controller (`pkg/controller/disruption`): a PodDisruptionBudget's status —
//! the Pods it covers (`expectedPods`), how many are healthy (Ready), how many must stay
//! (`desiredHealthy`, from `minAvailable` or `maxUnavailable`, percentages rounded up), and so
//! how many voluntary disruptions (evictions) it allows now.

use serde_json::{json, Value};

use crate::api::pod_util;
use crate::api::{Object, ObjectKey};
use crate::apiserver::{ApiServer, Change};
use crate::runtime::{Action, Component, Ctx, Watches};

#[derive(Clone, Copy, Debug, Default)]
pub struct DisruptionController;

/// The budgets in a Pod's namespace whose selector matches it.
fn budgets_of_pod(api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
    let labels = change.object.meta().labels.as_ref();
    for pdb in api.store().list("PodDisruptionBudget", Some(&change.key.namespace)) {
        if crate::api::disruption::selector(pdb).is_some_and(|s| s.matches(labels)) {
            out.push(pdb.key());
        }
    }
}

/// An int or percentage of `total`, percentages rounded up (`GetScaledValueFromIntOrPercent`).
fn scaled(v: &Value, total: i64) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let pct: i64 = s.strip_suffix('%')?.parse().ok()?;
            Some((pct * total + 99) / 100)
        }
        _ => None,
    }
}

impl Component for DisruptionController {
    fn name(&self) -> &'static str {
        "disruption-controller"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("PodDisruptionBudget").watches("Pod", budgets_of_pod)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(Object::Stored(pdb)) = ctx.api.get(key).cloned() else { return Action::AwaitChange };
        let Some(selector) = crate::api::disruption::selector(&Object::Stored(pdb.clone())) else { return Action::AwaitChange };
        let pods: Vec<Object> = ctx
            .api
            .store()
            .list("Pod", Some(&key.namespace))
            .filter(|p| selector.matches(p.meta().labels.as_ref()))
            .filter(|p| p.as_pod().is_some_and(|p| !pod_util::is_terminal(p)))
            .cloned()
            .collect();
        let expected = pods.len() as i64;
        let healthy =
            pods.iter().filter_map(Object::as_pod).filter(|p| p.metadata.deletion_timestamp.is_none() && pod_util::is_ready(p)).count()
                as i64;
        let spec = pdb.body.get("spec").cloned().unwrap_or_default();
        let desired = match (spec.get("minAvailable"), spec.get("maxUnavailable")) {
            (Some(min), _) => scaled(min, expected).unwrap_or(0),
            (None, Some(max)) => (expected - scaled(max, expected).unwrap_or(0)).max(0),
            (None, None) => expected,
        };
        let allowed = (healthy - desired).max(0);
        let previous = pdb.body.get("status").cloned().unwrap_or_default();
        let allowed_before = previous.get("disruptionsAllowed").and_then(Value::as_i64);
        let condition_time = previous
            .get("conditions")
            .and_then(|c| c.get(0))
            .filter(|c| c.get("status").and_then(Value::as_str) == Some(if allowed > 0 { "True" } else { "False" }))
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(ctx.api.timestamp()));
        let status = json!({
            "conditions": [{
                "lastTransitionTime": condition_time,
                "message": "",
                "observedGeneration": pdb.metadata.generation.unwrap_or(1),
                "reason": if allowed > 0 { "SufficientPods" } else { "InsufficientPods" },
                "status": if allowed > 0 { "True" } else { "False" },
                "type": "DisruptionAllowed",
            }],
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "disruptionsAllowed": allowed,
            "expectedPods": expected,
            "observedGeneration": pdb.metadata.generation.unwrap_or(1),
        });
        if previous != status || allowed_before != Some(allowed) {
            let mut updated = pdb.clone();
            updated.body.insert("status".into(), status);
            ctx.api.update(Object::Stored(updated));
        }
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}
