//! `kubectl describe` for Pods and Deployments, written line by line as kubectl's describers
//! write them (`k8s.io/kubectl/pkg/describe`): tab-separated cells through Go's tabwriter,
//! two spaces per level, then the object's Events.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, ContainerState, ContainerStatus, Event, Pod, PodTemplateSpec, Toleration, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::args::{namespace, requests, Flags};
use super::columns::selector_string;
use super::tabwriter::TabWriter;
use super::Output;
use crate::api::controller_owner;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;
use crate::time::from_time;

pub(super) fn describe(cluster: &mut Cluster, flags: &Flags) -> Output {
    cluster.settle();
    let reqs = match requests(&flags.positional) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let ns = namespace(flags);
    let mut out = Vec::new();
    let mut errors = String::new();
    for (info, names) in reqs {
        if !matches!(
            info.kind,
            "Pod"
                | "Deployment"
                | "ConfigMap"
                | "Secret"
                | "Service"
                | "Ingress"
                | "Job"
                | "DaemonSet"
                | "StatefulSet"
                | "CronJob"
                | "Node"
        ) {
            errors.push_str(&format!(
                "error: kubeplay describes pods, deployments, daemonsets, statefulsets, jobs, cronjobs, services, ingresses, configmaps, secrets and nodes so far; try `kubectl get {} -o yaml`\n",
                info.plural
            ));
            continue;
        }
        let scope = if info.namespaced { ns.as_str() } else { "" };
        let keys: Vec<ObjectKey> = if names.is_empty() {
            cluster.store().list(info.kind, Some(scope)).map(Object::key).collect()
        } else {
            names.iter().map(|n| ObjectKey::new(info.kind, scope, n)).collect()
        };
        for key in keys {
            match cluster.get(&key) {
                Some(Object::Pod(p)) => out.push(pod(cluster, p)),
                Some(Object::Deployment(d)) => out.push(deployment(cluster, d)),
                Some(Object::ConfigMap(cm)) => out.push(config_map(cluster, cm)),
                Some(Object::Secret(s)) => out.push(secret(s)),
                Some(Object::Service(svc)) => out.push(super::describe_service::service(cluster, svc)),
                Some(Object::Ingress(ing)) => out.push(super::describe_ingress::ingress(cluster, ing)),
                Some(Object::Job(job)) => out.push(describe_job(cluster, job)),
                Some(Object::DaemonSet(ds)) => out.push(super::describe_workloads::daemon_set(cluster, ds)),
                Some(Object::StatefulSet(sts)) => out.push(super::describe_workloads::stateful_set(cluster, sts)),
                Some(Object::CronJob(cj)) => out.push(super::describe_workloads::cron_job(cluster, cj)),
                Some(Object::Node(n)) => out.push(super::describe_node::node(cluster, n)),
                _ => errors.push_str(&format!("Error from server (NotFound): {} \"{}\" not found\n", info.qualified_plural(), key.name)),
            }
        }
    }
    if out.is_empty() && errors.is_empty() {
        return Output::ok(format!("No resources found in {ns} namespace.\n"));
    }
    let ok = errors.is_empty();
    let mut text = out.join("\n\n");
    text.push_str(&errors);
    Output { text, ok }
}

pub(super) fn rfc1123z(t: &Time) -> String {
    if t.0 == k8s_openapi::jiff::Timestamp::UNIX_EPOCH {
        // The zero time a container that never started reports.
        return "Thu, 01 Jan 1970 00:00:00 +0000".into();
    }
    from_time(t).rfc1123z()
}

fn since(cluster: &Cluster, t: Option<&Time>) -> String {
    match t {
        Some(t) => cluster.now().since(from_time(t)).human(),
        None => "<unknown>".into(),
    }
}

pub(super) fn labels(w: &mut TabWriter, title: &str, labels: Option<&BTreeMap<String, String>>) {
    w.write(&format!("{title}:\t"));
    match labels.filter(|l| !l.is_empty()) {
        None => w.write("<none>\n"),
        Some(l) => {
            for (i, (k, v)) in l.iter().enumerate() {
                if i > 0 {
                    w.write("\t");
                }
                w.write(&format!("{k}={v}\n"));
            }
        }
    }
}

