//! A bounded, lock-free single-producer single-consumer ring.
//!
//! Every stage of liqcore talks to the others through these rings (DESIGN.md §2).
//!
//! # Layout
//!
//! One shared block holds the slots and two monotonically increasing counters:
//!
//! - `tail`: items pushed so far, written only by the [`Producer`];
//! - `head`: items popped so far, written only by the [`Consumer`].
//!
//! Each counter sits on its own cache line (crossbeam's `CachePadded`) so that the producer's
//! stores never invalidate the line the consumer stores to, and vice versa. The counters wrap at
//! `usize::MAX`; position `p` wraps onto ring index `p & (capacity − 1)`, which works across the
//! wrap because the capacity is a power of two that divides 2^usize::BITS. The block order
//! (`slots.rs`) maps that index to a slot: 128 bytes at a time, scattered. In plain order this
//! core's prefetchers pulled the next line to the consumer just as the producer started
//! writing it; block order took the round trip's mean from 0.99–1.03× rtrb's to 0.93–0.99×.
//! Each side then prefetches the blocks it will use next, the producer for writing: that took
//! single-item throughput from about rtrb's to 1.7–2.0× it.
//!
//! Each handle keeps its own counter locally (it is the only writer) and a **cached** copy of
//! the other side's counter. The cache can only be stale in the safe direction (the other side
//! has made more progress than it says), so a handle reads the shared counter only when its cache
//! says "full" (producer) or "empty" (consumer): a stream of pushes into a ring with room touches
//! no line the consumer writes.
//!
//! # Ordering invariant
//!
//! - The producer writes a slot, then stores `tail` with `Release`; the consumer loads `tail`
//!   with `Acquire` before reading the slots below it. So a slot is read only after its write
//!   is visible.
//! - The consumer moves an item out of a slot, then stores `head` with `Release`; the producer
//!   loads `head` with `Acquire` before overwriting the slots below it. So a slot is overwritten
//!   only after the read that emptied it has finished.
//!
//! # Handing slots back in groups (opt-in)
//!
//! By default [`Consumer::pop`] publishes `head` after every item, like rtrb: the slot is free
//! for the producer as soon as `pop` returns. [`Consumer::set_release_group`]`(n)` makes `pop`
//! hand read slots back in groups of `n` instead, and hand back whatever is pending whenever
//! its cached copy of `tail` runs out (just before it reloads `tail`, so before any wait), on
//! every batch call that takes items, on [`Consumer::release_pending`] and on drop. When the
//! producer outpaces the consumer (the ring runs full) this is what makes single-item traffic
//! cheap: the producer's reload of `head`, a cache-line transfer, happens once per group
//! instead of once per item (perf/README.md has the measured rows side by side). The cost: the
//! producer sees up to `n − 1` fewer free slots than there are ([`Producer::len`] and
//! [`Producer::slots`] count them as occupied, and `push` may return `Full` while they are
//! pending). So a consumer that stops polling a ring while it still holds items, and waits for
//! something its producer does only after it finds room, must call
//! [`Consumer::release_pending`] first, or it deadlocks: the reason grouping is opt-in.
//!
//! # Batches
//!
//! [`Producer::push_slice`] and [`Consumer::pop_into`] (for `Copy` items), and
//! [`Producer::push_iter`] and [`Consumer::drain`] (for any items, moved) move many items with at
//! most one `Acquire` load of the other side's counter and one `Release` store of their own (a
//! consumer with grouped releases may first hand back what its single pops left pending: one
//! more store): a stage that drains its input ring in batches pays the cross-core traffic once
//! per batch.
//!
//! # Limitations
//!
//! - The capacity is rounded up to a power of two; [`Producer::capacity`] says what it became.
//! - A dropped peer is reported ([`Producer::is_abandoned`], [`Consumer::is_abandoned`]); pushing
//!   into a ring whose consumer is gone still succeeds until it is full (the items are dropped
//!   with the ring).
//! - One item crosses two cache lines, `tail` and then its slot, one after the other, as in
//!   rtrb, so a single-item round trip's tail stays close to rtrb's (p99.9 at or under it in
//!   about three runs of four on a 2-core guest, where a ring against itself manages one in
//!   two). A waiting consumer could overlap the two lines by prefetching the slot, but in a
//!   stream that pulls the line away from the producer filling it, and it cost a third of the
//!   throughput (perf/README.md, 2026-12-05 10:24). A signal in the slot's own line would avoid
//!   both; this design has none.
//!
//! # Thread safety
//!
//! Each end is `Send` but neither is `Sync` nor `Clone`: there is exactly one producer and one
//! consumer.
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<liqcore::ring::Producer<u64>>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<liqcore::ring::Consumer<u64>>();
//! ```
//!
//! ```compile_fail
//! let (producer, _consumer) = liqcore::ring::channel::<u64>(4);
//! let _second = producer.clone();
//! ```
//!
//! ```compile_fail
//! let (_producer, consumer) = liqcore::ring::channel::<u64>(4);
//! let _second = consumer.clone();
//! ```
//!
//! # Costs
//!
//! `push` and `pop` are O(1): a slot access (five ALU operations to place it in block order),
//! an index compare and one `Release` store (`pop` with grouped releases: one per group); an
//! `Acquire` load of the peer's counter only when the cached copy says full/empty. Once per
//! block, `push` takes the next block for writing when the ring is not near full, and `pop`
//! prefetches the block four on when it is not near empty (slots.rs, "Prefetching"). Memory:
//! `capacity × size_of::<T>()` (starting on a 128-byte boundary, so that an item of 64 bytes
//! never straddles two lines) plus three cache lines.

