//! The replay text interface (`/work/shared/REPLAY.md`): JSON Lines in, JSON Lines out. This
//! module holds the I/O layer — parsing a line into a typed [`ReplayCommand`], resolving its
//! decimals against the market's grid ([`SymbolTable`]), and printing a [`ReplayEvent`]
//! ([`write_event`]) — and the driver on top of it, [`run_replay`] / [`Replay`], which runs a
//! script through the engine (book + mark + risk stages, `Layout::Single`) and is what
//! `liqcore replay` calls. The driver's own semantics: `run.rs`.
//!
//! # Format
//!
//! **Input.** One JSON object per line. Empty (or all-whitespace) lines and lines whose first
//! non-whitespace character is `#` are skipped ([`parse_line`] returns `Ok(None)`). Surrounding
//! whitespace (a trailing `\r`) is ignored. `op` selects a [`ReplayCommand`] variant; every
//! field of REPLAY.md maps to a typed field:
//!
//! - decimals (prices, quantities, amounts, rates, leverages) are JSON **strings** matching
//!   `-?[0-9]+(\.[0-9]+)?` exactly (no exponent, no `+`, no spaces), kept as exact
//!   [`rust_decimal::Decimal`]s; a JSON number there is malformed;
//! - ids, accounts, `ts`, `depth` and the mark's millisecond parameters are JSON integers in
//!   `0 ..= u64::MAX` (`basis_samples`: `u32`); `1.0`, `-1`, `1e3` and `18446744073709551616`
//!   are malformed;
//! - enumerated words (`side`, `type`, `tif`, `trigger_by`, `stp`, `mode`, `mm_basis`, `what`,
//!   the mark's `method`, `basis_source`, `funding_convention`, `stale_fallback`) must be one
//!   of their REPLAY.md words; booleans are JSON booleans;
//! - optional fields take their REPLAY.md defaults (`tif` gtc, `stp` cancel_taker,
//!   `trigger_by` mark, `mode` cross, fees 0, `mm_basis` mark, `price_band` 0.05, `mark`
//!   median3); `null` counts as absent; **unknown fields are ignored** (the format grows by
//!   adding fields). Fields a command's type does not use are still type-checked if present
//!   (a `price` on a market order must be a decimal string) and then ignored.
//! - `order` requires `price` for `limit`/`stop_limit` and `trigger_price` for
//!   `stop_market`/`stop_limit`. `query` requires `account` for `"account"` and `symbol` for
//!   `"book"`.
//! - The `symbol` op's `mark` object: `method` (default `median3`), then that method's
//!   parameters on top of its defaults ([`crate::mark::MarkConfig::median3`] etc.):
//!   `basis_interval_ms`, `basis_samples`, `basis_source` (`"mid"`/`"impact_mid"`),
//!   `funding_convention` (`"hours_until_funding"`/`"pro_rata"`) for median3;
//!   `basis_tau_ms`, `local_tau_ms`, `basis_source` for ema_median; and for any method
//!   `clamp_band` (a rate string, `"0"` = no clamp), `stale_after_ms` (`0` = never stale),
//!   `stale_fallback` (`"hold_mark"`/`"local_median"`/`"stale_index"`). Their ranges are
//!   the mark stage's ([`crate::mark::MarkPrice::new`]), which [`SymbolTable::define`] asks:
//!   out of range is `invalid_symbol`.
//!
//! **Grid checks are not parse errors.** Whether a price lies on the tick or a quantity on
//! the lot, is positive, or names a defined symbol needs the symbol table: the
//! `SymbolTable::resolve_*` functions decide it and return a [`Reject`] whose word goes into
//! a `rejected` event (`unknown_symbol`, `price_not_on_tick`, `qty_not_on_lot`,
//! `invalid_qty`, `invalid_price`, `invalid_amount`, `invalid_leverage`, `duplicate_symbol`,
//! `invalid_symbol`). Sign is checked before the grid (`"-0.0005"` is `invalid_qty`).
//!
//! **Output.** [`write_event`] prints one object per line, `ev` first, then:
//!
//! | `ev` | keys, in order |
//! | --- | --- |
//! | `accepted` | `id` |
//! | `rejected` | `id` (order commands) or `account` (account commands) or `symbol` (market commands; none for `insurance`): see [`ReplayCommand::reject_subject`]; `reason` |
//! | `trade` | `symbol`, `price`, `qty`, `maker`, `taker`, `maker_account`, `taker_account`, `taker_side`, `liquidation` |
//! | `cancelled` | `id`, `remaining`, `reason` |
//! | `triggered` | `id` |
//! | `mark` | `symbol`, `price` |
//! | `liquidation` | `account`, `symbol`, `side`, `qty`, `limit_price` (`null` if none), `id` |
//! | `adl` | `symbol`, `liquidated_account`, `counterparty_account`, `qty`, `price` |
//! | `account` | `account`, `collateral`, `equity`, `maintenance_margin`, `initial_margin`, `positions`: objects with `symbol`, `qty`, `entry_price`, `mode`, `margin` (isolated only: omitted when `None`), `unrealized_pnl`, `maintenance_margin`, `liquidation_price`, `bankruptcy_price` (both `null` if none) |
//! | `book` | `symbol`, `bids`, `asks` (`[[price, qty], ...]`, best first) |
//! | `insurance` | `balance` |
//!
//! Ids and accounts are JSON integers, booleans JSON booleans, every decimal a string: ticks ×
//! tick size and lots × lot size exactly, money (10⁻¹² units) exactly for any `i128`, all
//! without trailing zeros (`"19700"`, `"0.5"`, `"-1.25"`, `"0"`, never `"-0"` or an exponent).
//! No spaces. [`ReplayEvent::from_book`] turns a [`crate::book::BookEvent`] into its replay
//! event (`Bbo` has none; `Modified` is acknowledged as `accepted`).
//!
//! **Glue.** The engine's loop, for the book part (a sketch that runs):
//!
//! ```
//! use liqcore::book::Book;
//! use liqcore::replay::{ReplayCommand, ReplayEvent, SymbolTable, parse_line, write_event};
//! let script = r#"{"op":"symbol","symbol":"BTC","tick_size":"0.5","lot_size":"0.001","max_leverage":"100","margin_tiers":[{"floor":"0","mmr":"0.005"}]}
//! {"op":"order","id":1,"account":1,"symbol":"BTC","side":"sell","type":"limit","qty":"0.5","price":"20000"}
//! {"op":"order","id":2,"account":2,"symbol":"BTC","side":"buy","type":"limit","qty":"0.5","price":"20000.25"}"#;
//! let (mut table, mut books, mut out) = (SymbolTable::new(), Vec::new(), Vec::new());
//! for (i, text) in script.lines().enumerate() {
//!     let Some(command) = parse_line(i as u64 + 1, text).unwrap() else { continue };
//!     let mut events = Vec::new();
//!     let refused = match &command {
//!         ReplayCommand::Symbol(def) => table.define(def).map(|id| {
//!             books.push(Book::new(table.get(id).unwrap().spec.clone(), 1024));
//!         }),
//!         ReplayCommand::Order(request) => table.resolve_order(request).map(|resolved| {
//!             books[resolved.symbol.0 as usize].submit(&resolved.order, &mut events);
//!         }),
//!         _ => Ok(()),
//!     };
//!     if let Err(reason) = refused {
//!         let event = ReplayEvent::Rejected { subject: command.reject_subject(), reason };
//!         write_event(&mut out, &event, &table).unwrap();
//!     }
//!     let symbol = table.id("BTC").unwrap();
//!     for event in events.into_iter().filter_map(|e| ReplayEvent::from_book(symbol, e)) {
//!         write_event(&mut out, &event, &table).unwrap();
//!     }
//! }
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "{\"ev\":\"accepted\",\"id\":1}\n{\"ev\":\"rejected\",\"id\":2,\"reason\":\"price_not_on_tick\"}\n"
//! );
//! ```
//!
//! # Error messages
//!
//! A malformed line is a [`MalformedLine`]; its `Display` is `line N: <reason>`, the text
//! REPLAY.md has the program print to standard error before exiting with status 2. The first
//! problem found wins; fields are checked in the order of REPLAY.md's table (`op` and `ts`
//! first). Field names are paths: `qty`, `margin_tiers[1].mmr`, `mark.method`.
//!
//! | case | reason (exact text) |
//! | --- | --- |
//! | bytes not UTF-8 ([`parse_line_bytes`]) | `not valid UTF-8` |
//! | not JSON, trailing garbage, nesting deeper than 128 | `not valid JSON` |
//! | JSON that is not an object (`[1]`, `"x"`, `3`) | `not a JSON object` |
//! | no `op` (or `null`) | `missing field "op"` |
//! | `op` not a string | `field "op" must be a string` |
//! | `op` not a known word | `unknown op "foo"` (echoed as a JSON string literal) |
//! | required field absent or `null` | `missing field "qty"` |
//! | decimal field not a string, or a string off the grammar | `field "price" must be a decimal string` |
//! | decimal whose value (trailing fractional zeros dropped) needs more than 28 decimals or exceeds 79228162514264337593543950335 | `field "price" has too many digits` |
//! | id/account/`ts`/`depth`/ms field not an integer in `0..=u64::MAX` | `field "id" must be an unsigned 64-bit integer` |
//! | `mark.basis_samples` beyond `u32` | `field "mark.basis_samples" must be an unsigned 32-bit integer` |
//! | `mark.clamp_band` with more than 8 decimals | `field "mark.clamp_band" must be a decimal string with at most 8 decimals` |
//! | name field (`symbol`) not a string | `field "symbol" must be a string` |
//! | flag not a boolean | `field "post_only" must be a boolean` |
//! | `margin_tiers` not an array | `field "margin_tiers" must be an array` |
//! | a tier, or `mark`, not an object | `field "margin_tiers[0]" must be an object` |
//! | a word field with another word (or not a string) | `field "side" must be "buy" or "sell"`; `field "type" must be "limit", "market", "stop_market" or "stop_limit"` (every choice, in REPLAY.md order) |
//!
//! # Determinism
//!
//! Parsing is a pure function of the line. Output is a pure function of the event and the
//! table: fixed key order, canonical decimals, no maps iterated, no floats, no locale — the
//! same events print byte-identical lines on every run and platform. Symbol ids are dense in
//! definition order, so a script defines the same ids every time.
//!
//! # Invariants
//!
//! - A [`SymbolTable`] entry always has a valid [`crate::types::SymbolSpec`], at least one
//!   margin tier starting at floor 0 with strictly ascending floors, and rates with at most 8
//!   decimals; maintenance amounts are derived by the risk stage's
//!   [`crate::risk::MarginTiers`] (exact sum, rounded down once: the requirement
//!   `notional × mmr − cum` is never understated), and [`SymbolEntry::risk_config`] builds
//!   the risk stage's configuration from the entry.
//! - Resolved orders have positive lots and, where used, positive on-grid ticks.
//!
//! # Known limitations
//!
//! - JSON with duplicate keys takes the last value (serde_json's behaviour), silently.
//! - Parsing allocates (the JSON tree, names): it is the edge of the engine, not its hot
//!   path. A run is bounded by I/O and JSON, not by this layer.
//! - Range checks that belong to a stage stay there: order size limits and `MAX_PRICE` are the
//!   book's (`invalid_qty`, `invalid_price`), margin and leverage-tier rules the risk stage's,
//!   `ts` order (time going backwards) the mark stage's. Only a `leverage` above the symbol's
//!   `max_leverage` is refused here (`invalid_leverage`).
//! - `entry_price` is printed as given (exact); its rounding is the risk stage's decision.
//! - Prices are printed from ticks through `Decimal`: a price beyond ~7.9 × 10²⁸ cannot be
//!   printed ([`write_event`] fails with `InvalidInput`); the book bounds prices far below.
//!
//! # Performance
//!
//! Not on the hot path: this is the edge where text becomes typed commands, before the
//! engine's preallocated stages. Parsing is O(line length) (serde_json builds a tree, then one
//! pass over the fields; names are copied). Writing is O(output): the line is assembled in a
//! fresh buffer (a few small allocations for the decimal strings) and written with one
//! `write_all`, so a buffered writer sees one call per event. Measured (`perf/replay.md`,
//! `cargo bench --bench replay`): parsing is about 3.4 µs of the 5.6 µs a script line costs end
//! to end (2-core EPYC guest).

mod command;
mod event;
mod parse;
mod run;
mod snapshot;
mod symbols;

pub use command::{
    AmountCommand, CancelCommand, InsuranceCommand, LeverageCommand, MarginCommand, MarginMode,
    MarginTierSpec, MmBasis, ModifyCommand, OrderRequest, PriceCommand, QueryCommand, QueryTarget,
    ReplayCommand, SymbolCommand,
};
pub use event::{
    AccountSnapshot, AdlEvent, BookSnapshot, LiquidationEvent, PositionSnapshot, RejectSubject,
    ReplayEvent, money_string, write_event,
};
pub use parse::{Expected, MalformedLine, MalformedReason, parse_line, parse_line_bytes};
pub use run::{
    REPLAY_ACCOUNTS, REPLAY_ORDERS, REPLAY_SYMBOLS, Replay, ReplayError, Summary, run_replay,
};
pub use snapshot::{account_snapshot, book_snapshot, insurance_balance};
pub use symbols::{
    MarginTier, Reject, ResolvedLeverage, ResolvedMargin, ResolvedModify, ResolvedOrder,
    ResolvedPrice, SymbolEntry, SymbolTable, resolve_amount, resolve_insurance,
};
