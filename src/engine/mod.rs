//! The pipeline (DESIGN.md §2): the risk, book and mark stages connected by SPSC rings, run on
//! one thread ([`Layout::Single`]) or a thread per stage ([`Layout::Pinned`]).
//!
//! ```text
//!  host ──commands──▶ [risk] ──orders──────────────▶ [book]×n ──execution reports──▶ host
//!                      ▲  │ ──liquidations (priority)──▶ │  │
//!                      │  └────────◀── fills, endings ───┘  │
//!  host ──index ticks──▶ [mark] ◀── trades, BBO, impact ────┘
//!                      └──mark prices──▶ [risk] and [book]
//! ```
//!
//! # Layout
//!
//! - **Stages** are single-threaded state machines that own their state: the risk stage (a
//!   [`LiquidationEngine`] plus a table of live user orders), one or more book stages (a
//!   [`Book`] per symbol; symbol `s` lives on book stage `s mod n`) and the mark stage (a
//!   [`MarkPrice`] per symbol). They know nothing of rings, threads or clocks.
//! - **Drivers** wrap each stage with its ring ends and expose `poll()`: drain each input ring
//!   in batches of up to 256 in priority order (risk: fills, marks, then host commands; book:
//!   liquidations, marks, then user orders — and no user order while a liquidation waits;
//!   mark: market data, then index ticks; a trade report carries both fills and counts as two
//!   messages of a batch). Every output goes through a producer with a preallocated spill
//!   queue, so a stage never blocks on a full ring (the stages form cycles; blocking could
//!   deadlock) and never drops; while anything is spilled, a stage admits no new host input,
//!   so the backlog stays bounded by work already admitted.
//! - **Runner**: [`Layout::Single`] polls risk, books, mark in that order on the caller's
//!   thread ([`Engine::run_until_idle`]); [`Layout::Pinned`] runs each driver on its own
//!   thread, pinned with core_affinity to a core of its own when there are enough cores (see
//!   [`Plan`]).
//! - **Links**: with a thread per stage every link is an SPSC ring. In [`Layout::Single`] the
//!   links between stages are plain queues of the ring capacity that the runner lends to the
//!   producing stage for its poll, and each stage's events go straight into the host's queue
//!   (no event rings): the same messages, order and "full" moments as rings of that capacity
//!   (so the same spills, backpressure and results), without atomics and without walking a
//!   ring's worth of memory per lap — a drained queue starts again at its front (`outbox.rs`).
//!   The host's command and index rings are SPSC rings in both layouts.
//! - **Messages** carry the logical time (ms) of the input that caused them, the raw TSC time
//!   at which that input entered (quanta) and the time they were pushed. Each stage records
//!   queue wait and service time into its own hdrhistograms, and the end-to-end measures:
//!   order in → first execution report out (book), index tick → mark published (mark), mark
//!   published → liquidation order accepted (book).
//!
//! # Semantics
//!
//! - **Orders** go host → risk (check: margin, reduce-only, position limits, unique id below
//!   2⁶³, no liquidation of the account in progress in that symbol) → book. The risk stage
//!   reserves an approved order's quantity as open and releases it as the book reports fills,
//!   cancels and rejections. Cancels and modifies name the order by id; the risk stage routes
//!   them to the order's symbol (unknown ids are refused there, `unknown_order`). A modify that
//!   grows the quantity is margin-checked for the growth; one modify per order may be in flight.
//!   A modify that changes only the price is not reported back to the risk stage (nothing there
//!   could change: the remaining quantity moves by fills only, and those come as trades).
//! - **Liquidations**: a mark move makes the risk stage cancel the account's orders (reason
//!   `liquidation`) and send liquidation orders on the priority ring; fills and the order's end
//!   come back as reports; what the book cannot fill is auto-deleveraged.
//! - **Time**: the mark stage takes each input at `max(its ts, the symbol's clock)`, so timing
//!   differences between rings in [`Layout::Pinned`] cannot make time run backwards.
//! - **Events** for the host: execution reports (book), refusals and liquidation / ADL /
//!   insurance events (risk), mark changes (mark). Each stage's events keep their order; in
//!   [`Layout::Single`] every event comes out in processing order.
//! - **Shutdown** ([`Engine::shutdown`]): the host's stop message follows its last input on
//!   each host ring; termination waves (see `driver.rs`) find the moment nothing is in flight,
//!   then a stop flows through every ring and each driver exits. Nothing admitted is lost:
//!   every command is processed, and the events not yet received come back in the [`Report`].
//! - **Determinism**: each stage is a deterministic function of the order in which it takes
//!   its inputs. With [`EngineBuilder::record_inputs`] each driver records that order (one byte
//!   per message); [`EngineBuilder::follow_inputs`] makes the drivers of a
//!   [`Layout::Single`] engine take their inputs in a recorded order, reproducing a pinned run's
//!   events and final state exactly.
//!
//! # Invariants
//!
//! - Every command sent is either refused at the door ([`SendError`], handed back) or processed
//!   by the risk stage exactly once; every message between stages is processed exactly once.
//! - Per symbol, Σ positions = 0 and money is conserved (the risk stage's invariants), at every
//!   quiescent point.
//!
//! # Known limitations
//!
//! - Symbols are fixed when a [`Layout::Pinned`] engine starts; [`Engine::add_market`] works
//!   in [`Layout::Single`] only.
//! - The order-id table of the risk stage has a fixed capacity ([`EngineBuilder::max_orders`]);
//!   beyond it orders are refused (`too_many_orders`).
//! - A fill of an order the risk stage is cancelling for a liquidation, already in flight from
//!   the book, releases nothing (the liquidation released the reservations first).
//! - Input recording grows a `Vec` (one byte per message): it allocates on the hot path and is
//!   meant for tests and incident capture.
//! - Impact prices are computed on every BBO change of a symbol with an impact notional
//!   ([`Market::impact_notional`]); they walk the book.
//!
//! # Performance
//!
//! No allocation per message after warm-up (every buffer is preallocated; spill queues grow
//! only under sustained backpressure; in [`Layout::Single`] the host's event queue grows if
//! the host lets more than 16,384 events pile up). The risk stage looks an account id up once
//! per new order (the order registry keeps the dense index for its fills, cancels and
//! releases) and reads one cache line of the registry's id index per lookup (id and slot side
//! by side, four consecutive ids to a line); an order command carries its registry slot to the
//! book stage and back on the reports about that order, so fills of the incoming order,
//! cancels, modifies and rejections find their entry (one cache line) without hashing. A trade
//! is one report (both fills), not two; a price-only modify sends none. The book stage turns
//! each book event into its outputs as the book writes it (no per-command event buffer).
//! Measured: `compare -- e2e`, `perf/e2e.md` and `perf/README.md`.

