//! `compare -- book`: the exchange-core workload (DESIGN.md §8) through liqcore's [`Book`], the
//! naive [`ReferenceBook`] and OrderBook-rs, one after another in one pinned thread.
//!
//! For each book: throughput (a plain loop over the generated commands after the warm-up
//! commands on a fresh book; liqcore and the naive book alternate, best of `LIQCORE_BOOK_RUNS`
//! runs each, default 3; OrderBook-rs once), per-command
//! latency (quanta raw TSC read before and after each command, recorded into an
//! hdrhistogram; timer included) and whether the book ends in the same state (every level of
//! both sides) as the reference. liqcore's allocations are counted during its timed runs.
//! `LIQCORE_BOOK_COMMANDS` overrides the 3,000,000 commands for quick runs;
//! `LIQCORE_BOOK_ONLY=liqcore` runs liqcore's book alone (throughput, latency, an event-stream
//! digest and where the latency tail comes from; no peers, no ratios), for profilers
//! (`perf record`, callgrind) and quick before/after checks.

mod alloc;

use std::time::Instant;

use hdrhistogram::Histogram;
use liqcore::book::reference::ReferenceBook;
use liqcore::book::workload::{self, Workload, WorkloadConfig};
use liqcore::book::{Book, BookEvent, Command, DepthLevel, Matcher, TimeInForce};
use liqcore::types::Side;
use orderbook_rs::OrderBook;
use pricelevel::{Id, OrderUpdate};

type Levels = (Vec<(i64, i64)>, Vec<(i64, i64)>);

/// What one book did.
struct Measured {
    name: &'static str,
    ops_per_sec: f64,
    p50: u64,
    p99: u64,
    p999: u64,
    max: u64,
    end_state: Levels,
    note: String,
}

/// A book the comparison can drive.
trait Bench {
    fn name(&self) -> &'static str;
    fn apply(&mut self, command: &Command);
    fn levels(&self) -> Levels;
}

struct Ours<M: Matcher> {
    name: &'static str,
    book: M,
    events: Vec<BookEvent>,
}

impl<M: Matcher> Bench for Ours<M> {
    fn name(&self) -> &'static str {
        self.name
    }

    #[inline]
    fn apply(&mut self, command: &Command) {
        self.events.clear();
        self.book.apply(command, &mut self.events);
    }

    fn levels(&self) -> Levels {
        let mut out = vec![DepthLevel::default(); 1 << 16];
        let mut side = |side| {
            let n = self.book.depth(side, &mut out);
            out[..n].iter().map(|l| (l.price.0, l.qty.0)).collect()
        };
        let bids = side(Side::Buy);
        let asks = side(Side::Sell);
        (bids, asks)
    }
}

struct OrderBookRs {
    book: OrderBook<()>,
    /// Commands it answered with an error: GTC submits, cancels, modifies, IOC submits.
    errors: [u64; 4],
}

