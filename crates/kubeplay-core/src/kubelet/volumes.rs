//! The files a container sees through its volume mounts: a ConfigMap or Secret volume is one
//! file per key (or per `items` entry), a downwardAPI volume one per field, the projected
//! service-account volume its `token`, `ca.crt` and `namespace`. A ConfigMap or Secret that
//! does not exist (and is not `optional`) fails the mount, as the kubelet reports it. An
//! emptyDir holds what the Pod's containers wrote there (the kubelet keeps it per Pod).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, KeyToPath, Pod, Volume};

use super::process::Files;
use crate::api::{Object, ObjectKey};
use crate::apiserver::ApiServer;

/// What `data` holds for each key of a ConfigMap or Secret, in bytes as text.
fn source(api: &ApiServer, kind: &'static str, ns: &str, name: &str) -> Option<Vec<(String, String)>> {
    let object = api.get(&ObjectKey::new(kind, ns, name))?;
    match object {
        Object::ConfigMap(cm) => Some(cm.data.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Object::Secret(s) => Some(s.data.iter().flatten().map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned())).collect()),
        _ => None,
    }
}

/// The keys to project: all of them, or the `items` (key → path) asked for.
fn project(entries: Vec<(String, String)>, items: Option<&Vec<KeyToPath>>) -> Vec<(String, String)> {
    match items {
        None => entries,
        Some(items) => {
            items.iter().filter_map(|i| entries.iter().find(|(k, _)| *k == i.key).map(|(_, v)| (i.path.clone(), v.clone()))).collect()
        }
    }
}

fn field(pod: &Pod, path: &str) -> String {
    match path {
        "metadata.name" => pod.metadata.name.clone().unwrap_or_default(),
        "metadata.namespace" => pod.metadata.namespace.clone().unwrap_or_default(),
        "metadata.uid" => pod.metadata.uid.clone().unwrap_or_default(),
        "metadata.labels" | "metadata.annotations" => {
            let map = if path == "metadata.labels" { &pod.metadata.labels } else { &pod.metadata.annotations };
            map.iter().flatten().map(|(k, v)| format!("{k}=\"{v}\"\n")).collect::<String>().trim_end().to_string()
        }
        _ => String::new(),
    }
}

/// A token of the right shape (a JWT naming the ServiceAccount); nothing in the simulation
/// verifies it. A real bound token also names the Pod and its node and expires; this one is
/// the same for every Pod of the ServiceAccount, so their files are shared (see `dedup.rs`).
fn service_account_token(pod: &Pod) -> String {
    use base64::Engine;
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let sa = pod.spec.as_ref().and_then(|s| s.service_account_name.as_deref()).unwrap_or("default");
    let issuer = format!("https://kubernetes.default.svc.{}", crate::network::CLUSTER_DOMAIN);
    let claims = format!(
        r#"{{"aud":["{issuer}"],"iss":"{issuer}","kubernetes.io":{{"namespace":"{ns}","serviceaccount":{{"name":"{sa}"}}}},"sub":"system:serviceaccount:{ns}:{sa}"}}"#
    );
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}.{}", b64.encode(r#"{"alg":"RS256","kid":"kubeplay"}"#), b64.encode(claims), b64.encode("kubeplay-signature"))
}

