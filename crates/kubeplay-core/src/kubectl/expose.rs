//! `kubectl expose deployment|replicaset|pod|service NAME [--port=P] [--target-port=T]
//! [--protocol=PROTO] [--name=N] [--type=TYPE] [--external-ip=IP] [--session-affinity=ClientIP]
//! [--cluster-ip=None] [--selector=SEL] [--labels=LABELS]`: a Service that selects what the
//! object selects (a Pod: its labels), labelled like the object, on the ports given or — without
//! `--port` — the object's container ports (several are named `port-1`, `port-2`, …); the
//! target port is `--target-port`, else the port itself.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Service, ServicePort, ServiceSpec, ServiceStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::args::ArgWalker;
use super::{printers, Output};
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;

#[derive(Default)]
struct Flags {
    words: Vec<String>,
    port: Option<String>,
    target_port: Option<String>,
    protocol: Option<String>,
    name: Option<String>,
    type_: Option<String>,
    external_ip: Option<String>,
    session_affinity: Option<String>,
    cluster_ip: Option<String>,
    selector: Option<String>,
    labels: Option<String>,
    namespace: Option<String>,
    dry_run: Option<String>,
    output: Option<String>,
}

fn parse(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut w = ArgWalker::new(args);
    while let Some(arg) = w.next_arg() {
        match arg.name {
            "--port" => f.port = Some(w.value(&arg)?),
            "--target-port" => f.target_port = Some(w.value(&arg)?),
            "--protocol" => f.protocol = Some(w.value(&arg)?),
            "--name" => f.name = Some(w.value(&arg)?),
            "--type" => f.type_ = Some(w.value(&arg)?),
            "--external-ip" => f.external_ip = Some(w.value(&arg)?),
            "--session-affinity" => f.session_affinity = Some(w.value(&arg)?),
            "--cluster-ip" => f.cluster_ip = Some(w.value(&arg)?),
            "--selector" | "-l" => f.selector = Some(w.value(&arg)?),
            "--labels" => f.labels = Some(w.value(&arg)?),
            "-n" | "--namespace" => f.namespace = Some(w.value(&arg)?),
            "--dry-run" => f.dry_run = Some(arg.inline.unwrap_or("client").to_string()),
            "-o" | "--output" => f.output = Some(w.value(&arg)?),
            other if other.starts_with('-') => return Err(format!("error: unknown flag: {other}\nSee 'kubectl expose --help' for usage.")),
            word => f.words.extend(word.split('/').map(str::to_string)),
        }
    }
    Ok(f)
}

