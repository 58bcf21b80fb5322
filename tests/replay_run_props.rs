//! Property tests of the whole replay driver ([`run_replay`], in process): scripts of random
//! lines — well-formed commands with random (often wrong) values, known malformed lines and
//! random bytes — never panic, and when a run stops at a malformed line N, what it wrote is
//! exactly what the first N − 1 lines write on their own (every event before the bad line was
//! flushed, nothing after it ran).
//!
//! Case count: `LIQCORE_PROPTEST_CASES` (default 64; each case starts an engine).

use liqcore::replay::{ReplayError, run_replay};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("LIQCORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

const SYMBOLS: &[&str] = &[
    r#"{"op":"symbol","symbol":"BTC","tick_size":"0.5","lot_size":"0.001","max_leverage":"100","margin_tiers":[{"floor":"0","mmr":"0.005"},{"floor":"100000","mmr":"0.01","max_leverage":"50"}],"taker_fee":"0.0005","maker_fee":"-0.0001","liquidation_fee":"0.005","mark":{"method":"last"}}"#,
    r#"{"op":"symbol","symbol":"ETH","tick_size":"0.01","lot_size":"0.01","max_leverage":"50","margin_tiers":[{"floor":"0","mmr":"0.01"}],"mm_basis":"entry"}"#,
    r#"{"op":"symbol","symbol":"BAD","tick_size":"0","lot_size":"1","max_leverage":"10","margin_tiers":[]}"#,
];

const MALFORMED: &[&str] = &[
    "{",
    "[1]",
    r#"{"op":"nope"}"#,
    r#"{"op":"cancel"}"#,
    r#"{"op":"cancel","id":-1}"#,
    r#"{"op":"deposit","account":1,"amount":5}"#,
    r#"{"op":"order","id":1,"account":1,"symbol":"BTC","side":"up","type":"limit","qty":"1","price":"1"}"#,
];

fn symbol_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["BTC", "ETH", "BAD", "XRP"])
}

/// Decimal strings: on and off every grid, zero, negative, large.
fn decimal() -> impl Strategy<Value = String> {
    prop_oneof![
        (1_u32..40).prop_map(|n| format!("{}", 19_980 + n)),
        (1_u32..40).prop_map(|n| format!("{}.5", 19_980 + n)),
        (1_u32..40).prop_map(|n| format!("{}.25", 19_980 + n)),
        (1_u32..2000).prop_map(|n| format!("0.{n:03}")),
        (1_u32..20).prop_map(|n| n.to_string()),
        Just(String::from("0")),
        Just(String::from("-1")),
        Just(String::from("0.0001")),
        Just(String::from("1000000000000")),
        Just(String::from("99999999999999999999")),
    ]
}

fn small_id() -> impl Strategy<Value = u64> {
    prop_oneof![1_u64..12, Just(u64::MAX), Just(1 << 63)]
}

