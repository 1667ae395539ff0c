//! Address allocation: Service ClusterIPs and NodePorts as the API server's allocators hand
//! them out (random, upper band first — KEP-3070), Pod IPs from each node's podCIDR as the
//! host-local IPAM plugin does (sequentially from .2).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ServiceSpec;

use crate::cluster::Cluster;

/// 10.96.0.0/12, kubeadm's default `--service-cluster-ip-range`.
const SERVICE_BASE: u32 = 10 << 24 | 96 << 16;
const SERVICE_SIZE: u32 = 1 << 20;
/// `min(max(16, size/16), 256)` addresses at the bottom are reserved for static allocation.
const SERVICE_STATIC_BAND: u32 = 256;
pub const NODE_PORT_MIN: i32 = 30000;
pub const NODE_PORT_MAX: i32 = 32767;
/// `min(max(16, size/32), 128)` = 86 ports at the bottom of the range for static allocation.
const NODE_PORT_STATIC_BAND: i32 = 86;

#[derive(Clone, Debug, Default)]
pub struct Allocations {
    service_ips: BTreeSet<u32>,
    node_ports: BTreeSet<i32>,
    /// Per node: its /24 index and the next host number to try.
    pod_ranges: BTreeMap<String, (u32, u32)>,
    pod_ips: BTreeSet<String>,
}

pub fn format_ip(ip: u32) -> String {
    format!("{}.{}.{}.{}", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255)
}

fn parse_ip(s: &str) -> Option<u32> {
    let parts: Vec<u32> = s.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    match parts.as_slice() {
        [a, b, c, d] if parts.iter().all(|p| *p < 256) => Some(a << 24 | b << 16 | c << 8 | d),
        _ => None,
    }
}

/// Gives a Service its ClusterIP and NodePorts (keeping any the manifest asked for).
pub fn allocate_service(cluster: &mut Cluster, spec: &mut ServiceSpec) {
    let ty = spec.type_.clone().unwrap_or_default();
    if ty != "ExternalName" {
        let ip = match spec.cluster_ip.as_deref() {
            Some("None") => "None".to_string(),
            Some(requested) if !requested.is_empty() => {
                if let Some(ip) = parse_ip(requested) {
                    cluster.network.service_ips.insert(ip);
                }
                requested.to_string()
            }
            _ => format_ip(next_service_ip(cluster)),
        };
        spec.cluster_ip = Some(ip.clone());
        spec.cluster_ips = Some(vec![ip]);
        spec.ip_families.get_or_insert_with(|| vec!["IPv4".into()]);
        spec.ip_family_policy.get_or_insert_with(|| "SingleStack".into());
    }
    let wants_node_ports = ty == "NodePort" || (ty == "LoadBalancer" && spec.allocate_load_balancer_node_ports != Some(false));
    if wants_node_ports {
        for port in spec.ports.iter_mut().flatten() {
            match port.node_port {
                Some(p) => {
                    cluster.network.node_ports.insert(p);
                }
                None => port.node_port = Some(next_node_port(cluster)),
            }
        }
    }
}

fn next_service_ip(cluster: &mut Cluster) -> u32 {
    // Random free address in the dynamic band [base+256, base+size-2].
    let lo = SERVICE_BASE + SERVICE_STATIC_BAND;
    let hi = SERVICE_BASE + SERVICE_SIZE - 2;
    let span = u64::from(hi - lo + 1);
    let start = cluster.rng.network.below(span) as u32;
    let used = &mut cluster.network.service_ips;
    let ip = (0..hi - lo + 1)
        .map(|i| lo + (start + i) % (hi - lo + 1))
        .find(|ip| !used.contains(ip))
        .unwrap_or(lo);
    used.insert(ip);
    ip
}

fn next_node_port(cluster: &mut Cluster) -> i32 {
    let lo = NODE_PORT_MIN + NODE_PORT_STATIC_BAND;
    let span = NODE_PORT_MAX - lo + 1;
    let start = cluster.rng.network.below(span as u64) as i32;
    let used = &mut cluster.network.node_ports;
    let port = (0..span)
        .map(|i| lo + (start + i) % span)
        .chain(NODE_PORT_MIN..lo)
        .find(|p| !used.contains(p))
        .unwrap_or(lo);
    used.insert(port);
    port
}

/// Marks a fixed Service address (the `kubernetes` Service's 10.96.0.1) as taken.
pub fn reserve_service_ip(cluster: &mut Cluster, ip: &str) {
    if let Some(ip) = parse_ip(ip) {
        cluster.network.service_ips.insert(ip);
    }
}

/// The podCIDR for a new node: 10.244.<n>.0/24, n counting nodes in creation order.
pub fn node_pod_cidr(cluster: &mut Cluster, node: &str) -> String {
    let n = cluster.network.pod_ranges.len() as u32;
    let (index, _) = *cluster.network.pod_ranges.entry(node.to_string()).or_insert((n, 2));
    format!("10.244.{index}.0/24")
}

/// Allocates the next free Pod IP on `node`.
pub fn allocate_pod_ip(cluster: &mut Cluster, node: &str) -> String {
    let n = cluster.network.pod_ranges.len() as u32;
    let entry = cluster.network.pod_ranges.entry(node.to_string()).or_insert((n, 2));
    for _ in 0..253 {
        let host = entry.1;
        entry.1 = if entry.1 >= 254 { 2 } else { entry.1 + 1 };
        let ip = format!("10.244.{}.{host}", entry.0);
        if !cluster.network.pod_ips.contains(&ip) {
            cluster.network.pod_ips.insert(ip.clone());
            return ip;
        }
    }
    format!("10.244.{}.255", entry.0)
}

pub fn release_pod_ip(cluster: &mut Cluster, ip: &str) {
    cluster.network.pod_ips.remove(ip);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_round_trip() {
        assert_eq!(parse_ip("10.96.0.1").map(format_ip).as_deref(), Some("10.96.0.1"));
        assert_eq!(parse_ip("10.96.0"), None);
        assert_eq!(parse_ip("300.1.1.1"), None);
    }

    #[test]
    fn service_ips_and_node_ports_come_from_the_dynamic_bands() {
        let mut c = Cluster::empty(1);
        for _ in 0..50 {
            let mut spec = ServiceSpec {
                type_: Some("NodePort".into()),
                ports: Some(vec![Default::default()]),
                ..Default::default()
            };
            allocate_service(&mut c, &mut spec);
            let ip = spec.cluster_ip.as_deref().and_then(parse_ip).expect("ip");
            assert!((SERVICE_BASE + SERVICE_STATIC_BAND..SERVICE_BASE + SERVICE_SIZE).contains(&ip));
            let port = spec.ports.as_ref().and_then(|p| p[0].node_port).expect("port");
            assert!((NODE_PORT_MIN + NODE_PORT_STATIC_BAND..=NODE_PORT_MAX).contains(&port));
        }
    }

    #[test]
    fn pod_ips_are_sequential_per_node() {
        let mut c = Cluster::empty(1);
        assert_eq!(node_pod_cidr(&mut c, "a"), "10.244.0.0/24");
        assert_eq!(node_pod_cidr(&mut c, "b"), "10.244.1.0/24");
        assert_eq!(allocate_pod_ip(&mut c, "b"), "10.244.1.2");
        assert_eq!(allocate_pod_ip(&mut c, "b"), "10.244.1.3");
        assert_eq!(allocate_pod_ip(&mut c, "a"), "10.244.0.2");
    }
}
