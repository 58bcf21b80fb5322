//! [`Book`]: the matching state machine (layout and semantics in the module docs of
//! [`crate::book`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::arena::{Arena, NIL, OrderSlot, SlotState};
use super::command::{
    Bbo, BookEvent, CancelReason, Command, DepthLevel, EventSink, OrderCommand, OrderKind,
    OrderState, OrderView, RejectReason, SelfTradePrevention, TimeInForce, Trade, TriggerSource,
};
use super::idmap::IdMap;
use super::ladder::Ladder;
use super::{MAX_CAPACITY, MAX_ORDER_QTY, MAX_PRICE, Matcher, band_limit};
use crate::types::{AccountId, Money, OrderId, Price, Qty, Side, SymbolSpec};

/// An entry of the trigger index. The heap pops the greatest: highest `rank`, then lowest
/// `seq` (time priority among equal triggers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StopEntry {
    /// `-trigger` for buy stops (lowest trigger fires first), `trigger` for sell stops.
    rank: i64,
    seq: u64,
    slot: u32,
    generation: u32,
}

impl Ord for StopEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank
            .cmp(&other.rank)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for StopEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The incoming side of a match.
#[derive(Clone, Copy, Debug)]
struct Taker {
    id: u64,
    account: u64,
    side: Side,
    remaining: i64,
    stp: SelfTradePrevention,
    liquidation: bool,
    /// Cancelled by self-trade prevention.
    killed: bool,
}

/// The key of `price` on `side`'s ladder: smaller is better on both sides.
#[inline]
const fn key_of(side: Side, price: i64) -> i64 {
    match side {
        Side::Buy => -price,
        Side::Sell => price,
    }
}

/// Trigger-index category: mark-buy, mark-sell, last-buy, last-sell (the order they are
/// served in).
#[inline]
const fn category(by: TriggerSource, side: Side) -> usize {
    let base = match by {
        TriggerSource::Mark => 0,
        TriggerSource::Last => 2,
    };
    match side {
        Side::Buy => base,
        Side::Sell => base + 1,
    }
}

/// A single-symbol, single-threaded order book with preallocated storage.
///
/// See the [module documentation](crate::book) for its layout, invariants and semantics.
///
/// # Examples
///
/// ```
/// use liqcore::book::{Book, BookEvent, OrderCommand};
/// use liqcore::types::{Side, SymbolId, SymbolSpec};
/// use rust_decimal::Decimal;
///
/// let spec = SymbolSpec::new(SymbolId(0), Decimal::new(1, 1), Decimal::new(1, 3)).unwrap();
/// let mut book = Book::new(spec, 1024);
/// let mut events: Vec<BookEvent> = Vec::with_capacity(64);
/// book.submit(&OrderCommand::limit(1, 7, Side::Sell, 200_000, 5), &mut events);
/// book.submit(&OrderCommand::limit(2, 8, Side::Buy, 200_000, 3), &mut events);
/// assert!(events.iter().any(|e| matches!(e, BookEvent::Trade(t) if t.qty.0 == 3)));
/// assert_eq!(book.bbo().ask_qty.0, 2);
/// ```
#[derive(Debug)]
pub struct Book {
    spec: SymbolSpec,
    /// `min(spec.max_qty, MAX_ORDER_QTY)`.
    max_qty: i64,
    arena: Arena,
    ids: IdMap,
    bids: Ladder,
    asks: Ladder,
    /// Trigger index, one heap per [`category`]; each preallocated to the arena capacity + 1.
    stops: [BinaryHeap<StopEntry>; 4],
    stop_seq: u64,
    /// Entries in all four heaps (live and stale): 0 lets commands skip the trigger check.
    stop_entries: usize,
    /// Mark price in ticks, 0 before the first.
    mark: i64,
    /// Last trade price in ticks, 0 before the first trade.
    last: i64,
    /// The BBO last reported.
    bbo: Bbo,
}

impl Book {
    /// A book for `spec` holding at most `capacity` live orders (resting plus untriggered
    /// stops; clamped to `1..=MAX_CAPACITY`). Everything is allocated here.
    #[must_use]
    pub fn new(spec: SymbolSpec, capacity: usize) -> Book {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        let max_qty = spec.max_qty.0.min(MAX_ORDER_QTY);
        Book {
            spec,
            max_qty,
            arena: Arena::new(capacity),
            ids: IdMap::with_capacity(capacity),
            bids: Ladder::new(capacity, 0),
            asks: Ladder::new(capacity, 0),
            stops: std::array::from_fn(|_| BinaryHeap::with_capacity(capacity + 1)),
            stop_seq: 0,
            stop_entries: 0,
            mark: 0,
            last: 0,
            bbo: Bbo::default(),
        }
    }

    /// The symbol this book trades.
    #[must_use]
    pub fn spec(&self) -> &SymbolSpec {
        &self.spec
    }

