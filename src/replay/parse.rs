//! Parsing one line of a replay script into a [`ReplayCommand`]: JSON first
//! (`serde_json::Value`), then field-by-field validation so that every malformed line gets one
//! exact, stable reason ([`MalformedReason`]; the table is in the module docs of
//! [`crate::replay`]).

use std::fmt;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::command::{
    AmountCommand, CancelCommand, InsuranceCommand, LeverageCommand, MarginCommand, MarginMode,
    MarginTierSpec, MmBasis, ModifyCommand, OrderRequest, PriceCommand, QueryCommand, QueryTarget,
    ReplayCommand, SymbolCommand,
};
use crate::book::{OrderKind, SelfTradePrevention, TimeInForce, TriggerSource};
use crate::mark::{
    BasisSource, FundingConvention, MarkConfig, MarkMethod, Median3Config, StaleFallback,
};
use crate::types::{AccountId, OrderId, Rate, Side};

/// What a field's value had to be (the end of a `field "x" must be ...` message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expected {
    /// A JSON string (a name).
    String,
    /// A JSON string holding a decimal: `-?[0-9]+(\.[0-9]+)?`.
    Decimal,
    /// A JSON string holding a decimal with at most 8 decimals (a mark-config rate).
    Rate,
    /// A JSON integer in `0 ..= u64::MAX`.
    U64,
    /// A JSON integer in `0 ..= u32::MAX`.
    U32,
    /// `true` or `false`.
    Bool,
    /// A JSON array.
    Array,
    /// A JSON object.
    Object,
}

impl Expected {
    /// The phrase after `must be`.
    #[must_use]
    pub const fn phrase(self) -> &'static str {
        match self {
            Expected::String => "a string",
            Expected::Decimal => "a decimal string",
            Expected::Rate => "a decimal string with at most 8 decimals",
            Expected::U64 => "an unsigned 64-bit integer",
            Expected::U32 => "an unsigned 32-bit integer",
            Expected::Bool => "a boolean",
            Expected::Array => "an array",
            Expected::Object => "an object",
        }
    }
}

/// Why a line is malformed. Field names are paths: `qty`, `margin_tiers[1].mmr`,
/// `mark.method`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MalformedReason {
    /// The bytes are not UTF-8 (only from [`parse_line_bytes`]).
    NotUtf8,
    /// The text is not one JSON value.
    NotJson,
    /// The JSON value is not an object.
    NotObject,
    /// `op` names no command.
    UnknownOp(String),
    /// A required field is absent (or `null`).
    MissingField(String),
    /// A field has the wrong JSON type or syntax.
    WrongType {
        /// The field's path.
        field: String,
        /// What it must be.
        expected: Expected,
    },
    /// A decimal string whose value an exact 96-bit decimal cannot hold: more than 28
    /// significant decimals after the point (trailing zeros do not count), or beyond
    /// 79228162514264337593543950335.
    TooManyDigits(String),
    /// A word field holds a word that is not one of its choices.
    BadWord {
        /// The field's path.
        field: String,
        /// The accepted words, in documentation order.
        allowed: &'static [&'static str],
    },
}

impl fmt::Display for MalformedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MalformedReason::NotUtf8 => f.write_str("not valid UTF-8"),
            MalformedReason::NotJson => f.write_str("not valid JSON"),
            MalformedReason::NotObject => f.write_str("not a JSON object"),
            MalformedReason::UnknownOp(op) => write!(f, "unknown op {}", quoted(op)),
            MalformedReason::MissingField(field) => write!(f, "missing field \"{field}\""),
            MalformedReason::WrongType { field, expected } => {
                write!(f, "field \"{field}\" must be {}", expected.phrase())
            }
            MalformedReason::TooManyDigits(field) => {
                write!(f, "field \"{field}\" has too many digits")
            }
            MalformedReason::BadWord { field, allowed } => {
                write!(f, "field \"{field}\" must be ")?;
                for (i, word) in allowed.iter().enumerate() {
                    if i > 0 {
                        f.write_str(if i + 1 == allowed.len() { " or " } else { ", " })?;
                    }
                    write!(f, "\"{word}\"")?;
                }
                Ok(())
            }
        }
    }
}

