//! What goes into a book (order commands) and what comes out (events), plus the sink the events
//! are written to. Every type here is `Copy`; nothing allocates.

use crate::types::{AccountId, OrderId, Price, Qty, Side};

/// The type of an order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// A limit order: trades at its price or better, may rest (per its time in force).
    #[default]
    Limit,
    /// A market order: trades against the book no further than the protection band around the
    /// reference (mark) price; what cannot fill there is cancelled (`market_unfilled`).
    Market,
    /// Held in the trigger index until its trigger fires, then enters as a market order.
    StopMarket,
    /// Held in the trigger index until its trigger fires, then enters as a limit order.
    StopLimit,
}

/// How long an order may live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TimeInForce {
    /// Good till cancelled: the remainder rests.
    #[default]
    Gtc,
    /// Immediate or cancel: the remainder is cancelled (`ioc_remainder`).
    Ioc,
    /// Fill or kill: fills completely at once or is refused with no trade (`fok_unfillable`).
    Fok,
}

/// Self-trade prevention: what happens when a taker reaches a resting order of its own account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SelfTradePrevention {
    /// Cancel the taker's remaining quantity; matching stops (the default).
    #[default]
    CancelTaker,
    /// Cancel the resting order and keep matching.
    CancelMaker,
    /// Cancel both.
    CancelBoth,
    /// Let them trade.
    None,
}

/// Which reference price fires a stop order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TriggerSource {
    /// The mark price fed by [`super::Book::on_mark_price`] (the default).
    #[default]
    Mark,
    /// The book's own last trade price.
    Last,
}

/// A new order, as the risk stage (or a test) hands it to the book.
///
/// Fields that a type does not use are ignored: `price` for market and stop-market orders,
/// `trigger_price`/`trigger_by` for limit and market orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderCommand {
    /// Client-chosen id, unique among the book's live orders.
    pub id: OrderId,
    /// The account that owns it (self-trade prevention compares these).
    pub account: AccountId,
    /// Buy or sell.
    pub side: Side,
    /// Limit, market, stop-market or stop-limit.
    pub kind: OrderKind,
    /// Limit price in ticks (limit and stop-limit).
    pub price: Price,
    /// Quantity in lots.
    pub qty: Qty,
    /// Time in force.
    pub tif: TimeInForce,
    /// Refuse (`would_cross`) instead of taking liquidity. Limit GTC only.
    pub post_only: bool,
    /// Carried on the order and reported by lookups; the risk stage sizes it.
    pub reduce_only: bool,
    /// Self-trade prevention mode.
    pub stp: SelfTradePrevention,
    /// Stop orders: the reference price that fires them. A buy stop fires when the reference
    /// rises to or above it, a sell stop when it falls to or below it.
    pub trigger_price: Price,
    /// Stop orders: which reference price is watched.
    pub trigger_by: TriggerSource,
}

impl Default for OrderCommand {
    /// A zeroed GTC buy limit order (invalid until id, price and quantity are set).
    fn default() -> OrderCommand {
        OrderCommand {
            id: OrderId(0),
            account: AccountId(0),
            side: Side::Buy,
            kind: OrderKind::Limit,
            price: Price(0),
            qty: Qty(0),
            tif: TimeInForce::Gtc,
            post_only: false,
            reduce_only: false,
            stp: SelfTradePrevention::CancelTaker,
            trigger_price: Price(0),
            trigger_by: TriggerSource::Mark,
        }
    }
}

impl OrderCommand {
    /// A GTC limit order with default flags (cancel-taker STP).
    #[must_use]
    pub fn limit(id: u64, account: u64, side: Side, price: i64, qty: i64) -> OrderCommand {
        OrderCommand {
            id: OrderId(id),
            account: AccountId(account),
            side,
            kind: OrderKind::Limit,
            price: Price(price),
            qty: Qty(qty),
            ..OrderCommand::default()
        }
    }

    /// A market order with default flags.
    #[must_use]
    pub fn market(id: u64, account: u64, side: Side, qty: i64) -> OrderCommand {
        OrderCommand {
            kind: OrderKind::Market,
            ..OrderCommand::limit(id, account, side, 0, qty)
        }
    }

