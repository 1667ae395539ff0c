//! `kubectl api-resources`: the resources this cluster serves, sorted as kubectl sorts them
//! (by API group, then name), with `--namespaced`, `--api-group`, `-o wide|name` and
//! `--no-headers`.

use super::args::ArgWalker;
use super::printers;
use super::Output;
use crate::api::kinds::{KindInfo, KINDS};

pub(super) fn api_resources(args: &[String]) -> Output {
    let (mut namespaced, mut group, mut output, mut no_headers) = (None, None, None, false);
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        match arg.name {
            "--namespaced" => namespaced = Some(arg.inline != Some("false")),
            "--api-group" => match walker.value(&arg) {
                Ok(v) => group = Some(v),
                Err(e) => return Output::err(format!("{e}\n")),
            },
            "-o" | "--output" => match walker.value(&arg) {
                Ok(v) => output = Some(v),
                Err(e) => return Output::err(format!("{e}\n")),
            },
            "--no-headers" => no_headers = true,
            name => return Output::err(format!("error: unknown flag: {name}\nSee 'kubectl api-resources --help' for usage.\n")),
        }
    }
    if let Some(o) = output.as_deref().filter(|o| !matches!(*o, "wide" | "name")) {
        return Output::err(format!("error: --output {o} is not available\n"));
    }
    let mut kinds: Vec<&KindInfo> = KINDS
        .iter()
        .filter(|k| namespaced.is_none_or(|n| n == k.namespaced))
        .filter(|k| group.as_deref().is_none_or(|g| g == k.group))
        .collect();
    kinds.sort_by(|a, b| a.group.cmp(b.group).then(a.plural.cmp(b.plural)));
    if output.as_deref() == Some("name") {
        return Output::ok(kinds.iter().map(|k| format!("{}\n", k.qualified_plural())).collect::<String>());
    }
    let wide = output.as_deref() == Some("wide");
    let mut rows = Vec::new();
    if !no_headers {
        let mut h = vec!["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"];
        if wide {
            h.extend(["VERBS", "CATEGORIES"]);
        }
        rows.push(h.into_iter().map(str::to_string).collect::<Vec<_>>());
    }
    for k in kinds {
        let mut r = vec![k.plural.to_string(), k.short_names.join(","), k.api_version(), k.namespaced.to_string(), k.kind.to_string()];
        if wide {
            r.push(VERBS.to_string());
            r.push(categories(k).to_string());
        }
        rows.push(r);
    }
    Output::ok(printers::table(&rows))
}

/// Every resource kubeplay serves takes the full set of verbs.
const VERBS: &str = "create,delete,deletecollection,get,list,patch,update,watch";

/// The `all` category `kubectl get all` lists.
fn categories(k: &KindInfo) -> &'static str {
    match k.kind {
        "Pod"
        | "Service"
        | "ReplicationController"
        | "DaemonSet"
        | "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "Job"
        | "CronJob"
        | "HorizontalPodAutoscaler" => "all",
        _ => "",
    }
}
