//! Manifests → objects + diagnostics. Never fails and never panics: every problem becomes a
//! [`Diagnostic`] with file, line and column, and the documents that are fine still come out.

pub mod decode;
pub mod validate;
pub mod yaml;

use serde_json::Value;

use crate::api::kinds::{self, KindInfo, Support};
use crate::api::scheduler_config;
use crate::api::{Object, Stored};
use crate::diag::{Diagnostic, Position, Severity};
use decode::{decode_strict, did_you_mean, display_path, DecodeError, UnknownField};
use yaml::{Path, Seg, SpanIndex};

/// An object that parsed and validated, with where it came from.
#[derive(Clone, Debug)]
pub struct ParsedObject {
    pub object: Object,
    pub file: String,
    pub position: Position,
}

/// A document that cannot be applied, with the error kubectl would print for it.
#[derive(Clone, Debug)]
pub struct Rejected {
    pub file: String,
    pub position: Position,
    pub kubectl_error: String,
}

/// A kube-scheduler configuration file among the manifests: not an API object, it configures
/// the simulated scheduler of a cluster that starts from these files.
#[derive(Clone, Debug)]
pub struct SchedulerConfigDoc {
    pub file: String,
    pub position: Position,
    pub config: crate::api::scheduler_config::SchedulerConfig,
}

#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub objects: Vec<ParsedObject>,
    pub rejected: Vec<Rejected>,
    pub diagnostics: Vec<Diagnostic>,
    pub scheduler_configs: Vec<SchedulerConfigDoc>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses one file: multi-document YAML or JSON, `kind: List` expanded.
pub fn parse(file: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    for doc in yaml::split_documents(text) {
        let ctx = DocContext { file, first_line: doc.first_line, spans: SpanIndex::build(&doc.text) };
        match yaml::to_json(&doc.text) {
            Err(e) => {
                let position = ctx.shift(e.position);
                // kubectl parses each `---` document on its own, so its message counts lines from
                // the document's start; the diagnostic's position is the file's.
                let message = format!("error converting YAML to JSON: {}", e.message);
                out.rejected.push(Rejected {
                    file: file.to_string(),
                    position,
                    kubectl_error: format!("error: error parsing {file}: {message}"),
                });
                out.diagnostics.push(ctx.diag(position, Severity::Error, message));
            }
            Ok(Value::Null) => {}
            Ok(mut value) => {
                yaml::apply_yaml11(&mut value, &ctx.spans);
                ctx.document(value, Vec::new(), &mut out)
            }
        }
    }
    out
}

/// One object already in JSON (a patched or merged live object) through the same decoding
/// and validation as a file; positions are meaningless and left at the start.
pub fn parse_value(file: &str, value: Value) -> Parsed {
    let mut out = Parsed::default();
    let ctx = DocContext { file, first_line: 1, spans: SpanIndex::build("") };
    ctx.document(value, Vec::new(), &mut out);
    out
}

struct DocContext<'a> {
    file: &'a str,
    first_line: u32,
    spans: SpanIndex,
}

