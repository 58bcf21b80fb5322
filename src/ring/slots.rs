//! The ring's slot array, allocated on a 128-byte boundary, its 128-byte blocks visited out of
//! order.
//!
//! The allocator aligns a `Box<[T]>` or a `Vec<T>` to `align_of::<T>()` only (glibc hands out
//! 16-byte aligned blocks), so rtrb's slot array starts 0, 16, 32 or 48 bytes past a cache line,
//! whichever the heap gives, and a 64-byte item of its may straddle two lines: two lines to
//! write and move across cores per item, and vector moves split across them. On an array that
//! starts on a line, an item whose size divides 64 never straddles one, and an item whose size
//! is a multiple of 64 fills whole lines. `compare -- ring-align` measures it (two pinned
//! threads, 20 M 64-byte items, the same algorithm with its slots placed past a line, the
//! consumer reading every word): 0.63–0.75× the aligned throughput at 16 or 48 bytes past,
//! 0.83–0.99× at 32, in 5 runs on a 2-core Zen 4 guest (perf/README.md).
//!
//! # Block order
//!
//! Positions map onto the slots one 128-byte block (two cache lines) at a time: the positions
//! of a block keep their order in it, but consecutive blocks are scattered: block `k` of the
//! ring lives at block `37 k mod blocks` of the array. In plain address order the consumer of a
//! near-empty ring reads one line after the other, and this core's (Zen 4) prefetchers pull the
//! next line into the consumer's cache just as the producer starts writing it, so the producer
//! must take it back. `compare -- ring-phase` files each round trip (a `u64` there and back,
//! capacity 1024, two pinned threads) under its position in the line: in rtrb's plain order
//! the first item of a line took 134–137 ns on average against 88–93 ns for the other seven,
//! and 14–15 % of those first items took twice the median or more; in block order the first
//! item of a block took 114 ns (3.5 %) and the first of its second line 118 ns (6.5 %)
//! (perf/README.md, 2026-12-05). Scattering single lines did better still on round trips but
//! halved batch throughput: the adjacent-line prefetcher fetches a line's 128-byte-aligned
//! partner with it, which then belonged to a far part of the ring that the other side was
//! using. Scattering pairs keeps both partners on one side.
//!
//! The order is a bijection on each power-of-two ring (multiplying by an odd number is
//! invertible modulo a power of two), so nothing else changes. Only slots whose size is a power
//! of two are reordered (a block then holds whole slots, or a slot whole blocks); others keep
//! the plain order, as does a ring of at most four blocks (37 ≡ 1 mod 4).
//!
//! # Prefetching
//!
//! In block order the hardware prefetchers cannot see the next block, so both sides ask for it
//! themselves, once per block, and only for a block the other side is done with:
//!
//! - **The producer takes the next block for writing** ([`CLAIM_AHEAD_BLOCKS`] on, PREFETCHW)
//!   when it starts a block and its cached `head` shows that block wholly free. Its lines
//!   still sit in the consumer's cache from the last lap; without the claim, the first store
//!   to each line waits for the consumer's copy to be invalidated, and on x86 the `tail` store
//!   behind it cannot become visible before it does. A block the consumer may still be reading
//!   is never claimed: that would pull it away from the consumer.
//! - **A consumer that lags behind loads its blocks early** ([`READ_AHEAD_BLOCKS`] on, both
//!   lines), once a block is wholly published: a prefetch of a block the producer may still be
//!   writing would pull it away from the producer. In plain order the prefetchers streamed
//!   these lines for it. Four blocks and both lines did better than two blocks and one line;
//!   eight were within noise of four.
//!
//! Measured (`compare -- ring`, two pinned threads, capacity 1024, 6 runs per build taking
//! turns, perf/README.md, 2026-12-05 08:49–09:10): each run's paired single-item `u64` ratio to
//! rtrb (the median of its rounds' own ratios) went from 0.95–1.17 (block order alone) to
//! 1.11–1.96 with the producer's claim and 1.79–3.56 with the read-ahead too (medians 1.04,
//! 1.49, 2.06); in a lab harness a `push_slice` that claims moved 256-item batches 13–15 %
//! faster. The price is on the round trip: a block's first item, after which the producer
//! claims, took 2–4 ns longer (113–116 ns against 111–112, `compare -- ring-phase`), and the
//! mean 0–4 % longer in two A/B batches; p50 and p99.9 still tie with rtrb's within a TSC step.
//!
//! Both sides judge "done with" by their cached copy of the other's counter, which is stale in
//! the safe direction: nothing is claimed or read ahead that is not free or published, but
//! near the cache's end (two blocks of room, five published) nothing is until the next refresh.
//!
//! Costs: an `and`, a multiply (two `lea`), an `or` and an `and` per slot address, computed from
//! the handle's own counter while the other side's counter loads; one branch per `push` and per
//! `pop`, and two prefetches per block when the ring is neither near full (producer) nor near
//! empty (consumer); two CPUIDs when a ring is made (whether the core has PREFETCHW); the
//! allocator may keep up to 127 bytes of slack to align the array. On one thread, where the ring
//! sits in L1 and nothing crosses cores, the prefetches cost: `cargo bench --bench ring` moves
//! 16-item batches 19–28 % and 256-item ones 13 % slower than without them.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::ptr::NonNull;

