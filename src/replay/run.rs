//! The replay driver: reads a script line by line, resolves each command against the
//! [`SymbolTable`], drives the engine in its deterministic single-thread layout and writes
//! every event with [`write_event`]. `liqcore replay` is a thin shell around [`run_replay`];
//! tests call [`run_replay`] (or [`Replay::apply`]) in process.
//!
//! # Layout
//!
//! A [`Replay`] owns the [`SymbolTable`] (names, grids, risk parameters), the engine (book,
//! mark and risk stages on one thread, `Layout::Single`) and the logical clock. The script is
//! read with `read_until(b'\n')` into one reused byte buffer, so a line that is not UTF-8 is a
//! malformed line (`not valid UTF-8`), not an I/O error.
//!
//! # Semantics
//!
//! For each line, in order:
//!
//! 1. blank lines and `#` comments are skipped (they still count for line numbers);
//! 2. the line is parsed ([`parse_line_bytes`]); a malformed line stops the run: the output is
//!    flushed, then [`ReplayError::Malformed`] is returned (the binary prints it and exits 2);
//! 3. `ts`, if present and later than the clock, advances the logical clock first: an
//!    `index` or `mark` carries it to the mark stage itself, any other command is preceded by
//!    a clock input, so the mark stage sees the time move (staleness, smoothing) before the
//!    command; an older `ts` leaves the clock where it is; without one, time does not move.
//!    Every command is stamped with the clock;
//! 4. the command's decimals are resolved against its symbol's grid ([`SymbolTable`]); a
//!    refusal there (`price_not_on_tick`, `invalid_qty`, `unknown_symbol`, ...) is a
//!    `rejected` event and the engine never sees the command;
//! 5. otherwise the command goes to the engine, which runs until no stage has work, and every
//!    event it produced is written in the engine's processing order (the engine's own refusals
//!    arrive as `rejected` events: `insufficient_margin`, `unknown_order`, ...);
//! 6. a `query` reads the stages' state directly between commands (nothing is in flight then)
//!    and writes one snapshot event ([`account_snapshot`], [`book_snapshot`], the fund).
//!
//! Whom a `rejected` event names follows [`ReplayCommand::reject_subject`].
//!
//! # Invariants
//!
//! - The output is a pure function of the script: fixed poll order in the engine, no clocks,
//!   no hash-map iteration, no floats; the same bytes in give the same bytes out.
//! - A run that stops at a malformed line N has written exactly what lines `1..N` write on
//!   their own (`tests/replay_run_props.rs`).
//!
//! # Known limitations
//!
//! - At most [`crate::risk::MAX_SYMBOLS`] markets and [`REPLAY_ACCOUNTS`] accounts per run;
//!   beyond them, `symbol` and `deposit` are refused.
//! - User order ids must stay below 2⁶³ (the risk stage refuses others, `invalid_order_id`):
//!   the liquidation engine numbers its own orders from [`crate::risk::LIQUIDATION_ID_BASE`],
//!   and their `accepted`, `trade` and `cancelled` events show those ids.
//! - A `modify` is resolved on the grid of the book that holds the order; an id no book holds
//!   is refused here as `unknown_order` (the engine would say the same).
//! - The insurance fund's movements are not printed as they happen (REPLAY.md has no such
//!   event); a `query` of the fund shows its balance.
//!
//! # Performance
//!
//! Not a hot path: JSON parsing and formatting (a few small allocations per line) dominate;
//! the engine's stages themselves do not allocate. Output goes through the caller's writer;
//! the binary gives it a 64 KiB `BufWriter` on a locked stdout, so a run makes one `write`
//! system call per 64 KiB of events, plus the final flush. Measured (`perf/replay.md`): 5.6 µs
//! per line end to end on a 20,000-command script (180 k lines/s), 3.4 µs of it parsing; an
//! engine starts in about 1 ms.

use std::io::{self, BufRead, Write};

use super::command::{QueryTarget, ReplayCommand};
use super::event::{AdlEvent, LiquidationEvent, RejectSubject, ReplayEvent};
use super::parse::{MalformedLine, parse_line_bytes};
use super::snapshot::{account_snapshot, book_snapshot};
use super::symbols::{Reject, SymbolTable, resolve_amount, resolve_insurance};
use super::write_event;
use crate::book::RejectReason;
use crate::engine::{
    Command, Engine, EngineBuilder, EngineError, Event, Layout, Market, MarketInput, Stages,
    Subject,
};
use crate::risk::{self, Leverage, MAX_SYMBOLS};
use crate::types::{OrderId, SymbolId};

/// Accounts a replay's risk stage preallocates: a `deposit` that would create one more is
/// refused (`account_capacity`).
pub const REPLAY_ACCOUNTS: usize = 4096;
/// Markets a replay can define (the risk stage's limit, [`MAX_SYMBOLS`]).
pub const REPLAY_SYMBOLS: usize = MAX_SYMBOLS;
/// Live orders per market book, and live user orders the risk stage tracks.
pub const REPLAY_ORDERS: usize = 1 << 16;