impl DocContext<'_> {
    /// Document-relative position → file position.
    fn shift(&self, p: Position) -> Position {
        Position { line: p.line + self.first_line - 1, column: p.column }
    }

    fn at(&self, path: &[Seg]) -> Position {
        self.shift(self.spans.find(path))
    }

    fn diag(&self, position: Position, severity: Severity, message: String) -> Diagnostic {
        Diagnostic { file: self.file.to_string(), position, severity, message }
    }

    fn reject(&self, out: &mut Parsed, path: &[Seg], message: String, kubectl_error: String) {
        let position = self.at(path);
        out.diagnostics.push(self.diag(position, Severity::Error, message));
        out.rejected.push(Rejected { file: self.file.to_string(), position, kubectl_error });
    }

    /// One object (or a `List` of them) at `base` within the document.
    fn document(&self, value: Value, base: Path, out: &mut Parsed) {
        let Value::Object(map) = &value else {
            let msg = format!("Object 'Kind' is missing in '{value}'");
            self.reject(out, &base, msg.clone(), format!("error: unable to decode {:?}: {msg}", self.file));
            return;
        };
        let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
        if api_version.is_empty() || kind.is_empty() {
            let mut missing = Vec::new();
            if api_version.is_empty() {
                missing.push("apiVersion not set");
            }
            if kind.is_empty() {
                missing.push("kind not set");
            }
            let list = missing.join(", ");
            self.reject(
                out,
                &base,
                format!("error validating data: [{list}]"),
                format!("error: error validating {:?}: error validating data: [{list}]; if you choose to ignore these errors, turn validation off with --validate=false", self.file),
            );
            return;
        }
        if kind == "List" && api_version == "v1" {
            let items = map.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                let mut p = base.clone();
                p.extend([Seg::Key("items".into()), Seg::Index(i)]);
                self.document(item, p, out);
            }
            return;
        }
        if api_version == scheduler_config::API_VERSION && kind == scheduler_config::KIND {
            let position = self.at(&base);
            match scheduler_config::SchedulerConfig::from_value(&value) {
                Ok(config) => {
                    out.diagnostics.push(self.diag(position, Severity::Warning, scheduler_config::NOTICE.into()));
                    out.scheduler_configs.push(SchedulerConfigDoc { file: self.file.to_string(), position, config });
                }
                // kube-scheduler would refuse to start; kubeplay keeps the default profile.
                Err(errors) => {
                    for e in &errors {
                        out.diagnostics.push(self.diag(position, Severity::Error, format!("KubeSchedulerConfiguration: {e}")));
                    }
                    let listed = if errors.len() == 1 { errors[0].clone() } else { format!("[{}]", errors.join(", ")) };
                    out.rejected.push(Rejected {
                        file: self.file.to_string(),
                        position,
                        kubectl_error: format!(
                            "error: kubeplay: KubeSchedulerConfiguration in {:?} is invalid: {listed}; kube-scheduler would not start with it, so the cluster keeps the default profile",
                            self.file
                        ),
                    });
                }
            }
            return;
        }
        let name = map.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("").to_string();
        let namespace = map.get("metadata").and_then(|m| m.get("namespace")).and_then(Value::as_str).unwrap_or("");
        let Some(info) = kinds::by_type(api_version, kind) else {
            let msg = format!("no matches for kind {kind:?} in version {api_version:?}");
            let mut kp = base.clone();
            kp.push(Seg::Key("apiVersion".into()));
            self.reject(
                out,
                &kp,
                if api_version.starts_with("kustomize.config.k8s.io/") {
                    format!("{msg}: this is a kustomization file, which `kubectl apply -k DIR` reads (kubeplay does not model -k yet)")
                } else if kinds::by_kind(kind).is_some() {
                    msg.clone()
                } else {
                    format!("{msg} (ensure CRDs are installed first)")
                },
                format!("error: resource mapping not found for name: {name:?} namespace: {namespace:?} from {:?}: {msg}\nensure CRDs are installed first", self.file),
            );
            return;
        };
        self.typed(info, api_version, &value, &name, &base, out);
    }

    fn typed(&self, info: &'static KindInfo, api_version: &str, value: &Value, name: &str, base: &Path, out: &mut Parsed) {
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        let cannot_handle = format!("{} in version {version:?} cannot be handled as a {}", info.kind, info.kind);
        let verb_error = |msg: &str| format!("Error from server (BadRequest): error when creating {:?}: {cannot_handle}: {msg}", self.file);
        let (object, unknown) = match decode_object(info, api_version, value) {
            Ok(decoded) => decoded,
            Err(e) => {
                let path = e.path.clone().unwrap_or_default();
                let field = display_path(&path);
                let msg = match go_base64_error(&e.message).or_else(|| go_type_error(&e)) {
                    // encoding/json reports a bad `[]byte` without the field it was in.
                    Some(go) => go,
                    None if field.is_empty() => e.message.clone(),
                    None => format!("{field}: {}", e.message),
                };
                self.reject(out, &join(base, &path), format!("{cannot_handle}: {msg}"), verb_error(&msg));
                return;
            }
        };
        if !unknown.is_empty() {
            let fields: Vec<String> = unknown.iter().map(|u| format!("unknown field {:?}", display_path(&u.path))).collect();
            for (u, text) in unknown.iter().zip(&fields) {
                let message = match suggestion(u) {
                    Some(s) => format!("{text} (did you mean {s:?}?)"),
                    None => text.clone(),
                };
                out.diagnostics.push(self.diag(self.at(&join(base, &u.path)), Severity::Error, message));
            }
            out.rejected.push(Rejected {
                file: self.file.to_string(),
                position: self.at(&join(base, &unknown[0].path)),
                kubectl_error: verb_error(&format!("strict decoding error: {}", fields.join(", "))),
            });
            return;
        }
        let errors = validate::validate(&object, value);
        if !errors.is_empty() {
            let rendered: Vec<String> =
                errors.iter().map(|e| format!("{}: {}", e.shown.clone().unwrap_or_else(|| display_path(&e.path)), e.detail)).collect();
            for (e, text) in errors.iter().zip(&rendered) {
                out.diagnostics.push(self.diag(self.at(&join(base, &e.path)), Severity::Error, text.clone()));
            }
            let summary = if rendered.len() == 1 { rendered[0].clone() } else { format!("[{}]", rendered.join(", ")) };
            out.rejected.push(Rejected {
                file: self.file.to_string(),
                position: self.at(base),
                kubectl_error: format!("The {} {name:?} is invalid: {summary}", info.kind),
            });
            return;
        }
        let position = self.at(base);
        if info.support == Support::Stored {
            out.diagnostics.push(self.diag(position, Severity::Warning, format!("{} {name:?} is stored, not simulated yet", info.kind)));
        }
        out.objects.push(ParsedObject { object, file: self.file.to_string(), position });
    }
}

