//! Feeding a scenario into an [`Engine`].

use crate::engine::{Engine, Event, Layout, SendError};
use crate::scenario::{Input, Step};

/// In [`Layout::Single`], [`play`] runs the engine after this many inputs at most: an input
/// waits behind at most this many others, so the latency histograms measure processing rather
/// than a backlog the host built up (one poll of every stage per batch costs little).
pub const SINGLE_BATCH: usize = 64;

/// What [`play`] reports as it goes.
pub trait Observer {
    /// A step is about to be fed (index ticks included).
    fn input(&mut self, step: &Step);
    /// An event came out; `ts` is the logical time of the latest step fed.
    fn event(&mut self, ts: u64, event: &Event);
    /// `done` steps of the scenario have been fed (called every few thousand steps).
    fn progress(&mut self, _done: usize) {}
}

/// Feeds `steps` to `engine` in order and hands every event to `observer`; returns with every
/// step processed ([`Layout::Single`]) or sent ([`Layout::Pinned`]: call
/// [`Engine::shutdown`] to drain).
///
/// Commands (to the risk stage) and market inputs (to the mark stage) travel on different
/// rings. In [`Layout::Single`] the engine is run until idle whenever the kind of input
/// changes, so each index tick is processed after the commands sent before it and before those
/// sent after it: the stream's order holds at every switch; and after every [`SINGLE_BATCH`]
/// inputs. A full ring runs the engine
/// (Single) or yields to its threads (Pinned) and retries; nothing is dropped. In
/// [`Layout::Pinned`] the two rings race, so a tick may overtake commands sent just before it.
///
/// # Examples
///
/// ```
/// use liqcore::engine::{Event, Layout};
/// use liqcore::mark::MarkConfig;
/// use liqcore::risk::LiquidationEvent;
/// use liqcore::scenario::{Observer, Scenario, ScenarioConfig, Step, play};
///
/// struct Liquidations(u64);
/// impl Observer for Liquidations {
///     fn input(&mut self, _step: &Step) {}
///     fn event(&mut self, _ts: u64, event: &Event) {
///         if let Event::Risk(LiquidationEvent::Liquidation { .. }) = event {
///             self.0 += 1;
///         }
///     }
/// }
///
/// let scenario = Scenario::generate(&ScenarioConfig::with_accounts(300));
/// let mut engine = scenario.builder(MarkConfig::median3()).layout(Layout::Single).start().unwrap();
/// let mut count = Liquidations(0);
/// play(&mut engine, &scenario.steps, &mut count);
/// assert!(count.0 > 0, "a 15 % crash liquidates the high-leverage longs");
/// let report = engine.shutdown();
/// assert_eq!(report.risk.risk().total_size(liqcore::types::SymbolId(0)), 0);
/// ```
pub fn play<O: Observer>(engine: &mut Engine, steps: &[Step], observer: &mut O) {
    let single = engine.plan().layout == Layout::Single;
    let mut market_last = None;
    let mut ts = 0;
    let mut batch = 0;
    for (i, step) in steps.iter().enumerate() {
        let market = matches!(step.input, Input::Market(_));
        if single && (batch == SINGLE_BATCH || market_last.is_some_and(|m| m != market)) {
            engine.run_until_idle();
            drain(engine, ts, observer);
            batch = 0;
        }
        batch += 1;
        market_last = Some(market);
        observer.input(step);
        ts = step.ts;
        let mut input = step.input;
        loop {
            let sent = match input {
                Input::Command(c) => engine
                    .send(step.ts, c)
                    .map_err(|e| Input::Command(SendError::into_inner(e))),
                Input::Market(m) => engine
                    .feed(step.ts, m)
                    .map_err(|e| Input::Market(SendError::into_inner(e))),
            };
            match sent {
                Ok(()) => break,
                Err(back) => {
                    input = back;
                    if single {
                        engine.run_until_idle();
                    } else {
                        std::thread::yield_now();
                    }
                    drain(engine, ts, observer);
                }
            }
        }
        if !single && i % 64 == 0 {
            drain(engine, ts, observer);
        }
        if i % 4096 == 0 {
            observer.progress(i);
        }
    }
    engine.run_until_idle();
    drain(engine, ts, observer);
    observer.progress(steps.len());
}

fn drain<O: Observer>(engine: &mut Engine, ts: u64, observer: &mut O) {
    while let Some(event) = engine.try_recv() {
        observer.event(ts, &event);
    }
}