mod error;
mod slots;

pub use error::{PopError, PushError, WaitPopError, WaitPushError};

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use slots::{Slot, SlotView, Slots};

use crossbeam_utils::CachePadded;

use crate::sync::{Arc, AtomicBool, AtomicUsize, Ordering};
use crate::wait::WaitStrategy;

/// The block both handles point to.
struct Shared<T> {
    /// Items popped so far (wrapping); written only by the consumer.
    head: CachePadded<AtomicUsize>,
    /// Items pushed so far (wrapping); written only by the producer.
    tail: CachePadded<AtomicUsize>,
    /// Set when the producer is dropped.
    producer_gone: AtomicBool,
    /// Set when the consumer is dropped.
    consumer_gone: AtomicBool,
    /// `capacity` slots, the first on a 128-byte boundary; those in positions `head..tail` hold
    /// initialised items. The handles read the slots' address and count from here (a line
    /// nobody writes after `channel`) rather than keeping copies: with copies a thread holding
    /// both ends of two rings (a ping-pong) kept more than fit in registers, and the compiler
    /// spilled the consumer's `shared` pointer, so every poll reloaded it from the stack before
    /// it could load `tail` (perf/README.md, 2026-12-05: round-trip mean 1.02–1.09× rtrb's
    /// with copies, 0.94–1.02× without). A batch copies them into locals for its loop
    /// ([`SlotView`]).
    slots: Slots<T>,
}

impl<T> Shared<T> {
    /// The slot of position `position` (a `head` or `tail` value: it wraps onto the array).
    #[inline(always)]
    fn slot(&self, position: usize) -> &Slot<T> {
        // SAFETY: the view is of `self.slots`, which lives as long as `self`.
        unsafe { self.slots.view().at(position) }
    }
}

/// Moves `value` into `slot`.
///
/// # Safety
///
/// The slot must be free: the producer's, within the room it found.
#[inline(always)]
unsafe fn write_slot<T>(slot: &Slot<T>, value: T) {
    // SAFETY: the caller guarantees the slot is free, so the consumer is not reading it.
    slot.with_mut(|slot| unsafe { (*slot).write(value) });
}

/// Moves the item out of `slot`.
///
/// # Safety
///
/// The slot must hold an item not yet read: the consumer's, below the `tail` it loaded.
#[inline(always)]
unsafe fn read_slot<T>(slot: &Slot<T>) -> T {
    slot.with(|slot| {
        // SAFETY: the caller's slot holds an initialised item the producer keeps off until `head`.
        unsafe { (*slot).assume_init_read() }
    })
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Both handles are gone. Each published its final counter with `Release` before it
        // dropped its `Arc`, and the `Arc`'s last drop synchronises with both, so `Relaxed`
        // loads see the final values.
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        let mut position = head;
        while position != tail {
            self.slot(position).with_mut(|slot| {
                // SAFETY: positions head..tail hold initialised items nobody else can reach.
                unsafe { (*slot).assume_init_drop() }
            });
            position = position.wrapping_add(1);
        }
    }
}

