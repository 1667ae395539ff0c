//! The columns of `kubectl get`: the server-side table printers' columns for the kinds we model
//! (`pkg/printers/internalversion/printers.go`), plus `-o wide|yaml|json|name`.

use k8s_openapi::api::core::v1::{Pod, PodSpec, PodStatus, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};

use super::printers;
use crate::api::kinds::KindInfo;
use crate::api::Object;
use crate::sim::Cluster;
use crate::time::from_time;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Wide,
    Yaml,
    Json,
    Name,
}

/// How `kubectl get` was asked to print.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    /// `-A`: a NAMESPACE column first.
    pub all_namespaces: bool,
    /// `--show-labels`: a LABELS column last.
    pub show_labels: bool,
    /// `-L KEY,…`: a column per label key (headed by the key's last segment, upper-cased).
    pub label_columns: &'a [String],
    /// `--no-headers`: rows only (and column widths from the rows alone).
    pub no_headers: bool,
    /// One object was named: `-o yaml|json` prints it bare rather than in a List.
    pub single: bool,
    /// Several kinds are listed: names print as `kind/name`.
    pub kind_prefix: bool,
}

pub fn render(cluster: &Cluster, info: &KindInfo, objects: &[&Object], format: Format, opts: Options<'_>) -> String {
    let at = At { cluster, now: cluster.now() };
    render_at(&at, info, objects, format, opts)
}

/// The cluster seen at `now`: ages and durations count to then (a watch prints each change
/// as it was when it happened).
pub struct At<'a> {
    pub cluster: &'a Cluster,
    pub now: crate::time::SimTime,
}

impl At<'_> {
    fn now(&self) -> crate::time::SimTime {
        self.now
    }
}

impl std::ops::Deref for At<'_> {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        self.cluster
    }
}

/// The table rows (header first) for `objects`.
pub fn table_rows(cluster: &At<'_>, info: &KindInfo, objects: &[&Object], wide: bool, opts: Options<'_>) -> Vec<Vec<String>> {
    let Options { all_namespaces, show_labels, label_columns, kind_prefix, .. } = opts;
    let mut rows = vec![header(info.kind, wide)];
    for o in objects {
        let mut r = row(cluster, o, wide);
        if kind_prefix && info.kind != "Event" {
            r[0] = format!("{}/{}", info.qualified_singular(), r[0]);
        }
        rows.push(r);
    }
    for key in label_columns {
        rows[0].push(key.rsplit('/').next().unwrap_or(key).to_uppercase());
        for (row, o) in rows.iter_mut().skip(1).zip(objects) {
            row.push(o.meta().labels.as_ref().and_then(|l| l.get(key)).cloned().unwrap_or_default());
        }
    }
    if show_labels {
        rows[0].push("LABELS".into());
        for (row, o) in rows.iter_mut().skip(1).zip(objects) {
            let labels: Vec<String> = o.meta().labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
            row.push(none_if_empty(labels.join(",")));
        }
    }
    if all_namespaces && info.namespaced {
        rows[0].insert(0, "NAMESPACE".into());
        for (row, o) in rows.iter_mut().skip(1).zip(objects) {
            row.insert(0, o.namespace().to_string());
        }
    }
    rows
}

pub fn render_at(cluster: &At<'_>, info: &KindInfo, objects: &[&Object], format: Format, opts: Options<'_>) -> String {
    let Options { no_headers, single, .. } = opts;
    match format {
        Format::Name => objects.iter().map(|o| format!("{}/{}\n", info.qualified_singular(), o.name())).collect(),
        Format::Json | Format::Yaml => {
            let value = printers::object_or_list(objects.iter().copied(), single);
            if format == Format::Json {
                printers::json(&value)
            } else {
                printers::yaml(&value)
            }
        }
        Format::Table | Format::Wide => {
            let mut rows = table_rows(cluster, info, objects, format == Format::Wide, opts);
            if no_headers {
                rows.remove(0);
            }
            printers::table(&rows)
        }
    }
}