mod book_stage;
mod driver;
mod latency;
mod mark_stage;
mod msg;
mod outbox;
mod registry;
mod risk_stage;
mod words;

use std::fmt;
use std::thread::JoinHandle;

use quanta::Clock;

pub use book_stage::BookCounters;
pub use latency::{Latency, write_hgrm};
pub use mark_stage::MarkCounters;
pub use msg::{Command, Event, MarketInput, Subject};
pub use risk_stage::RiskCounters;

use crate::book::Book;
use crate::mark::{MarkConfig, MarkPrice};
use crate::ring::{Consumer, Producer, PushError, channel};
use crate::risk::{
    LiquidationConfig, LiquidationEngine, RiskConfig, RiskEngine, SymbolError, SymbolRiskConfig,
};
use crate::types::{Money, SymbolId, SymbolSpec};
use crate::wait::{BusySpin, SpinThenPark, SpinThenYield, WaitStrategy};
use driver::{
    BookDriver, BookPorts, Inbox, InputLog, MarkDriver, MarkPorts, RiskDriver, RiskPorts, timer,
};
use msg::{Flow, Stamp};
use outbox::{EventOut, Lane, Outbox, Source, swap_link};

/// Events the host-side queue of [`Layout::Single`] holds before it grows.
const EVENT_RESERVE: usize = 1 << 14;

/// One market: grid, risk parameters and mark-price method.
#[derive(Clone, Debug)]
pub struct Market {
    /// Grid, size limits and price band; `spec.id` is the symbol id.
    pub spec: SymbolSpec,
    /// Tiers, fees, leverage limit.
    pub risk: SymbolRiskConfig,
    /// How the mark is computed.
    pub mark: MarkConfig,
    /// Notional for the impact bid/ask the mark stage's `impact_mid` basis uses (`None`: not
    /// computed).
    pub impact_notional: Option<Money>,
}

impl Market {
    /// A market without impact prices.
    #[must_use]
    pub fn new(spec: SymbolSpec, risk: SymbolRiskConfig, mark: MarkConfig) -> Market {
        Market {
            spec,
            risk,
            mark,
            impact_notional: None,
        }
    }
}

/// Where the stages run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// Every stage on the caller's thread, in a fixed poll order: deterministic.
    #[default]
    Single,
    /// A thread per stage.
    Pinned,
}

/// How an idle stage thread waits ([`Layout::Pinned`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Spin (needs a core of its own).
    BusySpin,
    /// Spin a little, then yield the core.
    SpinThenYield,
    /// Spin, yield, then park for a bounded time.
    SpinThenPark,
}

/// Where each stage thread runs and how it waits: chosen by [`EngineBuilder::start`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The layout.
    pub layout: Layout,
    /// Cores available to the engine.
    pub cores: usize,
    /// Per stage: name, core (if pinned) and wait strategy.
    pub stages: Vec<(String, Option<usize>, Wait)>,
    /// Why this plan (e.g. too few cores to spin).
    pub note: String,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "layout {:?}, {} cores", self.layout, self.cores)?;
        if self.layout == Layout::Single {
            let names: Vec<&str> = self.stages.iter().map(|s| s.0.as_str()).collect();
            return write!(f, "; {} ({})", names.join(", "), self.note);
        }
        for (name, core, wait) in &self.stages {
            match core {
                Some(c) => write!(f, "; {name}: core {c}, {wait:?}")?,
                None => write!(f, "; {name}: unpinned, {wait:?}")?,
            }
        }
        if !self.note.is_empty() {
            write!(f, " ({})", self.note)?;
        }
        Ok(())
    }
}

/// A full or closed ring hands the input back: nothing is silently dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError<T> {
    /// The ring is full: retry after the engine made progress
    /// ([`Engine::run_until_idle`] in [`Layout::Single`]).
    #[error("ring full")]
    Full(T),
}

impl<T> SendError<T> {
    /// The input that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            SendError::Full(t) => t,
        }
    }
}

/// Why an engine could not be built or a market added.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A market's id does not match its position, or exceeds the symbol limit.
    #[error("market {0}: ids must be 0, 1, 2, ... below the engine's symbol limit")]
    BadSymbolId(u32),
    /// The risk stage refused the market.
    #[error("market {0}: {1}")]
    Risk(u32, SymbolError),
    /// The mark configuration is invalid.
    #[error("market {0}: invalid mark configuration")]
    Mark(u32),
    /// Only [`Layout::Single`] can do this.
    #[error("only the single-thread layout can do this")]
    NotSingle,
    /// A recorded input order for a different number of book stages.
    #[error("recorded inputs do not match the engine's stages")]
    BadRecording,
}

/// The order in which each stage took its inputs (see [`EngineBuilder::record_inputs`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputOrder {
    /// The risk stage: 0 command, 1 mark, 2 + b report of book stage b.
    pub risk: Vec<u8>,
    /// Each book stage: 0 liquidation flow, 1 mark, 2 user order.
    pub books: Vec<Vec<u8>>,
    /// The mark stage: 0 host input, 1 + b market data of book stage b.
    pub mark: Vec<u8>,
}