fn join(base: &[Seg], path: &[Seg]) -> Path {
    let mut p = base.to_vec();
    p.extend_from_slice(path);
    p
}

fn suggestion(u: &UnknownField) -> Option<&'static str> {
    match u.path.last() {
        Some(Seg::Key(k)) => did_you_mean(k, u.known),
        _ => None,
    }
}

/// serde's "invalid type: string \"two\", expected i32" as encoding/json words it:
/// `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`.
fn go_type_error(e: &DecodeError) -> Option<String> {
    let holder = e.go_struct?;
    let rest = e.message.strip_prefix("invalid type: ").or_else(|| e.message.strip_prefix("invalid value: "))?;
    let (found, expected) = rest.rsplit_once(", expected ")?;
    let go_type = match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => {
            let bits = &expected[1..];
            if expected.starts_with('u') {
                format!("uint{bits}")
            } else {
                format!("int{bits}")
            }
        }
        "f32" => "float32".into(),
        "f64" => "float64".into(),
        "a boolean" => "bool".into(),
        "a string" | "a borrowed string" => "string".into(),
        "a map" => "map[string]string".into(),
        "a sequence" => format!("[]{}", list_element(e.go_field.last()?.as_str(), &e.go_field)?),
        name if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!("v1.{name}")
        }
        _ => return None,
    };
    let integer_target = go_type.starts_with("int") || go_type.starts_with("uint");
    let literal = |text: &str| text.split('`').nth(1).map(str::to_string);
    let value = if found.starts_with("string") {
        "string".to_string()
    } else if found.starts_with("integer") || found.starts_with("floating point") {
        // encoding/json quotes the number only when it could not become the integer.
        match literal(found).filter(|_| integer_target) {
            Some(n) => format!("number {n}"),
            None => "number".into(),
        }
    } else if found.starts_with("boolean") {
        "bool".into()
    } else if found.starts_with("sequence") {
        "array".into()
    } else if found.starts_with("map") {
        "object".into()
    } else {
        return None;
    };
    Some(format!("json: cannot unmarshal {value} into Go struct field {holder}.{} of type {go_type}", e.go_field.join(".")))
}

/// The element type of the list fields people most often get wrong.
fn list_element(field: &str, path: &[String]) -> Option<&'static str> {
    let in_container = path.iter().any(|p| matches!(p.as_str(), "containers" | "initContainers" | "ephemeralContainers"));
    Some(match field {
        "containers" | "initContainers" => "v1.Container",
        "ephemeralContainers" => "v1.EphemeralContainer",
        "ports" if in_container => "v1.ContainerPort",
        "ports" => "v1.ServicePort",
        "env" => "v1.EnvVar",
        "envFrom" => "v1.EnvFromSource",
        "volumes" => "v1.Volume",
        "volumeMounts" => "v1.VolumeMount",
        "args" | "command" | "finalizers" | "externalIPs" | "loadBalancerSourceRanges" | "hosts" => "string",
        "tolerations" => "v1.Toleration",
        "imagePullSecrets" => "v1.LocalObjectReference",
        "matchExpressions" => "v1.LabelSelectorRequirement",
        "items" => "v1.KeyToPath",
        _ => return None,
    })
}

