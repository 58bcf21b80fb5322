//! The mark-price updater (DESIGN.md §1–§3): a single-threaded state machine that turns index
//! ticks, book snapshots and trades into a mark price — the price liquidations use — in
//! deterministic fixed point.
//!
//! The mark must follow the fair price but ignore a wick in a thin book: a single large order
//! that sweeps a thin side moves the last trade (and the mid) far for a moment while the index
//! stays put. [`MarkMethod::Last`] and [`MarkMethod::Mid`] follow it (they are baselines, kept to
//! show the danger); [`MarkMethod::Median3`] and [`MarkMethod::EmaMedian`] do not (see
//! `tests/mark_wick.rs`).
//!
//! # Layout
//!
//! One [`MarkPrice`] per symbol. It holds the latest inputs (index and its timestamp, a
//! [`BookTop`], the last trade price, an optional external reference, the [`Funding`] state),
//! the current mark and the smoothing state of its method, all preallocated at construction:
//!
//! - `median3`: a [`SampledAverage`] ring of the basis (`mid − index`), `basis_samples` slots;
//! - `ema_median`: two [`DecayingEma`]s (the basis, τ = 150 s, and the local median, τ = 30 s),
//!   each with its [`Decay`] tables (64 + 256 entries).
//!
//! [`Twap`] and [`Vwap`] are standalone components on the same principles (a preallocated ring
//! of time buckets) for hosts that need them (e.g. a funding premium); no method uses them.
//!
//! # Semantics
//!
//! - **Time** is logical milliseconds carried by the inputs; there is no clock inside. An input
//!   older than the latest one is rejected ([`MarkError::TimeWentBackwards`]) and changes
//!   nothing. Every input first *advances* the smoothing to its timestamp — integrating the
//!   values held until then — and is applied afterwards, so inputs that share a timestamp
//!   commute: the mark after them does not depend on their order (except two trades at the same
//!   instant, where "last" is by definition the later one).
//! - **Methods** (config [`MarkMethod`]):
//!   - `last`: the last trade price. `mid`: `(best bid + best ask) / 2`.
//!   - `median3` (Binance/Bybit): median of price 1 = index × (1 + funding basis) (see
//!     [`funding_basis_price`] for the convention), price 2 = index + moving average of
//!     `(mid − index)` sampled every `basis_interval_ms` over `basis_samples` samples (before the
//!     first sample: the current basis), and the last trade price.
//!   - `ema_median` (Hyperliquid): median of index + EMA(`mid − index`, τ = 150 s), the local
//!     median `median(best bid, best ask, last)`, and an external reference price
//!     ([`MarkPrice::on_reference`]) if one is fresh. When only two of the three exist, the
//!     third is an EMA (τ = 30 s) of the local median — as Hyperliquid does — so a one-second
//!     wick in the local median moves it by about 1/30 of the wick.
//!   - With fewer than three components present, [`median_of_present`] applies (two → mean,
//!     one → it).
//!   - The basis uses the BBO mid or, with [`BasisSource::ImpactMid`], the impact mid (absent
//!     while the book is too thin for the impact notional: then the basis is unknown and the
//!     smoothing holds its past).
//! - **Clamp**: with `clamp_band = Some(b)`, the mark (after rounding) is clamped to
//!   `[⌈index·(1−b)⌉, ⌊index·(1+b)⌋]` — bounds rounded inward, so the mark is always inside the
//!   band. A held mark (no component available) is clamped too when a fresh index arrives.
//! - **Staleness**: a method that needs the index (`median3`, `ema_median`, or any method with
//!   a clamp) is *stale* when there is no index yet or it is older than `stale_after_ms`. Then
//!   [`StaleFallback`] decides: hold the mark (default), follow the local median unclamped, or
//!   keep computing with the stale index. Each output carries the flag.
//! - **Output**: [`MarkUpdate`] only when the tick-rounded mark or the stale flag changes, with
//!   the timestamp of the input that caused it. Rounding: to the nearest tick, an exact half
//!   toward the index ([`round_to_tick`]).
//! - **Forced mark** ([`MarkPrice::force_mark`], REPLAY's `mark` op): sets the mark directly,
//!   bypassing smoothing; the next input recomputes it as usual.
//!
//! # Invariants
//!
//! - With a clamp and a fresh index, `lower ≤ mark ≤ upper` after every input.
//! - Every input price is in `1 ..= 2⁴⁰` ticks and every trade quantity in `1 ..= 2⁴⁰` lots, so
//!   no intermediate exceeds `I80F48`/`i128`; all arithmetic saturates or is checked anyway.
//!   A rejected input changes nothing.
//! - No `f64` anywhere in the state; results are bit-identical across runs and platforms.
//!
//! # Known limitations
//!
//! - Index ticks are taken as they come; the index itself (a weighted spot basket with outlier
//!   rules) is the host's business.
//! - `median3`'s moving average samples at fixed instants: a wick that straddles one instant
//!   enters one sample (1/`basis_samples` of its size).
//! - Two trades with the same timestamp: the later one is "last".
//! - A gap longer than the whole sampling window takes `basis_samples` samples in one update
//!   (O(samples) once); an EMA gap is O(1).
//! - The EMA uses the specified discrete weighting (`x·Δt`, not the exact integral
//!   `x·τ·(1 − e^(−Δt/τ))`), so it depends slightly on how often it is advanced: splitting a
//!   step changes the weights by O(Δt/τ). Each input (and [`MarkPrice::on_clock`]) advances it,
//!   so the result is a deterministic function of the input stream, timestamps included.
//! - The external reference goes stale on the index's limit; there is no separate one.
//!
//! # Performance
//!
//! An update is O(1) and, in the common case, divides nothing: a few comparisons, a few
//! 64×64-bit multiplications (the decay factor is one table load for `Δt < 256` ms, else one
//! product per set bit of `Δt`), two exact EMA steps for `ema_median`. The components that are
//! quotients — the EMA read-outs and `median3`'s funding price — are kept undivided
//! (`math::Quotient`; an EMA's read-out is fused with the test) and rounded to a tick by
//! testing the rounding cell of the tick they rounded to last time (two 64×64-bit products);
//! they are divided only when that tick moves by more than one. Since rounding is monotone,
//! the rounded median of three components is the median of the rounded components. The mean
//! of two components (one missing: no reference and the local-median EMA without weight yet,
//! no trade yet, no book) does not commute with rounding: it is rounded whole, both
//! components folded into one quotient whose halving gets the same cell test, so those cases
//! divide nothing either; only a quotient beyond the cell test's bounds is divided (the exact
//! path, `compute_with`). Results stay bit-identical to dividing first: `tests/mark_golden.rs`
//! pins every output bit, `tests/mark_props.rs` checks every mark against the exact value on
//! streams built to reach the rare cases. The output is built without a branch on "did the
//! mark change" (true on about half the updates). Config decisions (needs an index,
//! staleness limit) are made once in [`MarkPrice::new`]; the clamp bounds once per index
//! tick, in `u64` with constant divisors. The sampled average is divided once per sample, not
//! per update. No allocation after [`MarkPrice::new`] (checked by `tests/mark_alloc.rs`), no
//! locks, no syscalls, no panics. Measured per update (`cargo run --release -p liqcore-tools
//! --bin compare -- mark`, AMD EPYC KVM guest, 2 cores shared with other builds, ~10 ns of
//! timer overhead included; runs, spread and method in `perf/mark.md`): p50 `last`/`mid`
//! 20 ns, `median3` 30 ns, `ema_median` 40 ns and 50 ns without a reference; p99 40, 60, 70
//! and 80–90 ns (medians of alternating runs; single runs up to 110 ns under load).

