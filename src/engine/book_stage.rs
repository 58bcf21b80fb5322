//! The book stage's state machine: one [`Book`] per symbol it owns; turns the books' events
//! into execution reports (host), fills and order endings (risk) and market data (mark).

use crate::book::{Bbo, Book, BookEvent, EventSink};
use crate::engine::msg::{
    BookOrder, BookPriority, BookReport, EndReason, Event, Hint, MarkPublished, MarketData, NO_HINT,
};
use crate::mark::BookTop;
use crate::types::{Money, OrderId, Qty, SymbolId};

/// Where the book stage's outputs go.
pub(crate) trait BookOut {
    /// An execution report for the host: the event `make` builds, built where it is queued
    /// (one write, no copy of an event just built; see `outbox.rs`).
    fn event(&mut self, make: impl FnOnce() -> Event);
    /// A fill or order ending for the risk stage (built where it is queued, as `event`).
    fn report(&mut self, make: impl FnOnce() -> BookReport);
    /// Market data for the mark stage (built where it is queued, as `event`).
    fn data(&mut self, make: impl FnOnce() -> MarketData);
    /// The first event of a host order command (latency: order in → report out).
    fn first_report(&mut self);
    /// A liquidation order was accepted (latency: mark published → liquidation accepted).
    fn liquidation_accepted(&mut self);
}

/// What a book stage counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookCounters {
    /// Commands applied (orders, cancels, modifies, liquidation orders and cancels).
    pub commands: u64,
    /// Trades.
    pub trades: u64,
    /// Liquidation orders submitted.
    pub liquidation_orders: u64,
    /// Mark prices applied.
    pub marks: u64,
    /// Messages for a symbol this stage does not own (should stay 0).
    pub misrouted: u64,
}

pub(crate) struct BookSlot {
    pub(crate) book: Book,
    impact_notional: Option<Money>,
}

impl BookSlot {
    /// The top of the book for the mark stage: the best bid and ask of `bbo`, and the impact
    /// prices when the market has an impact notional (they walk the book).
    fn top(&self, bbo: Bbo) -> BookTop {
        let mut top = BookTop {
            best_bid: (bbo.bid_qty.0 > 0).then_some(bbo.bid),
            best_ask: (bbo.ask_qty.0 > 0).then_some(bbo.ask),
            ..BookTop::default()
        };
        if let Some(notional) = self.impact_notional {
            top.impact_bid = self.book.impact_bid(notional);
            top.impact_ask = self.book.impact_ask(notional);
        }
        top
    }
}

/// The kind of command whose events are being translated (with the risk stage's registry
/// hint of the order it names).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Submit(OrderId, Qty, Hint),
    Liquidation(OrderId, Qty),
    /// A modify; `report` when the risk stage needs the `Modified` report (see
    /// [`BookStage::on_order`]).
    Modify(OrderId, Hint, bool),
    Cancel(OrderId, Hint),
    Mark,
}

impl Origin {
    /// The registry hint for a report about order `id`: the command's own hint when `id` is
    /// the order the command named.
    #[inline]
    fn hint(self, id: OrderId) -> Hint {
        match self {
            Origin::Submit(oid, _, hint)
            | Origin::Modify(oid, hint, _)
            | Origin::Cancel(oid, hint)
                if oid == id =>
            {
                hint
            }
            _ => NO_HINT,
        }
    }
}

/// The book stage (see the [engine docs](crate::engine)).
///
/// The books write their events straight into a [`Translate`] sink, which turns each into
/// its report, market data and host event as it happens (no per-command event buffer). The
/// one exception is `Bbo`, always a command's last event: its market data needs the book's
/// impact prices, so it is sent once the book has returned.
pub(crate) struct BookStage {
    pub(crate) books: Vec<Option<BookSlot>>,
    pub(crate) counters: BookCounters,
}

/// A book's event sink that translates as events come: execution reports to the host, fills
/// and endings to the risk stage, trades to the mark stage.
struct Translate<'a, O> {
    out: &'a mut O,
    symbol: SymbolId,
    origin: Origin,
    first: bool,
    trades: &'a mut u64,
    /// The command's `Bbo` event, held until the book returns (see [`BookStage`]).
    bbo: Option<Bbo>,
}