fn well_formed() -> impl Strategy<Value = String> {
    let order = (
        (
            small_id(),
            1_u64..5,
            symbol_name(),
            prop::sample::select(vec!["buy", "sell"]),
            prop::sample::select(vec!["limit", "market", "stop_market", "stop_limit"]),
            decimal(),
            decimal(),
            decimal(),
        ),
        (
            prop::sample::select(vec!["gtc", "ioc", "fok"]),
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(vec!["mark", "last"]),
            prop::sample::select(vec!["cancel_taker", "cancel_maker", "cancel_both", "none"]),
        ),
    )
        .prop_map(
            |((id, account, symbol, side, kind, qty, price, trigger), (tif, post, reduce, by, stp))| {
                format!(
                    r#"{{"op":"order","id":{id},"account":{account},"symbol":"{symbol}","side":"{side}","type":"{kind}","qty":"{qty}","price":"{price}","trigger_price":"{trigger}","tif":"{tif}","post_only":{post},"reduce_only":{reduce},"trigger_by":"{by}","stp":"{stp}"}}"#
                )
            },
        );
    prop_oneof![
        3 => prop::sample::select(SYMBOLS.to_vec()).prop_map(String::from),
        3 => (1_u64..5, decimal()).prop_map(|(a, d)| format!(r#"{{"op":"deposit","account":{a},"amount":"{d}"}}"#)),
        1 => (1_u64..5, decimal()).prop_map(|(a, d)| format!(r#"{{"op":"withdraw","account":{a},"amount":"{d}"}}"#)),
        1 => decimal().prop_map(|d| format!(r#"{{"op":"insurance","amount":"{d}"}}"#)),
        1 => (1_u64..5, symbol_name(), decimal(), any::<bool>()).prop_map(|(a, s, l, iso)| {
            let mode = if iso { "isolated" } else { "cross" };
            format!(r#"{{"op":"leverage","account":{a},"symbol":"{s}","leverage":"{l}","mode":"{mode}"}}"#)
        }),
        1 => (1_u64..5, symbol_name(), decimal(), any::<bool>()).prop_map(|(a, s, d, neg)| {
            let sign = if neg { "-" } else { "" };
            let d = d.trim_start_matches('-');
            format!(r#"{{"op":"margin","account":{a},"symbol":"{s}","amount":"{sign}{d}"}}"#)
        }),
        8 => order,
        2 => small_id().prop_map(|id| format!(r#"{{"op":"cancel","id":{id}}}"#)),
        2 => (small_id(), decimal(), decimal()).prop_map(|(id, p, q)| format!(r#"{{"op":"modify","id":{id},"price":"{p}","qty":"{q}"}}"#)),
        2 => (symbol_name(), decimal(), 0_u64..100_000).prop_map(|(s, p, ts)| format!(r#"{{"op":"index","symbol":"{s}","price":"{p}","ts":{ts}}}"#)),
        2 => (symbol_name(), decimal()).prop_map(|(s, p)| format!(r#"{{"op":"mark","symbol":"{s}","price":"{p}"}}"#)),
        1 => (1_u64..6).prop_map(|a| format!(r#"{{"op":"query","what":"account","account":{a}}}"#)),
        1 => (symbol_name(), prop::option::of(0_u64..4)).prop_map(|(s, d)| match d {
            Some(d) => format!(r#"{{"op":"query","what":"book","symbol":"{s}","depth":{d}}}"#),
            None => format!(r#"{{"op":"query","what":"book","symbol":"{s}"}}"#),
        }),
        1 => Just(String::from(r#"{"op":"query","what":"insurance"}"#)),
    ]
}

/// One line of a script, without its newline.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        12 => well_formed().prop_map(String::into_bytes),
        1 => prop::sample::select(MALFORMED.to_vec()).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..24),
        1 => Just(b"# comment".to_vec()),
    ]
}

fn script(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn a_run_stops_at_the_first_malformed_line_with_everything_before_it_flushed(
        // A market and money first, so that orders have something to work with.
        lines in prop::collection::vec(line(), 1..40).prop_map(|mut lines| {
            lines.insert(0, SYMBOLS[0].as_bytes().to_vec());
            lines.insert(1, br#"{"op":"deposit","account":1,"amount":"100000"}"#.to_vec());
            lines.insert(2, br#"{"op":"deposit","account":2,"amount":"100000"}"#.to_vec());
            lines
        })
    ) {
        let mut out = Vec::new();
        match run_replay(script(&lines).as_slice(), &mut out) {
            Ok(summary) => prop_assert_eq!(summary.lines, lines.len() as u64),
            Err(ReplayError::Malformed(malformed)) => {
                let n = usize::try_from(malformed.line).unwrap();
                prop_assert!(n >= 1 && n <= lines.len());
                let mut before = Vec::new();
                let summary = run_replay(script(&lines[..n - 1]).as_slice(), &mut before);
                prop_assert!(summary.is_ok(), "the lines before a malformed one are well formed");
                prop_assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&before)
                );
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut out = Vec::new();
        let _ = run_replay(bytes.as_slice(), &mut out);
    }
}
