//! The liquidation-cascade scenario: a seeded generator of timestamped engine inputs that
//! builds a leveraged market, lets it trade, crashes its index and lets it recover. It drives
//! `liqcore run` (the main job) and can drive any other harness (`compare -- e2e`, tests).
//!
//! # Layout
//!
//! [`Scenario::generate`] returns every input up front as a `Vec<`[`Step`]`>` (time, phase,
//! input), so a harness can time the engine without timing the generator. Inputs are
//! [`Input`]s — deposits, leverage settings, orders, cancels, modifies, index ticks — with the
//! symbol each one concerns; [`Input`] maps one to one onto the engine's commands and market
//! inputs. The markets come from [`market::risk_config`]: BTC-like perpetuals (tick 0.1, lot
//! 0.001, 125× maximum leverage, Binance-like tiers with derived maintenance amounts, 0.02 % /
//! 0.05 % maker / taker fees, 0.5 % liquidation fee).
//!
//! The generator keeps a shadow [`Book`] per symbol (no risk stage, no liquidations) so that the
//! cancels and moves of the background flow name orders that are live in the book, as
//! `book::workload` does.
//!
//! # Semantics
//!
//! Logical time is in milliseconds, index ticks every [`ScenarioConfig::index_interval_ms`].
//!
//! 1. **Setup** (`setup_ms`): each symbol's first index tick; an insurance fund deposit; per
//!    symbol [`ScenarioConfig::makers`] market makers (accounts from [`MAKER_ACCOUNT_BASE`])
//!    deposit and quote a ladder of [`ScenarioConfig::maker_levels`] levels a side around the
//!    index (level `k` at `1 + k + 0.9·k²` bp: dense at the top, a few deep levels 2–5.4 %
//!    away): 8 thick levels of `accounts` lots at the top, growing by an eighth per level, then
//!    thin levels of a quarter of that. A whale ([`whale_account`]) deposits too.
//!    Every `maker_refresh_ms` (and every index tick once the crash starts) each maker cancels
//!    its resting quotes and quotes again around the current index (all cancels first, so new
//!    quotes never cross a stale ladder). Then accounts `1..=accounts` arrive, evenly spread
//!    over the phase: each deposits collateral (100 to 10,000 quote, skewed small: `100 +
//!    9,900·u³`; 1 % are whales with 20× more), sets a leverage drawn from a skewed table (1× to
//!    100×: [`LEVERAGE_TABLE`], 64 % at 5–20×, 14 % at 50–100×) in cross (80 %) or isolated
//!    (20 %) mode, and opens a position with an IOC limit order 0.3 % through the index
//!    against the makers: 55 % long, notional 45–95 % of what the collateral carries at that
//!    leverage (initial margin, the order's 0.3 % and the taker fee), capped to what the
//!    leverage's tier allows.
//! 2. **Background** (`background_ms`): the index drifts (a small mean-reverting walk) and
//!    random accounts send the exchange-core mix — 9 % GTC, 3 % IOC, 6 % cancel or reduce, 82 %
//!    move (a live order shifted toward the index by 1 % of the gap, or by ±1 tick) — sized `1 +
//!    r³` lots. This flow goes on, at the same rate, through the next two phases.
//! 3. **Crash** (`crash_ms`): the index falls by [`ScenarioConfig::drop`] along a smoothstep
//!    curve; makers re-quote at every index tick; a few long accounts panic and sell their
//!    position (reduce-only IOC 2 % through the index) at each tick. The makers keep depth,
//!    but less than the liquidations need at times: liquidation orders sweep the bids down to
//!    their bankruptcy prices, so the last trade dips below the index. At the last tick of the
//!    crash the makers pull their thick bids (a liquidity vacuum) and the whale sells 5 % more
//!    than the thin bids left, 8 % through the index: the book is swept to its deepest level
//!    and the last trade wicks about 5 % below the index until the makers re-quote 100 ms
//!    later. A mark that follows the last trade liquidates on that wick; the mark price should
//!    not.
//! 4. **Recovery** (`recovery_ms`): the index climbs back two thirds of the way.
//!
//! The same [`ScenarioConfig`] (seed included) gives the same steps, bit for bit: every random
//! draw comes from one `Xoshiro256PlusPlus`, every quantity is integer arithmetic.
//!
//! # Invariants
//!
//! - Timestamps never decrease (the mark stage rejects time going backwards).
//! - Order ids are unique across symbols and increase; user ids stay far below
//!   [`crate::risk::LIQUIDATION_ID_BASE`].
//! - Every price is on the tick and positive; every quantity is `1..=max_qty` lots.
//!
//! # Known limitations
//!
//! - The shadow books see neither risk rejections nor liquidations, so during the crash a
//!   maker may cancel a quote that a liquidation already filled (`unknown_order`), and a
//!   background move may name an order that is gone.
//! - Each account trades one symbol; there are no cross-margin accounts spread over several
//!   symbols. Several symbols are clones of the first at lower prices and crash together.
//! - Makers quote blindly around the index (no inventory skew, no reaction to fills).
//!
//! # Performance
//!
//! Generation is O(steps) with one shadow-book operation per order command; it allocates the
//! step vector (under 100 bytes a step; 716,775 steps for 100,000 accounts, generated in about
//! 0.3 s in release). It is not part of what `liqcore run` times.

