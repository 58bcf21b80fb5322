//! Identifiers and exact numbers shared by every stage.
//!
//! # Numbers
//!
//! - [`Price`] is an integer count of the symbol's tick (`i64`), [`Qty`] an integer count of its
//!   lot (`i64`). Decimal strings appear only at the edges (replay I/O, configuration) and are
//!   converted by [`SymbolSpec::price_from_decimal`] / [`SymbolSpec::qty_from_decimal`], which
//!   **reject** off-grid values instead of rounding them.
//! - [`Money`] is an exact `i128` count of [`Money::UNIT`] (10⁻¹² of the quote currency). A
//!   notional `price × qty` converts to money exactly through the symbol's
//!   [`SymbolSpec::money_per_tick_lot`], which construction checks is an integer.
//! - [`Rate`] is an exact ratio in units of 10⁻⁸ (fees, margin rates, bands).
//!
//! No floating point appears in engine state.
//!
//! # Invariants
//!
//! - A `SymbolSpec` always has a positive tick and lot size whose product is a whole number of
//!   money units, so `Money::from_notional` never rounds.

use std::fmt;

use rust_decimal::Decimal;

/// A client-chosen order identifier, unique among live orders of a venue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub u64);

/// An account (trader) identifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub u64);

/// A dense symbol (market) index: `0..number_of_symbols`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymbolId(pub u32);

/// The side of an order (or the aggressor side of a trade).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Bid: wants to buy.
    Buy,
    /// Ask: wants to sell.
    Sell,
}

impl Side {
    /// The other side.
    #[must_use]
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// `+1` for a buy, `-1` for a sell: the sign of the position change a fill causes.
    #[must_use]
    pub const fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}

/// A price in integer ticks of its symbol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(pub i64);

/// A quantity in integer lots of its symbol (signed where it is a position).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qty(pub i64);

/// An exact amount of money in units of 10⁻¹² of the quote currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub i128);

impl Money {
    /// Decimal places of the money unit: one unit is 10⁻¹² of the quote currency.
    pub const SCALE: u32 = 12;
    /// Units per whole quote currency.
    pub const UNIT: i128 = 1_000_000_000_000;
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Parses an exact decimal amount; `None` if it has more than [`Money::SCALE`] decimals or
    /// does not fit.
    #[must_use]
    pub fn from_decimal(value: Decimal) -> Option<Money> {
        scaled_integer(value, Money::SCALE).map(Money)
    }

    /// The amount as an exact decimal (trailing zeros removed), for output.
    #[must_use]
    pub fn to_decimal(self) -> Decimal {
        // i128 money beyond Decimal's 96-bit mantissa is ~7.9e16 quote units: far beyond any
        // real balance; saturate rather than panic.
        let mantissa = self.0.clamp(-MAX_DECIMAL_MANTISSA, MAX_DECIMAL_MANTISSA);
        Decimal::from_i128_with_scale(mantissa, Money::SCALE).normalize()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

/// An exact ratio in units of 10⁻⁸ (`Rate(500_000)` is 0.5 %).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(pub i64);

impl Rate {
    /// Decimal places of a rate.
    pub const SCALE: u32 = 8;
    /// `Rate::ONE.0` units make 1 (100 %).
    pub const ONE: Rate = Rate(100_000_000);
    /// Zero.
    pub const ZERO: Rate = Rate(0);

    /// Parses an exact decimal ratio (`"0.005"`); `None` if it has more than 8 decimals or does
    /// not fit.
    #[must_use]
    pub fn from_decimal(value: Decimal) -> Option<Rate> {
        scaled_integer(value, Rate::SCALE).and_then(|v| i64::try_from(v).ok().map(Rate))
    }

    /// The ratio as an exact decimal (trailing zeros removed).
    #[must_use]
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, Rate::SCALE).normalize()
    }
}

const MAX_DECIMAL_MANTISSA: i128 = (1i128 << 96) - 1;

/// `value × 10^scale` as an integer, or `None` if that is not a whole number or does not fit.
fn scaled_integer(value: Decimal, scale: u32) -> Option<i128> {
    let value = value.normalize();
    if value.scale() > scale {
        return None;
    }
    let mantissa = value.mantissa();
    let factor = 10i128.checked_pow(scale - value.scale())?;
    mantissa.checked_mul(factor)
}

