//! The kubectl subset: `apply`, `get`, `delete`, `scale`. Output and error text follow real
//! kubectl; each command returns its text and whether it succeeded (kubectl's exit status).

pub mod get;
pub mod printers;

use crate::api::kinds::{self, KindInfo};
use crate::api::labels::Selector;
use crate::api::{Object, ObjectKey};
use crate::cluster::Cluster;
use crate::manifest;
use crate::time::SimDuration;

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

/// Parsed flags common to the commands we model.
#[derive(Debug, Default)]
struct Flags {
    positional: Vec<String>,
    namespace: Option<String>,
    all_namespaces: bool,
    output: Option<String>,
    selector: Option<String>,
    field_selector: Option<String>,
    files: Vec<String>,
    replicas: Option<String>,
    all: bool,
    wait: bool,
}

fn parse_flags(command: &str, args: &[String]) -> Result<Flags, String> {
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
            "-n" | "--namespace" | "-o" | "--output" | "-l" | "--selector" | "-f" | "--filename" | "--replicas" | "--field-selector"
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
                _ => f.replicas = Some(v),
            }
        } else if name == "-A" || name == "--all-namespaces" {
            f.all_namespaces = true;
        } else if name == "--all" {
            f.all = true;
        } else if name == "--wait" {
            f.wait = inline.as_deref() != Some("false");
        } else if let Some(short) = name.strip_prefix('-').filter(|s| !s.starts_with('-') && s.len() > 1) {
            // -owide, -nkube-system
            let (flag, rest) = short.split_at(1);
            match flag {
                "o" => f.output = Some(rest.to_string()),
                "n" => f.namespace = Some(rest.to_string()),
                "l" => f.selector = Some(rest.to_string()),
                "f" => f.files.push(rest.to_string()),
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

pub fn run(cluster: &mut Cluster, files: &dyn Files, args: &[String]) -> Output {
    let Some(command) = args.first() else {
        return Output::ok("kubectl controls the Kubernetes cluster manager.\n\nBasic Commands:\n  apply, get, delete, scale\n");
    };
    let flags = match parse_flags(command, &args[1..]) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    match command.as_str() {
        "apply" | "create" => apply(cluster, files, &flags, command == "create"),
        "get" => get(cluster, &flags),
        "delete" => delete(cluster, files, &flags),
        "scale" => scale(cluster, &flags),
        "version" => Output::ok(format!(
            "Client Version: {v}\nKustomize Version: v5.7.1\nServer Version: {v}\n",
            v = crate::bootstrap::KUBERNETES_VERSION
        )),
        other => Output::err(format!(
            "error: unknown command \"{other}\" for \"kubectl\"\nkubeplay models: apply, create -f, get, delete, scale, version\n"
        )),
    }
}

fn namespace(flags: &Flags) -> String {
    flags.namespace.clone().unwrap_or_else(|| "default".into())
}

fn namespace_exists(cluster: &Cluster, ns: &str) -> bool {
    cluster.get(&ObjectKey::new("Namespace", "", ns)).is_some()
}

// ---- apply ------------------------------------------------------------------------------

fn apply(cluster: &mut Cluster, files: &dyn Files, flags: &Flags, create_only: bool) -> Output {
    let verb = if create_only { "create" } else { "apply" };
    if flags.files.is_empty() {
        return Output::err(format!("error: must specify one of -f and -k\n\nSee 'kubectl {verb} -h' for help and examples\n"));
    }
    let mut out = String::new();
    let mut errors = String::new();
    for name in &flags.files {
        let Some(text) = files.read(name) else {
            errors.push_str(&format!("error: the path \"{name}\" does not exist\n"));
            continue;
        };
        let parsed = manifest::parse(name, &text);
        for po in parsed.objects {
            match apply_one(cluster, po.object, flags, create_only, name) {
                Ok(line) => out.push_str(&line),
                Err(e) => errors.push_str(&e),
            }
        }
        for r in parsed.rejected {
            errors.push_str(&r.kubectl_error);
            errors.push('\n');
        }
    }
    cluster.settle();
    let ok = errors.is_empty();
    out.push_str(&errors);
    Output { text: out, ok }
}

fn apply_one(cluster: &mut Cluster, mut object: Object, flags: &Flags, create_only: bool, file: &str) -> Result<String, String> {
    let info = object.info();
    if info.namespaced {
        let ns = object.meta().namespace.clone().or(flags.namespace.clone()).unwrap_or_else(|| "default".into());
        if let (Some(in_file), Some(flag)) = (object.meta().namespace.as_deref(), flags.namespace.as_deref()) {
            if in_file != flag {
                return Err(format!("error: the namespace from the provided object \"{in_file}\" does not match the namespace \"{flag}\". You must pass '--namespace={in_file}' to perform this operation.\n"));
            }
        }
        if !namespace_exists(cluster, &ns) {
            return Err(format!("Error from server (NotFound): error when creating \"{file}\": namespaces \"{ns}\" not found\n"));
        }
        object.meta_mut().namespace = Some(ns);
    } else {
        object.meta_mut().namespace = None;
    }
    let label = format!("{}/{}", info.qualified_singular(), object.name());
    let key = object.key();
    let last_applied = last_applied_configuration(&object);
    match cluster.get(&key).cloned() {
        None => {
            if !create_only {
                object
                    .meta_mut()
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(LAST_APPLIED.into(), last_applied);
            }
            cluster.create(object);
            Ok(format!("{label} created\n"))
        }
        Some(_) if create_only => Err(format!(
            "Error from server (AlreadyExists): error when creating \"{file}\": {} \"{}\" already exists\n",
            info.qualified_plural(),
            key.name
        )),
        Some(existing) => {
            let previous = existing.meta().annotations.as_ref().and_then(|a| a.get(LAST_APPLIED)).cloned();
            if previous.as_deref() == Some(last_applied.as_str()) {
                return Ok(format!("{label} unchanged\n"));
            }
            let merged = merge_applied(cluster, existing, object, last_applied);
            cluster.update(merged);
            Ok(format!("{label} configured\n"))
        }
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The JSON kubectl records of what was applied: the manifest as given, keys sorted.
fn last_applied_configuration(object: &Object) -> String {
    let mut value = object.to_json();
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        if let Some(ann) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
            ann.remove(LAST_APPLIED);
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    format!("{}\n", serde_json::to_string(&value).unwrap_or_default())
}

/// Applies a changed manifest over the live object: the new spec (defaulted), labels and
/// annotations replace the old; status, uid and timestamps stay. (kubectl does a three-way
/// strategic merge; replacing the spec is the same for fields the manifest sets.)
fn merge_applied(cluster: &mut Cluster, existing: Object, mut desired: Object, last_applied: String) -> Object {
    crate::defaults::apply(cluster, &mut desired);
    let old_meta = existing.meta().clone();
    let mut merged = match (existing, desired) {
        (Object::Deployment(mut old), Object::Deployment(new)) => {
            old.spec = new.spec;
            Object::Deployment(old)
        }
        (Object::ReplicaSet(mut old), Object::ReplicaSet(new)) => {
            old.spec = new.spec;
            Object::ReplicaSet(old)
        }
        (Object::Service(mut old), Object::Service(mut new)) => {
            // Allocated addresses survive an apply that does not set them.
            if let (Some(o), Some(n)) = (old.spec.as_ref(), new.spec.as_mut()) {
                n.cluster_ip = o.cluster_ip.clone();
                n.cluster_ips = o.cluster_ips.clone();
            }
            old.spec = new.spec;
            Object::Service(old)
        }
        (Object::Pod(old), Object::Pod(_)) => Object::Pod(old),
        (_, other) => other,
    };
    let meta = merged.meta_mut();
    meta.uid = old_meta.uid;
    meta.creation_timestamp = old_meta.creation_timestamp;
    let mut annotations = meta.annotations.take().unwrap_or_default();
    annotations.insert(LAST_APPLIED.into(), last_applied);
    meta.annotations = Some(annotations);
    merged
}

// ---- get --------------------------------------------------------------------------------

/// `kubectl get all`: the workload kinds it lists, in kubectl's order.
const ALL: [&str; 8] = ["Pod", "Service", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet", "Job", "CronJob"];

fn resolve(arg: &str) -> Result<&'static KindInfo, Output> {
    kinds::by_resource(arg).ok_or_else(|| Output::err(format!("error: the server doesn't have a resource type \"{arg}\"\n")))
}

/// Splits `TYPE[,TYPE] [NAME…]` and `TYPE/NAME …` into (kind, names) requests.
fn requests(positional: &[String]) -> Result<Vec<(&'static KindInfo, Vec<String>)>, Output> {
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

fn get(cluster: &mut Cluster, flags: &Flags) -> Output {
    cluster.settle();
    let format = match flags.output.as_deref() {
        None => get::Format::Table,
        Some("wide") => get::Format::Wide,
        Some("yaml") => get::Format::Yaml,
        Some("json") => get::Format::Json,
        Some("name") => get::Format::Name,
        Some(other) => {
            return Output::err(format!("error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,wide,yaml\n"))
        }
    };
    let reqs = match requests(&flags.positional) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let selector = match flags.selector.as_deref().map(Selector::parse).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return Output::err(format!("error: {e}\n")),
    };
    let fields = match flags.field_selector.as_deref().map(FieldSelector::parse).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let ns = namespace(flags);
    let multi = reqs.len() > 1 || flags.positional[0].contains('/');
    let mut sections = Vec::new();
    let mut errors = String::new();
    for (info, names) in &reqs {
        let scope = (info.namespaced && !flags.all_namespaces).then_some(ns.as_str());
        let objects: Vec<&Object> = if names.is_empty() {
            cluster
                .store()
                .list(info.kind, scope)
                .filter(|o| selector.matches(o.meta().labels.as_ref()) && fields.matches(o))
                .collect()
        } else {
            let mut found = Vec::new();
            for name in names {
                match cluster.get(&ObjectKey::new(info.kind, scope.unwrap_or(""), name)) {
                    Some(o) => found.push(o),
                    None => errors.push_str(&format!("Error from server (NotFound): {} \"{name}\" not found\n", info.qualified_plural())),
                }
            }
            found
        };
        if objects.is_empty() {
            continue;
        }
        let single = names.len() == 1 && reqs.len() == 1;
        let mut text = get::render(cluster, info, &objects, format, flags.all_namespaces, single);
        if multi && matches!(format, get::Format::Table | get::Format::Wide) {
            text = prefix_names(&text, info, flags.all_namespaces && info.namespaced);
        }
        sections.push(text);
    }
    let mut text = sections.join(if matches!(format, get::Format::Table | get::Format::Wide) { "\n" } else { "" });
    if sections.is_empty() && errors.is_empty() {
        text = if flags.all_namespaces || reqs.iter().all(|(i, _)| !i.namespaced) {
            "No resources found\n".into()
        } else {
            format!("No resources found in {ns} namespace.\n")
        };
    }
    let ok = errors.is_empty();
    text.push_str(&errors);
    Output { text, ok }
}

/// In multi-kind listings kubectl writes names as `kind/name` and re-aligns the table.
fn prefix_names(table: &str, info: &KindInfo, namespaced_column: bool) -> String {
    let col = usize::from(namespaced_column);
    let rows: Vec<Vec<String>> = table
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut cells: Vec<String> = split_cells(line);
            if i > 0 && cells.len() > col {
                cells[col] = format!("{}/{}", info.qualified_singular(), cells[col]);
            }
            cells
        })
        .collect();
    printers::table(&rows)
}

/// Splits a rendered table line back into cells (cells are separated by 3+ spaces, and
/// never contain such runs themselves except in the last column).
fn split_cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut rest = line;
    while let Some(pos) = rest.find("   ") {
        cells.push(rest[..pos].to_string());
        rest = rest[pos..].trim_start_matches(' ');
    }
    cells.push(rest.to_string());
    cells
}

/// `--field-selector`: `path=value`, `path==value`, `path!=value`, comma-separated, over the
/// object's JSON (`metadata.name`, `status.phase`, `involvedObject.kind`, `reason`, …).
#[derive(Default)]
struct FieldSelector(Vec<(String, String, bool)>);

impl FieldSelector {
    fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (path, value, equal) = if let Some((p, v)) = part.split_once("!=") {
                (p, v, false)
            } else if let Some((p, v)) = part.split_once("==") {
                (p, v, true)
            } else if let Some((p, v)) = part.split_once('=') {
                (p, v, true)
            } else {
                return Err(format!("error: invalid selector: '{text}'; can't understand '{part}'"));
            };
            reqs.push((path.trim().to_string(), value.trim().to_string(), equal));
        }
        Ok(FieldSelector(reqs))
    }

    fn matches(&self, object: &Object) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let json = object.to_json();
        self.0.iter().all(|(path, value, equal)| {
            let found = path.split('.').try_fold(&json, |v, k| v.get(k));
            let text = match found {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (text == *value) == *equal
        })
    }
}

