//! The typed commands of a replay script: one struct per REPLAY.md `op`, gathered in
//! [`ReplayCommand`]. Decimals stay exact [`Decimal`]s here; they become ticks, lots, money and
//! rates only against a symbol ([`super::SymbolTable`]), where an off-grid value is a rejection,
//! not a malformed line.

use rust_decimal::Decimal;

use super::event::RejectSubject;
use crate::book::{OrderKind, SelfTradePrevention, TimeInForce, TriggerSource};
use crate::mark::MarkConfig;
use crate::types::{AccountId, OrderId, Side};

/// One command of a replay script (one non-empty, non-comment line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayCommand {
    /// `symbol`: defines a market.
    Symbol(SymbolCommand),
    /// `deposit`: credits collateral (creates the account).
    Deposit(AmountCommand),
    /// `insurance`: credits the insurance fund.
    Insurance(InsuranceCommand),
    /// `withdraw`: debits collateral if free margin allows.
    Withdraw(AmountCommand),
    /// `leverage`: sets an account's leverage and margin mode for a symbol.
    Leverage(LeverageCommand),
    /// `margin`: adds to (or removes from) an isolated position's margin.
    Margin(MarginCommand),
    /// `order`: a new order.
    Order(OrderRequest),
    /// `cancel`: cancels a resting or untriggered order.
    Cancel(CancelCommand),
    /// `modify`: changes an order's price and/or remaining quantity.
    Modify(ModifyCommand),
    /// `index`: an external index price tick.
    Index(PriceCommand),
    /// `mark`: forces the mark price.
    Mark(PriceCommand),
    /// `query`: asks for a snapshot event.
    Query(QueryCommand),
}

impl ReplayCommand {
    /// The command's optional logical timestamp (`ts`, milliseconds).
    #[must_use]
    pub fn ts(&self) -> Option<u64> {
        match self {
            ReplayCommand::Symbol(c) => c.ts,
            ReplayCommand::Deposit(c) | ReplayCommand::Withdraw(c) => c.ts,
            ReplayCommand::Insurance(c) => c.ts,
            ReplayCommand::Leverage(c) => c.ts,
            ReplayCommand::Margin(c) => c.ts,
            ReplayCommand::Order(c) => c.ts,
            ReplayCommand::Cancel(c) => c.ts,
            ReplayCommand::Modify(c) => c.ts,
            ReplayCommand::Index(c) | ReplayCommand::Mark(c) => c.ts,
            ReplayCommand::Query(c) => c.ts,
        }
    }

    /// Whom a `rejected` event for this command names: the order id for `order`, `cancel`
    /// and `modify`; the account for `deposit`, `withdraw`, `leverage`, `margin` and an
    /// account query; the symbol's name for `symbol`, `index`, `mark` and a book query;
    /// nothing for `insurance` and an insurance query.
    ///
    /// # Examples
    ///
    /// ```
    /// use liqcore::replay::{RejectSubject, parse_line};
    /// use liqcore::types::AccountId;
    /// let cmd = parse_line(1, r#"{"op":"withdraw","account":4,"amount":"1"}"#).unwrap().unwrap();
    /// assert_eq!(cmd.reject_subject(), RejectSubject::Account(AccountId(4)));
    /// ```
    #[must_use]
    pub fn reject_subject(&self) -> RejectSubject {
        match self {
            ReplayCommand::Order(c) => RejectSubject::Order(c.id),
            ReplayCommand::Cancel(c) => RejectSubject::Order(c.id),
            ReplayCommand::Modify(c) => RejectSubject::Order(c.id),
            ReplayCommand::Deposit(c) | ReplayCommand::Withdraw(c) => {
                RejectSubject::Account(c.account)
            }
            ReplayCommand::Leverage(c) => RejectSubject::Account(c.account),
            ReplayCommand::Margin(c) => RejectSubject::Account(c.account),
            ReplayCommand::Symbol(c) => RejectSubject::Symbol(c.symbol.clone()),
            ReplayCommand::Index(c) | ReplayCommand::Mark(c) => {
                RejectSubject::Symbol(c.symbol.clone())
            }
            ReplayCommand::Query(c) => match &c.what {
                QueryTarget::Account(account) => RejectSubject::Account(*account),
                QueryTarget::Book { symbol, .. } => RejectSubject::Symbol(symbol.clone()),
                QueryTarget::Insurance => RejectSubject::None,
            },
            ReplayCommand::Insurance(_) => RejectSubject::None,
        }
    }

    /// The REPLAY.md `op` word of this command.
    #[must_use]
    pub fn op(&self) -> &'static str {
        match self {
            ReplayCommand::Symbol(_) => "symbol",
            ReplayCommand::Deposit(_) => "deposit",
            ReplayCommand::Insurance(_) => "insurance",
            ReplayCommand::Withdraw(_) => "withdraw",
            ReplayCommand::Leverage(_) => "leverage",
            ReplayCommand::Margin(_) => "margin",
            ReplayCommand::Order(_) => "order",
            ReplayCommand::Cancel(_) => "cancel",
            ReplayCommand::Modify(_) => "modify",
            ReplayCommand::Index(_) => "index",
            ReplayCommand::Mark(_) => "mark",
            ReplayCommand::Query(_) => "query",
        }
    }
}

