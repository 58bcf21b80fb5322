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
    let q = n.checked_div(d)?;
    let r = n - q * d;
    Some(if r != 0 && ((r < 0) != (d < 0)) {
        q - 1
    } else {
        q
    })
}

/// `⌈n / d⌉`; `None` if `d == 0` or the quotient overflows.
#[inline]
pub(crate) fn div_ceil(n: i128, d: i128) -> Option<i128> {
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
        assert_eq!(div_floor(1, 0), None);
        assert_eq!(div_ceil(i128::MIN, -1), None);
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
