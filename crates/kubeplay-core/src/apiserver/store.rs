//! The simulated API server's storage: objects in key order behind `Rc` (readers and watch
//! events share them; a writer copies what it changes), Events in their compact form and
//! Pods nothing has touched for a while in theirs (expanded when read), one resourceVersion
//! counter, a log of changes that the host turns into watch events, and the indexes
//! controllers read through.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::rc::Rc;

use super::compact_event::{CompactEvent, Interner};
use super::compact_pod::{CompactPod, PodView, SharedSpecs};
use crate::api::{Object, ObjectKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One watch event.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub key: ObjectKey,
    pub kind: ChangeKind,
    /// The object as it is now (Added, Modified) or was (Deleted).
    pub object: Rc<Object>,
    /// The version before a modification (informers hand handlers both).
    pub old: Option<Rc<Object>>,
}

/// How an object is kept.
#[derive(Clone, Debug)]
enum Entry {
    Whole(Rc<Object>),
    /// An Event in its compact form, and its expansion while a reader holds it.
    Event(Box<(CompactEvent, OnceCell<Rc<Object>>)>),
    /// A Pod in its compact form, and its expansion while it is among the recently used.
    Pod(Box<(CompactPod, OnceCell<Rc<Object>>)>),
}

/// How many of the latest Pod writes and reads keep their Pod whole: the Pods used within them
/// stay whole, the others are kept compact (every Pod of a playground-sized cluster stays
/// whole).
const HOT_PODS: usize = 8192;

type LabelIndex = BTreeMap<String, BTreeMap<String, BTreeMap<String, BTreeSet<String>>>>;

/// Whether two versions of an object sit in the same places in the owner and node indexes.
fn same_index_fields(a: &Object, b: &Object) -> bool {
    fn node(o: &Object) -> Option<&str> {
        o.as_pod().and_then(|p| p.spec.as_ref()?.node_name.as_deref())
    }
    a.meta().owner_references == b.meta().owner_references && node(a) == node(b)
}

/// Kind → namespace → name → object: the key's order, and a lookup compares names only
/// (a single map keyed by `ObjectKey` compared kind and namespace at every step).
type Objects = BTreeMap<&'static str, BTreeMap<String, BTreeMap<String, Entry>>>;

#[derive(Clone, Debug, Default)]
pub struct Store {
    objects: Objects,
    len: usize,
    /// Words Events share (kinds, reasons, components, node names, messages).
    words: Interner,
    /// Events and Pods expanded for readers since the last write. An Event's expansion is
    /// dropped again at the next write, so reading every Event (`kubectl get events -A`) does
    /// not keep them all expanded; a Pod's joins the recently used.
    expanded: RefCell<Vec<ObjectKey>>,
    /// Specs compact Pods share.
    specs: SharedSpecs,
    /// The latest Pod writes and expansions, oldest first, with the Pod's resourceVersion then
    /// (an earlier use of a Pod written again since is stale).
    hot: VecDeque<(ObjectKey, u64)>,
    /// How many uses `hot` keeps, if not [`HOT_PODS`].
    hot_limit: Option<usize>,
    /// What a Pod's entry holds for the moment it is being made compact.
    vacant: Vacant,
    resource_version: u64,
    changes: Vec<Change>,
    /// Owner uid → objects whose ownerReferences name it (the garbage collector's graph).
    dependents: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Node name → Pods bound to it (`spec.nodeName`).
    pods_by_node: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Objects per kind, so counting Pods does not walk them.
    counts: BTreeMap<&'static str, usize>,
    /// Namespace → label key → label value → the names of the Pods with that label, so a
    /// selector finds its Pods without walking the namespace.
    pods_by_label: LabelIndex,
    /// Namespace → Pods no controller owns, so that workload controllers look for Pods to
    /// adopt without walking all the Pods their selector matches.
    orphan_pods: BTreeMap<String, BTreeSet<ObjectKey>>,
}

