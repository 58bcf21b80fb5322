//! Pre-trade checks: initial margin of the reachable position, immediate loss, reduce-only
//! capping, tier leverage limits.

use crate::risk::account::AccountIdx;
use crate::risk::engine::{RiskEngine, im};
use crate::risk::num::{RATE_DEN, div_floor};
use crate::types::{AccountId, Money, Price, Qty, Side, SymbolId};

/// An incoming order as the risk stage sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    /// The account placing it.
    pub account: AccountId,
    /// The symbol.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// Quantity, lots.
    pub qty: Qty,
    /// Limit price, ticks; `None` for a market order (valued at the edge of the symbol's price
    /// band around the mark, where the book would stop filling it).
    pub limit_price: Option<Price>,
    /// Reduce-only: may only shrink the position.
    pub reduce_only: bool,
}

/// An order the risk stage lets through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Approved {
    /// The quantity to send to the book: the request's, or for reduce-only orders capped to
    /// the position.
    pub qty: Qty,
    /// Whether `qty` was added to the account's open orders (every approved order except
    /// reduce-only ones). When such an order ends — fills, cancels, expires, or the book
    /// refuses it — call [`RiskEngine::release_open`] for the quantity that ended.
    pub reserved: bool,
}

/// Why the risk stage refused an order. `Display` gives the replay reason word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderReject {
    /// The account does not exist: deposit first.
    #[error("unknown_account")]
    UnknownAccount,
    /// No such symbol.
    #[error("unknown_symbol")]
    UnknownSymbol,
    /// The quantity is not positive or exceeds the symbol's `max_qty`.
    #[error("invalid_qty")]
    InvalidQty,
    /// The limit price is not positive.
    #[error("invalid_price")]
    InvalidPrice,
    /// A market order on a symbol that has neither a mark nor a trade yet.
    #[error("no_mark_price")]
    NoMarkPrice,
    /// The initial margin of the position the account could reach, plus the order's immediate
    /// loss, exceeds the available margin: deposit, lower the size or raise the leverage.
    #[error("insufficient_margin")]
    InsufficientMargin,
    /// A reduce-only order that would open or grow a position.
    #[error("reduce_only_increases")]
    ReduceOnlyIncreases,
    /// The reachable position falls in a tier whose maximum leverage is below the account's:
    /// lower the leverage or the size.
    #[error("position_limit_exceeded")]
    PositionLimitExceeded,
}

impl RiskEngine {
    /// Checks an incoming order and, when it is approved (and not reduce-only), reserves its
    /// quantity as open.
    ///
    /// - **Reduce-only**: refused if it would open or grow the position, else capped to it.
    /// - An order that cannot grow `|size|` even if every open order on its side filled passes
    ///   without a margin check (this includes a flip to a smaller opposite position: the
    ///   requirement of the reachable position is lower than today's).
    /// - Otherwise the **reachable position** `|size ± (open on that side + qty)|` is valued at
    ///   `max(order price, mark)` (a market order's price is the band edge); its tier must allow
    ///   the account's leverage, and the extra initial margin of the growth plus the
    ///   **immediate loss** (`qty × (price − mark)` for a buy above the mark, mirrored for a
    ///   sell) must fit the available margin.
    ///
    /// The hot path: no allocation; O(active symbols of the account).
    ///
    /// # Errors
    ///
    /// [`OrderReject`].
    pub fn check_order(&mut self, req: &OrderRequest) -> Result<Approved, OrderReject> {
        if self.sym(req.symbol).is_none() {
            return Err(OrderReject::UnknownSymbol);
        }
        let idx = self
            .index_of(req.account)
            .ok_or(OrderReject::UnknownAccount)?;
        self.check_order_at(idx, req)
    }

