//! Properties of `liqcore::mark` over random input streams: the mark stays inside the clamp
//! band, a constant input converges to that input, inputs sharing a timestamp commute, and
//! replay is deterministic.
//!
//! Case count: `LIQCORE_PROPTEST_CASES` (default 64).

use liqcore::mark::{
    BookTop, Funding, MarkConfig, MarkError, MarkPrice, MarkUpdate, StaleFallback,
};
use liqcore::types::{Price, Qty, Rate};
use proptest::prelude::*;

/// One input to the mark stage.
#[derive(Clone, Copy, Debug)]
enum Input {
    Index(i64),
    Book { bid: Option<i64>, spread: i64 },
    Trade(i64, i64),
    Reference(i64),
    Funding { rate: i64, ttf_ms: u64 },
    Clock,
}

fn apply(mark: &mut MarkPrice, ts: u64, input: Input) -> Result<Option<MarkUpdate>, MarkError> {
    match input {
        Input::Index(price) => mark.on_index(ts, Price(price)),
        Input::Book { bid, spread } => {
            let top = BookTop {
                best_bid: bid.map(Price),
                best_ask: bid.map(|b| Price(b.saturating_add(spread))),
                impact_bid: bid.map(|b| Price(b.saturating_sub(spread))),
                impact_ask: bid.map(|b| Price(b.saturating_add(spread.saturating_mul(2)))),
            };
            mark.on_book(ts, top)
        }
        Input::Trade(price, qty) => mark.on_trade(ts, Price(price), Qty(qty)),
        Input::Reference(price) => mark.on_reference(ts, Price(price)),
        Input::Funding { rate, ttf_ms } => mark.on_funding(
            ts,
            Funding {
                rate: Rate(rate),
                next_funding_ms: ts.saturating_add(ttf_ms),
                interval_ms: 28_800_000,
            },
        ),
        Input::Clock => mark.on_clock(ts),
    }
}

fn price() -> impl Strategy<Value = i64> {
    8_000i64..12_000
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        3 => price().prop_map(Input::Index),
        4 => (proptest::option::weighted(0.9, price()), 1i64..50)
            .prop_map(|(bid, spread)| Input::Book { bid, spread }),
        4 => (price(), 1i64..1_000).prop_map(|(p, q)| Input::Trade(p, q)),
        1 => price().prop_map(Input::Reference),
        1 => (-1_000_000i64..1_000_000, 0u64..28_800_000)
            .prop_map(|(rate, ttf_ms)| Input::Funding { rate, ttf_ms }),
        1 => Just(Input::Clock),
    ]
}

/// (time step in ms, input): steps up to 20 s, many zero (same-timestamp batches).
fn stream(max: usize) -> impl Strategy<Value = Vec<(u64, Input)>> {
    prop::collection::vec(
        (
            prop_oneof![2 => Just(0u64), 3 => 1u64..2_000, 1 => 2_000u64..20_000],
            input(),
        ),
        1..max,
    )
}

fn configs() -> Vec<(&'static str, MarkConfig)> {
    let band = Some(Rate(2_000_000));
    vec![
        ("last", MarkConfig::last().with_clamp(band)),
        ("mid", MarkConfig::mid().with_clamp(band)),
        ("median3", MarkConfig::median3().with_clamp(band)),
        ("ema_median", MarkConfig::ema_median().with_clamp(band)),
        (
            "median3_stale_index",
            MarkConfig::median3().with_staleness(Some(5_000), StaleFallback::StaleIndex),
        ),
        (
            "ema_median_local",
            MarkConfig::ema_median().with_staleness(Some(5_000), StaleFallback::LocalMedian),
        ),
    ]
}

