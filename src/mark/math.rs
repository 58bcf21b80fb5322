//! Deterministic fixed-point helpers: exact ratios, undivided quotients rounded to a tick
//! without dividing (`Quotient`), the exponential decay table, medians and rounding to a tick.
//!
//! Everything here is integer arithmetic on `i128`/`u128` or on the bits of [`I80F48`], so the
//! results are bit-identical on every platform and run. No `f64` is used (tests compare
//! against `f64` only as a cross-check).

use fixed::types::I80F48;

use crate::types::Price;

/// Fractional bits of a [`I80F48`].
pub(crate) const FRAC_BITS: u32 = 48;

/// The largest price (in ticks) any input may carry: 2⁴⁰ ≈ 1.1 × 10¹² ticks. With this bound
/// every product the smoothing forms (price × milliseconds, basis × weight) stays far inside
/// the range of `I80F48` (±2⁷⁹) and `i128`.
pub const MAX_PRICE_TICKS: i64 = 1 << 40;

/// The largest trade quantity (in lots) accepted: 2⁴⁰.
pub const MAX_TRADE_QTY: i64 = 1 << 40;

/// A whole number of ticks as a fixed-point value (exact).
#[must_use]
pub(crate) const fn ticks(price: Price) -> I80F48 {
    I80F48::from_bits((price.0 as i128) << FRAC_BITS)
}

/// `num / den` as an `I80F48`, rounded toward −∞ (floor) at 2⁻⁴⁸; `None` if `den ≤ 0` or the
/// quotient does not fit.
///
/// Exact — the bits are `floor(num · 2⁴⁸ / den)` — whenever `den < 2⁶³` (every time window,
/// sample count and trade volume here). A larger `den` (an EMA's weight in `I80F48` bits) is
/// first brought below 2⁶³ by shifting `num` and `den` right by the same amount (each rounded
/// toward −∞), a relative error below 2⁻⁶¹: deterministic, and far below the 2⁻⁴⁸ output step
/// for prices under 2⁴⁰ ticks.
///
/// # Performance
///
/// One 128-by-64-bit division when `|num| < 2⁷⁹` after normalisation, else two (remainders
/// come from multiplications); the divisor always fits the hardware divide.
#[must_use]
#[inline]
pub fn ratio_to_fixed(num: i128, den: i128) -> Option<I80F48> {
    if den <= 0 {
        return None;
    }
    let shift = (128 - den.leading_zeros()).saturating_sub(63);
    let (num, den) = (num >> shift, (den >> shift) as u128);
    let negative = num < 0;
    let magnitude = num.unsigned_abs();
    let (bits, inexact) = if magnitude < (1u128 << 79) {
        // One division: magnitude · 2⁴⁸ < 2¹²⁷ (and with a small quotient, such as a basis,
        // it is a single hardware divide).
        let scaled = magnitude << FRAC_BITS;
        let quotient = scaled / den;
        (quotient, scaled != quotient * den)
    } else {
        // den < 2⁶³: both divisions below have a 64-bit divisor.
        let whole = magnitude / den;
        if whole >= (1u128 << 79) {
            return None;
        }
        let remainder = magnitude - whole * den;
        // remainder < 2⁶³, so remainder · 2⁴⁸ < 2¹¹¹ and the quotient is below 2⁴⁸.
        let scaled = remainder << FRAC_BITS;
        let fraction = scaled / den;
        ((whole << FRAC_BITS) | fraction, scaled != fraction * den)
    };
    // bits < 2¹²⁷ on both paths.
    let bits = bits as i128;
    Some(I80F48::from_bits(if negative {
        -bits - i128::from(inexact)
    } else {
        bits
    }))
}

/// A fixed-point value kept as an unevaluated quotient: bits `base + ⌊num · 2⁴⁸ / den⌋`,
/// exactly what `ratio_to_fixed(num, den)?.checked_add(base)` returns, for callers that only
/// need the value **rounded to a tick** and can usually learn it without dividing.
///
/// # Semantics
///
/// [`Quotient::exact`] is the division (bit-identical to the expression above).
/// [`Quotient::round_with_hint`] returns `round_to_tick(exact, Some(toward))` but first tests
/// whether the value lies in the rounding cell of a remembered tick (or of its neighbour): two
/// 64×64-bit products and comparisons instead of a 128-bit division. Only when the value has
/// left both cells does it divide (and remember the new tick). The hint changes how fast the
/// answer comes, never the answer. [`Quotient::round_half_with_hint`] does the same for
/// `⌊exact / 2⌋`: with a second, exact component folded into `base`, the mean of two
/// components (`mean2`, floor at 2⁻⁴⁸), which does not commute with rounding and so is rounded
/// whole — the cell bounds doubled, no division.
///
/// # Invariants
///
/// Built only inside the mark module with `0 < den < 2⁶³` (the normalised divisor) and
/// `|base| < 2¹¹²` (tick prices shifted by 48 bits: one, or an index plus a component for a
/// mean); the cell tests run only when `|num| < 2⁷⁹` and `den ≥ 2¹⁶` (then the exact value
/// exists and every product below fits `i128`); otherwise the division decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quotient {
    /// Added to the quotient, in `I80F48` bits.
    pub(crate) base: i128,
    /// Numerator (`|num| < 2⁷⁹` for the fast test).
    pub(crate) num: i128,
    /// Denominator, `1 ..< 2⁶³`.
    pub(crate) den: i128,
}

