//! Property tests: no input makes the replay parser, the resolvers or the writer panic.
//! Random bytes, random JSON, and — most useful — objects with a real `op` and fields of the
//! right names but random values and types. Case count: `LIQCORE_PROPTEST_CASES` (default 256).

use liqcore::replay::{
    ReplayCommand, ReplayEvent, SymbolTable, parse_line, parse_line_bytes, resolve_amount,
    resolve_insurance, write_event,
};
use liqcore::types::SymbolId;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn cases() -> u32 {
    std::env::var("LIQCORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

const OPS: &[&str] = &[
    "symbol",
    "deposit",
    "insurance",
    "withdraw",
    "leverage",
    "margin",
    "order",
    "cancel",
    "modify",
    "index",
    "mark",
    "query",
    "bogus",
];

const FIELDS: &[&str] = &[
    "ts",
    "symbol",
    "tick_size",
    "lot_size",
    "max_leverage",
    "margin_tiers",
    "maker_fee",
    "taker_fee",
    "liquidation_fee",
    "mm_basis",
    "price_band",
    "mark",
    "account",
    "amount",
    "leverage",
    "mode",
    "id",
    "side",
    "type",
    "qty",
    "price",
    "tif",
    "post_only",
    "reduce_only",
    "trigger_price",
    "trigger_by",
    "stp",
    "what",
    "depth",
    "floor",
    "mmr",
    "method",
    "basis_samples",
    "clamp_band",
    "stale_after_ms",
];

/// Strings that hit the parser's branches: valid words, decimals on and off typical grids,
/// edge integers as text, junk.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "buy",
            "sell",
            "limit",
            "market",
            "stop_market",
            "stop_limit",
            "gtc",
            "ioc",
            "fok",
            "mark",
            "last",
            "cancel_taker",
            "cancel_maker",
            "cancel_both",
            "none",
            "cross",
            "isolated",
            "entry",
            "account",
            "book",
            "insurance",
            "median3",
            "ema_median",
            "mid",
            "X",
            "BTC",
            "0",
            "-0",
            "1",
            "0.5",
            "0.001",
            "0.05",
            "100",
            "20000.5",
            "-1.25",
            "1e5",
            "",
            "0.00000000000000000000000000001",
            "79228162514264337593543950336",
            "99999999999999999999",
            "18446744073709551616",
        ])
        .prop_map(String::from),
        "-?[0-9]{1,30}(\\.[0-9]{1,30})?",
        ".{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        interesting_string().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// An object with a real op and a random subset of real field names, each with a random value.
fn command_object() -> impl Strategy<Value = String> {
    (
        prop::sample::select(OPS),
        prop::collection::vec((prop::sample::select(FIELDS), value()), 0..14),
    )
        .prop_map(|(op, fields)| {
            let mut map = Map::new();
            map.insert("op".into(), Value::String(op.into()));
            for (name, value) in fields {
                map.insert(name.into(), value);
            }
            Value::Object(map).to_string()
        })
}

/// A decimal string, often on the grids of [`table`], sometimes off them or out of range.
fn decimal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3i64..2_000_000, 0u32..5)
            .prop_map(|(m, scale)| { rust_decimal::Decimal::new(m, scale).to_string() }),
        "-?[0-9]{1,20}(\\.[0-9]{1,8})?",
    ]
}

/// A complete order (limit, market or stop) with random decimals, and sometimes one field
/// overwritten with a random value: mostly parses, so resolution and printing are exercised.
fn order_object() -> impl Strategy<Value = (String, bool)> {
    (
        prop::sample::select(vec!["limit", "market", "stop_market", "stop_limit"]),
        prop::sample::select(vec!["X", "BTC", "Y"]),
        decimal_text(),
        decimal_text(),
        decimal_text(),
        prop::option::of((prop::sample::select(FIELDS), value())),
    )
        .prop_map(|(kind, symbol, qty, price, trigger, damage)| {
            let mut map = Map::new();
            for (k, v) in [
                ("op", Value::from("order")),
                ("id", Value::from(1u64)),
                ("account", Value::from(2u64)),
                ("symbol", Value::from(symbol)),
                ("side", Value::from("sell")),
                ("type", Value::from(kind)),
                ("qty", Value::from(qty)),
                ("price", Value::from(price)),
                ("trigger_price", Value::from(trigger)),
            ] {
                map.insert(k.into(), v);
            }
            let damaged = damage.is_some();
            if let Some((name, value)) = damage {
                map.insert(name.into(), value);
            }
            (Value::Object(map).to_string(), damaged)
        })
}