// The risk stage's own enums: the replay words map onto them one to one.
pub use crate::risk::{MarginMode, MmBasis};

impl MarginMode {
    /// The REPLAY.md word (`"cross"`, `"isolated"`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            MarginMode::Cross => "cross",
            MarginMode::Isolated => "isolated",
        }
    }
}

/// One entry of `margin_tiers`, as written (exact decimals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MarginTierSpec {
    /// Notional (quote currency) from which the tier applies.
    pub floor: Decimal,
    /// Maintenance margin rate of the tier.
    pub mmr: Decimal,
    /// The tier's maximum leverage; `None`: the symbol's `max_leverage`.
    pub max_leverage: Option<Decimal>,
}

/// `symbol`: defines a market.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// The market's name (`"BTC-PERP"`).
    pub symbol: String,
    /// Price increment.
    pub tick_size: Decimal,
    /// Quantity increment.
    pub lot_size: Decimal,
    /// Largest leverage (of the first tier unless a tier says otherwise).
    pub max_leverage: Decimal,
    /// Maintenance margin tiers, as written (the table checks they ascend).
    pub margin_tiers: Vec<MarginTierSpec>,
    /// Maker fee rate (default 0; negative is a rebate).
    pub maker_fee: Decimal,
    /// Taker fee rate (default 0).
    pub taker_fee: Decimal,
    /// Liquidation fee rate (default 0).
    pub liquidation_fee: Decimal,
    /// Notional basis of the maintenance margin (default mark).
    pub mm_basis: MmBasis,
    /// Market-order protection band as a fraction of the mark (default 0.05).
    pub price_band: Decimal,
    /// Mark-price configuration (default [`MarkConfig::median3`]).
    pub mark: MarkConfig,
}

/// `deposit` / `withdraw`: an amount of collateral for an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AmountCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// The account.
    pub account: AccountId,
    /// The amount (quote currency).
    pub amount: Decimal,
}

/// `insurance`: credits the insurance fund.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InsuranceCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// The amount (quote currency).
    pub amount: Decimal,
}

/// `leverage`: an account's leverage and margin mode for one symbol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeverageCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// The account.
    pub account: AccountId,
    /// The symbol's name.
    pub symbol: String,
    /// The leverage (`"20"`, `"12.5"`).
    pub leverage: Decimal,
    /// Cross (default) or isolated.
    pub mode: MarginMode,
}

/// `margin`: moves collateral into (positive) or out of (negative) an isolated position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MarginCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// The account.
    pub account: AccountId,
    /// The symbol's name.
    pub symbol: String,
    /// Signed amount (quote currency).
    pub amount: Decimal,
}

/// `order`: a new order, as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrderRequest {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// Client-chosen order id.
    pub id: OrderId,
    /// Owner.
    pub account: AccountId,
    /// The symbol's name.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// `type`: limit, market, stop_market or stop_limit.
    pub kind: OrderKind,
    /// Quantity (lots after resolution).
    pub qty: Decimal,
    /// Limit price: always present for `limit` and `stop_limit` (the parser requires it);
    /// kept if given for the other types, which ignore it.
    pub price: Option<Decimal>,
    /// Time in force (default GTC).
    pub tif: TimeInForce,
    /// Post-only (default false).
    pub post_only: bool,
    /// Reduce-only (default false).
    pub reduce_only: bool,
    /// Trigger price: always present for stop types (the parser requires it); kept if given
    /// for the other types, which ignore it.
    pub trigger_price: Option<Decimal>,
    /// Which price fires a stop (default mark).
    pub trigger_by: TriggerSource,
    /// Self-trade prevention (default cancel-taker).
    pub stp: SelfTradePrevention,
}

/// `cancel`: cancels an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CancelCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// The order.
    pub id: OrderId,
}

/// `modify`: a new price and/or a new remaining quantity for an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModifyCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// The order.
    pub id: OrderId,
    /// New price, if it changes.
    pub price: Option<Decimal>,
    /// New **remaining** quantity, if it changes.
    pub qty: Option<Decimal>,
}

/// `index` / `mark`: a price for a symbol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PriceCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// The symbol's name.
    pub symbol: String,
    /// The price.
    pub price: Decimal,
}

/// What a `query` asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QueryTarget {
    /// `"account"`: an `account` snapshot event.
    Account(AccountId),
    /// `"book"`: a `book` snapshot event.
    Book {
        /// The symbol's name.
        symbol: String,
        /// Levels per side; `None`: all of them.
        depth: Option<u64>,
    },
    /// `"insurance"`: an `insurance` event.
    Insurance,
}

/// `query`: asks for a snapshot event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QueryCommand {
    /// Optional logical timestamp (ms).
    pub ts: Option<u64>,
    /// What is asked for.
    pub what: QueryTarget,
}
