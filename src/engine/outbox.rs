//! A ring producer with a spill queue: a stage never blocks on a full ring (the stages form a
//! cycle — risk → book → risk — so blocking could deadlock) and never drops a message.
//!
//! # Links between stages
//!
//! With a thread per stage, each link between two stages is an SPSC ring. On one thread
//! ([`crate::engine::Layout::Single`]) a link is a plain preallocated queue of the same
//! capacity ([`Sink::Direct`], [`Source::Direct`]) that the runner lends to the producing
//! stage for its poll and gives back to the consuming stage for its own: the same messages in
//! the same order, the same "full" moments (the queue refuses a message when it holds a ring's
//! capacity, so spills and backpressure happen exactly when the ring's would), no atomics, and
//! a queue that restarts at its front whenever its consumer empties it, so the messages of one
//! poll land on the cache lines the previous poll just read instead of walking a whole ring's
//! worth of memory.
//!
//! # Each message is written once and read where it lies
//!
//! Producers hand the outbox a builder ([`Outbox::push_with`], [`EventOut::push_with`]) that
//! runs once there is room, writing the message straight into its slot; consumers serve a
//! message by reference ([`Source::peek`]) and then drop it from the queue. The messages are
//! 48–96-byte enums: building one on the stack and copying it makes the copy's wide loads wait
//! for the narrow stores that built it (they cannot be forwarded), a stall of the order of a
//! dozen cycles per copy, paid on every hop of every input. Measured on the single-thread
//! pipeline: more than 10 % of its time, gone (perf/e2e.md, 2026-12-04 evening).

use std::collections::VecDeque;

use crate::engine::msg::Event;
use crate::ring::{Consumer, PopError, Producer, PushError};

/// A queue read from `head`: a direct link's (preallocated for twice the link's capacity) and
/// the host's event queue in [`crate::engine::Layout::Single`]. It starts over at its front
/// whenever it is emptied. When its end reaches the allocation it moves its unread messages to
/// the front if at least half of it was read (amortised one move per message read), else it
/// grows. A link's queue never grows: it holds at most the link's capacity ([`Sink`] refuses
/// more), so when its end reaches twice that, more than half of it was read.
pub(crate) struct Lane<T> {
    buf: Vec<T>,
    head: usize,
}

impl<T: Copy> Lane<T> {
    /// An empty placeholder (the slot of an end that does not hold the queue now).
    pub(crate) fn placeholder() -> Lane<T> {
        Lane {
            buf: Vec::new(),
            head: 0,
        }
    }

    /// A queue for a link of `capacity` messages.
    pub(crate) fn with_capacity(capacity: usize) -> Lane<T> {
        Lane {
            buf: Vec::with_capacity(capacity.saturating_mul(2)),
            head: 0,
        }
    }

    /// Unread messages.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, item: T) {
        self.push_with(|| item);
    }

    /// Appends the message `make` builds, building it in its slot: made after every check, so
    /// it is written once, where it stays (no copy of a message just built on the stack).
    #[inline(always)]
    pub(crate) fn push_with(&mut self, make: impl FnOnce() -> T) {
        if self.buf.len() == self.buf.capacity() {
            self.make_room();
        }
        let len = self.buf.len();
        if let Some(slot) = self.buf.spare_capacity_mut().first_mut() {
            slot.write(make());
            // SAFETY: slot `len`, the first spare one, was written just above.
            unsafe { self.buf.set_len(len + 1) };
        }
    }

    /// At the end of the allocation: unread messages to the front when at least half was read,
    /// else room for one more (the vector grows).
    #[cold]
    fn make_room(&mut self) {
        if self.head * 2 >= self.buf.len() {
            self.buf.drain(..self.head);
            self.head = 0;
        }
        self.buf.reserve(1);
    }

    /// Moves every unread message out, in order.
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        let rest = self.buf.split_off(self.head);
        self.buf.clear();
        self.head = 0;
        rest
    }

    /// The oldest unread message, left in place (the next `pop` returns it).
    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<&T> {
        self.buf.get(self.head)
    }

    /// The message `offset` places behind the oldest, left in place.
    #[inline(always)]
    pub(crate) fn peek_at(&self, offset: usize) -> Option<&T> {
        self.buf.get(self.head + offset)
    }

    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<T> {
        let item = *self.buf.get(self.head)?;
        self.head += 1;
        if self.head == self.buf.len() {
            // Start over at the front: the next messages land on lines just read.
            self.buf.clear();
            self.head = 0;
        }
        Some(item)
    }
}

/// The producing end of a link: a ring, or (one thread) a queue lent by the runner.
pub(crate) enum Sink<T> {
    /// An SPSC ring.
    Ring(Producer<T>),
    /// A queue holding at most `capacity` messages (while lent to this end; an empty
    /// placeholder otherwise).
    Direct {
        /// The link's queue.
        queue: Lane<T>,
        /// The ring capacity it stands for.
        capacity: usize,
    },
}