/// A table with two markets, for resolving whatever parses.
fn table() -> SymbolTable {
    let mut table = SymbolTable::new();
    for line in [
        r#"{"op":"symbol","symbol":"X","tick_size":"0.5","lot_size":"0.001","max_leverage":"100","margin_tiers":[{"floor":"0","mmr":"0.005"}]}"#,
        r#"{"op":"symbol","symbol":"BTC","tick_size":"1","lot_size":"1","max_leverage":"10","margin_tiers":[{"floor":"0","mmr":"0.05"}]}"#,
    ] {
        let Ok(Some(ReplayCommand::Symbol(symbol))) = parse_line(1, line) else {
            panic!("fixture")
        };
        table.define(&symbol).unwrap();
    }
    table
}

/// Runs everything downstream of a successful parse; none of it may panic.
fn exercise(command: &ReplayCommand, table: &mut SymbolTable) {
    let _ = command.ts();
    let _ = command.op();
    match command {
        ReplayCommand::Symbol(c) => {
            let _ = table.define(c);
        }
        ReplayCommand::Order(c) => {
            if let Ok(resolved) = table.resolve_order(c) {
                assert!(resolved.order.qty.0 > 0);
                // The resolved quantity prints back as the request's quantity, exactly.
                let mut out = Vec::new();
                let event = ReplayEvent::Cancelled {
                    symbol: resolved.symbol,
                    id: resolved.order.id,
                    remaining: resolved.order.qty,
                    reason: liqcore::book::CancelReason::User,
                };
                write_event(&mut out, &event, table).unwrap();
                let text = String::from_utf8(out).unwrap();
                assert!(
                    text.contains(&format!("\"remaining\":\"{}\"", c.qty.normalize())),
                    "{text} vs {}",
                    c.qty
                );
            }
        }
        ReplayCommand::Modify(c) => {
            let _ = table.resolve_modify(c, SymbolId(0));
            let _ = table.resolve_modify(c, SymbolId(7));
        }
        ReplayCommand::Index(c) | ReplayCommand::Mark(c) => {
            if let Ok(resolved) = table.resolve_price(c) {
                let mut out = Vec::new();
                let event = ReplayEvent::Mark {
                    symbol: resolved.symbol,
                    price: resolved.price,
                };
                write_event(&mut out, &event, table).unwrap();
                let text = String::from_utf8(out).unwrap();
                assert!(text.contains(&format!("\"price\":\"{}\"", c.price.normalize())));
            }
        }
        ReplayCommand::Leverage(c) => {
            let _ = table.resolve_leverage(c);
        }
        ReplayCommand::Margin(c) => {
            let _ = table.resolve_margin(c);
        }
        ReplayCommand::Deposit(c) | ReplayCommand::Withdraw(c) => {
            let _ = resolve_amount(c);
        }
        ReplayCommand::Insurance(c) => {
            let _ = resolve_insurance(c);
        }
        ReplayCommand::Cancel(_) | ReplayCommand::Query(_) => {}
    }
}

