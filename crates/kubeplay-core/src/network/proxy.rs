//! Connections as kube-proxy's rules route them. A Service's address (its ClusterIP, a node's
//! NodePort, an external IP, its load balancer's IP) picks one of the Service's ready
//! endpoints at random per connection — serving terminating ones when none is ready — and
//! with none, rejects. Traffic policies keep to the entry node's endpoints
//! (`externalTrafficPolicy: Local` for traffic arriving from outside, `internalTrafficPolicy:
//! Local` for a Pod's); a node with none drops the packets. A cloud load balancer sends only
//! to nodes that pass its health check (with the Local policy, nodes with a ready endpoint).
//! What answers is the target container's server, from the running-container views the API
//! server relays. Names outside the cluster resolve to a public address that answers 200: the
//! simulated cluster has a friendly internet.

use std::cell::Cell;

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointHints;

use super::{Net, Reply, Resolved, DNS_SERVICE_IP};
use crate::api::ingress::NGINX_ADDRESS;
use crate::api::{pod_util, Object};
use crate::apiserver::ApiServer;
use crate::rng::fnv1a64;

/// The label that keeps a node out of load balancers' pools (kubeadm puts it on control-plane
/// nodes).
const EXCLUDE_FROM_LB: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    /// A Pod, on its node.
    Pod { namespace: String, uid: String, node: String },
    /// A client outside the cluster (its address, for ClientIP affinity).
    External { address: String },
}

/// The network as one client sees it.
pub struct ClientNet<'a> {
    pub api: &'a ApiServer,
    origin: Origin,
    /// Varies the endpoint kube-proxy picks (its rules pick at random per connection).
    seed: u64,
    /// Connections made so far through this view (each picks anew).
    connections: Cell<u64>,
    /// The path the last connection took.
    pub(super) route: std::cell::RefCell<Route>,
}

/// The path a connection took, for showing it: the Service rule that matched, the node the
/// packets entered, and the Pod that answered (and its node: when it differs from the entry
/// node the packets crossed the overlay).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    /// (namespace, name).
    pub service: Option<(String, String)>,
    pub entry_node: Option<String>,
    /// The answering Pod's uid, namespace and name.
    pub pod: Option<String>,
    pub pod_name: Option<(String, String)>,
    pub pod_node: Option<String>,
    /// The address and port the connection was delivered to (after kube-proxy's DNAT).
    pub target: Option<(String, i32)>,
    /// The address dialled, and the kind of address it was (`ClusterIP`, `NodePort`,
    /// `LoadBalancer`, `ExternalIP`, `Ingress`, `Pod`, `hostPort`).
    pub dialled: Option<(String, i32, &'static str)>,
    /// Through an Ingress: `nginx` (ingress-nginx) or `gce` (a GKE load balancer).
    pub ingress: Option<&'static str>,
}

