//! The liquidation-price index: per symbol, an indexed max-heap of long positions keyed by the
//! highest mark at which they are liquidatable, one of short positions keyed by the lowest, and
//! a watch list of cross accounts whose liquidation price depends on other symbols' marks.
//!
//! # Layout
//!
//! [`KeyHeap`] is a 4-ary max-heap of packed entries (`key: i64`, `item: u32`, 16 bytes with
//! padding) plus a position map `item → heap slot` (4 bytes an item), all allocated for the
//! full capacity up front. Longs store their key, shorts the negated key, so both sides pop
//! "while top ≥ threshold". [`WatchList`] is a dense set (`Vec<u32>` plus a position map).
//!
//! # Costs
//!
//! `upsert` / `remove` / `pop`: O(log n), no allocation. `peek`: O(1).

/// Marks an item that is not in the heap / list.
const ABSENT: u32 = u32::MAX;

/// One heap entry: key and item packed together (one cache line holds four siblings).
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: i64,
    item: u32,
}

/// Children per node: a 4-ary heap is half as deep as a binary one, and a node's children are
/// adjacent, so a pop touches about half as many cache lines.
const ARITY: usize = 4;

/// An indexed 4-ary max-heap of `(key, item)` with `item < capacity`; each item at most once.
#[derive(Clone, Debug)]
pub(crate) struct KeyHeap {
    entries: Vec<Entry>,
    /// `item → heap position`, or [`ABSENT`].
    pos: Vec<u32>,
}

impl KeyHeap {
    /// An empty heap for items `0..capacity`.
    #[must_use]
    pub(crate) fn with_capacity(capacity: usize) -> KeyHeap {
        KeyHeap {
            entries: Vec::with_capacity(capacity),
            pos: vec![ABSENT; capacity],
        }
    }

    /// Entries in the heap.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Bytes allocated.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>() + self.pos.capacity() * 4
    }

    /// The largest key and its item.
    #[inline]
    pub(crate) fn peek(&self) -> Option<(i64, u32)> {
        self.entries.first().map(|e| (e.key, e.item))
    }

    /// Inserts `item` with `key`, or moves it to `key` if present. Items beyond the capacity
    /// are ignored (returns `false`).
    pub(crate) fn upsert(&mut self, item: u32, key: i64) -> bool {
        let Some(&p) = self.pos.get(item as usize) else {
            return false;
        };
        if p == ABSENT {
            let at = self.entries.len();
            self.entries.push(Entry { key, item });
            self.sift_up(at);
        } else {
            let at = p as usize;
            let old = self.entries[at].key;
            self.entries[at].key = key;
            if key > old {
                self.sift_up(at);
            } else if key < old {
                self.sift_down(at);
            }
        }
        true
    }

    /// Removes `item` if present.
    pub(crate) fn remove(&mut self, item: u32) {
        let Some(&p) = self.pos.get(item as usize) else {
            return;
        };
        if p == ABSENT {
            return;
        }
        self.pos[item as usize] = ABSENT;
        let at = p as usize;
        let Some(last) = self.entries.pop() else {
            return;
        };
        if at < self.entries.len() {
            let old = self.entries[at].key;
            self.entries[at] = last;
            if last.key > old {
                self.sift_up(at);
            } else {
                self.sift_down(at);
            }
        }
    }

    /// Removes and returns the top entry.
    #[cfg(test)]
    pub(crate) fn pop(&mut self) -> Option<(i64, u32)> {
        let top = self.peek()?;
        self.remove(top.1);
        Some(top)
    }

    /// Moves the entry at `at` up to its place (a hole moves, the entry is written once).
    fn sift_up(&mut self, mut at: usize) {
        let moving = self.entries[at];
        while at > 0 {
            let parent = (at - 1) / ARITY;
            let p = self.entries[parent];
            if p.key >= moving.key {
                break;
            }
            self.entries[at] = p;
            self.pos[p.item as usize] = at as u32;
            at = parent;
        }
        self.entries[at] = moving;
        self.pos[moving.item as usize] = at as u32;
    }

    /// Moves the entry at `at` down to its place. A full group of four children is compared
    /// as a small tournament on one bounds-checked slice (ties keep the first child, as a
    /// linear scan would).
    fn sift_down(&mut self, mut at: usize) {
        let entries = &mut self.entries[..];
        let pos = &mut self.pos[..];
        let n = entries.len();
        let moving = entries[at];
        loop {
            let first = ARITY * at + 1;
            if first >= n {
                break;
            }
            let (best, best_key) = if let Some(c) = entries.get(first..first + ARITY) {
                let (i01, k01) = if c[1].key > c[0].key {
                    (1, c[1].key)
                } else {
                    (0, c[0].key)
                };
                let (i23, k23) = if c[3].key > c[2].key {
                    (3, c[3].key)
                } else {
                    (2, c[2].key)
                };
                if k23 > k01 {
                    (first + i23, k23)
                } else {
                    (first + i01, k01)
                }
            } else {
                let mut best = first;
                let mut best_key = entries[first].key;
                for (c, e) in entries.iter().enumerate().take(n).skip(first + 1) {
                    if e.key > best_key {
                        best = c;
                        best_key = e.key;
                    }
                }
                (best, best_key)
            };
            if moving.key >= best_key {
                break;
            }
            let child = entries[best];
            entries[at] = child;
            if let Some(p) = pos.get_mut(child.item as usize) {
                *p = at as u32;
            }
            at = best;
        }
        entries[at] = moving;
        if let Some(p) = pos.get_mut(moving.item as usize) {
            *p = at as u32;
        }
    }
}

