//! The events a replay prints ([`ReplayEvent`], one per REPLAY.md `ev`), their conversion from
//! the book's events, and the writer that prints them as JSON Lines with exact decimals.

use std::io::{self, Write};

use rust_decimal::Decimal;

use super::command::MarginMode;
use super::symbols::{Reject, SymbolTable};
use crate::book::{BookEvent, CancelReason, DepthLevel, Trade};
use crate::types::{AccountId, Money, OrderId, Price, Qty, Side, SymbolId, SymbolSpec};

/// Whom a `rejected` event names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RejectSubject {
    /// An order command (`order`, `cancel`, `modify`): key `id`.
    Order(OrderId),
    /// An account command (`deposit`, `withdraw`, `leverage`, `margin`, `query` of an
    /// account): key `account`.
    Account(AccountId),
    /// A market command (`symbol`, `index`, `mark`, `query` of a book): key `symbol`, the
    /// name as written (it may be undefined).
    Symbol(String),
    /// A command with no subject (`insurance`): no key.
    None,
}

/// A forced liquidation order (`liquidation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiquidationEvent {
    /// The liquidated account.
    pub account: AccountId,
    /// The market.
    pub symbol: SymbolId,
    /// Side of the liquidation order (opposite to the position).
    pub side: Side,
    /// Quantity of the liquidation order (lots, positive).
    pub qty: Qty,
    /// Its limit: the bankruptcy price; `None` (printed `null`) where none exists.
    pub limit_price: Option<Price>,
    /// The liquidation order's id.
    pub id: OrderId,
}

/// An auto-deleveraging fill (`adl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AdlEvent {
    /// The market.
    pub symbol: SymbolId,
    /// The account whose position is being closed.
    pub liquidated_account: AccountId,
    /// The profitable account deleveraged against it.
    pub counterparty_account: AccountId,
    /// Lots closed (positive).
    pub qty: Qty,
    /// The price of the fill.
    pub price: Price,
}

/// One position in an `account` snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PositionSnapshot {
    /// The market.
    pub symbol: SymbolId,
    /// Signed lots: positive long, negative short.
    pub qty: Qty,
    /// Average entry price, exact (it need not lie on a tick; the risk stage decides its
    /// rounding).
    pub entry_price: Decimal,
    /// Cross or isolated.
    pub mode: MarginMode,
    /// The isolated margin; `None` for a cross position (the key is then omitted).
    pub margin: Option<Money>,
    /// Unrealized PnL at the mark.
    pub unrealized_pnl: Money,
    /// Maintenance margin of this position.
    pub maintenance_margin: Money,
    /// Liquidation price (`null` where none exists).
    pub liquidation_price: Option<Price>,
    /// Bankruptcy price (`null` where none exists).
    pub bankruptcy_price: Option<Price>,
}

/// An `account` snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountSnapshot {
    /// The account.
    pub account: AccountId,
    /// Collateral.
    pub collateral: Money,
    /// Collateral plus cross positions' unrealized PnL.
    pub equity: Money,
    /// Maintenance margin of the cross positions.
    pub maintenance_margin: Money,
    /// Initial margin of the cross positions.
    pub initial_margin: Money,
    /// Positions, in the order the engine lists them (by symbol id keeps output stable).
    pub positions: Vec<PositionSnapshot>,
}

/// A `book` snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BookSnapshot {
    /// The market.
    pub symbol: SymbolId,
    /// Bid levels, best (highest) first.
    pub bids: Vec<DepthLevel>,
    /// Ask levels, best (lowest) first.
    pub asks: Vec<DepthLevel>,
}