    /// Live orders (resting plus untriggered stops).
    #[must_use]
    pub fn len(&self) -> usize {
        self.arena.used()
    }

    /// Whether no order is live.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.arena.used() == 0
    }

    /// The most live orders the book can hold.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.arena.slots.len()
    }

    /// The last mark price fed, if any.
    #[must_use]
    pub fn mark_price(&self) -> Option<Price> {
        (self.mark != 0).then_some(Price(self.mark))
    }

    /// The price of the book's last trade, if any.
    #[must_use]
    pub fn last_trade_price(&self) -> Option<Price> {
        (self.last != 0).then_some(Price(self.last))
    }

    /// Bytes of preallocated state (arena, id map, ladders, trigger index).
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.arena.slots.capacity() * size_of::<OrderSlot>()
            + self.ids.bytes()
            + self.bids.bytes()
            + self.asks.bytes()
            + self
                .stops
                .iter()
                .map(|h| h.capacity() * size_of::<StopEntry>())
                .sum::<usize>()
    }

    /// Bytes of one order slot.
    #[must_use]
    pub const fn order_slot_bytes() -> usize {
        size_of::<OrderSlot>()
    }

    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    // ---------------------------------------------------------------- entry points

    /// Submits a new order. Writes `Accepted` (then trades, cancels, triggers) or one
    /// `Rejected`, then `Bbo` if the best bid or offer changed.
    pub fn submit<S: EventSink>(&mut self, cmd: &OrderCommand, sink: &mut S) {
        self.submit_order(cmd, false, sink);
    }

    /// Submits a liquidation order (from the risk stage's priority ring). Its trades carry
    /// `liquidation: true`; it is exempt from the symbol's minimum and maximum quantity (any
    /// `1..=MAX_ORDER_QTY` lots), otherwise it is an ordinary order.
    pub fn submit_liquidation<S: EventSink>(&mut self, cmd: &OrderCommand, sink: &mut S) {
        self.submit_order(cmd, true, sink);
    }

    /// Cancels a resting or untriggered order (`Cancelled { reason: user }`), or writes
    /// `Rejected { unknown_order }`.
    pub fn cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        self.cancel_with_reason(id, CancelReason::User, sink);
    }

    /// [`Book::cancel`] with another reason (the risk stage uses `Liquidation`).
    pub fn cancel_with_reason<S: EventSink>(
        &mut self,
        id: OrderId,
        reason: CancelReason,
        sink: &mut S,
    ) {
        let Some(at) = self.ids.position(id.0, &self.arena.slots) else {
            sink.event(BookEvent::Rejected {
                id,
                reason: RejectReason::UnknownOrder,
            });
            return;
        };
        let slot = self.ids.slot_at(at);
        let o = &self.arena.slots[slot as usize];
        let (state, side, remaining) = (o.state, o.side, o.remaining);
        if state == SlotState::Resting {
            let ladder = match side {
                Side::Buy => &mut self.bids,
                Side::Sell => &mut self.asks,
            };
            unlink_from(ladder, &mut self.arena.slots, slot);
        }
        // One probe for lookup and removal: the table has not changed since `position`.
        self.ids.remove_at(at, &self.arena.slots);
        self.arena.free(slot);
        sink.event(BookEvent::Cancelled {
            id,
            remaining: Qty(remaining),
            reason,
        });
        self.emit_bbo(sink);
    }

    /// Modifies a live order: a new price and/or a new **remaining** quantity.
    ///
    /// Unchanged price and remaining quantity not above the current one: reduced in place,
    /// time priority kept. Same price, larger quantity: moved to the back of its level. New
    /// price: taken out and re-entered as a taker at the new price (cancel-replace, same id):
    /// it may trade, and its rest goes to the back of the new level. A post-only order whose
    /// new price would cross is refused (`would_cross`) and left as it was. An untriggered stop
    /// is changed in place (its trigger stays). Writes `Modified` (then any trades) or
    /// `Rejected`.
    #[inline(always)]
    pub fn modify<S: EventSink>(
        &mut self,
        id: OrderId,
        price: Option<Price>,
        qty: Option<Qty>,
        sink: &mut S,
    ) {
        if let Err(reason) = self.modify_order(id, price, qty, sink) {
            sink.event(BookEvent::Rejected { id, reason });
        }
        self.settle_stops(sink);
        self.emit_bbo(sink);
    }

    /// Look-ahead for a cancel or modify of `id` a couple of messages from now
    /// (`crate::hint`): starts loading the order's slot, so the command finds it in the cache.
    #[inline(always)]
    pub(crate) fn prefetch_order(&self, id: OrderId) {
        self.ids.prefetch(id.0, &self.arena.slots);
    }

    /// Look-ahead for a submit a couple of messages from now (`crate::hint`): starts loading
    /// the newest order of the level a limit order would join (a taker reads the other side's
    /// best level, which every command keeps in the cache anyway).
    #[inline(always)]
    pub(crate) fn prefetch_submit(&self, order: &OrderCommand) {
        if order.kind == OrderKind::Limit {
            self.ladder(order.side)
                .prefetch_join(key_of(order.side, order.price.0), &self.arena.slots);
        }
    }

    /// Sets the mark price: the reference for market-order bands; fires mark-triggered stops
    /// (buy stops whose trigger is at or below it, lowest first; then sell stops at or above
    /// it, highest first). Returns `false` (and changes nothing) for a price outside
    /// `1..=MAX_PRICE`.
    pub fn on_mark_price<S: EventSink>(&mut self, price: Price, sink: &mut S) -> bool {
        if !valid_price(price.0) {
            return false;
        }
        self.mark = price.0;
        self.settle_stops(sink);
        self.emit_bbo(sink);
        true
    }

    /// Applies any [`Command`].
    pub fn apply<S: EventSink>(&mut self, command: &Command, sink: &mut S) {
        match *command {
            Command::Submit(ref cmd) => self.submit(cmd, sink),
            Command::Liquidation(ref cmd) => self.submit_liquidation(cmd, sink),
            Command::Cancel(id) => self.cancel(id, sink),
            Command::Modify { id, price, qty } => self.modify(id, price, qty, sink),
            Command::Mark(price) => {
                self.on_mark_price(price, sink);
            }
        }
    }

    // ---------------------------------------------------------------- queries

    /// Best bid and offer (an empty side has price and quantity 0).
    #[must_use]
    pub fn bbo(&self) -> Bbo {
        let mut bbo = Bbo::default();
        if let Some((key, level)) = self.bids.best() {
            bbo.bid = Price(-key);
            bbo.bid_qty = Qty(level.total);
        }
        if let Some((key, level)) = self.asks.best() {
            bbo.ask = Price(key);
            bbo.ask_qty = Qty(level.total);
        }
        bbo
    }

    /// Writes the best `out.len()` levels of `side` into `out`, best first; returns how many.
    pub fn depth(&self, side: Side, out: &mut [DepthLevel]) -> usize {
        let mut n = 0;
        self.ladder(side).for_each(|key, level| {
            if n == out.len() {
                return false;
            }
            out[n] = DepthLevel {
                price: Price(key_of(side, key)),
                qty: Qty(level.total),
            };
            n += 1;
            true
        });
        n
    }

    /// Number of non-empty price levels on `side`.
    #[must_use]
    pub fn level_count(&self, side: Side) -> usize {
        self.ladder(side).len()
    }

    /// Impact bid: the average price (ticks, rounded down) at which selling `notional` into
    /// the bids would fill, walking the book without changing it; `None` if the bids cannot
    /// absorb it, `notional ≤ 0`, or the arithmetic overflows.
    #[must_use]
    pub fn impact_bid(&self, notional: Money) -> Option<Price> {
        self.impact(Side::Buy, notional)
    }

    /// Impact ask: the average price (ticks, rounded up) at which buying `notional` from the
    /// asks would fill; `None` as for [`Book::impact_bid`].
    #[must_use]
    pub fn impact_ask(&self, notional: Money) -> Option<Price> {
        self.impact(Side::Sell, notional)
    }

    fn impact(&self, side: Side, notional: Money) -> Option<Price> {
        let per_tick_lot = self.spec.money_per_tick_lot();
        let wanted = notional.0;
        if wanted <= 0 {
            return None;
        }
        let mut spent: i128 = 0;
        let mut lots: i128 = 0;
        let mut result = None;
        self.ladder(side).for_each(|key, level| {
            let price = i128::from(key_of(side, key));
            let Some(cost) = price
                .checked_mul(i128::from(level.total))
                .and_then(|c| c.checked_mul(per_tick_lot))
            else {
                return false;
            };
            let Some(reached) = spent.checked_add(cost) else {
                return false;
            };
            if reached >= wanted {
                // Fractional lots at this level: (wanted - spent) / (price × per_tick_lot).
                // average = wanted / (per_tick_lot × total lots)
                //         = wanted × price / (per_tick_lot × price × lots + (wanted - spent)).
                let rest = wanted - spent;
                let denominator = per_tick_lot
                    .checked_mul(price)
                    .and_then(|d| d.checked_mul(lots))
                    .and_then(|d| d.checked_add(rest));
                let numerator = wanted.checked_mul(price);
                if let (Some(num), Some(den)) = (numerator, denominator) {
                    // Impact bid rounds down, impact ask rounds up (both away from the trader).
                    let avg = match side {
                        Side::Buy => Some(num / den),
                        Side::Sell => num.checked_add(den - 1).map(|n| n / den),
                    };
                    result = avg.and_then(|a| i64::try_from(a).ok()).map(Price);
                }
                return false;
            }
            spent = reached;
            lots += i128::from(level.total);
            true
        });
        result
    }

    /// The live order `id`, if any.
    #[must_use]
    pub fn order(&self, id: OrderId) -> Option<OrderView> {
        let slot = self.ids.get(id.0, &self.arena.slots)?;
        let o = &self.arena.slots[slot as usize];
        Some(OrderView {
            id,
            account: AccountId(o.account),
            side: o.side,
            kind: o.kind,
            price: Price(o.price),
            remaining: Qty(o.remaining),
            reduce_only: o.reduce_only,
            state: if o.state == SlotState::Stop {
                OrderState::Untriggered
            } else {
                OrderState::Resting
            },
        })
    }

    /// Checks every structural invariant (O(n); for tests): levels sorted and uncrossed,
    /// each level's total equal to the sum of its orders, links consistent, every live order
    /// in the id map and nothing else.
    ///
    /// # Errors
    ///
    /// A description of the first violation found.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let mut resting = 0usize;
        for side in [Side::Buy, Side::Sell] {
            let mut error = None;
            let mut previous_key = None;
            self.ladder(side).for_each(|key, level| {
                if previous_key.is_some_and(|p| p >= key) {
                    error = Some("levels out of order");
                    return false;
                }
                previous_key = Some(key);
                let mut sum = 0i64;
                let mut prev = NIL;
                let mut cur = level.head;
                while cur != NIL {
                    let o = &self.arena.slots[cur as usize];
                    if o.state != SlotState::Resting
                        || o.side != side
                        || key_of(side, o.price) != key
                    {
                        error = Some("order in the wrong level or state");
                        return false;
                    }
                    if o.prev != prev || o.remaining <= 0 {
                        error = Some("broken link or empty order");
                        return false;
                    }
                    if self.ids.get(o.id, &self.arena.slots) != Some(cur) {
                        error = Some("resting order missing from the id map");
                        return false;
                    }
                    sum += o.remaining;
                    resting += 1;
                    prev = cur;
                    cur = o.next;
                }
                if level.tail != prev || sum != level.total || sum <= 0 {
                    error = Some("level total or tail wrong");
                    return false;
                }
                true
            });
            if let Some(e) = error {
                return Err(e);
            }
        }
        let stops = self
            .arena
            .slots
            .iter()
            .filter(|o| o.state == SlotState::Stop)
            .count();
        let in_flight = self
            .arena
            .slots
            .iter()
            .filter(|o| o.state == SlotState::InFlight)
            .count();
        if in_flight != 0 {
            return Err("order left in flight");
        }
        if resting + stops != self.arena.used() || self.ids.len() != self.arena.used() {
            return Err("live order count mismatch");
        }
        if let (Some(bid), Some(ask)) = (self.bids.best_key(), self.asks.best_key())
            && -bid >= ask
        {
            return Err("crossed book at rest");
        }
        Ok(())
    }

    // ---------------------------------------------------------------- internals

    fn submit_order<S: EventSink>(&mut self, cmd: &OrderCommand, liquidation: bool, sink: &mut S) {
        if let Err(reason) = self.validate(cmd, liquidation) {
            sink.event(BookEvent::Rejected { id: cmd.id, reason });
            return;
        }
        sink.event(BookEvent::Accepted { id: cmd.id });
        match cmd.kind {
            OrderKind::StopMarket | OrderKind::StopLimit => self.add_stop(cmd, liquidation),
            OrderKind::Limit | OrderKind::Market => {
                let mut taker = Taker {
                    id: cmd.id.0,
                    account: cmd.account.0,
                    side: cmd.side,
                    remaining: cmd.qty.0,
                    stp: cmd.stp,
                    liquidation,
                    killed: false,
                };
                let is_market = cmd.kind == OrderKind::Market;
                let limit = self.taker_limit_key(cmd.side, is_market, cmd.price.0);
                self.match_taker(&mut taker, limit, sink);
                self.finish_taker(&taker, is_market, cmd.tif, NIL, Some(cmd), sink);
            }
        }
        self.settle_stops(sink);
        self.emit_bbo(sink);
    }

    fn validate(&self, cmd: &OrderCommand, liquidation: bool) -> Result<(), RejectReason> {
        let (min, max) = if liquidation {
            (1, MAX_ORDER_QTY)
        } else {
            (self.spec.min_qty.0.max(1), self.max_qty)
        };
        if cmd.qty.0 < min || cmd.qty.0 > max {
            return Err(RejectReason::InvalidQty);
        }
        let is_stop = matches!(cmd.kind, OrderKind::StopMarket | OrderKind::StopLimit);
        if matches!(cmd.kind, OrderKind::Limit | OrderKind::StopLimit) && !valid_price(cmd.price.0)
        {
            return Err(RejectReason::InvalidPrice);
        }
        if is_stop && !valid_price(cmd.trigger_price.0) {
            return Err(RejectReason::InvalidPrice);
        }
        if cmd.post_only && (cmd.kind != OrderKind::Limit || cmd.tif != TimeInForce::Gtc) {
            return Err(RejectReason::InvalidOrder);
        }
        if self.ids.get(cmd.id.0, &self.arena.slots).is_some() {
            return Err(RejectReason::DuplicateId);
        }
        if cmd.kind == OrderKind::Market && self.mark == 0 {
            return Err(RejectReason::NoReferencePrice);
        }
        let needs_slot = is_stop || (cmd.kind == OrderKind::Limit && cmd.tif == TimeInForce::Gtc);
        if needs_slot && !self.arena.has_free() {
            return Err(RejectReason::BookFull);
        }
        if cmd.post_only && self.crosses(cmd.side, cmd.price.0) {
            return Err(RejectReason::WouldCross);
        }
        if !is_stop && cmd.tif == TimeInForce::Fok {
            let limit = self.taker_limit_key(cmd.side, cmd.kind == OrderKind::Market, cmd.price.0);
            if !self.fillable(cmd.side, cmd.account.0, cmd.stp, cmd.qty.0, limit) {
                return Err(RejectReason::FokUnfillable);
            }
        }
        Ok(())
    }

    /// Whether a `side` order at `price` would take liquidity.
    fn crosses(&self, side: Side, price: i64) -> bool {
        let opposite = side.opposite();
        self.ladder(opposite)
            .best_key()
            .is_some_and(|best| best <= key_of(opposite, price))
    }

    /// The worst key of the opposite ladder a taker may reach.
    fn taker_limit_key(&self, side: Side, is_market: bool, price: i64) -> i64 {
        let limit = if is_market {
            let reference = if self.mark != 0 { self.mark } else { self.last };
            if reference == 0 {
                // No reference at all: nothing is within the band.
                return i64::MIN;
            }
            band_limit(side, reference, self.spec.price_band.0)
        } else {
            price
        };
        key_of(side.opposite(), limit)
    }

    /// Whether a taker could fill `qty` completely within `limit_key`, with its self-trade
    /// prevention applied as matching would apply it.
    fn fillable(
        &self,
        side: Side,
        account: u64,
        stp: SelfTradePrevention,
        qty: i64,
        limit_key: i64,
    ) -> bool {
        let slots = &self.arena.slots;
        let mut filled = 0i64;
        let mut result = false;
        self.ladder(side.opposite()).for_each(|key, level| {
            if key > limit_key {
                return false;
            }
            if stp == SelfTradePrevention::None {
                filled += level.total;
                result = filled >= qty;
                return !result;
            }
            let mut cur = level.head;
            while cur != NIL {
                let o = &slots[cur as usize];
                if o.account == account {
                    if stp != SelfTradePrevention::CancelMaker {
                        return false;
                    }
                } else {
                    filled += o.remaining;
                    if filled >= qty {
                        result = true;
                        return false;
                    }
                }
                cur = o.next;
            }
            true
        });
        result
    }

    /// Trades `taker` against the opposite side up to `limit_key`, best level first, oldest
    /// maker first. A level's head, total and existence are written once per level, after its
    /// filled makers have been forgotten one by one.
    fn match_taker<S: EventSink>(&mut self, taker: &mut Taker, limit_key: i64, sink: &mut S) {
        let opposite = taker.side.opposite();
        loop {
            let (key, head) = match self.ladder(opposite).best() {
                Some((key, level)) if key <= limit_key => (key, level.head),
                _ => return,
            };
            let price = key_of(opposite, key);
            let mut cur = head;
            // Lots taken from this level, and whether the maker at `cur` is the taker's own.
            let mut taken = 0i64;
            let mut own = false;
            while cur != NIL {
                let maker = &self.arena.slots[cur as usize];
                if maker.account == taker.account && taker.stp != SelfTradePrevention::None {
                    own = true;
                    break;
                }
                let (maker_id, maker_remaining, next) = (maker.id, maker.remaining, maker.next);
                let qty = taker.remaining.min(maker_remaining);
                sink.event(BookEvent::Trade(Trade {
                    maker: OrderId(maker_id),
                    taker: OrderId(taker.id),
                    maker_account: AccountId(maker.account),
                    taker_account: AccountId(taker.account),
                    price: Price(price),
                    qty: Qty(qty),
                    taker_side: taker.side,
                    liquidation: taker.liquidation || maker.liquidation,
                }));
                taker.remaining -= qty;
                taken += qty;
                if qty < maker_remaining {
                    // The taker is done; the maker stays at the head with the rest.
                    self.arena.slots[cur as usize].remaining -= qty;
                    break;
                }
                // Filled: forget it (the level's links are fixed once, below).
                self.ids.remove_known(maker_id, cur, &self.arena.slots);
                self.arena.free(cur);
                cur = next;
                if taker.remaining == 0 {
                    break;
                }
            }
            if taken > 0 {
                self.last = price;
                let ladder = match opposite {
                    Side::Buy => &mut self.bids,
                    Side::Sell => &mut self.asks,
                };
                if let Some(level) = ladder.get_mut(key) {
                    level.total -= taken;
                    level.head = cur;
                    if cur == NIL {
                        level.tail = NIL;
                        ladder.remove(key);
                    } else {
                        self.arena.slots[cur as usize].prev = NIL;
                    }
                }
                ladder.touched(key);
            }
            if own {
                // Self-trade prevention against the maker now at the head of the level.
                let maker = self.arena.slots[cur as usize];
                if matches!(
                    taker.stp,
                    SelfTradePrevention::CancelMaker | SelfTradePrevention::CancelBoth
                ) {
                    self.unlink(cur);
                    self.release(cur);
                    sink.event(BookEvent::Cancelled {
                        id: OrderId(maker.id),
                        remaining: Qty(maker.remaining),
                        reason: CancelReason::Stp,
                    });
                }
                if matches!(
                    taker.stp,
                    SelfTradePrevention::CancelTaker | SelfTradePrevention::CancelBoth
                ) {
                    sink.event(BookEvent::Cancelled {
                        id: OrderId(taker.id),
                        remaining: Qty(taker.remaining),
                        reason: CancelReason::Stp,
                    });
                    taker.killed = true;
                    return;
                }
                continue;
            }
            if taker.remaining == 0 {
                return;
            }
        }
    }

    /// Ends a taker's turn: rest its remainder (GTC limit) or cancel it, and free its slot
    /// when it is done. `slot` is its arena slot, or `NIL` for a new order (then `cmd` is it).
    fn finish_taker<S: EventSink>(
        &mut self,
        taker: &Taker,
        is_market: bool,
        tif: TimeInForce,
        slot: u32,
        cmd: Option<&OrderCommand>,
        sink: &mut S,
    ) {
        let id = OrderId(taker.id);
        let remaining = Qty(taker.remaining);
        let reason = if taker.killed || taker.remaining == 0 {
            None
        } else if is_market {
            Some(CancelReason::MarketUnfilled)
        } else if tif != TimeInForce::Gtc {
            Some(CancelReason::IocRemainder)
        } else {
            let idx = if slot != NIL {
                self.arena.slots[slot as usize].remaining = taker.remaining;
                Some(slot)
            } else if let Some(cmd) = cmd {
                let mut order = Arena::template();
                order.id = taker.id;
                order.account = taker.account;
                order.price = cmd.price.0;
                order.remaining = taker.remaining;
                order.side = cmd.side;
                order.kind = cmd.kind;
                order.tif = cmd.tif;
                order.stp = cmd.stp;
                order.post_only = cmd.post_only;
                order.reduce_only = cmd.reduce_only;
                order.liquidation = taker.liquidation;
                order.state = SlotState::InFlight;
                let idx = self.arena.alloc(order);
                if let Some(idx) = idx {
                    self.ids.insert(taker.id, idx);
                }
                idx
            } else {
                None
            };
            match idx {
                Some(idx) => {
                    self.link(idx);
                    return;
                }
                // Unreachable: validation reserved a slot. Never rest without one.
                None => Some(CancelReason::IocRemainder),
            }
        };
        if let Some(reason) = reason {
            sink.event(BookEvent::Cancelled {
                id,
                remaining,
                reason,
            });
        }
        if slot != NIL {
            self.release(slot);
        }
    }

    fn add_stop(&mut self, cmd: &OrderCommand, liquidation: bool) {
        let mut order = Arena::template();
        order.id = cmd.id.0;
        order.account = cmd.account.0;
        order.price = if cmd.kind == OrderKind::StopLimit {
            cmd.price.0
        } else {
            0
        };
        order.remaining = cmd.qty.0;
        order.trigger_price = cmd.trigger_price.0;
        order.side = cmd.side;
        order.kind = cmd.kind;
        order.tif = cmd.tif;
        order.stp = cmd.stp;
        order.trigger_by = cmd.trigger_by;
        order.reduce_only = cmd.reduce_only;
        order.liquidation = liquidation;
        order.state = SlotState::Stop;
        let Some(slot) = self.arena.alloc(order) else {
            return; // Unreachable: validation checked for a free slot.
        };
        self.ids.insert(cmd.id.0, slot);
        let generation = self.arena.slots[slot as usize].generation;
        let heap = &mut self.stops[category(cmd.trigger_by, cmd.side)];
        if heap.len() == heap.capacity() {
            // Drop entries of cancelled or fired stops; live stops never exceed the arena, so
            // this makes room without growing.
            let slots = &self.arena.slots;
            heap.retain(|e| {
                let s = &slots[e.slot as usize];
                s.state == SlotState::Stop && s.generation == e.generation
            });
            self.stop_entries = self.stops.iter().map(BinaryHeap::len).sum();
        }
        let heap = &mut self.stops[category(cmd.trigger_by, cmd.side)];
        self.stop_entries += 1;
        self.stop_seq += 1;
        heap.push(StopEntry {
            rank: match cmd.side {
                Side::Buy => -cmd.trigger_price.0,
                Side::Sell => cmd.trigger_price.0,
            },
            seq: self.stop_seq,
            slot,
            generation,
        });
    }

    /// Fires due stops until none is due (each may trade and move the last price).
    #[inline]
    fn settle_stops<S: EventSink>(&mut self, sink: &mut S) {
        if self.stop_entries != 0 {
            self.fire_due_stops(sink);
        }
    }

    /// [`Book::settle_stops`] when the trigger index is not empty.
    fn fire_due_stops<S: EventSink>(&mut self, sink: &mut S) {
        loop {
            let mut fired = None;
            for (cat, heap) in self.stops.iter_mut().enumerate() {
                let slots = &self.arena.slots;
                while let Some(top) = heap.peek() {
                    let s = &slots[top.slot as usize];
                    if s.state == SlotState::Stop && s.generation == top.generation {
                        break;
                    }
                    heap.pop();
                    self.stop_entries -= 1;
                }
                let reference = if cat < 2 { self.mark } else { self.last };
                let Some(top) = heap.peek() else { continue };
                if reference == 0 {
                    continue;
                }
                let due = if cat % 2 == 0 {
                    reference >= -top.rank
                } else {
                    reference <= top.rank
                };
                if due {
                    fired = Some(top.slot);
                    heap.pop();
                    self.stop_entries -= 1;
                    break;
                }
            }
            match fired {
                Some(slot) => self.fire(slot, sink),
                None => return,
            }
        }
    }

    fn fire<S: EventSink>(&mut self, slot: u32, sink: &mut S) {
        let order = self.arena.slots[slot as usize];
        self.arena.slots[slot as usize].state = SlotState::InFlight;
        sink.event(BookEvent::Triggered {
            id: OrderId(order.id),
        });
        let is_market = order.kind == OrderKind::StopMarket;
        let limit = self.taker_limit_key(order.side, is_market, order.price);
        if order.tif == TimeInForce::Fok
            && !self.fillable(order.side, order.account, order.stp, order.remaining, limit)
        {
            sink.event(BookEvent::Cancelled {
                id: OrderId(order.id),
                remaining: Qty(order.remaining),
                reason: CancelReason::FokUnfillable,
            });
            self.release(slot);
            return;
        }
        let mut taker = Taker {
            id: order.id,
            account: order.account,
            side: order.side,
            remaining: order.remaining,
            stp: order.stp,
            liquidation: order.liquidation,
            killed: false,
        };
        self.match_taker(&mut taker, limit, sink);
        self.finish_taker(&taker, is_market, order.tif, slot, None, sink);
    }

    fn modify_order<S: EventSink>(
        &mut self,
        id: OrderId,
        price: Option<Price>,
        qty: Option<Qty>,
        sink: &mut S,
    ) -> Result<(), RejectReason> {
        if price.is_none() && qty.is_none() {
            return Err(RejectReason::InvalidOrder);
        }
        if qty.is_some_and(|q| q.0 < 1 || q.0 > self.max_qty) {
            return Err(RejectReason::InvalidQty);
        }
        if price.is_some_and(|p| !valid_price(p.0)) {
            return Err(RejectReason::InvalidPrice);
        }
        let slot = self
            .ids
            .get(id.0, &self.arena.slots)
            .ok_or(RejectReason::UnknownOrder)?;
        let order = self.arena.slots[slot as usize];
        let new_price = price.map_or(order.price, |p| p.0);
        let new_qty = qty.map_or(order.remaining, |q| q.0);
        if order.state == SlotState::Stop {
            if price.is_some() && order.kind == OrderKind::StopMarket {
                return Err(RejectReason::InvalidOrder);
            }
            let s = &mut self.arena.slots[slot as usize];
            s.price = new_price;
            s.remaining = new_qty;
            sink.event(BookEvent::Modified {
                id,
                price: Price(new_price),
                remaining: Qty(new_qty),
            });
            return Ok(());
        }
        if new_price == order.price {
            if new_qty <= order.remaining {
                self.arena.slots[slot as usize].remaining = new_qty;
                let key = key_of(order.side, order.price);
                let ladder = self.ladder_mut(order.side);
                if let Some(level) = ladder.get_mut(key) {
                    level.total -= order.remaining - new_qty;
                }
                ladder.touched(key);
            } else {
                self.unlink(slot);
                self.arena.slots[slot as usize].remaining = new_qty;
                self.link(slot);
            }
            sink.event(BookEvent::Modified {
                id,
                price: Price(new_price),
                remaining: Qty(new_qty),
            });
            return Ok(());
        }
        let crosses = self.crosses(order.side, new_price);
        if !crosses {
            // A move that cannot trade: straight from the old level to the back of the new one
            // (what the cancel-replace below does when `match_taker` finds nothing).
            let (ladder, slots) = match order.side {
                Side::Buy => (&mut self.bids, &mut self.arena.slots[..]),
                Side::Sell => (&mut self.asks, &mut self.arena.slots[..]),
            };
            unlink_from(ladder, slots, slot);
            let s = &mut slots[slot as usize];
            s.price = new_price;
            s.remaining = new_qty;
            link_into(ladder, slots, slot);
            sink.event(BookEvent::Modified {
                id,
                price: Price(new_price),
                remaining: Qty(new_qty),
            });
            return Ok(());
        }
        if order.post_only {
            return Err(RejectReason::WouldCross);
        }
        self.unlink(slot);
        {
            let s = &mut self.arena.slots[slot as usize];
            s.price = new_price;
            s.remaining = new_qty;
        }
        sink.event(BookEvent::Modified {
            id,
            price: Price(new_price),
            remaining: Qty(new_qty),
        });
        let mut taker = Taker {
            id: order.id,
            account: order.account,
            side: order.side,
            remaining: new_qty,
            stp: order.stp,
            liquidation: order.liquidation,
            killed: false,
        };
        let limit = key_of(order.side.opposite(), new_price);
        self.match_taker(&mut taker, limit, sink);
        self.finish_taker(&taker, false, order.tif, slot, None, sink);
        Ok(())
    }

    /// Appends `slot` to the tail of its level.
    #[inline]
    fn link(&mut self, slot: u32) {
        let ladder = match self.arena.slots[slot as usize].side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        link_into(ladder, &mut self.arena.slots, slot);
    }

    /// Takes a resting `slot` out of its level (removing the level if it empties); it is then
    /// in flight.
    #[inline]
    fn unlink(&mut self, slot: u32) {
        let ladder = match self.arena.slots[slot as usize].side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        unlink_from(ladder, &mut self.arena.slots, slot);
        let s = &mut self.arena.slots[slot as usize];
        s.prev = NIL;
        s.next = NIL;
        s.state = SlotState::InFlight;
    }

    /// Forgets a live order that is not linked into a level.
    #[inline]
    fn release(&mut self, slot: u32) {
        let id = self.arena.slots[slot as usize].id;
        self.ids.remove_known(id, slot, &self.arena.slots);
        self.arena.free(slot);
    }

    /// Writes `Bbo` if the best bid or offer changed. Only a change at a side's best level can
    /// change it, so a command that did not touch one skips the comparison.
    #[inline]
    fn emit_bbo<S: EventSink>(&mut self, sink: &mut S) {
        let bid_touched = self.bids.take_top_touched();
        let ask_touched = self.asks.take_top_touched();
        if !(bid_touched | ask_touched) {
            return;
        }
        let bbo = self.bbo();
        if bbo != self.bbo {
            self.bbo = bbo;
            sink.event(BookEvent::Bbo(bbo));
        }
    }
}