fn header(kind: &str, wide: bool) -> Vec<String> {
    let (base, extra): (&[&str], &[&str]) = match kind {
        "Pod" => (&["NAME", "READY", "STATUS", "RESTARTS", "AGE"], &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]),
        "Deployment" => (&["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], &["CONTAINERS", "IMAGES", "SELECTOR"]),
        "ReplicaSet" => (&["NAME", "DESIRED", "CURRENT", "READY", "AGE"], &["CONTAINERS", "IMAGES", "SELECTOR"]),
        "Service" => (&["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], &["SELECTOR"]),
        "Node" => (
            &["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
            &["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
        ),
        "Namespace" => (&["NAME", "STATUS", "AGE"], &[]),
        "Event" => (&["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], &[]),
        "ConfigMap" => (&["NAME", "DATA", "AGE"], &[]),
        "Secret" => (&["NAME", "TYPE", "DATA", "AGE"], &[]),
        "EndpointSlice" => (&["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], &[]),
        "Endpoints" => (&["NAME", "ENDPOINTS", "AGE"], &[]),
        "Ingress" => (&["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], &[]),
        "IngressClass" => (&["NAME", "CONTROLLER", "PARAMETERS", "AGE"], &[]),
        "CronJob" => {
            (&["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"], &["CONTAINERS", "IMAGES", "SELECTOR"])
        }
        "StatefulSet" => (&["NAME", "READY", "AGE"], &["CONTAINERS", "IMAGES"]),
        "PersistentVolumeClaim" => {
            (&["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"], &["VOLUMEMODE"])
        }
        "ControllerRevision" => (&["NAME", "CONTROLLER", "REVISION", "AGE"], &[]),
        "PriorityClass" => (&["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"], &[]),
        "PodDisruptionBudget" => (&["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"], &[]),
        "DaemonSet" => (
            &["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        "Job" => (&["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], &["CONTAINERS", "IMAGES", "SELECTOR"]),
        _ => (&["NAME", "AGE"], &[]),
    };
    let mut h: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    if wide {
        h.extend(extra.iter().map(|s| s.to_string()));
    }
    h
}

fn age(cluster: &At<'_>, t: Option<&Time>) -> String {
    match t {
        Some(t) => cluster.now().since(from_time(t)).human(),
        None => "<unknown>".into(),
    }
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

fn row(cluster: &At<'_>, o: &Object, wide: bool) -> Vec<String> {
    let name = o.name().to_string();
    let created = age(cluster, o.meta().creation_timestamp.as_ref());
    match o {
        Object::Pod(p) => pod_row(cluster, p, wide),
        Object::Deployment(d) => {
            let st = d.status.clone().unwrap_or_default();
            let spec = &d.spec;
            let mut r = vec![
                name,
                format!("{}/{}", st.ready_replicas.unwrap_or(0), spec.replicas.unwrap_or(1)),
                st.updated_replicas.unwrap_or(0).to_string(),
                st.available_replicas.unwrap_or(0).to_string(),
                created,
            ];
            if wide {
                r.extend(containers_images(spec.template.spec.as_ref()));
                r.push(selector_string(&spec.selector));
            }
            r
        }
        Object::ReplicaSet(rs) => {
            let st = rs.status.clone().unwrap_or_default();
            let mut r = vec![
                name,
                rs.spec.replicas.unwrap_or(1).to_string(),
                st.replicas.to_string(),
                st.ready_replicas.unwrap_or(0).to_string(),
                created,
            ];
            if wide {
                r.extend(containers_images(rs.spec.template.as_ref().and_then(|t| t.spec.as_ref())));
                r.push(selector_string(&rs.spec.selector));
            }
            r
        }
        Object::Service(s) => service_row(s, name, created, wide),
        Object::Job(job) => job_row(cluster, job, name, created, wide),
        Object::CronJob(cj) => {
            let spec = cj.spec.clone();
            let st = cj.status.clone().unwrap_or_default();
            let last = st.last_schedule_time.as_ref().map_or_else(|| "<none>".to_string(), |t| age(cluster, Some(t)));
            let suspend = if spec.suspend == Some(true) { "True" } else { "False" };
            let mut r = vec![
                name,
                spec.schedule.clone(),
                spec.time_zone.clone().unwrap_or_else(|| "<none>".into()),
                suspend.to_string(),
                st.active.as_ref().map_or(0, Vec::len).to_string(),
                last,
                created,
            ];
            if wide {
                let job = spec.job_template.spec.clone().unwrap_or_default();
                r.extend(containers_images(job.template.spec.as_ref()));
                r.push(job.selector.as_ref().map_or_else(|| "<none>".to_string(), selector_string));
            }
            r
        }
        Object::StatefulSet(sts) => {
            let spec = sts.spec.clone();
            let st = sts.status.clone().unwrap_or_default();
            let mut r = vec![name, format!("{}/{}", st.ready_replicas.unwrap_or(0), spec.replicas.unwrap_or(1)), created];
            if wide {
                r.extend(containers_images(spec.template.spec.as_ref()));
            }
            r
        }
        Object::DaemonSet(ds) => {
            let st = ds.status.clone().unwrap_or_default();
            let spec = &ds.spec;
            let selector: Vec<String> =
                spec.template.spec.iter().flat_map(|s| s.node_selector.iter().flatten()).map(|(k, v)| format!("{k}={v}")).collect();
            let mut r = vec![
                name,
                st.desired_number_scheduled.to_string(),
                st.current_number_scheduled.to_string(),
                st.number_ready.to_string(),
                st.updated_number_scheduled.unwrap_or(0).to_string(),
                st.number_available.unwrap_or(0).to_string(),
                if selector.is_empty() { "<none>".into() } else { selector.join(",") },
                created,
            ];
            if wide {
                r.extend(containers_images(spec.template.spec.as_ref()));
                r.push(selector_string(&spec.selector));
            }
            r
        }
        Object::Node(n) => {
            let ready = n
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
                // kubectl's printNode: Ready when True, NotReady otherwise (Unknown too).
                .map(|c| if c.status == "True" { "Ready" } else { "NotReady" })
                .unwrap_or("Unknown");
            let status = if n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
                format!("{ready},SchedulingDisabled")
            } else {
                ready.to_string()
            };
            let roles: Vec<&str> =
                n.metadata.labels.iter().flatten().filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/")).collect();
            let info = n.status.as_ref().and_then(|s| s.node_info.clone()).unwrap_or_default();
            let mut r = vec![name, status, none_if_empty(roles.join(",")), created, info.kubelet_version.clone()];
            if wide {
                let addr = |t: &str| {
                    n.status
                        .as_ref()
                        .and_then(|s| s.addresses.as_ref())
                        .and_then(|a| a.iter().find(|x| x.type_ == t))
                        .map(|x| x.address.clone())
                };
                r.push(addr("InternalIP").unwrap_or_else(|| "<none>".into()));
                r.push(addr("ExternalIP").unwrap_or_else(|| "<none>".into()));
                r.push(info.os_image);
                r.push(info.kernel_version);
                r.push(info.container_runtime_version);
            }
            r
        }
        Object::Namespace(ns) => {
            let phase = ns.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
            vec![name, phase, created]
        }
        Object::Event(e) => {
            let last = e.last_timestamp.as_ref().or(e.first_timestamp.as_ref());
            let obj = &e.involved_object;
            vec![
                age(cluster, last),
                e.type_.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                format!("{}/{}", obj.kind.as_deref().unwrap_or("").to_ascii_lowercase(), obj.name.as_deref().unwrap_or("")),
                e.message.clone().unwrap_or_default().trim().to_string(),
            ]
        }
        Object::ConfigMap(cm) => {
            let n = cm.data.as_ref().map_or(0, |d| d.len()) + cm.binary_data.as_ref().map_or(0, |d| d.len());
            vec![name, n.to_string(), created]
        }
        Object::Secret(secret) => {
            let ty = secret.type_.clone().unwrap_or_else(|| "Opaque".into());
            vec![name, ty, secret.data.as_ref().map_or(0, |d| d.len()).to_string(), created]
        }
        Object::EndpointSlice(slice) => {
            vec![name, slice.address_type.clone(), endpoint_slice_ports(slice), discovery_endpoints(slice), created]
        }
        Object::Endpoints(ep) => vec![name, format_endpoints(ep), created],
        Object::Ingress(ing) => {
            let class = ing.spec.as_ref().and_then(|s| s.ingress_class_name.clone()).unwrap_or_else(|| "<none>".into());
            let hosts: Vec<String> =
                ing.spec.iter().flat_map(|s| s.rules.iter().flatten()).filter_map(|r| r.host.clone()).filter(|h| !h.is_empty()).collect();
            let hosts =
                if hosts.is_empty() { "*".to_string() } else { list_with_more(hosts.iter().take(3).cloned().collect(), hosts.len()) };
            let address: Vec<String> = ing
                .status
                .iter()
                .filter_map(|s| s.load_balancer.as_ref())
                .flat_map(|lb| lb.ingress.iter().flatten())
                .filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone()))
                .collect();
            let mut address = address.join(",");
            if !wide && address.len() > 16 {
                address = format!("{}...", &address[..13]);
            }
            let tls = ing.spec.as_ref().and_then(|s| s.tls.as_ref()).is_some_and(|t| !t.is_empty());
            vec![name, class, hosts, address, if tls { "80, 443".into() } else { "80".into() }, created]
        }
        Object::Stored(st) if st.info.kind == "IngressClass" => {
            let spec = st.body.get("spec");
            let controller = spec.and_then(|s| s.get("controller")).and_then(|c| c.as_str()).unwrap_or("").to_string();
            let parameters = spec
                .and_then(|s| s.get("parameters"))
                .map(|p| {
                    let field = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    let group = field("apiGroup");
                    let kind = if group.is_empty() { field("kind") } else { format!("{}.{group}", field("kind")) };
                    format!("{kind}/{}", field("name"))
                })
                .unwrap_or_else(|| "<none>".into());
            vec![name, controller, parameters, created]
        }
        Object::Stored(st) if st.info.kind == "PersistentVolumeClaim" => {
            let root = serde_json::Value::Object(st.body.clone());
            let text = |pointer: &str| root.pointer(pointer).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let modes: Vec<String> = root
                .pointer("/status/accessModes")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str())
                .map(|m| match m {
                    "ReadWriteOnce" => "RWO".to_string(),
                    "ReadOnlyMany" => "ROX".to_string(),
                    "ReadWriteMany" => "RWX".to_string(),
                    "ReadWriteOncePod" => "RWOP".to_string(),
                    other => other.to_string(),
                })
                .collect();
            let class = text("/spec/storageClassName");
            let attributes = text("/spec/volumeAttributesClassName");
            let mut r = vec![
                name,
                text("/status/phase"),
                text("/spec/volumeName"),
                text("/status/capacity/storage"),
                modes.join(","),
                if class.is_empty() { "<unset>".into() } else { class },
                if attributes.is_empty() { "<unset>".into() } else { attributes },
                created,
            ];
            if wide {
                r.push(text("/spec/volumeMode"));
            }
            r
        }
        Object::Stored(st) if st.info.kind == "ControllerRevision" => {
            let controller = st.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true));
            let controller = controller.map_or_else(
                || "<none>".to_string(),
                |o| {
                    let group = o.api_version.split('/').next().filter(|_| o.api_version.contains('/')).unwrap_or("");
                    let kind = o.kind.to_ascii_lowercase();
                    if group.is_empty() {
                        format!("{kind}/{}", o.name)
                    } else {
                        format!("{kind}.{group}/{}", o.name)
                    }
                },
            );
            let revision = st.body.get("revision").and_then(serde_json::Value::as_i64).unwrap_or(0);
            vec![name, controller, revision.to_string(), created]
        }
        Object::Stored(st) if st.info.kind == "PodDisruptionBudget" => {
            let spec = st.body.get("spec");
            let shown = |k: &str| match spec.and_then(|s| s.get(k)) {
                Some(serde_json::Value::String(v)) => v.clone(),
                Some(v) if !v.is_null() => v.to_string(),
                _ => "N/A".into(),
            };
            let allowed = st.body.get("status").and_then(|s| s.get("disruptionsAllowed")).and_then(serde_json::Value::as_i64).unwrap_or(0);
            vec![name, shown("minAvailable"), shown("maxUnavailable"), allowed.to_string(), created]
        }
        Object::Stored(st) if st.info.kind == "PriorityClass" => {
            let value = st.body.get("value").and_then(serde_json::Value::as_i64).unwrap_or(0);
            let global = st.body.get("globalDefault").and_then(serde_json::Value::as_bool).unwrap_or(false);
            let policy = st.body.get("preemptionPolicy").and_then(serde_json::Value::as_str).unwrap_or("").to_string();
            vec![name, value.to_string(), global.to_string(), created, policy]
        }
        Object::Stored(_) => vec![name, created],
    }
}

/// `strings.Join(list, ",")`, and ` + N more...` past the first three.
fn list_with_more(list: Vec<String>, count: usize) -> String {
    let joined = list.join(",");
    if count > 3 {
        format!("{joined} + {} more...", count - 3)
    } else {
        joined
    }
}

/// `formatEndpointSlicePorts`.
fn endpoint_slice_ports(slice: &k8s_openapi::api::discovery::v1::EndpointSlice) -> String {
    let ports = slice.ports.as_deref().unwrap_or_default();
    if ports.is_empty() {
        return "<unset>".into();
    }
    let list =
        ports.iter().take(3).map(|p| p.port.map(|n| n.to_string()).or_else(|| p.name.clone()).unwrap_or_else(|| "*".into())).collect();
    list_with_more(list, ports.len())
}

/// `formatDiscoveryEndpoints`: every address of every endpoint, whatever its conditions.
fn discovery_endpoints(slice: &k8s_openapi::api::discovery::v1::EndpointSlice) -> String {
    let addresses: Vec<&String> = slice.endpoints.iter().flatten().flat_map(|e| e.addresses.iter()).collect();
    if addresses.is_empty() {
        return "<unset>".into();
    }
    list_with_more(addresses.iter().take(3).map(|a| a.to_string()).collect(), addresses.len())
}

/// `formatEndpoints`: ready addresses with each port (`ip:port`), or bare IPs without ports.
fn format_endpoints(ep: &k8s_openapi::api::core::v1::Endpoints) -> String {
    let subsets = ep.subsets.as_deref().unwrap_or_default();
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut all = Vec::new();
    for ss in subsets {
        let addresses = ss.addresses.as_deref().unwrap_or_default();
        match ss.ports.as_deref() {
            None | Some([]) => all.extend(addresses.iter().map(|a| a.ip.clone())),
            Some(ports) => {
                for port in ports {
                    all.extend(addresses.iter().map(|a| {
                        if a.ip.contains(':') {
                            format!("[{}]:{}", a.ip, port.port)
                        } else {
                            format!("{}:{}", a.ip, port.port)
                        }
                    }));
                }
            }
        }
    }
    let count = all.len();
    list_with_more(all.into_iter().take(3).collect(), count)
}

/// `printJob`: STATUS from the conditions, COMPLETIONS, DURATION from start to completion (or now).
fn job_row(cluster: &At<'_>, job: &k8s_openapi::api::batch::v1::Job, name: String, created: String, wide: bool) -> Vec<String> {
    let spec = job.spec.clone().unwrap_or_default();
    let st = job.status.clone().unwrap_or_default();
    let succeeded = st.succeeded.unwrap_or(0);
    let completions = match (spec.completions, spec.parallelism.unwrap_or(0)) {
        (Some(c), _) => format!("{succeeded}/{c}"),
        (None, p) if p > 1 => format!("{succeeded}/1 of {p}"),
        (None, _) => format!("{succeeded}/1"),
    };
    let duration = match (&st.start_time, &st.completion_time) {
        (None, _) => String::new(),
        (Some(start), None) => cluster.now().since(from_time(start)).human(),
        (Some(start), Some(end)) => from_time(end).since(from_time(start)).human(),
    };
    let has = |ty: &str| st.conditions.iter().flatten().any(|c| c.type_ == ty && c.status == "True");
    let status = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if job.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let mut r = vec![name, status.to_string(), completions, duration, created];
    if wide {
        r.extend(containers_images(spec.template.spec.as_ref()));
        r.push(spec.selector.as_ref().map_or_else(|| "<none>".to_string(), selector_string));
    }
    r
}

fn containers_images(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> [String; 2] {
    let containers = spec.map(|s| s.containers.clone()).unwrap_or_default();
    [
        containers.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(","),
        containers.iter().map(|c| c.image.clone().unwrap_or_default()).collect::<Vec<_>>().join(","),
    ]
}

/// `metav1.FormatLabelSelector`: requirements sorted by key.
pub fn selector_string(sel: &LabelSelector) -> String {
    let mut parts: Vec<(String, String)> = sel.match_labels.iter().flatten().map(|(k, v)| (k.clone(), format!("{k}={v}"))).collect();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        let text = match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other}", e.key),
        };
        parts.push((e.key.clone(), text));
    }
    parts.sort();
    let s: Vec<String> = parts.into_iter().map(|(_, t)| t).collect();
    if s.is_empty() {
        "<none>".into()
    } else {
        s.join(",")
    }
}

fn service_row(s: &Service, name: String, created: String, wide: bool) -> Vec<String> {
    let spec = s.spec.clone().unwrap_or_default();
    let ty = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
    let cluster_ip = match ty.as_str() {
        "ExternalName" => "<none>".to_string(),
        _ => spec.cluster_ip.clone().unwrap_or_else(|| "<none>".into()),
    };
    let mut external: Vec<String> = Vec::new();
    match ty.as_str() {
        "ExternalName" => external.push(spec.external_name.clone().unwrap_or_default()),
        "LoadBalancer" => {
            let ingress = s.status.as_ref().and_then(|st| st.load_balancer.as_ref()).and_then(|lb| lb.ingress.clone()).unwrap_or_default();
            external.extend(ingress.iter().filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone())));
            external.extend(spec.external_ips.clone().unwrap_or_default());
            if external.is_empty() {
                external.push("<pending>".into());
            }
        }
        _ => external.extend(spec.external_ips.clone().unwrap_or_default()),
    }
    let ports: Vec<String> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            match p.node_port {
                Some(np) => format!("{}:{np}/{proto}", p.port),
                None => format!("{}/{proto}", p.port),
            }
        })
        .collect();
    let mut r = vec![
        name,
        ty,
        cluster_ip,
        none_if_empty(external.join(",")),
        if ports.is_empty() { "<none>".into() } else { ports.join(",") },
        created,
    ];
    if wide {
        let sel: Vec<String> = spec.selector.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
        r.push(none_if_empty(sel.join(",")));
    }
    r
}

