//! Liquidation and bankruptcy prices: exact rational roots of a piecewise-linear equation,
//! rounded to the tick in the venue's favour.
//!
//! # Semantics
//!
//! For the position being solved (signed size `q` lots, `m` money units per tick × lot), the
//! equity that covers it is linear in its mark `P` (ticks), every other mark held:
//!
//! ```text
//! equity(P) = base + q · m · P
//! ```
//!
//! (isolated: `base = margin − entry_notional`; cross: `base = collateral + Σ other cross
//! unrealized PnL − entry_notional`). The bankruptcy price solves `equity(P) = 0`; the
//! liquidation price solves `equity(P) = other_mm + MM(P)`, where `MM` is constant for
//! `mm_basis = entry` and piecewise linear in the notional `N = |q|·m·P` for `mm_basis = mark`.
//! Because every rate is below 1, `equity − MM` is strictly monotone in `N` (increasing for a
//! long, decreasing for a short), so the root is unique: the tier it lies in is found by
//! evaluating the equation exactly at each tier floor, then solved in that tier.
//!
//! The root `num / den` is rounded up for a long (liquidate at or before the exact price) and
//! down for a short. A long whose root is `≤ 0` has no liquidation price (`None`); a short whose
//! root is `≤ 0` is liquidatable at any mark (`Some(Price(0))`).
//!
//! # Bounds
//!
//! Exact while `|base|`, `|other_mm|` and every floor stay below ~10²⁹ money units (10¹⁷
//! quote): the largest product formed is `10⁸ · base`. Beyond, checked arithmetic returns
//! `None` instead of a wrong price.

use crate::risk::num::{RATE_DEN, div_ceil, div_floor};
use crate::risk::tiers::{MarginTiers, MmBasis};
use crate::types::{Money, Price};

/// The inputs of one solve.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SolveInput<'a> {
    /// Signed position size, lots (non-zero).
    pub(crate) size: i64,
    /// Money units per tick × lot.
    pub(crate) money_per_tick_lot: i128,
    /// Equity at mark 0: `equity(P) = base + size · m · P`.
    pub(crate) base: i128,
    /// Maintenance margin of everything else on the same equity (rounded, money units).
    pub(crate) other_mm: i128,
    /// The symbol's tiers.
    pub(crate) tiers: &'a MarginTiers,
    /// Price basis of this symbol's maintenance margin.
    pub(crate) basis: MmBasis,
    /// `|entry notional|` (for `MmBasis::Entry`).
    pub(crate) entry_notional_abs: i128,
}

/// Rounds the root `num / den` to a tick in the venue's favour and clamps it as described in
/// the module docs.
fn round_root(num: i128, den: i128, long: bool) -> Option<Price> {
    if long {
        let p = div_ceil(num, den)?;
        if p <= 0 {
            None
        } else {
            Some(Price(i64::try_from(p).unwrap_or(i64::MAX)))
        }
    } else {
        let p = div_floor(num, den)?;
        if p >= i128::from(i64::MAX) {
            None
        } else {
            Some(Price(i64::try_from(p.max(0)).unwrap_or(0)))
        }
    }
}

/// The mark at which the equity is zero.
pub(crate) fn bankruptcy_price(input: &SolveInput<'_>) -> Option<Price> {
    if input.size == 0 {
        return None;
    }
    // base + q·m·P = 0  →  P = −base / (q·m)
    let den = i128::from(input.size).checked_mul(input.money_per_tick_lot)?;
    round_root(input.base.checked_neg()?, den, input.size > 0)
}

/// The mark at which the equity equals the maintenance margin.
pub(crate) fn liquidation_price(input: &SolveInput<'_>) -> Option<Price> {
    if input.size == 0 {
        return None;
    }
    let long = input.size > 0;
    let qm = i128::from(input.size).checked_mul(input.money_per_tick_lot)?;
    let gap = input.base.checked_sub(input.other_mm)?;
    match input.basis {
        MmBasis::Entry => {
            // base + q·m·P = other_mm + MM  →  P = (MM − gap) / (q·m)
            let mm = input
                .tiers
                .maintenance_margin(Money(input.entry_notional_abs))
                .0;
            round_root(mm.checked_sub(gap)?, qm, long)
        }
        MmBasis::Mark => solve_mark_basis(input, gap, long),
    }
}