impl<'a> ClientNet<'a> {
    /// The network from inside `pod`.
    pub fn pod(api: &'a ApiServer, pod: &Pod) -> ClientNet<'a> {
        let origin = Origin::Pod {
            namespace: pod.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            node: pod_util::node_name(pod).unwrap_or("").to_string(),
        };
        ClientNet::new(api, origin, api.now().ms())
    }

    /// The network from inside `pod` for one request of a stream; `seed` varies the choices
    /// its connections meet.
    pub fn pod_seeded(api: &'a ApiServer, pod: &Pod, seed: u64) -> ClientNet<'a> {
        ClientNet { seed, ..ClientNet::pod(api, pod) }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The network from outside the cluster, for a client at `address`; `seed` varies the
    /// choices its connections meet.
    pub fn external(api: &'a ApiServer, address: &str, seed: u64) -> ClientNet<'a> {
        ClientNet::new(api, Origin::External { address: address.to_string() }, seed)
    }

    fn new(api: &'a ApiServer, origin: Origin, seed: u64) -> ClientNet<'a> {
        ClientNet { api, origin, seed, connections: Cell::new(0), route: Default::default() }
    }

    pub(super) fn namespace(&self) -> Option<&str> {
        match &self.origin {
            Origin::Pod { namespace, .. } => Some(namespace),
            Origin::External { .. } => None,
        }
    }

    /// The client's source address: a Pod's IP, or the outside client's.
    fn source_address(&self) -> String {
        match &self.origin {
            Origin::Pod { namespace, uid, .. } => self
                .api
                .store()
                .list("Pod", Some(namespace))
                .filter_map(Object::as_pod)
                .find(|p| p.metadata.uid.as_deref() == Some(uid))
                .map(|p| crate::api::endpoints::pod_ip(p).to_string())
                .unwrap_or_default(),
            Origin::External { address } => address.clone(),
        }
    }

    fn client_key(&self) -> &str {
        match &self.origin {
            Origin::Pod { uid, .. } => uid,
            Origin::External { address } => address,
        }
    }

    /// The path the last connection took.
    pub fn last_route(&self) -> Route {
        self.route.borrow().clone()
    }

    pub(super) fn services(&self) -> impl Iterator<Item = &'a Service> {
        self.api.store().list("Service", None).filter_map(Object::as_service)
    }

    pub(super) fn service(&self, namespace: &str, name: &str) -> Option<&'a Service> {
        self.api.store().get(&crate::api::ObjectKey::new("Service", namespace, name)).and_then(Object::as_service)
    }

    fn pod_by_ip(&self, ip: &str) -> Option<&'a Pod> {
        self.api
            .store()
            .list("Pod", None)
            .filter_map(Object::as_pod)
            .find(|p| crate::api::endpoints::pod_ip(p) == ip && !pod_util::is_terminal(p))
    }

    pub(super) fn note_service(&self, service: &Service) {
        self.route.borrow_mut().service =
            Some((service.metadata.namespace.clone().unwrap_or_default(), service.metadata.name.clone().unwrap_or_default()));
    }

    /// A number that differs per connection (and per client with ClientIP affinity, is fixed).
    fn pick(&self, what: &str, sticky: bool, n: usize) -> usize {
        let c = self.connections.get();
        let key = if sticky { format!("{}/{what}", self.client_key()) } else { format!("{}/{}/{c}/{what}", self.client_key(), self.seed) };
        (fnv1a64(key.as_bytes()) % n.max(1) as u64) as usize
    }

    /// The ready (or, failing that, serving) endpoints of `service` for `port`: (IP, target
    /// port, node). `local_node` keeps to one node's.
    fn endpoints(&self, service: &Service, port: i32, local_node: Option<&str>) -> Vec<(String, i32, String)> {
        self.endpoints_hinted(service, port, local_node).into_iter().map(|(e, _)| e).collect()
    }

    /// The endpoints as kube-proxy on `node` uses them: when the Service asks for topology
    /// (trafficDistribution or topology-mode Auto), every endpoint carries hints and some are
    /// hinted for this node (PreferSameNode) or its zone, only those.
    fn endpoints_near(&self, service: &Service, port: i32, local_node: Option<&str>, node: Option<&str>) -> Vec<(String, i32, String)> {
        let pool = self.endpoints_hinted(service, port, local_node);
        let mode = crate::api::endpoints::topology_mode(service);
        let zone = node
            .and_then(|n| self.api.store().get(&crate::api::ObjectKey::new("Node", "", n)))
            .and_then(|o| o.as_node()?.metadata.labels.as_ref()?.get("topology.kubernetes.io/zone").cloned());
        let hinted = |h: &Option<EndpointHints>| h.as_ref().and_then(|h| h.for_zones.as_ref()).is_some_and(|z| !z.is_empty());
        let usable = mode != crate::api::endpoints::TopologyMode::None
            && local_node.is_none()
            && !pool.is_empty()
            && pool.iter().all(|(_, h)| hinted(h));
        if usable {
            if mode == crate::api::endpoints::TopologyMode::SameNode {
                let same_node: Vec<_> = pool
                    .iter()
                    .filter(|(_, h)| {
                        h.as_ref().and_then(|h| h.for_nodes.as_ref()).is_some_and(|ns| ns.iter().any(|n| Some(n.name.as_str()) == node))
                    })
                    .map(|(e, _)| e.clone())
                    .collect();
                if !same_node.is_empty() {
                    return same_node;
                }
            }
            if let Some(zone) = zone {
                let same_zone: Vec<_> = pool
                    .iter()
                    .filter(|(_, h)| h.as_ref().and_then(|h| h.for_zones.as_ref()).is_some_and(|zs| zs.iter().any(|z| z.name == zone)))
                    .map(|(e, _)| e.clone())
                    .collect();
                if !same_zone.is_empty() {
                    return same_zone;
                }
            }
        }
        pool.into_iter().map(|(e, _)| e).collect()
    }

    #[allow(clippy::type_complexity)]
    fn endpoints_hinted(
        &self,
        service: &Service,
        port: i32,
        local_node: Option<&str>,
    ) -> Vec<((String, i32, String), Option<EndpointHints>)> {
        let Some(spec) = service.spec.as_ref() else { return Vec::new() };
        let Some(sp) = spec.ports.iter().flatten().find(|p| p.port == port || p.node_port == Some(port)) else { return Vec::new() };
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
            for e in slice.endpoints.iter().flatten() {
                let node = e.node_name.clone().unwrap_or_default();
                if local_node.is_some_and(|n| node != n) {
                    continue;
                }
                let c = e.conditions.clone().unwrap_or_default();
                let entry = ((e.addresses.first().cloned().unwrap_or_default(), target.port.unwrap_or(sp.port), node), e.hints.clone());
                if c.ready != Some(false) {
                    ready.push(entry);
                } else if c.serving == Some(true) {
                    serving.push(entry);
                }
            }
        }
        if ready.is_empty() {
            serving
        } else {
            ready
        }
    }

    /// One endpoint of `service` for `port`, as the rules on `entry_node` pick it. `external`:
    /// the traffic came from outside the cluster (the external policy applies), else from a
    /// Pod on `entry_node` (the internal one).
    pub(super) fn endpoint(&self, service: &Service, port: i32, entry_node: Option<&str>, external: bool) -> Option<(String, i32, String)> {
        let spec = service.spec.as_ref()?;
        let local = if external {
            spec.external_traffic_policy.as_deref() == Some("Local")
        } else {
            spec.internal_traffic_policy.as_deref() == Some("Local")
        };
        let pool = self.endpoints_near(service, port, entry_node.filter(|_| local), entry_node);
        if pool.is_empty() {
            return None;
        }
        // Random per connection; with ClientIP affinity, fixed per client.
        let sticky = spec.session_affinity.as_deref() == Some("ClientIP");
        let i = self.pick(service.metadata.name.as_deref().unwrap_or(""), sticky, pool.len());
        pool.into_iter().nth(i)
    }

    /// What the Pod answers on `port`.
    pub(super) fn deliver(&self, pod: &Pod, port: i32, path: Option<&str>) -> Reply {
        {
            let mut route = self.route.borrow_mut();
            route.pod = pod.metadata.uid.clone();
            route.pod_name = Some((pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default()));
            route.pod_node = pod_util::node_name(pod).map(str::to_string);
            route.target = Some((crate::api::endpoints::pod_ip(pod).to_string(), port));
        }
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        // A host-network Pod has its node's hostname.
        let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
        let hostname = if host_network { pod_util::node_name(pod) } else { pod.metadata.name.as_deref() }.unwrap_or("");
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

    /// Delivers to the endpoint at `ip` (a Pod, or for a hand-written endpoint, an address
    /// nothing we know answers at).
    pub(super) fn deliver_to(&self, ip: &str, port: i32, path: Option<&str>) -> Reply {
        // Host-network Pods share their node's address: the one listening on the port answers.
        let pods: Vec<&Pod> = self
            .api
            .store()
            .list("Pod", None)
            .filter_map(Object::as_pod)
            .filter(|p| crate::api::endpoints::pod_ip(p) == ip && !pod_util::is_terminal(p))
            .collect();
        let listening = pods.iter().find(|p| self.listens(p, port)).or(pods.first());
        match listening {
            Some(pod) => self.deliver(pod, port, path),
            None => Reply::Refused,
        }
    }

    fn listens(&self, pod: &Pod, port: i32) -> bool {
        let uid = pod.metadata.uid.as_deref().unwrap_or("");
        pod.spec.iter().flat_map(|s| s.containers.iter()).any(|c| {
            self.api
                .running_container(uid, &c.name)
                .and_then(|v| v.server.as_ref().map(|s| s.answers(port, self.api.now().since(v.started_at))))
                == Some(true)
        })
    }

    /// A connection to a node's own port, not a Service's: a `hostPort` (the CNI's port
    /// mapping to the Pod's container port) or a host-network Pod listening there.
    fn on_node(&self, node: &str, port: i32, path: Option<&str>) -> Option<Reply> {
        let pods: Vec<&Pod> = self
            .api
            .store()
            .pods_on(node)
            .filter_map(Object::as_pod)
            .filter(|p| !pod_util::is_terminal(p) && p.metadata.deletion_timestamp.is_none())
            .collect();
        for pod in &pods {
            let mapped = pod
                .spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| p.host_port == Some(port) && p.protocol.as_deref().unwrap_or("TCP") == "TCP");
            if let Some(mapped) = mapped {
                return Some(self.deliver(pod, mapped.container_port, path));
            }
        }
        let host_network = pods.iter().filter(|p| p.spec.as_ref().and_then(|s| s.host_network) == Some(true));
        for pod in host_network {
            if self.listens(pod, port) {
                return Some(self.deliver(pod, port, path));
            }
        }
        None
    }

    fn node_with_address(&self, ip: &str) -> Option<&'a Node> {
        self.api
            .store()
            .list("Node", None)
            .filter_map(Object::as_node)
            .find(|n| n.status.iter().flat_map(|s| s.addresses.iter().flatten()).any(|a| a.address == ip))
    }

