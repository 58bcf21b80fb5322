//! Hand-computed vectors for each mark method, the clamp, staleness, forced marks and the
//! output rules of `liqcore::mark`.

use fixed::types::I80F48;
use liqcore::mark::{
    BookTop, EmaMedianConfig, Funding, FundingConvention, MarkConfig, MarkError, MarkMethod,
    MarkPrice, MarkUpdate, Median3Config, StaleFallback,
};
use liqcore::types::{Price, Qty, Rate};

fn book(bid: i64, ask: i64) -> BookTop {
    BookTop {
        best_bid: Some(Price(bid)),
        best_ask: Some(Price(ask)),
        impact_bid: None,
        impact_ask: None,
    }
}

fn fx(x: f64) -> I80F48 {
    I80F48::from_num(x)
}

fn close(got: Option<I80F48>, want: f64) -> bool {
    got.is_some_and(|g| (g.to_num::<f64>() - want).abs() < 1e-9)
}

fn changed(price: i64, ts: u64) -> Option<MarkUpdate> {
    Some(MarkUpdate {
        price: Price(price),
        ts,
        stale: false,
        price_changed: true,
    })
}

const HALF_HOUR_MS: u64 = 1_800_000;
const EIGHT_HOURS_MS: u64 = 28_800_000;

#[test]
fn last_follows_trades_and_reports_only_changes() {
    let mut mark = MarkPrice::new(MarkConfig::last()).unwrap();
    assert_eq!(mark.on_index(0, Price(50)).unwrap(), None, "no trade yet");
    assert_eq!(
        mark.on_trade(5, Price(100), Qty(1)).unwrap(),
        changed(100, 5)
    );
    assert_eq!(mark.on_trade(6, Price(100), Qty(7)).unwrap(), None);
    assert_eq!(mark.on_book(7, book(90, 95)).unwrap(), None);
    assert_eq!(mark.on_trade(9, Price(90), Qty(1)).unwrap(), changed(90, 9));
}

#[test]
fn mid_rounds_half_ticks_toward_the_index() {
    let mut mark = MarkPrice::new(MarkConfig::mid()).unwrap();
    // Mid 101.5 without an index: the tie rounds down.
    assert_eq!(mark.on_book(0, book(100, 103)).unwrap(), changed(101, 0));
    // With an index above, the same tie rounds up, toward it.
    assert_eq!(mark.on_index(1, Price(110)).unwrap(), changed(102, 1));
    assert_eq!(mark.on_book(2, book(104, 106)).unwrap(), changed(105, 2));
}

#[test]
fn median3_documented_funding_vector_gives_2005() {
    // Index 2,000, last funding rate 0.005, half an hour before an 8-hour funding.
    let mut mark = MarkPrice::new(MarkConfig::median3()).unwrap();
    let funding = Funding {
        rate: Rate::from_decimal("0.005".parse().unwrap()).unwrap(),
        next_funding_ms: HALF_HOUR_MS,
        interval_ms: EIGHT_HOURS_MS,
    };
    mark.on_funding(0, funding).unwrap();
    mark.on_index(0, Price(2_000)).unwrap();
    let components = mark.components();
    assert_eq!(
        components.funding_price,
        Some(fx(2_005.0)),
        "price 1 = 2000 × (1 + 0.005 × 0.5 h) = 2005"
    );
    // Pro-rata would be 2000.625: the convention matters.
    let pro_rata = MarkConfig {
        method: MarkMethod::Median3(Median3Config {
            funding_convention: FundingConvention::ProRata,
            ..Median3Config::default()
        }),
        ..MarkConfig::median3()
    };
    let mut other = MarkPrice::new(pro_rata).unwrap();
    other.on_funding(0, funding).unwrap();
    other.on_index(0, Price(2_000)).unwrap();
    assert_eq!(other.components().funding_price, Some(fx(2_000.625)));
}

