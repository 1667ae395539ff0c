//! `kubectl run NAME --image=…` and `kubectl create deployment|job|cronjob|namespace|priorityclass`, with
//! `--dry-run=client -o yaml|json|name` byte-identical to kubectl v1.37 (JSON in Go's struct
//! field order, empty structs such as `resources: {}` and `status: {}` included) and, without
//! a dry run, the object created in the cluster.

use serde_json::{Map, Value};

use super::args::ArgWalker;
use super::{printers, Output};
use crate::api::ObjectKey;
use crate::manifest;
use crate::sim::Cluster;

/// A JSON value that keeps its fields in the order Go declares them.
#[derive(Clone, Debug)]
enum J {
    Str(String),
    Int(i64),
    Bool(bool),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
    /// A map with keys kubectl sorts (labels, annotations).
    Map(Vec<(String, String)>),
}

fn s(v: impl Into<String>) -> J {
    J::Str(v.into())
}

impl J {
    fn to_value(&self) -> Value {
        match self {
            J::Str(v) => Value::String(v.clone()),
            J::Int(i) => Value::from(*i),
            J::Bool(b) => Value::from(*b),
            J::Arr(a) => Value::Array(a.iter().map(J::to_value).collect()),
            J::Obj(fields) => Value::Object(fields.iter().map(|(k, v)| (k.to_string(), v.to_value())).collect::<Map<_, _>>()),
            J::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()),
        }
    }

    fn go_json(&self, level: usize, out: &mut String) {
        let pad = |n: usize| "    ".repeat(n);
        match self {
            J::Str(_) | J::Int(_) | J::Bool(_) => out.push_str(printers::json(&self.to_value()).trim_end()),
            J::Arr(a) if a.is_empty() => out.push_str("[]"),
            J::Obj(f) if f.is_empty() => out.push_str("{}"),
            J::Map(m) if m.is_empty() => out.push_str("{}"),
            J::Arr(a) => {
                out.push_str("[\n");
                for (i, v) in a.iter().enumerate() {
                    out.push_str(&pad(level + 1));
                    v.go_json(level + 1, out);
                    out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(level));
                out.push(']');
            }
            J::Obj(_) | J::Map(_) => {
                let entries: Vec<(String, J)> = match self {
                    J::Obj(f) => f.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
                    J::Map(m) => m.iter().map(|(k, v)| (k.clone(), J::Str(v.clone()))).collect(),
                    _ => Vec::new(),
                };
                out.push_str("{\n");
                for (i, (k, v)) in entries.iter().enumerate() {
                    out.push_str(&pad(level + 1));
                    out.push_str(printers::json(&Value::String(k.clone())).trim_end());
                    out.push_str(": ");
                    v.go_json(level + 1, out);
                    out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(level));
                out.push('}');
            }
        }
    }
}

#[derive(Default)]
struct Flags {
    names: Vec<String>,
    images: Vec<String>,
    port: Option<String>,
    replicas: Option<String>,
    env: Vec<String>,
    labels: Option<String>,
    annotations: Vec<String>,
    restart: Option<String>,
    pull_policy: Option<String>,
    schedule: Option<String>,
    from: Option<String>,
    command: bool,
    rm: bool,
    interactive: bool,
    dry_run: Option<String>,
    output: Option<String>,
    namespace: Option<String>,
    /// Words after `--`.
    rest: Vec<String>,
    // `create priorityclass`.
    value: Option<String>,
    description: Option<String>,
    global_default: bool,
    preemption_policy: Option<String>,
}