    /// The node a cloud load balancer sends a connection to: one of the Ready nodes not
    /// excluded from load balancers; with `externalTrafficPolicy: Local`, only those whose
    /// health check (`healthCheckNodePort`) passes — nodes with a ready endpoint. With no
    /// healthy node, the load balancer spreads over all of them (and the traffic is dropped).
    pub(super) fn load_balancer_node(&self, service: &Service, port: i32) -> Option<String> {
        let mut nodes: Vec<String> = self
            .api
            .store()
            .list("Node", None)
            .filter_map(Object::as_node)
            .filter(|n| n.metadata.labels.as_ref().is_none_or(|l| !l.contains_key(EXCLUDE_FROM_LB)))
            .filter(|n| node_ready(n))
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let local = service.spec.as_ref().and_then(|s| s.external_traffic_policy.as_deref()) == Some("Local");
        if local {
            let healthy: Vec<String> = self.endpoints(service, port, None).into_iter().map(|e| e.2).collect();
            let passing: Vec<String> = nodes.iter().filter(|n| healthy.contains(n)).cloned().collect();
            if !passing.is_empty() {
                nodes = passing;
            }
        }
        let i = self.pick("load-balancer", false, nodes.len());
        nodes.into_iter().nth(i)
    }

    /// A connection to `ip:port` (with `path`, an HTTP GET), and the path it took.
    pub fn connect_traced(&self, ip: &str, port: i32, path: Option<&str>, host: &str) -> (Reply, Route) {
        *self.route.borrow_mut() = Route::default();
        let reply = self.route_connection(ip, port, path, host);
        self.connections.set(self.connections.get() + 1);
        (reply, self.last_route())
    }

