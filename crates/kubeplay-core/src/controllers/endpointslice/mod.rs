//! The EndpointSlice controller (`pkg/controller/endpointslice`): for every Service with a
//! selector, EndpointSlices listing the selected Pods that have an IP — each endpoint with its
//! ready / serving / terminating conditions, node, zone and Pod reference — grouped by the
//! resolved ports (a named targetPort may resolve differently per Pod), at most 100 endpoints
//! a slice. Slices are named `<service>-<5 random>`, labelled with the Service's name and this
//! controller, and owned by the Service (deleting it deletes them). A Service that selects no
//! Pod has one placeholder slice with no endpoints. Endpoints stay in the slice they are in
//! while they last, so a change rewrites as few slices as it can. Topology hints: `hints.rs`.

mod hints;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ObjectReference, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::endpoints::{self, pod_ip};
use crate::api::{pod_util, Object, ObjectKey};
use crate::apiserver::{ApiServer, NewEvent};
use crate::runtime::{Action, Component, Ctx, Watches};

pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The event source upstream's controller records under.
const COMPONENT: &str = "endpoint-slice-controller";
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// `--max-endpoints-per-slice`'s default.
const MAX_ENDPOINTS_PER_SLICE: usize = 100;

#[derive(Clone, Copy, Debug, Default)]
pub struct EndpointSliceController;

impl Component for EndpointSliceController {
    fn name(&self) -> &'static str {
        "endpointslice-controller"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Service").owns("EndpointSlice").watches("Pod", ApiServer::services_of_changed_pod)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let Some(service) = ctx.api.get(key).and_then(Object::as_service).cloned() else {
            return Action::AwaitChange; // Its slices go with it (owner references).
        };
        if !endpoints::managed(&service) {
            return Action::AwaitChange;
        }
        let mut desired = desired_endpoints(ctx.api, &service);
        let had_hints = self.has_hints(ctx.api, key);
        let mut all: Vec<&mut Endpoint> = desired.values_mut().flatten().collect();
        match hints::apply(ctx.api, &service, &mut all) {
            hints::Outcome::Set
                if !had_hints
                    && crate::api::endpoints::topology_mode(&service) == crate::api::endpoints::TopologyMode::Auto
                    && !all.is_empty() =>
            {
                let object = Object::from(service.clone());
                ctx.api.record(NewEvent::normal(
                    COMPONENT,
                    &object,
                    "TopologyAwareHintsEnabled",
                    "Topology Aware Hints has been enabled, addressType: IPv4".into(),
                ));
            }
            hints::Outcome::Refused(message) => {
                let object = Object::from(service.clone());
                ctx.api.record(NewEvent::warning(COMPONENT, &object, "TopologyAwareHintsDisabled", message));
            }
            _ => {}
        }
        let trigger = ctx.api.now().rfc3339();
        let existing: Vec<&EndpointSlice> = ctx
            .api
            .store()
            .list("EndpointSlice", Some(&key.namespace))
            .filter_map(Object::as_endpoint_slice)
            .filter(|s| label(s, SERVICE_NAME_LABEL) == Some(&key.name) && label(s, MANAGED_BY_LABEL) == Some(MANAGED_BY))
            .collect();
        let writes = plan(&service, desired, existing, &trigger);
        for slice in writes {
            match slice {
                Write::Create(s) => {
                    let _ = ctx.api.create(Object::from(s));
                }
                Write::Update(s) => _ = ctx.api.update(Object::from(s)),
                Write::Delete(name) => _ = ctx.api.delete(&ObjectKey::new("EndpointSlice", &key.namespace, &name)),
            }
        }
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

impl EndpointSliceController {
    /// Whether the Service's slices carry hints now.
    fn has_hints(&self, api: &ApiServer, key: &ObjectKey) -> bool {
        api.store()
            .list("EndpointSlice", Some(&key.namespace))
            .filter_map(Object::as_endpoint_slice)
            .filter(|s| label(s, SERVICE_NAME_LABEL) == Some(&key.name))
            .flat_map(|s| s.endpoints.iter().flatten())
            .any(|e| e.hints.is_some())
    }
}

fn label<'a>(slice: &'a EndpointSlice, key: &str) -> Option<&'a str> {
    slice.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

