//! The price levels of one side of the book.
//!
//! Levels are addressed by a *key* in which smaller is better: the price for asks, the negated
//! price for bids. A window of [`WINDOW`] consecutive keys is a directly indexed array with a
//! two-level bitmap of non-empty levels (64 words and one summary word), so the best level and
//! the next level after a key are two `trailing_zeros` away. Levels outside the window live in a
//! sorted vector (`far`) preallocated to the order capacity. When a level is added outside the
//! window and the side's best key is not in the first half of the window, the window is
//! recentred a quarter-window before the best key: levels leaving it move to `far`, levels of
//! `far` inside the new window move in. Recentring costs O(levels moved + `WINDOW`/64) and
//! allocates nothing.
//!
//! The best key is cached (`best`): adding a level compares against it, removing the best level
//! rescans from it (two `trailing_zeros` in the window, or the first far level), so reading the
//! best level — which every command does for its BBO check — is a load, not a bitmap scan.
//! Recentring changes no key, so it leaves the cache as it is.
//!
//! The book tells the ladder about every change of a level's total or existence
//! ([`Ladder::touched`]); a change at or before the best key sets a flag, so a command that
//! worked deeper in the book skips the best bid/offer comparison.

use super::arena::{NIL, OrderSlot};
use crate::hint::prefetch;

/// Keys covered by the directly indexed window.
pub(crate) const WINDOW: usize = 4096;
const WORDS: usize = WINDOW / 64;
const _: () = assert!(WORDS == 64, "the summary bitmap is one u64");

/// A price level: an intrusive FIFO list of arena slots and its total quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    /// First (oldest) order, or [`NIL`].
    pub(crate) head: u32,
    /// Last (newest) order, or [`NIL`].
    pub(crate) tail: u32,
    /// Sum of the remaining quantities of its orders.
    pub(crate) total: i64,
}

impl Level {
    const EMPTY: Level = Level {
        head: NIL,
        tail: NIL,
        total: 0,
    };
}

#[derive(Clone, Copy, Debug)]
struct FarLevel {
    key: i64,
    level: Level,
}

/// One side's levels (see the module docs).
#[derive(Debug)]
pub(crate) struct Ladder {
    /// Key of window index 0.
    base: i64,
    /// `WINDOW` levels; only those whose bit is set are meaningful. A fixed-size array, so
    /// an index checked against `WINDOW` needs no second bounds check.
    levels: Box<[Level; WINDOW]>,
    words: [u64; WORDS],
    summary: u64,
    /// Levels outside the window, sorted by key ascending; capacity fixed at construction.
    far: Vec<FarLevel>,
    /// Recentring buffer, capacity `WINDOW`.
    scratch: Vec<FarLevel>,
    /// Number of non-empty levels.
    count: usize,
    /// The smallest key with a level, or [`NO_KEY`] when there is none.
    best: i64,
    /// A level at or before the best key changed since [`Ladder::take_top_touched`].
    top_touched: bool,
}

/// The cached best key of an empty ladder (greater than every real key).
const NO_KEY: i64 = i64::MAX;

/// `WINDOW` empty levels on the heap (built from a `Vec` so no 64 KiB array passes through the
/// stack).
fn window_levels() -> Box<[Level; WINDOW]> {
    match vec![Level::EMPTY; WINDOW].into_boxed_slice().try_into() {
        Ok(levels) => levels,
        Err(_) => unreachable!("the vector has WINDOW levels"),
    }
}

impl Ladder {
    /// A ladder for at most `capacity` levels, window starting at `base`.
    pub(crate) fn new(capacity: usize, base: i64) -> Ladder {
        Ladder {
            base,
            levels: window_levels(),
            words: [0; WORDS],
            summary: 0,
            far: Vec::with_capacity(capacity + 1),
            scratch: Vec::with_capacity(WINDOW),
            count: 0,
            best: NO_KEY,
            top_touched: false,
        }
    }

    /// Number of non-empty levels.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    #[inline]
    fn window_index(&self, key: i64) -> Option<usize> {
        let offset = key.wrapping_sub(self.base);
        if (0..WINDOW as i64).contains(&offset) {
            Some(offset as usize)
        } else {
            None
        }
    }

    #[inline]
    fn bit(&self, idx: usize) -> bool {
        self.words[idx / 64] & (1u64 << (idx % 64)) != 0
    }

