//! The time-decayed EMA: `num = num·e^(−Δt/τ) + x·Δt`, `den = den·e^(−Δt/τ) + Δt`,
//! value `num / den`.
//!
//! # Layout
//!
//! Two `I80F48` accumulators, the held sample and its timestamp, and a [`Decay`] table
//! (64 + 256 × u64, built once; `Δt < 256` ms is one lookup). Decaying multiplies by the
//! 62-bit factor with two 64×64-bit products, rounded toward zero.
//!
//! # Read-out
//!
//! [`DecayingEma::value`] divides (`num / den`, floor at 2⁻⁴⁸, relative to the held sample's
//! whole ticks). The mark only needs the value rounded to a tick: `round_with_hint` gets it
//! from the accumulators with the cell test of `math::Quotient` (two 64×64-bit products
//! around the tick of the previous update), the same bits as dividing, and leaves the rare
//! miss to the dividing path.
//!
//! # Semantics
//!
//! `x` is a step function: a sample holds from its timestamp until the next one, and each
//! advance weights the **held** sample by the elapsed `Δt` before the new one replaces it. So
//! samples that share a timestamp commute (only the last one of them is held, and it gets
//! weight once time moves), and a value's weight is exactly the time it was in force. A gap
//! with no sample (`x` unknown) only decays the old weight.
//!
//! # Invariants and bounds
//!
//! The weight added per step is `min(Δt, 44·τ)`: beyond `44·τ` the decay factor is exactly 0,
//! so a long quiet period resets the state to the held sample (value exactly `x`) instead of
//! overflowing `x·Δt`. With `|x| < 2⁴¹` ticks and `τ ≤ 2³⁰` ms, `den < 2³⁷` and
//! `|num| < 2⁷⁸`, inside `I80F48` (operations saturate regardless).

use fixed::types::I80F48;

use super::math::{Decay, Quotient, cell_around, mul_decay, mul_decay_nonnegative};
use crate::types::Price;

/// Below this weight (2⁻¹⁶ ms) the quotient is too imprecise to report.
const MIN_WEIGHT_BITS: i128 = 1 << 32;

/// A time-decayed exponential moving average with num/den weighting (see the module docs).
///
/// # Examples
///
/// ```
/// use fixed::types::I80F48;
/// use liqcore::mark::DecayingEma;
/// let mut ema = DecayingEma::new(1_000).unwrap();
/// ema.update(0, Some(I80F48::from_num(10)));
/// ema.update(1_000, Some(I80F48::from_num(20)));
/// assert_eq!(ema.value().unwrap(), 10); // only 10 has been in force so far
/// ema.advance(2_000);
/// let e = (-1f64).exp();
/// let want = (10.0 * e + 20.0) / (e + 1.0);
/// assert!((ema.value().unwrap().to_num::<f64>() - want).abs() < 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct DecayingEma {
    decay: Decay,
    num: I80F48,
    den: I80F48,
    held: Option<I80F48>,
    last_ts: Option<u64>,
}

impl DecayingEma {
    /// An empty EMA with time constant `tau_ms`; `None` unless `1 ≤ tau_ms ≤ 2³⁰`.
    #[must_use]
    pub fn new(tau_ms: u64) -> Option<DecayingEma> {
        Some(DecayingEma {
            decay: Decay::new(tau_ms)?,
            num: I80F48::ZERO,
            den: I80F48::ZERO,
            held: None,
            last_ts: None,
        })
    }

    /// Weights the held sample by the time since the last advance and decays the old weight
    /// (no-op for a timestamp at or before the last one).
    #[inline(always)]
    pub fn advance(&mut self, ts: u64) {
        let Some(last) = self.last_ts else {
            self.last_ts = Some(ts);
            return;
        };
        if ts <= last {
            return;
        }
        let dt = ts - last;
        self.last_ts = Some(ts);
        let factor = self.decay.factor(dt);
        // Locals, stored once: the accumulators are written back after the whole step.
        let mut num = mul_decay(self.num, factor);
        let mut den = mul_decay_nonnegative(self.den, factor);
        if let Some(x) = self.held {
            let weight = dt.min(self.decay.cutoff_ms());
            // |x| < 2⁴¹ ticks (2⁸⁹ bits) and weight ≤ 44·2³⁰ < 2³⁶: the product is below 2¹²⁵,
            // so the plain multiplication cannot wrap.
            let added = I80F48::from_bits(x.to_bits().wrapping_mul(i128::from(weight)));
            num = add_saturating(num, added);
            den = add_saturating(den, I80F48::from_bits(i128::from(weight) << 48));
        }
        self.num = num;
        self.den = den;
    }