/// Why a decimal could not be turned into ticks, lots or money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    /// The value is not a whole multiple of the tick size.
    #[error("price_not_on_tick")]
    PriceNotOnTick,
    /// The value is not a whole multiple of the lot size.
    #[error("qty_not_on_lot")]
    QtyNotOnLot,
    /// The value does not fit the integer representation.
    #[error("out_of_range")]
    OutOfRange,
}

/// Why a [`SymbolSpec`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Tick or lot size is zero or negative.
    #[error("tick_size and lot_size must be positive")]
    NonPositiveIncrement,
    /// `tick_size × lot_size` is finer than the money unit (10⁻¹²), so notionals would round.
    #[error("tick_size × lot_size must be a multiple of 1e-12")]
    IncrementTooFine,
    /// `min_qty > max_qty` or a non-positive minimum.
    #[error("min_qty must be positive and at most max_qty")]
    BadQtyLimits,
    /// The market-order price band is not in `0..1`.
    #[error("price_band must be in (0, 1)")]
    BadPriceBand,
}

/// The static description of a market: its grid and its order-size and price limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolSpec {
    /// Dense symbol index.
    pub id: SymbolId,
    /// Price increment (one tick), as an exact decimal.
    pub tick_size: Decimal,
    /// Quantity increment (one lot), as an exact decimal.
    pub lot_size: Decimal,
    /// Smallest accepted order quantity, in lots (≥ 1).
    pub min_qty: Qty,
    /// Largest accepted order quantity, in lots.
    pub max_qty: Qty,
    /// Market-order protection: market orders and triggered stops fill no further than
    /// reference × (1 ± band) from the reference (mark) price.
    pub price_band: Rate,
    /// Money units in one tick × one lot: `notional = price × qty × money_per_tick_lot`.
    money_per_tick_lot: i128,
}

impl SymbolSpec {
    /// A spec with `min_qty = 1` lot, `max_qty = 10⁹` lots and a 5 % price band.
    ///
    /// # Errors
    ///
    /// [`SpecError`] if the increments are not positive or their product is finer than the
    /// money unit.
    pub fn new(
        id: SymbolId,
        tick_size: Decimal,
        lot_size: Decimal,
    ) -> Result<SymbolSpec, SpecError> {
        if tick_size <= Decimal::ZERO || lot_size <= Decimal::ZERO {
            return Err(SpecError::NonPositiveIncrement);
        }
        let product = tick_size
            .checked_mul(lot_size)
            .ok_or(SpecError::IncrementTooFine)?;
        let money_per_tick_lot =
            scaled_integer(product, Money::SCALE).ok_or(SpecError::IncrementTooFine)?;
        if money_per_tick_lot == 0 {
            return Err(SpecError::IncrementTooFine);
        }
        Ok(SymbolSpec {
            id,
            tick_size,
            lot_size,
            min_qty: Qty(1),
            max_qty: Qty(1_000_000_000),
            price_band: Rate(5_000_000),
            money_per_tick_lot,
        })
    }

    /// Sets the order-size limits.
    ///
    /// # Errors
    ///
    /// [`SpecError::BadQtyLimits`] unless `1 ≤ min ≤ max`.
    pub fn with_qty_limits(mut self, min: Qty, max: Qty) -> Result<SymbolSpec, SpecError> {
        if min.0 < 1 || min > max {
            return Err(SpecError::BadQtyLimits);
        }
        self.min_qty = min;
        self.max_qty = max;
        Ok(self)
    }

    /// Sets the market-order protection band.
    ///
    /// # Errors
    ///
    /// [`SpecError::BadPriceBand`] unless `0 < band < 1`.
    pub fn with_price_band(mut self, band: Rate) -> Result<SymbolSpec, SpecError> {
        if band <= Rate::ZERO || band >= Rate::ONE {
            return Err(SpecError::BadPriceBand);
        }
        self.price_band = band;
        Ok(self)
    }

    /// Money units in one tick × one lot.
    #[must_use]
    pub const fn money_per_tick_lot(&self) -> i128 {
        self.money_per_tick_lot
    }

