//! The smoothing components of `liqcore::mark` against naive reference implementations over
//! random update streams: TWAP and VWAP (exact, against a full history), the sampled moving
//! average (exact), and the decaying EMA (against the same recurrence in `f64`).
//!
//! Case count: `LIQCORE_PROPTEST_CASES` (default 64).

use fixed::types::I80F48;
use liqcore::mark::{DecayingEma, SampledAverage, Twap, Vwap, ratio_to_fixed};
use liqcore::types::{Price, Qty};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("LIQCORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// (time step ms, price or value, qty): steps sometimes zero, sometimes beyond the window.
fn updates() -> impl Strategy<Value = Vec<(u64, i64, i64)>> {
    prop::collection::vec(
        (
            prop_oneof![2 => Just(0u64), 6 => 1u64..700, 1 => 700u64..30_000],
            1i64..1_000_000,
            1i64..1_000,
        ),
        1..120,
    )
}

/// First timestamp inside the window that ends in bucket `now / bucket`.
fn window_start(now: u64, bucket: u64, buckets: u64) -> u64 {
    (now / bucket).saturating_sub(buckets - 1) * bucket
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn twap_equals_the_exact_windowed_integral(
        steps in updates(),
        buckets in 1u32..12,
        bucket_ms in 1u64..2_000,
        query_gap in 0u64..10_000,
    ) {
        let mut twap = Twap::new(bucket_ms * u64::from(buckets), buckets).unwrap();
        let mut history = Vec::new();
        let mut ts = 0;
        for &(dt, price, _) in &steps {
            ts += dt;
            twap.update(ts, Price(price));
            history.push((ts, price));
        }
        let now = ts + query_gap;
        twap.advance(now);
        let start = window_start(now, bucket_ms, u64::from(buckets));
        let (mut integral, mut time) = (0i128, 0i128);
        for (i, &(from, price)) in history.iter().enumerate() {
            let to = history.get(i + 1).map_or(now, |&(t, _)| t);
            let (lo, hi) = (from.max(start), to.min(now));
            if hi > lo {
                integral += i128::from(price) * i128::from(hi - lo);
                time += i128::from(hi - lo);
            }
        }
        let want = if time > 0 { ratio_to_fixed(integral, time) } else { None };
        prop_assert_eq!(twap.value(), want);
    }

    #[test]
    fn vwap_equals_the_windowed_sums(
        steps in updates(),
        buckets in 1u32..12,
        bucket_ms in 1u64..2_000,
        query_gap in 0u64..10_000,
    ) {
        let mut vwap = Vwap::new(bucket_ms * u64::from(buckets), buckets).unwrap();
        let mut trades = Vec::new();
        let mut ts = 0;
        for &(dt, price, qty) in &steps {
            ts += dt;
            vwap.trade(ts, Price(price), Qty(qty));
            trades.push((ts, price, qty));
        }
        let now = ts + query_gap;
        vwap.advance(now);
        let start = window_start(now, bucket_ms, u64::from(buckets));
        let (mut notional, mut volume) = (0i128, 0i128);
        for &(t, price, qty) in &trades {
            if t >= start {
                notional += i128::from(price) * i128::from(qty);
                volume += i128::from(qty);
            }
        }
        let want = if volume > 0 { ratio_to_fixed(notional, volume) } else { None };
        prop_assert_eq!(vwap.value(), want);
    }

    #[test]
    fn sampled_average_equals_the_last_samples(
        steps in updates(),
        samples in 1u32..10,
        interval in 1u64..3_000,
        query_gap in 0u64..20_000,
    ) {
        let mut average = SampledAverage::new(interval, samples).unwrap();
        let mut history: Vec<(u64, i64)> = Vec::new();
        let mut ts = 0;
        for &(dt, value, _) in &steps {
            ts += dt;
            average.update(ts, Some(I80F48::from_num(value)));
            history.push((ts, value));
        }
        let now = ts + query_gap;
        average.advance(now);
        // Instants: multiples of the interval strictly after the first timestamp, up to now;
        // each samples the value of the last update strictly before it.
        let first = history[0].0;
        let mut taken = Vec::new();
        let mut instant = (first / interval + 1) * interval;
        while instant <= now {
            if let Some(&(_, value)) = history.iter().rev().find(|&&(t, _)| t < instant) {
                taken.push(value);
            }
            instant += interval;
        }
        let last: Vec<i64> = taken.iter().rev().take(samples as usize).copied().collect();
        let want = if last.is_empty() {
            None
        } else {
            let sum: i128 = last.iter().map(|&v| i128::from(v) << 48).sum();
            Some(I80F48::from_bits(sum.div_euclid(last.len() as i128)))
        };
        prop_assert_eq!(average.value(), want);
    }

    #[test]
    fn ema_follows_the_num_den_recurrence(
        steps in updates(),
        tau in 1u64..200_000,
    ) {
        let mut ema = DecayingEma::new(tau).unwrap();
        let (mut num, mut den) = (0f64, 0f64);
        let mut held: Option<f64> = None;
        let mut last = None;
        let mut ts = 0;
        for &(dt, value, _) in &steps {
            ts += dt;
            if let Some(previous) = last {
                let gap = (ts - previous) as f64;
                let decay = (-gap / tau as f64).exp();
                let weight = gap.min(44.0 * tau as f64);
                num *= decay;
                den *= decay;
                if let Some(x) = held {
                    num += x * weight;
                    den += weight;
                }
            }
            last = Some(ts);
            held = Some(value as f64);
            ema.update(ts, Some(I80F48::from_num(value)));
        }
        match ema.value() {
            Some(got) => {
                let want = num / den;
                let got: f64 = got.to_num();
                prop_assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "ema {} vs f64 {}", got, want
                );
            }
            None => prop_assert!(den * 65_536.0 < 1.0 + 1e-6, "den {}", den),
        }
    }
}
