//! The symbol table: defining markets, and the grid checks that turn a well-formed command's
//! decimals into ticks, lots, money and rates — or into the `rejected` reason word.

use liqcore::book::{OrderCommand, OrderKind, RejectReason, TriggerSource};
use liqcore::replay::{
    MarginMode, MarginTier, ModifyCommand, Reject, ReplayCommand, ResolvedModify, SymbolTable,
    parse_line, resolve_amount, resolve_insurance,
};
use liqcore::types::{AccountId, Money, OrderId, Price, Qty, Rate, Side, SymbolId};

fn parse(text: &str) -> ReplayCommand {
    parse_line(1, text).unwrap().unwrap()
}

const BTC: &str = r#"{"op":"symbol","symbol":"BTC","tick_size":"0.5","lot_size":"0.001","max_leverage":"100","margin_tiers":[{"floor":"0","mmr":"0.005"},{"floor":"250000","mmr":"0.01","max_leverage":"50"},{"floor":"1000000","mmr":"0.025","max_leverage":"20"}],"maker_fee":"-0.0001","taker_fee":"0.0005","price_band":"0.1"}"#;
const ETH: &str = r#"{"op":"symbol","symbol":"ETH","tick_size":"0.01","lot_size":"0.1","max_leverage":"50","margin_tiers":[{"floor":"0","mmr":"0.01"}]}"#;

fn symbol_line(tick: &str, lot: &str, tiers: &str, extra: &str) -> String {
    format!(
        r#"{{"op":"symbol","symbol":"X","tick_size":"{tick}","lot_size":"{lot}","max_leverage":"10","margin_tiers":{tiers}{extra}}}"#
    )
}

fn define(table: &mut SymbolTable, line: &str) -> Result<SymbolId, Reject> {
    let ReplayCommand::Symbol(symbol) = parse(line) else {
        panic!("not a symbol line")
    };
    table.define(&symbol)
}

fn table() -> SymbolTable {
    let mut table = SymbolTable::new();
    assert_eq!(define(&mut table, BTC), Ok(SymbolId(0)));
    assert_eq!(define(&mut table, ETH), Ok(SymbolId(1)));
    table
}

