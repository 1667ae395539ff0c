//! The `traffic` console command: start, stop and re-rate traffic sources, and read what
//! their requests met per source, per Service and per Pod.
//!
//! ```text
//! traffic start [NAME] URL [--rate=N] [--from=pod/NAME [-n NS]] [-H 'Host: NAME']
//! traffic stop|resume|delete NAME     (stop and delete take --all)
//! traffic rate NAME N
//! traffic [list] | traffic services | traffic pods | traffic reset
//! traffic trace [NAME]                the hops of NAME's latest request
//! ```

use crate::api::{Object, ObjectKey};
use crate::kubectl::tabwriter::TabWriter;
use crate::kubectl::Output;
use crate::sim::Cluster;
use crate::traffic::{Origin, Outcome, Source, MAX_RATE};

pub const USAGE: &str = "usage: traffic start [NAME] URL [--rate=N] [--from=pod/NAME [-n NAMESPACE]] [-H 'Host: NAME']
       traffic stop|resume|delete NAME|--all
       traffic rate NAME N
       traffic [list] | traffic services | traffic pods | traffic reset
       traffic trace [NAME]
";

pub fn run(cluster: &mut Cluster, args: &[String]) -> Output {
    match args.first().map(String::as_str) {
        None | Some("list") => list(cluster),
        Some("start") => start(cluster, &args[1..]),
        Some(verb @ ("stop" | "resume" | "delete")) => each(cluster, verb, &args[1..]),
        Some("rate") => match (args.get(1), args.get(2).and_then(|r| r.trim_end_matches("/s").parse::<u32>().ok())) {
            (Some(name), Some(rate)) if args.len() == 3 => match cluster.traffic_mut().set_rate(name, rate) {
                Ok(()) => Output::ok(format!("traffic source {name}: {rate} requests/s\n")),
                Err(e) => Output::err(format!("{e}\n")),
            },
            _ => Output::err(USAGE),
        },
        Some("services") => services(cluster),
        Some("trace") => trace(cluster, args.get(1).map(String::as_str)),
        Some("pods") => pods(cluster),
        Some("reset") => {
            cluster.traffic_mut().reset_counts();
            Output::ok("traffic counts reset\n")
        }
        Some("help" | "-h" | "--help") => Output::ok(USAGE),
        Some(other) => Output::err(format!("traffic: unknown command {other:?}\n{USAGE}")),
    }
}

fn start(cluster: &mut Cluster, args: &[String]) -> Output {
    let mut positional = Vec::new();
    let mut rate = 10;
    let mut from = None;
    let mut namespace = "default".to_string();
    let mut host_header = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || {
            inline.clone().or_else(|| {
                i += 1;
                args.get(i).cloned()
            })
        };
        match flag {
            "--rate" | "-r" => match value().and_then(|r| r.trim_end_matches("/s").parse::<u32>().ok()) {
                Some(r) => rate = r,
                None => return Output::err(format!("traffic: --rate takes requests per second (1 to {MAX_RATE})\n")),
            },
            "--from" => from = value(),
            "-H" | "--header" => match value().as_deref().and_then(|h| h.split_once(':')) {
                Some((name, host)) if name.trim().eq_ignore_ascii_case("host") => host_header = Some(host.trim().to_string()),
                _ => return Output::err("traffic: -H takes 'Host: NAME' (the only header modelled)\n"),
            },
            "-n" | "--namespace" => match value() {
                Some(ns) => namespace = ns,
                None => return Output::err(USAGE),
            },
            f if f.starts_with('-') => return Output::err(format!("traffic: unknown flag {f}\n{USAGE}")),
            _ => positional.push(arg.to_string()),
        }
        i += 1;
    }
    let (name, url) = match positional.as_slice() {
        [url] => (cluster.traffic().fresh_name(), url.clone()),
        [name, url] => (name.clone(), url.clone()),
        _ => return Output::err(USAGE),
    };
    let number = cluster.traffic().sources().iter().position(|s| s.name == name).unwrap_or(cluster.traffic().sources().len());
    let origin = match from.as_deref() {
        None | Some("external") => Origin::External(format!("198.51.100.{}", number % 254 + 1)),
        Some(pod) => match pod.strip_prefix("pod/").or_else(|| pod.strip_prefix("pods/")) {
            Some(pod) if cluster.store().get(&crate::api::ObjectKey::new("Pod", &namespace, pod)).is_some() => {
                Origin::Pod(namespace.clone(), pod.to_string())
            }
            Some(pod) => return Output::err(format!("traffic: pod {pod:?} not found in namespace {namespace:?}\n")),
            None => return Output::err("traffic: --from takes pod/NAME (or external)\n"),
        },
    };
    let now = cluster.now();
    let who = match &origin {
        Origin::External(address) => format!("outside the cluster ({address})"),
        Origin::Pod(ns, pod) => format!("pod {ns}/{pod}"),
    };
    match cluster.traffic_mut().start(now, &name, origin, &url, rate, host_header) {
        Ok(()) => Output::ok(format!("traffic source {name} started: {rate} requests/s from {who} to {url}\n")),
        Err(e) => Output::err(format!("{e}\n")),
    }
}

