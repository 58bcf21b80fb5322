//! [`LiquidationEngine`]: the liquidation half of the risk stage (DESIGN.md §5) — an indexed
//! margin scanner that turns mark updates into liquidation orders, settles their fills against
//! the insurance fund and auto-deleverages what the book cannot absorb.
//!
//! # Layout
//!
//! - The engine owns the [`RiskEngine`] (accounts, positions, marks) and, per symbol, an index
//!   (`index.rs`): an indexed max-heap of long positions keyed by the **highest mark at which the
//!   position is liquidatable**, one of short positions keyed by the **lowest** (stored negated),
//!   and a watch list of cross accounts holding cross positions in two or more symbols.
//! - Per account three `u64` masks say where each of its symbols is indexed (long heap, short
//!   heap, watch list); per (account, symbol) slot a `u32` names its liquidation in flight.
//! - Liquidations in flight live in a preallocated table of `max_in_flight` entries; the order id
//!   encodes the table entry (see [`LIQUIDATION_ID_BASE`]).
//! - The ADL counterparty ranking (`adl.rs`): a few kept (symbol, side) rankings, a version per
//!   account and a change log; every re-key, settlement fill and fund move touches the account.
//! - Everything is allocated in [`LiquidationEngine::new`]; nothing grows afterwards.
//!
//! # The message interface (what the pipeline carries between threads)
//!
//! - risk → book: [`RiskOutput`] through a caller [`RiskSink`]:
//!   [`RiskOutput::CancelOrders`] (cancel the account's resting orders in a symbol, reason
//!   `liquidation`), [`RiskOutput::Order`] (a [`LiquidationOrder`] for
//!   `Book::submit_liquidation`, see [`LiquidationOrder::to_command`]), and
//!   [`RiskOutput::Event`] (the `liquidation`, `adl` and `insurance` events).
//! - book → risk: [`BookToRisk::Fill`] (one [`Fill`] per account of every trade, liquidation
//!   trades flagged) and [`BookToRisk::End`] (a liquidation order ended with quantity left:
//!   IOC remainder cancelled, or refused by the book). A liquidation order that fills completely
//!   ends by itself; an `End` for an unknown or finished id is ignored.
//!
//! All of these are small `Copy` types (≤ 64 bytes).
//!
//! # Semantics
//!
//! - **Index keys.** A position's key is the exact boundary of the maintenance test, so that
//!   for every positive mark `mark ≤ key` (long) / `mark ≥ key` (short) holds **iff**
//!   [`RiskEngine::is_liquidatable`] does: in closed form where the position is in its normal
//!   range (`solve::liquidation_key`: the test with its rounding folded in is linear in the
//!   mark within a tier and continuous across tiers), else (edges, overflow) from the rounded
//!   liquidation price corrected tick by tick against the test itself. A position with no
//!   liquidation price is not indexed. Fills, deposits, withdrawals, leverage and margin
//!   changes re-key the account (every symbol it holds, because a cross account's collateral
//!   is shared).
//! - **Cross accounts over several symbols**: their liquidation price in one symbol moves with
//!   every other symbol's mark, so they sit in the watch list of every symbol they hold and are
//!   tested directly (equity ≤ maintenance, O(their symbols)) on each of those marks.
//! - **Mark update** ([`LiquidationEngine::on_mark`]): pops the crossed heap entries, tests the
//!   watch list, and starts a liquidation for each account found.
//! - **Liquidation sequence**: release the account's open-order reservations and emit
//!   `CancelOrders` (isolated: that symbol; cross: every symbol with orders); re-check
//!   (open orders do not count toward maintenance margin here, so the re-check matters only for
//!   a stale key); then, for the isolated position, or every cross position of the account,
//!   emit a reduce-only IOC [`LiquidationOrder`] limited at the bankruptcy price (clamped to
//!   `1..=MAX_PRICE` ticks; a long without a bankruptcy price is limited at 1 tick).
//! - **Partial liquidation** ([`PartialLiquidation`]): `Whole` (default) closes the position;
//!   `StepDownTier` (Binance) closes just enough for the notional at the mark to fall below its
//!   tier's floor (the whole position in tier 0), then, if still below maintenance, the next
//!   step follows at once; `Chunks` (Hyperliquid) closes `⌈fraction · |size|⌉` lots of a
//!   position whose notional exceeds `min_notional`, then waits `cooldown` time units (the
//!   `now` of [`LiquidationEngine::on_mark`]) before the next chunk.
//! - **Settlement** of each liquidation fill (BitMEX's bankruptcy-price accounting): the fill
//!   is applied without the engine's fee; `margin left = (fill − bankruptcy) · qty` (in the
//!   order's favour, never negative through the book because the order is limited at the
//!   bankruptcy price); the liquidation fee `min(⌈notional · liquidation_fee⌉, margin left)`
//!   moves from the account to the insurance fund. When a **whole-position** liquidation ends,
//!   the rest of the margin left (`Σ margin left − fees`, capped by the account's collateral)
//!   also goes to the fund (`surplus`). If the account ends with negative collateral and no
//!   position, the fund pays it back up to the fund's balance (`deficit`); the fund never goes
//!   negative.
//! - **ADL**: quantity a liquidation order did not fill is closed at the order's limit (the
//!   bankruptcy price) against opposite positions in the symbol, best ranked first, without
//!   fees. Rank (BitMEX): profitable positions `PnL% × effective leverage`, losing ones
//!   `PnL% / effective leverage`, where `PnL% = unrealized / |entry notional|` and effective
//!   leverage `= |notional at mark| / covering equity` (infinite when that equity is ≤ 0); ties
//!   go to the lower account index. Positions with a liquidation in flight are skipped. The
//!   ranking is kept between ADLs while no mark moves (`adl.rs`); it gives exactly the order of
//!   scoring every candidate and sorting ([`LiquidationEngine::set_adl_ranking_kept`] turns it
//!   off, for differential tests).
//!
//! # Invariants
//!
//! - After [`LiquidationEngine::on_mark`] returns, every position that is liquidatable at the
//!   current marks belongs to an account with a liquidation in flight (or cooling down), unless
//!   the in-flight table was full.
//! - Money is conserved: every transfer is between an account's collateral and the insurance
//!   fund, and fills conserve it as in [`RiskEngine::apply_fill`].
//! - Each account's slot is in at most one of the long heap, the short heap and the watch list,
//!   and in neither heap while its liquidation is in flight (a cross account over several
//!   symbols stays in the watch lists of all its cross symbols).
//!
//! # Known limitations
//!
//! - Liquidation order ids are `LIQUIDATION_ID_BASE + (sequence << 32) + table entry`: user
//!   order ids must stay below 2⁶³.
//! - The index assumes marks are set: before a symbol's first mark, positions are valued at the
//!   last fill price, which moves with every fill without a re-key.
//! - ADL: the first ADL after a mark moves scores every account holding the opposite side of
//!   the symbol (from the engine's per-(symbol, side) holder bit set) and heapifies them in
//!   O(candidates); the next ones at the same marks score only the accounts changed since and
//!   pop O(log n) each (`adl.rs`). A workload that moves a mark between every two ADLs pays the
//!   full ranking each time, as before. Before every symbol has a mark (positions valued at the
//!   last fill, which fills move without a re-key) every ADL ranks every candidate. The rank is
//!   kept in `i64` (10⁻⁸ units), saturating for extreme leverage.
//! - A cross account liquidated over several symbols gets one order per symbol, each limited at
//!   that symbol's bankruptcy price with the other marks held.
//! - A deficit beyond the insurance fund stays on the account as negative collateral (ADL at the
//!   bankruptcy price prevents new ones; this covers rounding and fills applied before a mark).
//!
//! # Performance
//!
//! A mark update that liquidates nobody: one heap peek per side and the symbol's watch list.
//! `k` liquidations: O(k log n). Re-key: O(symbols of the account × (symbols + tiers + log n)),
//! plus a version increment (and, while an ADL ranking is kept, a log push). ADL: see above;
//! the default `liqcore run` (100,000 accounts) ranks 25,629 ADLs of its comparison run with 54
//! full rankings and 1.5 M scores instead of 25,629 full rankings (~0.7 G scores): 77 s → 1.6 s
//! for the whole command (`perf/cascade.md`).
//!
//! Per liquidation the maintenance test sums the cross equity and maintenance margin only (no
//! initial margin: that would cost a division per position), the bankruptcy price needs no
//! maintenance margin at all (for a one-position account: `collateral − entry notional` and
//! one division), and the heap removal compares a node's four children as a tournament on one
//! slice. Divisions and notionals take 64-bit
//! paths when their operands fit. About 1,440 instructions a liquidation at 1 M positions
//! (callgrind; 2,370 before these changes). Measured: `perf/scan.md` (`compare -- scan`).

