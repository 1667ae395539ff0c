//! How the store keeps an Event: about a third of a `core/v1` Event's size. A cluster of
//! 150,000 Pods holds close to a million Events, nearly all written by the event recorder
//! with the same few fields set; kept as k8s-openapi structs they were a quarter of the
//! envelope's memory. Repeated words (kinds, reasons, components, node names) are shared,
//! uids and versions are numbers, and the store's key holds the name and namespace. An
//! Event with any other field set (one a user created, say) is not compacted: the store
//! keeps it whole. Reading expands exactly the Event that was written.

use std::collections::BTreeSet;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::api::ObjectKey;

/// Words many Events share, stored once.
#[derive(Clone, Debug, Default)]
pub struct Interner(BTreeSet<Rc<str>>);

impl Interner {
    fn intern(&mut self, s: &str) -> Rc<str> {
        if let Some(shared) = self.0.get(s) {
            return Rc::clone(shared);
        }
        let shared: Rc<str> = Rc::from(s);
        self.0.insert(Rc::clone(&shared));
        shared
    }

    fn word(&mut self, s: &Option<String>) -> Option<Rc<str>> {
        s.as_deref().map(|s| self.intern(s))
    }
}

/// A shared word, if set.
type Word = Option<Rc<str>>;

/// A canonical lowercase UUID (`8-4-4-4-12` hex digits) as its sixteen bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Uuid([u8; 16]);

impl Uuid {
    fn parse(s: &str) -> Option<Uuid> {
        let b = s.as_bytes();
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return None;
        }
        let mut out = [0u8; 16];
        let mut digits = b.iter().filter(|&&c| c != b'-').map(|&c| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        });
        for byte in &mut out {
            *byte = (digits.next()?? << 4) | digits.next()??;
        }
        Some(Uuid(out))
    }

    fn format(self) -> String {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }
}