/// The STATUS column of `kubectl get pods` (`printPod`): the phase, overridden by the first
/// container's waiting or terminated reason, or `Terminating`.
pub fn pod_status(p: &Pod) -> String {
    pod_status_of(p.metadata.deletion_timestamp.is_some(), p.spec.as_ref(), p.status.as_ref())
}

/// [`pod_status`] from the parts it reads: whether the Pod is being deleted, its containers
/// (`spec`) and its status — what a `PodView` gives without expanding a compact Pod.
pub fn pod_status_of(deleting: bool, spec: Option<&PodSpec>, status: Option<&PodStatus>) -> String {
    // Read in place: the playground computes this for every Pod when it rebuilds its view.
    let default = PodStatus::default();
    let status = status.unwrap_or(&default);
    let statuses = status.container_statuses.as_deref().unwrap_or_default();
    let mut reason = status.reason.clone().or(status.phase.clone()).unwrap_or_else(|| "Pending".into());
    let inits = spec.and_then(|s| s.init_containers.as_deref()).unwrap_or_default();
    let mut initializing = false;
    for (i, c) in status.init_container_statuses.iter().flatten().enumerate() {
        let restartable = inits.iter().find(|s| s.name == c.name).is_some_and(|s| s.restart_policy.as_deref() == Some("Always"));
        if restartable {
            continue;
        }
        let state = c.state.as_ref();
        let waiting = state.and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref());
        match (state.and_then(|s| s.terminated.as_ref()), waiting.filter(|r| !r.is_empty() && *r != "PodInitializing")) {
            (Some(t), _) if t.exit_code == 0 => continue,
            (Some(t), _) => {
                reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => format!("Init:{r}"),
                    None if t.signal.unwrap_or(0) != 0 => format!("Init:Signal:{}", t.signal.unwrap_or(0)),
                    None => format!("Init:ExitCode:{}", t.exit_code),
                };
            }
            (None, Some(waiting)) => reason = format!("Init:{waiting}"),
            (None, None) => reason = format!("Init:{i}/{}", inits.len()),
        }
        initializing = true;
        break;
    }
    let initialized = status.conditions.iter().flatten().any(|c| c.type_ == "Initialized" && c.status == "True");
    if initializing && !initialized {
        return if deleting { "Terminating".into() } else { reason };
    }
    // App containers from last to first: the first one that is not running decides.
    for c in statuses.iter().rev() {
        let state = c.state.as_ref();
        if let Some(r) = state.and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref()).filter(|r| !r.is_empty()) {
            reason = r.to_string();
        } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            reason = match t.reason.as_deref() {
                Some(r) if !r.is_empty() => r.to_string(),
                _ if t.signal.unwrap_or(0) != 0 => format!("Signal:{}", t.signal.unwrap_or(0)),
                _ => format!("ExitCode:{}", t.exit_code),
            };
        }
    }
    // A finished sidecar-like container beside one still running and ready.
    if reason == "Completed" && statuses.iter().any(|c| c.ready && c.state.as_ref().is_some_and(|s| s.running.is_some())) {
        let ready = status.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
        reason = if ready { "Running".into() } else { "NotReady".into() };
    }
    if deleting && !matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
        reason = if status.reason.as_deref() == Some("NodeLost") { "Unknown".into() } else { "Terminating".into() };
    }
    reason
}