use crate::book::{MAX_PRICE, OrderCommand, OrderKind, TimeInForce};
use crate::hint::prefetch;
use crate::risk::account::AccountIdx;
use crate::risk::adl::{AdlRanking, AdlStats, Ranked, heapify, sift_down};
use crate::risk::engine::{
    Fill, FillError, FundsError, LeverageError, Liquidity, MarkError, RiskEngine, bits,
};
use crate::risk::index::{KeyHeap, WatchList};
use crate::risk::num::{RATE_DEN, div_floor, div_trunc, mul_sat};
use crate::risk::solve;
use crate::risk::tiers::{Leverage, MarginMode};
use crate::types::{AccountId, Money, OrderId, Price, Qty, Rate, Side, SymbolId};

/// Liquidation order ids are `LIQUIDATION_ID_BASE + (sequence << 32) + table entry`; user order
/// ids must stay below it.
pub const LIQUIDATION_ID_BASE: u64 = 1 << 63;

const ABSENT: u32 = u32::MAX;
const LONG: usize = 0;
const SHORT: usize = 1;
const WATCH: usize = 2;

/// How much of a liquidatable position one liquidation order closes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PartialLiquidation {
    /// The whole position (the default).
    #[default]
    Whole,
    /// Binance-style: enough for the notional at the mark to fall below the current tier's
    /// floor (the whole position in the first tier); repeated while still below maintenance.
    StepDownTier,
    /// Hyperliquid-style: a position whose notional at the mark exceeds `min_notional` is
    /// closed `⌈fraction · |size|⌉` lots at a time, `cooldown` time units apart.
    Chunks {
        /// Fraction of the position per order, `(0, 1]`.
        fraction: Rate,
        /// Positions up to this notional are closed whole.
        min_notional: Money,
        /// Time units (the `now` of [`LiquidationEngine::on_mark`]) between chunks.
        cooldown: u64,
    },
}

/// Sizes and rules fixed at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationConfig {
    /// Liquidation orders in flight (or cooling down) at once; when full, further liquidations
    /// wait in the index for the next mark update.
    pub max_in_flight: usize,
    /// Partial liquidation rule.
    pub partial: PartialLiquidation,
}

impl Default for LiquidationConfig {
    fn default() -> LiquidationConfig {
        LiquidationConfig {
            max_in_flight: 4096,
            partial: PartialLiquidation::Whole,
        }
    }
}

/// A liquidation order for `Book::submit_liquidation`: reduce-only IOC limit at `limit_price`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiquidationOrder {
    /// Order id (at or above [`LIQUIDATION_ID_BASE`]).
    pub id: OrderId,
    /// The liquidated account.
    pub account: AccountId,
    /// The symbol.
    pub symbol: SymbolId,
    /// The order's side (opposite to the position).
    pub side: Side,
    /// Lots to close.
    pub qty: Qty,
    /// The limit: the position's bankruptcy price (clamped to `1..=MAX_PRICE`).
    pub limit_price: Price,
}

impl LiquidationOrder {
    /// The book command: a reduce-only IOC limit order.
    #[must_use]
    pub fn to_command(&self) -> OrderCommand {
        OrderCommand {
            id: self.id,
            account: self.account,
            side: self.side,
            kind: OrderKind::Limit,
            price: self.limit_price,
            qty: self.qty,
            tif: TimeInForce::Ioc,
            reduce_only: true,
            ..OrderCommand::default()
        }
    }
}

/// Why the insurance fund changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InsuranceReason {
    /// A liquidation fee.
    LiquidationFee,
    /// What was left of a fully liquidated position's margin.
    Surplus,
    /// The fund paid an account's negative balance.
    Deficit,
    /// An insurance deposit (the `insurance` replay op).
    Deposit,
}

/// The risk stage's events (REPLAY.md field names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LiquidationEvent {
    /// A liquidation order was emitted.
    Liquidation {
        /// The liquidated account.
        account: AccountId,
        /// The symbol.
        symbol: SymbolId,
        /// The order's side.
        side: Side,
        /// Lots.
        qty: Qty,
        /// The bankruptcy price limit.
        limit_price: Price,
        /// The order id.
        id: OrderId,
    },
    /// A position was auto-deleveraged.
    Adl {
        /// The symbol.
        symbol: SymbolId,
        /// The account whose liquidation the book could not absorb.
        liquidated_account: AccountId,
        /// The opposite position's account.
        counterparty_account: AccountId,
        /// Lots closed.
        qty: Qty,
        /// The bankruptcy price.
        price: Price,
    },
    /// The insurance fund changed.
    Insurance {
        /// The balance after the change.
        balance: Money,
        /// The change (negative: the fund paid).
        delta: Money,
        /// Why.
        reason: InsuranceReason,
    },
}

/// What the risk stage hands on: to the book (cancels, orders) or to the event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RiskOutput {
    /// Cancel every resting order of `account` in `symbol` (reason `liquidation`); the risk
    /// stage has already released their margin reservations.
    CancelOrders {
        /// The account.
        account: AccountId,
        /// The symbol.
        symbol: SymbolId,
    },
    /// Submit through `Book::submit_liquidation`.
    Order(LiquidationOrder),
    /// An event.
    Event(LiquidationEvent),
}