pub mod market;
mod play;

pub use play::{Observer, SINGLE_BATCH, play};

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::book::{Book, BookEvent, Command as BookCommand, OrderCommand, TimeInForce};
use crate::engine::{Command, EngineBuilder, Market, MarketInput};
use crate::mark::MarkConfig;
use crate::risk::{Leverage, MarginMode, SymbolRiskConfig};
use crate::types::{AccountId, Money, OrderId, Price, Qty, Rate, Side, SymbolId};

/// Market-maker accounts are `MAKER_ACCOUNT_BASE + symbol · makers + k`.
pub const MAKER_ACCOUNT_BASE: u64 = 1_000_000_000;

/// The account that sweeps symbol `symbol`'s book at the bottom of the crash.
#[must_use]
pub const fn whale_account(symbol: u32) -> AccountId {
    AccountId(MAKER_ACCOUNT_BASE - 1 - symbol as u64)
}

/// Leverage (whole ×) and weight in percent of the accounts that choose it.
pub const LEVERAGE_TABLE: [(u32, u32); 12] = [
    (1, 3),
    (2, 4),
    (3, 5),
    (5, 14),
    (10, 22),
    (15, 10),
    (20, 18),
    (25, 6),
    (30, 4),
    (50, 7),
    (75, 3),
    (100, 4),
];

/// Which part of the scenario a step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Markets fill with makers and leveraged accounts.
    Setup,
    /// Ordinary trading.
    Background,
    /// The index falls.
    Crash,
    /// The index climbs back.
    Recovery,
}

impl Phase {
    /// Every phase, in scenario order.
    pub const ALL: [Phase; 4] = [
        Phase::Setup,
        Phase::Background,
        Phase::Crash,
        Phase::Recovery,
    ];

    /// The phase's name in lower case.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Background => "background",
            Phase::Crash => "crash",
            Phase::Recovery => "recovery",
        }
    }
}

/// One engine input of the scenario: a command for the risk stage or a market input for the
/// mark stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Goes to [`crate::engine::Engine::send`].
    Command(Command),
    /// Goes to [`crate::engine::Engine::feed`].
    Market(MarketInput),
}

/// One timestamped input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Logical time, ms.
    pub ts: u64,
    /// The phase it belongs to.
    pub phase: Phase,
    /// The input.
    pub input: Input,
}

// Steps are held by the hundred thousand: keep them small.
const _: () = assert!(size_of::<Step>() <= 96);

/// Parameters of [`Scenario::generate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScenarioConfig {
    /// RNG seed: the same configuration gives the same steps.
    pub seed: u64,
    /// Leveraged accounts (ids `1..=accounts`).
    pub accounts: u64,
    /// Perpetual symbols (1 to 16).
    pub symbols: u32,
    /// Market makers per symbol.
    pub makers: u32,
    /// Levels each maker quotes on each side.
    pub maker_levels: u32,
    /// How far the index falls in the crash (`Rate(15_000_000)` is 15 %).
    pub drop: Rate,
    /// Background commands per `background_ms` of logical time (the same rate goes on through
    /// the crash and the recovery).
    pub background_commands: u64,
    /// Index tick interval, ms.
    pub index_interval_ms: u64,
    /// Maker re-quote interval before the crash, ms (every index tick from the crash on).
    pub maker_refresh_ms: u64,
    /// Length of the setup phase, ms.
    pub setup_ms: u64,
    /// Length of the background phase, ms.
    pub background_ms: u64,
    /// Length of the crash, ms.
    pub crash_ms: u64,
    /// Length of the recovery, ms.
    pub recovery_ms: u64,
}