mod ema;
mod funding;
mod math;
mod sampled;
mod window;

use fixed::types::I80F48;

pub use ema::DecayingEma;
use funding::funding_adjustment;
pub use funding::{
    Funding, FundingConvention, HOUR_MS, MAX_FUNDING_INTERVAL_MS, funding_basis_price,
};
pub use math::{
    Decay, MAX_PRICE_TICKS, MAX_TAU_MS, MAX_TRADE_QTY, median_of_present, median3, ratio_to_fixed,
    round_to_tick,
};
pub use sampled::{SampledAverage, SampledError};
pub use window::{Twap, Vwap, WindowError};

use math::{Quotient, mean2, round_half_ticks, ticks};

use crate::types::{Price, Qty, Rate};

/// A book snapshot as the mark stage needs it: best bid and ask, and the impact prices (average
/// fill price of a market sell / buy of the configured impact notional; `None` when the book
/// cannot fill it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookTop {
    /// Best bid, if any.
    pub best_bid: Option<Price>,
    /// Best ask, if any.
    pub best_ask: Option<Price>,
    /// Impact bid: average price of selling the impact notional into the bids.
    pub impact_bid: Option<Price>,
    /// Impact ask: average price of buying the impact notional from the asks.
    pub impact_ask: Option<Price>,
}

/// Which mid the basis (`mid − index`) uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BasisSource {
    /// `(best bid + best ask) / 2`.
    #[default]
    Mid,
    /// `(impact bid + impact ask) / 2`: harder to move with a small order.
    ImpactMid,
}

/// What a stale (or missing) index does to a method that needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StaleFallback {
    /// Keep the current mark until the index is fresh again (default: no liquidation on a
    /// thin book alone).
    #[default]
    HoldMark,
    /// Follow `median(best bid, best ask, last)`, unclamped.
    LocalMedian,
    /// Keep computing (and clamping) with the last index, however old.
    StaleIndex,
}

/// Parameters of `median3` (Binance/Bybit style).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Median3Config {
    /// Interval between basis samples (default 60,000 ms: one a minute).
    pub basis_interval_ms: u64,
    /// Samples in the moving average (default 30: a 30-minute average).
    pub basis_samples: u32,
    /// Mid used for the basis (default [`BasisSource::Mid`]).
    pub basis_source: BasisSource,
    /// Funding convention of price 1 (default [`FundingConvention::HoursUntilFunding`]).
    pub funding_convention: FundingConvention,
}

impl Default for Median3Config {
    fn default() -> Median3Config {
        Median3Config {
            basis_interval_ms: 60_000,
            basis_samples: 30,
            basis_source: BasisSource::Mid,
            funding_convention: FundingConvention::HoursUntilFunding,
        }
    }
}

/// Parameters of `ema_median` (Hyperliquid style).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmaMedianConfig {
    /// Time constant of the basis EMA (default 150,000 ms).
    pub basis_tau_ms: u64,
    /// Time constant of the local-median EMA used when only two components exist (default
    /// 30,000 ms).
    pub local_tau_ms: u64,
    /// Mid used for the basis (default [`BasisSource::Mid`]).
    pub basis_source: BasisSource,
}

impl Default for EmaMedianConfig {
    fn default() -> EmaMedianConfig {
        EmaMedianConfig {
            basis_tau_ms: 150_000,
            local_tau_ms: 30_000,
            basis_source: BasisSource::Mid,
        }
    }
}

/// How the mark is computed (REPLAY's `mark.method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkMethod {
    /// The last trade price (baseline: a wick moves it fully).
    Last,
    /// The BBO mid (baseline: a swept side moves it by half the sweep).
    Mid,
    /// Median of funding-basis price, index + sampled basis MA, and last (default).
    Median3(Median3Config),
    /// Median of index + basis EMA, local median and an external reference.
    EmaMedian(EmaMedianConfig),
}

impl Default for MarkMethod {
    fn default() -> MarkMethod {
        MarkMethod::Median3(Median3Config::default())
    }
}

/// Configuration of one symbol's mark price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarkConfig {
    /// The method.
    pub method: MarkMethod,
    /// Clamp of the mark to index × (1 ± band); `None`: no clamp. Must be in `(0, 1)`.
    pub clamp_band: Option<Rate>,
    /// Index age (ms) beyond which it is stale; `None`: never stale once seen.
    pub stale_after_ms: Option<u64>,
    /// What a stale index does.
    pub stale_fallback: StaleFallback,
}