/// `a=b,c=d`.
fn pairs(text: &str) -> BTreeMap<String, String> {
    text.split(',').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

pub(super) fn expose(cluster: &mut Cluster, args: &[String]) -> Output {
    cluster.settle();
    let f = match parse(args) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let ns = f.namespace.clone().unwrap_or_else(|| "default".into());
    let (kind, name) = match f.words.as_slice() {
        [kind, name] => (kind.as_str(), name.as_str()),
        _ => return Output::err("error: You must provide the resource type and name to expose (for example `kubectl expose deployment web --port=80`)\nSee 'kubectl expose -h' for help and examples\n"),
    };
    let (kind, plural) = match kind {
        "deployment" | "deployments" | "deploy" | "deployment.apps" => ("Deployment", "deployments.apps"),
        "replicaset" | "replicasets" | "rs" | "replicaset.apps" => ("ReplicaSet", "replicasets.apps"),
        "pod" | "pods" | "po" => ("Pod", "pods"),
        "service" | "services" | "svc" => ("Service", "services"),
        other => return Output::err(format!("error: cannot expose a {other}\n")),
    };
    let Some(object) = cluster.get(&ObjectKey::new(kind, &ns, name)).cloned() else {
        return Output::err(format!("Error from server (NotFound): {plural} {name:?} not found\n"));
    };
    let lower = kind.to_ascii_lowercase();
    // What the Service selects, and the container ports it may take.
    let (selector, containers): (Option<BTreeMap<String, String>>, Vec<Container>) = match &object {
        Object::Deployment(d) => {
            (d.spec.selector.match_labels.clone(), d.spec.template.spec.clone().map(|s| s.containers).unwrap_or_default())
        }
        Object::ReplicaSet(rs) => (
            rs.spec.selector.match_labels.clone(),
            rs.spec.template.as_ref().and_then(|t| t.spec.clone()).map(|s| s.containers).unwrap_or_default(),
        ),
        Object::Pod(p) => (p.metadata.labels.clone(), p.spec.clone().map(|s| s.containers).unwrap_or_default()),
        Object::Service(s) => (s.spec.as_ref().and_then(|s| s.selector.clone()), Vec::new()),
        _ => (None, Vec::new()),
    };
    let selector = match f.selector.as_deref().map(pairs).or(selector).filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => return Output::err(format!("error: couldn't retrieve selectors via --selector flag or introspection: the {lower} has no labels\nSee 'kubectl expose -h' for help and examples\n")),
    };
    // Ports: given, or the object's container ports (a Service's own ports).
    let introspected: Vec<(i32, String)> = match &object {
        Object::Service(s) => s
            .spec
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .map(|p| (p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
            .collect(),
        _ => containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .map(|p| (p.container_port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
            .collect(),
    };
    let ports: Vec<(i32, String)> = match &f.port {
        Some(list) => {
            let mut out = Vec::new();
            for p in list.split(',') {
                match p.trim().parse::<i32>() {
                    Ok(n) => out.push((n, f.protocol.clone().unwrap_or_else(|| "TCP".into()))),
                    Err(_) => return Output::err(format!("error: strconv.Atoi: parsing {p:?}: invalid syntax\n")),
                }
            }
            out
        }
        None if introspected.is_empty() => {
            return Output::err(
                "error: couldn't find port via --port flag or introspection\nSee 'kubectl expose -h' for help and examples\n",
            );
        }
        None => introspected.into_iter().map(|(n, proto)| (n, f.protocol.clone().unwrap_or(proto))).collect(),
    };
    let several = ports.len() > 1;
    let service_ports: Vec<ServicePort> = ports
        .iter()
        .enumerate()
        .map(|(i, (port, protocol))| ServicePort {
            name: several.then(|| format!("port-{}", i + 1)),
            port: *port,
            protocol: Some(protocol.clone()),
            target_port: Some(match &f.target_port {
                Some(t) => t.parse::<i32>().map_or_else(|_| IntOrString::String(t.clone()), IntOrString::Int),
                None => IntOrString::Int(*port),
            }),
            ..Default::default()
        })
        .collect();
    let labels = f.labels.as_deref().map(pairs).or_else(|| object.meta().labels.clone());
    let service_name = f.name.clone().unwrap_or_else(|| name.to_string());
    let service = Service {
        metadata: ObjectMeta { name: Some(service_name.clone()), labels, namespace: f.namespace.clone(), ..Default::default() },
        spec: Some(ServiceSpec {
            ports: Some(service_ports),
            selector: Some(selector),
            type_: f.type_.clone(),
            external_ips: f.external_ip.clone().map(|ip| vec![ip]),
            session_affinity: f.session_affinity.clone(),
            cluster_ip: f.cluster_ip.clone(),
            ..Default::default()
        }),
        status: Some(ServiceStatus { load_balancer: Some(Default::default()), ..Default::default() }),
    };
    let dry_run = f.dry_run.as_deref().filter(|d| *d != "none");
    let label = format!("service/{service_name}");
    if dry_run.is_some() {
        let suffix = if dry_run == Some("server") { " (server dry run)" } else { " (dry run)" };
        return match f.output.as_deref() {
            None => Output::ok(format!("{label} exposed{suffix}\n")),
            Some("name") => Output::ok(format!("{label}\n")),
            Some("yaml") => Output::ok(printers::yaml(&Object::from(service).to_json())),
            Some(other) => Output::err(format!("error: kubeplay prints expose --dry-run as yaml or name, not {other:?}\n")),
        };
    }
    let mut object = Object::from(service);
    object.meta_mut().namespace = Some(ns);
    if cluster.get(&object.key()).is_some() {
        return Output::err(format!("Error from server (AlreadyExists): services {service_name:?} already exists\n"));
    }
    match cluster.create(object) {
        Ok(_) => {
            cluster.settle();
            Output::ok(format!("{label} exposed\n"))
        }
        Err(e) => Output::err(format!("{e}\n")),
    }
}
