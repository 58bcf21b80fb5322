//! The liquidation engine allocates nothing after construction: mark updates that liquidate
//! nobody or some, fills and re-keys, settlement and ADL. (A counting global allocator, so
//! this file is its own test binary.)

use liqcore::risk::{
    BookToRisk, Fill, Leverage, LiquidationConfig, LiquidationEnd, LiquidationEngine, Liquidity,
    MarginMode, MarginTier, RiskConfig, RiskEngine, RiskOutput, RiskSink, SymbolRiskConfig,
};
use liqcore::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use rust_decimal::Decimal;

mod common;

use common::alloc::{CountingAllocator, start_counting, stop_counting};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// A fixed-capacity sink: never grows.
struct Fixed {
    out: Vec<RiskOutput>,
}

impl RiskSink for Fixed {
    fn emit(&mut self, out: RiskOutput) {
        if self.out.len() < self.out.capacity() {
            self.out.push(out);
        }
    }
}

#[test]
fn the_liquidation_engine_does_not_allocate() {
    const ACCOUNTS: u64 = 256;
    let mut risk = RiskEngine::new(RiskConfig {
        max_accounts: ACCOUNTS as usize + 1,
        max_symbols: 2,
    });
    for s in 0..2u32 {
        let spec = SymbolSpec::new(SymbolId(s), Decimal::ONE, Decimal::ONE).unwrap();
        let tiers = [MarginTier {
            floor: Money::ZERO,
            mmr: Rate(1_000_000),
            max_leverage: None,
        }];
        let config = SymbolRiskConfig::new(spec, Leverage::from_whole(100), &tiers)
            .unwrap()
            .with_liquidation_fee(Rate(1_000_000))
            .unwrap();
        risk.add_symbol(config).unwrap();
        risk.set_mark(SymbolId(s), Price(1_000)).unwrap();
    }
    let whale = AccountId(u64::MAX - 1);
    risk.deposit(whale, Money(1_000_000_000 * Money::UNIT))
        .unwrap();
    let fill = |account, symbol, side, qty| Fill {
        symbol: SymbolId(symbol),
        account,
        side,
        price: Price(1_000),
        qty: Qty(qty),
        liquidity: Liquidity::Maker,
        liquidation: false,
    };
    for a in 0..ACCOUNTS {
        // Leverage 5× .. 45×; a third isolated, a third cross in both symbols.
        let collateral = 10_000 * Money::UNIT / i128::from(5 + a % 41);
        risk.deposit(AccountId(a), Money(collateral * 2)).unwrap();
        if a % 3 == 1 {
            risk.set_leverage(
                AccountId(a),
                SymbolId(0),
                Leverage::from_whole(10),
                MarginMode::Isolated,
            )
            .unwrap();
        }
        let side = if a % 2 == 0 { Side::Buy } else { Side::Sell };
        risk.apply_fill(&fill(AccountId(a), 0, side, 10)).unwrap();
        risk.apply_fill(&fill(whale, 0, side.opposite(), 10))
            .unwrap();
        if a % 3 == 2 {
            risk.apply_fill(&fill(AccountId(a), 1, side, 10)).unwrap();
            risk.apply_fill(&fill(whale, 1, side.opposite(), 10))
                .unwrap();
        }
    }
    let mut e = LiquidationEngine::new(risk, LiquidationConfig::default());
    let mut sink = Fixed {
        out: Vec::with_capacity(1 << 16),
    };

    start_counting();
    // Marks that liquidate nobody.
    for i in 0..1_000i64 {
        let p = 999 + i % 3;
        e.on_mark(SymbolId(i as u32 % 2), Price(p), 0, &mut sink)
            .unwrap();
    }
    assert!(sink.out.is_empty());
    // Fills that re-key.
    for a in 0..ACCOUNTS {
        let side = if a % 2 == 0 { Side::Buy } else { Side::Sell };
        e.on_fill(&fill(AccountId(a), 0, side, 1), &mut sink)
            .unwrap();
        e.on_fill(&fill(whale, 0, side.opposite(), 1), &mut sink)
            .unwrap();
    }
    // A drop that liquidates longs; every order ends unfilled, so ADL closes them.
    let before = sink.out.len();
    e.on_mark(SymbolId(0), Price(930), 1, &mut sink).unwrap();
    let mut ended = 0;
    for i in before..sink.out.len() {
        if let RiskOutput::Order(order) = sink.out[i] {
            let end = LiquidationEnd {
                id: order.id,
                remaining: order.qty,
            };
            e.on_book(&BookToRisk::End(end), &mut sink).unwrap();
            ended += 1;
        }
    }
    let allocations = stop_counting();
    assert!(ended > 0, "the drop liquidated somebody");
    assert_eq!(e.flights_open(), 0);
    assert_eq!(allocations, 0, "the liquidation engine allocated");
}
