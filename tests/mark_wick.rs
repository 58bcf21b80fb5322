//! The flash-wick scenario: a thin book where one large sell sweeps the bids and drops the last
//! trade 10 % for one second while the index stays put. `last` (and `mid`) move the mark with
//! the wick; `median3` and `ema_median` move it by far less than the clamp band.

use liqcore::mark::{BookTop, MarkConfig, MarkPrice};
use liqcore::types::{Price, Qty, Rate};

/// Tick 0.1: an index of 20,000.0 is 200,000 ticks.
const INDEX: i64 = 200_000;
/// Thin book: one dollar (10 ticks) either side of the index.
const BID: i64 = INDEX - 10;
const ASK: i64 = INDEX + 10;
/// The sweep leaves the last trade (and the best bid) 10 % lower.
const WICK: i64 = INDEX - INDEX / 10;
/// Warm-up of 40 minutes: every smoothing has full history before the wick.
const WICK_AT_MS: u64 = 40 * 60_000 + 30_500;
const WICK_MS: u64 = 1_000;
const END_MS: u64 = WICK_AT_MS + 10 * 60_000;
const BAND: Rate = Rate(5_000_000); // 5 %

fn top(bid: i64, ask: i64) -> BookTop {
    BookTop {
        best_bid: Some(Price(bid)),
        best_ask: Some(Price(ask)),
        impact_bid: None,
        impact_ask: None,
    }
}

/// Runs the scenario: index ticks every second, book snapshots every 100 ms, a small trade at
/// the touch every 500 ms; at `WICK_AT_MS` a sell of 50 lots sweeps the bids down to `WICK`
/// (trades at every level the thin book had, the last at `WICK`), the bid side stays at `WICK`
/// for one second, then refills and trading resumes at the old prices.
///
/// Returns `(mark before the wick, largest |mark − that| after it)` in ticks.
fn run(config: MarkConfig) -> (i64, i64) {
    let mut mark = MarkPrice::new(config).unwrap();
    let mut before = None;
    let mut worst = 0i64;
    let mut t = 0u64;
    while t <= END_MS {
        let in_wick = (WICK_AT_MS..WICK_AT_MS + WICK_MS).contains(&t);
        if t.is_multiple_of(1_000) {
            mark.on_index(t, Price(INDEX)).unwrap();
        }
        if t == WICK_AT_MS {
            for price in [BID, INDEX - 2_000, INDEX - 10_000, WICK] {
                mark.on_trade(t, Price(price), Qty(50)).unwrap();
            }
        }
        let book = if in_wick {
            top(WICK, ASK)
        } else {
            top(BID, ASK)
        };
        mark.on_book(t, book).unwrap();
        if t.is_multiple_of(500) && !in_wick {
            let price = if (t / 500).is_multiple_of(2) {
                BID
            } else {
                ASK
            };
            mark.on_trade(t, Price(price), Qty(1)).unwrap();
        }
        let now = mark.mark().expect("a mark once inputs flow").0;
        if t + 100 == WICK_AT_MS {
            before = Some(now);
        }
        if let Some(before) = before
            && t >= WICK_AT_MS
        {
            worst = worst.max((now - before).abs());
        }
        t += 100;
    }
    (before.unwrap(), worst)
}

fn pct(ticks: i64, of: i64) -> f64 {
    100.0 * ticks as f64 / of as f64
}

#[test]
fn flash_wick_moves_last_but_not_the_smoothed_marks() {
    let band_ticks = INDEX * BAND.0 / Rate::ONE.0;
    let (last_before, last_move) = run(MarkConfig::last());
    let (_, mid_move) = run(MarkConfig::mid());
    let (m3_before, m3_move) = run(MarkConfig::median3().with_clamp(Some(BAND)));
    let (ema_before, ema_move) = run(MarkConfig::ema_median().with_clamp(Some(BAND)));
    let report = format!(
        "10 % wick for {WICK_MS} ms, band ±{band_ticks} ticks ({:.2} %): \
         last moved {last_move} ticks ({:.3} %), mid {mid_move} ({:.3} %), \
         median3 {m3_move} ({:.4} %), ema_median {ema_move} ({:.4} %)",
        pct(band_ticks, INDEX),
        pct(last_move, INDEX),
        pct(mid_move, INDEX),
        pct(m3_move, INDEX),
        pct(ema_move, INDEX),
    );
    println!("{report}");
    assert!(
        (last_before - INDEX).abs() <= 10 && (m3_before - INDEX).abs() <= 10,
        "marks start at the index: {report}"
    );
    assert!((ema_before - INDEX).abs() <= 10, "{report}");
    // last follows the wick all the way: ~10 % (from the touch price to the wick).
    assert!(
        last_move >= INDEX / 10 - 10,
        "last must show the wick: {report}"
    );
    assert!(
        mid_move >= INDEX / 20 - 10,
        "mid moves by half the sweep: {report}"
    );
    assert!(
        m3_move < band_ticks,
        "median3 must stay well inside the band: {report}"
    );
    assert!(
        ema_move < band_ticks,
        "ema_median must stay well inside the band: {report}"
    );
    // Not merely clamped: damped to a small fraction of the band (ema_median with no external
    // reference follows the 30 s EMA of the local median: about 1/30 of a 1 s wick).
    assert!(
        m3_move * 10 < band_ticks && ema_move * 10 < band_ticks,
        "the damping, not the clamp, must hold the mark: {report}"
    );
}
