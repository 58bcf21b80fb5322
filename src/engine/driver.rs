//! Stage drivers: each owns one stage's state machine, its input ends (rings, or direct links
//! on one thread; drained in batches, in priority order), its output ends ([`Outbox`]es) and
//! its timer, and exposes `poll()`. Drivers know nothing of threads; the runner places them.
//!
//! Each input port has its own drain function (`take_commands`, `take_orders`, ...): one loop
//! (`drain!`) with that port's stage handler written inside it, so serving a message is a
//! peek, a match and the handler — no call, no choice of port, no copy of the message. The
//! functions are kept out of line from each other (`#[inline(never)]`) so that each handler is
//! inlined into exactly one loop.
//!
//! The host-command and user-order loops also look two messages ahead (`drain!`'s `ahead`):
//! the stage starts loading what that message will look up (`crate::hint`), so the misses of
//! its random lookups overlap the current message's work. It reads only messages the driver
//! already knows of (`ring::Consumer::peek_at` uses the cached `tail`) and changes no state, so
//! it cannot change what a stage does, only how long it waits for memory.
//!
//! # Shutdown (termination waves)
//!
//! The stages form cycles (risk → book → risk, book → mark → book, ...), so "stop when your
//! inputs stop" cannot work by itself. After the host's `Stop` on the command ring, the risk
//! stage sends wave markers; each stage forwards a wave's marker once it has it on the inputs
//! named below, flagging whether it did any work (or held spilled output) since its previous
//! marker:
//!
//! 1. risk → every book (orders and priority rings);
//! 2. book, after both → mark (market data) and risk (reports);
//! 3. mark, after every book's and the host's index `Stop` → risk and every book;
//! 4. book, after the mark's → risk (reports).
//!
//! When risk has a wave's markers on every input and no flag is set and it did nothing itself
//! meanwhile, no message was in flight anywhere (each ring carried a marker in that wave and
//! every stage stayed idle across it), so the system is quiescent: risk sends `Stop`, which
//! flows risk → books → mark → books → risk, and every driver finishes. Otherwise the next
//! wave starts. Nothing admitted is dropped: every input is processed before the `Stop` behind
//! it.

use quanta::Clock;

use crate::engine::book_stage::{BookOut, BookStage};
use crate::engine::latency::{StageTimer, Timer};
use crate::engine::mark_stage::{MarkOut, MarkStage};
use crate::engine::msg::{
    BookOrder, BookPriority, BookReport, Command, Event, Flow, MarkPublished, MarketData,
    MarketInput, Stamp,
};
use crate::engine::outbox::{EventOut, Outbox, Source};
use crate::engine::risk_stage::{RiskOut, RiskStage};
use crate::ring::Consumer;
use crate::types::SymbolId;

/// Messages taken from one ring per poll before moving on to the next.
pub(crate) const BATCH: usize = 256;

/// Control state of one input ring.
#[derive(Default)]
pub(crate) struct InState {
    pub(crate) stopped: bool,
    pub(crate) markers: u32,
    pub(crate) dirty: bool,
    /// Data messages taken.
    pub(crate) taken: u64,
}

impl InState {
    /// Accounts for a control flow (marker or stop); data is counted where it is served.
    #[inline]
    fn control<T>(&mut self, flow: &Flow<T>) {
        match *flow {
            Flow::Marker { busy, .. } => {
                self.markers += 1;
                self.dirty |= busy;
            }
            Flow::Stop => self.stopped = true,
            Flow::Data(..) => {}
        }
    }
}

/// One input ring (or direct link, see `outbox.rs`).
pub(crate) struct Inbox<T> {
    pub(crate) ring: Source<Flow<T>>,
    pub(crate) state: InState,
}

impl<T: Copy> Inbox<T> {
    pub(crate) fn new(ring: Consumer<Flow<T>>) -> Inbox<T> {
        Inbox::with_source(Source::Ring(ring))
    }

    pub(crate) fn with_source(ring: Source<Flow<T>>) -> Inbox<T> {
        Inbox {
            ring,
            state: InState::default(),
        }
    }
}

/// The order in which a stage took its inputs: recorded, or followed.
#[derive(Default)]
pub(crate) struct InputLog {
    pub(crate) record: Option<Vec<u8>>,
    pub(crate) script: Option<Vec<u8>>,
    pub(crate) pos: usize,
}

