//! kubectl's command line: flags, resource arguments (`pods`, `deploy/web`, `pods,svc`) and
//! the namespace they default to.

use super::Output;
use crate::api::kinds::{self, KindInfo};
use crate::api::ObjectKey;
use crate::sim::Cluster;

/// Parsed flags common to the commands we model.
#[derive(Debug, Default)]
pub(super) struct Flags {
    pub(super) positional: Vec<String>,
    pub(super) namespace: Option<String>,
    /// The namespace came from the kubeconfig context, not `--namespace`: kubectl does not
    /// enforce it on objects that name their own.
    pub(super) namespace_from_context: bool,
    pub(super) all_namespaces: bool,
    pub(super) output: Option<String>,
    pub(super) selector: Option<String>,
    pub(super) field_selector: Option<String>,
    pub(super) files: Vec<String>,
    pub(super) replicas: Option<String>,
    pub(super) all: bool,
    pub(super) show_labels: bool,
    /// `--subresource=status|scale`.
    pub(super) subresource: Option<String>,
    /// `kubectl delete --grace-period`, `--now`, `--force`.
    pub(super) grace_period: Option<String>,
    pub(super) now: bool,
    pub(super) force: bool,
    /// `kubectl scale --current-replicas`: a precondition.
    pub(super) current_replicas: Option<String>,
    /// `--sort-by`: a JSONPath expression.
    pub(super) sort_by: Option<String>,
    pub(super) no_headers: bool,
    pub(super) show_kind: bool,
    /// `-L`/`--label-columns`, comma-separated and repeatable.
    pub(super) label_columns: Vec<String>,
    pub(super) wait: bool,
    /// `--cascade`: background (the default), foreground or orphan.
    pub(super) cascade: Option<String>,
}

/// How the session passes the context's namespace to the commands that parse these flags.
pub const CONTEXT_NAMESPACE_FLAG: &str = "--kubeplay-context-namespace";

pub(super) fn parse_flags(command: &str, args: &[String]) -> Result<Flags, String> {
    let mut f = Flags { wait: true, ..Default::default() };
    let mut i = 0;
    let usage = |flag: &str| format!("error: unknown flag: {flag}\nSee 'kubectl {command} --help' for usage.");
    while i < args.len() {
        let arg = &args[i];
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with('-') => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let takes_value = matches!(
            name.as_str(),
            "-n" | "--namespace"
                | "-o"
                | "--output"
                | "-l"
                | "--selector"
                | "-f"
                | "--filename"
                | "--replicas"
                | "--field-selector"
                | "-L"
                | "--label-columns"
                | "--sort-by"
                | "--current-replicas"
                | "--grace-period"
                | "--subresource"
        );
        let mut value = || -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i).cloned().ok_or_else(|| format!("error: flag needs an argument: {name}"))
        };
        if takes_value {
            let v = value()?;
            match name.as_str() {
                "-n" | "--namespace" => f.namespace = Some(v),
                "-o" | "--output" => f.output = Some(v),
                "-l" | "--selector" => f.selector = Some(v),
                "-f" | "--filename" => f.files.push(v),
                "--field-selector" => f.field_selector = Some(v),
                "--sort-by" => f.sort_by = Some(v),
                "--current-replicas" => f.current_replicas = Some(v),
                "--grace-period" => f.grace_period = Some(v),
                "--subresource" => f.subresource = Some(v),
                "-L" | "--label-columns" => f.label_columns.extend(v.split(',').map(|k| k.trim().to_string())),
                _ => f.replicas = Some(v),
            }
        } else if name == CONTEXT_NAMESPACE_FLAG {
            if f.namespace.is_none() {
                f.namespace = inline.clone();
                f.namespace_from_context = true;
            }
        } else if name == "-A" || name == "--all-namespaces" {
            f.all_namespaces = true;
        } else if name == "--all" {
            f.all = true;
        } else if name == "--show-labels" {
            f.show_labels = true;
        } else if name == "--now" {
            f.now = inline.as_deref() != Some("false");
        } else if name == "--force" {
            f.force = inline.as_deref() != Some("false");
        } else if name == "--no-headers" {
            f.no_headers = inline.as_deref() != Some("false");
        } else if name == "--show-kind" {
            f.show_kind = inline.as_deref() != Some("false");
        } else if name == "--wait" {
            f.wait = inline.as_deref() != Some("false");
        } else if name == "--cascade" {
            // `--cascade` alone is `true`; true/false are the deprecated spellings.
            let policy = match inline.as_deref() {
                None | Some("true") | Some("background") => "background",
                Some("false") | Some("orphan") => "orphan",
                Some("foreground") => "foreground",
                Some(other) => {
                    return Err(format!("error: invalid cascade value ({other}). Must be \"background\", \"foreground\", or \"orphan\""));
                }
            };
            f.cascade = Some(policy.to_string());
        } else if let Some(short) = name.strip_prefix('-').filter(|s| !s.starts_with('-') && s.len() > 1) {
            // -owide, -nkube-system
            let (flag, rest) = short.split_at(1);
            match flag {
                "o" => f.output = Some(rest.to_string()),
                "n" => f.namespace = Some(rest.to_string()),
                "l" => f.selector = Some(rest.to_string()),
                "f" => f.files.push(rest.to_string()),
                "L" => f.label_columns.extend(rest.split(',').map(|k| k.trim().to_string())),
                _ => return Err(format!("error: unknown shorthand flag: '{flag}' in {arg}\nSee 'kubectl {command} --help' for usage.")),
            }
        } else if name.starts_with('-') && name.len() > 1 {
            return Err(usage(&name));
        } else {
            f.positional.push(arg.clone());
        }
        i += 1;
    }
    Ok(f)
}

