//! `compare -- mark`: the per-update cost of each mark-price method.
//!
//! One seeded input stream (book snapshots 60 %, trades 30 %, index ticks 8 %, external
//! reference 2 %; 0–20 ms between inputs; prices a random walk around 20,000.0 at tick 0.1) is
//! fed to one `MarkPrice` per method on a pinned thread. Each update is timed alone with
//! `quanta::Clock::raw()` before and after and recorded in an hdrhistogram; the cost of the
//! timing itself (two back-to-back `raw()` reads) is measured the same way and printed, not
//! subtracted. The closing `key=value` lines give the slowest method's p50 and p99.

use std::hint::black_box;

use hdrhistogram::Histogram;
use liqcore::mark::{BookTop, Funding, MarkConfig, MarkError, MarkPrice, MarkUpdate};
use liqcore::types::{Price, Qty, Rate};
use quanta::Clock;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const WARMUP: usize = 200_000;
const MEASURED: usize = 2_000_000;
const SEED: u64 = 0x6d61_726b;

/// One input of the benchmark stream.
#[derive(Clone, Copy, Debug)]
pub enum Input {
    /// An index tick.
    Index(Price),
    /// A book snapshot.
    Book(BookTop),
    /// A trade.
    Trade(Price, Qty),
    /// An external reference price.
    Reference(Price),
}

/// The seeded stream: `(timestamp ms, input)`, timestamps non-decreasing.
#[must_use]
pub fn stream(len: usize, seed: u64) -> Vec<(u64, Input)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut ts = 0u64;
    let mut index = 200_000i64;
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        ts += rng.random_range(0..=20u64);
        index = (index + rng.random_range(-3..=3i64)).clamp(150_000, 250_000);
        let basis = rng.random_range(-20..=20i64);
        let spread = rng.random_range(1..=10i64);
        let roll = rng.random_range(0..100u32);
        let input = if roll < 60 {
            let bid = index + basis - spread;
            let ask = index + basis + spread;
            Input::Book(BookTop {
                best_bid: Some(Price(bid)),
                best_ask: Some(Price(ask)),
                impact_bid: Some(Price(bid - 3 * spread)),
                impact_ask: Some(Price(ask + 3 * spread)),
            })
        } else if roll < 90 {
            let price = index + basis + rng.random_range(-10..=10i64);
            Input::Trade(Price(price), Qty(rng.random_range(1..=100i64)))
        } else if roll < 98 {
            Input::Index(Price(index))
        } else {
            Input::Reference(Price(index + rng.random_range(-5..=5i64)))
        };
        out.push((ts, input));
    }
    out
}

/// Feeds one input.
///
/// # Errors
///
/// The mark stage's rejection (the stream never triggers one).
#[inline]
pub fn apply(mark: &mut MarkPrice, ts: u64, input: Input) -> Result<Option<MarkUpdate>, MarkError> {
    match input {
        Input::Index(price) => mark.on_index(ts, price),
        Input::Book(top) => mark.on_book(ts, top),
        Input::Trade(price, qty) => mark.on_trade(ts, price, qty),
        Input::Reference(price) => mark.on_reference(ts, price),
    }
}

/// The methods measured, with their configs (defaults; a 5 % clamp on all of them so every
/// method pays for the clamp).
#[must_use]
pub fn methods() -> [(&'static str, MarkConfig); 4] {
    let band = Some(Rate(5_000_000));
    [
        ("last", MarkConfig::last().with_clamp(band)),
        ("mid", MarkConfig::mid().with_clamp(band)),
        ("median3", MarkConfig::median3()),
        ("ema_median", MarkConfig::ema_median()),
    ]
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000, 3).expect("static histogram bounds are valid")
}

struct Row {
    name: &'static str,
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
    mean: f64,
    updates_out: usize,
}

fn measure(name: &'static str, config: MarkConfig, inputs: &[(u64, Input)], clock: &Clock) -> Row {
    let mut mark = MarkPrice::new(config).expect("bench configs are valid");
    let mut hist = histogram();
    let mut updates_out = 0;
    // The stream's clock restarts each pass; offset it so time only moves forward.
    let span = inputs.last().map_or(0, |&(ts, _)| ts + 1);
    let funding = Funding {
        rate: Rate(10_000),
        next_funding_ms: 4 * 3_600_000,
        interval_ms: 8 * 3_600_000,
    };
    mark.on_funding(0, funding).expect("valid funding");
    for (pass, chunk) in [&inputs[..WARMUP], &inputs[WARMUP..]]
        .into_iter()
        .enumerate()
    {
        let offset = pass as u64 * span;
        for &(ts, input) in chunk {
            let start = clock.raw();
            let result = apply(&mut mark, ts + offset, input);
            let end = clock.raw();
            if let Ok(Some(update)) = black_box(result) {
                updates_out += usize::from(update.price_changed);
            }
            if pass == 1 {
                // Saturate a preempted outlier rather than fail the run.
                hist.saturating_record(clock.delta_as_nanos(start, end).max(1));
            }
        }
    }
    Row {
        name,
        p50: hist.value_at_quantile(0.50),
        p99: hist.value_at_quantile(0.99),
        p999: hist.value_at_quantile(0.999),
        max: hist.max(),
        mean: hist.mean(),
        updates_out,
    }
}

fn timer_overhead(clock: &Clock) -> (u64, u64) {
    let mut hist = histogram();
    for _ in 0..MEASURED {
        let start = clock.raw();
        let end = clock.raw();
        hist.saturating_record(clock.delta_as_nanos(start, end).max(1));
    }
    (hist.value_at_quantile(0.50), hist.value_at_quantile(0.99))
}

/// Runs the comparison and prints its table and `key=value` lines.
pub fn run() {
    if let Some(core) = core_affinity::get_core_ids().and_then(|ids| ids.last().copied()) {
        core_affinity::set_for_current(core);
    }
    let clock = Clock::new();
    let inputs = stream(WARMUP + MEASURED, SEED);
    let (overhead_p50, overhead_p99) = timer_overhead(&clock);
    let rows: Vec<Row> = methods()
        .into_iter()
        .map(|(name, config)| measure(name, config, &inputs, &clock))
        .collect();

    println!(
        "# {MEASURED} updates per method after {WARMUP} warm-up; each timed alone (quanta raw \
         TSC, timer overhead included: p50 {overhead_p50} ns, p99 {overhead_p99} ns)"
    );
    println!(
        "{:<12} {:>8} {:>8} {:>9} {:>9} {:>9} {:>12}",
        "method", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "mean ns", "mark changes"
    );
    for row in &rows {
        println!(
            "{:<12} {:>8} {:>8} {:>9} {:>9} {:>9.1} {:>12}",
            row.name, row.p50, row.p99, row.p999, row.max, row.mean, row.updates_out
        );
    }
    let slowest = rows
        .iter()
        .max_by_key(|row| (row.p99, row.p50))
        .expect("four methods");
    for row in &rows {
        println!("mark.{}.update_p50_ns={}", row.name, row.p50);
        println!("mark.{}.update_p99_ns={}", row.name, row.p99);
    }
    println!("mark.timer_overhead_p50_ns={overhead_p50}");
    println!("mark.slowest_method={}", slowest.name);
    println!("mark.update_p50_ns={}", slowest.p50);
    println!("mark.update_p99_ns={}", slowest.p99);
}
