//! `compare -- e2e`: the whole pipeline (risk checks → book → mark → liquidation scan) under
//! the exchange-core workload plus index ticks that liquidate leveraged accounts.
//!
//! 1. **`Layout::Single` throughput**: every stage on one thread, commands sent in batches of a
//!    ring, risk checks on. Beside it, the bare `Book` on the same commands (what the risk and
//!    mark stages and the rings cost).
//! 2. **Open loop, `Layout::Pinned`**, at fixed offered rates: command `i` is *planned* at
//!    `t0 + i / rate`; the host sends it when its time comes (or as soon after as the ring
//!    allows) and the latency of a new order is measured from its **planned** time to the
//!    moment the host receives its first execution report (accepted or rejected) — so a stalled
//!    pipeline shows up as latency, not as a lower send rate (no coordinated omission). The
//!    engine's own histograms give the stage times and mark published → liquidation order
//!    accepted. A fresh engine per rate; rates stop after the first that saturates.
//!
//! The runner chooses the layout from the cores it has and prints it. exchange-core's
//! published single-symbol numbers stand beside the table (Java, LMAX disruptor, no
//! liquidation). `LIQCORE_E2E_COMMANDS` overrides the 1,000,000 measured commands.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use liqcore::book::workload::{self, WorkloadConfig};
use liqcore::book::{Book, BookEvent, Command as BookCommand, OrderCommand, TimeInForce};
use liqcore::engine::{
    Command, Engine, EngineBuilder, Event, Layout, Market, MarketInput, Report, Subject,
};
use liqcore::mark::MarkConfig;
use liqcore::risk::{Leverage, LiquidationEvent, MarginTier, SymbolRiskConfig};
use liqcore::types::{AccountId, Money, OrderId, Price, Rate, Side, SymbolId};
use quanta::Clock;

use crate::machine;

const SYMBOL: SymbolId = SymbolId(0);
/// Leveraged long accounts opened before the workload; index dips liquidate them.
const VICTIMS: u64 = 2_000;
const VICTIM_BASE: u64 = 10_000_000;
/// Order ids for the set-up orders, far above the workload's.
const SETUP_ID_BASE: u64 = 1 << 40;
/// An index tick every this many commands; every `DIP_EVERY` ticks a dip of 3 % for `DIP_LEN`.
const INDEX_EVERY: usize = 500;
const DIP_EVERY: usize = 40;
const DIP_LEN: usize = 4;

fn market() -> Market {
    let spec = workload::spec();
    let tiers = [MarginTier {
        floor: Money::ZERO,
        mmr: Rate(500_000),
        max_leverage: None,
    }];
    let risk = SymbolRiskConfig::new(spec.clone(), Leverage::from_whole(100), &tiers)
        .unwrap()
        .with_liquidation_fee(Rate(500_000))
        .unwrap();
    Market::new(spec, risk, MarkConfig::median3())
}

fn quote(x: i128) -> Money {
    Money(x * Money::UNIT)
}

/// One engine input.
#[derive(Clone, Copy)]
enum Input {
    Command(Command),
    Index(Price),
}

