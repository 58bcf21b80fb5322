//! criterion benches for `liqcore::risk`: the hot paths of the margin accounts.
//!
//! - `risk/apply_fill/{cross,isolated}`: one account's side of a trade (positions grow, reduce
//!   and flip; fees; isolated margin moves), over 10,000 accounts.
//! - `risk/check_order`: a pre-trade check of a limit order that grows the position (margin
//!   computed), plus the `release_open` that undoes its reservation.
//! - `risk/liquidation_price/cross2`: the liquidation price of a cross position in an account
//!   active in two symbols with three-tier tables.
//! - `risk/base/index_of`: the account-id lookup alone (the floor under every call).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use liqcore::risk::{
    Fill, Leverage, Liquidity, MarginMode, MarginTier, OrderRequest, RiskConfig, RiskEngine,
    SymbolRiskConfig,
};
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

criterion_group!(benches, apply_fill, check_order, liquidation_price, base);
criterion_main!(benches);