fn cases() -> u32 {
    std::env::var("LIQCORE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn mark_stays_inside_the_clamp_band(steps in stream(300)) {
        for (name, config) in configs() {
            let mut mark = MarkPrice::new(config).unwrap();
            let mut ts = 0;
            for &(dt, input) in &steps {
                ts += dt;
                apply(&mut mark, ts, input).unwrap();
                let clamped_now = !mark.is_stale()
                    || config.stale_fallback == StaleFallback::StaleIndex;
                if let (Some(price), Some((lower, upper)), true) =
                    (mark.mark(), mark.clamp_bounds(), clamped_now)
                {
                    prop_assert!(
                        lower <= price && price <= upper,
                        "{name}: mark {price:?} outside [{lower:?}, {upper:?}] at {ts}"
                    );
                }
            }
        }
    }

    #[test]
    fn constant_input_converges_to_it(prefix in stream(60), level in price()) {
        for (name, config) in configs() {
            let mut mark = MarkPrice::new(config).unwrap();
            let mut ts = 0;
            for &(dt, input) in &prefix {
                ts += dt;
                apply(&mut mark, ts, input).unwrap();
            }
            let constant = [
                Input::Funding { rate: 0, ttf_ms: 0 },
                Input::Index(level),
                Input::Book { bid: Some(level - 1), spread: 2 },
                Input::Trade(level, 1),
                Input::Reference(level),
            ];
            // Two hours at one update batch every 5 s: beyond 44·τ of every EMA and well past
            // the 30-minute basis average.
            for _ in 0..1_440 {
                ts += 5_000;
                for input in constant {
                    apply(&mut mark, ts, input).unwrap();
                }
            }
            prop_assert_eq!(mark.mark(), Some(Price(level)), "{}", name);
        }
    }

    #[test]
    fn inputs_sharing_a_timestamp_commute(
        prefix in stream(80),
        batch in (price(), price(), 1i64..50, price(), price(), -1_000_000i64..1_000_000)
            .prop_map(|(index, bid, spread, trade, reference, rate)| vec![
                Input::Index(index),
                Input::Book { bid: Some(bid), spread },
                Input::Trade(trade, 3),
                Input::Reference(reference),
                Input::Funding { rate, ttf_ms: 1_000_000 },
                Input::Clock,
            ])
            .prop_shuffle(),
        suffix in stream(80),
        gap in 1u64..100_000,
    ) {
        for (name, config) in configs() {
            let run = |batch: &[Input]| {
                let mut mark = MarkPrice::new(config).unwrap();
                let mut ts = 0;
                for &(dt, input) in &prefix {
                    ts += dt;
                    apply(&mut mark, ts, input).unwrap();
                }
                ts += gap;
                for &input in batch {
                    apply(&mut mark, ts, input).unwrap();
                }
                let mut marks = vec![(mark.mark(), mark.is_stale(), mark.components())];
                for &(dt, input) in &suffix {
                    ts += dt;
                    apply(&mut mark, ts, input).unwrap();
                    marks.push((mark.mark(), mark.is_stale(), mark.components()));
                }
                marks
            };
            let mut reversed = batch.clone();
            reversed.reverse();
            prop_assert_eq!(run(&batch), run(&reversed), "{}", name);
        }
    }

    #[test]
    fn replay_is_deterministic(steps in stream(200)) {
        for (name, config) in configs() {
            let run = || {
                let mut mark = MarkPrice::new(config).unwrap();
                let mut ts = 0;
                steps
                    .iter()
                    .map(|&(dt, input)| {
                        ts += dt;
                        apply(&mut mark, ts, input)
                    })
                    .collect::<Vec<_>>()
            };
            prop_assert_eq!(run(), run(), "{}", name);
        }
    }
}

/// Any input at all, extremes included.
fn wild_input() -> impl Strategy<Value = Input> {
    let wild = prop_oneof![
        any::<i64>(),
        Just(i64::MAX),
        Just(i64::MIN),
        Just(0i64),
        1i64..=(1 << 40)
    ];
    prop_oneof![
        wild.clone().prop_map(Input::Index),
        (proptest::option::of(wild.clone()), any::<i64>()).prop_map(|(bid, spread)| Input::Book {
            bid,
            spread: spread.clamp(-(1 << 40), 1 << 40)
        }),
        (wild.clone(), wild.clone()).prop_map(|(p, q)| Input::Trade(p, q)),
        wild.clone().prop_map(Input::Reference),
        (any::<i64>(), any::<u32>()).prop_map(|(rate, ttf)| Input::Funding {
            rate,
            ttf_ms: u64::from(ttf)
        }),
        Just(Input::Clock),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Bad input is a rejection, never a panic (this runs in the debug build, with overflow
    /// checks on), and a rejection changes nothing.
    #[test]
    fn arbitrary_inputs_never_panic(
        steps in prop::collection::vec(
            (prop_oneof![Just(0u64), any::<u64>(), 0u64..100_000], wild_input()),
            1..100,
        ),
    ) {
        for (_, config) in configs() {
            let mut mark = MarkPrice::new(config).unwrap();
            let mut ts = 0u64;
            for &(dt, input) in &steps {
                ts = ts.saturating_add(dt);
                let before = (mark.mark(), mark.is_stale(), mark.now(), mark.components());
                // A book built from a wild bid may carry out-of-range sides: rejected.
                if apply(&mut mark, ts, input).is_err() {
                    let after = (mark.mark(), mark.is_stale(), mark.now(), mark.components());
                    prop_assert_eq!(before, after);
                }
            }
        }
    }
}