/// Deposits, the victims' positions (bought from a seeding account at the start price), the
/// workload's warm-up: everything before the measured commands.
fn setup(users: u64, start_price: i64, warmup: &[BookCommand]) -> Vec<Input> {
    let mut out = vec![Input::Command(Command::Insurance {
        amount: quote(10_000_000),
    })];
    for account in 0..users {
        out.push(Input::Command(Command::Deposit {
            account: AccountId(account),
            amount: quote(1_000_000_000),
        }));
    }
    let seeder = AccountId(VICTIM_BASE - 1);
    out.push(Input::Command(Command::Deposit {
        account: seeder,
        amount: quote(1_000_000_000),
    }));
    out.push(Input::Index(Price(start_price)));
    for v in 0..VICTIMS {
        let account = AccountId(VICTIM_BASE + v);
        // 0.05 BTC (500 quote) at 100×: 5 initial, 2.5 maintenance; 8 deposited, so a fall of
        // about 1.1 % liquidates.
        out.push(Input::Command(Command::Deposit {
            account,
            amount: quote(8),
        }));
        out.push(Input::Command(Command::Leverage {
            account,
            symbol: SYMBOL,
            leverage: Leverage::from_whole(100),
            mode: liqcore::risk::MarginMode::Cross,
        }));
        let id = SETUP_ID_BASE + 2 * v;
        out.push(Input::Command(Command::Order {
            symbol: SYMBOL,
            order: OrderCommand::limit(id, seeder.0, Side::Sell, start_price, 50),
        }));
        let mut buy = OrderCommand::limit(id + 1, account.0, Side::Buy, start_price, 50);
        buy.tif = TimeInForce::Ioc;
        out.push(Input::Command(Command::Order {
            symbol: SYMBOL,
            order: buy,
        }));
    }
    out.extend(
        warmup
            .iter()
            .filter_map(|c| to_command(c).map(Input::Command)),
    );
    out
}

fn to_command(command: &BookCommand) -> Option<Command> {
    Some(match *command {
        BookCommand::Submit(order) | BookCommand::Liquidation(order) => Command::Order {
            symbol: SYMBOL,
            order,
        },
        BookCommand::Cancel(id) => Command::Cancel { id },
        BookCommand::Modify { id, price, qty } => Command::Modify { id, price, qty },
        BookCommand::Mark(_) => return None,
    })
}

/// The measured inputs: the workload's commands with index ticks spliced in. The index follows
/// the last trade the host saw; every `DIP_EVERY`-th tick starts a 3 % dip.
struct Feed {
    tick: usize,
    last_trade: i64,
}

impl Feed {
    fn index(&mut self) -> Price {
        self.tick += 1;
        let dip = self.tick % DIP_EVERY < DIP_LEN;
        Price(if dip {
            self.last_trade * 97 / 100
        } else {
            self.last_trade
        })
    }
}

/// Sends one input, copied straight from the host's buffer (by reference: a copy of a value
/// just built on the stack would stall on its own stores).
fn send(engine: &mut Engine, ts: u64, input: &Input) -> bool {
    match *input {
        Input::Command(c) => engine.send(ts, c).is_ok(),
        Input::Index(p) => engine
            .feed(
                ts,
                MarketInput::Index {
                    symbol: SYMBOL,
                    price: p,
                },
            )
            .is_ok(),
    }
}

/// What the host learns from an event: a trade price, a liquidation.
fn observe(event: &Event, feed: &mut Feed, liquidations: &mut u64) {
    match event {
        Event::Book {
            event: BookEvent::Trade(t),
            ..
        } => feed.last_trade = t.price.0,
        Event::Risk(LiquidationEvent::Liquidation { .. }) => *liquidations += 1,
        _ => {}
    }
}

fn build(layout: Layout, latency: bool, capacity: usize) -> Engine {
    EngineBuilder::new()
        .market(market())
        .accounts((VICTIM_BASE as usize).min(4096) + VICTIMS as usize)
        .book_capacity(capacity + 2 * VICTIMS as usize)
        .max_orders(capacity + 2 * VICTIMS as usize)
        .layout(layout)
        .latency(latency)
        .start()
        .expect("a valid engine")
}

/// Sends every input, letting a `Layout::Single` engine work whenever the ring fills.
fn pump(engine: &mut Engine, inputs: &[Input], feed: &mut Feed, liquidations: &mut u64) {
    for (i, input) in inputs.iter().enumerate() {
        while !send(engine, i as u64, input) {
            if !engine.run_until_idle() {
                std::thread::yield_now();
            }
            while let Some(e) = engine.try_recv() {
                observe(&e, feed, liquidations);
            }
        }
    }
    engine.run_until_idle();
    while let Some(e) = engine.try_recv() {
        observe(&e, feed, liquidations);
    }
}

