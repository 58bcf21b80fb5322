//! Margin accounts: the venues' documented examples in exact numbers, and the behaviour of
//! fills, fees, isolated margin, funds and pre-trade checks.

use std::str::FromStr;

use liqcore::risk::{Fill, FillError};
use liqcore::risk::{
    FundsError, Leverage, LeverageError, Liquidity, MarginMode, MarginTier, MarginTiers, MmBasis,
    OrderReject, OrderRequest, RiskConfig, RiskEngine, SymbolRiskConfig,
};
use liqcore::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn money(s: &str) -> Money {
    Money::from_decimal(dec(s)).unwrap()
}

fn rate(s: &str) -> Rate {
    Rate::from_decimal(dec(s)).unwrap()
}

fn lev(n: u32) -> Leverage {
    Leverage::from_whole(n)
}

fn tier(floor: &str, mmr: &str) -> MarginTier {
    MarginTier {
        floor: money(floor),
        mmr: rate(mmr),
        max_leverage: None,
    }
}

/// A test venue: one engine, helpers in decimal strings.
struct Venue {
    engine: RiskEngine,
    specs: Vec<SymbolSpec>,
}

impl Venue {
    fn new() -> Venue {
        Venue {
            engine: RiskEngine::new(RiskConfig {
                max_accounts: 64,
                max_symbols: 4,
            }),
            specs: Vec::new(),
        }
    }

    fn symbol(
        &mut self,
        tick: &str,
        lot: &str,
        max_lev: u32,
        tiers: &[MarginTier],
        basis: MmBasis,
    ) -> SymbolId {
        self.symbol_with(tick, lot, max_lev, tiers, basis, |c| c)
    }

    fn symbol_with(
        &mut self,
        tick: &str,
        lot: &str,
        max_lev: u32,
        tiers: &[MarginTier],
        basis: MmBasis,
        f: impl FnOnce(SymbolRiskConfig) -> SymbolRiskConfig,
    ) -> SymbolId {
        let id = SymbolId(self.specs.len() as u32);
        let spec = SymbolSpec::new(id, dec(tick), dec(lot)).unwrap();
        let config = SymbolRiskConfig::new(spec.clone(), lev(max_lev), tiers)
            .unwrap()
            .with_mm_basis(basis);
        self.engine.add_symbol(f(config)).unwrap();
        self.specs.push(spec);
        id
    }

    fn px(&self, s: SymbolId, p: &str) -> Price {
        self.specs[s.0 as usize].price_from_decimal(dec(p)).unwrap()
    }

    fn qty(&self, s: SymbolId, q: &str) -> Qty {
        self.specs[s.0 as usize].qty_from_decimal(dec(q)).unwrap()
    }

    fn price_str(&self, s: SymbolId, p: Option<Price>) -> Option<String> {
        p.map(|p| self.specs[s.0 as usize].price_to_decimal(p).to_string())
    }

    fn deposit(&mut self, a: u64, amount: &str) {
        self.engine.deposit(AccountId(a), money(amount)).unwrap();
    }

    fn set_lev(&mut self, a: u64, s: SymbolId, l: u32, mode: MarginMode) {
        self.engine
            .set_leverage(AccountId(a), s, lev(l), mode)
            .unwrap();
    }

    /// `buyer` buys `qty` at `price` from `seller`; `buyer_maker` says who rested.
    fn trade(&mut self, s: SymbolId, buyer: u64, seller: u64, price: &str, qty: &str) {
        self.trade_as(s, buyer, seller, price, qty, false);
    }

    fn trade_as(
        &mut self,
        s: SymbolId,
        buyer: u64,
        seller: u64,
        price: &str,
        qty: &str,
        buyer_maker: bool,
    ) {
        let (price, qty) = (self.px(s, price), self.qty(s, qty));
        let (bl, sl) = if buyer_maker {
            (Liquidity::Maker, Liquidity::Taker)
        } else {
            (Liquidity::Taker, Liquidity::Maker)
        };
        for (a, side, liquidity) in [(buyer, Side::Buy, bl), (seller, Side::Sell, sl)] {
            self.engine
                .apply_fill(&Fill {
                    symbol: s,
                    account: AccountId(a),
                    side,
                    price,
                    qty,
                    liquidity,
                    liquidation: false,
                })
                .unwrap();
        }
    }

    fn order(
        &self,
        a: u64,
        s: SymbolId,
        side: Side,
        qty: &str,
        price: Option<&str>,
    ) -> OrderRequest {
        OrderRequest {
            account: AccountId(a),
            symbol: s,
            side,
            qty: self.qty(s, qty),
            limit_price: price.map(|p| self.px(s, p)),
            reduce_only: false,
        }
    }

