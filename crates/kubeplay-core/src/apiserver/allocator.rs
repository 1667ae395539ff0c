//! Address allocation done on the control plane: Service ClusterIPs and NodePorts as the API
//! server's allocators hand them out (random, upper band first — KEP-3070), and each node's
//! InternalIP and podCIDR in registration order (the node IPAM controller's range allocator).
//! Pod IPs inside a podCIDR are the kubelet's (its CNI plugin's) business.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ServiceSpec;

use crate::rng::SimRng;

/// 10.96.0.0/12, kubeadm's default `--service-cluster-ip-range`.
const SERVICE_BASE: u32 = 10 << 24 | 96 << 16;
const SERVICE_SIZE: u32 = 1 << 20;
/// `min(max(16, size/16), 256)` addresses at the bottom are reserved for static allocation.
const SERVICE_STATIC_BAND: u32 = 256;
pub const NODE_PORT_MIN: i32 = 30000;
pub const NODE_PORT_MAX: i32 = 32767;
/// `min(max(16, size/32), 128)` = 86 ports at the bottom of the range for static allocation.
const NODE_PORT_STATIC_BAND: i32 = 86;
/// Nodes get InternalIPs from 172.18.0.0/16 (a kind-style Docker network), from .2 up.
const NODE_NETWORK: u32 = 172 << 24 | 18 << 16;
/// `--cluster-cidr=10.224.0.0/11` with `--node-cidr-mask-size=24`: 8,192 node ranges. The first
/// 3,072 nodes get 10.244.0.0/24, 10.244.1.0/24, … (flannel's familiar 10.244/16 first).
const CLUSTER_CIDR: u32 = 10 << 24 | 224 << 16;
pub const MAX_NODE_CIDRS: u32 = 8192;
/// 10.244.0.0/24 is the 5,120th /24 of 10.224.0.0/11.
const FIRST_CIDR: u32 = 20 * 256;

#[derive(Clone, Debug, Default)]
pub struct Allocations {
    service_ips: BTreeSet<u32>,
    node_ports: BTreeSet<i32>,
    /// Node name → its index in registration order (address and podCIDR derive from it).
    nodes: BTreeMap<String, u32>,
}

pub fn format_ip(ip: u32) -> String {
    format!("{}.{}.{}.{}", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255)
}

pub fn parse_ip(s: &str) -> Option<u32> {
    let parts: Vec<u32> = s.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    match parts.as_slice() {
        [a, b, c, d] if parts.iter().all(|p| *p < 256) => Some(a << 24 | b << 16 | c << 8 | d),
        _ => None,
    }
}

