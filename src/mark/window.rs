//! Windowed averages over logical time: [`Twap`] (time-weighted price) and [`Vwap`]
//! (volume-weighted trade price), both on a preallocated ring of time buckets.
//!
//! # Layout
//!
//! The window of `window_ms` is cut into `buckets` equal buckets of `window_ms / buckets` ms.
//! Each bucket holds two exact integer sums (`i128`); the ring keeps running totals, so an
//! update is O(1) plus one step per bucket boundary crossed (at most `buckets`; a gap longer
//! than the whole window is handled in one pass over the ring).
//!
//! # Semantics
//!
//! The window covers the current (partial) bucket and the `buckets − 1` before it: between
//! `window_ms − bucket_ms` and `window_ms` of history, sliding in bucket steps. Sums are exact
//! integers; only the final quotient is fixed point, rounded toward −∞ at 2⁻⁴⁸.

use fixed::types::I80F48;

use super::math::ratio_to_fixed;
use crate::types::{Price, Qty};

/// Why a window could not be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// `buckets` is zero or above 65,536, or `window_ms` is not a positive multiple of it.
    #[error("window_ms must be a positive multiple of buckets (1..=65536)")]
    BadWindow,
}

/// A ring of time buckets each holding two exact sums.
#[derive(Clone, Debug)]
struct BucketRing {
    bucket_ms: u64,
    sum_a: Box<[i128]>,
    sum_b: Box<[i128]>,
    total_a: i128,
    total_b: i128,
    /// Absolute index (`ts / bucket_ms`) of the current bucket.
    bucket_no: u64,
}

impl BucketRing {
    fn new(window_ms: u64, buckets: u32) -> Result<BucketRing, WindowError> {
        if buckets == 0
            || buckets > 65_536
            || window_ms == 0
            || !window_ms.is_multiple_of(u64::from(buckets))
        {
            return Err(WindowError::BadWindow);
        }
        let len = buckets as usize;
        Ok(BucketRing {
            bucket_ms: window_ms / u64::from(buckets),
            sum_a: vec![0; len].into_boxed_slice(),
            sum_b: vec![0; len].into_boxed_slice(),
            total_a: 0,
            total_b: 0,
            bucket_no: 0,
        })
    }

    fn len(&self) -> u64 {
        self.sum_a.len() as u64
    }

    fn slot(&self, bucket_no: u64) -> usize {
        // len ≥ 1 (checked at construction), so the remainder is a valid index.
        (bucket_no % self.len()) as usize
    }

    fn clear(&mut self) {
        self.sum_a.fill(0);
        self.sum_b.fill(0);
        self.total_a = 0;
        self.total_b = 0;
    }

    /// Moves the current bucket forward to `target` (never back), emptying the buckets that
    /// fall out of the window.
    fn rotate_to(&mut self, target: u64) {
        if target <= self.bucket_no {
            return;
        }
        if target - self.bucket_no >= self.len() {
            self.clear();
        } else {
            for bucket_no in self.bucket_no + 1..=target {
                let slot = self.slot(bucket_no);
                self.total_a = self.total_a.saturating_sub(self.sum_a[slot]);
                self.total_b = self.total_b.saturating_sub(self.sum_b[slot]);
                self.sum_a[slot] = 0;
                self.sum_b[slot] = 0;
            }
        }
        self.bucket_no = target;
    }

    fn add_at(&mut self, bucket_no: u64, a: i128, b: i128) {
        let slot = self.slot(bucket_no);
        self.sum_a[slot] = self.sum_a[slot].saturating_add(a);
        self.sum_b[slot] = self.sum_b[slot].saturating_add(b);
        self.total_a = self.total_a.saturating_add(a);
        self.total_b = self.total_b.saturating_add(b);
    }

    fn add(&mut self, a: i128, b: i128) {
        self.add_at(self.bucket_no, a, b);
    }

    fn ratio(&self) -> Option<I80F48> {
        if self.total_b <= 0 {
            return None;
        }
        ratio_to_fixed(self.total_a, self.total_b)
    }
}

/// Time-weighted average price over a sliding window.
///
/// A price holds from its timestamp until the next update (left-continuous step function), so
/// updates that share a timestamp give the same average whatever their order, and the value
/// just set has no weight until time passes.
///
/// # Examples
///
/// ```
/// use liqcore::mark::Twap;
/// use liqcore::types::Price;
/// let mut twap = Twap::new(4_000, 4).unwrap();
/// twap.update(0, Price(100));
/// twap.update(1_000, Price(200));
/// twap.advance(2_000);
/// assert_eq!(twap.value().unwrap(), 150); // (100·1000 + 200·1000) / 2000
/// ```
#[derive(Clone, Debug)]
pub struct Twap {
    ring: BucketRing,
    last_ts: Option<u64>,
    held: Option<i64>,
}

impl Twap {
    /// A TWAP over `window_ms`, kept in `buckets` buckets.
    ///
    /// # Errors
    ///
    /// [`WindowError::BadWindow`] unless `window_ms` is a positive multiple of `buckets`
    /// (1..=65536).
    pub fn new(window_ms: u64, buckets: u32) -> Result<Twap, WindowError> {
        Ok(Twap {
            ring: BucketRing::new(window_ms, buckets)?,
            last_ts: None,
            held: None,
        })
    }