fn measured_inputs(commands: &[BookCommand], feed: &mut Feed) -> Vec<Input> {
    let mut out = Vec::with_capacity(commands.len() + commands.len() / INDEX_EVERY + 1);
    for (i, c) in commands.iter().enumerate() {
        if i.is_multiple_of(INDEX_EVERY) {
            out.push(Input::Index(feed.index()));
        }
        if let Some(c) = to_command(c) {
            out.push(Input::Command(c));
        }
    }
    out
}

/// A fresh engine after the set-up and the workload's warm-up, and the host's view so far.
fn prepare(
    layout: Layout,
    latency: bool,
    load: &workload::Workload,
    start_price: i64,
) -> (Engine, Feed, u64) {
    let users = WorkloadConfig::default().users;
    let mut feed = Feed {
        tick: 0,
        last_trade: start_price,
    };
    let mut liquidations = 0;
    let mut engine = build(layout, latency, load.capacity);
    pump(
        &mut engine,
        &setup(users, start_price, &load.warmup),
        &mut feed,
        &mut liquidations,
    );
    (engine, feed, liquidations)
}

struct Single {
    ops_per_sec: f64,
    book_ops_per_sec: f64,
    liquidations: u64,
}

fn single(load: &workload::Workload, start_price: i64) -> Single {
    let (mut engine, mut feed, mut liquidations) =
        prepare(Layout::Single, false, load, start_price);
    // The index sits at the last trade seen after the warm-up, with its periodic dips.
    let inputs = measured_inputs(&load.commands, &mut feed);
    let mut events = 0u64;
    let started = Instant::now();
    for (i, input) in inputs.iter().enumerate() {
        while !send(&mut engine, i as u64, input) {
            engine.run_until_idle();
            while let Some(e) = engine.try_recv() {
                events += 1;
                if let Event::Risk(LiquidationEvent::Liquidation { .. }) = e {
                    liquidations += 1;
                }
            }
        }
    }
    engine.run_until_idle();
    while let Some(e) = engine.try_recv() {
        events += 1;
        if let Event::Risk(LiquidationEvent::Liquidation { .. }) = e {
            liquidations += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    std::hint::black_box(events);
    let _ = engine.shutdown();

    let mut book = Book::new(load.spec.clone(), load.capacity);
    let mut sink = Vec::with_capacity(4096);
    for c in &load.warmup {
        sink.clear();
        book.apply(c, &mut sink);
    }
    let started = Instant::now();
    for c in &load.commands {
        sink.clear();
        book.apply(c, &mut sink);
    }
    let book_elapsed = started.elapsed().as_secs_f64();
    Single {
        ops_per_sec: inputs.len() as f64 / elapsed,
        book_ops_per_sec: load.commands.len() as f64 / book_elapsed,
        liquidations,
    }
}

struct RateRun {
    offered: f64,
    achieved: f64,
    histogram: Histogram<u64>,
    unanswered: usize,
    liquidations: u64,
    report: Report,
}

fn open_loop(load: &workload::Workload, start_price: i64, rate: f64, count: usize) -> RateRun {
    let (mut engine, mut feed, mut liquidations) = prepare(Layout::Pinned, true, load, start_price);
    // Let the warm-up drain through the threads.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_millis(200) {
        while let Some(e) = engine.try_recv() {
            observe(&e, &mut feed, &mut liquidations);
        }
        std::thread::yield_now();
    }
    liquidations = 0;
    let commands = &load.commands[..count.min(load.commands.len())];
    let clock = Clock::new();
    let mut answers = Answers {
        slot: HashMap::with_capacity(commands.len()),
        planned: Vec::with_capacity(commands.len()),
        answered: Vec::with_capacity(commands.len()),
        histogram: Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap(),
        unanswered: 0,
        t0: clock.raw(),
    };
    let t0 = answers.t0;
    let interval = 1e9 / rate;
    let mut sent = 0usize;
    let mut ticks = 0usize;
    while sent < commands.len() {
        let elapsed = clock.delta_as_nanos(t0, clock.raw()) as f64;
        while sent < commands.len() && (sent as f64) * interval <= elapsed {
            // Planned send time, ns after t0.
            let planned_at = (sent as f64 * interval) as u64;
            if sent.is_multiple_of(INDEX_EVERY) && ticks <= sent / INDEX_EVERY {
                let p = feed.index();
                if engine
                    .feed(
                        sent as u64,
                        MarketInput::Index {
                            symbol: SYMBOL,
                            price: p,
                        },
                    )
                    .is_err()
                {
                    break;
                }
                ticks += 1;
            }
            let Some(command) = to_command(&commands[sent]) else {
                sent += 1;
                continue;
            };
            if engine.send(sent as u64, command).is_err() {
                break;
            }
            if let Command::Order { order, .. } = command {
                answers.expect(order.id.0, planned_at);
            }
            sent += 1;
        }
        answers.receive(&mut engine, &clock, &mut feed, &mut liquidations);
    }
    let finished = clock.raw();
    let wait = Instant::now();
    while answers.unanswered > 0 && wait.elapsed() < Duration::from_secs(5) {
        answers.receive(&mut engine, &clock, &mut feed, &mut liquidations);
        std::thread::yield_now();
    }
    let report = engine.shutdown();
    for e in &report.events {
        if let Event::Risk(LiquidationEvent::Liquidation { .. }) = e {
            liquidations += 1;
        }
    }
    let seconds = clock.delta_as_nanos(t0, finished) as f64 / 1e9;
    RateRun {
        offered: rate,
        achieved: sent as f64 / seconds.max(1e-9),
        histogram: answers.histogram,
        unanswered: answers.unanswered,
        liquidations,
        report,
    }
}

/// New orders waiting for their first execution report, and the latencies of those answered.
struct Answers {
    /// Order id → index into `planned`.
    slot: HashMap<u64, usize>,
    /// Planned send times, ns after `t0`.
    planned: Vec<u64>,
    answered: Vec<bool>,
    histogram: Histogram<u64>,
    unanswered: usize,
    t0: u64,
}

impl Answers {
    fn expect(&mut self, id: u64, planned_at: u64) {
        self.slot.insert(id, self.planned.len());
        self.planned.push(planned_at);
        self.answered.push(false);
        self.unanswered += 1;
    }

    /// Takes every event ready; a new order's first report records planned → now.
    fn receive(
        &mut self,
        engine: &mut Engine,
        clock: &Clock,
        feed: &mut Feed,
        liquidations: &mut u64,
    ) {
        let mut now = None;
        while let Some(e) = engine.try_recv() {
            observe(&e, feed, liquidations);
            let id = match e {
                Event::Book {
                    event: BookEvent::Accepted { id } | BookEvent::Rejected { id, .. },
                    ..
                } => id,
                Event::Rejected {
                    subject: Subject::Order(id),
                    ..
                } => id,
                _ => continue,
            };
            let OrderId(id) = id;
            if let Some(&k) = self.slot.get(&id)
                && !self.answered[k]
            {
                self.answered[k] = true;
                self.unanswered -= 1;
                let at = *now.get_or_insert_with(|| clock.delta_as_nanos(self.t0, clock.raw()));
                self.histogram
                    .saturating_record(at.saturating_sub(self.planned[k]).max(1));
            }
        }
    }
}

fn p(h: &Histogram<u64>, q: f64) -> u64 {
    if h.is_empty() {
        0
    } else {
        h.value_at_quantile(q)
    }
}

/// Runs the comparison and prints the table and the key=value lines.
pub fn run() {
    let commands: usize = std::env::var("LIQCORE_E2E_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let config = WorkloadConfig {
        commands,
        ..WorkloadConfig::default()
    };
    let load = workload::generate(&config);
    let start_price = config.start_price;

    let single = single(&load, start_price);
    println!(
        "\n## Layout::Single (one thread; risk checks, book, mark, liquidation scan), {} commands + index ticks",
        load.commands.len()
    );
    println!("| pipeline | ops/s | bare Book ops/s | pipeline / bare book | liquidations |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!(
        "| liqcore Single | {:.0} | {:.0} | {:.2} | {} |",
        single.ops_per_sec,
        single.book_ops_per_sec,
        single.ops_per_sec / single.book_ops_per_sec,
        single.liquidations
    );

    if std::env::var("LIQCORE_E2E_ONLY").is_ok_and(|v| v == "single") {
        println!("single.ops_per_sec={:.0}", single.ops_per_sec);
        return;
    }
    let plan = build(Layout::Pinned, false, 1024).shutdown_plan();
    println!(
        "\n## Layout::Pinned, open loop (latency from the planned send time to the first execution report)"
    );
    println!("runner: {plan}");
    println!(
        "| offered ops/s | achieved ops/s | p50 ns | p99 ns | p99.99 ns | max ns | unanswered | liquidations | mark→liq accepted p99 ns |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let rates = [
        50_000.0,
        100_000.0,
        250_000.0,
        500_000.0,
        1_000_000.0,
        2_000_000.0,
    ];
    let mut best: Option<RateRun> = None;
    let mut liq_p99 = 0;
    for rate in rates {
        let count = ((rate * 0.5) as usize).clamp(20_000, load.commands.len());
        let run = open_loop(&load, start_price, rate, count);
        let liq = run
            .report
            .latencies
            .iter()
            .find(|l| l.name == "e2e.mark_to_liquidation_accepted")
            .map_or(0, |l| p(&l.histogram, 0.99));
        println!(
            "| {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
            run.offered,
            run.achieved,
            p(&run.histogram, 0.5),
            p(&run.histogram, 0.99),
            p(&run.histogram, 0.9999),
            run.histogram.max(),
            run.unanswered,
            run.liquidations,
            liq
        );
        let ok = p(&run.histogram, 0.99) < 10_000 && run.achieved > 0.9 * run.offered;
        let saturated = run.achieved < 0.9 * run.offered || p(&run.histogram, 0.99) > 1_000_000;
        if ok {
            liq_p99 = liq;
            best = Some(run);
        } else if best.is_none() && liq_p99 == 0 {
            liq_p99 = liq;
        }
        if saturated {
            break;
        }
    }
    println!(
        "\nexchange-core (published, Java, 1 symbol, no liquidation): 1M ops/s offered → p50 0.5 µs, p99 4 µs, p99.99 31 µs; ~5M ops/s max"
    );
    if let Some(best) = &best {
        println!(
            "\nper-stage latency at {:.0} ops/s offered (engine histograms, ns):",
            best.offered
        );
        println!("| measure | p50 | p99 | p99.9 | p99.99 | max | count |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for l in &best.report.latencies {
            let h = &l.histogram;
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                l.name,
                p(h, 0.5),
                p(h, 0.99),
                p(h, 0.999),
                p(h, 0.9999),
                h.max(),
                h.len()
            );
        }
    }
    println!();
    println!("e2e.cores={}", machine::cores());
    println!("e2e.layout={}", plan.to_string().replace(' ', "_"));
    match &best {
        Some(b) => {
            println!("e2e.p50_ns={}", p(&b.histogram, 0.5));
            println!("e2e.p99_ns={}", p(&b.histogram, 0.99));
            println!("e2e.p9999_ns={}", p(&b.histogram, 0.9999));
            println!("e2e.rate={:.0}", b.offered);
        }
        None => {
            println!("e2e.p50_ns=none");
            println!("e2e.p99_ns=none");
            println!("e2e.p9999_ns=none");
            println!("e2e.rate=0");
        }
    }
    println!("single.ops_per_sec={:.0}", single.ops_per_sec);
    println!(
        "single.ratio_vs_bare_book={:.3}",
        single.ops_per_sec / single.book_ops_per_sec
    );
    println!("liq.p99_ns={liq_p99}");
}

trait PlanOf {
    fn shutdown_plan(self) -> liqcore::engine::Plan;
}

impl PlanOf for Engine {
    fn shutdown_plan(self) -> liqcore::engine::Plan {
        let plan = self.plan().clone();
        let _ = self.shutdown();
        plan
    }
}
