//! A node failure injected from the playground (`kubeplay node fail NAME`): the annotation
//! says since when the node's kubelet is gone. The kubelet on it stops (no status, no
//! probes, no terminations), and the node lifecycle controller notices when the grace period
//! runs out — as a real control plane notices a kubelet that stopped posting status.

use k8s_openapi::api::core::v1::Node;

use crate::time::{from_time, SimTime};

/// `kubeplay.dev/down-since: <RFC 3339 time>`.
pub const DOWN_SINCE: &str = "kubeplay.dev/down-since";

/// When the node's kubelet went away, if it has.
pub fn down_since(node: &Node) -> Option<SimTime> {
    let text = node.metadata.annotations.as_ref()?.get(DOWN_SINCE)?;
    let t: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time = serde_json::from_value(serde_json::Value::String(text.clone())).ok()?;
    Some(from_time(&t))
}