impl<O: BookOut> EventSink for Translate<'_, O> {
    #[inline(always)]
    fn event(&mut self, event: BookEvent) {
        let (out, origin, symbol) = (&mut *self.out, self.origin, self.symbol);
        match event {
            BookEvent::Accepted { id } => {
                if matches!(origin, Origin::Liquidation(lid, _) if lid == id) {
                    out.liquidation_accepted();
                }
            }
            BookEvent::Rejected { id, .. } => match origin {
                Origin::Submit(oid, qty, _) | Origin::Liquidation(oid, qty) if oid == id => {
                    out.report(move || BookReport::Ended {
                        id,
                        remaining: qty,
                        reason: EndReason::Rejected,
                        hint: origin.hint(id),
                    });
                }
                Origin::Modify(..) => out.report(move || BookReport::Ended {
                    id,
                    remaining: Qty(0),
                    reason: EndReason::ModifyRejected,
                    hint: origin.hint(id),
                }),
                _ => {}
            },
            BookEvent::Trade(trade) => {
                *self.trades += 1;
                out.report(move || BookReport::Trade {
                    symbol,
                    trade,
                    taker_hint: origin.hint(trade.taker),
                });
                out.data(move || MarketData::Trade {
                    symbol,
                    price: trade.price,
                    qty: trade.qty,
                });
            }
            BookEvent::Cancelled {
                id,
                remaining,
                reason,
            } => out.report(move || BookReport::Ended {
                id,
                remaining,
                reason: EndReason::Cancelled(reason),
                hint: origin.hint(id),
            }),
            BookEvent::Modified { id, remaining, .. } => {
                if !matches!(origin, Origin::Modify(_, _, false)) {
                    out.report(move || BookReport::Modified {
                        id,
                        remaining,
                        hint: origin.hint(id),
                    });
                }
            }
            BookEvent::Triggered { .. } => {}
            BookEvent::Bbo(bbo) => {
                // The command's last event: sent by `Translate::finish`.
                self.bbo = Some(bbo);
                return;
            }
        }
        self.host_event(event);
    }
}

impl<'a, O: BookOut> Translate<'a, O> {
    #[inline(always)]
    fn new(out: &'a mut O, symbol: SymbolId, origin: Origin, trades: &'a mut u64) -> Self {
        Translate {
            out,
            symbol,
            origin,
            first: true,
            trades,
            bbo: None,
        }
    }

    /// Ends the command: sends its `Bbo` (its last event, held until the book returned) as
    /// market data with the top of `slot`'s book, then as the host event.
    #[inline(always)]
    fn finish(mut self, slot: &BookSlot) {
        if let Some(bbo) = self.bbo {
            let (top, symbol) = (slot.top(bbo), self.symbol);
            self.out.data(move || MarketData::Top { symbol, top });
            self.host_event(BookEvent::Bbo(bbo));
        }
    }

    #[inline(always)]
    fn host_event(&mut self, event: BookEvent) {
        let symbol = self.symbol;
        self.out.event(move || Event::Book { symbol, event });
        if self.first && matches!(self.origin, Origin::Submit(..)) {
            self.out.first_report();
        }
        self.first = false;
    }
}

impl BookStage {
    pub(crate) fn new() -> BookStage {
        BookStage {
            books: Vec::new(),
            counters: BookCounters::default(),
        }
    }

    pub(crate) fn add(&mut self, book: Book, impact_notional: Option<Money>) {
        let id = book.spec().id.0 as usize;
        if self.books.len() <= id {
            self.books.resize_with(id + 1, || None);
        }
        self.books[id] = Some(BookSlot {
            book,
            impact_notional,
        });
    }

    pub(crate) fn book(&self, symbol: SymbolId) -> Option<&Book> {
        self.books
            .get(symbol.0 as usize)
            .and_then(|slot| slot.as_ref().map(|s| &s.book))
    }

