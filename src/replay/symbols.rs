//! The symbol table of a replay and the exact conversion of a command's decimals into ticks,
//! lots, money and rates. Everything here that can fail for a well-formed command fails with a
//! [`Reject`]: the engine answers it with a `rejected` event and the run continues.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::command::{
    AmountCommand, InsuranceCommand, LeverageCommand, MarginCommand, MarginMode, MmBasis,
    ModifyCommand, OrderRequest, PriceCommand, SymbolCommand,
};
use crate::book::{OrderCommand, OrderKind, RejectReason};
use crate::mark::{MarkConfig, MarkPrice};
use crate::risk::{ConfigError, Leverage, MarginTier as RiskTier, MarginTiers, SymbolRiskConfig};
use crate::types::{AccountId, GridError, Money, OrderId, Price, Qty, Rate, SymbolId, SymbolSpec};

/// Why a well-formed command is refused: the `reason` word of a `rejected` event.
///
/// The variants here are the ones this module (and the book) can decide; the engine adds its
/// own through [`Reject::Other`] (e.g. `insufficient_margin`, `reduce_only_increases`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reject {
    /// The command names a symbol no `symbol` command defined.
    UnknownSymbol,
    /// A `symbol` command reuses a defined name.
    DuplicateSymbol,
    /// A `symbol` command whose grid, leverage, fees, band or tiers are not usable (non-positive
    /// or too fine increments, tiers not ascending, a rate with more than 8 decimals, ...).
    InvalidSymbol,
    /// A price (or trigger price) between two ticks.
    PriceNotOnTick,
    /// A quantity between two lots.
    QtyNotOnLot,
    /// A quantity that is zero, negative, or too large for the integer representation.
    InvalidQty,
    /// A price that is zero, negative, or too large for the integer representation.
    InvalidPrice,
    /// An amount that is zero (or negative where it must be positive), has more than 12
    /// decimals, or does not fit.
    InvalidAmount,
    /// A leverage that is not positive, exceeds the symbol's `max_leverage`, or has more than
    /// 8 decimals.
    InvalidLeverage,
    /// A reason decided by the book.
    Book(RejectReason),
    /// A reason decided by the engine (a REPLAY.md snake_case word).
    Other(&'static str),
}

impl Reject {
    /// The REPLAY.md snake_case word.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Reject::UnknownSymbol => "unknown_symbol",
            Reject::DuplicateSymbol => "duplicate_symbol",
            Reject::InvalidSymbol => "invalid_symbol",
            Reject::PriceNotOnTick => "price_not_on_tick",
            Reject::QtyNotOnLot => "qty_not_on_lot",
            Reject::InvalidQty => "invalid_qty",
            Reject::InvalidPrice => "invalid_price",
            Reject::InvalidAmount => "invalid_amount",
            Reject::InvalidLeverage => "invalid_leverage",
            Reject::Book(reason) => reason.as_str(),
            Reject::Other(word) => word,
        }
    }
}

impl From<RejectReason> for Reject {
    fn from(reason: RejectReason) -> Reject {
        Reject::Book(reason)
    }
}

/// One maintenance-margin tier, in exact integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MarginTier {
    /// Notional from which the tier applies.
    pub floor: Money,
    /// Maintenance margin rate.
    pub mmr: Rate,
    /// Largest leverage in this tier (10⁻⁸ units, like a [`Rate`]: `Rate(2_000_000_000)` is
    /// 20×).
    pub max_leverage: Rate,
    /// Maintenance amount: `cum[0] = 0`, `cum[n] = cum[n−1] + floor[n] × (mmr[n] − mmr[n−1])`,
    /// summed exactly and rounded **down** once (toward −∞) by the risk stage's
    /// [`MarginTiers`], so the requirement `notional × mmr − cum` is never understated.
    pub maintenance_amount: Money,
}

