//! The view model: a snapshot of what the page shows, built from the simulation after each
//! change. Components render these plain values; none reaches into the cluster.
//!
//! A rebuild is O(Pods + Nodes + Events) and reuses every piece of the previous view that did
//! not change (the same `Rc`), so yew's prop comparison stops at the first unchanged node or
//! Pod (`Rc<T: Eq>` compares pointers first). Ages are not stored: components compute them
//! from the clock while rendering, so a second passing does not rebuild anything.

use std::collections::BTreeMap;
use std::rc::Rc;

use kubeplay_core::time::{from_time, SimTime};
use kubeplay_core::Cluster;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodView {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    /// `status.phase`.
    pub phase: String,
    /// The STATUS column kubectl would print (ContainerCreating, Terminating, …).
    pub status: String,
    pub node: Option<String>,
    /// The READY column: ready containers / containers.
    pub ready: String,
    /// Container restarts, summed (the RESTARTS column's count).
    pub restarts: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeView {
    pub name: String,
    pub ready: bool,
    /// Its kubelet was stopped from the playground (`kubeplay node fail`).
    pub down: bool,
    /// Cordoned (`spec.unschedulable`).
    pub cordoned: bool,
    pub roles: String,
    pub zone: String,
    pub pods: Rc<[Rc<PodView>]>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventView {
    /// When it last happened (virtual milliseconds); the age is computed while rendering.
    pub at: SimTime,
    pub type_: String,
    pub reason: String,
    pub object: String,
    pub message: String,
}

/// A Service and where its traffic goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceView {
    pub name: String,
    pub namespace: String,
    pub type_: String,
    /// The ClusterIP (`None` for headless).
    pub address: String,
    /// A LoadBalancer's address, `<pending>`, or empty.
    pub external: String,
    /// `80/TCP`, `80:30080/TCP`, …
    pub ports: String,
    /// Endpoints that are ready, and all of them.
    pub ready: usize,
    pub endpoints: usize,
    /// The uids of the Pods behind its ready endpoints.
    pub pods: Rc<[String]>,
    /// The first port (what a request to the external address calls).
    pub port: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct View {
    pub services: Rc<[Rc<ServiceView>]>,
    pub workloads: Rc<[Rc<crate::workloads::WorkloadView>]>,
    pub nodes: Rc<[Rc<NodeView>]>,
    pub unscheduled: Rc<[Rc<PodView>]>,
    /// The most recent events, newest first.
    pub events: Rc<[EventView]>,
}

/// How many events the panel lists.
pub const EVENTS_SHOWN: usize = 40;

/// `new` if it differs from `old`, else `old` itself (so pointer comparisons succeed).
fn reuse<T: Eq>(old: Option<&Rc<T>>, new: T) -> Rc<T> {
    match old {
        Some(old) if **old == new => Rc::clone(old),
        _ => Rc::new(new),
    }
}

fn reuse_slice<T: Eq>(old: &Rc<[T]>, new: Vec<T>) -> Rc<[T]> {
    if **old == *new {
        Rc::clone(old)
    } else {
        new.into()
    }
}

pub fn build(cluster: &Cluster, previous: &View) -> View {
    let store = cluster.store();
    let old_pods: BTreeMap<&str, &Rc<PodView>> =
        previous.nodes.iter().flat_map(|n| n.pods.iter()).chain(previous.unscheduled.iter()).map(|p| (p.uid.as_str(), p)).collect();
    let mut by_node: BTreeMap<String, Vec<Rc<PodView>>> = BTreeMap::new();
    let mut unscheduled = Vec::new();
    // Read through the store's views: a Pod kept compact (past the recently used, in big
    // clusters) is not expanded for it on every frame.
    for p in store.pods(None) {
        use kubeplay_core::kubectl::columns;
        let deleting = p.deletion_timestamp().is_some();
        let (status, ready, restarts) = p.with_containers(|spec, status| {
            (columns::pod_status_of(deleting, spec, status), columns::pod_ready_of(spec, status), columns::pod_restarts_of(spec, status))
        });
        let view = PodView {
            name: p.name().unwrap_or_default().to_string(),
            namespace: p.namespace().unwrap_or_default().to_string(),
            phase: p.phase().to_string(),
            status,
            node: p.node_name().map(str::to_string),
            ready,
            restarts,
            uid: p.uid().unwrap_or_default().to_string(),
        };
        let view = reuse(old_pods.get(view.uid.as_str()).copied(), view);
        match &view.node {
            Some(node) => by_node.entry(node.clone()).or_default().push(view),
            None => unscheduled.push(view),
        }
    }
    let old_nodes: BTreeMap<&str, &Rc<NodeView>> = previous.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut nodes = Vec::new();
    for o in store.list("Node", None) {
        let Some(n) = o.as_node() else { continue };
        let labels = n.metadata.labels.as_ref();
        let ready = n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let roles: Vec<&str> = labels.into_iter().flatten().filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/")).collect();
        let old = old_nodes.get(o.name()).copied();
        let pods = by_node.remove(o.name()).unwrap_or_default();
        let node = o.as_node();
        let view = NodeView {
            name: o.name().to_string(),
            ready,
            down: node.is_some_and(|n| kubeplay_core::api::node_fault::down_since(n).is_some()),
            cordoned: node.and_then(|n| n.spec.as_ref()).and_then(|s| s.unschedulable) == Some(true),
            roles: roles.join(","),
            zone: labels.and_then(|l| l.get("topology.kubernetes.io/zone")).cloned().unwrap_or_default(),
            pods: match old {
                Some(old) => reuse_slice(&old.pods, pods),
                None => pods.into(),
            },
        };
        nodes.push(reuse(old, view));
    }
    // Pods bound to a node that is not (or no longer) registered wait with the unscheduled.
    unscheduled.extend(by_node.into_values().flatten());
    let old_services: BTreeMap<(&str, &str), &Rc<ServiceView>> =
        previous.services.iter().map(|s| ((s.namespace.as_str(), s.name.as_str()), s)).collect();
    let services: Vec<Rc<ServiceView>> =
        services(cluster).into_iter().map(|s| reuse(old_services.get(&(s.namespace.as_str(), s.name.as_str())).copied(), s)).collect();
    let old_workloads: BTreeMap<(&str, &str, &str), &Rc<crate::workloads::WorkloadView>> =
        previous.workloads.iter().map(|w| ((w.kind, w.namespace.as_str(), w.name.as_str()), w)).collect();
    let workloads: Vec<Rc<crate::workloads::WorkloadView>> = crate::workloads::build(cluster)
        .into_iter()
        .map(|w| reuse(old_workloads.get(&(w.kind, w.namespace.as_str(), w.name.as_str())).copied(), w))
        .collect();
    View {
        workloads: reuse_slice(&previous.workloads, workloads),
        services: reuse_slice(&previous.services, services),
        nodes: reuse_slice(&previous.nodes, nodes),
        unscheduled: reuse_slice(&previous.unscheduled, unscheduled),
        events: reuse_slice(&previous.events, recent_events(cluster)),
    }
}

/// Every Service outside kube-system, with its EndpointSlices' counts.
fn services(cluster: &Cluster) -> Vec<ServiceView> {
    let store = cluster.store();
    let mut out = Vec::new();
    for o in store.list("Service", None) {
        let Some(svc) = o.as_service() else { continue };
        if o.namespace() == "kube-system" {
            continue;
        }
        let spec = svc.spec.clone().unwrap_or_default();
        let (mut ready, mut endpoints, mut pods) = (0, 0, Vec::new());
        for slice in store.list("EndpointSlice", Some(o.namespace())).filter_map(|s| s.as_endpoint_slice()) {
            if slice.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str) != Some(o.name()) {
                continue;
            }
            for e in slice.endpoints.iter().flatten() {
                endpoints += 1;
                if e.conditions.as_ref().and_then(|c| c.ready) != Some(false) {
                    ready += 1;
                    pods.extend(e.target_ref.as_ref().and_then(|t| t.uid.clone()));
                }
            }
        }
        let ports: Vec<String> = spec
            .ports
            .iter()
            .flatten()
            .map(|p| match p.node_port {
                Some(n) => format!("{}:{n}/{}", p.port, p.protocol.as_deref().unwrap_or("TCP")),
                None => format!("{}/{}", p.port, p.protocol.as_deref().unwrap_or("TCP")),
            })
            .collect();
        let ingress = svc
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .and_then(|i| i.first())
            .and_then(|i| i.ip.clone().or_else(|| i.hostname.clone()));
        let type_ = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        let external = match (type_.as_str(), ingress) {
            (_, Some(ip)) => ip,
            ("LoadBalancer", None) => "<pending>".into(),
            _ => String::new(),
        };
        out.push(ServiceView {
            name: o.name().to_string(),
            namespace: o.namespace().to_string(),
            address: spec.cluster_ip.clone().unwrap_or_default(),
            external,
            ports: ports.join(","),
            ready,
            endpoints,
            pods: pods.into(),
            port: spec.ports.iter().flatten().next().map_or(80, |p| p.port),
            type_,
        });
    }
    out
}

/// The newest events (the store picks them without expanding the rest).
fn recent_events(cluster: &Cluster) -> Vec<EventView> {
    cluster
        .store()
        .latest_events(EVENTS_SHOWN)
        .into_iter()
        .filter_map(|o| o.as_event())
        .filter_map(|e| Some((from_time(e.last_timestamp.as_ref()?), e)))
        .map(|(at, e)| EventView {
            at,
            type_: e.type_.clone().unwrap_or_default(),
            reason: e.reason.clone().unwrap_or_default(),
            object: format!(
                "{}/{}",
                e.involved_object.kind.as_deref().unwrap_or("").to_ascii_lowercase(),
                e.involved_object.name.as_deref().unwrap_or("")
            ),
            message: e.message.clone().unwrap_or_default(),
        })
        .collect()
}
