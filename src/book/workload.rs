//! The exchange-core benchmark workload (DESIGN.md §8), generated up front from a seed.
//!
//! One symbol, `users` accounts, about `target_orders` resting orders spread over roughly 750
//! price levels around the last trade. After a warm-up that fills the book with resting
//! orders, each command is drawn from the mix: 9 % GTC limit, 3 % IOC limit, 6 % cancel or
//! reduce (half each), 82 % move. Sizes are `1 + r³` lots with `r` uniform in `0..=5`. A move
//! shifts a live order's price toward the last trade by 1 % of the gap (at least one tick), or
//! by ±1 tick, so moved orders cross and trade now and then. To hold the book near its target
//! size, a GTC becomes a cancel or reduce above the target and a move becomes a GTC below half of
//! it. Self-trade prevention is off (`none`) so that peer books without it see the same trades.
//!
//! The generator tracks the state with a [`Book`] of its own, so every cancel, reduce and move
//! names an order that is live at that point.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rust_decimal::Decimal;

use super::{Book, BookEvent, Command, OrderCommand, SelfTradePrevention, TimeInForce};
use crate::types::{OrderId, Price, Qty, Side, SymbolId, SymbolSpec};

/// Parameters of [`generate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkloadConfig {
    /// RNG seed: the same seed gives the same commands.
    pub seed: u64,
    /// Commands after the warm-up.
    pub commands: usize,
    /// Number of accounts.
    pub users: u64,
    /// Resting orders the book hovers around.
    pub target_orders: usize,
    /// Initial last-trade price in ticks.
    pub start_price: i64,
}

impl Default for WorkloadConfig {
    /// exchange-core's single-symbol benchmark: 3 M commands, 1000 users, ~1000 orders.
    fn default() -> WorkloadConfig {
        WorkloadConfig {
            seed: 1,
            commands: 3_000_000,
            users: 1000,
            target_orders: 1000,
            start_price: 100_000,
        }
    }
}

/// A generated workload.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The symbol (tick 0.1, lot 0.001).
    pub spec: SymbolSpec,
    /// Book capacity that the workload never exceeds.
    pub capacity: usize,
    /// Commands that fill the book before measuring.
    pub warmup: Vec<Command>,
    /// The measured commands.
    pub commands: Vec<Command>,
}

/// The workload's symbol: tick 0.1, lot 0.001, quantities 1..=10⁶ lots.
#[must_use]
pub fn spec() -> SymbolSpec {
    SymbolSpec::new(SymbolId(0), Decimal::new(1, 1), Decimal::new(1, 3))
        .and_then(|s| s.with_qty_limits(Qty(1), Qty(1_000_000)))
        .unwrap_or_else(|_| unreachable!("constant spec is valid"))
}

/// Half-width, in ticks, of the band new resting orders are placed in.
const SPREAD: i64 = 400;

struct Generator {
    rng: Xoshiro256PlusPlus,
    config: WorkloadConfig,
    book: Book,
    events: Vec<BookEvent>,
    live: Vec<u64>,
    next_id: u64,
}

impl Generator {
    fn size(&mut self) -> i64 {
        let r: i64 = self.rng.random_range(0..=5);
        1 + r * r * r
    }

    fn reference(&self) -> i64 {
        self.book
            .last_trade_price()
            .map_or(self.config.start_price, |p| p.0)
    }

    fn order(&mut self, tif: TimeInForce) -> Command {
        self.next_id += 1;
        let side = if self.rng.random_range(0..2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let reference = self.reference();
        let offset = if tif == TimeInForce::Gtc {
            // Mostly passive, a few ticks of crossing now and then.
            -self.rng.random_range(-3..SPREAD)
        } else {
            self.rng.random_range(0..=60)
        };
        let price = (reference + side.sign() * offset).max(1);
        let qty = self.size();
        let account = self.rng.random_range(0..self.config.users);
        if tif == TimeInForce::Gtc {
            self.live.push(self.next_id);
        }
        Command::Submit(
            OrderCommand::limit(self.next_id, account, side, price, qty)
                .with_tif(tif)
                .with_stp(SelfTradePrevention::None),
        )
    }

    /// A live order id, or `None` if there is none.
    fn pick(&mut self) -> Option<u64> {
        while !self.live.is_empty() {
            let at = self.rng.random_range(0..self.live.len());
            let id = self.live[at];
            if self.book.order(OrderId(id)).is_some() {
                return Some(id);
            }
            self.live.swap_remove(at);
        }
        None
    }

    fn cancel_or_reduce(&mut self) -> Option<Command> {
        let id = self.pick()?;
        let view = self.book.order(OrderId(id))?;
        if self.rng.random_range(0..2) == 0 || view.remaining.0 <= 1 {
            Some(Command::Cancel(OrderId(id)))
        } else {
            let cut = self.rng.random_range(1..view.remaining.0);
            Some(Command::Modify {
                id: OrderId(id),
                price: None,
                qty: Some(Qty(view.remaining.0 - cut)),
            })
        }
    }

    fn move_order(&mut self) -> Option<Command> {
        let id = self.pick()?;
        let view = self.book.order(OrderId(id))?;
        let gap = self.reference() - view.price.0;
        let shift = if self.rng.random_range(0..2) == 0 && gap != 0 {
            gap.signum() * (gap.abs() / 100).max(1)
        } else if self.rng.random_range(0..2) == 0 {
            1
        } else {
            -1
        };
        Some(Command::Modify {
            id: OrderId(id),
            price: Some(Price((view.price.0 + shift).max(1))),
            qty: None,
        })
    }

    fn next(&mut self) -> Command {
        let live = self.book.len();
        let roll = self.rng.random_range(0..100);
        let command = if roll < 9 {
            if live > self.config.target_orders {
                self.cancel_or_reduce()
            } else {
                Some(self.order(TimeInForce::Gtc))
            }
        } else if roll < 12 {
            Some(self.order(TimeInForce::Ioc))
        } else if roll < 18 {
            self.cancel_or_reduce()
        } else if live < self.config.target_orders / 2 {
            Some(self.order(TimeInForce::Gtc))
        } else {
            self.move_order()
        };
        let command = command.unwrap_or_else(|| self.order(TimeInForce::Gtc));
        self.events.clear();
        self.book.apply(&command, &mut self.events);
        command
    }
}

/// Generates the workload for `config`.
#[must_use]
pub fn generate(config: &WorkloadConfig) -> Workload {
    let spec = spec();
    let capacity = config.target_orders.max(16) * 4;
    let mut generator = Generator {
        rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
        config: *config,
        book: Book::new(spec.clone(), capacity),
        events: Vec::with_capacity(1024),
        live: Vec::with_capacity(capacity * 4),
        next_id: 0,
    };
    let mut warmup = Vec::with_capacity(config.target_orders);
    while generator.book.len() < config.target_orders {
        generator.next_id += 1;
        let id = generator.next_id;
        let side = if id.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        let offset = generator.rng.random_range(1..=SPREAD);
        let price = config.start_price - side.sign() * offset;
        let qty = generator.size();
        let account = generator.rng.random_range(0..config.users);
        let command = Command::Submit(
            OrderCommand::limit(id, account, side, price, qty).with_stp(SelfTradePrevention::None),
        );
        generator.live.push(id);
        generator.events.clear();
        generator.book.apply(&command, &mut generator.events);
        warmup.push(command);
    }
    let mut commands = Vec::with_capacity(config.commands);
    for _ in 0..config.commands {
        commands.push(generator.next());
    }
    Workload {
        spec,
        capacity,
        warmup,
        commands,
    }
}
