//! A moving average of a value sampled at a fixed interval (Binance's "moving average of the
//! basis, measured every minute over 30 minutes").
//!
//! # Layout
//!
//! A preallocated ring of `samples` `I80F48` values (as bits), a running exact `i128` sum and
//! the cached average (recomputed only when a sample is taken, so reading it is free).
//!
//! # Semantics
//!
//! Sample instants are the multiples of `interval_ms` strictly after the first timestamp seen.
//! At an instant `t`, the sample is the value **held just before `t`** (the last value set at a
//! time `< t`, or at `t` by an input processed earlier — advancing happens before an input is
//! applied), so inputs that share a timestamp commute. An instant with no held value takes no
//! sample. A gap crossing many instants takes one sample per instant, at most `samples` of them.
//! Until the ring is full the average is over the samples taken so far.

use fixed::types::I80F48;

/// Why a sampled average could not be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SampledError {
    /// The interval is zero or the sample count is not in `1..=65536`.
    #[error("interval_ms must be positive and samples in 1..=65536")]
    BadSampling,
}

/// Moving average of `samples` values taken every `interval_ms` (see the module docs).
///
/// # Examples
///
/// ```
/// use fixed::types::I80F48;
/// use liqcore::mark::SampledAverage;
/// let mut ma = SampledAverage::new(1_000, 3).unwrap();
/// ma.update(0, Some(I80F48::from_num(3)));      // first instant: t = 1000
/// ma.update(2_500, Some(I80F48::from_num(9)));  // samples 3 at 1000 and 2000
/// ma.advance(3_000);                            // samples 9 at 3000
/// assert_eq!(ma.value().unwrap(), 5);           // (3 + 3 + 9) / 3
/// ```
#[derive(Clone, Debug)]
pub struct SampledAverage {
    interval_ms: u64,
    ring: Box<[i128]>,
    filled: usize,
    head: usize,
    sum: i128,
    average: Option<I80F48>,
    next_sample_at: Option<u64>,
    held: Option<I80F48>,
}

impl SampledAverage {
    /// An empty average of `samples` samples every `interval_ms`.
    ///
    /// # Errors
    ///
    /// [`SampledError::BadSampling`] for a zero interval or a count outside `1..=65536`.
    pub fn new(interval_ms: u64, samples: u32) -> Result<SampledAverage, SampledError> {
        if interval_ms == 0 || samples == 0 || samples > 65_536 {
            return Err(SampledError::BadSampling);
        }
        Ok(SampledAverage {
            interval_ms,
            ring: vec![0; samples as usize].into_boxed_slice(),
            filled: 0,
            head: 0,
            sum: 0,
            average: None,
            next_sample_at: None,
            held: None,
        })
    }

    /// Takes the samples due at instants up to and including `ts`.
    #[inline]
    pub fn advance(&mut self, ts: u64) {
        let interval = self.interval_ms;
        let Some(next) = self.next_sample_at else {
            self.next_sample_at = Some((ts / interval).saturating_add(1).saturating_mul(interval));
            return;
        };
        if ts < next {
            return;
        }
        let crossed = (ts - next) / interval + 1;
        self.next_sample_at = Some(next.saturating_add(crossed.saturating_mul(interval)));
        if let Some(value) = self.held {
            let pushes = crossed.min(self.ring.len() as u64);
            for _ in 0..pushes {
                self.push(value.to_bits());
            }
            // filled ≥ 1 here; the sum of ≤ 65536 values below 2⁸⁹ fits i128.
            let average = self.sum.div_euclid(self.filled as i128);
            self.average = Some(I80F48::from_bits(average));
        }
    }

    fn push(&mut self, bits: i128) {
        let len = self.ring.len();
        if self.filled == len {
            self.sum = self.sum.saturating_sub(self.ring[self.head]);
        } else {
            self.filled += 1;
        }
        self.ring[self.head] = bits;
        self.sum = self.sum.saturating_add(bits);
        self.head = if self.head + 1 == len {
            0
        } else {
            self.head + 1
        };
    }

    /// Sets the value held from now on (`None`: unknown) without moving time.
    #[inline]
    pub fn hold(&mut self, x: Option<I80F48>) {
        self.held = x;
    }

    /// Advances to `ts`, then holds `x`.
    pub fn update(&mut self, ts: u64, x: Option<I80F48>) {
        self.advance(ts);
        self.held = x;
    }

    /// The average of the samples in the ring (rounded toward −∞ at 2⁻⁴⁸); `None` before the
    /// first sample.
    #[must_use]
    pub fn value(&self) -> Option<I80F48> {
        self.average
    }

    /// How many samples the average is over.
    #[must_use]
    pub fn len(&self) -> usize {
        self.filled
    }

    /// `true` before the first sample.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_sample_leaves_the_ring() {
        let mut ma = SampledAverage::new(10, 2).unwrap();
        ma.update(5, Some(I80F48::from_num(1)));
        ma.update(10, Some(I80F48::from_num(5))); // sample 1 at t=10 (held before)
        ma.update(20, Some(I80F48::from_num(-7))); // sample 5 at t=20
        assert_eq!(ma.value().unwrap(), 3);
        ma.advance(30); // sample -7: ring holds 5, -7
        assert_eq!(ma.value().unwrap(), -1);
        assert_eq!(ma.len(), 2);
    }

    #[test]
    fn gap_fills_the_ring_once() {
        let mut ma = SampledAverage::new(1_000, 30).unwrap();
        ma.update(0, Some(I80F48::from_num(2)));
        ma.advance(u64::MAX - 5);
        assert_eq!(ma.value().unwrap(), 2);
        assert_eq!(ma.len(), 30);
    }

    #[test]
    fn no_sample_without_a_held_value() {
        let mut ma = SampledAverage::new(1_000, 3).unwrap();
        ma.advance(0);
        ma.advance(5_000);
        assert!(ma.is_empty());
        assert_eq!(
            SampledAverage::new(0, 3).unwrap_err(),
            SampledError::BadSampling
        );
    }
}
