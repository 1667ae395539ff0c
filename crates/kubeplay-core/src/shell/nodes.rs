//! `kubeplay explain pod NAME` (the scheduler's reasons), `kubeplay node
//! fail|recover|add|remove NAME` and `kubeplay zone fail|recover ZONE`: the
//! faults a real cluster meets, injected from the console. A failed node's kubelet stops; the
//! control plane notices as it would (see the node lifecycle controller).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeSpec, NodeStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::node_fault::DOWN_SINCE;
use crate::api::{Object, ObjectKey};
use crate::kubectl::Output;
use crate::sim::Cluster;

const USAGE: &str =
    "usage: kubeplay node fail|recover|remove NAME | kubeplay node add NAME [--like NODE] | kubeplay zone fail|recover ZONE\n";

pub fn run(cluster: &mut Cluster, args: &[String]) -> Output {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match words.as_slice() {
        ["node", "fail", names @ ..] if !names.is_empty() => names.iter().map(|n| set_down(cluster, n, true)).collect(),
        ["node", "recover", names @ ..] if !names.is_empty() => names.iter().map(|n| set_down(cluster, n, false)).collect(),
        ["node", "remove", names @ ..] if !names.is_empty() => names.iter().map(|n| remove(cluster, n)).collect(),
        ["node", "add", name] => add(cluster, name, None),
        ["node", "add", name, "--like", like] => add(cluster, name, Some(like)),
        ["node", "add", name, like] if like.starts_with("--like=") => add(cluster, name, like.strip_prefix("--like=")),
        ["explain", "pod", rest @ ..] => {
            let (mut name, mut ns) = (None, "default".to_string());
            let mut it = rest.iter();
            while let Some(w) = it.next() {
                match *w {
                    "-n" | "--namespace" => ns = it.next().map(|s| s.to_string()).unwrap_or(ns),
                    n => name = Some(n.strip_prefix("pod/").unwrap_or(n).to_string()),
                }
            }
            match name {
                Some(n) => crate::scheduler::explain::explain(cluster.api(), cluster.scheduler_config(), &ObjectKey::new("Pod", &ns, &n)),
                None => Err(USAGE.to_string()),
            }
        }
        ["zone", verb @ ("fail" | "recover"), zone] => {
            let nodes: Vec<String> = cluster
                .store()
                .list("Node", None)
                .filter(|n| n.meta().labels.as_ref().and_then(|l| l.get("topology.kubernetes.io/zone")).is_some_and(|z| z == zone))
                .map(|n| n.name().to_string())
                .collect();
            if nodes.is_empty() {
                Err(format!("kubeplay: no node is in zone {zone:?}\n"))
            } else {
                nodes.iter().map(|n| set_down(cluster, n, *verb == "fail")).collect()
            }
        }
        _ => Err(USAGE.to_string()),
    };
    cluster.settle();
    match out {
        Ok(text) => Output::ok(text),
        Err(e) => Output::err(e),
    }
}

fn get(cluster: &Cluster, name: &str) -> Result<Node, String> {
    cluster
        .get(&ObjectKey::new("Node", "", name))
        .and_then(Object::as_node)
        .cloned()
        .ok_or_else(|| format!("Error from server (NotFound): nodes {name:?} not found\n"))
}

fn set_down(cluster: &mut Cluster, name: &str, down: bool) -> Result<String, String> {
    let mut node = get(cluster, name)?;
    let annotations = node.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let was_down = annotations.contains_key(DOWN_SINCE);
    if down == was_down {
        return Ok(format!("node/{name} is already {}\n", if down { "down" } else { "up" }));
    }
    if down {
        annotations.insert(DOWN_SINCE.into(), crate::time::to_time(cluster.now()).0.to_string());
    } else {
        annotations.remove(DOWN_SINCE);
    }
    if annotations.is_empty() {
        node.metadata.annotations = None;
    }
    cluster.update(Object::from(node));
    Ok(if down {
        format!("node/{name} failed: its kubelet stopped (the control plane notices after 50s)\n")
    } else {
        format!("node/{name} recovered: its kubelet posts status again\n")
    })
}

fn remove(cluster: &mut Cluster, name: &str) -> Result<String, String> {
    get(cluster, name)?;
    cluster.delete_with_options(&ObjectKey::new("Node", "", name), crate::apiserver::Propagation::Background, None);
    Ok(format!("node/{name} removed\n"))
}

/// A new node registers: like another (its labels but its own hostname, its capacity and
/// taints), or with the default size.
fn add(cluster: &mut Cluster, name: &str, like: Option<&str>) -> Result<String, String> {
    if cluster.get(&ObjectKey::new("Node", "", name)).is_some() {
        return Err(format!("Error from server (AlreadyExists): nodes {name:?} already exists\n"));
    }
    let mut node = Node { metadata: ObjectMeta { name: Some(name.to_string()), ..Default::default() }, ..Default::default() };
    if let Some(like) = like {
        let template = get(cluster, like)?;
        let mut labels = template.metadata.labels.clone().unwrap_or_default();
        labels.insert("kubernetes.io/hostname".into(), name.to_string());
        node.metadata.labels = Some(labels);
        node.spec = Some(NodeSpec { taints: template.spec.as_ref().and_then(|s| s.taints.clone()), ..Default::default() });
        let status = template.status.unwrap_or_default();
        node.status = Some(NodeStatus { capacity: status.capacity.clone(), allocatable: status.allocatable.clone(), ..Default::default() });
    }
    cluster.create(Object::from(node)).map_err(|e| format!("Error from server: {e}\n"))?;
    Ok(format!("node/{name} added\n"))
}
