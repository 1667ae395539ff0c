//! Pod IPs as the host-local IPAM plugin hands them out: sequentially from .2 of the node's
//! podCIDR, wrapping round and skipping addresses in use.

use std::collections::{BTreeMap, BTreeSet};

use crate::apiserver::{format_ip, parse_ip};

#[derive(Clone, Debug, Default)]
pub struct HostLocal {
    /// Node → next host number to try.
    next: BTreeMap<String, u32>,
    used: BTreeSet<u32>,
}

impl HostLocal {
    /// The next free address in `cidr` (a /24) for a Pod on `node`.
    pub fn allocate(&mut self, node: &str, cidr: &str) -> String {
        let base = parse_ip(cidr.split('/').next().unwrap_or("")).unwrap_or(10 << 24 | 244 << 16) & !255;
        let next = self.next.entry(node.to_string()).or_insert(2);
        for _ in 0..253 {
            let host = *next;
            *next = if *next >= 254 { 2 } else { *next + 1 };
            if self.used.insert(base + host) {
                return format_ip(base + host);
            }
        }
        format_ip(base + 255)
    }

    pub fn release(&mut self, ip: &str) {
        if let Some(ip) = parse_ip(ip) {
            self.used.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_per_node_and_reused_after_release() {
        let mut ipam = HostLocal::default();
        assert_eq!(ipam.allocate("b", "10.244.1.0/24"), "10.244.1.2");
        assert_eq!(ipam.allocate("b", "10.244.1.0/24"), "10.244.1.3");
        assert_eq!(ipam.allocate("a", "10.244.0.0/24"), "10.244.0.2");
        ipam.release("10.244.1.2");
        for _ in 0..251 {
            ipam.allocate("b", "10.244.1.0/24");
        }
        assert_eq!(ipam.allocate("b", "10.244.1.0/24"), "10.244.1.2", "wraps round to the freed address");
    }
}
