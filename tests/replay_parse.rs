//! Parsing of replay lines: every op into its typed command, defaults, skipped lines, the
//! example scenarios, and one test per malformed case with its exact message.

use std::str::FromStr;

use liqcore::book::{OrderKind, SelfTradePrevention, TimeInForce, TriggerSource};
use liqcore::mark::{
    BasisSource, FundingConvention, MarkConfig, MarkMethod, Median3Config, StaleFallback,
};
use liqcore::replay::{
    AmountCommand, CancelCommand, Expected, InsuranceCommand, LeverageCommand, MalformedLine,
    MalformedReason, MarginCommand, MarginMode, MarginTierSpec, MmBasis, ModifyCommand,
    OrderRequest, PriceCommand, QueryCommand, QueryTarget, ReplayCommand, SymbolCommand,
    parse_line, parse_line_bytes,
};
use liqcore::types::{AccountId, OrderId, Rate, Side};
use rust_decimal::Decimal;

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn parse(text: &str) -> ReplayCommand {
    match parse_line(1, text) {
        Ok(Some(command)) => command,
        other => panic!("{text}: {other:?}"),
    }
}

/// The exact `line N: reason` text of a malformed line (line 7).
fn error(text: &str) -> String {
    match parse_line(7, text) {
        Err(error) => error.to_string(),
        Ok(parsed) => panic!("{text} parsed as {parsed:?}"),
    }
}

const ORDER: &str = r#""op":"order","id":1,"account":2,"symbol":"BTC","side":"buy","type":"limit","qty":"1","price":"100""#;

fn order_with(extra: &str) -> String {
    format!("{{{ORDER}{extra}}}")
}

// ---- skipped lines -------------------------------------------------------------------------

#[test]
fn empty_and_comment_lines_are_skipped() {
    for text in [
        "",
        "   ",
        "\t\r",
        "# comment",
        "   # indented comment",
        "#{\"op\":1}",
    ] {
        assert_eq!(parse_line(1, text), Ok(None), "{text:?}");
    }
}

#[test]
fn surrounding_whitespace_and_crlf_are_ignored() {
    let command = parse("  {\"op\":\"cancel\",\"id\":3}\r\n");
    assert_eq!(
        command,
        ReplayCommand::Cancel(CancelCommand {
            ts: None,
            id: OrderId(3)
        })
    );
}

// ---- every op ------------------------------------------------------------------------------

#[test]
fn symbol_parses_with_every_field() {
    let line = r#"{"op":"symbol","symbol":"BTC-PERP","tick_size":"0.5","lot_size":"0.001","max_leverage":"100","margin_tiers":[{"floor":"0","mmr":"0.005"},{"floor":"250000","mmr":"0.01","max_leverage":"50"}],"maker_fee":"-0.0001","taker_fee":"0.0005","liquidation_fee":"0.005","mm_basis":"entry","price_band":"0.1","mark":{"method":"median3","basis_interval_ms":1000,"basis_samples":5,"basis_source":"impact_mid","funding_convention":"pro_rata","clamp_band":"0.02","stale_after_ms":0,"stale_fallback":"local_median"},"ts":5}"#;
    let expected = SymbolCommand {
        ts: Some(5),
        symbol: "BTC-PERP".into(),
        tick_size: dec("0.5"),
        lot_size: dec("0.001"),
        max_leverage: dec("100"),
        margin_tiers: vec![
            MarginTierSpec {
                floor: dec("0"),
                mmr: dec("0.005"),
                max_leverage: None,
            },
            MarginTierSpec {
                floor: dec("250000"),
                mmr: dec("0.01"),
                max_leverage: Some(dec("50")),
            },
        ],
        maker_fee: dec("-0.0001"),
        taker_fee: dec("0.0005"),
        liquidation_fee: dec("0.005"),
        mm_basis: MmBasis::Entry,
        price_band: dec("0.1"),
        mark: MarkConfig {
            method: MarkMethod::Median3(Median3Config {
                basis_interval_ms: 1000,
                basis_samples: 5,
                basis_source: BasisSource::ImpactMid,
                funding_convention: FundingConvention::ProRata,
            }),
            clamp_band: Some(Rate(2_000_000)),
            stale_after_ms: None,
            stale_fallback: StaleFallback::LocalMedian,
        },
    };
    assert_eq!(parse(line), ReplayCommand::Symbol(expected));
}

