//! The order book (DESIGN.md §4): one symbol, price-time priority, a single-threaded state
//! machine that writes `Copy` events into a caller-supplied sink and never allocates after
//! construction.
//!
//! # Book layout
//!
//! - **Arena.** Every live order (resting, or an untriggered stop) occupies one 64-byte slot
//!   of a `Vec` allocated at [`Book::new`] for `capacity` orders. Free slots form a singly
//!   linked free list. When the arena is full a command that would need a slot (a GTC limit
//!   order, a stop) is refused with `book_full`; nothing ever grows.
//! - **Levels.** Orders of one price form an intrusive doubly-linked FIFO through the slots'
//!   `prev`/`next` indices, so a cancel is O(1). Each side's levels sit in a *ladder*: a
//!   4096-tick window indexed directly, with a two-level bitmap of non-empty levels (best level
//!   = two `trailing_zeros`), plus a sorted, preallocated vector for levels outside the window.
//!   The window recentres (a quarter window before the best price) when a level is added
//!   outside it while the best price has left the window's first half. Bids are stored under
//!   the key `-price`, asks under `price`, so "smaller key is better" on both sides. Each side
//!   caches its best key (updated when a level is added before it or the best level is
//!   removed) and a flag set when a level at or before the best changes, so the end-of-command
//!   BBO check is skipped when no best level was touched.
//! - **Id map.** Open addressing with linear probing over 4-byte slot indices (the id is read
//!   from the slot), sized to twice the capacity (a power of two), backward-shift deletion: no
//!   tombstones, no rehash. Removing an order whose slot is known (fills, releases) compares
//!   entries with the slot index instead of reading each candidate's slot.
//! - **Trigger index.** Four binary heaps (mark/last × buy/sell) preallocated to the capacity.
//!   Entries carry the slot's generation; cancelled stops leave stale entries that are dropped
//!   when they reach the top (or compacted in place when a heap is full).
//!
//! # Ordering invariant
//!
//! At rest (between commands) the book is never crossed: best bid < best ask. Within a level,
//! orders are in arrival order; an order that loses priority (see below) goes to the back. A
//! taker trades against the best level first and, within it, the oldest order first, always
//! at the maker's price. Every level's total equals the sum of its orders' remaining
//! quantities, and every live order is in the id map ([`Book::check_invariants`]).
//!
//! # Semantics
//!
//! - **Validation** (in this order, first failure wins, book unchanged): quantity
//!   (`invalid_qty`: `min_qty..=max_qty`, liquidation orders `1..=MAX_ORDER_QTY`), prices
//!   (`invalid_price`: `1..=MAX_PRICE` ticks), combinations (`invalid_order`: post-only only on
//!   GTC limits), `duplicate_id`, `no_reference_price` (market order before any mark),
//!   `book_full` (order that needs a slot), `would_cross` (post-only), `fok_unfillable`.
//! - **Limit** GTC rests its remainder; IOC cancels it (`ioc_remainder`); FOK first checks the
//!   fillable depth within its limit (applying self-trade prevention as matching would) and
//!   either fills completely or is refused with no trade.
//! - **Market** orders trade no further than `mark × (1 ± price_band)` rounded to the tick
//!   towards the mark; the rest is cancelled (`market_unfilled`).
//! - **Stops** wait in the trigger index; a buy stop fires when its reference (mark, or the
//!   book's last trade) is at or above its trigger, a sell stop at or below. Due stops fire
//!   one at a time in trigger-price order (time order among equal triggers), categories in the
//!   order mark-buy, mark-sell, last-buy, last-sell, each as a new taker (stop-market: band
//!   around the mark, or the last trade price before any mark). Their trades can fire
//!   last-triggered stops in turn; the cascade runs to completion inside the command.
//! - **Modify semantics**: a new remaining quantity not above the current one at the same price
//!   keeps time priority; a larger quantity at the same price goes to the back of the level;
//!   a new price is a cancel-replace under the same id that trades as a taker if it crosses.
//!   A post-only order is never moved to a crossing price (`would_cross`).
//! - **Self-trade prevention** follows the taker: cancel-taker (default), cancel-maker,
//!   cancel-both, none.
//! - **Reduce-only** is carried and reported; the risk stage sizes such orders.
//! - **Liquidation orders** ([`Book::submit_liquidation`]) flag their trades.
//! - **Events** per command: `Accepted`/`Rejected`/`Modified`, trades and cancels as they
//!   happen, `Triggered` before a stop's own events, and `Bbo` last if the top of book
//!   changed.
//!
//! # Known limitations
//!
//! - Prices and quantities are bounded (`MAX_PRICE`, `MAX_ORDER_QTY`, `MAX_CAPACITY`) so that
//!   level totals and notionals cannot overflow.
//! - Levels outside the ladder window cost a binary search and a `memmove` of the far vector;
//!   a book spread over many thousands of ticks on both sides of the window is slower.
//! - Modifying an untriggered stop changes its quantity or limit price, not its trigger.
//! - The protection band applies to market orders and triggered stop-market orders. A triggered
//!   stop-limit is bounded by its own limit price only (banding it too would leave a GTC
//!   remainder resting at a price that crosses the book).
//! - A stop whose trigger is already reached when it is submitted fires at once, inside the
//!   submitting command (it is not refused).
//! - Cascades of triggered stops run inside one command: a long ladder of stops makes that
//!   command long.
//!
//! # Performance
//!
//! Add, cancel and a non-crossing move are O(1) (a hash probe, a bitmap test or two, a few slot
//! writes). A move that cannot trade (checked against the opposite best first) goes straight
//! from its old level to the back of the new one; only a crossing move takes the
//! cancel-replace path through matching. A trade costs O(1) per maker touched; the makers a
//! taker fills at one level are freed one by one and the level's head, total and existence are
//! written once. Best bid/offer is O(1) (cached best keys). Measured costs (`perf/book.md`):
//! about 25 M commands/s on the exchange-core workload, a median command under 40 ns with the
//! timer, and ~20 ns per additional maker a taker fills. Depth, impact price
//! and FOK checks walk levels in order. Memory: one 64-byte slot per order of capacity plus
//! 8 bytes of id map, two 64 KiB windows, and the preallocated far-level vectors (24 bytes per
//! order per side) and trigger heaps (24 bytes per order per heap) that exist so that no input
//! can make the book allocate ([`Book::memory_bytes`]; measured in `perf/book.md`).