/// A JSON string literal for `text` (quotes, escapes): the offending text is echoed safely,
/// on one line, whatever it contains.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"?\""))
}

/// A malformed line: REPLAY.md makes the program print `line N: <reason>` (this type's
/// `Display`) to standard error and exit with status 2.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct MalformedLine {
    /// 1-based line number, as the caller counts it.
    pub line: u64,
    /// Why.
    pub reason: MalformedReason,
}

/// Parses one line of a replay script.
///
/// Returns `Ok(None)` for an empty (or all-whitespace) line and for a comment (first
/// non-whitespace character `#`). Unknown fields are ignored; `null` counts as absent.
///
/// # Errors
///
/// [`MalformedLine`] with `line_number` and the reason (see the table in [`crate::replay`]).
///
/// # Examples
///
/// ```
/// use liqcore::replay::{ReplayCommand, parse_line};
/// let cmd = parse_line(1, r#"{"op":"cancel","id":7}"#).unwrap().unwrap();
/// assert!(matches!(cmd, ReplayCommand::Cancel(c) if c.id.0 == 7));
/// assert_eq!(parse_line(2, "# a comment"), Ok(None));
/// let err = parse_line(3, r#"{"op":"cancel"}"#).unwrap_err();
/// assert_eq!(err.to_string(), r#"line 3: missing field "id""#);
/// ```
pub fn parse_line(line_number: u64, text: &str) -> Result<Option<ReplayCommand>, MalformedLine> {
    parse_text(text).map_err(|reason| MalformedLine {
        line: line_number,
        reason,
    })
}

/// [`parse_line`] on raw bytes (a line read with `read_until(b'\n')`, newline included or not).
///
/// # Errors
///
/// [`MalformedReason::NotUtf8`] if the bytes are not UTF-8, else as [`parse_line`].
pub fn parse_line_bytes(
    line_number: u64,
    bytes: &[u8],
) -> Result<Option<ReplayCommand>, MalformedLine> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_line(line_number, text),
        Err(_) => Err(MalformedLine {
            line: line_number,
            reason: MalformedReason::NotUtf8,
        }),
    }
}

type Parsed<T> = Result<T, MalformedReason>;

fn parse_text(text: &str) -> Parsed<Option<ReplayCommand>> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(trimmed).map_err(|_| MalformedReason::NotJson)?;
    let Value::Object(map) = &value else {
        return Err(MalformedReason::NotObject);
    };
    let obj = Obj { map, path: "" };
    let op = obj.string("op")?;
    let ts = obj.opt_u64("ts")?;
    let command = match op {
        "symbol" => ReplayCommand::Symbol(symbol_command(&obj, ts)?),
        "deposit" => ReplayCommand::Deposit(amount_command(&obj, ts)?),
        "withdraw" => ReplayCommand::Withdraw(amount_command(&obj, ts)?),
        "insurance" => ReplayCommand::Insurance(InsuranceCommand {
            ts,
            amount: obj.decimal("amount")?,
        }),
        "leverage" => ReplayCommand::Leverage(LeverageCommand {
            ts,
            account: AccountId(obj.u64("account")?),
            symbol: obj.string("symbol")?.to_owned(),
            leverage: obj.decimal("leverage")?,
            mode: obj.opt_word("mode", &MARGIN_MODES)?.unwrap_or_default(),
        }),
        "margin" => ReplayCommand::Margin(MarginCommand {
            ts,
            account: AccountId(obj.u64("account")?),
            symbol: obj.string("symbol")?.to_owned(),
            amount: obj.decimal("amount")?,
        }),
        "order" => ReplayCommand::Order(order_request(&obj, ts)?),
        "cancel" => ReplayCommand::Cancel(CancelCommand {
            ts,
            id: OrderId(obj.u64("id")?),
        }),
        "modify" => ReplayCommand::Modify(ModifyCommand {
            ts,
            id: OrderId(obj.u64("id")?),
            price: obj.opt_decimal("price")?,
            qty: obj.opt_decimal("qty")?,
        }),
        "index" => ReplayCommand::Index(price_command(&obj, ts)?),
        "mark" => ReplayCommand::Mark(price_command(&obj, ts)?),
        "query" => ReplayCommand::Query(query_command(&obj, ts)?),
        other => return Err(MalformedReason::UnknownOp(other.to_owned())),
    };
    Ok(Some(command))
}

