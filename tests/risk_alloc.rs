//! The hot paths of the margin accounts allocate nothing after warm-up: applying fills,
//! pre-trade checks, open-order bookkeeping, marks and the per-position queries the
//! liquidation scanner uses. (A counting global allocator, so this file is its own test binary.)

use liqcore::risk::{
    Fill, Leverage, Liquidity, MarginMode, MarginTier, OrderRequest, RiskConfig, RiskEngine,
    SymbolRiskConfig,
};
use liqcore::types::{AccountId, Money, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use rust_decimal::Decimal;

mod common;

use common::alloc::{CountingAllocator, start_counting, stop_counting};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn hot_paths_do_not_allocate() {
    const ACCOUNTS: u64 = 256;
    let mut e = RiskEngine::new(RiskConfig {
        max_accounts: ACCOUNTS as usize,
        max_symbols: 2,
    });
    for s in 0..2u32 {
        let spec = SymbolSpec::new(SymbolId(s), Decimal::new(1, 1), Decimal::new(1, 3)).unwrap();
        let tiers = [
            MarginTier {
                floor: Money::ZERO,
                mmr: Rate(500_000),
                max_leverage: None,
            },
            MarginTier {
                floor: Money(50_000 * Money::UNIT),
                mmr: Rate(1_000_000),
                max_leverage: None,
            },
        ];
        let config = SymbolRiskConfig::new(spec, Leverage::from_whole(100), &tiers)
            .unwrap()
            .with_fees(Rate(-10_000), Rate(50_000))
            .unwrap();
        e.add_symbol(config).unwrap();
    }
    // Warm-up: every account created and configured before counting starts.
    for a in 0..ACCOUNTS {
        e.deposit(AccountId(a), Money(1_000_000 * Money::UNIT))
            .unwrap();
        let mode = if a % 2 == 0 {
            MarginMode::Cross
        } else {
            MarginMode::Isolated
        };
        e.set_leverage(AccountId(a), SymbolId(0), Leverage::from_whole(20), mode)
            .unwrap();
    }
    e.set_mark(SymbolId(0), Price(200_000)).unwrap();
    e.set_mark(SymbolId(1), Price(200_000)).unwrap();

    start_counting();
    let mut checks = 0u64;
    for i in 0..20_000u64 {
        let sym = SymbolId((i % 2) as u32);
        let buyer = AccountId(i % ACCOUNTS);
        let seller = AccountId((i * 7 + 3) % ACCOUNTS);
        let price = Price(195_000 + (i % 10_000) as i64);
        let qty = Qty(1 + (i % 500) as i64);
        let req = OrderRequest {
            account: buyer,
            symbol: sym,
            side: Side::Buy,
            qty,
            limit_price: Some(price),
            reduce_only: i % 5 == 0,
        };
        if let Ok(approved) = e.check_order(&req) {
            checks += 1;
            if approved.reserved {
                e.release_open(buyer, sym, Side::Buy, approved.qty);
            }
        }
        for (account, side, liquidity) in [
            (buyer, Side::Buy, Liquidity::Taker),
            (seller, Side::Sell, Liquidity::Maker),
        ] {
            e.apply_fill(&Fill {
                symbol: sym,
                account,
                side,
                price,
                qty,
                liquidity,
                liquidation: false,
            })
            .unwrap();
        }
        if i % 100 == 0 {
            e.set_mark(sym, price).unwrap();
        }
        let idx = e.index_of(buyer).unwrap();
        let _ = e.liquidation_price(idx, sym);
        let _ = e.bankruptcy_price(idx, sym);
        let _ = e.is_liquidatable(idx, sym);
        let _ = e.available_margin(idx);
        let _ = e.position_view(buyer, sym);
    }
    let allocations = stop_counting();
    assert!(checks > 0);
    assert_eq!(
        allocations, 0,
        "the hot paths allocated {allocations} times"
    );
}
