//! The view model of the selected Pod: each container's state, readiness and restarts, its
//! timeline (every probe result, the kill, the exit, the back-off wait, the restart), the
//! last lines of its log, and its environment with the values that come from Secrets marked
//! (the panel masks them until revealed). For a Pod no node accepts, the changes that would
//! let it schedule, with the command that makes each (one click in the panel).

use kubeplay_core::api::{Object, ObjectKey};
use kubeplay_core::apiserver::logs::Mark;
use kubeplay_core::kubelet::slots;
use kubeplay_core::scheduler::explain::Fix;
use kubeplay_core::time::SimTime;
use kubeplay_core::Cluster;

/// Log lines the panel shows per container.
pub const LOG_LINES: usize = 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineMark {
    pub at: SimTime,
    /// `start`, `probe-ok`, `probe-fail`, `kill`, `exit`, `backoff`: the CSS class and test hook.
    pub kind: &'static str,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    /// From a Secret (`secretKeyRef`, `envFrom.secretRef`): masked until revealed.
    pub secret: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerDetail {
    pub name: String,
    /// `init`, `sidecar` or `app`.
    pub role: &'static str,
    /// `Running`, `Waiting: CrashLoopBackOff`, `Terminated: Error (exit code 1)`.
    pub state: String,
    pub last_state: Option<String>,
    pub ready: bool,
    pub restarts: i32,
    pub timeline: Vec<TimelineMark>,
    pub logs: Vec<String>,
    pub env: Vec<EnvVar>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodDetail {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    pub status: String,
    pub node: String,
    pub ip: String,
    pub containers: Vec<ContainerDetail>,
    /// For a Pod that waits for a node: what would let it schedule.
    pub fixes: Vec<Fix>,
}

thread_local! {
    /// The last fixes computed, by Pod uid and store resourceVersion: the panel refreshes every
    /// frame, the fixes change only with the cluster.
    static FIXES: std::cell::RefCell<Option<(String, u64, Vec<Fix>)>> = const { std::cell::RefCell::new(None) };
}

fn fixes(cluster: &Cluster, uid: &str, key: &ObjectKey) -> Vec<Fix> {
    let version = cluster.store().resource_version();
    FIXES.with(|memo| {
        if let Some((u, v, f)) = &*memo.borrow() {
            if u == uid && *v == version {
                return f.clone();
            }
        }
        let f = kubeplay_core::scheduler::explain::fixes(cluster.api(), key);
        *memo.borrow_mut() = Some((uid.to_string(), version, f.clone()));
        f
    })
}

fn describe_state(s: Option<&k8s_openapi::api::core::v1::ContainerState>) -> String {
    let Some(s) = s else { return "Waiting".into() };
    if s.running.is_some() {
        "Running".into()
    } else if let Some(w) = &s.waiting {
        format!("Waiting: {}", w.reason.as_deref().unwrap_or(""))
    } else if let Some(t) = &s.terminated {
        format!("Terminated: {} (exit code {})", t.reason.as_deref().unwrap_or(""), t.exit_code)
    } else {
        "Waiting".into()
    }
}

fn timeline(cluster: &Cluster, uid: &str, container: &str) -> Vec<TimelineMark> {
    cluster
        .api()
        .marks(uid, container)
        .map(|(at, mark)| {
            let (kind, label) = match mark {
                Mark::Started => ("start", "started".to_string()),
                Mark::Probe { kind, ok: true, .. } => ("probe-ok", format!("{kind} probe passed")),
                Mark::Probe { kind, ok: false, message } => ("probe-fail", format!("{kind} probe failed: {message}")),
                Mark::Killing { message } => ("kill", message.clone()),
                Mark::Exited { code, reason } => ("exit", format!("exited: {reason} (exit code {code})")),
                Mark::BackOff { wait } => ("backoff", format!("back-off {} before restarting", wait.go_string())),
            };
            TimelineMark { at: *at, kind, label }
        })
        .collect()
}

/// The names the container's environment takes from Secrets.
fn secret_names(cluster: &Cluster, namespace: &str, c: &k8s_openapi::api::core::v1::Container) -> Vec<String> {
    let mut names: Vec<String> = c
        .env
        .iter()
        .flatten()
        .filter(|e| e.value_from.as_ref().is_some_and(|v| v.secret_key_ref.is_some()))
        .map(|e| e.name.clone())
        .collect();
    for from in c.env_from.iter().flatten() {
        let Some(secret_ref) = &from.secret_ref else { continue };
        let key = ObjectKey::new("Secret", namespace, &secret_ref.name);
        let Some(secret) = cluster.get(&key).and_then(Object::as_secret) else { continue };
        let prefix = from.prefix.clone().unwrap_or_default();
        names.extend(secret.data.iter().flatten().map(|(k, _)| format!("{prefix}{k}")));
    }
    names
}

pub fn build(cluster: &Cluster, uid: &str) -> Option<PodDetail> {
    // Found through views: only the Pod shown is expanded from its compact form.
    let store = cluster.store();
    let view = store.pods(None).find(|p| p.uid() == Some(uid))?;
    let object = store.get(&ObjectKey::new("Pod", view.namespace().unwrap_or_default(), view.name()?))?;
    let pod = object.as_pod()?;
    let mut containers = Vec::new();
    for k in 0..slots::len(pod) {
        let Some(spec) = slots::spec(pod, k) else { continue };
        let status = slots::status(pod, k);
        let role = if slots::is_sidecar(pod, k) {
            "sidecar"
        } else if slots::is_init(pod, k) {
            "init"
        } else {
            "app"
        };
        let running = cluster.api().running_container(uid, &spec.name);
        let secrets = secret_names(cluster, object.namespace(), spec);
        // The variables the spec declares (env, then envFrom's keys), as the container sees them.
        let mut declared: Vec<String> = spec.env.iter().flatten().map(|e| e.name.clone()).collect();
        declared.extend(secrets.iter().filter(|n| !declared.contains(n)).cloned().collect::<Vec<_>>());
        for from in spec.env_from.iter().flatten() {
            if let Some(cm) = &from.config_map_ref {
                let key = ObjectKey::new("ConfigMap", object.namespace(), &cm.name);
                if let Some(map) = cluster.get(&key).and_then(Object::as_config_map) {
                    let prefix = from.prefix.clone().unwrap_or_default();
                    declared.extend(map.data.iter().flatten().map(|(k, _)| format!("{prefix}{k}")));
                }
            }
        }
        let env = declared
            .into_iter()
            .map(|name| EnvVar {
                value: running.and_then(|r| r.env.get(&name).cloned()).unwrap_or_default(),
                secret: secrets.contains(&name),
                name,
            })
            .collect();
        let logs = cluster.api().logs(uid, &spec.name, false).unwrap_or_default();
        containers.push(ContainerDetail {
            name: spec.name.clone(),
            role,
            state: describe_state(status.and_then(|s| s.state.as_ref())),
            last_state: status.and_then(|s| s.last_state.as_ref()).filter(|l| l.terminated.is_some()).map(|l| describe_state(Some(l))),
            ready: status.is_some_and(|s| s.ready),
            restarts: status.map_or(0, |s| s.restart_count),
            timeline: timeline(cluster, uid, &spec.name),
            logs: logs[logs.len().saturating_sub(LOG_LINES)..].iter().map(|(_, l)| l.clone()).collect(),
            env,
        });
    }
    let unscheduled = pod.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none();
    let fixes = if unscheduled { fixes(cluster, uid, &ObjectKey::new("Pod", object.namespace(), object.name())) } else { Vec::new() };
    Some(PodDetail {
        uid: uid.to_string(),
        fixes,
        name: object.name().to_string(),
        namespace: object.namespace().to_string(),
        status: kubeplay_core::kubectl::columns::pod_status(pod),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default(),
        ip: pod.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        containers,
    })
}
