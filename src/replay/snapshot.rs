//! Snapshots for the `query` op, read straight from the stages' state between commands: the
//! `account` event from the risk stage ([`RiskEngine::account_view`] and
//! [`RiskEngine::positions`]) and the `book` event from a symbol's [`Book`]. Nothing here
//! computes margin itself: equity, margins, liquidation and bankruptcy prices are the risk
//! stage's numbers, only reshaped for printing.

use crate::book::{Book, DepthLevel};
use crate::risk::{MarginMode, RiskEngine};
use crate::types::{AccountId, Money, Side, SymbolId};

use super::event::{AccountSnapshot, BookSnapshot, PositionSnapshot};

/// The `account` snapshot of `account`, or `None` if no deposit created it.
///
/// The top-level figures cover the cross-margined part (collateral plus the cross positions'
/// unrealized PnL, and their margins); each position carries its own numbers, `margin` only
/// for an isolated one. Positions come lowest symbol id first (stable output). The entry
/// price is the exact entry notional over the size, rounded half away from zero to 12
/// decimals (the money unit) — see [`crate::risk::PositionView::entry_price_decimal`].
///
/// # Examples
///
/// ```
/// use liqcore::replay::account_snapshot;
/// use liqcore::risk::{RiskConfig, RiskEngine};
/// use liqcore::types::{AccountId, Money};
/// let mut risk = RiskEngine::new(RiskConfig { max_accounts: 4, max_symbols: 1 });
/// risk.deposit(AccountId(7), Money(5 * Money::UNIT)).unwrap();
/// let snapshot = account_snapshot(&risk, AccountId(7)).unwrap();
/// assert_eq!(snapshot.collateral, Money(5 * Money::UNIT));
/// assert!(snapshot.positions.is_empty());
/// assert!(account_snapshot(&risk, AccountId(8)).is_none());
/// ```
#[must_use]
pub fn account_snapshot(risk: &RiskEngine, account: AccountId) -> Option<AccountSnapshot> {
    let view = risk.account_view(account)?;
    let positions = risk
        .positions(account)
        .filter(|position| position.qty.0 != 0)
        .filter_map(|position| {
            let spec = risk.symbol(position.symbol)?.spec();
            Some(PositionSnapshot {
                symbol: position.symbol,
                qty: position.qty,
                entry_price: position.entry_price_decimal(spec)?,
                mode: position.mode,
                margin: match position.mode {
                    MarginMode::Isolated => Some(position.margin),
                    MarginMode::Cross => None,
                },
                unrealized_pnl: position.unrealized_pnl,
                maintenance_margin: position.maintenance_margin,
                liquidation_price: position.liquidation_price,
                bankruptcy_price: position.bankruptcy_price,
            })
        })
        .collect();
    Some(AccountSnapshot {
        account,
        collateral: view.collateral,
        equity: view.equity,
        maintenance_margin: view.maintenance_margin,
        initial_margin: view.initial_margin,
        positions,
    })
}

/// The `book` snapshot of `book` (market `symbol`): the best `depth` levels per side (all of
/// them for `None`), best first, each level's total remaining quantity.
#[must_use]
pub fn book_snapshot(book: &Book, symbol: SymbolId, depth: Option<u64>) -> BookSnapshot {
    let side = |side: Side| {
        let levels = book.level_count(side);
        let wanted = depth.map_or(levels, |d| levels.min(usize::try_from(d).unwrap_or(levels)));
        let mut out = vec![DepthLevel::default(); wanted];
        let n = book.depth(side, &mut out);
        out.truncate(n);
        out
    };
    BookSnapshot {
        symbol,
        bids: side(Side::Buy),
        asks: side(Side::Sell),
    }
}

/// The `insurance` snapshot's balance: the fund as the risk stage holds it.
#[must_use]
pub fn insurance_balance(risk: &RiskEngine) -> Money {
    risk.insurance_fund()
}