const _: () = assert!(size_of::<RiskOutput>() <= 64);

/// Where the liquidation engine writes its output. Must not allocate on the hot path.
pub trait RiskSink {
    /// Receives one output.
    fn emit(&mut self, out: RiskOutput);
}

impl RiskSink for Vec<RiskOutput> {
    #[inline]
    fn emit(&mut self, out: RiskOutput) {
        self.push(out);
    }
}

/// A liquidation order ended with `remaining` lots unfilled (IOC remainder, or refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiquidationEnd {
    /// The liquidation order.
    pub id: OrderId,
    /// Lots that did not fill.
    pub remaining: Qty,
}

/// What the book reports back to the risk stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookToRisk {
    /// One account's side of a trade.
    Fill(Fill),
    /// A liquidation order ended unfilled in part.
    End(LiquidationEnd),
}

/// A liquidation in flight (or cooling down after a chunk).
#[derive(Clone, Copy, Debug, Default)]
struct Flight {
    id: u64,
    account: AccountIdx,
    symbol: u32,
    side_sell: bool,
    qty: i64,
    filled: i64,
    limit: i64,
    bankrupt: Option<i64>,
    whole: bool,
    surplus: i128,
    live: bool,
    cooling_until: u64,
}

#[derive(Clone, Debug)]
struct SymbolIndex {
    longs: KeyHeap,
    shorts: KeyHeap,
    watch: WatchList,
}

/// The liquidation engine: a [`RiskEngine`] plus the liquidation-price index, the liquidation
/// sequence, settlement, the insurance fund and ADL. See the [module docs](crate::risk).
#[derive(Clone, Debug)]
pub struct LiquidationEngine {
    risk: RiskEngine,
    config: LiquidationConfig,
    index: Vec<SymbolIndex>,
    /// Per account: `[long heap, short heap, watch list]` symbol masks.
    masks: Vec<[u64; 3]>,
    /// Per (account, symbol) slot: flight table entry or [`ABSENT`].
    slot_flight: Vec<u32>,
    flights: Vec<Flight>,
    free_flights: Vec<u32>,
    cooling: Vec<u32>,
    adl_buf: Vec<Ranked>,
    adl_rank: AdlRanking,
    adl_cache: bool,
    seq: u64,
    now: u64,
    max_accounts: usize,
}

impl LiquidationEngine {
    /// Wraps `risk` (which may already hold accounts; they are indexed here) with every store
    /// preallocated for its `max_accounts` and `config.max_in_flight`.
    #[must_use]
    pub fn new(risk: RiskEngine, config: LiquidationConfig) -> LiquidationEngine {
        let max_accounts = risk.max_accounts.min(ABSENT as usize - 1);
        let max_symbols = risk.max_symbols;
        let in_flight = config.max_in_flight.clamp(1, ABSENT as usize - 1);
        let mut engine = LiquidationEngine {
            index: (0..max_symbols)
                .map(|_| SymbolIndex {
                    longs: KeyHeap::with_capacity(max_accounts),
                    shorts: KeyHeap::with_capacity(max_accounts),
                    watch: WatchList::with_capacity(max_accounts),
                })
                .collect(),
            masks: vec![[0; 3]; max_accounts],
            slot_flight: vec![ABSENT; max_accounts * max_symbols],
            flights: vec![Flight::default(); in_flight],
            free_flights: (0..in_flight as u32).rev().collect(),
            cooling: Vec::with_capacity(in_flight),
            adl_buf: Vec::with_capacity(max_accounts),
            adl_rank: AdlRanking::new(max_accounts, max_symbols, in_flight),
            adl_cache: true,
            seq: 0,
            now: 0,
            max_accounts,
            config,
            risk,
        };
        for a in 0..engine.risk.account_count() {
            engine.rekey(AccountIdx(a as u32));
        }
        engine
    }

    /// The account state (read-only).
    #[must_use]
    pub fn risk(&self) -> &RiskEngine {
        &self.risk
    }

    /// The account state, for operations that do not move money or positions
    /// (`check_order`, `reserve_open`, `release_open`, `add_symbol`). After anything else, call
    /// [`LiquidationEngine::refresh`] for the accounts touched.
    pub fn risk_mut(&mut self) -> &mut RiskEngine {
        &mut self.risk
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &LiquidationConfig {
        &self.config
    }

    /// Bytes the index and liquidation tables allocate (the [`RiskEngine`] excluded).
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.index
            .iter()
            .map(|i| i.longs.memory_bytes() + i.shorts.memory_bytes() + i.watch.memory_bytes())
            .sum::<usize>()
            + self.masks.capacity() * 24
            + self.slot_flight.capacity() * 4
            + self.flights.capacity() * size_of::<Flight>()
            + self.free_flights.capacity() * 4
            + self.cooling.capacity() * 4
            + self.adl_buf.capacity() * size_of::<Ranked>()
            + self.adl_rank.memory_bytes()
    }

    /// Whether ADL keeps its counterparty ranking between auto-deleveragings (the default;
    /// see `adl.rs`) or ranks every candidate for each. Both give the same result: `false`
    /// is for differential tests and benchmarks.
    pub fn set_adl_ranking_kept(&mut self, on: bool) {
        self.adl_cache = on;
        self.adl_rank.invalidate();
    }

    /// What the ADL ranking did so far.
    #[must_use]
    pub fn adl_stats(&self) -> AdlStats {
        self.adl_rank.stats
    }

    /// Entries in a symbol's index: `(longs, shorts, watched cross accounts)`.
    #[must_use]
    pub fn indexed(&self, symbol: SymbolId) -> (usize, usize, usize) {
        self.index.get(symbol.0 as usize).map_or((0, 0, 0), |i| {
            (i.longs.len(), i.shorts.len(), i.watch.len())
        })
    }

    /// Whether any position of the account has a liquidation in flight or cooling down.
    #[must_use]
    pub fn in_flight(&self, account: AccountIdx) -> bool {
        let ms = self.risk.max_symbols;
        let base = account.0 as usize * ms;
        self.slot_flight
            .get(base..base + ms)
            .is_some_and(|s| s.iter().any(|&f| f != ABSENT))
    }

    /// Look-ahead for an order of `account` in `symbol` a couple of messages from now
    /// (`crate::hint`): starts loading the account's margin record, its position and its
    /// in-flight flag.
    #[inline(always)]
    pub(crate) fn prefetch_order_check(&self, account: AccountId, symbol: SymbolId) {
        let Some(idx) = self.risk.prefetch_account(account, symbol) else {
            return;
        };
        // (An index comes back only for a symbol in range: its slot is this position's.)
        if let Some(flag) = self.slot_flight.get(self.risk.slot(idx, symbol.0 as usize)) {
            prefetch(flag);
        }
    }

    /// Whether the position in `symbol` has a liquidation in flight or cooling down.
    #[must_use]
    pub fn slot_in_flight(&self, account: AccountIdx, symbol: SymbolId) -> bool {
        let ms = self.risk.max_symbols;
        (symbol.0 as usize) < ms
            && self
                .slot_flight
                .get(account.0 as usize * ms + symbol.0 as usize)
                .is_some_and(|&f| f != ABSENT)
    }

