//! kubectl's generators: `kubectl create configmap NAME` and `kubectl create secret
//! generic|docker-registry|tls NAME` with `--from-literal`, `--from-file`, `--from-env-file`
//! (files are the session's: the editor's buffers, or the CLI's file system), `--type`,
//! `--dry-run=client|server|none` and `-o yaml|json|name`. Output matches kubectl v1.37's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use serde_json::{json, Value};

use super::args::ArgWalker;
use super::{printers, Files, Output};
use crate::api::Object;
use crate::sim::Cluster;

#[derive(Debug, Default)]
struct GenFlags {
    name: Option<String>,
    literals: Vec<String>,
    files: Vec<String>,
    env_files: Vec<String>,
    type_: Option<String>,
    dry_run: Option<String>,
    output: Option<String>,
    namespace: Option<String>,
    docker: BTreeMap<&'static str, String>,
    cert: Option<String>,
    key: Option<String>,
}

fn parse(command: &str, args: &[String]) -> Result<GenFlags, String> {
    let mut f = GenFlags::default();
    let mut walker = ArgWalker::new(args);
    while let Some(arg) = walker.next_arg() {
        match arg.name {
            "--from-literal" => f.literals.push(walker.value(&arg)?),
            "--from-file" => f.files.push(walker.value(&arg)?),
            "--from-env-file" => f.env_files.push(walker.value(&arg)?),
            "--type" => f.type_ = Some(walker.value(&arg)?),
            "--dry-run" => f.dry_run = Some(arg.inline.unwrap_or("client").to_string()),
            "-o" | "--output" => f.output = Some(walker.value(&arg)?),
            "-n" | "--namespace" => f.namespace = Some(walker.value(&arg)?),
            "--docker-server" => _ = f.docker.insert("server", walker.value(&arg)?),
            "--docker-username" => _ = f.docker.insert("username", walker.value(&arg)?),
            "--docker-password" => _ = f.docker.insert("password", walker.value(&arg)?),
            "--docker-email" => _ = f.docker.insert("email", walker.value(&arg)?),
            "--cert" => f.cert = Some(walker.value(&arg)?),
            "--key" => f.key = Some(walker.value(&arg)?),
            name if name.starts_with('-') => {
                return Err(format!("error: unknown flag: {name}\nSee 'kubectl create {command} --help' for usage."))
            }
            word if f.name.is_none() => f.name = Some(word.to_string()),
            _ => return Err(format!("error: exactly one NAME is required, got {}", args.iter().filter(|a| !a.starts_with('-')).count())),
        }
    }
    Ok(f)
}

