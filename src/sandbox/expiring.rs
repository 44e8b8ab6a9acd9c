//! A map whose entries expire: the sandbox's seen `jti`s, pushed requests, codes and
//! tokens. Expired entries leave as new ones come (an index by expiry, so each insert
//! costs a logarithm, not a scan of everything kept), and a cap bounds the memory a
//! flood of requests can take: past it, the entry that would expire first goes first.

#![deny(clippy::arithmetic_side_effects)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Keys with a value and an expiry (Unix seconds).
pub(crate) struct Expiring<V> {
    /// Keyed by a digest of the key, not the key itself: a fixed 16 bytes with no
    /// allocation of its own, in the map and in the index (a sandbox under load keeps
    /// hundreds of thousands of entries, and the allocator's cost grows with the number of
    /// live allocations).
    map: HashMap<Key, (i64, V)>,
    /// (expiry, insertion number, key), soonest first; stale when the key was removed or
    /// inserted again.
    order: BinaryHeap<Reverse<(i64, u64, Key)>>,
    inserted: u64,
    cap: usize,
}

impl<V> Expiring<V> {
    /// An empty map that holds at most `cap` entries.
    pub fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: BinaryHeap::new(),
            inserted: 0,
            cap: cap.max(1),
        }
    }

    /// Keeps `value` under `key` until `expires_at`, after forgetting what expired by
    /// `now` (and, at the cap, what expires first).
    pub fn insert(&mut self, key: String, expires_at: f64, value: V, now: f64) {
        self.purge(now);
        while self.map.len() >= self.cap && self.pop_soonest() {}
        let expiry = seconds(expires_at);
        self.inserted = self.inserted.wrapping_add(1);
        let key = digest(&key);
        self.order.push(Reverse((expiry, self.inserted, key)));
        self.map.insert(key, (expiry, value));
        // Stale heap entries (keys removed or replaced) are dropped when they surface;
        // a heap much larger than the map is rebuilt.
        if self.order.len() > self.map.len().saturating_mul(2).saturating_add(1024) {
            self.rebuild();
        }
    }

    /// The value under `key`, when it is kept.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.map.get(&digest(key)).map(|(_, v)| v)
    }

    /// The value under `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(&digest(key)).map(|(_, v)| v)
    }

    /// Whether `key` is kept.
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.contains_key(&digest(key))
    }

    /// Forgets `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.map.remove(&digest(key)).map(|(_, v)| v)
    }

    /// Every value, to change (a rare sweep: revoking the tokens of a reused code).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut().map(|(_, v)| v)
    }

    /// How many entries are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Forgets the entries that expired by `now`.
    pub fn purge(&mut self, now: f64) {
        let now = seconds(now);
        while let Some(Reverse((expiry, _, _))) = self.order.peek() {
            if *expiry > now {
                break;
            }
            self.pop_soonest();
        }
    }

    /// Forgets the entry that expires first; false when there is none.
    fn pop_soonest(&mut self) -> bool {
        while let Some(Reverse((expiry, _, key))) = self.order.pop() {
            if self.map.get(&key).is_some_and(|(e, _)| *e == expiry) {
                self.map.remove(&key);
                return true;
            }
        }
        false
    }

    fn rebuild(&mut self) {
        let mut entries: Vec<(i64, Key)> = self.map.iter().map(|(k, (e, _))| (*e, *k)).collect();
        entries.sort();
        self.order = entries
            .into_iter()
            .enumerate()
            .map(|(i, (e, k))| Reverse((e, i as u64, k)))
            .collect();
        self.inserted = self.order.len() as u64;
    }
}

/// A key as kept: the first 16 bytes of its SHA-256 (a collision needs 2^64 keys).
type Key = [u8; 16];

fn digest(key: &str) -> Key {
    let full = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(full.as_ref().get(..16).unwrap_or(&[0u8; 16]));
    out
}

/// Whole seconds, saturating (an expiry of "never" is far in the future, not a wrap).
fn seconds(t: f64) -> i64 {
    if t.is_nan() {
        return i64::MAX;
    }
    t.clamp(i64::MIN as f64, i64::MAX as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_cap_holds() {
        let mut m = Expiring::new(3);
        m.insert("a".into(), 10.0, 1, 0.0);
        m.insert("b".into(), 20.0, 2, 0.0);
        assert_eq!(m.get("a"), Some(&1));
        m.insert("c".into(), 30.0, 3, 15.0);
        assert!(!m.contains_key("a"), "expired at 10");
        m.insert("d".into(), 40.0, 4, 15.0);
        m.insert("e".into(), 50.0, 5, 15.0);
        assert_eq!(m.len(), 3);
        assert!(!m.contains_key("b"), "at the cap the soonest goes");
        assert!(m.contains_key("e"));
        // Re-inserting a key replaces its expiry; the old index entry is ignored.
        m.insert("c".into(), 100.0, 30, 15.0);
        m.purge(45.0);
        assert_eq!(m.get("c"), Some(&30));
        assert!(!m.contains_key("d"));
        assert_eq!(m.remove("c"), Some(30));
        m.insert("never".into(), f64::INFINITY, 0, 1e300);
        assert!(m.contains_key("never"));
    }

    #[test]
    fn many_inserts_keep_the_index_small() {
        let mut m = Expiring::new(1_000_000);
        for i in 0..50_000 {
            let now = f64::from(i);
            m.insert(format!("k{i}"), now + 100.0, i, now);
        }
        assert!(m.len() <= 101, "{}", m.len());
        assert!(m.order.len() <= 2 * m.len() + 1024);
    }
}