    /// Liquidations in flight or cooling down.
    #[must_use]
    pub fn flights_open(&self) -> usize {
        self.flights.len() - self.free_flights.len()
    }

    // ----- account commands that move keys -----------------------------------------------------

    /// [`RiskEngine::deposit`], then re-key.
    ///
    /// # Errors
    ///
    /// [`FundsError`].
    pub fn deposit<S: RiskSink>(
        &mut self,
        account: AccountId,
        amount: Money,
        sink: &mut S,
    ) -> Result<AccountIdx, FundsError> {
        let idx = self.risk.deposit(account, amount)?;
        self.refresh(idx, sink);
        Ok(idx)
    }

    /// [`RiskEngine::withdraw`], then re-key.
    ///
    /// # Errors
    ///
    /// [`FundsError`].
    pub fn withdraw<S: RiskSink>(
        &mut self,
        account: AccountId,
        amount: Money,
        sink: &mut S,
    ) -> Result<(), FundsError> {
        self.risk.withdraw(account, amount)?;
        if let Some(idx) = self.risk.index_of(account) {
            self.refresh(idx, sink);
        }
        Ok(())
    }

    /// [`RiskEngine::adjust_margin`], then re-key.
    ///
    /// # Errors
    ///
    /// [`FundsError`].
    pub fn adjust_margin<S: RiskSink>(
        &mut self,
        account: AccountId,
        symbol: SymbolId,
        amount: Money,
        sink: &mut S,
    ) -> Result<(), FundsError> {
        self.risk.adjust_margin(account, symbol, amount)?;
        if let Some(idx) = self.risk.index_of(account) {
            self.refresh(idx, sink);
        }
        Ok(())
    }

    /// [`RiskEngine::set_leverage`], then re-key.
    ///
    /// # Errors
    ///
    /// [`LeverageError`].
    pub fn set_leverage<S: RiskSink>(
        &mut self,
        account: AccountId,
        symbol: SymbolId,
        leverage: Leverage,
        mode: MarginMode,
        sink: &mut S,
    ) -> Result<(), LeverageError> {
        self.risk.set_leverage(account, symbol, leverage, mode)?;
        if let Some(idx) = self.risk.index_of(account) {
            self.refresh(idx, sink);
        }
        Ok(())
    }

    /// [`RiskEngine::deposit_insurance`], with an `insurance` event.
    ///
    /// # Errors
    ///
    /// [`FundsError`].
    pub fn deposit_insurance<S: RiskSink>(
        &mut self,
        amount: Money,
        sink: &mut S,
    ) -> Result<(), FundsError> {
        self.risk.deposit_insurance(amount)?;
        let balance = self.risk.insurance_fund();
        sink.emit(RiskOutput::Event(LiquidationEvent::Insurance {
            balance,
            delta: amount,
            reason: InsuranceReason::Deposit,
        }));
        Ok(())
    }

    // ----- the scanner -------------------------------------------------------------------------

    /// A new mark for `symbol` at time `now`: liquidates every position it makes liquidatable.
    /// Returns how many accounts it started liquidating.
    ///
    /// # Errors
    ///
    /// [`MarkError`] (nothing changes).
    pub fn on_mark<S: RiskSink>(
        &mut self,
        symbol: SymbolId,
        price: Price,
        now: u64,
        sink: &mut S,
    ) -> Result<usize, MarkError> {
        let before = self.risk.mark(symbol);
        self.risk.set_mark(symbol, price)?;
        if before != Some(price) {
            // Every ADL score reads the marks (a cross account's, every symbol's).
            self.adl_rank.invalidate();
        }
        self.now = self.now.max(now);
        if !self.cooling.is_empty() {
            self.expire_cooldowns(sink);
        }
        Ok(self.scan(symbol, sink))
    }

    /// Liquidates every position of `symbol` that is liquidatable at its current mark (what
    /// [`LiquidationEngine::on_mark`] does after setting the mark). Returns the number of
    /// accounts whose liquidation started.
    pub fn scan<S: RiskSink>(&mut self, symbol: SymbolId, sink: &mut S) -> usize {
        let s = symbol.0 as usize;
        let Some(mark) = self.risk.mark(symbol) else {
            return 0;
        };
        if s >= self.index.len() {
            return 0;
        }
        let mut started = 0;
        // Longs: fire when mark ≤ key.
        while let Some((key, a)) = self.index[s].longs.peek() {
            if key < mark.0 {
                break;
            }
            match self.fire(AccountIdx(a), s, LONG, key, mark.0, sink) {
                Fired::Started => started += 1,
                Fired::Parked => {}
                Fired::Full => break,
            }
        }
        // Shorts: stored negated; fire when mark ≥ key ⇔ −key ≥ −mark.
        while let Some((neg_key, a)) = self.index[s].shorts.peek() {
            if neg_key < -mark.0 {
                break;
            }
            match self.fire(AccountIdx(a), s, SHORT, neg_key, mark.0, sink) {
                Fired::Started => started += 1,
                Fired::Parked => {}
                Fired::Full => break,
            }
        }
        // Cross accounts over several symbols: direct test.
        let mut i = 0;
        while i < self.index[s].watch.len() {
            let a = self.index[s].watch.get(i);
            let idx = AccountIdx(a);
            if self.risk.cross_liquidatable(idx) {
                match self.liquidate(idx, s, sink) {
                    Started::Yes => {
                        started += 1;
                        // `a` left the list (position i holds another member now) unless it
                        // stays watched for another cross slot.
                        if i < self.index[s].watch.len() && self.index[s].watch.get(i) == a {
                            i += 1;
                        }
                        continue;
                    }
                    Started::Full => break,
                    Started::NotDue => {}
                }
            }
            i += 1;
        }
        started
    }

    fn fire<S: RiskSink>(
        &mut self,
        idx: AccountIdx,
        s: usize,
        side: usize,
        stored_key: i64,
        mark: i64,
        sink: &mut S,
    ) -> Fired {
        let sym = SymbolId(s as u32);
        if self.risk.is_liquidatable(idx, sym) {
            match self.liquidate(idx, s, sink) {
                Started::Yes => return Fired::Started,
                Started::Full => return Fired::Full,
                Started::NotDue => {}
            }
        }
        // Not liquidatable at this mark (a key that is off after all): if the entry is still
        // indexed as crossed, park it one tick short of the mark so this scan terminates; the
        // next re-key corrects it.
        let _ = stored_key;
        let bit = 1u64 << s;
        if self.masks[idx.0 as usize][side] & bit != 0 {
            let (heap, parked) = if side == LONG {
                (&mut self.index[s].longs, mark - 1)
            } else {
                (&mut self.index[s].shorts, -(mark + 1))
            };
            heap.upsert(idx.0, parked);
        }
        Fired::Parked
    }

    // ----- the liquidation sequence ------------------------------------------------------------

