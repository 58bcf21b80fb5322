//! A naive order book: the test oracle and the benchmark's baseline.
//!
//! `BTreeMap<price, VecDeque<order>>` per side, a `HashMap` from id to where the order is, and
//! a plain `Vec` of untriggered stops searched linearly. It implements exactly the semantics
//! documented in [`crate::book`] (same validation order, same events in the same order) in the
//! most direct way, so that [`super::Book`] can be checked against it command by command. It
//! allocates freely and is not meant to be fast.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::command::{
    Bbo, BookEvent, CancelReason, Command, DepthLevel, EventSink, OrderCommand, OrderKind,
    RejectReason, SelfTradePrevention, TimeInForce, Trade, TriggerSource,
};
use super::{MAX_CAPACITY, MAX_ORDER_QTY, MAX_PRICE, Matcher, band_limit};
use crate::types::{AccountId, Money, OrderId, Price, Qty, Side, SymbolSpec};

#[derive(Clone, Copy, Debug)]
struct RefOrder {
    id: u64,
    account: u64,
    side: Side,
    kind: OrderKind,
    price: i64,
    remaining: i64,
    tif: TimeInForce,
    stp: SelfTradePrevention,
    post_only: bool,
    liquidation: bool,
    trigger_price: i64,
    trigger_by: TriggerSource,
    seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Location {
    Resting(Side, i64),
    Stop,
}

/// The naive reference book (see the module docs).
#[derive(Debug)]
pub struct ReferenceBook {
    spec: SymbolSpec,
    max_qty: i64,
    capacity: usize,
    bids: BTreeMap<i64, VecDeque<RefOrder>>,
    asks: BTreeMap<i64, VecDeque<RefOrder>>,
    stops: Vec<RefOrder>,
    index: HashMap<u64, Location>,
    stop_seq: u64,
    mark: Option<i64>,
    last: Option<i64>,
    bbo: Bbo,
}

struct Taker {
    id: u64,
    account: u64,
    side: Side,
    remaining: i64,
    stp: SelfTradePrevention,
    liquidation: bool,
    killed: bool,
}

impl ReferenceBook {
    /// A book for `spec` holding at most `capacity` live orders (clamped like
    /// [`super::Book::new`]).
    #[must_use]
    pub fn new(spec: SymbolSpec, capacity: usize) -> ReferenceBook {
        let max_qty = spec.max_qty.0.min(MAX_ORDER_QTY);
        ReferenceBook {
            spec,
            max_qty,
            capacity: capacity.clamp(1, MAX_CAPACITY),
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            stops: Vec::new(),
            index: HashMap::new(),
            stop_seq: 0,
            mark: None,
            last: None,
            bbo: Bbo::default(),
        }
    }

    /// Submits a new order (see [`super::Book::submit`]).
    pub fn submit<S: EventSink>(&mut self, cmd: &OrderCommand, sink: &mut S) {
        self.submit_order(cmd, false, sink);
    }

    /// Submits a liquidation order (see [`super::Book::submit_liquidation`]).
    pub fn submit_liquidation<S: EventSink>(&mut self, cmd: &OrderCommand, sink: &mut S) {
        self.submit_order(cmd, true, sink);
    }

    /// Cancels an order (see [`super::Book::cancel`]).
    pub fn cancel<S: EventSink>(&mut self, id: OrderId, sink: &mut S) {
        match self.index.remove(&id.0) {
            None => sink.event(BookEvent::Rejected {
                id,
                reason: RejectReason::UnknownOrder,
            }),
            Some(location) => {
                let order = match location {
                    Location::Resting(side, price) => self.take_resting(side, price, id.0),
                    Location::Stop => {
                        let at = self.stops.iter().position(|o| o.id == id.0).unwrap_or(0);
                        self.stops.remove(at)
                    }
                };
                sink.event(BookEvent::Cancelled {
                    id,
                    remaining: Qty(order.remaining),
                    reason: CancelReason::User,
                });
            }
        }
        self.emit_bbo(sink);
    }

    /// Modifies an order (see [`super::Book::modify`]).
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

    /// Sets the mark price (see [`super::Book::on_mark_price`]).
    pub fn on_mark_price<S: EventSink>(&mut self, price: Price, sink: &mut S) -> bool {
        if price.0 < 1 || price.0 > MAX_PRICE {
            return false;
        }
        self.mark = Some(price.0);
        self.settle_stops(sink);
        self.emit_bbo(sink);
        true
    }

