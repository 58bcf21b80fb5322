//! After warm-up, the whole pipeline in `Layout::Single` — risk checks, the order table, the
//! book, fills back to risk, market data to the mark stage, marks to risk and book, events to
//! the host — allocates nothing for 200,000 commands of the exchange-core workload. Lives in
//! its own test binary because it installs a counting global allocator.

use liqcore::book::Command as BookCommand;
use liqcore::book::workload::{self, WorkloadConfig};
use liqcore::engine::{Command, Engine, EngineBuilder, Event, Market, MarketInput};
use liqcore::mark::MarkConfig;
use liqcore::risk::{Leverage, MarginTier, SymbolRiskConfig};
use liqcore::types::{AccountId, Money, Rate, SymbolId};

mod common;

use common::alloc::{CountingAllocator, counted, start_counting, stop_counting};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const WARMUP: usize = 50_000;
const MEASURED: usize = 200_000;

fn push(engine: &mut Engine, command: &BookCommand, events: &mut u64) {
    let symbol = SymbolId(0);
    let cmd = match *command {
        BookCommand::Submit(order) | BookCommand::Liquidation(order) => {
            Command::Order { symbol, order }
        }
        BookCommand::Cancel(id) => Command::Cancel { id },
        BookCommand::Modify { id, price, qty } => Command::Modify { id, price, qty },
        BookCommand::Mark(price) => {
            let _ = engine.feed(0, MarketInput::ForceMark { symbol, price });
            return;
        }
    };
    let mut cmd = cmd;
    while let Err(e) = engine.send(0, cmd) {
        cmd = e.into_inner();
        engine.run_until_idle();
        while let Some(event) = engine.try_recv() {
            *events += u64::from(matches!(event, Event::Book { .. }));
        }
    }
    engine.poll();
    while let Some(event) = engine.try_recv() {
        *events += u64::from(matches!(event, Event::Book { .. }));
    }
}

#[test]
fn the_single_layout_pipeline_allocates_nothing_after_warm_up() {
    let load = workload::generate(&WorkloadConfig {
        commands: WARMUP + MEASURED,
        ..WorkloadConfig::default()
    });
    let spec = load.spec.clone();
    let tiers = [MarginTier {
        floor: Money::ZERO,
        mmr: Rate(500_000),
        max_leverage: None,
    }];
    let risk = SymbolRiskConfig::new(spec.clone(), Leverage::from_whole(100), &tiers).unwrap();
    let mut engine = EngineBuilder::new()
        .market(Market::new(spec, risk, MarkConfig::median3()))
        .accounts(2048)
        .book_capacity(load.capacity)
        .max_orders(load.capacity)
        .start()
        .unwrap();
    for account in 0..WorkloadConfig::default().users {
        let amount = Money(1_000_000_000 * Money::UNIT);
        engine
            .send(
                0,
                Command::Deposit {
                    account: AccountId(account),
                    amount,
                },
            )
            .unwrap();
        engine.run_until_idle();
    }
    let mut events = 0u64;
    for command in load.warmup.iter().chain(&load.commands[..WARMUP]) {
        push(&mut engine, command, &mut events);
    }
    engine.run_until_idle();
    while engine.try_recv().is_some() {}

    start_counting();
    drop(std::hint::black_box(Box::new(7u64)));
    assert_eq!(counted(), 1, "the counting allocator counts");
    start_counting();
    let mut events = 0u64;
    for command in &load.commands[WARMUP..] {
        push(&mut engine, command, &mut events);
    }
    engine.run_until_idle();
    while engine.try_recv().is_some() {}
    let allocations = stop_counting();
    assert_eq!(allocations, 0, "allocations after warm-up");
    assert!(
        events > MEASURED as u64,
        "the pipeline reported ({events} book events)"
    );
    let stages = engine.stages().unwrap();
    assert!(stages.book(SymbolId(0)).unwrap().len() > 100);
    assert!(stages.live_orders() > 100);
}
