//! `kubectl events [--for KIND/NAME] [--types Normal,Warning] [-A]`: the namespace's Events,
//! oldest first, with `LAST SEEN` as kubectl 1.37's event printer words it
//! (`5s (x3 over 20s)` for a repeated one).

use super::args::{resolve, ArgWalker};
use super::printers;
use super::Output;
use crate::api::Object;
use crate::sim::Cluster;
use crate::time::{from_time, SimTime};

pub(super) fn events(cluster: &mut Cluster, args: &[String]) -> Output {
    let mut namespace = "default".to_string();
    let (mut all, mut no_headers) = (false, false);
    let (mut for_object, mut types) = (None, Vec::new());
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        let mut value = || walker.value(&arg).map_err(|e| Output::err(format!("{e}\n")));
        let result = match arg.name {
            "-n" | "--namespace" => value().map(|v| namespace = v),
            "--for" => value().map(|v| for_object = Some(v)),
            "--types" => value().map(|v| types.extend(v.split(',').map(str::to_string))),
            "-A" | "--all-namespaces" => {
                all = true;
                Ok(())
            }
            "--no-headers" => {
                no_headers = true;
                Ok(())
            }
            name if name.starts_with('-') && name.len() > 1 => {
                Err(Output::err(format!("error: unknown flag: {name}\nSee 'kubectl events --help' for usage.\n")))
            }
            name => Err(Output::err(format!("error: unknown command {name:?} for \"kubectl events\"\n"))),
        };
        if let Err(e) = result {
            return e;
        }
    }
    for t in &types {
        if !matches!(t.to_ascii_lowercase().as_str(), "normal" | "warning") {
            return Output::err("error: valid --types are Normal or Warning\n");
        }
    }
    let target = match &for_object {
        None => None,
        Some(spec) => {
            let Some((ty, name)) = spec.split_once('/') else {
                return Output::err("error: --for must be in resource/name form\n");
            };
            match resolve(ty) {
                Ok(info) => Some((info.kind, name.to_string())),
                Err(e) => return e,
            }
        }
    };
    cluster.settle();
    let now = cluster.now();
    let scope = (!all).then_some(namespace.as_str());
    let mut events: Vec<&k8s_openapi::api::core::v1::Event> = cluster
        .store()
        .list("Event", scope)
        .filter_map(Object::as_event)
        .filter(|e| types.is_empty() || types.iter().any(|t| e.type_.as_deref().is_some_and(|et| et.eq_ignore_ascii_case(t))))
        .filter(|e| {
            target.as_ref().is_none_or(|(kind, name)| {
                e.involved_object.kind.as_deref() == Some(*kind) && e.involved_object.name.as_deref() == Some(name)
            })
        })
        .collect();
    if events.is_empty() {
        return Output::ok(if all { "No events found.\n".to_string() } else { format!("No events found in {namespace} namespace.\n") });
    }
    events.sort_by_key(|e| event_time(e));
    let mut rows = Vec::new();
    if !no_headers {
        let mut h = vec!["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"];
        if all {
            h.insert(0, "NAMESPACE");
        }
        rows.push(h.into_iter().map(str::to_string).collect::<Vec<_>>());
    }
    for e in events {
        let mut r = vec![
            interval(e, now),
            e.type_.clone().unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
            format!("{}/{}", e.involved_object.kind.as_deref().unwrap_or(""), e.involved_object.name.as_deref().unwrap_or("")),
            e.message.clone().unwrap_or_default().trim().to_string(),
        ];
        if all {
            r.insert(0, e.metadata.namespace.clone().unwrap_or_default());
        }
        rows.push(r);
    }
    Output::ok(printers::table(&rows))
}

fn event_time(e: &k8s_openapi::api::core::v1::Event) -> SimTime {
    e.last_timestamp.as_ref().or(e.first_timestamp.as_ref()).map(from_time).unwrap_or(SimTime::ZERO)
}

/// `getInterval`.
fn interval(e: &k8s_openapi::api::core::v1::Event, now: SimTime) -> String {
    let since = |t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| match t {
        Some(t) => now.since(from_time(t)).human(),
        None => "<unknown>".to_string(),
    };
    let first = since(e.first_timestamp.as_ref());
    match e.count {
        Some(c) if c > 1 => format!("{} (x{c} over {first})", since(e.last_timestamp.as_ref())),
        _ => first,
    }
}