/// A defined market: its name, grid and the risk parameters of its `symbol` command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolEntry {
    /// The name used in commands and events.
    pub name: String,
    /// Grid, size limits and price band.
    pub spec: SymbolSpec,
    /// Largest leverage (10⁻⁸ units).
    pub max_leverage: Rate,
    /// Tiers, ascending by floor (at least one).
    pub margin_tiers: Vec<MarginTier>,
    /// Maker fee rate (negative: a rebate).
    pub maker_fee: Rate,
    /// Taker fee rate.
    pub taker_fee: Rate,
    /// Liquidation fee rate.
    pub liquidation_fee: Rate,
    /// Notional basis of the maintenance margin.
    pub mm_basis: MmBasis,
    /// Mark-price configuration.
    pub mark: MarkConfig,
}

impl SymbolEntry {
    /// The risk stage's configuration of this market: grid, maximum leverage, the tier table
    /// (built by [`MarginTiers`], which derives the maintenance amounts), fees and the
    /// maintenance basis.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the risk stage refuses it (a leverage below 1×, a fee outside its
    /// range); [`SymbolTable::define`] refuses such a symbol up front (`invalid_symbol`), so an
    /// entry of a table never fails here.
    ///
    /// # Examples
    ///
    /// ```
    /// use liqcore::replay::{ReplayCommand, SymbolTable, parse_line};
    /// let mut table = SymbolTable::new();
    /// let line = r#"{"op":"symbol","symbol":"BTC","tick_size":"0.5","lot_size":"0.001","max_leverage":"125","margin_tiers":[{"floor":"0","mmr":"0.004"},{"floor":"50000","mmr":"0.005"},{"floor":"250000","mmr":"0.01"}]}"#;
    /// let Some(ReplayCommand::Symbol(def)) = parse_line(1, line).unwrap() else { unreachable!() };
    /// let id = table.define(&def).unwrap();
    /// let config = table.get(id).unwrap().risk_config().unwrap();
    /// assert_eq!(config.tiers().maintenance_amount(2).to_decimal().to_string(), "1300");
    /// ```
    pub fn risk_config(&self) -> Result<SymbolRiskConfig, ConfigError> {
        let rows: Vec<RiskTier> = self
            .margin_tiers
            .iter()
            .map(|tier| RiskTier {
                floor: tier.floor,
                mmr: tier.mmr,
                max_leverage: Some(Leverage(tier.max_leverage.0)),
            })
            .collect();
        Ok(
            SymbolRiskConfig::new(self.spec.clone(), Leverage(self.max_leverage.0), &rows)?
                .with_fees(self.maker_fee, self.taker_fee)?
                .with_liquidation_fee(self.liquidation_fee)?
                .with_mm_basis(self.mm_basis),
        )
    }
}

/// A new order resolved against its symbol: ready for [`crate::book::Book::submit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedOrder {
    /// The order's market.
    pub symbol: SymbolId,
    /// The order in ticks and lots (price 0 for market and stop-market, trigger 0 for limit
    /// and market).
    pub order: OrderCommand,
}

/// A `modify` resolved against the order's symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedModify {
    /// The order.
    pub id: OrderId,
    /// New price in ticks, if it changes.
    pub price: Option<Price>,
    /// New remaining quantity in lots, if it changes.
    pub qty: Option<Qty>,
}

/// An `index` or `mark` price resolved against its symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedPrice {
    /// The market.
    pub symbol: SymbolId,
    /// The price in ticks (≥ 1).
    pub price: Price,
}

/// A `leverage` command resolved against its symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedLeverage {
    /// The account.
    pub account: AccountId,
    /// The market.
    pub symbol: SymbolId,
    /// The leverage (10⁻⁸ units), `0 < leverage ≤ max_leverage`.
    pub leverage: Rate,
    /// Cross or isolated.
    pub mode: MarginMode,
}

/// A `margin` command resolved against its symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedMargin {
    /// The account.
    pub account: AccountId,
    /// The market.
    pub symbol: SymbolId,
    /// Signed, non-zero amount.
    pub amount: Money,
}

