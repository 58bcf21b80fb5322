//! Exact integer helpers for the risk stage: divisions with a stated rounding direction and a
//! multiply-divide that cannot overflow for the ratios positions use.
//!
//! A 128-bit division is a library call (tens of nanoseconds), so each helper performs exactly
//! one and recovers the remainder with a multiply.

/// `Rate::ONE` as `i128`: the denominator of every rate (10⁸).
pub(crate) const RATE_DEN: i128 = crate::types::Rate::ONE.0 as i128;

/// `⌊n / d⌋`; `None` if `d == 0` or the quotient overflows.
#[inline]
pub(crate) fn div_floor(n: i128, d: i128) -> Option<i128> {
    // 64-bit operands divide in hardware instead of through the 128-bit library call.
    if let (Ok(n), Ok(d)) = (i64::try_from(n), i64::try_from(d))
        && let Some(q) = n.checked_div(d)
    {
        let r = n - q * d;
        let q = i128::from(q);
        return Some(if r != 0 && ((r < 0) != (d < 0)) {
            q - 1
        } else {
            q
        });
    }
    let q = n.checked_div(d)?;
    let r = n - q * d;
    Some(if r != 0 && ((r < 0) != (d < 0)) {
        q - 1
    } else {
        q
    })
}

/// `a · b`, saturating; a plain multiply when both fit in `i64` (the product is exact then).
#[inline]
pub(crate) fn mul_sat(a: i128, b: i128) -> i128 {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(a), Ok(b)) => i128::from(a) * i128::from(b),
        _ => a.saturating_mul(b),
    }
}

/// `n / d` rounded toward zero (Rust's `/`) for `d > 0`, in 64 bits when both fit.
#[inline]
pub(crate) fn div_trunc(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    if let (Ok(n), Ok(d)) = (i64::try_from(n), i64::try_from(d))
        && d > 0
    {
        return i128::from(n / d);
    }
    n.checked_div(d).unwrap_or(0)
}

/// `⌈n / d⌉`; `None` if `d == 0` or the quotient overflows.
#[inline]
pub(crate) fn div_ceil(n: i128, d: i128) -> Option<i128> {
    if let (Ok(n), Ok(d)) = (i64::try_from(n), i64::try_from(d))
        && let Some(q) = n.checked_div(d)
    {
        let r = n - q * d;
        let q = i128::from(q);
        return Some(if r != 0 && ((r > 0) == (d > 0)) {
            q + 1
        } else {
            q
        });
    }
    let q = n.checked_div(d)?;
    let r = n - q * d;
    Some(if r != 0 && ((r > 0) == (d > 0)) {
        q + 1
    } else {
        q
    })
}

/// `⌊a · b / c⌋` for `0 ≤ b ≤ c`, `c > 0`, without overflow for any `a`.
///
/// With `a = q·c + r` (`0 ≤ r < c`): `a·b/c = q·b + r·b/c`, where `|q·b| ≤ |a| + c` and
/// `r·b < c² < 2¹²⁶`, so nothing overflows.
#[inline]
pub(crate) fn mul_div_floor(a: i128, b: i64, c: i64) -> i128 {
    debug_assert!(0 <= b && b <= c && c > 0);
    let (b, c) = (i128::from(b), i128::from(c));
    let (q, r) = euclid(a, c);
    q * b + (r * b) / c
}

/// `⌈a · b / c⌉` for `0 ≤ b ≤ c`, `c > 0`, without overflow for any `a` (see
/// [`mul_div_floor`]).
#[inline]
pub(crate) fn mul_div_ceil(a: i128, b: i64, c: i64) -> i128 {
    debug_assert!(0 <= b && b <= c && c > 0);
    let (b, c) = (i128::from(b), i128::from(c));
    let (q, r) = euclid(a, c);
    q * b + (r * b + c - 1) / c
}

/// `(q, r)` with `a = q·c + r` and `0 ≤ r < c`, for `c > 0`, with one division.
#[inline]
fn euclid(a: i128, c: i128) -> (i128, i128) {
    let q = a / c;
    let r = a - q * c;
    if r < 0 { (q - 1, r + c) } else { (q, r) }
}

