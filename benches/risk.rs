//! criterion benches for `liqcore::risk`: the hot paths of the margin accounts.
//!
//! - `risk/apply_fill/{cross,isolated}`: one account's side of a trade (positions grow, reduce
//!   and flip; fees; isolated margin moves), over 10,000 accounts.
//! - `risk/check_order`: a pre-trade check of a limit order that grows the position (margin
//!   computed), plus the `release_open` that undoes its reservation.
//! - `risk/liquidation_price/cross2`: the liquidation price of a cross position in an account
//!   active in two symbols with three-tier tables.
//! - `risk/base/index_of`: the account-id lookup alone (the floor under every call).
//! - `risk/scan/{k0,k10}`: a liquidation-index mark update over 100,000 single-position cross
//!   accounts on one symbol (random leverage) that liquidates nobody / the 10 most exposed
//!   longs (then the mark goes back and the liquidations are abandoned, untimed).
//! - `risk/scan/refill`: a fill on an indexed account (apply the fill and re-key it).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use liqcore::risk::{
    AccountIdx, Fill, Leverage, LiquidationConfig, LiquidationEngine, Liquidity, MarginMode,
    MarginTier, OrderRequest, RiskConfig, RiskEngine, RiskOutput, SymbolRiskConfig,
};
use liqcore::types::OrderId;
use liqcore::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use rust_decimal::Decimal;

const ACCOUNTS: u64 = 10_000;
const BATCH: usize = 4_096;

fn engine(mode: MarginMode) -> RiskEngine {
    let mut e = RiskEngine::new(RiskConfig {
        max_accounts: ACCOUNTS as usize,
        max_symbols: 2,
    });
    for s in 0..2u32 {
        let spec = SymbolSpec::new(SymbolId(s), Decimal::new(1, 1), Decimal::new(1, 3)).unwrap();
        let q = |x: i128| Money(x * Money::UNIT);
        let tiers = [
            MarginTier {
                floor: Money::ZERO,
                mmr: Rate(400_000),
                max_leverage: None,
            },
            MarginTier {
                floor: q(50_000),
                mmr: Rate(500_000),
                max_leverage: None,
            },
            MarginTier {
                floor: q(250_000),
                mmr: Rate(1_000_000),
                max_leverage: None,
            },
        ];
        let config = SymbolRiskConfig::new(spec, Leverage::from_whole(100), &tiers)
            .unwrap()
            .with_fees(Rate(-10_000), Rate(50_000))
            .unwrap();
        e.add_symbol(config).unwrap();
        e.set_mark(SymbolId(s), Price(200_000)).unwrap();
    }
    for a in 0..ACCOUNTS {
        e.deposit(AccountId(a), Money(10_000_000 * Money::UNIT))
            .unwrap();
        for s in 0..2 {
            e.set_leverage(AccountId(a), SymbolId(s), Leverage::from_whole(20), mode)
                .unwrap();
        }
    }
    e
}

/// A deterministic stream of matched fills (xorshift), buyer and seller sides interleaved.
fn fills() -> Vec<Fill> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::with_capacity(BATCH);
    while out.len() < BATCH {
        let sym = SymbolId((next() % 2) as u32);
        let buyer = AccountId(next() % ACCOUNTS);
        let seller = AccountId(next() % ACCOUNTS);
        let price = Price(190_000 + (next() % 20_000) as i64);
        let qty = Qty(1 + (next() % 2_000) as i64);
        for (account, side, liquidity) in [
            (buyer, Side::Buy, Liquidity::Taker),
            (seller, Side::Sell, Liquidity::Maker),
        ] {
            out.push(Fill {
                symbol: sym,
                account,
                side,
                price,
                qty,
                liquidity,
                liquidation: false,
            });
        }
    }
    out
}

fn apply_fill(c: &mut Criterion) {
    let fills = fills();
    let mut group = c.benchmark_group("risk/apply_fill");
    for (name, mode) in [
        ("cross", MarginMode::Cross),
        ("isolated", MarginMode::Isolated),
    ] {
        let mut e = engine(mode);
        // Warm the positions so fills reduce and flip as well as grow.
        for f in &fills {
            e.apply_fill(f).unwrap();
        }
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                let f = &fills[i % BATCH];
                i = i.wrapping_add(1);
                black_box(e.apply_fill(black_box(f)))
            })
        });
    }
    group.finish();
}

fn check_order(c: &mut Criterion) {
    let fills = fills();
    let mut e = engine(MarginMode::Cross);
    for f in &fills {
        e.apply_fill(f).unwrap();
    }
    let requests: Vec<OrderRequest> = fills
        .iter()
        .map(|f| OrderRequest {
            account: f.account,
            symbol: f.symbol,
            side: f.side,
            qty: Qty(1 + f.qty.0 % 100),
            limit_price: Some(f.price),
            reduce_only: false,
        })
        .collect();
    let approved = requests
        .iter()
        .filter(|r| {
            let mut probe = e.clone();
            probe.check_order(r).is_ok()
        })
        .count();
    assert!(
        approved * 10 > requests.len() * 9,
        "the bench must exercise approvals"
    );
    let mut i = 0usize;
    c.bench_function("risk/check_order", |b| {
        b.iter(|| {
            let r = &requests[i % BATCH];
            i = i.wrapping_add(1);
            if let Ok(a) = e.check_order(black_box(r)) {
                e.release_open(r.account, r.symbol, r.side, a.qty);
            }
        })
    });
}

