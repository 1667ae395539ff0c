//! `kubectl create service clusterip|nodeport|loadbalancer|externalname NAME [--tcp=PORT[:TARGET]]…`:
//! the Service kubectl generates (selector and label `app: NAME`, one port named `PORT-TARGET`
//! or `PORT` per `--tcp`), byte-identical to kubectl 1.37 with `--dry-run=client -o yaml|json`.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec, ServiceStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::args::ArgWalker;
use super::{printers, Output};
use crate::api::Object;
use crate::sim::Cluster;

const USAGE: &str = "error: Create a service using a specified subcommand.\n\nAvailable Commands:\n  clusterip      Create a ClusterIP service\n  externalname   Create an ExternalName service\n  loadbalancer   Create a LoadBalancer service\n  nodeport       Create a NodePort service\n";

#[derive(Default)]
struct Flags {
    name: Option<String>,
    tcp: Vec<String>,
    cluster_ip: Option<String>,
    node_port: Option<i32>,
    external_name: Option<String>,
    dry_run: Option<String>,
    output: Option<String>,
    namespace: Option<String>,
}

fn parse(sub: &str, args: &[String]) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut walker = ArgWalker::new(args);
    let unknown = |name: &str| format!("error: unknown flag: {name}\nSee 'kubectl create service {sub} --help' for usage.");
    while let Some(arg) = walker.next_arg() {
        match arg.name {
            "--tcp" if sub != "externalname" => f.tcp.extend(walker.value(&arg)?.split(',').map(str::to_string)),
            "--clusterip" if sub == "clusterip" => f.cluster_ip = Some(walker.value(&arg)?),
            "--node-port" if sub == "nodeport" => {
                let v = walker.value(&arg)?;
                f.node_port = Some(v.parse().map_err(|_| {
                    format!("error: invalid argument {v:?} for \"--node-port\" flag: strconv.ParseInt: parsing {v:?}: invalid syntax\nSee 'kubectl create service nodeport --help' for usage.")
                })?);
            }
            "--external-name" if sub == "externalname" => f.external_name = Some(walker.value(&arg)?),
            "--dry-run" => f.dry_run = Some(arg.inline.unwrap_or("client").to_string()),
            "-o" | "--output" => f.output = Some(walker.value(&arg)?),
            "-n" | "--namespace" => f.namespace = Some(walker.value(&arg)?),
            name if name.starts_with('-') => return Err(unknown(name)),
            word if f.name.is_none() => f.name = Some(word.to_string()),
            _ => return Err(format!("error: exactly one NAME is required, got {}", args.iter().filter(|a| !a.starts_with('-')).count())),
        }
    }
    Ok(f)
}

/// `PORT[:TARGET]` → a port named `PORT-TARGET` (or `PORT`).
fn port(spec: &str, node_port: Option<i32>) -> Result<ServicePort, String> {
    let (port, target) = spec.split_once(':').unwrap_or((spec, spec));
    let number = |s: &str| s.parse::<u16>().map_err(|_| format!("error: strconv.ParseUint: parsing {s:?}: invalid syntax"));
    let p = number(port)?;
    let target_port = match target.parse::<u16>() {
        Ok(t) => IntOrString::Int(i32::from(t)),
        Err(_) => IntOrString::String(target.to_string()),
    };
    let name = if spec.contains(':') { format!("{port}-{target}") } else { port.to_string() };
    Ok(ServicePort {
        name: Some(name),
        port: i32::from(p),
        protocol: Some("TCP".into()),
        target_port: Some(target_port),
        node_port,
        ..Default::default()
    })
}

