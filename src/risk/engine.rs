//! [`RiskEngine`]: the account half of the risk stage as a single-threaded state machine.

use std::collections::HashMap;

use crate::hint::prefetch;
use crate::risk::account::{Account, AccountIdx, AccountView, IdMap, Position, PositionView};
use crate::risk::num::{mul_div_ceil, mul_div_floor, rate_ceil};
use crate::risk::solve::{self, SolveInput};
use crate::risk::tiers::{Leverage, MAX_MONEY, MarginMode, MmBasis, SymbolRiskConfig};
use crate::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId};

/// The most symbols one engine holds: an account's active symbols are a `u64` bit set.
pub const MAX_SYMBOLS: usize = 64;

/// Sizes fixed at construction; nothing grows beyond them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskConfig {
    /// Accounts the store preallocates; creating one more is refused.
    pub max_accounts: usize,
    /// Symbol ids accepted: `0..max_symbols` (at most [`MAX_SYMBOLS`]).
    pub max_symbols: usize,
}

/// Why a symbol could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    /// The symbol id is not below the engine's `max_symbols`: build the engine larger.
    #[error("symbol_out_of_range")]
    OutOfRange,
    /// A symbol with this id exists already.
    #[error("duplicate_symbol")]
    Duplicate,
}

/// Why a mark price was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarkError {
    /// No such symbol.
    #[error("unknown_symbol")]
    UnknownSymbol,
    /// Marks must be positive.
    #[error("invalid_price")]
    InvalidPrice,
}

/// Why a deposit, withdrawal or isolated-margin change was refused. `Display` gives the replay
/// reason word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FundsError {
    /// The account does not exist (withdraw / margin); deposit first.
    #[error("unknown_account")]
    UnknownAccount,
    /// No such symbol.
    #[error("unknown_symbol")]
    UnknownSymbol,
    /// The amount is zero or negative (deposit, withdraw) or zero (margin).
    #[error("invalid_amount")]
    InvalidAmount,
    /// The balance would exceed [`MAX_MONEY`].
    #[error("amount_too_large")]
    AmountTooLarge,
    /// The account store is full: build the engine with a larger `max_accounts`.
    #[error("account_capacity")]
    AccountCapacity,
    /// Not enough free margin, or removing margin would leave an isolated position below its
    /// initial margin.
    #[error("insufficient_margin")]
    InsufficientMargin,
    /// `margin` applies to isolated positions only.
    #[error("not_isolated")]
    NotIsolated,
    /// `margin` needs an open isolated position.
    #[error("no_position")]
    NoPosition,
}

/// Why a leverage or margin-mode change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LeverageError {
    /// The account does not exist.
    #[error("unknown_account")]
    UnknownAccount,
    /// No such symbol.
    #[error("unknown_symbol")]
    UnknownSymbol,
    /// Leverage must be in `[1, symbol max_leverage]`.
    #[error("invalid_leverage")]
    InvalidLeverage,
    /// The margin mode cannot change while a position or open orders exist.
    #[error("position_open")]
    PositionOpen,
    /// The current position's tier does not allow that much leverage.
    #[error("position_limit_exceeded")]
    PositionLimitExceeded,
    /// The new leverage needs more margin than is available.
    #[error("insufficient_margin")]
    InsufficientMargin,
}

/// Why a fill could not be applied (the book sent something the risk stage does not know).
/// State is unchanged when a fill is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    /// The account does not exist.
    #[error("unknown_account")]
    UnknownAccount,
    /// No such symbol.
    #[error("unknown_symbol")]
    UnknownSymbol,
    /// Quantity and price must be positive.
    #[error("invalid_fill")]
    InvalidFill,
    /// The fill or the resulting position exceeds [`MAX_MONEY`] of notional.
    #[error("amount_too_large")]
    AmountTooLarge,
}

/// Whether a fill's order rested (maker) or arrived (taker).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Liquidity {
    /// The resting order: pays the maker fee.
    Maker,
    /// The incoming order: pays the taker fee (the liquidation fee on a liquidation fill).
    Taker,
}

/// One side of a trade, as the book reports it to risk: one `Fill` per account involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// The symbol traded.
    pub symbol: SymbolId,
    /// The account this fill belongs to.
    pub account: AccountId,
    /// This account's side.
    pub side: Side,
    /// Trade price, ticks (> 0).
    pub price: Price,
    /// Trade quantity, lots (> 0).
    pub qty: Qty,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// The trade came from a liquidation order. The taker of such a fill is the liquidated
    /// account and pays the liquidation fee (to the insurance fund) instead of the taker fee.
    pub liquidation: bool,
}

impl Fill {
    /// Both sides of one trade as the book reports it (`taker_side` is the aggressor's side):
    /// `[maker fill, taker fill]`, ready for [`RiskEngine::apply_fill`].
    #[must_use]
    pub fn both_sides(
        symbol: SymbolId,
        price: Price,
        qty: Qty,
        maker_account: AccountId,
        taker_account: AccountId,
        taker_side: Side,
        liquidation: bool,
    ) -> [Fill; 2] {
        let fill = |account, side, liquidity| Fill {
            symbol,
            account,
            side,
            price,
            qty,
            liquidity,
            liquidation,
        };
        [
            fill(maker_account, taker_side.opposite(), Liquidity::Maker),
            fill(taker_account, taker_side, Liquidity::Taker),
        ]
    }
}

/// What applying a fill did to the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillOutcome {
    /// The position after the fill.
    pub size: Qty,
    /// PnL realized by the reducing part (before fees).
    pub realized_pnl: Money,
    /// Fee charged (negative: a rebate paid).
    pub fee: Money,
}

#[derive(Clone, Debug)]
pub(crate) struct SymbolState {
    pub(crate) config: SymbolRiskConfig,
    /// Last `set_mark`, if any.
    pub(crate) mark: Option<Price>,
    /// Last fill price, used as the mark until one is set.
    pub(crate) last_price: Option<Price>,
}

impl SymbolState {
    /// The price positions are valued at: the mark, else the last fill price.
    #[inline]
    pub(crate) fn reference_price(&self) -> Option<Price> {
        self.mark.or(self.last_price)
    }

    #[inline]
    pub(crate) fn m(&self) -> i128 {
        self.config.spec().money_per_tick_lot()
    }

    #[inline]
    pub(crate) fn leverage_of(&self, pos: &Position) -> Leverage {
        if pos.leverage.0 == 0 {
            self.config.default_leverage()
        } else {
            pos.leverage
        }
    }

