//! The built-in API resources a v1.37 cluster serves: how kubectl names them and whether
//! kubeplay simulates them. One table, so apply, get, delete and diagnostics agree.

/// How far kubeplay models a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Controllers act on it.
    Simulated,
    /// Accepted, validated and stored (`kubectl get` shows it), but nothing acts on it yet.
    Stored,
}

#[derive(Debug, PartialEq, Eq)]
pub struct KindInfo {
    pub kind: &'static str,
    /// "" for the core group.
    pub group: &'static str,
    /// Served versions; the first is the preferred one.
    pub versions: &'static [&'static str],
    pub plural: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    pub support: Support,
}

impl KindInfo {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.versions[0].to_string()
        } else {
            format!("{}/{}", self.group, self.versions[0])
        }
    }

    /// `deployment.apps`, `pod`: the prefix kubectl prints before `/name`.
    pub fn qualified_singular(&self) -> String {
        let singular = self.kind.to_ascii_lowercase();
        if self.group.is_empty() {
            singular
        } else {
            format!("{singular}.{}", self.group)
        }
    }

    /// `deployments.apps`, `pods`: how kubectl names the resource in errors.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn is_simulated(&self) -> bool {
        self.support == Support::Simulated
    }
}

macro_rules! kinds {
    ($( $kind:literal, $group:literal, [$($v:literal),+], $plural:literal, [$($short:literal),*], $ns:literal, $support:ident; )*) => {
        pub static KINDS: &[KindInfo] = &[
            $( KindInfo {
                kind: $kind, group: $group, versions: &[$($v),+], plural: $plural,
                short_names: &[$($short),*], namespaced: $ns, support: Support::$support,
            }, )*
        ];
    };
}

kinds! {
    "Pod", "", ["v1"], "pods", ["po"], true, Simulated;
    "Node", "", ["v1"], "nodes", ["no"], false, Simulated;
    "Namespace", "", ["v1"], "namespaces", ["ns"], false, Simulated;
    "Service", "", ["v1"], "services", ["svc"], true, Simulated;
    "Event", "", ["v1"], "events", ["ev"], true, Simulated;
    "Deployment", "apps", ["v1"], "deployments", ["deploy"], true, Simulated;
    "ReplicaSet", "apps", ["v1"], "replicasets", ["rs"], true, Simulated;
    "ConfigMap", "", ["v1"], "configmaps", ["cm"], true, Simulated;
    "Secret", "", ["v1"], "secrets", [], true, Simulated;
    "ServiceAccount", "", ["v1"], "serviceaccounts", ["sa"], true, Stored;
    "PersistentVolume", "", ["v1"], "persistentvolumes", ["pv"], false, Stored;
    "PersistentVolumeClaim", "", ["v1"], "persistentvolumeclaims", ["pvc"], true, Stored;
    "Endpoints", "", ["v1"], "endpoints", ["ep"], true, Simulated;
    "LimitRange", "", ["v1"], "limitranges", ["limits"], true, Stored;
    "ResourceQuota", "", ["v1"], "resourcequotas", ["quota"], true, Stored;
    "ReplicationController", "", ["v1"], "replicationcontrollers", ["rc"], true, Stored;
    "PodTemplate", "", ["v1"], "podtemplates", [], true, Stored;
    "Binding", "", ["v1"], "bindings", [], true, Simulated;
    "DaemonSet", "apps", ["v1"], "daemonsets", ["ds"], true, Simulated;
    "StatefulSet", "apps", ["v1"], "statefulsets", ["sts"], true, Simulated;
    "ControllerRevision", "apps", ["v1"], "controllerrevisions", [], true, Stored;
    "Job", "batch", ["v1"], "jobs", [], true, Simulated;
    "CronJob", "batch", ["v1"], "cronjobs", ["cj"], true, Simulated;
    "HorizontalPodAutoscaler", "autoscaling", ["v2", "v1"], "horizontalpodautoscalers", ["hpa"], true, Stored;
    "Ingress", "networking.k8s.io", ["v1"], "ingresses", ["ing"], true, Simulated;
    "IngressClass", "networking.k8s.io", ["v1"], "ingressclasses", [], false, Stored;
    "NetworkPolicy", "networking.k8s.io", ["v1"], "networkpolicies", ["netpol"], true, Stored;
    "IPAddress", "networking.k8s.io", ["v1"], "ipaddresses", ["ip"], false, Stored;
    "ServiceCIDR", "networking.k8s.io", ["v1"], "servicecidrs", [], false, Stored;
    "EndpointSlice", "discovery.k8s.io", ["v1"], "endpointslices", [], true, Simulated;
    "PodDisruptionBudget", "policy", ["v1"], "poddisruptionbudgets", ["pdb"], true, Simulated;
    "Role", "rbac.authorization.k8s.io", ["v1"], "roles", [], true, Stored;
    "RoleBinding", "rbac.authorization.k8s.io", ["v1"], "rolebindings", [], true, Stored;
    "ClusterRole", "rbac.authorization.k8s.io", ["v1"], "clusterroles", [], false, Stored;
    "ClusterRoleBinding", "rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", [], false, Stored;
    "StorageClass", "storage.k8s.io", ["v1"], "storageclasses", ["sc"], false, Stored;
    "CSIDriver", "storage.k8s.io", ["v1"], "csidrivers", [], false, Stored;
    "CSINode", "storage.k8s.io", ["v1"], "csinodes", [], false, Stored;
    "VolumeAttachment", "storage.k8s.io", ["v1"], "volumeattachments", [], false, Stored;
    "VolumeAttributesClass", "storage.k8s.io", ["v1"], "volumeattributesclasses", ["vac"], false, Stored;
    "PriorityClass", "scheduling.k8s.io", ["v1"], "priorityclasses", ["pc"], false, Simulated;
    "RuntimeClass", "node.k8s.io", ["v1"], "runtimeclasses", [], false, Stored;
    "Lease", "coordination.k8s.io", ["v1"], "leases", [], true, Stored;
    "CustomResourceDefinition", "apiextensions.k8s.io", ["v1"], "customresourcedefinitions", ["crd", "crds"], false, Stored;
    "APIService", "apiregistration.k8s.io", ["v1"], "apiservices", [], false, Stored;
    "CertificateSigningRequest", "certificates.k8s.io", ["v1"], "certificatesigningrequests", ["csr"], false, Stored;
    "MutatingWebhookConfiguration", "admissionregistration.k8s.io", ["v1"], "mutatingwebhookconfigurations", [], false, Stored;
    "ValidatingWebhookConfiguration", "admissionregistration.k8s.io", ["v1"], "validatingwebhookconfigurations", [], false, Stored;
    "ValidatingAdmissionPolicy", "admissionregistration.k8s.io", ["v1"], "validatingadmissionpolicies", [], false, Stored;
    "ValidatingAdmissionPolicyBinding", "admissionregistration.k8s.io", ["v1"], "validatingadmissionpolicybindings", [], false, Stored;
    "FlowSchema", "flowcontrol.apiserver.k8s.io", ["v1"], "flowschemas", [], false, Stored;
    "PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io", ["v1"], "prioritylevelconfigurations", [], false, Stored;
    "DeviceClass", "resource.k8s.io", ["v1"], "deviceclasses", [], false, Stored;
    "ResourceClaim", "resource.k8s.io", ["v1"], "resourceclaims", [], true, Stored;
    "ResourceClaimTemplate", "resource.k8s.io", ["v1"], "resourceclaimtemplates", [], true, Stored;
    "ResourceSlice", "resource.k8s.io", ["v1"], "resourceslices", [], false, Stored;
}

