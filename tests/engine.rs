//! The pipeline end to end: orders through risk into the book and back, margin reservations,
//! a liquidation driven by a mark move, shutdown that loses nothing, and determinism — a
//! random workload with liquidations run in `Layout::Pinned`, replayed from each stage's
//! recorded input order in `Layout::Single`, gives identical events and final state.

use liqcore::book::{BookEvent, CancelReason, OrderCommand};
use liqcore::engine::{
    Command, Engine, EngineBuilder, Event, Layout, Market, MarketInput, Report, Subject,
};
use liqcore::mark::MarkConfig;
use liqcore::risk::{Leverage, LiquidationEvent, MarginMode, MarginTier, SymbolRiskConfig};
use liqcore::types::{AccountId, Money, OrderId, Price, Rate, Side, SymbolId, SymbolSpec};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rust_decimal::Decimal;

const BTC: SymbolId = SymbolId(0);

fn quote(x: i128) -> Money {
    Money(x * Money::UNIT)
}

/// Tick 1, lot 1 (one tick × one lot = one quote); 1 % maintenance, 1 % liquidation fee.
fn market(id: u32, mark: MarkConfig) -> Market {
    let spec = SymbolSpec::new(SymbolId(id), Decimal::ONE, Decimal::ONE).unwrap();
    let tiers = [MarginTier {
        floor: Money::ZERO,
        mmr: Rate(1_000_000),
        max_leverage: None,
    }];
    let risk = SymbolRiskConfig::new(spec.clone(), Leverage::from_whole(100), &tiers)
        .unwrap()
        .with_liquidation_fee(Rate(1_000_000))
        .unwrap();
    Market::new(spec, risk, mark)
}

fn single() -> Engine {
    EngineBuilder::new()
        .market(market(0, MarkConfig::last()))
        .accounts(64)
        .start()
        .unwrap()
}

/// A single-layout engine where accounts 1 and 2 hold 10,000 each.
fn two_funded_accounts() -> Engine {
    let mut e = single();
    for a in [1, 2] {
        e.send(
            0,
            Command::Deposit {
                account: AccountId(a),
                amount: quote(10_000),
            },
        )
        .unwrap();
    }
    e
}

fn drain(engine: &mut Engine) -> Vec<Event> {
    engine.run_until_idle();
    std::iter::from_fn(|| engine.try_recv()).collect()
}

fn order(symbol: SymbolId, order: OrderCommand) -> Command {
    Command::Order { symbol, order }
}

#[test]
fn an_order_crosses_and_both_positions_open() {
    let mut e = two_funded_accounts();
    e.send(
        0,
        order(BTC, OrderCommand::limit(1, 1, Side::Sell, 100, 10)),
    )
    .unwrap();
    e.send(0, order(BTC, OrderCommand::limit(2, 2, Side::Buy, 101, 4)))
        .unwrap();
    let events = drain(&mut e);
    let trades: Vec<_> = events
        .iter()
        .filter_map(|ev| match ev {
            Event::Book {
                event: BookEvent::Trade(t),
                ..
            } => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0].price, trades[0].qty.0), (Price(100), 4));
    assert!(events.contains(&Event::Mark {
        symbol: BTC,
        price: Price(100),
        ts: 0
    }));
    let stages = e.stages().unwrap();
    let risk = stages.risk().risk();
    let (a1, a2) = (
        risk.index_of(AccountId(1)).unwrap(),
        risk.index_of(AccountId(2)).unwrap(),
    );
    assert_eq!(risk.position_size(a1, BTC).0, -4);
    assert_eq!(risk.position_size(a2, BTC).0, 4);
    // The seller's remaining 6 lots stay reserved; the buyer's order is done.
    let v1 = risk.position_view(AccountId(1), BTC).unwrap();
    let v2 = risk.position_view(AccountId(2), BTC).unwrap();
    assert_eq!((v1.open_sell.0, v2.open_buy.0), (6, 0));
    assert_eq!(stages.live_orders(), 1);
    e.send(1, Command::Cancel { id: OrderId(1) }).unwrap();
    let events = drain(&mut e);
    assert!(events.iter().any(|ev| matches!(
        ev,
        Event::Book {
            event: BookEvent::Cancelled {
                id: OrderId(1),
                reason: CancelReason::User,
                ..
            },
            ..
        }
    )));
    let stages = e.stages().unwrap();
    assert_eq!(
        stages
            .risk()
            .risk()
            .position_view(AccountId(1), BTC)
            .unwrap()
            .open_sell
            .0,
        0
    );
    assert_eq!(stages.live_orders(), 0);
    let report = e.shutdown();
    assert_eq!(report.risk.risk().total_size(BTC), 0);
    assert!(report.events.is_empty());
}

