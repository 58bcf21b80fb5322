//! `compare -- scan`: the liquidation index against a naive full scan.
//!
//! 1,000,000 accounts each hold one position in one symbol (tick 0.000001, lot 0.001, entry
//! 10,000.0 quote, 1–100 lots, half long and half short), with collateral for a random
//! effective leverage of 2–80× (cross; MM 0.5 % / 1 % above 500,000 quote; seeded). A mark
//! move from the entry price to a price that crosses exactly `k` longs (k = 0, 10, 1,000) is
//! timed from the call of `LiquidationEngine::on_mark` to its return, after which the last of
//! the `k` liquidation orders has been written to the (preallocated) sink; each sample is one
//! mark update, timed alone with `quanta::Clock::raw()`, into an hdrhistogram. Between
//! samples (untimed), the mark goes back and the liquidations are abandoned, which re-keys the
//! accounts. The naive scan sets the same mark and tests every account with
//! `RiskEngine::is_liquidatable`, collecting the liquidatable ones. A second table times a mark
//! move that crosses nobody on a symbol that `w` cross accounts over two symbols also hold
//! (their watch-list cost).
//!
//! Key lines: `scan.ratio_vs_naive` (naive p50 / indexed p50 at k = 10), `scan.p99_ns_k10`,
//! `scan.p99_ns_k0`, `scan.bytes_per_position` (index and liquidation tables per position).

use std::hint::black_box;