/// Creates a ring holding at least `capacity` items (rounded up to a power of two, minimum 1)
/// and returns its two ends.
///
/// # Panics
///
/// If the rounded capacity overflows `usize` or cannot be allocated.
///
/// # Examples
///
/// ```
/// let (mut producer, mut consumer) = liqcore::ring::channel::<u64>(1000);
/// assert_eq!(producer.capacity(), 1024);
/// producer.push(7).unwrap();
/// assert_eq!(consumer.pop(), Ok(7));
/// ```
#[must_use]
pub fn channel<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    let capacity = capacity
        .max(1)
        .checked_next_power_of_two()
        .expect("ring capacity overflows usize");
    let slots = Slots::new(capacity);
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicUsize::new(0)),
        tail: CachePadded::new(AtomicUsize::new(0)),
        producer_gone: AtomicBool::new(false),
        consumer_gone: AtomicBool::new(false),
        slots,
    });
    (
        Producer {
            shared: Arc::clone(&shared),
            not_sync: PhantomData,
            tail: 0,
            cached_head: 0,
        },
        Consumer {
            shared,
            not_sync: PhantomData,
            head: 0,
            cached_tail: 0,
            published_head: 0,
            release_every: 1,
        },
    )
}

/// The writing end of a ring. `Send` (if `T` is), not `Sync`, not `Clone`.
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// Not `Sync` whatever `Shared` becomes: one thread at a time pushes.
    not_sync: PhantomData<Cell<()>>,
    /// Items pushed so far: the value of `shared.tail` (this handle is its only writer).
    tail: usize,
    /// The consumer's `head` when last loaded; possibly stale (lower than the real one), never
    /// ahead of it.
    cached_head: usize,
}

// SAFETY: it alone writes slots, handed over by Release/Acquire on `tail`: `T: Send` suffices.
unsafe impl<T: Send> Send for Producer<T> {}

/// The reading end of a ring. `Send` (if `T` is), not `Sync`, not `Clone`.
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// Not `Sync` whatever `Shared` becomes: `peek_at(&self)` hands out `&T`, which two threads
    /// must not share for a `T` that is not `Sync`.
    not_sync: PhantomData<Cell<()>>,
    /// Items popped so far: the value of `shared.head` (this handle is its only writer).
    head: usize,
    /// The producer's `tail` when last loaded; possibly stale (lower than the real one), never
    /// ahead of it.
    cached_tail: usize,
    /// The value of `shared.head` last stored by this handle while releases are grouped:
    /// `head − published_head` slots are read but not yet handed back to the producer (eager
    /// pops store `head` without updating it).
    published_head: usize,
    /// [`Consumer::pop`] publishes `head` once this many slots are pending (1 unless
    /// [`Consumer::set_release_group`] said otherwise).
    release_every: usize,
}

// SAFETY: it alone reads slots, handed back by Release/Acquire on `head`: `T: Send` suffices.
unsafe impl<T: Send> Send for Consumer<T> {}

