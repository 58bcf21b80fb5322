//! One test per documented behaviour of `liqcore::book::Book`.

use liqcore::book::{
    Bbo, Book, BookEvent, CancelReason, DepthLevel, OrderCommand, OrderState, RejectReason,
    SelfTradePrevention, TimeInForce, Trade, TriggerSource,
};
use liqcore::types::{AccountId, Money, OrderId, Price, Qty, Rate, Side, SymbolId, SymbolSpec};
use rust_decimal::Decimal;

const BUY: Side = Side::Buy;
const SELL: Side = Side::Sell;

fn spec() -> SymbolSpec {
    // tick 0.1, lot 0.001; band 5 %.
    SymbolSpec::new(SymbolId(0), Decimal::new(1, 1), Decimal::new(1, 3))
        .unwrap()
        .with_qty_limits(Qty(1), Qty(1000))
        .unwrap()
        .with_price_band(Rate(5_000_000))
        .unwrap()
}

fn book() -> Book {
    Book::new(spec(), 64)
}

fn run(book: &mut Book, cmd: OrderCommand) -> Vec<BookEvent> {
    let mut events = Vec::new();
    book.submit(&cmd, &mut events);
    events
}

fn trades(events: &[BookEvent]) -> Vec<Trade> {
    events
        .iter()
        .filter_map(|e| match e {
            BookEvent::Trade(t) => Some(*t),
            _ => None,
        })
        .collect()
}

fn fills(events: &[BookEvent]) -> Vec<(u64, i64, i64)> {
    trades(events)
        .iter()
        .map(|t| (t.maker.0, t.price.0, t.qty.0))
        .collect()
}

fn rejected(events: &[BookEvent]) -> Option<RejectReason> {
    events.iter().find_map(|e| match e {
        BookEvent::Rejected { reason, .. } => Some(*reason),
        _ => None,
    })
}

fn cancelled(events: &[BookEvent], id: u64) -> Option<(i64, CancelReason)> {
    events.iter().find_map(|e| match e {
        BookEvent::Cancelled {
            id: OrderId(i),
            remaining,
            reason,
        } if *i == id => Some((remaining.0, *reason)),
        _ => None,
    })
}

fn mark(book: &mut Book, price: i64) -> Vec<BookEvent> {
    let mut events = Vec::new();
    assert!(book.on_mark_price(Price(price), &mut events));
    events
}

#[test]
fn price_time_priority_and_maker_price() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 1, SELL, 1001, 5));
    run(&mut b, OrderCommand::limit(2, 2, SELL, 1000, 5));
    run(&mut b, OrderCommand::limit(3, 3, SELL, 1000, 5));
    let events = run(&mut b, OrderCommand::limit(4, 4, BUY, 1005, 12));
    // Best price first, then oldest first, always at the maker's price.
    assert_eq!(
        fills(&events),
        vec![(2, 1000, 5), (3, 1000, 5), (1, 1001, 2)]
    );
    assert_eq!(events[0], BookEvent::Accepted { id: OrderId(4) });
    let t = trades(&events)[0];
    assert_eq!(
        (t.taker, t.taker_side, t.liquidation),
        (OrderId(4), BUY, false)
    );
    assert_eq!(
        (t.maker_account, t.taker_account),
        (AccountId(2), AccountId(4))
    );
    assert_eq!(b.bbo().ask, Price(1001));
    assert_eq!(b.bbo().ask_qty, Qty(3));
    b.check_invariants().unwrap();
}

#[test]
fn gtc_rests_ioc_remainder_is_cancelled() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 1, SELL, 1000, 3));
    let events = run(
        &mut b,
        OrderCommand::limit(2, 2, BUY, 1000, 5).with_tif(TimeInForce::Ioc),
    );
    assert_eq!(fills(&events), vec![(1, 1000, 3)]);
    assert_eq!(cancelled(&events, 2), Some((2, CancelReason::IocRemainder)));
    assert!(b.order(OrderId(2)).is_none());
    let events = run(&mut b, OrderCommand::limit(3, 2, BUY, 999, 5));
    assert!(cancelled(&events, 3).is_none());
    assert_eq!(b.order(OrderId(3)).unwrap().remaining, Qty(5));
}