    fn route_connection(&self, ip: &str, port: i32, path: Option<&str>, host: &str) -> Reply {
        let (external, own_node) = match &self.origin {
            Origin::Pod { node, .. } => (false, Some(node.clone())),
            Origin::External { .. } => (true, None),
        };
        if ip == NGINX_ADDRESS && (port == 80 || port == 443) {
            self.route.borrow_mut().ingress = Some("nginx");
            self.route.borrow_mut().dialled = Some((ip.to_string(), port, "Ingress"));
            return self.through_ingress(host, path.unwrap_or("/"), port);
        }
        if ip == "127.0.0.1" {
            let Origin::Pod { namespace, uid, .. } = &self.origin else { return Reply::Refused };
            let own =
                self.api.store().list("Pod", Some(namespace)).filter_map(Object::as_pod).find(|p| p.metadata.uid.as_deref() == Some(uid));
            return own.map_or(Reply::Refused, |p| self.deliver(p, port, path));
        }
        // A GKE Ingress's load balancer address.
        if port == 80 || port == 443 {
            let gce = self.api.store().list("Ingress", None).filter_map(Object::as_ingress).find(|i| {
                crate::api::ingress::served_by_gce(i)
                    && i.status
                        .as_ref()
                        .and_then(|s| s.load_balancer.as_ref())
                        .and_then(|lb| lb.ingress.as_ref())
                        .is_some_and(|l| l.iter().any(|x| x.ip.as_deref() == Some(ip)))
            });
            if let Some(ing) = gce {
                self.route.borrow_mut().ingress = Some("gce");
                self.route.borrow_mut().dialled = Some((ip.to_string(), port, "Ingress"));
                return self.through_gce(ing, host, path.unwrap_or("/"));
            }
        }
        let node = self.node_with_address(ip).and_then(|n| n.metadata.name.clone());
        let service = self.services().find(|s| {
            let spec = s.spec.as_ref();
            let cluster_ip = !external && spec.and_then(|s| s.cluster_ip.as_deref()) == Some(ip);
            let node_port = node.is_some() && spec.is_some_and(|s| s.ports.iter().flatten().any(|p| p.node_port == Some(port)));
            let external_ip = spec.is_some_and(|s| s.external_ips.iter().flatten().any(|e| e == ip));
            cluster_ip || node_port || external_ip || load_balancer_ip(s) == Some(ip)
        });
        if let Some(service) = service {
            let spec = service.spec.as_ref();
            let by_cluster_ip = spec.and_then(|s| s.cluster_ip.as_deref()) == Some(ip);
            let by_load_balancer =
                load_balancer_ip(service) == Some(ip) || spec.is_some_and(|s| s.external_ips.iter().flatten().any(|e| e == ip));
            // Where the packets meet kube-proxy's rules, and which policy applies: a Pod's own
            // node (inside the cluster a load balancer's IP is short-circuited to the Service);
            // the node whose NodePort was called; the node a load balancer chose.
            let (entry, outside) = match (&node, external, by_cluster_ip || (by_load_balancer && !external)) {
                (_, false, true) => (own_node.clone(), false),
                (Some(n), _, _) => (Some(n.clone()), true),
                (None, true, _) => (self.load_balancer_node(service, port), true),
                (None, false, false) => (own_node.clone(), false),
            };
            self.note_service(service);
            let kind = if by_cluster_ip {
                "ClusterIP"
            } else if load_balancer_ip(service) == Some(ip) {
                "LoadBalancer"
            } else if node.is_some() {
                "NodePort"
            } else {
                "ExternalIP"
            };
            self.route.borrow_mut().entry_node = entry.clone();
            self.route.borrow_mut().dialled = Some((ip.to_string(), port, kind));
            // `loadBalancerSourceRanges`: the cloud's firewall (and kube-proxy's rules) drop
            // load-balancer traffic from anywhere else.
            let ranges = spec.and_then(|s| s.load_balancer_source_ranges.as_ref()).filter(|r| !r.is_empty());
            if let (Some(ranges), "LoadBalancer") = (ranges, kind) {
                let source = self.source_address();
                if !ranges.iter().any(|cidr| in_cidr(&source, cidr)) {
                    return Reply::Unreachable;
                }
            }
            let Some((pod_ip, target, _)) = self.endpoint(service, port, entry.as_deref(), outside) else {
                // No endpoint: rejected — but when a Local traffic policy left none on the
                // node, the packets are dropped.
                let local = if outside {
                    spec.and_then(|s| s.external_traffic_policy.as_deref()) == Some("Local")
                } else {
                    spec.and_then(|s| s.internal_traffic_policy.as_deref()) == Some("Local")
                };
                return if local { Reply::Unreachable } else { Reply::Refused };
            };
            return self.deliver_to(&pod_ip, target, path);
        }
        if let Some(node) = node {
            if let Some(reply) = self.health_check(&node, port, path) {
                return reply;
            }
            self.route.borrow_mut().entry_node = Some(node.clone());
            self.route.borrow_mut().dialled = Some((ip.to_string(), port, "hostPort"));
            if let Some(reply) = self.on_node(&node, port, path) {
                return reply;
            }
            self.route.borrow_mut().entry_node = Some(node);
            return Reply::Refused;
        }
        let cluster = ip.starts_with("10.96.") || ip.starts_with("10.97.") || ip.starts_with("10.2") || ip.starts_with("172.18.");
        if !external {
            if let Some(pod) = self.pod_by_ip(ip) {
                self.route.borrow_mut().entry_node = own_node;
                self.route.borrow_mut().dialled = Some((ip.to_string(), port, "Pod"));
                return self.deliver(pod, port, path);
            }
        }
        if cluster {
            // From outside, the Pod and Service networks are not routed at all.
            Reply::Unreachable
        } else {
            // The friendly internet: any public address answers with a stand-in page.
            Reply::Http {
                status: 200,
                body: format!("<html><body><p>kubeplay does not reach the internet: this page stands in for {ip}.</p></body></html>\n"),
            }
        }
    }
}