/// Appends `slot` (a live order of `ladder`'s side, in no level) to the tail of the level of its
/// price and marks it resting.
#[inline(always)]
fn link_into(ladder: &mut Ladder, slots: &mut [OrderSlot], slot: u32) {
    let o = &slots[slot as usize];
    let (key, remaining) = (key_of(o.side, o.price), o.remaining);
    let level = ladder.get_or_insert(key);
    let tail = level.tail;
    level.tail = slot;
    if tail == NIL {
        level.head = slot;
    } else {
        slots[tail as usize].next = slot;
    }
    level.total += remaining;
    ladder.touched(key);
    let o = &mut slots[slot as usize];
    o.prev = tail;
    o.next = NIL;
    o.state = SlotState::Resting;
}

/// Takes the resting `slot` out of its level in `ladder` (its side's), removing the level if it
/// empties. The slot's own links and state are left for the caller to overwrite.
#[inline(always)]
fn unlink_from(ladder: &mut Ladder, slots: &mut [OrderSlot], slot: u32) {
    let o = &slots[slot as usize];
    let (key, prev, next, remaining) = (key_of(o.side, o.price), o.prev, o.next, o.remaining);
    let Some(level) = ladder.get_mut(key) else {
        debug_assert!(false, "resting order without a level");
        return;
    };
    if prev == NIL {
        level.head = next;
    } else {
        slots[prev as usize].next = next;
    }
    if next == NIL {
        level.tail = prev;
    } else {
        slots[next as usize].prev = prev;
    }
    level.total -= remaining;
    if level.head == NIL {
        ladder.remove(key);
    }
    ladder.touched(key);
}

#[inline]
const fn valid_price(price: i64) -> bool {
    price >= 1 && price <= MAX_PRICE
}

impl Matcher for Book {
    fn apply<S: EventSink>(&mut self, command: &Command, sink: &mut S) {
        Book::apply(self, command, sink);
    }

    fn depth(&self, side: Side, out: &mut [DepthLevel]) -> usize {
        Book::depth(self, side, out)
    }

    fn bbo(&self) -> Bbo {
        Book::bbo(self)
    }

    fn live_orders(&self) -> usize {
        self.len()
    }
}
