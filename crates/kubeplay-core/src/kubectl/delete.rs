//! `kubectl delete`: by name, file or selector; waits for the objects to be gone unless
//! `--wait=false`, as kubectl does.

use super::args::{namespace, requests, Flags};
use super::{Files, Output};
use crate::api::kinds::KindInfo;
use crate::api::labels::Selector;
use crate::api::{Object, ObjectKey};
use crate::manifest;
use crate::sim::Cluster;
use crate::time::SimDuration;

pub(super) fn delete(cluster: &mut Cluster, files: &dyn Files, flags: &Flags) -> Output {
    let ns = namespace(flags);
    let mut targets: Vec<(&'static KindInfo, ObjectKey)> = Vec::new();
    let mut errors = String::new();
    if !flags.files.is_empty() {
        for name in &flags.files {
            let Some(text) = files.read(name) else {
                errors.push_str(&format!("error: the path \"{name}\" does not exist\n"));
                continue;
            };
            for po in manifest::parse(name, &text).objects {
                let info = po.object.info();
                let obj_ns = if info.namespaced { po.object.meta().namespace.clone().unwrap_or_else(|| ns.clone()) } else { String::new() };
                targets.push((info, ObjectKey::new(info.kind, &obj_ns, po.object.name())));
            }
        }
    } else {
        let reqs = match requests(&flags.positional) {
            Ok(r) => r,
            Err(e) => return e,
        };
        let selector = match flags.selector.as_deref().map(Selector::parse).transpose() {
            Ok(s) => s,
            Err(e) => return Output::err(format!("error: {e}\n")),
        };
        for (info, names) in reqs {
            let scope = if info.namespaced { ns.as_str() } else { "" };
            if names.is_empty() {
                let Some(sel) = selector.clone().or_else(|| flags.all.then(Selector::default)) else {
                    return Output::err("error: resource(s) were provided, but no name was specified\n");
                };
                let keys: Vec<ObjectKey> = cluster
                    .store()
                    .list(info.kind, Some(scope))
                    .filter(|o| sel.matches(o.meta().labels.as_ref()))
                    .map(Object::key)
                    .collect();
                targets.extend(keys.into_iter().map(|k| (info, k)));
            } else {
                targets.extend(names.iter().map(|n| (info, ObjectKey::new(info.kind, scope, n))));
            }
        }
    }
    let mut out = String::new();
    if targets.iter().any(|(info, _)| info.kind == "Endpoints") {
        out.push_str(super::apply::ENDPOINTS_DEPRECATED);
    }
    let mut deleted = Vec::new();
    for (info, key) in &targets {
        let policy = match flags.cascade.as_deref() {
            Some("foreground") => crate::apiserver::Propagation::Foreground,
            Some("orphan") => crate::apiserver::Propagation::Orphan,
            _ => crate::apiserver::Propagation::Background,
        };
        if cluster.delete_with_propagation(key, policy) {
            // kubectl 1.32+ names the namespace of namespaced objects (`delete.go` PrintObj).
            let from = if info.namespaced { format!(" from {} namespace", key.namespace) } else { String::new() };
            out.push_str(&format!("{} \"{}\" deleted{from}\n", info.qualified_singular(), key.name));
            deleted.push(key.clone());
        } else {
            errors.push_str(&format!("Error from server (NotFound): {} \"{}\" not found\n", info.qualified_plural(), key.name));
        }
    }
    if targets.is_empty() && errors.is_empty() {
        out.push_str(&format!("No resources found in {ns} namespace.\n"));
    }
    cluster.settle();
    if flags.wait {
        // kubectl waits for the objects to be gone (graceful termination takes time).
        cluster.run_while(SimDuration::from_secs(60), |c| deleted.iter().all(|k| c.get(k).is_none()));
    }
    let ok = errors.is_empty();
    out.push_str(&errors);
    Output { text: out, ok }
}
