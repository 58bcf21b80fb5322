//! Differential property of the liquidation index: at every mark tick, the positions the
//! index liquidates are exactly those a naive scan of every account finds liquidatable (and not
//! already in flight); after every operation, no position is below maintenance margin unless its
//! liquidation is in flight.
//!
//! Random accounts (collateral, cross/isolated per symbol, leverage), two symbols (three tiers
//! on the mark; two tiers on the entry), random trades between accounts, deposits, withdrawals
//! and mark paths on both symbols. Liquidation orders are not fed back here (they stay in
//! flight), so the check isolates the scanner; at the end every liquidation is ended unfilled,
//! so ADL closes it, and money must stay conserved with positions netting to zero.
//!
//! Case count: `LIQCORE_PROPTEST_CASES` (default 64).

use std::collections::BTreeSet;

use liqcore::risk::{
    AccountIdx, BookToRisk, Fill, Leverage, LiquidationConfig, LiquidationEnd, LiquidationEngine,
    LiquidationEvent, Liquidity, MarginMode, MarginTier, MmBasis, PartialLiquidation, RiskConfig,
    RiskEngine, RiskOutput, SymbolRiskConfig,
};
use liqcore::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rust_decimal::Decimal;

const ACCOUNTS: usize = 24;
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

fn engine() -> LiquidationEngine {
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
    .with_mm_basis(MmBasis::Entry);
    e.add_symbol(c0).unwrap();
    e.add_symbol(c1).unwrap();
    LiquidationEngine::new(
        e,
        LiquidationConfig {
            max_in_flight: ACCOUNTS * SYMBOLS,
            partial: PartialLiquidation::Whole,
        },
    )
}

fn account(a: usize) -> AccountId {
    AccountId(500 + a as u64 * 3)
}

/// Ticks of 1 000 quote per symbol.
fn base_price(sym: usize) -> i64 {
    if sym == 0 { 10_000 } else { 100_000 }
}

fn max_qty(sym: usize) -> i64 {
    if sym == 0 { 8_000 } else { 800 }
}

/// Slots liquidatable now and not in flight.
fn naive(e: &LiquidationEngine, in_flight: &BTreeSet<(u32, u32)>) -> BTreeSet<(u32, u32)> {
    let r = e.risk();
    let mut out = BTreeSet::new();
    for a in 0..r.account_count() as u32 {
        for s in 0..SYMBOLS as u32 {
            if !in_flight.contains(&(a, s)) && r.is_liquidatable(AccountIdx(a), SymbolId(s)) {
                out.insert((a, s));
            }
        }
    }
    out
}

fn flights(e: &LiquidationEngine) -> BTreeSet<(u32, u32)> {
    let mut out = BTreeSet::new();
    for a in 0..e.risk().account_count() as u32 {
        for s in 0..SYMBOLS as u32 {
            if e.slot_in_flight(AccountIdx(a), SymbolId(s)) {
                out.insert((a, s));
            }
        }
    }
    out
}

fn fired(e: &LiquidationEngine, out: &[RiskOutput]) -> BTreeSet<(u32, u32)> {
    out.iter()
        .filter_map(|o| match o {
            RiskOutput::Event(LiquidationEvent::Liquidation {
                account, symbol, ..
            }) => Some((e.risk().index_of(*account).unwrap().0, symbol.0)),
            _ => None,
        })
        .collect()
}

/// After any operation: every liquidatable position is in flight.
fn settled(e: &LiquidationEngine) -> Result<(), TestCaseError> {
    let f = flights(e);
    let due = naive(e, &f);
    prop_assert!(
        due.is_empty(),
        "below maintenance, not in flight: {:?}",
        due
    );
    Ok(())
}

fn trade(e: &mut LiquidationEngine, rng: &mut Xoshiro256PlusPlus, out: &mut Vec<RiskOutput>) {
    let s = rng.random_range(0..SYMBOLS);
    let buyer = rng.random_range(0..ACCOUNTS);
    let seller = (buyer + rng.random_range(1..ACCOUNTS)) % ACCOUNTS;
    let (bi, si) = (
        e.risk().index_of(account(buyer)).unwrap(),
        e.risk().index_of(account(seller)).unwrap(),
    );
    let sym = SymbolId(s as u32);
    if e.slot_in_flight(bi, sym) || e.slot_in_flight(si, sym) {
        return;
    }
    let mark = e.risk().mark(sym).map_or(base_price(s), |p| p.0);
    let price = (mark + rng.random_range(-mark / 50..=mark / 50)).max(1);
    let qty = rng.random_range(1..=max_qty(s));
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
        e.on_fill(&fill, out).unwrap();
    }
}

