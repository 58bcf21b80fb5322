//! Per-symbol risk configuration: leverage, margin modes, maintenance-margin tiers, fees.
//!
//! # Tier layout
//!
//! A symbol's maintenance margin is piecewise linear in the position's notional `N`. Tier `n`
//! covers `floor[n] ≤ N < floor[n+1]` (`floor[0] = 0`) and has rate `rate[n]`; its maintenance
//! amount is derived, never configured:
//!
//! ```text
//! cum[0] = 0,   cum[n] = cum[n−1] + floor[n] · (rate[n] − rate[n−1])
//! MM(N)  = N · rate[n] − cum[n]        (for the tier n that N falls in)
//! ```
//!
//! which makes `MM` continuous at every floor. The amounts are kept exactly, scaled by 10⁸
//! (units of 10⁻²⁰ quote), so no tier boundary ever rounds; only the final `MM` is rounded
//! (up: it is a requirement).

use rust_decimal::Decimal;

use crate::risk::num::{RATE_DEN, div_ceil, div_floor, rate_ceil};
use crate::types::{Money, Rate, SymbolSpec};

/// The largest notional (and balance) the risk stage computes with exactly: 10¹⁵ quote units
/// (`10²⁷` money units). Every product the stage forms from values under this bound (times a
/// rate scale of 10⁸, summed over up to 64 symbols) stays below `i128::MAX ≈ 1.7·10³⁸`.
pub const MAX_MONEY: Money = Money(1_000_000_000_000_000_000_000_000_000);

/// Leverage as an exact ratio in units of 10⁻⁸ (`Leverage::from_whole(50)` is 50×).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Leverage(pub i64);

impl Leverage {
    /// Decimal places of a leverage.
    pub const SCALE: u32 = 8;
    /// 1×.
    pub const ONE: Leverage = Leverage(100_000_000);

    /// `n`× leverage.
    #[must_use]
    pub const fn from_whole(n: u32) -> Leverage {
        Leverage(n as i64 * Leverage::ONE.0)
    }

    /// Parses an exact decimal leverage (`"12.5"`); `None` if it has more than 8 decimals or
    /// does not fit. Zero and negative values parse; the engine rejects them where used.
    #[must_use]
    pub fn from_decimal(value: Decimal) -> Option<Leverage> {
        Rate::from_decimal(value).map(|r| Leverage(r.0))
    }

    /// The leverage as an exact decimal (trailing zeros removed).
    #[must_use]
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, Leverage::SCALE).normalize()
    }

    /// Initial margin of `notional` at this leverage, `⌈|notional| / leverage⌉` (rounded up:
    /// a requirement). `None` if the leverage is not positive or the product overflows.
    #[must_use]
    pub fn initial_margin(self, notional: Money) -> Option<Money> {
        if self.0 <= 0 {
            return None;
        }
        // Fast path: a whole leverage and a notional under 2⁶³ units divide in 64 bits.
        if self.0 % Leverage::ONE.0 == 0
            && let Ok(n) = u64::try_from(notional.0.unsigned_abs())
        {
            let whole = (self.0 / Leverage::ONE.0) as u64;
            return Some(Money(i128::from(n.div_ceil(whole))));
        }
        let scaled = notional.0.checked_abs()?.checked_mul(RATE_DEN)?;
        div_ceil(scaled, i128::from(self.0)).map(Money)
    }
}

/// Which price the maintenance margin's notional is taken at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MmBasis {
    /// `|size| × mark price` (Binance, Hyperliquid, the default).
    #[default]
    Mark,
    /// The position's entry notional (Bybit, BitMEX).
    Entry,
}

/// How a position is margined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MarginMode {
    /// The position shares the account's collateral with every other cross position.
    #[default]
    Cross,
    /// The position has its own margin, moved out of collateral when it opens or grows; only
    /// that margin is at risk.
    Isolated,
}

/// One row of a symbol's maintenance-margin table, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarginTier {
    /// The smallest notional in this tier (`0` for the first).
    pub floor: Money,
    /// Maintenance margin rate, `0 ≤ mmr < 1`.
    pub mmr: Rate,
    /// Highest leverage allowed for a position in this tier; `None`: the symbol's maximum.
    pub max_leverage: Option<Leverage>,
}