    fn conserved(&self) -> bool {
        let e = &self.engine;
        let entry: i128 = (0..self.specs.len())
            .map(|s| e.total_entry_notional(SymbolId(s as u32)).0)
            .sum();
        e.total_collateral().0
            + e.total_isolated_margin().0
            + e.fees_collected().0
            + e.insurance_fund().0
            - entry
            == e.total_deposited().0 - e.total_withdrawn().0
    }
}

#[test]
fn bybit_isolated_entry_basis_long_btc() {
    // Long 1 BTC at 20,000, 50×, maintenance rate 0.5 % → IM 400, MM 100, liq 19,700.
    let mut v = Venue::new();
    let btc = v.symbol("0.5", "0.001", 100, &[tier("0", "0.005")], MmBasis::Entry);
    v.deposit(1, "1000");
    v.deposit(2, "100000");
    v.set_lev(1, btc, 50, MarginMode::Isolated);
    v.trade(btc, 1, 2, "20000", "1");
    let p = v.engine.position_view(AccountId(1), btc).unwrap();
    assert_eq!(p.initial_margin, money("400"));
    assert_eq!(p.margin, money("400"));
    assert_eq!(p.maintenance_margin, money("100"));
    assert_eq!(
        v.price_str(btc, p.liquidation_price).as_deref(),
        Some("19700")
    );
    assert_eq!(
        v.price_str(btc, p.bankruptcy_price).as_deref(),
        Some("19600")
    );
    assert_eq!(v.engine.collateral(AccountId(1)), Some(money("600")));
    // Entry basis: the mark does not move the maintenance margin or the liquidation price.
    v.engine.set_mark(btc, v.px(btc, "19800")).unwrap();
    let p = v.engine.position_view(AccountId(1), btc).unwrap();
    assert_eq!(p.maintenance_margin, money("100"));
    assert_eq!(p.unrealized_pnl, money("-200"));
    assert_eq!(
        v.price_str(btc, p.liquidation_price).as_deref(),
        Some("19700")
    );
    let idx = v.engine.index_of(AccountId(1)).unwrap();
    assert!(!v.engine.is_liquidatable(idx, btc));
    v.engine.set_mark(btc, v.px(btc, "19700")).unwrap();
    assert!(v.engine.is_liquidatable(idx, btc));
    assert!(v.conserved());
}

#[test]
fn bitmex_cross_entry_basis_long_eth() {
    // Collateral 10,000 USDT, long 20 ETH at 1,000, 50×, 1 % → bankruptcy 500, liq 510.
    let mut v = Venue::new();
    let eth = v.symbol("0.05", "0.01", 100, &[tier("0", "0.01")], MmBasis::Entry);
    v.deposit(1, "10000");
    v.deposit(2, "100000");
    v.set_lev(1, eth, 50, MarginMode::Cross);
    v.trade(eth, 1, 2, "1000", "20");
    let p = v.engine.position_view(AccountId(1), eth).unwrap();
    assert_eq!(v.price_str(eth, p.bankruptcy_price).as_deref(), Some("500"));
    assert_eq!(
        v.price_str(eth, p.liquidation_price).as_deref(),
        Some("510")
    );
    assert_eq!(p.maintenance_margin, money("200"));
    let a = v.engine.account_view(AccountId(1)).unwrap();
    assert_eq!(a.collateral, money("10000"));
    assert_eq!(a.initial_margin, money("400"));
    assert_eq!(a.maintenance_margin, money("200"));
    assert_eq!(a.equity, money("10000"));
    assert_eq!(a.available_margin, money("9600"));
}