impl ScenarioConfig {
    /// The default scenario for `accounts` accounts: one symbol, 4 makers of 25 levels, a 15 %
    /// crash over 3 s, 2 background commands per account over 20 s.
    #[must_use]
    pub fn with_accounts(accounts: u64) -> ScenarioConfig {
        ScenarioConfig {
            seed: 1,
            accounts,
            symbols: 1,
            makers: 4,
            maker_levels: 25,
            drop: Rate(15_000_000),
            background_commands: accounts.saturating_mul(2),
            index_interval_ms: 100,
            maker_refresh_ms: 1_000,
            setup_ms: 60_000,
            background_ms: 20_000,
            crash_ms: 3_000,
            recovery_ms: 10_000,
        }
    }

    /// Logical time at which the crash starts.
    #[must_use]
    pub const fn crash_start_ms(&self) -> u64 {
        self.setup_ms + self.background_ms
    }

    /// Logical time at which the crash ends and the recovery starts.
    #[must_use]
    pub const fn crash_end_ms(&self) -> u64 {
        self.crash_start_ms() + self.crash_ms
    }

    /// Logical time of the last step.
    #[must_use]
    pub const fn end_ms(&self) -> u64 {
        self.crash_end_ms() + self.recovery_ms
    }
}

impl Default for ScenarioConfig {
    /// [`ScenarioConfig::with_accounts`]`(100_000)`.
    fn default() -> ScenarioConfig {
        ScenarioConfig::with_accounts(100_000)
    }
}

/// A generated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// What it was generated from.
    pub config: ScenarioConfig,
    /// Each symbol's risk configuration (grid, tiers, fees), symbol `i` at index `i`.
    pub markets: Vec<SymbolRiskConfig>,
    /// Each symbol's index price at the start, ticks.
    pub start_prices: Vec<Price>,
    /// The inputs, in time order.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Generates the scenario. `symbols` is clamped to `1..=16`, `accounts` to at least 1,
    /// `makers` and `maker_levels` to at least 1, the intervals to at least 1 ms and `drop` to
    /// `0..=90 %`.
    #[must_use]
    pub fn generate(config: &ScenarioConfig) -> Scenario {
        let mut config = *config;
        config.symbols = config.symbols.clamp(1, 16);
        config.accounts = config.accounts.max(1);
        config.makers = config.makers.max(1);
        config.maker_levels = config.maker_levels.max(1);
        config.index_interval_ms = config.index_interval_ms.max(1);
        config.maker_refresh_ms = config.maker_refresh_ms.max(1);
        config.drop = Rate(config.drop.0.clamp(0, 90_000_000));
        Generator::new(config).run()
    }

    /// Σ of every deposit (accounts and makers), excluding the insurance fund.
    #[must_use]
    pub fn total_deposits(&self) -> Money {
        Money(
            self.steps
                .iter()
                .map(|s| match s.input {
                    Input::Command(Command::Deposit { amount, .. }) => amount.0,
                    _ => 0,
                })
                .sum(),
        )
    }

    /// Σ of the insurance fund deposits.
    #[must_use]
    pub fn insurance_deposits(&self) -> Money {
        Money(
            self.steps
                .iter()
                .map(|s| match s.input {
                    Input::Command(Command::Insurance { amount }) => amount.0,
                    _ => 0,
                })
                .sum(),
        )
    }

    /// Number of steps in `phase`.
    #[must_use]
    pub fn count(&self, phase: Phase) -> usize {
        self.steps.iter().filter(|s| s.phase == phase).count()
    }

    /// The scenario's markets with `mark` as every symbol's mark-price method.
    #[must_use]
    pub fn markets(&self, mark: MarkConfig) -> Vec<Market> {
        self.markets
            .iter()
            .map(|risk| Market::new(risk.spec().clone(), risk.clone(), mark))
            .collect()
    }

    /// An [`EngineBuilder`] sized for the scenario (accounts, live orders, book capacity) with
    /// its markets marked by `mark`; layout, cores, waits and latency are the caller's.
    #[must_use]
    pub fn builder(&self, mark: MarkConfig) -> EngineBuilder {
        let accounts = usize::try_from(self.config.accounts).unwrap_or(usize::MAX);
        let makers = (self.config.makers * self.config.symbols) as usize;
        let mut builder = EngineBuilder::new()
            .accounts(accounts.saturating_add(makers).saturating_add(16))
            .max_symbols(self.markets.len())
            .max_orders(1 << 18)
            .book_capacity(1 << 17)
            .ring_capacity(1 << 14);
        for market in self.markets(mark) {
            builder = builder.market(market);
        }
        builder
    }

    /// Whether `account` is one of the scenario's market makers.
    #[must_use]
    pub const fn is_maker(account: AccountId) -> bool {
        account.0 >= MAKER_ACCOUNT_BASE
    }
}