#[test]
fn refusals_name_their_subject() {
    let mut e = single();
    e.send(0, order(BTC, OrderCommand::limit(1, 9, Side::Buy, 100, 1)))
        .unwrap();
    e.send(0, Command::Cancel { id: OrderId(77) }).unwrap();
    e.send(
        0,
        Command::Withdraw {
            account: AccountId(9),
            amount: quote(1),
        },
    )
    .unwrap();
    e.send(
        0,
        Command::Deposit {
            account: AccountId(3),
            amount: quote(1),
        },
    )
    .unwrap();
    e.send(
        0,
        order(BTC, OrderCommand::limit(2, 3, Side::Buy, 100, 1_000)),
    )
    .unwrap();
    e.send(
        0,
        order(BTC, OrderCommand::limit(1 << 63, 3, Side::Buy, 100, 1)),
    )
    .unwrap();
    e.feed(
        0,
        MarketInput::Index {
            symbol: SymbolId(5),
            price: Price(1),
        },
    )
    .unwrap();
    let events = drain(&mut e);
    assert_eq!(
        events,
        vec![
            Event::Rejected {
                subject: Subject::Order(OrderId(1)),
                reason: "unknown_account"
            },
            Event::Rejected {
                subject: Subject::Order(OrderId(77)),
                reason: "unknown_order"
            },
            Event::Rejected {
                subject: Subject::Account(AccountId(9)),
                reason: "unknown_account"
            },
            Event::Rejected {
                subject: Subject::Order(OrderId(2)),
                reason: "insufficient_margin"
            },
            Event::Rejected {
                subject: Subject::Order(OrderId(1 << 63)),
                reason: "invalid_order_id"
            },
            Event::Rejected {
                subject: Subject::Symbol(SymbolId(5)),
                reason: "unknown_symbol"
            },
        ]
    );
}

#[test]
fn a_mark_move_liquidates_through_the_book() {
    let mut e = single();
    e.send(
        0,
        Command::Deposit {
            account: AccountId(1),
            amount: quote(1_000_000),
        },
    )
    .unwrap();
    e.send(
        0,
        Command::Deposit {
            account: AccountId(2),
            amount: quote(1_000),
        },
    )
    .unwrap();
    e.send(
        0,
        Command::Insurance {
            amount: quote(10_000),
        },
    )
    .unwrap();
    e.send(
        0,
        Command::Leverage {
            account: AccountId(2),
            symbol: BTC,
            leverage: Leverage::from_whole(50),
            mode: MarginMode::Cross,
        },
    )
    .unwrap();
    // Account 2 buys 400 lots at 100 (notional 40,000 at 50×: 800 initial margin).
    e.send(
        0,
        order(BTC, OrderCommand::limit(1, 1, Side::Sell, 100, 400)),
    )
    .unwrap();
    e.send(
        0,
        order(BTC, OrderCommand::limit(2, 2, Side::Buy, 100, 400)),
    )
    .unwrap();
    // Resting bids to absorb the liquidation, and an order of account 2 to be cancelled.
    e.send(
        0,
        order(BTC, OrderCommand::limit(3, 1, Side::Buy, 98, 1_000)),
    )
    .unwrap();
    e.send(0, order(BTC, OrderCommand::limit(4, 2, Side::Buy, 90, 1)))
        .unwrap();
    drain(&mut e);
    // Equity 1,000 − 400 × 3 < maintenance: the mark at 97 liquidates.
    e.feed(
        1,
        MarketInput::ForceMark {
            symbol: BTC,
            price: Price(97),
        },
    )
    .unwrap();
    let events = drain(&mut e);
    let liquidation = events.iter().find_map(|ev| match ev {
        Event::Risk(LiquidationEvent::Liquidation {
            account, qty, side, ..
        }) => Some((*account, *qty, *side)),
        _ => None,
    });
    assert_eq!(
        liquidation,
        Some((AccountId(2), liquidation.unwrap().1, Side::Sell))
    );
    assert!(events.iter().any(|ev| matches!(
        ev,
        Event::Book {
            event: BookEvent::Cancelled {
                id: OrderId(4),
                reason: CancelReason::Liquidation,
                ..
            },
            ..
        }
    )));
    assert!(events.iter().any(|ev| matches!(ev, Event::Book { event: BookEvent::Trade(t), .. } if t.liquidation && t.maker == OrderId(3))));
    let stages = e.stages().unwrap();
    let risk = stages.risk().risk();
    let a2 = risk.index_of(AccountId(2)).unwrap();
    assert_eq!(risk.position_size(a2, BTC).0, 0, "the position is closed");
    assert_eq!(stages.risk().flights_open(), 0);
    assert_eq!(
        stages.live_orders(),
        1,
        "only the market maker's bid remains"
    );
    conserved(stages.risk());
}