impl Bench for OrderBookRs {
    fn name(&self) -> &'static str {
        "OrderBook-rs 0.15"
    }

    #[inline]
    fn apply(&mut self, command: &Command) {
        let (kind, failed) = match *command {
            Command::Submit(ref order) => {
                let side = match order.side {
                    Side::Buy => pricelevel::Side::Buy,
                    Side::Sell => pricelevel::Side::Sell,
                };
                let tif = match order.tif {
                    TimeInForce::Gtc => pricelevel::TimeInForce::Gtc,
                    TimeInForce::Ioc => pricelevel::TimeInForce::Ioc,
                    TimeInForce::Fok => pricelevel::TimeInForce::Fok,
                };
                let result = self.book.add_limit_order(
                    Id::from_u64(order.id.0),
                    order.price.0 as u128,
                    order.qty.0 as u64,
                    side,
                    tif,
                    None,
                );
                (
                    if tif == pricelevel::TimeInForce::Gtc {
                        0
                    } else {
                        3
                    },
                    result.is_err(),
                )
            }
            Command::Cancel(id) => (1, self.book.cancel_order(Id::from_u64(id.0)).is_err()),
            Command::Modify { id, price, qty } => {
                let order_id = Id::from_u64(id.0);
                let update = match (price, qty) {
                    (Some(p), None) => OrderUpdate::UpdatePrice {
                        order_id,
                        new_price: pricelevel::Price::new(p.0 as u128),
                    },
                    (None, Some(q)) => OrderUpdate::UpdateQuantity {
                        order_id,
                        new_quantity: pricelevel::Quantity::new(q.0 as u64),
                    },
                    (Some(p), Some(q)) => OrderUpdate::UpdatePriceAndQuantity {
                        order_id,
                        new_price: pricelevel::Price::new(p.0 as u128),
                        new_quantity: pricelevel::Quantity::new(q.0 as u64),
                    },
                    (None, None) => return,
                };
                (2, self.book.update_order(update).is_err())
            }
            Command::Liquidation(_) | Command::Mark(_) => return,
        };
        self.errors[kind] += u64::from(failed);
    }

    fn levels(&self) -> Levels {
        match self.book.create_snapshot(usize::MAX) {
            Ok(snapshot) => {
                let convert = |levels: &[pricelevel::PriceLevelSnapshot]| {
                    levels
                        .iter()
                        .map(|l| {
                            (
                                l.price().as_u128() as i64,
                                l.visible_quantity().as_u64() as i64,
                            )
                        })
                        .collect::<Vec<_>>()
                };
                (convert(&snapshot.bids), convert(&snapshot.asks))
            }
            Err(_) => (Vec::new(), Vec::new()),
        }
    }
}

fn pin_to_a_core() -> String {
    match core_affinity::get_core_ids().and_then(|ids| ids.last().copied()) {
        Some(core) if core_affinity::set_for_current(core) => format!("pinned to core {}", core.id),
        _ => "not pinned".to_string(),
    }
}

/// One timed pass over the commands on a fresh book (after the warm-up commands): ops/s,
/// the allocations counted during it (if asked), and the book.
fn throughput<B: Bench>(
    make: &dyn Fn() -> B,
    load: &Workload,
    count_allocations: bool,
) -> (f64, u64, B) {
    let mut book = make();
    for command in &load.warmup {
        book.apply(command);
    }
    if count_allocations {
        alloc::start();
    }
    let started = Instant::now();
    for command in &load.commands {
        book.apply(command);
    }
    let elapsed = started.elapsed();
    let allocations = if count_allocations { alloc::stop() } else { 0 };
    (
        load.commands.len() as f64 / elapsed.as_secs_f64(),
        allocations,
        book,
    )
}

fn latency<B: Bench>(make: &dyn Fn() -> B, load: &Workload) -> Histogram<u64> {
    let clock = quanta::Clock::new();
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)
        .unwrap_or_else(|e| panic!("histogram bounds: {e}"));
    let mut book = make();
    for command in &load.warmup {
        book.apply(command);
    }
    for command in &load.commands {
        let start = clock.raw();
        book.apply(command);
        let end = clock.raw();
        histogram.saturating_record(clock.delta_as_nanos(start, end).max(1));
    }
    histogram
}

/// The latency pass and the end state of `book` (from a throughput pass).
fn measured<B: Bench>(
    make: &dyn Fn() -> B,
    load: &Workload,
    ops_per_sec: f64,
    book: &B,
) -> Measured {
    let histogram = latency(make, load);
    Measured {
        name: book.name(),
        ops_per_sec,
        p50: histogram.value_at_quantile(0.5),
        p99: histogram.value_at_quantile(0.99),
        p999: histogram.value_at_quantile(0.999),
        max: histogram.max(),
        end_state: book.levels(),
        note: String::new(),
    }
}

