//! `kubectl wait --for=condition=C[=V]|delete|create|jsonpath=EXPR[=V] --timeout=D`: virtual
//! time passes until each named object meets the condition (`condition met`) or the timeout
//! (30s by default) runs out, as kubectl 1.37 words it.

use serde_json::Value;

use super::args::{resolve, ArgWalker};
use super::jsonpath::{self, Template};
use super::Output;
use crate::api::kinds::KindInfo;
use crate::api::labels::Selector;
use crate::api::ObjectKey;
use crate::sim::Cluster;
use crate::time::SimDuration;

#[derive(Clone)]
enum For {
    Delete,
    Create,
    Condition { name: String, status: String },
    JsonPath { expr: Template, value: Option<String> },
}

pub(super) fn wait(cluster: &mut Cluster, args: &[String]) -> Output {
    let mut namespace = "default".to_string();
    let mut conditions: Vec<String> = Vec::new();
    let mut timeout = SimDuration::from_secs(30);
    let (mut selector, mut all) = (None, false);
    let mut positional = Vec::new();
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        let mut value = || walker.value(&arg).map_err(|e| Output::err(format!("{e}\n")));
        let result = match arg.name {
            "-n" | "--namespace" => value().map(|v| namespace = v),
            "--for" => value().map(|v| conditions.push(v)),
            "-l" | "--selector" => value().map(|v| selector = Some(v)),
            "--all" => {
                all = arg.inline != Some("false");
                Ok(())
            }
            "--timeout" => value().and_then(|v| {
                // A negative timeout waits "a week" (kubectl: forever).
                let parsed = if v.starts_with('-') { Some(SimDuration::from_secs(7 * 24 * 3600)) } else { SimDuration::parse(&v) };
                parsed.map(|t| timeout = t).ok_or_else(|| {
                    Output::err(format!("error: invalid argument {v:?} for \"--timeout\" flag: time: invalid duration {v:?}\n"))
                })
            }),
            name if name.starts_with('-') && name.len() > 1 => {
                Err(Output::err(format!("error: unknown flag: {name}\nSee 'kubectl wait --help' for usage.\n")))
            }
            name => {
                positional.push(name.to_string());
                Ok(())
            }
        };
        if let Err(e) = result {
            return e;
        }
    }
    let conditions = match parse_conditions(&conditions) {
        Ok(c) => c,
        Err(e) => return Output::err(format!("error: {e}\n")),
    };
    let targets = match targets(cluster, &positional, &namespace, selector.as_deref(), all) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let deadline = cluster.now().plus(timeout);
    let mut out = Output::ok("");
    let mut visited = 0;
    for (info, key) in targets {
        for condition in &conditions {
            let exists = cluster.get(&key).is_some();
            if !exists && !matches!(condition, For::Delete | For::Create) {
                out.ok = false;
                out.text.push_str(&format!("Error from server (NotFound): {} {:?} not found\n", info.qualified_plural(), key.name));
                return out;
            }
            if !exists && matches!(condition, For::Delete) {
                continue; // kubectl ignores what is already gone.
            }
            visited += 1;
            let left = deadline.since(cluster.now());
            let met = cluster.run_while(left, |c| met(c, &key, condition));
            if !met {
                out.ok = false;
                let what = if matches!(condition, For::Create) { String::new() } else { format!(" on {}/{}", info.plural, key.name) };
                out.text.push_str(&format!("error: timed out waiting for the condition{what}\n"));
                return out;
            }
            out.text.push_str(&format!("{}/{} condition met\n", info.qualified_singular(), key.name));
        }
    }
    // Waiting for what is already gone succeeds at once; waiting on nothing else is an error.
    let for_delete = conditions.iter().any(|c| matches!(c, For::Delete));
    if visited == 0 && out.text.is_empty() && !for_delete {
        return Output::err("error: no matching resources found\n");
    }
    out
}