#[test]
fn hyperliquid_isolated_mark_basis_long_and_short() {
    // Entry 100, size 1, position margin 10, maintenance rate 2.5 %:
    // long liq 92.30769… → 92.3077, short 107.31707… → 107.317 (tick 0.0001).
    let mut v = Venue::new();
    let s = v.symbol("0.0001", "1", 50, &[tier("0", "0.025")], MmBasis::Mark);
    v.deposit(1, "1000");
    v.deposit(2, "1000");
    v.set_lev(1, s, 10, MarginMode::Isolated);
    v.set_lev(2, s, 10, MarginMode::Isolated);
    v.trade(s, 1, 2, "100", "1");
    let long = v.engine.position_view(AccountId(1), s).unwrap();
    let short = v.engine.position_view(AccountId(2), s).unwrap();
    assert_eq!(long.margin, money("10"));
    assert_eq!(short.margin, money("10"));
    assert_eq!(long.liquidation_price, Some(Price(923_077)));
    assert_eq!(short.liquidation_price, Some(Price(1_073_170)));
    assert_eq!(
        v.price_str(s, long.liquidation_price).as_deref(),
        Some("92.3077")
    );
    assert_eq!(
        v.price_str(s, short.liquidation_price).as_deref(),
        Some("107.317")
    );
    assert_eq!(v.price_str(s, long.bankruptcy_price).as_deref(), Some("90"));
    assert_eq!(
        v.price_str(s, short.bankruptcy_price).as_deref(),
        Some("110")
    );
    // The comparison flips at the rounded price.
    let (li, si) = (
        v.engine.index_of(AccountId(1)).unwrap(),
        v.engine.index_of(AccountId(2)).unwrap(),
    );
    v.engine.set_mark(s, Price(923_077)).unwrap();
    let (equity, mm) = v.engine.isolated_equity(li, s).unwrap();
    assert!(equity >= mm);
    v.engine.set_mark(s, Price(923_076)).unwrap();
    assert!(v.engine.is_liquidatable(li, s));
    v.engine.set_mark(s, Price(1_073_171)).unwrap();
    assert!(v.engine.is_liquidatable(si, s));
    v.engine.set_mark(s, Price(1_073_170)).unwrap();
    assert!(!v.engine.is_liquidatable(si, s));
}

#[test]
fn binance_tiers_maintenance_amounts() {
    let tiers = MarginTiers::new(
        &[
            tier("0", "0.004"),
            tier("50000", "0.005"),
            tier("250000", "0.01"),
        ],
        lev(125),
    )
    .unwrap();
    assert_eq!(tiers.maintenance_amount(0), money("0"));
    assert_eq!(tiers.maintenance_amount(1), money("50"));
    assert_eq!(tiers.maintenance_amount(2), money("1300"));
    // MM = N · rate − cum in the tier N falls in.
    assert_eq!(tiers.maintenance_margin(money("100000")), money("450"));
    assert_eq!(tiers.maintenance_margin(money("400000")), money("2700"));
}

#[test]
fn cross_liquidation_price_is_resolved_in_the_tier_it_lands_in() {
    // Binance-like tiers on the mark; a long whose liquidation notional lies in tier 1 while
    // its current notional lies in tier 2.
    let mut v = Venue::new();
    let btc = v.symbol(
        "0.1",
        "0.001",
        125,
        &[
            tier("0", "0.004"),
            tier("50000", "0.005"),
            tier("250000", "0.01"),
        ],
        MmBasis::Mark,
    );
    v.deposit(1, "100000");
    v.deposit(2, "1000000");
    v.set_lev(1, btc, 10, MarginMode::Cross);
    v.trade(btc, 1, 2, "30000", "10"); // notional 300,000: tier 2
    let idx = v.engine.index_of(AccountId(1)).unwrap();
    let liq = v.engine.liquidation_price(idx, btc).unwrap();
    // Tier 1 (notional 200,955): 100000 + 10·(P − 30000) = 10·P·0.005 − 50
    // → P = 199950 / 9.95 = 20095.477… → 20095.5 (tier 2's formula would give 20070.7).
    assert_eq!(v.price_str(btc, Some(liq)).as_deref(), Some("20095.5"));
    v.engine.set_mark(btc, liq).unwrap();
    assert!(v.engine.equity(idx) >= v.engine.maintenance_margin(idx));
    v.engine.set_mark(btc, Price(liq.0 - 1)).unwrap();
    assert!(v.engine.equity(idx) < v.engine.maintenance_margin(idx));
}

#[test]
fn cross_liquidation_price_holds_other_marks() {
    let mut v = Venue::new();
    let btc = v.symbol("0.1", "0.001", 100, &[tier("0", "0.01")], MmBasis::Mark);
    let eth = v.symbol("0.01", "0.01", 100, &[tier("0", "0.02")], MmBasis::Entry);
    v.deposit(1, "5000");
    v.deposit(2, "1000000");
    v.set_lev(1, btc, 20, MarginMode::Cross);
    v.set_lev(1, eth, 20, MarginMode::Cross);
    v.trade(btc, 1, 2, "20000", "1"); // long BTC
    v.trade(eth, 2, 1, "1000", "10"); // short ETH
    v.engine.set_mark(eth, v.px(eth, "1100")).unwrap(); // ETH short loses 1,000
    let idx = v.engine.index_of(AccountId(1)).unwrap();
    // equity(P) = 5000 − 1000 + (P − 20000) = P − 16000; MM = 0.01·P + 200 (ETH entry 10,000 ×
    // 2 %) → P = 16200 / 0.99 = 16363.63… → 16363.7
    let liq = v.engine.liquidation_price(idx, btc).unwrap();
    assert_eq!(v.price_str(btc, Some(liq)).as_deref(), Some("16363.7"));
    // For ETH (entry basis): 5000 + (20000·… BTC mark = last fill 20000, upnl 0) +
    // 10·(1000 − P) = MM 200 + BTC MM 200 → P = (5000 + 10000 − 400) / 10 = 1460.
    let liq_eth = v.engine.liquidation_price(idx, eth).unwrap();
    assert_eq!(v.price_str(eth, Some(liq_eth)).as_deref(), Some("1460"));
    let bankrupt_eth = v.engine.bankruptcy_price(idx, eth).unwrap();
    assert_eq!(
        v.price_str(eth, Some(bankrupt_eth)).as_deref(),
        Some("1500")
    );
}