#[test]
fn median3_hand_vector_with_sampled_basis() {
    let mut mark = MarkPrice::new(MarkConfig::median3()).unwrap();
    let funding = Funding {
        rate: Rate(500_000),
        next_funding_ms: HALF_HOUR_MS,
        interval_ms: EIGHT_HOURS_MS,
    };
    mark.on_funding(0, funding).unwrap();
    mark.on_index(0, Price(2_000)).unwrap();
    mark.on_book(0, book(1_999, 2_003)).unwrap(); // mid 2001: basis +1
    let update = mark.on_trade(0, Price(2_010), Qty(1)).unwrap();
    // p1 = 2005, p2 = 2000 + 1 (current basis, no sample yet), last 2010 → 2005.
    assert_eq!(mark.components().basis_price, Some(fx(2_001.0)));
    assert_eq!(update.map(|u| u.price), Some(Price(2_005)));

    // First sample instant t = 60 s takes the basis held before it (+1); the book then moves to
    // a basis of +10.
    mark.on_book(60_000, book(2_009, 2_011)).unwrap();
    assert_eq!(mark.components().basis_price, Some(fx(2_001.0)));
    // t = 120 s: the second sample (+10): MA = 5.5 → p2 = 2005.5.
    // p1 = 2000 × (1 + 0.005 × 1.68 M ms / 3.6 M ms) = 2004.666…; last 2010.
    // (The index ticks again so it is not stale: the default staleness limit is 10 s.)
    mark.on_index(120_000, Price(2_000)).unwrap();
    let components = mark.components();
    assert_eq!(components.basis_price, Some(fx(2_005.5)));
    assert!(close(
        components.funding_price,
        2_000.0 + 2_000.0 * 0.005 * 1_680.0 / 3_600.0
    ));
    assert!(close(components.raw, 2_005.5));
    // 2005.5 is a tie: it rounds toward the index (2000), i.e. down.
    assert_eq!(mark.mark(), Some(Price(2_005)));
}

#[test]
fn ema_median_hand_vector() {
    let config = MarkConfig {
        method: MarkMethod::EmaMedian(EmaMedianConfig {
            basis_tau_ms: 1_000,
            local_tau_ms: 1_000,
            ..EmaMedianConfig::default()
        }),
        ..MarkConfig::ema_median()
    };
    let mut mark = MarkPrice::new(config).unwrap();
    mark.on_index(0, Price(100)).unwrap();
    mark.on_book(0, book(99, 103)).unwrap(); // mid 101, basis +1
    mark.on_trade(0, Price(102), Qty(1)).unwrap();
    // No EMA weight yet: index + current basis = 101; local median(99, 103, 102) = 102; no
    // reference and no local EMA yet → mean 101.5 → tie toward the index → 101.
    assert!(close(mark.components().raw, 101.5));
    assert_eq!(mark.mark(), Some(Price(101)));

    // t = 1 s: basis +1 and local 102 held for 1 s; then the book moves (mid 105, basis +5).
    let update = mark.on_book(1_000, book(104, 106)).unwrap();
    let components = mark.components();
    assert!(close(components.basis_price, 101.0));
    assert!(close(components.local_median, 104.0));
    assert!(close(components.local_median_ema, 102.0));
    // Two components (no reference): the third is the local EMA → median(101, 104, 102) = 102.
    assert_eq!(update, changed(102, 1_000));

    // t = 2 s: basis EMA = (1·e⁻¹ + 5)/(e⁻¹ + 1), local EMA = (102·e⁻¹ + 104)/(e⁻¹ + 1).
    mark.on_clock(2_000).unwrap();
    let e = (-1f64).exp();
    let basis_price = 100.0 + (e + 5.0) / (e + 1.0);
    let local_ema = (102.0 * e + 104.0) / (e + 1.0);
    let components = mark.components();
    assert!((components.basis_price.unwrap().to_num::<f64>() - basis_price).abs() < 1e-9);
    assert!((components.local_median_ema.unwrap().to_num::<f64>() - local_ema).abs() < 1e-9);
    assert!((components.raw.unwrap().to_num::<f64>() - basis_price).abs() < 1e-9);
    assert_eq!(mark.mark(), Some(Price(104)), "103.92 rounds to 104");

    // A fresh reference makes three components: median(103.92, 104, 90) = 103.92.
    assert_eq!(mark.on_reference(2_000, Price(90)).unwrap(), None);
    assert!((mark.components().raw.unwrap().to_num::<f64>() - basis_price).abs() < 1e-9);
}