/// The files of one volume, relative to its mount point.
fn volume_files(api: &ApiServer, pod: &Pod, v: &Volume) -> Result<Vec<(String, String)>, String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let fails = |what: &str| format!("MountVolume.SetUp failed for volume {:?} : {what}", v.name);
    if let Some(cm) = &v.config_map {
        return match source(api, "ConfigMap", ns, &cm.name) {
            Some(entries) => Ok(project(entries, cm.items.as_ref())),
            None if cm.optional == Some(true) => Ok(Vec::new()),
            None => Err(fails(&format!("configmap {:?} not found", cm.name))),
        };
    }
    if let Some(secret) = &v.secret {
        let name = secret.secret_name.clone().unwrap_or_default();
        return match source(api, "Secret", ns, &name) {
            Some(entries) => Ok(project(entries, secret.items.as_ref())),
            None if secret.optional == Some(true) => Ok(Vec::new()),
            None => Err(fails(&format!("secret {name:?} not found"))),
        };
    }
    if let Some(d) = &v.downward_api {
        return Ok(d
            .items
            .iter()
            .flatten()
            .filter_map(|i| Some((i.path.clone(), field(pod, &i.field_ref.as_ref()?.field_path))))
            .collect());
    }
    if let Some(p) = &v.projected {
        let mut out = Vec::new();
        for s in p.sources.iter().flatten() {
            if let Some(token) = &s.service_account_token {
                out.push((token.path.clone(), service_account_token(pod)));
            }
            if let Some(cm) = &s.config_map {
                // kube-root-ca.crt is published into every namespace by the control plane.
                let entries = source(api, "ConfigMap", ns, &cm.name).unwrap_or_else(|| {
                    vec![(
                        "ca.crt".to_string(),
                        "-----BEGIN CERTIFICATE-----\n(kubeplay cluster CA)\n-----END CERTIFICATE-----\n".to_string(),
                    )]
                });
                out.extend(project(entries, cm.items.as_ref()));
            }
            if let Some(secret) = &s.secret {
                if let Some(entries) = source(api, "Secret", ns, &secret.name) {
                    out.extend(project(entries, secret.items.as_ref()));
                }
            }
            if let Some(d) = &s.downward_api {
                out.extend(d.items.iter().flatten().filter_map(|i| Some((i.path.clone(), field(pod, &i.field_ref.as_ref()?.field_path)))));
            }
        }
        return Ok(out);
    }
    Ok(Vec::new()) // emptyDir, hostPath, claims: empty as far as the simulation knows.
}

/// Every file `c` sees through its mounts, or the first mount that fails.
/// The contents of each emptyDir volume `c` mounts, read back from its files (paths relative to
/// the volume).
pub fn empty_dir_contents(pod: &Pod, c: &Container, files: &Files) -> Vec<(String, Files)> {
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
    let mut out = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        let Some(v) = volumes.and_then(|vs| vs.iter().find(|v| v.name == m.name)).filter(|v| v.empty_dir.is_some()) else { continue };
        let prefix = format!("{}/", m.mount_path.trim_end_matches('/'));
        let inside: Files = files
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| k.len() > prefix.len())
            .map(|(k, content)| (k[prefix.len()..].to_string(), content.clone()))
            .collect();
        out.push((v.name.clone(), inside));
    }
    out
}

pub fn files(api: &ApiServer, pod: &Pod, c: &Container, empty_dirs: &BTreeMap<String, std::rc::Rc<Files>>) -> Result<Files, String> {
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
    let mut files = Files::new();
    // The kubelet writes every container's resolver configuration (dnsPolicy ClusterFirst).
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let domain = crate::network::CLUSTER_DOMAIN;
    files.insert(
        "/etc/resolv.conf".into(),
        format!("search {ns}.svc.{domain} svc.{domain} {domain}\nnameserver {}\noptions ndots:5\n", crate::network::DNS_SERVICE_IP),
    );
    for m in c.volume_mounts.iter().flatten() {
        let Some(v) = volumes.and_then(|vs| vs.iter().find(|v| v.name == m.name)) else { continue };
        let base = m.mount_path.trim_end_matches('/');
        if v.empty_dir.is_some() {
            // What the Pod's containers have written there so far; the directory itself exists.
            files.insert(format!("{base}/"), String::new());
            for (path, content) in empty_dirs.get(&v.name).into_iter().flat_map(|f| f.iter()) {
                files.insert(format!("{base}/{path}"), content.clone());
            }
            continue;
        }
        for (path, content) in volume_files(api, pod, v)? {
            match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                Some(sub) if sub == path => _ = files.insert(base.to_string(), content),
                Some(_) => {}
                None => _ = files.insert(format!("{base}/{path}"), content),
            }
        }
    }
    Ok(files)
}