/// The markets of a replay, by name and by dense id (`0, 1, 2, ...` in definition order).
///
/// # Examples
///
/// ```
/// use liqcore::replay::{ReplayCommand, SymbolTable, parse_line};
/// let mut table = SymbolTable::new();
/// let line = r#"{"op":"symbol","symbol":"BTC","tick_size":"0.5","lot_size":"0.001","max_leverage":"100","margin_tiers":[{"floor":"0","mmr":"0.005"}]}"#;
/// let Some(ReplayCommand::Symbol(def)) = parse_line(1, line).unwrap() else { unreachable!() };
/// let id = table.define(&def).unwrap();
/// assert_eq!(table.id("BTC"), Some(id));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    entries: Vec<SymbolEntry>,
    by_name: HashMap<String, SymbolId>,
}

impl SymbolTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> SymbolTable {
        SymbolTable::default()
    }

    /// Number of defined symbols.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no symbol is defined.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of a defined name.
    #[must_use]
    pub fn id(&self, name: &str) -> Option<SymbolId> {
        self.by_name.get(name).copied()
    }

    /// The entry of an id.
    #[must_use]
    pub fn get(&self, id: SymbolId) -> Option<&SymbolEntry> {
        self.entries.get(id.0 as usize)
    }

    /// The entry of a name.
    ///
    /// # Errors
    ///
    /// [`Reject::UnknownSymbol`] if no `symbol` command defined it.
    pub fn lookup(&self, name: &str) -> Result<&SymbolEntry, Reject> {
        self.id(name)
            .and_then(|id| self.get(id))
            .ok_or(Reject::UnknownSymbol)
    }

    /// The id of a defined name, for commands that name a symbol without a grid check (a book
    /// query).
    ///
    /// # Errors
    ///
    /// [`Reject::UnknownSymbol`] if no `symbol` command defined it.
    pub fn resolve_symbol(&self, name: &str) -> Result<SymbolId, Reject> {
        self.id(name).ok_or(Reject::UnknownSymbol)
    }

    /// Defines a market from its `symbol` command; it gets the next dense id.
    ///
    /// # Errors
    ///
    /// [`Reject::DuplicateSymbol`] for a name already defined; [`Reject::InvalidSymbol`] if
    /// the increments are not positive or their product is finer than 10⁻¹², a rate has more
    /// than 8 decimals, the band is not in `(0, 1)`, a leverage is not positive, the tiers
    /// are empty, do not start at floor 0, do not strictly ascend or have an mmr outside
    /// `[0, 1)`, or the mark configuration is refused by [`MarkPrice::new`] (clamp band
    /// outside `(0, 1)`, τ outside `1 ..= 2³⁰` ms, bad sampling).
    pub fn define(&mut self, command: &SymbolCommand) -> Result<SymbolId, Reject> {
        if self.by_name.contains_key(&command.symbol) {
            return Err(Reject::DuplicateSymbol);
        }
        let id = SymbolId(u32::try_from(self.entries.len()).map_err(|_| Reject::InvalidSymbol)?);
        let rate = |d: Decimal| Rate::from_decimal(d).ok_or(Reject::InvalidSymbol);
        let band = rate(command.price_band)?;
        let spec = SymbolSpec::new(id, command.tick_size, command.lot_size)
            .and_then(|spec| spec.with_price_band(band))
            .map_err(|_| Reject::InvalidSymbol)?;
        let max_leverage = rate(command.max_leverage)?;
        if max_leverage <= Rate::ZERO {
            return Err(Reject::InvalidSymbol);
        }
        let margin_tiers = tiers(command, max_leverage)?;
        // The mark stage validates its configuration when it is built; building one here (once
        // per symbol, off the hot path) refuses a bad `mark` object before the market exists.
        MarkPrice::new(command.mark).map_err(|_| Reject::InvalidSymbol)?;
        let entry = SymbolEntry {
            name: command.symbol.clone(),
            spec,
            max_leverage,
            margin_tiers,
            maker_fee: rate(command.maker_fee)?,
            taker_fee: rate(command.taker_fee)?,
            liquidation_fee: rate(command.liquidation_fee)?,
            mm_basis: command.mm_basis,
            mark: command.mark,
        };
        // The risk stage's own rules (leverage ≥ 1×, fee ranges) decide too: a symbol the
        // engine would refuse is refused here, before it gets an id.
        entry.risk_config().map_err(|_| Reject::InvalidSymbol)?;
        self.entries.push(entry);
        self.by_name.insert(command.symbol.clone(), id);
        Ok(id)
    }

    /// Resolves an `order` against its symbol. Checks, first failure wins: the symbol
    /// (`unknown_symbol`), the quantity (`invalid_qty` if not positive, `qty_not_on_lot`,
    /// `invalid_qty` if it does not fit), the limit price of limit types (`invalid_price` if
    /// not positive, `price_not_on_tick`, `invalid_price` if it does not fit), the trigger
    /// price of stop types (same words). Size limits, `MAX_PRICE` and everything else are the
    /// book's checks.
    ///
    /// # Errors
    ///
    /// The [`Reject`] for the `rejected` event (with the order's id).
    pub fn resolve_order(&self, request: &OrderRequest) -> Result<ResolvedOrder, Reject> {
        let entry = self.lookup(&request.symbol)?;
        let spec = &entry.spec;
        let qty = qty_on_grid(spec, request.qty)?;
        let price = match request.kind {
            OrderKind::Limit | OrderKind::StopLimit => {
                // The parser guarantees a price for limit types; absent reads as zero.
                price_on_grid(spec, request.price.unwrap_or(Decimal::ZERO))?
            }
            OrderKind::Market | OrderKind::StopMarket => Price(0),
        };
        let trigger_price = match request.kind {
            OrderKind::StopMarket | OrderKind::StopLimit => {
                price_on_grid(spec, request.trigger_price.unwrap_or(Decimal::ZERO))?
            }
            OrderKind::Limit | OrderKind::Market => Price(0),
        };
        Ok(ResolvedOrder {
            symbol: spec.id,
            order: OrderCommand {
                id: request.id,
                account: request.account,
                side: request.side,
                kind: request.kind,
                price,
                qty,
                tif: request.tif,
                post_only: request.post_only,
                reduce_only: request.reduce_only,
                stp: request.stp,
                trigger_price,
                trigger_by: request.trigger_by,
            },
        })
    }

    /// Resolves a `modify` against the symbol of the order it names (which the engine knows
    /// from the order's id).
    ///
    /// # Errors
    ///
    /// [`Reject::UnknownSymbol`] for an undefined id; else as [`SymbolTable::resolve_order`]
    /// for the price and quantity (`invalid_qty` for a zero or negative quantity).
    pub fn resolve_modify(
        &self,
        command: &ModifyCommand,
        symbol: SymbolId,
    ) -> Result<ResolvedModify, Reject> {
        let spec = &self.get(symbol).ok_or(Reject::UnknownSymbol)?.spec;
        let qty = command.qty.map(|qty| qty_on_grid(spec, qty)).transpose()?;
        let price = command
            .price
            .map(|price| price_on_grid(spec, price))
            .transpose()?;
        Ok(ResolvedModify {
            id: command.id,
            price,
            qty,
        })
    }

    /// Resolves an `index` or `mark` price.
    ///
    /// # Errors
    ///
    /// `unknown_symbol`, `invalid_price` (not positive, or does not fit), `price_not_on_tick`.
    pub fn resolve_price(&self, command: &PriceCommand) -> Result<ResolvedPrice, Reject> {
        let spec = &self.lookup(&command.symbol)?.spec;
        Ok(ResolvedPrice {
            symbol: spec.id,
            price: price_on_grid(spec, command.price)?,
        })
    }

    /// Resolves a `leverage` command.
    ///
    /// # Errors
    ///
    /// `unknown_symbol`; `invalid_leverage` if not positive, above the symbol's
    /// `max_leverage`, or with more than 8 decimals.
    pub fn resolve_leverage(&self, command: &LeverageCommand) -> Result<ResolvedLeverage, Reject> {
        let entry = self.lookup(&command.symbol)?;
        let leverage = Rate::from_decimal(command.leverage).ok_or(Reject::InvalidLeverage)?;
        if leverage <= Rate::ZERO || leverage > entry.max_leverage {
            return Err(Reject::InvalidLeverage);
        }
        Ok(ResolvedLeverage {
            account: command.account,
            symbol: entry.spec.id,
            leverage,
            mode: command.mode,
        })
    }

    /// Resolves a `margin` command (a signed, non-zero amount).
    ///
    /// # Errors
    ///
    /// `unknown_symbol`; `invalid_amount` for zero, more than 12 decimals, or too large.
    pub fn resolve_margin(&self, command: &MarginCommand) -> Result<ResolvedMargin, Reject> {
        let entry = self.lookup(&command.symbol)?;
        let amount = Money::from_decimal(command.amount).ok_or(Reject::InvalidAmount)?;
        if amount == Money::ZERO {
            return Err(Reject::InvalidAmount);
        }
        Ok(ResolvedMargin {
            account: command.account,
            symbol: entry.spec.id,
            amount,
        })
    }
}