/// One output event of a replay (one REPLAY.md `ev`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReplayEvent {
    /// `accepted`: a new order passed validation, or a modify was applied.
    Accepted {
        /// The order.
        id: OrderId,
    },
    /// `rejected`: a well-formed command was refused; the run continues.
    Rejected {
        /// Whom the command named.
        subject: RejectSubject,
        /// Why.
        reason: Reject,
    },
    /// `trade`.
    Trade {
        /// The market.
        symbol: SymbolId,
        /// The book's trade.
        trade: Trade,
    },
    /// `cancelled`: a live order ended with `remaining` lots unfilled.
    Cancelled {
        /// The market (for the lot size of `remaining`).
        symbol: SymbolId,
        /// The order.
        id: OrderId,
        /// Lots that did not fill.
        remaining: Qty,
        /// Why.
        reason: CancelReason,
    },
    /// `triggered`: a stop order enters the book.
    Triggered {
        /// The order.
        id: OrderId,
    },
    /// `mark`: the mark price changed.
    Mark {
        /// The market.
        symbol: SymbolId,
        /// The new mark.
        price: Price,
    },
    /// `liquidation`.
    Liquidation(LiquidationEvent),
    /// `adl`.
    Adl(AdlEvent),
    /// `account`.
    Account(AccountSnapshot),
    /// `book`.
    Book(BookSnapshot),
    /// `insurance`.
    Insurance {
        /// The fund's balance.
        balance: Money,
    },
}

impl ReplayEvent {
    /// The replay event for a book event of market `symbol`: `None` for the book's `Bbo`
    /// (REPLAY.md has no such event); `Modified` becomes `accepted` with the order's id (the
    /// acknowledgement of an applied modify; its trades follow as their own events).
    #[must_use]
    pub fn from_book(symbol: SymbolId, event: BookEvent) -> Option<ReplayEvent> {
        Some(match event {
            BookEvent::Accepted { id } | BookEvent::Modified { id, .. } => {
                ReplayEvent::Accepted { id }
            }
            BookEvent::Rejected { id, reason } => ReplayEvent::Rejected {
                subject: RejectSubject::Order(id),
                reason: Reject::Book(reason),
            },
            BookEvent::Trade(trade) => ReplayEvent::Trade { symbol, trade },
            BookEvent::Cancelled {
                id,
                remaining,
                reason,
            } => ReplayEvent::Cancelled {
                symbol,
                id,
                remaining,
                reason,
            },
            BookEvent::Triggered { id } => ReplayEvent::Triggered { id },
            BookEvent::Bbo(_) => return None,
        })
    }

    /// The REPLAY.md `ev` word.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            ReplayEvent::Accepted { .. } => "accepted",
            ReplayEvent::Rejected { .. } => "rejected",
            ReplayEvent::Trade { .. } => "trade",
            ReplayEvent::Cancelled { .. } => "cancelled",
            ReplayEvent::Triggered { .. } => "triggered",
            ReplayEvent::Mark { .. } => "mark",
            ReplayEvent::Liquidation(_) => "liquidation",
            ReplayEvent::Adl(_) => "adl",
            ReplayEvent::Account(_) => "account",
            ReplayEvent::Book(_) => "book",
            ReplayEvent::Insurance { .. } => "insurance",
        }
    }
}

/// Writes one event as one JSON object and a newline (`\n`). Keys come in the documented order
/// (`ev` first), decimals as exact strings without trailing zeros, absent prices as `null`.
/// The line is assembled in memory and written with one `write_all`, so a failure writes
/// nothing.
///
/// # Errors
///
/// The writer's error; [`io::ErrorKind::InvalidInput`] if the event names a symbol id the table
/// does not have, or a price in ticks too large for an exact decimal (beyond 7.9 × 10²⁸).
///
/// # Examples
///
/// ```
/// use liqcore::replay::{ReplayEvent, SymbolTable, write_event};
/// use liqcore::types::OrderId;
/// let mut out = Vec::new();
/// write_event(&mut out, &ReplayEvent::Accepted { id: OrderId(7) }, &SymbolTable::new()).unwrap();
/// assert_eq!(out, b"{\"ev\":\"accepted\",\"id\":7}\n");
/// ```
pub fn write_event(
    out: &mut impl Write,
    event: &ReplayEvent,
    symbols: &SymbolTable,
) -> io::Result<()> {
    let mut line = Line {
        buf: Vec::with_capacity(128),
        symbols,
    };
    line.event(event)?;
    line.buf.push(b'\n');
    out.write_all(&line.buf)
}