impl MarkConfig {
    /// `last` with no clamp (baseline).
    #[must_use]
    pub fn last() -> MarkConfig {
        MarkConfig {
            method: MarkMethod::Last,
            clamp_band: None,
            stale_after_ms: None,
            stale_fallback: StaleFallback::HoldMark,
        }
    }

    /// `mid` with no clamp (baseline).
    #[must_use]
    pub fn mid() -> MarkConfig {
        MarkConfig {
            method: MarkMethod::Mid,
            ..MarkConfig::last()
        }
    }

    /// `median3` with default parameters, a 5 % clamp and a 10 s staleness limit.
    #[must_use]
    pub fn median3() -> MarkConfig {
        MarkConfig {
            method: MarkMethod::Median3(Median3Config::default()),
            clamp_band: Some(Rate(5_000_000)),
            stale_after_ms: Some(10_000),
            stale_fallback: StaleFallback::HoldMark,
        }
    }

    /// `ema_median` with default parameters, a 5 % clamp and a 10 s staleness limit.
    #[must_use]
    pub fn ema_median() -> MarkConfig {
        MarkConfig {
            method: MarkMethod::EmaMedian(EmaMedianConfig::default()),
            ..MarkConfig::median3()
        }
    }

    /// The same configuration with another clamp band.
    #[must_use]
    pub fn with_clamp(mut self, band: Option<Rate>) -> MarkConfig {
        self.clamp_band = band;
        self
    }

    /// The same configuration with another staleness limit and fallback.
    #[must_use]
    pub fn with_staleness(mut self, after_ms: Option<u64>, fallback: StaleFallback) -> MarkConfig {
        self.stale_after_ms = after_ms;
        self.stale_fallback = fallback;
        self
    }
}

impl Default for MarkConfig {
    /// [`MarkConfig::median3`].
    fn default() -> MarkConfig {
        MarkConfig::median3()
    }
}

/// Why a [`MarkConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The clamp band is not in `(0, 1)`.
    #[error("clamp band must be in (0, 1)")]
    BadClampBand,
    /// An EMA time constant is not in `1 ..= 2³⁰` ms.
    #[error("tau must be in 1..=2^30 ms")]
    BadTau,
    /// The basis sampling interval is zero or the sample count is not in `1..=65536`.
    #[error("basis sampling: interval must be positive, samples in 1..=65536")]
    BadSampling,
}

/// Why an input was refused (snake_case reasons in the REPLAY style). A refused input changes
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarkError {
    /// A price is not in `1 ..= 2⁴⁰` ticks.
    #[error("price_out_of_range")]
    PriceOutOfRange,
    /// A trade quantity is not in `1 ..= 2⁴⁰` lots.
    #[error("qty_out_of_range")]
    QtyOutOfRange,
    /// Best bid ≥ best ask, or impact bid > impact ask.
    #[error("crossed_book")]
    CrossedBook,
    /// The timestamp is older than the latest input's: feed inputs in time order.
    #[error("time_went_backwards")]
    TimeWentBackwards,
    /// The funding rate is beyond ±1 or the interval outside `1 ..= 2³²` ms.
    #[error("funding_out_of_range")]
    FundingOutOfRange,
}

/// A new mark price (or a change of its stale flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarkUpdate {
    /// The mark in ticks.
    pub price: Price,
    /// Timestamp (logical ms) of the input that caused the change, for latency accounting.
    pub ts: u64,
    /// `true` while the index is stale or missing and the fallback is in force.
    pub stale: bool,
    /// `false` when only the stale flag changed (REPLAY prints a `mark` event only when
    /// `price_changed`).
    pub price_changed: bool,
}

/// The components a method saw at the last input, for inspection and tests (ticks, fixed
/// point, before rounding and clamping).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Components {
    /// `median3` price 1 (index × funding basis).
    pub funding_price: Option<I80F48>,
    /// `median3` price 2 (index + basis MA) or `ema_median`'s index + basis EMA.
    pub basis_price: Option<I80F48>,
    /// `median(best bid, best ask, last)`.
    pub local_median: Option<I80F48>,
    /// EMA of the local median (`ema_median`).
    pub local_median_ema: Option<I80F48>,
    /// The method's result before rounding and clamping.
    pub raw: Option<I80F48>,
}

/// `repr(u8)`: an explicit one-byte tag, so telling the methods apart (three times an
/// update) is one byte compare instead of decoding a niche in a field.
#[derive(Clone, Debug)]
#[repr(u8)]
enum MethodState {
    Last,
    Mid,
    Median3 {
        config: Median3Config,
        basis_average: SampledAverage,
    },
    EmaMedian {
        config: EmaMedianConfig,
        basis_ema: DecayingEma,
        local_ema: DecayingEma,
    },
}

/// One symbol's mark-price state machine (see the module docs).
///
/// # Examples
///
/// ```
/// use liqcore::mark::{BookTop, MarkConfig, MarkPrice};
/// use liqcore::types::{Price, Qty};
/// let mut mark = MarkPrice::new(MarkConfig::median3()).unwrap();
/// let update = mark.on_index(0, Price(20_000)).unwrap().unwrap();
/// assert_eq!((update.price, update.ts), (Price(20_000), 0));
/// let book = BookTop { best_bid: Some(Price(19_999)), best_ask: Some(Price(20_001)), ..BookTop::default() };
/// assert!(mark.on_book(0, book).unwrap().is_none()); // unchanged: no output
/// mark.on_trade(0, Price(20_000), Qty(1)).unwrap();
/// // A wick in the last trade does not move the mark.
/// assert!(mark.on_trade(1_000, Price(18_000), Qty(50)).unwrap().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct MarkPrice {
    config: MarkConfig,
    state: MethodState,
    now: Option<u64>,
    index: Option<Price>,
    index_ts: u64,
    /// Clamp bounds for the current index (inclusive), if a band is configured.
    band: Option<(Price, Price)>,
    book: BookTop,
    last_trade: Option<Price>,
    reference: Option<Price>,
    reference_ts: u64,
    funding: Funding,
    mark: Option<Price>,
    stale: bool,
    /// From the config, decided once: a method that needs the index (`median3`, `ema_median`,
    /// or any with a clamp) is stale without a fresh one.
    needs_index: bool,
    /// `config.stale_after_ms`, `u64::MAX` for "never stale" (one comparison per read).
    stale_limit_ms: u64,
    /// Last rounded ticks of the divided components — the funding or basis-EMA offset from the
    /// index, the local-median EMA, and the mean of two components (when one is missing) — so
    /// `Quotient`'s cell test checks these cells before dividing.
    tick_hints: [i64; 3],
}