    /// A user order-flow message.
    #[inline(always)]
    pub(crate) fn on_order<O: BookOut>(&mut self, msg: &BookOrder, out: &mut O) {
        self.counters.commands += 1;
        let (symbol, origin) = match *msg {
            BookOrder::Submit(symbol, order, hint) => {
                (symbol, Origin::Submit(order.id, order.qty, hint))
            }
            BookOrder::Cancel(symbol, id, hint) => (symbol, Origin::Cancel(id, hint)),
            // A price-only modify tells the risk stage nothing it does not know: the order's
            // remaining quantity changes by fills only (reported as trades), and no growth is
            // pending (growth needs a new quantity). Its `Modified` report would be a no-op
            // there, so it is not sent (82 % of the exchange-core workload is such moves).
            BookOrder::Modify {
                symbol,
                id,
                hint,
                qty,
                ..
            } => (symbol, Origin::Modify(id, hint, qty.is_some())),
        };
        let Some(Some(slot)) = self.books.get_mut(symbol.0 as usize) else {
            self.counters.misrouted += 1;
            return;
        };
        let mut sink = Translate::new(out, symbol, origin, &mut self.counters.trades);
        match *msg {
            BookOrder::Submit(_, order, _) => slot.book.submit(&order, &mut sink),
            BookOrder::Cancel(_, id, _) => slot.book.cancel(id, &mut sink),
            BookOrder::Modify { id, price, qty, .. } => {
                slot.book.modify(id, price, qty, &mut sink);
            }
        }
        sink.finish(slot);
    }

    /// Look-ahead for a user order two messages from now (see `drain!`): a cancel or modify
    /// starts loading the order it names, a limit submit the level it would join.
    #[inline(always)]
    pub(crate) fn prefetch(&self, msg: &BookOrder) {
        let book = |symbol: SymbolId| match self.books.get(symbol.0 as usize) {
            Some(Some(slot)) => Some(&slot.book),
            _ => None,
        };
        match *msg {
            BookOrder::Submit(symbol, ref order, _) => {
                if let Some(book) = book(symbol) {
                    book.prefetch_submit(order);
                }
            }
            BookOrder::Cancel(symbol, id, _) | BookOrder::Modify { symbol, id, .. } => {
                if let Some(book) = book(symbol) {
                    book.prefetch_order(id);
                }
            }
        }
    }

    /// A liquidation-flow message (served first).
    pub(crate) fn on_priority<O: BookOut>(&mut self, msg: &BookPriority, out: &mut O) {
        self.counters.commands += 1;
        let (symbol, origin) = match *msg {
            BookPriority::Cancel(symbol, id, hint) => (symbol, Origin::Cancel(id, hint)),
            BookPriority::Liquidation(order) => {
                (order.symbol, Origin::Liquidation(order.id, order.qty))
            }
        };
        let Some(Some(slot)) = self.books.get_mut(symbol.0 as usize) else {
            self.counters.misrouted += 1;
            if let Origin::Liquidation(id, qty) = origin {
                // Nothing of it can fill here: hand it back to ADL rather than lose it.
                out.report(move || BookReport::Ended {
                    id,
                    remaining: qty,
                    reason: EndReason::Rejected,
                    hint: NO_HINT,
                });
            }
            return;
        };
        let mut sink = Translate::new(out, symbol, origin, &mut self.counters.trades);
        match *msg {
            BookPriority::Cancel(_, id, _) => {
                slot.book
                    .cancel_with_reason(id, crate::book::CancelReason::Liquidation, &mut sink)
            }
            BookPriority::Liquidation(order) => {
                self.counters.liquidation_orders += 1;
                slot.book.submit_liquidation(&order.to_command(), &mut sink);
            }
        }
        sink.finish(slot);
    }

    /// A new mark price: stop triggers and the market-order band.
    pub(crate) fn on_mark<O: BookOut>(&mut self, mark: &MarkPublished, out: &mut O) {
        self.counters.marks += 1;
        let Some(Some(slot)) = self.books.get_mut(mark.symbol.0 as usize) else {
            self.counters.misrouted += 1;
            return;
        };
        let mut sink = Translate::new(out, mark.symbol, Origin::Mark, &mut self.counters.trades);
        slot.book.on_mark_price(mark.price, &mut sink);
        sink.finish(slot);
    }
}