fn run(seed: u64) -> Result<(), TestCaseError> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut e = engine();
    let mut out = Vec::new();
    for s in 0..SYMBOLS {
        e.on_mark(SymbolId(s as u32), Price(base_price(s)), 0, &mut out)
            .unwrap();
    }
    for a in 0..ACCOUNTS {
        e.deposit(account(a), quote(rng.random_range(100..5_000)), &mut out)
            .unwrap();
        for s in 0..SYMBOLS {
            let max = if s == 0 { 50 } else { 25 };
            let mode = if rng.random_bool(0.4) {
                MarginMode::Isolated
            } else {
                MarginMode::Cross
            };
            let lev = Leverage::from_whole(rng.random_range(1..=max));
            e.set_leverage(account(a), SymbolId(s as u32), lev, mode, &mut out)
                .unwrap();
        }
    }
    for _ in 0..60 {
        trade(&mut e, &mut rng, &mut out);
        settled(&e)?;
    }
    let mut ticks = 0;
    for _ in 0..200 {
        match rng.random_range(0..10) {
            0 => {
                trade(&mut e, &mut rng, &mut out);
            }
            1 => {
                let a = rng.random_range(0..ACCOUNTS);
                let _ = e.deposit(account(a), quote(rng.random_range(1..500)), &mut out);
            }
            2 => {
                let a = rng.random_range(0..ACCOUNTS);
                let _ = e.withdraw(account(a), quote(rng.random_range(1..500)), &mut out);
            }
            _ => {
                ticks += 1;
                let s = rng.random_range(0..SYMBOLS);
                let sym = SymbolId(s as u32);
                let mark = e.risk().mark(sym).unwrap().0;
                let step = rng.random_range(-mark / 40..=mark / 40);
                let price = (mark + step).clamp(base_price(s) / 3, base_price(s) * 3);
                let before = flights(&e);
                let mut tick_out = Vec::new();
                e.on_mark(sym, Price(price), ticks, &mut tick_out).unwrap();
                let expected = naive(&e, &before);
                let got = fired(&e, &tick_out);
                prop_assert_eq!(got, expected, "tick {} symbol {} mark {}", ticks, s, price);
                out.extend(tick_out);
            }
        }
        settled(&e)?;
    }
    // End every liquidation as if the book filled nothing: ADL closes what it can at the
    // bankruptcy price (counterparties in flight are skipped, and liquidated accounts may be
    // liquidated again: bounded rounds). Money stays conserved, positions net to zero, and the
    // insurance fund never goes negative.
    let mut pending = std::mem::take(&mut out);
    for _ in 0..20 {
        let mut next = Vec::new();
        for o in pending {
            if let RiskOutput::Order(order) = o {
                let end = LiquidationEnd {
                    id: order.id,
                    remaining: order.qty,
                };
                e.on_book(&BookToRisk::End(end), &mut next).unwrap();
            }
        }
        conserved(&e)?;
        if next.is_empty() {
            break;
        }
        pending = next;
    }
    Ok(())
}

fn conserved(e: &LiquidationEngine) -> Result<(), TestCaseError> {
    let r = e.risk();
    let mut lhs = r.total_collateral().0
        + r.total_isolated_margin().0
        + r.fees_collected().0
        + r.insurance_fund().0;
    for s in 0..SYMBOLS as u32 {
        lhs -= r.total_entry_notional(SymbolId(s)).0;
        prop_assert_eq!(r.total_size(SymbolId(s)), 0);
    }
    prop_assert_eq!(lhs, r.total_deposited().0 - r.total_withdrawn().0);
    prop_assert!(r.insurance_fund().0 >= 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn index_fires_exactly_what_a_full_scan_finds(seed in any::<u64>()) {
        run(seed)?;
    }
}