impl InputLog {
    #[inline]
    fn note(&mut self, port: u8) {
        if let Some(log) = self.record.as_mut() {
            log.push(port);
        }
    }

    /// The port the script says comes next, or `None` in free mode.
    #[inline]
    fn next(&self) -> Option<u8> {
        self.script.as_ref().and_then(|s| s.get(self.pos).copied())
    }
}

#[inline]
fn stamp_now(timer: &Timer) -> u64 {
    timer.as_ref().map_or(0, |t| t.now())
}

#[inline]
fn record_queue(timer: &mut Timer, stamp: &Stamp) -> u64 {
    match timer {
        Some(t) => {
            let now = t.now();
            StageTimer::record(&t.clock, &mut t.queue, stamp.sent, now);
            now
        }
        None => 0,
    }
}

#[inline]
fn record_service(timer: &mut Timer, start: u64) {
    if let Some(t) = timer {
        let now = t.now();
        StageTimer::record(&t.clock, &mut t.service, start, now);
    }
}

/// A stage's ports that carry the timer and the stamp of the message being served.
trait Timed {
    fn timer(&mut self) -> &mut Timer;
    fn set_current(&mut self, stamp: Stamp);
}

/// Serves messages from one input while a budget lasts: a control message costs 1, a data
/// message the weight its handler evaluates to (a trade report carries two fills and counts
/// as two, so a batch covers as many fills as when each fill was a message of its own). Stops
/// early, before a message, when the `yield` expression says so. For each data message: marks
/// the stage busy (termination waves), records its queue wait, stamps the outputs with its
/// stamp, runs the handler, records the service time and notes the port in the input log.
/// Evaluates to `None` if the input was empty (or yielded at once), else to how many data
/// messages it served.
///
/// A macro, not a function taking a closure: each port's function gets the loop with its
/// stage handler written inside it, whatever the inliner decides about closures (an
/// out-of-line handler cost more than a fifth of the rate).
///
/// With `ahead |stage, msg| look_ahead`, before each message it also shows the stage (shared)
/// the data message two places on, to prefetch what that one will look up.
///
/// `drain!(self, inbox, port, budget, [yield_if condition, [ahead |stage, msg| look_ahead,]]
/// |stage, ports, stamp, msg| handler)`
macro_rules! drain {
    ($self:ident, $inbox:expr, $port:expr, $budget:expr,
     |$stage:ident, $p:ident, $stamp:ident, $msg:ident| $handle:expr) => {
        drain!($self, $inbox, $port, $budget, yield_if false, |$stage, $p, $stamp, $msg| $handle)
    };
    ($self:ident, $inbox:expr, $port:expr, $budget:expr, yield_if $yield:expr,
     $(ahead |$ahead_stage:ident, $ahead_msg:ident| $ahead:expr,)?
     |$stage:ident, $p:ident, $stamp:ident, $msg:ident| $handle:expr) => {{
        let $stage = &mut $self.stage;
        let (busy, ports, log) = (&mut $self.wave.busy, &mut $self.ports, &mut $self.log);
        let inbox = $inbox;
        let mut budget: usize = $budget;
        // Messages taken (data and control) and data messages served; folded into the
        // stage's state once, after the batch.
        let (mut taken, mut served) = (0usize, 0usize);
        // Fixed for the engine's life: tested once per batch, not twice per message.
        let (timed, recording) = (ports.timer().is_some(), log.record.is_some());
        while budget > 0 {
            if $yield {
                break;
            }
            // Look-ahead: the message two places on starts loading what it will look up, so
            // that cache miss overlaps this message's work (`crate::hint`). Measured: one or
            // three places gained the same; a two-step chain (index line, then entry) cost
            // more instructions for no more speed.
            $(
                if let Some(Flow::Data(_, $ahead_msg)) = inbox.ring.peek_at(2) {
                    let $ahead_stage = &*$stage;
                    $ahead;
                }
            )?
            // Served where it lies, then popped: a message is not copied out of its slot (a
            // copy of an enum just read stalls the load of the next copy).
            let Some(flow) = inbox.ring.peek() else {
                break;
            };
            taken += 1;
            match flow {
                Flow::Data($stamp, $msg) => {
                    let start = if timed {
                        record_queue(ports.timer(), $stamp)
                    } else {
                        0
                    };
                    ports.set_current(*$stamp);
                    let $p = &mut *ports;
                    let weight: usize = $handle;
                    if timed {
                        record_service(ports.timer(), start);
                    }
                    if recording {
                        log.note($port);
                    }
                    served += 1;
                    budget = budget.saturating_sub(weight.max(1));
                }
                _ => {
                    inbox.state.control(flow);
                    budget -= 1;
                }
            }
            let _ = inbox.ring.pop();
        }
        inbox.state.taken += served as u64;
        // Busy since the last termination wave (nothing reads it during the batch).
        *busy |= served > 0;
        (taken > 0).then_some(served)
    }};
}