#[test]
fn clamp_keeps_the_mark_inside_the_band() {
    let config = MarkConfig::median3().with_clamp(Some(Rate(1_000_000))); // 1 %
    let mut mark = MarkPrice::new(config).unwrap();
    mark.on_index(0, Price(1_000)).unwrap();
    mark.on_book(0, book(1_190, 1_210)).unwrap();
    mark.on_trade(0, Price(1_200), Qty(1)).unwrap();
    // median(1000, 1200, 1200) = 1200, clamped to ⌊1000 × 1.01⌋ = 1010.
    assert!(close(mark.components().raw, 1_200.0));
    assert_eq!(mark.mark(), Some(Price(1_010)));
    assert_eq!(mark.clamp_bounds(), Some((Price(990), Price(1_010))));
}

#[test]
fn stale_index_holds_the_mark_and_flags_it() {
    let mut mark = MarkPrice::new(MarkConfig::median3()).unwrap(); // stale after 10 s
    mark.on_index(0, Price(1_000)).unwrap();
    mark.on_book(0, book(999, 1_001)).unwrap();
    assert_eq!(mark.mark(), Some(Price(1_000)));
    assert_eq!(
        mark.on_clock(10_000).unwrap(),
        None,
        "10 s old is still fresh"
    );
    let update = mark.on_clock(10_001).unwrap().unwrap();
    assert_eq!(
        update,
        MarkUpdate {
            price: Price(1_000),
            ts: 10_001,
            stale: true,
            price_changed: false
        }
    );
    // The book runs away; the mark holds.
    assert_eq!(mark.on_book(11_000, book(1_200, 1_202)).unwrap(), None);
    assert_eq!(mark.on_trade(11_000, Price(1_201), Qty(1)).unwrap(), None);
    assert!(mark.is_stale());
    // The index comes back: median(1010, 1010 + 191, 1201) = 1201, clamped to ⌊1010 × 1.05⌋.
    let update = mark.on_index(12_000, Price(1_010)).unwrap().unwrap();
    assert!(!update.stale);
    assert_eq!(update.price, Price(1_060));
}

#[test]
fn stale_fallbacks_local_median_and_stale_index() {
    let local = MarkConfig::median3().with_staleness(Some(1_000), StaleFallback::LocalMedian);
    let mut mark = MarkPrice::new(local).unwrap();
    mark.on_index(0, Price(1_000)).unwrap();
    mark.on_book(0, book(999, 1_001)).unwrap();
    let update = mark.on_book(2_000, book(1_200, 1_204)).unwrap().unwrap();
    // median(1200, 1204) = 1202, unclamped, flagged.
    assert_eq!((update.price, update.stale), (Price(1_202), true));

    let keep = MarkConfig::median3().with_staleness(Some(1_000), StaleFallback::StaleIndex);
    let mut mark = MarkPrice::new(keep).unwrap();
    mark.on_index(0, Price(1_000)).unwrap();
    mark.on_book(0, book(999, 1_001)).unwrap();
    let update = mark.on_book(2_000, book(1_200, 1_204)).unwrap().unwrap();
    // Still computed with the old index and clamped to 1050, flagged.
    assert_eq!((update.price, update.stale), (Price(1_050), true));

    // Without any index, an index-based method produces nothing.
    let mut mark = MarkPrice::new(MarkConfig::ema_median()).unwrap();
    assert_eq!(mark.on_book(0, book(999, 1_001)).unwrap(), None);
    assert!(mark.is_stale());
}

#[test]
fn forced_mark_bypasses_smoothing_until_the_next_input() {
    let mut mark = MarkPrice::new(MarkConfig::median3()).unwrap();
    mark.on_index(0, Price(1_000)).unwrap();
    assert_eq!(mark.force_mark(5, Price(700)).unwrap(), changed(700, 5));
    assert_eq!(mark.force_mark(6, Price(700)).unwrap(), None);
    assert_eq!(mark.mark(), Some(Price(700)));
    assert_eq!(mark.on_index(7, Price(1_000)).unwrap(), changed(1_000, 7));
    assert_eq!(
        mark.force_mark(8, Price(0)),
        Err(MarkError::PriceOutOfRange)
    );
}

