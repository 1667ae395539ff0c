//! PriorityClass's fixed points: the two system classes every cluster has and the values
//! reserved for them (`pkg/apis/scheduling`).

pub const SYSTEM_CLUSTER_CRITICAL: i32 = 2_000_000_000;
/// Names starting with this are reserved for the system classes.
pub const SYSTEM_PREFIX: &str = "system-";
/// Values above this are reserved for the system classes.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i64 = 1_000_000_000;

/// The system classes: name, value, description.
pub const SYSTEM_CLASSES: [(&str, i32, &str); 2] = [
    (
        "system-node-critical",
        SYSTEM_CLUSTER_CRITICAL + 1000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        SYSTEM_CLUSTER_CRITICAL,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// The system classes as manifests, for bootstrap.
pub fn system_classes_yaml() -> String {
    SYSTEM_CLASSES
        .iter()
        .map(|(name, value, description)| {
            format!("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: {name}\nvalue: {value}\ndescription: {description}\n")
        })
        .collect::<Vec<_>>()
        .join("---\n")
}