/// Taking inputs port by port, freely (in batches) or in a recorded order.
trait TakeInputs {
    /// Serves messages from input `port` while `budget` lasts (see `drain!`): `None` if that
    /// input is empty (or there is no such port), else how many data messages it served.
    fn take(&mut self, port: u8, budget: usize) -> Option<usize>;
    fn log(&mut self) -> &mut InputLog;

    /// Takes up to a batch from `port`; returns whether there was anything.
    #[inline]
    fn drain_port(&mut self, port: u8) -> bool {
        self.take(port, BATCH).is_some()
    }

    /// Takes up to a batch of inputs in the recorded order; waits (returns) when the next
    /// recorded port is empty, and drops the script when it ends or names no port.
    fn follow_script(&mut self, ports: u8) -> bool {
        let mut worked = false;
        for _ in 0..BATCH {
            let port = match self.log().next() {
                Some(port) if port < ports => port,
                _ => {
                    self.log().script = None;
                    return worked;
                }
            };
            // One message: a control message is not in the script, a data message is.
            match self.take(port, 1) {
                None => return worked,
                Some(served) => {
                    worked = true;
                    self.log().pos += served;
                }
            }
        }
        worked
    }
}

// ----- risk ------------------------------------------------------------------------------------

pub(crate) struct RiskPorts {
    pub(crate) orders: Vec<Outbox<Flow<BookOrder>>>,
    pub(crate) priority: Vec<Outbox<Flow<BookPriority>>>,
    pub(crate) events: EventOut,
    pub(crate) route: Vec<u8>,
    pub(crate) current: Stamp,
    pub(crate) timer: Timer,
}

impl Timed for RiskPorts {
    #[inline]
    fn timer(&mut self) -> &mut Timer {
        &mut self.timer
    }

    #[inline]
    fn set_current(&mut self, stamp: Stamp) {
        self.current = stamp;
    }
}

impl RiskPorts {
    #[inline]
    fn out_stamp(&self) -> Stamp {
        Stamp {
            sent: stamp_now(&self.timer),
            ..self.current
        }
    }

    #[inline]
    fn book_of(&self, symbol: SymbolId) -> usize {
        self.route.get(symbol.0 as usize).copied().unwrap_or(0) as usize
    }

    fn backlog(&self) -> usize {
        self.orders.iter().map(Outbox::backlog).sum::<usize>()
            + self.priority.iter().map(Outbox::backlog).sum::<usize>()
            + self.events.backlog()
    }

    fn flush(&mut self) -> bool {
        let mut moved = false;
        for o in &mut self.orders {
            moved |= o.flush();
        }
        for o in &mut self.priority {
            moved |= o.flush();
        }
        moved | self.events.flush()
    }

    fn broadcast(&mut self, flow: impl Fn() -> Flow<()>) {
        for o in &mut self.orders {
            o.push_control(relabel(flow()));
        }
        for o in &mut self.priority {
            o.push_control(relabel(flow()));
        }
    }
}

/// A control flow (marker or stop) for any ring.
fn relabel<T>(flow: Flow<()>) -> Flow<T> {
    match flow {
        Flow::Marker { wave, busy } => Flow::Marker { wave, busy },
        Flow::Stop | Flow::Data(..) => Flow::Stop,
    }
}

impl RiskOut for RiskPorts {
    #[inline(always)]
    fn order(&mut self, symbol: SymbolId, make: impl FnOnce() -> BookOrder) {
        let stamp = self.out_stamp();
        let b = self.book_of(symbol);
        if let Some(o) = self.orders.get_mut(b) {
            o.push_with(|| Flow::Data(stamp, make()));
        }
    }

    #[inline(always)]
    fn priority(&mut self, symbol: SymbolId, msg: BookPriority) {
        let stamp = self.out_stamp();
        let b = self.book_of(symbol);
        if let Some(o) = self.priority.get_mut(b) {
            o.push(Flow::Data(stamp, msg));
        }
    }