/// `LIQCORE_BOOK_ONLY=liqcore`: liqcore's book alone (for profilers and quick before/after
/// checks): best-of-`runs` throughput, the latency pass, a digest of the event stream, the
/// latency split by command kind and by trades per command, and the timer alone.
/// `LIQCORE_BOOK_SLOW=1` adds which commands exceed 200 ns in each of three latency passes (the
/// ones slow every time are the book's own; the rest is the machine).
fn profile_ours<M: Matcher>(make: &dyn Fn() -> Ours<M>, load: &Workload, runs: usize) {
    let mut best = 0.0f64;
    let mut allocations = 0;
    for _ in 0..runs.max(1) {
        let (ops, allocs, _) = throughput(make, load, true);
        best = best.max(ops);
        allocations += allocs;
    }
    let histogram = latency(make, load);
    let share = |ns: u64| 100.0 * histogram.count_between(0, ns) as f64 / histogram.len() as f64;
    println!(
        "# share of commands at or below 30 / 40 / 50 ns: {:.1} / {:.1} / {:.1} %",
        share(30),
        share(40),
        share(50)
    );
    println!("book.ops_per_sec={best:.0}");
    println!("book.events_digest={:016x}", events_digest(make, load));
    println!("book.p50_ns={}", histogram.value_at_quantile(0.5));
    println!("book.p99_ns={}", histogram.value_at_quantile(0.99));
    println!("book.p999_ns={}", histogram.value_at_quantile(0.999));
    println!("book.allocs_after_warmup={allocations}");
    latency_by_kind(make, load);
    timer_alone(load);
    if std::env::var("LIQCORE_BOOK_SLOW").is_ok() {
        repeatable_slow_commands(make, load);
    }
}

/// The floor: the latency loop and timer around no work at all.
fn timer_alone(load: &Workload) {
    let clock = quanta::Clock::new();
    let mut h = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)
        .unwrap_or_else(|e| panic!("histogram bounds: {e}"));
    for command in &load.commands {
        let start = clock.raw();
        std::hint::black_box(command);
        let end = clock.raw();
        h.saturating_record(clock.delta_as_nanos(start, end).max(1));
    }
    println!(
        "# timer alone: p50={} p99={} p99.9={} above 150 ns: {} above 200 ns: {}",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.len() - h.count_between(0, 150),
        h.len() - h.count_between(0, 200)
    );
}

/// Three latency passes: how many commands exceed 200 ns in each, how many in all three, and
/// the first of those.
fn repeatable_slow_commands<M: Matcher>(make: &dyn Fn() -> Ours<M>, load: &Workload) {
    let slow = || {
        let clock = quanta::Clock::new();
        let mut book = make();
        for command in &load.warmup {
            book.apply(command);
        }
        let mut out = std::collections::BTreeSet::new();
        for (i, command) in load.commands.iter().enumerate() {
            let start = clock.raw();
            book.apply(command);
            let end = clock.raw();
            if clock.delta_as_nanos(start, end) > 200 {
                out.insert(i);
            }
        }
        out
    };
    let (a, b, c) = (slow(), slow(), slow());
    let common: Vec<usize> = a
        .iter()
        .copied()
        .filter(|i| b.contains(i) && c.contains(i))
        .collect();
    println!(
        "# slower than 200 ns: {} / {} / {} commands; in all three passes: {}",
        a.len(),
        b.len(),
        c.len(),
        common.len()
    );
    for i in common.iter().take(20) {
        println!("# {i}: {:?}", load.commands[*i]);
    }
}