/// The positive amount of a `deposit` or `withdraw`.
///
/// # Errors
///
/// [`Reject::InvalidAmount`] if it is not positive, has more than 12 decimals, or does not fit.
pub fn resolve_amount(command: &AmountCommand) -> Result<Money, Reject> {
    positive_money(command.amount)
}

/// The positive amount of an `insurance` credit.
///
/// # Errors
///
/// [`Reject::InvalidAmount`] as [`resolve_amount`].
pub fn resolve_insurance(command: &InsuranceCommand) -> Result<Money, Reject> {
    positive_money(command.amount)
}

fn positive_money(amount: Decimal) -> Result<Money, Reject> {
    match Money::from_decimal(amount) {
        Some(money) if money > Money::ZERO => Ok(money),
        _ => Err(Reject::InvalidAmount),
    }
}

/// A positive quantity in lots: sign first (`invalid_qty`), then the grid.
fn qty_on_grid(spec: &SymbolSpec, qty: Decimal) -> Result<Qty, Reject> {
    if qty <= Decimal::ZERO {
        return Err(Reject::InvalidQty);
    }
    spec.qty_from_decimal(qty).map_err(|error| match error {
        GridError::QtyNotOnLot => Reject::QtyNotOnLot,
        GridError::PriceNotOnTick | GridError::OutOfRange => Reject::InvalidQty,
    })
}

