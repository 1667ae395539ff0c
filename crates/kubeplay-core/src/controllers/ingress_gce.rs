//! A simulated GKE Ingress controller (`ingress-gce`, events from `loadbalancer-controller`)
//! for Ingresses of class `gce` (the `kubernetes.io/ingress.class: gce` annotation, or
//! `ingressClassName: gce`). Creating the Ingress alone provisions a Google Cloud load
//! balancer: `Sync` — "Scheduled for sync" — and after 30–60 s its own external IP in the
//! Ingress's status (`IPChanged`). The load balancer lives outside the cluster, so every
//! backend Service must be reachable from there: type NodePort or LoadBalancer, unless the
//! Service turns on container-native load balancing (`cloud.google.com/neg: '{"ingress":
//! true}'`), which sends traffic straight to Pod IPs. Otherwise the controller refuses with
//! GKE's own `Translate` warning and provisions nothing. Requests to the address are routed in
//! the network module (`network/gce.rs`).

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{Ingress, IngressLoadBalancerIngress, IngressLoadBalancerStatus, IngressStatus};

use crate::api::ingress::{backends, neg_enabled, served_by_gce};
use crate::api::{Object, ObjectKey};
use crate::apiserver::{ApiServer, Change, NewEvent};
use crate::runtime::{Action, Component, Ctx, Watches};
use crate::time::{SimDuration, SimTime};

const COMPONENT: &str = "loadbalancer-controller";
/// Addresses the simulated Google Cloud hands out: 203.0.113.100 onwards.
const FIRST_ADDRESS: u32 = 100;

#[derive(Clone, Debug, Default)]
pub struct IngressGce {
    /// Ingresses being provisioned, and when their load balancer is ready.
    provisioning: BTreeMap<ObjectKey, SimTime>,
}

fn address(ing: &Ingress) -> Option<&str> {
    ing.status.as_ref()?.load_balancer.as_ref()?.ingress.as_ref()?.first()?.ip.as_deref()
}

/// Why the load balancer cannot be built, as ingress-gce words it (`ErrSvcNotFound`,
/// `ErrBadSvcType`).
fn translate(api: &ApiServer, ing: &Ingress) -> Vec<String> {
    let namespace = ing.metadata.namespace.as_deref().unwrap_or("default");
    let mut errors = Vec::new();
    for backend in backends(ing) {
        let Some(target) = &backend.service else { continue };
        let error = match api.get(&ObjectKey::new("Service", namespace, &target.name)).and_then(Object::as_service) {
            None => format!("could not find service \"{namespace}/{}\"", target.name),
            Some(svc) => {
                let ty = svc.spec.as_ref().and_then(|s| s.type_.as_deref()).unwrap_or("ClusterIP");
                if matches!(ty, "NodePort" | "LoadBalancer") || neg_enabled(svc) {
                    continue;
                }
                format!("service \"{namespace}/{}\" is type \"{ty}\", expected \"NodePort\" or \"LoadBalancer\"", target.name)
            }
        };
        if !errors.contains(&error) {
            errors.push(error);
        }
    }
    errors
}

/// The Ingresses in a changed Service's namespace that name it.
fn ingresses_of_service(api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
    for ing in api.store().list("Ingress", Some(&change.key.namespace)).filter_map(Object::as_ingress) {
        let names = backends(ing).iter().any(|b| b.service.as_ref().is_some_and(|s| s.name == change.key.name));
        if served_by_gce(ing) && names {
            out.push(ObjectKey::new("Ingress", &change.key.namespace, ing.metadata.name.as_deref().unwrap_or("")));
        }
    }
}

impl Component for IngressGce {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Ingress").watches("Service", ingresses_of_service)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(object) = ctx.api.get_rc(key) else {
            self.provisioning.remove(key);
            return Action::AwaitChange;
        };
        let Some(ing) = object.as_ingress() else { return Action::AwaitChange };
        if !served_by_gce(ing) || address(ing).is_some() {
            return Action::AwaitChange;
        }
        let errors = translate(ctx.api, ing);
        if !errors.is_empty() {
            self.provisioning.remove(key);
            let message = format!("Translation failed: invalid ingress spec: {}", errors.join("; "));
            ctx.api.record(NewEvent::warning(COMPONENT, &object, "Translate", message));
            return Action::AwaitChange;
        }
        let now = ctx.api.now();
        match self.provisioning.get(key) {
            None => {
                let after = SimDuration(ctx.rng.range_inclusive(30_000, 60_000));
                self.provisioning.insert(key.clone(), now.plus(after));
                ctx.api.record(NewEvent::normal(COMPONENT, &object, "Sync", "Scheduled for sync".into()));
                return Action::RequeueAfter(after);
            }
            Some(due) if *due > now => return Action::RequeueAfter(due.since(now)),
            Some(_) => {}
        }
        self.provisioning.remove(key);
        // The next address no GKE Ingress holds.
        let taken: Vec<String> = ctx
            .api
            .store()
            .list("Ingress", None)
            .filter_map(Object::as_ingress)
            .filter(|i| served_by_gce(i))
            .filter_map(|i| address(i).map(str::to_string))
            .collect();
        let ip = (FIRST_ADDRESS..=254)
            .map(|n| format!("203.0.113.{n}"))
            .find(|ip| !taken.contains(ip))
            .unwrap_or_else(|| "203.0.113.254".into());
        let mut ing = ing.clone();
        ing.status = Some(IngressStatus {
            load_balancer: Some(IngressLoadBalancerStatus {
                ingress: Some(vec![IngressLoadBalancerIngress { ip: Some(ip.clone()), ..Default::default() }]),
            }),
        });
        let written = ctx.api.update(Object::from(ing));
        ctx.api.record(NewEvent::normal(COMPONENT, &written, "IPChanged", format!("IP is now {ip}")));
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(self.clone())
    }
}
