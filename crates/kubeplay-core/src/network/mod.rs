//! The cluster network as a client sees it: cluster DNS as CoreDNS answers it (`dns.rs`),
//! connections as kube-proxy's rules route them (`proxy.rs`) and HTTP through ingress-nginx
//! (`ingress.rs`). A client is a Pod (the container shell's `wget`, `curl`, `nslookup`; an
//! in-cluster traffic source) or outside the cluster (a traffic source hitting a load
//! balancer, a NodePort or the Ingress address; `kubectl port-forward`). The shell sees only
//! the `Net` trait, so it stays free of the cluster.

mod dns;
mod gce;
mod ingress;
mod proxy;

pub use proxy::{request_pod, ClientNet, Route};

pub const CLUSTER_DOMAIN: &str = "cluster.local";
/// The `kube-dns` Service's ClusterIP: every Pod's nameserver.
pub const DNS_SERVICE_IP: &str = "10.96.0.10";

/// The network as a container sees it: DNS through the cluster's resolver (with the Pod's
/// search path) and connections through the node's Service rules. The kubelet provides it;
/// the shell stays free of the cluster.
pub trait Net {
    /// The addresses `name` resolves to, or the names tried when it does not (NXDOMAIN).
    fn resolve(&self, name: &str) -> Result<Resolved, Vec<String>>;
    /// A connection to `ip:port`, and (with `path`) an HTTP GET of it, for `host` (the Host
    /// header, which an Ingress routes by).
    fn connect(&self, ip: &str, port: i32, path: Option<&str>, host: &str) -> Reply;
    /// The resolver's address (`/etc/resolv.conf`'s nameserver).
    fn nameserver(&self) -> String;
    /// SRV records for `name` (search path applied): (fully qualified name, priority, weight,
    /// port, target).
    fn resolve_srv(&self, _name: &str) -> Vec<(String, u16, u16, i32, String)> {
        Vec::new()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The fully qualified name that answered.
    pub fqdn: String,
    pub addresses: Vec<String>,
    /// An ExternalName Service's CNAME target.
    pub cname: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Nothing listens there, or a Service has no endpoints (kube-proxy's REJECT).
    Refused,
    /// No route: the address is nobody's.
    Unreachable,
    /// Connected; for an HTTP request the status and body.
    Http { status: u16, body: String },
}

/// No network at all: every name fails to resolve and nothing answers (for unit tests).
pub struct NoNet;

impl Net for NoNet {
    fn resolve(&self, name: &str) -> Result<Resolved, Vec<String>> {
        Err(vec![name.to_string()])
    }

    fn connect(&self, _ip: &str, _port: i32, _path: Option<&str>, _host: &str) -> Reply {
        Reply::Unreachable
    }

    fn nameserver(&self) -> String {
        "10.96.0.10".into()
    }
}
