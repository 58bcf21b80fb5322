//! An open-addressing map from order id to arena slot, sized once at construction.
//!
//! Linear probing over a power-of-two table at most half full; deletion shifts later entries
//! of the same probe run back (no tombstones), so lookups never degrade with churn. An entry is
//! only the 4-byte slot index: the id is read from the slot itself, which the caller touches
//! next anyway, so the table stays small (8 bytes per order of capacity) and cache-resident.
//!
//! Removal comes in three forms: by id (`IdMap::remove`, tests only), at a position a lookup just
//! returned ([`IdMap::position`] then [`IdMap::remove_at`]: a cancel probes once), and by id and
//! known slot ([`IdMap::remove_known`]: fills and releases, whose probe compares entries with the
//! slot index and reads no order slot). The backward shift after a removal reads the id of each
//! later entry of the run to find its home, so it touches one slot per entry it examines.

use super::arena::OrderSlot;
use crate::hint::prefetch;

/// The entry marking an empty table position.
const EMPTY: u32 = u32::MAX;

/// Order id → arena slot index.
#[derive(Clone, Debug)]
pub(crate) struct IdMap {
    entries: Vec<u32>,
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
            entries: vec![EMPTY; size],
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

    /// The table position of `key`, if present. `slots` is the arena the entries index.
    #[inline]
    pub(crate) fn position(&self, key: u64, slots: &[OrderSlot]) -> Option<usize> {
        let mut i = self.home(key);
        loop {
            let entry = self.entries[i];
            if entry == EMPTY {
                return None;
            }
            if slots[entry as usize].id == key {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Look-ahead for a lookup of `key` a couple of messages from now (`crate::hint`): reads
    /// its home bucket and starts loading the order slot it names.
    #[inline(always)]
    pub(crate) fn prefetch(&self, key: u64, slots: &[OrderSlot]) {
        let entry = self.entries.get(self.home(key)).copied().unwrap_or(EMPTY);
        if let Some(slot) = slots.get(entry as usize) {
            prefetch(slot);
        }
    }

    /// The slot stored at table position `at` (from [`IdMap::position`]).
    #[inline]
    pub(crate) fn slot_at(&self, at: usize) -> u32 {
        self.entries[at]
    }

    /// The slot of `key`, if present. `slots` is the arena the entries index.
    #[inline]
    pub(crate) fn get(&self, key: u64, slots: &[OrderSlot]) -> Option<u32> {
        self.position(key, slots).map(|at| self.entries[at])
    }

    /// Inserts `key → slot`. The caller guarantees `key` is absent and that fewer than the
    /// constructed capacity ids are stored (so the table is never more than half full).
    #[inline]
    pub(crate) fn insert(&mut self, key: u64, slot: u32) {
        debug_assert!(self.len < self.entries.len() / 2);
        let mut i = self.home(key);
        while self.entries[i] != EMPTY {
            i = (i + 1) & self.mask;
        }
        self.entries[i] = slot;
        self.len += 1;
    }

    /// Removes `key` (whose slot still holds it); returns its slot if it was present.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, key: u64, slots: &[OrderSlot]) -> Option<u32> {
        let at = self.position(key, slots)?;
        let slot = self.entries[at];
        self.remove_at(at, slots);
        Some(slot)
    }

    /// Removes `key`, which the caller knows is stored and maps to `slot`: the probe compares
    /// table entries with `slot` and reads no order slot for that (the fill path, where the
    /// maker's slot is at hand).
    #[inline(always)]
    pub(crate) fn remove_known(&mut self, key: u64, slot: u32, slots: &[OrderSlot]) {
        let mut i = self.home(key);
        loop {
            let entry = self.entries[i];
            if entry == slot {
                break;
            }
            if entry == EMPTY {
                debug_assert!(false, "remove_known of an absent key");
                return;
            }
            i = (i + 1) & self.mask;
        }
        self.remove_at(i, slots);
    }

    /// Removes the entry at table position `at` (from [`IdMap::position`], with no insert or
    /// removal since). `slots` must still hold the ids of the other entries.
    #[inline]
    pub(crate) fn remove_at(&mut self, at: usize, slots: &[OrderSlot]) {
        // Backward-shift deletion: move each later entry of the run whose home is not in
        // (hole, entry] into the hole.
        let mut hole = at;
        let mut j = (at + 1) & self.mask;
        loop {
            let entry = self.entries[j];
            if entry == EMPTY {
                break;
            }
            let home = self.home(slots[entry as usize].id);
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(hole) & self.mask) {
                self.entries[hole] = entry;
                hole = j;
            }
            j = (j + 1) & self.mask;
        }
        self.entries[hole] = EMPTY;
        self.len -= 1;
    }

    /// Bytes of table (for the memory figure).
    pub(crate) fn bytes(&self) -> usize {
        self.entries.len() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::super::arena::Arena;
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn matches_a_hash_map_under_churn() {
        let mut arena = Arena::new(64);
        let mut map = IdMap::with_capacity(64);
        let mut model: HashMap<u64, u32> = HashMap::new();
        let mut x: u64 = 12345;
        for _ in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = x % 200;
            if let Some(&slot) = model.get(&key) {
                if x.is_multiple_of(2) {
                    assert_eq!(map.remove(key, &arena.slots), Some(slot));
                } else {
                    map.remove_known(key, slot, &arena.slots);
                }
                arena.free(slot);
                model.remove(&key);
            } else if model.len() < 64 {
                let mut order = Arena::template();
                order.id = key;
                order.state = super::super::arena::SlotState::Resting;
                let slot = arena.alloc(order).unwrap();
                map.insert(key, slot);
                model.insert(key, slot);
            }
            assert_eq!(map.len(), model.len());
            for probe in 0..200 {
                assert_eq!(map.get(probe, &arena.slots), model.get(&probe).copied());
            }
        }
    }
}
