//! Why a Pod is where it is, or why it waits: every node's verdict from the filter plugins
//! (the first that rejects it, and why), the feasible nodes' scores plugin by plugin (raw,
//! weighted, total) and the winner — computed as the default profile would decide now, with
//! the Pod itself taken off its node. For a Pod that fits nowhere, the smallest changes that
//! would let it schedule, each checked by running the filters again with the change made.

use k8s_openapi::api::core::v1::{Pod, Toleration};

use super::cache::{Cache, NodeInfo};
use super::inter_pod_affinity::PodAffinity;
use super::plugins::{filter, PodInfo, Resources};
use crate::api::scheduler_config::{Profile, SchedulerConfig};
use crate::api::{Object, ObjectKey};
use crate::apiserver::ApiServer;

pub fn explain(api: &ApiServer, config: &SchedulerConfig, key: &ObjectKey) -> Result<String, String> {
    let Some(pod) = api.get(key).and_then(Object::as_pod).cloned() else {
        return Err(format!("Error from server (NotFound): pods {:?} not found\n", key.name));
    };
    let scheduler_name = pod.spec.as_ref().and_then(|s| s.scheduler_name.clone()).unwrap_or_default();
    let Some(profile) = config.profile(Some(&scheduler_name)) else {
        let placed = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).map(str::to_string);
        return Ok(match placed {
            Some(node) => format!(
                "Pod {}/{} runs on {node}. It names the scheduler {scheduler_name:?}, which no profile of the cluster's kube-scheduler runs: another client placed it (a Binding).\n",
                key.namespace, key.name
            ),
            None => format!(
                "Pod {}/{} names the scheduler {scheduler_name:?}, which no profile of the cluster's kube-scheduler runs: no scheduler sees it, so it stays Pending with no events.\n",
                key.namespace, key.name
            ),
        });
    };
    let mut cache = Cache::from_store(api);
    cache.update_pod(key, None);
    let mut info = PodInfo::new(&pod);
    info.skip_filters = super::plugins::Plugin::filters_named(&profile.disabled_filters);
    info.inter_pod = super::inter_pod_affinity::prefilter(api, &cache, &pod, &info.affinity);
    if info.spread.is_empty() {
        info.spread = super::topology_spread::Constraints::system_defaults(api, &pod);
    }
    info.spread_state = super::topology_spread::State::new(api, &cache, &pod, &info);
    // A placed Pod is judged as it was before it was bound.
    let placed_by_binding = pod.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some();
    if placed_by_binding {
        info.node_name = None;
    }
    let nodes: Vec<&NodeInfo> = (0..cache.len()).filter_map(|i| cache.node_at(i)).collect();
    let whose = if profile.scheduler_name == crate::api::scheduler_config::DEFAULT_SCHEDULER_NAME {
        "The default scheduler's".to_string()
    } else {
        format!("The {:?} profile's", profile.scheduler_name)
    };
    let placed = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let mut out = match &placed {
        Some(n) => format!("Pod {}/{} runs on {n}. {whose} verdict now, without this Pod:\n\n", key.namespace, key.name),
        None => format!("Pod {}/{} is not scheduled. {whose} verdict now:\n\n", key.namespace, key.name),
    };
    let mut rows = vec![["NODE", "FILTERS", "REJECTED BY", "REASON"].map(String::from).to_vec()];
    let mut feasible = Vec::new();
    for node in &nodes {
        match filter(&info, node) {
            Ok(()) => {
                rows.push(vec![node.name.clone(), "pass".into(), "-".into(), "-".into()]);
                feasible.push(*node);
            }
            Err(r) => rows.push(vec![node.name.clone(), "fail".into(), format!("{:?}", r.plugin), r.reasons.join(", ")]),
        }
    }
    out.push_str(
        "Filters (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity; the first to reject decides):\n",
    );
    out.push_str(&indent(&table(&rows)));
    if feasible.is_empty() {
        out.push_str("\nNo node passes the filters, so the Pod waits (FailedScheduling).\n");
        let fixes = suggestions(api, &pod, &info, &nodes);
        if fixes.is_empty() {
            out.push_str("\nNo single change to one node or to the Pod's tolerations, requests or node labels lets it fit.\n");
        } else {
            out.push_str("\nChanges that would let it schedule (each checked against the filters):\n");
            for f in fixes {
                out.push_str(&format!("  - {}\n", f.text));
            }
        }
        return Ok(out);
    }
    let scores = super::scoring::score_nodes(&info, &cache, &feasible, profile);
    let w = |plugin: &str| profile.weight(plugin);
    let with_node_affinity = !info.preferred_node_terms.is_empty() && w("NodeAffinity") > 0;
    let with_affinity = !info.inter_pod.topology_score.is_empty() && w("InterPodAffinity") > 0;
    let with_spread = !info.spread.soft.is_empty() && w("PodTopologySpread") > 0;
    // ImageLocality shows when one of the Pod's images is on some node.
    let with_images = info.images.iter().any(|i| cache.nodes_with_image(i) > 0) && w("ImageLocality") > 0;
    let mut header = vec!["NODE".to_string()];
    let weighed = |plugin: &str| format!("{plugin} ×{}", w(plugin));
    if w("TaintToleration") > 0 {
        header.push(weighed("TaintToleration"));
    }
    if with_node_affinity {
        header.push(weighed("NodeAffinity"));
    }
    if w("NodeResourcesFit") > 0 {
        header.push(format!("{} ×{}", profile.fit_label(), w("NodeResourcesFit")));
    }
    if w("NodeResourcesBalancedAllocation") > 0 {
        header.push(format!("BalancedAllocation ×{}", w("NodeResourcesBalancedAllocation")));
    }
    if with_spread {
        header.push(weighed("PodTopologySpread"));
    }
    if with_affinity {
        header.push(weighed("InterPodAffinity"));
    }
    if with_images {
        header.push(weighed("ImageLocality"));
    }
    header.push("TOTAL".into());
    let mut rows = vec![header];
    let mut scored: Vec<(&str, i64)> = Vec::new();
    // "n" when the weight is 1, "n → weighted" otherwise.
    let cell = |score: i64, plugin: &str| if w(plugin) == 1 { score.to_string() } else { format!("{score} → {}", w(plugin) * score) };
    for (node, s) in feasible.iter().zip(&scores) {
        let mut row = vec![node.name.clone()];
        if w("TaintToleration") > 0 {
            row.push(cell(s.taint, "TaintToleration"));
        }
        if with_node_affinity {
            row.push(format!("{} (raw {}) → {}", s.node_affinity, s.node_affinity_raw, w("NodeAffinity") * s.node_affinity));
        }
        if w("NodeResourcesFit") > 0 {
            row.push(cell(s.fit, "NodeResourcesFit"));
        }
        if w("NodeResourcesBalancedAllocation") > 0 {
            row.push(cell(s.balanced, "NodeResourcesBalancedAllocation"));
        }
        if with_spread {
            row.push(format!("{} → {}", s.spread, w("PodTopologySpread") * s.spread));
        }
        if with_affinity {
            row.push(format!("{} (raw {}) → {}", s.inter_pod, s.inter_pod_raw, w("InterPodAffinity") * s.inter_pod));
        }
        if with_images {
            row.push(cell(s.image, "ImageLocality"));
        }
        row.push(s.total.to_string());
        rows.push(row);
        scored.push((&node.name, s.total));
    }
    if config.custom {
        out.push_str(&profile_note(profile));
    }
    out.push_str("\nScores (each plugin's 0–100, times its weight):\n");
    out.push_str(&indent(&table(&rows)));
    // ImageLocality matches names as nodes report them (upstream's own TODO): say so when a
    // short name misses an image the nodes do have.
    for image in info.images.iter().filter(|i| w("ImageLocality") > 0 && cache.nodes_with_image(i) == 0) {
        let qualified = crate::api::image::qualified_image(image);
        if cache.nodes_with_image(&qualified) > 0 {
            out.push_str(&format!(
                "\nImageLocality: nodes report {qualified}, not {image}; only the name the nodes report counts, so it scores 0.\n"
            ));
        }
    }
    let best = scored.iter().map(|(_, s)| *s).max().unwrap_or(0);
    let winners: Vec<&str> = scored.iter().filter(|(_, s)| *s == best).map(|(n, _)| *n).collect();
    out.push_str(&match winners.as_slice() {
        [one] => format!("\nHighest score: {one} ({best}).\n"),
        many => format!("\nHighest score {best}, shared by {}: the scheduler picks one of them at random.\n", many.join(", ")),
    });
    Ok(out)
}

