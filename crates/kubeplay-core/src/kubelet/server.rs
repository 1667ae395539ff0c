//! What an image's server does once its container starts — the ports it listens on and from
//! when, the HTTP status each path answers over time, when it exits, how much memory it holds,
//! what it logs and which files its image ships. Read, in this order, from the Pod's
//! `kubeplay.dev/…` annotations (for behaviour no image explains), the catalogue of
//! well-known images below, and otherwise: it listens on its declared containerPorts after
//! about a second and answers 200 everywhere.
//!
//! Annotations (on the Pod; `NAME.CONTAINER` applies to one container only):
//! - `kubeplay.dev/startup: 20s` — time before the server listens;
//! - `kubeplay.dev/exit-after: 45s`, `kubeplay.dev/exit-code: "1"` — the process exits on its own;
//! - `kubeplay.dev/memory: 300Mi` — memory it holds (more than its limit: OOMKilled);
//! - `kubeplay.dev/http: "/healthz 200 after 30s 500; / 200"` — status per path, changing over
//!   time since the container started (paths not listed answer 200, or the image's default).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, Pod};

use crate::time::SimDuration;

/// One path's answers: a status from the start, and later ones after a time.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Route {
    path: String,
    /// (from time since start, status), ascending.
    statuses: Vec<(SimDuration, u16)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    ports: BTreeSet<i32>,
    startup: SimDuration,
    routes: Vec<Route>,
    /// The status of a path no route names.
    fallback: u16,
    pub exit_after: Option<(SimDuration, i32)>,
    pub memory: i64,
    pub log: Vec<String>,
    pub files: BTreeMap<String, String>,
    /// How it ends on SIGTERM: 0 for servers that shut down cleanly, else 143.
    pub sigterm_exit: i32,
    body: Body,
    /// Paths a `kubeplay.dev/http` annotation names (they answer as it says).
    annotated: std::collections::BTreeSet<String>,
}

/// What a successful response carries.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Body {
    Empty,
    /// nginx's files: its index page, and its own 404 page.
    Nginx,
    /// The Pod's hostname (agnhost serve-hostname).
    Hostname,
    /// A fixed text and a newline (http-echo's `-text`).
    Text(String),
    /// The GKE hello-app: a greeting, its version and the hostname.
    HelloApp(String),
}

/// The file nginx's default site serves for a request path.
fn nginx_file(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    if path.ends_with('/') {
        format!("/usr/share/nginx/html{path}index.html")
    } else {
        format!("/usr/share/nginx/html{path}")
    }
}

const NGINX_404: &str = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.29.3</center>\r\n</body>\r\n</html>\r\n";

impl crate::apiserver::logs::Responder for Server {
    fn answers(&self, port: i32, since: SimDuration) -> bool {
        since >= self.startup && self.ports.contains(&port)
    }

    fn respond(&self, path: &str, since: SimDuration, hostname: &str, files: &BTreeMap<String, String>) -> (u16, String) {
        let status = self.status_with_files(path, since, files);
        let body = match (&self.body, status) {
            (Body::Nginx, 200) => files.get(&nginx_file(path)).cloned().unwrap_or_default(),
            (Body::Nginx, 404) => NGINX_404.to_string(),
            (Body::Hostname, 200) => hostname.to_string(),
            (Body::Text(text), 200) => format!("{text}\n"),
            (Body::HelloApp(version), 200) => format!("Hello, world!\nVersion: {version}\nHostname: {hostname}\n"),
            _ => String::new(),
        };
        (status, body)
    }
}

fn annotation<'a>(pod: &'a Pod, container: &str, name: &str) -> Option<&'a str> {
    let annotations = pod.metadata.annotations.as_ref()?;
    annotations
        .get(&format!("kubeplay.dev/{name}.{container}"))
        .or_else(|| annotations.get(&format!("kubeplay.dev/{name}")))
        .map(String::as_str)
}

/// `/healthz 200 after 30s 500; / 200`.
fn parse_routes(text: &str) -> Vec<Route> {
    let mut routes = Vec::new();
    for part in text.split(';') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let Some((path, rest)) = words.split_first() else { continue };
        let mut statuses = Vec::new();
        let mut at = SimDuration::ZERO;
        let mut i = 0;
        while i < rest.len() {
            if rest[i] == "after" {
                at = rest.get(i + 1).and_then(|d| SimDuration::parse(d)).unwrap_or(at);
                i += 2;
                continue;
            }
            if let Ok(code) = rest[i].parse::<u16>() {
                statuses.push((at, code));
            }
            i += 1;
        }
        if !statuses.is_empty() {
            routes.push(Route { path: path.to_string(), statuses });
        }
    }
    routes
}