/// The exact decimal string of an amount of money (no trailing zeros, no exponent), for every
/// `i128` (no saturation).
#[must_use]
pub fn money_string(money: Money) -> String {
    let unit = Money::UNIT.unsigned_abs();
    let magnitude = money.0.unsigned_abs();
    let whole = magnitude / unit;
    let fraction = magnitude % unit;
    let sign = if money.0 < 0 { "-" } else { "" };
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{fraction:012}");
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// `count` grid steps as an exact decimal string (trailing zeros removed, `-0` printed `0`).
fn steps_string(count: i64, step: Decimal) -> io::Result<String> {
    let value = Decimal::from(count)
        .checked_mul(step)
        .ok_or_else(|| invalid(format!("{count} steps of {step} do not fit a decimal")))?;
    Ok(decimal_string(value))
}

/// A decimal in canonical form: no trailing zeros, no exponent, zero as `0` (never `-0`).
fn decimal_string(value: Decimal) -> String {
    if value.is_zero() {
        return String::from("0");
    }
    value.normalize().to_string()
}

/// One output line being assembled.
struct Line<'a> {
    buf: Vec<u8>,
    symbols: &'a SymbolTable,
}

impl Line<'_> {
    fn raw(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
    }

    /// `,"key":` (no comma before the first key).
    fn key(&mut self, key: &str) {
        if self.buf.last() != Some(&b'{') {
            self.buf.push(b',');
        }
        self.buf.push(b'"');
        self.raw(key);
        self.raw("\":");
    }

    fn string(&mut self, key: &str, value: &str) -> io::Result<()> {
        self.key(key);
        serde_json::to_writer(&mut self.buf, value).map_err(io::Error::other)
    }

    fn uint(&mut self, key: &str, value: u64) {
        self.key(key);
        self.raw(&value.to_string());
    }

    fn boolean(&mut self, key: &str, value: bool) {
        self.key(key);
        self.raw(if value { "true" } else { "false" });
    }

    /// A string that needs no escaping (a canonical decimal, a fixed word).
    fn plain_string(&mut self, key: &str, text: &str) {
        self.key(key);
        self.buf.push(b'"');
        self.raw(text);
        self.buf.push(b'"');
    }

    fn money(&mut self, key: &str, value: Money) {
        self.plain_string(key, &money_string(value));
    }

    fn spec(&self, symbol: SymbolId) -> io::Result<&SymbolSpec> {
        self.symbols
            .get(symbol)
            .map(|entry| &entry.spec)
            .ok_or_else(|| invalid(format!("unknown symbol id {}", symbol.0)))
    }

    fn symbol(&mut self, key: &str, symbol: SymbolId) -> io::Result<()> {
        let symbols = self.symbols;
        let entry = symbols
            .get(symbol)
            .ok_or_else(|| invalid(format!("unknown symbol id {}", symbol.0)))?;
        self.string(key, &entry.name)
    }

    fn price(&mut self, key: &str, symbol: SymbolId, price: Price) -> io::Result<()> {
        let text = steps_string(price.0, self.spec(symbol)?.tick_size)?;
        self.plain_string(key, &text);
        Ok(())
    }

    fn opt_price(&mut self, key: &str, symbol: SymbolId, price: Option<Price>) -> io::Result<()> {
        match price {
            Some(price) => self.price(key, symbol, price),
            None => {
                self.key(key);
                self.raw("null");
                Ok(())
            }
        }
    }

    fn qty(&mut self, key: &str, symbol: SymbolId, qty: Qty) -> io::Result<()> {
        let text = steps_string(qty.0, self.spec(symbol)?.lot_size)?;
        self.plain_string(key, &text);
        Ok(())
    }

    fn levels(&mut self, key: &str, symbol: SymbolId, levels: &[DepthLevel]) -> io::Result<()> {
        let spec = self.spec(symbol)?;
        let (tick, lot) = (spec.tick_size, spec.lot_size);
        self.key(key);
        self.buf.push(b'[');
        for (i, level) in levels.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            let price = steps_string(level.price.0, tick)?;
            let qty = steps_string(level.qty.0, lot)?;
            self.raw(&format!("[\"{price}\",\"{qty}\"]"));
        }
        self.buf.push(b']');
        Ok(())
    }

    fn side(&mut self, key: &str, side: Side) {
        self.plain_string(
            key,
            match side {
                Side::Buy => "buy",
                Side::Sell => "sell",
            },
        );
    }

    fn event(&mut self, event: &ReplayEvent) -> io::Result<()> {
        self.buf.push(b'{');
        self.plain_string("ev", event.name());
        match event {
            ReplayEvent::Accepted { id } | ReplayEvent::Triggered { id } => self.uint("id", id.0),
            ReplayEvent::Rejected { subject, reason } => {
                match subject {
                    RejectSubject::Order(id) => self.uint("id", id.0),
                    RejectSubject::Account(account) => self.uint("account", account.0),
                    RejectSubject::Symbol(name) => self.string("symbol", name)?,
                    RejectSubject::None => {}
                }
                self.string("reason", reason.as_str())?;
            }
            ReplayEvent::Trade { symbol, trade } => {
                self.symbol("symbol", *symbol)?;
                self.price("price", *symbol, trade.price)?;
                self.qty("qty", *symbol, trade.qty)?;
                self.uint("maker", trade.maker.0);
                self.uint("taker", trade.taker.0);
                self.uint("maker_account", trade.maker_account.0);
                self.uint("taker_account", trade.taker_account.0);
                self.side("taker_side", trade.taker_side);
                self.boolean("liquidation", trade.liquidation);
            }
            ReplayEvent::Cancelled {
                symbol,
                id,
                remaining,
                reason,
            } => {
                self.uint("id", id.0);
                self.qty("remaining", *symbol, *remaining)?;
                self.plain_string("reason", reason.as_str());
            }
            ReplayEvent::Mark { symbol, price } => {
                self.symbol("symbol", *symbol)?;
                self.price("price", *symbol, *price)?;
            }
            ReplayEvent::Liquidation(liq) => {
                self.uint("account", liq.account.0);
                self.symbol("symbol", liq.symbol)?;
                self.side("side", liq.side);
                self.qty("qty", liq.symbol, liq.qty)?;
                self.opt_price("limit_price", liq.symbol, liq.limit_price)?;
                self.uint("id", liq.id.0);
            }
            ReplayEvent::Adl(adl) => {
                self.symbol("symbol", adl.symbol)?;
                self.uint("liquidated_account", adl.liquidated_account.0);
                self.uint("counterparty_account", adl.counterparty_account.0);
                self.qty("qty", adl.symbol, adl.qty)?;
                self.price("price", adl.symbol, adl.price)?;
            }
            ReplayEvent::Account(snapshot) => self.account(snapshot)?,
            ReplayEvent::Book(book) => {
                self.symbol("symbol", book.symbol)?;
                self.levels("bids", book.symbol, &book.bids)?;
                self.levels("asks", book.symbol, &book.asks)?;
            }
            ReplayEvent::Insurance { balance } => self.money("balance", *balance),
        }
        self.buf.push(b'}');
        Ok(())
    }

    fn account(&mut self, snapshot: &AccountSnapshot) -> io::Result<()> {
        self.uint("account", snapshot.account.0);
        self.money("collateral", snapshot.collateral);
        self.money("equity", snapshot.equity);
        self.money("maintenance_margin", snapshot.maintenance_margin);
        self.money("initial_margin", snapshot.initial_margin);
        self.key("positions");
        self.buf.push(b'[');
        for (i, position) in snapshot.positions.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.buf.push(b'{');
            let symbol = position.symbol;
            self.symbol("symbol", symbol)?;
            self.qty("qty", symbol, position.qty)?;
            self.plain_string("entry_price", &decimal_string(position.entry_price));
            self.plain_string("mode", position.mode.as_str());
            if let Some(margin) = position.margin {
                self.money("margin", margin);
            }
            self.money("unrealized_pnl", position.unrealized_pnl);
            self.money("maintenance_margin", position.maintenance_margin);
            self.opt_price("liquidation_price", symbol, position.liquidation_price)?;
            self.opt_price("bankruptcy_price", symbol, position.bankruptcy_price)?;
            self.buf.push(b'}');
        }
        self.buf.push(b']');
        Ok(())
    }
}
