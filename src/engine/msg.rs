//! The messages the stages exchange, and the host-facing command, input and event types.

use crate::book::{BookEvent, CancelReason, OrderCommand, Trade};
use crate::mark::BookTop;
use crate::risk::{Leverage, LiquidationEvent, LiquidationOrder, MarginMode};
use crate::types::{AccountId, Money, OrderId, Price, Qty, SymbolId};

/// A command from the host to the risk stage (which forwards orders to the book stages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// A new order for `symbol`. The risk stage checks it (margin, reduce-only, position limits)
    /// before the book sees it. Ids must be unique among live orders and below
    /// [`crate::risk::LIQUIDATION_ID_BASE`].
    Order {
        /// The market.
        symbol: SymbolId,
        /// The order in ticks and lots.
        order: OrderCommand,
    },
    /// Cancels a live order (resting or untriggered stop).
    Cancel {
        /// The order.
        id: OrderId,
    },
    /// Changes a live order's price and/or remaining quantity.
    Modify {
        /// The order.
        id: OrderId,
        /// New price, if it changes.
        price: Option<Price>,
        /// New remaining quantity, if it changes.
        qty: Option<Qty>,
    },
    /// Credits collateral (creates the account).
    Deposit {
        /// The account.
        account: AccountId,
        /// Amount (> 0).
        amount: Money,
    },
    /// Debits collateral if free margin allows.
    Withdraw {
        /// The account.
        account: AccountId,
        /// Amount (> 0).
        amount: Money,
    },
    /// Credits the insurance fund.
    Insurance {
        /// Amount (> 0).
        amount: Money,
    },
    /// Sets an account's leverage and margin mode for a symbol.
    Leverage {
        /// The account.
        account: AccountId,
        /// The market.
        symbol: SymbolId,
        /// Leverage.
        leverage: Leverage,
        /// Cross or isolated.
        mode: MarginMode,
    },
    /// Adds to (or removes from) an isolated position's margin.
    Margin {
        /// The account.
        account: AccountId,
        /// The market.
        symbol: SymbolId,
        /// Signed amount.
        amount: Money,
    },
}

/// A market input from the host to the mark stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketInput {
    /// An external index price tick.
    Index {
        /// The market.
        symbol: SymbolId,
        /// Index price, ticks.
        price: Price,
    },
    /// Forces the mark (bypasses smoothing): tests and incident replay.
    ForceMark {
        /// The market.
        symbol: SymbolId,
        /// Mark price, ticks.
        price: Price,
    },
    /// Advances every symbol's logical clock to the input's timestamp.
    Clock,
}

/// What a refused command named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// An order command (new, cancel, modify).
    Order(OrderId),
    /// An account command (deposit, withdraw, leverage, margin).
    Account(AccountId),
    /// A market input (index, forced mark) for this symbol.
    Symbol(SymbolId),
    /// An insurance deposit.
    Insurance,
}

/// An event for the host. Each stage's events come out in the order that stage produced them;
/// in [`crate::engine::Layout::Single`] all events come out in processing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// An execution report from a book stage (accepted, rejected, trade, cancelled,
    /// triggered, modified, best bid/offer changed).
    Book {
        /// The market.
        symbol: SymbolId,
        /// The book's event.
        event: BookEvent,
    },
    /// The risk stage or the mark stage refused a command or input.
    Rejected {
        /// What the command named.
        subject: Subject,
        /// A REPLAY.md reason word (`insufficient_margin`, `unknown_order`, ...).
        reason: &'static str,
    },
    /// The mark price of a symbol changed.
    Mark {
        /// The market.
        symbol: SymbolId,
        /// The new mark, ticks.
        price: Price,
        /// Logical time (ms) of the input that moved it.
        ts: u64,
    },
    /// A liquidation, ADL or insurance-fund event from the risk stage.
    Risk(LiquidationEvent),
}

// Events travel through rings: keep them small.
const _: () = assert!(size_of::<Event>() <= 80);

/// Times every message carries between stages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Logical time, ms (the mark stage's clock).
    pub ts: u64,
    /// Raw TSC when the causing input entered the engine (0 when latency is off).
    pub origin: u64,
    /// Raw TSC when this message was pushed on its ring (0 when latency is off).
    pub sent: u64,
}

/// What travels on every ring between two stages (and from the host).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Flow<T> {
    /// A message.
    Data(Stamp, T),
    /// Termination probe of wave `wave`; `busy` when the sender (or a stage before it in this
    /// wave) did work since the previous wave.
    Marker { wave: u32, busy: bool },
    /// The last message on this ring.
    Stop,
}

/// The risk stage's registry slot of an order, handed to the book stage with an order command
/// and back with the reports about that order, so the risk stage finds the order without
/// hashing its id. Only a hint: the risk stage checks that the slot still holds the id and
/// looks the id up otherwise. [`NO_HINT`]: none (liquidation orders, stop triggers).
pub(crate) type Hint = u32;

/// No registry slot known.
pub(crate) const NO_HINT: Hint = u32::MAX;

/// risk → book: user order flow (the orders ring).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BookOrder {
    Submit(SymbolId, OrderCommand, Hint),
    Cancel(SymbolId, OrderId, Hint),
    Modify {
        symbol: SymbolId,
        id: OrderId,
        price: Option<Price>,
        qty: Option<Qty>,
        hint: Hint,
    },
}

/// risk → book: the priority ring, served before user orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BookPriority {
    /// Cancel one of a liquidated account's orders (reason `liquidation`).
    Cancel(SymbolId, OrderId, Hint),
    /// A liquidation order.
    Liquidation(LiquidationOrder),
}

/// book → risk: trades and how orders ended. The hints name the registry slot of the order
/// the book command was about, when the report is about that order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum BookReport {
    /// A trade: both accounts' sides in one message (the risk stage applies the maker's fill,
    /// then the taker's, as [`crate::risk::Fill::both_sides`] orders them).
    Trade {
        symbol: SymbolId,
        trade: Trade,
        taker_hint: Hint,
    },
    /// An order ended (or was refused) with `remaining` lots that will not fill.
    Ended {
        id: OrderId,
        remaining: Qty,
        reason: EndReason,
        hint: Hint,
    },
    /// A modify was applied: the order's remaining quantity now.
    Modified {
        id: OrderId,
        remaining: Qty,
        hint: Hint,
    },
}

/// Why an order ended, as far as the risk stage cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndReason {
    /// The book refused a new order (nothing of it rests).
    Rejected,
    /// The book refused a modify (the order is unchanged).
    ModifyRejected,
    /// Cancelled, for this reason.
    Cancelled(CancelReason),
}

/// book → mark: market data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarketData {
    Trade {
        symbol: SymbolId,
        price: Price,
        qty: Qty,
    },
    Top {
        symbol: SymbolId,
        top: BookTop,
    },
}

/// mark → risk and mark → book: a new mark price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MarkPublished {
    pub symbol: SymbolId,
    pub price: Price,
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// What each message costs to copy between stages. A trade travels as one report (both
    /// fills: 88 bytes on the link instead of two 64-byte fill reports).
    #[test]
    fn messages_stay_small() {
        assert_eq!(size_of::<Stamp>(), 24);
        assert!(size_of::<Flow<Command>>() <= 96);
        assert!(size_of::<Flow<BookOrder>>() <= 88);
        assert!(size_of::<Flow<BookPriority>>() <= 64);
        assert!(size_of::<Flow<BookReport>>() <= 88);
        assert!(size_of::<Flow<MarketData>>() <= 96);
        assert!(size_of::<Flow<MarkPublished>>() <= 48);
        assert!(size_of::<Event>() <= 64);
    }
}
