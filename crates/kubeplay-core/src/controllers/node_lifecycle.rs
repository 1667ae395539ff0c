//! The node lifecycle controller's taint-by-condition part (`pkg/controller/nodelifecycle`):
//! a cordoned node (`spec.unschedulable`) carries the `node.kubernetes.io/unschedulable`
//! NoSchedule taint, and loses it when uncordoned.

use k8s_openapi::api::core::v1::Taint;

use crate::api::{Object, ObjectKey};
use crate::runtime::{Action, Component, Ctx, Watches};

const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

#[derive(Clone, Copy, Debug, Default)]
pub struct NodeLifecycle;

impl Component for NodeLifecycle {
    fn name(&self) -> &'static str {
        "node-lifecycle-controller"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Node")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(node) = ctx.api.get(key).and_then(Object::as_node) else { return Action::AwaitChange };
        let cordoned = node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
        let taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
        let tainted = taints.iter().any(|t| t.key == UNSCHEDULABLE && t.effect == "NoSchedule");
        if cordoned == tainted {
            return Action::AwaitChange;
        }
        let mut node = node.clone();
        let mut next: Vec<Taint> = taints.into_iter().filter(|t| t.key != UNSCHEDULABLE).collect();
        if cordoned {
            next.push(Taint { key: UNSCHEDULABLE.into(), effect: "NoSchedule".into(), time_added: Some(ctx.api.timestamp()), value: None });
        }
        node.spec.get_or_insert_with(Default::default).taints = (!next.is_empty()).then_some(next);
        ctx.api.update(Object::from(node));
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}
