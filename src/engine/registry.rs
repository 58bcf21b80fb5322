//! The risk stage's table of live user orders: id → account, symbol, side, remaining
//! quantity and the margin reservation still held for it.
//!
//! The book knows orders by id; the risk stage needs, for every fill, cancel and modify, whose
//! order it was and how much of the account's open-order reservation to release, and, for a
//! liquidation, every order of the account in a symbol. Everything is preallocated for
//! `capacity` orders: a slab of one-cache-line entries with a free list (last freed, first
//! reused: the live entries stay packed at the front), per account an intrusive doubly-linked
//! list of its orders, and an open-addressing id index (linear probing, backward-shift
//! deletion, at most half full) whose buckets hold only the entry slot (4 bytes, sixteen to an
//! aligned cache line): a lookup compares the id in the entry, which every caller reads next
//! anyway, so a lookup costs one line of the index plus the entry's line, and the index of a
//! 65,536-order table is 512 KiB instead of 2 MiB.
//!
//! # Hashing
//!
//! Ids are hashed in groups of sixteen consecutive ids: `id / 16` is Fibonacci-hashed to a
//! line and `id mod 16` picks the bucket in it. Venues and clients usually number orders
//! sequentially, so sixteen new orders in a row share one line of the index; ids that are not
//! sequential spread like plain Fibonacci hashing. Like any fixed hash, an adversary who picks
//! ids knowing the function can lengthen probe runs (lookups stay correct; the table is at
//! most half full).

use crate::hint::prefetch;
use crate::types::{Side, SymbolId};

const NONE: u32 = u32::MAX;
const EMPTY_KEY: u64 = u64::MAX;

/// One live order as the risk stage tracks it: one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
pub(crate) struct Entry {
    pub(crate) id: u64,
    /// The account's dense index in the margin engine.
    pub(crate) account_idx: u32,
    pub(crate) symbol: SymbolId,
    pub(crate) side: Side,
    /// Lots that may still fill (the book's remaining quantity as last known).
    pub(crate) remaining: i64,
    /// Lots of `remaining` reserved as open orders in the margin engine (0 for reduce-only).
    pub(crate) reserved: i64,
    /// Extra lots reserved for a modify the book has not answered yet.
    pub(crate) pending: i64,
    /// Limit price in ticks (0: none, a market or stop-market order).
    pub(crate) limit: i64,
    prev: u32,
    next: u32,
}

/// The live-order table (see the module docs).
pub(crate) struct OrderRegistry {
    /// The id index: entry slots ([`NONE`]: free), sixteen to an aligned line.
    lines: Vec<Line>,
    mask: usize,
    shift: u32,
    entries: Vec<Entry>,
    free: Vec<u32>,
    account_head: Vec<u32>,
}

/// Sixteen buckets of the id index: one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct Line([u32; 16]);

const _: () = assert!(size_of::<Entry>() == 64 && size_of::<Line>() == 64);

/// The table is full.
#[derive(Debug)]
pub(crate) struct RegistryFull;

impl OrderRegistry {
    pub(crate) fn new(capacity: usize, accounts: usize) -> OrderRegistry {
        let capacity = capacity.max(1);
        let size = (capacity * 2).next_power_of_two().max(16);
        let blank = Entry {
            id: EMPTY_KEY,
            account_idx: 0,
            symbol: SymbolId(0),
            side: Side::Buy,
            remaining: 0,
            reserved: 0,
            pending: 0,
            limit: 0,
            prev: NONE,
            next: NONE,
        };
        OrderRegistry {
            lines: vec![Line([NONE; 16]); size / 16],
            mask: size - 1,
            // `size` is a power of two ≥ 16: the top `log2(size / 16)` bits pick the line.
            shift: 64 - (size / 16).trailing_zeros(),
            entries: vec![blank; capacity],
            free: (0..capacity as u32).rev().collect(),
            account_head: vec![NONE; accounts],
        }
    }

    /// Live orders.
    pub(crate) fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// The first bucket to probe for `id` (see the module docs).
    #[inline]
    fn home(&self, id: u64) -> usize {
        // Fibonacci hashing of the group: the top bits of (id / 16) × 2⁶⁴/φ pick the line. A
        // one-line table (shift 64) has a single line: `checked_shr` gives 0 there.
        let line = (id >> 4)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .checked_shr(self.shift)
            .unwrap_or(0) as usize;
        (line << 4) | (id & 15) as usize
    }

    #[inline]
    fn bucket(&self, i: usize) -> u32 {
        self.lines[i >> 4].0[i & 15]
    }

    #[inline]
    fn set_bucket(&mut self, i: usize, slot: u32) {
        self.lines[i >> 4].0[i & 15] = slot;
    }

    /// Look-ahead for a lookup of `id` a couple of messages from now (`crate::hint`): reads
    /// the id's home bucket and starts loading the entry it names (where the id lives unless
    /// a collision moved it on), so the lookup itself finds both lines in the cache.
    #[inline(always)]
    pub(crate) fn prefetch(&self, id: u64) {
        let home = self.home(id);
        let slot = self
            .lines
            .get(home >> 4)
            .map_or(NONE, |line| line.0[home & 15]);
        if let Some(entry) = self.entries.get(slot as usize) {
            prefetch(entry);
        }
    }

