//! `kubectl describe node` (`describeNode` in kubectl's describe.go): identity, taints, the
//! node's Lease, conditions, addresses, capacity and allocatable, system info, the Pods that
//! run there with their requests and limits against allocatable, and the totals.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};

use super::describe::{annotations, events, labels, rfc1123z};
use super::tabwriter::TabWriter;
use crate::api::quantity;
use crate::api::Object;
use crate::sim::Cluster;
use crate::time::{from_time, SimDuration};

/// How often a kubelet renews its node Lease (a quarter of the 40 s lease duration).
const LEASE_RENEW: SimDuration = SimDuration(10_000);

pub(super) fn node(cluster: &Cluster, n: &Node) -> String {
    let mut w = TabWriter::default();
    let name = n.metadata.name.clone().unwrap_or_default();
    let spec = n.spec.clone().unwrap_or_default();
    let status = n.status.clone().unwrap_or_default();
    w.write(&format!("Name:\t{name}\n"));
    let roles: Vec<&str> = n
        .metadata
        .labels
        .iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role),
            _ if k == "kubernetes.io/role" && !v.is_empty() => Some(v.as_str()),
            _ => None,
        })
        .collect();
    w.write(&format!("Roles:\t{}\n", if roles.is_empty() { "<none>".to_string() } else { roles.join(",") }));
    labels(&mut w, "Labels", n.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", n.metadata.annotations.as_ref());
    if let Some(t) = &n.metadata.creation_timestamp {
        w.write(&format!("CreationTimestamp:\t{}\n", rfc1123z(t)));
    }
    // Taints sorted by effect, then key.
    let mut taints = spec.taints.clone().unwrap_or_default();
    taints.sort_by(|a, b| (a.effect.as_str(), a.key.as_str()).cmp(&(b.effect.as_str(), b.key.as_str())));
    w.write("Taints:\t");
    if taints.is_empty() {
        w.write("<none>\n");
    }
    for (i, t) in taints.iter().enumerate() {
        if i > 0 {
            w.write("\t");
        }
        match t.value.as_deref().filter(|v| !v.is_empty()) {
            Some(v) => w.write(&format!("{}={v}:{}\n", t.key, t.effect)),
            None => w.write(&format!("{}:{}\n", t.key, t.effect)),
        }
    }
    w.write(&format!("Unschedulable:\t{}\n", spec.unschedulable == Some(true)));
    // The kubelet's Lease in kube-node-lease, renewed every 10 s since the node registered.
    w.write("Lease:\n");
    w.write(&format!("  HolderIdentity:\t{name}\n"));
    w.write("  AcquireTime:\t<unset>\n");
    let created = n.metadata.creation_timestamp.as_ref().map(from_time).unwrap_or_default();
    let renewals = cluster.now().since(created).ms() / LEASE_RENEW.ms();
    w.write(&format!("  RenewTime:\t{}\n", created.plus(SimDuration(renewals * LEASE_RENEW.ms())).rfc1123z()));
    if let Some(conditions) = status.conditions.as_ref().filter(|c| !c.is_empty()) {
        w.write("Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
        w.write("  ----\t------\t-----------------\t------------------\t------\t-------\n");
        for c in conditions {
            let time = |t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
                t.map(rfc1123z).unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 +0000".into())
            };
            w.write(&format!(
                "  {} \t{} \t{} \t{} \t{} \t{}\n",
                c.type_,
                c.status,
                time(c.last_heartbeat_time.as_ref()),
                time(c.last_transition_time.as_ref()),
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            ));
        }
    }
    w.write("Addresses:\n");
    for a in status.addresses.iter().flatten() {
        w.write(&format!("  {}:\t{}\n", a.type_, a.address));
    }
    for (title, list) in [("Capacity", &status.capacity), ("Allocatable", &status.allocatable)] {
        if let Some(list) = list.as_ref().filter(|l| !l.is_empty()) {
            w.write(&format!("{title}:\n"));
            for (k, v) in list {
                w.write(&format!("  {k}:\t{}\n", v.0));
            }
        }
    }
    let info = status.node_info.clone().unwrap_or_default();
    w.write("System Info:\n");
    for (k, v) in [
        ("Machine ID", &info.machine_id),
        ("System UUID", &info.system_uuid),
        ("Boot ID", &info.boot_id),
        ("Kernel Version", &info.kernel_version),
        ("OS Image", &info.os_image),
        ("Operating System", &info.operating_system),
        ("Architecture", &info.architecture),
        ("Container Runtime Version", &info.container_runtime_version),
        ("Kubelet Version", &info.kubelet_version),
    ] {
        w.write(&format!("  {k}:\t{v}\n"));
    }
    if let Some(cidr) = spec.pod_cidr.as_deref().filter(|c| !c.is_empty()) {
        w.write(&format!("PodCIDR:\t{cidr}\n"));
    }
    if let Some(cidrs) = spec.pod_cidrs.as_ref().filter(|c| !c.is_empty()) {
        w.write(&format!("PodCIDRs:\t{}\n", cidrs.join(",")));
    }
    if let Some(id) = spec.provider_id.as_deref().filter(|p| !p.is_empty()) {
        w.write(&format!("ProviderID:\t{id}\n"));
    }
    pods_and_totals(cluster, &mut w, &name, &status);
    events(cluster, &mut w, n.metadata.uid.as_deref());
    w.finish()
}