/// Builds an [`Engine`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    markets: Vec<Market>,
    max_accounts: usize,
    max_symbols: usize,
    max_orders: usize,
    book_capacity: usize,
    liquidation: LiquidationConfig,
    ring_capacity: usize,
    book_stages: usize,
    layout: Layout,
    cores: Option<Vec<usize>>,
    wait: Option<Wait>,
    stage_waits: Vec<Wait>,
    latency: bool,
    record: Option<usize>,
    follow: Option<InputOrder>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder::new()
    }
}

impl EngineBuilder {
    /// Defaults: no markets, 4,096 accounts, up to 16 symbols, 65,536 live orders, book
    /// capacity 65,536 per symbol, rings of 4,096, one book stage, [`Layout::Single`], latency
    /// off.
    #[must_use]
    pub fn new() -> EngineBuilder {
        EngineBuilder {
            markets: Vec::new(),
            max_accounts: 4096,
            max_symbols: 16,
            max_orders: 1 << 16,
            book_capacity: 1 << 16,
            liquidation: LiquidationConfig::default(),
            ring_capacity: 4096,
            book_stages: 1,
            layout: Layout::Single,
            cores: None,
            wait: None,
            stage_waits: Vec::new(),
            latency: false,
            record: None,
            follow: None,
        }
    }

    /// Adds a market (its `spec.id` must be the number of markets added before it).
    #[must_use]
    pub fn market(mut self, market: Market) -> Self {
        self.markets.push(market);
        self
    }

    /// Accounts the risk stage preallocates.
    #[must_use]
    pub fn accounts(mut self, n: usize) -> Self {
        self.max_accounts = n;
        self
    }

    /// Largest number of symbols (markets added later with [`Engine::add_market`] included).
    #[must_use]
    pub fn max_symbols(mut self, n: usize) -> Self {
        self.max_symbols = n;
        self
    }

    /// Live user orders the risk stage can track.
    #[must_use]
    pub fn max_orders(mut self, n: usize) -> Self {
        self.max_orders = n;
        self
    }

    /// Live orders each book can hold.
    #[must_use]
    pub fn book_capacity(mut self, n: usize) -> Self {
        self.book_capacity = n;
        self
    }

    /// Liquidation sizes and partial-liquidation rule.
    #[must_use]
    pub fn liquidation(mut self, config: LiquidationConfig) -> Self {
        self.liquidation = config;
        self
    }

    /// Capacity of every ring (rounded up to a power of two).
    #[must_use]
    pub fn ring_capacity(mut self, n: usize) -> Self {
        self.ring_capacity = n;
        self
    }

    /// Book stages (threads in [`Layout::Pinned`]); symbol `s` goes to stage `s mod n`.
    #[must_use]
    pub fn book_stages(mut self, n: usize) -> Self {
        self.book_stages = n.clamp(1, 64);
        self
    }

    /// Single thread or a thread per stage.
    #[must_use]
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The cores [`Layout::Pinned`] may use (default: every core the process may run on).
    #[must_use]
    pub fn cores(mut self, cores: Vec<usize>) -> Self {
        self.cores = Some(cores);
        self
    }

    /// The wait strategy of every stage thread (default: busy-spin with a core per stage,
    /// spin-then-yield otherwise).
    #[must_use]
    pub fn wait(mut self, wait: Wait) -> Self {
        self.wait = Some(wait);
        self
    }

    /// A wait strategy per stage thread, in the order risk, book stages, mark (overrides
    /// [`EngineBuilder::wait`] for the stages it names). A busy-spin is turned into
    /// spin-then-yield when there are not enough cores for a core per stage.
    #[must_use]
    pub fn stage_waits(mut self, waits: Vec<Wait>) -> Self {
        self.stage_waits = waits;
        self
    }

    /// Per-stage latency histograms (reads the TSC a few times per message).
    #[must_use]
    pub fn latency(mut self, on: bool) -> Self {
        self.latency = on;
        self
    }

    /// Records the order in which each stage takes its inputs, reserving `capacity` entries
    /// per stage ([`Report::inputs`]).
    #[must_use]
    pub fn record_inputs(mut self, capacity: usize) -> Self {
        self.record = Some(capacity);
        self
    }

    /// Makes each stage take its inputs in a recorded order ([`Layout::Single`] only), then
    /// continue freely.
    #[must_use]
    pub fn follow_inputs(mut self, order: InputOrder) -> Self {
        self.follow = Some(order);
        self
    }

    fn plan(&self) -> (Plan, Vec<Option<core_affinity::CoreId>>) {
        let names: Vec<String> = std::iter::once("risk".to_string())
            .chain((0..self.book_stages).map(|b| format!("book{b}")))
            .chain(std::iter::once("mark".to_string()))
            .collect();
        let available = core_affinity::get_core_ids().unwrap_or_default();
        let cores: Vec<core_affinity::CoreId> = match &self.cores {
            Some(list) => available
                .iter()
                .copied()
                .filter(|c| list.contains(&c.id))
                .collect(),
            None => available,
        };
        if self.layout == Layout::Single {
            let plan = Plan {
                layout: Layout::Single,
                cores: cores.len(),
                stages: names
                    .into_iter()
                    .map(|n| (n, None, Wait::BusySpin))
                    .collect(),
                note: "polled in turn on the caller's thread".to_string(),
            };
            return (plan, Vec::new());
        }
        let enough = cores.len() >= names.len();
        let wait = match (self.wait, enough) {
            (Some(Wait::BusySpin), false) => Wait::SpinThenYield,
            (Some(w), _) => w,
            (None, true) => Wait::BusySpin,
            (None, false) => Wait::SpinThenYield,
        };
        let note = if enough {
            "a core per stage".to_string()
        } else {
            format!(
                "{} stages, {} cores: not pinned, so no two spinning threads share a core; yielding",
                names.len(),
                cores.len()
            )
        };
        // The stages take the last cores and leave the first ones (interrupts, the host's own
        // threads) alone.
        let skip = cores.len().saturating_sub(names.len());
        let pins: Vec<Option<core_affinity::CoreId>> = (0..names.len())
            .map(|i| if enough { Some(cores[skip + i]) } else { None })
            .collect();
        let waits: Vec<Wait> = (0..names.len())
            .map(|i| match self.stage_waits.get(i) {
                Some(Wait::BusySpin) if !enough => Wait::SpinThenYield,
                Some(&w) => w,
                None => wait,
            })
            .collect();
        let plan = Plan {
            layout: Layout::Pinned,
            cores: cores.len(),
            stages: names
                .into_iter()
                .zip(&pins)
                .zip(waits)
                .map(|((n, c), w)| (n, c.map(|c| c.id), w))
                .collect(),
            note,
        };
        (plan, pins)
    }

