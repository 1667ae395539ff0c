//! `kubectl logs POD|TYPE/NAME [-c CONTAINER] [-p] [--tail=N] [--timestamps] [-f] [-n NS]`:
//! what a container printed, read through the API server. For a workload (`deploy/web`) the
//! first of its Pods is used, as kubectl does. Its flags differ from the other commands'
//! (`-f` follows, `-c` names a container), so it parses its own.

use super::args::ArgWalker;
use super::Output;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;
use crate::time::SimTime;

#[derive(Debug, Default)]
struct LogFlags {
    target: Option<String>,
    container: Option<String>,
    namespace: Option<String>,
    previous: bool,
    timestamps: bool,
    follow: bool,
    tail: Option<i64>,
}

fn parse(args: &[String]) -> Result<LogFlags, String> {
    let mut f = LogFlags::default();
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        let flag = |on: Option<&str>| on != Some("false");
        match arg.name {
            "-c" | "--container" => f.container = Some(walker.value(&arg)?),
            "-n" | "--namespace" => f.namespace = Some(walker.value(&arg)?),
            "--tail" => {
                let v = walker.value(&arg)?;
                let n = v.parse().map_err(|_| {
                    format!("error: invalid argument \"{v}\" for \"--tail\" flag: strconv.ParseInt: parsing \"{v}\": invalid syntax")
                })?;
                f.tail = Some(n);
            }
            "-p" | "--previous" => f.previous = flag(arg.inline),
            "--timestamps" => f.timestamps = flag(arg.inline),
            "-f" | "--follow" => f.follow = flag(arg.inline),
            name if name.starts_with('-') => return Err(format!("error: unknown flag: {name}\nSee 'kubectl logs --help' for usage.")),
            word if f.target.is_none() => f.target = Some(word.to_string()),
            // `kubectl logs POD CONTAINER`, the old form.
            word if f.container.is_none() => f.container = Some(word.to_string()),
            _ => return Err("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.".into()),
        }
    }
    Ok(f)
}

/// `2026-01-01T00:00:01.5Z`: Go's RFC3339Nano, trailing zeros of the fraction dropped.
fn rfc3339_nano(t: SimTime) -> String {
    let whole = SimTime(t.ms() - t.ms() % 1000).rfc3339();
    let fraction = format!("{:03}", t.ms() % 1000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole
    } else {
        format!("{}.{fraction}Z", whole.trim_end_matches('Z'))
    }
}