#[test]
fn fills_realize_pnl_on_reduce_close_and_flip_with_fees() {
    let mut v = Venue::new();
    let s = v.symbol_with(
        "0.1",
        "0.001",
        100,
        &[tier("0", "0.01")],
        MmBasis::Mark,
        |c| c.with_fees(rate("-0.0001"), rate("0.0005")).unwrap(),
    );
    v.deposit(1, "10000");
    v.deposit(2, "10000");
    // 1 buys 2 @ 100 as taker: fee 0.1; 2 gets a 0.02 rebate.
    v.trade(s, 1, 2, "100", "2");
    assert_eq!(v.engine.collateral(AccountId(1)), Some(money("9999.9")));
    assert_eq!(v.engine.collateral(AccountId(2)), Some(money("10000.02")));
    assert_eq!(v.engine.fees_collected(), money("0.08"));
    // Buy 1 more @ 130 (maker): entry notional 330, entry price 110.
    v.trade_as(s, 1, 2, "130", "1", true);
    let p = v.engine.position_view(AccountId(1), s).unwrap();
    assert_eq!(p.entry_notional, money("330"));
    assert_eq!(
        p.entry_price_decimal(&v.specs[0]).unwrap().to_string(),
        "110"
    );
    // Sell 1 @ 120: realized +10.
    v.trade(s, 2, 1, "120", "1");
    let p = v.engine.position_view(AccountId(1), s).unwrap();
    assert_eq!(p.realized_pnl, money("10"));
    assert_eq!(p.entry_notional, money("220"));
    // Sell 3 @ 100: close 2 (−20), open short 1 at 100.
    v.trade(s, 2, 1, "100", "3");
    let p = v.engine.position_view(AccountId(1), s).unwrap();
    assert_eq!(p.qty, v.qty(s, "-1"));
    assert_eq!(p.realized_pnl, money("-10"));
    assert_eq!(p.entry_notional, money("-100"));
    // Σ size = 0 and money is conserved.
    assert_eq!(v.engine.total_size(s), 0);
    assert!(v.conserved());
}

#[test]
fn entry_share_rounding_never_creates_money() {
    // One money unit per tick × lot; entry notional 10¹⁰ units over 3 lots, closed in thirds:
    // each realized share rounds down, the remainder stays in the entry notional.
    let mut v = Venue::new();
    let s = v.symbol(
        "0.000000001",
        "0.001",
        100,
        &[tier("0", "0.01")],
        MmBasis::Mark,
    );
    v.deposit(1, "100");
    v.deposit(2, "100");
    v.trade(s, 1, 2, "3.333333333", "0.002");
    v.trade(s, 1, 2, "3.333333334", "0.001");
    assert_eq!(
        v.engine
            .position_view(AccountId(1), s)
            .unwrap()
            .entry_notional,
        Money(10_000_000_000)
    );
    for _ in 0..3 {
        v.trade(s, 2, 1, "3.333333333", "0.001");
        assert!(v.conserved());
    }
    let long = v.engine.position_view(AccountId(1), s).unwrap();
    let short = v.engine.position_view(AccountId(2), s).unwrap();
    assert_eq!((long.qty, short.qty), (Qty(0), Qty(0)));
    assert_eq!(long.entry_notional, Money::ZERO);
    assert_eq!(short.entry_notional, Money::ZERO);
    // Exit 9,999,999,999 against entry 10¹⁰: −1 unit, mirrored, netting to zero.
    assert_eq!(long.realized_pnl, Money(-1));
    assert_eq!(short.realized_pnl, Money(1));
}

