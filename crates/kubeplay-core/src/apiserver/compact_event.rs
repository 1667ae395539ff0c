//! How the store keeps an Event: about a third of a `core/v1` Event's size. A cluster of
//! 150,000 Pods holds close to a million Events, nearly all written by the event recorder
//! with the same few fields set; kept as k8s-openapi structs they were a quarter of the
//! envelope's memory. Repeated words (kinds, reasons, components, node names, and messages
//! that do not name the object) are stored once and named by number, uids and versions are
//! numbers, and the store's key holds the name and namespace. An
//! Event with any other field set (one a user created, say) is not compacted: the store
//! keeps it whole. Reading expands exactly the Event that was written.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::api::ObjectKey;

/// Words many Events share, stored once and named by number.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    words: Vec<Rc<str>>,
    numbers: BTreeMap<Rc<str>, Number>,
}

/// A word's number: its place in the interner, from 1.
type Number = NonZeroU32;

/// A shared word, if set.
type Word = Option<Number>;

/// Messages are shared only while the interner holds fewer words than this: most are the same
/// for every Pod of a template ("Started container web"), but some are not (a pull's
/// duration), and words are never dropped.
const SHARED_MESSAGES: usize = 1 << 16;

impl Interner {
    fn intern(&mut self, s: &str) -> Option<Number> {
        if let Some(&n) = self.numbers.get(s) {
            return Some(n);
        }
        let n = Number::new(u32::try_from(self.words.len() + 1).ok()?)?;
        let shared: Rc<str> = Rc::from(s);
        self.words.push(Rc::clone(&shared));
        self.numbers.insert(shared, n);
        Some(n)
    }

    /// `s`'s number; `None` for an unset word, or, past `u32::MAX` words, refused (the caller
    /// then keeps the Event whole).
    fn word(&mut self, s: &Option<String>) -> Option<Word> {
        match s {
            None => Some(None),
            Some(s) => self.intern(s).map(Some),
        }
    }

    fn text(&self, w: Word) -> Option<String> {
        w.and_then(|n| self.words.get(n.get() as usize - 1)).map(|s| s.to_string())
    }
}

/// A canonical lowercase UUID (`8-4-4-4-12` hex digits) as its sixteen bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Uuid([u8; 16]);

impl Uuid {
    fn parse(s: &str) -> Option<Uuid> {
        let b = s.as_bytes();
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return None;
        }
        // With the four dashes where they belong, the other 32 bytes are the digits.
        let mut digits = [0u8; 32];
        for (d, &c) in digits.iter_mut().zip(b.iter().filter(|&&c| c != b'-')) {
            *d = c;
        }
        let mut out = [0u8; 16];
        (b.iter().filter(|&&c| c == b'-').count() == 4 && hex::decode(&digits, &mut out)).then_some(Uuid(out))
    }

    fn format(self) -> String {
        let mut s = String::with_capacity(36);
        for (i, part) in [&self.0[0..4], &self.0[4..6], &self.0[6..8], &self.0[8..10], &self.0[10..16]].into_iter().enumerate() {
            if i > 0 {
                s.push('-');
            }
            hex::push(&mut s, part);
        }
        s
    }
}

/// Lowercase hexadecimal, as uids and container IDs are written.
pub(super) mod hex {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";

    /// Fills `out` from exactly twice as many lowercase hex digits; `false` if they are not.
    pub fn decode(digits: &[u8], out: &mut [u8]) -> bool {
        let value = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        if digits.len() != 2 * out.len() {
            return false;
        }
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            match (value(pair[0]), value(pair[1])) {
                (Some(high), Some(low)) => *byte = (high << 4) | low,
                _ => return false,
            }
        }
        true
    }

    pub fn push(s: &mut String, bytes: &[u8]) {
        for b in bytes {
            s.push(char::from(DIGITS[usize::from(b >> 4)]));
            s.push(char::from(DIGITS[usize::from(b & 15)]));
        }
    }
}

