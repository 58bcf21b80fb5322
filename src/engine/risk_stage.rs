//! The risk stage's state machine: pre-trade checks and the order registry in front of the
//! [`LiquidationEngine`] (accounts, liquidation index, insurance fund, ADL).

use crate::book::OrderKind;
use crate::engine::msg::{
    BookOrder, BookPriority, BookReport, Command, EndReason, Event, Hint, MarkPublished, NO_HINT,
    Subject,
};
use crate::engine::registry::OrderRegistry;
use crate::engine::words;
use crate::risk::{
    AccountIdx, Fill, LIQUIDATION_ID_BASE, LiquidationEnd, LiquidationEngine, OrderRequest,
    RiskOutput,
};
use crate::types::{OrderId, Qty, Side, SymbolId};

/// Where the risk stage's outputs go (the driver stamps and routes them).
pub(crate) trait RiskOut {
    /// User order flow to the book stage of `symbol`: the message `make` builds, built where
    /// it is queued (one write, no copy of a message just built; see `outbox.rs`).
    fn order(&mut self, symbol: SymbolId, make: impl FnOnce() -> BookOrder);
    /// Liquidation flow (served first) to the book stage of `symbol`.
    fn priority(&mut self, symbol: SymbolId, msg: BookPriority);
    /// An event for the host.
    fn event(&mut self, event: Event);
}

/// What the risk stage counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiskCounters {
    /// Host commands taken.
    pub commands: u64,
    /// Orders approved and sent to a book.
    pub orders_approved: u64,
    /// Commands refused (a `rejected` event each).
    pub rejected: u64,
    /// Fills applied.
    pub fills: u64,
    /// Fills the margin engine refused (a book/risk disagreement: should stay 0).
    pub fills_refused: u64,
    /// Mark prices taken.
    pub marks: u64,
    /// Liquidation orders sent.
    pub liquidation_orders: u64,
}

/// The risk stage (see the [engine docs](crate::engine)).
pub(crate) struct RiskStage {
    pub(crate) engine: LiquidationEngine,
    registry: OrderRegistry,
    scratch: Vec<RiskOutput>,
    pub(crate) counters: RiskCounters,
}

/// Reserve of the liquidation engine's output buffer (it grows only beyond this many outputs
/// of one input: a mark move liquidating more accounts at once).
const SCRATCH_RESERVE: usize = 4096;

impl RiskStage {
    pub(crate) fn new(
        engine: LiquidationEngine,
        max_orders: usize,
        max_accounts: usize,
    ) -> RiskStage {
        RiskStage {
            engine,
            registry: OrderRegistry::new(max_orders, max_accounts),
            scratch: Vec::with_capacity(SCRATCH_RESERVE),
            counters: RiskCounters::default(),
        }
    }

    /// Live user orders the stage tracks.
    pub(crate) fn live_orders(&self) -> usize {
        self.registry.len()
    }

    fn reject<O: RiskOut>(&mut self, subject: Subject, reason: &'static str, out: &mut O) {
        self.counters.rejected += 1;
        out.event(Event::Rejected { subject, reason });
    }

    /// Look-ahead for a command two messages from now (see `drain!`): a cancel or modify
    /// starts loading its order's registry entry, a new order its account's margin record,
    /// position and in-flight flag.
    #[inline(always)]
    pub(crate) fn prefetch(&self, command: &Command) {
        match *command {
            Command::Cancel { id } | Command::Modify { id, .. } => self.registry.prefetch(id.0),
            Command::Order { symbol, order } => {
                self.engine.prefetch_order_check(order.account, symbol);
            }
            _ => {}
        }
    }