/// Below this many bits the quotient may be too large for the cell products: divide instead.
const QUOTIENT_FAST_MIN_DEN: i128 = 1 << 16;

impl Quotient {
    /// A whole number of ticks: numerator 0, so the cell test answers at once (any
    /// denominator gives the same exact value; 2⁶² keeps it on the fast path).
    #[must_use]
    pub(crate) const fn whole(price: Price) -> Quotient {
        Quotient {
            base: (price.0 as i128) << FRAC_BITS,
            num: 0,
            den: 1 << 62,
        }
    }

    /// The value, bit-identical to `ratio_to_fixed(num, den)?.checked_add(base)`.
    #[must_use]
    #[inline]
    pub(crate) fn exact(&self) -> Option<I80F48> {
        ratio_to_fixed(self.num, self.den)?.checked_add(I80F48::from_bits(self.base))
    }

    /// `round_to_tick(self.exact()?, Some(toward))`, using `hint` as a first guess and
    /// updating it.
    ///
    /// The cell of tick `t` is `[t − ½, t + ½]` in ticks, each end included only if
    /// [`round_to_tick`]'s tie rule sends it to `t` (a tie goes up iff `toward > ⌊value⌋`).
    #[must_use]
    #[inline(always)]
    pub(crate) fn round_with_hint(&self, hint: &mut i64, toward: i64) -> Option<Price> {
        self.round_scaled_with_hint::<0>(hint, toward)
    }

    /// `round_to_tick(I80F48::from_bits(self.exact()?.to_bits() >> 1), Some(toward))`: the
    /// value **halved** (rounded toward −∞ at 2⁻⁴⁸) and rounded to a tick, with a hint as
    /// [`Quotient::round_with_hint`]. With `base` holding a second, exact component `y` as
    /// well, this is `round_to_tick(mean2(x, y))` for `x = ` the quotient: the mean of two
    /// components, without dividing.
    #[must_use]
    #[inline(always)]
    pub(crate) fn round_half_with_hint(&self, hint: &mut i64, toward: i64) -> Option<Price> {
        self.round_scaled_with_hint::<1>(hint, toward)
    }

    /// `round_to_tick(⌊exact / 2^HALVINGS⌋)` (bits), hint first, division on a miss.
    #[inline(always)]
    fn round_scaled_with_hint<const HALVINGS: u32>(
        &self,
        hint: &mut i64,
        toward: i64,
    ) -> Option<Price> {
        if let Some(tick) = self.cell_of::<HALVINGS>(*hint, toward) {
            *hint = tick;
            return Some(Price(tick));
        }
        self.round_dividing::<HALVINGS>(hint, toward)
    }

    /// The rare path of the hinted roundings: divide, and remember the tick.
    #[cold]
    #[inline(never)]
    fn round_dividing<const HALVINGS: u32>(&self, hint: &mut i64, toward: i64) -> Option<Price> {
        // The arithmetic shift floors, as `mean2` does.
        let value = I80F48::from_bits(self.exact()?.to_bits() >> HALVINGS);
        let rounded = round_to_tick(value, Some(Price(toward)));
        *hint = rounded.0;
        Some(rounded)
    }