/// `⌈(n · rate − cum) / 10⁸⌉` for `n ≥ 0`, where `cum = cum_hi · 10⁸ + cum_lo` with
/// `0 ≤ cum_lo < 10⁸` (a fee has `cum = 0`; a maintenance margin has its tier's amount).
/// `None` on overflow.
///
/// Fast path (`n < 2⁶³`, every notional under ~9.2·10⁶ quote): `n = a · 10⁸ + b`, so the result
/// is `a · rate − cum_hi + ⌈(b · rate − cum_lo) / 10⁸⌉`, where both divisions are 64-bit
/// divisions by a constant (a multiply and a shift) instead of a 128-bit library call.
#[inline]
pub(crate) fn rate_ceil(n: i128, rate: i64, cum_hi: i128, cum_lo: i64) -> Option<i128> {
    const DEN: i64 = RATE_DEN as i64;
    if let Ok(small) = u64::try_from(n)
        && small <= i64::MAX as u64
    {
        let a = (small / DEN as u64) as i128;
        let b = (small % DEN as u64) as i64;
        // |b · rate| < 10⁸ · 2⁶³ / … : b < 10⁸ and |rate| < 10⁸ here (rates are below 1), so
        // the product is below 10¹⁶ and the subtraction cannot overflow.
        let rest = b * rate - cum_lo;
        let q = rest / DEN;
        let rest_ceil = if rest - q * DEN > 0 { q + 1 } else { q };
        return (a * i128::from(rate))
            .checked_sub(cum_hi)?
            .checked_add(i128::from(rest_ceil));
    }
    let scaled = n
        .checked_mul(i128::from(rate))?
        .checked_sub(cum_hi.checked_mul(RATE_DEN)?)?
        .checked_sub(i128::from(cum_lo))?;
    div_ceil(scaled, RATE_DEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisions_round_as_named_for_every_sign() {
        for n in -7i128..=7 {
            for d in [-3i128, -2, -1, 1, 2, 3] {
                let exact = n as f64 / d as f64;
                assert_eq!(div_floor(n, d), Some(exact.floor() as i128), "{n}/{d}");
                assert_eq!(div_ceil(n, d), Some(exact.ceil() as i128), "{n}/{d}");
            }
        }
        assert_eq!(mul_sat(-3, 1 << 62), -3 << 62);
        assert_eq!(mul_sat(i128::MAX / 2, 3), i128::MAX);
        assert_eq!(mul_sat(i128::MIN / 2, 3), i128::MIN);
        assert_eq!(div_trunc(-7, 2), -3);
        assert_eq!(div_trunc(7 << 80, 2), 7 << 79);
        assert_eq!(div_trunc(-(7 << 80) - 1, 1 << 81), -3);
        assert_eq!(div_floor(1, 0), None);
        assert_eq!(div_ceil(i128::MIN, -1), None);
        // The 64-bit path agrees with the 128-bit one, at its edges too.
        let min = i128::from(i64::MIN);
        assert_eq!(div_floor(min, -1), Some(-min));
        assert_eq!(div_ceil(min, -1), Some(-min));
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = i128::from(x as i64);
            let d = i128::from((x.rotate_left(29) as i64) >> (x % 60)).max(1);
            for (n, d) in [(n, d), (-n, d), (n, -d), (n << 70, d), (n, d << 70)] {
                let (q, r) = (n / d, n % d);
                let floor = if r != 0 && ((r < 0) != (d < 0)) {
                    q - 1
                } else {
                    q
                };
                let ceil = if r != 0 && ((r > 0) == (d > 0)) {
                    q + 1
                } else {
                    q
                };
                assert_eq!(div_floor(n, d), Some(floor), "{n}/{d}");
                assert_eq!(div_ceil(n, d), Some(ceil), "{n}/{d}");
            }
        }
    }

    #[test]
    fn rate_ceil_fast_path_matches_the_exact_division() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..20_000 {
            let n = match i % 4 {
                0 => i128::from(next() % 1_000),
                1 => i128::from(next() >> 1),
                2 => i128::from(next()) << 20,
                _ => i128::from(i64::MAX) + i128::from(next() % 3) - 1,
            };
            let rate = (next() % 99_999_999) as i64 - if i % 3 == 0 { 50_000_000 } else { 0 };
            let cum = i128::from(next() % (1 << 60));
            let (cum_hi, cum_lo) = (cum / RATE_DEN, (cum % RATE_DEN) as i64);
            let exact = div_ceil(n * i128::from(rate) - cum, RATE_DEN);
            assert_eq!(
                rate_ceil(n, rate, cum_hi, cum_lo),
                exact,
                "{n} {rate} {cum}"
            );
        }
    }

    #[test]
    fn mul_div_is_exact_and_does_not_overflow() {
        for a in -20i128..=20 {
            for c in 1i64..=5 {
                for b in 0..=c {
                    let p = a * i128::from(b);
                    let c128 = i128::from(c);
                    assert_eq!(mul_div_floor(a, b, c), div_floor(p, c128).unwrap());
                    assert_eq!(mul_div_ceil(a, b, c), div_ceil(p, c128).unwrap());
                }
            }
        }
        // a·3/4 = a − a/4, where a·3 itself would overflow.
        let big = i128::MAX / 2;
        assert_eq!(mul_div_floor(big, 3, 4), big - div_ceil(big, 4).unwrap());
        assert_eq!(mul_div_ceil(-big, 3, 4), -big + div_ceil(big, 4).unwrap());
        let m = i64::MAX;
        assert_eq!(
            mul_div_floor(big, m - 1, m),
            big - div_ceil(big, i128::from(m)).unwrap()
        );
    }
}