    /// Sets the sample held from now on (`None`: unknown) without moving time.
    #[inline]
    pub fn hold(&mut self, x: Option<I80F48>) {
        self.held = x;
    }

    /// Advances to `ts`, then holds `x`.
    pub fn update(&mut self, ts: u64, x: Option<I80F48>) {
        self.advance(ts);
        self.held = x;
    }

    /// `num / den` rounded toward −∞ at 2⁻⁴⁸; `None` until some sample has had weight (or
    /// after its weight decayed below 2⁻¹⁶ ms).
    #[must_use]
    #[inline]
    pub fn value(&self) -> Option<I80F48> {
        self.quotient()?.exact()
    }

    /// The value as an undivided [`Quotient`] (`None` exactly when [`value`] is): the mark
    /// rounds it to a tick, usually without dividing.
    ///
    /// [`value`]: DecayingEma::value
    #[inline]
    pub(crate) fn quotient(&self) -> Option<Quotient> {
        let den = self.den.to_bits();
        if den < MIN_WEIGHT_BITS {
            return None;
        }
        // Divide the deviation from an integer anchor (the held sample's whole ticks), not the
        // price itself: `num/den = A + (num − A·den)/den` exactly, and the small quotient is one
        // hardware divide. |A| < 2⁴¹ and den < 2⁸⁵ (module bounds): A·den cannot wrap.
        let anchor = self.held.map_or(0, |x| x.to_bits() >> 48);
        let offset = self.num.to_bits().saturating_sub(anchor.wrapping_mul(den));
        // The normalisation `ratio_to_fixed` applies (den below 2⁶³, both shifted toward −∞),
        // done here so the quotient's denominator is the one actually divided by.
        let shift = (128 - den.leading_zeros()).saturating_sub(63);
        Some(Quotient {
            base: anchor << 48,
            num: offset >> shift,
            den: den >> shift,
        })
    }

    /// `round_to_tick(value, Some(toward))` straight from the accumulators, usually without
    /// dividing: [`quotient`] and its cell test fused, minus the checks this EMA's bounds make
    /// redundant (`den ≥ 2³²` after normalising; the anchor is whole ticks). `None` when there
    /// is no value, or when this cell test cannot tell — then `quotient()` and its dividing
    /// path decide (same answer, slower).
    ///
    /// [`quotient`]: DecayingEma::quotient
    #[inline(always)]
    pub(crate) fn round_with_hint(&self, hint: &mut i64, toward: i64) -> Option<Price> {
        let den = self.den.to_bits();
        if den < MIN_WEIGHT_BITS {
            return None;
        }
        let anchor = i64::try_from(self.held.map_or(0, |x| x.to_bits() >> 48)).ok()?;
        // Exactly `quotient()`'s numerator unless that one saturates (never within the bounds).
        let offset = self
            .num
            .to_bits()
            .checked_sub(i128::from(anchor).wrapping_mul(den))?;
        // `quotient()`'s normalising shift, `bit length − 63` (at least 0), from the high word:
        // den ≥ 2⁶³ iff `den >> 63` is non-zero, and then the shift is that word's bit length.
        // den < 2⁸⁵ (module bounds) keeps it ≤ 22; masking it lets the shifts be plain.
        let shift = 64 - ((den >> 63) as u64).leading_zeros();
        if shift >= 64 {
            return None;
        }
        // Both rounded toward −∞, as `quotient()` (and `ratio_to_fixed`) normalise.
        let (num, den) = (offset >> (shift & 63), den >> (shift & 63));
        // −2⁷⁹ ≤ num < 2⁷⁹, i.e. `num >> 79` is 0 or −1 (one compare of its high word).
        if ((num >> 79) as i64).wrapping_add(1) as u64 > 1 {
            return None;
        }
        // The cell test's centre `hint·2⁴⁸ − anchor·2⁴⁸`, in i64 while within ±2¹³ ticks.
        let relative = hint.checked_sub(anchor)?;
        if relative.wrapping_add(1 << 13) as u64 >= 1 << 14 {
            return None;
        }
        // den < 2⁶³ after normalising; |centre| ≤ 2⁶¹; −2¹²⁷ ≤ num·2⁴⁸ < 2¹²⁷.
        let tick = cell_around::<0>(num << 48, den as i64, relative << 48, *hint, toward)?;
        *hint = tick;
        Some(Price(tick))
    }

    /// The accumulated weight `den` in milliseconds.
    #[must_use]
    pub fn weight(&self) -> I80F48 {
        self.den
    }

