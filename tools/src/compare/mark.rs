//! `compare -- mark`: the per-update cost of each mark-price method.
//!
//! One seeded input stream (book snapshots 60 %, trades 30 %, index ticks 8 %, external
//! reference 2 %; 0–20 ms between inputs; prices a random walk around 20,000.0 at tick 0.1) is
//! fed to one `MarkPrice` per method on a pinned thread. Each update is timed alone with
//! `quanta::Clock::raw()` before and after and recorded in an hdrhistogram; the cost of the
//! timing itself (two back-to-back `raw()` reads) is measured the same way and printed, not
//! subtracted. The methods run in interleaved rounds and each percentile is the median over
//! the rounds, so a burst of load on a shared machine does not decide a row. The closing
//! `key=value` lines give one p50/p99 pair per row, then the slowest row's
//! (`mark.update_p50_ns`, `mark.update_p99_ns`).

use std::hint::black_box;

use hdrhistogram::Histogram;
use liqcore::mark::{BookTop, Funding, MarkConfig, MarkError, MarkPrice, MarkUpdate};
use liqcore::types::{Price, Qty, Rate};
use quanta::Clock;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const WARMUP: usize = 200_000;
const MEASURED: usize = 2_000_000;
const ROUNDS: usize = 9;
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
    /// Time passes, nothing else.
    Clock,
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
        Input::Clock => mark.on_clock(ts),
    }
}

/// The methods measured, with their configs (defaults; a 5 % clamp on all of them so every
/// method pays for the clamp) and whether the external reference is fed. `ema_median_noref`
/// is `ema_median` without a reference: it then also rounds the local-median EMA (a second
/// quotient, cell-tested) on every update — its worst case.
#[must_use]
pub fn methods() -> [(&'static str, MarkConfig, bool); 5] {
    let band = Some(Rate(5_000_000));
    [
        ("last", MarkConfig::last().with_clamp(band), true),
        ("mid", MarkConfig::mid().with_clamp(band), true),
        ("median3", MarkConfig::median3(), true),
        ("ema_median", MarkConfig::ema_median(), true),
        ("ema_median_noref", MarkConfig::ema_median(), false),
    ]
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000, 3).expect("static histogram bounds are valid")
}

/// One method's state machine walking the input stream (cyclically, time shifted on wrap).
struct Runner {
    name: &'static str,
    mark: MarkPrice,
    with_reference: bool,
    next: usize,
    offset: u64,
    changes: usize,
    p50s: Vec<u64>,
    p99s: Vec<u64>,
    p999s: Vec<u64>,
    merged: Histogram<u64>,
    /// Per input kind (index, book, trade, reference, clock), all measured rounds.
    by_kind: [Histogram<u64>; 5],
}

impl Input {
    fn kind(self) -> usize {
        match self {
            Input::Index(_) => 0,
            Input::Book(_) => 1,
            Input::Trade(..) => 2,
            Input::Reference(_) => 3,
            Input::Clock => 4,
        }
    }
}

const KINDS: [&str; 5] = ["index", "book", "trade", "reference", "clock"];

impl Runner {
    fn new(name: &'static str, config: MarkConfig, with_reference: bool) -> Runner {
        let mut mark = MarkPrice::new(config).expect("bench configs are valid");
        let funding = Funding {
            rate: Rate(10_000),
            next_funding_ms: 4 * 3_600_000,
            interval_ms: 8 * 3_600_000,
        };
        mark.on_funding(0, funding).expect("valid funding");
        Runner {
            name,
            mark,
            with_reference,
            next: 0,
            offset: 0,
            changes: 0,
            p50s: Vec::new(),
            p99s: Vec::new(),
            p999s: Vec::new(),
            merged: histogram(),
            by_kind: std::array::from_fn(|_| histogram()),
        }
    }

    /// Feeds `count` inputs, timing each one into `hist` if given.
    fn feed(
        &mut self,
        inputs: &[(u64, Input)],
        count: usize,
        clock: &Clock,
        mut hist: Option<&mut Histogram<u64>>,
    ) {
        let span = inputs.last().map_or(0, |&(ts, _)| ts + 1);
        for _ in 0..count {
            let (ts, input) = inputs[self.next];
            self.next += 1;
            if self.next == inputs.len() {
                self.next = 0;
                self.offset += span;
            }
            // Without a reference feed, its slots become clock ticks (same timestamps).
            let input = match input {
                Input::Reference(_) if !self.with_reference => Input::Clock,
                other => other,
            };
            let start = clock.raw();
            let result = apply(&mut self.mark, ts + self.offset, input);
            let end = clock.raw();
            if let Ok(Some(update)) = black_box(result) {
                self.changes += usize::from(update.price_changed);
            }
            if let Some(hist) = hist.as_deref_mut() {
                // Saturate a preempted outlier rather than fail the run.
                let nanos = clock.delta_as_nanos(start, end).max(1);
                hist.saturating_record(nanos);
                self.by_kind[input.kind()].saturating_record(nanos);
            }
        }
    }