/// The endpoints the Service should have, grouped by their resolved ports.
fn desired_endpoints(api: &ApiServer, service: &Service) -> BTreeMap<Vec<PortKey>, Vec<Endpoint>> {
    let mut groups: BTreeMap<Vec<PortKey>, Vec<Endpoint>> = BTreeMap::new();
    let namespace = service.metadata.namespace.as_deref().unwrap_or("default");
    let selector = service.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
    let service_ports = || service.spec.iter().flat_map(|s| s.ports.iter().flatten());
    let resolve = |pod: &Pod| -> Vec<PortKey> {
        service_ports()
            .filter_map(|p| {
                let number = endpoints::find_port(pod, p)?;
                Some(PortKey {
                    name: p.name.clone().unwrap_or_default(),
                    port: number,
                    protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    app_protocol: p.app_protocol.clone(),
                })
            })
            .collect()
    };
    // Without a named targetPort every Pod resolves the same ports: one group, resolved once.
    let by_number = service_ports().all(|p| !matches!(p.target_port, Some(IntOrString::String(_))));
    let mut same_for_all: Option<Vec<Endpoint>> = None;
    // Each node's zone, looked up once a sync rather than once an endpoint.
    let mut zones: BTreeMap<&str, Option<String>> = BTreeMap::new();
    let pods = api.store().pods_matching(namespace, &selector);
    for pod in pods.iter().filter_map(|o| o.as_pod()) {
        if !endpoints::selects(service, pod) || !endpoints::should_be_endpoint(pod, true) {
            continue;
        }
        let zone = pod_util::node_name(pod).and_then(|n| zones.entry(n).or_insert_with(|| zone_of(api, n)).clone());
        let endpoint = endpoint(service, pod, zone);
        if by_number {
            same_for_all.get_or_insert_with(Vec::new).push(endpoint);
        } else {
            groups.entry(resolve(pod)).or_default().push(endpoint);
        }
    }
    if let Some(endpoints) = same_for_all {
        groups.insert(resolve(&Pod::default()), endpoints);
    }
    groups
}

/// The `topology.kubernetes.io/zone` label of node `name`.
fn zone_of(api: &ApiServer, name: &str) -> Option<String> {
    let node = api.get(&ObjectKey::new("Node", "", name)).and_then(Object::as_node)?;
    node.metadata.labels.as_ref()?.get("topology.kubernetes.io/zone").cloned()
}

/// One resolved port of a slice (its identity for grouping).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PortKey {
    name: String,
    port: i32,
    protocol: String,
    app_protocol: Option<String>,
}

impl PortKey {
    fn to_port(&self) -> EndpointPort {
        EndpointPort {
            name: Some(self.name.clone()),
            port: Some(self.port),
            protocol: Some(self.protocol.clone()),
            app_protocol: self.app_protocol.clone(),
        }
    }

    fn of(port: &EndpointPort) -> PortKey {
        PortKey {
            name: port.name.clone().unwrap_or_default(),
            port: port.port.unwrap_or(0),
            protocol: port.protocol.clone().unwrap_or_else(|| "TCP".into()),
            app_protocol: port.app_protocol.clone(),
        }
    }
}

fn endpoint(service: &Service, pod: &Pod, zone: Option<String>) -> Endpoint {
    let (ready, serving, terminating) = endpoints::conditions(service, pod);
    let node = pod_util::node_name(pod).map(str::to_string);
    let spec = pod.spec.as_ref();
    let service_name = service.metadata.name.as_deref();
    // A Pod with a hostname in a subdomain named after the Service gets a DNS name of its own.
    let hostname = spec.and_then(|s| s.hostname.clone()).filter(|_| spec.and_then(|s| s.subdomain.as_deref()) == service_name);
    Endpoint {
        addresses: vec![pod_ip(pod).to_string()],
        conditions: Some(EndpointConditions { ready: Some(ready), serving: Some(serving), terminating: Some(terminating) }),
        hostname,
        node_name: node,
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
        zone,
        ..Default::default()
    }
}

enum Write {
    Create(EndpointSlice),
    Update(EndpointSlice),
    Delete(String),
}

fn pod_uid(e: &Endpoint) -> Option<&str> {
    e.target_ref.as_ref()?.uid.as_deref()
}

/// One port group's desired endpoints, in order, taken out by Pod uid as the existing slices
/// keep theirs: a lookup each rather than a scan of the group, as a Service of 1,000 Pods is
/// synced on every change of one of them.
#[derive(Default)]
struct Wanted {
    endpoints: Vec<Option<Endpoint>>,
    /// (hash of the Pod uid, place), sorted: a uid's places in order, without a copy of it.
    by_uid: Vec<(u64, usize)>,
}