/// The kind named by `apiVersion` + `kind`, if the cluster serves that version.
pub fn by_type(api_version: &str, kind: &str) -> Option<&'static KindInfo> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    KINDS.iter().find(|k| k.kind == kind && k.group == group && k.versions.contains(&version))
}

/// The kind with this `kind` name in any group (for messages about unserved versions).
pub fn by_kind(kind: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Resolves a kubectl resource argument: `pods`, `pod`, `po`, `Pod`, `deployments.apps`,
/// `deploy`.
pub fn by_resource(arg: &str) -> Option<&'static KindInfo> {
    let lower = arg.to_ascii_lowercase();
    let (name, group) = match lower.split_once('.') {
        Some((n, g)) => (n.to_string(), Some(g.to_string())),
        None => (lower, None),
    };
    KINDS.iter().find(|k| {
        let name_matches = k.plural == name || k.kind.to_ascii_lowercase() == name || k.short_names.contains(&name.as_str());
        name_matches && group.as_deref().is_none_or(|g| g == k.group)
    })
}

pub fn kind(kind: &str) -> &'static KindInfo {
    match by_kind(kind) {
        Some(info) => info,
        None => panic!("kind {kind} is not in the kinds table"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_kubectl_resource_names() {
        for arg in ["pods", "pod", "po", "Pod", "PODS"] {
            assert_eq!(by_resource(arg).map(|k| k.kind), Some("Pod"), "{arg}");
        }
        assert_eq!(by_resource("deploy").map(|k| k.kind), Some("Deployment"));
        assert_eq!(by_resource("deployments.apps").map(|k| k.kind), Some("Deployment"));
        assert_eq!(by_resource("deployments.batch"), None);
        assert_eq!(by_resource("svc").map(|k| k.kind), Some("Service"));
        assert_eq!(by_resource("frobs"), None);
    }

    #[test]
    fn versions_are_checked() {
        assert!(by_type("apps/v1", "Deployment").is_some());
        assert!(by_type("extensions/v1beta1", "Deployment").is_none());
        assert!(by_type("autoscaling/v1", "HorizontalPodAutoscaler").is_some());
        assert_eq!(kind("Deployment").qualified_singular(), "deployment.apps");
        assert_eq!(kind("Service").qualified_singular(), "service");
    }
}