fn parse(usage: &str, args: &[String]) -> Result<Flags, String> {
    let (args, rest) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], args[i + 1..].to_vec()),
        None => (args, Vec::new()),
    };
    let mut f = Flags { rest, ..Default::default() };
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        match arg.name {
            "--image" => f.images.push(walker.value(&arg)?),
            "--port" => f.port = Some(walker.value(&arg)?),
            "--replicas" | "-r" => f.replicas = Some(walker.value(&arg)?),
            "--env" => f.env.push(walker.value(&arg)?),
            "-l" | "--labels" => f.labels = Some(walker.value(&arg)?),
            "--annotations" => f.annotations.push(walker.value(&arg)?),
            "--restart" => f.restart = Some(walker.value(&arg)?),
            "--image-pull-policy" => f.pull_policy = Some(walker.value(&arg)?),
            "--schedule" => f.schedule = Some(walker.value(&arg)?),
            "--from" => f.from = Some(walker.value(&arg)?),
            "--command" => f.command = arg.inline != Some("false"),
            "--rm" => f.rm = arg.inline != Some("false"),
            "-i" | "-t" | "-it" | "-ti" | "--stdin" | "--tty" => f.interactive = true,
            "--dry-run" => f.dry_run = Some(arg.inline.unwrap_or("client").to_string()),
            "-o" | "--output" => f.output = Some(walker.value(&arg)?),
            "-n" | "--namespace" => f.namespace = Some(walker.value(&arg)?),
            "--value" => f.value = Some(walker.value(&arg)?),
            "--description" => f.description = Some(walker.value(&arg)?),
            "--global-default" => f.global_default = arg.inline != Some("false"),
            "--preemption-policy" => f.preemption_policy = Some(walker.value(&arg)?),
            name if name.starts_with('-') && name.len() > 1 => {
                return Err(format!("error: unknown flag: {name}\nSee 'kubectl {usage} --help' for usage."));
            }
            word => f.names.push(word.to_string()),
        }
    }
    Ok(f)
}

/// `kubectl run NAME --image=IMAGE …`: one Pod.
pub(super) fn run(cluster: &mut Cluster, args: &[String]) -> Output {
    let f = match parse("run", args) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let Some(name) = f.names.first().cloned() else {
        return Output::err("error: NAME is required for run\n");
    };
    let Some(image) = f.images.last().cloned() else {
        return Output::err("error: required flag(s) \"image\" not set\n");
    };
    if f.rm && !f.interactive {
        return Output::err("error: --rm should only be used for attached containers\n");
    }
    if f.interactive && f.dry_run.is_none() {
        return Output::err(format!(
            "error: kubeplay does not attach to a Pod `kubectl run` starts; run it without -i/-t, then `kubectl exec -it {name} -- sh`\n"
        ));
    }
    let restart = f.restart.clone().unwrap_or_else(|| "Always".into());
    if !matches!(restart.as_str(), "Always" | "OnFailure" | "Never") {
        return Output::err(format!("error: invalid restart policy: {restart}, valid values are: Always, OnFailure, Never\n"));
    }
    let labels = match &f.labels {
        Some(spec) => match pairs(spec.split(','), "label") {
            Ok(l) => l,
            Err(e) => return Output::err(e),
        },
        None => vec![("run".to_string(), name.clone())],
    };
    let annotations = match pairs(f.annotations.iter().map(String::as_str), "annotation") {
        Ok(a) => a,
        Err(e) => return Output::err(e),
    };
    let mut container = vec![("name", s(&name)), ("image", s(&image))];
    if !f.rest.is_empty() {
        let words = J::Arr(f.rest.iter().map(s).collect());
        container.push((if f.command { "command" } else { "args" }, words));
    }
    if let Some(port) = &f.port {
        let Ok(p) = port.parse::<i64>() else { return Output::err("error: --port must be a number\n") };
        container.push(("ports", J::Arr(vec![J::Obj(vec![("containerPort", J::Int(p))])])));
    }
    if !f.env.is_empty() {
        let mut env = Vec::new();
        for e in &f.env {
            let Some((k, v)) = e.split_once('=') else {
                return Output::err(format!("error: invalid env: {e}\n"));
            };
            env.push(J::Obj(vec![("name", s(k)), ("value", s(v))]));
        }
        container.push(("env", J::Arr(env)));
    }
    container.push(("resources", J::Obj(vec![])));
    if let Some(p) = &f.pull_policy {
        container.push(("imagePullPolicy", s(p)));
    }
    let pod = J::Obj(vec![
        ("kind", s("Pod")),
        ("apiVersion", s("v1")),
        ("metadata", metadata(&name, f.namespace.as_deref(), labels, annotations)),
        (
            "spec",
            J::Obj(vec![("containers", J::Arr(vec![J::Obj(container)])), ("restartPolicy", s(restart)), ("dnsPolicy", s("ClusterFirst"))]),
        ),
        ("status", J::Obj(vec![])),
    ]);
    finish(cluster, &f, pod, "pod", &name)
}