    /// A stop-market order fired by `trigger_by` reaching `trigger_price`.
    #[must_use]
    pub fn stop_market(
        id: u64,
        account: u64,
        side: Side,
        qty: i64,
        trigger_price: i64,
        trigger_by: TriggerSource,
    ) -> OrderCommand {
        OrderCommand {
            kind: OrderKind::StopMarket,
            trigger_price: Price(trigger_price),
            trigger_by,
            ..OrderCommand::limit(id, account, side, 0, qty)
        }
    }

    /// A stop-limit order fired by `trigger_by` reaching `trigger_price`, entering at `price`.
    #[must_use]
    pub fn stop_limit(
        id: u64,
        account: u64,
        side: Side,
        price: i64,
        qty: i64,
        trigger_price: i64,
        trigger_by: TriggerSource,
    ) -> OrderCommand {
        OrderCommand {
            kind: OrderKind::StopLimit,
            trigger_price: Price(trigger_price),
            trigger_by,
            ..OrderCommand::limit(id, account, side, price, qty)
        }
    }

    /// The same order with another time in force.
    #[must_use]
    pub const fn with_tif(mut self, tif: TimeInForce) -> OrderCommand {
        self.tif = tif;
        self
    }

    /// The same order with another self-trade prevention mode.
    #[must_use]
    pub const fn with_stp(mut self, stp: SelfTradePrevention) -> OrderCommand {
        self.stp = stp;
        self
    }

    /// The same order, post-only.
    #[must_use]
    pub const fn post_only(mut self) -> OrderCommand {
        self.post_only = true;
        self
    }

    /// The same order, reduce-only.
    #[must_use]
    pub const fn reduce_only(mut self) -> OrderCommand {
        self.reduce_only = true;
        self
    }
}

/// Why a command was refused. Each maps to a REPLAY.md reason word ([`RejectReason::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Quantity below 1 lot, below the symbol's minimum, or above its maximum.
    InvalidQty,
    /// Price or trigger price not in `1..=MAX_PRICE` ticks.
    InvalidPrice,
    /// A combination the book does not support (post-only on a non-GTC or non-limit order, a
    /// modify with nothing to change, a price on a stop-market modify).
    InvalidOrder,
    /// Another live order has this id.
    DuplicateId,
    /// No live order has this id.
    UnknownOrder,
    /// The order arena is full: the order would have to rest and there is no slot for it.
    BookFull,
    /// A market order with no mark price to put its protection band around.
    NoReferencePrice,
    /// Post-only order (or modify of one) that would take liquidity.
    WouldCross,
    /// Fill-or-kill order that the book cannot fill completely within its limit.
    FokUnfillable,
}

impl RejectReason {
    /// The snake_case word REPLAY.md uses.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::InvalidQty => "invalid_qty",
            RejectReason::InvalidPrice => "invalid_price",
            RejectReason::InvalidOrder => "invalid_order",
            RejectReason::DuplicateId => "duplicate_id",
            RejectReason::UnknownOrder => "unknown_order",
            RejectReason::BookFull => "book_full",
            RejectReason::NoReferencePrice => "no_reference_price",
            RejectReason::WouldCross => "would_cross",
            RejectReason::FokUnfillable => "fok_unfillable",
        }
    }
}

/// Why a live order ended without filling completely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// Cancelled by its owner.
    User,
    /// The unfilled remainder of an IOC (or triggered IOC stop-limit).
    IocRemainder,
    /// Self-trade prevention.
    Stp,
    /// Cancelled by the risk stage as part of a liquidation.
    Liquidation,
    /// A market order (or triggered stop-market) that could not fill within its band.
    MarketUnfilled,
    /// A triggered fill-or-kill stop-limit that could not fill completely.
    FokUnfillable,
}

impl CancelReason {
    /// The snake_case word REPLAY.md uses.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            CancelReason::User => "user",
            CancelReason::IocRemainder => "ioc_remainder",
            CancelReason::Stp => "stp",
            CancelReason::Liquidation => "liquidation",
            CancelReason::MarketUnfilled => "market_unfilled",
            CancelReason::FokUnfillable => "fok_unfillable",
        }
    }
}