    fn liquidate<S: RiskSink>(&mut self, idx: AccountIdx, s: usize, sink: &mut S) -> Started {
        let sym = SymbolId(s as u32);
        let Some(pos) = self.risk.position_slot(idx, sym).copied() else {
            return Started::NotDue;
        };
        let a = idx.0 as usize;
        let acct = self.risk.accounts[a];
        let base = a * self.risk.max_symbols;
        let targets = if pos.mode == MarginMode::Isolated {
            1u64 << s
        } else {
            let mut m = 0;
            for t in bits(acct.position_mask) {
                if self.risk.positions[base + t].mode == MarginMode::Cross {
                    m |= 1 << t;
                }
            }
            m
        };
        let several_cross = pos.mode == MarginMode::Cross && targets.count_ones() >= 2;
        let targets = bits(targets)
            .filter(|&t| self.slot_flight[base + t] == ABSENT)
            .fold(0u64, |m, t| m | 1 << t);
        if targets == 0 {
            return Started::NotDue;
        }
        if self.free_flights.len() < targets.count_ones() as usize {
            return Started::Full;
        }
        // 1. Cancel the open orders (they hold margin) and re-check.
        let orders = if pos.mode == MarginMode::Isolated {
            acct.order_mask & (1 << s)
        } else {
            acct.order_mask
        };
        let account = acct.id;
        for t in bits(orders) {
            let slot = base + t;
            self.risk.add_open_at(idx, slot, t, Side::Buy, -i64::MAX);
            self.risk.add_open_at(idx, slot, t, Side::Sell, -i64::MAX);
            sink.emit(RiskOutput::CancelOrders {
                account,
                symbol: SymbolId(t as u32),
            });
        }
        // Open orders do not count toward maintenance margin, so the re-check can only change
        // the answer after a cancel: skip it when there was none.
        if orders != 0 && !self.risk.is_liquidatable(idx, sym) {
            self.rekey(idx);
            return Started::NotDue;
        }
        // 2. One reduce-only IOC per target position at its bankruptcy price.
        for t in bits(targets) {
            self.start_flight(idx, t, sink);
        }
        if several_cross {
            // Keep the account watched where other cross slots still depend on these marks.
            self.rekey(idx);
        }
        Started::Yes
    }

    fn start_flight<S: RiskSink>(&mut self, idx: AccountIdx, t: usize, sink: &mut S) {
        let sym = SymbolId(t as u32);
        let base = idx.0 as usize * self.risk.max_symbols;
        let size = self.risk.positions[base + t].size;
        let Some(fi) = self.free_flights.pop() else {
            return;
        };
        self.unindex(idx, t);
        let long = size > 0;
        let bankrupt = self.risk.bankruptcy_price(idx, sym).map(|p| p.0);
        let limit = match bankrupt {
            Some(b) => b.clamp(1, MAX_PRICE),
            None if long => 1,
            None => MAX_PRICE,
        };
        let qty = self.liquidation_qty(idx, t);
        let whole = qty == size.abs();
        self.seq += 1;
        let id = LIQUIDATION_ID_BASE | ((self.seq & 0x7fff_ffff) << 32) | u64::from(fi);
        self.flights[fi as usize] = Flight {
            id,
            account: idx,
            symbol: t as u32,
            side_sell: long,
            qty,
            filled: 0,
            limit,
            bankrupt,
            whole,
            surplus: 0,
            live: true,
            cooling_until: 0,
        };
        self.slot_flight[base + t] = fi;
        let order = LiquidationOrder {
            id: OrderId(id),
            account: self.risk.accounts[idx.0 as usize].id,
            symbol: sym,
            side: if long { Side::Sell } else { Side::Buy },
            qty: Qty(qty),
            limit_price: Price(limit),
        };
        sink.emit(RiskOutput::Order(order));
        sink.emit(RiskOutput::Event(LiquidationEvent::Liquidation {
            account: order.account,
            symbol: sym,
            side: order.side,
            qty: order.qty,
            limit_price: order.limit_price,
            id: order.id,
        }));
    }

    /// Lots the next liquidation order of slot (idx, t) closes, per [`PartialLiquidation`].
    fn liquidation_qty(&self, idx: AccountIdx, t: usize) -> i64 {
        let pos = &self.risk.positions[idx.0 as usize * self.risk.max_symbols + t];
        let abs = pos.size.abs();
        let Some(state) = self.risk.symbols[t].as_ref() else {
            return abs;
        };
        match self.config.partial {
            PartialLiquidation::Whole => abs,
            PartialLiquidation::StepDownTier => {
                let tiers = state.config.tiers();
                let tier = tiers.tier_for(Money(state.mm_notional(pos)));
                let Some(mark) = state.reference_price() else {
                    return abs;
                };
                if tier == 0 {
                    return abs;
                }
                // Largest L with L · mark · m < floor (rounded down: the rest must fall below).
                let per_lot = i128::from(mark.0) * state.m();
                let floor = tiers.floor(tier).0;
                let keep = if per_lot <= 0 {
                    0
                } else {
                    ((floor - 1) / per_lot).clamp(0, i128::from(abs))
                };
                (abs - keep as i64).clamp(1, abs)
            }
            PartialLiquidation::Chunks {
                fraction,
                min_notional,
                ..
            } => {
                if state.mm_notional(pos) <= min_notional.0 {
                    return abs;
                }
                // ⌈fraction · |size|⌉ (rounded up: never a zero-lot order).
                let chunk =
                    crate::risk::num::div_ceil(i128::from(abs) * i128::from(fraction.0), RATE_DEN)
                        .unwrap_or(i128::from(abs)) as i64;
                chunk.clamp(1, abs)
            }
        }
    }

    // ----- book → risk ------------------------------------------------------------------------

    /// Handles one message from the book.
    ///
    /// # Errors
    ///
    /// [`FillError`] for a fill the risk stage refused (state unchanged).
    pub fn on_book<S: RiskSink>(
        &mut self,
        msg: &BookToRisk,
        sink: &mut S,
    ) -> Result<(), FillError> {
        match msg {
            BookToRisk::Fill(fill) => self.on_fill(fill, sink),
            BookToRisk::End(end) => {
                self.on_liquidation_end(end, sink);
                Ok(())
            }
        }
    }

    /// Applies one account's side of a trade and re-keys the account; the liquidated side of a
    /// liquidation trade is settled (fee, margin left) and completes its order when filled.
    ///
    /// # Errors
    ///
    /// [`FillError`] (state unchanged).
    pub fn on_fill<S: RiskSink>(&mut self, fill: &Fill, sink: &mut S) -> Result<(), FillError> {
        let idx = self
            .risk
            .index_of(fill.account)
            .ok_or(FillError::UnknownAccount)?;
        self.on_fill_at(idx, fill, sink)
    }

