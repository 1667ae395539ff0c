//! `kubectl label` and `kubectl annotate`: `key=value` sets, `key-` removes; a key that already
//! has another value needs `--overwrite`; objects by `TYPE NAME…`, `TYPE/NAME`, `-l SELECTOR`
//! or `--all`; `--list` prints what is there. Messages as kubectl 1.37's (`labeled`,
//! `unlabeled`, `modified`, `not labeled`; `annotated`).

use std::collections::BTreeMap;

use super::args::{resolve, ArgWalker};
use super::Output;
use crate::api::labels::Selector;
use crate::api::{kinds::KindInfo, Object, ObjectKey};
use crate::sim::Cluster;

/// Which map the command edits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Labels,
    Annotations,
}

pub(super) fn run(cluster: &mut Cluster, field: Field, args: &[String]) -> Output {
    let command = if field == Field::Labels { "label" } else { "annotate" };
    let mut namespace = "default".to_string();
    let (mut overwrite, mut all, mut list) = (false, false, false);
    let mut selector: Option<String> = None;
    let mut words = Vec::new();
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        let flag_true = arg.inline.is_none_or(|v| v == "true");
        match arg.name {
            "-n" | "--namespace" => match walker.value(&arg) {
                Ok(v) => namespace = v,
                Err(e) => return Output::err(format!("{e}\n")),
            },
            "-l" | "--selector" => match walker.value(&arg) {
                Ok(v) => selector = Some(v),
                Err(e) => return Output::err(format!("{e}\n")),
            },
            "--overwrite" => overwrite = flag_true,
            "--all" => all = flag_true,
            "--list" => list = flag_true,
            name if name.starts_with('-') && name.len() > 1 => {
                return Output::err(format!("error: unknown flag: {name}\nSee 'kubectl {command} --help' for usage.\n"));
            }
            name => words.push(name.to_string()),
        }
    }
    // Resources first, then the changes (`key=value`, `key-`).
    let is_change = |w: &str| w.contains('=') || (w.ends_with('-') && !w.contains('/'));
    let split = words.iter().position(|w| is_change(w)).unwrap_or(words.len());
    let (resources, changes) = words.split_at(split);
    if all && selector.is_some() {
        return Output::err("error: cannot set --all and --selector at the same time\n");
    }
    let mut set: BTreeMap<String, String> = BTreeMap::new();
    let mut remove: Vec<String> = Vec::new();
    for change in changes {
        if let Some((k, v)) = change.split_once('=') {
            if field == Field::Labels && v.contains('=') {
                return Output::err(format!("error: invalid label spec: {change}\n"));
            }
            set.insert(k.to_string(), v.to_string());
        } else if let Some(k) = change.strip_suffix('-') {
            remove.push(k.to_string());
        } else {
            return Output::err(format!("error: invalid {} spec: {change}\n", if field == Field::Labels { "label" } else { "annotation" }));
        }
    }
    if set.is_empty() && remove.is_empty() && !list {
        let what = if field == Field::Labels { "label" } else { "annotation" };
        return Output::err(format!("error: at least one {what} update is required\n"));
    }
    if field == Field::Annotations {
        let both: Vec<&String> = remove.iter().filter(|k| set.contains_key(*k)).collect();
        if !both.is_empty() {
            let names: Vec<&str> = both.iter().map(|s| s.as_str()).collect();
            return Output::err(format!(
                "error: can not both modify and remove the following annotation(s) in the same command: {}\n",
                names.join(", ")
            ));
        }
    }
    let targets = match targets(cluster, resources, &namespace, selector.as_deref(), all) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let mut out = Output::ok("");
    for (info, key) in targets {
        let Some(object) = cluster.get(&key).cloned() else {
            out.ok = false;
            out.text.push_str(&format!("Error from server (NotFound): {} \"{}\" not found\n", info.qualified_plural(), key.name));
            continue;
        };
        let current = match field {
            Field::Labels => object.meta().labels.clone(),
            Field::Annotations => object.meta().annotations.clone(),
        }
        .unwrap_or_default();
        if list {
            for (k, v) in &current {
                out.text.push_str(&format!("{k}={v}\n"));
            }
            continue;
        }
        if !overwrite {
            let clashes: Vec<String> = set
                .iter()
                .filter_map(|(k, v)| current.get(k).filter(|c| *c != v).map(|c| format!("'{k}' already has a value ({c})")))
                .collect();
            if !clashes.is_empty() {
                out.ok = false;
                match field {
                    Field::Labels => {
                        for c in clashes {
                            out.text.push_str(&format!("error: {c}, and --overwrite is false\n"));
                        }
                    }
                    Field::Annotations => {
                        out.text.push_str(&format!(
                            "error: --overwrite is false but found the following declared annotation(s): {}\n",
                            clashes.join("; ")
                        ));
                    }
                }
                continue;
            }
        }
        let mut next = current.clone();
        let added = set.iter().filter(|(k, v)| current.get(*k) != Some(*v)).count();
        let removed = remove.iter().filter(|k| current.contains_key(*k)).count();
        next.extend(set.clone());
        for k in &remove {
            next.remove(k);
        }
        let mut updated = object.clone();
        let meta = updated.meta_mut();
        let value = (!next.is_empty()).then_some(next);
        match field {
            Field::Labels => meta.labels = value,
            Field::Annotations => meta.annotations = value,
        }
        if added + removed > 0 {
            cluster.update(updated);
        }
        let message = match field {
            Field::Annotations => "annotated",
            Field::Labels if added > 0 && removed > 0 => "modified",
            Field::Labels if added > 0 => "labeled",
            Field::Labels if removed > 0 => "unlabeled",
            Field::Labels => "not labeled",
        };
        out.text.push_str(&format!("{}/{} {message}\n", info.qualified_singular(), key.name));
    }
    cluster.settle();
    out
}

fn targets(
    cluster: &Cluster,
    resources: &[String],
    namespace: &str,
    selector: Option<&str>,
    all: bool,
) -> Result<Vec<(&'static KindInfo, ObjectKey)>, Output> {
    let Some(first) = resources.first() else {
        return Err(Output::err("error: one or more resources must be specified as <resource> <name> or <resource>/<name>\n"));
    };
    let scope = |info: &KindInfo| if info.namespaced { namespace.to_string() } else { String::new() };
    if first.contains('/') {
        let mut out = Vec::new();
        for r in resources {
            let Some((ty, name)) = r.split_once('/') else {
                return Err(Output::err("error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form\n"));
            };
            let info = resolve(ty)?;
            out.push((info, ObjectKey::new(info.kind, &scope(info), name)));
        }
        return Ok(out);
    }
    let info = resolve(first)?;
    let names = &resources[1..];
    if !names.is_empty() {
        return Ok(names.iter().map(|n| (info, ObjectKey::new(info.kind, &scope(info), n))).collect());
    }
    let filter = match (selector, all) {
        (Some(s), _) => Selector::parse(s).map_err(|e| Output::err(format!("error: {e}\n")))?,
        (None, true) => Selector::default(),
        (None, false) => return Err(Output::err("error: resource(s) were provided, but no name was specified\n")),
    };
    let ns = scope(info);
    Ok(cluster
        .store()
        .list(info.kind, Some(ns.as_str()))
        .filter(|o: &&Object| filter.matches(o.meta().labels.as_ref()))
        .map(|o| (info, o.key()))
        .collect())
}