/// A resourceVersion the API server wrote (decimal, no leading zeros) as its number.
fn version(s: &str) -> Option<u64> {
    let n: u64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

fn text(s: &Option<Rc<str>>) -> Option<String> {
    s.as_deref().map(str::to_string)
}

#[derive(Clone, Debug, PartialEq)]
pub struct CompactEvent {
    uid: Uuid,
    resource_version: u64,
    creation_timestamp: Option<Time>,
    involved_api_version: Word,
    involved_kind: Word,
    involved_name: Option<Box<str>>,
    involved_namespace: Word,
    involved_uid: Option<Uuid>,
    involved_resource_version: Option<u64>,
    involved_field_path: Word,
    reason: Word,
    message: Option<Box<str>>,
    type_: Word,
    count: Option<i32>,
    first_timestamp: Option<Time>,
    last_timestamp: Option<Time>,
    /// `source.component` and `source.host`.
    source: Option<(Word, Word)>,
    reporting_component: Word,
    reporting_instance: Word,
}

impl CompactEvent {
    /// The compact form of `event` stored under `key`, or `None` when it sets a field the
    /// compact form does not hold (the patterns name every field, so a new one in
    /// k8s-openapi fails to compile here rather than being dropped).
    pub fn new(key: &ObjectKey, event: &Event, words: &mut Interner) -> Option<CompactEvent> {
        let Event {
            action: None,
            count,
            event_time: None,
            first_timestamp,
            involved_object,
            last_timestamp,
            message,
            metadata,
            reason,
            related: None,
            reporting_component,
            reporting_instance,
            series: None,
            source,
            type_,
        } = event
        else {
            return None;
        };
        let ObjectMeta {
            annotations: None,
            creation_timestamp,
            deletion_grace_period_seconds: None,
            deletion_timestamp: None,
            finalizers: None,
            generate_name: None,
            generation: None,
            labels: None,
            managed_fields: None,
            name: Some(name),
            namespace: Some(namespace),
            owner_references: None,
            resource_version: Some(resource_version),
            self_link: None,
            uid: Some(uid),
        } = metadata
        else {
            return None;
        };
        let ObjectReference {
            api_version,
            field_path,
            kind,
            name: involved_name,
            namespace: involved_namespace,
            resource_version: rv,
            uid: involved_uid,
        } = involved_object;
        if *name != key.name || *namespace != key.namespace || namespace.is_empty() {
            return None;
        }
        let involved_uid = match involved_uid {
            Some(u) => Some(Uuid::parse(u)?),
            None => None,
        };
        let involved_resource_version = match rv {
            Some(v) => Some(version(v)?),
            None => None,
        };
        Some(CompactEvent {
            uid: Uuid::parse(uid)?,
            resource_version: version(resource_version)?,
            creation_timestamp: creation_timestamp.clone(),
            involved_api_version: words.word(api_version),
            involved_kind: words.word(kind),
            involved_name: involved_name.as_deref().map(Box::from),
            involved_namespace: words.word(involved_namespace),
            involved_uid,
            involved_resource_version,
            involved_field_path: words.word(field_path),
            reason: words.word(reason),
            message: message.as_deref().map(Box::from),
            type_: words.word(type_),
            count: *count,
            first_timestamp: first_timestamp.clone(),
            last_timestamp: last_timestamp.clone(),
            source: source.as_ref().map(|s| (words.word(&s.component), words.word(&s.host))),
            reporting_component: words.word(reporting_component),
            reporting_instance: words.word(reporting_instance),
        })
    }

    /// The Event as it was written, named by `key`.
    pub fn expand(&self, key: &ObjectKey) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(key.name.clone()),
                namespace: Some(key.namespace.clone()),
                creation_timestamp: self.creation_timestamp.clone(),
                resource_version: Some(self.resource_version.to_string()),
                uid: Some(self.uid.format()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: text(&self.involved_api_version),
                field_path: text(&self.involved_field_path),
                kind: text(&self.involved_kind),
                name: self.involved_name.as_deref().map(str::to_string),
                namespace: text(&self.involved_namespace),
                resource_version: self.involved_resource_version.map(|v| v.to_string()),
                uid: self.involved_uid.map(Uuid::format),
            },
            reason: text(&self.reason),
            message: self.message.as_deref().map(str::to_string),
            type_: text(&self.type_),
            count: self.count,
            first_timestamp: self.first_timestamp.clone(),
            last_timestamp: self.last_timestamp.clone(),
            source: self.source.as_ref().map(|(component, host)| EventSource { component: text(component), host: text(host) }),
            reporting_component: text(&self.reporting_component),
            reporting_instance: text(&self.reporting_instance),
            ..Default::default()
        }
    }

    pub fn last_timestamp(&self) -> Option<&Time> {
        self.last_timestamp.as_ref()
    }

    /// A test for "the Event is about the object with `uid`" that reads the compact form
    /// (the uid is parsed once, not once per Event).
    pub fn about(uid: &str) -> impl Fn(&CompactEvent) -> bool {
        let uid = Uuid::parse(uid);
        move |event| uid.is_some() && event.involved_uid == uid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{to_time, SimTime};

    fn event() -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some("web-1.18a2b3c4d5e6f708".into()),
                namespace: Some("default".into()),
                creation_timestamp: Some(to_time(SimTime(5_000))),
                resource_version: Some("42".into()),
                uid: Some("0b7c2a8e-1f2d-4c3b-9a8e-7d6c5b4a3f2e".into()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                field_path: Some("spec.containers{web}".into()),
                kind: Some("Pod".into()),
                name: Some("web-1".into()),
                namespace: Some("default".into()),
                resource_version: Some("40".into()),
                uid: Some("9f8e7d6c-5b4a-4321-8fed-cba987654321".into()),
            },
            reason: Some("Pulled".into()),
            message: Some("Container image \"nginx:1.27\" already present on machine".into()),
            type_: Some("Normal".into()),
            count: Some(2),
            first_timestamp: Some(to_time(SimTime(5_000))),
            last_timestamp: Some(to_time(SimTime(9_000))),
            source: Some(EventSource { component: Some("kubelet".into()), host: Some("kind-worker".into()) }),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some("kind-worker".into()),
            ..Default::default()
        }
    }

    fn key(e: &Event) -> ObjectKey {
        ObjectKey::new("Event", e.metadata.namespace.as_deref().unwrap_or(""), e.metadata.name.as_deref().unwrap_or(""))
    }

    #[test]
    fn expands_to_exactly_the_event_written() {
        let mut words = Interner::default();
        let e = event();
        let compact = CompactEvent::new(&key(&e), &e, &mut words).expect("a recorder's Event compacts");
        assert_eq!(compact.expand(&key(&e)), e);
        assert!(CompactEvent::about("9f8e7d6c-5b4a-4321-8fed-cba987654321")(&compact));
        assert!(!CompactEvent::about("9f8e7d6c-5b4a-4321-8fed-cba987654322")(&compact));
        assert!(!CompactEvent::about("not-a-uuid")(&compact));
        // Fields left unset stay unset.
        let mut bare = event();
        bare.involved_object = ObjectReference::default();
        bare.source = Some(EventSource::default());
        bare.count = None;
        let compact = CompactEvent::new(&key(&bare), &bare, &mut words).expect("compacts");
        assert_eq!(compact.expand(&key(&bare)), bare);
    }

    #[test]
    fn keeps_whole_what_it_cannot_hold_exactly() {
        let mut words = Interner::default();
        let cases: [fn(&mut Event); 8] = [
            |e| e.action = Some("Binding".into()),
            |e| e.metadata.labels = Some([("a".to_string(), "b".to_string())].into()),
            |e| e.metadata.uid = Some("not-a-uuid".into()),
            |e| e.metadata.uid = Some("0B7C2A8E-1F2D-4C3B-9A8E-7D6C5B4A3F2E".into()),
            |e| e.metadata.resource_version = Some("042".into()),
            |e| e.involved_object.resource_version = Some("x".into()),
            |e| e.involved_object.uid = Some("user-chosen".into()),
            |e| e.related = Some(ObjectReference::default()),
        ];
        for change in cases {
            let mut e = event();
            change(&mut e);
            assert_eq!(CompactEvent::new(&key(&e), &e, &mut words), None, "{e:?}");
        }
        let e = event();
        let elsewhere = ObjectKey::new("Event", "other", "web-1.18a2b3c4d5e6f708");
        assert_eq!(CompactEvent::new(&elsewhere, &e, &mut words), None, "the key names the Event");
    }

    #[test]
    fn shares_repeated_words() {
        let mut words = Interner::default();
        let e = event();
        let a = CompactEvent::new(&key(&e), &e, &mut words).expect("compacts");
        let b = CompactEvent::new(&key(&e), &e, &mut words).expect("compacts");
        assert!(a.reason.as_ref().zip(b.reason.as_ref()).is_some_and(|(a, b)| Rc::ptr_eq(a, b)));
    }
}