fn check_price(price: Price) -> Result<(), MarkError> {
    if (1..=MAX_PRICE_TICKS).contains(&price.0) {
        Ok(())
    } else {
        Err(MarkError::PriceOutOfRange)
    }
}

fn check_optional(price: Option<Price>) -> Result<(), MarkError> {
    price.map_or(Ok(()), check_price)
}

/// `(a + b) / 2` of two tick prices, exact.
fn mid_of(a: Option<Price>, b: Option<Price>) -> Option<I80F48> {
    let (a, b) = (a?, b?);
    // Both are in 1..=2⁴⁰ (checked at input): the sum fits, and halving is a shift.
    Some(I80F48::from_bits((i128::from(a.0) + i128::from(b.0)) << 47))
}

impl MarkPrice {
    /// A mark-price state machine with everything preallocated.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a clamp band outside `(0, 1)`, a τ outside `1 ..= 2³⁰` ms or bad
    /// basis sampling.
    pub fn new(config: MarkConfig) -> Result<MarkPrice, ConfigError> {
        if let Some(band) = config.clamp_band
            && (band <= Rate::ZERO || band >= Rate::ONE)
        {
            return Err(ConfigError::BadClampBand);
        }
        let state = match config.method {
            MarkMethod::Last => MethodState::Last,
            MarkMethod::Mid => MethodState::Mid,
            MarkMethod::Median3(method) => MethodState::Median3 {
                config: method,
                basis_average: SampledAverage::new(method.basis_interval_ms, method.basis_samples)
                    .map_err(|_| ConfigError::BadSampling)?,
            },
            MarkMethod::EmaMedian(method) => MethodState::EmaMedian {
                config: method,
                basis_ema: DecayingEma::new(method.basis_tau_ms).ok_or(ConfigError::BadTau)?,
                local_ema: DecayingEma::new(method.local_tau_ms).ok_or(ConfigError::BadTau)?,
            },
        };
        let needs_index = config.clamp_band.is_some()
            || matches!(
                state,
                MethodState::Median3 { .. } | MethodState::EmaMedian { .. }
            );
        Ok(MarkPrice {
            needs_index,
            stale_limit_ms: config.stale_after_ms.unwrap_or(u64::MAX),
            config,
            state,
            now: None,
            index: None,
            index_ts: 0,
            band: None,
            book: BookTop::default(),
            last_trade: None,
            reference: None,
            reference_ts: 0,
            funding: Funding::default(),
            mark: None,
            stale: false,
            tick_hints: [0; 3],
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MarkConfig {
        &self.config
    }

    /// The current mark, if any.
    #[must_use]
    pub fn mark(&self) -> Option<Price> {
        self.mark
    }

    /// Whether the last input found the index stale (see [`StaleFallback`]).
    #[must_use]
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// The latest logical time seen.
    #[must_use]
    pub fn now(&self) -> Option<u64> {
        self.now
    }

    /// The clamp bounds `(lower, upper)` for the current index, if a band is configured.
    #[must_use]
    pub fn clamp_bounds(&self) -> Option<(Price, Price)> {
        self.band
    }

    /// An external index tick.
    ///
    /// # Errors
    ///
    /// [`MarkError::PriceOutOfRange`], [`MarkError::TimeWentBackwards`].
    pub fn on_index(&mut self, ts: u64, price: Price) -> Result<Option<MarkUpdate>, MarkError> {
        check_price(price)?;
        self.check_time(ts)?;
        self.advance(ts);
        self.index = Some(price);
        self.index_ts = ts;
        self.band = self.config.clamp_band.map(|band| band_bounds(price, band));
        Ok(self.refresh(ts))
    }

    /// A book snapshot (BBO and impact prices).
    ///
    /// # Errors
    ///
    /// [`MarkError::PriceOutOfRange`], [`MarkError::CrossedBook`],
    /// [`MarkError::TimeWentBackwards`].
    pub fn on_book(&mut self, ts: u64, book: BookTop) -> Result<Option<MarkUpdate>, MarkError> {
        check_optional(book.best_bid)?;
        check_optional(book.best_ask)?;
        check_optional(book.impact_bid)?;
        check_optional(book.impact_ask)?;
        if let (Some(bid), Some(ask)) = (book.best_bid, book.best_ask)
            && bid >= ask
        {
            return Err(MarkError::CrossedBook);
        }
        if let (Some(bid), Some(ask)) = (book.impact_bid, book.impact_ask)
            && bid > ask
        {
            return Err(MarkError::CrossedBook);
        }
        self.check_time(ts)?;
        self.advance(ts);
        self.book = book;
        Ok(self.refresh(ts))
    }

    /// A trade of this symbol's book.
    ///
    /// # Errors
    ///
    /// [`MarkError::PriceOutOfRange`], [`MarkError::QtyOutOfRange`],
    /// [`MarkError::TimeWentBackwards`].
    pub fn on_trade(
        &mut self,
        ts: u64,
        price: Price,
        qty: Qty,
    ) -> Result<Option<MarkUpdate>, MarkError> {
        check_price(price)?;
        if !(1..=MAX_TRADE_QTY).contains(&qty.0) {
            return Err(MarkError::QtyOutOfRange);
        }
        self.check_time(ts)?;
        self.advance(ts);
        self.last_trade = Some(price);
        Ok(self.refresh(ts))
    }

    /// An external reference price (`ema_median`'s third component, e.g. other venues' mids);
    /// it goes stale like the index.
    ///
    /// # Errors
    ///
    /// [`MarkError::PriceOutOfRange`], [`MarkError::TimeWentBackwards`].
    pub fn on_reference(&mut self, ts: u64, price: Price) -> Result<Option<MarkUpdate>, MarkError> {
        check_price(price)?;
        self.check_time(ts)?;
        self.advance(ts);
        self.reference = Some(price);
        self.reference_ts = ts;
        Ok(self.refresh(ts))
    }

    /// New funding state (rate, next funding time, interval) for `median3`'s price 1.
    ///
    /// # Errors
    ///
    /// [`MarkError::FundingOutOfRange`], [`MarkError::TimeWentBackwards`].
    pub fn on_funding(
        &mut self,
        ts: u64,
        funding: Funding,
    ) -> Result<Option<MarkUpdate>, MarkError> {
        if !funding.is_valid() {
            return Err(MarkError::FundingOutOfRange);
        }
        self.check_time(ts)?;
        self.advance(ts);
        self.funding = funding;
        Ok(self.refresh(ts))
    }

    /// Time passes with no new input (lets smoothing and staleness move).
    ///
    /// # Errors
    ///
    /// [`MarkError::TimeWentBackwards`].
    pub fn on_clock(&mut self, ts: u64) -> Result<Option<MarkUpdate>, MarkError> {
        self.check_time(ts)?;
        self.advance(ts);
        Ok(self.refresh(ts))
    }

    /// Forces the mark (REPLAY's `mark` op): no smoothing, no clamp; the next input recomputes
    /// the mark as usual. Smoothing state still advances to `ts`.
    ///
    /// # Errors
    ///
    /// [`MarkError::PriceOutOfRange`], [`MarkError::TimeWentBackwards`].
    pub fn force_mark(&mut self, ts: u64, price: Price) -> Result<Option<MarkUpdate>, MarkError> {
        check_price(price)?;
        self.check_time(ts)?;
        self.advance(ts);
        if self.mark == Some(price) {
            return Ok(None);
        }
        self.mark = Some(price);
        Ok(Some(MarkUpdate {
            price,
            ts,
            stale: self.stale,
            price_changed: true,
        }))
    }

    /// The components the method sees now (for inspection and tests).
    #[must_use]
    pub fn components(&self) -> Components {
        let now = self.now.unwrap_or(0);
        let mut components = Components {
            local_median: self.local_median(),
            raw: self.compute(now).0,
            ..Components::default()
        };
        match &self.state {
            MethodState::Last | MethodState::Mid => {}
            MethodState::Median3 {
                config,
                basis_average,
            } => {
                components.funding_price = self.funding_price(config, now);
                components.basis_price =
                    self.basis_price(basis_average.value(), config.basis_source);
            }
            MethodState::EmaMedian {
                config,
                basis_ema,
                local_ema,
            } => {
                components.basis_price = self.basis_price(basis_ema.value(), config.basis_source);
                components.local_median_ema = local_ema.value();
            }
        }
        components
    }

    fn check_time(&self, ts: u64) -> Result<(), MarkError> {
        match self.now {
            Some(now) if ts < now => Err(MarkError::TimeWentBackwards),
            _ => Ok(()),
        }
    }

    /// Integrates the held values up to `ts` (before the input is applied).
    fn advance(&mut self, ts: u64) {
        self.now = Some(ts);
        match &mut self.state {
            MethodState::Last | MethodState::Mid => {}
            MethodState::Median3 { basis_average, .. } => basis_average.advance(ts),
            MethodState::EmaMedian {
                basis_ema,
                local_ema,
                ..
            } => {
                basis_ema.advance(ts);
                local_ema.advance(ts);
            }
        }
    }

    fn mid(&self, source: BasisSource) -> Option<I80F48> {
        match source {
            BasisSource::Mid => mid_of(self.book.best_bid, self.book.best_ask),
            BasisSource::ImpactMid => mid_of(self.book.impact_bid, self.book.impact_ask),
        }
    }

    /// `mid − index`, exact (half ticks, computed in integers).
    fn basis(&self, source: BasisSource) -> Option<I80F48> {
        let (bid, ask) = match source {
            BasisSource::Mid => (self.book.best_bid?, self.book.best_ask?),
            BasisSource::ImpactMid => (self.book.impact_bid?, self.book.impact_ask?),
        };
        // All three are in 1..=2⁴⁰: bid + ask − 2·index fits i64 easily.
        let doubled = bid.0 + ask.0 - 2 * self.index?.0;
        Some(I80F48::from_bits(i128::from(doubled) << 47))
    }

    /// `median(best bid, best ask, last)` of those present, in integers (two → their exact
    /// mean, a half tick at worst).
    fn local_median(&self) -> Option<I80F48> {
        self.local_median_doubled().map(half_ticks)
    }

    /// [`MarkPrice::local_median`] doubled (in half ticks), exact in `i64`.
    #[inline]
    fn local_median_doubled(&self) -> Option<i64> {
        match (self.book.best_bid, self.book.best_ask, self.last_trade) {
            (Some(a), Some(b), Some(c)) => Some(2 * a.0.min(b.0).max(c.0.min(a.0.max(b.0)))),
            (Some(x), Some(y), None) | (Some(x), None, Some(y)) | (None, Some(x), Some(y)) => {
                Some(x.0 + y.0)
            }
            (Some(x), None, None) | (None, Some(x), None) | (None, None, Some(x)) => Some(2 * x.0),
            (None, None, None) => None,
        }
    }

    /// index + (smoothed basis, or the current basis before the smoothing has any weight).
    fn basis_price(&self, smoothed: Option<I80F48>, source: BasisSource) -> Option<I80F48> {
        let index = ticks(self.index?);
        let basis = smoothed.or_else(|| self.basis(source))?;
        index.checked_add(basis)
    }

    fn funding_price(&self, config: &Median3Config, now: u64) -> Option<I80F48> {
        funding_basis_price(self.index?, &self.funding, now, config.funding_convention)
    }

    #[inline]
    fn index_is_fresh(&self, now: u64) -> bool {
        self.index.is_some() && now.saturating_sub(self.index_ts) <= self.stale_limit_ms
    }

    fn reference_if_fresh(&self, now: u64) -> Option<I80F48> {
        self.reference_price_if_fresh(now).map(ticks)
    }

    #[inline]
    fn reference_price_if_fresh(&self, now: u64) -> Option<Price> {
        let fresh = now.saturating_sub(self.reference_ts) <= self.stale_limit_ms;
        if fresh { self.reference } else { None }
    }

    #[inline]
    fn needs_index(&self) -> bool {
        self.needs_index
    }

    /// The method's value before rounding and clamping, and whether the index is stale.
    fn compute(&self, now: u64) -> (Option<I80F48>, bool) {
        self.compute_with(now, self.local_median())
    }

    /// [`MarkPrice::compute`] with the local median already at hand.
    fn compute_with(&self, now: u64, local: Option<I80F48>) -> (Option<I80F48>, bool) {
        let stale = self.needs_index() && !self.index_is_fresh(now);
        if stale {
            match self.config.stale_fallback {
                StaleFallback::HoldMark => return (None, true),
                StaleFallback::LocalMedian => return (local, true),
                StaleFallback::StaleIndex => {}
            }
        }
        let value = match &self.state {
            MethodState::Last => self.last_trade.map(ticks),
            MethodState::Mid => self.mid(BasisSource::Mid),
            MethodState::Median3 {
                config,
                basis_average,
            } => median_of_present(
                self.funding_price(config, now),
                self.basis_price(basis_average.value(), config.basis_source),
                self.last_trade.map(ticks),
            ),
            MethodState::EmaMedian {
                config,
                basis_ema,
                local_ema,
            } => {
                let basis_price = self.basis_price(basis_ema.value(), config.basis_source);
                let reference = self.reference_if_fresh(now);
                match (basis_price, local, reference) {
                    (Some(a), Some(b), Some(c)) => Some(median3(a, b, c)),
                    // Hyperliquid: with two components, the local median's EMA is the third.
                    (Some(x), Some(y), None)
                    | (Some(x), None, Some(y))
                    | (None, Some(x), Some(y)) => {
                        median_of_present(Some(x), Some(y), local_ema.value())
                    }
                    (Some(x), None, None) | (None, Some(x), None) | (None, None, Some(x)) => {
                        Some(x)
                    }
                    (None, None, None) => None,
                }
            }
        };
        (value, stale)
    }

    /// After an input: refreshes the held values of the smoothing, recomputes the mark and
    /// reports a change.
    fn refresh(&mut self, ts: u64) -> Option<MarkUpdate> {
        let local_doubled = self.local_median_doubled();
        let held_local = local_doubled.map(half_ticks);
        let held_basis = match &self.state {
            MethodState::Last | MethodState::Mid => None,
            MethodState::Median3 { config, .. } => self.basis(config.basis_source),
            MethodState::EmaMedian { config, .. } => self.basis(config.basis_source),
        };
        match &mut self.state {
            MethodState::Last | MethodState::Mid => {}
            MethodState::Median3 { basis_average, .. } => basis_average.hold(held_basis),
            MethodState::EmaMedian {
                basis_ema,
                local_ema,
                ..
            } => {
                basis_ema.hold(held_basis);
                local_ema.hold(held_local);
            }
        }
        self.publish(ts, local_doubled)
    }

    /// The method's value **rounded to a tick** (before clamping) and whether the index is
    /// stale: `compute_with(now, local).0.map(|v| round_to_tick(v, self.index))`, bit for bit,
    /// but without a division in the common cases.
    ///
    /// Rounding is monotone (for a fixed index), so the rounded median of three values is the
    /// median of the three rounded values; each divided component (funding price, basis-EMA
    /// price, local-median EMA) is then rounded from its undivided `Quotient` by a cell test
    /// around the tick it rounded to last time. The mean of two components does not commute
    /// with rounding: it is rounded whole, from one quotient holding both components
    /// ([`MarkPrice::compute_rounded_rare`], with the other missing-component cases). Only a
    /// quotient beyond the cell test's bounds that dividing cannot settle takes the exact path.
    #[inline]
    fn compute_rounded(&mut self, now: u64, local_doubled: Option<i64>) -> (Option<Price>, bool) {
        let stale = self.needs_index() && !self.index_is_fresh(now);
        let index = self.index;
        // Ties go toward the index; without one, down (as `round_to_tick(_, None)`).
        let toward = index.map_or(i64::MIN, |price| price.0);
        let round = |value: I80F48| round_to_tick(value, index);
        let round_half = |doubled: i64| Price(round_half_ticks(doubled, toward));
        if stale {
            match self.config.stale_fallback {
                StaleFallback::HoldMark => return (None, true),
                StaleFallback::LocalMedian => return (local_doubled.map(round_half), true),
                StaleFallback::StaleIndex => {}
            }
        }
        let fast = match &self.state {
            MethodState::Last => return (self.last_trade, stale),
            MethodState::Mid => {
                let mid = match (self.book.best_bid, self.book.best_ask) {
                    (Some(bid), Some(ask)) => Some(round_half(bid.0 + ask.0)),
                    _ => None,
                };
                return (mid, stale);
            }
            MethodState::Median3 {
                config,
                basis_average,
            } => match (
                index,
                basis_average
                    .value()
                    .and_then(|average| self.basis_price(Some(average), config.basis_source)),
                self.last_trade,
            ) {
                (Some(index_price), Some(basis_price), Some(last)) => {
                    // Price 1 = index + adjustment: rounded as `index + round(adjustment)`
                    // with ties toward zero (see `shifted_round`), so the remembered tick
                    // survives index moves.
                    match funding_adjustment(
                        index_price,
                        &self.funding,
                        now,
                        config.funding_convention,
                    ) {
                        Some(adjustment) => {
                            shifted_round(&adjustment, &mut self.tick_hints[0], index_price)
                                .map(|funding| median3_ticks(funding, round(basis_price), last))
                        }
                        None => None,
                    }
                }
                _ => None,
            },
            MethodState::EmaMedian {
                basis_ema,
                local_ema,
                ..
            } => {
                let reference = self.reference_price_if_fresh(now);
                let local = local_doubled.map(round_half);
                // index + basis EMA, rounded as `index + round(EMA)` (see `shifted_round`).
                let basis = match index {
                    Some(index_price) => basis_ema
                        .round_with_hint(&mut self.tick_hints[0], 0)
                        .and_then(|offset| index_price.0.checked_add(offset.0))
                        .map(Price),
                    None => None,
                };
                match (basis, local, reference) {
                    (Some(basis), Some(local), Some(reference)) => {
                        Some(median3_ticks(basis, local, reference))
                    }
                    // Two components: the third is the local median's EMA (if it has weight).
                    (Some(basis), Some(other), None) | (Some(basis), None, Some(other)) => {
                        local_ema
                            .round_with_hint(&mut self.tick_hints[1], toward)
                            .map(|local_smooth| median3_ticks(basis, other, local_smooth))
                    }
                    _ => None,
                }
            }
        };
        if let Some(price) = fast {
            return (Some(price), stale);
        }
        match self.compute_rounded_rare(now, local_doubled) {
            Some(rounded) => (rounded, stale),
            None => {
                let (raw, stale) = self.compute_with(now, local_doubled.map(half_ticks));
                (raw.map(round), stale)
            }
        }
    }

    /// The cases [`MarkPrice::compute_rounded`]'s inline path leaves — a missing component
    /// (two → their mean, one → it), smoothing without weight yet — with the values and
    /// rules of [`MarkPrice::compute_with`], rounded, without dividing unless a cell test
    /// misses. `Some(None)`: no value; `None`: only the exact path can tell (a quotient beyond
    /// the fast bounds). Not for `last` / `mid`, and after the stale fallbacks.
    #[cold]
    #[inline(never)]
    fn compute_rounded_rare(
        &mut self,
        now: u64,
        local_doubled: Option<i64>,
    ) -> Option<Option<Price>> {
        let index = self.index;
        // Ties toward the index; without one, down (as `round_to_tick(_, None)`).
        let toward = index.map_or(i64::MIN, |price| price.0);
        let exact = |value: I80F48| Part::Exact(value);
        let (a, b, c, third) = match &self.state {
            MethodState::Last | MethodState::Mid => return None,
            MethodState::Median3 {
                config,
                basis_average,
            } => (
                index.and_then(|index| {
                    funding_adjustment(index, &self.funding, now, config.funding_convention)
                        .map(|adjustment| Part::Shifted(adjustment, index))
                }),
                self.basis_price(basis_average.value(), config.basis_source)
                    .map(exact),
                self.last_trade.map(ticks).map(exact),
                // median_of_present: two components → their mean.
                None,
            ),
            MethodState::EmaMedian {
                config,
                basis_ema,
                local_ema,
            } => (
                match (index, basis_ema.quotient()) {
                    (Some(index), Some(smoothed)) => Some(Part::Shifted(smoothed, index)),
                    // No weight yet: index + the current basis (exact).
                    _ => self.basis_price(None, config.basis_source).map(exact),
                },
                local_doubled.map(half_ticks).map(exact),
                self.reference_price_if_fresh(now).map(ticks).map(exact),
                // Hyperliquid: with two components, the local median's EMA is the third.
                local_ema.quotient().map(Part::Plain),
            ),
        };
        let hints = &mut self.tick_hints;
        let rounded = match (a, b, c) {
            (Some(a), Some(b), Some(c)) => median3_ticks(
                a.round(hints, index, toward)?,
                b.round(hints, index, toward)?,
                c.round(hints, index, toward)?,
            ),
            (Some(x), Some(y), None) | (Some(x), None, Some(y)) | (None, Some(x), Some(y)) => {
                match third {
                    Some(third) => median3_ticks(
                        x.round(hints, index, toward)?,
                        y.round(hints, index, toward)?,
                        third.round(hints, index, toward)?,
                    ),
                    None => Part::round_mean(x, y, hints, index, toward)?,
                }
            }
            (Some(x), None, None) | (None, Some(x), None) | (None, None, Some(x)) => {
                x.round(hints, index, toward)?
            }
            (None, None, None) => return Some(None),
        };
        Some(Some(rounded))
    }

    fn publish(&mut self, ts: u64, local_doubled: Option<i64>) -> Option<MarkUpdate> {
        let (rounded, stale) = self.compute_rounded(ts, local_doubled);
        let clamp = !(stale && self.config.stale_fallback == StaleFallback::LocalMedian);
        // Without a value the mark holds — but it is still clamped to a fresh index's band, so
        // the band invariant holds after every input.
        let unclamped = rounded.or(self.mark);
        let target = match (unclamped, self.band) {
            (Some(price), Some((lower, upper))) if clamp && !(stale && rounded.is_none()) => {
                // Not `clamp`: no panic path for `lower > upper` (`band_bounds` never gives it).
                Some(price.max(lower).min(upper))
            }
            (price, _) => price,
        };
        let stale_changed = stale != self.stale;
        self.stale = stale;
        let price = target?;
        let price_changed = self.mark != Some(price);
        self.mark = Some(price);
        // The price changes on about half the updates, so a branch on it would mispredict on
        // about half of them. Written as "the update, cleared if unchanged", the answer
        // compiles to its fields and one conditional move of the `Option` tag (`|`, not `||`).
        let mut update = Some(MarkUpdate {
            price,
            ts,
            stale,
            price_changed,
        });
        if !(price_changed | stale_changed) {
            update = None;
        }
        update
    }
}

/// `round_to_tick(index + value, Some(index))` for an undivided `value`, as
/// `index + round_to_tick(value, Some(0))`: the floor and the fraction of `index + value` are
/// `index + ⌊value⌋` and `value`'s, and a tie goes up iff `index > index + ⌊value⌋`, i.e. iff
/// `0 > ⌊value⌋` — so the value's own tick is remembered, whatever the index does. `None`
/// when the value is `None` or the sum leaves the `i64` range (the exact path then decides).
#[inline(always)]
fn shifted_round(value: &Quotient, hint: &mut i64, index: Price) -> Option<Price> {
    let offset = value.round_with_hint(hint, 0)?;
    index.0.checked_add(offset.0).map(Price)
}

/// A component of a median as [`MarkPrice::compute_rounded_rare`] holds it: exact, or an
/// undivided quotient rounded through a cell test.
#[derive(Clone, Copy, Debug)]
enum Part {
    /// An exact value: a trade, the reference, the local median, a mid, a sampled average.
    Exact(I80F48),
    /// `index + q` (the funding price, the basis-EMA price): hint slot 0, the offset's tick.
    Shifted(Quotient, Price),
    /// `q` itself (the local-median EMA): hint slot 1.
    Plain(Quotient),
}

impl Part {
    /// `round_to_tick(value, index)`; `None`: only dividing can tell, and it could not.
    #[inline]
    fn round(self, hints: &mut [i64; 3], index: Option<Price>, toward: i64) -> Option<Price> {
        match self {
            Part::Exact(value) => Some(round_to_tick(value, index)),
            Part::Shifted(offset, at) => shifted_round(&offset, &mut hints[0], at),
            Part::Plain(value) => value.round_with_hint(&mut hints[1], toward),
        }
    }

    /// `round_to_tick(mean2(x, y), index)`. With a quotient, both components go into one
    /// quotient's base — `x + y = index + q + y` exactly — and its halving is rounded by the
    /// cell test (hint slot 2, absolute ticks); two exact values are averaged directly.
    /// `None`: a pair no method builds, or a quotient only the exact path can settle.
    fn round_mean(
        x: Part,
        y: Part,
        hints: &mut [i64; 3],
        index: Option<Price>,
        toward: i64,
    ) -> Option<Price> {
        match (x, y) {
            (Part::Exact(x), Part::Exact(y)) => Some(round_to_tick(mean2(x, y), index)),
            (Part::Shifted(offset, at), Part::Exact(other))
            | (Part::Exact(other), Part::Shifted(offset, at)) => {
                let base = offset
                    .base
                    .checked_add(ticks(at).to_bits())?
                    .checked_add(other.to_bits())?;
                Quotient { base, ..offset }.round_half_with_hint(&mut hints[2], toward)
            }
            _ => None,
        }
    }
}

/// A price in half ticks as a fixed-point value (exact: prices are below 2⁴¹ half ticks).
#[inline]
fn half_ticks(doubled: i64) -> I80F48 {
    I80F48::from_bits(i128::from(doubled) << 47)
}

/// The median of three tick prices.
#[inline]
fn median3_ticks(a: Price, b: Price, c: Price) -> Price {
    Price(a.0.min(b.0).max(c.0.min(a.0.max(b.0))))
}

/// `[⌈index·(1−band)⌉, ⌊index·(1+band)⌋]`: rounded inward, so both bounds are inside the band
/// and `lower ≤ index ≤ upper`.
///
/// Exact in `u64` with only constant divisors (multiplications after compilation): with
/// `index = w·10⁸ + r`, `index·f/10⁸ = w·f + r·f/10⁸`, and `r·f < 10⁸ · 2·10⁸ < 2⁵⁵`.
fn band_bounds(index: Price, band: Rate) -> (Price, Price) {
    const ONE: u64 = Rate::ONE.0 as u64;
    // index in 1..=2⁴⁰ (checked at input), band in (0, 1) (checked at construction).
    let index = index.0.unsigned_abs();
    let band = band.0.unsigned_abs();
    let (whole, rest) = (index / ONE, index % ONE);
    let (lower_factor, upper_factor) = (ONE - band, ONE + band);
    // Ceiling of the lower bound, floor of the upper; both fit i64 (≤ 2·2⁴⁰).
    let lower = whole * lower_factor + (rest * lower_factor).div_ceil(ONE);
    let upper = whole * upper_factor + rest * upper_factor / ONE;
    (Price(lower as i64), Price(upper as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_bounds_round_inward() {
        assert_eq!(
            band_bounds(Price(2_000), Rate(5_000_000)),
            (Price(1_900), Price(2_100))
        );
        // 1001 × 0.95 = 950.95 → 951; 1001 × 1.05 = 1051.05 → 1051.
        assert_eq!(
            band_bounds(Price(1_001), Rate(5_000_000)),
            (Price(951), Price(1_051))
        );
        assert_eq!(band_bounds(Price(1), Rate(1)), (Price(1), Price(1)));
    }

    #[test]
    fn rejected_input_changes_nothing() {
        let mut mark = MarkPrice::new(MarkConfig::last()).unwrap();
        mark.on_trade(10, Price(100), Qty(1)).unwrap();
        assert_eq!(
            mark.on_trade(5, Price(90), Qty(1)),
            Err(MarkError::TimeWentBackwards)
        );
        assert_eq!(
            mark.on_trade(20, Price(0), Qty(1)),
            Err(MarkError::PriceOutOfRange)
        );
        assert_eq!(
            mark.on_trade(20, Price(90), Qty(0)),
            Err(MarkError::QtyOutOfRange)
        );
        let crossed = BookTop {
            best_bid: Some(Price(101)),
            best_ask: Some(Price(100)),
            ..BookTop::default()
        };
        assert_eq!(mark.on_book(20, crossed), Err(MarkError::CrossedBook));
        assert_eq!(mark.mark(), Some(Price(100)));
        assert_eq!(mark.now(), Some(10));
    }
}
