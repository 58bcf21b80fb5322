//! `liqcore replay` at the binary level: every malformed-line case of REPLAY.md gives its exact
//! `line N: reason` on standard error and exit status 2, with every event produced before the
//! bad line on standard output (flushed) and nothing after it; refused-but-well-formed
//! commands (off-tick price, negative or zero quantity) are `rejected` events and the run goes
//! on (exit 0); I/O errors exit 1 with a message.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_liqcore");

/// Runs `liqcore replay -` with `script` on standard input.
fn replay_stdin(script: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(["replay", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("liqcore starts");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(script).expect("script written");
    drop(stdin);
    child.wait_with_output().expect("liqcore ends")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("UTF-8 output")
}

const SYMBOL: &str = r#"{"op":"symbol","symbol":"BTC-PERP","tick_size":"0.5","lot_size":"0.001","max_leverage":"100","margin_tiers":[{"floor":"0","mmr":"0.005"}]}"#;

/// Lines 1–4 produce two events that do not depend on the engine's matching: the insurance
/// snapshot and a grid rejection.
fn prelude() -> String {
    format!(
        "{SYMBOL}\n# a comment\n{{\"op\":\"query\",\"what\":\"insurance\"}}\n\
         {{\"op\":\"order\",\"id\":1,\"account\":1,\"symbol\":\"BTC-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"1\",\"price\":\"20000.25\"}}\n"
    )
}

const PRELUDE_EVENTS: &str = "{\"ev\":\"insurance\",\"balance\":\"0\"}\n\
    {\"ev\":\"rejected\",\"id\":1,\"reason\":\"price_not_on_tick\"}\n";

/// A line that would print an event if it ran (it must not: the run stops before it).
const AFTER: &str = "{\"op\":\"query\",\"what\":\"insurance\"}\n";

/// The prelude, then `bad` as line 5, then [`AFTER`]: stdout holds exactly the prelude's
/// events, stderr exactly `line 5: {reason}`, and the status is 2.
fn assert_malformed(bad: &[u8], reason: &str) {
    let mut script = prelude().into_bytes();
    script.extend_from_slice(bad);
    script.push(b'\n');
    script.extend_from_slice(AFTER.as_bytes());
    let output = replay_stdin(&script);
    assert_eq!(
        text(&output.stdout),
        PRELUDE_EVENTS,
        "stdout for {}",
        String::from_utf8_lossy(bad)
    );
    assert_eq!(
        text(&output.stderr),
        format!("line 5: {reason}\n"),
        "stderr for {}",
        String::from_utf8_lossy(bad)
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "status for {}",
        String::from_utf8_lossy(bad)
    );
}

#[test]
fn not_json() {
    assert_malformed(br#"{"op":"order","id":2"#, "not valid JSON");
    assert_malformed(b"hello", "not valid JSON");
    assert_malformed(br#"{"op":"cancel","id":2} trailing"#, "not valid JSON");
}

#[test]
fn not_an_object() {
    assert_malformed(b"[1,2]", "not a JSON object");
    assert_malformed(b"42", "not a JSON object");
}

#[test]
fn not_utf8() {
    assert_malformed(b"{\"op\":\"cancel\",\"id\":\xff}", "not valid UTF-8");
}

#[test]
fn missing_field() {
    assert_malformed(br#"{"id":2}"#, r#"missing field "op""#);
    assert_malformed(br#"{"op":"cancel"}"#, r#"missing field "id""#);
    assert_malformed(
        br#"{"op":"order","id":2,"account":1,"symbol":"BTC-PERP","side":"buy","type":"limit","qty":"1"}"#,
        r#"missing field "price""#,
    );
    assert_malformed(
        br#"{"op":"order","id":2,"account":1,"symbol":"BTC-PERP","side":"buy","type":"stop_market","qty":"1"}"#,
        r#"missing field "trigger_price""#,
    );
    assert_malformed(
        br#"{"op":"deposit","account":1,"amount":null}"#,
        r#"missing field "amount""#,
    );
}

#[test]
fn unknown_op() {
    assert_malformed(br#"{"op":"buy"}"#, r#"unknown op "buy""#);
    assert_malformed(br#"{"op":"Order"}"#, r#"unknown op "Order""#);
    assert_malformed(br#"{"op":7}"#, r#"field "op" must be a string"#);
}

#[test]
fn non_string_decimal() {
    assert_malformed(
        br#"{"op":"order","id":2,"account":1,"symbol":"BTC-PERP","side":"buy","type":"limit","qty":1,"price":"20000"}"#,
        r#"field "qty" must be a decimal string"#,
    );
    assert_malformed(
        br#"{"op":"order","id":2,"account":1,"symbol":"BTC-PERP","side":"buy","type":"limit","qty":"1","price":20000.5}"#,
        r#"field "price" must be a decimal string"#,
    );
    assert_malformed(
        br#"{"op":"deposit","account":1,"amount":"1e3"}"#,
        r#"field "amount" must be a decimal string"#,
    );
    assert_malformed(
        br#"{"op":"deposit","account":1,"amount":"+5"}"#,
        r#"field "amount" must be a decimal string"#,
    );
}

#[test]
fn ids_out_of_range() {
    assert_malformed(
        br#"{"op":"cancel","id":18446744073709551616}"#,
        r#"field "id" must be an unsigned 64-bit integer"#,
    );
    assert_malformed(
        br#"{"op":"cancel","id":-1}"#,
        r#"field "id" must be an unsigned 64-bit integer"#,
    );
    assert_malformed(
        br#"{"op":"cancel","id":1.0}"#,
        r#"field "id" must be an unsigned 64-bit integer"#,
    );
    assert_malformed(
        br#"{"op":"cancel","id":"7"}"#,
        r#"field "id" must be an unsigned 64-bit integer"#,
    );
    assert_malformed(
        br#"{"op":"deposit","account":99999999999999999999,"amount":"1"}"#,
        r#"field "account" must be an unsigned 64-bit integer"#,
    );
    assert_malformed(
        br#"{"op":"cancel","id":2,"ts":-5}"#,
        r#"field "ts" must be an unsigned 64-bit integer"#,
    );
}

#[test]
fn bad_words_and_flags() {
    assert_malformed(
        br#"{"op":"order","id":2,"account":1,"symbol":"BTC-PERP","side":"long","type":"limit","qty":"1","price":"1"}"#,
        r#"field "side" must be "buy" or "sell""#,
    );
    assert_malformed(
        br#"{"op":"order","id":2,"account":1,"symbol":"BTC-PERP","side":"buy","type":"limit","qty":"1","price":"1","post_only":"yes"}"#,
        r#"field "post_only" must be a boolean"#,
    );
}

/// REPLAY.md: an off-tick price, a negative or zero quantity, an unknown symbol, an order id
/// in the liquidation engine's range (2⁶³ and above: a valid `u64`, refused by the risk
/// stage) are refused commands (`rejected` events), not malformed lines: the run continues
/// and exits 0.
#[test]
fn refused_commands_are_events_not_errors() {
    let script = format!(
        "{SYMBOL}\n\
         {{\"op\":\"order\",\"id\":2,\"account\":1,\"symbol\":\"BTC-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"1\",\"price\":\"20000.1\"}}\n\
         {{\"op\":\"order\",\"id\":3,\"account\":1,\"symbol\":\"BTC-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"-1\",\"price\":\"20000\"}}\n\
         {{\"op\":\"order\",\"id\":4,\"account\":1,\"symbol\":\"BTC-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"0\",\"price\":\"20000\"}}\n\
         {{\"op\":\"order\",\"id\":5,\"account\":1,\"symbol\":\"BTC-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"0.0005\",\"price\":\"20000\"}}\n\
         {{\"op\":\"order\",\"id\":6,\"account\":1,\"symbol\":\"ETH-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"1\",\"price\":\"20000\"}}\n\
         {{\"op\":\"order\",\"id\":7,\"account\":1,\"symbol\":\"BTC-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"1\",\"price\":\"-20000\"}}\n\
         {{\"op\":\"order\",\"id\":9223372036854775808,\"account\":1,\"symbol\":\"BTC-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"1\",\"price\":\"20000\"}}\n\
         {{\"op\":\"deposit\",\"account\":1,\"amount\":\"-5\"}}\n\
         {{\"op\":\"index\",\"symbol\":\"BTC-PERP\",\"price\":\"1.25\"}}\n\
         {SYMBOL}\n\
         {{\"op\":\"query\",\"what\":\"insurance\"}}\n"
    );
    let output = replay_stdin(script.as_bytes());
    assert_eq!(
        text(&output.stdout),
        "{\"ev\":\"rejected\",\"id\":2,\"reason\":\"price_not_on_tick\"}\n\
         {\"ev\":\"rejected\",\"id\":3,\"reason\":\"invalid_qty\"}\n\
         {\"ev\":\"rejected\",\"id\":4,\"reason\":\"invalid_qty\"}\n\
         {\"ev\":\"rejected\",\"id\":5,\"reason\":\"qty_not_on_lot\"}\n\
         {\"ev\":\"rejected\",\"id\":6,\"reason\":\"unknown_symbol\"}\n\
         {\"ev\":\"rejected\",\"id\":7,\"reason\":\"invalid_price\"}\n\
         {\"ev\":\"rejected\",\"id\":9223372036854775808,\"reason\":\"invalid_order_id\"}\n\
         {\"ev\":\"rejected\",\"account\":1,\"reason\":\"invalid_amount\"}\n\
         {\"ev\":\"rejected\",\"symbol\":\"BTC-PERP\",\"reason\":\"price_not_on_tick\"}\n\
         {\"ev\":\"rejected\",\"symbol\":\"BTC-PERP\",\"reason\":\"duplicate_symbol\"}\n\
         {\"ev\":\"insurance\",\"balance\":\"0\"}\n"
    );
    assert_eq!(text(&output.stderr), "");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn malformed_first_line_prints_nothing() {
    let output = replay_stdin(b"{\"op\":\"nope\"}\n");
    assert_eq!(text(&output.stdout), "");
    assert_eq!(text(&output.stderr), "line 1: unknown op \"nope\"\n");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn line_numbers_count_blank_lines_comments_and_crlf() {
    let output = replay_stdin(
        b"\r\n# comment\r\n   \r\n{\"op\":\"query\",\"what\":\"insurance\"}\r\n{\"op\"}\r\n",
    );
    assert_eq!(
        text(&output.stdout),
        "{\"ev\":\"insurance\",\"balance\":\"0\"}\n"
    );
    assert_eq!(text(&output.stderr), "line 5: not valid JSON\n");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_last_line_without_newline_runs() {
    let output = replay_stdin(b"{\"op\":\"query\",\"what\":\"insurance\"}");
    assert_eq!(
        text(&output.stdout),
        "{\"ev\":\"insurance\",\"balance\":\"0\"}\n"
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn missing_file_is_an_io_error() {
    let output = Command::new(BIN)
        .args(["replay", "/nonexistent/liqcore/script.jsonl"])
        .output()
        .expect("liqcore runs");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("liqcore replay: cannot open /nonexistent/liqcore/script.jsonl: "),
        "{stderr}"
    );
}

#[test]
fn file_argument_reads_the_file() {
    let path =
        std::env::temp_dir().join(format!("liqcore-replay-cli-{}.jsonl", std::process::id()));
    std::fs::write(&path, prelude()).expect("script written");
    let output = Command::new(BIN)
        .arg("replay")
        .arg(&path)
        .output()
        .expect("liqcore runs");
    std::fs::remove_file(&path).ok();
    assert_eq!(text(&output.stdout), PRELUDE_EVENTS);
    assert_eq!(output.status.code(), Some(0));
}

/// Events the engine produced (a mark, acknowledgements, a trade) before a malformed line are
/// all on standard output when the run stops: the binary flushed its buffered writer first.
#[test]
fn engine_events_before_a_malformed_line_are_flushed() {
    let prefix = format!(
        "{SYMBOL}\n\
         {{\"op\":\"deposit\",\"account\":1,\"amount\":\"100000\"}}\n\
         {{\"op\":\"deposit\",\"account\":2,\"amount\":\"100000\"}}\n\
         {{\"op\":\"mark\",\"symbol\":\"BTC-PERP\",\"price\":\"20000\"}}\n\
         {{\"op\":\"order\",\"id\":1,\"account\":1,\"symbol\":\"BTC-PERP\",\"side\":\"sell\",\"type\":\"limit\",\"qty\":\"1\",\"price\":\"20000\"}}\n\
         {{\"op\":\"order\",\"id\":2,\"account\":2,\"symbol\":\"BTC-PERP\",\"side\":\"buy\",\"type\":\"limit\",\"qty\":\"0.4\",\"price\":\"20000\"}}\n"
    );
    let script = format!("{prefix}{{\"op\":\"order\",\"id\":3}}\n{AFTER}");
    let output = replay_stdin(script.as_bytes());
    assert_eq!(
        text(&output.stdout),
        "{\"ev\":\"mark\",\"symbol\":\"BTC-PERP\",\"price\":\"20000\"}\n\
         {\"ev\":\"accepted\",\"id\":1}\n\
         {\"ev\":\"accepted\",\"id\":2}\n\
         {\"ev\":\"trade\",\"symbol\":\"BTC-PERP\",\"price\":\"20000\",\"qty\":\"0.4\",\"maker\":1,\"taker\":2,\"maker_account\":1,\"taker_account\":2,\"taker_side\":\"buy\",\"liquidation\":false}\n"
    );
    assert_eq!(text(&output.stderr), "line 7: missing field \"account\"\n");
    assert_eq!(output.status.code(), Some(2));
}
