//! Kubernetes Events (`core/v1`), recorded as the client-go event recorder does: named
//! `<object>.<hex UnixNano>`, identical events within ten minutes folded into one with a
//! higher `count` (the EventCorrelator's aggregation), and removed an hour after their last
//! write, as kube-apiserver's `--event-ttl=1h` lease does.

use std::collections::BTreeMap;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{Object, ObjectKey};
use crate::time::{from_time, SimDuration, SimTime};

/// What a component reports about an object.
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

impl<'a> NewEvent<'a> {
    /// A Normal event from a control-plane component.
    pub fn normal(component: &'a str, involved: &'a Object, reason: &'a str, message: String) -> NewEvent<'a> {
        NewEvent { involved, warning: false, reason, message, component, host: None, field_path: None }
    }

    /// A Warning event from a control-plane component.
    pub fn warning(component: &'a str, involved: &'a Object, reason: &'a str, message: String) -> NewEvent<'a> {
        NewEvent { warning: true, ..NewEvent::normal(component, involved, reason, message) }
    }
}

const AGGREGATION_WINDOW: SimDuration = SimDuration(10 * 60 * 1000);
/// kube-apiserver's default `--event-ttl`.
pub const EVENT_TTL: SimDuration = SimDuration(60 * 60 * 1000);

/// A hash of what the EventCorrelator compares (involved object uid, field path, reason,
/// message, type). Kept instead of the strings themselves: the envelope has ~850,000 Events. A
/// lookup checks the stored Event's own fields, so a collision can never merge two events.
pub(super) type CorrelationKey = u64;

#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// The aggregation index: an Event is found by what it says, not by scanning Events.
    /// Each correlation names the slot in `expiry` of the latest Event that says it.
    by_correlation: BTreeMap<CorrelationKey, Slot>,
    /// When each Event expires, in write order within an instant (each Event appears once,
    /// at its latest write), with its name and what it says. Keyed by numbers, not names:
    /// the envelope writes nearly a million.
    expiry: BTreeMap<Slot, (EventName, CorrelationKey)>,
    /// Namespaces, each held once for all the Events in it.
    namespaces: crate::dedup::Dedup<str>,
    writes: u64,
}

/// An Event's namespace and name, in less room than an `ObjectKey`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EventName {
    namespace: Rc<str>,
    name: Box<str>,
}

impl EventName {
    fn key(&self) -> ObjectKey {
        ObjectKey::new("Event", &self.namespace, &self.name)
    }

    fn is(&self, key: &ObjectKey) -> bool {
        *self.namespace == *key.namespace && *self.name == *key.name
    }
}

/// (expiry time, write number).
type Slot = (SimTime, u64);

/// The Event to write for `e` at `now`: a new one, or `existing` counted once more.
pub(super) fn build(e: &NewEvent<'_>, now: SimTime, existing: Option<&Event>, name_nanos: u64, uid: impl FnOnce() -> String) -> Event {
    let timestamp = crate::time::to_time(now);
    if let Some(ev) = existing {
        let mut ev = ev.clone();
        ev.count = Some(ev.count.unwrap_or(1) + 1);
        ev.last_timestamp = Some(timestamp);
        return ev;
    }
    let meta = e.involved.meta();
    let namespace = match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => ns.to_string(),
        _ => "default".to_string(),
    };
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{}.{:x}", meta.name.as_deref().unwrap_or(""), name_nanos)),
            namespace: Some(namespace),
            creation_timestamp: Some(timestamp.clone()),
            uid: Some(uid()),
            ..Default::default()
        },
        involved_object: involved_reference(e),
        reason: Some(e.reason.to_string()),
        message: Some(e.message.clone()),
        type_: Some(event_type(e).to_string()),
        count: Some(1),
        first_timestamp: Some(timestamp.clone()),
        last_timestamp: Some(timestamp),
        source: Some(EventSource { component: Some(e.component.to_string()), host: e.host.map(str::to_string) }),
        reporting_component: Some(e.component.to_string()),
        reporting_instance: Some(e.host.unwrap_or(e.component).to_string()),
        ..Default::default()
    }
}

fn event_type(e: &NewEvent<'_>) -> &'static str {
    if e.warning {
        "Warning"
    } else {
        "Normal"
    }
}

fn involved_reference(e: &NewEvent<'_>) -> ObjectReference {
    let meta = e.involved.meta();
    ObjectReference {
        api_version: Some(e.involved.api_version()),
        kind: Some(e.involved.info().kind.to_string()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: e.field_path.clone(),
    }
}

impl Recorder {
    /// The key of the Event that `e` would aggregate into at `now`, if any.
    pub(super) fn existing<'s>(
        &self,
        e: &NewEvent<'_>,
        correlation: CorrelationKey,
        now: SimTime,
        get: impl Fn(&ObjectKey) -> Option<&'s Event>,
    ) -> Option<&'s Event> {
        let slot = self.by_correlation.get(&correlation)?;
        let (name, _) = self.expiry.get(slot)?;
        get(&name.key())
            .filter(|ev| says(ev, e) && ev.last_timestamp.as_ref().is_some_and(|t| now.since(from_time(t)) < AGGREGATION_WINDOW))
    }

    /// Notes that the Event `key` for `e` was written at `now`.
    pub(super) fn written(&mut self, correlation: CorrelationKey, key: ObjectKey, now: SimTime) {
        // An aggregated write renews the same Event's lease.
        let renewed = self.by_correlation.get(&correlation).filter(|slot| self.expiry.get(slot).is_some_and(|(n, _)| n.is(&key)));
        let name = match renewed.copied().and_then(|slot| self.expiry.remove(&slot)) {
            Some((name, _)) => name,
            None => EventName { namespace: self.namespaces.word(&key.namespace), name: key.name.into_boxed_str() },
        };
        self.writes += 1;
        let slot = (now.plus(EVENT_TTL), self.writes);
        self.expiry.insert(slot, (name, correlation));
        self.by_correlation.insert(correlation, slot);
    }

    /// Events whose time to live has run out by `now`, forgotten by the recorder.
    pub(super) fn expired(&mut self, now: SimTime) -> Vec<ObjectKey> {
        let mut gone = Vec::new();
        while let Some(entry) = self.expiry.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (slot, (name, correlation)) = entry.remove_entry();
            if self.by_correlation.get(&correlation) == Some(&slot) {
                self.by_correlation.remove(&correlation);
            }
            gone.push(name.key());
        }
        gone
    }

    /// When the next Event expires.
    pub(super) fn next_expiry(&self) -> Option<SimTime> {
        self.expiry.first_key_value().map(|((t, _), _)| *t)
    }
}

pub(super) fn correlation(e: &NewEvent<'_>) -> CorrelationKey {
    let uid = e.involved.meta().uid.as_deref().unwrap_or_default();
    let fields = [uid, e.field_path.as_deref().unwrap_or("\0"), e.reason, &e.message, event_type(e)];
    // A byte no UTF-8 string contains ends each field, so fields cannot run together.
    fields.iter().fold(crate::rng::FNV1A64_OFFSET, |h, f| crate::rng::fnv1a64_extend(crate::rng::fnv1a64_extend(h, f.as_bytes()), &[0xff]))
}

/// Whether a stored Event says what `e` says (the correlator's comparison).
fn says(ev: &Event, e: &NewEvent<'_>) -> bool {
    ev.involved_object.uid == e.involved.meta().uid
        && ev.involved_object.field_path == e.field_path
        && ev.reason.as_deref() == Some(e.reason)
        && ev.message.as_deref() == Some(e.message.as_str())
        && ev.type_.as_deref() == Some(event_type(e))
}
