//! Golden digests of `liqcore::mark`: seeded input streams through every method and option,
//! hashed output by output (each result, the mark, and every component's exact bits).
//!
//! The digests were recorded with the straightforward implementation (a fixed-point division
//! per update) before the hot path learnt to skip divisions; any change to a single bit of any
//! output — a rounding, a tie, a fallback — changes them. Regenerate only for an intended,
//! documented change of results: `LIQCORE_MARK_GOLDEN_PRINT=1 cargo test --test mark_golden --
//! --nocapture` prints the new values.

use liqcore::mark::{
    BasisSource, BookTop, EmaMedianConfig, Funding, FundingConvention, MarkConfig, MarkError,
    MarkMethod, MarkPrice, MarkUpdate, Median3Config, StaleFallback,
};
use liqcore::types::{Price, Qty, Rate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const STEPS: usize = 12_000;

/// FNV-1a over 64-bit words.
struct Digest(u64);

impl Digest {
    fn word(&mut self, word: u64) {
        for byte in word.to_le_bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn wide(&mut self, value: Option<i128>) {
        match value {
            None => self.word(0xdead),
            Some(bits) => {
                self.word(1);
                self.word(bits as u64);
                self.word((bits >> 64) as u64);
            }
        }
    }
}

fn result_word(digest: &mut Digest, result: Result<Option<MarkUpdate>, MarkError>) {
    match result {
        Err(error) => {
            digest.word(2);
            digest.word(error as u64);
        }
        Ok(None) => digest.word(3),
        Ok(Some(update)) => {
            digest.word(4);
            digest.word(update.price.0 as u64);
            digest.word(update.ts);
            digest.word(u64::from(update.stale) | u64::from(update.price_changed) << 1);
        }
    }
}

/// Price regimes: a quiet market near 200,000 ticks (the common case), and a wild one with
/// jumps across the whole accepted range (where the hot path must fall back).
fn next_price(rng: &mut Xoshiro256PlusPlus, centre: i64, wild: bool) -> i64 {
    if wild && rng.random_range(0..10u32) == 0 {
        rng.random_range(1..=(1i64 << 40))
    } else {
        (centre + rng.random_range(-40..=40i64)).max(1)
    }
}

/// Feeds a seeded stream to `mark` and digests everything it says.
fn run(config: MarkConfig, seed: u64, wild: bool) -> u64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut mark = MarkPrice::new(config).expect("valid config");
    let mut digest = Digest(0xcbf2_9ce4_8422_2325);
    let mut ts = 0u64;
    let mut centre = 200_000i64;
    let (mut changes, mut fresh) = (0usize, 0usize);
    for _ in 0..STEPS {
        ts += match rng.random_range(0..100u32) {
            0..=9 => 0,
            10..=89 => rng.random_range(1..=20),
            90..=97 => rng.random_range(20..=3_000),
            _ => rng.random_range(3_000..=400_000),
        };
        centre = (centre + rng.random_range(-3..=3i64)).clamp(1_000, 1 << 39);
        let roll = rng.random_range(0..100u32);
        let result = if roll < 45 {
            let bid = next_price(&mut rng, centre, wild);
            let spread = rng.random_range(1..=30i64);
            let side = rng.random_range(0..20u32);
            let top = BookTop {
                best_bid: (side != 0).then_some(Price(bid)),
                best_ask: (side != 1).then_some(Price(bid + spread)),
                impact_bid: (side > 3).then_some(Price((bid - 3 * spread).max(1))),
                impact_ask: (side > 3).then_some(Price(bid + 4 * spread)),
            };
            mark.on_book(ts, top)
        } else if roll < 75 {
            let price = next_price(&mut rng, centre, wild);
            mark.on_trade(ts, Price(price), Qty(rng.random_range(1..=1_000i64)))
        } else if roll < 87 {
            mark.on_index(ts, Price(next_price(&mut rng, centre, wild)))
        } else if roll < 92 {
            mark.on_reference(ts, Price(next_price(&mut rng, centre, wild)))
        } else if roll < 95 {
            let funding = Funding {
                rate: Rate(rng.random_range(-2_000_000..=2_000_000i64)),
                next_funding_ms: ts + rng.random_range(0..=28_800_000u64),
                interval_ms: 28_800_000,
            };
            mark.on_funding(ts, funding)
        } else if roll < 98 {
            mark.on_clock(ts)
        } else {
            mark.force_mark(ts, Price(next_price(&mut rng, centre, wild)))
        };
        if let Ok(Some(update)) = result {
            changes += usize::from(update.price_changed);
        }
        fresh += usize::from(!mark.is_stale());
        result_word(&mut digest, result);
        digest.wide(mark.mark().map(|price| i128::from(price.0)));
        digest.word(u64::from(mark.is_stale()));
        let components = mark.components();
        for value in [
            components.funding_price,
            components.basis_price,
            components.local_median,
            components.local_median_ema,
            components.raw,
        ] {
            digest.wide(value.map(|value| value.to_bits()));
        }
    }
    // The stream must exercise the method, not sit in a fallback.
    assert!(
        changes > STEPS / 50 && fresh > STEPS / 2,
        "seed {seed:#x}: {changes} mark changes, {fresh} fresh of {STEPS} steps"
    );
    digest.0
}

fn configs() -> Vec<(&'static str, MarkConfig)> {
    let band = Some(Rate(3_000_000));
    let impact_m3 = MarkMethod::Median3(Median3Config {
        basis_interval_ms: 1_000,
        basis_samples: 7,
        basis_source: BasisSource::ImpactMid,
        funding_convention: FundingConvention::ProRata,
    });
    let impact_ema = MarkMethod::EmaMedian(EmaMedianConfig {
        basis_tau_ms: 5_000,
        local_tau_ms: 777,
        basis_source: BasisSource::ImpactMid,
    });
    vec![
        ("last", MarkConfig::last()),
        ("last_clamped", MarkConfig::last().with_clamp(band)),
        ("mid_clamped", MarkConfig::mid().with_clamp(band)),
        ("median3", MarkConfig::median3()),
        (
            "median3_impact_local",
            MarkConfig {
                method: impact_m3,
                ..MarkConfig::median3()
            }
            .with_staleness(Some(2_000), StaleFallback::LocalMedian),
        ),
        (
            "median3_noclamp_staleindex",
            MarkConfig::median3()
                .with_clamp(None)
                .with_staleness(Some(500), StaleFallback::StaleIndex),
        ),
        ("ema_median", MarkConfig::ema_median()),
        (
            "ema_median_impact_local",
            MarkConfig {
                method: impact_ema,
                ..MarkConfig::ema_median()
            }
            .with_staleness(Some(2_000), StaleFallback::LocalMedian),
        ),
        (
            "ema_median_noclamp_staleindex",
            MarkConfig::ema_median()
                .with_clamp(None)
                .with_staleness(None, StaleFallback::StaleIndex),
        ),
    ]
}

/// (config name, quiet digest, wild digest).
const GOLDEN: [(&str, u64, u64); 9] = [
    ("last", 0x15500349a5df349c, 0x845d8efe3d5c856e),
    ("last_clamped", 0xadc80add26398a08, 0xcd6792a5f9cb93d3),
    ("mid_clamped", 0x88f19683b94018d0, 0xb8956990ae1847ec),
    ("median3", 0x81a8272fe2a43c84, 0x04e1e9e48c7f3448),
    (
        "median3_impact_local",
        0x4613520cecdd4089,
        0x7dd060789e6f17c0,
    ),
    (
        "median3_noclamp_staleindex",
        0x2d60f260f740c8f8,
        0x88f73e7901aedf78,
    ),
    ("ema_median", 0xc15402304ae5ea86, 0xd8fa2aba365cd533),
    (
        "ema_median_impact_local",
        0x06d240ea950a6c0f,
        0xe252343274ff2e0b,
    ),
    (
        "ema_median_noclamp_staleindex",
        0x3046859cc9a0be4f,
        0x828e502852fed445,
    ),
];

#[test]
fn every_output_bit_matches_the_recorded_digests() {
    let print = std::env::var_os("LIQCORE_MARK_GOLDEN_PRINT").is_some();
    let mut mismatches = Vec::new();
    for ((name, config), &(golden_name, quiet, wild)) in configs().into_iter().zip(&GOLDEN) {
        assert_eq!(name, golden_name);
        let got = (run(config, 0x601d, false), run(config, 0x3117d, true));
        if print {
            println!("    (\"{name}\", {:#018x}, {:#018x}),", got.0, got.1);
        }
        if got != (quiet, wild) {
            mismatches.push(format!(
                "{name}: quiet {:#018x} (want {quiet:#018x}), wild {:#018x} (want {wild:#018x})",
                got.0, got.1
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