fn amount_command(obj: &Obj<'_>, ts: Option<u64>) -> Parsed<AmountCommand> {
    Ok(AmountCommand {
        ts,
        account: AccountId(obj.u64("account")?),
        amount: obj.decimal("amount")?,
    })
}

fn price_command(obj: &Obj<'_>, ts: Option<u64>) -> Parsed<PriceCommand> {
    Ok(PriceCommand {
        ts,
        symbol: obj.string("symbol")?.to_owned(),
        price: obj.decimal("price")?,
    })
}

#[derive(Clone, Copy)]
enum QueryWhat {
    Account,
    Book,
    Insurance,
}

fn query_command(obj: &Obj<'_>, ts: Option<u64>) -> Parsed<QueryCommand> {
    let what = match obj.word("what", &QUERY_TARGETS)? {
        QueryWhat::Account => QueryTarget::Account(AccountId(obj.u64("account")?)),
        QueryWhat::Book => QueryTarget::Book {
            symbol: obj.string("symbol")?.to_owned(),
            depth: obj.opt_u64("depth")?,
        },
        QueryWhat::Insurance => QueryTarget::Insurance,
    };
    Ok(QueryCommand { ts, what })
}

fn order_request(obj: &Obj<'_>, ts: Option<u64>) -> Parsed<OrderRequest> {
    let id = OrderId(obj.u64("id")?);
    let account = AccountId(obj.u64("account")?);
    let symbol = obj.string("symbol")?.to_owned();
    let side = obj.word("side", &SIDES)?;
    let kind = obj.word("type", &ORDER_KINDS)?;
    let qty = obj.decimal("qty")?;
    let price = match kind {
        OrderKind::Limit | OrderKind::StopLimit => Some(obj.decimal("price")?),
        OrderKind::Market | OrderKind::StopMarket => obj.opt_decimal("price")?,
    };
    let trigger_price = match kind {
        OrderKind::StopMarket | OrderKind::StopLimit => Some(obj.decimal("trigger_price")?),
        OrderKind::Limit | OrderKind::Market => obj.opt_decimal("trigger_price")?,
    };
    Ok(OrderRequest {
        ts,
        id,
        account,
        symbol,
        side,
        kind,
        qty,
        price,
        tif: obj.opt_word("tif", &TIFS)?.unwrap_or_default(),
        post_only: obj.opt_bool("post_only")?.unwrap_or(false),
        reduce_only: obj.opt_bool("reduce_only")?.unwrap_or(false),
        trigger_price,
        trigger_by: obj
            .opt_word("trigger_by", &TRIGGER_SOURCES)?
            .unwrap_or_default(),
        stp: obj.opt_word("stp", &STP_MODES)?.unwrap_or_default(),
    })
}

fn symbol_command(obj: &Obj<'_>, ts: Option<u64>) -> Parsed<SymbolCommand> {
    let symbol = obj.string("symbol")?.to_owned();
    let tick_size = obj.decimal("tick_size")?;
    let lot_size = obj.decimal("lot_size")?;
    let max_leverage = obj.decimal("max_leverage")?;
    let tiers = obj.array("margin_tiers")?;
    let mut margin_tiers = Vec::with_capacity(tiers.len());
    for (i, tier) in tiers.iter().enumerate() {
        let path = format!("margin_tiers[{i}]");
        let Value::Object(map) = tier else {
            return Err(wrong_type(&path, Expected::Object));
        };
        let prefix = format!("{path}.");
        let tier = Obj { map, path: &prefix };
        margin_tiers.push(MarginTierSpec {
            floor: tier.decimal("floor")?,
            mmr: tier.decimal("mmr")?,
            max_leverage: tier.opt_decimal("max_leverage")?,
        });
    }
    let mark = match obj.opt_object("mark")? {
        Some(map) => mark_config(&Obj { map, path: "mark." })?,
        None => MarkConfig::default(),
    };
    Ok(SymbolCommand {
        ts,
        symbol,
        tick_size,
        lot_size,
        max_leverage,
        margin_tiers,
        maker_fee: obj.opt_decimal("maker_fee")?.unwrap_or(Decimal::ZERO),
        taker_fee: obj.opt_decimal("taker_fee")?.unwrap_or(Decimal::ZERO),
        liquidation_fee: obj.opt_decimal("liquidation_fee")?.unwrap_or(Decimal::ZERO),
        mm_basis: obj.opt_word("mm_basis", &MM_BASES)?.unwrap_or_default(),
        price_band: obj.opt_decimal("price_band")?.unwrap_or(Decimal::new(5, 2)),
        mark,
    })
}

