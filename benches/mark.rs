//! criterion benches for `liqcore::mark`: one update of each method over a seeded input stream,
//! and the building blocks (decay factor, EMA step, exact ratio) on their own.
//!
//! `cargo bench --bench mark`; the per-update latency distribution (p50/p99) comes from
//! `cargo run --release -p liqcore-tools --bin compare -- mark`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fixed::types::I80F48;
use liqcore::mark::{
    BookTop, Decay, DecayingEma, MarkConfig, MarkError, MarkPrice, MarkUpdate, ratio_to_fixed,
};
use liqcore::types::{Price, Qty, Rate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

#[derive(Clone, Copy)]
enum Input {
    Index(Price),
    Book(BookTop),
    Trade(Price, Qty),
    Reference(Price),
}

/// Book 60 %, trades 30 %, index 8 %, reference 2 %; 0–20 ms apart (as `compare -- mark`).
fn stream(len: usize) -> Vec<(u64, Input)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut ts = 0;
    let mut index = 200_000i64;
    (0..len)
        .map(|_| {
            ts += rng.random_range(0..=20u64);
            index = (index + rng.random_range(-3..=3i64)).clamp(150_000, 250_000);
            let basis = rng.random_range(-20..=20i64);
            let spread = rng.random_range(1..=10i64);
            let roll = rng.random_range(0..100u32);
            let input = if roll < 60 {
                Input::Book(BookTop {
                    best_bid: Some(Price(index + basis - spread)),
                    best_ask: Some(Price(index + basis + spread)),
                    impact_bid: Some(Price(index + basis - 4 * spread)),
                    impact_ask: Some(Price(index + basis + 4 * spread)),
                })
            } else if roll < 90 {
                Input::Trade(Price(index + basis), Qty(rng.random_range(1..=100i64)))
            } else if roll < 98 {
                Input::Index(Price(index))
            } else {
                Input::Reference(Price(index + 1))
            };
            (ts, input)
        })
        .collect()
}

/// Feeds one input; without a reference feed its slots become clock ticks.
fn apply(
    mark: &mut MarkPrice,
    ts: u64,
    input: Input,
    with_reference: bool,
) -> Result<Option<MarkUpdate>, MarkError> {
    match input {
        Input::Index(price) => mark.on_index(ts, price),
        Input::Book(top) => mark.on_book(ts, top),
        Input::Trade(price, qty) => mark.on_trade(ts, price, qty),
        Input::Reference(price) if with_reference => mark.on_reference(ts, price),
        Input::Reference(_) => mark.on_clock(ts),
    }
}

fn methods(c: &mut Criterion) {
    let inputs = stream(1 << 16);
    let span = inputs.last().map_or(0, |&(ts, _)| ts + 1);
    let band = Some(Rate(5_000_000));
    let mut group = c.benchmark_group("mark_update");
    for (name, config, with_reference) in [
        ("last", MarkConfig::last().with_clamp(band), true),
        ("mid", MarkConfig::mid().with_clamp(band), true),
        ("median3", MarkConfig::median3(), true),
        ("ema_median", MarkConfig::ema_median(), true),
        // No reference: the local-median EMA is the third component on every update.
        ("ema_median_noref", MarkConfig::ema_median(), false),
    ] {
        let mut mark = MarkPrice::new(config).unwrap();
        let mut next = 0usize;
        let mut offset = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                let (ts, input) = inputs[next];
                let result = apply(&mut mark, ts + offset, input, with_reference);
                next += 1;
                if next == inputs.len() {
                    next = 0;
                    offset += span;
                }
                black_box(result)
            });
        });
    }
    group.finish();
}

fn parts(c: &mut Criterion) {
    let decay = Decay::new(150_000).unwrap();
    let mut dt = 0u64;
    c.bench_function("mark_decay_factor", |b| {
        b.iter(|| {
            dt = (dt + 7) % 64;
            decay.factor(black_box(dt))
        });
    });
    let mut ema = DecayingEma::new(150_000).unwrap();
    let mut ts = 0u64;
    c.bench_function("mark_ema_step_and_value", |b| {
        b.iter(|| {
            ts += 10;
            ema.update(ts, Some(I80F48::from_num(ts % 97)));
            ema.value()
        });
    });
    let mut num = 123_456_789_012_345i128;
    c.bench_function("mark_ratio_to_fixed", |b| {
        b.iter(|| {
            num += 1;
            ratio_to_fixed(black_box(num << 20), black_box(150_000i128 << 48))
        });
    });
}

criterion_group!(benches, methods, parts);
criterion_main!(benches);