    /// Builds the stages and rings and starts the engine.
    ///
    /// # Errors
    ///
    /// [`EngineError`] for an invalid market or a recording that does not fit.
    pub fn start(self) -> Result<Engine, EngineError> {
        let (plan, pins) = self.plan();
        let n = self.book_stages;
        let cap = self.ring_capacity.max(2);
        let clock = self.latency.then(Clock::new);
        let max_symbols = self.max_symbols.max(self.markets.len()).max(1);
        let risk_engine = RiskEngine::new(RiskConfig {
            max_accounts: self.max_accounts,
            max_symbols,
        });
        let liquidation = LiquidationEngine::new(risk_engine, self.liquidation);
        let risk_stage =
            risk_stage::RiskStage::new(liquidation, self.max_orders, self.max_accounts);
        let route: Vec<u8> = (0..max_symbols).map(|s| (s % n) as u8).collect();

        let (cmd_tx, cmd_rx) = channel::<Flow<Command>>(cap);
        let (idx_tx, idx_rx) = channel::<Flow<MarketInput>>(cap);
        let single = self.layout == Layout::Single;
        let (mr_tx, mr_rx) = link(single, cap);
        // Events: a ring per stage to the host's receiver with a thread per stage; straight
        // into the host's queue on one thread (see `EventOut`).
        let mut event_sources = Vec::new();
        let mut event_out = || {
            if single {
                EventOut::direct(cap.next_power_of_two())
            } else {
                let (tx, rx) = channel::<Event>(cap);
                event_sources.push(rx);
                EventOut::Ring(Outbox::new(tx))
            }
        };
        let risk_events = event_out();
        let mut orders_tx = Vec::new();
        let mut prio_tx = Vec::new();
        let mut reports_rx = Vec::new();
        let mut data_rx = Vec::new();
        let mut mark_books_tx = Vec::new();
        let mut book_drivers = Vec::new();
        let mut logs = self.follow.clone();
        if let Some(order) = &logs
            && (order.books.len() != n || self.layout != Layout::Single)
        {
            return Err(EngineError::BadRecording);
        }
        let make_log = |script: Option<Vec<u8>>| InputLog {
            record: self.record.map(Vec::with_capacity),
            script,
            pos: 0,
        };
        for b in 0..n {
            let (o_tx, o_rx) = link(single, cap);
            let (p_tx, p_rx) = link(single, cap);
            let (r_tx, r_rx) = link(single, cap);
            let (d_tx, d_rx) = link(single, cap);
            let (mb_tx, mb_rx) = link(single, cap);
            let book_events = event_out();
            orders_tx.push(o_tx);
            prio_tx.push(p_tx);
            reports_rx.push(r_rx);
            data_rx.push(d_rx);
            mark_books_tx.push(mb_tx);
            let ports = BookPorts {
                reports: r_tx,
                data: d_tx,
                events: book_events,
                current: Stamp::default(),
                timer: timer(
                    &clock,
                    "book",
                    &["e2e.order_to_report", "e2e.mark_to_liquidation_accepted"],
                ),
            };
            let script = logs.as_mut().map(|l| std::mem::take(&mut l.books[b]));
            book_drivers.push(BookDriver::new(
                book_stage::BookStage::new(),
                p_rx,
                mb_rx,
                o_rx,
                ports,
                make_log(script),
            ));
        }
        let mark_events = event_out();
        let risk_ports = RiskPorts {
            orders: orders_tx,
            priority: prio_tx,
            events: risk_events,
            route: route.clone(),
            current: Stamp::default(),
            timer: timer(&clock, "risk", &[]),
        };
        let risk = RiskDriver::new(
            risk_stage,
            Inbox::new(cmd_rx),
            mr_rx,
            reports_rx,
            risk_ports,
            make_log(logs.as_mut().map(|l| std::mem::take(&mut l.risk))),
        );
        let mark_ports = MarkPorts {
            risk: mr_tx,
            books: mark_books_tx,
            events: mark_events,
            route,
            current: Stamp::default(),
            timer: timer(&clock, "mark", &["e2e.index_to_mark"]),
        };
        let mark = MarkDriver::new(
            mark_stage::MarkStage::new(),
            Inbox::new(idx_rx),
            data_rx,
            mark_ports,
            make_log(logs.as_mut().map(|l| std::mem::take(&mut l.mark))),
        );
        let mut stages = Stages {
            risk,
            books: book_drivers,
            mark,
        };
        for market in self.markets {
            stages.add_market(market, self.book_capacity, max_symbols)?;
        }
        let mode = match self.layout {
            Layout::Single => Mode::Single(Box::new(stages)),
            Layout::Pinned => Mode::Pinned(spawn(stages, &plan, &pins)),
        };
        Ok(Engine {
            commands: CommandSender {
                ring: cmd_tx,
                clock: clock.clone(),
            },
            inputs: IndexFeed {
                ring: idx_tx,
                clock: clock.clone(),
            },
            events: EventReceiver {
                sources: event_sources,
                pending: Lane::with_capacity(EVENT_RESERVE / 2),
                next: 0,
            },
            mode,
            plan,
            book_capacity: self.book_capacity,
            max_symbols,
        })
    }
}

/// The stages of a running engine (read access in [`Layout::Single`]).
pub struct Stages {
    risk: RiskDriver,
    books: Vec<BookDriver>,
    mark: MarkDriver,
}

impl Stages {
    /// The risk stage's state: accounts, positions, insurance fund, liquidations.
    #[must_use]
    pub fn risk(&self) -> &LiquidationEngine {
        &self.risk.stage.engine
    }