    /// The tick (the hint or a neighbour) whose rounding cell holds `v = ⌊exact / 2^HALVINGS⌋`
    /// (bits), if the comparisons can tell; `None`: divide instead.
    ///
    /// `v ≥ b` iff `base + ⌊num·2⁴⁸/den⌋ ≥ b·2^HALVINGS` (floor of a halving) iff
    /// `num·2⁴⁸ ≥ (b·2^HALVINGS − base)·den`. With `c = hint·2^(48 + HALVINGS) − base`, each
    /// bound is `c` plus a few (scaled) half ticks: one 64×64-bit product per bound
    /// (`|c + k| < 2⁶³`, `den < 2⁶³`), against `num·2⁴⁸ < 2¹²⁷`.
    #[inline(always)]
    fn cell_of<const HALVINGS: u32>(&self, hint: i64, toward: i64) -> Option<i64> {
        let shift = FRAC_BITS + HALVINGS;
        if self.num == 0 && self.base & ((1 << shift) - 1) == 0 {
            // A whole number of ticks (e.g. no funding adjustment): it is its own rounding.
            return i64::try_from(self.base >> shift).ok();
        }
        if self.num.unsigned_abs() >= 1 << 79 || self.den < QUOTIENT_FAST_MIN_DEN {
            return None;
        }
        let centre = i64::try_from((i128::from(hint) << shift) - self.base).ok()?;
        if centre.unsigned_abs() >= 1 << 62 {
            return None;
        }
        cell_around::<HALVINGS>(self.num << FRAC_BITS, self.den as i64, centre, hint, toward)
    }
}

/// The cell test shared by [`Quotient`] and the EMA read-out: the tick (`hint` or a neighbour)
/// whose rounding cell holds `v`, where `v ≥ b` iff `scaled ≥ (b·2^HALVINGS − base)·den`
/// (`scaled = num·2⁴⁸`) and `centre = hint·2^(48 + HALVINGS) − base`; `None` if it is further.
///
/// Needs `|centre| < 2⁶²` and `0 < den < 2⁶³` (any `scaled`): every bound is then an `i64`
/// and every product a single 64×64-bit multiplication.
#[inline(always)]
pub(crate) fn cell_around<const HALVINGS: u32>(
    scaled: i128,
    den: i64,
    centre: i64,
    hint: i64,
    toward: i64,
) -> Option<i64> {
    let shift = FRAC_BITS + HALVINGS;
    let den = i128::from(den);
    let at_least = |relative: i64| scaled >= i128::from(relative) * den;
    let (one, half) = (1i64 << shift, 1i64 << (shift - 1));
    // The lowest bits tick t owns, relative to the hint: t − ½ itself if its tie goes up
    // (`toward > t − 1`), else one bit above (scaled like the rest).
    let lowest = |steps: i64, tick: i64| {
        centre + steps * one - half + (i64::from(toward < tick) << HALVINGS)
    };
    if !at_least(lowest(0, hint)) {
        let below = hint.checked_sub(1)?;
        return at_least(lowest(-1, below)).then_some(below);
    }
    let above = hint.checked_add(1)?;
    if !at_least(lowest(1, above)) {
        return Some(hint);
    }
    let two_above = above.checked_add(1)?;
    (!at_least(lowest(2, two_above))).then_some(above)
}

/// `round_to_tick(doubled / 2, Some(toward))` for a price in half ticks: an odd `doubled` is a
/// tie, which goes up iff `toward > ⌊doubled / 2⌋`.
#[must_use]
#[inline(always)]
pub(crate) fn round_half_ticks(doubled: i64, toward: i64) -> i64 {
    let floor = doubled >> 1;
    floor + i64::from(doubled & 1 == 1 && toward > floor)
}

/// Fractional bits of a decay factor: `1.0` is `1 << 62` (so 1 itself is representable).
pub(crate) const DECAY_FRAC_BITS: u32 = 62;
const DECAY_ONE: u128 = 1 << DECAY_FRAC_BITS;
/// `e^(−n)` for `n ≥ 44` is below 2⁻⁶² and rounds to zero; beyond `44·τ` the decay is exactly 0.
const DECAY_CUTOFF_TAUS: u64 = 44;
/// The longest accepted time constant: 2³⁰ ms (about 12 days).
pub const MAX_TAU_MS: u64 = 1 << 30;

/// `e^f · 2⁶²` for `f · 2⁶²` in `0 ..= 2⁶²`, by its Taylor series (all terms positive), each
/// term rounded down.
fn exp_positive_fraction(f: u128) -> u128 {
    let mut term = DECAY_ONE;
    let mut sum = DECAY_ONE;
    let mut i: u128 = 1;
    while i <= 40 {
        // term ≤ e · 2⁶² < 2⁶⁴ and f ≤ 2⁶²: the product is below 2¹²⁶.
        term = ((term * f) >> DECAY_FRAC_BITS) / i;
        if term == 0 {
            break;
        }
        sum += term;
        i += 1;
    }
    sum
}

