//! HTTP through ingress-nginx: the Ingress rules pick a backend Service; nginx answers 404
//! when none matches, 503 when the Service has no ready endpoint, 502 when the endpoint
//! refuses. A host the Ingress terminates TLS for is redirected from HTTP to HTTPS (308,
//! `ssl-redirect`'s default); on 443 it is served. Certificates are not modelled: nginx serves
//! the Secret's (or its fake one) and clients are not shown verifying it.

use k8s_openapi::api::networking::v1::Ingress;

use super::{ClientNet, Reply};
use crate::api::{ingress, Object};

const NOT_FOUND: &str = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
const UNAVAILABLE: &str = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
const PERMANENT_REDIRECT: &str = "<html>\r\n<head><title>308 Permanent Redirect</title></head>\r\n<body>\r\n<center><h1>308 Permanent Redirect</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
const BAD_GATEWAY: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

impl ClientNet<'_> {
    pub(super) fn through_ingress(&self, host: &str, path: &str, port: i32) -> Reply {
        let ingresses: Vec<&Ingress> =
            self.api.store().list("Ingress", None).filter_map(Object::as_ingress).filter(|i| ingress::served_by_nginx(i)).collect();
        let Some((ing, backend)) = ingress::route(&ingresses, host, path) else {
            return Reply::Http { status: 404, body: NOT_FOUND.into() };
        };
        if port == 80 && ingress::terminates_tls(ing, host) {
            return Reply::Http { status: 308, body: PERMANENT_REDIRECT.into() };
        }
        let namespace = ing.metadata.namespace.as_deref().unwrap_or("default");
        let unavailable = Reply::Http { status: 503, body: UNAVAILABLE.into() };
        let Some(target) = backend.service.as_ref() else { return unavailable };
        let Some(service) = self.service(namespace, &target.name) else { return unavailable };
        self.note_service(service);
        let port = target.port.as_ref().and_then(|p| match (&p.number, &p.name) {
            (Some(n), _) => Some(*n),
            (None, Some(name)) => {
                service.spec.iter().flat_map(|s| s.ports.iter().flatten()).find(|sp| sp.name.as_deref() == Some(name)).map(|sp| sp.port)
            }
            _ => None,
        });
        // nginx proxies to the endpoints directly (not through the Service's ClusterIP).
        let Some((pod_ip, target_port, _)) = port.and_then(|p| self.endpoint(service, p, None, false)) else { return unavailable };
        match self.deliver_to(&pod_ip, target_port, Some(path)) {
            reply @ Reply::Http { .. } => reply,
            _ => Reply::Http { status: 502, body: BAD_GATEWAY.into() },
        }
    }
}
