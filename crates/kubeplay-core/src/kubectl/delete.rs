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
    // kubectl's grace period rules: --now is 1; 0 without --force is 1; --force alone is 0.
    let mut grace: i64 = match flags.grace_period.as_deref().map(str::parse::<i64>) {
        None => -1,
        Some(Ok(g)) => g,
        Some(Err(_)) => {
            let g = flags.grace_period.clone().unwrap_or_default();
            return Output::err(format!("error: invalid argument {g:?} for \"--grace-period\" flag: strconv.ParseInt: parsing {g:?}: invalid syntax\nSee 'kubectl delete --help' for usage.\n"));
        }
    };
    if flags.now {
        if grace != -1 {
            return Output::err("error: --now and --grace-period cannot be specified together\n");
        }
        grace = 1;
    }
    if grace == 0 && !flags.force {
        grace = 1;
    }
    if flags.force && grace < 0 {
        grace = 0;
    }
    if flags.force && grace > 0 {
        return Output::err("error: --force and --grace-period greater than 0 cannot be specified together\n");
    }
    let mut warning = String::new();
    if flags.force && grace == 0 {
        warning.push_str("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n");
    }
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
    let mut out = warning;
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
        if let Err(e) = cluster.api().admit_delete(key) {
            errors.push_str(&format!("Error from server (Forbidden): {e}\n"));
            continue;
        }
        if cluster.delete_with_options(key, policy, (grace >= 0).then_some(grace)) {
            // kubectl 1.32+ names the namespace of namespaced objects (`delete.go` PrintObj).
            let from = if info.namespaced { format!(" from {} namespace", key.namespace) } else { String::new() };
            let verb = if grace == 0 { "force deleted" } else { "deleted" };
            out.push_str(&format!("{} \"{}\" {verb}{from}\n", info.qualified_singular(), key.name));
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