/// `e^(−m/τ) · 2⁶²`, rounded down (within a few units of 2⁻⁶²), computed by range reduction:
/// `e^(−n) · e^(−f)` with `n = ⌊m/τ⌋`, `f = (m mod τ)/τ`.
fn exp_negative_ratio(m: u64, tau: u64) -> u64 {
    let whole = m / tau;
    if whole >= DECAY_CUTOFF_TAUS {
        return 0;
    }
    let fraction = (u128::from(m % tau) << DECAY_FRAC_BITS) / u128::from(tau);
    // 2¹²⁴ / e^f: rounded down.
    let mut result = (DECAY_ONE << DECAY_FRAC_BITS) / exp_positive_fraction(fraction);
    let inverse_e = (DECAY_ONE << DECAY_FRAC_BITS) / exp_positive_fraction(DECAY_ONE);
    for _ in 0..whole {
        result = (result * inverse_e) >> DECAY_FRAC_BITS;
    }
    // result ≤ 2⁶², fits u64.
    result as u64
}

/// The exponential decay `e^(−Δt/τ)` for integer milliseconds, in deterministic fixed point.
///
/// # Layout
///
/// A table of `e^(−2ᵏ/τ)` for `k` in `0..64` (each computed directly by a series at
/// construction, not by repeated squaring, so errors do not compound). `decay(Δt)` multiplies
/// the entries of the set bits of `Δt`: a handful of 64×64-bit multiplications, each rounded
/// down at 2⁻⁶².
///
/// # Semantics
///
/// `decay(0) = 1` exactly; `decay(Δt) = 0` exactly once `Δt ≥ 44·τ` (where the true value is
/// below 2⁻⁶²), so a long quiet period decays old weight to exactly zero instead of
/// underflowing into noise; never above 1, never negative.
#[derive(Clone, Debug)]
pub struct Decay {
    /// `e^(−2ᵏ/τ) · 2⁶²` for `k` in `0..64` (boxed: keeps the owning state small).
    table: Box<[u64; 64]>,
    /// `factor(Δt)` for `Δt < SMALL_GAPS`, filled from the bit products at construction (so a
    /// lookup and the product give identical bits): the common case is one load (a fixed
    /// length, so one comparison guards it).
    small: Box<[u64; SMALL_GAPS]>,
    tau_ms: u64,
    cutoff_ms: u64,
}

/// Gaps below this many milliseconds are a table lookup.
const SMALL_GAPS: usize = 256;

impl Decay {
    /// The decay table for time constant `tau_ms`; `None` unless `1 ≤ tau_ms ≤ MAX_TAU_MS`.
    ///
    /// # Examples
    ///
    /// ```
    /// use liqcore::mark::Decay;
    /// let decay = Decay::new(1_000).unwrap();
    /// assert_eq!(decay.factor(0), 1 << 62);
    /// assert_eq!(decay.factor(44_000), 0);
    /// let e_minus_1 = decay.factor(1_000) as f64 / (1u64 << 62) as f64;
    /// assert!((e_minus_1 - (-1f64).exp()).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn new(tau_ms: u64) -> Option<Decay> {
        if tau_ms == 0 || tau_ms > MAX_TAU_MS {
            return None;
        }
        let mut table = Box::new([0u64; 64]);
        for (k, entry) in table.iter_mut().enumerate() {
            *entry = exp_negative_ratio(1u64 << k, tau_ms);
        }
        let mut decay = Decay {
            table,
            small: Box::new([0; SMALL_GAPS]),
            tau_ms,
            cutoff_ms: DECAY_CUTOFF_TAUS * tau_ms,
        };
        let mut small = Box::new([0; SMALL_GAPS]);
        for (dt, factor) in (0u64..).zip(small.iter_mut()) {
            *factor = decay.factor_by_bits(dt);
        }
        decay.small = small;
        Some(decay)
    }

    /// The time constant τ in milliseconds.
    #[must_use]
    pub const fn tau_ms(&self) -> u64 {
        self.tau_ms
    }

    /// The gap (ms) from which the decay is exactly zero: `44·τ`.
    #[must_use]
    pub const fn cutoff_ms(&self) -> u64 {
        self.cutoff_ms
    }

    /// `e^(−Δt/τ)` scaled by 2⁶² (so `1 << 62` is 1), rounded down at each step.
    #[must_use]
    #[inline]
    pub fn factor(&self, dt_ms: u64) -> u64 {
        if dt_ms < SMALL_GAPS as u64 {
            self.small[dt_ms as usize]
        } else {
            self.factor_by_bits(dt_ms)
        }
    }

    fn factor_by_bits(&self, dt_ms: u64) -> u64 {
        if dt_ms == 0 {
            return DECAY_ONE as u64;
        }
        if dt_ms >= self.cutoff_ms {
            return 0;
        }
        let mut acc = DECAY_ONE;
        let mut bits = dt_ms;
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            // k < 64 because bits != 0; entries ≤ 2⁶², acc ≤ 2⁶²: product < 2¹²⁴.
            acc = (acc * u128::from(self.table[k & 63])) >> DECAY_FRAC_BITS;
            bits &= bits - 1;
        }
        acc as u64
    }

    /// `e^(−Δt/τ)` as an `I80F48` (rounded down to 2⁻⁴⁸).
    #[must_use]
    pub fn factor_fixed(&self, dt_ms: u64) -> I80F48 {
        I80F48::from_bits(i128::from(
            self.factor(dt_ms) >> (DECAY_FRAC_BITS - FRAC_BITS),
        ))
    }
}

