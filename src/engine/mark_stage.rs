//! The mark stage's state machine: one [`MarkPrice`] per symbol; publishes each new mark to
//! the risk stage (liquidation scan), the symbol's book stage (stops, bands) and the host.

use crate::engine::msg::{Event, MarkPublished, MarketData, MarketInput, Subject};
use crate::engine::words;
use crate::mark::{MarkError, MarkPrice, MarkUpdate};
use crate::types::SymbolId;

/// Where the mark stage's outputs go.
pub(crate) trait MarkOut {
    /// A new mark for the risk stage and the symbol's book stage (and an event for the host).
    fn publish(&mut self, mark: MarkPublished, ts: u64, from_index: bool);
    /// An event for the host.
    fn event(&mut self, event: Event);
}

/// What the mark stage counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkCounters {
    /// Host inputs taken (index ticks, forced marks, clock).
    pub inputs: u64,
    /// Market-data messages taken (trades, book tops).
    pub market_data: u64,
    /// Marks published.
    pub published: u64,
    /// Inputs refused.
    pub rejected: u64,
}

/// The mark stage (see the [engine docs](crate::engine)).
pub(crate) struct MarkStage {
    pub(crate) marks: Vec<Option<MarkPrice>>,
    pub(crate) counters: MarkCounters,
}

impl MarkStage {
    pub(crate) fn new() -> MarkStage {
        MarkStage {
            marks: Vec::new(),
            counters: MarkCounters::default(),
        }
    }

    pub(crate) fn add(&mut self, symbol: SymbolId, mark: MarkPrice) {
        let id = symbol.0 as usize;
        if self.marks.len() <= id {
            self.marks.resize_with(id + 1, || None);
        }
        self.marks[id] = Some(mark);
    }

    pub(crate) fn mark(&self, symbol: SymbolId) -> Option<&MarkPrice> {
        self.marks.get(symbol.0 as usize).and_then(Option::as_ref)
    }

    /// One host input. Timestamps are made monotonic per symbol (an input older than the
    /// symbol's clock is taken at the clock): in a pipelined layout trades and index ticks
    /// reach the stage in an order that timing decides.
    pub(crate) fn on_input<O: MarkOut>(&mut self, ts: u64, input: &MarketInput, out: &mut O) {
        self.counters.inputs += 1;
        match *input {
            MarketInput::Index { symbol, price } => {
                let Some(Some(mark)) = self.marks.get_mut(symbol.0 as usize) else {
                    return self.reject(symbol, "unknown_symbol", out);
                };
                let ts = ts.max(mark.now().unwrap_or(0));
                let result = mark.on_index(ts, price);
                self.result(symbol, result, true, out);
            }
            MarketInput::ForceMark { symbol, price } => {
                let Some(Some(mark)) = self.marks.get_mut(symbol.0 as usize) else {
                    return self.reject(symbol, "unknown_symbol", out);
                };
                let ts = ts.max(mark.now().unwrap_or(0));
                let result = mark.force_mark(ts, price);
                self.result(symbol, result, true, out);
            }
            MarketInput::Clock => {
                for s in 0..self.marks.len() {
                    if let Some(mark) = self.marks[s].as_mut() {
                        let ts = ts.max(mark.now().unwrap_or(0));
                        let result = mark.on_clock(ts);
                        self.result(SymbolId(s as u32), result, false, out);
                    }
                }
            }
        }
    }

    /// One market-data message from a book stage.
    pub(crate) fn on_data<O: MarkOut>(&mut self, ts: u64, data: &MarketData, out: &mut O) {
        self.counters.market_data += 1;
        let symbol = match *data {
            MarketData::Trade { symbol, .. } | MarketData::Top { symbol, .. } => symbol,
        };
        let Some(Some(mark)) = self.marks.get_mut(symbol.0 as usize) else {
            return;
        };
        let ts = ts.max(mark.now().unwrap_or(0));
        let result = match *data {
            MarketData::Trade { price, qty, .. } => mark.on_trade(ts, price, qty),
            MarketData::Top { top, .. } => mark.on_book(ts, top),
        };
        // Book data is valid by construction; a refusal (e.g. a crossed top) changes nothing.
        if let Ok(update) = result {
            self.result(symbol, Ok(update), false, out);
        }
    }

    fn reject<O: MarkOut>(&mut self, symbol: SymbolId, reason: &'static str, out: &mut O) {
        self.counters.rejected += 1;
        out.event(Event::Rejected {
            subject: Subject::Symbol(symbol),
            reason,
        });
    }

    fn result<O: MarkOut>(
        &mut self,
        symbol: SymbolId,
        result: Result<Option<MarkUpdate>, MarkError>,
        from_index: bool,
        out: &mut O,
    ) {
        match result {
            Ok(Some(update)) if update.price_changed => {
                self.counters.published += 1;
                out.publish(
                    MarkPublished {
                        symbol,
                        price: update.price,
                    },
                    update.ts,
                    from_index,
                );
            }
            Ok(_) => {}
            Err(e) => self.reject(symbol, words::mark(e), out),
        }
    }
}