    /// Best bid and offer.
    #[must_use]
    pub fn bbo(&self) -> Bbo {
        let mut bbo = Bbo::default();
        if let Some((price, orders)) = self.bids.last_key_value() {
            bbo.bid = Price(*price);
            bbo.bid_qty = Qty(orders.iter().map(|o| o.remaining).sum());
        }
        if let Some((price, orders)) = self.asks.first_key_value() {
            bbo.ask = Price(*price);
            bbo.ask_qty = Qty(orders.iter().map(|o| o.remaining).sum());
        }
        bbo
    }

    /// The best `out.len()` levels of `side`, best first; returns how many.
    pub fn depth(&self, side: Side, out: &mut [DepthLevel]) -> usize {
        let levels: Box<dyn Iterator<Item = (&i64, &VecDeque<RefOrder>)>> = match side {
            Side::Buy => Box::new(self.bids.iter().rev()),
            Side::Sell => Box::new(self.asks.iter()),
        };
        let mut n = 0;
        for (price, orders) in levels.take(out.len()) {
            out[n] = DepthLevel {
                price: Price(*price),
                qty: Qty(orders.iter().map(|o| o.remaining).sum()),
            };
            n += 1;
        }
        n
    }

    /// Impact bid (see [`super::Book::impact_bid`]).
    #[must_use]
    pub fn impact_bid(&self, notional: Money) -> Option<Price> {
        self.impact(Side::Buy, notional)
    }

    /// Impact ask (see [`super::Book::impact_ask`]).
    #[must_use]
    pub fn impact_ask(&self, notional: Money) -> Option<Price> {
        self.impact(Side::Sell, notional)
    }

    fn impact(&self, side: Side, notional: Money) -> Option<Price> {
        if notional.0 <= 0 {
            return None;
        }
        let per_tick_lot = self.spec.money_per_tick_lot();
        let levels: Vec<(i128, i128)> = match side {
            Side::Buy => self.bids.iter().rev().collect::<Vec<_>>(),
            Side::Sell => self.asks.iter().collect::<Vec<_>>(),
        }
        .into_iter()
        .map(|(p, orders)| {
            let qty: i64 = orders.iter().map(|o| o.remaining).sum();
            (i128::from(*p), i128::from(qty))
        })
        .collect();
        let (mut spent, mut lots) = (0i128, 0i128);
        for (price, qty) in levels {
            let cost = price.checked_mul(qty)?.checked_mul(per_tick_lot)?;
            let reached = spent.checked_add(cost)?;
            if reached >= notional.0 {
                // Average over whole lots plus the fractional lot bought at the last level.
                let numerator = notional.0.checked_mul(price)?;
                let denominator = per_tick_lot
                    .checked_mul(price)?
                    .checked_mul(lots)?
                    .checked_add(notional.0 - spent)?;
                let average = match side {
                    Side::Buy => numerator / denominator,
                    Side::Sell => numerator.checked_add(denominator - 1)? / denominator,
                };
                return i64::try_from(average).ok().map(Price);
            }
            spent = reached;
            lots += qty;
        }
        None
    }