    /// [`LiquidationEngine::on_fill`] when the caller knows the account's dense index (the risk
    /// stage keeps it per order): no id lookup. A `hint` that does not name `fill.account`
    /// falls back to the lookup.
    pub(crate) fn on_fill_hinted<S: RiskSink>(
        &mut self,
        hint: AccountIdx,
        fill: &Fill,
        sink: &mut S,
    ) -> Result<(), FillError> {
        if self.risk.id_of(hint) == Some(fill.account) {
            self.on_fill_at(hint, fill, sink)
        } else {
            self.on_fill(fill, sink)
        }
    }

    fn on_fill_at<S: RiskSink>(
        &mut self,
        idx: AccountIdx,
        fill: &Fill,
        sink: &mut S,
    ) -> Result<(), FillError> {
        let s = fill.symbol.0 as usize;
        if s >= self.risk.max_symbols {
            return Err(FillError::UnknownSymbol);
        }
        let fi = self.slot_flight[idx.0 as usize * self.risk.max_symbols + s];
        if fill.liquidation
            && fill.liquidity == Liquidity::Taker
            && fi != ABSENT
            && self.flights[fi as usize].live
        {
            return self.settle_fill(fi, idx, fill, sink);
        }
        self.risk.apply_fill_at(idx, fill, None)?;
        self.refresh(idx, sink);
        Ok(())
    }

    fn settle_fill<S: RiskSink>(
        &mut self,
        fi: u32,
        idx: AccountIdx,
        fill: &Fill,
        sink: &mut S,
    ) -> Result<(), FillError> {
        let f = self.flights[fi as usize];
        let expected = if f.side_sell { Side::Sell } else { Side::Buy };
        if fill.side != expected {
            return Err(FillError::InvalidFill);
        }
        self.risk.apply_fill_at(idx, fill, Some(0))?;
        self.adl_rank.touch(idx);
        let state = self.risk.symbols[f.symbol as usize]
            .as_ref()
            .ok_or(FillError::UnknownSymbol)?;
        let m = state.m();
        let notional = state.notional_sat(fill.price, fill.qty.0);
        let rate = state.config.liquidation_fee();
        let full_fee = crate::risk::num::rate_ceil(notional, rate.0, 0, 0).unwrap_or(0);
        let a = idx.0 as usize;
        // Margin left on this fill, measured from the bankruptcy price (in the order's favour).
        let left = match f.bankrupt {
            Some(b) => {
                let ticks = if f.side_sell {
                    fill.price.0 - b
                } else {
                    b - fill.price.0
                };
                i128::from(ticks)
                    .saturating_mul(i128::from(fill.qty.0))
                    .saturating_mul(m)
            }
            None => self.risk.accounts[a].collateral.max(0),
        };
        let fee = full_fee.min(left.max(0)).max(0);
        if fee > 0 {
            self.move_to_fund(idx, fee, InsuranceReason::LiquidationFee, sink);
        }
        let flight = &mut self.flights[fi as usize];
        if f.bankrupt.is_some() {
            flight.surplus = flight.surplus.saturating_add(left - fee);
        }
        flight.filled += fill.qty.0;
        if flight.filled >= flight.qty {
            self.finish(fi, 0, sink);
        }
        Ok(())
    }

    /// A liquidation order ended with `remaining` lots unfilled: ADL closes them at the
    /// bankruptcy price, then the liquidation is settled. Unknown or finished ids are ignored.
    pub fn on_liquidation_end<S: RiskSink>(&mut self, end: &LiquidationEnd, sink: &mut S) {
        let fi = (end.id.0 & 0xffff_ffff) as u32;
        let Some(f) = self.flights.get(fi as usize) else {
            return;
        };
        if !f.live || f.id != end.id.0 {
            return;
        }
        let remaining = end.remaining.0.clamp(0, f.qty - f.filled);
        self.finish(fi, remaining, sink);
    }

    /// Drops a live liquidation without settling it (no ADL, no fund move) and re-keys its
    /// account, which is liquidated again if still due: for a book that lost the order, and for
    /// benchmarks that replay one mark move. Returns whether `id` was live.
    pub fn abandon_liquidation<S: RiskSink>(&mut self, id: OrderId, sink: &mut S) -> bool {
        let fi = (id.0 & 0xffff_ffff) as u32;
        let Some(f) = self.flights.get(fi as usize).copied() else {
            return false;
        };
        if !f.live || f.id != id.0 {
            return false;
        }
        self.flights[fi as usize].live = false;
        let slot = f.account.0 as usize * self.risk.max_symbols + f.symbol as usize;
        self.slot_flight[slot] = ABSENT;
        self.free_flights.push(fi);
        self.refresh(f.account, sink);
        true
    }

    fn finish<S: RiskSink>(&mut self, fi: u32, remaining: i64, sink: &mut S) {
        let mut f = self.flights[fi as usize];
        f.live = false;
        self.flights[fi as usize].live = false;
        let idx = f.account;
        let a = idx.0 as usize;
        let slot = a * self.risk.max_symbols + f.symbol as usize;
        if remaining > 0 {
            let size = self.risk.positions[slot].size;
            let open = if f.side_sell { size } else { -size };
            let r = remaining.min(open.max(0));
            if r > 0 {
                self.adl(&f, r, sink);
            }
        }
        if f.whole && f.surplus > 0 {
            let sweep = f.surplus.min(self.risk.accounts[a].collateral.max(0));
            if sweep > 0 {
                self.move_to_fund(idx, sweep, InsuranceReason::Surplus, sink);
            }
        }
        let acct = self.risk.accounts[a];
        if acct.collateral < 0 && acct.position_mask == 0 {
            let cover = (-acct.collateral).min(self.risk.insurance_fund.max(0));
            if cover > 0 {
                self.move_to_fund(idx, -cover, InsuranceReason::Deficit, sink);
            }
        }
        let cooldown = match self.config.partial {
            PartialLiquidation::Chunks { cooldown, .. } if !f.whole && cooldown > 0 => {
                Some(cooldown)
            }
            _ => None,
        };
        match cooldown {
            Some(c) => {
                self.flights[fi as usize].cooling_until = self.now.saturating_add(c);
                self.cooling.push(fi);
            }
            None => {
                self.slot_flight[slot] = ABSENT;
                self.free_flights.push(fi);
            }
        }
        self.refresh(idx, sink);
    }

    fn expire_cooldowns<S: RiskSink>(&mut self, sink: &mut S) {
        let mut i = 0;
        while i < self.cooling.len() {
            let fi = self.cooling[i];
            let f = self.flights[fi as usize];
            if f.cooling_until <= self.now {
                self.cooling.swap_remove(i);
                let slot = f.account.0 as usize * self.risk.max_symbols + f.symbol as usize;
                self.slot_flight[slot] = ABSENT;
                self.free_flights.push(fi);
                self.refresh(f.account, sink);
            } else {
                i += 1;
            }
        }
    }

    /// Moves `amount` from the account's collateral to the insurance fund (negative: back).
    fn move_to_fund<S: RiskSink>(
        &mut self,
        idx: AccountIdx,
        amount: i128,
        reason: InsuranceReason,
        sink: &mut S,
    ) {
        self.adl_rank.touch(idx);
        let acct = &mut self.risk.accounts[idx.0 as usize];
        acct.collateral = acct.collateral.saturating_sub(amount);
        self.risk.insurance_fund = self.risk.insurance_fund.saturating_add(amount);
        sink.emit(RiskOutput::Event(LiquidationEvent::Insurance {
            balance: Money(self.risk.insurance_fund),
            delta: Money(amount),
            reason,
        }));
    }