/// Per-command latency split by command kind and by whether it traded (profiling mode):
/// where the tail comes from.
fn latency_by_kind<M: Matcher>(make: &dyn Fn() -> Ours<M>, load: &Workload) {
    const KINDS: [&str; 6] = ["gtc", "ioc", "cancel", "reduce", "move", "other"];
    let clock = quanta::Clock::new();
    let new_histogram = || {
        Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)
            .unwrap_or_else(|e| panic!("histogram bounds: {e}"))
    };
    let mut histograms: Vec<[Histogram<u64>; 2]> = (0..KINDS.len())
        .map(|_| [new_histogram(), new_histogram()])
        .collect();
    let mut by_trades: Vec<Histogram<u64>> = (0..12).map(|_| new_histogram()).collect();
    let mut book = make();
    for command in &load.warmup {
        book.apply(command);
    }
    for command in &load.commands {
        let kind = match command {
            Command::Submit(o) if o.tif == TimeInForce::Gtc => 0,
            Command::Submit(_) => 1,
            Command::Cancel(_) => 2,
            Command::Modify { price: None, .. } => 3,
            Command::Modify { .. } => 4,
            _ => 5,
        };
        let start = clock.raw();
        book.apply(command);
        let end = clock.raw();
        let trades = book
            .events
            .iter()
            .filter(|e| matches!(e, BookEvent::Trade(_)))
            .count();
        let ns = clock.delta_as_nanos(start, end).max(1);
        histograms[kind][usize::from(trades > 0)].saturating_record(ns);
        if trades > 0 {
            let last = by_trades.len() - 1;
            by_trades[trades.min(last)].saturating_record(ns);
        }
    }
    for (trades, h) in by_trades.iter().enumerate().skip(1) {
        if !h.is_empty() {
            println!(
                "# {trades}{} trades: n={} p50={} p99={} p99.9={}",
                if trades == by_trades.len() - 1 {
                    "+"
                } else {
                    ""
                },
                h.len(),
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999)
            );
        }
    }
    for (name, pair) in KINDS.iter().zip(&histograms) {
        for (traded, h) in ["quiet", "traded"].iter().zip(pair) {
            if h.is_empty() {
                continue;
            }
            let above = |ns: u64| h.len() - h.count_between(0, ns);
            println!(
                "# {name} {traded}: n={} p50={} p99={} p99.9={} max={} above 150 ns: {}, above 200 ns: {}",
                h.len(),
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max(),
                above(150),
                above(200)
            );
        }
    }
}

/// A hash of every event `make`'s book writes for the workload (warm-up included): equal
/// digests mean identical event streams, to check that a change to the book kept its results.
fn events_digest<M: Matcher>(make: &dyn Fn() -> Ours<M>, load: &Workload) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    let mut book = make();
    for command in load.warmup.iter().chain(&load.commands) {
        book.apply(command);
        book.events.hash(&mut hasher);
    }
    hasher.finish()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the comparison and prints its table and `key=value` lines.