pub(super) fn create(cluster: &mut Cluster, args: &[String]) -> Output {
    let Some(sub) = args.first().map(String::as_str).filter(|s| matches!(*s, "clusterip" | "nodeport" | "loadbalancer" | "externalname"))
    else {
        return Output::err(USAGE);
    };
    let f = match parse(sub, &args[1..]) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let Some(name) = f.name.clone() else {
        return Output::err(format!(
            "error: exactly one NAME is required, got 0\nSee 'kubectl create service {sub} -h' for help and examples\n"
        ));
    };
    let headless = f.cluster_ip.as_deref() == Some("None");
    if sub == "externalname" && f.external_name.is_none() {
        return Output::err("error: required flag(s) \"external-name\" not set\n");
    }
    if sub != "externalname" && f.tcp.is_empty() && !headless {
        return Output::err("error: at least one tcp port specifier must be provided\n");
    }
    let ports = match f.tcp.iter().map(|t| port(t, f.node_port)).collect::<Result<Vec<_>, _>>() {
        Ok(p) => p,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let app = std::collections::BTreeMap::from([("app".to_string(), name.clone())]);
    let type_ = match sub {
        "clusterip" => "ClusterIP",
        "nodeport" => "NodePort",
        "loadbalancer" => "LoadBalancer",
        _ => "ExternalName",
    };
    let service = Service {
        metadata: ObjectMeta { name: Some(name.clone()), namespace: f.namespace.clone(), labels: Some(app.clone()), ..Default::default() },
        spec: Some(ServiceSpec {
            ports: (!ports.is_empty()).then_some(ports),
            selector: Some(app),
            cluster_ip: f.cluster_ip.clone(),
            type_: Some(type_.into()),
            external_name: f.external_name.clone(),
            ..Default::default()
        }),
        status: Some(ServiceStatus { load_balancer: Some(Default::default()), ..Default::default() }),
    };
    let label = format!("service/{name}");
    let dry_run = f.dry_run.as_deref().filter(|d| *d != "none");
    if dry_run.is_none() {
        let mut object = Object::from(service);
        object.meta_mut().namespace = Some(f.namespace.clone().unwrap_or_else(|| "default".into()));
        if cluster.get(&object.key()).is_some() {
            return Output::err(format!("error: failed to create {type_} service: services {name:?} already exists\n"));
        }
        if let Err(e) = cluster.create(object) {
            return Output::err(format!("error: failed to create {type_} service: {e}\n"));
        }
        cluster.settle();
        return Output::ok(format!("{label} created\n"));
    }
    let suffix = if dry_run == Some("server") { " (server dry run)" } else { " (dry run)" };
    match f.output.as_deref() {
        None => Output::ok(format!("{label} created{suffix}\n")),
        Some("name") => Output::ok(format!("{label}\n")),
        Some("yaml") => Output::ok(printers::yaml(&Object::from(service).to_json())),
        Some("json") => Output::ok(json(&service)),
        Some(other) => Output::err(format!(
            "error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,kyaml,name,template,templatefile,yaml\n"
        )),
    }
}

/// JSON with its object fields in a given order (Go marshals struct fields in declaration order).
enum J {
    Obj(Vec<(&'static str, J)>),
    List(Vec<J>),
    Val(Value),
}

/// The Service as kubectl prints it before it reaches a server: Go struct field order, four
/// spaces of indentation.
fn json(s: &Service) -> String {
    let val = |v: Value| J::Val(v);
    let mut meta = vec![("name", val(Value::from(s.metadata.name.clone())))];
    if let Some(ns) = &s.metadata.namespace {
        meta.push(("namespace", val(Value::from(ns.clone()))));
    }
    meta.push(("labels", val(serde_json::to_value(&s.metadata.labels).unwrap_or(Value::Null))));
    let spec = s.spec.clone().unwrap_or_default();
    let mut spec_fields = Vec::new();
    if let Some(ports) = &spec.ports {
        let list = ports
            .iter()
            .map(|p| {
                let mut fields = vec![
                    ("name", val(Value::from(p.name.clone()))),
                    ("protocol", val(Value::from(p.protocol.clone()))),
                    ("port", val(Value::from(p.port))),
                    ("targetPort", val(serde_json::to_value(&p.target_port).unwrap_or(Value::Null))),
                ];
                if let Some(n) = p.node_port {
                    fields.push(("nodePort", val(Value::from(n))));
                }
                J::Obj(fields)
            })
            .collect();
        spec_fields.push(("ports", J::List(list)));
    }
    spec_fields.push(("selector", val(serde_json::to_value(&spec.selector).unwrap_or(Value::Null))));
    if let Some(ip) = &spec.cluster_ip {
        spec_fields.push(("clusterIP", val(Value::from(ip.clone()))));
    }
    spec_fields.push(("type", val(Value::from(spec.type_.clone()))));
    if let Some(external) = &spec.external_name {
        spec_fields.push(("externalName", val(Value::from(external.clone()))));
    }
    let top = J::Obj(vec![
        ("kind", val(Value::from("Service"))),
        ("apiVersion", val(Value::from("v1"))),
        ("metadata", J::Obj(meta)),
        ("spec", J::Obj(spec_fields)),
        ("status", J::Obj(vec![("loadBalancer", val(Value::Object(Default::default())))])),
    ]);
    let mut out = String::new();
    write(&top, 0, &mut out);
    out.push('\n');
    out
}

/// Go's `json.MarshalIndent(…, "", "    ")`.
fn write(j: &J, level: usize, out: &mut String) {
    let pad = "    ".repeat(level + 1);
    let end = "    ".repeat(level);
    match j {
        J::Obj(fields) => {
            out.push_str("{\n");
            for (n, (k, v)) in fields.iter().enumerate() {
                out.push_str(&format!("{pad}{}: ", Value::String((*k).to_string())));
                write(v, level + 1, out);
                out.push_str(if n + 1 < fields.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{end}}}"));
        }
        J::List(items) => {
            out.push_str("[\n");
            for (n, item) in items.iter().enumerate() {
                out.push_str(&pad);
                write(item, level + 1, out);
                out.push_str(if n + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{end}]"));
        }
        J::Val(Value::Object(map)) if map.is_empty() => out.push_str("{}"),
        J::Val(Value::Object(map)) => {
            let fields: Vec<(String, Value)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            out.push_str("{\n");
            for (n, (k, v)) in fields.iter().enumerate() {
                out.push_str(&format!("{pad}{}: ", Value::String(k.clone())));
                write(&J::Val(v.clone()), level + 1, out);
                out.push_str(if n + 1 < fields.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{end}}}"));
        }
        J::Val(other) => out.push_str(&other.to_string()),
    }
}