/// `F(N) = 10⁸·gap + s·10⁸·N − (N·rate − cum)` in tier `t`, where `s = ±1` is the side; the
/// root of `F` is the liquidation notional.
fn scaled_gap_at(gap8: i128, n: i128, rate: i128, cum: i128, long: bool) -> Option<i128> {
    let value = n.checked_mul(RATE_DEN)?;
    let signed = if long { value } else { value.checked_neg()? };
    gap8.checked_add(signed)?
        .checked_sub(n.checked_mul(rate)?)?
        .checked_add(cum)
}

/// The tier holding the root of `F(N) = level` ([`scaled_gap_at`]): `F` is monotone in `N`
/// and continuous across tiers, so it is the last tier whose floor is still before the root
/// (long: `F(floor) ≤ level`; short: `F(floor) ≥ level`). Tier 0 is taken as before it: the
/// caller has checked that. `None` on overflow.
fn root_tier(tiers: &MarginTiers, gap8: i128, long: bool, level: i128) -> Option<usize> {
    let mut tier = 0;
    for (t, row) in tiers.rows().iter().enumerate().skip(1) {
        let f = scaled_gap_at(gap8, row.floor, row.rate, row.cum_scaled, long)?;
        let before_root = if long { f <= level } else { f >= level };
        if !before_root {
            break;
        }
        tier = t;
    }
    Some(tier)
}

fn solve_mark_basis(input: &SolveInput<'_>, gap: i128, long: bool) -> Option<Price> {
    let gap8 = gap.checked_mul(RATE_DEN)?;
    // F(0) = 10⁸·gap. A long with gap ≥ 0 never reaches MM at a positive mark; a short with
    // gap ≤ 0 is already below it at any mark.
    if long && gap8 >= 0 {
        return None;
    }
    if !long && gap8 <= 0 {
        return Some(Price(0));
    }
    // Tier 0 (floor 0, F = 10⁸·gap) is before the root, by the two tests above.
    let row = input.tiers.rows()[root_tier(input.tiers, gap8, long, 0)?];
    // 10⁸·gap + s·10⁸·N − N·rate + cum = 0  →  N = (10⁸·gap + cum) / (rate − s·10⁸),
    // P = N / (|q|·m).
    let num = gap8.checked_add(row.cum_scaled)?;
    let slope = if long {
        row.rate - RATE_DEN
    } else {
        row.rate + RATE_DEN
    };
    let qm_abs = i128::from(input.size)
        .checked_abs()?
        .checked_mul(input.money_per_tick_lot)?;
    round_root(num, slope.checked_mul(qm_abs)?, long)
}

