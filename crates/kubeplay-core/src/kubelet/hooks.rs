//! Container lifecycle hooks as the kubelet's handler runner runs them: `exec` (in the
//! container, with its files and environment), `httpGet` (to a port the container listens
//! on), and `sleep`. A postStart hook runs as the container starts; if it fails the kubelet
//! records `FailedPostStartHook` ("PostStartHook failed" — the message is left out so no
//! secret leaks into an Event) and kills the container. A preStop hook runs before SIGTERM
//! and takes its time out of the grace period; a failure records `FailedPreStopHook`.

use std::collections::BTreeSet;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{Container, LifecycleHandler, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::env::Env;
use super::sh::{self, Files};
use crate::time::{SimDuration, SimTime};

/// What a hook did: how long it ran, the container's files afterwards, and whether it failed.
pub struct Outcome {
    pub took: SimDuration,
    pub files: Rc<Files>,
    pub failed: bool,
}

pub struct Target<'a> {
    pub spec: &'a Container,
    pub files: Rc<Files>,
    pub env: &'a Env,
    pub listening: &'a BTreeSet<i32>,
    pub net: &'a dyn sh::Net,
}

/// The environment a hook's command runs with (built only for a container that has hooks).
pub fn env(c: &Container, env: &Env, pod: &Pod) -> Env {
    match c.lifecycle {
        Some(_) => super::env::with_hostname(env, pod.metadata.name.as_deref().unwrap_or_default()),
        None => Env::new(),
    }
}

pub fn post_start(c: &Target<'_>, now: SimTime) -> Option<Outcome> {
    let handler = c.spec.lifecycle.as_ref()?.post_start.as_ref()?;
    Some(run(handler, c, now))
}

pub fn pre_stop(c: &Target<'_>, now: SimTime) -> Option<Outcome> {
    let handler = c.spec.lifecycle.as_ref()?.pre_stop.as_ref()?;
    Some(run(handler, c, now))
}

fn run(handler: &LifecycleHandler, c: &Target<'_>, now: SimTime) -> Outcome {
    if let Some(exec) = &handler.exec {
        let command = exec.command.as_deref().unwrap_or_default();
        let result = sh::exec(command, c.files.clone(), c.env, now, c.net);
        return Outcome { took: result.took, files: result.files, failed: result.code != 0 || result.endless };
    }
    if let Some(http) = &handler.http_get {
        let port = match &http.port {
            IntOrString::Int(n) => *n,
            IntOrString::String(name) => {
                c.spec.ports.iter().flatten().find(|p| p.name.as_deref() == Some(name.as_str())).map_or(0, |p| p.container_port)
            }
        };
        return Outcome { took: SimDuration::ZERO, files: c.files.clone(), failed: !c.listening.contains(&port) };
    }
    if let Some(sleep) = &handler.sleep {
        return Outcome { took: SimDuration::from_secs(sleep.seconds.max(0) as u64), files: c.files.clone(), failed: false };
    }
    if let Some(tcp) = &handler.tcp_socket {
        let port = if let IntOrString::Int(n) = &tcp.port { *n } else { 0 };
        return Outcome { took: SimDuration::ZERO, files: c.files.clone(), failed: !c.listening.contains(&port) };
    }
    Outcome { took: SimDuration::ZERO, files: c.files.clone(), failed: false }
}
