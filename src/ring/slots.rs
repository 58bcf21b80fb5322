//! The ring's slot array, allocated on a cache-line boundary.
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
//! Costs: nothing per operation; the allocator may keep up to a line of slack to align it.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::ptr::NonNull;

use crate::sync::UnsafeCell;

/// One slot: an item or nothing, shared between the two ends.
pub(super) type Slot<T> = UnsafeCell<MaybeUninit<T>>;

/// Bytes in a cache line on x86-64 and most aarch64 cores (Apple's have 128: there an array on a
/// 64-byte boundary still keeps a 64-byte item inside one line).
const CACHE_LINE: usize = 64;

/// `len` empty slots, the first on a cache-line boundary. Owns its allocation; dropping it
/// drops the slots' cells (not the items: the ring drops those it knows to be initialised).
pub(super) struct Slots<T> {
    first: NonNull<Slot<T>>,
    len: usize,
}

impl<T> Slots<T> {
    /// Allocates `len` empty slots.
    ///
    /// # Panics
    ///
    /// If `len` is 0 (a ring has at least one slot, and [`SlotView`] relies on it) or the
    /// array's size overflows `isize`; aborts (`handle_alloc_error`) if the allocation fails.
    pub(super) fn new(len: usize) -> Slots<T> {
        assert!(len > 0, "a ring needs at least one slot");
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
            // SAFETY: `index < len`, inside the allocation (or a zero-sized write to a dangling
            // pointer), aligned for `Slot<T>` (the layout's alignment is at least
            // `align_of::<Slot<T>>()`); the memory is uninitialised, so nothing is overwritten.
            unsafe {
                first
                    .add(index)
                    .write(UnsafeCell::new(MaybeUninit::uninit()))
            };
        }
        Slots { first, len }
    }

    fn layout(len: usize) -> Layout {
        Layout::array::<Slot<T>>(len)
            .and_then(|layout| layout.align_to(CACHE_LINE))
            .expect("ring slot array overflows isize")
    }

    /// The array's address and index mask, copied out (see [`SlotView`]).
    #[inline(always)]
    pub(super) fn view(&self) -> SlotView<T> {
        SlotView {
            first: self.first,
            mask: self.len - 1,
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
}

impl<T> Clone for SlotView<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SlotView<T> {}

impl<T> SlotView<T> {
    /// The slot of `position` (a `head` or `tail` value: it wraps onto the array).
    ///
    /// # Safety
    ///
    /// The [`Slots`] this view was taken from must outlive `'a`.
    #[inline(always)]
    pub(super) unsafe fn at<'a>(self, position: usize) -> &'a Slot<T> {
        // SAFETY: `position & mask ≤ mask = len − 1` (`new` refused `len == 0`), so the slot
        // is inside the array, whose cells `new` initialised and which the caller guarantees
        // outlives 'a (zero-sized slots: `add` moves no bytes from the aligned `first`).
        unsafe { self.first.add(position & self.mask).as_ref() }
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
        // SAFETY: the `len` cells were initialised in `new` and are dropped only here; the
        // items inside are `MaybeUninit`, so this does not touch them.
        unsafe { cells.drop_in_place() };
        let layout = Self::layout(self.len);
        if layout.size() != 0 {
            // SAFETY: allocated in `new` with this same layout.
            unsafe { dealloc(self.first.as_ptr().cast(), layout) };
        }
    }
}

#[cfg(all(test, not(liqcore_loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_first_slot_starts_a_cache_line() {
        for len in [1, 2, 3, 1024] {
            assert_eq!(
                Slots::<[u64; 8]>::new(len).view().first.as_ptr().addr() % CACHE_LINE,
                0
            );
            assert_eq!(
                Slots::<u8>::new(len).view().first.as_ptr().addr() % CACHE_LINE,
                0
            );
            assert_eq!(Slots::<[u8; 24]>::new(len).len(), len);
        }
        assert_eq!(Slots::<()>::new(1024).len(), 1024);
    }

    #[test]
    #[should_panic(expected = "at least one slot")]
    fn no_slots_is_refused() {
        let _ = Slots::<u64>::new(0);
    }
}
