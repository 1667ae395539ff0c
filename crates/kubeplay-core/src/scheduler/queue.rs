//! kube-scheduler's scheduling queue (`pkg/scheduler/backend/queue`): the active queue ordered
//! by priority, then by when the Pod entered it (PrioritySort); the backoff queue, where a Pod
//! that failed waits 1 s, 2 s, 4 s … at most 10 s (flushed every second); and the
//! unschedulable pool, which a Pod leaves when an event one of its rejecting plugins cares
//! about happens (a queueing hint), or after five minutes (checked every 30 s).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use super::plugins::Plugin;
use crate::api::ObjectKey;
use crate::time::{SimDuration, SimTime};

const INITIAL_BACKOFF: SimDuration = SimDuration(1000);
const MAX_BACKOFF: SimDuration = SimDuration(10_000);
/// `podMaxInUnschedulablePodsDuration`.
pub const MAX_IN_UNSCHEDULABLE: SimDuration = SimDuration(5 * 60 * 1000);
/// `flushUnschedulablePodsLeftover` runs this often.
const UNSCHEDULABLE_FLUSH_PERIOD: u64 = 30_000;
/// `flushBackoffQCompleted` runs this often.
const BACKOFF_FLUSH_PERIOD: u64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
    /// Being scheduled (popped, not yet back).
    InFlight,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct QueuedPod {
    place: Place,
    priority: i32,
    /// When it last entered a queue (PrioritySort's timestamp; the unschedulable pool's clock).
    since: SimTime,
    seq: u64,
    attempts: u32,
    last_attempt: SimTime,
    /// The plugins that rejected it last time (what a queueing hint looks at).
    rejected_by: BTreeSet<Plugin>,
}

#[derive(Clone, Debug, Default)]
pub struct SchedulingQueue {
    pods: BTreeMap<ObjectKey, QueuedPod>,
    active: BTreeSet<(Reverse<i32>, SimTime, u64, ObjectKey)>,
    backoff: BTreeSet<(SimTime, u64, ObjectKey)>,
    unschedulable: BTreeSet<(SimTime, u64, ObjectKey)>,
    next_seq: u64,
}

impl SchedulingQueue {
    pub fn has_active(&self) -> bool {
        !self.active.is_empty()
    }

    pub fn contains(&self, key: &ObjectKey) -> bool {
        self.pods.contains_key(key)
    }

    /// A new Pod to schedule (`Add`): straight to the active queue.
    pub fn add(&mut self, key: &ObjectKey, priority: i32, now: SimTime) {
        if self.pods.contains_key(key) {
            return;
        }
        let seq = self.seq();
        let pod =
            QueuedPod { place: Place::Active, priority, since: now, seq, attempts: 0, last_attempt: now, rejected_by: BTreeSet::new() };
        self.active.insert((Reverse(priority), now, seq, key.clone()));
        self.pods.insert(key.clone(), pod);
    }

    /// The Pod is bound or gone: forget it.
    pub fn remove(&mut self, key: &ObjectKey) {
        if let Some(p) = self.pods.remove(key) {
            self.unplace(key, &p);
        }
    }

    /// The next Pod to schedule, if any is active.
    pub fn pop(&mut self, now: SimTime) -> Option<ObjectKey> {
        let (_, _, _, key) = self.active.pop_first()?;
        if let Some(p) = self.pods.get_mut(&key) {
            p.place = Place::InFlight;
            p.attempts += 1;
            p.last_attempt = now;
        }
        Some(key)
    }

    /// The Pod just failed to schedule: park it in the unschedulable pool.
    pub fn unschedulable(&mut self, key: &ObjectKey, rejected_by: BTreeSet<Plugin>, now: SimTime) {
        let seq = self.seq();
        let Some(p) = self.pods.get_mut(key) else {
            return;
        };
        p.place = Place::Unschedulable;
        p.since = now;
        p.seq = seq;
        p.rejected_by = rejected_by;
        self.unschedulable.insert((now, seq, key.clone()));
    }