#[derive(Clone, Copy)]
enum MethodWord {
    Last,
    Mid,
    Median3,
    EmaMedian,
}

/// The `mark` object: `method` (default `median3`) and that method's parameters, starting
/// from the method's defaults ([`MarkConfig::last`], [`MarkConfig::mid`],
/// [`MarkConfig::median3`], [`MarkConfig::ema_median`]).
fn mark_config(obj: &Obj<'_>) -> Parsed<MarkConfig> {
    let method = obj.opt_word("method", &MARK_METHODS)?;
    let mut config = match method.unwrap_or(MethodWord::Median3) {
        MethodWord::Last => MarkConfig::last(),
        MethodWord::Mid => MarkConfig::mid(),
        MethodWord::Median3 => MarkConfig::median3(),
        MethodWord::EmaMedian => MarkConfig::ema_median(),
    };
    match &mut config.method {
        MarkMethod::Median3(m3) => {
            let Median3Config {
                basis_interval_ms,
                basis_samples,
                basis_source,
                funding_convention,
            } = m3;
            if let Some(v) = obj.opt_u64("basis_interval_ms")? {
                *basis_interval_ms = v;
            }
            if let Some(v) = obj.opt_u32("basis_samples")? {
                *basis_samples = v;
            }
            if let Some(v) = obj.opt_word("basis_source", &BASIS_SOURCES)? {
                *basis_source = v;
            }
            if let Some(v) = obj.opt_word("funding_convention", &FUNDING_CONVENTIONS)? {
                *funding_convention = v;
            }
        }
        MarkMethod::EmaMedian(ema) => {
            if let Some(v) = obj.opt_u64("basis_tau_ms")? {
                ema.basis_tau_ms = v;
            }
            if let Some(v) = obj.opt_u64("local_tau_ms")? {
                ema.local_tau_ms = v;
            }
            if let Some(v) = obj.opt_word("basis_source", &BASIS_SOURCES)? {
                ema.basis_source = v;
            }
        }
        MarkMethod::Last | MarkMethod::Mid => {}
    }
    if let Some(band) = obj.opt_rate("clamp_band")? {
        config.clamp_band = (band != Rate::ZERO).then_some(band);
    }
    if let Some(ms) = obj.opt_u64("stale_after_ms")? {
        config.stale_after_ms = (ms != 0).then_some(ms);
    }
    if let Some(fallback) = obj.opt_word("stale_fallback", &STALE_FALLBACKS)? {
        config.stale_fallback = fallback;
    }
    Ok(config)
}

/// The accepted words of an enumerated field, in documentation order, and their values
/// (`names[i]` means `values[i]`).
struct Words<T: 'static> {
    names: &'static [&'static str],
    values: &'static [T],
}