impl<T> Producer<T> {
    /// How many items the ring holds when full.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.slots.len()
    }

    /// Items in the ring now, counting slots the consumer has read but not yet handed back
    /// (only with [`Consumer::set_release_group`]); the consumer may be popping concurrently,
    /// so it may be lower by the time the caller looks.
    #[must_use]
    pub fn len(&self) -> usize {
        // Acquire: pairs with the consumer's Release store of `head`; only a count is derived.
        let head = self.shared.head.load(Ordering::Acquire);
        self.tail.wrapping_sub(head)
    }

    /// Whether the ring is empty now.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots now (the consumer may free more concurrently).
    #[must_use]
    pub fn slots(&self) -> usize {
        self.capacity() - self.len()
    }

    /// Whether the consumer has been dropped: nothing pushed from now on will be read.
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        // Acquire: pairs with the Release store in `Consumer::drop`.
        self.shared.consumer_gone.load(Ordering::Acquire)
    }

    /// Room for at least `wanted` items (up to the capacity): uses the cached `head` first and
    /// reloads it only when the cache says there is not enough room. Returns the room known.
    #[inline(always)]
    fn room(&mut self, wanted: usize) -> usize {
        let capacity = self.shared.slots.len();
        let room = capacity - self.tail.wrapping_sub(self.cached_head);
        if room >= wanted {
            return room;
        }
        // Possibly full → refresh the head → really full?
        // Acquire: pairs with the consumer's Release store of `head`, so its reads of the
        // slots below `head` finished before we overwrite them.
        self.cached_head = self.shared.head.load(Ordering::Acquire);
        capacity - self.tail.wrapping_sub(self.cached_head)
    }

    /// Publishes `count` written items.
    #[inline(always)]
    fn publish(&mut self, count: usize) {
        self.tail = self.tail.wrapping_add(count);
        // Release: pairs with the consumer's Acquire load of `tail`, making the slot writes
        // above visible before it reads them.
        self.shared.tail.store(self.tail, Ordering::Release);
    }

    /// Pushes one item.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] hands the value back when the ring is full: the consumer is not
    /// keeping up. Retry later (see [`Producer::push_wait`]) or shed load upstream.
    ///
    /// # Examples
    ///
    /// ```
    /// use liqcore::ring::{channel, PushError};
    /// let (mut producer, _consumer) = channel::<&str>(1);
    /// producer.push("a").unwrap();
    /// assert_eq!(producer.push("b"), Err(PushError::Full("b")));
    /// ```
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), PushError<T>> {
        if self.room(1) == 0 {
            return Err(PushError::Full(value));
        }
        // SAFETY: room(1) ≥ 1, so the slot at `tail` is free.
        unsafe { write_slot(self.shared.slot(self.tail), value) };
        self.publish(1);
        // Takes the next free block for writing early (slots.rs, "Prefetching").
        self.shared
            .slots
            .view()
            .claim_ahead(self.tail, self.cached_head);
        Ok(())
    }

    /// Pushes one item, calling `wait` while the ring is full.
    ///
    /// # Errors
    ///
    /// [`WaitPushError::Abandoned`] hands the value back if the consumer is dropped while the
    /// ring is full: nobody will ever make room.
    pub fn push_wait<W: WaitStrategy>(
        &mut self,
        value: T,
        wait: &mut W,
    ) -> Result<(), WaitPushError<T>> {
        let mut value = value;
        loop {
            match self.push(value) {
                Ok(()) => {
                    wait.reset();
                    return Ok(());
                }
                Err(PushError::Full(back)) => {
                    if self.is_abandoned() {
                        return Err(WaitPushError::Abandoned(back));
                    }
                    value = back;
                    wait.wait();
                }
            }
        }
    }

    /// Moves items out of `items` into the ring until the room it knows of is used up or
    /// `items` runs out, with at most one `Acquire` load and one `Release` store, and returns
    /// how many it pushed (0 when `items` is empty, or when the ring is full: then it takes
    /// nothing from `items`). The batch push for items that are not `Copy`; an item that does
    /// not fit stays in the iterator, so pass `&mut iter` (or `iter.by_ref()`) to keep the rest.
    /// For `Copy` items in a slice, [`Producer::push_slice`].
    ///
    /// The consumer's counter is reloaded only when the cached copy shows less room than the
    /// iterator's `size_hint` promises (at least one slot, at most the capacity; a hint that
    /// promises too much costs only that reload): an iterator that cannot tell its length may be
    /// given fewer slots than are free. The consumer sees the items when the call returns, all
    /// at once. If the iterator panics, the items it handed over before are leaked (never
    /// dropped), not published.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = liqcore::ring::channel::<String>(4);
    /// let mut words = ["a", "b", "c", "d", "e"].map(String::from).into_iter();
    /// assert_eq!(producer.push_iter(&mut words), 4);
    /// assert_eq!(words.next().as_deref(), Some("e"));
    /// assert_eq!(consumer.drain(8).collect::<Vec<_>>(), ["a", "b", "c", "d"]);
    /// ```
    pub fn push_iter<I: IntoIterator<Item = T>>(&mut self, items: I) -> usize {
        let mut items = items.into_iter();
        // One copy of the slots' address and mask for the whole batch (see `SlotView`).
        let slots = self.shared.slots.view();
        // Room for as many as the iterator promises (at least one, at most the capacity): the
        // cached `head` is reloaded only if it shows less.
        let room = self.room(items.size_hint().0.clamp(1, slots.len()));
        let cached_head = self.cached_head;
        let mut done = 0;
        'fill: while done < room {
            let position = self.tail.wrapping_add(done);
            slots.claim_ahead(position, cached_head);
            // SAFETY: `self.shared` keeps the slots alive through the loop.
            let run = unsafe { slots.run(position, room - done) };
            for slot in run {
                let Some(item) = items.next() else {
                    break 'fill;
                };
                // SAFETY: the slot's position is below tail + room: free.
                unsafe { write_slot(slot, item) };
                done += 1;
            }
        }
        if done != 0 {
            self.publish(done);
        }
        done
    }
}

