//! Properties of `liqcore::mark` over random input streams: the mark stays inside the clamp
//! band, a constant input converges to that input, inputs sharing a timestamp commute, and
//! replay is deterministic.
//!
//! Case count: `LIQCORE_PROPTEST_CASES` (default 64).

use fixed::types::I80F48;
use liqcore::mark::{
    BasisSource, BookTop, EmaMedianConfig, Funding, FundingConvention, HOUR_MS, MAX_PRICE_TICKS,
    MarkConfig, MarkError, MarkMethod, MarkPrice, MarkUpdate, Median3Config, StaleFallback,
    round_to_tick,
};
use liqcore::types::{Price, Qty, Rate};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

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

    /// The division-free rounding equals rounding the exact value, on every input (the
    /// seeded sparse streams below reach the rare cases far more often).
    #[test]
    fn the_mark_is_the_exact_value_rounded(steps in stream(300)) {
        for (name, config) in configs().into_iter().chain(exact_configs()) {
            let mut mark = MarkPrice::new(config).unwrap();
            let (mut ts, mut index) = (0, None);
            for &(dt, input) in &steps {
                ts += dt;
                let before = mark.mark();
                apply(&mut mark, ts, input).unwrap();
                if let Input::Index(price) = input {
                    index = Some(Price(price));
                }
                prop_assert_eq!(
                    mark.mark(),
                    exact_mark(&mark, before, index, &config),
                    "{} at {}: {:?}", name, ts, mark.components()
                );
            }
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

// ---------------------------------------------------------------------------------------------
// The division-free path against the exact one.
//
// `MarkPrice` rounds its components without dividing (cell tests on undivided quotients, the
// median of rounded components, the mean of two components folded into one quotient).
// `components().raw` is still the exact value (`compute`, dividing), so after every input the
// mark must be exactly `round_to_tick(raw)` put through the publish rules (hold, clamp). The
// streams below are sparse on purpose: no trades for long stretches, empty books, gaps beyond
// 44·τ so EMAs lose all weight, tiny time constants so EMA values land exactly on half ticks,
// funding adjustments that are exact half ticks, prices from 1 tick to 2⁴⁰: every mean-of-two
// and single-component case, ties and values one bit off them.

/// What the mark must be after an input, from the exact value (`components().raw`) and the
/// publish rules of `MarkPrice`: ties toward the index, hold without a value, clamp unless
/// following the local median while stale.
fn exact_mark(
    mark: &MarkPrice,
    before: Option<Price>,
    index: Option<Price>,
    config: &MarkConfig,
) -> Option<Price> {
    let stale = mark.is_stale();
    let rounded = mark.components().raw.map(|raw| round_to_tick(raw, index));
    let clamp = !(stale && config.stale_fallback == StaleFallback::LocalMedian);
    match (rounded.or(before), mark.clamp_bounds()) {
        (Some(price), Some((lower, upper))) if clamp && !(stale && rounded.is_none()) => {
            Some(price.clamp(lower, upper))
        }
        (price, _) => price,
    }
    .or(before)
}

/// Configurations whose rare cases differ: tiny and default time constants, impact mids, no
/// sampled average yet, each stale fallback.
fn exact_configs() -> Vec<(&'static str, MarkConfig)> {
    let band = Some(Rate(3_000_000));
    let ema = |basis_tau_ms, local_tau_ms, basis_source| {
        MarkMethod::EmaMedian(EmaMedianConfig {
            basis_tau_ms,
            local_tau_ms,
            basis_source,
        })
    };
    let m3 = |basis_interval_ms, funding_convention, basis_source| {
        MarkMethod::Median3(Median3Config {
            basis_interval_ms,
            basis_samples: 5,
            basis_source,
            funding_convention,
        })
    };
    let with = |method| MarkConfig {
        method,
        ..MarkConfig::ema_median()
    };
    vec![
        ("ema_median", MarkConfig::ema_median()),
        ("ema_tiny_tau", with(ema(40, 3, BasisSource::Mid))),
        (
            "ema_local_dies_first",
            with(ema(600_000, 5, BasisSource::Mid)),
        ),
        (
            "ema_impact_unclamped",
            with(ema(2_000, 50, BasisSource::ImpactMid)).with_clamp(None),
        ),
        (
            "ema_stale_index",
            with(ema(90, 7, BasisSource::Mid))
                .with_clamp(None)
                .with_staleness(Some(3_000), StaleFallback::StaleIndex),
        ),
        (
            "ema_local_fallback",
            with(ema(300, 11, BasisSource::Mid))
                .with_clamp(band)
                .with_staleness(Some(3_000), StaleFallback::LocalMedian),
        ),
        ("median3", MarkConfig::median3()),
        (
            "median3_no_average_yet",
            with(m3(
                u64::MAX / 4,
                FundingConvention::HoursUntilFunding,
                BasisSource::Mid,
            )),
        ),
        (
            "median3_pro_rata_impact_stale_index",
            with(m3(700, FundingConvention::ProRata, BasisSource::ImpactMid))
                .with_clamp(None)
                .with_staleness(Some(3_000), StaleFallback::StaleIndex),
        ),
    ]
}

/// A price near `centre`: mostly a few ticks away, sometimes far (anywhere in `1 ..= 2⁴⁰`).
fn near(rng: &mut Xoshiro256PlusPlus, centre: i64, wild: bool) -> i64 {
    if wild && rng.random_range(0..20u32) == 0 {
        rng.random_range(1..=MAX_PRICE_TICKS)
    } else {
        (centre + rng.random_range(-6..=6i64)).clamp(1, MAX_PRICE_TICKS)
    }
}

/// One sparse seeded stream through `config`; checks every mark and counts the steps that
/// went through a mean of two components (exact value not equal to any present component,
/// the local-median EMA or a trade missing) and how many of those were ties. Without
/// `trades`, the local median disappears with the book, so the local-median EMA dies too.
fn run_sparse(
    config: MarkConfig,
    seed: u64,
    centre: i64,
    wild: bool,
    trades: bool,
) -> (usize, usize) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut mark = MarkPrice::new(config).unwrap();
    let (mut ts, mut index) = (0u64, None);
    let (mut means, mut ties) = (0, 0);
    // Trades come in some stretches only; the index starts late in some streams.
    let mut trading = false;
    let index_from = rng.random_range(0..3u64) * 20_000;
    for step in 0..20_000 {
        ts += match rng.random_range(0..100u32) {
            0..=29 => 0,
            30..=79 => rng.random_range(1..=50),
            80..=94 => rng.random_range(50..=5_000),
            _ => rng.random_range(5_000..=3_000_000),
        };
        if trades && rng.random_range(0..200u32) == 0 {
            trading = !trading;
        }
        let before = mark.mark();
        let roll = rng.random_range(0..100u32);
        let result = if roll < 40 {
            let bid = near(&mut rng, centre, wild);
            let spread = rng.random_range(1..=7i64);
            let sides = rng.random_range(0..6u32);
            mark.on_book(
                ts,
                BookTop {
                    best_bid: (sides & 1 == 1).then_some(Price(bid)),
                    best_ask: (sides >= 2 && sides != 4).then_some(Price(bid + spread)),
                    impact_bid: (sides & 1 == 1).then_some(Price((bid - spread).max(1))),
                    impact_ask: (sides >= 3).then_some(Price(bid + 2 * spread)),
                },
            )
        } else if roll < 55 && trading {
            mark.on_trade(ts, Price(near(&mut rng, centre, wild)), Qty(1))
        } else if roll < 70 && ts >= index_from {
            let price = Price(near(&mut rng, centre, wild));
            let result = mark.on_index(ts, price);
            if result.is_ok() {
                index = Some(price);
            }
            result
        } else if roll < 78 {
            mark.on_reference(ts, Price(near(&mut rng, centre, wild)))
        } else if roll < 88 {
            // Rates and times that make exact half-tick adjustments, and any.
            let rate = *[50_000_000i64, -50_000_000, 25_000_000, -12_500_000]
                .get(rng.random_range(0..6usize))
                .unwrap_or(&rng.random_range(-3_000_000..=3_000_000i64));
            let hours = rng.random_range(0..=8u64);
            let ttf = if rng.random_bool(0.5) {
                hours * HOUR_MS
            } else {
                rng.random_range(0..=8 * HOUR_MS)
            };
            mark.on_funding(
                ts,
                Funding {
                    rate: Rate(rate),
                    next_funding_ms: ts + ttf,
                    interval_ms: 8 * HOUR_MS,
                },
            )
        } else {
            mark.on_clock(ts)
        };
        result.unwrap_or_else(|error| panic!("step {step}: {error}"));
        let want = exact_mark(&mark, before, index, &config);
        assert_eq!(
            mark.mark(),
            want,
            "step {step} at {ts}: {:?}, index {index:?}",
            mark.components()
        );
        let parts = mark.components();
        if let Some(raw) = parts.raw {
            let present = [parts.funding_price, parts.basis_price, parts.local_median];
            let mean = present.iter().filter(|part| part.is_some()).count() >= 2
                && present.iter().all(|part| *part != Some(raw))
                && (parts.local_median_ema.is_none() || parts.funding_price.is_some());
            means += usize::from(mean);
            ties += usize::from(mean && raw.frac() == I80F48::from_bits(1 << 47));
        }
    }
    (means, ties)
}

#[test]
fn the_mark_is_the_exact_value_rounded_on_sparse_streams() {
    let regimes = [
        ("quiet", 200_000, false),
        ("near_max", MAX_PRICE_TICKS - 20, false),
        ("near_one", 8, false),
        ("wild", 1 << 30, true),
    ];
    let mut all_ties = [0, 0];
    for (name, config) in exact_configs() {
        let (mut means, mut ties) = (0, 0);
        for (seed, &(_, centre, wild)) in regimes.iter().enumerate() {
            for trades in [false, true] {
                let seed = 0x5ca1e + seed as u64 * 7 + u64::from(trades);
                let (m, t) = run_sparse(config, seed, centre, wild, trades);
                means += m;
                ties += t;
            }
        }
        // The streams must reach the mean-of-two cases, and ties among them.
        assert!(means > 300, "{name}: only {means} means");
        all_ties[usize::from(name.starts_with("median3"))] += ties;
    }
    assert!(all_ties.iter().all(|&ties| ties > 20), "ties {all_ties:?}");
}