fn each(cluster: &mut Cluster, verb: &str, args: &[String]) -> Output {
    let names: Vec<String> = match args {
        [all] if all == "--all" && verb != "resume" => cluster.traffic().sources().iter().map(|s| s.name.clone()).collect(),
        [name] => vec![name.clone()],
        _ => return Output::err(USAGE),
    };
    let now = cluster.now();
    let mut text = String::new();
    for name in names {
        let traffic = cluster.traffic_mut();
        let found = match verb {
            "stop" => traffic.stop(&name),
            "resume" => traffic.resume(now, &name),
            _ => traffic.remove(&name),
        };
        if !found {
            return Output::err(format!("traffic: no source named {name:?}\n"));
        }
        let done = match verb {
            "stop" => "stopped",
            "resume" => "resumed",
            _ => "deleted",
        };
        text.push_str(&format!("traffic source {name} {done}\n"));
    }
    Output::ok(text)
}

fn failures(source: &Source) -> String {
    if source.failures.is_empty() {
        return source.totals.failed().to_string();
    }
    let kinds: Vec<String> = source.failures.iter().map(|(o, n)| format!("{o} {n}")).collect();
    format!("{} ({})", source.totals.failed(), kinds.join(", "))
}

fn list(cluster: &Cluster) -> Output {
    let sources = cluster.traffic().sources();
    if sources.is_empty() {
        return Output::ok("No traffic sources. Start one with: traffic start http://ADDRESS/ --rate=10\n");
    }
    let mut w = TabWriter::default();
    w.write("NAME\tFROM\tURL\tRATE\tSTATE\tSENT\tOK\tFAILED\tLAST\n");
    for s in sources {
        let from = match &s.origin {
            Origin::External(address) => address.clone(),
            Origin::Pod(ns, pod) => format!("pod/{pod} ({ns})"),
        };
        let state = if s.running { "running" } else { "stopped" };
        let last = s.last.map_or_else(|| "-".to_string(), |o: Outcome| o.to_string());
        w.write(&format!(
            "{}\t{from}\t{}\t{}/s\t{state}\t{}\t{}\t{}\t{last}\n",
            s.name,
            s.host_header.as_ref().map_or_else(|| s.url.clone(), |h| format!("{} (Host: {h})", s.url)),
            s.rate,
            s.totals.sent,
            s.totals.ok,
            failures(s)
        ));
    }
    Output::ok(w.finish())
}

fn services(cluster: &Cluster) -> Output {
    let counts = cluster.traffic().service_counts();
    if counts.is_empty() {
        return Output::ok("No requests have reached a Service.\n");
    }
    let mut w = TabWriter::default();
    w.write("NAMESPACE\tSERVICE\tREQUESTS\tOK\tFAILED\tLAST SECOND\n");
    let now = cluster.now();
    for ((ns, name), s) in counts {
        let (sent, failed) = s.last_second(now);
        let c = s.counts;
        w.write(&format!("{ns}\t{name}\t{}\t{}\t{}\t{sent} ({failed} failed)\n", c.sent, c.ok, c.failed()));
    }
    Output::ok(w.finish())
}