    /// Unrealized PnL at the reference price (0 without one), saturating.
    #[inline]
    pub(crate) fn upnl(&self, pos: &Position) -> i128 {
        match self.reference_price() {
            Some(p) if pos.size != 0 => self
                .notional_sat(p, pos.size)
                .saturating_sub(pos.entry_notional),
            _ => 0,
        }
    }

    /// `price · qty · m`, saturating (exact under [`MAX_MONEY`]-sized results).
    #[inline]
    pub(crate) fn notional_sat(&self, price: Price, qty: i64) -> i128 {
        mul3_sat(price.0, qty, self.m())
    }

    /// The notional the maintenance margin is taken on (absolute).
    #[inline]
    pub(crate) fn mm_notional(&self, pos: &Position) -> i128 {
        match self.config.mm_basis() {
            MmBasis::Entry => pos.entry_notional.saturating_abs(),
            MmBasis::Mark => match self.reference_price() {
                Some(p) => self.notional_sat(p, pos.size).saturating_abs(),
                None => pos.entry_notional.saturating_abs(),
            },
        }
    }

    #[inline]
    pub(crate) fn maintenance_margin(&self, pos: &Position) -> i128 {
        if pos.size == 0 {
            return 0;
        }
        self.config
            .tiers()
            .maintenance_margin(Money(self.mm_notional(pos)))
            .0
    }

    #[inline]
    pub(crate) fn initial_margin(&self, pos: &Position) -> i128 {
        if pos.size == 0 {
            return 0;
        }
        im(pos.entry_notional, self.leverage_of(pos))
    }

    /// Initial margin of the growth the open orders could add, at the reference price.
    #[inline]
    pub(crate) fn order_margin(&self, pos: &Position) -> i128 {
        if pos.open_buy == 0 && pos.open_sell == 0 {
            return 0;
        }
        let Some(p) = self.reference_price() else {
            return 0;
        };
        let (buy, sell) = pos.growth();
        im(self.notional_sat(p, buy.max(sell)), self.leverage_of(pos))
    }

    /// What this slot takes from the account's available margin.
    #[inline]
    pub(crate) fn margin_requirement(&self, pos: &Position) -> i128 {
        let orders = self.order_margin(pos);
        match pos.mode {
            MarginMode::Cross => self.initial_margin(pos).saturating_add(orders),
            MarginMode::Isolated => orders,
        }
    }
}

/// `a · b · m`, saturating. `a · b` of two `i64` is exact in `i128` (below 2¹²⁶); when it and
/// `m` also fit in `i64` the second product is exact too, so the common case takes two plain
/// multiplies instead of two overflow-checked 128-bit ones.
#[inline]
pub(crate) fn mul3_sat(a: i64, b: i64, m: i128) -> i128 {
    let ab = i128::from(a) * i128::from(b);
    match (i64::try_from(ab), i64::try_from(m)) {
        (Ok(ab), Ok(m)) => i128::from(ab) * i128::from(m),
        _ => ab.saturating_mul(m),
    }
}

/// `⌈|notional| / leverage⌉` (a requirement), saturating.
#[inline]
pub(crate) fn im(notional: i128, leverage: Leverage) -> i128 {
    Leverage::initial_margin(leverage, Money(notional))
        .map(|m| m.0)
        .unwrap_or(i128::MAX)
}

/// `⌈|notional| · rate⌉`: a fee (for a negative rate, a rebate rounded toward zero).
#[inline]
fn fee(notional_abs: i128, rate: Rate) -> i128 {
    rate_ceil(notional_abs, rate.0, 0, 0).unwrap_or(0)
}

/// Iterates the set bits of a mask, lowest first.
#[inline]
pub(crate) fn bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            None
        } else {
            let s = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            Some(s)
        }
    })
}

/// The account half of the risk stage: every account, position, mark and fee balance, owned
/// outright. See the [module docs](crate::risk).
///
/// # Examples
///
/// Bybit's documented isolated example: long 1 BTC at 20,000 with 50× leverage and a 0.5 %
/// maintenance rate on the entry notional liquidates at 19,700.
///
/// ```
/// use liqcore::risk::*;
/// use liqcore::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
/// use rust_decimal::Decimal;
///
/// let mut engine = RiskEngine::new(RiskConfig { max_accounts: 16, max_symbols: 1 });
/// let spec = SymbolSpec::new(SymbolId(0), Decimal::ONE, Decimal::new(1, 3)).unwrap();
/// let tiers = [MarginTier { floor: Money::ZERO, mmr: Rate(500_000), max_leverage: None }];
/// let config = SymbolRiskConfig::new(spec, Leverage::from_whole(100), &tiers)
///     .unwrap()
///     .with_mm_basis(MmBasis::Entry);
/// engine.add_symbol(config).unwrap();
/// let (alice, bob) = (AccountId(1), AccountId(2));
/// engine.deposit(alice, Money(1_000 * Money::UNIT)).unwrap();
/// engine.deposit(bob, Money(100_000 * Money::UNIT)).unwrap();
/// engine
///     .set_leverage(alice, SymbolId(0), Leverage::from_whole(50), MarginMode::Isolated)
///     .unwrap();
///
/// // Pre-trade check, then the book's fill for each side.
/// let order = OrderRequest {
///     account: alice,
///     symbol: SymbolId(0),
///     side: Side::Buy,
///     qty: Qty(1_000),
///     limit_price: Some(Price(20_000)),
///     reduce_only: false,
/// };
/// let approved = engine.check_order(&order).unwrap();
/// for (account, side, liquidity) in [
///     (alice, Side::Buy, Liquidity::Taker),
///     (bob, Side::Sell, Liquidity::Maker),
/// ] {
///     let price = Price(20_000);
///     let qty = approved.qty;
///     let fill = Fill { symbol: SymbolId(0), account, side, price, qty, liquidity, liquidation: false };
///     engine.apply_fill(&fill).unwrap();
/// }
/// engine.release_open(alice, SymbolId(0), Side::Buy, approved.qty);
///
/// let position = engine.position_view(alice, SymbolId(0)).unwrap();
/// assert_eq!(position.margin, Money(400 * Money::UNIT));
/// assert_eq!(position.maintenance_margin, Money(100 * Money::UNIT));
/// assert_eq!(position.liquidation_price, Some(Price(19_700)));
/// assert_eq!(position.bankruptcy_price, Some(Price(19_600)));
/// ```
#[derive(Clone, Debug)]
pub struct RiskEngine {
    pub(crate) max_symbols: usize,
    pub(crate) symbols: Vec<Option<SymbolState>>,
    pub(crate) ids: IdMap,
    pub(crate) accounts: Vec<Account>,
    /// `accounts.len() × max_symbols` slots; slot of (a, s) is `a · max_symbols + s`.
    pub(crate) positions: Vec<Position>,
    pub(crate) max_accounts: usize,
    pub(crate) fees_collected: i128,
    pub(crate) insurance_fund: i128,
    pub(crate) deposited: i128,
    pub(crate) withdrawn: i128,
    /// Per (symbol, side) a bit per account holding a position on that side: word
    /// `(s · 2 + side) · holder_words + a / 64` (side 0 long, 1 short). What ADL walks to find
    /// opposite positions without reading every account's slot.
    pub(crate) holders: Vec<u64>,
    pub(crate) holder_words: usize,
}