#[test]
fn fok_fills_completely_or_is_rejected_without_trading() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 1, SELL, 1000, 3));
    run(&mut b, OrderCommand::limit(2, 1, SELL, 1002, 3));
    let events = run(
        &mut b,
        OrderCommand::limit(3, 2, BUY, 1001, 4).with_tif(TimeInForce::Fok),
    );
    assert_eq!(rejected(&events), Some(RejectReason::FokUnfillable));
    assert!(trades(&events).is_empty());
    assert_eq!(b.bbo().ask_qty, Qty(3));
    let events = run(
        &mut b,
        OrderCommand::limit(4, 2, BUY, 1002, 6).with_tif(TimeInForce::Fok),
    );
    assert_eq!(fills(&events), vec![(1, 1000, 3), (2, 1002, 3)]);
    assert!(b.is_empty());
}

#[test]
fn fok_counts_depth_as_self_trade_prevention_would() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 7, SELL, 1000, 3));
    run(&mut b, OrderCommand::limit(2, 1, SELL, 1000, 3));
    // Own order first: cancel-taker would stop there, so not fillable.
    let fok = OrderCommand::limit(3, 7, BUY, 1000, 3).with_tif(TimeInForce::Fok);
    assert_eq!(
        rejected(&run(&mut b, fok)),
        Some(RejectReason::FokUnfillable)
    );
    // Cancel-maker skips (and cancels) the own order, then fills from the other.
    let events = run(&mut b, fok.with_stp(SelfTradePrevention::CancelMaker));
    assert_eq!(cancelled(&events, 1), Some((3, CancelReason::Stp)));
    assert_eq!(fills(&events), vec![(2, 1000, 3)]);
}

#[test]
fn market_orders_need_a_reference_and_stay_in_their_band() {
    let mut b = book();
    let events = run(&mut b, OrderCommand::market(1, 1, BUY, 5));
    assert_eq!(rejected(&events), Some(RejectReason::NoReferencePrice));
    mark(&mut b, 1000);
    // Band 5 %: a buy may pay up to 1050.
    run(&mut b, OrderCommand::limit(2, 2, SELL, 1040, 2));
    run(&mut b, OrderCommand::limit(3, 2, SELL, 1050, 2));
    run(&mut b, OrderCommand::limit(4, 2, SELL, 1051, 2));
    let events = run(&mut b, OrderCommand::market(5, 1, BUY, 10));
    assert_eq!(fills(&events), vec![(2, 1040, 2), (3, 1050, 2)]);
    assert_eq!(
        cancelled(&events, 5),
        Some((6, CancelReason::MarketUnfilled))
    );
    assert_eq!(b.bbo().ask, Price(1051));
    // A sell may go down to 950 (floor of the band, towards the mark).
    mark(&mut b, 999);
    run(&mut b, OrderCommand::limit(6, 2, BUY, 950, 1));
    run(&mut b, OrderCommand::limit(7, 2, BUY, 949, 1));
    let events = run(&mut b, OrderCommand::market(8, 1, SELL, 5));
    assert_eq!(fills(&events), vec![(6, 950, 1)]);
}

#[test]
fn post_only_is_rejected_when_it_would_take() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 1, SELL, 1000, 3));
    let events = run(&mut b, OrderCommand::limit(2, 2, BUY, 1000, 3).post_only());
    assert_eq!(rejected(&events), Some(RejectReason::WouldCross));
    assert!(trades(&events).is_empty());
    let events = run(&mut b, OrderCommand::limit(3, 2, BUY, 999, 3).post_only());
    assert_eq!(events[0], BookEvent::Accepted { id: OrderId(3) });
    let ioc = OrderCommand::limit(4, 2, BUY, 990, 3)
        .post_only()
        .with_tif(TimeInForce::Ioc);
    assert_eq!(
        rejected(&run(&mut b, ioc)),
        Some(RejectReason::InvalidOrder)
    );
    // Modify of a post-only order to a crossing price is refused; the order stays.
    let mut events = Vec::new();
    b.modify(OrderId(3), Some(Price(1000)), None, &mut events);
    assert_eq!(rejected(&events), Some(RejectReason::WouldCross));
    assert_eq!(b.order(OrderId(3)).unwrap().price, Price(999));
}