#[test]
fn isolated_margin_moves_with_the_position_and_margin_op() {
    let mut v = Venue::new();
    let s = v.symbol("0.1", "0.001", 100, &[tier("0", "0.005")], MmBasis::Mark);
    v.deposit(1, "1000");
    v.deposit(2, "100000");
    v.set_lev(1, s, 10, MarginMode::Isolated);
    v.trade(s, 1, 2, "1000", "4"); // 4000 notional → 400 margin
    assert_eq!(v.engine.collateral(AccountId(1)), Some(money("600")));
    let p = v.engine.position_view(AccountId(1), s).unwrap();
    assert_eq!(p.margin, money("400"));
    // Remove below initial margin: refused. Add 100, remove 100: fine.
    assert_eq!(
        v.engine.adjust_margin(AccountId(1), s, money("-1")),
        Err(FundsError::InsufficientMargin)
    );
    v.engine
        .adjust_margin(AccountId(1), s, money("100"))
        .unwrap();
    assert_eq!(v.engine.collateral(AccountId(1)), Some(money("500")));
    assert_eq!(
        v.engine.adjust_margin(AccountId(1), s, money("600")),
        Err(FundsError::InsufficientMargin)
    );
    v.engine
        .adjust_margin(AccountId(1), s, money("-100"))
        .unwrap();
    // Shrink by a quarter at 1100: +100 PnL, a quarter of the margin back.
    v.trade(s, 2, 1, "1100", "1");
    assert_eq!(
        v.engine.position_view(AccountId(1), s).unwrap().margin,
        money("300")
    );
    assert_eq!(v.engine.collateral(AccountId(1)), Some(money("800")));
    // Close: everything back.
    v.trade(s, 2, 1, "1000", "3");
    assert_eq!(
        v.engine.position_view(AccountId(1), s).unwrap().margin,
        Money::ZERO
    );
    assert_eq!(v.engine.collateral(AccountId(1)), Some(money("1100")));
    // Margin op without a position / in cross.
    assert_eq!(
        v.engine.adjust_margin(AccountId(1), s, money("1")),
        Err(FundsError::NoPosition)
    );
    assert_eq!(
        v.engine.adjust_margin(AccountId(2), s, money("1")),
        Err(FundsError::NotIsolated)
    );
    assert!(v.conserved());
}

#[test]
fn isolated_flip_swaps_margin() {
    let mut v = Venue::new();
    let s = v.symbol("1", "1", 100, &[tier("0", "0.01")], MmBasis::Mark);
    v.deposit(1, "1000");
    v.deposit(2, "1000");
    v.set_lev(1, s, 5, MarginMode::Isolated);
    v.trade(s, 1, 2, "100", "5"); // margin 100
    v.trade(s, 2, 1, "90", "8"); // close 5 (−50), open short 3 at 90: margin 54
    let p = v.engine.position_view(AccountId(1), s).unwrap();
    assert_eq!(p.qty, Qty(-3));
    assert_eq!(p.margin, money("54"));
    assert_eq!(v.engine.collateral(AccountId(1)), Some(money("896")));
    assert!(v.conserved());
}

#[test]
fn withdraw_only_from_free_margin() {
    let mut v = Venue::new();
    let s = v.symbol("1", "1", 100, &[tier("0", "0.01")], MmBasis::Mark);
    v.deposit(1, "1000");
    v.deposit(2, "1000");
    v.set_lev(1, s, 10, MarginMode::Cross);
    v.trade(s, 1, 2, "100", "50"); // IM 500
    assert_eq!(
        v.engine.withdraw(AccountId(1), money("501")),
        Err(FundsError::InsufficientMargin)
    );
    // Unrealized profit cannot be withdrawn.
    v.engine.set_mark(s, Price(120)).unwrap();
    assert_eq!(
        v.engine.withdraw(AccountId(1), money("1000.01")),
        Err(FundsError::InsufficientMargin)
    );
    v.engine.withdraw(AccountId(1), money("1000")).unwrap();
    assert_eq!(
        v.engine.withdraw(AccountId(9), money("1")),
        Err(FundsError::UnknownAccount)
    );
    assert_eq!(
        v.engine.withdraw(AccountId(2), money("0")),
        Err(FundsError::InvalidAmount)
    );
    assert!(v.conserved());
}