    #[inline(always)]
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}

#[derive(Default)]
struct RiskWave {
    wave: u32,
    busy: bool,
    stop_sent: bool,
}

pub(crate) struct RiskDriver {
    pub(crate) stage: RiskStage,
    pub(crate) commands: Inbox<Command>,
    pub(crate) marks: Inbox<MarkPublished>,
    pub(crate) reports: Vec<Inbox<BookReport>>,
    pub(crate) ports: RiskPorts,
    pub(crate) log: InputLog,
    wave: RiskWave,
}

impl RiskDriver {
    pub(crate) fn new(
        stage: RiskStage,
        commands: Inbox<Command>,
        marks: Inbox<MarkPublished>,
        reports: Vec<Inbox<BookReport>>,
        ports: RiskPorts,
        log: InputLog,
    ) -> RiskDriver {
        RiskDriver {
            stage,
            commands,
            marks,
            reports,
            ports,
            log,
            wave: RiskWave::default(),
        }
    }

    /// Does available work; returns whether there was any.
    pub(crate) fn poll(&mut self) -> bool {
        let mut worked = self.ports.flush();
        if self.log.script.is_some() {
            worked |= self.follow_script(2 + self.reports.len() as u8);
        } else {
            // Fills first (they free margin and complete liquidations), then marks, then new
            // commands — and new commands only while nothing is spilled (backpressure).
            for b in 0..self.reports.len() {
                worked |= self.drain_port(2 + b as u8);
            }
            worked |= self.drain_port(1);
            if self.ports.backlog() == 0 {
                worked |= self.drain_port(0);
            }
        }
        worked | self.wave_step()
    }

    fn wave_step(&mut self) -> bool {
        // A host that dropped its command sender has sent its last command.
        if !self.commands.state.stopped
            && self.commands.ring.is_empty()
            && self.commands.ring.is_abandoned()
            && self.commands.ring.is_empty()
        {
            self.commands.state.stopped = true;
        }
        if !self.commands.state.stopped || self.wave.stop_sent || self.log.script.is_some() {
            return false;
        }
        let w = self.wave.wave;
        if w > 0 {
            let complete = self.marks.state.markers >= w
                && self.reports.iter().all(|r| r.state.markers >= 2 * w);
            if !complete {
                return false;
            }
            let dirty = self.wave.busy
                || self.ports.backlog() > 0
                || self.marks.state.dirty
                || self.reports.iter().any(|r| r.state.dirty);
            if !dirty {
                self.ports.broadcast(|| Flow::Stop);
                self.wave.stop_sent = true;
                return true;
            }
        }
        self.marks.state.dirty = false;
        for r in &mut self.reports {
            r.state.dirty = false;
        }
        self.wave.busy = false;
        self.wave.wave = w + 1;
        self.ports.broadcast(|| Flow::Marker {
            wave: w + 1,
            busy: false,
        });
        true
    }

    pub(crate) fn finished(&self) -> bool {
        self.wave.stop_sent
            && self.marks.state.stopped
            && self.reports.iter().all(|r| r.state.stopped)
            && self.ports.backlog() == 0
    }
}

impl RiskDriver {
    #[inline(never)]
    fn take_commands(&mut self, budget: usize) -> Option<usize> {
        drain!(
            self,
            &mut self.commands,
            0,
            budget,
            yield_if false,
            ahead | stage, msg | stage.prefetch(msg),
            |stage, p, _stamp, msg| {
                stage.on_command(msg, p);
                1
            }
        )
    }

    #[inline(never)]
    fn take_marks(&mut self, budget: usize) -> Option<usize> {
        drain!(self, &mut self.marks, 1, budget, |stage, p, stamp, msg| {
            stage.on_mark(stamp.ts, msg, p);
            1
        })
    }

    #[inline(never)]
    fn take_reports(&mut self, b: usize, budget: usize) -> Option<usize> {
        drain!(
            self,
            self.reports.get_mut(b)?,
            2 + b as u8,
            budget,
            |stage, p, _stamp, msg| {
                stage.on_report(msg, p);
                // A trade report carries two fills.
                if matches!(msg, BookReport::Trade { .. }) {
                    2
                } else {
                    1
                }
            }
        )
    }
}

/// Ports of the risk stage: 0 commands, 1 marks, 2 + b reports of book stage b.
impl TakeInputs for RiskDriver {
    #[inline]
    fn take(&mut self, port: u8, budget: usize) -> Option<usize> {
        match port {
            0 => self.take_commands(budget),
            1 => self.take_marks(budget),
            p => self.take_reports(usize::from(p) - 2, budget),
        }
    }