fn uid_hash(uid: Option<&str>) -> u64 {
    uid.map_or(0, |u| crate::rng::fnv1a64(u.as_bytes()))
}

impl Wanted {
    fn new(endpoints: Vec<Endpoint>) -> Wanted {
        let mut by_uid: Vec<(u64, usize)> = endpoints.iter().enumerate().map(|(i, e)| (uid_hash(pod_uid(e)), i)).collect();
        by_uid.sort_unstable();
        Wanted { endpoints: endpoints.into_iter().map(Some).collect(), by_uid }
    }

    /// The first endpoint not yet taken for the Pod `uid` (a hash collision is told apart by
    /// the endpoint's own uid).
    fn take(&mut self, uid: Option<&str>) -> Option<Endpoint> {
        let h = uid_hash(uid);
        let from = self.by_uid.partition_point(|(k, _)| *k < h);
        let mut places = self.by_uid[from..].iter().take_while(|(k, _)| *k == h).map(|(_, i)| *i);
        let i = places.find(|i| matches!(self.endpoints.get(*i), Some(Some(e)) if pod_uid(e) == uid))?;
        self.endpoints.get_mut(i)?.take()
    }

    /// The endpoints no slice kept, in order.
    fn rest(self) -> Vec<Endpoint> {
        self.endpoints.into_iter().flatten().collect()
    }
}

/// The writes that turn `existing` into `desired`: endpoints stay in their slice while they
/// last (updated in place); new ones fill slices with room, then new slices.
fn plan(service: &Service, desired: BTreeMap<Vec<PortKey>, Vec<Endpoint>>, existing: Vec<&EndpointSlice>, trigger: &str) -> Vec<Write> {
    let total: usize = desired.values().map(Vec::len).sum();
    let mut desired: BTreeMap<Vec<PortKey>, Wanted> = desired.into_iter().map(|(ports, e)| (ports, Wanted::new(e))).collect();
    let mut writes = Vec::new();
    // Slices that keep endpoints, with whether they changed.
    let mut slices: Vec<(EndpointSlice, bool)> = Vec::new();
    let mut placeholder = None;
    for before in existing {
        let EndpointSlice { metadata, address_type, endpoints, ports } = before;
        let name = metadata.name.clone().unwrap_or_default();
        if ports.is_none() && endpoints.as_ref().is_none_or(Vec::is_empty) {
            if total == 0 && placeholder.is_none() {
                placeholder = Some(name); // One placeholder stays while nothing is selected.
            } else {
                writes.push(Write::Delete(name));
            }
            continue;
        }
        let wanted = desired.entry(ports.iter().flatten().map(PortKey::of).collect()).or_default();
        let kept: Vec<Endpoint> = endpoints.iter().flatten().filter_map(|e| wanted.take(pod_uid(e))).collect();
        if kept.is_empty() {
            writes.push(Write::Delete(name));
            continue;
        }
        // Its endpoints are not copied, only what they are compared with.
        let mut slice =
            EndpointSlice { metadata: metadata.clone(), address_type: address_type.clone(), endpoints: Some(kept), ports: ports.clone() };
        set_meta(&mut slice, service);
        let changed = slice != *before;
        slices.push((slice, changed));
    }
    for (ports, wanted) in desired {
        let mut rest = wanted.rest();
        for (slice, changed) in slices.iter_mut() {
            let endpoints = slice.endpoints.get_or_insert_with(Vec::new);
            let room = MAX_ENDPOINTS_PER_SLICE.saturating_sub(endpoints.len());
            let same = slice.ports.iter().flatten().map(PortKey::of).collect::<Vec<_>>() == ports;
            if !rest.is_empty() && same && room > 0 {
                endpoints.extend(rest.drain(..room.min(rest.len())));
                *changed = true;
            }
        }
        while !rest.is_empty() {
            let mut slice = new_slice(service, trigger);
            slice.ports = Some(ports.iter().map(PortKey::to_port).collect());
            slice.endpoints = Some(rest.drain(..MAX_ENDPOINTS_PER_SLICE.min(rest.len())).collect());
            writes.push(Write::Create(slice));
        }
    }
    for (mut slice, changed) in slices {
        if changed {
            stamp(&mut slice, trigger);
            writes.push(Write::Update(slice));
        }
    }
    if total == 0 && placeholder.is_none() {
        writes.push(Write::Create(new_slice(service, trigger)));
    }
    writes
}

