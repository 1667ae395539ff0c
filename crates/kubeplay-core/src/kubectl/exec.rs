//! `kubectl exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS…]`: runs a command in a running
//! container, through the API server, with the container's files and environment, by the
//! container shell (`sh -c '…'` scripts and the BusyBox utilities it knows). What the command
//! writes stays in the container: `kubectl exec web -- rm /tmp/healthy` makes a liveness probe
//! fail. The console cannot hold an interactive shell.

use super::Output;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;

pub(super) fn exec(cluster: &mut Cluster, args: &[String]) -> Output {
    cluster.settle();
    let (before, command) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let mut pod_name = None;
    let mut container = None;
    let mut namespace = "default".to_string();
    let mut interactive = false;
    let mut i = 0;
    while i < before.len() {
        let arg = before[i].as_str();
        match arg {
            "-c" | "--container" => {
                i += 1;
                container = before.get(i).cloned();
            }
            "-n" | "--namespace" => {
                i += 1;
                namespace = before.get(i).cloned().unwrap_or(namespace);
            }
            "-i" | "-t" | "-it" | "-ti" | "--stdin" | "--tty" => interactive = true,
            _ if arg.starts_with("--container=") => container = arg.split_once('=').map(|(_, v)| v.to_string()),
            _ if arg.starts_with("--namespace=") || arg.starts_with("-n=") => namespace = arg.split_once('=').map_or(namespace, |(_, v)| v.to_string()),
            _ if arg.starts_with('-') => return Output::err(format!("error: unknown flag: {arg}\nSee 'kubectl exec --help' for usage.\n")),
            _ if pod_name.is_none() => pod_name = Some(arg.trim_start_matches("pod/").trim_start_matches("pods/").to_string()),
            _ => return Output::err("error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples\n"),
        }
        i += 1;
    }
    let Some(pod_name) = pod_name else {
        return Output::err("error: pod, type/name or --filename must be specified\n");
    };
    if command.is_empty() {
        return Output::err("error: you must specify at least one command for the container\n");
    }
    let Some(pod) = cluster.get(&ObjectKey::new("Pod", &namespace, &pod_name)).and_then(Object::as_pod).cloned() else {
        return Output::err(format!("Error from server (NotFound): pods \"{pod_name}\" not found\n"));
    };
    let names: Vec<String> = pod.spec.iter().flat_map(|s| s.containers.iter().map(|c| c.name.clone())).collect();
    let mut notes = String::new();
    let container = match container {
        Some(c) => c,
        None => {
            let chosen = names.first().cloned().unwrap_or_default();
            if names.len() > 1 {
                notes.push_str(&format!("Defaulted container \"{chosen}\" out of: {}\n", names.join(", ")));
            }
            chosen
        }
    };
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    if cluster.api().running_container(&uid, &container).is_none() {
        return Output::err(format!(
            "{notes}error: Internal error occurred: unable to upgrade connection: container not found (\"{container}\")\n"
        ));
    }
    let shell = matches!(command, [c] if matches!(c.as_str(), "sh" | "/bin/sh" | "bash" | "/bin/bash" | "ash"));
    if interactive && shell {
        return Output::err(format!(
            "{notes}kubeplay: the console cannot hold an interactive shell; run one command at a time: kubectl exec {pod_name} -- COMMAND\n"
        ));
    }
    let Some(result) = cluster.exec_in_container(&uid, &container, command) else {
        return Output::err(format!("{notes}error: unable to upgrade connection: container not running\n"));
    };
    let mut text = notes;
    text.push_str(&result.output);
    if let Some(program) = &result.unmodelled {
        text.push_str(&format!("kubeplay: `{program}` is not simulated inside containers; it was taken to succeed without output\n"));
    }
    if result.endless {
        text.push_str("kubeplay: the command runs until interrupted; the console stopped it here\n");
    }
    if result.code != 0 {
        text.push_str(&format!("command terminated with exit code {}\n", result.code));
    }
    Output { text, ok: result.code == 0 }
}
