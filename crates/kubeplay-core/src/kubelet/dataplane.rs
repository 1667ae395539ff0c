//! The network a Pod's containers use: cluster DNS as CoreDNS answers it (the Pod's search
//! path `<ns>.svc.cluster.local svc.cluster.local cluster.local` with `ndots:5`; Service A
//! records; a headless Service's ready Pod IPs; an ExternalName's CNAME; `<ip-dashed>.<ns>.pod`
//! records; NXDOMAIN for the rest of `cluster.local`) and connections as kube-proxy's rules
//! route them (a ClusterIP, a node's NodePort, or a Pod IP; a Service picks one of its ready
//! endpoints — serving terminating ones when none is ready — and with none, rejects). What
//! answers is the target container's server (`server.rs`), from the running-container views
//! the API server relays. Names outside the cluster resolve to a public address that answers
//! 200: the simulated cluster has a friendly internet.

use k8s_openapi::api::core::v1::{Pod, Service};

use super::sh::{Net, Reply, Resolved};
use crate::api::ingress::{self, NGINX_ADDRESS};
use crate::api::{pod_util, Object};
use crate::apiserver::ApiServer;
use crate::rng::fnv1a64;

pub const CLUSTER_DOMAIN: &str = "cluster.local";
/// The `kube-dns` Service's ClusterIP: every Pod's nameserver.
pub const DNS_SERVICE_IP: &str = "10.96.0.10";

/// The network as one Pod sees it.
pub struct PodNet<'a> {
    pub api: &'a ApiServer,
    pub namespace: String,
    pub pod_uid: String,
    /// The node the Pod runs on (`internalTrafficPolicy: Local` keeps traffic there).
    pub node: String,
    /// Varies the endpoint kube-proxy picks (its rules pick at random per connection).
    pub seed: u64,
    /// Connections made so far through this view (each picks anew).
    connections: std::cell::Cell<u64>,
}

impl<'a> PodNet<'a> {
    pub fn of(api: &'a ApiServer, pod: &Pod) -> PodNet<'a> {
        PodNet {
            api,
            namespace: pod.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
            pod_uid: pod.metadata.uid.clone().unwrap_or_default(),
            node: pod_util::node_name(pod).unwrap_or("").to_string(),
            seed: api.now().ms(),
            connections: std::cell::Cell::new(0),
        }
    }

    fn services(&self) -> impl Iterator<Item = &'a Service> {
        self.api.store().list("Service", None).filter_map(Object::as_service)
    }

