//! Differential property of ADL: the liquidation engine that keeps its counterparty ranking
//! between auto-deleveragings (`adl.rs`, the default) emits exactly what the same engine
//! ranking every candidate for each ADL emits (`set_adl_ranking_kept(false)`), output for
//! output, on random books: cross and isolated accounts over two symbols, trades, deposits and
//! withdrawals between ADLs, mark moves (some to the same price), liquidation orders ended
//! unfilled or after partial fills, a symbol without a mark for a while.
//!
//! Case count: `LIQCORE_PROPTEST_CASES` (default 32).

use liqcore::risk::{
    BookToRisk, Fill, Leverage, LiquidationConfig, LiquidationEnd, LiquidationEngine,
    LiquidationOrder, Liquidity, MarginMode, MarginTier, PartialLiquidation, RiskConfig,
    RiskEngine, RiskOutput, SymbolRiskConfig,
};
use liqcore::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rust_decimal::Decimal;

const ACCOUNTS: usize = 40;
const SYMBOLS: usize = 2;

fn cases() -> u32 {
    std::env::var("LIQCORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

fn quote(x: i128) -> Money {
    Money(x * Money::UNIT)
}

fn engine(partial: PartialLiquidation) -> LiquidationEngine {
    let mut e = RiskEngine::new(RiskConfig {
        max_accounts: ACCOUNTS,
        max_symbols: SYMBOLS,
    });
    for s in 0..SYMBOLS {
        let spec =
            SymbolSpec::new(SymbolId(s as u32), Decimal::new(1, 1), Decimal::new(1, 3)).unwrap();
        let tiers = [
            MarginTier {
                floor: quote(0),
                mmr: Rate(1_000_000),
                max_leverage: None,
            },
            MarginTier {
                floor: quote(3_000),
                mmr: Rate(2_500_000),
                max_leverage: None,
            },
        ];
        let config = SymbolRiskConfig::new(spec, Leverage::from_whole(50), &tiers)
            .unwrap()
            .with_liquidation_fee(Rate(500_000))
            .unwrap();
        e.add_symbol(config).unwrap();
    }
    LiquidationEngine::new(
        e,
        LiquidationConfig {
            max_in_flight: ACCOUNTS * SYMBOLS,
            partial,
        },
    )
}

fn account(a: usize) -> AccountId {
    AccountId(100 + a as u64)
}

const BASE: i64 = 10_000;

/// Both engines, driven alike; every call's output must match.
struct Pair {
    kept: LiquidationEngine,
    full: LiquidationEngine,
    /// Liquidation orders emitted and not ended yet.
    orders: Vec<LiquidationOrder>,
}

impl Pair {
    fn both(
        &mut self,
        what: &str,
        mut op: impl FnMut(&mut LiquidationEngine, &mut Vec<RiskOutput>),
    ) -> Result<(), TestCaseError> {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        op(&mut self.kept, &mut a);
        op(&mut self.full, &mut b);
        prop_assert_eq!(&a, &b, "{}", what);
        for o in a {
            if let RiskOutput::Order(order) = o {
                self.orders.push(order);
            }
        }
        Ok(())
    }

    fn trade(&mut self, rng: &mut Xoshiro256PlusPlus) -> Result<(), TestCaseError> {
        let s = rng.random_range(0..SYMBOLS);
        let buyer = rng.random_range(0..ACCOUNTS);
        let seller = (buyer + rng.random_range(1..ACCOUNTS)) % ACCOUNTS;
        let sym = SymbolId(s as u32);
        let r = self.kept.risk();
        let (bi, si) = (
            r.index_of(account(buyer)).unwrap(),
            r.index_of(account(seller)).unwrap(),
        );
        if self.kept.slot_in_flight(bi, sym) || self.kept.slot_in_flight(si, sym) {
            return Ok(());
        }
        let mark = r.mark(sym).map_or(BASE, |p| p.0);
        let price = (mark + rng.random_range(-mark / 50..=mark / 50)).max(1);
        let qty = rng.random_range(1..=5_000);
        for (a, side, liquidity) in [
            (seller, Side::Sell, Liquidity::Maker),
            (buyer, Side::Buy, Liquidity::Taker),
        ] {
            let fill = Fill {
                symbol: sym,
                account: account(a),
                side,
                price: Price(price),
                qty: Qty(qty),
                liquidity,
                liquidation: false,
            };
            self.both("trade", |e, out| {
                let _ = e.on_fill(&fill, out);
            })?;
        }
        Ok(())
    }

    /// Ends one open liquidation order: a part fills first (against a random account), the
    /// rest ends unfilled, so ADL closes it.
    fn end(&mut self, rng: &mut Xoshiro256PlusPlus) -> Result<(), TestCaseError> {
        if self.orders.is_empty() {
            return Ok(());
        }
        let order = self
            .orders
            .swap_remove(rng.random_range(0..self.orders.len()));
        let filled = if rng.random_bool(0.3) {
            rng.random_range(0..=order.qty.0)
        } else {
            0
        };
        if filled > 0 {
            let maker = account(rng.random_range(0..ACCOUNTS));
            if maker != order.account {
                let price = Price(order.limit_price.0.clamp(1, 4 * BASE));
                for fill in Fill::both_sides(
                    order.symbol,
                    price,
                    Qty(filled),
                    maker,
                    order.account,
                    order.side,
                    true,
                ) {
                    self.both("liquidation fill", |e, out| {
                        let _ = e.on_fill(&fill, out);
                    })?;
                }
            }
        }
        let end = LiquidationEnd {
            id: order.id,
            remaining: Qty(order.qty.0 - filled),
        };
        self.both("liquidation end (ADL)", |e, out| {
            let _ = e.on_book(&BookToRisk::End(end), out);
        })
    }
}

fn run(seed: u64) -> Result<(), TestCaseError> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let partial = match rng.random_range(0..3) {
        0 => PartialLiquidation::Whole,
        1 => PartialLiquidation::StepDownTier,
        _ => PartialLiquidation::Chunks {
            fraction: Rate(50_000_000),
            min_notional: quote(500),
            cooldown: 0,
        },
    };
    let mut p = Pair {
        kept: engine(partial),
        full: engine(partial),
        orders: Vec::new(),
    };
    p.full.set_adl_ranking_kept(false);
    // Symbol 1 stays without a mark for a while: ADL ranks every candidate until it has one.
    p.both("mark", |e, out| {
        e.on_mark(SymbolId(0), Price(BASE), 0, out).unwrap();
    })?;
    for a in 0..ACCOUNTS {
        let amount = quote(rng.random_range(200..5_000));
        p.both("deposit", |e, out| {
            e.deposit(account(a), amount, out).unwrap();
        })?;
        for s in 0..SYMBOLS {
            let mode = if rng.random_bool(0.4) {
                MarginMode::Isolated
            } else {
                MarginMode::Cross
            };
            let lev = Leverage::from_whole(rng.random_range(1..=50));
            p.both("leverage", |e, out| {
                e.set_leverage(account(a), SymbolId(s as u32), lev, mode, out)
                    .unwrap();
            })?;
        }
    }
    for _ in 0..80 {
        p.trade(&mut rng)?;
    }
    let mut now = 0;
    for step in 0..400 {
        if step == 100 {
            p.both("first mark of symbol 1", |e, out| {
                e.on_mark(SymbolId(1), Price(BASE), now, out).unwrap();
            })?;
        }
        match rng.random_range(0..20) {
            0..=2 => p.trade(&mut rng)?,
            3 => {
                let a = rng.random_range(0..ACCOUNTS);
                let amount = quote(rng.random_range(1..300));
                p.both("deposit", |e, out| {
                    let _ = e.deposit(account(a), amount, out);
                })?;
            }
            4 => {
                let a = rng.random_range(0..ACCOUNTS);
                let amount = quote(rng.random_range(1..300));
                p.both("withdraw", |e, out| {
                    let _ = e.withdraw(account(a), amount, out);
                })?;
            }
            5..=7 => {
                now += 1;
                let s = rng.random_range(0..SYMBOLS);
                let sym = SymbolId(s as u32);
                let Some(mark) = p.kept.risk().mark(sym) else {
                    continue;
                };
                // Mostly down (liquidating longs), some up, some unchanged.
                let step = match rng.random_range(0..4) {
                    0 => 0,
                    1 => rng.random_range(0..=mark.0 / 30),
                    _ => -rng.random_range(0..=mark.0 / 30),
                };
                let price = Price((mark.0 + step).clamp(BASE / 3, BASE * 3));
                p.both("mark", |e, out| {
                    e.on_mark(sym, price, now, out).unwrap();
                })?;
            }
            _ => p.end(&mut rng)?,
        }
    }
    while !p.orders.is_empty() {
        p.end(&mut rng)?;
    }
    let (kept, full) = (p.kept.adl_stats(), p.full.adl_stats());
    prop_assert_eq!(kept.adls, full.adls);
    prop_assert!(kept.builds <= full.builds, "{:?} vs {:?}", kept, full);
    let r = (p.kept.risk(), p.full.risk());
    prop_assert_eq!(r.0.insurance_fund(), r.1.insurance_fund());
    prop_assert_eq!(r.0.total_collateral(), r.1.total_collateral());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn kept_ranking_deleverages_exactly_like_ranking_every_candidate(seed in any::<u64>()) {
        run(seed)?;
    }
}

/// The kept ranking is used: several ADLs at the same marks rank the book once.
#[test]
fn adls_at_the_same_marks_rank_the_book_once() {
    // Ten thin longs (accounts 0..10), each against a well-funded short (10..20); a 10 % drop
    // liquidates every long and each order ends unfilled: ten ADLs at the same marks.
    let mut e = engine(PartialLiquidation::Whole);
    let mut out = Vec::new();
    e.on_mark(SymbolId(0), Price(BASE), 0, &mut out).unwrap();
    e.on_mark(SymbolId(1), Price(BASE), 0, &mut out).unwrap();
    for a in 0..20 {
        let amount = if a < 10 { quote(30) } else { quote(100_000) };
        e.deposit(account(a), amount, &mut out).unwrap();
        e.set_leverage(
            account(a),
            SymbolId(0),
            Leverage::from_whole(50),
            MarginMode::Cross,
            &mut out,
        )
        .unwrap();
    }
    // Long `a` buys 1 (notional 1,000) from short `10 + a`.
    for a in 0..10 {
        for fill in Fill::both_sides(
            SymbolId(0),
            Price(BASE),
            Qty(1_000),
            account(10 + a),
            account(a),
            Side::Buy,
            false,
        ) {
            e.on_fill(&fill, &mut out).unwrap();
        }
    }
    out.clear();
    e.on_mark(SymbolId(0), Price(BASE * 9 / 10), 1, &mut out)
        .unwrap();
    let orders: Vec<LiquidationOrder> = out
        .iter()
        .filter_map(|o| match o {
            RiskOutput::Order(order) => Some(*order),
            _ => None,
        })
        .collect();
    assert_eq!(orders.len(), 10, "every long is liquidated");
    for order in &orders {
        let end = LiquidationEnd {
            id: order.id,
            remaining: order.qty,
        };
        e.on_book(&BookToRisk::End(end), &mut out).unwrap();
    }
    let stats = e.adl_stats();
    assert_eq!(stats.adls, 10);
    assert_eq!(stats.builds, 1, "{stats:?}");
}
