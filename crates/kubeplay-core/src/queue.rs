//! The event queue: work ordered by (virtual time, insertion sequence), so that ties break the
//! same way on every run. Reconcile requests are deduplicated per (controller, key) with the
//! earliest time winning, as kube-runtime's scheduler merges them.

use std::collections::BTreeMap;

use crate::api::ObjectKey;
use crate::time::SimTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Controller {
    Deployment,
    ReplicaSet,
    Scheduler,
    GarbageCollector,
}

/// A kubelet step for one Pod incarnation (the uid guards against a recreated namesake).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeletWork {
    pub pod: ObjectKey,
    pub uid: String,
    pub step: crate::kubelet::Step,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Work {
    Reconcile(Controller, ObjectKey),
    Kubelet(KubeletWork),
}

#[derive(Clone, Debug, Default)]
pub struct EventQueue {
    items: BTreeMap<(SimTime, u64), Work>,
    reconciles: BTreeMap<(Controller, ObjectKey), (SimTime, u64)>,
    next_seq: u64,
}

impl EventQueue {
    pub fn push(&mut self, at: SimTime, work: Work) {
        if let Work::Reconcile(controller, key) = &work {
            let dedup_key = (*controller, key.clone());
            if let Some(existing) = self.reconciles.get(&dedup_key) {
                if existing.0 <= at {
                    return;
                }
                self.items.remove(existing);
            }
            self.reconciles.insert(dedup_key, (at, self.next_seq));
        }
        self.items.insert((at, self.next_seq), work);
        self.next_seq += 1;
    }

    pub fn next_time(&self) -> Option<SimTime> {
        self.items.keys().next().map(|(t, _)| *t)
    }

    pub fn pop(&mut self) -> Option<(SimTime, Work)> {
        let ((at, seq), work) = self.items.pop_first()?;
        if let Work::Reconcile(controller, key) = &work {
            let dedup_key = (*controller, key.clone());
            if self.reconciles.get(&dedup_key) == Some(&(at, seq)) {
                self.reconciles.remove(&dedup_key);
            }
        }
        Some((at, work))
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

    fn rec(name: &str) -> Work {
        Work::Reconcile(Controller::ReplicaSet, ObjectKey::new("ReplicaSet", "default", name))
    }

    #[test]
    fn orders_by_time_then_insertion() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), rec("b"));
        q.push(SimTime(1), rec("a"));
        q.push(SimTime(5), rec("c"));
        let order: Vec<(u64, Work)> = std::iter::from_fn(|| q.pop()).map(|(t, w)| (t.0, w)).collect();
        assert_eq!(order, vec![(1, rec("a")), (5, rec("b")), (5, rec("c"))]);
    }

    #[test]
    fn reconciles_dedupe_earliest_wins() {
        let mut q = EventQueue::default();
        q.push(SimTime(10), rec("a"));
        q.push(SimTime(20), rec("a"));
        assert_eq!(q.len(), 1);
        q.push(SimTime(3), rec("a"));
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((SimTime(3), rec("a"))));
        assert!(q.is_empty());
        q.push(SimTime(30), rec("a"));
        assert_eq!(q.len(), 1, "a popped request no longer blocks a new one");
    }
}
