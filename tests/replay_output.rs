//! Event output: the exact line of every event kind, canonical decimals (no trailing zeros,
//! negatives, nulls), key order, determinism, and the conversion from book events.

use std::str::FromStr;

use liqcore::book::{
    Bbo, BookEvent, CancelReason, DepthLevel, RejectReason, SelfTradePrevention, Trade,
};
use liqcore::replay::{
    AccountSnapshot, AdlEvent, BookSnapshot, LiquidationEvent, MarginMode, PositionSnapshot,
    Reject, RejectSubject, ReplayCommand, ReplayEvent, SymbolTable, money_string, parse_line,
    write_event,
};
use liqcore::types::{AccountId, Money, OrderId, Price, Qty, Side, SymbolId};
use rust_decimal::Decimal;

/// BTC-PERP (id 0): tick 0.5, lot 0.001. ETH (id 1): tick 0.01, lot 0.1. "Q\"X" (id 2): tick
/// 100, lot 10.
fn table() -> SymbolTable {
    let mut table = SymbolTable::new();
    for (name, tick, lot) in [
        ("BTC-PERP", "0.5", "0.001"),
        ("ETH", "0.01", "0.1"),
        ("Q\\\"X", "100", "10"),
    ] {
        let line = format!(
            r#"{{"op":"symbol","symbol":"{name}","tick_size":"{tick}","lot_size":"{lot}","max_leverage":"10","margin_tiers":[{{"floor":"0","mmr":"0.01"}}]}}"#
        );
        let Some(ReplayCommand::Symbol(symbol)) = parse_line(1, &line).unwrap() else {
            panic!()
        };
        table.define(&symbol).unwrap();
    }
    table
}

fn line(event: &ReplayEvent) -> String {
    let mut out = Vec::new();
    write_event(&mut out, event, &table()).unwrap();
    let text = String::from_utf8(out).unwrap();
    let body = text.strip_suffix('\n').expect("one newline at the end");
    assert!(!body.contains('\n'));
    // Every line is valid JSON.
    serde_json::from_str::<serde_json::Value>(body).unwrap();
    body.to_owned()
}

const BTC: SymbolId = SymbolId(0);
const ETH: SymbolId = SymbolId(1);

fn trade(price: i64, qty: i64, liquidation: bool) -> Trade {
    Trade {
        maker: OrderId(1),
        taker: OrderId(2),
        maker_account: AccountId(10),
        taker_account: AccountId(20),
        price: Price(price),
        qty: Qty(qty),
        taker_side: Side::Buy,
        liquidation,
    }
}

#[test]
fn accepted() {
    assert_eq!(
        line(&ReplayEvent::Accepted { id: OrderId(42) }),
        r#"{"ev":"accepted","id":42}"#
    );
    assert_eq!(
        line(&ReplayEvent::Accepted {
            id: OrderId(u64::MAX)
        }),
        r#"{"ev":"accepted","id":18446744073709551615}"#
    );
}

#[test]
fn rejected_names_its_subject() {
    let rejected = |subject, reason| line(&ReplayEvent::Rejected { subject, reason });
    assert_eq!(
        rejected(RejectSubject::Order(OrderId(3)), Reject::PriceNotOnTick),
        r#"{"ev":"rejected","id":3,"reason":"price_not_on_tick"}"#
    );
    assert_eq!(
        rejected(
            RejectSubject::Account(AccountId(9)),
            Reject::Other("insufficient_margin")
        ),
        r#"{"ev":"rejected","account":9,"reason":"insufficient_margin"}"#
    );
    assert_eq!(
        rejected(RejectSubject::Symbol("DOGE".into()), Reject::UnknownSymbol),
        r#"{"ev":"rejected","symbol":"DOGE","reason":"unknown_symbol"}"#
    );
    assert_eq!(
        rejected(RejectSubject::None, Reject::InvalidAmount),
        r#"{"ev":"rejected","reason":"invalid_amount"}"#
    );
    assert_eq!(
        rejected(
            RejectSubject::Order(OrderId(4)),
            Reject::Book(RejectReason::DuplicateId)
        ),
        r#"{"ev":"rejected","id":4,"reason":"duplicate_id"}"#
    );
}