impl RiskEngine {
    /// An empty engine with every store preallocated for `config`. `max_symbols` is clamped to
    /// [`MAX_SYMBOLS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use liqcore::risk::{RiskConfig, RiskEngine};
    /// let engine = RiskEngine::new(RiskConfig { max_accounts: 1024, max_symbols: 4 });
    /// assert_eq!(engine.account_count(), 0);
    /// ```
    #[must_use]
    pub fn new(config: RiskConfig) -> RiskEngine {
        let max_symbols = config.max_symbols.clamp(1, MAX_SYMBOLS);
        let mut ids = HashMap::default();
        ids.reserve(config.max_accounts);
        RiskEngine {
            max_symbols,
            symbols: vec![None; max_symbols],
            ids,
            accounts: Vec::with_capacity(config.max_accounts),
            positions: Vec::with_capacity(config.max_accounts.saturating_mul(max_symbols)),
            max_accounts: config.max_accounts,
            fees_collected: 0,
            insurance_fund: 0,
            deposited: 0,
            withdrawn: 0,
            holders: vec![0; max_symbols * 2 * config.max_accounts.div_ceil(64)],
            holder_words: config.max_accounts.div_ceil(64),
        }
    }

    /// Defines a market (the `symbol` replay op) under `config.spec().id`.
    ///
    /// # Errors
    ///
    /// [`SymbolError`] if the id is out of range or taken.
    pub fn add_symbol(&mut self, config: SymbolRiskConfig) -> Result<(), SymbolError> {
        let s = config.spec().id.0 as usize;
        let slot = self.symbols.get_mut(s).ok_or(SymbolError::OutOfRange)?;
        if slot.is_some() {
            return Err(SymbolError::Duplicate);
        }
        *slot = Some(SymbolState {
            config,
            mark: None,
            last_price: None,
        });
        Ok(())
    }

    /// The configuration of a symbol.
    #[must_use]
    pub fn symbol(&self, symbol: SymbolId) -> Option<&SymbolRiskConfig> {
        self.sym(symbol).map(|s| &s.config)
    }