    /// Pods parked because of `plugin` (for queueing hints).
    pub fn parked(&self) -> impl Iterator<Item = (&ObjectKey, &BTreeSet<Plugin>)> + '_ {
        // Through the unschedulable pool's own index: the active queue may hold many more.
        self.unschedulable.iter().filter_map(|(_, _, key)| self.pods.get_key_value(key)).map(|(k, p)| (k, &p.rejected_by))
    }

    /// An event may make `key` schedulable: to the active queue, or to backoff if it failed
    /// too recently (`movePodsToActiveOrBackoffQueue`). True if it moved.
    pub fn activate(&mut self, key: &ObjectKey, now: SimTime) -> bool {
        let Some(p) = self.pods.get(key).cloned() else {
            return false;
        };
        if p.place != Place::Unschedulable {
            return false;
        }
        self.unplace(key, &p);
        let seq = self.seq();
        let expires = backoff_expiry(&p);
        let place = if expires > now { Place::Backoff } else { Place::Active };
        match place {
            Place::Backoff => self.backoff.insert((expires, seq, key.clone())),
            _ => self.active.insert((Reverse(p.priority), now, seq, key.clone())),
        };
        self.pods.insert(key.clone(), QueuedPod { place, since: now, seq, ..p });
        true
    }

    /// Moves Pods whose backoff ended, and Pods parked longer than five minutes, at `now`.
    pub fn flush(&mut self, now: SimTime) {
        while let Some((at, _, key)) = self.backoff.first().cloned() {
            if at > now {
                break;
            }
            self.backoff.pop_first();
            if let Some(p) = self.pods.get_mut(&key) {
                let seq = self.next_seq;
                self.next_seq += 1;
                p.place = Place::Active;
                p.since = now;
                p.seq = seq;
                self.active.insert((Reverse(p.priority), now, seq, key));
            }
        }
        if now.0.is_multiple_of(UNSCHEDULABLE_FLUSH_PERIOD) {
            let stale: Vec<ObjectKey> = self
                .unschedulable
                .iter()
                .take_while(|(since, _, _)| now.since(*since) > MAX_IN_UNSCHEDULABLE)
                .map(|(_, _, k)| k.clone())
                .collect();
            for key in stale {
                self.activate(&key, now);
            }
        }
    }

    /// When `flush` next has something to do.
    pub fn next_flush(&self) -> Option<SimTime> {
        let backoff = self.backoff.first().map(|(at, _, _)| round_up(*at, BACKOFF_FLUSH_PERIOD));
        // The first 30-second tick strictly more than five minutes after it was parked.
        let parked = self.unschedulable.first().map(|(since, _, _)| {
            let due = since.plus(MAX_IN_UNSCHEDULABLE).0 + 1;
            round_up(SimTime(due), UNSCHEDULABLE_FLUSH_PERIOD)
        });
        backoff.into_iter().chain(parked).min()
    }

    fn unplace(&mut self, key: &ObjectKey, p: &QueuedPod) {
        match p.place {
            Place::Active => {
                self.active.remove(&(Reverse(p.priority), p.since, p.seq, key.clone()));
            }
            Place::Backoff => {
                self.backoff.remove(&(backoff_expiry(p), p.seq, key.clone()));
            }
            Place::Unschedulable => {
                self.unschedulable.remove(&(p.since, p.seq, key.clone()));
            }
            Place::InFlight => {}
        }
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

/// `getBackoffTime`: the last attempt plus 1 s doubled for each further attempt, at most 10 s.
fn backoff_expiry(p: &QueuedPod) -> SimTime {
    let mut d = INITIAL_BACKOFF;
    for _ in 1..p.attempts {
        d = SimDuration(d.0 * 2);
        if d >= MAX_BACKOFF {
            d = MAX_BACKOFF;
            break;
        }
    }
    p.last_attempt.plus(d)
}

fn round_up(t: SimTime, period: u64) -> SimTime {
    SimTime(t.0.div_ceil(period) * period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new("Pod", "default", name)
    }

    #[test]
    fn priority_first_then_arrival() {
        let mut q = SchedulingQueue::default();
        q.add(&key("low"), 0, SimTime(0));
        q.add(&key("high"), 100, SimTime(5));
        q.add(&key("low2"), 0, SimTime(1));
        let order: Vec<ObjectKey> = std::iter::from_fn(|| q.pop(SimTime(10))).collect();
        assert_eq!(order, vec![key("high"), key("low"), key("low2")]);
    }

    #[test]
    fn an_activated_pod_backs_off_exponentially_up_to_ten_seconds() {
        let mut q = SchedulingQueue::default();
        q.add(&key("a"), 0, SimTime(0));
        let mut now = SimTime(0);
        let mut waits = Vec::new();
        for _ in 0..6 {
            assert_eq!(q.pop(now), Some(key("a")));
            q.unschedulable(&key("a"), BTreeSet::from([Plugin::NodeResourcesFit]), now);
            assert!(q.activate(&key("a"), now), "a hint moves it");
            assert_eq!(q.pop(now), None, "still backing off");
            let next = q.next_flush().expect("backoff pending");
            waits.push(next.since(now).0);
            now = next;
            q.flush(now);
        }
        assert_eq!(waits, vec![1000, 2000, 4000, 8000, 10_000, 10_000]);
    }

    #[test]
    fn the_unschedulable_pool_is_flushed_after_five_minutes_on_a_30s_tick() {
        let mut q = SchedulingQueue::default();
        q.add(&key("a"), 0, SimTime(0));
        q.pop(SimTime(12_345));
        q.unschedulable(&key("a"), BTreeSet::from([Plugin::TaintToleration]), SimTime(12_345));
        let due = q.next_flush().expect("flush due");
        assert_eq!(due, SimTime(330_000), "first 30 s tick past 5 min");
        q.flush(SimTime(300_000));
        assert_eq!(q.pop(SimTime(300_000)), None);
        q.flush(due);
        assert_eq!(q.pop(due), Some(key("a")));
    }
}
