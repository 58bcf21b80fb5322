//! An open-addressing map from order id to arena slot, sized once at construction.
//!
//! Linear probing over a power-of-two table at most half full; deletion shifts later entries
//! of the same probe run back (no tombstones), so lookups never degrade with churn.

/// The slot value marking an empty table entry.
pub(crate) const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    slot: u32,
}

/// Order id → arena slot index.
#[derive(Debug)]
pub(crate) struct IdMap {
    entries: Vec<Entry>,
    /// `entries.len() - 1`; the length is a power of two.
    mask: usize,
    /// Bits to shift the 64-bit hash right to get an index.
    shift: u32,
    len: usize,
}

impl IdMap {
    /// A map for up to `capacity` ids, at most half full.
    pub(crate) fn with_capacity(capacity: usize) -> IdMap {
        let size = (capacity.max(4) * 2).next_power_of_two();
        IdMap {
            entries: vec![
                Entry {
                    key: 0,
                    slot: EMPTY
                };
                size
            ],
            mask: size - 1,
            shift: 64 - size.trailing_zeros(),
            len: 0,
        }
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        // Fibonacci hashing: the top bits of key × 2⁶⁴/φ.
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Number of ids stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The slot of `key`, if present.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        let mut i = self.home(key);
        loop {
            let entry = self.entries[i];
            if entry.slot == EMPTY {
                return None;
            }
            if entry.key == key {
                return Some(entry.slot);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts `key → slot`. The caller guarantees `key` is absent and that fewer than the
    /// constructed capacity ids are stored (so the table is never more than half full).
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, slot: u32) {
        debug_assert!(self.len < self.entries.len() / 2);
        let mut i = self.home(key);
        while self.entries[i].slot != EMPTY {
            i = (i + 1) & self.mask;
        }
        self.entries[i] = Entry { key, slot };
        self.len += 1;
    }

    /// Removes `key`; returns its slot if it was present.
    #[inline]
    pub(crate) fn remove(&mut self, key: u64) -> Option<u32> {
        let mut i = self.home(key);
        loop {
            let entry = self.entries[i];
            if entry.slot == EMPTY {
                return None;
            }
            if entry.key == key {
                break;
            }
            i = (i + 1) & self.mask;
        }
        let slot = self.entries[i].slot;
        // Backward-shift deletion: move each later entry of the run whose home is not in
        // (hole, entry] into the hole.
        let mut hole = i;
        let mut j = (i + 1) & self.mask;
        loop {
            let entry = self.entries[j];
            if entry.slot == EMPTY {
                break;
            }
            let home = self.home(entry.key);
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(hole) & self.mask) {
                self.entries[hole] = entry;
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        self.entries[hole].slot = EMPTY;
        self.len -= 1;
        Some(slot)
    }

    /// Bytes of table per stored id at full capacity (for the bytes-per-order figure).
    pub(crate) fn bytes(&self) -> usize {
        self.entries.len() * size_of::<Entry>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn matches_a_hash_map_under_churn() {
        let mut map = IdMap::with_capacity(64);
        let mut model = HashMap::new();
        let mut x: u64 = 12345;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = x % 200;
            if model.contains_key(&key) {
                assert_eq!(map.remove(key), model.remove(&key));
            } else if model.len() < 64 {
                map.insert(key, step);
                model.insert(key, step);
            }
            assert_eq!(map.len(), model.len());
            for probe in 0..200 {
                assert_eq!(map.get(probe), model.get(&probe).copied());
            }
        }
    }
}
