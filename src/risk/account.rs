//! The dense account store: ids, accounts, per-(account, symbol) position slots, and the read-only
//! views the queries return.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::risk::tiers::{Leverage, MarginMode};
use crate::types::{AccountId, Money, Price, Qty, SymbolId, SymbolSpec};

/// A dense account index: `0..number_of_accounts`, assigned in order of creation and never
/// reused. Cheaper than an [`AccountId`] lookup; the liquidation scanner keys its index by it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountIdx(pub u32);

/// Multiplicative (Fibonacci) hashing for `u64` ids: one multiply, good high bits for the
/// SwissTable control bytes. Ids come from the trusted host, so no keyed hash is needed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Account id → dense index, sized up front so inserts within capacity never allocate.
pub(crate) type IdMap = HashMap<u64, u32, BuildHasherDefault<IdHasher>>;

/// One account's cross-margin state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Account {
    pub(crate) id: AccountId,
    /// Free collateral, money units (excludes isolated margin). May go negative only through
    /// a fill worse than bankruptcy, which the scanner settles.
    pub(crate) collateral: i128,
    /// Bit `s`: the account has a non-zero position in symbol `s`.
    pub(crate) position_mask: u64,
    /// Bit `s`: the account has open (reserved) order quantity in symbol `s`.
    pub(crate) order_mask: u64,
}

/// One (account, symbol) slot: the position and its settings.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Position {
    /// Signed size, lots: + long, − short.
    pub(crate) size: i64,
    /// `Σ price · qty · m` of the open part, signed like `size`, exact.
    pub(crate) entry_notional: i128,
    /// Isolated margin, money units (0 in cross mode).
    pub(crate) margin: i128,
    /// Realized PnL since the account was created, money units (before fees).
    pub(crate) realized_pnl: i128,
    /// Open (approved, not yet ended) buy quantity, lots.
    pub(crate) open_buy: i64,
    /// Open sell quantity, lots.
    pub(crate) open_sell: i64,
    /// The account's leverage for this symbol; `Leverage(0)`: the symbol's default.
    pub(crate) leverage: Leverage,
    /// Cross or isolated.
    pub(crate) mode: MarginMode,
}

impl Position {
    /// How far the open orders on each side could grow `|size|`, lots: `(buy, sell)`.
    #[inline]
    pub(crate) fn growth(&self) -> (i64, i64) {
        let abs = self.size.unsigned_abs();
        let grow = |reach: i64| {
            let g = reach.unsigned_abs().saturating_sub(abs);
            i64::try_from(g).unwrap_or(i64::MAX)
        };
        (
            grow(self.size.saturating_add(self.open_buy)),
            grow(self.size.saturating_sub(self.open_sell)),
        )
    }
}

/// A snapshot of an account's cross-margined part (the `account` query event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountView {
    /// The account.
    pub account: AccountId,
    /// Collateral not locked in isolated positions.
    pub collateral: Money,
    /// Collateral plus the cross positions' unrealized PnL at their marks.
    pub equity: Money,
    /// Σ maintenance margin of the cross positions.
    pub maintenance_margin: Money,
    /// Σ initial margin (`|entry notional| / leverage`) of the cross positions.
    pub initial_margin: Money,
    /// What a new order or a withdrawal can use: equity − initial margin of the cross positions
    /// − initial margin of the growth every open order could add (cross and isolated).
    pub available_margin: Money,
}

/// A snapshot of one position (an entry of the `account` event's `positions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionView {
    /// The symbol.
    pub symbol: SymbolId,
    /// Signed size: + long, − short.
    pub qty: Qty,
    /// Exact entry notional, signed like `qty`; the entry price is `entry_notional / qty`.
    pub entry_notional: Money,
    /// Cross or isolated.
    pub mode: MarginMode,
    /// Effective leverage.
    pub leverage: Leverage,
    /// Isolated margin (zero in cross mode).
    pub margin: Money,
    /// Unrealized PnL at the symbol's mark.
    pub unrealized_pnl: Money,
    /// Realized PnL (before fees), cumulative.
    pub realized_pnl: Money,
    /// Maintenance margin of this position alone.
    pub maintenance_margin: Money,
    /// Initial margin of this position alone (`|entry notional| / leverage`, rounded up).
    pub initial_margin: Money,
    /// Mark at which the covering equity equals its maintenance margin (rounded: long up,
    /// short down); `None` where none exists.
    pub liquidation_price: Option<Price>,
    /// Mark at which the covering equity is zero (same rounding); `None` where none exists.
    pub bankruptcy_price: Option<Price>,
    /// Open buy quantity (approved orders not yet ended).
    pub open_buy: Qty,
    /// Open sell quantity.
    pub open_sell: Qty,
}

impl PositionView {
    /// The average entry price as a decimal in quote units, `entry_notional / (qty × lot)`,
    /// rounded half away from zero to 12 decimals (`None` when flat).
    #[must_use]
    pub fn entry_price_decimal(&self, spec: &SymbolSpec) -> Option<Decimal> {
        if self.qty.0 == 0 {
            return None;
        }
        let qty = spec.qty_to_decimal(self.qty);
        let notional = self.entry_notional.to_decimal();
        notional.checked_div(qty).map(|p| {
            p.round_dp_with_strategy(Money::SCALE, RoundingStrategy::MidpointAwayFromZero)
                .normalize()
        })
    }
}
