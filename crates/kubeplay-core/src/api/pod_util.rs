//! Facts about Pods that several controllers need (`k8s.io/kubernetes/pkg/api/v1/pod`).

use k8s_openapi::api::core::v1::{Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::time::{from_time, SimDuration, SimTime};

/// Not terminal and not being deleted (`controller.IsPodActive`).
pub fn is_active(pod: &Pod) -> bool {
    !is_terminal(pod) && pod.metadata.deletion_timestamp.is_none()
}

pub fn condition<'a>(pod: &'a Pod, type_: &str) -> Option<&'a PodCondition> {
    pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

pub fn is_ready(pod: &Pod) -> bool {
    condition(pod, "Ready").is_some_and(|c| c.status == "True")
}

/// Ready for at least `min_ready_seconds` (`podutil.IsPodAvailable`).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: SimTime) -> bool {
    let Some(ready) = condition(pod, "Ready").filter(|c| c.status == "True") else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    let since = ready.last_transition_time.as_ref().map(from_time).unwrap_or(now);
    now.since(since) >= SimDuration::from_secs(min_ready_seconds as u64)
}

pub fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref()?.node_name.as_deref()
}

pub fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending")
}

/// Whether `pod` is controlled by the object with `uid`.
pub fn controlled_by(pod_meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, uid: &str) -> bool {
    pod_meta.owner_references.iter().flatten().any(|o| o.controller == Some(true) && o.uid == uid)
}

/// Succeeded or Failed: a terminal Pod's containers will not run again.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// A Pod condition that became `status` at `now`.
pub fn new_condition(type_: &str, status: bool, reason: Option<&str>, message: Option<String>, now: Time) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: if status { "True" } else { "False" }.into(),
        reason: reason.map(str::to_string),
        message,
        last_transition_time: Some(now),
        last_probe_time: None,
        observed_generation: None,
    }
}

/// Sets a condition, keeping its transition time when the status is unchanged
/// (`podutil.UpdatePodCondition`).
pub fn set_condition(pod: &mut Pod, c: PodCondition) {
    let conditions = pod.status.get_or_insert_with(Default::default).conditions.get_or_insert_with(Vec::new);
    match conditions.iter_mut().find(|x| x.type_ == c.type_) {
        Some(existing) if existing.status == c.status => {
            existing.reason = c.reason;
            existing.message = c.message;
        }
        Some(existing) => *existing = c,
        None => conditions.push(c),
    }
}