/// Walks command-line words as cobra reads them: `--flag=value`, `--flag value`, and
/// positional words. Commands whose flags differ from the common set (`logs`, the generators)
/// read their own with it.
pub(super) struct ArgWalker<'a> {
    args: &'a [String],
    i: usize,
}

/// One word: a flag's name with the value written after `=`, or a positional word.
pub(super) struct Arg<'a> {
    pub(super) name: &'a str,
    pub(super) inline: Option<&'a str>,
}

impl<'a> ArgWalker<'a> {
    pub(super) fn new(args: &'a [String]) -> ArgWalker<'a> {
        ArgWalker { args, i: 0 }
    }

    pub(super) fn next_arg(&mut self) -> Option<Arg<'a>> {
        let arg = self.args.get(self.i)?.as_str();
        self.i += 1;
        Some(match arg.split_once('=') {
            Some((name, v)) if name.starts_with('-') => Arg { name, inline: Some(v) },
            _ => Arg { name: arg, inline: None },
        })
    }

    /// The flag's value: after `=`, or the next word.
    pub(super) fn value(&mut self, arg: &Arg<'_>) -> Result<String, String> {
        if let Some(v) = arg.inline {
            return Ok(v.to_string());
        }
        let v = self.args.get(self.i).cloned().ok_or_else(|| format!("error: flag needs an argument: {}", arg.name))?;
        self.i += 1;
        Ok(v)
    }
}

/// A manifest object's namespace as kubectl sends it: its own, else `-n`'s, else `default`;
/// none for a cluster-scoped kind.
pub(super) fn place_in_namespace(object: &mut crate::api::Object, namespace: Option<&str>) {
    let ns = object
        .info()
        .namespaced
        .then(|| object.meta().namespace.clone().or(namespace.map(str::to_string)).unwrap_or_else(|| "default".into()));
    object.meta_mut().namespace = ns;
}

pub(super) fn namespace(flags: &Flags) -> String {
    flags.namespace.clone().unwrap_or_else(|| "default".into())
}

pub(super) fn namespace_exists(cluster: &Cluster, ns: &str) -> bool {
    cluster.get(&ObjectKey::new("Namespace", "", ns)).is_some()
}

/// `kubectl get all`: the workload kinds it lists, in kubectl's order.
pub(super) const ALL: [&str; 8] = ["Pod", "Service", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet", "Job", "CronJob"];

pub(super) fn resolve(arg: &str) -> Result<&'static KindInfo, Output> {
    kinds::by_resource(arg).ok_or_else(|| Output::err(format!("error: the server doesn't have a resource type \"{arg}\"\n")))
}

/// Splits `TYPE[,TYPE] [NAME…]` and `TYPE/NAME …` into (kind, names) requests.
pub(super) fn requests(positional: &[String]) -> Result<Vec<(&'static KindInfo, Vec<String>)>, Output> {
    let Some(first) = positional.first() else {
        return Err(Output::err("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples\n"));
    };
    if first.contains('/') {
        let mut out: Vec<(&'static KindInfo, Vec<String>)> = Vec::new();
        for p in positional {
            let Some((ty, name)) = p.split_once('/') else {
                return Err(Output::err("error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'\n"));
            };
            let info = resolve(ty)?;
            match out.iter_mut().find(|(i, _)| *i == info) {
                Some((_, names)) => names.push(name.to_string()),
                None => out.push((info, vec![name.to_string()])),
            }
        }
        return Ok(out);
    }
    let names: Vec<String> = positional[1..].to_vec();
    let mut out = Vec::new();
    for ty in first.split(',') {
        if ty == "all" {
            out.extend(ALL.iter().map(|k| (kinds::kind(k), names.clone())));
        } else {
            out.push((resolve(ty)?, names.clone()));
        }
    }
    Ok(out)
}