/// `kubectl create deployment|job|cronjob|namespace NAME …`.
pub(super) fn create(cluster: &mut Cluster, what: &str, args: &[String]) -> Output {
    let usage = format!("create {what}");
    let f = match parse(&usage, args) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let Some(name) = f.names.first().cloned().filter(|_| f.names.len() == 1) else {
        return Output::err(format!(
            "error: exactly one NAME is required, got {}\nSee 'kubectl {usage} -h' for help and examples\n",
            f.names.len()
        ));
    };
    let ns = f.namespace.as_deref();
    let command = |c: &mut Vec<(&'static str, J)>| {
        if !f.rest.is_empty() {
            c.push(("command", J::Arr(f.rest.iter().map(s).collect())));
        }
    };
    let (object, singular) = match what {
        "deployment" | "deploy" => {
            if f.images.is_empty() {
                return Output::err("error: required flag(s) \"image\" not set\n");
            }
            let replicas = match f.replicas.as_deref().map(str::parse::<i64>) {
                None => 1,
                Some(Ok(r)) => r,
                Some(Err(_)) => {
                    return Output::err(format!(
                        "error: invalid argument {:?} for \"-r, --replicas\" flag: strconv.ParseInt: parsing {:?}: invalid syntax\nSee 'kubectl create deployment --help' for usage.\n",
                        f.replicas.clone().unwrap_or_default(),
                        f.replicas.clone().unwrap_or_default()
                    ))
                }
            };
            let mut names: Vec<String> = Vec::new();
            let mut containers = Vec::new();
            for image in &f.images {
                let base = image.rsplit('/').next().unwrap_or(image);
                let base = base.split('@').next().unwrap_or(base).split(':').next().unwrap_or(base).replace('_', "-");
                let mut cname = base.clone();
                let mut n = 1;
                while names.contains(&cname) {
                    n += 1;
                    cname = format!("{base}-{n}");
                }
                names.push(cname.clone());
                let mut c = vec![("name", s(cname)), ("image", s(image))];
                command(&mut c);
                if let Some(port) = &f.port {
                    let Ok(p) = port.parse::<i64>() else {
                        return Output::err(format!(
                            "error: invalid argument {port:?} for \"--port\" flag: strconv.ParseInt: parsing {port:?}: invalid syntax\n"
                        ));
                    };
                    c.push(("ports", J::Arr(vec![J::Obj(vec![("containerPort", J::Int(p))])])));
                }
                c.push(("resources", J::Obj(vec![])));
                containers.push(J::Obj(c));
            }
            let labels = vec![("app".to_string(), name.clone())];
            let d = J::Obj(vec![
                ("kind", s("Deployment")),
                ("apiVersion", s("apps/v1")),
                ("metadata", metadata(&name, ns, labels.clone(), Vec::new())),
                (
                    "spec",
                    J::Obj(vec![
                        ("replicas", J::Int(replicas)),
                        ("selector", J::Obj(vec![("matchLabels", J::Map(labels.clone()))])),
                        (
                            "template",
                            J::Obj(vec![
                                ("metadata", J::Obj(vec![("labels", J::Map(labels))])),
                                ("spec", J::Obj(vec![("containers", J::Arr(containers))])),
                            ]),
                        ),
                        ("strategy", J::Obj(vec![])),
                    ]),
                ),
                ("status", J::Obj(vec![])),
            ]);
            (d, "deployment.apps")
        }
        "job" => {
            if let Some(from) = &f.from {
                return job_from_cronjob(cluster, &f, &name, from);
            }
            let Some(image) = f.images.last() else {
                return Output::err("error: either --image or --from must be specified\n");
            };
            let mut c = vec![("name", s(&name)), ("image", s(image))];
            command(&mut c);
            c.push(("resources", J::Obj(vec![])));
            let template = J::Obj(vec![
                ("metadata", J::Obj(vec![])),
                ("spec", J::Obj(vec![("containers", J::Arr(vec![J::Obj(c)])), ("restartPolicy", s("Never"))])),
            ]);
            let job = J::Obj(vec![
                ("kind", s("Job")),
                ("apiVersion", s("batch/v1")),
                ("metadata", metadata(&name, ns, Vec::new(), Vec::new())),
                ("spec", J::Obj(vec![("template", template)])),
                ("status", J::Obj(vec![])),
            ]);
            (job, "job.batch")
        }
        "cronjob" | "cj" => {
            let (Some(image), Some(schedule)) = (f.images.last(), &f.schedule) else {
                let missing: Vec<&str> = [("\"image\"", f.images.is_empty()), ("\"schedule\"", f.schedule.is_none())]
                    .iter()
                    .filter(|(_, m)| *m)
                    .map(|(n, _)| *n)
                    .collect();
                return Output::err(format!("error: required flag(s) {} not set\n", missing.join(", ")));
            };
            let mut c = vec![("name", s(&name)), ("image", s(image))];
            command(&mut c);
            c.push(("resources", J::Obj(vec![])));
            let restart = f.restart.clone().unwrap_or_else(|| "OnFailure".into());
            let template = J::Obj(vec![
                ("metadata", J::Obj(vec![])),
                ("spec", J::Obj(vec![("containers", J::Arr(vec![J::Obj(c)])), ("restartPolicy", s(restart))])),
            ]);
            let mut job_meta = vec![("name", s(&name))];
            if let Some(n) = ns {
                job_meta.push(("namespace", s(n)));
            }
            let cj = J::Obj(vec![
                ("kind", s("CronJob")),
                ("apiVersion", s("batch/v1")),
                ("metadata", metadata(&name, ns, Vec::new(), Vec::new())),
                (
                    "spec",
                    J::Obj(vec![
                        ("schedule", s(schedule)),
                        ("jobTemplate", J::Obj(vec![("metadata", J::Obj(job_meta)), ("spec", J::Obj(vec![("template", template)]))])),
                    ]),
                ),
                ("status", J::Obj(vec![])),
            ]);
            (cj, "cronjob.batch")
        }
        "priorityclass" | "pc" => {
            let value = match f.value.as_deref().map(str::parse::<i32>) {
                None => 0,
                Some(Ok(v)) => v,
                Some(Err(_)) => {
                    let v = f.value.clone().unwrap_or_default();
                    return Output::err(format!(
                        "error: invalid argument {v:?} for \"--value\" flag: strconv.ParseInt: parsing {v:?}: invalid syntax\nSee 'kubectl create priorityclass --help' for usage.\n"
                    ));
                }
            };
            let mut fields = vec![
                ("kind", s("PriorityClass")),
                ("apiVersion", s("scheduling.k8s.io/v1")),
                ("metadata", J::Obj(vec![("name", s(&name))])),
                ("value", J::Int(i64::from(value))),
            ];
            if f.global_default {
                fields.push(("globalDefault", J::Bool(true)));
            }
            if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
                fields.push(("description", s(d)));
            }
            fields.push(("preemptionPolicy", s(f.preemption_policy.as_deref().unwrap_or("PreemptLowerPriority"))));
            (J::Obj(fields), "priorityclass.scheduling.k8s.io")
        }
        _ => {
            let n = J::Obj(vec![
                ("kind", s("Namespace")),
                ("apiVersion", s("v1")),
                ("metadata", J::Obj(vec![("name", s(&name))])),
                ("spec", J::Obj(vec![])),
                ("status", J::Obj(vec![])),
            ]);
            (n, "namespace")
        }
    };
    finish(cluster, &f, object, singular, &name)
}