impl Allocations {
    /// Gives a Service its ClusterIP and NodePorts (keeping any the manifest asked for).
    pub fn allocate_service(&mut self, rng: &mut SimRng, spec: &mut ServiceSpec) {
        let ty = spec.type_.clone().unwrap_or_default();
        if ty != "ExternalName" {
            let ip = match spec.cluster_ip.as_deref() {
                Some("None") => "None".to_string(),
                Some(requested) if !requested.is_empty() => {
                    if let Some(ip) = parse_ip(requested) {
                        self.service_ips.insert(ip);
                    }
                    requested.to_string()
                }
                _ => format_ip(self.next_service_ip(rng)),
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
                        self.node_ports.insert(p);
                    }
                    None => port.node_port = Some(self.next_node_port(rng)),
                }
            }
        }
        // A load balancer in front of a Local policy health-checks each node on a port of its own.
        let local = spec.external_traffic_policy.as_deref() == Some("Local");
        if ty == "LoadBalancer" && local {
            match spec.health_check_node_port.filter(|p| *p != 0) {
                Some(p) => _ = self.node_ports.insert(p),
                None => spec.health_check_node_port = Some(self.next_node_port(rng)),
            }
        }
    }

    fn next_service_ip(&mut self, rng: &mut SimRng) -> u32 {
        // Random free address in the dynamic band [base+256, base+size-2].
        let lo = SERVICE_BASE + SERVICE_STATIC_BAND;
        let hi = SERVICE_BASE + SERVICE_SIZE - 2;
        let span = u64::from(hi - lo + 1);
        let start = rng.below(span) as u32;
        let used = &mut self.service_ips;
        let ip = (0..hi - lo + 1).map(|i| lo + (start + i) % (hi - lo + 1)).find(|ip| !used.contains(ip)).unwrap_or(lo);
        used.insert(ip);
        ip
    }

    fn next_node_port(&mut self, rng: &mut SimRng) -> i32 {
        let lo = NODE_PORT_MIN + NODE_PORT_STATIC_BAND;
        let span = NODE_PORT_MAX - lo + 1;
        let start = rng.below(span as u64) as i32;
        let used = &mut self.node_ports;
        let port = (0..span).map(|i| lo + (start + i) % span).chain(NODE_PORT_MIN..lo).find(|p| !used.contains(p)).unwrap_or(lo);
        used.insert(port);
        port
    }

    /// Marks a fixed Service address (the `kubernetes` Service's 10.96.0.1) as taken.
    pub fn reserve_service_ip(&mut self, ip: &str) {
        if let Some(ip) = parse_ip(ip) {
            self.service_ips.insert(ip);
        }
    }

    /// The registration index of `node`, assigned on first sight.
    fn node_index(&mut self, node: &str) -> u32 {
        let n = self.nodes.len() as u32;
        *self.nodes.entry(node.to_string()).or_insert(n)
    }

    /// The podCIDR for a node: 10.244.<n>.0/24 for the first 256 nodes, then on through
    /// 10.224.0.0/11; `None` once the cluster CIDR is used up (`CIDRNotAvailable`).
    pub fn node_pod_cidr(&mut self, node: &str) -> Option<String> {
        let n = self.node_index(node);
        (n < MAX_NODE_CIDRS).then(|| {
            let block = CLUSTER_CIDR + ((FIRST_CIDR + n) % MAX_NODE_CIDRS) * 256;
            format!("{}/24", format_ip(block))
        })
    }

    /// The node's InternalIP: 172.18.0.2, .3, … on through 172.18.1.1, skipping each /24's .0
    /// and .255.
    pub fn node_ip(&mut self, node: &str) -> String {
        let seq = self.node_index(node) + 1; // the first node is .2
        format_ip(NODE_NETWORK + (seq / 254) * 256 + seq % 254 + 1)
    }
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
        let mut a = Allocations::default();
        let mut rng = SimRng::stream(1, "network");
        for _ in 0..50 {
            let mut spec = ServiceSpec { type_: Some("NodePort".into()), ports: Some(vec![Default::default()]), ..Default::default() };
            a.allocate_service(&mut rng, &mut spec);
            let ip = spec.cluster_ip.as_deref().and_then(parse_ip).expect("ip");
            assert!((SERVICE_BASE + SERVICE_STATIC_BAND..SERVICE_BASE + SERVICE_SIZE).contains(&ip));
            let port = spec.ports.as_ref().and_then(|p| p[0].node_port).expect("port");
            assert!((NODE_PORT_MIN + NODE_PORT_STATIC_BAND..=NODE_PORT_MAX).contains(&port));
        }
    }

    #[test]
    fn node_addresses_stay_valid_to_the_envelope_and_beyond() {
        let mut a = Allocations::default();
        assert_eq!(a.node_pod_cidr("a").as_deref(), Some("10.244.0.0/24"));
        assert_eq!(a.node_ip("a"), "172.18.0.2");
        assert_eq!(a.node_pod_cidr("b").as_deref(), Some("10.244.1.0/24"));
        assert_eq!(a.node_ip("b"), "172.18.0.3");
        let mut ips = BTreeSet::new();
        let mut cidrs = BTreeSet::new();
        for i in 0..MAX_NODE_CIDRS - 2 {
            let name = format!("n{i}");
            let ip = a.node_ip(&name);
            let last = ip.rsplit('.').next().and_then(|o| o.parse::<u32>().ok()).expect("octet");
            assert!((1..255).contains(&last) && parse_ip(&ip).is_some(), "{ip}");
            assert!(ips.insert(ip));
            let cidr = a.node_pod_cidr(&name).expect("cidr");
            assert!(parse_ip(cidr.trim_end_matches("/24")).is_some(), "{cidr}");
            assert!(cidrs.insert(cidr));
        }
        assert_eq!(a.node_pod_cidr("one-too-many"), None);
        assert_eq!(a.node_pod_cidr("n254").as_deref(), Some("10.245.0.0/24"), "the 257th node");
        assert_eq!(a.node_ip("n250"), "172.18.0.254", "the 253rd node");
        assert_eq!(a.node_ip("n251"), "172.18.1.1", "the 254th node (the old scheme gave 172.18.0.255)");
    }
}