/// Annotations minus kubectl's own last-applied configuration, values cut at 200 characters.
pub(super) fn annotations(w: &mut TabWriter, title: &str, annotations: Option<&BTreeMap<String, String>>) {
    w.write(&format!("{title}:\t"));
    let shown: Vec<(&String, &String)> =
        annotations.into_iter().flatten().filter(|(k, _)| k.as_str() != "kubectl.kubernetes.io/last-applied-configuration").collect();
    if shown.is_empty() {
        w.write("<none>\n");
        return;
    }
    for (i, (k, v)) in shown.iter().enumerate() {
        if i > 0 {
            w.write("\t");
        }
        if v.chars().count() > 200 {
            let cut: String = v.chars().take(200).collect();
            w.write(&format!("{k}: {cut}...\n"));
        } else {
            w.write(&format!("{k}: {v}\n"));
        }
    }
}

fn tolerations(w: &mut TabWriter, title: &str, tolerations: &[Toleration]) {
    w.write(&format!("{title}:\t"));
    if tolerations.is_empty() {
        w.write("<none>\n");
        return;
    }
    let mut sorted = tolerations.to_vec();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let initial_indent = title.len() - title.trim_start().len();
    for (i, t) in sorted.iter().enumerate() {
        if i > 0 {
            w.write(&" ".repeat(initial_indent));
            w.write("\t");
        }
        let key = t.key.clone().unwrap_or_default();
        let value = t.value.clone().unwrap_or_default();
        let effect = t.effect.clone().unwrap_or_default();
        let mut s = key.clone();
        if !value.is_empty() {
            s.push_str(&format!("={value}"));
        }
        if !effect.is_empty() {
            s.push_str(&format!(":{effect}"));
        }
        if t.operator.as_deref() == Some("Exists") && value.is_empty() {
            s.push_str(if key.is_empty() && effect.is_empty() { "op=Exists" } else { " op=Exists" });
        }
        if let Some(secs) = t.toleration_seconds {
            s.push_str(&format!(" for {secs}s"));
        }
        w.write(&format!("{s}\n"));
    }
}

fn ports(c: &Container, host: bool) -> String {
    let list: Vec<String> = c
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let n = if host { p.host_port.unwrap_or(0) } else { p.container_port };
            format!("{n}/{}", p.protocol.as_deref().unwrap_or("TCP"))
        })
        .collect();
    list.join(", ")
}

fn state(w: &mut TabWriter, name: &str, s: &ContainerState) {
    if let Some(r) = &s.running {
        w.write(&format!("    {name}:\tRunning\n"));
        w.write(&format!("      Started:\t{}\n", r.started_at.as_ref().map(rfc1123z).unwrap_or_default()));
    } else if let Some(t) = &s.terminated {
        w.write(&format!("    {name}:\tTerminated\n"));
        if let Some(r) = t.reason.as_deref().filter(|r| !r.is_empty()) {
            w.write(&format!("      Reason:\t{r}\n"));
        }
        if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
            w.write(&format!("      Message:\t{m}\n"));
        }
        w.write(&format!("      Exit Code:\t{}\n", t.exit_code));
        w.write(&format!("      Started:\t{}\n", t.started_at.as_ref().map(rfc1123z).unwrap_or_default()));
        w.write(&format!("      Finished:\t{}\n", t.finished_at.as_ref().map(rfc1123z).unwrap_or_default()));
    } else {
        w.write(&format!("    {name}:\tWaiting\n"));
        if let Some(r) = s.waiting.as_ref().and_then(|wt| wt.reason.as_deref()).filter(|r| !r.is_empty()) {
            w.write(&format!("      Reason:\t{r}\n"));
        }
    }
}