    /// Integrates the held price up to `ts` (ignored if `ts` is before the last update).
    pub fn advance(&mut self, ts: u64) {
        let bucket_ms = self.ring.bucket_ms;
        let target = ts / bucket_ms;
        let (Some(last_ts), Some(held)) = (self.last_ts, self.held) else {
            self.ring.rotate_to(target);
            self.last_ts = Some(self.last_ts.map_or(ts, |last| last.max(ts)));
            return;
        };
        if ts <= last_ts {
            return;
        }
        let held = i128::from(held);
        if target - self.ring.bucket_no >= self.ring.len() {
            // The held price covers the whole window: refill it in one pass.
            self.ring.rotate_to(target);
            for back in 1..self.ring.len() {
                let full = i128::from(bucket_ms);
                self.ring.add_at(target - back, held * full, full);
            }
        } else {
            let mut from = last_ts;
            while self.ring.bucket_no < target {
                let end = (self.ring.bucket_no + 1) * bucket_ms;
                let span = i128::from(end - from);
                self.ring.add(held * span, span);
                from = end;
                self.ring.rotate_to(self.ring.bucket_no + 1);
            }
            let span = i128::from(ts - from);
            self.ring.add(held * span, span);
            self.last_ts = Some(ts);
            return;
        }
        let span = i128::from(ts - target * bucket_ms);
        self.ring.add(held * span, span);
        self.last_ts = Some(ts);
    }

    /// Advances to `ts` and holds `price` from then on.
    pub fn update(&mut self, ts: u64, price: Price) {
        self.advance(ts);
        self.held = Some(price.0);
    }

    /// Advances to `ts` and holds no price from then on (time without a price does not count).
    pub fn clear_price(&mut self, ts: u64) {
        self.advance(ts);
        self.held = None;
    }

    /// The average over the window, rounded toward −∞ at 2⁻⁴⁸; `None` before any time with a
    /// price has passed inside the window.
    #[must_use]
    pub fn value(&self) -> Option<I80F48> {
        self.ring.ratio()
    }
}

/// Volume-weighted average trade price over a sliding window.
///
/// # Examples
///
/// ```
/// use liqcore::mark::Vwap;
/// use liqcore::types::{Price, Qty};
/// let mut vwap = Vwap::new(60_000, 60).unwrap();
/// vwap.trade(0, Price(100), Qty(1));
/// vwap.trade(10, Price(110), Qty(3));
/// assert_eq!(vwap.value().unwrap(), 107.5); // (100 + 330) / 4
/// vwap.advance(120_000);
/// assert_eq!(vwap.value(), None);
/// ```
#[derive(Clone, Debug)]
pub struct Vwap {
    ring: BucketRing,
}

impl Vwap {
    /// A VWAP over `window_ms`, kept in `buckets` buckets.
    ///
    /// # Errors
    ///
    /// [`WindowError::BadWindow`] unless `window_ms` is a positive multiple of `buckets`
    /// (1..=65536).
    pub fn new(window_ms: u64, buckets: u32) -> Result<Vwap, WindowError> {
        Ok(Vwap {
            ring: BucketRing::new(window_ms, buckets)?,
        })
    }

    /// Slides the window to `ts` (earlier timestamps are ignored).
    pub fn advance(&mut self, ts: u64) {
        self.ring.rotate_to(ts / self.ring.bucket_ms);
    }

    /// Adds a trade at `ts` (quantity taken as its absolute value).
    pub fn trade(&mut self, ts: u64, price: Price, qty: Qty) {
        self.advance(ts);
        let qty = i128::from(qty.0).abs();
        self.ring.add(i128::from(price.0).saturating_mul(qty), qty);
    }

    /// `Σ price·qty / Σ qty` over the window, rounded toward −∞ at 2⁻⁴⁸; `None` without trades
    /// in the window.
    #[must_use]
    pub fn value(&self) -> Option<I80F48> {
        self.ring.ratio()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(x: Option<I80F48>) -> f64 {
        x.unwrap().to_num()
    }

    #[test]
    fn twap_hand_vector_with_partial_window() {
        // Window 4 s in 4 buckets. 100 from t=0, 300 from t=3000; at t=5500 the window holds
        // buckets 2..=5: 100 over [2000,3000), 300 over [3000,5500).
        let mut twap = Twap::new(4_000, 4).unwrap();
        twap.update(0, Price(100));
        twap.update(3_000, Price(300));
        twap.advance(5_500);
        let want = (100.0 * 1_000.0 + 300.0 * 2_500.0) / 3_500.0;
        assert!((val(twap.value()) - want).abs() < 1e-12);
    }

    #[test]
    fn twap_after_a_gap_longer_than_the_window_is_the_held_price() {
        let mut twap = Twap::new(4_000, 4).unwrap();
        twap.update(0, Price(100));
        twap.update(500, Price(200));
        twap.advance(1_000_000_123);
        assert_eq!(twap.value().unwrap(), 200);
    }

    #[test]
    fn twap_ignores_time_without_a_price() {
        let mut twap = Twap::new(10_000, 10).unwrap();
        assert_eq!(twap.value(), None);
        twap.advance(5_000);
        twap.update(6_000, Price(50));
        twap.advance(7_000);
        assert_eq!(twap.value().unwrap(), 50);
        twap.clear_price(8_000);
        twap.advance(9_000);
        assert_eq!(twap.value().unwrap(), 50);
    }

    #[test]
    fn vwap_window_slides() {
        let mut vwap = Vwap::new(3_000, 3).unwrap();
        vwap.trade(0, Price(100), Qty(2));
        vwap.trade(1_500, Price(130), Qty(1));
        assert_eq!(vwap.value().unwrap(), 110);
        vwap.advance(3_100); // bucket 0 left the window
        assert_eq!(vwap.value().unwrap(), 130);
    }

    #[test]
    fn bad_windows_are_refused() {
        assert_eq!(Twap::new(1_000, 0).unwrap_err(), WindowError::BadWindow);
        assert_eq!(Vwap::new(1_001, 10).unwrap_err(), WindowError::BadWindow);
    }
}