pub(super) fn logs(cluster: &mut Cluster, args: &[String]) -> Output {
    let flags = match parse(args) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let Some(target) = flags.target.clone() else {
        return Output::err("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples\n");
    };
    let ns = flags.namespace.clone().unwrap_or_else(|| "default".into());
    let mut notes = String::new();
    let pod_key = match target.split_once('/') {
        None => ObjectKey::new("Pod", &ns, &target),
        Some((kind, name)) => match crate::api::kinds::by_resource(kind) {
            Some(info) if info.kind == "Pod" => ObjectKey::new("Pod", &ns, name),
            Some(info) if matches!(info.kind, "Deployment" | "ReplicaSet" | "Job" | "DaemonSet" | "StatefulSet") => {
                let Some(owner) = cluster.get(&ObjectKey::new(info.kind, &ns, name)) else {
                    return Output::err(format!("Error from server (NotFound): {} \"{name}\" not found\n", info.qualified_plural()));
                };
                match first_pod(cluster, owner) {
                    Some((key, count)) => {
                        if count > 1 {
                            notes.push_str(&format!("Found {count} pods, using pod/{}\n", key.name));
                        }
                        key
                    }
                    None => return Output::err(format!("error: timed out waiting for the condition on {}/{name}\n", info.plural)),
                }
            }
            Some(info) => {
                return Output::err(format!(
                    "error: cannot get the logs from {}: selector for {} not implemented\n",
                    info.qualified_plural(),
                    info.kind
                ))
            }
            None => return Output::err(format!("error: the server doesn't have a resource type \"{kind}\"\n")),
        },
    };
    let Some(pod) = cluster.get(&pod_key).and_then(Object::as_pod).cloned() else {
        return Output::err(format!("Error from server (NotFound): pods \"{}\" not found\n", pod_key.name));
    };
    let names: Vec<String> = pod.spec.iter().flat_map(|s| s.containers.iter().map(|c| c.name.clone())).collect();
    let inits: Vec<String> = pod.spec.iter().flat_map(|s| s.init_containers.iter().flatten().map(|c| c.name.clone())).collect();
    let container = match &flags.container {
        Some(c) if names.contains(c) || inits.contains(c) => c.clone(),
        Some(c) => return Output::err(format!("error: container {c} is not valid for pod {}\n", pod_key.name)),
        None => {
            let default = pod.metadata.annotations.as_ref().and_then(|a| a.get("kubectl.kubernetes.io/default-container")).cloned();
            let chosen = default.filter(|d| names.contains(d)).or_else(|| names.first().cloned()).unwrap_or_default();
            if names.len() + inits.len() > 1 {
                let all: Vec<String> = names.iter().cloned().chain(inits.iter().map(|i| format!("{i} (init)"))).collect();
                notes.push_str(&format!("Defaulted container \"{chosen}\" out of: {}\n", all.join(", ")));
            }
            chosen
        }
    };
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let status = pod
        .status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten().chain(s.init_container_statuses.iter().flatten()))
        .find(|c| c.name == container);
    let waiting = status.and_then(|c| c.state.as_ref()).and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.clone());
    let lines = match cluster.api().logs(&uid, &container, flags.previous) {
        Some(lines) => lines,
        None if flags.previous => {
            let message = format!("previous terminated container \"{container}\" in pod \"{}\" not found", pod_key.name);
            return Output::err(format!("{notes}Error from server (BadRequest): {message}\n"));
        }
        None => {
            let reason = waiting.unwrap_or_else(|| "ContainerCreating".into());
            let message = format!("container \"{container}\" in pod \"{}\" is waiting to start: {reason}", pod_key.name);
            return Output::err(format!("{notes}Error from server (BadRequest): {message}\n"));
        }
    };
    let skip = flags.tail.filter(|n| *n >= 0).map_or(0, |n| lines.len().saturating_sub(n as usize));
    let mut out = notes;
    for (at, line) in &lines[skip..] {
        if flags.timestamps {
            out.push_str(&rfc3339_nano(*at));
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
    }
    if flags.follow {
        out.push_str("(kubeplay: the console cannot stream; -f shows the log so far — `sleep` lets time pass, then run it again)\n");
    }
    Output::ok(out)
}

/// The Pod kubectl picks for a workload: the first (by name) of those it controls.
fn first_pod(cluster: &Cluster, owner: &Object) -> Option<(ObjectKey, usize)> {
    let uid = owner.meta().uid.clone().unwrap_or_default();
    let mut pods: Vec<ObjectKey> = Vec::new();
    let mut owners = vec![uid];
    if owner.info().kind == "Deployment" {
        let sets = cluster
            .store()
            .dependents(&owners[0])
            .filter(|o| o.info().kind == "ReplicaSet")
            .map(|o| o.meta().uid.clone().unwrap_or_default());
        owners = sets.collect();
    }
    for uid in &owners {
        pods.extend(cluster.store().dependents(uid).filter(|o| o.info().kind == "Pod").map(Object::key));
    }
    pods.sort();
    let count = pods.len();
    pods.into_iter().next().map(|k| (k, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_go_rfc3339nano() {
        assert_eq!(rfc3339_nano(SimTime(1000)), "2026-01-01T00:00:01Z");
        assert_eq!(rfc3339_nano(SimTime(1500)), "2026-01-01T00:00:01.5Z");
        assert_eq!(rfc3339_nano(SimTime(61_234)), "2026-01-01T00:01:01.234Z");
    }

    #[test]
    fn flags() {
        let args: Vec<String> = ["web", "-c", "app", "--tail=2", "-p", "--timestamps"].iter().map(|s| s.to_string()).collect();
        let f = parse(&args).expect("parses");
        assert_eq!(
            (f.target.as_deref(), f.container.as_deref(), f.tail, f.previous, f.timestamps),
            (Some("web"), Some("app"), Some(2), true, true)
        );
        assert!(parse(&["--nope".to_string()]).is_err());
    }
}