/// `describeContainers`: `title` is "Containers" or "Init Containers"; `space` is "" for a
/// Pod, two spaces inside a Pod template.
fn containers(
    w: &mut TabWriter,
    title: &str,
    containers: &[Container],
    statuses: &[ContainerStatus],
    space: &str,
    pod_field: Option<&k8s_openapi::api::core::v1::Pod>,
) {
    let name_indent = if space.is_empty() { "" } else { " " };
    w.write(&format!("{space}{title}:{}\n", if containers.is_empty() { " <none>" } else { "" }));
    for c in containers {
        let status = statuses.iter().find(|s| s.name == c.name);
        w.write(&format!("  {name_indent}{}:\n", c.name));
        if let Some(s) = status {
            w.write(&format!("    Container ID:\t{}\n", s.container_id.as_deref().unwrap_or("")));
        }
        w.write(&format!("    Image:\t{}\n", c.image.as_deref().unwrap_or("")));
        if let Some(s) = status {
            w.write(&format!("    Image ID:\t{}\n", s.image_id));
        }
        for (label, host) in [("Port", false), ("Host Port", true)] {
            let p = ports(c, host);
            if p.contains(',') {
                w.write(&format!("    {label}s:\t{p}\n"));
            } else {
                w.write(&format!("    {label}:\t{}\n", if p.is_empty() { "<none>" } else { &p }));
            }
        }
        for (label, words) in [("Command", &c.command), ("Args", &c.args)] {
            if let Some(words) = words.as_ref().filter(|w| !w.is_empty()) {
                w.write(&format!("    {label}:\n"));
                for line in words.iter().flat_map(|s| s.split('\n')) {
                    w.write(&format!("      {line}\n"));
                }
            }
        }
        if let Some(s) = status {
            state(w, "State", s.state.as_ref().unwrap_or(&ContainerState::default()));
            if let Some(last) = s.last_state.as_ref().filter(|l| l.terminated.is_some()) {
                state(w, "Last State", last);
            }
            w.write(&format!("    Ready:\t{}\n", if s.ready { "True" } else { "False" }));
            w.write(&format!("    Restart Count:\t{}\n", s.restart_count));
        }
        if let Some(res) = c.resources.as_ref() {
            for (label, list) in [("Limits", &res.limits), ("Requests", &res.requests)] {
                if let Some(list) = list.as_ref().filter(|l| !l.is_empty()) {
                    w.write(&format!("    {label}:\n"));
                    for (k, q) in list {
                        w.write(&format!("      {k}:\t{}\n", q.0));
                    }
                }
            }
        }
        for (label, probe) in [("Liveness", &c.liveness_probe), ("Readiness", &c.readiness_probe), ("Startup", &c.startup_probe)] {
            if let Some(p) = probe {
                w.write(&format!("    {label}:\t{}\n", describe_probe(p)));
            }
        }
        env_from(w, c);
        let env = c.env.as_deref().unwrap_or_default();
        w.write(&format!("    Environment:{}\n", if env.is_empty() { "\t<none>" } else { "" }));
        for e in env {
            let Some(from) = &e.value_from else {
                for (i, line) in e.value.as_deref().unwrap_or("").split('\n').enumerate() {
                    if i == 0 {
                        w.write(&format!("      {}:\t{line}\n", e.name));
                    } else {
                        w.write(&format!("      \t{line}\n"));
                    }
                }
                continue;
            };
            let name = &e.name;
            if let Some(f) = &from.field_ref {
                let value = pod_field.map(|p| field_value(p, &f.field_path)).unwrap_or_default();
                w.write(&format!("      {name}:\t{value} ({}:{})\n", f.api_version.as_deref().unwrap_or(""), f.field_path));
            } else if let Some(r) = &from.resource_field_ref {
                let value = container_resource(c, &r.resource, r.divisor.as_ref().map(|d| d.0.as_str()));
                w.write(&format!("      {name}:\t{value} ({})\n", r.resource));
            } else if let Some(r) = &from.secret_key_ref {
                let optional = r.optional == Some(true);
                w.write(&format!("      {name}:\t<set to the key '{}' in secret '{}'>\tOptional: {optional}\n", r.key, r.name));
            } else if let Some(r) = &from.config_map_key_ref {
                let optional = r.optional == Some(true);
                w.write(&format!("      {name}:\t<set to the key '{}' of config map '{}'>\tOptional: {optional}\n", r.key, r.name));
            }
        }
        let mut mounts = c.volume_mounts.clone().unwrap_or_default();
        mounts.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
        w.write(&format!("    Mounts:{}\n", if mounts.is_empty() { "\t<none>" } else { "" }));
        for m in mounts {
            let mut flags = vec![if m.read_only == Some(true) { "ro".to_string() } else { "rw".to_string() }];
            if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                flags.push(format!("path={sub:?}"));
            }
            w.write(&format!("      {} from {} ({})\n", m.mount_path, m.name, flags.join(",")));
        }
    }
}

