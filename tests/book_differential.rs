//! Differential and fuzz-style properties of `liqcore::book::Book`.
//!
//! - `matches_the_reference_book`: random command streams of every type (limit GTC/IOC/FOK,
//!   market, post-only, stops by mark and last, liquidations, cancels, modifies, marks, every
//!   STP mode, small capacities, garbage ids and extreme numbers) give the same event stream,
//!   depth, BBO and live-order count as the naive `ReferenceBook` after every command.
//! - `arbitrary_commands_never_break_the_book`: fully arbitrary values never panic and leave
//!   the book consistent (uncrossed, level totals equal their orders' sum, links sound).
//!
//! - `the_exchange_core_workload_matches_the_reference`: the benchmark workload itself gives the
//!   same events command by command (the fast paths it exercises most: non-crossing moves,
//!   sweeps of several makers, cancels and reduces).
//!
//! Case counts scale with `LIQCORE_PROPTEST_CASES` (default 128); the workload length with
//! `LIQCORE_WORKLOAD_COMMANDS` (default 30,000).

use liqcore::book::reference::ReferenceBook;
use liqcore::book::workload::{self, WorkloadConfig};
use liqcore::book::{
    Book, BookEvent, Command, DepthLevel, MAX_PRICE, Matcher, OrderCommand, OrderKind,
    SelfTradePrevention, TimeInForce, TriggerSource,
};
use liqcore::types::{AccountId, Money, OrderId, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn cases() -> u32 {
    std::env::var("LIQCORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

fn spec() -> SymbolSpec {
    SymbolSpec::new(SymbolId(0), Decimal::new(1, 1), Decimal::new(1, 3))
        .unwrap()
        .with_qty_limits(Qty(1), Qty(1000))
        .unwrap()
        .with_price_band(Rate(2_000_000))
        .unwrap()
}

fn price() -> impl Strategy<Value = i64> {
    prop_oneof![
        20 => 990i64..1010,
        1 => any::<i64>(),
        1 => Just(0i64),
        1 => Just(MAX_PRICE),
        1 => Just(MAX_PRICE + 1),
        1 => 1i64..5000,
    ]
}

fn qty() -> impl Strategy<Value = i64> {
    prop_oneof![
        20 => 1i64..12,
        1 => any::<i64>(),
        1 => Just(0i64),
        1 => 900i64..1100,
    ]
}

fn order_id() -> impl Strategy<Value = u64> {
    prop_oneof![20 => 0u64..48, 1 => any::<u64>()]
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn order() -> impl Strategy<Value = OrderCommand> {
    let kind = prop_oneof![
        8 => Just(OrderKind::Limit),
        2 => Just(OrderKind::Market),
        1 => Just(OrderKind::StopMarket),
        1 => Just(OrderKind::StopLimit),
    ];
    let tif = prop_oneof![
        6 => Just(TimeInForce::Gtc),
        2 => Just(TimeInForce::Ioc),
        2 => Just(TimeInForce::Fok),
    ];
    let stp = prop_oneof![
        Just(SelfTradePrevention::CancelTaker),
        Just(SelfTradePrevention::CancelMaker),
        Just(SelfTradePrevention::CancelBoth),
        Just(SelfTradePrevention::None),
    ];
    let trigger_by = prop_oneof![Just(TriggerSource::Mark), Just(TriggerSource::Last)];
    (
        (order_id(), 0u64..4, side(), kind, price(), qty()),
        (
            tif,
            prop::bool::weighted(0.1),
            any::<bool>(),
            stp,
            price(),
            trigger_by,
        ),
    )
        .prop_map(
            |(
                (id, account, side, kind, price, qty),
                (tif, post_only, reduce_only, stp, trigger, trigger_by),
            )| OrderCommand {
                id: OrderId(id),
                account: AccountId(account),
                side,
                kind,
                price: Price(price),
                qty: Qty(qty),
                tif,
                post_only,
                reduce_only,
                stp,
                trigger_price: Price(trigger),
                trigger_by,
            },
        )
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        10 => order().prop_map(Command::Submit),
        1 => order().prop_map(Command::Liquidation),
        3 => order_id().prop_map(|id| Command::Cancel(OrderId(id))),
        5 => (order_id(), prop::option::of(price()), prop::option::of(qty())).prop_map(
            |(id, price, qty)| Command::Modify {
                id: OrderId(id),
                price: price.map(Price),
                qty: qty.map(Qty),
            }
        ),
        2 => price().prop_map(|p| Command::Mark(Price(p))),
    ]
}

fn depth_of<M: Matcher>(book: &M, side: Side) -> Vec<DepthLevel> {
    let mut out = [DepthLevel::default(); 256];
    let n = book.depth(side, &mut out);
    out[..n].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn matches_the_reference_book(
        capacity in prop_oneof![1 => 1usize..8, 3 => Just(4096usize)],
        commands in prop::collection::vec(command(), 1..300),
    ) {
        let mut book = Book::new(spec(), capacity);
        let mut reference = ReferenceBook::new(spec(), capacity);
        let mut fast_events: Vec<BookEvent> = Vec::new();
        let mut slow_events: Vec<BookEvent> = Vec::new();
        for (step, command) in commands.iter().enumerate() {
            fast_events.clear();
            slow_events.clear();
            book.apply(command, &mut fast_events);
            reference.apply(command, &mut slow_events);
            prop_assert_eq!(&fast_events, &slow_events, "events differ at step {} ({:?})", step, command);
            prop_assert_eq!(depth_of(&book, Side::Buy), depth_of(&reference, Side::Buy));
            prop_assert_eq!(depth_of(&book, Side::Sell), depth_of(&reference, Side::Sell));
            prop_assert_eq!(Matcher::bbo(&book), Matcher::bbo(&reference));
            prop_assert_eq!(book.len(), reference.len());
            for notional in [1i128, 150_000_000_000, 10_000_000_000_000, 3_000_000_000_000_000] {
                prop_assert_eq!(book.impact_bid(Money(notional)), reference.impact_bid(Money(notional)));
                prop_assert_eq!(book.impact_ask(Money(notional)), reference.impact_ask(Money(notional)));
            }
            prop_assert_eq!(book.check_invariants(), Ok(()));
        }
    }

    #[test]
    fn arbitrary_commands_never_break_the_book(
        capacity in prop_oneof![Just(1usize), 2usize..64, Just(10_000usize)],
        commands in prop::collection::vec(
            prop_oneof![
                3 => command(),
                1 => (any::<u64>(), any::<i64>(), any::<i64>(), any::<bool>()).prop_map(
                    |(id, price, qty, buy)| Command::Submit(OrderCommand::limit(
                        id, id % 3, if buy { Side::Buy } else { Side::Sell }, price, qty,
                    ))
                ),
                1 => (any::<u64>(), any::<Option<i64>>(), any::<Option<i64>>()).prop_map(
                    |(id, price, qty)| Command::Modify {
                        id: OrderId(id), price: price.map(Price), qty: qty.map(Qty),
                    }
                ),
            ],
            1..200,
        ),
    ) {
        let mut book = Book::new(spec(), capacity);
        let mut events: Vec<BookEvent> = Vec::new();
        for command in &commands {
            events.clear();
            book.apply(command, &mut events);
            prop_assert_eq!(book.check_invariants(), Ok(()));
            let bbo = book.bbo();
            prop_assert!(bbo.bid_qty.0 == 0 || bbo.ask_qty.0 == 0 || bbo.bid < bbo.ask);
            for event in &events {
                if let BookEvent::Trade(trade) = event {
                    prop_assert!(trade.qty.0 > 0 && trade.price.0 > 0);
                }
            }
        }
    }
}

/// Prices far apart force the ladder to recentre and to use its far levels; both books must
/// still agree.
#[test]
fn far_prices_and_recentring_match_the_reference() {
    let mut book = Book::new(spec(), 4096);
    let mut reference = ReferenceBook::new(spec(), 4096);
    let mut fast: Vec<BookEvent> = Vec::new();
    let mut slow: Vec<BookEvent> = Vec::new();
    let mut x: u64 = 7;
    for i in 0..3000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let centre = 100_000 + ((i / 300) as i64) * 7000;
        let side = if x.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        let spread = (x >> 8) as i64 % 9000;
        let price = (centre - side.sign() * spread).max(1);
        let command = match x % 5 {
            0 => Command::Cancel(OrderId(x % (i + 1))),
            1 => Command::Modify {
                id: OrderId((x >> 3) % (i + 1)),
                price: Some(Price(price)),
                qty: None,
            },
            _ => Command::Submit(
                OrderCommand::limit(i, x % 7, side, price, 1 + (x >> 20) as i64 % 50)
                    .with_stp(SelfTradePrevention::None),
            ),
        };
        fast.clear();
        slow.clear();
        book.apply(&command, &mut fast);
        reference.apply(&command, &mut slow);
        assert_eq!(fast, slow, "step {i}");
        assert_eq!(depth_of(&book, Side::Buy), depth_of(&reference, Side::Buy));
        assert_eq!(
            depth_of(&book, Side::Sell),
            depth_of(&reference, Side::Sell)
        );
    }
    book.check_invariants().unwrap();
}

/// The exchange-core workload through both books: the same events after every command, the
/// same depth and a sound book at the end.
#[test]
fn the_exchange_core_workload_matches_the_reference() {
    let commands = std::env::var("LIQCORE_WORKLOAD_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let load = workload::generate(&WorkloadConfig {
        commands,
        ..WorkloadConfig::default()
    });
    let mut book = Book::new(load.spec.clone(), load.capacity);
    let mut reference = ReferenceBook::new(load.spec.clone(), load.capacity);
    let mut fast: Vec<BookEvent> = Vec::new();
    let mut slow: Vec<BookEvent> = Vec::new();
    let mut trades = 0usize;
    for (step, command) in load.warmup.iter().chain(&load.commands).enumerate() {
        fast.clear();
        slow.clear();
        book.apply(command, &mut fast);
        reference.apply(command, &mut slow);
        assert_eq!(fast, slow, "step {step} ({command:?})");
        trades += fast
            .iter()
            .filter(|e| matches!(e, BookEvent::Trade(_)))
            .count();
    }
    assert!(
        trades > commands / 100,
        "the workload trades ({trades} trades)"
    );
    assert_eq!(depth_of(&book, Side::Buy), depth_of(&reference, Side::Buy));
    assert_eq!(
        depth_of(&book, Side::Sell),
        depth_of(&reference, Side::Sell)
    );
    book.check_invariants().unwrap();
}
