//! Identical values stored once: the kubelet's environments and files (the Pods of one
//! template in one namespace get the same; at 150,000 Pods a copy each was about 2.5 KB a Pod
//! natively), the shapes of compact Pod statuses, the Event recorder's namespaces. Values are
//! shared by content, compared in order (no hashing), and dropped once nothing else holds
//! them. A holder that changes its value (a shell's `echo > f`) copies it first
//! (`Rc::make_mut`), so sharing is never visible.

use std::collections::BTreeSet;
use std::rc::Rc;

#[derive(Debug)]
pub struct Dedup<T: Ord + ?Sized> {
    values: BTreeSet<Rc<T>>,
    /// How many values were held after the last sweep for unused ones.
    swept: usize,
}

/// A copy shares the values (they are immutable behind `Rc`).
impl<T: Ord + ?Sized> Clone for Dedup<T> {
    fn clone(&self) -> Self {
        Dedup { values: self.values.clone(), swept: self.swept }
    }
}

impl<T: Ord + ?Sized> Default for Dedup<T> {
    fn default() -> Self {
        Dedup { values: BTreeSet::new(), swept: 0 }
    }
}

/// Fewer values than this are never swept.
const SWEEP_FROM: usize = 64;

impl<T: Ord + ?Sized> Dedup<T> {
    /// Holds `shared` from now on.
    fn insert(&mut self, shared: Rc<T>) -> Rc<T> {
        // Sweeping when the set has doubled keeps the cost per call constant.
        if self.values.len() >= (2 * self.swept).max(SWEEP_FROM) {
            self.values.retain(|v| Rc::strong_count(v) > 1);
            self.swept = self.values.len();
        }
        self.values.insert(Rc::clone(&shared));
        shared
    }

    /// How many values are held (used or not yet swept).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.values.len()
    }
}

impl<T: Ord> Dedup<T> {
    /// The shared copy of `value`.
    pub fn share(&mut self, value: T) -> Rc<T> {
        match self.values.get(&value) {
            Some(shared) => Rc::clone(shared),
            None => self.insert(Rc::new(value)),
        }
    }
}

impl Dedup<str> {
    /// The shared copy of `word` (a namespace, say).
    pub fn word(&mut self, word: &str) -> Rc<str> {
        match self.values.get(word) {
            Some(shared) => Rc::clone(shared),
            None => self.insert(Rc::from(word)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_are_one_and_unused_ones_go() {
        let mut d = Dedup::default();
        let a = d.share(vec!["x".to_string()]);
        let b = d.share(vec!["x".to_string()]);
        assert!(Rc::ptr_eq(&a, &b));
        let c = d.share(vec!["y".to_string()]);
        assert!(!Rc::ptr_eq(&a, &c));
        drop(c);
        // Unused values are swept once the set has grown past the last sweep's size.
        let kept: Vec<_> = (0..SWEEP_FROM).map(|i| d.share(vec![i.to_string()])).collect();
        assert!(d.held() <= SWEEP_FROM + 1, "{} values held", d.held());
        assert_eq!(*d.share(vec!["x".to_string()]), vec!["x".to_string()]);
        assert!(Rc::ptr_eq(&a, &d.share(vec!["x".to_string()])));
        drop(kept);
        let mut words: Dedup<str> = Dedup::default();
        assert!(Rc::ptr_eq(&words.word("default"), &words.word("default")));
    }
}