    /// Sets a symbol's mark price (from the mark stage or the `mark` replay op).
    ///
    /// # Errors
    ///
    /// [`MarkError`] for an unknown symbol or a non-positive price.
    pub fn set_mark(&mut self, symbol: SymbolId, price: Price) -> Result<(), MarkError> {
        if price.0 <= 0 {
            return Err(MarkError::InvalidPrice);
        }
        let state = self
            .symbols
            .get_mut(symbol.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(MarkError::UnknownSymbol)?;
        state.mark = Some(price);
        Ok(())
    }

    /// The price a symbol's positions are valued at: its mark, or the last fill price before
    /// any mark was set.
    #[must_use]
    pub fn mark(&self, symbol: SymbolId) -> Option<Price> {
        self.sym(symbol).and_then(SymbolState::reference_price)
    }

    /// The dense index of an account.
    #[inline]
    #[must_use]
    pub fn index_of(&self, account: AccountId) -> Option<AccountIdx> {
        self.ids.get(&account.0).map(|&i| AccountIdx(i))
    }

    /// The id of the account at a dense index.
    #[must_use]
    pub fn id_of(&self, idx: AccountIdx) -> Option<AccountId> {
        self.accounts.get(idx.0 as usize).map(|a| a.id)
    }

    /// Number of accounts created.
    #[must_use]
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Fees collected (maker and taker fees, net of rebates).
    #[must_use]
    pub fn fees_collected(&self) -> Money {
        Money(self.fees_collected)
    }

    /// The insurance fund: insurance deposits plus liquidation fees.
    #[must_use]
    pub fn insurance_fund(&self) -> Money {
        Money(self.insurance_fund)
    }

    /// Total deposited, ever: account deposits plus insurance-fund deposits.
    #[must_use]
    pub fn total_deposited(&self) -> Money {
        Money(self.deposited)
    }

    /// Total withdrawn from accounts, ever.
    #[must_use]
    pub fn total_withdrawn(&self) -> Money {
        Money(self.withdrawn)
    }

    // ----- accounts and funds -------------------------------------------------------------

    /// Credits collateral, creating the account on its first deposit.
    ///
    /// # Errors
    ///
    /// [`FundsError::InvalidAmount`] unless `amount > 0`; [`FundsError::AmountTooLarge`] if the
    /// collateral would exceed [`MAX_MONEY`]; [`FundsError::AccountCapacity`] when a new
    /// account does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// use liqcore::risk::{RiskConfig, RiskEngine};
    /// use liqcore::types::{AccountId, Money};
    /// let mut engine = RiskEngine::new(RiskConfig { max_accounts: 8, max_symbols: 1 });
    /// engine.deposit(AccountId(7), Money(5 * Money::UNIT)).unwrap();
    /// assert_eq!(engine.collateral(AccountId(7)), Some(Money(5 * Money::UNIT)));
    /// ```
    pub fn deposit(&mut self, account: AccountId, amount: Money) -> Result<AccountIdx, FundsError> {
        if amount.0 <= 0 {
            return Err(FundsError::InvalidAmount);
        }
        if amount > MAX_MONEY {
            return Err(FundsError::AmountTooLarge);
        }
        let idx = match self.index_of(account) {
            Some(idx) => {
                let acct = &self.accounts[idx.0 as usize];
                if acct.collateral.saturating_add(amount.0) > MAX_MONEY.0 {
                    return Err(FundsError::AmountTooLarge);
                }
                idx
            }
            None => self.create_account(account)?,
        };
        self.accounts[idx.0 as usize].collateral += amount.0;
        self.deposited += amount.0;
        Ok(idx)
    }

    fn create_account(&mut self, account: AccountId) -> Result<AccountIdx, FundsError> {
        if self.accounts.len() >= self.max_accounts {
            return Err(FundsError::AccountCapacity);
        }
        let idx = self.accounts.len() as u32;
        self.accounts.push(Account {
            id: account,
            ..Account::default()
        });
        self.positions
            .extend(std::iter::repeat_n(Position::default(), self.max_symbols));
        self.ids.insert(account.0, idx);
        Ok(AccountIdx(idx))
    }

    /// Debits collateral if free margin allows: `amount ≤ min(collateral, available margin)`
    /// (unrealized profit cannot be withdrawn).
    ///
    /// # Errors
    ///
    /// [`FundsError::UnknownAccount`], [`FundsError::InvalidAmount`] unless `amount > 0`,
    /// [`FundsError::InsufficientMargin`].
    pub fn withdraw(&mut self, account: AccountId, amount: Money) -> Result<(), FundsError> {
        let idx = self.index_of(account).ok_or(FundsError::UnknownAccount)?;
        if amount.0 <= 0 {
            return Err(FundsError::InvalidAmount);
        }
        let free = self.free_collateral(idx);
        if amount.0 > free {
            return Err(FundsError::InsufficientMargin);
        }
        self.accounts[idx.0 as usize].collateral -= amount.0;
        self.withdrawn += amount.0;
        Ok(())
    }

    /// `min(collateral, available margin)`: what may leave the cross collateral.
    fn free_collateral(&self, idx: AccountIdx) -> i128 {
        let collateral = self.accounts[idx.0 as usize].collateral;
        collateral.min(self.available_margin_raw(idx))
    }

    /// Credits the insurance fund (the `insurance` replay op).
    ///
    /// # Errors
    ///
    /// [`FundsError::InvalidAmount`] unless `amount > 0`; [`FundsError::AmountTooLarge`].
    pub fn deposit_insurance(&mut self, amount: Money) -> Result<(), FundsError> {
        if amount.0 <= 0 {
            return Err(FundsError::InvalidAmount);
        }
        if amount > MAX_MONEY || self.insurance_fund.saturating_add(amount.0) > MAX_MONEY.0 {
            return Err(FundsError::AmountTooLarge);
        }
        self.insurance_fund += amount.0;
        self.deposited += amount.0;
        Ok(())
    }

    /// Sets an account's leverage and margin mode for a symbol (the `leverage` replay op).
    ///
    /// The mode can change only while the account has no position and no open orders in the
    /// symbol. With a position, the new leverage must fit the position's tier, and a cross
    /// account must keep a non-negative available margin; an isolated position whose margin
    /// falls short of the new initial margin is topped up from collateral (lowering leverage
    /// releases nothing: use [`RiskEngine::adjust_margin`]).
    ///
    /// # Errors
    ///
    /// [`LeverageError`].
    pub fn set_leverage(
        &mut self,
        account: AccountId,
        symbol: SymbolId,
        leverage: Leverage,
        mode: MarginMode,
    ) -> Result<(), LeverageError> {
        let idx = self
            .index_of(account)
            .ok_or(LeverageError::UnknownAccount)?;
        let s = symbol.0 as usize;
        let state = self.sym(symbol).ok_or(LeverageError::UnknownSymbol)?;
        if leverage < Leverage::ONE || leverage > state.config.max_leverage() {
            return Err(LeverageError::InvalidLeverage);
        }
        let slot = self.slot(idx, s);
        let pos = self.positions[slot];
        let busy = pos.size != 0 || pos.open_buy != 0 || pos.open_sell != 0;
        if mode != pos.mode && busy {
            return Err(LeverageError::PositionOpen);
        }
        if pos.size != 0 {
            let tiers = state.config.tiers();
            let tier = tiers.tier_for(Money(pos.entry_notional));
            if leverage > tiers.max_leverage(tier) {
                return Err(LeverageError::PositionLimitExceeded);
            }
        }
        let before = self.available_margin_raw(idx);
        let state = self.symbols[s]
            .as_ref()
            .ok_or(LeverageError::UnknownSymbol)?;
        let mut next = pos;
        next.leverage = leverage;
        next.mode = mode;
        let top_up = match mode {
            MarginMode::Isolated if pos.size != 0 => state
                .initial_margin(&next)
                .saturating_sub(pos.margin)
                .max(0),
            _ => 0,
        };
        let delta = state
            .margin_requirement(&next)
            .saturating_sub(state.margin_requirement(&pos))
            .saturating_add(top_up);
        if delta > 0 && before.saturating_sub(delta) < 0 {
            return Err(LeverageError::InsufficientMargin);
        }
        if top_up > 0 && top_up > self.accounts[idx.0 as usize].collateral {
            return Err(LeverageError::InsufficientMargin);
        }
        next.margin += top_up;
        self.positions[slot] = next;
        self.accounts[idx.0 as usize].collateral -= top_up;
        Ok(())
    }

    /// Adds to (`amount > 0`) or removes from (`amount < 0`) an isolated position's margin (the
    /// `margin` replay op). Adding needs that much free collateral; removal must leave at least
    /// the position's initial margin.
    ///
    /// # Errors
    ///
    /// [`FundsError`].
    pub fn adjust_margin(
        &mut self,
        account: AccountId,
        symbol: SymbolId,
        amount: Money,
    ) -> Result<(), FundsError> {
        let idx = self.index_of(account).ok_or(FundsError::UnknownAccount)?;
        let state = self.sym(symbol).ok_or(FundsError::UnknownSymbol)?;
        let slot = self.slot(idx, symbol.0 as usize);
        let pos = self.positions[slot];
        if pos.mode != MarginMode::Isolated {
            return Err(FundsError::NotIsolated);
        }
        if pos.size == 0 {
            return Err(FundsError::NoPosition);
        }
        if amount.0 == 0 {
            return Err(FundsError::InvalidAmount);
        }
        if amount.0.abs() > MAX_MONEY.0 {
            return Err(FundsError::AmountTooLarge);
        }
        if amount.0 > 0 {
            if amount.0 > self.free_collateral(idx) {
                return Err(FundsError::InsufficientMargin);
            }
        } else if pos.margin + amount.0 < state.initial_margin(&pos) {
            return Err(FundsError::InsufficientMargin);
        }
        self.positions[slot].margin += amount.0;
        self.accounts[idx.0 as usize].collateral -= amount.0;
        Ok(())
    }

    // ----- open orders ----------------------------------------------------------------------

    /// Adds resting/approved quantity to an account's open orders (done by
    /// [`RiskEngine::check_order`] on approval; call it directly only for orders that bypass
    /// the check). Saturates; an unknown account or symbol is ignored (returns `false`).
    pub fn reserve_open(
        &mut self,
        account: AccountId,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
    ) -> bool {
        self.change_open(account, symbol, side, qty.0.max(0))
    }

    /// Removes quantity from an account's open orders when part of an approved, non-reduce-only
    /// order ends: it filled (maker or taker part), was cancelled, expired, or was refused by
    /// the book. Clamps at zero; an unknown account or symbol is ignored (returns `false`).
    pub fn release_open(
        &mut self,
        account: AccountId,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
    ) -> bool {
        self.change_open(account, symbol, side, -qty.0.max(0))
    }

    fn change_open(&mut self, account: AccountId, symbol: SymbolId, side: Side, d: i64) -> bool {
        match self.index_of(account) {
            Some(idx) => self.change_open_at(idx, symbol, side, d),
            None => false,
        }
    }

    /// [`RiskEngine::release_open`] for the account at `idx` (no id lookup).
    pub(crate) fn release_open_at(
        &mut self,
        idx: AccountIdx,
        symbol: SymbolId,
        side: Side,
        qty: Qty,
    ) -> bool {
        self.change_open_at(idx, symbol, side, -qty.0.max(0))
    }

    fn change_open_at(&mut self, idx: AccountIdx, symbol: SymbolId, side: Side, d: i64) -> bool {
        if self.sym(symbol).is_none() || idx.0 as usize >= self.accounts.len() {
            return false;
        }
        let s = symbol.0 as usize;
        let slot = self.slot(idx, s);
        self.add_open_at(idx, slot, s, side, d);
        true
    }

    #[inline]
    pub(crate) fn add_open_at(
        &mut self,
        idx: AccountIdx,
        slot: usize,
        s: usize,
        side: Side,
        d: i64,
    ) {
        let pos = &mut self.positions[slot];
        let open = match side {
            Side::Buy => &mut pos.open_buy,
            Side::Sell => &mut pos.open_sell,
        };
        *open = open.saturating_add(d).max(0);
        let any = pos.open_buy != 0 || pos.open_sell != 0;
        let acct = &mut self.accounts[idx.0 as usize];
        if any {
            acct.order_mask |= 1 << s;
        } else {
            acct.order_mask &= !(1 << s);
        }
    }

    // ----- fills ------------------------------------------------------------------------------

    /// Applies one account's side of a trade: position, entry notional, realized PnL,
    /// isolated margin and fees. The hot path: no allocation, O(1).
    ///
    /// - Growing (or opening) adds `price · qty` to the entry notional; an isolated position
    ///   moves `⌈notional / leverage⌉` from collateral into its margin.
    /// - Reducing realizes `exit value − closed share of the entry notional` into collateral
    ///   (the share is rounded so the realized PnL rounds down; the remainder stays in the
    ///   entry notional, so nothing is lost); an isolated position releases
    ///   `⌊margin · closed / size⌋` (all of it on close).
    /// - Crossing zero closes, then opens the rest at the fill price.
    /// - The fee `⌈notional · rate⌉` moves from collateral to the fee account (the insurance
    ///   fund for a liquidation taker).
    ///
    /// Open-order quantity is not touched: call [`RiskEngine::release_open`].
    ///
    /// # Errors
    ///
    /// [`FillError`]; the state is unchanged then.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<FillOutcome, FillError> {
        self.apply_fill_with_fee(fill, None)
    }

