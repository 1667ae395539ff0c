//! The node commands: `kubectl cordon|uncordon NODE…`, `kubectl taint nodes NODE…|--all|-l
//! KEY[=VALUE]:EFFECT… KEY[:EFFECT]-… [--overwrite]` and `kubectl drain NODE
//! [--ignore-daemonsets] [--delete-emptydir-data] [--force]`, with kubectl 1.37's messages
//! (`pkg/cmd/drain`, `pkg/drain/filters.go`, `pkg/cmd/taint`). Drain evicts Pods through the
//! eviction subresource (PodDisruptionBudgets may refuse; it retries every 5 s) and waits for
//! them to go in virtual time.

use k8s_openapi::api::core::v1::{Node, Pod, Taint};

use super::args::ArgWalker;
use super::Output;
use crate::api::labels::Selector;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;
use crate::time::SimDuration;

fn node(cluster: &Cluster, name: &str) -> Option<Node> {
    cluster.get(&ObjectKey::new("Node", "", name)).and_then(Object::as_node).cloned()
}

/// Node names from `NODE…`, `node/NODE`, `--all` or `-l`.
fn node_names(cluster: &Cluster, words: &[String], all: bool, selector: Option<&str>) -> Result<Vec<String>, Output> {
    if let Some(s) = selector {
        let sel = Selector::parse(s).map_err(|e| Output::err(format!("error: {e}\n")))?;
        return Ok(cluster
            .store()
            .list("Node", None)
            .filter(|o| sel.matches(o.meta().labels.as_ref()))
            .map(|o| o.name().to_string())
            .collect());
    }
    if all {
        return Ok(cluster.store().list("Node", None).map(|o| o.name().to_string()).collect());
    }
    Ok(words.iter().map(|w| w.strip_prefix("node/").or_else(|| w.strip_prefix("nodes/")).unwrap_or(w).to_string()).collect())
}

/// `kubectl cordon` (`unschedulable = true`) and `kubectl uncordon`.
pub(super) fn cordon(cluster: &mut Cluster, args: &[String], desired: bool) -> Output {
    let verb = if desired { "cordon" } else { "uncordon" };
    let (mut words, mut selector) = (Vec::new(), None);
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        match arg.name {
            "-l" | "--selector" => selector = walker.value(&arg).ok(),
            name if name.starts_with('-') => {
                return Output::err(format!("error: unknown flag: {name}\nSee 'kubectl {verb} --help' for usage.\n"))
            }
            name => words.push(name.to_string()),
        }
    }
    if words.is_empty() && selector.is_none() {
        return Output::err(format!("error: USAGE: {verb} NODE [flags]\nSee 'kubectl {verb} -h' for help and examples\n"));
    }
    let names = match node_names(cluster, &words, false, selector.as_deref()) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let mut out = Output::ok("");
    for name in names {
        out.text.push_str(&set_unschedulable(cluster, &name, desired).unwrap_or_else(|e| {
            out.ok = false;
            e
        }));
    }
    cluster.settle();
    out
}

fn set_unschedulable(cluster: &mut Cluster, name: &str, desired: bool) -> Result<String, String> {
    let Some(mut n) = node(cluster, name) else {
        return Err(format!("Error from server (NotFound): nodes {name:?} not found\n"));
    };
    let now = n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
    if now == desired {
        return Ok(format!("node/{name} {}\n", if desired { "already cordoned" } else { "already uncordoned" }));
    }
    n.spec.get_or_insert_with(Default::default).unschedulable = desired.then_some(true);
    cluster.update(Object::from(n));
    Ok(format!("node/{name} {}\n", if desired { "cordoned" } else { "uncordoned" }))
}