/// A dense set of items `0..capacity` with O(1) insert, remove and membership.
#[derive(Clone, Debug)]
pub(crate) struct WatchList {
    items: Vec<u32>,
    pos: Vec<u32>,
}

impl WatchList {
    /// An empty list for items `0..capacity`.
    #[must_use]
    pub(crate) fn with_capacity(capacity: usize) -> WatchList {
        WatchList {
            items: Vec::with_capacity(capacity),
            pos: vec![ABSENT; capacity],
        }
    }

    /// Bytes allocated.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.items.capacity() * 4 + self.pos.capacity() * 4
    }

    /// Members.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The member at position `i < len()`.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> u32 {
        self.items[i]
    }

    /// Adds `item` (no-op if present or out of range).
    pub(crate) fn insert(&mut self, item: u32) {
        if self.pos.get(item as usize) == Some(&ABSENT) {
            self.pos[item as usize] = self.items.len() as u32;
            self.items.push(item);
        }
    }

    /// Removes `item` (no-op if absent): the last member takes its position.
    pub(crate) fn remove(&mut self, item: u32) {
        let Some(&p) = self.pos.get(item as usize) else {
            return;
        };
        if p == ABSENT {
            return;
        }
        let last = self.items.len() - 1;
        self.items.swap(p as usize, last);
        self.items.pop();
        if (p as usize) < last {
            self.pos[self.items[p as usize] as usize] = p;
        }
        self.pos[item as usize] = ABSENT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn heap_matches_a_sorted_model() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut heap = KeyHeap::with_capacity(64);
        let mut model: Vec<Option<i64>> = vec![None; 64];
        for _ in 0..20_000 {
            let item = rng.random_range(0..64u32);
            match rng.random_range(0..4) {
                0 | 1 => {
                    let key = rng.random_range(-50..50);
                    heap.upsert(item, key);
                    model[item as usize] = Some(key);
                }
                2 => {
                    heap.remove(item);
                    model[item as usize] = None;
                }
                _ => {
                    let best = model.iter().filter_map(|k| *k).max();
                    let got = heap.pop();
                    assert_eq!(got.map(|g| g.0), best);
                    if let Some((_, it)) = got {
                        assert_eq!(model[it as usize], best);
                        model[it as usize] = None;
                    }
                }
            }
            assert_eq!(heap.len(), model.iter().filter(|k| k.is_some()).count());
        }
    }

    #[test]
    fn watch_list_insert_remove() {
        let mut w = WatchList::with_capacity(8);
        for i in [3, 5, 7, 3] {
            w.insert(i);
        }
        assert_eq!(w.len(), 3);
        w.remove(3);
        w.remove(3);
        let mut members: Vec<u32> = (0..w.len()).map(|i| w.get(i)).collect();
        members.sort_unstable();
        assert_eq!(members, vec![5, 7]);
    }
}