    fn log(&mut self) -> &mut InputLog {
        &mut self.log
    }
}

// ----- book ------------------------------------------------------------------------------------

pub(crate) struct BookPorts {
    pub(crate) reports: Outbox<Flow<BookReport>>,
    pub(crate) data: Outbox<Flow<MarketData>>,
    pub(crate) events: EventOut,
    pub(crate) current: Stamp,
    pub(crate) timer: Timer,
}

impl Timed for BookPorts {
    #[inline]
    fn timer(&mut self) -> &mut Timer {
        &mut self.timer
    }

    #[inline]
    fn set_current(&mut self, stamp: Stamp) {
        self.current = stamp;
    }
}

impl BookPorts {
    #[inline]
    fn out_stamp(&self) -> Stamp {
        Stamp {
            sent: stamp_now(&self.timer),
            ..self.current
        }
    }

    fn backlog(&self) -> usize {
        self.reports.backlog() + self.data.backlog() + self.events.backlog()
    }

    fn flush(&mut self) -> bool {
        self.reports.flush() | self.data.flush() | self.events.flush()
    }

    fn e2e(&mut self, which: usize) {
        if let Some(t) = self.timer.as_mut() {
            let now = t.clock.raw();
            StageTimer::record(&t.clock, &mut t.e2e[which], self.current.origin, now);
        }
    }
}

impl BookOut for BookPorts {
    #[inline(always)]
    fn event(&mut self, make: impl FnOnce() -> Event) {
        self.events.push_with(make);
    }

    #[inline(always)]
    fn report(&mut self, make: impl FnOnce() -> BookReport) {
        let stamp = self.out_stamp();
        self.reports.push_with(|| Flow::Data(stamp, make()));
    }

    #[inline(always)]
    fn data(&mut self, make: impl FnOnce() -> MarketData) {
        let stamp = self.out_stamp();
        self.data.push_with(|| Flow::Data(stamp, make()));
    }

    #[inline]
    fn first_report(&mut self) {
        self.e2e(0);
    }

    #[inline]
    fn liquidation_accepted(&mut self) {
        self.e2e(1);
    }
}

#[derive(Default)]
struct BookWave {
    m2_sent: u32,
    m4_sent: u32,
    busy: bool,
    stop_data: bool,
    stop_reports: bool,
}

pub(crate) struct BookDriver {
    pub(crate) stage: BookStage,
    pub(crate) priority: Inbox<BookPriority>,
    pub(crate) marks: Inbox<MarkPublished>,
    pub(crate) orders: Inbox<BookOrder>,
    pub(crate) ports: BookPorts,
    pub(crate) log: InputLog,
    wave: BookWave,
}

impl BookDriver {
    pub(crate) fn new(
        stage: BookStage,
        priority: Inbox<BookPriority>,
        marks: Inbox<MarkPublished>,
        orders: Inbox<BookOrder>,
        ports: BookPorts,
        log: InputLog,
    ) -> BookDriver {
        BookDriver {
            stage,
            priority,
            marks,
            orders,
            ports,
            log,
            wave: BookWave::default(),
        }
    }

    pub(crate) fn poll(&mut self) -> bool {
        let mut worked = self.ports.flush();
        if self.log.script.is_some() {
            worked |= self.follow_script(3);
        } else {
            // Liquidations first, then marks (stops, bands), then user orders.
            worked |= self.drain_port(0);
            worked |= self.drain_port(1);
            // A liquidation that arrived meanwhile goes before the next user order.
            worked |= self.take_orders(BATCH, true).is_some();
        }
        worked | self.wave_step()
    }