    /// One host command.
    #[inline(always)]
    pub(crate) fn on_command<O: RiskOut>(&mut self, command: &Command, out: &mut O) {
        self.counters.commands += 1;
        match *command {
            Command::Order { symbol, order } => {
                let subject = Subject::Order(order.id);
                if order.id.0 >= LIQUIDATION_ID_BASE {
                    return self.reject(subject, "invalid_order_id", out);
                }
                if self.registry.find(order.id.0).is_some() {
                    return self.reject(subject, "duplicate_id", out);
                }
                let request = OrderRequest {
                    account: order.account,
                    symbol,
                    side: order.side,
                    qty: order.qty,
                    limit_price: match order.kind {
                        OrderKind::Limit | OrderKind::StopLimit => Some(order.price),
                        OrderKind::Market | OrderKind::StopMarket => None,
                    },
                    reduce_only: order.reduce_only,
                };
                let risk = self.engine.risk();
                let Some(idx) = risk.index_of(order.account) else {
                    return self.reject(subject, "unknown_account", out);
                };
                if risk.symbol(symbol).is_some() && self.engine.slot_in_flight(idx, symbol) {
                    return self.reject(subject, "liquidation_in_progress", out);
                }
                let approved = match self.engine.risk_mut().check_order_at(idx, &request) {
                    Ok(approved) => approved,
                    Err(e) => return self.reject(subject, words::order(e), out),
                };
                let reserved = if approved.reserved { approved.qty.0 } else { 0 };
                let mut entry = OrderRegistry::entry(
                    order.id.0,
                    idx.0,
                    symbol,
                    order.side,
                    approved.qty.0,
                    reserved,
                );
                entry.limit = request.limit_price.map_or(0, |p| p.0);
                let Ok(slot) = self.registry.insert(entry) else {
                    self.release(idx.0, symbol, order.side, reserved);
                    return self.reject(subject, "too_many_orders", out);
                };
                self.counters.orders_approved += 1;
                let mut order = order;
                order.qty = approved.qty;
                out.order(symbol, || BookOrder::Submit(symbol, order, slot));
            }
            Command::Cancel { id } => match self.registry.find(id.0) {
                Some(slot) => {
                    let symbol = self.registry.get(slot).symbol;
                    out.order(symbol, || BookOrder::Cancel(symbol, id, slot));
                }
                None => self.reject(Subject::Order(id), "unknown_order", out),
            },
            Command::Modify { id, price, qty } => {
                let Some(slot) = self.registry.find(id.0) else {
                    return self.reject(Subject::Order(id), "unknown_order", out);
                };
                let entry = *self.registry.get(slot);
                if entry.pending > 0 {
                    // One modify at a time per order: the book has not answered the last one.
                    return self.reject(Subject::Order(id), "modify_pending", out);
                }
                let growth = qty.map_or(0, |q| q.0 - entry.remaining);
                if growth > 0 && entry.reserved > 0 {
                    let limit = price.map(|p| p.0).unwrap_or(entry.limit);
                    let idx = AccountIdx(entry.account_idx);
                    let request = OrderRequest {
                        // `check_order_at` takes the account by index; the id is for the record.
                        account: self.engine.risk().id_of(idx).unwrap_or_default(),
                        symbol: entry.symbol,
                        side: entry.side,
                        qty: Qty(growth),
                        limit_price: (limit > 0).then_some(crate::types::Price(limit)),
                        reduce_only: false,
                    };
                    match self.engine.risk_mut().check_order_at(idx, &request) {
                        Ok(approved) => self.registry.get_mut(slot).pending = approved.qty.0,
                        Err(e) => return self.reject(Subject::Order(id), words::order(e), out),
                    }
                }
                if let Some(p) = price {
                    self.registry.get_mut(slot).limit = p.0;
                }
                out.order(entry.symbol, || BookOrder::Modify {
                    symbol: entry.symbol,
                    id,
                    price,
                    qty,
                    hint: slot,
                });
            }
            Command::Deposit { account, amount } => {
                if let Err(e) = self.engine.deposit(account, amount, &mut self.scratch) {
                    self.reject(Subject::Account(account), words::funds(e), out);
                }
                self.forward(out);
            }
            Command::Withdraw { account, amount } => {
                if let Err(e) = self.engine.withdraw(account, amount, &mut self.scratch) {
                    self.reject(Subject::Account(account), words::funds(e), out);
                }
                self.forward(out);
            }
            Command::Insurance { amount } => {
                if let Err(e) = self.engine.deposit_insurance(amount, &mut self.scratch) {
                    self.reject(Subject::Insurance, words::funds(e), out);
                }
                self.forward(out);
            }
            Command::Leverage {
                account,
                symbol,
                leverage,
                mode,
            } => {
                if let Err(e) =
                    self.engine
                        .set_leverage(account, symbol, leverage, mode, &mut self.scratch)
                {
                    self.reject(Subject::Account(account), words::leverage(e), out);
                }
                self.forward(out);
            }
            Command::Margin {
                account,
                symbol,
                amount,
            } => {
                if let Err(e) =
                    self.engine
                        .adjust_margin(account, symbol, amount, &mut self.scratch)
                {
                    self.reject(Subject::Account(account), words::funds(e), out);
                }
                self.forward(out);
            }
        }
    }