    /// [`RiskEngine::check_order`] for the account at `idx`, which the caller looked up for
    /// `req.account` (the id is not looked up again).
    pub(crate) fn check_order_at(
        &mut self,
        idx: AccountIdx,
        req: &OrderRequest,
    ) -> Result<Approved, OrderReject> {
        let s = req.symbol.0 as usize;
        let state = self.sym(req.symbol).ok_or(OrderReject::UnknownSymbol)?;
        if idx.0 as usize >= self.accounts.len() {
            return Err(OrderReject::UnknownAccount);
        }
        let spec = state.config.spec();
        if req.qty.0 <= 0 || req.qty > spec.max_qty {
            return Err(OrderReject::InvalidQty);
        }
        if req.limit_price.is_some_and(|p| p.0 <= 0) {
            return Err(OrderReject::InvalidPrice);
        }
        let slot = self.slot(idx, s);
        let pos = self.positions[slot];
        let q = pos.size;
        let sign = req.side.sign();

        if req.reduce_only {
            if q == 0 || q.signum() == sign {
                return Err(OrderReject::ReduceOnlyIncreases);
            }
            return Ok(Approved {
                qty: Qty(req.qty.0.min(q.abs())),
                reserved: false,
            });
        }

        let open_same = match req.side {
            Side::Buy => pos.open_buy,
            Side::Sell => pos.open_sell,
        };
        let reach = q.saturating_add(sign.saturating_mul(open_same.saturating_add(req.qty.0)));
        let growth = i64::try_from(reach.unsigned_abs().saturating_sub(q.unsigned_abs()))
            .unwrap_or(i64::MAX);
        if growth > 0 {
            let mark = match (state.reference_price(), req.limit_price) {
                (Some(m), _) => m,
                (None, Some(p)) => p,
                (None, None) => return Err(OrderReject::NoMarkPrice),
            };
            let price = match req.limit_price {
                Some(p) => p,
                None => band_edge(mark, spec.price_band.0, req.side),
            };
            let value_price = price.max(mark);
            let leverage = state.leverage_of(&pos);

            // Tier limit on the reachable position.
            let reach_notional = state.notional_sat(value_price, reach.saturating_abs());
            let tiers = state.config.tiers();
            if leverage > tiers.max_leverage(tiers.tier_for(Money(reach_notional))) {
                return Err(OrderReject::PositionLimitExceeded);
            }

            // Extra initial margin: growth on this side valued at `value_price`, against the
            // other side's growth at the mark (open orders are charged for the larger side).
            let (grow_buy, grow_sell) = pos.growth();
            let other = match req.side {
                Side::Buy => grow_sell,
                Side::Sell => grow_buy,
            };
            let new_order_notional = state
                .notional_sat(value_price, growth)
                .max(state.notional_sat(mark, other));
            let delta = im(new_order_notional, leverage)
                .saturating_sub(state.order_margin(&pos))
                .max(0);

            // Immediate loss of an order priced worse than the mark.
            let worse_ticks = match req.side {
                Side::Buy => price.0.saturating_sub(mark.0),
                Side::Sell => mark.0.saturating_sub(price.0),
            }
            .max(0);
            let loss = state.notional_sat(Price(worse_ticks), req.qty.0);

            let available = self.available_margin_raw(idx);
            if available.saturating_sub(delta).saturating_sub(loss) < 0 {
                return Err(OrderReject::InsufficientMargin);
            }
        }
        self.add_open_at(idx, slot, s, req.side, req.qty.0);
        Ok(Approved {
            qty: req.qty,
            reserved: true,
        })
    }
}

/// The market-order protection limit: `mark × (1 ± band)`, the offset rounded toward the mark.
fn band_edge(mark: Price, band: i64, side: Side) -> Price {
    let offset = div_floor(i128::from(mark.0) * i128::from(band), RATE_DEN).unwrap_or(0);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    Price(match side {
        Side::Buy => mark.0.saturating_add(offset),
        Side::Sell => mark.0.saturating_sub(offset).max(1),
    })
}