use hdrhistogram::Histogram;
use liqcore::risk::{
    AccountIdx, Fill, Leverage, LiquidationConfig, LiquidationEngine, Liquidity, MarginTier,
    RiskConfig, RiskEngine, RiskOutput, RiskSink, SymbolRiskConfig,
};
use liqcore::types::{AccountId, Money, OrderId, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use quanta::Clock;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rust_decimal::Decimal;

const POSITIONS: usize = 1_000_000;
const ENTRY: i64 = 10_000_000_000; // 10,000.0 quote at tick 0.000001 (fine: few ties)
const SAMPLES: usize = 2_000;
const NAIVE_SAMPLES: usize = 7;
const SEED: u64 = 0x7363_616e;

/// A sink that keeps the orders in preallocated storage (no allocation while measuring).
struct OrderSink {
    orders: Vec<OrderId>,
    outputs: usize,
}

impl RiskSink for OrderSink {
    #[inline]
    fn emit(&mut self, out: RiskOutput) {
        self.outputs += 1;
        if let RiskOutput::Order(o) = out
            && self.orders.len() < self.orders.capacity()
        {
            self.orders.push(o.id);
        }
    }
}

fn symbol(id: u32) -> SymbolRiskConfig {
    let spec = SymbolSpec::new(SymbolId(id), Decimal::new(1, 6), Decimal::new(1, 3))
        .expect("valid increments");
    SymbolRiskConfig::new(
        spec,
        Leverage::from_whole(100),
        &[
            MarginTier {
                floor: Money::ZERO,
                mmr: Rate(500_000),
                max_leverage: None,
            },
            MarginTier {
                floor: Money(500_000 * Money::UNIT),
                mmr: Rate(1_000_000),
                max_leverage: None,
            },
        ],
    )
    .expect("valid tiers")
}

fn fill(symbol: u32, account: u64, side: Side, qty: i64) -> Fill {
    Fill {
        symbol: SymbolId(symbol),
        account: AccountId(account),
        side,
        price: Price(ENTRY),
        qty: Qty(qty),
        liquidity: Liquidity::Maker,
        liquidation: false,
    }
}

/// `n` single-position accounts on symbol 0 plus a counterparty; `watched` further accounts
/// hold cross positions in symbols 0 and 1.
fn build(n: usize, watched: usize) -> LiquidationEngine {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let mut risk = RiskEngine::new(RiskConfig {
        max_accounts: n + watched + 1,
        max_symbols: if watched > 0 { 2 } else { 1 },
    });
    risk.add_symbol(symbol(0)).expect("fresh symbol");
    if watched > 0 {
        risk.add_symbol(symbol(1)).expect("fresh symbol");
    }
    let counterparty = u64::MAX - 1;
    risk.deposit(AccountId(counterparty), Money(1_000_000_000 * Money::UNIT))
        .expect("deposit");
    // Notional per lot at the entry: 10 quote.
    let lot_notional = 10 * Money::UNIT;
    for a in 0..n as u64 {
        let qty = rng.random_range(1..=100i64);
        let leverage = rng.random_range(2.0..80.0f64);
        let collateral = (i128::from(qty) * lot_notional) as f64 / leverage;
        risk.deposit(AccountId(a), Money(collateral as i128 + 1))
            .expect("deposit");
        let side = if a % 2 == 0 { Side::Buy } else { Side::Sell };
        risk.apply_fill(&fill(0, a, side, qty)).expect("fill");
        risk.apply_fill(&fill(0, counterparty, side.opposite(), qty))
            .expect("fill");
    }
    for w in 0..watched as u64 {
        let a = 1_000_000_000 + w;
        risk.deposit(AccountId(a), Money(200 * Money::UNIT))
            .expect("deposit");
        for s in 0..2 {
            risk.apply_fill(&fill(s, a, Side::Buy, 10)).expect("fill");
            risk.apply_fill(&fill(s, counterparty, Side::Sell, 10))
                .expect("fill");
        }
    }
    risk.set_mark(SymbolId(0), Price(ENTRY)).expect("mark");
    if watched > 0 {
        risk.set_mark(SymbolId(1), Price(ENTRY)).expect("mark");
    }
    LiquidationEngine::new(
        risk,
        LiquidationConfig {
            max_in_flight: 4096,
            ..LiquidationConfig::default()
        },
    )
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("static histogram bounds are valid")
}

/// Times `SAMPLES` mark moves `ENTRY → target` on symbol 0, restoring in between; returns the
/// histogram and the liquidation orders of the last move.
fn indexed(
    engine: &mut LiquidationEngine,
    target: Price,
    clock: &Clock,
) -> (Histogram<u64>, usize) {
    let mut hist = histogram();
    let mut sink = OrderSink {
        orders: Vec::with_capacity(4096),
        outputs: 0,
    };
    let mut spare = OrderSink {
        orders: Vec::with_capacity(4096),
        outputs: 0,
    };
    let mut fired = 0;
    for i in 0..SAMPLES + SAMPLES / 10 {
        sink.orders.clear();
        let start = clock.raw();
        let started = engine.on_mark(SymbolId(0), target, 0, &mut sink);
        let end = clock.raw();
        black_box(started.ok());
        if i >= SAMPLES / 10 {
            hist.saturating_record(clock.delta_as_nanos(start, end).max(1));
        }
        fired = sink.orders.len();
        engine
            .on_mark(SymbolId(0), Price(ENTRY), 0, &mut spare)
            .expect("mark");
        for &id in &sink.orders {
            engine.abandon_liquidation(id, &mut spare);
        }
        spare.orders.clear();
    }
    (hist, fired)
}

/// The naive scan: set the mark, test every account. Returns (median ns, liquidatable count).
fn naive(engine: &mut LiquidationEngine, target: Price, clock: &Clock) -> (u64, usize) {
    let n = engine.risk().account_count();
    let mut found: Vec<u32> = Vec::with_capacity(n);
    let mut times = Vec::with_capacity(NAIVE_SAMPLES);
    for _ in 0..NAIVE_SAMPLES {
        found.clear();
        let start = clock.raw();
        let risk = engine.risk_mut();
        risk.set_mark(SymbolId(0), target).expect("mark");
        for a in 0..n as u32 {
            if risk.is_liquidatable(AccountIdx(a), SymbolId(0)) {
                found.push(a);
            }
        }
        let end = clock.raw();
        black_box(&found);
        times.push(clock.delta_as_nanos(start, end));
        engine
            .risk_mut()
            .set_mark(SymbolId(0), Price(ENTRY))
            .expect("mark");
    }
    times.sort_unstable();
    (times[NAIVE_SAMPLES / 2], found.len())
}

/// The mark that crosses exactly the `k` highest-keyed longs (`ENTRY − 1` for k = 0).
fn target_for(engine: &LiquidationEngine, k: usize) -> Price {
    if k == 0 {
        return Price(ENTRY - 1);
    }
    let risk = engine.risk();
    let mut keys: Vec<i64> = (0..POSITIONS as u32)
        .filter_map(|a| {
            let idx = AccountIdx(a);
            if risk.position_size(idx, SymbolId(0)).0 > 0 {
                risk.liquidation_price(idx, SymbolId(0)).map(|p| p.0)
            } else {
                None
            }
        })
        .collect();
    keys.sort_unstable_by(|a, b| b.cmp(a));
    // A key is its liquidation price (rounded up) or one tick below it. One tick below the
    // j-th price fires the first j positions when the (j+1)-th price is lower: take the first
    // such j ≥ k (ties can make it k + 1); the table reports how many fired.
    let mut j = k;
    while j < keys.len() && keys[j] == keys[j - 1] {
        j += 1;
    }
    Price(keys[j - 1] - 1)
}

/// Runs the comparison and prints its table and `key=value` lines.
pub fn run() {
    if let Some(core) = crate::machine::core_ids().last() {
        core_affinity::set_for_current(*core);
    }
    let clock = Clock::new();
    let mut engine = build(POSITIONS, 0);
    let bytes_per_position = engine.memory_bytes() / POSITIONS;
    println!(
        "# {POSITIONS} positions on one symbol, random leverage 2–80×; {SAMPLES} timed mark \
         updates per row (after {} warm-up), naive: median of {NAIVE_SAMPLES}",
        SAMPLES / 10
    );
    println!();
    println!(
        "| k (target) | fired | indexed p50 ns | indexed p99 ns | indexed max ns | naive p50 ns | naive / indexed (p50) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut lines = Vec::new();
    for k in [0usize, 10, 1_000] {
        let target = target_for(&engine, k);
        let (hist, fired) = indexed(&mut engine, target, &clock);
        let (naive_ns, naive_found) = naive(&mut engine, target, &clock);
        let p50 = hist.value_at_quantile(0.5);
        let p99 = hist.value_at_quantile(0.99);
        let ratio = naive_ns as f64 / p50.max(1) as f64;
        println!(
            "| {k} ({}) | {fired} (naive {naive_found}) | {p50} | {p99} | {} | {naive_ns} | {ratio:.0} |",
            target.0,
            hist.max()
        );
        if k == 10 {
            lines.push(format!("scan.ratio_vs_naive={ratio:.0}"));
            lines.push(format!("scan.p99_ns_k10={p99}"));
            lines.push(format!("scan.p50_ns_k10={p50}"));
            lines.push(format!("scan.naive_p50_ns_k10={naive_ns}"));
        }
        if k == 0 {
            lines.push(format!("scan.p99_ns_k0={p99}"));
            lines.push(format!("scan.p50_ns_k0={p50}"));
        }
        if k == 1_000 {
            lines.push(format!("scan.p99_ns_k1000={p99}"));
        }
    }
    drop(engine);
    // Cross accounts over two symbols: a k = 0 move on symbol 0 tests each directly.
    println!();
    println!(
        "| cross accounts in 2 symbols (watched) | k = 0 p50 ns | k = 0 p99 ns | ns per watched account (p50) |"
    );
    println!("| --- | --- | --- | --- |");
    for watched in [0usize, 1_000, 10_000] {
        let mut engine = build(10_000, watched);
        let (hist, _) = indexed(&mut engine, Price(ENTRY - 1), &clock);
        let p50 = hist.value_at_quantile(0.5);
        let per = if watched == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", p50 as f64 / watched as f64)
        };
        println!(
            "| {watched} | {p50} | {} | {per} |",
            hist.value_at_quantile(0.99)
        );
        if watched == 10_000 {
            lines.push(format!("scan.watch_p50_ns_10k_cross={p50}"));
        }
    }
    println!();
    for line in lines {
        println!("{line}");
    }
    println!("scan.bytes_per_position={bytes_per_position}");
}