const SIDES: Words<Side> = Words {
    names: &["buy", "sell"],
    values: &[Side::Buy, Side::Sell],
};
const ORDER_KINDS: Words<OrderKind> = Words {
    names: &["limit", "market", "stop_market", "stop_limit"],
    values: &[
        OrderKind::Limit,
        OrderKind::Market,
        OrderKind::StopMarket,
        OrderKind::StopLimit,
    ],
};
const TIFS: Words<TimeInForce> = Words {
    names: &["gtc", "ioc", "fok"],
    values: &[TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok],
};
const TRIGGER_SOURCES: Words<TriggerSource> = Words {
    names: &["mark", "last"],
    values: &[TriggerSource::Mark, TriggerSource::Last],
};
const STP_MODES: Words<SelfTradePrevention> = Words {
    names: &["cancel_taker", "cancel_maker", "cancel_both", "none"],
    values: &[
        SelfTradePrevention::CancelTaker,
        SelfTradePrevention::CancelMaker,
        SelfTradePrevention::CancelBoth,
        SelfTradePrevention::None,
    ],
};
const MARGIN_MODES: Words<MarginMode> = Words {
    names: &["cross", "isolated"],
    values: &[MarginMode::Cross, MarginMode::Isolated],
};
const MM_BASES: Words<MmBasis> = Words {
    names: &["mark", "entry"],
    values: &[MmBasis::Mark, MmBasis::Entry],
};
const QUERY_TARGETS: Words<QueryWhat> = Words {
    names: &["account", "book", "insurance"],
    values: &[QueryWhat::Account, QueryWhat::Book, QueryWhat::Insurance],
};
const MARK_METHODS: Words<MethodWord> = Words {
    names: &["last", "mid", "median3", "ema_median"],
    values: &[
        MethodWord::Last,
        MethodWord::Mid,
        MethodWord::Median3,
        MethodWord::EmaMedian,
    ],
};
const BASIS_SOURCES: Words<BasisSource> = Words {
    names: &["mid", "impact_mid"],
    values: &[BasisSource::Mid, BasisSource::ImpactMid],
};
const FUNDING_CONVENTIONS: Words<FundingConvention> = Words {
    names: &["hours_until_funding", "pro_rata"],
    values: &[
        FundingConvention::HoursUntilFunding,
        FundingConvention::ProRata,
    ],
};
const STALE_FALLBACKS: Words<StaleFallback> = Words {
    names: &["hold_mark", "local_median", "stale_index"],
    values: &[
        StaleFallback::HoldMark,
        StaleFallback::LocalMedian,
        StaleFallback::StaleIndex,
    ],
};

fn wrong_type(field: &str, expected: Expected) -> MalformedReason {
    MalformedReason::WrongType {
        field: field.to_owned(),
        expected,
    }
}

/// A JSON object being validated, with the path prefix of its fields (`""`, `"mark."`,
/// `"margin_tiers[2]."`).
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Obj<'a> {
    fn field_path(&self, name: &str) -> String {
        format!("{}{name}", self.path)
    }

    /// The value of `name`, `None` if absent or `null`.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn require(&self, name: &str) -> Parsed<&'a Value> {
        self.get(name)
            .ok_or_else(|| MalformedReason::MissingField(self.field_path(name)))
    }

    fn string(&self, name: &str) -> Parsed<&'a str> {
        self.require(name)?
            .as_str()
            .ok_or_else(|| wrong_type(&self.field_path(name), Expected::String))
    }

    fn u64_of(&self, name: &str, value: &Value) -> Parsed<u64> {
        value
            .as_u64()
            .ok_or_else(|| wrong_type(&self.field_path(name), Expected::U64))
    }

    fn u64(&self, name: &str) -> Parsed<u64> {
        self.u64_of(name, self.require(name)?)
    }

    fn opt_u64(&self, name: &str) -> Parsed<Option<u64>> {
        self.get(name).map(|v| self.u64_of(name, v)).transpose()
    }

    fn opt_u32(&self, name: &str) -> Parsed<Option<u32>> {
        self.get(name)
            .map(|v| {
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| wrong_type(&self.field_path(name), Expected::U32))
            })
            .transpose()
    }

    fn opt_bool(&self, name: &str) -> Parsed<Option<bool>> {
        self.get(name)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| wrong_type(&self.field_path(name), Expected::Bool))
            })
            .transpose()
    }

    fn array(&self, name: &str) -> Parsed<&'a Vec<Value>> {
        self.require(name)?
            .as_array()
            .ok_or_else(|| wrong_type(&self.field_path(name), Expected::Array))
    }

    fn opt_object(&self, name: &str) -> Parsed<Option<&'a Map<String, Value>>> {
        self.get(name)
            .map(|v| {
                v.as_object()
                    .ok_or_else(|| wrong_type(&self.field_path(name), Expected::Object))
            })
            .transpose()
    }

    fn decimal_of(&self, name: &str, value: &Value) -> Parsed<Decimal> {
        let text = value
            .as_str()
            .ok_or_else(|| wrong_type(&self.field_path(name), Expected::Decimal))?;
        parse_decimal(text).map_err(|error| match error {
            DecimalError::Syntax => wrong_type(&self.field_path(name), Expected::Decimal),
            DecimalError::TooManyDigits => MalformedReason::TooManyDigits(self.field_path(name)),
        })
    }

    fn decimal(&self, name: &str) -> Parsed<Decimal> {
        self.decimal_of(name, self.require(name)?)
    }

    fn opt_decimal(&self, name: &str) -> Parsed<Option<Decimal>> {
        self.get(name).map(|v| self.decimal_of(name, v)).transpose()
    }

    fn opt_rate(&self, name: &str) -> Parsed<Option<Rate>> {
        self.opt_decimal(name)?
            .map(|d| {
                Rate::from_decimal(d)
                    .ok_or_else(|| wrong_type(&self.field_path(name), Expected::Rate))
            })
            .transpose()
    }

    fn word_of<T: Copy>(&self, name: &str, value: &Value, words: &Words<T>) -> Parsed<T> {
        value
            .as_str()
            .and_then(|text| words.names.iter().position(|word| *word == text))
            .and_then(|i| words.values.get(i).copied())
            .ok_or_else(|| MalformedReason::BadWord {
                field: self.field_path(name),
                allowed: words.names,
            })
    }

    fn word<T: Copy>(&self, name: &str, words: &Words<T>) -> Parsed<T> {
        self.word_of(name, self.require(name)?, words)
    }

    fn opt_word<T: Copy>(&self, name: &str, words: &Words<T>) -> Parsed<Option<T>> {
        self.get(name)
            .map(|v| self.word_of(name, v, words))
            .transpose()
    }
}

