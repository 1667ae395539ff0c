//! `kubectl exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS…]`: runs a command in a running
//! container, through the API server, with the container's files and environment, by the
//! container shell (`sh -c '…'` scripts and the BusyBox utilities it knows). What the command
//! writes stays in the container: `kubectl exec web -- rm /tmp/healthy` makes a liveness probe
//! fail. `kubectl exec -it POD -- sh` attaches the console to a shell in the container (the
//! session keeps it until `exit`); a program the image does not have fails as the runtime
//! reports it (`bash` in an Alpine image, anything in `pause`).

use std::collections::BTreeMap;

use super::Output;
use crate::api::{Object, ObjectKey};
use crate::kubelet::has_program;
use crate::rng::fnv1a64;
use crate::sim::Cluster;

/// The container a command runs in, as the arguments name it.
struct Target {
    pod: String,
    namespace: String,
    uid: String,
    container: String,
    interactive: bool,
    /// `Defaulted container "x" out of: x, y`
    notes: String,
}

/// An interactive shell the console is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    pub pod: String,
    pub namespace: String,
    pub uid: String,
    pub container: String,
    pub shell: String,
    /// Shell variables, kept from line to line (the container's environment to start with).
    pub vars: BTreeMap<String, String>,
}

impl Attached {
    /// The shell's prompt, as the image's shell prints it for root.
    pub fn prompt(&self) -> String {
        if self.shell.ends_with("bash") {
            format!("root@{}:/# ", self.pod)
        } else {
            "/ # ".to_string()
        }
    }
}

fn split(args: &[String]) -> (&[String], &[String]) {
    match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    }
}

fn target(cluster: &mut Cluster, before: &[String], command: &[String]) -> Result<Target, Output> {
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
            _ if arg.starts_with("--namespace=") || arg.starts_with("-n=") => {
                namespace = arg.split_once('=').map_or(namespace, |(_, v)| v.to_string())
            }
            _ if arg.starts_with('-') => return Err(Output::err(format!("error: unknown flag: {arg}\nSee 'kubectl exec --help' for usage.\n"))),
            _ if pod_name.is_none() => pod_name = Some(arg.trim_start_matches("pod/").trim_start_matches("pods/").to_string()),
            _ => {
                return Err(Output::err(
                    "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples\n",
                ))
            }
        }
        i += 1;
    }
    let Some(pod_name) = pod_name else {
        return Err(Output::err("error: pod, type/name or --filename must be specified\n"));
    };
    if command.is_empty() {
        return Err(Output::err("error: you must specify at least one command for the container\n"));
    }
    let Some(pod) = cluster.get(&ObjectKey::new("Pod", &namespace, &pod_name)).and_then(Object::as_pod).cloned() else {
        return Err(Output::err(format!("Error from server (NotFound): pods \"{pod_name}\" not found\n")));
    };
    let specs: Vec<&k8s_openapi::api::core::v1::Container> = pod.spec.iter().flat_map(|s| s.containers.iter()).collect();
    let mut notes = String::new();
    let container = match container {
        Some(c) => c,
        None => {
            let chosen = specs.first().map(|c| c.name.clone()).unwrap_or_default();
            if specs.len() > 1 {
                let names: Vec<&str> = specs.iter().map(|c| c.name.as_str()).collect();
                notes.push_str(&format!("Defaulted container \"{chosen}\" out of: {}\n", names.join(", ")));
            }
            chosen
        }
    };
    let all = pod.spec.iter().flat_map(|s| s.containers.iter().chain(s.init_containers.iter().flatten()));
    let image = all.clone().find(|c| c.name == container).and_then(|c| c.image.clone()).unwrap_or_default();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    if cluster.api().running_container(&uid, &container).is_none() {
        return Err(Output::err(format!(
            "{notes}error: Internal error occurred: unable to upgrade connection: container not found (\"{container}\")\n"
        )));
    }
    if !has_program(&image, &command[0]) {
        // The runtime's answer; the exec id is a hash here.
        let id = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            fnv1a64(uid.as_bytes()),
            fnv1a64(command[0].as_bytes()),
            fnv1a64(container.as_bytes()),
            fnv1a64(image.as_bytes())
        );
        return Err(Output::err(format!(
            "{notes}error: Internal error occurred: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec \"{id}\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"{}\": executable file not found in $PATH: unknown\n",
            command[0]
        )));
    }
    Ok(Target { pod: pod_name, namespace, uid, container, interactive, notes })
}

/// A bare shell (`sh`, `/bin/bash`, `sh -l`): what `-it` attaches to.
fn is_shell(command: &[String]) -> bool {
    let shell = |w: &str| matches!(w.rsplit('/').next().unwrap_or(w), "sh" | "bash" | "ash");
    match command {
        [c] => shell(c),
        [c, flag] => shell(c) && (flag == "-l" || flag == "-i"),
        _ => false,
    }
}

/// `kubectl exec -it POD -- sh`: the shell to attach the console to (Ok), or why not (Err);
/// None when the command is not an interactive shell.
pub fn attach(cluster: &mut Cluster, args: &[String]) -> Option<Result<(Attached, String), Output>> {
    let (before, command) = split(args);
    let asks = before.iter().any(|a| matches!(a.as_str(), "-i" | "-t" | "-it" | "-ti" | "--stdin" | "--tty"));
    if !asks || !is_shell(command) {
        return None;
    }
    cluster.settle();
    let t = match target(cluster, before, command) {
        Ok(t) => t,
        Err(out) => return Some(Err(out)),
    };
    let vars =
        cluster.api().running_container(&t.uid, &t.container).map(|v| crate::kubelet::with_hostname(&v.env, &t.pod)).unwrap_or_default();
    let attached = Attached { pod: t.pod, namespace: t.namespace, uid: t.uid, container: t.container, shell: command[0].clone(), vars };
    Some(Ok((attached, t.notes)))
}

pub(super) fn exec(cluster: &mut Cluster, args: &[String]) -> Output {
    cluster.settle();
    let (before, command) = split(args);
    let t = match target(cluster, before, command) {
        Ok(t) => t,
        Err(out) => return out,
    };
    if t.interactive && is_shell(command) {
        return Output::err(format!("{}error: an interactive shell needs a console session\n", t.notes));
    }
    let Some(result) = cluster.exec_in_container(&t.uid, &t.container, command) else {
        return Output::err(format!("{}error: unable to upgrade connection: container not running\n", t.notes));
    };
    let mut text = t.notes;
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