fn conserved(engine: &liqcore::risk::LiquidationEngine) {
    let risk = engine.risk();
    let entry: i128 = (0..1)
        .map(|s| risk.total_entry_notional(SymbolId(s)).0)
        .sum();
    let total = risk.total_collateral().0
        + risk.total_isolated_margin().0
        + risk.fees_collected().0
        + risk.insurance_fund().0
        - entry;
    assert_eq!(
        total,
        risk.total_deposited().0 - risk.total_withdrawn().0,
        "money is conserved"
    );
    assert_eq!(risk.total_size(BTC), 0);
}

// ----- random workload with liquidations --------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Input {
    Command(u64, Command),
    Market(u64, MarketInput),
}

/// Makers quote around a drifting price; leveraged traders take positions; the mark is forced
/// down and up now and then, which liquidates the most leveraged.
fn workload(seed: u64, steps: usize) -> Vec<Input> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut next_id = 1u64;
    let mut live: Vec<u64> = Vec::new();
    out.push(Input::Command(
        0,
        Command::Insurance {
            amount: quote(1_000_000),
        },
    ));
    for a in 1..=4 {
        out.push(Input::Command(
            0,
            Command::Deposit {
                account: AccountId(a),
                amount: quote(100_000_000),
            },
        ));
    }
    for a in 10..60 {
        out.push(Input::Command(
            0,
            Command::Deposit {
                account: AccountId(a),
                amount: quote(rng.random_range(2_000..20_000)),
            },
        ));
        let leverage = Leverage::from_whole(rng.random_range(5..=100));
        let mode = if a % 5 == 0 {
            MarginMode::Isolated
        } else {
            MarginMode::Cross
        };
        out.push(Input::Command(
            0,
            Command::Leverage {
                account: AccountId(a),
                symbol: BTC,
                leverage,
                mode,
            },
        ));
    }
    let mut mid = 10_000i64;
    for step in 0..steps {
        let ts = step as u64;
        let roll = rng.random_range(0..100);
        if roll < 35 {
            // Maker quotes both sides.
            let maker = rng.random_range(1..=4);
            for side in [Side::Buy, Side::Sell] {
                let off = rng.random_range(1..40);
                let price = if side == Side::Buy {
                    mid - off
                } else {
                    mid + off
                };
                let id = next_id;
                next_id += 1;
                live.push(id);
                out.push(Input::Command(
                    ts,
                    order(
                        BTC,
                        OrderCommand::limit(id, maker, side, price, rng.random_range(10..500)),
                    ),
                ));
            }
        } else if roll < 60 {
            // A trader takes liquidity (IOC through the spread) or rests an order.
            let trader = rng.random_range(10..60);
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let off = rng.random_range(-20..60);
            let price = if side == Side::Buy {
                mid + off
            } else {
                mid - off
            };
            let id = next_id;
            next_id += 1;
            let mut cmd =
                OrderCommand::limit(id, trader, side, price.max(1), rng.random_range(1..200));
            if rng.random_bool(0.6) {
                cmd.tif = liqcore::book::TimeInForce::Ioc;
            } else {
                live.push(id);
            }
            out.push(Input::Command(ts, order(BTC, cmd)));
        } else if roll < 80 && !live.is_empty() {
            let i = rng.random_range(0..live.len());
            let id = live.swap_remove(i);
            if rng.random_bool(0.5) {
                out.push(Input::Command(ts, Command::Cancel { id: OrderId(id) }));
            } else {
                out.push(Input::Command(
                    ts,
                    Command::Modify {
                        id: OrderId(id),
                        price: None,
                        qty: Some(liqcore::types::Qty(rng.random_range(1..300))),
                    },
                ));
                live.push(id);
            }
        } else if roll < 90 {
            mid = (mid + rng.random_range(-30..=30)).max(100);
            out.push(Input::Market(
                ts,
                MarketInput::Index {
                    symbol: BTC,
                    price: Price(mid),
                },
            ));
        } else if roll < 93 {
            // A wick: the mark forced 3–8 % away, then back.
            let down = rng.random_bool(0.6);
            let pct = rng.random_range(3..=8);
            let price = if down {
                mid * (100 - pct) / 100
            } else {
                mid * (100 + pct) / 100
            };
            out.push(Input::Market(
                ts,
                MarketInput::ForceMark {
                    symbol: BTC,
                    price: Price(price),
                },
            ));
            out.push(Input::Market(
                ts,
                MarketInput::ForceMark {
                    symbol: BTC,
                    price: Price(mid),
                },
            ));
        } else {
            let trader = rng.random_range(10..60);
            out.push(Input::Command(
                ts,
                Command::Deposit {
                    account: AccountId(trader),
                    amount: quote(rng.random_range(1..500)),
                },
            ));
        }
    }
    out
}

