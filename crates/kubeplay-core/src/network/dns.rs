//! Cluster DNS as CoreDNS's kubernetes plugin answers it: the Pod's search path
//! `<ns>.svc.cluster.local svc.cluster.local cluster.local` with `ndots:5`; Service A records;
//! a headless Service's ready Pod IPs; an ExternalName's CNAME; `<ip-dashed>.<ns>.pod` records;
//! `<hostname>.<subdomain>.<ns>.svc` for Pods named in a headless Service's slices; SRV records
//! for named ports; NXDOMAIN for the rest of `cluster.local`. A client outside the cluster
//! asks a public resolver: cluster names do not resolve there.

use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::{ClientNet, Resolved, CLUSTER_DOMAIN};
use crate::api::Object;
use crate::rng::fnv1a64;

/// `10.244.1.5` → `10-244-1-5`.
fn dashed(ip: &str) -> String {
    ip.replace('.', "-")
}

pub(super) fn is_ipv4(name: &str) -> bool {
    name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok())
}

impl<'a> ClientNet<'a> {
    /// The search path a Pod's resolv.conf lists (none outside the cluster).
    fn search(&self) -> Vec<String> {
        match self.namespace() {
            Some(ns) => vec![format!("{ns}.svc.{CLUSTER_DOMAIN}"), format!("svc.{CLUSTER_DOMAIN}"), CLUSTER_DOMAIN.to_string()],
            None => Vec::new(),
        }
    }

