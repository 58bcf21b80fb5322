//! The scenario's markets: BTC-like perpetuals with Binance-like tiers and fees.

use rust_decimal::Decimal;

use crate::risk::{Leverage, MarginTier, SymbolRiskConfig};
use crate::types::{Money, Qty, Rate, SymbolId, SymbolSpec};

/// The highest leverage an account may set on a scenario symbol.
pub const MAX_LEVERAGE: u32 = 125;

/// Maker fee: 0.02 %.
pub const MAKER_FEE: Rate = Rate(20_000);
/// Taker fee: 0.05 %.
pub const TAKER_FEE: Rate = Rate(50_000);
/// Liquidation (clearance) fee: 0.5 %, paid by the liquidated account into the insurance fund.
pub const LIQUIDATION_FEE: Rate = Rate(500_000);

/// Maintenance-margin tiers as `(floor in quote units, mmr in 10⁻⁸, max leverage)`, shaped like
/// Binance's BTCUSDT table; the maintenance amounts are derived by [`crate::risk::MarginTiers`].
const TIERS: [(i128, i64, u32); 10] = [
    (0, 400_000, 125),
    (50_000, 500_000, 100),
    (600_000, 650_000, 75),
    (3_000_000, 1_000_000, 50),
    (12_000_000, 2_000_000, 25),
    (70_000_000, 2_500_000, 20),
    (100_000_000, 5_000_000, 10),
    (230_000_000, 10_000_000, 5),
    (480_000_000, 12_500_000, 4),
    (600_000_000, 15_000_000, 3),
];

/// The start price (in whole quote units) of scenario symbol `index`: 60,000 for symbol 0,
/// halved for each further symbol (30,000, 15,000, ...), never below 100.
#[must_use]
pub fn start_price_quote(index: u32) -> i64 {
    (60_000i64 >> index.min(16)).max(100)
}

/// The grid of scenario symbol `index`: tick 0.1, lot 0.001, orders of 1 lot to 1,000 units.
#[must_use]
pub fn spec(index: u32) -> SymbolSpec {
    SymbolSpec::new(SymbolId(index), Decimal::new(1, 1), Decimal::new(1, 3))
        .and_then(|s| s.with_qty_limits(Qty(1), Qty(1_000_000)))
        .unwrap_or_else(|_| unreachable!("constant spec is valid"))
}

/// The risk configuration of scenario symbol `index`: [`spec`], 125× maximum leverage, the
/// Binance-like tiers above (maintenance margin on the mark), 0.02 % / 0.05 % maker / taker fees
/// and a 0.5 % liquidation fee.
#[must_use]
pub fn risk_config(index: u32) -> SymbolRiskConfig {
    let tiers: Vec<MarginTier> = TIERS
        .iter()
        .map(|&(floor, mmr, lev)| MarginTier {
            floor: Money(floor * Money::UNIT),
            mmr: Rate(mmr),
            max_leverage: Some(Leverage::from_whole(lev)),
        })
        .collect();
    SymbolRiskConfig::new(spec(index), Leverage::from_whole(MAX_LEVERAGE), &tiers)
        .and_then(|c| c.with_fees(MAKER_FEE, TAKER_FEE))
        .and_then(|c| c.with_liquidation_fee(LIQUIDATION_FEE))
        .unwrap_or_else(|_| unreachable!("constant tiers and fees are valid"))
}

/// The largest position notional, in cents of the quote currency, whose tier still allows
/// `leverage`: 95 % of the floor of the first tier that does not (rounded down), or the last
/// floor for leverages every tier allows.
#[must_use]
pub fn max_notional_cents(leverage: u32) -> i128 {
    let limit = TIERS
        .iter()
        .find(|&&(_, _, max)| max < leverage)
        .map_or(TIERS[TIERS.len() - 1].0, |&(floor, _, _)| floor);
    limit * 95
}