    /// [`RiskEngine::apply_fill`] with the fee replaced by `fee_override` (money units, moved to
    /// the fee account) when given: the liquidation engine settles liquidation and ADL fills
    /// without the engine's own fee and books its capped fee to the insurance fund itself.
    pub(crate) fn apply_fill_with_fee(
        &mut self,
        fill: &Fill,
        fee_override: Option<i128>,
    ) -> Result<FillOutcome, FillError> {
        if self.sym(fill.symbol).is_none() {
            return Err(FillError::UnknownSymbol);
        }
        let idx = self
            .index_of(fill.account)
            .ok_or(FillError::UnknownAccount)?;
        self.apply_fill_at(idx, fill, fee_override)
    }

    /// [`RiskEngine::apply_fill_with_fee`] for the account at `idx` (the caller looked it up:
    /// `fill.account` is not read again).
    pub(crate) fn apply_fill_at(
        &mut self,
        idx: AccountIdx,
        fill: &Fill,
        fee_override: Option<i128>,
    ) -> Result<FillOutcome, FillError> {
        let s = fill.symbol.0 as usize;
        let state = self
            .symbols
            .get(s)
            .and_then(Option::as_ref)
            .ok_or(FillError::UnknownSymbol)?;
        if idx.0 as usize >= self.accounts.len() {
            return Err(FillError::UnknownAccount);
        }
        if fill.qty.0 <= 0 || fill.price.0 <= 0 {
            return Err(FillError::InvalidFill);
        }
        let m = state.m();
        let notional = i128::from(fill.price.0)
            .checked_mul(i128::from(fill.qty.0))
            .and_then(|n| n.checked_mul(m))
            .filter(|&n| n <= MAX_MONEY.0)
            .ok_or(FillError::AmountTooLarge)?;
        let config = &state.config;
        let fee_rate = match (fill.liquidity, fill.liquidation) {
            (Liquidity::Maker, _) => config.maker_fee(),
            (Liquidity::Taker, false) => config.taker_fee(),
            (Liquidity::Taker, true) => config.liquidation_fee(),
        };
        let fee = fee_override.unwrap_or_else(|| fee(notional, fee_rate));
        let slot = idx.0 as usize * self.max_symbols + s;
        let pos = self.positions[slot];
        let leverage = state.leverage_of(&pos);
        let isolated = pos.mode == MarginMode::Isolated;
        let d = fill.side.sign() * fill.qty.0;
        let q = pos.size;
        let new_size = q.checked_add(d).ok_or(FillError::AmountTooLarge)?;

        let mut next = pos;
        let mut collateral_delta: i128 = 0;
        let mut realized: i128 = 0;
        if q == 0 || (q > 0) == (d > 0) {
            // Open or grow.
            let en = pos.entry_notional + d.signum() as i128 * notional;
            if en.abs() > MAX_MONEY.0 {
                return Err(FillError::AmountTooLarge);
            }
            next.entry_notional = en;
            if isolated {
                let add = im(notional, leverage);
                next.margin += add;
                collateral_delta -= add;
            }
        } else {
            // Reduce, close, or flip.
            let abs_q = q.abs();
            let closed = fill.qty.0.min(abs_q);
            // Exit value of the closed lots: `price · closed · m ≤ notional`, exact.
            let exit = i128::from(fill.price.0) * i128::from(closed) * m;
            // Entry share rounded up (toward +∞): a long's cost rounds up and a short's
            // (negative) proceeds round toward zero — realized PnL rounds down either way.
            let entry_share = if closed == abs_q {
                pos.entry_notional
            } else {
                mul_div_ceil(pos.entry_notional, closed, abs_q)
            };
            realized = q.signum() as i128 * exit - entry_share;
            next.entry_notional = pos.entry_notional - entry_share;
            if isolated {
                let release = if closed == abs_q {
                    pos.margin
                } else {
                    mul_div_floor(pos.margin, closed, abs_q)
                };
                next.margin -= release;
                collateral_delta += release;
            }
            collateral_delta += realized;
            let rest = fill.qty.0 - closed;
            if rest > 0 {
                // Flip through zero: the remainder opens at the fill price.
                let open_notional = notional - exit;
                next.entry_notional = d.signum() as i128 * open_notional;
                if isolated {
                    let add = im(open_notional, leverage);
                    next.margin += add;
                    collateral_delta -= add;
                }
            }
        }
        next.size = new_size;
        next.realized_pnl = pos.realized_pnl.saturating_add(realized);

        collateral_delta -= fee;

        // Commit.
        self.positions[slot] = next;
        if q.signum() != new_size.signum() {
            self.set_holder(idx, s, q, false);
            self.set_holder(idx, s, new_size, true);
        }
        let acct = &mut self.accounts[idx.0 as usize];
        // Saturating: balances stay far below i128::MAX under the MAX_MONEY bounds; this only
        // guarantees no overflow panic for absurd input sequences.
        acct.collateral = acct.collateral.saturating_add(collateral_delta);
        if new_size != 0 {
            acct.position_mask |= 1 << s;
        } else {
            acct.position_mask &= !(1 << s);
        }
        if fill.liquidation && fill.liquidity == Liquidity::Taker {
            self.insurance_fund = self.insurance_fund.saturating_add(fee);
        } else {
            self.fees_collected = self.fees_collected.saturating_add(fee);
        }
        if let Some(state) = self.symbols[s].as_mut() {
            state.last_price = Some(fill.price);
        }
        Ok(FillOutcome {
            size: Qty(new_size),
            realized_pnl: Money(realized),
            fee: Money(fee),
        })
    }