    fn slices_of(&self, namespace: &str, service: &str) -> Vec<&'a EndpointSlice> {
        let named = |s: &&EndpointSlice| {
            s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str) == Some(service)
        };
        self.api.store().list("EndpointSlice", Some(namespace)).filter_map(Object::as_endpoint_slice).filter(named).collect()
    }

    /// The addresses `name` resolves to, or the names tried (NXDOMAIN).
    pub(super) fn resolve_name(&self, name: &str) -> Result<Resolved, Vec<String>> {
        // A name with a trailing dot is fully qualified: the search path does not apply.
        let absolute = name.ends_with('.') && name.len() > 1;
        let name = name.trim_end_matches('.');
        if is_ipv4(name) {
            return Ok(Resolved { fqdn: name.into(), addresses: vec![name.into()], cname: None });
        }
        if name == "localhost" {
            return Ok(Resolved { fqdn: name.into(), addresses: vec!["127.0.0.1".into()], cname: None });
        }
        let mut candidates: Vec<String> = Vec::new();
        let dots = name.matches('.').count();
        if dots >= 5 || absolute {
            candidates.push(name.into());
        }
        if !absolute {
            candidates.extend(self.search().iter().map(|s| format!("{name}.{s}")));
        }
        if dots < 5 && !absolute {
            candidates.push(name.into());
        }
        for fqdn in &candidates {
            if let Some(found) = self.lookup(fqdn) {
                return Ok(found);
            }
        }
        Err(candidates)
    }

    /// `_<port>._<proto>.<svc>.<ns>.svc.cluster.local`: for a named port, one record pointing at
    /// the Service's name (a headless Service: one per ready endpoint, at the endpoint's name).
    pub(super) fn srv_records(&self, name: &str) -> Vec<(String, u16, u16, i32, String)> {
        let name = name.trim_end_matches('.');
        if self.namespace().is_none() {
            return Vec::new();
        }
        let candidates: Vec<String> =
            std::iter::once(name.to_string()).chain(self.search().iter().map(|s| format!("{name}.{s}"))).collect();
        for fqdn in candidates {
            let Some(inside) = fqdn.strip_suffix(&format!(".{CLUSTER_DOMAIN}")) else { continue };
            let parts: Vec<&str> = inside.split('.').collect();
            let [port, proto, svc, ns, "svc"] = parts.as_slice() else { continue };
            let (Some(port), Some(proto)) = (port.strip_prefix('_'), proto.strip_prefix('_')) else { continue };
            let Some(service) = self.service(ns, svc) else { continue };
            let spec = service.spec.clone().unwrap_or_default();
            let Some(sp) = spec
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(port) && p.protocol.as_deref().unwrap_or("TCP").eq_ignore_ascii_case(proto))
            else {
                continue;
            };
            let service_fqdn = format!("{svc}.{ns}.svc.{CLUSTER_DOMAIN}");
            if spec.cluster_ip.as_deref() != Some("None") {
                return vec![(fqdn.clone(), 0, 100, sp.port, service_fqdn)];
            }
            let mut records = Vec::new();
            for slice in self.slices_of(ns, svc) {
                let target_port =
                    slice.ports.iter().flatten().find(|p| p.name.as_deref() == Some(port)).and_then(|p| p.port).unwrap_or(sp.port);
                for e in slice.endpoints.iter().flatten().filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false)) {
                    let host = e.hostname.clone().unwrap_or_else(|| dashed(e.addresses.first().map_or("", String::as_str)));
                    records.push((fqdn.clone(), 0, 100, target_port, format!("{host}.{service_fqdn}")));
                }
            }
            records.sort();
            if !records.is_empty() {
                return records;
            }
        }
        Vec::new()
    }

    /// One fully qualified name.
    fn lookup(&self, fqdn: &str) -> Option<Resolved> {
        let answer = |addresses: Vec<String>| Some(Resolved { fqdn: fqdn.to_string(), addresses, cname: None });
        let inside = fqdn.strip_suffix(&format!(".{CLUSTER_DOMAIN}"));
        let Some(inside) = inside.filter(|_| self.namespace().is_some()) else {
            // Outside the cluster: a real-looking domain resolves to a public address.
            let tld = fqdn.rsplit('.').next().unwrap_or("");
            let public = fqdn.contains('.') && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()) && inside.is_none();
            if !public {
                return None;
            }
            let h = fnv1a64(fqdn.as_bytes());
            return answer(vec![format!("93.184.{}.{}", (h >> 8) % 256, h % 254 + 1)]);
        };
        let parts: Vec<&str> = inside.split('.').collect();
        match parts.as_slice() {
            [ip, _ns, "pod"] => Some(ip.replace('-', ".")).filter(|ip| is_ipv4(ip)).and_then(|ip| answer(vec![ip])),
            [svc, ns, "svc"] => {
                let spec = self.service(ns, svc)?.spec.as_ref()?;
                if spec.type_.as_deref() == Some("ExternalName") {
                    let target = spec.external_name.clone().unwrap_or_default();
                    let resolved = self.lookup(&target);
                    return Some(Resolved {
                        fqdn: fqdn.to_string(),
                        addresses: resolved.map(|r| r.addresses).unwrap_or_default(),
                        cname: Some(target),
                    });
                }
                match spec.cluster_ip.as_deref() {
                    Some("None") | None => {
                        // Headless: the ready endpoints' addresses.
                        let mut ips: Vec<String> = self
                            .slices_of(ns, svc)
                            .into_iter()
                            .flat_map(|s| s.endpoints.iter().flatten())
                            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
                            .filter_map(|e| e.addresses.first().cloned())
                            .collect();
                        ips.sort();
                        ips.dedup();
                        if ips.is_empty() {
                            None
                        } else {
                            answer(ips)
                        }
                    }
                    Some(ip) => answer(vec![ip.to_string()]),
                }
            }
            // `<hostname>.<subdomain>.<ns>.svc`: a Pod named in a headless Service's slice.
            [host, svc, ns, "svc"] => self
                .slices_of(ns, svc)
                .into_iter()
                .flat_map(|s| s.endpoints.iter().flatten())
                .find(|e| {
                    e.hostname.as_deref() == Some(*host)
                        || (e.hostname.is_none() && e.addresses.first().is_some_and(|a| dashed(a) == *host))
                })
                .and_then(|e| answer(e.addresses.clone())),
            _ => None,
        }
    }
}