    fn pod_by_ip(&self, ip: &str) -> Option<&'a Pod> {
        self.api
            .store()
            .list("Pod", None)
            .filter_map(Object::as_pod)
            .find(|p| crate::api::endpoints::pod_ip(p) == ip && !pod_util::is_terminal(p))
    }

    /// A ready (or, failing that, serving) endpoint of `service` for `port`: (IP, target port).
    /// `internalTrafficPolicy: Local` keeps to endpoints on the client's node; `sessionAffinity:
    /// ClientIP` sends a client to the same endpoint every time.
    /// Arriving at a node's NodePort (`via_node`), `externalTrafficPolicy: Local` keeps to that
    /// node's endpoints.
    fn endpoint(&self, service: &Service, port: i32, via_node: Option<&str>) -> Option<(String, i32)> {
        let spec = service.spec.as_ref()?;
        let sp = spec.ports.iter().flatten().find(|p| p.port == port || p.node_port == Some(port))?;
        let name = service.metadata.name.as_deref().unwrap_or("");
        let namespace = service.metadata.namespace.as_deref().unwrap_or("");
        let mut ready = Vec::new();
        let mut serving = Vec::new();
        for slice in self.api.store().list("EndpointSlice", Some(namespace)).filter_map(Object::as_endpoint_slice) {
            if slice.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str) != Some(name) {
                continue;
            }
            let Some(target) = slice.ports.iter().flatten().find(|p| p.name.as_deref().unwrap_or("") == sp.name.as_deref().unwrap_or(""))
            else {
                continue;
            };
            let local_node = match via_node {
                Some(node) => (spec.external_traffic_policy.as_deref() == Some("Local")).then_some(node),
                None => (spec.internal_traffic_policy.as_deref() == Some("Local")).then_some(self.node.as_str()),
            };
            for e in slice.endpoints.iter().flatten() {
                if local_node.is_some_and(|n| e.node_name.as_deref() != Some(n)) {
                    continue;
                }
                let c = e.conditions.clone().unwrap_or_default();
                let entry = (e.addresses.first().cloned().unwrap_or_default(), target.port.unwrap_or(sp.port));
                if c.ready != Some(false) {
                    ready.push(entry);
                } else if c.serving == Some(true) {
                    serving.push(entry);
                }
            }
        }
        let pool = if ready.is_empty() { serving } else { ready };
        if pool.is_empty() {
            return None;
        }
        // Random per connection; with ClientIP affinity, fixed per client.
        let sticky = spec.session_affinity.as_deref() == Some("ClientIP");
        let n = self.connections.get();
        self.connections.set(n + 1);
        let key = if sticky { format!("{}/{name}", self.pod_uid) } else { format!("{}/{}/{n}/{name}", self.pod_uid, self.seed) };
        let i = (fnv1a64(key.as_bytes()) % pool.len() as u64) as usize;
        pool.into_iter().nth(i)
    }

    /// What the Pod at `ip` answers on `port`.
    fn deliver(&self, pod: &Pod, port: i32, path: Option<&str>) -> Reply {
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        let hostname = pod.metadata.name.as_deref().unwrap_or("");
        for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
            let Some(view) = self.api.running_container(uid, &c.name) else { continue };
            let Some(server) = &view.server else { continue };
            let since = self.api.now().since(view.started_at);
            if server.answers(port, since) {
                let (status, body) = path.map_or((0, String::new()), |p| server.respond(p, since, hostname, &view.files));
                return Reply::Http { status, body };
            }
        }
        Reply::Refused
    }
}

/// A request from outside the cluster straight to one Pod's port (`kubectl port-forward`).
pub fn request_pod(api: &ApiServer, pod_uid: &str, port: i32, path: &str) -> Reply {
    let pod = api.store().list("Pod", None).filter_map(Object::as_pod).find(|p| p.metadata.uid.as_deref() == Some(pod_uid));
    match pod {
        Some(pod) => PodNet::of(api, pod).deliver(pod, port, Some(path)),
        None => Reply::Refused,
    }
}

/// `10.244.1.5` → `10-244-1-5`.
fn dashed(ip: &str) -> String {
    ip.replace('.', "-")
}

fn is_ipv4(name: &str) -> bool {
    name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok())
}