/// The firing key of the position, exactly: for a long the highest mark `P ≥ 1` at which
/// [`margin_gap_at`] is `≤ 0`, for a short the lowest mark `P ≥ 2` at which it is (below 2 a
/// short is liquidatable at every positive mark). `None` outside those ranges or on
/// overflow: the caller then steps from [`liquidation_price`] instead.
///
/// The test "gap ≤ 0" is linear once the rounding of the maintenance margin is folded in:
/// with `A = base − other_mm + q·m·P` (an integer) and `MM = ⌈X / 10⁸⌉`,
/// `A ≤ ⌈X / 10⁸⌉ ⇔ 10⁸·A − X ≤ 10⁸ − 1`, and `10⁸·A − X` is [`scaled_gap_at`] of the
/// notional at `P` — continuous across tiers (the tiers' `cum` make `MM` continuous before
/// rounding) and strictly monotone in `P`. So the key is the root of
/// `scaled_gap = 10⁸ − 1`, found in the tier that holds it, rounded toward the liquidatable
/// side: no trial evaluations.
pub(crate) fn liquidation_key(input: &SolveInput<'_>) -> Option<i64> {
    const K: i128 = RATE_DEN - 1;
    if input.size == 0 {
        return None;
    }
    let long = input.size > 0;
    let qm_abs = i128::from(input.size)
        .checked_abs()?
        .checked_mul(input.money_per_tick_lot)?;
    let gap = input.base.checked_sub(input.other_mm)?;
    let key = match input.basis {
        MmBasis::Entry => {
            // gap + q·m·P ≤ MM, with MM fixed.
            let mm = input
                .tiers
                .maintenance_margin(Money(input.entry_notional_abs))
                .0;
            if long {
                div_floor(mm.checked_sub(gap)?, qm_abs)?
            } else {
                div_ceil(gap.checked_sub(mm)?, qm_abs)?
            }
        }
        MmBasis::Mark => {
            let gap8 = gap.checked_mul(RATE_DEN)?;
            // Tier 0 must be before the root (else no positive mark, or every one, is).
            let rows = input.tiers.rows();
            let at_zero = gap8.checked_add(rows.first()?.cum_scaled)?;
            if (long && at_zero > K) || (!long && at_zero < K) {
                return None;
            }
            let row = rows[root_tier(input.tiers, gap8, long, K)?];
            // Long: gap8 + cum + N·(10⁸ − rate) = K; short: gap8 + cum − N·(10⁸ + rate) = K;
            // N = |q|·m·P.
            let rest = gap8.checked_add(row.cum_scaled)?;
            if long {
                let slope = (RATE_DEN - row.rate).checked_mul(qm_abs)?;
                div_floor(K.checked_sub(rest)?, slope)?
            } else {
                let slope = (RATE_DEN + row.rate).checked_mul(qm_abs)?;
                div_ceil(rest.checked_sub(K)?, slope)?
            }
        }
    };
    let key = i64::try_from(key).ok()?;
    let in_range = if long { key >= 1 } else { key >= 2 };
    in_range.then_some(key)
}