/// `kubectl taint nodes …`.
pub(super) fn taint(cluster: &mut Cluster, args: &[String]) -> Output {
    let (mut words, mut selector, mut all, mut overwrite) = (Vec::new(), None, false, false);
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        match arg.name {
            "-l" | "--selector" => selector = walker.value(&arg).ok(),
            "--all" => all = arg.inline != Some("false"),
            "--overwrite" => overwrite = arg.inline != Some("false"),
            name if name.starts_with('-') && name.len() > 1 => {
                return Output::err(format!("error: unknown flag: {name}\nSee 'kubectl taint --help' for usage.\n"));
            }
            name => words.push(name.to_string()),
        }
    }
    let Some(resource) = words.first().cloned() else {
        return Output::err("error: one or more resources must be specified as <resource> <name>\n");
    };
    let (resource, first_name) = match resource.split_once('/') {
        Some((r, n)) => (r.to_string(), Some(n.to_string())),
        None => (resource, None),
    };
    if !matches!(resource.as_str(), "node" | "nodes" | "no") {
        return Output::err(format!("error: invalid resource type {resource}, only node types are supported\n"));
    }
    let mut names: Vec<String> = first_name.into_iter().collect();
    let mut specs = Vec::new();
    for w in &words[1..] {
        if w.contains(':') || w.contains('=') || w.ends_with('-') {
            specs.push(w.clone());
        } else if specs.is_empty() {
            names.push(w.clone());
        } else {
            return Output::err(format!("error: all resources must be specified before taint changes: {w}\n"));
        }
    }
    if specs.is_empty() {
        return Output::err("error: at least one taint update is required\n");
    }
    if all && selector.is_some() {
        return Output::err("error: setting 'all' parameter with a non empty selector is prohibited\n");
    }
    if !all && selector.is_none() && names.is_empty() {
        return Output::err("error: at least one resource name must be specified since 'all' parameter is not set\n");
    }
    let (add, remove) = match parse_taints(&specs) {
        Ok(t) => t,
        Err(e) => return Output::err(format!("error: {e}\n")),
    };
    let names = if all || selector.is_some() {
        match node_names(cluster, &[], all, selector.as_deref()) {
            Ok(n) => n,
            Err(e) => return e,
        }
    } else {
        names
    };
    let mut out = Output::ok("");
    for name in names {
        let Some(mut n) = node(cluster, &name) else {
            out.ok = false;
            out.text.push_str(&format!("Error from server (NotFound): nodes {name:?} not found\n"));
            continue;
        };
        let old: Vec<Taint> = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
        if !overwrite {
            let exists: Vec<&str> =
                add.iter().filter(|t| old.iter().any(|o| o.key == t.key && o.effect == t.effect)).map(|t| t.key.as_str()).collect();
            if !exists.is_empty() {
                out.ok = false;
                out.text.push_str(&format!(
                    "error: node {name} already has {} taint(s) with same effect(s) and --overwrite is false\n",
                    exists.join(",")
                ));
                continue;
            }
        }
        // `reorganizeTaints`: the new ones, then the old ones not replaced, minus removals.
        let mut next: Vec<Taint> = add.clone();
        for o in &old {
            if !next.iter().any(|t| t.key == o.key && t.effect == o.effect) {
                next.push(o.clone());
            }
        }
        let added = old.len() != next.len();
        let mut missing = Vec::new();
        let mut removed = false;
        for r in &remove {
            let before = next.len();
            next.retain(|t| !(t.key == r.key && (r.effect.is_empty() || t.effect == r.effect)));
            removed = next.len() != before;
            if !removed {
                let shown = if r.effect.is_empty() { r.key.clone() } else { format!("{}:{}", r.key, r.effect) };
                missing.push(format!("taint {shown:?} not found"));
            }
        }
        if !missing.is_empty() {
            out.ok = false;
            out.text.push_str(&format!(
                "error: {}\n",
                if missing.len() == 1 { missing[0].clone() } else { format!("[{}]", missing.join(", ")) }
            ));
            continue;
        }
        let verb = if (added && removed) || overwrite {
            "modified"
        } else if added {
            "tainted"
        } else {
            "untainted"
        };
        n.spec.get_or_insert_with(Default::default).taints = (!next.is_empty()).then_some(next);
        cluster.update(Object::from(n));
        out.text.push_str(&format!("node/{name} {verb}\n"));
    }
    cluster.settle();
    out
}