/// Init containers with `restartPolicy: Always` (sidecars) count with the app containers.
fn is_sidecar(spec: Option<&PodSpec>, name: &str) -> bool {
    spec.iter().flat_map(|s| s.init_containers.iter().flatten()).any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
}

/// The READY column: containers running and ready, of all; sidecars count once started (`1/2`).
pub fn pod_ready(p: &Pod) -> String {
    pod_ready_of(p.spec.as_ref(), p.status.as_ref())
}

/// [`pod_ready`] from the Pod's containers (`spec`) and status.
pub fn pod_ready_of(spec: Option<&PodSpec>, status: Option<&PodStatus>) -> String {
    let sidecars =
        spec.iter().flat_map(|s| s.init_containers.iter().flatten()).filter(|c| c.restart_policy.as_deref() == Some("Always")).count();
    let total = spec.map_or(0, |s| s.containers.len()) + sidecars;
    let apps = status.into_iter().flat_map(|s| s.container_statuses.iter().flatten());
    let mut ready = apps.filter(|c| c.ready && c.state.as_ref().is_some_and(|s| s.running.is_some())).count();
    let inits = status.into_iter().flat_map(|s| s.init_container_statuses.iter().flatten());
    ready += inits.filter(|c| is_sidecar(spec, &c.name) && c.started == Some(true) && c.ready).count();
    format!("{ready}/{total}")
}