/// `equity(P) − other_mm − MM(P)` at own mark `P`, exactly as the engine evaluates it (the
/// position's maintenance margin rounded up): the position is liquidatable at `P` iff this is
/// `≤ 0`. `None` on overflow.
pub(crate) fn margin_gap_at(input: &SolveInput<'_>, price: i64) -> Option<i128> {
    let qm = i128::from(input.size).checked_mul(input.money_per_tick_lot)?;
    let equity = input.base.checked_add(qm.checked_mul(i128::from(price))?)?;
    let notional = match input.basis {
        MmBasis::Entry => input.entry_notional_abs,
        MmBasis::Mark => qm.checked_mul(i128::from(price))?.checked_abs()?,
    };
    let mm = input.tiers.maintenance_margin(Money(notional)).0;
    equity.checked_sub(input.other_mm)?.checked_sub(mm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::tiers::{Leverage, MarginTier};
    use crate::types::Rate;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn one_tier(mmr: i64) -> MarginTiers {
        MarginTiers::new(
            &[MarginTier {
                floor: Money::ZERO,
                mmr: Rate(mmr),
                max_leverage: None,
            }],
            Leverage::from_whole(100),
        )
        .unwrap()
    }

    /// The closed-form key is the exact boundary of the maintenance test `margin_gap_at ≤ 0`,
    /// for longs and shorts, both bases, one tier or several, cross (`other_mm`) or not.
    #[test]
    fn liquidation_key_is_the_exact_boundary() {
        let tier = |floor: i128, mmr: i64| MarginTier {
            floor: Money(floor),
            mmr: Rate(mmr),
            max_leverage: None,
        };
        let tier_sets = [
            MarginTiers::new(&[tier(0, 500_000)], Leverage::from_whole(100)).unwrap(),
            MarginTiers::new(
                &[
                    tier(0, 1_000_000),
                    tier(2_000 * Money::UNIT, 2_500_000),
                    tier(6_000 * Money::UNIT, 5_000_000),
                ],
                Leverage::from_whole(50),
            )
            .unwrap(),
            MarginTiers::new(&[tier(0, 40_000_000)], Leverage::from_whole(2)).unwrap(),
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x9E37_79B9_7F4A_7C15);
        let mut next = move || rng.random::<u64>();
        let mut keyed = 0;
        for i in 0..40_000 {
            let tiers = &tier_sets[i % tier_sets.len()];
            let basis = if i % 5 == 0 {
                MmBasis::Entry
            } else {
                MmBasis::Mark
            };
            let m = [1i128, 1_000, 100_000_000][(next() % 3) as usize];
            let size = (next() % 2_000) as i64 + 1;
            let size = if next() % 2 == 0 { size } else { -size };
            let entry_price = (next() % 200_000) as i128 + 1;
            let entry = i128::from(size) * m * entry_price;
            let margin = (next() % 1_000_000) as i128 * m;
            let input = SolveInput {
                size,
                money_per_tick_lot: m,
                base: margin - entry,
                other_mm: if i % 3 == 0 {
                    (next() % 10_000) as i128 * m
                } else {
                    0
                },
                tiers,
                basis,
                entry_notional_abs: entry.abs(),
            };
            let liq = |p: i64| margin_gap_at(&input, p).is_some_and(|g| g <= 0);
            let Some(key) = liquidation_key(&input) else {
                continue;
            };
            keyed += 1;
            if size > 0 {
                assert!(key >= 1 && liq(key) && !liq(key + 1), "{input:?} key {key}");
            } else {
                assert!(key >= 2 && liq(key) && !liq(key - 1), "{input:?} key {key}");
            }
            // The rounded price it replaces is within a tick of it (where there is one: a long
            // at exactly zero gap has none, though it is liquidatable at the lowest marks).
            if let Some(guess) = liquidation_price(&input) {
                assert!(
                    (guess.0 - key).abs() <= 1,
                    "{input:?} key {key} guess {guess:?}"
                );
            }
        }
        assert!(keyed > 20_000, "only {keyed} inputs had a key");
        // A long at exactly zero gap: liquidatable at mark 1 (its margin rounds up to 1 unit),
        // which the rounded price (no root above 0) does not show.
        let input = SolveInput {
            size: 1,
            money_per_tick_lot: 1,
            base: 0,
            other_mm: 0,
            tiers: &tier_sets[0],
            basis: MmBasis::Mark,
            entry_notional_abs: 1,
        };
        assert_eq!(liquidation_price(&input), None);
        assert_eq!(liquidation_key(&input), Some(1));
        assert!(margin_gap_at(&input, 1).is_some_and(|g| g <= 0));
        assert!(margin_gap_at(&input, 2).is_some_and(|g| g > 0));
    }

    #[test]
    fn hyperliquid_isolated_mark_basis() {
        // Tick 0.0001, lot 1 → m = 10⁸ money units; entry 100, size 1, margin 10, mmr 2.5 %.
        let tiers = one_tier(2_500_000);
        let m = 100_000_000i128;
        let entry = 100 * Money::UNIT;
        let long = SolveInput {
            size: 1,
            money_per_tick_lot: m,
            base: 10 * Money::UNIT - entry,
            other_mm: 0,
            tiers: &tiers,
            basis: MmBasis::Mark,
            entry_notional_abs: entry,
        };
        assert_eq!(liquidation_price(&long), Some(Price(923_077)));
        let short = SolveInput {
            size: -1,
            base: 10 * Money::UNIT + entry,
            ..long
        };
        assert_eq!(liquidation_price(&short), Some(Price(1_073_170)));
        assert_eq!(bankruptcy_price(&long), Some(Price(900_000)));
        assert_eq!(bankruptcy_price(&short), Some(Price(1_100_000)));
    }

    #[test]
    fn degenerate_roots_are_clamped() {
        let tiers = one_tier(1_000_000);
        let safe_long = SolveInput {
            size: 1,
            money_per_tick_lot: 1,
            base: 5,
            other_mm: 0,
            tiers: &tiers,
            basis: MmBasis::Mark,
            entry_notional_abs: 0,
        };
        assert_eq!(liquidation_price(&safe_long), None);
        assert_eq!(bankruptcy_price(&safe_long), None);
        let broke_short = SolveInput {
            size: -1,
            base: -5,
            ..safe_long
        };
        assert_eq!(liquidation_price(&broke_short), Some(Price(0)));
        assert_eq!(bankruptcy_price(&broke_short), Some(Price(0)));
    }
}
