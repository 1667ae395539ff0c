//! HTTP through a GKE Ingress's Google Cloud load balancer: its URL map (the Ingress's rules)
//! picks a backend Service; with container-native load balancing the load balancer sends
//! straight to a ready Pod (a NEG endpoint), otherwise to a node's NodePort, where kube-proxy
//! takes over. No matching rule: GKE's default backend answers 404. No healthy backend: the
//! load balancer's own 502 page.

use k8s_openapi::api::networking::v1::Ingress;

use super::{ClientNet, Reply};
use crate::api::ingress::{self, neg_enabled};

const DEFAULT_BACKEND_404: &str = "response 404 (backend NotFound), service rules for the path non-existent\n";
const SERVER_ERROR_502: &str = "\n<html><head>\n<meta http-equiv=\"content-type\" content=\"text/html;charset=utf-8\">\n<title>502 Server Error</title>\n</head>\n<body text=#000000 bgcolor=#ffffff>\n<h1>Error: Server Error</h1>\n<h2>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.</h2>\n<h2></h2>\n</body></html>\n";

impl ClientNet<'_> {
    pub(super) fn through_gce(&self, ing: &Ingress, host: &str, path: &str) -> Reply {
        let server_error = || Reply::Http { status: 502, body: SERVER_ERROR_502.into() };
        let Some((_, backend)) = ingress::route(&[ing], host, path) else {
            return Reply::Http { status: 404, body: DEFAULT_BACKEND_404.into() };
        };
        let namespace = ing.metadata.namespace.as_deref().unwrap_or("default");
        let Some(target) = backend.service.as_ref() else { return server_error() };
        let Some(service) = self.service(namespace, &target.name) else { return server_error() };
        self.note_service(service);
        let port = target.port.as_ref().and_then(|p| match (&p.number, &p.name) {
            (Some(n), _) => Some(*n),
            (None, Some(name)) => {
                service.spec.iter().flat_map(|s| s.ports.iter().flatten()).find(|sp| sp.name.as_deref() == Some(name)).map(|sp| sp.port)
            }
            _ => None,
        });
        let Some(port) = port else { return server_error() };
        let chosen = if neg_enabled(service) {
            // Container-native: the Pod itself is the load balancer's endpoint.
            self.endpoint(service, port, None, false)
        } else {
            // Instance groups: a node, then its NodePort's rules.
            let node = self.load_balancer_node(service, port);
            self.route.borrow_mut().entry_node = node.clone();
            node.and_then(|n| self.endpoint(service, port, Some(&n), true))
        };
        let Some((pod_ip, target_port, _)) = chosen else { return server_error() };
        match self.deliver_to(&pod_ip, target_port, Some(path)) {
            reply @ Reply::Http { .. } => reply,
            _ => server_error(),
        }
    }
}