    /// The book of a symbol.
    #[must_use]
    pub fn book(&self, symbol: SymbolId) -> Option<&Book> {
        self.books.iter().find_map(|b| b.stage.book(symbol))
    }

    /// The mark-price state of a symbol.
    #[must_use]
    pub fn mark(&self, symbol: SymbolId) -> Option<&MarkPrice> {
        self.mark.stage.mark(symbol)
    }

    /// Live user orders the risk stage tracks.
    #[must_use]
    pub fn live_orders(&self) -> usize {
        self.risk.stage.live_orders()
    }

    fn add_market(
        &mut self,
        market: Market,
        book_capacity: usize,
        max_symbols: usize,
    ) -> Result<SymbolId, EngineError> {
        let id = market.spec.id;
        let known = self.risk().risk().symbol(id).is_some();
        if id.0 as usize >= max_symbols || known {
            return Err(EngineError::BadSymbolId(id.0));
        }
        let mark = MarkPrice::new(market.mark).map_err(|_| EngineError::Mark(id.0))?;
        self.risk
            .stage
            .engine
            .risk_mut()
            .add_symbol(market.risk)
            .map_err(|e| EngineError::Risk(id.0, e))?;
        let b = id.0 as usize % self.books.len();
        self.books[b].stage.add(
            Book::new(market.spec, book_capacity),
            market.impact_notional,
        );
        self.mark.stage.add(id, mark);
        Ok(id)
    }

    /// One poll of every stage, in the fixed order. In [`Layout::Single`] each stage's events
    /// go straight into the host's queue, lent to the stage for its poll (swapped in and back
    /// out); ring events (a thread per stage) are collected after each poll.
    fn poll_all(&mut self, events: &mut EventReceiver) -> bool {
        self.lend_risk();
        lend(&mut events.pending, &mut self.risk.ports.events);
        let mut worked = self.risk.poll();
        lend(&mut events.pending, &mut self.risk.ports.events);
        self.lend_risk();
        events.collect(0);
        for b in 0..self.books.len() {
            self.lend_book(b);
            let book = &mut self.books[b];
            lend(&mut events.pending, &mut book.ports.events);
            worked |= book.poll();
            lend(&mut events.pending, &mut book.ports.events);
            self.lend_book(b);
            events.collect(1 + b);
        }
        self.lend_mark();
        lend(&mut events.pending, &mut self.mark.ports.events);
        worked |= self.mark.poll();
        lend(&mut events.pending, &mut self.mark.ports.events);
        self.lend_mark();
        events.collect(1 + self.books.len());
        worked
    }

    /// Lends the risk stage the queues of its direct output links (orders and liquidation
    /// flow to each book stage), or takes them back.
    fn lend_risk(&mut self) {
        for (b, book) in self.books.iter_mut().enumerate() {
            if let Some(o) = self.risk.ports.orders.get_mut(b) {
                swap_link(&mut book.orders.ring, &mut o.ring);
            }
            if let Some(p) = self.risk.ports.priority.get_mut(b) {
                swap_link(&mut book.priority.ring, &mut p.ring);
            }
        }
    }

    /// Lends book stage `b` the queues of its direct output links (reports to risk, market
    /// data to mark), or takes them back.
    fn lend_book(&mut self, b: usize) {
        let book = &mut self.books[b];
        if let Some(r) = self.risk.reports.get_mut(b) {
            swap_link(&mut r.ring, &mut book.ports.reports.ring);
        }
        if let Some(d) = self.mark.data.get_mut(b) {
            swap_link(&mut d.ring, &mut book.ports.data.ring);
        }
    }

    /// Lends the mark stage the queues of its direct output links (marks to risk and to each
    /// book stage), or takes them back.
    fn lend_mark(&mut self) {
        swap_link(&mut self.risk.marks.ring, &mut self.mark.ports.risk.ring);
        for (b, book) in self.books.iter_mut().enumerate() {
            if let Some(o) = self.mark.ports.books.get_mut(b) {
                swap_link(&mut book.marks.ring, &mut o.ring);
            }
        }
    }

    fn finished(&self) -> bool {
        self.risk.finished() && self.books.iter().all(BookDriver::finished) && self.mark.finished()
    }
}

/// A link between two stages: an SPSC ring, or on one thread a direct queue standing for a
/// ring of the same capacity (see `outbox.rs`).
fn link<T: Copy>(single: bool, capacity: usize) -> (Outbox<Flow<T>>, Inbox<T>) {
    if single {
        let capacity = capacity.next_power_of_two();
        (
            Outbox::direct(capacity),
            Inbox::with_source(Source::direct(capacity)),
        )
    } else {
        let (tx, rx) = channel(capacity);
        (Outbox::new(tx), Inbox::new(rx))
    }
}

/// Swaps the host's event queue with a direct event port's queue slot (lends it, or takes it
/// back); nothing for a ring port.
#[inline]
fn lend(queue: &mut Lane<Event>, port: &mut EventOut) {
    if let Some(slot) = port.queue() {
        std::mem::swap(queue, slot);
    }
}

enum Mode {
    Single(Box<Stages>),
    Pinned(Threads),
    Done,
}

struct Threads {
    risk: JoinHandle<RiskDriver>,
    books: Vec<JoinHandle<BookDriver>>,
    mark: JoinHandle<MarkDriver>,
}

trait Poll: Send + 'static {
    fn poll(&mut self) -> bool;
    fn finished(&self) -> bool;
}

impl Poll for RiskDriver {
    fn poll(&mut self) -> bool {
        RiskDriver::poll(self)
    }
    fn finished(&self) -> bool {
        RiskDriver::finished(self)
    }
}

impl Poll for BookDriver {
    fn poll(&mut self) -> bool {
        BookDriver::poll(self)
    }
    fn finished(&self) -> bool {
        BookDriver::finished(self)
    }
}

impl Poll for MarkDriver {
    fn poll(&mut self) -> bool {
        MarkDriver::poll(self)
    }
    fn finished(&self) -> bool {
        MarkDriver::finished(self)
    }
}