#[test]
fn mark_stops_fire_in_price_order_as_takers() {
    let mut b = book();
    for (id, price) in [(1, 1010), (2, 1011), (3, 1012)] {
        run(&mut b, OrderCommand::limit(id, 1, SELL, price, 1));
    }
    mark(&mut b, 1000);
    // Buy stops fire when the mark rises to their trigger, lowest trigger first.
    run(
        &mut b,
        OrderCommand::stop_market(10, 2, BUY, 1, 1006, TriggerSource::Mark),
    );
    run(
        &mut b,
        OrderCommand::stop_market(11, 2, BUY, 1, 1004, TriggerSource::Mark),
    );
    run(
        &mut b,
        OrderCommand::stop_market(12, 2, BUY, 1, 1020, TriggerSource::Mark),
    );
    assert_eq!(b.order(OrderId(10)).unwrap().state, OrderState::Untriggered);
    let events = mark(&mut b, 1006);
    let fired: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            BookEvent::Triggered { id } => Some(id.0),
            _ => None,
        })
        .collect();
    assert_eq!(fired, vec![11, 10]);
    assert_eq!(fills(&events), vec![(1, 1010, 1), (2, 1011, 1)]);
    assert!(b.order(OrderId(12)).is_some());
    // Cancelled stops never fire.
    let mut cancel = Vec::new();
    b.cancel(OrderId(12), &mut cancel);
    assert_eq!(cancelled(&cancel, 12), Some((1, CancelReason::User)));
    assert!(
        mark(&mut b, 1030)
            .iter()
            .all(|e| !matches!(e, BookEvent::Triggered { .. }))
    );
}

#[test]
fn last_trade_stops_cascade_from_the_books_own_trades() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 1, BUY, 995, 1));
    run(&mut b, OrderCommand::limit(2, 1, BUY, 990, 5));
    // A sell stop-limit at 990 fires when the last trade is 995 or lower.
    run(
        &mut b,
        OrderCommand::stop_limit(10, 2, SELL, 990, 2, 995, TriggerSource::Last),
    );
    let events = run(&mut b, OrderCommand::limit(3, 3, SELL, 995, 1));
    assert_eq!(
        fills(&events),
        vec![(1, 995, 1), (2, 990, 2)],
        "the stop trades right after the trade that fired it"
    );
    assert!(events.contains(&BookEvent::Triggered { id: OrderId(10) }));
    assert_eq!(b.last_trade_price(), Some(Price(990)));
}

#[test]
fn cancel_and_unknown_ids() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 1, BUY, 999, 4));
    let mut events = Vec::new();
    b.cancel(OrderId(1), &mut events);
    assert_eq!(cancelled(&events, 1), Some((4, CancelReason::User)));
    assert_eq!(events.last(), Some(&BookEvent::Bbo(Bbo::default())));
    events.clear();
    b.cancel(OrderId(1), &mut events);
    assert_eq!(rejected(&events), Some(RejectReason::UnknownOrder));
    events.clear();
    b.modify(OrderId(99), None, Some(Qty(1)), &mut events);
    assert_eq!(rejected(&events), Some(RejectReason::UnknownOrder));
    run(&mut b, OrderCommand::limit(2, 1, BUY, 999, 4));
    let events = run(&mut b, OrderCommand::limit(2, 1, BUY, 998, 4));
    assert_eq!(rejected(&events), Some(RejectReason::DuplicateId));
}

#[test]
fn modify_priority_rules() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 1, SELL, 1000, 5));
    run(&mut b, OrderCommand::limit(2, 2, SELL, 1000, 5));
    let mut events = Vec::new();
    // Quantity down keeps priority.
    b.modify(OrderId(1), None, Some(Qty(3)), &mut events);
    assert_eq!(
        events[0],
        BookEvent::Modified {
            id: OrderId(1),
            price: Price(1000),
            remaining: Qty(3)
        }
    );
    let events = run(&mut b, OrderCommand::limit(3, 3, BUY, 1000, 1));
    assert_eq!(fills(&events), vec![(1, 1000, 1)]);
    // Quantity up loses it.
    let mut events = Vec::new();
    b.modify(OrderId(1), None, Some(Qty(9)), &mut events);
    let events = run(&mut b, OrderCommand::limit(4, 3, BUY, 1000, 1));
    assert_eq!(fills(&events), vec![(2, 1000, 1)]);
    // A price change loses it and trades as a taker when it crosses.
    run(&mut b, OrderCommand::limit(5, 5, BUY, 998, 2));
    let mut events = Vec::new();
    b.modify(OrderId(2), Some(Price(998)), None, &mut events);
    assert_eq!(fills(&events), vec![(5, 998, 2)]);
    assert_eq!(b.order(OrderId(2)).unwrap().price, Price(998));
    assert_eq!(b.order(OrderId(2)).unwrap().remaining, Qty(2));
    assert_eq!(b.bbo().ask, Price(998));
    b.check_invariants().unwrap();
}