impl<T: Copy> Sink<T> {
    #[inline(always)]
    fn push(&mut self, item: T) -> Result<(), T> {
        match self {
            Sink::Ring(ring) => ring.push(item).map_err(|PushError::Full(item)| item),
            Sink::Direct { queue, capacity } => {
                if queue.len() < *capacity {
                    queue.push(item);
                    Ok(())
                } else {
                    Err(item)
                }
            }
        }
    }

    #[inline]
    fn is_abandoned(&self) -> bool {
        match self {
            Sink::Ring(ring) => ring.is_abandoned(),
            // Both ends live in the same engine.
            Sink::Direct { .. } => false,
        }
    }

    /// The queue slot the runner swaps the link's queue into and out of (direct links).
    #[inline]
    pub(crate) fn queue(&mut self) -> Option<&mut Lane<T>> {
        match self {
            Sink::Ring(_) => None,
            Sink::Direct { queue, .. } => Some(queue),
        }
    }
}

/// The consuming end of a link: a ring, or (one thread) the link's queue, which lives here
/// between the producer's polls.
pub(crate) enum Source<T> {
    /// An SPSC ring.
    Ring(Consumer<T>),
    /// The link's queue.
    Direct(Lane<T>),
}

impl<T: Copy> Source<T> {
    /// A direct link's consuming end, with its queue preallocated for `capacity` messages.
    pub(crate) fn direct(capacity: usize) -> Source<T> {
        Source::Direct(Lane::with_capacity(capacity))
    }

    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Result<T, PopError> {
        match self {
            Source::Ring(ring) => ring.pop(),
            Source::Direct(queue) => queue.pop().ok_or(PopError::Empty),
        }
    }

    /// The oldest message, left in place (the next `pop` returns it): a reference whichever
    /// the link, so a consumer reads a message where it lies instead of copying it out.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Option<&T> {
        match self {
            Source::Ring(ring) => ring.peek(),
            Source::Direct(queue) => queue.peek(),
        }
    }

    /// A message behind the oldest, if already known to be there (see
    /// [`Consumer::peek_at`]): a look-ahead for prefetching.
    #[inline(always)]
    pub(crate) fn peek_at(&self, offset: usize) -> Option<&T> {
        match self {
            Source::Ring(ring) => ring.peek_at(offset),
            Source::Direct(queue) => queue.peek_at(offset),
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Source::Ring(ring) => ring.is_empty(),
            Source::Direct(queue) => queue.len() == 0,
        }
    }

    #[inline]
    pub(crate) fn is_abandoned(&self) -> bool {
        match self {
            Source::Ring(ring) => ring.is_abandoned(),
            Source::Direct(_) => false,
        }
    }

    /// The link's queue (direct links).
    #[inline]
    pub(crate) fn queue(&mut self) -> Option<&mut Lane<T>> {
        match self {
            Source::Ring(_) => None,
            Source::Direct(queue) => Some(queue),
        }
    }
}

/// Lends a direct link's queue from its consumer to its producer, or gives it back (a swap
/// either way); nothing for a ring.
#[inline]
pub(crate) fn swap_link<T: Copy>(source: &mut Source<T>, sink: &mut Sink<T>) {
    if let (Some(a), Some(b)) = (source.queue(), sink.queue()) {
        std::mem::swap(a, b);
    }
}

/// Messages a spill queue holds before it has to grow (allocate).
pub(crate) const SPILL_RESERVE: usize = 1024;

/// A producer whose overflow waits in order in a preallocated queue until the ring has room.
///
/// Order is kept: once anything is spilled, later messages queue behind it. The queue is
/// reserved up front; it allocates only when a consumer falls more than a ring plus
/// [`SPILL_RESERVE`] messages behind, and the stages stop admitting host input while anything
/// is spilled, so the backlog is bounded by the work already admitted.
pub(crate) struct Outbox<T> {
    pub(crate) ring: Sink<T>,
    spill: VecDeque<T>,
    /// Data messages handed to `push` (ring or spill); control messages not counted.
    pub(crate) pushed: u64,
}

impl<T: Copy> Outbox<T> {
    pub(crate) fn new(ring: Producer<T>) -> Outbox<T> {
        Outbox::with_sink(Sink::Ring(ring))
    }

    /// The producing end of a direct link (one thread) standing for a ring of `capacity`.
    pub(crate) fn direct(capacity: usize) -> Outbox<T> {
        Outbox::with_sink(Sink::Direct {
            queue: Lane::placeholder(),
            capacity,
        })
    }

    fn with_sink(ring: Sink<T>) -> Outbox<T> {
        Outbox {
            ring,
            spill: VecDeque::with_capacity(SPILL_RESERVE),
            pushed: 0,
        }
    }