    // ----- ADL ----------------------------------------------------------------------------------

    fn adl<S: RiskSink>(&mut self, f: &Flight, r: i64, sink: &mut S) {
        self.adl_rank.stats.adls += 1;
        // The kept ranking needs every symbol marked: before its first mark a symbol values
        // positions at its last fill price, which fills move without a re-key.
        let marked = self
            .risk
            .symbols
            .iter()
            .all(|st| st.as_ref().is_none_or(|st| st.mark.is_some()));
        if self.adl_cache && marked {
            self.adl_kept(f, r, sink);
        } else {
            self.adl_full(f, r, sink);
        }
    }

    /// Closes `q` lots of the liquidated side against counterparty `j` at the flight's limit
    /// (both fills without fees). `Err(true)`: the liquidated side failed (stop);
    /// `Err(false)`: the counterparty's side failed (undone; try the next).
    fn adl_close(&mut self, f: &Flight, j: u32, q: i64) -> Result<(), bool> {
        let fill = |account, side, liquidity| Fill {
            symbol: SymbolId(f.symbol),
            account,
            side,
            price: Price(f.limit),
            qty: Qty(q),
            liquidity,
            liquidation: false,
        };
        let liquidated = self.risk.accounts[f.account.0 as usize].id;
        let counter = self.risk.accounts[j as usize].id;
        let liq_side = if f.side_sell { Side::Sell } else { Side::Buy };
        if self
            .risk
            .apply_fill_with_fee(&fill(liquidated, liq_side, Liquidity::Taker), Some(0))
            .is_err()
        {
            return Err(true);
        }
        if self
            .risk
            .apply_fill_with_fee(
                &fill(counter, liq_side.opposite(), Liquidity::Maker),
                Some(0),
            )
            .is_err()
        {
            // Undo the liquidated side: the opposite fill at the same price restores it
            // exactly (closing at the fill price realizes the same amount back).
            let _ = self.risk.apply_fill_with_fee(
                &fill(liquidated, liq_side.opposite(), Liquidity::Taker),
                Some(0),
            );
            return Err(false);
        }
        Ok(())
    }

    fn emit_adl<S: RiskSink>(&self, f: &Flight, j: u32, q: i64, sink: &mut S) {
        sink.emit(RiskOutput::Event(LiquidationEvent::Adl {
            symbol: SymbolId(f.symbol),
            liquidated_account: self.risk.accounts[f.account.0 as usize].id,
            counterparty_account: self.risk.accounts[j as usize].id,
            qty: Qty(q),
            price: Price(f.limit),
        }));
    }

    /// ADL with the kept ranking (`adl.rs`): the slot of (symbol, opposite side), built if
    /// the marks moved since, caught up with the accounts changed since, popped as far as the
    /// quantity needs.
    fn adl_kept<S: RiskSink>(&mut self, f: &Flight, mut r: i64, sink: &mut S) {
        let s = f.symbol as usize;
        let ms = self.risk.max_symbols;
        // Counterparties hold the opposite side: shorts for a liquidated long.
        let want_short = f.side_sell;
        let holds = |risk: &RiskEngine, j: u32| {
            let size = risk.positions[j as usize * ms + s].size;
            if want_short { size < 0 } else { size > 0 }
        };
        let (slot, build) = self.adl_rank.claim(f.symbol, want_short);
        let risk = &self.risk;
        if build {
            self.adl_rank
                .build(slot, risk.holders(s, want_short), |j| adl_score(risk, j, s));
        }
        if !self
            .adl_rank
            .catch_up(slot, |j| holds(risk, j), |j| adl_score(risk, j, s))
        {
            // The heap is full (the sizes rule it out): rebuild the slot.
            let risk = &self.risk;
            self.adl_rank
                .build(slot, risk.holders(s, want_short), |j| adl_score(risk, j, s));
        }
        self.adl_rank.used.clear();
        while r > 0 {
            let risk = &self.risk;
            let Some(e) = self.adl_rank.pop(slot, |j| holds(risk, j)) else {
                break;
            };
            let j = e.account;
            if j == f.account.0 || self.slot_flight[j as usize * ms + s] != ABSENT {
                self.adl_rank.set_aside(e);
                continue;
            }
            let q = r.min(self.risk.positions[j as usize * ms + s].size.abs());
            match self.adl_close(f, j, q) {
                Ok(()) => {}
                Err(stop) => {
                    self.adl_rank.set_aside(e);
                    if stop {
                        break;
                    }
                    continue;
                }
            }
            self.emit_adl(f, j, q, sink);
            self.adl_rank.used.push(j);
            r -= q;
        }
        self.adl_rank.restore(slot);
        self.adl_rank.touch(f.account);
        for k in 0..self.adl_rank.used.len() {
            let j = self.adl_rank.used[k];
            self.refresh(AccountIdx(j), sink);
        }
    }