    /// Look-ahead (`crate::hint`) for an order joining the level at `key`: starts loading
    /// the level's newest order (the new one links behind it), or the level itself if it does
    /// not exist yet. Levels outside the window are left alone.
    #[inline(always)]
    pub(crate) fn prefetch_join(&self, key: i64, slots: &[OrderSlot]) {
        let Some(idx) = self.window_index(key) else {
            return;
        };
        match slots.get(self.levels[idx].tail as usize) {
            Some(tail) if self.bit(idx) => prefetch(tail),
            _ => prefetch(&self.levels[idx]),
        }
    }

    #[inline]
    fn set_bit(&mut self, idx: usize) {
        self.words[idx / 64] |= 1u64 << (idx % 64);
        self.summary |= 1u64 << (idx / 64);
    }

    #[inline]
    fn clear_bit(&mut self, idx: usize) {
        let word = &mut self.words[idx / 64];
        *word &= !(1u64 << (idx % 64));
        if *word == 0 {
            self.summary &= !(1u64 << (idx / 64));
        }
    }

    /// First window index `>= from` with a level.
    #[inline]
    fn window_next(&self, from: usize) -> Option<usize> {
        if from >= WINDOW {
            return None;
        }
        let word = from / 64;
        let bits = self.words[word] & (u64::MAX << (from % 64));
        if bits != 0 {
            return Some(word * 64 + bits.trailing_zeros() as usize);
        }
        let rest = if word + 1 < WORDS {
            self.summary & (u64::MAX << (word + 1))
        } else {
            0
        };
        if rest == 0 {
            return None;
        }
        let word = rest.trailing_zeros() as usize;
        Some(word * 64 + self.words[word].trailing_zeros() as usize)
    }