fn send_all(engine: &mut Engine, inputs: &[Input], events: &mut Vec<Event>) {
    for input in inputs {
        match *input {
            Input::Command(ts, mut c) => loop {
                match engine.send(ts, c) {
                    Ok(()) => break,
                    Err(e) => {
                        c = e.into_inner();
                        if !engine.poll() {
                            std::thread::yield_now();
                        }
                        events.extend(std::iter::from_fn(|| engine.try_recv()));
                    }
                }
            },
            Input::Market(ts, mut m) => loop {
                match engine.feed(ts, m) {
                    Ok(()) => break,
                    Err(e) => {
                        m = e.into_inner();
                        if !engine.poll() {
                            std::thread::yield_now();
                        }
                        events.extend(std::iter::from_fn(|| engine.try_recv()));
                    }
                }
            },
        }
        if engine.poll() {
            events.extend(std::iter::from_fn(|| engine.try_recv()));
        }
        events.extend(std::iter::from_fn(|| engine.try_recv()));
    }
}

/// Events split by the stage that produced them (each stage's stream keeps its order).
fn per_stage(events: &[Event]) -> [Vec<Event>; 3] {
    let mut out: [Vec<Event>; 3] = Default::default();
    for e in events {
        let stage = match e {
            Event::Rejected {
                subject: Subject::Symbol(_),
                ..
            }
            | Event::Mark { .. } => 2,
            Event::Book { .. } => 1,
            Event::Rejected { .. } | Event::Risk(_) => 0,
        };
        out[stage].push(*e);
    }
    out
}

fn state(report: &Report) -> Vec<String> {
    let risk = report.risk.risk();
    let mut lines = vec![
        format!(
            "insurance {:?} fees {:?}",
            risk.insurance_fund(),
            risk.fees_collected()
        ),
        format!("bbo {:?}", report.books[0].bbo()),
        format!("live {}", report.books[0].len()),
    ];
    for a in (1..=4).chain(10..60) {
        if let Some(v) = risk.position_view(AccountId(a), BTC) {
            lines.push(format!("{a}: {:?} {v:?}", risk.collateral(AccountId(a))));
        }
    }
    lines
}