#[test]
fn leverage_rules() {
    let mut v = Venue::new();
    let s = v.symbol(
        "1",
        "1",
        50,
        &[
            tier("0", "0.01"),
            MarginTier {
                floor: money("10000"),
                mmr: rate("0.02"),
                max_leverage: Some(lev(10)),
            },
        ],
        MmBasis::Mark,
    );
    v.deposit(1, "2000");
    v.deposit(2, "100000");
    let (a, b) = (AccountId(1), AccountId(2));
    assert_eq!(
        v.engine.set_leverage(a, s, lev(51), MarginMode::Cross),
        Err(LeverageError::InvalidLeverage)
    );
    assert_eq!(
        v.engine.set_leverage(a, s, Leverage(0), MarginMode::Cross),
        Err(LeverageError::InvalidLeverage)
    );
    v.set_lev(1, s, 5, MarginMode::Cross);
    v.trade(s, 1, 2, "100", "50"); // notional 5000, IM 1000
    assert_eq!(
        v.engine.set_leverage(a, s, lev(5), MarginMode::Isolated),
        Err(LeverageError::PositionOpen)
    );
    // Lowering the leverage to 2× needs IM 2500 > equity 2000.
    assert_eq!(
        v.engine.set_leverage(a, s, lev(2), MarginMode::Cross),
        Err(LeverageError::InsufficientMargin)
    );
    v.engine
        .set_leverage(a, s, lev(4), MarginMode::Cross)
        .unwrap();
    // Counterparty short 50 at 100 = 5000 (tier 0); then grows to tier 1 at 10× max.
    v.engine
        .set_leverage(b, s, lev(20), MarginMode::Cross)
        .unwrap();
    v.trade(s, 1, 2, "100", "60"); // account 2 short 110 → notional 11000: tier 1
    assert_eq!(
        v.engine.set_leverage(b, s, lev(20), MarginMode::Cross),
        Err(LeverageError::PositionLimitExceeded)
    );
}

#[test]
fn pre_trade_checks_margin_and_immediate_loss() {
    let mut v = Venue::new();
    let s = v.symbol("1", "1", 100, &[tier("0", "0.01")], MmBasis::Mark);
    v.deposit(1, "1000");
    v.set_lev(1, s, 10, MarginMode::Cross);
    v.engine.set_mark(s, Price(100)).unwrap();
    let e = &mut v.engine;
    // 100 @ 100 = 10,000 notional → IM 1000: exactly fits.
    let o = OrderRequest {
        account: AccountId(1),
        symbol: s,
        side: Side::Buy,
        qty: Qty(100),
        limit_price: Some(Price(100)),
        reduce_only: false,
    };
    let approved = e.check_order(&o).unwrap();
    assert!(approved.reserved);
    // The open order is counted: another lot does not fit.
    let one = OrderRequest { qty: Qty(1), ..o };
    assert_eq!(e.check_order(&one), Err(OrderReject::InsufficientMargin));
    // A sell that only offsets the open buys… grows a short: also counted on its own side.
    let sell = OrderRequest {
        side: Side::Sell,
        qty: Qty(100),
        ..o
    };
    assert_eq!(
        e.check_order(&sell),
        Ok(approved),
        "both sides charged by the larger"
    );
    e.release_open(AccountId(1), s, Side::Buy, Qty(100));
    e.release_open(AccountId(1), s, Side::Sell, Qty(100));
    assert_eq!(
        e.available_margin(e.index_of(AccountId(1)).unwrap()),
        money("1000")
    );
    // A buy priced above the mark pays its immediate loss: 90 @ 101 needs 909 + 90 = 999.
    let above = OrderRequest {
        qty: Qty(90),
        limit_price: Some(Price(101)),
        ..o
    };
    assert!(e.check_order(&above).is_ok());
    e.release_open(AccountId(1), s, Side::Buy, Qty(90));
    let above = OrderRequest {
        qty: Qty(91),
        limit_price: Some(Price(101)),
        ..o
    };
    assert_eq!(e.check_order(&above), Err(OrderReject::InsufficientMargin));
    // A sell below the mark likewise.
    let below = OrderRequest {
        side: Side::Sell,
        qty: Qty(95),
        limit_price: Some(Price(95)),
        ..o
    };
    // IM at max(95, 100) = 950, loss 5·95 = 475: 1425 > 1000.
    assert_eq!(e.check_order(&below), Err(OrderReject::InsufficientMargin));
    // Market orders are valued at the 5 % band edge (105).
    let market = OrderRequest {
        qty: Qty(60),
        limit_price: None,
        ..o
    };
    // IM 60·105/10 = 630, loss 60·5 = 300 → 930 ≤ 1000.
    assert!(e.check_order(&market).is_ok());
    let bad = OrderRequest { qty: Qty(0), ..o };
    assert_eq!(e.check_order(&bad), Err(OrderReject::InvalidQty));
    let unknown = OrderRequest {
        account: AccountId(77),
        ..o
    };
    assert_eq!(e.check_order(&unknown), Err(OrderReject::UnknownAccount));
}

