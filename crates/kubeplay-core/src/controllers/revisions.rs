//! ControllerRevisions, as the DaemonSet and StatefulSet controllers keep them: one per Pod
//! template, named `<owner>-<hash>`, labelled with the hash, owned by the workload, holding the
//! template as `data.spec.template` and numbered one after the highest so far.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{controller_ref, Object, ObjectKey, Stored};
use crate::apiserver::ApiServer;

/// The revision number of a stored ControllerRevision.
pub fn number(o: &Object) -> Option<i64> {
    match o {
        Object::Stored(s) if s.info.kind == "ControllerRevision" => s.body.get("revision").and_then(serde_json::Value::as_i64),
        _ => None,
    }
}

/// Makes sure the owner has a revision for `template` (hash `hash`); returns its name.
pub fn ensure(api: &mut ApiServer, owner: &Object, template: &PodTemplateSpec, hash: &str) -> String {
    let name = format!("{}-{hash}", owner.name());
    let namespace = owner.namespace().to_string();
    if api.get(&ObjectKey::new("ControllerRevision", &namespace, &name)).is_some() {
        return name;
    }
    let uid = owner.meta().uid.clone().unwrap_or_default();
    let last = api.store().dependents(&uid).filter_map(number).max().unwrap_or(0);
    let mut labels = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    labels.insert("controller-revision-hash".into(), hash.into());
    let mut body = serde_json::Map::new();
    body.insert("data".into(), serde_json::json!({ "spec": { "template": serde_json::to_value(template).unwrap_or_default() } }));
    body.insert("revision".into(), serde_json::json!(last + 1));
    let revision = Stored {
        info: crate::api::kinds::kind("ControllerRevision"),
        api_version: "apps/v1".into(),
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace),
            labels: Some(labels),
            owner_references: Some(vec![controller_ref(owner)]),
            ..Default::default()
        },
        body,
    };
    let _ = api.create(Object::from(revision));
    name
}