#[test]
fn trade_prints_exact_decimals() {
    // 39400 ticks × 0.5 = 19700 (no ".0"); 500 lots × 0.001 = 0.5 (no trailing zeros).
    assert_eq!(
        line(&ReplayEvent::Trade {
            symbol: BTC,
            trade: trade(39_400, 500, false)
        }),
        r#"{"ev":"trade","symbol":"BTC-PERP","price":"19700","qty":"0.5","maker":1,"taker":2,"maker_account":10,"taker_account":20,"taker_side":"buy","liquidation":false}"#
    );
    let liquidation = ReplayEvent::Trade {
        symbol: ETH,
        trade: Trade {
            taker_side: Side::Sell,
            ..trade(150_001, 3, true)
        },
    };
    assert_eq!(
        line(&liquidation),
        r#"{"ev":"trade","symbol":"ETH","price":"1500.01","qty":"0.3","maker":1,"taker":2,"maker_account":10,"taker_account":20,"taker_side":"sell","liquidation":true}"#
    );
}

#[test]
fn cancelled() {
    for (reason, word) in [
        (CancelReason::User, "user"),
        (CancelReason::IocRemainder, "ioc_remainder"),
        (CancelReason::Stp, "stp"),
        (CancelReason::Liquidation, "liquidation"),
        (CancelReason::MarketUnfilled, "market_unfilled"),
    ] {
        let event = ReplayEvent::Cancelled {
            symbol: BTC,
            id: OrderId(5),
            remaining: Qty(1_250),
            reason,
        };
        assert_eq!(
            line(&event),
            format!(r#"{{"ev":"cancelled","id":5,"remaining":"1.25","reason":"{word}"}}"#)
        );
    }
}

#[test]
fn triggered_mark_insurance() {
    assert_eq!(
        line(&ReplayEvent::Triggered { id: OrderId(8) }),
        r#"{"ev":"triggered","id":8}"#
    );
    assert_eq!(
        line(&ReplayEvent::Mark {
            symbol: BTC,
            price: Price(40_001)
        }),
        r#"{"ev":"mark","symbol":"BTC-PERP","price":"20000.5"}"#
    );
    assert_eq!(
        line(&ReplayEvent::Insurance {
            balance: Money(1_000_500_000_000_000)
        }),
        r#"{"ev":"insurance","balance":"1000.5"}"#
    );
    assert_eq!(
        line(&ReplayEvent::Insurance { balance: Money(-1) }),
        r#"{"ev":"insurance","balance":"-0.000000000001"}"#
    );
}

#[test]
fn liquidation_with_and_without_a_limit() {
    let liq = LiquidationEvent {
        account: AccountId(1),
        symbol: BTC,
        side: Side::Sell,
        qty: Qty(2_000),
        limit_price: Some(Price(39_201)),
        id: OrderId(1_000_001),
    };
    assert_eq!(
        line(&ReplayEvent::Liquidation(liq)),
        r#"{"ev":"liquidation","account":1,"symbol":"BTC-PERP","side":"sell","qty":"2","limit_price":"19600.5","id":1000001}"#
    );
    let no_limit = LiquidationEvent {
        limit_price: None,
        side: Side::Buy,
        ..liq
    };
    assert_eq!(
        line(&ReplayEvent::Liquidation(no_limit)),
        r#"{"ev":"liquidation","account":1,"symbol":"BTC-PERP","side":"buy","qty":"2","limit_price":null,"id":1000001}"#
    );
}

#[test]
fn adl() {
    let adl = AdlEvent {
        symbol: ETH,
        liquidated_account: 3.into_account(),
        counterparty_account: 4.into_account(),
        qty: Qty(15),
        price: Price(149_990),
    };
    assert_eq!(
        line(&ReplayEvent::Adl(adl)),
        r#"{"ev":"adl","symbol":"ETH","liquidated_account":3,"counterparty_account":4,"qty":"1.5","price":"1499.9"}"#
    );
}

trait IntoAccount {
    fn into_account(self) -> AccountId;
}

impl IntoAccount for u64 {
    fn into_account(self) -> AccountId {
        AccountId(self)
    }
}

fn money(text: &str) -> Money {
    Money::from_decimal(Decimal::from_str(text).unwrap()).unwrap()
}

#[test]
fn account_snapshot_with_cross_and_isolated_positions() {
    let snapshot = AccountSnapshot {
        account: AccountId(1),
        collateral: money("1000"),
        equity: money("940.25"),
        maintenance_margin: money("78.8"),
        initial_margin: money("394"),
        positions: vec![
            PositionSnapshot {
                symbol: BTC,
                qty: Qty(-2_000),
                entry_price: Decimal::from_str("20000.00").unwrap(),
                mode: MarginMode::Cross,
                margin: None,
                unrealized_pnl: money("-59.75"),
                maintenance_margin: money("78.8"),
                liquidation_price: Some(Price(40_930)),
                bankruptcy_price: Some(Price(40_940)),
            },
            PositionSnapshot {
                symbol: ETH,
                qty: Qty(10),
                entry_price: Decimal::from_str("1500.1250").unwrap(),
                mode: MarginMode::Isolated,
                margin: Some(money("150")),
                unrealized_pnl: Money::ZERO,
                maintenance_margin: money("15.00"),
                liquidation_price: None,
                bankruptcy_price: None,
            },
        ],
    };
    assert_eq!(
        line(&ReplayEvent::Account(snapshot)),
        concat!(
            r#"{"ev":"account","account":1,"collateral":"1000","equity":"940.25","maintenance_margin":"78.8","initial_margin":"394","positions":["#,
            r#"{"symbol":"BTC-PERP","qty":"-2","entry_price":"20000","mode":"cross","unrealized_pnl":"-59.75","maintenance_margin":"78.8","liquidation_price":"20465","bankruptcy_price":"20470"},"#,
            r#"{"symbol":"ETH","qty":"1","entry_price":"1500.125","mode":"isolated","margin":"150","unrealized_pnl":"0","maintenance_margin":"15","liquidation_price":null,"bankruptcy_price":null}]}"#
        )
    );
}

#[test]
fn account_without_positions() {
    let snapshot = AccountSnapshot {
        account: AccountId(2),
        collateral: Money::ZERO,
        equity: Money::ZERO,
        maintenance_margin: Money::ZERO,
        initial_margin: Money::ZERO,
        positions: Vec::new(),
    };
    assert_eq!(
        line(&ReplayEvent::Account(snapshot)),
        r#"{"ev":"account","account":2,"collateral":"0","equity":"0","maintenance_margin":"0","initial_margin":"0","positions":[]}"#
    );
}

#[test]
fn book_snapshot() {
    let level = |price, qty| DepthLevel {
        price: Price(price),
        qty: Qty(qty),
    };
    let book = BookSnapshot {
        symbol: BTC,
        bids: vec![level(39_999, 1_500), level(39_990, 10)],
        asks: vec![level(40_020, 100_000)],
    };
    assert_eq!(
        line(&ReplayEvent::Book(book)),
        r#"{"ev":"book","symbol":"BTC-PERP","bids":[["19999.5","1.5"],["19995","0.01"]],"asks":[["20010","100"]]}"#
    );
    let empty = BookSnapshot {
        symbol: ETH,
        bids: Vec::new(),
        asks: Vec::new(),
    };
    assert_eq!(
        line(&ReplayEvent::Book(empty)),
        r#"{"ev":"book","symbol":"ETH","bids":[],"asks":[]}"#
    );
}

#[test]
fn integer_grids_print_without_point_and_names_are_escaped() {
    // Symbol 2: tick 100, lot 10, name `Q"X` printed as a JSON string.
    assert_eq!(
        line(&ReplayEvent::Mark {
            symbol: SymbolId(2),
            price: Price(7)
        }),
        r#"{"ev":"mark","symbol":"Q\"X","price":"700"}"#
    );
}

#[test]
fn trailing_zeros_negatives_and_zero() {
    assert_eq!(money_string(Money(0)), "0");
    assert_eq!(money_string(Money(Money::UNIT)), "1");
    assert_eq!(money_string(Money(10 * Money::UNIT)), "10");
    assert_eq!(money_string(Money(1_500_000_000_000)), "1.5");
    assert_eq!(money_string(Money(-1_500_000_000_000)), "-1.5");
    assert_eq!(money_string(Money(-1)), "-0.000000000001");
    assert_eq!(money_string(Money(100_000_000_001)), "0.100000000001");
    // Exact for every i128, beyond Decimal's 96 bits.
    assert_eq!(
        money_string(Money(i128::MAX)),
        "170141183460469231731687303.715884105727"
    );
    assert_eq!(
        money_string(Money(i128::MIN)),
        "-170141183460469231731687303.715884105728"
    );
    // Negative quantities and zero prices print canonically.
    let event = ReplayEvent::Cancelled {
        symbol: BTC,
        id: OrderId(1),
        remaining: Qty(-20),
        reason: CancelReason::User,
    };
    assert!(line(&event).contains(r#""remaining":"-0.02""#));
    let zero = ReplayEvent::Mark {
        symbol: ETH,
        price: Price(0),
    };
    assert_eq!(line(&zero), r#"{"ev":"mark","symbol":"ETH","price":"0"}"#);
}

#[test]
fn negative_zero_entry_price_prints_zero() {
    let snapshot = AccountSnapshot {
        account: AccountId(2),
        collateral: Money::ZERO,
        equity: Money::ZERO,
        maintenance_margin: Money::ZERO,
        initial_margin: Money::ZERO,
        positions: vec![PositionSnapshot {
            symbol: ETH,
            qty: Qty(0),
            entry_price: Decimal::from_str("-0.000").unwrap(),
            mode: MarginMode::Cross,
            margin: None,
            unrealized_pnl: Money::ZERO,
            maintenance_margin: Money::ZERO,
            liquidation_price: None,
            bankruptcy_price: None,
        }],
    };
    let text = line(&ReplayEvent::Account(snapshot));
    assert!(text.contains(r#""qty":"0","entry_price":"0","#), "{text}");
}

#[test]
fn unknown_symbol_id_writes_nothing() {
    let mut out = b"earlier\n".to_vec();
    let event = ReplayEvent::Mark {
        symbol: SymbolId(99),
        price: Price(1),
    };
    let error = write_event(&mut out, &event, &table()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(out, b"earlier\n");
}

#[test]
fn output_is_deterministic() {
    let events = [
        ReplayEvent::Trade {
            symbol: BTC,
            trade: trade(39_400, 500, false),
        },
        ReplayEvent::Book(BookSnapshot {
            symbol: ETH,
            bids: vec![DepthLevel {
                price: Price(1),
                qty: Qty(1),
            }],
            asks: Vec::new(),
        }),
        ReplayEvent::Insurance {
            balance: money("12.34"),
        },
    ];
    let render = || {
        let table = table();
        let mut out = Vec::new();
        for event in &events {
            write_event(&mut out, event, &table).unwrap();
        }
        out
    };
    let first = render();
    for _ in 0..10 {
        assert_eq!(render(), first);
    }
    assert_eq!(first.iter().filter(|&&b| b == b'\n').count(), events.len());
}

#[test]
fn book_events_convert() {
    let from = |event| ReplayEvent::from_book(BTC, event);
    assert_eq!(
        from(BookEvent::Accepted { id: OrderId(1) }),
        Some(ReplayEvent::Accepted { id: OrderId(1) })
    );
    assert_eq!(
        from(BookEvent::Rejected {
            id: OrderId(2),
            reason: RejectReason::WouldCross
        }),
        Some(ReplayEvent::Rejected {
            subject: RejectSubject::Order(OrderId(2)),
            reason: Reject::Book(RejectReason::WouldCross),
        })
    );
    assert_eq!(
        from(BookEvent::Trade(trade(1, 2, false))),
        Some(ReplayEvent::Trade {
            symbol: BTC,
            trade: trade(1, 2, false)
        })
    );
    assert_eq!(
        from(BookEvent::Cancelled {
            id: OrderId(3),
            remaining: Qty(4),
            reason: CancelReason::Stp
        }),
        Some(ReplayEvent::Cancelled {
            symbol: BTC,
            id: OrderId(3),
            remaining: Qty(4),
            reason: CancelReason::Stp
        })
    );
    assert_eq!(
        from(BookEvent::Triggered { id: OrderId(5) }),
        Some(ReplayEvent::Triggered { id: OrderId(5) })
    );
    assert_eq!(
        from(BookEvent::Modified {
            id: OrderId(6),
            price: Price(1),
            remaining: Qty(1)
        }),
        Some(ReplayEvent::Accepted { id: OrderId(6) })
    );
    assert_eq!(from(BookEvent::Bbo(Bbo::default())), None);
}

#[test]
fn book_run_prints_through_the_conversion() {
    // A real book: a resting ask, a crossing IOC buy that trades and leaves a remainder.
    use liqcore::book::{Book, OrderCommand, TimeInForce};
    let table = table();
    let spec = table.get(BTC).unwrap().spec.clone();
    let mut book = Book::new(spec, 64);
    let mut events = Vec::new();
    book.submit(
        &OrderCommand::limit(1, 10, Side::Sell, 40_000, 500),
        &mut events,
    );
    book.submit(
        &OrderCommand::limit(2, 20, Side::Buy, 40_001, 800)
            .with_tif(TimeInForce::Ioc)
            .with_stp(SelfTradePrevention::CancelTaker),
        &mut events,
    );
    let mut out = Vec::new();
    for event in events {
        if let Some(event) = ReplayEvent::from_book(BTC, event) {
            write_event(&mut out, &event, &table).unwrap();
        }
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        concat!(
            "{\"ev\":\"accepted\",\"id\":1}\n",
            "{\"ev\":\"accepted\",\"id\":2}\n",
            "{\"ev\":\"trade\",\"symbol\":\"BTC-PERP\",\"price\":\"20000\",\"qty\":\"0.5\",\"maker\":1,\"taker\":2,\"maker_account\":10,\"taker_account\":20,\"taker_side\":\"buy\",\"liquidation\":false}\n",
            "{\"ev\":\"cancelled\",\"id\":2,\"remaining\":\"0.3\",\"reason\":\"ioc_remainder\"}\n",
        )
    );
}