/// What a configured profile changes, before its scores.
fn profile_note(profile: &Profile) -> String {
    let disabled: Vec<&str> = crate::api::scheduler_config::SCORE_PLUGINS
        .iter()
        .zip(profile.weights)
        .filter(|(_, w)| *w == 0)
        .map(|((name, _), _)| *name)
        .collect();
    let mut note = format!("\nProfile {:?} (KubeSchedulerConfiguration)", profile.scheduler_name);
    if !profile.disabled_filters.is_empty() {
        note.push_str(&format!("; filter plugins disabled: {}", profile.disabled_filters.join(", ")));
    }
    if !disabled.is_empty() {
        note.push_str(&format!("; score plugins disabled: {}", disabled.join(", ")));
    }
    note.push_str(".\n");
    note
}

/// Columns padded to their widest cell plus three spaces, as kubectl's tables are.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0) + 3).collect();
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// A change that would let a Pending Pod schedule, and the command that makes it when one
/// does (the playground's one-click fix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub text: String,
    pub command: Option<String>,
}

/// The fixes for a Pod that no node accepts now (none for a scheduled Pod).
pub fn fixes(api: &ApiServer, key: &ObjectKey) -> Vec<Fix> {
    let Some(pod) = api.get(key).and_then(Object::as_pod).cloned() else { return Vec::new() };
    if pod.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() {
        return Vec::new();
    }
    let cache = Cache::from_store(api);
    let mut info = PodInfo::new(&pod);
    info.inter_pod = super::inter_pod_affinity::prefilter(api, &cache, &pod, &info.affinity);
    if info.spread.is_empty() {
        info.spread = super::topology_spread::Constraints::system_defaults(api, &pod);
    }
    info.spread_state = super::topology_spread::State::new(api, &cache, &pod, &info);
    let nodes: Vec<&NodeInfo> = (0..cache.len()).filter_map(|i| cache.node_at(i)).collect();
    if nodes.iter().any(|n| filter(&info, n).is_ok()) {
        return Vec::new();
    }
    suggestions(api, &pod, &info, &nodes)
}