/// The base64 crate's "Invalid symbol 32, offset 3." as Go's encoding/base64 words it.
fn go_base64_error(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Invalid symbol ").or_else(|| message.strip_prefix("Invalid last symbol "))?;
    let offset = rest.split("offset ").nth(1)?.trim_end_matches('.');
    Some(format!("illegal base64 data at input byte {offset}"))
}

/// Decodes into the kind's k8s-openapi type; stored kinds are checked against their type and
/// then kept as JSON.
fn decode_object(info: &'static KindInfo, api_version: &str, value: &Value) -> Result<(Object, Vec<UnknownField>), DecodeError> {
    use k8s_openapi::api as k;
    macro_rules! typed {
        ($variant:ident, $ty:ty) => {{
            let (o, unknown) = decode_strict::<$ty>(value)?;
            Ok((Object::from(o), unknown))
        }};
    }
    macro_rules! stored {
        ($ty:ty) => {{
            let (_, unknown) = decode_strict::<$ty>(value)?;
            unknown
        }};
    }
    match info.kind {
        "Pod" => return typed!(Pod, k::core::v1::Pod),
        "Node" => return typed!(Node, k::core::v1::Node),
        "Namespace" => return typed!(Namespace, k::core::v1::Namespace),
        "Service" => return typed!(Service, k::core::v1::Service),
        "Event" => return typed!(Event, k::core::v1::Event),
        "Deployment" => return typed!(Deployment, k::apps::v1::Deployment),
        "ReplicaSet" => return typed!(ReplicaSet, k::apps::v1::ReplicaSet),
        "ConfigMap" => return typed!(ConfigMap, k::core::v1::ConfigMap),
        "Secret" => return typed!(Secret, k::core::v1::Secret),
        "EndpointSlice" => return typed!(EndpointSlice, k::discovery::v1::EndpointSlice),
        "Endpoints" => return typed!(Endpoints, k::core::v1::Endpoints),
        "Ingress" => return typed!(Ingress, k::networking::v1::Ingress),
        "Job" => return typed!(Job, k::batch::v1::Job),
        "DaemonSet" => return typed!(DaemonSet, k::apps::v1::DaemonSet),
        "StatefulSet" => return typed!(StatefulSet, k::apps::v1::StatefulSet),
        "CronJob" => return typed!(CronJob, k::batch::v1::CronJob),
        _ => {}
    }
    let unknown = match info.kind {
        "ServiceAccount" => stored!(k::core::v1::ServiceAccount),
        "PersistentVolume" => stored!(k::core::v1::PersistentVolume),
        "PersistentVolumeClaim" => stored!(k::core::v1::PersistentVolumeClaim),
        "LimitRange" => stored!(k::core::v1::LimitRange),
        "Binding" => stored!(k::core::v1::Binding),
        "ResourceQuota" => stored!(k::core::v1::ResourceQuota),
        "ReplicationController" => stored!(k::core::v1::ReplicationController),
        "NetworkPolicy" => stored!(k::networking::v1::NetworkPolicy),
        "PodDisruptionBudget" => stored!(k::policy::v1::PodDisruptionBudget),
        "StorageClass" => stored!(k::storage::v1::StorageClass),
        "PriorityClass" => stored!(k::scheduling::v1::PriorityClass),
        "Role" => stored!(k::rbac::v1::Role),
        "RoleBinding" => stored!(k::rbac::v1::RoleBinding),
        "ClusterRole" => stored!(k::rbac::v1::ClusterRole),
        "ClusterRoleBinding" => stored!(k::rbac::v1::ClusterRoleBinding),
        "HorizontalPodAutoscaler" if api_version == "autoscaling/v2" => {
            stored!(k::autoscaling::v2::HorizontalPodAutoscaler)
        }
        "HorizontalPodAutoscaler" => stored!(k::autoscaling::v1::HorizontalPodAutoscaler),
        _ => Vec::new(),
    };
    let Value::Object(map) = value else {
        return Err(serde::de::Error::custom("expected an object"));
    };
    let mut body = map.clone();
    body.remove("apiVersion");
    body.remove("kind");
    let (metadata, _) = match body.remove("metadata") {
        Some(m) => decode_strict(&m).map_err(|mut e| {
            e.path = Some(join(&[Seg::Key("metadata".into())], &e.path.unwrap_or_default()));
            e
        })?,
        None => Default::default(),
    };
    Ok((Object::from(Stored { info, api_version: api_version.to_string(), metadata, body }), unknown))
}

#[cfg(test)]
mod tests;
