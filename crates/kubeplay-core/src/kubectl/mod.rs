//! The kubectl subset: `apply`, `get`, `delete`, `scale`. Output and error text follow real
//! kubectl; each command returns its text and whether it succeeded (kubectl's exit status).

mod api_resources;
mod apply;
mod args;
pub use args::CONTEXT_NAMESPACE_FLAG;
pub mod columns;
mod create_service;
mod delete;
mod describe;
mod describe_ingress;
mod describe_node;
mod describe_service;
mod describe_workloads;
mod diff;
pub mod edit;
mod events;
pub mod exec;
mod explain;
mod expose;
mod generate;
mod generate_workloads;
mod get;
mod jsonpath;
mod label;
mod logs;
mod merge;
mod node;
mod patch;
pub mod port_forward;
pub mod printers;
mod raw;
pub mod raw_watch;
mod rollout;
mod scale;
mod set;
pub mod tabwriter;
mod top;
mod wait;
pub mod watch;

use crate::sim::Cluster;

/// What a command printed and whether it succeeded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub text: String,
    pub ok: bool,
}

impl Output {
    pub fn ok(text: impl Into<String>) -> Output {
        Output { text: text.into(), ok: true }
    }

    pub fn err(text: impl Into<String>) -> Output {
        Output { text: text.into(), ok: false }
    }
}

/// Where `kubectl apply -f NAME` reads from: the host provides it (the editor's buffers in
/// the browser, the file system in the CLI).
pub trait Files {
    fn read(&self, name: &str) -> Option<String>;
}

/// The path of `kubectl get --raw PATH` when it asks for a watch stream (and nothing else:
/// kubectl refuses other flags with --raw before any request, which `run` reports).
pub fn raw_watch_path(args: &[String]) -> Option<String> {
    if args.first().map(String::as_str) != Some("get") {
        return None;
    }
    let i = args.iter().position(|a| a == "--raw");
    let path =
        i.and_then(|i| args.get(i + 1).cloned()).or_else(|| args.iter().find_map(|a| a.strip_prefix("--raw=").map(str::to_string)))?;
    let others = args[1..].iter().filter(|a| **a != "--raw" && **a != path && !a.starts_with("--raw=")).count();
    (others == 0 && raw_watch::is_watch(&path)).then_some(path)
}

