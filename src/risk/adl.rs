//! [`AdlRanking`]: the ADL counterparty ranking of the liquidation engine, kept between
//! auto-deleveragings instead of rebuilt for each (DESIGN.md §5, `liquidation.rs` "ADL").
//!
//! # Layout
//!
//! - A few **slots** (`min(2 · symbols, 4)`), each the ranking of one (symbol, side): a binary
//!   max-heap of [`Ranked`] entries `(score, account, version)` in the ADL total order (higher
//!   score first, then the lower account index), with room for every account plus the change
//!   log.
//! - Per account a `u32` **version**, bumped by [`AdlRanking::touch`] whenever the liquidation
//!   engine changes (or is told of a change to) anything the score reads: position, entry,
//!   isolated margin, collateral, margin mode.
//! - A **change log** of `(account, version)` shared by the slots (a sixteenth of the accounts,
//!   at least 1,024 entries); each valid slot has a cursor into it.
//! - A small **aside** buffer for entries popped but not used by one ADL, and a **used** list
//!   of the counterparties it closed against.
//! - Everything is allocated in [`AdlRanking::new`]; nothing grows afterwards.
//!
//! # Semantics and invariants
//!
//! A score is a pure function of the account's state and the marks of the symbols it holds.
//! A slot is valid from its build until a mark changes (any symbol: a cross account's equity
//! reads every mark), the log overflows, or it is evicted for another (symbol, side). While a
//! slot is valid:
//!
//! - every account that held the slot's side at the build, or changed since (logged), has
//!   exactly one entry whose version equals its current version, and that entry's score is
//!   its score now (scored after its last change, at the current marks);
//! - every other entry is stale (an older version) and is dropped when it reaches the top.
//!
//! Before each ADL the slot scores the logged changes since its cursor (an account logged
//! twice is scored once: only the entry with its current version), then pops: stale entries
//! and accounts no longer on the side are dropped, the liquidated account and positions with a
//! liquidation in flight are set aside and pushed back afterwards. So the counterparties come
//! out in exactly the order a full ranking (score every holder, sort) gives.
//!
//! The liquidation engine uses the ranking only while every symbol has a mark: before its
//! first mark a symbol values positions at its last fill price, which every fill moves
//! without a re-key (it then ranks every candidate per ADL, as before).
//!
//! # Costs
//!
//! Build: one score per holder of the side and an O(n) heapify, what every ADL cost before.
//! Each further ADL at the same marks: one score and an O(log n) push per logged change that
//! holds the side, O(log n) per pop. [`AdlRanking::touch`]: a version increment and, while a
//! slot is valid, one log push. Memory: `slots · (accounts + log) · 16` bytes, plus 8 bytes an
//! account (version, used list) and 8 a log entry: about 43 bytes an account with one symbol
//! (two slots), 77 with two or more (four slots), on top of the liquidation index's.
//!
//! # Known limitations
//!
//! - Marks must change through `LiquidationEngine::on_mark` (which drops the slots when a
//!   price moves); a mark set through `risk_mut()` needs a refresh of every account, as the
//!   re-key index already does.
//! - Any mark change invalidates every slot: a workload that moves a mark between every two
//!   ADLs rebuilds each time (the cost of a full ranking, plus the log pushes).
//! - With more (symbol, side) pairs in use than slots, the least recently used slot is
//!   rebuilt.
//! - More entries set aside in one ADL than the aside buffer holds (the in-flight table's size
//!   plus two: in-flight counterparties, the liquidated account, refused counterparty fills)
//!   drop the slot for a rebuild.

use crate::risk::account::AccountIdx;

/// One ranked candidate: its ADL score (10⁻⁸ units), account index and the account's version
/// when it was scored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ranked {
    /// The ADL score (higher goes first).
    pub(crate) score: i64,
    /// The account's dense index.
    pub(crate) account: u32,
    /// The account's version when scored.
    version: u32,
}

impl Ranked {
    /// An entry outside any kept ranking (the rank-everyone path): version 0.
    #[inline]
    pub(crate) fn unversioned(score: i64, account: u32) -> Ranked {
        Ranked {
            score,
            account,
            version: 0,
        }
    }
}

/// The ADL total order: `x` goes before `y` (higher score first, then the lower account).
#[inline]
pub(crate) fn ranked_before(x: &Ranked, y: &Ranked) -> bool {
    x.score > y.score || (x.score == y.score && x.account < y.account)
}

