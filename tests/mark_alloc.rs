//! No allocation per update: a counting global allocator sees zero allocations while every
//! mark method processes a long stream of inputs after construction.

use liqcore::mark::{BookTop, Funding, MarkConfig, MarkPrice};
use liqcore::types::{Price, Qty, Rate};

mod common;

use common::alloc::{CountingAllocator, start_counting, stop_counting};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn updates_never_allocate() {
    for config in [
        MarkConfig::last(),
        MarkConfig::mid(),
        MarkConfig::median3(),
        MarkConfig::ema_median(),
    ] {
        let mut mark = MarkPrice::new(config).unwrap();
        start_counting();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut ts = 0u64;
        for step in 0..50_000u64 {
            // xorshift: a cheap deterministic walk, no allocation.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ts += state % 300;
            let price = 100_000 + (state % 2_000) as i64;
            let result = match step % 5 {
                0 => mark.on_index(ts, Price(price)),
                1 | 2 => mark.on_book(
                    ts,
                    BookTop {
                        best_bid: Some(Price(price - 3)),
                        best_ask: Some(Price(price + 3)),
                        impact_bid: Some(Price(price - 9)),
                        impact_ask: Some(Price(price + 9)),
                    },
                ),
                3 => mark.on_trade(ts, Price(price), Qty(1 + (state % 7) as i64)),
                _ if step % 1_000 == 4 => mark.on_funding(
                    ts,
                    Funding {
                        rate: Rate(10_000),
                        next_funding_ms: ts + 600_000,
                        interval_ms: 28_800_000,
                    },
                ),
                _ => mark.on_reference(ts, Price(price + 1)),
            };
            assert!(result.is_ok());
        }
        // A long quiet period (whole windows at once) does not allocate either.
        assert!(mark.on_clock(ts + 10_000_000).is_ok());
        let allocations = stop_counting();
        assert_eq!(allocations, 0, "{:?} allocated", config.method);
    }
}