impl<T: Copy> Producer<T> {
    /// Pushes as many items from the front of `items` as there is room for, with at most one
    /// `Acquire` load and one `Release` store, and returns how many it pushed (0 when full).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = liqcore::ring::channel::<u32>(4);
    /// assert_eq!(producer.push_slice(&[1, 2, 3, 4, 5, 6]), 4);
    /// let mut out = [0; 8];
    /// assert_eq!(consumer.pop_into(&mut out), 4);
    /// assert_eq!(out[..4], [1, 2, 3, 4]);
    /// ```
    #[inline]
    pub fn push_slice(&mut self, items: &[T]) -> usize {
        let count = self.room(items.len()).min(items.len());
        if count == 0 {
            return 0;
        }
        // One copy of the slots' address and mask for the whole batch (see `SlotView`).
        let slots = self.shared.slots.view();
        let cached_head = self.cached_head;
        let mut done = 0;
        while done < count {
            let position = self.tail.wrapping_add(done);
            slots.claim_ahead(position, cached_head);
            // SAFETY: `self.shared` keeps the slots alive through the loop.
            let run = unsafe { slots.run(position, count - done) };
            for (slot, item) in run.iter().zip(&items[done..count]) {
                // SAFETY: the slot's position is below tail + count ≤ tail + room: free.
                unsafe { write_slot(slot, *item) };
            }
            done += run.len();
        }
        self.publish(count);
        count
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        // Release: pairs with the Acquire load in `Consumer::is_abandoned`, so a consumer that
        // sees the flag and then reloads `tail` sees every item pushed.
        self.shared.producer_gone.store(true, Ordering::Release);
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("pushed", &self.tail)
            .finish_non_exhaustive()
    }
}