#[test]
fn self_trade_prevention_modes() {
    let setup = || {
        let mut b = book();
        run(&mut b, OrderCommand::limit(1, 7, SELL, 1000, 2));
        run(&mut b, OrderCommand::limit(2, 8, SELL, 1000, 2));
        b
    };
    let taker = OrderCommand::limit(3, 7, BUY, 1000, 3);

    let mut b = setup();
    let events = run(&mut b, taker);
    assert_eq!(cancelled(&events, 3), Some((3, CancelReason::Stp)));
    assert!(trades(&events).is_empty() && b.order(OrderId(1)).is_some());

    let mut b = setup();
    let events = run(&mut b, taker.with_stp(SelfTradePrevention::CancelMaker));
    assert_eq!(cancelled(&events, 1), Some((2, CancelReason::Stp)));
    assert_eq!(fills(&events), vec![(2, 1000, 2)]);
    assert_eq!(b.order(OrderId(3)).unwrap().remaining, Qty(1));

    let mut b = setup();
    let events = run(&mut b, taker.with_stp(SelfTradePrevention::CancelBoth));
    assert_eq!(cancelled(&events, 1), Some((2, CancelReason::Stp)));
    assert_eq!(cancelled(&events, 3), Some((3, CancelReason::Stp)));
    assert!(trades(&events).is_empty());

    let mut b = setup();
    let events = run(&mut b, taker.with_stp(SelfTradePrevention::None));
    assert_eq!(fills(&events), vec![(1, 1000, 2), (2, 1000, 1)]);
}

#[test]
fn reduce_only_is_carried_and_liquidations_are_flagged() {
    let mut b = book();
    run(
        &mut b,
        OrderCommand::limit(1, 1, SELL, 1000, 5).reduce_only(),
    );
    assert!(b.order(OrderId(1)).unwrap().reduce_only);
    // Liquidation orders skip the symbol's max quantity and flag their trades.
    let mut events = Vec::new();
    let liquidation = OrderCommand::limit(2, 9, BUY, 1000, 5000).with_tif(TimeInForce::Ioc);
    b.submit_liquidation(&liquidation, &mut events);
    let t = trades(&events);
    assert_eq!(t.len(), 1);
    assert!(t[0].liquidation);
    assert_eq!(
        cancelled(&events, 2),
        Some((4995, CancelReason::IocRemainder))
    );
    assert_eq!(
        rejected(&run(&mut b, liquidation.with_tif(TimeInForce::Gtc))),
        Some(RejectReason::InvalidQty)
    );
}

#[test]
fn bad_input_is_rejected_with_a_reason() {
    let mut b = book();
    let cases = [
        (
            OrderCommand::limit(1, 1, BUY, 1000, 0),
            RejectReason::InvalidQty,
        ),
        (
            OrderCommand::limit(1, 1, BUY, 1000, -5),
            RejectReason::InvalidQty,
        ),
        (
            OrderCommand::limit(1, 1, BUY, 1000, 1001),
            RejectReason::InvalidQty,
        ),
        (
            OrderCommand::limit(1, 1, BUY, 0, 1),
            RejectReason::InvalidPrice,
        ),
        (
            OrderCommand::limit(1, 1, BUY, i64::MIN, 1),
            RejectReason::InvalidPrice,
        ),
        (
            OrderCommand::limit(1, 1, BUY, i64::MAX, 1),
            RejectReason::InvalidPrice,
        ),
        (
            OrderCommand::stop_market(1, 1, BUY, 1, -1, TriggerSource::Last),
            RejectReason::InvalidPrice,
        ),
        (
            OrderCommand::market(1, 1, BUY, 1).post_only(),
            RejectReason::InvalidOrder,
        ),
    ];
    for (cmd, reason) in cases {
        assert_eq!(rejected(&run(&mut b, cmd)), Some(reason), "{cmd:?}");
    }
    assert_eq!(RejectReason::FokUnfillable.as_str(), "fok_unfillable");
    assert_eq!(CancelReason::MarketUnfilled.as_str(), "market_unfilled");
    b.check_invariants().unwrap();
}