    fn wave_step(&mut self) -> bool {
        let mut worked = false;
        let k = self.wave.m2_sent + 1;
        if self.orders.state.markers >= k && self.priority.state.markers >= k {
            let busy = self.wave.busy
                || self.ports.backlog() > 0
                || self.orders.state.dirty
                || self.priority.state.dirty;
            self.ports.data.push_control(Flow::Marker { wave: k, busy });
            self.ports
                .reports
                .push_control(Flow::Marker { wave: k, busy });
            self.wave.m2_sent = k;
            self.wave.busy = false;
            self.orders.state.dirty = false;
            self.priority.state.dirty = false;
            worked = true;
        }
        let k = self.wave.m4_sent + 1;
        if self.wave.m2_sent >= k && self.marks.state.markers >= k {
            let busy = self.wave.busy || self.ports.backlog() > 0 || self.marks.state.dirty;
            self.ports
                .reports
                .push_control(Flow::Marker { wave: k, busy });
            self.wave.m4_sent = k;
            self.wave.busy = false;
            self.marks.state.dirty = false;
            worked = true;
        }
        if !self.wave.stop_data && self.orders.state.stopped && self.priority.state.stopped {
            self.ports.data.push_control(Flow::Stop);
            self.wave.stop_data = true;
            worked = true;
        }
        if self.wave.stop_data && !self.wave.stop_reports && self.marks.state.stopped {
            self.ports.reports.push_control(Flow::Stop);
            self.wave.stop_reports = true;
            worked = true;
        }
        worked
    }

    pub(crate) fn finished(&self) -> bool {
        self.wave.stop_reports && self.ports.backlog() == 0
    }
}

impl BookDriver {
    #[inline(never)]
    fn take_priority(&mut self, budget: usize) -> Option<usize> {
        drain!(
            self,
            &mut self.priority,
            0,
            budget,
            |stage, p, _stamp, msg| {
                stage.on_priority(msg, p);
                1
            }
        )
    }

    #[inline(never)]
    fn take_marks(&mut self, budget: usize) -> Option<usize> {
        drain!(self, &mut self.marks, 1, budget, |stage, p, _stamp, msg| {
            stage.on_mark(msg, p);
            1
        })
    }

    /// User orders; with `yield_to_priority`, stops before an order while a liquidation waits.
    #[inline(never)]
    fn take_orders(&mut self, budget: usize, yield_to_priority: bool) -> Option<usize> {
        let priority = &self.priority.ring;
        // (Called before each order.)
        let waiting = || yield_to_priority && !priority.is_empty();
        drain!(
            self,
            &mut self.orders,
            2,
            budget,
            yield_if waiting(),
            ahead | stage, msg | stage.prefetch(msg),
            |stage, p, _stamp, msg| {
                stage.on_order(msg, p);
                1
            }
        )
    }
}

/// Ports of a book stage: 0 priority (liquidations), 1 marks, 2 orders.
impl TakeInputs for BookDriver {
    #[inline]
    fn take(&mut self, port: u8, budget: usize) -> Option<usize> {
        match port {
            0 => self.take_priority(budget),
            1 => self.take_marks(budget),
            _ => self.take_orders(budget, false),
        }
    }

    fn log(&mut self) -> &mut InputLog {
        &mut self.log
    }
}

// ----- mark ------------------------------------------------------------------------------------

pub(crate) struct MarkPorts {
    pub(crate) risk: Outbox<Flow<MarkPublished>>,
    pub(crate) books: Vec<Outbox<Flow<MarkPublished>>>,
    pub(crate) events: EventOut,
    pub(crate) route: Vec<u8>,
    pub(crate) current: Stamp,
    pub(crate) timer: Timer,
}

impl Timed for MarkPorts {
    #[inline]
    fn timer(&mut self) -> &mut Timer {
        &mut self.timer
    }

    #[inline]
    fn set_current(&mut self, stamp: Stamp) {
        self.current = stamp;
    }
}

impl MarkPorts {
    fn backlog(&self) -> usize {
        self.risk.backlog()
            + self.books.iter().map(Outbox::backlog).sum::<usize>()
            + self.events.backlog()
    }

    fn flush(&mut self) -> bool {
        let mut moved = self.risk.flush();
        for o in &mut self.books {
            moved |= o.flush();
        }
        moved | self.events.flush()
    }
}

impl MarkOut for MarkPorts {
    #[inline]
    fn publish(&mut self, mark: MarkPublished, ts: u64, from_index: bool) {
        let now = stamp_now(&self.timer);
        if from_index && let Some(t) = self.timer.as_mut() {
            StageTimer::record(&t.clock, &mut t.e2e[0], self.current.origin, now);
        }
        // The mark's own publication time is the origin of what it causes downstream
        // (mark published → liquidation order accepted).
        let stamp = Stamp {
            ts: self.current.ts.max(ts),
            origin: now,
            sent: now,
        };
        self.risk.push(Flow::Data(stamp, mark));
        let b = self.route.get(mark.symbol.0 as usize).copied().unwrap_or(0) as usize;
        if let Some(o) = self.books.get_mut(b) {
            o.push(Flow::Data(stamp, mark));
        }
        self.events.push(Event::Mark {
            symbol: mark.symbol,
            price: mark.price,
            ts,
        });
    }