use crate::sync::UnsafeCell;

/// One slot: an item or nothing, shared between the two ends.
pub(super) type Slot<T> = UnsafeCell<MaybeUninit<T>>;

/// Bytes in the unit the ring scatters: two cache lines on x86-64 and most aarch64 cores (the
/// pair an adjacent-line prefetcher fetches together; Apple's cores have 128-byte lines). The
/// array starts on such a boundary, so a 64-byte item never straddles two lines either.
const BLOCK: usize = 128;

/// The ring's block `k` lives at array block `37 k` modulo the block count: odd, so a
/// bijection. Consecutive blocks land 37 blocks (4.7 KB) apart in a ring of 64 blocks or more,
/// 5 blocks apart in one of 8 to 32 (37 mod 8, 16 or 32): never next to each other, so no
/// next-line or adjacent-line prefetch of one block touches the next.
const BLOCK_STRIDE: usize = 37;

/// How far ahead, in blocks, `pop` and the batches prefetch a ring they lag behind
/// ([`SlotView::block_ahead`]).
const READ_AHEAD_BLOCKS: usize = 4;

/// How far ahead, in blocks, `push` takes free slots for writing ([`SlotView::block_ahead`]).
const CLAIM_AHEAD_BLOCKS: usize = 1;

/// `len` empty slots, the first on a 128-byte boundary. Owns its allocation; dropping it
/// drops the slots' cells (not the items: the ring drops those it knows to be initialised).
pub(super) struct Slots<T> {
    first: NonNull<Slot<T>>,
    len: usize,
    /// Whether this core has a prefetch for writing (asked once, here: CPUID is slow, and a
    /// trap in a virtual machine).
    prefetch_for_write: bool,
}

impl<T> Slots<T> {
    /// Allocates `len` empty slots.
    ///
    /// # Panics
    ///
    /// If `len` is not a power of two (so not 0: [`SlotView`]'s mask and block order rely on
    /// both) or the array's size overflows `isize`; aborts (`handle_alloc_error`) if the
    /// allocation fails.
    pub(super) fn new(len: usize) -> Slots<T> {
        assert!(
            len.is_power_of_two(),
            "ring slots come in a power of two, at least one"
        );
        let layout = Self::layout(len);
        let first = if layout.size() == 0 {
            // Zero-sized slots (or none): no memory, any well-aligned non-null pointer will do.
            NonNull::<Slot<T>>::dangling()
        } else {
            // SAFETY: the layout's size is not zero.
            let raw = unsafe { alloc(layout) }.cast::<Slot<T>>();
            let Some(first) = NonNull::new(raw) else {
                handle_alloc_error(layout)
            };
            first
        };
        for index in 0..len {
            // The layout is aligned at least as `Slot<T>` is; a zero-sized write may go to a
            // dangling pointer; the memory is uninitialised, so nothing is overwritten.
            // SAFETY: `index < len`: in bounds (or zero-sized), and aligned for `Slot<T>`.
            unsafe {
                first
                    .add(index)
                    .write(UnsafeCell::new(MaybeUninit::uninit()))
            };
        }
        Slots {
            first,
            len,
            prefetch_for_write: crate::hint::can_prefetch_for_write(),
        }
    }

    fn layout(len: usize) -> Layout {
        Layout::array::<Slot<T>>(len)
            .and_then(|layout| layout.align_to(BLOCK))
            .expect("ring slot array overflows isize")
    }

    /// The array's address and index mask, copied out (see [`SlotView`]).
    #[inline(always)]
    pub(super) fn view(&self) -> SlotView<T> {
        SlotView {
            first: self.first,
            mask: self.len - 1,
            prefetch_for_write: self.prefetch_for_write,
        }
    }
}