#[test]
fn pre_trade_checks_reduce_only_and_reductions() {
    let mut v = Venue::new();
    let s = v.symbol("1", "1", 100, &[tier("0", "0.01")], MmBasis::Mark);
    v.deposit(1, "1000");
    v.deposit(2, "100000");
    v.set_lev(1, s, 10, MarginMode::Cross);
    v.trade(s, 1, 2, "100", "90"); // IM 900
    v.engine.set_mark(s, Price(90)).unwrap(); // equity 100 < IM
    let ro = OrderRequest {
        account: AccountId(1),
        symbol: s,
        side: Side::Sell,
        qty: Qty(500),
        limit_price: Some(Price(90)),
        reduce_only: true,
    };
    let a = v.engine.check_order(&ro).unwrap();
    assert_eq!(a.qty, Qty(90), "capped to the position");
    assert!(!a.reserved);
    let grow = OrderRequest {
        side: Side::Buy,
        ..ro
    };
    assert_eq!(
        v.engine.check_order(&grow),
        Err(OrderReject::ReduceOnlyIncreases)
    );
    let flat = OrderRequest {
        account: AccountId(2),
        side: Side::Buy,
        ..ro
    };
    assert!(v.engine.check_order(&flat).is_ok(), "short 90 can buy back");
    // A plain reducing sell passes even below initial margin, and so does a flip to a smaller
    // opposite position (open sells 50 + 60 reach short 20: |20| < |90|); a flip to a larger
    // one does not (50 + 140 reach short 100).
    let reduce = OrderRequest {
        reduce_only: false,
        qty: Qty(50),
        ..ro
    };
    assert!(v.engine.check_order(&reduce).is_ok());
    let small_flip = OrderRequest {
        reduce_only: false,
        qty: Qty(60),
        ..ro
    };
    assert!(v.engine.check_order(&small_flip).is_ok());
    v.engine.release_open(AccountId(1), s, Side::Sell, Qty(60));
    let flip = OrderRequest {
        reduce_only: false,
        qty: Qty(140),
        ..ro
    };
    assert_eq!(
        v.engine.check_order(&flip),
        Err(OrderReject::InsufficientMargin)
    );
}

#[test]
fn pre_trade_position_limit_per_tier() {
    let mut v = Venue::new();
    let s = v.symbol(
        "1",
        "1",
        100,
        &[
            MarginTier {
                floor: money("0"),
                mmr: rate("0.004"),
                max_leverage: Some(lev(100)),
            },
            MarginTier {
                floor: money("50000"),
                mmr: rate("0.005"),
                max_leverage: Some(lev(50)),
            },
        ],
        MmBasis::Mark,
    );
    v.deposit(1, "100000");
    v.set_lev(1, s, 75, MarginMode::Cross);
    v.engine.set_mark(s, Price(1000)).unwrap();
    let o = OrderRequest {
        account: AccountId(1),
        symbol: s,
        side: Side::Buy,
        qty: Qty(49),
        limit_price: Some(Price(1000)),
        reduce_only: false,
    };
    assert!(v.engine.check_order(&o).is_ok());
    // 49 open + 1 more = 50,000 notional: tier 1 allows only 50×.
    let more = OrderRequest { qty: Qty(1), ..o };
    assert_eq!(
        v.engine.check_order(&more),
        Err(OrderReject::PositionLimitExceeded)
    );
    // A market buy of 1 is valued at the band edge (1050): 50 lots = 52,500, tier 1.
    let market = OrderRequest {
        qty: Qty(1),
        limit_price: None,
        ..o
    };
    assert_eq!(
        v.engine.check_order(&market),
        Err(OrderReject::PositionLimitExceeded)
    );
    // At 50× the same position is fine.
    v.engine.release_open(AccountId(1), s, Side::Buy, Qty(49));
    v.set_lev(1, s, 50, MarginMode::Cross);
    assert!(
        v.engine
            .check_order(&OrderRequest { qty: Qty(60), ..o })
            .is_ok()
    );
}

#[test]
fn market_order_without_any_price_is_refused() {
    let mut v = Venue::new();
    let s = v.symbol("1", "1", 100, &[tier("0", "0.01")], MmBasis::Mark);
    v.deposit(1, "1000");
    let o = v.order(1, s, Side::Buy, "1", None);
    assert_eq!(v.engine.check_order(&o), Err(OrderReject::NoMarkPrice));
    let o = v.order(1, s, Side::Buy, "1", Some("100"));
    assert!(v.engine.check_order(&o).is_ok());
}

