//! The work queue: requests ordered by (virtual time, insertion sequence), so that ties break
//! the same way on every run. Requests are deduplicated per (component, target) with the
//! earliest time winning, as kube-runtime's scheduler and client-go's delaying queue merge them.

use std::collections::BTreeMap;

use crate::api::ObjectKey;
use crate::time::SimTime;

/// Index of a component in the host's registry.
pub type ComponentId = usize;

/// What a request asks a component to look at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Reconcile this object.
    Object(ObjectKey),
    /// The component's own timer (a scheduling cycle, a periodic flush).
    Tick,
}

#[derive(Clone, Debug, Default)]
pub struct WorkQueue {
    items: BTreeMap<(SimTime, u64), (ComponentId, Target)>,
    pending: BTreeMap<(ComponentId, Target), (SimTime, u64)>,
    next_seq: u64,
}

impl WorkQueue {
    pub fn push(&mut self, at: SimTime, component: ComponentId, target: Target) {
        let dedup = (component, target);
        if let Some(existing) = self.pending.get(&dedup) {
            if existing.0 <= at {
                return;
            }
            self.items.remove(existing);
        }
        self.pending.insert(dedup.clone(), (at, self.next_seq));
        self.items.insert((at, self.next_seq), dedup);
        self.next_seq += 1;
    }

    pub fn next_time(&self) -> Option<SimTime> {
        self.items.keys().next().map(|(t, _)| *t)
    }

    pub fn pop(&mut self) -> Option<(SimTime, ComponentId, Target)> {
        let ((at, _), dedup) = self.items.pop_first()?;
        self.pending.remove(&dedup);
        Some((at, dedup.0, dedup.1))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(name: &str) -> Target {
        Target::Object(ObjectKey::new("ReplicaSet", "default", name))
    }

    #[test]
    fn orders_by_time_then_insertion() {
        let mut q = WorkQueue::default();
        q.push(SimTime(5), 0, rs("b"));
        q.push(SimTime(1), 0, rs("a"));
        q.push(SimTime(5), 1, Target::Tick);
        let order: Vec<(u64, ComponentId, Target)> = std::iter::from_fn(|| q.pop()).map(|(t, c, w)| (t.0, c, w)).collect();
        assert_eq!(order, vec![(1, 0, rs("a")), (5, 0, rs("b")), (5, 1, Target::Tick)]);
    }

    #[test]
    fn requests_dedupe_earliest_wins() {
        let mut q = WorkQueue::default();
        q.push(SimTime(10), 0, rs("a"));
        q.push(SimTime(20), 0, rs("a"));
        assert_eq!(q.len(), 1);
        q.push(SimTime(3), 0, rs("a"));
        q.push(SimTime(3), 1, rs("a"));
        assert_eq!(q.len(), 2, "different components keep their own requests");
        assert_eq!(q.pop(), Some((SimTime(3), 0, rs("a"))));
        assert_eq!(q.pop(), Some((SimTime(3), 1, rs("a"))));
        assert!(q.is_empty());
        q.push(SimTime(30), 0, rs("a"));
        assert_eq!(q.len(), 1, "a popped request no longer blocks a new one");
    }
}