/// A copy of a [`Slots`]' address and index mask (`len − 1`), to keep in registers.
///
/// The ring reads them from its shared block, which also holds the atomic counters: in a loop
/// that writes into slots or stores a counter, the compiler must assume the fields may have
/// changed and reloads both for every item. A copy in locals, or in a `Drain`, is loaded once
/// (perf/README.md, 2026-12-05, `benches/ring.rs`).
pub(super) struct SlotView<T> {
    first: NonNull<Slot<T>>,
    mask: usize,
    prefetch_for_write: bool,
}

/// What a block is prefetched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Intent {
    /// The consumer is about to read it.
    Read,
    /// The producer is about to write it.
    Write,
}

impl<T> Clone for SlotView<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SlotView<T> {}

impl<T> SlotView<T> {
    /// Slots per block, as a shift (`0` for a slot of a block or more), when a slot's size is a
    /// power of two; `None` (plain order) otherwise.
    const BLOCK_SHIFT: Option<u32> = {
        let size = size_of::<Slot<T>>();
        if size == 0 || !size.is_power_of_two() {
            None
        } else if size >= BLOCK {
            Some(0)
        } else {
            Some((BLOCK / size).trailing_zeros())
        }
    };

    /// The array index of `position` (a `head` or `tail` value: it wraps onto the array), in
    /// the module's block order; always `≤ mask`.
    #[inline(always)]
    fn index(self, position: usize) -> usize {
        let Some(shift) = Self::BLOCK_SHIFT else {
            return position & self.mask;
        };
        let within_block = (1 << shift) - 1;
        // A block's first position times the stride stays a multiple of the block's slot
        // count, so the position within the block fills the low bits untouched; in a ring
        // shorter than a block, `mask ≤ within_block` and this is `position & mask`.
        let block_start = (position & !within_block).wrapping_mul(BLOCK_STRIDE);
        (block_start | (position & within_block)) & self.mask
    }

    /// The first position of the block a side that has just reached `position` should
    /// prefetch, when `position` starts a block and all of that block lies below `end`, the end
    /// of what the other side is done with: for the consumer ([`Intent::Read`]) its cached
    /// `tail`, [`READ_AHEAD_BLOCKS`] blocks on; for the producer ([`Intent::Write`]) its cached
    /// `head` plus the capacity, [`CLAIM_AHEAD_BLOCKS`] on. `None` otherwise: mid-block, in the
    /// plain order (the hardware prefetchers follow it), or when the other side may still be
    /// using that block, which a prefetch would pull away from it. (A ring of at most four
    /// blocks never holds five, so never reads ahead: it is in plain order in effect.)
    #[inline(always)]
    fn block_ahead(self, position: usize, end: usize, intent: Intent) -> Option<usize> {
        let shift = Self::BLOCK_SHIFT?;
        let per_block = 1usize << shift;
        let blocks = match intent {
            Intent::Read => READ_AHEAD_BLOCKS,
            Intent::Write => CLAIM_AHEAD_BLOCKS,
        };
        let ahead = per_block * blocks;
        (position & (per_block - 1) == 0 && end.wrapping_sub(position) >= ahead + per_block)
            .then(|| position.wrapping_add(ahead))
    }

    /// Slots in the array.
    #[inline(always)]
    pub(super) fn len(self) -> usize {
        self.mask + 1
    }

    /// Starts loading the block [`SlotView::block_ahead`] names for a consumer at `head` whose
    /// cached `tail` is `published`, if it names one.
    #[inline(always)]
    pub(super) fn prefetch_ahead(self, head: usize, published: usize) {
        self.prefetch_chosen(head, published, Intent::Read);
    }

    /// Starts taking the block [`SlotView::block_ahead`] names for a producer about to write at
    /// `tail` whose cached `head` is `cached_head`, if it names one (and the core can prefetch
    /// for writing).
    #[inline(always)]
    pub(super) fn claim_ahead(self, tail: usize, cached_head: usize) {
        self.prefetch_chosen(tail, cached_head.wrapping_add(self.len()), Intent::Write);
    }

    /// Prefetches the block [`SlotView::block_ahead`] names, if any.
    #[inline(always)]
    fn prefetch_chosen(self, position: usize, end: usize, intent: Intent) {
        if let Some(block) = self.block_ahead(position, end, intent) {
            #[cfg(all(test, not(liqcore_loom)))]
            chosen::record(intent, block);
            self.prefetch_block(block, intent);
        }
    }