    /// Live orders.
    #[must_use]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no order is live.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn submit_order<S: EventSink>(&mut self, cmd: &OrderCommand, liquidation: bool, sink: &mut S) {
        if let Err(reason) = self.validate(cmd, liquidation) {
            sink.event(BookEvent::Rejected { id: cmd.id, reason });
            return;
        }
        sink.event(BookEvent::Accepted { id: cmd.id });
        let order = RefOrder {
            id: cmd.id.0,
            account: cmd.account.0,
            side: cmd.side,
            kind: cmd.kind,
            price: if cmd.kind == OrderKind::StopMarket {
                0
            } else {
                cmd.price.0
            },
            remaining: cmd.qty.0,
            tif: cmd.tif,
            stp: cmd.stp,
            post_only: cmd.post_only,
            liquidation,
            trigger_price: cmd.trigger_price.0,
            trigger_by: cmd.trigger_by,
            seq: 0,
        };
        let outcome = match cmd.kind {
            OrderKind::StopMarket | OrderKind::StopLimit => {
                self.stop_seq += 1;
                self.stops.push(RefOrder {
                    seq: self.stop_seq,
                    ..order
                });
                self.index.insert(order.id, Location::Stop);
                Outcome::nothing()
            }
            OrderKind::Limit | OrderKind::Market => self.execute(order),
        };
        outcome.finish(self, sink);
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
        let valid = |p: i64| (1..=MAX_PRICE).contains(&p);
        let is_stop = matches!(cmd.kind, OrderKind::StopMarket | OrderKind::StopLimit);
        if matches!(cmd.kind, OrderKind::Limit | OrderKind::StopLimit) && !valid(cmd.price.0) {
            return Err(RejectReason::InvalidPrice);
        }
        if is_stop && !valid(cmd.trigger_price.0) {
            return Err(RejectReason::InvalidPrice);
        }
        if cmd.post_only && (cmd.kind != OrderKind::Limit || cmd.tif != TimeInForce::Gtc) {
            return Err(RejectReason::InvalidOrder);
        }
        if self.index.contains_key(&cmd.id.0) {
            return Err(RejectReason::DuplicateId);
        }
        if cmd.kind == OrderKind::Market && self.mark.is_none() {
            return Err(RejectReason::NoReferencePrice);
        }
        let needs_slot = is_stop || (cmd.kind == OrderKind::Limit && cmd.tif == TimeInForce::Gtc);
        if needs_slot && self.index.len() >= self.capacity {
            return Err(RejectReason::BookFull);
        }
        if cmd.post_only && self.crosses(cmd.side, cmd.price.0) {
            return Err(RejectReason::WouldCross);
        }
        if !is_stop && cmd.tif == TimeInForce::Fok {
            let limit = self.limit_price(cmd.side, cmd.kind == OrderKind::Market, cmd.price.0);
            if !self.fillable(cmd.side, cmd.account.0, cmd.stp, cmd.qty.0, limit) {
                return Err(RejectReason::FokUnfillable);
            }
        }
        Ok(())
    }

    fn crosses(&self, side: Side, price: i64) -> bool {
        match side {
            Side::Buy => self
                .asks
                .first_key_value()
                .is_some_and(|(p, _)| *p <= price),
            Side::Sell => self.bids.last_key_value().is_some_and(|(p, _)| *p >= price),
        }
    }

    /// The worst price a taker may trade at; `None` when a market order has no reference.
    fn limit_price(&self, side: Side, is_market: bool, price: i64) -> Option<i64> {
        if is_market {
            let reference = self.mark.or(self.last)?;
            Some(band_limit(side, reference, self.spec.price_band.0))
        } else {
            Some(price)
        }
    }

    /// Opposite levels a `side` taker limited at `limit` may reach, best first.
    fn reachable(&self, side: Side, limit: i64) -> Vec<i64> {
        match side {
            Side::Buy => self.asks.range(..=limit).map(|(p, _)| *p).collect(),
            Side::Sell => self.bids.range(limit..).rev().map(|(p, _)| *p).collect(),
        }
    }

    fn fillable(
        &self,
        side: Side,
        account: u64,
        stp: SelfTradePrevention,
        qty: i64,
        limit: Option<i64>,
    ) -> bool {
        let Some(limit) = limit else { return false };
        let book = match side {
            Side::Buy => &self.asks,
            Side::Sell => &self.bids,
        };
        let mut filled = 0;
        for price in self.reachable(side, limit) {
            for o in &book[&price] {
                if o.account == account && stp != SelfTradePrevention::None {
                    if stp == SelfTradePrevention::CancelMaker {
                        continue;
                    }
                    return false;
                }
                filled += o.remaining;
                if filled >= qty {
                    return true;
                }
            }
        }
        false
    }

    /// Matches `order` as a taker; returns what is left to do with it.
    fn execute(&mut self, order: RefOrder) -> Outcome {
        let is_market = matches!(order.kind, OrderKind::Market | OrderKind::StopMarket);
        let limit = self.limit_price(order.side, is_market, order.price);
        let mut events = Vec::new();
        let mut taker = Taker {
            id: order.id,
            account: order.account,
            side: order.side,
            remaining: order.remaining,
            stp: order.stp,
            liquidation: order.liquidation,
            killed: false,
        };
        if let Some(limit) = limit {
            self.match_taker(&mut taker, limit, &mut events);
        }
        Outcome {
            events,
            order: RefOrder {
                remaining: taker.remaining,
                ..order
            },
            killed: taker.killed,
            is_market,
        }
    }

