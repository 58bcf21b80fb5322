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