/// What the generator remembers of an account.
#[derive(Clone, Copy, Debug, Default)]
struct User {
    symbol: u32,
    long: bool,
    qty: i64,
}

struct SymbolState {
    /// Index price now, ticks.
    index: i64,
    /// Where the background walk reverts to, ticks.
    anchor: i64,
    /// The price the crash starts from (set when it starts).
    crash_from: i64,
    /// The price the recovery starts from (set when it starts).
    recovery_from: i64,
    book: Book,
    /// Each maker's resting quote ids.
    quotes: Vec<Vec<u64>>,
    /// Background GTC orders that may be live.
    live: Vec<u64>,
    /// Maker size at level 0, lots.
    maker_base: i64,
}

struct Generator {
    config: ScenarioConfig,
    rng: Xoshiro256PlusPlus,
    steps: Vec<Step>,
    symbols: Vec<SymbolState>,
    users: Vec<User>,
    next_id: u64,
    ts: u64,
    phase: Phase,
    events: Vec<BookEvent>,
}

/// Resting background orders the shadow book hovers around, per symbol.
const TARGET_BACKGROUND_ORDERS: usize = 1000;
/// Half-width of the band passive background orders rest in, ticks.
const SPREAD: i64 = 400;
/// Ladder levels at the top that are thick (and pulled in a vacuum); deeper levels are thin.
const THICK_LEVELS: i64 = 8;
/// Capacity of each shadow book.
const SHADOW_CAPACITY: usize = 1 << 16;

impl Generator {
    fn new(config: ScenarioConfig) -> Generator {
        let maker_base = i64::try_from(config.accounts)
            .unwrap_or(i64::MAX)
            .clamp(40, 400_000);
        let symbols = (0..config.symbols)
            .map(|s| {
                let start = market::start_price_quote(s) * 10;
                SymbolState {
                    index: start,
                    anchor: start,
                    crash_from: start,
                    recovery_from: start,
                    book: Book::new(market::spec(s), SHADOW_CAPACITY),
                    quotes: vec![Vec::new(); config.makers as usize],
                    live: Vec::with_capacity(TARGET_BACKGROUND_ORDERS * 4),
                    maker_base,
                }
            })
            .collect();
        let estimate = usize::try_from(config.accounts.saturating_mul(3))
            .unwrap_or(0)
            .saturating_add(
                usize::try_from(config.background_commands.saturating_mul(2)).unwrap_or(0),
            );
        Generator {
            config,
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
            steps: Vec::with_capacity(estimate.min(1 << 24)),
            symbols,
            users: vec![User::default(); usize::try_from(config.accounts).unwrap_or(0) + 1],
            next_id: 0,
            ts: 0,
            phase: Phase::Setup,
            events: Vec::with_capacity(256),
        }
    }

    fn push(&mut self, input: Input) {
        self.steps.push(Step {
            ts: self.ts,
            phase: self.phase,
            input,
        });
    }

    /// Emits an order and applies it to the shadow book.
    fn order(&mut self, symbol: u32, order: OrderCommand) {
        self.push(Input::Command(Command::Order {
            symbol: SymbolId(symbol),
            order,
        }));
        self.events.clear();
        self.symbols[symbol as usize]
            .book
            .apply(&BookCommand::Submit(order), &mut self.events);
    }

    fn cancel(&mut self, symbol: u32, id: u64) {
        self.push(Input::Command(Command::Cancel { id: OrderId(id) }));
        self.events.clear();
        self.symbols[symbol as usize]
            .book
            .apply(&BookCommand::Cancel(OrderId(id)), &mut self.events);
    }