impl ClientNet<'_> {
    /// kube-proxy's health check server on a Service's `healthCheckNodePort`: 200 while the
    /// node has a ready endpoint of the Service, 503 otherwise, with its JSON payload.
    fn health_check(&self, node: &str, port: i32, path: Option<&str>) -> Option<Reply> {
        let service = self.services().find(|s| s.spec.as_ref().and_then(|s| s.health_check_node_port) == Some(port))?;
        let service_port = service.spec.as_ref()?.ports.iter().flatten().next()?.port;
        let local = self.endpoints(service, service_port, Some(node)).len();
        let status = if local > 0 { 200 } else { 503 };
        let body = format!(
            "{{\"service\":{{\"namespace\":\"{}\",\"name\":\"{}\"}},\"localEndpoints\":{local},\"serviceProxyHealthy\":true}}",
            service.metadata.namespace.as_deref().unwrap_or(""),
            service.metadata.name.as_deref().unwrap_or("")
        );
        Some(match path {
            Some(_) => Reply::Http { status, body },
            None => Reply::Http { status: 0, body: String::new() },
        })
    }
}

/// Whether `ip` lies in `cidr` (`10.0.0.0/8`; a bare address is a /32).
fn in_cidr(ip: &str, cidr: &str) -> bool {
    let (base, bits) = cidr.trim().split_once('/').map_or((cidr.trim(), 32), |(b, n)| (b, n.parse::<u32>().unwrap_or(33)));
    match (crate::apiserver::parse_ip(ip), crate::apiserver::parse_ip(base)) {
        (Some(ip), Some(base)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            ip & mask == base & mask
        }
        _ => false,
    }
}