    /// The held sample.
    #[must_use]
    pub fn held(&self) -> Option<I80F48> {
        self.held
    }
}

/// `a.saturating_add(b)` with the saturation out of line: within the module's bounds it never
/// saturates, and the inline test is then one overflow flag, not two conditional moves.
#[inline(always)]
fn add_saturating(a: I80F48, b: I80F48) -> I80F48 {
    match a.checked_add(b) {
        Some(sum) => sum,
        None => saturated_sum(a, b),
    }
}

#[cold]
#[inline(never)]
fn saturated_sum(a: I80F48, b: I80F48) -> I80F48 {
    a.saturating_add(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn long_quiet_period_resets_to_the_held_value_without_overflow() {
        let mut ema = DecayingEma::new(150_000).unwrap();
        ema.update(0, Some(I80F48::from_num(-1_000_000)));
        ema.update(1, Some(I80F48::from_num(1_000_000_000_000i64)));
        ema.advance(u64::MAX);
        assert_eq!(ema.value().unwrap(), 1_000_000_000_000i64);
        assert_eq!(ema.weight(), 44 * 150_000);
    }

    #[test]
    fn many_tiny_steps_stay_bounded_and_converge() {
        let mut ema = DecayingEma::new(1_000).unwrap();
        ema.update(0, Some(I80F48::from_num(7)));
        for t in 1..=100_000u64 {
            ema.update(t, Some(I80F48::from_num(7)));
        }
        let weight: f64 = ema.weight().to_num();
        assert!(weight > 990.0 && weight < 1_010.0, "weight {weight}");
        let value: f64 = ema.value().unwrap().to_num();
        assert!((value - 7.0).abs() < 1e-9, "value {value}");
    }

    #[test]
    fn unknown_sample_only_decays() {
        let mut ema = DecayingEma::new(1_000).unwrap();
        ema.update(0, Some(I80F48::from_num(5)));
        ema.update(500, None);
        ema.advance(10_000);
        assert_eq!(ema.value().unwrap().round(), 5);
        ema.advance(100_000);
        assert_eq!(ema.value(), None);
    }

    /// The fused read-out and cell test against dividing: every answer it gives is
    /// `round_to_tick(value)` (ties each way, values held long enough to be exact half ticks,
    /// negative and 2⁴⁰-tick values, every time constant), and with a hint on or next to the
    /// answer it does answer.
    #[test]
    fn fused_rounding_equals_rounding_the_value() {
        use super::super::math::round_to_tick;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x510e_527f_ade6_82d1);
        let mut next = move || rng.random::<u64>();
        let (mut answered, mut ties) = (0, 0);
        for tau in [1u64, 7, 777, 30_000, 150_000, 1 << 30] {
            let mut ema = DecayingEma::new(tau).unwrap();
            let mut ts = 0u64;
            let centre = [0i64, 200_000, -50, 1 << 40][(next() % 4) as usize];
            for _ in 0..3_000 {
                ts += match next() % 10 {
                    0 => 0,
                    1 => 44 * tau + next() % 1_000,
                    _ => next() % 50,
                };
                let half_ticks = 2 * centre + (next() % 41) as i64 - 20;
                let x = (next() % 8 != 0).then(|| I80F48::from_bits(i128::from(half_ticks) << 47));
                ema.update(ts, x);
                let Some(value) = ema.value() else {
                    assert_eq!(ema.round_with_hint(&mut 0, 0), None);
                    continue;
                };
                ties += usize::from(value.frac() == I80F48::from_bits(1 << 47));
                let whole = (value.to_bits() >> 48) as i64;
                for toward in [i64::MIN, whole, whole + 1] {
                    let want = round_to_tick(value, Some(Price(toward)));
                    for hint in [want.0, want.0 - 1, want.0 + 1, want.0 + 5, 0] {
                        let mut hint_now = hint;
                        match ema.round_with_hint(&mut hint_now, toward) {
                            Some(got) => {
                                assert_eq!(got, want, "tau {tau} toward {toward} hint {hint}");
                                assert_eq!(hint_now, want.0);
                                answered += 1;
                            }
                            // Without a held sample the anchor is 0 and a large value's
                            // numerator is beyond the cell test (dividing decides, as before).
                            None => assert!(
                                (hint - want.0).abs() > 1 || ema.held().is_none(),
                                "no answer next to it: tau {tau}, {value} hint {hint}"
                            ),
                        }
                    }
                }
            }
        }
        assert!(
            answered > 100_000 && ties > 100,
            "{answered} answers, {ties} ties"
        );
    }
}
