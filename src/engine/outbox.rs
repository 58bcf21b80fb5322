//! A ring producer with a spill queue: a stage never blocks on a full ring (the stages form a
//! cycle — risk → book → risk — so blocking could deadlock) and never drops a message.

use std::collections::VecDeque;

use crate::ring::{Producer, PushError};

/// Messages a spill queue holds before it has to grow (allocate).
pub(crate) const SPILL_RESERVE: usize = 1024;

/// A producer whose overflow waits in order in a preallocated queue until the ring has room.
///
/// Order is kept: once anything is spilled, later messages queue behind it. The queue is
/// reserved up front; it allocates only when a consumer falls more than a ring plus
/// [`SPILL_RESERVE`] messages behind, and the stages stop admitting host input while anything
/// is spilled, so the backlog is bounded by the work already admitted.
pub(crate) struct Outbox<T> {
    ring: Producer<T>,
    spill: VecDeque<T>,
    /// Data messages handed to `push` (ring or spill); control messages not counted.
    pub(crate) pushed: u64,
}

impl<T> Outbox<T> {
    pub(crate) fn new(ring: Producer<T>) -> Outbox<T> {
        Outbox {
            ring,
            spill: VecDeque::with_capacity(SPILL_RESERVE),
            pushed: 0,
        }
    }

    /// Queues `item`: into the ring if nothing waits before it and there is room, else behind
    /// the spilled ones.
    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        self.pushed += 1;
        if self.spill.is_empty() {
            match self.ring.push(item) {
                Ok(()) => {}
                Err(PushError::Full(item)) => self.spill_or_discard(item),
            }
        } else {
            self.spill_or_discard(item);
        }
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
                Err(PushError::Full(item)) => {
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
