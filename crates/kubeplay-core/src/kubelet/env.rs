//! A container's environment, as the kubelet builds it before creating the container:
//! `envFrom` (ConfigMaps and Secrets, with their prefix) first, then `env` (values with
//! `$(VAR)` references to earlier variables, `fieldRef`, `resourceFieldRef`,
//! `configMapKeyRef`, `secretKeyRef`). A reference to something missing that is not
//! `optional` is the kubelet's `CreateContainerConfigError`, with its message.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};

use crate::api::{quantity, Object, ObjectKey};
use crate::apiserver::ApiServer;

pub type Env = BTreeMap<String, String>;

fn config_map<'a>(api: &'a ApiServer, ns: &str, name: &str) -> Option<&'a k8s_openapi::api::core::v1::ConfigMap> {
    api.get(&ObjectKey::new("ConfigMap", ns, name)).and_then(Object::as_config_map)
}

fn secret<'a>(api: &'a ApiServer, ns: &str, name: &str) -> Option<&'a k8s_openapi::api::core::v1::Secret> {
    api.get(&ObjectKey::new("Secret", ns, name)).and_then(Object::as_secret)
}

/// Builds the environment of `c` in `pod`, or the error the kubelet reports.
pub fn resolve(api: &ApiServer, pod: &Pod, c: &Container, node_allocatable: (i64, i64)) -> Result<Env, String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    // What every container gets: the image's PATH and HOME and the variables of the Services it
    // may reach (declared variables take precedence over all of these). HOSTNAME is the
    // runtime's (see `with_hostname`), so Pods of one template share one environment.
    let mut env: Env = [("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), ("HOME", "/root")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.extend(service_env(api, pod));
    for from in c.env_from.iter().flatten() {
        let prefix = from.prefix.as_deref().unwrap_or("");
        if let Some(r) = &from.config_map_ref {
            match config_map(api, ns, &r.name) {
                Some(cm) => env.extend(cm.data.iter().flatten().map(|(k, v)| (format!("{prefix}{k}"), v.clone()))),
                None if r.optional == Some(true) => {}
                None => return Err(format!("configmap {:?} not found", r.name)),
            }
        }
        if let Some(r) = &from.secret_ref {
            match secret(api, ns, &r.name) {
                Some(s) => {
                    env.extend(s.data.iter().flatten().map(|(k, v)| (format!("{prefix}{k}"), String::from_utf8_lossy(&v.0).into_owned())))
                }
                None if r.optional == Some(true) => {}
                None => return Err(format!("secret {:?} not found", r.name)),
            }
        }
    }
    for e in c.env.iter().flatten() {
        let value = match &e.value_from {
            None => Some(expand(e.value.as_deref().unwrap_or(""), &env)),
            Some(from) => {
                if let Some(f) = &from.field_ref {
                    Some(field(pod, &f.field_path))
                } else if let Some(r) = &from.resource_field_ref {
                    Some(resource(c, &r.resource, r.divisor.as_ref().map(|d| d.0.as_str()), node_allocatable))
                } else if let Some(r) = &from.config_map_key_ref {
                    let optional = r.optional == Some(true);
                    match config_map(api, ns, &r.name) {
                        Some(cm) => match cm.data.as_ref().and_then(|d| d.get(&r.key)) {
                            Some(v) => Some(v.clone()),
                            None if optional => None,
                            None => return Err(format!("couldn't find key {} in ConfigMap {ns}/{}", r.key, r.name)),
                        },
                        None if optional => None,
                        None => return Err(format!("configmap {:?} not found", r.name)),
                    }
                } else if let Some(r) = &from.secret_key_ref {
                    let optional = r.optional == Some(true);
                    match secret(api, ns, &r.name) {
                        Some(s) => match s.data.as_ref().and_then(|d| d.get(&r.key)) {
                            Some(v) => Some(String::from_utf8_lossy(&v.0).into_owned()),
                            None if optional => None,
                            None => return Err(format!("couldn't find key {} in Secret {ns}/{}", r.key, r.name)),
                        },
                        None if optional => None,
                        None => return Err(format!("secret {:?} not found", r.name)),
                    }
                } else {
                    None
                }
            }
        };
        if let Some(v) = value {
            env.insert(e.name.clone(), v);
        }
    }
    Ok(env)
}

/// The environment a process in the container starts with: `env` and the HOSTNAME the runtime
/// sets to the Pod's name, unless the container declares one.
pub fn with_hostname(env: &Env, pod_name: &str) -> Env {
    let mut env = env.clone();
    env.entry("HOSTNAME".into()).or_insert_with(|| pod_name.to_string());
    env
}

/// `envvars.FromServices`: for each Service with a ClusterIP in the Pod's namespace that existed
/// when the Pod was created (all but `kubernetes` only with `enableServiceLinks`), and always for
/// the `kubernetes` Service of `default`: `NAME_SERVICE_HOST`, `NAME_SERVICE_PORT`,
/// `NAME_SERVICE_PORT_<PORTNAME>` and the Docker-link style `NAME_PORT…` variables.
fn service_env(api: &ApiServer, pod: &Pod) -> Env {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let created = pod.metadata.creation_timestamp.as_ref().map(crate::time::from_time);
    let links = pod.spec.as_ref().and_then(|s| s.enable_service_links) != Some(false);
    let mut services: Vec<&k8s_openapi::api::core::v1::Service> = Vec::new();
    if links {
        let before = |svc: &&k8s_openapi::api::core::v1::Service| {
            let at = svc.metadata.creation_timestamp.as_ref().map(crate::time::from_time);
            matches!((at, created), (Some(a), Some(c)) if a <= c)
        };
        services.extend(api.store().list("Service", Some(ns)).filter_map(Object::as_service).filter(before));
    }
    if let Some(master) = api.get(&ObjectKey::new("Service", "default", "kubernetes")).and_then(Object::as_service) {
        if !services.iter().any(|s| s.metadata.uid == master.metadata.uid) {
            services.push(master);
        }
    }
    let mut env = Env::new();
    for svc in services {
        let Some(spec) = svc.spec.as_ref() else { continue };
        let ip = spec.cluster_ip.as_deref().unwrap_or("");
        if ip.is_empty() || ip == "None" {
            continue;
        }
        let name = svc.metadata.name.as_deref().unwrap_or("").to_ascii_uppercase().replace('-', "_");
        let host = if ip.contains(':') { format!("[{ip}]") } else { ip.to_string() };
        let ports = spec.ports.as_deref().unwrap_or_default();
        let Some(first) = ports.first() else { continue };
        env.insert(format!("{name}_SERVICE_HOST"), ip.to_string());
        env.insert(format!("{name}_SERVICE_PORT"), first.port.to_string());
        for p in ports {
            if let Some(port_name) = p.name.as_deref().filter(|n| !n.is_empty()) {
                env.insert(format!("{name}_SERVICE_PORT_{}", port_name.to_ascii_uppercase().replace('-', "_")), p.port.to_string());
            }
        }
        let proto = |p: &k8s_openapi::api::core::v1::ServicePort| p.protocol.clone().unwrap_or_else(|| "TCP".into());
        env.insert(format!("{name}_PORT"), format!("{}://{host}:{}", proto(first).to_ascii_lowercase(), first.port));
        for p in ports {
            let (lower, upper) = (proto(p).to_ascii_lowercase(), proto(p).to_ascii_uppercase());
            let prefix = format!("{name}_PORT_{}_{upper}", p.port);
            env.insert(prefix.clone(), format!("{lower}://{host}:{}", p.port));
            env.insert(format!("{prefix}_PROTO"), lower);
            env.insert(format!("{prefix}_PORT"), p.port.to_string());
            env.insert(format!("{prefix}_ADDR"), ip.to_string());
        }
    }
    env
}

/// The Downward API's fields.
fn field(pod: &Pod, path: &str) -> String {
    let meta = &pod.metadata;
    let status = pod.status.as_ref();
    let map_value = |map: Option<&BTreeMap<String, String>>, inner: &str| {
        let key = inner.trim_start_matches("['").trim_end_matches("']");
        map.and_then(|m| m.get(key)).cloned().unwrap_or_default()
    };
    match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "spec.nodeName" => pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => pod.spec.as_ref().and_then(|s| s.service_account_name.clone()).unwrap_or_default(),
        "status.hostIP" => status.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
        "status.podIP" => status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        "status.podIPs" => status
            .and_then(|s| s.pod_ips.as_ref())
            .map(|ips| ips.iter().map(|i| i.ip.clone()).collect::<Vec<_>>().join(","))
            .unwrap_or_default(),
        "status.hostIPs" => status
            .and_then(|s| s.host_ips.as_ref())
            .map(|ips| ips.iter().map(|i| i.ip.clone()).collect::<Vec<_>>().join(","))
            .unwrap_or_default(),
        p if p.starts_with("metadata.labels[") => map_value(meta.labels.as_ref(), &p["metadata.labels".len()..]),
        p if p.starts_with("metadata.annotations[") => map_value(meta.annotations.as_ref(), &p["metadata.annotations".len()..]),
        _ => String::new(),
    }
}