/// What a finished run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Summary {
    /// Lines read (blank lines and comments included).
    pub lines: u64,
    /// Commands applied (lines that were neither blank nor comments).
    pub commands: u64,
    /// Events written.
    pub events: u64,
    /// Of those, `rejected` events.
    pub rejected: u64,
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A malformed line: REPLAY.md has the program print it (`line N: reason`) to standard
    /// error and exit with status 2. Every event before it has been written and flushed.
    #[error(transparent)]
    Malformed(MalformedLine),
    /// The script could not be read (a missing file, an I/O error mid-way). Fix the path or
    /// the device; the events of the lines read so far have been written.
    #[error("cannot read the script: {0}")]
    Read(#[source] io::Error),
    /// The events could not be written (a closed pipe, a full disk).
    #[error("cannot write the events: {0}")]
    Write(#[source] io::Error),
    /// The engine could not start (it has no market yet, so this means an engine bug).
    #[error("cannot start the engine: {0}")]
    Engine(#[source] EngineError),
}

impl ReplayError {
    /// The exit status REPLAY.md gives this error: 2 for a malformed line, 1 otherwise.
    #[must_use]
    pub const fn exit_status(&self) -> u8 {
        match self {
            ReplayError::Malformed(_) => 2,
            ReplayError::Read(_) | ReplayError::Write(_) | ReplayError::Engine(_) => 1,
        }
    }
}

/// Runs a whole script: every line of `input` in order, every event to `output`, which is
/// flushed before this returns (also on a malformed line, so the events before it are out).
///
/// # Errors
///
/// [`ReplayError::Malformed`] at the first malformed line (the rest is not read);
/// [`ReplayError::Read`] / [`ReplayError::Write`] for I/O failures.
///
/// # Examples
///
/// ```
/// use liqcore::replay::{ReplayError, run_replay};
/// let script = "{\"op\":\"query\",\"what\":\"insurance\"}\n{\"op\":\"nope\"}\n";
/// let mut out = Vec::new();
/// let error = run_replay(script.as_bytes(), &mut out).unwrap_err();
/// assert_eq!(out, b"{\"ev\":\"insurance\",\"balance\":\"0\"}\n");
/// assert_eq!(error.to_string(), "line 2: unknown op \"nope\"");
/// assert_eq!(error.exit_status(), 2);
/// ```
pub fn run_replay<R: BufRead, W: Write>(
    mut input: R,
    mut output: W,
) -> Result<Summary, ReplayError> {
    let mut replay = match Replay::new() {
        Ok(replay) => replay,
        Err(error) => return Err(ReplayError::Engine(error)),
    };
    let mut line = Vec::with_capacity(256);
    let mut number = 0_u64;
    let result = loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break Ok(()),
            Ok(_) => {}
            Err(error) => break Err(ReplayError::Read(error)),
        }
        number += 1;
        replay.summary.lines = number;
        match parse_line_bytes(number, &line) {
            Ok(None) => {}
            Ok(Some(command)) => {
                if let Err(error) = replay.apply(&command, &mut output) {
                    break Err(ReplayError::Write(error));
                }
            }
            Err(malformed) => break Err(ReplayError::Malformed(malformed)),
        }
    };
    // Flush on every path: the events before a malformed line must be out before the caller
    // prints the message and exits.
    let flushed = output.flush().map_err(ReplayError::Write);
    result?;
    flushed?;
    Ok(replay.summary)
}

/// One replay in progress: the symbol table, the engine ([`Layout::Single`]) and the logical
/// clock. Feed it commands with [`Replay::apply`].
pub struct Replay {
    table: SymbolTable,
    engine: Engine,
    /// Logical time (ms): the largest `ts` seen; without one, time does not move.
    now: u64,
    summary: Summary,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("symbols", &self.table.len())
            .field("now", &self.now)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// A replay with no market, no account and an empty insurance fund at time 0.
    ///
    /// # Errors
    ///
    /// [`EngineError`] if the engine cannot start (it has no market to refuse, so only an
    /// engine bug would).
    ///
    /// # Examples
    ///
    /// ```
    /// use liqcore::replay::{Replay, parse_line};
    /// let mut replay = Replay::new().unwrap();
    /// let mut out = Vec::new();
    /// let command = parse_line(1, r#"{"op":"deposit","account":1,"amount":"-1"}"#).unwrap().unwrap();
    /// replay.apply(&command, &mut out).unwrap();
    /// assert_eq!(out, b"{\"ev\":\"rejected\",\"account\":1,\"reason\":\"invalid_amount\"}\n");
    /// ```
    pub fn new() -> Result<Replay, EngineError> {
        let engine = EngineBuilder::new()
            .layout(Layout::Single)
            .accounts(REPLAY_ACCOUNTS)
            .max_symbols(REPLAY_SYMBOLS)
            .max_orders(REPLAY_ORDERS)
            .book_capacity(REPLAY_ORDERS)
            .latency(false)
            .start()?;
        Ok(Replay {
            table: SymbolTable::new(),
            engine,
            now: 0,
            summary: Summary::default(),
        })
    }