/// Key → value from the sources, in kubectl's order: files, then literals, then env files.
fn entries(f: &GenFlags, files: &dyn Files, kind: &str, name: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    let add = |k: String, v: String, out: &mut Vec<(String, String)>| -> Result<(), String> {
        if out.iter().any(|(e, _)| *e == k) {
            return Err(format!("error: cannot add key {k:?}, another key by that name already exists in Data for {kind} {name:?}"));
        }
        out.push((k, v));
        Ok(())
    };
    for spec in &f.files {
        let (key, path) = match spec.split_once('=') {
            Some((k, p)) => (k.to_string(), p.to_string()),
            None => (spec.rsplit('/').next().unwrap_or(spec).to_string(), spec.clone()),
        };
        let Some(text) = files.read(&path) else {
            return Err(format!("error: error reading {path}: no such file or directory"));
        };
        add(key, text, &mut out)?;
    }
    for literal in &f.literals {
        let Some((k, v)) = literal.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(format!("error: invalid literal source {literal}, expected key=value"));
        };
        add(k.to_string(), v.to_string(), &mut out)?;
    }
    for path in &f.env_files {
        let Some(text) = files.read(path) else {
            return Err(format!("error: error reading {path}: no such file or directory"));
        };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (k, v) = line.split_once('=').unwrap_or((line, ""));
            add(k.to_string(), v.to_string(), &mut out)?;
        }
    }
    Ok(out)
}

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8) | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) fn create(cluster: &mut Cluster, files: &dyn Files, args: &[String]) -> Output {
    let (kind, sub, rest) = match args.first().map(String::as_str) {
        Some("configmap" | "cm") => ("ConfigMap", "configmap", &args[1..]),
        Some("secret") => match args.get(1).map(String::as_str) {
            Some(sub @ ("generic" | "docker-registry" | "tls")) => ("Secret", sub, &args[2..]),
            _ => return Output::err("error: Create a secret with specified type.\n\n A docker-registry type secret is for accessing a container registry.\n\n A generic type secret indicate an Opaque secret type.\n\n A tls type secret holds TLS certificate and its associated key.\n\nAvailable Commands:\n  docker-registry   Create a secret for use with a Docker registry\n  generic           Create a secret from a local file, directory, or literal value\n  tls               Create a TLS secret\n"),
        },
        _ => return Output::err("error: kubeplay models `kubectl create -f FILE`, `create configmap` and `create secret`\n"),
    };
    let command = if kind == "Secret" { format!("secret {sub}") } else { sub.to_string() };
    let flags = match parse(&command, rest) {
        Ok(f) => f,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let Some(name) = flags.name.clone() else {
        return Output::err(format!(
            "error: exactly one NAME is required, got 0\nSee 'kubectl create {command} -h' for help and examples\n"
        ));
    };
    let pairs = match sub {
        "docker-registry" => {
            let get = |k: &str| flags.docker.get(k).cloned().unwrap_or_default();
            let server = flags.docker.get("server").cloned().unwrap_or_else(|| "https://index.docker.io/v1/".into());
            let auth = b64(format!("{}:{}", get("username"), get("password")).as_bytes());
            // Go marshals the struct in field order: username, password, email (if any), auth.
            let mut fields = vec![("username", get("username")), ("password", get("password"))];
            if flags.docker.contains_key("email") {
                fields.push(("email", get("email")));
            }
            fields.push(("auth", auth));
            let entry: Vec<String> =
                fields.iter().map(|(k, v)| format!("{}:{}", Value::String(k.to_string()), Value::String(v.clone()))).collect();
            let body = format!("{{\"auths\":{{{}:{{{}}}}}}}", Value::String(server), entry.join(","));
            Ok(vec![(".dockerconfigjson".to_string(), body)])
        }
        "tls" => {
            let read = |p: &Option<String>, what: &str| -> Result<String, String> {
                let path = p.clone().ok_or_else(|| format!("error: {what} must be specified"))?;
                files.read(&path).ok_or_else(|| format!("error: open {path}: no such file or directory"))
            };
            read(&flags.cert, "--cert")
                .and_then(|crt| Ok(vec![("tls.crt".to_string(), crt), ("tls.key".to_string(), read(&flags.key, "--key")?)]))
        }
        _ => entries(&flags, files, kind, &name),
    };
    let pairs = match pairs {
        Ok(p) => p,
        Err(e) => return Output::err(format!("{e}\n")),
    };
    let metadata = ObjectMeta { name: Some(name.clone()), namespace: flags.namespace.clone(), ..Default::default() };
    let object = if kind == "ConfigMap" {
        let data: BTreeMap<String, String> = pairs.into_iter().collect();
        Object::from(ConfigMap { metadata, data: (!data.is_empty()).then_some(data), ..Default::default() })
    } else {
        let data: BTreeMap<String, ByteString> = pairs.into_iter().map(|(k, v)| (k, ByteString(v.into_bytes()))).collect();
        let type_ = match sub {
            "docker-registry" => Some("kubernetes.io/dockerconfigjson".to_string()),
            "tls" => Some("kubernetes.io/tls".to_string()),
            _ => flags.type_.clone(),
        };
        Object::from(Secret { metadata, data: (!data.is_empty()).then_some(data), type_, ..Default::default() })
    };
    let label = format!("{}/{name}", kind.to_ascii_lowercase());
    let dry_run = flags.dry_run.as_deref().filter(|d| *d != "none");
    if dry_run.is_none() {
        let mut object = object;
        object.meta_mut().namespace = Some(flags.namespace.clone().unwrap_or_else(|| "default".into()));
        if cluster.get(&object.key()).is_some() {
            let plural = if kind == "ConfigMap" { "configmaps" } else { "secrets" };
            return Output::err(format!("error: failed to create {}: {plural} {name:?} already exists\n", kind.to_ascii_lowercase()));
        }
        if let Err(e) = cluster.create(object) {
            return Output::err(format!("error: failed to create {}: {e}\n", kind.to_ascii_lowercase()));
        }
        cluster.settle();
        return Output::ok(format!("{label} created\n"));
    }
    let suffix = if dry_run == Some("server") { " (server dry run)" } else { " (dry run)" };
    match flags.output.as_deref() {
        None => Output::ok(format!("{label} created{suffix}\n")),
        Some("name") => Output::ok(format!("{label}\n")),
        Some("yaml") => Output::ok(printers::yaml(&object.to_json())),
        Some("json") => Output::ok(typed_json(&object)),
        Some(other) => Output::err(format!(
            "error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,kyaml,name,template,templatefile,yaml\n"
        )),
    }
}

/// A typed object printed as kubectl prints it before it reaches a server: fields in Go struct
/// order (kind, apiVersion, metadata, then the rest), four-space indentation.
fn typed_json(object: &Object) -> String {
    let mut value = object.to_json();
    let map = value.as_object_mut().map(std::mem::take).unwrap_or_default();
    let mut ordered = vec![("kind".to_string(), json!(object.info().kind)), ("apiVersion".to_string(), json!(object.api_version()))];
    for key in ["metadata", "data", "type"] {
        if let Some(v) = map.get(key) {
            ordered.push((key.to_string(), v.clone()));
        }
    }
    let body: Vec<String> = ordered
        .iter()
        .map(|(k, v)| {
            let rendered = printers::json(v);
            let indented = rendered.trim_end().replace('\n', "\n    ");
            format!("    {}: {indented}", Value::String(k.clone()))
        })
        .collect();
    format!("{{\n{}\n}}\n", body.join(",\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_go() {
        assert_eq!(b64(b"s3cret"), "czNjcmV0");
        assert_eq!(b64(b"u:p"), "dTpw");
        assert_eq!(b64(b"ab"), "YWI=");
        assert_eq!(b64(b""), "");
    }
}
