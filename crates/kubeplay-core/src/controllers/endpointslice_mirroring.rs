//! The EndpointSlice mirroring controller (`pkg/controller/endpointslicemirroring`): a
//! Service without a selector whose endpoints are written by hand as a legacy `v1` Endpoints
//! object gets EndpointSlices mirroring it — what kube-proxy and cluster DNS read. Each
//! subset's ports become a slice's ports, `addresses` ready endpoints and `notReadyAddresses`
//! not-ready ones, at most 100 endpoints a slice and 1,000 mirrored in all. Slices are named
//! `<endpoints>-<5 random>`, carry the Endpoints' labels and annotations (not
//! last-applied-configuration or the trigger time) plus the Service name and this controller
//! as manager, and are owned by the Endpoints object. Endpoints labelled
//! `endpointslice.kubernetes.io/skip-mirror: "true"`, or of a Service with a selector (the
//! EndpointSlice controller's), are not mirrored.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EndpointAddress, Endpoints};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::api::{Object, ObjectKey};
use crate::apiserver::{ApiServer, Change};
use crate::runtime::{Action, Component, Ctx, Watches};

const MANAGED_BY: &str = "endpointslicemirroring-controller.k8s.io";
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
const SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// Addresses mirrored at most (`--mirroring-max-endpoints-per-subset` is 1000).
const MAX_MIRRORED: usize = 1000;

#[derive(Clone, Copy, Debug, Default)]
pub struct EndpointSliceMirroringController;

impl Component for EndpointSliceMirroringController {
    fn name(&self) -> &'static str {
        "endpointslice-mirroring-controller"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Endpoints").owns("EndpointSlice").watches("Service", endpoints_of_service)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let endpoints = ctx.api.get(key).and_then(Object::as_endpoints).cloned();
        let service = ctx.api.get(&ObjectKey::new("Service", &key.namespace, &key.name)).and_then(Object::as_service);
        let mirror = endpoints.as_ref().filter(|ep| {
            let skip = ep.metadata.labels.as_ref().and_then(|l| l.get(SKIP_MIRROR)).is_some_and(|v| v == "true");
            let selectorless = service.is_some_and(|s| s.spec.as_ref().and_then(|s| s.selector.as_ref()).is_none());
            !skip && selectorless
        });
        let existing: Vec<EndpointSlice> = ctx
            .api
            .store()
            .list("EndpointSlice", Some(&key.namespace))
            .filter_map(Object::as_endpoint_slice)
            .filter(|s| label(s, SERVICE_NAME_LABEL) == Some(&key.name) && label(s, MANAGED_BY_LABEL) == Some(MANAGED_BY))
            .cloned()
            .collect();
        let desired = mirror.map(desired_slices).unwrap_or_default();
        let mut existing = existing.into_iter();
        for wanted in desired {
            let Some(ep) = mirror else { break };
            match existing.next() {
                Some(mut slice) => {
                    let before = slice.clone();
                    fill(&mut slice, ep, wanted);
                    if slice != before {
                        ctx.api.update(Object::from(slice));
                    }
                }
                None => {
                    let mut slice = EndpointSlice {
                        metadata: ObjectMeta {
                            generate_name: Some(format!("{}-", key.name)),
                            namespace: Some(key.namespace.clone()),
                            owner_references: Some(vec![OwnerReference {
                                api_version: "v1".into(),
                                kind: "Endpoints".into(),
                                name: key.name.clone(),
                                uid: ep.metadata.uid.clone().unwrap_or_default(),
                                controller: Some(true),
                                block_owner_deletion: Some(true),
                            }]),
                            ..Default::default()
                        },
                        address_type: "IPv4".into(),
                        endpoints: None,
                        ports: None,
                    };
                    fill(&mut slice, ep, wanted);
                    let _ = ctx.api.create(Object::from(slice));
                }
            }
        }
        for stale in existing {
            let name = stale.metadata.name.clone().unwrap_or_default();
            ctx.api.delete(&ObjectKey::new("EndpointSlice", &key.namespace, &name));
        }
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

fn endpoints_of_service(_api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
    out.push(ObjectKey::new("Endpoints", &change.key.namespace, &change.key.name));
}

fn label<'a>(slice: &'a EndpointSlice, key: &str) -> Option<&'a str> {
    slice.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

/// A slice's content: its ports and endpoints.
type Wanted = (Vec<EndpointPort>, Vec<Endpoint>);

fn endpoint(address: &EndpointAddress, ready: bool) -> Endpoint {
    Endpoint {
        addresses: vec![address.ip.clone()],
        conditions: Some(EndpointConditions { ready: Some(ready), ..Default::default() }),
        hostname: address.hostname.clone().filter(|h| !h.is_empty()),
        node_name: address.node_name.clone(),
        target_ref: address.target_ref.clone(),
        ..Default::default()
    }
}

/// The slices the Endpoints object mirrors to: subsets with the same ports share slices.
fn desired_slices(ep: &Endpoints) -> Vec<Wanted> {
    let mut by_ports: BTreeMap<Vec<(String, i32, String)>, Wanted> = BTreeMap::new();
    let mut mirrored = 0;
    for subset in ep.subsets.iter().flatten() {
        let ports: Vec<EndpointPort> = subset
            .ports
            .iter()
            .flatten()
            .map(|p| EndpointPort {
                name: Some(p.name.clone().unwrap_or_default()),
                port: Some(p.port),
                protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: p.app_protocol.clone(),
            })
            .collect();
        let key = ports
            .iter()
            .map(|p| (p.name.clone().unwrap_or_default(), p.port.unwrap_or(0), p.protocol.clone().unwrap_or_default()))
            .collect();
        let entry = by_ports.entry(key).or_insert_with(|| (ports, Vec::new()));
        let ready = subset.addresses.iter().flatten().map(|a| endpoint(a, true));
        let not_ready = subset.not_ready_addresses.iter().flatten().map(|a| endpoint(a, false));
        for e in ready.chain(not_ready) {
            if mirrored < MAX_MIRRORED {
                entry.1.push(e);
                mirrored += 1;
            }
        }
    }
    let mut out = Vec::new();
    for (_, (ports, endpoints)) in by_ports {
        for chunk in endpoints.chunks(MAX_ENDPOINTS_PER_SLICE) {
            out.push((ports.clone(), chunk.to_vec()));
        }
    }
    out
}

fn fill(slice: &mut EndpointSlice, ep: &Endpoints, (ports, endpoints): Wanted) {
    let name = ep.metadata.name.clone().unwrap_or_default();
    let mut labels = ep.metadata.labels.clone().unwrap_or_default();
    labels.insert(SERVICE_NAME_LABEL.into(), name);
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    let mut annotations = ep.metadata.annotations.clone().unwrap_or_default();
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    annotations.remove("endpoints.kubernetes.io/last-change-trigger-time");
    slice.metadata.labels = Some(labels);
    slice.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    slice.ports = Some(ports);
    slice.endpoints = Some(endpoints);
}
