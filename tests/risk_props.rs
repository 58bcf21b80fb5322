//! Properties of the margin accounts over random sequences of trades, marks and account
//! commands between random accounts:
//!
//! - per symbol, Σ size = 0;
//! - money is conserved exactly: Σ collateral + Σ isolated margin + fees + insurance − Σ entry
//!   notional = deposits − withdrawals (Σ entry notional is −Σ unrealized PnL at any common
//!   mark), and once everyone is flat, realized PnL nets to zero;
//! - at every computed liquidation price the equity meets the maintenance margin, and one tick
//!   beyond it (towards the loss) it falls below; the same for bankruptcy prices and zero.
//!
//! Case count: `LIQCORE_PROPTEST_CASES` (default 64).

use liqcore::risk::{
    AccountIdx, Fill, Leverage, Liquidity, MarginMode, MarginTier, MmBasis, OrderRequest,
    RiskConfig, RiskEngine, SymbolRiskConfig,
};
use liqcore::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use proptest::prelude::*;
use rust_decimal::Decimal;

const ACCOUNTS: usize = 5;
const SYMBOLS: usize = 2;

fn cases() -> u32 {
    std::env::var("LIQCORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn quote(x: i128) -> Money {
    Money(x * Money::UNIT)
}

fn tier(floor: i128, mmr: i64) -> MarginTier {
    MarginTier {
        floor: quote(floor),
        mmr: Rate(mmr),
        max_leverage: None,
    }
}

/// Symbol 0: tick 0.1, lot 0.001, three tiers on the mark, maker rebate. Symbol 1: tick 0.01,
/// lot 0.01, two tiers on entry. Prices ~800..1200 quote on both.
fn engine() -> RiskEngine {
    let mut e = RiskEngine::new(RiskConfig {
        max_accounts: ACCOUNTS,
        max_symbols: SYMBOLS,
    });
    let spec0 = SymbolSpec::new(SymbolId(0), Decimal::new(1, 1), Decimal::new(1, 3)).unwrap();
    let c0 = SymbolRiskConfig::new(
        spec0,
        Leverage::from_whole(50),
        &[
            tier(0, 1_000_000),
            tier(2_000, 2_500_000),
            tier(6_000, 5_000_000),
        ],
    )
    .unwrap()
    .with_fees(Rate(-10_000), Rate(50_000))
    .unwrap()
    .with_liquidation_fee(Rate(500_000))
    .unwrap();
    let spec1 = SymbolSpec::new(SymbolId(1), Decimal::new(1, 2), Decimal::new(1, 2)).unwrap();
    let c1 = SymbolRiskConfig::new(
        spec1,
        Leverage::from_whole(25),
        &[tier(0, 500_000), tier(5_000, 1_000_000)],
    )
    .unwrap()
    .with_fees(Rate(20_000), Rate(60_000))
    .unwrap()
    .with_mm_basis(MmBasis::Entry);
    e.add_symbol(c0).unwrap();
    e.add_symbol(c1).unwrap();
    for a in 0..ACCOUNTS {
        e.deposit(account(a), quote(10_000)).unwrap();
    }
    e
}

fn account(a: usize) -> AccountId {
    AccountId(1_000 + a as u64 * 7)
}

/// Price range in ticks and quantity range in lots per symbol.
fn price_range(sym: usize) -> std::ops::RangeInclusive<i64> {
    if sym == 0 {
        8_000..=12_000
    } else {
        80_000..=120_000
    }
}

fn qty_range(sym: usize) -> std::ops::RangeInclusive<i64> {
    if sym == 0 { 1..=20_000 } else { 1..=2_000 }
}

#[derive(Clone, Debug)]
enum Op {
    Trade {
        sym: usize,
        buyer: usize,
        seller_offset: usize,
        price: i64,
        qty: i64,
        buyer_maker: bool,
        liquidation: bool,
    },
    Mark {
        sym: usize,
        price: i64,
    },
    Leverage {
        acct: usize,
        sym: usize,
        leverage: u32,
        isolated: bool,
    },
    Deposit {
        acct: usize,
        amount: i64,
    },
    Withdraw {
        acct: usize,
        amount: i64,
    },
    Margin {
        acct: usize,
        sym: usize,
        amount: i64,
    },
    Order {
        acct: usize,
        sym: usize,
        buy: bool,
        qty: i64,
        price: Option<i64>,
        reduce_only: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let sym = 0..SYMBOLS;
    let acct = 0..ACCOUNTS;
    prop_oneof![
        8 => (sym.clone(), acct.clone(), 1..ACCOUNTS, any::<bool>(), prop::bool::weighted(0.1))
            .prop_flat_map(|(sym, buyer, seller_offset, buyer_maker, liquidation)| {
                (price_range(sym), qty_range(sym)).prop_map(move |(price, qty)| Op::Trade {
                    sym,
                    buyer,
                    seller_offset,
                    price,
                    qty,
                    buyer_maker,
                    liquidation,
                })
            }),
        3 => sym.clone().prop_flat_map(|sym| price_range(sym).prop_map(move |price| Op::Mark { sym, price })),
        2 => (acct.clone(), sym.clone(), 1u32..=60, any::<bool>()).prop_map(
            |(acct, sym, leverage, isolated)| Op::Leverage { acct, sym, leverage, isolated }
        ),
        1 => (acct.clone(), 1i64..5_000).prop_map(|(acct, amount)| Op::Deposit { acct, amount }),
        1 => (acct.clone(), 1i64..5_000).prop_map(|(acct, amount)| Op::Withdraw { acct, amount }),
        1 => (acct.clone(), sym.clone(), -2_000i64..2_000).prop_map(|(acct, sym, amount)| Op::Margin { acct, sym, amount }),
        2 => (acct, sym, any::<bool>(), any::<bool>(), prop::option::of(0i64..=1))
            .prop_flat_map(|(acct, sym, buy, reduce_only, has_price)| {
                (qty_range(sym), price_range(sym)).prop_map(move |(qty, price)| Op::Order {
                    acct,
                    sym,
                    buy,
                    qty,
                    price: has_price.map(|_| price),
                    reduce_only,
                })
            }),
    ]
}

fn apply(e: &mut RiskEngine, op: &Op) {
    match *op {
        Op::Trade {
            sym,
            buyer,
            seller_offset,
            price,
            qty,
            buyer_maker,
            liquidation,
        } => {
            let seller = (buyer + seller_offset) % ACCOUNTS;
            let (bl, sl) = if buyer_maker {
                (Liquidity::Maker, Liquidity::Taker)
            } else {
                (Liquidity::Taker, Liquidity::Maker)
            };
            for (a, side, liquidity) in [(buyer, Side::Buy, bl), (seller, Side::Sell, sl)] {
                e.apply_fill(&Fill {
                    symbol: SymbolId(sym as u32),
                    account: account(a),
                    side,
                    price: Price(price),
                    qty: Qty(qty),
                    liquidity,
                    liquidation,
                })
                .expect("fills within bounds apply");
            }
        }
        Op::Mark { sym, price } => e.set_mark(SymbolId(sym as u32), Price(price)).unwrap(),
        Op::Leverage {
            acct,
            sym,
            leverage,
            isolated,
        } => {
            let mode = if isolated {
                MarginMode::Isolated
            } else {
                MarginMode::Cross
            };
            let _ = e.set_leverage(
                account(acct),
                SymbolId(sym as u32),
                Leverage::from_whole(leverage),
                mode,
            );
        }
        Op::Deposit { acct, amount } => {
            e.deposit(account(acct), quote(i128::from(amount))).unwrap();
        }
        Op::Withdraw { acct, amount } => {
            let _ = e.withdraw(account(acct), quote(i128::from(amount)));
        }
        Op::Margin { acct, sym, amount } => {
            let _ = e.adjust_margin(
                account(acct),
                SymbolId(sym as u32),
                quote(i128::from(amount)),
            );
        }
        Op::Order {
            acct,
            sym,
            buy,
            qty,
            price,
            reduce_only,
        } => {
            let side = if buy { Side::Buy } else { Side::Sell };
            let req = OrderRequest {
                account: account(acct),
                symbol: SymbolId(sym as u32),
                side,
                qty: Qty(qty),
                limit_price: price.map(Price),
                reduce_only,
            };
            let available = e.available_margin(e.index_of(account(acct)).unwrap());
            if let Ok(approved) = e.check_order(&req) {
                assert!(approved.qty.0 <= qty);
                if approved.reserved {
                    // An approved order that grows the position always left margin ≥ 0.
                    let after = e.available_margin(e.index_of(account(acct)).unwrap());
                    assert!(
                        after.0 >= 0 || after >= available,
                        "{after:?} {available:?}"
                    );
                    e.release_open(account(acct), SymbolId(sym as u32), side, approved.qty);
                }
            }
        }
    }
}

fn check_invariants(e: &RiskEngine) {
    let mut entry = 0i128;
    for s in 0..SYMBOLS {
        let sym = SymbolId(s as u32);
        assert_eq!(e.total_size(sym), 0, "Σ size of symbol {s}");
        entry += e.total_entry_notional(sym).0;
    }
    for a in 0..ACCOUNTS {
        for s in 0..SYMBOLS {
            let v = e.position_view(account(a), SymbolId(s as u32)).unwrap();
            let expected = if v.qty.0 == 0 {
                Money::ZERO
            } else {
                v.leverage.initial_margin(v.entry_notional).unwrap()
            };
            assert_eq!(v.initial_margin, expected, "cached initial margin");
            assert_eq!(
                v.qty.0 == 0,
                v.entry_notional == Money::ZERO,
                "flat ⇔ no entry"
            );
        }
    }
    let held = e.total_collateral().0
        + e.total_isolated_margin().0
        + e.fees_collected().0
        + e.insurance_fund().0
        - entry;
    assert_eq!(
        held,
        e.total_deposited().0 - e.total_withdrawn().0,
        "money conservation"
    );
}

/// `(equity, maintenance margin)` covering the position in `sym` at mark `price`.
fn covering(e: &RiskEngine, idx: AccountIdx, sym: SymbolId, price: i64) -> (Money, Money) {
    let mut e = e.clone();
    e.set_mark(sym, Price(price)).unwrap();
    e.isolated_equity(idx, sym)
        .unwrap_or_else(|| (e.equity(idx), e.maintenance_margin(idx)))
}

fn check_prices(e: &RiskEngine) {
    for a in 0..ACCOUNTS {
        let idx = e.index_of(account(a)).unwrap();
        for s in 0..SYMBOLS {
            let sym = SymbolId(s as u32);
            let size = e.position_size(idx, sym).0;
            if size == 0 {
                assert_eq!(e.liquidation_price(idx, sym), None);
                continue;
            }
            let liq = e.liquidation_price(idx, sym);
            let bankrupt = e.bankruptcy_price(idx, sym);
            let ctx =
                format!("account {a} symbol {s} size {size} liq {liq:?} bankrupt {bankrupt:?}");
            if size > 0 {
                match liq {
                    None => {
                        let (eq, mm) = covering(e, idx, sym, 1);
                        assert!(
                            eq >= mm,
                            "{ctx}: no liquidation price but {eq:?} < {mm:?} at 1"
                        );
                    }
                    Some(l) => {
                        let (eq, mm) = covering(e, idx, sym, l.0);
                        assert!(eq >= mm, "{ctx}: at liq {eq:?} < {mm:?}");
                        if l.0 > 1 {
                            let (eq, mm) = covering(e, idx, sym, l.0 - 1);
                            assert!(eq < mm, "{ctx}: below liq {eq:?} >= {mm:?}");
                        }
                    }
                }
                if let Some(b) = bankrupt {
                    assert!(covering(e, idx, sym, b.0).0 >= Money::ZERO, "{ctx}");
                    if b.0 > 1 {
                        assert!(covering(e, idx, sym, b.0 - 1).0 < Money::ZERO, "{ctx}");
                    }
                    if let Some(l) = liq {
                        assert!(l >= b, "{ctx}: long liquidates before bankruptcy");
                    }
                }
            } else {
                let l = liq.expect("a short always has a liquidation price here");
                let (eq, mm) = covering(e, idx, sym, l.0 + 1);
                assert!(eq < mm, "{ctx}: above liq {eq:?} >= {mm:?}");
                if l.0 >= 1 {
                    let (eq, mm) = covering(e, idx, sym, l.0);
                    assert!(eq >= mm, "{ctx}: at liq {eq:?} < {mm:?}");
                }
                let b = bankrupt.expect("a short always has a bankruptcy price here");
                assert!(covering(e, idx, sym, b.0 + 1).0 < Money::ZERO, "{ctx}");
                if b.0 >= 1 {
                    assert!(covering(e, idx, sym, b.0).0 >= Money::ZERO, "{ctx}");
                }
                assert!(l <= b, "{ctx}: short liquidates before bankruptcy");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn random_sequences_keep_the_invariants(ops in prop::collection::vec(op(), 1..60)) {
        let mut e = engine();
        for (i, op) in ops.iter().enumerate() {
            apply(&mut e, op);
            check_invariants(&e);
            if i % 8 == 7 {
                check_prices(&e);
            }
        }
        check_prices(&e);
    }

    #[test]
    fn realized_pnl_nets_to_zero_once_flat(ops in prop::collection::vec(op(), 1..40)) {
        let mut e = engine();
        for op in &ops {
            apply(&mut e, op);
        }
        // Close every position against account 0 at one price: everyone ends flat.
        for s in 0..SYMBOLS {
            let sym = SymbolId(s as u32);
            let price = e.mark(sym).unwrap_or(Price(*price_range(s).start()));
            for a in 1..ACCOUNTS {
                let idx = e.index_of(account(a)).unwrap();
                let size = e.position_size(idx, sym).0;
                if size == 0 {
                    continue;
                }
                let side = if size > 0 { Side::Sell } else { Side::Buy };
                for (acc, side, liquidity) in [(a, side, Liquidity::Taker), (0, side.opposite(), Liquidity::Maker)] {
                    e.apply_fill(&Fill {
                        symbol: sym,
                        account: account(acc),
                        side,
                        price,
                        qty: Qty(size.abs()),
                        liquidity,
                        liquidation: false,
                    }).unwrap();
                }
            }
        }
        let mut realized = 0i128;
        for a in 0..ACCOUNTS {
            let idx = e.index_of(account(a)).unwrap();
            for s in 0..SYMBOLS {
                let sym = SymbolId(s as u32);
                prop_assert_eq!(e.position_size(idx, sym), Qty(0));
                realized += e.position_view(account(a), sym).unwrap().realized_pnl.0;
            }
        }
        prop_assert_eq!(realized, 0);
        prop_assert_eq!(e.total_isolated_margin(), Money::ZERO);
        prop_assert_eq!(
            e.total_collateral().0 + e.fees_collected().0 + e.insurance_fund().0,
            e.total_deposited().0 - e.total_withdrawn().0
        );
    }
}

/// Any input, however absurd: every call returns (a value or a rejection) without panicking,
/// in the debug build whose overflow checks turn any arithmetic overflow into a panic.
#[derive(Clone, Debug)]
enum Wild {
    Fill(usize, usize, bool, i64, i64, bool, bool),
    Order(usize, usize, bool, i64, Option<i64>, bool),
    Mark(usize, i64),
    Deposit(usize, i128),
    Withdraw(usize, i128),
    Margin(usize, usize, i128),
    Leverage(usize, usize, i64, bool),
    Open(usize, usize, bool, i64, bool),
}

fn wild_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -3i64..100_000,
        Just(i64::MAX),
        Just(i64::MIN),
        1i64..=1 << 40,
    ]
}

fn wild_money() -> impl Strategy<Value = i128> {
    prop_oneof![
        any::<i128>(),
        (1i128..1_000_000).prop_map(|x| x * Money::UNIT),
        Just(liqcore::risk::MAX_MONEY.0),
    ]
}

fn wild() -> impl Strategy<Value = Wild> {
    let a = 0..ACCOUNTS + 1;
    let s = 0..SYMBOLS + 1;
    prop_oneof![
        (
            a.clone(),
            s.clone(),
            any::<bool>(),
            wild_i64(),
            wild_i64(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(a, s, b, p, q, m, l)| Wild::Fill(a, s, b, p, q, m, l)),
        (
            a.clone(),
            s.clone(),
            any::<bool>(),
            wild_i64(),
            prop::option::of(wild_i64()),
            any::<bool>()
        )
            .prop_map(|(a, s, b, q, p, r)| Wild::Order(a, s, b, q, p, r)),
        (s.clone(), wild_i64()).prop_map(|(s, p)| Wild::Mark(s, p)),
        (a.clone(), wild_money()).prop_map(|(a, m)| Wild::Deposit(a, m)),
        (a.clone(), wild_money()).prop_map(|(a, m)| Wild::Withdraw(a, m)),
        (a.clone(), s.clone(), wild_money()).prop_map(|(a, s, m)| Wild::Margin(a, s, m)),
        (a.clone(), s.clone(), wild_i64(), any::<bool>())
            .prop_map(|(a, s, l, i)| Wild::Leverage(a, s, l, i)),
        (a, s, any::<bool>(), wild_i64(), any::<bool>())
            .prop_map(|(a, s, b, q, r)| Wild::Open(a, s, b, q, r)),
    ]
}

fn side(buy: bool) -> Side {
    if buy { Side::Buy } else { Side::Sell }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_inputs_never_panic(ops in prop::collection::vec(wild(), 1..60)) {
        let mut e = engine();
        for op in &ops {
            match *op {
                Wild::Fill(a, s, b, p, q, m, l) => {
                    let _ = e.apply_fill(&Fill {
                        symbol: SymbolId(s as u32),
                        account: account(a),
                        side: side(b),
                        price: Price(p),
                        qty: Qty(q),
                        liquidity: if m { Liquidity::Maker } else { Liquidity::Taker },
                        liquidation: l,
                    });
                }
                Wild::Order(a, s, b, q, p, r) => {
                    let _ = e.check_order(&OrderRequest {
                        account: account(a),
                        symbol: SymbolId(s as u32),
                        side: side(b),
                        qty: Qty(q),
                        limit_price: p.map(Price),
                        reduce_only: r,
                    });
                }
                Wild::Mark(s, p) => {
                    let _ = e.set_mark(SymbolId(s as u32), Price(p));
                }
                Wild::Deposit(a, m) => {
                    let _ = e.deposit(account(a), Money(m));
                }
                Wild::Withdraw(a, m) => {
                    let _ = e.withdraw(account(a), Money(m));
                }
                Wild::Margin(a, s, m) => {
                    let _ = e.adjust_margin(account(a), SymbolId(s as u32), Money(m));
                }
                Wild::Leverage(a, s, l, i) => {
                    let mode = if i { MarginMode::Isolated } else { MarginMode::Cross };
                    let _ = e.set_leverage(account(a), SymbolId(s as u32), Leverage(l), mode);
                }
                Wild::Open(a, s, b, q, reserve) => {
                    if reserve {
                        e.reserve_open(account(a), SymbolId(s as u32), side(b), Qty(q));
                    } else {
                        e.release_open(account(a), SymbolId(s as u32), side(b), Qty(q));
                    }
                }
            }
            for a in 0..=ACCOUNTS {
                let _ = e.account_view(account(a));
                for s in 0..=SYMBOLS {
                    let sym = SymbolId(s as u32);
                    let _ = e.position_view(account(a), sym);
                    if let Some(idx) = e.index_of(account(a)) {
                        let _ = e.is_liquidatable(idx, sym);
                        let _ = e.available_margin(idx);
                    }
                }
            }
        }
    }
}