impl Net for PodNet<'_> {
    fn resolve(&self, name: &str) -> Result<Resolved, Vec<String>> {
        let name = name.trim_end_matches('.');
        if is_ipv4(name) {
            return Ok(Resolved { fqdn: name.into(), addresses: vec![name.into()], cname: None });
        }
        if name == "localhost" {
            return Ok(Resolved { fqdn: name.into(), addresses: vec!["127.0.0.1".into()], cname: None });
        }
        let search = [format!("{}.svc.{CLUSTER_DOMAIN}", self.namespace), format!("svc.{CLUSTER_DOMAIN}"), CLUSTER_DOMAIN.to_string()];
        let mut candidates: Vec<String> = Vec::new();
        let dots = name.matches('.').count();
        if dots >= 5 {
            candidates.push(name.into());
        }
        candidates.extend(search.iter().map(|s| format!("{name}.{s}")));
        if dots < 5 {
            candidates.push(name.into());
        }
        for fqdn in &candidates {
            if let Some(found) = self.lookup(fqdn) {
                return Ok(found);
            }
        }
        Err(candidates)
    }

    fn connect(&self, ip: &str, port: i32, path: Option<&str>, host: &str) -> Reply {
        if ip == NGINX_ADDRESS && (port == 80 || port == 443) {
            return self.through_ingress(host, path.unwrap_or("/"));
        }
        if ip == "127.0.0.1" {
            let own = self
                .api
                .store()
                .list("Pod", Some(&self.namespace))
                .filter_map(Object::as_pod)
                .find(|p| p.metadata.uid.as_deref() == Some(&self.pod_uid));
            return own.map_or(Reply::Refused, |p| self.deliver(p, port, path));
        }
        // A Service's ClusterIP or a node's NodePort: kube-proxy picks an endpoint.
        let node = self
            .api
            .store()
            .list("Node", None)
            .filter_map(Object::as_node)
            .find(|n| n.status.iter().flat_map(|s| s.addresses.iter().flatten()).any(|a| a.address == ip))
            .and_then(|n| n.metadata.name.clone());
        let node_ip = node.is_some();
        let service = self.services().find(|s| {
            let spec = s.spec.as_ref();
            let cluster_ip = spec.and_then(|s| s.cluster_ip.as_deref()) == Some(ip);
            let node_port = node_ip && spec.is_some_and(|s| s.ports.iter().flatten().any(|p| p.node_port == Some(port)));
            let external = spec.is_some_and(|s| s.external_ips.iter().flatten().any(|e| e == ip));
            let load_balancer = s
                .status
                .as_ref()
                .and_then(|st| st.load_balancer.as_ref())
                .is_some_and(|lb| lb.ingress.iter().flatten().any(|i| i.ip.as_deref() == Some(ip)));
            cluster_ip || node_port || external || load_balancer
        });
        if let Some(service) = service {
            let via_node = node.as_deref().filter(|_| service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) != Some(ip));
            let Some((pod_ip, target)) = self.endpoint(service, port, via_node) else {
                // No endpoint: rejected — but when a Local traffic policy left none on the node,
                // the packets are dropped.
                let spec = service.spec.as_ref();
                let local = match via_node {
                    Some(_) => spec.and_then(|s| s.external_traffic_policy.as_deref()) == Some("Local"),
                    None => spec.and_then(|s| s.internal_traffic_policy.as_deref()) == Some("Local"),
                };
                return if local { Reply::Unreachable } else { Reply::Refused };
            };
            return match self.pod_by_ip(&pod_ip) {
                Some(pod) => self.deliver(pod, target, path),
                None => Reply::Refused, // Outside the cluster (a hand-written endpoint): nothing we know answers.
            };
        }
        if node_ip {
            return Reply::Refused;
        }
        if let Some(pod) = self.pod_by_ip(ip) {
            return self.deliver(pod, port, path);
        }
        let cluster = ip.starts_with("10.96.") || ip.starts_with("10.97.") || ip.starts_with("10.2") || ip.starts_with("172.18.");
        if cluster {
            Reply::Unreachable
        } else {
            // The friendly internet: any public address answers with a stand-in page.
            Reply::Http {
                status: 200,
                body: format!("<html><body><p>kubeplay does not reach the internet: this page stands in for {ip}.</p></body></html>\n"),
            }
        }
    }

    fn nameserver(&self) -> String {
        DNS_SERVICE_IP.into()
    }

    /// `_<port>._<proto>.<svc>.<ns>.svc.cluster.local`: for a named port, one record pointing at
    /// the Service's name (a headless Service: one per ready endpoint, at the endpoint's name).
    fn resolve_srv(&self, name: &str) -> Vec<(String, u16, u16, i32, String)> {
        let name = name.trim_end_matches('.');
        let search = [format!("{}.svc.{CLUSTER_DOMAIN}", self.namespace), format!("svc.{CLUSTER_DOMAIN}"), CLUSTER_DOMAIN.to_string()];
        let candidates: Vec<String> = std::iter::once(name.to_string()).chain(search.iter().map(|s| format!("{name}.{s}"))).collect();
        for fqdn in candidates {
            let Some(inside) = fqdn.strip_suffix(&format!(".{CLUSTER_DOMAIN}")) else { continue };
            let parts: Vec<&str> = inside.split('.').collect();
            let [port, proto, svc, ns, "svc"] = parts.as_slice() else { continue };
            let (Some(port), Some(proto)) = (port.strip_prefix('_'), proto.strip_prefix('_')) else { continue };
            let Some(service) =
                self.services().find(|s| s.metadata.name.as_deref() == Some(*svc) && s.metadata.namespace.as_deref() == Some(*ns))
            else {
                continue;
            };
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
            for slice in self.api.store().list("EndpointSlice", Some(ns)).filter_map(Object::as_endpoint_slice) {
                if slice.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str) != Some(*svc) {
                    continue;
                }
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
}

impl PodNet<'_> {
    /// A request to ingress-nginx: the Ingress rules pick a backend Service; nginx answers 404
    /// when none matches, 503 when the Service has no ready endpoint, 502 when the endpoint
    /// refuses.
    fn through_ingress(&self, host: &str, path: &str) -> Reply {
        const NOT_FOUND: &str = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        const UNAVAILABLE: &str = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        const BAD_GATEWAY: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        let ingresses: Vec<&k8s_openapi::api::networking::v1::Ingress> =
            self.api.store().list("Ingress", None).filter_map(Object::as_ingress).filter(|i| ingress::served_by_nginx(i)).collect();
        let Some((ing, backend)) = ingress::route(&ingresses, host, path) else {
            return Reply::Http { status: 404, body: NOT_FOUND.into() };
        };
        let namespace = ing.metadata.namespace.as_deref().unwrap_or("default");
        let Some(target) = backend.service.as_ref() else { return Reply::Http { status: 503, body: UNAVAILABLE.into() } };
        let service = self
            .services()
            .find(|s| s.metadata.namespace.as_deref() == Some(namespace) && s.metadata.name.as_deref() == Some(target.name.as_str()));
        let Some(service) = service else { return Reply::Http { status: 503, body: UNAVAILABLE.into() } };
        let port = target.port.as_ref().and_then(|p| match (&p.number, &p.name) {
            (Some(n), _) => Some(*n),
            (None, Some(name)) => {
                service.spec.iter().flat_map(|s| s.ports.iter().flatten()).find(|sp| sp.name.as_deref() == Some(name)).map(|sp| sp.port)
            }
            _ => None,
        });
        let Some((pod_ip, target_port)) = port.and_then(|p| self.endpoint(service, p, None)) else {
            return Reply::Http { status: 503, body: UNAVAILABLE.into() };
        };
        match self.pod_by_ip(&pod_ip).map(|pod| self.deliver(pod, target_port, Some(path))) {
            Some(reply @ Reply::Http { .. }) => reply,
            _ => Reply::Http { status: 502, body: BAD_GATEWAY.into() },
        }
    }

    /// One fully qualified name, as CoreDNS's kubernetes plugin answers it.
    fn lookup(&self, fqdn: &str) -> Option<Resolved> {
        let answer = |addresses: Vec<String>| Some(Resolved { fqdn: fqdn.to_string(), addresses, cname: None });
        let Some(inside) = fqdn.strip_suffix(&format!(".{CLUSTER_DOMAIN}")) else {
            // Outside the cluster: a real-looking domain resolves to a public address.
            let tld = fqdn.rsplit('.').next().unwrap_or("");
            let public = fqdn.contains('.') && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic());
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
                let service =
                    self.services().find(|s| s.metadata.name.as_deref() == Some(*svc) && s.metadata.namespace.as_deref() == Some(*ns))?;
                let spec = service.spec.as_ref()?;
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
                            .api
                            .store()
                            .list("EndpointSlice", Some(ns))
                            .filter_map(Object::as_endpoint_slice)
                            .filter(|s| {
                                s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str)
                                    == Some(*svc)
                            })
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
                .api
                .store()
                .list("EndpointSlice", Some(ns))
                .filter_map(Object::as_endpoint_slice)
                .filter(|s| s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")).map(String::as_str) == Some(*svc))
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

/// The Pod's own A record name (`10-244-1-5.default.pod.cluster.local`).
pub fn pod_record(pod: &Pod) -> String {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    format!("{}.{ns}.pod.{CLUSTER_DOMAIN}", dashed(crate::api::endpoints::pod_ip(pod)))
}