fn order(table: &SymbolTable, fields: &str) -> Result<liqcore::replay::ResolvedOrder, Reject> {
    let line = format!(r#"{{"op":"order","id":7,"account":3,{fields}}}"#);
    let ReplayCommand::Order(request) = parse(&line) else {
        panic!()
    };
    table.resolve_order(&request)
}

#[test]
fn symbols_get_dense_ids_and_exact_parameters() {
    let table = table();
    assert_eq!(table.len(), 2);
    assert!(!table.is_empty());
    assert_eq!(table.id("ETH"), Some(SymbolId(1)));
    assert_eq!(table.id("SOL"), None);
    let btc = table.lookup("BTC").unwrap();
    assert_eq!(btc.name, "BTC");
    assert_eq!(btc.spec.id, SymbolId(0));
    assert_eq!(btc.spec.price_band, Rate(10_000_000));
    assert_eq!(btc.max_leverage, Rate(100 * Rate::ONE.0));
    assert_eq!(btc.maker_fee, Rate(-10_000));
    assert_eq!(btc.taker_fee, Rate(50_000));
    assert_eq!(btc.liquidation_fee, Rate::ZERO);
    // cum[1] = 250000 × (0.01 − 0.005) = 1250; cum[2] = 1250 + 1000000 × (0.025 − 0.01) = 16250.
    assert_eq!(
        btc.margin_tiers,
        vec![
            MarginTier {
                floor: Money::ZERO,
                mmr: Rate(500_000),
                max_leverage: Rate(100 * Rate::ONE.0),
                maintenance_amount: Money::ZERO,
            },
            MarginTier {
                floor: Money(250_000 * Money::UNIT),
                mmr: Rate(1_000_000),
                max_leverage: Rate(50 * Rate::ONE.0),
                maintenance_amount: Money(1_250 * Money::UNIT),
            },
            MarginTier {
                floor: Money(1_000_000 * Money::UNIT),
                mmr: Rate(2_500_000),
                max_leverage: Rate(20 * Rate::ONE.0),
                maintenance_amount: Money(16_250 * Money::UNIT),
            },
        ]
    );
    assert_eq!(table.get(SymbolId(2)), None);
}

#[test]
fn maintenance_amount_rounds_down() {
    // floor 0.000000000001 × Δmmr 0.5 = 0.5e-12: below one money unit, rounded down to 0.
    let mut table = SymbolTable::new();
    let tiers = r#"[{"floor":"0","mmr":"0.1"},{"floor":"0.000000000001","mmr":"0.6"},{"floor":"0.000000000003","mmr":"0.7"}]"#;
    define(&mut table, &symbol_line("1", "1", tiers, "")).unwrap();
    let amounts: Vec<_> = table
        .get(SymbolId(0))
        .unwrap()
        .margin_tiers
        .iter()
        .map(|t| t.maintenance_amount)
        .collect();
    // 0, ⌊0.5⌋ = 0, 0 + ⌊3 × 0.1⌋ = 0.
    assert_eq!(amounts, vec![Money(0), Money(0), Money(0)]);
    // The sum is exact and rounded once: 0.5 + 0.5 units make one whole unit here.
    let mut table = SymbolTable::new();
    let tiers = r#"[{"floor":"0","mmr":"0.1"},{"floor":"0.000000000001","mmr":"0.6"},{"floor":"0.000000000005","mmr":"0.7"}]"#;
    define(&mut table, &symbol_line("1", "1", tiers, "")).unwrap();
    assert_eq!(
        table.get(SymbolId(0)).unwrap().margin_tiers[2].maintenance_amount,
        Money(1)
    );
    // A falling mmr is refused (the risk stage's tiers must not decrease).
    let mut table = SymbolTable::new();
    let tiers = r#"[{"floor":"0","mmr":"0.6"},{"floor":"0.000000000001","mmr":"0.1"}]"#;
    assert_eq!(
        define(&mut table, &symbol_line("1", "1", tiers, "")),
        Err(Reject::InvalidSymbol)
    );
}

#[test]
fn duplicate_symbol_is_rejected() {
    let mut table = table();
    assert_eq!(define(&mut table, BTC), Err(Reject::DuplicateSymbol));
    assert_eq!(Reject::DuplicateSymbol.as_str(), "duplicate_symbol");
    assert_eq!(table.len(), 2);
}

#[test]
fn unusable_symbols_are_rejected() {
    let one_tier = r#"[{"floor":"0","mmr":"0.01"}]"#;
    let cases = [
        symbol_line("0", "1", one_tier, ""),
        symbol_line("-1", "1", one_tier, ""),
        symbol_line("0.0000001", "0.0000001", one_tier, ""),
        symbol_line("1", "1", "[]", ""),
        symbol_line("1", "1", r#"[{"floor":"5","mmr":"0.01"}]"#, ""),
        symbol_line(
            "1",
            "1",
            r#"[{"floor":"0","mmr":"0.01"},{"floor":"0","mmr":"0.02"}]"#,
            "",
        ),
        symbol_line("1", "1", r#"[{"floor":"0","mmr":"1"}]"#, ""),
        symbol_line("1", "1", r#"[{"floor":"0","mmr":"-0.01"}]"#, ""),
        symbol_line("1", "1", r#"[{"floor":"0","mmr":"0.000000001"}]"#, ""),
        symbol_line(
            "1",
            "1",
            r#"[{"floor":"0","mmr":"0.01","max_leverage":"0"}]"#,
            "",
        ),
        symbol_line("1", "1", one_tier, r#","price_band":"1""#),
        symbol_line("1", "1", one_tier, r#","price_band":"0""#),
        symbol_line("1", "1", one_tier, r#","taker_fee":"0.000000001""#),
        symbol_line("1", "1", one_tier, r#","max_leverage":"0""#)
            .replace(r#""max_leverage":"10","#, ""),
        symbol_line("1", "1", one_tier, r#","mark":{"clamp_band":"1"}"#),
        symbol_line("1", "1", one_tier, r#","mark":{"basis_samples":0}"#),
        symbol_line(
            "1",
            "1",
            one_tier,
            r#","mark":{"method":"ema_median","basis_tau_ms":0}"#,
        ),
    ];
    for line in &cases {
        let mut table = SymbolTable::new();
        assert_eq!(
            define(&mut table, line),
            Err(Reject::InvalidSymbol),
            "{line}"
        );
        assert!(table.is_empty(), "{line}");
    }
    assert_eq!(Reject::InvalidSymbol.as_str(), "invalid_symbol");
}

#[test]
fn limit_order_resolves_to_ticks_and_lots() {
    let table = table();
    let resolved = order(
        &table,
        r#""symbol":"BTC","side":"sell","type":"limit","qty":"1.5","price":"20000.5","tif":"ioc","reduce_only":true"#,
    )
    .unwrap();
    assert_eq!(resolved.symbol, SymbolId(0));
    let expected = OrderCommand::limit(7, 3, Side::Sell, 40_001, 1_500)
        .with_tif(liqcore::book::TimeInForce::Ioc)
        .reduce_only();
    assert_eq!(resolved.order, expected);
}

#[test]
fn market_and_stop_orders_resolve() {
    let table = table();
    let market = order(
        &table,
        r#""symbol":"ETH","side":"buy","type":"market","qty":"2","price":"1.005""#,
    )
    .unwrap();
    // A market order's price is ignored, even off the tick.
    assert_eq!(market.order, OrderCommand::market(7, 3, Side::Buy, 20));
    assert_eq!(market.symbol, SymbolId(1));
    let stop = order(
        &table,
        r#""symbol":"ETH","side":"sell","type":"stop_market","qty":"0.3","trigger_price":"1450.25","trigger_by":"last""#,
    )
    .unwrap();
    assert_eq!(
        stop.order,
        OrderCommand::stop_market(7, 3, Side::Sell, 3, 145_025, TriggerSource::Last)
    );
    let stop_limit = order(
        &table,
        r#""symbol":"BTC","side":"buy","type":"stop_limit","qty":"0.001","price":"21000","trigger_price":"20999.5""#,
    )
    .unwrap();
    assert_eq!(stop_limit.order.kind, OrderKind::StopLimit);
    assert_eq!(stop_limit.order.price, Price(42_000));
    assert_eq!(stop_limit.order.trigger_price, Price(41_999));
    assert_eq!(stop_limit.order.trigger_by, TriggerSource::Mark);
}

#[test]
fn order_unknown_symbol() {
    let table = table();
    let result = order(
        &table,
        r#""symbol":"DOGE","side":"buy","type":"limit","qty":"1","price":"1""#,
    );
    assert_eq!(result, Err(Reject::UnknownSymbol));
    assert_eq!(Reject::UnknownSymbol.as_str(), "unknown_symbol");
}

#[test]
fn order_price_not_on_tick() {
    let table = table();
    let result = order(
        &table,
        r#""symbol":"BTC","side":"buy","type":"limit","qty":"1","price":"20000.25""#,
    );
    assert_eq!(result, Err(Reject::PriceNotOnTick));
    assert_eq!(Reject::PriceNotOnTick.as_str(), "price_not_on_tick");
    let trigger = order(
        &table,
        r#""symbol":"BTC","side":"buy","type":"stop_market","qty":"1","trigger_price":"1.1""#,
    );
    assert_eq!(trigger, Err(Reject::PriceNotOnTick));
}

#[test]
fn order_qty_not_on_lot() {
    let table = table();
    let result = order(
        &table,
        r#""symbol":"BTC","side":"buy","type":"limit","qty":"1.0005","price":"1""#,
    );
    assert_eq!(result, Err(Reject::QtyNotOnLot));
    assert_eq!(Reject::QtyNotOnLot.as_str(), "qty_not_on_lot");
}

#[test]
fn order_zero_or_negative_qty() {
    let table = table();
    for qty in ["0", "0.000", "-1", "-0.0005"] {
        let fields =
            format!(r#""symbol":"BTC","side":"buy","type":"limit","qty":"{qty}","price":"1""#);
        assert_eq!(order(&table, &fields), Err(Reject::InvalidQty), "{qty}");
    }
    assert_eq!(Reject::InvalidQty.as_str(), "invalid_qty");
}

#[test]
fn order_qty_too_large() {
    let table = table();
    let fields =
        r#""symbol":"BTC","side":"buy","type":"limit","qty":"99999999999999999999","price":"1""#;
    assert_eq!(order(&table, fields), Err(Reject::InvalidQty));
}

#[test]
fn order_bad_prices() {
    let table = table();
    for price in ["0", "-0.5", "99999999999999999999"] {
        let fields =
            format!(r#""symbol":"BTC","side":"buy","type":"limit","qty":"1","price":"{price}""#);
        assert_eq!(order(&table, &fields), Err(Reject::InvalidPrice), "{price}");
    }
    let trigger =
        r#""symbol":"BTC","side":"buy","type":"stop_market","qty":"1","trigger_price":"0""#;
    assert_eq!(order(&table, trigger), Err(Reject::InvalidPrice));
}

#[test]
fn checks_come_in_documented_order() {
    let table = table();
    // Unknown symbol before anything else.
    let fields = r#""symbol":"NOPE","side":"buy","type":"limit","qty":"-1","price":"0.3""#;
    assert_eq!(order(&table, fields), Err(Reject::UnknownSymbol));
    // Quantity before price.
    let fields = r#""symbol":"BTC","side":"buy","type":"limit","qty":"0.0001","price":"0.3""#;
    assert_eq!(order(&table, fields), Err(Reject::QtyNotOnLot));
    // Limit price before trigger price.
    let fields = r#""symbol":"BTC","side":"buy","type":"stop_limit","qty":"1","price":"0.3","trigger_price":"0""#;
    assert_eq!(order(&table, fields), Err(Reject::PriceNotOnTick));
}

#[test]
fn modify_resolves_against_the_order_symbol() {
    let table = table();
    let modify = |price: Option<&str>, qty: Option<&str>| ModifyCommand {
        ts: None,
        id: OrderId(4),
        price: price.map(|p| p.parse().unwrap()),
        qty: qty.map(|q| q.parse().unwrap()),
    };
    assert_eq!(
        table.resolve_modify(&modify(Some("101.5"), Some("0.25")), SymbolId(0)),
        Ok(ResolvedModify {
            id: OrderId(4),
            price: Some(Price(203)),
            qty: Some(Qty(250)),
        })
    );
    assert_eq!(
        table.resolve_modify(&modify(None, None), SymbolId(1)),
        Ok(ResolvedModify {
            id: OrderId(4),
            price: None,
            qty: None,
        })
    );
    assert_eq!(
        table.resolve_modify(&modify(Some("1.25"), None), SymbolId(0)),
        Err(Reject::PriceNotOnTick)
    );
    assert_eq!(
        table.resolve_modify(&modify(None, Some("0.05")), SymbolId(1)),
        Err(Reject::QtyNotOnLot)
    );
    assert_eq!(
        table.resolve_modify(&modify(None, Some("0")), SymbolId(1)),
        Err(Reject::InvalidQty)
    );
    assert_eq!(
        table.resolve_modify(&modify(None, None), SymbolId(9)),
        Err(Reject::UnknownSymbol)
    );
}

#[test]
fn index_and_mark_prices_resolve() {
    let table = table();
    let ReplayCommand::Index(index) = parse(r#"{"op":"index","symbol":"ETH","price":"1500.01"}"#)
    else {
        panic!()
    };
    let resolved = table.resolve_price(&index).unwrap();
    assert_eq!(
        (resolved.symbol, resolved.price),
        (SymbolId(1), Price(150_001))
    );
    let ReplayCommand::Mark(mark) = parse(r#"{"op":"mark","symbol":"ETH","price":"1500.001"}"#)
    else {
        panic!()
    };
    assert_eq!(table.resolve_price(&mark), Err(Reject::PriceNotOnTick));
    let ReplayCommand::Mark(mark) = parse(r#"{"op":"mark","symbol":"SOL","price":"1"}"#) else {
        panic!()
    };
    assert_eq!(table.resolve_price(&mark), Err(Reject::UnknownSymbol));
    let ReplayCommand::Mark(mark) = parse(r#"{"op":"mark","symbol":"ETH","price":"-1"}"#) else {
        panic!()
    };
    assert_eq!(table.resolve_price(&mark), Err(Reject::InvalidPrice));
}

#[test]
fn leverage_resolves_within_the_symbol_maximum() {
    let table = table();
    let resolve = |text: &str| {
        let ReplayCommand::Leverage(command) = parse(text) else {
            panic!()
        };
        table.resolve_leverage(&command)
    };
    let ok = resolve(
        r#"{"op":"leverage","account":5,"symbol":"ETH","leverage":"12.5","mode":"isolated"}"#,
    )
    .unwrap();
    assert_eq!(ok.account, AccountId(5));
    assert_eq!(ok.symbol, SymbolId(1));
    assert_eq!(ok.leverage, Rate(1_250_000_000));
    assert_eq!(ok.mode, MarginMode::Isolated);
    assert!(resolve(r#"{"op":"leverage","account":5,"symbol":"ETH","leverage":"50"}"#).is_ok());
    for bad in ["50.01", "0", "-2", "1.000000001"] {
        let text = format!(r#"{{"op":"leverage","account":5,"symbol":"ETH","leverage":"{bad}"}}"#);
        assert_eq!(resolve(&text), Err(Reject::InvalidLeverage), "{bad}");
    }
    assert_eq!(
        resolve(r#"{"op":"leverage","account":5,"symbol":"XRP","leverage":"2"}"#),
        Err(Reject::UnknownSymbol)
    );
    assert_eq!(Reject::InvalidLeverage.as_str(), "invalid_leverage");
}

#[test]
fn margin_amounts_are_signed_and_exact() {
    let table = table();
    let resolve = |amount: &str| {
        let text = format!(r#"{{"op":"margin","account":5,"symbol":"BTC","amount":"{amount}"}}"#);
        let ReplayCommand::Margin(command) = parse(&text) else {
            panic!()
        };
        table.resolve_margin(&command).map(|m| m.amount)
    };
    assert_eq!(resolve("-20.25"), Ok(Money(-20_250_000_000_000)));
    assert_eq!(resolve("0.000000000001"), Ok(Money(1)));
    assert_eq!(resolve("0"), Err(Reject::InvalidAmount));
    assert_eq!(resolve("0.0000000000001"), Err(Reject::InvalidAmount));
}

#[test]
fn deposits_and_insurance_must_be_positive_money() {
    let amount = |text: &str| match parse(text) {
        ReplayCommand::Deposit(c) | ReplayCommand::Withdraw(c) => resolve_amount(&c),
        ReplayCommand::Insurance(c) => resolve_insurance(&c),
        _ => panic!(),
    };
    assert_eq!(
        amount(r#"{"op":"deposit","account":1,"amount":"100.5"}"#),
        Ok(Money(100_500_000_000_000))
    );
    assert_eq!(
        amount(r#"{"op":"withdraw","account":1,"amount":"0"}"#),
        Err(Reject::InvalidAmount)
    );
    assert_eq!(
        amount(r#"{"op":"withdraw","account":1,"amount":"-5"}"#),
        Err(Reject::InvalidAmount)
    );
    assert_eq!(
        amount(r#"{"op":"insurance","amount":"1.0000000000001"}"#),
        Err(Reject::InvalidAmount)
    );
    assert_eq!(
        amount(r#"{"op":"insurance","amount":"79228162514264337593543950335"}"#),
        Err(Reject::InvalidAmount)
    );
    // Money is i128 in 10⁻¹² units: 10²⁰ quote fits exactly (beyond Decimal-based output).
    assert_eq!(
        amount(r#"{"op":"insurance","amount":"100000000000000000000"}"#),
        Ok(Money(100_000_000_000_000_000_000 * Money::UNIT))
    );
    assert_eq!(Reject::InvalidAmount.as_str(), "invalid_amount");
}

#[test]
fn book_and_engine_reasons_keep_their_words() {
    assert_eq!(
        Reject::from(RejectReason::WouldCross).as_str(),
        "would_cross"
    );
    assert_eq!(
        Reject::Book(RejectReason::FokUnfillable).as_str(),
        "fok_unfillable"
    );
    assert_eq!(
        Reject::Book(RejectReason::UnknownOrder).as_str(),
        "unknown_order"
    );
    assert_eq!(
        Reject::Other("insufficient_margin").as_str(),
        "insufficient_margin"
    );
}

#[test]
fn example_scenario_orders_all_resolve() {
    // Every order, price, leverage, margin and deposit of the scenarios is on its symbol's
    // grid: resolution must succeed. (Scenarios may hold commands meant to be refused — an
    // `insurance` of 0, a `modify` off the tick; their golden outputs show those refusals.)
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "jsonl") {
            continue;
        }
        let mut table = SymbolTable::new();
        for (i, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            let Some(command) = parse_line(i as u64 + 1, line).unwrap() else {
                continue;
            };
            let context = format!("{}:{}", path.display(), i + 1);
            match command {
                ReplayCommand::Symbol(c) => assert!(table.define(&c).is_ok(), "{context}"),
                ReplayCommand::Order(c) => assert!(table.resolve_order(&c).is_ok(), "{context}"),
                ReplayCommand::Index(c) | ReplayCommand::Mark(c) => {
                    assert!(table.resolve_price(&c).is_ok(), "{context}");
                }
                ReplayCommand::Leverage(c) => {
                    assert!(table.resolve_leverage(&c).is_ok(), "{context}");
                }
                ReplayCommand::Margin(c) => assert!(table.resolve_margin(&c).is_ok(), "{context}"),
                ReplayCommand::Deposit(c) | ReplayCommand::Withdraw(c) => {
                    assert!(resolve_amount(&c).is_ok(), "{context}");
                }
                ReplayCommand::Insurance(_)
                | ReplayCommand::Cancel(_)
                | ReplayCommand::Modify(_)
                | ReplayCommand::Query(_) => {}
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}

#[test]
fn rejected_events_name_the_right_subject() {
    use liqcore::replay::RejectSubject;
    let subject = |text: &str| parse(text).reject_subject();
    assert_eq!(
        subject(r#"{"op":"cancel","id":5}"#),
        RejectSubject::Order(OrderId(5))
    );
    assert_eq!(
        subject(r#"{"op":"modify","id":6,"qty":"1"}"#),
        RejectSubject::Order(OrderId(6))
    );
    assert_eq!(
        subject(
            r#"{"op":"order","id":7,"account":1,"symbol":"S","side":"buy","type":"market","qty":"1"}"#
        ),
        RejectSubject::Order(OrderId(7))
    );
    assert_eq!(
        subject(r#"{"op":"deposit","account":2,"amount":"1"}"#),
        RejectSubject::Account(AccountId(2))
    );
    assert_eq!(
        subject(r#"{"op":"margin","account":3,"symbol":"S","amount":"1"}"#),
        RejectSubject::Account(AccountId(3))
    );
    assert_eq!(
        subject(r#"{"op":"leverage","account":4,"symbol":"S","leverage":"1"}"#),
        RejectSubject::Account(AccountId(4))
    );
    assert_eq!(
        subject(r#"{"op":"index","symbol":"S","price":"1"}"#),
        RejectSubject::Symbol("S".into())
    );
    assert_eq!(subject(ETH), RejectSubject::Symbol("ETH".into()));
    assert_eq!(
        subject(r#"{"op":"query","what":"book","symbol":"Z"}"#),
        RejectSubject::Symbol("Z".into())
    );
    assert_eq!(
        subject(r#"{"op":"query","what":"account","account":9}"#),
        RejectSubject::Account(AccountId(9))
    );
    assert_eq!(
        subject(r#"{"op":"insurance","amount":"1"}"#),
        RejectSubject::None
    );
    assert_eq!(
        subject(r#"{"op":"query","what":"insurance"}"#),
        RejectSubject::None
    );
}

#[test]
fn book_queries_resolve_their_symbol() {
    let table = table();
    assert_eq!(table.resolve_symbol("ETH"), Ok(SymbolId(1)));
    assert_eq!(table.resolve_symbol("eth"), Err(Reject::UnknownSymbol));
}