// ---- delete -----------------------------------------------------------------------------

fn delete(cluster: &mut Cluster, files: &dyn Files, flags: &Flags) -> Output {
    let ns = namespace(flags);
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
    let mut out = String::new();
    let mut deleted = Vec::new();
    for (info, key) in &targets {
        if cluster.delete(key) {
            out.push_str(&format!("{} \"{}\" deleted\n", info.qualified_singular(), key.name));
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

// ---- scale ------------------------------------------------------------------------------

fn scale(cluster: &mut Cluster, flags: &Flags) -> Output {
    let Some(replicas) = flags.replicas.as_deref() else {
        return Output::err("error: required flag(s) \"replicas\" not set\n");
    };
    let Ok(replicas) = replicas.parse::<i32>() else {
        return Output::err(format!("error: invalid argument \"{replicas}\" for \"--replicas\" flag: strconv.ParseInt: parsing \"{replicas}\": invalid syntax\n"));
    };
    if replicas < 0 {
        return Output::err("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n");
    }
    let reqs = match requests(&flags.positional) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let ns = namespace(flags);
    let mut out = String::new();
    let mut errors = String::new();
    for (info, names) in reqs {
        if names.is_empty() {
            return Output::err("error: resource(s) were provided, but no name was specified\n");
        }
        for name in names {
            let key = ObjectKey::new(info.kind, &ns, &name);
            let scaled = match cluster.get(&key).cloned() {
                Some(Object::Deployment(mut d)) => {
                    d.spec.replicas = Some(replicas);
                    Some(Object::Deployment(d))
                }
                Some(Object::ReplicaSet(mut rs)) => {
                    rs.spec.replicas = Some(replicas);
                    Some(Object::ReplicaSet(rs))
                }
                Some(_) => {
                    errors.push_str(&format!("error: cannot scale {} \"{name}\": kubeplay scales deployments and replicasets\n", info.qualified_plural()));
                    None
                }
                None => {
                    errors.push_str(&format!("Error from server (NotFound): {} \"{name}\" not found\n", info.qualified_plural()));
                    None
                }
            };
            if let Some(object) = scaled {
                cluster.update(object);
                out.push_str(&format!("{}/{name} scaled\n", info.qualified_singular()));
            }
        }
    }
    cluster.settle();
    let ok = errors.is_empty();
    out.push_str(&errors);
    Output { text: out, ok }
}