/// A resourceVersion the API server wrote (decimal, no leading zeros) as its number.
fn version(s: &str) -> Option<u64> {
    let n: u64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

/// The involved object's name: nearly always the start of the Event's own
/// (`<object>.<hex UnixNano>`), so not kept twice.
#[derive(Clone, Debug, PartialEq)]
enum InvolvedName {
    Unset,
    /// The Event's name up to its last dot.
    FromKey,
    Own(Box<str>),
}

/// `metadata.creationTimestamp`, `firstTimestamp` and `lastTimestamp`: one time for an Event
/// written once (all three are its write), three for one counted again.
#[derive(Clone, Debug, PartialEq)]
enum Times {
    Same(Option<Time>),
    Apart(Box<[Option<Time>; 3]>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CompactEvent {
    uid: Uuid,
    resource_version: u64,
    times: Times,
    involved_api_version: Word,
    involved_kind: Word,
    involved_name: InvolvedName,
    involved_namespace: Word,
    involved_uid: Option<Uuid>,
    involved_resource_version: Option<u64>,
    involved_field_path: Word,
    reason: Word,
    /// The message, shared when it does not name the object (so that it is the same for many
    /// Events) and kept apart otherwise.
    shared_message: Word,
    message: Option<Box<str>>,
    type_: Word,
    count: Option<i32>,
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
        let names_object = |m: &str| involved_name.as_deref().is_some_and(|n| !n.is_empty() && m.contains(n));
        let (shared_message, message) = match message.as_deref() {
            Some(m) if !names_object(m) && words.words.len() < SHARED_MESSAGES => (words.word(message)?, None),
            m => (None, m.map(Box::from)),
        };
        let source = match source {
            Some(s) => Some((words.word(&s.component)?, words.word(&s.host)?)),
            None => None,
        };
        let involved_name = match involved_name.as_deref() {
            None => InvolvedName::Unset,
            Some(n) if name.rsplit_once('.').is_some_and(|(start, _)| start == n) => InvolvedName::FromKey,
            Some(n) => InvolvedName::Own(Box::from(n)),
        };
        let times = if creation_timestamp == first_timestamp && first_timestamp == last_timestamp {
            Times::Same(creation_timestamp.clone())
        } else {
            Times::Apart(Box::new([creation_timestamp.clone(), first_timestamp.clone(), last_timestamp.clone()]))
        };
        Some(CompactEvent {
            uid: Uuid::parse(uid)?,
            resource_version: version(resource_version)?,
            times,
            involved_api_version: words.word(api_version)?,
            involved_kind: words.word(kind)?,
            involved_name,
            involved_namespace: words.word(involved_namespace)?,
            involved_uid,
            involved_resource_version,
            involved_field_path: words.word(field_path)?,
            reason: words.word(reason)?,
            shared_message,
            message,
            type_: words.word(type_)?,
            count: *count,
            source,
            reporting_component: words.word(reporting_component)?,
            reporting_instance: words.word(reporting_instance)?,
        })
    }

    /// The Event as it was written, named by `key`.
    pub fn expand(&self, key: &ObjectKey, words: &Interner) -> Event {
        let text = |w: Word| words.text(w);
        let [creation_timestamp, first_timestamp, last_timestamp] = match &self.times {
            Times::Same(t) => [t.clone(), t.clone(), t.clone()],
            Times::Apart(times) => (**times).clone(),
        };
        let involved_name = match &self.involved_name {
            InvolvedName::Unset => None,
            InvolvedName::FromKey => key.name.rsplit_once('.').map(|(start, _)| start.to_string()),
            InvolvedName::Own(n) => Some(n.to_string()),
        };
        Event {
            metadata: ObjectMeta {
                name: Some(key.name.clone()),
                namespace: Some(key.namespace.clone()),
                creation_timestamp,
                resource_version: Some(self.resource_version.to_string()),
                uid: Some(self.uid.format()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: text(self.involved_api_version),
                field_path: text(self.involved_field_path),
                kind: text(self.involved_kind),
                name: involved_name,
                namespace: text(self.involved_namespace),
                resource_version: self.involved_resource_version.map(|v| v.to_string()),
                uid: self.involved_uid.map(Uuid::format),
            },
            reason: text(self.reason),
            message: self.message.as_deref().map(str::to_string).or_else(|| text(self.shared_message)),
            type_: text(self.type_),
            count: self.count,
            first_timestamp,
            last_timestamp,
            source: self.source.map(|(component, host)| EventSource { component: text(component), host: text(host) }),
            reporting_component: text(self.reporting_component),
            reporting_instance: text(self.reporting_instance),
            ..Default::default()
        }
    }

    pub fn last_timestamp(&self) -> Option<&Time> {
        match &self.times {
            Times::Same(t) => t.as_ref(),
            Times::Apart(times) => times[2].as_ref(),
        }
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
        assert_eq!(compact.expand(&key(&e), &words), e);
        assert!(CompactEvent::about("9f8e7d6c-5b4a-4321-8fed-cba987654321")(&compact));
        assert!(!CompactEvent::about("9f8e7d6c-5b4a-4321-8fed-cba987654322")(&compact));
        assert!(!CompactEvent::about("not-a-uuid")(&compact));
        // Fields left unset stay unset.
        let mut bare = event();
        bare.involved_object = ObjectReference::default();
        bare.source = Some(EventSource::default());
        bare.count = None;
        let compact = CompactEvent::new(&key(&bare), &bare, &mut words).expect("compacts");
        assert_eq!(compact.expand(&key(&bare), &words), bare);
        // The involved object's name is read from the Event's own when it starts it, and
        // the three times are held once while they are the same.
        let mut once = event();
        (once.count, once.last_timestamp) = (Some(1), once.first_timestamp.clone());
        let compact = CompactEvent::new(&key(&once), &once, &mut words).expect("compacts");
        assert_eq!((&compact.involved_name, matches!(compact.times, Times::Same(_))), (&InvolvedName::FromKey, true));
        assert_eq!(compact.expand(&key(&once), &words), once);
        let mut counted = event();
        counted.count = Some(2);
        counted.last_timestamp = Some(to_time(SimTime(9_000)));
        counted.involved_object.name = Some("web-1.18a2b3c4d5e6f708".into());
        let compact = CompactEvent::new(&key(&counted), &counted, &mut words).expect("compacts");
        assert!(matches!((&compact.involved_name, &compact.times), (InvolvedName::Own(_), Times::Apart(_))));
        assert_eq!(compact.expand(&key(&counted), &words), counted);
        assert_eq!(compact.last_timestamp(), Some(&to_time(SimTime(9_000))));
        let mut dotted = event();
        dotted.metadata.name = Some("web.1.18a2b3c4d5e6f708".into());
        dotted.involved_object.name = Some("web.1".into());
        let compact = CompactEvent::new(&key(&dotted), &dotted, &mut words).expect("compacts");
        assert_eq!(compact.expand(&key(&dotted), &words), dotted);
    }

    #[test]
    fn keeps_whole_what_it_cannot_hold_exactly() {
        let mut words = Interner::default();
        let cases: [fn(&mut Event); 9] = [
            |e| e.action = Some("Binding".into()),
            |e| e.metadata.labels = Some([("a".to_string(), "b".to_string())].into()),
            |e| e.metadata.uid = Some("not-a-uuid".into()),
            |e| e.metadata.uid = Some("0B7C2A8E-1F2D-4C3B-9A8E-7D6C5B4A3F2E".into()),
            |e| e.metadata.uid = Some("0b7c2a8e-1f2d-4c3b-9a8e-7d6c5b4a-f2e".into()),
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
        assert!(a.reason.is_some() && a.reason == b.reason);
        assert!(a.shared_message.is_some() && a.shared_message == b.shared_message, "a message that does not name the object");
        assert_eq!(words.words.len(), 9, "v1, Pod, default, spec.containers{{web}}, Pulled, the message, Normal, kubelet, kind-worker");
        // A message naming the object is kept with its Event.
        let mut named = event();
        named.message = Some("Successfully assigned default/web-1 to kind-worker".into());
        let c = CompactEvent::new(&key(&named), &named, &mut words).expect("compacts");
        assert_eq!((c.shared_message, c.message.as_deref()), (None, named.message.as_deref()));
        assert_eq!(c.expand(&key(&named), &words), named);
    }
}