    /// Queues `item`: into the ring if nothing waits before it and there is room, else behind
    /// the spilled ones.
    #[inline(always)]
    pub(crate) fn push(&mut self, item: T) {
        self.push_with(|| item);
    }

    /// [`Outbox::push`] of a message built where it lands (see [`Lane::push_with`]).
    #[inline(always)]
    pub(crate) fn push_with(&mut self, make: impl FnOnce() -> T) {
        self.pushed += 1;
        if self.spill.is_empty() {
            match &mut self.ring {
                Sink::Direct { queue, capacity } if queue.len() < *capacity => {
                    return queue.push_with(make);
                }
                Sink::Direct { .. } => {}
                Sink::Ring(ring) => {
                    if let Err(PushError::Full(item)) = ring.push(make()) {
                        self.spill_or_discard(item);
                    }
                    return;
                }
            }
        }
        self.spill_or_discard(make());
    }

    /// Spills `item`, unless the consumer has gone: then nobody can ever take it (the host
    /// dropped its event receiver, or a stage thread ended), and keeping it would only keep
    /// this stage from finishing.
    #[cold]
    fn spill_or_discard(&mut self, item: T) {
        if self.ring.is_abandoned() {
            self.spill.clear();
        } else {
            self.spill.push_back(item);
        }
    }

    /// Queues a control message (marker, stop): like [`Outbox::push`], not counted.
    #[inline]
    pub(crate) fn push_control(&mut self, item: T) {
        self.push(item);
        self.pushed -= 1;
    }

    /// Moves spilled messages into the ring while it has room. Returns whether any moved.
    #[inline]
    pub(crate) fn flush(&mut self) -> bool {
        if !self.spill.is_empty() && self.ring.is_abandoned() {
            self.spill.clear();
        }
        let mut moved = false;
        while let Some(item) = self.spill.pop_front() {
            match self.ring.push(item) {
                Ok(()) => moved = true,
                Err(item) => {
                    self.spill.push_front(item);
                    break;
                }
            }
        }
        moved
    }

    /// Messages waiting outside the ring.
    #[inline]
    pub(crate) fn backlog(&self) -> usize {
        self.spill.len()
    }
}

/// Where a stage's events for the host go: its own ring (a thread per stage), or straight into
/// the host's queue ([`crate::engine::Layout::Single`]: no ring, no copy from the ring into
/// the queue).
///
/// The direct form keeps the ring's behaviour exactly: in `Layout::Single` the host empties
/// each stage's event ring right after polling it, so a poll could place at most a ring's
/// capacity of events (flushed spill first) and spilled the rest for the next poll, which
/// counted as backlog (backpressure on host input). The direct form grants the same room per
/// poll (reset by [`EventOut::flush`], which every poll calls first) and spills the same way,
/// so events reach the host in the same order and the stages admit input at the same moments.
pub(crate) enum EventOut {
    /// A ring to the host (`Layout::Pinned`).
    Ring(Outbox<Event>),
    /// The host's queue, lent to the stage while the runner polls it.
    Direct(DirectEvents),
}

/// The direct form of [`EventOut`].
pub(crate) struct DirectEvents {
    /// The host's pending queue while the stage is polled (the runner swaps it in and back
    /// out); an empty placeholder otherwise.
    pub(crate) queue: Lane<Event>,
    /// Capacity of the ring this replaces.
    capacity: usize,
    /// Events this poll may still place in the queue; 0 whenever anything is spilled (a
    /// flush fills the room from the spill first and stops only when the spill is empty or the
    /// room is used up), so one test of `room` says whether an event goes to the queue.
    room: usize,
    /// Events past the room, in order, for the next polls.
    spill: VecDeque<Event>,
}

impl EventOut {
    /// Direct delivery emulating a ring of `capacity` events.
    pub(crate) fn direct(capacity: usize) -> EventOut {
        EventOut::Direct(DirectEvents {
            queue: Lane::placeholder(),
            capacity,
            room: capacity,
            spill: VecDeque::with_capacity(SPILL_RESERVE),
        })
    }

    /// Queues an event for the host.
    #[inline(always)]
    pub(crate) fn push(&mut self, event: Event) {
        self.push_with(|| event);
    }

    /// Queues the event `make` builds, built where it is queued (see [`Lane::push_with`]).
    #[inline(always)]
    pub(crate) fn push_with(&mut self, make: impl FnOnce() -> Event) {
        match self {
            EventOut::Ring(o) => o.push_with(make),
            EventOut::Direct(d) => {
                // Nothing is spilled while there is room (see `DirectEvents::room`).
                if d.room > 0 {
                    d.room -= 1;
                    d.queue.push_with(make);
                } else {
                    d.spill.push_back(make());
                }
            }
        }
    }