/// Why a tier table or a symbol configuration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No tiers: give at least one `{floor: 0, mmr}` row.
    #[error("margin_tiers must not be empty")]
    NoTiers,
    /// The first tier must start at notional 0.
    #[error("the first margin tier must have floor 0")]
    FirstFloorNotZero,
    /// Floors must strictly increase and stay under [`MAX_MONEY`].
    #[error("margin tier floors must be strictly ascending and below MAX_MONEY")]
    FloorsNotAscending,
    /// Rates must be in `0..1` and must not decrease from one tier to the next.
    #[error("margin tier rates must be in [0, 1) and non-decreasing")]
    BadRate,
    /// A leverage (symbol or tier maximum) is below 1×.
    #[error("max_leverage must be at least 1")]
    BadLeverage,
    /// A fee rate is not in `(-1, 1)` (liquidation fee: `[0, 1)`).
    #[error("fee rates must be in (-1, 1); liquidation_fee in [0, 1)")]
    BadFee,
}

/// One derived tier row: floor, rate and maintenance amount, all exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TierRow {
    /// Lowest notional of the tier, money units.
    pub(crate) floor: i128,
    /// Rate in 10⁻⁸.
    pub(crate) rate: i128,
    /// `cum[n] × 10⁸`, exact (money units × 10⁸).
    pub(crate) cum_scaled: i128,
    /// `⌊cum[n]⌋` in money units: `cum_scaled = cum_hi · 10⁸ + cum_lo`.
    pub(crate) cum_hi: i128,
    /// `cum_scaled − cum_hi · 10⁸`, in `0..10⁸`.
    pub(crate) cum_lo: i64,
    /// Highest leverage for a position in this tier (resolved against the symbol's).
    pub(crate) max_leverage: Leverage,
}

/// A validated maintenance-margin table with its derived maintenance amounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarginTiers {
    rows: Vec<TierRow>,
}

impl MarginTiers {
    /// Validates `tiers` (ascending floors from 0, rates in `[0, 1)` non-decreasing) and derives
    /// each tier's maintenance amount. Tiers without a `max_leverage` get `symbol_max_leverage`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the first rule the table breaks.
    ///
    /// # Examples
    ///
    /// ```
    /// use liqcore::risk::{Leverage, MarginTier, MarginTiers};
    /// use liqcore::types::{Money, Rate};
    /// let q = |x: i128| Money(x * Money::UNIT);
    /// let tiers = MarginTiers::new(
    ///     &[
    ///         MarginTier { floor: q(0), mmr: Rate(400_000), max_leverage: None },
    ///         MarginTier { floor: q(50_000), mmr: Rate(500_000), max_leverage: None },
    ///     ],
    ///     Leverage::from_whole(125),
    /// )
    /// .unwrap();
    /// assert_eq!(tiers.maintenance_amount(1), q(50));
    /// ```
    pub fn new(
        tiers: &[MarginTier],
        symbol_max_leverage: Leverage,
    ) -> Result<MarginTiers, ConfigError> {
        let first = tiers.first().ok_or(ConfigError::NoTiers)?;
        if first.floor != Money::ZERO {
            return Err(ConfigError::FirstFloorNotZero);
        }
        let mut rows = Vec::with_capacity(tiers.len());
        let mut prev: Option<TierRow> = None;
        for tier in tiers {
            if tier.mmr < Rate::ZERO || tier.mmr >= Rate::ONE {
                return Err(ConfigError::BadRate);
            }
            if tier.floor.0 < 0 || tier.floor > MAX_MONEY {
                return Err(ConfigError::FloorsNotAscending);
            }
            let max_leverage = tier.max_leverage.unwrap_or(symbol_max_leverage);
            if max_leverage < Leverage::ONE {
                return Err(ConfigError::BadLeverage);
            }
            let rate = i128::from(tier.mmr.0);
            let cum_scaled = match prev {
                None => 0,
                Some(p) => {
                    if tier.floor.0 <= p.floor {
                        return Err(ConfigError::FloorsNotAscending);
                    }
                    if rate < p.rate {
                        return Err(ConfigError::BadRate);
                    }
                    // floor ≤ 10²⁷, Δrate < 10⁸: the product is < 10³⁵, the sum of at most a few
                    // such terms stays far below i128::MAX.
                    p.cum_scaled + tier.floor.0 * (rate - p.rate)
                }
            };
            // The divisor is a positive constant: neither division fails.
            let cum_hi = div_floor(cum_scaled, RATE_DEN).unwrap_or(0);
            let row = TierRow {
                floor: tier.floor.0,
                rate,
                cum_scaled,
                cum_hi,
                cum_lo: (cum_scaled - cum_hi * RATE_DEN) as i64,
                max_leverage,
            };
            rows.push(row);
            prev = Some(row);
        }
        Ok(MarginTiers { rows })
    }