#[test]
fn a_full_book_rejects_resting_orders_but_still_matches() {
    let mut b = Book::new(spec(), 2);
    run(&mut b, OrderCommand::limit(1, 1, SELL, 1000, 1));
    run(&mut b, OrderCommand::limit(2, 1, SELL, 1001, 1));
    let events = run(&mut b, OrderCommand::limit(3, 2, SELL, 1002, 1));
    assert_eq!(rejected(&events), Some(RejectReason::BookFull));
    let events = run(
        &mut b,
        OrderCommand::limit(4, 2, BUY, 1000, 1).with_tif(TimeInForce::Ioc),
    );
    assert_eq!(fills(&events), vec![(1, 1000, 1)]);
    assert_eq!(
        run(&mut b, OrderCommand::limit(5, 2, SELL, 1002, 1))[0],
        BookEvent::Accepted { id: OrderId(5) }
    );
}

#[test]
fn bbo_events_depth_and_impact_prices() {
    let mut b = book();
    let events = run(&mut b, OrderCommand::limit(1, 1, BUY, 999, 2));
    assert_eq!(
        events.last(),
        Some(&BookEvent::Bbo(Bbo {
            bid: Price(999),
            bid_qty: Qty(2),
            ask: Price(0),
            ask_qty: Qty(0)
        }))
    );
    // No BBO event when the top does not change.
    let events = run(&mut b, OrderCommand::limit(2, 1, BUY, 990, 2));
    assert!(!events.iter().any(|e| matches!(e, BookEvent::Bbo(_))));
    run(&mut b, OrderCommand::limit(3, 1, SELL, 1000, 1000));
    run(&mut b, OrderCommand::limit(4, 1, SELL, 1010, 1000));
    let mut out = [DepthLevel::default(); 1];
    assert_eq!(b.depth(BUY, &mut out), 1);
    assert_eq!(
        out[0],
        DepthLevel {
            price: Price(999),
            qty: Qty(2)
        }
    );
    let mut out = [DepthLevel::default(); 8];
    assert_eq!(b.depth(SELL, &mut out), 2);
    assert_eq!(out[1].price, Price(1010));

    // Tick 0.1, lot 0.001: 1000 lots at 1000 ticks = 1 × 100 = 100 quote.
    let quote = |q: i128| Money(q * Money::UNIT);
    assert_eq!(b.impact_ask(quote(100)), Some(Price(1000)));
    // 150 quote: 100 at 100.0 (1 unit) + 50 at 101.0 (0.495... units):
    // average = 150 / 1.4950495... = 100.3311 → 1003.3 ticks, rounded up.
    assert_eq!(b.impact_ask(quote(150)), Some(Price(1004)));
    assert_eq!(b.impact_ask(quote(1_000_000)), None);
    assert_eq!(b.impact_bid(Money(0)), None);
    // Bids: 2 lots at 99.9 = 0.1998 quote, 2 at 99.0 = 0.198.
    assert_eq!(b.impact_bid(Money(300_000_000_000)), Some(Price(995)));
    // The book did not change.
    assert_eq!(b.bbo().ask_qty, Qty(1000));
}

#[test]
fn a_stop_already_past_its_trigger_fires_on_submit() {
    let mut b = book();
    run(&mut b, OrderCommand::limit(1, 1, SELL, 1001, 1));
    mark(&mut b, 1000);
    let events = run(
        &mut b,
        OrderCommand::stop_market(2, 2, BUY, 1, 990, TriggerSource::Mark),
    );
    assert_eq!(
        &events[..3],
        &[
            BookEvent::Accepted { id: OrderId(2) },
            BookEvent::Triggered { id: OrderId(2) },
            trades(&events)
                .first()
                .map(|t| BookEvent::Trade(*t))
                .unwrap(),
        ]
    );
    assert_eq!(fills(&events), vec![(1, 1001, 1)]);
    assert!(b.order(OrderId(2)).is_none());
}

