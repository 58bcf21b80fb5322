//! No allocation per update: a counting global allocator sees zero allocations while every
//! mark method processes a long stream of inputs after construction.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use liqcore::mark::{BookTop, Funding, MarkConfig, MarkPrice};
use liqcore::types::{Price, Qty, Rate};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn updates_never_allocate() {
    for config in [
        MarkConfig::last(),
        MarkConfig::mid(),
        MarkConfig::median3(),
        MarkConfig::ema_median(),
    ] {
        let mut mark = MarkPrice::new(config).unwrap();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
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
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(after - before, 0, "{:?} allocated", config.method);
    }
}