    // ----- queries ----------------------------------------------------------------------------

    #[inline]
    pub(crate) fn sym(&self, symbol: SymbolId) -> Option<&SymbolState> {
        self.symbols.get(symbol.0 as usize).and_then(Option::as_ref)
    }

    #[inline]
    pub(crate) fn slot(&self, idx: AccountIdx, s: usize) -> usize {
        idx.0 as usize * self.max_symbols + s
    }

    /// Collateral not locked in isolated margin.
    #[must_use]
    pub fn collateral(&self, account: AccountId) -> Option<Money> {
        let idx = self.index_of(account)?;
        Some(Money(self.accounts[idx.0 as usize].collateral))
    }

    /// Cross equity: collateral plus every cross position's unrealized PnL. O(active symbols).
    #[must_use]
    pub fn equity(&self, idx: AccountIdx) -> Money {
        Money(self.cross_maintenance(idx).equity)
    }

    /// Σ maintenance margin of the account's cross positions. O(active symbols).
    #[must_use]
    pub fn maintenance_margin(&self, idx: AccountIdx) -> Money {
        Money(self.cross_maintenance(idx).maintenance)
    }

    /// Available margin: cross equity − cross initial margin − the initial margin of what every
    /// open order could add. O(active symbols).
    #[must_use]
    pub fn available_margin(&self, idx: AccountIdx) -> Money {
        Money(self.available_margin_raw(idx))
    }

    /// Whether the account's cross equity is at or below its cross maintenance margin while it
    /// holds a cross position.
    #[must_use]
    pub fn cross_liquidatable(&self, idx: AccountIdx) -> bool {
        self.cross_maintenance(idx).liquidatable()
    }

    /// An isolated position's equity (`margin + unrealized PnL`) and maintenance margin, or
    /// `None` unless the position is isolated and open.
    #[must_use]
    pub fn isolated_equity(&self, idx: AccountIdx, symbol: SymbolId) -> Option<(Money, Money)> {
        let state = self.sym(symbol)?;
        let pos = self.positions.get(self.slot(idx, symbol.0 as usize))?;
        if pos.mode != MarginMode::Isolated || pos.size == 0 {
            return None;
        }
        Some((
            Money(pos.margin.saturating_add(state.upnl(pos))),
            Money(state.maintenance_margin(pos)),
        ))
    }

    /// Whether the position in `symbol` is due for liquidation at the current marks: isolated,
    /// its equity ≤ its maintenance margin; cross, the account's cross equity ≤ its cross
    /// maintenance margin.
    #[must_use]
    pub fn is_liquidatable(&self, idx: AccountIdx, symbol: SymbolId) -> bool {
        let Some(pos) = self.position_slot(idx, symbol) else {
            return false;
        };
        if pos.size == 0 {
            return false;
        }
        match pos.mode {
            MarginMode::Isolated => self
                .isolated_equity(idx, symbol)
                .is_some_and(|(e, mm)| e <= mm),
            MarginMode::Cross => self.cross_liquidatable(idx),
        }
    }

    /// The signed position size.
    #[must_use]
    pub fn position_size(&self, idx: AccountIdx, symbol: SymbolId) -> Qty {
        Qty(self.position_slot(idx, symbol).map_or(0, |p| p.size))
    }

    /// The liquidation price of a position (see [`PositionView::liquidation_price`]).
    /// O(active symbols) for cross, O(tiers) for isolated.
    #[must_use]
    pub fn liquidation_price(&self, idx: AccountIdx, symbol: SymbolId) -> Option<Price> {
        solve::liquidation_price(&self.solve_input(idx, symbol)?)
    }