/// `x · factor / 2⁶²` for a decay factor (`factor ≤ 2⁶²`), rounded toward zero: two 64×64-bit
/// products instead of a 256-bit one. Saturates if `|x| ≥ 2¹²⁶` (outside every bound here).
#[must_use]
#[inline]
pub(crate) fn mul_decay(x: I80F48, factor: u64) -> I80F48 {
    let bits = x.to_bits();
    let magnitude = bits.unsigned_abs();
    let high = (magnitude >> 64) as u64;
    let low = magnitude as u64;
    if high >= 1 << 62 {
        // |x| ≥ 2¹²⁶: outside every bound the inputs allow; saturate rather than wrap.
        return if bits < 0 { I80F48::MIN } else { I80F48::MAX };
    }
    let factor = u128::from(factor);
    // high < 2⁶², factor ≤ 2⁶²: (high · factor) << 2 < 2¹²⁶, and adding the low part (< 2⁶⁴)
    // cannot overflow.
    let product = (((u128::from(high) * factor) << 2)
        + ((u128::from(low) * factor) >> DECAY_FRAC_BITS)) as i128;
    I80F48::from_bits(if bits < 0 { -product } else { product })
}

/// [`mul_decay`] for a weight (`x ≥ 0`, the EMA's `den`): the same bits without the sign
/// handling on the common path.
#[must_use]
#[inline]
pub(crate) fn mul_decay_nonnegative(x: I80F48, factor: u64) -> I80F48 {
    let bits = x.to_bits();
    if !(0..1 << 126).contains(&bits) {
        return mul_decay(x, factor);
    }
    let (high, low) = ((bits >> 64) as u64, bits as u64);
    let factor = u128::from(factor);
    // As `mul_decay`: high < 2⁶², factor ≤ 2⁶², no overflow.
    let product =
        ((u128::from(high) * factor) << 2) + ((u128::from(low) * factor) >> DECAY_FRAC_BITS);
    I80F48::from_bits(product as i128)
}

/// The median of three values (exact; symmetric in its arguments).
#[must_use]
pub fn median3(a: I80F48, b: I80F48, c: I80F48) -> I80F48 {
    a.min(b).max(c.min(a.max(b)))
}

/// The median of the values present: three → the middle one, two → their mean (rounded down
/// at 2⁻⁴⁸), one → it, none → `None`. Symmetric in its arguments.
#[must_use]
pub fn median_of_present(
    a: Option<I80F48>,
    b: Option<I80F48>,
    c: Option<I80F48>,
) -> Option<I80F48> {
    match (a, b, c) {
        (Some(a), Some(b), Some(c)) => Some(median3(a, b, c)),
        (Some(x), Some(y), None) | (Some(x), None, Some(y)) | (None, Some(x), Some(y)) => {
            Some(mean2(x, y))
        }
        (Some(x), None, None) | (None, Some(x), None) | (None, None, Some(x)) => Some(x),
        (None, None, None) => None,
    }
}

/// `(x + y) / 2` rounded toward −∞ at 2⁻⁴⁸ (no overflow for values inside the price bounds).
#[must_use]
pub(crate) fn mean2(x: I80F48, y: I80F48) -> I80F48 {
    I80F48::from_bits((x.to_bits() >> 1) + (y.to_bits() >> 1) + (x.to_bits() & y.to_bits() & 1))
}