fn stamp(slice: &mut EndpointSlice, trigger: &str) {
    slice
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert("endpoints.kubernetes.io/last-change-trigger-time".into(), trigger.into());
}

/// The slice's labels (the Service's own, plus the service-name and managed-by labels, and
/// the headless marker) and owner.
fn set_meta(slice: &mut EndpointSlice, service: &Service) {
    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    labels.insert(SERVICE_NAME_LABEL.into(), service.metadata.name.clone().unwrap_or_default());
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    if service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None") {
        labels.insert("service.kubernetes.io/headless".into(), String::new());
    }
    slice.metadata.labels = Some(labels);
}

fn new_slice(service: &Service, trigger: &str) -> EndpointSlice {
    let name = service.metadata.name.clone().unwrap_or_default();
    let mut slice = EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: service.metadata.namespace.clone(),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Service".into(),
                name,
                uid: service.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        address_type: "IPv4".into(),
        endpoints: None,
        ports: None,
    };
    set_meta(&mut slice, service);
    stamp(&mut slice, trigger);
    slice
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(i: usize) -> Endpoint {
        Endpoint {
            addresses: vec![format!("10.244.{}.{}", i / 250, i % 250 + 2)],
            target_ref: Some(ObjectReference { uid: Some(format!("uid-{i}")), ..Default::default() }),
            ..Default::default()
        }
    }

    fn service() -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("svc".into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn port() -> Vec<PortKey> {
        vec![PortKey { name: "http".into(), port: 80, protocol: "TCP".into(), app_protocol: None }]
    }

    fn created(writes: &[Write]) -> Vec<usize> {
        writes.iter().filter_map(|w| if let Write::Create(s) = w { Some(s.endpoints.as_ref().map_or(0, Vec::len)) } else { None }).collect()
    }

    #[test]
    fn wanted_endpoints_are_taken_by_pod_and_the_rest_keep_their_order() {
        let mut wanted = Wanted::new(vec![ep(3), ep(1), ep(2), ep(1)]);
        assert_eq!(wanted.take(Some("uid-1")).map(|e| e.addresses), Some(ep(1).addresses));
        assert!(wanted.take(Some("uid-9")).is_none());
        assert!(wanted.take(Some("uid-2")).is_some());
        let rest: Vec<Option<String>> = wanted.rest().iter().map(|e| pod_uid(e).map(str::to_string)).collect();
        assert_eq!(rest, [Some("uid-3".to_string()), Some("uid-1".to_string())], "the second endpoint of uid-1 stays");
    }

    #[test]
    fn at_most_100_endpoints_a_slice_and_endpoints_stay_where_they_are() {
        let svc = service();
        let desired = BTreeMap::from([(port(), (0..250).map(ep).collect::<Vec<_>>())]);
        let writes = plan(&svc, desired, Vec::new(), "t");
        assert_eq!(created(&writes), vec![100, 100, 50]);
        // Apply the plan, then remove one endpoint from the first slice and add two.
        let mut slices: Vec<EndpointSlice> = writes
            .into_iter()
            .enumerate()
            .filter_map(|(n, w)| {
                if let Write::Create(mut s) = w {
                    s.metadata.name = Some(format!("web-{n}"));
                    Some(s)
                } else {
                    None
                }
            })
            .collect();
        let mut next: Vec<Endpoint> = (1..252).map(ep).collect();
        next.retain(|e| pod_uid(e) != Some("uid-0"));
        let writes = plan(&svc, BTreeMap::from([(port(), next)]), slices.iter().collect(), "t2");
        let updated: Vec<(String, usize)> = writes
            .iter()
            .filter_map(|w| {
                if let Write::Update(s) = w {
                    Some((s.metadata.name.clone().unwrap_or_default(), s.endpoints.as_ref().map_or(0, Vec::len)))
                } else {
                    None
                }
            })
            .collect();
        // The first slice lost uid-0 and took a new endpoint, the last one the other; the full
        // middle slice was not touched.
        assert_eq!(updated, vec![("web-0".to_string(), 100), ("web-2".to_string(), 51)]);
        assert!(created(&writes).is_empty());
        // Nothing selected: every slice goes and one placeholder is created.
        slices.truncate(1);
        let writes = plan(&svc, BTreeMap::new(), slices.iter().collect(), "t3");
        assert!(matches!(writes.as_slice(), [Write::Delete(_), Write::Create(p)] if p.ports.is_none() && p.endpoints.is_none()));
    }
}
