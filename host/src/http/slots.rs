//! Counted slots under two caps: a total and one per key. Open connections (keyed by client
//! address) and open price streams (keyed by session) are both held this way.
//!
//! A [`Slot`] is a guard: whatever holds it — a connection's task, a stream's body — gives
//! it back by being dropped, however it ends (finished, failed, client gone), so a released
//! slot is usable again at once. Taking and returning a slot is one short lock; both happen
//! once per connection or stream, never per request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Which cap refused a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The total is reached.
    Total,
    /// This key holds as many slots as one key may.
    Key,
}

/// At most `max_total` slots, at most `max_per_key` of them for any one key.
#[derive(Debug)]
pub struct Slots<K> {
    max_total: usize,
    max_per_key: usize,
    held: Mutex<Held<K>>,
}

#[derive(Debug)]
struct Held<K> {
    total: usize,
    /// Only keys holding at least one slot have an entry, so the map never outgrows the cap.
    per_key: HashMap<K, usize>,
}

impl<K: Hash + Eq + Clone> Slots<K> {
    /// Empty slots with these caps.
    pub fn new(max_total: usize, max_per_key: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_key,
            held: Mutex::new(Held { total: 0, per_key: HashMap::new() }),
        })
    }

    /// The per-key cap.
    pub fn max_per_key(&self) -> usize {
        self.max_per_key
    }

    /// Takes a slot for `key`, unless a cap is reached.
    pub fn try_acquire(self: &Arc<Self>, key: K) -> Result<Slot<K>, Full> {
        let mut held = self.lock();
        if held.total >= self.max_total {
            return Err(Full::Total);
        }
        match held.per_key.get_mut(&key) {
            Some(count) if *count >= self.max_per_key => return Err(Full::Key),
            Some(count) => *count += 1,
            None => {
                held.per_key.insert(key.clone(), 1);
            }
        }
        held.total += 1;
        Ok(Slot { slots: Arc::clone(self), key })
    }

    /// Slots held now.
    pub fn held(&self) -> usize {
        self.lock().total
    }

    fn lock(&self) -> MutexGuard<'_, Held<K>> {
        // The counts stay consistent whatever panicked while holding the lock (each update
        // is a few integer operations), and a guard's drop must not panic.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One held slot; dropping it gives the slot back.
#[derive(Debug)]
pub struct Slot<K: Hash + Eq + Clone> {
    slots: Arc<Slots<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut held = self.slots.lock();
        held.total -= 1;
        if let Some(count) = held.per_key.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.per_key.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_key_and_in_total_and_frees_on_drop() {
        let slots = Slots::new(3, 2);
        let a1 = slots.try_acquire("a").unwrap();
        let _a2 = slots.try_acquire("a").unwrap();
        assert_eq!(slots.try_acquire("a").unwrap_err(), Full::Key);
        let _b1 = slots.try_acquire("b").unwrap();
        assert_eq!(slots.try_acquire("c").unwrap_err(), Full::Total);
        assert_eq!(slots.held(), 3);
        drop(a1);
        assert_eq!(slots.held(), 2);
        let _c1 = slots.try_acquire("c").unwrap();
        assert_eq!(slots.try_acquire("a").unwrap_err(), Full::Total);
    }

    #[test]
    fn a_key_without_slots_leaves_no_entry() {
        let slots = Slots::new(10, 1);
        drop(slots.try_acquire("a".to_owned()).unwrap());
        assert!(slots.lock().per_key.is_empty());
        let _again = slots.try_acquire("a".to_owned()).unwrap();
    }
}
