//! The `Priority` admission plugin (`plugin/pkg/admission/priority`): a new Pod's
//! `priorityClassName` is resolved to `spec.priority` and `spec.preemptionPolicy` (the
//! cluster's globalDefault class when it names none), and at most one PriorityClass may be the
//! global default. The two system classes exist from the start, as the API server's
//! post-start hook creates them.

use k8s_openapi::api::core::v1::Pod;

use super::ApiServer;
use crate::api::Object;

pub use crate::api::priority_class::{HIGHEST_USER_DEFINABLE_PRIORITY, SYSTEM_CLASSES, SYSTEM_PREFIX};

/// What a PriorityClass says.
struct Class {
    name: String,
    value: i32,
    global_default: bool,
    preemption_policy: String,
}

fn class(object: &Object) -> Option<Class> {
    let Object::Stored(st) = object else { return None };
    if st.info.kind != "PriorityClass" {
        return None;
    }
    Some(Class {
        name: st.metadata.name.clone().unwrap_or_default(),
        value: st.body.get("value").and_then(serde_json::Value::as_i64).unwrap_or(0) as i32,
        global_default: st.body.get("globalDefault").and_then(serde_json::Value::as_bool).unwrap_or(false),
        preemption_policy: st
            .body
            .get("preemptionPolicy")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("PreemptLowerPriority")
            .to_string(),
    })
}

/// The global default class; should a race have left several, the lowest value wins.
fn default_class(api: &ApiServer) -> Option<Class> {
    api.store.list("PriorityClass", None).filter_map(class).filter(|c| c.global_default).min_by_key(|c| c.value)
}

/// `admitPod` on create. `shown` is the name the error quotes (a generateName Pod is not yet
/// named when admission runs, so its prefix is quoted).
pub(super) fn admit_pod(api: &ApiServer, pod: &mut Pod, shown: &str) -> Result<(), String> {
    let Some(spec) = pod.spec.as_mut() else { return Ok(()) };
    let forbidden = |why: String| format!("pods {shown:?} is forbidden: {why}");
    let named = spec.priority_class_name.clone().filter(|n| !n.is_empty());
    let resolved = match named {
        None => default_class(api),
        Some(name) => match api.store.list("PriorityClass", None).filter_map(class).find(|c| c.name == name) {
            Some(c) => Some(c),
            None => return Err(forbidden(format!("no PriorityClass with name {name} was found"))),
        },
    };
    let (name, priority, policy) = match resolved {
        Some(c) => (Some(c.name), c.value, c.preemption_policy),
        None => (None, 0, "PreemptLowerPriority".to_string()),
    };
    if let Some(given) = spec.priority.filter(|p| *p != priority) {
        return Err(forbidden(format!(
            "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
        )));
    }
    if let Some(given) = spec.preemption_policy.as_deref().filter(|p| *p != policy) {
        return Err(forbidden(format!(
            "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
        )));
    }
    if name.is_some() {
        spec.priority_class_name = name;
    }
    spec.priority = Some(priority);
    spec.preemption_policy = Some(policy);
    Ok(())
}

/// `validatePriorityClass`: only one class may be the global default.
pub(super) fn admit_priority_class(api: &ApiServer, object: &Object) -> Result<(), String> {
    let Some(new) = class(object) else { return Ok(()) };
    if !new.global_default {
        return Ok(());
    }
    match default_class(api) {
        Some(existing) if existing.name != new.name => Err(format!(
            "priorityclasses.scheduling.k8s.io {:?} is forbidden: PriorityClass {} is already marked as default. Only one default can exist",
            new.name, existing.name
        )),
        _ => Ok(()),
    }
}