    /// ADL ranking every candidate: score each holder of the opposite side, then pop a heap.
    fn adl_full<S: RiskSink>(&mut self, f: &Flight, mut r: i64, sink: &mut S) {
        let s = f.symbol as usize;
        let ms = self.risk.max_symbols;
        self.adl_rank.invalidate();
        self.adl_rank.stats.builds += 1;
        let want_short = f.side_sell;
        let mut buf = std::mem::take(&mut self.adl_buf);
        buf.clear();
        // Only accounts holding the opposite side, from the engine's holder bit set (in
        // account order, as a walk over every account would find them).
        for (w, &word) in self.risk.holders(s, want_short).iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let j = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if j != f.account.0 as usize && self.slot_flight[j * ms + s] == ABSENT {
                    buf.push(Ranked::unversioned(
                        adl_score(&self.risk, AccountIdx(j as u32), s),
                        j as u32,
                    ));
                }
            }
        }
        self.adl_rank.stats.scored += buf.len() as u64;
        // Best ranked first: a max-heap built in O(n), popped only as far as the quantity
        // needs. Popped entries collect at the end of `buf`, best at the very end.
        heapify(&mut buf);
        let mut heap_len = buf.len();
        self.adl_rank.used.clear();
        while heap_len > 0 && r > 0 {
            heap_len -= 1;
            buf.swap(0, heap_len);
            sift_down(&mut buf[..heap_len], 0);
            let j = buf[heap_len].account;
            let q = r.min(self.risk.positions[j as usize * ms + s].size.abs());
            match self.adl_close(f, j, q) {
                Ok(()) => {}
                Err(true) => break,
                Err(false) => continue,
            }
            self.emit_adl(f, j, q, sink);
            self.adl_rank.used.push(j);
            r -= q;
        }
        self.adl_buf = buf;
        // The counterparties used, in rank order.
        for k in 0..self.adl_rank.used.len() {
            let j = self.adl_rank.used[k];
            self.refresh(AccountIdx(j), sink);
        }
    }

    // ----- the index --------------------------------------------------------------------------

    /// Re-keys every position of the account and starts its liquidation if it is due at the
    /// current marks. Call after changing the account through [`LiquidationEngine::risk_mut`].
    pub fn refresh<S: RiskSink>(&mut self, idx: AccountIdx, sink: &mut S) {
        let due = self.rekey(idx);
        let base = idx.0 as usize * self.risk.max_symbols;
        for s in bits(due) {
            // An isolated slot and the cross part can both be due; a cross liquidation covers
            // every cross slot at once.
            if self.slot_flight[base + s] == ABSENT {
                let _ = self.liquidate(idx, s, sink);
            }
        }
    }

    fn unindex(&mut self, idx: AccountIdx, s: usize) {
        let a = idx.0 as usize;
        let Some(masks) = self.masks.get_mut(a) else {
            return;
        };
        let bit = 1u64 << s;
        if masks[LONG] & bit != 0 {
            self.index[s].longs.remove(idx.0);
        }
        if masks[SHORT] & bit != 0 {
            self.index[s].shorts.remove(idx.0);
        }
        if masks[WATCH] & bit != 0 {
            self.index[s].watch.remove(idx.0);
        }
        for m in masks.iter_mut() {
            *m &= !bit;
        }
    }

    /// Re-keys the account; returns the mask of symbols in which it is liquidatable now.
    fn rekey(&mut self, idx: AccountIdx) -> u64 {
        let a = idx.0 as usize;
        if a >= self.max_accounts || a >= self.risk.account_count() {
            return 0;
        }
        // Every change to an account reaches a re-key: its ADL score may have moved too.
        self.adl_rank.touch(idx);
        let ms = self.risk.max_symbols;
        let base = a * ms;
        let acct = self.risk.accounts[a];
        let old = self.masks[a][LONG] | self.masks[a][SHORT] | self.masks[a][WATCH];
        let mut cross_count = 0;
        for s in bits(acct.position_mask) {
            if self.risk.positions[base + s].mode == MarginMode::Cross {
                cross_count += 1;
            }
        }
        let mut due = 0u64;
        for s in bits(old | acct.position_mask) {
            let pos = self.risk.positions[base + s];
            let bit = 1u64 << s;
            let in_flight = self.slot_flight[base + s] != ABSENT;
            if pos.size != 0 && pos.mode == MarginMode::Cross && cross_count >= 2 {
                // Watched in every symbol whose mark moves its cross equity, even while this
                // slot's own liquidation is in flight (another cross slot may not be).
                if self.masks[a][WATCH] & bit == 0 {
                    self.unindex(idx, s);
                    self.index[s].watch.insert(idx.0);
                    self.masks[a][WATCH] |= bit;
                }
                if !in_flight && self.risk.cross_liquidatable(idx) {
                    due |= bit;
                }
                continue;
            }
            if pos.size == 0 || in_flight {
                self.unindex(idx, s);
                continue;
            }
            let side = if pos.size > 0 { LONG } else { SHORT };
            match self.key_of(idx, s) {
                None => self.unindex(idx, s),
                Some(key) => {
                    let other = if side == LONG { SHORT } else { LONG };
                    if self.masks[a][other] & bit != 0 || self.masks[a][WATCH] & bit != 0 {
                        self.unindex(idx, s);
                    }
                    let index = &mut self.index[s];
                    if side == LONG {
                        index.longs.upsert(idx.0, key);
                    } else {
                        index.shorts.upsert(idx.0, -key);
                    }
                    self.masks[a][side] |= bit;
                    if let Some(mark) = self.risk.mark(SymbolId(s as u32)) {
                        let crossed = if side == LONG {
                            mark.0 <= key
                        } else {
                            mark.0 >= key
                        };
                        if crossed {
                            due |= bit;
                        }
                    }
                }
            }
        }
        due
    }

    /// The exact firing key of a position whose liquidation price depends on its own mark
    /// only: long, the highest mark at which it is liquidatable; short, the lowest. `None`:
    /// it never is (at a positive mark).
    fn key_of(&self, idx: AccountIdx, s: usize) -> Option<i64> {
        let input = self.risk.solve_input(idx, SymbolId(s as u32))?;
        // The exact key in closed form, where it has one (every position in its normal range);
        // else (edges, overflow) from the rounded liquidation price, corrected tick by tick
        // against the maintenance test itself.
        if let Some(key) = solve::liquidation_key(&input) {
            return Some(key);
        }
        let guess = solve::liquidation_price(&input)?.0;
        let liq = |p: i64| solve::margin_gap_at(&input, p).is_some_and(|g| g <= 0);
        const STEPS: usize = 16;
        if input.size > 0 {
            let mut c = guess;
            for _ in 0..STEPS {
                if c > 0 && !liq(c) {
                    c -= 1;
                } else {
                    break;
                }
            }
            for _ in 0..STEPS {
                if c < i64::MAX && liq(c + 1) {
                    c += 1;
                } else {
                    break;
                }
            }
            Some(c)
        } else {
            let mut c = guess;
            for _ in 0..STEPS {
                if c < i64::MAX && !liq(c) {
                    c += 1;
                } else {
                    break;
                }
            }
            for _ in 0..STEPS {
                if c > 1 && liq(c - 1) {
                    c -= 1;
                } else {
                    break;
                }
            }
            Some(c)
        }
    }
}

/// The ADL rank of account `idx`'s position in symbol `s` (higher goes first), 10⁻⁸ units,
/// saturating.
fn adl_score(risk: &RiskEngine, idx: AccountIdx, s: usize) -> i64 {
    let slot = idx.0 as usize * risk.max_symbols + s;
    let pos = &risk.positions[slot];
    let Some(state) = risk.symbols[s].as_ref() else {
        return i64::MIN;
    };
    let upnl = state.upnl(pos);
    let entry = pos.entry_notional.saturating_abs().max(1);
    // PnL% in 10⁻⁸, rounded down.
    let pct = div_floor(mul_sat(upnl, RATE_DEN), entry).unwrap_or(i128::MIN);
    let equity = match pos.mode {
        MarginMode::Isolated => pos.margin.saturating_add(upnl),
        MarginMode::Cross => risk.cross_equity(idx),
    };
    let notional = state
        .reference_price()
        .map_or(entry, |p| state.notional_sat(p, pos.size).saturating_abs());
    // Effective leverage in 10⁻⁸, rounded down; infinite without positive equity.
    let lev = if equity > 0 {
        div_trunc(mul_sat(notional, RATE_DEN), equity)
    } else {
        i128::MAX
    }
    .max(1);
    let score = if pct >= 0 {
        div_trunc(mul_sat(pct, lev), RATE_DEN)
    } else {
        div_trunc(mul_sat(pct, RATE_DEN), lev)
    };
    score.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

enum Fired {
    Started,
    Parked,
    Full,
}

enum Started {
    Yes,
    NotDue,
    Full,
}