impl<T> Consumer<T> {
    /// How many items the ring holds when full.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.slots.len()
    }

    /// Items in the ring now (the producer may be pushing concurrently, so it may be higher by
    /// the time the caller looks).
    #[must_use]
    pub fn len(&self) -> usize {
        // Acquire: pairs with the producer's Release store of `tail`; only a count is derived.
        let tail = self.shared.tail.load(Ordering::Acquire);
        tail.wrapping_sub(self.head)
    }

    /// Whether the ring is empty now.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the producer has been dropped: once the ring is also empty, nothing more will
    /// arrive. Check this *before* a final `pop` so that no item pushed just before the drop is
    /// missed (see [`Consumer::pop_wait`]).
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        // Acquire: pairs with the Release store in `Producer::drop`.
        self.shared.producer_gone.load(Ordering::Acquire)
    }

    /// Items ready to read, at least `wanted` if there are that many: uses the cached `tail`
    /// first and reloads it only when the cache shows fewer than `wanted`.
    #[inline(always)]
    fn available(&mut self, wanted: usize) -> usize {
        let available = self.cached_tail.wrapping_sub(self.head);
        if available >= wanted {
            return available;
        }
        // About to wait for the producer: hand back the slots a grouped `pop` read but has not
        // published, so that a producer waiting for room sees them.
        self.publish_head();
        // Possibly empty → refresh the tail → really empty?
        // Acquire: pairs with the producer's Release store of `tail`, so its slot writes below
        // `tail` are visible before we read them.
        self.cached_tail = self.shared.tail.load(Ordering::Acquire);
        self.cached_tail.wrapping_sub(self.head)
    }

    /// The slot at position `self.head + offset`.
    #[inline(always)]
    fn slot(&self, offset: usize) -> &Slot<T> {
        self.shared.slot(self.head.wrapping_add(offset))
    }

    /// Frees `count` read slots (and any that `pop` left pending).
    #[inline(always)]
    fn release(&mut self, count: usize) {
        self.head = self.head.wrapping_add(count);
        self.store_head();
    }

    /// Publishes `head` if grouped pops left read slots not yet handed back (eager pops keep
    /// nothing pending and do not maintain `published_head`).
    #[inline(always)]
    fn publish_head(&mut self) {
        if self.release_every != 1 && self.published_head != self.head {
            self.store_head();
        }
    }

    #[inline(always)]
    fn store_head(&mut self) {
        // Release: pairs with the producer's Acquire load of `head`, so our slot reads above
        // finish before it overwrites those slots.
        self.shared.head.store(self.head, Ordering::Release);
        self.published_head = self.head;
    }

    /// Pops the oldest item. Its slot is free for the producer when this returns, unless
    /// [`Consumer::set_release_group`] grouped the releases (module docs, "Handing slots back
    /// in groups").
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when there is nothing to read.
    #[inline]
    pub fn pop(&mut self) -> Result<T, PopError> {
        if self.available(1) == 0 {
            return Err(PopError::Empty);
        }
        // SAFETY: available() ≥ 1, so the slot at `head` holds an unread item.
        let value = unsafe { read_slot(self.slot(0)) };
        self.head = self.head.wrapping_add(1);
        // A consumer that lags behind loads its next blocks early (slots.rs, "Prefetching").
        self.shared
            .slots
            .view()
            .prefetch_ahead(self.head, self.cached_tail);
        if self.release_every == 1 {
            // Eager (the default): exactly one Release store per pop, nothing else.
            // Release: pairs with the producer's Acquire load of `head` (see `store_head`).
            self.shared.head.store(self.head, Ordering::Release);
        } else if self.head.wrapping_sub(self.published_head) >= self.release_every {
            // Grouped: one store (and one transfer of `head`'s cache line to a producer that
            // finds the ring full) per group; `available` publishes the rest before the
            // consumer waits for more.
            self.store_head();
        }
        Ok(value)
    }

    /// The item `offset` places behind the oldest (`peek_at(0)` is the oldest), left in its
    /// slot, if this consumer already knows it has arrived. A look-ahead: it does not reload the
    /// producer's counter, so it may say `None` for an item that has just been pushed (a
    /// [`Consumer::pop`] or [`Consumer::peek`] reloads it). Lets a consumer that serves items
    /// one by one see what the next ones will need, e.g. to prefetch it.
    ///
    /// ```
    /// let (mut producer, mut consumer) = liqcore::ring::channel::<u64>(4);
    /// producer.push_slice(&[7, 8]);
    /// assert_eq!(consumer.peek_at(1), None); // not known yet: nothing has reloaded `tail`
    /// assert_eq!(consumer.peek(), Some(&7));
    /// assert_eq!(consumer.peek_at(1), Some(&8));
    /// assert_eq!(consumer.peek_at(2), None);
    /// ```
    #[inline]
    #[must_use]
    pub fn peek_at(&self, offset: usize) -> Option<&T> {
        if offset >= self.cached_tail.wrapping_sub(self.head) {
            return None;
        }
        Some(self.slot(offset).with(|slot| {
            // The Acquire load that filled the cached `tail` made every slot write below it
            // visible; the producer reuses a slot only after `head` passes it (`&mut self`).
            // SAFETY: `offset` is below the cached `tail`: an initialised item, kept while lent.
            unsafe { (*slot).assume_init_ref() }
        }))
    }

    /// The oldest item, left in its slot (the next [`Consumer::pop`] returns it); `None` when
    /// there is nothing to read. Lets a consumer work on a large item where it lies and pop it
    /// afterwards (for a `Copy` item the compiler drops that pop's unused read).
    ///
    /// ```
    /// let (mut producer, mut consumer) = liqcore::ring::channel::<u64>(4);
    /// assert_eq!(consumer.peek(), None);
    /// producer.push(7).unwrap();
    /// assert_eq!(consumer.peek(), Some(&7));
    /// assert_eq!(consumer.pop(), Ok(7));
    /// assert_eq!(consumer.peek(), None);
    /// ```
    #[inline]
    pub fn peek(&mut self) -> Option<&T> {
        // Reload `tail` if the cache shows nothing, then read within what is known.
        self.available(1);
        self.peek_at(0)
    }

    /// Makes [`Consumer::pop`] hand read slots back to the producer in groups of `group`
    /// (clamped to 1..=capacity; 1, the default, hands each back at once). Read the module docs'
    /// "Handing slots back in groups" first: a consumer that stops polling with slots pending
    /// must call [`Consumer::release_pending`].
    ///
    /// ```
    /// let (mut producer, mut consumer) = liqcore::ring::channel::<u64>(8);
    /// consumer.set_release_group(4);
    /// producer.push_slice(&[1, 2, 3]);
    /// assert_eq!(consumer.pop(), Ok(1));
    /// assert_eq!(producer.slots(), 5, "the read slot is still pending");
    /// consumer.release_pending();
    /// assert_eq!(producer.slots(), 6);
    /// ```
    pub fn set_release_group(&mut self, group: usize) {
        // Publish first: from here on `published_head` is exact again.
        self.store_head();
        self.release_every = group.clamp(1, self.capacity());
    }

    /// Hands every slot that [`Consumer::pop`] has read back to the producer now (a no-op
    /// unless [`Consumer::set_release_group`] grouped the releases).
    #[inline]
    pub fn release_pending(&mut self) {
        self.publish_head();
    }

    /// Pops the oldest item, calling `wait` while the ring is empty.
    ///
    /// # Errors
    ///
    /// [`WaitPopError::Abandoned`] once the producer is dropped and every item it pushed has
    /// been read.
    pub fn pop_wait<W: WaitStrategy>(&mut self, wait: &mut W) -> Result<T, WaitPopError> {
        loop {
            if let Ok(value) = self.pop() {
                wait.reset();
                return Ok(value);
            }
            if self.is_abandoned() {
                // The producer's last push happened before its drop flag was set; retry once
                // now that the flag (Acquire) orders us after it.
                return self
                    .pop()
                    .map_err(|PopError::Empty| WaitPopError::Abandoned);
            }
            wait.wait();
        }
    }

    /// Takes up to `max` items with at most one `Acquire` load and one `Release` store (when the
    /// returned iterator is dropped). Items not taken from the iterator stay in the ring.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = liqcore::ring::channel::<String>(8);
    /// producer.push("a".to_string()).unwrap();
    /// producer.push("b".to_string()).unwrap();
    /// let taken: Vec<String> = consumer.drain(usize::MAX).collect();
    /// assert_eq!(taken, ["a", "b"]);
    /// ```
    #[inline]
    pub fn drain(&mut self, max: usize) -> Drain<'_, T> {
        let remaining = self.available(max).min(max);
        Drain {
            slots: self.shared.slots.view(),
            run: [].iter(),
            first: self.head,
            consumer: self,
            remaining,
        }
    }
}