fn run(
    layout: Layout,
    inputs: &[Input],
    follow: Option<liqcore::engine::InputOrder>,
) -> (Vec<Event>, Report) {
    let mut builder = EngineBuilder::new()
        .market(market(0, MarkConfig::last()))
        .accounts(128)
        .ring_capacity(64)
        .layout(layout)
        .record_inputs(1 << 16);
    if let Some(order) = follow {
        builder = builder.follow_inputs(order);
    }
    let mut engine = builder.start().unwrap();
    let mut events = Vec::new();
    send_all(&mut engine, inputs, &mut events);
    let report = engine.shutdown();
    events.extend(report.events.iter().copied());
    (events, report)
}

fn liquidations(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Risk(LiquidationEvent::Liquidation { .. })))
        .count()
}

#[test]
fn single_layout_is_deterministic_and_conserves_money() {
    let inputs = workload(7, 3_000);
    let (a, ra) = run(Layout::Single, &inputs, None);
    let (b, rb) = run(Layout::Single, &inputs, None);
    assert_eq!(a, b);
    assert_eq!(state(&ra), state(&rb));
    assert!(liquidations(&a) > 0, "the workload liquidates");
    conserved(&ra.risk);
    // Everything sent was taken by a stage.
    let commands = inputs
        .iter()
        .filter(|i| matches!(i, Input::Command(..)))
        .count() as u64;
    let market = inputs.len() as u64 - commands;
    assert_eq!(ra.risk_counters.commands, commands);
    assert_eq!(ra.mark_counters.inputs, market);
    assert_eq!(ra.book_counters.misrouted, 0);
    assert_eq!(ra.risk_counters.fills_refused, 0);
    // Every message pushed between stages was taken: risk → book, book → risk and mark, mark → both.
    let taken: u64 = ra.messages.iter().map(|m| m.1).sum();
    let pushed: u64 = ra.messages.iter().map(|m| m.2).sum();
    assert_eq!(taken, pushed + commands + market);
}

#[test]
fn a_pinned_run_replays_exactly_from_its_recorded_input_order() {
    for seed in [1, 2] {
        let inputs = workload(seed, 3_000);
        let (pinned_events, pinned) = run(Layout::Pinned, &inputs, None);
        assert!(liquidations(&pinned_events) > 0, "the workload liquidates");
        conserved(&pinned.risk);
        let order = pinned.inputs.clone();
        assert!(!order.risk.is_empty() && !order.books[0].is_empty() && !order.mark.is_empty());
        let (single_events, single) = run(Layout::Single, &inputs, Some(order.clone()));
        assert_eq!(
            per_stage(&pinned_events),
            per_stage(&single_events),
            "seed {seed}"
        );
        assert_eq!(state(&pinned), state(&single), "seed {seed}");
        assert_eq!(
            single.inputs, order,
            "the replay took its inputs in the recorded order"
        );
        let commands = inputs
            .iter()
            .filter(|i| matches!(i, Input::Command(..)))
            .count() as u64;
        assert_eq!(pinned.risk_counters.commands, commands);
        let taken: u64 = pinned.messages.iter().map(|m| m.1).sum();
        let pushed: u64 = pinned.messages.iter().map(|m| m.2).sum();
        assert_eq!(
            taken,
            pushed + inputs.len() as u64,
            "nothing lost through shutdown"
        );
    }
}

