//! The cloud controller manager's service controller, with a simulated cloud: a Service of
//! `type: LoadBalancer` (and no other `loadBalancerClass`) gets a load balancer — `Ensuring
//! load balancer`, then after 2–5 s its address in `status.loadBalancer.ingress` (`<pending>`
//! until then) and `Ensured load balancer`. Addresses come from 203.0.113.0/24 (a documentation
//! range: nothing outside the playground has them). A Service that stops being a LoadBalancer
//! gives its load balancer back.

use k8s_openapi::api::core::v1::{LoadBalancerIngress, LoadBalancerStatus, Service};

use crate::api::{Object, ObjectKey};
use crate::apiserver::NewEvent;
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::SimDuration;

const COMPONENT: &str = "service-controller";

#[derive(Clone, Debug, Default)]
pub struct ServiceLbController {
    /// Services whose load balancer is being made (`Ensuring` was recorded), and when the
    /// simulated cloud will have it ready.
    ensuring: std::collections::BTreeMap<ObjectKey, crate::time::SimTime>,
}

fn wants_lb(s: &Service) -> bool {
    let spec = s.spec.as_ref();
    spec.and_then(|s| s.type_.as_deref()) == Some("LoadBalancer") && spec.and_then(|s| s.load_balancer_class.as_deref()).is_none()
}

fn ingress(s: &Service) -> &[LoadBalancerIngress] {
    s.status.as_ref().and_then(|st| st.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_deref()).unwrap_or_default()
}

impl Component for ServiceLbController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Service")
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(object) = ctx.api.get_rc(key) else {
            self.ensuring.remove(key);
            return Action::AwaitChange;
        };
        let Some(service) = object.as_service() else { return Action::AwaitChange };
        let has = !ingress(service).is_empty();
        if !wants_lb(service) {
            self.ensuring.remove(key);
            if has {
                let mut s = service.clone();
                if let Some(status) = s.status.as_mut() {
                    status.load_balancer = Some(LoadBalancerStatus::default());
                }
                ctx.api.record(NewEvent::normal(COMPONENT, &object, "DeletingLoadBalancer", "Deleting load balancer".into()));
                let written = ctx.api.update(Object::from(s));
                ctx.api.record(NewEvent::normal(COMPONENT, &written, "DeletedLoadBalancer", "Deleted load balancer".into()));
            }
            return Action::AwaitChange;
        }
        if has {
            return Action::AwaitChange;
        }
        let now = ctx.api.now();
        match self.ensuring.get(key) {
            None => {
                let after = SimDuration(ctx.rng.range_inclusive(2_000, 5_000));
                self.ensuring.insert(key.clone(), now.plus(after));
                ctx.api.record(NewEvent::normal(COMPONENT, &object, "EnsuringLoadBalancer", "Ensuring load balancer".into()));
                return Action::RequeueAfter(after);
            }
            Some(due) if *due > now => return Action::RequeueAfter(due.since(now)),
            Some(_) => {}
        }
        // The cloud has made it: the first free address of the pool.
        let used: std::collections::BTreeSet<String> = ctx
            .api
            .store()
            .list("Service", None)
            .filter_map(Object::as_service)
            .flat_map(|s| ingress(s).iter().filter_map(|i| i.ip.clone()).collect::<Vec<_>>())
            .collect();
        let Some(ip) = (10..255).map(|n| format!("203.0.113.{n}")).find(|ip| !used.contains(ip)) else {
            ctx.api.record(NewEvent::warning(
                COMPONENT,
                &object,
                "SyncLoadBalancerFailed",
                "Error syncing load balancer: failed to ensure load balancer: the simulated cloud has no free address".into(),
            ));
            return Action::RequeueAfter(SimDuration::from_secs(60));
        };
        self.ensuring.remove(key);
        let mut s = service.clone();
        s.status.get_or_insert_with(Default::default).load_balancer = Some(LoadBalancerStatus {
            ingress: Some(vec![LoadBalancerIngress { ip: Some(ip), ip_mode: Some("VIP".into()), ..Default::default() }]),
        });
        let written = ctx.api.update(Object::from(s));
        ctx.api.record(NewEvent::normal(COMPONENT, &written, "EnsuredLoadBalancer", "Ensured load balancer".into()));
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(self.clone())
    }
}
