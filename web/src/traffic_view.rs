//! What the playground shows of the traffic sources: each source's counts, the Pods' and
//! Services' counts, and a sample of the requests of the last virtual second with the route
//! each took (for the dots). Built from the core's traffic record only when it changed.

use std::rc::Rc;

use kubeplay_core::traffic::{Origin, Outcome};
use kubeplay_core::Cluster;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceView {
    pub name: String,
    /// The client Pod's uid, for a source inside the cluster.
    pub from_pod: Option<String>,
    pub from: String,
    pub url: String,
    pub rate: u32,
    pub running: bool,
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub last: String,
    /// Requests in the last whole second, and how many of them failed.
    pub last_second: (u64, u64),
}

/// A request to animate: from its source through the node it entered to the Pod that
/// answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dot {
    pub id: u64,
    pub source: String,
    pub from_pod: Option<String>,
    pub entry_node: Option<String>,
    pub pod: Option<String>,
    /// `ok`, `failed` (an answer that is an error, or refused) or `dropped` (never answered).
    pub outcome: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TrafficView {
    pub revision: u64,
    pub sources: Rc<[SourceView]>,
    pub dots: Rc<[Dot]>,
    /// Per Pod (uid): requests and failures.
    pub pods: Rc<[(String, u64, u64)]>,
    /// Per Service: requests and failures in the last whole second.
    pub services: Rc<[ServiceRate]>,
}

/// A Service's traffic in the last whole second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRate {
    pub namespace: String,
    pub name: String,
    pub per_second: u64,
    pub failed_per_second: u64,
}

/// Dots shown at once at most (a sample when more requests are in flight).
pub const MAX_DOTS: usize = 24;
/// How far back requests count as in flight (virtual milliseconds).
const IN_FLIGHT_MS: u64 = 1_000;

pub fn build(cluster: &Cluster) -> TrafficView {
    let traffic = cluster.traffic();
    let now = cluster.now().ms();
    let sources: Vec<SourceView> = traffic
        .sources()
        .iter()
        .map(|s| {
            let (from, from_pod) = match &s.origin {
                Origin::External(address) => (address.clone(), None),
                Origin::Pod(ns, name) => {
                    let key = kubeplay_core::api::ObjectKey::new("Pod", ns, name);
                    (format!("pod/{name}"), cluster.get(&key).and_then(|o| o.meta().uid.clone()))
                }
            };
            let last_second = kubeplay_core::traffic::last_second(&s.history, cluster.now());
            SourceView {
                name: s.name.clone(),
                from_pod,
                from,
                url: s.url.clone(),
                rate: s.rate,
                running: s.running,
                sent: s.totals.sent,
                ok: s.totals.ok,
                failed: s.totals.failed(),
                last: s.last.map_or_else(|| "-".into(), |o| o.to_string()),
                last_second,
            }
        })
        .collect();
    let in_flight: Vec<_> = traffic.recent().filter(|r| r.at.ms() + IN_FLIGHT_MS > now).collect();
    // An even sample of what is in flight.
    let step = in_flight.len().div_ceil(MAX_DOTS).max(1);
    let dots: Vec<Dot> = in_flight
        .iter()
        .rev()
        .step_by(step)
        .map(|r| Dot {
            id: r.id,
            source: r.source.clone(),
            from_pod: sources.iter().find(|s| s.name == r.source).and_then(|s| s.from_pod.clone()),
            entry_node: r.route.entry_node.clone(),
            pod: r.route.pod.clone(),
            outcome: match r.outcome {
                o if o.ok() => "ok",
                Outcome::Timeout | Outcome::NoSuchHost | Outcome::NoClient => "dropped",
                _ => "failed",
            },
        })
        .collect();
    let pods = traffic.pod_counts().iter().map(|(uid, p)| (uid.clone(), p.counts.sent, p.counts.failed())).collect::<Vec<_>>();
    let services = traffic
        .service_counts()
        .iter()
        .map(|((namespace, name), s)| {
            let (per_second, failed_per_second) = s.last_second(cluster.now());
            ServiceRate { namespace: namespace.clone(), name: name.clone(), per_second, failed_per_second }
        })
        .collect::<Vec<_>>();
    TrafficView { revision: traffic.revision(), sources: sources.into(), dots: dots.into(), pods: pods.into(), services: services.into() }
}