/// Restores the heap property below `at` in a max-heap ordered by [`ranked_before`].
pub(crate) fn sift_down(heap: &mut [Ranked], mut at: usize) {
    loop {
        let left = 2 * at + 1;
        if left >= heap.len() {
            return;
        }
        let right = left + 1;
        let best = if right < heap.len() && ranked_before(&heap[right], &heap[left]) {
            right
        } else {
            left
        };
        if !ranked_before(&heap[best], &heap[at]) {
            return;
        }
        heap.swap(at, best);
        at = best;
    }
}

/// Arranges `heap` as a binary heap with the best-ranked entry first, in O(n).
pub(crate) fn heapify(heap: &mut [Ranked]) {
    for at in (0..heap.len() / 2).rev() {
        sift_down(heap, at);
    }
}

fn sift_up(heap: &mut [Ranked], mut at: usize) {
    while at > 0 {
        let parent = (at - 1) / 2;
        if !ranked_before(&heap[at], &heap[parent]) {
            return;
        }
        heap.swap(at, parent);
        at = parent;
    }
}

/// Counts of what the ranking did (for tests and the benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdlStats {
    /// Auto-deleveragings ranked (by either path).
    pub adls: u64,
    /// Full rankings built: slot builds, and ADLs ranked without a slot.
    pub builds: u64,
    /// Candidates scored, in builds and for logged changes.
    pub scored: u64,
}

#[derive(Clone, Debug, Default)]
struct Slot {
    symbol: u32,
    short: bool,
    valid: bool,
    cursor: usize,
    last_use: u64,
    heap: Vec<Ranked>,
}

/// The ADL ranking slots, the per-account versions and the change log. See the
/// [module docs](self).
#[derive(Clone, Debug, Default)]
pub(crate) struct AdlRanking {
    slots: Vec<Slot>,
    versions: Vec<u32>,
    log: Vec<(u32, u32)>,
    aside: Vec<Ranked>,
    aside_full: bool,
    /// Counterparties one ADL closed against, in rank order.
    pub(crate) used: Vec<u32>,
    valid: usize,
    clock: u64,
    pub(crate) stats: AdlStats,
}

impl AdlRanking {
    /// Slots for `max_symbols` symbols, every store sized for `max_accounts` accounts and
    /// `max_in_flight` liquidations in flight.
    pub(crate) fn new(max_accounts: usize, max_symbols: usize, max_in_flight: usize) -> Self {
        AdlRanking::with_sizes(
            max_accounts,
            (2 * max_symbols).clamp(1, 4),
            (max_accounts / 16).max(1024),
            max_in_flight.saturating_add(2),
        )
    }

    fn with_sizes(max_accounts: usize, slots: usize, log: usize, aside: usize) -> Self {
        AdlRanking {
            slots: (0..slots)
                .map(|_| Slot {
                    heap: Vec::with_capacity(max_accounts + log),
                    ..Slot::default()
                })
                .collect(),
            versions: vec![0; max_accounts],
            log: Vec::with_capacity(log),
            aside: Vec::with_capacity(aside),
            aside_full: false,
            used: Vec::with_capacity(max_accounts),
            valid: 0,
            clock: 0,
            stats: AdlStats::default(),
        }
    }

