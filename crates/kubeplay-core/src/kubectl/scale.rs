//! `kubectl scale`: set `spec.replicas` on Deployments, ReplicaSets and StatefulSets (their
//! scale subresource).

use super::args::{namespace, requests, Flags};
use super::Output;
use crate::api::labels::Selector;
use crate::api::ObjectKey;
use crate::sim::Cluster;

pub(super) fn scale(cluster: &mut Cluster, flags: &Flags) -> Output {
    let Some(replicas) = flags.replicas.as_deref() else {
        return Output::err("error: required flag(s) \"replicas\" not set\n");
    };
    let Ok(replicas) = replicas.parse::<i32>() else {
        return Output::err(format!(
            "error: invalid argument \"{replicas}\" for \"--replicas\" flag: strconv.ParseInt: parsing \"{replicas}\": invalid syntax\n"
        ));
    };
    if replicas < 0 {
        return Output::err("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n");
    }
    let current = match flags.current_replicas.as_deref().map(str::parse::<i32>) {
        None => None,
        Some(Ok(c)) if c >= -1 => Some(c).filter(|c| *c >= 0),
        Some(_) => return Output::err("error: The --current-replicas must specify an integer of -1 or greater\n"),
    };
    let reqs = match requests(&flags.positional) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let ns = namespace(flags);
    let selector = match flags.selector.as_deref().map(Selector::parse).transpose() {
        Ok(s) => s,
        Err(e) => return Output::err(format!("error: {e}\n")),
    };
    let mut out = String::new();
    let mut targets = Vec::new();
    for (info, names) in reqs {
        if names.is_empty() && selector.is_none() && !flags.all {
            return Output::err("error: resource(s) were provided, but no name was specified\n");
        }
        let scope = if info.namespaced { ns.as_str() } else { "" };
        if names.is_empty() {
            let filter = selector.clone().unwrap_or_default();
            targets.extend(
                cluster.store().list(info.kind, Some(scope)).filter(|o| filter.matches(o.meta().labels.as_ref())).map(|o| (info, o.key())),
            );
        } else {
            targets.extend(names.iter().map(|n| (info, ObjectKey::new(info.kind, scope, n))));
        }
    }
    if targets.is_empty() {
        return Output::err("error: no objects passed to scale\n");
    }
    // kubectl stops at the first failure.
    for (info, key) in targets {
        let name = key.name.clone();
        let Some(live) = cluster.get(&key).cloned() else {
            out.push_str(&format!("Error from server (NotFound): {} \"{name}\" not found\n", info.qualified_plural()));
            return Output { text: out, ok: false };
        };
        let mut value = live.to_json();
        // The kinds with a scale subresource.
        if !matches!(info.kind, "Deployment" | "ReplicaSet" | "StatefulSet" | "ReplicationController") {
            out.push_str("Error from server (NotFound): the server could not find the requested resource\n");
            return Output { text: out, ok: false };
        }
        let now = value.pointer("/spec/replicas").and_then(serde_json::Value::as_i64).unwrap_or(1);
        if let Some(expected) = current {
            if i64::from(expected) != now {
                out.push_str(&format!("error: Expected replicas to be {expected}, was {now}\n"));
                return Output { text: out, ok: false };
            }
        }
        value["spec"]["replicas"] = serde_json::json!(replicas);
        if let Err(e) = super::patch::store(cluster, value) {
            out.push_str(&e);
            return Output { text: out, ok: false };
        }
        out.push_str(&format!("{}/{name} scaled\n", info.qualified_singular()));
    }
    cluster.settle();
    Output::ok(out)
}