#[test]
fn liquidation_fills_pay_the_liquidation_fee_to_insurance() {
    let mut v = Venue::new();
    let s = v.symbol_with("1", "1", 100, &[tier("0", "0.01")], MmBasis::Mark, |c| {
        c.with_fees(rate("0.0002"), rate("0.0005"))
            .unwrap()
            .with_liquidation_fee(rate("0.01"))
            .unwrap()
    });
    v.deposit(1, "1000");
    v.deposit(2, "1000");
    v.engine.deposit_insurance(money("50")).unwrap();
    v.trade(s, 1, 2, "100", "10");
    let fees_before = v.engine.fees_collected();
    for (a, side, liquidity) in [
        (1, Side::Sell, Liquidity::Taker),
        (2, Side::Buy, Liquidity::Maker),
    ] {
        v.engine
            .apply_fill(&Fill {
                symbol: s,
                account: AccountId(a),
                side,
                price: Price(100),
                qty: Qty(10),
                liquidity,
                liquidation: true,
            })
            .unwrap();
    }
    assert_eq!(v.engine.insurance_fund(), money("60"));
    assert_eq!(v.engine.fees_collected().0 - fees_before.0, money("0.2").0);
    assert!(v.conserved());
}

#[test]
fn bad_fills_change_nothing() {
    let mut v = Venue::new();
    let s = v.symbol("1", "1", 100, &[tier("0", "0.01")], MmBasis::Mark);
    v.deposit(1, "1000");
    let fill = Fill {
        symbol: s,
        account: AccountId(1),
        side: Side::Buy,
        price: Price(100),
        qty: Qty(0),
        liquidity: Liquidity::Taker,
        liquidation: false,
    };
    assert_eq!(v.engine.apply_fill(&fill), Err(FillError::InvalidFill));
    let huge = Fill {
        qty: Qty(i64::MAX),
        price: Price(i64::MAX),
        ..fill
    };
    assert_eq!(v.engine.apply_fill(&huge), Err(FillError::AmountTooLarge));
    let unknown = Fill {
        account: AccountId(5),
        qty: Qty(1),
        ..fill
    };
    assert_eq!(
        v.engine.apply_fill(&unknown),
        Err(FillError::UnknownAccount)
    );
    let unknown_symbol = Fill {
        symbol: SymbolId(3),
        qty: Qty(1),
        ..fill
    };
    assert_eq!(
        v.engine.apply_fill(&unknown_symbol),
        Err(FillError::UnknownSymbol)
    );
    assert_eq!(v.engine.collateral(AccountId(1)), Some(money("1000")));
    assert_eq!(
        v.engine
            .position_size(v.engine.index_of(AccountId(1)).unwrap(), s),
        Qty(0)
    );
}

#[test]
fn account_capacity_is_fixed() {
    let mut e = RiskEngine::new(RiskConfig {
        max_accounts: 2,
        max_symbols: 1,
    });
    e.deposit(AccountId(1), money("1")).unwrap();
    e.deposit(AccountId(2), money("1")).unwrap();
    e.deposit(AccountId(1), money("1")).unwrap();
    assert_eq!(
        e.deposit(AccountId(3), money("1")),
        Err(FundsError::AccountCapacity)
    );
    assert_eq!(
        e.deposit(AccountId(1), money("-1")),
        Err(FundsError::InvalidAmount)
    );
    assert_eq!(e.collateral(AccountId(1)), Some(money("2")));
}

#[test]
fn both_sides_of_a_trade_net_to_zero() {
    let mut v = Venue::new();
    let s = v.symbol("1", "1", 100, &[tier("0", "0.01")], MmBasis::Mark);
    v.deposit(1, "1000");
    v.deposit(2, "1000");
    let [maker, taker] = Fill::both_sides(
        s,
        Price(100),
        Qty(3),
        AccountId(1),
        AccountId(2),
        Side::Sell,
        false,
    );
    assert_eq!((maker.side, maker.liquidity), (Side::Buy, Liquidity::Maker));
    assert_eq!(
        (taker.side, taker.liquidity),
        (Side::Sell, Liquidity::Taker)
    );
    for fill in [maker, taker] {
        v.engine.apply_fill(&fill).unwrap();
    }
    let idx = |a| v.engine.index_of(AccountId(a)).unwrap();
    assert_eq!(v.engine.position_size(idx(1), s), Qty(3));
    assert_eq!(v.engine.position_size(idx(2), s), Qty(-3));
    assert_eq!(v.engine.total_size(s), 0);
}