/// Rounds a fixed-point price to the nearest tick; an exact half rounds **toward `toward`**
/// (the index price: the tie goes to the side closer to the fair price), or down without one.
/// Saturates at `±MAX_PRICE_TICKS`-scale bounds rather than overflowing.
#[must_use]
#[inline]
pub fn round_to_tick(value: I80F48, toward: Option<Price>) -> Price {
    let bits = value.to_bits();
    let floor = bits >> FRAC_BITS; // arithmetic shift: floor toward −∞
    let fraction = bits - (floor << FRAC_BITS);
    let half = 1i128 << (FRAC_BITS - 1);
    let rounded = if fraction > half {
        floor + 1
    } else if fraction < half {
        floor
    } else {
        match toward {
            Some(target) if i128::from(target.0) > floor => floor + 1,
            _ => floor,
        }
    };
    Price(rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Hints on, next to and far from the answer `want`.
    fn hints_around(want: i64) -> [i64; 7] {
        [want, want - 1, want + 1, want - 2, want + 2, 0, i64::MAX]
    }

    fn f(x: I80F48) -> f64 {
        x.to_num::<f64>()
    }

    #[test]
    fn ratio_is_floor_of_the_exact_quotient() {
        assert_eq!(ratio_to_fixed(7, 2), Some(I80F48::from_num(3.5)));
        assert_eq!(ratio_to_fixed(-7, 2), Some(I80F48::from_num(-3.5)));
        let third = ratio_to_fixed(1, 3).unwrap().to_bits();
        assert_eq!(third, ((1i128 << 48) / 3));
        let minus_third = ratio_to_fixed(-1, 3).unwrap().to_bits();
        assert_eq!(
            minus_third,
            -((1i128 << 48) / 3) - 1,
            "floor, not truncation"
        );
        assert_eq!(ratio_to_fixed(1, 0), None);
        assert_eq!(ratio_to_fixed(1, -1), None);
        assert_eq!(ratio_to_fixed(1 << 100, 1), None);
        assert_eq!(ratio_to_fixed(-6, 3), Some(I80F48::from_num(-2)));
        // A large denominator still gives the exact floor.
        let den = (1i128 << 90) + 12345;
        let num = 3 * den + 7;
        assert_eq!(ratio_to_fixed(num, den).unwrap().to_bits() >> 48, 3);
    }

    #[test]
    fn ratio_agrees_with_fixed_division_on_both_paths() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            // Below 2⁶³: the exact range.
            let den = i128::from(next() >> (1 + next() % 63)).max(1);
            let num = (i128::from(next()) << (next() % 64)) >> 1;
            let want = I80F48::from_bits(num).checked_div(I80F48::from_bits(den));
            assert_eq!(ratio_to_fixed(num, den), want, "{num} / {den}");
        }
    }

    /// `round_with_hint` against dividing, on exact ties (each side of every tie rule), values
    /// one bit off a tie, random values, and hints on, next to and far from the answer.
    #[test]
    fn quotient_rounding_with_any_hint_equals_dividing() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let half = 1i128 << (FRAC_BITS - 1);
        let mut checked = 0;
        for case in 0..4_000 {
            let den = i128::from(next() >> (1 + next() % 47)).max(1 << 16);
            let base = (i128::from(next() % 400_000) - 200_000) << FRAC_BITS;
            let target_bits = match case % 4 {
                // An exact half tick, one bit below or above it, or anywhere.
                0 => (i128::from(next() % 200) - 100) * (1 << FRAC_BITS) + half,
                1 => (i128::from(next() % 200) - 100) * (1 << FRAC_BITS) + half - 1,
                2 => (i128::from(next() % 200) - 100) * (1 << FRAC_BITS) + half + 1,
                _ => (i128::from(next()) - i128::from(u64::MAX / 2)) >> 8,
            };
            // num · 2⁴⁸ / den lands on target_bits (floor), ±den/2⁴⁸ of slack.
            let num = ((target_bits * den) >> FRAC_BITS) + i128::from(next() % 3) - 1;
            let quotient = Quotient { base, num, den };
            let Some(exact) = quotient.exact() else {
                continue;
            };
            let whole = (exact.to_bits() >> FRAC_BITS) as i64;
            for toward in [i64::MIN, whole - 1, whole, whole + 1] {
                let want = round_to_tick(exact, Some(Price(toward)));
                for hint in hints_around(want.0) {
                    let mut hint_now = hint;
                    let got = quotient.round_with_hint(&mut hint_now, toward);
                    assert_eq!(
                        got,
                        Some(want),
                        "{quotient:?} toward {toward:?} hint {hint}"
                    );
                    assert_eq!(hint_now, want.0);
                    checked += 1;
                }
            }
        }
        assert!(checked > 50_000, "{checked}");
        // A whole number of ticks (e.g. a zero funding adjustment) never needs the division.
        let whole = Quotient::whole(Price(5));
        assert_eq!(whole.cell_of::<0>(5, 0), Some(5));
        assert_eq!(whole.cell_of::<0>(4, 0), Some(5));
        assert_eq!(whole.exact(), Some(I80F48::from_num(5)));
        // Not dividable: no value, whatever the hint.
        let none = Quotient {
            base: 0,
            num: 1 << 100,
            den: 1,
        };
        assert_eq!(none.round_with_hint(&mut 0, 0), None);
    }

    /// `round_half_with_hint` (the mean of a quotient and an exact component folded into its
    /// base) against dividing, then `mean2`, then `round_to_tick`: halved values on exact
    /// ties, one bit off a tie, and anywhere; bases from a few ticks to two prices near 2⁴⁰
    /// (an index plus a component), negative offsets, every tie direction, hints on, next to
    /// and far from the answer.
    #[test]
    fn halved_quotient_rounding_with_any_hint_equals_the_exact_mean() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x6a09_e667_f3bc_c909);
        let mut next = move || rng.random::<u64>();
        let one = 1i128 << FRAC_BITS;
        let half = one >> 1;
        let mut checked = 0;
        for case in 0..6_000 {
            let den = i128::from(next() >> (1 + next() % 47)).max(1 << 16);
            // An index near 2⁴⁰ and a second component near it, or small prices; the quotient
            // part is an offset of up to ±100 ticks either side, so negative offsets too.
            let scale = if case % 3 == 0 { 1i64 << 40 } else { 200_000 };
            let index = scale - (next() % 1_000) as i64;
            let other_bits = (i128::from(index) << FRAC_BITS)
                + (i128::from(next() % 4_000) - 2_000) * (half >> (next() % 3));
            let offset_base = if case % 5 == 0 {
                0
            } else {
                (i128::from(next() % 41) - 20) * half
            };
            let base = offset_base + (i128::from(index) << FRAC_BITS) + other_bits;
            // Where the halved value should land: a tie of some tick (half = ½ tick), one bit
            // below or above it, or anywhere within ±100 ticks of the two components.
            let centre = i128::from(index) << FRAC_BITS;
            let tick = centre + (i128::from(next() % 200) - 100) * one;
            let mean_bits = match case % 4 {
                0 => tick + half,
                1 => tick + half - 1,
                2 => tick + half + 1,
                _ => tick + (i128::from(next() % (1 << 20)) << 28),
            };
            // The sum is 2·mean or 2·mean + 1 (both halve to it); the quotient supplies the rest.
            let sum = 2 * mean_bits + i128::from(next() % 2);
            let target = sum - base;
            let num = ((target * den) >> FRAC_BITS) + i128::from(next() % 3) - 1;
            let quotient = Quotient { base, num, den };
            let (Some(x), Some(q)) = (
                // The component the quotient stands for (index + offset), and the quotient alone.
                Quotient {
                    base: offset_base + (i128::from(index) << FRAC_BITS),
                    num,
                    den,
                }
                .exact(),
                quotient.exact(),
            ) else {
                continue;
            };
            let mean = mean2(x, I80F48::from_bits(other_bits));
            assert_eq!(mean.to_bits(), q.to_bits() >> 1, "folding is exact");
            let whole = (mean.to_bits() >> FRAC_BITS) as i64;
            for toward in [i64::MIN, whole - 1, whole, whole + 1, index] {
                let want = round_to_tick(mean, Some(Price(toward)));
                for hint in hints_around(want.0) {
                    let mut hint_now = hint;
                    let got = quotient.round_half_with_hint(&mut hint_now, toward);
                    assert_eq!(got, Some(want), "{quotient:?} toward {toward} hint {hint}");
                    assert_eq!(hint_now, want.0);
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
        // Whole ticks after halving answer at once; an odd half-tick sum is a tie.
        let whole = Quotient {
            base: 10 << (FRAC_BITS + 1),
            num: 0,
            den: 1 << 62,
        };
        assert_eq!(whole.cell_of::<1>(3, 0), Some(10));
        let tie = Quotient {
            base: 21 << FRAC_BITS,
            num: 0,
            den: 1 << 62,
        };
        assert_eq!(tie.round_half_with_hint(&mut 0, 0), Some(Price(10)));
        assert_eq!(tie.round_half_with_hint(&mut 0, 11), Some(Price(11)));
    }

    #[test]
    fn half_ticks_round_like_round_to_tick() {
        for doubled in -9i64..=9 {
            for toward in [i64::MIN, -5, -1, 0, 1, 5] {
                let want = round_to_tick(
                    I80F48::from_bits(i128::from(doubled) << 47),
                    Some(Price(toward)),
                );
                assert_eq!(
                    round_half_ticks(doubled, toward),
                    want.0,
                    "{doubled} {toward}"
                );
            }
        }
    }

    #[test]
    fn decay_matches_the_exponential() {
        for tau in [1u64, 7, 1_000, 30_000, 150_000, MAX_TAU_MS] {
            let decay = Decay::new(tau).unwrap();
            for dt in [0u64, 1, 2, 3, 999, 1_000, 1_001, 65_535, 150_000, 3_000_000] {
                let got = decay.factor(dt) as f64 / (1u64 << 62) as f64;
                let want = (-(dt as f64) / tau as f64).exp();
                assert!(
                    (got - want).abs() < 1e-14,
                    "tau {tau} dt {dt}: {got} vs {want}"
                );
                assert!(decay.factor(dt) <= 1 << 62);
            }
            assert_eq!(decay.factor(44 * tau), 0);
            assert_eq!(decay.factor(u64::MAX), 0);
        }
        assert!(Decay::new(0).is_none());
        assert!(Decay::new(MAX_TAU_MS + 1).is_none());
    }

    #[test]
    fn lookup_and_bit_products_agree() {
        let decay = Decay::new(150_000).unwrap();
        for dt in 0..300 {
            assert_eq!(decay.factor(dt), decay.factor_by_bits(dt), "dt {dt}");
        }
    }

    #[test]
    fn mul_decay_matches_the_wide_product() {
        let decay = Decay::new(1_000).unwrap();
        for x in [
            0i128,
            1,
            -1,
            12_345_678_901,
            -(1 << 100) + 7,
            (1 << 120) + 3,
        ] {
            for dt in [0u64, 1, 500, 3_000] {
                let factor = decay.factor(dt);
                let want = (x.abs() as f64) * (factor as f64 / (1u64 << 62) as f64);
                let got = mul_decay(I80F48::from_bits(x), factor).to_bits();
                assert!(
                    (got.abs() as f64 - want).abs() <= want * 1e-15 + 1.0,
                    "x {x} dt {dt}"
                );
                assert!(got.signum() * x.signum() >= 0);
            }
        }
        assert_eq!(mul_decay(I80F48::from_bits(77), 1 << 62).to_bits(), 77);
        for x in [
            0i128,
            1,
            77,
            (1 << 64) + 5,
            (1 << 90) - 1,
            (1 << 126) - 1,
            1 << 126,
            -3,
        ] {
            for dt in [0u64, 1, 500, 3_000] {
                let factor = decay.factor(dt);
                assert_eq!(
                    mul_decay_nonnegative(I80F48::from_bits(x), factor),
                    mul_decay(I80F48::from_bits(x), factor),
                    "x {x} dt {dt}"
                );
            }
        }
    }

    #[test]
    fn decay_is_monotone_near_the_cutoff() {
        let decay = Decay::new(3).unwrap();
        let mut previous = u64::MAX;
        for dt in 0..=150 {
            let now = decay.factor(dt);
            assert!(now <= previous, "dt {dt}");
            previous = now;
        }
        assert_eq!(decay.factor(132), 0);
    }

    #[test]
    fn medians_are_symmetric() {
        let v = [1.0, 5.0, 3.0].map(I80F48::from_num);
        for (a, b, c) in [
            (0, 1, 2),
            (0, 2, 1),
            (1, 0, 2),
            (1, 2, 0),
            (2, 0, 1),
            (2, 1, 0),
        ] {
            assert_eq!(f(median3(v[a], v[b], v[c])), 3.0);
        }
        assert_eq!(
            median_of_present(Some(v[0]), None, Some(v[1])),
            Some(I80F48::from_num(3.0))
        );
        assert_eq!(median_of_present(None, None, None), None);
        assert_eq!(
            mean2(I80F48::from_bits(-3), I80F48::from_bits(0)),
            I80F48::from_bits(-2)
        );
    }

    #[test]
    fn rounding_goes_to_nearest_and_ties_toward_the_index() {
        let x = |v: f64| I80F48::from_num(v);
        assert_eq!(round_to_tick(x(10.4), None), Price(10));
        assert_eq!(round_to_tick(x(10.6), None), Price(11));
        assert_eq!(round_to_tick(x(10.5), None), Price(10));
        assert_eq!(round_to_tick(x(10.5), Some(Price(20))), Price(11));
        assert_eq!(round_to_tick(x(10.5), Some(Price(5))), Price(10));
        assert_eq!(round_to_tick(x(-0.5), Some(Price(0))), Price(0));
        assert_eq!(round_to_tick(x(-0.6), None), Price(-1));
    }
}
