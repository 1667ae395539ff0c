//! The Endpoints controller (`pkg/controller/endpoint`): the legacy `v1` Endpoints object of a
//! Service with a selector, named after it — the selected Pods' addresses, ready ones under
//! `addresses` and the rest under `notReadyAddresses`, grouped by resolved ports and sorted by
//! IP (`RepackSubsets`). Terminating Pods are left out. Deprecated since v1.33 in favour of
//! EndpointSlices, but still maintained (and `kubectl get endpoints` still lists it).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::endpoints::{self, pod_ip};
use crate::api::{pod_util, Object, ObjectKey};
use crate::apiserver::{ApiServer, Change};
use crate::runtime::{Action, Component, Ctx, Watches};

#[derive(Clone, Copy, Debug, Default)]
pub struct EndpointsController;

impl Component for EndpointsController {
    fn name(&self) -> &'static str {
        "endpoint-controller"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Service").watches("Endpoints", service_of_endpoints).watches("Pod", ApiServer::services_of_changed_pod)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let ep_key = ObjectKey::new("Endpoints", &key.namespace, &key.name);
        let Some(service) = ctx.api.get(key).and_then(Object::as_service).cloned() else {
            // The Service is gone: so is its Endpoints object.
            if ctx.api.get(&ep_key).is_some() {
                ctx.api.delete(&ep_key);
            }
            return Action::AwaitChange;
        };
        if !endpoints::managed(&service) {
            return Action::AwaitChange;
        }
        let subsets = subsets(ctx.api, &service);
        let existing = ctx.api.get(&ep_key).and_then(Object::as_endpoints).cloned();
        // The Service's labels, and `service.kubernetes.io/headless` for a headless one.
        let mut labels = service.metadata.labels.clone();
        if service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None") {
            labels.get_or_insert_with(Default::default).insert("service.kubernetes.io/headless".into(), String::new());
        }
        match existing {
            Some(ep) if ep.subsets.clone().unwrap_or_default() == subsets && ep.metadata.labels == labels => {}
            existing => {
                let mut ep = existing.unwrap_or_else(|| Endpoints {
                    metadata: ObjectMeta { name: Some(key.name.clone()), namespace: Some(key.namespace.clone()), ..Default::default() },
                    ..Default::default()
                });
                ep.metadata.labels = labels;
                ep.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert("endpoints.kubernetes.io/last-change-trigger-time".into(), ctx.api.now().rfc3339());
                ep.subsets = (!subsets.is_empty()).then_some(subsets);
                if ctx.api.get(&ep_key).is_some() {
                    ctx.api.update(Object::from(ep));
                } else {
                    let _ = ctx.api.create(Object::from(ep));
                }
            }
        }
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

fn service_of_endpoints(_api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
    out.push(ObjectKey::new("Service", &change.key.namespace, &change.key.name));
}

/// Resolved ports: (name, number, protocol).
type Ports = Vec<(String, i32, String)>;
/// Ready and not-ready addresses.
type Addresses = (Vec<EndpointAddress>, Vec<EndpointAddress>);

fn subsets(api: &ApiServer, service: &Service) -> Vec<EndpointSubset> {
    let mut groups: BTreeMap<Ports, Addresses> = BTreeMap::new();
    let namespace = service.metadata.namespace.as_deref().unwrap_or("default");
    let selector = service.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
    let service_ports = || service.spec.iter().flat_map(|s| s.ports.iter().flatten());
    let resolve = |pod: &Pod| -> Ports {
        service_ports()
            .filter_map(|p| {
                Some((
                    p.name.clone().unwrap_or_default(),
                    endpoints::find_port(pod, p)?,
                    p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                ))
            })
            .collect()
    };
    // Without a named targetPort every Pod resolves the same ports: resolved once.
    let by_number = service_ports().all(|p| !matches!(p.target_port, Some(IntOrString::String(_))));
    if by_number {
        groups.insert(resolve(&Pod::default()), Addresses::default());
    }
    for o in api.store().pods_matching(namespace, &selector) {
        let Some(pod) = o.as_pod() else { continue };
        if !endpoints::selects(service, pod) || !endpoints::should_be_endpoint(pod, false) {
            continue;
        }
        let address = EndpointAddress {
            ip: pod_ip(pod).to_string(),
            node_name: pod_util::node_name(pod).map(str::to_string),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                namespace: pod.metadata.namespace.clone(),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (ready, _, _) = endpoints::conditions(service, pod);
        let group = match groups.first_entry().filter(|_| by_number) {
            Some(only) => only.into_mut(),
            None => groups.entry(resolve(pod)).or_default(),
        };
        if ready {
            group.0.push(address);
        } else {
            group.1.push(address);
        }
    }
    groups
        .into_iter()
        .filter(|(_, (ready, not_ready))| !ready.is_empty() || !not_ready.is_empty())
        .map(|(ports, (mut ready, mut not_ready))| {
            ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then(|| {
                    ports
                        .into_iter()
                        .map(|(name, port, protocol)| EndpointPort {
                            name: Some(name).filter(|n| !n.is_empty()),
                            port,
                            protocol: Some(protocol),
                            app_protocol: None,
                        })
                        .collect()
                }),
            }
        })
        .collect()
}