impl<T: Copy> Consumer<T> {
    /// Copies up to `out.len()` items into the front of `out` with at most one `Acquire` load and
    /// one `Release` store, and returns how many (0 when empty).
    #[inline]
    pub fn pop_into(&mut self, out: &mut [T]) -> usize {
        let count = self.available(out.len()).min(out.len());
        if count == 0 {
            return 0;
        }
        // One copy of the slots' address and mask for the whole batch (see `SlotView`).
        let slots = self.shared.slots.view();
        let mut done = 0;
        while done < count {
            let position = self.head.wrapping_add(done);
            slots.prefetch_ahead(position, self.cached_tail);
            // SAFETY: `self.shared` keeps the slots alive through the loop.
            let run = unsafe { slots.run(position, count - done) };
            for (slot, out) in run.iter().zip(&mut out[done..count]) {
                // SAFETY: its position is below head + count ≤ head + available: an unread item.
                *out = unsafe { read_slot(slot) };
            }
            done += run.len();
        }
        self.release(count);
        count
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        // A leaked `Drain` may have advanced the local head without publishing it; publish it
        // so that `Shared::drop` does not drop those moved-out items a second time.
        // Release: pairs with the producer's Acquire load of `head`, as in `release`.
        self.shared.head.store(self.head, Ordering::Release);
        // Release: pairs with the Acquire load in `Producer::is_abandoned`.
        self.shared.consumer_gone.store(true, Ordering::Release);
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("popped", &self.head)
            .finish_non_exhaustive()
    }
}

/// Items taken by [`Consumer::drain`]; the slots are freed, with one `Release` store, when it is
/// dropped.
///
/// Leaking it (`mem::forget`) is safe: taken items are never read twice, the slots just stay
/// unpublished until the consumer's next pop.
pub struct Drain<'a, T> {
    consumer: &'a mut Consumer<T>,
    /// The consumer's slots, copied once for the batch (see `SlotView`).
    slots: SlotView<T>,
    /// The slots next to each other in the array that the batch is reading now, from the
    /// consumer's `head` on.
    run: std::slice::Iter<'a, Slot<T>>,
    /// Items available to this batch beyond those in `run`.
    remaining: usize,
    /// The consumer's `head` when the drain began: it has taken items if `head` moved since.
    first: usize,
}

impl<T> Iterator for Drain<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        let slot = match self.run.next() {
            Some(slot) => slot,
            None => self.next_run()?,
        };
        // `available(..)` counted these items when the drain began; the producer only adds.
        // SAFETY: `run` holds slots below `head` + the count `available(..)` gave: unread items.
        let value = unsafe { read_slot(slot) };
        // Advance the local head only; the shared one is published once, on drop.
        self.consumer.head = self.consumer.head.wrapping_add(1);
        Some(value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.remaining + self.run.len();
        (left, Some(left))
    }
}