    /// Starts loading the block that starts at `position`, both of its lines (the first two
    /// lines of a slot of a block or more).
    #[inline(always)]
    fn prefetch_block(self, position: usize, intent: Intent) {
        // Address arithmetic only: a prefetch never dereferences, so the second line of an
        // array shorter than a block needs no bounds.
        let first = self
            .first
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(self.index(position) * size_of::<Slot<T>>());
        for line in [first, first.wrapping_add(BLOCK / 2)] {
            match intent {
                Intent::Read => crate::hint::prefetch_address(line),
                Intent::Write if self.prefetch_for_write => {
                    // SAFETY: `prefetch_for_write` is CPUID's answer that this core has PREFETCHW.
                    unsafe { crate::hint::prefetch_address_for_write(line) }
                }
                Intent::Write => {}
            }
        }
    }

    /// The slots of `position` and of the positions after it, up to `wanted` of them, that lie
    /// next to each other in the array: to the end of `position`'s block in the block order, to
    /// the end of the array in the plain one. At least one slot when `wanted ≥ 1`. A batch
    /// walks these runs, so that it computes one address per block and copies in a tight loop.
    ///
    /// # Safety
    ///
    /// The [`Slots`] this view was taken from must outlive `'a`.
    #[inline(always)]
    pub(super) unsafe fn run<'a>(self, position: usize, wanted: usize) -> &'a [Slot<T>] {
        let len = self.len();
        let stretch = match Self::BLOCK_SHIFT {
            // Within a block (or the whole array, when it is shorter than a block).
            Some(shift) => {
                let per_block = (1 << shift).min(len);
                per_block - (position & (per_block - 1))
            }
            None => len - (position & self.mask),
        };
        // The slots `index(position) ..` + `stretch` share `position`'s block (or stop at the
        // array's end), so they lie in the array, whose cells `new` initialised.
        // SAFETY: the run is inside the initialised array, which the caller keeps alive for 'a.
        unsafe {
            std::slice::from_raw_parts(
                self.first.add(self.index(position)).as_ptr(),
                stretch.min(wanted),
            )
        }
    }

    /// The slot of `position` (a `head` or `tail` value: it wraps onto the array).
    ///
    /// # Safety
    ///
    /// The [`Slots`] this view was taken from must outlive `'a`.
    #[inline(always)]
    pub(super) unsafe fn at<'a>(self, position: usize) -> &'a Slot<T> {
        // `new` took only a power of two and initialised every cell; for zero-sized slots
        // `add` moves no bytes from the aligned `first`.
        // SAFETY: `index ≤ mask = len − 1`: in the array, which the caller keeps alive for 'a.
        unsafe { self.first.add(self.index(position)).as_ref() }
    }
}

impl<T> Deref for Slots<T> {
    type Target = [Slot<T>];

    fn deref(&self) -> &[Slot<T>] {
        // SAFETY: `new` initialised `len` cells from `first`, which stay until `drop`.
        unsafe { std::slice::from_raw_parts(self.first.as_ptr(), self.len) }
    }
}

impl<T> Drop for Slots<T> {
    fn drop(&mut self) {
        let cells = std::ptr::slice_from_raw_parts_mut(self.first.as_ptr(), self.len);
        // The items inside are `MaybeUninit`: dropping the cells does not touch them.
        // SAFETY: the `len` cells were initialised in `new` and are dropped only here.
        unsafe { cells.drop_in_place() };
        let layout = Self::layout(self.len);
        if layout.size() != 0 {
            // SAFETY: allocated in `new` with this same layout.
            unsafe { dealloc(self.first.as_ptr().cast(), layout) };
        }
    }
}

/// Under test, every block either side chose to prefetch, on this thread, in order: a prefetch
/// changes nothing else a test could see, so this is how the ring's tests check that `push`
/// and `pop` pass the right bounds.
#[cfg(all(test, not(liqcore_loom)))]
pub(super) mod chosen {
    use std::cell::RefCell;

    use super::Intent;

    thread_local! {
        static BLOCKS: RefCell<Vec<(Intent, usize)>> = const { RefCell::new(Vec::new()) };
    }

    pub(in crate::ring) fn record(intent: Intent, position: usize) {
        BLOCKS.with(|blocks| blocks.borrow_mut().push((intent, position)));
    }

    /// The choices made since the last call.
    pub(in crate::ring) fn take() -> Vec<(Intent, usize)> {
        BLOCKS.with(|blocks| std::mem::take(&mut *blocks.borrow_mut()))
    }
}