fn parse_conditions(raw: &[String]) -> Result<Vec<For>, String> {
    let mut out = Vec::new();
    for cond in raw {
        let lower = cond.to_lowercase();
        if lower == "delete" {
            out.push(For::Delete);
        } else if lower == "create" {
            out.push(For::Create);
        } else if let Some(rest) = cond.strip_prefix("condition=") {
            let (name, status) = rest.split_once('=').unwrap_or((rest, "true"));
            out.push(For::Condition { name: name.to_string(), status: status.to_string() });
        } else if let Some(rest) = cond.strip_prefix("jsonpath=") {
            let parts = split_single_equals(rest);
            if parts.is_empty() || parts.len() > 2 {
                return Err(
                    "jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'"
                        .into(),
                );
            }
            if parts[0].is_empty() {
                return Err("jsonpath expression cannot be empty".into());
            }
            let expr = Template::expression(&parts[0])?;
            let value = match parts.get(1).map(|v| v.trim_matches(|c| c == '\'' || c == '"').to_string()) {
                Some(v) if v.is_empty() => {
                    return Err(
                        "jsonpath wait has to have a value after equal sign, like --for=jsonpath='{.status.readyReplicas}'=3".into()
                    );
                }
                other => other,
            };
            out.push(For::JsonPath { expr, value });
        } else {
            return Err(format!("unrecognized condition: {cond:?}"));
        }
    }
    if out.is_empty() {
        return Err("unrecognized condition: \"[]\"".into());
    }
    Ok(out)
}

/// `splitJSONPathInput`: splits on single `=`, keeping `==`.
fn split_single_equals(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut element = String::new();
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '=' {
            if chars.peek() == Some(&'=') {
                chars.next();
                element.push_str("==");
                continue;
            }
            out.push(std::mem::take(&mut element));
            continue;
        }
        element.push(c);
    }
    out.push(element);
    out
}

fn met(cluster: &Cluster, key: &ObjectKey, condition: &For) -> bool {
    let object = cluster.get(key);
    match condition {
        For::Delete => object.is_none(),
        For::Create => object.is_some(),
        For::Condition { name, status } => {
            let Some(object) = object else { return false };
            let json = object.to_json();
            let generation = json.pointer("/metadata/generation").and_then(Value::as_i64);
            let conditions = json.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
            conditions.iter().any(|c| {
                let type_matches = c.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(name));
                let status_matches = c.get("status").and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case(status));
                // A condition observed for an older generation does not count.
                let observed = c
                    .get("observedGeneration")
                    .and_then(Value::as_i64)
                    .or_else(|| json.pointer("/status/observedGeneration").and_then(Value::as_i64));
                let current = match (generation, observed) {
                    (Some(g), Some(o)) => o >= g,
                    _ => true,
                };
                type_matches && status_matches && current
            })
        }
        For::JsonPath { expr, value } => {
            let Some(object) = object else { return false };
            let values = expr.values(&object.to_json());
            match (values.as_slice(), value) {
                ([], _) => false,
                ([_], None) => true,
                ([v], Some(want)) => !v.is_object() && !v.is_array() && jsonpath::text(v) == *want,
                _ => false,
            }
        }
    }
}

fn targets(
    cluster: &Cluster,
    positional: &[String],
    namespace: &str,
    selector: Option<&str>,
    all: bool,
) -> Result<Vec<(&'static KindInfo, ObjectKey)>, Output> {
    let Some(first) = positional.first() else {
        return Err(Output::err("error: resource(s) were provided, but no name was specified\n"));
    };
    let scope = |info: &KindInfo| if info.namespaced { namespace.to_string() } else { String::new() };
    if first.contains('/') {
        let mut out = Vec::new();
        for p in positional {
            let (ty, name) = p.split_once('/').unwrap_or((p, ""));
            let info = resolve(ty)?;
            out.push((info, ObjectKey::new(info.kind, &scope(info), name)));
        }
        return Ok(out);
    }
    let info = resolve(first)?;
    if positional.len() > 1 {
        return Ok(positional[1..].iter().map(|n| (info, ObjectKey::new(info.kind, &scope(info), n))).collect());
    }
    let filter = match (selector, all) {
        (Some(s), _) => Selector::parse(s).map_err(|e| Output::err(format!("error: {e}\n")))?,
        (None, true) => Selector::default(),
        (None, false) => return Err(Output::err("error: resource(s) were provided, but no name was specified\n")),
    };
    let ns = scope(info);
    let found: Vec<_> = cluster
        .store()
        .list(info.kind, Some(ns.as_str()))
        .filter(|o| filter.matches(o.meta().labels.as_ref()))
        .map(|o| (info, o.key()))
        .collect();
    Ok(found)
}