    fn round(&mut self, inputs: &[(u64, Input)], clock: &Clock) {
        let mut hist = histogram();
        self.feed(inputs, MEASURED / ROUNDS, clock, Some(&mut hist));
        self.p50s.push(hist.value_at_quantile(0.50));
        self.p99s.push(hist.value_at_quantile(0.99));
        self.p999s.push(hist.value_at_quantile(0.999));
        // Same bounds: adding cannot fail.
        let _ = self.merged.add(&hist);
    }
}

fn median(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

fn timer_overhead(clock: &Clock) -> (u64, u64) {
    let mut hist = histogram();
    for _ in 0..MEASURED / ROUNDS {
        let start = clock.raw();
        let end = clock.raw();
        hist.saturating_record(clock.delta_as_nanos(start, end).max(1));
    }
    (hist.value_at_quantile(0.50), hist.value_at_quantile(0.99))
}

/// Runs the comparison and prints its table and `key=value` lines.
///
/// `LIQCORE_MARK_ONLY=<name>` measures one row only (for profiling);
/// `LIQCORE_MARK_BY_INPUT=1` adds p50/p99 per input kind (where a tail comes from).
pub fn run() {
    if let Some(core) = core_affinity::get_core_ids().and_then(|ids| ids.last().copied()) {
        core_affinity::set_for_current(core);
    }
    let only = std::env::var("LIQCORE_MARK_ONLY").ok();
    let clock = Clock::new();
    let inputs = stream(WARMUP + MEASURED, SEED);
    let (overhead_p50, overhead_p99) = timer_overhead(&clock);
    let mut runners: Vec<Runner> = methods()
        .into_iter()
        .filter(|(name, _, _)| only.as_deref().is_none_or(|only| only == *name))
        .map(|(name, config, with_reference)| Runner::new(name, config, with_reference))
        .collect();
    for runner in &mut runners {
        runner.feed(&inputs, WARMUP, &clock, None);
    }
    // Rounds interleave the methods, so a burst of load on this shared machine hits them
    // alike; each statistic is the median over the rounds.
    for _ in 0..ROUNDS {
        for runner in &mut runners {
            runner.round(&inputs, &clock);
        }
    }

    println!(
        "# {MEASURED} updates per method ({ROUNDS} interleaved rounds, median of the rounds) \
         after {WARMUP} warm-up; each update timed alone (quanta raw TSC, timer overhead \
         included: p50 {overhead_p50} ns, p99 {overhead_p99} ns)"
    );
    println!(
        "{:<18} {:>7} {:>7} {:>9} {:>15} {:>9} {:>9} {:>12}",
        "method",
        "p50 ns",
        "p99 ns",
        "p99.9 ns",
        "p99 range ns",
        "max ns",
        "mean ns",
        "mark changes"
    );
    let mut rows = Vec::new();
    for runner in &runners {
        let (p50, p99, p999) = (
            median(&runner.p50s),
            median(&runner.p99s),
            median(&runner.p999s),
        );
        let low = runner.p99s.iter().min().copied().unwrap_or(0);
        let high = runner.p99s.iter().max().copied().unwrap_or(0);
        println!(
            "{:<18} {:>7} {:>7} {:>9} {:>15} {:>9} {:>9.1} {:>12}",
            runner.name,
            p50,
            p99,
            p999,
            format!("{low}..{high}"),
            runner.merged.max(),
            runner.merged.mean(),
            runner.changes
        );
        rows.push((runner.name, p50, p99));
    }
    if std::env::var_os("LIQCORE_MARK_BY_INPUT").is_some() {
        println!("# by input kind (all rounds merged): p50 / p99 ns (share of updates)");
        for runner in &runners {
            let total = runner.merged.len().max(1);
            let cells: Vec<String> = KINDS
                .iter()
                .zip(&runner.by_kind)
                .filter(|(_, hist)| !hist.is_empty())
                .map(|(kind, hist)| {
                    format!(
                        "{kind} {}/{} ({:.0} %)",
                        hist.value_at_quantile(0.5),
                        hist.value_at_quantile(0.99),
                        100.0 * hist.len() as f64 / total as f64
                    )
                })
                .collect();
            println!("{:<18} {}", runner.name, cells.join(", "));
        }
    }
    for &(name, p50, p99) in &rows {
        println!("mark.{name}.update_p50_ns={p50}");
        println!("mark.{name}.update_p99_ns={p99}");
    }
    println!("mark.timer_overhead_p50_ns={overhead_p50}");
    if let Some(&(name, p50, p99)) = rows.iter().max_by_key(|&&(_, p50, p99)| (p99, p50)) {
        println!("mark.slowest_method={name}");
        println!("mark.update_p50_ns={p50}");
        println!("mark.update_p99_ns={p99}");
    }
}
