//! Kubernetes Events (`core/v1`), recorded as the client-go event recorder does: named
//! `<object>.<hex UnixNano>`, and identical events within ten minutes folded into one with a
//! higher `count` (the EventCorrelator's aggregation).

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::Object;
use crate::cluster::{from_time, Cluster};
use crate::time::SimDuration;

pub struct NewEvent<'a> {
    pub involved: &'a Object,
    pub warning: bool,
    pub reason: &'a str,
    pub message: String,
    /// `default-scheduler`, `kubelet`, `deployment-controller`, …
    pub component: &'a str,
    /// The node, for kubelet events.
    pub host: Option<&'a str>,
    /// `spec.containers{nginx}` for container events.
    pub field_path: Option<String>,
}

const AGGREGATION_WINDOW: SimDuration = SimDuration(10 * 60 * 1000);

pub(crate) fn record(cluster: &mut Cluster, e: NewEvent<'_>) {
    let meta = e.involved.meta();
    let namespace = match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => ns.to_string(),
        _ => "default".to_string(),
    };
    let involved = ObjectReference {
        api_version: Some(e.involved.api_version()),
        kind: Some(e.involved.info().kind.to_string()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: e.field_path.clone(),
    };
    let type_ = if e.warning { "Warning" } else { "Normal" };
    let now = cluster.now;
    // Events about an object are its dependents in the store's index only by uid, so look
    // them up through the correlator's own key instead of scanning every Event.
    let correlation = (involved.uid.clone().unwrap_or_default(), involved.field_path.clone(), e.reason.to_string(), e.message.clone(), type_);
    let existing = cluster
        .event_keys
        .get(&correlation)
        .and_then(|key| cluster.store.get(key))
        .and_then(Object::as_event)
        .filter(|ev| ev.last_timestamp.as_ref().is_some_and(|t| now.since(from_time(t)) < AGGREGATION_WINDOW))
        .cloned();
    let event = match existing {
        Some(mut ev) => {
            ev.count = Some(ev.count.unwrap_or(1) + 1);
            ev.last_timestamp = Some(cluster.timestamp());
            ev
        }
        None => Event {
            metadata: ObjectMeta {
                name: Some(format!("{}.{:x}", meta.name.as_deref().unwrap_or(""), now.unix_nanos() + cluster.store.resource_version())),
                namespace: Some(namespace),
                creation_timestamp: Some(cluster.timestamp()),
                uid: Some(cluster.rng.uids.uuid()),
                ..Default::default()
            },
            involved_object: involved,
            reason: Some(e.reason.to_string()),
            message: Some(e.message),
            type_: Some(type_.to_string()),
            count: Some(1),
            first_timestamp: Some(cluster.timestamp()),
            last_timestamp: Some(cluster.timestamp()),
            source: Some(EventSource { component: Some(e.component.to_string()), host: e.host.map(str::to_string) }),
            reporting_component: Some(e.component.to_string()),
            reporting_instance: Some(e.host.unwrap_or(e.component).to_string()),
            ..Default::default()
        },
    };
    let event = Object::Event(event);
    cluster.event_keys.insert(correlation, event.key());
    cluster.store.put(event);
}

/// What the EventCorrelator compares: involved object uid, field path, reason, message, type.
pub(crate) type CorrelationKey = (String, Option<String>, String, String, &'static str);