/// `resourceFieldRef`: a request or limit in units of the divisor, rounded up; a limit not set
/// is the node's allocatable (`ExtractContainerResourceValue`).
fn resource(c: &Container, name: &str, divisor: Option<&str>, (node_cpu_milli, node_memory): (i64, i64)) -> String {
    let res = c.resources.as_ref();
    let (group, kind) = name.split_once('.').unwrap_or(("", name));
    let list = if group == "limits" { res.and_then(|r| r.limits.as_ref()) } else { res.and_then(|r| r.requests.as_ref()) };
    let q = list.and_then(|l| l.get(kind)).map(|q| q.0.as_str());
    let ceil_div = |a: i64, b: i64| if b <= 0 { a } else { (a + b - 1) / b };
    match kind {
        "cpu" => {
            let milli = q.and_then(quantity::cpu_millis).unwrap_or(if group == "limits" { node_cpu_milli } else { 0 });
            let divisor = divisor.and_then(quantity::cpu_millis).unwrap_or(1000);
            ceil_div(milli, divisor).to_string()
        }
        _ => {
            let bytes = q.and_then(quantity::bytes).unwrap_or(if group == "limits" { node_memory } else { 0 });
            let divisor = divisor.and_then(quantity::bytes).unwrap_or(1);
            ceil_div(bytes, divisor).to_string()
        }
    }
}