    /// The level at `key`, if non-empty, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: i64) -> Option<&mut Level> {
        match self.window_index(key) {
            Some(idx) => {
                if self.bit(idx) {
                    Some(&mut self.levels[idx])
                } else {
                    None
                }
            }
            None => match self.far.binary_search_by_key(&key, |f| f.key) {
                Ok(i) => Some(&mut self.far[i].level),
                Err(_) => None,
            },
        }
    }

    /// The level at `key`, created empty if absent.
    #[inline]
    pub(crate) fn get_or_insert(&mut self, key: i64) -> &mut Level {
        if let Some(idx) = self.window_index(key) {
            if !self.bit(idx) {
                self.set_bit(idx);
                self.levels[idx] = Level::EMPTY;
                self.count += 1;
                self.best = self.best.min(key);
            }
            return &mut self.levels[idx];
        }
        self.insert_outside(key)
    }

    #[cold]
    fn insert_outside(&mut self, key: i64) -> &mut Level {
        if let Ok(i) = self.far.binary_search_by_key(&key, |f| f.key) {
            return &mut self.far[i].level;
        }
        let best = self.best.min(key);
        self.best = best;
        let first_half = self.base..self.base + (WINDOW / 2) as i64;
        if self.summary == 0 || !first_half.contains(&best) {
            self.recentre(best - (WINDOW / 4) as i64);
            if let Some(idx) = self.window_index(key) {
                self.set_bit(idx);
                self.levels[idx] = Level::EMPTY;
                self.count += 1;
                return &mut self.levels[idx];
            }
        }
        let i = self.far.partition_point(|f| f.key < key);
        // The far vector holds at most one entry per resting order of this side, so it never
        // exceeds its preallocated capacity.
        self.far.insert(
            i,
            FarLevel {
                key,
                level: Level::EMPTY,
            },
        );
        self.count += 1;
        &mut self.far[i].level
    }

    /// Moves the window to start at `base`.
    fn recentre(&mut self, base: i64) {
        self.scratch.clear();
        let mut idx = self.window_next(0);
        while let Some(i) = idx {
            self.scratch.push(FarLevel {
                key: self.base + i as i64,
                level: self.levels[i],
            });
            idx = self.window_next(i + 1);
        }
        self.words = [0; WORDS];
        self.summary = 0;
        self.base = base;
        for n in 0..self.scratch.len() {
            let moved = self.scratch[n];
            if let Some(i) = self.window_index(moved.key) {
                self.set_bit(i);
                self.levels[i] = moved.level;
            } else {
                let at = self.far.partition_point(|f| f.key < moved.key);
                self.far.insert(at, moved);
            }
        }
        let lo = self.far.partition_point(|f| f.key < base);
        let hi = self.far.partition_point(|f| f.key < base + WINDOW as i64);
        for n in lo..hi {
            let moved = self.far[n];
            let i = (moved.key - base) as usize;
            self.set_bit(i);
            self.levels[i] = moved.level;
        }
        self.far.drain(lo..hi);
    }

    /// Removes the (now empty) level at `key`.
    #[inline]
    pub(crate) fn remove(&mut self, key: i64) {
        match self.window_index(key) {
            Some(idx) => {
                if self.bit(idx) {
                    self.clear_bit(idx);
                    self.count -= 1;
                }
            }
            None => {
                if let Ok(i) = self.far.binary_search_by_key(&key, |f| f.key) {
                    self.far.remove(i);
                    self.count -= 1;
                }
            }
        }
        if key == self.best {
            self.best = self.scan_best();
        }
    }

    /// The smallest key with a level, found from the bitmap and the far vector (what `best`
    /// caches).
    #[inline]
    fn scan_best(&self) -> i64 {
        let window = if self.summary != 0 {
            let word = self.summary.trailing_zeros() as usize;
            self.base + (word * 64 + self.words[word].trailing_zeros() as usize) as i64
        } else {
            NO_KEY
        };
        self.far.first().map_or(window, |f| window.min(f.key))
    }

    /// Notes that the level at `key` was created, changed its total or was removed (called after
    /// the change). It was or is the best level exactly when `key <= best` now: a level added
    /// behind the best, or changed or removed behind it, leaves the top of book as it was.
    #[inline]
    pub(crate) fn touched(&mut self, key: i64) {
        self.top_touched |= key <= self.best;
    }

    /// Whether the best level may have changed since the last call (then clears the flag).
    #[inline]
    pub(crate) fn take_top_touched(&mut self) -> bool {
        std::mem::take(&mut self.top_touched)
    }

    /// The best (smallest) key with a level.
    #[inline]
    pub(crate) fn best_key(&self) -> Option<i64> {
        debug_assert_eq!(self.best, self.scan_best());
        (self.best != NO_KEY).then_some(self.best)
    }

    /// The best level and its key.
    #[inline]
    pub(crate) fn best(&self) -> Option<(i64, &Level)> {
        let key = self.best_key()?;
        Some(match self.window_index(key) {
            Some(idx) => (key, &self.levels[idx]),
            // The best key outside the window is the first far level.
            None => (key, &self.far.first()?.level),
        })
    }

    /// The first level with a key greater than `key`.
    pub(crate) fn next_after(&self, key: i64) -> Option<(i64, &Level)> {
        let from = key.saturating_add(1).saturating_sub(self.base);
        let window = if from < 0 {
            self.window_next(0)
        } else if from < WINDOW as i64 {
            self.window_next(from as usize)
        } else {
            None
        }
        .map(|i| (self.base + i as i64, &self.levels[i]));
        let at = self.far.partition_point(|f| f.key <= key);
        let far = self.far.get(at).map(|f| (f.key, &f.level));
        match (window, far) {
            (Some(w), Some(f)) => Some(if w.0 < f.0 { w } else { f }),
            (w, f) => w.or(f),
        }
    }

    /// Calls `visit(key, level)` for levels in key order until it returns `false`.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(i64, &Level) -> bool) {
        let mut cur = self.best();
        while let Some((key, level)) = cur {
            if !visit(key, level) {
                return;
            }
            cur = self.next_after(key);
        }
    }

    /// Bytes held (for the bytes-per-order figure).
    pub(crate) fn bytes(&self) -> usize {
        self.levels.len() * size_of::<Level>()
            + (self.far.capacity() + self.scratch.capacity()) * size_of::<FarLevel>()
            + size_of::<Ladder>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn agrees_with_a_sorted_set_across_recentring() {
        let mut ladder = Ladder::new(20_000, 0);
        let mut model = BTreeSet::new();
        let mut x: u64 = 99;
        for _ in 0..30_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Drift the centre so the window must follow, with occasional far outliers.
            let centre = ((x >> 40) % 50_000) as i64 - 25_000;
            let key = if x.is_multiple_of(17) {
                centre * 3
            } else {
                centre / 8 + (x % 300) as i64
            };
            if model.contains(&key) && x.is_multiple_of(3) {
                ladder.remove(key);
                model.remove(&key);
            } else if model.len() < 10_000 {
                ladder.get_or_insert(key).total += 1;
                model.insert(key);
            }
            assert_eq!(ladder.len(), model.len());
            assert_eq!(ladder.best_key(), model.first().copied());
        }
        let mut seen = Vec::new();
        ladder.for_each(|key, _| {
            seen.push(key);
            true
        });
        assert_eq!(seen, model.iter().copied().collect::<Vec<_>>());
    }
}