    /// Start of a poll: moves spilled events on while there is room. Returns whether any moved.
    #[inline]
    pub(crate) fn flush(&mut self) -> bool {
        match self {
            EventOut::Ring(o) => o.flush(),
            EventOut::Direct(d) => {
                // The host emptied the (emulated) ring after the previous poll.
                d.room = d.capacity;
                let mut moved = false;
                while d.room > 0 {
                    let Some(event) = d.spill.pop_front() else {
                        break;
                    };
                    d.room -= 1;
                    d.queue.push(event);
                    moved = true;
                }
                moved
            }
        }
    }

    /// Events waiting outside the ring (or past the room).
    #[inline]
    pub(crate) fn backlog(&self) -> usize {
        match self {
            EventOut::Ring(o) => o.backlog(),
            EventOut::Direct(d) => d.spill.len(),
        }
    }

    /// The direct form's queue slot, which the runner swaps the host's queue into and out of.
    #[inline]
    pub(crate) fn queue(&mut self) -> Option<&mut Lane<Event>> {
        match self {
            EventOut::Ring(_) => None,
            EventOut::Direct(d) => Some(&mut d.queue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::msg::Subject;
    use crate::ring::channel;

    fn event(i: u64) -> Event {
        Event::Rejected {
            subject: Subject::Order(crate::types::OrderId(i)),
            reason: "test",
        }
    }

    /// A direct link takes what a ring of its capacity would, spills the rest in order, and
    /// hands everything over in order.
    #[test]
    fn a_direct_link_fills_and_spills_like_a_ring() {
        let (tx, mut rx) = channel::<u64>(4);
        let mut ring = Outbox::new(tx);
        let mut direct = Outbox::<u64>::direct(4);
        let mut source = Source::<u64>::direct(4);
        let mut got = (Vec::new(), Vec::new());
        for round in 0..5u64 {
            swap_link(&mut source, &mut direct.ring);
            ring.flush();
            direct.flush();
            for i in 0..round * 3 {
                ring.push(round * 100 + i);
                direct.push(round * 100 + i);
                assert_eq!(ring.backlog(), direct.backlog());
            }
            swap_link(&mut source, &mut direct.ring);
            // The consumer takes up to 3 per round.
            for _ in 0..3 {
                if let Ok(v) = rx.pop() {
                    got.0.push(v);
                }
                if let Ok(v) = source.pop() {
                    got.1.push(v);
                }
            }
        }
        assert_eq!(got.0, got.1);
        assert_eq!(ring.pushed, direct.pushed);
    }

    /// A direct link's queue starts over at its front once its consumer has emptied it.
    #[test]
    fn a_drained_direct_queue_starts_at_its_front() {
        let mut lane = Lane::<u64>::with_capacity(4);
        let first = lane.buf.as_ptr();
        for i in 1..=3 {
            lane.push(i);
        }
        assert_eq!(
            (lane.pop(), lane.pop(), lane.pop()),
            (Some(1), Some(2), Some(3))
        );
        assert_eq!((lane.len(), lane.head, lane.buf.len()), (0, 0, 0));
        // Never emptied: unread messages move to the front when the end is reached, and the
        // allocation never changes.
        let mut next = 0u64;
        for expect in 0..100u64 {
            while lane.len() < 4 {
                lane.push(next);
                next += 1;
            }
            assert_eq!(lane.pop(), Some(expect));
        }
        assert_eq!(lane.buf.as_ptr(), first);
        assert_eq!(lane.buf.capacity(), 8);
    }

    /// Direct events: at most a ring's capacity per poll (flushed spill first), the rest
    /// spilled in order and counted as backlog — what a ring emptied after every poll does.
    #[test]
    fn direct_events_keep_the_ring_room_per_poll() {
        let mut out = EventOut::direct(4);
        let mut host: Lane<Event> = Lane::placeholder();
        let lend = |out: &mut EventOut, host: &mut Lane<Event>| {
            std::mem::swap(out.queue().unwrap(), host);
        };
        lend(&mut out, &mut host);
        assert!(!out.flush());
        for i in 0..10 {
            out.push(event(i));
        }
        lend(&mut out, &mut host);
        assert_eq!(host.len(), 4);
        assert_eq!(out.backlog(), 6);
        lend(&mut out, &mut host);
        assert!(out.flush());
        out.push(event(10));
        lend(&mut out, &mut host);
        assert_eq!(host.len(), 8);
        assert_eq!(out.backlog(), 3);
        lend(&mut out, &mut host);
        assert!(out.flush());
        lend(&mut out, &mut host);
        assert_eq!(out.backlog(), 0);
        let order: Vec<Event> = host.take_all();
        assert_eq!(order, (0..11).map(event).collect::<Vec<_>>());
    }
}