fn run_loop<D: Poll, W: WaitStrategy>(driver: &mut D, mut wait: W) {
    loop {
        if driver.poll() {
            wait.reset();
        } else if driver.finished() {
            return;
        } else {
            wait.wait();
        }
    }
}

fn start_thread<D: Poll>(
    name: String,
    mut driver: D,
    core: Option<core_affinity::CoreId>,
    wait: Wait,
) -> JoinHandle<D> {
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            if let Some(core) = core {
                // Best effort: an unpinned stage still runs correctly.
                let _ = core_affinity::set_for_current(core);
            }
            match wait {
                Wait::BusySpin => run_loop(&mut driver, BusySpin),
                Wait::SpinThenYield => run_loop(&mut driver, SpinThenYield::default()),
                Wait::SpinThenPark => run_loop(&mut driver, SpinThenPark::default()),
            }
            driver
        })
        .expect("spawning a stage thread")
}

fn spawn(stages: Stages, plan: &Plan, pins: &[Option<core_affinity::CoreId>]) -> Threads {
    let wait = |i: usize| plan.stages[i].2;
    let n = stages.books.len();
    let risk = start_thread("liqcore-risk".into(), stages.risk, pins[0], wait(0));
    let books = stages
        .books
        .into_iter()
        .enumerate()
        .map(|(b, d)| start_thread(format!("liqcore-book{b}"), d, pins[1 + b], wait(1 + b)))
        .collect();
    let mark = start_thread("liqcore-mark".into(), stages.mark, pins[1 + n], wait(1 + n));
    Threads { risk, books, mark }
}

/// The host's side of the event rings: every stage's events (see [`Event`]).
pub struct EventReceiver {
    /// risk, book stages, mark (none in [`Layout::Single`]).
    sources: Vec<Consumer<Event>>,
    /// Events already taken off the rings, in order; in [`Layout::Single`] the stages' events,
    /// written here directly (the runner lends the queue to each stage for its poll).
    pending: Lane<Event>,
    next: usize,
}

impl EventReceiver {
    /// Moves one source's events into the pending queue. A [`Layout::Single`] engine has no
    /// event rings (its stages write into the pending queue directly, in processing order), so
    /// this does nothing there.
    fn collect(&mut self, source: usize) {
        if let Some(ring) = self.sources.get_mut(source) {
            for e in ring.drain(usize::MAX) {
                self.pending.push(e);
            }
        }
    }

    /// The next event, if one is ready. Each stage's events come in the order it produced
    /// them; in [`Layout::Pinned`] the stages' streams are interleaved round-robin.
    pub fn try_recv(&mut self) -> Option<Event> {
        // (It starts over at its front once emptied: the next events land on the lines just
        // read.)
        if let Some(e) = self.pending.pop() {
            return Some(e);
        }
        let n = self.sources.len();
        for i in 0..n {
            let s = (self.next + i) % n;
            if let Ok(e) = self.sources[s].pop() {
                self.next = s;
                return Some(e);
            }
        }
        None
    }
}

/// The host's command ring (to the risk stage).
pub struct CommandSender {
    ring: Producer<Flow<Command>>,
    clock: Option<Clock>,
}

impl CommandSender {
    /// Sends a command at logical time `ts` (ms).
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] hands the command back when the ring is full.
    pub fn send(&mut self, ts: u64, command: Command) -> Result<(), SendError<Command>> {
        let stamp = stamp(&self.clock, ts);
        self.ring
            .push(Flow::Data(stamp, command))
            .map_err(|PushError::Full(flow)| match flow {
                Flow::Data(_, c) => SendError::Full(c),
                _ => SendError::Full(command),
            })
    }
}

/// The host's market-input ring (to the mark stage).
pub struct IndexFeed {
    ring: Producer<Flow<MarketInput>>,
    clock: Option<Clock>,
}

impl IndexFeed {
    /// Sends a market input (index tick, forced mark, clock) at logical time `ts` (ms).
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] hands the input back when the ring is full.
    pub fn send(&mut self, ts: u64, input: MarketInput) -> Result<(), SendError<MarketInput>> {
        let stamp = stamp(&self.clock, ts);
        self.ring
            .push(Flow::Data(stamp, input))
            .map_err(|PushError::Full(flow)| match flow {
                Flow::Data(_, i) => SendError::Full(i),
                _ => SendError::Full(input),
            })
    }
}

fn stamp(clock: &Option<Clock>, ts: u64) -> Stamp {
    let now = clock.as_ref().map_or(0, Clock::raw);
    Stamp {
        ts,
        origin: now,
        sent: now,
    }
}

/// The stage threads of a [`Layout::Pinned`] engine whose host ends were split off
/// ([`Engine::split`]).
pub struct EngineHandle {
    mode: Mode,
    plan: Plan,
}

impl EngineHandle {
    /// Whether every stage thread has ended: after [`EngineHandle::shutdown`] began, or once the
    /// host dropped its [`CommandSender`] and [`IndexFeed`] (the stages take a dropped host end
    /// for a stop message) and everything in flight was processed. Dropping the handle itself
    /// detaches the threads; they still stop that way.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        match &self.mode {
            Mode::Pinned(t) => {
                t.risk.is_finished()
                    && t.mark.is_finished()
                    && t.books.iter().all(JoinHandle::is_finished)
            }
            _ => true,
        }
    }

    /// Where the stages run and how they wait.
    #[must_use]
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Stops the engine as [`Engine::shutdown`] does; needs the host ends back, because the
    /// stop messages travel behind the last inputs on the host rings.
    #[must_use]
    pub fn shutdown(
        self,
        commands: CommandSender,
        inputs: IndexFeed,
        events: EventReceiver,
    ) -> Report {
        shutdown(self.mode, commands, inputs, events)
    }
}