    fn match_taker(&mut self, taker: &mut Taker, limit: i64, events: &mut Vec<BookEvent>) {
        for price in self.reachable(taker.side, limit) {
            let book = match taker.side {
                Side::Buy => &mut self.asks,
                Side::Sell => &mut self.bids,
            };
            let mut level = book.remove(&price).unwrap_or_default();
            let mut i = 0;
            while i < level.len() {
                let maker = level[i];
                if maker.account == taker.account && taker.stp != SelfTradePrevention::None {
                    if matches!(
                        taker.stp,
                        SelfTradePrevention::CancelMaker | SelfTradePrevention::CancelBoth
                    ) {
                        level.remove(i);
                        self.index.remove(&maker.id);
                        events.push(BookEvent::Cancelled {
                            id: OrderId(maker.id),
                            remaining: Qty(maker.remaining),
                            reason: CancelReason::Stp,
                        });
                    } else {
                        i += 1;
                    }
                    if matches!(
                        taker.stp,
                        SelfTradePrevention::CancelTaker | SelfTradePrevention::CancelBoth
                    ) {
                        events.push(BookEvent::Cancelled {
                            id: OrderId(taker.id),
                            remaining: Qty(taker.remaining),
                            reason: CancelReason::Stp,
                        });
                        taker.killed = true;
                        break;
                    }
                    continue;
                }
                let qty = taker.remaining.min(maker.remaining);
                events.push(BookEvent::Trade(Trade {
                    maker: OrderId(maker.id),
                    taker: OrderId(taker.id),
                    maker_account: AccountId(maker.account),
                    taker_account: AccountId(taker.account),
                    price: Price(price),
                    qty: Qty(qty),
                    taker_side: taker.side,
                    liquidation: taker.liquidation || maker.liquidation,
                }));
                self.last = Some(price);
                taker.remaining -= qty;
                if qty == maker.remaining {
                    level.remove(i);
                    self.index.remove(&maker.id);
                } else {
                    level[i].remaining -= qty;
                }
                if taker.remaining == 0 {
                    break;
                }
            }
            let book = match taker.side {
                Side::Buy => &mut self.asks,
                Side::Sell => &mut self.bids,
            };
            if !level.is_empty() {
                book.insert(price, level);
            }
            if taker.killed || taker.remaining == 0 {
                return;
            }
        }
    }

    fn rest(&mut self, order: RefOrder) {
        let book = match order.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        book.entry(order.price).or_default().push_back(order);
        self.index
            .insert(order.id, Location::Resting(order.side, order.price));
    }

    fn take_resting(&mut self, side: Side, price: i64, id: u64) -> RefOrder {
        let book = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let level = book.get_mut(&price).expect("indexed order has a level");
        let at = level
            .iter()
            .position(|o| o.id == id)
            .expect("indexed order is in its level");
        let order = level.remove(at).expect("position is in range");
        if level.is_empty() {
            book.remove(&price);
        }
        order
    }

