//! The kubelet starts a Pod's containers in one order: init containers (each to completion,
//! or — a sidecar, `restartPolicy: Always` — just until it has started), then the app
//! containers. A slot is an index into that order; these helpers find a slot's spec and
//! status, whichever list it lives in.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};

pub fn n_init(pod: &Pod) -> usize {
    pod.spec.as_ref().and_then(|s| s.init_containers.as_ref()).map_or(0, Vec::len)
}

pub fn len(pod: &Pod) -> usize {
    n_init(pod) + pod.spec.as_ref().map_or(0, |s| s.containers.len())
}

pub fn is_init(pod: &Pod, k: usize) -> bool {
    k < n_init(pod)
}

/// An init container that keeps running beside the app containers.
pub fn is_sidecar(pod: &Pod, k: usize) -> bool {
    is_init(pod, k) && spec(pod, k).is_some_and(|c| c.restart_policy.as_deref() == Some("Always"))
}

pub fn spec(pod: &Pod, k: usize) -> Option<&Container> {
    let s = pod.spec.as_ref()?;
    let n = n_init(pod);
    if k < n {
        s.init_containers.as_ref()?.get(k)
    } else {
        s.containers.get(k - n)
    }
}

pub fn status(pod: &Pod, k: usize) -> Option<&ContainerStatus> {
    let n = n_init(pod);
    let s = pod.status.as_ref()?;
    if k < n {
        s.init_container_statuses.as_ref()?.get(k)
    } else {
        s.container_statuses.as_ref()?.get(k - n)
    }
}

pub fn status_mut(pod: &mut Pod, k: usize) -> Option<&mut ContainerStatus> {
    let n = n_init(pod);
    let s = pod.status.as_mut()?;
    if k < n {
        s.init_container_statuses.as_mut()?.get_mut(k)
    } else {
        s.container_statuses.as_mut()?.get_mut(k - n)
    }
}

/// `spec.initContainers{name}` or `spec.containers{name}`, as events name a container.
pub fn field_path(pod: &Pod, k: usize) -> String {
    let name = spec(pod, k).map(|c| c.name.as_str()).unwrap_or_default();
    if is_init(pod, k) {
        format!("spec.initContainers{{{name}}}")
    } else {
        format!("spec.containers{{{name}}}")
    }
}

/// Slots of the containers whose readiness makes the Pod ready: sidecars and app containers.
pub fn serving(pod: &Pod) -> impl Iterator<Item = usize> + '_ {
    (0..len(pod)).filter(move |k| !is_init(pod, *k) || is_sidecar(pod, *k))
}