/// `parseTaints`: `key[=value]:effect` to add, `key[:effect]-` to remove.
fn parse_taints(specs: &[String]) -> Result<(Vec<Taint>, Vec<Taint>), String> {
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for spec in specs {
        if let Some(r) = spec.strip_suffix('-') {
            remove.push(parse_taint(r)?);
            continue;
        }
        let t = parse_taint(spec)?;
        if t.effect.is_empty() {
            return Err(format!("invalid taint spec: {spec}"));
        }
        if add.iter().any(|a: &Taint| a.key == t.key && a.effect == t.effect) {
            return Err(format!("duplicated taints with the same key and effect: {}", taint_string(&t)));
        }
        add.push(t);
    }
    Ok((add, remove))
}

fn parse_taint(spec: &str) -> Result<Taint, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (kv, effect) = match parts.as_slice() {
        [k] => (*k, ""),
        [kv, effect] => {
            if !matches!(*effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
                return Err(format!("invalid taint effect: {effect}, unsupported taint effect"));
            }
            (*kv, *effect)
        }
        _ => return Err(format!("invalid taint spec: {spec}")),
    };
    let kvs: Vec<&str> = kv.split('=').collect();
    let (key, value) = match kvs.as_slice() {
        [k] => (*k, None),
        [k, v] => (*k, Some(*v)),
        _ => return Err(format!("invalid taint spec: {spec}")),
    };
    if key.is_empty()
        || !key
            .rsplit('/')
            .next()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    {
        return Err(format!("invalid taint spec: {spec}"));
    }
    Ok(Taint { key: key.to_string(), value: value.map(str::to_string), effect: effect.to_string(), time_added: None })
}

/// `Taint.ToString`.
fn taint_string(t: &Taint) -> String {
    match &t.value {
        Some(v) if !v.is_empty() => format!("{}={}:{}", t.key, v, t.effect),
        _ => format!("{}:{}", t.key, t.effect),
    }
}