    fn settle_stops<S: EventSink>(&mut self, sink: &mut S) {
        loop {
            let mut fired = None;
            'categories: for by in [TriggerSource::Mark, TriggerSource::Last] {
                for side in [Side::Buy, Side::Sell] {
                    let reference = match by {
                        TriggerSource::Mark => self.mark,
                        TriggerSource::Last => self.last,
                    };
                    let candidates = self
                        .stops
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| o.trigger_by == by && o.side == side);
                    let top = match side {
                        Side::Buy => candidates.min_by_key(|(_, o)| (o.trigger_price, o.seq)),
                        Side::Sell => candidates.min_by_key(|(_, o)| (-o.trigger_price, o.seq)),
                    };
                    let (Some((at, top)), Some(reference)) = (top, reference) else {
                        continue;
                    };
                    let due = match side {
                        Side::Buy => reference >= top.trigger_price,
                        Side::Sell => reference <= top.trigger_price,
                    };
                    if due {
                        fired = Some(at);
                        break 'categories;
                    }
                }
            }
            let Some(at) = fired else { return };
            let order = self.stops.remove(at);
            self.index.remove(&order.id);
            sink.event(BookEvent::Triggered {
                id: OrderId(order.id),
            });
            let is_market = order.kind == OrderKind::StopMarket;
            if order.tif == TimeInForce::Fok {
                let limit = self.limit_price(order.side, is_market, order.price);
                if !self.fillable(order.side, order.account, order.stp, order.remaining, limit) {
                    sink.event(BookEvent::Cancelled {
                        id: OrderId(order.id),
                        remaining: Qty(order.remaining),
                        reason: CancelReason::FokUnfillable,
                    });
                    continue;
                }
            }
            self.execute(order).finish(self, sink);
        }
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
        if price.is_some_and(|p| p.0 < 1 || p.0 > MAX_PRICE) {
            return Err(RejectReason::InvalidPrice);
        }
        let location = *self.index.get(&id.0).ok_or(RejectReason::UnknownOrder)?;
        match location {
            Location::Stop => {
                let at = self
                    .stops
                    .iter()
                    .position(|o| o.id == id.0)
                    .ok_or(RejectReason::UnknownOrder)?;
                let order = &mut self.stops[at];
                if price.is_some() && order.kind == OrderKind::StopMarket {
                    return Err(RejectReason::InvalidOrder);
                }
                order.price = price.map_or(order.price, |p| p.0);
                order.remaining = qty.map_or(order.remaining, |q| q.0);
                sink.event(BookEvent::Modified {
                    id,
                    price: Price(order.price),
                    remaining: Qty(order.remaining),
                });
                Ok(())
            }
            Location::Resting(side, old_price) => {
                let book = match side {
                    Side::Buy => &mut self.bids,
                    Side::Sell => &mut self.asks,
                };
                let level = book.get_mut(&old_price).ok_or(RejectReason::UnknownOrder)?;
                let at = level
                    .iter()
                    .position(|o| o.id == id.0)
                    .ok_or(RejectReason::UnknownOrder)?;
                let current = level[at];
                let new_price = price.map_or(old_price, |p| p.0);
                let new_qty = qty.map_or(current.remaining, |q| q.0);
                if new_price == old_price {
                    if new_qty <= current.remaining {
                        level[at].remaining = new_qty;
                    } else {
                        let mut order = level.remove(at).unwrap_or(current);
                        order.remaining = new_qty;
                        level.push_back(order);
                    }
                    sink.event(BookEvent::Modified {
                        id,
                        price: Price(new_price),
                        remaining: Qty(new_qty),
                    });
                    return Ok(());
                }
                if current.post_only && self.crosses(side, new_price) {
                    return Err(RejectReason::WouldCross);
                }
                self.index.remove(&id.0);
                self.take_resting(side, old_price, id.0);
                sink.event(BookEvent::Modified {
                    id,
                    price: Price(new_price),
                    remaining: Qty(new_qty),
                });
                let order = RefOrder {
                    price: new_price,
                    remaining: new_qty,
                    ..current
                };
                self.execute(order).finish(self, sink);
                Ok(())
            }
        }
    }

    fn emit_bbo<S: EventSink>(&mut self, sink: &mut S) {
        let bbo = self.bbo();
        if bbo != self.bbo {
            self.bbo = bbo;
            sink.event(BookEvent::Bbo(bbo));
        }
    }
}

/// The result of [`ReferenceBook::execute`]: the events of matching, then what happens to the
/// remainder.
struct Outcome {
    events: Vec<BookEvent>,
    order: RefOrder,
    killed: bool,
    is_market: bool,
}

impl Outcome {
    /// An order with nothing to execute (a new stop).
    fn nothing() -> Outcome {
        Outcome {
            events: Vec::new(),
            order: RefOrder {
                id: 0,
                account: 0,
                side: Side::Buy,
                kind: OrderKind::Limit,
                price: 0,
                remaining: 0,
                tif: TimeInForce::Gtc,
                stp: SelfTradePrevention::None,
                post_only: false,
                liquidation: false,
                trigger_price: 0,
                trigger_by: TriggerSource::Mark,
                seq: 0,
            },
            killed: false,
            is_market: false,
        }
    }

    fn finish<S: EventSink>(self, book: &mut ReferenceBook, sink: &mut S) {
        for event in self.events {
            sink.event(event);
        }
        let order = self.order;
        if self.killed || order.remaining == 0 {
            return;
        }
        let reason = if self.is_market {
            CancelReason::MarketUnfilled
        } else if order.tif != TimeInForce::Gtc {
            CancelReason::IocRemainder
        } else {
            book.rest(order);
            return;
        };
        sink.event(BookEvent::Cancelled {
            id: OrderId(order.id),
            remaining: Qty(order.remaining),
            reason,
        });
    }
}

impl Matcher for ReferenceBook {
    fn apply<S: EventSink>(&mut self, command: &Command, sink: &mut S) {
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

    fn depth(&self, side: Side, out: &mut [DepthLevel]) -> usize {
        ReferenceBook::depth(self, side, out)
    }

    fn bbo(&self) -> Bbo {
        ReferenceBook::bbo(self)
    }

    fn live_orders(&self) -> usize {
        self.len()
    }
}