impl Store {
    /// The object `entry` (stored as `kind`/`namespace`/`name`) holds, expanded (and kept
    /// until the next write) if it is compact.
    fn object<'a>(&'a self, kind: &'static str, namespace: &str, name: &str, entry: &'a Entry) -> &'a Rc<Object> {
        match entry {
            Entry::Whole(object) => object,
            Entry::Event(event) => event.1.get_or_init(|| {
                let key = ObjectKey::new(kind, namespace, name);
                let expanded = Rc::new(Object::from(event.0.expand(&key, &self.words)));
                self.expanded.borrow_mut().push(key);
                expanded
            }),
            Entry::Pod(pod) => pod.1.get_or_init(|| {
                self.expanded.borrow_mut().push(ObjectKey::new(kind, namespace, name));
                Rc::new(Object::from(pod.0.expand()))
            }),
        }
    }

    fn entry(&self, key: &ObjectKey) -> Option<&Entry> {
        self.objects.get(key.kind)?.get(&key.namespace)?.get(&key.name)
    }

    fn entry_mut(&mut self, key: &ObjectKey) -> Option<&mut Entry> {
        self.objects.get_mut(key.kind)?.get_mut(&key.namespace)?.get_mut(&key.name)
    }

    /// Drops the Events' expansions readers asked for (no reader holds one while the store is
    /// written); expanded Pods join the recently used.
    fn release_expanded(&mut self) {
        for key in std::mem::take(self.expanded.get_mut()) {
            match self.entry_mut(&key) {
                Some(Entry::Event(event)) => _ = event.1.take(),
                Some(Entry::Pod(pod)) => {
                    let at = version(pod.0.resource_version());
                    self.hot.push_back((key, at));
                }
                _ => {}
            }
        }
    }

    /// Keeps a Pod whole only while it is among the latest `uses` Pod writes and reads (tests
    /// set a small number to have every Pod kept compact as soon as it can be).
    pub fn set_hot_pod_uses(&mut self, uses: usize) {
        self.hot_limit = Some(uses);
    }

    /// Keeps the least recently used Pods past [`HOT_PODS`] compact.
    fn cool(&mut self) {
        while self.hot.len() > self.hot_limit.unwrap_or(HOT_PODS) {
            let Some((key, at)) = self.hot.pop_front() else { break };
            let Some(entry) = self.objects.get_mut(key.kind).and_then(|m| m.get_mut(&key.namespace)).and_then(|m| m.get_mut(&key.name))
            else {
                continue;
            };
            match entry {
                Entry::Whole(object) if version(object.meta().resource_version.as_deref()) == at && object.as_pod().is_some() => {
                    // Moved, not copied, when nothing else holds this version.
                    let pod = match Rc::try_unwrap(std::mem::replace(object, Rc::clone(&self.vacant.0))) {
                        Ok(Object::Pod(pod)) => pod,
                        Ok(other) => {
                            *object = Rc::new(other);
                            continue;
                        }
                        Err(shared) => {
                            let pod = Box::new(shared.as_pod().cloned().unwrap_or_default());
                            *object = shared;
                            pod
                        }
                    };
                    match self.specs.compact(pod) {
                        Ok(compact) => {
                            *entry = Entry::Pod(Box::new((compact, OnceCell::new())));
                        }
                        Err(pod) => {
                            if Rc::ptr_eq(object, &self.vacant.0) {
                                *object = Rc::new(Object::Pod(pod));
                            }
                        }
                    }
                }
                Entry::Pod(pod) => _ = pod.1.take(),
                Entry::Whole(_) | Entry::Event(_) => {}
            }
        }
    }

    /// Stores `entry` under `key`; a compact Pod it replaces gives back its share of a spec.
    fn insert(&mut self, key: &ObjectKey, entry: Entry) {
        let names = match self.objects.get_mut(key.kind).and_then(|m| m.get_mut(&key.namespace)) {
            Some(names) => names,
            None => self.objects.entry(key.kind).or_default().entry(key.namespace.clone()).or_default(),
        };
        match names.get_mut(&key.name) {
            Some(slot) => {
                if let Entry::Pod(pod) = std::mem::replace(slot, entry) {
                    self.specs.release(pod.0);
                }
            }
            None => {
                names.insert(key.name.clone(), entry);
                self.len += 1;
            }
        }
    }

    fn take(&mut self, key: &ObjectKey) -> Option<Entry> {
        let by_namespace = self.objects.get_mut(key.kind)?;
        let names = by_namespace.get_mut(&key.namespace)?;
        let entry = names.remove(&key.name)?;
        self.len -= 1;
        if names.is_empty() {
            by_namespace.remove(&key.namespace);
            if by_namespace.is_empty() {
                self.objects.remove(key.kind);
            }
        }
        Some(entry)
    }

    /// The stored object for a writer: a compact one is expanded without being kept.
    fn load(&self, key: &ObjectKey) -> Option<Rc<Object>> {
        match self.entry(key)? {
            Entry::Whole(object) => Some(Rc::clone(object)),
            Entry::Event(event) => Some(event.1.get().cloned().unwrap_or_else(|| Rc::new(Object::from(event.0.expand(key, &self.words))))),
            Entry::Pod(pod) => Some(pod.1.get().cloned().unwrap_or_else(|| Rc::new(Object::from(pod.0.expand())))),
        }
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.entry(key).map(|e| &**self.object(key.kind, &key.namespace, &key.name, e))
    }

    /// The stored Pod `key` as a view (a compact one is not expanded).
    pub fn pod_view(&self, key: &ObjectKey) -> Option<PodView<'_>> {
        view(self.entry(key)?)
    }

    /// A shared handle to the stored object (no copy of a whole one).
    pub fn get_rc(&self, key: &ObjectKey) -> Option<Rc<Object>> {
        self.entry(key).map(|e| Rc::clone(self.object(key.kind, &key.namespace, &key.name, e)))
    }

    /// The stored entries of `kind`, optionally in one namespace, in key order.
    fn entries<'a, 'n>(&'a self, kind: &'static str, namespace: Option<&'n str>) -> impl Iterator<Item = (&'a str, &'a str, &'a Entry)> + 'n
    where
        'a: 'n,
    {
        self.objects
            .get(kind)
            .into_iter()
            // One namespace or all as the same iterator type: no allocation for a listing.
            .flat_map(move |by_namespace| match namespace {
                Some(ns) => by_namespace.range::<str, _>((Bound::Included(ns), Bound::Included(ns))),
                None => by_namespace.range::<str, _>(..),
            })
            .flat_map(|(ns, names)| names.iter().map(move |(name, e)| (ns.as_str(), name.as_str(), e)))
    }

    /// All objects of `kind`, optionally in one namespace, in name order.
    pub fn list<'a, 'n>(&'a self, kind: &'static str, namespace: Option<&'n str>) -> impl Iterator<Item = &'a Object> + 'n
    where
        'a: 'n,
    {
        self.entries(kind, namespace).map(move |(ns, name, e)| &**self.object(kind, ns, name, e))
    }

    /// The Pods, optionally in one namespace, in name order, as views (a compact Pod is not
    /// expanded).
    pub fn pods<'a, 'n>(&'a self, namespace: Option<&'n str>) -> impl Iterator<Item = PodView<'a>> + 'n
    where
        'a: 'n,
    {
        self.entries("Pod", namespace).filter_map(|(_, _, e)| view(e))
    }

    /// Every object, in key order (kind, namespace, name).
    pub fn all(&self) -> impl Iterator<Item = &Object> + '_ {
        self.objects.iter().flat_map(move |(kind, by_namespace)| {
            by_namespace.iter().flat_map(move |(ns, names)| names.iter().map(move |(name, e)| &**self.object(kind, ns, name, e)))
        })
    }

    /// The Events about the object with `uid`, in key order, expanding only those.
    pub fn events_about<'a>(&'a self, uid: &'a str) -> impl Iterator<Item = &'a Object> + 'a {
        let about = CompactEvent::about(uid);
        self.entries("Event", None)
            .filter(move |(_, _, e)| match e {
                Entry::Event(event) => about(&event.0),
                Entry::Whole(o) => o.as_event().is_some_and(|ev| ev.involved_object.uid.as_deref() == Some(uid)),
                Entry::Pod(_) => false,
            })
            .map(|(ns, name, e)| &**self.object("Event", ns, name, e))
    }

    /// The `n` Events with the latest `lastTimestamp` (ties: key order), newest first,
    /// expanding only those — a partial selection, not a sort of every Event, for views that
    /// show the newest few on every frame.
    pub fn latest_events(&self, n: usize) -> Vec<&Object> {
        let mut latest: Vec<_> = self
            .entries("Event", None)
            .enumerate()
            .filter_map(|(i, (ns, name, e))| {
                let last = match e {
                    Entry::Event(event) => event.0.last_timestamp(),
                    Entry::Whole(o) => o.as_event()?.last_timestamp.as_ref(),
                    Entry::Pod(_) => None,
                }?;
                Some((std::cmp::Reverse(last), i, (ns, name, e)))
            })
            .collect();
        if latest.len() > n && n > 0 {
            latest.select_nth_unstable_by_key(n - 1, |(at, i, _)| (*at, *i));
        }
        latest.truncate(n);
        latest.sort_by_key(|(at, i, _)| (*at, *i));
        latest.into_iter().map(|(_, _, (ns, name, e))| &**self.object("Event", ns, name, e)).collect()
    }

    /// How many objects of `kind` there are.
    pub fn count(&self, kind: &str) -> usize {
        self.counts.get(kind).copied().unwrap_or(0)
    }

    /// Objects with an ownerReference to `owner_uid`, in key order.
    pub fn dependents<'a>(&'a self, owner_uid: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.dependents.get(owner_uid).into_iter().flatten().filter_map(|k| self.get(k))
    }

    /// The keys of the objects whose ownerReferences name `owner_uid` (reading them as keys, or
    /// Pods through [`Store::pod_view`], expands nothing).
    pub fn dependent_keys<'a>(&'a self, owner_uid: &str) -> impl Iterator<Item = &'a ObjectKey> + 'a {
        self.dependents.get(owner_uid).into_iter().flatten()
    }

    /// Pods bound to `node`, in key order.
    pub fn pods_on<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.pods_by_node.get(node).into_iter().flatten().filter_map(|k| self.get(k))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// Creates or replaces an object, stamping a new resourceVersion. A write that changes
    /// nothing is dropped, as the API server drops no-op updates: no new version, no watch
    /// event, so level-triggered controllers settle. Returns the stored object.
    pub fn put(&mut self, mut object: Object) -> Rc<Object> {
        self.release_expanded();
        let key = object.key();
        let previous = self.load(&key);
        if let Some(prev) = &previous {
            object.meta_mut().resource_version = prev.meta().resource_version.clone();
            if unchanged(prev, &object) {
                return prev.clone();
            }
        }
        let kind = if previous.is_some() { ChangeKind::Modified } else { ChangeKind::Added };
        self.resource_version += 1;
        object.meta_mut().resource_version = Some(self.resource_version.to_string());
        let object = Rc::new(object);
        match &previous {
            // Most writes are status updates: the owner and node indexes stay as they are.
            Some(prev) if same_index_fields(prev, &object) => {}
            Some(prev) => {
                self.index(&key, prev, false);
                self.index(&key, &object, true);
            }
            None => {
                *self.counts.entry(key.kind).or_default() += 1;
                self.index(&key, &object, true);
            }
        }
        if key.kind == "Pod" {
            let old_labels = previous.as_ref().and_then(|p| p.meta().labels.as_ref());
            if old_labels != object.meta().labels.as_ref() {
                self.index_labels(&key, old_labels, false);
                self.index_labels(&key, object.meta().labels.as_ref(), true);
            }
            self.hot.push_back((key.clone(), self.resource_version));
        }
        let compact = object.as_event().and_then(|event| CompactEvent::new(&key, event, &mut self.words));
        let entry = match compact {
            Some(compact) => Entry::Event(Box::new((compact, OnceCell::new()))),
            None => Entry::Whole(object.clone()),
        };
        self.insert(&key, entry);
        self.cool();
        self.changes.push(Change { key, kind, object: object.clone(), old: previous });
        object
    }

    pub fn remove(&mut self, key: &ObjectKey) -> Option<Rc<Object>> {
        self.release_expanded();
        let mut removed = self.load(key)?;
        if let Some(Entry::Pod(pod)) = self.take(key) {
            self.specs.release(pod.0);
        }
        self.index(key, &removed, false);
        if key.kind == "Pod" {
            self.index_labels(key, removed.meta().labels.as_ref(), false);
        }
        if let Some(n) = self.counts.get_mut(key.kind) {
            *n = n.saturating_sub(1);
        }
        self.resource_version += 1;
        // The last state, at the deletion's resourceVersion (as etcd's watch reports it).
        Rc::make_mut(&mut removed).meta_mut().resource_version = Some(self.resource_version.to_string());
        self.changes.push(Change { key: key.clone(), kind: ChangeKind::Deleted, object: removed.clone(), old: None });
        Some(removed)
    }

    pub fn drain_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The Pods in `namespace` that have every label of `selector` (a non-empty map), found
    /// through the label index's shortest list.
    pub fn pods_matching<'a>(&'a self, namespace: &str, selector: &BTreeMap<String, String>) -> Vec<&'a Object> {
        self.entries_matching(namespace, selector).into_iter().map(|(name, e)| &**self.object("Pod", namespace, name, e)).collect()
    }

    /// [`Store::pods_matching`] as views (a compact Pod is not expanded).
    pub fn pod_views_matching<'a>(&'a self, namespace: &str, selector: &BTreeMap<String, String>) -> Vec<PodView<'a>> {
        self.entries_matching(namespace, selector).into_iter().filter_map(|(_, e)| view(e)).collect()
    }

    /// Pods bound to `node`, in key order, as views.
    pub fn pod_views_on<'a>(&'a self, node: &str) -> impl Iterator<Item = PodView<'a>> + 'a {
        self.pods_by_node.get(node).into_iter().flatten().filter_map(|k| view(self.entry(k)?))
    }

    fn entries_matching<'a>(&'a self, namespace: &str, selector: &BTreeMap<String, String>) -> Vec<(&'a str, &'a Entry)> {
        let Some(by_key) = self.pods_by_label.get(namespace) else { return Vec::new() };
        let lists: Option<Vec<&BTreeSet<String>>> = selector.iter().map(|(k, v)| by_key.get(k)?.get(v)).collect();
        let Some(shortest) = lists.and_then(|l| l.into_iter().min_by_key(|s| s.len())) else { return Vec::new() };
        let Some(pods) = self.objects.get("Pod").and_then(|m| m.get(namespace)) else { return Vec::new() };
        sorted_lookup(pods, shortest)
            .into_iter()
            .filter(|(_, e)| {
                let labels = view(e).and_then(PodView::labels);
                selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            })
            .collect()
    }

    /// Puts the Pod `key` under each of `labels` in the label index, or takes it out.
    fn index_labels(&mut self, key: &ObjectKey, labels: Option<&BTreeMap<String, String>>, add: bool) {
        for (k, v) in labels.into_iter().flatten() {
            let pods = self.pods_by_label.get_mut(&key.namespace).and_then(|m| m.get_mut(k)).and_then(|m| m.get_mut(v));
            match (pods, add) {
                (Some(pods), true) => _ = pods.insert(key.name.clone()),
                (None, true) => {
                    let by_key = self.pods_by_label.entry(key.namespace.clone()).or_default();
                    by_key.entry(k.clone()).or_default().entry(v.clone()).or_default().insert(key.name.clone());
                }
                (Some(pods), false) => {
                    pods.remove(&key.name);
                    if pods.is_empty() {
                        self.prune_label(&key.namespace, k, v);
                    }
                }
                (None, false) => {}
            }
        }
    }

    /// Drops an emptied label value (and the key and namespace levels it empties).
    fn prune_label(&mut self, namespace: &str, k: &str, v: &str) {
        let Some(by_key) = self.pods_by_label.get_mut(namespace) else { return };
        if let Some(by_value) = by_key.get_mut(k) {
            by_value.remove(v);
            if by_value.is_empty() {
                by_key.remove(k);
            }
        }
        if by_key.is_empty() {
            self.pods_by_label.remove(namespace);
        }
    }

    /// Adds `object` to (or removes it from) the owner and node indexes.
    fn index(&mut self, key: &ObjectKey, object: &Object, add: bool) {
        fn update(map: &mut BTreeMap<String, BTreeSet<ObjectKey>>, k: &str, key: &ObjectKey, add: bool) {
            if add {
                map.entry(k.to_string()).or_default().insert(key.clone());
            } else if let Some(set) = map.get_mut(k) {
                set.remove(key);
                if set.is_empty() {
                    map.remove(k);
                }
            }
        }
        for owner in object.meta().owner_references.iter().flatten() {
            update(&mut self.dependents, &owner.uid, key, add);
        }
        if let Some(node) = object.as_pod().and_then(|p| p.spec.as_ref()?.node_name.as_deref()) {
            update(&mut self.pods_by_node, node, key, add);
        }
        if key.kind == "Pod" && !object.meta().owner_references.iter().flatten().any(|o| o.controller == Some(true)) {
            update(&mut self.orphan_pods, &key.namespace, key, add);
        }
    }

    /// Pods in `namespace` that no controller owns, in key order.
    pub fn orphan_pods<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.orphan_pods.get(namespace).into_iter().flatten().filter_map(|k| self.get(k))
    }
}