#[test]
fn symbol_defaults() {
    let line = r#"{"op":"symbol","symbol":"X","tick_size":"1","lot_size":"1","max_leverage":"10","margin_tiers":[]}"#;
    let ReplayCommand::Symbol(symbol) = parse(line) else {
        panic!()
    };
    assert_eq!(symbol.maker_fee, Decimal::ZERO);
    assert_eq!(symbol.taker_fee, Decimal::ZERO);
    assert_eq!(symbol.liquidation_fee, Decimal::ZERO);
    assert_eq!(symbol.mm_basis, MmBasis::Mark);
    assert_eq!(symbol.price_band, dec("0.05"));
    assert_eq!(symbol.mark, MarkConfig::median3());
    assert!(symbol.margin_tiers.is_empty());
    assert_eq!(symbol.ts, None);
}

#[test]
fn mark_methods_start_from_their_defaults() {
    let with_mark = |mark: &str| {
        let line = format!(
            r#"{{"op":"symbol","symbol":"X","tick_size":"1","lot_size":"1","max_leverage":"10","margin_tiers":[],"mark":{mark}}}"#
        );
        let ReplayCommand::Symbol(symbol) = parse(&line) else {
            panic!()
        };
        symbol.mark
    };
    assert_eq!(with_mark(r#"{"method":"last"}"#), MarkConfig::last());
    assert_eq!(with_mark(r#"{"method":"mid"}"#), MarkConfig::mid());
    assert_eq!(with_mark(r#"{}"#), MarkConfig::median3());
    assert_eq!(
        with_mark(r#"{"method":"ema_median"}"#),
        MarkConfig::ema_median()
    );
    let ema = with_mark(
        r#"{"method":"ema_median","basis_tau_ms":1000,"local_tau_ms":2000,"basis_source":"impact_mid","clamp_band":"0","stale_after_ms":500,"stale_fallback":"stale_index"}"#,
    );
    let MarkMethod::EmaMedian(params) = ema.method else {
        panic!()
    };
    assert_eq!(params.basis_tau_ms, 1000);
    assert_eq!(params.local_tau_ms, 2000);
    assert_eq!(params.basis_source, BasisSource::ImpactMid);
    assert_eq!(ema.clamp_band, None);
    assert_eq!(ema.stale_after_ms, Some(500));
    assert_eq!(ema.stale_fallback, StaleFallback::StaleIndex);
    // The other method's parameters are ignored, like any unknown field.
    assert_eq!(
        with_mark(r#"{"method":"last","basis_tau_ms":"not checked"}"#),
        MarkConfig::last()
    );
}

#[test]
fn account_ops_parse() {
    assert_eq!(
        parse(r#"{"op":"deposit","account":1,"amount":"100.50"}"#),
        ReplayCommand::Deposit(AmountCommand {
            ts: None,
            account: AccountId(1),
            amount: dec("100.5"),
        })
    );
    assert_eq!(
        parse(r#"{"op":"withdraw","account":18446744073709551615,"amount":"1","ts":9}"#),
        ReplayCommand::Withdraw(AmountCommand {
            ts: Some(9),
            account: AccountId(u64::MAX),
            amount: dec("1"),
        })
    );
    assert_eq!(
        parse(r#"{"op":"insurance","amount":"5000"}"#),
        ReplayCommand::Insurance(InsuranceCommand {
            ts: None,
            amount: dec("5000"),
        })
    );
    assert_eq!(
        parse(r#"{"op":"leverage","account":3,"symbol":"BTC","leverage":"12.5"}"#),
        ReplayCommand::Leverage(LeverageCommand {
            ts: None,
            account: AccountId(3),
            symbol: "BTC".into(),
            leverage: dec("12.5"),
            mode: MarginMode::Cross,
        })
    );
    assert_eq!(
        parse(r#"{"op":"leverage","account":3,"symbol":"BTC","leverage":"5","mode":"isolated"}"#),
        ReplayCommand::Leverage(LeverageCommand {
            ts: None,
            account: AccountId(3),
            symbol: "BTC".into(),
            leverage: dec("5"),
            mode: MarginMode::Isolated,
        })
    );
    assert_eq!(
        parse(r#"{"op":"margin","account":3,"symbol":"BTC","amount":"-20.25"}"#),
        ReplayCommand::Margin(MarginCommand {
            ts: None,
            account: AccountId(3),
            symbol: "BTC".into(),
            amount: dec("-20.25"),
        })
    );
}

#[test]
fn limit_order_parses_with_defaults() {
    assert_eq!(
        parse(&order_with("")),
        ReplayCommand::Order(OrderRequest {
            ts: None,
            id: OrderId(1),
            account: AccountId(2),
            symbol: "BTC".into(),
            side: Side::Buy,
            kind: OrderKind::Limit,
            qty: dec("1"),
            price: Some(dec("100")),
            tif: TimeInForce::Gtc,
            post_only: false,
            reduce_only: false,
            trigger_price: None,
            trigger_by: TriggerSource::Mark,
            stp: SelfTradePrevention::CancelTaker,
        })
    );
}

#[test]
fn order_parses_every_option() {
    let line = r#"{"op":"order","id":9,"account":4,"symbol":"ETH","side":"sell","type":"stop_limit","qty":"0.25","price":"1500.5","trigger_price":"1501","trigger_by":"last","tif":"fok","post_only":true,"reduce_only":true,"stp":"cancel_both","ts":77}"#;
    assert_eq!(
        parse(line),
        ReplayCommand::Order(OrderRequest {
            ts: Some(77),
            id: OrderId(9),
            account: AccountId(4),
            symbol: "ETH".into(),
            side: Side::Sell,
            kind: OrderKind::StopLimit,
            qty: dec("0.25"),
            price: Some(dec("1500.5")),
            tif: TimeInForce::Fok,
            post_only: true,
            reduce_only: true,
            trigger_price: Some(dec("1501")),
            trigger_by: TriggerSource::Last,
            stp: SelfTradePrevention::CancelBoth,
        })
    );
}

#[test]
fn order_words_map_to_their_values() {
    let kind = |word: &str, extra: &str| {
        let line = format!(
            r#"{{"op":"order","id":1,"account":1,"symbol":"S","side":"buy","type":"{word}","qty":"1"{extra}}}"#
        );
        let ReplayCommand::Order(order) = parse(&line) else {
            panic!()
        };
        order
    };
    assert_eq!(kind("market", "").kind, OrderKind::Market);
    assert_eq!(kind("market", "").price, None);
    assert_eq!(
        kind("stop_market", r#","trigger_price":"5""#).kind,
        OrderKind::StopMarket
    );
    assert_eq!(
        kind("limit", r#","price":"5","tif":"ioc""#).tif,
        TimeInForce::Ioc
    );
    for (word, stp) in [
        ("cancel_taker", SelfTradePrevention::CancelTaker),
        ("cancel_maker", SelfTradePrevention::CancelMaker),
        ("cancel_both", SelfTradePrevention::CancelBoth),
        ("none", SelfTradePrevention::None),
    ] {
        let extra = format!(r#","stp":"{word}""#);
        assert_eq!(kind("market", &extra).stp, stp);
    }
    // A market order keeps a given price (type-checked, then ignored by resolution).
    assert_eq!(kind("market", r#","price":"7""#).price, Some(dec("7")));
}

#[test]
fn cancel_modify_index_mark_parse() {
    assert_eq!(
        parse(r#"{"op":"cancel","id":0}"#),
        ReplayCommand::Cancel(CancelCommand {
            ts: None,
            id: OrderId(0)
        })
    );
    assert_eq!(
        parse(r#"{"op":"modify","id":5,"qty":"0.5"}"#),
        ReplayCommand::Modify(ModifyCommand {
            ts: None,
            id: OrderId(5),
            price: None,
            qty: Some(dec("0.5")),
        })
    );
    assert_eq!(
        parse(r#"{"op":"modify","id":5,"price":"101","qty":null}"#),
        ReplayCommand::Modify(ModifyCommand {
            ts: None,
            id: OrderId(5),
            price: Some(dec("101")),
            qty: None,
        })
    );
    assert_eq!(
        parse(r#"{"op":"index","symbol":"BTC","price":"20000.5","ts":1000}"#),
        ReplayCommand::Index(PriceCommand {
            ts: Some(1000),
            symbol: "BTC".into(),
            price: dec("20000.5"),
        })
    );
    assert_eq!(
        parse(r#"{"op":"mark","symbol":"BTC","price":"19700"}"#),
        ReplayCommand::Mark(PriceCommand {
            ts: None,
            symbol: "BTC".into(),
            price: dec("19700"),
        })
    );
}

#[test]
fn queries_parse() {
    let query = |what| ReplayCommand::Query(QueryCommand { ts: None, what });
    assert_eq!(
        parse(r#"{"op":"query","what":"account","account":8}"#),
        query(QueryTarget::Account(AccountId(8)))
    );
    assert_eq!(
        parse(r#"{"op":"query","what":"book","symbol":"BTC"}"#),
        query(QueryTarget::Book {
            symbol: "BTC".into(),
            depth: None
        })
    );
    assert_eq!(
        parse(r#"{"op":"query","what":"book","symbol":"BTC","depth":3}"#),
        query(QueryTarget::Book {
            symbol: "BTC".into(),
            depth: Some(3)
        })
    );
    assert_eq!(
        parse(r#"{"op":"query","what":"insurance"}"#),
        query(QueryTarget::Insurance)
    );
}

#[test]
fn ts_and_op_accessors() {
    let command = parse(r#"{"op":"insurance","amount":"1","ts":42}"#);
    assert_eq!(command.ts(), Some(42));
    assert_eq!(command.op(), "insurance");
    assert_eq!(parse(r#"{"op":"cancel","id":1}"#).ts(), None);
}

#[test]
fn unknown_fields_are_ignored() {
    let with_extra = order_with(r#","client_tag":"abc","nested":{"a":[1,2]},"qty_hint":1.5"#);
    assert_eq!(parse(&with_extra), parse(&order_with("")));
}

#[test]
fn decimals_stay_exact() {
    let line = r#"{"op":"deposit","account":1,"amount":"0.000000000001"}"#;
    let ReplayCommand::Deposit(deposit) = parse(line) else {
        panic!()
    };
    assert_eq!(deposit.amount, Decimal::new(1, 12));
    let line = r#"{"op":"deposit","account":1,"amount":"79228162514264337593543950335"}"#;
    let ReplayCommand::Deposit(deposit) = parse(line) else {
        panic!()
    };
    assert_eq!(deposit.amount, Decimal::MAX);
}

// ---- malformed lines: one test per case, exact message -----------------------------------

#[test]
fn malformed_not_json() {
    assert_eq!(error("{"), "line 7: not valid JSON");
    assert_eq!(error("hello"), "line 7: not valid JSON");
    assert_eq!(
        error(r#"{"op":"cancel","id":1} {}"#),
        "line 7: not valid JSON"
    );
    assert_eq!(
        error(r#"{"op":"cancel","id":1,}"#),
        "line 7: not valid JSON"
    );
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(error(&deep), "line 7: not valid JSON");
}

#[test]
fn malformed_not_utf8() {
    let err = parse_line_bytes(3, b"{\"op\":\"cancel\",\"id\":1\xff}").unwrap_err();
    assert_eq!(err.to_string(), "line 3: not valid UTF-8");
    assert_eq!(err.reason, MalformedReason::NotUtf8);
    assert_eq!(
        parse_line_bytes(4, b"{\"op\":\"cancel\",\"id\":1}\n"),
        Ok(Some(ReplayCommand::Cancel(CancelCommand {
            ts: None,
            id: OrderId(1)
        })))
    );
}

#[test]
fn malformed_not_an_object() {
    assert_eq!(error("[1,2]"), "line 7: not a JSON object");
    assert_eq!(error("\"op\""), "line 7: not a JSON object");
    assert_eq!(error("3"), "line 7: not a JSON object");
    assert_eq!(error("null"), "line 7: not a JSON object");
}

#[test]
fn malformed_missing_op() {
    assert_eq!(error(r#"{"id":1}"#), r#"line 7: missing field "op""#);
    assert_eq!(error(r#"{"op":null}"#), r#"line 7: missing field "op""#);
}

#[test]
fn malformed_op_not_a_string() {
    assert_eq!(
        error(r#"{"op":5}"#),
        r#"line 7: field "op" must be a string"#
    );
}

#[test]
fn malformed_unknown_op() {
    assert_eq!(error(r#"{"op":"foo"}"#), r#"line 7: unknown op "foo""#);
    assert_eq!(error(r#"{"op":"Order"}"#), r#"line 7: unknown op "Order""#);
    // The echoed op is a JSON string literal: quotes and newlines stay escaped.
    assert_eq!(
        error(r#"{"op":"a\"b\nc"}"#),
        r#"line 7: unknown op "a\"b\nc""#
    );
}

#[test]
fn malformed_missing_field() {
    assert_eq!(
        error(
            r#"{"op":"order","id":1,"account":2,"symbol":"BTC","side":"buy","type":"limit","price":"1"}"#
        ),
        r#"line 7: missing field "qty""#
    );
    assert_eq!(error(r#"{"op":"cancel"}"#), r#"line 7: missing field "id""#);
    assert_eq!(
        error(r#"{"op":"deposit","account":1,"amount":null}"#),
        r#"line 7: missing field "amount""#
    );
    assert_eq!(
        error(r#"{"op":"query","what":"account"}"#),
        r#"line 7: missing field "account""#
    );
    assert_eq!(
        error(r#"{"op":"query","what":"book"}"#),
        r#"line 7: missing field "symbol""#
    );
    assert_eq!(
        error(r#"{"op":"symbol","symbol":"X","tick_size":"1","lot_size":"1","max_leverage":"1"}"#),
        r#"line 7: missing field "margin_tiers""#
    );
}

#[test]
fn malformed_limit_without_price() {
    assert_eq!(
        error(
            r#"{"op":"order","id":1,"account":2,"symbol":"S","side":"buy","type":"limit","qty":"1"}"#
        ),
        r#"line 7: missing field "price""#
    );
    assert_eq!(
        error(
            r#"{"op":"order","id":1,"account":2,"symbol":"S","side":"buy","type":"stop_limit","qty":"1","trigger_price":"2"}"#
        ),
        r#"line 7: missing field "price""#
    );
}

#[test]
fn malformed_stop_without_trigger() {
    assert_eq!(
        error(
            r#"{"op":"order","id":1,"account":2,"symbol":"S","side":"buy","type":"stop_market","qty":"1"}"#
        ),
        r#"line 7: missing field "trigger_price""#
    );
}

#[test]
fn malformed_nested_missing_field() {
    assert_eq!(
        error(
            r#"{"op":"symbol","symbol":"X","tick_size":"1","lot_size":"1","max_leverage":"1","margin_tiers":[{"floor":"0","mmr":"0.01"},{"floor":"10"}]}"#
        ),
        r#"line 7: missing field "margin_tiers[1].mmr""#
    );
}

#[test]
fn malformed_decimal_as_json_number() {
    assert_eq!(
        error(&order_with(r#","price":100"#)),
        r#"line 7: field "price" must be a decimal string"#
    );
    assert_eq!(
        error(r#"{"op":"deposit","account":1,"amount":100.5}"#),
        r#"line 7: field "amount" must be a decimal string"#
    );
}

#[test]
fn malformed_decimal_syntax() {
    for bad in [
        "", "1e5", "+1", ".5", "5.", "1,5", " 1", "NaN", "0x1", "1_000", "--1",
    ] {
        let line = format!(r#"{{"op":"deposit","account":1,"amount":"{bad}"}}"#);
        assert_eq!(
            error(&line),
            r#"line 7: field "amount" must be a decimal string"#,
            "{bad:?}"
        );
    }
}

#[test]
fn malformed_decimal_of_other_types() {
    assert_eq!(
        error(r#"{"op":"deposit","account":1,"amount":true}"#),
        r#"line 7: field "amount" must be a decimal string"#
    );
    assert_eq!(
        error(r#"{"op":"deposit","account":1,"amount":["1"]}"#),
        r#"line 7: field "amount" must be a decimal string"#
    );
    // Optional decimals are checked when present, even where the type ignores them.
    let market = r#"{"op":"order","id":1,"account":2,"symbol":"S","side":"buy","type":"market","qty":"1","price":1}"#;
    assert_eq!(
        error(market),
        r#"line 7: field "price" must be a decimal string"#
    );
}

#[test]
fn malformed_decimal_too_many_digits() {
    assert_eq!(
        error(r#"{"op":"deposit","account":1,"amount":"79228162514264337593543950336"}"#),
        r#"line 7: field "amount" has too many digits"#
    );
    assert_eq!(
        error(r#"{"op":"deposit","account":1,"amount":"0.00000000000000000000000000001"}"#),
        r#"line 7: field "amount" has too many digits"#
    );
}

#[test]
fn malformed_id_wrong_type() {
    assert_eq!(
        error(r#"{"op":"cancel","id":"5"}"#),
        r#"line 7: field "id" must be an unsigned 64-bit integer"#
    );
    assert_eq!(
        error(r#"{"op":"cancel","id":true}"#),
        r#"line 7: field "id" must be an unsigned 64-bit integer"#
    );
}

#[test]
fn malformed_id_negative() {
    assert_eq!(
        error(r#"{"op":"cancel","id":-1}"#),
        r#"line 7: field "id" must be an unsigned 64-bit integer"#
    );
}

#[test]
fn malformed_id_fractional() {
    assert_eq!(
        error(r#"{"op":"cancel","id":1.5}"#),
        r#"line 7: field "id" must be an unsigned 64-bit integer"#
    );
    assert_eq!(
        error(r#"{"op":"cancel","id":1.0}"#),
        r#"line 7: field "id" must be an unsigned 64-bit integer"#
    );
    assert_eq!(
        error(r#"{"op":"cancel","id":1e3}"#),
        r#"line 7: field "id" must be an unsigned 64-bit integer"#
    );
}

#[test]
fn malformed_id_out_of_range() {
    assert_eq!(
        error(r#"{"op":"cancel","id":18446744073709551616}"#),
        r#"line 7: field "id" must be an unsigned 64-bit integer"#
    );
}

#[test]
fn malformed_account_and_ts() {
    assert_eq!(
        error(r#"{"op":"deposit","account":-3,"amount":"1"}"#),
        r#"line 7: field "account" must be an unsigned 64-bit integer"#
    );
    assert_eq!(
        error(r#"{"op":"cancel","id":1,"ts":"1000"}"#),
        r#"line 7: field "ts" must be an unsigned 64-bit integer"#
    );
    assert_eq!(
        error(r#"{"op":"cancel","id":1,"ts":-1}"#),
        r#"line 7: field "ts" must be an unsigned 64-bit integer"#
    );
    assert_eq!(
        error(r#"{"op":"query","what":"book","symbol":"S","depth":2.5}"#),
        r#"line 7: field "depth" must be an unsigned 64-bit integer"#
    );
}

#[test]
fn malformed_bad_side() {
    assert_eq!(
        error(&order_with("").replace(r#""buy""#, r#""long""#)),
        r#"line 7: field "side" must be "buy" or "sell""#
    );
    assert_eq!(
        error(&order_with("").replace(r#""buy""#, "1")),
        r#"line 7: field "side" must be "buy" or "sell""#
    );
}

#[test]
fn malformed_bad_type() {
    assert_eq!(
        error(&order_with("").replace(r#""limit""#, r#""stop""#)),
        r#"line 7: field "type" must be "limit", "market", "stop_market" or "stop_limit""#
    );
}

#[test]
fn malformed_bad_option_words() {
    assert_eq!(
        error(&order_with(r#","tif":"day""#)),
        r#"line 7: field "tif" must be "gtc", "ioc" or "fok""#
    );
    assert_eq!(
        error(&order_with(r#","stp":"both""#)),
        r#"line 7: field "stp" must be "cancel_taker", "cancel_maker", "cancel_both" or "none""#
    );
    assert_eq!(
        error(&order_with(r#","trigger_by":"index""#)),
        r#"line 7: field "trigger_by" must be "mark" or "last""#
    );
    assert_eq!(
        error(r#"{"op":"leverage","account":1,"symbol":"S","leverage":"2","mode":"portfolio"}"#),
        r#"line 7: field "mode" must be "cross" or "isolated""#
    );
    assert_eq!(
        error(r#"{"op":"query","what":"orders"}"#),
        r#"line 7: field "what" must be "account", "book" or "insurance""#
    );
}

#[test]
fn malformed_bad_symbol_words() {
    let symbol = |extra: &str| {
        format!(
            r#"{{"op":"symbol","symbol":"X","tick_size":"1","lot_size":"1","max_leverage":"1","margin_tiers":[]{extra}}}"#
        )
    };
    assert_eq!(
        error(&symbol(r#","mm_basis":"index""#)),
        r#"line 7: field "mm_basis" must be "mark" or "entry""#
    );
    assert_eq!(
        error(&symbol(r#","mark":{"method":"twap"}"#)),
        r#"line 7: field "mark.method" must be "last", "mid", "median3" or "ema_median""#
    );
    assert_eq!(
        error(&symbol(r#","mark":{"basis_source":"vwap"}"#)),
        r#"line 7: field "mark.basis_source" must be "mid" or "impact_mid""#
    );
    assert_eq!(
        error(&symbol(r#","mark":{"funding_convention":"hourly"}"#)),
        r#"line 7: field "mark.funding_convention" must be "hours_until_funding" or "pro_rata""#
    );
    assert_eq!(
        error(&symbol(r#","mark":{"stale_fallback":"panic"}"#)),
        r#"line 7: field "mark.stale_fallback" must be "hold_mark", "local_median" or "stale_index""#
    );
}

#[test]
fn malformed_mark_parameters() {
    let symbol = |mark: &str| {
        format!(
            r#"{{"op":"symbol","symbol":"X","tick_size":"1","lot_size":"1","max_leverage":"1","margin_tiers":[],"mark":{mark}}}"#
        )
    };
    assert_eq!(
        error(&symbol(r#""median3""#)),
        r#"line 7: field "mark" must be an object"#
    );
    assert_eq!(
        error(&symbol(r#"{"basis_samples":4294967296}"#)),
        r#"line 7: field "mark.basis_samples" must be an unsigned 32-bit integer"#
    );
    assert_eq!(
        error(&symbol(r#"{"clamp_band":"0.000000001"}"#)),
        r#"line 7: field "mark.clamp_band" must be a decimal string with at most 8 decimals"#
    );
    assert_eq!(
        error(&symbol(r#"{"clamp_band":0.05}"#)),
        r#"line 7: field "mark.clamp_band" must be a decimal string"#
    );
    assert_eq!(
        error(&symbol(r#"{"method":"ema_median","basis_tau_ms":-5}"#)),
        r#"line 7: field "mark.basis_tau_ms" must be an unsigned 64-bit integer"#
    );
}

#[test]
fn malformed_name_not_a_string() {
    assert_eq!(
        error(r#"{"op":"index","symbol":7,"price":"1"}"#),
        r#"line 7: field "symbol" must be a string"#
    );
}

#[test]
fn malformed_flag_not_a_boolean() {
    assert_eq!(
        error(&order_with(r#","post_only":"true""#)),
        r#"line 7: field "post_only" must be a boolean"#
    );
    assert_eq!(
        error(&order_with(r#","reduce_only":1"#)),
        r#"line 7: field "reduce_only" must be a boolean"#
    );
}

#[test]
fn malformed_tiers_shape() {
    let base = r#"{"op":"symbol","symbol":"X","tick_size":"1","lot_size":"1","max_leverage":"1","margin_tiers":"#;
    assert_eq!(
        error(&format!(r#"{base}{{}}}}"#)),
        r#"line 7: field "margin_tiers" must be an array"#
    );
    assert_eq!(
        error(&format!(r#"{base}["0"]}}"#)),
        r#"line 7: field "margin_tiers[0]" must be an object"#
    );
    assert_eq!(
        error(&format!(r#"{base}[{{"floor":0,"mmr":"0.01"}}]}}"#)),
        r#"line 7: field "margin_tiers[0].floor" must be a decimal string"#
    );
    assert_eq!(
        error(&format!(
            r#"{base}[{{"floor":"0","mmr":"0.01","max_leverage":20}}]}}"#
        )),
        r#"line 7: field "margin_tiers[0].max_leverage" must be a decimal string"#
    );
}

#[test]
fn first_problem_wins_in_field_order() {
    // Both `id` and `qty` are bad: `id` comes first in REPLAY.md's order.
    let line = r#"{"op":"order","id":-1,"account":2,"symbol":"S","side":"buy","type":"limit","qty":1,"price":"1"}"#;
    assert_eq!(
        error(line),
        r#"line 7: field "id" must be an unsigned 64-bit integer"#
    );
    // `ts` is checked right after `op`.
    assert_eq!(
        error(r#"{"op":"cancel","ts":-1}"#),
        r#"line 7: field "ts" must be an unsigned 64-bit integer"#
    );
}

#[test]
fn malformed_line_carries_its_number_and_reason() {
    let err: MalformedLine = parse_line(123_456, r#"{"op":"cancel","id":"x"}"#).unwrap_err();
    assert_eq!(err.line, 123_456);
    assert_eq!(
        err.reason,
        MalformedReason::WrongType {
            field: "id".into(),
            expected: Expected::U64
        }
    );
    assert_eq!(
        err.to_string(),
        r#"line 123456: field "id" must be an unsigned 64-bit integer"#
    );
}

// ---- example scenarios ---------------------------------------------------------------------

#[test]
fn example_scenarios_parse_and_cover_every_op() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    let mut ops = std::collections::BTreeSet::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let mut commands = 0;
        for (i, line) in text.lines().enumerate() {
            match parse_line(i as u64 + 1, line) {
                Ok(Some(command)) => {
                    ops.insert(command.op());
                    commands += 1;
                }
                Ok(None) => {}
                Err(error) => panic!("{}: {error}", path.display()),
            }
        }
        assert!(commands > 5, "{}", path.display());
    }
    let all = [
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
    ];
    assert_eq!(ops, all.into_iter().collect());
}