    #[inline(always)]
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}

#[derive(Default)]
struct MarkWave {
    m3_sent: u32,
    busy: bool,
    stop_sent: bool,
}

pub(crate) struct MarkDriver {
    pub(crate) stage: MarkStage,
    pub(crate) inputs: Inbox<MarketInput>,
    pub(crate) data: Vec<Inbox<MarketData>>,
    pub(crate) ports: MarkPorts,
    pub(crate) log: InputLog,
    wave: MarkWave,
}

impl MarkDriver {
    pub(crate) fn new(
        stage: MarkStage,
        inputs: Inbox<MarketInput>,
        data: Vec<Inbox<MarketData>>,
        ports: MarkPorts,
        log: InputLog,
    ) -> MarkDriver {
        MarkDriver {
            stage,
            inputs,
            data,
            ports,
            log,
            wave: MarkWave::default(),
        }
    }

    pub(crate) fn poll(&mut self) -> bool {
        let mut worked = self.ports.flush();
        if self.log.script.is_some() {
            worked |= self.follow_script(1 + self.data.len() as u8);
        } else {
            for b in 0..self.data.len() {
                worked |= self.drain_port(1 + b as u8);
            }
            if self.ports.backlog() == 0 {
                worked |= self.drain_port(0);
            }
        }
        worked | self.wave_step()
    }

    fn wave_step(&mut self) -> bool {
        // A host that dropped its index feed has sent its last input.
        if !self.inputs.state.stopped
            && self.inputs.ring.is_empty()
            && self.inputs.ring.is_abandoned()
            && self.inputs.ring.is_empty()
        {
            self.inputs.state.stopped = true;
        }
        if !self.inputs.state.stopped {
            return false;
        }
        let mut worked = false;
        let k = self.wave.m3_sent + 1;
        if self.data.iter().all(|d| d.state.markers >= k) {
            let busy = self.wave.busy
                || self.ports.backlog() > 0
                || self.data.iter().any(|d| d.state.dirty);
            self.ports.risk.push_control(Flow::Marker { wave: k, busy });
            for o in &mut self.ports.books {
                o.push_control(Flow::Marker { wave: k, busy });
            }
            for d in &mut self.data {
                d.state.dirty = false;
            }
            self.wave.m3_sent = k;
            self.wave.busy = false;
            worked = true;
        }
        if !self.wave.stop_sent && self.data.iter().all(|d| d.state.stopped) {
            self.ports.risk.push_control(Flow::Stop);
            for o in &mut self.ports.books {
                o.push_control(Flow::Stop);
            }
            self.wave.stop_sent = true;
            worked = true;
        }
        worked
    }

    pub(crate) fn finished(&self) -> bool {
        self.wave.stop_sent && self.ports.backlog() == 0
    }
}

impl MarkDriver {
    #[inline(never)]
    fn take_inputs(&mut self, budget: usize) -> Option<usize> {
        drain!(self, &mut self.inputs, 0, budget, |stage, p, stamp, msg| {
            stage.on_input(stamp.ts, msg, p);
            1
        })
    }

    #[inline(never)]
    fn take_data(&mut self, b: usize, budget: usize) -> Option<usize> {
        drain!(
            self,
            self.data.get_mut(b)?,
            1 + b as u8,
            budget,
            |stage, p, stamp, msg| {
                stage.on_data(stamp.ts, msg, p);
                1
            }
        )
    }
}

/// Ports of the mark stage: 0 host inputs, 1 + b market data of book stage b.
impl TakeInputs for MarkDriver {
    #[inline]
    fn take(&mut self, port: u8, budget: usize) -> Option<usize> {
        match port {
            0 => self.take_inputs(budget),
            p => self.take_data(usize::from(p) - 1, budget),
        }
    }

    fn log(&mut self) -> &mut InputLog {
        &mut self.log
    }
}

/// A clock for a stage timer, when latency is on (see [`Timer`]).
pub(crate) fn timer(clock: &Option<Clock>, stage: &'static str, e2e: &[&'static str]) -> Timer {
    clock
        .as_ref()
        .map(|c| Box::new(StageTimer::new(c.clone(), stage, e2e)))
}
