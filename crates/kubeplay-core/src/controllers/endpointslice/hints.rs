//! Topology hints on endpoints (`pkg/controller/endpointslice/topologycache` and
//! `trafficdist`). With `spec.trafficDistribution: PreferClose` (or `PreferSameZone`) every
//! endpoint is hinted for its own zone (`PreferSameNode`: its node too). With the annotation
//! `service.kubernetes.io/topology-mode: Auto`, endpoints are allocated to zones in proportion
//! to the zones' allocatable CPU (control-plane and not-ready nodes do not count): each starts
//! hinted for its own zone, then zones holding more than their share give endpoints to zones
//! short of theirs. The controller refuses — no hints, and a `TopologyAwareHintsDisabled`
//! warning — when nodes lack zones or CPU, when only one zone has ready nodes, when there are
//! fewer ready endpoints than zones, or when no allocation keeps every zone within 20 % of its
//! share.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointHints, ForNode, ForZone};

use crate::api::endpoints::{topology_mode as mode, TopologyMode as Mode};
use crate::api::Object;
use crate::apiserver::ApiServer;

const OVERLOAD_THRESHOLD: f64 = 0.2;

fn ready(e: &Endpoint) -> bool {
    e.conditions.as_ref().and_then(|c| c.ready) != Some(false)
}

/// Each zone's share of the allocatable CPU of the Ready nodes that count.
fn cpu_ratios(api: &ApiServer) -> Option<BTreeMap<String, f64>> {
    let mut by_zone: BTreeMap<String, i64> = BTreeMap::new();
    for node in api.store().list("Node", None).filter_map(Object::as_node) {
        let labels = node.metadata.labels.clone().unwrap_or_default();
        if labels.contains_key("node-role.kubernetes.io/control-plane") || labels.contains_key("node-role.kubernetes.io/master") {
            continue;
        }
        let is_ready = node.status.iter().flat_map(|s| s.conditions.iter().flatten()).any(|c| c.type_ == "Ready" && c.status == "True");
        if !is_ready {
            continue;
        }
        let cpu = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.as_ref())
            .and_then(|a| a.get("cpu"))
            .and_then(|q| crate::api::quantity::cpu_millis(&q.0))
            .unwrap_or(0);
        let zone = labels.get("topology.kubernetes.io/zone").filter(|z| !z.is_empty())?;
        if cpu == 0 {
            return None;
        }
        *by_zone.entry(zone.clone()).or_default() += cpu;
    }
    let total: i64 = by_zone.values().sum();
    if total == 0 || by_zone.len() < 2 {
        return None;
    }
    Some(by_zone.into_iter().map(|(z, cpu)| (z, cpu as f64 / total as f64)).collect())
}

struct Allocation {
    desired: f64,
}

/// The outcome for the Service: hints set (and whether this enables them), or why not.
pub enum Outcome {
    /// Hints are not asked for.
    Off,
    Set,
    Refused(String),
}

/// Sets (or clears) the hints of `endpoints` for `service`.
pub fn apply(api: &ApiServer, service: &Service, endpoints: &mut [&mut Endpoint]) -> Outcome {
    let mode = mode(service);
    let clear = |endpoints: &mut [&mut Endpoint]| endpoints.iter_mut().for_each(|e| e.hints = None);
    match mode {
        Mode::None => {
            clear(endpoints);
            Outcome::Off
        }
        Mode::SameZone | Mode::SameNode => {
            for e in endpoints.iter_mut() {
                e.hints = e.zone.clone().map(|zone| EndpointHints {
                    for_zones: Some(vec![ForZone { name: zone }]),
                    for_nodes: (mode == Mode::SameNode).then(|| e.node_name.clone().map(|name| vec![ForNode { name }])).flatten(),
                });
            }
            Outcome::Set
        }
        Mode::Auto => match allocate(api, endpoints) {
            Ok(()) => Outcome::Set,
            Err(message) => {
                clear(endpoints);
                Outcome::Refused(format!("{message}, addressType: IPv4"))
            }
        },
    }
}

fn allocate(api: &ApiServer, endpoints: &mut [&mut Endpoint]) -> Result<(), String> {
    let ratios = cpu_ratios(api);
    let Some(ratios) = ratios else {
        return Err("Insufficient Node information: allocatable CPU or zone not specified on one or more nodes".into());
    };
    let total = endpoints.iter().filter(|e| ready(e)).count();
    if ratios.len() > total {
        return Err(format!("Insufficient number of endpoints ({total} endpoints, {} zones)", ratios.len()));
    }
    let mut allocations: BTreeMap<&str, Allocation> = BTreeMap::new();
    let mut remaining = total as i64;
    for (zone, ratio) in &ratios {
        let desired = ratio * total as f64;
        let minimum = (desired * (1.0 / (1.0 + OVERLOAD_THRESHOLD))).ceil() as i64;
        remaining -= minimum;
        if remaining < 0 {
            return Err(format!(
                "Unable to allocate minimum required endpoints to each zone without exceeding overload threshold ({total} endpoints, {} zones)",
                ratios.len()
            ));
        }
        allocations.insert(zone, Allocation { desired: desired.max(minimum as f64) });
    }
    // Step 1: every ready endpoint hinted for its own zone.
    let mut by_zone: BTreeMap<String, i64> = BTreeMap::new();
    for e in endpoints.iter_mut() {
        if !ready(e) {
            e.hints = None;
            continue;
        }
        let Some(zone) = e.zone.clone().filter(|z| !z.is_empty()) else {
            return Err("One or more endpoints do not have a zone specified".into());
        };
        *by_zone.entry(zone.clone()).or_default() += 1;
        e.hints = Some(EndpointHints { for_zones: Some(vec![ForZone { name: zone }]), for_nodes: None });
    }
    // Step 2: which zones give and which receive, in whole endpoints.
    let mut giving: BTreeMap<String, f64> = BTreeMap::new();
    let mut receiving: BTreeMap<String, f64> = BTreeMap::new();
    for (zone, allocation) in &allocations {
        let have = by_zone.get(*zone).copied().unwrap_or(0) as f64;
        if have > allocation.desired {
            giving.insert(zone.to_string(), have - allocation.desired);
        } else if have < allocation.desired {
            receiving.insert(zone.to_string(), allocation.desired - have);
        }
    }
    let most = |m: &BTreeMap<String, f64>| {
        m.iter().fold(None::<(String, f64)>, |best, (z, n)| match best {
            Some((_, b)) if b >= *n => best,
            _ => Some((z.clone(), *n)),
        })
    };
    let mut moves: Vec<(String, String)> = Vec::new();
    while let (Some((from, give)), Some((to, receive))) = (most(&giving), most(&receiving)) {
        if give < 1.0 && receive < 1.0 {
            break;
        }
        moves.push((from.clone(), to.clone()));
        *giving.entry(from).or_default() -= 1.0;
        *receiving.entry(to).or_default() -= 1.0;
    }
    // Step 3: hint giving zones' endpoints for the receiving zones, last endpoints first.
    for (from, to) in moves {
        let own = |e: &&mut &mut Endpoint| {
            e.hints.as_ref().and_then(|h| h.for_zones.as_ref()).is_some_and(|z| z.len() == 1 && z[0].name == from)
                && e.zone.as_deref() == Some(&from)
        };
        if let Some(e) = endpoints.iter_mut().rev().find(own) {
            e.hints = Some(EndpointHints { for_zones: Some(vec![ForZone { name: to }]), for_nodes: None });
        }
    }
    Ok(())
}