    /// Bytes allocated.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.slots
            .iter()
            .map(|s| s.heap.capacity() * size_of::<Ranked>())
            .sum::<usize>()
            + self.versions.capacity() * 4
            + self.log.capacity() * 8
            + self.aside.capacity() * size_of::<Ranked>()
            + self.used.capacity() * 4
    }

    /// Something the account's score reads changed (or may have).
    #[inline]
    pub(crate) fn touch(&mut self, account: AccountIdx) {
        let Some(v) = self.versions.get_mut(account.0 as usize) else {
            return;
        };
        *v = v.wrapping_add(1);
        if self.valid > 0 {
            if self.log.len() < self.log.capacity() {
                self.log.push((account.0, *v));
            } else {
                self.invalidate();
            }
        }
    }

    /// Every score may have changed (a mark moved): drops every slot.
    pub(crate) fn invalidate(&mut self) {
        for slot in &mut self.slots {
            slot.valid = false;
        }
        self.valid = 0;
        self.log.clear();
    }

    /// The slot ranking (`symbol`, `short`), and whether it must be built first.
    pub(crate) fn claim(&mut self, symbol: u32, short: bool) -> (usize, bool) {
        self.clock += 1;
        let clock = self.clock;
        if let Some(i) = self
            .slots
            .iter()
            .position(|s| s.valid && s.symbol == symbol && s.short == short)
        {
            self.slots[i].last_use = clock;
            return (i, false);
        }
        // An invalid slot, else the least recently used.
        let i = self
            .slots
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| (s.valid, s.last_use))
            .map_or(0, |(i, _)| i);
        if self.slots[i].valid {
            self.slots[i].valid = false;
            self.valid -= 1;
        }
        let slot = &mut self.slots[i];
        slot.symbol = symbol;
        slot.short = short;
        slot.last_use = clock;
        slot.heap.clear();
        (i, true)
    }

    /// Builds slot `i` from `holders` (a bit per account index), scoring each with `score`.
    pub(crate) fn build(
        &mut self,
        i: usize,
        holders: &[u64],
        mut score: impl FnMut(AccountIdx) -> i64,
    ) {
        if self.valid == 0 {
            self.log.clear();
        }
        let slot = &mut self.slots[i];
        slot.heap.clear();
        for (w, &word) in holders.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let j = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let Some(&version) = self.versions.get(j) else {
                    continue;
                };
                if slot.heap.len() == slot.heap.capacity() {
                    break;
                }
                slot.heap.push(Ranked {
                    score: score(AccountIdx(j as u32)),
                    account: j as u32,
                    version,
                });
            }
        }
        heapify(&mut slot.heap);
        self.stats.builds += 1;
        self.stats.scored += slot.heap.len() as u64;
        slot.cursor = self.log.len();
        slot.valid = true;
        self.valid += 1;
    }

    /// Scores the changes logged since slot `i`'s cursor that hold its side (`holds`), each
    /// account once at its current version. Returns `false` (the slot is dropped) if the heap
    /// is full, which the sizes rule out.
    pub(crate) fn catch_up(
        &mut self,
        i: usize,
        holds: impl Fn(u32) -> bool,
        mut score: impl FnMut(AccountIdx) -> i64,
    ) -> bool {
        let slot = &mut self.slots[i];
        let mut scored = 0;
        for &(a, version) in &self.log[slot.cursor..] {
            if self.versions[a as usize] != version || !holds(a) {
                continue;
            }
            if slot.heap.len() == slot.heap.capacity() {
                slot.valid = false;
                self.valid -= 1;
                return false;
            }
            slot.heap.push(Ranked {
                score: score(AccountIdx(a)),
                account: a,
                version,
            });
            let last = slot.heap.len() - 1;
            sift_up(&mut slot.heap, last);
            scored += 1;
        }
        slot.cursor = self.log.len();
        self.stats.scored += scored;
        true
    }

    /// Pops slot `i`'s best current entry whose account still `holds` the side; drops stale
    /// ones on the way.
    pub(crate) fn pop(&mut self, i: usize, holds: impl Fn(u32) -> bool) -> Option<Ranked> {
        let heap = &mut self.slots[i].heap;
        while !heap.is_empty() {
            let last = heap.len() - 1;
            heap.swap(0, last);
            let top = heap.pop()?;
            sift_down(heap, 0);
            if self.versions[top.account as usize] == top.version && holds(top.account) {
                return Some(top);
            }
        }
        None
    }

    /// Keeps a popped entry this ADL skipped, for [`AdlRanking::restore`].
    pub(crate) fn set_aside(&mut self, entry: Ranked) {
        if self.aside.len() < self.aside.capacity() {
            self.aside.push(entry);
        } else {
            self.aside_full = true;
        }
    }

    /// Pushes the entries set aside back into slot `i` (dropped for a rebuild if some did not
    /// fit in the aside buffer).
    pub(crate) fn restore(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        if self.aside_full {
            self.aside_full = false;
            if slot.valid {
                slot.valid = false;
                self.valid -= 1;
            }
        } else if slot.valid {
            for &e in &self.aside {
                slot.heap.push(e);
                let last = slot.heap.len() - 1;
                sift_up(&mut slot.heap, last);
            }
        }
        self.aside.clear();
    }
}

#[cfg(test)]
mod tests {
    //! The kept ranking against the straightforward one (score every candidate, sort) on
    //! random books: random scores with many ties, accounts joining and leaving a side, mark
    //! moves, log overflows, evictions and set-aside entries.

    use super::*;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    const ACCOUNTS: usize = 48;
    /// (symbol, side) pairs: more than the slots, so slots are evicted.
    const KEYS: usize = 6;

    struct Book {
        /// Per key, per account: `Some(score)` while the account holds that side.
        held: Vec<Vec<Option<i64>>>,
    }