fn check_line(text: &str, table: &mut SymbolTable) {
    match parse_line(5, text) {
        Ok(Some(command)) => exercise(&command, table),
        Ok(None) => {}
        Err(error) => {
            let message = error.to_string();
            assert!(message.starts_with("line 5: "), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_line_bytes(1, &bytes);
    }

    #[test]
    fn random_text_never_panics(text in ".{0,200}") {
        let mut table = table();
        check_line(&text, &mut table);
    }

    #[test]
    fn random_json_never_panics(value in value()) {
        let mut table = table();
        check_line(&value.to_string(), &mut table);
    }

    #[test]
    fn wrong_but_plausible_commands_never_panic(text in command_object()) {
        let mut table = table();
        check_line(&text, &mut table);
    }

    #[test]
    fn orders_with_random_decimals_resolve_or_reject((text, damaged) in order_object()) {
        let mut table = table();
        if !damaged {
            // Undamaged orders are well-formed: any problem is a rejection, never malformed.
            prop_assert!(matches!(parse_line(1, &text), Ok(Some(_))), "{}", text);
        }
        check_line(&text, &mut table);
    }

    #[test]
    fn parsing_is_deterministic(text in command_object()) {
        prop_assert_eq!(parse_line(9, &text), parse_line(9, &text));
    }
}

/// A word and the typed value it means.
type Word<T> = (&'static str, T);

/// The word lists of an order: side, type, tif, trigger_by, stp.
type OrderWords = (
    Word<liqcore::types::Side>,
    Word<liqcore::book::OrderKind>,
    Word<liqcore::book::TimeInForce>,
    Word<liqcore::book::TriggerSource>,
    Word<liqcore::book::SelfTradePrevention>,
);

/// The REPLAY.md words of the order enums, with their typed values.
fn order_words() -> impl Strategy<Value = OrderWords> {
    use liqcore::book::{OrderKind, SelfTradePrevention, TimeInForce, TriggerSource};
    use liqcore::types::Side;
    (
        prop::sample::select(vec![("buy", Side::Buy), ("sell", Side::Sell)]),
        prop::sample::select(vec![
            ("limit", OrderKind::Limit),
            ("market", OrderKind::Market),
            ("stop_market", OrderKind::StopMarket),
            ("stop_limit", OrderKind::StopLimit),
        ]),
        prop::sample::select(vec![
            ("gtc", TimeInForce::Gtc),
            ("ioc", TimeInForce::Ioc),
            ("fok", TimeInForce::Fok),
        ]),
        prop::sample::select(vec![
            ("mark", TriggerSource::Mark),
            ("last", TriggerSource::Last),
        ]),
        prop::sample::select(vec![
            ("cancel_taker", SelfTradePrevention::CancelTaker),
            ("cancel_maker", SelfTradePrevention::CancelMaker),
            ("cancel_both", SelfTradePrevention::CancelBoth),
            ("none", SelfTradePrevention::None),
        ]),
    )
}

fn any_decimal() -> impl Strategy<Value = rust_decimal::Decimal> {
    (any::<i64>(), 0u32..=18).prop_map(|(m, scale)| rust_decimal::Decimal::new(m, scale))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// A typed order written as JSON (every field, in a shuffled order via the map) parses
    /// back to exactly that order.
    #[test]
    fn orders_round_trip(
        id in any::<u64>(),
        account in any::<u64>(),
        ts in prop::option::of(any::<u64>()),
        words in order_words(),
        qty in any_decimal(),
        price in any_decimal(),
        trigger in any_decimal(),
        post_only in any::<bool>(),
        reduce_only in any::<bool>(),
    ) {
        use liqcore::replay::OrderRequest;
        use liqcore::types::{AccountId, OrderId};
        let (side, kind, tif, trigger_by, stp) = words;
        let mut map = Map::new();
        map.insert("op".into(), Value::from("order"));
        map.insert("id".into(), Value::from(id));
        map.insert("account".into(), Value::from(account));
        if let Some(ts) = ts {
            map.insert("ts".into(), Value::from(ts));
        }
        map.insert("symbol".into(), Value::from("BTC"));
        map.insert("side".into(), Value::from(side.0));
        map.insert("type".into(), Value::from(kind.0));
        map.insert("qty".into(), Value::from(qty.to_string()));
        map.insert("price".into(), Value::from(price.to_string()));
        map.insert("trigger_price".into(), Value::from(trigger.to_string()));
        map.insert("tif".into(), Value::from(tif.0));
        map.insert("post_only".into(), Value::from(post_only));
        map.insert("reduce_only".into(), Value::from(reduce_only));
        map.insert("trigger_by".into(), Value::from(trigger_by.0));
        map.insert("stp".into(), Value::from(stp.0));
        let expected = ReplayCommand::Order(OrderRequest {
            ts,
            id: OrderId(id),
            account: AccountId(account),
            symbol: "BTC".into(),
            side: side.1,
            kind: kind.1,
            qty,
            price: Some(price),
            tif: tif.1,
            post_only,
            reduce_only,
            trigger_price: Some(trigger),
            trigger_by: trigger_by.1,
            stp: stp.1,
        });
        let parsed = parse_line(1, &Value::Object(map).to_string());
        prop_assert_eq!(parsed, Ok(Some(expected)));
    }

    /// Printed prices and quantities are the exact decimals of their ticks and lots, in
    /// canonical form (parsing the string back gives the value; re-printing it gives the
    /// same string).
    #[test]
    fn printed_grid_values_are_exact(
        price in -(1i64 << 40)..(1i64 << 40),
        qty in -(1i64 << 40)..(1i64 << 40),
        symbol in 0u32..2,
    ) {
        use liqcore::book::Trade;
        use liqcore::types::{AccountId, OrderId, Price, Qty, Side};
        let table = table();
        let spec = table.get(SymbolId(symbol)).unwrap().spec.clone();
        let trade = Trade {
            maker: OrderId(1),
            taker: OrderId(2),
            maker_account: AccountId(3),
            taker_account: AccountId(4),
            price: Price(price),
            qty: Qty(qty),
            taker_side: Side::Sell,
            liquidation: false,
        };
        let mut out = Vec::new();
        write_event(&mut out, &ReplayEvent::Trade { symbol: SymbolId(symbol), trade }, &table).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        for (key, steps, step) in [("price", price, spec.tick_size), ("qty", qty, spec.lot_size)] {
            let text = value[key].as_str().unwrap();
            let parsed: rust_decimal::Decimal = text.parse().unwrap();
            prop_assert_eq!(parsed, rust_decimal::Decimal::from(steps) * step);
            prop_assert_eq!(parsed.normalize().to_string(), text);
            prop_assert!(text == "0" || !text.ends_with('0') || !text.contains('.'), "{}", text);
        }
    }
}
