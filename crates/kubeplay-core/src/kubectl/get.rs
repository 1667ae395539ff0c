//! `kubectl get`: which objects, filtered by label and field selectors, printed by
//! [`super::columns`].

use super::args::{namespace, requests, Flags};
use super::{columns, Output};
use crate::api::labels::Selector;
use crate::api::{Object, ObjectKey};
use crate::sim::Cluster;

pub(super) fn get(cluster: &mut Cluster, flags: &Flags) -> Output {
    cluster.settle();
    let format = match flags.output.as_deref() {
        None => columns::Format::Table,
        Some("wide") => columns::Format::Wide,
        Some("yaml") => columns::Format::Yaml,
        Some("json") => columns::Format::Json,
        Some("name") => columns::Format::Name,
        Some(other) => {
            return Output::err(format!(
                "error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,wide,yaml\n"
            ))
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
            cluster.store().list(info.kind, scope).filter(|o| selector.matches(o.meta().labels.as_ref()) && fields.matches(o)).collect()
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
        let opts = columns::Options {
            all_namespaces: flags.all_namespaces,
            show_labels: flags.show_labels,
            label_columns: &flags.label_columns,
            single,
            kind_prefix: multi,
        };
        sections.push(columns::render(cluster, info, &objects, format, opts));
    }
    let mut text = sections.join(if matches!(format, columns::Format::Table | columns::Format::Wide) { "\n" } else { "" });
    if sections.is_empty() && errors.is_empty() {
        text = if flags.all_namespaces || reqs.iter().all(|(i, _)| !i.namespaced) {
            "No resources found\n".into()
        } else {
            format!("No resources found in {ns} namespace.\n")
        };
    }
    let ok = errors.is_empty();
    text.push_str(&errors);
    // The API server's warning header for the deprecated kind, printed first by kubectl.
    if reqs.iter().any(|(info, _)| info.kind == "Endpoints") {
        text.insert_str(0, super::apply::ENDPOINTS_DEPRECATED);
    }
    Output { text, ok }
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