    /// The bankruptcy price of a position (see [`PositionView::bankruptcy_price`]).
    #[must_use]
    pub fn bankruptcy_price(&self, idx: AccountIdx, symbol: SymbolId) -> Option<Price> {
        // The zero-equity root needs only the equity at mark 0 (`base`): no maintenance
        // margin, and for a cross account only the other positions' PnL (the same value the
        // full solve input derives as `equity − own PnL − entry notional`).
        let state = self.sym(symbol)?;
        let pos = self.position_slot(idx, symbol)?;
        if pos.size == 0 {
            return None;
        }
        let base = match pos.mode {
            MarginMode::Isolated => pos.margin.checked_sub(pos.entry_notional)?,
            MarginMode::Cross => {
                let acct = &self.accounts[idx.0 as usize];
                let first = idx.0 as usize * self.max_symbols;
                let own = symbol.0 as usize;
                let mut equity = acct.collateral;
                for t in bits(acct.position_mask & !(1u64 << own)) {
                    let other = &self.positions[first + t];
                    if other.mode != MarginMode::Cross {
                        continue;
                    }
                    if let Some(other_state) = self.symbols[t].as_ref() {
                        equity = equity.saturating_add(other_state.upnl(other));
                    }
                }
                equity.checked_sub(pos.entry_notional)?
            }
        };
        solve::bankruptcy_price(&SolveInput {
            size: pos.size,
            money_per_tick_lot: state.m(),
            base,
            other_mm: 0,
            tiers: state.config.tiers(),
            basis: state.config.mm_basis(),
            entry_notional_abs: pos.entry_notional.saturating_abs(),
        })
    }

    /// Both prices of a position from one evaluation of the account: `(liquidation,
    /// bankruptcy)`; `None` when the slot is flat or unknown. What the liquidation scanner
    /// re-keys a position with after a fill or margin change.
    #[must_use]
    pub fn position_prices(
        &self,
        idx: AccountIdx,
        symbol: SymbolId,
    ) -> Option<(Option<Price>, Option<Price>)> {
        let input = self.solve_input(idx, symbol)?;
        Some((
            solve::liquidation_price(&input),
            solve::bankruptcy_price(&input),
        ))
    }

    /// The account's cross snapshot (`account` query).
    #[must_use]
    pub fn account_view(&self, account: AccountId) -> Option<AccountView> {
        let idx = self.index_of(account)?;
        let totals = self.cross_totals(idx);
        Some(AccountView {
            account,
            collateral: Money(self.accounts[idx.0 as usize].collateral),
            equity: Money(totals.equity),
            maintenance_margin: Money(totals.maintenance),
            initial_margin: Money(totals.initial),
            available_margin: Money(self.available_margin_raw(idx)),
        })
    }

    /// A snapshot of one position slot (also for a flat position with settings or open orders).
    #[must_use]
    pub fn position_view(&self, account: AccountId, symbol: SymbolId) -> Option<PositionView> {
        let idx = self.index_of(account)?;
        let state = self.sym(symbol)?;
        let pos = self.position_slot(idx, symbol)?;
        let (liquidation_price, bankruptcy_price) =
            self.position_prices(idx, symbol).unwrap_or((None, None));
        Some(PositionView {
            symbol,
            qty: Qty(pos.size),
            entry_notional: Money(pos.entry_notional),
            mode: pos.mode,
            leverage: state.leverage_of(pos),
            margin: Money(pos.margin),
            unrealized_pnl: Money(state.upnl(pos)),
            realized_pnl: Money(pos.realized_pnl),
            maintenance_margin: Money(state.maintenance_margin(pos)),
            initial_margin: Money(state.initial_margin(pos)),
            liquidation_price,
            bankruptcy_price,
            open_buy: Qty(pos.open_buy),
            open_sell: Qty(pos.open_sell),
        })
    }

