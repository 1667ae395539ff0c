//! A simulated ingress-nginx controller, the `nginx` IngressClass (the cluster's default): it
//! takes every Ingress of its class (or of no class), records `Sync` — "Scheduled for sync" —
//! and after 1–3 s publishes its own address (its LoadBalancer's, 203.0.113.2) in the
//! Ingress's status. Requests to that address are routed by the Ingress rules in the network
//! module (`network/ingress.rs`).

use k8s_openapi::api::networking::v1::{Ingress, IngressLoadBalancerIngress, IngressLoadBalancerStatus, IngressStatus};

use crate::api::{Object, ObjectKey};
use crate::apiserver::NewEvent;
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::{SimDuration, SimTime};

use crate::api::ingress::{served_by_nginx as serves, NGINX_ADDRESS as ADDRESS};

const COMPONENT: &str = "nginx-ingress-controller";

#[derive(Clone, Debug, Default)]
pub struct IngressNginx {
    /// Ingresses being synced, and when their address will be published.
    syncing: std::collections::BTreeMap<ObjectKey, SimTime>,
}

fn published(ing: &Ingress) -> bool {
    ing.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_ref()).is_some_and(|i| !i.is_empty())
}

impl Component for IngressNginx {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Ingress")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(object) = ctx.api.get_rc(key) else {
            self.syncing.remove(key);
            return Action::AwaitChange;
        };
        let Some(ing) = object.as_ingress() else { return Action::AwaitChange };
        if !serves(ing) || published(ing) {
            return Action::AwaitChange;
        }
        let now = ctx.api.now();
        match self.syncing.get(key) {
            None => {
                let after = SimDuration(ctx.rng.range_inclusive(1_000, 3_000));
                self.syncing.insert(key.clone(), now.plus(after));
                ctx.api.record(NewEvent::normal(COMPONENT, &object, "Sync", "Scheduled for sync".into()));
                return Action::RequeueAfter(after);
            }
            Some(due) if *due > now => return Action::RequeueAfter(due.since(now)),
            Some(_) => {}
        }
        self.syncing.remove(key);
        let mut ing = ing.clone();
        ing.status = Some(IngressStatus {
            load_balancer: Some(IngressLoadBalancerStatus {
                ingress: Some(vec![IngressLoadBalancerIngress { ip: Some(ADDRESS.into()), ..Default::default() }]),
            }),
        });
        let written = ctx.api.update(Object::from(ing));
        ctx.api.record(NewEvent::normal(COMPONENT, &written, "Sync", "Scheduled for sync".into()));
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(self.clone())
    }
}