    /// One report from a book stage.
    pub(crate) fn on_report<O: RiskOut>(&mut self, report: &BookReport, out: &mut O) {
        match *report {
            BookReport::Trade {
                symbol,
                trade,
                taker_hint,
            } => {
                let [maker, taker] = Fill::both_sides(
                    symbol,
                    trade.price,
                    trade.qty,
                    trade.maker_account,
                    trade.taker_account,
                    trade.taker_side,
                    trade.liquidation,
                );
                self.on_fill(trade.maker, NO_HINT, &maker, out);
                self.on_fill(trade.taker, taker_hint, &taker, out);
            }
            BookReport::Ended {
                id,
                remaining,
                reason,
                hint,
            } => {
                if id.0 >= LIQUIDATION_ID_BASE {
                    self.engine
                        .on_liquidation_end(&LiquidationEnd { id, remaining }, &mut self.scratch);
                    return self.forward(out);
                }
                let Some(slot) = self.registry.lookup(id.0, hint) else {
                    return;
                };
                let entry = *self.registry.get(slot);
                if reason == EndReason::ModifyRejected {
                    self.registry.get_mut(slot).pending = 0;
                    self.release(entry.account_idx, entry.symbol, entry.side, entry.pending);
                    return;
                }
                self.release(
                    entry.account_idx,
                    entry.symbol,
                    entry.side,
                    entry.reserved + entry.pending,
                );
                self.registry.remove(slot);
            }
            BookReport::Modified {
                id,
                remaining,
                hint,
            } => {
                let Some(slot) = self.registry.lookup(id.0, hint) else {
                    return;
                };
                let entry = self.registry.get_mut(slot);
                let held = entry.reserved + entry.pending;
                let keep = if held > 0 { remaining.0.min(held) } else { 0 };
                entry.reserved = keep;
                entry.pending = 0;
                entry.remaining = remaining.0;
                let (account, symbol, side) = (entry.account_idx, entry.symbol, entry.side);
                self.release(account, symbol, side, held - keep);
            }
        }
    }

    /// One account's side of a trade, with that side's order (and its registry hint).
    fn on_fill<O: RiskOut>(&mut self, order: OrderId, hint: Hint, fill: &Fill, out: &mut O) {
        self.counters.fills += 1;
        // The order's registry entry names the account's dense index: the fill needs
        // no account-id lookup then.
        let slot = if order.0 < LIQUIDATION_ID_BASE {
            self.registry.lookup(order.0, hint)
        } else {
            None
        };
        let applied = match slot {
            Some(slot) => {
                let hint = AccountIdx(self.registry.get(slot).account_idx);
                self.engine.on_fill_hinted(hint, fill, &mut self.scratch)
            }
            None => self.engine.on_fill(fill, &mut self.scratch),
        };
        if applied.is_err() {
            self.counters.fills_refused += 1;
        }
        if let Some(slot) = slot {
            let entry = self.registry.get_mut(slot);
            entry.remaining -= fill.qty.0;
            let released = fill.qty.0.min(entry.reserved);
            entry.reserved -= released;
            let (account, symbol, side, done) = (
                entry.account_idx,
                entry.symbol,
                entry.side,
                entry.remaining <= 0,
            );
            self.release(account, symbol, side, released);
            if done {
                let left = self.registry.get(slot).reserved + self.registry.get(slot).pending;
                self.release(account, symbol, side, left);
                self.registry.remove(slot);
            }
        }
        self.forward(out);
    }

    /// A new mark price: the liquidation scan.
    pub(crate) fn on_mark<O: RiskOut>(&mut self, now: u64, mark: &MarkPublished, out: &mut O) {
        self.counters.marks += 1;
        // A refused mark (unknown symbol) changes nothing; the mark stage validated it.
        let _ = self
            .engine
            .on_mark(mark.symbol, mark.price, now, &mut self.scratch);
        self.forward(out);
    }

    /// Releases `qty` lots of the open-order reservation of the account at dense index
    /// `account` (the registry keeps it: no id lookup).
    fn release(&mut self, account: u32, symbol: SymbolId, side: Side, qty: i64) {
        if qty > 0 {
            self.engine
                .risk_mut()
                .release_open_at(AccountIdx(account), symbol, side, Qty(qty));
        }
    }

    /// Routes what the liquidation engine emitted.
    fn forward<O: RiskOut>(&mut self, out: &mut O) {
        for i in 0..self.scratch.len() {
            match self.scratch[i] {
                RiskOutput::CancelOrders { account, symbol } => {
                    let Some(idx) = self.engine.risk().index_of(account) else {
                        continue;
                    };
                    let mut cursor = self.registry.first_of(idx.0);
                    while let Some(slot) = cursor {
                        cursor = self.registry.next_of(slot);
                        let entry = self.registry.get_mut(slot);
                        if entry.symbol == symbol {
                            // The liquidation engine released the reservations already.
                            entry.reserved = 0;
                            entry.pending = 0;
                            out.priority(
                                symbol,
                                BookPriority::Cancel(symbol, OrderId(entry.id), slot),
                            );
                        }
                    }
                }
                RiskOutput::Order(order) => {
                    self.counters.liquidation_orders += 1;
                    out.priority(order.symbol, BookPriority::Liquidation(order));
                }
                RiskOutput::Event(event) => out.event(Event::Risk(event)),
            }
        }
        self.scratch.clear();
    }
}