    /// The markets defined so far.
    #[must_use]
    pub fn symbols(&self) -> &SymbolTable {
        &self.table
    }

    /// What the replay has done so far (`lines` counts only what [`run_replay`] read).
    #[must_use]
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// The engine's stages, for reading state between commands.
    #[must_use]
    pub fn stages(&self) -> Option<&Stages> {
        self.engine.stages()
    }

    /// Applies one command and writes its events to `out`, in the order the engine produced
    /// them. A refused command writes a `rejected` event; nothing here fails but the writer.
    ///
    /// # Errors
    ///
    /// The writer's error.
    pub fn apply<W: Write>(&mut self, command: &ReplayCommand, out: &mut W) -> io::Result<()> {
        self.summary.commands += 1;
        if let Some(ts) = command.ts()
            && ts > self.now
        {
            self.now = ts;
            // Time moves first: the mark stage sees the new clock (staleness, smoothing)
            // before the command. Index and forced marks carry their own time.
            if !matches!(command, ReplayCommand::Index(_) | ReplayCommand::Mark(_)) {
                self.feed(MarketInput::Clock);
                self.drain(out)?;
            }
        }
        match self.execute(command) {
            Ok(Some(snapshot)) => self.emit(out, &snapshot)?,
            Ok(None) => {}
            Err(reason) => {
                let event = ReplayEvent::Rejected {
                    subject: command.reject_subject(),
                    reason,
                };
                self.emit(out, &event)?;
            }
        }
        self.drain(out)
    }

    fn emit<W: Write>(&mut self, out: &mut W, event: &ReplayEvent) -> io::Result<()> {
        write_event(out, event, &self.table)?;
        self.summary.events += 1;
        if matches!(event, ReplayEvent::Rejected { .. }) {
            self.summary.rejected += 1;
        }
        Ok(())
    }