/// The book skips its end-of-command BBO comparison when no side's best level changed: every
/// kind of change at the top must still be reported, and changes behind it must not be.
#[test]
fn bbo_is_reported_exactly_when_the_top_changes() {
    let mut b = book();
    let mut events = Vec::new();
    let bbo_of = |events: &[BookEvent]| {
        events.iter().find_map(|e| match e {
            BookEvent::Bbo(bbo) => Some(*bbo),
            _ => None,
        })
    };
    let top = |bid: i64, bid_qty: i64, ask: i64, ask_qty: i64| Bbo {
        bid: Price(bid),
        bid_qty: Qty(bid_qty),
        ask: Price(ask),
        ask_qty: Qty(ask_qty),
    };
    for (id, side, price, qty) in [
        (1, BUY, 990, 5),
        (2, BUY, 985, 5),
        (3, BUY, 980, 5),
        (4, SELL, 1010, 5),
        (5, SELL, 1015, 5),
    ] {
        run(&mut b, OrderCommand::limit(id, id, side, price, qty));
    }
    let mut modify = |b: &mut Book, id: u64, price: Option<i64>, qty: Option<i64>| {
        events.clear();
        b.modify(OrderId(id), price.map(Price), qty.map(Qty), &mut events);
        bbo_of(&events)
    };
    // Behind the top: a move between deep levels, a reduce of a deep order.
    assert_eq!(modify(&mut b, 3, Some(982), None), None);
    assert_eq!(modify(&mut b, 2, None, Some(1)), None);
    assert_eq!(modify(&mut b, 5, Some(1020), None), None);
    // A move onto the best level (its total grows), one past it, one away from it.
    assert_eq!(
        modify(&mut b, 2, Some(990), None),
        Some(top(990, 6, 1010, 5))
    );
    assert_eq!(
        modify(&mut b, 3, Some(995), None),
        Some(top(995, 5, 1010, 5))
    );
    assert_eq!(
        modify(&mut b, 3, Some(970), None),
        Some(top(990, 6, 1010, 5))
    );
    // Reducing the best level's head; reducing the ask side's only best order.
    assert_eq!(modify(&mut b, 1, None, Some(2)), Some(top(990, 3, 1010, 5)));
    assert_eq!(modify(&mut b, 4, None, Some(4)), Some(top(990, 3, 1010, 4)));
    // A larger quantity at the same price (back of the level) changes the total.
    assert_eq!(modify(&mut b, 4, None, Some(9)), Some(top(990, 3, 1010, 9)));
    // Cancelling a deep order: nothing; cancelling the best ask: the next level.
    events.clear();
    b.cancel(OrderId(3), &mut events);
    assert_eq!(bbo_of(&events), None);
    events.clear();
    b.cancel(OrderId(4), &mut events);
    assert_eq!(bbo_of(&events), Some(top(990, 3, 1020, 5)));
    // A trade that leaves the best level partly filled, then one that empties it.
    let events = run(
        &mut b,
        OrderCommand::limit(10, 99, SELL, 990, 1).with_tif(TimeInForce::Ioc),
    );
    assert_eq!(bbo_of(&events), Some(top(990, 2, 1020, 5)));
    let events = run(
        &mut b,
        OrderCommand::limit(11, 99, SELL, 990, 2).with_tif(TimeInForce::Ioc),
    );
    assert_eq!(bbo_of(&events), Some(top(0, 0, 1020, 5)));
    // A GTC behind the top says nothing; one that improves it does.
    assert_eq!(
        bbo_of(&run(&mut b, OrderCommand::limit(12, 5, SELL, 1030, 1))),
        None
    );
    assert_eq!(
        bbo_of(&run(&mut b, OrderCommand::limit(13, 5, SELL, 1019, 1))),
        Some(top(0, 0, 1019, 1))
    );
    assert_eq!(b.check_invariants(), Ok(()));
}
