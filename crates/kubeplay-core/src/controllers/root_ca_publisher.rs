//! The root CA publisher (`pkg/controller/certificates/rootcacertpublisher`): every active
//! namespace holds a ConfigMap `kube-root-ca.crt` with the cluster's CA bundle, which every
//! Pod's service-account volume mounts. Deleted or edited, it is put back.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{Object, ObjectKey};
use crate::apiserver::{ApiServer, Change};
use crate::runtime::{Action, Component, Ctx, Watches};

pub const NAME: &str = "kube-root-ca.crt";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
/// The simulated cluster's CA: shaped like a PEM certificate; nothing verifies it.
pub const CA_CRT: &str = "-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIIa3ViZXBsYXkwDQYJKoZIhvcNAQELBQAwFTETMBEGA1UE\nAxMKa3ViZXJuZXRlczAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMBUx\nEzARBgNVBAMTCmt1YmVybmV0ZXMwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK\nAoIBAQCrm3VicGxheS1zaW11bGF0ZWQtY2x1c3Rlci1jYS1ub3QtYS1yZWFsLWtl\neQIDAQABo1kwVzAOBgNVHQ8BAf8EBAMCAqQwDwYDVR0TAQH/BAUwAwEB/zAdBgNV\nHQ4EFgQUa3ViZXBsYXkta3ViZXBsYXkta3ViZTAVBgNVHREEDjAMggprdWJlcm5l\ndGVzMA0GCSqGSIb3DQEBCwUAA4IBAQBrdWJlcGxheQ==\n-----END CERTIFICATE-----\n";

#[derive(Clone, Copy, Debug, Default)]
pub struct RootCaPublisher;

impl Component for RootCaPublisher {
    fn name(&self) -> &'static str {
        "root-ca-cert-publisher"
    }

    fn watches(&self) -> Watches {
        Watches::reconciles("Namespace").watches("ConfigMap", namespace_of_bundle)
    }

    fn reconcile(&mut self, ctx: &mut Ctx<'_>, key: &ObjectKey) -> Action {
        let active = ctx
            .api
            .get(&ObjectKey::new("Namespace", "", &key.name))
            .and_then(Object::as_namespace)
            .is_some_and(|ns| ns.metadata.deletion_timestamp.is_none());
        if !active {
            return Action::AwaitChange;
        }
        let wanted = bundle(&key.name);
        let cm_key = ObjectKey::new("ConfigMap", &key.name, NAME);
        match ctx.api.get(&cm_key).and_then(Object::as_config_map) {
            None => {
                let _ = ctx.api.create(Object::from(wanted));
            }
            Some(cm) if cm.data != wanted.data || annotations(cm) != annotations(&wanted) => {
                let mut cm = cm.clone();
                cm.data = wanted.data;
                cm.metadata.annotations = wanted.metadata.annotations;
                ctx.api.update(Object::from(cm));
            }
            Some(_) => {}
        }
        Action::AwaitChange
    }

    fn clone_box(&self) -> Box<dyn Component> {
        Box::new(*self)
    }
}

fn annotations(cm: &ConfigMap) -> Option<&BTreeMap<String, String>> {
    cm.metadata.annotations.as_ref()
}

/// A change to a namespace's bundle maps to the namespace, which puts it back.
fn namespace_of_bundle(_api: &ApiServer, change: &Change, out: &mut Vec<ObjectKey>) {
    if change.key.name == NAME {
        out.push(ObjectKey::new("Namespace", "", &change.key.namespace));
    }
}

fn bundle(namespace: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(NAME.into()),
            namespace: Some(namespace.into()),
            annotations: Some([("kubernetes.io/description".to_string(), DESCRIPTION.to_string())].into()),
            ..Default::default()
        },
        data: Some([("ca.crt".to_string(), CA_CRT.to_string())].into()),
        ..Default::default()
    }
}
