//! Margin accounts: the account half of the risk stage (DESIGN.md §1, §3, §5, §6).
//!
//! [`RiskEngine`] is a single-threaded state machine that owns every account, position, mark
//! price and fee balance outright. Tests (and later the stage driver and the liquidation
//! scanner) drive it directly: [`RiskEngine::check_order`] on each incoming order,
//! [`RiskEngine::apply_fill`] on each fill from the book, [`RiskEngine::set_mark`] on each mark
//! price, plus the account commands (deposit, withdraw, leverage, margin).
//!
//! [`LiquidationEngine`] wraps a `RiskEngine` with the liquidation half (DESIGN.md §5): an index
//! of positions by liquidation price per symbol (an indexed 4-ary heap per side; cross accounts
//! over several symbols in a watch list tested directly), the liquidation sequence (cancel the
//! open orders, reduce-only IOC at the bankruptcy price, whole or partial per
//! [`PartialLiquidation`]), settlement (liquidation fee capped by the margin left, surplus to and
//! deficits from the insurance fund) and ADL at the bankruptcy price by BitMEX's ranking. It
//! talks to the book through small `Copy` messages: [`RiskOutput`] out (cancels, a
//! [`LiquidationOrder`], events), [`BookToRisk`] in (fills, [`LiquidationEnd`]). Liquidation
//! order ids start at [`LIQUIDATION_ID_BASE`] (2⁶³); user ids must stay below. Full semantics,
//! invariants, limitations and costs: the docs of `src/risk/liquidation.rs`; measured in
//! `perf/scan.md`.
//!
//! # Layout
//!
//! - Accounts live in a dense, preallocated store: external `u64` ids map to an
//!   [`AccountIdx`] (`0..n`, in creation order) through a hash map sized up front.
//! - Each account owns `max_symbols` position slots, stored flat (`index · max_symbols +
//!   symbol`): size, exact entry notional, isolated margin, leverage, mode, open order
//!   quantity per side. A `u64` bit set per account names the symbols with a position and
//!   those with open orders, so account-wide sums touch only active slots.
//! - Per symbol: its [`SymbolRiskConfig`] (tiers with derived maintenance amounts, fees,
//!   [`MmBasis`], maximum leverage) and its mark.
//! - Per (symbol, side): a bit per account holding a position on that side (2 bits per account
//!   and symbol, preallocated), kept by every fill that changes a position's sign: ADL finds
//!   the opposite positions from it instead of reading every account's slot.
//!
//! # Semantics
//!
//! - **Money** is exact ([`crate::types::Money`], 10⁻¹² quote). A position keeps its entry
//!   notional `Σ price · qty` exactly; the entry price is derived. Rounding: margin
//!   requirements and fees round up; realized PnL, released isolated margin and maintenance
//!   amounts round down (payouts and deductions), and every remainder stays in the account, so
//!   money is conserved exactly.
//! - **One-way positions**: a fill grows, reduces, closes or flips through zero; the reducing
//!   part realizes PnL into collateral.
//! - **Cross** positions share the collateral: cross equity = collateral + Σ cross unrealized
//!   PnL at the marks. **Isolated** positions hold their own margin (moved out of collateral
//!   as `⌈fill notional / leverage⌉` when they open or grow, released pro rata as they shrink);
//!   their equity is margin + their unrealized PnL.
//! - **Maintenance margin** per position: the symbol's tier formula on its notional at the mark
//!   ([`MmBasis::Mark`], default) or at entry ([`MmBasis::Entry`]). **Initial margin**:
//!   `⌈|entry notional| / leverage⌉`.
//! - **Liquidation price**: the mark at which the covering equity equals the maintenance
//!   margin (cross: that symbol's mark with all other marks held, in the tier that applies at
//!   the resulting notional); **bankruptcy price**: equity zero. Solved exactly, rounded to the
//!   tick in the venue's favour (long up, short down). See `solve.rs`.
//! - **Available margin** = cross equity − Σ cross initial margin − initial margin of the
//!   growth every open order could add (at the mark). Withdrawals are limited to
//!   `min(collateral, available)`.
//! - Until a symbol has a mark, its last fill price serves as the mark.
//! - An account's leverage for a symbol starts at 20× (or the symbol's maximum if lower), in
//!   cross mode, until it sets one; the mode changes only while it has no position or open
//!   orders in the symbol.
//! - **Pre-trade check** ([`RiskEngine::check_order`]): the reachable position `|size ± (open
//!   orders on that side + qty)|` is valued at `max(order price, mark)`; its tier must allow the
//!   account's leverage, and the initial margin of its growth plus the order's immediate loss
//!   must fit the available margin. Orders that cannot grow `|size|` (reductions, flips to a
//!   smaller opposite position) skip the margin test; reduce-only orders are capped to the
//!   position. Approval reserves the quantity as open until [`RiskEngine::release_open`].
//! - A book trade becomes two fills with [`Fill::both_sides`]; the taker of a liquidation fill
//!   pays the liquidation fee into the insurance fund instead of the taker fee.
//!
//! # Venue conventions
//!
//! | venue | configuration |
//! | --- | --- |
//! | Bybit (isolated, MM on entry) | `mm_basis = Entry`, `MarginMode::Isolated`, one tier per risk limit |
//! | BitMEX (cross, MM on entry) | `mm_basis = Entry`, `MarginMode::Cross` |
//! | Binance (tiers, MM on mark) | `mm_basis = Mark`, tiers with floors / rates (maintenance amounts derived), per-tier `max_leverage` |
//! | Hyperliquid (isolated, MM on mark) | `mm_basis = Mark`, `MarginMode::Isolated`, `margin` = position margin |
//!
//! # Invariants
//!
//! - Per symbol, Σ size over accounts is 0 when fills arrive in matched pairs.
//! - Σ collateral + Σ isolated margin + fees + insurance fund − Σ entry notional = deposits −
//!   withdrawals, exactly, after every operation (Σ entry notional is what Σ unrealized PnL
//!   becomes at any common mark, since Σ size = 0). With every position flat, realized PnL
//!   nets to zero.
//! - A refused operation changes nothing.
//!
//! # Known limitations
//!
//! - Orders resting in the book are tracked by quantity only (their prices are unknown here):
//!   their margin is taken at the mark.
//! - A reducing fill in isolated mode books its realized PnL and released margin to collateral
//!   together; a fill beyond the bankruptcy price can leave collateral negative, which the
//!   [`LiquidationEngine`] settles from the insurance fund when such an account ends flat.
//! - Reduce-only orders are capped to the position, not to the position net of other resting
//!   reduce-only orders.
//! - Exact below [`MAX_MONEY`] (10¹⁵ quote) of notional and balance per account; valuations
//!   saturate instead of overflowing beyond it.
//!
//! # Performance
//!
//! [`RiskEngine::apply_fill`]: O(1), no allocation, one hash lookup. [`RiskEngine::check_order`],
//! equity, maintenance margin and liquidation prices: O(symbols the account is active in) plus
//! O(tiers) for the liquidation solve. Callers that already know an account's dense index (the
//! liquidation engine, the pipeline's risk stage) skip the id lookup. `price · qty · m` and the
//! rounding divisions use plain 64-bit arithmetic when the operands fit, the exact saturating /
//! 128-bit path otherwise. Measured numbers: `perf/risk.md`, `perf/scan.md`, `perf/e2e.md`.

mod account;
mod adl;
mod check;
mod engine;
mod index;
mod liquidation;
mod num;
mod solve;
mod tiers;

pub use account::{AccountIdx, AccountView, PositionView};
pub use adl::AdlStats;
pub use check::{Approved, OrderReject, OrderRequest};
pub use engine::{
    Fill, FillError, FillOutcome, FundsError, LeverageError, Liquidity, MAX_SYMBOLS, MarkError,
    RiskConfig, RiskEngine, SymbolError,
};
pub use liquidation::{
    BookToRisk, InsuranceReason, LIQUIDATION_ID_BASE, LiquidationConfig, LiquidationEnd,
    LiquidationEngine, LiquidationEvent, LiquidationOrder, PartialLiquidation, RiskOutput,
    RiskSink,
};
pub use tiers::{
    ConfigError, Leverage, MAX_MONEY, MarginMode, MarginTier, MarginTiers, MmBasis,
    SymbolRiskConfig,
};