#[test]
fn impact_mid_basis_ignores_a_thin_top_of_book() {
    let config = MarkConfig {
        method: MarkMethod::EmaMedian(EmaMedianConfig {
            basis_source: liqcore::mark::BasisSource::ImpactMid,
            ..EmaMedianConfig::default()
        }),
        ..MarkConfig::ema_median()
    };
    let mut mark = MarkPrice::new(config).unwrap();
    mark.on_index(0, Price(1_000)).unwrap();
    let snapshot = BookTop {
        best_bid: Some(Price(1_040)),
        best_ask: Some(Price(1_042)),
        impact_bid: Some(Price(1_000)),
        impact_ask: Some(Price(1_004)),
    };
    mark.on_book(0, snapshot).unwrap();
    // Basis from the impact mid (1002): index + 2.
    assert_eq!(mark.components().basis_price, Some(fx(1_002.0)));
}

#[test]
fn bad_configs_are_refused() {
    use liqcore::mark::ConfigError;
    let bad_band = MarkConfig::median3().with_clamp(Some(Rate::ONE));
    assert_eq!(
        MarkPrice::new(bad_band).unwrap_err(),
        ConfigError::BadClampBand
    );
    let bad_tau = MarkConfig {
        method: MarkMethod::EmaMedian(EmaMedianConfig {
            basis_tau_ms: 0,
            ..EmaMedianConfig::default()
        }),
        ..MarkConfig::ema_median()
    };
    assert_eq!(MarkPrice::new(bad_tau).unwrap_err(), ConfigError::BadTau);
    let bad_sampling = MarkConfig {
        method: MarkMethod::Median3(Median3Config {
            basis_samples: 0,
            ..Median3Config::default()
        }),
        ..MarkConfig::median3()
    };
    assert_eq!(
        MarkPrice::new(bad_sampling).unwrap_err(),
        ConfigError::BadSampling
    );
    let mut mark = MarkPrice::new(MarkConfig::median3()).unwrap();
    let funding = Funding {
        rate: Rate(100_000_001),
        ..Funding::default()
    };
    assert_eq!(
        mark.on_funding(0, funding),
        Err(MarkError::FundingOutOfRange)
    );
}

#[test]
fn a_long_quiet_period_neither_overflows_nor_underflows() {
    for config in [MarkConfig::median3(), MarkConfig::ema_median()] {
        let mut mark = MarkPrice::new(config).unwrap();
        mark.on_index(0, Price(1_000)).unwrap();
        mark.on_book(0, book(1_009, 1_011)).unwrap(); // basis +10
        mark.on_trade(0, Price(1_010), Qty(1)).unwrap();
        for t in (100..600_000).step_by(100) {
            mark.on_index(t, Price(1_000)).unwrap();
        }
        // Silence for most of the u64 range, then a fresh index and book at a new level.
        let later = u64::MAX / 2;
        mark.on_index(later, Price(2_000)).unwrap();
        mark.on_book(later, book(1_999, 2_001)).unwrap();
        mark.on_trade(later, Price(2_000), Qty(1)).unwrap();
        let components = mark.components();
        // The old basis (+10) is still what the smoothing holds: it was in force the whole
        // time, and the long gap replaced all older weight by exactly it.
        assert_eq!(
            components.basis_price,
            Some(fx(2_010.0)),
            "{:?}",
            config.method
        );
        // The median sides with the fresh prices (last 2000 / local median 2000).
        assert_eq!(mark.mark(), Some(Price(2_000)), "{:?}", config.method);
        // One more minute at basis 0 moves it back toward the index, smoothly.
        for t in 1..=60u64 {
            mark.on_index(later + t * 1_000, Price(2_000)).unwrap();
        }
        let basis: f64 = (mark.components().basis_price.unwrap() - fx(2_000.0)).to_num();
        assert!(
            (0.0..10.0).contains(&basis),
            "{:?}: basis {basis}",
            config.method
        );
    }
}