    fn modify(&mut self, symbol: u32, id: u64, price: Option<Price>, qty: Option<Qty>) {
        self.push(Input::Command(Command::Modify {
            id: OrderId(id),
            price,
            qty,
        }));
        self.events.clear();
        self.symbols[symbol as usize].book.apply(
            &BookCommand::Modify {
                id: OrderId(id),
                price,
                qty,
            },
            &mut self.events,
        );
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn index_tick(&mut self, symbol: u32) {
        let price = Price(self.symbols[symbol as usize].index.max(1));
        self.push(Input::Market(MarketInput::Index {
            symbol: SymbolId(symbol),
            price,
        }));
    }

    fn maker_account(&self, symbol: u32, k: u32) -> AccountId {
        AccountId(
            MAKER_ACCOUNT_BASE + u64::from(symbol) * u64::from(self.config.makers) + u64::from(k),
        )
    }

    /// Offset of ladder level `k` from the index, ticks: `1 + k + 0.9·k²` basis points, at
    /// least `k + 1` ticks (rounded down to the tick).
    fn level_offset(index: i64, k: i64) -> i64 {
        let hundredths_bp = 100 + 100 * k + 90 * k * k;
        // index · bp / 10⁴, bp in hundredths: / 10⁶; rounds down.
        (index.saturating_mul(hundredths_bp) / 1_000_000).max(k + 1)
    }

    /// Size of ladder level `level` for a top size of `base` lots: growing by an eighth per
    /// level over the [`THICK_LEVELS`] levels at the top (rounded down), a quarter of the top
    /// size beyond; at least one lot.
    fn level_qty(base: i64, level: i64) -> i64 {
        if level < THICK_LEVELS {
            (base * (8 + level) / 8).max(1)
        } else {
            (base / 4).max(1)
        }
    }

    /// Lots the makers of `symbol` bid in a vacuum ladder (the thin levels only).
    fn vacuum_depth(&self, s: usize) -> i64 {
        let base = self.symbols[s].maker_base;
        let one: i64 = (THICK_LEVELS..i64::from(self.config.maker_levels))
            .map(|level| Self::level_qty(base, level))
            .sum();
        one * i64::from(self.config.makers)
    }

    /// The whale of `symbol` sells 5 % more than the makers bid during a vacuum, 8 % through
    /// the index (IOC, in orders of at most the symbol's maximum size): the thin book is
    /// swept and the last trade wicks far below the index for a moment.
    fn whale_dump(&mut self, symbol: u32) {
        let s = symbol as usize;
        let mut left = (self.vacuum_depth(s) * 21 / 20).max(1);
        let index = self.symbols[s].index;
        let price = (index - index * 8 / 100).max(1);
        let max = market::spec(symbol).max_qty.0;
        let account = whale_account(symbol);
        while left > 0 {
            let qty = left.min(max);
            left -= qty;
            let id = self.new_id();
            self.order(
                symbol,
                OrderCommand::limit(id, account.0, Side::Sell, price, qty)
                    .with_tif(TimeInForce::Ioc),
            );
        }
    }

    /// Every maker of `symbol` cancels its quotes; then each quotes a fresh ladder.
    fn refresh_makers(&mut self, symbol: u32, vacuum: bool) {
        let s = symbol as usize;
        // Every quote of the previous ladder is cancelled, filled or not: the shadow book
        // cannot tell which ones a liquidation filled or a refused order did not, and a quote
        // left behind would rest at a stale price.
        for k in 0..self.config.makers as usize {
            let ids = std::mem::take(&mut self.symbols[s].quotes[k]);
            for &id in &ids {
                self.cancel(symbol, id);
            }
            let mut ids = ids;
            ids.clear();
            self.symbols[s].quotes[k] = ids;
        }
        let index = self.symbols[s].index;
        let base = self.symbols[s].maker_base;
        for k in 0..self.config.makers {
            let account = self.maker_account(symbol, k);
            for level in 0..i64::from(self.config.maker_levels) {
                let offset = Self::level_offset(index, level);
                let qty = Self::level_qty(base, level);
                for side in [Side::Buy, Side::Sell] {
                    if vacuum && side == Side::Buy && level < THICK_LEVELS {
                        continue;
                    }
                    let price = (index - side.sign() * offset).max(1);
                    let id = self.new_id();
                    self.order(symbol, OrderCommand::limit(id, account.0, side, price, qty));
                    self.symbols[s].quotes[k as usize].push(id);
                }
            }
        }
    }

    fn random_side(&mut self) -> Side {
        if self.rng.random_range(0..2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    fn leverage(&mut self) -> u32 {
        let mut roll = self.rng.random_range(0..100u32);
        for (lev, weight) in LEVERAGE_TABLE {
            if roll < weight {
                return lev;
            }
            roll -= weight;
        }
        LEVERAGE_TABLE[LEVERAGE_TABLE.len() - 1].0
    }

    /// Account `n` arrives: deposit, leverage, opening IOC.
    fn open_account(&mut self, n: u64) {
        let symbol = if self.config.symbols == 1 {
            0
        } else {
            self.rng.random_range(0..self.config.symbols)
        };
        let account = AccountId(n);
        // Collateral 100 + 9,900·u³ quote (u uniform in [0, 1)), cents from a second draw;
        // 1 % whales hold 20× more.
        let u: i128 = self.rng.random_range(0..1000);
        let whole = 100 + 9_900 * u * u * u / 1_000_000_000;
        let cents: i128 = self.rng.random_range(0..100);
        let whale = if self.rng.random_range(0..100) == 0 {
            20
        } else {
            1
        };
        let collateral = (whole * 100 + cents) * whale; // in cents
        self.push(Input::Command(Command::Deposit {
            account,
            amount: Money(collateral * (Money::UNIT / 100)),
        }));
        let lev = self.leverage();
        let mode = if self.rng.random_range(0..100) < 20 {
            MarginMode::Isolated
        } else {
            MarginMode::Cross
        };
        self.push(Input::Command(Command::Leverage {
            account,
            symbol: SymbolId(symbol),
            leverage: Leverage::from_whole(lev),
            mode,
        }));
        let long = self.rng.random_range(0..100) < 55;
        let ratio: i128 = self.rng.random_range(45..=95);
        let index = self.symbols[symbol as usize].index;
        // Notional in cents: ratio % of the most the collateral carries at this leverage with
        // the order's immediate loss (0.3 %) and taker fee (0.05 %) on top — collateral /
        // (1/leverage + 0.0035), rounded down — capped by the leverage's tier.
        let most = collateral * 10_000 * i128::from(lev) / (10_000 + 35 * i128::from(lev));
        let notional = (most * ratio / 100).min(market::max_notional_cents(lev));
        // Lots: notional / (price · lot) = cents / 100 / (ticks / 10 · 0.001) = cents · 100 / ticks.
        let qty = i64::try_from(notional * 100 / i128::from(index.max(1)))
            .unwrap_or(1)
            .clamp(1, 1_000_000);
        let side = if long { Side::Buy } else { Side::Sell };
        // 0.3 % through the index, at least one tick.
        let through = (index * 3 / 1000).max(1);
        let price = (index + side.sign() * through).max(1);
        let id = self.new_id();
        self.order(
            symbol,
            OrderCommand::limit(id, n, side, price, qty).with_tif(TimeInForce::Ioc),
        );
        if let Some(user) = self.users.get_mut(usize::try_from(n).unwrap_or(usize::MAX)) {
            *user = User { symbol, long, qty };
        }
    }

    fn random_user(&mut self) -> (u64, u32) {
        let n = self.rng.random_range(1..=self.config.accounts);
        let symbol = self.users.get(n as usize).map_or(0, |u| u.symbol);
        (n, symbol)
    }

    /// A live background order of `symbol`, if any.
    fn pick_live(&mut self, symbol: u32) -> Option<u64> {
        let s = symbol as usize;
        while !self.symbols[s].live.is_empty() {
            let at = self.rng.random_range(0..self.symbols[s].live.len());
            let id = self.symbols[s].live[at];
            if self.symbols[s].book.order(OrderId(id)).is_some() {
                return Some(id);
            }
            self.symbols[s].live.swap_remove(at);
        }
        None
    }

    fn background_order(&mut self, tif: TimeInForce) {
        let (account, symbol) = self.random_user();
        let side = self.random_side();
        let index = self.symbols[symbol as usize].index;
        let offset = if tif == TimeInForce::Gtc {
            -self.rng.random_range(-3..SPREAD)
        } else {
            self.rng.random_range(0..=60)
        };
        let price = (index + side.sign() * offset).max(1);
        let r: i64 = self.rng.random_range(0..=5);
        let qty = 1 + r * r * r;
        let id = self.new_id();
        self.order(
            symbol,
            OrderCommand::limit(id, account, side, price, qty).with_tif(tif),
        );
        if tif == TimeInForce::Gtc
            && self.symbols[symbol as usize]
                .book
                .order(OrderId(id))
                .is_some()
        {
            self.symbols[symbol as usize].live.push(id);
        }
    }

    fn background_cancel_or_reduce(&mut self, symbol: u32) -> bool {
        let Some(id) = self.pick_live(symbol) else {
            return false;
        };
        let Some(view) = self.symbols[symbol as usize].book.order(OrderId(id)) else {
            return false;
        };
        if self.rng.random_range(0..2) == 0 || view.remaining.0 <= 1 {
            self.cancel(symbol, id);
        } else {
            let cut = self.rng.random_range(1..view.remaining.0);
            self.modify(symbol, id, None, Some(Qty(view.remaining.0 - cut)));
        }
        true
    }

    fn background_move(&mut self, symbol: u32) -> bool {
        let Some(id) = self.pick_live(symbol) else {
            return false;
        };
        let Some(view) = self.symbols[symbol as usize].book.order(OrderId(id)) else {
            return false;
        };
        let gap = self.symbols[symbol as usize].index - view.price.0;
        let shift = if self.rng.random_range(0..2) == 0 && gap != 0 {
            gap.signum() * (gap.abs() / 100).max(1)
        } else if self.rng.random_range(0..2) == 0 {
            1
        } else {
            -1
        };
        self.modify(symbol, id, Some(Price((view.price.0 + shift).max(1))), None);
        true
    }

    /// One background command in the exchange-core mix.
    fn background(&mut self) {
        let symbol = if self.config.symbols == 1 {
            0
        } else {
            self.rng.random_range(0..self.config.symbols)
        };
        let live = self.symbols[symbol as usize].live.len();
        let roll = self.rng.random_range(0..100);
        let done = if roll < 9 {
            live > TARGET_BACKGROUND_ORDERS && self.background_cancel_or_reduce(symbol)
        } else if roll < 12 {
            self.background_order(TimeInForce::Ioc);
            true
        } else if roll < 18 {
            self.background_cancel_or_reduce(symbol)
        } else if live < TARGET_BACKGROUND_ORDERS / 2 {
            false
        } else {
            self.background_move(symbol)
        };
        if !done {
            self.background_order(TimeInForce::Gtc);
        }
    }

    /// A long account sells its position (reduce-only IOC 2 % through the index).
    fn panic_sell(&mut self) {
        let (n, symbol) = self.random_user();
        let Some(user) = self.users.get(n as usize).copied() else {
            return;
        };
        if !user.long || user.qty <= 0 {
            return;
        }
        let index = self.symbols[symbol as usize].index;
        let price = (index - (index / 50).max(1)).max(1);
        let id = self.new_id();
        self.order(
            symbol,
            OrderCommand::limit(id, n, Side::Sell, price, user.qty)
                .with_tif(TimeInForce::Ioc)
                .reduce_only(),
        );
    }

    /// Moves every symbol's index for the tick at `self.ts`.
    fn move_index(&mut self) {
        let crash_start = self.config.crash_start_ms();
        let crash_end = self.config.crash_end_ms();
        let end = self.config.end_ms();
        for s in 0..self.symbols.len() {
            let noise = self.rng.random_range(-10..=10);
            let state = &mut self.symbols[s];
            match self.phase {
                Phase::Setup | Phase::Background => {
                    // Mean-reverting walk: 2 % of the gap to the anchor plus ±10 ticks.
                    state.index += (state.anchor - state.index) / 50 + noise;
                }
                Phase::Crash => {
                    // Smoothstep 3x² − 2x³ of the elapsed fraction x (both in 10⁻⁶).
                    let x = i128::from(self.ts - crash_start)
                        .min(i128::from(crash_end - crash_start))
                        * 1_000_000
                        / i128::from((crash_end - crash_start).max(1));
                    let smooth = (3 * x * x * 1_000_000 - 2 * x * x * x) / 1_000_000_000_000;
                    let fall = i128::from(state.crash_from) * i128::from(self.config.drop.0)
                        / i128::from(Rate::ONE.0);
                    state.index = state.crash_from - (fall * smooth / 1_000_000) as i64;
                }
                Phase::Recovery => {
                    // Ease out, 1 − (1 − x)², over two thirds of the fall.
                    let x = i128::from(self.ts - crash_end).min(i128::from(end - crash_end))
                        * 1_000_000
                        / i128::from((end - crash_end).max(1));
                    let ease = 1_000_000 - (1_000_000 - x) * (1_000_000 - x) / 1_000_000;
                    let regain = i128::from(state.crash_from - state.recovery_from) * 2 / 3;
                    state.index = state.recovery_from + (regain * ease / 1_000_000) as i64;
                }
            }
            state.index = state.index.max(1);
        }
    }

    fn run(mut self) -> Scenario {
        let config = self.config;
        let symbols = config.symbols;
        // Setup: first index, insurance fund, makers.
        for s in 0..symbols {
            self.index_tick(s);
        }
        self.push(Input::Command(Command::Insurance {
            amount: Money(i128::from(config.accounts) * 10 * Money::UNIT),
        }));
        for s in 0..symbols {
            for k in 0..config.makers {
                let account = self.maker_account(s, k);
                self.push(Input::Command(Command::Deposit {
                    account,
                    amount: Money(i128::from(config.accounts.max(1_000)) * 20_000 * Money::UNIT),
                }));
                self.push(Input::Command(Command::Leverage {
                    account,
                    symbol: SymbolId(s),
                    leverage: Leverage::from_whole(2),
                    mode: MarginMode::Cross,
                }));
            }
            let whale = whale_account(s);
            self.push(Input::Command(Command::Deposit {
                account: whale,
                amount: Money(i128::from(config.accounts.max(1_000)) * 10_000 * Money::UNIT),
            }));
            self.push(Input::Command(Command::Leverage {
                account: whale,
                symbol: SymbolId(s),
                leverage: Leverage::from_whole(2),
                mode: MarginMode::Cross,
            }));
            self.refresh_makers(s, false);
        }

        let interval = config.index_interval_ms;
        let end = config.end_ms();
        let mut next_account = 1u64;
        let mut background_done = 0u64;
        let mut last_refresh = 0u64;
        let mut tick = interval;
        while tick <= end {
            self.ts = tick;
            self.phase = if tick < config.setup_ms {
                Phase::Setup
            } else if tick < config.crash_start_ms() {
                Phase::Background
            } else if tick < config.crash_end_ms() {
                Phase::Crash
            } else {
                Phase::Recovery
            };
            if self.phase == Phase::Crash && tick < config.crash_start_ms() + interval {
                for state in &mut self.symbols {
                    state.crash_from = state.index;
                }
            }
            if self.phase == Phase::Recovery && tick < config.crash_end_ms() + interval {
                for state in &mut self.symbols {
                    state.recovery_from = state.index;
                }
            }
            self.move_index();
            for s in 0..symbols {
                self.index_tick(s);
            }
            let refresh_every = if self.phase >= Phase::Crash {
                interval
            } else {
                config.maker_refresh_ms
            };
            // At the last tick of the crash the makers pull their thick bids: a vacuum.
            let vacuum = self.phase == Phase::Crash && tick + interval >= config.crash_end_ms();
            if tick - last_refresh >= refresh_every {
                last_refresh = tick;
                for s in 0..symbols {
                    self.refresh_makers(s, vacuum);
                }
            }
            // Accounts due by the end of this tick (setup), spread evenly over the phase;
            // background flow from the background phase on; panic sells in the crash. They
            // interleave at random and share the tick's time evenly.
            let due_accounts = if tick + interval >= config.setup_ms {
                config.accounts
            } else {
                (u128::from(config.accounts) * u128::from(tick + interval)
                    / u128::from(config.setup_ms.max(1))) as u64
            };
            let mut accounts = due_accounts.saturating_sub(next_account - 1);
            let mut background = if tick > config.setup_ms {
                let elapsed = tick - config.setup_ms;
                let due = (u128::from(config.background_commands) * u128::from(elapsed)
                    / u128::from(config.background_ms.max(1))) as u64;
                let n = due.saturating_sub(background_done);
                background_done = due;
                n
            } else {
                0
            };
            let mut panics = if self.phase == Phase::Crash {
                (config.accounts / 1_000).max(1)
            } else {
                0
            };
            let first = self.ts;
            let total = accounts + background + panics;
            for j in 0..total {
                // Never past the next tick: j < total.
                self.ts = first + j * interval / total.max(1);
                let roll = self.rng.random_range(0..accounts + background + panics);
                if roll < accounts {
                    self.open_account(next_account);
                    next_account += 1;
                    accounts -= 1;
                } else if roll < accounts + background {
                    self.background();
                    background -= 1;
                } else {
                    self.panic_sell();
                    panics -= 1;
                }
            }
            if vacuum {
                self.ts = first + interval - 1;
                for s in 0..symbols {
                    self.whale_dump(s);
                }
            }
            tick += interval;
        }
        let mut markets = Vec::with_capacity(symbols as usize);
        let mut start_prices = Vec::with_capacity(symbols as usize);
        for s in 0..symbols {
            markets.push(market::risk_config(s));
            start_prices.push(Price(market::start_price_quote(s) * 10));
        }
        Scenario {
            config,
            markets,
            start_prices,
            steps: self.steps,
        }
    }
}