fn metadata(name: &str, namespace: Option<&str>, labels: Vec<(String, String)>, annotations: Vec<(String, String)>) -> J {
    let mut m = vec![("name", s(name))];
    if let Some(ns) = namespace {
        m.push(("namespace", s(ns)));
    }
    if !labels.is_empty() {
        m.push(("labels", J::Map(sorted(labels))));
    }
    if !annotations.is_empty() {
        m.push(("annotations", J::Map(sorted(annotations))));
    }
    J::Obj(m)
}

fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort();
    pairs.dedup_by(|a, b| a.0 == b.0);
    pairs
}

fn pairs<'a>(items: impl Iterator<Item = &'a str>, what: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for item in items.filter(|i| !i.is_empty()) {
        let Some((k, v)) = item.split_once('=') else {
            return Err(format!("error: unexpected {what} spec: {item}\n"));
        };
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// `kubectl create job NAME --from=cronjob/CJ`: the CronJob's job template, owned by it and
/// marked `cronjob.kubernetes.io/instantiate: manual`.
fn job_from_cronjob(cluster: &mut Cluster, f: &Flags, name: &str, from: &str) -> Output {
    if !f.rest.is_empty() {
        return Output::err("error: cannot specify --from and command\n");
    }
    let Some(cj_name) = from.strip_prefix("cronjob/").or_else(|| from.strip_prefix("cronjobs/")).or_else(|| from.strip_prefix("cj/"))
    else {
        return Output::err("error: from must be an existing cronjob\n");
    };
    let namespace = f.namespace.clone().unwrap_or_else(|| "default".into());
    let Some(cj) = cluster.get(&ObjectKey::new("CronJob", &namespace, cj_name)).map(|o| o.to_json()) else {
        return Output::err(format!("Error from server (NotFound): cronjobs.batch {cj_name:?} not found\n"));
    };
    let template = cj.pointer("/spec/jobTemplate").cloned().unwrap_or(Value::Null);
    let mut annotations: Map<String, Value> =
        template.pointer("/metadata/annotations").and_then(Value::as_object).cloned().unwrap_or_default();
    annotations.insert("cronjob.kubernetes.io/instantiate".into(), "manual".into());
    let mut meta = serde_json::json!({
        "name": name,
        "annotations": annotations,
        "ownerReferences": [{"apiVersion": "batch/v1", "controller": true, "kind": "CronJob", "name": cj_name, "uid": cj.pointer("/metadata/uid").cloned().unwrap_or(Value::Null)}],
    });
    if let Some(labels) = template.pointer("/metadata/labels") {
        meta["labels"] = labels.clone();
    }
    if f.namespace.is_some() {
        meta["namespace"] = Value::String(namespace.clone());
    }
    let job = serde_json::json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": template.get("spec").cloned().unwrap_or(Value::Null), "status": {}});
    emit(cluster, f, job, None, "job.batch", name)
}

fn finish(cluster: &mut Cluster, f: &Flags, object: J, singular: &str, name: &str) -> Output {
    let mut json = String::new();
    object.go_json(0, &mut json);
    json.push('\n');
    emit(cluster, f, object.to_value(), Some(json), singular, name)
}

/// Prints a dry run, or creates the object.
fn emit(cluster: &mut Cluster, f: &Flags, value: Value, go_json: Option<String>, singular: &str, name: &str) -> Output {
    let label = format!("{singular}/{name}");
    match f.dry_run.as_deref() {
        Some("client" | "server") => {
            let suffix = if f.dry_run.as_deref() == Some("server") { " (server dry run)" } else { " (dry run)" };
            return match f.output.as_deref() {
                None => Output::ok(format!("{label} created{suffix}\n")),
                Some("name") => Output::ok(format!("{label}\n")),
                Some("yaml") => Output::ok(printers::yaml(&value)),
                Some("json") => Output::ok(go_json.unwrap_or_else(|| printers::json(&value))),
                Some(other) => Output::err(format!(
                    "error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,kyaml,name,template,templatefile,yaml\n"
                )),
            };
        }
        Some("none") | None => {}
        Some(other) => {
            return Output::err(format!("error: Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\".\n"))
        }
    }
    let mut value = value;
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.entry("namespace").or_insert_with(|| Value::String(f.namespace.clone().unwrap_or_else(|| "default".into())));
    }
    let parsed = manifest::parse_value("", value);
    let Some(object) = parsed.objects.into_iter().next().map(|p| p.object) else {
        let message = parsed.rejected.first().map(|r| r.kubectl_error.clone()).unwrap_or_default();
        return Output::err(format!("{message}\n"));
    };
    let mut object = object;
    if !object.info().namespaced {
        object.meta_mut().namespace = None;
    }
    if cluster.get(&object.key()).is_some() {
        return Output::err(format!("Error from server (AlreadyExists): {} {name:?} already exists\n", object.info().qualified_plural()));
    }
    if let Err(e) = cluster.create(object) {
        return Output::err(format!("Error from server: {e}\n"));
    }
    cluster.settle();
    Output::ok(format!("{label} created\n"))
}