#[test]
fn shutdown_returns_undelivered_events_and_histograms() {
    let mut engine = EngineBuilder::new()
        .market(market(0, MarkConfig::last()))
        .accounts(128)
        .layout(Layout::Pinned)
        .latency(true)
        .start()
        .unwrap();
    let inputs = workload(3, 1_000);
    let mut none = Vec::new();
    for input in &inputs {
        match *input {
            Input::Command(ts, c) => {
                let mut c = c;
                while let Err(e) = engine.send(ts, c) {
                    c = e.into_inner();
                    std::thread::yield_now();
                    while let Some(ev) = engine.try_recv() {
                        none.push(ev);
                    }
                }
            }
            Input::Market(ts, m) => {
                let mut m = m;
                while let Err(e) = engine.feed(ts, m) {
                    m = e.into_inner();
                    std::thread::yield_now();
                    while let Some(ev) = engine.try_recv() {
                        none.push(ev);
                    }
                }
            }
        }
    }
    let report = engine.shutdown();
    assert!(!report.events.is_empty() || !none.is_empty());
    let names: Vec<&str> = report.latencies.iter().map(|l| l.name).collect();
    for name in [
        "risk.service",
        "book.service",
        "mark.service",
        "e2e.order_to_report",
        "e2e.index_to_mark",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let service = report
        .latencies
        .iter()
        .find(|l| l.name == "book.service")
        .unwrap();
    assert!(!service.histogram.is_empty());
    let mut hgrm = Vec::new();
    service.write_hgrm(&mut hgrm).unwrap();
    assert!(String::from_utf8(hgrm).unwrap().contains("Percentile"));
}

#[test]
fn symbols_split_across_two_book_stages() {
    let mut engine = EngineBuilder::new()
        .market(market(0, MarkConfig::last()))
        .market(market(1, MarkConfig::last()))
        .market(market(2, MarkConfig::last()))
        .book_stages(2)
        .accounts(16)
        .start()
        .unwrap();
    assert_eq!(engine.plan().stages.len(), 4, "risk, two book stages, mark");
    for a in [1, 2] {
        engine
            .send(
                0,
                Command::Deposit {
                    account: AccountId(a),
                    amount: quote(1_000_000),
                },
            )
            .unwrap();
    }
    for s in 0..3u32 {
        let id = 10 * u64::from(s);
        engine
            .send(
                0,
                order(
                    SymbolId(s),
                    OrderCommand::limit(id + 1, 1, Side::Sell, 100 + i64::from(s), 5),
                ),
            )
            .unwrap();
        engine
            .send(
                0,
                order(
                    SymbolId(s),
                    OrderCommand::limit(id + 2, 2, Side::Buy, 100 + i64::from(s), 5),
                ),
            )
            .unwrap();
    }
    let events = drain(&mut engine);
    for s in 0..3u32 {
        assert!(events.iter().any(|e| matches!(e, Event::Book { symbol, event: BookEvent::Trade(t) } if *symbol == SymbolId(s) && t.price == Price(100 + i64::from(s)))));
        assert!(events.contains(&Event::Mark {
            symbol: SymbolId(s),
            price: Price(100 + i64::from(s)),
            ts: 0
        }));
    }
    let report = engine.shutdown();
    assert_eq!(report.books.len(), 3);
    for s in 0..3 {
        assert_eq!(report.risk.risk().total_size(SymbolId(s)), 0);
    }
    assert_eq!(report.book_counters.misrouted, 0);
}

#[test]
fn split_host_ends_work_from_separate_threads() {
    let engine = EngineBuilder::new()
        .market(market(0, MarkConfig::last()))
        .accounts(16)
        .layout(Layout::Pinned)
        .start()
        .unwrap();
    let (mut commands, mut inputs, mut events, handle) = engine.split().ok().unwrap();
    let sender = std::thread::spawn(move || {
        let mut send = |c: Command| {
            let mut c = c;
            while let Err(e) = commands.send(0, c) {
                c = e.into_inner();
                std::thread::yield_now();
            }
        };
        for a in [1, 2] {
            send(Command::Deposit {
                account: AccountId(a),
                amount: quote(1_000_000),
            });
        }
        for i in 0..500u64 {
            send(order(
                BTC,
                OrderCommand::limit(2 * i + 1, 1, Side::Sell, 100, 1),
            ));
            send(order(
                BTC,
                OrderCommand::limit(2 * i + 2, 2, Side::Buy, 100, 1),
            ));
        }
        commands
    });
    inputs.send(0, MarketInput::Clock).unwrap();
    let mut trades = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while trades < 500 && std::time::Instant::now() < deadline {
        match events.try_recv() {
            Some(Event::Book {
                event: BookEvent::Trade(_),
                ..
            }) => trades += 1,
            Some(_) => {}
            None => std::thread::yield_now(),
        }
    }
    let commands = sender.join().unwrap();
    assert_eq!(trades, 500);
    let report = handle.shutdown(commands, inputs, events);
    assert_eq!(report.risk_counters.commands, 1002);
    assert_eq!(report.risk.risk().total_size(BTC), 0);
}

#[test]
fn a_dropped_pinned_engine_stops_its_threads() {
    let mut engine = EngineBuilder::new()
        .market(market(0, MarkConfig::last()))
        .accounts(16)
        .layout(Layout::Pinned)
        .start()
        .unwrap();
    engine
        .send(
            0,
            Command::Deposit {
                account: AccountId(1),
                amount: quote(1),
            },
        )
        .unwrap();
    drop(engine); // must return: Drop shuts the stages down
    let engine = EngineBuilder::new()
        .market(market(0, MarkConfig::last()))
        .layout(Layout::Pinned)
        .start()
        .unwrap();
    let (commands, inputs, events, handle) = engine.split().ok().unwrap();
    // Host ends dropped: the stages see their input rings abandoned and stop by themselves.
    drop((commands, inputs, events));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !handle.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(handle.is_finished());
}

#[test]
fn the_runner_never_pins_two_spinners_to_one_core() {
    use liqcore::engine::Wait;
    let engine = EngineBuilder::new()
        .market(market(0, MarkConfig::last()))
        .layout(Layout::Pinned)
        .cores(vec![0])
        .wait(Wait::BusySpin)
        .stage_waits(vec![Wait::BusySpin, Wait::SpinThenPark])
        .start()
        .unwrap();
    let plan = engine.plan().clone();
    assert!(plan.cores <= 1);
    assert_eq!(plan.stages.len(), 3);
    assert!(
        plan.stages.iter().all(|(_, core, _)| core.is_none()),
        "{plan}"
    );
    let waits: Vec<Wait> = plan.stages.iter().map(|s| s.2).collect();
    assert_eq!(
        waits,
        vec![Wait::SpinThenYield, Wait::SpinThenPark, Wait::SpinThenYield]
    );
    assert!(plan.to_string().contains("not pinned"), "{plan}");
    let _ = engine.shutdown();
}

/// A price-only modify is not reported back to the risk stage (its report would change nothing
/// there). Checked against a twin engine that sends every such move with its remaining
/// quantity spelled out — the reported path — in lockstep: moves that rest, moves that cross
/// and trade, moves of orders being liquidated, on the random workload with liquidations. Both
/// must give the same events after every input, and the same margins and live orders.
#[test]
fn price_only_moves_leave_risk_as_a_reported_modify_would() {
    fn step(engine: &mut Engine, input: Input) -> Vec<Event> {
        match input {
            Input::Command(ts, c) => engine.send(ts, c).unwrap(),
            Input::Market(ts, m) => engine.feed(ts, m).unwrap(),
        }
        drain(engine)
    }
    fn margins(engine: &Engine) -> Vec<Money> {
        let risk = engine.stages().unwrap().risk().risk();
        (1..=4)
            .chain(10..60)
            .filter_map(|a| risk.index_of(AccountId(a)))
            .map(|idx| risk.available_margin(idx))
            .collect()
    }
    let build = || {
        EngineBuilder::new()
            .market(market(0, MarkConfig::last()))
            .accounts(128)
            .ring_capacity(64)
            .start()
            .unwrap()
    };
    for seed in [3, 4, 5] {
        let (mut skip, mut report) = (build(), build());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed);
        let mut ids: Vec<u64> = Vec::new();
        let (mut moves, mut crossing) = (0, 0);
        for input in workload(seed, 3_000) {
            if let Input::Command(_, Command::Order { order, .. }) = input {
                ids.push(order.id.0);
            }
            let a = step(&mut skip, input);
            assert_eq!(a, step(&mut report, input), "seed {seed}");
            if ids.is_empty() || !rng.random_bool(0.6) {
                continue;
            }
            let id = OrderId(ids[rng.random_range(0..ids.len())]);
            let book = skip.stages().unwrap().book(BTC).unwrap();
            let Some(view) = book.order(id) else {
                continue;
            };
            // Mostly toward the other side, so that many moves cross and trade.
            let toward = rng.random_range(-20..=60);
            let price = Price(match view.side {
                Side::Buy => view.price.0 + toward,
                Side::Sell => (view.price.0 - toward).max(1),
            });
            let bbo = book.bbo();
            crossing += usize::from(match view.side {
                Side::Buy => bbo.ask_qty.0 > 0 && price >= bbo.ask,
                Side::Sell => bbo.bid_qty.0 > 0 && price <= bbo.bid,
            });
            moves += 1;
            let ts = 0;
            let a = step(
                &mut skip,
                Input::Command(
                    ts,
                    Command::Modify {
                        id,
                        price: Some(price),
                        qty: None,
                    },
                ),
            );
            let b = step(
                &mut report,
                Input::Command(
                    ts,
                    Command::Modify {
                        id,
                        price: Some(price),
                        qty: Some(view.remaining),
                    },
                ),
            );
            assert_eq!(a, b, "seed {seed}: move of {id:?} to {price:?}");
            assert_eq!(margins(&skip), margins(&report), "seed {seed}");
        }
        assert!(
            moves > 300 && crossing > 40,
            "{moves} moves, {crossing} crossing"
        );
        assert_eq!(margins(&skip), margins(&report));
        assert_eq!(
            skip.stages().unwrap().live_orders(),
            report.stages().unwrap().live_orders()
        );
        let (ra, rb) = (skip.shutdown(), report.shutdown());
        assert_eq!(state(&ra), state(&rb));
        assert!(liquidations(&ra.events) == liquidations(&rb.events));
        // The skipping engine sent fewer book → risk messages, and both took all they were sent.
        let sent = |r: &Report| r.messages.iter().map(|m| m.2).sum::<u64>();
        assert!(sent(&ra) < sent(&rb));
        conserved(&ra.risk);
    }
}