impl<'a, T> Drain<'a, T> {
    /// Moves the next run of slots (from the consumer's `head`) into `run` and returns its
    /// first slot; `None` when the batch is done.
    #[inline]
    fn next_run(&mut self) -> Option<&'a Slot<T>> {
        if self.remaining == 0 {
            return None;
        }
        let head = self.consumer.head;
        self.slots.prefetch_ahead(head, self.consumer.cached_tail);
        // SAFETY: the borrowed consumer's `shared` keeps the slots alive for all of 'a.
        self.run = unsafe { self.slots.run(head, self.remaining) }.iter();
        self.remaining -= self.run.len();
        self.run.next()
    }
}

impl<T> ExactSizeIterator for Drain<'_, T> {}

impl<T> Drop for Drain<'_, T> {
    fn drop(&mut self) {
        if self.consumer.head != self.first {
            // Publishes the batch (and anything `pop` left pending) with one Release store.
            self.consumer.store_head();
        }
    }
}

impl<T> fmt::Debug for Drain<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("remaining", &self.remaining)
            .finish()
    }
}

#[cfg(all(test, not(liqcore_loom)))]
mod tests {
    use super::slots::{Intent, chosen};
    use super::*;

    /// A walk of every way in and out of a ring, in stretches that fill it and stretches that
    /// empty it, checking after each call the blocks it chose to prefetch: the producer's
    /// ahead of it and wholly free (the consumer has read the block's last lap), the
    /// consumer's ahead of it and wholly published. Only the call sites' bounds decide that.
    #[test]
    fn each_side_prefetches_only_blocks_the_other_side_is_done_with() {
        const CAPACITY: usize = 256;
        const PER_BLOCK: usize = 16; // u64 slots in a 128-byte block
        let (mut producer, mut consumer) = channel::<u64>(CAPACITY);
        let (mut pushed, mut popped) = (0usize, 0usize);
        let (mut claims, mut reads) = (0, 0);
        let mut out = [0u64; 48];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        chosen::take();
        for step in 0..40_000 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let amount = (seed >> 33) as usize % out.len() + 1;
            // Stretches of 400 calls that mostly push (two calls in three), then mostly pop.
            let filling = (step / 400) % 2 == 0;
            let pushes = (seed >> 58).is_multiple_of(3) != filling;
            let (head_before, tail_before) = (popped, pushed);
            match (pushes, (seed >> 50) % 3) {
                (true, 0) => {
                    let items: Vec<u64> = (pushed..pushed + amount).map(|i| i as u64).collect();
                    // Half the batches through each batch push: both call `claim_ahead`.
                    pushed += if (seed >> 40).is_multiple_of(2) {
                        producer.push_slice(&items)
                    } else {
                        producer.push_iter(items)
                    };
                }
                (true, _) => {
                    for _ in 0..amount {
                        if producer.push(pushed as u64).is_ok() {
                            pushed += 1;
                        }
                    }
                }
                (false, 0) => {
                    let taken = consumer.pop_into(&mut out[..amount]);
                    for &item in &out[..taken] {
                        assert_eq!(item, popped as u64);
                        popped += 1;
                    }
                }
                (false, 1) => {
                    for item in consumer.drain(amount) {
                        assert_eq!(item, popped as u64);
                        popped += 1;
                    }
                }
                (false, _) => {
                    for _ in 0..amount {
                        if let Ok(item) = consumer.pop() {
                            assert_eq!(item, popped as u64);
                            popped += 1;
                        }
                    }
                }
            }
            for (side, position) in chosen::take() {
                let (ahead_of, done_with) = match side {
                    Intent::Write => (tail_before, head_before + CAPACITY),
                    Intent::Read => (head_before, tail_before),
                };
                assert!(
                    position.is_multiple_of(PER_BLOCK)
                        && position > ahead_of
                        && position + PER_BLOCK <= done_with,
                    "step {step}: {side:?} block at {position}, pushed {tail_before}, \
                     popped {head_before}"
                );
                match side {
                    Intent::Write => claims += 1,
                    Intent::Read => reads += 1,
                }
            }
        }
        assert!(
            claims > 1000 && reads > 1000,
            "the walk exercised {claims} claims and {reads} reads"
        );
    }
}