/// An empty Pod, shared.
#[derive(Clone, Debug)]
struct Vacant(Rc<Object>);

impl Default for Vacant {
    fn default() -> Vacant {
        Vacant(Rc::new(Object::from(k8s_openapi::api::core::v1::Pod::default())))
    }
}

/// A stored Pod as a view, without expanding it.
fn view(entry: &Entry) -> Option<PodView<'_>> {
    match entry {
        Entry::Whole(object) => object.as_pod().map(PodView::Whole),
        Entry::Pod(pod) => Some(PodView::Compact(&pod.0)),
        Entry::Event(_) => None,
    }
}

/// Whether a write changes nothing. A Pod's status is compared first: most writes change only
/// that, and its spec is the larger part to compare.
fn unchanged(prev: &Object, new: &Object) -> bool {
    match (prev, new) {
        (Object::Pod(a), Object::Pod(b)) => {
            let k8s_openapi::api::core::v1::Pod { metadata, spec, status } = &**a;
            *status == b.status && *metadata == b.metadata && *spec == b.spec
        }
        _ => prev == new,
    }
}

/// A resourceVersion as the store's counter wrote it.
fn version(resource_version: Option<&str>) -> u64 {
    resource_version.and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The entries of `names` (sorted) found in `map`, in name order. A selector's Pods are
/// usually neighbours by name (one ReplicaSet's `<name>-<hash>-<suffix>`), so each is looked
/// for a few steps along from the previous one before a lookup from the root: on a large
/// namespace that saves most of the string comparisons of one lookup each.
fn sorted_lookup<'a, V>(map: &'a BTreeMap<String, V>, names: &'a BTreeSet<String>) -> Vec<(&'a str, &'a V)> {
    const STEPS: usize = 4;
    let mut found = Vec::with_capacity(names.len());
    let from = |name: &str| map.range::<str, _>((Bound::Included(name), Bound::Unbounded)).peekable();
    let mut walk = match names.first() {
        Some(first) => from(first),
        None => return found,
    };
    for name in names {
        let mut hit = None;
        for _ in 0..STEPS {
            match walk.peek() {
                Some((k, _)) if k.as_str() < name.as_str() => _ = walk.next(),
                Some((k, v)) if k.as_str() == name.as_str() => {
                    hit = Some(*v);
                    walk.next();
                    break;
                }
                _ => break,
            }
        }
        if hit.is_none() {
            if walk.peek().is_some_and(|(k, _)| k.as_str() < name.as_str()) {
                walk = from(name);
            }
            hit = walk.next_if(|(k, _)| k.as_str() == name.as_str()).map(|(_, v)| v);
        }
        if let Some(v) = hit {
            found.push((name.as_str(), v));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    fn pod(ns: &str, name: &str) -> Object {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.namespace = Some(ns.into());
        Object::from(p)
    }

    #[test]
    fn the_label_index_follows_label_changes_and_deletions() {
        let mut s = Store::default();
        let labelled = |name: &str, labels: &[(&str, &str)]| {
            let mut p = pod("default", name);
            p.meta_mut().labels = Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            p
        };
        s.put(labelled("a", &[("app", "web"), ("tier", "fe")]));
        s.put(labelled("b", &[("app", "web")]));
        s.put(labelled("c", &[("app", "api")]));
        s.put(pod("other", "d"));
        let names = |s: &Store, sel: &[(&str, &str)]| -> Vec<String> {
            let sel: BTreeMap<String, String> = sel.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            s.pods_matching("default", &sel).iter().map(|o| o.name().to_string()).collect()
        };
        assert_eq!(names(&s, &[("app", "web")]), ["a", "b"]);
        assert_eq!(names(&s, &[("app", "web"), ("tier", "fe")]), ["a"]);
        s.put(labelled("b", &[("app", "api")]));
        assert_eq!(names(&s, &[("app", "web")]), ["a"]);
        assert_eq!(names(&s, &[("app", "api")]), ["b", "c"]);
        s.remove(&ObjectKey::new("Pod", "default", "c"));
        assert_eq!(names(&s, &[("app", "api")]), ["b"]);
        assert!(names(&s, &[("app", "none")]).is_empty());
        // A write that keeps the labels still leaves the index holding the new version.
        let mut annotated = labelled("a", &[("app", "web"), ("tier", "fe")]);
        annotated.meta_mut().annotations = Some([("note".to_string(), "v2".to_string())].into());
        let stored = s.put(annotated);
        let sel: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(s.pods_matching("default", &sel).first().is_some_and(|o| std::ptr::eq(*o, &*stored)));
        s.remove(&ObjectKey::new("Pod", "default", "a"));
        s.remove(&ObjectKey::new("Pod", "default", "b"));
        assert!(s.pods_by_label.is_empty(), "emptied levels are pruned");
    }

    #[test]
    fn versions_increase_and_noop_writes_are_dropped() {
        let mut s = Store::default();
        s.put(pod("default", "a"));
        s.put(pod("default", "a"));
        assert_eq!(s.resource_version(), 1);
        let mut changed = pod("default", "a");
        changed.meta_mut().labels = Some([("x".to_string(), "y".to_string())].into());
        s.put(changed.clone());
        assert_eq!(s.resource_version(), 2);
        if let Object::Pod(p) = &mut changed {
            p.status = Some(k8s_openapi::api::core::v1::PodStatus { phase: Some("Running".into()), ..Default::default() });
        }
        s.put(changed.clone());
        assert_eq!(s.resource_version(), 3, "a status change is a change");
        s.put(changed);
        assert_eq!(s.resource_version(), 3);
        let changes = s.drain_changes();
        let kinds: Vec<ChangeKind> = changes.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![ChangeKind::Added, ChangeKind::Modified, ChangeKind::Modified]);
        assert!(changes[1].old.as_ref().is_some_and(|o| o.meta().labels.is_none()), "a modification carries the old version");
        assert_eq!(s.count("Pod"), 1);
    }

    #[test]
    fn indexes_dependents_and_pods_by_node() {
        let mut s = Store::default();
        let mut p = pod("default", "a");
        if let Object::Pod(pod) = &mut p {
            pod.metadata.owner_references =
                Some(vec![k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference { uid: "rs-uid".into(), ..Default::default() }]);
            pod.spec = Some(k8s_openapi::api::core::v1::PodSpec { node_name: Some("n1".into()), ..Default::default() });
        }
        s.put(p.clone());
        assert_eq!(s.dependents("rs-uid").count(), 1);
        assert_eq!(s.dependent_keys("rs-uid").collect::<Vec<_>>(), [&p.key()]);
        assert_eq!(s.pods_on("n1").count(), 1);
        if let Object::Pod(pod) = &mut p {
            pod.spec = Some(k8s_openapi::api::core::v1::PodSpec { node_name: Some("n2".into()), ..Default::default() });
        }
        s.put(p.clone());
        assert_eq!(s.pods_on("n1").count(), 0);
        assert_eq!(s.pods_on("n2").count(), 1);
        s.remove(&p.key());
        assert_eq!(s.dependents("rs-uid").count(), 0);
        assert_eq!(s.dependent_keys("rs-uid").count(), 0);
        assert_eq!(s.pods_on("n2").count(), 0);
    }

    #[test]
    fn events_are_kept_compact_and_read_back_exactly() {
        use k8s_openapi::api::core::v1::{Event, ObjectReference};
        let mut s = Store::default();
        let event = |name: &str, about: &str, labels: bool| {
            let mut e = Event::default();
            e.metadata.name = Some(name.into());
            e.metadata.namespace = Some("default".into());
            e.metadata.uid = Some("0b7c2a8e-1f2d-4c3b-9a8e-7d6c5b4a3f2e".into());
            e.metadata.labels = labels.then(|| [("from".to_string(), "user".to_string())].into());
            e.involved_object = ObjectReference { kind: Some("Pod".into()), uid: Some(about.into()), ..Default::default() };
            e.reason = Some("Started".into());
            Object::from(e)
        };
        let about = "9f8e7d6c-5b4a-4321-8fed-cba987654321";
        let written = s.put(event("a.1", about, false));
        let whole = s.put(event("b.1", about, true));
        s.put(event("c.1", "1f8e7d6c-5b4a-4321-8fed-cba987654321", false));
        assert!(matches!(s.entry(&written.key()), Some(Entry::Event(_))), "a recorder's Event is compacted");
        assert!(matches!(s.entry(&whole.key()), Some(Entry::Whole(_))), "a labelled one is kept whole");
        assert_eq!(s.get(&written.key()), Some(&*written), "reading expands exactly what was written");
        let about_it: Vec<&str> = s.events_about(about).map(Object::name).collect();
        assert_eq!(about_it, ["a.1", "b.1"]);
        assert_eq!(s.list("Event", None).count(), 3);
        assert_eq!(s.expanded.borrow().len(), 2, "expansions of the compact ones are remembered");
        s.put(pod("default", "p"));
        assert!(s.expanded.borrow().is_empty(), "and dropped at the next write");
        assert!(matches!(s.entry(&written.key()), Some(Entry::Event(e)) if e.1.get().is_none()));
        // The newest, picked without expanding the others.
        s.put(pod("default", "q"));
        let at = |secs: u64| Some(crate::time::to_time(crate::time::SimTime(secs * 1000)));
        for (name, secs) in [("a.1", 30), ("c.1", 10)] {
            let key = ObjectKey::new("Event", "default", name);
            let mut e = s.get(&key).and_then(Object::as_event).cloned().expect("stored");
            e.last_timestamp = at(secs);
            s.put(Object::from(e));
        }
        let latest: Vec<&str> = s.latest_events(2).into_iter().map(Object::name).collect();
        assert_eq!(latest, ["a.1", "c.1"], "newest first; b.1 has no lastTimestamp");
        assert_eq!(s.expanded.borrow().len(), 2, "only those two were expanded");
        let removed = s.remove(&written.key()).expect("stored");
        assert_eq!(removed.meta().resource_version.as_deref(), Some("8"), "deleted at a new version");
        assert_eq!(s.count("Event"), 2);
    }

    #[test]
    fn pods_past_the_recent_uses_are_kept_compact_and_read_back_exactly() {
        use k8s_openapi::api::core::v1::{Container, PodSpec, PodStatus, ProjectedVolumeSource, Volume, VolumeMount};
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
        let replica = |name: &str, token: &str, node: &str| {
            let mut p = pod("default", name);
            if let Object::Pod(p) = &mut p {
                p.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
                p.metadata.owner_references =
                    Some(vec![OwnerReference { uid: "rs-uid".into(), controller: Some(true), ..Default::default() }]);
                p.spec = Some(PodSpec {
                    node_name: Some(node.into()),
                    volumes: Some(vec![Volume {
                        name: token.into(),
                        projected: Some(ProjectedVolumeSource::default()),
                        ..Default::default()
                    }]),
                    containers: vec![Container {
                        name: "web".into(),
                        image: Some("nginx".into()),
                        volume_mounts: Some(vec![VolumeMount {
                            name: token.into(),
                            mount_path: "/var/run/secrets".into(),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }],
                    ..Default::default()
                });
                p.status = Some(PodStatus { phase: Some("Running".into()), ..Default::default() });
            }
            p
        };
        let mut s = Store::default();
        s.set_hot_pod_uses(1);
        let a = s.put(replica("a", "kube-api-access-aaaaa", "n1"));
        let b = s.put(replica("b", "kube-api-access-bbbbb", "n2"));
        assert!(matches!(s.entry(&a.key()), Some(Entry::Pod(_))), "a is past the latest use");
        assert!(matches!(s.entry(&b.key()), Some(Entry::Whole(_))), "b is the latest");
        s.put(pod("default", "c"));
        assert_eq!(s.specs.len(), 1, "a and b share one spec");
        // Views read a compact Pod without expanding it.
        let web: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        let nodes: Vec<_> = s.pod_views_matching("default", &web).iter().map(|p| p.node_name()).collect();
        assert_eq!(nodes, [Some("n1"), Some("n2")]);
        assert_eq!(s.pod_views_on("n1").map(|p| p.phase()).collect::<Vec<_>>(), ["Running"]);
        assert!(s.expanded.borrow().is_empty());
        // Readers get exactly what was written.
        assert_eq!(s.get(&a.key()), Some(&*a));
        assert_eq!(s.pods_matching("default", &web).len(), 2);
        assert_eq!(s.pods_on("n2").next(), Some(&*b));
        // A write replaces the compact form; a deletion gives the spec back.
        let mut changed = (*a).clone();
        changed.meta_mut().annotations = Some([("note".to_string(), "v2".to_string())].into());
        let written = s.put(changed);
        assert!(matches!(s.entry(&a.key()), Some(Entry::Whole(o)) if Rc::ptr_eq(o, &written)));
        let changes = s.drain_changes();
        assert_eq!(changes.last().and_then(|c| c.old.as_deref()), Some(&*a), "the old version, expanded, for watchers");
        s.put(pod("default", "d"));
        for name in ["a", "b"] {
            s.remove(&ObjectKey::new("Pod", "default", name));
        }
        assert_eq!(s.specs.len(), 0);
        assert!(s.pods_matching("default", &web).is_empty());
    }

    #[test]
    fn lists_by_kind_and_namespace_in_name_order() {
        let mut s = Store::default();
        for (ns, n) in [("b", "z"), ("a", "y"), ("a", "x")] {
            s.put(pod(ns, n));
        }
        let names: Vec<&str> = s.list("Pod", None).map(Object::name).collect();
        assert_eq!(names, vec!["x", "y", "z"]);
        let names: Vec<&str> = s.list("Pod", Some("a")).map(Object::name).collect();
        assert_eq!(names, vec!["x", "y"]);
        assert_eq!(s.list("Node", None).count(), 0);
    }

    #[test]
    fn sorted_lookup_finds_exactly_the_names_present() {
        // Neighbours, gaps longer than the walk, names before, between and after the map's.
        let map: BTreeMap<String, usize> = (0..200).filter(|i| i % 7 != 3).map(|i| (format!("pod-{i:03}"), i)).collect();
        let sets: Vec<BTreeSet<String>> = vec![
            (0..200).map(|i| format!("pod-{i:03}")).collect(),
            (0..200).step_by(11).map(|i| format!("pod-{i:03}")).collect(),
            // Every gap length around the walk's few steps.
            (1..200)
                .scan(0, |at, gap| {
                    *at += gap % 9;
                    Some(format!("pod-{:03}", *at))
                })
                .take_while(|n| n.as_str() < "pod-200")
                .collect(),
            ["a", "pod-001", "pod-0015", "pod-002", "pod-150", "pod-199", "zzz"].iter().map(|s| s.to_string()).collect(),
            ["pod-003", "pod-010"].iter().map(|s| s.to_string()).collect(),
            BTreeSet::new(),
        ];
        for names in &sets {
            let expected: Vec<(&str, &usize)> = names.iter().filter_map(|n| Some((n.as_str(), map.get(n)?))).collect();
            assert_eq!(sorted_lookup(&map, names), expected);
        }
    }
}