    /// Runs the engine until no stage has work and writes every event, in order.
    fn drain<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        loop {
            self.engine.run_until_idle();
            let mut any = false;
            while let Some(event) = self.engine.try_recv() {
                any = true;
                if let Some(event) = self.replay_event(event) {
                    self.emit(out, &event)?;
                }
            }
            if !any {
                return Ok(());
            }
        }
    }

    /// Sends a command, making room first if the ring is full (the stages run on this thread,
    /// so running them empties it).
    fn send(&mut self, mut command: Command) {
        while let Err(full) = self.engine.send(self.now, command) {
            command = full.into_inner();
            self.engine.run_until_idle();
        }
    }

    fn feed(&mut self, mut input: MarketInput) {
        while let Err(full) = self.engine.feed(self.now, input) {
            input = full.into_inner();
            self.engine.run_until_idle();
        }
    }

    /// Resolves `command` against the table (grid rejections happen here, before the engine
    /// sees anything), then hands it to the engine, or answers a query.
    fn execute(&mut self, command: &ReplayCommand) -> Result<Option<ReplayEvent>, Reject> {
        match command {
            ReplayCommand::Symbol(def) => {
                if self.table.len() >= REPLAY_SYMBOLS && self.table.id(&def.symbol).is_none() {
                    return Err(Reject::InvalidSymbol);
                }
                let id = self.table.define(def)?;
                self.add_market(id)?;
            }
            ReplayCommand::Deposit(c) => self.send(Command::Deposit {
                account: c.account,
                amount: resolve_amount(c)?,
            }),
            ReplayCommand::Withdraw(c) => self.send(Command::Withdraw {
                account: c.account,
                amount: resolve_amount(c)?,
            }),
            ReplayCommand::Insurance(c) => self.send(Command::Insurance {
                amount: resolve_insurance(c)?,
            }),
            ReplayCommand::Leverage(c) => {
                let resolved = self.table.resolve_leverage(c)?;
                self.send(Command::Leverage {
                    account: resolved.account,
                    symbol: resolved.symbol,
                    leverage: Leverage(resolved.leverage.0),
                    mode: resolved.mode,
                });
            }
            ReplayCommand::Margin(c) => {
                let resolved = self.table.resolve_margin(c)?;
                self.send(Command::Margin {
                    account: resolved.account,
                    symbol: resolved.symbol,
                    amount: resolved.amount,
                });
            }
            ReplayCommand::Order(request) => {
                let resolved = self.table.resolve_order(request)?;
                self.send(Command::Order {
                    symbol: resolved.symbol,
                    order: resolved.order,
                });
            }
            ReplayCommand::Cancel(c) => self.send(Command::Cancel { id: c.id }),
            ReplayCommand::Modify(c) => {
                // The new price and quantity are on the grid of the order's market, which the
                // books know; an id no book holds is the risk stage's `unknown_order`.
                let resolved = match self.order_symbol(c.id) {
                    Some(symbol) => self.table.resolve_modify(c, symbol)?,
                    None => return Err(Reject::Book(RejectReason::UnknownOrder)),
                };
                self.send(Command::Modify {
                    id: resolved.id,
                    price: resolved.price,
                    qty: resolved.qty,
                });
            }
            ReplayCommand::Index(c) => {
                let resolved = self.table.resolve_price(c)?;
                self.feed(MarketInput::Index {
                    symbol: resolved.symbol,
                    price: resolved.price,
                });
            }
            ReplayCommand::Mark(c) => {
                let resolved = self.table.resolve_price(c)?;
                self.feed(MarketInput::ForceMark {
                    symbol: resolved.symbol,
                    price: resolved.price,
                });
            }
            ReplayCommand::Query(query) => return self.query(&query.what).map(Some),
        }
        Ok(None)
    }

    /// Builds the engine's market from a freshly defined table entry and adds it.
    fn add_market(&mut self, id: SymbolId) -> Result<(), Reject> {
        let entry = self.table.get(id).ok_or(Reject::InvalidSymbol)?;
        let market = Market::new(
            entry.spec.clone(),
            entry.risk_config().map_err(|_| Reject::InvalidSymbol)?,
            entry.mark,
        );
        // The table checked everything the engine checks (ids dense from 0, below the
        // limit; the risk and mark configurations); a refusal here would be an engine bug.
        self.engine
            .add_market(market)
            .map(|_| ())
            .map_err(|_| Reject::InvalidSymbol)
    }

    /// The symbol whose book holds the live order `id`, if any.
    fn order_symbol(&self, id: OrderId) -> Option<SymbolId> {
        let stages = self.engine.stages()?;
        (0..self.table.len())
            .filter_map(|s| u32::try_from(s).ok().map(SymbolId))
            .find(|&s| stages.book(s).is_some_and(|book| book.order(id).is_some()))
    }

    fn query(&self, what: &QueryTarget) -> Result<ReplayEvent, Reject> {
        let stages = self
            .engine
            .stages()
            .ok_or(Reject::Other("engine_stopped"))?;
        let risk = stages.risk().risk();
        match what {
            QueryTarget::Insurance => Ok(ReplayEvent::Insurance {
                balance: risk.insurance_fund(),
            }),
            QueryTarget::Account(account) => account_snapshot(risk, *account)
                .map(ReplayEvent::Account)
                .ok_or(Reject::Other("unknown_account")),
            QueryTarget::Book { symbol, depth } => {
                let id = self.table.resolve_symbol(symbol)?;
                let book = stages.book(id).ok_or(Reject::UnknownSymbol)?;
                Ok(ReplayEvent::Book(book_snapshot(book, id, *depth)))
            }
        }
    }

    /// The replay event of an engine event (`None` for those REPLAY.md does not print: the
    /// book's best bid/offer changes and the insurance fund's movements, which a `query`
    /// shows).
    fn replay_event(&self, event: Event) -> Option<ReplayEvent> {
        Some(match event {
            Event::Book { symbol, event } => return ReplayEvent::from_book(symbol, event),
            Event::Rejected { subject, reason } => ReplayEvent::Rejected {
                subject: match subject {
                    Subject::Order(id) => RejectSubject::Order(id),
                    Subject::Account(account) => RejectSubject::Account(account),
                    Subject::Symbol(symbol) => RejectSubject::Symbol(
                        self.table
                            .get(symbol)
                            .map_or_else(String::new, |entry| entry.name.clone()),
                    ),
                    Subject::Insurance => RejectSubject::None,
                },
                reason: Reject::Other(reason),
            },
            Event::Mark { symbol, price, .. } => ReplayEvent::Mark { symbol, price },
            Event::Risk(risk::LiquidationEvent::Liquidation {
                account,
                symbol,
                side,
                qty,
                limit_price,
                id,
            }) => ReplayEvent::Liquidation(LiquidationEvent {
                account,
                symbol,
                side,
                qty,
                limit_price: Some(limit_price),
                id,
            }),
            Event::Risk(risk::LiquidationEvent::Adl {
                symbol,
                liquidated_account,
                counterparty_account,
                qty,
                price,
            }) => ReplayEvent::Adl(AdlEvent {
                symbol,
                liquidated_account,
                counterparty_account,
                qty,
                price,
            }),
            Event::Risk(risk::LiquidationEvent::Insurance { .. }) => return None,
        })
    }
}