#[cfg(all(test, not(liqcore_loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_first_slot_starts_a_block() {
        for len in [1, 2, 4, 1024] {
            assert_eq!(
                Slots::<[u64; 8]>::new(len).view().first.as_ptr().addr() % BLOCK,
                0
            );
            assert_eq!(
                Slots::<u8>::new(len).view().first.as_ptr().addr() % BLOCK,
                0
            );
            assert_eq!(Slots::<[u8; 24]>::new(len).len(), len);
        }
        assert_eq!(Slots::<()>::new(1024).len(), 1024);
    }

    #[test]
    #[should_panic(expected = "power of two")]
    fn no_slots_is_refused() {
        let _ = Slots::<u64>::new(0);
    }

    #[test]
    #[should_panic(expected = "power of two")]
    fn a_length_that_is_not_a_power_of_two_is_refused() {
        let _ = Slots::<u64>::new(24);
    }

    /// Every position of one lap maps to a different slot, inside the array.
    fn assert_one_lap_is_a_permutation<T>(len: usize) {
        let slots = Slots::<T>::new(len);
        let view = slots.view();
        let mut seen = vec![false; len];
        for position in len * 5..len * 6 {
            let index = view.index(position);
            assert!(
                index < len,
                "{len} slots: position {position} went to {index}"
            );
            assert!(!seen[index], "{len} slots: two positions went to {index}");
            seen[index] = true;
        }
    }

    /// Prefetches never dereference, so positions past a short array's end (its second line)
    /// and wrapped counters must not fault; this runs every path of both sides' prefetches.
    fn prefetch_every_position<T>(len: usize) {
        let slots = Slots::<T>::new(len);
        let view = slots.view();
        let laps = (0..4 * len).chain(0usize.wrapping_sub(4 * len)..=usize::MAX);
        for position in laps.step_by(len.div_ceil(256)) {
            view.prefetch_ahead(position, position.wrapping_add(len));
            view.claim_ahead(position, position);
            view.prefetch_block(position, Intent::Read);
            view.prefetch_block(position, Intent::Write);
        }
    }

    /// Both checks above, for a ring of `len` slots of `T`.
    fn check_every_position<T>(len: usize) {
        assert_one_lap_is_a_permutation::<T>(len);
        prefetch_every_position::<T>(len);
    }

    #[test]
    fn the_block_order_is_a_permutation_and_prefetches_are_harmless_for_every_slot_size() {
        for shift in 0..=14 {
            let len = 1 << shift;
            check_every_position::<u8>(len);
            check_every_position::<u16>(len);
            check_every_position::<u64>(len);
            check_every_position::<[u64; 8]>(len);
            check_every_position::<[u64; 32]>(len);
            check_every_position::<[u8; 24]>(len);
            check_every_position::<()>(len);
        }
    }

    /// Runs cover `wanted` positions from `start` (wrapping past `usize::MAX` if need be) in
    /// order: each run's slots are those of its positions.
    fn assert_runs_follow_positions<T>(len: usize, start: usize, wanted: usize) {
        let slots = Slots::<T>::new(len);
        let view = slots.view();
        let mut done = 0;
        while done < wanted {
            let position = start.wrapping_add(done);
            // SAFETY: `slots` outlives the run.
            let run = unsafe { view.run(position, wanted - done) };
            assert!(!run.is_empty() && run.len() <= wanted - done);
            for (offset, slot) in run.iter().enumerate() {
                // SAFETY: `slots` outlives the slot.
                let expected = unsafe { view.at(position.wrapping_add(offset)) };
                assert!(
                    std::ptr::eq(slot, expected),
                    "{len} slots, position {position}"
                );
            }
            done += run.len();
        }
    }

    #[test]
    fn runs_hold_the_slots_of_consecutive_positions() {
        for len in [1, 2, 4, 8, 16, 1024] {
            let near_the_wrap = usize::MAX - len / 2 - 3;
            for (start, wanted) in [
                (0, len),
                (3, len),
                (len - 1, 2),
                (5 * len + 7, 3 * len),
                (near_the_wrap, 2 * len),
            ] {
                assert_runs_follow_positions::<u8>(len, start, wanted);
                assert_runs_follow_positions::<u64>(len, start, wanted);
                assert_runs_follow_positions::<[u64; 8]>(len, start, wanted);
                assert_runs_follow_positions::<[u8; 24]>(len, start, wanted);
                assert_runs_follow_positions::<()>(len, start, wanted);
            }
        }
    }

    #[test]
    fn a_block_keeps_its_slots_in_order_and_the_next_block_is_far_away() {
        let slots = Slots::<u64>::new(1024);
        let view = slots.view();
        // 16 `u64` slots to a 128-byte block.
        let second_block: Vec<usize> = (16..32).map(|position| view.index(position)).collect();
        let start = second_block[0];
        assert_eq!(start % 16, 0);
        assert_eq!(second_block, (start..start + 16).collect::<Vec<_>>());
        let third_block = view.index(32);
        assert!(
            third_block.abs_diff(start) > 32,
            "block 3 lands next to block 2"
        );
        // A block of 64-byte slots holds two of them; a 256-byte slot is a block of its own.
        let wide = Slots::<[u64; 8]>::new(64);
        let view = wide.view();
        assert_eq!(view.index(3), view.index(2) + 1);
        assert!(view.index(4).abs_diff(view.index(2)) > 2);
        let big = Slots::<[u64; 32]>::new(64);
        assert!(big.view().index(1) > 2);
        // Plain order where a slot's size is not a power of two, and within one block.
        let plain = Slots::<[u8; 24]>::new(64);
        assert_eq!(plain.view().index(3 + 64), 3);
        let short = Slots::<u64>::new(8);
        assert_eq!(short.view().index(13), 5);
    }

    /// `(side, position, end of what the other side is done with, expected choice)`.
    type Case = (Intent, usize, usize, Option<usize>);

    /// Checks each side's choice of the block to prefetch in a ring of `len` slots of `T`: the
    /// consumer's to read ([`Intent::Read`]), the producer's to write.
    fn choices<T>(len: usize, cases: &[Case]) {
        let slots = Slots::<T>::new(len);
        let view = slots.view();
        for &(side, position, end, expected) in cases {
            assert_eq!(
                view.block_ahead(position, end, side),
                expected,
                "{len} slots of {} bytes, position {position}, end {end}",
                size_of::<T>()
            );
        }
    }

    /// Both sides of the bound: at `end` the block starting at `chosen` is chosen, one short of
    /// it nothing is.
    fn bound(side: Intent, position: usize, end: usize, chosen: usize) -> Vec<Case> {
        vec![
            (side, position, end, Some(chosen)),
            (side, position, end - 1, None),
        ]
    }

    #[test]
    fn only_a_block_the_other_side_is_done_with_is_prefetched() {
        use Intent::{Read, Write};
        // At a block's start: the consumer four blocks (64 `u64` slots) on, once all of that
        // block is published; the producer the next block, once all of it is free (its end is
        // the cached `head` plus the capacity; a full ring claims nothing). Counters wrap.
        let before_zero = 0usize.wrapping_sub(16);
        let mid_block = [(Read, 65, 65 + 100, None), (Write, 65, 65 + 100, None)];
        let wrapped = [
            (Read, before_zero, 64, Some(48)),
            (Write, before_zero, 16, Some(0)),
        ];
        let full = [(Write, 64, 64, None)];
        let u64_cases = [
            bound(Read, 64, 64 + 80, 128),
            bound(Write, 64, 64 + 32, 80),
            mid_block.to_vec(),
            wrapped.to_vec(),
            full.to_vec(),
        ];
        choices::<u64>(1024, &u64_cases.concat());
        // Plain order: the hardware prefetchers follow it.
        choices::<[u8; 24]>(64, &[(Read, 0, 64, None), (Write, 0, 64, None)]);
        // A byte slot: 128 to a block; a 64-byte slot: two; a 256-byte slot: a block of its own.
        let bytes = [bound(Read, 128, 768, 640), bound(Write, 128, 384, 256)];
        choices::<u8>(2048, &bytes.concat());
        let lines = [bound(Read, 6, 16, 14), bound(Write, 6, 10, 8)];
        choices::<[u64; 8]>(64, &lines.concat());
        let big = [bound(Read, 5, 10, 9), bound(Write, 5, 7, 6)];
        choices::<[u64; 32]>(64, &big.concat());
        // A ring of fewer than five blocks never holds a wholly published block four on, and a
        // ring of one block has no other block to claim.
        let short = (0..128).map(|head| (Read, head, head + 64, None));
        choices::<u64>(64, &short.collect::<Vec<_>>());
        let single = (0..64).map(|tail| (Write, tail, tail + 16, None));
        choices::<u64>(16, &single.collect::<Vec<_>>());
    }
}