pub fn run() {
    let config = WorkloadConfig {
        commands: env_usize("LIQCORE_BOOK_COMMANDS", 3_000_000),
        ..WorkloadConfig::default()
    };
    let runs = env_usize("LIQCORE_BOOK_RUNS", 3);
    println!("# {}", pin_to_a_core());
    let generated = Instant::now();
    let load = workload::generate(&config);
    let (mut gtc, mut ioc, mut cancel, mut reduce, mut moves) = (0, 0, 0, 0, 0);
    for command in &load.commands {
        match command {
            Command::Submit(o) if o.tif == TimeInForce::Gtc => gtc += 1,
            Command::Submit(_) => ioc += 1,
            Command::Cancel(_) => cancel += 1,
            Command::Modify { price: None, .. } => reduce += 1,
            Command::Modify { .. } => moves += 1,
            _ => {}
        }
    }
    let share = |n: usize| 100.0 * n as f64 / load.commands.len().max(1) as f64;
    println!(
        "# workload: seed {}, {} warm-up + {} commands (GTC {:.1} %, IOC {:.1} %, cancel {:.1} %, \
         reduce {:.1} %, move {:.1} %), {} users, generated in {:.1} s",
        config.seed,
        load.warmup.len(),
        load.commands.len(),
        share(gtc),
        share(ioc),
        share(cancel),
        share(reduce),
        share(moves),
        config.users,
        generated.elapsed().as_secs_f64()
    );

    let spec = load.spec.clone();
    let capacity = load.capacity;
    let make_ours = || Ours {
        name: "liqcore Book",
        book: Book::new(spec.clone(), capacity),
        events: Vec::with_capacity(4096),
    };
    let make_naive = || Ours {
        name: "naive (BTreeMap+VecDeque+HashMap)",
        book: ReferenceBook::new(spec.clone(), capacity),
        events: Vec::with_capacity(4096),
    };
    let make_peer = || OrderBookRs {
        book: OrderBook::new("BOOK-PERP"),
        errors: [0; 4],
    };

    if std::env::var("LIQCORE_BOOK_ONLY").is_ok_and(|v| v == "liqcore") {
        profile_ours(&make_ours, &load, runs);
        return;
    }

    // liqcore and the naive book alternate, best of `runs` each, so that a burst of load from
    // elsewhere on the machine hits both rather than one.
    let (mut best_ours, mut best_naive, mut allocations) = (0.0f64, 0.0f64, 0u64);
    let mut ours_book = None;
    let mut naive_book = None;
    for _ in 0..runs.max(1) {
        let (ops, _, book) = throughput(&make_naive, &load, false);
        best_naive = best_naive.max(ops);
        naive_book = Some(book);
        let (ops, allocs, book) = throughput(&make_ours, &load, true);
        best_ours = best_ours.max(ops);
        allocations += allocs;
        ours_book = Some(book);
    }
    let (Some(ours_book), Some(naive_book)) = (ours_book, naive_book) else {
        return;
    };
    let naive = measured(&make_naive, &load, best_naive, &naive_book);
    let mut ours = measured(&make_ours, &load, best_ours, &ours_book);
    let (peer_ops, _, peer_book) = throughput(&make_peer, &load, false);
    let mut peer = measured(&make_peer, &load, peer_ops, &peer_book);
    let live_at_end = ours_book.book.len();
    peer.note = format!(
        "errors returned: {} GTC, {} IOC, {} cancels, {} modifies",
        peer_book.errors[0], peer_book.errors[3], peer_book.errors[1], peer_book.errors[2]
    );
    ours.note = format!(
        "{} live orders, {}+{} levels at the end",
        live_at_end,
        ours_book.book.level_count(Side::Buy),
        ours_book.book.level_count(Side::Sell)
    );

    let reference = naive.end_state.clone();
    println!();
    println!(
        "| book | ops/s | p50 ns | p99 ns | p99.9 ns | max ns | end state = reference | note |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |");
    for m in [&ours, &naive, &peer] {
        println!(
            "| {} | {:.2} M | {} | {} | {} | {} | {} | {} |",
            m.name,
            m.ops_per_sec / 1e6,
            m.p50,
            m.p99,
            m.p999,
            m.max,
            m.end_state == reference,
            m.note
        );
    }
    let memory = ours_book.book.memory_bytes();
    println!(
        "# liqcore memory: {} B preallocated for capacity {} ({} B per capacity slot; order slot {} B)",
        memory,
        capacity,
        memory / capacity.max(1),
        Book::order_slot_bytes()
    );
    println!("# latency: quanta raw TSC around each command (timer included)");
    println!();
    println!("book.ops_per_sec={:.0}", ours.ops_per_sec);
    println!(
        "book.ratio_vs_naive={:.2}",
        ours.ops_per_sec / naive.ops_per_sec
    );
    println!(
        "book.ratio_vs_orderbook_rs={:.2}",
        ours.ops_per_sec / peer.ops_per_sec
    );
    println!("book.p50_ns={}", ours.p50);
    println!("book.p99_ns={}", ours.p99);
    println!("book.p999_ns={}", ours.p999);
    println!("book.allocs_after_warmup={allocations}");
    println!("book.bytes_per_order={}", Book::order_slot_bytes());
    println!("book.naive_ops_per_sec={:.0}", naive.ops_per_sec);
    println!("book.orderbook_rs_ops_per_sec={:.0}", peer.ops_per_sec);
    println!(
        "book.state_matches_reference={}",
        ours.end_state == reference
    );
    println!(
        "book.orderbook_rs_state_matches_reference={}",
        peer.end_state == reference
    );
}