mod arena;
mod command;
mod engine;
mod idmap;
mod ladder;
pub mod reference;
pub mod workload;

pub use command::{
    Bbo, BookEvent, CancelReason, Command, CountingSink, DepthLevel, EventSink, OrderCommand,
    OrderKind, OrderState, OrderView, RejectReason, SelfTradePrevention, TimeInForce, Trade,
    TriggerSource,
};
pub use engine::Book;

use crate::types::Side;

/// Largest accepted price (and trigger price), in ticks.
pub const MAX_PRICE: i64 = 1 << 40;
/// Largest accepted order quantity in lots, whatever the symbol's `max_qty`.
pub const MAX_ORDER_QTY: i64 = 1 << 40;
/// Largest book capacity (live orders).
pub const MAX_CAPACITY: usize = 1 << 22;

/// The protection limit of a market order on `side` around `reference` (ticks) with a band of
/// `band_rate` (units of 10⁻⁸): `reference × (1 ± band)`, rounded to the tick towards the
/// reference (the band is floored), never below 1 tick nor above [`MAX_PRICE`].
#[must_use]
pub const fn band_limit(side: Side, reference: i64, band_rate: i64) -> i64 {
    // Rounds down: the limit never lies beyond the band.
    let delta = (reference as i128 * band_rate as i128 / 100_000_000) as i64;
    match side {
        Side::Buy => {
            let limit = reference.saturating_add(delta);
            if limit > MAX_PRICE { MAX_PRICE } else { limit }
        }
        Side::Sell => {
            let limit = reference - delta;
            if limit < 1 { 1 } else { limit }
        }
    }
}

/// The operations both [`Book`] and [`reference::ReferenceBook`] offer, so tests and tools
/// can drive either with the same code.
pub trait Matcher {
    /// Applies one command, writing its events to `sink`.
    fn apply<S: EventSink>(&mut self, command: &Command, sink: &mut S);
    /// Writes the best `out.len()` levels of `side`, best first; returns how many.
    fn depth(&self, side: Side, out: &mut [DepthLevel]) -> usize;
    /// Best bid and offer.
    fn bbo(&self) -> Bbo;
    /// Live orders (resting plus untriggered stops).
    fn live_orders(&self) -> usize;
}