fn repo_of(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

/// Servers that need nothing but their ports: (repository, ports, start-up ms, exits 0 on SIGTERM).
const SERVERS: &[(&str, &[i32], u64, bool)] = &[
    ("podinfo", &[9898], 1500, false),
    ("redis", &[6379], 300, true),
    ("postgres", &[5432], 3000, true),
    ("mysql", &[3306], 15_000, true),
    ("mariadb", &[3306], 15_000, true),
    ("mongo", &[27017], 2000, true),
    ("memcached", &[11211], 100, false),
    ("rabbitmq", &[5672], 10_000, true),
    ("caddy", &[80], 1000, true),
    ("etcd", &[2379, 2380], 500, false),
];

/// The nginx image's default pages, as it ships them.
const NGINX_INDEX: &str = include_str!("image_files/index.html");
const NGINX_50X: &str = include_str!("image_files/50x.html");

impl Server {
    pub fn ports(&self) -> &BTreeSet<i32> {
        &self.ports
    }

    /// What the server logs when a port it listens on is taken, as its program words it.
    pub fn bind_failure(&self, image: &str, port: i32) -> String {
        match repo_of(image) {
            "nginx" => format!("nginx: [emerg] bind() to 0.0.0.0:{port} failed (98: Address already in use)"),
            "httpd" => format!("(98)Address already in use: AH00072: make_sock: could not bind to address 0.0.0.0:{port}"),
            "redis" => format!("Warning: Could not create server TCP listening socket *:{port}: bind: Address already in use"),
            _ => format!("listen tcp :{port}: bind: address already in use"),
        }
    }

    /// The server container `c` of `pod` runs.
    pub fn of(pod: &Pod, c: &Container) -> Server {
        let image = c.image.as_deref().unwrap_or("");
        let args: Vec<&str> = c.command.iter().flatten().chain(c.args.iter().flatten()).map(String::as_str).collect();
        let mut s = Server { startup: SimDuration(1000), ..Server::declared(c) };
        let route = |path: &str, statuses: &[(u64, u16)]| Route {
            path: path.into(),
            statuses: statuses.iter().map(|(ms, code)| (SimDuration(*ms), *code)).collect(),
        };
        match repo_of(image) {
            "nginx" => {
                s.ports.insert(80);
                s.startup = SimDuration(300);
                s.routes = vec![route("/", &[(0, 200)]), route("/index.html", &[(0, 200)])];
                s.fallback = 404;
                s.sigterm_exit = 0;
                s.body = Body::Nginx;
                s.log = [
                    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
                    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
                    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
                    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
                    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
                    "/docker-entrypoint.sh: Configuration complete; ready for start up",
                ]
                .map(String::from)
                .to_vec();
                s.files.insert("/usr/share/nginx/html/index.html".into(), NGINX_INDEX.into());
                s.files.insert("/usr/share/nginx/html/50x.html".into(), NGINX_50X.into());
                s.files.insert("/etc/nginx/nginx.conf".into(), "user  nginx;\nworker_processes  auto;\n\nerror_log  /var/log/nginx/error.log notice;\npid        /run/nginx.pid;\n\nevents {\n    worker_connections  1024;\n}\n\nhttp {\n    include       /etc/nginx/mime.types;\n    default_type  application/octet-stream;\n    sendfile        on;\n    keepalive_timeout  65;\n    include /etc/nginx/conf.d/*.conf;\n}\n".into());
                s.files.insert("/etc/nginx/conf.d/default.conf".into(), "server {\n    listen       80;\n    listen  [::]:80;\n    server_name  localhost;\n\n    location / {\n        root   /usr/share/nginx/html;\n        index  index.html index.htm;\n    }\n\n    error_page   500 502 503 504  /50x.html;\n    location = /50x.html {\n        root   /usr/share/nginx/html;\n    }\n}\n".into());
            }
            "httpd" => {
                s.ports.insert(80);
                s.startup = SimDuration(400);
                s.routes = vec![route("/", &[(0, 200)]), route("/index.html", &[(0, 200)])];
                s.fallback = 404;
                s.sigterm_exit = 0;
                s.files.insert("/usr/local/apache2/htdocs/index.html".into(), "<html><body><h1>It works!</h1></body></html>\n".into());
            }
            "agnhost" => match args.iter().find(|a| !a.starts_with('-') && !a.starts_with('/')).copied() {
                // agnhost liveness: /healthz answers 200 for its first 10 seconds, then 500.
                Some("liveness") => {
                    s.ports.insert(8080);
                    s.startup = SimDuration(200);
                    s.routes = vec![route("/healthz", &[(0, 200), (10_000, 500)])];
                    s.fallback = 404;
                }
                Some("serve-hostname") => {
                    // `--port` (default 9376), as agnhost takes it.
                    let flag = args.iter().position(|a| *a == "--port").and_then(|i| args.get(i + 1)).copied();
                    let port = args.iter().find_map(|a| a.strip_prefix("--port=")).or(flag).and_then(|p| p.parse().ok()).unwrap_or(9376);
                    s.ports.insert(port);
                    s.startup = SimDuration(200);
                    s.body = Body::Hostname;
                }
                Some("netexec") => {
                    let port = args.iter().find_map(|a| a.strip_prefix("--http-port=")).and_then(|p| p.parse().ok()).unwrap_or(8080);
                    s.ports.insert(port);
                    s.startup = SimDuration(200);
                }
                Some("test-webserver") => {
                    s.ports.insert(80);
                }
                _ => {}
            },
            "http-echo" => {
                let port = args.iter().find_map(|a| a.strip_prefix("-listen=:")).and_then(|p| p.parse().ok()).unwrap_or(5678);
                s.ports.insert(port);
                s.startup = SimDuration(100);
                let text =
                    args.iter().find_map(|a| a.strip_prefix("-text=").or_else(|| a.strip_prefix("--text="))).unwrap_or("hello-world");
                s.body = Body::Text(text.trim_matches('"').to_string());
            }
            "hello-app" => {
                s.ports.insert(8080);
                s.startup = SimDuration(200);
                let tag = image.rsplit_once(':').map_or("1.0", |(_, t)| t);
                s.body = Body::HelloApp(format!("{tag}.0"));
            }
            repo => {
                if let Some(&(_, ports, startup_ms, clean)) = SERVERS.iter().find(|(r, ..)| *r == repo) {
                    s.ports.extend(ports.iter().copied());
                    s.startup = SimDuration(startup_ms);
                    if clean {
                        s.sigterm_exit = 0;
                    }
                }
            }
        }
        let name = c.name.as_str();
        if let Some(d) = annotation(pod, name, "startup").and_then(SimDuration::parse) {
            s.startup = d;
        }
        if let Some(d) = annotation(pod, name, "exit-after").and_then(SimDuration::parse) {
            let code = annotation(pod, name, "exit-code").and_then(|c| c.trim().parse().ok()).unwrap_or(1);
            s.exit_after = Some((d, code));
        }
        if let Some(bytes) = annotation(pod, name, "memory").and_then(crate::api::quantity::bytes) {
            s.memory = bytes;
        }
        if let Some(text) = annotation(pod, name, "http") {
            let mut routes = parse_routes(text);
            s.annotated = routes.iter().map(|r| r.path.clone()).collect();
            routes.extend(s.routes.drain(..).filter(|r| !text.split(';').any(|p| p.split_whitespace().next() == Some(r.path.as_str()))));
            s.routes = routes;
        }
        s
    }

    /// What a script that runs a server (`exec nginx`, `python -m http.server`) answers: its
    /// declared ports, at once, 200 everywhere.
    pub fn declared(c: &Container) -> Server {
        Server {
            ports: c.ports.iter().flatten().map(|p| p.container_port).collect(),
            startup: SimDuration::ZERO,
            routes: Vec::new(),
            fallback: 200,
            exit_after: None,
            memory: 0,
            log: Vec::new(),
            files: BTreeMap::new(),
            sigterm_exit: 143,
            body: Body::Empty,
            annotated: Default::default(),
        }
    }

    /// A CPU limit below what start-up needs (a core, for these servers) throttles it: the
    /// CFS quota stretches start-up in proportion. Throttling never kills.
    pub fn throttle(&mut self, cpu_limit_millis: Option<i64>) {
        if let Some(limit) = cpu_limit_millis.filter(|l| *l > 0 && *l < 1000) {
            self.startup = SimDuration(self.startup.0.saturating_mul(1000) / limit as u64);
        }
    }

    /// The ports it answers on `since` after it started.
    pub fn listening(&self, since: SimDuration) -> BTreeSet<i32> {
        if since >= self.startup {
            self.ports.clone()
        } else {
            BTreeSet::new()
        }
    }

    /// The HTTP status for `path`: a web server's document root decides (nginx answers 404 for
    /// a file it does not have — one a ConfigMap or an init container put there, it serves);
    /// annotations override.
    pub fn status_with_files(&self, path: &str, since: SimDuration, files: &BTreeMap<String, String>) -> u16 {
        let path = path.split('?').next().unwrap_or(path);
        if self.body == Body::Nginx && !self.annotated.contains(path) {
            return if files.contains_key(&nginx_file(path)) { 200 } else { 404 };
        }
        self.status(path, since)
    }

    /// The HTTP status for `path` at `since` after start.
    pub fn status(&self, path: &str, since: SimDuration) -> u16 {
        let path = path.split('?').next().unwrap_or(path);
        match self.routes.iter().find(|r| r.path == path) {
            Some(r) => r.statuses.iter().rfind(|(at, _)| *at <= since).map_or(self.fallback, |(_, code)| *code),
            None => self.fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn server(image: &str, args: &[&str], annotations: &[(&str, &str)]) -> Server {
        let pod = Pod {
            metadata: ObjectMeta {
                annotations: Some(annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = Container {
            name: "app".into(),
            image: Some(image.into()),
            args: Some(args.iter().map(|a| a.to_string()).collect()),
            ..Default::default()
        };
        Server::of(&pod, &c)
    }

    #[test]
    fn catalogued_servers_answer_as_the_images_do() {
        let nginx = server("nginx:1.29", &[], &[]);
        assert_eq!(nginx.status("/", SimDuration::ZERO), 200);
        assert_eq!(nginx.status("/healthz", SimDuration::ZERO), 404, "nginx has no /healthz");
        assert!(nginx.listening(SimDuration(100)).is_empty(), "not listening yet");
        assert!(nginx.listening(SimDuration(300)).contains(&80));
        let live = server("registry.k8s.io/e2e-test-images/agnhost:2.40", &["liveness"], &[]);
        assert_eq!(live.status("/healthz", SimDuration(9_999)), 200);
        assert_eq!(live.status("/healthz", SimDuration(10_000)), 500);
        assert!(server("mysql:9", &[], &[]).listening(SimDuration(14_000)).is_empty());
        assert_eq!(server("example.com/app:1", &[], &[]).status("/anything", SimDuration::ZERO), 200);
        let mut throttled = server("mysql:9", &[], &[]);
        throttled.throttle(Some(250));
        assert!(throttled.listening(SimDuration::from_secs(59)).is_empty(), "a quarter of a core: four times as long");
        assert!(!throttled.listening(SimDuration::from_secs(60)).is_empty());
    }

    #[test]
    fn annotations_say_what_no_image_explains() {
        let s = server(
            "example.com/app:1",
            &[],
            &[
                ("kubeplay.dev/http", "/healthz 200 after 30s 500; /ready 503 after 1m 200"),
                ("kubeplay.dev/startup.app", "20s"),
                ("kubeplay.dev/startup", "5s"),
                ("kubeplay.dev/exit-after", "2m"),
                ("kubeplay.dev/memory", "300Mi"),
            ],
        );
        assert_eq!(s.status("/healthz", SimDuration::from_secs(29)), 200);
        assert_eq!(s.status("/healthz", SimDuration::from_secs(30)), 500);
        assert_eq!(s.status("/ready", SimDuration::from_secs(59)), 503);
        assert_eq!(s.status("/ready", SimDuration::from_secs(60)), 200);
        assert_eq!(s.startup, SimDuration::from_secs(20), "the container's own annotation wins");
        assert_eq!(s.exit_after, Some((SimDuration::from_secs(120), 1)));
        assert_eq!(s.memory, 300 << 20);
    }
}