pub fn run(cluster: &mut Cluster, files: &dyn Files, args: &[String]) -> Output {
    let Some(command) = args.first() else {
        return Output::ok(
            "kubectl controls the Kubernetes cluster manager.\n\nBasic Commands:\n  apply, create, get, describe, delete, scale, rollout, label, annotate, logs, exec\n",
        );
    };
    if command == "logs" {
        return logs::logs(cluster, &args[1..]);
    }
    if command == "exec" {
        return exec::exec(cluster, &args[1..]);
    }
    if command == "rollout" {
        return rollout::rollout(cluster, &args[1..]);
    }
    if command == "label" {
        return label::run(cluster, label::Field::Labels, &args[1..]);
    }
    if command == "annotate" {
        return label::run(cluster, label::Field::Annotations, &args[1..]);
    }
    if matches!(command.as_str(), "get" | "create" | "replace" | "delete") {
        let raw = args
            .iter()
            .position(|a| a == "--raw")
            .and_then(|i| args.get(i + 1).cloned())
            .or_else(|| args.iter().find_map(|a| a.strip_prefix("--raw=").map(str::to_string)));
        if let Some(path) = raw {
            if command != "get" {
                // The request body: `-f FILE` (one file at most).
                let mut file = None;
                let mut i = 1;
                while i < args.len() {
                    let a = &args[i];
                    if a == "-f" || a == "--filename" {
                        if file.is_some() {
                            return Output::err("error: --raw can only use a single local file or stdin\n");
                        }
                        file = args.get(i + 1).cloned();
                        i += 1;
                    } else if let Some(f) = a.strip_prefix("--filename=").or_else(|| a.strip_prefix("-f=")) {
                        file = Some(f.to_string());
                    }
                    i += 1;
                }
                return raw::write(cluster, files, command, &path, file.as_deref());
            }
            // kubectl's Validate, before any request.
            let rest: Vec<&String> = args[1..].iter().filter(|a| *a != "--raw" && **a != path && !a.starts_with("--raw=")).collect();
            if rest
                .iter()
                .any(|a| matches!(a.as_str(), "-w" | "--watch" | "--watch-only" | "-l" | "--selector") || a.starts_with("--selector="))
            {
                return Output::err(
                    "error: --raw may not be specified with other flags that filter the server request or alter the output\n",
                );
            }
            if rest.iter().any(|a| a.starts_with("-o") || a.starts_with("--output")) {
                return Output::err("error: --raw and --output are mutually exclusive\n");
            }
            if rest.iter().any(|a| !a.starts_with('-')) {
                return Output::err("error: arguments may not be passed when --raw is specified\n");
            }
            return raw::get(cluster, &path);
        }
    }
    match command.as_str() {
        "top" => return top::run(cluster, &args[1..]),
        "cordon" => return node::cordon(cluster, &args[1..], true),
        "uncordon" => return node::cordon(cluster, &args[1..], false),
        "taint" => return node::taint(cluster, &args[1..]),
        "drain" => return node::drain(cluster, &args[1..]),
        _ => {}
    }
    if command == "explain" {
        return explain::explain(&args[1..]);
    }
    if command == "events" {
        return events::events(cluster, &args[1..]);
    }
    if command == "api-resources" {
        return api_resources::api_resources(&args[1..]);
    }
    if command == "wait" {
        return wait::wait(cluster, &args[1..]);
    }
    if command == "set" {
        return set::set(cluster, &args[1..]);
    }
    if command == "patch" {
        return patch::patch(cluster, files, &args[1..]);
    }
    if command == "expose" {
        return expose::expose(cluster, &args[1..]);
    }
    if command == "create" && matches!(args.get(1).map(String::as_str), Some("service" | "svc")) {
        return create_service::create(cluster, &args[2..]);
    }
    if command == "run" {
        return generate_workloads::run(cluster, &args[1..]);
    }
    if command == "create" {
        let generated = ["deployment", "deploy", "job", "cronjob", "cj", "namespace", "ns", "priorityclass", "pc"];
        if let Some(what) = args.get(1).map(String::as_str).filter(|w| generated.contains(w)) {
            return generate_workloads::create(cluster, what, &args[2..]);
        }
    }
    if command == "create" && matches!(args.get(1).map(String::as_str), Some("configmap" | "cm" | "secret")) {
        return generate::create(cluster, files, &args[1..]);
    }
    if !matches!(command.as_str(), "apply" | "create" | "describe" | "get" | "delete" | "scale" | "diff" | "replace" | "version") {
        return unknown_command(command);
    }
    let flags = match args::parse_flags(command, &args[1..]) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    match command.as_str() {
        "apply" | "create" => apply::apply(cluster, files, &flags, command == "create"),
        "describe" => describe::describe(cluster, &flags),
        "get" => get::get(cluster, &flags),
        "delete" => delete::delete(cluster, files, &flags),
        "scale" => scale::scale(cluster, &flags),
        "diff" => diff::diff(cluster, files, &flags.files, flags.namespace.as_deref()),
        "replace" => patch::replace(cluster, files, &flags.files, flags.namespace.as_deref()),
        "version" => Output::ok(format!(
            "Client Version: {v}\nKustomize Version: v5.7.1\nServer Version: {v}\n",
            v = crate::bootstrap::KUBERNETES_VERSION
        )),
        other => unknown_command(other),
    }
}

/// kubectl's commands in the order it registers them (cobra suggests in this order).
const KUBECTL_COMMANDS: &[&str] = &[
    "create",
    "expose",
    "run",
    "set",
    "explain",
    "get",
    "edit",
    "delete",
    "rollout",
    "scale",
    "autoscale",
    "certificate",
    "cluster-info",
    "top",
    "cordon",
    "uncordon",
    "drain",
    "taint",
    "describe",
    "logs",
    "attach",
    "exec",
    "port-forward",
    "proxy",
    "cp",
    "auth",
    "debug",
    "events",
    "diff",
    "apply",
    "patch",
    "replace",
    "wait",
    "kustomize",
    "label",
    "annotate",
    "completion",
    "alpha",
    "api-resources",
    "api-versions",
    "config",
    "plugin",
    "version",
    "options",
];

/// A command kubectl lacks gets cobra's "Did you mean this?"; one kubectl has and kubeplay
/// does not model says so and names the nearest it does.
fn unknown_command(name: &str) -> Output {
    if KUBECTL_COMMANDS.contains(&name) {
        let closest = match name {
            "edit" => "patch (the playground's console opens `kubectl edit` in its editor)",
            "autoscale" => "scale",
            "top" | "certificate" => "describe node",
            "attach" | "debug" | "cp" => "exec -it",
            "proxy" => "port-forward",
            "kustomize" => "apply -f",
            "cluster-info" | "api-versions" | "config" => "api-resources",
            _ => "get",
        };
        return Output::err(format!("error: kubeplay does not model `kubectl {name}`; the nearest it does is `kubectl {closest}`\n"));
    }
    let lower = name.to_lowercase();
    let suggestions: Vec<&str> = KUBECTL_COMMANDS
        .iter()
        .filter(|c| crate::manifest::decode::edit_distance(&lower, c) <= 2 || c.starts_with(lower.as_str()))
        .copied()
        .collect();
    let mut text = format!("error: unknown command \"{name}\" for \"kubectl\"\n");
    if !suggestions.is_empty() {
        text.push_str("\nDid you mean this?\n");
        for s in suggestions {
            text.push_str(&format!("\t{s}\n"));
        }
    }
    Output::err(text)
}
