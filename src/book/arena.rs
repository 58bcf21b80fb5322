//! The order arena: a preallocated vector of 64-byte slots with a free list threaded through
//! the `next` links of free slots.

use super::command::{OrderKind, SelfTradePrevention, TimeInForce, TriggerSource};
use crate::types::Side;

/// "No slot": list terminator and empty-level marker.
pub(crate) const NIL: u32 = u32::MAX;

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// On the free list.
    Free,
    /// Linked into a price level.
    Resting,
    /// An untriggered stop, referenced from the trigger index.
    Stop,
    /// Taken out of its level (or trigger index) while it trades as a taker.
    InFlight,
}

/// One order. Exactly one cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub(crate) struct OrderSlot {
    pub(crate) id: u64,
    pub(crate) account: u64,
    /// Limit price in ticks (0 for a stop-market).
    pub(crate) price: i64,
    pub(crate) remaining: i64,
    pub(crate) trigger_price: i64,
    /// Previous / next slot in the level (or next free slot).
    pub(crate) prev: u32,
    pub(crate) next: u32,
    /// Bumped when the slot is freed, so stale trigger-index entries can be recognised.
    pub(crate) generation: u32,
    pub(crate) side: Side,
    pub(crate) kind: OrderKind,
    pub(crate) tif: TimeInForce,
    pub(crate) stp: SelfTradePrevention,
    pub(crate) trigger_by: TriggerSource,
    pub(crate) state: SlotState,
    pub(crate) post_only: bool,
    pub(crate) reduce_only: bool,
    pub(crate) liquidation: bool,
}

const _: () = assert!(size_of::<OrderSlot>() == 64);

impl OrderSlot {
    const FREE: OrderSlot = OrderSlot {
        id: 0,
        account: 0,
        price: 0,
        remaining: 0,
        trigger_price: 0,
        prev: NIL,
        next: NIL,
        generation: 0,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        stp: SelfTradePrevention::CancelTaker,
        trigger_by: TriggerSource::Mark,
        state: SlotState::Free,
        post_only: false,
        reduce_only: false,
        liquidation: false,
    };
}

/// Fixed-capacity slot storage.
#[derive(Debug)]
pub(crate) struct Arena {
    pub(crate) slots: Vec<OrderSlot>,
    free_head: u32,
    used: usize,
}

impl Arena {
    /// `capacity` free slots (at most `u32::MAX - 1`).
    pub(crate) fn new(capacity: usize) -> Arena {
        let mut slots = vec![OrderSlot::FREE; capacity];
        for (i, slot) in slots.iter_mut().enumerate() {
            slot.next = if i + 1 < capacity { i as u32 + 1 } else { NIL };
        }
        Arena {
            slots,
            free_head: if capacity > 0 { 0 } else { NIL },
            used: 0,
        }
    }

    /// Whether a slot is available.
    #[inline]
    pub(crate) fn has_free(&self) -> bool {
        self.free_head != NIL
    }

    /// Slots in use.
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    /// Takes a free slot and fills it (its links reset); `None` when full.
    #[inline]
    pub(crate) fn alloc(&mut self, mut order: OrderSlot) -> Option<u32> {
        let idx = self.free_head;
        if idx == NIL {
            return None;
        }
        let slot = &mut self.slots[idx as usize];
        self.free_head = slot.next;
        order.generation = slot.generation;
        order.prev = NIL;
        order.next = NIL;
        *slot = order;
        self.used += 1;
        Some(idx)
    }

    /// Returns a slot to the free list.
    #[inline]
    pub(crate) fn free(&mut self, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        debug_assert!(slot.state != SlotState::Free);
        slot.state = SlotState::Free;
        slot.generation = slot.generation.wrapping_add(1);
        slot.prev = NIL;
        slot.next = self.free_head;
        self.free_head = idx;
        self.used -= 1;
    }

    /// A template slot with the fields every order sets.
    pub(crate) const fn template() -> OrderSlot {
        OrderSlot::FREE
    }
}