    impl Book {
        fn holders(&self, k: usize) -> Vec<u64> {
            let mut bits = vec![0u64; ACCOUNTS.div_ceil(64)];
            for (a, h) in self.held[k].iter().enumerate() {
                if h.is_some() {
                    bits[a / 64] |= 1 << (a % 64);
                }
            }
            bits
        }

        /// The straightforward ranking: every holder scored, sorted.
        fn sorted(&self, k: usize) -> Vec<u32> {
            let mut all: Vec<Ranked> = self.held[k]
                .iter()
                .enumerate()
                .filter_map(|(a, h)| {
                    h.map(|score| Ranked {
                        score,
                        account: a as u32,
                        version: 0,
                    })
                })
                .collect();
            // Higher score first, then the lower account index.
            all.sort_by_key(|r| (std::cmp::Reverse(r.score), r.account));
            all.iter().map(|r| r.account).collect()
        }
    }

    fn random_score(rng: &mut Xoshiro256PlusPlus) -> i64 {
        match rng.random_range(0..10) {
            0 => i64::MAX,
            1 => i64::MIN,
            2 => 0,
            _ => rng.random_range(-6..=6),
        }
    }

    /// Changes account `a` (every key's score, maybe which sides it holds) and touches it.
    fn change(book: &mut Book, rank: &mut AdlRanking, rng: &mut Xoshiro256PlusPlus, a: usize) {
        for k in 0..KEYS {
            book.held[k][a] = if rng.random_bool(0.6) {
                Some(random_score(rng))
            } else {
                None
            };
        }
        rank.touch(AccountIdx(a as u32));
    }

    fn run(seed: u64) -> Result<(), TestCaseError> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let log = rng.random_range(4..40);
        let aside = rng.random_range(1..6);
        let mut rank = AdlRanking::with_sizes(ACCOUNTS, 4, log, aside);
        let mut book = Book {
            held: vec![vec![None; ACCOUNTS]; KEYS],
        };
        for a in 0..ACCOUNTS {
            change(&mut book, &mut rank, &mut rng, a);
        }
        let mut kept = 0;
        for _ in 0..300 {
            match rng.random_range(0..10) {
                0..=2 => {
                    let a = rng.random_range(0..ACCOUNTS);
                    change(&mut book, &mut rank, &mut rng, a);
                }
                3 => {
                    // A mark moves: every score may change.
                    for a in 0..ACCOUNTS {
                        for k in 0..KEYS {
                            if let Some(s) = &mut book.held[k][a] {
                                *s = random_score(&mut rng);
                            }
                        }
                    }
                    rank.invalidate();
                }
                _ => {
                    // One ADL on key k, skipping a few accounts (the liquidated one, those in
                    // flight), closing against up to `n` counterparties.
                    let k = rng.random_range(0..KEYS);
                    let skip: Vec<u32> = (0..rng.random_range(0..4))
                        .map(|_| rng.random_range(0..ACCOUNTS as u32))
                        .collect();
                    let n = rng.random_range(0..6);
                    let expected: Vec<u32> = book
                        .sorted(k)
                        .into_iter()
                        .filter(|a| !skip.contains(a))
                        .take(n)
                        .collect();
                    let (slot, build) = rank.claim((k / 2) as u32, k % 2 == 1);
                    if build {
                        rank.build(slot, &book.holders(k), |a| {
                            book.held[k][a.0 as usize].unwrap()
                        });
                    } else {
                        kept += 1;
                    }
                    let held = &book.held[k];
                    if !rank.catch_up(
                        slot,
                        |a| held[a as usize].is_some(),
                        |a| held[a.0 as usize].unwrap(),
                    ) {
                        rank.build(slot, &book.holders(k), |a| held[a.0 as usize].unwrap());
                    }
                    let mut got = Vec::new();
                    while got.len() < n {
                        let Some(e) = rank.pop(slot, |a| held[a as usize].is_some()) else {
                            break;
                        };
                        prop_assert_eq!(Some(e.score), held[e.account as usize]);
                        if skip.contains(&e.account) {
                            rank.set_aside(e);
                        } else {
                            got.push(e.account);
                        }
                    }
                    rank.restore(slot);
                    prop_assert_eq!(&got, &expected, "key {}", k);
                    // The counterparties used change (their fills).
                    for &a in &got {
                        change(&mut book, &mut rank, &mut rng, a as usize);
                    }
                }
            }
        }
        prop_assert!(kept > 0, "some ADL reused a kept ranking");
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn kept_ranking_pops_what_sorting_every_candidate_gives(seed in any::<u64>()) {
            run(seed)?;
        }
    }
}