    /// The slot of `id`, if live.
    #[inline]
    pub(crate) fn find(&self, id: u64) -> Option<u32> {
        if id == EMPTY_KEY {
            return None;
        }
        let mut i = self.home(id);
        loop {
            let slot = self.bucket(i);
            if slot == NONE {
                return None;
            }
            if self.entries[slot as usize].id == id {
                return Some(slot);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The slot of `id`, if live, trying slot `hint` first (a slot the caller saw holding
    /// `id`): a freed slot's id is [`EMPTY_KEY`], so a slot that holds `id` is its live slot
    /// (ids are unique among live orders) and the answer is always [`OrderRegistry::find`]'s.
    #[inline]
    pub(crate) fn lookup(&self, id: u64, hint: u32) -> Option<u32> {
        match self.entries.get(hint as usize) {
            Some(entry) if entry.id == id && id != EMPTY_KEY => Some(hint),
            _ => self.find(id),
        }
    }

    #[inline]
    pub(crate) fn get(&self, slot: u32) -> &Entry {
        &self.entries[slot as usize]
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32) -> &mut Entry {
        &mut self.entries[slot as usize]
    }

    /// Adds a live order. The caller has checked that `id` is not live and not `u64::MAX`.
    pub(crate) fn insert(&mut self, mut entry: Entry) -> Result<u32, RegistryFull> {
        let slot = self.free.pop().ok_or(RegistryFull)?;
        let account = entry.account_idx as usize;
        let head = self.account_head.get(account).copied().unwrap_or(NONE);
        entry.prev = NONE;
        entry.next = head;
        if head != NONE {
            self.entries[head as usize].prev = slot;
        }
        if let Some(h) = self.account_head.get_mut(account) {
            *h = slot;
        }
        self.entries[slot as usize] = entry;
        let mut i = self.home(entry.id);
        while self.bucket(i) != NONE {
            i = (i + 1) & self.mask;
        }
        self.set_bucket(i, slot);
        Ok(slot)
    }

    /// A blank entry for `insert`.
    pub(crate) fn entry(
        id: u64,
        account_idx: u32,
        symbol: SymbolId,
        side: Side,
        remaining: i64,
        reserved: i64,
    ) -> Entry {
        Entry {
            id,
            account_idx,
            symbol,
            side,
            remaining,
            reserved,
            pending: 0,
            limit: 0,
            prev: NONE,
            next: NONE,
        }
    }

    /// Removes a live order.
    pub(crate) fn remove(&mut self, slot: u32) {
        let entry = self.entries[slot as usize];
        if entry.prev != NONE {
            self.entries[entry.prev as usize].next = entry.next;
        } else if let Some(h) = self.account_head.get_mut(entry.account_idx as usize) {
            *h = entry.next;
        }
        if entry.next != NONE {
            self.entries[entry.next as usize].prev = entry.prev;
        }
        self.free.push(slot);
        // Backward-shift deletion: pull later members of the probe run into the gap (their
        // ids are in their entries; this entry's id is still in place until the end).
        let mut i = self.home(entry.id);
        while self.bucket(i) != slot {
            i = (i + 1) & self.mask;
        }
        let mut gap = i;
        let mut j = (gap + 1) & self.mask;
        loop {
            let other = self.bucket(j);
            if other == NONE {
                break;
            }
            let home = self.home(self.entries[other as usize].id);
            // Move `j` into the gap unless its home lies cyclically in (gap, j].
            let dist_home = j.wrapping_sub(home) & self.mask;
            let dist_gap = j.wrapping_sub(gap) & self.mask;
            if dist_home >= dist_gap {
                self.set_bucket(gap, other);
                gap = j;
            }
            j = (j + 1) & self.mask;
        }
        self.set_bucket(gap, NONE);
        // A freed slot holds no id: a stale hint for it falls back to the lookup.
        self.entries[slot as usize].id = EMPTY_KEY;
    }

    /// The first order of an account (walk with [`OrderRegistry::next_of`]).
    pub(crate) fn first_of(&self, account_idx: u32) -> Option<u32> {
        match self.account_head.get(account_idx as usize) {
            Some(&h) if h != NONE => Some(h),
            _ => None,
        }
    }

    /// The account's next order after `slot`.
    pub(crate) fn next_of(&self, slot: u32) -> Option<u32> {
        let next = self.entries[slot as usize].next;
        (next != NONE).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn matches_a_hash_map_under_churn() {
        // Dense ids, ids sharing their low bits, and ids far apart.
        for spread in [1, 16, 4096 + 7] {
            churn(spread);
        }
    }

    fn churn(spread: u64) {
        let mut registry = OrderRegistry::new(64, 4);
        let mut model: HashMap<u64, u32> = HashMap::new();
        let mut state = 0x1234_5678_u64;
        for step in 0..20_000u64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let id = ((state >> 33) % 200) * spread;
            if let Some(&slot) = model.get(&id) {
                assert_eq!(registry.find(id), Some(slot));
                registry.remove(slot);
                model.remove(&id);
            } else if model.len() < 64 {
                let entry = OrderRegistry::entry(
                    id,
                    ((id / spread) % 4) as u32,
                    SymbolId(0),
                    Side::Buy,
                    1,
                    0,
                );
                let slot = registry.insert(entry).unwrap();
                model.insert(id, slot);
            }
            if step % 997 == 0 {
                for probe in (0..200).map(|p| p * spread) {
                    assert_eq!(registry.find(probe), model.get(&probe).copied());
                    // Any hint, stale or live, gives the lookup's answer.
                    for hint in [0, (probe % 64) as u32, 63, 64, u32::MAX] {
                        assert_eq!(registry.lookup(probe, hint), model.get(&probe).copied());
                    }
                }
                for account in 0..4u32 {
                    let mut count = 0;
                    let mut cursor = registry.first_of(account);
                    while let Some(slot) = cursor {
                        assert_eq!(registry.get(slot).account_idx, account);
                        count += 1;
                        cursor = registry.next_of(slot);
                    }
                    let expected = model
                        .keys()
                        .filter(|&&k| ((k / spread) % 4) as u32 == account)
                        .count();
                    assert_eq!(count, expected);
                }
            }
        }
        assert_eq!(registry.len(), model.len());
    }
}