/// The kubelet's `$(VAR)` expansion (command, args and env values): a reference to a defined
/// variable is replaced, `$$` is a literal `$`, anything else stays as written.
pub fn expand(text: &str, env: &Env) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|a| a.split_once(')')) {
            match env.get(name) {
                Some(v) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The shell's `$VAR` and `${VAR}` (unset variables are empty).
pub fn shell_expand(text: &str, env: &Env) -> String {
    let mut out = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        if ch != '$' {
            out.push(ch);
            continue;
        }
        let rest = &text[i + 1..];
        let (name, skip) = if let Some(inner) = rest.strip_prefix('{').and_then(|r| r.split_once('}')).map(|(n, _)| n) {
            (inner, inner.len() + 2)
        } else {
            let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            (&rest[..len], len)
        };
        if name.is_empty() {
            out.push('$');
            continue;
        }
        match name.strip_prefix('#') {
            // `${#VAR}`: its length.
            Some(var) => out.push_str(&env.get(var).map_or(0, |v| v.chars().count()).to_string()),
            None => out.push_str(env.get(name).map(String::as_str).unwrap_or("")),
        }
        for _ in 0..skip {
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_and_shell_expansion() {
        let env: Env = [("NAME".to_string(), "world".to_string())].into();
        assert_eq!(expand("hello $(NAME), $(MISSING), $$(NAME)", &env), "hello world, $(MISSING), $(NAME)");
        assert_eq!(shell_expand("hello $NAME and ${NAME}! $UNSET$", &env), "hello world and world! $");
        assert_eq!(shell_expand("${#NAME} letters", &env), "5 letters");
    }

    #[test]
    fn service_variables_follow_envvars_from_services() {
        let mut api = ApiServer::new(1);
        let create = |api: &mut ApiServer, yaml: &str| {
            api.create(crate::manifest::parse("t.yaml", yaml).objects[0].object.clone()).expect("created")
        };
        create(&mut api, "apiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}\nspec: {clusterIP: 10.96.0.1, ports: [{name: https, port: 443}]}\n");
        create(&mut api, "apiVersion: v1\nkind: Service\nmetadata: {name: redis-leader, namespace: default}\nspec: {ports: [{name: tcp-redis, port: 6379}, {name: dns, port: 6380, protocol: UDP}]}\n");
        create(
            &mut api,
            "apiVersion: v1\nkind: Service\nmetadata: {name: headless, namespace: default}\nspec: {clusterIP: None, ports: [{port: 80}]}\n",
        );
        api.set_now(crate::time::SimTime(5000));
        let pod = create(
            &mut api,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec: {containers: [{name: c, image: busybox}]}\n",
        );
        api.set_now(crate::time::SimTime(10_000));
        create(&mut api, "apiVersion: v1\nkind: Service\nmetadata: {name: later, namespace: default}\nspec: {ports: [{port: 80}]}\n");
        let pod = pod.as_pod().expect("pod").clone();
        let env = service_env(&api, &pod);
        let ip = env.get("REDIS_LEADER_SERVICE_HOST").cloned().expect("redis-leader");
        assert_eq!(env.get("REDIS_LEADER_SERVICE_PORT").map(String::as_str), Some("6379"), "the first port");
        assert_eq!(env.get("REDIS_LEADER_SERVICE_PORT_TCP_REDIS").map(String::as_str), Some("6379"));
        assert_eq!(env.get("REDIS_LEADER_PORT_6380_UDP"), Some(&format!("udp://{ip}:6380")));
        assert_eq!(env.get("REDIS_LEADER_PORT_6380_UDP_PROTO").map(String::as_str), Some("udp"));
        assert_eq!(env.get("KUBERNETES_SERVICE_PORT_HTTPS").map(String::as_str), Some("443"));
        assert!(!env.keys().any(|k| k.starts_with("HEADLESS_")), "no ClusterIP, no variables");
        assert!(!env.keys().any(|k| k.starts_with("LATER_")), "created after the Pod");
        let mut unlinked = pod.clone();
        unlinked.spec.as_mut().expect("spec").enable_service_links = Some(false);
        let env = service_env(&api, &unlinked);
        assert!(env.keys().all(|k| k.starts_with("KUBERNETES_")), "{env:?}");
    }

    #[test]
    fn resource_fields_round_up_in_divisor_units() {
        let c: Container =
            serde_json::from_str(r#"{"name":"c","resources":{"requests":{"cpu":"250m","memory":"64Mi"},"limits":{"cpu":"1500m"}}}"#)
                .expect("container");
        let node = (4000, 8 << 30);
        assert_eq!(resource(&c, "requests.cpu", None, node), "1");
        assert_eq!(resource(&c, "requests.cpu", Some("1m"), node), "250");
        assert_eq!(resource(&c, "limits.cpu", None, node), "2");
        assert_eq!(resource(&c, "requests.memory", Some("1Mi"), node), "64");
        assert_eq!(resource(&c, "limits.memory", None, node), (8u64 << 30).to_string(), "no limit: the node's allocatable");
    }
}
