//! `kubectl port-forward pod/NAME|svc/NAME|deploy/NAME [LOCAL:]REMOTE…`: forwards a port of
//! your machine (the console's) to one Pod — for a Service or Deployment, the first running Pod
//! it selects, and a Service port becomes that Pod's target port, as kubectl resolves it. The
//! console keeps the forward (kubectl would block the terminal); `curl localhost:LOCAL` in the
//! console then reaches the Pod.

use k8s_openapi::api::core::v1::Pod;

use super::Output;
use crate::api::{endpoints, pod_util, Object, ObjectKey};
use crate::sim::Cluster;

/// One forwarded port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub local: u16,
    pub namespace: String,
    pub pod: String,
    pub pod_uid: String,
    pub remote: i32,
}

fn first_running<'a>(cluster: &'a Cluster, namespace: &str, selector: &std::collections::BTreeMap<String, String>) -> Option<&'a Pod> {
    let mut pods: Vec<&Pod> = cluster
        .store()
        .pods_matching(namespace, selector)
        .into_iter()
        .filter_map(Object::as_pod)
        .filter(|p| pod_util::phase(p) == "Running" && p.metadata.deletion_timestamp.is_none())
        .collect();
    pods.sort_by_key(|p| p.metadata.name.clone());
    pods.into_iter().next()
}

/// The forwards to add, or kubectl's error.
pub fn port_forward(cluster: &mut Cluster, args: &[String]) -> Result<Vec<Forward>, Output> {
    cluster.settle();
    let mut namespace = "default".to_string();
    let mut words = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-n" | "--namespace" => {
                i += 1;
                namespace = args.get(i).cloned().unwrap_or(namespace);
            }
            a if a.starts_with("--namespace=") => namespace = a["--namespace=".len()..].to_string(),
            a if a.starts_with('-') => {}
            a => words.push(a.to_string()),
        }
        i += 1;
    }
    let Some((target, ports)) = words.split_first() else {
        return Err(Output::err(
            "error: TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples\n",
        ));
    };
    if ports.is_empty() {
        return Err(Output::err(
            "error: TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples\n",
        ));
    }
    let (kind, name) = target.split_once('/').unwrap_or(("pod", target));
    let not_found = |plural: &str| Output::err(format!("Error from server (NotFound): {plural} {name:?} not found\n"));
    // The Pod, and how a requested remote port maps onto it.
    let (pod, service) = match kind {
        "pod" | "pods" | "po" => match cluster.get(&ObjectKey::new("Pod", &namespace, name)).and_then(Object::as_pod) {
            Some(p) => (p.clone(), None),
            None => return Err(not_found("pods")),
        },
        "svc" | "service" | "services" => {
            let Some(svc) = cluster.get(&ObjectKey::new("Service", &namespace, name)).and_then(Object::as_service).cloned() else {
                return Err(not_found("services"));
            };
            let selector = svc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
            match first_running(cluster, &namespace, &selector) {
                Some(p) => (p.clone(), Some(svc)),
                None => return Err(Output::err("error: unable to forward port because pod is not running. Current status=Pending\n")),
            }
        }
        "deploy" | "deployment" | "deployments" => {
            let Some(d) = cluster.get(&ObjectKey::new("Deployment", &namespace, name)).and_then(Object::as_deployment).cloned() else {
                return Err(not_found("deployments.apps"));
            };
            let selector = d.spec.selector.match_labels.clone().unwrap_or_default();
            match first_running(cluster, &namespace, &selector) {
                Some(p) => (p.clone(), None),
                None => return Err(Output::err("error: unable to forward port because pod is not running. Current status=Pending\n")),
            }
        }
        other => return Err(Output::err(format!("error: cannot attach to {other}: selector for {other} not implemented\n"))),
    };
    if pod_util::phase(&pod) != "Running" {
        return Err(Output::err(format!(
            "error: unable to forward port because pod is not running. Current status={}\n",
            pod_util::phase(&pod)
        )));
    }
    let mut forwards = Vec::new();
    for spec in ports {
        let (local, remote) = spec.split_once(':').unwrap_or((spec, spec));
        let parse = |p: &str| {
            p.parse::<u16>().map_err(|_| {
                Output::err(format!("error: Error parsing local port '{p}': strconv.ParseUint: parsing {p:?}: invalid syntax\n"))
            })
        };
        let local = if local.is_empty() { parse(remote)? } else { parse(local)? };
        let remote_number = parse(remote)?;
        // A Service port forwards to the Pod's port it targets.
        let remote = match &service {
            Some(svc) => {
                let sp = svc.spec.iter().flat_map(|s| s.ports.iter().flatten()).find(|p| p.port == i32::from(remote_number));
                match sp {
                    Some(sp) => endpoints::find_port(&pod, sp).unwrap_or(i32::from(remote_number)),
                    None => {
                        return Err(Output::err(format!("error: Service {name} does not have a service port {remote_number}\n")));
                    }
                }
            }
            None => i32::from(remote_number),
        };
        forwards.push(Forward {
            local,
            namespace: namespace.clone(),
            pod: pod.metadata.name.clone().unwrap_or_default(),
            pod_uid: pod.metadata.uid.clone().unwrap_or_default(),
            remote,
        });
    }
    Ok(forwards)
}