/// What makes the Pod: its Deployment (through its ReplicaSet), StatefulSet, DaemonSet,
/// ReplicaSet or Job, as `kind name` for kubectl; `None` for a bare Pod.
fn workload(api: &ApiServer, pod: &Pod) -> Option<(String, String)> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let owner = pod.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true))?.clone();
    if owner.kind == "ReplicaSet" {
        let rs = api.get(&ObjectKey::new("ReplicaSet", ns, &owner.name))?;
        if let Some(d) = crate::api::controller_owner(rs).filter(|o| o.kind == "Deployment") {
            return Some(("deployment".into(), d.name.clone()));
        }
    }
    matches!(owner.kind.as_str(), "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job")
        .then(|| (owner.kind.to_ascii_lowercase(), owner.name.clone()))
}

/// Changes that would let the Pod schedule, each verified against the filters.
fn suggestions(api: &ApiServer, pod: &Pod, info: &PodInfo, nodes: &[&NodeInfo]) -> Vec<Fix> {
    let mut found: Vec<Fix> = Vec::new();
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let owner = workload(api, pod);
    let name = pod.metadata.name.as_deref().unwrap_or("");
    let fits = |p: &PodInfo, n: &NodeInfo| filter(p, n).is_ok();
    for node in nodes {
        // Tolerate the node's NoSchedule/NoExecute taints.
        let missing: Vec<_> = node
            .taints
            .iter()
            .filter(|t| {
                (t.effect == "NoSchedule" || t.effect == "NoExecute")
                    && !info.tolerations.iter().any(|tol| super::plugins::tolerates(tol, t))
            })
            .collect();
        if !missing.is_empty() {
            let mut with = info.clone();
            with.tolerations.extend(missing.iter().map(|t| Toleration {
                key: Some(t.key.clone()),
                operator: Some(if t.value.is_some() { "Equal" } else { "Exists" }.into()),
                value: t.value.clone(),
                effect: Some(t.effect.clone()),
                ..Default::default()
            }));
            if fits(&with, node) {
                let list: Vec<String> = missing
                    .iter()
                    .map(|t| match &t.value {
                        Some(v) => format!("{{key: {}, operator: Equal, value: {v}, effect: {}}}", t.key, t.effect),
                        None => format!("{{key: {}, operator: Exists, effect: {}}}", t.key, t.effect),
                    })
                    .collect();
                let text = format!("tolerate {}'s taints: add to spec.tolerations {}", node.name, list.join(", "));
                // The whole list, as a merge patch replaces it: the template's (or, for a bare
                // Pod, which may only gain tolerations, its own) and the new ones.
                let added: Vec<serde_json::Value> = missing
                    .iter()
                    .map(|t| match &t.value {
                        Some(v) => serde_json::json!({"key": t.key, "operator": "Equal", "value": v, "effect": t.effect}),
                        None => serde_json::json!({"key": t.key, "operator": "Exists", "effect": t.effect}),
                    })
                    .collect();
                let command = match &owner {
                    Some((kind, owner_name)) => {
                        let template = api
                            .get(&ObjectKey::new(kind_of(kind), ns, owner_name))
                            .map(|o| o.to_json().pointer("/spec/template/spec/tolerations").cloned().unwrap_or(serde_json::json!([])));
                        template.map(|t| {
                            let mut list = t.as_array().cloned().unwrap_or_default();
                            list.extend(added.iter().cloned());
                            let patch = serde_json::json!({"spec": {"template": {"spec": {"tolerations": list}}}});
                            format!("kubectl patch {kind} {owner_name} -n {ns} --type=merge -p '{patch}'")
                        })
                    }
                    None => {
                        let mut list: Vec<serde_json::Value> = pod
                            .spec
                            .as_ref()
                            .and_then(|s| s.tolerations.as_ref())
                            .map(|t| t.iter().filter_map(|t| serde_json::to_value(t).ok()).collect())
                            .unwrap_or_default();
                        list.extend(added.iter().cloned());
                        let patch = serde_json::json!({"spec": {"tolerations": list}});
                        Some(format!("kubectl patch pod {name} -n {ns} --type=merge -p '{patch}'"))
                    }
                };
                found.push(Fix { text, command });
            }
        }
        // Uncordon it.
        if node.unschedulable {
            let mut uncordoned = (*node).clone();
            uncordoned.unschedulable = false;
            if fits(info, &uncordoned) {
                found.push(Fix {
                    text: format!("uncordon {0}: kubectl uncordon {0}", node.name),
                    command: Some(format!("kubectl uncordon {}", node.name)),
                });
            }
        }
        // Ask for less: what the node has left.
        let free = Resources {
            milli_cpu: node.allocatable.milli_cpu.saturating_sub(node.requested.milli_cpu),
            memory: node.allocatable.memory.saturating_sub(node.requested.memory),
        };
        let mut smaller = info.clone();
        let mut changed = Vec::new();
        if info.requests.milli_cpu > free.milli_cpu && free.milli_cpu > 0 {
            smaller.requests.milli_cpu = free.milli_cpu;
            changed.push(format!("cpu to {}m", free.milli_cpu));
        }
        if info.requests.memory > free.memory && free.memory > 0 {
            smaller.requests.memory = free.memory;
            changed.push(format!("memory to {}Mi", free.memory >> 20));
        }
        if !changed.is_empty() && fits(&smaller, node) {
            let text = format!("request less to fit {}: lower the Pod's requests ({})", node.name, changed.join(", "));
            // `kubectl set resources` on its workload when it has one container (a Pod's
            // requests cannot change).
            let containers = &pod.spec.as_ref().map(|s| s.containers.clone()).unwrap_or_default();
            let command = match (&owner, containers.as_slice()) {
                (Some((kind, owner_name)), [only]) => {
                    let mut requests = Vec::new();
                    if smaller.requests.milli_cpu != info.requests.milli_cpu {
                        requests.push(format!("cpu={}m", smaller.requests.milli_cpu));
                    }
                    if smaller.requests.memory != info.requests.memory {
                        requests.push(format!("memory={}Mi", smaller.requests.memory >> 20));
                    }
                    Some(format!("kubectl set resources {kind} {owner_name} -n {ns} -c {} --requests={}", only.name, requests.join(",")))
                }
                _ => None,
            };
            found.push(Fix { text, command });
        }
        // Label the node as the Pod's nodeSelector asks.
        // (Not a node's own identity: its hostname label is its name.)
        let missing_labels: Vec<(&String, &String)> = info.node_selector.iter().filter(|(k, v)| node.labels.get(*k) != Some(*v)).collect();
        if missing_labels.iter().any(|(k, _)| k.as_str() == "kubernetes.io/hostname") {
            continue;
        }
        if !missing_labels.is_empty() {
            let mut labelled = (*node).clone();
            for (k, v) in &missing_labels {
                labelled.set_label(k, v);
            }
            if fits(info, &labelled) {
                let labels: Vec<String> = missing_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let overwrite = if missing_labels.iter().any(|(k, _)| node.labels.contains_key(*k)) { " --overwrite" } else { "" };
                let command = format!("kubectl label node {} {}{overwrite}", node.name, labels.join(" "));
                found.push(Fix { text: format!("label {0} as the nodeSelector asks: {command}", node.name), command: Some(command) });
            }
        }
    }
    // Relax the Pod's own required inter-pod terms (make them preferred).
    for (what, relaxed) in [
        ("podAntiAffinity", PodInfo { affinity: PodAffinity { required_anti: Vec::new(), ..info.affinity.clone() }, ..info.clone() }),
        ("podAffinity", PodInfo { affinity: PodAffinity { required: Vec::new(), ..info.affinity.clone() }, ..info.clone() }),
    ] {
        if relaxed.affinity == info.affinity {
            continue;
        }
        let fit: Vec<&str> = nodes.iter().filter(|n| fits(&relaxed, n)).map(|n| n.name.as_str()).collect();
        if !fit.is_empty() {
            let text = format!(
                "relax the Pod's {what} (requiredDuringScheduling… → preferredDuringScheduling…): it would fit on {}",
                fit.join(", ")
            );
            // On its workload's template: the required terms become preferred ones (weight
            // 100) beside any it has. A Job's template cannot change, nor a Pod's affinity.
            let command = owner.as_ref().filter(|(kind, _)| kind != "job").and_then(|(kind, owner_name)| {
                let object = api.get(&ObjectKey::new(kind_of(kind), ns, owner_name))?.to_json();
                let base = format!("/spec/template/spec/affinity/{what}");
                let required = object.pointer(&format!("{base}/requiredDuringSchedulingIgnoredDuringExecution"))?.as_array()?.clone();
                let mut preferred = object
                    .pointer(&format!("{base}/preferredDuringSchedulingIgnoredDuringExecution"))
                    .and_then(|p| p.as_array().cloned())
                    .unwrap_or_default();
                preferred.extend(required.into_iter().map(|term| serde_json::json!({"weight": 100, "podAffinityTerm": term})));
                let patch = serde_json::json!({"spec": {"template": {"spec": {"affinity": {what: {
                    "requiredDuringSchedulingIgnoredDuringExecution": null,
                    "preferredDuringSchedulingIgnoredDuringExecution": preferred,
                }}}}}});
                Some(format!("kubectl patch {kind} {owner_name} -n {ns} --type=merge -p '{patch}'"))
            });
            found.push(Fix { text, command });
        }
    }
    // A new node like an existing one, empty.
    {
        if let Some(like) = nodes.iter().find(|n| {
            let empty = NodeInfo {
                requested: Resources::default(),
                non_zero_requested: Resources::default(),
                pod_count: 0,
                used_ports: Default::default(),
                unschedulable: false,
                ..(**n).clone()
            };
            // A new node is its own host.
            let mut empty = empty;
            empty.set_label("kubernetes.io/hostname", "NEW-NODE");
            fits(info, &empty)
        }) {
            // The next free worker-N.
            let fresh = (1..).map(|i| format!("worker-{i}")).find(|n| nodes.iter().all(|node| &node.name != n)).unwrap_or_default();
            found.push(Fix {
                text: format!("add a node like {0}: kubeplay node add NEW-NODE --like {0}", like.name),
                command: Some(format!("kubeplay node add {fresh} --like {}", like.name)),
            });
        }
    }
    found
}

/// The kind a kubectl resource word names.
fn kind_of(word: &str) -> &'static str {
    match word {
        "deployment" => "Deployment",
        "statefulset" => "StatefulSet",
        "daemonset" => "DaemonSet",
        "replicaset" => "ReplicaSet",
        _ => "Job",
    }
}