    /// The account's open positions, lowest symbol first (no allocation).
    pub fn positions(&self, account: AccountId) -> impl Iterator<Item = PositionView> + '_ {
        let mask = self
            .index_of(account)
            .map_or(0, |idx| self.accounts[idx.0 as usize].position_mask);
        bits(mask).filter_map(move |s| self.position_view(account, SymbolId(s as u32)))
    }

    /// Σ isolated margin over every position (for conservation checks). O(accounts × symbols).
    #[must_use]
    pub fn total_isolated_margin(&self) -> Money {
        Money(self.positions.iter().map(|p| p.margin).sum())
    }

    /// Σ collateral over every account. O(accounts).
    #[must_use]
    pub fn total_collateral(&self) -> Money {
        Money(self.accounts.iter().map(|a| a.collateral).sum())
    }

    /// Σ signed entry notional over every position of a symbol. O(accounts).
    #[must_use]
    pub fn total_entry_notional(&self, symbol: SymbolId) -> Money {
        let s = symbol.0 as usize;
        Money(
            (0..self.accounts.len())
                .map(|a| self.positions[a * self.max_symbols + s].entry_notional)
                .sum(),
        )
    }

    /// Σ signed position size over every account for a symbol (zero when every fill came in a
    /// matched pair). O(accounts).
    #[must_use]
    pub fn total_size(&self, symbol: SymbolId) -> i128 {
        let s = symbol.0 as usize;
        (0..self.accounts.len())
            .map(|a| i128::from(self.positions[a * self.max_symbols + s].size))
            .sum()
    }

    #[inline]
    pub(crate) fn position_slot(&self, idx: AccountIdx, symbol: SymbolId) -> Option<&Position> {
        let s = symbol.0 as usize;
        if s >= self.max_symbols || idx.0 as usize >= self.accounts.len() {
            return None;
        }
        self.positions.get(self.slot(idx, s))
    }

    /// The account's cross positions with their symbol's state (symbols without a state are
    /// skipped), lowest symbol first: what every cross-margin sum walks.
    #[inline]
    fn cross_positions(
        &self,
        idx: AccountIdx,
    ) -> impl Iterator<Item = (&SymbolState, &Position)> + '_ {
        let base = idx.0 as usize * self.max_symbols;
        bits(self.accounts[idx.0 as usize].position_mask).filter_map(move |s| {
            let pos = &self.positions[base + s];
            if pos.mode != MarginMode::Cross {
                return None;
            }
            self.symbols[s].as_ref().map(|state| (state, pos))
        })
    }

    pub(crate) fn cross_totals(&self, idx: AccountIdx) -> CrossTotals {
        let maintenance = self.cross_maintenance(idx);
        CrossTotals {
            equity: maintenance.equity,
            maintenance: maintenance.maintenance,
            initial: self.cross_positions(idx).fold(0i128, |sum, (state, pos)| {
                sum.saturating_add(state.initial_margin(pos))
            }),
        }
    }

    /// Marks (or clears) the account as holding a position of `size`'s sign in symbol `s`
    /// (nothing for a zero size).
    #[inline]
    fn set_holder(&mut self, idx: AccountIdx, s: usize, size: i64, on: bool) {
        if size == 0 {
            return;
        }
        let side = usize::from(size < 0);
        let a = idx.0 as usize;
        let word = (s * 2 + side) * self.holder_words + a / 64;
        if let Some(w) = self.holders.get_mut(word) {
            let bit = 1u64 << (a % 64);
            if on {
                *w |= bit;
            } else {
                *w &= !bit;
            }
        }
    }

    /// The bit set (a bit per account index) of accounts holding a short (`short`) or long
    /// position in symbol `s`.
    pub(crate) fn holders(&self, s: usize, short: bool) -> &[u64] {
        let start = (s * 2 + usize::from(short)) * self.holder_words;
        self.holders
            .get(start..start + self.holder_words)
            .unwrap_or(&[])
    }

    /// Cross equity alone: collateral plus every cross position's unrealized PnL (what the
    /// ADL ranking needs for each candidate).
    pub(crate) fn cross_equity(&self, idx: AccountIdx) -> i128 {
        let collateral = self.accounts[idx.0 as usize].collateral;
        self.cross_positions(idx)
            .fold(collateral, |equity, (state, pos)| {
                equity.saturating_add(state.upnl(pos))
            })
    }

    /// [`RiskEngine::cross_totals`] without the initial margin (a division per position):
    /// what the maintenance test and the liquidation and bankruptcy solves need.
    pub(crate) fn cross_maintenance(&self, idx: AccountIdx) -> CrossMaintenance {
        let mut t = CrossMaintenance {
            equity: self.accounts[idx.0 as usize].collateral,
            maintenance: 0,
            has_cross: false,
        };
        for (state, pos) in self.cross_positions(idx) {
            t.has_cross = true;
            t.equity = t.equity.saturating_add(state.upnl(pos));
            t.maintenance = t.maintenance.saturating_add(state.maintenance_margin(pos));
        }
        t
    }

    /// Look-ahead for an order check of `account` in `symbol` a couple of messages from now
    /// (`crate::hint`): finds the account's index and starts loading its record and its
    /// position in the symbol. Returns the index, for a symbol in range.
    #[inline(always)]
    pub(crate) fn prefetch_account(
        &self,
        account: AccountId,
        symbol: SymbolId,
    ) -> Option<AccountIdx> {
        let idx = self.index_of(account)?;
        if let Some(record) = self.accounts.get(idx.0 as usize) {
            prefetch(record);
        }
        let s = symbol.0 as usize;
        if s >= self.max_symbols {
            return None;
        }
        if let Some(position) = self.positions.get(self.slot(idx, s)) {
            prefetch(position);
        }
        Some(idx)
    }

    pub(crate) fn available_margin_raw(&self, idx: AccountIdx) -> i128 {
        let acct = &self.accounts[idx.0 as usize];
        let mut equity = acct.collateral;
        let mut required: i128 = 0;
        let base = idx.0 as usize * self.max_symbols;
        for s in bits(acct.position_mask | acct.order_mask) {
            let pos = &self.positions[base + s];
            let Some(state) = self.symbols[s].as_ref() else {
                continue;
            };
            if pos.mode == MarginMode::Cross {
                equity = equity.saturating_add(state.upnl(pos));
            }
            required = required.saturating_add(state.margin_requirement(pos));
        }
        equity.saturating_sub(required)
    }

    pub(crate) fn solve_input(&self, idx: AccountIdx, symbol: SymbolId) -> Option<SolveInput<'_>> {
        let state = self.sym(symbol)?;
        let pos = self.position_slot(idx, symbol)?;
        if pos.size == 0 {
            return None;
        }
        let (base, other_mm) = match pos.mode {
            MarginMode::Isolated => (pos.margin.checked_sub(pos.entry_notional)?, 0),
            MarginMode::Cross
                if Some(self.accounts[idx.0 as usize].position_mask)
                    == 1u64.checked_shl(symbol.0) =>
            {
                // The account's only position: the cross totals are this position's own, so
                // the general branch below gives equity = collateral ⊕ upnl and other_mm =
                // mm − mm = 0 — here without the second PnL and without any maintenance margin
                // (a tier lookup and a rounded rate product). Not folded into the totals for
                // every account: with other positions the saturating sum of their margins is
                // not Σ-minus-own in general, and taking own's out is what the general branch
                // must keep doing to stay exact.
                let upnl = state.upnl(pos);
                let equity = self.accounts[idx.0 as usize]
                    .collateral
                    .saturating_add(upnl);
                (
                    equity.checked_sub(upnl)?.checked_sub(pos.entry_notional)?,
                    0,
                )
            }
            MarginMode::Cross => {
                let totals = self.cross_maintenance(idx);
                let own_mm = state.maintenance_margin(pos);
                let base = totals
                    .equity
                    .checked_sub(state.upnl(pos))?
                    .checked_sub(pos.entry_notional)?;
                (base, totals.maintenance.checked_sub(own_mm)?)
            }
        };
        Some(SolveInput {
            size: pos.size,
            money_per_tick_lot: state.m(),
            base,
            other_mm,
            tiers: state.config.tiers(),
            basis: state.config.mm_basis(),
            entry_notional_abs: pos.entry_notional.saturating_abs(),
        })
    }
}

/// The cross-margined part of an account at the current marks, without initial margin.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CrossMaintenance {
    pub(crate) equity: i128,
    pub(crate) maintenance: i128,
    pub(crate) has_cross: bool,
}

impl CrossMaintenance {
    /// Cross equity at or below cross maintenance margin, with a cross position held.
    #[inline]
    pub(crate) fn liquidatable(&self) -> bool {
        self.has_cross && self.equity <= self.maintenance
    }
}

/// The cross-margined part of an account at the current marks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CrossTotals {
    pub(crate) equity: i128,
    pub(crate) maintenance: i128,
    pub(crate) initial: i128,
}