/// A quantity as kubectl prints a sum of them: canonical, in the binary or decimal style of
/// what was summed.
#[derive(Clone, Copy, Default)]
struct Amount {
    /// Milli-units (CPU) or bytes.
    value: i128,
    binary: bool,
}

fn cpu_string(millis: i128) -> String {
    if millis % 1000 == 0 {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

fn bytes_string(a: Amount) -> String {
    let suffixes: &[(&str, i128)] = if a.binary {
        &[("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)]
    } else {
        &[
            ("E", 1_000_000_000_000_000_000),
            ("P", 1_000_000_000_000_000),
            ("T", 1_000_000_000_000),
            ("G", 1_000_000_000),
            ("M", 1_000_000),
            ("k", 1_000),
        ]
    };
    if a.value == 0 {
        return "0".into();
    }
    for (suffix, unit) in suffixes {
        if a.value % unit == 0 {
            return format!("{}{suffix}", a.value / unit);
        }
    }
    a.value.to_string()
}

/// `PodRequests` / `PodLimits` for one resource: the sum over app containers, or the largest
/// init container if larger, plus overhead.
fn pod_amount(pod: &Pod, resource: &str, limits: bool) -> Amount {
    let Some(spec) = pod.spec.as_ref() else { return Amount::default() };
    let read = |c: &k8s_openapi::api::core::v1::Container| -> Option<Amount> {
        let r = c.resources.as_ref()?;
        let list = if limits { r.limits.as_ref()? } else { r.requests.as_ref()? };
        let q = &list.get(resource)?.0;
        let value = if resource == "cpu" { quantity::parse_milli(q)? } else { quantity::parse_milli(q)? / 1000 };
        Some(Amount { value, binary: q.ends_with('i') })
    };
    let mut total = Amount::default();
    for c in &spec.containers {
        if let Some(a) = read(c) {
            total.binary |= a.binary;
            total.value += a.value;
        }
    }
    for c in spec.init_containers.iter().flatten() {
        if let Some(a) = read(c).filter(|a| a.value > total.value) {
            total = a;
        }
    }
    total
}

fn allocatable_of(status: &k8s_openapi::api::core::v1::NodeStatus, resource: &str) -> i128 {
    let list = status.allocatable.as_ref().filter(|a| !a.is_empty()).or(status.capacity.as_ref());
    let Some(q) = list.and_then(|l| l.get(resource)) else { return 0 };
    let milli = quantity::parse_milli(&q.0).unwrap_or(0);
    if resource == "cpu" {
        milli
    } else {
        milli / 1000
    }
}

fn percent(part: i128, whole: i128) -> i64 {
    if whole == 0 {
        0
    } else {
        (part as f64 / whole as f64 * 100.0) as i64
    }
}

fn pods_and_totals(cluster: &Cluster, w: &mut TabWriter, node: &str, status: &k8s_openapi::api::core::v1::NodeStatus) {
    let mut pods: Vec<&Pod> = cluster
        .store()
        .pods_on(node)
        .filter_map(Object::as_pod)
        .filter(|p| !matches!(crate::api::pod_util::phase(p), "Succeeded" | "Failed"))
        .collect();
    pods.sort_by_key(|p| (p.metadata.namespace.clone(), p.metadata.name.clone()));
    let (cpu_alloc, mem_alloc, eph_alloc) =
        (allocatable_of(status, "cpu"), allocatable_of(status, "memory"), allocatable_of(status, "ephemeral-storage"));
    w.write(&format!("Non-terminated Pods:\t({} in total)\n", pods.len()));
    w.write("  Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n");
    w.write("  ---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n");
    let mut totals: BTreeMap<(&str, bool), Amount> = BTreeMap::new();
    for p in &pods {
        let (cr, cl) = (pod_amount(p, "cpu", false), pod_amount(p, "cpu", true));
        let (mr, ml) = (pod_amount(p, "memory", false), pod_amount(p, "memory", true));
        let age =
            p.metadata.creation_timestamp.as_ref().map_or_else(|| "<unknown>".to_string(), |t| cluster.now().since(from_time(t)).human());
        w.write(&format!(
            "  {}\t{}\t\t{} ({}%)\t{} ({}%)\t{} ({}%)\t{} ({}%)\t{age}\n",
            p.metadata.namespace.as_deref().unwrap_or(""),
            p.metadata.name.as_deref().unwrap_or(""),
            cpu_string(cr.value),
            percent(cr.value, cpu_alloc),
            cpu_string(cl.value),
            percent(cl.value, cpu_alloc),
            bytes_string(mr),
            percent(mr.value, mem_alloc),
            bytes_string(ml),
            percent(ml.value, mem_alloc),
        ));
        for resource in ["cpu", "memory", "ephemeral-storage"] {
            for limits in [false, true] {
                let a = pod_amount(p, resource, limits);
                let t = totals.entry((resource, limits)).or_default();
                t.value += a.value;
                t.binary |= a.binary;
            }
        }
    }
    w.write("Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n");
    w.write("  Resource\tRequests\tLimits\n");
    w.write("  --------\t--------\t------\n");
    let get = |r: &'static str, l: bool| totals.get(&(r, l)).copied().unwrap_or_default();
    w.write(&format!(
        "  cpu\t{} ({}%)\t{} ({}%)\n",
        cpu_string(get("cpu", false).value),
        percent(get("cpu", false).value, cpu_alloc),
        cpu_string(get("cpu", true).value),
        percent(get("cpu", true).value, cpu_alloc)
    ));
    for (resource, alloc) in [("memory", mem_alloc), ("ephemeral-storage", eph_alloc)] {
        let (r, l) = (get(resource, false), get(resource, true));
        w.write(&format!(
            "  {resource}\t{} ({}%)\t{} ({}%)\n",
            bytes_string(r),
            percent(r.value, alloc),
            bytes_string(l),
            percent(l.value, alloc)
        ));
    }
    // Huge pages the node offers, none of which a simulated Pod asks for.
    let list = status.allocatable.as_ref().filter(|a| !a.is_empty()).or(status.capacity.as_ref());
    for resource in list.into_iter().flatten().map(|(k, _)| k).filter(|k| k.starts_with("hugepages-")) {
        w.write(&format!("  {resource}\t0 (0%)\t0 (0%)\n"));
    }
}
