//! The view model: a snapshot of what the page shows, built from the simulation after each
//! change. Components render these plain values; none reaches into the cluster.

use kubeplay_core::api::pod_util;
use kubeplay_core::Cluster;

#[derive(Clone, Debug, PartialEq)]
pub struct PodView {
    pub name: String,
    pub namespace: String,
    /// `status.phase`.
    pub phase: String,
    /// The STATUS column kubectl would print (ContainerCreating, Terminating, …).
    pub status: String,
    pub node: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    pub name: String,
    pub ready: bool,
    pub roles: String,
    pub zone: String,
    pub pods: Vec<PodView>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventView {
    pub age: String,
    pub type_: String,
    pub reason: String,
    pub object: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct View {
    pub nodes: Vec<NodeView>,
    pub unscheduled: Vec<PodView>,
    pub events: Vec<EventView>,
}

pub fn build(cluster: &Cluster) -> View {
    let store = cluster.store();
    let pods: Vec<PodView> = store
        .list("Pod", None)
        .filter_map(|o| {
            let p = o.as_pod()?;
            Some(PodView {
                name: o.name().to_string(),
                namespace: o.namespace().to_string(),
                phase: pod_util::phase(p).to_string(),
                status: kubeplay_core::kubectl::columns::pod_status(p),
                node: pod_util::node_name(p).map(str::to_string),
            })
        })
        .collect();
    let nodes = store
        .list("Node", None)
        .filter_map(|o| {
            let n = o.as_node()?;
            let labels = n.metadata.labels.clone().unwrap_or_default();
            let ready = n
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            let roles: Vec<&str> = labels.keys().filter_map(|k| k.strip_prefix("node-role.kubernetes.io/")).collect();
            Some(NodeView {
                name: o.name().to_string(),
                ready,
                roles: roles.join(","),
                zone: labels.get("topology.kubernetes.io/zone").cloned().unwrap_or_default(),
                pods: pods.iter().filter(|p| p.node.as_deref() == Some(o.name())).cloned().collect(),
            })
        })
        .collect();
    let mut events: Vec<(kubeplay_core::time::SimTime, EventView)> = store
        .list("Event", None)
        .filter_map(|o| {
            let e = o.as_event()?;
            let last = e.last_timestamp.as_ref()?;
            let at = kubeplay_core::time::from_time(last);
            Some((
                at,
                EventView {
                    age: cluster.now().since(at).human(),
                    type_: e.type_.clone().unwrap_or_default(),
                    reason: e.reason.clone().unwrap_or_default(),
                    object: format!(
                        "{}/{}",
                        e.involved_object.kind.as_deref().unwrap_or("").to_ascii_lowercase(),
                        e.involved_object.name.as_deref().unwrap_or("")
                    ),
                    message: e.message.clone().unwrap_or_default(),
                },
            ))
        })
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.0));
    View {
        unscheduled: pods.iter().filter(|p| p.node.is_none()).cloned().collect(),
        nodes,
        events: events.into_iter().take(40).map(|(_, e)| e).collect(),
    }
}