fn liquidation_price(c: &mut Criterion) {
    let fills = fills();
    let mut e = engine(MarginMode::Cross);
    for f in &fills {
        e.apply_fill(f).unwrap();
    }
    let targets: Vec<_> = fills
        .iter()
        .filter_map(|f| {
            let idx = e.index_of(f.account)?;
            (e.position_size(idx, f.symbol).0 != 0).then_some((idx, f.symbol))
        })
        .collect();
    assert!(!targets.is_empty());
    let mut i = 0usize;
    c.bench_function("risk/liquidation_price/cross2", |b| {
        b.iter(|| {
            let (idx, sym) = targets[i % targets.len()];
            i = i.wrapping_add(1);
            black_box(e.liquidation_price(black_box(idx), sym))
        })
    });
}

fn base(c: &mut Criterion) {
    let e = engine(MarginMode::Cross);
    let mut i = 0u64;
    c.bench_function("risk/base/index_of", |b| {
        b.iter(|| {
            i = i.wrapping_add(7919);
            black_box(e.index_of(AccountId(black_box(i % ACCOUNTS))))
        })
    });
}

const SCAN_POSITIONS: u64 = 100_000;

/// `SCAN_POSITIONS` accounts, even ones long, odd ones short, 1–100 lots at 20,000.0 with
/// collateral for 2–80× (xorshift), against one counterparty; mark at the entry.
fn scan_engine() -> LiquidationEngine {
    let mut e = RiskEngine::new(RiskConfig {
        max_accounts: SCAN_POSITIONS as usize + 1,
        max_symbols: 1,
    });
    let spec = SymbolSpec::new(SymbolId(0), Decimal::new(1, 1), Decimal::new(1, 3)).unwrap();
    let tiers = [MarginTier {
        floor: Money::ZERO,
        mmr: Rate(500_000),
        max_leverage: None,
    }];
    e.add_symbol(SymbolRiskConfig::new(spec, Leverage::from_whole(100), &tiers).unwrap())
        .unwrap();
    let whale = u64::MAX - 1;
    e.deposit(AccountId(whale), Money(1_000_000_000 * Money::UNIT))
        .unwrap();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let fill = |account, side, qty| Fill {
        symbol: SymbolId(0),
        account: AccountId(account),
        side,
        price: Price(200_000),
        qty: Qty(qty),
        liquidity: Liquidity::Maker,
        liquidation: false,
    };
    for a in 0..SCAN_POSITIONS {
        let qty = 1 + (next() % 100) as i64;
        let leverage = 2 + (next() % 78) as i128;
        // Notional: 20 quote a lot.
        let collateral = i128::from(qty) * 20 * Money::UNIT / leverage + (next() % 1_000) as i128;
        e.deposit(AccountId(a), Money(collateral)).unwrap();
        let side = if a.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        e.apply_fill(&fill(a, side, qty)).unwrap();
        e.apply_fill(&fill(whale, side.opposite(), qty)).unwrap();
    }
    e.set_mark(SymbolId(0), Price(200_000)).unwrap();
    LiquidationEngine::new(e, LiquidationConfig::default())
}

fn scan(c: &mut Criterion) {
    let mut engine = scan_engine();
    let risk = engine.risk();
    let mut lps: Vec<i64> = (0..risk.account_count() as u32)
        .map(AccountIdx)
        .filter(|&idx| risk.position_size(idx, SymbolId(0)).0 > 0)
        .filter_map(|idx| risk.liquidation_price(idx, SymbolId(0)).map(|p| p.0))
        .collect();
    lps.sort_unstable_by(|a, b| b.cmp(a));
    let k10 = Price(lps[9] - 1);
    let mut group = c.benchmark_group("risk/scan");
    let mut out: Vec<RiskOutput> = Vec::with_capacity(4096);
    let mut spare: Vec<RiskOutput> = Vec::with_capacity(4096);
    group.bench_function("k0", |b| {
        let mut up = false;
        b.iter(|| {
            up = !up;
            let p = if up { 200_001 } else { 199_999 };
            out.clear();
            black_box(engine.on_mark(SymbolId(0), Price(p), 0, &mut out).ok())
        })
    });
    group.bench_function("k10", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                out.clear();
                let start = std::time::Instant::now();
                black_box(engine.on_mark(SymbolId(0), k10, 0, &mut out).ok());
                total += start.elapsed();
                engine
                    .on_mark(SymbolId(0), Price(200_000), 0, &mut spare)
                    .unwrap();
                for o in &out {
                    if let RiskOutput::Order(order) = o {
                        let id: OrderId = order.id;
                        engine.abandon_liquidation(id, &mut spare);
                    }
                }
                spare.clear();
            }
            total
        })
    });
    let mut i = 0u64;
    group.bench_function("refill", |b| {
        b.iter(|| {
            // Alternate a growing and a reducing fill on one long so the account stays the same.
            i += 1;
            let a = (i / 2 % (SCAN_POSITIONS / 2)) * 2;
            let side = if i.is_multiple_of(2) {
                Side::Buy
            } else {
                Side::Sell
            };
            let fill = Fill {
                symbol: SymbolId(0),
                account: AccountId(a),
                side,
                price: Price(200_000),
                qty: Qty(1),
                liquidity: Liquidity::Maker,
                liquidation: false,
            };
            out.clear();
            black_box(engine.on_fill(&fill, &mut out).ok())
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    apply_fill,
    check_order,
    liquidation_price,
    base,
    scan
);
criterion_main!(benches);