fn node_ready(node: &Node) -> bool {
    node.status.iter().flat_map(|s| s.conditions.iter().flatten()).any(|c| c.type_ == "Ready" && c.status == "True")
}

fn load_balancer_ip(service: &Service) -> Option<&str> {
    service.status.as_ref()?.load_balancer.as_ref()?.ingress.iter().flatten().find_map(|i| i.ip.as_deref())
}

/// A request from outside the cluster straight to one Pod's port (`kubectl port-forward`).
pub fn request_pod(api: &ApiServer, pod_uid: &str, port: i32, path: &str) -> Reply {
    let pod = api.store().list("Pod", None).filter_map(Object::as_pod).find(|p| p.metadata.uid.as_deref() == Some(pod_uid));
    match pod {
        Some(pod) => ClientNet::pod(api, pod).deliver(pod, port, Some(path)),
        None => Reply::Refused,
    }
}

impl Net for ClientNet<'_> {
    fn resolve(&self, name: &str) -> Result<Resolved, Vec<String>> {
        self.resolve_name(name)
    }

    fn connect(&self, ip: &str, port: i32, path: Option<&str>, host: &str) -> Reply {
        self.connect_traced(ip, port, path, host).0
    }

    fn nameserver(&self) -> String {
        DNS_SERVICE_IP.into()
    }

    fn resolve_srv(&self, name: &str) -> Vec<(String, u16, u16, i32, String)> {
        self.srv_records(name)
    }
}

#[cfg(test)]
mod tests {
    use super::in_cidr;

    #[test]
    fn cidrs_contain_their_addresses() {
        assert!(in_cidr("198.51.100.7", "198.51.100.0/24"));
        assert!(!in_cidr("198.51.101.7", "198.51.100.0/24"));
        assert!(in_cidr("10.1.2.3", "0.0.0.0/0"));
        assert!(in_cidr("10.1.2.3", "10.1.2.3"));
        assert!(!in_cidr("10.1.2.4", "10.1.2.3/32"));
        assert!(!in_cidr("10.1.2.4", "nonsense"));
    }
}