/// The risk stage's open-order reservation follows each kind of modify: a price-only move
/// keeps it (and sends no report back), a smaller quantity releases, a larger one reserves
/// the growth once the book applied it, a move that crosses releases what it filled.
#[test]
fn modifies_keep_the_open_order_reservation() {
    let mut e = two_funded_accounts();
    e.send(
        0,
        order(BTC, OrderCommand::limit(1, 1, Side::Sell, 110, 10)),
    )
    .unwrap();
    e.send(0, order(BTC, OrderCommand::limit(2, 2, Side::Buy, 100, 3)))
        .unwrap();
    drain(&mut e);
    let open = |e: &Engine| {
        let risk = e.stages().unwrap().risk().risk();
        let v = risk.position_view(AccountId(1), BTC).unwrap();
        (v.open_sell.0, v.qty.0)
    };
    let modify = |e: &mut Engine, price: Option<i64>, qty: Option<i64>| {
        e.send(
            0,
            Command::Modify {
                id: OrderId(1),
                price: price.map(Price),
                qty: qty.map(liqcore::types::Qty),
            },
        )
        .unwrap();
        drain(e)
    };
    assert_eq!(open(&e), (10, 0));
    let events = modify(&mut e, Some(108), None);
    assert!(events.iter().any(|ev| matches!(
        ev,
        Event::Book {
            event: BookEvent::Modified { .. },
            ..
        }
    )));
    assert_eq!(open(&e), (10, 0), "a price-only move keeps the reservation");
    modify(&mut e, None, Some(6));
    assert_eq!(open(&e), (6, 0), "a smaller quantity releases");
    modify(&mut e, Some(107), Some(8));
    assert_eq!(open(&e), (8, 0), "a larger quantity reserves the growth");
    modify(&mut e, Some(100), None);
    assert_eq!(
        open(&e),
        (5, -3),
        "a crossing move fills 3 and releases them"
    );
    modify(&mut e, Some(109), None);
    assert_eq!(open(&e), (5, -3));
    e.send(0, Command::Cancel { id: OrderId(1) }).unwrap();
    drain(&mut e);
    assert_eq!(open(&e), (0, -3));
    assert_eq!(e.stages().unwrap().live_orders(), 0);
}