    /// Number of tiers (≥ 1).
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Always `false`: a table has at least one tier.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The tier a notional falls in: the last tier whose floor is `≤ |notional|`.
    #[must_use]
    pub fn tier_for(&self, notional: Money) -> usize {
        let n = notional.0.saturating_abs();
        // Tables are short (≤ ~20 rows): a backwards scan beats a binary search.
        let mut t = self.rows.len() - 1;
        while t > 0 && self.rows[t].floor > n {
            t -= 1;
        }
        t
    }

    /// The floor of tier `t` (clamped to the last tier).
    #[must_use]
    pub fn floor(&self, t: usize) -> Money {
        Money(self.row(t).floor)
    }

    /// The maintenance margin rate of tier `t` (clamped to the last tier).
    #[must_use]
    pub fn rate(&self, t: usize) -> Rate {
        // Rates were validated to fit `Rate` (< 10⁸).
        Rate(self.row(t).rate as i64)
    }

    /// The highest leverage allowed in tier `t` (clamped to the last tier).
    #[must_use]
    pub fn max_leverage(&self, t: usize) -> Leverage {
        self.row(t).max_leverage
    }

    /// The derived maintenance amount `cum[t]`, rounded down (it is subtracted from a
    /// requirement). Exact whenever the floors are whole multiples of 10⁻⁴ quote.
    #[must_use]
    pub fn maintenance_amount(&self, t: usize) -> Money {
        Money(self.row(t).cum_hi)
    }

    /// The maintenance margin of a position of `|notional|`: `⌈N · rate − cum⌉` for its tier,
    /// rounded up (a requirement). Saturates beyond [`MAX_MONEY`]-sized notionals.
    #[must_use]
    pub fn maintenance_margin(&self, notional: Money) -> Money {
        let n = notional.0.saturating_abs();
        let row = self.rows[self.tier_for(notional)];
        // Rates were validated to fit `Rate` (below 10⁸).
        Money(rate_ceil(n, row.rate as i64, row.cum_hi, row.cum_lo).unwrap_or(i128::MAX))
    }

    #[inline]
    pub(crate) fn row(&self, t: usize) -> TierRow {
        self.rows[t.min(self.rows.len() - 1)]
    }

    #[inline]
    pub(crate) fn rows(&self) -> &[TierRow] {
        &self.rows
    }
}

/// Everything the risk stage needs to know about one symbol (the `symbol` replay op).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolRiskConfig {
    spec: SymbolSpec,
    max_leverage: Leverage,
    tiers: MarginTiers,
    maker_fee: Rate,
    taker_fee: Rate,
    liquidation_fee: Rate,
    mm_basis: MmBasis,
}

impl SymbolRiskConfig {
    /// A symbol with no fees and maintenance margin on the mark price.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the leverage is below 1× or the tier table is invalid.
    pub fn new(
        spec: SymbolSpec,
        max_leverage: Leverage,
        tiers: &[MarginTier],
    ) -> Result<SymbolRiskConfig, ConfigError> {
        if max_leverage < Leverage::ONE {
            return Err(ConfigError::BadLeverage);
        }
        let tiers = MarginTiers::new(tiers, max_leverage)?;
        Ok(SymbolRiskConfig {
            spec,
            max_leverage,
            tiers,
            maker_fee: Rate::ZERO,
            taker_fee: Rate::ZERO,
            liquidation_fee: Rate::ZERO,
            mm_basis: MmBasis::Mark,
        })
    }

    /// Sets the maker and taker fee rates (a negative maker fee is a rebate).
    ///
    /// # Errors
    ///
    /// [`ConfigError::BadFee`] unless both are in `(-1, 1)`.
    pub fn with_fees(mut self, maker: Rate, taker: Rate) -> Result<SymbolRiskConfig, ConfigError> {
        let ok = |r: Rate| r.0.abs() < Rate::ONE.0;
        if !ok(maker) || !ok(taker) {
            return Err(ConfigError::BadFee);
        }
        self.maker_fee = maker;
        self.taker_fee = taker;
        Ok(self)
    }

    /// Sets the liquidation fee rate: charged to the liquidated account (the taker of a
    /// liquidation fill) instead of the taker fee, and credited to the insurance fund.
    ///
    /// # Errors
    ///
    /// [`ConfigError::BadFee`] unless it is in `[0, 1)`.
    pub fn with_liquidation_fee(mut self, fee: Rate) -> Result<SymbolRiskConfig, ConfigError> {
        if fee < Rate::ZERO || fee >= Rate::ONE {
            return Err(ConfigError::BadFee);
        }
        self.liquidation_fee = fee;
        Ok(self)
    }