fn pods(cluster: &Cluster) -> Output {
    let counts = cluster.traffic().pod_counts();
    if counts.is_empty() {
        return Output::ok("No requests have reached a Pod.\n");
    }
    let mut rows: Vec<_> = counts
        .iter()
        .map(|(uid, p)| {
            let gone = cluster.store().get(&crate::api::ObjectKey::new("Pod", &p.namespace, &p.name)).and_then(|o| o.meta().uid.clone())
                != Some(uid.clone());
            (p, gone)
        })
        .collect();
    rows.sort_by(|a, b| (&a.0.namespace, &a.0.name, a.1).cmp(&(&b.0.namespace, &b.0.name, b.1)));
    let mut w = TabWriter::default();
    w.write("NAMESPACE\tPOD\tNODE\tREQUESTS\tOK\tFAILED\n");
    for (p, gone) in rows {
        let name = if gone { format!("{} (deleted)", p.name) } else { p.name.clone() };
        w.write(&format!("{}\t{name}\t{}\t{}\t{}\t{}\n", p.namespace, p.node, p.counts.sent, p.counts.ok, p.counts.failed()));
    }
    Output::ok(w.finish())
}

/// The hops of a source's latest request: the client, the address it dialled, the node whose
/// kube-proxy rules met it (DNAT to an endpoint, SNAT or not), the overlay between nodes, and
/// the Pod that answered — or where and how it failed.
fn trace(cluster: &Cluster, name: Option<&str>) -> Output {
    let traffic = cluster.traffic();
    let Some(source) = name.map_or_else(|| traffic.sources().last(), |n| traffic.source(n)) else {
        return Output::err(match name {
            Some(n) => format!("traffic: no source named {n:?}\n"),
            None => "traffic: no traffic sources\n".to_string(),
        });
    };
    let Some(request) = traffic.recent().filter(|r| r.source == source.name).last() else {
        return Output::ok(format!("{}: no request sent yet\n", source.name));
    };
    let store = cluster.store();
    let node_ip = |node: &str| {
        store
            .get(&ObjectKey::new("Node", "", node))
            .and_then(Object::as_node)
            .and_then(|n| n.status.as_ref()?.addresses.as_ref()?.iter().find(|a| a.type_ == "InternalIP").map(|a| a.address.clone()))
            .unwrap_or_default()
    };
    let pod_cidr = |node: &str| {
        store
            .get(&ObjectKey::new("Node", "", node))
            .and_then(Object::as_node)
            .and_then(|n| n.spec.as_ref()?.pod_cidr.clone())
            .unwrap_or_default()
    };
    let route = &request.route;
    let service = route.service.as_ref().and_then(|(ns, n)| store.get(&ObjectKey::new("Service", ns, n))).and_then(Object::as_service);
    let spec = service.and_then(|s| s.spec.as_ref());
    let (client, external) = match &source.origin {
        Origin::External(address) => (format!("{address} (outside the cluster)"), true),
        Origin::Pod(ns, pod) => (format!("pod {ns}/{pod}"), false),
    };
    let header = source.host_header.as_ref().map(|h| format!(" (Host: {h})")).unwrap_or_default();
    let mut out = format!("{}: GET {}{header} at {}\n", source.name, source.url, crate::time::SimDuration(request.at.ms()).go_string());
    let mut w = TabWriter::default();
    w.write("HOP\tWHERE\tWHAT\n");
    let mut hop = 0;
    let mut line = |w: &mut TabWriter, at: String, what: String| {
        hop += 1;
        w.write(&format!("{hop}\t{at}\t{what}\n"));
    };
    let service_name = route.service.as_ref().map(|(ns, n)| format!("{ns}/{n}")).unwrap_or_default();
    match &route.dialled {
        Some((ip, port, kind)) => {
            let what = match *kind {
                "ClusterIP" => format!("dials {ip}:{port}, the ClusterIP of service {service_name}"),
                "LoadBalancer" => format!("dials {ip}:{port}, the load balancer of service {service_name}, which picks a node"),
                "NodePort" => format!("dials {ip}:{port}, NodePort {port} of service {service_name}"),
                "ExternalIP" => format!("dials {ip}:{port}, an external IP of service {service_name}"),
                "Ingress" if route.ingress == Some("gce") => format!("dials {ip}:{port}, the Google Cloud load balancer of a GKE Ingress"),
                "Ingress" => format!("dials {ip}:{port}, ingress-nginx's address"),
                "hostPort" => format!("dials {ip}:{port}, a port on the node itself"),
                _ => format!("dials {ip}:{port}, a Pod's own address"),
            };
            line(&mut w, client.clone(), what);
        }
        None => {
            let what = match request.outcome {
                Outcome::NoSuchHost => "the name does not resolve (NXDOMAIN)".to_string(),
                Outcome::NoClient => "the client Pod is not running".to_string(),
                _ => "dials the address".to_string(),
            };
            line(&mut w, client.clone(), what);
        }
    }
    let backend = route.service.as_ref().map_or("no backend".to_string(), |(ns, n)| format!("service {ns}/{n}"));
    match route.ingress {
        Some("gce") if route.entry_node.is_some() => line(
            &mut w,
            "Google Cloud load balancer".into(),
            format!("its URL map (the Ingress rules) picks {backend}; it sends to a node's NodePort"),
        ),
        Some("gce") => line(
            &mut w,
            "Google Cloud load balancer".into(),
            format!("its URL map (the Ingress rules) picks {backend}; container-native: straight to a Pod (NEG endpoint)"),
        ),
        Some(_) => line(&mut w, "ingress-nginx".into(), format!("the Ingress rules pick {backend}; nginx proxies to an endpoint")),
        None => {}
    }
    if let Some(entry) = &route.entry_node {
        if route.dialled.as_ref().is_some_and(|d| d.2 != "hostPort" && d.2 != "Pod") {
            let local = if external {
                spec.and_then(|s| s.external_traffic_policy.as_deref())
            } else {
                spec.and_then(|s| s.internal_traffic_policy.as_deref())
            } == Some("Local");
            let policy = if external { "externalTrafficPolicy" } else { "internalTrafficPolicy" };
            let what = match (&route.target, request.outcome) {
                (Some((ip, port)), _) => {
                    let nat = if external && !local {
                        format!(", source NAT to {} (the client's address is lost)", node_ip(entry))
                    } else if external {
                        ", the client's address kept".to_string()
                    } else {
                        String::new()
                    };
                    let scope = if local {
                        format!("a ready endpoint on this node ({policy}: Local)")
                    } else {
                        "a random ready endpoint".to_string()
                    };
                    format!("kube-proxy's rules: DNAT to {ip}:{port}, {scope}{nat}")
                }
                (None, Outcome::Timeout) => {
                    format!("kube-proxy's rules: no endpoint on this node ({policy}: Local): the packets are dropped")
                }
                (None, Outcome::Refused) => {
                    "kube-proxy's rules: the service has no ready endpoint: REJECT (connection refused)".to_string()
                }
                (None, _) => "kube-proxy's rules".to_string(),
            };
            line(&mut w, format!("{entry} ({})", node_ip(entry)), what);
        }
        if let Some(pod_node) = route.pod_node.as_ref().filter(|n| *n != entry) {
            line(&mut w, format!("{entry} → {pod_node}"), format!("VXLAN overlay: {} is {pod_node}'s Pod CIDR", pod_cidr(pod_node)));
        }
    }
    let answer = match request.outcome {
        Outcome::Status(status) => format!("answers {status}"),
        Outcome::Refused => "refuses the connection (nothing listens there)".to_string(),
        Outcome::Timeout => "no answer: the client times out".to_string(),
        Outcome::NoSuchHost => "no request sent".to_string(),
        Outcome::NoClient => "no request sent".to_string(),
    };
    match (&route.pod_name, &route.target) {
        (Some((ns, pod)), Some((ip, port))) => line(&mut w, format!("pod {ns}/{pod}"), format!("{ip}:{port} {answer}")),
        _ if matches!(request.outcome, Outcome::Status(_)) && route.ingress == Some("gce") => {
            line(&mut w, "Google Cloud load balancer".into(), answer)
        }
        _ if matches!(request.outcome, Outcome::Status(_)) && route.ingress.is_some() => line(&mut w, "ingress-nginx".into(), answer),
        _ if matches!(request.outcome, Outcome::Status(_)) => line(&mut w, "(outside the cluster)".into(), answer),
        _ => {}
    }
    out.push_str(&w.finish());
    Output::ok(out)
}