/// Everything a stopped engine hands back.
pub struct Report {
    /// The risk stage's final state.
    pub risk: LiquidationEngine,
    /// Final books, by symbol.
    pub books: Vec<Book>,
    /// Final mark-price states, by symbol.
    pub marks: Vec<MarkPrice>,
    /// Risk stage counters.
    pub risk_counters: RiskCounters,
    /// Book stage counters (summed over book stages).
    pub book_counters: BookCounters,
    /// Mark stage counters.
    pub mark_counters: MarkCounters,
    /// Latency histograms (merged across book stages); empty when latency was off.
    pub latencies: Vec<Latency>,
    /// Events the host had not received when it shut down, in order per stage.
    pub events: Vec<Event>,
    /// The recorded input order (empty unless [`EngineBuilder::record_inputs`]).
    pub inputs: InputOrder,
    /// Messages each stage took (risk, books..., mark) and pushed on to other stages.
    pub messages: Vec<(String, u64, u64)>,
}

/// A running engine: the host's handle (see the [module docs](self)).
///
/// # Examples
///
/// ```
/// use liqcore::engine::{Command, EngineBuilder, Event, Market, MarketInput};
/// use liqcore::book::{BookEvent, OrderCommand};
/// use liqcore::mark::MarkConfig;
/// use liqcore::risk::{Leverage, MarginTier, SymbolRiskConfig};
/// use liqcore::types::{AccountId, Money, Price, Rate, Side, SymbolId, SymbolSpec};
/// use rust_decimal::Decimal;
///
/// let spec = SymbolSpec::new(SymbolId(0), Decimal::new(1, 1), Decimal::new(1, 3)).unwrap();
/// let tiers = [MarginTier { floor: Money(0), mmr: Rate(500_000), max_leverage: None }]; // 0.5 %
/// let risk = SymbolRiskConfig::new(spec.clone(), Leverage::from_whole(100), &tiers).unwrap();
/// let mut engine = EngineBuilder::new()
///     .market(Market::new(spec, risk, MarkConfig::last()))
///     .start()
///     .unwrap();
/// let usdt = Money(1_000_000 * Money::UNIT);
/// for account in [1, 2] {
///     engine.send(0, Command::Deposit { account: AccountId(account), amount: usdt }).unwrap();
/// }
/// let sell = OrderCommand::limit(1, 1, Side::Sell, 200_000, 1_000); // 1 BTC at 20,000.0
/// let buy = OrderCommand::limit(2, 2, Side::Buy, 200_000, 1_000);
/// engine.send(1, Command::Order { symbol: SymbolId(0), order: sell }).unwrap();
/// engine.send(2, Command::Order { symbol: SymbolId(0), order: buy }).unwrap();
/// engine.run_until_idle();
/// let mut trades = 0;
/// while let Some(event) = engine.try_recv() {
///     if let Event::Book { event: BookEvent::Trade(trade), .. } = event {
///         assert_eq!(trade.price, Price(200_000));
///         trades += 1;
///     }
/// }
/// assert_eq!(trades, 1);
/// let report = engine.shutdown();
/// assert_eq!(report.risk.risk().total_size(SymbolId(0)), 0);
/// ```
pub struct Engine {
    commands: CommandSender,
    inputs: IndexFeed,
    events: EventReceiver,
    mode: Mode,
    plan: Plan,
    book_capacity: usize,
    max_symbols: usize,
}

impl Engine {
    /// A builder.
    #[must_use]
    pub fn builder() -> EngineBuilder {
        EngineBuilder::new()
    }

    /// Where the stages run and how they wait.
    #[must_use]
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Sends a command at logical time `ts` (ms).
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] hands the command back when the ring is full.
    pub fn send(&mut self, ts: u64, command: Command) -> Result<(), SendError<Command>> {
        self.commands.send(ts, command)
    }

    /// Sends a market input (index tick, forced mark, clock) at logical time `ts` (ms).
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] hands the input back when the ring is full.
    pub fn feed(&mut self, ts: u64, input: MarketInput) -> Result<(), SendError<MarketInput>> {
        self.inputs.send(ts, input)
    }

    /// [`Layout::Pinned`]: splits the host's ends off, so that commands, market inputs and
    /// events can live on different host threads. A [`Layout::Single`] engine needs its
    /// caller to run it and is handed back unchanged.
    ///
    /// # Errors
    ///
    /// The engine itself, when its layout is [`Layout::Single`].
    pub fn split(
        mut self,
    ) -> Result<(CommandSender, IndexFeed, EventReceiver, EngineHandle), Box<Engine>> {
        if !matches!(self.mode, Mode::Pinned(_)) {
            return Err(Box::new(self));
        }
        let plan = self.plan.clone();
        let (mode, commands, inputs, events) = self.take_parts();
        Ok((commands, inputs, events, EngineHandle { mode, plan }))
    }

    /// The next event, if one is ready.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.events.try_recv()
    }

    /// [`Layout::Single`]: polls the stages until none has work; returns whether any had.
    /// [`Layout::Pinned`]: does nothing (the threads run on their own) and returns `false`.
    pub fn run_until_idle(&mut self) -> bool {
        let Mode::Single(stages) = &mut self.mode else {
            return false;
        };
        let mut any = false;
        while stages.poll_all(&mut self.events) {
            any = true;
        }
        any
    }

    /// [`Layout::Single`]: one poll of every stage (a bounded amount of work); returns whether
    /// any had work.
    pub fn poll(&mut self) -> bool {
        match &mut self.mode {
            Mode::Single(stages) => stages.poll_all(&mut self.events),
            _ => false,
        }
    }

    /// The stages' state ([`Layout::Single`] only).
    #[must_use]
    pub fn stages(&self) -> Option<&Stages> {
        match &self.mode {
            Mode::Single(stages) => Some(stages),
            _ => None,
        }
    }

    /// Adds a market while the engine runs ([`Layout::Single`] only; call between commands).
    ///
    /// # Errors
    ///
    /// [`EngineError`].
    pub fn add_market(&mut self, market: Market) -> Result<SymbolId, EngineError> {
        let (capacity, max_symbols) = (self.book_capacity, self.max_symbols);
        match &mut self.mode {
            Mode::Single(stages) => stages.add_market(market, capacity, max_symbols),
            _ => Err(EngineError::NotSingle),
        }
    }

    /// Stops the engine: every input sent so far is processed, the stages stop, and their final
    /// state comes back with the counters, histograms and the events not yet received.
    #[must_use]
    pub fn shutdown(mut self) -> Report {
        let (mode, commands, inputs, events) = self.take_parts();
        shutdown(mode, commands, inputs, events)
    }

    /// Moves the running parts out, leaving inert ones (so `Drop` has nothing to stop).
    fn take_parts(&mut self) -> (Mode, CommandSender, IndexFeed, EventReceiver) {
        let mode = std::mem::replace(&mut self.mode, Mode::Done);
        let commands = std::mem::replace(
            &mut self.commands,
            CommandSender {
                ring: channel(2).0,
                clock: None,
            },
        );
        let inputs = std::mem::replace(
            &mut self.inputs,
            IndexFeed {
                ring: channel(2).0,
                clock: None,
            },
        );
        let events = std::mem::replace(
            &mut self.events,
            EventReceiver {
                sources: Vec::new(),
                pending: Lane::placeholder(),
                next: 0,
            },
        );
        (mode, commands, inputs, events)
    }
}