/// A positive price in ticks: sign first (`invalid_price`), then the grid.
fn price_on_grid(spec: &SymbolSpec, price: Decimal) -> Result<Price, Reject> {
    if price <= Decimal::ZERO {
        return Err(Reject::InvalidPrice);
    }
    spec.price_from_decimal(price).map_err(|error| match error {
        GridError::PriceNotOnTick => Reject::PriceNotOnTick,
        GridError::QtyNotOnLot | GridError::OutOfRange => Reject::InvalidPrice,
    })
}

/// The tiers of a `symbol` command in integers. The risk stage's [`MarginTiers`] validates
/// them (floors strictly ascending from 0, rates in `[0, 1)` and non-decreasing, leverages at
/// least 1×) and derives each maintenance amount (rounded down): one rule, in one place.
fn tiers(command: &SymbolCommand, max_leverage: Rate) -> Result<Vec<MarginTier>, Reject> {
    let mut rows = Vec::with_capacity(command.margin_tiers.len());
    for spec in &command.margin_tiers {
        let floor = Money::from_decimal(spec.floor).ok_or(Reject::InvalidSymbol)?;
        let mmr = Rate::from_decimal(spec.mmr).ok_or(Reject::InvalidSymbol)?;
        let max_leverage = match spec.max_leverage {
            Some(d) => Some(Leverage::from_decimal(d).ok_or(Reject::InvalidSymbol)?),
            None => None,
        };
        rows.push(RiskTier {
            floor,
            mmr,
            max_leverage,
        });
    }
    let derived =
        MarginTiers::new(&rows, Leverage(max_leverage.0)).map_err(|_| Reject::InvalidSymbol)?;
    Ok(rows
        .iter()
        .enumerate()
        .map(|(t, row)| MarginTier {
            floor: row.floor,
            mmr: row.mmr,
            max_leverage: Rate(derived.max_leverage(t).0),
            maintenance_amount: derived.maintenance_amount(t),
        })
        .collect())
}