fn volumes(w: &mut TabWriter, volumes: &[Volume], space: &str) {
    if volumes.is_empty() {
        w.write(&format!("{space}Volumes:\t<none>\n"));
        return;
    }
    w.write(&format!("{space}Volumes:\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for v in volumes {
        w.write(&format!("  {name_indent}{}:\n", v.name));
        if let Some(p) = &v.projected {
            w.write("    Type:\tProjected (a volume that contains injected data from multiple sources)\n");
            for s in p.sources.iter().flatten() {
                if let Some(cm) = &s.config_map {
                    w.write(&format!("    ConfigMapName:\t{}\n    Optional:\t{}\n", cm.name, cm.optional == Some(true)));
                } else if s.downward_api.is_some() {
                    w.write("    DownwardAPI:\ttrue\n");
                } else if let Some(t) = &s.service_account_token {
                    w.write(&format!("    TokenExpirationSeconds:\t{}\n", t.expiration_seconds.unwrap_or(3607)));
                } else if let Some(sec) = &s.secret {
                    w.write(&format!("    SecretName:\t{}\n    Optional:\t{}\n", sec.name, sec.optional == Some(true)));
                }
            }
        } else if let Some(e) = &v.empty_dir {
            let limit = e.size_limit.as_ref().map_or("<unset>".to_string(), |q| q.0.clone());
            w.write(&format!(
                "    Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{limit}\n",
                e.medium.as_deref().unwrap_or("")
            ));
        } else if let Some(cm) = &v.config_map {
            w.write(&format!(
                "    Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                cm.name,
                cm.optional == Some(true)
            ));
        } else if let Some(s) = &v.secret {
            w.write(&format!(
                "    Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                s.secret_name.as_deref().unwrap_or(""),
                s.optional == Some(true)
            ));
        } else if let Some(c) = &v.persistent_volume_claim {
            w.write(&format!(
                "    Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                c.claim_name,
                c.read_only == Some(true)
            ));
        } else {
            w.write("  <unknown>\n");
        }
    }
}

/// The object's Events, oldest `lastTimestamp` first, aligned on their own.
pub(super) fn events(cluster: &Cluster, w: &mut TabWriter, uid: Option<&str>) {
    let mut list: Vec<&Event> = match uid {
        Some(uid) => cluster.store().events_about(uid).filter_map(Object::as_event).collect(),
        None => cluster.store().list("Event", None).filter_map(Object::as_event).filter(|e| e.involved_object.uid.is_none()).collect(),
    };
    if list.is_empty() {
        w.write("Events:\t<none>\n");
        return;
    }
    w.flush();
    list.sort_by_key(|e| e.last_timestamp.as_ref().map(from_time));
    w.write("Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write("  ----\t------\t----\t----\t-------\n");
    for e in list {
        let first = since(cluster, e.first_timestamp.as_ref());
        let count = e.count.unwrap_or(1);
        let age = if count > 1 { format!("{} (x{count} over {first})", since(cluster, e.last_timestamp.as_ref())) } else { first };
        let source = e.source.as_ref().and_then(|s| s.component.clone()).unwrap_or_default();
        w.write(&format!(
            "  {}\t{}\t{age}\t{source}\t{}\n",
            e.type_.as_deref().unwrap_or(""),
            e.reason.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or("").trim()
        ));
    }
}

fn pod(cluster: &Cluster, p: &Pod) -> String {
    let mut w = TabWriter::default();
    let spec = p.spec.clone().unwrap_or_default();
    let status = p.status.clone().unwrap_or_default();
    w.write(&format!("Name:\t{}\n", p.metadata.name.as_deref().unwrap_or("")));
    w.write(&format!("Namespace:\t{}\n", p.metadata.namespace.as_deref().unwrap_or("")));
    if let Some(prio) = spec.priority {
        w.write(&format!("Priority:\t{prio}\n"));
    }
    if let Some(pc) = spec.priority_class_name.as_deref().filter(|s| !s.is_empty()) {
        w.write(&format!("Priority Class Name:\t{pc}\n"));
    }
    if let Some(sa) = spec.service_account_name.as_deref().filter(|s| !s.is_empty()) {
        w.write(&format!("Service Account:\t{sa}\n"));
    }
    match spec.node_name.as_deref() {
        Some(node) => w.write(&format!("Node:\t{node}/{}\n", status.host_ip.as_deref().unwrap_or(""))),
        None => w.write("Node:\t<none>\n"),
    }
    if let Some(start) = &status.start_time {
        w.write(&format!("Start Time:\t{}\n", rfc1123z(start)));
    }
    labels(&mut w, "Labels", p.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", p.metadata.annotations.as_ref());
    let phase = status.phase.clone().unwrap_or_default();
    match &p.metadata.deletion_timestamp {
        Some(t) if !crate::api::pod_util::is_terminal(p) => {
            w.write(&format!("Status:\tTerminating (lasts {})\n", since(cluster, Some(t))));
            w.write(&format!("Termination Grace Period:\t{}s\n", p.metadata.deletion_grace_period_seconds.unwrap_or(30)));
        }
        _ => w.write(&format!("Status:\t{phase}\n")),
    }
    if let Some(reason) = status.reason.as_deref().filter(|r| !r.is_empty()) {
        w.write(&format!("Reason:\t{reason}\n"));
    }
    if let Some(message) = status.message.as_deref().filter(|m| !m.is_empty()) {
        w.write(&format!("Message:\t{message}\n"));
    }
    w.write(&format!("IP:\t{}\n", status.pod_ip.as_deref().unwrap_or("")));
    match status.pod_ips.as_deref().filter(|ips| !ips.is_empty()) {
        None => w.write("IPs:\t<none>\n"),
        Some(ips) => {
            w.write("IPs:\n");
            for ip in ips {
                w.write(&format!("  IP:\t{}\n", ip.ip));
            }
        }
    }
    if let Some(owner) = controller_owner(&Object::from(p.clone())) {
        w.write(&format!("Controlled By:\t{}/{}\n", owner.kind, owner.name));
    }
    if let Some(inits) = spec.init_containers.as_ref().filter(|i| !i.is_empty()) {
        containers(&mut w, "Init Containers", inits, status.init_container_statuses.as_deref().unwrap_or_default(), "", Some(p));
    }
    containers(&mut w, "Containers", &spec.containers, status.container_statuses.as_deref().unwrap_or_default(), "", Some(p));
    if let Some(conditions) = status.conditions.as_ref().filter(|c| !c.is_empty()) {
        w.write("Conditions:\n  Type\tStatus\n");
        for c in conditions {
            w.write(&format!("  {} \t{} \n", c.type_, c.status));
        }
    }
    volumes(&mut w, spec.volumes.as_deref().unwrap_or_default(), "");
    w.write(&format!("QoS Class:\t{}\n", status.qos_class.as_deref().unwrap_or("")));
    labels(&mut w, "Node-Selectors", spec.node_selector.as_ref());
    tolerations(&mut w, "Tolerations", spec.tolerations.as_deref().unwrap_or_default());
    events(cluster, &mut w, p.metadata.uid.as_deref());
    let mut out = w.finish();
    // kubeplay's own section, after kubectl's output: why the Pod is where it is, or why it
    // waits (each node's verdict, the scores, for a Pending Pod the fixes).
    if p.metadata.deletion_timestamp.is_none() && !crate::api::pod_util::is_terminal(p) {
        let key =
            crate::api::ObjectKey::new("Pod", p.metadata.namespace.as_deref().unwrap_or(""), p.metadata.name.as_deref().unwrap_or(""));
        if let Ok(text) = crate::scheduler::explain::explain(cluster.api(), cluster.scheduler_config(), &key) {
            out.push_str("\nScheduling explanation (kubeplay; not part of kubectl's output):\n");
            // The first line says where the Pod runs and that the verdict is as of now.
            for line in text.lines() {
                out.push_str(&if line.is_empty() { "\n".to_string() } else { format!("  {line}\n") });
            }
        }
    }
    out
}

/// `DescribePodTemplate` written straight out, without aligning the tabs.
pub(super) fn pod_template_raw(t: &PodTemplateSpec) -> String {
    let mut w = TabWriter::default();
    pod_template(&mut w, t);
    w.raw()
}

pub(super) fn pod_template(w: &mut TabWriter, t: &PodTemplateSpec) {
    w.write("Pod Template:\n");
    let meta = t.metadata.clone().unwrap_or_default();
    let spec = t.spec.clone().unwrap_or_default();
    labels(w, "  Labels", meta.labels.as_ref());
    if meta.annotations.as_ref().is_some_and(|a| !a.is_empty()) {
        annotations(w, "  Annotations", meta.annotations.as_ref());
    }
    if let Some(sa) = spec.service_account_name.as_deref().filter(|s| !s.is_empty()) {
        w.write(&format!("  Service Account:\t{sa}\n"));
    }
    containers(w, "Containers", &spec.containers, &[], "  ", None);
    volumes(w, spec.volumes.as_deref().unwrap_or_default(), "  ");
    if let Some(pc) = spec.priority_class_name.as_deref().filter(|s| !s.is_empty()) {
        w.write(&format!("  Priority Class Name:\t{pc}\n"));
    }
    labels(w, "  Node-Selectors", spec.node_selector.as_ref());
    tolerations(w, "  Tolerations", spec.tolerations.as_deref().unwrap_or_default());
}

/// `describeJob`.
fn describe_job(cluster: &Cluster, job: &k8s_openapi::api::batch::v1::Job) -> String {
    let mut w = TabWriter::default();
    let spec = job.spec.clone().unwrap_or_default();
    let status = job.status.clone().unwrap_or_default();
    w.write(&format!("Name:\t{}\n", job.metadata.name.as_deref().unwrap_or("")));
    w.write(&format!("Namespace:\t{}\n", job.metadata.namespace.as_deref().unwrap_or("")));
    w.write(&format!("Selector:\t{}\n", spec.selector.as_ref().map(selector_string).unwrap_or_default()));
    labels(&mut w, "Labels", job.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", job.metadata.annotations.as_ref());
    if let Some(owner) = controller_owner(&Object::from(job.clone())) {
        w.write(&format!("Controlled By:\t{}/{}\n", owner.kind, owner.name));
    }
    if let Some(p) = spec.parallelism {
        w.write(&format!("Parallelism:\t{p}\n"));
    }
    match spec.completions {
        Some(c) => w.write(&format!("Completions:\t{c}\n")),
        None => w.write("Completions:\t<unset>\n"),
    }
    if let Some(mode) = &spec.completion_mode {
        w.write(&format!("Completion Mode:\t{mode}\n"));
    }
    if let Some(s) = spec.suspend {
        w.write(&format!("Suspend:\t{s}\n"));
    }
    if let Some(b) = spec.backoff_limit {
        w.write(&format!("Backoff Limit:\t{b}\n"));
    }
    if let Some(ttl) = spec.ttl_seconds_after_finished {
        w.write(&format!("TTL Seconds After Finished:\t{ttl}\n"));
    }
    if let Some(start) = &status.start_time {
        w.write(&format!("Start Time:\t{}\n", rfc1123z(start)));
    }
    if let Some(done) = &status.completion_time {
        w.write(&format!("Completed At:\t{}\n", rfc1123z(done)));
    }
    if let (Some(start), Some(done)) = (&status.start_time, &status.completion_time) {
        w.write(&format!("Duration:\t{}\n", crate::time::from_time(done).since(crate::time::from_time(start)).human()));
    }
    if let Some(d) = spec.active_deadline_seconds {
        w.write(&format!("Active Deadline Seconds:\t{d}s\n"));
    }
    let (active, succeeded, failed) = (status.active.unwrap_or(0), status.succeeded.unwrap_or(0), status.failed.unwrap_or(0));
    match status.ready {
        None => w.write(&format!("Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n")),
        Some(ready) => w.write(&format!("Pods Statuses:\t{active} Active ({ready} Ready) / {succeeded} Succeeded / {failed} Failed\n")),
    }
    if spec.completion_mode.as_deref() == Some("Indexed") {
        let indexes = status.completed_indexes.as_deref().filter(|i| !i.is_empty()).unwrap_or("<none>");
        w.write(&format!("Completed Indexes:\t{indexes}\n"));
    }
    pod_template(&mut w, &spec.template);
    events(cluster, &mut w, job.metadata.uid.as_deref());
    w.finish()
}

fn int_or_string(v: Option<&IntOrString>) -> String {
    match v {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "0".into(),
    }
}

fn deployment(cluster: &Cluster, d: &Deployment) -> String {
    let mut w = TabWriter::default();
    let status = d.status.clone().unwrap_or_default();
    w.write(&format!("Name:\t{}\n", d.metadata.name.as_deref().unwrap_or("")));
    w.write(&format!("Namespace:\t{}\n", d.metadata.namespace.as_deref().unwrap_or("")));
    w.write(&format!("CreationTimestamp:\t{}\n", d.metadata.creation_timestamp.as_ref().map(rfc1123z).unwrap_or_default()));
    labels(&mut w, "Labels", d.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", d.metadata.annotations.as_ref());
    w.write(&format!("Selector:\t{}\n", selector_string(&d.spec.selector)));
    w.write(&format!(
        "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
        d.spec.replicas.unwrap_or(1),
        status.updated_replicas.unwrap_or(0),
        status.replicas.unwrap_or(0),
        status.available_replicas.unwrap_or(0),
        status.unavailable_replicas.unwrap_or(0)
    ));
    let strategy = d.spec.strategy.clone().unwrap_or_default();
    w.write(&format!("StrategyType:\t{}\n", strategy.type_.as_deref().unwrap_or("")));
    w.write(&format!("MinReadySeconds:\t{}\n", d.spec.min_ready_seconds.unwrap_or(0)));
    if let Some(ru) = &strategy.rolling_update {
        w.write(&format!(
            "RollingUpdateStrategy:\t{} max unavailable, {} max surge\n",
            int_or_string(ru.max_unavailable.as_ref()),
            int_or_string(ru.max_surge.as_ref())
        ));
    }
    pod_template(&mut w, &d.spec.template);
    if let Some(conditions) = status.conditions.as_ref().filter(|c| !c.is_empty()) {
        w.write("Conditions:\n  Type\tStatus\tReason\n");
        w.write("  ----\t------\t------\n");
        for c in conditions {
            w.write(&format!(
                "  {} \t{}\t{}\n",
                c.type_.as_deref().unwrap_or(""),
                c.status.as_deref().unwrap_or(""),
                c.reason.as_deref().unwrap_or("")
            ));
        }
    }
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let mut old = Vec::new();
    let mut new = Vec::new();
    for rs in cluster.store().dependents(&uid).filter_map(Object::as_replica_set) {
        let line = format!(
            "{} ({}/{} replicas created)",
            rs.metadata.name.as_deref().unwrap_or(""),
            rs.status.as_ref().map_or(0, |s| s.replicas),
            rs.spec.replicas.unwrap_or(1)
        );
        if crate::controllers::same_template(rs, &d.spec.template) {
            new.push(line);
        } else if rs.spec.replicas.unwrap_or(1) > 0 {
            old.push(line);
        }
    }
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "<none>".to_string()
        } else {
            v.join(", ")
        }
    };
    w.write(&format!("OldReplicaSets:\t{}\n", list(old)));
    w.write(&format!("NewReplicaSet:\t{}\n", list(new)));
    events(cluster, &mut w, d.metadata.uid.as_deref());
    w.finish()
}

/// `DescribeProbe`: the mechanism, then `delay=5s timeout=1s period=5s #success=1 #failure=3`.
fn describe_probe(p: &k8s_openapi::api::core::v1::Probe) -> String {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(0),
        p.period_seconds.unwrap_or(0),
        p.success_threshold.unwrap_or(0),
        p.failure_threshold.unwrap_or(0)
    );
    let port = |port: &IntOrString| match port {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    };
    if let Some(exec) = &p.exec {
        format!("exec [{}] {attrs}", exec.command.as_deref().unwrap_or_default().join(" "))
    } else if let Some(http) = &p.http_get {
        let scheme = http.scheme.as_deref().unwrap_or("").to_ascii_lowercase();
        let host = http.host.as_deref().unwrap_or("");
        let port = port(&http.port);
        let host = if port.is_empty() {
            host.to_string()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        format!("http-get {scheme}://{host}{} {attrs}", http.path.as_deref().unwrap_or(""))
    } else if let Some(tcp) = &p.tcp_socket {
        format!("tcp-socket {}:{} {attrs}", tcp.host.as_deref().unwrap_or(""), port(&tcp.port))
    } else if let Some(grpc) = &p.grpc {
        format!("grpc <pod>:{} {} {attrs}", grpc.port, grpc.service.as_deref().unwrap_or(""))
    } else {
        format!("unknown {attrs}")
    }
}

/// `describeContainerEnvFrom`, printed only when the container has `envFrom`.
fn env_from(w: &mut TabWriter, c: &Container) {
    let Some(list) = c.env_from.as_ref().filter(|l| !l.is_empty()) else { return };
    w.write("    Environment Variables from:\n");
    for e in list {
        let (from, name, optional) = match (&e.config_map_ref, &e.secret_ref) {
            (Some(r), _) => ("ConfigMap", r.name.as_str(), r.optional == Some(true)),
            (None, Some(r)) => ("Secret", r.name.as_str(), r.optional == Some(true)),
            (None, None) => ("", "", false),
        };
        match e.prefix.as_deref().filter(|p| !p.is_empty()) {
            Some(prefix) => w.write(&format!("      {name}\t{from} with prefix '{prefix}'\tOptional: {optional}\n")),
            None => w.write(&format!("      {name}\t{from}\tOptional: {optional}\n")),
        }
    }
}

/// What a `fieldRef` reads from the Pod (kubectl resolves these itself for describe).
fn field_value(p: &k8s_openapi::api::core::v1::Pod, path: &str) -> String {
    let status = p.status.as_ref();
    match path {
        "metadata.name" => p.metadata.name.clone().unwrap_or_default(),
        "metadata.namespace" => p.metadata.namespace.clone().unwrap_or_default(),
        "metadata.uid" => p.metadata.uid.clone().unwrap_or_default(),
        "spec.nodeName" => p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => p.spec.as_ref().and_then(|s| s.service_account_name.clone()).unwrap_or_default(),
        "status.hostIP" => status.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
        "status.podIP" => status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        _ => String::new(),
    }
}

/// `ExtractContainerResourceValue` for describe: a limit that is not set reads
/// "node allocatable".
fn container_resource(c: &Container, resource: &str, divisor: Option<&str>) -> String {
    let (group, kind) = resource.split_once('.').unwrap_or(("", resource));
    let res = c.resources.as_ref();
    let list = if group == "limits" { res.and_then(|r| r.limits.as_ref()) } else { res.and_then(|r| r.requests.as_ref()) };
    let q = list.and_then(|l| l.get(kind)).map(|q| q.0.as_str());
    let ceil_div = |a: i64, b: i64| if b <= 0 { a } else { (a + b - 1) / b };
    let value = match kind {
        "cpu" => ceil_div(
            q.and_then(crate::api::quantity::cpu_millis).unwrap_or(0),
            divisor.and_then(crate::api::quantity::cpu_millis).unwrap_or(1000),
        ),
        _ => ceil_div(q.and_then(crate::api::quantity::bytes).unwrap_or(0), divisor.and_then(crate::api::quantity::bytes).unwrap_or(1)),
    };
    if value == 0 && group == "limits" {
        "node allocatable".into()
    } else {
        value.to_string()
    }
}

/// `ConfigMapDescriber`: every key and its value, then binary keys by size, then events.
fn config_map(cluster: &Cluster, cm: &k8s_openapi::api::core::v1::ConfigMap) -> String {
    let mut w = TabWriter::default();
    w.write(&format!("Name:\t{}\n", cm.metadata.name.as_deref().unwrap_or("")));
    w.write(&format!("Namespace:\t{}\n", cm.metadata.namespace.as_deref().unwrap_or("")));
    labels(&mut w, "Labels", cm.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", cm.metadata.annotations.as_ref());
    w.write("\nData\n====\n");
    for (k, v) in cm.data.iter().flatten() {
        w.write(&format!("{k}:\n----\n{v}\n\n"));
    }
    w.write("\nBinaryData\n====\n");
    for (k, v) in cm.binary_data.iter().flatten() {
        w.write(&format!("{k}: {} bytes\n", v.0.len()));
    }
    w.write("\n");
    events(cluster, &mut w, cm.metadata.uid.as_deref());
    w.finish()
}

/// `SecretDescriber`: the type and each key's size — never its value.
fn secret(s: &k8s_openapi::api::core::v1::Secret) -> String {
    let mut w = TabWriter::default();
    w.write(&format!("Name:\t{}\n", s.metadata.name.as_deref().unwrap_or("")));
    w.write(&format!("Namespace:\t{}\n", s.metadata.namespace.as_deref().unwrap_or("")));
    labels(&mut w, "Labels", s.metadata.labels.as_ref());
    annotations(&mut w, "Annotations", s.metadata.annotations.as_ref());
    w.write(&format!("\nType:\t{}\n", s.type_.as_deref().unwrap_or("")));
    w.write("\nData\n====\n");
    for (k, v) in s.data.iter().flatten() {
        w.write(&format!("{k}:\t{} bytes\n", v.0.len()));
    }
    w.finish()
}