impl Drop for Engine {
    /// An engine dropped without [`Engine::shutdown`] is shut down all the same (its stage
    /// threads would otherwise spin on forever); the report is discarded.
    fn drop(&mut self) {
        if !matches!(self.mode, Mode::Done) {
            let (mode, commands, inputs, events) = self.take_parts();
            let _ = shutdown(mode, commands, inputs, events);
        }
    }
}

fn shutdown(
    mut mode: Mode,
    mut commands: CommandSender,
    mut inputs: IndexFeed,
    mut receiver: EventReceiver,
) -> Report {
    let mut events = Vec::new();
    // The stop messages queue behind the last inputs; wait for room if a ring is full.
    let mut stop_cmd = Some(Flow::Stop);
    let mut stop_idx = Some(Flow::Stop);
    loop {
        if let Some(flow) = stop_cmd.take()
            && let Err(PushError::Full(flow)) = commands.ring.push(flow)
        {
            stop_cmd = Some(flow);
        }
        if let Some(flow) = stop_idx.take()
            && let Err(PushError::Full(flow)) = inputs.ring.push(flow)
        {
            stop_idx = Some(flow);
        }
        let done = match &mut mode {
            Mode::Single(stages) => {
                let worked = stages.poll_all(&mut receiver);
                !worked && stages.finished()
            }
            Mode::Pinned(threads) => {
                threads.risk.is_finished()
                    && threads.mark.is_finished()
                    && threads.books.iter().all(JoinHandle::is_finished)
            }
            Mode::Done => true,
        };
        while let Some(e) = receiver.try_recv() {
            events.push(e);
        }
        if done && stop_cmd.is_none() && stop_idx.is_none() {
            break;
        }
        if matches!(mode, Mode::Pinned(_)) {
            std::thread::yield_now();
        }
    }
    let stages = match mode {
        Mode::Single(stages) => *stages,
        Mode::Pinned(threads) => Stages {
            risk: threads.risk.join().expect("risk stage thread panicked"),
            books: threads
                .books
                .into_iter()
                .map(|h| h.join().expect("book stage thread panicked"))
                .collect(),
            mark: threads.mark.join().expect("mark stage thread panicked"),
        },
        Mode::Done => unreachable!("shutdown runs once"),
    };
    for source in 0..receiver.sources.len() {
        receiver.collect(source);
    }
    events.extend(receiver.pending.take_all());
    report(stages, events)
}

fn report(stages: Stages, events: Vec<Event>) -> Report {
    let Stages { risk, books, mark } = stages;
    let mut messages = vec![(
        "risk".to_string(),
        risk.commands.state.taken
            + risk.marks.state.taken
            + risk.reports.iter().map(|r| r.state.taken).sum::<u64>(),
        risk.ports.orders.iter().map(|o| o.pushed).sum::<u64>()
            + risk.ports.priority.iter().map(|o| o.pushed).sum::<u64>(),
    )];
    let mut latencies = Vec::new();
    let mut book_counters = BookCounters::default();
    let mut all_books: Vec<(u32, Book)> = Vec::new();
    let mut inputs = InputOrder::default();
    for (b, driver) in books.into_iter().enumerate() {
        messages.push((
            format!("book{b}"),
            driver.priority.state.taken + driver.marks.state.taken + driver.orders.state.taken,
            driver.ports.reports.pushed + driver.ports.data.pushed,
        ));
        let c = driver.stage.counters;
        book_counters.commands += c.commands;
        book_counters.trades += c.trades;
        book_counters.liquidation_orders += c.liquidation_orders;
        book_counters.marks += c.marks;
        book_counters.misrouted += c.misrouted;
        if let Some(t) = driver.ports.timer {
            latencies.extend(t.into_latencies());
        }
        inputs.books.push(driver.log.record.unwrap_or_default());
        for slot in driver.stage.books.into_iter().flatten() {
            all_books.push((slot.book.spec().id.0, slot.book));
        }
    }
    all_books.sort_by_key(|(id, _)| *id);
    messages.push((
        "mark".to_string(),
        mark.inputs.state.taken + mark.data.iter().map(|d| d.state.taken).sum::<u64>(),
        mark.ports.risk.pushed + mark.ports.books.iter().map(|o| o.pushed).sum::<u64>(),
    ));
    let mut all = Vec::new();
    if let Some(t) = risk.ports.timer {
        all.extend(t.into_latencies());
    }
    all.extend(latencies);
    if let Some(t) = mark.ports.timer {
        all.extend(t.into_latencies());
    }
    inputs.risk = risk.log.record.unwrap_or_default();
    inputs.mark = mark.log.record.unwrap_or_default();
    Report {
        risk_counters: risk.stage.counters,
        risk: risk.stage.engine,
        books: all_books.into_iter().map(|(_, b)| b).collect(),
        marks: mark.stage.marks.into_iter().flatten().collect(),
        book_counters,
        mark_counters: mark.stage.counters,
        latencies: latency::merge(all),
        events,
        inputs,
        messages,
    }
}
