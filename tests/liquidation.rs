//! The liquidation engine against worked examples (fee, insurance fund on a fill above and
//! below bankruptcy, ADL ranking, partial liquidation) and a book + mark + risk cascade.
//!
//! The harness here (single-threaded, deterministic) plays the pipeline: it submits the risk
//! stage's liquidation orders to `Book::submit_liquidation` and feeds trades and order ends
//! back as `BookToRisk` messages.

use std::collections::HashMap;

use liqcore::book::{Book, BookEvent, CancelReason, OrderCommand};
use liqcore::risk::{
    BookToRisk, Fill, InsuranceReason, LIQUIDATION_ID_BASE, Leverage, LiquidationConfig,
    LiquidationEnd, LiquidationEngine, LiquidationEvent, Liquidity, MarginMode, MarginTier,
    PartialLiquidation, RiskConfig, RiskEngine, RiskOutput, SymbolRiskConfig,
};
use liqcore::types::{AccountId, Money, OrderId, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use rust_decimal::Decimal;

const SYM: SymbolId = SymbolId(0);

fn quote(x: i128) -> Money {
    Money(x * Money::UNIT)
}

/// Tick 1 quote, lot 1: one tick × one lot is one quote. Tiers: 1 % below 50 000 quote,
/// 2.5 % above. Liquidation fee 1 %.
fn spec() -> SymbolSpec {
    SymbolSpec::new(SYM, Decimal::ONE, Decimal::ONE).unwrap()
}

fn engine(accounts: usize, partial: PartialLiquidation) -> LiquidationEngine {
    let mut risk = RiskEngine::new(RiskConfig {
        max_accounts: accounts,
        max_symbols: 1,
    });
    let config = SymbolRiskConfig::new(
        spec(),
        Leverage::from_whole(100),
        &[
            MarginTier {
                floor: Money::ZERO,
                mmr: Rate(1_000_000),
                max_leverage: None,
            },
            MarginTier {
                floor: quote(50_000),
                mmr: Rate(2_500_000),
                max_leverage: None,
            },
        ],
    )
    .unwrap()
    .with_liquidation_fee(Rate(1_000_000))
    .unwrap();
    risk.add_symbol(config).unwrap();
    LiquidationEngine::new(
        risk,
        LiquidationConfig {
            max_in_flight: 1024,
            partial,
        },
    )
}

fn acct(a: u64) -> AccountId {
    AccountId(a)
}

/// Both sides of a trade, taker buyer, through the engine.
fn trade(e: &mut LiquidationEngine, buyer: u64, seller: u64, price: i64, qty: i64) {
    let mut out = Vec::new();
    for (account, side, liquidity) in [
        (seller, Side::Sell, Liquidity::Maker),
        (buyer, Side::Buy, Liquidity::Taker),
    ] {
        e.on_fill(
            &Fill {
                symbol: SYM,
                account: acct(account),
                side,
                price: Price(price),
                qty: Qty(qty),
                liquidity,
                liquidation: false,
            },
            &mut out,
        )
        .unwrap();
    }
    assert!(out.is_empty(), "opening trades liquidate nobody: {out:?}");
}

fn conserved(e: &LiquidationEngine) {
    let r = e.risk();
    let lhs = r.total_collateral().0
        + r.total_isolated_margin().0
        + r.fees_collected().0
        + r.insurance_fund().0
        - r.total_entry_notional(SYM).0;
    assert_eq!(
        lhs,
        r.total_deposited().0 - r.total_withdrawn().0,
        "money conservation"
    );
    assert_eq!(r.total_size(SYM), 0, "positions net to zero");
    assert!(r.insurance_fund().0 >= 0, "insurance fund never negative");
}

/// The harness: one book, the liquidation engine, and the user orders resting in the book.
struct World {
    liq: LiquidationEngine,
    book: Book,
    /// Resting user orders: id → (account, side, remaining).
    resting: HashMap<u64, (AccountId, Side, i64)>,
    events: Vec<LiquidationEvent>,
    liquidation_trades: usize,
    next_id: u64,
}

impl World {
    fn new(liq: LiquidationEngine) -> World {
        World {
            liq,
            book: Book::new(spec(), 4096),
            resting: HashMap::new(),
            events: Vec::new(),
            liquidation_trades: 0,
            next_id: 1,
        }
    }

    fn limit(&mut self, account: u64, side: Side, price: i64, qty: i64) {
        let id = self.next_id;
        self.next_id += 1;
        self.liq
            .risk_mut()
            .reserve_open(acct(account), SYM, side, Qty(qty));
        self.resting.insert(id, (acct(account), side, qty));
        let mut ev = Vec::new();
        self.book
            .submit(&OrderCommand::limit(id, account, side, price, qty), &mut ev);
        let mut out = Vec::new();
        self.book_events(&ev, &mut out);
        self.drain(out);
    }

    fn mark(&mut self, price: i64) -> usize {
        let mut out = Vec::new();
        let n = self.liq.on_mark(SYM, Price(price), 0, &mut out).unwrap();
        self.drain(out);
        n
    }

    /// Feeds book events back to risk as messages.
    fn book_events(&mut self, ev: &[BookEvent], out: &mut Vec<RiskOutput>) {
        for e in ev {
            match *e {
                BookEvent::Trade(t) => {
                    self.liquidation_trades += usize::from(t.liquidation);
                    let maker_side = t.taker_side.opposite();
                    for (id, account, side, liquidity) in [
                        (t.maker, t.maker_account, maker_side, Liquidity::Maker),
                        (t.taker, t.taker_account, t.taker_side, Liquidity::Taker),
                    ] {
                        let fill = Fill {
                            symbol: SYM,
                            account,
                            side,
                            price: t.price,
                            qty: t.qty,
                            liquidity,
                            liquidation: t.liquidation,
                        };
                        self.liq.on_book(&BookToRisk::Fill(fill), out).unwrap();
                        if let Some(r) = self.resting.get_mut(&id.0) {
                            r.2 -= t.qty.0;
                            self.liq.risk_mut().release_open(account, SYM, side, t.qty);
                            if r.2 == 0 {
                                self.resting.remove(&id.0);
                            }
                        }
                    }
                }
                BookEvent::Cancelled { id, remaining, .. } => {
                    if id.0 >= LIQUIDATION_ID_BASE {
                        let end = LiquidationEnd { id, remaining };
                        self.liq.on_book(&BookToRisk::End(end), out).unwrap();
                    } else if let Some((account, side, _)) = self.resting.remove(&id.0) {
                        self.liq
                            .risk_mut()
                            .release_open(account, SYM, side, remaining);
                    }
                }
                BookEvent::Rejected { id, .. } if id.0 >= LIQUIDATION_ID_BASE => {
                    panic!("liquidation order {id:?} refused by the book");
                }
                _ => {}
            }
        }
    }

    /// Runs the risk stage's output through the book until nothing is left.
    fn drain(&mut self, mut out: Vec<RiskOutput>) {
        while !out.is_empty() {
            let mut next = Vec::new();
            for o in out {
                match o {
                    RiskOutput::CancelOrders { account, .. } => {
                        let ids: Vec<u64> = self
                            .resting
                            .iter()
                            .filter(|(_, r)| r.0 == account)
                            .map(|(id, _)| *id)
                            .collect();
                        for id in ids {
                            let mut ev = Vec::new();
                            self.book.cancel_with_reason(
                                OrderId(id),
                                CancelReason::Liquidation,
                                &mut ev,
                            );
                            self.book_events(&ev, &mut next);
                        }
                    }
                    RiskOutput::Order(order) => {
                        let mut ev = Vec::new();
                        self.book.submit_liquidation(&order.to_command(), &mut ev);
                        self.book_events(&ev, &mut next);
                    }
                    RiskOutput::Event(e) => self.events.push(e),
                }
            }
            out = next;
        }
        self.book.check_invariants().unwrap();
        let bbo = self.book.bbo();
        if bbo.bid.0 > 0 && bbo.ask.0 > 0 {
            assert!(bbo.bid < bbo.ask, "book crossed: {bbo:?}");
        }
    }

    /// After a scan and its settlement: nobody is liquidatable unless in flight.
    fn nobody_below_maintenance(&self) {
        let r = self.liq.risk();
        for a in 0..r.account_count() {
            let idx = liqcore::risk::AccountIdx(a as u32);
            assert!(
                !r.is_liquidatable(idx, SYM) || self.liq.in_flight(idx),
                "account {a} below maintenance margin and not in flight"
            );
        }
    }
}

/// A: 1 000 quote, long 10 @ 1 000, cross. MM 1 % of 10·P; equity 10·P − 9 000: liquidation
/// at P ≤ 909.09 (key 909), bankruptcy at 900.
fn long_a(e: &mut LiquidationEngine) {
    let mut out = Vec::new();
    e.deposit(acct(1), quote(1_000), &mut out).unwrap();
    e.deposit(acct(2), quote(1_000_000), &mut out).unwrap();
    e.deposit(acct(3), quote(1_000_000), &mut out).unwrap();
    trade(e, 1, 2, 1_000, 10);
}

#[test]
fn prices_and_trigger_of_the_worked_account() {
    let mut e = engine(8, PartialLiquidation::Whole);
    long_a(&mut e);
    let idx = e.risk().index_of(acct(1)).unwrap();
    assert_eq!(e.risk().liquidation_price(idx, SYM), Some(Price(910)));
    assert_eq!(e.risk().bankruptcy_price(idx, SYM), Some(Price(900)));
    let mut w = World::new(e);
    assert_eq!(w.mark(910), 0, "909.09 is the exact root: 910 is above it");
    assert_eq!(w.mark(909), 1);
    assert!(matches!(
        w.events[0],
        LiquidationEvent::Liquidation {
            account: AccountId(1),
            side: Side::Sell,
            qty: Qty(10),
            limit_price: Price(900),
            ..
        }
    ));
}

#[test]
fn fee_is_capped_by_the_margin_left() {
    // Bid 905: margin left (905 − 900) · 10 = 50 quote < fee 1 % · 9 050 = 90.5 quote.
    let mut e = engine(8, PartialLiquidation::Whole);
    long_a(&mut e);
    let mut w = World::new(e);
    w.limit(3, Side::Buy, 905, 10);
    w.mark(909);
    assert_eq!(w.liquidation_trades, 1);
    let fund: Vec<_> = w
        .events
        .iter()
        .filter_map(|e| match e {
            LiquidationEvent::Insurance { delta, reason, .. } => Some((*delta, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(fund, vec![(quote(50), InsuranceReason::LiquidationFee)]);
    assert_eq!(w.liq.risk().insurance_fund(), quote(50));
    assert_eq!(w.liq.risk().collateral(acct(1)), Some(Money::ZERO));
    conserved(&w.liq);
}

#[test]
fn a_fill_above_bankruptcy_credits_the_fund() {
    // Bid 950: margin left (950 − 900) · 10 = 500 quote; fee 1 % · 9 500 = 95, surplus 405.
    let mut e = engine(8, PartialLiquidation::Whole);
    long_a(&mut e);
    let mut w = World::new(e);
    w.limit(3, Side::Buy, 950, 10);
    w.mark(909);
    let fund: Vec<_> = w
        .events
        .iter()
        .filter_map(|e| match e {
            LiquidationEvent::Insurance { delta, reason, .. } => Some((*delta, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        fund,
        vec![
            (quote(95), InsuranceReason::LiquidationFee),
            (quote(405), InsuranceReason::Surplus)
        ]
    );
    assert_eq!(w.liq.risk().insurance_fund(), quote(500));
    assert_eq!(w.liq.risk().collateral(acct(1)), Some(Money::ZERO));
    assert_eq!(
        w.liq
            .risk()
            .position_size(w.liq.risk().index_of(acct(1)).unwrap(), SYM),
        Qty(0)
    );
    conserved(&w.liq);
}

#[test]
fn a_fill_below_bankruptcy_is_paid_by_the_fund() {
    // A book that (unlike ours) filled beyond the limit at 880: the account ends 200 quote
    // short; the fund (150) pays what it can and never goes negative.
    let mut e = engine(8, PartialLiquidation::Whole);
    long_a(&mut e);
    let mut out = Vec::new();
    e.deposit_insurance(quote(150), &mut out).unwrap();
    out.clear();
    e.on_mark(SYM, Price(905), 0, &mut out).unwrap();
    let order = out
        .iter()
        .find_map(|o| match o {
            RiskOutput::Order(o) => Some(*o),
            _ => None,
        })
        .unwrap();
    out.clear();
    for (account, side, liquidity, liquidation) in [
        (acct(3), Side::Buy, Liquidity::Maker, true),
        (acct(1), Side::Sell, Liquidity::Taker, true),
    ] {
        e.on_fill(
            &Fill {
                symbol: SYM,
                account,
                side,
                price: Price(880),
                qty: order.qty,
                liquidity,
                liquidation,
            },
            &mut out,
        )
        .unwrap();
    }
    let fund: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            RiskOutput::Event(LiquidationEvent::Insurance { delta, reason, .. }) => {
                Some((*delta, *reason))
            }
            _ => None,
        })
        .collect();
    assert_eq!(fund, vec![(Money(-quote(150).0), InsuranceReason::Deficit)]);
    assert_eq!(e.risk().insurance_fund(), Money::ZERO);
    assert_eq!(e.risk().collateral(acct(1)), Some(Money(-quote(50).0)));
    assert_eq!(e.flights_open(), 0);
    conserved(&e);
}

#[test]
fn adl_closes_the_unabsorbed_rest_by_rank() {
    // A long 15 (5 from each short); no bids. Shorts at mark 909 (A's bankruptcy is above it):
    //   C: short 5 @ 1 000, collateral 1 000: PnL% 9.1 %, equity 1 455, leverage 3.12 → 0.284
    //   D: short 5 @ 1 050, collateral   200: PnL% 13.4 %, equity 905, leverage 5.02 → 0.674
    //   B: short 5 @ 1 100, collateral 10 000: PnL% 17.4 %, equity 10 955, leverage 0.41 → 0.072
    // so D goes first, then C, then B.
    let mut e = engine(8, PartialLiquidation::Whole);
    let mut out = Vec::new();
    e.deposit(acct(1), quote(1_600), &mut out).unwrap();
    e.deposit(acct(2), quote(10_000), &mut out).unwrap();
    e.deposit(acct(3), quote(1_000), &mut out).unwrap();
    e.deposit(acct(4), quote(200), &mut out).unwrap();
    trade(&mut e, 1, 3, 1_000, 5);
    trade(&mut e, 1, 4, 1_050, 5);
    trade(&mut e, 1, 2, 1_100, 5);
    let idx = e.risk().index_of(acct(1)).unwrap();
    let bankrupt = e.risk().bankruptcy_price(idx, SYM).unwrap();
    let liq = e.risk().liquidation_price(idx, SYM).unwrap();
    let mut w = World::new(e);
    w.mark(liq.0 - 1);
    let adl: Vec<_> = w
        .events
        .iter()
        .filter_map(|e| match e {
            LiquidationEvent::Adl {
                liquidated_account,
                counterparty_account,
                qty,
                price,
                ..
            } => {
                assert_eq!(*liquidated_account, acct(1));
                assert_eq!(*price, bankrupt);
                Some((counterparty_account.0, qty.0))
            }
            _ => None,
        })
        .collect();
    assert_eq!(adl, vec![(4, 5), (3, 5), (2, 5)]);
    let r = w.liq.risk();
    for a in 1..=4 {
        assert_eq!(r.position_size(r.index_of(acct(a)).unwrap(), SYM), Qty(0));
    }
    conserved(&w.liq);
}

#[test]
fn partial_liquidation_steps_down_a_tier() {
    // A: long 100 @ 1 000 (notional 100 000, tier 2: 2.5 % − 750), collateral 5 000.
    // Equity 100·P − 95 000; MM 2.5·P − 750 → liquidatable at P ≤ 966.67. At 966 the notional
    // 96 600 must fall below the 50 000 floor: keep ⌊49 999 / 966⌋ = 51 lots, close 49.
    let mut e = engine(8, PartialLiquidation::StepDownTier);
    let mut out = Vec::new();
    e.deposit(acct(1), quote(5_000), &mut out).unwrap();
    e.deposit(acct(2), quote(1_000_000), &mut out).unwrap();
    e.deposit(acct(3), quote(1_000_000), &mut out).unwrap();
    trade(&mut e, 1, 2, 1_000, 100);
    let mut w = World::new(e);
    w.limit(3, Side::Buy, 974, 1_000);
    assert_eq!(w.mark(967), 0);
    w.mark(966);
    let qtys: Vec<i64> = w
        .events
        .iter()
        .filter_map(|e| match e {
            LiquidationEvent::Liquidation { qty, .. } => Some(qty.0),
            _ => None,
        })
        .collect();
    assert_eq!(qtys[0], 49);
    // After the step the rest (51 lots, tier 1 at 1 %) is healthy: selling 49 at 974 leaves
    // 5 000 − 26·49 − fee 477.26 = 3 248.74, equity at 966 is 1 514.74 > MM 492.66.
    let idx = w.liq.risk().index_of(acct(1)).unwrap();
    assert_eq!(w.liq.risk().position_size(idx, SYM), Qty(51));
    assert!(!w.liq.risk().is_liquidatable(idx, SYM));
    w.nobody_below_maintenance();
    conserved(&w.liq);
}

#[test]
fn chunked_liquidation_waits_for_the_cooldown() {
    let partial = PartialLiquidation::Chunks {
        fraction: Rate(20_000_000),
        min_notional: quote(10_000),
        cooldown: 30,
    };
    let mut e = engine(8, partial);
    let mut out = Vec::new();
    e.deposit(acct(1), quote(5_000), &mut out).unwrap();
    e.deposit(acct(2), quote(1_000_000), &mut out).unwrap();
    e.deposit(acct(3), quote(1_000_000), &mut out).unwrap();
    trade(&mut e, 1, 2, 1_000, 100);
    let mut w = World::new(e);
    w.limit(3, Side::Buy, 950, 1_000);
    let idx = w.liq.risk().index_of(acct(1)).unwrap();
    let mut out = Vec::new();
    w.liq.on_mark(SYM, Price(952), 0, &mut out).unwrap();
    w.drain(out);
    assert_eq!(w.liq.risk().position_size(idx, SYM), Qty(80), "20 % chunk");
    assert!(w.liq.in_flight(idx), "cooling down counts as in flight");
    let mut out = Vec::new();
    w.liq.on_mark(SYM, Price(951), 10, &mut out).unwrap();
    w.drain(out);
    assert_eq!(
        w.liq.risk().position_size(idx, SYM),
        Qty(80),
        "still cooling"
    );
    let mut out = Vec::new();
    w.liq.on_mark(SYM, Price(951), 30, &mut out).unwrap();
    w.drain(out);
    assert_eq!(
        w.liq.risk().position_size(idx, SYM),
        Qty(64),
        "next chunk: ⌈0.2 · 80⌉"
    );
    conserved(&w.liq);
}

#[test]
fn open_orders_are_cancelled_first() {
    let mut e = engine(8, PartialLiquidation::Whole);
    long_a(&mut e);
    let mut w = World::new(e);
    w.limit(1, Side::Buy, 800, 3);
    w.limit(3, Side::Buy, 905, 10);
    w.mark(909);
    assert!(w.resting.values().all(|r| r.0 != acct(1)));
    let view = w.liq.risk().position_view(acct(1), SYM).unwrap();
    assert_eq!(view.open_buy, Qty(0));
    conserved(&w.liq);
}

#[test]
fn isolated_positions_are_liquidated_alone() {
    let mut e = engine(8, PartialLiquidation::Whole);
    let mut out = Vec::new();
    e.deposit(acct(1), quote(10_000), &mut out).unwrap();
    e.deposit(acct(2), quote(1_000_000), &mut out).unwrap();
    e.set_leverage(
        acct(1),
        SYM,
        Leverage::from_whole(10),
        MarginMode::Isolated,
        &mut out,
    )
    .unwrap();
    trade(&mut e, 1, 2, 1_000, 10);
    // Margin 1 000: liquidation at ⌈(9 000)/(10 − 0.1)⌉ … = 909.09, bankruptcy 900.
    let idx = e.risk().index_of(acct(1)).unwrap();
    assert_eq!(e.risk().bankruptcy_price(idx, SYM), Some(Price(900)));
    let mut w = World::new(e);
    w.limit(2, Side::Buy, 920, 10);
    w.mark(909);
    // Fill at 920: margin left 200, fee 92, surplus 108; the rest of the 10 000 stays.
    assert_eq!(w.liq.risk().insurance_fund(), quote(200));
    assert_eq!(w.liq.risk().collateral(acct(1)), Some(quote(9_000)));
    conserved(&w.liq);
}

#[test]
fn cascade_through_a_thin_book() {
    // 40 longs of 10 lots @ 1 000 at leverages 10×..49×; one well-funded short took the other
    // side; a market maker shows 8 bids of 6 lots, one tick level every 5 quote below 995,
    // and asks from 1 005. The mark follows the last trade (`last` method) once the index
    // drops to 985.
    let n = 40u64;
    let mut e = engine(64, PartialLiquidation::Whole);
    let mut out = Vec::new();
    let whale = 1_000;
    let maker = 1_001;
    e.deposit(acct(whale), quote(10_000_000), &mut out).unwrap();
    e.deposit(acct(maker), quote(10_000_000), &mut out).unwrap();
    for a in 0..n {
        // Collateral = notional / leverage, leverage 10 + a.
        let collateral = 10_000 * Money::UNIT / i128::from(10 + a);
        e.deposit(acct(a), Money(collateral), &mut out).unwrap();
        trade(&mut e, a, whale, 1_000, 10);
    }
    let mut w = World::new(e);
    for level in 0..8 {
        w.limit(maker, Side::Buy, 995 - 5 * level, 6);
        w.limit(maker, Side::Sell, 1_005 + 5 * level, 6);
    }
    let mut mark = 985;
    let mut rounds = Vec::new();
    loop {
        let before = w.liquidation_trades;
        let started = w.mark(mark);
        w.nobody_below_maintenance();
        conserved(&w.liq);
        if started == 0 {
            break;
        }
        rounds.push((mark, started, w.liquidation_trades - before));
        let last = w.book.last_trade_price().unwrap().0;
        if last >= mark {
            break;
        }
        mark = last;
    }
    assert!(
        rounds.len() >= 3,
        "liquidation trades move the price into further liquidations: {rounds:?}"
    );
    assert!(rounds.windows(2).all(|r| r[1].0 < r[0].0), "{rounds:?}");
    let adl = w
        .events
        .iter()
        .filter(|e| matches!(e, LiquidationEvent::Adl { .. }))
        .count();
    assert!(adl > 0, "the bids run out: ADL against the whale");
    conserved(&w.liq);
}