    /// Sets the price the maintenance margin's notional is taken at.
    #[must_use]
    pub fn with_mm_basis(mut self, basis: MmBasis) -> SymbolRiskConfig {
        self.mm_basis = basis;
        self
    }

    /// The symbol's grid and order limits.
    #[must_use]
    pub fn spec(&self) -> &SymbolSpec {
        &self.spec
    }

    /// Highest leverage an account may set.
    #[must_use]
    pub fn max_leverage(&self) -> Leverage {
        self.max_leverage
    }

    /// The maintenance-margin table.
    #[must_use]
    pub fn tiers(&self) -> &MarginTiers {
        &self.tiers
    }

    /// Maker fee rate.
    #[must_use]
    pub fn maker_fee(&self) -> Rate {
        self.maker_fee
    }

    /// Taker fee rate.
    #[must_use]
    pub fn taker_fee(&self) -> Rate {
        self.taker_fee
    }

    /// Liquidation fee rate.
    #[must_use]
    pub fn liquidation_fee(&self) -> Rate {
        self.liquidation_fee
    }

    /// Price basis of the maintenance margin.
    #[must_use]
    pub fn mm_basis(&self) -> MmBasis {
        self.mm_basis
    }

    /// The leverage an account gets before it sets one: 20× (Binance's default), or the
    /// symbol's maximum if lower.
    #[must_use]
    pub fn default_leverage(&self) -> Leverage {
        self.max_leverage.min(Leverage::from_whole(20))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(x: i128) -> Money {
        Money(x * Money::UNIT)
    }

    fn tier(floor: i128, mmr: i64) -> MarginTier {
        MarginTier {
            floor: q(floor),
            mmr: Rate(mmr),
            max_leverage: None,
        }
    }

    #[test]
    fn binance_tiers_derive_their_maintenance_amounts() {
        let tiers = MarginTiers::new(
            &[
                tier(0, 400_000),
                tier(50_000, 500_000),
                tier(250_000, 1_000_000),
            ],
            Leverage::from_whole(125),
        )
        .unwrap();
        assert_eq!(tiers.maintenance_amount(0), q(0));
        assert_eq!(tiers.maintenance_amount(1), q(50));
        assert_eq!(tiers.maintenance_amount(2), q(1_300));
        // Continuous at each floor, linear inside a tier.
        assert_eq!(tiers.maintenance_margin(q(50_000)), q(200));
        assert_eq!(
            tiers.maintenance_margin(q(49_999)),
            Money(199_996 * Money::UNIT / 1000)
        );
        assert_eq!(tiers.maintenance_margin(q(250_000)), q(1_200));
        assert_eq!(tiers.maintenance_margin(q(300_000)), q(1_700));
        assert_eq!(tiers.tier_for(q(-60_000)), 1);
    }

    #[test]
    fn bad_tables_are_refused() {
        let lev = Leverage::from_whole(10);
        assert_eq!(MarginTiers::new(&[], lev), Err(ConfigError::NoTiers));
        assert_eq!(
            MarginTiers::new(&[tier(5, 1)], lev),
            Err(ConfigError::FirstFloorNotZero)
        );
        assert_eq!(
            MarginTiers::new(&[tier(0, 1), tier(0, 2)], lev),
            Err(ConfigError::FloorsNotAscending)
        );
        assert_eq!(
            MarginTiers::new(&[tier(0, 2), tier(10, 1)], lev),
            Err(ConfigError::BadRate)
        );
        assert_eq!(
            MarginTiers::new(&[tier(0, 100_000_000)], lev),
            Err(ConfigError::BadRate)
        );
    }

    #[test]
    fn initial_margin_rounds_up() {
        let lev = Leverage::from_whole(3);
        assert_eq!(lev.initial_margin(Money(10)), Some(Money(4)));
        assert_eq!(lev.initial_margin(Money(-9)), Some(Money(3)));
        assert_eq!(Leverage(0).initial_margin(Money(9)), None);
        // 12.5× takes the 128-bit path, as does a notional beyond 2⁶⁴ units.
        assert_eq!(
            Leverage(1_250_000_000).initial_margin(Money(101)),
            Some(Money(9))
        );
        let big = Money(i128::from(u64::MAX) * 3 + 1);
        assert_eq!(
            lev.initial_margin(big),
            Some(Money(i128::from(u64::MAX) + 1))
        );
        // Both paths agree.
        for n in [0i128, 1, 99, 1 << 40, (1 << 62) + 7] {
            let fast = Leverage::from_whole(7).initial_margin(Money(n)).unwrap();
            let exact = div_ceil(n * RATE_DEN, 7 * RATE_DEN).unwrap();
            assert_eq!(fast, Money(exact));
        }
    }
}