/// `kubectl drain NODE`: cordon, then evict what may be evicted and wait for it to go.
pub(super) fn drain(cluster: &mut Cluster, args: &[String]) -> Output {
    let (mut words, mut ignore_daemonsets, mut delete_emptydir, mut force) = (Vec::new(), false, false, false);
    let mut timeout = SimDuration::from_secs(7 * 24 * 3600);
    let mut grace: Option<i64> = None;
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        let on = arg.inline != Some("false");
        match arg.name {
            "--ignore-daemonsets" => ignore_daemonsets = on,
            "--delete-emptydir-data" | "--delete-local-data" => delete_emptydir = on,
            "--force" => force = on,
            "--grace-period" => grace = walker.value(&arg).ok().and_then(|v| v.parse().ok()).filter(|g: &i64| *g >= 0),
            "--timeout" => {
                if let Some(t) = walker.value(&arg).ok().and_then(|v| SimDuration::parse(&v)).filter(|t| t.ms() > 0) {
                    timeout = t;
                }
            }
            name if name.starts_with('-') && name.len() > 1 => {
                return Output::err(format!("error: unknown flag: {name}\nSee 'kubectl drain --help' for usage.\n"))
            }
            name => words.push(name.strip_prefix("node/").unwrap_or(name).to_string()),
        }
    }
    let [name] = words.as_slice() else {
        return Output::err("error: USAGE: drain NODE [flags]\nSee 'kubectl drain -h' for help and examples\n");
    };
    let mut text = match set_unschedulable(cluster, name, true) {
        Ok(t) => t,
        Err(e) => return Output::err(e),
    };
    // GetPodsForDeletion: each Pod through the filters, in kubectl's order.
    let pods: Vec<Pod> = cluster.store().pods_on(name).filter_map(Object::as_pod).cloned().collect();
    let mut evict = Vec::new();
    let mut warnings: Vec<(&str, Vec<String>)> = Vec::new();
    let mut errors: Vec<(&str, Vec<String>)> = Vec::new();
    let note = |list: &mut Vec<(&'static str, Vec<String>)>, msg: &'static str, pod: &Pod| {
        let id = format!("{}/{}", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""));
        match list.iter_mut().find(|(m, _)| *m == msg) {
            Some((_, ids)) => ids.push(id),
            None => list.push((msg, vec![id])),
        }
    };
    for pod in pods {
        let finished = matches!(crate::api::pod_util::phase(&pod), "Succeeded" | "Failed");
        let controller = pod.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true));
        if controller.is_some_and(|c| c.kind == "DaemonSet") && !finished {
            if ignore_daemonsets {
                note(&mut warnings, "ignoring DaemonSet-managed Pods", &pod);
            } else {
                note(&mut errors, "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)", &pod);
            }
            continue;
        }
        if pod.metadata.annotations.as_ref().is_some_and(|a| a.contains_key("kubernetes.io/config.mirror")) {
            continue;
        }
        let local = pod.spec.as_ref().and_then(|s| s.volumes.as_ref()).is_some_and(|v| v.iter().any(|v| v.empty_dir.is_some()));
        if local && !finished {
            if !delete_emptydir {
                note(&mut errors, "Pods with local storage (use --delete-emptydir-data to override)", &pod);
                continue;
            }
            note(&mut warnings, "deleting Pods with local storage", &pod);
        }
        if controller.is_none() && !finished {
            if !force {
                note(&mut errors, "Pods that declare no controller (use --force to override)", &pod);
                continue;
            }
            note(&mut warnings, "deleting Pods that declare no controller", &pod);
        }
        evict.push(pod);
    }
    if !errors.is_empty() {
        let messages: Vec<String> = errors.iter().map(|(m, ids)| format!("cannot delete {m}: {}", ids.join(", "))).collect();
        let joined = if messages.len() == 1 { messages[0].clone() } else { format!("[{}]", messages.join(", ")) };
        text.push_str(&format!("error: unable to drain node {name:?} due to error: {joined}, continuing command...\n"));
        text.push_str(&format!("There are pending nodes to be drained:\n {name}\n"));
        if messages.len() == 1 {
            text.push_str(&format!("error: {}\n", messages[0]));
        } else {
            for m in &messages {
                text.push_str(&format!("{m}\n"));
            }
        }
        return Output { text, ok: false };
    }
    if !warnings.is_empty() {
        let w: Vec<String> = warnings.iter().map(|(m, ids)| format!("{m}: {}", ids.join(", "))).collect();
        text.push_str(&format!("Warning: {}\n", w.join("; ")));
    }
    let keys: Vec<ObjectKey> = evict
        .iter()
        .map(|p| ObjectKey::new("Pod", p.metadata.namespace.as_deref().unwrap_or(""), p.metadata.name.as_deref().unwrap_or("")))
        .collect();
    let uids: Vec<Option<String>> = evict.iter().map(|p| p.metadata.uid.clone()).collect();
    for k in &keys {
        text.push_str(&format!("evicting pod {}/{}\n", k.namespace, k.name));
    }
    // Each eviction is retried every 5 s while a PodDisruptionBudget refuses it.
    let deadline = cluster.now().plus(timeout);
    let mut pending: Vec<usize> = (0..keys.len()).collect();
    loop {
        let mut blocked = Vec::new();
        for &i in &pending {
            let k = &keys[i];
            let result = match grace {
                Some(g) => {
                    cluster.delete_with_options(k, crate::apiserver::Propagation::Background, Some(g));
                    Ok(())
                }
                None => cluster.evict(k),
            };
            match result {
                Err((reason, message)) if reason != "NotFound" => {
                    text.push_str(&format!(
                        "error when evicting pods/{:?} -n {:?} (will retry after 5s): {message}\n",
                        k.name, k.namespace
                    ));
                    blocked.push(i);
                }
                _ => {}
            }
        }
        pending = blocked;
        if pending.is_empty() || cluster.now() >= deadline {
            break;
        }
        cluster.advance(SimDuration::from_secs(5));
    }
    let gone = |c: &Cluster, k: &ObjectKey, uid: &Option<String>| c.get(k).is_none_or(|o| o.meta().uid != *uid);
    let left = deadline.since(cluster.now());
    let done = pending.is_empty() && cluster.run_while(left, |c| keys.iter().zip(&uids).all(|(k, u)| gone(c, k, u)));
    for (k, u) in keys.iter().zip(&uids) {
        if gone(cluster, k, u) {
            text.push_str(&format!("pod/{} evicted\n", k.name));
        }
    }
    if !done {
        text.push_str(&format!(
            "There are pending pods in node {name:?} when an error occurred: drain did not complete within {}\n",
            timeout.go_string()
        ));
        return Output { text, ok: false };
    }
    text.push_str(&format!("node/{name} drained\n"));
    Output::ok(text)
}