enum DecimalError {
    Syntax,
    TooManyDigits,
}

/// `-?[0-9]+(\.[0-9]+)?`, exactly (no exponent, no `+`, no spaces, no `_`), into a [`Decimal`]
/// without rounding.
fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(DecimalError::Syntax);
    }
    // Trailing zeros after the point do not change the value: drop them, so that
    // `1.500000000000000000000000000000` (scale 30) is as exact as `1.5`.
    let canonical = match fraction {
        Some(_) => text.trim_end_matches('0').trim_end_matches('.'),
        None => text,
    };
    // `from_str_exact` refuses (rather than rounds) what a 96-bit mantissa with scale ≤ 28
    // cannot hold exactly.
    Decimal::from_str_exact(canonical).map_err(|_| DecimalError::TooManyDigits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_grammar_is_strict() {
        for bad in [
            "", "-", ".5", "5.", "+1", "1e5", " 1", "1 ", "1_000", "0x10", "1.2.3",
        ] {
            assert!(
                matches!(parse_decimal(bad), Err(DecimalError::Syntax)),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_decimal("-20000.50").ok(),
            Some(Decimal::new(-2_000_050, 2))
        );
        assert!(matches!(
            parse_decimal("1.00000000000000000000000000001"),
            Err(DecimalError::TooManyDigits)
        ));
        assert!(matches!(
            parse_decimal("99999999999999999999999999999999"),
            Err(DecimalError::TooManyDigits)
        ));
        assert_eq!(
            parse_decimal("1.500000000000000000000000000000").ok(),
            Some(Decimal::new(15, 1))
        );
        assert_eq!(
            parse_decimal("1000000000000000000000.00000000").ok(),
            Some(Decimal::from_i128_with_scale(
                1_000_000_000_000_000_000_000,
                0
            ))
        );
        assert_eq!(parse_decimal("10.000").ok(), Some(Decimal::TEN));
        assert_eq!(
            parse_decimal("00000000000000000000000000000000001").ok(),
            Some(Decimal::ONE)
        );
        assert_eq!(parse_decimal("100").ok(), Some(Decimal::ONE_HUNDRED));
    }

    #[test]
    fn every_word_has_a_value() {
        fn same<T>(words: &Words<T>) -> bool {
            words.names.len() == words.values.len()
        }
        assert!(same(&SIDES) && same(&ORDER_KINDS) && same(&TIFS) && same(&TRIGGER_SOURCES));
        assert!(same(&STP_MODES) && same(&MARGIN_MODES) && same(&MM_BASES));
        assert!(same(&QUERY_TARGETS) && same(&MARK_METHODS) && same(&BASIS_SOURCES));
        assert!(same(&FUNDING_CONVENTIONS) && same(&STALE_FALLBACKS));
    }
}