    /// The exact notional of `qty` lots at `price` ticks (signed like `qty`).
    #[must_use]
    pub const fn notional(&self, price: Price, qty: Qty) -> Money {
        Money(price.0 as i128 * qty.0 as i128 * self.money_per_tick_lot)
    }

    /// Converts a decimal price to ticks, rejecting values between ticks.
    ///
    /// # Errors
    ///
    /// [`GridError::PriceNotOnTick`] or [`GridError::OutOfRange`].
    pub fn price_from_decimal(&self, value: Decimal) -> Result<Price, GridError> {
        to_grid(value, self.tick_size, GridError::PriceNotOnTick).map(Price)
    }

    /// Converts a decimal quantity to lots, rejecting values between lots.
    ///
    /// # Errors
    ///
    /// [`GridError::QtyNotOnLot`] or [`GridError::OutOfRange`].
    pub fn qty_from_decimal(&self, value: Decimal) -> Result<Qty, GridError> {
        to_grid(value, self.lot_size, GridError::QtyNotOnLot).map(Qty)
    }

    /// A price in ticks as an exact decimal (trailing zeros removed).
    #[must_use]
    pub fn price_to_decimal(&self, price: Price) -> Decimal {
        (Decimal::from(price.0) * self.tick_size).normalize()
    }

    /// A quantity in lots as an exact decimal (trailing zeros removed).
    #[must_use]
    pub fn qty_to_decimal(&self, qty: Qty) -> Decimal {
        (Decimal::from(qty.0) * self.lot_size).normalize()
    }
}

fn to_grid(value: Decimal, step: Decimal, off_grid: GridError) -> Result<i64, GridError> {
    let steps = value.checked_div(step).ok_or(GridError::OutOfRange)?;
    if !steps.fract().is_zero() {
        return Err(off_grid);
    }
    i64::try_from(steps.trunc().mantissa() / 10i128.pow(steps.scale()))
        .map_err(|_| GridError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn grid_conversions_reject_off_grid_values() {
        let spec = SymbolSpec::new(SymbolId(0), dec("0.5"), dec("0.001")).unwrap();
        assert_eq!(spec.price_from_decimal(dec("20000.5")), Ok(Price(40001)));
        assert_eq!(
            spec.price_from_decimal(dec("20000.25")),
            Err(GridError::PriceNotOnTick)
        );
        assert_eq!(spec.qty_from_decimal(dec("1.234")), Ok(Qty(1234)));
        assert_eq!(
            spec.qty_from_decimal(dec("1.2345")),
            Err(GridError::QtyNotOnLot)
        );
        assert_eq!(spec.qty_from_decimal(dec("-0.002")), Ok(Qty(-2)));
        assert_eq!(spec.price_to_decimal(Price(40001)).to_string(), "20000.5");
        assert_eq!(spec.qty_to_decimal(Qty(1000)).to_string(), "1");
    }

    #[test]
    fn notional_is_exact_money() {
        let spec = SymbolSpec::new(SymbolId(0), dec("0.1"), dec("0.001")).unwrap();
        // 20000.0 × 1.000 = 20000 quote.
        let notional = spec.notional(Price(200_000), Qty(1_000));
        assert_eq!(notional, Money(20_000 * Money::UNIT));
        assert_eq!(notional.to_string(), "20000");
    }

    #[test]
    fn too_fine_increments_are_refused() {
        assert_eq!(
            SymbolSpec::new(SymbolId(0), dec("0.0000001"), dec("0.0000001")),
            Err(SpecError::IncrementTooFine)
        );
        assert_eq!(
            SymbolSpec::new(SymbolId(0), dec("0"), dec("1")),
            Err(SpecError::NonPositiveIncrement)
        );
    }

    #[test]
    fn rates_and_money_parse_exactly() {
        assert_eq!(Rate::from_decimal(dec("0.005")), Some(Rate(500_000)));
        assert_eq!(Rate::from_decimal(dec("0.000000001")), None);
        assert_eq!(
            Money::from_decimal(dec("10000.5")),
            Some(Money(10_000_500_000_000_000))
        );
        assert_eq!(Money(-1_500_000_000_000).to_string(), "-1.5");
    }
}