/// One execution between a resting order (maker) and an incoming one (taker).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Trade {
    /// The resting order.
    pub maker: OrderId,
    /// The incoming order.
    pub taker: OrderId,
    /// The maker's account.
    pub maker_account: AccountId,
    /// The taker's account.
    pub taker_account: AccountId,
    /// Always the maker's price.
    pub price: Price,
    /// Lots traded (≥ 1).
    pub qty: Qty,
    /// The taker's side.
    pub taker_side: Side,
    /// Either side is a liquidation order.
    pub liquidation: bool,
}

/// Best bid and offer. An empty side has price 0 and quantity 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bbo {
    /// Best bid price.
    pub bid: Price,
    /// Total quantity at the best bid.
    pub bid_qty: Qty,
    /// Best ask price.
    pub ask: Price,
    /// Total quantity at the best ask.
    pub ask_qty: Qty,
}

/// Everything a book reports, in the order it happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookEvent {
    /// A new order passed validation (before any of its trades).
    Accepted {
        /// The order.
        id: OrderId,
    },
    /// A command was refused; the book did not change.
    Rejected {
        /// The order the command named.
        id: OrderId,
        /// Why.
        reason: RejectReason,
    },
    /// A trade.
    Trade(Trade),
    /// A live order ended with `remaining` lots unfilled.
    Cancelled {
        /// The order.
        id: OrderId,
        /// Lots that did not fill.
        remaining: Qty,
        /// Why.
        reason: CancelReason,
    },
    /// A stop order fired and enters the book as a taker.
    Triggered {
        /// The order.
        id: OrderId,
    },
    /// A modify was applied (trades it causes follow).
    Modified {
        /// The order.
        id: OrderId,
        /// Its price now.
        price: Price,
        /// Its remaining quantity now.
        remaining: Qty,
    },
    /// The best bid or offer changed (emitted at the end of the command that changed it).
    Bbo(Bbo),
}

// Events are copied through rings: keep them within one cache line.
const _: () = assert!(size_of::<BookEvent>() <= 64);

/// Where a book writes its events. Implementations must not allocate on the hot path; the
/// `Vec` implementation allocates only while growing, so a reused (cleared) vector stops
/// allocating once it has seen the largest command.
pub trait EventSink {
    /// Receives one event.
    fn event(&mut self, event: BookEvent);
}

impl EventSink for Vec<BookEvent> {
    #[inline]
    fn event(&mut self, event: BookEvent) {
        self.push(event);
    }
}

/// A sink that only counts events (for benchmarks that do not look at them).
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingSink {
    /// Events received.
    pub events: u64,
    /// Trades among them.
    pub trades: u64,
}

impl EventSink for CountingSink {
    #[inline]
    fn event(&mut self, event: BookEvent) {
        self.events += 1;
        if matches!(event, BookEvent::Trade(_)) {
            self.trades += 1;
        }
    }
}

/// One command of any kind, for command streams (workloads, property tests, replays).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// [`super::Book::submit`].
    Submit(OrderCommand),
    /// [`super::Book::submit_liquidation`].
    Liquidation(OrderCommand),
    /// [`super::Book::cancel`].
    Cancel(OrderId),
    /// [`super::Book::modify`].
    Modify {
        /// The order.
        id: OrderId,
        /// New price, if it changes.
        price: Option<Price>,
        /// New remaining quantity, if it changes.
        qty: Option<Qty>,
    },
    /// [`super::Book::on_mark_price`].
    Mark(Price),
}

/// A resting price level in market-data output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DepthLevel {
    /// Price in ticks.
    pub price: Price,
    /// Total resting quantity in lots.
    pub qty: Qty,
}

/// Where a live order is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// Resting in the book.
    Resting,
    /// A stop order waiting for its trigger.
    Untriggered,
}

/// A live order as [`super::Book::order`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderView {
    /// Id.
    pub id: OrderId,
    /// Account.
    pub account: AccountId,
    /// Side.
    pub side: Side,
    /// Type as submitted.
    pub kind: OrderKind,
    /// Limit price (0 for an untriggered stop-market).
    pub price: Price,
    /// Remaining quantity.
    pub remaining: Qty,
    /// Reduce-only flag as submitted.
    pub reduce_only: bool,
    /// Resting or untriggered.
    pub state: OrderState,
}