/// The RESTARTS column's count: app containers and sidecars, and init containers while the Pod
/// is still initializing.
pub fn pod_restarts(p: &Pod) -> i32 {
    pod_restarts_of(p.spec.as_ref(), p.status.as_ref())
}

/// [`pod_restarts`] from the Pod's containers (`spec`) and status.
pub fn pod_restarts_of(spec: Option<&PodSpec>, status: Option<&PodStatus>) -> i32 {
    let initialized =
        status.into_iter().flat_map(|s| s.conditions.iter().flatten()).any(|c| c.type_ == "Initialized" && c.status == "True");
    let apps: i32 = status.into_iter().flat_map(|s| s.container_statuses.iter().flatten()).map(|c| c.restart_count).sum();
    let inits = status.into_iter().flat_map(|s| s.init_container_statuses.iter().flatten());
    let inits: i32 = inits.filter(|c| !initialized || is_sidecar(spec, &c.name)).map(|c| c.restart_count).sum();
    apps + inits
}

fn pod_row(cluster: &At<'_>, p: &Pod, wide: bool) -> Vec<String> {
    let status = p.status.clone().unwrap_or_default();
    let statuses = status.container_statuses.clone().unwrap_or_default();
    let reason = pod_status(p);
    let restarts = pod_restarts(p);
    let all = statuses.iter().chain(status.init_container_statuses.iter().flatten());
    let last_restart = all.filter_map(|c| c.last_state.as_ref()?.terminated.as_ref()?.finished_at.as_ref()).max_by_key(|t| from_time(t));
    let restarts = match last_restart {
        Some(t) if restarts > 0 => format!("{restarts} ({} ago)", age(cluster, Some(t))),
        _ => restarts.to_string(),
    };
    let name = p.metadata.name.clone().unwrap_or_default();
    let mut r = vec![name, pod_ready(p), reason, restarts, age(cluster, p.metadata.creation_timestamp.as_ref())];
    if wide {
        r.push(status.pod_ip.clone().unwrap_or_else(|| "<none>".into()));
        r.push(p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_else(|| "<none>".into()));
        r.push(status.nominated_node_name.clone().unwrap_or_else(|| "<none>".into()));
        r.push("<none>".into());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, PodCondition, PodStatus,
    };

    fn waiting(reason: &str) -> ContainerState {
        ContainerState { waiting: Some(ContainerStateWaiting { reason: Some(reason.into()), message: None }), ..Default::default() }
    }

    fn terminated(code: i32, reason: Option<&str>) -> ContainerState {
        let t = ContainerStateTerminated { exit_code: code, reason: reason.map(Into::into), ..Default::default() };
        ContainerState { terminated: Some(t), ..Default::default() }
    }

    fn running() -> ContainerState {
        ContainerState { running: Some(ContainerStateRunning::default()), ..Default::default() }
    }

    fn pod(phase: &str, states: Vec<(ContainerState, bool)>) -> Pod {
        let container_statuses = states
            .into_iter()
            .enumerate()
            .map(|(i, (state, ready))| ContainerStatus { name: format!("c{i}"), state: Some(state), ready, ..Default::default() })
            .collect();
        Pod {
            status: Some(PodStatus { phase: Some(phase.into()), container_statuses: Some(container_statuses), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn status_column_cases() {
        assert_eq!(pod_status(&pod("Pending", vec![(waiting("ContainerCreating"), false)])), "ContainerCreating");
        assert_eq!(pod_status(&pod("Running", vec![(waiting("CrashLoopBackOff"), false)])), "CrashLoopBackOff");
        assert_eq!(pod_status(&pod("Succeeded", vec![(terminated(0, Some("Completed")), false)])), "Completed");
        assert_eq!(pod_status(&pod("Failed", vec![(terminated(3, Some("Error")), false)])), "Error");
        assert_eq!(pod_status(&pod("Failed", vec![(terminated(2, None), false)])), "ExitCode:2");
        assert_eq!(pod_status(&pod("Running", vec![(running(), true)])), "Running");
        // The first container wins when several are not running (kubectl scans from the last).
        assert_eq!(
            pod_status(&pod("Running", vec![(waiting("CrashLoopBackOff"), false), (terminated(1, Some("Error")), false)])),
            "CrashLoopBackOff"
        );
        // Completed next to a running, ready container: Running, or NotReady without Ready.
        let mut mixed = pod("Running", vec![(terminated(0, Some("Completed")), false), (running(), true)]);
        assert_eq!(pod_status(&mixed), "NotReady");
        if let Some(s) = mixed.status.as_mut() {
            s.conditions = Some(vec![PodCondition { type_: "Ready".into(), status: "True".into(), ..Default::default() }]);
        }
        assert_eq!(pod_status(&mixed), "Running");
        let mut deleting = pod("Running", vec![(running(), true)]);
        deleting.metadata.deletion_timestamp = Some(crate::time::to_time(crate::time::SimTime(0)));
        assert_eq!(pod_status(&deleting), "Terminating");
    }

    #[test]
    fn columns_read_the_same_from_a_compact_pod() {
        let mut api = crate::apiserver::ApiServer::new(1);
        api.set_hot_pod_uses(0);
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  nodeName: n1\n  initContainers: [{name: log, image: busybox, restartPolicy: Always}]\n  containers: [{name: c0, image: nginx}, {name: c1, image: nginx}]\n";
        let key = api.create(crate::manifest::parse("p.yaml", yaml).objects[0].object.clone()).expect("pod").key();
        let mixed = pod("Running", vec![(terminated(0, Some("Completed")), false), (running(), true)]);
        let crashing = pod("Running", vec![(waiting("CrashLoopBackOff"), false), (terminated(1, Some("Error")), false)]);
        for status in [mixed.status, crashing.status] {
            let Some(Object::Pod(mut p)) = api.get(&key).cloned() else { panic!("a Pod") };
            p.status = status;
            if let Some(s) = p.status.as_mut() {
                s.init_container_statuses = Some(vec![ContainerStatus {
                    name: "log".into(),
                    started: Some(true),
                    ready: true,
                    restart_count: 2,
                    ..Default::default()
                }]);
            }
            api.update(Object::Pod(p));
            let view = api.store().pod_view(&key).expect("stored");
            assert!(matches!(view, crate::apiserver::PodView::Compact(_)), "kept compact");
            let from_view = view.with_containers(|spec, status| {
                (pod_status_of(false, spec, status), pod_ready_of(spec, status), pod_restarts_of(spec, status))
            });
            let whole = api.get(&key).and_then(Object::as_pod).expect("a Pod");
            assert_eq!(from_view, (pod_status(whole), pod_ready(whole), pod_restarts(whole)));
        }
    }
}
